/* SPDX-License-Identifier: MIT */
/* Evaluation metrics against hand-computed cases (sed_eval conventions). */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "crymeter/learn/metrics.h"
#include "testutil.h"

START_TEST(prf_basic)
{
    cm_counts c = {6, 2, 4, 0};
    ck_assert_double_eq_tol(cm_precision(c), 0.75, 1e-12);
    ck_assert_double_eq_tol(cm_recall(c), 0.6, 1e-12);
    ck_assert_double_eq_tol(cm_f1(c), 2 * 0.75 * 0.6 / 1.35, 1e-12);
    cm_counts z = {0, 0, 3, 0}; /* nothing detected: P = R = F1 = 0 by convention */
    ck_assert_double_eq(cm_precision(z), 0.0);
    ck_assert_double_eq(cm_f1(z), 0.0);
}
END_TEST

START_TEST(auc_cases)
{
    float s[] = {0.9f, 0.8f, 0.7f, 0.6f};
    uint8_t perfect[] = {1, 1, 0, 0}, reversed[] = {0, 0, 1, 1}, mixed[] = {1, 0, 1, 0};
    ck_assert_double_eq_tol(cm_roc_auc(s, perfect, 4), 1.0, 1e-12);
    ck_assert_double_eq_tol(cm_roc_auc(s, reversed, 4), 0.0, 1e-12);
    /* pairs (pos,neg): (0.9,0.8) win, (0.9,0.6) win, (0.7,0.8) loss, (0.7,0.6) win: 3/4 */
    ck_assert_double_eq_tol(cm_roc_auc(s, mixed, 4), 0.75, 1e-12);
    float t[] = {0.5f, 0.5f, 0.5f};
    uint8_t l[] = {1, 0, 0}; /* all tied: one half */
    ck_assert_double_eq_tol(cm_roc_auc(t, l, 3), 0.5, 1e-12);
    uint8_t none[] = {0, 0, 0};
    ck_assert(isnan(cm_roc_auc(t, none, 3)));
}
END_TEST

START_TEST(pr_curve)
{
    float s[] = {0.9f, 0.8f, 0.8f, 0.1f};
    uint8_t y[] = {1, 0, 1, 0};
    cm_pr_point p[4];
    size_t n = cm_pr_curve(s, y, 4, p);
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq_tol(p[0].precision, 1.0, 1e-12);
    ck_assert_double_eq_tol(p[0].recall, 0.5, 1e-12);
    ck_assert_double_eq_tol(p[1].precision, 2.0 / 3.0, 1e-12);
    ck_assert_double_eq_tol(p[1].recall, 1.0, 1e-12);
    ck_assert_double_eq_tol(p[2].precision, 0.5, 1e-12);
}
END_TEST

START_TEST(segment_based)
{
    /* 10 s file, 1 s segments. ref: [1.2, 3.5) -> segs 1,2,3; [7.0, 8.0) -> seg 7.
     * est: [1.9, 2.1) -> seg 1,2; [5.5, 6.2) -> segs 5,6.
     * TP segs 1,2 = 2; FN segs 3,7 = 2; FP segs 5,6 = 2; TN 0,4,8,9 = 4. */
    cm_span ref[] = {{1.2, 3.5}, {7.0, 8.0}};
    cm_span est[] = {{1.9, 2.1}, {5.5, 6.2}};
    cm_counts c = {0};
    cm_segment_counts(ref, 2, est, 2, 10.0, 1.0, &c);
    ck_assert_uint_eq(c.tp, 2);
    ck_assert_uint_eq(c.fn, 2);
    ck_assert_uint_eq(c.fp, 2);
    ck_assert_uint_eq(c.tn, 4);
    ck_assert_double_eq_tol(cm_f1(c), 0.5, 1e-12);
}
END_TEST

START_TEST(event_based)
{
    /* Onset collar 1 s. ref onsets 1.0, 5.0, 9.0; est onsets 1.8 (match 1.0), 6.2 (too far
     * from 5.0), 9.0 (match), 9.5 (9.0 already taken: FP). TP 2, FP 2, FN 1. */
    cm_span ref[] = {{5.0, 6.0}, {1.0, 2.0}, {9.0, 9.5}};
    cm_span est[] = {{1.8, 3.0}, {6.2, 7.0}, {9.0, 10.0}, {9.5, 9.9}};
    cm_counts c = {0};
    cm_event_counts(ref, 3, est, 4, 1.0, &c);
    ck_assert_uint_eq(c.tp, 2);
    ck_assert_uint_eq(c.fp, 2);
    ck_assert_uint_eq(c.fn, 1);
    ck_assert_double_eq_tol(cm_f1(c), 2 * 0.5 * (2.0 / 3.0) / (0.5 + 2.0 / 3.0), 1e-12);
    /* Exactly at the collar counts (|6.0 - 5.0| = 1.0 <= 1.0). */
    cm_span r2[] = {{5.0, 6.0}}, e2[] = {{6.0, 7.0}};
    cm_counts d = {0};
    cm_event_counts(r2, 1, e2, 1, 1.0, &d);
    ck_assert_uint_eq(d.tp, 1);
    cm_counts e = {0};
    cm_event_counts(NULL, 0, e2, 1, 1.0, &e);
    ck_assert_uint_eq(e.fp, 1);
}
END_TEST

START_TEST(start_latency)
{
    /* Cries at 2-4 s, 6-7 s (inside the episode announced for the first: no own start),
     * 20-25 s and 40-41 s (missed). Announcements: the first episode snapped 0.3 s before
     * its onset, announced at 3.7 s; one at 21.0 s announced at 22.2 s; a false alarm at
     * 30 s. Latencies 3.7 - 2 = 1.7 and 22.2 - 20 = 2.2, in onset order. */
    cm_span ref[] = {{20.0, 25.0}, {2.0, 4.0}, {6.0, 7.0}, {40.0, 41.0}};
    cm_announce ann[] = {{30.0, 31.5}, {21.0, 22.2}, {1.7, 3.7}};
    double lat[4] = {0};
    ck_assert_uint_eq(cm_start_latencies(ref, 4, ann, 3, 1.0, lat), 2);
    ck_assert_double_eq_tol(lat[0], 1.7, 1e-12);
    ck_assert_double_eq_tol(lat[1], 2.2, 1e-12);
    /* An episode starting more than the collar before the onset belongs to something else. */
    cm_announce early[] = {{0.9, 3.0}};
    ck_assert_uint_eq(cm_start_latencies(ref, 4, early, 1, 1.0, lat), 0);
    ck_assert_uint_eq(cm_start_latencies(NULL, 0, ann, 3, 1.0, lat), 0);
    ck_assert_uint_eq(cm_start_latencies(ref, 4, ann, 3, 1.0, NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, prf_basic);
    tcase_add_test(tc, start_latency);
    tcase_add_test(tc, auc_cases);
    tcase_add_test(tc, pr_curve);
    tcase_add_test(tc, segment_based);
    tcase_add_test(tc, event_based);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
