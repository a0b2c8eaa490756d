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

/* "table", "jsonl", "csv", "audacity" */
int cm_format_parse(const char *name, cm_format *out);

/* Header line(s), once per output stream (CSV header, table header; nothing for JSONL). */
CM_NODISCARD cm_status cm_report_begin(FILE *f, cm_format fmt);
/* One episode (any event kind; JSONL writes the kind as "type": episode/start/excessive). */
CM_NODISCARD cm_status cm_report_event(FILE *f, cm_format fmt, const char *file,
                                       cm_event_kind kind, const cm_episode *ep);
CM_NODISCARD cm_status cm_report_summary(FILE *f, cm_format fmt, const char *file,
                                         const cm_summary *s);
CM_NODISCARD cm_status cm_report_error(FILE *f, cm_format fmt, const char *file,
                                       const char *message);

/* Writes s as a JSON string literal (quotes, escapes, valid UTF-8 passed through). */
void cm_json_string(FILE *f, const char *s);
/* Writes a number as JSON: finite with %.*g, non-finite as null. */
void cm_json_number(FILE *f, double v, int precision);

#ifdef __cplusplus
}
#endif
#endif
