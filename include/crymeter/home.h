/* SPDX-License-Identifier: MIT */
/* Runtime. A home layer: what one household said about its own audio (`crymeter adapt`),
 * kept inside a model and consulted for every window the model scores.
 *
 * It holds window feature vectors (CM_WF_DIM each) that the household marked as crying or
 * as not crying. A window's cry log-odds move toward the verdict of its k nearest marked
 * windows, each weighted 1 - d / radius by its distance d and not counting beyond radius,
 * by at most gain. Far from every correction (another baby, another room) the shift is
 * exactly 0, so the shipped model's answer is kept: the layer is local by construction,
 * which is what keeps a home's cat from teaching the model to miss other crying. It reads
 * only the window features and the model's output probabilities, so it works on top of any
 * classifier of the same feature version.
 *
 * Distances are root-mean-square differences of features standardised by the layer's own
 * scale (mean and std per feature, taken from the corrections), in standard deviations.
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
 * another (the window features it holds would mean something else). */
#define CM_HOME_VERSION 1u
/* Most examples a layer holds: 4096 windows are 17 minutes of corrected audio at 4
 * windows per second, and a scored window costs at most 4096 * CM_WF_DIM subtractions. */
#define CM_HOME_MAX_EXAMPLES 4096u
#define CM_HOME_MAX_K 16u
#define CM_HOME_MAX_GAIN 20.0f

typedef struct cm_home_params {
    unsigned k;   /* neighbours consulted, 1..CM_HOME_MAX_K */
    float radius; /* distance at which a neighbour stops counting, standard deviations, > 0 */
    float gain;   /* largest change of the cry log-odds (natural log), 0..CM_HOME_MAX_GAIN */
} cm_home_params;

typedef struct cm_home cm_home;

/* Builds a layer from n (1..CM_HOME_MAX_EXAMPLES) raw feature vectors x (n * CM_WF_DIM,
 * copied) and their verdicts (is_cry[i] nonzero: crying). mean and std (CM_WF_DIM each,
 * std > 0) are the scale; NULL for both: the examples' own (a feature constant over them
 * gets std 1). CM_E_RANGE with why naming the field when a parameter, a count or a value is
 * out of range (non-finite features included); CM_E_NOMEM. On failure *out is NULL. */
CM_NODISCARD cm_status cm_home_create(const cm_home_params *p, const float *mean,
                                      const float *std, const float *x, const uint8_t *is_cry,
                                      size_t n, cm_home **out, cm_diag *why);
void cm_home_free(cm_home *h); /* NULL is a no-op */
/* A copy, or NULL when out of memory (or h is NULL). */
cm_home *cm_home_copy(const cm_home *h);

cm_home_params cm_home_get_params(const cm_home *h);
size_t cm_home_n(const cm_home *h);
size_t cm_home_n_cry(const cm_home *h);
/* The scale (CM_WF_DIM floats each). */
const float *cm_home_mean(const cm_home *h);
const float *cm_home_std(const cm_home *h);
/* Example i's raw features (CM_WF_DIM floats, as given) and verdict. */
const float *cm_home_example(const cm_home *h, size_t i);
int cm_home_is_cry(const cm_home *h, size_t i);

/* The change of the cry log-odds for one raw feature vector: gain times the weighted vote
 * of the k nearest examples within radius (+1 crying, -1 not), divided by k; 0 when none is
 * within radius. Never allocates. */
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
