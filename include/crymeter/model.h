/* SPDX-License-Identifier: MIT */
/* Runtime. What a model holds and how it scores: the window features (CM_WF_DIM per ~1 s
 * window), the network and the boosted trees inside a model, building a model from a
 * trained classifier and writing it as JSON, and clip scoring exactly as the detector
 * scores. Pure computation: nothing here reads files, prints or exits. Training itself is
 * on the learning side (crymeter/learn/train.h).
 * Thread-safety: every function is reentrant; objects belong to their caller. */
#ifndef CRYMETER_MODEL_H
#define CRYMETER_MODEL_H

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
/* The provenance object as JSON text, or NULL when the model has none. */
const char *cm_model_provenance(const cm_model *m);
/* Replaces the provenance object (JSON object text). */
CM_NODISCARD cm_status cm_model_set_provenance(cm_model *m, const char *provenance_json,
                                               cm_diag *why);
/* The model as JSON text (malloc'ed, caller frees); NULL when out of memory. */
char *cm_model_to_json(const cm_model *m);

/* The frame network's window probabilities of one clip (CM_FN_CLASSES per window, the
 * clip's windows as cm_wf_window_start places them, each the mean of its frames'
 * probabilities), from the clip's frame inputs (cm_fn_inputs from a reset state, n_frames *
 * CM_FN_N_IN). Returns the number of windows written, 0 when the model has no frame network
 * (or out of memory). */
size_t cm_model_frame_net_windows(const cm_model *m, const float *fin, size_t n_frames,
                                  float *out);

/* Scores of one clip's windows exactly as the detector reports them (silence gate and
 * smoothing included): p_out[w * CM_N_CLASSES + c] for w < n_windows. feats holds the raw
 * features (n_windows * CM_WF_DIM) and peak_dbfs the window levels; fn_win the frame
 * network's window probabilities (cm_model_frame_net_windows; NULL: window classifier
 * alone, as for a model without a frame network). */
void cm_model_score_clip(const cm_model *m, const float *feats, const float *peak_dbfs,
                         const float *fn_win,
                         size_t n_windows, float *p_out);

#ifdef __cplusplus
}
#endif
#endif
