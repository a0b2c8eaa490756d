/* SPDX-License-Identifier: MIT */
/* Episode shape (shape.h) and the sob generator (sobgen.h): inhalation timing, regularity,
 * sob stretches (found at >= 10 dB SNR, not in cry units alone nor in noise, outlasting the
 * crying), melody shapes of harmonic sweeps, level-independent effort, constant memory over
 * a 2-hour stream, invariance to chunking and to when spans are opened and closed, API. */
#include <check.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/frontend.h"
#include "crymeter/shape.h"
#include "crymeter/learn/sobgen.h"
#include "testutil.h"

#define RATE CM_FRONT_RATE_HZ /* frames_of feeds the front end directly */

/* ---- helpers ------------------------------------------------------------------------------ */

/* Frames of x through the real front end, pushed in chunks of `chunk` samples (0: whole). */
static cm_frame *frames_of(const float *x, size_t n, size_t chunk, size_t *nf)
{
    cm_front_config fc = cm_front_config_default();
    cm_front *f = NULL;
    ck_assert_int_eq(cm_front_create(&fc, &f, NULL), CM_OK);
    size_t cap = cm_front_frames_for(f, n) + 8, k = 0;
    cm_frame *fr = malloc(cap * sizeof *fr);
    ck_assert_ptr_nonnull(fr);
    if (!chunk) chunk = n ? n : 1;
    for (size_t i = 0; i < n; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk, got = 0;
        ck_assert_int_eq(cm_front_process(f, x + i, m, fr + k, cap - k, &got), CM_OK);
        k += got;
    }
    size_t got = 0;
    ck_assert_int_eq(cm_front_flush(f, fr + k, cap - k, &got), CM_OK);
    *nf = k + got;
    cm_front_destroy(f);
    return fr;
}

typedef struct sob_events {
    unsigned n_start, n_end;
    cm_shape_event end[16];
} sob_events;

static void drain(cm_shape *s, sob_events *se)
{
    cm_shape_event ev;
    while (cm_shape_poll(s, &ev)) {
        if (ev.kind == CM_SHAPE_SOB_START) {
            se->n_start++;
        } else {
            if (se->n_end < 16) se->end[se->n_end] = ev;
            se->n_end++;
        }
    }
}

/* Runs the frames through a fresh cm_shape with one span over everything. */
static void analyse(const cm_frame *fr, size_t nf, cm_shape_result *r, sob_events *se)
{
    cm_shape_config c = cm_shape_config_default(NULL);
    cm_shape *s = NULL;
    ck_assert_int_eq(cm_shape_create(&c, &s, NULL), CM_OK);
    ck_assert_int_eq(cm_shape_begin(s, 0, 0), CM_OK);
    sob_events dummy;
    if (!se) se = &dummy;
    memset(se, 0, sizeof *se);
    for (size_t i = 0; i < nf; i++) {
        ck_assert_int_eq(cm_shape_frame(s, &fr[i]), CM_OK);
        drain(s, se);
    }
    cm_shape_flush(s);
    drain(s, se);
    ck_assert_int_eq(cm_shape_end(s, 0, nf - 1, NAN, r), CM_OK);
    cm_shape_destroy(s);
}

