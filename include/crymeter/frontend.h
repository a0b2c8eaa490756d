/* SPDX-License-Identifier: MIT */
/* Runtime. Frame front end: 8 kHz mono float in, one cm_frame of spectral features per 10 ms
 * hop out. Every feature lies below 4 kHz (mel bands, spectral shape, pitch up to 1 kHz), so
 * the front end runs at 8 kHz: 8 kHz phone uploads and wide-band recordings give the same
 * features, and a 256-point FFT costs half of the 512-point one a 16 kHz front end needs for
 * the same 31.25 Hz bins (kissfft was most of the front end's time; bench/README.md).
 *
 * Frame k covers input samples [k*hop, k*hop + win) (no centring), Hann-windowed, real FFT
 * (kissfft, zero-padded to nfft). Its centre time is (k*hop + win/2) / rate seconds.
 * cm_front_process consumes all input and emits every frame whose window is complete;
 * cm_front_flush zero-pads the tail and emits the remaining frames so that every input
 * sample lies in at least one frame: after n samples in total, exactly ceil(n / hop) frames
 * have been emitted (0 when n == 0).
 * Output is identical whatever the chunking of the input (streaming invariance). */
#ifndef CRYMETER_FRONTEND_H
#define CRYMETER_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_FRONT_RATE_HZ 8000u
#define CM_FRONT_WIN_SAMPLES 200u /* 25 ms */
#define CM_FRONT_HOP_SAMPLES 80u  /* 10 ms */
#define CM_FRONT_MAX_MEL 64u

typedef struct cm_frame {
    uint64_t index;                  /* k: frame number from the start of input */
    unsigned n_mel;                  /* number of valid entries in mel_db */
    float mel_db[CM_FRONT_MAX_MEL];  /* 10*log10(mel band power), power of a full-scale
                                        square wave = 0 dB; floored at -120 dB */
    float centroid_hz;               /* power-weighted mean frequency in [fmin_hz, fmax_hz] */
    float flatness;                  /* 0..1, geometric / arithmetic mean of power spectrum
                                        in [fmin_hz, fmax_hz] */
    float rolloff_hz;                /* frequency below which 85 % of [fmin,fmax] power lies */
    float flux;                      /* >= 0, mean positive change of mel_db from the previous
                                        frame, dB (0 for frame 0) */
    float rms_dbfs;                  /* 20*log10(RMS of the unwindowed frame); full-scale
                                        square = 0 dBFS, full-scale sine = -3.01; floor -120 */
    float f0_hz;                     /* fundamental in [f0_min_hz, f0_max_hz]; 0 if unvoiced */
    float voicing;                   /* 0..1 periodicity strength (normalised autocorrelation
                                        peak); meaningful even when f0_hz == 0 */
} cm_frame;

typedef struct cm_front_config {
    unsigned n_mel;     /* mel bands, 8..CM_FRONT_MAX_MEL; default 40 */
    float fmin_hz;      /* lower edge of mel and spectral-shape range, 0..3900; default 50 */
    float fmax_hz;      /* upper edge, fmin_hz+100..4000 (the Nyquist frequency); default
                           3500: inside the passband of every source (telephony keeps
                           300-3400 Hz, the resampler 0-3.64 kHz at 8 kHz), so the top band
                           does not tell 8 kHz uploads from wide-band recordings */
    float f0_min_hz;    /* pitch search range, 146..2000; default 150 (adult speech). Lower
                           pitch would need lags beyond the 25 ms frame's reach */
    float f0_max_hz;    /* default 1000 (infant cry); must be > f0_min_hz, <= 2000 */
    float voicing_threshold; /* 0..1: f0_hz is 0 below this voicing; default 0.45 */
} cm_front_config;

typedef struct cm_front cm_front;

cm_front_config cm_front_config_default(void);

/* Allocates everything; process never allocates. Returns CM_E_RANGE with why for a bad field. */
CM_NODISCARD cm_status cm_front_create(const cm_front_config *cfg, cm_front **out, cm_diag *why);
void cm_front_destroy(cm_front *f); /* NULL is a no-op */
void cm_front_reset(cm_front *f);   /* back to t=0, same config */

/* Worst-case number of frames produced by pushing n more samples (for sizing `out`): the
 * frames process emits plus those a flush right after would emit, i.e.
 * ceil((samples_in + n) / hop) - frames emitted so far; 0 after flush. */
size_t cm_front_frames_for(const cm_front *f, size_t n_samples);

/* Consumes all n samples (8 kHz mono, full scale +-1). Writes up to out_cap frames to out and
 * their number to *n_out. CM_E_RANGE if out_cap < cm_front_frames_for(f, n) (nothing consumed). */
CM_NODISCARD cm_status cm_front_process(cm_front *f, const float *x, size_t n, cm_frame *out,
                                        size_t out_cap, size_t *n_out);
/* Emits the remaining frames (exactly cm_front_frames_for(f, 0); CM_E_RANGE if out_cap is
 * smaller). Further process calls are CM_E_STATE until reset; a second flush emits nothing. */
CM_NODISCARD cm_status cm_front_flush(cm_front *f, cm_frame *out, size_t out_cap, size_t *n_out);

/* Samples pushed so far. */
uint64_t cm_front_samples_in(const cm_front *f);

#ifdef __cplusplus
}
#endif
#endif
