/* SPDX-License-Identifier: MIT */
/* Episode reporters: one writer per output format, each writing to a caller-owned FILE*.
 * JSON Lines (schema version 1, documented in README.md), CSV, Audacity label track and
 * a human table. Every call returns CM_E_IO when the stream reports a write error (a full
 * disk), so the caller can stop and say so; records written before stay written. */
#ifndef CRYMETER_REPORT_H
#define CRYMETER_REPORT_H

#include <stdio.h>

#include "crymeter/analyzer.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_format {
    CM_FORMAT_TABLE = 0,
    CM_FORMAT_JSONL = 1,
    CM_FORMAT_CSV = 2,
    CM_FORMAT_AUDACITY = 3
} cm_format;

/* "table", "jsonl", "csv", "audacity" (exact, lower case). Returns 0 and sets *out, or -1
 * and leaves *out alone. */
int cm_format_parse(const char *name, cm_format *out);

/* Every call below writes whole records, flushes f and returns CM_E_IO if ferror(f) is set
 * (so a full disk or a closed pipe shows at the record it hit); CM_E_INVAL for a NULL f or
 * record or an unknown format/kind, with nothing written. file may be NULL (live input):
 * JSON null, empty CSV field, "-" or no prefix in the table. Records a format has no place
 * for are skipped with CM_OK: CSV and Audacity write END episodes only; summaries and
 * errors go to JSONL and the table only. Numbers: times 3 decimals, levels 2, confidence 3,
 * f0 1 (Audacity times 6); non-finite is JSON null, an empty CSV field, "-inf"/"-" in the
 * table. '.' is the decimal point whatever the locale. One FILE per thread. */

/* Header line(s), once per output stream (CSV header, table header and its '*' legend;
 * nothing for JSONL and Audacity). */
CM_NODISCARD cm_status cm_report_begin(FILE *f, cm_format fmt);
/* One episode (any event kind; JSONL writes the kind as "type": episode/start/excessive;
 * the table prints START and EXCESSIVE as one-line notices for the live monitor). */
CM_NODISCARD cm_status cm_report_event(FILE *f, cm_format fmt, const char *file,
                                       cm_event_kind kind, const cm_episode *ep);
CM_NODISCARD cm_status cm_report_summary(FILE *f, cm_format fmt, const char *file,
                                         const cm_summary *s);
CM_NODISCARD cm_status cm_report_error(FILE *f, cm_format fmt, const char *file,
                                       const char *message);

/* Writes s as a JSON string literal: " and \ escaped, control bytes as \n, \t, ... or
 * \u00XX, valid UTF-8 passed through, each invalid UTF-8 sequence replaced by U+FFFD so the
 * output is valid JSON for any bytes. NULL writes null. No flush, no error check. */
void cm_json_string(FILE *f, const char *s);
/* Writes a number as JSON with `precision` digits after the decimal point (%.*f, 0..17,
 * '.' whatever the locale, never "-0.00"); non-finite as null. No flush, no error check. */
void cm_json_number(FILE *f, double v, int precision);

#ifdef __cplusplus
}
#endif
#endif
