/* SPDX-License-Identifier: MIT */
/* Frame front end (include/crymeter/frontend.h): re-blocks 8 kHz mono into 200-sample
 * frames every 80 samples, windows them (Hann), takes one 256-point real FFT (kissfft) and
 * derives every per-frame feature from it: log-mel bands, spectral shape, level, and F0 with
 * a voicing strength. Speed matters (a 1 h file is 360,000 frames, and the whole analysis
 * should run in about the time `ffmpeg -af ebur128` needs), so everything is precomputed in
 * create, the mel filterbank is sparse, logs are a short polynomial, and the pitch tracker
 * reuses the forward FFT: a cosine transform of the low band of the power spectrum, at the
 * few lags the search reads, gives a coarse autocorrelation, and a handful of direct dot
 * products refine it at full rate. */
#include "crymeter/frontend.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kiss_fftr.h>

#define RATE ((float)CM_FRONT_RATE_HZ)
#define WIN ((int)CM_FRONT_WIN_SAMPLES)
#define HOP ((int)CM_FRONT_HOP_SAMPLES)
#define NFFT 256
#define PI_D 3.14159265358979323846
#define NBIN (NFFT / 2 + 1)
#define BIN_HZ (RATE / NFFT) /* 31.25 Hz */
/* A 256-point circular autocorrelation of a 200-sample frame is exact up to lag
 * 256 - 200 = 56 samples (7 ms): larger lags fold the other end of the frame in. */
#define ACF_EXACT_MAX (NFFT - WIN)
/* -120 dB floor of mel_db and rms_dbfs, as a power (1e-12 of a full-scale square). */
#define POW_FLOOR 1e-12f
/* Frames quieter than this skip the pitch tracker (voicing 0, f0 0): below -70 dBFS there is
 * nothing a listener would call a cry, and it saves the inverse FFT for silent stretches. */
#define PITCH_MIN_DBFS (-70.0f)
/* Octave guard: the smallest-lag autocorrelation peak within this fraction of the best one
 * wins, so the 2T, 3T peaks of a periodic signal (equal heights once the window taper is
 * divided out) never beat T. 0.9 is Boersma's (1993) "octave cost" in spirit, tuned on the
 * synthetic harmonic tones of tests/unit/test_frontend.c. */
#define OCTAVE_TOL 0.9f

/* The hot loops use GCC/Clang generic vectors: 4 floats map to SSE on x86-64 and NEON on
 * arm64 without target-specific intrinsics or -ffast-math. */
#if !(defined(__GNUC__) || defined(__clang__))
#error "frontend.c needs GCC or Clang vector extensions"
#endif
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
#define ROUND4(n) (((n) + 3) & ~3)

struct cm_front {
    cm_front_config cfg;
    kiss_fftr_cfg fwd;   /* 256-point forward, owned: the cfg holds scratch space */
    int dec;             /* coarse lag step in samples (2 if f0_max <= 1000 Hz, else 1) */
    int nc;              /* NFFT / dec: the coarse autocorrelation's period, in steps */
    /* Coarse autocorrelation as a matrix: row 0 gives lag 0, row 1 + j lag (m_lo - 1 + j)
     * steps; each row holds the nc/2 weights of bins 1..nc/2 (see coarse_acf), padded to a
     * multiple of 4 with zeros. */
    float *cos_t;
    int ct_rows, ct_cols;
    int lag_lo, lag_hi;  /* full-rate lag search range, samples */
    int m_lo, m_hi;      /* coarse search range, in units of dec */
    float pow_scale;     /* |X_k|^2 -> one-sided mean-square contribution */

    float win[WIN];               /* periodic Hann */
    float inv_rw[WIN];            /* rw(0)/rw(tau): divides the window's own taper out */
    int mel_lo[CM_FRONT_MAX_MEL]; /* first bin of each band */
    int mel_n[CM_FRONT_MAX_MEL];  /* number of bins */
    float *mel_w;                 /* weights, band after band */
    int sh_lo, sh_hi;             /* spectral-shape bins, inclusive */
    float bin_hz[NBIN];

    /* work buffers */
    float frame[WIN];      /* assembled frame when it straddles two pushes */
    float y[NFFT];         /* windowed frame, zero-padded: FFT input */
    kiss_fft_cpx spec[NBIN];
    int pw_hi;            /* highest bin any feature reads */
    float pw[NBIN + 8];    /* one-sided power spectrum, mean-square units; zero padded so
                              that 4-wide reads past a band's end stay finite */
    float pf[NBIN + 8];    /* pw floored at POW_FLOOR over the shape range */
    float mel_e[CM_FRONT_MAX_MEL];
    float cacf[NFFT / 2 + 4]; /* coarse autocorrelation at lags m_lo - 1 .. m_hi + 1 */

