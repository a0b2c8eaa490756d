/* SPDX-License-Identifier: MIT */
/* Learning (not linked by the runtime). Training a model's classifier (the network and the
 * boosted trees of crymeter/model.h), choosing decision thresholds, the seeded generator
 * behind training and augmentation, and the mixture generator: what `crymeter calibrate`
 * and `crymeter evaluate` drive. Pure computation: nothing here reads files, prints or exits
 * (the caller reads audio and hands over window features or samples).
 * Thread-safety: every function is reentrant; objects belong to their caller. */
#ifndef CRYMETER_LEARN_TRAIN_H
#define CRYMETER_LEARN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/model.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Training ------------------------------------------------------------------------- */

/* One training example: a window with its class, group and weight. */
typedef struct cm_train_set {
    size_t n;            /* examples */
    const float *x;      /* n * CM_WF_DIM raw features */
    const uint8_t *y;    /* class 0..2 */
    const float *weight; /* > 0; NULL for 1 */
} cm_train_set;

typedef struct cm_train_config {
    unsigned n_hidden;   /* 0 = logistic regression; default 48 */
    unsigned epochs;     /* passes over the data; default 100 */
    unsigned batch;      /* examples per step; default 128 */
    float learning_rate; /* Adam step size; default 0.003 */
    float l2;            /* weight decay per step on weights (not biases); default 1e-3 */
    float label_smoothing; /* 0..0.5: targets (1 - e) one-hot + e / 3 (Szegedy et al. 2016),
                            * so probabilities do not saturate at 0 and 1; default 0 */
    uint64_t seed;       /* initialisation and shuffling; same seed, same data: same net */
    /* Hard negatives: when > 0, a second training run (same seed, from scratch) in which
     * every non-cry example weighs (1 + hard_negative * p) times its weight, p being the cry
     * probability the first run's network gives it: the cat, siren and speech windows that
     * look like crying count more. 0 = one run (default 0). */
    float hard_negative;
} cm_train_config;

cm_train_config cm_train_config_default(void);

/* Trains a network (single thread, deterministic for a seed). Standardisation statistics
 * come from the training examples. On failure *out is NULL. */
CM_NODISCARD cm_status cm_train(const cm_train_set *set, const cm_train_config *cfg, cm_net **out,
                                cm_diag *why);

/* Boosted trees (cm_trees above). */
typedef struct cm_trees_config {
    unsigned depth;      /* 1..CM_TREES_MAX_DEPTH; default 3 */
    unsigned rounds;     /* 1..CM_TREES_MAX_ROUNDS; default 200 */
    float learning_rate; /* shrinkage of every leaf, (0, 1]; default 0.1 */
    unsigned min_leaf;   /* a split leaves at least this many examples on each side, >= 1;
                          * default 400 */
    float l2;            /* lambda: leaf = -G / (H + lambda), >= 0; default 10 */
    float subsample;     /* share of examples drawn (Bernoulli) for each round, (0, 1];
                          * default 1 (all: training does not depend on the seed) */
    float colsample;     /* share of features each tree may split on, (0, 1]; default 1 */
    unsigned max_bins;   /* quantile bins per feature, 2..256; default 64 */
    uint64_t seed;       /* subsampling only */
} cm_trees_config;

cm_trees_config cm_trees_config_default(void);

/* Trains boosted trees on the weighted examples (single thread, deterministic for a seed:
 * fixed summation order, seeded xorshift for subsampling). Split thresholds lie between
 * adjacent quantiles of the training values of a feature and are the shortest decimals
 * there, so model files stay small. On failure *out is NULL. */
CM_NODISCARD cm_status cm_train_trees(const cm_train_set *set, const cm_trees_config *cfg,
                                      cm_trees **out, cm_diag *why);

/* ---- Threshold choice ----------------------------------------------------------------- */

/* Like cm_choose_threshold with no precision target, but returns the highest threshold whose
 * F1 is within f1_slack (>= 0) of the best F1: among operating points that are equal within
 * the noise of the clip counts, the one with the fewest false alarms. f1_slack 0 gives
 * cm_choose_threshold's answer. */
CM_NODISCARD cm_status cm_choose_threshold_slack(const float *score, const uint8_t *positive,
                                                 size_t n, double f1_slack, float *thr,
                                                 double *precision, double *recall, double *f1);

/* Chooses a decision threshold on scores (higher = more positive) for binary labels.
 * target_precision <= 0: maximise F1 (ties: the higher threshold). Otherwise the threshold
 * with the highest recall whose precision >= target_precision (CM_E_RANGE when none reaches
 * it; *thr then holds the F1-maximising one). The threshold returned is the midpoint between
 * the chosen score and the next lower distinct score, so the same list classifies the same
 * way and new data has a margin. Writes the precision, recall and F1 reached (may be NULL).
 * CM_E_INVAL when n == 0 or there is no positive. */
CM_NODISCARD cm_status cm_choose_threshold(const float *score, const uint8_t *positive, size_t n,
                                           double target_precision, float *thr,
                                           double *precision, double *recall, double *f1);

/* ---- Deterministic randomness --------------------------------------------------------- */

/* xorshift64*: the generator behind training and mixtures (state must not be 0). */
uint64_t cm_rng_next(uint64_t *state);
double cm_rng_uniform(uint64_t *state); /* [0, 1) */

/* ---- Mixture generator ---------------------------------------------------------------- */

typedef struct cm_mix_item {
    const float *x;     /* mono samples at the bed's rate */
    size_t n;
    int label;          /* caller's label id, copied into events */
} cm_mix_item;

typedef struct cm_mix_event {
    double start_s, end_s; /* where the item is audible (its active part), bed time */
    int label;
    double snr_db;
    size_t item;           /* index into items */
} cm_mix_event;

typedef struct cm_mix_config {
    unsigned rate_hz;      /* of bed and items */
    double snr_min_db;     /* each placed item gets an SNR uniform in [min, max] */
    double snr_max_db;
    double gap_min_s;      /* silence-free bed between items, seconds; default 2 */
    double gap_max_s;      /* default 6 */
    uint64_t seed;
} cm_mix_config;

/* Places items (in the given order, each once while they fit) on a copy of the bed: out
 * (n_bed samples) = bed + g_i * item_i. g_i sets the item's SNR: 10 log10 of the item's mean
 * power over its active frames (10 ms frames within 30 dB of its loudest frame) over the
 * bed's mean power over the same span. Event times are that active span. Items that do not
 * fit after the last placed one are skipped. Writes up to max_events events and their count.
 * Deterministic for a seed. CM_E_RANGE with why for a bad config. */
CM_NODISCARD cm_status cm_mix_generate(const cm_mix_config *cfg, const float *bed, size_t n_bed,
                                       const cm_mix_item *items, size_t n_items, float *out,
                                       cm_mix_event *events, size_t max_events,
                                       size_t *n_events, cm_diag *why);

/* Active span of a signal: first and last sample of the 10 ms frames within 30 dB of the
 * loudest frame. Returns 0 (and sets *first = *last = 0) for an all-zero signal, else 1. */
int cm_mix_active_span(const float *x, size_t n, unsigned rate_hz, size_t *first, size_t *last);

#ifdef __cplusplus
}
#endif
#endif
