/* SPDX-License-Identifier: MIT */
/* Runtime. Episode shape: bursts, rhythm, melody, intensity and sobbing, from the 10 ms
 * frames.
 *
 * One cm_shape runs over the whole stream. Every frame (cm_frame, consecutive indices from
 * 0) goes through cm_shape_frame. Inside, the stream is cut into bursts: active runs of the
 * band level (mel bands 250..4000 Hz) above an adaptive noise floor, split where the frame
 * changes between voiced and unvoiced for at least 30 ms. Each burst is classified as
 *   - a cry unit (expiratory, voiced or long),
 *   - an inhalation pulse (50..400 ms, noisy, or voiced and well above the last cry unit's
 *     pitch), or
 *   - other (too short for either).
 * Bursts go into a bounded history (CM_SHAPE_BURST_RING bursts), and frames into a bounded
 * frame ring (CM_SHAPE_FRAME_RING frames, 20.48 s).
 *
 * Episodes are spans that the caller opens and closes, usually when its segmenter opens
 * and closes, possibly seconds after the frames. Up to CM_SHAPE_SLOTS spans may be open at
 * once, one per slot. cm_shape_begin(slot, start_frame) opens a span, and cm_shape_extend
 * moves its end forward. Bursts that overlap the span are folded into a per-slot summary
 * as soon as the span covers them, so an episode of any length is summarised in constant
 * memory. cm_shape_end returns the final summary, and cm_shape_peek returns the summary so
 * far. A summary taken cm_shape_settle_frames() or more frames after end_frame is final and
 * does not depend on when begin, extend and end were called. Taken earlier, a burst still in
 * progress is included up to the latest frame, and a sob stretch that starts inside the span
 * but is not yet confirmed (it needs sob_min_pulses pulses) is missing.
 *
 * Sobbing is detected on the stream, independently of episodes: a sob stretch is a run of
 * inhalation pulses that recur at a rate in [sob_rate_min_hz, sob_rate_max_hz] with a
 * coefficient of variation of their intervals at most sob_cv_max. Stretches are reported
 * as their own events (cm_shape_poll), because sobbing can outlast the crying. The parts
 * that overlap an episode also appear in that episode's summary.
 *
 * Times: frame k stands for the 10 ms around its window centre, [k*0.01 + 0.0075,
 * k*0.01 + 0.0175) s, the same convention as cm_episode. A burst from frame a to frame b
 * spans [a*0.01 + 0.0075, b*0.01 + 0.0175) s.
 * Memory: everything is allocated in cm_shape_create, and no other call allocates.
 * Threading: one cm_shape belongs to one thread. */
#ifndef CRYMETER_SHAPE_H
#define CRYMETER_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crymeter/frontend.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_SHAPE_SLOTS 4u          /* episodes open at once */
#define CM_SHAPE_FRAME_RING 2048u  /* frames kept, 20.48 s */
#define CM_SHAPE_BURST_RING 512u   /* bursts kept for spans opened late */
#define CM_SHAPE_MAX_BURST_FRAMES 1000u /* a burst longer than 10 s is cut into pieces */
#define CM_SHAPE_MAX_LISTED 64u    /* bursts listed per episode (the first ones) */
#define CM_SHAPE_MAX_STRETCHES 16u /* rhythm stretches listed per episode (the first) */
#define CM_SHAPE_MAX_SOBS 16u      /* sob stretches listed per episode (the first) */

typedef enum cm_burst_kind {
    CM_BURST_CRY = 0,    /* cry unit: expiratory vocal burst */
    CM_BURST_INHALE = 1, /* inhalation pulse */
    CM_BURST_OTHER = 2   /* active but neither (shorter than cry_min_ms, not an inhalation) */
} cm_burst_kind;

typedef enum cm_contour {
    CM_CONTOUR_NONE = 0,      /* too few voiced frames (inhalations, noisy bursts) */
    CM_CONTOUR_FLAT = 1,      /* range below contour_st */
    CM_CONTOUR_RISE = 2,
    CM_CONTOUR_FALL = 3,
    CM_CONTOUR_RISE_FALL = 4, /* peak inside, both ends lower by contour_st or more */
    CM_CONTOUR_OTHER = 5,     /* none of the above, e.g. fall-rise */
    CM_N_CONTOURS = 6
} cm_contour;

typedef enum cm_rhythm {
    CM_RHYTHM_IRREGULAR = 0,  /* not rhythmic, before any rhythmic stretch of the episode */
    CM_RHYTHM_RHYTHMIC = 1,   /* local CV of cry-unit onset intervals <= rhythmic_cv_max */
    CM_RHYTHM_ARRHYTHMIC = 2, /* not rhythmic, after a rhythmic stretch */
    CM_N_RHYTHMS = 3
} cm_rhythm;

typedef enum cm_intensity {
    CM_INTENSITY_UNKNOWN = 0, /* no voiced cry frame to measure effort on */
    CM_INTENSITY_GENTLE = 1,
    CM_INTENSITY_INTENSE = 2
} cm_intensity;

