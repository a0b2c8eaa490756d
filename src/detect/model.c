/* SPDX-License-Identifier: MIT */
/* Model files: JSON (format in models/README.md) parsed with cJSON and checked field by
 * field before use, so that a truncated, edited or hostile file gives a message naming the
 * field ("network.w1[3][7]: not a finite number", "trees[12].feature[3]=80: must be
 * -1..55") instead of garbage scores or a crash. The classifier is a network (format_version
 * 1, or 2 with "classifier": "network"), boosted trees (format_version 2, "classifier":
 * "trees") or both (format_version 2, "classifier": "ensemble": the mean of their class
 * probabilities). Network numbers are written with 9 significant digits, enough to round-trip
 * every float; tree numbers with the fewest digits that read back to the same float (their
 * thresholds and leaves are short decimals by construction, src/detect/train_trees.c), so
 * a saved model scores bit-identically after loading and a few hundred trees stay well
 * under 200 KB. */
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crymeter/framenet.h"
#include "crymeter/home.h"
#include "crymeter/model.h"
#include "detect/framenet_internal.h"
#include "detect/model_internal.h"

#define CM_MODEL_FORMAT "crymeter-model"
#define CM_MODEL_FORMAT_VERSION 1       /* network models, as written since the start */
#define CM_MODEL_FORMAT_VERSION_TREES 2 /* adds "classifier"; old loaders refuse it by number */
/* A home layer ("home", crymeter adapt): a loader that predates it would score without the
 * household's corrections, so it must refuse the model, by number, instead. */
#define CM_MODEL_FORMAT_VERSION_HOME 3

extern const unsigned char cm_default_model_json[];
extern const size_t cm_default_model_json_len;

static const char *const class_keys[CM_N_CLASSES] = {"background", "vocal", "cry", "sob"};

struct cm_model {
    cm_front_config front;
    cm_net *net;     /* at least one of net and trees; both: an ensemble */
    cm_trees *trees;
    cm_detect_params params;
    cm_shape_params shape; /* "shape" object; cm_shape_params_default() when absent */
    unsigned smooth_windows;
    float silence_dbfs;
    char *provenance; /* JSON object text or NULL */
    cm_framenet *fnet; /* "frame_net" object, or NULL: window classifier alone */
    cm_home *home;     /* "home" object (crymeter adapt), or NULL */
};

void cm_model_destroy(cm_model *m)
{
    if (!m) return;
    cm_net_free(m->net);
    cm_trees_free(m->trees);
    free(m->provenance);
    cm_framenet_destroy(m->fnet);
    cm_home_free(m->home);
    free(m);
}

const cm_framenet *cm_model_frame_net(const cm_model *m) { return m->fnet; }

const cm_home *cm_model_home(const cm_model *m) { return m->home; }

const char *cm_model_provenance(const cm_model *m) { return m->provenance; }

cm_status cm_model_set_home(cm_model *m, const cm_home *h, cm_diag *why)
{
    if (!m) return cm_diag_fail(why, CM_E_INVAL, "model: NULL");
    cm_home *c = NULL;
    if (h && !(c = cm_home_copy(h))) return cm_diag_fail(why, CM_E_NOMEM, "home: out of memory");
    cm_home_free(m->home);
    m->home = c;
    return CM_OK;
}

cm_status cm_model_set_frame_net_weight(cm_model *m, float w, cm_diag *why)
{
    if (!m) return CM_E_INVAL;
    if (!m->fnet) return cm_diag_fail(why, CM_E_STATE, "model has no frame network");
    return cm_framenet_set_weight(m->fnet, w, why);
}

cm_status cm_model_set_frame_net(cm_model *m, cm_framenet *fn, cm_diag *why)
{
    if (!m) return CM_E_INVAL;
    if (fn && m->front.n_mel != CM_FN_N_MEL) {
        cm_framenet_destroy(fn);
        return cm_diag_fail(why, CM_E_FORMAT, "frame_net: needs front_end.n_mel=%u, model has %u",
                            CM_FN_N_MEL, m->front.n_mel);
    }
    cm_framenet_destroy(m->fnet);
    m->fnet = fn;
    return CM_OK;
}

const cm_detect_params *cm_model_params(const cm_model *m) { return &m->params; }
const cm_shape_params *cm_model_shape_params(const cm_model *m) { return &m->shape; }
cm_front_config cm_model_front_config(const cm_model *m) { return m->front; }
const cm_net *cm_model_net(const cm_model *m) { return m->net; }
const cm_trees *cm_model_trees(const cm_model *m) { return m->trees; }

void cm_model_forward(const cm_model *m, const float *x, float p[CM_NET_CLASSES])
{
    if (!m->trees) {
        cm_net_forward(m->net, x, p);
        return;
    }
    cm_trees_forward(m->trees, x, p);
    if (!m->net) return;
    /* Ensemble: the mean of the two distributions (still sums to 1). */
    float q[CM_NET_CLASSES];
    cm_net_forward(m->net, x, q);
    for (unsigned c = 0; c < CM_NET_CLASSES; c++) p[c] = 0.5f * (p[c] + q[c]);
}

size_t cm_model_n_params(const cm_model *m)
{
    size_t n = m->net ? cm_net_n_params(m->net) : 0;
    const cm_trees *t = m->trees;
    if (t)
        n += cm_trees_n_trees(t) * (2 * cm_trees_n_internal(t) + cm_trees_n_leaves(t)) +
             CM_NET_CLASSES;
    if (m->fnet) n += cm_framenet_n_params(m->fnet);
    return n;
}
unsigned cm_model_smooth_windows(const cm_model *m) { return m->smooth_windows; }
float cm_model_silence_dbfs(const cm_model *m) { return m->silence_dbfs; }

/* ---- checks shared by the loader and the constructors ---------------------------------- */

/* cm_shape_params_check names the bare field ("sob_cv_max=3: must be 0..2"); in a model file
 * it is the field of the "shape" object. */
static cm_status check_shape(const cm_shape_params *p, cm_diag *why)
{
    cm_diag inner = {{0}};
    cm_status st = cm_shape_params_check(p, &inner);
    if (st != CM_OK) return cm_diag_fail(why, st, "shape.%s", inner.msg);
    return CM_OK;
}

static cm_status check_params(const cm_detect_params *p, cm_diag *why)
{
    for (int c = 0; c < CM_N_CLASSES; c++) {
        if (!(p->threshold[c] >= 0.f && p->threshold[c] <= 1.f))
            return cm_diag_fail(why, CM_E_RANGE, "detector.threshold.%s=%g: must be 0..1",
                                class_keys[c], (double)p->threshold[c]);
        if (!(p->merge_gap_s[c] >= 0.f && p->merge_gap_s[c] <= 600.f))
            return cm_diag_fail(why, CM_E_RANGE, "detector.merge_gap_s.%s=%g: must be 0..600",
                                class_keys[c], (double)p->merge_gap_s[c]);
    }
    if (!(p->min_episode_s >= 0.f && p->min_episode_s <= 60.f))
        return cm_diag_fail(why, CM_E_RANGE, "detector.min_episode_s=%g: must be 0..60",
                            (double)p->min_episode_s);
    if (p->confirm_k > 16 || p->confirm_n > 16 || p->confirm_k > (p->confirm_n ? p->confirm_n : 1))
        return cm_diag_fail(why, CM_E_RANGE,
                            "detector.confirm_k=%u, confirm_n=%u: must be 0..16, k <= n",
                            p->confirm_k, p->confirm_n);
    if (!(p->cry_onset_threshold >= 0.f && p->cry_onset_threshold <= 1.f))
        return cm_diag_fail(why, CM_E_RANGE, "detector.cry_onset_threshold=%g: must be 0..1",
                            (double)p->cry_onset_threshold);
    if (!(p->cry_onset_max_s >= 0.f && p->cry_onset_max_s <= 6.f))
        return cm_diag_fail(why, CM_E_RANGE, "detector.cry_onset_max_s=%g: must be 0..6",
                            (double)p->cry_onset_max_s);
    if (!(p->cry_onset_gap_s >= 0.f && p->cry_onset_gap_s <= 3.f))
        return cm_diag_fail(why, CM_E_RANGE, "detector.cry_onset_gap_s=%g: must be 0..3",
                            (double)p->cry_onset_gap_s);
    if (p->cry_min_windows > 64)
        return cm_diag_fail(why, CM_E_RANGE, "detector.cry_min_windows=%u: must be 0..64",
                            p->cry_min_windows);
    return CM_OK;
}

