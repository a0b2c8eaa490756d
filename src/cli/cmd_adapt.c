/* SPDX-License-Identifier: MIT */
/* crymeter adapt: a household's corrections -> a home model. Reads corrected Audacity label
 * tracks of recordings and clip folders sorted into cry/ and not-cry/, cuts them into
 * labelled stretches, and adds to the model a home layer (crymeter/home.h) built from those
 * stretches' windows. Its neighbourhood size is chosen by cross-validation over the
 * stretches, and the before/after figures it prints are that cross-validation's: each
 * stretch scored by a layer built without it. Nothing is written unless the layer makes
 * fewer errors than the model it starts from, without missing more crying. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "crymeter/home.h"
#include "crymeter/learn/metrics.h"
#include "crymeter/model.h"
#include "crymeter/model_file.h"
#include "learn/calib_data.h"

static const char help[] =
    "Usage: crymeter adapt [options] -o HOME.json INPUT...\n"
    "\n"
    "Teaches the detector your home from your own corrections: the cries it missed and the\n"
    "sounds it took for crying (your cat, your television, your other children). It writes\n"
    "a home model: the shipped model (or --model) plus a layer that moves each window's\n"
    "cry probability toward what you said about the windows most like it. Sounds far from\n"
    "everything you corrected are scored exactly as before, so crying you never labelled\n"
    "is found as before.\n"
    "\n"
    "INPUT is either\n"
    "  a recording with its corrected label track beside it (night.flac + night.txt): make\n"
    "      the track with `crymeter analyze -f audacity night.flac > night.txt`, open the\n"
    "      recording in Audacity, File > Import > Labels, then delete the labels that are\n"
    "      not crying or rename them to what they were (cat, laugh, tv, speech, dog, music,\n"
    "      not-cry, ...), add `cry` labels where crying was missed, and File > Export >\n"
    "      Export Labels over night.txt. Labels still named cry or sob are crying; burst:\n"
    "      and rhythm: labels are ignored. Unlabelled time is not used unless --rest not-cry.\n"
    "  a clip folder (monitor --clips DIR): move each clip into DIR/cry/ or DIR/not-cry/\n"
    "      (or a folder named after the sound: DIR/cat/, DIR/tv/, ...). Clips left in DIR\n"
    "      itself are not used.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   home model to write (refuses to overwrite without --force)\n"
    "  --force             overwrite the output\n"
    "  --model FILE        model to start from (default: the built-in one). A home model\n"
    "                      keeps its earlier corrections and adds these.\n"
    "  --rest not-cry      unlabelled time in the label tracks is not crying (default:\n"
    "                      unlabelled time is not used)\n"
    "  --folds K           cross-validation folds over the labelled stretches, 2..10\n"
    "                      (default 5, fewer when there are fewer stretches)\n"
    "\n"
    "It prints, on your own labelled audio, how many crying stretches were found and how\n"
    "many other stretches were flagged as crying, before and after; each stretch is scored\n"
    "by a home layer built without it, so the figures are what to expect on new nights.\n"
    "When the corrections are too few, or do not make fewer mistakes, it says so and\n"
    "writes nothing (exit 1). Use the result with --model HOME.json, or `model = HOME.json`\n"
    "in the monitor's config file (then restart the crymeter-monitor unit).\n"
    "\n"
    "Exit status: 0 written, 1 nothing written (bad input, or no improvement), 2 usage.\n";

/* Labelled stretches shorter than this hold no full window and are skipped, seconds. */
#define MIN_ITEM_S 0.25
/* --rest not-cry: unlabelled time is cut into stretches of at most this, seconds, so that
 * a false alarm in an hour of rest counts as one of many stretches, not as the whole hour. */
#define REST_PIECE_S 10.0
/* A label may end this far past the recording (rounding in an editor), seconds. */
#define END_SLACK_S 0.5
/* Radii tried, in units of the typical distance between the corrections' windows (the
 * median distance from a window to the nearest window of another stretch), and gains. */
static const float radius_mult[] = {1.0f, 1.5f, 2.0f, 3.0f};
static const float gains[] = {2.0f, 4.0f, 8.0f};
#define HOME_K 8u

typedef struct item {
    char name[CM_LABEL_TEXT]; /* "cry", "cat", "not-cry", "rest", ... */
    int cry;
    char *where;              /* "night.txt: line 4" or the clip's path (malloc'ed) */
    double dur_s;
    cd_feats f;
    int fold;
} item;