    /* stream state */
    float buf[WIN];        /* samples from the start of the next frame */
    int nbuf;              /* < WIN between calls */
    uint64_t samples_in;
    uint64_t frames_out;
    int flushed;
    int have_prev;
    float prev_mel[CM_FRONT_MAX_MEL];
};

cm_front_config cm_front_config_default(void)
{
    cm_front_config c;
    c.n_mel = 40;
    c.fmin_hz = 50.0f;
    c.fmax_hz = 3500.0f;
    c.f0_min_hz = 150.0f;
    c.f0_max_hz = 1000.0f;
    c.voicing_threshold = 0.45f;
    return c;
}

/* log2(x) for x > 0 normal: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * log2(m) = (2/ln 2) atanh(t), t = (m-1)/(m+1), |t| <= 0.172; three odd terms leave an
 * error below |t|^7/7 * 2.885 = 2e-6 (6e-6 dB in 10*log10), far under any feature's noise. */
static inline float fast_log2(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    int e = (int)((u >> 23) & 0xffu) - 127;
    u = (u & 0x007fffffu) | 0x3f800000u; /* m in [1, 2) */
    float m;
    memcpy(&m, &u, sizeof m);
    if (m > 1.41421356f) {
        m *= 0.5f;
        e += 1;
    }
    float t = (m - 1.0f) / (m + 1.0f);
    float t2 = t * t;
    float p = t * (2.88539008f + t2 * (0.96179669f + t2 * 0.57707801f));
    return (float)e + p;
}

/* fast_log2 on four lanes at once; same polynomial, same error. */
static inline v4f fast_log2_v(v4f x)
{
    v4i u = (v4i)x;
    v4i e = ((u >> 23) & 0xff) - 127;
    v4f m = (v4f)((u & 0x007fffff) | 0x3f800000);
    v4i big = m > 1.41421356f; /* -1 where true */
    e -= big;
    m *= 1.0f + 0.5f * __builtin_convertvector(big, v4f); /* halve where big */
    v4f t = (m - 1.0f) / (m + 1.0f);
    v4f t2 = t * t;
    v4f p = t * (2.88539008f + t2 * (0.96179669f + t2 * 0.57707801f));
    return __builtin_convertvector(e, v4f) + p;
}

static inline float hsum(v4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }

#define DB_PER_LOG2 3.01029996f /* 10*log10(2) */

