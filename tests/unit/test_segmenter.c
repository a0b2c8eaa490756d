/* SPDX-License-Identifier: MIT */
/* Segmenter: cores from positive windows, snapping to activity, merge gap, minimum length,
 * onset back-dating over weak windows and the minimum number of positive windows. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/segmenter.h"

/* Drives a segmenter with 100-frame windows every 25 frames over n frames; a window is
 * positive when at least half of its frames lie in [pos_a, pos_b) (two positive regions
 * possible); frames in [act_a, act_b) or [act_c, act_d) are active. Collects final spans. */
typedef struct {
    uint64_t s[8], e[8];
    int n, dropped, opens, extends;
} spans;

static void run(cm_seg *sg, uint64_t n, const uint64_t pos[4], const uint64_t act[4], spans *out)
{
    cm_seg_update u[3];
    for (uint64_t f = 0; f < n; f++) {
        bool a = (f >= act[0] && f < act[1]) || (f >= act[2] && f < act[3]);
        cm_seg_frame(sg, f, a);
        if (f >= 99 && (f - 99) % 25 == 0) {
            uint64_t first = f - 99, in = 0;
            for (uint64_t g = first; g <= f; g++)
                in += (g >= pos[0] && g < pos[1]) || (g >= pos[2] && g < pos[3]);
            size_t k = cm_seg_window(sg, first, f, in >= 50, u);
            for (size_t i = 0; i < k; i++) {
                if (u[i].kind == CM_SEG_CLOSE) {
                    out->s[out->n] = u[i].start_frame;
                    out->e[out->n++] = u[i].end_frame;
                }
                out->dropped += u[i].kind == CM_SEG_DROP;
                out->opens += u[i].kind == CM_SEG_OPEN;
                out->extends += u[i].kind == CM_SEG_EXTEND;
            }
        }
    }
    if (cm_seg_finish(sg, u)) {
        if (u[0].kind == CM_SEG_CLOSE) {
            out->s[out->n] = u[0].start_frame;
            out->e[out->n++] = u[0].end_frame;
        } else {
            out->dropped++;
        }
    }
}

static cm_seg *mk(unsigned gap, unsigned minf)
{
    cm_seg_config c = {.hop_frames = 25, .merge_gap_frames = gap, .min_frames = minf,
                       .snap_frames = 100}; /* as the analyzer: one window */
    cm_seg *s = NULL;
    ck_assert_int_eq(cm_seg_create(&c, &s, NULL), CM_OK);
    return s;
}

START_TEST(edges_snap_to_activity)
{
    /* Sound in frames 300..799 (3.0-8.0 s), the detector agrees: edges must land on the
     * activity edges exactly, not on the 25-frame window grid. */
    cm_seg *s = mk(500, 50);
    spans sp = {0};
    run(s, 2000, (uint64_t[]){300, 800, 0, 0}, (uint64_t[]){300, 800, 0, 0}, &sp);
    ck_assert_int_eq(sp.n, 1);
    ck_assert_uint_eq(sp.s[0], 300);
    ck_assert_uint_eq(sp.e[0], 799);
    cm_seg_destroy(s);
}
END_TEST

START_TEST(start_snaps_forward_past_core)
{
    /* The detector turns positive early (it counts frames from 320), but sound only starts
     * at frame 340, after the first positive window's core (frames 307..331): the start
     * must snap forward to it. */
    cm_seg *s = mk(500, 50);
    spans sp = {0};
    run(s, 2000, (uint64_t[]){320, 800, 0, 0}, (uint64_t[]){340, 800, 0, 0}, &sp);
    ck_assert_int_eq(sp.n, 1);
    ck_assert_uint_eq(sp.s[0], 340);
    ck_assert_uint_eq(sp.e[0], 799);
    cm_seg_destroy(s);
}
END_TEST

START_TEST(late_detector_start_walks_back)
{
    /* Sound from frame 300, but the detector is sure only from 390: the first positive
     * window is 340..439, after the onset, with its core from 377. The start must still walk
     * back through the contiguous activity to 300 (77 frames, within the snap range). */
    cm_seg *s = mk(500, 50);
    spans sp = {0};
    run(s, 2000, (uint64_t[]){390, 800, 0, 0}, (uint64_t[]){300, 800, 0, 0}, &sp);
    ck_assert_int_eq(sp.n, 1);
    ck_assert_uint_eq(sp.s[0], 300);
    cm_seg_destroy(s);
}
END_TEST