typedef struct opts {
    const char *out, *model;
    int force, rest_not_cry;
    unsigned folds;
    char **inputs;
    int n_inputs;
} opts;

typedef struct items {
    item *v;
    size_t n, cap;
    size_t n_recordings, n_folders;
} items;

/* A malloc'ed printf; NULL when out of memory. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list a, b;
    va_start(a, f);
    va_copy(b, a);
    int n = vsnprintf(NULL, 0, f, a);
    va_end(a);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) vsnprintf(s, (size_t)n + 1, f, b);
    va_end(b);
    return s;
}

static item *item_add(items *s)
{
    if (s->n == s->cap) {
        size_t c = s->cap ? 2 * s->cap : 64;
        item *v = realloc(s->v, c * sizeof *v);
        if (!v) return NULL;
        s->v = v, s->cap = c;
    }
    item *it = &s->v[s->n++];
    memset(it, 0, sizeof *it);
    return it;
}

static void items_free(items *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].f.x), free(s->v[i].f.peak), free(s->v[i].f.fin), free(s->v[i].where);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- what a label or a folder name says ----------------------------------------------- */

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* The verdict of a label text, normalised into name: 1 crying, 0 not, -1 unknown, -2 a
 * label to ignore (the bursts and rhythm stretches analyze writes inside an episode). */
