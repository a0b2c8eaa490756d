/* SPDX-License-Identifier: MIT */
/* Sob generator (sobgen.h): breath-noise inhalation pulses and voiced rise-fall exhalations
 * at a chosen rate, jitter, level and SNR, deterministic for a seed. Each element is rendered
 * raw, then scaled so that its RMS over its own duration is the requested level; the noise
 * is rendered twice from the same generator state (once to measure its power, once to add
 * it), so nothing is allocated. */
#include "crymeter/learn/sobgen.h"

#include <math.h>
#include <string.h>

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

static double rng_gauss(rng *r)
{
    double u = rng_uniform(r), v = rng_uniform(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* RBJ biquad, direct form I. */
typedef struct biquad {
    double b0, b1, b2, a1, a2, x1, x2, y1, y2;
} biquad;

static void bq_init(biquad *q, double fc, double rate, bool highpass)
{
    const double w = 2.0 * M_PI * fc / rate, c = cos(w), al = sin(w) / (2.0 * M_SQRT1_2);
    const double a0 = 1.0 + al;
    memset(q, 0, sizeof *q);
    if (highpass) {
        q->b0 = (1.0 + c) / 2.0 / a0;
        q->b1 = -(1.0 + c) / a0;
    } else {
        q->b0 = (1.0 - c) / 2.0 / a0;
        q->b1 = (1.0 - c) / a0;
    }
    q->b2 = q->b0;
    q->a1 = -2.0 * c / a0;
    q->a2 = (1.0 - al) / a0;
}

static double bq_run(biquad *q, double x)
{
    double y = q->b0 * x + q->b1 * q->x1 + q->b2 * q->x2 - q->a1 * q->y1 - q->a2 * q->y2;
    q->x2 = q->x1;
    q->x1 = x;
    q->y2 = q->y1;
    q->y1 = y;
    return y;
}

cm_sobgen_config cm_sobgen_config_default(void)
{
    cm_sobgen_config c;
    memset(&c, 0, sizeof c);
    c.rate_hz = 16000;
    c.duration_s = 20.0;
    c.lead_s = 1.0;
    c.tail_s = 1.0;
    c.pulse_rate_hz = 0.8;
    c.jitter = 0.05;
    c.inhale_min_ms = 120.0;
    c.inhale_max_ms = 300.0;
    c.exhale_min_s = 0.3;
    c.exhale_max_s = 1.4;
    c.gap_ms = 80.0;
    c.f0_lo_hz = 300.0;
    c.f0_hi_hz = 600.0;
    c.level_dbfs = -20.0;
    c.inhale_rel_db = -6.0;
    c.inhale = true;
    c.exhale = true;
    c.exhale_until_s = INFINITY;
    c.noise = CM_SOBGEN_NOISE_WHITE;
    c.snr_db = 20.0;
    c.seed = 1;
    return c;
}

size_t cm_sobgen_samples(const cm_sobgen_config *c)
{
    if (!c || !(c->duration_s > 0.0) || c->duration_s > 86400.0) return 0;
    return (size_t)llround(c->duration_s * c->rate_hz);
}

#define RANGE(f, lo, hi)                                                                    \
    do {                                                                                    \
        if (!(c->f >= (lo) && c->f <= (hi)))                                                \
            return cm_diag_fail(why, CM_E_RANGE, #f "=%g: must be %g..%g", (double)c->f,    \
                                (double)(lo), (double)(hi));                                \
    } while (0)

static cm_status check(const cm_sobgen_config *c, cm_diag *why)
{
    if (c->rate_hz < 8000 || c->rate_hz > 96000)
        return cm_diag_fail(why, CM_E_RANGE, "rate_hz=%u: must be 8000..96000", c->rate_hz);
    RANGE(duration_s, 0.1, 86400.0);
    RANGE(lead_s, 0.0, c->duration_s);
    RANGE(tail_s, 0.0, c->duration_s);
    RANGE(pulse_rate_hz, 0.1, 5.0);
    RANGE(jitter, 0.0, 0.55);
    RANGE(inhale_min_ms, 20.0, 1000.0);
    RANGE(inhale_max_ms, c->inhale_min_ms, 1000.0);
    RANGE(exhale_min_s, 0.05, 5.0);
    RANGE(exhale_max_s, c->exhale_min_s, 5.0);
    RANGE(gap_ms, 0.0, 1000.0);
    RANGE(f0_lo_hz, 50.0, 2000.0);
    RANGE(f0_hi_hz, 50.0, 2000.0);
    RANGE(level_dbfs, -80.0, 0.0);
    RANGE(inhale_rel_db, -40.0, 20.0);
    RANGE(snr_db, -20.0, 80.0);
    if (isnan(c->exhale_until_s))
        return cm_diag_fail(why, CM_E_RANGE, "exhale_until_s=nan: must be a number");
    if (c->noise != CM_SOBGEN_NOISE_NONE && c->noise != CM_SOBGEN_NOISE_WHITE &&
        c->noise != CM_SOBGEN_NOISE_PINK)
        return cm_diag_fail(why, CM_E_RANGE, "noise=%d: must be 0 (none), 1 (white), 2 (pink)",
                            (int)c->noise);
    return CM_OK;
}

/* Scales x[0..n) so that its RMS is rms; returns the power written (sum of squares). */
static double scale_to(float *x, size_t n, double rms)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    if (n == 0 || ss <= 0.0) return 0.0;
    double g = rms / sqrt(ss / (double)n);
    for (size_t i = 0; i < n; i++) x[i] = (float)(x[i] * g);
    return ss * g * g;
}

static double render_inhale(float *x, size_t n, double rate, rng *r, double rms)
{
    biquad hp1, hp2, lp1, lp2;
    bq_init(&hp1, 500.0, rate, true);
    bq_init(&hp2, 500.0, rate, true);
    const bool lp = 4000.0 < 0.45 * rate;
    if (lp) {
        bq_init(&lp1, 4000.0, rate, false);
        bq_init(&lp2, 4000.0, rate, false);
    }
    const double att = 0.010 * rate;
    /* exponential decay from the end of the attack to -12 dB at the end */
    const double k = (n > att + 1.0) ? log(0.25) / ((double)n - att) : 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = bq_run(&hp2, bq_run(&hp1, rng_gauss(r)));
        if (lp) v = bq_run(&lp2, bq_run(&lp1, v));
        double env = (double)i < att ? (double)i / att : exp(k * ((double)i - att));
        x[i] = (float)(v * env);
    }
    return scale_to(x, n, rms);
}

