/* SPDX-License-Identifier: MIT */
/* Runtime. cm_analyzer: the one pipeline behind `crymeter analyze` and `crymeter monitor`.
 *
 * Push native-rate interleaved float audio in any chunk sizes; get episodes (and, for live
 * use, start / excessive events and 10 Hz level readings) through callbacks, then a summary.
 * Inside: loudness (libebur128) and A-weighted level on the original channels at the native
 * rate; channel mean -> 8 kHz (libsoxr) -> frame features -> detector -> segmenter.
 * The input is re-blocked internally into fixed blocks, so results are identical whatever
 * the caller's chunking (tested).
 *
 * Times are seconds from the first pushed frame. Levels: LUFS (BS.1770), dBFS (full-scale
 * square = 0), dB(A) re full scale (Fast), dB SPL = dB(A) re FS + spl_offset_db.
 * Threading: one analyzer per thread; callbacks run on the pushing thread, inside push/flush.
 * With threads == 2 (and no on_level) the analyzer owns two helper threads, one for the
 * native-rate levels and one for the front end; flush and destroy join them. */
#ifndef CRYMETER_ANALYZER_H
#define CRYMETER_ANALYZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crymeter/classes.h"
#include "crymeter/featpath.h" /* CM_SAMPLE_LIMIT */
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { CM_EXCESS_LOUD = 1u << 0, CM_EXCESS_LONG = 1u << 1 };

/* Default SPL mapping when no calibration is given: 0 dB re full scale = 100 dB SPL.
 * A typical phone or laptop microphone at default gain clips between 100 and 120 dB SPL;
 * every SPL figure produced with this default is marked uncalibrated. */
#define CM_SPL_OFFSET_DEFAULT_DB 100.0

struct cm_shape_result;

/* Pulse statistics of a sob episode (cls == CM_CLASS_SOB). */
typedef struct cm_sob_info {
    unsigned n_pulses;     /* inhalation pulses in the stretch */
    double pulse_rate_hz;  /* 1 / mean interval between pulses */
    double pulse_cv;       /* coefficient of variation of those intervals */
} cm_sob_info;

typedef struct cm_episode {
    uint64_t id;                 /* 1, 2, ... within one analyzer */
    cm_class cls;
    double start_s, end_s;       /* end_s of an open episode is the latest activity */
    double duration_s;           /* end_s - start_s */
    float confidence;            /* 0..1, mean detector score for cls over the episode; NAN for
                                    sob (found from pulse rhythm, not scored) */
    double lufs_momentary_max;   /* LUFS; -INFINITY if silent */
    double dba_max;              /* dB(A) re full scale, Fast, max */
    double peak_dbfs;            /* sample peak over all channels */
    double spl_db_max;           /* dB(A) SPL max = dba_max + spl_offset_db */
    bool calibrated;             /* false: spl_db_max uses CM_SPL_OFFSET_DEFAULT_DB */
    double f0_median_hz;         /* over voiced frames; NAN when none */
    unsigned excessive;          /* CM_EXCESS_* bits */
    double loud_excess_db;       /* spl_db_max - loud_db when CM_EXCESS_LOUD, else 0 */
    double long_excess_s;        /* duration_s - long_s when CM_EXCESS_LONG, else 0 */
    /* Bursts, rhythm, melody, intensity and sob stretches of the episode (shape.h). Set on
     * CM_EVENT_END of cry and vocal episodes, NULL otherwise. Borrowed: valid only during
     * the callback; copy what you keep. */
    const struct cm_shape_result *shape;
    cm_sob_info sob;             /* cls == CM_CLASS_SOB only; zero otherwise */
} cm_episode;

typedef enum cm_event_kind {
    CM_EVENT_START = 0,     /* an episode has begun (fields so far) */
    CM_EVENT_EXCESSIVE = 1, /* an open episode has just crossed loud_db or long_s */
    CM_EVENT_END = 2        /* an episode is complete: every field final */
} cm_event_kind;

/* A reading every 100 ms of input. */
typedef struct cm_level {
    double t_s;              /* end of the 100 ms block */
    double lufs_momentary;   /* LUFS over the last 400 ms */
    double dba_fast;         /* dB(A) re FS, Fast, max over the block */
    double spl_db;           /* dba_fast + spl_offset_db */
    double peak_dbfs;        /* sample peak in the block */
    cm_class cls;            /* detector's current best class */
    float score;             /* its score, 0..1 */
    float p_cry;             /* the latest window's probability of cry, 0..1 */
    bool in_episode;
} cm_level;

typedef void (*cm_event_fn)(void *user, cm_event_kind kind, const cm_episode *ep);
typedef void (*cm_level_fn)(void *user, const cm_level *lv);

struct cm_model;