static float dot(const float *a, const float *b, int n)
{
    int i = 0;
    float s;
    v4f acc0 = {0, 0, 0, 0}, acc1 = {0, 0, 0, 0};
    for (; i + 8 <= n; i += 8) {
        v4f a0, a1, b0, b1;
        memcpy(&a0, a + i, sizeof a0);
        memcpy(&a1, a + i + 4, sizeof a1);
        memcpy(&b0, b + i, sizeof b0);
        memcpy(&b1, b + i + 4, sizeof b1);
        acc0 += a0 * b0;
        acc1 += a1 * b1;
    }
    acc0 += acc1;
    s = hsum(acc0);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static float hz_to_mel(float f) { return 2595.0f * log10f(1.0f + f / 700.0f); }
static float mel_to_hz(float m) { return 700.0f * (powf(10.0f, m / 2595.0f) - 1.0f); }

static cm_status check_config(const cm_front_config *c, cm_diag *why)
{
    if (c->n_mel < 8 || c->n_mel > CM_FRONT_MAX_MEL)
        return cm_diag_fail(why, CM_E_RANGE, "n_mel=%u: must be 8..%u", c->n_mel,
                            CM_FRONT_MAX_MEL);
    /* Written as !(in range) so that NaN is rejected too. */
    if (!(c->fmin_hz >= 0.0f && c->fmin_hz <= 3900.0f))
        return cm_diag_fail(why, CM_E_RANGE, "fmin_hz=%g: must be 0..3900",
                            (double)c->fmin_hz);
    if (!(c->fmax_hz >= c->fmin_hz + 100.0f && c->fmax_hz <= 4000.0f))
        return cm_diag_fail(why, CM_E_RANGE,
                            "fmax_hz=%g: must be fmin_hz+100 (%g)..4000",
                            (double)c->fmax_hz, (double)(c->fmin_hz + 100.0f));
    if (!(c->f0_min_hz >= 146.0f && c->f0_min_hz < 2000.0f))
        return cm_diag_fail(why, CM_E_RANGE,
                            "f0_min_hz=%g: must be 146..2000 (exclusive); a 25 ms frame "
                            "cannot measure lower pitch", (double)c->f0_min_hz);
    if (!(c->f0_max_hz > c->f0_min_hz && c->f0_max_hz <= 2000.0f))
        return cm_diag_fail(why, CM_E_RANGE,
                            "f0_max_hz=%g: must be above f0_min_hz (%g) and at most 2000",
                            (double)c->f0_max_hz, (double)c->f0_min_hz);
    if (!(c->voicing_threshold >= 0.0f && c->voicing_threshold <= 1.0f))
        return cm_diag_fail(why, CM_E_RANGE, "voicing_threshold=%g: must be 0..1",
                            (double)c->voicing_threshold);
    return CM_OK;
}

/* Triangular filters on the HTK mel scale (2595 log10(1 + f/700)), n_mel + 2 equally spaced
 * edges from fmin to fmax, peak weight 1, so a sine at a band centre reads close to its own
 * power. A band narrower than one 31.25 Hz bin (64 bands from 50 Hz) would catch no bin
 * centre; it then takes the bin nearest its centre, so no band is stuck at the floor. */
static cm_status build_mel(cm_front *f)
{
    unsigned nb = f->cfg.n_mel;
    float mlo = hz_to_mel(f->cfg.fmin_hz), mhi = hz_to_mel(f->cfg.fmax_hz);
    float edge[CM_FRONT_MAX_MEL + 2];
    for (unsigned i = 0; i < nb + 2; i++)
        edge[i] = mel_to_hz(mlo + (mhi - mlo) * (float)i / (float)(nb + 1));
    size_t total = 0;
    for (unsigned b = 0; b < nb; b++) {
        int lo = (int)ceilf(edge[b] / BIN_HZ), hi = (int)floorf(edge[b + 2] / BIN_HZ);
        if (lo < 0) lo = 0;
        if (hi > NBIN - 1) hi = NBIN - 1;
        total += (size_t)ROUND4(hi >= lo ? hi - lo + 1 : 1);
    }
    f->mel_w = calloc(total, sizeof *f->mel_w);
    if (!f->mel_w) return CM_E_NOMEM;
    size_t off = 0;
    for (unsigned b = 0; b < nb; b++) {
        float l = edge[b], c = edge[b + 1], r = edge[b + 2];
        int lo = (int)ceilf(l / BIN_HZ), hi = (int)floorf(r / BIN_HZ);
        if (lo < 0) lo = 0;
        if (hi > NBIN - 1) hi = NBIN - 1;
        float *w = f->mel_w + off;
        float sum = 0.0f;
        int n = hi >= lo ? hi - lo + 1 : 0;
        for (int k = 0; k < n; k++) {
            float fk = (float)(lo + k) * BIN_HZ;
            float v = fk <= c ? (fk - l) / (c - l) : (r - fk) / (r - c);
            w[k] = v > 0.0f ? v : 0.0f;
            sum += w[k];
        }
        if (sum <= 0.0f) {
            int k = (int)lroundf(c / BIN_HZ);
            if (k > NBIN - 1) k = NBIN - 1;
            lo = k;
            n = 1;
            w[0] = 1.0f;
        }
        f->mel_lo[b] = lo;
        f->mel_n[b] = ROUND4(n); /* padded with zero weights */
        off += (size_t)ROUND4(n);
        if (lo + ROUND4(n) - 1 > f->pw_hi) f->pw_hi = lo + ROUND4(n) - 1;
    }
    return CM_OK;
}

cm_status cm_front_create(const cm_front_config *cfg, cm_front **out, cm_diag *why)
{
    if (why) why->msg[0] = '\0';
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!cfg) return cm_diag_fail(why, CM_E_INVAL, "cm_front_create: cfg is NULL");
    cm_status st = check_config(cfg, why);
    if (st != CM_OK) return st;

    cm_front *f = calloc(1, sizeof *f);
    if (!f) return cm_diag_fail(why, CM_E_NOMEM, "cm_front_create: out of memory");
    f->cfg = *cfg;

    /* Coarse autocorrelation: keep bins up to rate/(2*dec) and inverse-transform NFFT/dec
     * points, giving lags in steps of dec samples. dec 2 keeps 0..2 kHz, at least two
     * harmonics of any F0 up to 1 kHz; higher f0_max needs the 0..4 kHz band (dec 1). */
    f->dec = cfg->f0_max_hz <= 1000.0f ? 2 : 1;
    f->nc = NFFT / f->dec;
    f->fwd = kiss_fftr_alloc(NFFT, 0, NULL, NULL);
    if (!f->fwd) {
        cm_front_destroy(f);
        return cm_diag_fail(why, CM_E_NOMEM, "cm_front_create: out of memory");
    }
    st = build_mel(f);
    if (st != CM_OK) {
        cm_front_destroy(f);
        return cm_diag_fail(why, st, "cm_front_create: out of memory");
    }

    /* Periodic Hann (0.5 - 0.5 cos(2 pi n / N)), the usual STFT analysis window. */
    double wsum2 = 0.0;
    for (int n = 0; n < WIN; n++) {
        f->win[n] = (float)(0.5 - 0.5 * cos(2.0 * PI_D * n / WIN));
        wsum2 += (double)f->win[n] * f->win[n];
    }
    /* Window autocorrelation rw(tau): dividing the frame's normalised autocorrelation by
     * rw(tau)/rw(0) undoes the window's taper (Boersma 1993, eq. 9), so a periodic signal
     * scores about 1 at every multiple of its period. */
    {
        double rw0 = 0.0;
        for (int n = 0; n < WIN; n++) rw0 += (double)f->win[n] * f->win[n];
        for (int tau = 0; tau < WIN; tau++) {
            double r = 0.0;
            for (int n = 0; n + tau < WIN; n++) r += (double)f->win[n] * f->win[n + tau];
            f->inv_rw[tau] = r > 1e-9 * rw0 ? (float)(rw0 / r) : 0.0f;
        }
    }
    /* Parseval: sum y^2 = (1/NFFT) sum_k |Y_k|^2 over both sides; dividing by sum w^2 turns
     * the windowed energy into the frame's mean square, so a full-scale square reads 0 dB. */
    f->pow_scale = (float)(1.0 / ((double)NFFT * wsum2));

    for (int k = 0; k < NBIN; k++) f->bin_hz[k] = (float)k * BIN_HZ;
    f->sh_lo = (int)ceilf(cfg->fmin_hz / BIN_HZ);
    f->sh_hi = (int)floorf(cfg->fmax_hz / BIN_HZ);
    if (f->sh_hi > NBIN - 1) f->sh_hi = NBIN - 1;

    if (f->sh_hi > f->pw_hi) f->pw_hi = f->sh_hi;
    if (f->nc / 2 > f->pw_hi) f->pw_hi = f->nc / 2;
    if (f->pw_hi > NBIN - 1) f->pw_hi = NBIN - 1;

    f->lag_lo = (int)floorf(RATE / cfg->f0_max_hz);
    f->lag_hi = (int)ceilf(RATE / cfg->f0_min_hz);
    if (f->lag_lo < 2) f->lag_lo = 2;
    f->m_lo = (int)lroundf((float)f->lag_lo / (float)f->dec);
    f->m_hi = (int)lroundf((float)f->lag_hi / (float)f->dec);
    if (f->m_lo < 1) f->m_lo = 1;
    /* The local-maximum test looks one coarse step beyond m_hi. Up to lag 56 the circular
     * autocorrelation is exact; at lag tau > 56 it also holds r(256 - tau), which for
     * tau <= 60 overlaps only the 4 outermost samples of each end of the window, where
     * Hann is below 0.004: negligible. f0_min_hz >= 146 keeps (m_hi + 1) * dec <= 58. */
    assert((f->m_hi + 1) * f->dec <= ACF_EXACT_MAX + 4);

    /* The coarse autocorrelation is the inverse real DFT, at nc points, of the power
     * spectrum's bins 0..nc/2 with DC set to 0 (a microphone's offset is not periodicity):
     *     r(m) = P[nc/2] cos(pi m) + 2 sum_{k=1}^{nc/2-1} P[k] cos(2 pi k m / nc).
     * The search reads only lag 0 and lags m_lo-1 .. m_hi+1 (27 of 128 for the defaults), so
     * those rows of the transform, as a precomputed matrix, cost a quarter of the instructions
     * of a full inverse FFT (kiss_fftri, 128 points) and give the same values to float
     * rounding. */
    {
        int half = f->nc / 2;
        f->ct_cols = ROUND4(half);
        f->ct_rows = 1 + (f->m_hi + 1) - (f->m_lo - 1) + 1;
        f->cos_t = calloc((size_t)f->ct_rows * (size_t)f->ct_cols, sizeof *f->cos_t);
        if (!f->cos_t) {
            cm_front_destroy(f);
            return cm_diag_fail(why, CM_E_NOMEM, "cm_front_create: out of memory");
        }
        for (int r = 0; r < f->ct_rows; r++) {
            int m = r == 0 ? 0 : f->m_lo - 2 + r;
            for (int k = 1; k <= half; k++) {
                double wk = k < half ? 2.0 : 1.0;
                double ph = 2.0 * PI_D * (double)((k * m) % f->nc) / (double)f->nc;
                f->cos_t[(size_t)r * (size_t)f->ct_cols + (size_t)(k - 1)] = (float)(wk * cos(ph));
            }
        }
    }

    cm_front_reset(f);
    *out = f;
    return CM_OK;
}

