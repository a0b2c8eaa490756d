/* SPDX-License-Identifier: MIT */
/* Episode shape (shape.h). The stream is cut into bursts, which are classified and kept in
 * a bounded history. Inhalation pulses feed the sob detector. Spans (episodes) fold the
 * bursts they cover into fixed-size summaries: counts, the first bursts, onset-interval
 * moments, a rhythm-run state, F0 and effort histograms and sob stretches.
 *
 * Burst segmentation, per 10 ms frame:
 *   band level  L = 10 log10(sum of mel band powers with centre >= 250 Hz), so that
 *               rumble under the voice does not carry the envelope;
 *   noise floor minimum over the last 5 s, in 0.5 s blocks, of L's running maximum over 3
 *               frames (minimum statistics, Martin 2001; the same 5 s as the analyzer's
 *               activity floor, longer than the pauses between cry units);
 *   active      L >= floor + act_margin_db (3 dB less to stay active) and >= act_abs_dbfs;
 *   runs        start after 3 active frames and end after 3 inactive ones (30 ms), so that
 *               one frame of noise neither opens nor splits a burst;
 *   sub-runs    inside a run, voiced (f0 > 0) and unvoiced stretches, again switching only
 *               after 3 frames.
 * An unvoiced sub-run of inhale_min_ms..inhale_max_ms that is noisy (flatness or centroid),
 * or a short voiced sub-run well above the last cry unit's pitch, is an inhalation. All
 * other sub-runs of a run join the cry unit in progress, which ends at the run's end, at an
 * inhalation, or at CM_SHAPE_MAX_BURST_FRAMES. A cry unit shorter than cry_min_ms is
 * "other". */
#include "crymeter/shape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FLOOR_BLOCK_FRAMES 50u
#define FLOOR_BLOCKS 10u
#define ACT_HYST_DB 3.0f
#define RUN_ON_FRAMES 3u
#define RUN_OFF_FRAMES 3u
#define VOICE_SWITCH_FRAMES 3u
#define LEVEL_MIN_HZ 250.0f
#define HI_LO_HZ 2000.0f
#define HI_HI_HZ 4000.0f
/* F0 neighbourhood for effort: bands centred within a quarter octave of F0. */
#define F0_BAND_OCT 0.25f
/* High-pitched inhalation: it must start within 1 s of the cry unit it is compared with. */
#define PITCH_REF_FRAMES 100u
/* F0 histogram: 1/10 semitone bins from 50 Hz (64 semitones, to 2 kHz), as the analyzer's. */
#define F0_BINS 640u
#define F0_LO_HZ 50.0
/* Effort histogram: 0.25 dB bins over -80..+40 dB. */
#define EFF_BINS 480u
#define EFF_LO_DB (-80.0)
#define EFF_STEP_DB 0.25
#define SOB_RING 32u
#define EVQ 8u
#define MAX_WIN 16u

typedef struct finfo {
    float lvl_db;
    float f0_hz;
    float flat;
    float centroid_hz;
    float effort_db; /* NAN unless voiced */
} finfo;

typedef struct burst {
    uint64_t seq;
    uint64_t a, b; /* frames, inclusive */
    cm_burst_kind kind;
    cm_contour contour;
    float f0_med, f0_range_st, level_db, effort_db;
    unsigned n_voiced;
} burst;

typedef struct sobst {
    uint64_t seq;
    uint64_t a, b;
} sobst;

typedef struct slot {
    bool open, truncated;
    uint64_t start_f, end_f;
    uint64_t next_seq, next_sob;
    unsigned n_kind[3];
    unsigned n_listed;
    cm_shape_burst listed[CM_SHAPE_MAX_LISTED];
    /* cry-unit onsets */
    uint64_t n_onsets;
    double onset_win[MAX_WIN + 1]; /* ring of the last rhythm_window + 1 onsets, s */
    double iv_sum, iv_ss;
    /* rhythm runs */
    bool have_label, run_rhythmic, seen_rhythmic;
    double run_start_s;
    double rhythm_s[CM_N_RHYTHMS];
    unsigned n_str;
    cm_shape_stretch str[CM_SHAPE_MAX_STRETCHES];
    /* melody and effort */
    uint32_t f0_hist[F0_BINS];
    uint64_t n_f0;
    unsigned contour[CM_N_CONTOURS];
    uint32_t eff_hist[EFF_BINS];
    uint64_t n_eff;
    double level_max;
    /* sobbing */
    unsigned n_sob;
    cm_shape_span sob[CM_SHAPE_MAX_SOBS];
    double sob_s;
} slot;

struct cm_shape {
    cm_shape_config cfg;
    unsigned n_mel;
    float centre_hz[CM_FRONT_MAX_MEL];
    bool in_level[CM_FRONT_MAX_MEL], in_hi[CM_FRONT_MAX_MEL];
    unsigned n_hi;

    uint64_t n_frames;
    bool flushed;
    finfo *ring; /* CM_SHAPE_FRAME_RING */

    /* floor */
    float floor_blk[FLOOR_BLOCKS];
    float cur_min;
    unsigned cur_count;
    uint64_t floor_blocks_done;

    /* runs */
    bool act_state;   /* hysteresis state of the frame activity */
    bool in_run;
    unsigned on_count, off_count;
    uint64_t on_start, last_active;
    /* sub-runs */
    bool sub_open, sub_voiced, pend_voiced;
    uint64_t sub_start, pend_start;
    unsigned pend_n;
    /* cry unit in progress */
    bool cry_open;
    uint64_t cry_a, cry_b;
    float last_cry_f0;
    uint64_t last_cry_end;

    /* burst history */
    burst *bursts; /* CM_SHAPE_BURST_RING */
    uint64_t n_bursts;

    /* sob detector */
    uint64_t pulse_a[MAX_WIN * 2 + 2], pulse_b[MAX_WIN * 2 + 2]; /* last pulses (ring) */
    uint64_t n_pulses;   /* pulses in the current candidate or stretch */
    bool sob_open;
    uint64_t sob_id;
    double sob_iv_sum, sob_iv_ss;
    unsigned sob_n_iv;
    sobst sobs[SOB_RING];
    uint64_t n_sobs;
    cm_shape_event evq[EVQ];
    unsigned ev_head, ev_n;
    uint64_t ev_dropped;

    slot slots[CM_SHAPE_SLOTS];
    slot scratch;
    float sort_buf[CM_SHAPE_MAX_BURST_FRAMES];
};

/* ---- names and parameters ---------------------------------------------------------------- */

