/* SPDX-License-Identifier: MIT */
/* Labelled clips for `calibrate` and `evaluate` (see calib_data.h): the file reading and
 * threading around the pure training code. Audio goes through the analyzer's own path
 * (cm_reader -> featpath.h: cleaning, channel mean, resampling to the front end's 8 kHz ->
 * cm_front), so the features a model is trained on are the features it will see. */
#include "learn/calib_data.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crymeter/featpath.h"
#include "crymeter/reader.h"
#include "crymeter/textfile.h"

/* "crymeter: " + message + newline on stderr, as the CLI's own messages (calib_data.h says
 * why this module prints). */
static void cd_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void cd_err(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "crymeter: %s\n", msg);
}

void cd_hash_hex(const void *p, size_t n, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

char *cd_read_file(const char *path, size_t *n)
{
    char *buf = NULL;
    cm_diag why = {{0}};
    if (cm_read_text_file(path, SIZE_MAX - 1, &buf, n, &why) != CM_OK) cd_err("%s", why.msg);
    return buf;
}

static char *join_path(const char *root, const char *p)
{
    size_t a = root ? strlen(root) : 0, b = strlen(p);
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    if (root && p[0] != '/' && a) {
        memcpy(s, root, a);
        s[a] = '/';
        memcpy(s + a + 1, p, b + 1);
    } else {
        memcpy(s, p, b + 1);
    }
    return s;
}

static int add_clip(cd_set *set, size_t *cap, cd_clip c)
{
    if (set->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        cd_clip *v = realloc(set->clip, nc * sizeof *v);
        if (!v) return -1;
        set->clip = v;
        *cap = nc;
    }
    set->clip[set->n++] = c;
    return 0;
}

static const char *const cls_names[] = {"background", "vocal", "cry", "sob"};

int cd_load_manifest(const char *manifest, const char *root, size_t min_per_class, cd_set *set)
{
    size_t n;
    char *text = cd_read_file(manifest, &n);
    if (!text) return -1;
    cd_hash_hex(text, n, set->manifest_hash);
    set->manifest_path = manifest;
    cm_manifest *m = NULL;
    cm_diag why = {{0}};
    if (cm_manifest_parse(text, n, &m, &why) != CM_OK) {
        cd_err("%s: %s", manifest, why.msg);
        free(text);
        return -1;
    }
    size_t cap = set->n;
    int bad = 0;
    for (size_t i = 0; i < m->n && bad < 10; i++) {
        const cm_manifest_row *r = &m->rows[i];
        cm_class c;
        if (cm_label_to_class(r->label, r->hint, &c) != 0) {
            cd_err("%s: line %zu: unknown label '%s' (expected background, vocal, cry or a "
                    "dataset label such as cry_infant, speech, laugh, noise, dog; see "
                    "'crymeter calibrate --help')",
                    manifest, r->line, r->label);
            bad++;
            continue;
        }
        if (c == CM_CLASS_SOB) {
            cd_err("%s: line %zu: class 'sob' is not trained yet", manifest, r->line);
            bad++;
            continue;
        }
        cd_clip cl;
        memset(&cl, 0, sizeof cl);
        cl.path = join_path(root, r->path);
        cl.label = strdup(r->label);
        cl.group = strdup(r->group[0] ? r->group : r->path); /* no group: each clip its own */
        cl.source = strdup(r->source);
        cl.cls = c;
        cl.line = r->line;
        struct stat st;
        if (!cl.path || !cl.label || !cl.group || !cl.source || add_clip(set, &cap, cl) != 0) {
            cd_err("out of memory");
            free(cl.path), free(cl.label), free(cl.group), free(cl.source);
            bad++;
            break;
        }
        if (stat(cl.path, &st) != 0) {
            cd_err("%s: line %zu: %s: %s%s", manifest, r->line, cl.path, strerror(errno),
                    root ? "" : " (relative paths need --data-root DIR)");
            bad++;
        }
    }
    cm_manifest_free(m);
    free(text);
    if (bad) return -1;
    size_t cnt[CM_N_CLASSES] = {0};
    for (size_t i = 0; i < set->n; i++) cnt[set->clip[i].cls]++;
    for (int c = 0; c < 3 && min_per_class; c++)
        if (cnt[c] < min_per_class) {
            cd_err("%s: %zu %s clip%s, need at least %zu of each of background, vocal and cry "
                    "(have %zu, %zu, %zu)",
                    manifest, cnt[c], cls_names[c], cnt[c] == 1 ? "" : "s", min_per_class,
                    cnt[0], cnt[1], cnt[2]);
            return -1;
        }
    return 0;
}

void cd_labels_free(cd_labels *l)
{
    free(l->txt), free(l->lab), free(l->cls);
    memset(l, 0, sizeof *l);
}

int cd_read_labels(const char *audio, cd_labels *out)
{
    memset(out, 0, sizeof *out);
    size_t la = strlen(audio);
    const char *dot = strrchr(audio, '.');
    const char *slash = strrchr(audio, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - audio) : la;
    out->txt = malloc(stem + 5);
    if (!out->txt) return -1;
    memcpy(out->txt, audio, stem);
    memcpy(out->txt + stem, ".txt", 5);
    size_t tn;
    char *t = cd_read_file(out->txt, &tn);
    if (!t) {
        cd_err("%s: needs Audacity labels beside it in %s", audio, out->txt);
        cd_labels_free(out);
        return -1;
    }
    cm_diag why = {{0}};
    cm_status st = cm_labels_parse(t, tn, &out->lab, &out->n, &why);
    free(t);
    if (st != CM_OK) {
        cd_err("%s: %s", out->txt, why.msg);
        cd_labels_free(out);
        return -1;
    }
    out->cls = malloc((out->n + 1) * sizeof *out->cls);
    if (!out->cls) {
        cd_err("out of memory");
        cd_labels_free(out);
        return -1;
    }
    for (size_t j = 0; j < out->n; j++)
        if (cm_label_to_class(out->lab[j].text, NULL, &out->cls[j]) != 0) {
            cd_err("%s: line %zu: unknown label '%s'", out->txt, out->lab[j].line,
                    out->lab[j].text);
            cd_labels_free(out);
            return -1;
        }
    return 0;
}

int cd_add_labelled_files(char **files, size_t n, cd_set *set)
{
    size_t cap = set->n;
    for (size_t i = 0; i < n; i++) {
        const char *a = files[i];
        cd_labels lb;
        if (cd_read_labels(a, &lb) != 0) return -1;
        cm_class cls = CM_CLASS_BACKGROUND;
        cd_clip cl;
        memset(&cl, 0, sizeof cl);
        cl.sob = malloc((lb.n + 1) * sizeof *cl.sob);
        if (!cl.sob) {
            cd_err("out of memory");
            cd_labels_free(&lb);
            return -1;
        }
        for (size_t j = 0; j < lb.n; j++) {
            cm_class c = lb.cls[j];
            if (c == CM_CLASS_CRY || (c == CM_CLASS_VOCAL && cls == CM_CLASS_BACKGROUND)) cls = c;
            if (c == CM_CLASS_SOB) {
                cl.sob[cl.n_sob].onset_s = lb.lab[j].start_s;
                cl.sob[cl.n_sob++].offset_s = lb.lab[j].end_s;
            }
        }
        cd_labels_free(&lb);
        cl.labelled = 1;
        cl.path = strdup(a);
        cl.label = strdup(cls_names[cls]);
        cl.group = strdup(a);
        cl.cls = cls;
        cl.line = 0;
        if (!cl.path || !cl.label || !cl.group || add_clip(set, &cap, cl) != 0) {
            free(cl.path), free(cl.label), free(cl.group), free(cl.sob);
            return -1;
        }
    }
    return 0;
}

void cd_free(cd_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        cd_clip *c = &set->clip[i];
        free(c->path), free(c->label), free(c->group), free(c->source);
        free(c->clean.x), free(c->clean.peak), free(c->aug.x), free(c->aug.peak);
        free(c->clean.fin), free(c->aug.fin), free(c->aug2.fin);
        free(c->aug2.x), free(c->aug2.peak);
        free(c->sob);
    }
    free(set->clip);
    memset(set, 0, sizeof *set);
}

