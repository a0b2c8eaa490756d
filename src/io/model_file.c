/* SPDX-License-Identifier: MIT */
/* Model files on disk (model_file.h): the thin loader above the model, which parses and
 * writes buffers only (src/detect/model.c), so that the detector's room touches no files. */
#include "crymeter/model_file.h"

#include <errno.h>
#include <unistd.h>

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
    /* Written beside the target and renamed over it: a full disk or a crash leaves the old
     * model whole instead of a truncated one that no monitor could load. */
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 32);
    if (!tmp) {
        free(s);
        return cm_diag_fail(why, CM_E_NOMEM, "model: out of memory while writing");
    }
    snprintf(tmp, pl + 32, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(s), free(tmp);
        return cm_diag_fail(why, CM_E_IO, "%s: cannot create", path);
    }
    size_t len = strlen(s);
    int bad = fwrite(s, 1, len, f) != len || fputc('\n', f) == EOF;
    bad |= fflush(f) != 0;
    bad |= fclose(f) != 0;
    free(s);
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return cm_diag_fail(why, CM_E_IO, "%s: write failed: %s", path, strerror(e));
    }
    free(tmp);
    return CM_OK;
}
