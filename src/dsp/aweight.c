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
 * Arithmetic is double in direct form I with the recursive term added last, which keeps the
 * loop-carried path to one multiply and one add per section. Prototype on the project machine,
 * 1 h of 44.1 kHz: DF-I 0.51 s, transposed DF-II 0.64 s, float no faster than double (the loop
 * is latency-bound, not throughput-bound). This file: 0.62-0.69 s/h at 44.1 kHz, 0.22 s/h at
 * 16 kHz (shared machine, +-10 %). Double also keeps the 20.6 Hz poles (1 - r = 6.7e-4 at
 * 192 kHz) exact.
 *
 * Fast time weighting: ms[n] = d ms[n-1] + (1 - d) y[n]^2, d = exp(-1 / (0.125 s * fs)); after a
 * step off the level falls 10 log10(e) / 0.125 s = 34.7 dB/s (IEC 61672-1 5.7).
 *
 * Denormals: after a signal stops, the states decay towards the subnormal range, where x86
 * arithmetic is ~100x slower, and the one-pole can get stuck on a subnormal value. Input is
 * processed in sub-blocks; between sub-blocks, states below 1e-25 (-500 dBFS) are set to 0 and
 * a mean square below 1e-40 (-400 dB) to 0, so digital silence reads -INFINITY. */
#include "crymeter/loudness.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

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

struct cm_aw {
    aw_biquad sec[AW_NSEC];
    /* w[k][0..1]: the last two inputs of section k; w[AW_NSEC]: last two outputs. Section k's
     * output history is section k+1's input history, so 8 values hold all DF-I state. */
    double w[AW_NSEC + 1][2];
    double ms;        /* Fast mean square, linear, full-scale square = 1 */
    double decay;     /* exp(-1 / (tau fs)) */
    double gain_in;   /* 1 - decay */
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

cm_status cm_aw_create(unsigned rate_hz, cm_aw **out, cm_diag *why)
{
    assert(out);
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (rate_hz < CM_RATE_MIN_HZ || rate_hz > CM_RATE_MAX_HZ)
        return cm_diag_fail(why, CM_E_RANGE, "rate_hz=%u: must be %u..%u", rate_hz,
                            CM_RATE_MIN_HZ, CM_RATE_MAX_HZ);
    cm_aw *a = calloc(1, sizeof *a);
    if (!a) return cm_diag_fail(why, CM_E_NOMEM, "A-weighting: out of memory");
    a->rate_hz = rate_hz;
    design(a, (double)rate_hz);
    a->decay = exp(-1.0 / (AW_FAST_TAU_S * (double)rate_hz));
    a->gain_in = 1.0 - a->decay;
    *out = a;
    return CM_OK;
}

void cm_aw_destroy(cm_aw *a) { free(a); }

void cm_aw_reset(cm_aw *a)
{
    assert(a);
    if (!a) return;
    for (int k = 0; k <= AW_NSEC; k++) a->w[k][0] = a->w[k][1] = 0.0;
    a->ms = 0.0;
}

/* One sub-block with the state in locals, so the compiler keeps it in registers. */
static double run(cm_aw *a, const float *x, size_t n)
{
    const aw_biquad s0 = a->sec[0], s1 = a->sec[1], s2 = a->sec[2];
    double x1 = a->w[0][0], x2 = a->w[0][1];
    double u1 = a->w[1][0], u2 = a->w[1][1];
    double v1 = a->w[2][0], v2 = a->w[2][1];
    double y1 = a->w[3][0], y2 = a->w[3][1];
    double ms = a->ms, mx = 0.0;
    const double d = a->decay, g = a->gain_in;
    for (size_t i = 0; i < n; i++) {
        double x0 = (double)x[i];
        double u0 = (s0.b0 * x0 + s0.b1 * x1 + s0.b2 * x2 - s0.a2 * u2) - s0.a1 * u1;
        double v0 = (s1.b0 * u0 + s1.b1 * u1 + s1.b2 * u2 - s1.a2 * v2) - s1.a1 * v1;
        double y0 = (s2.b0 * v0 + s2.b1 * v1 + s2.b2 * v2 - s2.a2 * y2) - s2.a1 * y1;
        x2 = x1, x1 = x0;
        u2 = u1, u1 = u0;
        v2 = v1, v1 = v0;
        y2 = y1, y1 = y0;
        ms = d * ms + g * (y0 * y0);
        mx = ms > mx ? ms : mx;
    }
    a->w[0][0] = x1, a->w[0][1] = x2;
    a->w[1][0] = u1, a->w[1][1] = u2;
    a->w[2][0] = v1, a->w[2][1] = v2;
    a->w[3][0] = y1, a->w[3][1] = y2;
    a->ms = ms;
    return mx;
}

static void flush_tiny(cm_aw *a)
{
    int tiny = 1;
    for (int k = 0; k <= AW_NSEC && tiny; k++)
        tiny = fabs(a->w[k][0]) < AW_STATE_FLOOR && fabs(a->w[k][1]) < AW_STATE_FLOOR;
    if (tiny)
        for (int k = 0; k <= AW_NSEC; k++) a->w[k][0] = a->w[k][1] = 0.0;
    if (a->ms < AW_MS_FLOOR) a->ms = 0.0;
}

void cm_aw_process(cm_aw *a, const float *x, size_t n, double *ms_max)
{
    assert(a && (x || n == 0));
    double mx = 0.0;
    if (a && (x || n == 0)) {
        for (size_t i = 0; i < n; i += AW_SUBBLOCK) {
            size_t m = n - i < AW_SUBBLOCK ? n - i : AW_SUBBLOCK;
            double v = run(a, x + i, m);
            if (v > mx) mx = v;
            flush_tiny(a);
        }
    }
    if (ms_max) *ms_max = mx;
}

double cm_aw_ms(const cm_aw *a) { return a ? a->ms : NAN; }

double cm_aw_response_db(const cm_aw *a, double f_hz)
{
    if (!a || !(f_hz >= 0.0)) return NAN;
    double w = 2.0 * PI * f_hz / (double)a->rate_hz, m = 1.0;
    for (int k = 0; k < AW_NSEC; k++) m *= biquad_mag(&a->sec[k], w);
    return m > 0.0 ? 20.0 * log10(m) : -INFINITY;
}

double cm_db_from_ms(double ms) { return ms > 0.0 ? 10.0 * log10(ms) : -INFINITY; }