int cd_read_front(const char *path, float **x, size_t *n, unsigned *rate_hz)
{
    *x = NULL;
    *n = 0;
    cm_reader *r = NULL;
    cm_reader_info info;
    cm_diag why = {{0}};
    if (cm_reader_open(path, &r, &info, &why) != CM_OK) {
        cd_err("%s", why.msg);
        return -1;
    }
    if (rate_hz) *rate_hz = info.rate_hz;
    enum { BLK = 4096 };
    cm_fpath *fp = NULL;
    if (cm_fpath_create(info.rate_hz, info.channels, BLK, &fp, &why) != CM_OK) {
        cd_err("%s: %s", path, why.msg);
        cm_reader_close(r);
        return -1;
    }
    float *blk = malloc(sizeof(float) * BLK * info.channels);
    size_t cap = 1 << 16, len = 0;
    float *out = malloc(cap * sizeof *out);
    int rc = -1;
    if (!blk || !out) goto done;
    for (;;) {
        size_t got = 0;
        if (cm_reader_read(r, blk, BLK, &got, &why) != CM_OK) {
            cd_err("%s", why.msg);
            goto done;
        }
        size_t need = cm_fpath_out_for(fp, got);
        while (len + need > cap) {
            float *no = realloc(out, 2 * cap * sizeof *no);
            if (!no) goto done;
            out = no;
            cap *= 2;
        }
        size_t w = 0;
        if (got) {
            if (cm_fpath_push(fp, blk, got, out + len, cap - len, &w) != CM_OK) goto done;
        } else {
            if (cm_fpath_flush(fp, out + len, cap - len, &w) != CM_OK) goto done;
        }
        len += w;
        if (got == 0) break;
    }
    rc = 0;
done:
    if (rc != 0 && !why.msg[0]) cd_err("%s: decoding or resampling failed", path);
    free(blk);
    cm_fpath_destroy(fp);
    cm_reader_close(r);
    if (rc != 0) {
        free(out);
        return -1;
    }
    *x = out;
    *n = len;
    return 0;
}

