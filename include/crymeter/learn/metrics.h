/* SPDX-License-Identifier: MIT */
/* Learning (not linked by the runtime). Evaluation metrics (clip level and sound-event
 * detection) and the parsers of label inputs: CSV manifests (path,label[,group]) and Audacity
 * label tracks. Parsers work on text in memory (the CLI reads the files), never crash on
 * malformed input and name the line.
 *
 * Conventions follow sed_eval (Mesaros, Heittola & Virtanen 2016, "Metrics for polyphonic
 * sound event detection"): precision = TP / (TP + FP), 0 when nothing was detected; F1 = 0
 * when precision + recall = 0. Thread-safety: all functions are reentrant. */
#ifndef CRYMETER_METRICS_H
#define CRYMETER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/classes.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- counts and scores ----------------------------------------------------------------- */

typedef struct cm_counts {
    size_t tp, fp, fn, tn;
} cm_counts;

double cm_precision(cm_counts c); /* TP / (TP + FP); 0 when TP + FP == 0 */
double cm_recall(cm_counts c);    /* TP / (TP + FN); 0 when TP + FN == 0 */
double cm_f1(cm_counts c);        /* 2PR / (P + R); 0 when P + R == 0 */

/* Area under the ROC curve (Mann-Whitney U / (n_pos * n_neg), ties count one half).
 * NAN when there is no positive or no negative. Allocates a sorted copy (CM_E_NOMEM -> NAN). */
double cm_roc_auc(const float *score, const uint8_t *positive, size_t n);

typedef struct cm_pr_point {
    float threshold;          /* predicted positive when score >= threshold */
    double precision, recall;
} cm_pr_point;

/* Precision-recall curve: one point per distinct score, highest threshold first. out must
 * hold n points; returns the number written (0 on bad input or no positive). */
size_t cm_pr_curve(const float *score, const uint8_t *positive, size_t n, cm_pr_point *out);

/* ---- sound-event detection ------------------------------------------------------------- */

typedef struct cm_span {
    double onset_s, offset_s; /* offset >= onset */
} cm_span;

/* Segment-based counts (sed_eval): the time line [0, duration_s) is cut into segments of
 * seg_s; a segment is active in a list when an event overlaps it (segments
 * floor(onset/seg_s) .. ceil(offset/seg_s) - 1). Adds TP/FP/FN/TN of one file to *c. */
void cm_segment_counts(const cm_span *ref, size_t n_ref, const cm_span *est, size_t n_est,
                       double duration_s, double seg_s, cm_counts *c);

/* Event-based counts with an onset collar (sed_eval, evaluate_onset only): a reference and an
 * estimated event match when |onset difference| <= collar_s; each event matches at most once
 * (reference events in onset order each take the first unmatched estimate in onset order).
 * Adds TP, FP = n_est - TP and FN = n_ref - TP of one file to *c. */
void cm_event_counts(const cm_span *ref, size_t n_ref, const cm_span *est, size_t n_est,
                     double collar_s, cm_counts *c);

/* An episode-start announcement: where the episode starts and how much audio had been
 * pushed when its START record fired, both seconds from the start of the stream. */
typedef struct cm_announce {
    double start_s, at_s;
} cm_announce;

/* Start-record latency (monitor, issue 4): reference events in onset order each take the
 * first unused announcement, in order of at_s, whose episode start lies in
 * [onset - collar_s, offset]; their delay at_s - onset goes to lat (capacity n_ref), in
 * reference onset order. Events that no announcement starts (missed, or inside an episode
 * already announced) get none. Returns the number written. */
size_t cm_start_latencies(const cm_span *ref, size_t n_ref, const cm_announce *ann,
                          size_t n_ann, double collar_s, double *lat);

/* ---- labels ---------------------------------------------------------------------------- */

/* Maps a dataset label to a class. Accepts the class names themselves and the fine labels of
 * the shared data: cry_infant, cry_adult -> cry; speech, laugh, cough, sneeze, breath, snore,
 * scream, moan, yawn, child_voice, singing -> vocal; dog, cat, music, noise, silence, animal,
 * bird, siren, alarm, bell, home_noncry (phone audio of homes without crying: room tone,
 * TV, talk) -> background; "other" is
 * vocal (the human non-verbal sounds) unless hint (free text such as the original path or
 * note) names an animal (rooster, bird, whale, ...), then background. Case-insensitive.
 * Returns 0 and sets *out, or -1 for an unknown label. */
int cm_label_to_class(const char *label, const char *hint, cm_class *out);

#define CM_LABEL_TEXT 64

typedef struct cm_label {
    double start_s, end_s;
    char text[CM_LABEL_TEXT];
    size_t line; /* 1-based line in the file */
} cm_label;

/* Parses an Audacity label track: lines "start<TAB>end<TAB>label", times in seconds (also
 * space-separated when there is no tab); lines starting with '\' (spectral selection) and
 * blank lines are skipped. *out is malloc'ed (free it), sorted as in the file. On error
 * *out is NULL, *n_out 0 and why says "line 3: end 1.2 before start 2.5". */
CM_NODISCARD cm_status cm_labels_parse(const char *text, size_t n, cm_label **out,
                                       size_t *n_out, cm_diag *why);

typedef struct cm_manifest_row {
    const char *path;  /* as written (relative paths are the caller's to resolve) */
    const char *label; /* as written */
    const char *group; /* "" when the manifest has no group column */
    const char *source; /* the corpus the clip comes from; "" when there is no source column */
    const char *hint;  /* original_path and note columns joined, "" when absent */
    size_t line;       /* 1-based line in the file */
} cm_manifest_row;

typedef struct cm_manifest {
    cm_manifest_row *rows;
    size_t n;
    char *store; /* owns the strings */
} cm_manifest;

/* Parses a CSV manifest (RFC 4180 quoting, CRLF or LF). With a header line naming the
 * columns, path and label are required, group, source, original_path and note optional, others
 * ignored; without a header the columns are path,label[,group]. Rows with an empty path or
 * label, an unterminated quote or too few columns are errors naming the line. */
CM_NODISCARD cm_status cm_manifest_parse(const char *text, size_t n, cm_manifest **out,
                                         cm_diag *why);
void cm_manifest_free(cm_manifest *m); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
