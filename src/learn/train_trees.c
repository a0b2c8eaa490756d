/* SPDX-License-Identifier: MIT */
/* Training of boosted trees: multiclass softmax boosting with second-order (Newton) leaf
 * values, as in XGBoost (Chen & Guestrin 2016, eqs. 5-7): per round and class, gradient
 * g = w (p - y) and hessian h = w p (1 - p) of the weighted cross-entropy at the current
 * logits; a split's gain is GL^2/(HL+l) + GR^2/(HR+l) - G^2/(H+l), a leaf's value
 * -G/(H+l) times the learning rate. Split search runs on per-feature quantile histograms
 * (LightGBM, Ke et al. 2017): each feature is cut into at most max_bins bins once, every
 * node sums g, h and counts per bin, and the larger child's histogram is its parent's minus
 * the smaller child's, so a level costs about half a pass over the examples.
 *
 * Determinism: one thread, every sum in example order, ties broken towards the lower
 * feature and bin, and a seeded xorshift only when subsampling; the same examples, settings
 * and seed give bit-identical trees (tested in test_trees.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/learn/train.h"

cm_trees_config cm_trees_config_default(void)
{
    cm_trees_config c;
    /* Chosen on the evaluate figures (group-wise 5-fold, split seeds 1 and 2; models/
     * README.md, "Boosted trees", rows t1-t38): depth 2 and 4, 100-400 rounds, learning rate
     * 0.05, min leaf 20-2000, L2 1-100 and 128 bins were no better, and on splits 3-5 L2 1
     * did as well as L2 10 (the difference is noise). Large leaves (400 windows of the
     * 34-42 thousand a fold trains on) and L2 10 (40 windows' worth of hessian at p = 0.5)
     * damp leaves that fit one speaker or recording. */
    c.depth = 3;
    c.rounds = 200;
    c.learning_rate = 0.1f;
    c.min_leaf = 400;
    c.l2 = 10.f;
    c.subsample = 1.f;
    c.colsample = 1.f;
    c.max_bins = 64;
    c.seed = 1;
    return c;
}

/* ---- bins -------------------------------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The shortest decimal e (at most 9 significant digits) with lo <= e < hi, so "x <= e"
 * splits exactly between the two training values and the model file stays short; lo when
 * none is found. */
static float between(float lo, float hi)
{
    double mid = 0.5 * ((double)lo + (double)hi);
    char b[40];
    for (int p = 1; p <= 9; p++) {
        snprintf(b, sizeof b, "%.*g", p, mid);
        float e = (float)strtod(b, NULL);
        if (e >= lo && e < hi) return e;
    }
    return lo;
}

/* Bin edges of one feature from its finite values v (m of them, sorted in place): at most
 * max_bins - 1 strictly increasing edges near the quantiles k / max_bins, each between two
 * adjacent distinct values. Returns the edge count. */
static unsigned feature_edges(float *v, size_t m, unsigned max_bins, float *edges)
{
    if (m < 2) return 0;
    qsort(v, m, sizeof *v, cmp_float);
    unsigned ne = 0;
    for (unsigned b = 1; b < max_bins; b++) {
        size_t i = (size_t)((double)b * (double)m / (double)max_bins);
        if (i == 0) i = 1;
        while (i < m && v[i] == v[i - 1]) i++; /* the next change of value */
        if (i >= m) break;
        float e = between(v[i - 1], v[i]);
        if (ne == 0 || e > edges[ne - 1]) edges[ne++] = e;
    }
    return ne;
}

/* Bin of x: the number of edges below it (x <= edges[b] exactly when bin <= b); NaN in the
 * last bin, so it goes right at every split, as cm_trees_forward sends it. */