/* Renders c into a fresh buffer; the element list goes to ev (cap 4096). */
static float *render(const cm_sobgen_config *c, size_t *n, cm_sobgen_event *ev, size_t *nev)
{
    *n = cm_sobgen_samples(c);
    float *x = malloc(*n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    cm_diag why = {{0}};
    size_t dummy;
    cm_status st = cm_sobgen_render(c, x, *n, ev, ev ? 4096 : 0, nev ? nev : &dummy, &why);
    ck_assert_msg(st == CM_OK, "sobgen: %s", why.msg);
    return x;
}

static cm_sobgen_config sob_cfg(uint64_t seed)
{
    cm_sobgen_config c = cm_sobgen_config_default();
    c.rate_hz = RATE;
    c.seed = tu_seed() ^ seed;
    return c;
}

/* ---- inhalation timing -------------------------------------------------------------------- */

static const struct {
    cm_sobgen_noise noise;
    double snr_db, rate_hz;
} timing_cases[] = {
    {CM_SOBGEN_NOISE_WHITE, 10.0, 0.8}, {CM_SOBGEN_NOISE_PINK, 10.0, 0.8},
    {CM_SOBGEN_NOISE_WHITE, 20.0, 0.5}, {CM_SOBGEN_NOISE_PINK, 20.0, 1.2},
    {CM_SOBGEN_NOISE_WHITE, 30.0, 1.4}, {CM_SOBGEN_NOISE_NONE, 0.0, 0.4},
};

START_TEST(inhale_timing)
{
    /* Every generated inhalation is found as an inhalation pulse whose onset lies within
     * 50 ms of the true onset, and no detected inhalation is far from a true one. */
    cm_sobgen_config c = sob_cfg(100 + (uint64_t)_i);
    c.noise = timing_cases[_i].noise;
    c.snr_db = timing_cases[_i].snr_db;
    c.pulse_rate_hz = timing_cases[_i].rate_hz;
    c.duration_s = 2.0 + 28.0 / c.pulse_rate_hz; /* <= 30 cycles: every burst is listed */
    if (c.duration_s > 30.0) c.duration_s = 30.0;
    size_t n, nev, nf;
    cm_sobgen_event *ev = malloc(4096 * sizeof *ev);
    float *x = render(&c, &n, ev, &nev);
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_result r;
    analyse(fr, nf, &r, NULL);
    ck_assert_uint_le(r.n_listed, CM_SHAPE_MAX_LISTED);
    unsigned n_true = 0, matched = 0;
    double worst = 0.0;
    for (size_t i = 0; i < nev; i++) {
        if (ev[i].kind != CM_SOBGEN_INHALE) continue;
        n_true++;
        double best = INFINITY;
        for (unsigned j = 0; j < r.n_listed; j++)
            if (r.burst[j].kind == CM_BURST_INHALE)
                best = fmin(best, fabs(r.burst[j].onset_s - ev[i].start_s));
        if (best <= 0.050) matched++;
        worst = fmax(worst, best);
    }
    ck_assert_msg(n_true >= 8, "only %u inhalations generated", n_true);
    ck_assert_msg(matched == n_true, "case %d: %u of %u inhalations within 50 ms (worst %.3f s)",
                  _i, matched, n_true, worst);
    ck_assert_uint_eq(r.n_inhalations, n_true);
    free(fr);
    free(x);
    free(ev);
}
END_TEST

/* ---- regularity ------------------------------------------------------------------------- */

static const struct {
    double jitter;
    int regular; /* 1: CV must be < 0.2 and mostly rhythmic; 0: CV > 0.3 */
} reg_cases[] = {
    {0.0, 1}, {0.05, 1}, {0.09, 1}, {0.45, 0}, {0.5, 0}, {0.55, 0},
};

START_TEST(regularity)
{
    /* The CV of cry-unit onset intervals follows the period jitter (plus the spread of the
     * inhalation durations, which shifts each exhalation by up to 180 ms, less the cycles
     * too short for an exhalation): below 0.2 for jitter < 10 %, above 0.25 for jitter
     * > 40 %, and within 0.02 of the CV of the generated onsets (0.06 at high jitter, where
     * exhalations of 150..160 ms count on one side only). */
    cm_sobgen_config c = sob_cfg(200 + (uint64_t)_i);
    c.jitter = reg_cases[_i].jitter;
    c.duration_s = 90.0;
    c.snr_db = 20.0;
    size_t n, nf, nev;
    cm_sobgen_event *ev = malloc(4096 * sizeof *ev);
    float *x = render(&c, &n, ev, &nev);
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_result r;
    analyse(fr, nf, &r, NULL);
    /* rate of the generated exhalations (short cycles lose theirs) */
    double t0 = INFINITY, t1 = 0.0;
    unsigned n_ex = 0;
    for (size_t i = 0; i < nev; i++)
        if (ev[i].kind == CM_SOBGEN_EXHALE && ev[i].end_s - ev[i].start_s >= 0.16) {
            t0 = fmin(t0, ev[i].start_s);
            t1 = fmax(t1, ev[i].start_s);
            n_ex++;
        }
    const double rate = (n_ex - 1) / (t1 - t0);
    double prev = NAN, sum = 0.0, ss = 0.0;
    unsigned niv = 0;
    for (size_t i = 0; i < nev; i++)
        if (ev[i].kind == CM_SOBGEN_EXHALE && ev[i].end_s - ev[i].start_s >= 0.16) {
            if (!isnan(prev)) {
                double d = ev[i].start_s - prev;
                sum += d;
                ss += d * d;
                niv++;
            }
            prev = ev[i].start_s;
        }
    const double true_cv = sqrt(ss / niv - (sum / niv) * (sum / niv)) / (sum / niv);
    ck_assert_uint_ge(r.n_bursts, 40);
    ck_assert_msg(fabs(r.burst_rate_hz - rate) < 0.05 * rate, "rate %.3f Hz, generated %.3f",
                  r.burst_rate_hz, rate);
    double tot = r.rhythm_s[0] + r.rhythm_s[1] + r.rhythm_s[2];
    ck_assert_float_eq_tol(tot, r.end_s - r.start_s, 1e-6); /* stretches tile the span */
    /* onsets within a frame or two of the truth: the CV of the generated onsets, +- 0.02 */
    ck_assert_msg(fabs(r.regularity_cv - true_cv) < (reg_cases[_i].regular ? 0.02 : 0.06),
                  "CV %.3f, generated %.3f",
                  r.regularity_cv, true_cv);
    if (reg_cases[_i].regular) {
        ck_assert_msg(r.regularity_cv < 0.2, "jitter %.2f: CV %.3f", c.jitter, r.regularity_cv);
        ck_assert_int_eq(r.rhythm, CM_RHYTHM_RHYTHMIC);
        ck_assert_double_ge(r.rhythm_s[CM_RHYTHM_RHYTHMIC], 0.9 * tot);
    } else {
        ck_assert_msg(r.regularity_cv > 0.25, "jitter %.2f: CV %.3f", c.jitter, r.regularity_cv);
        ck_assert_double_lt(r.rhythm_s[CM_RHYTHM_RHYTHMIC], 0.6 * tot);
    }
    free(fr);
    free(x);
    free(ev);
}
END_TEST

/* ---- sobbing ---------------------------------------------------------------------------- */

static const struct {
    cm_sobgen_noise noise;
    double snr_db;
} sob_cases[] = {
    {CM_SOBGEN_NOISE_WHITE, 10.0}, {CM_SOBGEN_NOISE_PINK, 10.0}, {CM_SOBGEN_NOISE_WHITE, 15.0},
    {CM_SOBGEN_NOISE_PINK, 20.0},  {CM_SOBGEN_NOISE_WHITE, 30.0}, {CM_SOBGEN_NOISE_NONE, 0.0},
};

START_TEST(sob_found)
{
    /* 30 s of sobbing at 0.8 Hz: one stretch from the first inhalation (within 50 ms) to
     * the last (within 0.5 s), as stream events and inside the span, with the right rate. */
    cm_sobgen_config c = sob_cfg(300 + (uint64_t)_i);
    c.noise = sob_cases[_i].noise;
    c.snr_db = sob_cases[_i].snr_db;
    c.duration_s = 30.0;
    size_t n, nev, nf;
    cm_sobgen_event *ev = malloc(4096 * sizeof *ev);
    float *x = render(&c, &n, ev, &nev);
    double first = INFINITY, last = 0.0;
    for (size_t i = 0; i < nev; i++)
        if (ev[i].kind == CM_SOBGEN_INHALE) {
            first = fmin(first, ev[i].start_s);
            last = fmax(last, ev[i].end_s);
        }
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_result r;
    sob_events se;
    analyse(fr, nf, &r, &se);
    ck_assert_uint_eq(se.n_start, 1);
    ck_assert_uint_eq(se.n_end, 1);
    ck_assert_double_le(fabs(se.end[0].start_s - first), 0.05);
    ck_assert_double_le(fabs(se.end[0].end_s - last), 0.5);
    ck_assert_double_le(fabs(se.end[0].rate_hz - c.pulse_rate_hz), 0.05 * c.pulse_rate_hz);
    ck_assert_double_le(se.end[0].cv, 0.15);
    ck_assert_uint_eq(r.n_sob, 1);
    ck_assert_double_eq_tol(r.sob[0].start_s, se.end[0].start_s, 1e-9);
    ck_assert_double_eq_tol(r.sob_s, se.end[0].end_s - se.end[0].start_s, 1e-9);
    free(fr);
    free(x);
    free(ev);
}
END_TEST

static const struct {
    int kind; /* 0: cry units without inhalations, 1: noise only */
    cm_sobgen_noise noise;
    double snr_db;
} nosob_cases[] = {
    {0, CM_SOBGEN_NOISE_WHITE, 10.0}, {0, CM_SOBGEN_NOISE_PINK, 10.0},
    {0, CM_SOBGEN_NOISE_WHITE, 30.0}, {0, CM_SOBGEN_NOISE_NONE, 0.0},
    {1, CM_SOBGEN_NOISE_WHITE, 0.0},  {1, CM_SOBGEN_NOISE_PINK, 0.0},
};

START_TEST(no_sob)
{
    /* Cry units alone, at any SNR, and noise alone: no inhalation pulse, no sob stretch. */
    cm_sobgen_config c = sob_cfg(400 + (uint64_t)_i);
    c.noise = nosob_cases[_i].noise;
    c.snr_db = nosob_cases[_i].snr_db;
    c.duration_s = 40.0;
    c.inhale = false;
    if (nosob_cases[_i].kind == 1) c.exhale = false;
    size_t n, nf;
    float *x = render(&c, &n, NULL, NULL);
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_result r;
    sob_events se;
    analyse(fr, nf, &r, &se);
    ck_assert_uint_eq(se.n_start, 0);
    ck_assert_uint_eq(r.n_sob, 0);
    ck_assert_uint_eq(r.n_inhalations, 0);
    if (nosob_cases[_i].kind == 1) {
        ck_assert_uint_eq(r.n_bursts, 0);
        ck_assert_int_eq(r.intensity, CM_INTENSITY_UNKNOWN);
        ck_assert(isnan(r.burst_rate_hz) && isnan(r.f0_median_hz));
    } else {
        ck_assert_uint_ge(r.n_bursts, 25);
    }
    free(fr);
    free(x);
}
END_TEST

START_TEST(sob_outlasts_crying)
{
    /* Crying (exhalations) stops at 12 s, the inhalations go on to 28 s: the sob stretch
     * runs to the end, past an episode span that closes with the crying. */
    cm_sobgen_config c = sob_cfg(500);
    c.duration_s = 30.0;
    c.snr_db = 15.0;
    c.exhale_until_s = 12.0;
    size_t n, nev, nf;
    cm_sobgen_event *ev = malloc(4096 * sizeof *ev);
    float *x = render(&c, &n, ev, &nev);
    double last_in = 0.0, last_ex = 0.0;
    for (size_t i = 0; i < nev; i++) {
        if (ev[i].kind == CM_SOBGEN_INHALE) last_in = ev[i].end_s;
        if (ev[i].kind == CM_SOBGEN_EXHALE) last_ex = ev[i].end_s;
    }
    ck_assert_double_gt(last_in, last_ex + 10.0);
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_config sc = cm_shape_config_default(NULL);
    cm_shape *s = NULL;
    ck_assert_int_eq(cm_shape_create(&sc, &s, NULL), CM_OK);
    ck_assert_int_eq(cm_shape_begin(s, 1, 0), CM_OK);
    uint64_t ep_end = (uint64_t)(last_ex * 100.0);
    sob_events se = {0};
    cm_shape_result r;
    for (size_t i = 0; i < nf; i++) {
        ck_assert_int_eq(cm_shape_frame(s, &fr[i]), CM_OK);
        drain(s, &se);
        if (i == ep_end + 300) ck_assert_int_eq(cm_shape_end(s, 1, ep_end, NAN, &r), CM_OK);
    }
    cm_shape_flush(s);
    drain(s, &se);
    ck_assert_uint_eq(se.n_end, 1);
    ck_assert_double_le(fabs(se.end[0].end_s - last_in), 0.5);
    ck_assert_uint_eq(r.n_sob, 1);
    ck_assert_double_le(r.sob[0].end_s, r.end_s + 1e-9); /* clipped to the episode */
    ck_assert_double_gt(se.end[0].end_s, r.end_s + 10.0);
    cm_shape_destroy(s);
    free(fr);
    free(x);
    free(ev);
}
END_TEST

/* ---- melody ------------------------------------------------------------------------------- */

/* Harmonic tone (amplitudes k^-tilt up to 7 kHz) with F0 moving from f_a through f_m (at the
 * middle) to f_b along two half-cosine segments, 20 ms raised-cosine edges. */
static void harm_unit(float *x, size_t n, double f_a, double f_m, double f_b, double tilt,
                      double amp)
{
    double ph = 0.0, norm = 0.0;
    for (unsigned h = 1; h < 64; h++) norm += pow(h, -2.0 * tilt);
    const double g = amp * sqrt(2.0 / norm), edge = 0.02 * RATE;
    for (size_t i = 0; i < n; i++) {
        double u = (double)i / (double)n, f0;
        if (u < 0.5)
            f0 = f_a + (f_m - f_a) * (0.5 - 0.5 * cos(M_PI * u * 2.0));
        else
            f0 = f_m + (f_b - f_m) * (0.5 - 0.5 * cos(M_PI * (u - 0.5) * 2.0));
        double v = 0.0;
        for (unsigned h = 1; h * f0 < 7000.0 && h < 64; h++) v += pow(h, -tilt) * sin(h * ph);
        ph = fmod(ph + 2.0 * M_PI * f0 / RATE, 2.0 * M_PI);
        double env = 1.0;
        if ((double)i < edge) env = 0.5 - 0.5 * cos(M_PI * i / edge);
        if ((double)(n - i) < edge) env *= 0.5 - 0.5 * cos(M_PI * (n - i) / edge);
        x[i] = (float)(g * v * env);
    }
}

static const struct {
    const char *name;
    double f_a, f_m, f_b;
    cm_contour want;
    double range_st;
} melody_cases[] = {
    {"rise", 300, 424.26, 600, CM_CONTOUR_RISE, 12.0},
    {"fall", 600, 424.26, 300, CM_CONTOUR_FALL, 12.0},
    {"rise-fall", 350, 600, 350, CM_CONTOUR_RISE_FALL, 9.33},
    {"flat", 450, 450, 450, CM_CONTOUR_FLAT, 0.0},
    {"small rise-fall", 400, 476, 400, CM_CONTOUR_RISE_FALL, 3.0},
    {"fall-rise", 600, 350, 600, CM_CONTOUR_OTHER, 9.33},
};

START_TEST(melody)
{
    /* Six units of 0.8 s every 1.4 s in light white noise: each labelled with its shape,
     * its range within 1 semitone (5-frame smoothing trims the extremes a little). */
    const size_t unit = (size_t)(0.8 * RATE), period = (size_t)(1.4 * RATE);
    const size_t n = 6 * period + RATE;
    float *x = calloc(n, sizeof *x);
    uint64_t st = tu_seed() ^ 600;
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.001 * tu_gauss(&st));
    for (int u = 0; u < 6; u++) {
        float *p = x + (size_t)(0.5 * RATE) + (size_t)u * period;
        float tmp[16000];
        harm_unit(tmp, unit, melody_cases[_i].f_a, melody_cases[_i].f_m, melody_cases[_i].f_b,
                  1.0, 0.1);
        for (size_t i = 0; i < unit; i++) p[i] += tmp[i];
    }
    size_t nf;
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_result r;
    analyse(fr, nf, &r, NULL);
    ck_assert_uint_eq(r.n_bursts, 6);
    ck_assert_uint_eq(r.n_inhalations, 0);
    for (unsigned i = 0; i < r.n_listed; i++) {
        const cm_shape_burst *b = &r.burst[i];
        ck_assert_msg(b->contour == melody_cases[_i].want, "%s unit %u: %s", melody_cases[_i].name,
                      i, cm_contour_name(b->contour));
        ck_assert_msg(fabs(b->f0_range_st - melody_cases[_i].range_st) <= 1.0,
                      "%s unit %u: range %.2f st", melody_cases[_i].name, i, b->f0_range_st);
        ck_assert_double_le(fabs(b->offset_s - b->onset_s - 0.8), 0.06);
    }
    ck_assert_uint_eq(r.contour_count[melody_cases[_i].want], 6);
    ck_assert_double_eq_tol(r.rise_fall_share, melody_cases[_i].want == CM_CONTOUR_RISE_FALL, 1e-9);
    /* Episode F0: the p10..p90 span lies inside the generated range (2 % tolerance). */
    double lo = fmin(melody_cases[_i].f_a, fmin(melody_cases[_i].f_m, melody_cases[_i].f_b));
    double hi = fmax(melody_cases[_i].f_a, fmax(melody_cases[_i].f_m, melody_cases[_i].f_b));
    ck_assert_double_ge(r.f0_p10_hz, lo * 0.98);
    ck_assert_double_le(r.f0_p90_hz, hi * 1.02);
    ck_assert_double_le(r.f0_p10_hz, r.f0_median_hz);
    ck_assert_double_le(r.f0_median_hz, r.f0_p90_hz);
    free(fr);
    free(x);
}
END_TEST