static double render_exhale(float *x, size_t n, double rate, double f_lo, double f_hi, double rms)
{
    const double att = 0.030 * rate, rel = 0.060 * rate, fmax = fmin(0.45 * rate, 7000.0);
    double ph = 0.0;
    for (size_t i = 0; i < n; i++) {
        double u = (double)i / (double)n;
        double f0 = f_lo + (f_hi - f_lo) * sin(M_PI * u);
        double v = 0.0;
        for (unsigned h = 1; h * f0 < fmax && h <= 64; h++) v += sin(h * ph) / h;
        ph += 2.0 * M_PI * f0 / rate;
        if (ph > 2.0 * M_PI) ph -= 2.0 * M_PI;
        double env = 1.0;
        if ((double)i < att) env = 0.5 - 0.5 * cos(M_PI * (double)i / att);
        double left = (double)(n - i);
        if (left < rel) env *= 0.5 - 0.5 * cos(M_PI * left / rel);
        x[i] = (float)(v * env);
    }
    return scale_to(x, n, rms);
}

/* Kellet's economy pink filter (-3 dB/octave within 0.5 dB above ~10 Hz at 44.1 kHz). */
typedef struct pink {
    double b0, b1, b2;
} pink;

static double noise_sample(cm_sobgen_noise kind, rng *r, pink *p)
{
    double w = rng_gauss(r);
    if (kind == CM_SOBGEN_NOISE_WHITE) return w;
    p->b0 = 0.99765 * p->b0 + w * 0.0990460;
    p->b1 = 0.96300 * p->b1 + w * 0.2965164;
    p->b2 = 0.57000 * p->b2 + w * 1.0526913;
    return p->b0 + p->b1 + p->b2 + w * 0.1848;
}

