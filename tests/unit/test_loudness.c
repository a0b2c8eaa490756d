/* SPDX-License-Identifier: MIT */
/* Check suite for cm_loud: the EBU Tech 3341 (loudness, true peak) and Tech 3342 (loudness
 * range) test signals generated here from their published definitions, an analytic 1 kHz sine,
 * silence, the API's range checks, and agreement with ffmpeg's ebur128 filter on a
 * speech-like signal written to disk. Expected values are the published ones; tolerances are
 * the published ones unless a comment says otherwise. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebur128.h>
#include <sndfile.h>

#include "crymeter/loudness.h"
#include "testutil.h"

#define FS 48000u

/* Appends seconds of a 1 kHz sine at peak level dbfs on every channel of an interleaved buffer
 * (phase continuous, as the EBU signals are one generator switched in level). */
typedef struct {
    float *x;
    size_t n, cap;
    unsigned ch;
    double phase;
} sig;

static void sig_init(sig *s, unsigned ch, double max_s)
{
    s->ch = ch;
    s->n = 0;
    s->cap = (size_t)(max_s * FS) + 16;
    s->x = calloc(s->cap * ch, sizeof *s->x);
    s->phase = 0.0;
    ck_assert_ptr_nonnull(s->x);
}

static void sig_tone(sig *s, double seconds, const double *dbfs_per_ch)
{
    size_t n = (size_t)llround(seconds * FS);
    ck_assert_uint_le(s->n + n, s->cap);
    for (size_t i = 0; i < n; i++) {
        double v = sin(s->phase);
        s->phase += 2.0 * M_PI * 1000.0 / FS;
        for (unsigned c = 0; c < s->ch; c++)
            s->x[(s->n + i) * s->ch + c] = (float)(pow(10.0, dbfs_per_ch[c] / 20.0) * v);
    }
    s->n += n;
}

static void sig_tone_all(sig *s, double seconds, double dbfs)
{
    double lv[8];
    for (unsigned c = 0; c < s->ch; c++) lv[c] = dbfs;
    sig_tone(s, seconds, lv);
}

static cm_loud *meter(unsigned rate, unsigned ch, int tp)
{
    cm_loud *l = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_loud_create(rate, ch, tp, &l, &why), CM_OK);
    ck_assert_ptr_nonnull(l);
    return l;
}

/* ---- 1 kHz sine, analytic ---------------------------------------------------------------- */

/* |H_K(1 kHz)| of the BS.1770-4 K-weighting filter, from its published 48 kHz coefficients. */
static double k_gain_db_1k(void)
{
    static const double b1[3] = {1.53512485958697, -2.69169618940638, 1.19839281085285};
    static const double a1[3] = {1.0, -1.69065929318241, 0.73248077421585};
    static const double b2[3] = {1.0, -2.0, 1.0};
    static const double a2[3] = {1.0, -1.99004745483398, 0.99007225036621};
    double w = 2.0 * M_PI * 1000.0 / 48000.0, g = 1.0;
    const double *bs[2] = {b1, b2}, *as[2] = {a1, a2};
    for (int k = 0; k < 2; k++) {
        double nr = 0, ni = 0, dr = 0, di = 0;
        for (int i = 0; i < 3; i++) {
            nr += bs[k][i] * cos(w * i), ni -= bs[k][i] * sin(w * i);
            dr += as[k][i] * cos(w * i), di -= as[k][i] * sin(w * i);
        }
        g *= sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
    }
    return 20.0 * log10(g);
}

static const double sine_peak_dbfs[] = {-20.0, -6.0, -40.0, -3.0103};

