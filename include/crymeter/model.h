/* SPDX-License-Identifier: MIT */
/* Window features, the network inside a model, training and threshold choice, and the
 * mixture generator: the parts of the classifier that `crymeter calibrate` and
 * `crymeter evaluate` drive. Pure computation: nothing here reads files, prints or exits
 * (the CLI reads audio and hands over frames or samples).
 * Thread-safety: every function is reentrant; objects belong to their caller. */
#ifndef CRYMETER_TRAIN_H
#define CRYMETER_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/classifier.h"
#include "crymeter/frontend.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Window features ------------------------------------------------------------------ */

/* Version of the feature definition; a model records it and the loader refuses another. */
#define CM_WF_VERSION 1u
/* Number of features per window (fixed by CM_WF_VERSION). */
#define CM_WF_DIM 56u
/* Output classes of the network, in cm_class order: background, vocal, cry. */
#define CM_NET_CLASSES 3u

/* Name of feature i ("mel_shape_00", "f0_voiced_frac", ...); NULL when i >= CM_WF_DIM. */
const char *cm_wf_name(size_t i);

/* Computes the CM_WF_DIM features of one window of n >= 1 consecutive frames (normally
 * CM_DET_WIN_FRAMES). Every feature is independent of the input gain: levels enter only as
 * differences in dB. Returns the window's loudest frame level, dBFS (rms_dbfs maximum), so a
 * caller can gate digital silence. */
float cm_wf_compute(const cm_frame *frames, size_t n, float out[CM_WF_DIM]);

/* Number of windows the detector scores for a clip of n_frames frames (full windows every
 * CM_DET_HOP_FRAMES, plus one final window when frames remain; 1 when 0 < n < one window;
 * 0 when n == 0). */
size_t cm_wf_n_windows(size_t n_frames);
/* First frame of window w of a clip of n_frames frames (same windowing as cm_detector). The
 * window spans [first, min(first + CM_DET_WIN_FRAMES, n_frames)). */
size_t cm_wf_window_start(size_t n_frames, size_t w);

/* ---- The network ---------------------------------------------------------------------- */

/* A fully connected network: standardise (x - mean) / std, then n_hidden tanh units (none:
 * multinomial logistic regression), then softmax over CM_NET_CLASSES. Arrays are row-major:
 * w1[h * n_in + i], w2[c * n_hid_or_in + h]. */
typedef struct cm_net {
    unsigned n_in;     /* CM_WF_DIM */
    unsigned n_hidden; /* 0..256 */
    float *mean, *std; /* n_in each; std > 0 */
    float *w1, *b1;    /* n_hidden * n_in, n_hidden (NULL when n_hidden == 0) */
    float *w2, *b2;    /* CM_NET_CLASSES * (n_hidden ? n_hidden : n_in), CM_NET_CLASSES */
} cm_net;

#define CM_NET_MAX_HIDDEN 256u

/* Allocates a zeroed network (std set to 1). On failure returns NULL. */
cm_net *cm_net_new(unsigned n_in, unsigned n_hidden);
void cm_net_free(cm_net *n); /* NULL is a no-op */
/* Class probabilities (sum 1) of one raw feature vector. Never allocates. */
void cm_net_forward(const cm_net *n, const float *x, float p[CM_NET_CLASSES]);
/* Number of weights and biases (not counting mean/std). */
size_t cm_net_n_params(const cm_net *n);

/* ---- Boosted trees ------------------------------------------------------------------- */

/* Gradient-boosted decision trees (Friedman 2001, "Greedy function approximation"; the
 * second-order multiclass step of XGBoost, Chen & Guestrin 2016): class logits start at
 * base[c], and every boosting round adds one regression tree per class; softmax out. The
 * trees read the raw window features (no standardisation: a split is a comparison).
 * Every tree is complete to `depth` levels, nodes in heap order: internal node i (0 ..
 * 2^depth - 2) sends x to child 2i + 1 when x[feature[i]] <= threshold[i] (or when
 * feature[i] is -1: a node that found no split sends everything there) and to 2i + 2
 * otherwise, so a NaN feature goes to 2i + 2; node 2^depth - 1 + j is leaf j. Tree t
 * (t = round * CM_NET_CLASSES + class) keeps its nodes at feature/threshold
 * [t * n_internal ..] and its leaves at leaf[t * n_leaves ..]. */
#define CM_TREES_MAX_DEPTH 6u
#define CM_TREES_MAX_ROUNDS 2000u