/* ---- intensity ------------------------------------------------------------------------------ */

static double effort_of(double tilt, double amp, double *level)
{
    const size_t unit = (size_t)(0.8 * RATE), n = 6 * RATE;
    float *x = calloc(n, sizeof *x);
    uint64_t st = tu_seed() ^ 700;
    for (size_t i = 0; i < n; i++) x[i] = (float)(1e-5 * tu_gauss(&st));
    for (int u = 0; u < 4; u++) {
        float tmp[16000];
        harm_unit(tmp, unit, 350, 550, 350, tilt, amp);
        for (size_t i = 0; i < unit; i++) x[(size_t)(0.5 * RATE) + (size_t)u * (size_t)(1.4 * RATE) + i] += tmp[i];
    }
    size_t nf;
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_result r;
    analyse(fr, nf, &r, NULL);
    ck_assert_uint_eq(r.n_bursts, 4);
    *level = r.level_dbfs_max;
    free(fr);
    free(x);
    return r.effort_db;
}

START_TEST(effort_level_independent)
{
    /* The same voice 30 dB apart: effort within 0.5 dB (levels 30 dB apart). A brighter
     * voice (harmonics falling as 1/sqrt(k) instead of 1/k^1.5) has clearly more effort. */
    double l_hi, l_lo, l_b, l_d;
    double e_hi = effort_of(1.0, 0.1, &l_hi), e_lo = effort_of(1.0, 0.00316, &l_lo);
    ck_assert_double_eq_tol(l_hi - l_lo, 30.0, 0.5);
    ck_assert_double_eq_tol(e_hi, e_lo, 0.5);
    double e_bright = effort_of(0.5, 0.1, &l_b), e_dark = effort_of(1.5, 0.1, &l_d);
    ck_assert_double_gt(e_bright, e_hi + 6.0);
    ck_assert_double_lt(e_dark, e_hi - 6.0);
}
END_TEST