void cm_front_destroy(cm_front *f)
{
    if (!f) return;
    kiss_fftr_free(f->fwd);
    free(f->cos_t);
    free(f->mel_w);
    free(f);
}

void cm_front_reset(cm_front *f)
{
    assert(f);
    if (!f) return;
    memset(f->buf, 0, sizeof f->buf);
    memset(f->y, 0, sizeof f->y); /* y[WIN..NFFT) stays zero: the FFT's zero padding */
    memset(f->prev_mel, 0, sizeof f->prev_mel);
    f->nbuf = 0;
    f->samples_in = 0;
    f->frames_out = 0;
    f->flushed = 0;
    f->have_prev = 0;
}

uint64_t cm_front_samples_in(const cm_front *f)
{
    assert(f);
    return f ? f->samples_in : 0;
}

size_t cm_front_frames_for(const cm_front *f, size_t n_samples)
{
    assert(f);
    if (!f || f->flushed) return 0;
    uint64_t t = f->samples_in + n_samples;
    uint64_t total = (t + HOP - 1) / HOP; /* what flush completes the stream to */
    return (size_t)(total - f->frames_out);
}

/* Full-band normalised autocorrelation of the windowed frame at lag t, taper divided out. */
static float acf_at(const cm_front *f, int t, float inv_r0)
{
    return dot(f->y, f->y + t, WIN - t) * inv_r0 * f->inv_rw[t];
}

