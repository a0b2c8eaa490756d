/* SPDX-License-Identifier: MIT */
/* Praat TextGrid writer (document.c collects and sorts the episodes): one whole document per
 * recording (Praat's "long" text format, as
 * Praat itself writes it: File type = "ooTextFile", Object class = "TextGrid"), written when
 * the recording's summary is known, since the header needs the recording's duration and a
 * tier must tile 0..duration with intervals. Tiers: one interval tier per class (cry, sob,
 * vocal), each episode an interval named after its class, the gaps empty intervals; then an
 * "excessive" tier whose intervals carry the reasons ("loud", "long", "loud+long"). Episodes
 * of one class never overlap (the segmenter closes one before it opens the next), and a tier
 * must not: an interval that starts before the previous one ends is clipped to start there,
 * and dropped when nothing is left, so a malformed input cannot make Praat refuse the file.
 * Times 3 decimals, '.' whatever the locale, as printed in the other formats. */
#include "report_internal.h"

#include <string.h>

static void num(FILE *f, double v)
{
    char b[64];
    if (!cm_rep_fixed(b, sizeof b, v, CM_REP_DEC_TIME)) b[0] = '0', b[1] = 0;
    fputs(b, f);
}

/* Whether a..b is longer than zero as printed: an interval Praat reads as 0 s long is not
 * written. Neighbours print the same double, so they meet exactly in the file. */
static int printed_longer(double a, double b)
{
    char x[64], y[64];
    if (!(b > a)) return 0;
    cm_rep_fixed(x, sizeof x, a, CM_REP_DEC_TIME);
    cm_rep_fixed(y, sizeof y, b, CM_REP_DEC_TIME);
    return strcmp(x, y) != 0;
}

static void interval(FILE *f, size_t k, double a, double b, const char *text)
{
    fprintf(f, "        intervals [%zu]:\n            xmin = ", k);
    num(f, a);
    fputs("\n            xmax = ", f);
    num(f, b);
    fprintf(f, "\n            text = \"%s\"\n", text);
}

/* The intervals of one tier: the spans `text` names, clipped to 0..xmax and to the one
 * before, with empty intervals between. Returns their number; writes them when write. */
typedef const char *(*span_text)(const cm_doc_span *s, int tier);

static size_t tier_intervals(FILE *f, const cm_doc *d, int tier, span_text text, double xmax,
                             int write)
{
    size_t k = 0;
    double t = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        const char *label = text(&d->v[i], tier);
        if (!label) continue;
        double a = d->v[i].start_s < t ? t : d->v[i].start_s;
        double b = d->v[i].end_s > xmax ? xmax : d->v[i].end_s;
        if (!printed_longer(a, b)) continue;
        if (!printed_longer(t, a)) a = t; /* a gap too short to print: the span starts at t */
        if (a > t && write) interval(f, k + 1, t, a, "");
        k += a > t;
        if (write) interval(f, k + 1, a, b, label);
        k++;
        t = b;
    }
    if (printed_longer(t, xmax)) {
        if (write) interval(f, k + 1, t, xmax, "");
        k++;
    } else if (k == 0) { /* no span at all and an xmax as short as a millisecond */
        if (write) interval(f, 1, 0.0, xmax, "");
        k = 1;
    }
    return k;
}

static const cm_class tier_class[] = {CM_CLASS_CRY, CM_CLASS_SOB, CM_CLASS_VOCAL};
enum { N_CLASS_TIERS = sizeof tier_class / sizeof tier_class[0] };

static const char *class_text(const cm_doc_span *s, int tier)
{
    if (tier < N_CLASS_TIERS) return s->cls == tier_class[tier] ? cm_class_name(s->cls) : NULL;
    return s->excessive ? cm_rep_reasons(s->excessive) : NULL;
}

cm_status cm_rep_textgrid(FILE *f, const cm_doc *d, double xmax)
{
    fputs("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\nxmax = ", f);
    num(f, xmax);
    fprintf(f, "\ntiers? <exists>\nsize = %d\nitem []:\n", N_CLASS_TIERS + 1);
    for (int tier = 0; tier <= N_CLASS_TIERS; tier++) {
        const char *name = tier < N_CLASS_TIERS ? cm_class_name(tier_class[tier]) : "excessive";
        fprintf(f, "    item [%d]:\n        class = \"IntervalTier\"\n        name = \"%s\"\n"
                   "        xmin = 0\n        xmax = ", tier + 1, name);
        num(f, xmax);
        size_t n = tier_intervals(f, d, tier, class_text, xmax, 0);
        fprintf(f, "\n        intervals: size = %zu\n", n);
        tier_intervals(f, d, tier, class_text, xmax, 1);
    }
    return cm_rep_finish(f);
}
