/* SPDX-License-Identifier: MIT */
/* cm_loud: ITU-R BS.1770-4 / EBU R 128 loudness of the original channels at the native rate,
 * a thin wrapper over libebur128 1.2.6. It fixes the mode (histogram, so memory is constant and
 * cm_loud_add never allocates), chooses the channel map, and turns libebur128's error codes and
 * linear peaks into our statuses and dB values.
 *
 * Costs measured on the project machine (libebur128 1.2.6, 1 h of noise added in 100 ms blocks):
 * 16 kHz mono 0.58 s/h, 44.1 kHz stereo 3.3 s/h; each momentary query sums the last 400 ms
 * again (+0.13 s/h and +0.75 s/h when queried every 100 ms); true peak (4x oversampling below
 * 96 kHz) raises the totals with those queries to 2.3 s/h and 13.4 s/h. ffmpeg's ebur128 filter took 2.0 s/h and
 * 4.9 s/h (including decoding) on the same kinds of input.
 *
 * True peak is measured by a second libebur128 state that is fed only the 64-frame sub-blocks
 * that could raise it, with their neighbours (see tp_add), which gives exactly the value a
 * full run gives at a fraction of the cost. The momentary loudness at each 100 ms boundary is
 * the mean of four 100 ms window energies (see cm_loud_add), libebur128's own figure in one
 * pass instead of four. callgrind, whole `crymeter analyze` of 10 min of samples/demo.flac at
 * 16 kHz mono / 5 min at 44.1 kHz stereo (bench/README.md): 100 ms true-peak blocks 5.60 /
 * 8.76 G instructions, 64-frame sub-blocks 5.36 / 7.89 G (libebur128's oversampler 0.41 ->
 * 0.18 G / 1.28 -> 0.44 G), with the momentary tiles 5.16 / 7.33 G. */
#include "crymeter/loudness.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ebur128.h>

/* libebur128 1.2.6 oversamples for true peak with a 49-tap Hann-windowed sinc, factor 4 below
 * 96 kHz and 2 below 192 kHz, none above (ebur128_init_resampler). An interpolated sample is a
 * sum of the input samples under one polyphase branch, so its magnitude is at most that
 * branch's L1 norm times the largest input magnitude under it. The largest branch norms,
 * computed from the same coefficient formula: 1.8642 (factor 4) and 2.3068 (factor 2); we
 * round up. The branch spans at most 25 input frames (factor 2; 13 for factor 4). */
#define TP_BOUND_X4 1.8643
#define TP_BOUND_X2 2.3069
#define TP_CONTEXT_FRAMES 32u
#ifndef TP_SUB_FRAMES
#define TP_SUB_FRAMES 64u
#endif

struct cm_loud {
    ebur128_state *st; /* loudness and sample peak, fed everything */
    ebur128_state *tp; /* true peak only, fed the blocks that could raise it */
    unsigned channels;
    int true_peak;
    double tp_bound;   /* branch L1 norm bound, see above */
    double tp_max;     /* largest true peak so far, linear, over channels */
    uint64_t pos;      /* stream frames seen */
    uint64_t fed_end;  /* tp was last fed up to this stream frame (exclusive) */
    uint64_t owed_end; /* trailing context owed up to this stream frame */
    float *tail;       /* the last TP_CONTEXT_FRAMES frames seen (interleaved) */
    size_t tail_n;
    size_t tile;       /* frames per 100 ms when rate_hz is a multiple of 10, else 0 */
    size_t tile_pos;   /* frames into the current 100 ms tile */
    uint64_t tiles;    /* 100 ms tiles completed */
    double tile_e[4];  /* mean-square energy of the last four tiles, [tiles % 4] next */
};

/* Channel map. libebur128's default treats channel 3 as LFE (ignored) and channels 6 and up as
 * unused, and gives channels 4-5 the +1.5 dB surround weight (for 4 channels: quad). That is
 * right only for ITU 5.0/5.1 material. A crymeter input with 3, 4 or 7+ channels is far more
 * likely a microphone array, so every channel there is a front channel with weight 1.0 and none
 * is dropped. Mono is a single channel of weight 1.0, not "dual mono" (+3 dB), which is what
 * BS.1770 specifies for one channel and what ffmpeg's ebur128 filter does by default. */