const char *cm_burst_kind_name(cm_burst_kind k)
{
    static const char *const n[] = {"cry", "inhale", "other"};
    return (unsigned)k < 3 ? n[k] : "?";
}

const char *cm_contour_name(cm_contour c)
{
    static const char *const n[] = {"none", "flat", "rise", "fall", "rise-fall", "other"};
    return (unsigned)c < CM_N_CONTOURS ? n[c] : "?";
}

const char *cm_rhythm_name(cm_rhythm r)
{
    static const char *const n[] = {"irregular", "rhythmic", "arrhythmic"};
    return (unsigned)r < CM_N_RHYTHMS ? n[r] : "?";
}

const char *cm_intensity_name(cm_intensity i)
{
    static const char *const n[] = {"unknown", "gentle", "intense"};
    return (unsigned)i < 3 ? n[i] : "?";
}

cm_shape_params cm_shape_params_default(void)
{
    cm_shape_params p;
    memset(&p, 0, sizeof p);
    /* 6 dB over a minimum-statistics floor: the band level of stationary noise spreads
     * well under 1 dB at 25 ms (hundreds of degrees of freedom), and its 5 s minimum lies
     * about 1.5 dB under its mean, so noise alone stays inactive, while inhalations at
     * 10 dB SNR (sobgen, inhale 6 dB under the exhalation) clear it in test_shape. */
    p.act_margin_db = 6.0f;
    p.act_abs_dbfs = -70.0f; /* as the analyzer's activity floor */
    /* Voiced means f0 > 0 and voicing >= 0.6: in sobgen breath noise under pink noise at
     * 10 dB SNR the pitch tracker finds spurious F0 at voicings of 0.45..0.75 (most under
     * 0.6), while harmonic exhalations there sit at 0.7..1 (97 % >= 0.8). */
    p.voiced_min = 0.6f;
    /* Cry units last about 1.4 s (DESIGN.md); 150 ms keeps short voiced blips apart. */
    p.cry_min_ms = 150;
    /* Inhalation pulses 50..400 ms (issue 5, from the crying review). */
    p.inhale_min_ms = 50;
    p.inhale_max_ms = 400;
    /* Breath noise (sobgen: 0.5..4 kHz) measured at a mean flatness of 0.3..0.5 and a
     * centroid of 1.7..2.2 kHz over 50..4000 Hz; voiced cry frames that lose voicing at
     * their edges stay under 0.2 and 1.3 kHz (test_shape "inhale_features" prints both). */
    p.inhale_flat_min = 0.25f;
    p.inhale_centroid_min_hz = 1500.0f;
    /* "Inspiratory sounds are shorter and higher-pitched" (issue 5): 5 semitones is above
     * the rise of a rise-fall cry unit's median over its ends. */
    p.inhale_pitch_st = 5.0f;
    /* Rhythm: 4 intervals per local CV; rhythmic at CV <= 0.25 ("little variation in the
     * spacing", issue 5). sobgen: jitter 10 % gives local CVs under 0.2, jitter 40 % above
     * 0.25 in most windows (test_shape "regularity"). */
    p.rhythm_window = 4;
    p.rhythmic_cv_max = 0.25f;
    /* A rise or fall counts from 1.5 semitones: the F0 tracker's frame-to-frame jitter on a
     * steady tone stays under 0.3 semitone (test_shape "melody", flat case). */
    p.contour_st = 1.5f;
    /* Effort: the median of the clip medians over the 387 infant cry clips of the shared
     * data (-12.6 dB; -14.9 for the 211 clips at 8 kHz, -10.6 for the 176 at 16 kHz; the 19
     * acted adult clips: -32.6; docs/shape.md), so "intense" means more effort than a
     * typical recorded infant cry. 60 dB SPL is conversational speech at 1 m: quieter
     * crying is never intense. */
    p.effort_intense_db = -12.5f;
    p.intense_min_spl_db = 60.0f;
    /* Sobbing: 0.3..1.5 Hz (issue 5 brief; sobgen's default 0.8 Hz lies inside). CV over
     * the last 4 intervals (5 pulses) <= 0.2: for periods with uniform jitter (sobgen), a
     * simulation of 20000 windows gives a 99th percentile of that CV of 0.07 at 5 % jitter
     * and 0.14 at 10 %, while at 40 % jitter only 15 % of windows fall under 0.2
     * (docs/shape.md); fewer than 4 intervals cannot show a rhythm reliably. */
    p.sob_rate_min_hz = 0.3f;
    p.sob_rate_max_hz = 1.5f;
    p.sob_cv_max = 0.2f;
    p.sob_min_pulses = 5;
    return p;
}

cm_shape_config cm_shape_config_default(const cm_front_config *fc)
{
    cm_front_config d = cm_front_config_default();
    if (!fc) fc = &d;
    cm_shape_config c;
    memset(&c, 0, sizeof c);
    c.params = cm_shape_params_default();
    c.n_mel = fc->n_mel;
    c.mel_fmin_hz = fc->fmin_hz;
    c.mel_fmax_hz = fc->fmax_hz;
    return c;
}

#define FRANGE(f, lo, hi)                                                                   \
    do {                                                                                    \
        if (!(p->f >= (lo) && p->f <= (hi)))                                                \
            return cm_diag_fail(why, CM_E_RANGE, #f "=%g: must be %g..%g", (double)p->f,    \
                                (double)(lo), (double)(hi));                                \
    } while (0)
#define URANGE(f, lo, hi)                                                                   \
    do {                                                                                    \
        if (p->f < (lo) || p->f > (hi))                                                     \
            return cm_diag_fail(why, CM_E_RANGE, #f "=%u: must be %u..%u", p->f,            \
                                (unsigned)(lo), (unsigned)(hi));                            \
    } while (0)

cm_status cm_shape_params_check(const cm_shape_params *p, cm_diag *why)
{
    if (!p) return CM_E_INVAL;
    FRANGE(act_margin_db, 3.0f, 30.0f);
    FRANGE(act_abs_dbfs, -120.0f, 0.0f);
    FRANGE(voiced_min, 0.0f, 1.0f);
    URANGE(cry_min_ms, 30u, 2000u);
    URANGE(inhale_max_ms, 30u, 1000u);
    URANGE(inhale_min_ms, 30u, p->inhale_max_ms);
    FRANGE(inhale_flat_min, 0.0f, 1.0f);
    FRANGE(inhale_centroid_min_hz, 0.0f, 8000.0f);
    FRANGE(inhale_pitch_st, 0.0f, 36.0f);
    URANGE(rhythm_window, 2u, MAX_WIN);
    FRANGE(rhythmic_cv_max, 0.0f, 2.0f);
    FRANGE(contour_st, 0.1f, 12.0f);
    FRANGE(effort_intense_db, -80.0f, 40.0f);
    FRANGE(intense_min_spl_db, -50.0f, 200.0f);
    FRANGE(sob_rate_max_hz, 0.05f, 5.0f);
    FRANGE(sob_rate_min_hz, 0.05f, p->sob_rate_max_hz);
    FRANGE(sob_cv_max, 0.0f, 2.0f);
    URANGE(sob_min_pulses, 3u, 2u * MAX_WIN);
    return CM_OK;
}

