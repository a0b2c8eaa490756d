/* SPDX-License-Identifier: MIT */
/* Learning (not linked by the runtime). Sob generator: physically plausible, deterministic
 * sob sequences with exact event times, for tests and for calibrating the shape stage
 * (shape.h) without labelled recordings.
 *
 * A sequence is a train of breath cycles starting at lead_s. Each cycle begins with an
 * inhalation pulse (white noise band-passed to 500..4000 Hz, 10 ms linear attack, then an
 * exponential decay to -12 dB at its end, 50..400 ms). After a short gap comes a voiced
 * exhalation (a harmonic tone with 1/k amplitudes, F0 rising from f0_lo_hz to f0_hi_hz and
 * falling back along half a sine, 0.3..1.4 s, 30 ms raised-cosine attack, 60 ms release).
 * Cycle periods are 1/pulse_rate_hz times (1 + jitter * u), u uniform with unit variance
 * (u in [-sqrt 3, sqrt 3]), so jitter is the coefficient of variation of the periods.
 * The background (white or pink noise) is scaled so that the mean power of the signal over
 * the samples where any element sounds, divided by the noise power, is snr_db.
 * Everything comes from one xorshift64* generator seeded with seed. */
#ifndef CRYMETER_SOBGEN_H
#define CRYMETER_SOBGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_sobgen_noise {
    CM_SOBGEN_NOISE_NONE = 0,
    CM_SOBGEN_NOISE_WHITE = 1,
    CM_SOBGEN_NOISE_PINK = 2 /* -3 dB/octave (Kellet's filter) */
} cm_sobgen_noise;

typedef enum cm_sobgen_kind {
    CM_SOBGEN_INHALE = 0,
    CM_SOBGEN_EXHALE = 1
} cm_sobgen_kind;

typedef struct cm_sobgen_config {
    unsigned rate_hz;         /* 8000..96000; default 16000 */
    double duration_s;        /* total length, 0.1..86400; default 20 */
    double lead_s;            /* silence (background only) before the first cycle; default 1 */
    double tail_s;            /* no cycle starts in the last tail_s seconds; default 1 */
    double pulse_rate_hz;     /* cycles per second, 0.1..5; default 0.8 */
    double jitter;            /* CV of the cycle periods, 0..0.55; default 0.05 */
    double inhale_min_ms, inhale_max_ms; /* 20..1000; default 120..300 */
    double exhale_min_s, exhale_max_s;   /* 0.05..5; default 0.3..1.4 (shortened to fit the
                                            cycle, keeping 150 ms of silence at its end) */
    double gap_ms;            /* inhalation end to exhalation start, 0..1000; default 80 */
    double f0_lo_hz, f0_hi_hz;/* exhalation F0 at its ends and at its peak; 50..2000;
                                 default 300 and 600 (infant cry, DESIGN.md) */
    double level_dbfs;        /* RMS of an exhalation at its plateau, -80..0; default -20 */
    double inhale_rel_db;     /* inhalation RMS re exhalation, -40..20; default -6 */
    bool inhale;              /* render inhalation pulses; default true */
    bool exhale;              /* render exhalations; default true */
    double exhale_until_s;    /* exhalations only in cycles starting before this (crying
                                 that stops while the sobbing goes on); default INFINITY */
    cm_sobgen_noise noise;    /* default white */
    double snr_db;            /* -20..80; default 20 */
    uint64_t seed;            /* any; 0 is treated as 1 */
} cm_sobgen_config;

typedef struct cm_sobgen_event {
    cm_sobgen_kind kind;
    double start_s, end_s;
} cm_sobgen_event;

cm_sobgen_config cm_sobgen_config_default(void);

/* Samples cm_sobgen_render writes: round(duration_s * rate_hz). */
size_t cm_sobgen_samples(const cm_sobgen_config *c);

/* Renders the sequence into out (cm_sobgen_samples(c) mono floats; CM_E_RANGE when n is
 * different) and writes the elements, in time order, to ev (up to ev_cap; *n_ev gets the
 * number of elements rendered, which may exceed ev_cap: the rest are not written). ev may be
 * NULL when ev_cap is 0. Allocates nothing. CM_E_RANGE + why for a field out of range. */
CM_NODISCARD cm_status cm_sobgen_render(const cm_sobgen_config *c, float *out, size_t n,
                                        cm_sobgen_event *ev, size_t ev_cap, size_t *n_ev,
                                        cm_diag *why);

#ifdef __cplusplus
}
#endif
#endif