static cm_status check_front(const cm_front_config *f, cm_diag *why)
{
    if (f->n_mel < 8 || f->n_mel > CM_FRONT_MAX_MEL)
        return cm_diag_fail(why, CM_E_RANGE, "front_end.n_mel=%u: must be 8..%u", f->n_mel,
                            CM_FRONT_MAX_MEL);
    if (!(f->fmin_hz >= 0.f && f->fmax_hz > f->fmin_hz && f->fmax_hz <= 8000.f))
        return cm_diag_fail(why, CM_E_RANGE,
                            "front_end.fmin_hz=%g, fmax_hz=%g: need 0 <= fmin < fmax <= 8000",
                            (double)f->fmin_hz, (double)f->fmax_hz);
    if (!(f->f0_min_hz > 0.f && f->f0_max_hz > f->f0_min_hz && f->f0_max_hz <= 2000.f))
        return cm_diag_fail(why, CM_E_RANGE,
                            "front_end.f0_min_hz=%g, f0_max_hz=%g: need 0 < min < max <= 2000",
                            (double)f->f0_min_hz, (double)f->f0_max_hz);
    if (!(f->voicing_threshold >= 0.f && f->voicing_threshold <= 1.f))
        return cm_diag_fail(why, CM_E_RANGE, "front_end.voicing_threshold=%g: must be 0..1",
                            (double)f->voicing_threshold);
    return CM_OK;
}

static cm_status check_finite(const float *v, size_t n, const char *name, unsigned row_len,
                              cm_diag *why)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) {
            if (row_len)
                return cm_diag_fail(why, CM_E_FORMAT, "network.%s[%zu][%zu]: not a finite number",
                                    name, i / row_len, i % row_len);
            return cm_diag_fail(why, CM_E_FORMAT, "network.%s[%zu]: not a finite number", name, i);
        }
    return CM_OK;
}

static cm_status check_net(const cm_net *n, cm_diag *why)
{
    if (n->n_in != CM_WF_DIM)
        return cm_diag_fail(why, CM_E_FORMAT, "network.n_in=%u: expected %u (feature version %u)",
                            n->n_in, CM_WF_DIM, CM_WF_VERSION);
    if (n->n_hidden > CM_NET_MAX_HIDDEN)
        return cm_diag_fail(why, CM_E_RANGE, "network.n_hidden=%u: must be 0..%u", n->n_hidden,
                            CM_NET_MAX_HIDDEN);
    unsigned last = n->n_hidden ? n->n_hidden : n->n_in;
    cm_status st;
    if ((st = check_finite(n->mean, n->n_in, "mean", 0, why)) != CM_OK) return st;
    if ((st = check_finite(n->std, n->n_in, "std", 0, why)) != CM_OK) return st;
    for (unsigned i = 0; i < n->n_in; i++)
        if (!(n->std[i] > 0.f))
            return cm_diag_fail(why, CM_E_RANGE, "network.std[%u]=%g: must be > 0", i,
                                (double)n->std[i]);
    if (n->n_hidden) {
        if ((st = check_finite(n->w1, (size_t)n->n_hidden * n->n_in, "w1", n->n_in, why)) != CM_OK)
            return st;
        if ((st = check_finite(n->b1, n->n_hidden, "b1", 0, why)) != CM_OK) return st;
    }
    if ((st = check_finite(n->w2, (size_t)CM_NET_CLASSES * last, "w2", last, why)) != CM_OK)
        return st;
    return check_finite(n->b2, CM_NET_CLASSES, "b2", 0, why);
}

static cm_net *net_copy(const cm_net *s)
{
    cm_net *n = cm_net_new(s->n_in, s->n_hidden);
    if (!n) return NULL;
    unsigned last = s->n_hidden ? s->n_hidden : s->n_in;
    memcpy(n->mean, s->mean, s->n_in * sizeof(float));
    memcpy(n->std, s->std, s->n_in * sizeof(float));
    if (s->n_hidden) {
        memcpy(n->w1, s->w1, (size_t)s->n_hidden * s->n_in * sizeof(float));
        memcpy(n->b1, s->b1, s->n_hidden * sizeof(float));
    }
    memcpy(n->w2, s->w2, (size_t)CM_NET_CLASSES * last * sizeof(float));
    memcpy(n->b2, s->b2, CM_NET_CLASSES * sizeof(float));
    return n;
}

static cm_status check_trees(const cm_trees *t, cm_diag *why)
{
    if (t->n_in != CM_WF_DIM)
        return cm_diag_fail(why, CM_E_FORMAT, "booster.n_in=%u: expected %u (feature version %u)",
                            t->n_in, CM_WF_DIM, CM_WF_VERSION);
    if (t->depth < 1 || t->depth > CM_TREES_MAX_DEPTH)
        return cm_diag_fail(why, CM_E_RANGE, "booster.depth=%u: must be 1..%u", t->depth,
                            CM_TREES_MAX_DEPTH);
    if (t->n_rounds < 1 || t->n_rounds > CM_TREES_MAX_ROUNDS)
        return cm_diag_fail(why, CM_E_RANGE, "booster.n_rounds=%u: must be 1..%u", t->n_rounds,
                            CM_TREES_MAX_ROUNDS);
    for (unsigned c = 0; c < CM_NET_CLASSES; c++)
        if (!isfinite(t->base[c]))
            return cm_diag_fail(why, CM_E_FORMAT, "booster.base[%u]: not a finite number", c);
    size_t ni = cm_trees_n_internal(t), nl = cm_trees_n_leaves(t);
    for (size_t k = 0; k < cm_trees_n_trees(t); k++) {
        for (size_t i = 0; i < ni; i++) {
            int f = t->feature[k * ni + i];
            if (f < -1 || f >= (int)t->n_in)
                return cm_diag_fail(why, CM_E_RANGE, "trees[%zu].feature[%zu]=%d: must be -1..%u",
                                    k, i, f, t->n_in - 1);
            if (!isfinite(t->threshold[k * ni + i]))
                return cm_diag_fail(why, CM_E_FORMAT,
                                    "trees[%zu].threshold[%zu]: not a finite number", k, i);
        }
        for (size_t i = 0; i < nl; i++)
            if (!isfinite(t->leaf[k * nl + i]))
                return cm_diag_fail(why, CM_E_FORMAT, "trees[%zu].leaf[%zu]: not a finite number",
                                    k, i);
    }
    return CM_OK;
}

static cm_trees *trees_copy(const cm_trees *s)
{
    cm_trees *t = cm_trees_new(s->n_in, s->depth, s->n_rounds);
    if (!t) return NULL;
    size_t nt = cm_trees_n_trees(s), ni = cm_trees_n_internal(s), nl = cm_trees_n_leaves(s);
    memcpy(t->base, s->base, sizeof t->base);
    memcpy(t->feature, s->feature, nt * ni * sizeof *t->feature);
    memcpy(t->threshold, s->threshold, nt * ni * sizeof *t->threshold);
    memcpy(t->leaf, s->leaf, nt * nl * sizeof *t->leaf);
    return t;
}

static cm_status check_provenance(const char *text, char **copy, cm_diag *why)
{
    *copy = NULL;
    if (!text) return CM_OK;
    cJSON *j = cJSON_Parse(text);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return cm_diag_fail(why, CM_E_FORMAT, "provenance: not a JSON object");
    }
    cJSON_Delete(j);
    *copy = strdup(text);
    return *copy ? CM_OK : cm_diag_fail(why, CM_E_NOMEM, "provenance: out of memory");
}

/* The common part of cm_model_create, cm_model_create_trees and cm_model_create_ensemble:
 * net, trees or both. */
static cm_status model_create(const cm_net *net, const cm_trees *trees,
                              const cm_front_config *front, const cm_detect_params *params,
                              unsigned smooth_windows, float silence_dbfs,
                              const char *provenance_json, cm_model **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if ((!net && !trees) || !front || !params)
        return cm_diag_fail(why, CM_E_INVAL, "model: NULL argument");
    cm_status st;
    if (net && (st = check_net(net, why)) != CM_OK) return st;
    if (trees && (st = check_trees(trees, why)) != CM_OK) return st;
    if ((st = check_front(front, why)) != CM_OK) return st;
    if ((st = check_params(params, why)) != CM_OK) return st;
    if (smooth_windows < 1 || smooth_windows > 16)
        return cm_diag_fail(why, CM_E_RANGE, "detector.smooth_windows=%u: must be 1..16",
                            smooth_windows);
    if (!(silence_dbfs >= -200.f && silence_dbfs <= 0.f))
        return cm_diag_fail(why, CM_E_RANGE, "detector.silence_dbfs=%g: must be -200..0",
                            (double)silence_dbfs);
    cm_model *m = calloc(1, sizeof *m);
    if (!m) return cm_diag_fail(why, CM_E_NOMEM, "model: out of memory");
    m->front = *front;
    m->params = *params;
    m->shape = cm_shape_params_default();
    m->smooth_windows = smooth_windows;
    m->silence_dbfs = silence_dbfs;
    if (net) m->net = net_copy(net);
    if (trees) m->trees = trees_copy(trees);
    if ((net && !m->net) || (trees && !m->trees)) {
        cm_model_destroy(m);
        return cm_diag_fail(why, CM_E_NOMEM, "model: out of memory");
    }
    if ((st = check_provenance(provenance_json, &m->provenance, why)) != CM_OK) {
        cm_model_destroy(m);
        return st;
    }
    *out = m;
    return CM_OK;
}

