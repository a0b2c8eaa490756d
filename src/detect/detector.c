/* SPDX-License-Identifier: MIT */
/* The streaming window detector: keeps the last CM_DET_WIN_FRAMES frames, and every
 * CM_DET_HOP_FRAMES frames computes the window features, runs the model and averages the
 * probabilities of the last smooth_windows windows (2 in the default model: a 0.5 s
 * average removes single-window flickers and, with the 2-of-2 cry confirmation, keeps the
 * start record within about 2 s of a cry's onset; models/README.md, rows 19-21). The reported span covers every averaged window, so its centre is where the
 * averaged evidence lies. The same windowing and smoothing as cm_model_score_clip, which training and
 * evaluation use, so calibrated thresholds mean the same here. */
#include <stdlib.h>
#include <string.h>

#include "crymeter/model.h"
#include "detect/model_internal.h"

#define MAX_SMOOTH 16u

struct cm_detector {
    const cm_model *m;
    cm_frame ring[CM_DET_WIN_FRAMES]; /* frame k lives at ring[k % WIN] */
    cm_frame lin[CM_DET_WIN_FRAMES];  /* the window, oldest first */
    uint64_t pushed;                  /* frames pushed */
    uint64_t scored_at;               /* value of pushed when the last window was scored */
    float hist[MAX_SMOOTH][CM_N_CLASSES];
    uint64_t hist_first[MAX_SMOOTH];  /* first frame of each averaged window */
    unsigned n_hist;                  /* windows so far, capped at smooth_windows */
    unsigned hist_pos;                /* next slot to write */
    /* Cry confirmation (confirm_k of the last confirm_n smoothed windows): their smoothed cry
     * probabilities and the first frame of each one's averaged span, window w at [w % 16]. */
    float conf_cry[MAX_SMOOTH];
    uint64_t conf_first[MAX_SMOOTH];
    uint64_t n_scored;                /* windows scored since reset */
    /* Frame network (when the model has one): its state, and each frame's class
     * probabilities, frame k at fp[k % WIN], averaged over the window when it is scored. */
    cm_fn_state fn;
    float fp[CM_DET_WIN_FRAMES][CM_FN_CLASSES];
    cm_home_trail trail;              /* the home layer's correction over time */
};

cm_status cm_detector_create(const cm_model *m, cm_detector **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!m) return cm_diag_fail(why, CM_E_INVAL, "detector: NULL model");
    cm_detector *d = calloc(1, sizeof *d);
    if (!d) return cm_diag_fail(why, CM_E_NOMEM, "detector: out of memory");
    d->m = m;
    cm_fn_reset(&d->fn);
    *out = d;
    return CM_OK;
}

void cm_detector_destroy(cm_detector *d) { free(d); }

void cm_detector_set_model(cm_detector *d, const cm_model *m)
{
    if (d && m) d->m = m;
}

void cm_detector_reset(cm_detector *d)
{
    if (!d) return;
    d->pushed = d->scored_at = 0;
    d->n_hist = d->hist_pos = 0;
    d->n_scored = 0;
    memset(&d->trail, 0, sizeof d->trail);
    cm_fn_reset(&d->fn);
}

