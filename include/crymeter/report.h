/* SPDX-License-Identifier: MIT */
/* Runtime. Episode reporters: one writer per output format, each writing to a caller-owned
 * FILE*. JSON Lines (schema version 1, documented in README.md), CSV, Audacity label track
 * and a human table. Every call returns CM_E_IO when the stream reports a write error (a full
 * disk), so the caller can stop and say so; records written before stay written. */
#ifndef CRYMETER_REPORT_H
#define CRYMETER_REPORT_H

#include <limits.h>
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
    CM_FORMAT_AUDACITY = 3,
    CM_FORMAT_RTTM = 4, /* SPEAKER lines, class as the speaker name (src/report/rttm.c) */
    CM_FORMAT_TEXTGRID = 5, /* Praat TextGrid: one document per recording (cm_report_document) */
    CM_FORMAT_EAF = 6       /* ELAN EAF 3.0: the same */
} cm_format;

/* "table", "jsonl", "csv", "audacity", "rttm", "textgrid", "eaf" (exact, lower case). Returns 0 and sets *out, or -1
 * and leaves *out alone. */
int cm_format_parse(const char *name, cm_format *out);

/* Every call below writes whole records, flushes f and returns CM_E_IO if ferror(f) is set
 * (so a full disk or a closed pipe shows at the record it hit); CM_E_INVAL for a NULL f or
 * record or an unknown format/kind, with nothing written. file may be NULL (live input):
 * JSON null, empty CSV field, "-" or no prefix in the table. Records a format has no place
 * for are skipped with CM_OK: CSV, Audacity and RTTM write END episodes only (RTTM not
 * background ones); summaries and
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

/* ---- whole-recording documents (Praat TextGrid, ELAN EAF) ---------------------------------- */

/* 1 for a format written as one document per recording (CM_FORMAT_TEXTGRID, CM_FORMAT_EAF):
 * its header needs the recording's duration. cm_report_begin, _event, _summary and _error write nothing
 * for it (CM_OK); the caller collects the END episodes with cm_doc_add and writes the
 * document with cm_report_document once the summary is known. */
int cm_format_is_document(cm_format fmt);

typedef struct cm_doc_span {
    double start_s, end_s;
    cm_class cls;
    unsigned excessive; /* CM_EXCESS_* bits */
} cm_doc_span;
typedef struct cm_doc {
    cm_doc_span *v; /* malloc'ed */
    size_t n, cap;
} cm_doc;              /* zero-initialise; free with cm_doc_free */

/* Keeps a cry, sob or vocal episode (background and spans without a finite positive length
 * are skipped: CM_OK). CM_E_NOMEM when it cannot grow; CM_E_INVAL for NULL. */
CM_NODISCARD cm_status cm_doc_add(cm_doc *d, const cm_episode *ep);
void cm_doc_free(cm_doc *d);
/* Writes the whole document for one recording of duration_s seconds (NAN or 0 when unknown:
 * the last episode's end is used; at least 1 ms). TextGrid: an interval tier per class (cry,
 * sob, vocal) and one of the excessive reasons, each tiling 0..duration. EAF: the same tiers
 * with an annotation per episode, time slots in ms in ascending order, the media file named
 * by `file` (an absolute file:// URL and one relative to the .eaf; none for NULL or "-") and
 * DATE the time of writing. CM_E_INVAL for a format that is not a document format. */
CM_NODISCARD cm_status cm_report_document(FILE *f, cm_format fmt, const char *file,
                                          double duration_s, const cm_doc *d);

/* ---- wall-clock time ------------------------------------------------------------------- */

/* The wall-clock time of a stream's audio time 0 s, when known (monitor: the capture start;
 * analyze: --start or the file's recording time). Records then carry a "clock" field: the
 * ISO 8601 time of their start_s (t_s) with its UTC offset, "2026-12-01T21:03:05.250+01:00". */
#define CM_CLOCK_LOCAL INT_MIN
typedef struct cm_clock {
    double epoch_s;   /* Unix time (UTC seconds) of audio time 0; NAN: unknown, no clock */
    int offset_min;   /* UTC offset to print, minutes (-1080..1080), or CM_CLOCK_LOCAL: the
                         process's local zone at each instant (so a night that crosses a
                         daylight-saving change prints both offsets) */
} cm_clock;

/* A clock that is not known (epoch NAN). */
cm_clock cm_clock_none(void);
/* 1 when c is non-NULL and its epoch is finite. */
int cm_clock_known(const cm_clock *c);
/* Parses "YYYY-MM-DD[T ]HH:MM[:SS[.fff]]" with an optional "Z" or "+HH:MM" / "-HH[:]MM".
 * Without an offset the time is local (the process's zone, as mktime reads it) and
 * offset_min is CM_CLOCK_LOCAL. Returns 0 and sets *out, or -1 (bad syntax or field out of
 * range) and leaves *out alone. */
int cm_clock_parse(const char *s, cm_clock *out);
/* Writes the ISO 8601 time of audio time t_s (milliseconds, offset "+01:00" or "Z" never:
 * always +HH:MM) into buf. Returns the length, or 0 (buf "") when the clock is unknown, t_s
 * is not finite or cap is too small (32 bytes always suffice). */
