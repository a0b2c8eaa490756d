/* SPDX-License-Identifier: MIT */
/* The public API (include/crymeter.h) through libcrymeter.so: the same episodes and summary
 * as the internal cm_analyzer on samples/demo.flac, whatever the chunking, for float and
 * int16 input, callbacks and polling; record order; levels; every documented error path. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "crymeter.h"
#include "crymeter/analyzer.h"
#include "testutil.h"

#define MAX_EP 64

typedef struct {
    cm_episode ep[MAX_EP];
    int n;
} reference;

static void ref_collect(void *user, cm_event_kind kind, const cm_episode *ep)
{
    reference *r = user;
    if (kind == CM_EVENT_END && r->n < MAX_EP) r->ep[r->n++] = *ep;
}

typedef struct {
    float *x;
    short *s16;
    size_t n;
    unsigned rate, ch;
    reference ref;
    cm_summary ref_sum;
} demo;

static demo D;

/* The demo read once as float and as int16, and the internal analyzer's answer on it. */
static void setup(void)
{
    const char *path = tu_src("samples/demo.flac");
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, sf_strerror(NULL));
    D.n = (size_t)info.frames;
    D.rate = (unsigned)info.samplerate;
    D.ch = (unsigned)info.channels;
    D.x = malloc(D.n * D.ch * sizeof *D.x);
    D.s16 = malloc(D.n * D.ch * sizeof *D.s16);
    ck_assert(D.x && D.s16);
    ck_assert_int_eq(sf_readf_float(f, D.x, info.frames), info.frames);
    ck_assert_int_eq(sf_seek(f, 0, SEEK_SET), 0);
    ck_assert_int_eq(sf_readf_short(f, D.s16, info.frames), info.frames);
    sf_close(f);

    cm_analyzer_config c = cm_analyzer_config_default(D.rate, D.ch);
    c.on_event = ref_collect;
    c.user = &D.ref;
    cm_analyzer *a = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_analyzer_create(&c, &a, &why) == CM_OK, "%s", why.msg);
    ck_assert_int_eq(cm_analyzer_push(a, D.x, D.n), CM_OK);
    ck_assert_int_eq(cm_analyzer_flush(a), CM_OK);
    cm_analyzer_summary(a, &D.ref_sum);
    cm_analyzer_destroy(a);
    ck_assert_msg(D.ref.n >= 2, "demo.flac should hold several episodes, got %d", D.ref.n);
}

static void teardown(void)
{
    free(D.x);
    free(D.s16);
    memset(&D, 0, sizeof D);
}

