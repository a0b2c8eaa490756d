/* SPDX-License-Identifier: MIT */
/* Praat TextGrid writer: one whole document per recording, in Praat's "long" text format as
 * Praat itself writes it (File type = "ooTextFile", Object class = "TextGrid"). Its header
 * needs the recording's duration and every tier must tile 0..duration, so document.c
 * collects the episodes and calls this at the recording's end with the shared tiers (cry,
 * sob, vocal, excessive; cm_rep_doc_tier): each annotation an interval, the gaps empty
 * intervals. Times 3 decimals, as the other formats print them. */
#include "report_internal.h"

#include <stdlib.h>

static void interval(FILE *f, size_t k, long long a, long long b, const char *text)
{
    fprintf(f, "        intervals [%zu]:\n            xmin = %lld.%03lld\n"
               "            xmax = %lld.%03lld\n            text = \"%s\"\n",
            k, a / 1000, a % 1000, b / 1000, b % 1000, text);
}

cm_status cm_rep_textgrid(FILE *f, const cm_doc *d, long long end_ms)
{
    cm_doc_ann *an = malloc((d->n + 1) * sizeof *an);
    if (!an) return CM_E_NOMEM;
    fprintf(f, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\n"
               "xmax = %lld.%03lld\ntiers? <exists>\nsize = %d\nitem []:\n",
            end_ms / 1000, end_ms % 1000, CM_DOC_TIERS);
    for (int tier = 0; tier < CM_DOC_TIERS; tier++) {
        size_t na = cm_rep_doc_tier(d, tier, end_ms, an), n = 0;
        long long t = 0;
        for (size_t i = 0; i < na; t = an[i++].b_ms) n += 1 + (an[i].a_ms > t);
        n += t < end_ms;
        fprintf(f, "    item [%d]:\n        class = \"IntervalTier\"\n        name = \"%s\"\n"
                   "        xmin = 0\n        xmax = %lld.%03lld\n        intervals: size = %zu\n",
                tier + 1, cm_rep_doc_tier_name(tier), end_ms / 1000, end_ms % 1000, n);
        size_t k = 0;
        t = 0;
        for (size_t i = 0; i < na; t = an[i++].b_ms) {
            if (an[i].a_ms > t) interval(f, ++k, t, an[i].a_ms, "");
            interval(f, ++k, an[i].a_ms, an[i].b_ms, an[i].label);
        }
        if (t < end_ms) interval(f, ++k, t, end_ms, "");
    }
    free(an);
    return cm_rep_finish(f);
}
