/* SPDX-License-Identifier: MIT */
/* Model files (round trip, every kind of damage named), the compiled-in default model, and
 * the streaming detector against clip scoring. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crymeter/classifier.h"
#include "crymeter/model.h"
#include "crymeter/model_file.h"
#include "testutil.h"

static cm_detect_params params(void)
{
    cm_detect_params p;
    memset(&p, 0, sizeof p);
    p.threshold[CM_CLASS_VOCAL] = 0.5f;
    p.threshold[CM_CLASS_CRY] = 0.6f;
    p.threshold[CM_CLASS_SOB] = 1.f;
    p.merge_gap_s[CM_CLASS_CRY] = 5.f;
    p.min_episode_s = 0.5f;
    return p;
}

static cm_model *random_model(unsigned hidden, uint64_t seed)
{
    cm_net *n = cm_net_new(CM_WF_DIM, hidden);
    uint64_t s = seed;
    unsigned last = hidden ? hidden : CM_WF_DIM;
    for (unsigned i = 0; i < CM_WF_DIM; i++) {
        n->mean[i] = (float)tu_gauss(&s);
        n->std[i] = (float)(0.5 + tu_uniform(&s));
    }
    for (size_t i = 0; i < (size_t)hidden * CM_WF_DIM; i++) n->w1[i] = (float)(0.3 * tu_gauss(&s));
    for (size_t i = 0; i < (size_t)CM_NET_CLASSES * last; i++) n->w2[i] = (float)(0.3 * tu_gauss(&s));
    cm_front_config fc = cm_front_config_default();
    cm_detect_params p = params();
    cm_model *m = NULL;
    cm_diag why;
    ck_assert_int_eq(cm_model_create(n, &fc, &p, 3, -80.f, "{\"note\":\"test\"}", &m, &why), CM_OK);
    cm_net_free(n);
    return m;
}

START_TEST(round_trip)
{
    cm_model *m = random_model(_i ? 7 : 0, tu_seed());
    char *js = cm_model_to_json(m);
    ck_assert_ptr_nonnull(js);
    cm_model *b = NULL;
    cm_diag why;
    ck_assert_msg(cm_model_load_buffer(js, strlen(js), &b, &why) == CM_OK, "%s", why.msg);
    char *js2 = cm_model_to_json(b);
    ck_assert_str_eq(js, js2); /* 9 significant digits round-trip floats exactly */
    const char *path = tu_path("m.json");
    ck_assert_int_eq(cm_model_save_file(m, path, &why), CM_OK);
    cm_model *c = NULL;
    ck_assert_int_eq(cm_model_load_file(path, &c, &why), CM_OK);
    ck_assert_float_eq(cm_model_params(c)->threshold[CM_CLASS_CRY], 0.6f);
    ck_assert_uint_eq(cm_model_front_config(c).n_mel, cm_front_config_default().n_mel);
    free(js), free(js2);
    cm_model_destroy(m), cm_model_destroy(b), cm_model_destroy(c);
}
END_TEST

/* Every shape field away from its default, inside its range. */
static cm_shape_params odd_shape(void)
{
    cm_shape_params p = cm_shape_params_default();
    p.act_margin_db = 7.5f, p.act_abs_dbfs = -65.25f, p.voiced_min = 0.55f;
    p.cry_min_ms = 170, p.inhale_min_ms = 60, p.inhale_max_ms = 420;
    p.inhale_flat_min = 0.3f, p.inhale_centroid_min_hz = 1400.f, p.inhale_pitch_st = 4.f;
    p.rhythm_window = 5, p.rhythmic_cv_max = 0.3f, p.contour_st = 2.f;
    p.effort_intense_db = -10.f, p.intense_min_spl_db = 55.f;
    p.sob_rate_min_hz = 0.7f, p.sob_rate_max_hz = 2.5f, p.sob_cv_max = 0.35f;
    p.sob_min_pulses = 4;
    return p;
}

