/* SPDX-License-Identifier: MIT */
/* Training determinism and threshold choice on a hand-made score list. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/learn/train.h"
#include "testutil.h"

/* Three Gaussian blobs in feature space, one per class (seeded). */
static void make_data(size_t n, float *x, uint8_t *y, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % 3);
        for (unsigned j = 0; j < CM_WF_DIM; j++)
            x[i * CM_WF_DIM + j] = (float)(tu_gauss(&s) + (j % 3 == y[i] ? 2.0 : 0.0));
    }
}

static cm_net *train(const float *x, const uint8_t *y, size_t n, uint64_t seed, unsigned hidden)
{
    cm_train_set set = {n, x, y, NULL};
    cm_train_config cfg = cm_train_config_default();
    cfg.n_hidden = hidden;
    cfg.epochs = 40;
    cfg.seed = seed;
    cm_net *net = NULL;
    cm_diag why;
    ck_assert_int_eq(cm_train(&set, &cfg, &net, &why), CM_OK);
    return net;
}

static int same(const cm_net *a, const cm_net *b)
{
    size_t last = a->n_hidden ? a->n_hidden : a->n_in;
    return a->n_hidden == b->n_hidden &&
           !memcmp(a->w2, b->w2, CM_NET_CLASSES * last * sizeof(float)) &&
           !memcmp(a->b2, b->b2, CM_NET_CLASSES * sizeof(float)) &&
           (!a->n_hidden || (!memcmp(a->w1, b->w1, a->n_hidden * a->n_in * sizeof(float)) &&
                             !memcmp(a->b1, b->b1, a->n_hidden * sizeof(float))));
}

START_TEST(deterministic)
{
    const size_t n = 600;
    float *x = malloc(n * CM_WF_DIM * sizeof *x);
    uint8_t *y = malloc(n);
    make_data(n, x, y, tu_seed());
    cm_net *a = train(x, y, n, 7, 8), *b = train(x, y, n, 7, 8), *c = train(x, y, n, 8, 8);
    ck_assert_msg(same(a, b), "same seed, same data: weights differ");
    ck_assert_msg(!same(a, c), "different seeds gave identical weights");
    /* It also learns: training accuracy on separable blobs. */
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        float p[CM_NET_CLASSES];
        cm_net_forward(a, x + i * CM_WF_DIM, p);
        unsigned best = 0;
        for (unsigned k = 1; k < CM_NET_CLASSES; k++)
            if (p[k] > p[best]) best = k;
        ok += best == y[i];
    }
    ck_assert_msg(ok > n * 95 / 100, "accuracy %zu/%zu", ok, n);
    cm_net *l1 = train(x, y, n, 3, 0), *l2 = train(x, y, n, 3, 0);
    ck_assert(same(l1, l2));
    cm_net_free(a), cm_net_free(b), cm_net_free(c), cm_net_free(l1), cm_net_free(l2);
    free(x), free(y);
}
END_TEST

START_TEST(bad_config)
{
    float x[2 * CM_WF_DIM] = {0};
    uint8_t y[2] = {0, 5};
    cm_train_set set = {2, x, y, NULL};
    cm_train_config cfg = cm_train_config_default();
    cm_net *net = (cm_net *)1;
    cm_diag why;
    ck_assert_int_eq(cm_train(&set, &cfg, &net, &why), CM_E_RANGE);
    ck_assert_ptr_null(net);
    ck_assert(strstr(why.msg, "example 1") != NULL);
    y[1] = 1;
    cfg.epochs = 0;
    ck_assert_int_eq(cm_train(&set, &cfg, &net, &why), CM_E_RANGE);
}
END_TEST

