/* SPDX-License-Identifier: MIT */
/* Check suite for wall-clock times, the level track and the night report's reading side:
 * ISO 8601 parsing and printing (offsets, rounding across a minute, rejected forms), the
 * level aggregator (maxima, class rule, the partial last step, identical records whatever
 * the analyzer's chunking), the exact JSONL level record, reading records back with every
 * kind of damaged line named by its line number, per-hour seconds split across an hour
 * boundary, and the HTML's one bar and one row per episode. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/nights.h"
#include "crymeter/report.h"
#include "testutil.h"

static char *capture_text(char **buf, size_t *len, FILE **f)
{
    *buf = NULL;
    *len = 0;
    *f = open_memstream(buf, len);
    ck_assert_ptr_nonnull(*f);
    return NULL;
}

START_TEST(test_clock_parse)
{
    static const struct {
        const char *s;
        double epoch;
        int off;
    } ok[] = {
        {"2026-12-01T21:00:00+01:00", 1796155200.0, 60},
        {"2026-12-01T20:00:00Z", 1796155200.0, 0},
        {"2026-12-01 20:00:00.250Z", 1796155200.25, 0},
        {"2026-12-01T15:30-0430", 1796155200.0, -270},
        {"2024-02-29T00:00:00+00:00", 1709164800.0, 0},
        {"1970-01-01T00:00:00Z", 0.0, 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cm_clock c;
        ck_assert_msg(cm_clock_parse(ok[i].s, &c) == 0, "%s rejected", ok[i].s);
        ck_assert_msg(fabs(c.epoch_s - ok[i].epoch) < 1e-6, "%s: %.3f", ok[i].s, c.epoch_s);
        ck_assert_int_eq(c.offset_min, ok[i].off);
    }
    static const char *bad[] = {"", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00Z",
                                "2025-02-29T00:00Z", "2026-12-01T24:00Z", "2026-12-01",
                                "2026-12-01T21:00:00+19:00", "2026-12-01T21:00:00Zjunk",
                                "2026-12-01T21:00:00."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cm_clock c = {1.0, 5};
        ck_assert_msg(cm_clock_parse(bad[i], &c) == -1, "'%s' accepted", bad[i]);
        ck_assert(c.epoch_s == 1.0 && c.offset_min == 5); /* left alone */
    }
    cm_clock loc;
    ck_assert_int_eq(cm_clock_parse("2026-12-01T21:00:00", &loc), 0);
    ck_assert_int_eq(loc.offset_min, CM_CLOCK_LOCAL);
}
END_TEST

START_TEST(test_clock_format)
{
    cm_clock c;
    ck_assert_int_eq(cm_clock_parse("2026-12-01T23:59:59+01:00", &c), 0);
    char b[40];
    ck_assert_uint_eq(cm_clock_format(b, sizeof b, &c, 0.0), 29);
    ck_assert_str_eq(b, "2026-12-01T23:59:59.000+01:00");
    /* rounded to the millisecond before splitting, so 0.9996 s later is the next day */
    cm_clock_format(b, sizeof b, &c, 0.9996);
    ck_assert_str_eq(b, "2026-12-02T00:00:00.000+01:00");
    cm_clock_format(b, sizeof b, &c, 86400.0 * 90 + 0.25); /* into March, no DST in a fixed offset */
    ck_assert_str_eq(b, "2027-03-01T23:59:59.250+01:00");
    ck_assert_int_eq(cm_clock_parse("2026-06-30T10:00:00-04:30", &c), 0);
    cm_clock_format(b, sizeof b, &c, 3600.0);
    ck_assert_str_eq(b, "2026-06-30T11:00:00.000-04:30");
    cm_clock none = cm_clock_none();
    ck_assert_uint_eq(cm_clock_format(b, sizeof b, &none, 1.0), 0);
    ck_assert_str_eq(b, "");
    ck_assert_uint_eq(cm_clock_format(b, sizeof b, &c, NAN), 0);
    ck_assert_uint_eq(cm_clock_format(b, 20, &c, 0.0), 0); /* too small */
}
END_TEST

