/* SPDX-License-Identifier: MIT */
/* Runtime. Model files on disk: reading a model from a path and writing one, around the
 * model's own buffer parser and writer (crymeter/classifier.h, crymeter/model.h).
 * Thread-safety: reentrant; a loaded model is read-only and shareable (classifier.h). */
#ifndef CRYMETER_MODEL_FILE_H
#define CRYMETER_MODEL_FILE_H

#include "crymeter/classifier.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads path (at most CM_MODEL_MAX_BYTES) and parses it with cm_model_load_buffer. On failure
 * *out is NULL: CM_E_IO (cannot open or read; why names the file), CM_E_RANGE (larger than
 * CM_MODEL_MAX_BYTES), CM_E_NOMEM, or the parser's status with why "PATH: <its message>";
 * CM_E_INVAL for a NULL path or out. */
CM_NODISCARD cm_status cm_model_load_file(const char *path, cm_model **out, cm_diag *why);
/* Writes the model as JSON (cm_model_to_json) and a newline to path, replacing the file.
 * CM_E_INVAL for NULL arguments, CM_E_NOMEM, CM_E_IO (cannot create, write failed; why names
 * the file). */
CM_NODISCARD cm_status cm_model_save_file(const cm_model *m, const char *path, cm_diag *why);

#ifdef __cplusplus
}
#endif
#endif