START_TEST(shape_round_trip)
{
    cm_model *m = random_model(3, 17);
    cm_shape_params d = cm_shape_params_default(), o = odd_shape();
    ck_assert(!memcmp(cm_model_shape_params(m), &d, sizeof d)); /* created: the defaults */
    cm_diag why;
    ck_assert_int_eq(cm_model_set_shape_params(m, &o, &why), CM_OK);
    const char *path = tu_path("shape.json");
    ck_assert_int_eq(cm_model_save_file(m, path, &why), CM_OK);
    cm_model *b = NULL;
    ck_assert_msg(cm_model_load_file(path, &b, &why) == CM_OK, "%s", why.msg);
    const cm_shape_params *q = cm_model_shape_params(b);
    ck_assert(!memcmp(q, &o, sizeof o)); /* floats exact at 9 significant digits */
    ck_assert_float_eq(q->sob_rate_max_hz, 2.5f);
    ck_assert_float_eq(q->sob_cv_max, 0.35f);
    ck_assert_uint_eq(q->sob_min_pulses, 4);
    ck_assert_uint_eq(q->inhale_max_ms, 420);
    /* The setter rejects a bad field, names it and leaves the model as it was. */
    cm_shape_params bad = o;
    bad.sob_cv_max = 3.f;
    ck_assert_int_eq(cm_model_set_shape_params(b, &bad, &why), CM_E_RANGE);
    ck_assert_str_eq(why.msg, "shape.sob_cv_max=3: must be 0..2");
    ck_assert(!memcmp(cm_model_shape_params(b), &o, sizeof o));
    bad = o;
    bad.sob_rate_min_hz = 3.f; /* above sob_rate_max_hz */
    ck_assert_int_eq(cm_model_set_shape_params(b, &bad, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "shape.sob_rate_min_hz=3") != NULL, "%s", why.msg);
    ck_assert_int_eq(cm_model_set_shape_params(b, NULL, &why), CM_E_INVAL);
    cm_model_destroy(m), cm_model_destroy(b);
}
END_TEST

/* A model written before the "shape" object existed loads with the default shape params,
 * and everything else as written. */
START_TEST(shape_absent_is_default)
{
    cm_model *m = random_model(5, 23);
    cm_shape_params o = odd_shape(), d = cm_shape_params_default();
    cm_diag why;
    ck_assert_int_eq(cm_model_set_shape_params(m, &o, &why), CM_OK);
    char *js = cm_model_to_json(m);
    cJSON *root = cJSON_Parse(js);
    ck_assert_ptr_nonnull(root);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(root, "shape"));
    cJSON_DeleteItemFromObjectCaseSensitive(root, "shape");
    char *old = cJSON_Print(root);
    ck_assert_ptr_null(strstr(old, "sob_cv_max"));
    cm_model *b = NULL;
    ck_assert_msg(cm_model_load_buffer(old, strlen(old), &b, &why) == CM_OK, "%s", why.msg);
    ck_assert(!memcmp(cm_model_shape_params(b), &d, sizeof d));
    ck_assert_float_eq(cm_model_shape_params(b)->sob_rate_max_hz, 1.5f);
    ck_assert_float_eq(cm_model_params(b)->threshold[CM_CLASS_CRY], 0.6f);
    /* Saved again, it carries the defaults explicitly. */
    char *again = cm_model_to_json(b);
    ck_assert_ptr_nonnull(strstr(again, "\"sob_rate_max_hz\":\t1.5"));
    cJSON_Delete(root);
    free(js), free(old), free(again);
    cm_model_destroy(m), cm_model_destroy(b);
}
END_TEST

