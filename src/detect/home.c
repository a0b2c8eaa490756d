/* SPDX-License-Identifier: MIT */
/* The home layer (crymeter/home.h): a weighted k-nearest-neighbour vote over a household's
 * corrected windows, added to the cry log-odds. Examples are kept standardised, so a
 * scored window costs one standardisation and at most n partial distances, each abandoned
 * as soon as it exceeds both the radius and the current k-th nearest. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/home.h"
#include "crymeter/model.h"

struct cm_home {
    cm_home_params p;
    size_t n, n_cry;
    float mean[CM_WF_DIM], std[CM_WF_DIM];
    float *x;  /* n * CM_WF_DIM raw, as given (what the model file stores) */
    float *z;  /* n * CM_WF_DIM standardised */
    uint8_t *cry;
};

void cm_home_free(cm_home *h)
{
    if (!h) return;
    free(h->x), free(h->z), free(h->cry);
    free(h);
}

static cm_status check_params(const cm_home_params *p, cm_diag *why)
{
    if (p->k < 1 || p->k > CM_HOME_MAX_K)
        return cm_diag_fail(why, CM_E_RANGE, "home.k=%u: expected 1..%u", p->k, CM_HOME_MAX_K);
    if (!(p->radius > 0.f) || !isfinite(p->radius))
        return cm_diag_fail(why, CM_E_RANGE, "home.radius=%g: expected a number above 0",
                            (double)p->radius);
    if (!(p->gain >= 0.f && p->gain <= CM_HOME_MAX_GAIN))
        return cm_diag_fail(why, CM_E_RANGE, "home.gain=%g: expected 0..%g", (double)p->gain,
                            (double)CM_HOME_MAX_GAIN);
    return CM_OK;
}

cm_status cm_home_create(const cm_home_params *p, const float *mean, const float *std,
                         const float *x, const uint8_t *is_cry, size_t n, cm_home **out,
                         cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!p || !x || !is_cry || (!mean) != (!std))
        return cm_diag_fail(why, CM_E_INVAL, "home: NULL argument");
    cm_status st = check_params(p, why);
    if (st != CM_OK) return st;
    if (n < 1 || n > CM_HOME_MAX_EXAMPLES)
        return cm_diag_fail(why, CM_E_RANGE, "home: %zu examples: expected 1..%u", n,
                            CM_HOME_MAX_EXAMPLES);
    for (size_t i = 0; i < n * CM_WF_DIM; i++)
        if (!isfinite(x[i]))
            return cm_diag_fail(why, CM_E_RANGE, "home.examples[%zu][%zu]=%g: expected a finite "
                                "number", i / CM_WF_DIM, i % CM_WF_DIM, (double)x[i]);
    for (size_t j = 0; mean && j < CM_WF_DIM; j++)
        if (!isfinite(mean[j]) || !(std[j] > 0.f) || !isfinite(std[j]))
            return cm_diag_fail(why, CM_E_RANGE, "home.scale %s[%zu]=%g: expected a finite "
                                "number%s", isfinite(mean[j]) ? "std" : "mean", j,
                                (double)(isfinite(mean[j]) ? std[j] : mean[j]),
                                isfinite(mean[j]) ? " above 0" : "");

    cm_home *h = calloc(1, sizeof *h);
    if (!h) return cm_diag_fail(why, CM_E_NOMEM, "home: out of memory");
    h->p = *p;
    h->n = n;
    h->x = malloc(n * CM_WF_DIM * sizeof *h->x);
    h->z = malloc(n * CM_WF_DIM * sizeof *h->z);
    h->cry = malloc(n);
    if (!h->x || !h->z || !h->cry) {
        cm_home_free(h);
        return cm_diag_fail(why, CM_E_NOMEM, "home: out of memory");
    }
    memcpy(h->x, x, n * CM_WF_DIM * sizeof *h->x);
    for (size_t i = 0; i < n; i++) {
        h->cry[i] = is_cry[i] != 0;
        h->n_cry += h->cry[i];
    }
    if (mean) {
        memcpy(h->mean, mean, sizeof h->mean);
        memcpy(h->std, std, sizeof h->std);
    } else {
        /* The corrections' own spread: distances then count in units of how much this
         * home's sounds vary, whatever the features' native ranges. Double sums: 4096
         * examples of features up to ~100 lose nothing. */
        for (size_t j = 0; j < CM_WF_DIM; j++) {
            double s = 0, s2 = 0;
            for (size_t i = 0; i < n; i++) s += x[i * CM_WF_DIM + j];
            double m = s / (double)n;
            for (size_t i = 0; i < n; i++) {
                double d = x[i * CM_WF_DIM + j] - m;
                s2 += d * d;
            }
            double sd = sqrt(s2 / (double)n);
            h->mean[j] = (float)m;
            h->std[j] = sd > 1e-6 ? (float)sd : 1.f;
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < CM_WF_DIM; j++)
            h->z[i * CM_WF_DIM + j] = (x[i * CM_WF_DIM + j] - h->mean[j]) / h->std[j];
    *out = h;
    return CM_OK;
}

