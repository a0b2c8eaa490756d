/* SPDX-License-Identifier: MIT */
/* cm_aw: IEC 61672-1 A-weighting and Fast (125 ms) exponential time weighting of a mono signal
 * at its native rate, for the A-weighted level readings (dB(A) after calibration).
 *
 * The analog A-weighting (IEC 61672-1:2013 eq. E.6) is
 *     H(s) = k s^4 / ((s + w1)^2 (s + w2) (s + w3) (s + w4)^2),  w = 2 pi f,
 * with f1 = 20.598997, f2 = 107.65265, f3 = 737.86223, f4 = 12194.217 Hz. It is order 6, so it
 * takes three biquads; two cannot hold its six poles without leaving the class 1 tolerances.
 *   section 1: double zero at DC, double pole at f1          (bilinear transform)
 *   section 2: double zero at DC, poles at f2 and f3          (bilinear transform)
 *   section 3: double pole at f4, low-pass                    (magnitude-matched, see below)
 * The bilinear transform is accurate for the low poles: the largest error against the analog
 * curve is 0.19 dB at 8 kHz sampling (warping of the 737.9 Hz pole near the 1 kHz
 * normalisation point), 0.04 dB at 16 kHz, 0.01 dB at 44.1/48 kHz. For the 12.2 kHz pole it is
 * not: plain bilinear reads -1.5 dB at 10 kHz (44.1 kHz) and is 15-23 dB low near Nyquist.
 * Section 3 therefore uses matched-z poles (exp(-w4/fs)) and a numerator chosen so that its
 * magnitude equals the analog 1/(1 + (f/f4)^2) exactly at DC, at Nyquist and at f4 (or fs/4
 * when f4 is above 0.45 fs), after M. Vicanek, "Matched Second Order Digital Filters" (2016).
 * Error against the analog curve (script: the cm_aw test's response table):
 *   44.1 kHz: +0.06 dB at 4 kHz, +0.12 dB at 10 kHz, -0.46 dB at 16 kHz;
 *   48 kHz:   +0.04 dB at 4 kHz, +0.08 dB at 10 kHz, -0.35 dB at 16 kHz;
 *   16 kHz:   -0.00 dB at 4 kHz, largest 0.42 dB at 6.6 kHz (0.83 of Nyquist);
 * so 44.1/48 kHz meet class 1 to 16 kHz with margin, and 8-16 kHz rates are exact where the
 * band exists. The gain is normalised to exactly 0 dB at 1 kHz.
 *
 * Running form. The three sections are designed as a cascade (above; cm_aw_response_db reads
 * them), then rewritten once in create as the equivalent parallel form
 *     H(z) = C1(z)/A1(z) + C2(z)/A2(z) + E(z)/A3(z),
 * A_k the sections' denominators, C_k of degree 1 and E of degree 2 (7 coefficients from the 7
 * equations N = C1 A2 A3 + C2 A1 A3 + E A1 A2, N the cascade's numerator; solved in long
 * double). The parallel sections run side by side as the lanes of one 4-double vector, two
 * samples per step: w[n+1] is computed from w[n-1] and w[n-2] directly (look-ahead), so the
 * loop-carried path is one multiply and two adds per two samples instead of per sample, and
 * the Fast detector likewise. Each output is taken from the state before its step
 * (y[n] = k0 x[n] + sum(f1 w[n-1] + f2 w[n-2]), see struct cm_aw), so both outputs of a pair
 * need four vector products and one shuffled horizontal sum. Arithmetic is double: the 20.6 Hz double pole (1 - r = 6.7e-4 at
 * 192 kHz) gives that section a DC gain of up to 2e6, which float could not cancel against the
 * others to the 4 zeros at DC; in double the rounding left is below -190 dB re the input.
 * Against the cascade run sample by sample in direct form I (the previous code, on 20 s of
 * noise, 15 and 31.5 Hz tones, DC and a -80 dB stretch; `bash bench/vs/run.sh`): each
 * 100 ms block's maximum Fast
 * mean square within 7e-9 relative at 192 kHz, 1.4e-11 or less at 8-96 kHz. The tests check
 * the running filter against the designed response within 0.01 dB from 10 Hz (where the
 * sections cancel to -70 dB) to 0.4 fs, at 8-192 kHz (tests/unit/test_aweight.c). Cost,
 * 10 min of 16 kHz in the analyzer (callgrind): 236 M instructions against the cascade's 577 M
 * (direct form I, sample by sample); time, 10 min of noise in 100 ms calls (bench/vs/run.sh):
 * 16 kHz 0.041 -> 0.027-0.030 s, 44.1 kHz 0.108 -> 0.073 s.
 *
 * Every result is a function of the input alone, not of how it is cut into calls: samples are
 * stepped in pairs at even absolute positions (an odd last sample of a call is computed for its
 * reading, and stepped again with its partner on the next call) and the denormal check below
 * runs at absolute multiples of AW_SUBBLOCK.
 *
 * Fast time weighting: ms[n] = d ms[n-1] + (1 - d) y[n]^2, d = exp(-1 / (0.125 s * fs)); after a
 * step off the level falls 10 log10(e) / 0.125 s = 34.7 dB/s (IEC 61672-1 5.7).
 *
 * Denormals: after a signal stops, the states decay towards the subnormal range, where x86
 * arithmetic is ~100x slower, and the one-pole can get stuck on a subnormal value. Every
 * AW_SUBBLOCK samples, states below 1e-25 (-500 dBFS) are set to 0 and a mean square below
 * 1e-40 (-400 dB) to 0, so digital silence reads -INFINITY. */
