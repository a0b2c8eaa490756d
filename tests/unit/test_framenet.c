/* SPDX-License-Identifier: MIT */
/* The frame network (crymeter/framenet.h): C inference against what PyTorch computed for the
 * same weights and frames (tests/data/framenet_ref.json, written by
 * `models/train/frame_net.py fixture`), damaged objects named, a model carrying one round
 * trips and scores the same, and the streaming detector agrees with clip scoring. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crymeter/classifier.h"
#include "crymeter/framenet.h"
#include "crymeter/model.h"
#include "testutil.h"

typedef struct ref {
    cJSON *root;
    char *net_json;
    size_t n;       /* frames */
    float *raw, *inputs, *probs;
} ref;

static float *floats(const cJSON *a, size_t n)
{
    ck_assert_int_eq(cJSON_GetArraySize(a), (int)n);
    float *v = malloc(n * sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) v[i++] = (float)e->valuedouble;
    return v;
}

static ref load_ref(void)
{
    ref r = {0};
    FILE *f = fopen(tu_src("tests/data/framenet_ref.json"), "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    r.root = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(r.root);
    r.n = (size_t)cJSON_GetObjectItem(r.root, "n_frames")->valuedouble;
    unsigned d = (unsigned)cJSON_GetObjectItem(r.root, "d_raw")->valuedouble;
    ck_assert_uint_eq(d, CM_FN_N_MEL + 7);
    r.raw = floats(cJSON_GetObjectItem(r.root, "raw"), r.n * d);
    r.inputs = floats(cJSON_GetObjectItem(r.root, "inputs"), r.n * CM_FN_N_IN);
    r.probs = floats(cJSON_GetObjectItem(r.root, "probs"), r.n * CM_FN_CLASSES);
    r.net_json = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.root, "frame_net"));
    return r;
}

static void free_ref(ref *r)
{
    cJSON_Delete(r->root);
    free(r->net_json), free(r->raw), free(r->inputs), free(r->probs);
}

static cm_frame frame_of(const float *raw)
{
    cm_frame fr;
    memset(&fr, 0, sizeof fr);
    fr.n_mel = CM_FN_N_MEL;
    memcpy(fr.mel_db, raw, CM_FN_N_MEL * sizeof(float));
    const float *e = raw + CM_FN_N_MEL;
    fr.centroid_hz = e[0] * 1000.f;
    fr.flatness = e[1];
    fr.rolloff_hz = e[2] * 1000.f;
    fr.flux = e[3];
    fr.rms_dbfs = e[4];
    fr.f0_hz = e[5];
    fr.voicing = e[6];
    return fr;
}

START_TEST(matches_pytorch)
{
    ref r = load_ref();
    cm_framenet *n = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_framenet_parse(r.net_json, strlen(r.net_json), &n, &why), CM_OK);
    cm_fn_state st;
    cm_fn_reset(&st);
    float max_in = 0, max_p = 0;
    for (size_t t = 0; t < r.n; t++) {
        cm_frame fr = frame_of(r.raw + t * (CM_FN_N_MEL + 7));
        float x[CM_FN_N_IN], p[CM_FN_CLASSES];
        cm_fn_inputs(&st, &fr, x);
        for (unsigned i = 0; i < CM_FN_N_IN; i++) {
            float dlt = fabsf(x[i] - r.inputs[t * CM_FN_N_IN + i]);
            ck_assert_msg(dlt <= 1e-5f * (1 + fabsf(x[i])), "frame %zu input %u: %g vs %g", t, i,
                          (double)x[i], (double)r.inputs[t * CM_FN_N_IN + i]);
            if (dlt > max_in) max_in = dlt;
        }
        /* Step on the reference inputs, so the network itself is what is compared. */
        cm_fn_step(n, &st, r.inputs + t * CM_FN_N_IN, p);
        for (unsigned c = 0; c < CM_FN_CLASSES; c++) {
            float dlt = fabsf(p[c] - r.probs[t * CM_FN_CLASSES + c]);
            ck_assert_msg(dlt <= 2e-5f, "frame %zu class %u: %g vs torch %g", t, c, (double)p[c],
                          (double)r.probs[t * CM_FN_CLASSES + c]);
            if (dlt > max_p) max_p = dlt;
        }
    }
    /* The fixture is not degenerate: the probabilities move over the frames. */
    float lo = 1, hi = 0;
    for (size_t t = 0; t < r.n; t++) {
        float v = r.probs[t * CM_FN_CLASSES + 2];
        lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    }
    ck_assert_float_gt(hi - lo, 0.2f);
    ck_assert_float_eq(cm_framenet_weight(n), 0.5f);
    cm_framenet_destroy(n);
    free_ref(&r);
}
END_TEST

