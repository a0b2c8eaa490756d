/* SPDX-License-Identifier: MIT */
/* Training of the classifier network (mini-batch Adam on weighted cross-entropy with L2)
 * and the choice of decision thresholds from scored examples.
 *
 * Determinism: one thread, a seeded xorshift generator for initialisation and shuffling,
 * and a fixed order of every floating-point sum, so the same seed and the same examples give
 * bit-identical weights (tested in test_train.c). Adam (Kingma & Ba 2015) with beta1 0.9,
 * beta2 0.999, eps 1e-8 as in the paper; the learning rate decays linearly to 10 % over the
 * run so the last epochs settle instead of jittering. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/learn/train.h"

cm_train_config cm_train_config_default(void)
{
    cm_train_config c;
    c.n_hidden = 48;
    c.epochs = 100;
    c.batch = 128;
    c.learning_rate = 0.003f;
    c.l2 = 1e-3f; /* 1e-4 -> 1e-3: CV cry F1 0.869 -> 0.889, AUC 0.9906 -> 0.9933 (models/README.md) */
    c.label_smoothing = 0.f;
    c.seed = 1;
    c.hard_negative = 0.f;
    return c;
}

typedef struct adam {
    float *m, *v;
} adam;

static void adam_step(float *w, const float *g, adam *a, size_t n, float lr, float l2, int decay,
                      double b1t, double b2t)
{
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    float c1 = (float)(1.0 / (1.0 - b1t)), c2 = (float)(1.0 / (1.0 - b2t));
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + (decay ? l2 * w[i] : 0.f);
        a->m[i] = b1 * a->m[i] + (1.f - b1) * gi;
        a->v[i] = b2 * a->v[i] + (1.f - b2) * gi * gi;
        w[i] -= lr * (a->m[i] * c1) / (sqrtf(a->v[i] * c2) + eps);
    }
}

static cm_status train_once(const cm_train_set *set, const cm_train_config *cfg, cm_net **out,
                            cm_diag *why);

cm_status cm_train(const cm_train_set *set, const cm_train_config *cfg, cm_net **out,
                   cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!cfg) return cm_diag_fail(why, CM_E_INVAL, "train: NULL");
    if (!(cfg->hard_negative >= 0.f && cfg->hard_negative <= 1000.f))
        return cm_diag_fail(why, CM_E_RANGE, "hard_negative=%g: must be 0..1000",
                            (double)cfg->hard_negative);
    if (cfg->hard_negative == 0.f) return train_once(set, cfg, out, why);
    cm_net *first = NULL;
    cm_status st = train_once(set, cfg, &first, why);
    if (st != CM_OK) return st;
    float *w = malloc((set->n + 1) * sizeof *w);
    if (!w) {
        cm_net_free(first);
        return cm_diag_fail(why, CM_E_NOMEM, "train: out of memory for %zu examples", set->n);
    }
    for (size_t i = 0; i < set->n; i++) {
        w[i] = set->weight ? set->weight[i] : 1.f;
        if (set->y[i] == CM_NET_CLASSES - 1) continue; /* cry: unchanged */
        float p[CM_NET_CLASSES];
        cm_net_forward(first, set->x + i * CM_WF_DIM, p);
        float c = isfinite(p[CM_NET_CLASSES - 1]) ? p[CM_NET_CLASSES - 1] : 0.f;
        w[i] *= 1.f + cfg->hard_negative * c;
    }
    cm_net_free(first);
    cm_train_set s2 = *set;
    s2.weight = w;
    st = train_once(&s2, cfg, out, why);
    free(w);
    return st;
}

