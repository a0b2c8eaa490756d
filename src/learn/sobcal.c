/* SPDX-License-Identifier: MIT */
/* Sob calibration (sobcal.h): scores the shape stage's sob stretches against labelled sob
 * spans with the segment metric of `evaluate`, and re-chooses the four sob thresholds by a
 * deterministic coordinate ascent over fixed grids. The shape stage itself runs unchanged,
 * so what is calibrated is exactly what the analyzer detects. */
#include "crymeter/learn/sobcal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Grids. Rates: from a slow sob (one pulse in 5 s) to the 5 Hz cm_shape_params_check
 * allows; the defaults (0.3, 1.5 Hz, docs/shape.md) are on them, so "no change" can win.
 * CV: 0.1 is under the 99th percentile of a 4-interval CV at 10 % period jitter (0.14,
 * docs/shape.md) only for near-perfect rhythm; 0.5 already admits most irregular trains.
 * Pulses: 3 is the fewest cm_shape_params_check allows; 8 confirms a stretch only after
 * 4 s at 2 Hz. */
static const float grid_rate_min[] = {0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.8f, 1.0f, 1.2f, 1.5f, 2.0f};
static const float grid_rate_max[] = {1.0f, 1.25f, 1.5f, 1.75f, 2.0f, 2.5f, 3.0f, 3.5f, 4.0f, 5.0f};
static const float grid_cv[] = {0.1f, 0.15f, 0.2f, 0.25f, 0.3f, 0.35f, 0.4f, 0.5f};
static const unsigned grid_pulses[] = {3, 4, 5, 6, 7, 8};
#define MAX_ROUNDS 4
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void score_fail(cm_sobcal_score *s)
{
    memset(s, 0, sizeof *s);
    s->precision = s->recall = s->f1 = NAN;
}

/* Appends a span to a growable list. */
static int push_span(cm_span **v, size_t *n, size_t *cap, double a, double b)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 16;
        cm_span *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[*n].onset_s = a;
    (*v)[*n].offset_s = b;
    (*n)++;
    return 0;
}

static int drain(cm_shape *s, cm_span **est, size_t *n, size_t *cap)
{
    cm_shape_event ev;
    while (cm_shape_poll(s, &ev))
        if (ev.kind == CM_SHAPE_SOB_END && push_span(est, n, cap, ev.start_s, ev.end_s) != 0)
            return -1;
    return 0;
}

cm_status cm_sobcal_measure(const cm_sobcal_file *files, size_t n_files,
                            const cm_shape_config *cfg, cm_sobcal_score *out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    score_fail(out);
    if (!cfg || (!files && n_files)) return cm_diag_fail(why, CM_E_INVAL, "sobcal: NULL argument");
    cm_shape *s = NULL;
    cm_status st = cm_shape_create(cfg, &s, why);
    if (st != CM_OK) return st;
    cm_counts c = {0};
    cm_span *est = NULL;
    size_t n_est = 0, cap = 0, total = 0;
    for (size_t i = 0; i < n_files && st == CM_OK; i++) {
        const cm_sobcal_file *f = &files[i];
        if ((!f->frames && f->n_frames) || (!f->sob && f->n_sob)) {
            st = cm_diag_fail(why, CM_E_INVAL, "sobcal: file %zu: NULL frames or spans", i);
            break;
        }
        cm_shape_reset(s);
        n_est = 0;
        for (size_t k = 0; k < f->n_frames && st == CM_OK; k++) {
            if (cm_shape_frame(s, &f->frames[k]) != CM_OK)
                st = cm_diag_fail(why, CM_E_INVAL, "sobcal: file %zu: frame %zu has index %llu",
                                  i, k, (unsigned long long)f->frames[k].index);
            /* The event queue holds 8; one frame queues at most two (an END and a START). */
            else if (drain(s, &est, &n_est, &cap) != 0)
                st = cm_diag_fail(why, CM_E_NOMEM, "sobcal: out of memory");
        }
        if (st != CM_OK) break;
        cm_shape_flush(s);
        if (drain(s, &est, &n_est, &cap) != 0) {
            st = cm_diag_fail(why, CM_E_NOMEM, "sobcal: out of memory");
            break;
        }
        double dur = (double)f->n_frames * 0.01;
        if (f->duration_s > dur) dur = f->duration_s;
        cm_segment_counts(f->sob, f->n_sob, est, n_est, dur, CM_SOBCAL_SEGMENT_S, &c);
        total += n_est;
    }
    free(est);
    cm_shape_destroy(s);
    if (st != CM_OK) return st;
    out->counts = c;
    out->precision = cm_precision(c);
    out->recall = cm_recall(c);
    out->f1 = cm_f1(c);
    out->n_stretches = total;
    return CM_OK;
}