#include "crymeter/loudness.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The pair loop is compiled twice on x86-64, for AVX2 (one instruction per 4-double vector
 * operation) and the SSE2 baseline (two), and the loader picks one (GCC/Clang function
 * multiversioning). No fused multiply-add: ISO C mode keeps a * b + c as two roundings, so
 * both clones give bit-identical results. */
/* Not under ThreadSanitizer: its runtime is not up yet when the loader runs the clones'
 * resolver (the test binaries crash before main). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__SANITIZE_THREAD__) && !defined(CM_NO_CLONES)
#define CM_AW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CM_AW_CLONES
#endif

#define AW_F1 20.598997
#define AW_F2 107.65265
#define AW_F3 737.86223
#define AW_F4 12194.217
#define AW_FAST_TAU_S 0.125
#define AW_NSEC 3
#define AW_SUBBLOCK 4096
#define AW_STATE_FLOOR 1e-25
#define AW_MS_FLOOR 1e-40

typedef struct {
    double b0, b1, b2, a1, a2; /* y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2 */
} aw_biquad;

typedef double v4d __attribute__((vector_size(32)));
/* A macro, not a function: a 32-byte vector passed by value has a different ABI with and
 * without AVX (GCC -Wpsabi). */
#define HSUM4(v) (((v)[0] + (v)[1]) + ((v)[2] + (v)[3]))

struct cm_aw {
    aw_biquad sec[AW_NSEC]; /* the cascade design (response, documentation) */
    /* Parallel form, lane k = section k, lane 3 unused (all 0): w[n] = x[n] - a1 w[n-1] -
     * a2 w[n-2], y[n] = sum over lanes of b0 w[n] + b1 w[n-1] + b2 w[n-2] (b: the sections'
     * numerators, used in design_parallel only). */
    v4d a1, a2;
    v4d q1, q2;       /* look-ahead: a1^2 - a2 and a1 a2 */
    /* Output from the state before the step: y[n] = k0 x[n] + sum(f1 w[n-1] + f2 w[n-2]),
     * f1 = b1 - b0 a1, f2 = b2 - b0 a2, k0 = sum(b0) (b0 w[n] expanded by the recursion). */
    v4d f1, f2;
    double k0;
    v4d w1, w2;       /* w[n-1], w[n-2] */
    double ms;        /* Fast mean square after the last stepped sample, linear */
    double decay;     /* d = exp(-1 / (tau fs)) */
    double gain_in;   /* g = 1 - d */
    double d2, dg;    /* d^2, d g */
    uint64_t pos;     /* samples stepped (even while a sample is pending) */
    int pending;      /* one sample, xp, waits for its partner */
    float xp;
    double ms_read;   /* Fast mean square including the pending sample */
    unsigned rate_hz;
};

static const double PI = 3.14159265358979323846;

/* Bilinear transform of a real analog pole at -2 pi f: the z-plane pole (2fs - w)/(2fs + w). */
static double bilinear_pole(double f_hz, double fs)
{
    double w = 2.0 * PI * f_hz, k = 2.0 * fs;
    return (k - w) / (k + w);
}

/* |H(e^jw)| of one biquad. */
static double biquad_mag(const aw_biquad *q, double w)
{
    double c1 = cos(w), s1 = sin(w), c2 = cos(2.0 * w), s2 = sin(2.0 * w);
    double nr = q->b0 + q->b1 * c1 + q->b2 * c2, ni = -(q->b1 * s1 + q->b2 * s2);
    double dr = 1.0 + q->a1 * c1 + q->a2 * c2, di = -(q->a1 * s1 + q->a2 * s2);
    return sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
}