START_TEST(test_sine_1k)
{
    double peak_db = sine_peak_dbfs[_i], a = pow(10.0, peak_db / 20.0);
    size_t n = 10 * FS;
    float *x = malloc(n * sizeof *x);
    /* 48 samples per period, so sample 12 is exactly the crest. */
    tu_sine(x, n, FS, 1000.0, a, 0.0);
    cm_loud *l = meter(FS, 1, 0);
    ck_assert_int_eq(cm_loud_add(l, x, n), CM_OK);
    double kg = k_gain_db_1k();
    ck_assert_double_eq_tol(kg, 0.691, 0.01); /* BS.1770 chose -0.691 to cancel this gain */
    double expect = -0.691 + 10.0 * log10(a * a / 2.0) + kg;
    /* Float rounding of the samples: < 1e-6 dB. */
    ck_assert_double_eq_tol(cm_loud_sample_peak_dbfs(l), peak_db, 1e-4);
    /* Momentary is not binned: libebur128's filter, designed for 48 kHz from the analog
     * prototype, is within 0.01 dB of the published coefficients at 1 kHz. */
    ck_assert_double_eq_tol(cm_loud_momentary_lufs(l), expect, 0.01);
    ck_assert_double_eq_tol(cm_loud_shortterm_lufs(l), expect, 0.01);
    /* Integrated uses histogram bins 0.1 LU wide: up to 0.05 LU from the bin centre. */
    ck_assert_double_eq_tol(cm_loud_integrated_lufs(l), expect, 0.06);
    ck_assert(isnan(cm_loud_true_peak_dbtp(l))); /* true peak off */
    cm_loud_destroy(l);
    free(x);
}
END_TEST

/* ---- EBU Tech 3341 (2016) ---------------------------------------------------------------- */

/* Cases 1-5: stereo 1 kHz; the level steps in dBFS (peak) with their durations. */
typedef struct {
    const char *name;
    int n_steps;
    double sec[5], dbfs[5];
    double expect_i;
} ebu_i_case;

static const ebu_i_case ebu_i_cases[] = {
    {"3341 case 1", 1, {20}, {-23}, -23.0},
    {"3341 case 2", 1, {20}, {-33}, -33.0},
    {"3341 case 3", 3, {10, 60, 10}, {-36, -23, -36}, -23.0},
    {"3341 case 4", 5, {10, 10, 60, 10, 10}, {-72, -36, -23, -36, -72}, -23.0},
    {"3341 case 5", 3, {20, 20.1, 20}, {-26, -20, -26}, -23.0},
};

START_TEST(test_ebu3341_integrated)
{
    const ebu_i_case *c = &ebu_i_cases[_i];
    sig s;
    sig_init(&s, 2, 101);
    for (int k = 0; k < c->n_steps; k++) sig_tone_all(&s, c->sec[k], c->dbfs[k]);
    cm_loud *l = meter(FS, 2, 0);
    ck_assert_int_eq(cm_loud_add(l, s.x, s.n), CM_OK);
    /* Tech 3341 tolerance: +-0.1 LU. */
    double v = cm_loud_integrated_lufs(l);
    if (fabs(v - c->expect_i) > 0.1) fprintf(stderr, "%s: I=%.3f\n", c->name, v);
    ck_assert_double_eq_tol(v, c->expect_i, 0.1);
    if (c->n_steps == 1) { /* steady tone: M and S equal I (cases 1-2 list all three) */
        ck_assert_double_eq_tol(cm_loud_momentary_lufs(l), c->expect_i, 0.1);
        ck_assert_double_eq_tol(cm_loud_shortterm_lufs(l), c->expect_i, 0.1);
    }
    cm_loud_destroy(l);
    free(s.x);
}
END_TEST

/* Case 6: 5.0 channels L R C Ls Rs at -28 -28 -24 -30 -30 dBFS, 20 s -> -23.0 +-0.1. Checks the
 * 5-channel map (surround +1.5 dB). */
START_TEST(test_ebu3341_case6_5ch)
{
    sig s;
    sig_init(&s, 5, 21);
    static const double lv[5] = {-28, -28, -24, -30, -30};
    sig_tone(&s, 20, lv);
    cm_loud *l = meter(FS, 5, 0);
    ck_assert_int_eq(cm_loud_add(l, s.x, s.n), CM_OK);
    ck_assert_double_eq_tol(cm_loud_integrated_lufs(l), -23.0, 0.1);
    cm_loud_destroy(l);
    free(s.x);
}
END_TEST