cm_home *cm_home_copy(const cm_home *h)
{
    if (!h) return NULL;
    cm_home *c = NULL;
    cm_diag why;
    if (cm_home_create(&h->p, h->mean, h->std, h->x, h->cry, h->n, &c, &why) != CM_OK)
        return NULL;
    return c;
}

cm_home_params cm_home_get_params(const cm_home *h) { return h->p; }
size_t cm_home_n(const cm_home *h) { return h->n; }
size_t cm_home_n_cry(const cm_home *h) { return h->n_cry; }
const float *cm_home_mean(const cm_home *h) { return h->mean; }
const float *cm_home_std(const cm_home *h) { return h->std; }
const float *cm_home_example(const cm_home *h, size_t i) { return h->x + i * CM_WF_DIM; }
int cm_home_is_cry(const cm_home *h, size_t i) { return h->cry[i]; }

float cm_home_shift(const cm_home *h, const float *x)
{
    if (!h || h->p.gain == 0.f) return 0.f;
    float z[CM_WF_DIM];
    for (size_t j = 0; j < CM_WF_DIM; j++) {
        z[j] = (x[j] - h->mean[j]) / h->std[j];
        /* A non-finite feature matches nothing: no correction rather than a NaN. */
        if (!isfinite(z[j])) return 0.f;
    }
    /* Squared distances summed over the features; the radius in the same units. */
    const float r2 = h->p.radius * h->p.radius * (float)CM_WF_DIM;
    unsigned k = h->p.k, m = 0;
    float best[CM_HOME_MAX_K];
    size_t who[CM_HOME_MAX_K];
    for (size_t i = 0; i < h->n; i++) {
        float lim = m == k ? best[k - 1] : r2;
        const float *e = h->z + i * CM_WF_DIM;
        float d2 = 0.f;
        size_t j = 0;
        for (; j < CM_WF_DIM; j++) {
            float d = z[j] - e[j];
            d2 += d * d;
            /* Partial sums only grow: every 8 features, give up once out of reach. */
            if ((j & 7u) == 7u && d2 >= lim) break;
        }
        if (j < CM_WF_DIM || d2 >= lim) continue;
        /* Insert into the sorted k best; ties keep the earlier example first, so the vote
         * never depends on anything but the examples' order. */
        unsigned pos = m < k ? m++ : k - 1;
        while (pos > 0 && best[pos - 1] > d2) {
            best[pos] = best[pos - 1];
            who[pos] = who[pos - 1];
            pos--;
        }
        best[pos] = d2;
        who[pos] = i;
    }
    float vote = 0.f;
    for (unsigned q = 0; q < m; q++) {
        float w = 1.f - sqrtf(best[q] / r2);
        /* One-sided: the home's crying only holds its place among the neighbours (it
         * blocks corrections near it) and never raises a window toward crying. Raising
         * was measured to spread: a home's 8 cry clips turned 11 false alarms per hour on
         * other homes' sounds into 34-45 (models/README.md, "Home models"). */
        if (!h->cry[who[q]]) vote -= w;
    }
    return h->p.gain * vote / (float)k;
}

void cm_home_apply(const cm_home *h, const float *x, float p[CM_N_CLASSES])
{
    float s = cm_home_shift(h, x);
    if (s == 0.f) return;
    float c = p[CM_CLASS_CRY];
    if (c < 1e-6f) c = 1e-6f;
    if (c > 1.f - 1e-6f) c = 1.f - 1e-6f;
    float lo = logf(c / (1.f - c)) + s;
    float nc = 1.f / (1.f + expf(-lo));
    float rest = p[CM_CLASS_BACKGROUND] + p[CM_CLASS_VOCAL];
    float fb = rest > 0.f ? p[CM_CLASS_BACKGROUND] / rest : 0.5f;
    p[CM_CLASS_CRY] = nc;
    p[CM_CLASS_BACKGROUND] = (1.f - nc) * fb;
    p[CM_CLASS_VOCAL] = (1.f - nc) * (1.f - fb);
}