/* "cry", "inhale", "other"; "none", "flat", "rise", "fall", "rise-fall", "other";
 * "irregular", "rhythmic", "arrhythmic"; "unknown", "gentle", "intense". "?" otherwise. */
const char *cm_burst_kind_name(cm_burst_kind k);
const char *cm_contour_name(cm_contour c);
const char *cm_rhythm_name(cm_rhythm r);
const char *cm_intensity_name(cm_intensity i);

/* Every threshold is meant to live in the model file, so that calibrate can set it. Each
 * default's source is given in cm_shape_params_default (src/detect/shape.c) and in
 * docs/shape.md. */
typedef struct cm_shape_params {
    /* bursts */
    float act_margin_db;     /* a frame is active at band level >= floor + this, dB; 3..30 */
    float act_abs_dbfs;      /* ... and >= this, dBFS; -120..0 */
    float voiced_min;        /* a frame is voiced when f0_hz > 0 and voicing >= this; 0..1 */
    unsigned cry_min_ms;     /* shortest cry unit, ms; 30..2000 */
    unsigned inhale_min_ms;  /* inhalation pulse duration range, ms; 30..inhale_max_ms */
    unsigned inhale_max_ms;  /* ..1000 */
    float inhale_flat_min;   /* an unvoiced pulse is noisy at mean flatness >= this; 0..1 */
    float inhale_centroid_min_hz; /* ... or mean spectral centroid >= this, Hz; 0..8000 */
    float inhale_pitch_st;   /* a short voiced pulse within 1 s after a cry unit is an
                                inhalation when its median F0 is at least this many
                                semitones above the cry unit's; 0..36 (0 disables) */
    /* rhythm */
    unsigned rhythm_window;  /* intervals per local CV, 2..16 */
    float rhythmic_cv_max;   /* local CV <= this is rhythmic; 0..2 */
    /* melody */
    float contour_st;        /* smallest rise or fall that counts, semitones; 0.1..12 */
    /* intensity */
    float effort_intense_db; /* median effort >= this ... dB; -80..40 */
    float intense_min_spl_db;/* ... and (when the caller gives one) loudness >= this, dB SPL
                                (or dB(A) re FS + offset); -50..200 */
    /* sobbing */
    float sob_rate_min_hz;   /* inhalation pulse rate range, Hz; 0.05..sob_rate_max_hz */
    float sob_rate_max_hz;   /* ..5 */
    float sob_cv_max;        /* CV of the pulse intervals; 0..2 */
    unsigned sob_min_pulses; /* pulses before a stretch starts; 3..32 */
} cm_shape_params;

/* The front-end geometry the frames come from (to place the mel bands in Hz). */
typedef struct cm_shape_config {
    cm_shape_params params;
    unsigned n_mel;          /* as cm_front_config.n_mel */
    float mel_fmin_hz;       /* as cm_front_config.fmin_hz */
    float mel_fmax_hz;       /* as cm_front_config.fmax_hz */
} cm_shape_config;

cm_shape_params cm_shape_params_default(void);
/* params default, mel geometry from fc (cm_front_config_default() when fc is NULL). */
cm_shape_config cm_shape_config_default(const cm_front_config *fc);
/* Checks every field. CM_OK, or CM_E_RANGE with why naming the field, its value and range. */
CM_NODISCARD cm_status cm_shape_params_check(const cm_shape_params *p, cm_diag *why);

typedef struct cm_shape_burst {
    double onset_s, offset_s;
    cm_burst_kind kind;
    cm_contour contour;
    float f0_median_hz;      /* over voiced frames; NAN when none */
    float f0_range_st;       /* max - min of the smoothed contour, semitones; NAN when none */
    float level_dbfs;        /* max band level (250..4000 Hz), dBFS */
    float effort_db;         /* mean over voiced frames; NAN when none */
} cm_shape_burst;

typedef struct cm_shape_stretch {
    double start_s, end_s;
    cm_rhythm rhythm;
} cm_shape_stretch;

typedef struct cm_shape_span {
    double start_s, end_s;
} cm_shape_span;

/* Plain data: nothing to free. NAN marks a figure that could not be measured. */
typedef struct cm_shape_result {
    double start_s, end_s;
    /* bursts */
    unsigned n_bursts;           /* cry units */
    unsigned n_inhalations;
    unsigned n_other;
    unsigned n_listed;           /* entries in burst[]: the first bursts of every kind */
    cm_shape_burst burst[CM_SHAPE_MAX_LISTED];
    /* rhythm (over cry-unit onsets) */
    double burst_rate_hz;        /* 1 / mean onset interval; NAN with fewer than 2 units */
    double regularity_cv;        /* std / mean of onset intervals; NAN with fewer than 3 */
    cm_rhythm rhythm;            /* the label that covers most of the span */
    double rhythm_s[CM_N_RHYTHMS]; /* seconds per label; they sum to end_s - start_s */
    unsigned n_stretches;        /* all stretches; the first CM_SHAPE_MAX_STRETCHES listed */
    cm_shape_stretch stretch[CM_SHAPE_MAX_STRETCHES];
    /* melody (voiced frames of cry units) */
    double f0_median_hz;         /* NAN when none */
    double f0_p10_hz, f0_p90_hz; /* 10th and 90th percentiles */
    double f0_range_st;          /* 12 log2(p90 / p10), semitones */
    unsigned contour_count[CM_N_CONTOURS]; /* cry units per contour shape */
    double rise_fall_share;      /* rise-fall units / units with a contour; NAN when none */
    /* intensity */
    double effort_db;            /* median per-frame effort over voiced cry frames; NAN */
    double level_dbfs_max;       /* max band level of any cry unit; -INFINITY when none */
    cm_intensity intensity;
    /* sobbing: sob stretches clipped to the span */
    unsigned n_sob;              /* all; the first CM_SHAPE_MAX_SOBS listed */
    cm_shape_span sob[CM_SHAPE_MAX_SOBS];
    double sob_s;                /* total seconds of sobbing inside the span */
    bool truncated;              /* part of the span was older than the history when it was
                                    opened: counts cover only what was still there */
} cm_shape_result;