cm_status cm_model_create(const cm_net *net, const cm_front_config *front,
                          const cm_detect_params *params, unsigned smooth_windows,
                          float silence_dbfs, const char *provenance_json, cm_model **out,
                          cm_diag *why)
{
    if (out) *out = NULL;
    if (!net) return cm_diag_fail(why, CM_E_INVAL, "model: NULL network");
    return model_create(net, NULL, front, params, smooth_windows, silence_dbfs,
                        provenance_json, out, why);
}

cm_status cm_model_create_trees(const cm_trees *trees, const cm_front_config *front,
                                const cm_detect_params *params, unsigned smooth_windows,
                                float silence_dbfs, const char *provenance_json, cm_model **out,
                                cm_diag *why)
{
    if (out) *out = NULL;
    if (!trees) return cm_diag_fail(why, CM_E_INVAL, "model: NULL trees");
    return model_create(NULL, trees, front, params, smooth_windows, silence_dbfs,
                        provenance_json, out, why);
}

cm_status cm_model_create_ensemble(const cm_net *net, const cm_trees *trees,
                                   const cm_front_config *front, const cm_detect_params *params,
                                   unsigned smooth_windows, float silence_dbfs,
                                   const char *provenance_json, cm_model **out, cm_diag *why)
{
    if (out) *out = NULL;
    if (!net || !trees) return cm_diag_fail(why, CM_E_INVAL, "model: NULL network or trees");
    return model_create(net, trees, front, params, smooth_windows, silence_dbfs,
                        provenance_json, out, why);
}

cm_status cm_model_set_provenance(cm_model *m, const char *provenance_json, cm_diag *why)
{
    if (!m) return CM_E_INVAL;
    char *c;
    cm_status st = check_provenance(provenance_json, &c, why);
    if (st != CM_OK) return st;
    free(m->provenance);
    m->provenance = c;
    return CM_OK;
}

cm_status cm_model_set_params(cm_model *m, const cm_detect_params *p, cm_diag *why)
{
    if (!m || !p) return CM_E_INVAL;
    cm_status st = check_params(p, why);
    if (st == CM_OK) m->params = *p;
    return st;
}

cm_status cm_model_set_shape_params(cm_model *m, const cm_shape_params *p, cm_diag *why)
{
    if (!m || !p) return CM_E_INVAL;
    cm_status st = check_shape(p, why);
    if (st == CM_OK) m->shape = *p;
    return st;
}

/* ---- parsing --------------------------------------------------------------------------- */

static cm_status get_item(const cJSON *o, const char *key, const char *path, cJSON **it,
                          cm_diag *why)
{
    *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!*it) return cm_diag_fail(why, CM_E_FORMAT, "%s%s: missing", path, key);
    return CM_OK;
}

static cm_status get_num(const cJSON *o, const char *key, const char *path, double lo, double hi,
                         double *v, cm_diag *why)
{
    cJSON *it;
    cm_status st = get_item(o, key, path, &it, why);
    if (st != CM_OK) return st;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return cm_diag_fail(why, CM_E_FORMAT, "%s%s: expected a number", path, key);
    if (!(it->valuedouble >= lo && it->valuedouble <= hi))
        return cm_diag_fail(why, CM_E_RANGE, "%s%s=%g: must be %g..%g", path, key,
                            it->valuedouble, lo, hi);
    *v = it->valuedouble;
    return CM_OK;
}

static cm_status get_uint(const cJSON *o, const char *key, const char *path, unsigned lo,
                          unsigned hi, unsigned *v, cm_diag *why)
{
    double d;
    cm_status st = get_num(o, key, path, lo, hi, &d, why);
    if (st != CM_OK) return st;
    if (d != floor(d))
        return cm_diag_fail(why, CM_E_FORMAT, "%s%s=%g: expected a whole number", path, key, d);
    *v = (unsigned)d;
    return CM_OK;
}

static cm_status get_obj(const cJSON *o, const char *key, const char *path, cJSON **it,
                         cm_diag *why)
{
    cm_status st = get_item(o, key, path, it, why);
    if (st != CM_OK) return st;
    if (!cJSON_IsObject(*it))
        return cm_diag_fail(why, CM_E_FORMAT, "%s%s: expected an object", path, key);
    return CM_OK;
}

/* A flat array of exactly n numbers (all finite: NaN cannot even be written in JSON, but
 * 1e999 parses to inf). */
static cm_status get_vec(const cJSON *o, const char *key, size_t n, float *dst, cm_diag *why)
{
    cJSON *a;
    cm_status st = get_item(o, key, "network.", &a, why);
    if (st != CM_OK) return st;
    if (!cJSON_IsArray(a))
        return cm_diag_fail(why, CM_E_FORMAT, "network.%s: expected an array", key);
    size_t k = (size_t)cJSON_GetArraySize(a);
    if (k != n)
        return cm_diag_fail(why, CM_E_FORMAT, "network.%s: %zu values, expected %zu", key, k, n);
    size_t i = 0;
    for (cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return cm_diag_fail(why, CM_E_FORMAT, "network.%s[%zu]: not a finite number", key, i);
        dst[i] = (float)e->valuedouble;
        if (!isfinite(dst[i]))
            return cm_diag_fail(why, CM_E_FORMAT, "network.%s[%zu]: out of float range", key, i);
    }
    return CM_OK;
}

/* A rows x cols matrix as an array of arrays. */
static cm_status get_mat(const cJSON *o, const char *key, size_t rows, size_t cols, float *dst,
                         cm_diag *why)
{
    cJSON *a;
    cm_status st = get_item(o, key, "network.", &a, why);
    if (st != CM_OK) return st;
    if (!cJSON_IsArray(a))
        return cm_diag_fail(why, CM_E_FORMAT, "network.%s: expected an array of arrays", key);
    size_t k = (size_t)cJSON_GetArraySize(a);
    if (k != rows)
        return cm_diag_fail(why, CM_E_FORMAT, "network.%s: %zu rows, expected %zu", key, k, rows);
    size_t r = 0;
    for (cJSON *row = a->child; row; row = row->next, r++) {
        if (!cJSON_IsArray(row))
            return cm_diag_fail(why, CM_E_FORMAT, "network.%s[%zu]: expected an array", key, r);
        size_t kc = (size_t)cJSON_GetArraySize(row);
        if (kc != cols)
            return cm_diag_fail(why, CM_E_FORMAT, "network.%s[%zu]: %zu values, expected %zu",
                                key, r, kc, cols);
        size_t c = 0;
        for (cJSON *e = row->child; e; e = e->next, c++) {
            float v = cJSON_IsNumber(e) ? (float)e->valuedouble : NAN;
            if (!isfinite(v))
                return cm_diag_fail(why, CM_E_FORMAT, "network.%s[%zu][%zu]: not a finite number",
                                    key, r, c);
            dst[r * cols + c] = v;
        }
    }
    return CM_OK;
}

static cm_status get_class_floats(const cJSON *det, const char *key, float lo, float hi,
                                  float *dst, cm_diag *why)
{
    cJSON *o;
    char path[64];
    cm_status st = get_obj(det, key, "detector.", &o, why);
    if (st != CM_OK) return st;
    snprintf(path, sizeof path, "detector.%s.", key);
    for (int c = 0; c < CM_N_CLASSES; c++) {
        double v;
        if ((st = get_num(o, class_keys[c], path, lo, hi, &v, why)) != CM_OK) return st;
        dst[c] = (float)v;
    }
    return CM_OK;
}

/* Every cm_shape_params field, by its name in the struct and in the "shape" object. */
#define SHAPE_FIELDS(F, U)                                                                    \
    F(act_margin_db) F(act_abs_dbfs) F(voiced_min) U(cry_min_ms) U(inhale_min_ms)             \
    U(inhale_max_ms) F(inhale_flat_min) F(inhale_centroid_min_hz) F(inhale_pitch_st)          \
    U(rhythm_window) F(rhythmic_cv_max) F(contour_st) F(effort_intense_db)                    \
    F(intense_min_spl_db) F(sob_rate_min_hz) F(sob_rate_max_hz) F(sob_cv_max)                 \
    U(sob_min_pulses)

