/* SPDX-License-Identifier: MIT */
/* Check suite for featpath.h, the analyzer's path from decoded audio to frames that the
 * learning code shares: cleaning (NaN, Inf and over-range samples to 0, counted), the channel
 * mean, cm_fpath_push in random block sizes bit-identical to the channel mean resampled
 * whole, cm_fpath_frames identical to cm_front fed in chunks, and the API. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/featpath.h"
#include "crymeter/resample.h"
#include "testutil.h"

START_TEST(test_clean)
{
    float x[6] = {0.5f, NAN, -INFINITY, 70000.0f, -2.0f, -65536.0f};
    uint64_t nf = 1, orr = 2; /* added to, not reset */
    float peak = cm_fpath_clean(x, 6, &nf, &orr);
    ck_assert_uint_eq(nf, 3);
    ck_assert_uint_eq(orr, 3);
    const float want[6] = {0.5f, 0.0f, 0.0f, 0.0f, -2.0f, -65536.0f}; /* the limit itself stays */
    ck_assert_mem_eq(x, want, sizeof want);
    ck_assert_float_eq(peak, 65536.0f);
    float y[2] = {0.25f, -0.75f};
    ck_assert_float_eq(cm_fpath_clean(y, 2, NULL, NULL), 0.75f); /* nothing to clean */
    ck_assert_float_eq(cm_fpath_clean(y, 0, NULL, NULL), 0.0f);
}
END_TEST

START_TEST(test_mono)
{
    const float x[6] = {1.0f, 3.0f, -1.0f, 0.5f, 2.0f, 4.0f};
    float out[6];
    ck_assert_ptr_eq(cm_fpath_mono(x, 6, 1, out), x);
    const float *m = cm_fpath_mono(x, 3, 2, out);
    ck_assert_ptr_eq(m, out);
    ck_assert_float_eq(m[0], 2.0f);
    ck_assert_float_eq(m[1], -0.25f);
    ck_assert_float_eq(m[2], 3.0f);
    m = cm_fpath_mono(x, 2, 3, out); /* (1 + 3 - 1) / 3, (0.5 + 2 + 4) / 3 */
    ck_assert_float_eq_tol(m[0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(m[1], 6.5f / 3.0f, 1e-6f);
}
END_TEST

/* Stereo 44.1 kHz noise with a few bad samples, pushed in random blocks, must give the same
 * 8 kHz samples, bit for bit, as cleaning it, taking the channel mean and resampling it
 * whole with cm_rs. */
START_TEST(test_push_whole)
{
    const unsigned rate = 44100, ch = 2;
    const size_t n = 3 * rate + 123, max_block = 4410;
    uint64_t st = tu_seed() ^ 0x5EEDu;
    float *x = malloc(n * ch * sizeof *x), *ref_in = malloc(n * ch * sizeof *x);
    for (size_t i = 0; i < n * ch; i++) x[i] = (float)(0.3 * tu_gauss(&st));
    x[17] = NAN, x[5000] = 1e30f, x[n * ch - 1] = INFINITY;
    memcpy(ref_in, x, n * ch * sizeof *x);

    /* reference: whole signal */
    float *mono_buf = malloc(n * sizeof *mono_buf);
    cm_fpath_clean(ref_in, n * ch, NULL, NULL);
    const float *mono = cm_fpath_mono(ref_in, n, ch, mono_buf);
    cm_rs *rs = NULL;
    ck_assert_int_eq(cm_rs_create(rate, CM_FRONT_RATE_HZ, &rs, NULL), CM_OK);
    size_t cap = cm_rs_out_for(rs, n) + cm_rs_out_for(rs, 0), a = 0, b = 0;
    float *ref = malloc(cap * sizeof *ref);
    ck_assert_int_eq(cm_rs_process(rs, mono, n, ref, cap, &a), CM_OK);
    ck_assert_int_eq(cm_rs_flush(rs, ref + a, cap - a, &b), CM_OK);
    cm_rs_destroy(rs);

    cm_fpath *p = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_fpath_create(rate, ch, max_block, &p, &why) == CM_OK, "%s", why.msg);
    float *y = malloc(cap * sizeof *y);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t c = 1 + (size_t)(tu_uniform(&st) * (double)max_block);
        if (c > n - i) c = n - i;
        size_t need = cm_fpath_out_for(p, c), got = 0;
        float *grow = realloc(y, (o + need + cm_fpath_out_for(p, 0)) * sizeof *y);
        ck_assert_ptr_nonnull(grow);
        y = grow;
        ck_assert_int_eq(cm_fpath_push(p, x + i * ch, c, y + o, need, &got), CM_OK);
        o += got;
        i += c;
    }
    size_t got = 0;
    ck_assert_int_eq(cm_fpath_flush(p, y + o, cm_fpath_out_for(p, 0), &got), CM_OK);
    o += got;
    ck_assert_uint_eq(o, a + b);
    ck_assert_mem_eq(y, ref, o * sizeof *y);
    /* a block longer than promised is refused whole */
    ck_assert_int_eq(cm_fpath_push(p, x, max_block + 1, y, cap, &got), CM_E_RANGE);
    ck_assert_uint_eq(got, 0);
    cm_fpath_destroy(p);
    free(x), free(ref_in), free(mono_buf), free(ref), free(y);
}
END_TEST

