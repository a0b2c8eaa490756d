/* SPDX-License-Identifier: MIT */
/* Learning (not linked by the runtime). Sob calibration: chooses the sob thresholds of the
 * shape stage (shape.h) from recordings with labelled sob spans, the way `crymeter calibrate`
 * does when its labels include `sob`.
 *
 * Pure functions over frames and labels: the caller decodes the audio and runs the front
 * end (cm_front) to get each recording's frames; nothing here reads files or prints. Each
 * candidate parameter set runs a fresh cm_shape over every recording, and its sob stretches
 * (the END events of cm_shape_poll) are scored against the labelled spans with the
 * segment-based metric of `evaluate` (cm_segment_counts, 1 s segments), summed over the
 * recordings. Recordings without sob spans are negatives: every detected stretch in them is
 * a false positive.
 * Thread-safety: reentrant; the inputs are only read. */
#ifndef CRYMETER_SOBCAL_H
#define CRYMETER_SOBCAL_H

#include <stddef.h>

#include "crymeter/frontend.h"
#include "crymeter/learn/metrics.h"
#include "crymeter/shape.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_SOBCAL_SEGMENT_S 1.0 /* segment length of the metric, s (as `evaluate`) */

/* One labelled recording. */
typedef struct cm_sobcal_file {
    const cm_frame *frames; /* n_frames frames with index 0, 1, ... (as cm_front gives them) */
    size_t n_frames;
    const cm_span *sob;     /* labelled sob spans, seconds; may be NULL when n_sob is 0 */
    size_t n_sob;
    double duration_s;      /* length of the recording, s; <= 0: n_frames * 10 ms */
} cm_sobcal_file;

/* Segment-based figures of one parameter set over all recordings. */
typedef struct cm_sobcal_score {
    cm_counts counts;       /* 1 s segments, summed over the recordings */
    double precision, recall, f1;
    size_t n_stretches;     /* sob stretches detected */
} cm_sobcal_score;

typedef struct cm_sobcal_result {
    cm_shape_params before; /* the params given */
    cm_shape_params after;  /* chosen: before with the four sob_* fields re-chosen */
    cm_sobcal_score score_before, score_after;
    unsigned n_evaluated;   /* parameter sets tried */
} cm_sobcal_result;

/* Runs cm_shape with cfg over every recording and scores its sob stretches. CM_E_INVAL
 * (why) for NULL arguments or a frame index out of order, CM_E_RANGE for a bad cfg (why
 * from cm_shape_create), CM_E_NOMEM. On failure *out is zeroed with NAN figures. */
CM_NODISCARD cm_status cm_sobcal_measure(const cm_sobcal_file *files, size_t n_files,
                                         const cm_shape_config *cfg, cm_sobcal_score *out,
                                         cm_diag *why);

/* Chooses sob_rate_min_hz, sob_rate_max_hz, sob_cv_max and sob_min_pulses to maximise the
 * segment F1, starting from cfg->params (every other field is kept). The search is a
 * coordinate ascent over fixed grids (rate min 0.2..2 Hz, rate max 1..5 Hz, CV 0.1..0.5,
 * 3..8 pulses; see sobcal.c), each field in turn, until a round changes nothing (at most 4
 * rounds). A value replaces the current one only when it raises F1; among values with the
 * same F1 the one nearest the current value wins, so the defaults move no further than the
 * labels ask. Deterministic. Needs at least one labelled sob span (CM_E_INVAL otherwise).
 * Errors as cm_sobcal_measure; on failure *out->after is cfg->params. */
CM_NODISCARD cm_status cm_sobcal_choose(const cm_sobcal_file *files, size_t n_files,
                                        const cm_shape_config *cfg, cm_sobcal_result *out,
                                        cm_diag *why);

#ifdef __cplusplus
}
#endif
#endif