typedef enum { P_RATE_MIN, P_RATE_MAX, P_CV, P_PULSES, N_P } which;

static size_t grid_len(which w)
{
    return w == P_RATE_MIN ? N_OF(grid_rate_min)
         : w == P_RATE_MAX ? N_OF(grid_rate_max)
         : w == P_CV       ? N_OF(grid_cv)
                           : N_OF(grid_pulses);
}

static double grid_val(which w, size_t j)
{
    return w == P_RATE_MIN ? grid_rate_min[j]
         : w == P_RATE_MAX ? grid_rate_max[j]
         : w == P_CV       ? grid_cv[j]
                           : grid_pulses[j];
}

static double get_val(const cm_shape_params *p, which w)
{
    return w == P_RATE_MIN ? p->sob_rate_min_hz
         : w == P_RATE_MAX ? p->sob_rate_max_hz
         : w == P_CV       ? p->sob_cv_max
                           : p->sob_min_pulses;
}

static void set_val(cm_shape_params *p, which w, double v)
{
    if (w == P_RATE_MIN) p->sob_rate_min_hz = (float)v;
    else if (w == P_RATE_MAX) p->sob_rate_max_hz = (float)v;
    else if (w == P_CV) p->sob_cv_max = (float)v;
    else p->sob_min_pulses = (unsigned)v;
}

cm_status cm_sobcal_choose(const cm_sobcal_file *files, size_t n_files,
                           const cm_shape_config *cfg, cm_sobcal_result *out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    memset(out, 0, sizeof *out);
    score_fail(&out->score_before);
    score_fail(&out->score_after);
    if (!cfg || (!files && n_files)) return cm_diag_fail(why, CM_E_INVAL, "sobcal: NULL argument");
    out->before = out->after = cfg->params;
    size_t n_ref = 0;
    for (size_t i = 0; i < n_files; i++) n_ref += files[i].n_sob;
    if (n_ref == 0) return cm_diag_fail(why, CM_E_INVAL, "sobcal: no labelled sob span");

    cm_shape_config cur = *cfg;
    cm_sobcal_score best;
    cm_status st = cm_sobcal_measure(files, n_files, &cur, &best, why);
    if (st != CM_OK) return st;
    out->score_before = best;
    out->n_evaluated = 1;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        int changed = 0;
        for (which w = 0; w < N_P; w++) {
            double v0 = get_val(&cur.params, w), pick = v0;
            cm_sobcal_score pick_score = best;
            for (size_t j = 0; j < grid_len(w); j++) {
                double v = grid_val(w, j);
                if (v == v0) continue;
                cm_shape_config t = cur;
                set_val(&t.params, w, v);
                if (cm_shape_params_check(&t.params, NULL) != CM_OK) continue; /* min > max */
                cm_sobcal_score sc;
                if ((st = cm_sobcal_measure(files, n_files, &t, &sc, why)) != CM_OK) {
                    out->after = cfg->params;
                    return st;
                }
                out->n_evaluated++;
                /* Better F1 wins; at equal F1 the value nearer the current one (the smaller
                 * when two are equally near), and never over the current value itself. */
                if (sc.f1 > pick_score.f1 ||
                    (pick != v0 && sc.f1 == pick_score.f1 &&
                     (fabs(v - v0) < fabs(pick - v0) ||
                      (fabs(v - v0) == fabs(pick - v0) && v < pick)))) {
                    pick = v;
                    pick_score = sc;
                }
            }
            if (pick != v0) {
                set_val(&cur.params, w, pick);
                best = pick_score;
                changed = 1;
            }
        }
        if (!changed) break;
    }
    out->after = cur.params;
    out->score_after = best;
    return CM_OK;
}
