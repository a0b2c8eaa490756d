/* SPDX-License-Identifier: MIT */
/* crymeter evaluate: how well a model finds crying. Clip level (precision, recall, F1, ROC
 * AUC, precision-recall curve as SVG), false cry episodes per hour over all non-cry clips
 * run back to back through the real analyzer, and event-based (1 s onset collar) and
 * segment-based (1 s) F1 on generated mixtures or on recordings with Audacity labels.
 * With --cv K it trains one model per group-wise fold and scores every clip with the model
 * that never saw its group, so the figures are out-of-sample; with --cv source one model per
 * left-out source (issue 13: a recording source is itself a cue that group-wise folds let
 * the model use), with figures per source and per label. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "cli/learn_opts.h"
#include "cli/cli.h"
#include "crymeter/analyzer.h"
#include "crymeter/featpath.h"
#include "crymeter/model_file.h"
#include "crymeter/shape.h"

static const char help[] =
    "Usage: crymeter evaluate [--model M] --manifest CSV [--data-root DIR] [options]\n"
    "       crymeter evaluate [--model M] FILE...   (Audacity labels beside each file)\n"
    "\n"
    "Measures how well a model finds crying.\n"
    "  Clip level: precision, recall and F1 of 'this clip contains crying' at the model's cry\n"
    "    threshold, and ROC AUC of the clip score (the highest smoothed cry probability).\n"
    "  False alarms: all non-cry clips run back to back through the analyzer; cry episodes\n"
    "    found there, per hour.\n"
    "  Events (--mix, or FILEs with labels): event-based F1 with a 1 s onset collar and\n"
    "    segment-based F1 on 1 s segments (DCASE / sed_eval conventions), cry class.\n"
    "  Start-record latency (--mix): seconds from each mixed cry's onset to the start\n"
    "    record of the episode it began, as monitor would announce it (median, 90th pct).\n"
    "\n"
    "Options:\n"
    "  --model FILE          model to evaluate (default: the built-in model)\n"
    "  --manifest CSV        labelled clips, as for calibrate; --data-root DIR for its paths\n"
    "  --cv K                train K group-wise fold models (same settings as calibrate:\n"
    "                        --seed, --model-type, --hidden, --tree-*, --no-augment) and\n"
    "                        score each clip with the model that did not see its group;\n"
    "                        the cry threshold of fold f is chosen on the other folds'\n"
    "                        out-of-fold scores\n"
    "  --cv source           leave one source out (the manifest's 'source' column): one\n"
    "                        model per source, trained on all the others, scores that\n"
    "                        source's clips. A source with crying is left out only when\n"
    "                        the others keep at least half of all cry clips; otherwise it\n"
    "                        stays in every model's training and its groups are dealt over\n"
    "                        the folds (scored group-wise; the output names it). Adds a\n"
    "                        table per source (cry recall, non-cry clips flagged, false\n"
    "                        episodes) and per label (share flagged as cry)\n"
    "  --source-folds K      with --cv source: deal the left-out sources into K folds of\n"
    "                        about equal size (each model then leaves several sources out;\n"
    "                        stricter than one source at a time, and K models to train)\n"
    "  --folds-out CSV       write each clip's fold (path,fold; -1: never scored) for\n"
    "                        training scripts, e.g. models/train/frame_net.py oof\n"
    "  --frame-nets DIR      with --cv: give fold f's model the frame network DIR/foldFF.json\n"
    "                        (two digits, from 00) that frame_net.py oof trained without it\n"
    "  --frame-net-weight W  the networks' share in each window's probabilities, 0..1\n"
    "                        (default: each file's weight, 0.5 when it has none)\n"
    "  --mix                 also build mixtures per fold: the fold's cry and vocal clips\n"
    "                        placed 2-6 s further apart than the cry merge gap (so\n"
    "                        each cry is one bout) on its background clips, looped\n"
    "                        as needed; one mixture per SNR band (-6..0, 0..10, 10..20\n"
    "                        dB), event F1 per band and overall. Under --cv source a\n"
    "                        fold's beds are its own (unseen) sources' background clips\n"
    "  --train-only CSV      with --cv: train the fold models only on the clips of this\n"
    "                        manifest (same data root); the others are scored, never\n"
    "                        trained on: an older recipe on today's folds and clips\n"
    "  --gate-out FILE       with --cv: write the gate figures (printed at the end: clip\n"
    "                        F1, cry recall per source, false episodes per hour, cat,\n"
    "                        child, laughter and home audio flag rates, the laughter\n"
    "                        stream, mixture event F1 per band) as TSV for\n"
    "                        models/train/gate.py\n"
    "  --mix-out DIR         write those mixtures (WAV) and their Audacity labels to DIR\n"
    "                        (mix_foldF_bandB.wav and .txt)\n"
    "  --plot FILE.svg       draw the clip-level precision-recall curve and operating point\n"
    "  --seed N, -j N, --model-type T, --train-seed N, --tree-depth D, --tree-rounds R,\n"
    "  --tree-lr E, --tree-min-leaf N, --tree-l2 L, --tree-subsample S, --tree-colsample S,\n"
    "  --tree-bins B, --hidden H, --epochs E, --l2 L, --label-smoothing E, --no-augment,\n"
    "  --augment-twice, --label-balance, --smooth W, --min-episode S, --merge-gap-cry S,\n"
    "  --confirm K/N, --hard-negative A, --f1-slack D, --onset-threshold P, --onset-max S,\n"
    "  --onset-gap S, --min-cry-windows N\n"
    "                        as for calibrate\n"
    "  --force               overwrite --plot and --gate-out output\n"
    "\n"
    "Examples (models/README.md, \"The gate\"):\n"
    "  crymeter evaluate --manifest all.csv --data-root ../shared/data --cv source \\\n"
    "      --source-folds 6 --seed 1 --mix --gate-out cand.tsv\n"
    "  crymeter evaluate ... --train-only older.csv --gate-out base.tsv   # an older recipe\n"
    "  crymeter evaluate ... --cv 5 --mix --plot pr.svg   # group-wise folds\n"
    "\n"
    "Exit status: 0 ok, 1 a file or training failed, 2 usage error.\n";

typedef struct opts {
    const char *model, *manifest, *root, *plot, *mix_out, *folds_out, *frame_nets;
    const char *train_only, *gate_out;
    double fn_weight; /* --frame-net-weight; < 0: the network files' */
    unsigned cv, seed, jobs, source_folds;
    int cv_source; /* --cv source: cv is then the number of left-out sources, set later */
    cd_detector_opts det; /* --smooth, --min-episode, ...: not given = the built-in model's */
    int augment, mix, force, label_balance;
    cd_learner learner; /* --model-type, --train-seed, --tree-*, the network's options */
    char **files;
    size_t n_files;
} opts;

/* ---- analyzer runs ----------------------------------------------------------------------- */

typedef struct collect {
    cm_span *v; /* cry episodes */
    float *conf; /* their confidence */
    size_t n, cap;
    cm_announce *a; /* their START records */
    size_t na, acap;
    double pushed_s; /* audio pushed so far */
    FILE *shape_df;  /* CM_EVAL_SHAPE dump (developer aid), or NULL */
    const char *shape_tag; /* "fa" or "mix" */
    unsigned fold;
} collect;

