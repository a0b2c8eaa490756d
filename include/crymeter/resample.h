/* SPDX-License-Identifier: MIT */
/* Streaming sample-rate conversion of a mono float signal (libsoxr, high quality).
 * The output is aligned with the input: output sample j corresponds to time j / out_rate
 * (the converter's filter delay is removed). After flush, the total output length is
 * round(n_in * out_rate / in_rate). Output is independent of how the input is chunked. */
#ifndef CRYMETER_RESAMPLE_H
#define CRYMETER_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_rs cm_rs;

/* Rates 8000..192000 Hz. When in == out the converter is a copy. */
CM_NODISCARD cm_status cm_rs_create(unsigned in_rate_hz, unsigned out_rate_hz, cm_rs **out,
                                    cm_diag *why);
void cm_rs_destroy(cm_rs *r);
/* Worst-case output length for n more input samples (for sizing out). */
size_t cm_rs_out_for(const cm_rs *r, size_t n_in);
/* Consumes all n input samples; writes *n_out <= out_cap samples. CM_E_RANGE if
 * out_cap < cm_rs_out_for(r, n). */
CM_NODISCARD cm_status cm_rs_process(cm_rs *r, const float *in, size_t n, float *out,
                                     size_t out_cap, size_t *n_out);
/* Emits the tail; out_cap >= cm_rs_out_for(r, 0). */
CM_NODISCARD cm_status cm_rs_flush(cm_rs *r, float *out, size_t out_cap, size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif
