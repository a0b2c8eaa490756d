/* SPDX-License-Identifier: MIT */
/* Window features (CM_WF_VERSION 1): summaries of ~1 s of cm_frame features that a small
 * network can tell crying from speech, other human sounds and background with.
 *
 * Why these: infant cry units last about 1.4 s with a rise-fall melody, F0 around
 * 300-600 Hz and loudness modulated at 0.5-8 Hz (DESIGN.md); speech has lower, faster
 * changing F0 and syllable-rate (4-5 Hz) modulation; most background is unvoiced or
 * stationary. Every feature is gain independent: levels enter only as differences in dB
 * (the mel spectrum is mean-normalised, the envelope is taken relative to the window's
 * loudest frame), so the model learns sound, not microphone gain; and the front end stops
 * at 4 kHz, and it runs at 8 kHz, so 8 kHz phone uploads and 16 kHz recordings look alike. */
#include <math.h>
#include <string.h>

#include "crymeter/model.h"

#define N_POOL 16u          /* mel bands pooled to 16: 40 bands are redundant for 1 s stats */
#define ACTIVE_RANGE_DB 40.f /* frames within 40 dB of the loudest count as "sound" */
#define ENV_FLOOR_DB 50.f    /* envelope floor below the peak: silence gaps read as -50 dB */
#define ONSET_DB 10.f        /* an onset is an upward crossing of peak - 10 dB */
#define NO_F0_OCT -2.14f     /* log2(100 / 440): below the pitch range, "no pitch" */
#define FRAME_RATE_HZ 100.f  /* 10 ms frames */
#define CM_PI 3.14159265358979323846

static const char *const names[CM_WF_DIM] = {
    "mel_shape_00", "mel_shape_01", "mel_shape_02", "mel_shape_03", "mel_shape_04",
    "mel_shape_05", "mel_shape_06", "mel_shape_07", "mel_shape_08", "mel_shape_09",
    "mel_shape_10", "mel_shape_11", "mel_shape_12", "mel_shape_13", "mel_shape_14",
    "mel_shape_15", "mel_std_00",   "mel_std_01",   "mel_std_02",   "mel_std_03",
    "mel_std_04",   "mel_std_05",   "mel_std_06",   "mel_std_07",   "mel_std_08",
    "mel_std_09",   "mel_std_10",   "mel_std_11",   "mel_std_12",   "mel_std_13",
    "mel_std_14",   "mel_std_15",   "centroid_mean_khz", "centroid_std_khz",
    "rolloff_mean_khz", "rolloff_std_khz", "flatness_mean", "flatness_std", "flux_mean_db",
    "flux_std_db",  "voiced_frac",  "voicing_mean", "voicing_std", "f0_median_oct",
    "f0_range_oct", "f0_slope_oct_per_s", "f0_jitter_oct", "f0_high_frac", "voiced_run_frac",
    "env_std_db",   "env_active_frac", "env_mod_1_2hz", "env_mod_3_4hz", "env_mod_5_8hz",
    "env_onset_rate_hz", "env_mean_rel_db",
};

const char *cm_wf_name(size_t i) { return i < CM_WF_DIM ? names[i] : NULL; }

size_t cm_wf_n_windows(size_t n)
{
    if (n == 0) return 0;
    if (n <= CM_DET_WIN_FRAMES) return 1;
    size_t full = (n - CM_DET_WIN_FRAMES) / CM_DET_HOP_FRAMES + 1;
    size_t last_end = (full - 1) * CM_DET_HOP_FRAMES + CM_DET_WIN_FRAMES;
    return full + (last_end < n ? 1 : 0);
}

size_t cm_wf_window_start(size_t n, size_t w)
{
    if (n <= CM_DET_WIN_FRAMES) return 0;
    size_t full = (n - CM_DET_WIN_FRAMES) / CM_DET_HOP_FRAMES + 1;
    if (w < full) return w * CM_DET_HOP_FRAMES;
    return n - CM_DET_WIN_FRAMES; /* the final window ends at the last frame */
}