/* Scores the last n frames (n <= WIN) as one window. */
static void score(cm_detector *d, size_t n, cm_window_scores *out)
{
    uint64_t first = d->pushed - n;
    for (size_t i = 0; i < n; i++) d->lin[i] = d->ring[(first + i) % CM_DET_WIN_FRAMES];
    float feat[CM_WF_DIM];
    float peak = cm_wf_compute(d->lin, n, feat);
    float p[CM_N_CLASSES], fnp[CM_FN_CLASSES];
    if (cm_model_frame_net(d->m)) {
        /* Oldest frame first, the order cm_model_frame_net_windows sums in (its prefix sums
         * are double, so the two agree to float rounding, not bit for bit). */
        double s[CM_FN_CLASSES] = {0};
        for (size_t i = 0; i < n; i++)
            for (unsigned c = 0; c < CM_FN_CLASSES; c++)
                s[c] += d->fp[(first + i) % CM_DET_WIN_FRAMES][c];
        for (unsigned c = 0; c < CM_FN_CLASSES; c++) fnp[c] = (float)(s[c] / (double)n);
    }
    cm_model_window_probs(d->m, feat, peak, cm_model_frame_net(d->m) ? fnp : NULL, &d->trail,
                          p);
    out->home_recent = cm_home_trail_recent(&d->trail);

    unsigned k = cm_model_smooth_windows(d->m);
    if (k > MAX_SMOOTH) k = MAX_SMOOTH;
    if (k < 1) k = 1;
    memcpy(d->hist[d->hist_pos], p, sizeof p);
    d->hist_first[d->hist_pos] = d->lin[0].index;
    d->hist_pos = (d->hist_pos + 1) % k;
    if (d->n_hist < k) d->n_hist++;
    /* Sum oldest to newest, the order cm_model_score_clip uses, for identical floats. */
    unsigned oldest = (d->hist_pos + k - d->n_hist) % k;
    for (int c = 0; c < CM_N_CLASSES; c++) {
        float s = 0.f;
        for (unsigned j = 0; j < d->n_hist; j++) s += d->hist[(oldest + j) % k][c];
        out->p[c] = s / (float)d->n_hist;
    }
    /* The averaged score describes the span of all averaged windows: reporting that span
     * centres the episode core on the evidence instead of on the newest window, which would
     * place onsets (k - 1) / 2 hops late. */
    out->first_frame = d->hist_first[oldest];
    out->last_frame = d->lin[n - 1].index;
    d->scored_at = d->pushed;

    /* Cry confirmation: the reported cry probability is the k-th largest of the last n
     * smoothed ones (cm_model_score_clip does the same), and the span covers them all. */
    const cm_detect_params *par = cm_model_params(d->m);
    unsigned cn = par->confirm_n, ck = par->confirm_k;
    d->conf_cry[d->n_scored % MAX_SMOOTH] = out->p[CM_CLASS_CRY];
    d->conf_first[d->n_scored % MAX_SMOOTH] = out->first_frame;
    d->n_scored++;
    if (cn > 1 && ck >= 1) {
        if (cn > MAX_SMOOTH) cn = MAX_SMOOTH;
        unsigned mm = d->n_scored < cn ? (unsigned)d->n_scored : cn;
        float cry[MAX_SMOOTH];
        uint64_t w0 = d->n_scored - mm;
        for (unsigned j = 0; j < mm; j++) cry[j] = d->conf_cry[(w0 + j) % MAX_SMOOTH];
        cm_confirm_apply(out->p, cm_confirm_cry(cry, mm, ck, cn));
        out->first_frame = d->conf_first[w0 % MAX_SMOOTH];
    }
}

int cm_detector_push(cm_detector *d, const cm_frame *fr, cm_window_scores *out)
{
    if (!d || !fr || !out) return 0;
    d->ring[d->pushed % CM_DET_WIN_FRAMES] = *fr;
    const cm_framenet *fn = cm_model_frame_net(d->m);
    if (fn) {
        float x[CM_FN_N_IN];
        cm_fn_inputs(&d->fn, fr, x);
        cm_fn_step(fn, &d->fn, x, d->fp[d->pushed % CM_DET_WIN_FRAMES]);
    }
    d->pushed++;
    if (d->pushed >= CM_DET_WIN_FRAMES &&
        (d->pushed - CM_DET_WIN_FRAMES) % CM_DET_HOP_FRAMES == 0) {
        score(d, CM_DET_WIN_FRAMES, out);
        return 1;
    }
    return 0;
}

int cm_detector_flush(cm_detector *d, cm_window_scores *out)
{
    if (!d || !out || d->pushed == 0 || d->pushed == d->scored_at) return 0;
    score(d, d->pushed < CM_DET_WIN_FRAMES ? (size_t)d->pushed : CM_DET_WIN_FRAMES, out);
    return 1;
}