/* Climbs the full-band normalised autocorrelation from lag t0 to its local maximum (at most
 * `reach` steps either way), then fits a parabola through it and its neighbours. */
static void refine(const cm_front *f, int t0, int reach, float inv_r0, float *lag, float *val)
{
    int t = t0;
    if (t < 2) t = 2;
    float a = acf_at(f, t - 1, inv_r0), b = acf_at(f, t, inv_r0), c = acf_at(f, t + 1, inv_r0);
    for (int step = 0; step < reach; step++) {
        if (a > b && a >= c && t > 2) {
            t--;
            c = b;
            b = a;
            a = acf_at(f, t - 1, inv_r0);
        } else if (c > b && t + 2 < WIN) {
            t++;
            a = b;
            b = c;
            c = acf_at(f, t + 1, inv_r0);
        } else {
            break;
        }
    }
    float den = a - 2.0f * b + c, d = 0.0f, v = b;
    if (den < 0.0f) {
        d = 0.5f * (a - c) / den;
        if (d > 0.5f) d = 0.5f;
        if (d < -0.5f) d = -0.5f;
        v = b - 0.25f * (a - c) * d;
    }
    *lag = (float)t + d;
    *val = v;
}

/* The coarse autocorrelation (see cm_front_create): fills cacf[m] for m = m_lo-1 .. m_hi+1
 * and returns lag 0. Rows go four at a time so that each block of the spectrum is loaded once
 * per four rows; the columns read pw[1 .. ct_cols], inside pw's padding. */
static float coarse_acf(cm_front *f)
{
    const int cols = f->ct_cols, rows = f->ct_rows;
    const float *p = f->pw + 1;
    float out[NFFT / 2 + 8];
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *t0 = f->cos_t + (size_t)r * (size_t)cols, *t1 = t0 + cols, *t2 = t1 + cols,
                    *t3 = t2 + cols;
        v4f a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < cols; k += 4) {
            v4f pv, c;
            memcpy(&pv, p + k, sizeof pv);
            memcpy(&c, t0 + k, sizeof c);
            a0 += c * pv;
            memcpy(&c, t1 + k, sizeof c);
            a1 += c * pv;
            memcpy(&c, t2 + k, sizeof c);
            a2 += c * pv;
            memcpy(&c, t3 + k, sizeof c);
            a3 += c * pv;
        }
        out[r] = hsum(a0);
        out[r + 1] = hsum(a1);
        out[r + 2] = hsum(a2);
        out[r + 3] = hsum(a3);
    }
    for (; r < rows; r++) {
        const float *t0 = f->cos_t + (size_t)r * (size_t)cols;
        v4f a0 = {0, 0, 0, 0};
        for (int k = 0; k < cols; k += 4) {
            v4f pv, c;
            memcpy(&pv, p + k, sizeof pv);
            memcpy(&c, t0 + k, sizeof c);
            a0 += c * pv;
        }
        out[r] = hsum(a0);
    }
    for (int j = 1; j < rows; j++) f->cacf[f->m_lo - 2 + j] = out[j];
    return out[0];
}