static cm_level reading(double t, double lufs, double dba, cm_class cls, float p)
{
    cm_level lv;
    memset(&lv, 0, sizeof lv);
    lv.t_s = t;
    lv.lufs_momentary = lufs;
    lv.dba_fast = dba;
    lv.spl_db = dba + 100.0;
    lv.cls = cls;
    lv.p_cry = p;
    return lv;
}

START_TEST(test_level_acc)
{
    cm_level_acc a;
    ck_assert_int_eq(cm_level_acc_init(&a, 0.05, false), CM_E_RANGE);
    ck_assert_int_eq(cm_level_acc_init(&a, 4000, false), CM_E_RANGE);
    ck_assert_int_eq(cm_level_acc_init(&a, 1.0, true), CM_OK);
    cm_level_rec r[4];
    int n = 0;
    for (int k = 0; k < 25; k++) {
        cm_class cls = k == 3 ? CM_CLASS_VOCAL : k == 14 ? CM_CLASS_CRY : CM_CLASS_BACKGROUND;
        cm_level lv = reading(0.1 * (k + 1), k == 5 ? -INFINITY : -30.0 + k, -40.0 + (k % 10),
                              cls, k == 12 ? 0.8f : 0.1f);
        if (cm_level_acc_push(&a, &lv, &r[n])) n++;
    }
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(cm_level_acc_flush(&a, &r[n]), 1);
    ck_assert_int_eq(cm_level_acc_flush(&a, &r[3]), 0); /* nothing more */
    ck_assert_double_eq_tol(r[0].start_s, 0.0, 1e-12);
    ck_assert_double_eq_tol(r[0].end_s, 1.0, 1e-12);
    ck_assert_double_eq_tol(r[1].start_s, 1.0, 1e-12);
    ck_assert_double_eq_tol(r[2].start_s, 2.0, 1e-12);
    ck_assert_double_eq_tol(r[2].end_s, 2.5, 1e-12); /* the partial last step */
    ck_assert_double_eq_tol(r[0].lufs_momentary_max, -21.0, 1e-12);
    ck_assert_double_eq_tol(r[0].dba_max, -31.0, 1e-12);
    ck_assert_double_eq_tol(r[0].spl_db_max, 69.0, 1e-12);
    ck_assert(r[0].calibrated);
    ck_assert_int_eq(r[0].cls, CM_CLASS_VOCAL);  /* vocal beats background */
    ck_assert_int_eq(r[1].cls, CM_CLASS_CRY);    /* cry beats everything */
    ck_assert_int_eq(r[2].cls, CM_CLASS_BACKGROUND);
    ck_assert_float_eq_tol(r[1].cry_p, 0.8f, 1e-6);
    ck_assert_float_eq_tol(r[0].cry_p, 0.1f, 1e-6);
    /* the JSONL record, exactly */
    char *buf;
    size_t len;
    FILE *f;
    capture_text(&buf, &len, &f);
    cm_clock c;
    ck_assert_int_eq(cm_clock_parse("2026-12-01T21:00:00+01:00", &c), 0);
    ck_assert_int_eq(cm_report_level(f, CM_FORMAT_JSONL, "a.wav", &c, &r[1]), CM_OK);
    ck_assert_int_eq(cm_report_level(f, CM_FORMAT_TABLE, "a.wav", &c, &r[1]), CM_OK);
    fclose(f);
    ck_assert_str_eq(buf, "{\"type\":\"level\",\"file\":\"a.wav\",\"clock\":"
                          "\"2026-12-01T21:00:01.000+01:00\",\"start_s\":1.000,\"end_s\":2.000,"
                          "\"lufs_momentary_max\":-11.00,\"dba_max\":-31.00,\"spl_db_max\":69.00,"
                          "\"calibrated\":true,\"class\":\"cry\",\"cry_p\":0.800}\n");
    free(buf);
}
END_TEST

/* Level records of the analyzer's track, pushed whole on two threads and in 7-frame chunks
 * on one: identical. */
