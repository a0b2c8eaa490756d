/* SPDX-License-Identifier: MIT */
/* The home layer (crymeter/home.h): the regression separates, deterministically; the shift
 * against its definition, one-sided and bounded; the probability update; refusals by field;
 * and the model file's "home" object (round trip, every damage refused by name). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/classifier.h"
#include "crymeter/home.h"
#include "crymeter/model.h"
#include "crymeter/model_file.h"
#include "detect/model_internal.h"
#include "learn/calib_data.h"
#include "testutil.h"

#define N_EX 300

/* Two clusters: crying (every third example) around -1.5, not crying around +1.5, on every
 * feature, with unit noise scaled up feature by feature. */
static void examples(uint64_t seed, float *x, uint8_t *y, size_t n)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % 3 == 0);
        for (size_t j = 0; j < CM_WF_DIM; j++)
            x[i * CM_WF_DIM + j] =
                (float)(tu_gauss(&s) * (1.0 + (double)j / 10) + (y[i] ? -1.5 : 1.5));
    }
}

/* The regression alone: its probability that raw q is one of the household's sounds. */
static double p_home(const cm_home *h, const float *q)
{
    const float *mu = cm_home_mean(h), *sd = cm_home_std(h);
    double a = cm_home_intercept(h);
    for (size_t j = 0; j < CM_WF_DIM; j++) a += cm_home_weights(h)[j] * ((double)q[j] - mu[j]) / sd[j];
    return 1 / (1 + exp(-a));
}

/* Distance (root mean square over the features, in the layer's standard deviations)
 * between raw vectors a and b. */
static double zdist(const cm_home *h, const float *a, const float *b)
{
    const float *sd = cm_home_std(h);
    double s2 = 0;
    for (size_t j = 0; j < CM_WF_DIM; j++) {
        double d = ((double)a[j] - b[j]) / sd[j];
        s2 += d * d;
    }
    return sqrt(s2 / CM_WF_DIM);
}

/* The definition, written out in double from the layer's own scale, weights and examples:
 * each not-crying example reaches the radius or CM_HOME_CRY_REACH times its distance to the
 * nearest crying one, and the gate is the largest 1 - d / reach. */
static double reference_shift(const cm_home *h, const float *q)
{
    double gate = 0;
    cm_home_params p = cm_home_get_params(h);
    for (size_t i = 0; i < cm_home_n(h); i++) {
        if (cm_home_is_cry(h, i)) continue;
        double r = p.radius;
        for (size_t c = 0; c < cm_home_n(h); c++)
            if (cm_home_is_cry(h, c)) {
                double rc = CM_HOME_CRY_REACH * zdist(h, cm_home_example(h, i), cm_home_example(h, c));
                if (rc < r) r = rc;
            }
        double d = zdist(h, q, cm_home_example(h, i));
        if (d < r && 1 - d / r > gate) gate = 1 - d / r;
    }
    return -p.gain * gate * p_home(h, q);
}