/* The "shape" object: every field present and a number (whole for the counts and ms), read
 * with a wide range first so that the range message comes from cm_shape_params_check, which
 * knows the dependent bounds (inhale_min_ms..inhale_max_ms, sob_rate_min_hz..max). Absent:
 * a model from before the object existed, which gets the defaults. */
static cm_status parse_shape(const cJSON *root, cm_shape_params *p, cm_diag *why)
{
    *p = cm_shape_params_default();
    cJSON *sh = cJSON_GetObjectItemCaseSensitive(root, "shape");
    if (!sh) return CM_OK;
    if (!cJSON_IsObject(sh)) return cm_diag_fail(why, CM_E_FORMAT, "shape: expected an object");
    cm_status st;
    double d;
    unsigned u;
#define GET_F(f)                                                                              \
    if ((st = get_num(sh, #f, "shape.", -1e9, 1e9, &d, why)) != CM_OK) return st;             \
    p->f = (float)d;
#define GET_U(f)                                                                              \
    if ((st = get_uint(sh, #f, "shape.", 0, 1000000, &u, why)) != CM_OK) return st;           \
    p->f = u;
    SHAPE_FIELDS(GET_F, GET_U)
#undef GET_F
#undef GET_U
    return check_shape(p, why);
}

static cm_status parse_network(const cJSON *root, cm_model *m, cm_diag *why)
{
    cm_status st;
    cJSON *it;
    cJSON *nw;
    unsigned n_in, n_hidden;
    if ((st = get_obj(root, "network", "", &nw, why)) != CM_OK) return st;
    if ((st = get_item(nw, "activation", "network.", &it, why)) != CM_OK) return st;
    if (!cJSON_IsString(it) || strcmp(it->valuestring, "tanh") != 0)
        return cm_diag_fail(why, CM_E_FORMAT, "network.activation: expected \"tanh\"");
    if ((st = get_uint(nw, "n_in", "network.", 1, 100000, &n_in, why))) return st;
    if (n_in != CM_WF_DIM)
        return cm_diag_fail(why, CM_E_FORMAT, "network.n_in=%u: expected %u", n_in, CM_WF_DIM);
    if ((st = get_uint(nw, "n_hidden", "network.", 0, CM_NET_MAX_HIDDEN, &n_hidden, why)))
        return st;
    m->net = cm_net_new(n_in, n_hidden);
    if (!m->net) return cm_diag_fail(why, CM_E_NOMEM, "network: out of memory");
    unsigned last = n_hidden ? n_hidden : n_in;
    if ((st = get_vec(nw, "mean", n_in, m->net->mean, why))) return st;
    if ((st = get_vec(nw, "std", n_in, m->net->std, why))) return st;
    if (n_hidden) {
        if ((st = get_mat(nw, "w1", n_hidden, n_in, m->net->w1, why))) return st;
        if ((st = get_vec(nw, "b1", n_hidden, m->net->b1, why))) return st;
    } else if (cJSON_GetObjectItemCaseSensitive(nw, "w1")) {
        return cm_diag_fail(why, CM_E_FORMAT, "network.w1: present but n_hidden is 0");
    }
    if ((st = get_mat(nw, "w2", CM_NET_CLASSES, last, m->net->w2, why))) return st;
    if ((st = get_vec(nw, "b2", CM_NET_CLASSES, m->net->b2, why))) return st;
    if ((st = check_net(m->net, why)) != CM_OK) return st;
    return CM_OK;
}

/* A flat array of exactly n finite numbers at path + key (path like "trees[12]."). */
/* Array a of exactly n finite numbers into dst; messages name it as path + key. */
static cm_status array_floats(const cJSON *a, const char *path, const char *key, size_t n,
                              float *dst, cm_diag *why)
{
    if (!cJSON_IsArray(a)) return cm_diag_fail(why, CM_E_FORMAT, "%s%s: expected an array", path, key);
    size_t k = (size_t)cJSON_GetArraySize(a);
    if (k != n)
        return cm_diag_fail(why, CM_E_FORMAT, "%s%s: %zu values, expected %zu", path, key, k, n);
    size_t i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        float v = cJSON_IsNumber(e) ? (float)e->valuedouble : NAN;
        if (!isfinite(v))
            return cm_diag_fail(why, CM_E_FORMAT, "%s%s[%zu]: not a finite number", path, key, i);
        dst[i] = v;
    }
    return CM_OK;
}

static cm_status get_floats(const cJSON *o, const char *key, const char *path, size_t n,
                            float *dst, cm_diag *why)
{
    cJSON *a;
    cm_status st = get_item(o, key, path, &a, why);
    if (st != CM_OK) return st;
    return array_floats(a, path, key, n, dst, why);
}

/* "booster" (n_in, depth, n_rounds, base) and "trees": n_rounds * 3 objects, tree t =
 * round * 3 + class, each with "feature" (2^depth - 1 whole numbers, -1..n_in - 1),
 * "threshold" (as many numbers) and "leaf" (2^depth numbers). */
static cm_status parse_trees(const cJSON *root, cm_model *m, cm_diag *why)
{
    cm_status st;
    cJSON *bo, *arr;
    unsigned n_in, depth, n_rounds;
    if ((st = get_obj(root, "booster", "", &bo, why)) != CM_OK) return st;
    if ((st = get_uint(bo, "n_in", "booster.", 1, 100000, &n_in, why))) return st;
    if (n_in != CM_WF_DIM)
        return cm_diag_fail(why, CM_E_FORMAT, "booster.n_in=%u: expected %u", n_in, CM_WF_DIM);
    if ((st = get_uint(bo, "depth", "booster.", 1, CM_TREES_MAX_DEPTH, &depth, why))) return st;
    if ((st = get_uint(bo, "n_rounds", "booster.", 1, CM_TREES_MAX_ROUNDS, &n_rounds, why)))
        return st;
    m->trees = cm_trees_new(n_in, depth, n_rounds);
    if (!m->trees) return cm_diag_fail(why, CM_E_NOMEM, "trees: out of memory");
    cm_trees *t = m->trees;
    if ((st = get_floats(bo, "base", "booster.", CM_NET_CLASSES, t->base, why))) return st;
    if ((st = get_item(root, "trees", "", &arr, why)) != CM_OK) return st;
    if (!cJSON_IsArray(arr)) return cm_diag_fail(why, CM_E_FORMAT, "trees: expected an array");
    size_t nt = cm_trees_n_trees(t), ni = cm_trees_n_internal(t), nl = cm_trees_n_leaves(t);
    size_t k = (size_t)cJSON_GetArraySize(arr);
    if (k != nt)
        return cm_diag_fail(why, CM_E_FORMAT,
                            "trees: %zu trees, expected %zu (booster.n_rounds=%u x %u classes)", k,
                            nt, n_rounds, CM_NET_CLASSES);
    char path[48];
    k = 0;
    for (cJSON *tr = arr->child; tr; tr = tr->next, k++) {
        snprintf(path, sizeof path, "trees[%zu].", k);
        if (!cJSON_IsObject(tr))
            return cm_diag_fail(why, CM_E_FORMAT, "trees[%zu]: expected an object", k);
        cJSON *fa;
        if ((st = get_item(tr, "feature", path, &fa, why)) != CM_OK) return st;
        if (!cJSON_IsArray(fa))
            return cm_diag_fail(why, CM_E_FORMAT, "%sfeature: expected an array", path);
        size_t kf = (size_t)cJSON_GetArraySize(fa);
        if (kf != ni)
            return cm_diag_fail(why, CM_E_FORMAT, "%sfeature: %zu values, expected %zu", path, kf,
                                ni);
        size_t i = 0;
        for (cJSON *e = fa->child; e; e = e->next, i++) {
            double v = cJSON_IsNumber(e) ? e->valuedouble : NAN;
            if (!(v == floor(v)))
                return cm_diag_fail(why, CM_E_FORMAT, "%sfeature[%zu]: expected a whole number",
                                    path, i);
            if (v < -1 || v >= n_in)
                return cm_diag_fail(why, CM_E_RANGE, "%sfeature[%zu]=%g: must be -1..%u", path, i,
                                    v, n_in - 1);
            t->feature[k * ni + i] = (int16_t)v;
        }
        if ((st = get_floats(tr, "threshold", path, ni, t->threshold + k * ni, why))) return st;
        if ((st = get_floats(tr, "leaf", path, nl, t->leaf + k * nl, why))) return st;
    }
    return check_trees(t, why);
}

/* The "home" object (crymeter/home.h; models/README.md, "Home models"). */
static cm_status parse_home(const cJSON *o, cm_home **out, cm_diag *why)
{
    cm_status st;
    unsigned u;
    double d;
    cJSON *it;
    if (!cJSON_IsObject(o)) return cm_diag_fail(why, CM_E_FORMAT, "home: expected an object");
    if ((st = get_item(o, "version", "home.", &it, why)) != CM_OK) return st;
    if (!cJSON_IsNumber(it) || it->valuedouble != CM_HOME_VERSION)
        return cm_diag_fail(why, CM_E_FORMAT,
                            "home.version=%g: this crymeter reads home layers of version %u "
                            "(run crymeter adapt again with this version)",
                            cJSON_IsNumber(it) ? it->valuedouble : NAN, CM_HOME_VERSION);
    if ((st = get_uint(o, "feature_version", "home.", 0, 1000000, &u, why)) != CM_OK) return st;
    if (u != CM_WF_VERSION)
        return cm_diag_fail(why, CM_E_FORMAT,
                            "home.feature_version=%u: this crymeter computes window features of "
                            "version %u (run crymeter adapt again with this version)",
                            u, CM_WF_VERSION);
    cm_home_params p;
    if ((st = get_num(o, "gain", "home.", 0, CM_HOME_MAX_GAIN, &d, why)) != CM_OK) return st;
    p.gain = (float)d;
    if ((st = get_num(o, "l2", "home.", 0, 1e6, &d, why)) != CM_OK) return st;
    p.l2 = (float)d;
    if ((st = get_num(o, "radius", "home.", 1e-9, 1e3, &d, why)) != CM_OK) return st;
    p.radius = (float)d;
    float mean[CM_WF_DIM], sd[CM_WF_DIM], w[CM_WF_DIM];
    if ((st = get_floats(o, "mean", "home.", CM_WF_DIM, mean, why)) != CM_OK ||
        (st = get_floats(o, "std", "home.", CM_WF_DIM, sd, why)) != CM_OK ||
        (st = get_floats(o, "w", "home.", CM_WF_DIM, w, why)) != CM_OK)
        return st;
    if ((st = get_num(o, "b", "home.", -1e30, 1e30, &d, why)) != CM_OK) return st;
    float b = (float)d;
    cJSON *cry, *ex;
    if ((st = get_item(o, "cry", "home.", &cry, why)) != CM_OK) return st;
    if ((st = get_item(o, "examples", "home.", &ex, why)) != CM_OK) return st;
    if (!cJSON_IsArray(cry) || !cJSON_IsArray(ex))
        return cm_diag_fail(why, CM_E_FORMAT, "home.%s: expected an array",
                            cJSON_IsArray(cry) ? "examples" : "cry");
    size_t n = (size_t)cJSON_GetArraySize(ex);
    if (n < 2 || n > CM_HOME_MAX_EXAMPLES)
        return cm_diag_fail(why, CM_E_FORMAT, "home.examples: %zu rows, expected 2..%u", n,
                            CM_HOME_MAX_EXAMPLES);
    if ((size_t)cJSON_GetArraySize(cry) != n)
        return cm_diag_fail(why, CM_E_FORMAT, "home.cry: %d values, expected %zu (one per "
                            "example)", cJSON_GetArraySize(cry), n);
    float *x = malloc(n * CM_WF_DIM * sizeof *x);
    uint8_t *y = malloc(n);
    if (!x || !y) {
        free(x), free(y);
        return cm_diag_fail(why, CM_E_NOMEM, "home: out of memory");
    }
    size_t i = 0;
    st = CM_OK;
    for (const cJSON *e = cry->child; e && st == CM_OK; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || (e->valuedouble != 0 && e->valuedouble != 1))
            st = cm_diag_fail(why, CM_E_FORMAT, "home.cry[%zu]: expected 0 or 1", i);
        else
            y[i] = (uint8_t)e->valuedouble;
    }
    i = 0;
    for (const cJSON *e = ex->child; e && st == CM_OK; e = e->next, i++) {
        char name[40];
        snprintf(name, sizeof name, "examples[%zu]", i);
        st = array_floats(e, "home.", name, CM_WF_DIM, x + i * CM_WF_DIM, why);
    }
    if (st == CM_OK) st = cm_home_create(&p, mean, sd, w, b, x, y, n, out, why);
    free(x), free(y);
    return st;
}

static cm_status parse_model(const cJSON *root, cm_model *m, cm_diag *why)
{
    cm_status st;
    cJSON *it;
    if (!cJSON_IsObject(root)) return cm_diag_fail(why, CM_E_FORMAT, "model: not a JSON object");
    if ((st = get_item(root, "format", "", &it, why)) != CM_OK) return st;
    if (!cJSON_IsString(it) || strcmp(it->valuestring, CM_MODEL_FORMAT) != 0)
        return cm_diag_fail(why, CM_E_FORMAT, "format: expected \"%s\"", CM_MODEL_FORMAT);
    unsigned u;
    if ((st = get_item(root, "format_version", "", &it, why)) != CM_OK) return st;
    if (!cJSON_IsNumber(it) || (it->valuedouble != CM_MODEL_FORMAT_VERSION &&
                                it->valuedouble != CM_MODEL_FORMAT_VERSION_TREES &&
                                it->valuedouble != CM_MODEL_FORMAT_VERSION_HOME))
        return cm_diag_fail(why, CM_E_FORMAT, "format_version=%g: expected %d, %d or %d%s",
                            cJSON_IsNumber(it) ? it->valuedouble : NAN, CM_MODEL_FORMAT_VERSION,
                            CM_MODEL_FORMAT_VERSION_TREES, CM_MODEL_FORMAT_VERSION_HOME,
                            cJSON_IsNumber(it) &&
                                    it->valuedouble > CM_MODEL_FORMAT_VERSION_HOME
                                ? " (a newer crymeter wrote this model; this build cannot "
                                  "read it: upgrade crymeter, or use a model this build wrote)"
                                : "");
    int version = (int)it->valuedouble;
    if ((st = get_uint(root, "sample_rate_hz", "", 0, 1000000, &u, why)) != CM_OK) return st;
    if (u != CM_FRONT_RATE_HZ)
        return cm_diag_fail(why, CM_E_FORMAT, "sample_rate_hz=%u: expected %u", u,
                            CM_FRONT_RATE_HZ);

    cJSON *fe;
    double d;
    if ((st = get_obj(root, "front_end", "", &fe, why)) != CM_OK) return st;
    if ((st = get_uint(fe, "n_mel", "front_end.", 8, CM_FRONT_MAX_MEL, &m->front.n_mel, why)))
        return st;
    if ((st = get_num(fe, "fmin_hz", "front_end.", 0, 8000, &d, why))) return st;
    m->front.fmin_hz = (float)d;
    if ((st = get_num(fe, "fmax_hz", "front_end.", 0, 8000, &d, why))) return st;
    m->front.fmax_hz = (float)d;
    if ((st = get_num(fe, "f0_min_hz", "front_end.", 0, 2000, &d, why))) return st;
    m->front.f0_min_hz = (float)d;
    if ((st = get_num(fe, "f0_max_hz", "front_end.", 0, 2000, &d, why))) return st;
    m->front.f0_max_hz = (float)d;
    if ((st = get_num(fe, "voicing_threshold", "front_end.", 0, 1, &d, why))) return st;
    m->front.voicing_threshold = (float)d;
    if ((st = check_front(&m->front, why)) != CM_OK) return st;

    cJSON *ft;
    if ((st = get_obj(root, "features", "", &ft, why)) != CM_OK) return st;
    if ((st = get_uint(ft, "version", "features.", 0, 1000000, &u, why))) return st;
    if (u != CM_WF_VERSION)
        return cm_diag_fail(why, CM_E_FORMAT, "features.version=%u: this build computes version %u",
                            u, CM_WF_VERSION);
    if ((st = get_uint(ft, "window_frames", "features.", 0, 1000000, &u, why))) return st;
    if (u != CM_DET_WIN_FRAMES)
        return cm_diag_fail(why, CM_E_FORMAT, "features.window_frames=%u: expected %u", u,
                            CM_DET_WIN_FRAMES);
    if ((st = get_uint(ft, "hop_frames", "features.", 0, 1000000, &u, why))) return st;
    if (u != CM_DET_HOP_FRAMES)
        return cm_diag_fail(why, CM_E_FORMAT, "features.hop_frames=%u: expected %u", u,
                            CM_DET_HOP_FRAMES);
    if ((st = get_item(ft, "names", "features.", &it, why)) != CM_OK) return st;
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != (int)CM_WF_DIM)
        return cm_diag_fail(why, CM_E_FORMAT, "features.names: expected an array of %u names",
                            CM_WF_DIM);
    size_t i = 0;
    for (cJSON *e = it->child; e; e = e->next, i++)
        if (!cJSON_IsString(e) || strcmp(e->valuestring, cm_wf_name(i)) != 0)
            return cm_diag_fail(why, CM_E_FORMAT, "features.names[%zu]: expected \"%s\"", i,
                                cm_wf_name(i));

    if ((st = get_item(root, "classes", "", &it, why)) != CM_OK) return st;
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != (int)CM_NET_CLASSES)
        return cm_diag_fail(why, CM_E_FORMAT, "classes: expected [\"background\", \"vocal\", \"cry\"]");
    i = 0;
    for (cJSON *e = it->child; e; e = e->next, i++)
        if (!cJSON_IsString(e) || strcmp(e->valuestring, class_keys[i]) != 0)
            return cm_diag_fail(why, CM_E_FORMAT, "classes[%zu]: expected \"%s\"", i,
                                class_keys[i]);

    /* The classifier: format_version 1 is always a network; 2 and 3 name it. */
    int has_net = 1, has_trees = 0;
    it = cJSON_GetObjectItemCaseSensitive(root, "classifier");
    if (version >= CM_MODEL_FORMAT_VERSION_TREES) {
        if ((st = get_item(root, "classifier", "", &it, why)) != CM_OK) return st;
        if (!cJSON_IsString(it) ||
            (strcmp(it->valuestring, "network") && strcmp(it->valuestring, "trees") &&
             strcmp(it->valuestring, "ensemble")))
            return cm_diag_fail(why, CM_E_FORMAT,
                                "classifier: expected \"network\", \"trees\" or \"ensemble\"");
        has_net = strcmp(it->valuestring, "trees") != 0;
        has_trees = strcmp(it->valuestring, "network") != 0;
    } else if (it) {
        return cm_diag_fail(why, CM_E_FORMAT, "classifier: needs format_version %d",
                            CM_MODEL_FORMAT_VERSION_TREES);
    }
    if (!has_net && cJSON_GetObjectItemCaseSensitive(root, "network"))
        return cm_diag_fail(why, CM_E_FORMAT, "network: present but classifier is \"trees\"");
    if (!has_trees && (cJSON_GetObjectItemCaseSensitive(root, "trees") ||
                       cJSON_GetObjectItemCaseSensitive(root, "booster")))
        return cm_diag_fail(why, CM_E_FORMAT, "trees: present but classifier is \"network\"");
    if (has_net && (st = parse_network(root, m, why)) != CM_OK) return st;
    if (has_trees && (st = parse_trees(root, m, why)) != CM_OK) return st;

    cJSON *det;
    if ((st = get_obj(root, "detector", "", &det, why)) != CM_OK) return st;
    if ((st = get_class_floats(det, "threshold", 0.f, 1.f, m->params.threshold, why))) return st;
    if ((st = get_class_floats(det, "merge_gap_s", 0.f, 600.f, m->params.merge_gap_s, why)))
        return st;
    if ((st = get_num(det, "min_episode_s", "detector.", 0, 60, &d, why))) return st;
    m->params.min_episode_s = (float)d;
    if ((st = get_uint(det, "smooth_windows", "detector.", 1, 16, &m->smooth_windows, why)))
        return st;
    if ((st = get_num(det, "silence_dbfs", "detector.", -200, 0, &d, why))) return st;
    m->silence_dbfs = (float)d;
    /* Optional (added after format_version 1): cry confirmation; absent = off. */
    m->params.confirm_k = m->params.confirm_n = 1;
    if (cJSON_GetObjectItemCaseSensitive(det, "confirm_k") ||
        cJSON_GetObjectItemCaseSensitive(det, "confirm_n")) {
        if ((st = get_uint(det, "confirm_k", "detector.", 1, 16, &m->params.confirm_k, why)))
            return st;
        if ((st = get_uint(det, "confirm_n", "detector.", 1, 16, &m->params.confirm_n, why)))
            return st;
        if (m->params.confirm_k > m->params.confirm_n)
            return cm_diag_fail(why, CM_E_RANGE,
                                "detector.confirm_k=%u: must be <= confirm_n=%u",
                                m->params.confirm_k, m->params.confirm_n);
    }
    /* Optional (added after format_version 1): cry onset back-dating and the cry evidence
     * minimum; absent = off. All four or none. */
    m->params.cry_onset_threshold = 1.f;
    m->params.cry_onset_max_s = 0.f;
    m->params.cry_onset_gap_s = 0.f;
    m->params.cry_min_windows = 1;
    if (cJSON_GetObjectItemCaseSensitive(det, "cry_onset_threshold") ||
        cJSON_GetObjectItemCaseSensitive(det, "cry_onset_max_s") ||
        cJSON_GetObjectItemCaseSensitive(det, "cry_onset_gap_s") ||
        cJSON_GetObjectItemCaseSensitive(det, "cry_min_windows")) {
        if ((st = get_num(det, "cry_onset_threshold", "detector.", 0, 1, &d, why))) return st;
        m->params.cry_onset_threshold = (float)d;
        if ((st = get_num(det, "cry_onset_max_s", "detector.", 0, 6, &d, why))) return st;
        m->params.cry_onset_max_s = (float)d;
        if ((st = get_num(det, "cry_onset_gap_s", "detector.", 0, 3, &d, why))) return st;
        m->params.cry_onset_gap_s = (float)d;
        if ((st = get_uint(det, "cry_min_windows", "detector.", 0, 64, &m->params.cry_min_windows,
                           why)))
            return st;
    }
    if ((st = parse_shape(root, &m->shape, why)) != CM_OK) return st;

    it = cJSON_GetObjectItemCaseSensitive(root, "frame_net");
    if (it) {
        cm_framenet *fn = NULL;
        if ((st = cm_framenet_from_cjson(it, &fn, why)) != CM_OK) return st;
        if ((st = cm_model_set_frame_net(m, fn, why)) != CM_OK) return st;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "home");
    if (version == CM_MODEL_FORMAT_VERSION_HOME && !it)
        return cm_diag_fail(why, CM_E_FORMAT, "home: missing (format_version %d is a home model)",
                            CM_MODEL_FORMAT_VERSION_HOME);
    if (it && version != CM_MODEL_FORMAT_VERSION_HOME)
        return cm_diag_fail(why, CM_E_FORMAT, "home: needs format_version %d",
                            CM_MODEL_FORMAT_VERSION_HOME);
    if (it && (st = parse_home(it, &m->home, why)) != CM_OK) return st;
    it = cJSON_GetObjectItemCaseSensitive(root, "provenance");
    if (it) {
        if (!cJSON_IsObject(it))
            return cm_diag_fail(why, CM_E_FORMAT, "provenance: expected an object");
        m->provenance = cJSON_PrintUnformatted(it);
        if (!m->provenance) return cm_diag_fail(why, CM_E_NOMEM, "provenance: out of memory");
    }
    return CM_OK;
}

cm_status cm_model_load_buffer(const char *json, size_t n, cm_model **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!json) return cm_diag_fail(why, CM_E_INVAL, "model: NULL buffer");
    if (n == 0) return cm_diag_fail(why, CM_E_FORMAT, "model: empty");
    if (n > CM_MODEL_MAX_BYTES)
        return cm_diag_fail(why, CM_E_FORMAT, "model: %zu bytes, larger than %u", n,
                            CM_MODEL_MAX_BYTES);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, n, &end, 0);
    if (!root) {
        /* Name the line of the error so a hand-edited file can be fixed. */
        size_t off = (end && end >= json && end <= json + n) ? (size_t)(end - json) : 0;
        if (!end) {
            const char *e = cJSON_GetErrorPtr();
            if (e >= json && e <= json + n) off = (size_t)(e - json);
        }
        unsigned line = 1;
        for (size_t i = 0; i < off && i < n; i++) line += json[i] == '\n';
        return cm_diag_fail(why, CM_E_FORMAT, "model: invalid or truncated JSON near line %u",
                            line);
    }
    cm_model *m = calloc(1, sizeof *m);
    if (!m) {
        cJSON_Delete(root);
        return cm_diag_fail(why, CM_E_NOMEM, "model: out of memory");
    }
    cm_status st = parse_model(root, m, why);
    cJSON_Delete(root);
#ifdef __GLIBC__
    /* The parse tree (some 40 k small nodes, about 2.5 MB for the default model) is freed
     * here, before any audio buffer exists; handing its pages back keeps them out of the
     * analysis' peak memory (bench/run.sh, an hour of 44.1 kHz stereo: 16.8 -> 15.2 MiB) instead of lying in
     * glibc's free lists under the buffers allocated next. */
    malloc_trim(0);
#endif
    if (st != CM_OK) {
        cm_model_destroy(m);
        return st;
    }
    *out = m;
    return CM_OK;
}

