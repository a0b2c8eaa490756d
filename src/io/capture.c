/* SPDX-License-Identifier: MIT */
/* PortAudio capture (see include/crymeter/capture.h). The real-time callback does three
 * things only (STYLE §6): copy the input (S16 scaled to float) into the ring, add the
 * frames that did not fit to an atomic `dropped`, and bump an atomic `overflows` on
 * paInputOverflow. No locks, allocation, I/O or logging there. The worker thread drains
 * the ring in hop-sized chunks into the caller's function and sleeps half a hop when less
 * than a hop is waiting (no spinning: 200 wake-ups a second at most). A release store of
 * `stop` after the stream has stopped tells it to drain the rest, call on_end and exit. */
#include "crymeter/capture.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <portaudio.h>

#include "crymeter/ring.h"

struct cm_capture {
    cm_capture_config cfg;
    unsigned rate_hz, channels, hop_frames;
    char device_name[256];
    PaStream *stream;
    cm_ring ring;
    float *ring_mem;
    float *scratch;          /* callback: one S16->float conversion block */
    size_t scratch_frames;
    pthread_t worker;
    bool worker_started, stream_started, stopped;
    /* Written by the callback, read anywhere. */
    _Atomic uint64_t captured, dropped, overflows;
    /* Written by the worker. */
    _Atomic uint64_t delivered;
    _Atomic bool done, finished;
    /* Written by the control thread. */
    _Atomic bool stop;
    uint64_t last_captured;  /* control thread: stall detection */
    double last_change_s;
    bool hung;               /* Pa_AbortStream did not return: the stream is abandoned */
};

/* How long stopping may wait for PortAudio. A driver stuck in a blocking read never returns
 * from Pa_AbortStream (seen with an ALSA file PCM whose FIFO stopped delivering); a user who
 * presses Ctrl-C must still get the summary of what was captured. */
#define ABORT_TIMEOUT_S 5

/* Pa_AbortStream on its own thread, so the control thread can stop waiting. Shared by the
 * two threads; whichever finishes last frees it. */
typedef struct abort_job {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    PaStream *stream;
    PaError err;
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
    PaError e = Pa_AbortStream(j->stream);
    pthread_mutex_lock(&j->lock);
    j->err = e;
    j->done = true;
    bool abandoned = j->abandoned;
    pthread_cond_signal(&j->done_cv);
    pthread_mutex_unlock(&j->lock);
    if (abandoned) abort_job_free(j);
    return NULL;
}

/* Pa_AbortStream within ABORT_TIMEOUT_S. Returns 1 when it did not return in time. */
static int abort_bounded(PaStream *stream, PaError *err)
{
    abort_job *j = calloc(1, sizeof *j);
    pthread_attr_t at;
    pthread_t th;
    if (!j) {
        *err = Pa_AbortStream(stream);
        return 0;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->done_cv, NULL);
    j->stream = stream;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int started = pthread_create(&th, &at, abort_main, j) == 0;
    pthread_attr_destroy(&at);
    if (!started) {
        abort_job_free(j);
        *err = Pa_AbortStream(stream);
        return 0;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ABORT_TIMEOUT_S;
    pthread_mutex_lock(&j->lock);
    while (!j->done)
        if (pthread_cond_timedwait(&j->done_cv, &j->lock, &until) != 0) break;
    int hung = !j->done;
    if (hung)
        j->abandoned = true;
    else
        *err = j->err;
    pthread_mutex_unlock(&j->lock);
    if (!hung) abort_job_free(j);
    return hung;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

cm_status cm_capture_system_init(cm_diag *why)
{
    /* PortAudio counts nested Pa_Initialize calls itself, so no global is needed here. */
    PaError e = Pa_Initialize();
    if (e != paNoError)
        return cm_diag_fail(why, CM_E_IO, "audio system: %s", Pa_GetErrorText(e));
    return CM_OK;
}

void cm_capture_system_done(void) { (void)Pa_Terminate(); }

static void fill_device(int i, const PaDeviceInfo *d, cm_capture_device *out)
{
    const PaHostApiInfo *h = Pa_GetHostApiInfo(d->hostApi);
    memset(out, 0, sizeof *out);
    out->index = i;
    snprintf(out->name, sizeof out->name, "%s", d->name ? d->name : "?");
    snprintf(out->host_api, sizeof out->host_api, "%s", h && h->name ? h->name : "?");
    out->max_input_channels = (unsigned)d->maxInputChannels;
    out->default_rate_hz = d->defaultSampleRate;
    out->default_low_latency_s = d->defaultLowInputLatency;
    out->default_high_latency_s = d->defaultHighInputLatency;
    out->is_default = i == Pa_GetDefaultInputDevice();
}

cm_status cm_capture_list(cm_capture_device *out, size_t cap, size_t *n_total)
{
    if (!n_total) return CM_E_INVAL;
    *n_total = 0;
    int n = Pa_GetDeviceCount();
    if (n < 0) return CM_E_STATE;
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        if (!d || d->maxInputChannels < 1) continue;
        if (out && k < cap) fill_device(i, d, &out[k]);
        k++;
    }
    *n_total = k;
    return CM_OK;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return true;
    }
    return n == 0;
}