START_TEST(fit_separates)
{
    static float x[N_EX * CM_WF_DIM], q[CM_WF_DIM];
    static uint8_t y[N_EX];
    uint64_t s = tu_seed() + (uint64_t)_i;
    examples(s, x, y, N_EX);
    cm_home_params p = {4.f, _i % 2 ? 1.f : 0.01f, 100.f};
    cm_home *h = NULL, *h2 = NULL;
    cm_diag why;
    ck_assert_msg(cm_home_fit(&p, NULL, NULL, x, y, N_EX, &h, &why) == CM_OK, "%s", why.msg);
    ck_assert_uint_eq(cm_home_n(h), N_EX);
    ck_assert_uint_eq(cm_home_n_cry(h), N_EX / 3);
    /* Deterministic, bit for bit. */
    ck_assert_int_eq(cm_home_fit(&p, NULL, NULL, x, y, N_EX, &h2, &why), CM_OK);
    ck_assert(memcmp(cm_home_weights(h), cm_home_weights(h2), CM_WF_DIM * sizeof(float)) == 0);
    ck_assert(cm_home_intercept(h) == cm_home_intercept(h2));
    /* The regression's probability of "not crying": near 1 at the not-crying centre, near 0
     * at the crying one (above 3/4, below 1/4), and every example on its side but a few of 300. */
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 1.5f;
    ck_assert_double_gt(p_home(h, q), 0.75);
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = -1.5f;
    ck_assert_double_lt(p_home(h, q), 0.25);
    size_t wrong = 0;
    for (size_t i = 0; i < N_EX; i++) {
        double ph = p_home(h, x + i * CM_WF_DIM);
        wrong += y[i] ? ph > 0.5 : ph < 0.5;
    }
    ck_assert_uint_le(wrong, 3);
    /* The shift is the definition, within [-gain, 0], the gate included (radius 1.5: some
     * queries beyond it, some within). */
    cm_home_free(h2);
    p.radius = 1.5f;
    ck_assert_int_eq(cm_home_create(&p, cm_home_mean(h), cm_home_std(h), cm_home_weights(h),
                                    cm_home_intercept(h), x, y, N_EX, &h2, &why), CM_OK);
    cm_home_free(h);
    h = h2;
    h2 = NULL;
    int zero = 0, nonzero = 0;
    for (int t = 0; t < 60; t++) {
        size_t e = tu_rand(&s) % N_EX;
        for (size_t j = 0; j < CM_WF_DIM; j++)
            q[j] = x[e * CM_WF_DIM + j] + (float)((t % 3) * 0.8 * tu_gauss(&s)) * cm_home_std(h)[j];
        double ref = reference_shift(h, q);
        float got = cm_home_shift(h, q);
        ck_assert_msg(fabs(got - ref) <= 1e-5 * (1 + fabs(ref)), "%g vs %g", (double)got, ref);
        ck_assert(got <= 0.f && got >= -p.gain);
        zero += got == 0.f, nonzero += got != 0.f;
    }
    ck_assert_int_gt(zero, 0);
    ck_assert_int_gt(nonzero, 0);
    cm_home_free(h), cm_home_free(h2);
}
END_TEST

START_TEST(apply_and_edges)
{
    static float x[2 * CM_WF_DIM], q[CM_WF_DIM], w[CM_WF_DIM], mean[CM_WF_DIM], sd[CM_WF_DIM];
    uint8_t y[2] = {0, 1};
    for (size_t j = 0; j < CM_WF_DIM; j++) sd[j] = 1.f;
    /* No weights and a large intercept: every window is the home's, and the gate alone
     * shapes the shift: -gain at the not-crying example (the origin), half of it at 0.5 SD,
     * none at the radius or beyond, whatever the crying example (at 10) says. */
    for (size_t j = 0; j < CM_WF_DIM; j++) x[CM_WF_DIM + j] = 10.f;
    cm_home_params p = {4.5f, 1.f, 1.f};
    cm_home *h = NULL;
    cm_diag why;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, w, 60.f, x, y, 2, &h, &why), CM_OK);
    ck_assert_float_eq_tol(cm_home_shift(h, q), -4.5f, 1e-6f);
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 0.5f;
    ck_assert_float_eq_tol(cm_home_shift(h, q), -2.25f, 1e-5f);
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 1.f;
    ck_assert(cm_home_shift(h, q) == 0.f);
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 10.f;
    ck_assert(cm_home_shift(h, q) == 0.f);
    memset(q, 0, sizeof q);
    float pr[CM_N_CLASSES] = {0.1f, 0.3f, 0.6f, 0.f};
    cm_home_apply(h, NULL, q, pr);
    double lo = log(0.6 / 0.4) - 4.5, c = 1 / (1 + exp(-lo));
    ck_assert_float_eq_tol(pr[CM_CLASS_CRY], (float)c, 1e-6f);
    ck_assert_float_eq_tol(pr[CM_CLASS_BACKGROUND], (float)((1 - c) * 0.25), 1e-6f);
    ck_assert_float_eq_tol(pr[CM_CLASS_VOCAL], (float)((1 - c) * 0.75), 1e-6f);
    ck_assert(pr[CM_CLASS_SOB] == 0.f);
    /* A NaN feature says nothing: p untouched, bit for bit. */
    q[3] = NAN;
    float p2[CM_N_CLASSES] = {0.2f, 0.3f, 0.5f, 0.f};
    cm_home_apply(h, NULL, q, p2);
    ck_assert(p2[0] == 0.2f && p2[1] == 0.3f && p2[2] == 0.5f);
    cm_home_free(h);
    /* Gain 0: no change at all. */
    p.gain = 0.f;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, w, 60.f, x, y, 2, &h, &why), CM_OK);
    q[3] = 0.f;
    cm_home_apply(h, NULL, q, p2);
    ck_assert(p2[0] == 0.2f && p2[1] == 0.3f && p2[2] == 0.5f);
    cm_home_free(h);
}
END_TEST

