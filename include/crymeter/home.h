/* SPDX-License-Identifier: MIT */
/* Runtime. A home layer: what one household said about its own audio (`crymeter adapt`),
 * kept inside a model and applied to every window the model scores.
 *
 * It holds window feature vectors (CM_WF_DIM each) that the household marked as not crying,
 * and crying ones (its own, and anchors: crying recorded in other homes). A logistic
 * regression on the standardised features tells the two apart, and a gate keeps it local:
 * a window's cry log-odds move down by
 *     gain * P(one of the household's not-crying sounds | x) * max over e of (1 - d_e / r_e)
 * where d_e is the distance to the household's not-crying example e and r_e its reach: the
 * radius, or CM_HOME_CRY_REACH times e's distance to the nearest crying example (the
 * household's own or an anchor) when that is shorter, so that a cat that sounds like
 * somebody's crying reaches no further than that crying. A window beyond every example's
 * reach (another baby, another room) keeps the shipped model's answer exactly, whatever side
 * of the regression it falls on. The detector and clip scoring then spread the correction
 * over time (cm_home_trail): a cat's episode is lowered as a whole, not meow by meow. The
 * layer only ever lowers the cry probability (the shipped threshold still decides what
 * crying is found). It reads only the window features and the model's output
 * probabilities, so it works on top of any classifier of the same feature version.
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
#define CM_HOME_VERSION 2u
/* A not-crying example's reach, as a multiple of its distance to the nearest crying example:
 * 1.25 kept other homes' crying within 1.2 points on the shared data, where the radius alone
 * lost up to 2.5 (models/README.md, "Home models"). */
#define CM_HOME_CRY_REACH 1.25f
/* Windows a correction is spread over: 16 at the detector's 0.25 s hop, 4 s. Only the
 * corrections of windows the model scores as crying (cry probability at least
 * CM_HOME_TRAIL_MIN_P, before the layer) spread. */
#define CM_HOME_TRAIL 16u
#define CM_HOME_TRAIL_MIN_P 0.5f
/* After a window the household's corrections match (one the model calls crying, cry
 * probability at least CM_HOME_TRAIL_MIN_P before the layer, whose own correction is at least
 * CM_HOME_MATCH_NAT), the next CM_HOME_RECENT windows (4 s) are "recent": a cry episode that
 * opens then is kept and announced only once it holds CM_HOME_RECENT_MIN_WINDOWS windows above
 * the threshold (1 s of them) instead of the model's cry_min_windows. A meow the corrections do
 * not match, between meows they do, then no longer makes a short episode of its own; crying
 * that follows the cat is announced a few windows later. Measured in models/README.md, "Home
 * models": false episodes on the homes' own sounds halve at the median, other homes' crying
 * stays within 1.2 points, and 5 of 929 cries of about 20 s that start right after a home's
 * sounds are lost (1 without this rule). */
#define CM_HOME_MATCH_NAT 1.0f
#define CM_HOME_RECENT 16u
#define CM_HOME_RECENT_MIN_WINDOWS 4u
/* Most examples a layer holds: 4096 windows are 17 minutes of audio at 4 windows a second. */
#define CM_HOME_MAX_EXAMPLES 4096u
#define CM_HOME_MAX_GAIN 20.0f

typedef struct cm_home_params {
    float gain;   /* largest change of the cry log-odds (natural log), 0..CM_HOME_MAX_GAIN */
    float l2;     /* the regression's weight decay, 0..1e6 (both verdicts weigh 1/2 in all) */
    float radius; /* the gate: distance at which the correction has faded to 0, in standard
                     deviations (root mean square over the features), (0, 1000]; an
                     example nearer to crying reaches less (CM_HOME_CRY_REACH) */
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

/* The change of the cry log-odds for one raw feature vector, alone: -gain times the
 * regression's probability that it is one of the household's not-crying sounds times the
 * gate (above); 0 beyond every example's reach and when a feature is not finite. Costs one
 * pass over the not-crying examples (most abandoned after 8 features). Never allocates. */
float cm_home_shift(const cm_home *h, const float *x);

/* The correction over time, one per stream (zeroed: a stream's start): the shifts of the
 * last CM_HOME_TRAIL windows, 0 for a silent window or one the model does not call crying.
 * A window's shift is the lower of its own and their mean, so a confuser that matches the
 * household's corrections in some windows is lowered in the windows between them too (a
 * cat's episode stays one lowered episode instead of splitting where one meow matches and
 * the next does not), and the spread fades within 4 s of it. The cost: crying that starts
 * within 4 s of a corrected sound is lowered at its start too. */
typedef struct cm_home_trail {
    float shift[CM_HOME_TRAIL];
    unsigned n;      /* windows pushed, the next one at shift[n % CM_HOME_TRAIL] */
    unsigned recent; /* windows the last match still counts as recent for (CM_HOME_RECENT) */
} cm_home_trail;
/* Records a window's shift (as above) and returns the mean of the last CM_HOME_TRAIL. One
 * window older, a match is one window less recent. */
float cm_home_trail_push(cm_home_trail *t, float shift);
/* 1 when the last window pushed matched the household's corrections or followed such a
 * window within CM_HOME_RECENT windows (CM_HOME_MATCH_NAT), else 0. */
int cm_home_trail_recent(const cm_home_trail *t);

/* Applies the layer to class probabilities p[CM_N_CLASSES] in place: the shift is
 * cm_home_shift's, or the trail's mean when lower (t NULL: no trail; the trail also records
 * whether the window matched, CM_HOME_MATCH_NAT); the cry
 * probability's log-odds move by it (p kept within [1e-6, 1 - 1e-6] first), and background
 * and vocal share the rest in their former ratio (equally when both were 0). The sob entry
 * is left alone. No change when the shift is 0. */
void cm_home_apply(const cm_home *h, cm_home_trail *t, const float *x, float p[CM_N_CLASSES]);

#ifdef __cplusplus
}
#endif
#endif
