/* SPDX-License-Identifier: MIT */
/* cm_rs: streaming mono float sample-rate conversion (to the front end's 8 kHz for the
 * analyzer) over libsoxr 0.1.3, recipe SOXR_HQ (20-bit, linear phase, passband to 0.913 of the
 * lower Nyquist).
 *
 * Recipe chosen by measurement on the project machine, when the front end ran at 16 kHz (1 h
 * of 44.1 kHz mono noise -> 16 kHz,
 * 4096-sample chunks, one thread; aliasing = level of a 12 kHz sine at 44.1 kHz in the 16 kHz
 * output re its input level; flatness = gain range 100 Hz..7 kHz):
 *   recipe  time/h  aliasing  flatness to 7 kHz
 *   QQ      0.94 s   -0.9 dB  -0.12 dB   (cubic interpolation: no anti-alias filter)
 *   LQ      0.53 s   -142 dB  -13.3 dB   (passband ends far below 7 kHz)
 *   MQ      0.57 s   -137 dB  -0.05 dB
 *   HQ      0.61 s   -143 dB  -0.006 dB  <- chosen: flat and alias-free for +7% over MQ
 *   VHQ     0.96 s   -159 dB  -0.005 dB
 *
 * What soxr guarantees and we rely on (all verified by tests/unit/test_resample.c):
 * - its output is time-aligned: the filter delay is removed, an impulse at input time t comes
 *   out centred on output time t;
 * - after end-of-input its total output is round(n_in * out / in); we still pad or trim to that
 *   count at flush so the contract does not depend on it;
 * - the output samples are bit-identical whatever the input chunking (only how many come out
 *   per call varies).
 * soxr holds back up to ~1430 samples at the lower of the two rates (measured over all pairs
 * of 8, 11.025, 16, 22.05, 32, 44.1, 48, 96, 192 kHz, chunks of 1 and random sizes); 44.1 kHz
 * -> 16 kHz holds back 644 output samples (40 ms), which is the latency it adds to monitoring.
 * A call can release that backlog at once, so cm_rs_out_for adds a slack of 4096 samples at
 * the lower rate (about 3x the worst measured backlog), expressed in output samples. */
#include "crymeter/resample.h"

#include <assert.h>
#include <pthread.h>
#include <string.h>
#include <stdlib.h>

#include <soxr.h>

#include "crymeter/loudness.h" /* CM_RATE_MIN_HZ, CM_RATE_MAX_HZ */

#define RS_SLACK_LOW_RATE_SAMPLES 4096u

/* libsoxr 0.1.3's engines without SIMD ("cr32", "cr64": Debian's arm64 build, or x86-64 with
 * SOXR_USE_SIMD=0) share one process-wide FFT table cache (fft4g_cache.h) whose lazy set-up
 * is not thread safe: two resamplers created or run at once by different threads
 * (calibrate's and evaluate's feature workers, analyze -j) can see half-built or freed
 * tables, which gives one clip garbage samples, a crash or a deadlock in the cache's locks.
 * soxr_create always runs under this lock (it designs the filter with that FFT), and every
 * later call of such an engine does too; the SIMD engines (cr32s, cr64s) keep their own
 * tables and run unlocked. */
static pthread_mutex_t soxr_mx = PTHREAD_MUTEX_INITIALIZER;

struct cm_rs {
    soxr_t sx;           /* NULL when in == out (plain copy) */
    unsigned in_hz, out_hz;
    uint64_t n_in;       /* input samples consumed so far */
    uint64_t n_out;      /* output samples emitted so far */
    size_t slack;        /* output samples */
    int flushed;
    int serial;          /* soxr engine with the shared FFT cache: calls hold soxr_mx */
};

static void sx_lock(const cm_rs *r)
{
    if (r->serial) pthread_mutex_lock(&soxr_mx);
}

static void sx_unlock(const cm_rs *r)
{
    if (r->serial) pthread_mutex_unlock(&soxr_mx);
}

/* ceil(n * num / den) without overflowing for any n whose result fits. */
static size_t scale_ceil(size_t n, unsigned num, unsigned den)
{
    size_t q = n / den, r = n % den;
    return q * num + (size_t)(((uint64_t)r * num + den - 1) / den);
}