typedef struct cm_trees {
    unsigned n_in;     /* CM_WF_DIM */
    unsigned depth;    /* 1..CM_TREES_MAX_DEPTH */
    unsigned n_rounds; /* 1..CM_TREES_MAX_ROUNDS; CM_NET_CLASSES trees per round */
    float base[CM_NET_CLASSES]; /* initial logits */
    int16_t *feature;  /* n_trees * n_internal: -1..n_in-1 */
    float *threshold;  /* n_trees * n_internal; finite */
    float *leaf;       /* n_trees * n_leaves: logit added, shrinkage included; finite */
} cm_trees;

/* Allocates trees with every node "no split" (feature -1, threshold 0) and leaves and base
 * 0. NULL when a size is out of range or memory runs out. */
cm_trees *cm_trees_new(unsigned n_in, unsigned depth, unsigned n_rounds);
void cm_trees_free(cm_trees *t); /* NULL is a no-op */
/* 2^depth - 1 and 2^depth: nodes and leaves per tree; n_rounds * CM_NET_CLASSES trees. */
size_t cm_trees_n_internal(const cm_trees *t);
size_t cm_trees_n_leaves(const cm_trees *t);
size_t cm_trees_n_trees(const cm_trees *t);
/* Class probabilities (sum 1) of one raw feature vector: depth comparisons per tree.
 * Never allocates. */
void cm_trees_forward(const cm_trees *t, const float *x, float p[CM_NET_CLASSES]);


/* ---- Models: either classifier ---------------------------------------------------------- */

/* The model's own network and trees (read-only): at least one is not NULL; both in an
 * ensemble. */
const cm_net *cm_model_net(const cm_model *m);
const cm_trees *cm_model_trees(const cm_model *m);
/* Class probabilities of one raw feature vector from the model's classifier (an
 * ensemble's: the mean of its two) (no silence gate, no smoothing: see cm_model_score_clip
 * for those). */
void cm_model_forward(const cm_model *m, const float *x, float p[CM_NET_CLASSES]);
/* Stored parameters: network weights and biases, or tree thresholds and leaf values. */
size_t cm_model_n_params(const cm_model *m);
/* Windows averaged by the detector before it reports probabilities (1 = none). */
unsigned cm_model_smooth_windows(const cm_model *m);
/* Windows whose loudest frame is below this level are reported as background, dBFS. */
float cm_model_silence_dbfs(const cm_model *m);

/* Builds a model from a trained network (copied), the front-end settings, the detector
 * parameters and an optional provenance object (a JSON object text, copied; NULL for none).
 * CM_E_RANGE/CM_E_FORMAT with why when any part is out of range. */
CM_NODISCARD cm_status cm_model_create(const cm_net *net, const cm_front_config *front,
                                       const cm_detect_params *params, unsigned smooth_windows,
                                       float silence_dbfs, const char *provenance_json,
                                       cm_model **out, cm_diag *why);
/* The same from trained trees (copied); written as format_version 2 with "classifier":
 * "trees" (models/README.md). */
CM_NODISCARD cm_status cm_model_create_trees(const cm_trees *trees, const cm_front_config *front,
                                             const cm_detect_params *params,
                                             unsigned smooth_windows, float silence_dbfs,
                                             const char *provenance_json, cm_model **out,
                                             cm_diag *why);
/* Both classifiers (copied): every window's class probabilities are the mean of the
 * network's and the trees'. Written as format_version 2 with "classifier": "ensemble" and
 * both the "network" and the "booster"/"trees" objects (models/README.md). */
CM_NODISCARD cm_status cm_model_create_ensemble(const cm_net *net, const cm_trees *trees,
                                                const cm_front_config *front,
                                                const cm_detect_params *params,
                                                unsigned smooth_windows, float silence_dbfs,
                                                const char *provenance_json, cm_model **out,
                                                cm_diag *why);
/* Replaces the provenance object (JSON object text). */
CM_NODISCARD cm_status cm_model_set_provenance(cm_model *m, const char *provenance_json,
                                               cm_diag *why);
/* The model as JSON text (malloc'ed, caller frees); NULL when out of memory. */
char *cm_model_to_json(const cm_model *m);

/* Scores of one clip's windows exactly as the detector reports them (silence gate and
 * smoothing included): p_out[w * CM_N_CLASSES + c] for w < n_windows. feats holds the raw
 * features (n_windows * CM_WF_DIM) and peak_dbfs the window levels. */
void cm_model_score_clip(const cm_model *m, const float *feats, const float *peak_dbfs,
                         size_t n_windows, float *p_out);

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