START_TEST(intensity_label)
{
    /* Label from effort and loudness: the threshold on effort, then the SPL floor. */
    cm_sobgen_config c = sob_cfg(800);
    size_t n, nf;
    float *x = render(&c, &n, NULL, NULL);
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_config sc = cm_shape_config_default(NULL);
    for (int k = 0; k < 3; k++) {
        cm_shape *s = NULL;
        ck_assert_int_eq(cm_shape_create(&sc, &s, NULL), CM_OK);
        ck_assert_int_eq(cm_shape_begin(s, 2, 0), CM_OK);
        for (size_t i = 0; i < nf; i++) ck_assert_int_eq(cm_shape_frame(s, &fr[i]), CM_OK);
        cm_shape_result r;
        double spl = k == 0 ? NAN : (k == 1 ? 80.0 : 50.0);
        ck_assert_int_eq(cm_shape_end(s, 2, nf - 1, spl, &r), CM_OK);
        ck_assert(isfinite(r.effort_db));
        cm_intensity want = r.effort_db >= sc.params.effort_intense_db && k != 2
                                ? CM_INTENSITY_INTENSE : CM_INTENSITY_GENTLE;
        ck_assert_int_eq(r.intensity, want);
        cm_shape_destroy(s);
        sc.params.effort_intense_db = (float)(r.effort_db - 3.0); /* make it intense */
    }
    free(fr);
    free(x);
}
END_TEST

