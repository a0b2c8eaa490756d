/* SPDX-License-Identifier: MIT */
/* Sob calibration (sobcal.h): recordings made with the sob generator, written as WAV files
 * with Audacity label tracks beside them (what a user labels in Audacity), read back,
 * run through the front end, and calibrated. The generated sobbing is faster than the
 * default rate range (2.0 Hz against 0.3..1.5 Hz), so the defaults miss it and the
 * calibration has to widen the range to cover it without picking up the negative. */
#include <check.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/frontend.h"
#include "crymeter/learn/metrics.h"
#include "crymeter/reader.h"
#include "crymeter/learn/sobcal.h"
#include "crymeter/learn/sobgen.h"
#include "testutil.h"

#define N_REC 4 /* 3 with sobbing, 1 negative */
#define TRUE_RATE_HZ 2.0

/* Renders recording i: 0..2 sob at 2 Hz (with or without exhalations), 3 crying whose
 * breaths come irregularly (40 % period jitter: not sobbing). Writes name.wav and
 * name.txt with a `sob` label from the first inhalation's start to the last one's end
 * (none for the negative), and a `cry` label over the exhalations when there are any. */
static void make_recording(int i, const char *wav, const char *txt)
{
    cm_sobgen_config c = cm_sobgen_config_default();
    c.rate_hz = CM_FRONT_RATE_HZ;
    c.seed = tu_seed() ^ (0x50BCA1ULL + (uint64_t)i);
    c.duration_s = 20.0;
    c.lead_s = 2.0;
    c.tail_s = 2.0;
    c.noise = i == 1 ? CM_SOBGEN_NOISE_PINK : CM_SOBGEN_NOISE_WHITE;
    c.snr_db = 20.0;
    if (i < 3) {
        /* 2 Hz leaves 500 ms per cycle: short inhalations and exhalations (sobgen keeps
         * 150 ms of silence at the end of each cycle). */
        c.pulse_rate_hz = TRUE_RATE_HZ;
        c.jitter = 0.05;
        c.inhale_min_ms = 80.0;
        c.inhale_max_ms = 140.0;
        c.gap_ms = 40.0;
        c.exhale_min_s = 0.1;
        c.exhale_max_s = 0.15;
        c.exhale = i != 2; /* recording 2: sobbing after the tears have stopped */
    } else {
        c.pulse_rate_hz = 0.8;
        c.jitter = 0.4;
    }
    size_t n = cm_sobgen_samples(&c), n_ev = 0;
    float *x = malloc(n * sizeof *x);
    cm_sobgen_event *ev = malloc(4096 * sizeof *ev);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(ev);
    cm_diag why = {{0}};
    ck_assert_msg(cm_sobgen_render(&c, x, n, ev, 4096, &n_ev, &why) == CM_OK, "%s", why.msg);
    ck_assert_uint_le(n_ev, 4096);
    ck_assert_int_eq(tu_write_audio(wav, SF_FORMAT_WAV | SF_FORMAT_FLOAT, c.rate_hz, 1, x, n), 0);
    double in0 = INFINITY, in1 = -INFINITY, ex0 = INFINITY, ex1 = -INFINITY;
    for (size_t k = 0; k < n_ev; k++) {
        if (ev[k].kind == CM_SOBGEN_INHALE)
            in0 = fmin(in0, ev[k].start_s), in1 = fmax(in1, ev[k].end_s);
        else
            ex0 = fmin(ex0, ev[k].start_s), ex1 = fmax(ex1, ev[k].end_s);
    }
    FILE *f = fopen(txt, "w");
    ck_assert_ptr_nonnull(f);
    if (i < 3) fprintf(f, "%.6f\t%.6f\tsob\n", in0, in1);
    if (isfinite(ex0)) fprintf(f, "%.6f\t%.6f\tcry\n", ex0, ex1);
    ck_assert_int_eq(fclose(f), 0);
    free(x), free(ev);
}

/* What the CLI does with a labelled file: read the audio (mono at the front end's rate
 * here, so no resampling), run the front end, and keep the `sob` labels. */