/* ---- create / reset ------------------------------------------------------------------------ */

static float hz_to_mel(float f) { return 2595.0f * log10f(1.0f + f / 700.0f); }
static float mel_to_hz(float m) { return 700.0f * (powf(10.0f, m / 2595.0f) - 1.0f); }

void cm_shape_destroy(cm_shape *s)
{
    if (!s) return;
    free(s->ring);
    free(s->bursts);
    free(s);
}

void cm_shape_reset(cm_shape *s)
{
    if (!s) return;
    s->n_frames = 0;
    s->flushed = false;
    for (unsigned i = 0; i < FLOOR_BLOCKS; i++) s->floor_blk[i] = INFINITY;
    s->cur_min = INFINITY;
    s->cur_count = 0;
    s->floor_blocks_done = 0;
    s->act_state = s->in_run = false;
    s->on_count = s->off_count = 0;
    s->sub_open = false;
    s->pend_n = 0;
    s->cry_open = false;
    s->last_cry_f0 = 0.0f;
    s->last_cry_end = 0;
    s->n_bursts = 0;
    s->n_pulses = 0;
    s->sob_open = false;
    s->sob_id = 0;
    s->n_sobs = 0;
    s->ev_head = s->ev_n = 0;
    s->ev_dropped = 0;
    for (unsigned i = 0; i < CM_SHAPE_SLOTS; i++) s->slots[i].open = false;
}

cm_status cm_shape_create(const cm_shape_config *cfg, cm_shape **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!cfg) return CM_E_INVAL;
    cm_status st = cm_shape_params_check(&cfg->params, why);
    if (st != CM_OK) return st;
    if (cfg->n_mel < 8 || cfg->n_mel > CM_FRONT_MAX_MEL)
        return cm_diag_fail(why, CM_E_RANGE, "n_mel=%u: must be 8..%u", cfg->n_mel,
                            CM_FRONT_MAX_MEL);
    if (!(cfg->mel_fmin_hz >= 0.0f && cfg->mel_fmin_hz <= 7900.0f))
        return cm_diag_fail(why, CM_E_RANGE, "mel_fmin_hz=%g: must be 0..7900",
                            (double)cfg->mel_fmin_hz);
    if (!(cfg->mel_fmax_hz >= cfg->mel_fmin_hz + 100.0f && cfg->mel_fmax_hz <= 8000.0f))
        return cm_diag_fail(why, CM_E_RANGE, "mel_fmax_hz=%g: must be mel_fmin_hz+100..8000",
                            (double)cfg->mel_fmax_hz);
    cm_shape *s = calloc(1, sizeof *s);
    if (!s) return CM_E_NOMEM;
    s->cfg = *cfg;
    s->n_mel = cfg->n_mel;
    /* Band centres as the front end places them: n_mel + 2 equally spaced HTK mel edges. */
    float mlo = hz_to_mel(cfg->mel_fmin_hz), mhi = hz_to_mel(cfg->mel_fmax_hz);
    for (unsigned b = 0; b < s->n_mel; b++) {
        float c = mel_to_hz(mlo + (mhi - mlo) * (float)(b + 1) / (float)(s->n_mel + 1));
        s->centre_hz[b] = c;
        s->in_level[b] = c >= LEVEL_MIN_HZ;
        s->in_hi[b] = c >= HI_LO_HZ && c <= HI_HI_HZ;
        s->n_hi += s->in_hi[b];
    }
    s->ring = calloc(CM_SHAPE_FRAME_RING, sizeof *s->ring);
    s->bursts = calloc(CM_SHAPE_BURST_RING, sizeof *s->bursts);
    if (!s->ring || !s->bursts) {
        cm_shape_destroy(s);
        return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    }
    cm_shape_reset(s);
    *out = s;
    return CM_OK;
}

uint64_t cm_shape_frames_in(const cm_shape *s) { return s ? s->n_frames : 0; }

uint64_t cm_shape_settle_frames(const cm_shape *s)
{
    if (!s) return 0;
    const cm_shape_params *p = &s->cfg.params;
    uint64_t sob = (uint64_t)ceil(100.0 * (p->sob_min_pulses - 1) / p->sob_rate_min_hz) +
                   p->inhale_max_ms / 10u;
    return (sob > CM_SHAPE_MAX_BURST_FRAMES ? sob : CM_SHAPE_MAX_BURST_FRAMES) + 10u;
}

double cm_shape_frame_start_s(uint64_t k)
{
    return ((double)k * CM_FRONT_HOP_SAMPLES + CM_FRONT_WIN_SAMPLES / 2.0 -
            CM_FRONT_HOP_SAMPLES / 2.0) / CM_FRONT_RATE_HZ;
}

static double frame_end_s(uint64_t k) { return cm_shape_frame_start_s(k) + 0.01; }

static const finfo *fi_at(const cm_shape *s, uint64_t k) { return &s->ring[k % CM_SHAPE_FRAME_RING]; }

static bool in_ring(const cm_shape *s, uint64_t a) { return a + CM_SHAPE_FRAME_RING > s->n_frames; }

/* ---- sob detector --------------------------------------------------------------------------- */

static void push_event(cm_shape *s, const cm_shape_event *ev)
{
    if (s->ev_n == EVQ) {
        s->ev_head = (s->ev_head + 1) % EVQ;
        s->ev_n--;
        s->ev_dropped++;
    }
    s->evq[(s->ev_head + s->ev_n) % EVQ] = *ev;
    s->ev_n++;
}

#define PULSE_RING (MAX_WIN * 2 + 2)