/* Each damage is named: which field, what was expected. */
static const struct {
    const char *find, *replace, *expect;
} damage[] = {
    {"\"type\":\"gru\"", "\"type\":\"lstm\"", "frame_net.type"},
    {"\"n_in\":49", "\"n_in\":48", "frame_net.n_in=48"},
    {"\"n_hidden\":6", "\"n_hidden\":7", "frame_net.w_ih: 144 values, expected 168"},
    {"\"n_dense\":8", "\"n_dense\":0", "frame_net.n_dense"},
    {"\"b_out\":[", "\"b_out\":[1e400,", "frame_net.b_out"},
    {"\"std\":[", "\"std\":[\"x\",", "frame_net.std"},
    {"\"inputs\":\"crymeter-frame-inputs-1\"", "\"inputs\":\"v2\"", "frame_net.inputs"},
};

START_TEST(damaged)
{
    ref r = load_ref();
    char *bad = tu_replace_first(r.net_json, damage[_i].find, damage[_i].replace);
    ck_assert_msg(bad != NULL, "fixture lacks %s", damage[_i].find);
    cm_framenet *n = (cm_framenet *)1;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_framenet_parse(bad, strlen(bad), &n, &why), CM_E_FORMAT);
    ck_assert_ptr_null(n);
    ck_assert_msg(strstr(why.msg, damage[_i].expect), "'%s' lacks '%s'", why.msg,
                  damage[_i].expect);
    free(bad);
    /* Truncated anywhere: refused, never a crash. */
    size_t len = strlen(r.net_json);
    for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
        cm_framenet *t = NULL;
        ck_assert_int_ne(cm_framenet_parse(r.net_json, cut, &t, &why), CM_OK);
        ck_assert_ptr_null(t);
    }
    free_ref(&r);
}
END_TEST

/* A model with a frame network: it round-trips through JSON, and the detector's window
 * probabilities equal clip scoring's (frame network blended in) to float rounding. */