START_TEST(reach_and_trail)
{
    /* One not-crying example at the origin, radius 1, no weights and a large intercept (the
     * gate alone shapes the shift). With the crying example at 10 SD it reaches the radius;
     * at 0.4 SD it reaches 1.25 * 0.4 = 0.5: half the shift at 0.25, none at 0.5. */
    static float x[2 * CM_WF_DIM], q[CM_WF_DIM], w[CM_WF_DIM], mean[CM_WF_DIM], sd[CM_WF_DIM];
    uint8_t y[2] = {0, 1};
    for (size_t j = 0; j < CM_WF_DIM; j++) sd[j] = 1.f, x[CM_WF_DIM + j] = 10.f;
    cm_home_params p = {4.f, 1.f, 1.f};
    cm_home *h = NULL;
    cm_diag why;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, w, 60.f, x, y, 2, &h, &why), CM_OK);
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 0.25f;
    ck_assert_float_eq_tol(cm_home_shift(h, q), -3.f, 1e-5f);
    cm_home_free(h);
    for (size_t j = 0; j < CM_WF_DIM; j++) x[CM_WF_DIM + j] = 0.4f;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, w, 60.f, x, y, 2, &h, &why), CM_OK);
    ck_assert_float_eq_tol(cm_home_shift(h, q), -2.f, 1e-5f);
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 0.5f;
    ck_assert(cm_home_shift(h, q) == 0.f);
    /* A not-crying example on top of a crying one never gates, not even itself. */
    for (size_t j = 0; j < CM_WF_DIM; j++) x[CM_WF_DIM + j] = 0.f;
    cm_home_free(h);
    ck_assert_int_eq(cm_home_create(&p, mean, sd, w, 60.f, x, y, 2, &h, &why), CM_OK);
    memset(q, 0, sizeof q);
    ck_assert(cm_home_shift(h, q) == 0.f);
    cm_home_free(h);

    /* The trail: a window shifted by -8, then 20 unshifted ones: the mean of the last 16 is
     * -0.5 until the -8 leaves it, after 16 windows. */
    cm_home_trail t = {{0}, 0, 0};
    ck_assert(cm_home_trail_push(&t, -8.f) == -0.5f);
    for (int i = 1; i <= 20; i++) {
        float got = cm_home_trail_push(&t, 0.f);
        ck_assert_msg(got == (i < 16 ? -0.5f : 0.f), "window %d: %g", i, (double)got);
    }

    /* In a model's window probabilities: the household's example is window 0 of a stream;
     * 19 other windows follow (window 5 silent). When the model calls the example crying
     * (the loudest-scoring window of a bundled cry clip), its correction spreads over the
     * next 15 windows, silence counting as time; when it does not (the clip's lowest-scoring
     * window, below 1/2), only the example itself is lowered. */
    cm_model *m = NULL, *plain = NULL;
    ck_assert_int_eq(cm_model_load_default(&m, &why), CM_OK);
    ck_assert_int_eq(cm_model_load_default(&plain, &why), CM_OK);
    const float *mu = cm_model_net(m)->mean, *sg = cm_model_net(m)->std;
    float *au = NULL, pr[CM_N_CLASSES];
    size_t na = 0;
    unsigned rate = 0;
    const char *clip = tu_src("samples/clips/baby_cry_1-187207-A.flac");
    ck_assert_int_eq(cd_read_front(clip, &au, &na, &rate), 0);
    cm_front_config fc = cm_model_front_config(m);
    cd_feats cf;
    memset(&cf, 0, sizeof cf);
    ck_assert_int_eq(cd_window_feats(au, na, &fc, 0, &cf), 0);
    float best = -1.f, worst = 2.f, other[CM_WF_DIM];
    for (size_t i = 0; i < cf.n_win; i++) {
        cm_model_forward(plain, cf.x + i * CM_WF_DIM, pr);
        const float *v = cf.x + i * CM_WF_DIM;
        if (pr[CM_CLASS_CRY] > best) best = pr[CM_CLASS_CRY], memcpy(x, v, sizeof other);
        if (pr[CM_CLASS_CRY] < worst) worst = pr[CM_CLASS_CRY], memcpy(other, v, sizeof other);
    }
    ck_assert_float_ge(best, CM_HOME_TRAIL_MIN_P);
    ck_assert_float_lt(worst, CM_HOME_TRAIL_MIN_P);
    for (int spread = 1; spread >= 0; spread--) {
        if (!spread) { /* near the quiet window, not on it */
            for (size_t j = 0; j < CM_WF_DIM; j++) x[j] = other[j] + 0.05f * sg[j];
            cm_model_forward(plain, x, pr);
            ck_assert_float_lt(pr[CM_CLASS_CRY], CM_HOME_TRAIL_MIN_P);
        }
        for (size_t j = 0; j < CM_WF_DIM; j++) x[CM_WF_DIM + j] = mu[j] + 1e3f * sg[j];
        cm_home_params pm = {8.f, 1.f, 1e-3f}; /* only the example itself is gated */
        ck_assert_int_eq(cm_home_create(&pm, mu, sg, w, 60.f, x, y, 2, &h, &why), CM_OK);
        ck_assert_int_eq(cm_model_set_home(m, h, &why), CM_OK);
        cm_home_free(h);
        cm_home_trail tr = {{0}, 0, 0};
        for (size_t i = 0; i < 20; i++) {
            const float *v = i ? other : x;
            float peak = i == 5 ? -200.f : -10.f, pa[CM_N_CLASSES], pb[CM_N_CLASSES];
            cm_model_window_probs(m, v, peak, NULL, &tr, pa);
            cm_model_window_probs(plain, v, peak, NULL, NULL, pb);
            /* The example called crying matched (-8 nat): recent for itself and the next
             * CM_HOME_RECENT windows, silence counting; one not called crying never is. */
            ck_assert_msg(cm_home_trail_recent(&tr) == (spread && i <= CM_HOME_RECENT),
                          "spread %d, window %zu: recent %d", spread, i,
                          cm_home_trail_recent(&tr));
            if (i == 5) {
                ck_assert(memcmp(pa, pb, sizeof pa) == 0);
                continue;
            }
            double c = pb[CM_CLASS_CRY], sh = i == 0 ? -8.0 : spread && i < 16 ? -0.5 : 0.0;
            double e = 1 / (1 + exp(-(log(c / (1 - c)) + sh)));
            ck_assert_msg(fabs(pa[CM_CLASS_CRY] - e) < 1e-5,
                          "spread %d, window %zu: %g, expected %g", spread, i,
                          (double)pa[CM_CLASS_CRY], e);
        }
    }
    free(au), free(cf.x), free(cf.peak);
    cm_model_destroy(m), cm_model_destroy(plain);
}
END_TEST

