/* SPDX-License-Identifier: MIT */
/* Runtime. Whole-file reads for the small text files crymeter parses (model JSON, manifests,
 * Audacity label tracks). */
#ifndef CRYMETER_TEXTFILE_H
#define CRYMETER_TEXTFILE_H

#include <stddef.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads all of path into a malloc'ed buffer with a NUL after the last byte (*n bytes, not
 * counting it). A file longer than max_bytes is not read past max_bytes + 1 bytes and gives
 * CM_E_RANGE. Errors: CM_E_IO (cannot open, read error), CM_E_NOMEM, with why naming the
 * file; *out is NULL then. */
CM_NODISCARD cm_status cm_read_text_file(const char *path, size_t max_bytes, char **out,
                                         size_t *n, cm_diag *why);

#ifdef __cplusplus
}
#endif
#endif