static cm_status train_once(const cm_train_set *set, const cm_train_config *cfg, cm_net **out,
                            cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!set || !cfg || !set->x || !set->y) return cm_diag_fail(why, CM_E_INVAL, "train: NULL");
    if (set->n < 2) return cm_diag_fail(why, CM_E_INVAL, "train: %zu examples, need >= 2", set->n);
    if (cfg->n_hidden > CM_NET_MAX_HIDDEN)
        return cm_diag_fail(why, CM_E_RANGE, "n_hidden=%u: must be 0..%u", cfg->n_hidden,
                            CM_NET_MAX_HIDDEN);
    if (cfg->epochs < 1 || cfg->epochs > 100000)
        return cm_diag_fail(why, CM_E_RANGE, "epochs=%u: must be 1..100000", cfg->epochs);
    if (cfg->batch < 1)
        return cm_diag_fail(why, CM_E_RANGE, "batch=%u: must be >= 1", cfg->batch);
    if (!(cfg->learning_rate > 0.f && cfg->learning_rate < 1.f))
        return cm_diag_fail(why, CM_E_RANGE, "learning_rate=%g: must be in (0, 1)",
                            (double)cfg->learning_rate);
    if (!(cfg->l2 >= 0.f && cfg->l2 < 1.f))
        return cm_diag_fail(why, CM_E_RANGE, "l2=%g: must be in [0, 1)", (double)cfg->l2);
    if (!(cfg->label_smoothing >= 0.f && cfg->label_smoothing <= 0.5f))
        return cm_diag_fail(why, CM_E_RANGE, "label_smoothing=%g: must be in [0, 0.5]",
                            (double)cfg->label_smoothing);
    for (size_t i = 0; i < set->n; i++) {
        if (set->y[i] >= CM_NET_CLASSES)
            return cm_diag_fail(why, CM_E_RANGE, "example %zu: class %u, must be 0..%u", i,
                                set->y[i], CM_NET_CLASSES - 1);
        if (set->weight && !(set->weight[i] > 0.f && isfinite(set->weight[i])))
            return cm_diag_fail(why, CM_E_RANGE, "example %zu: weight %g, must be > 0", i,
                                (double)set->weight[i]);
    }

    const unsigned D = CM_WF_DIM, H = cfg->n_hidden, C = CM_NET_CLASSES;
    const unsigned L = H ? H : D; /* inputs of the output layer */
    const size_t n = set->n;
    cm_net *net = cm_net_new(D, H);
    float *xs = malloc(n * D * sizeof(float));
    float *wt = malloc(n * sizeof(float));
    size_t *order = malloc(n * sizeof(size_t));
    size_t n1 = (size_t)H * D, n2 = (size_t)C * L;
    float *g1 = calloc(n1 + 1, sizeof(float)), *gb1 = calloc(H + 1, sizeof(float));
    float *g2 = calloc(n2, sizeof(float)), *gb2 = calloc(C, sizeof(float));
    float *mv = calloc(2 * (n1 + H + n2 + C) + 1, sizeof(float));
    if (!net || !xs || !wt || !order || !g1 || !gb1 || !g2 || !gb2 || !mv) {
        cm_net_free(net);
        free(xs), free(wt), free(order), free(g1), free(gb1), free(g2), free(gb2), free(mv);
        return cm_diag_fail(why, CM_E_NOMEM, "train: out of memory for %zu examples", n);
    }

    /* Standardisation from the training examples (unweighted: the feature ranges seen). */
    for (unsigned j = 0; j < D; j++) {
        double s = 0.0, ss = 0.0;
        for (size_t i = 0; i < n; i++) s += set->x[i * D + j];
        s /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double d = set->x[i * D + j] - s;
            ss += d * d;
        }
        double sd = sqrt(ss / (double)n);
        net->mean[j] = (float)s;
        net->std[j] = sd > 1e-6 ? (float)sd : 1.f;
    }
    for (size_t i = 0; i < n; i++)
        for (unsigned j = 0; j < D; j++) {
            float v = (set->x[i * D + j] - net->mean[j]) / net->std[j];
            xs[i * D + j] = isfinite(v) ? v : 0.f;
        }
    double wsum = 0.0;
    for (size_t i = 0; i < n; i++) wsum += set->weight ? set->weight[i] : 1.f;
    for (size_t i = 0; i < n; i++) wt[i] = (float)((set->weight ? set->weight[i] : 1.f) * n / wsum);

    /* Glorot-uniform initialisation. */
    uint64_t rng = cfg->seed ? cfg->seed : 1;
    for (int i = 0; i < 4; i++) cm_rng_next(&rng);
    if (H) {
        float a = sqrtf(6.f / (float)(D + H));
        for (size_t i = 0; i < n1; i++) net->w1[i] = (float)((2.0 * cm_rng_uniform(&rng) - 1.0) * a);
    }
    {
        float a = sqrtf(6.f / (float)(L + C));
        for (size_t i = 0; i < n2; i++) net->w2[i] = (float)((2.0 * cm_rng_uniform(&rng) - 1.0) * a);
    }
    adam a1 = {mv, mv + n1}, ab1 = {mv + 2 * n1, mv + 2 * n1 + H};
    adam a2 = {mv + 2 * (n1 + H), mv + 2 * (n1 + H) + n2};
    adam ab2 = {mv + 2 * (n1 + H + n2), mv + 2 * (n1 + H + n2) + C};

    for (size_t i = 0; i < n; i++) order[i] = i;
    float hid[CM_NET_MAX_HIDDEN], dh[CM_NET_MAX_HIDDEN];
    double b1t = 1.0, b2t = 1.0;
    const size_t B = cfg->batch;
    const float ls = cfg->label_smoothing;
    const size_t steps_per_epoch = (n + B - 1) / B;
    const double total_steps = (double)steps_per_epoch * cfg->epochs;
    size_t step = 0;
    for (unsigned ep = 0; ep < cfg->epochs; ep++) {
        for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
            size_t j = (size_t)(cm_rng_next(&rng) % (uint64_t)(i + 1));
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (size_t s0 = 0; s0 < n; s0 += B, step++) {
            size_t s1 = s0 + B < n ? s0 + B : n;
            memset(g1, 0, n1 * sizeof(float));
            memset(gb1, 0, H * sizeof(float));
            memset(g2, 0, n2 * sizeof(float));
            memset(gb2, 0, C * sizeof(float));
            float inv = 1.f / (float)(s1 - s0);
            for (size_t s = s0; s < s1; s++) {
                size_t i = order[s];
                const float *x = xs + i * D;
                const float *h = x;
                if (H) {
                    for (unsigned j = 0; j < H; j++) {
                        const float *w = net->w1 + (size_t)j * D;
                        float acc = net->b1[j];
                        for (unsigned k = 0; k < D; k++) acc += w[k] * x[k];
                        hid[j] = tanhf(acc);
                    }
                    h = hid;
                }
                float lg[CM_NET_CLASSES], mx = -INFINITY, sum = 0.f;
                for (unsigned c = 0; c < C; c++) {
                    const float *w = net->w2 + (size_t)c * L;
                    float acc = net->b2[c];
                    for (unsigned j = 0; j < L; j++) acc += w[j] * h[j];
                    lg[c] = acc;
                    if (acc > mx) mx = acc;
                }
                for (unsigned c = 0; c < C; c++) sum += (lg[c] = expf(lg[c] - mx));
                float scale = wt[i] * inv;
                if (H) memset(dh, 0, H * sizeof(float));
                for (unsigned c = 0; c < C; c++) {
                    float tgt = (set->y[i] == c ? 1.f - ls : 0.f) + ls / (float)C;
                    float d = (lg[c] / sum - tgt) * scale;
                    gb2[c] += d;
                    float *g = g2 + (size_t)c * L;
                    const float *w = net->w2 + (size_t)c * L;
                    for (unsigned j = 0; j < L; j++) {
                        g[j] += d * h[j];
                        if (H) dh[j] += d * w[j];
                    }
                }
                for (unsigned j = 0; j < H; j++) {
                    float d = dh[j] * (1.f - hid[j] * hid[j]);
                    gb1[j] += d;
                    float *g = g1 + (size_t)j * D;
                    for (unsigned k = 0; k < D; k++) g[k] += d * x[k];
                }
            }
            float lr = cfg->learning_rate * (float)(1.0 - 0.9 * (double)step / total_steps);
            b1t *= 0.9;
            b2t *= 0.999;
            if (H) {
                adam_step(net->w1, g1, &a1, n1, lr, cfg->l2, 1, b1t, b2t);
                adam_step(net->b1, gb1, &ab1, H, lr, 0.f, 0, b1t, b2t);
            }
            adam_step(net->w2, g2, &a2, n2, lr, cfg->l2, 1, b1t, b2t);
            adam_step(net->b2, gb2, &ab2, C, lr, 0.f, 0, b1t, b2t);
        }
    }
    free(xs), free(wt), free(order), free(g1), free(gb1), free(g2), free(gb2), free(mv);
    *out = net;
    return CM_OK;
}

