/* SPDX-License-Identifier: MIT */
/* Segmenter: turns per-window class decisions plus per-frame activity into episodes of one
 * class, with a merge gap and a minimum length.
 *
 * Windows come from the detector (about 1 s long, scored every hop); each positive window
 * contributes its core, the hop-long span around its centre. Episode edges are then snapped
 * to frame-level activity (level above the noise floor) near the core's edges, so that edges
 * are precise to a frame (10 ms) where the sound stands out of the background, and to a hop
 * where it does not. Spans closer than the merge gap join one episode; episodes shorter than
 * the minimum are discarded.
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
/* End of input: closes or drops the open episode. Returns 0 or 1 updates. */
size_t cm_seg_finish(cm_seg *s, cm_seg_update out[1]);
bool cm_seg_is_open(const cm_seg *s);

#ifdef __cplusplus
}
#endif
#endif
