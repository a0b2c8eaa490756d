/* SPDX-License-Identifier: MIT */
/* Model files on disk (model_file.h): the thin loader above the model, which parses and
 * writes buffers only (src/detect/model.c), so that the detector's room touches no files. */
#include "crymeter/model_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/model.h"
#include "crymeter/textfile.h"

cm_status cm_model_load_file(const char *path, cm_model **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!path) return cm_diag_fail(why, CM_E_INVAL, "model: NULL path");
    char *buf = NULL;
    size_t n = 0;
    cm_status rs = cm_read_text_file(path, CM_MODEL_MAX_BYTES, &buf, &n, why);
    if (rs != CM_OK) return rs;
    cm_diag inner = {{0}};
    cm_status st = cm_model_load_buffer(buf, n, out, &inner);
    free(buf);
    if (st != CM_OK) return cm_diag_fail(why, st, "%s: %s", path, inner.msg);
    return CM_OK;
}

cm_status cm_model_save_file(const cm_model *m, const char *path, cm_diag *why)
{
    if (!m || !path) return cm_diag_fail(why, CM_E_INVAL, "model: NULL argument");
    char *s = cm_model_to_json(m);
    if (!s) return cm_diag_fail(why, CM_E_NOMEM, "model: out of memory while writing");
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(s);
        return cm_diag_fail(why, CM_E_IO, "%s: cannot create", path);
    }
    size_t len = strlen(s);
    int bad = fwrite(s, 1, len, f) != len || fputc('\n', f) == EOF;
    bad |= fclose(f) != 0;
    free(s);
    if (bad) return cm_diag_fail(why, CM_E_IO, "%s: write failed", path);
    return CM_OK;
}