int cd_frames(const float *x, size_t n, const cm_front_config *fc, cm_frame **fr, size_t *nfr)
{
    cm_diag why = {{0}};
    if (cm_fpath_frames(fc, x, n, fr, nfr, &why) != CM_OK) {
        if (why.msg[0]) cd_err("front end: %s", why.msg);
        else cd_err("front end failed");
        return -1;
    }
    return 0;
}

int cd_keep_frame_inputs;

static float *frame_inputs(const cm_frame *fr, size_t nfr)
{
    float *v = malloc((nfr ? nfr : 1) * CM_FN_N_IN * sizeof *v);
    if (!v) return NULL;
    cm_fn_state st;
    cm_fn_reset(&st);
    for (size_t k = 0; k < nfr; k++) cm_fn_inputs(&st, fr + k, v + k * CM_FN_N_IN);
    return v;
}

int cd_window_feats(const float *x, size_t n, const cm_front_config *fc, int keep_fin,
                    cd_feats *out)
{
    memset(out, 0, sizeof *out);
    cm_frame *fr;
    size_t nfr;
    if (cd_frames(x, n, fc, &fr, &nfr) != 0) return -1;
    if (keep_fin) {
        if (!(out->fin = frame_inputs(fr, nfr))) {
            free(fr);
            return -1;
        }
        out->n_frames = nfr;
    }
    size_t nw = cm_wf_n_windows(nfr);
    out->x = malloc((nw ? nw : 1) * CM_WF_DIM * sizeof(float));
    out->peak = malloc((nw ? nw : 1) * sizeof(float));
    if (!out->x || !out->peak) {
        free(fr);
        free(out->x), free(out->peak), free(out->fin);
        memset(out, 0, sizeof *out);
        return -1;
    }
    for (size_t w = 0; w < nw; w++) {
        size_t s = cm_wf_window_start(nfr, w);
        size_t len = nfr - s < CM_DET_WIN_FRAMES ? nfr - s : CM_DET_WIN_FRAMES;
        out->peak[w] = cm_wf_compute(fr + s, len, out->x + w * CM_WF_DIM);
    }
    out->n_win = nw;
    free(fr);
    return 0;
}

/* ---- parallel extraction ---------------------------------------------------------------- */

typedef struct job {
    cd_set *set;
    const cm_front_config *fc;
    int augment;
    uint64_t seed;
    size_t *beds; /* background clip indices per fold, concatenated */
    size_t *bed_off, *bed_cnt;
    atomic_size_t next;
    atomic_int failed;
    atomic_size_t done;
    int verbose;
} job;

static int make_aug(job *j, size_t i, const float *x, size_t n, int copy)
{
    cd_clip *c = &j->set->clip[i];
    int f = c->fold;
    if (j->bed_cnt[f] == 0 || n == 0) return 0;
    uint64_t rng = j->seed ^ (0x9E3779B97F4A7C15ULL * (i + 1));
    if (copy) rng ^= 0xD1B54A32D192ED03ULL * (uint64_t)copy; /* another bed and SNR */
    if (!rng) rng = 1;
    size_t b = j->beds[j->bed_off[f] + cm_rng_next(&rng) % j->bed_cnt[f]];
    float *bx;
    size_t bn;
    if (cd_read_front(j->set->clip[b].path, &bx, &bn, NULL) != 0) return -1;
    float *bed = malloc(n * sizeof *bed), *mix = malloc(n * sizeof *mix);
    if (!bed || !mix || bn == 0) {
        free(bx), free(bed), free(mix);
        return bn == 0 ? 0 : -1;
    }
    size_t off = bn > n ? (size_t)(cm_rng_next(&rng) % (bn - n)) : 0;
    for (size_t k = 0; k < n; k++) bed[k] = bx[(off + k) % bn]; /* loop a short bed */
    /* SNR 0..20 dB: the range the event-based target is defined on. */
    cm_mix_config mc = {CM_FRONT_RATE_HZ, 0.0, 20.0, 0.0, 0.0, rng};
    cm_mix_item it = {x, n, (int)c->cls};
    cm_mix_event ev;
    size_t ne = 0;
    cm_diag why = {{0}};
    int rc = cm_mix_generate(&mc, bed, n, &it, 1, mix, &ev, 1, &ne, &why) == CM_OK ? 0 : -1;
    if (rc == 0 && ne == 1) {
        if (!copy) c->aug_snr_db = ev.snr_db;
        rc = cd_window_feats(mix, n, j->fc, 0, copy ? &c->aug2 : &c->aug);
    }
    free(bx), free(bed), free(mix);
    return rc;
}

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->set->n || atomic_load(&j->failed)) break;
        cd_clip *c = &j->set->clip[i];
        float *x;
        size_t n;
        if (cd_read_front(c->path, &x, &n, &c->rate_hz) != 0) {
            atomic_store(&j->failed, 1);
            break;
        }
        c->duration_s = (double)n / CM_FRONT_RATE_HZ;
        int rc = cd_window_feats(x, n, j->fc, cd_keep_frame_inputs, &c->clean);
        /* Mixed copies are training examples (and threshold evidence): none for a clip that
         * is never trained on. */
        for (int a = 0; rc == 0 && a < j->augment && a < 2 && c->cls != CM_CLASS_BACKGROUND &&
                        !c->no_train;
             a++)
            rc = make_aug(j, i, x, n, a);
        free(x);
        if (rc != 0) {
            cd_err("%s: feature extraction failed", c->path);
            atomic_store(&j->failed, 1);
            break;
        }
        size_t d = atomic_fetch_add(&j->done, 1) + 1;
        if (j->verbose && (d % 250 == 0 || d == j->set->n))
            fprintf(stderr, "crymeter: features: %zu/%zu clips\n", d, j->set->n);
    }
    return NULL;
}

