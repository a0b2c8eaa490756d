/* SPDX-License-Identifier: MIT */
/* Runtime. Live audio capture: a source (a PortAudio input stream by default; see
 * capture_source.h) whose delivery thread only copies samples into a preallocated SPSC ring
 * (cm_ring) and counts what did not fit, and a worker thread that drains the ring in
 * hop-sized chunks into a caller function (for crymeter monitor: cm_analyzer_push). PortAudio
 * stays private to src/io/capture_pa.c.
 *
 * Samples are requested from the device as 16-bit integers and scaled to float
 * (x / 32768) in the callback: every ALSA device and plugin supports S16 natively, and the
 * ALSA `file` PCM used by the tests delivers garbage when float is requested through a
 * plug conversion (alsa-lib 1.2.8). 16 bits (96 dB) exceed any microphone's dynamic range.
 *
 * Life cycle, all on one thread (the "control" thread) unless noted:
 *   cm_capture_system_init -> [cm_capture_list / cm_capture_find] -> cm_capture_open ->
 *   cm_capture_start -> (cm_capture_poll, cm_capture_get_stats periodically) ->
 *   cm_capture_stop -> cm_capture_close -> cm_capture_system_done.
 * on_audio and on_end run on the worker thread; nothing else of the caller's runs there. */
#ifndef CRYMETER_CAPTURE_H
#define CRYMETER_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crymeter/capture_source.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Initialises the audio system (PortAudio: enumerates host APIs and devices; ALSA and JACK
 * may print diagnostics on stderr while doing so). Reference counted: every successful call
 * needs one cm_capture_system_done. CM_E_IO with why when the audio system is unusable. */
CM_NODISCARD cm_status cm_capture_system_init(cm_diag *why);
void cm_capture_system_done(void);

typedef struct cm_capture_device {
    int index;                    /* PortAudio device index; stable while initialised */
    char name[256];
    char host_api[64];            /* "ALSA", "JACK Audio Connection Kit", ... */
    unsigned max_input_channels;  /* >= 1 (only input devices are listed) */
    double default_rate_hz;
    double default_low_latency_s; /* input latencies PortAudio suggests */
    double default_high_latency_s;
    bool is_default;              /* the system's default input */
} cm_capture_device;

/* Input devices in index order. Writes up to cap entries to out and the total count to
 * *n_total (which may exceed cap). CM_E_STATE before cm_capture_system_init. */
CM_NODISCARD cm_status cm_capture_list(cm_capture_device *out, size_t cap, size_t *n_total);

/* Resolves a --device argument: NULL or "" = the default input; all digits = that device
 * index; otherwise a case-insensitive substring of the name (an exact name wins over
 * substrings). CM_E_RANGE with why when nothing or more than one device matches, or the
 * index is not an input device; CM_E_IO when there is no default input. */
CM_NODISCARD cm_status cm_capture_find(const char *spec, cm_capture_device *out, cm_diag *why);

/* Called on the worker thread with n_frames interleaved frames (n_frames * channels
 * floats, -1..1), valid only during the call. Returning non-zero stops delivery (the
 * worker discards further audio and reports done). */
typedef int (*cm_capture_audio_fn)(void *user, const float *interleaved, size_t n_frames);
/* Called once on the worker thread after the last on_audio (drain complete), before the
 * worker exits: the place to flush an analyzer. */
typedef void (*cm_capture_end_fn)(void *user);

typedef struct cm_capture_config {
    int device_index;       /* from cm_capture_find; -1 = default input */
    unsigned rate_hz;       /* 8000..192000; 0 = the device's default rate */
    unsigned channels;      /* 1..max_input_channels; default 1 */
    double ring_s;          /* ring capacity, seconds, 0.5..60; default 4 (rounded up to a
                               power of two frames); covers worker stalls */
    unsigned hop_frames;    /* worker chunk and callback size; 0 = rate / 100 (10 ms) */
    double latency_s;       /* suggested input latency; 0 = the device's high latency */
    uint64_t max_frames;    /* deliver at most this many frames, then done; 0 = no limit */
    double stall_s;         /* no frames from an active stream for this long (on the
                               source's clock) is a device error; default 3 s, 0 = never */
    double stop_timeout_s;  /* how long cm_capture_stop waits for the source to stop before
                               abandoning it as hung; 0.1..60, default 5 */
    cm_capture_source *source; /* NULL: the PortAudio device device_index with latency_s.
                               Else this source: cm_capture_open takes it over whatever it
                               returns (closes it on failure, and in cm_capture_close) */
    cm_capture_audio_fn on_audio; /* required */
    cm_capture_end_fn on_end;     /* may be NULL */
    void *user;
} cm_capture_config;

cm_capture_config cm_capture_config_default(void);

typedef struct cm_capture cm_capture;

/* Opens the stream (not started) and allocates the ring: nothing allocates later.
 * channels is checked against the source's max_channels; rate_hz 0 takes its default.
 * CM_E_RANGE with why for a bad field or a format the device refuses ("device 'X' does not
 * support 44100 Hz, 3 channels, 16-bit"); CM_E_IO when PortAudio cannot open it. */
CM_NODISCARD cm_status cm_capture_open(const cm_capture_config *cfg, cm_capture **out,
                                       cm_diag *why);
/* Starts the worker, then the stream. CM_E_IO with why if the stream does not start. */
CM_NODISCARD cm_status cm_capture_start(cm_capture *c, cm_diag *why);

typedef struct cm_capture_stats {
    uint64_t frames_captured;  /* frames the device delivered to the callback */
    uint64_t frames_dropped;   /* of those, frames that did not fit in the ring (only those
                                  before max_frames: later ones were never asked for) */
    uint64_t overflows;        /* callbacks flagged paInputOverflow (lost before us) */
    uint64_t frames_delivered; /* frames passed to on_audio */
    bool done;                 /* max_frames reached or on_audio asked to stop */
    bool finished;             /* the worker has called on_end and exited */
} cm_capture_stats;

/* Any thread, any time after open: counters are atomics, read without locks. */
void cm_capture_get_stats(const cm_capture *c, cm_capture_stats *out);

/* Control thread, periodically (e.g. every 50 ms) while running: CM_OK, or CM_E_IO with why
 * when the device failed (the stream stopped by itself: unplugged, host error) or stalled
 * for stall_s. After CM_E_IO, call cm_capture_stop to drain what was captured. The stall
 * clock starts at the first poll after start, so a control thread that was descheduled
 * between start and poll does not count as device silence. */
CM_NODISCARD cm_status cm_capture_poll(cm_capture *c, cm_diag *why);

/* Stops the stream, then tells the worker to drain what is left in the ring, call on_end
 * and exit, and joins it. After return no callback runs (unless cm_capture_hung). Idempotent.
 * CM_E_IO with why when the source reports an error stopping the stream, or does not return
 * within stop_timeout_s (the worker is joined either way). */
CM_NODISCARD cm_status cm_capture_stop(cm_capture *c, cm_diag *why);
/* True when stopping gave up on a driver that did not return within stop_timeout_s: the
 * worker has still drained and flushed, but the source is abandoned. cm_capture_close then
 * frees nothing, and cm_capture_system_done must not be called (it would wait on the
 * driver). */
bool cm_capture_hung(const cm_capture *c);
void cm_capture_close(cm_capture *c); /* stops if needed; NULL is a no-op */

unsigned cm_capture_rate_hz(const cm_capture *c);
unsigned cm_capture_channels(const cm_capture *c);
/* The opened device's name (static for the capture's lifetime). */
const char *cm_capture_device_name(const cm_capture *c);

#ifdef __cplusplus
}
#endif
#endif
