/* SPDX-License-Identifier: MIT */
/* Shared pieces of the reporters: number formatting that never depends on the process
 * locale, the write-error check every record ends with, and one entry point per format
 * for report.c to dispatch to. Private to src/report. */
#ifndef CM_REPORT_INTERNAL_H
#define CM_REPORT_INTERNAL_H

#include <stdio.h>

#include "crymeter/report.h"

/* Decimal places per quantity, so every format prints the same figure the same way:
 * times to the millisecond, levels to 0.01 dB, scores to 0.001, f0 to 0.1 Hz. */
enum {
    CM_REP_DEC_TIME = 3,
    CM_REP_DEC_LEVEL = 2,
    CM_REP_DEC_SCORE = 3,
    CM_REP_DEC_HZ = 1
};

/* Writes v with `decimals` digits after the point into buf ("%.*f", '.' whatever the
 * locale, "-0.00" printed as "0.00"). Returns 0 and writes "" when v is not finite. */
int cm_rep_fixed(char *buf, size_t cap, double v, int decimals);

/* "loud", "long", "loud+long" or "" for CM_EXCESS_* bits. Static storage. */
const char *cm_rep_reasons(unsigned excessive);

/* Ends a record: flushes so a full disk or closed pipe shows up now, at this record, and
 * returns CM_E_IO when the stream's error flag is set. */
cm_status cm_rep_finish(FILE *f);

/* H:MM:SS.s (elapsed time), "-" when not finite. */
void cm_rep_hms(char *buf, size_t cap, double t);
/* "21:03:05" when clk is known, else H:MM:SS.s. */
void cm_rep_when(char *buf, size_t cap, const cm_clock *clk, double t_s);
/* A CSV field, quoted as RFC 4180 says when needed; nothing for NULL. */
void cm_rep_csv_text(FILE *f, const char *s);
/* "file: " with control bytes shown as '?', nothing for a NULL or empty name. */
void cm_rep_safe_prefix(FILE *f, const char *file);

cm_status cm_rep_jsonl_event(FILE *f, const char *file, const cm_clock *clk, const char *clip,
                             cm_event_kind kind, const cm_episode *ep);
cm_status cm_rep_jsonl_summary(FILE *f, const char *file, const cm_clock *clk,
                               const cm_summary *s);
cm_status cm_rep_jsonl_level(FILE *f, const char *file, const cm_clock *clk,
                             const cm_level_rec *lv);
cm_status cm_rep_csv_level(FILE *f, const char *file, const cm_clock *clk,
                           const cm_level_rec *lv);
cm_status cm_rep_jsonl_error(FILE *f, const char *file, const char *message);

cm_status cm_rep_csv_begin(FILE *f);
cm_status cm_rep_csv_event(FILE *f, const char *file, cm_event_kind kind, const cm_episode *ep);

cm_status cm_rep_audacity_event(FILE *f, cm_event_kind kind, const cm_episode *ep);

cm_status cm_rep_rttm_event(FILE *f, const char *file, cm_event_kind kind, const cm_episode *ep);

/* Whole-recording documents. Both formats have the same tiers: cry, sob, vocal, then the
 * excessive reasons. A tier's annotations, in whole milliseconds as the other formats print
 * the times (3 decimals), in order, never overlapping (an episode that starts before the one
 * before it ends is clipped to start there), none of 0 ms, none past end_ms. */
enum { CM_DOC_TIERS = 4 };
typedef struct cm_doc_ann {
    long long a_ms, b_ms;
    const char *label;
} cm_doc_ann;
const char *cm_rep_doc_tier_name(int tier);
/* Fills out (room for d->n) from d sorted by start; returns the count. */
size_t cm_rep_doc_tier(const cm_doc *d, int tier, long long end_ms, cm_doc_ann *out);
/* The writers: d sorted by start, end_ms >= 1 the recording's end. */
cm_status cm_rep_textgrid(FILE *f, const cm_doc *d, long long end_ms);
cm_status cm_rep_eaf(FILE *f, const char *file, const cm_doc *d, long long end_ms);

cm_status cm_rep_table_begin(FILE *f);
cm_status cm_rep_table_event(FILE *f, const char *file, const cm_clock *clk,
                             cm_event_kind kind, const cm_episode *ep);
cm_status cm_rep_table_summary(FILE *f, const char *file, const cm_summary *s);
cm_status cm_rep_table_error(FILE *f, const char *file, const char *message);

#endif