static uint8_t bin_of(float x, const float *edges, unsigned ne)
{
    if (isnan(x)) return (uint8_t)ne;
    unsigned lo = 0, hi = ne; /* first edge >= x */
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (edges[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return (uint8_t)lo;
}

/* Rounds a leaf value to 5 significant digits (relative error 5e-5, far below the size of
 * one shrunken Newton step) so it prints in a few characters and reads back to this float. */
static float round5(double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.5g", v);
    return (float)strtod(b, NULL);
}

/* ---- one tree ---------------------------------------------------------------------------- */

typedef struct hbin {
    double g, h, n;
} hbin;

typedef struct grower {
    const uint8_t *xb;      /* n * D bins */
    unsigned D, B;          /* features, histogram stride (max bins) */
    const unsigned *nbin;   /* bins per feature */
    const double *g, *h;    /* per example (index into the full set) */
    size_t *pos, *tmp;      /* sampled example indices, partitioned by node */
    hbin *hist[2];          /* this level's and the next level's histograms */
    unsigned depth, min_leaf;
    double l2, lr;
    const unsigned *feats;  /* features this tree may use, ascending */
    unsigned n_feats;
} grower;

static void hist_build(const grower *gr, const size_t *rows, size_t nr, hbin *hs)
{
    memset(hs, 0, (size_t)gr->D * gr->B * sizeof *hs);
    for (size_t r = 0; r < nr; r++) {
        size_t i = rows[r];
        const uint8_t *xr = gr->xb + i * gr->D;
        double g = gr->g[i], h = gr->h[i];
        for (unsigned k = 0; k < gr->n_feats; k++) {
            unsigned j = gr->feats[k];
            hbin *b = hs + (size_t)j * gr->B + xr[j];
            b->g += g;
            b->h += h;
            b->n += 1.0;
        }
    }
}

/* Grows one tree on the examples pos[0..m) into feature/threshold/leaf (one tree's
 * arrays) and sbin (the split bin of each node). */
static void grow(grower *gr, size_t m, const float *edges, int16_t *feature, float *threshold,
                 float *leaf, uint8_t *sbin)
{
    const unsigned depth = gr->depth;
    const size_t ni = ((size_t)1 << depth) - 1;
    size_t start[2 * 64], end[2 * 64]; /* node ranges of one level (<= 2^(depth) nodes) */
    int alive[2 * 64];
    const size_t HS = (size_t)gr->D * gr->B;
    start[0] = 0, end[0] = m, alive[0] = 1;
    hist_build(gr, gr->pos, m, gr->hist[0]);
    for (unsigned d = 0; d < depth; d++) {
        size_t first = ((size_t)1 << d) - 1, n_lv = (size_t)1 << d;
        for (size_t q = 0; q < n_lv; q++) {
            size_t node = first + q;
            size_t s = start[q], e = end[q];
            hbin *hs = gr->hist[0] + q * HS;
            feature[node] = -1;
            threshold[node] = 0.f;
            sbin[node] = 0;
            size_t cut = e; /* everything goes left unless a split is found */
            if (alive[q] && e - s >= 2 * (size_t)gr->min_leaf) {
                double G = 0, H = 0;
                for (size_t r = s; r < e; r++) G += gr->g[gr->pos[r]], H += gr->h[gr->pos[r]];
                double N = (double)(e - s), parent = G * G / (H + gr->l2), best = 0;
                int bf = -1;
                unsigned bb = 0;
                for (unsigned k = 0; k < gr->n_feats; k++) {
                    unsigned j = gr->feats[k];
                    const hbin *hb = hs + (size_t)j * gr->B;
                    double GL = 0, HL = 0, NL = 0;
                    for (unsigned b = 0; b + 1 < gr->nbin[j]; b++) {
                        GL += hb[b].g, HL += hb[b].h, NL += hb[b].n;
                        double NR = N - NL;
                        if (NL < gr->min_leaf) continue;
                        if (NR < gr->min_leaf) break;
                        double GR = G - GL, HR = H - HL;
                        if (!(HL > 0 && HR > 0)) continue;
                        double gain = GL * GL / (HL + gr->l2) + GR * GR / (HR + gr->l2) - parent;
                        if (gain > best) best = gain, bf = (int)j, bb = b;
                    }
                }
                if (bf >= 0) {
                    feature[node] = (int16_t)bf;
                    threshold[node] = edges[(size_t)bf * (gr->B - 1) + bb];
                    sbin[node] = (uint8_t)bb;
                    /* Stable partition: left rows keep their order, then right rows. */
                    size_t nl = 0, nr = 0;
                    for (size_t r = s; r < e; r++) {
                        size_t i = gr->pos[r];
                        if (gr->xb[i * gr->D + (unsigned)bf] <= bb) gr->pos[s + nl++] = i;
                        else gr->tmp[nr++] = i;
                    }
                    memcpy(gr->pos + s + nl, gr->tmp, nr * sizeof *gr->pos);
                    cut = s + nl;
                }
            }
            /* Children, at the next level's slots 2q and 2q + 1. */
            start[n_lv + 2 * q] = s, end[n_lv + 2 * q] = cut;
            start[n_lv + 2 * q + 1] = cut, end[n_lv + 2 * q + 1] = e;
            alive[n_lv + 2 * q] = feature[node] >= 0; /* same rows as an unsplit parent */
            alive[n_lv + 2 * q + 1] = feature[node] >= 0;
        }
        for (size_t q = 0; q < 2 * n_lv; q++) {
            start[q] = start[n_lv + q], end[q] = end[n_lv + q], alive[q] = alive[n_lv + q];
        }
        if (d + 1 == depth) break;
        /* Next level's histograms: scan the smaller child, the larger is parent - smaller. */
        for (size_t q = 0; q < n_lv; q++) {
            hbin *par = gr->hist[0] + q * HS;
            hbin *L = gr->hist[1] + 2 * q * HS, *R = L + HS;
            if (!alive[2 * q]) continue; /* no split below: histograms unused */
            size_t nl = end[2 * q] - start[2 * q], nr = end[2 * q + 1] - start[2 * q + 1];
            hbin *small = nl <= nr ? L : R, *large = nl <= nr ? R : L;
            size_t ss = nl <= nr ? start[2 * q] : start[2 * q + 1];
            hist_build(gr, gr->pos + ss, nl <= nr ? nl : nr, small);
            for (unsigned k = 0; k < gr->n_feats; k++) {
                size_t o = (size_t)gr->feats[k] * gr->B;
                for (unsigned b = 0; b < gr->nbin[gr->feats[k]]; b++) {
                    large[o + b].g = par[o + b].g - small[o + b].g;
                    large[o + b].h = par[o + b].h - small[o + b].h;
                    large[o + b].n = par[o + b].n - small[o + b].n;
                }
            }
        }
        hbin *t = gr->hist[0];
        gr->hist[0] = gr->hist[1];
        gr->hist[1] = t;
    }
    /* Leaves: the Newton step from their own examples, in example order. */
    for (size_t q = 0; q <= ni; q++) {
        double G = 0, H = 0;
        for (size_t r = start[q]; r < end[q]; r++) G += gr->g[gr->pos[r]], H += gr->h[gr->pos[r]];
        leaf[q] = end[q] > start[q] ? round5(-gr->lr * G / (H + gr->l2)) : 0.f;
    }
}

/* ---- boosting ---------------------------------------------------------------------------- */

static cm_status check(const cm_train_set *set, const cm_trees_config *c, cm_diag *why)
{
    if (!set || !c || !set->x || !set->y) return cm_diag_fail(why, CM_E_INVAL, "trees: NULL");
    if (set->n < 2) return cm_diag_fail(why, CM_E_INVAL, "trees: %zu examples, need >= 2", set->n);
    if (c->depth < 1 || c->depth > CM_TREES_MAX_DEPTH)
        return cm_diag_fail(why, CM_E_RANGE, "depth=%u: must be 1..%u", c->depth,
                            CM_TREES_MAX_DEPTH);
    if (c->rounds < 1 || c->rounds > CM_TREES_MAX_ROUNDS)
        return cm_diag_fail(why, CM_E_RANGE, "rounds=%u: must be 1..%u", c->rounds,
                            CM_TREES_MAX_ROUNDS);
    if (!(c->learning_rate > 0.f && c->learning_rate <= 1.f))
        return cm_diag_fail(why, CM_E_RANGE, "learning_rate=%g: must be in (0, 1]",
                            (double)c->learning_rate);
    if (c->min_leaf < 1)
        return cm_diag_fail(why, CM_E_RANGE, "min_leaf=%u: must be >= 1", c->min_leaf);
    if (!(c->l2 >= 0.f && c->l2 <= 1e6f))
        return cm_diag_fail(why, CM_E_RANGE, "l2=%g: must be 0..1e6", (double)c->l2);
    if (!(c->subsample > 0.f && c->subsample <= 1.f))
        return cm_diag_fail(why, CM_E_RANGE, "subsample=%g: must be in (0, 1]",
                            (double)c->subsample);
    if (!(c->colsample > 0.f && c->colsample <= 1.f))
        return cm_diag_fail(why, CM_E_RANGE, "colsample=%g: must be in (0, 1]",
                            (double)c->colsample);
    if (c->max_bins < 2 || c->max_bins > 256)
        return cm_diag_fail(why, CM_E_RANGE, "max_bins=%u: must be 2..256", c->max_bins);
    for (size_t i = 0; i < set->n; i++) {
        if (set->y[i] >= CM_NET_CLASSES)
            return cm_diag_fail(why, CM_E_RANGE, "example %zu: class %u, must be 0..%u", i,
                                set->y[i], CM_NET_CLASSES - 1);
        if (set->weight && !(set->weight[i] > 0.f && isfinite(set->weight[i])))
            return cm_diag_fail(why, CM_E_RANGE, "example %zu: weight %g, must be > 0", i,
                                (double)set->weight[i]);
    }
    return CM_OK;
}

cm_status cm_train_trees(const cm_train_set *set, const cm_trees_config *cfg, cm_trees **out,
                         cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    cm_status st = check(set, cfg, why);
    if (st != CM_OK) return st;
    const unsigned D = CM_WF_DIM, C = CM_NET_CLASSES, B = cfg->max_bins;
    const size_t n = set->n;
    cm_trees *t = cm_trees_new(D, cfg->depth, cfg->rounds);
    const size_t ni = t ? cm_trees_n_internal(t) : 0, nl = t ? cm_trees_n_leaves(t) : 0;
    float *edges = malloc((size_t)D * (B - 1) * sizeof *edges);
    unsigned *nbin = malloc(D * sizeof *nbin);
    float *col = malloc(n * sizeof *col);
    uint8_t *xb = malloc(n * D);
    double *w = malloc(n * sizeof *w), *g = malloc(n * sizeof *g), *h = malloc(n * sizeof *h);
    float *F = malloc(n * C * sizeof *F), *P = malloc(n * C * sizeof *P);
    size_t *rows = malloc(n * sizeof *rows), *pos = malloc(n * sizeof *pos);
    size_t *tmp = malloc(n * sizeof *tmp);
    uint8_t *sbin = malloc(ni + 1);
    unsigned feats[CM_WF_DIM];
    const size_t HS = (size_t)D * B * ((size_t)1 << (cfg->depth - 1));
    hbin *h0 = malloc(HS * sizeof *h0), *h1 = malloc(HS * sizeof *h1);
    if (!t || !edges || !nbin || !col || !xb || !w || !g || !h || !F || !P || !rows || !pos ||
        !tmp || !sbin || !h0 || !h1) {
        st = cm_diag_fail(why, CM_E_NOMEM, "trees: out of memory for %zu examples", n);
        goto done;
    }

    /* Bins from the training values of each feature (unweighted quantiles). */
    for (unsigned j = 0; j < D; j++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(set->x[i * D + j])) col[m++] = set->x[i * D + j];
        float *ej = edges + (size_t)j * (B - 1);
        unsigned ne = feature_edges(col, m, B, ej);
        nbin[j] = ne + 1;
        for (size_t i = 0; i < n; i++) xb[i * D + j] = bin_of(set->x[i * D + j], ej, ne);
    }

    /* Weights scaled to mean 1, so min_leaf and l2 mean the same for any weighting; initial
     * logits from the weighted class shares. */
    double wsum = 0, cls[CM_NET_CLASSES] = {0};
    for (size_t i = 0; i < n; i++) wsum += set->weight ? set->weight[i] : 1.f;
    for (size_t i = 0; i < n; i++) {
        w[i] = (set->weight ? set->weight[i] : 1.f) * (double)n / wsum;
        cls[set->y[i]] += w[i];
    }
    for (unsigned c = 0; c < C; c++) {
        double share = cls[c] / (double)n;
        t->base[c] = round5(log(share > 1e-6 ? share : 1e-6));
    }
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < C; c++) F[i * C + c] = t->base[c];

    grower gr = {xb, D, B, nbin, g, h, pos, tmp, {h0, h1}, cfg->depth, cfg->min_leaf,
                 (double)cfg->l2, (double)cfg->learning_rate, feats, 0};
    uint64_t rng = cfg->seed ? cfg->seed : 1;
    for (int i = 0; i < 4; i++) cm_rng_next(&rng);
    unsigned n_col = (unsigned)lround((double)cfg->colsample * D);
    if (n_col < 1) n_col = 1;
    if (n_col > D) n_col = D;

    for (unsigned r = 0; r < cfg->rounds; r++) {
        /* The round's examples (all of them unless subsampling) and their probabilities at
         * the round's start: the C trees of a round all fit the same logits. */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (cfg->subsample >= 1.f || cm_rng_uniform(&rng) < cfg->subsample) rows[m++] = i;
        for (size_t k = 0; k < m; k++) {
            size_t i = rows[k];
            const float *f = F + i * C;
            float mx = f[0], s = 0.f, e[CM_NET_CLASSES];
            for (unsigned c = 1; c < C; c++)
                if (f[c] > mx) mx = f[c];
            for (unsigned c = 0; c < C; c++) s += (e[c] = expf(f[c] - mx));
            for (unsigned c = 0; c < C; c++) P[i * C + c] = e[c] / s;
        }
        for (unsigned c = 0; c < C; c++) {
            size_t tree = (size_t)r * C + c;
            for (size_t k = 0; k < m; k++) {
                size_t i = rows[k];
                double p = P[i * C + c], y = set->y[i] == c ? 1.0 : 0.0;
                double hh = p * (1.0 - p);
                g[i] = w[i] * (p - y);
                h[i] = w[i] * (hh > 1e-6 ? hh : 1e-6);
            }
            /* Features this tree may split on: a seeded partial shuffle, then ascending. */
            for (unsigned j = 0; j < D; j++) feats[j] = j;
            if (n_col < D) {
                for (unsigned j = 0; j < n_col; j++) {
                    unsigned k = j + (unsigned)(cm_rng_next(&rng) % (uint64_t)(D - j));
                    unsigned x = feats[j];
                    feats[j] = feats[k];
                    feats[k] = x;
                }
                for (unsigned j = 1; j < n_col; j++) /* insertion sort of the chosen */
                    for (unsigned k = j; k > 0 && feats[k - 1] > feats[k]; k--) {
                        unsigned x = feats[k];
                        feats[k] = feats[k - 1];
                        feats[k - 1] = x;
                    }
            }
            gr.n_feats = n_col;
            memcpy(pos, rows, m * sizeof *pos);
            int16_t *tf = t->feature + tree * ni;
            float *tl = t->leaf + tree * nl;
            grow(&gr, m, edges, tf, t->threshold + tree * ni, tl, sbin);
            /* Every example's logit moves by its leaf (sampled or not), found through the
             * bins, which split exactly as the thresholds do. */
            for (size_t i = 0; i < n; i++) {
                size_t node = 0;
                for (unsigned d = 0; d < cfg->depth; d++) {
                    int right = tf[node] >= 0 && xb[i * D + (unsigned)tf[node]] > sbin[node];
                    node = 2 * node + 1 + (size_t)right;
                }
                F[i * C + c] += tl[node - ni];
            }
        }
    }
    *out = t;
    t = NULL;
    st = CM_OK;
done:
    cm_trees_free(t);
    free(edges), free(nbin), free(col), free(xb), free(w), free(g), free(h), free(F), free(P);
    free(rows), free(pos), free(tmp), free(sbin), free(h0), free(h1);
    return st;
}
