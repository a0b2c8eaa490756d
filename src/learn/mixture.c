/* SPDX-License-Identifier: MIT */
/* Mixture generator: places labelled clips on a background bed at chosen signal-to-noise
 * ratios and reports where each is audible, so event-based metrics can be computed on
 * realistic "crying inside other sound" audio without time-stamped recordings (the shared
 * data has none). Pure sample arithmetic, deterministic for a seed.
 * SNR definition: item power over its active 10 ms frames (within 30 dB of its loudest
 * frame, so leading silence does not dilute it) relative to the bed's mean power over the
 * same span, as in DCASE 2017 task 2's synthetic mixtures (event-to-background ratio). */
#include <math.h>
#include <string.h>

#include "crymeter/learn/train.h"

#define ACTIVE_DB 30.0

int cm_mix_active_span(const float *x, size_t n, unsigned rate_hz, size_t *first, size_t *last)
{
    *first = *last = 0;
    size_t hop = rate_hz / 100 ? rate_hz / 100 : 1;
    double peak = 0.0;
    for (size_t s = 0; s < n; s += hop) {
        size_t e = s + hop < n ? s + hop : n;
        double p = 0.0;
        for (size_t i = s; i < e; i++) p += (double)x[i] * x[i];
        p /= (double)(e - s);
        if (p > peak) peak = p;
    }
    if (!(peak > 0.0)) return 0;
    double thr = peak * pow(10.0, -ACTIVE_DB / 10.0);
    int found = 0;
    for (size_t s = 0; s < n; s += hop) {
        size_t e = s + hop < n ? s + hop : n;
        double p = 0.0;
        for (size_t i = s; i < e; i++) p += (double)x[i] * x[i];
        p /= (double)(e - s);
        if (p >= thr) {
            if (!found) *first = s;
            *last = e - 1;
            found = 1;
        }
    }
    return 1;
}

/* Mean power of x over the active frames of the item (frames within 30 dB of its peak). */
static double active_power(const float *x, size_t n, size_t hop)
{
    double peak = 0.0;
    for (size_t s = 0; s < n; s += hop) {
        size_t e = s + hop < n ? s + hop : n;
        double p = 0.0;
        for (size_t i = s; i < e; i++) p += (double)x[i] * x[i];
        p /= (double)(e - s);
        if (p > peak) peak = p;
    }
    double thr = peak * pow(10.0, -ACTIVE_DB / 10.0), sum = 0.0;
    size_t cnt = 0;
    for (size_t s = 0; s < n; s += hop) {
        size_t e = s + hop < n ? s + hop : n;
        double p = 0.0;
        for (size_t i = s; i < e; i++) p += (double)x[i] * x[i];
        if (p / (double)(e - s) >= thr) sum += p, cnt += e - s;
    }
    return cnt ? sum / (double)cnt : 0.0;
}

cm_status cm_mix_generate(const cm_mix_config *cfg, const float *bed, size_t n_bed,
                          const cm_mix_item *items, size_t n_items, float *out,
                          cm_mix_event *events, size_t max_events, size_t *n_events, cm_diag *why)
{
    if (n_events) *n_events = 0;
    if (!cfg || !bed || !out || !n_events || (n_items && !items) || (max_events && !events))
        return cm_diag_fail(why, CM_E_INVAL, "mix: NULL argument");
    if (cfg->rate_hz < 8000 || cfg->rate_hz > 192000)
        return cm_diag_fail(why, CM_E_RANGE, "mix: rate_hz=%u: must be 8000..192000",
                            cfg->rate_hz);
    if (!(cfg->snr_min_db >= -40 && cfg->snr_max_db >= cfg->snr_min_db && cfg->snr_max_db <= 60))
        return cm_diag_fail(why, CM_E_RANGE,
                            "mix: snr %g..%g dB: need -40 <= min <= max <= 60", cfg->snr_min_db,
                            cfg->snr_max_db);
    if (!(cfg->gap_min_s >= 0 && cfg->gap_max_s >= cfg->gap_min_s && cfg->gap_max_s <= 3600))
        return cm_diag_fail(why, CM_E_RANGE, "mix: gap %g..%g s: need 0 <= min <= max <= 3600",
                            cfg->gap_min_s, cfg->gap_max_s);
    memmove(out, bed, n_bed * sizeof *out);
    uint64_t rng = cfg->seed ? cfg->seed : 1;
    for (int i = 0; i < 4; i++) cm_rng_next(&rng);
    const double rate = cfg->rate_hz;
    const size_t hop = cfg->rate_hz / 100;
    size_t t = 0, k = 0;
    for (size_t i = 0; i < n_items && k < max_events; i++) {
        const cm_mix_item *it = &items[i];
        double gap = cfg->gap_min_s + (cfg->gap_max_s - cfg->gap_min_s) * cm_rng_uniform(&rng);
        double snr = cfg->snr_min_db + (cfg->snr_max_db - cfg->snr_min_db) * cm_rng_uniform(&rng);
        size_t a, b;
        if (!it->x || it->n == 0 || !cm_mix_active_span(it->x, it->n, cfg->rate_hz, &a, &b))
            continue; /* silent item: nothing to place */
        size_t start = t + (size_t)(gap * rate);
        if (start >= n_bed || it->n > n_bed - start) continue;
        double pi = active_power(it->x, it->n, hop);
        double pb = 0.0;
        for (size_t j = a; j <= b; j++) pb += (double)bed[start + j] * bed[start + j];
        pb /= (double)(b - a + 1);
        /* A silent bed stretch: place the item at its own level (infinite SNR). */
        double g = pb > 0.0 ? sqrt(pb / pi * pow(10.0, snr / 10.0)) : 1.0;
        for (size_t j = 0; j < it->n; j++) out[start + j] += (float)(g * it->x[j]);
        events[k].start_s = (double)(start + a) / rate;
        events[k].end_s = (double)(start + b + 1) / rate;
        events[k].label = it->label;
        events[k].snr_db = pb > 0.0 ? snr : INFINITY;
        events[k].item = i;
        k++;
        t = start + it->n;
    }
    *n_events = k;
    return CM_OK;
}