/* Developer aid (CM_EVAL_SHAPE=FILE): every cry episode of the false-alarm stream ("fa") and
 * of the mixtures ("mix") with its shape description, to measure offline whether the shape
 * separates false from true cry episodes (models/README.md, "What was tried and not kept"). The
 * shape is the one the END record carries (cm_shape_end at the close, before the summary has
 * settled: what a veto at the END record would see). Lines:
 *   L fa fold seconds                                  the length of a fold's stream
 *   S tag fold id start_s at_s                         the START record (at_s: audio pushed)
 *   E tag fold id start_s end_s confidence n_bursts n_inhalations n_other burst_rate_hz
 *     regularity_cv rhythm f0_median_hz f0_p10_hz f0_p90_hz f0_range_st rise_fall_share
 *     effort_db level_dbfs_max intensity n_sob sob_s truncated n_listed contours(6, ',')
 *     bursts (onset,offset,kind,contour,f0_median_hz,f0_range_st;...)
 * Matching against the reference cries is left to the reader (CM_EVAL_DUMP has them;
 * models/shape_veto.py reads both). */
static void dump_shape(const collect *c, cm_event_kind kind, const cm_episode *ep)
{
    FILE *f = c->shape_df;
    if (kind == CM_EVENT_START) {
        fprintf(f, "S\t%s\t%u\t%llu\t%.3f\t%.3f\n", c->shape_tag, c->fold,
                (unsigned long long)ep->id, ep->start_s, c->pushed_s);
        return;
    }
    const cm_shape_result *r = ep->shape;
    fprintf(f, "E\t%s\t%u\t%llu\t%.3f\t%.3f\t%.4f", c->shape_tag, c->fold,
            (unsigned long long)ep->id, ep->start_s, ep->end_s, (double)ep->confidence);
    if (!r) {
        fprintf(f, "\tnoshape\n");
        return;
    }
    fprintf(f, "\t%u\t%u\t%u\t%.3f\t%.3f\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t%.3f\t%.2f\t%.2f"
               "\t%d\t%u\t%.2f\t%d\t%u\t",
            r->n_bursts, r->n_inhalations, r->n_other, r->burst_rate_hz, r->regularity_cv,
            (int)r->rhythm, r->f0_median_hz, r->f0_p10_hz, r->f0_p90_hz, r->f0_range_st,
            r->rise_fall_share, r->effort_db, r->level_dbfs_max, (int)r->intensity, r->n_sob,
            r->sob_s, (int)r->truncated, r->n_listed);
    for (int k = 0; k < CM_N_CONTOURS; k++)
        fprintf(f, "%s%u", k ? "," : "", r->contour_count[k]);
    fputc('\t', f);
    for (unsigned b = 0; b < r->n_listed; b++)
        fprintf(f, "%s%.3f,%.3f,%d,%d,%.1f,%.2f", b ? ";" : "", r->burst[b].onset_s,
                r->burst[b].offset_s, (int)r->burst[b].kind, (int)r->burst[b].contour,
                (double)r->burst[b].f0_median_hz, (double)r->burst[b].f0_range_st);
    fputc('\n', f);
}

static void on_event(void *user, cm_event_kind kind, const cm_episode *ep)
{
    collect *c = user;
    if (ep->cls != CM_CLASS_CRY) return;
    if (c->shape_df && (kind == CM_EVENT_START || kind == CM_EVENT_END)) dump_shape(c, kind, ep);
    if (kind == CM_EVENT_START) {
        if (c->na == c->acap) {
            size_t nc = c->acap ? 2 * c->acap : 64;
            cm_announce *v = realloc(c->a, nc * sizeof *v);
            if (!v) return;
            c->a = v;
            c->acap = nc;
        }
        c->a[c->na++] = (cm_announce){ep->start_s, c->pushed_s};
        return;
    }
    if (kind != CM_EVENT_END) return;
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 64;
        cm_span *v = realloc(c->v, nc * sizeof *v);
        float *cf = v ? realloc(c->conf, nc * sizeof *cf) : NULL;
        if (v) c->v = v;
        if (!v || !cf) return;
        c->conf = cf;
        c->cap = nc;
    }
    c->conf[c->n] = ep->confidence;
    c->v[c->n].onset_s = ep->start_s;
    c->v[c->n].offset_s = ep->end_s;
    c->n++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Cry episodes of a CM_FRONT_RATE_HZ mono signal under model m. */
static int run_analyzer(const cm_model *m, const float *x, size_t n, collect *out)
{
    return cd_run_analyzer(m, x, n, on_event, out, &out->pushed_s);
}

/* Appends a clip's audio, at CM_FRONT_RATE_HZ, to a growing buffer. */
static int append_clip(const char *path, float **buf, size_t *n, size_t *cap)
{
    float *x;
    size_t k;
    if (cd_read_front(path, &x, &k, NULL) != 0) return -1;
    if (*n + k > *cap) {
        size_t nc = (*n + k) * 2;
        float *nb = realloc(*buf, nc * sizeof *nb);
        if (!nb) {
            free(x);
            return -1;
        }
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *n, x, k * sizeof *x);
    *n += k;
    free(x);
    return 0;
}

static int write_wav_labels(const char *dir, unsigned fold, int band, const float *x, size_t n,
                            const cm_mix_event *ev, size_t ne);

/* Developer aid (CM_EVAL_WIN=FILE): every detector window of a mixture, as the analyzer's
 * detector scores it (smoothing and confirmation included): fold, first and last frame,
 * p(vocal), p(cry). CM_EVAL_FAWIN=FILE: the same for the false-alarm stream. */
static void dump_windows(const char *env, const cm_model *m, const float *x, size_t n,
                         unsigned fold)
{
    const char *path = getenv(env);
    if (!path) return;
    FILE *df = fopen(path, fold ? "a" : "w");
    cm_front_config fc = cm_model_front_config(m);
    cm_detector *d = NULL;
    cm_diag why = {{0}};
    cm_frame *fr = NULL;
    size_t nf = 0, k = 0;
    if (df && cm_detector_create(m, &d, &why) == CM_OK &&
        cm_fpath_frames(&fc, x, n, &fr, &nf, &why) == CM_OK) {
        cm_window_scores w;
        for (size_t i = 0; i < nf; i++)
            if (cm_detector_push(d, &fr[i], &w))
                fprintf(df, "%u\t%llu\t%llu\t%.4f\t%.4f\n", fold,
                        (unsigned long long)w.first_frame, (unsigned long long)w.last_frame,
                        (double)w.p[CM_CLASS_VOCAL], (double)w.p[CM_CLASS_CRY]), k++;
    }
    (void)k;
    free(fr);
    cm_detector_destroy(d);
    if (df) fclose(df);
}

/* ---- SVG ------------------------------------------------------------------------------- */

static int write_plot(const char *path, const cm_pr_point *pr, size_t n, double op_p,
                      double op_r, float thr, double auc, const char *title)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_err("%s: cannot create", path);
        return -1;
    }
    const double W = 480, H = 400, L = 60, T = 40, PW = 380, PH = 300;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%g\" y=\"22\" font-size=\"14\">%s (ROC AUC %.4f)</text>\n", L, title,
            auc);
    fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
               "stroke=\"black\"/>\n", L, T, PW, PH);
    for (int k = 0; k <= 10; k += 2) {
        double gx = L + PW * k / 10.0, gy = T + PH - PH * k / 10.0;
        fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>\n", gx, T,
                gx, T + PH);
        fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>\n", L, gy,
                L + PW, gy);
        fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%.1f</text>\n", gx,
                T + PH + 16, k / 10.0);
        fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.1f</text>\n", L - 6, gy + 4,
                k / 10.0);
    }
    fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">recall</text>\n", L + PW / 2,
            T + PH + 34);
    fprintf(f, "<text x=\"16\" y=\"%g\" transform=\"rotate(-90 16 %g)\" "
               "text-anchor=\"middle\">precision</text>\n", T + PH / 2, T + PH / 2);
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%.1f,%.1f ", L + PW * pr[i].recall, T + PH - PH * pr[i].precision);
    fprintf(f, "\"/>\n");
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"#d62728\"/>\n", L + PW * op_r,
            T + PH - PH * op_p);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">threshold %.3f: P %.3f, R %.3f"
               "</text>\n", L + PW * op_r - 10, T + PH - PH * op_p + 18, (double)thr, op_p, op_r);
    fprintf(f, "</svg>\n");
    return fclose(f) == 0 ? 0 : -1;
}