cm_status cm_model_load_default(cm_model **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (cm_default_model_json_len == 0)
        return cm_diag_fail(why, CM_E_FORMAT,
                            "no default model compiled in (models/default.json was missing at "
                            "build time)");
    cm_diag inner = {{0}};
    cm_status st = cm_model_load_buffer((const char *)cm_default_model_json,
                                        cm_default_model_json_len, out, &inner);
    if (st != CM_OK) return cm_diag_fail(why, st, "default model: %s", inner.msg);
    return CM_OK;
}

/* ---- writing --------------------------------------------------------------------------- */

static cJSON *num(double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.9g", v);
    return cJSON_CreateRaw(b);
}

static cJSON *vec(const float *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, num(v[i]));
    return a;
}

static cJSON *mat(const float *v, size_t rows, size_t cols)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t r = 0; a && r < rows; r++) cJSON_AddItemToArray(a, vec(v + r * cols, cols));
    return a;
}

static cJSON *class_obj(const float *v)
{
    cJSON *o = cJSON_CreateObject();
    for (int c = 0; o && c < CM_N_CLASSES; c++) cJSON_AddItemToObject(o, class_keys[c], num(v[c]));
    return o;
}

/* The fewest significant digits (up to 9) that read back, through the loader's double ->
 * float, to exactly v. */