cm_status cm_capture_find(const char *spec, cm_capture_device *out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    memset(out, 0, sizeof *out);
    out->index = -1;
    int n = Pa_GetDeviceCount();
    if (n < 0) return cm_diag_fail(why, CM_E_STATE, "audio system not initialised");
    if (!spec || !*spec) {
        int i = Pa_GetDefaultInputDevice();
        const PaDeviceInfo *d = i == paNoDevice ? NULL : Pa_GetDeviceInfo(i);
        if (!d || d->maxInputChannels < 1)
            return cm_diag_fail(why, CM_E_IO,
                                "no default input device (see 'crymeter devices')");
        fill_device(i, d, out);
        return CM_OK;
    }
    bool digits = true;
    for (const char *p = spec; *p; p++)
        if (!isdigit((unsigned char)*p)) digits = false;
    if (digits) {
        long i = strtol(spec, NULL, 10);
        const PaDeviceInfo *d = i < n ? Pa_GetDeviceInfo((int)i) : NULL;
        if (!d || d->maxInputChannels < 1)
            return cm_diag_fail(why, CM_E_RANGE,
                                "device %s: no input device with that index (see "
                                "'crymeter devices')",
                                spec);
        fill_device((int)i, d, out);
        return CM_OK;
    }
    int found = -1, matches = 0, exact = -1;
    const char *first = NULL, *second = NULL;
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        if (!d || d->maxInputChannels < 1 || !d->name) continue;
        if (!strcmp(d->name, spec)) exact = i;
        if (contains_ci(d->name, spec)) {
            if (matches == 0) first = d->name, found = i;
            else if (matches == 1) second = d->name;
            matches++;
        }
    }
    if (exact >= 0) found = exact, matches = 1;
    if (matches == 0)
        return cm_diag_fail(why, CM_E_RANGE,
                            "device '%s': no input device name contains it (see "
                            "'crymeter devices')",
                            spec);
    if (matches > 1)
        return cm_diag_fail(why, CM_E_RANGE,
                            "device '%s' is ambiguous: %d input devices match ('%s', '%s'%s); "
                            "give an index or more of the name",
                            spec, matches, first, second, matches > 2 ? ", ..." : "");
    fill_device(found, Pa_GetDeviceInfo(found), out);
    return CM_OK;
}

cm_capture_config cm_capture_config_default(void)
{
    cm_capture_config c;
    memset(&c, 0, sizeof c);
    c.device_index = -1;
    c.channels = 1;
    c.ring_s = 4.0;
    c.stall_s = 3.0;
    return c;
}

