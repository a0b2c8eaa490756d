/* SPDX-License-Identifier: MIT */
/* Segmenter: positive detector windows -> cores -> activity-snapped spans -> episodes with a
 * merge gap and a minimum length. See include/crymeter/segmenter.h for the contract. */
#include "crymeter/segmenter.h"

#include <stdlib.h>

/* Activity of the most recent frames, enough to snap an edge back and forth: the window
 * centre lies half a window (50 frames) behind the newest frame, and an edge may move
 * snap_frames either way. 1024 frames = 10.24 s covers windows of up to 8 s. */
#define ACT_RING 1024u

struct cm_seg {
    cm_seg_config cfg;
    uint8_t act[ACT_RING];
    uint64_t n_frames; /* frames seen; frame f is known iff f < n_frames && n_frames-f <= ACT_RING */
    bool open;
    uint64_t start, end; /* inclusive frame span of the open episode */
    unsigned n_pos;      /* positive windows of the open episode */
    unsigned need;       /* positive windows it needs to be kept (min_windows or more) */
    bool weak_any;        /* a weak window was seen */
    uint64_t weak_first;  /* core start of the first window of the latest weak chain */
    uint64_t weak_last_e; /* core end of its last window */
    uint64_t ev_start;    /* the open episode's start before back-dating */
    bool closed_any;     /* an episode was closed (or dropped) before */
    uint64_t closed_end; /* its last frame: a later start never moves back onto it */
};

cm_status cm_seg_create(const cm_seg_config *cfg, cm_seg **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!cfg) return CM_E_INVAL;
    if (cfg->hop_frames < 1 || cfg->hop_frames > 1000)
        return cm_diag_fail(why, CM_E_RANGE, "hop_frames=%u: must be 1..1000", cfg->hop_frames);
    if (cfg->merge_gap_frames > 6000)
        return cm_diag_fail(why, CM_E_RANGE, "merge_gap_frames=%u: must be 0..6000 (60 s)",
                            cfg->merge_gap_frames);
    if (cfg->snap_frames > 200)
        return cm_diag_fail(why, CM_E_RANGE, "snap_frames=%u: must be 0..200", cfg->snap_frames);
    if (cfg->backdate_frames > 600)
        return cm_diag_fail(why, CM_E_RANGE, "backdate_frames=%u: must be 0..600 (6 s)",
                            cfg->backdate_frames);
    if (cfg->bridge_frames > 300)
        return cm_diag_fail(why, CM_E_RANGE, "bridge_frames=%u: must be 0..300 (3 s)",
                            cfg->bridge_frames);
    cm_seg *s = calloc(1, sizeof *s);
    if (!s) return CM_E_NOMEM;
    s->cfg = *cfg;
    *out = s;
    return CM_OK;
}

void cm_seg_destroy(cm_seg *s) { free(s); }

bool cm_seg_is_open(const cm_seg *s) { return s && s->open; }

unsigned cm_seg_evidence(const cm_seg *s) { return s && s->open ? s->n_pos : 0; }

void cm_seg_require(cm_seg *s, unsigned min_windows)
{
    if (s && s->open && min_windows > s->need) s->need = min_windows;
}

unsigned cm_seg_required(const cm_seg *s) { return s && s->open ? s->need : 0; }

uint64_t cm_seg_evidence_start(const cm_seg *s) { return s && s->open ? s->ev_start : 0; }

void cm_seg_frame(cm_seg *s, uint64_t frame, bool active)
{
    /* Frames arrive in order; a gap (never expected) is filled as inactive. */
    while (s->n_frames < frame) s->act[s->n_frames++ % ACT_RING] = 0;
    if (frame == s->n_frames) s->act[s->n_frames++ % ACT_RING] = active ? 1 : 0;
}

static bool known(const cm_seg *s, uint64_t f)
{
    return f < s->n_frames && s->n_frames - f <= ACT_RING;
}

static bool active_at(const cm_seg *s, uint64_t f) { return known(s, f) && s->act[f % ACT_RING]; }

/* Activity runs are bridged over dips of up to BRIDGE_FRAMES (50 ms): the closure of a stop
 * consonant or a brief breath inside a cry unit is not the edge of the sound. */
#define BRIDGE_FRAMES 5u

/* Start edge: inside activity, walk back to the start of the (bridged) active run; outside,
 * walk forward to the first active frame. Either way by at most snap_frames. */
static uint64_t snap_start(const cm_seg *s, uint64_t f, uint64_t lo, uint64_t hi)
{
    const uint64_t f0 = f, k = s->cfg.snap_frames;
    if (active_at(s, f)) {
        for (;;) {
            uint64_t g = f, found = f;
            for (unsigned b = 0; b < BRIDGE_FRAMES && g > lo && f0 - (g - 1) <= k; b++)
                if (active_at(s, --g)) {
                    found = g;
                    break;
                }
            if (found == f) return f;
            f = found;
        }
    }
    for (uint64_t g = f + 1; g <= hi && g <= f + k; g++)
        if (active_at(s, g)) return g;
    return f;
}

