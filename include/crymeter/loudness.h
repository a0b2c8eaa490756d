/* SPDX-License-Identifier: MIT */
/* Runtime. Level measurement on the original channels at the native rate.
 *
 * cm_loud: ITU-R BS.1770-4 / EBU R 128 loudness through libebur128 (momentary 400 ms,
 * short-term 3 s, integrated, loudness range, sample peak, true peak). It runs libebur128 in
 * histogram mode, so memory is constant whatever the input length.
 *
 * cm_aw: IEC 61672-1 A-weighting followed by Fast (125 ms) exponential time weighting, on a
 * mono signal at the native rate. Levels are dB re full scale: a full-scale 1 kHz sine reads
 * -3.01 dB (A-weighting is 0 dB at 1 kHz). dB(A) SPL = this level + a calibration offset.
 *
 * Silence is -INFINITY (LUFS or dB), never a sentinel number. */
#ifndef CRYMETER_LOUDNESS_H
#define CRYMETER_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_RATE_MIN_HZ 8000u
#define CM_RATE_MAX_HZ 192000u
#define CM_CHANNELS_MAX 64u

typedef struct cm_loud cm_loud;

/* rate_hz in CM_RATE_MIN_HZ..CM_RATE_MAX_HZ, channels 1..CM_CHANNELS_MAX (CM_E_RANGE
 * otherwise; CM_E_NOMEM). With true_peak false the true peak is not measured
 * (cm_loud_true_peak_dbtp gives NAN): it costs an oversampler per channel, about 3x the
 * meter's time. Not thread-safe against other cm_loud_create calls (libebur128's init writes
 * shared tables): create on one thread.
 * Channel weights (BS.1770): 1 channel: weight 1 (not dual mono); 2: L R; 5: L R C Ls Rs and
 * 6: L R C LFE Ls Rs (ITU order; LFE ignored, surrounds +1.5 dB); any other count (3, 4,
 * 7..64, e.g. a microphone array): every channel weight 1, none ignored. */
CM_NODISCARD cm_status cm_loud_create(unsigned rate_hz, unsigned channels, int true_peak,
                                      cm_loud **out, cm_diag *why);
void cm_loud_destroy(cm_loud *l); /* NULL is a no-op */

/* Adds n interleaved frames (n * channels floats, full scale +-1, finite). */
CM_NODISCARD cm_status cm_loud_add(cm_loud *l, const float *interleaved, size_t n_frames);

/* The queries below return NAN for a NULL handle. Momentary is cheap at every 100 ms of
 * input (at rates that are a multiple of 10 Hz: the mean of four kept 100 ms energies);
 * elsewhere it, and short-term always, sum the last 400 ms / 3 s of filtered audio again, so
 * query them at most every 100 ms (query short-term rarely: every 100 ms costs ~7x the meter
 * itself at 44.1 kHz stereo). */
double cm_loud_momentary_lufs(const cm_loud *l);  /* last 400 ms; -INFINITY when silent */
double cm_loud_shortterm_lufs(const cm_loud *l);  /* last 3 s */
double cm_loud_integrated_lufs(const cm_loud *l); /* gated, whole input so far */
double cm_loud_range_lu(const cm_loud *l);        /* EBU Tech 3342 LRA; 0 if too short */
double cm_loud_sample_peak_dbfs(const cm_loud *l);/* max over channels of |x|, dBFS */
double cm_loud_true_peak_dbtp(const cm_loud *l);  /* max over channels, dBTP; NAN if off */

typedef struct cm_aw cm_aw;

/* rate_hz in CM_RATE_MIN_HZ..CM_RATE_MAX_HZ (CM_E_RANGE; CM_E_NOMEM). The response follows
 * the analog IEC curve within 0.2 dB up to 10 kHz at 44.1/48 kHz, and within 1.0 dB below
 * 0.45 rate_hz at any rate; at low rates the band above Nyquist simply does not exist. */
CM_NODISCARD cm_status cm_aw_create(unsigned rate_hz, cm_aw **out, cm_diag *why);
void cm_aw_destroy(cm_aw *a); /* NULL is a no-op */
void cm_aw_reset(cm_aw *a);
/* Filters n mono samples. If ms_max is not NULL it receives the maximum, over the n samples,
 * of the Fast time-weighted mean square of the A-weighted signal (linear, full-scale square
 * = 1; 0 for n == 0). State carries over between calls. */
void cm_aw_process(cm_aw *a, const float *x, size_t n, double *ms_max);
/* Current Fast time-weighted mean square (linear). */
double cm_aw_ms(const cm_aw *a);
/* Magnitude response of the digital A-weighting filter at f_hz, in dB (for tests and docs). */
double cm_aw_response_db(const cm_aw *a, double f_hz);

/* Largest |x[i]| of n samples (0 for n == 0), or +INFINITY when any is NaN or Inf. */
float cm_peak_abs(const float *x, size_t n);

/* 10*log10(ms), -INFINITY for 0. */
double cm_db_from_ms(double ms);

#ifdef __cplusplus
}
#endif
#endif