int cd_extract(cd_set *set, const cm_front_config *fc, unsigned jobs, int augment, uint64_t seed,
               int verbose)
{
    job j;
    memset(&j, 0, sizeof j);
    j.set = set;
    j.fc = fc;
    j.augment = augment;
    j.seed = seed;
    j.verbose = verbose;
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    atomic_init(&j.done, 0);
    int maxf = 0;
    for (size_t i = 0; i < set->n; i++)
        if (set->clip[i].fold > maxf) maxf = set->clip[i].fold;
    j.beds = malloc((set->n + 1) * sizeof *j.beds);
    j.bed_off = calloc((size_t)maxf + 1, sizeof *j.bed_off);
    j.bed_cnt = calloc((size_t)maxf + 1, sizeof *j.bed_cnt);
    if (!j.beds || !j.bed_off || !j.bed_cnt) {
        free(j.beds), free(j.bed_off), free(j.bed_cnt);
        cd_err("out of memory");
        return -1;
    }
    size_t k = 0;
    for (int f = 0; f <= maxf; f++) {
        j.bed_off[f] = k;
        for (size_t i = 0; i < set->n; i++)
            if (set->clip[i].fold == f && set->clip[i].cls == CM_CLASS_BACKGROUND &&
                !set->clip[i].no_train)
                j.beds[k++] = i;
        j.bed_cnt[f] = k - j.bed_off[f];
    }
    if (jobs < 1) jobs = 1;
    if (jobs > 64) jobs = 64;
    pthread_t th[64];
    unsigned started = 0;
    for (unsigned t = 1; t < jobs; t++)
        if (pthread_create(&th[started], NULL, worker, &j) == 0) started++;
    worker(&j);
    for (unsigned t = 0; t < started; t++) pthread_join(th[t], NULL);
    free(j.beds), free(j.bed_off), free(j.bed_cnt);
    return atomic_load(&j.failed) ? -1 : 0;
}

/* ---- folds and training sets ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cd_assign_folds(cd_set *set, unsigned k, uint64_t seed)
{
    /* Unique groups in sorted order (independent of manifest order), each with the class of
     * its first clip in that order. */
    char **g = malloc((set->n + 1) * sizeof *g);
    if (!g) return;
    for (size_t i = 0; i < set->n; i++) g[i] = set->clip[i].group;
    qsort(g, set->n, sizeof *g, cmp_str);
    size_t ng = 0;
    for (size_t i = 0; i < set->n; i++)
        if (ng == 0 || strcmp(g[ng - 1], g[i]) != 0) g[ng++] = g[i];
    int *gfold = malloc((ng + 1) * sizeof *gfold);
    int *gcls = malloc((ng + 1) * sizeof *gcls);
    size_t *ord = malloc((ng + 1) * sizeof *ord);
    if (!gfold || !gcls || !ord) {
        free(g), free(gfold), free(gcls), free(ord);
        return;
    }
    for (size_t q = 0; q < ng; q++) gcls[q] = -1;
    for (size_t i = 0; i < set->n; i++) {
        char *key = set->clip[i].group;
        char **hit = bsearch(&key, g, ng, sizeof *g, cmp_str);
        size_t q = (size_t)(hit - g);
        int c = (int)set->clip[i].cls;
        if (gcls[q] < c) gcls[q] = c; /* a group with any cry counts as cry for balance */
    }
    uint64_t rng = seed ? seed : 1;
    unsigned deal = 0;
    for (int c = 0; c < CM_N_CLASSES; c++) {
        size_t m = 0;
        for (size_t q = 0; q < ng; q++)
            if (gcls[q] == c) ord[m++] = q;
        for (size_t i = m; i > 1; i--) {
            size_t r = (size_t)(cm_rng_next(&rng) % i);
            size_t t = ord[i - 1];
            ord[i - 1] = ord[r];
            ord[r] = t;
        }
        for (size_t i = 0; i < m; i++) gfold[ord[i]] = (int)(deal++ % k);
    }
    for (size_t i = 0; i < set->n; i++) {
        char *key = set->clip[i].group;
        char **hit = bsearch(&key, g, ng, sizeof *g, cmp_str);
        set->clip[i].fold = gfold[hit - g];
    }
    free(g), free(gfold), free(gcls), free(ord);
}

int cd_assign_source_folds(cd_set *set, double min_cry_share, unsigned max_folds, uint64_t seed,
                           cd_source_info **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    /* Unique sources in sorted order, so folds do not depend on the manifest's row order. */
    char **name = malloc((set->n + 1) * sizeof *name);
    if (!name) return -1;
    for (size_t i = 0; i < set->n; i++) name[i] = set->clip[i].source;
    qsort(name, set->n, sizeof *name, cmp_str);
    size_t ns = 0;
    for (size_t i = 0; i < set->n; i++)
        if (ns == 0 || strcmp(name[ns - 1], name[i]) != 0) name[ns++] = name[i];
    cd_source_info *src = calloc(ns + 1, sizeof *src);
    size_t *clip_src = malloc((set->n + 1) * sizeof *clip_src);
    if (!src || !clip_src) {
        free(name), free(src), free(clip_src);
        return -1;
    }
    size_t cry_all = 0;
    for (size_t i = 0; i < set->n; i++) {
        char *key = set->clip[i].source;
        size_t q = (size_t)((char **)bsearch(&key, name, ns, sizeof *name, cmp_str) - name);
        clip_src[i] = q;
        src[q].n_clips++;
        if (set->clip[i].cls == CM_CLASS_CRY) src[q].n_cry++, cry_all++;
    }
    int k = 0;
    for (size_t q = 0; q < ns; q++) {
        src[q].name = name[q];
        int keep = src[q].n_cry > 0 &&
                   (double)(cry_all - src[q].n_cry) < min_cry_share * (double)cry_all;
        src[q].fold = keep ? -1 : k++;
    }
    if (max_folds >= 2 && k > (int)max_folds) {
        /* Deal the left-out sources into max_folds folds, largest first, each to the fold
         * with the fewest clips so far (ties: the lower fold), so folds are about equal. */
        size_t *load = calloc(max_folds, sizeof *load);
        size_t *ord = malloc((ns + 1) * sizeof *ord), m = 0;
        if (!load || !ord) {
            free(load), free(ord), free(name), free(src), free(clip_src);
            return -1;
        }
        for (size_t q = 0; q < ns; q++)
            if (src[q].fold >= 0) ord[m++] = q;
        for (size_t i = 1; i < m; i++) { /* stable insertion sort, clips descending */
            size_t t = ord[i], j = i;
            while (j > 0 && src[ord[j - 1]].n_clips < src[t].n_clips) {
                ord[j] = ord[j - 1];
                j--;
            }
            ord[j] = t;
        }
        for (size_t i = 0; i < m; i++) {
            unsigned best = 0;
            for (unsigned f = 1; f < max_folds; f++)
                if (load[f] < load[best]) best = f;
            src[ord[i]].fold = (int)best;
            load[best] += src[ord[i]].n_clips;
        }
        k = (int)max_folds;
        free(load), free(ord);
    }
    /* Clips of left-out sources: their source's fold. Clips of kept sources: their groups,
     * shuffled with the seed, dealt round-robin over the folds (a group that also occurs in
     * a left-out source goes with it, so no group is split). */
    for (size_t i = 0; i < set->n; i++) set->clip[i].fold = src[clip_src[i]].fold;
    char **g = malloc((set->n + 1) * sizeof *g);
    int *gfold = malloc((set->n + 1) * sizeof *gfold);
    int rc = g && gfold ? k : -1;
    size_t ng = 0;
    for (size_t i = 0; rc >= 0 && i < set->n; i++) g[ng++] = set->clip[i].group;
    if (rc >= 0) {
        qsort(g, ng, sizeof *g, cmp_str);
        size_t u = 0;
        for (size_t i = 0; i < ng; i++)
            if (u == 0 || strcmp(g[u - 1], g[i]) != 0) g[u++] = g[i];
        ng = u;
        for (size_t q = 0; q < ng; q++) gfold[q] = -1;
        for (size_t i = 0; i < set->n; i++)
            if (set->clip[i].fold >= 0) {
                char *key = set->clip[i].group;
                gfold[(char **)bsearch(&key, g, ng, sizeof *g, cmp_str) - g] = set->clip[i].fold;
            }
        /* The kept sources' own groups, in sorted order, then shuffled. */
        size_t *ord = malloc((ng + 1) * sizeof *ord), m = 0;
        char *mark = calloc(ng + 1, 1);
        if (!ord || !mark) rc = -1;
        for (size_t i = 0; rc >= 0 && i < set->n; i++)
            if (set->clip[i].fold < 0) {
                char *key = set->clip[i].group;
                size_t q = (size_t)((char **)bsearch(&key, g, ng, sizeof *g, cmp_str) - g);
                if (gfold[q] < 0 && !mark[q]) mark[q] = 1;
            }
        for (size_t q = 0; rc >= 0 && q < ng; q++)
            if (mark[q]) ord[m++] = q;
        uint64_t rng = seed ? seed : 1;
        for (size_t i = m; rc >= 0 && i > 1; i--) {
            size_t r = (size_t)(cm_rng_next(&rng) % i), t = ord[i - 1];
            ord[i - 1] = ord[r];
            ord[r] = t;
        }
        for (size_t i = 0; rc >= 0 && k > 0 && i < m; i++) gfold[ord[i]] = (int)(i % (size_t)k);
        for (size_t i = 0; rc >= 0 && i < set->n; i++)
            if (set->clip[i].fold < 0) {
                char *key = set->clip[i].group;
                set->clip[i].fold = gfold[(char **)bsearch(&key, g, ng, sizeof *g, cmp_str) - g];
            }
        free(ord), free(mark);
    }
    free(g), free(gfold), free(clip_src), free(name);
    if (rc < 0) {
        free(src);
        return -1;
    }
    *out = src;
    *n_out = ns;
    return k;
}

