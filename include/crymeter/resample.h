/* SPDX-License-Identifier: MIT */
/* Runtime. Streaming sample-rate conversion of a mono float signal (libsoxr, high quality). The
 * output is aligned with the input: output sample j corresponds to time j / out_rate (the
 * converter's filter delay is removed). After flush, the total output length is round(n_in *
 * out_rate / in_rate). Output samples are independent of how the input is chunked; how many come
 * out per call is not (soxr releases in blocks: up to ~1430 samples at the lower rate are held
 * back, e.g. 40 ms for 44.1 -> 16 kHz, which is the added latency). Passband flat within 0.01 dB
 * to 0.91 of the lower Nyquist (7.3 kHz for 16 kHz output), aliasing below -130 dB. One object
 * per stream; objects on different threads are independent and give the same samples as one
 * thread (where libsoxr's engine shares state across the process, as on arm64, its calls
 * take one process-wide lock, so they run one at a time). */
#ifndef CRYMETER_RESAMPLE_H
#define CRYMETER_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_rs cm_rs;

/* Rates 8000..192000 Hz (CM_E_RANGE otherwise, with why naming the field). When in == out the
 * converter is a copy. CM_E_NOMEM if soxr cannot be set up. */
CM_NODISCARD cm_status cm_rs_create(unsigned in_rate_hz, unsigned out_rate_hz, cm_rs **out,
                                    cm_diag *why);
void cm_rs_destroy(cm_rs *r);
/* Worst-case output length for one process call with n input samples, or for flush with
 * n = 0. It depends only on n and the rates, never on the stream's state, so a buffer sized
 * once for the largest block stays valid: ceil(n * out / in) + a fixed slack (n when in == out). */
size_t cm_rs_out_for(const cm_rs *r, size_t n_in);
/* Consumes all n input samples; writes *n_out <= out_cap samples. CM_E_RANGE if
 * out_cap < cm_rs_out_for(r, n) (nothing consumed). CM_E_STATE after flush or if soxr fails.
 * *n_out is 0 on any failure. */
CM_NODISCARD cm_status cm_rs_process(cm_rs *r, const float *in, size_t n, float *out,
                                     size_t out_cap, size_t *n_out);
/* Ends the stream and emits the tail; out_cap >= cm_rs_out_for(r, 0) (else CM_E_RANGE).
 * Afterwards cm_rs_process returns CM_E_STATE and a second flush emits nothing. */
CM_NODISCARD cm_status cm_rs_flush(cm_rs *r, float *out, size_t out_cap, size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif
