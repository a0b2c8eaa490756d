/* SPDX-License-Identifier: MIT */
/* Runtime. Segmenter: turns per-window class decisions plus per-frame activity into episodes
 * of one class, with a merge gap and a minimum length.
 *
 * Windows come from the detector (about 1 s long, scored every hop); each positive window
 * contributes its core, the hop-long span around its centre. Episode edges are then snapped
 * to frame-level activity (level above the noise floor) near the core's edges, so that edges
 * are precise to a frame (10 ms) where the sound stands out of the background, and to a hop
 * where it does not. Spans closer than the merge gap join one episode; episodes shorter than
 * the minimum, or with fewer positive windows than min_windows, are discarded. Optionally
 * the start of a new episode moves back over the weak windows just before it.
 * Frame indices are 10 ms frames (cm_frame.index). Memory is constant. */
#ifndef CRYMETER_SEGMENTER_H
#define CRYMETER_SEGMENTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_seg_config {
    unsigned hop_frames;        /* detector hop, core length; 1..1000 */
    unsigned merge_gap_frames;  /* gaps of at most this many frames join; <= 6000 (60 s) */
    unsigned min_frames;        /* shorter episodes are discarded */
    unsigned snap_frames;       /* how far an edge may move to meet activity; <= 200 */
    /* Onset back-dating (0 = off; <= 600): a new episode may start at the core of the
     * first of the weak windows (cm_seg_window_level, level 1) that led up to the positive
     * window that opened it, at most this many frames before that window's core (then
     * moved forward to the first active frame, never back). Weak windows lead up to it when
     * their cores, and the last of them and the opening window's core, are at most
     * bridge_frames (<= 300; 0: only an unbroken run) apart. The detector becomes sure of a
     * sound later than it begins; the weaker evidence before it tells where it began. The
     * minimum length (min_frames) is measured from the start before back-dating, so
     * back-dating never keeps an episode that would have been dropped. */
    unsigned backdate_frames, bridge_frames;
    /* Evidence: an episode with fewer positive (level 2) windows than this is dropped, like
     * one shorter than min_frames; 0 or 1 = off. Weak windows are never evidence. */
    unsigned min_windows;
} cm_seg_config;

typedef enum cm_seg_kind {
    CM_SEG_OPEN = 0,   /* a new episode [start, end] */
    CM_SEG_EXTEND = 1, /* the open episode now ends at end */
    CM_SEG_CLOSE = 2,  /* the open episode is final: [start, end] */
    CM_SEG_DROP = 3    /* the open episode ended shorter than min_frames: forget it */
} cm_seg_kind;

typedef struct cm_seg_update {
    cm_seg_kind kind;
    uint64_t start_frame, end_frame; /* inclusive */
} cm_seg_update;

typedef struct cm_seg cm_seg;

CM_NODISCARD cm_status cm_seg_create(const cm_seg_config *cfg, cm_seg **out, cm_diag *why);
void cm_seg_destroy(cm_seg *s);

/* Every frame, in index order, before any window that contains it. */
void cm_seg_frame(cm_seg *s, uint64_t frame, bool active);
/* One detector window [first, last], positive or not for this segmenter's class. Writes up
 * to 3 updates to out (capacity 3) and returns their number. */
size_t cm_seg_window(cm_seg *s, uint64_t first, uint64_t last, bool positive,
                     cm_seg_update out[3]);
/* The same with a level: 0 negative, 2 positive (cm_seg_window's false and true), 1 weak:
 * negative for the open episode (it neither extends nor keeps it), but a run of weak windows
 * just before a positive one that opens an episode lets its start move back (backdate_frames). */
size_t cm_seg_window_level(cm_seg *s, uint64_t first, uint64_t last, int level,
                           cm_seg_update out[3]);
/* Positive windows of the open episode so far (0 when none is open). */
unsigned cm_seg_evidence(const cm_seg *s);
/* Raises the evidence the open episode needs to be kept to min_windows positive windows
 * (never below the configured min_windows; no-op when none is open or it needs more already):
 * the caller knows something about this episode's start that the windows do not say (the
 * home layer just matched the household's own sounds). */
void cm_seg_require(cm_seg *s, unsigned min_windows);
/* Positive windows the open episode needs to be kept (0 when none is open). */
unsigned cm_seg_required(const cm_seg *s);
/* The open episode's start before back-dating (0 when none is open): min_frames counts
 * from here. */
uint64_t cm_seg_evidence_start(const cm_seg *s);
/* End of input: closes or drops the open episode. Returns 0 or 1 updates. */
size_t cm_seg_finish(cm_seg *s, cm_seg_update out[1]);
bool cm_seg_is_open(const cm_seg *s);

#ifdef __cplusplus
}
#endif
#endif