static int verdict(const char *text, char name[CM_LABEL_TEXT])
{
    while (isspace((unsigned char)*text)) text++;
    snprintf(name, CM_LABEL_TEXT, "%s", text);
    /* "cry (excessive: loud)" as analyze writes it is a cry label. */
    char *paren = strchr(name, '(');
    if (paren) *paren = '\0';
    size_t n = strlen(name);
    while (n > 0 && isspace((unsigned char)name[n - 1])) name[--n] = '\0';
    if (!strncmp(name, "burst:", 6) || !strncmp(name, "rhythm:", 7)) return -2;
    static const char *const no[] = {"not-cry", "not cry", "not_cry", "notcry", "no-cry",
                                     "no cry", "false alarm", "false"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (ieq(name, no[i])) return snprintf(name, CM_LABEL_TEXT, "not-cry"), 0;
    cm_class c;
    if (cm_label_to_class(name, NULL, &c) != 0) return -1;
    for (char *p = name; *p; p++) *p = (char)tolower((unsigned char)*p);
    return c == CM_CLASS_CRY || c == CM_CLASS_SOB;
}

static const char known_names[] =
    "cry, sob, not-cry, or a sound's name: cat, dog, laugh, speech, tv, music, cough, "
    "scream, babble, noise, ...";

/* ---- reading the inputs ----------------------------------------------------------------- */

static int features(const float *x, size_t n, const cm_front_config *fc, int keep_fin,
                    item *it)
{
    it->dur_s = (double)n / CM_FRONT_RATE_HZ;
    if (cd_window_feats(x, n, fc, keep_fin, &it->f) != 0) {
        cli_err("%s: cannot compute its features (out of memory?)", it->where);
        return -1;
    }
    return 0;
}

typedef struct span {
    double a, b;
} span;

static int cmp_span(const void *p, const void *q)
{
    const span *x = p, *y = q;
    return (x->a > y->a) - (x->a < y->a);
}

/* One recording and the label track beside it. */
static int read_recording(const char *path, const opts *o, const cm_front_config *fc,
                          int keep_fin, items *s)
{
    cd_labels lb; /* only for the track's path */
    memset(&lb, 0, sizeof lb);
    size_t la = strlen(path);
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : la;
    char txt[4096];
    if (stem + 5 > sizeof txt) {
        cli_err("%s: path too long", path);
        return -1;
    }
    memcpy(txt, path, stem);
    memcpy(txt + stem, ".txt", 5);
    size_t tn;
    char *t = cd_read_file(txt, &tn);
    if (!t) {
        cli_err("%s: needs its corrected label track beside it, %s (crymeter analyze -f "
                "audacity, edited in Audacity)", path, txt);
        return -1;
    }
    cm_label *lab = NULL;
    size_t nl = 0;
    cm_diag why = {{0}};
    cm_status st = cm_labels_parse(t, tn, &lab, &nl, &why);
    free(t);
    if (st != CM_OK) {
        cli_err("%s: %s", txt, why.msg);
        return -1;
    }
    float *x = NULL;
    size_t n = 0;
    unsigned rate = 0;
    if (cd_read_front(path, &x, &n, &rate) != 0) {
        free(lab);
        return -1;
    }
    double dur = (double)n / CM_FRONT_RATE_HZ;
    int rc = -1;
    int *ver = malloc((nl + 1) * sizeof *ver);
    span *used = malloc((nl + 1) * sizeof *used);
    size_t n_used = 0;
    if (!ver || !used) goto out;
    /* Check every label before using any: a wrong track is refused whole. */
    for (size_t j = 0; j < nl; j++) {
        char name[CM_LABEL_TEXT];
        ver[j] = verdict(lab[j].text, name);
        if (ver[j] == -1) {
            cli_err("%s: line %zu: unknown label '%s': expected %s", txt, lab[j].line,
                    lab[j].text, known_names);
            goto out;
        }
        if (ver[j] == -2) continue;
        if (lab[j].end_s > dur + END_SLACK_S) {
            cli_err("%s: line %zu: label %.3f-%.3f s ends past the end of %s (%.3f s): is it "
                    "the label track of another recording?", txt, lab[j].line, lab[j].start_s,
                    lab[j].end_s, path, dur);
            goto out;
        }
    }
    for (size_t j = 0; j < nl; j++)
        for (size_t k = j + 1; k < nl; k++)
            if (ver[j] >= 0 && ver[k] >= 0 && ver[j] != ver[k] &&
                lab[j].start_s < lab[k].end_s && lab[k].start_s < lab[j].end_s) {
                cli_err("%s: lines %zu and %zu contradict each other: '%s' and '%s' overlap "
                        "(%.3f-%.3f s and %.3f-%.3f s); shorten one of them", txt,
                        lab[j].line, lab[k].line, lab[j].text, lab[k].text, lab[j].start_s,
                        lab[j].end_s, lab[k].start_s, lab[k].end_s);
                goto out;
            }
    size_t skipped_points = 0;
    for (size_t j = 0; j < nl; j++) {
        if (ver[j] < 0) continue;
        double a = lab[j].start_s, b = lab[j].end_s < dur ? lab[j].end_s : dur;
        if (b - a < MIN_ITEM_S) {
            skipped_points++;
            continue;
        }
        item *it = item_add(s);
        if (!it) goto out;
        verdict(lab[j].text, it->name);
        it->cry = ver[j];
        if (!(it->where = fmt("%s: line %zu", txt, lab[j].line))) goto out;
        size_t i0 = (size_t)(a * CM_FRONT_RATE_HZ), i1 = (size_t)(b * CM_FRONT_RATE_HZ);
        if (i1 > n) i1 = n;
        if (features(x + i0, i1 - i0, fc, keep_fin, it) != 0) goto out;
        used[n_used++] = (span){a, b};
    }
    if (skipped_points)
        fprintf(stderr, "crymeter: %s: %zu label%s shorter than %.2f s left out (select the "
                "whole stretch in Audacity, not a point)\n", txt, skipped_points,
                skipped_points == 1 ? "" : "s", MIN_ITEM_S);
    if (o->rest_not_cry) {
        /* Only the verdict labels hold time: the burst: and rhythm: labels left under a
         * deleted episode label belong to what the person said was not crying. */
        qsort(used, n_used, sizeof *used, cmp_span);
        double t0 = 0.0;
        for (size_t j = 0; j <= n_used; j++) {
            double t1 = j < n_used ? used[j].a : dur;
            for (double a = t0; t1 - a >= 1.0; a += REST_PIECE_S) {
                double b = a + REST_PIECE_S < t1 ? a + REST_PIECE_S : t1;
                if (b - a < 1.0) break;
                item *it = item_add(s);
                if (!it) goto out;
                snprintf(it->name, sizeof it->name, "rest");
                if (!(it->where = fmt("%s: %.1f-%.1f s (unlabelled)", path, a, b))) goto out;
                size_t i0 = (size_t)(a * CM_FRONT_RATE_HZ), i1 = (size_t)(b * CM_FRONT_RATE_HZ);
                if (i1 > n) i1 = n;
                if (features(x + i0, i1 - i0, fc, keep_fin, it) != 0) goto out;
            }
            if (j < n_used && used[j].b > t0) t0 = used[j].b;
        }
    }
    s->n_recordings++;
    rc = 0;
out:
    free(ver), free(used), free(lab), free(x);
    return rc;
}

static int is_audio_name(const char *f)
{
    static const char *const ext[] = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aif",
                                      ".aiff", ".au", ".caf", ".w64", ".rf64"};
    const char *dot = strrchr(f, '.');
    if (!dot || f[0] == '.') return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (ieq(dot, ext[i])) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir (malloc'ed array of malloc'ed strings), or -1. */
static int list_dir(const char *dir, char ***out, size_t *n_out)
{
    *out = NULL, *n_out = 0;
    DIR *d = opendir(dir);
    if (!d) {
        cli_err("%s: cannot open: %s", dir, strerror(errno));
        return -1;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) break;
            v = nv;
        }
        if (!(v[n] = strdup(e->d_name))) break;
        n++;
    }
    closedir(d);
    if (n) qsort(v, n, sizeof *v, cmp_str);
    *out = v, *n_out = n;
    return 0;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A clip folder: DIR/cry/, DIR/not-cry/ and folders named after a sound. */