cm_status cm_rs_create(unsigned in_rate_hz, unsigned out_rate_hz, cm_rs **out, cm_diag *why)
{
    assert(out);
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (in_rate_hz < CM_RATE_MIN_HZ || in_rate_hz > CM_RATE_MAX_HZ)
        return cm_diag_fail(why, CM_E_RANGE, "in_rate_hz=%u: must be %u..%u", in_rate_hz,
                            CM_RATE_MIN_HZ, CM_RATE_MAX_HZ);
    if (out_rate_hz < CM_RATE_MIN_HZ || out_rate_hz > CM_RATE_MAX_HZ)
        return cm_diag_fail(why, CM_E_RANGE, "out_rate_hz=%u: must be %u..%u", out_rate_hz,
                            CM_RATE_MIN_HZ, CM_RATE_MAX_HZ);
    cm_rs *r = calloc(1, sizeof *r);
    if (!r) return cm_diag_fail(why, CM_E_NOMEM, "resampler: out of memory");
    r->in_hz = in_rate_hz;
    r->out_hz = out_rate_hz;
    if (in_rate_hz != out_rate_hz) {
        unsigned low = in_rate_hz < out_rate_hz ? in_rate_hz : out_rate_hz;
        r->slack = scale_ceil(RS_SLACK_LOW_RATE_SAMPLES, out_rate_hz, low) + 16;
        soxr_error_t err = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        /* One thread: the analyzer runs one file per core; soxr's OpenMP would oversubscribe. */
        soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        pthread_mutex_lock(&soxr_mx);
        r->sx = soxr_create((double)in_rate_hz, (double)out_rate_hz, 1, &err, &io, &q, &rt);
        const char *eng = r->sx && !err ? soxr_engine(r->sx) : NULL;
        r->serial = !eng || (strcmp(eng, "cr32s") != 0 && strcmp(eng, "cr64s") != 0);
        pthread_mutex_unlock(&soxr_mx);
        if (!r->sx || err) {
            cm_rs_destroy(r);
            return cm_diag_fail(why, CM_E_NOMEM, "resampler %u->%u Hz: soxr: %s", in_rate_hz,
                                out_rate_hz, soxr_strerror(err));
        }
    }
    *out = r;
    return CM_OK;
}

void cm_rs_destroy(cm_rs *r)
{
    if (!r) return;
    if (r->sx) {
        sx_lock(r);
        soxr_delete(r->sx);
        sx_unlock(r);
    }
    free(r);
}

size_t cm_rs_out_for(const cm_rs *r, size_t n_in)
{
    if (!r) return 0;
    if (!r->sx) return n_in;
    return scale_ceil(n_in, r->out_hz, r->in_hz) + r->slack;
}

cm_status cm_rs_process(cm_rs *r, const float *in, size_t n, float *out, size_t out_cap,
                        size_t *n_out)
{
    assert(r && n_out && (in || n == 0) && (out || out_cap == 0));
    if (n_out) *n_out = 0;
    if (!r || !n_out || (!in && n) || (!out && out_cap)) return CM_E_INVAL;
    if (r->flushed) return CM_E_STATE;
    if (out_cap < cm_rs_out_for(r, n)) return CM_E_RANGE;
    if (n == 0) return CM_OK;
    if (!r->sx) {
        memcpy(out, in, n * sizeof *in);
        r->n_in += n;
        r->n_out += n;
        *n_out = n;
        return CM_OK;
    }
    size_t pos = 0, o = 0;
    while (pos < n) {
        size_t id = 0, od = 0;
        /* soxr takes at most olen * io_ratio input per call; with out_cap >= out_for that is
         * all of it in one call, the loop only covers soxr changing its mind. */
        sx_lock(r);
        soxr_error_t err = soxr_process(r->sx, in + pos, n - pos, &id, out + o, out_cap - o, &od);
        sx_unlock(r);
        if (err) return CM_E_STATE;
        pos += id;
        o += od;
        if (id == 0 && od == 0) return CM_E_RANGE; /* output full: out_for's slack was wrong */
    }
    r->n_in += n;
    r->n_out += o;
    *n_out = o;
    return CM_OK;
}

cm_status cm_rs_flush(cm_rs *r, float *out, size_t out_cap, size_t *n_out)
{
    assert(r && n_out && (out || out_cap == 0));
    if (n_out) *n_out = 0;
    if (!r || !n_out || (!out && out_cap)) return CM_E_INVAL;
    if (r->flushed) return CM_OK; /* the tail was already emitted */
    if (out_cap < cm_rs_out_for(r, 0)) return CM_E_RANGE;
    r->flushed = 1;
    if (!r->sx) return CM_OK;
    size_t o = 0;
    for (;;) {
        size_t od = 0;
        sx_lock(r);
        soxr_error_t err = soxr_process(r->sx, NULL, 0, NULL, out + o, out_cap - o, &od);
        sx_unlock(r);
        if (err) return CM_E_STATE;
        o += od;
        if (od == 0 || o == out_cap) break;
    }
    /* round(n_in * out / in) in integers: (2 n out + in) / (2 in). */
    uint64_t target = (2 * r->n_in * r->out_hz + r->in_hz) / (2 * (uint64_t)r->in_hz);
    uint64_t have = r->n_out + o;
    if (have > target) {
        uint64_t cut = have - target;
        o = cut >= o ? 0 : o - (size_t)cut;
    } else if (have < target) {
        uint64_t pad = target - have;
        if (pad > out_cap - o) return CM_E_RANGE;
        memset(out + o, 0, (size_t)pad * sizeof *out);
        o += (size_t)pad;
    }
    r->n_out += o;
    *n_out = o;
    return CM_OK;
}