START_TEST(create_refuses)
{
    static float x[2 * CM_WF_DIM], sd[CM_WF_DIM], mean[CM_WF_DIM], w[CM_WF_DIM];
    uint8_t y[2] = {0, 1}, same[2] = {0, 0};
    for (size_t j = 0; j < CM_WF_DIM; j++) sd[j] = 1.f;
    cm_home *h = (cm_home *)1;
    cm_diag why;
    cm_home_params bad[] = {{-1.f, 1.f, 1.f}, {CM_HOME_MAX_GAIN + 1, 1.f, 1.f}, {NAN, 1.f, 1.f},
                            {4.f, -1.f, 1.f}, {4.f, 2e6f, 1.f}, {4.f, 1.f, 0.f},
                            {4.f, 1.f, NAN}};
    const char *field[] = {"home.gain", "home.gain", "home.gain", "home.l2", "home.l2",
                           "home.radius", "home.radius"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(cm_home_create(&bad[i], mean, sd, w, 0.f, x, y, 2, &h, &why), CM_E_RANGE);
        ck_assert_ptr_null(h);
        ck_assert_msg(strstr(why.msg, field[i]), "%s", why.msg);
    }
    cm_home_params p = {4.f, 1.f, 1.f};
    ck_assert_int_eq(cm_home_create(&p, mean, sd, w, 0.f, x, y, 1, &h, &why), CM_E_RANGE);
    ck_assert_int_eq(cm_home_fit(&p, mean, sd, x, same, 2, &h, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "both"), "%s", why.msg);
    x[CM_WF_DIM + 5] = INFINITY;
    ck_assert_int_eq(cm_home_fit(&p, mean, sd, x, y, 2, &h, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "examples[1][5]"), "%s", why.msg);
    x[CM_WF_DIM + 5] = 0.f;
    w[9] = NAN;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, w, 0.f, x, y, 2, &h, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "home.w[9]"), "%s", why.msg);
    w[9] = 0.f;
    sd[7] = 0.f;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, w, 0.f, x, y, 2, &h, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "std[7]"), "%s", why.msg);
    /* Own scale: a constant feature gets std 1, not a division by zero. */
    ck_assert_int_eq(cm_home_create(&p, NULL, NULL, w, 0.f, x, y, 2, &h, &why), CM_OK);
    ck_assert(cm_home_std(h)[7] == 1.f);
    cm_home_free(h);
}
END_TEST