void cd_trainset_free(cd_trainset *t)
{
    if (!t) return;
    free(t->x), free(t->w), free(t->y);
    free(t);
}

cd_trainset *cd_trainset_build(const cd_set *set, int skip_fold, float silence_dbfs,
                               int label_balance)
{
    size_t tot = 0;
    for (size_t i = 0; i < set->n; i++)
        if (set->clip[i].fold != skip_fold && !set->clip[i].no_train)
            tot += set->clip[i].clean.n_win + set->clip[i].aug.n_win + set->clip[i].aug2.n_win;
    cd_trainset *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->x = malloc((tot + 1) * CM_WF_DIM * sizeof(float));
    t->w = malloc((tot + 1) * sizeof(float));
    t->y = malloc(tot + 1);
    size_t *gi = malloc((tot + 1) * sizeof *gi); /* example -> clip */
    if (!t->x || !t->w || !t->y || !gi) {
        free(gi);
        cd_trainset_free(t);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        const cd_clip *c = &set->clip[i];
        if (c->fold == skip_fold || c->no_train) continue;
        for (int v = 0; v < 3; v++) {
            const cd_feats *f = v == 2 ? &c->aug2 : v ? &c->aug : &c->clean;
            float top = -200.f;
            for (size_t w = 0; w < f->n_win; w++)
                if (f->peak[w] > top) top = f->peak[w];
            for (size_t w = 0; w < f->n_win; w++) {
                if (f->peak[w] < silence_dbfs) continue;
                /* A quiet stretch of a cry or vocal clip is not what the label says. */
                if (c->cls != CM_CLASS_BACKGROUND && f->peak[w] < top - 30.f) continue;
                memcpy(t->x + k * CM_WF_DIM, f->x + w * CM_WF_DIM, CM_WF_DIM * sizeof(float));
                t->y[k] = (uint8_t)c->cls;
                gi[k] = i;
                k++;
            }
        }
    }
    /* Weights: each group gets sqrt(its example count) in total, then every class sums to
     * the same, so that neither the 500-clip digit speakers nor the class sizes dominate. */
    double cls_sum[CM_N_CLASSES] = {0};
    /* Count examples per group. */
    size_t *grp_cnt = calloc(set->n + 1, sizeof *grp_cnt);
    size_t *clip_grp = malloc((set->n + 1) * sizeof *clip_grp);
    char **names = malloc((set->n + 1) * sizeof *names);
    if (!grp_cnt || !clip_grp || !names) {
        free(grp_cnt), free(clip_grp), free(names), free(gi);
        cd_trainset_free(t);
        return NULL;
    }
    for (size_t i = 0; i < set->n; i++) names[i] = set->clip[i].group;
    qsort(names, set->n, sizeof *names, cmp_str);
    size_t ng = 0;
    for (size_t i = 0; i < set->n; i++)
        if (ng == 0 || strcmp(names[ng - 1], names[i]) != 0) names[ng++] = names[i];
    for (size_t i = 0; i < set->n; i++) {
        char *key = set->clip[i].group;
        clip_grp[i] = (size_t)((char **)bsearch(&key, names, ng, sizeof *names, cmp_str) - names);
    }
    for (size_t e = 0; e < k; e++) grp_cnt[clip_grp[gi[e]]]++;
    for (size_t e = 0; e < k; e++) t->w[e] = (float)(1.0 / sqrt((double)grp_cnt[clip_grp[gi[e]]]));
    if (label_balance) {
        /* Within a class, each manifest label (cat, speech, noise, ...) weighs in proportion
         * to the square root of its group-weighted size: 32 cat clips are no longer drowned
         * by 535 noise clips, yet do not count as much. Labels are found by name. */
        double *lab_sum = calloc(set->n + 1, sizeof *lab_sum);
        size_t *clip_lab = malloc((set->n + 1) * sizeof *clip_lab);
        if (lab_sum && clip_lab) {
            for (size_t i = 0; i < set->n; i++) {
                size_t q = i;
                for (size_t j = 0; j < i; j++)
                    if (set->clip[j].cls == set->clip[i].cls &&
                        !strcmp(set->clip[j].label, set->clip[i].label)) {
                        q = clip_lab[j];
                        break;
                    }
                clip_lab[i] = q;
            }
            for (size_t e = 0; e < k; e++) lab_sum[clip_lab[gi[e]]] += t->w[e];
            for (size_t e = 0; e < k; e++) {
                double ls = lab_sum[clip_lab[gi[e]]];
                t->w[e] = (float)(t->w[e] / sqrt(ls));
            }
        }
        free(lab_sum), free(clip_lab);
    }
    for (size_t e = 0; e < k; e++) cls_sum[t->y[e]] += t->w[e];
    int ncls = 0;
    for (int c = 0; c < CM_N_CLASSES; c++) ncls += cls_sum[c] > 0;
    for (size_t e = 0; e < k; e++) t->w[e] = (float)(t->w[e] / (cls_sum[t->y[e]] * ncls) * (double)k);
    free(grp_cnt), free(clip_grp), free(names), free(gi);
    t->set.n = k;
    t->set.x = t->x;
    t->set.y = t->y;
    t->set.weight = t->w;
    return t;
}

