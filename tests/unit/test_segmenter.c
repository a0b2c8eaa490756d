/* SPDX-License-Identifier: MIT */
/* Segmenter: cores from positive windows, snapping to activity, merge gap, minimum length. */
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
    tcase_add_test(tc, config_ranges);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
