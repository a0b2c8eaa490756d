/* SPDX-License-Identifier: MIT */
/* Runtime. The analyzer's path from decoded audio to frame features, defined once for
 * cm_analyzer and for the learning code (calibrate, evaluate), so that a model is trained and
 * measured on exactly the features that analysis computes:
 *
 *   native-rate interleaved float blocks
 *     -> cm_fpath_clean     NaN, Inf and |x| > CM_SAMPLE_LIMIT replaced by 0
 *     -> cm_fpath_mono      channel mean
 *     -> cm_fpath_resample  to CM_FRONT_RATE_HZ (cm_rs: output independent of chunking)
 *     -> cm_front           frames (cm_fpath_frames for a whole signal)
 *
 * cm_fpath_push runs the first three steps on one block; the analyzer calls the steps one by
 * one because it also measures levels on the cleaned block and its channel mean and may
 * resample on its front-end thread.
 * Thread-safety: the free functions are reentrant; a cm_fpath belongs to one thread at a
 * time. */
#ifndef CRYMETER_FEATPATH_H
#define CRYMETER_FEATPATH_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/frontend.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest sample magnitude analysed: 65536 = +96.3 dBFS. Float files may exceed full
 * scale, but nothing recorded reaches this; such values come from damaged files (random
 * bytes read as float) and would overflow the single-precision stages (squares beyond
 * 3.4e38 from |x| > 1.8e19) into infinite levels and invented episodes. */
#define CM_SAMPLE_LIMIT 65536.0f

/* Replaces the non-finite samples of x (n samples, any layout) and the finite ones beyond
 * +-CM_SAMPLE_LIMIT by 0, in place, and adds their numbers to *n_nonfinite and *n_overrange
 * (either may be NULL). Returns the largest magnitude left (0 when n is 0). Never allocates. */
float cm_fpath_clean(float *x, size_t n, uint64_t *n_nonfinite, uint64_t *n_overrange);

/* Channel mean of n_frames interleaved frames of channels (>= 1) channels: the sum times
 * 1/channels. Returns x itself when channels is 1, else out (n_frames floats). */
const float *cm_fpath_mono(const float *x, size_t n_frames, unsigned channels, float *out);

typedef struct cm_fpath cm_fpath;

/* A path for a stream of rate_hz (8000..192000) audio with channels (1..64) channels, in
 * blocks of at most max_block_frames frames (>= 1) for cm_fpath_push. CM_E_RANGE (why names
 * the field), CM_E_NOMEM. On failure *out is NULL. */
CM_NODISCARD cm_status cm_fpath_create(unsigned rate_hz, unsigned channels,
                                       size_t max_block_frames, cm_fpath **out, cm_diag *why);
void cm_fpath_destroy(cm_fpath *p); /* NULL is a no-op */
/* Worst-case CM_FRONT_RATE_HZ samples out of one resample or push call with n input frames,
 * or out of flush with n = 0 (cm_rs_out_for). */
size_t cm_fpath_out_for(const cm_fpath *p, size_t n);
/* Resamples n native-rate mono samples (any n) to CM_FRONT_RATE_HZ: *n_out <= out_cap
 * samples. Errors as cm_rs_process (CM_E_RANGE when out_cap < cm_fpath_out_for(p, n),
 * CM_E_STATE after flush); *n_out is 0 then. */
CM_NODISCARD cm_status cm_fpath_resample(cm_fpath *p, const float *mono, size_t n, float *out,
                                         size_t out_cap, size_t *n_out);
/* Cleans (in place), mixes down and resamples one block of n_frames <= max_block_frames
 * interleaved frames. CM_E_RANGE when n_frames > max_block_frames (nothing consumed); else
 * as cm_fpath_resample. */
CM_NODISCARD cm_status cm_fpath_push(cm_fpath *p, float *x, size_t n_frames, float *out,
                                     size_t out_cap, size_t *n_out);
/* End of input: the resampler's tail (out_cap >= cm_fpath_out_for(p, 0)); as cm_rs_flush. */
CM_NODISCARD cm_status cm_fpath_flush(cm_fpath *p, float *out, size_t out_cap, size_t *n_out);

/* The frames of a whole CM_FRONT_RATE_HZ mono signal (n samples) under fc: cm_front's process
 * and flush, the frames the analyzer's streaming front end gives for the same samples. *out
 * is malloc'ed (caller frees; at least one element even when *n_out is 0). CM_E_RANGE (why
 * from cm_front_create), CM_E_NOMEM; on failure *out is NULL and *n_out 0. */
CM_NODISCARD cm_status cm_fpath_frames(const cm_front_config *fc, const float *x, size_t n,
                                       cm_frame **out, size_t *n_out, cm_diag *why);

#ifdef __cplusplus
}
#endif
#endif