/* Cases 8 and 9: a 1 kHz stereo tone alternating between -20 and -30 dBFS with a period equal
 * to the momentary (0.4 s: 0.18 s / 0.22 s) or short-term (3 s: 1.34 s / 1.66 s) window, so
 * that window always holds the same energy: M (resp. S) is -23.0 +-0.1 at every instant once
 * the window is full. We read it every 100 ms, as the analyzer does, and also check its max. */
typedef struct {
    double hi_s, lo_s, settle_s;
    int shortterm;
} ebu_alt_case;

static const ebu_alt_case ebu_alt_cases[] = {
    {0.18, 0.22, 1.0, 0}, /* case 8 */
    {1.34, 1.66, 3.0, 1}, /* case 9 */
};

START_TEST(test_ebu3341_alternating)
{
    const ebu_alt_case *c = &ebu_alt_cases[_i];
    sig s;
    sig_init(&s, 2, 62);
    while ((double)s.n / FS < 60.0 - (c->hi_s + c->lo_s)) {
        sig_tone_all(&s, c->hi_s, -20);
        sig_tone_all(&s, c->lo_s, -30);
    }
    cm_loud *l = meter(FS, 2, 0);
    size_t hop = FS / 10;
    double vmax = -INFINITY;
    for (size_t p = 0; p + hop <= s.n; p += hop) {
        ck_assert_int_eq(cm_loud_add(l, s.x + p * 2, hop), CM_OK);
        if ((double)(p + hop) / FS < c->settle_s) continue;
        double v = c->shortterm ? cm_loud_shortterm_lufs(l) : cm_loud_momentary_lufs(l);
        ck_assert_double_eq_tol(v, -23.0, 0.1);
        if (v > vmax) vmax = v;
    }
    ck_assert_double_eq_tol(vmax, -23.0, 0.1);
    cm_loud_destroy(l);
    free(s.x);
}
END_TEST

/* Cases 15-18: stereo sine at fs/4 (12 kHz at 48 kHz), peak 0.5 (-6.02 dBFS), starting phase
 * 0, 45, 60, 67.5 degrees. The samples miss the crest by up to 3 dB (45 degrees: sample peak
 * -9.03 dBFS), the true peak is -6.0 dBTP: tolerance +0.2 / -0.4 dB. */
static const double tp_phase_deg[] = {0.0, 45.0, 60.0, 67.5};