typedef struct {
    cm_level_acc acc;
    cm_level_rec rec[64];
    int n;
} lv_sink;

static void sink_level(void *user, const cm_level *lv)
{
    lv_sink *s = user;
    if (s->n < 64 && cm_level_acc_push(&s->acc, lv, &s->rec[s->n])) s->n++;
}

static void run_levels(const float *x, size_t n, size_t chunk, unsigned threads, lv_sink *s)
{
    memset(s, 0, sizeof *s);
    ck_assert_int_eq(cm_level_acc_init(&s->acc, 0.5, false), CM_OK);
    cm_analyzer_config cfg = cm_analyzer_config_default(16000, 1);
    cfg.threads = threads;
    cfg.on_track = sink_level;
    cfg.user = s;
    cm_analyzer *a = NULL;
    ck_assert_int_eq(cm_analyzer_create(&cfg, &a, NULL), CM_OK);
    for (size_t i = 0; i < n; i += chunk)
        ck_assert_int_eq(cm_analyzer_push(a, x + i, i + chunk <= n ? chunk : n - i), CM_OK);
    ck_assert_int_eq(cm_analyzer_flush(a), CM_OK);
    if (cm_level_acc_flush(&s->acc, &s->rec[s->n])) s->n++;
    cm_analyzer_destroy(a);
}

START_TEST(test_level_chunking)
{
    const size_t n = 16000 * 5 + 123; /* 5 s and a bit: a partial last block and step */
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    uint64_t st = tu_seed();
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.01 * tu_gauss(&st) + (i > 24000 && i < 48000 ? 0.3 * sin(i * 0.2) : 0));
    static lv_sink a, b, c;
    run_levels(x, n, n, 2, &a);
    run_levels(x, n, 7, 1, &b);
    run_levels(x, n, 4096, 2, &c);
    ck_assert_int_eq(a.n, 11);
    ck_assert_int_eq(b.n, a.n);
    ck_assert_int_eq(c.n, a.n);
    for (int i = 0; i < a.n; i++) { /* field by field: the struct has padding */
        const cm_level_rec *p = &a.rec[i], *q = &b.rec[i], *r = &c.rec[i];
        ck_assert(p->start_s == q->start_s && p->end_s == q->end_s && p->end_s == r->end_s);
        ck_assert(p->lufs_momentary_max == q->lufs_momentary_max &&
                  p->lufs_momentary_max == r->lufs_momentary_max);
        ck_assert(p->dba_max == q->dba_max && p->dba_max == r->dba_max);
        ck_assert(p->cls == q->cls && p->cls == r->cls);
        ck_assert(p->cry_p == q->cry_p && p->cry_p == r->cry_p);
    }
    ck_assert_double_eq_tol(a.rec[10].end_s, (double)n / 16000, 1e-9);
    ck_assert(a.rec[6].dba_max > a.rec[1].dba_max + 20); /* the tone's seconds are louder */
    free(x);
}
END_TEST

typedef struct {
    unsigned long lines[16];
    char msgs[16][200];
    int n;
} warns;

static void on_warn(void *user, const char *path, unsigned long line, const char *msg)
{
    warns *w = user;
    ck_assert_str_eq(path, "in.jsonl");
    if (w->n < 16) {
        w->lines[w->n] = line;
        snprintf(w->msgs[w->n], sizeof w->msgs[0], "%s", msg);
        w->n++;
    }
}

#define EP(id, file, cls, start, dur)                                                          \
    "{\"type\":\"episode\",\"id\":" #id ",\"file\":\"" file "\",\"clock\":"                   \
    "\"2026-12-01T21:59:30.000+01:00\",\"class\":\"" cls "\",\"start_s\":" #start             \
    ",\"end_s\":0,\"duration_s\":" #dur ",\"loudness\":{\"spl_db_max\":80.0,\"dba_max\":-20.0,"\
    "\"calibrated\":false},\"excessive\":{\"flag\":true,\"reasons\":[\"loud\"],"               \
    "\"loud_excess_db\":4.0,\"long_excess_s\":0}}\n"