/* Damage one model text in a named way; the loader must fail and name the field. */
static const struct {
    const char *find, *replace, *expect;
} damage[] = {
    {"\"format_version\": 1", "\"format_version\": 4", "format_version=4"},
    {"\"format\": \"crymeter-model\"", "\"format\": \"other\"", "format"},
    {"\"sample_rate_hz\": 8000", "\"sample_rate_hz\": 16000", "sample_rate_hz=16000"},
    {"\"version\": 1", "\"version\": 2", "features.version=2"},
    {"\"n_hidden\": 7", "\"n_hidden\": 8", "network.w1: 7 rows, expected 8"},
    {"\"n_in\": 56", "\"n_in\": 55", "network.n_in=55"},
    {"\"activation\": \"tanh\"", "\"activation\": \"relu\"", "network.activation"},
    {"\"cry\": 0.600000024", "\"cry\": 1.5", "detector.threshold.cry=1.5"},
    {"\"min_episode_s\": 0.5", "\"min_episode_s\": -1", "detector.min_episode_s=-1"},
    {"\"smooth_windows\": 3", "\"smooth_windows\": 0", "detector.smooth_windows=0"},
    {"\"confirm_k\": 1", "\"confirm_k\": 2", "detector.confirm_k=2: must be <= confirm_n=1"},
    {"\"confirm_n\": 1", "\"confirm_n\": 17", "detector.confirm_n=17"},
    {"\"cry_onset_threshold\": 0", "\"cry_onset_threshold\": 2", "detector.cry_onset_threshold=2"},
    {"\"cry_onset_max_s\": 0", "\"cry_onset_max_s\": 7", "detector.cry_onset_max_s=7"},
    {"\"cry_onset_gap_s\": 0", "\"cry_onset_gap_s\": -1", "detector.cry_onset_gap_s=-1"},
    {"\"cry_onset_gap_s\": 0,", "", "detector.cry_onset_gap_s"},
    {"\"cry_min_windows\": 0", "\"cry_min_windows\": 65", "detector.cry_min_windows=65"},
    {"\"n_mel\": 40", "\"n_mel\": 2", "front_end.n_mel=2"},
    {"\"mel_shape_00\"", "\"mel_shape_xx\"", "features.names[0]"},
    {"\"b2\": [0, 0, 0]", "\"b2\": [1e999, 0, 0]", "network.b2[0]: not a finite number"},
    {"\"b2\": [", "\"b2\": [0, ", "network.b2: 4 values, expected 3"},
    {"\"w2\": [[", "\"w2\": [[1e999, ", "network.w2[0]"},
    {"\"w1\": [[", "\"w1\": [[\"x\", ", "network.w1[0]"},
    {"\"std\": [", "\"std\": [0, ", "network.std"},
    {"\"detector\"", "\"detectorX\"", "detector: missing"},
    {"\"classes\": [", "\"classes\": [\"sob\", ", "classes"},
    {"\"sob_cv_max\": 0.200000003", "\"sob_cv_max\": 3", "shape.sob_cv_max=3: must be 0..2"},
    {"\"sob_rate_min_hz\": 0.300000012", "\"sob_rate_min_hz\": 2",
     "shape.sob_rate_min_hz=2: must be 0.05..1.5"},
    {"\"sob_min_pulses\": 5", "\"sob_min_pulses\": 4.5",
     "shape.sob_min_pulses=4.5: expected a whole number"},
    {"\"sob_min_pulses\": 5", "\"sob_min_pulses\": 2", "shape.sob_min_pulses=2: must be 3..32"},
    {"\"inhale_max_ms\": 400", "\"inhale_max_ms\": \"x\"", "shape.inhale_max_ms: expected a number"},
    {"\"inhale_min_ms\": 50", "\"inhale_min_ms\": 500", "shape.inhale_min_ms=500: must be 30..400"},
    {"\"act_margin_db\": 6", "\"act_margin_db\": 1e999", "shape.act_margin_db: expected a number"},
    {"\"voiced_min\": 0.600000024,", "", "shape.voiced_min: missing"},
    {"\"shape\": {", "\"shape\": [], \"shapeX\": {", "shape: expected an object"},
};

