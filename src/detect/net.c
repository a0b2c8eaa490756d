/* SPDX-License-Identifier: MIT */
/* The classifier network: standardisation, an optional tanh hidden layer and a softmax over
 * background / vocal / cry. Small on purpose (56 inputs, a few dozen hidden units): about
 * 1.5 k multiply-adds per 0.25 s window, far below the front end's cost, and a few kilobytes
 * of weights that generalise from 4 k clips. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/model.h"

cm_net *cm_net_new(unsigned n_in, unsigned n_hidden)
{
    if (n_in == 0 || n_hidden > CM_NET_MAX_HIDDEN) return NULL;
    cm_net *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->n_in = n_in;
    n->n_hidden = n_hidden;
    unsigned last = n_hidden ? n_hidden : n_in;
    n->mean = calloc(n_in, sizeof(float));
    n->std = calloc(n_in, sizeof(float));
    n->w2 = calloc((size_t)CM_NET_CLASSES * last, sizeof(float));
    n->b2 = calloc(CM_NET_CLASSES, sizeof(float));
    if (n_hidden) {
        n->w1 = calloc((size_t)n_hidden * n_in, sizeof(float));
        n->b1 = calloc(n_hidden, sizeof(float));
    }
    if (!n->mean || !n->std || !n->w2 || !n->b2 || (n_hidden && (!n->w1 || !n->b1))) {
        cm_net_free(n);
        return NULL;
    }
    for (unsigned i = 0; i < n_in; i++) n->std[i] = 1.f;
    return n;
}

void cm_net_free(cm_net *n)
{
    if (!n) return;
    free(n->mean);
    free(n->std);
    free(n->w1);
    free(n->b1);
    free(n->w2);
    free(n->b2);
    free(n);
}

size_t cm_net_n_params(const cm_net *n)
{
    size_t last = n->n_hidden ? n->n_hidden : n->n_in;
    return (size_t)n->n_hidden * n->n_in + n->n_hidden + CM_NET_CLASSES * last + CM_NET_CLASSES;
}

void cm_net_forward(const cm_net *n, const float *x, float p[CM_NET_CLASSES])
{
    float z[256 > CM_NET_MAX_HIDDEN ? 256 : CM_NET_MAX_HIDDEN];
    float xs[CM_WF_DIM > 256 ? CM_WF_DIM : 256];
    unsigned ni = n->n_in > 256 ? 256 : n->n_in;
    for (unsigned i = 0; i < ni; i++) xs[i] = (x[i] - n->mean[i]) / n->std[i];
    const float *h = xs;
    unsigned nh = ni;
    if (n->n_hidden) {
        for (unsigned j = 0; j < n->n_hidden; j++) {
            const float *w = n->w1 + (size_t)j * n->n_in;
            float a = n->b1[j];
            for (unsigned i = 0; i < ni; i++) a += w[i] * xs[i];
            z[j] = tanhf(a);
        }
        h = z;
        nh = n->n_hidden;
    }
    float lg[CM_NET_CLASSES], mx = -INFINITY;
    for (unsigned c = 0; c < CM_NET_CLASSES; c++) {
        const float *w = n->w2 + (size_t)c * nh;
        float a = n->b2[c];
        for (unsigned j = 0; j < nh; j++) a += w[j] * h[j];
        lg[c] = a;
        if (a > mx) mx = a;
    }
    float s = 0.f;
    for (unsigned c = 0; c < CM_NET_CLASSES; c++) s += (lg[c] = expf(lg[c] - mx));
    for (unsigned c = 0; c < CM_NET_CLASSES; c++) p[c] = lg[c] / s;
}