START_TEST(threshold_choice)
{
    /* F1 by cut: 0.9: 0.5; 0.8: 0.8; 0.7: 0.667; 0.6: 0.857 (best); 0.3: 0.75; 0.2: 0.667. */
    float s[] = {0.3f, 0.9f, 0.6f, 0.2f, 0.8f, 0.7f};
    uint8_t y[] = {0, 1, 1, 0, 1, 0};
    float thr;
    double p, r, f;
    ck_assert_int_eq(cm_choose_threshold(s, y, 6, 0, &thr, &p, &r, &f), CM_OK);
    ck_assert_float_eq_tol(thr, 0.45f, 1e-6f); /* midway between 0.6 and 0.3 */
    ck_assert_double_eq_tol(p, 0.75, 1e-12);
    ck_assert_double_eq_tol(r, 1.0, 1e-12);
    ck_assert_double_eq_tol(f, 6.0 / 7.0, 1e-12);
    /* Precision >= 0.9: best recall is 2/3 at the 0.8 cut. */
    ck_assert_int_eq(cm_choose_threshold(s, y, 6, 0.9, &thr, &p, &r, &f), CM_OK);
    ck_assert_float_eq_tol(thr, 0.75f, 1e-6f);
    ck_assert_double_eq_tol(p, 1.0, 1e-12);
    ck_assert_double_eq_tol(r, 2.0 / 3.0, 1e-12);
    /* Unreachable precision: CM_E_RANGE, and the F1-best threshold. */
    float s2[] = {0.9f, 0.8f};
    uint8_t y2[] = {0, 1};
    ck_assert_int_eq(cm_choose_threshold(s2, y2, 2, 0.9, &thr, &p, &r, &f), CM_E_RANGE);
    ck_assert_float_eq_tol(thr, 0.8f, 1e-6f);
    /* No positive at all. */
    uint8_t y3[] = {0, 0};
    ck_assert_int_eq(cm_choose_threshold(s2, y3, 2, 0, &thr, &p, &r, &f), CM_E_INVAL);
    /* F1 slack: the highest cut within 0.06 of the best (0.857) is 0.8 (F1 0.8): threshold
     * midway between 0.8 and 0.7; slack 0 is the F1-best. */
    ck_assert_int_eq(cm_choose_threshold_slack(s, y, 6, 0.06, &thr, &p, &r, &f), CM_OK);
    ck_assert_float_eq_tol(thr, 0.75f, 1e-6f);
    ck_assert_double_eq_tol(f, 0.8, 1e-12);
    ck_assert_int_eq(cm_choose_threshold_slack(s, y, 6, 0, &thr, &p, &r, &f), CM_OK);
    ck_assert_float_eq_tol(thr, 0.45f, 1e-6f);
    /* Hard negatives: a second run, still deterministic; the factor is range-checked. */
    {
        const size_t n = 300;
        float *x = malloc(n * CM_WF_DIM * sizeof *x);
        uint8_t *yy = malloc(n);
        make_data(n, x, yy, tu_seed());
        cm_train_set set = {n, x, yy, NULL};
        cm_train_config cfg = cm_train_config_default();
        cfg.n_hidden = 4, cfg.epochs = 3, cfg.hard_negative = 2.f;
        cm_net *a = NULL, *b = NULL;
        cm_diag why;
        ck_assert_int_eq(cm_train(&set, &cfg, &a, &why), CM_OK);
        ck_assert_int_eq(cm_train(&set, &cfg, &b, &why), CM_OK);
        ck_assert(same(a, b));
        cm_net_free(b);
        cfg.hard_negative = 0.f;
        ck_assert_int_eq(cm_train(&set, &cfg, &b, &why), CM_OK);
        ck_assert(!same(a, b));
        cm_net_free(a), cm_net_free(b);
        cfg.hard_negative = -1.f;
        ck_assert_int_eq(cm_train(&set, &cfg, &a, &why), CM_E_RANGE);
        free(x), free(yy);
    }
}
END_TEST

START_TEST(mixture)
{
    /* A 10 s bed of unit-variance noise and two items: SNRs land where asked and events
     * point at the items' active parts. */
    const unsigned rate = 16000;
    const size_t nb = 10 * rate, ni = rate;
    float *bed = malloc(nb * sizeof *bed), *out = malloc(nb * sizeof *out);
    float *it = calloc(ni, sizeof *it);
    uint64_t s = tu_seed();
    for (size_t i = 0; i < nb; i++) bed[i] = (float)(0.01 * tu_gauss(&s));
    tu_sine(it + rate / 4, rate / 2, rate, 440.0, 0.5, 0.0); /* active 0.25..0.75 s */
    cm_mix_item items[2] = {{it, ni, 1}, {it, ni, 2}};
    cm_mix_config cfg = {rate, 10.0, 10.0, 1.0, 1.0, 42};
    cm_mix_event ev[4];
    size_t ne = 0;
    cm_diag why;
    ck_assert_int_eq(cm_mix_generate(&cfg, bed, nb, items, 2, out, ev, 4, &ne, &why), CM_OK);
    ck_assert_uint_eq(ne, 2);
    ck_assert_double_eq_tol(ev[0].start_s, 1.25, 0.011); /* gap 1 s + 0.25 s lead */
    ck_assert_double_eq_tol(ev[0].end_s - ev[0].start_s, 0.5, 0.011);
    ck_assert_int_eq(ev[1].label, 2);
    /* Measured SNR over the event: item power / bed power. */
    size_t a = (size_t)(ev[0].start_s * rate), b = (size_t)(ev[0].end_s * rate);
    double pi = 0, pb = 0;
    for (size_t i = a; i < b; i++) {
        double d = out[i] - bed[i];
        pi += d * d;
        pb += (double)bed[i] * bed[i];
    }
    ck_assert_double_eq_tol(10 * log10(pi / pb), 10.0, 0.2);
    /* Deterministic. */
    float *out2 = malloc(nb * sizeof *out2);
    ck_assert_int_eq(cm_mix_generate(&cfg, bed, nb, items, 2, out2, ev, 4, &ne, &why), CM_OK);
    ck_assert(!memcmp(out, out2, nb * sizeof *out));
    cfg.snr_min_db = 30, cfg.snr_max_db = 20;
    ck_assert_int_eq(cm_mix_generate(&cfg, bed, nb, items, 2, out2, ev, 4, &ne, &why), CM_E_RANGE);
    free(bed), free(out), free(out2), free(it);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, bad_config);
    tcase_add_test(tc, threshold_choice);
    tcase_add_test(tc, mixture);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