static cm_model *model_with_home(void)
{
    cm_model *m = NULL;
    cm_diag why;
    ck_assert_int_eq(cm_model_load_default(&m, &why), CM_OK);
    static float x[N_EX * CM_WF_DIM];
    static uint8_t y[N_EX];
    examples(tu_seed(), x, y, N_EX);
    cm_home_params p = {4.f, 0.5f, 2.5f};
    cm_home *h = NULL;
    ck_assert_int_eq(cm_home_fit(&p, NULL, NULL, x, y, N_EX, &h, &why), CM_OK);
    ck_assert_int_eq(cm_model_set_home(m, h, &why), CM_OK);
    cm_home_free(h);
    return m;
}

START_TEST(model_round_trip)
{
    cm_model *m = model_with_home();
    char *js = cm_model_to_json(m);
    ck_assert_ptr_nonnull(strstr(js, "\"home\""));
    /* A home model is format_version 3, so that a crymeter from before home layers refuses
     * it ("a newer crymeter wrote this model") instead of scoring without the layer. */
    ck_assert_ptr_nonnull(strstr(js, "\"format_version\":\t3"));
    ck_assert_ptr_nonnull(strstr(js, "\"classifier\":\t\"ensemble\""));
    cm_model *b = NULL;
    cm_diag why;
    ck_assert_msg(cm_model_load_buffer(js, strlen(js), &b, &why) == CM_OK, "%s", why.msg);
    const cm_home *h = cm_model_home(b);
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(cm_home_n(h), N_EX);
    ck_assert_uint_eq(cm_home_n_cry(h), N_EX / 3);
    char *js2 = cm_model_to_json(b);
    ck_assert_str_eq(js, js2);
    /* The layer acts in the model's window probabilities: a window at a not-crying example
     * scores lower cry than without the layer, bit-for-bit equal elsewhere. */
    cm_model *plain = NULL;
    ck_assert_int_eq(cm_model_load_default(&plain, &why), CM_OK);
    const float *e = cm_home_example(h, 1); /* example 1 is not crying */
    float peak = -10.f, pa[CM_N_CLASSES], pb[CM_N_CLASSES];
    cm_model_score_clip(b, e, &peak, NULL, 1, pa);
    cm_model_score_clip(plain, e, &peak, NULL, 1, pb);
    ck_assert_float_lt(pa[CM_CLASS_CRY], pb[CM_CLASS_CRY]);
    double lo = log((double)pb[CM_CLASS_CRY] / (1 - pb[CM_CLASS_CRY])) + cm_home_shift(h, e);
    ck_assert_float_eq_tol(pa[CM_CLASS_CRY], (float)(1 / (1 + exp(-lo))), 1e-5f);
    /* Below the silence gate the layer does not act: background, as without it. */
    peak = -200.f;
    cm_model_score_clip(b, e, &peak, NULL, 1, pa);
    cm_model_score_clip(plain, e, &peak, NULL, 1, pb);
    ck_assert(memcmp(pa, pb, sizeof pa) == 0);
    /* Removing it. */
    ck_assert_int_eq(cm_model_set_home(b, NULL, &why), CM_OK);
    ck_assert_ptr_null(cm_model_home(b));
    free(js), free(js2);
    cm_model_destroy(m), cm_model_destroy(b), cm_model_destroy(plain);
}
END_TEST

