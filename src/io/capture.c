/* SPDX-License-Identifier: MIT */
/* cm_capture (see include/crymeter/capture.h): what every source shares. The source's
 * delivery thread (PortAudio's callback, or the scripted source's thread) calls the sink
 * functions, which do three things only (STYLE §6): copy the input into the ring, add the
 * frames that did not fit to an atomic `dropped`, and count overflows. No locks,
 * allocation, I/O or logging there. The worker thread drains the ring in hop-sized chunks
 * into the caller's function and sleeps half a hop when less than a hop is waiting (no
 * spinning: 200 wake-ups a second at most). A release store of `stop` after the source has
 * stopped tells it to drain the rest, call on_end and exit. */
#include "crymeter/capture.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crymeter/ring.h"

struct cm_capture {
    cm_capture_config cfg;
    cm_capture_source *src;
    unsigned rate_hz, channels, hop_frames;
    cm_ring ring;
    float *ring_mem;
    pthread_t worker;
    bool worker_started, stream_started, stopped;
    /* Written by the delivery thread, read anywhere. */
    _Atomic uint64_t captured, dropped, overflows;
    /* Written by the worker. */
    _Atomic uint64_t delivered;
    _Atomic bool done, finished;
    /* Written by the control thread. */
    _Atomic bool stop;
    uint64_t last_captured;  /* control thread: stall detection */
    double last_change_s;    /* on the source's clock; NAN until the first poll */
    bool hung;               /* the source's abort did not return: it is abandoned */
};

/* ---- the sink: the source's delivery thread ---------------------------------------- */

/* Counts n frames lost from captured index `first` on. Frames past max_frames were never
 * asked for: losing them loses nothing (a device that runs on while the worker finishes
 * the requested duration). Until a first loss, captured index i is delivered frame i, so
 * the cut is exact where it matters. */
static void count_lost(cm_capture *c, uint64_t first, uint64_t n)
{
    uint64_t max = c->cfg.max_frames;
    if (max) {
        if (first >= max) return;
        if (first + n > max) n = max - first;
    }
    atomic_fetch_add_explicit(&c->dropped, n, memory_order_relaxed);
}

void cm_capture_sink_write(cm_capture_sink *c, const float *x, size_t n)
{
    /* captured is written by this thread only: the relaxed load is exact. */
    uint64_t first = atomic_load_explicit(&c->captured, memory_order_relaxed);
    size_t w = cm_ring_write(&c->ring, x, n);
    if (w < n) count_lost(c, first + w, n - w);
    atomic_store_explicit(&c->captured, first + n, memory_order_relaxed);
}

void cm_capture_sink_lost(cm_capture_sink *c, size_t n)
{
    uint64_t first = atomic_load_explicit(&c->captured, memory_order_relaxed);
    count_lost(c, first, n);
    atomic_store_explicit(&c->captured, first + n, memory_order_relaxed);
}

size_t cm_capture_sink_space(const cm_capture_sink *c) { return cm_ring_write_space(&c->ring); }

void cm_capture_sink_overflow(cm_capture_sink *c)
{
    atomic_fetch_add_explicit(&c->overflows, 1, memory_order_relaxed);
}

/* ---- stopping a source that may never return ---------------------------------------- */

/* The source's abort on its own thread, so the control thread can stop waiting. Shared by
 * the two threads; whichever finishes last frees it. */
typedef struct abort_job {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    cm_capture_source *src;
    cm_status st;
    cm_diag why;
    bool done, abandoned;
} abort_job;

static void abort_job_free(abort_job *j)
{
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->done_cv);
    free(j);
}

static void *abort_main(void *arg)
{
    abort_job *j = arg;
    cm_diag why = {{0}};
    cm_status st = j->src->ops->abort(j->src, &why);
    pthread_mutex_lock(&j->lock);
    j->st = st;
    j->why = why;
    j->done = true;
    bool abandoned = j->abandoned;
    pthread_cond_signal(&j->done_cv);
    pthread_mutex_unlock(&j->lock);
    if (abandoned) abort_job_free(j);
    return NULL;
}