/* ---- leave one source out (--cv source) ------------------------------------------------- */

/* The source fold f leaves out. */
static const char *fold_source(const cd_source_info *src, size_t n_src, unsigned f)
{
    static char buf[256];
    size_t len = 0, n = 0;
    buf[0] = 0;
    for (size_t q = 0; q < n_src; q++)
        if (src[q].fold == (int)f) {
            if (n++ && len + 2 < sizeof buf) len += (size_t)snprintf(buf + len, sizeof buf - len, ", ");
            if (len < sizeof buf)
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", src[q].name);
            if (len >= sizeof buf - 4) {
                snprintf(buf + sizeof buf - 5, 5, "...");
                break;
            }
        }
    return n ? buf : "?";
}

static void print_source_plan(const cd_set *set, const cd_source_info *src, size_t n_src,
                              unsigned k)
{
    size_t cry_all = 0;
    for (size_t i = 0; i < set->n; i++) cry_all += set->clip[i].cls == CM_CLASS_CRY;
    size_t out_src = 0;
    for (size_t q = 0; q < n_src; q++) out_src += src[q].fold >= 0;
    if (out_src > k) {
        printf("Leave sources out: %zu sources, %zu left out in %u folds (a model each, trained "
               "on the sources of the other folds)\n", n_src, out_src, k);
        for (unsigned f = 0; f < k; f++) printf("  fold %u: %s\n", f + 1, fold_source(src, n_src, f));
    } else
        printf("Leave one source out: %zu sources, %u left out one at a time (a model each, "
               "trained on all the others)\n", n_src, k);
    for (size_t q = 0; q < n_src; q++)
        if (src[q].fold < 0)
            printf("  kept in training: %s (%zu of the %zu cry clips; without it the others "
                   "keep %zu, under %.0f %%): its groups are dealt over the %u folds, so its "
                   "clips are scored by models that saw its source but not their group\n",
                   src[q].name, src[q].n_cry, cry_all, cry_all - src[q].n_cry,
                   100.0 * CD_LOSO_MIN_CRY_SHARE, k);
}

/* Counts each false cry episode of fold f's stream against the clip it starts in (the
 * stream is the fold's non-cry clips back to back, in manifest order). */
static void attribute_false(const cd_set *set, unsigned f, const collect *est, size_t *clip_fa)
{
    for (size_t e = 0; e < est->n; e++) {
        double t = 0;
        size_t last = set->n;
        for (size_t i = 0; i < set->n; i++) {
            if (set->clip[i].fold != (int)f || set->clip[i].cls == CM_CLASS_CRY) continue;
            last = i;
            if (t + set->clip[i].duration_s > est->v[e].onset_s) break;
            t += set->clip[i].duration_s;
        }
        if (last < set->n) clip_fa[last]++;
    }
}

/* Clip-level figures over the clips of left-out sources only (no kept source's clips). */
static int print_unseen_only(const cd_set *set, const cd_source_info *src, size_t n_src,
                             const float *sc, const uint8_t *pos, const float *thr)
{
    float *s = malloc((set->n + 1) * sizeof *s);
    uint8_t *p = malloc(set->n + 1);
    if (!s || !p) {
        free(s), free(p);
        return -1;
    }
    cm_counts c = {0};
    size_t m = 0;
    for (size_t i = 0; i < set->n; i++) {
        int kept = 0;
        for (size_t q = 0; q < n_src; q++)
            if (src[q].fold < 0 && !strcmp(src[q].name, set->clip[i].source)) kept = 1;
        if (kept) continue;
        int d = sc[i] >= thr[set->clip[i].fold], t = pos[i];
        c.tp += t && d, c.fp += !t && d, c.fn += t && !d, c.tn += !t && !d;
        s[m] = sc[i], p[m++] = pos[i];
    }
    double auc = cm_roc_auc(s, p, m);
    printf("  unseen-source clips only (kept sources left aside, %zu clips): P %.4f R %.4f "
           "F1 %.4f ROC AUC %.4f (TP %zu FP %zu FN %zu TN %zu)\n", m, cm_precision(c),
           cm_recall(c), cm_f1(c), auc, c.tp, c.fp, c.fn, c.tn);
    free(s), free(p);
    return 0;
}

/* Per source: clips, cry clips and their recall, non-cry clips and the share flagged as cry,
 * false cry episodes that start in its non-cry clips and per hour of them. */
