/* SPDX-License-Identifier: MIT */
/* Runtime. The sound classes every stage speaks of (the detector's windows, the analyzer's
 * episodes, reports, model files and label manifests) and their names. A header of its own
 * so that a stage can name a class without knowing the pipeline it runs in (analyzer.h).
 * Thread-safety: the functions are reentrant. */
#ifndef CRYMETER_CLASSES_H
#define CRYMETER_CLASSES_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_class {
    CM_CLASS_BACKGROUND = 0,
    CM_CLASS_VOCAL = 1, /* speech, laughter, scream, cough and other human sounds */
    CM_CLASS_CRY = 2,
    CM_CLASS_SOB = 3,
    CM_N_CLASSES = 4
} cm_class;

/* "background", "vocal", "cry", "sob"; "?" for anything else. */
const char *cm_class_name(cm_class c);
/* Parses a class name; returns 0 and sets *out, or -1. */
int cm_class_parse(const char *name, cm_class *out);

#ifdef __cplusplus
}
#endif
#endif