/* End edge, mirrored. */
static uint64_t snap_end(const cm_seg *s, uint64_t f, uint64_t lo, uint64_t hi)
{
    const uint64_t f0 = f, k = s->cfg.snap_frames;
    if (active_at(s, f)) {
        for (;;) {
            uint64_t g = f, found = f;
            for (unsigned b = 0; b < BRIDGE_FRAMES && g < hi && (g + 1) - f0 <= k; b++)
                if (active_at(s, ++g)) {
                    found = g;
                    break;
                }
            if (found == f) return f;
            f = found;
        }
    }
    for (uint64_t g = f; g > lo && f - g < k; g--)
        if (active_at(s, g - 1)) return g - 1;
    return f;
}

static size_t close_open(cm_seg *s, cm_seg_update *u)
{
    s->open = false;
    s->closed_any = true;
    s->closed_end = s->end;
    u->start_frame = s->start;
    u->end_frame = s->end;
    u->kind = (s->end - s->ev_start + 1 >= s->cfg.min_frames && s->n_pos >= s->need)
                  ? CM_SEG_CLOSE
                  : CM_SEG_DROP;
    return 1;
}

size_t cm_seg_window(cm_seg *s, uint64_t first, uint64_t last, bool positive,
                     cm_seg_update out[3])
{
    return cm_seg_window_level(s, first, last, positive ? 2 : 0, out);
}

size_t cm_seg_window_level(cm_seg *s, uint64_t first, uint64_t last, int level,
                           cm_seg_update out[3])
{
    size_t n = 0;
    if (last < first) return 0;
    const bool positive = level >= 2;
    uint64_t half = s->cfg.hop_frames / 2;
    uint64_t centre = first + (last - first) / 2;
    uint64_t core_s = centre > first + half ? centre - half : first;
    uint64_t core_e = core_s + s->cfg.hop_frames - 1;
    if (core_e > last) core_e = last;

    /* The chain of weak windows a positive one may move its episode's start back over:
     * weak windows whose cores lie at most bridge_frames apart, the last of them at most
     * bridge_frames before this window's core. */
    const bool chain = s->weak_any && core_s <= s->weak_last_e + 1 + s->cfg.bridge_frames;
    const uint64_t weak_first = s->weak_first;
    if (level == 1) {
        if (!chain) s->weak_first = core_s;
        s->weak_last_e = core_e;
        s->weak_any = true;
    }
    if (!positive) {
        /* The gap since the episode's end has outgrown the merge gap, by more than a later
         * window's start can snap back: it is over. */
        if (s->open && core_e > s->end &&
            core_e - s->end > (uint64_t)s->cfg.merge_gap_frames + s->cfg.snap_frames)
            n += close_open(s, &out[n]);
        return n;
    }
    /* Edges snap to the activity around the core, by at most snap_frames. The start walks
     * back through the active run that holds the core, also before this window (a detector
     * that becomes sure late), but never into an earlier episode; outside activity it moves
     * forward to the first active frame of the window (a window centred just before the
     * onset). The end may walk back to the last active frame of the window, even before the
     * core (a window centred just after the offset). With no activity near the core (sound
     * that does not stand out of the noise) the core edges stay. */
    uint64_t lo = 0;
    if (s->open) lo = s->end + 1;
    uint64_t sp_s = snap_start(s, core_s, lo < core_s ? lo : core_s, last);
    uint64_t sp_e = snap_end(s, core_e, first, last);
    if (sp_e < sp_s) sp_e = snap_end(s, sp_s, sp_s, last);

    if (s->open && (sp_s <= s->end || sp_s - s->end - 1 <= s->cfg.merge_gap_frames)) {
        s->n_pos++;
        if (sp_e > s->end) {
            s->end = sp_e;
            out[n].kind = CM_SEG_EXTEND;
            out[n].start_frame = s->start;
            out[n].end_frame = s->end;
            n++;
        }
        return n;
    }
    if (s->open) n += close_open(s, &out[n]);
    /* A new episode: its start may move back over the weak windows just before (never into
     * the episode that just closed), then snaps to activity from there. */
    s->ev_start = sp_s;
    if (chain && s->cfg.backdate_frames && weak_first < core_s) {
        uint64_t floor_f = s->closed_any ? s->closed_end + 1 : 0;
        uint64_t b = core_s - weak_first > s->cfg.backdate_frames ? core_s - s->cfg.backdate_frames
                                                                  : weak_first;
        if (b < floor_f) b = floor_f;
        /* The weak window's core is already where the detector's evidence began: it only
         * moves forward to the first active frame, never further back (the bed around a
         * cry in noise is often active too). */
        if (b < sp_s) {
            uint64_t nb = b;
            if (!active_at(s, b))
                for (uint64_t g = b + 1; g < sp_s && g <= b + s->cfg.snap_frames; g++)
                    if (active_at(s, g)) {
                        nb = g;
                        break;
                    }
            if (nb < sp_s) sp_s = nb;
        }
    }
    s->open = true;
    s->n_pos = 1;
    s->need = s->cfg.min_windows;
    s->start = sp_s;
    s->end = sp_e;
    out[n].kind = CM_SEG_OPEN;
    out[n].start_frame = s->start;
    out[n].end_frame = s->end;
    n++;
    return n;
}

size_t cm_seg_finish(cm_seg *s, cm_seg_update out[1])
{
    if (!s->open) return 0;
    return close_open(s, &out[0]);
}