static int set_channel_map(ebur128_state *st, unsigned channels)
{
    static const int map5[5] = {EBUR128_LEFT, EBUR128_RIGHT, EBUR128_CENTER,
                                EBUR128_LEFT_SURROUND, EBUR128_RIGHT_SURROUND};
    /* ITU-R BS.775 5.1 order L R C LFE Ls Rs; the LFE is excluded by BS.1770. */
    static const int map6[6] = {EBUR128_LEFT,   EBUR128_RIGHT,         EBUR128_CENTER,
                                EBUR128_UNUSED, EBUR128_LEFT_SURROUND, EBUR128_RIGHT_SURROUND};
    for (unsigned c = 0; c < channels; c++) {
        int v;
        if (channels == 5)
            v = map5[c];
        else if (channels == 6)
            v = map6[c];
        else if (channels == 2)
            v = c == 0 ? EBUR128_LEFT : EBUR128_RIGHT;
        else
            v = EBUR128_CENTER; /* weight 1.0 */
        if (ebur128_set_channel(st, c, v) != EBUR128_SUCCESS) return -1;
    }
    return 0;
}

cm_status cm_loud_create(unsigned rate_hz, unsigned channels, int true_peak, cm_loud **out,
                         cm_diag *why)
{
    assert(out);
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (rate_hz < CM_RATE_MIN_HZ || rate_hz > CM_RATE_MAX_HZ)
        return cm_diag_fail(why, CM_E_RANGE, "rate_hz=%u: must be %u..%u", rate_hz,
                            CM_RATE_MIN_HZ, CM_RATE_MAX_HZ);
    if (channels < 1 || channels > CM_CHANNELS_MAX)
        return cm_diag_fail(why, CM_E_RANGE, "channels=%u: must be 1..%u", channels,
                            CM_CHANNELS_MAX);

    cm_loud *l = calloc(1, sizeof *l);
    if (!l) return cm_diag_fail(why, CM_E_NOMEM, "loudness meter: out of memory");
    l->channels = channels;
    l->true_peak = true_peak != 0;
    l->tile = rate_hz % 10 == 0 ? rate_hz / 10 : 0;
    /* HISTOGRAM: block energies go into fixed 0.1 LU bins instead of a list that grows by
     * ~1 MiB per hour; integrated and LRA then carry at most 0.05 LU of binning error. */
    int mode = EBUR128_MODE_M | EBUR128_MODE_S | EBUR128_MODE_I | EBUR128_MODE_LRA |
               EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_HISTOGRAM;
    l->st = ebur128_init(channels, rate_hz, mode);
    if (l->st && l->true_peak) {
        /* libebur128 refuses a state without M or S; M is the cheapest companion. */
        l->tp = ebur128_init(channels, rate_hz, EBUR128_MODE_M | EBUR128_MODE_TRUE_PEAK);
        l->tail = calloc((size_t)TP_CONTEXT_FRAMES * channels, sizeof *l->tail);
        l->tp_bound = rate_hz < 96000 ? TP_BOUND_X4 : rate_hz < 192000 ? TP_BOUND_X2 : 1.0;
    }
    if (!l->st || (l->true_peak && (!l->tp || !l->tail))) {
        cm_loud_destroy(l);
        return cm_diag_fail(why, CM_E_NOMEM, "loudness meter: out of memory (%u channels)",
                            channels);
    }
    if (set_channel_map(l->st, channels) != 0) {
        cm_loud_destroy(l);
        return cm_diag_fail(why, CM_E_INVAL, "loudness meter: channel map rejected");
    }
    *out = l;
    return CM_OK;
}

void cm_loud_destroy(cm_loud *l)
{
    if (!l) return;
    if (l->st) ebur128_destroy(&l->st);
    if (l->tp) ebur128_destroy(&l->tp);
    free(l->tail);
    free(l);
}

static int tp_feed(cm_loud *l, const float *x, size_t n)
{
    if (n == 0) return 0;
    if (ebur128_add_frames_float(l->tp, x, n) != EBUR128_SUCCESS) return -1;
    for (unsigned c = 0; c < l->channels; c++) {
        double v;
        if (ebur128_true_peak(l->tp, c, &v) == EBUR128_SUCCESS && v > l->tp_max) l->tp_max = v;
    }
    return 0;
}