START_TEST(test_ebu3341_true_peak)
{
    double ph = tp_phase_deg[_i] * M_PI / 180.0;
    size_t n = FS * 2;
    float *x = malloc(n * 2 * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[2 * i] = x[2 * i + 1] = (float)(0.5 * sin(2.0 * M_PI * (double)i / 4.0 + ph));
    cm_loud *l = meter(FS, 2, 1);
    ck_assert_int_eq(cm_loud_add(l, x, n), CM_OK);
    double tp = cm_loud_true_peak_dbtp(l);
    ck_assert(tp <= -6.0 + 0.2 && tp >= -6.0 - 0.4);
    /* sample peak: 0.5 * max(|sin(ph + k pi/2)|), exact up to float rounding */
    double sp = 20.0 * log10(0.5 * fmax(fabs(sin(ph)), fabs(cos(ph))));
    ck_assert_double_eq_tol(cm_loud_sample_peak_dbfs(l), sp, 1e-4);
    cm_loud_destroy(l);
    free(x);
}
END_TEST

/* ---- EBU Tech 3342 (2016) LRA cases 1-4, stereo 1 kHz, +-1 LU ------------------------------ */

typedef struct {
    int n_steps;
    double dbfs[5];
    double expect_lra;
} ebu_lra_case;

static const ebu_lra_case ebu_lra_cases[] = {
    {2, {-20, -30}, 10.0},
    {2, {-20, -15}, 5.0},
    {2, {-40, -20}, 20.0},
    {5, {-50, -35, -20, -35, -50}, 15.0},
};

START_TEST(test_ebu3342_lra)
{
    const ebu_lra_case *c = &ebu_lra_cases[_i];
    sig s;
    sig_init(&s, 2, 101);
    for (int k = 0; k < c->n_steps; k++) sig_tone_all(&s, 20.0, c->dbfs[k]);
    cm_loud *l = meter(FS, 2, 0);
    ck_assert_int_eq(cm_loud_add(l, s.x, s.n), CM_OK);
    ck_assert_double_eq_tol(cm_loud_range_lu(l), c->expect_lra, 1.0);
    cm_loud_destroy(l);
    free(s.x);
}
END_TEST

/* ---- silence, chunking, API --------------------------------------------------------------- */

START_TEST(test_silence)
{
    cm_loud *l = meter(16000, 1, 1);
    ck_assert(isinf(cm_loud_momentary_lufs(l)) && cm_loud_momentary_lufs(l) < 0);
    float z[1600] = {0};
    for (int k = 0; k < 50; k++) ck_assert_int_eq(cm_loud_add(l, z, 1600), CM_OK);
    ck_assert(isinf(cm_loud_momentary_lufs(l)) && cm_loud_momentary_lufs(l) < 0);
    ck_assert(isinf(cm_loud_shortterm_lufs(l)) && cm_loud_shortterm_lufs(l) < 0);
    ck_assert(isinf(cm_loud_integrated_lufs(l)) && cm_loud_integrated_lufs(l) < 0);
    ck_assert(isinf(cm_loud_sample_peak_dbfs(l)) && cm_loud_sample_peak_dbfs(l) < 0);
    ck_assert(isinf(cm_loud_true_peak_dbtp(l)) && cm_loud_true_peak_dbtp(l) < 0);
    ck_assert_double_eq(cm_loud_range_lu(l), 0.0);
    ck_assert_int_eq(cm_loud_add(l, z, 0), CM_OK);
    cm_loud_destroy(l);
    cm_loud_destroy(NULL);
    ck_assert(isnan(cm_loud_integrated_lufs(NULL)));
}
END_TEST

/* Same measures whatever the chunking (libebur128 re-blocks internally). */
START_TEST(test_chunking)
{
    uint64_t st = tu_seed();
    size_t n = 44100 * 8;
    float *x = malloc(n * 2 * sizeof *x);
    for (size_t i = 0; i < 2 * n; i++) x[i] = (float)(0.1 * tu_gauss(&st));
    cm_loud *a = meter(44100, 2, 1), *b = meter(44100, 2, 1);
    ck_assert_int_eq(cm_loud_add(a, x, n), CM_OK);
    for (size_t p = 0; p < n;) {
        size_t c = 1 + (size_t)(tu_uniform(&st) * 5000.0);
        if (c > n - p) c = n - p;
        ck_assert_int_eq(cm_loud_add(b, x + 2 * p, c), CM_OK);
        p += c;
    }
    ck_assert_double_eq(cm_loud_integrated_lufs(a), cm_loud_integrated_lufs(b));
    ck_assert_double_eq(cm_loud_range_lu(a), cm_loud_range_lu(b));
    ck_assert_double_eq(cm_loud_true_peak_dbtp(a), cm_loud_true_peak_dbtp(b));
    /* momentary sums the same 400 ms of filtered audio either way; double rounding only */
    ck_assert_double_eq_tol(cm_loud_momentary_lufs(a), cm_loud_momentary_lufs(b), 1e-9);
    cm_loud_destroy(a);
    cm_loud_destroy(b);
    free(x);
}
END_TEST

typedef struct {
    unsigned rate, ch;
    cm_status expect;
    const char *why_has;
} api_case;

static const api_case api_cases[] = {
    {7999, 1, CM_E_RANGE, "rate_hz=7999: must be 8000..192000"},
    {8000, 1, CM_OK, ""},
    {192000, 2, CM_OK, ""},
    {192001, 2, CM_E_RANGE, "rate_hz=192001"},
    {0, 2, CM_E_RANGE, "rate_hz=0"},
    {48000, 0, CM_E_RANGE, "channels=0: must be 1..64"},
    {48000, 64, CM_OK, ""},
    {48000, 65, CM_E_RANGE, "channels=65"},
    {48000, 3, CM_OK, ""},
    {48000, 6, CM_OK, ""},
};

START_TEST(test_api)
{
    const api_case *c = &api_cases[_i];
    cm_loud *l = (cm_loud *)&l; /* garbage: must be overwritten */
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_loud_create(c->rate, c->ch, 0, &l, &why), c->expect);
    if (c->expect == CM_OK) {
        ck_assert_ptr_nonnull(l);
    } else {
        ck_assert_ptr_null(l);
        ck_assert_msg(strstr(why.msg, c->why_has), "why: '%s'", why.msg);
    }
    cm_loud_destroy(l);
}
END_TEST

