/* SPDX-License-Identifier: MIT */
/* Shared between the model and the detector: one window's probabilities with the silence
 * gate applied, so the streaming detector and clip scoring cannot drift apart. */
#ifndef CM_MODEL_INTERNAL_H
#define CM_MODEL_INTERNAL_H

#include "crymeter/train.h"

void cm_model_window_probs(const cm_model *m, const float *feat, float peak_dbfs,
                           float p[CM_N_CLASSES]);

#endif