static void print_source_table(const cd_set *set, const cd_source_info *src, size_t n_src,
                               const float *sc, const float *thr, const size_t *clip_fa)
{
    printf("Per source (out of fold; recall over its cry clips, flagged = share of its non-cry "
           "clips scored as cry):\n");
    printf("  %-28s %-9s %6s %5s %8s %7s %8s %6s %7s\n", "source", "scored", "clips", "cry",
           "recall", "noncry", "flagged", "FA", "FA/h");
    for (size_t q = 0; q < n_src; q++) {
        size_t cry = 0, hit = 0, neg = 0, fl = 0, fa = 0;
        double secs = 0;
        for (size_t i = 0; i < set->n; i++) {
            const cd_clip *c = &set->clip[i];
            if (strcmp(c->source, src[q].name)) continue;
            int d = sc[i] >= thr[c->fold];
            if (c->cls == CM_CLASS_CRY) cry++, hit += d;
            else neg++, fl += d, fa += clip_fa[i], secs += c->duration_s;
        }
        char rec[16] = "-", flg[16] = "-", fah[16] = "-";
        if (cry) snprintf(rec, sizeof rec, "%.3f", (double)hit / cry);
        if (neg) snprintf(flg, sizeof flg, "%.3f", (double)fl / neg);
        if (secs > 0) snprintf(fah, sizeof fah, "%.1f", fa / (secs / 3600.0));
        printf("  %-28s %-9s %6zu %5zu %8s %7zu %8s %6zu %7s\n", src[q].name,
               src[q].fold < 0 ? "group" : "unseen", src[q].n_clips, cry, rec, neg, flg, fa, fah);
    }
    printf("  (scored: unseen = by the model that left its source out; group = a kept source, "
           "by models that saw the source but not the clip's group)\n");
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Per manifest label: clips and the share scored as cry (out of fold). For cry labels that
 * is their recall; for the confusers (cat, child_voice, siren, laugh, home_noncry, ...) the
 * false-positive rate. */
static void print_label_table(const cd_set *set, const float *sc, const float *thr)
{
    const char **lab = malloc((set->n + 1) * sizeof *lab);
    if (!lab) return;
    for (size_t i = 0; i < set->n; i++) lab[i] = set->clip[i].label;
    qsort(lab, set->n, sizeof *lab, cmp_label);
    printf("Per label (out of fold; share of its clips scored as cry):\n");
    printf("  %-16s %-10s %6s %8s %7s\n", "label", "class", "clips", "as cry", "share");
    static const char *const nm[] = {"background", "vocal", "cry", "sob"};
    for (size_t i = 0; i < set->n; i++) {
        if (i && !strcmp(lab[i], lab[i - 1])) continue;
        size_t n = 0, fl = 0;
        int cls = 0;
        for (size_t j = 0; j < set->n; j++)
            if (!strcmp(set->clip[j].label, lab[i])) {
                n++;
                fl += sc[j] >= thr[set->clip[j].fold];
                cls = (int)set->clip[j].cls;
            }
        printf("  %-16s %-10s %6zu %8zu %7.3f\n", lab[i], nm[cls], n, fl, (double)fl / n);
    }
    free(lab);
}

/* ---- mixtures and the gate -------------------------------------------------------------- */

/* Event-to-background level bands of the mixtures (issue 20: a monitor in the next room hears
 * crying at or below the level of the television; the figure at or below 0 dB measures it).
 * Each band is its own mixture, so its false cry episodes are its own too. */
typedef struct mix_band {
    double lo_db, hi_db;
    const char *name;
} mix_band;
static const mix_band bands[] = {{-6.0, 0.0, "-6..0 dB"}, {0.0, 10.0, "0..10 dB"},
                                 {10.0, 20.0, "10..20 dB"}};
enum { N_BANDS = sizeof bands / sizeof bands[0] };

typedef struct mix_result {
    cm_counts ev[N_BANDS], seg[N_BANDS];
    size_t n_ev[N_BANDS], n_lat, skipped_cry;
    double secs, *lat;
} mix_result;

/* One band's mixture of fold f: the fold's cry clips and as many vocal clips, shuffled
 * (seeded), placed 2-6 s further apart than the model's cry merge gap (each cry clip is then
 * its own crying bout, the unit the analyzer reports, so the per-clip event labels and the
 * product agree; as in DCASE 2017 task 2's mixtures, which hold one target event per 30 s)
 * on the fold's background clips, looped to hold every item, each item at an SNR drawn in
 * the band. Models see only beds of sources they never trained on under --cv source. bed0
 * (nb0 samples) is the fold's background clips back to back, read once for all bands. */
static int mix_fold(const opts *o, const cd_set *set, const cm_model *m, unsigned f, int band,
                    const float *bed0, size_t nb0, FILE *shape_df, mix_result *res)
{
    float *bed = NULL;
    size_t nb = nb0;
    size_t *idx = malloc((set->n + 1) * sizeof *idx), ni = 0, ncry = 0;
    for (size_t i = 0; idx && i < set->n; i++)
        if (set->clip[i].fold == (int)f && set->clip[i].cls == CM_CLASS_CRY) idx[ni++] = i;
    ncry = ni;
    if (idx && nb == 0) { /* a fold of sources without background clips: nothing to mix onto */
        if (band == 0) res->skipped_cry += ncry;
        free(idx);
        return 0;
    }
    uint64_t rng = o->seed + 1000u * (f + 1) + 7919u * (uint64_t)band;
    for (size_t i = 0; idx && i < set->n && ni < 2 * ncry; i++) {
        size_t j = (size_t)(cm_rng_next(&rng) % set->n);
        if (set->clip[j].fold == (int)f && set->clip[j].cls == CM_CLASS_VOCAL) idx[ni++] = j;
    }
    for (size_t i = ni; idx && i > 1; i--) {
        size_t j = (size_t)(cm_rng_next(&rng) % i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    cm_mix_item *items = calloc(ni + 1, sizeof *items);
    cm_mix_event *evs = calloc(ni + 1, sizeof *evs);
    float *mix = NULL;
    size_t ne = 0;
    cm_diag why = {{0}};
    int bad = !idx || !items || !evs;
    for (size_t i = 0; !bad && i < ni; i++) {
        float *x;
        size_t n;
        if (cd_read_front(set->clip[idx[i]].path, &x, &n, NULL) != 0) bad = 1;
        else items[i] = (cm_mix_item){x, n, (int)set->clip[idx[i]].cls};
    }
    const double gap = cm_model_params(m)->merge_gap_s[CM_CLASS_CRY];
    cm_mix_config mc = {CM_FRONT_RATE_HZ, bands[band].lo_db, bands[band].hi_db, gap + 2.0,
                        gap + 6.0, rng};
    if (!bad) { /* the bed, looped to hold every item */
        size_t need = (size_t)((gap + 6.0) * CM_FRONT_RATE_HZ) * (ni + 1);
        for (size_t i = 0; i < ni; i++) need += items[i].n;
        if (need > nb) nb = need;
        if (!(bed = malloc(nb * sizeof *bed))) bad = 1;
        for (size_t k = 0; !bad && k < nb; k++) bed[k] = bed0[k % nb0];
    }
    if (!bad && !(mix = malloc(nb * sizeof *mix))) bad = 1;
    if (!bad && cm_mix_generate(&mc, bed, nb, items, ni, mix, evs, ni, &ne, &why) != CM_OK) {
        cli_err("mix: %s", why.msg);
        bad = 1;
    }
    collect est = {0};
    est.shape_df = shape_df, est.shape_tag = "mix", est.fold = f;
    if (!bad && run_analyzer(m, mix, nb, &est) != 0) bad = 1;
    if (!bad && band == 0) dump_windows("CM_EVAL_WIN", m, mix, nb, f);
    if (!bad && o->mix_out && write_wav_labels(o->mix_out, f, band, mix, nb, evs, ne) != 0) bad = 1;
    cm_span *ref = bad ? NULL : malloc((ne + 1) * sizeof *ref);
    if (!bad && !ref) bad = 1;
    if (!bad) {
        size_t nr = 0;
        for (size_t e = 0; e < ne; e++)
            if (evs[e].label == CM_CLASS_CRY)
                ref[nr].onset_s = evs[e].start_s, ref[nr++].offset_s = evs[e].end_s;
        cm_event_counts(ref, nr, est.v, est.n, 1.0, &res->ev[band]);
        cm_segment_counts(ref, nr, est.v, est.n, (double)nb / CM_FRONT_RATE_HZ, 1.0,
                          &res->seg[band]);
        double *nl = realloc(res->lat, (res->n_lat + nr + 1) * sizeof *nl);
        if (nl) {
            res->lat = nl;
            res->n_lat += cm_start_latencies(ref, nr, est.a, est.na, 1.0, nl + res->n_lat);
        }
        const char *dump = getenv("CM_EVAL_DUMP"); /* developer aid: spans */
        FILE *df = dump ? fopen(dump, f || band ? "a" : "w") : NULL;
        for (size_t e = 0; df && e < ne; e++)
            fprintf(df, "%u\tref\t%d\t%.2f\t%.2f\t%.1f\t%s\n", f, evs[e].label, evs[e].start_s,
                    evs[e].end_s, evs[e].snr_db, set->clip[idx[evs[e].item]].path);
        for (size_t e = 0; df && e < est.n; e++)
            fprintf(df, "%u\test\t2\t%.2f\t%.2f\t%.4f\n", f, est.v[e].onset_s, est.v[e].offset_s,
                    (double)est.conf[e]);
        if (df) fclose(df);
        res->n_ev[band] += nr;
        res->secs += (double)nb / CM_FRONT_RATE_HZ;
    }
    for (size_t i = 0; items && i < ni; i++) free((void *)items[i].x);
    free(est.v), free(est.conf), free(est.a), free(items), free(mix), free(evs), free(idx);
    free(bed), free(ref);
    return bad ? -1 : 0;
}

static cm_counts counts_sum(const cm_counts *c, int n)
{
    cm_counts s = {0};
    for (int i = 0; i < n; i++) s.tp += c[i].tp, s.fp += c[i].fp, s.fn += c[i].fn, s.tn += c[i].tn;
    return s;
}

/* The laughter stream (issue 20, part 2): a monitor meets laughter and babble as one long
 * recording, not as clips that each restart the detector. Per fold, its clips with a
 * laughter or babble label back to back through the fold's model: the share of their time
 * inside cry episodes, and cry episodes per hour. */
static int is_laughter(const char *label)
{
    static const char *const l[] = {"laugh", "laughter", "laugh_infant", "laugh_child",
                                    "babble", "squeal"};
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++)
        if (!strcmp(label, l[i])) return 1;
    return 0;
}

typedef struct stream_result {
    double secs, cry_secs; /* the stream's length; its time inside cry episodes */
    size_t episodes;       /* cry episodes */
} stream_result;

static int laughter_stream(const cd_set *set, cm_model *const *fm, unsigned K, stream_result *r)
{
    *r = (stream_result){0, 0, 0};
    for (unsigned f = 0; f < K; f++) {
        float *buf = NULL;
        size_t n = 0, cap = 0;
        for (size_t i = 0; i < set->n; i++)
            if (set->clip[i].fold == (int)f && is_laughter(set->clip[i].label) &&
                append_clip(set->clip[i].path, &buf, &n, &cap) != 0) {
                free(buf);
                return -1;
            }
        collect est = {0};
        int rc = n ? run_analyzer(fm[f], buf, n, &est) : 0;
        for (size_t e = 0; rc == 0 && e < est.n; e++)
            r->cry_secs += est.v[e].offset_s - est.v[e].onset_s;
        r->episodes += est.n;
        r->secs += (double)n / CM_FRONT_RATE_HZ;
        free(est.v), free(est.conf), free(est.a), free(buf);
        if (rc) return -1;
    }
    return 0;
}

/* The confusers the gate names, by manifest label: the share of their clips scored as cry. */
typedef struct confuser {
    const char *key, *labels[4];
} confuser;
static const confuser confusers[] = {
    {"flagged_cat", {"cat", NULL}},
    {"flagged_child", {"child_voice", NULL}},
    {"flagged_laughter", {"laugh", "laugh_infant", "laugh_child", NULL}},
    {"flagged_home_audio", {"home_noncry", NULL}},
};

/* Gate figures: one line each, "key<TAB>value<TAB>higher|lower<TAB>count", to stdout under a
 * heading and, with --gate-out, to g (NULL: none), which models/train/gate.py compares
 * across recipes. */
static void gate_put(FILE *g, const char *key, double v, const char *better, size_t n)
{
    printf("  %-40s %8.3f  %-6s (%zu)\n", key, v, better, n);
    if (g) fprintf(g, "%s\t%.4f\t%s\t%zu\n", key, v, better, n);
}

#define GATE_MIN_CRY 10 /* cry sources with fewer clips are in the per-source table only */

static void print_gate(FILE *g, const cd_set *set, const cd_source_info *src, size_t n_src,
                       const float *sc, const float *thr, cm_counts clip, double fa_per_h,
                       size_t fa_n, const stream_result *laugh, const mix_result *mr)
{
    printf("Gate figures (out of fold; models/train/gate.py compares recipes):\n");
    gate_put(g, "clip_f1", cm_f1(clip), "higher", clip.tp + clip.fn);
    for (size_t q = 0; src && q < n_src; q++) {
        size_t cry = 0, hit = 0;
        for (size_t i = 0; i < set->n; i++)
            if (set->clip[i].cls == CM_CLASS_CRY && !strcmp(set->clip[i].source, src[q].name))
                cry++, hit += sc[i] >= thr[set->clip[i].fold];
        if (cry < GATE_MIN_CRY) continue;
        char key[128];
        snprintf(key, sizeof key, "recall_%s", src[q].name);
        gate_put(g, key, (double)hit / cry, "higher", cry);
    }
    gate_put(g, "false_cry_episodes_per_h", fa_per_h, "lower", fa_n);
    for (size_t k = 0; k < sizeof confusers / sizeof confusers[0]; k++) {
        size_t n = 0, fl = 0;
        for (size_t i = 0; i < set->n; i++)
            for (int l = 0; confusers[k].labels[l]; l++)
                if (!strcmp(set->clip[i].label, confusers[k].labels[l]))
                    n++, fl += sc[i] >= thr[set->clip[i].fold];
        if (n) gate_put(g, confusers[k].key, (double)fl / n, "lower", n);
    }
    if (laugh->secs > 0) {
        gate_put(g, "laughter_stream_cry_time_share", laugh->cry_secs / laugh->secs, "lower",
                 (size_t)laugh->secs);
        gate_put(g, "laughter_stream_cry_episodes_per_h",
                 (double)laugh->episodes / (laugh->secs / 3600.0), "lower", laugh->episodes);
    }
    if (mr) {
        static const char *const key[] = {"mix_event_f1_le0db", "mix_event_f1_0to10db",
                                          "mix_event_f1_gt10db"};
        for (int b = 0; b < N_BANDS; b++)
            gate_put(g, key[b], cm_f1(mr->ev[b]), "higher", mr->n_ev[b]);
        cm_counts all = counts_sum(mr->ev, N_BANDS);
        gate_put(g, "mix_event_f1", cm_f1(all), "higher", all.tp + all.fn);
    }
}

/* ---- main ------------------------------------------------------------------------------ */

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1, o->jobs = 2, o->augment = 1;
    o->det = cd_detector_opts_default();
    o->fn_weight = -1;
    o->learner = cd_learner_default();
    o->files = calloc((size_t)argc + 1, sizeof *o->files);
    if (!o->files) return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int lo = cd_learner_option("evaluate", a, v, &o->learner);
        if (!lo) lo = cd_detector_option("evaluate", a, v, &o->det);
        if (lo < 0) return -1;
        if (lo > 0) {
            i++;
            continue;
        }
        int takes = !strcmp(a, "--model") || !strcmp(a, "--manifest") ||
                    !strcmp(a, "--data-root") || !strcmp(a, "--plot") ||
                    !strcmp(a, "--mix-out") || !strcmp(a, "--cv") || !strcmp(a, "--seed") ||
                    !strcmp(a, "-j") || !strcmp(a, "--jobs") || !strcmp(a, "--source-folds") ||
                    !strcmp(a, "--folds-out") || !strcmp(a, "--frame-nets") ||
                    !strcmp(a, "--frame-net-weight") || !strcmp(a, "--train-only") ||
                    !strcmp(a, "--gate-out");
        if (takes && !v) {
            cli_err("evaluate: %s needs a value", a);
            return -1;
        }
        if (takes) i++;
        if (!strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--manifest")) o->manifest = v;
        else if (!strcmp(a, "--data-root")) o->root = v;
        else if (!strcmp(a, "--plot")) o->plot = v;
        else if (!strcmp(a, "--folds-out")) o->folds_out = v;
        else if (!strcmp(a, "--train-only")) o->train_only = v;
        else if (!strcmp(a, "--gate-out")) o->gate_out = v;
        else if (!strcmp(a, "--frame-nets")) o->frame_nets = v;
        else if (!strcmp(a, "--frame-net-weight")) {
            if (cli_parse_double(a, v, 0.0, 1.0, &o->fn_weight)) return -1;
        }
        else if (!strcmp(a, "--source-folds")) {
            if (cli_parse_uint(a, v, 2, 1000, &o->source_folds)) return -1;
        }
        else if (!strcmp(a, "--mix-out")) o->mix_out = v, o->mix = 1;
        else if (!strcmp(a, "--cv")) {
            if (!strcmp(v, "source")) o->cv_source = 1, o->cv = 2;
            else if (strspn(v, "0123456789") != strlen(v) || !*v) {
                cli_err("--cv=%s: expected a whole number of folds from 2 to 20, or 'source'", v);
                return -1;
            } else {
                if (cli_parse_uint(a, v, 2, 20, &o->cv)) return -1;
                o->cv_source = 0;
            }
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_uint(a, v, 0, 4000000000u, &o->seed)) return -1;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            if (cli_parse_uint(a, v, 1, 64, &o->jobs)) return -1;
        } else if (!strcmp(a, "--mix")) o->mix = 1;
        else if (!strcmp(a, "--no-augment")) o->augment = 0;
        else if (!strcmp(a, "--augment-twice")) o->augment = 2;
        else if (!strcmp(a, "--label-balance")) o->label_balance = 1;
        else if (!strcmp(a, "--force")) o->force = 1;
        else if (a[0] == '-' && a[1]) {
            cli_err("evaluate: unknown option '%s'", a);
            return -1;
        } else o->files[o->n_files++] = argv[i];
    }
    if (cd_learner_finish("evaluate", &o->learner, o->seed) != 0) return -1;
    if (!o->manifest && !o->n_files) {
        cli_err("evaluate: nothing to evaluate (give --manifest CSV or labelled files)");
        return -1;
    }
    if ((o->cv || o->mix) && !o->manifest) {
        cli_err("evaluate: --cv and --mix need --manifest");
        return -1;
    }
    if ((o->train_only || o->gate_out) && !o->cv) {
        cli_err("evaluate: %s needs --cv (it describes the fold models' training)",
                o->train_only ? "--train-only" : "--gate-out");
        return -1;
    }
    if (o->source_folds && !o->cv_source) {
        cli_err("evaluate: --source-folds needs --cv source");
        return -1;
    }
    if (o->frame_nets && !o->cv) {
        cli_err("evaluate: --frame-nets needs --cv (without it, evaluate the model that holds "
                "the frame network: --model M)");
        return -1;
    }
    if (o->cv && o->model) {
        cli_err("evaluate: --cv trains its own fold models; drop --model");
        return -1;
    }
    if (o->plot && !o->force && access(o->plot, F_OK) == 0) {
        cli_err("evaluate: %s exists (use --force to overwrite)", o->plot);
        return -1;
    }
    if (o->gate_out && !o->force && access(o->gate_out, F_OK) == 0) {
        cli_err("evaluate: %s exists (use --force to overwrite)", o->gate_out);
        return -1;
    }
    return 0;
}

