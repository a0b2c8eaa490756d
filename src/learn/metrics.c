/* SPDX-License-Identifier: MIT */
/* Clip-level and sound-event metrics with sed_eval conventions (see metrics.h), written
 * out so that `crymeter evaluate` needs no Python and the unit tests can pin each one to
 * hand-computed cases. */
#include <math.h>
#include <stdlib.h>

#include "crymeter/learn/metrics.h"

double cm_precision(cm_counts c) { return c.tp + c.fp ? (double)c.tp / (double)(c.tp + c.fp) : 0.0; }
double cm_recall(cm_counts c) { return c.tp + c.fn ? (double)c.tp / (double)(c.tp + c.fn) : 0.0; }

double cm_f1(cm_counts c)
{
    double p = cm_precision(c), r = cm_recall(c);
    return p + r > 0 ? 2.0 * p * r / (p + r) : 0.0;
}

typedef struct item {
    float s;
    uint8_t pos;
} item;

static int asc(const void *a, const void *b)
{
    float x = ((const item *)a)->s, y = ((const item *)b)->s;
    return (x > y) - (x < y);
}

static item *sorted_copy(const float *score, const uint8_t *positive, size_t n, int desc)
{
    item *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) {
        v[i].s = isfinite(score[i]) ? score[i] : (score[i] > 0 ? INFINITY : -INFINITY);
        v[i].pos = positive[i] != 0;
    }
    qsort(v, n, sizeof *v, asc);
    if (desc)
        for (size_t i = 0; i < n / 2; i++) {
            item t = v[i];
            v[i] = v[n - 1 - i];
            v[n - 1 - i] = t;
        }
    return v;
}

double cm_roc_auc(const float *score, const uint8_t *positive, size_t n)
{
    if (!score || !positive || n == 0) return NAN;
    item *v = sorted_copy(score, positive, n, 0);
    if (!v) return NAN;
    /* Rank sum of positives with mid-ranks for ties. */
    double rank_sum = 0.0;
    size_t npos = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) j++;
        double mid = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1..j */
        for (size_t k = i; k < j; k++)
            if (v[k].pos) rank_sum += mid, npos++;
        i = j;
    }
    free(v);
    size_t nneg = n - npos;
    if (npos == 0 || nneg == 0) return NAN;
    double u = rank_sum - (double)npos * (double)(npos + 1) / 2.0;
    return u / ((double)npos * (double)nneg);
}

size_t cm_pr_curve(const float *score, const uint8_t *positive, size_t n, cm_pr_point *out)
{
    if (!score || !positive || !out || n == 0) return 0;
    item *v = sorted_copy(score, positive, n, 1);
    if (!v) return 0;
    size_t npos = 0, tp = 0, fp = 0, k = 0;
    for (size_t i = 0; i < n; i++) npos += v[i].pos;
    if (npos == 0) {
        free(v);
        return 0;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) tp += v[j].pos, fp += !v[j].pos, j++;
        out[k].threshold = v[i].s;
        out[k].precision = (double)tp / (double)(tp + fp);
        out[k].recall = (double)tp / (double)npos;
        k++;
        i = j;
    }
    free(v);
    return k;
}

/* Segment index range [a, b) touched by a span (sed_eval event roll). */
static void seg_range(const cm_span *s, double seg_s, size_t n_seg, size_t *a, size_t *b)
{
    double on = s->onset_s > 0 ? s->onset_s : 0, off = s->offset_s > on ? s->offset_s : on;
    double fa = floor(on / seg_s), fb = ceil(off / seg_s);
    if (fb <= fa) fb = fa + 1; /* a zero-length event still marks its segment */
    *a = fa < (double)n_seg ? (size_t)fa : n_seg;
    *b = fb < (double)n_seg ? (size_t)fb : n_seg;
}