static float clampf(float v, float lo, float hi)
{
    if (!(v == v)) return 0.f; /* NaN from a broken frame: neutral value */
    return v < lo ? lo : v > hi ? hi : v;
}

static void mean_std(const float *v, size_t n, float *m, float *s)
{
    if (n == 0) {
        *m = 0.f;
        *s = 0.f;
        return;
    }
    double a = 0.0, b = 0.0;
    for (size_t i = 0; i < n; i++) a += v[i];
    a /= (double)n;
    for (size_t i = 0; i < n; i++) b += (v[i] - a) * (v[i] - a);
    *m = (float)a;
    *s = (float)sqrt(b / (double)n);
}

/* Columns of a window's per-frame table: the N_POOL pooled mel bands, then these. */
enum { C_CENT = N_POOL, C_ROLL, C_FLAT, C_FLUX, C_VOIC, N_COLS };

/* mean_std of the N_COLS columns of n rows at once: each column's sums run in the same order
 * as mean_std's, so the results are bit-identical, but the columns are independent, so their
 * additions overlap instead of each waiting for the previous one (a double add's latency,
 * 100 frames x 2 passes x 21 columns per window), and the compiler can pair them in vectors. */
static void mean_std_cols(const float (*v)[N_COLS], size_t n, float *m, float *s)
{
    double a[N_COLS] = {0}, b[N_COLS] = {0};
    if (n == 0) {
        for (size_t c = 0; c < N_COLS; c++) m[c] = s[c] = 0.f;
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < N_COLS; c++) a[c] += v[i][c];
    for (size_t c = 0; c < N_COLS; c++) a[c] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < N_COLS; c++) {
            double d = v[i][c] - a[c];
            b[c] += d * d;
        }
    for (size_t c = 0; c < N_COLS; c++) {
        m[c] = (float)a[c];
        s[c] = (float)sqrt(b[c] / (double)n);
    }
}

static void sort_floats(float *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        float t = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > t) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
}