/* --train-only CSV: the clips of the manifest that are not in CSV (a manifest of the same
 * data root) are scored but never trained on: the recipe of a model trained on older data,
 * evaluated on the same folds and clips as today's. */
static int mark_train_only(const char *csv, const char *root, cd_set *set)
{
    cd_set sub;
    memset(&sub, 0, sizeof sub);
    if (cd_load_manifest(csv, root, 0, &sub) != 0) return -1;
    const char **p = malloc((sub.n + 1) * sizeof *p);
    if (!p) {
        cd_free(&sub);
        cli_err("out of memory");
        return -1;
    }
    for (size_t i = 0; i < sub.n; i++) p[i] = sub.clip[i].path;
    qsort(p, sub.n, sizeof *p, cmp_label);
    size_t kept = 0;
    for (size_t i = 0; i < set->n; i++) {
        const char *key = set->clip[i].path;
        set->clip[i].no_train = !bsearch(&key, p, sub.n, sizeof *p, cmp_label);
        kept += !set->clip[i].no_train;
    }
    free(p);
    cd_free(&sub);
    fprintf(stderr, "crymeter: --train-only %s: %zu of the %zu clips may be trained on\n", csv,
            kept, set->n);
    if (kept == 0) {
        cli_err("evaluate: --train-only %s: none of its clips is in the manifest", csv);
        return -1;
    }
    return 0;
}