static void load_recording(const char *wav, const char *txt, cm_frame **fr, size_t *nfr,
                           cm_span **sob, size_t *nsob, double *dur)
{
    cm_reader *r = NULL;
    cm_reader_info info;
    cm_diag why = {{0}};
    ck_assert_msg(cm_reader_open(wav, &r, &info, &why) == CM_OK, "%s", why.msg);
    ck_assert_uint_eq(info.rate_hz, CM_FRONT_RATE_HZ);
    ck_assert_uint_eq(info.channels, 1);
    size_t cap = (size_t)info.frames + 1, n = 0, got = 0;
    float *x = malloc(cap * sizeof *x);
    ck_assert_ptr_nonnull(x);
    do {
        ck_assert_int_eq(cm_reader_read(r, x + n, cap - n, &got, &why), CM_OK);
        n += got;
    } while (got && n < cap);
    cm_reader_close(r);
    *dur = (double)n / CM_FRONT_RATE_HZ;

    cm_front_config fc = cm_front_config_default();
    cm_front *f = NULL;
    ck_assert_int_eq(cm_front_create(&fc, &f, &why), CM_OK);
    size_t fcap = cm_front_frames_for(f, n) + cm_front_frames_for(f, 0) + 1, a = 0, b = 0;
    *fr = malloc(fcap * sizeof **fr);
    ck_assert_ptr_nonnull(*fr);
    ck_assert_int_eq(cm_front_process(f, x, n, *fr, fcap, &a), CM_OK);
    ck_assert_int_eq(cm_front_flush(f, *fr + a, fcap - a, &b), CM_OK);
    *nfr = a + b;
    cm_front_destroy(f);
    free(x);

    FILE *tf = fopen(txt, "rb");
    ck_assert_ptr_nonnull(tf);
    char text[4096];
    size_t tn = fread(text, 1, sizeof text, tf);
    fclose(tf);
    cm_label *lab = NULL;
    size_t nl = 0;
    ck_assert_msg(cm_labels_parse(text, tn, &lab, &nl, &why) == CM_OK, "%s", why.msg);
    *sob = malloc((nl + 1) * sizeof **sob);
    *nsob = 0;
    for (size_t k = 0; k < nl; k++)
        if (!strcmp(lab[k].text, "sob")) {
            (*sob)[*nsob].onset_s = lab[k].start_s;
            (*sob)[(*nsob)++].offset_s = lab[k].end_s;
        }
    free(lab);
}

static void print_score(const char *what, const cm_shape_params *p, const cm_sobcal_score *s)
{
    printf("  %s: rate %.2f..%.2f Hz, cv <= %.2f, %u pulses: P %.3f R %.3f F1 %.3f "
           "(TP %zu FP %zu FN %zu, %zu stretches)\n",
           what, (double)p->sob_rate_min_hz, (double)p->sob_rate_max_hz, (double)p->sob_cv_max,
           p->sob_min_pulses, s->precision, s->recall, s->f1, s->counts.tp, s->counts.fp,
           s->counts.fn, s->n_stretches);
}