static void sob_event(cm_shape *s, cm_shape_event_kind kind)
{
    cm_shape_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.id = s->sob_id;
    ev.start_frame = s->sobs[s->n_sobs % SOB_RING].a;
    ev.end_frame = s->sobs[s->n_sobs % SOB_RING].b;
    ev.start_s = cm_shape_frame_start_s(ev.start_frame);
    ev.end_s = frame_end_s(ev.end_frame);
    ev.n_pulses = s->sob_n_iv + 1;
    double m = s->sob_iv_sum / s->sob_n_iv;
    ev.rate_hz = m > 0.0 ? 1.0 / m : NAN;
    double var = s->sob_iv_ss / s->sob_n_iv - m * m;
    ev.cv = m > 0.0 ? sqrt(var > 0.0 ? var : 0.0) / m : NAN;
    push_event(s, &ev);
}

static void sob_close(cm_shape *s)
{
    if (!s->sob_open) return;
    sob_event(s, CM_SHAPE_SOB_END);
    s->n_sobs++; /* the stretch at n_sobs % SOB_RING is now final */
    s->sob_open = false;
}

/* Onset interval (s) between pulse j-1 and pulse j (pulse counts since the candidate began). */
static double pulse_iv(const cm_shape *s, uint64_t j)
{
    return (double)(s->pulse_a[j % PULSE_RING] - s->pulse_a[(j - 1) % PULSE_RING]) * 0.01;
}

/* CV of the last k intervals up to the newest pulse. */
static double pulse_cv(const cm_shape *s, unsigned k, double *sum_out, double *ss_out)
{
    double sum = 0.0, ss = 0.0;
    for (unsigned i = 0; i < k; i++) {
        double d = pulse_iv(s, s->n_pulses - 1 - i);
        sum += d;
        ss += d * d;
    }
    *sum_out = sum;
    *ss_out = ss;
    double m = sum / k, var = ss / k - m * m;
    return m > 0.0 ? sqrt(var > 0.0 ? var : 0.0) / m : INFINITY;
}

/* An inhalation pulse [a, b]: the candidate grows while every interval lies in the rate
 * range; a stretch opens when the last sob_min_pulses pulses are regular enough and stays
 * open while each new window of that many pulses is. */
static void sob_pulse(cm_shape *s, uint64_t a, uint64_t b)
{
    const cm_shape_params *p = &s->cfg.params;
    const double iv_min = 1.0 / p->sob_rate_max_hz, iv_max = 1.0 / p->sob_rate_min_hz;
    if (s->n_pulses) {
        double d = (double)(a - s->pulse_a[(s->n_pulses - 1) % PULSE_RING]) * 0.01;
        if (d < 0.5 * iv_min) {
            /* one breath cut in two (a spurious voiced stretch inside it): same pulse */
            s->pulse_b[(s->n_pulses - 1) % PULSE_RING] = b;
            if (s->sob_open) s->sobs[s->n_sobs % SOB_RING].b = b;
            return;
        }
        if (d < iv_min || d > iv_max) {
            sob_close(s);
            s->n_pulses = 0;
        }
    }
    s->pulse_a[s->n_pulses % PULSE_RING] = a;
    s->pulse_b[s->n_pulses % PULSE_RING] = b;
    s->n_pulses++;
    const unsigned k = p->sob_min_pulses - 1;
    if (s->n_pulses < p->sob_min_pulses) return;
    double sum, ss;
    double cv = pulse_cv(s, k, &sum, &ss);
    if (s->sob_open) {
        if (cv <= p->sob_cv_max) {
            double d = pulse_iv(s, s->n_pulses - 1);
            s->sobs[s->n_sobs % SOB_RING].b = b;
            s->sob_iv_sum += d;
            s->sob_iv_ss += d * d;
            s->sob_n_iv++;
            return;
        }
        /* The rhythm broke: the stretch ends at the previous pulse, and this one starts the
         * next candidate. */
        sob_close(s);
        s->pulse_a[0] = a;
        s->pulse_b[0] = b;
        s->n_pulses = 1;
        return;
    }
    if (cv > p->sob_cv_max) return;
    sobst *st = &s->sobs[s->n_sobs % SOB_RING];
    st->seq = s->n_sobs;
    st->a = s->pulse_a[(s->n_pulses - p->sob_min_pulses) % PULSE_RING];
    st->b = b;
    s->sob_open = true;
    s->sob_id++;
    s->sob_iv_sum = sum;
    s->sob_iv_ss = ss;
    s->sob_n_iv = k;
    sob_event(s, CM_SHAPE_SOB_START);
}

/* No pulse for longer than the slowest rate allows: the stretch (or candidate) is over. */
static void sob_tick(cm_shape *s, uint64_t f)
{
    if (!s->n_pulses) return;
    uint64_t last = s->pulse_a[(s->n_pulses - 1) % PULSE_RING];
    if ((double)(f - last) * 0.01 > 1.0 / s->cfg.params.sob_rate_min_hz) {
        sob_close(s);
        s->n_pulses = 0;
    }
}

int cm_shape_poll(cm_shape *s, cm_shape_event *ev)
{
    if (!s || !ev || !s->ev_n) return 0;
    *ev = s->evq[s->ev_head];
    s->ev_head = (s->ev_head + 1) % EVQ;
    s->ev_n--;
    return 1;
}

uint64_t cm_shape_events_dropped(const cm_shape *s) { return s ? s->ev_dropped : 0; }

/* ---- bursts -------------------------------------------------------------------------------- */

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

/* Median F0 (Hz) of the voiced frames in [a, b]; 0 when none. Uses sort_buf. */
static float median_f0(cm_shape *s, uint64_t a, uint64_t b)
{
    unsigned n = 0;
    for (uint64_t k = a; k <= b && n < CM_SHAPE_MAX_BURST_FRAMES; k++) {
        float f0 = fi_at(s, k)->f0_hz;
        if (f0 > 0.0f) s->sort_buf[n++] = f0;
    }
    if (!n) return 0.0f;
    qsort(s->sort_buf, n, sizeof *s->sort_buf, cmp_float);
    return s->sort_buf[n / 2];
}