float cd_clip_score(const cm_model *m, const cd_feats *f, cm_class c)
{
    if (f->n_win == 0) return 0.f;
    float *p = malloc(f->n_win * (CM_N_CLASSES + CM_FN_CLASSES) * sizeof *p);
    if (!p) return 0.f;
    float *fw = p + f->n_win * CM_N_CLASSES;
    int fn = f->fin && cm_model_frame_net(m) &&
             cm_model_frame_net_windows(m, f->fin, f->n_frames, fw) == f->n_win;
    cm_model_score_clip(m, f->x, f->peak, fn ? fw : NULL, f->n_win, p);
    float best = 0.f;
    for (size_t w = 0; w < f->n_win; w++)
        if (p[w * CM_N_CLASSES + c] > best) best = p[w * CM_N_CLASSES + c];
    free(p);
    return best;
}

int cd_run_analyzer(const cm_model *m, const float *x, size_t n, cm_event_fn on_event,
                    void *user, double *pushed_s)
{
    cm_analyzer_config cfg = cm_analyzer_config_default(CM_FRONT_RATE_HZ, 1);
    cfg.model = m;
    cfg.true_peak = false;
    /* Every stage on this thread, as in monitor (whose on_level keeps them there): with the
     * file path's front-end thread, frames reach the detector in 1 s jobs up to 4 jobs
     * behind the push, so the START times (pushed_s) came 3-4 s late and varied from run to
     * run (median 4.71-5.08 s instead of 1.77 s). Episodes are the same either way. */
    cfg.threads = 1;
    cfg.on_event = on_event;
    cfg.user = user;
    cm_analyzer *a = NULL;
    cm_diag why = {{0}};
    if (cm_analyzer_create(&cfg, &a, &why) != CM_OK) {
        cd_err("analyzer: %s", why.msg);
        return -1;
    }
    int rc = 0;
    /* 10 ms pushes, as the monitor's capture worker does, so that the time of each START
     * record (pushed_s) is the monitor's to within 10 ms. */
    const size_t hop = CM_FRONT_RATE_HZ / 100;
    for (size_t i = 0; i < n && rc == 0; i += hop) {
        size_t k = n - i < hop ? n - i : hop;
        if (pushed_s) *pushed_s = (double)(i + k) / CM_FRONT_RATE_HZ;
        if (cm_analyzer_push(a, x + i, k) != CM_OK) rc = -1;
    }
    if (rc == 0 && cm_analyzer_flush(a) != CM_OK) rc = -1;
    cm_analyzer_destroy(a);
    if (rc) cd_err("analyzer failed");
    return rc;
}

double cd_f1_slack = CD_F1_SLACK_DEFAULT;

cm_status cd_choose_cry_threshold(const cd_set *set, const float *s_clean, const float *s_aug,
                                  int skip_fold, double target, float *thr, double *p,
                                  double *r, double *f1)
{
    *thr = NAN;
    float *sc = malloc((2 * set->n + 1) * sizeof *sc);
    uint8_t *pos = malloc(2 * set->n + 1);
    if (!sc || !pos) {
        free(sc), free(pos);
        return CM_E_NOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (set->clip[i].fold == skip_fold || set->clip[i].no_train) continue;
        int t = set->clip[i].cls == CM_CLASS_CRY;
        sc[m] = s_clean[i], pos[m++] = (uint8_t)t;
        if (s_aug && set->clip[i].aug.n_win && isfinite(s_aug[i])) sc[m] = s_aug[i], pos[m++] = (uint8_t)t;
    }
    cm_status st = !m ? CM_E_INVAL
                   : target > 0 ? cm_choose_threshold(sc, pos, m, target, thr, p, r, f1)
                                : cm_choose_threshold_slack(sc, pos, m, cd_f1_slack, thr, p, r, f1);
    free(sc), free(pos);
    return st;
}

/* ---- detector options -------------------------------------------------------------------- */

cd_detector_opts cd_detector_opts_default(void)
{
    cd_detector_opts d;
    d.min_episode = d.merge_gap_cry = -1.0;
    d.onset_threshold = d.onset_max = d.onset_gap = -1.0;
    d.min_cry_windows = d.confirm_k = d.confirm_n = -1;
    d.smooth = 0;
    return d;
}

