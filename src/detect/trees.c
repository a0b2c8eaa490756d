/* SPDX-License-Identifier: MIT */
/* Boosted trees at inference: complete binary trees in heap order, one per class per round,
 * summed into class logits. A window costs depth comparisons per tree (200 rounds of depth 3:
 * 1,800 comparisons and 600 additions per 0.25 s window, below the network's ~2,900
 * multiply-adds and far below the front end's FFTs). The summation order (rounds in order,
 * per class) is the one training uses, so training and the detector see the same logits. */
#include <math.h>
#include <stdlib.h>

#include "crymeter/model.h"

cm_trees *cm_trees_new(unsigned n_in, unsigned depth, unsigned n_rounds)
{
    if (n_in == 0 || n_in > 32767 || depth < 1 || depth > CM_TREES_MAX_DEPTH || n_rounds < 1 ||
        n_rounds > CM_TREES_MAX_ROUNDS)
        return NULL;
    cm_trees *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->n_in = n_in;
    t->depth = depth;
    t->n_rounds = n_rounds;
    size_t nt = cm_trees_n_trees(t), ni = cm_trees_n_internal(t), nl = cm_trees_n_leaves(t);
    t->feature = malloc(nt * ni * sizeof *t->feature);
    t->threshold = calloc(nt * ni, sizeof *t->threshold);
    t->leaf = calloc(nt * nl, sizeof *t->leaf);
    if (!t->feature || !t->threshold || !t->leaf) {
        cm_trees_free(t);
        return NULL;
    }
    for (size_t i = 0; i < nt * ni; i++) t->feature[i] = -1;
    return t;
}

void cm_trees_free(cm_trees *t)
{
    if (!t) return;
    free(t->feature);
    free(t->threshold);
    free(t->leaf);
    free(t);
}

size_t cm_trees_n_internal(const cm_trees *t) { return ((size_t)1 << t->depth) - 1; }
size_t cm_trees_n_leaves(const cm_trees *t) { return (size_t)1 << t->depth; }
size_t cm_trees_n_trees(const cm_trees *t) { return (size_t)t->n_rounds * CM_NET_CLASSES; }

void cm_trees_forward(const cm_trees *t, const float *x, float p[CM_NET_CLASSES])
{
    const size_t ni = cm_trees_n_internal(t), nl = cm_trees_n_leaves(t);
    float lg[CM_NET_CLASSES];
    for (unsigned c = 0; c < CM_NET_CLASSES; c++) lg[c] = t->base[c];
    for (size_t k = 0; k < cm_trees_n_trees(t); k++) {
        const int16_t *f = t->feature + k * ni;
        const float *thr = t->threshold + k * ni;
        size_t node = 0;
        for (unsigned d = 0; d < t->depth; d++) {
            /* x <= thr is false for NaN: NaN goes right, as it was binned in training. */
            int right = f[node] >= 0 && !(x[f[node]] <= thr[node]);
            node = 2 * node + 1 + (size_t)right;
        }
        lg[k % CM_NET_CLASSES] += t->leaf[k * nl + (node - ni)];
    }
    float mx = lg[0];
    for (unsigned c = 1; c < CM_NET_CLASSES; c++)
        if (lg[c] > mx) mx = lg[c];
    float s = 0.f;
    for (unsigned c = 0; c < CM_NET_CLASSES; c++) s += (lg[c] = expf(lg[c] - mx));
    for (unsigned c = 0; c < CM_NET_CLASSES; c++) p[c] = lg[c] / s;
}