/* Section 3 (Vicanek 2016, section 3, adapted to a real double pole). The squared magnitude of
 * a biquad is (B0 p0 + B1 p1 + B2 p2) / (A0 p0 + A1 p1 + A2 p2) with p1 = sin^2(w/2),
 * p0 = 1 - p1, p2 = 4 p0 p1, A0 = (1 + a1 + a2)^2, A1 = (1 - a1 + a2)^2, A2 = -4 a2, and the same
 * for B from b. Matching the analog magnitude at DC, Nyquist and one mid frequency gives B0,
 * B1, B2; b0..b2 follow from sqrt(B0) = b0 + b1 + b2, sqrt(B1) = b0 - b1 + b2, b0 b2 = -B2 / 4. */
static void design_hf(aw_biquad *q, double fs)
{
    double p = exp(-2.0 * PI * AW_F4 / fs);
    q->a1 = -2.0 * p;
    q->a2 = p * p;
    double fn = 0.5 * fs;
    double fm = AW_F4 < 0.45 * fs ? AW_F4 : 0.25 * fs;
    double hn = 1.0 / (1.0 + (fn / AW_F4) * (fn / AW_F4)); /* analog |H| at Nyquist */
    double hm = 1.0 / (1.0 + (fm / AW_F4) * (fm / AW_F4)); /* and at fm */
    double A0 = (1.0 + q->a1 + q->a2) * (1.0 + q->a1 + q->a2);
    double A1 = (1.0 - q->a1 + q->a2) * (1.0 - q->a1 + q->a2);
    double A2 = -4.0 * q->a2;
    double s = sin(PI * fm / fs), p1 = s * s, p0 = 1.0 - p1, p2 = 4.0 * p0 * p1;
    double B0 = A0, B1 = A1 * hn * hn;
    double B2 = (hm * hm * (A0 * p0 + A1 * p1 + A2 * p2) - B0 * p0 - B1 * p1) / p2;
    double W = sqrt(B0), V = sqrt(B1);
    double S = 0.5 * (W + V), d = S * S + B2;
    if (d < 0.0) d = 0.0; /* not reached for 8..192 kHz; keeps the zeros real if it were */
    q->b1 = 0.5 * (W - V);
    q->b0 = 0.5 * (S + sqrt(d));
    q->b2 = 0.5 * (S - sqrt(d));
}

static void design(cm_aw *a, double fs)
{
    double p1 = bilinear_pole(AW_F1, fs);
    double p2 = bilinear_pole(AW_F2, fs);
    double p3 = bilinear_pole(AW_F3, fs);
    a->sec[0] = (aw_biquad){1.0, -2.0, 1.0, -2.0 * p1, p1 * p1};
    a->sec[1] = (aw_biquad){1.0, -2.0, 1.0, -(p2 + p3), p2 * p3};
    design_hf(&a->sec[2], fs);
    double w1k = 2.0 * PI * 1000.0 / fs, g = 1.0;
    for (int k = 0; k < AW_NSEC; k++) g *= biquad_mag(&a->sec[k], w1k);
    /* The 1 kHz normalisation goes into section 1, which sees the raw input. */
    a->sec[0].b0 /= g;
    a->sec[0].b1 /= g;
    a->sec[0].b2 /= g;
}

/* r = p * q for polynomials in z^-1 of np and nq coefficients; r has np + nq - 1. */
static void poly_mul(const long double *p, int np, const long double *q, int nq, long double *r)
{
    for (int i = 0; i < np + nq - 1; i++) r[i] = 0.0L;
    for (int i = 0; i < np; i++)
        for (int j = 0; j < nq; j++) r[i + j] += p[i] * q[j];
}

/* The parallel form of the cascade (see the header): unknowns u = (c1_0, c1_1, c2_0, c2_1,
 * e_0, e_1, e_2), equations: the 7 coefficients of N = C1 A2 A3 + C2 A1 A3 + E A1 A2. The
 * matrix is regular when the sections share no pole (20.6, 107.7/737.9, 12194 Hz). */