/* 6 channels: LFE (index 3) is ignored; 4 channels: all weight 1 (not quad surround). */
START_TEST(test_channel_map)
{
    size_t n = FS * 5;
    for (unsigned ch = 3; ch <= 7; ch++) {
        float *x = calloc(n * ch, sizeof *x);
        for (size_t i = 0; i < n; i++)
            for (unsigned c = 0; c < ch; c++)
                x[i * ch + c] = (float)(0.1 * sin(2.0 * M_PI * 1000.0 * (double)i / FS));
        cm_loud *l = meter(FS, ch, 0);
        ck_assert_int_eq(cm_loud_add(l, x, n), CM_OK);
        /* one channel of this tone: -23.01 LUFS (see test_sine_1k); 5 ch: 3 front + 2 x 1.41;
         * 6 ch: LFE dropped, same as 5; others: every channel counts once */
        double one = -0.691 + 10.0 * log10(0.005) + k_gain_db_1k();
        double w = ch == 5 || ch == 6 ? 3.0 + 2.0 * 1.41 : (double)ch;
        ck_assert_double_eq_tol(cm_loud_momentary_lufs(l), one + 10.0 * log10(w), 0.01);
        cm_loud_destroy(l);
        free(x);
    }
}
END_TEST

/* ---- agreement with ffmpeg's ebur128 filter ------------------------------------------------ */

/* Speech-like: noise through a one-pole low-pass (a spectral tilt like speech), modulated at a
 * syllable rate of ~4 Hz, in phrases of 0.5-2.5 s separated by pauses 30 dB down, each phrase
 * at a random level over 20 dB. Channels share the envelope, not the noise. */
static float *speechlike(unsigned rate, unsigned ch, double seconds, uint64_t *st)
{
    size_t n = (size_t)(seconds * rate);
    float *x = malloc(n * ch * sizeof *x);
    double lp[8] = {0}, a = exp(-2.0 * M_PI * 800.0 / rate);
    double t_next = 0.0, gain = 0.1, syl = 4.0;
    int talking = 0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        if (t >= t_next) {
            talking = !talking;
            t_next = t + (talking ? 0.5 + 2.0 * tu_uniform(st) : 0.2 + 0.8 * tu_uniform(st));
            gain = talking ? 0.3 * pow(10.0, -20.0 * tu_uniform(st) / 20.0) : 0.3 * 0.03;
            syl = 3.0 + 3.0 * tu_uniform(st);
        }
        double env = talking ? pow(0.5 + 0.5 * sin(2.0 * M_PI * syl * t), 2.0) : 1.0;
        for (unsigned c = 0; c < ch; c++) {
            lp[c] = a * lp[c] + (1.0 - a) * tu_gauss(st);
            x[i * ch + c] = (float)(gain * env * 4.0 * lp[c]);
        }
    }
    return x;
}

/* Runs the command the issue names, with ebur128's metadata printed to a file for 3 decimals.
 * Returns the summary's I (1 decimal) in *i_summary and the last metadata I in *i_meta. */