/* The source's abort within timeout_s. Returns 1 when it did not return in time. */
static int abort_bounded(cm_capture_source *src, double timeout_s, cm_status *st, cm_diag *why)
{
    abort_job *j = calloc(1, sizeof *j);
    pthread_attr_t at;
    pthread_t th;
    if (!j) {
        *st = src->ops->abort(src, why);
        return 0;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->done_cv, NULL);
    j->src = src;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int started = pthread_create(&th, &at, abort_main, j) == 0;
    pthread_attr_destroy(&at);
    if (!started) {
        abort_job_free(j);
        *st = src->ops->abort(src, why);
        return 0;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double whole = floor(timeout_s);
    until.tv_sec += (time_t)whole;
    until.tv_nsec += (long)((timeout_s - whole) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->lock);
    while (!j->done)
        if (pthread_cond_timedwait(&j->done_cv, &j->lock, &until) != 0) break;
    int hung = !j->done;
    if (hung) {
        j->abandoned = true;
    } else {
        *st = j->st;
        if (why) *why = j->why;
    }
    pthread_mutex_unlock(&j->lock);
    if (!hung) abort_job_free(j);
    return hung;
}

/* ---- the worker --------------------------------------------------------------------- */

cm_capture_config cm_capture_config_default(void)
{
    cm_capture_config c;
    memset(&c, 0, sizeof c);
    c.device_index = -1;
    c.channels = 1;
    c.ring_s = 4.0;
    c.stall_s = 3.0;
    c.stop_timeout_s = 5.0;
    return c;
}

/* Delivers up to `avail` frames in hop-sized pieces; returns frames taken from the ring. */
static size_t deliver(cm_capture *c, size_t avail)
{
    const float *p[2];
    size_t np[2];
    size_t n = cm_ring_read_regions(&c->ring, avail, &p[0], &np[0], &p[1], &np[1]);
    for (int r = 0; r < 2; r++) {
        size_t off = 0;
        while (off < np[r]) {
            size_t k = np[r] - off < c->hop_frames ? np[r] - off : c->hop_frames;
            if (atomic_load_explicit(&c->done, memory_order_relaxed))
                break; /* done: the rest is discarded, not dropped */
            uint64_t d = atomic_load_explicit(&c->delivered, memory_order_relaxed);
            if (c->cfg.max_frames && d + k >= c->cfg.max_frames) {
                k = (size_t)(c->cfg.max_frames - d);
                atomic_store_explicit(&c->done, true, memory_order_release);
            }
            int want_stop = k ? c->cfg.on_audio(c->cfg.user, p[r] + off * c->channels, k) : 0;
            atomic_store_explicit(&c->delivered, d + k, memory_order_relaxed);
            if (want_stop) atomic_store_explicit(&c->done, true, memory_order_release);
            if (k == 0) break;
            off += k;
        }
    }
    cm_ring_consume(&c->ring, n);
    return n;
}

static void *worker_main(void *arg)
{
    cm_capture *c = arg;
    /* Half a hop: a wake-up finds about half a hop waiting, so the added delay is under one
     * hop (10 ms by default) and wake-ups stay at 200/s. */
    long nap_ns = (long)(0.5e9 * c->hop_frames / c->rate_hz);
    struct timespec nap = {nap_ns / 1000000000L, nap_ns % 1000000000L};
    for (;;) {
        bool stopping = atomic_load_explicit(&c->stop, memory_order_acquire);
        size_t avail = cm_ring_read_space(&c->ring);
        if (avail >= c->hop_frames || (stopping && avail > 0)) {
            deliver(c, avail);
            continue;
        }
        if (stopping) break;
        nanosleep(&nap, NULL);
    }
    if (c->cfg.on_end) c->cfg.on_end(c->cfg.user);
    atomic_store_explicit(&c->finished, true, memory_order_release);
    return NULL;
}

/* ---- life cycle --------------------------------------------------------------------- */

void cm_capture_close(cm_capture *c)
{
    if (!c) return;
    cm_status ignored = cm_capture_stop(c, NULL); /* nobody to tell at this point */
    (void)ignored;
    if (c->hung) return; /* its delivery thread may still write to the ring: leave it all */
    if (c->src) c->src->ops->close(c->src);
    free(c->ring_mem);
    free(c);
}

cm_status cm_capture_open(const cm_capture_config *cfg, cm_capture **out, cm_diag *why)
{
    cm_capture_source *src = cfg ? cfg->source : NULL;
    if (!out) {
        if (src) src->ops->close(src);
        return CM_E_INVAL;
    }
    *out = NULL;
    if (!cfg || !cfg->on_audio) {
        if (src) src->ops->close(src);
        return cm_diag_fail(why, CM_E_INVAL, "on_audio is required");
    }
    if (!src) {
        cm_status st = cm_capture_source_portaudio(cfg->device_index, cfg->latency_s, &src, why);
        if (st != CM_OK) return st;
    }
    cm_status st = CM_OK;
    unsigned rate = cfg->rate_hz ? cfg->rate_hz : src->default_rate_hz;
    unsigned hop = cfg->hop_frames ? cfg->hop_frames : rate / 100;
    if (rate < 8000 || rate > 192000)
        st = cm_diag_fail(why, CM_E_RANGE, "rate_hz=%u: must be 8000..192000", rate);
    else if (cfg->channels < 1 || cfg->channels > src->max_channels || cfg->channels > 64)
        st = cm_diag_fail(why, CM_E_RANGE, "channels=%u: device '%s' has 1..%u", cfg->channels,
                          src->name, src->max_channels < 64 ? src->max_channels : 64);
    else if (!(cfg->ring_s >= 0.5 && cfg->ring_s <= 60.0))
        st = cm_diag_fail(why, CM_E_RANGE, "ring_s=%g: must be 0.5..60", cfg->ring_s);
    else if (hop < 1 || hop > rate)
        st = cm_diag_fail(why, CM_E_RANGE, "hop_frames=%u: must be 1..%u", hop, rate);
    else if (!(cfg->latency_s >= 0.0 && cfg->latency_s <= 2.0))
        st = cm_diag_fail(why, CM_E_RANGE, "latency_s=%g: must be 0..2", cfg->latency_s);
    else if (!(cfg->stall_s >= 0.0))
        st = cm_diag_fail(why, CM_E_RANGE, "stall_s=%g: must be >= 0", cfg->stall_s);
    else if (!(cfg->stop_timeout_s >= 0.1 && cfg->stop_timeout_s <= 60.0))
        st = cm_diag_fail(why, CM_E_RANGE, "stop_timeout_s=%g: must be 0.1..60",
                          cfg->stop_timeout_s);
    if (st != CM_OK) {
        src->ops->close(src);
        return st;
    }

    cm_capture *c = calloc(1, sizeof *c);
    if (!c) {
        src->ops->close(src);
        return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    }
    c->cfg = *cfg;
    c->src = src;
    c->rate_hz = rate;
    c->channels = cfg->channels;
    c->hop_frames = hop;
    c->last_change_s = NAN;
    atomic_init(&c->captured, 0);
    atomic_init(&c->dropped, 0);
    atomic_init(&c->overflows, 0);
    atomic_init(&c->delivered, 0);
    atomic_init(&c->done, false);
    atomic_init(&c->finished, false);
    atomic_init(&c->stop, false);

    size_t cap = cm_ring_round_capacity((size_t)(cfg->ring_s * rate + 0.5));
    c->ring_mem = cap ? malloc(cap * c->channels * sizeof(float)) : NULL;
    if (!c->ring_mem) {
        cm_capture_close(c);
        return cm_diag_fail(why, CM_E_NOMEM, "out of memory for a %.1f s ring", cfg->ring_s);
    }
    if (cm_ring_init(&c->ring, c->ring_mem, cap, c->channels) != CM_OK) {
        cm_capture_close(c);
        return cm_diag_fail(why, CM_E_RANGE, "ring of %zu frames refused", cap);
    }
    if ((st = src->ops->open(src, c, rate, c->channels, hop, why)) != CM_OK) {
        cm_capture_close(c);
        return st;
    }
    *out = c;
    return CM_OK;
}

cm_status cm_capture_start(cm_capture *c, cm_diag *why)
{
    if (!c) return CM_E_INVAL;
    if (c->worker_started || c->stopped) return cm_diag_fail(why, CM_E_STATE, "already started");
    if (pthread_create(&c->worker, NULL, worker_main, c) != 0)
        return cm_diag_fail(why, CM_E_NOMEM, "cannot start the capture worker thread");
    c->worker_started = true;
    cm_status st = c->src->ops->start(c->src, why);
    if (st != CM_OK) {
        cm_status ignored = cm_capture_stop(c, NULL); /* the start error is the news */
        (void)ignored;
        return st;
    }
    c->stream_started = true;
    return CM_OK;
}

void cm_capture_get_stats(const cm_capture *c, cm_capture_stats *out)
{
    cm_capture *m = (cm_capture *)c; /* atomic loads on a const object */
    out->frames_captured = atomic_load_explicit(&m->captured, memory_order_relaxed);
    out->frames_dropped = atomic_load_explicit(&m->dropped, memory_order_relaxed);
    out->overflows = atomic_load_explicit(&m->overflows, memory_order_relaxed);
    out->frames_delivered = atomic_load_explicit(&m->delivered, memory_order_relaxed);
    out->done = atomic_load_explicit(&m->done, memory_order_acquire);
    out->finished = atomic_load_explicit(&m->finished, memory_order_acquire);
}

cm_status cm_capture_poll(cm_capture *c, cm_diag *why)
{
    if (!c) return CM_E_INVAL;
    if (!c->stream_started || c->stopped) return CM_OK;
    cm_diag sw = {{0}};
    cm_source_state s = c->src->ops->state(c->src, &sw);
    if (s != CM_SOURCE_RUNNING)
        return cm_diag_fail(why, CM_E_IO, "device '%s' stopped delivering audio (%s)",
                            c->src->name,
                            s == CM_SOURCE_ENDED ? "stream ended" : sw.msg[0] ? sw.msg : "failed");
    uint64_t cap = atomic_load_explicit(&c->captured, memory_order_relaxed);
    double t = c->src->ops->now_s(c->src);
    if (cap != c->last_captured || isnan(c->last_change_s)) {
        c->last_captured = cap;
        c->last_change_s = t;
    } else if (c->cfg.stall_s > 0 && t - c->last_change_s > c->cfg.stall_s) {
        return cm_diag_fail(why, CM_E_IO, "device '%s': no audio for %.1f s (unplugged?)",
                            c->src->name, t - c->last_change_s);
    }
    return CM_OK;
}

cm_status cm_capture_stop(cm_capture *c, cm_diag *why)
{
    if (!c) return CM_E_INVAL;
    if (c->stopped) return CM_OK;
    c->stopped = true;
    cm_status st = CM_OK;
    if (c->stream_started) {
        cm_diag aw = {{0}};
        cm_status ast = CM_OK;
        if (abort_bounded(c->src, c->cfg.stop_timeout_s, &ast, &aw)) {
            /* The worker still drains what the ring holds and flushes; the source and the
             * ring it writes to are abandoned (never freed) and not touched again. */
            c->hung = true;
            st = cm_diag_fail(why, CM_E_IO,
                              "device '%s' did not stop within %g s (driver not responding); "
                              "analysed what was captured",
                              c->src->name, c->cfg.stop_timeout_s);
        } else if (ast != CM_OK) {
            st = cm_diag_fail(why, ast, "device '%s': stopping: %s", c->src->name,
                              aw.msg[0] ? aw.msg : cm_status_str(ast));
        }
    }
    atomic_store_explicit(&c->stop, true, memory_order_release);
    if (c->worker_started) pthread_join(c->worker, NULL);
    return st;
}

bool cm_capture_hung(const cm_capture *c) { return c && c->hung; }

unsigned cm_capture_rate_hz(const cm_capture *c) { return c->rate_hz; }
unsigned cm_capture_channels(const cm_capture *c) { return c->channels; }
const char *cm_capture_device_name(const cm_capture *c) { return c->src->name; }
