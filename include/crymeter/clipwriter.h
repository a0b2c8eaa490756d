/* SPDX-License-Identifier: MIT */
/* Runtime. Episode clips for crymeter monitor: keeps a history of recent audio and writes
 * each episode, from pre_roll_s before its start to post_roll_s after its end, as a 16-bit
 * WAV file (libsndfile) from its own writer thread, so a slow or full disk never stalls
 * capture or analysis. A failed write is reported through cm_clipwriter_next_message and
 * counted; the clip is closed and the next episode gets a new file.
 *
 * Threading: cm_clipwriter_push, _episode_start and _episode_end are called by one thread
 * (the analysis worker), in audio order; _next_message and _get_stats by any thread;
 * create / close on the owner thread. The history is bounded (pre + post + hold + history
 * seconds), so memory is constant; if the writer falls further behind than that, the gap
 * is counted as clip_frames_lost and the clip continues after it. */
#ifndef CRYMETER_CLIPWRITER_H
#define CRYMETER_CLIPWRITER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crymeter/analyzer.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_clipwriter_config {
    const char *dir;      /* existing, writable directory; copied */
    unsigned rate_hz;     /* 8000..192000 */
    unsigned channels;    /* 1..64 */
    double pre_roll_s;    /* 0..60, default 3 */
    double post_roll_s;   /* 0..60, default 1 */
    double hold_s;        /* an episode's end is known only after the merge gap: until
                             its end event the writer stays hold_s behind the newest audio
                             so nothing past end + post-roll is written; set it to the
                             merge gap + detection latency; 0..600 s, default 10 */
    double history_s;     /* extra history for the start event's detection delay and a
                             slow disk, 5..600 s, default 30 */
    time_t t0;            /* wall-clock time of frame 0, for file names (local time) */
} cm_clipwriter_config;

cm_clipwriter_config cm_clipwriter_config_default(const char *dir, unsigned rate_hz,
                                                  unsigned channels);

typedef struct cm_clipwriter cm_clipwriter;

/* Checks the config and the directory (CM_E_RANGE / CM_E_IO with why), allocates the
 * history and starts the writer thread. */
CM_NODISCARD cm_status cm_clipwriter_create(const cm_clipwriter_config *cfg,
                                            cm_clipwriter **out, cm_diag *why);
/* Appends n_frames interleaved frames (audio in order, from frame 0). Copies; never does
 * file I/O. */
void cm_clipwriter_push(cm_clipwriter *cw, const float *interleaved, size_t n_frames);
/* An episode started (CM_EVENT_START) / ended (CM_EVENT_END). Episodes are handled in
 * order; at most 16 may be pending, more are dropped and counted. */
void cm_clipwriter_episode_start(cm_clipwriter *cw, const cm_episode *ep);
void cm_clipwriter_episode_end(cm_clipwriter *cw, const cm_episode *ep);

/* The path the clip of ep goes to: DIR/crymeter-YYYYmmdd-HHMMSS-<id>-<class>.wav, the time
 * being t0 + the episode's start (local time). If that file exists when the clip is
 * written, ".1" ... ".99" goes before ".wav" instead (see the clip's message). */
void cm_clipwriter_clip_path(const cm_clipwriter *cw, const cm_episode *ep, char *buf,
                             size_t len);

/* Pops the oldest message ("clip 3: /dir/x.wav (12.4 s)" or "clip 3: /dir/x.wav: write
 * failed (System error : No space left on device.); clip cut at 2.1 s; monitoring goes on",
 * the cause as libsndfile words it) into buf; 1 if there was one. */
int cm_clipwriter_next_message(cm_clipwriter *cw, char *buf, size_t len, int *is_error);

typedef struct cm_clipwriter_stats {
    unsigned clips_written;     /* complete */
    unsigned clips_failed;      /* cut short by a write error or not created */
    unsigned episodes_skipped;  /* more than 16 pending */
    uint64_t clip_frames_lost;  /* writer too far behind the history */
} cm_clipwriter_stats;
void cm_clipwriter_get_stats(cm_clipwriter *cw, cm_clipwriter_stats *out);

/* No more audio: finishes pending clips with the audio there is (post-roll may be short)
 * and joins the writer. Messages and stats stay readable. Idempotent. */
void cm_clipwriter_finish(cm_clipwriter *cw);
/* Finishes if needed and frees everything. NULL is a no-op. */
void cm_clipwriter_close(cm_clipwriter *cw);

#ifdef __cplusplus
}
#endif
#endif
