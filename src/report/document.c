/* SPDX-License-Identifier: MIT */
/* Whole-recording documents (Praat TextGrid, ELAN EAF): the END episodes of one recording,
 * collected while it is analysed and written once its duration is known, sorted by start,
 * and the tiers both formats share. */
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cm_format_is_document(cm_format fmt)
{
    return fmt == CM_FORMAT_TEXTGRID || fmt == CM_FORMAT_EAF;
}

cm_status cm_doc_add(cm_doc *d, const cm_episode *ep)
{
    if (!d || !ep) return CM_E_INVAL;
    if (ep->cls == CM_CLASS_BACKGROUND || !isfinite(ep->start_s) || !isfinite(ep->end_s) ||
        !(ep->end_s > ep->start_s))
        return CM_OK;
    if (d->n == d->cap) {
        size_t nc = d->cap ? 2 * d->cap : 64;
        cm_doc_span *v = realloc(d->v, nc * sizeof *v);
        if (!v) return CM_E_NOMEM;
        d->v = v;
        d->cap = nc;
    }
    d->v[d->n++] = (cm_doc_span){ep->start_s, ep->end_s, ep->cls, ep->excessive};
    return CM_OK;
}

void cm_doc_free(cm_doc *d)
{
    if (!d) return;
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

static const cm_class tier_class[CM_DOC_TIERS - 1] = {CM_CLASS_CRY, CM_CLASS_SOB,
                                                      CM_CLASS_VOCAL};

const char *cm_rep_doc_tier_name(int tier)
{
    return tier < CM_DOC_TIERS - 1 ? cm_class_name(tier_class[tier]) : "excessive";
}

/* Milliseconds of t as cm_rep_fixed prints it with 3 decimals, so a document's times are the
 * JSON Lines' to the digit (llround would differ where %.3f rounds a binary half down). */
static long long printed_ms(double t)
{
    char b[64];
    if (!cm_rep_fixed(b, sizeof b, t, CM_REP_DEC_TIME)) return 0;
    long long ms = 0;
    int neg = b[0] == '-';
    for (const char *p = b + neg; *p; p++)
        if (*p >= '0' && *p <= '9') ms = ms * 10 + (*p - '0');
    return neg ? -ms : ms;
}

size_t cm_rep_doc_tier(const cm_doc *d, int tier, long long end_ms, cm_doc_ann *out)
{
    size_t k = 0;
    long long t = 0;
    for (size_t i = 0; i < d->n; i++) {
        const cm_doc_span *s = &d->v[i];
        const char *label = tier < CM_DOC_TIERS - 1
                                ? (s->cls == tier_class[tier] ? cm_class_name(s->cls) : NULL)
                                : (s->excessive ? cm_rep_reasons(s->excessive) : NULL);
        if (!label) continue;
        long long a = printed_ms(s->start_s), b = printed_ms(s->end_s);
        if (a < t) a = t;
        if (b > end_ms) b = end_ms;
        if (b <= a) continue;
        out[k++] = (cm_doc_ann){a, b, label};
        t = b;
    }
    return k;
}

static int by_start(const void *a, const void *b)
{
    const cm_doc_span *x = a, *y = b;
    if (x->start_s != y->start_s) return x->start_s < y->start_s ? -1 : 1;
    if (x->end_s != y->end_s) return x->end_s < y->end_s ? -1 : 1;
    return (int)x->cls - (int)y->cls; /* a total order: the same document on every libc */
}

cm_status cm_report_document(FILE *f, cm_format fmt, const char *file, double duration_s,
                             const cm_doc *in)
{
    if (!f || !in || !cm_format_is_document(fmt)) return CM_E_INVAL;
    /* Episodes arrive in the order they end; tiers are written in the order they start. */
    cm_doc sorted = {NULL, in->n, in->n};
    if (in->n && !(sorted.v = malloc(in->n * sizeof *sorted.v))) return CM_E_NOMEM;
    if (in->n) {
        memcpy(sorted.v, in->v, in->n * sizeof *sorted.v);
        qsort(sorted.v, in->n, sizeof *sorted.v, by_start);
    }
    double xmax = isfinite(duration_s) && duration_s > 0 ? duration_s : 0.0;
    for (size_t i = 0; i < sorted.n; i++)
        if (sorted.v[i].end_s > xmax) xmax = sorted.v[i].end_s;
    /* Praat needs xmax > xmin: a recording shorter than the printed millisecond gets one. */
    long long end_ms = printed_ms(xmax);
    if (end_ms < 1) end_ms = 1;
    cm_status st = fmt == CM_FORMAT_TEXTGRID ? cm_rep_textgrid(f, &sorted, end_ms)
                                              : cm_rep_eaf(f, file, &sorted, end_ms);
    free(sorted.v);
    return st;
}