START_TEST(damaged)
{
    cm_model *m = random_model(7, 99);
    char *js = cm_model_to_json(m);
    cm_model_destroy(m);
    for (char *q = js; *q; q++)
        if (*q == '\t') *q = ' '; /* cJSON indents with tabs; the fixtures use spaces */
    char *bad = tu_replace_first(js, damage[_i].find, damage[_i].replace);
    ck_assert_msg(bad != NULL, "fixture '%s' not found", damage[_i].find);
    cm_model *b = (cm_model *)1;
    cm_diag why;
    why.msg[0] = 0;
    ck_assert_int_ne(cm_model_load_buffer(bad, strlen(bad), &b, &why), CM_OK);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(why.msg, damage[_i].expect) != NULL, "case %d: '%s' lacks '%s'", _i,
                  why.msg, damage[_i].expect);
    free(bad), free(js);
}
END_TEST

START_TEST(truncated)
{
    cm_model *m = random_model(4, 5);
    char *js = cm_model_to_json(m);
    cm_model_destroy(m);
    size_t n = strlen(js);
    /* Every prefix must fail cleanly (sampled: every 97th length, and the edges). */
    for (size_t k = 0; k < n; k += (k < 64 || k + 64 > n) ? 1 : 97) {
        cm_model *b = (cm_model *)1;
        cm_diag why;
        ck_assert_int_ne(cm_model_load_buffer(js, k, &b, &why), CM_OK);
        ck_assert_ptr_null(b);
    }
    cm_diag why;
    cm_model *b;
    ck_assert_int_eq(cm_model_load_file(tu_path("does-not-exist.json"), &b, &why), CM_E_IO);
    ck_assert(strstr(why.msg, "does-not-exist.json") != NULL);
    free(js);
}
END_TEST

START_TEST(file_errors)
{
    /* A missing file and one over the 16 MiB limit: refused, the file named, nothing kept. */
    cm_model *m = (cm_model *)1;
    cm_diag why = {{0}};
    const char *missing = tu_path("no-such-model.json");
    ck_assert_int_eq(cm_model_load_file(missing, &m, &why), CM_E_IO);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(why.msg, missing) && strstr(why.msg, "No such file"), "%s", why.msg);
    const char *big = tu_path("big-model.json");
    FILE *f = fopen(big, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, (16L << 20), SEEK_SET), 0); /* 16 MiB + 1 byte, sparse */
    ck_assert_int_eq(fputc(' ', f), ' ');
    ck_assert_int_eq(fclose(f), 0);
    m = (cm_model *)1;
    ck_assert_int_eq(cm_model_load_file(big, &m, &why), CM_E_RANGE);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(why.msg, big) && strstr(why.msg, "larger than 16777216 bytes"), "%s",
                  why.msg);
}
END_TEST

START_TEST(default_model)
{
    cm_model *m = NULL;
    cm_diag why;
    ck_assert_msg(cm_model_load_default(&m, &why) == CM_OK, "%s", why.msg);
    const cm_detect_params *p = cm_model_params(m);
    ck_assert(p->threshold[CM_CLASS_CRY] > 0.f && p->threshold[CM_CLASS_CRY] <= 1.f);
    ck_assert_float_eq(cm_model_front_config(m).fmax_hz, 3500.f);
    /* The default model's shape thresholds are the documented defaults (docs/shape.md). */
    cm_shape_params d = cm_shape_params_default();
    ck_assert(!memcmp(cm_model_shape_params(m), &d, sizeof d));
    cm_model_destroy(m);
}
END_TEST