/* At most this many coarse peaks are refined at full rate: the period and three multiples,
 * which bounds the cost for noise (many small peaks) at 4 x about 3 dot products. */
#define MAX_CAND 4
/* Coarse peaks below this fraction of the highest are not refined: the coarse (low-passed,
 * lag-step dec) values of the true period can read low when its higher harmonics fall between
 * grid points, but not this low for the tones of the test suite. */
#define CAND_FRAC 0.5f

/* Pitch from the normalised autocorrelation (Boersma 1993), computed so that only one
 * full-size FFT runs per frame:
 *  1. coarse: the power spectrum's low band, cosine-transformed at the searched lags, gives
 *     the autocorrelation of the low-passed frame at lags dec*m; its highest local maxima in
 *     the search range are candidates;
 *  2. fine: around each candidate, the full-band autocorrelation at integer lags by direct
 *     dot products on the windowed frame, and a parabola through the best three;
 *  3. the octave guard picks the smallest refined lag within OCTAVE_TOL of the best.
 * r0 is sum y^2 of the windowed frame. */
static void pitch(cm_front *f, float r0, float *f0_hz, float *voicing)
{
    *f0_hz = 0.0f;
    *voicing = 0.0f;
    const int dec = f->dec;
    float c0 = coarse_acf(f);
    if (!(c0 > 0.0f)) return;
    float inv_c0 = 1.0f / c0;

    float cn[NFFT / 2 + 2];
    for (int m = f->m_lo - 1; m <= f->m_hi + 1; m++)
        cn[m] = f->cacf[m] * inv_c0 * f->inv_rw[m * dec];
    /* Local maxima; the MAX_CAND smallest-lag ones within CAND_FRAC of the highest are
     * refined (the octave guard favours small lags, so larger ones rarely matter). */
    int cand[NFFT / 2];
    int n_cand = 0;
    float top = 0.0f;
    for (int m = f->m_lo; m <= f->m_hi; m++) {
        float v = cn[m];
        if (v > 0.0f && v >= cn[m - 1] && v > cn[m + 1]) {
            cand[n_cand++] = m;
            if (v > top) top = v;
        }
    }
    if (n_cand == 0) return;

    const float inv_r0 = 1.0f / r0;
    float lag[MAX_CAND], val[MAX_CAND], best = -1.0f;
    int n_ref = 0;
    for (int i = 0; i < n_cand && n_ref < MAX_CAND; i++) {
        if (cn[cand[i]] < CAND_FRAC * top) continue;
        refine(f, cand[i] * dec, dec, inv_r0, &lag[n_ref], &val[n_ref]);
        if (val[n_ref] > best) best = val[n_ref];
        n_ref++;
    }
    int pick = -1;
    for (int i = 0; i < n_ref; i++)
        if (val[i] >= OCTAVE_TOL * best && (pick < 0 || lag[i] < lag[pick])) pick = i;
    /* None: every refined value was NaN (a frame whose squares overflow float, |x| above
     * about 1e19, makes r0 infinite and the normalised autocorrelation 0 x inf). Unvoiced. */
    if (pick < 0) return;
    float v = val[pick], t = lag[pick];
    if (v > 1.0f) v = 1.0f;
    if (v < 0.0f) v = 0.0f;
    *voicing = v;
    /* A peak whose half lag lies below the search range may be the second peak of a pitch
     * above f0_max_hz, which the search could not see: then there is no pitch in range. */
    int h = (int)(t * 0.5f);
    if (h < f->lag_lo && h >= 2) {
        float rh = acf_at(f, h, inv_r0), rh1 = acf_at(f, h + 1, inv_r0);
        if ((rh > rh1 ? rh : rh1) >= OCTAVE_TOL * v) return;
    }
    if (v < f->cfg.voicing_threshold) return;
    float f0 = RATE / t;
    /* The refined lag may step a fraction of a sample past the edge of the range. */
    if (f0 < f->cfg.f0_min_hz) f0 = f->cfg.f0_min_hz;
    if (f0 > f->cfg.f0_max_hz) f0 = f->cfg.f0_max_hz;
    *f0_hz = f0;
}

