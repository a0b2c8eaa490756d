/* SPDX-License-Identifier: MIT */
/* Runtime. The seam below cm_capture: where captured frames come from. cm_capture (capture.c)
 * owns what every device shares: the ring, the worker thread that drains it into the caller,
 * the counters, stall detection and a stop that gives up on a driver that never returns. A
 * source owns one device and calls the sink from its own delivery thread.
 *
 * Two sources implement it: PortAudio (capture_pa.c: the real path, the default) and a
 * scripted one (capture_script.h) that tests drive to make a device deliver, stall, hang,
 * fail, vanish or overflow by construction, whatever the scheduler does. Both go through
 * the same cm_capture code above this line, so what the tests show of the fault handling
 * holds for the real device.
 *
 * Threads: the ops run on the control thread, except that abort may be run on a helper
 * thread that cm_capture abandons when it does not return (a stuck driver); the sink
 * functions run on the source's delivery thread only. */
#ifndef CRYMETER_CAPTURE_SOURCE_H
#define CRYMETER_CAPTURE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The capture seen from a source: an opaque handle to pass to the sink functions. */
typedef struct cm_capture cm_capture_sink;

/* Delivery thread. Copies n_frames interleaved frames (channels as opened) into the ring
 * and counts those that did not fit as dropped; counts all n_frames as captured. Real-time
 * safe: no lock, allocation, system call or I/O. */
void cm_capture_sink_write(cm_capture_sink *s, const float *interleaved, size_t n_frames);
/* Delivery thread. Frames the ring accepts now: a source with no clock of its own (the
 * scripted one) paces itself on it instead of dropping. */
size_t cm_capture_sink_space(const cm_capture_sink *s);
/* Delivery thread. n_frames the device captured but could not hand over: counted as
 * captured and dropped. */
void cm_capture_sink_lost(cm_capture_sink *s, size_t n_frames);
/* Delivery thread. The device reported input lost before it reached us (paInputOverflow). */
void cm_capture_sink_overflow(cm_capture_sink *s);

typedef enum cm_source_state {
    CM_SOURCE_RUNNING = 0, /* started and delivering (or quiet: stall detection decides) */
    CM_SOURCE_ENDED,       /* the stream stopped by itself */
    CM_SOURCE_FAILED       /* the device failed or went away; why says how */
} cm_source_state;

typedef struct cm_capture_source cm_capture_source;

typedef struct cm_capture_source_ops {
    /* Opens the stream at rate_hz and channels, delivering hop_frames per call where the
     * device allows; not started. sink stays valid until close. CM_E_RANGE with why for a
     * format the device refuses, CM_E_IO when it cannot be opened. */
    cm_status (*open)(cm_capture_source *src, cm_capture_sink *sink, unsigned rate_hz,
                      unsigned channels, unsigned hop_frames, cm_diag *why);
    cm_status (*start)(cm_capture_source *src, cm_diag *why);
    /* Control thread, while started. */
    cm_source_state (*state)(cm_capture_source *src, cm_diag *why);
    /* Stops delivery: after it returns no sink function runs. May block for good (a driver
     * stuck in a read); cm_capture then abandons the source and never calls close. */
    cm_status (*abort)(cm_capture_source *src, cm_diag *why);
    /* Frees the source (stopped or never started). */
    void (*close)(cm_capture_source *src);
    /* The clock stall detection runs on, seconds, monotonic. */
    double (*now_s)(cm_capture_source *src);
} cm_capture_source_ops;

/* Base of every source (its first member). */
struct cm_capture_source {
    const cm_capture_source_ops *ops;
    char name[256];          /* the device's name, for messages and records */
    unsigned max_channels;   /* what open accepts */
    unsigned default_rate_hz;
};

/* The PortAudio device device_index (-1: the default input), with the suggested input
 * latency latency_s (0: the device's high default). CM_E_RANGE with why when it is not an
 * input device. Needs cm_capture_system_init. */
CM_NODISCARD cm_status cm_capture_source_portaudio(int device_index, double latency_s,
                                                    cm_capture_source **out, cm_diag *why);

#ifdef __cplusplus
}
#endif
#endif