/* Frames with random but plausible features. */
static void random_frames(cm_frame *fr, size_t n, uint64_t *s)
{
    for (size_t k = 0; k < n; k++) {
        memset(&fr[k], 0, sizeof fr[k]);
        fr[k].index = k;
        fr[k].n_mel = 40;
        for (int b = 0; b < 40; b++) fr[k].mel_db[b] = (float)(-60 + 10 * tu_gauss(s));
        fr[k].centroid_hz = (float)(500 + 1000 * tu_uniform(s));
        fr[k].flatness = (float)tu_uniform(s);
        fr[k].rolloff_hz = (float)(1000 + 2000 * tu_uniform(s));
        fr[k].flux = (float)(3 * tu_uniform(s));
        fr[k].rms_dbfs = (float)(-40 + 15 * tu_gauss(s));
        fr[k].voicing = (float)tu_uniform(s);
        fr[k].f0_hz = fr[k].voicing > 0.45f ? (float)(200 + 400 * tu_uniform(s)) : 0.f;
    }
}

START_TEST(detector_matches_clip_scoring)
{
    static const size_t lens[] = {1, 50, 100, 101, 125, 237, 400};
    size_t n = lens[_i];
    uint64_t s = tu_seed() + n;
    cm_frame *fr = malloc(n * sizeof *fr);
    random_frames(fr, n, &s);
    cm_model *m = random_model(6, 11);
    cm_detector *d = NULL;
    cm_diag why;
    ck_assert_int_eq(cm_detector_create(m, &d, &why), CM_OK);
    size_t nw = cm_wf_n_windows(n);
    float *feat = malloc(nw * CM_WF_DIM * sizeof *feat), *peak = malloc(nw * sizeof *peak);
    float *p = malloc(nw * CM_N_CLASSES * sizeof *p);
    for (size_t w = 0; w < nw; w++) {
        size_t st = cm_wf_window_start(n, w), len = n - st < 100 ? n - st : 100;
        peak[w] = cm_wf_compute(fr + st, len, feat + w * CM_WF_DIM);
    }
    cm_model_score_clip(m, feat, peak, NULL, nw, p);
    size_t got = 0;
    cm_window_scores ws;
    for (size_t k = 0; k < n; k++)
        if (cm_detector_push(d, &fr[k], &ws)) {
            ck_assert_uint_lt(got, nw);
            /* The span covers every averaged window (smooth_windows of random_model). */
            size_t k0 = cm_model_smooth_windows(m) - 1;
            ck_assert_uint_eq(ws.first_frame, cm_wf_window_start(n, got > k0 ? got - k0 : 0));
            ck_assert(!memcmp(ws.p, p + got * CM_N_CLASSES, sizeof ws.p));
            got++;
        }
    if (cm_detector_flush(d, &ws)) {
        ck_assert_uint_lt(got, nw);
        ck_assert_uint_eq(ws.last_frame, n - 1);
        ck_assert(!memcmp(ws.p, p + got * CM_N_CLASSES, sizeof ws.p));
        got++;
    }
    ck_assert_uint_eq(got, nw);
    float sum = ws.p[0] + ws.p[1] + ws.p[2];
    ck_assert_float_eq_tol(sum, 1.f, 1e-5f);
    ck_assert_float_eq(ws.p[CM_CLASS_SOB], 0.f);
    /* Reset gives the same again. */
    cm_detector_reset(d);
    size_t again = 0;
    for (size_t k = 0; k < n; k++) again += (size_t)cm_detector_push(d, &fr[k], &ws);
    again += (size_t)cm_detector_flush(d, &ws);
    ck_assert_uint_eq(again, nw);
    cm_detector_destroy(d);
    cm_model_destroy(m);
    free(fr), free(feat), free(peak), free(p);
}
END_TEST

/* Cry confirmation (k of the last n smoothed windows): the detector and clip scoring agree,
 * the cry probability is the k-th largest of the last n unconfirmed ones (never above
 * the window's own), the span covers
 * them, the parameters round-trip, and a model file without them has confirmation off. */