static int read_folder(const char *dir, const cm_front_config *fc, int keep_fin, items *s)
{
    char **sub;
    size_t ns;
    if (list_dir(dir, &sub, &ns) != 0) return -1;
    int rc = -1;
    size_t loose = 0, sorted = 0;
    char path[4096];
    for (size_t i = 0; i < ns; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, sub[i]);
        if (!is_dir(path)) {
            loose += is_audio_name(sub[i]);
            continue;
        }
        char name[CM_LABEL_TEXT];
        int v = verdict(sub[i], name);
        if (v < 0) {
            cli_err("%s: folder name '%s' says neither crying nor a known sound: expected %s",
                    path, sub[i], known_names);
            goto out;
        }
        char **files;
        size_t nf;
        if (list_dir(path, &files, &nf) != 0) goto out;
        for (size_t j = 0; j < nf; j++) {
            if (!is_audio_name(files[j])) continue;
            item *it = item_add(s);
            if (!it) {
                free_list(files, nf);
                goto out;
            }
            snprintf(it->name, sizeof it->name, "%s", name);
            it->cry = v;
            if (!(it->where = fmt("%s/%s", path, files[j]))) {
                free_list(files, nf);
                goto out;
            }
            float *x = NULL;
            size_t n = 0;
            unsigned rate = 0;
            if (cd_read_front(it->where, &x, &n, &rate) != 0) {
                free_list(files, nf);
                goto out;
            }
            if ((double)n / CM_FRONT_RATE_HZ < MIN_ITEM_S) {
                cli_err("%s: %.3f s long: a clip needs at least %.2f s", it->where,
                        (double)n / CM_FRONT_RATE_HZ, MIN_ITEM_S);
                free(x), free_list(files, nf);
                goto out;
            }
            int bad = features(x, n, fc, keep_fin, it);
            free(x);
            if (bad) {
                free_list(files, nf);
                goto out;
            }
            sorted++;
        }
        free_list(files, nf);
    }
    if (sorted == 0) {
        cli_err("%s: no clips in %s/cry/ or %s/not-cry/ (or a folder named after a sound): "
                "move each clip there first%s", dir, dir, dir,
                loose ? "" : " (the folder holds no audio clips at all)");
        goto out;
    }
    if (loose)
        fprintf(stderr, "crymeter: %s: %zu clip%s not sorted into a folder, left out\n", dir,
                loose, loose == 1 ? "" : "s");
    s->n_folders++;
    rc = 0;
out:
    free_list(sub, ns);
    return rc;
}

/* ---- examples, scoring and the cross-validation ---------------------------------------- */

/* The scale distances are measured in: the shipped network's standardisation (the spread of
 * the whole training data, so that "near" means near among all the sounds the model knows,
 * not among this home's few), or the corrections' own when the model has no network. */
static const float *g_mean, *g_std;

typedef struct pool {
    float *x;
    uint8_t *y;
    size_t n;
} pool;

/* The windows of the items with fold != skip (skip < 0: all) that pass the silence gate,
 * after the base model's own examples, every stride-th one so that at most
 * CM_HOME_MAX_EXAMPLES remain. */