/* Fills the measurements of burst [a, b] from the frame ring and classifies its contour. */
static void measure(cm_shape *s, burst *bu)
{
    const cm_shape_params *p = &s->cfg.params;
    float st[CM_SHAPE_MAX_BURST_FRAMES];
    unsigned n = 0;
    double eff = 0.0, lvl = -INFINITY;
    for (uint64_t k = bu->a; k <= bu->b && n < CM_SHAPE_MAX_BURST_FRAMES; k++) {
        const finfo *fi = fi_at(s, k);
        if (fi->lvl_db > lvl) lvl = fi->lvl_db;
        if (fi->f0_hz > 0.0f) {
            st[n++] = 12.0f * log2f(fi->f0_hz / 100.0f);
            eff += fi->effort_db;
        }
    }
    bu->level_db = (float)lvl;
    bu->n_voiced = n;
    bu->contour = CM_CONTOUR_NONE;
    bu->f0_med = bu->f0_range_st = bu->effort_db = NAN;
    if (!n) return;
    bu->effort_db = (float)(eff / n);
    /* Median of 5 against single-frame octave errors. */
    float sm[CM_SHAPE_MAX_BURST_FRAMES];
    for (unsigned i = 0; i < n; i++) {
        float w[5];
        unsigned m = 0;
        for (int j = (int)i - 2; j <= (int)i + 2; j++)
            if (j >= 0 && j < (int)n) w[m++] = st[j];
        qsort(w, m, sizeof *w, cmp_float);
        sm[i] = w[m / 2];
    }
    memcpy(s->sort_buf, sm, n * sizeof *sm);
    qsort(s->sort_buf, n, sizeof *s->sort_buf, cmp_float);
    bu->f0_med = 100.0f * exp2f(s->sort_buf[n / 2] / 12.0f);
    float lo = s->sort_buf[0], hi = s->sort_buf[n - 1];
    bu->f0_range_st = hi - lo;
    /* Contours need at least a third of the burst voiced and 5 voiced frames. */
    uint64_t len = bu->b - bu->a + 1;
    if (n < 5 || 3u * n < len) return;
    unsigned q = n / 5 ? n / 5 : 1, ipk = 0;
    double s0 = 0.0, s1 = 0.0;
    for (unsigned i = 0; i < q; i++) {
        s0 += sm[i];
        s1 += sm[n - 1 - i];
    }
    s0 /= q;
    s1 /= q;
    for (unsigned i = 1; i < n; i++)
        if (sm[i] > sm[ipk]) ipk = i;
    const double t = p->contour_st, pk = sm[ipk];
    if (hi - lo < t)
        bu->contour = CM_CONTOUR_FLAT;
    else if (pk - s0 >= t && pk - s1 >= t)
        bu->contour = CM_CONTOUR_RISE_FALL;
    else if (s1 - s0 >= t)
        bu->contour = CM_CONTOUR_RISE;
    else if (s0 - s1 >= t)
        bu->contour = CM_CONTOUR_FALL;
    else
        bu->contour = CM_CONTOUR_OTHER;
}

static void emit_burst(cm_shape *s, uint64_t a, uint64_t b, cm_burst_kind kind)
{
    burst *bu = &s->bursts[s->n_bursts % CM_SHAPE_BURST_RING];
    memset(bu, 0, sizeof *bu);
    bu->seq = s->n_bursts++;
    bu->a = a;
    bu->b = b;
    bu->kind = kind;
    measure(s, bu);
    if (kind == CM_BURST_INHALE) {
        bu->contour = CM_CONTOUR_NONE;
        sob_pulse(s, a, b);
    }
    if (kind == CM_BURST_CRY && bu->n_voiced) {
        s->last_cry_f0 = bu->f0_med;
        s->last_cry_end = b;
    }
}

static cm_burst_kind cry_kind(const cm_shape *s, uint64_t a, uint64_t b)
{
    return (b - a + 1) * 10u >= s->cfg.params.cry_min_ms ? CM_BURST_CRY : CM_BURST_OTHER;
}

static void close_cry(cm_shape *s)
{
    if (!s->cry_open) return;
    s->cry_open = false;
    emit_burst(s, s->cry_a, s->cry_b, cry_kind(s, s->cry_a, s->cry_b));
}

/* A completed sub-run [a, b] of one voicing type inside a run. */
static void sub_run(cm_shape *s, uint64_t a, uint64_t b, bool voiced)
{
    const cm_shape_params *p = &s->cfg.params;
    uint64_t len = b - a + 1;
    bool inhale = false;
    if (len * 10u >= p->inhale_min_ms && len * 10u <= p->inhale_max_ms) {
        if (!voiced) {
            double fl = 0.0, ce = 0.0;
            for (uint64_t k = a; k <= b; k++) {
                fl += fi_at(s, k)->flat;
                ce += fi_at(s, k)->centroid_hz;
            }
            fl /= (double)len;
            ce /= (double)len;
            inhale = fl >= p->inhale_flat_min || ce >= p->inhale_centroid_min_hz;
        } else if (p->inhale_pitch_st > 0.0f) {
            float ref = 0.0f;
            if (s->cry_open && s->cry_b - s->cry_a + 1 >= p->cry_min_ms / 10u)
                ref = median_f0(s, s->cry_a, s->cry_b);
            else if (s->last_cry_f0 > 0.0f && a - s->last_cry_end <= PITCH_REF_FRAMES)
                ref = s->last_cry_f0;
            float f0 = median_f0(s, a, b);
            inhale = ref > 0.0f && f0 > 0.0f && 12.0f * log2f(f0 / ref) >= p->inhale_pitch_st;
        }
    }
    if (inhale) {
        close_cry(s);
        emit_burst(s, a, b, CM_BURST_INHALE);
        return;
    }
    if (s->cry_open && b - s->cry_a + 1 > CM_SHAPE_MAX_BURST_FRAMES) close_cry(s);
    if (!s->cry_open) {
        s->cry_open = true;
        s->cry_a = a;
    }
    s->cry_b = b;
}

static void run_end(cm_shape *s, uint64_t last)
{
    if (s->sub_open) sub_run(s, s->sub_start, last, s->sub_voiced);
    s->sub_open = false;
    s->pend_n = 0;
    close_cry(s);
    s->in_run = false;
}

/* Frame f of an active run with voicing v (after the run has started). */
static void run_frame(cm_shape *s, uint64_t f, bool v)
{
    if (!s->sub_open) {
        s->sub_open = true;
        s->sub_voiced = v;
        s->sub_start = f;
        s->pend_n = 0;
        return;
    }
    if (v == s->sub_voiced) {
        s->pend_n = 0;
    } else if (s->pend_n == 0) {
        s->pend_voiced = v;
        s->pend_start = f;
        s->pend_n = 1;
    } else {
        s->pend_n++;
    }
    if (s->pend_n >= VOICE_SWITCH_FRAMES) {
        sub_run(s, s->sub_start, s->pend_start - 1, s->sub_voiced);
        s->sub_voiced = s->pend_voiced;
        s->sub_start = s->pend_start;
        s->pend_n = 0;
    } else if (f - s->sub_start + 1 >= CM_SHAPE_MAX_BURST_FRAMES) {
        sub_run(s, s->sub_start, f, s->sub_voiced);
        s->sub_open = false;
        s->pend_n = 0;
    }
}