START_TEST(calibrates_fast_sobbing)
{
    cm_frame *fr[N_REC];
    cm_span *sob[N_REC];
    cm_sobcal_file files[N_REC];
    for (int i = 0; i < N_REC; i++) {
        char wav[32], txt[32];
        snprintf(wav, sizeof wav, "rec%d.wav", i);
        snprintf(txt, sizeof txt, "rec%d.txt", i);
        char wp[4096], tp[4096];
        snprintf(wp, sizeof wp, "%s", tu_path(wav));
        snprintf(tp, sizeof tp, "%s", tu_path(txt));
        make_recording(i, wp, tp);
        memset(&files[i], 0, sizeof files[i]);
        load_recording(wp, tp, &fr[i], &files[i].n_frames, &sob[i], &files[i].n_sob,
                       &files[i].duration_s);
        files[i].frames = fr[i];
        files[i].sob = sob[i];
        ck_assert_uint_eq(files[i].n_sob, i < 3 ? 1 : 0);
    }
    cm_front_config fc = cm_front_config_default();
    cm_shape_config cfg = cm_shape_config_default(&fc);
    cm_sobcal_result r;
    cm_diag why = {{0}};
    ck_assert_msg(cm_sobcal_choose(files, N_REC, &cfg, &r, &why) == CM_OK, "%s", why.msg);
    printf("sob calibration on %d generated recordings (%u parameter sets):\n", N_REC,
           r.n_evaluated);
    print_score("before", &r.before, &r.score_before);
    print_score("after ", &r.after, &r.score_after);

    /* The defaults (max 1.5 Hz) cannot see 2 Hz sobbing. */
    ck_assert(!memcmp(&r.before, &cfg.params, sizeof r.before));
    ck_assert_double_lt(r.score_before.f1, 0.5);
    /* The chosen range covers the true rate, with room for the 5 % jitter. */
    ck_assert_float_le(r.after.sob_rate_min_hz, (float)TRUE_RATE_HZ);
    ck_assert_float_ge(r.after.sob_rate_max_hz, (float)(TRUE_RATE_HZ * 1.1));
    ck_assert_double_gt(r.score_after.f1, r.score_before.f1);
    ck_assert_double_ge(r.score_after.f1, 0.8);
    ck_assert_double_ge(r.score_after.precision, 0.8);
    /* Only the four sob fields may change. */
    cm_shape_params a = r.after, b = r.before;
    a.sob_rate_min_hz = b.sob_rate_min_hz, a.sob_rate_max_hz = b.sob_rate_max_hz;
    a.sob_cv_max = b.sob_cv_max, a.sob_min_pulses = b.sob_min_pulses;
    ck_assert(!memcmp(&a, &b, sizeof a));
    ck_assert_int_eq(cm_shape_params_check(&r.after, NULL), CM_OK);

    /* Re-measuring the chosen params gives the reported figures (no hidden state). */
    cm_shape_config c2 = cfg;
    c2.params = r.after;
    cm_sobcal_score s2;
    ck_assert_int_eq(cm_sobcal_measure(files, N_REC, &c2, &s2, &why), CM_OK);
    ck_assert_double_eq(s2.f1, r.score_after.f1);
    ck_assert_uint_eq(s2.counts.tp, r.score_after.counts.tp);
    ck_assert_uint_eq(s2.counts.fp, r.score_after.counts.fp);

    /* Deterministic: the same input gives the same choice. */
    cm_sobcal_result r2;
    ck_assert_int_eq(cm_sobcal_choose(files, N_REC, &cfg, &r2, &why), CM_OK);
    ck_assert(!memcmp(&r2.after, &r.after, sizeof r.after));
    ck_assert_uint_eq(r2.n_evaluated, r.n_evaluated);

    /* The negative alone: nothing labelled, nothing to calibrate. */
    ck_assert_int_eq(cm_sobcal_choose(files + 3, 1, &cfg, &r2, &why), CM_E_INVAL);
    ck_assert(strstr(why.msg, "no labelled sob span") != NULL);
    ck_assert(!memcmp(&r2.after, &cfg.params, sizeof r2.after));
    for (int i = 0; i < N_REC; i++) free(fr[i]), free(sob[i]);
}
END_TEST

START_TEST(bad_input)
{
    cm_shape_config cfg = cm_shape_config_default(NULL);
    cm_sobcal_score s;
    cm_diag why = {{0}};
    /* Frames out of order are named. */
    cm_frame fr[3];
    memset(fr, 0, sizeof fr);
    for (int k = 0; k < 3; k++) fr[k].index = (uint64_t)k, fr[k].n_mel = cfg.n_mel;
    fr[2].index = 7;
    cm_span sp = {0.0, 1.0};
    cm_sobcal_file f = {fr, 3, &sp, 1, 0.0};
    ck_assert_int_eq(cm_sobcal_measure(&f, 1, &cfg, &s, &why), CM_E_INVAL);
    ck_assert_msg(strstr(why.msg, "frame 2 has index 7") != NULL, "%s", why.msg);
    ck_assert(isnan(s.f1));
    /* A bad config is refused with the field named. */
    cfg.params.sob_cv_max = 3.f;
    fr[2].index = 2;
    ck_assert_int_eq(cm_sobcal_measure(&f, 1, &cfg, &s, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "sob_cv_max=3") != NULL, "%s", why.msg);
    ck_assert_int_eq(cm_sobcal_measure(NULL, 1, &cfg, &s, &why), CM_E_INVAL);
    ck_assert_int_eq(cm_sobcal_measure(&f, 1, &cfg, NULL, &why), CM_E_INVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sobcal");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, calibrates_fast_sobbing);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