static int make_pool(const items *s, int skip, const cm_home *old, float silence, pool *p)
{
    size_t n_old = old ? cm_home_n(old) : 0, n = n_old;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].fold != skip)
            for (size_t w = 0; w < s->v[i].f.n_win; w++) n += s->v[i].f.peak[w] >= silence;
    size_t stride = (n + CM_HOME_MAX_EXAMPLES - 1) / CM_HOME_MAX_EXAMPLES;
    if (stride < 1) stride = 1;
    p->x = malloc((n / stride + 1) * CM_WF_DIM * sizeof *p->x);
    p->y = malloc(n / stride + 1);
    p->n = 0;
    if (!p->x || !p->y) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n_old; i++, k++)
        if (k % stride == 0 && p->n < CM_HOME_MAX_EXAMPLES) {
            memcpy(p->x + p->n * CM_WF_DIM, cm_home_example(old, i), CM_WF_DIM * sizeof(float));
            p->y[p->n++] = (uint8_t)cm_home_is_cry(old, i);
        }
    for (size_t i = 0; i < s->n; i++) {
        const item *it = &s->v[i];
        if (it->fold == skip) continue;
        for (size_t w = 0; w < it->f.n_win; w++) {
            if (!(it->f.peak[w] >= silence)) continue;
            if (k++ % stride == 0 && p->n < CM_HOME_MAX_EXAMPLES) {
                memcpy(p->x + p->n * CM_WF_DIM, it->f.x + w * CM_WF_DIM,
                       CM_WF_DIM * sizeof(float));
                p->y[p->n++] = (uint8_t)it->cry;
            }
        }
    }
    return 0;
}

static void pool_free(pool *p)
{
    free(p->x), free(p->y);
    memset(p, 0, sizeof *p);
}

/* The typical distance between windows of different stretches, in the pool's own standard
 * deviations: the median over (up to 400) windows of the distance to the nearest window of
 * another stretch. 0 when it cannot be measured. */
static float typical_distance(const items *s, float silence)
{
    cm_home_params hp = {1, 1.f, 1.f};
    pool p;
    memset(&p, 0, sizeof p);
    if (make_pool(s, -2, NULL, silence, &p) != 0 || p.n < 2) {
        pool_free(&p);
        return 0.f;
    }
    cm_home *h = NULL;
    cm_diag why;
    if (cm_home_create(&hp, g_mean, g_std, p.x, p.y, p.n, &h, &why) != CM_OK) {
        pool_free(&p);
        return 0.f;
    }
    const float *mu = cm_home_mean(h), *sd = cm_home_std(h);
    /* Owner (stretch) of every window of the pool, in the pool's order (all folds, so the
     * stride is 1 when the pool was not thinned; thinned pools use a subset the same way). */
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++)
        for (size_t w = 0; w < s->v[i].f.n_win; w++) total += s->v[i].f.peak[w] >= silence;
    size_t stride = (total + CM_HOME_MAX_EXAMPLES - 1) / CM_HOME_MAX_EXAMPLES;
    if (stride < 1) stride = 1;
    size_t *owner = malloc((p.n + 1) * sizeof *owner);
    float *d = malloc(401 * sizeof *d);
    float med = 0.f;
    if (owner && d) {
        size_t k = 0, q = 0;
        for (size_t i = 0; i < s->n; i++)
            for (size_t w = 0; w < s->v[i].f.n_win; w++)
                if (s->v[i].f.peak[w] >= silence && k++ % stride == 0 && q < p.n) owner[q++] = i;
        size_t step = p.n / 400 + 1, nd = 0;
        for (size_t a = 0; a < p.n && nd < 400; a += step) {
            double best = INFINITY;
            for (size_t b = 0; b < p.n; b++) {
                if (owner[b] == owner[a]) continue;
                double s2 = 0;
                for (size_t j = 0; j < CM_WF_DIM; j++) {
                    double z = (p.x[a * CM_WF_DIM + j] - p.x[b * CM_WF_DIM + j]) / sd[j];
                    s2 += z * z;
                }
                if (s2 < best) best = s2;
            }
            if (isfinite(best)) d[nd++] = (float)sqrt(best / CM_WF_DIM);
        }
        (void)mu;
        if (nd) {
            /* Insertion sort: at most 400 values. */
            for (size_t i = 1; i < nd; i++)
                for (size_t j = i; j > 0 && d[j - 1] > d[j]; j--) {
                    float t = d[j];
                    d[j] = d[j - 1], d[j - 1] = t;
                }
            med = d[nd / 2];
        }
    }
    free(owner), free(d);
    cm_home_free(h);
    pool_free(&p);
    return med;
}

typedef struct tally {
    size_t cry_found, n_cry, false_alarms, n_other;
} tally;

static int flagged(const cm_model *m, const item *it)
{
    return cd_clip_score(m, &it->f, CM_CLASS_CRY) >= cm_model_params(m)->threshold[CM_CLASS_CRY];
}

static void count(const item *it, int flag, tally *t)
{
    if (it->cry) {
        t->n_cry++;
        t->cry_found += flag;
    } else {
        t->n_other++;
        t->false_alarms += flag;
    }
}

static size_t errors(const tally *t) { return t->n_cry - t->cry_found + t->false_alarms; }

