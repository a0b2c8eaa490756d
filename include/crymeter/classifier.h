/* SPDX-License-Identifier: MIT */
/* Runtime. The cry classifier: a model file (JSON, see models/README.md), a window detector
 * that turns cm_frame features into class probabilities, and the tunable detection
 * parameters.
 *
 * A window covers CM_DET_WIN_FRAMES frames (about 1 s) and one is scored every
 * CM_DET_HOP_FRAMES frames (0.25 s). Every tunable number of the detector lives in the model
 * file, so `crymeter calibrate` can set it.
 * Thread-safety: a loaded cm_model is read-only and may be shared by any number of
 * detectors on any threads; a cm_detector belongs to one thread. */
#ifndef CRYMETER_CLASSIFIER_H
#define CRYMETER_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/classes.h"
#include "crymeter/framenet.h"
#include "crymeter/frontend.h"
#include "crymeter/shape.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_DET_WIN_FRAMES 100u /* 1.0 s of 10 ms frames */
#define CM_DET_HOP_FRAMES 25u  /* 0.25 s */

/* Detection parameters stored in the model (all calibratable). */
typedef struct cm_detect_params {
    /* A window is labelled cry when p[cry] >= threshold[cry]; otherwise vocal when
     * p[vocal] >= threshold[vocal]; otherwise background. 0..1. */
    float threshold[CM_N_CLASSES];
    /* Per class: gaps shorter than this join one episode, seconds (cry default 5 s: one
     * crying bout with breaths between cry units counts as one episode). */
    float merge_gap_s[CM_N_CLASSES];
    /* Episodes shorter than this are dropped, seconds. */
    float min_episode_s;
    /* Cry confirmation: a window counts as cry only when it and at least confirm_k of the
     * last confirm_n smoothed windows (itself included) reach the cry threshold: the reported
     * cry probability is the lower of its own and the confirm_k-th largest of those. 0 or
     * 1/1: off (models without the fields). 0..16, confirm_k <= confirm_n. */
    unsigned confirm_k, confirm_n;
    /* Cry onset back-dating: a window whose cry probability reaches cry_onset_threshold but
     * not threshold[cry] is weak evidence; a cry episode that opens right after a run of
     * such windows starts at the first of them, at most cry_onset_max_s before the window
     * that opened it; weak windows (and the last of them and the opening one) at most
     * cry_onset_gap_s apart count as one run. The start record is not delayed, and
     * min_episode_s is still counted from the opening window, so no episode is announced
     * sooner or kept that would not have been: only its start time moves back to where the
     * detector's evidence began. 0..1, 0..6 s and 0..3 s; cry_onset_max_s 0 is off (models
     * without the fields). */
    float cry_onset_threshold, cry_onset_max_s, cry_onset_gap_s;
    /* A cry episode needs at least this many cry windows (reaching threshold[cry]; weak
     * ones do not count) to be announced and kept, whatever its span: min_episode_s alone
     * would let back-dated spans through. 0..64; 0 or 1 is off (models without it). */
    unsigned cry_min_windows;
} cm_detect_params;

typedef struct cm_model cm_model;

/* Largest model text accepted, bytes (16 MiB: a real model is < 200 KB). */
#define CM_MODEL_MAX_BYTES (16u << 20)

/* Parses and checks a model (every field, size and value; NaN weights rejected). On failure
 * *out is NULL and why names the field ("weights[1][37]: NaN", "format_version=3: expected 1").
 * Reading a model from a path is crymeter/model_file.h's. */
CM_NODISCARD cm_status cm_model_load_buffer(const char *json, size_t n, cm_model **out,
                                            cm_diag *why);
/* The model compiled into the library from models/default.json. */
CM_NODISCARD cm_status cm_model_load_default(cm_model **out, cm_diag *why);
void cm_model_destroy(cm_model *m); /* NULL is a no-op */

const cm_detect_params *cm_model_params(const cm_model *m);
/* Replaces the detection parameters (used by calibrate --threshold-only). Checks ranges. */
CM_NODISCARD cm_status cm_model_set_params(cm_model *m, const cm_detect_params *p,
                                           cm_diag *why);