START_TEST(test_nights_read)
{
    const char *text =
        EP(1, "a.wav", "cry", 0.0, 60.0)                     /* 1 */
        "\n"                                                 /* 2: blank, harmless */
        "garbage\n"                                          /* 3 */
        "{\"type\":\"summary\",\"version\":7,\"file\":\"a.wav\"}\n" /* 4: newer schema */
        EP(1, "b.wav", "vocal", 10.0, 5.0)                   /* 5 */
        EP(2, "a.wav", "sob", 100.0, 20.0)                   /* 6: interleaved */
        EP(2, "a.wav", "sob", 100.0, 20.0)                   /* 7: duplicate (and back) */
        "{\"type\":\"start\",\"id\":3,\"file\":\"a.wav\"}\n" /* 8: a notice, ignored */
        "[1,2]\n"                                            /* 9: JSON, not a record */
        "{\"type\":\"summary\",\"version\":1,\"file\":\"a.wav\",\"duration_s\":3600}\n" /* 10 */
        EP(5, "a.wav", "cry", 1.0, 1.0)                      /* 11: a new run of a.wav */
        "{\"type\":\"episode\",\"id\":9,\"fi";               /* 12: truncated */
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    ck_assert_ptr_nonnull(in);
    cm_nights n;
    cm_nights_init(&n);
    warns w = {{0}, {{0}}, 0};
    ck_assert_int_eq(cm_nights_read(&n, in, "in.jsonl", on_warn, &w), CM_OK);
    fclose(in);
    static const unsigned long want[] = {3, 4, 6, 7, 9, 12};
    static const char *what[] = {"not a JSON", "schema version 7", "interleaved", "again",
                                 "not a crymeter record", "truncated last line"};
    ck_assert_int_eq(w.n, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(w.lines[i], want[i]);
        ck_assert_msg(strstr(w.msgs[i], what[i]), "line %lu: '%s'", want[i], w.msgs[i]);
    }
    ck_assert_uint_eq(n.bad, 6);
    ck_assert_uint_eq(n.n, 3); /* a.wav, b.wav, a.wav again after its summary */
    ck_assert_str_eq(n.v[0].file, "a.wav");
    ck_assert_uint_eq(n.v[0].n_eps, 2);
    ck_assert(n.v[0].has_summary);
    ck_assert_double_eq_tol(n.v[0].duration_s, 3600.0, 1e-9);
    ck_assert_uint_eq(n.v[1].n_eps, 1);
    ck_assert_uint_eq(n.v[2].n_eps, 1);
    ck_assert(!n.v[2].has_summary);
    /* the clock is 21:59:30 at start_s 0: the 60 s cry is split 30 / 30 over two hours, the
     * second clipped to the recording's 3600 s */
    char *buf;
    size_t len;
    FILE *f;
    capture_text(&buf, &len, &f);
    ck_assert_int_eq(cm_nights_write_per_hour(&n, f), CM_OK);
    fclose(f);
    ck_assert_msg(strstr(buf, "a.wav,in.jsonl,2026-12-01T21:00:00.000+01:00,0,0.000,30.000,"
                              "30.000,0.000,0.000,0.50,0.00,1,1,1,0\n"), "%s", buf);
    ck_assert_msg(strstr(buf, "a.wav,in.jsonl,2026-12-01T22:00:00.000+01:00,1,30.000,3600.000,"
                              "30.000,20.000,0.000,0.50,0.33,1,1,1,0\n"), "%s", buf);
    /* b.wav has no summary: its hours end at its last episode's end (10 + 5 s) */
    ck_assert_msg(strstr(buf, "b.wav,in.jsonl,2026-12-01T21:00:00.000+01:00,0,0.000,15.000,"), "%s", buf);
    free(buf);
    /* the page: one bar and one row per episode, nothing from outside */
    capture_text(&buf, &len, &f);
    ck_assert_int_eq(cm_nights_write_html(&n, f, NULL), CM_OK);
    fclose(f);
    int bars = 0, rows = 0;
    for (const char *p = buf; (p = strstr(p, "<rect class=\"ep ")); p++) bars++;
    for (const char *p = buf; (p = strstr(p, "<tr class=\"ep-row\"")); p++) rows++;
    ck_assert_int_eq(bars, 4);
    ck_assert_int_eq(rows, 4);
    ck_assert_ptr_null(strstr(buf, "<script"));
    ck_assert_ptr_nonnull(strstr(buf, "class=\"tick clock\""));
    free(buf);
    cm_html_options o = {NULL, 100};
    f = fopen("/dev/null", "w");
    ck_assert_int_eq(cm_nights_write_html(&n, f, &o), CM_E_RANGE);
    fclose(f);
    f = fopen("/dev/full", "w");
    if (f) {
        ck_assert_int_eq(cm_nights_write_html(&n, f, NULL), CM_E_IO);
        fclose(f);
    }
    cm_nights_free(&n);
    ck_assert_uint_eq(n.n, 0);
}
END_TEST