typedef struct cm_analyzer_config {
    unsigned rate_hz;         /* input rate, 8000..192000 */
    unsigned channels;        /* 1..64 */
    double spl_offset_db;     /* dB SPL at 0 dB re FS; default CM_SPL_OFFSET_DEFAULT_DB */
    bool calibrated;          /* true when spl_offset_db was measured or given */
    double loud_db;           /* dB(A) SPL; default 76 (listeners rated cries >= 76 dB(A)
                                 most annoying, DESIGN.md) */
    double long_s;            /* default 60 s */
    double merge_gap_s;       /* gaps shorter than this join one episode; default 5 s;
                                 < 0 means "the model's value" */
    double min_episode_s;     /* shorter episodes are dropped; default 0.5 s */
    bool true_peak;           /* measure true peak (costs an oversampler); default true */
    unsigned threads;         /* 1: every stage on the pushing thread; 2 (default): when
                                 on_level is NULL, the native-rate levels (libebur128,
                                 A-weighting) and the front end (resampler, FFT, mel, pitch,
                                 and the detector) each run on a thread of their own, so a
                                 file is analysed on two cores; 3: the same with the
                                 detector (window features, classifier) on a third, for
                                 four or more cores (the default where that many are
                                 online). Results are identical whatever the threads
                                 (tested). */
    const struct cm_model *model; /* NULL: the compiled-in default model; borrowed, must
                                     outlive the analyzer */
    cm_event_fn on_event;     /* may be NULL */
    cm_level_fn on_level;     /* may be NULL */
    /* May be NULL. The level track (crymeter's level records): one reading per 100 ms block
     * in audio order, delivered once the block's loudness is final and the detector has
     * decided it, so up to about 2 s of audio late. cls, score and p_cry are those of the
     * detector's windows centred in the block (the highest class, cry > vocal > background,
     * and the highest p_cry), else of the latest window centred before it; in_episode is
     * false. Unlike on_level it keeps threads == 2, and its readings are identical whatever
     * the chunking and the threads (tested). */
    cm_level_fn on_track;
    void *user;
} cm_analyzer_config;

typedef struct cm_summary {
    double duration_s;             /* frames_read / rate_hz */
    uint64_t frames_read;          /* native frames pushed */
    uint64_t frames_analyzed;      /* native frames that reached every stage; equals
                                      frames_read after flush */
    uint64_t nonfinite_samples;    /* NaN/Inf samples, replaced by 0 before analysis */
    unsigned episodes;
    unsigned episodes_by_class[CM_N_CLASSES];
    double lufs_integrated;        /* LUFS; -INFINITY if silent */
    double lra_lu;
    double true_peak_dbtp;         /* NAN when true_peak was off */
    double sample_peak_dbfs;
    uint64_t overrange_samples;    /* finite samples beyond +-CM_SAMPLE_LIMIT, replaced by 0
                                      before analysis, as NaN/Inf are */
} cm_summary;


typedef struct cm_analyzer cm_analyzer;

cm_analyzer_config cm_analyzer_config_default(unsigned rate_hz, unsigned channels);

/* Checks every field (CM_E_RANGE + why naming it). Allocates everything up front. */
CM_NODISCARD cm_status cm_analyzer_create(const cm_analyzer_config *cfg, cm_analyzer **out,
                                          cm_diag *why);
void cm_analyzer_destroy(cm_analyzer *a); /* NULL is a no-op */

/* Pushes n_frames interleaved frames (n_frames * channels floats). Any n, including 0.
 * Non-finite samples are replaced by 0 and counted. CM_E_STATE after flush. */
CM_NODISCARD cm_status cm_analyzer_push(cm_analyzer *a, const float *interleaved,
                                        size_t n_frames);
/* End of input: drains every stage, closes any open episode (CM_EVENT_END). */
CM_NODISCARD cm_status cm_analyzer_flush(cm_analyzer *a);

/* Scores the windows completed from now on with m (monitor's reload of a re-adapted home
 * model). Call it between pushes, from the pushing thread. Windows already in the front-end
 * jobs are finished with the old model first; no window is lost or scored twice, and
 * episodes open now stay open. Only what a recalibrated or adapted model changes may change: the classifier,
 * its home layer and the class thresholds. A model with another front end, smoothing, cry
 * confirmation, frame network (one and not the other), episode settings or sobbing shape
 * is refused (CM_E_FORMAT, why naming which) and the old one stays in use. m must outlive
 * the analyzer or the next cm_analyzer_set_model; the old model is no longer used. */
CM_NODISCARD cm_status cm_analyzer_set_model(cm_analyzer *a, const struct cm_model *m, cm_diag *why);

/* Valid at any time; final after flush. */
void cm_analyzer_summary(const cm_analyzer *a, cm_summary *out);

/* Latency from input to detector decision, seconds (for monitor's time stamps). */
double cm_analyzer_latency_s(const cm_analyzer *a);

#ifdef __cplusplus
}
#endif
#endif