/* ---- threshold choice ------------------------------------------------------------------ */

typedef struct scored {
    float s;
    uint8_t pos;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

/* The scores (non-finite ones as -inf) with their labels, highest first; NULL when out of
 * memory. */
static scored *sorted_scores(const float *score, const uint8_t *positive, size_t n)
{
    scored *v = malloc(n * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) {
        v[i].s = isfinite(score[i]) ? score[i] : -INFINITY;
        v[i].pos = positive[i] != 0;
    }
    qsort(v, n, sizeof *v, by_score_desc);
    return v;
}

cm_status cm_choose_threshold(const float *score, const uint8_t *positive, size_t n,
                              double target_precision, float *thr, double *precision,
                              double *recall, double *f1)
{
    if (thr) *thr = NAN;
    if (!score || !positive || !thr || n == 0) return CM_E_INVAL;
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) npos += positive[i] != 0;
    if (npos == 0) return CM_E_INVAL;
    scored *v = sorted_scores(score, positive, n);
    if (!v) return CM_E_NOMEM;
    size_t tp = 0, fp = 0;
    double best_f1 = -1, bp = 0, br = 0, tgt_r = -1, tp_p = 0, tp_f = 0;
    size_t best_i = 0, tgt_i = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) { /* all examples at this score go together */
            tp += v[j].pos;
            fp += !v[j].pos;
            j++;
        }
        double p = (double)tp / (double)(tp + fp), r = (double)tp / (double)npos;
        double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
        if (f > best_f1) best_f1 = f, bp = p, br = r, best_i = j - 1;
        if (target_precision > 0 && p >= target_precision && r > tgt_r)
            tgt_r = r, tp_p = p, tp_f = f, tgt_i = j - 1;
        i = j;
    }
    int use_tgt = target_precision > 0 && tgt_r >= 0;
    size_t k = use_tgt ? tgt_i : best_i;
    /* Midpoint to the next lower distinct score: same decisions on this list, a margin on
     * new data. */
    *thr = v[k].s;
    if (k + 1 < n && isfinite(v[k + 1].s)) {
        float mid = 0.5f * (v[k].s + v[k + 1].s);
        if (mid > v[k + 1].s && mid <= v[k].s) *thr = mid;
    }
    if (precision) *precision = use_tgt ? tp_p : bp;
    if (recall) *recall = use_tgt ? tgt_r : br;
    if (f1) *f1 = use_tgt ? tp_f : best_f1;
    free(v);
    return target_precision > 0 && !use_tgt ? CM_E_RANGE : CM_OK;
}

cm_status cm_choose_threshold_slack(const float *score, const uint8_t *positive, size_t n,
                                    double f1_slack, float *thr, double *precision,
                                    double *recall, double *f1)
{
    double best = 0;
    cm_status st = cm_choose_threshold(score, positive, n, 0, thr, precision, recall, &best);
    if (f1) *f1 = best;
    if (st != CM_OK || !(f1_slack > 0)) return st;
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) npos += positive[i] != 0;
    scored *v = sorted_scores(score, positive, n);
    if (!v) return CM_E_NOMEM;
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) {
            tp += v[j].pos;
            fp += !v[j].pos;
            j++;
        }
        double p = (double)tp / (double)(tp + fp), r = (double)tp / (double)npos;
        double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
        if (f >= best - f1_slack) { /* the first (highest) such score */
            size_t k = j - 1;
            *thr = v[k].s;
            if (k + 1 < n && isfinite(v[k + 1].s)) {
                float mid = 0.5f * (v[k].s + v[k + 1].s);
                if (mid > v[k + 1].s && mid <= v[k].s) *thr = mid;
            }
            if (precision) *precision = p;
            if (recall) *recall = r;
            if (f1) *f1 = f;
            break;
        }
        i = j;
    }
    free(v);
    return CM_OK;
}