float cm_wf_compute(const cm_frame *fr, size_t n, float out[CM_WF_DIM])
{
    memset(out, 0, CM_WF_DIM * sizeof out[0]);
    if (n == 0) return -120.f;
    if (n > CM_DET_WIN_FRAMES) n = CM_DET_WIN_FRAMES;

    float peak = -120.f;
    for (size_t t = 0; t < n; t++)
        if (fr[t].rms_dbfs > peak) peak = fr[t].rms_dbfs;
    const float act_thr = peak - ACTIVE_RANGE_DB;

    unsigned nm = fr[0].n_mel;
    if (nm < 1) nm = 1;
    if (nm > CM_FRONT_MAX_MEL) nm = CM_FRONT_MAX_MEL;

    /* Pooled log-mel per active frame, and the frame's spectral shape and voicing: one row
     * per active frame, so that all 21 columns' statistics run together (mean_std_cols). */
    unsigned plo[N_POOL], phi[N_POOL];
    double pcnt[N_POOL];
    for (unsigned b = 0; b < N_POOL; b++) {
        unsigned lo = b * nm / N_POOL, hi = (b + 1) * nm / N_POOL;
        if (hi <= lo) hi = lo + 1;
        if (hi > nm) hi = nm, lo = hi - 1;
        plo[b] = lo, phi[b] = hi;
        pcnt[b] = (double)(hi - lo);
    }
    float row[CM_DET_WIN_FRAMES][N_COLS];
    size_t idx[CM_DET_WIN_FRAMES];
    size_t na = 0;
    for (size_t t = 0; t < n; t++) {
        if (fr[t].rms_dbfs < act_thr) continue;
        idx[na] = t;
        double psum[N_POOL];
        for (unsigned b = 0; b < N_POOL; b++) {
            double s = 0.0;
            for (unsigned k = plo[b]; k < phi[b]; k++) s += fr[t].mel_db[k];
            psum[b] = s;
        }
        /* A separate loop of fixed length, so the 16 divisions go in vectors. */
        for (unsigned b = 0; b < N_POOL; b++) row[na][b] = (float)(psum[b] / pcnt[b]);
        row[na][C_CENT] = fr[t].centroid_hz * 1e-3f;
        row[na][C_ROLL] = fr[t].rolloff_hz * 1e-3f;
        row[na][C_FLAT] = fr[t].flatness;
        row[na][C_FLUX] = fr[t].flux;
        row[na][C_VOIC] = fr[t].voicing;
        na++;
    }
    if (na == 0) { /* cannot happen (the peak frame is active) but keep the invariant */
        return peak;
    }
    float cm[N_COLS], cs[N_COLS];
    mean_std_cols((const float (*)[N_COLS])row, na, cm, cs);

    float grand = 0.f;
    for (unsigned b = 0; b < N_POOL; b++) {
        grand += cm[b];
        out[N_POOL + b] = clampf(cs[b], 0.f, 60.f);
    }
    grand /= N_POOL;
    for (unsigned b = 0; b < N_POOL; b++) out[b] = clampf(cm[b] - grand, -80.f, 80.f);

    /* Spectral shape over active frames. */
    unsigned o = 2 * N_POOL;
    out[o++] = clampf(cm[C_CENT], 0.f, 8.f);
    out[o++] = clampf(cs[C_CENT], 0.f, 8.f);
    out[o++] = clampf(cm[C_ROLL], 0.f, 8.f);
    out[o++] = clampf(cs[C_ROLL], 0.f, 8.f);
    out[o++] = clampf(cm[C_FLAT], 0.f, 1.f);
    out[o++] = clampf(cs[C_FLAT], 0.f, 1.f);
    out[o++] = clampf(cm[C_FLUX], 0.f, 60.f);
    out[o++] = clampf(cs[C_FLUX], 0.f, 60.f);

    /* Voicing and F0 over active frames: log2(f0 / 440 Hz), octaves. */
    float lf[CM_DET_WIN_FRAMES], tf[CM_DET_WIN_FRAMES];
    size_t nv = 0, high = 0, run = 0, best_run = 0;
    double jit = 0.0;
    size_t njit = 0;
    int prev_voiced = 0;
    float prev_lf = 0.f;
    float m = cm[C_VOIC], s = cs[C_VOIC];
    for (size_t i = 0; i < na; i++) {
        const cm_frame *f = &fr[idx[i]];
        int v = f->f0_hz > 0.f && f->f0_hz == f->f0_hz;
        if (v) {
            float l = log2f(f->f0_hz / 440.f);
            if (prev_voiced && idx[i] == idx[i - 1] + 1) {
                jit += fabsf(l - prev_lf);
                njit++;
            }
            lf[nv] = l;
            tf[nv] = (float)idx[i] / FRAME_RATE_HZ;
            nv++;
            if (f->f0_hz > 250.f) high++;
            run = (prev_voiced && idx[i] == idx[i - 1] + 1) ? run + 1 : 1;
            if (run > best_run) best_run = run;
            prev_lf = l;
        }
        prev_voiced = v;
    }
    out[o++] = (float)nv / (float)na;
    out[o++] = clampf(m, 0.f, 1.f);
    out[o++] = clampf(s, 0.f, 1.f);
    float med = NO_F0_OCT, range = 0.f, slope = 0.f;
    if (nv > 0) {
        /* slope first: sorting below reorders lf */
        if (nv >= 3) {
            double mt = 0, ml = 0, stt = 0, stl = 0;
            for (size_t i = 0; i < nv; i++) mt += tf[i], ml += lf[i];
            mt /= nv;
            ml /= nv;
            for (size_t i = 0; i < nv; i++) {
                stt += (tf[i] - mt) * (tf[i] - mt);
                stl += (tf[i] - mt) * (lf[i] - ml);
            }
            if (stt > 1e-9) slope = (float)(stl / stt);
        }
        sort_floats(lf, nv);
        med = lf[nv / 2];
        range = lf[(nv * 9) / 10 >= nv ? nv - 1 : (nv * 9) / 10] - lf[nv / 10];
    }
    out[o++] = clampf(med, -3.f, 2.f);
    out[o++] = clampf(range, 0.f, 4.f);
    out[o++] = clampf(slope, -8.f, 8.f);
    out[o++] = njit ? clampf((float)(jit / (double)njit), 0.f, 2.f) : 0.f;
    out[o++] = (float)high / (float)na;
    out[o++] = (float)best_run / (float)n;

    /* Envelope over all frames, relative to the peak, floored at peak - 50 dB. */
    float env[CM_DET_WIN_FRAMES];
    size_t nact = 0, onsets = 0;
    for (size_t t = 0; t < n; t++) {
        float e = fr[t].rms_dbfs - peak;
        if (!(e == e) || e < -ENV_FLOOR_DB) e = -ENV_FLOOR_DB;
        env[t] = e;
        if (e >= -20.f) nact++;
        if (t > 0 && env[t - 1] < -ONSET_DB && e >= -ONSET_DB) onsets++;
    }
    float em, es;
    mean_std(env, n, &em, &es);
    out[o++] = clampf(es, 0.f, 50.f);
    out[o++] = (float)nact / (float)n;
    /* Modulation: DFT of the mean-removed envelope; bin k is k * 100 / n Hz. Energy in the
     * cry-unit and syllable ranges as a fraction of all modulation energy, which by Parseval
     * is n/2 * sum (e - mean)^2 over bins 1..n/2. Only bins up to 8.5 Hz are computed, by
     * rotating a phasor (no trigonometry per sample). */
    double band[3] = {0, 0, 0}, total = 1e-9;
    for (size_t t = 0; t < n; t++) total += 0.5 * (double)n * (env[t] - em) * (env[t] - em);
    /* The bins' phasors advance side by side (each bin's arithmetic in the same order as one
     * at a time, so the same bits), which overlaps their multiply-add chains. */
    enum { MAX_BINS = 9 }; /* k * 100 / n < 8.5 Hz with n <= 100 */
    double cr[MAX_BINS], ci[MAX_BINS], re[MAX_BINS], im[MAX_BINS], pr[MAX_BINS], pi[MAX_BINS];
    size_t nk = 0;
    for (size_t k = 1; k <= n / 2 && nk < MAX_BINS; k++) {
        if ((double)k * FRAME_RATE_HZ / (double)n >= 8.5) break;
        double w = 2.0 * CM_PI * (double)k / (double)n;
        cr[nk] = cos(w), ci[nk] = -sin(w);
        re[nk] = im[nk] = pi[nk] = 0.0;
        pr[nk] = 1.0;
        nk++;
    }
    for (size_t t = 0; t < n; t++) {
        double e = env[t] - em;
        for (size_t j = 0; j < nk; j++) {
            re[j] += e * pr[j];
            im[j] += e * pi[j];
            double nr = pr[j] * cr[j] - pi[j] * ci[j];
            pi[j] = pr[j] * ci[j] + pi[j] * cr[j];
            pr[j] = nr;
        }
    }
    for (size_t j = 0; j < nk; j++) {
        double hz = (double)(j + 1) * FRAME_RATE_HZ / (double)n;
        double pw = re[j] * re[j] + im[j] * im[j];
        if (hz < 2.5) band[0] += pw;
        else if (hz < 4.5) band[1] += pw;
        else band[2] += pw;
    }
    for (int b = 0; b < 3; b++) out[o++] = clampf((float)(band[b] / total), 0.f, 1.f);
    out[o++] = (float)onsets * FRAME_RATE_HZ / (float)n;
    out[o++] = clampf(em, -ENV_FLOOR_DB, 0.f);
    return peak;
}
