/* SPDX-License-Identifier: MIT */
/* Runtime. Status codes and diagnostics shared by every crymeter module. Every fallible call
 * returns a cm_status; calls that can fail because of caller data or a bad file also take an
 * optional cm_diag* that receives one human sentence naming the field, the value and what was
 * expected. Nothing is kept in globals. */
#ifndef CRYMETER_STATUS_H
#define CRYMETER_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CM_NODISCARD __attribute__((warn_unused_result))
#define CM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CM_NODISCARD
#define CM_PRINTF(a, b)
#endif

typedef enum cm_status {
    CM_OK = 0,
    CM_E_INVAL = -1,  /* contract violation: NULL handle, bad argument */
    CM_E_RANGE = -2,  /* a value outside its documented range */
    CM_E_NOMEM = -3,  /* allocation failed */
    CM_E_FORMAT = -4, /* malformed file or data */
    CM_E_IO = -5,     /* read or write failed (missing file, full disk, vanished device) */
    CM_E_STATE = -6   /* call not valid in the object's current state */
} cm_status;

/* A short static English name for a status ("invalid argument", ...). Never NULL. */
const char *cm_status_str(cm_status s);

#define CM_DIAG_LEN 512
/* A caller-owned message buffer. msg is always NUL-terminated; empty when nothing was said. */
typedef struct cm_diag {
    char msg[CM_DIAG_LEN];
} cm_diag;

/* Fills why->msg (if why is not NULL) with a printf-style message. Returns `s` so a caller
 * can write `return cm_diag_fail(why, CM_E_RANGE, "hop_ms=%u: must be 1..%u", h, w);`. */
cm_status cm_diag_fail(cm_diag *why, cm_status s, const char *fmt, ...) CM_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif
#endif
