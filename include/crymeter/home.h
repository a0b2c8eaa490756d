/* SPDX-License-Identifier: MIT */
/* Runtime. A home layer: what one household said about its own audio (`crymeter adapt`),
 * kept inside a model and applied to every window the model scores.
 *
 * It holds window feature vectors (CM_WF_DIM each) that the household marked as not crying,
 * and crying ones (its own, and anchors: crying recorded in other homes). A logistic
 * regression on the standardised features tells the two apart, and a gate keeps it local:
 * a window's cry log-odds move down by
 *     gain * P(one of the household's not-crying sounds | x) * max(0, 1 - d / radius)
 * where d is the distance to the nearest not-crying example. A window farther than radius
 * from everything the household corrected (another baby, another room) keeps the shipped
 * model's answer exactly, whatever side of the regression it falls on. The layer only ever
 * lowers the cry probability (the shipped threshold still decides what crying is found). It
 * reads only the window features and the model's output probabilities, so it works on top
 * of any classifier of the same feature version.
 *
 * The examples are kept (the model file stores them) so that a later `adapt --model` can
 * refit the layer with old and new corrections together; scoring reads only the
 * regression: one dot product per window.
 * Thread-safety: a built layer is read-only and shareable; every function is reentrant. */
#ifndef CRYMETER_HOME_H
#define CRYMETER_HOME_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/classifier.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the layer's definition; a model file records it and the loader refuses
 * another (its weights would mean something else). */
#define CM_HOME_VERSION 1u
/* Most examples a layer holds: 4096 windows are 17 minutes of audio at 4 windows a second. */
#define CM_HOME_MAX_EXAMPLES 4096u
#define CM_HOME_MAX_GAIN 20.0f

typedef struct cm_home_params {
    float gain;   /* largest change of the cry log-odds (natural log), 0..CM_HOME_MAX_GAIN */
    float l2;     /* the regression's weight decay, 0..1e6 (both verdicts weigh 1/2 in all) */
    float radius; /* the gate: distance at which the correction has faded to 0, in standard
                     deviations (root mean square over the features), (0, 1000] */
} cm_home_params;

typedef struct cm_home cm_home;

/* Builds a layer from n (2..CM_HOME_MAX_EXAMPLES) raw feature vectors x (n * CM_WF_DIM,
 * copied) and their verdicts (is_cry[i] nonzero: crying; both verdicts present), fitting
 * the regression (Newton's method; the same input gives the same weights, bit for bit).
 * mean and std (CM_WF_DIM each, std > 0) are the scale; NULL for both: the examples' own (a
 * feature constant over them gets std 1). CM_E_RANGE with why naming the field when a
 * parameter, a count or a value is out of range (non-finite features included), or when a
 * verdict is missing; CM_E_NOMEM. On failure *out is NULL. */
CM_NODISCARD cm_status cm_home_fit(const cm_home_params *p, const float *mean,
                                   const float *std, const float *x, const uint8_t *is_cry,
                                   size_t n, cm_home **out, cm_diag *why);
/* The same with the regression given (w: CM_WF_DIM weights on the standardised features,
 * b: the intercept; all finite), as a model file holds it: no fitting. */
CM_NODISCARD cm_status cm_home_create(const cm_home_params *p, const float *mean,
                                      const float *std, const float *w, float b,
                                      const float *x, const uint8_t *is_cry, size_t n,
                                      cm_home **out, cm_diag *why);
void cm_home_free(cm_home *h); /* NULL is a no-op */
/* A copy, or NULL when out of memory (or h is NULL). */
cm_home *cm_home_copy(const cm_home *h);

cm_home_params cm_home_get_params(const cm_home *h);
size_t cm_home_n(const cm_home *h);
size_t cm_home_n_cry(const cm_home *h);
/* The scale and the regression (CM_WF_DIM floats each; the intercept). */
const float *cm_home_mean(const cm_home *h);
const float *cm_home_std(const cm_home *h);
const float *cm_home_weights(const cm_home *h);
float cm_home_intercept(const cm_home *h);
/* Example i's raw features (CM_WF_DIM floats, as given) and verdict. */
const float *cm_home_example(const cm_home *h, size_t i);
int cm_home_is_cry(const cm_home *h, size_t i);

/* The change of the cry log-odds for one raw feature vector: -gain times the regression's
 * probability that it is one of the household's not-crying sounds times the gate (above); 0
 * beyond the radius and when a feature is not finite. Costs one pass over the not-crying
 * examples (most abandoned after 8 features). Never allocates. */
float cm_home_shift(const cm_home *h, const float *x);
/* Applies cm_home_shift to class probabilities p[CM_N_CLASSES] in place: the cry
 * probability's log-odds move by the shift (p kept within [1e-6, 1 - 1e-6] first), and
 * background and vocal share the rest in their former ratio (equally when both were 0). The
 * sob entry is left alone. No change when the shift is 0. */
void cm_home_apply(const cm_home *h, const float *x, float p[CM_N_CLASSES]);

#ifdef __cplusplus
}
#endif
#endif