START_TEST(short_dips_are_bridged)
{
    /* The detector turns positive late (from 350), so the start walks back through the
     * activity. Sound 300..799 with a 30 ms dip (a stop closure) at 330..332: the start still
     * reaches 300. With a 100 ms dip at 320..329 the walk stops at 330. */
    cm_seg *s = mk(500, 50);
    spans sp = {0};
    uint64_t pos[4] = {350, 800, 0, 0};
    run(s, 2000, pos, (uint64_t[]){300, 330, 333, 800}, &sp);
    ck_assert_int_eq(sp.n, 1);
    ck_assert_uint_eq(sp.s[0], 300);
    ck_assert_uint_eq(sp.e[0], 799);
    cm_seg_destroy(s);
    s = mk(500, 50);
    spans sp2 = {0};
    run(s, 2000, pos, (uint64_t[]){300, 320, 330, 800}, &sp2);
    ck_assert_int_eq(sp2.n, 1);
    ck_assert_uint_eq(sp2.s[0], 330);
    cm_seg_destroy(s);
}
END_TEST

START_TEST(no_activity_keeps_cores)
{
    /* Positive windows but nothing stands out of the floor: the episode is the union of the
     * window cores, within one hop (25 frames) of the truth. */
    cm_seg *s = mk(500, 50);
    spans sp = {0};
    run(s, 2000, (uint64_t[]){300, 800, 0, 0}, (uint64_t[]){0, 0, 0, 0}, &sp);
    ck_assert_int_eq(sp.n, 1);
    ck_assert(llabs((long long)sp.s[0] - 300) <= 25);
    ck_assert(llabs((long long)sp.e[0] - 799) <= 25);
    cm_seg_destroy(s);
}
END_TEST

START_TEST(merge_gap_joins_and_splits)
{
    /* Two bursts 300 frames apart: one episode with a 500-frame merge gap, two with 100. */
    uint64_t pos[4] = {200, 500, 800, 1100}, act[4] = {200, 500, 800, 1100};
    cm_seg *s = mk(500, 50);
    spans sp = {0};
    run(s, 2000, pos, act, &sp);
    ck_assert_int_eq(sp.n, 1);
    ck_assert_uint_eq(sp.s[0], 200);
    ck_assert_uint_eq(sp.e[0], 1099);
    cm_seg_destroy(s);

    s = mk(100, 50);
    spans sp2 = {0};
    run(s, 2000, pos, act, &sp2);
    ck_assert_int_eq(sp2.n, 2);
    ck_assert_uint_eq(sp2.s[0], 200);
    ck_assert_uint_eq(sp2.e[0], 499);
    ck_assert_uint_eq(sp2.s[1], 800);
    ck_assert_uint_eq(sp2.e[1], 1099);
    cm_seg_destroy(s);
}
END_TEST

START_TEST(gap_just_under_merge_gap_joins)
{
    /* Sound in frames 200..499 and 980..1299, 480 frames apart, merge gap 500: one episode.
     * The detector sees the second burst late (from 1040), so negative windows with cores
     * past end + merge gap come first, and the first positive window's start snaps back to
     * 980. */
    cm_seg *s = mk(500, 50);
    spans sp = {0};
    run(s, 2000, (uint64_t[]){200, 500, 1040, 1300}, (uint64_t[]){200, 500, 980, 1300}, &sp);
    ck_assert_int_eq(sp.n, 1);
    ck_assert_uint_eq(sp.s[0], 200);
    ck_assert_uint_eq(sp.e[0], 1299);
    cm_seg_destroy(s);
}
END_TEST

START_TEST(min_length_drops)
{
    /* A 40-frame burst never fills half a window: nothing opens. A 150-frame burst opens an
     * episode that ends shorter than 200 frames: it is dropped, not reported. */
    cm_seg *s = mk(100, 200);
    spans sp = {0};
    run(s, 1000, (uint64_t[]){300, 340, 0, 0}, (uint64_t[]){300, 340, 0, 0}, &sp);
    ck_assert_int_eq(sp.n, 0);
    ck_assert_int_eq(sp.dropped, 0);
    ck_assert_int_eq(sp.opens, 0);
    cm_seg_destroy(s);
    s = mk(100, 200);
    spans sp2 = {0};
    run(s, 1000, (uint64_t[]){300, 450, 0, 0}, (uint64_t[]){300, 450, 0, 0}, &sp2);
    ck_assert_int_eq(sp2.n, 0);
    ck_assert_int_eq(sp2.dropped, 1);
    cm_seg_destroy(s);
}
END_TEST