/* All features of one frame of WIN samples at x. */
static void analyse(cm_front *f, const float *x, cm_frame *fr)
{
    float ss, r0;
    int n = 0;
    v4f s4 = {0, 0, 0, 0}, r4 = {0, 0, 0, 0};
    for (; n + 4 <= WIN; n += 4) {
        v4f xv, wv;
        memcpy(&xv, x + n, sizeof xv);
        memcpy(&wv, f->win + n, sizeof wv);
        v4f yv = xv * wv;
        memcpy(f->y + n, &yv, sizeof yv);
        s4 += xv * xv;
        r4 += yv * yv;
    }
    ss = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    r0 = (r4[0] + r4[1]) + (r4[2] + r4[3]);
    kiss_fftr(f->fwd, f->y, f->spec);

    /* Power only up to the highest bin any feature reads (bin 112, 3.5 kHz, for the defaults). */
    const float s2 = 2.0f * f->pow_scale;
    const int hi = f->pw_hi;
    for (int k = 0; k <= hi; k++)
        f->pw[k] = s2 * (f->spec[k].r * f->spec[k].r + f->spec[k].i * f->spec[k].i);
    f->pw[0] *= 0.5f; /* DC and Nyquist are not mirrored */
    if (hi == NBIN - 1) f->pw[hi] *= 0.5f;

    fr->index = f->frames_out;
    const unsigned nb = f->cfg.n_mel;
    fr->n_mel = nb;
    const float *w = f->mel_w;
    for (unsigned b = 0; b < nb; b++) {
        const float *p = f->pw + f->mel_lo[b];
        v4f acc = {0, 0, 0, 0};
        for (int k = 0; k < f->mel_n[b]; k += 4) {
            v4f pv, wv;
            memcpy(&pv, p + k, sizeof pv);
            memcpy(&wv, w + k, sizeof wv);
            acc += pv * wv;
        }
        w += f->mel_n[b];
        f->mel_e[b] = hsum(acc);
    }
    /* Log and flux four bands at a time; a band at or below the floor reads exactly -120. */
    v4f fl4 = {0, 0, 0, 0};
    unsigned b = 0;
    for (; b + 4 <= nb; b += 4) {
        v4f e, prev;
        memcpy(&e, f->mel_e + b, sizeof e);
        memcpy(&prev, f->prev_mel + b, sizeof prev);
        v4i above = e > POW_FLOOR;
        v4f db = DB_PER_LOG2 * fast_log2_v(e);
        v4f floor_db = {-120.0f, -120.0f, -120.0f, -120.0f};
        db = (v4f)(((v4i)db & above) | ((v4i)floor_db & ~above));
        v4f up = db - prev;
        fl4 += (v4f)((v4i)up & (up > 0.0f));
        memcpy(fr->mel_db + b, &db, sizeof db);
        memcpy(f->prev_mel + b, &db, sizeof db);
    }
    float flux = hsum(fl4);
    for (; b < nb; b++) {
        float e = f->mel_e[b];
        float db = e > POW_FLOOR ? DB_PER_LOG2 * fast_log2(e) : -120.0f;
        float up = db - f->prev_mel[b];
        flux += up > 0.0f ? up : 0.0f;
        fr->mel_db[b] = db;
        f->prev_mel[b] = db;
    }
    fr->flux = f->have_prev ? flux / (float)nb : 0.0f;
    f->have_prev = 1;
    for (b = nb; b < CM_FRONT_MAX_MEL; b++) fr->mel_db[b] = 0.0f;

    /* Spectral shape over [fmin, fmax], each bin floored at -120 dB so that silence is a flat
     * floor (centroid mid-range, flatness 1) rather than 0/0. */
    const int lo = f->sh_lo, top = f->sh_hi;
    v4f tot4 = {0, 0, 0, 0}, mom4 = {0, 0, 0, 0}, l4 = {0, 0, 0, 0};
    int k = lo;
    for (; k + 4 <= top + 1; k += 4) {
        v4f pv, fv;
        memcpy(&pv, f->pw + k, sizeof pv);
        memcpy(&fv, f->bin_hz + k, sizeof fv);
        v4i small = pv < POW_FLOOR;
        v4f fl = {POW_FLOOR, POW_FLOOR, POW_FLOOR, POW_FLOOR};
        pv = (v4f)(((v4i)pv & ~small) | ((v4i)fl & small));
        memcpy(f->pf + k, &pv, sizeof pv);
        tot4 += pv;
        mom4 += pv * fv;
        l4 += fast_log2_v(pv);
    }
    float tot = hsum(tot4), mom = hsum(mom4), lsum = hsum(l4);
    for (; k <= top; k++) {
        float pv = f->pw[k] > POW_FLOOR ? f->pw[k] : POW_FLOOR;
        f->pf[k] = pv;
        tot += pv;
        mom += pv * f->bin_hz[k];
        lsum += fast_log2(pv);
    }
    float nsh = (float)(top - lo + 1);
    fr->centroid_hz = mom / tot;
    float flat = exp2f(lsum / nsh) / (tot / nsh);
    fr->flatness = flat < 1.0f ? flat : 1.0f;
    /* Roll-off: whole blocks of four while the running sum stays short of 85 %, then bins. */
    float lim = 0.85f * tot, cum = 0.0f;
    k = lo;
    for (; k + 4 <= top + 1; k += 4) {
        v4f pv;
        memcpy(&pv, f->pf + k, sizeof pv);
        float c = cum + hsum(pv);
        if (c >= lim) break;
        cum = c;
    }
    int kr = top;
    for (; k <= top; k++) {
        cum += f->pf[k];
        if (cum >= lim) {
            kr = k;
            break;
        }
    }
    fr->rolloff_hz = f->bin_hz[kr];

    float ms = ss / (float)WIN;
    fr->rms_dbfs = ms > POW_FLOOR ? 10.0f * log10f(ms) : -120.0f;

    if (fr->rms_dbfs >= PITCH_MIN_DBFS && r0 > 0.0f) {
        pitch(f, r0, &fr->f0_hz, &fr->voicing);
    } else {
        fr->f0_hz = 0.0f;
        fr->voicing = 0.0f;
    }
    f->frames_out++;
}