/* The front-end settings the model was trained with; the analyzer uses them. */
cm_front_config cm_model_front_config(const cm_model *m);
/* The episode-shape thresholds (bursts, rhythm, melody, intensity, sobbing) stored in the
 * model's "shape" object; the analyzer's shape stage uses them. A model file without a
 * "shape" object (written before it existed) has cm_shape_params_default(). Never NULL for
 * a valid model; the pointer lives as long as the model. */
const cm_shape_params *cm_model_shape_params(const cm_model *m);
/* Replaces the shape thresholds (used by calibrate when the labels include sob). Checks
 * every field with cm_shape_params_check: CM_E_RANGE with why naming the field
 * ("shape.sob_cv_max=3: must be 0..2") and the model unchanged; CM_E_INVAL for NULL. */
CM_NODISCARD cm_status cm_model_set_shape_params(cm_model *m, const cm_shape_params *p,
                                                 cm_diag *why);

/* The model's frame network ("frame_net" object), or NULL when it has none. */
const cm_framenet *cm_model_frame_net(const cm_model *m);
/* Gives m the frame network fn (ownership passes, also on failure; NULL removes it). Its
 * window probabilities are then blended with the window classifier's. CM_E_FORMAT when the
 * model's front end does not have CM_FN_N_MEL mel bands. */
CM_NODISCARD cm_status cm_model_set_frame_net(cm_model *m, cm_framenet *fn, cm_diag *why);
/* The model's home layer ("home" object, written by `crymeter adapt`; crymeter/home.h), or
 * NULL when it has none. */
const struct cm_home *cm_model_home(const cm_model *m);
/* Gives m a copy of the home layer h (NULL removes it): every window's probabilities are
 * then corrected by it after the classifiers. CM_E_NOMEM, the model unchanged. */
CM_NODISCARD cm_status cm_model_set_home(cm_model *m, const struct cm_home *h, cm_diag *why);
/* Sets the blend weight of m's frame network (0..1; CM_E_STATE when m has none). */
CM_NODISCARD cm_status cm_model_set_frame_net_weight(cm_model *m, float w, cm_diag *why);

typedef struct cm_window_scores {
    /* Inclusive frame span of the windows whose probabilities were averaged (the model's
     * smooth_windows; one window when it is 1): from the oldest window's first frame to the
     * newest window's last frame. */
    uint64_t first_frame, last_frame;
    float p[CM_N_CLASSES];            /* probabilities; background+vocal+cry sum to 1 */
    /* 1 when the model's home layer matched the household's own sounds in the newest window
     * or the CM_HOME_RECENT before it (crymeter/home.h): a cry episode opening now needs
     * CM_HOME_RECENT_MIN_WINDOWS positive windows. Always 0 without a home layer. */
    int home_recent;
} cm_window_scores;

typedef struct cm_detector cm_detector;

CM_NODISCARD cm_status cm_detector_create(const cm_model *m, cm_detector **out, cm_diag *why);
void cm_detector_destroy(cm_detector *d); /* NULL is a no-op */
void cm_detector_reset(cm_detector *d);
/* Feeds the next frame (frames in index order). Returns 1 and fills *out when a window has
 * completed, else 0. Never allocates. */
int cm_detector_push(cm_detector *d, const cm_frame *fr, cm_window_scores *out);
/* End of input. Returns 1 and fills *out when frames after the last scored window remain
 * (the final, possibly shorter, window is scored), else 0. Inputs shorter than one window
 * are scored as one short window. */
int cm_detector_flush(cm_detector *d, cm_window_scores *out);
/* Scores the windows from now on with m. The frame history, the smoothing history, the
 * confirmation history, the frame network's state and the home layer's trail (an old
 * layer's correction fades within 4 s) are kept, so no window is lost or scored twice; the caller has checked that m smooths, confirms and has a frame network as
 * the detector's model does (cm_analyzer_set_model). m must outlive the detector's use. */
void cm_detector_set_model(cm_detector *d, const cm_model *m);

#ifdef __cplusplus
}
#endif
#endif