/* The real-time path. */
static int on_pa(const void *input, void *output, unsigned long n, const PaStreamCallbackTimeInfo *ti,
                 PaStreamCallbackFlags flags, void *user)
{
    cm_capture *c = user;
    (void)output;
    (void)ti;
    if (flags & paInputOverflow) atomic_fetch_add_explicit(&c->overflows, 1, memory_order_relaxed);
    const int16_t *in = input;
    size_t ch = c->channels, left = n, lost = 0;
    while (in && left > 0) {
        size_t k = left < c->scratch_frames ? left : c->scratch_frames;
        for (size_t i = 0; i < k * ch; i++) c->scratch[i] = (float)in[i] * (1.0f / 32768.0f);
        size_t w = cm_ring_write(&c->ring, c->scratch, k);
        lost += k - w;
        in += k * ch;
        left -= k;
    }
    if (!input) lost = n; /* PortAudio gave no buffer: the frames are gone */
    if (lost) atomic_fetch_add_explicit(&c->dropped, lost, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->captured, n, memory_order_relaxed);
    return paContinue;
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
            if (!atomic_load_explicit(&c->done, memory_order_relaxed)) {
                uint64_t d = atomic_load_explicit(&c->delivered, memory_order_relaxed);
                if (c->cfg.max_frames && d + k >= c->cfg.max_frames) {
                    k = (size_t)(c->cfg.max_frames - d);
                    atomic_store_explicit(&c->done, true, memory_order_release);
                }
                int want_stop = k ? c->cfg.on_audio(c->cfg.user, p[r] + off * c->channels, k) : 0;
                atomic_store_explicit(&c->delivered, d + k, memory_order_relaxed);
                if (want_stop) atomic_store_explicit(&c->done, true, memory_order_release);
                if (k == 0) break;
            } else {
                break; /* done: the rest is discarded, not dropped */
            }
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

void cm_capture_close(cm_capture *c)
{
    if (!c) return;
    cm_status ignored = cm_capture_stop(c, NULL); /* nobody to tell at this point */
    (void)ignored;
    if (c->hung) return; /* its callback may still write to the ring: leave it all */
    if (c->stream) Pa_CloseStream(c->stream);
    free(c->ring_mem);
    free(c->scratch);
    free(c);
}

cm_status cm_capture_open(const cm_capture_config *cfg, cm_capture **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!cfg || !cfg->on_audio) return cm_diag_fail(why, CM_E_INVAL, "on_audio is required");
    int dev = cfg->device_index >= 0 ? cfg->device_index : Pa_GetDefaultInputDevice();
    if (Pa_GetDeviceCount() < 0) return cm_diag_fail(why, CM_E_STATE, "audio system not initialised");
    const PaDeviceInfo *d = dev == paNoDevice ? NULL : Pa_GetDeviceInfo(dev);
    if (!d || d->maxInputChannels < 1)
        return cm_diag_fail(why, CM_E_RANGE, "device_index=%d: not an input device",
                            cfg->device_index);
    unsigned rate = cfg->rate_hz ? cfg->rate_hz : (unsigned)(d->defaultSampleRate + 0.5);
    if (rate < 8000 || rate > 192000)
        return cm_diag_fail(why, CM_E_RANGE, "rate_hz=%u: must be 8000..192000", rate);
    if (cfg->channels < 1 || cfg->channels > (unsigned)d->maxInputChannels ||
        cfg->channels > 64)
        return cm_diag_fail(why, CM_E_RANGE, "channels=%u: device '%s' has 1..%d", cfg->channels,
                            d->name, d->maxInputChannels);
    if (!(cfg->ring_s >= 0.5 && cfg->ring_s <= 60.0))
        return cm_diag_fail(why, CM_E_RANGE, "ring_s=%g: must be 0.5..60", cfg->ring_s);
    unsigned hop = cfg->hop_frames ? cfg->hop_frames : rate / 100;
    if (hop < 1 || hop > rate)
        return cm_diag_fail(why, CM_E_RANGE, "hop_frames=%u: must be 1..%u", hop, rate);
    if (!(cfg->latency_s >= 0.0 && cfg->latency_s <= 2.0))
        return cm_diag_fail(why, CM_E_RANGE, "latency_s=%g: must be 0..2", cfg->latency_s);
    if (!(cfg->stall_s >= 0.0))
        return cm_diag_fail(why, CM_E_RANGE, "stall_s=%g: must be >= 0", cfg->stall_s);

    cm_capture *c = calloc(1, sizeof *c);
    if (!c) return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    c->cfg = *cfg;
    c->rate_hz = rate;
    c->channels = cfg->channels;
    c->hop_frames = hop;
    snprintf(c->device_name, sizeof c->device_name, "%s", d->name ? d->name : "?");
    atomic_init(&c->captured, 0);
    atomic_init(&c->dropped, 0);
    atomic_init(&c->overflows, 0);
    atomic_init(&c->delivered, 0);
    atomic_init(&c->done, false);
    atomic_init(&c->finished, false);
    atomic_init(&c->stop, false);

    size_t cap = cm_ring_round_capacity((size_t)(cfg->ring_s * rate + 0.5));
    c->scratch_frames = hop;
    c->ring_mem = cap ? malloc(cap * c->channels * sizeof(float)) : NULL;
    c->scratch = malloc(c->scratch_frames * c->channels * sizeof(float));
    if (!c->ring_mem || !c->scratch) {
        cm_capture_close(c);
        return cm_diag_fail(why, CM_E_NOMEM, "out of memory for a %.1f s ring", cfg->ring_s);
    }
    if (cm_ring_init(&c->ring, c->ring_mem, cap, c->channels) != CM_OK) {
        cm_capture_close(c);
        return cm_diag_fail(why, CM_E_RANGE, "ring of %zu frames refused", cap);
    }

    PaStreamParameters in;
    memset(&in, 0, sizeof in);
    in.device = dev;
    in.channelCount = (int)c->channels;
    in.sampleFormat = paInt16;
    /* The high default latency gives the host the most buffering: monitor needs seconds of
     * latency at most, and dropped audio is worse than 100 ms more delay. */
    in.suggestedLatency = cfg->latency_s > 0 ? cfg->latency_s : d->defaultHighInputLatency;
    PaError e = Pa_IsFormatSupported(&in, NULL, rate);
    if (e != paFormatIsSupported) {
        cm_capture_close(c);
        return cm_diag_fail(why, CM_E_RANGE,
                            "device '%s' does not support %u Hz, %u channel(s), 16-bit: %s",
                            d->name, rate, c->channels, Pa_GetErrorText(e));
    }
    e = Pa_OpenStream(&c->stream, &in, NULL, rate, hop, paNoFlag, on_pa, c);
    if (e != paNoError) {
        c->stream = NULL;
        cm_capture_close(c);
        return cm_diag_fail(why, CM_E_IO, "device '%s': cannot open: %s", d->name,
                            Pa_GetErrorText(e));
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
    c->last_change_s = now_s();
    PaError e = Pa_StartStream(c->stream);
    if (e != paNoError) {
        cm_status ignored = cm_capture_stop(c, NULL); /* the start error is the news */
        (void)ignored;
        return cm_diag_fail(why, CM_E_IO, "device '%s': cannot start: %s", c->device_name,
                            Pa_GetErrorText(e));
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
    PaError a = Pa_IsStreamActive(c->stream);
    if (a != 1)
        return cm_diag_fail(why, CM_E_IO, "device '%s' stopped delivering audio (%s)",
                            c->device_name, a < 0 ? Pa_GetErrorText(a) : "stream ended");
    uint64_t cap = atomic_load_explicit(&c->captured, memory_order_relaxed);
    double t = now_s();
    if (cap != c->last_captured) {
        c->last_captured = cap;
        c->last_change_s = t;
    } else if (c->cfg.stall_s > 0 && t - c->last_change_s > c->cfg.stall_s) {
        return cm_diag_fail(why, CM_E_IO, "device '%s': no audio for %.1f s (unplugged?)",
                            c->device_name, t - c->last_change_s);
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
        /* Abort, not Stop: an input stream has nothing to play out, and Pa_StopStream can
         * wait on a device that has gone away. Callbacks have returned when this does. */
        PaError e = paNoError;
        if (Pa_IsStreamStopped(c->stream) != 1 && abort_bounded(c->stream, &e)) {
            /* The worker still drains what the ring holds and flushes; the stream and the
             * ring it writes to are abandoned (never freed), PortAudio is not touched
             * again. */
            c->hung = true;
            st = cm_diag_fail(why, CM_E_IO,
                              "device '%s' did not stop within %d s (driver not responding); "
                              "analysed what was captured",
                              c->device_name, ABORT_TIMEOUT_S);
        } else if (e != paNoError) {
            st = cm_diag_fail(why, CM_E_IO, "device '%s': stopping: %s", c->device_name,
                              Pa_GetErrorText(e));
        }
    }
    atomic_store_explicit(&c->stop, true, memory_order_release);
    if (c->worker_started) pthread_join(c->worker, NULL);
    return st;
}

bool cm_capture_hung(const cm_capture *c) { return c && c->hung; }

unsigned cm_capture_rate_hz(const cm_capture *c) { return c->rate_hz; }
unsigned cm_capture_channels(const cm_capture *c) { return c->channels; }
const char *cm_capture_device_name(const cm_capture *c) { return c->device_name; }