/* ---- memory, streaming ------------------------------------------------------------------ */

START_TEST(two_hours_constant_memory)
{
    /* 2 hours of frames (20 s of sobbing from the front end, repeated with new indices):
     * no allocation after create, one span over everything, counts scale with length. */
    cm_sobgen_config c = sob_cfg(900);
    c.duration_s = 20.0;
    c.lead_s = 0.0; /* 20 whole cycles: the loop joins seamlessly */
    c.tail_s = 0.0;
    c.pulse_rate_hz = 1.0;
    c.jitter = 0.0;
    size_t n, nf;
    float *x = render(&c, &n, NULL, NULL);
    cm_frame *fr = frames_of(x, n, 0, &nf);
    cm_shape_result one;
    analyse(fr, nf, &one, NULL);
    cm_shape_config sc = cm_shape_config_default(NULL);
    cm_shape *s = NULL;
    ck_assert_int_eq(cm_shape_create(&sc, &s, NULL), CM_OK);
    cm_shape_result *r = malloc(sizeof *r);
    struct mallinfo2 m0 = mallinfo2();
    ck_assert_int_eq(cm_shape_begin(s, 0, 0), CM_OK);
    const uint64_t total = 2u * 3600u * 100u;
    unsigned events = 0;
    cm_frame f;
    for (uint64_t k = 0; k < total; k++) {
        f = fr[k % nf];
        f.index = k;
        ck_assert_int_eq(cm_shape_frame(s, &f), CM_OK);
        cm_shape_event ev;
        while (cm_shape_poll(s, &ev)) events++;
        if (k % 1000 == 999) ck_assert_int_eq(cm_shape_extend(s, 0, k - 200), CM_OK);
        if (k % 360000 == 0 && k) ck_assert_int_eq(cm_shape_peek(s, 0, k - 200, NAN, r), CM_OK);
    }
    cm_shape_flush(s);
    cm_shape_event ev;
    while (cm_shape_poll(s, &ev)) events++;
    ck_assert_int_eq(cm_shape_end(s, 0, total - 1, NAN, r), CM_OK);
    struct mallinfo2 m1 = mallinfo2();
    ck_assert_uint_eq(m1.uordblks, m0.uordblks);
    ck_assert(!r->truncated);
    /* one cycle per second: 7200 cry units and inhalations (the stream's first inhalation
     * comes before any noise floor, so the first may be missed, as in `one`) */
    ck_assert_uint_ge(one.n_inhalations, 19);
    ck_assert_double_le(fabs(r->n_bursts - 7200.0), 2.0);
    ck_assert_double_le(fabs(r->n_inhalations - 7200.0), 2.0);
    ck_assert_uint_eq(r->n_listed, CM_SHAPE_MAX_LISTED);
    ck_assert_double_eq_tol(r->burst_rate_hz, 1.0, 0.02);
    ck_assert_double_lt(r->regularity_cv, 0.15);
    ck_assert_double_gt(r->sob_s, 0.9 * 7200.0);
    ck_assert_double_eq_tol(r->rhythm_s[0] + r->rhythm_s[1] + r->rhythm_s[2], r->end_s - r->start_s, 1e-3);
    ck_assert_uint_ge(events, 2);
    free(r);
    cm_shape_destroy(s);
    free(fr);
    free(x);
}
END_TEST

