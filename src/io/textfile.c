/* SPDX-License-Identifier: MIT */
/* Whole-file reads (include/crymeter/textfile.h). */
#include "crymeter/textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cm_status cm_read_text_file(const char *path, size_t max_bytes, char **out, size_t *n,
                            cm_diag *why)
{
    if (!out || !n) return CM_E_INVAL;
    *out = NULL;
    *n = 0;
    if (!path) return cm_diag_fail(why, CM_E_INVAL, "cm_read_text_file: NULL path");
    FILE *f = fopen(path, "rb");
    if (!f) return cm_diag_fail(why, CM_E_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    while (buf && len <= max_bytes) {
        if (len == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return cm_diag_fail(why, CM_E_NOMEM, "%s: out of memory", path);
    cm_status st = CM_OK;
    if (err) st = cm_diag_fail(why, CM_E_IO, "%s: read error", path);
    else if (len > max_bytes)
        st = cm_diag_fail(why, CM_E_RANGE, "%s: larger than %zu bytes", path, max_bytes);
    if (st != CM_OK) {
        free(buf);
        return st;
    }
    buf[len] = 0;
    *out = buf;
    *n = len;
    return CM_OK;
}