typedef enum cm_shape_event_kind {
    CM_SHAPE_SOB_START = 0, /* a sob stretch has begun: start_s final, end_s so far */
    CM_SHAPE_SOB_END = 1    /* the stretch is over: every field final */
} cm_shape_event_kind;

typedef struct cm_shape_event {
    cm_shape_event_kind kind;
    uint64_t id;              /* 1, 2, ... per cm_shape */
    uint64_t start_frame, end_frame; /* inclusive */
    double start_s, end_s;    /* first pulse onset .. last pulse offset */
    unsigned n_pulses;
    double rate_hz;           /* 1 / mean pulse interval */
    double cv;                /* CV of the pulse intervals */
} cm_shape_event;

typedef struct cm_shape cm_shape;

/* Checks cfg (CM_E_RANGE + why), allocates everything. On failure *out is NULL. */
CM_NODISCARD cm_status cm_shape_create(const cm_shape_config *cfg, cm_shape **out,
                                       cm_diag *why);
void cm_shape_destroy(cm_shape *s); /* NULL is a no-op */
void cm_shape_reset(cm_shape *s);   /* back to frame 0, no slot open, no events, same config */

/* The next frame: fr->index must be the number of frames given so far (CM_E_INVAL
 * otherwise, nothing done; CM_E_STATE after flush). */
CM_NODISCARD cm_status cm_shape_frame(cm_shape *s, const cm_frame *fr);
/* End of input: closes the burst in progress and any sob stretch (queues its END event).
 * Further frames are CM_E_STATE until reset; spans may still be ended or peeked. */
void cm_shape_flush(cm_shape *s);
/* Takes the oldest queued sob event: 1 and *ev filled, or 0. Events queue up to 8; call after
 * every frame (or batch of fewer than 8 frames' worth). Older events are dropped when the
 * queue is full and counted by cm_shape_events_dropped. */
int cm_shape_poll(cm_shape *s, cm_shape_event *ev);
uint64_t cm_shape_events_dropped(const cm_shape *s);

/* Opens a span in slot (0..CM_SHAPE_SLOTS-1) from start_frame (any frame, earlier or later
 * than the latest one; bursts overlapping it that are still in the history count). An open
 * slot is re-opened. CM_E_INVAL for a bad slot. */
CM_NODISCARD cm_status cm_shape_begin(cm_shape *s, unsigned slot, uint64_t start_frame);
/* Moves the span's end to end_frame (inclusive; never backwards, a smaller value is ignored)
 * and folds in the bursts it now covers. CM_E_STATE when the slot is not open. */
CM_NODISCARD cm_status cm_shape_extend(cm_shape *s, unsigned slot, uint64_t end_frame);
/* The summary of the span so far, up to end_frame (extends first). spl_db: the episode's
 * loudness for the intensity label (dB SPL, or any scale intense_min_spl_db is set in);
 * NAN to use effort alone. The slot stays open. */
CM_NODISCARD cm_status cm_shape_peek(cm_shape *s, unsigned slot, uint64_t end_frame,
                                     double spl_db, cm_shape_result *out);
/* As peek, then closes the slot. On error *out is zeroed with NAN figures. */
CM_NODISCARD cm_status cm_shape_end(cm_shape *s, unsigned slot, uint64_t end_frame,
                                    double spl_db, cm_shape_result *out);

/* Frames after a span's end after which its summary is final: the longest burst
 * (CM_SHAPE_MAX_BURST_FRAMES) or the longest time to confirm a sob stretch
 * ((sob_min_pulses - 1) / sob_rate_min_hz + inhale_max_ms), whichever is longer, plus 10
 * frames (30 ms run hangover and margin). 1384 frames (13.8 s) with the defaults. */
uint64_t cm_shape_settle_frames(const cm_shape *s);

/* Frames given so far. */
uint64_t cm_shape_frames_in(const cm_shape *s);
/* Start time of frame k in seconds (k*0.01 + 0.0075). */
double cm_shape_frame_start_s(uint64_t k);

#ifdef __cplusplus
}
#endif
#endif
