/* SPDX-License-Identifier: MIT */
/* The analyzer's path from decoded audio to frame features (featpath.h): cleaning, channel
 * mean, resampling to the front end's rate and the front end, used by cm_analyzer and by the
 * learning code alike so that training cannot drift from analysis. */
#include "crymeter/featpath.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include "crymeter/loudness.h" /* cm_peak_abs, CM_CHANNELS_MAX */
#include "crymeter/resample.h"

struct cm_fpath {
    unsigned channels;
    size_t max_block;
    cm_rs *rs;
    float *mono; /* max_block samples: one block's channel mean */
};

float cm_fpath_clean(float *x, size_t n, uint64_t *n_nonfinite, uint64_t *n_overrange)
{
    float peak = cm_peak_abs(x, n);
    if (peak <= CM_SAMPLE_LIMIT) return peak;
    /* rare: zero the NaN, Inf and absurdly large samples, then measure again */
    uint64_t bad_nf = 0, bad_or = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            x[i] = 0.0f;
            bad_nf++;
        } else if (fabsf(x[i]) > CM_SAMPLE_LIMIT) {
            x[i] = 0.0f;
            bad_or++;
        }
    if (n_nonfinite) *n_nonfinite += bad_nf;
    if (n_overrange) *n_overrange += bad_or;
    return cm_peak_abs(x, n);
}

const float *cm_fpath_mono(const float *x, size_t n, unsigned ch, float *out)
{
    if (ch == 1) return x;
    const float g = 1.0f / (float)ch;
    if (ch == 2) { /* the common case, with the channel loop unrolled (same sums) */
        for (size_t i = 0; i < n; i++) out[i] = (x[2 * i] + x[2 * i + 1]) * g;
        return out;
    }
    for (size_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (unsigned c = 0; c < ch; c++) s += x[i * ch + c];
        out[i] = s * g;
    }
    return out;
}

void cm_fpath_destroy(cm_fpath *p)
{
    if (!p) return;
    cm_rs_destroy(p->rs);
    free(p->mono);
    free(p);
}

cm_status cm_fpath_create(unsigned rate_hz, unsigned channels, size_t max_block_frames,
                          cm_fpath **out, cm_diag *why)
{
    assert(out);
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (channels < 1 || channels > CM_CHANNELS_MAX)
        return cm_diag_fail(why, CM_E_RANGE, "channels=%u: must be 1..%u", channels,
                            CM_CHANNELS_MAX);
    if (max_block_frames < 1)
        return cm_diag_fail(why, CM_E_RANGE, "max_block_frames=0: must be >= 1");
    cm_fpath *p = calloc(1, sizeof *p);
    if (!p) return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    p->channels = channels;
    p->max_block = max_block_frames;
    cm_status st = cm_rs_create(rate_hz, CM_FRONT_RATE_HZ, &p->rs, why);
    if (st == CM_OK && channels > 1 && !(p->mono = malloc(max_block_frames * sizeof *p->mono)))
        st = cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    if (st != CM_OK) {
        cm_fpath_destroy(p);
        return st;
    }
    *out = p;
    return CM_OK;
}

size_t cm_fpath_out_for(const cm_fpath *p, size_t n) { return p ? cm_rs_out_for(p->rs, n) : 0; }

cm_status cm_fpath_resample(cm_fpath *p, const float *mono, size_t n, float *out,
                            size_t out_cap, size_t *n_out)
{
    assert(p);
    if (!p) return CM_E_INVAL;
    return cm_rs_process(p->rs, mono, n, out, out_cap, n_out);
}

cm_status cm_fpath_push(cm_fpath *p, float *x, size_t n_frames, float *out, size_t out_cap,
                        size_t *n_out)
{
    assert(p && n_out);
    if (n_out) *n_out = 0;
    if (!p || !n_out || (!x && n_frames)) return CM_E_INVAL;
    if (n_frames > p->max_block) return CM_E_RANGE;
    cm_fpath_clean(x, n_frames * p->channels, NULL, NULL);
    const float *mono = cm_fpath_mono(x, n_frames, p->channels, p->mono);
    return cm_rs_process(p->rs, mono, n_frames, out, out_cap, n_out);
}

cm_status cm_fpath_flush(cm_fpath *p, float *out, size_t out_cap, size_t *n_out)
{
    assert(p);
    if (!p) return CM_E_INVAL;
    return cm_rs_flush(p->rs, out, out_cap, n_out);
}

cm_status cm_fpath_frames(const cm_front_config *fc, const float *x, size_t n, cm_frame **out,
                          size_t *n_out, cm_diag *why)
{
    assert(out && n_out);
    if (!out || !n_out) return CM_E_INVAL;
    *out = NULL;
    *n_out = 0;
    if (!fc || (!x && n)) return CM_E_INVAL;
    cm_front *f = NULL;
    cm_status st = cm_front_create(fc, &f, why);
    if (st != CM_OK) return st;
    size_t cap = cm_front_frames_for(f, n) + cm_front_frames_for(f, 0) + 1;
    cm_frame *v = malloc(cap * sizeof *v);
    size_t a = 0, b = 0;
    if (!v) st = cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    if (st == CM_OK) st = cm_front_process(f, x, n, v, cap, &a);
    if (st == CM_OK) st = cm_front_flush(f, v + a, cap - a, &b);
    cm_front_destroy(f);
    if (st != CM_OK) {
        free(v);
        return st;
    }
    *out = v;
    *n_out = a + b;
    return CM_OK;
}
