/* SPDX-License-Identifier: MIT */
/* Runtime. Nights: the JSON Lines records of `crymeter analyze` / `monitor` read back, one
 * night (or day) per recording, for `crymeter report`: the HTML night report and the per-hour
 * CSV. A recording is identified by its input and its "file" field; a record after that
 * recording's summary starts a new one (a monitor appended to the same file).
 *
 * Bad lines never stop the reading: a line that is not a crymeter record, a record of a
 * newer schema version, a truncated last line, a duplicate episode or a level record
 * going back in time (two runs interleaved) is skipped; records of one recording found
 * between another's (interleaved files) are kept under their own recording. Each gets one
 * warning naming its line. Plain data: the CLI may read and adjust the fields (e.g.
 * rewrite clip paths relative to the report). Not thread-safe; one cm_nights per thread. */
#ifndef CRYMETER_NIGHTS_H
#define CRYMETER_NIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crymeter/analyzer.h"
#include "crymeter/report.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The newest JSON Lines schema version this build reads. */
#define CM_SCHEMA_VERSION 1

typedef struct cm_night_ep {
    uint64_t id;
    cm_class cls;
    double start_s, end_s, duration_s;   /* seconds from the recording's start */
    double lufs_max, dba_max, spl_db_max; /* NAN when null */
    bool calibrated;
    unsigned excessive;                  /* CM_EXCESS_* */
    double loud_excess_db, long_excess_s;
    double confidence;
    char *words;  /* the shape (or sob pulses) in words, or NULL; owned */
    char *clip;   /* "clip" of the record (path of its WAV) or NULL; owned, replaceable
                     (free the old one, malloc the new) */
    unsigned long line;
} cm_night_ep;

typedef struct cm_night_lv {
    double start_s, end_s;
    float lufs_max, spl_db_max;  /* NAN when null (silence) */
    float cry_p;
    unsigned char cls;           /* cm_class */
} cm_night_lv;

typedef struct cm_night {
    char *file;          /* the records' "file" (NULL: live input without a name) */
    char *input;         /* path of the JSON Lines it came from */
    cm_clock clock;      /* from the first record with a "clock"; epoch NAN if none */
    double duration_s;   /* the summary's, else the latest time seen */
    bool has_summary;
    double lufs_integrated;             /* NAN unless a summary gave it */
    cm_night_ep *eps;
    size_t n_eps, cap_eps;
    cm_night_lv *lvs;
    size_t n_lvs, cap_lvs;
    double lv_last_start;               /* for the time-order check */
} cm_night;

typedef struct cm_nights {
    cm_night *v;
    size_t n, cap;
    unsigned long bad;   /* lines skipped or warned about, over all inputs */
} cm_nights;

/* Called once per bad line: path and 1-based line, and a sentence. */
typedef void (*cm_nights_warn_fn)(void *user, const char *path, unsigned long line,
                                  const char *msg);

void cm_nights_init(cm_nights *n);
void cm_nights_free(cm_nights *n); /* frees everything; n is empty after */

/* Reads every line of f (path names it in warnings and in cm_night.input). CM_E_NOMEM
 * when out of memory (what was read stays), CM_E_IO on a read error; bad lines are not
 * errors (they count in n->bad). warn may be NULL. */
CM_NODISCARD cm_status cm_nights_read(cm_nights *n, FILE *f, const char *path,
                                      cm_nights_warn_fn warn, void *user);

/* The figures of one night (cm_night_stats over its episodes, duration from the night). */
void cm_night_stats_of(const cm_night *nt, cm_night_stats *st);

typedef struct cm_html_options {
    const char *title;   /* NULL: "crymeter report" */
    unsigned width_px;   /* drawing width of the timeline's plot area, 200..4000; 0: 940 */
} cm_html_options;

/* One self-contained HTML page (inline CSS and SVG, no script, no external resource):
 * timeline with clock axis (nights aligned on one 24-hour axis), episodes coloured by
 * class with their excessive marks, the level envelope (min/max of dB(A) SPL per pixel
 * column), per-hour bars, summary figures and the episode table with clip players.
 * DOM contract (tests rely on it): one rect.ep per episode, one tr.ep-row per episode,
 * axis labels text.tick with class clock or elapsed. CM_E_IO on a write error. */
CM_NODISCARD cm_status cm_nights_write_html(const cm_nights *n, FILE *f,
                                            const cm_html_options *o);

/* Per-hour CSV, one row per night and hour (clock hours when the clock is known, else
 * hours from the start): file,input,hour_clock,hour_index,start_s,end_s,cry_s,sob_s,
 * vocal_s,cry_min,sob_min,episodes,excessive,excessive_loud,excessive_long. An episode
 * counts in the hour it starts in; its seconds are split over the hours it spans, so
 * cry_s + sob_s + vocal_s over a night's rows equals its episodes' summed durations. */
CM_NODISCARD cm_status cm_nights_write_per_hour(const cm_nights *n, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