static int same_double(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

/* Every public field equals the internal one, bit for bit (same code, same input). */
static void check_episode(const crymeter_episode *p, const cm_episode *e, const char *how)
{
    ck_assert_msg(p->id == e->id && (int)p->cls == (int)e->cls, "%s: episode %llu class",
                  how, (unsigned long long)e->id);
    ck_assert_msg(p->start_s == e->start_s && p->end_s == e->end_s &&
                      p->duration_s == e->duration_s,
                  "%s: episode %llu at %.3f-%.3f, internal %.3f-%.3f", how,
                  (unsigned long long)e->id, p->start_s, p->end_s, e->start_s, e->end_s);
    ck_assert_msg(same_double(p->confidence, e->confidence) &&
                      same_double(p->lufs_momentary_max, e->lufs_momentary_max) &&
                      p->dba_max == e->dba_max && p->peak_dbfs == e->peak_dbfs &&
                      p->spl_db_max == e->spl_db_max && p->calibrated == e->calibrated &&
                      same_double(p->f0_median_hz, e->f0_median_hz),
                  "%s: episode %llu levels differ", how, (unsigned long long)e->id);
    ck_assert_msg(p->excessive == e->excessive && p->loud_excess_db == e->loud_excess_db &&
                      p->long_excess_s == e->long_excess_s &&
                      p->sob_pulses == e->sob.n_pulses &&
                      p->sob_pulse_rate_hz == e->sob.pulse_rate_hz,
                  "%s: episode %llu flags differ", how, (unsigned long long)e->id);
}

static void check_summary(const crymeter_summary *s, const char *how)
{
    const cm_summary *r = &D.ref_sum;
    ck_assert_msg(s->frames_read == D.n && s->frames_analyzed == D.n, "%s: frames %llu/%llu",
                  how, (unsigned long long)s->frames_read,
                  (unsigned long long)s->frames_analyzed);
    ck_assert_uint_eq(s->episodes, r->episodes);
    for (int c = 0; c < 4; c++) ck_assert_uint_eq(s->episodes_by_class[c], r->episodes_by_class[c]);
    ck_assert(s->duration_s == r->duration_s);
    ck_assert(same_double(s->lufs_integrated, r->lufs_integrated));
    ck_assert(same_double(s->lra_lu, r->lra_lu));
    ck_assert(same_double(s->true_peak_dbtp, r->true_peak_dbtp));
    ck_assert(s->sample_peak_dbfs == r->sample_peak_dbfs);
    ck_assert_uint_eq(s->records_dropped, 0);
}

typedef struct {
    crymeter_episode end[MAX_EP];
    int n_end, n_start;
    int order_ok; /* every END follows a START of the same id */
    uint64_t open_id;
    int levels;
} got;

static void note(got *g, crymeter_record_kind kind, const crymeter_episode *ep)
{
    if (kind == CRYMETER_RECORD_START) {
        g->n_start++;
        if (g->open_id != 0) g->order_ok = 0;
        g->open_id = ep->id;
    } else if (kind == CRYMETER_RECORD_END) {
        if (g->open_id != ep->id) g->order_ok = 0;
        g->open_id = 0;
        if (g->n_end < MAX_EP) g->end[g->n_end++] = *ep;
    }
}

static void on_episode(void *user, crymeter_record_kind kind, const crymeter_episode *ep)
{
    note(user, kind, ep);
}

static void on_level(void *user, const crymeter_level *lv)
{
    got *g = user;
    g->levels++;
    ck_assert(lv->t_s > 0.0);
}

/* Pushes the demo in chunks of `chunk` frames (0: a seeded mix of sizes), as float or int16,
 * collecting records through the callback or by polling after each push. */
static void run_public(size_t chunk, int s16, int poll, int levels, const char *how)
{
    crymeter_config cfg;
    crymeter_config_init(&cfg, D.rate, D.ch);
    got g = {.order_ok = 1};
    if (!poll) {
        cfg.on_episode = on_episode;
        cfg.user = &g;
    }
    if (levels) {
        cfg.levels = 1;
        cfg.on_level = on_level;
        cfg.user = &g;
    }
    crymeter_analyzer *a = NULL;
    char msg[256];
    ck_assert_msg(crymeter_create(&cfg, &a, msg, sizeof msg) == CRYMETER_OK, "%s", msg);
    uint64_t seed = tu_seed();
    crymeter_record rec;
    int n_summary = 0;
    for (size_t i = 0; i < D.n;) {
        size_t k = chunk;
        if (!k) {
            static const size_t menu[] = {1, 7, 159, 160, 161, 1599, 4096, 44100};
            k = menu[tu_rand(&seed) % 8] + tu_rand(&seed) % 3;
        }
        if (k > D.n - i) k = D.n - i;
        crymeter_status st = s16 ? crymeter_push_s16(a, D.s16 + i * D.ch, k)
                                 : crymeter_push_float(a, D.x + i * D.ch, k);
        ck_assert_int_eq(st, CRYMETER_OK);
        i += k;
        while (poll && crymeter_poll(a, &rec) == 1) {
            ck_assert_int_ne(rec.kind, CRYMETER_RECORD_SUMMARY);
            note(&g, rec.kind, &rec.episode);
        }
    }
    ck_assert_int_eq(crymeter_push_float(a, NULL, 0), CRYMETER_OK);
    ck_assert_int_eq(crymeter_finish(a), CRYMETER_OK);
    crymeter_summary sum;
    ck_assert_int_eq(crymeter_get_summary(a, &sum), CRYMETER_OK);
    check_summary(&sum, how);
    while (poll && crymeter_poll(a, &rec) == 1) {
        ck_assert_msg(n_summary == 0, "%s: a record after the summary", how);
        if (rec.kind == CRYMETER_RECORD_SUMMARY) {
            n_summary++;
            check_summary(&rec.summary, how);
        } else {
            note(&g, rec.kind, &rec.episode);
        }
    }
    ck_assert_int_eq(n_summary, poll ? 1 : 0);
    ck_assert_int_eq(crymeter_poll(a, &rec), 0);
    ck_assert_msg(g.order_ok && g.open_id == 0, "%s: START/END out of order", how);
    ck_assert_int_eq(g.n_start, D.ref.n);
    ck_assert_msg(g.n_end == D.ref.n, "%s: %d episodes, internal %d", how, g.n_end, D.ref.n);
    for (int i = 0; i < g.n_end; i++) check_episode(&g.end[i], &D.ref.ep[i], how);

    crymeter_level lv;
    if (levels) {
        /* One reading per 100 ms of input. */
        ck_assert_int_ge(g.levels, (int)(D.n / (D.rate / 10)) - 1);
        ck_assert_int_eq(crymeter_level_latest(a, &lv), 1);
        ck_assert(fabs(lv.t_s - (double)D.n / D.rate) < 0.2);
        ck_assert(isfinite(lv.dba_fast));
    } else {
        ck_assert_int_eq(crymeter_level_latest(a, &lv), 0);
        ck_assert(lv.t_s == 0.0 && isinf(lv.dba_fast));
    }
    ck_assert_int_eq(crymeter_push_float(a, D.x, 1), CRYMETER_E_STATE);
    ck_assert_int_eq(crymeter_push_s16(a, D.s16, 1), CRYMETER_E_STATE);
    ck_assert_int_eq(crymeter_finish(a), CRYMETER_E_STATE);
    crymeter_destroy(a);
}

static const struct {
    size_t chunk;
    int s16, poll, levels;
    const char *how;
} cases[] = {
    {0, 0, 0, 0, "float, whole file"}, /* chunk 0 below means D.n */
    {4096, 0, 1, 0, "float, 4096-frame chunks, poll"},
    {1, 0, 1, 0, "float, 1-frame chunks, poll"},
    {159, 1, 0, 0, "int16, 159-frame chunks"},
    {7, 1, 1, 0, "int16, 7-frame chunks, poll"},
    {0, 1, 1, 0, "int16, mixed chunk sizes, poll"},
    {1000, 0, 0, 1, "float, 1000-frame chunks, levels"},
};

START_TEST(same_episodes_as_internal)
{
    size_t chunk = cases[_i].chunk;
    if (_i == 0) chunk = D.n;
    run_public(chunk, cases[_i].s16, cases[_i].poll, cases[_i].levels, cases[_i].how);
}
END_TEST

START_TEST(version_and_names)
{
    ck_assert_str_eq(crymeter_version(), CRYMETER_VERSION);
    ck_assert_uint_eq(crymeter_version_number(), CRYMETER_VERSION_NUMBER);
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", CRYMETER_VERSION_MAJOR, CRYMETER_VERSION_MINOR,
             CRYMETER_VERSION_PATCH);
    ck_assert_str_eq(v, CRYMETER_VERSION);
    ck_assert_str_eq(crymeter_status_str(CRYMETER_OK), "ok");
    ck_assert_str_eq(crymeter_status_str(CRYMETER_E_RANGE), "value out of range");
    ck_assert_str_eq(crymeter_status_str((crymeter_status)-99), "unknown status");
    ck_assert_str_eq(crymeter_class_name(CRYMETER_CLASS_CRY), "cry");
    ck_assert_str_eq(crymeter_class_name(CRYMETER_CLASS_SOB), "sob");
    ck_assert_str_eq(crymeter_class_name((crymeter_class)9), "?");
}
END_TEST