START_TEST(model_with_frame_net)
{
    ref r = load_ref();
    cm_model *m = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_model_load_default(&m, &why), CM_OK);
    cm_framenet *fn = NULL;
    ck_assert_int_eq(cm_framenet_parse(r.net_json, strlen(r.net_json), &fn, &why), CM_OK);
    ck_assert_int_eq(cm_model_set_frame_net(m, fn, &why), CM_OK);
    ck_assert_ptr_nonnull(cm_model_frame_net(m));
    char *js = cm_model_to_json(m);
    cm_model *m2 = NULL;
    ck_assert_int_eq(cm_model_load_buffer(js, strlen(js), &m2, &why), CM_OK);
    ck_assert_ptr_nonnull(cm_model_frame_net(m2));
    /* Written again, the model is the same text (the network with its weight). */
    ck_assert_float_eq(cm_framenet_weight(cm_model_frame_net(m2)), cm_framenet_weight(fn));
    char *js2 = cm_model_to_json(m2);
    ck_assert_msg(!strcmp(js, js2), "the model's JSON changed in a round trip");
    free(js2);
    /* A set weight is written and read back. */
    ck_assert_int_eq(cm_model_set_frame_net_weight(m2, 0.25f, &why), CM_OK);
    ck_assert_int_eq(cm_model_set_frame_net_weight(m2, 1.5f, &why), CM_E_RANGE);
    char *js4 = cm_model_to_json(m2);
    cm_model *m4 = NULL;
    ck_assert_int_eq(cm_model_load_buffer(js4, strlen(js4), &m4, &why), CM_OK);
    ck_assert_float_eq(cm_framenet_weight(cm_model_frame_net(m4)), 0.25f);
    ck_assert_int_eq(cm_model_set_frame_net_weight(m2, 0.5f, &why), CM_OK);
    cm_model_destroy(m4);
    free(js4);

    /* 237 frames: the fixture's 60 repeated, louder each time round. */
    size_t n = 237;
    cm_frame *fr = malloc(n * sizeof *fr);
    float *fin = malloc(n * CM_FN_N_IN * sizeof *fin);
    cm_fn_state st;
    cm_fn_reset(&st);
    for (size_t k = 0; k < n; k++) {
        fr[k] = frame_of(r.raw + (k % r.n) * (CM_FN_N_MEL + 7));
        fr[k].index = k;
        fr[k].rms_dbfs = -60.f + (float)(k % 40);
        cm_fn_inputs(&st, &fr[k], fin + k * CM_FN_N_IN);
    }
    size_t nw = cm_wf_n_windows(n);
    float *feat = malloc(nw * CM_WF_DIM * sizeof *feat), *peak = malloc(nw * sizeof *peak);
    float *fw = malloc(nw * CM_FN_CLASSES * sizeof *fw), *p = malloc(nw * CM_N_CLASSES * sizeof *p);
    float *p0 = malloc(nw * CM_N_CLASSES * sizeof *p0);
    for (size_t w = 0; w < nw; w++) {
        size_t s0 = cm_wf_window_start(n, w), len = n - s0 < 100 ? n - s0 : 100;
        peak[w] = cm_wf_compute(fr + s0, len, feat + w * CM_WF_DIM);
    }
    ck_assert_uint_eq(cm_model_frame_net_windows(m2, fin, n, fw), nw);
    cm_model_score_clip(m2, feat, peak, fw, nw, p);
    cm_model_score_clip(m2, feat, peak, NULL, nw, p0);
    int differs = 0;
    for (size_t i = 0; i < nw * CM_N_CLASSES; i++) differs |= fabsf(p[i] - p0[i]) > 1e-3f;
    ck_assert_msg(differs, "the frame network changed no window probability");
    cm_detector *d = NULL;
    ck_assert_int_eq(cm_detector_create(m2, &d, &why), CM_OK);
    for (int pass = 0; pass < 2; pass++) { /* and again after a reset */
        size_t got = 0;
        cm_window_scores ws;
        for (size_t k = 0; k < n; k++)
            if (cm_detector_push(d, &fr[k], &ws)) {
                for (unsigned c = 0; c < CM_N_CLASSES; c++)
                    ck_assert_float_eq_tol(ws.p[c], p[got * CM_N_CLASSES + c], 1e-5f);
                got++;
            }
        if (cm_detector_flush(d, &ws)) {
            for (unsigned c = 0; c < CM_N_CLASSES; c++)
                ck_assert_float_eq_tol(ws.p[c], p[got * CM_N_CLASSES + c], 1e-5f);
            got++;
        }
        ck_assert_uint_eq(got, nw);
        cm_detector_reset(d);
    }
    cm_detector_destroy(d);
    /* A model whose front end has other than 40 mel bands cannot take it. */
    cm_framenet *fn2 = NULL;
    ck_assert_int_eq(cm_framenet_parse(r.net_json, strlen(r.net_json), &fn2, &why), CM_OK);
    char *js3 = tu_replace_first(js, "\"n_mel\":\t40", "\"n_mel\":\t32");
    ck_assert_ptr_nonnull(js3);
    cm_model *m3 = NULL;
    ck_assert_int_eq(cm_model_load_buffer(js3, strlen(js3), &m3, &why), CM_E_FORMAT);
    ck_assert_msg(strstr(why.msg, "n_mel"), "%s", why.msg);
    cm_framenet_destroy(fn2);
    free(js3);
    cm_model_destroy(m), cm_model_destroy(m2);
    free(js), free(fr), free(fin), free(feat), free(peak), free(fw), free(p), free(p0);
    free_ref(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("framenet");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, matches_pytorch);
    tcase_add_loop_test(tc, damaged, 0, (int)(sizeof damage / sizeof damage[0]));
    tcase_add_test(tc, model_with_frame_net);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
