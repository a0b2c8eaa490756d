/* SPDX-License-Identifier: MIT */
/* Status names and the diagnostic helper shared by every module. */
#include "crymeter/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *cm_status_str(cm_status s)
{
    switch (s) {
    case CM_OK: return "ok";
    case CM_E_INVAL: return "invalid argument";
    case CM_E_RANGE: return "value out of range";
    case CM_E_NOMEM: return "out of memory";
    case CM_E_FORMAT: return "malformed data";
    case CM_E_IO: return "input/output error";
    case CM_E_STATE: return "call not valid in this state";
    }
    return "unknown status";
}

cm_status cm_diag_fail(cm_diag *why, cm_status s, const char *fmt, ...)
{
    if (why) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why->msg, sizeof why->msg, fmt, ap);
        va_end(ap);
    }
    return s;
}