/* Absurd times (damage) are refused, so a per-hour table cannot grow without bound. */
START_TEST(test_nights_absurd_times)
{
    const char *text = EP(1, "a.wav", "cry", 1e12, 5.0)
        "{\"type\":\"level\",\"file\":\"a.wav\",\"start_s\":-5,\"end_s\":1,\"class\":\"cry\"}\n"
        "{\"type\":\"summary\",\"file\":\"a.wav\",\"duration_s\":1e300}\n";
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    cm_nights n;
    cm_nights_init(&n);
    warns w = {{0}, {{0}}, 0};
    ck_assert_int_eq(cm_nights_read(&n, in, "in.jsonl", on_warn, &w), CM_OK);
    fclose(in);
    ck_assert_int_eq(w.n, 3);
    ck_assert_uint_eq(n.n, 1);
    ck_assert_uint_eq(n.v[0].n_eps, 0);
    ck_assert_uint_eq(n.v[0].n_lvs, 0);
    ck_assert(n.v[0].duration_s < 1e7);
    cm_nights_free(&n);
}
END_TEST

START_TEST(test_stats_line)
{
    cm_night_stats st;
    cm_night_stats_init(&st);
    cm_episode e;
    memset(&e, 0, sizeof e);
    e.cls = CM_CLASS_CRY;
    e.start_s = 4.2;
    e.duration_s = 14.0;
    e.spl_db_max = 85.6;
    e.dba_max = -14.4;
    e.excessive = CM_EXCESS_LOUD;
    cm_night_stats_add(&st, &e);
    e.cls = CM_CLASS_VOCAL;
    e.start_s = 24.0;
    e.duration_s = 13.0;
    e.spl_db_max = 72.0;
    e.dba_max = -28.0;
    e.excessive = 0;
    cm_night_stats_add(&st, &e);
    st.duration_s = 62.0;
    char *buf;
    size_t len;
    FILE *f;
    capture_text(&buf, &len, &f);
    ck_assert_int_eq(cm_report_stats_line(f, "d.flac", NULL, &st), CM_OK);
    cm_night_stats_init(&st);
    ck_assert_int_eq(cm_report_stats_line(f, "e.flac", NULL, &st), CM_OK);
    fclose(f);
    ck_assert_str_eq(buf, "d.flac: crying 0:00:14.0 (22.6 % of 0:01:02.0); episodes: cry 1, "
                          "vocal 1; longest cry 14.0 s at 0:00:04.2; loudest cry 85.6 dB(A) "
                          "SPL* at 0:00:04.2; excessive 1 (loud 1)\n"
                          "e.flac: crying 0:00:00.0; no episodes\n");
    free(buf);
}
END_TEST

static Suite *nights_suite(void)
{
    Suite *s = suite_create("nights");
    TCase *tc = tcase_create("all");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_clock_parse);
    tcase_add_test(tc, test_clock_format);
    tcase_add_test(tc, test_level_acc);
    tcase_add_test(tc, test_level_chunking);
    tcase_add_test(tc, test_nights_read);
    tcase_add_test(tc, test_nights_absurd_times);
    tcase_add_test(tc, test_stats_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(nights_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