static int ffmpeg_integrated(const char *path, double *i_summary, double *i_meta)
{
    const char *meta = tu_path("ffmeta.txt");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -nostats -hide_banner -i '%s' -af "
             "ebur128=metadata=1,ametadata=mode=print:key=lavfi.r128.I:file='%s' -f null - 2>&1",
             path, meta);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[1024];
    int in_summary = 0, got = 0;
    while (fgets(line, sizeof line, p)) {
        if (strstr(line, "Summary:")) in_summary = 1;
        const char *q = strstr(line, "I:");
        if (in_summary && q && sscanf(q, "I: %lf LUFS", i_summary) == 1) got |= 1;
    }
    int rc = pclose(p);
    FILE *m = fopen(meta, "r");
    if (m) {
        while (fgets(line, sizeof line, m))
            if (sscanf(line, "lavfi.r128.I=%lf", i_meta) == 1) got |= 2;
        fclose(m);
    }
    return rc == 0 && got == 3 ? 0 : -1;
}

typedef struct {
    unsigned rate, ch;
} ff_case;

static const ff_case ff_cases[] = {{44100, 2}, {16000, 1}};

START_TEST(test_vs_ffmpeg)
{
    const ff_case *c = &ff_cases[_i];
    uint64_t st = tu_seed() + (uint64_t)_i;
    double sec = 30.0;
    float *x = speechlike(c->rate, c->ch, sec, &st);
    size_t n = (size_t)(sec * c->rate);
    const char *path = tu_path(c->ch == 2 ? "speech441.wav" : "speech16.wav");
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, c->rate, c->ch, x, n), 0);
    cm_loud *l = meter(c->rate, c->ch, 0);
    ck_assert_int_eq(cm_loud_add(l, x, n), CM_OK);
    double ours = cm_loud_integrated_lufs(l), ff_sum = NAN, ff_meta = NAN;
    /* A missing or failing ffmpeg is a failure, never a skip. */
    ck_assert_msg(ffmpeg_integrated(path, &ff_sum, &ff_meta) == 0,
                  "ffmpeg missing or failed on %s", path);
    fprintf(stderr, "%u Hz x%u: ours %.3f LUFS, ffmpeg %.1f (summary) %.3f (metadata)\n",
            c->rate, c->ch, ours, ff_sum, ff_meta);
    ck_assert(isfinite(ours) && ours < -10.0 && ours > -50.0);
    /* The bound, 0.1 LU, against ffmpeg's 3-decimal value; against the 1-decimal
     * summary the display rounding (0.05) is added. */
    ck_assert_double_eq_tol(ours, ff_meta, 0.1);
    ck_assert_double_eq_tol(ours, ff_sum, 0.15);
    cm_loud_destroy(l);
    free(x);
}
END_TEST

/* The skip of blocks that cannot raise the true peak must give exactly what libebur128 gives
 * when it sees every sample. Signals: noise bursts whose level rises and falls over 20 dB
 * (many skipped blocks, loud blocks late), plus sines near fs/4 with phases that put the
 * true peak between samples (up to +3 dB over the sample peak), at rates covering all three
 * oversampling factors, mono to 3 channels, pushed in uneven chunks. */
static const struct { unsigned rate, ch; } tp_skip_cases[] = {
    {16000, 1}, {44100, 2}, {48000, 3}, {96000, 2}, {192000, 1}, {8000, 1},
};