/* Drives a shape over frames: the span [a, b] is opened `lag` frames after a and extended
 * every `step` frames to `lag` frames behind, then ended `lag` frames after b. */
static void lagged(const cm_frame *fr, size_t nf, uint64_t a, uint64_t b, uint64_t lag,
                   uint64_t step, cm_shape_result *r)
{
    cm_shape_config sc = cm_shape_config_default(NULL);
    cm_shape *s = NULL;
    ck_assert_int_eq(cm_shape_create(&sc, &s, NULL), CM_OK);
    bool open = false, done = false;
    for (size_t i = 0; i < nf; i++) {
        ck_assert_int_eq(cm_shape_frame(s, &fr[i]), CM_OK);
        if (!open && !done && i == a + lag) {
            ck_assert_int_eq(cm_shape_begin(s, 3, a), CM_OK);
            open = true;
        }
        if (open && i % step == 0 && i - lag <= b)
            ck_assert_int_eq(cm_shape_extend(s, 3, i - lag), CM_OK);
        if (open && i == b + lag) {
            ck_assert_int_eq(cm_shape_end(s, 3, b, NAN, r), CM_OK);
            open = false;
            done = true;
        }
    }
    ck_assert(done);
    cm_shape_destroy(s);
}

START_TEST(streaming_invariance)
{
    /* Frames from any input chunking, spans opened and extended with any lag: the same
     * result, bit for bit. */
    cm_sobgen_config c = sob_cfg(1000);
    c.duration_s = 60.0;
    c.jitter = 0.3;
    c.snr_db = 15.0;
    size_t n, nf0;
    float *x = render(&c, &n, NULL, NULL);
    cm_frame *f0 = frames_of(x, n, 0, &nf0);
    const size_t chunks[] = {1, 7, 159, 4096};
    cm_shape_result ref, r;
    analyse(f0, nf0, &ref, NULL);
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
        size_t nf;
        cm_frame *f = frames_of(x, n, chunks[k], &nf);
        ck_assert_uint_eq(nf, nf0);
        analyse(f, nf, &r, NULL);
        ck_assert_msg(memcmp(&r, &ref, sizeof r) == 0, "chunk %zu differs", chunks[k]);
        free(f);
    }
    /* Span 5..35 s opened, extended and closed at least cm_shape_settle_frames late,
     * extended every 1, 7, 25 or 99 frames. */
    cm_shape_config sc = cm_shape_config_default(NULL);
    cm_shape *s = NULL;
    ck_assert_int_eq(cm_shape_create(&sc, &s, NULL), CM_OK);
    const uint64_t settle = cm_shape_settle_frames(s);
    cm_shape_destroy(s);
    ck_assert_uint_eq(settle, 1384); /* 4 intervals at 0.3 Hz + 400 ms + 10 frames */
    cm_shape_result l0;
    lagged(f0, nf0, 500, 3500, settle, 1, &l0);
    ck_assert_uint_gt(l0.n_bursts, 10);
    const uint64_t lags[] = {settle + 1, settle + 200, settle + 500}, steps[] = {7, 25, 99};
    for (int i = 0; i < 3; i++) {
        lagged(f0, nf0, 500, 3500, lags[i], steps[i], &r);
        ck_assert_msg(memcmp(&r, &l0, sizeof r) == 0, "lag %llu differs", (unsigned long long)lags[i]);
    }
    free(f0);
    free(x);
}
END_TEST

