/* SPDX-License-Identifier: MIT */
/* The home layer (crymeter/home.h): the shift's value against a brute-force reference, its
 * locality (nothing beyond the radius, nothing from crying examples), the probability
 * update, and the model file's "home" object (round trip, every damage refused by name). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/classifier.h"
#include "crymeter/home.h"
#include "crymeter/model.h"
#include "crymeter/model_file.h"
#include "testutil.h"

#define N_EX 300

static void examples(uint64_t seed, float *x, uint8_t *y, size_t n)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % 3 == 0);
        for (size_t j = 0; j < CM_WF_DIM; j++)
            x[i * CM_WF_DIM + j] = (float)(tu_gauss(&s) * (1.0 + (double)j / 10) + (y[i] ? 2 : 0));
    }
}

/* The definition, written out: every example's distance, sorted, the k nearest within the
 * radius voting -w for not-crying and 0 for crying. */
static double reference_shift(const float *x, const uint8_t *y, size_t n, const float *mean,
                              const float *sd, const cm_home_params *p, const float *q)
{
    double *d = malloc(n * sizeof *d);
    size_t *ix = malloc(n * sizeof *ix);
    for (size_t i = 0; i < n; i++) {
        double s2 = 0;
        for (size_t j = 0; j < CM_WF_DIM; j++) {
            double a = ((double)q[j] - mean[j]) / sd[j], b = ((double)x[i * CM_WF_DIM + j] - mean[j]) / sd[j];
            s2 += (a - b) * (a - b);
        }
        d[i] = sqrt(s2 / CM_WF_DIM);
        ix[i] = i;
    }
    for (size_t i = 1; i < n; i++) /* stable insertion sort by distance */
        for (size_t j = i; j > 0 && d[ix[j - 1]] > d[ix[j]]; j--) {
            size_t t = ix[j];
            ix[j] = ix[j - 1], ix[j - 1] = t;
        }
    double vote = 0;
    for (size_t q2 = 0; q2 < p->k && q2 < n; q2++) {
        double di = d[ix[q2]];
        if (di >= p->radius) break;
        if (!y[ix[q2]]) vote -= 1.0 - di / p->radius;
    }
    free(d), free(ix);
    return p->gain * vote / p->k;
}

START_TEST(shift_matches_definition)
{
    static float x[N_EX * CM_WF_DIM], q[CM_WF_DIM], mean[CM_WF_DIM], sd[CM_WF_DIM];
    static uint8_t y[N_EX];
    uint64_t s = tu_seed() + (uint64_t)_i;
    examples(s, x, y, N_EX);
    for (size_t j = 0; j < CM_WF_DIM; j++) mean[j] = (float)tu_gauss(&s), sd[j] = (float)(1 + tu_uniform(&s));
    cm_home_params p = {1u + (unsigned)(_i % CM_HOME_MAX_K), (float)(0.6 + 0.3 * (_i % 4)), 4.f};
    cm_home *h = NULL;
    cm_diag why;
    ck_assert_msg(cm_home_create(&p, mean, sd, x, y, N_EX, &h, &why) == CM_OK, "%s", why.msg);
    int nonzero = 0;
    for (int t = 0; t < 40; t++) {
        /* Queries near an example (so that some neighbours are within the radius). */
        size_t e = tu_rand(&s) % N_EX;
        for (size_t j = 0; j < CM_WF_DIM; j++)
            q[j] = x[e * CM_WF_DIM + j] + (float)(0.4 * tu_gauss(&s)) * sd[j];
        double ref = reference_shift(x, y, N_EX, mean, sd, &p, q);
        float got = cm_home_shift(h, q);
        ck_assert_msg(fabs(got - ref) <= 1e-4 * (1 + fabs(ref)), "query %d: %g vs %g", t,
                      (double)got, ref);
        ck_assert(got <= 0.f && got >= -p.gain);
        nonzero += got != 0.f;
    }
    ck_assert_int_gt(nonzero, 0);
    cm_home_free(h);
}
END_TEST