/* Event and segment counts for time-stamped files (labels beside the audio). */
static int eval_labelled_files(const opts *o, const cm_model *m)
{
    cm_counts ev = {0}, seg = {0};
    for (size_t i = 0; i < o->n_files; i++) {
        const char *a = o->files[i];
        cd_labels lb;
        if (cd_read_labels(a, &lb) != 0) return -1;
        cm_span *ref = malloc((lb.n + 1) * sizeof *ref);
        size_t nr = 0;
        for (size_t j = 0; ref && j < lb.n; j++)
            if (lb.cls[j] == CM_CLASS_CRY)
                ref[nr].onset_s = lb.lab[j].start_s, ref[nr++].offset_s = lb.lab[j].end_s;
        cd_labels_free(&lb);
        float *x;
        size_t n;
        collect est = {0};
        int rc = ref && cd_read_front(a, &x, &n, NULL) == 0 ? 0 : -1;
        if (rc == 0) {
            rc = run_analyzer(m, x, n, &est);
            free(x);
        }
        if (rc == 0) {
            cm_event_counts(ref, nr, est.v, est.n, 1.0, &ev);
            cm_segment_counts(ref, nr, est.v, est.n, (double)n / CM_FRONT_RATE_HZ, 1.0, &seg);
        }
        free(est.v), free(est.conf), free(est.a), free(ref);
        if (rc) return -1;
    }
    printf("Labelled recordings (%zu), cry class:\n", o->n_files);
    printf("  event-based (1 s onset collar): P %.3f R %.3f F1 %.3f (TP %zu, FP %zu, FN %zu)\n",
           cm_precision(ev), cm_recall(ev), cm_f1(ev), ev.tp, ev.fp, ev.fn);
    printf("  segment-based (1 s):            P %.3f R %.3f F1 %.3f\n", cm_precision(seg),
           cm_recall(seg), cm_f1(seg));
    return 0;
}

