/* SPDX-License-Identifier: MIT */
/* The PortAudio source of cm_capture (see include/crymeter/capture_source.h) and the
 * device list. The real-time callback converts the S16 input to float in a preallocated
 * block and hands it to the sink, which copies it into the ring: no locks, allocation, I/O
 * or logging there (STYLE §6). */
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


static double now_s(cm_capture_source *src)
{
    (void)src;
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


typedef struct pa_source {
    cm_capture_source base; /* first: a cm_capture_source * is a pa_source * */
    int device;
    double latency_s;
    cm_capture_sink *sink;
    unsigned channels;
    PaStream *stream;
    float *scratch; /* callback: one S16->float conversion block */
    size_t scratch_frames;
} pa_source;

/* The real-time path. */
static int on_pa(const void *input, void *output, unsigned long n, const PaStreamCallbackTimeInfo *ti,
                 PaStreamCallbackFlags flags, void *user)
{
    pa_source *p = user;
    (void)output;
    (void)ti;
    if (flags & paInputOverflow) cm_capture_sink_overflow(p->sink);
    const int16_t *in = input;
    size_t ch = p->channels, left = n;
    if (!in) { /* PortAudio gave no buffer: the frames are gone */
        cm_capture_sink_lost(p->sink, n);
        return paContinue;
    }
    while (left > 0) {
        size_t k = left < p->scratch_frames ? left : p->scratch_frames;
        for (size_t i = 0; i < k * ch; i++) p->scratch[i] = (float)in[i] * (1.0f / 32768.0f);
        cm_capture_sink_write(p->sink, p->scratch, k);
        in += k * ch;
        left -= k;
    }
    return paContinue;
}

static cm_status pa_open(cm_capture_source *src, cm_capture_sink *sink, unsigned rate,
                         unsigned channels, unsigned hop, cm_diag *why)
{
    pa_source *p = (pa_source *)src;
    const PaDeviceInfo *d = Pa_GetDeviceInfo(p->device);
    if (!d) return cm_diag_fail(why, CM_E_IO, "device '%s' is gone", src->name);
    p->sink = sink;
    p->channels = channels;
    p->scratch_frames = hop;
    p->scratch = malloc(hop * channels * sizeof(float));
    if (!p->scratch) return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    PaStreamParameters in;
    memset(&in, 0, sizeof in);
    in.device = p->device;
    in.channelCount = (int)channels;
    in.sampleFormat = paInt16;
    /* The high default latency gives the host the most buffering: monitor needs seconds of
     * latency at most, and dropped audio is worse than 100 ms more delay. */
    in.suggestedLatency = p->latency_s > 0 ? p->latency_s : d->defaultHighInputLatency;
    PaError e = Pa_IsFormatSupported(&in, NULL, rate);
    if (e != paFormatIsSupported)
        return cm_diag_fail(why, CM_E_RANGE,
                            "device '%s' does not support %u Hz, %u channel(s), 16-bit: %s",
                            src->name, rate, channels, Pa_GetErrorText(e));
    e = Pa_OpenStream(&p->stream, &in, NULL, rate, hop, paNoFlag, on_pa, p);
    if (e != paNoError) {
        p->stream = NULL;
        return cm_diag_fail(why, CM_E_IO, "device '%s': cannot open: %s", src->name,
                            Pa_GetErrorText(e));
    }
    return CM_OK;
}

static cm_status pa_start(cm_capture_source *src, cm_diag *why)
{
    pa_source *p = (pa_source *)src;
    PaError e = Pa_StartStream(p->stream);
    if (e != paNoError)
        return cm_diag_fail(why, CM_E_IO, "device '%s': cannot start: %s", src->name,
                            Pa_GetErrorText(e));
    return CM_OK;
}

static cm_source_state pa_state(cm_capture_source *src, cm_diag *why)
{
    pa_source *p = (pa_source *)src;
    PaError a = Pa_IsStreamActive(p->stream);
    if (a == 1) return CM_SOURCE_RUNNING;
    if (a == 0) return CM_SOURCE_ENDED;
    cm_diag_fail(why, CM_E_IO, "%s", Pa_GetErrorText(a));
    return CM_SOURCE_FAILED;
}

static cm_status pa_abort(cm_capture_source *src, cm_diag *why)
{
    /* Abort, not Stop: an input stream has nothing to play out, and Pa_StopStream can wait
     * on a device that has gone away. Callbacks have returned when this does. */
    pa_source *p = (pa_source *)src;
    if (!p->stream || Pa_IsStreamStopped(p->stream) == 1) return CM_OK;
    PaError e = Pa_AbortStream(p->stream);
    if (e != paNoError) return cm_diag_fail(why, CM_E_IO, "%s", Pa_GetErrorText(e));
    return CM_OK;
}

static void pa_close(cm_capture_source *src)
{
    pa_source *p = (pa_source *)src;
    if (p->stream) Pa_CloseStream(p->stream);
    free(p->scratch);
    free(p);
}

static const cm_capture_source_ops pa_ops = {pa_open, pa_start, pa_state, pa_abort, pa_close,
                                             now_s};

cm_status cm_capture_source_portaudio(int device_index, double latency_s, cm_capture_source **out,
                                      cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (Pa_GetDeviceCount() < 0)
        return cm_diag_fail(why, CM_E_STATE, "audio system not initialised");
    int dev = device_index >= 0 ? device_index : Pa_GetDefaultInputDevice();
    const PaDeviceInfo *d = dev == paNoDevice ? NULL : Pa_GetDeviceInfo(dev);
    if (!d || d->maxInputChannels < 1)
        return cm_diag_fail(why, CM_E_RANGE, "device_index=%d: not an input device", device_index);
    pa_source *p = calloc(1, sizeof *p);
    if (!p) return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    p->base.ops = &pa_ops;
    snprintf(p->base.name, sizeof p->base.name, "%s", d->name ? d->name : "?");
    p->base.max_channels = (unsigned)d->maxInputChannels;
    p->base.default_rate_hz = (unsigned)(d->defaultSampleRate + 0.5);
    p->device = dev;
    p->latency_s = latency_s;
    *out = &p->base;
    return CM_OK;
}