cm_status cm_front_process(cm_front *f, const float *x, size_t n, cm_frame *out, size_t out_cap,
                           size_t *n_out)
{
    assert(f && n_out && (x || n == 0));
    if (n_out) *n_out = 0;
    if (!f || !n_out || (!x && n > 0)) return CM_E_INVAL;
    if (f->flushed) return CM_E_STATE;
    if (out_cap < cm_front_frames_for(f, n)) return CM_E_RANGE;
    if (!out && cm_front_frames_for(f, n) > 0) return CM_E_INVAL;

    /* pos: start of the next frame relative to x[0]; the nbuf buffered samples sit just
     * before x, so it starts at -nbuf. Frames wholly inside x are read in place. */
    ptrdiff_t pos = -(ptrdiff_t)f->nbuf;
    size_t k = 0;
    while (pos + WIN <= (ptrdiff_t)n) {
        const float *src;
        if (pos < 0) {
            size_t from_buf = (size_t)(-pos);
            memcpy(f->frame, f->buf + (f->nbuf - (int)from_buf), from_buf * sizeof(float));
            memcpy(f->frame + from_buf, x, (WIN - from_buf) * sizeof(float));
            src = f->frame;
        } else {
            src = x + pos;
        }
        analyse(f, src, &out[k++]);
        pos += HOP;
    }
    /* Keep what the next frame needs: samples from pos to the end. */
    if (pos < 0) {
        size_t from_buf = (size_t)(-pos);
        memmove(f->buf, f->buf + (f->nbuf - (int)from_buf), from_buf * sizeof(float));
        memcpy(f->buf + from_buf, x, n * sizeof(float));
        f->nbuf = (int)(from_buf + n);
    } else {
        size_t keep = n - (size_t)pos;
        if (keep) memcpy(f->buf, x + pos, keep * sizeof(float));
        f->nbuf = (int)keep;
    }
    f->samples_in += n;
    *n_out = k;
    return CM_OK;
}

cm_status cm_front_flush(cm_front *f, cm_frame *out, size_t out_cap, size_t *n_out)
{
    assert(f && n_out);
    if (n_out) *n_out = 0;
    if (!f || !n_out) return CM_E_INVAL;
    size_t want = cm_front_frames_for(f, 0);
    if (out_cap < want) return CM_E_RANGE;
    if (!out && want > 0) return CM_E_INVAL;
    /* Zero-pad the buffered tail; each remaining frame starts inside the real samples. */
    for (size_t k = 0; k < want; k++) {
        memset(f->buf + f->nbuf, 0, (size_t)(WIN - f->nbuf) * sizeof(float));
        analyse(f, f->buf, &out[k]);
        int keep = f->nbuf > HOP ? f->nbuf - HOP : 0;
        memmove(f->buf, f->buf + HOP, (size_t)keep * sizeof(float));
        f->nbuf = keep;
    }
    f->flushed = 1;
    *n_out = want;
    return CM_OK;
}