static float frame_level(const cm_shape *s, const cm_frame *fr, bool voiced, float *effort)
{
    float pw[CM_FRONT_MAX_MEL];
    double sum = 0.0, hi = 0.0;
    for (unsigned b = 0; b < s->n_mel; b++) {
        pw[b] = expf(fr->mel_db[b] * 0.23025851f);
        if (s->in_level[b]) sum += pw[b];
        if (s->in_hi[b]) hi += pw[b];
    }
    *effort = NAN;
    if (voiced && s->n_hi) {
        const float lo = fr->f0_hz * exp2f(-F0_BAND_OCT), up = fr->f0_hz * exp2f(F0_BAND_OCT);
        double e0 = 0.0;
        unsigned n0 = 0, near = 0;
        for (unsigned b = 0; b < s->n_mel; b++) {
            if (s->centre_hz[b] >= lo && s->centre_hz[b] <= up) {
                e0 += pw[b];
                n0++;
            }
            if (fabsf(s->centre_hz[b] - fr->f0_hz) < fabsf(s->centre_hz[near] - fr->f0_hz))
                near = b;
        }
        if (!n0) {
            e0 = pw[near];
            n0 = 1;
        }
        if (e0 > 0.0 && hi > 0.0)
            *effort = (float)(10.0 * log10((hi / s->n_hi) / (e0 / n0)));
    }
    return sum > 1e-12 ? (float)(10.0 * log10(sum)) : -120.0f;
}

cm_status cm_shape_frame(cm_shape *s, const cm_frame *fr)
{
    if (!s || !fr) return CM_E_INVAL;
    if (s->flushed) return CM_E_STATE;
    if (fr->index != s->n_frames || fr->n_mel != s->n_mel) return CM_E_INVAL;
    const cm_shape_params *p = &s->cfg.params;
    const uint64_t f = s->n_frames;
    finfo *fi = &s->ring[f % CM_SHAPE_FRAME_RING];
    const bool voiced = fr->f0_hz > 0.0f && fr->voicing >= p->voiced_min;
    fi->lvl_db = frame_level(s, fr, voiced, &fi->effort_db);
    fi->f0_hz = voiced ? fr->f0_hz : 0.0f;
    fi->flat = fr->flatness;
    fi->centroid_hz = fr->centroid_hz;
    s->n_frames++;

    /* Noise floor over the running maximum of 3 frames, so that a single low frame (a
     * dropout, a zero-padded last frame) cannot pull the floor down. */
    float op = fi->lvl_db;
    for (uint64_t k = f > 2 ? f - 2 : 0; k < f; k++)
        if (fi_at(s, k)->lvl_db > op) op = fi_at(s, k)->lvl_db;
    if (op < s->cur_min) s->cur_min = op;
    float floor_db = s->cur_min;
    for (unsigned i = 0; i < FLOOR_BLOCKS; i++)
        if (s->floor_blk[i] < floor_db) floor_db = s->floor_blk[i];
    if (++s->cur_count == FLOOR_BLOCK_FRAMES) {
        s->floor_blk[s->floor_blocks_done++ % FLOOR_BLOCKS] = s->cur_min;
        s->cur_min = INFINITY;
        s->cur_count = 0;
    }
    float thr = floor_db + p->act_margin_db - (s->act_state ? ACT_HYST_DB : 0.0f);
    bool act = fi->lvl_db >= thr && fi->lvl_db >= p->act_abs_dbfs;
    s->act_state = act;

    if (!s->in_run) {
        if (act) {
            if (s->on_count++ == 0) s->on_start = f;
            if (s->on_count >= RUN_ON_FRAMES) {
                s->in_run = true;
                s->off_count = 0;
                s->sub_open = false;
                for (uint64_t k = s->on_start; k <= f; k++) run_frame(s, k, fi_at(s, k)->f0_hz > 0.0f);
                s->last_active = f;
            }
        } else {
            s->on_count = 0;
        }
    } else if (act) {
        /* frames of a short inactive dip belong to the run */
        for (uint64_t k = s->last_active + 1; k <= f; k++) run_frame(s, k, fi_at(s, k)->f0_hz > 0.0f);
        s->last_active = f;
        s->off_count = 0;
    } else if (++s->off_count >= RUN_OFF_FRAMES) {
        run_end(s, s->last_active);
        s->on_count = 0;
    }
    sob_tick(s, f);
    return CM_OK;
}

void cm_shape_flush(cm_shape *s)
{
    if (!s || s->flushed) return;
    s->flushed = true;
    if (s->in_run) run_end(s, s->last_active);
    sob_close(s);
    s->n_pulses = 0;
}

/* ---- spans --------------------------------------------------------------------------------- */

static void slot_reset(slot *sl, uint64_t start_f)
{
    memset(sl, 0, sizeof *sl);
    sl->open = true;
    sl->start_f = start_f;
    sl->end_f = start_f;
    sl->level_max = -INFINITY;
}

cm_status cm_shape_begin(cm_shape *s, unsigned slot_i, uint64_t start_frame)
{
    if (!s || slot_i >= CM_SHAPE_SLOTS) return CM_E_INVAL;
    slot *sl = &s->slots[slot_i];
    slot_reset(sl, start_frame);
    uint64_t oldest = s->n_bursts > CM_SHAPE_BURST_RING ? s->n_bursts - CM_SHAPE_BURST_RING : 0;
    sl->next_seq = oldest;
    if (oldest > 0 && s->bursts[oldest % CM_SHAPE_BURST_RING].a > start_frame) sl->truncated = true;
    if (start_frame + CM_SHAPE_FRAME_RING < s->n_frames) sl->truncated = true;
    uint64_t old_sob = s->n_sobs > SOB_RING ? s->n_sobs - SOB_RING : 0;
    sl->next_sob = old_sob;
    return CM_OK;
}

static void hist_f0(slot *sl, double f0, uint32_t w)
{
    double b = 120.0 * log2(f0 / F0_LO_HZ);
    if (b >= 0.0 && b < F0_BINS) {
        sl->f0_hist[(unsigned)b] += w;
        sl->n_f0 += w;
    }
}

static void hist_eff(slot *sl, double e, uint32_t w)
{
    double b = (e - EFF_LO_DB) / EFF_STEP_DB;
    if (b < 0.0) b = 0.0;
    if (b > EFF_BINS - 1) b = EFF_BINS - 1;
    sl->eff_hist[(unsigned)b] += w;
    sl->n_eff += w;
}