START_TEST(test_true_peak_skip_exact)
{
    const unsigned rate = tp_skip_cases[_i].rate, ch = tp_skip_cases[_i].ch;
    const size_t n = (size_t)rate * 12;
    float *x = malloc(n * ch * sizeof *x);
    ck_assert_ptr_nonnull(x);
    uint64_t seed = tu_seed() + _i;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        /* Level envelope: -30 dB rising to -10 dB at 4 s, down, then a -6 dB inter-sample
         * burst at 9 s and a quieter one after it. */
        double env = pow(10.0, (-30.0 + 20.0 * sin(M_PI * t / 8.0)) / 20.0);
        for (unsigned c = 0; c < ch; c++) {
            double v = env * 0.3 * tu_gauss(&seed);
            if (t > 9.0 && t < 9.3)
                v += 0.5 * sin(2 * M_PI * (rate / 4.0 - 1.0) * t + M_PI / 4 + c);
            if (t > 10.5 && t < 10.6) v += 0.3 * sin(2 * M_PI * rate * 0.2 * t + 0.3);
            x[i * ch + c] = (float)v;
        }
    }
    ebur128_state *ref = ebur128_init(ch, rate, EBUR128_MODE_M | EBUR128_MODE_TRUE_PEAK);
    ck_assert_ptr_nonnull(ref);
    ck_assert_int_eq(ebur128_add_frames_float(ref, x, n), EBUR128_SUCCESS);
    double want = 0.0;
    for (unsigned c = 0; c < ch; c++) {
        double v;
        ck_assert_int_eq(ebur128_true_peak(ref, c, &v), EBUR128_SUCCESS);
        if (v > want) want = v;
    }
    ebur128_destroy(&ref);

    cm_loud *l = NULL;
    ck_assert_int_eq(cm_loud_create(rate, ch, 1, &l, NULL), CM_OK);
    /* 100 ms blocks as the analyzer pushes them, with an odd block now and then. */
    size_t i = 0, k = 0;
    while (i < n) {
        /* odd pushes: sub-blocks cut short and trailing context carried over pushes */
        size_t b = (k % 7 == 3) ? 1234 : (k % 11 == 5) ? 37 : (k % 13 == 6) ? 3 : rate / 10;
        k++;
        if (b > n - i) b = n - i;
        ck_assert_int_eq(cm_loud_add(l, x + i * ch, b), CM_OK);
        i += b;
    }
    double got = cm_loud_true_peak_dbtp(l);
    cm_loud_destroy(l);
    free(x);
    /* Exact: the same interpolated samples are computed in the same context. */
    ck_assert_msg(got == 20.0 * log10(want), "rate %u ch %u: %.9f dBTP vs full run %.9f",
                  rate, ch, got, 20.0 * log10(want));
}
END_TEST

/* cm_loud keeps the energy of each 100 ms tile and answers a momentary query at a tile
 * boundary from the last four; elsewhere (and at rates that are not a multiple of 10 Hz) it
 * asks libebur128. Either way the value must be libebur128's own momentary loudness: compared
 * after every push, from the first (the 400 ms ring starts as silence), through silence
 * (-inf), the ramp out of it and loud passages, pushed in 100 ms blocks and in uneven chunks. */
static const struct { unsigned rate, ch; } mom_cases[] = {
    {44100, 2}, {16000, 1}, {48000, 3}, {11025, 1}, {8000, 1},
};