static const struct {
    const char *find, *replace, *expect;
} damage[] = {
    {"\"home\":\t{\n\t\t\"version\":\t2", "\"home\":\t{\n\t\t\"version\":\t1", "home.version=1"},
    {"\"feature_version\":\t1", "\"feature_version\":\t9", "home.feature_version=9"},
    {"\"gain\":\t4", "\"gain\":\t400", "home.gain"},
    {"\"l2\":\t0.5", "\"l2\":\t-1", "home.l2"},
    {"\"radius\":\t2.5", "\"radius\":\t0", "home.radius"},
    {"\"w\":\t[", "\"w\":\t[1e999, ", "home.w"},
    {"\"b\":\t", "\"b\":\t\"x\", \"c\":\t", "home.b"},
    {"\"cry\":\t[1, 0", "\"cry\":\t[7, 0", "home.cry[0]"},
    {"\"cry\":\t[1, 0", "\"cry\":\t[0", "home.cry: 299 values"},
    {"\"format_version\":\t3", "\"format_version\":\t2", "home: needs format_version 3"},
};

START_TEST(model_damaged)
{
    cm_model *m = model_with_home();
    char *js = cm_model_to_json(m);
    char *bad = tu_replace_first(js, damage[_i].find, damage[_i].replace);
    ck_assert_msg(bad, "pattern %s not in the model", damage[_i].find);
    cm_model *b = (cm_model *)1;
    cm_diag why;
    ck_assert_int_ne(cm_model_load_buffer(bad, strlen(bad), &b, &why), CM_OK);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(why.msg, damage[_i].expect), "%s", why.msg);
    free(bad), free(js);
    cm_model_destroy(m);
}
END_TEST

START_TEST(save_is_atomic)
{
    /* A failed save (a directory in the way of the rename) leaves no temporary file and
     * the old content untouched. */
    cm_model *m = model_with_home();
    cm_diag why;
    const char *dir = tu_path("d.json");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/x'", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(cm_model_save_file(m, dir, &why), CM_E_IO);
    ck_assert_msg(strstr(why.msg, "d.json"), "%s", why.msg);
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c tmp", tu_tmpdir());
    FILE *p = popen(cmd, "r");
    char out[16] = "";
    ck_assert_ptr_nonnull(fgets(out, sizeof out, p));
    pclose(p);
    ck_assert_str_eq(out, "0\n");
    cm_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("home");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, fit_separates, 0, 4);
    tcase_add_test(tc, apply_and_edges);
    tcase_add_test(tc, reach_and_trail);
    tcase_add_test(tc, create_refuses);
    tcase_add_test(tc, model_round_trip);
    tcase_add_loop_test(tc, model_damaged, 0, (int)(sizeof damage / sizeof damage[0]));
    tcase_add_test(tc, save_is_atomic);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