START_TEST(open_at_end_is_closed)
{
    cm_seg *s = mk(500, 50);
    spans sp = {0};
    run(s, 1000, (uint64_t[]){600, 1000, 0, 0}, (uint64_t[]){600, 1000, 0, 0}, &sp);
    ck_assert_int_eq(sp.n, 1);
    ck_assert_uint_eq(sp.s[0], 600);
    ck_assert(sp.e[0] >= 960); /* the last window's core ends ~37 frames before the end */
    cm_seg_destroy(s);
}
END_TEST

/* Drives windows as run() does, with no activity anywhere (edges stay on the cores), each
 * window's level given by its centre (first + 49): weak in [weak_a, weak_b), positive in
 * [pos_a, pos_b). Counts positive windows seen open (cm_seg_evidence) at the last one. */
static void run_levels(cm_seg *sg, uint64_t n, uint64_t weak_a, uint64_t weak_b, uint64_t pos_a,
                       uint64_t pos_b, spans *out, unsigned *evidence)
{
    cm_seg_update u[3];
    for (uint64_t f = 0; f < n; f++) {
        cm_seg_frame(sg, f, false);
        if (f >= 99 && (f - 99) % 25 == 0) {
            uint64_t c = f - 99 + 49;
            int level = (c >= pos_a && c < pos_b) ? 2 : (c >= weak_a && c < weak_b) ? 1 : 0;
            size_t k = cm_seg_window_level(sg, f - 99, f, level, u);
            for (size_t i = 0; i < k; i++) {
                if (u[i].kind == CM_SEG_CLOSE) {
                    out->s[out->n] = u[i].start_frame;
                    out->e[out->n++] = u[i].end_frame;
                }
                out->dropped += u[i].kind == CM_SEG_DROP;
                out->opens += u[i].kind == CM_SEG_OPEN;
            }
            if (level == 2 && evidence) *evidence = cm_seg_evidence(sg);
        }
    }
    if (cm_seg_finish(sg, u)) {
        if (u[0].kind == CM_SEG_CLOSE) {
            out->s[out->n] = u[0].start_frame;
            out->e[out->n++] = u[0].end_frame;
        } else {
            out->dropped++;
        }
    }
}

/* A back-dating segmenter (backdate, bridge, min_windows, min length in frames) driven by
 * run_levels, then destroyed. ev_last: positive windows seen open at the last positive one;
 * ev_after: cm_seg_evidence once the input is finished (0: none open). */
typedef struct {
    spans sp;
    unsigned ev_last, ev_after;
} bd_run;

static bd_run run_bd(unsigned backdate, unsigned bridge, unsigned min_windows, unsigned minf,
                     uint64_t weak_a, uint64_t weak_b, uint64_t pos_a, uint64_t pos_b)
{
    cm_seg_config c = {.hop_frames = 25, .merge_gap_frames = 500, .min_frames = minf,
                       .snap_frames = 100, .backdate_frames = backdate, .bridge_frames = bridge,
                       .min_windows = min_windows};
    cm_seg *s = NULL;
    ck_assert_int_eq(cm_seg_create(&c, &s, NULL), CM_OK);
    bd_run r;
    memset(&r, 0, sizeof r);
    run_levels(s, 2000, weak_a, weak_b, pos_a, pos_b, &r.sp, &r.ev_last);
    r.ev_after = cm_seg_evidence(s);
    cm_seg_destroy(s);
    return r;
}

START_TEST(weak_run_backdates_start)
{
    /* Weak windows centred 449..599, positive from 624: the episode starts at the core of
     * the first weak window (centre 449: core 437..461), not at the positive one's (612). */
    bd_run r = run_bd(300, 0, 0, 0, 440, 620, 620, 900);
    ck_assert_int_eq(r.sp.n, 1);
    ck_assert_uint_eq(r.sp.s[0], 437);
    /* Off (backdate 0): the positive window's core. */
    r = run_bd(0, 0, 0, 0, 440, 620, 620, 900);
    ck_assert_int_eq(r.sp.n, 1);
    ck_assert_uint_eq(r.sp.s[0], 612);
}
END_TEST

START_TEST(backdate_is_bounded_and_needs_an_unbroken_run)
{
    /* A weak run from centre 199: the start moves back at most 100 frames (612 -> 512). */
    bd_run r = run_bd(100, 0, 0, 0, 190, 620, 620, 900);
    ck_assert_int_eq(r.sp.n, 1);
    ck_assert_uint_eq(r.sp.s[0], 512);
    /* Weak windows that end before the positive run (a negative window between) do not
     * move the start. */
    r = run_bd(300, 0, 0, 0, 440, 590, 620, 900);
    ck_assert_int_eq(r.sp.n, 1);
    ck_assert_uint_eq(r.sp.s[0], 612);
    /* ... unless the bridge spans that window (its core, 587..611, is 25 frames). */
    r = run_bd(300, 25, 0, 0, 440, 590, 620, 900);
    ck_assert_int_eq(r.sp.n, 1);
    ck_assert_uint_eq(r.sp.s[0], 437);
    r = run_bd(300, 24, 0, 0, 440, 590, 620, 900);
    ck_assert_uint_eq(r.sp.s[0], 612);
}
END_TEST