/* Keeps the last TP_CONTEXT_FRAMES frames of the stream. */
static void tp_keep_tail(cm_loud *l, const float *x, size_t n)
{
    const size_t ch = l->channels, cap = TP_CONTEXT_FRAMES;
    if (n >= cap) {
        memcpy(l->tail, x + (n - cap) * ch, cap * ch * sizeof *x);
        l->tail_n = cap;
        return;
    }
    size_t keep = l->tail_n + n > cap ? cap - n : l->tail_n;
    memmove(l->tail, l->tail + (l->tail_n - keep) * ch, keep * ch * sizeof *x);
    memcpy(l->tail + keep * ch, x, n * ch * sizeof *x);
    l->tail_n = keep + n;
}

/* The magnitudes of IEEE floats order
 * as their bit patterns with the sign cleared, and NaN and Inf sort above every finite value,
 * so one unsigned max does both jobs and vectorises (the analyzer's float loop with an
 * isfinite test per sample did not: 0.50 G instructions per 5 min of 44.1 kHz stereo,
 * callgrind). */
float cm_peak_abs(const float *x, size_t n)
{
    uint32_t m[8] = {0}; /* eight lanes, so that -O2 makes it two vector max operations */
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint32_t u[8];
        memcpy(u, x + i, sizeof u);
        for (int j = 0; j < 8; j++) {
            u[j] &= 0x7fffffffu;
            m[j] = u[j] > m[j] ? u[j] : m[j];
        }
    }
    for (; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        u &= 0x7fffffffu;
        m[0] = u > m[0] ? u : m[0];
    }
    for (int j = 1; j < 8; j++) m[0] = m[j] > m[0] ? m[j] : m[0];
    if (m[0] >= 0x7f800000u) return INFINITY;
    float p;
    memcpy(&p, &m[0], sizeof p);
    return p;
}

/* One sub-block of n frames starting at stream frame l->pos. */
static int tp_sub(cm_loud *l, const float *x, size_t n)
{
    const size_t ch = l->channels;
    float peak = cm_peak_abs(x, n * ch);
    int rc = 0;
    if ((double)peak * l->tp_bound > l->tp_max) {
        /* Leading context: the frames before this one not fed yet, at most the tail. A gap
         * shorter than the tail is thereby filled and the stream fed stays contiguous. */
        uint64_t from = l->pos - l->tail_n;
        if (l->fed_end > from) from = l->fed_end;
        if (from < l->pos) {
            size_t off = (size_t)(from - (l->pos - l->tail_n));
            rc |= tp_feed(l, l->tail + off * ch, (size_t)(l->pos - from));
        }
        rc |= tp_feed(l, x, n);
        l->fed_end = l->pos + n;
        l->owed_end = l->fed_end + TP_CONTEXT_FRAMES;
    } else if (l->owed_end > l->pos) {
        /* Trailing context of the last fed frames (then fed_end == pos). */
        uint64_t k = l->owed_end - l->pos;
        if (k > n) k = n;
        rc |= tp_feed(l, x, (size_t)k);
        l->fed_end = l->pos + k;
    }
    tp_keep_tail(l, x, n);
    l->pos += n;
    return rc;
}

/* True peak, exactly, at a fraction of the cost. A sub-block of TP_SUB_FRAMES whose sample
 * peak times tp_bound does not exceed the true peak so far cannot raise it, nor can any
 * interpolated sample made only of such sub-blocks' samples, so it is skipped. Around the
 * sub-blocks that are fed, the real neighbours are fed too (up to TP_CONTEXT_FRAMES before
 * and after), so every interpolated sample that involves a fed sub-block's samples is computed
 * in its true context. Samples the oversampler makes across a skip join only skipped
 * samples, so they stay under the bound and cannot change the maximum either. */
static cm_status tp_add(cm_loud *l, const float *x, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i += TP_SUB_FRAMES) {
        size_t m = n - i < TP_SUB_FRAMES ? n - i : TP_SUB_FRAMES;
        rc |= tp_sub(l, x + i * l->channels, m);
    }
    return rc ? CM_E_NOMEM : CM_OK;
}