int cmd_evaluate(int argc, char **argv)
{
    if (cli_help_asked(argc, argv)) {
        fputs(help, stdout);
        return CM_EXIT_OK;
    }
    opts o;
    if (parse(argc, argv, &o) != 0) {
        free(o.files);
        fputs("Try 'crymeter evaluate --help'.\n", stderr);
        return CM_EXIT_USAGE;
    }
    int rc = CM_EXIT_FAIL;
    cm_model *given = NULL, **fm = NULL;
    cd_set set;
    memset(&set, 0, sizeof set);
    float *sc = NULL, *sa = NULL;
    uint8_t *pos = NULL;
    cm_pr_point *pr = NULL;
    cm_diag why = {{0}};
    unsigned K = o.cv ? o.cv : 1;
    FILE *shape_df = NULL;
    cd_source_info *src = NULL; /* --cv source: which source went where */
    size_t n_src = 0, *clip_fa = NULL, fa_n = 0;
    double fa_secs = 0;
    mix_result *mr = NULL;
    if (getenv("CM_EVAL_SHAPE") && !(shape_df = fopen(getenv("CM_EVAL_SHAPE"), "w"))) {
        cli_err("%s: cannot create", getenv("CM_EVAL_SHAPE"));
        goto out;
    }
    if (!o.cv) {
        cm_status st = o.model ? cm_model_load_file(o.model, &given, &why)
                               : cm_model_load_default(&given, &why);
        if (st != CM_OK) {
            cli_err("%s", why.msg);
            goto out;
        }
    }
    if (o.n_files && given && eval_labelled_files(&o, given) != 0) goto out;
    if (!o.manifest) {
        rc = CM_EXIT_OK;
        goto out;
    }
    if (cd_load_manifest(o.manifest, o.root, 0, &set) != 0) goto out;
    if (o.train_only && mark_train_only(o.train_only, o.root, &set) != 0) goto out;
    if (o.cv_source) {
        for (size_t i = 0; i < set.n; i++)
            if (!set.clip[i].source || !set.clip[i].source[0]) {
                cli_err("evaluate: --cv source: %s: line %zu has no source (the manifest needs "
                        "a 'source' column naming each clip's corpus)", o.manifest,
                        set.clip[i].line);
                fputs("Try 'crymeter evaluate --help'.\n", stderr);
                rc = CM_EXIT_USAGE;
                goto out;
            }
        int k = cd_assign_source_folds(&set, CD_LOSO_MIN_CRY_SHARE, o.source_folds, o.seed,
                                       &src, &n_src);
        if (k < 0) {
            cli_err("out of memory");
            goto out;
        }
        if (k < 2) {
            cli_err("evaluate: --cv source: %d of %zu sources can be left out; need at least 2",
                    k, n_src);
            fputs("Try 'crymeter evaluate --help'.\n", stderr);
            rc = CM_EXIT_USAGE;
            goto out;
        }
        K = o.cv = (unsigned)k;
        print_source_plan(&set, src, n_src, K);
    }
    fm = calloc(K, sizeof *fm);
    sc = calloc(set.n + 1, sizeof *sc);
    sa = calloc(set.n + 1, sizeof *sa);
    pos = calloc(set.n + 1, 1);
    pr = calloc(set.n + 1, sizeof *pr);
    if (!fm || !sc || !sa || !pos || !pr) goto out;
    if (!o.cv_source) cd_assign_folds(&set, K, o.seed);
    if (o.folds_out && cd_write_folds(o.folds_out, &set, o.force) != 0) goto out;
    cd_keep_frame_inputs = o.frame_nets || (given && cm_model_frame_net(given));
    cm_front_config fc = o.cv ? cm_front_config_default() : cm_model_front_config(given);
    if (cd_extract(&set, &fc, o.jobs, o.cv ? o.augment : 0, o.seed, 0) != 0) goto out;
    for (unsigned f = 0; f < K; f++) {
        if (!o.cv) {
            fm[f] = given;
            continue;
        }
        cd_trainset *ts = cd_trainset_build(&set, (int)f, -80.f, o.label_balance);
        cm_model *dm = NULL;
        if (cm_model_load_default(&dm, &why) != CM_OK) {
            cli_err("%s", why.msg);
            cd_trainset_free(ts);
            goto out;
        }
        cm_detect_params par = *cm_model_params(dm);
        unsigned smooth = o.det.smooth ? o.det.smooth : cm_model_smooth_windows(dm);
        cm_model_destroy(dm);
        cd_detector_apply(&o.det, &par);
        int ok = ts && cd_train_model(&o.learner, &ts->set, &fc, &par, smooth, -80.f, NULL,
                                      &fm[f], &why) == CM_OK;
        cd_trainset_free(ts);
        if (!ok) {
            cli_err("evaluate: fold %u: %s", f + 1, why.msg[0] ? why.msg : "out of memory");
            goto out;
        }
        if (o.frame_nets && cd_attach_frame_net(o.frame_nets, f, o.fn_weight, fm[f]) != 0) goto out;
        if (o.cv_source)
            fprintf(stderr, "crymeter: fold %u/%u (%s left out) trained\n", f + 1, K,
                    fold_source(src, n_src, f));
        else
            fprintf(stderr, "crymeter: fold %u/%u trained\n", f + 1, K);
    }
    for (size_t i = 0; i < set.n; i++) {
        int f = set.clip[i].fold;
        sc[i] = cd_clip_score(fm[f], &set.clip[i].clean, CM_CLASS_CRY);
        sa[i] = set.clip[i].aug.n_win ? cd_clip_score(fm[f], &set.clip[i].aug, CM_CLASS_CRY) : NAN;
        pos[i] = set.clip[i].cls == CM_CLASS_CRY;
    }
    /* Thresholds: the model's own, or in CV for fold f chosen on the other folds' scores. */
    float *thr = calloc(K, sizeof *thr);
    if (!thr) goto out;
    for (unsigned f = 0; f < K; f++) {
        thr[f] = cm_model_params(fm[f])->threshold[CM_CLASS_CRY];
        if (!o.cv) continue;
        float t;
        if (cd_choose_cry_threshold(&set, sc, sa, (int)f, 0, &t, NULL, NULL, NULL) == CM_OK)
            thr[f] = t;
        cm_detect_params par = *cm_model_params(fm[f]);
        par.threshold[CM_CLASS_CRY] = thr[f];
        if (cm_model_set_params(fm[f], &par, &why) != CM_OK) cli_err("%s", why.msg);
        fprintf(stderr, "crymeter: fold %u: cry threshold %.4f\n", f + 1, (double)thr[f]);
    }
    {
        const char *dump = getenv("CM_EVAL_CLIPS"); /* developer aid: out-of-fold clip scores */
        FILE *df = dump ? fopen(dump, "w") : NULL;
        for (size_t i = 0; df && i < set.n; i++)
            fprintf(df, "%s\t%d\t%u\t%.5f\t%.5f\t%.4f\t%s\n", set.clip[i].label,
                    set.clip[i].fold, set.clip[i].rate_hz, (double)sc[i], (double)sa[i],
                    (double)thr[set.clip[i].fold], set.clip[i].path);
        if (df) fclose(df);
    }
    cm_counts all = {0}, r8 = {0}, r16 = {0};
    for (size_t i = 0; i < set.n; i++) {
        int d = sc[i] >= thr[set.clip[i].fold], t = pos[i];
        cm_counts *c = set.clip[i].rate_hz <= 8000 ? &r8 : &r16;
        for (int k = 0; k < 2; k++) {
            cm_counts *z = k ? c : &all;
            z->tp += t && d, z->fp += !t && d, z->fn += t && !d, z->tn += !t && !d;
        }
    }
    double auc = cm_roc_auc(sc, pos, set.n);
    char title[96];
    snprintf(title, sizeof title, "%s, %zu clips",
             o.cv_source ? "leave one source out" : o.cv ? "group-wise CV" : "model as given",
             set.n);
    printf("Clip level, cry (%s):\n", title);
    printf("  precision %.4f  recall %.4f  F1 %.4f  ROC AUC %.4f  (TP %zu FP %zu FN %zu TN %zu)\n",
           cm_precision(all), cm_recall(all), cm_f1(all), auc, all.tp, all.fp, all.fn, all.tn);
    printf("  8 kHz sources:  P %.4f R %.4f F1 %.4f (%zu clips)\n", cm_precision(r8),
           cm_recall(r8), cm_f1(r8), r8.tp + r8.fp + r8.fn + r8.tn);
    printf("  16 kHz sources: P %.4f R %.4f F1 %.4f (%zu clips)\n", cm_precision(r16),
           cm_recall(r16), cm_f1(r16), r16.tp + r16.fp + r16.fn + r16.tn);
    if (o.cv_source && print_unseen_only(&set, src, n_src, sc, pos, thr) != 0) goto out_thr;
    if (o.plot) {
        size_t np = cm_pr_curve(sc, pos, set.n, pr);
        if (write_plot(o.plot, pr, np, cm_precision(all), cm_recall(all), thr[0], auc,
                       "Cry, clip level") != 0)
            goto out_thr;
        printf("  precision-recall curve: %s\n", o.plot);
    }

    /* False cry episodes per hour over all non-cry clips back to back, per fold model. */
    if (o.cv_source && !(clip_fa = calloc(set.n + 1, sizeof *clip_fa))) goto out_thr;
    {
        double secs = 0;
        size_t false_eps = 0;
        for (unsigned f = 0; f < K; f++) {
            float *buf = NULL;
            size_t n = 0, cap = 0;
            for (size_t i = 0; i < set.n; i++)
                if (set.clip[i].fold == (int)f && set.clip[i].cls != CM_CLASS_CRY &&
                    append_clip(set.clip[i].path, &buf, &n, &cap) != 0) {
                    free(buf);
                    goto out_thr;
                }
            collect est = {0};
            est.shape_df = shape_df, est.shape_tag = "fa", est.fold = f;
            dump_windows("CM_EVAL_FAWIN", fm[f], buf, n, f);
            if (n && run_analyzer(fm[f], buf, n, &est) != 0) {
                free(buf);
                goto out_thr;
            }
            {
                const char *dump = getenv("CM_EVAL_FA"); /* developer aid: false alarms */
                FILE *df = dump ? fopen(dump, f ? "a" : "w") : NULL;
                for (size_t e = 0; df && e < est.n; e++) {
                    double t = 0;
                    const char *who = "?";
                    for (size_t i = 0; i < set.n; i++)
                        if (set.clip[i].fold == (int)f && set.clip[i].cls != CM_CLASS_CRY) {
                            if (t + set.clip[i].duration_s > est.v[e].onset_s) {
                                who = set.clip[i].path;
                                break;
                            }
                            t += set.clip[i].duration_s;
                        }
                    fprintf(df, "%u\t%.2f\t%.2f\t%.2f\t%s\t%.4f\n", f, est.v[e].onset_s,
                            est.v[e].offset_s - est.v[e].onset_s, est.v[e].onset_s - t, who,
                            (double)est.conf[e]);
                }
                if (df) fclose(df);
            }
            false_eps += est.n;
            secs += (double)n / CM_FRONT_RATE_HZ;
            if (clip_fa) attribute_false(&set, f, &est, clip_fa);
            if (shape_df)
                fprintf(shape_df, "L\tfa\t%u\t%.3f\n", f, (double)n / CM_FRONT_RATE_HZ);
            free(est.v), free(est.conf), free(est.a);
            free(buf);
        }
        printf("False alarms: %zu cry episodes in %.2f h of non-cry clips back to back: %.2f "
               "per hour\n", false_eps, secs / 3600.0, secs > 0 ? false_eps / (secs / 3600.0) : 0.0);
        fa_n = false_eps, fa_secs = secs;
    }
    if (o.cv_source) {
        print_source_table(&set, src, n_src, sc, thr, clip_fa);
        print_label_table(&set, sc, thr);
    }

    if (o.mix) {
        mr = calloc(1, sizeof *mr);
        if (!mr) goto out_thr;
        for (unsigned f = 0; f < K; f++) {
            float *bed = NULL;
            size_t nb = 0, cap = 0;
            int bad = 0;
            for (size_t i = 0; i < set.n && !bad; i++)
                if (set.clip[i].fold == (int)f && set.clip[i].cls == CM_CLASS_BACKGROUND)
                    bad = append_clip(set.clip[i].path, &bed, &nb, &cap) != 0;
            for (int band = 0; band < N_BANDS && !bad; band++)
                bad = mix_fold(&o, &set, fm[f], f, band, bed, nb, shape_df, mr) != 0;
            free(bed);
            if (bad) goto out_thr;
        }
        size_t n_ev = 0;
        for (int band = 0; band < N_BANDS; band++) n_ev += mr->n_ev[band];
        cm_counts ev = counts_sum(mr->ev, N_BANDS), seg = counts_sum(mr->seg, N_BANDS);
        printf("Mixtures (cry and vocal clips on background beds, -6..20 dB SNR in three bands "
               "of one mixture each; %zu cry events, %.2f h):\n", n_ev, mr->secs / 3600.0);
        if (mr->skipped_cry)
            printf("  (%zu cry clips not mixed: their fold has no background clips)\n",
                   mr->skipped_cry);
        printf("  event-based (1 s onset collar): P %.4f R %.4f F1 %.4f (TP %zu FP %zu FN %zu)\n",
               cm_precision(ev), cm_recall(ev), cm_f1(ev), ev.tp, ev.fp, ev.fn);
        for (int band = 0; band < N_BANDS; band++)
            printf("    %-10s  event P %.4f R %.4f F1 %.4f (TP %zu FP %zu FN %zu); segment F1 "
                   "%.4f\n", bands[band].name, cm_precision(mr->ev[band]), cm_recall(mr->ev[band]),
                   cm_f1(mr->ev[band]), mr->ev[band].tp, mr->ev[band].fp, mr->ev[band].fn,
                   cm_f1(mr->seg[band]));
        printf("  segment-based (1 s):            P %.4f R %.4f F1 %.4f\n", cm_precision(seg),
               cm_recall(seg), cm_f1(seg));
        if (mr->n_lat) {
            /* What monitor would show: audio time from each cry's onset to the START record
             * of the episode it began (pushed in 10 ms chunks, as the capture worker does). */
            size_t nl = mr->n_lat;
            qsort(mr->lat, nl, sizeof *mr->lat, cmp_double);
            printf("  start-record latency (onset to START, %zu cries that began an episode): "
                   "median %.2f s, 90th percentile %.2f s\n", nl, mr->lat[nl / 2],
                   mr->lat[(nl * 9) / 10 < nl ? (nl * 9) / 10 : nl - 1]);
        }
    }
    if (o.cv) {
        stream_result laugh;
        if (laughter_stream(&set, fm, K, &laugh) != 0) goto out_thr;
        if (laugh.secs > 0)
            printf("Laughter stream (laughter and babble clips back to back, %.1f min): %.1f %% "
                   "of its time in %zu cry episodes\n", laugh.secs / 60.0,
                   100.0 * laugh.cry_secs / laugh.secs, laugh.episodes);
        FILE *g = NULL;
        if (o.gate_out && !(g = fopen(o.gate_out, "w"))) {
            cli_err("%s: cannot create", o.gate_out);
            goto out_thr;
        }
        print_gate(g, &set, src, n_src, sc, thr, all, fa_secs > 0 ? fa_n / (fa_secs / 3600.0) : 0,
                   fa_n, &laugh, mr);
        if (g && fclose(g) != 0) {
            cli_err("%s: write failed", o.gate_out);
            goto out_thr;
        }
    }
    rc = CM_EXIT_OK;
out_thr:
    free(thr);
out:
    if (shape_df) fclose(shape_df);
    if (fm && o.cv)
        for (unsigned f = 0; f < K; f++) cm_model_destroy(fm[f]);
    cm_model_destroy(given);
    free(fm), free(sc), free(sa), free(pos), free(pr);
    free(src), free(clip_fa);
    if (mr) free(mr->lat);
    free(mr);
    cd_free(&set);
    free(o.files);
    return rc;
}

/* Mixture WAV + Audacity labels, through libsndfile (the CLI may touch files). */

static int write_wav_labels(const char *dir, unsigned fold, int band, const float *x, size_t n,
                            const cm_mix_event *ev, size_t ne)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mix_fold%u_band%d.wav", dir, fold + 1, band + 1);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = CM_FRONT_RATE_HZ;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        cli_err("%s: %s", path, sf_strerror(NULL));
        return -1;
    }
    sf_count_t w = sf_writef_float(sf, x, (sf_count_t)n);
    sf_close(sf);
    if (w != (sf_count_t)n) return -1;
    snprintf(path, sizeof path, "%s/mix_fold%u_band%d.txt", dir, fold + 1, band + 1);
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_err("%s: cannot create", path);
        return -1;
    }
    static const char *const nm[] = {"background", "vocal", "cry", "sob"};
    for (size_t e = 0; e < ne; e++)
        fprintf(f, "%.3f\t%.3f\t%s\n", ev[e].start_s, ev[e].end_s,
                ev[e].label >= 0 && ev[e].label < 4 ? nm[ev[e].label] : "?");
    return fclose(f) == 0 ? 0 : -1;
}