START_TEST(min_length_counts_from_the_evidence)
{
    /* 3 positive windows (cores 612..686: 75 frames) after a long weak run: the reported
     * start moves back to 412, but the episode is kept only when 75 frames are enough. */
    bd_run r = run_bd(300, 0, 0, 100, 400, 620, 620, 690);
    ck_assert_int_eq(r.sp.n, 0);
    ck_assert_int_eq(r.sp.dropped, 1);
    r = run_bd(300, 0, 0, 75, 400, 620, 620, 690);
    ck_assert_int_eq(r.sp.n, 1);
    ck_assert_uint_eq(r.sp.s[0], 412);
    ck_assert_uint_eq(r.sp.e[0], 686);
}
END_TEST

START_TEST(weak_windows_never_open_or_keep)
{
    /* Weak windows only: nothing opens. Weak windows after a positive run do not extend it:
     * it ends at the last positive window's core. */
    bd_run r = run_bd(300, 0, 0, 0, 300, 900, 0, 0);
    ck_assert_int_eq(r.sp.opens, 0);
    ck_assert_int_eq(r.sp.n, 0);
    r = run_bd(300, 0, 0, 0, 0, 2000, 300, 500);
    ck_assert_int_eq(r.sp.n, 1);
    ck_assert_uint_eq(r.sp.e[0], 511); /* core of the last positive window (centre 499) */
}
END_TEST

START_TEST(min_windows_drops_thin_evidence)
{
    /* Positive windows centred 624, 649, 674 (3): dropped with min_windows 4, kept with 3,
     * however long the back-dated span. */
    bd_run r = run_bd(300, 0, 4, 0, 400, 620, 620, 690);
    ck_assert_uint_eq(r.ev_last, 3);
    ck_assert_int_eq(r.sp.n, 0);
    ck_assert_int_eq(r.sp.dropped, 1);
    r = run_bd(300, 0, 3, 0, 400, 620, 620, 690);
    ck_assert_int_eq(r.sp.n, 1);
    ck_assert_uint_eq(r.sp.s[0], 412);
    ck_assert_uint_eq(r.ev_after, 0); /* none open */
}
END_TEST

/* Positive windows centred in [pos_a, pos_b) (cores of 25 frames, no activity); when an
 * episode opens, its evidence is raised to `require` windows (cm_seg_require). Returns the
 * episodes kept; *need: cm_seg_required just after the opening. */
static int run_require(unsigned min_windows, unsigned require, uint64_t pos_a, uint64_t pos_b,
                       unsigned *need)
{
    cm_seg_config c = {.hop_frames = 25, .merge_gap_frames = 500, .snap_frames = 100,
                       .min_windows = min_windows};
    cm_seg *s = NULL;
    ck_assert_int_eq(cm_seg_create(&c, &s, NULL), CM_OK);
    cm_seg_require(s, 9); /* none open: no effect on the next episode */
    ck_assert_uint_eq(cm_seg_required(s), 0);
    cm_seg_update u[3];
    int kept = 0;
    for (uint64_t f = 0; f < 2000; f++) {
        cm_seg_frame(s, f, false);
        if (f < 99 || (f - 99) % 25) continue;
        uint64_t ctr = f - 99 + 49;
        size_t k = cm_seg_window(s, f - 99, f, ctr >= pos_a && ctr < pos_b, u);
        for (size_t i = 0; i < k; i++) {
            if (u[i].kind == CM_SEG_OPEN) {
                cm_seg_require(s, require);
                *need = cm_seg_required(s);
            }
            kept += u[i].kind == CM_SEG_CLOSE;
        }
    }
    if (cm_seg_finish(s, u)) kept += u[0].kind == CM_SEG_CLOSE;
    cm_seg_destroy(s);
    return kept;
}