void cm_segment_counts(const cm_span *ref, size_t n_ref, const cm_span *est, size_t n_est,
                       double duration_s, double seg_s, cm_counts *c)
{
    if (!c || !(seg_s > 0) || !(duration_s >= 0)) return;
    /* The time line extends to the last event if the events run past duration_s. */
    double end = duration_s;
    for (size_t i = 0; i < n_ref; i++)
        if (ref[i].offset_s > end) end = ref[i].offset_s;
    for (size_t i = 0; i < n_est; i++)
        if (est[i].offset_s > end) end = est[i].offset_s;
    size_t n_seg = (size_t)ceil(end / seg_s);
    if (n_seg == 0) return;
    uint8_t *act = calloc(n_seg, 1);
    if (!act) return;
    size_t a, b;
    for (size_t i = 0; i < n_ref; i++) {
        seg_range(&ref[i], seg_s, n_seg, &a, &b);
        for (size_t k = a; k < b; k++) act[k] |= 1;
    }
    for (size_t i = 0; i < n_est; i++) {
        seg_range(&est[i], seg_s, n_seg, &a, &b);
        for (size_t k = a; k < b; k++) act[k] |= 2;
    }
    for (size_t k = 0; k < n_seg; k++) {
        c->tp += act[k] == 3;
        c->fn += act[k] == 1;
        c->fp += act[k] == 2;
        c->tn += act[k] == 0;
    }
    free(act);
}

static int by_onset(const void *a, const void *b)
{
    const cm_span *x = *(const cm_span *const *)a, *y = *(const cm_span *const *)b;
    return (x->onset_s > y->onset_s) - (x->onset_s < y->onset_s);
}

void cm_event_counts(const cm_span *ref, size_t n_ref, const cm_span *est, size_t n_est,
                     double collar_s, cm_counts *c)
{
    if (!c) return;
    const cm_span **r = malloc((n_ref ? n_ref : 1) * sizeof *r);
    const cm_span **e = malloc((n_est ? n_est : 1) * sizeof *e);
    uint8_t *used = calloc(n_est ? n_est : 1, 1);
    if (!r || !e || !used) {
        free(r), free(e), free(used);
        return;
    }
    for (size_t i = 0; i < n_ref; i++) r[i] = &ref[i];
    for (size_t i = 0; i < n_est; i++) e[i] = &est[i];
    qsort(r, n_ref, sizeof *r, by_onset);
    qsort(e, n_est, sizeof *e, by_onset);
    size_t tp = 0;
    for (size_t i = 0; i < n_ref; i++)
        for (size_t j = 0; j < n_est; j++)
            if (!used[j] && fabs(r[i]->onset_s - e[j]->onset_s) <= collar_s + 1e-9) {
                used[j] = 1;
                tp++;
                break;
            }
    c->tp += tp;
    c->fp += n_est - tp;
    c->fn += n_ref - tp;
    free(r), free(e), free(used);
}

static int by_at(const void *a, const void *b)
{
    const cm_announce *x = *(const cm_announce *const *)a, *y = *(const cm_announce *const *)b;
    return x->at_s < y->at_s ? -1 : x->at_s > y->at_s;
}

size_t cm_start_latencies(const cm_span *ref, size_t n_ref, const cm_announce *ann,
                          size_t n_ann, double collar_s, double *lat)
{
    if (!lat || (!ref && n_ref) || (!ann && n_ann)) return 0;
    const cm_span **r = malloc((n_ref ? n_ref : 1) * sizeof *r);
    const cm_announce **a = malloc((n_ann ? n_ann : 1) * sizeof *a);
    uint8_t *used = calloc(n_ann ? n_ann : 1, 1);
    size_t n = 0;
    if (r && a && used) {
        for (size_t i = 0; i < n_ref; i++) r[i] = &ref[i];
        for (size_t i = 0; i < n_ann; i++) a[i] = &ann[i];
        qsort(r, n_ref, sizeof *r, by_onset);
        qsort(a, n_ann, sizeof *a, by_at);
        for (size_t i = 0; i < n_ref; i++)
            for (size_t j = 0; j < n_ann; j++)
                if (!used[j] && a[j]->start_s >= r[i]->onset_s - collar_s - 1e-9 &&
                    a[j]->start_s <= r[i]->offset_s + 1e-9) {
                    used[j] = 1;
                    lat[n++] = a[j]->at_s - r[i]->onset_s;
                    break;
                }
    }
    free(r), free(a), free(used);
    return n;
}
