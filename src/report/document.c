/* SPDX-License-Identifier: MIT */
/* Whole-recording documents (Praat TextGrid, ELAN EAF): the END episodes of one recording,
 * collected while it is analysed and written once its duration is known, sorted by start. */
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

static int by_start(const void *a, const void *b)
{
    const cm_doc_span *x = a, *y = b;
    return x->start_s < y->start_s ? -1 : x->start_s > y->start_s;
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
    if (xmax < 0.001) xmax = 0.001;
    cm_status st = fmt == CM_FORMAT_TEXTGRID ? cm_rep_textgrid(f, &sorted, xmax)
                                              : cm_rep_eaf(f, file, &sorted, xmax);
    free(sorted.v);
    return st;
}