/* create rejects each bad field with its status and a message naming field and value. */
static void expect_create(const crymeter_config *cfg, crymeter_status want, const char *needle)
{
    crymeter_analyzer *a = (crymeter_analyzer *)&D; /* must be reset to NULL */
    char msg[256];
    crymeter_status st = crymeter_create(cfg, &a, msg, sizeof msg);
    ck_assert_msg(st == want, "want %d got %d (%s)", want, st, msg);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(msg, needle) != NULL, "message '%s' lacks '%s'", msg, needle);
}

START_TEST(error_paths)
{
    crymeter_config c;
    crymeter_config_init(&c, 16000, 1);
    crymeter_analyzer *a = NULL;
    char msg[256];
    ck_assert_int_eq(crymeter_create(NULL, &a, msg, sizeof msg), CRYMETER_E_INVAL);
    ck_assert_ptr_nonnull(strstr(msg, "cfg"));
    ck_assert_int_eq(crymeter_create(&c, NULL, NULL, 0), CRYMETER_E_INVAL);

    c.rate_hz = 7999;
    expect_create(&c, CRYMETER_E_RANGE, "rate_hz=7999");
    c.rate_hz = 192001;
    expect_create(&c, CRYMETER_E_RANGE, "rate_hz=192001");
    c.rate_hz = 8000;
    c.channels = 0;
    expect_create(&c, CRYMETER_E_RANGE, "channels=0");
    c.channels = 65;
    expect_create(&c, CRYMETER_E_RANGE, "channels=65");
    crymeter_config_init(&c, 16000, 1);
    c.queue_capacity = 0;
    expect_create(&c, CRYMETER_E_RANGE, "queue_capacity=0");
    crymeter_config_init(&c, 16000, 1);
    c.levels = 2;
    expect_create(&c, CRYMETER_E_RANGE, "levels=2");
    crymeter_config_init(&c, 16000, 1);
    c.merge_gap_s = 61;
    expect_create(&c, CRYMETER_E_RANGE, "merge_gap_s=61");
    crymeter_config_init(&c, 16000, 1);
    c.threads = 4;
    expect_create(&c, CRYMETER_E_RANGE, "threads=4");
    crymeter_config_init(&c, 16000, 1);
    c.model_path = tu_path("no-such-model.json");
    expect_create(&c, CRYMETER_E_IO, "no-such-model.json");
    FILE *f = fopen(tu_path("bad-model.json"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"format_version\": 1", f);
    fclose(f);
    c.model_path = tu_path("bad-model.json");
    expect_create(&c, CRYMETER_E_FORMAT, "bad-model.json");
    /* A NULL message buffer is allowed. */
    ck_assert_int_eq(crymeter_create(&c, &a, NULL, 0), CRYMETER_E_FORMAT);

    crymeter_config_init(&c, 8000, 2);
    c.model_path = tu_src("models/default.json");
    ck_assert_msg(crymeter_create(&c, &a, msg, sizeof msg) == CRYMETER_OK, "%s", msg);
    ck_assert_int_eq(crymeter_push_float(a, NULL, 3), CRYMETER_E_INVAL);
    ck_assert_int_eq(crymeter_push_s16(a, NULL, 3), CRYMETER_E_INVAL);
    ck_assert(crymeter_latency_s(a) > 0.0);
    crymeter_destroy(a);

    crymeter_record r;
    crymeter_summary s;
    crymeter_level lv;
    ck_assert_int_eq(crymeter_push_float(NULL, D.x, 1), CRYMETER_E_INVAL);
    ck_assert_int_eq(crymeter_push_s16(NULL, D.s16, 1), CRYMETER_E_INVAL);
    ck_assert_int_eq(crymeter_finish(NULL), CRYMETER_E_INVAL);
    ck_assert_int_eq(crymeter_poll(NULL, &r), CRYMETER_E_INVAL);
    ck_assert_int_eq(crymeter_get_summary(NULL, &s), CRYMETER_E_INVAL);
    ck_assert_int_eq(crymeter_level_latest(NULL, &lv), CRYMETER_E_INVAL);
    ck_assert(isnan(crymeter_latency_s(NULL)));
    crymeter_destroy(NULL);
}
END_TEST

/* A queue of 2 records, polled only at the end: the newest records are dropped and counted,
 * and the summary is still the last record. */
START_TEST(small_queue_counts_drops)
{
    crymeter_config c;
    crymeter_config_init(&c, D.rate, D.ch);
    c.queue_capacity = 2;
    crymeter_analyzer *a = NULL;
    ck_assert_int_eq(crymeter_create(&c, &a, NULL, 0), CRYMETER_OK);
    ck_assert_int_eq(crymeter_push_float(a, D.x, D.n), CRYMETER_OK);
    ck_assert_int_eq(crymeter_finish(a), CRYMETER_OK);
    crymeter_record r;
    ck_assert_int_eq(crymeter_poll(a, &r), 1);
    ck_assert_int_eq(r.kind, CRYMETER_RECORD_START);
    ck_assert_uint_eq(r.episode.id, 1);
    ck_assert_int_eq(crymeter_poll(a, &r), 1);
    ck_assert_int_eq(r.kind, CRYMETER_RECORD_SUMMARY);
    /* Every episode gives START and END (plus EXCESSIVE when flagged); 2 slots kept 2. */
    ck_assert_uint_ge(r.summary.records_dropped, 2u * D.ref.n - 1);
    ck_assert_int_eq(crymeter_poll(a, &r), 0);
    crymeter_destroy(a);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("api");
    TCase *tc = tcase_create("public");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, same_episodes_as_internal, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, version_and_names);
    tcase_add_test(tc, error_paths);
    tcase_add_test(tc, small_queue_counts_drops);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