START_TEST(confirm_matches_clip_scoring)
{
    static const size_t lens[] = {1, 125, 237, 400};
    size_t n = lens[_i];
    uint64_t s = tu_seed() + 7 * n;
    cm_frame *fr = malloc(n * sizeof *fr);
    random_frames(fr, n, &s);
    cm_model *m = random_model(6, 11);
    cm_diag why;
    cm_detect_params par = *cm_model_params(m);
    size_t nw = cm_wf_n_windows(n);
    float *feat = malloc(nw * CM_WF_DIM * sizeof *feat), *peak = malloc(nw * sizeof *peak);
    float *p0 = malloc(nw * CM_N_CLASSES * sizeof *p0), *p = malloc(nw * CM_N_CLASSES * sizeof *p);
    for (size_t w = 0; w < nw; w++) {
        size_t st = cm_wf_window_start(n, w), len = n - st < 100 ? n - st : 100;
        peak[w] = cm_wf_compute(fr + st, len, feat + w * CM_WF_DIM);
    }
    cm_model_score_clip(m, feat, peak, NULL, nw, p0);
    par.confirm_k = 2, par.confirm_n = 3;
    ck_assert_int_eq(cm_model_set_params(m, &par, &why), CM_OK);
    cm_model_score_clip(m, feat, peak, NULL, nw, p);
    for (size_t w = 0; w < nw; w++) {
        /* 2nd largest of the last 3; at the start, k shrinks by the windows not yet there */
        float v[3];
        size_t lo = w >= 2 ? w - 2 : 0, mm = w + 1 - lo;
        for (size_t j = 0; j < mm; j++) v[j] = p0[(lo + j) * CM_N_CLASSES + CM_CLASS_CRY];
        float want;
        if (mm == 1) want = v[0];
        else if (mm == 2) want = fmaxf(v[0], v[1]); /* k shrinks by the missing window */
        else want = fmaxf(fminf(v[0], v[1]), fminf(fmaxf(v[0], v[1]), v[2]));
        want = fminf(want, v[mm - 1]); /* confirmation only ever lowers */
        ck_assert_float_eq(p[w * CM_N_CLASSES + CM_CLASS_CRY], want);
        float sum = p[w * CM_N_CLASSES] + p[w * CM_N_CLASSES + 1] + p[w * CM_N_CLASSES + 2];
        ck_assert_float_eq_tol(sum, 1.f, 1e-5f);
    }
    cm_detector *d = NULL;
    ck_assert_int_eq(cm_detector_create(m, &d, &why), CM_OK);
    size_t got = 0;
    cm_window_scores ws;
    for (size_t k = 0; k < n; k++)
        if (cm_detector_push(d, &fr[k], &ws)) {
            ck_assert(!memcmp(ws.p, p + got * CM_N_CLASSES, sizeof ws.p));
            /* span: smooth_windows (3) + confirm_n (3) - 1 windows back */
            ck_assert_uint_eq(ws.first_frame, cm_wf_window_start(n, got > 4 ? got - 4 : 0));
            got++;
        }
    if (cm_detector_flush(d, &ws)) {
        ck_assert(!memcmp(ws.p, p + got * CM_N_CLASSES, sizeof ws.p));
        got++;
    }
    ck_assert_uint_eq(got, nw);
    cm_detector_destroy(d);
    /* Round trip keeps them; without the fields (older files) confirmation is off. */
    char *js = cm_model_to_json(m);
    cm_model *b = NULL;
    ck_assert_msg(cm_model_load_buffer(js, strlen(js), &b, &why) == CM_OK, "%s", why.msg);
    ck_assert_uint_eq(cm_model_params(b)->confirm_k, 2);
    ck_assert_uint_eq(cm_model_params(b)->confirm_n, 3);
    cm_model_destroy(b);
    cJSON *root = cJSON_Parse(js);
    cJSON *det = cJSON_GetObjectItem(root, "detector");
    cJSON_DeleteItemFromObject(det, "confirm_k");
    cJSON_DeleteItemFromObject(det, "confirm_n");
    char *old = cJSON_Print(root);
    ck_assert_msg(cm_model_load_buffer(old, strlen(old), &b, &why) == CM_OK, "%s", why.msg);
    ck_assert_uint_eq(cm_model_params(b)->confirm_k, 1);
    ck_assert_uint_eq(cm_model_params(b)->confirm_n, 1);
    cm_model_destroy(b);
    cJSON_Delete(root);
    free(js), free(old);
    /* Onset back-dating and the cry evidence minimum round-trip too; without the fields
     * (older files) back-dating is off and one cry window is enough. */
    cm_detect_params q = *cm_model_params(m);
    q.cry_onset_threshold = 0.5f, q.cry_onset_max_s = 3.f, q.cry_onset_gap_s = 1.f;
    q.cry_min_windows = 4;
    ck_assert_int_eq(cm_model_set_params(m, &q, &why), CM_OK);
    js = cm_model_to_json(m);
    ck_assert_msg(cm_model_load_buffer(js, strlen(js), &b, &why) == CM_OK, "%s", why.msg);
    ck_assert_float_eq(cm_model_params(b)->cry_onset_threshold, 0.5f);
    ck_assert_float_eq(cm_model_params(b)->cry_onset_max_s, 3.f);
    ck_assert_float_eq(cm_model_params(b)->cry_onset_gap_s, 1.f);
    ck_assert_uint_eq(cm_model_params(b)->cry_min_windows, 4);
    cm_model_destroy(b);
    root = cJSON_Parse(js);
    det = cJSON_GetObjectItem(root, "detector");
    cJSON_DeleteItemFromObject(det, "cry_onset_threshold");
    cJSON_DeleteItemFromObject(det, "cry_onset_max_s");
    cJSON_DeleteItemFromObject(det, "cry_onset_gap_s");
    cJSON_DeleteItemFromObject(det, "cry_min_windows");
    old = cJSON_Print(root);
    ck_assert_msg(cm_model_load_buffer(old, strlen(old), &b, &why) == CM_OK, "%s", why.msg);
    ck_assert_float_eq(cm_model_params(b)->cry_onset_max_s, 0.f);
    ck_assert_uint_eq(cm_model_params(b)->cry_min_windows, 1);
    cm_model_destroy(b);
    q.cry_onset_max_s = 6.5f;
    ck_assert_int_eq(cm_model_set_params(m, &q, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "detector.cry_onset_max_s=6.5"));
    cJSON_Delete(root);
    free(js), free(old);
    cm_model_destroy(m);
    free(fr), free(feat), free(peak), free(p0), free(p);
}
END_TEST