static void design_parallel(cm_aw *a)
{
    long double A[AW_NSEC][3], B[AW_NSEC][3], N[7], t[5], n2[5];
    for (int k = 0; k < AW_NSEC; k++) {
        A[k][0] = 1.0L, A[k][1] = a->sec[k].a1, A[k][2] = a->sec[k].a2;
        B[k][0] = a->sec[k].b0, B[k][1] = a->sec[k].b1, B[k][2] = a->sec[k].b2;
    }
    poly_mul(B[0], 3, B[1], 3, t);
    poly_mul(t, 5, B[2], 3, N);
    /* Column j of the matrix: the product that multiplies unknown j, shifted by its power. */
    long double M[7][8] = {{0}};
    const int other[AW_NSEC][2] = {{1, 2}, {0, 2}, {0, 1}};
    for (int k = 0; k < AW_NSEC; k++) {
        poly_mul(A[other[k][0]], 3, A[other[k][1]], 3, n2); /* degree 4 */
        int ncol = k < 2 ? 2 : 3, col0 = 2 * k;
        for (int s = 0; s < ncol; s++)
            for (int i = 0; i < 5; i++) M[i + s][col0 + s] = n2[i];
    }
    for (int i = 0; i < 7; i++) M[i][7] = N[i];
    /* Gaussian elimination with partial pivoting. */
    for (int c = 0; c < 7; c++) {
        int piv = c;
        for (int r = c + 1; r < 7; r++)
            if (fabsl(M[r][c]) > fabsl(M[piv][c])) piv = r;
        for (int j = 0; j < 8; j++) {
            long double tmp = M[c][j];
            M[c][j] = M[piv][j];
            M[piv][j] = tmp;
        }
        for (int r = c + 1; r < 7; r++) {
            long double f = M[r][c] / M[c][c];
            for (int j = c; j < 8; j++) M[r][j] -= f * M[c][j];
        }
    }
    long double u[7];
    for (int c = 6; c >= 0; c--) {
        long double v = M[c][7];
        for (int j = c + 1; j < 7; j++) v -= M[c][j] * u[j];
        u[c] = v / M[c][c];
    }
    v4d z = {0, 0, 0, 0}, b0 = z, b1 = z, b2 = z;
    a->a1 = a->a2 = z;
    for (int k = 0; k < AW_NSEC; k++) {
        a->a1[k] = a->sec[k].a1;
        a->a2[k] = a->sec[k].a2;
    }
    b0[0] = (double)u[0], b1[0] = (double)u[1];
    b0[1] = (double)u[2], b1[1] = (double)u[3];
    b0[2] = (double)u[4], b1[2] = (double)u[5], b2[2] = (double)u[6];
    a->q1 = a->a1 * a->a1 - a->a2;
    a->q2 = a->a1 * a->a2;
    a->f1 = b1 - b0 * a->a1;
    a->f2 = b2 - b0 * a->a2;
    a->k0 = HSUM4(b0);
}

cm_status cm_aw_create(unsigned rate_hz, cm_aw **out, cm_diag *why)
{
    assert(out);
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (rate_hz < CM_RATE_MIN_HZ || rate_hz > CM_RATE_MAX_HZ)
        return cm_diag_fail(why, CM_E_RANGE, "rate_hz=%u: must be %u..%u", rate_hz,
                            CM_RATE_MIN_HZ, CM_RATE_MAX_HZ);
    /* aligned_alloc: the vector members need 32-byte alignment. */
    cm_aw *a = aligned_alloc(32, (sizeof *a + 31) / 32 * 32);
    if (!a) return cm_diag_fail(why, CM_E_NOMEM, "A-weighting: out of memory");
    memset(a, 0, sizeof *a);
    a->rate_hz = rate_hz;
    design(a, (double)rate_hz);
    design_parallel(a);
    a->decay = exp(-1.0 / (AW_FAST_TAU_S * (double)rate_hz));
    a->gain_in = 1.0 - a->decay;
    a->d2 = a->decay * a->decay;
    a->dg = a->decay * a->gain_in;
    cm_aw_reset(a);
    *out = a;
    return CM_OK;
}

void cm_aw_destroy(cm_aw *a) { free(a); }

void cm_aw_reset(cm_aw *a)
{
    assert(a);
    if (!a) return;
    v4d z = {0, 0, 0, 0};
    a->w1 = a->w2 = z;
    a->ms = a->ms_read = 0.0;
    a->pos = 0;
    a->pending = 0;
    a->xp = 0.0f;
}


/* Steps the pairs (x[0], x[1]), (x[2], x[3]), ... of n (even) samples; returns the largest
 * Fast mean square among them (0 if none). The state lives in locals so that it stays in
 * registers. */