/* cm_fpath_frames on a whole signal equals cm_front fed in 10 ms chunks and flushed. */
START_TEST(test_frames)
{
    const size_t n = 2 * CM_FRONT_RATE_HZ + 77;
    float *x = malloc(n * sizeof *x);
    tu_sine(x, n, CM_FRONT_RATE_HZ, 440.0, 0.1, 0.0);
    cm_front_config fc = cm_front_config_default();
    cm_frame *fr = NULL;
    size_t nfr = 0;
    cm_diag why = {{0}};
    ck_assert_msg(cm_fpath_frames(&fc, x, n, &fr, &nfr, &why) == CM_OK, "%s", why.msg);

    cm_front *f = NULL;
    ck_assert_int_eq(cm_front_create(&fc, &f, NULL), CM_OK);
    size_t cap = cm_front_frames_for(f, n) + cm_front_frames_for(f, 0) + 8, k = 0;
    cm_frame *ref = malloc(cap * sizeof *ref);
    for (size_t i = 0; i < n; i += 80) {
        size_t c = n - i < 80 ? n - i : 80, got = 0;
        ck_assert_int_eq(cm_front_process(f, x + i, c, ref + k, cap - k, &got), CM_OK);
        k += got;
    }
    size_t got = 0;
    ck_assert_int_eq(cm_front_flush(f, ref + k, cap - k, &got), CM_OK);
    k += got;
    cm_front_destroy(f);
    ck_assert_uint_eq(nfr, k);
    ck_assert_mem_eq(fr, ref, k * sizeof *fr);
    free(fr), free(ref);

    /* an empty signal has no frames but a buffer to free */
    ck_assert_int_eq(cm_fpath_frames(&fc, x, 0, &fr, &nfr, &why), CM_OK);
    ck_assert_ptr_nonnull(fr);
    free(fr);
    /* a bad config fails with the front end's message and NULL out */
    fc.n_mel = 0;
    ck_assert_int_ne(cm_fpath_frames(&fc, x, n, &fr, &nfr, &why), CM_OK);
    ck_assert_ptr_null(fr);
    ck_assert_uint_eq(nfr, 0);
    free(x);
}
END_TEST

typedef struct {
    unsigned rate, ch;
    size_t max_block;
    cm_status expect;
} api_case;

static const api_case api_cases[] = {
    {16000, 1, 1600, CM_OK},       {8000, 64, 1, CM_OK},        {192000, 2, 19201, CM_OK},
    {7999, 1, 1600, CM_E_RANGE},   {192001, 1, 1600, CM_E_RANGE}, {16000, 0, 1600, CM_E_RANGE},
    {16000, 65, 1600, CM_E_RANGE}, {16000, 1, 0, CM_E_RANGE},
};

START_TEST(test_api)
{
    const api_case *c = &api_cases[_i];
    cm_fpath *p = (cm_fpath *)&p; /* garbage: create must reset it */
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_fpath_create(c->rate, c->ch, c->max_block, &p, &why), c->expect);
    if (c->expect == CM_OK) {
        ck_assert_ptr_nonnull(p);
    } else {
        ck_assert_ptr_null(p);
        ck_assert_msg(why.msg[0] != 0, "no message for case %d", _i);
    }
    cm_fpath_destroy(p);
    cm_fpath_destroy(NULL);
}
END_TEST

static Suite *featpath_suite(void)
{
    Suite *s = suite_create("featpath");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_clean);
    tcase_add_test(t, test_mono);
    tcase_add_test(t, test_push_whole);
    tcase_add_test(t, test_frames);
    tcase_add_loop_test(t, test_api, 0, (int)(sizeof api_cases / sizeof *api_cases));
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    tu_seed();
    SRunner *r = srunner_create(featpath_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