static void push_stretch(slot *sl, double a_s, double b_s, bool rhythmic)
{
    cm_rhythm r = rhythmic ? CM_RHYTHM_RHYTHMIC
                           : (sl->seen_rhythmic ? CM_RHYTHM_ARRHYTHMIC : CM_RHYTHM_IRREGULAR);
    if (rhythmic) sl->seen_rhythmic = true;
    if (b_s <= a_s) return;
    sl->rhythm_s[r] += b_s - a_s;
    if (sl->n_str < CM_SHAPE_MAX_STRETCHES) sl->str[sl->n_str] = (cm_shape_stretch){a_s, b_s, r};
    sl->n_str++;
}

static void fold_onset(const cm_shape *s, slot *sl, double t)
{
    const unsigned W = s->cfg.params.rhythm_window;
    if (sl->n_onsets) {
        double d = t - sl->onset_win[(sl->n_onsets - 1) % (MAX_WIN + 1)];
        sl->iv_sum += d;
        sl->iv_ss += d * d;
    }
    sl->onset_win[sl->n_onsets % (MAX_WIN + 1)] = t;
    sl->n_onsets++;
    if (sl->n_onsets < W + 1) return;
    double sum = 0.0, ss = 0.0;
    for (unsigned i = 0; i < W; i++) {
        uint64_t j = sl->n_onsets - 1 - i;
        double d = sl->onset_win[j % (MAX_WIN + 1)] - sl->onset_win[(j - 1) % (MAX_WIN + 1)];
        sum += d;
        ss += d * d;
    }
    double m = sum / W, var = ss / W - m * m;
    double cv = m > 0.0 ? sqrt(var > 0.0 ? var : 0.0) / m : INFINITY;
    bool rh = cv <= s->cfg.params.rhythmic_cv_max;
    double span_start = cm_shape_frame_start_s(sl->start_f);
    if (!sl->have_label) {
        sl->have_label = true;
        sl->run_rhythmic = rh;
        sl->run_start_s = span_start;
        return;
    }
    if (rh == sl->run_rhythmic) return;
    /* Each interval takes the label of the window that ends with it; the first window's
     * label also covers the span before it. */
    double cut = sl->onset_win[(sl->n_onsets - 2) % (MAX_WIN + 1)];
    if (cut < sl->run_start_s) cut = sl->run_start_s;
    push_stretch(sl, sl->run_start_s, cut, sl->run_rhythmic);
    sl->run_rhythmic = rh;
    sl->run_start_s = cut;
}

static void fold_burst(const cm_shape *s, slot *sl, const burst *bu)
{
    sl->n_kind[bu->kind]++;
    if (sl->n_listed < CM_SHAPE_MAX_LISTED) {
        cm_shape_burst *o = &sl->listed[sl->n_listed++];
        o->onset_s = cm_shape_frame_start_s(bu->a);
        o->offset_s = frame_end_s(bu->b);
        o->kind = bu->kind;
        o->contour = bu->contour;
        o->f0_median_hz = bu->f0_med;
        o->f0_range_st = bu->f0_range_st;
        o->level_dbfs = bu->level_db;
        o->effort_db = bu->effort_db;
    }
    if (bu->kind != CM_BURST_CRY) return;
    fold_onset(s, sl, cm_shape_frame_start_s(bu->a));
    sl->contour[bu->contour]++;
    if (bu->level_db > sl->level_max) sl->level_max = bu->level_db;
    if (!bu->n_voiced) return;
    if (in_ring(s, bu->a)) {
        for (uint64_t k = bu->a; k <= bu->b; k++) {
            const finfo *fi = fi_at(s, k);
            if (fi->f0_hz > 0.0f) {
                hist_f0(sl, fi->f0_hz, 1);
                if (!isnan(fi->effort_db)) hist_eff(sl, fi->effort_db, 1);
            }
        }
    } else {
        /* Frames already gone (span opened late): the burst's summary stands for them. */
        hist_f0(sl, bu->f0_med, bu->n_voiced);
        if (!isnan(bu->effort_db)) hist_eff(sl, bu->effort_db, bu->n_voiced);
    }
}

static void fold_sob(slot *sl, uint64_t a, uint64_t b)
{
    if (a < sl->start_f) a = sl->start_f;
    if (b > sl->end_f) b = sl->end_f;
    if (b < a) return;
    double as = cm_shape_frame_start_s(a), bs = frame_end_s(b);
    if (sl->n_sob < CM_SHAPE_MAX_SOBS) sl->sob[sl->n_sob] = (cm_shape_span){as, bs};
    sl->n_sob++;
    sl->sob_s += bs - as;
}

/* Folds finished bursts and sob stretches that the span covers now. */
static void fold(const cm_shape *s, slot *sl)
{
    uint64_t oldest = s->n_bursts > CM_SHAPE_BURST_RING ? s->n_bursts - CM_SHAPE_BURST_RING : 0;
    if (sl->next_seq < oldest) {
        sl->next_seq = oldest;
        sl->truncated = true;
    }
    for (; sl->next_seq < s->n_bursts; sl->next_seq++) {
        const burst *bu = &s->bursts[sl->next_seq % CM_SHAPE_BURST_RING];
        if (bu->a > sl->end_f) break;
        if (bu->b < sl->start_f) continue;
        fold_burst(s, sl, bu);
    }
    uint64_t old_sob = s->n_sobs > SOB_RING ? s->n_sobs - SOB_RING : 0;
    if (sl->next_sob < old_sob) sl->next_sob = old_sob;
    for (; sl->next_sob < s->n_sobs; sl->next_sob++) {
        const sobst *so = &s->sobs[sl->next_sob % SOB_RING];
        if (so->b > sl->end_f) break; /* wait: the span may still grow over it */
        if (so->b < sl->start_f) continue;
        fold_sob(sl, so->a, so->b);
    }
}

cm_status cm_shape_extend(cm_shape *s, unsigned slot_i, uint64_t end_frame)
{
    if (!s || slot_i >= CM_SHAPE_SLOTS) return CM_E_INVAL;
    slot *sl = &s->slots[slot_i];
    if (!sl->open) return CM_E_STATE;
    if (end_frame > sl->end_f) sl->end_f = end_frame;
    fold(s, sl);
    return CM_OK;
}

static double hist_quantile(const uint32_t *h, unsigned nb, uint64_t n, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)n), c = 0;
    if (want < 1) want = 1;
    for (unsigned b = 0; b < nb; b++) {
        c += h[b];
        if (c >= want) return b + 0.5;
    }
    return nb - 0.5;
}