CM_AW_CLONES
static double run_pairs(cm_aw *a, const float *x, size_t n)
{
    const v4d a1 = a->a1, a2 = a->a2, q1 = a->q1, q2 = a->q2, f1 = a->f1, f2 = a->f2;
    const double d = a->decay, g = a->gain_in, d2 = a->d2, dg = a->dg, k0 = a->k0;
    v4d w1 = a->w1, w2 = a->w2;
    double ms = a->ms, mx = 0.0;
    for (size_t i = 0; i < n; i += 2) {
        double x0 = (double)x[i], x1 = (double)x[i + 1];
        v4d xv0 = {x0, x0, x0, x0};
        v4d xv1 = {x1, x1, x1, x1};
        v4d wn = (xv0 - a2 * w2) - a1 * w1;
        v4d wn1 = ((xv1 - a1 * xv0) + q2 * w2) + q1 * w1;
        v4d u = f1 * w1 + f2 * w2, v = f1 * wn + f2 * w1;
        /* Both sums at once, each in HSUM4's order: (u0 + u1) + (u2 + u3). */
        v4d p = __builtin_shufflevector(u, v, 0, 4, 2, 6) + __builtin_shufflevector(u, v, 1, 5, 3, 7);
        double y0 = k0 * x0 + (p[0] + p[2]);
        double y1 = k0 * x1 + (p[1] + p[3]);
        double m0 = d * ms + g * (y0 * y0);
        ms = (d2 * ms + dg * (y0 * y0)) + g * (y1 * y1);
        w2 = wn;
        w1 = wn1;
        double m = m0 > ms ? m0 : ms;
        mx = m > mx ? m : mx;
    }
    a->w1 = w1, a->w2 = w2;
    a->ms = ms;
    return mx;
}

/* The first half of a pair step alone: the Fast mean square after sample x, state unchanged. */
static double peek(const cm_aw *a, float xf)
{
    double x0 = (double)xf;
    double y0 = a->k0 * x0 + HSUM4(a->f1 * a->w1 + a->f2 * a->w2);
    return a->decay * a->ms + a->gain_in * (y0 * y0);
}

static void flush_tiny(cm_aw *a)
{
    int tiny = 1;
    for (int k = 0; k < 4 && tiny; k++)
        tiny = fabs(a->w1[k]) < AW_STATE_FLOOR && fabs(a->w2[k]) < AW_STATE_FLOOR;
    if (tiny) {
        v4d z = {0, 0, 0, 0};
        a->w1 = a->w2 = z;
    }
    if (a->ms < AW_MS_FLOOR) a->ms = 0.0;
}

/* Counts m stepped samples; at absolute multiples of AW_SUBBLOCK, the denormal check. */
static void advance(cm_aw *a, size_t m)
{
    a->pos += m;
    if (a->pos % AW_SUBBLOCK == 0) flush_tiny(a);
}

/* Steps n (even) samples, cutting at absolute multiples of AW_SUBBLOCK for the denormal check. */
static double run(cm_aw *a, const float *x, size_t n)
{
    double mx = 0.0;
    while (n) {
        size_t to_edge = AW_SUBBLOCK - (size_t)(a->pos % AW_SUBBLOCK);
        size_t m = n < to_edge ? n : to_edge;
        double v = run_pairs(a, x, m);
        if (v > mx) mx = v;
        advance(a, m);
        x += m;
        n -= m;
    }
    return mx;
}

void cm_aw_process(cm_aw *a, const float *x, size_t n, double *ms_max)
{
    assert(a && (x || n == 0));
    double mx = 0.0;
    if (a && (x || n == 0) && n) {
        if (a->pending) {
            /* The pending sample's reading belonged to the previous call: only its partner's
             * counts here. */
            float pair[2] = {a->xp, x[0]};
            (void)run_pairs(a, pair, 2);
            mx = a->ms;
            advance(a, 2);
            a->pending = 0;
            x++, n--;
        }
        double v = run(a, x, n & ~(size_t)1);
        if (v > mx) mx = v;
        a->ms_read = a->ms;
        if (n & 1) {
            a->xp = x[n - 1];
            a->pending = 1;
            a->ms_read = peek(a, a->xp);
            if (a->ms_read > mx) mx = a->ms_read;
        }
    }
    if (ms_max) *ms_max = mx;
}

double cm_aw_ms(const cm_aw *a) { return a ? a->ms_read : NAN; }

double cm_aw_response_db(const cm_aw *a, double f_hz)
{
    if (!a || !(f_hz >= 0.0)) return NAN;
    double w = 2.0 * PI * f_hz / (double)a->rate_hz, m = 1.0;
    for (int k = 0; k < AW_NSEC; k++) m *= biquad_mag(&a->sec[k], w);
    return m > 0.0 ? 20.0 * log10(m) : -INFINITY;
}

double cm_db_from_ms(double ms) { return ms > 0.0 ? 10.0 * log10(ms) : -INFINITY; }