START_TEST(local_and_one_sided)
{
    static float x[4 * CM_WF_DIM], q[CM_WF_DIM];
    uint8_t y[4] = {0, 0, 0, 1};
    /* Unit scale; three not-crying examples at the origin, one crying at 10. */
    static float mean[CM_WF_DIM], sd[CM_WF_DIM];
    for (size_t j = 0; j < CM_WF_DIM; j++) sd[j] = 1.f, x[3 * CM_WF_DIM + j] = 10.f;
    cm_home_params p = {4, 1.f, 6.f};
    cm_home *h = NULL;
    cm_diag why;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, x, y, 4, &h, &why), CM_OK);
    /* At the not-crying examples: all three count fully, -6 * 3 / 4. */
    memset(q, 0, sizeof q);
    ck_assert_float_eq_tol(cm_home_shift(h, q), -4.5f, 1e-6f);
    /* At distance 0.5 (RMS) from them: weights 0.5. */
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 0.5f;
    ck_assert_float_eq_tol(cm_home_shift(h, q), -2.25f, 1e-5f);
    /* Beyond the radius: nothing. At the crying example: nothing either (one-sided). */
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 1.01f;
    ck_assert(cm_home_shift(h, q) == 0.f);
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 10.f;
    ck_assert(cm_home_shift(h, q) == 0.f);
    /* A NaN feature matches nothing. */
    memset(q, 0, sizeof q);
    q[3] = NAN;
    ck_assert(cm_home_shift(h, q) == 0.f);

    /* Probabilities: cry log-odds down by 4.5, the rest keeps its 1:3 ratio. */
    memset(q, 0, sizeof q);
    float pr[CM_N_CLASSES] = {0.1f, 0.3f, 0.6f, 0.f};
    cm_home_apply(h, q, pr);
    double lo = log(0.6 / 0.4) - 4.5, c = 1 / (1 + exp(-lo));
    ck_assert_float_eq_tol(pr[CM_CLASS_CRY], (float)c, 1e-6f);
    ck_assert_float_eq_tol(pr[CM_CLASS_BACKGROUND], (float)((1 - c) * 0.25), 1e-6f);
    ck_assert_float_eq_tol(pr[CM_CLASS_VOCAL], (float)((1 - c) * 0.75), 1e-6f);
    ck_assert(pr[CM_CLASS_SOB] == 0.f);
    /* No shift: p untouched, bit for bit. */
    for (size_t j = 0; j < CM_WF_DIM; j++) q[j] = 5.f;
    float p2[CM_N_CLASSES] = {0.2f, 0.3f, 0.5f, 0.f};
    cm_home_apply(h, q, p2);
    ck_assert(p2[0] == 0.2f && p2[1] == 0.3f && p2[2] == 0.5f);
    cm_home_free(h);
}
END_TEST

START_TEST(create_refuses)
{
    static float x[2 * CM_WF_DIM], sd[CM_WF_DIM], mean[CM_WF_DIM];
    uint8_t y[2] = {0, 1};
    for (size_t j = 0; j < CM_WF_DIM; j++) sd[j] = 1.f;
    cm_home *h = (cm_home *)1;
    cm_diag why;
    cm_home_params bad[] = {{0, 1.f, 1.f}, {CM_HOME_MAX_K + 1, 1.f, 1.f}, {4, 0.f, 1.f},
                            {4, NAN, 1.f}, {4, 1.f, -1.f}, {4, 1.f, CM_HOME_MAX_GAIN + 1}};
    const char *field[] = {"home.k", "home.k", "home.radius", "home.radius", "home.gain",
                           "home.gain"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(cm_home_create(&bad[i], mean, sd, x, y, 2, &h, &why), CM_E_RANGE);
        ck_assert_ptr_null(h);
        ck_assert_msg(strstr(why.msg, field[i]), "%s", why.msg);
    }
    cm_home_params p = {4, 1.f, 1.f};
    ck_assert_int_eq(cm_home_create(&p, mean, sd, x, y, 0, &h, &why), CM_E_RANGE);
    x[CM_WF_DIM + 5] = INFINITY;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, x, y, 2, &h, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "examples[1][5]"), "%s", why.msg);
    x[CM_WF_DIM + 5] = 0.f;
    sd[7] = 0.f;
    ck_assert_int_eq(cm_home_create(&p, mean, sd, x, y, 2, &h, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "std[7]"), "%s", why.msg);
    /* Own scale: a constant feature gets std 1, not a division by zero. */
    ck_assert_int_eq(cm_home_create(&p, NULL, NULL, x, y, 2, &h, &why), CM_OK);
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
    cm_home_params p = {8, 1.25f, 4.f};
    cm_home *h = NULL;
    ck_assert_int_eq(cm_home_create(&p, NULL, NULL, x, y, N_EX, &h, &why), CM_OK);
    ck_assert_int_eq(cm_model_set_home(m, h, &why), CM_OK);
    cm_home_free(h);
    return m;
}

START_TEST(model_round_trip)
{
    cm_model *m = model_with_home();
    char *js = cm_model_to_json(m);
    ck_assert_ptr_nonnull(strstr(js, "\"home\""));
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
    float far[CM_WF_DIM];
    for (size_t j = 0; j < CM_WF_DIM; j++) far[j] = e[j] + 100.f * cm_home_std(h)[j];
    cm_model_score_clip(b, far, &peak, NULL, 1, pa);
    cm_model_score_clip(plain, far, &peak, NULL, 1, pb);
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
    {"\"home\":\t{\n\t\t\"version\":\t1", "\"home\":\t{\n\t\t\"version\":\t2", "home.version=2"},
    {"\"feature_version\":\t1", "\"feature_version\":\t9", "home.feature_version=9"},
    {"\"k\":\t8", "\"k\":\t0", "home.k"},
    {"\"radius\":\t1.25", "\"radius\":\t-1", "home.radius"},
    {"\"gain\":\t4", "\"gain\":\t400", "home.gain"},
    {"\"cry\":\t[1, 0", "\"cry\":\t[7, 0", "home.cry[0]"},
    {"\"cry\":\t[1, 0", "\"cry\":\t[0", "home.cry: 299 values"},
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
    tcase_add_loop_test(tc, shift_matches_definition, 0, 16);
    tcase_add_test(tc, local_and_one_sided);
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