static cm_status loud_feed(cm_loud *l, const float *x, size_t n)
{
    /* In histogram mode add_frames only filters and bins: it has no allocation to fail. */
    if (ebur128_add_frames_float(l->st, x, n) != EBUR128_SUCCESS) return CM_E_NOMEM;
    return l->true_peak ? tp_add(l, x, n) : CM_OK;
}

static double energy_from_lufs(double v) { return v > -HUGE_VAL ? pow(10.0, (v + 0.691) / 10.0) : 0.0; }

cm_status cm_loud_add(cm_loud *l, const float *interleaved, size_t n_frames)
{
    assert(l && (interleaved || n_frames == 0));
    if (!l || (!interleaved && n_frames)) return CM_E_INVAL;
    if (l->tile == 0) return n_frames ? loud_feed(l, interleaved, n_frames) : CM_OK;
    /* Cut at 100 ms tile boundaries and keep each tile's energy, so that the momentary
     * loudness at a boundary is the mean of four tiles: one pass over the samples instead of
     * libebur128's four (ebur128_loudness_momentary sums the whole 400 ms again per query). */
    while (n_frames) {
        size_t m = l->tile - l->tile_pos;
        if (m > n_frames) m = n_frames;
        cm_status st = loud_feed(l, interleaved, m);
        if (st) return st;
        interleaved += m * l->channels;
        n_frames -= m;
        if ((l->tile_pos += m) == l->tile) {
            double v;
            if (ebur128_loudness_window(l->st, 100, &v) != EBUR128_SUCCESS) return CM_E_INVAL;
            l->tile_e[l->tiles++ % 4] = energy_from_lufs(v);
            l->tile_pos = 0;
        }
    }
    return CM_OK;
}

/* libebur128 returns -HUGE_VAL (== -INFINITY) for silence, which is our convention too. */
double cm_loud_momentary_lufs(const cm_loud *l)
{
    double v;
    if (l && l->tile && l->tile_pos == 0) {
        /* libebur128's 400 ms ring starts as zeros, as tile_e does: the same sum. */
        double e = (l->tile_e[0] + l->tile_e[1] + l->tile_e[2] + l->tile_e[3]) / 4.0;
        return e > 0.0 ? 10.0 * log10(e) - 0.691 : -HUGE_VAL;
    }
    if (!l || ebur128_loudness_momentary(l->st, &v) != EBUR128_SUCCESS) return NAN;
    return v;
}

double cm_loud_shortterm_lufs(const cm_loud *l)
{
    double v;
    if (!l || ebur128_loudness_shortterm(l->st, &v) != EBUR128_SUCCESS) return NAN;
    return v;
}

double cm_loud_integrated_lufs(const cm_loud *l)
{
    double v;
    if (!l || ebur128_loudness_global(l->st, &v) != EBUR128_SUCCESS) return NAN;
    return v;
}

double cm_loud_range_lu(const cm_loud *l)
{
    double v;
    if (!l || ebur128_loudness_range(l->st, &v) != EBUR128_SUCCESS) return NAN;
    return v;
}

static double db_from_amp(double a) { return a > 0.0 ? 20.0 * log10(a) : -INFINITY; }

double cm_loud_sample_peak_dbfs(const cm_loud *l)
{
    if (!l) return NAN;
    double m = 0.0;
    for (unsigned c = 0; c < l->channels; c++) {
        double v;
        if (ebur128_sample_peak(l->st, c, &v) != EBUR128_SUCCESS) return NAN;
        if (v > m) m = v;
    }
    return db_from_amp(m);
}

double cm_loud_true_peak_dbtp(const cm_loud *l)
{
    if (!l || !l->true_peak) return NAN;
    /* libebur128's true peak is at least the sample peak; ours covers skipped blocks too. */
    double m = l->tp_max;
    for (unsigned c = 0; c < l->channels; c++) {
        double v;
        if (ebur128_sample_peak(l->st, c, &v) != EBUR128_SUCCESS) return NAN;
        if (v > m) m = v;
    }
    return db_from_amp(m);
}