static cJSON *num_short(float v)
{
    char b[40];
    for (int p = 1; p <= 9; p++) {
        snprintf(b, sizeof b, "%.*g", p, (double)v);
        if ((float)strtod(b, NULL) == v) break;
    }
    return cJSON_CreateRaw(b);
}

/* "booster" and "trees", each tree one line ({"feature":[..],"threshold":[..],"leaf":[..]})
 * so that 600 trees read as 600 lines. 0 when out of memory. */
static int add_trees(cJSON *r, const cm_trees *t)
{
    cJSON *bo = cJSON_AddObjectToObject(r, "booster");
    cJSON *arr = cJSON_AddArrayToObject(r, "trees");
    if (!bo || !arr) return 0;
    cJSON_AddNumberToObject(bo, "n_in", t->n_in);
    cJSON_AddNumberToObject(bo, "depth", t->depth);
    cJSON_AddNumberToObject(bo, "n_rounds", t->n_rounds);
    cJSON *base = cJSON_AddArrayToObject(bo, "base");
    for (unsigned c = 0; base && c < CM_NET_CLASSES; c++)
        cJSON_AddItemToArray(base, num_short(t->base[c]));
    size_t ni = cm_trees_n_internal(t), nl = cm_trees_n_leaves(t);
    for (size_t k = 0; k < cm_trees_n_trees(t); k++) {
        cJSON *o = cJSON_CreateObject(), *fa = cJSON_AddArrayToObject(o, "feature");
        cJSON *ta = cJSON_AddArrayToObject(o, "threshold"), *la = cJSON_AddArrayToObject(o, "leaf");
        if (!o || !fa || !ta || !la) {
            cJSON_Delete(o);
            return 0;
        }
        for (size_t i = 0; i < ni; i++) {
            cJSON_AddItemToArray(fa, cJSON_CreateNumber(t->feature[k * ni + i]));
            cJSON_AddItemToArray(ta, num_short(t->threshold[k * ni + i]));
        }
        for (size_t i = 0; i < nl; i++) cJSON_AddItemToArray(la, num_short(t->leaf[k * nl + i]));
        char *line = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        cJSON *raw = line ? cJSON_CreateRaw(line) : NULL;
        free(line);
        if (!raw) return 0;
        cJSON_AddItemToArray(arr, raw);
    }
    return 1;
}