/* ---- API -------------------------------------------------------------------------------- */

START_TEST(api)
{
    cm_shape_config c = cm_shape_config_default(NULL);
    cm_shape *s = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_shape_params_check(&c.params, NULL), CM_OK);
    /* fields at, inside and outside their range */
    struct {
        float *f;
        float ok, bad;
    } fl[] = {
        {&c.params.act_margin_db, 3.0f, 2.9f}, {&c.params.act_margin_db, 30.0f, 30.5f},
        {&c.params.sob_cv_max, 0.0f, -0.1f},    {&c.params.sob_rate_max_hz, 5.0f, 5.1f},
        {&c.params.contour_st, 0.1f, 0.0f},    {&c.params.inhale_flat_min, 1.0f, NAN},
    };
    for (size_t i = 0; i < sizeof fl / sizeof *fl; i++) {
        cm_shape_config t = c;
        float *f = (float *)((char *)&t + ((char *)fl[i].f - (char *)&c));
        *f = fl[i].ok;
        ck_assert_int_eq(cm_shape_create(&t, &s, NULL), CM_OK);
        cm_shape_destroy(s);
        *f = fl[i].bad;
        ck_assert_int_eq(cm_shape_create(&t, &s, &why), CM_E_RANGE);
        ck_assert_ptr_null(s);
        ck_assert(strlen(why.msg) > 0);
    }
    cm_shape_config t = c;
    t.params.sob_rate_min_hz = 2.0f; /* above max */
    ck_assert_int_eq(cm_shape_create(&t, &s, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "sob_rate_min_hz"));
    t = c;
    t.params.sob_min_pulses = 2;
    ck_assert_int_eq(cm_shape_create(&t, &s, &why), CM_E_RANGE);
    t = c;
    t.n_mel = 7;
    ck_assert_int_eq(cm_shape_create(&t, &s, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "n_mel=7"));
    ck_assert_int_eq(cm_shape_create(NULL, &s, NULL), CM_E_INVAL);

    ck_assert_int_eq(cm_shape_create(&c, &s, NULL), CM_OK);
    cm_frame f;
    memset(&f, 0, sizeof f);
    f.n_mel = c.n_mel;
    for (unsigned b = 0; b < f.n_mel; b++) f.mel_db[b] = -100.0f;
    f.rms_dbfs = -100.0f;
    f.index = 1; /* not the next frame */
    ck_assert_int_eq(cm_shape_frame(s, &f), CM_E_INVAL);
    f.index = 0;
    ck_assert_int_eq(cm_shape_frame(s, &f), CM_OK);
    ck_assert_uint_eq(cm_shape_frames_in(s), 1);
    cm_shape_result r;
    ck_assert_int_eq(cm_shape_begin(s, CM_SHAPE_SLOTS, 0), CM_E_INVAL);
    ck_assert_int_eq(cm_shape_extend(s, 0, 0), CM_E_STATE);
    ck_assert_int_eq(cm_shape_end(s, 0, 0, NAN, &r), CM_E_STATE);
    ck_assert(isnan(r.start_s) && isnan(r.effort_db));
    ck_assert_int_eq(cm_shape_begin(s, 0, 0), CM_OK);
    ck_assert_int_eq(cm_shape_end(s, 0, 0, NAN, &r), CM_OK);
    ck_assert_uint_eq(r.n_bursts, 0);
    ck_assert_int_eq(r.rhythm, CM_RHYTHM_IRREGULAR);
    ck_assert_int_eq(cm_shape_end(s, 0, 0, NAN, &r), CM_E_STATE); /* closed */
    cm_shape_flush(s);
    f.index = 1;
    ck_assert_int_eq(cm_shape_frame(s, &f), CM_E_STATE);
    cm_shape_reset(s);
    f.index = 0;
    ck_assert_int_eq(cm_shape_frame(s, &f), CM_OK);
    cm_shape_destroy(s);
    cm_shape_destroy(NULL);
    ck_assert_double_eq_tol(cm_shape_frame_start_s(100), 1.0075, 1e-12);

    ck_assert_str_eq(cm_contour_name(CM_CONTOUR_RISE_FALL), "rise-fall");
    ck_assert_str_eq(cm_rhythm_name(CM_RHYTHM_ARRHYTHMIC), "arrhythmic");
    ck_assert_str_eq(cm_intensity_name(CM_INTENSITY_INTENSE), "intense");
    ck_assert_str_eq(cm_burst_kind_name(CM_BURST_INHALE), "inhale");
    ck_assert_str_eq(cm_contour_name((cm_contour)99), "?");

    /* generator */
    cm_sobgen_config g = cm_sobgen_config_default();
    float buf[16];
    size_t ne = 0;
    g.jitter = 0.6;
    ck_assert_int_eq(cm_sobgen_render(&g, buf, 16, NULL, 0, &ne, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "jitter=0.6"));
    g = cm_sobgen_config_default();
    ck_assert_int_eq(cm_sobgen_render(&g, buf, 16, NULL, 0, &ne, &why), CM_E_RANGE); /* n */
    g.duration_s = 0.0;
    ck_assert_uint_eq(cm_sobgen_samples(&g), 0);
}
END_TEST

