/* SPDX-License-Identifier: MIT */
/* Shared between the model and the detector: one window's probabilities with the silence
 * gate applied, so the streaming detector and clip scoring cannot drift apart. */
#ifndef CM_MODEL_INTERNAL_H
#define CM_MODEL_INTERNAL_H

#include "crymeter/home.h"
#include "crymeter/model.h"

/* fn_p: the frame network's mean probabilities over the window's frames (NULL: none);
 * blended with the window classifier's by the network's weight. trail: the stream's home
 * layer correction over time (crymeter/home.h; NULL: each window alone), windows pushed in
 * stream order, silent ones included. */
void cm_model_window_probs(const cm_model *m, const float *feat, float peak_dbfs,
                           const float *fn_p, cm_home_trail *trail, float p[CM_N_CLASSES]);

/* Cry confirmation (cm_detect_params.confirm_k / confirm_n): the k-th largest of the last m
 * (<= n) smoothed cry probabilities, oldest first; with m < n windows so far (start of a
 * stream or clip) k shrinks by n - m, to at least 1. Returns the last value when off. */
float cm_confirm_cry(const float *cry, unsigned m, unsigned k, unsigned n);
/* Lowers p's cry probability to cry when that is lower (confirmation never raises it) and
 * renormalises the other two. */
void cm_confirm_apply(float p[CM_N_CLASSES], float cry);

#endif