START_TEST(test_momentary_tiles)
{
    const unsigned rate = mom_cases[_i].rate, ch = mom_cases[_i].ch;
    const size_t n = (size_t)rate * 6;
    float *x = malloc(n * ch * sizeof *x);
    ck_assert_ptr_nonnull(x);
    uint64_t seed = tu_seed() + 100 + _i;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        /* 1 s of silence first (a filter that has only seen zeros gives -inf), then a 40 dB
         * swing */
        double g = t < 1.0 ? 0.0 : pow(10.0, (-45.0 + 40.0 * fabs(sin(t))) / 20.0);
        for (unsigned c = 0; c < ch; c++) x[i * ch + c] = (float)(g * tu_gauss(&seed));
    }
    ebur128_state *ref = ebur128_init(ch, rate, EBUR128_MODE_M);
    ck_assert_ptr_nonnull(ref);
    cm_loud *l = meter(rate, ch, 1);
    size_t i = 0, k = 0, checked = 0, silent = 0;
    while (i < n) {
        size_t b = (k % 5 == 2) ? 777 : (k % 9 == 4) ? 1 : rate / 10;
        k++;
        if (b > n - i) b = n - i;
        ck_assert_int_eq(cm_loud_add(l, x + i * ch, b), CM_OK);
        ck_assert_int_eq(ebur128_add_frames_float(ref, x + i * ch, b), EBUR128_SUCCESS);
        i += b;
        double want, got = cm_loud_momentary_lufs(l);
        ck_assert_int_eq(ebur128_loudness_momentary(ref, &want), EBUR128_SUCCESS);
        if (isinf(want)) {
            ck_assert_msg(isinf(got) && got < 0, "%u Hz at %zu: %g, libebur128 -inf", rate, i, got);
            silent++;
        } else {
            ck_assert_msg(fabs(got - want) < 1e-9, "%u Hz x%u at frame %zu: %.12f LUFS, libebur128 %.12f",
                          rate, ch, i, got, want);
        }
        checked++;
    }
    ck_assert(checked > 60 && silent > 0);
    ebur128_destroy(&ref);
    cm_loud_destroy(l);
    free(x);
}
END_TEST

/* cm_peak_abs: the largest magnitude whatever its position in the 8-lane loop or the tail,
 * and +inf as soon as one sample is NaN or +-Inf. */
START_TEST(test_peak_abs)
{
    float x[37];
    for (int n = 0; n <= 37; n++) {
        for (int i = 0; i < 37; i++) x[i] = (i % 3 ? 0.01f : -0.02f) * (float)(i % 5);
        ck_assert(cm_peak_abs(x, 0) == 0.0f);
        for (int at = 0; at < n; at++) {
            float keep = x[at];
            x[at] = -0.75f;
            ck_assert_msg(cm_peak_abs(x, (size_t)n) == 0.75f, "n %d at %d", n, at);
            x[at] = NAN;
            ck_assert(isinf(cm_peak_abs(x, (size_t)n)));
            x[at] = -INFINITY;
            ck_assert(isinf(cm_peak_abs(x, (size_t)n)));
            x[at] = keep;
        }
    }
    const float z[3] = {-0.0f, 0.0f, -0.0f};
    ck_assert(cm_peak_abs(z, 3) == 0.0f);
}
END_TEST

static Suite *loudness_suite(void)
{
    Suite *s = suite_create("loudness");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_sine_1k, 0, (int)(sizeof sine_peak_dbfs / sizeof *sine_peak_dbfs));
    tcase_add_loop_test(t, test_ebu3341_integrated, 0,
                        (int)(sizeof ebu_i_cases / sizeof *ebu_i_cases));
    tcase_add_test(t, test_ebu3341_case6_5ch);
    tcase_add_loop_test(t, test_ebu3341_alternating, 0,
                        (int)(sizeof ebu_alt_cases / sizeof *ebu_alt_cases));
    tcase_add_loop_test(t, test_ebu3341_true_peak, 0,
                        (int)(sizeof tp_phase_deg / sizeof *tp_phase_deg));
    tcase_add_loop_test(t, test_ebu3342_lra, 0, (int)(sizeof ebu_lra_cases / sizeof *ebu_lra_cases));
    tcase_add_test(t, test_silence);
    tcase_add_test(t, test_chunking);
    tcase_add_loop_test(t, test_true_peak_skip_exact, 0,
                        (int)(sizeof tp_skip_cases / sizeof *tp_skip_cases));
    tcase_add_test(t, test_peak_abs);
    tcase_add_loop_test(t, test_momentary_tiles, 0, (int)(sizeof mom_cases / sizeof *mom_cases));
    tcase_add_loop_test(t, test_api, 0, (int)(sizeof api_cases / sizeof *api_cases));
    tcase_add_test(t, test_channel_map);
    tcase_add_loop_test(t, test_vs_ffmpeg, 0, (int)(sizeof ff_cases / sizeof *ff_cases));
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    tu_seed();
    SRunner *r = srunner_create(loudness_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    tu_tmpdir_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