cm_status cm_sobgen_render(const cm_sobgen_config *c, float *out, size_t n,
                           cm_sobgen_event *ev, size_t ev_cap, size_t *n_ev, cm_diag *why)
{
    if (n_ev) *n_ev = 0;
    if (!c || !out || (!ev && ev_cap)) return CM_E_INVAL;
    cm_status st = check(c, why);
    if (st != CM_OK) return st;
    if (n != cm_sobgen_samples(c))
        return cm_diag_fail(why, CM_E_RANGE, "n=%zu: must be %zu (duration_s * rate_hz)", n,
                            cm_sobgen_samples(c));
    memset(out, 0, n * sizeof *out);
    const double rate = c->rate_hz;
    rng r = {c->seed ? c->seed : 1};
    const double ex_rms = pow(10.0, c->level_dbfs / 20.0);
    const double in_rms = ex_rms * pow(10.0, c->inhale_rel_db / 20.0);
    double act_ss = 0.0;
    size_t act_n = 0, nev = 0;
    double t = c->lead_s;
    const double t_stop = c->duration_s - c->tail_s;
    while (t < t_stop) {
        double period = (1.0 + c->jitter * sqrt(3.0) * (2.0 * rng_uniform(&r) - 1.0)) /
                        c->pulse_rate_hz;
        double d_in = (c->inhale_min_ms + (c->inhale_max_ms - c->inhale_min_ms) *
                       rng_uniform(&r)) / 1000.0;
        double d_ex = c->exhale_min_s + (c->exhale_max_s - c->exhale_min_s) * rng_uniform(&r);
        if (period < d_in + 0.05) period = d_in + 0.05;
        double t_ex = t + d_in + c->gap_ms / 1000.0;
        if (t_ex + d_ex > t + period - 0.15) d_ex = t + period - 0.15 - t_ex;
        if (c->inhale) {
            size_t a = (size_t)llround(t * rate), b = (size_t)llround((t + d_in) * rate);
            if (b > n) b = n;
            if (b > a) {
                act_ss += render_inhale(out + a, b - a, rate, &r, in_rms);
                act_n += b - a;
                if (nev < ev_cap)
                    ev[nev] = (cm_sobgen_event){CM_SOBGEN_INHALE, (double)a / rate, (double)b / rate};
                nev++;
            }
        }
        if (c->exhale && t < c->exhale_until_s && d_ex >= 0.1) {
            size_t a = (size_t)llround(t_ex * rate), b = (size_t)llround((t_ex + d_ex) * rate);
            if (b > n) b = n;
            if (b > a) {
                act_ss += render_exhale(out + a, b - a, rate, c->f0_lo_hz, c->f0_hi_hz, ex_rms);
                act_n += b - a;
                if (nev < ev_cap)
                    ev[nev] = (cm_sobgen_event){CM_SOBGEN_EXHALE, (double)a / rate, (double)b / rate};
                nev++;
            }
        }
        t += period;
    }
    if (n_ev) *n_ev = nev;
    if (c->noise == CM_SOBGEN_NOISE_NONE) return CM_OK;
    /* Noise: measure, then add from the same generator state. */
    const rng r0 = r;
    pink p = {0, 0, 0};
    double nss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = noise_sample(c->noise, &r, &p);
        nss += v * v;
    }
    double p_sig = act_n ? act_ss / (double)act_n : ex_rms * ex_rms;
    double p_noise = nss / (double)n;
    double g = p_noise > 0.0 ? sqrt(p_sig / pow(10.0, c->snr_db / 10.0) / p_noise) : 0.0;
    r = r0;
    memset(&p, 0, sizeof p);
    for (size_t i = 0; i < n; i++) out[i] += (float)(g * noise_sample(c->noise, &r, &p));
    return CM_OK;
}