START_TEST(features_gain_independent)
{
    uint64_t s = tu_seed();
    cm_frame fr[100], g[100];
    random_frames(fr, 100, &s);
    for (int k = 0; k < 100; k++) {
        g[k] = fr[k];
        g[k].rms_dbfs += 17.f; /* 17 dB louder: every level shifts, nothing else */
        for (int b = 0; b < 40; b++) g[k].mel_db[b] += 17.f;
    }
    float a[CM_WF_DIM], b[CM_WF_DIM];
    float pa = cm_wf_compute(fr, 100, a), pb = cm_wf_compute(g, 100, b);
    ck_assert_float_eq_tol(pb - pa, 17.f, 1e-3f);
    for (unsigned i = 0; i < CM_WF_DIM; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-3f * (1 + fabsf(a[i])), "%s: %g vs %g",
                      cm_wf_name(i), (double)a[i], (double)b[i]);
    ck_assert_ptr_null(cm_wf_name(CM_WF_DIM));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, round_trip, 0, 2);
    tcase_add_loop_test(tc, damaged, 0, (int)(sizeof damage / sizeof damage[0]));
    tcase_add_test(tc, truncated);
    tcase_add_test(tc, shape_round_trip);
    tcase_add_test(tc, shape_absent_is_default);
    tcase_add_test(tc, default_model);
    tcase_add_test(tc, file_errors);
    tcase_add_loop_test(tc, detector_matches_clip_scoring, 0, 7);
    tcase_add_loop_test(tc, confirm_matches_clip_scoring, 0, 4);
    tcase_add_test(tc, features_gain_independent);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