/* Out-of-fold verdicts of every item under params hp: fold f's items scored by m carrying a
 * layer built from the other folds (and the base model's own corrections). flag[i] out. */
static int cross_validate(cm_model *m, const cm_home *old, const items *s, unsigned folds,
                          const cm_home_params *hp, float silence, uint8_t *flag)
{
    for (unsigned f = 0; f < folds; f++) {
        pool p;
        memset(&p, 0, sizeof p);
        cm_home *h = NULL;
        cm_diag why = {{0}};
        if (make_pool(s, (int)f, old, silence, &p) != 0) {
            pool_free(&p);
            return -1;
        }
        cm_status st = p.n ? cm_home_create(hp, g_mean, g_std, p.x, p.y, p.n, &h, &why) : CM_OK;
        pool_free(&p);
        if (st != CM_OK || cm_model_set_home(m, h, &why) != CM_OK) {
            cli_err("adapt: %s", why.msg);
            cm_home_free(h);
            return -1;
        }
        cm_home_free(h);
        for (size_t i = 0; i < s->n; i++)
            if (s->v[i].fold == (int)f) flag[i] = (uint8_t)flagged(m, &s->v[i]);
    }
    return 0;
}

/* "cat 7 -> 0, tv 2 -> 1": false alarms per name that had any, before and after. */
static void print_names(const items *s, const uint8_t *before, const uint8_t *after)
{
    int first = 1;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].cry) continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = !s->v[j].cry && !strcmp(s->v[j].name, s->v[i].name);
        if (seen) continue;
        size_t b = 0, a = 0;
        for (size_t j = i; j < s->n; j++)
            if (!s->v[j].cry && !strcmp(s->v[j].name, s->v[i].name)) b += before[j], a += after[j];
        if (b == 0 && a == 0) continue;
        printf("%s%s %zu -> %zu", first ? "   (" : ", ", s->v[i].name, b, a);
        first = 0;
    }
    if (!first) putchar(')');
}

/* ---- the command ------------------------------------------------------------------------ */

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->folds = 5;
    enum { O_FORCE = 256, O_MODEL, O_REST, O_FOLDS };
    static const struct option lo[] = {
        {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, O_FORCE},
        {"model", required_argument, 0, O_MODEL}, {"rest", required_argument, 0, O_REST},
        {"folds", required_argument, 0, O_FOLDS}, {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case O_FORCE: o->force = 1; break;
        case O_MODEL: o->model = optarg; break;
        case O_REST:
            if (strcmp(optarg, "not-cry") != 0) {
                cli_err("--rest=%s: expected not-cry (unlabelled time is not crying); leave "
                        "it out to ignore unlabelled time", optarg);
                return -1;
            }
            o->rest_not_cry = 1;
            break;
        case O_FOLDS:
            if (cli_parse_uint("--folds", optarg, 2, 10, &o->folds) != 0) return -1;
            break;
        default: return -1;
        }
    }
    if (!o->out) {
        cli_err("adapt: -o HOME.json is required (the home model to write)");
        return -1;
    }
    o->inputs = argv + optind;
    o->n_inputs = argc - optind;
    if (o->n_inputs < 1) {
        cli_err("adapt: give at least one corrected recording (with its .txt label track "
                "beside it) or clip folder");
        return -1;
    }
    return 0;
}

/* The provenance of the base model with an "adapted" object added. */
static char *provenance(const cm_model *m, const opts *o, const items *s, const tally *b,
                        const tally *a, const cm_home_params *hp)
{
    const char *old = cm_model_provenance(m);
    cJSON *r = old ? cJSON_Parse(old) : cJSON_CreateObject();
    if (!r) r = cJSON_CreateObject();
    if (!r) return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(r, "adapted");
    cJSON *ad = cJSON_AddObjectToObject(r, "adapted");
    cJSON *in = cJSON_AddArrayToObject(ad, "inputs");
    for (int i = 0; in && i < o->n_inputs; i++)
        cJSON_AddItemToArray(in, cJSON_CreateString(o->inputs[i]));
    cJSON_AddStringToObject(ad, "base", o->model ? o->model : "built-in");
    cJSON_AddNumberToObject(ad, "stretches", (double)s->n);
    cJSON_AddNumberToObject(ad, "k", hp->k);
    cJSON_AddNumberToObject(ad, "radius", hp->radius);
    cJSON_AddNumberToObject(ad, "gain", hp->gain);
    char buf[160];
    snprintf(buf, sizeof buf, "cry found %zu/%zu -> %zu/%zu, false alarms %zu/%zu -> %zu/%zu "
             "(cross-validated within the home)", b->cry_found, b->n_cry, a->cry_found,
             a->n_cry, b->false_alarms, b->n_other, a->false_alarms, a->n_other);
    cJSON_AddStringToObject(ad, "measured", buf);
    time_t now = time(NULL);
    struct tm tmv;
    if (gmtime_r(&now, &tmv) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tmv))
        cJSON_AddStringToObject(ad, "date", buf);
    char *txt = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return txt;
}