START_TEST(generator_deterministic)
{
    /* Same seed, same samples and events; another seed differs; SNR as specified. */
    cm_sobgen_config c = sob_cfg(1100);
    c.duration_s = 10.0;
    c.snr_db = 10.0;
    size_t n, ne1, ne2;
    cm_sobgen_event e1[64], e2[64];
    float *a = render(&c, &n, NULL, NULL);
    float *b = malloc(n * sizeof *b);
    ck_assert_int_eq(cm_sobgen_render(&c, b, n, e1, 64, &ne1, NULL), CM_OK);
    ck_assert(memcmp(a, b, n * sizeof *a) == 0);
    c.seed ^= 1;
    ck_assert_int_eq(cm_sobgen_render(&c, b, n, e2, 64, &ne2, NULL), CM_OK);
    ck_assert(memcmp(a, b, n * sizeof *a) != 0);
    /* SNR: render clean, compare active power with the noise power */
    c.seed ^= 1;
    c.noise = CM_SOBGEN_NOISE_NONE;
    ck_assert_int_eq(cm_sobgen_render(&c, b, n, e2, 64, &ne2, NULL), CM_OK);
    ck_assert_uint_eq(ne1, ne2);
    double ps = 0.0, pn = 0.0;
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        pn += d * d;
    }
    for (size_t k = 0; k < ne2; k++) {
        ck_assert_double_eq(e1[k].start_s, e2[k].start_s);
        for (size_t i = (size_t)llround(e2[k].start_s * RATE); i < (size_t)llround(e2[k].end_s * RATE); i++) {
            ps += (double)b[i] * b[i];
            na++;
        }
        if (k) ck_assert_double_ge(e2[k].start_s, e2[k - 1].end_s);
    }
    ck_assert_double_eq_tol(10.0 * log10((ps / na) / (pn / n)), 10.0, 0.01);
    free(a);
    free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("shape");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 300);
    tcase_add_loop_test(t, inhale_timing, 0, sizeof timing_cases / sizeof *timing_cases);
    tcase_add_loop_test(t, regularity, 0, sizeof reg_cases / sizeof *reg_cases);
    tcase_add_loop_test(t, sob_found, 0, sizeof sob_cases / sizeof *sob_cases);
    tcase_add_loop_test(t, no_sob, 0, sizeof nosob_cases / sizeof *nosob_cases);
    tcase_add_test(t, sob_outlasts_crying);
    tcase_add_loop_test(t, melody, 0, sizeof melody_cases / sizeof *melody_cases);
    tcase_add_test(t, effort_level_independent);
    tcase_add_test(t, intensity_label);
    tcase_add_test(t, two_hours_constant_memory);
    tcase_add_test(t, streaming_invariance);
    tcase_add_test(t, api);
    tcase_add_test(t, generator_deterministic);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    tu_seed();
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