static void nan_result(cm_shape_result *r)
{
    memset(r, 0, sizeof *r);
    r->start_s = r->end_s = NAN;
    r->burst_rate_hz = r->regularity_cv = NAN;
    r->f0_median_hz = r->f0_p10_hz = r->f0_p90_hz = r->f0_range_st = NAN;
    r->rise_fall_share = r->effort_db = NAN;
    r->level_dbfs_max = -INFINITY;
}

/* Completes a copy of the slot with what is still provisional and writes the result. */
static void fill(cm_shape *s, const slot *live, double spl_db, cm_shape_result *r)
{
    slot *sl = &s->scratch;
    *sl = *live;
    /* bursts beyond the folded ones: the cry unit or run still in progress */
    if (s->in_run || s->cry_open) {
        uint64_t a = s->cry_open ? s->cry_a : (s->sub_open ? s->sub_start : s->on_start);
        uint64_t b = s->in_run ? s->last_active : s->cry_b;
        if (a <= sl->end_f && b >= sl->start_f && b >= a && b - a < CM_SHAPE_MAX_BURST_FRAMES &&
            in_ring(s, a)) {
            burst bu;
            memset(&bu, 0, sizeof bu);
            bu.a = a;
            bu.b = b;
            bu.kind = cry_kind(s, a, b);
            measure(s, &bu);
            fold_burst(s, sl, &bu);
        }
    }
    /* sob stretches that reach past the span's end, and the open one */
    for (uint64_t q = sl->next_sob; q < s->n_sobs; q++) {
        const sobst *so = &s->sobs[q % SOB_RING];
        if (so->a > sl->end_f) break;
        if (so->b >= sl->start_f) fold_sob(sl, so->a, so->b);
    }
    if (s->sob_open) {
        const sobst *so = &s->sobs[s->n_sobs % SOB_RING];
        if (so->a <= sl->end_f && so->b >= sl->start_f) fold_sob(sl, so->a, so->b);
    }

    nan_result(r);
    r->start_s = cm_shape_frame_start_s(sl->start_f);
    r->end_s = frame_end_s(sl->end_f);
    r->n_bursts = sl->n_kind[CM_BURST_CRY];
    r->n_inhalations = sl->n_kind[CM_BURST_INHALE];
    r->n_other = sl->n_kind[CM_BURST_OTHER];
    r->n_listed = sl->n_listed;
    memcpy(r->burst, sl->listed, sl->n_listed * sizeof *sl->listed);
    uint64_t niv = sl->n_onsets ? sl->n_onsets - 1 : 0;
    if (niv >= 1) {
        double m = sl->iv_sum / (double)niv;
        r->burst_rate_hz = m > 0.0 ? 1.0 / m : NAN;
        if (niv >= 2) {
            double var = sl->iv_ss / (double)niv - m * m;
            r->regularity_cv = m > 0.0 ? sqrt(var > 0.0 ? var : 0.0) / m : NAN;
        }
    }
    /* rhythm: close the run in progress at the span's end */
    if (sl->have_label)
        push_stretch(sl, sl->run_start_s, r->end_s, sl->run_rhythmic);
    else
        push_stretch(sl, r->start_s, r->end_s, false);
    memcpy(r->rhythm_s, sl->rhythm_s, sizeof r->rhythm_s);
    r->n_stretches = sl->n_str;
    unsigned nl = sl->n_str < CM_SHAPE_MAX_STRETCHES ? sl->n_str : CM_SHAPE_MAX_STRETCHES;
    memcpy(r->stretch, sl->str, nl * sizeof *sl->str);
    r->rhythm = CM_RHYTHM_IRREGULAR;
    for (unsigned i = 1; i < CM_N_RHYTHMS; i++)
        if (sl->rhythm_s[i] > sl->rhythm_s[r->rhythm]) r->rhythm = (cm_rhythm)i;
    /* melody */
    if (sl->n_f0) {
        r->f0_median_hz = F0_LO_HZ * exp2(hist_quantile(sl->f0_hist, F0_BINS, sl->n_f0, 0.5) / 120.0);
        r->f0_p10_hz = F0_LO_HZ * exp2(hist_quantile(sl->f0_hist, F0_BINS, sl->n_f0, 0.1) / 120.0);
        r->f0_p90_hz = F0_LO_HZ * exp2(hist_quantile(sl->f0_hist, F0_BINS, sl->n_f0, 0.9) / 120.0);
        r->f0_range_st = 12.0 * log2(r->f0_p90_hz / r->f0_p10_hz);
    }
    memcpy(r->contour_count, sl->contour, sizeof r->contour_count);
    unsigned with = 0;
    for (unsigned c = CM_CONTOUR_FLAT; c < CM_N_CONTOURS; c++) with += sl->contour[c];
    if (with) r->rise_fall_share = (double)sl->contour[CM_CONTOUR_RISE_FALL] / with;
    /* intensity */
    r->level_dbfs_max = sl->level_max;
    r->intensity = CM_INTENSITY_UNKNOWN;
    if (sl->n_eff) {
        r->effort_db = EFF_LO_DB + EFF_STEP_DB * hist_quantile(sl->eff_hist, EFF_BINS, sl->n_eff, 0.5);
        const cm_shape_params *p = &s->cfg.params;
        bool intense = r->effort_db >= p->effort_intense_db &&
                       (isnan(spl_db) || spl_db >= p->intense_min_spl_db);
        r->intensity = intense ? CM_INTENSITY_INTENSE : CM_INTENSITY_GENTLE;
    }
    r->n_sob = sl->n_sob;
    nl = sl->n_sob < CM_SHAPE_MAX_SOBS ? sl->n_sob : CM_SHAPE_MAX_SOBS;
    memcpy(r->sob, sl->sob, nl * sizeof *sl->sob);
    r->sob_s = sl->sob_s;
    r->truncated = sl->truncated;
}

cm_status cm_shape_peek(cm_shape *s, unsigned slot_i, uint64_t end_frame, double spl_db,
                        cm_shape_result *out)
{
    if (!out) return CM_E_INVAL;
    nan_result(out);
    cm_status st = cm_shape_extend(s, slot_i, end_frame);
    if (st != CM_OK) return st;
    fill(s, &s->slots[slot_i], spl_db, out);
    return CM_OK;
}

cm_status cm_shape_end(cm_shape *s, unsigned slot_i, uint64_t end_frame, double spl_db,
                       cm_shape_result *out)
{
    cm_status st = cm_shape_peek(s, slot_i, end_frame, spl_db, out);
    if (st == CM_OK) s->slots[slot_i].open = false;
    return st;
}