START_TEST(require_raises_the_evidence_of_one_episode)
{
    /* 3 positive windows (centres 624, 649, 674): kept with min_windows 1, dropped when the
     * opening raised the need to 4, kept when raised to 3; a lower need never lowers
     * min_windows. The need is the open episode's alone: a later episode starts from
     * min_windows again (the next test). */
    unsigned need = 0;
    ck_assert_int_eq(run_require(1, 0, 620, 690, &need), 1);
    ck_assert_uint_eq(need, 1);
    ck_assert_int_eq(run_require(1, 4, 620, 690, &need), 0);
    ck_assert_uint_eq(need, 4);
    ck_assert_int_eq(run_require(1, 3, 620, 690, &need), 1);
    ck_assert_int_eq(run_require(4, 2, 620, 690, &need), 0);
    ck_assert_uint_eq(need, 4);
    /* 4 positive windows meet a need of 4. */
    ck_assert_int_eq(run_require(1, 4, 620, 715, &need), 1);
}
END_TEST

START_TEST(require_resets_at_the_next_episode)
{
    /* Two 3-window episodes 1000 frames apart (beyond the 500-frame merge gap): the first
     * raised to 4 is dropped, the second, opened with no raise, is kept. */
    cm_seg_config c = {.hop_frames = 25, .merge_gap_frames = 500, .snap_frames = 100,
                       .min_windows = 1};
    cm_seg *s = NULL;
    ck_assert_int_eq(cm_seg_create(&c, &s, NULL), CM_OK);
    cm_seg_update u[3];
    int opens = 0, kept = 0, dropped = 0;
    for (uint64_t f = 0; f < 3000; f++) {
        cm_seg_frame(s, f, false);
        if (f < 99 || (f - 99) % 25) continue;
        uint64_t ctr = f - 99 + 49;
        bool pos = (ctr >= 620 && ctr < 690) || (ctr >= 1620 && ctr < 1690);
        size_t k = cm_seg_window(s, f - 99, f, pos, u);
        for (size_t i = 0; i < k; i++) {
            if (u[i].kind == CM_SEG_OPEN && opens++ == 0) cm_seg_require(s, 4);
            kept += u[i].kind == CM_SEG_CLOSE;
            dropped += u[i].kind == CM_SEG_DROP;
        }
    }
    if (cm_seg_finish(s, u)) kept += u[0].kind == CM_SEG_CLOSE, dropped += u[0].kind == CM_SEG_DROP;
    cm_seg_destroy(s);
    ck_assert_int_eq(opens, 2);
    ck_assert_int_eq(dropped, 1);
    ck_assert_int_eq(kept, 1);
}
END_TEST

START_TEST(config_ranges)
{
    cm_seg *s = NULL;
    cm_diag why = {{0}};
    cm_seg_config c = {.hop_frames = 0, .merge_gap_frames = 10, .min_frames = 0, .snap_frames = 5};
    ck_assert_int_eq(cm_seg_create(&c, &s, &why), CM_E_RANGE);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(why.msg, "hop_frames=0"));
    c.hop_frames = 25;
    c.merge_gap_frames = 6001;
    ck_assert_int_eq(cm_seg_create(&c, &s, &why), CM_E_RANGE);
    c.merge_gap_frames = 6000;
    c.snap_frames = 201;
    ck_assert_int_eq(cm_seg_create(&c, &s, &why), CM_E_RANGE);
    c.snap_frames = 200;
    c.backdate_frames = 601;
    ck_assert_int_eq(cm_seg_create(&c, &s, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "backdate_frames=601"));
    c.backdate_frames = 600;
    c.bridge_frames = 301;
    ck_assert_int_eq(cm_seg_create(&c, &s, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "bridge_frames=301"));
    c.bridge_frames = 300;
    ck_assert_int_eq(cm_seg_create(&c, &s, &why), CM_OK);
    cm_seg_destroy(s);
    cm_seg_destroy(NULL);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("segmenter");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, edges_snap_to_activity);
    tcase_add_test(tc, start_snaps_forward_past_core);
    tcase_add_test(tc, late_detector_start_walks_back);
    tcase_add_test(tc, short_dips_are_bridged);
    tcase_add_test(tc, no_activity_keeps_cores);
    tcase_add_test(tc, merge_gap_joins_and_splits);
    tcase_add_test(tc, gap_just_under_merge_gap_joins);
    tcase_add_test(tc, min_length_drops);
    tcase_add_test(tc, open_at_end_is_closed);
    tcase_add_test(tc, weak_run_backdates_start);
    tcase_add_test(tc, backdate_is_bounded_and_needs_an_unbroken_run);
    tcase_add_test(tc, weak_windows_never_open_or_keep);
    tcase_add_test(tc, min_windows_drops_thin_evidence);
    tcase_add_test(tc, require_raises_the_evidence_of_one_episode);
    tcase_add_test(tc, require_resets_at_the_next_episode);
    tcase_add_test(tc, min_length_counts_from_the_evidence);
    tcase_add_test(tc, config_ranges);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