int cmd_adapt(int argc, char **argv)
{
    if (cli_help_asked(argc, argv)) {
        fputs(help, stdout);
        return CM_EXIT_OK;
    }
    opts o;
    if (parse(argc, argv, &o) != 0) {
        fputs("Try 'crymeter adapt --help'.\n", stderr);
        return CM_EXIT_USAGE;
    }
    if (!o.force && access(o.out, F_OK) == 0) {
        cli_err("%s exists; use --force to overwrite it", o.out);
        return CM_EXIT_FAIL;
    }
    cm_model *m = NULL;
    cm_diag why = {{0}};
    cm_status st = o.model ? cm_model_load_file(o.model, &m, &why) : cm_model_load_default(&m, &why);
    if (st != CM_OK) {
        cli_err("%s", why.msg);
        return CM_EXIT_FAIL;
    }
    int rc = CM_EXIT_FAIL;
    items s;
    memset(&s, 0, sizeof s);
    uint8_t *before = NULL, *after = NULL, *best = NULL;
    cm_home *old = cm_model_home(m) ? cm_home_copy(cm_model_home(m)) : NULL;
    cm_home *final = NULL;
    const cm_front_config fc = cm_model_front_config(m);
    const int keep_fin = cm_model_frame_net(m) != NULL;
    const float silence = cm_model_silence_dbfs(m);
    int tty = isatty(2);
    const cm_net *net = cm_model_net(m);
    g_mean = net ? net->mean : NULL;
    g_std = net ? net->std : NULL;

    for (int i = 0; i < o.n_inputs; i++) {
        if (tty) fprintf(stderr, "\rcrymeter: reading %d/%d %.60s\033[K", i + 1, o.n_inputs,
                         o.inputs[i]);
        int bad = is_dir(o.inputs[i]) ? read_folder(o.inputs[i], &fc, keep_fin, &s)
                                      : read_recording(o.inputs[i], &o, &fc, keep_fin, &s);
        if (bad) {
            if (tty) fputs("\r\033[K", stderr);
            goto out;
        }
    }
    if (tty) fputs("\r\033[K", stderr);

    tally tb = {0, 0, 0, 0};
    size_t n_win = 0;
    double secs = 0;
    before = calloc(s.n + 1, 1), after = calloc(s.n + 1, 1), best = calloc(s.n + 1, 1);
    if (!before || !after || !best) goto out;
    /* What the starting model does on each stretch (its own home layer included). */
    for (size_t i = 0; i < s.n; i++) {
        before[i] = (uint8_t)flagged(m, &s.v[i]);
        count(&s.v[i], before[i], &tb);
        for (size_t w = 0; w < s.v[i].f.n_win; w++) n_win += s.v[i].f.peak[w] >= silence;
        secs += s.v[i].dur_s;
    }
    printf("Your corrections: %zu recording%s, %zu clip folder%s: %zu crying and %zu other "
           "stretches, %.1f min (%zu windows above the silence gate)\n",
           s.n_recordings, s.n_recordings == 1 ? "" : "s", s.n_folders,
           s.n_folders == 1 ? "" : "s", tb.n_cry, tb.n_other, secs / 60.0, n_win);
    if (s.n < 3 || n_win < 8) {
        cli_err("adapt: too few corrections to learn from (%zu stretches, %zu windows; need "
                "at least 3 stretches and 2 s of sound): keeping the model, nothing written",
                s.n, n_win);
        goto out;
    }
    unsigned folds = o.folds < s.n ? o.folds : (unsigned)s.n;
    for (size_t i = 0; i < s.n; i++) s.v[i].fold = (int)(i % folds);

    float scale = typical_distance(&s, silence);
    if (getenv("CM_ADAPT_DEBUG")) fprintf(stderr, "adapt: typical distance %.3f\n", (double)scale);
    if (!(scale > 0.f)) {
        cli_err("adapt: the corrected stretches all sound the same (no distance between "
                "them): keeping the model, nothing written");
        goto out;
    }
    cm_home_params hp_best = {HOME_K, 0.f, 0.f};
    tally t_best = tb;
    int have = 0;
    size_t n_try = sizeof radius_mult / sizeof radius_mult[0] * (sizeof gains / sizeof gains[0]);
    size_t tried = 0;
    /* Smaller gains first, then smaller radii: a tie keeps the change closer to the
     * shipped model. */
    for (size_t g = 0; g < sizeof gains / sizeof gains[0]; g++)
        for (size_t r = 0; r < sizeof radius_mult / sizeof radius_mult[0]; r++) {
            cm_home_params hp = {HOME_K, radius_mult[r] * scale, gains[g]};
            if (getenv("CM_ADAPT_RMAX") && hp.radius > atof(getenv("CM_ADAPT_RMAX")))
                hp.radius = (float)atof(getenv("CM_ADAPT_RMAX"));
            if (tty) fprintf(stderr, "\rcrymeter: cross-validating %zu/%zu\033[K", ++tried, n_try);
            if (cross_validate(m, old, &s, folds, &hp, silence, after) != 0) goto out;
            tally t = {0, 0, 0, 0};
            for (size_t i = 0; i < s.n; i++) count(&s.v[i], after[i], &t);
            /* Never trade found crying for quiet: the misses may not grow. */
            if (t.cry_found < tb.cry_found) continue;
            if (errors(&t) < errors(&t_best) ||
                (have && errors(&t) == errors(&t_best) && t.cry_found > t_best.cry_found)) {
                t_best = t, hp_best = hp, have = 1;
                memcpy(best, after, s.n);
            }
        }
    if (tty) fputs("\r\033[K", stderr);
    printf("On your labelled audio, each stretch scored by a home model built without it "
           "(%u-fold):\n", folds);
    if (!have && errors(&tb) == 0) {
        printf("  crying found  %zu/%zu\n  false alarms  %zu/%zu\n", tb.cry_found, tb.n_cry,
               tb.false_alarms, tb.n_other);
        cli_err("adapt: the model already gets every corrected stretch right: nothing to "
                "learn, nothing written");
        goto out;
    }
    if (!have) {
        printf("  crying found  %zu/%zu\n  false alarms  %zu/%zu\n", tb.cry_found, tb.n_cry,
               tb.false_alarms, tb.n_other);
        cli_err("adapt: no home layer made fewer mistakes on your corrections than the model "
                "alone (%zu missed cries, %zu false alarms); they may be too few, or contradict "
                "each other: keeping the model, nothing written", tb.n_cry - tb.cry_found,
                tb.false_alarms);
        goto out;
    }
    printf("  crying found  %zu/%zu -> %zu/%zu\n", tb.cry_found, tb.n_cry, t_best.cry_found,
           t_best.n_cry);
    printf("  false alarms  %zu/%zu -> %zu/%zu", tb.false_alarms, tb.n_other,
           t_best.false_alarms, t_best.n_other);
    print_names(&s, before, best);
    putchar('\n');

    {
        pool p;
        memset(&p, 0, sizeof p);
        if (make_pool(&s, -1, old, silence, &p) != 0) {
            pool_free(&p);
            goto out;
        }
        st = cm_home_create(&hp_best, g_mean, g_std, p.x, p.y, p.n, &final, &why);
        pool_free(&p);
        if (st != CM_OK || cm_model_set_home(m, final, &why) != CM_OK) {
            cli_err("adapt: %s", why.msg);
            goto out;
        }
    }
    char *prov = provenance(m, &o, &s, &tb, &t_best, &hp_best);
    if (!prov || cm_model_set_provenance(m, prov, &why) != CM_OK ||
        cm_model_save_file(m, o.out, &why) != CM_OK) {
        cli_err("%s", prov ? why.msg : "adapt: out of memory");
        free(prov);
        unlink(o.out);
        goto out;
    }
    free(prov);
    printf("Home layer: %zu windows (%zu crying), %u neighbours, radius %.2f SD, gain %.0f\n",
           cm_home_n(final), cm_home_n_cry(final), hp_best.k, (double)hp_best.radius,
           (double)hp_best.gain);
    printf("wrote %s: use it with --model %s (or `model = %s` in a config file)\n", o.out,
           o.out, o.out);
    rc = CM_EXIT_OK;
out:
    free(before), free(after), free(best);
    cm_home_free(old);
    cm_home_free(final);
    items_free(&s);
    cm_model_destroy(m);
    return rc;
}