char *cm_model_to_json(const cm_model *m)
{
    if (!m) return NULL;
    cJSON *r = cJSON_CreateObject();
    if (!r) return NULL;
    cJSON_AddStringToObject(r, "format", CM_MODEL_FORMAT);
    cJSON_AddNumberToObject(r, "format_version",
                            m->home    ? CM_MODEL_FORMAT_VERSION_HOME
                            : m->trees ? CM_MODEL_FORMAT_VERSION_TREES
                                       : CM_MODEL_FORMAT_VERSION);
    if (m->trees || m->home)
        cJSON_AddStringToObject(r, "classifier",
                                !m->trees ? "network" : m->net ? "ensemble" : "trees");
    cJSON_AddNumberToObject(r, "sample_rate_hz", CM_FRONT_RATE_HZ);
    cJSON *fe = cJSON_AddObjectToObject(r, "front_end");
    if (fe) {
        cJSON_AddNumberToObject(fe, "n_mel", m->front.n_mel);
        cJSON_AddItemToObject(fe, "fmin_hz", num(m->front.fmin_hz));
        cJSON_AddItemToObject(fe, "fmax_hz", num(m->front.fmax_hz));
        cJSON_AddItemToObject(fe, "f0_min_hz", num(m->front.f0_min_hz));
        cJSON_AddItemToObject(fe, "f0_max_hz", num(m->front.f0_max_hz));
        cJSON_AddItemToObject(fe, "voicing_threshold", num(m->front.voicing_threshold));
    }
    cJSON *ft = cJSON_AddObjectToObject(r, "features");
    if (ft) {
        cJSON_AddNumberToObject(ft, "version", CM_WF_VERSION);
        cJSON_AddNumberToObject(ft, "window_frames", CM_DET_WIN_FRAMES);
        cJSON_AddNumberToObject(ft, "hop_frames", CM_DET_HOP_FRAMES);
        cJSON *names = cJSON_AddArrayToObject(ft, "names");
        for (size_t i = 0; names && i < CM_WF_DIM; i++)
            cJSON_AddItemToArray(names, cJSON_CreateString(cm_wf_name(i)));
    }
    cJSON *cl = cJSON_AddArrayToObject(r, "classes");
    for (unsigned c = 0; cl && c < CM_NET_CLASSES; c++)
        cJSON_AddItemToArray(cl, cJSON_CreateString(class_keys[c]));
    const cm_net *n = m->net;
    unsigned last = n ? (n->n_hidden ? n->n_hidden : n->n_in) : 0;
    cJSON *nw = n ? cJSON_AddObjectToObject(r, "network") : NULL;
    if (m->trees && !add_trees(r, m->trees)) {
        cJSON_Delete(r);
        return NULL;
    }
    if (nw) {
        cJSON_AddStringToObject(nw, "activation", "tanh");
        cJSON_AddNumberToObject(nw, "n_in", n->n_in);
        cJSON_AddNumberToObject(nw, "n_hidden", n->n_hidden);
        cJSON_AddItemToObject(nw, "mean", vec(n->mean, n->n_in));
        cJSON_AddItemToObject(nw, "std", vec(n->std, n->n_in));
        if (n->n_hidden) {
            cJSON_AddItemToObject(nw, "w1", mat(n->w1, n->n_hidden, n->n_in));
            cJSON_AddItemToObject(nw, "b1", vec(n->b1, n->n_hidden));
        }
        cJSON_AddItemToObject(nw, "w2", mat(n->w2, CM_NET_CLASSES, last));
        cJSON_AddItemToObject(nw, "b2", vec(n->b2, CM_NET_CLASSES));
    }
    cJSON *det = cJSON_AddObjectToObject(r, "detector");
    if (det) {
        cJSON_AddItemToObject(det, "threshold", class_obj(m->params.threshold));
        cJSON_AddItemToObject(det, "merge_gap_s", class_obj(m->params.merge_gap_s));
        cJSON_AddItemToObject(det, "min_episode_s", num(m->params.min_episode_s));
        cJSON_AddNumberToObject(det, "smooth_windows", m->smooth_windows);
        cJSON_AddItemToObject(det, "silence_dbfs", num(m->silence_dbfs));
        cJSON_AddNumberToObject(det, "confirm_k", m->params.confirm_k ? m->params.confirm_k : 1);
        cJSON_AddNumberToObject(det, "confirm_n", m->params.confirm_n ? m->params.confirm_n : 1);
        cJSON_AddItemToObject(det, "cry_onset_threshold", num(m->params.cry_onset_threshold));
        cJSON_AddItemToObject(det, "cry_onset_max_s", num(m->params.cry_onset_max_s));
        cJSON_AddItemToObject(det, "cry_onset_gap_s", num(m->params.cry_onset_gap_s));
        cJSON_AddNumberToObject(det, "cry_min_windows", m->params.cry_min_windows);
    }
    cJSON *sh = cJSON_AddObjectToObject(r, "shape");
    if (sh) {
#define PUT_F(f) cJSON_AddItemToObject(sh, #f, num(m->shape.f));
#define PUT_U(f) cJSON_AddNumberToObject(sh, #f, m->shape.f);
        SHAPE_FIELDS(PUT_F, PUT_U)
#undef PUT_F
#undef PUT_U
    }
    if (m->fnet) {
        cJSON *fo = cJSON_Parse(cm_framenet_json(m->fnet));
        if (!fo) {
            cJSON_Delete(r);
            return NULL;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(fo, "weight"); /* the current one, below */
        cJSON_AddItemToObject(fo, "weight", num(cm_framenet_weight(m->fnet)));
        cJSON_AddItemToObject(r, "frame_net", fo);
    }
    if (m->home) {
        const cm_home *h = m->home;
        cm_home_params hp = cm_home_get_params(h);
        cJSON *ho = cJSON_AddObjectToObject(r, "home");
        cJSON *cry = cJSON_CreateArray(), *ex = cJSON_CreateArray();
        if (!ho || !cry || !ex) {
            cJSON_Delete(cry), cJSON_Delete(ex), cJSON_Delete(r);
            return NULL;
        }
        cJSON_AddNumberToObject(ho, "version", CM_HOME_VERSION);
        cJSON_AddNumberToObject(ho, "feature_version", CM_WF_VERSION);
        cJSON_AddItemToObject(ho, "gain", num_short(hp.gain));
        cJSON_AddItemToObject(ho, "l2", num_short(hp.l2));
        cJSON_AddItemToObject(ho, "radius", num_short(hp.radius));
        cJSON *mv = cJSON_AddArrayToObject(ho, "mean"), *sv = cJSON_AddArrayToObject(ho, "std");
        cJSON *wv = cJSON_AddArrayToObject(ho, "w");
        for (size_t j = 0; mv && sv && wv && j < CM_WF_DIM; j++) {
            cJSON_AddItemToArray(mv, num_short(cm_home_mean(h)[j]));
            cJSON_AddItemToArray(sv, num_short(cm_home_std(h)[j]));
            cJSON_AddItemToArray(wv, num_short(cm_home_weights(h)[j]));
        }
        cJSON_AddItemToObject(ho, "b", num_short(cm_home_intercept(h)));
        for (size_t i = 0; i < cm_home_n(h); i++) {
            cJSON_AddItemToArray(cry, cJSON_CreateNumber(cm_home_is_cry(h, i)));
            cJSON *row = cJSON_CreateArray();
            for (size_t j = 0; row && j < CM_WF_DIM; j++)
                cJSON_AddItemToArray(row, num_short(cm_home_example(h, i)[j]));
            cJSON_AddItemToArray(ex, row);
        }
        cJSON_AddItemToObject(ho, "cry", cry);
        cJSON_AddItemToObject(ho, "examples", ex);
    }
    if (m->provenance) {
        cJSON *p = cJSON_Parse(m->provenance);
        if (p) cJSON_AddItemToObject(r, "provenance", p);
    }
    char *s = cJSON_Print(r);
    cJSON_Delete(r);
    return s;
}

/* ---- scoring, shared by the detector and clip scoring ------------------------------------ */

void cm_model_window_probs(const cm_model *m, const float *feat, float peak_dbfs,
                           const float *fn_p, cm_home_trail *trail, float p[CM_N_CLASSES])
{
    p[CM_CLASS_SOB] = 0.f;
    if (!(peak_dbfs >= m->silence_dbfs)) {
        p[CM_CLASS_BACKGROUND] = 1.f;
        p[CM_CLASS_VOCAL] = p[CM_CLASS_CRY] = 0.f;
        /* Silence is time too: a correction fades over it as over any other window. */
        if (m->home && trail) cm_home_trail_push(trail, 0.f);
        return;
    }
    cm_model_forward(m, feat, p);
    if (m->fnet && fn_p) {
        /* Linear pool of the two classifiers' probabilities: each is calibrated to the same
         * classes, and a window both call cry stays cry while one confident miss does not
         * decide alone. */
        float a = cm_framenet_weight(m->fnet);
        for (unsigned c = 0; c < CM_FN_CLASSES; c++) p[c] = (1.f - a) * p[c] + a * fn_p[c];
    }
    /* Last, so that the household's corrections act on what the detector would have
     * reported, whatever the classifiers inside. */
    if (m->home) cm_home_apply(m->home, trail, feat, p);
}

size_t cm_model_frame_net_windows(const cm_model *m, const float *fin, size_t n_frames,
                                  float *out)
{
    size_t nw = cm_wf_n_windows(n_frames);
    if (!m->fnet || nw == 0) return 0;
    cm_fn_state st;
    cm_fn_reset(&st);
    /* Frame probabilities are needed per window; windows overlap, so keep a running prefix
     * sum per class over the clip (double: no drift over long clips). */
    double *cum = malloc((n_frames + 1) * CM_FN_CLASSES * sizeof *cum);
    if (!cum) return 0;
    for (unsigned c = 0; c < CM_FN_CLASSES; c++) cum[c] = 0.0;
    for (size_t t = 0; t < n_frames; t++) {
        float pf[CM_FN_CLASSES];
        cm_fn_step(m->fnet, &st, fin + t * CM_FN_N_IN, pf);
        for (unsigned c = 0; c < CM_FN_CLASSES; c++)
            cum[(t + 1) * CM_FN_CLASSES + c] = cum[t * CM_FN_CLASSES + c] + pf[c];
    }
    for (size_t w = 0; w < nw; w++) {
        size_t s = cm_wf_window_start(n_frames, w);
        size_t e = n_frames - s < CM_DET_WIN_FRAMES ? n_frames : s + CM_DET_WIN_FRAMES;
        for (unsigned c = 0; c < CM_FN_CLASSES; c++)
            out[w * CM_FN_CLASSES + c] =
                (float)((cum[e * CM_FN_CLASSES + c] - cum[s * CM_FN_CLASSES + c]) / (double)(e - s));
    }
    free(cum);
    return nw;
}

static void smooth_clip(unsigned k, size_t n_windows, float *p_out);

void cm_model_score_clip(const cm_model *m, const float *feats, const float *peak_dbfs,
                         const float *fn_win, size_t n_windows, float *p_out)
{
    unsigned k = m->smooth_windows;
    cm_home_trail trail = {{0}, 0, 0};
    for (size_t w = 0; w < n_windows; w++)
        cm_model_window_probs(m, feats + w * CM_WF_DIM, peak_dbfs[w],
                              fn_win ? fn_win + w * CM_FN_CLASSES : NULL, &trail,
                              p_out + w * CM_N_CLASSES);
    if (k > 1) smooth_clip(k, n_windows, p_out);
    unsigned ck = m->params.confirm_k, cn = m->params.confirm_n;
    if (cn <= 1 || ck < 1 || n_windows == 0) return;
    /* Cry confirmation, the same as the detector's: from the end backwards, in place. */
    float cry[16];
    for (size_t w = n_windows; w-- > 0;) {
        size_t lo = w + 1 >= cn ? w + 1 - cn : 0;
        unsigned mm = (unsigned)(w + 1 - lo);
        for (unsigned j = 0; j < mm; j++) cry[j] = p_out[(lo + j) * CM_N_CLASSES + CM_CLASS_CRY];
        /* p_out[w] is replaced, earlier entries still hold smoothed values. */
        cm_confirm_apply(p_out + w * CM_N_CLASSES, cm_confirm_cry(cry, mm, ck, cn));
    }
}

float cm_confirm_cry(const float *cry, unsigned m, unsigned k, unsigned n)
{
    if (m == 0) return 0.f;
    if (n <= 1 || k < 1 || m > 16) return cry[m - 1];
    unsigned kk = k > n - m ? k - (n - m) : 1;
    if (kk > m) kk = m;
    float v[16];
    memcpy(v, cry, m * sizeof *v);
    for (unsigned i = 1; i < m; i++) { /* descending insertion sort */
        float t = v[i];
        unsigned j = i;
        while (j > 0 && v[j - 1] < t) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
    return v[kk - 1];
}

void cm_confirm_apply(float p[CM_N_CLASSES], float cry)
{
    float old = p[CM_CLASS_CRY];
    if (!(cry < old)) return;
    float rest = 1.f - old, add = old - cry;
    if (rest > 1e-6f) {
        float s = (rest + add) / rest;
        p[CM_CLASS_BACKGROUND] *= s;
        p[CM_CLASS_VOCAL] *= s;
    } else {
        p[CM_CLASS_BACKGROUND] += 0.5f * add;
        p[CM_CLASS_VOCAL] += 0.5f * add;
    }
    p[CM_CLASS_CRY] = cry;
}

static void smooth_clip(unsigned k, size_t n_windows, float *p_out)
{
    /* Causal moving average over the last k windows, in place from the end backwards. */
    for (size_t w = n_windows; w-- > 0;) {
        size_t lo = w + 1 >= k ? w + 1 - k : 0;
        for (int c = 0; c < CM_N_CLASSES; c++) {
            float s = 0.f;
            for (size_t j = lo; j <= w; j++) s += p_out[j * CM_N_CLASSES + c];
            p_out[w * CM_N_CLASSES + c] = s / (float)(w + 1 - lo);
        }
    }
}