void cd_detector_apply(const cd_detector_opts *d, cm_detect_params *par)
{
    if (d->min_episode >= 0) par->min_episode_s = (float)d->min_episode;
    if (d->merge_gap_cry >= 0) par->merge_gap_s[CM_CLASS_CRY] = (float)d->merge_gap_cry;
    if (d->onset_threshold >= 0) par->cry_onset_threshold = (float)d->onset_threshold;
    if (d->onset_max >= 0) par->cry_onset_max_s = (float)d->onset_max;
    if (d->onset_gap >= 0) par->cry_onset_gap_s = (float)d->onset_gap;
    if (d->min_cry_windows >= 0) par->cry_min_windows = (unsigned)d->min_cry_windows;
    if (d->confirm_n > 0)
        par->confirm_k = (unsigned)d->confirm_k, par->confirm_n = (unsigned)d->confirm_n;
}

/* ---- the learner ------------------------------------------------------------------------- */

cd_learner cd_learner_default(void)
{
    cd_learner l;
    memset(&l, 0, sizeof l);
    /* Both classifiers: over three fold splits the ensemble had the best mean clip F1, AUC
     * and false episodes per hour of the three choices (models/README.md, row 38). */
    l.type = CD_MODEL_ENSEMBLE;
    l.mlp = cm_train_config_default();
    l.trees = cm_trees_config_default();
    return l;
}

cm_status cd_train_model(const cd_learner *l, const cm_train_set *ts, const cm_front_config *fc,
                         const cm_detect_params *par, unsigned smooth, float silence_dbfs,
                         const char *provenance_json, cm_model **out, cm_diag *why)
{
    *out = NULL;
    cm_status st = CM_OK;
    cm_net *net = NULL;
    cm_trees *t = NULL;
    if (l->type != CD_MODEL_TREES) st = cm_train(ts, &l->mlp, &net, why);
    if (st == CM_OK && l->type != CD_MODEL_MLP) st = cm_train_trees(ts, &l->trees, &t, why);
    if (st == CM_OK)
        st = l->type == CD_MODEL_MLP
                 ? cm_model_create(net, fc, par, smooth, silence_dbfs, provenance_json, out, why)
             : l->type == CD_MODEL_TREES
                 ? cm_model_create_trees(t, fc, par, smooth, silence_dbfs, provenance_json, out,
                                         why)
                 : cm_model_create_ensemble(net, t, fc, par, smooth, silence_dbfs,
                                            provenance_json, out, why);
    cm_net_free(net);
    cm_trees_free(t);
    return st;
}

void cd_learner_provenance(const cd_learner *l, char *buf, size_t n)
{
    const cm_trees_config *t = &l->trees;
    if (l->type == CD_MODEL_MLP)
        snprintf(buf, n, ",\"classifier\":\"network\",\"train_seed\":%llu",
                 (unsigned long long)l->mlp.seed);
    else
        snprintf(buf, n,
                 ",\"classifier\":\"%s\",\"train_seed\":%llu,\"trees\":{\"depth\":%u,"
                 "\"rounds\":%u,\"learning_rate\":%g,\"min_leaf\":%u,\"l2\":%g,"
                 "\"subsample\":%g,\"colsample\":%g,\"max_bins\":%u}",
                 l->type == CD_MODEL_TREES ? "trees" : "ensemble", (unsigned long long)t->seed,
                 t->depth, t->rounds, (double)t->learning_rate,
                 t->min_leaf, (double)t->l2, (double)t->subsample, (double)t->colsample,
                 t->max_bins);
}

/* ---- frame networks trained outside C ----------------------------------------------------- */

int cd_write_folds(const char *path, const cd_set *set, int force)
{
    FILE *f = fopen(path, force ? "w" : "wx");
    if (!f) {
        cd_err("%s: %s%s", path, strerror(errno), errno == EEXIST ? " (use --force)" : "");
        return -1;
    }
    int bad = fputs("path,fold,source,label\n", f) < 0;
    for (size_t i = 0; !bad && i < set->n; i++)
        bad = fprintf(f, "\"%s\",%d,\"%s\",\"%s\"\n", set->clip[i].path, set->clip[i].fold,
                      set->clip[i].source ? set->clip[i].source : "", set->clip[i].label) < 0;
    if (fclose(f) != 0) bad = 1;
    if (bad) cd_err("%s: write failed", path);
    return bad ? -1 : 0;
}

int cd_attach_frame_net_file(const char *path, double weight, cm_model *m)
{
    size_t n = 0;
    char *txt = cd_read_file(path, &n);
    if (!txt) return -1;
    cm_framenet *fn = NULL;
    cm_diag why = {{0}};
    cm_status st = cm_framenet_parse(txt, n, &fn, &why);
    free(txt);
    if (st == CM_OK) st = cm_model_set_frame_net(m, fn, &why);
    if (st == CM_OK && weight >= 0) st = cm_model_set_frame_net_weight(m, (float)weight, &why);
    if (st != CM_OK) {
        cd_err("%s: %s", path, why.msg);
        return -1;
    }
    return 0;
}

int cd_attach_frame_net(const char *dir, unsigned f, double weight, cm_model *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/fold%02u.json", dir, f);
    return cd_attach_frame_net_file(path, weight, m);
}