size_t cm_clock_format(char *buf, size_t cap, const cm_clock *c, double t_s);
/* UTC offset in minutes that cm_clock_format prints for t_s (the local zone's, resolved,
 * when offset_min is CM_CLOCK_LOCAL); 0 when unknown. */
int cm_clock_offset_at(const cm_clock *c, double t_s);

/* ---- level track ----------------------------------------------------------------------- */

/* One level record: the analyzer's 100 ms track readings (cm_level) over one step of
 * step_blocks blocks, aggregated. Times are block edges, so the records are identical
 * whatever the caller's chunking. */
typedef struct cm_level_rec {
    double start_s, end_s;       /* end of the block before the first, end of the last */
    double lufs_momentary_max;   /* LUFS, max of the momentary readings; -INFINITY silent */
    double dba_max;              /* dB(A) re FS, Fast, max */
    double spl_db_max;           /* dba_max + the SPL offset */
    bool calibrated;             /* whether spl_db_max rests on a calibration */
    cm_class cls;                /* cry if any reading in the step was cry, else vocal if any,
                                    else background (readings of cm_analyzer_config.on_track:
                                    the detector's windows centred in the block) */
    float cry_p;                 /* max probability of cry of those windows */
} cm_level_rec;

typedef struct cm_level_acc {
    unsigned step_blocks;        /* readings per record, >= 1 */
    bool calibrated;
    unsigned n;                  /* readings in the record being built */
    double t_end;                /* end of the last record written */
    cm_level_rec cur;
} cm_level_acc;

/* step_s: 0.1..3600 s, rounded to whole 100 ms blocks. Returns CM_E_RANGE for others. */
CM_NODISCARD cm_status cm_level_acc_init(cm_level_acc *acc, double step_s, bool calibrated);
/* Adds one reading; returns 1 and fills *out when it completes a record, else 0. */
int cm_level_acc_push(cm_level_acc *acc, const cm_level *lv, cm_level_rec *out);
/* End of input: returns 1 and fills *out with the partial record in progress, else 0. */
int cm_level_acc_flush(cm_level_acc *acc, cm_level_rec *out);

/* ---- records with a clock ---------------------------------------------------------------- */

/* The same as cm_report_event / cm_report_summary, plus: clk (may be NULL) adds "clock" to
 * JSONL records (the clock of start_s; for a summary of audio time 0) and makes the table
 * print clock times; clip (may be NULL) adds "clip": the path of the episode's WAV clip
 * (monitor --clips) to JSONL episode records. cm_report_event is this with NULL, NULL. */
CM_NODISCARD cm_status cm_report_event_at(FILE *f, cm_format fmt, const char *file,
                                          const cm_clock *clk, const char *clip,
                                          cm_event_kind kind, const cm_episode *ep);
CM_NODISCARD cm_status cm_report_summary_at(FILE *f, cm_format fmt, const char *file,
                                            const cm_clock *clk, const cm_summary *s);
/* One level record. JSONL: a "level" record; CSV: one row of the level table (see
 * cm_report_level_csv_begin for its header; it is a table of its own, not the episode
 * CSV's); the table and Audacity formats skip it (CM_OK). */
CM_NODISCARD cm_status cm_report_level(FILE *f, cm_format fmt, const char *file,
                                       const cm_clock *clk, const cm_level_rec *lv);
CM_NODISCARD cm_status cm_report_level_csv_begin(FILE *f);

/* ---- per-file figures a person asks first ------------------------------------------------ */

typedef struct cm_night_stats {
    double duration_s;                    /* recording length (summary), NAN unknown */
    unsigned n[CM_N_CLASSES];             /* episodes by class */
    double time_s[CM_N_CLASSES];          /* summed durations by class */
    unsigned excessive, excessive_loud, excessive_long;
    double longest_s, longest_start_s;    /* NAN when no episode */
    cm_class longest_cls;
    double loudest_spl_db, loudest_dba, loudest_lufs, loudest_start_s; /* NAN when none */
    bool loudest_calibrated;
    cm_class loudest_cls;
    double first_start_s, last_start_s;   /* NAN when no episode */
} cm_night_stats;

void cm_night_stats_init(cm_night_stats *st);
/* Adds one completed episode (its start, duration, class, levels and excessive bits). */
void cm_night_stats_add(cm_night_stats *st, const cm_episode *ep);
/* One line for a person, after a file's table rows: "FILE: crying 0:00:24.0 (38.7 % of
 * 0:01:02.0); episodes: cry 2, vocal 1; longest cry 14.0 s at 0:00:04.2; loudest cry
 * 85.6 dB(A) SPL* at 0:00:04.2 (-13.6 LUFS); excessive 2 (loud 2)". Times are clock times
 * when clk is known. */
CM_NODISCARD cm_status cm_report_stats_line(FILE *f, const char *file, const cm_clock *clk,
                                            const cm_night_stats *st);

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
