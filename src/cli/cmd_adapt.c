/* SPDX-License-Identifier: MIT */
/* crymeter adapt: a household's corrections -> a home model. Reads corrected Audacity label
 * tracks of recordings and clip folders sorted into cry/ and not-cry/, cuts them into
 * labelled stretches, and adds to the model a home layer (crymeter/home.h) fitted on those
 * stretches' windows and on anchors (crying recorded elsewhere, models/anchors.json). Its
 * gain, decay and radius are chosen by cross-validation over the stretches, and the
 * before/after figures it prints are that cross-validation's: each stretch scored by a
 * layer fitted without it. A candidate may not miss crying the model finds, add false
 * alarms, or lower more than 2 % of held-out anchor windows; nothing is written unless one
 * scores the stretches better than the model it starts from. */
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
    "Teaches the detector the sounds of your home that it takes for crying (your cat, your\n"
    "television, a toy, your other children), from your own corrections. It writes a home\n"
    "model: the shipped model (or --model) plus a layer that lowers the cry probability of\n"
    "sounds like the ones you said were not crying (and, for 4 s after such a sound,\n"
    "whatever follows it: a cat's whole episode; crying that starts then is reported once\n"
    "it has lasted 1 s above the threshold). Sounds far from everything you\n"
    "corrected are scored exactly as before, so crying elsewhere is found as before. It\n"
    "does not make the detector find crying it misses (for that, lower the threshold:\n"
    "calibrate --threshold-only); the crying you label keeps the layer off your own baby.\n"
    "\n"
    "INPUT is either\n"
    "  a recording with its corrected label track beside it (night.flac + night.txt): make\n"
    "      the track with `crymeter analyze -f audacity night.flac > night.txt`, open the\n"
    "      recording in Audacity, File > Import > Labels, rename each wrong label to what\n"
    "      it was (cat, laugh, tv, speech, dog, music, not-cry, ...), add `cry` labels where\n"
    "      crying was missed, and File > Export > Export Labels over night.txt. Labels still\n"
    "      named cry or sob are crying; burst: and rhythm: labels are ignored. Unlabelled\n"
    "      time is not used unless --rest not-cry (then deleting a wrong label is enough).\n"
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
    "  --anchors DIR       crying recorded elsewhere (audio files in DIR and its folders)\n"
    "                      to hold your corrections against, instead of the built-in\n"
    "                      anchors (1,205 windows of crying from many families and phones;\n"
    "                      models/README.md); `none`: only the crying you labelled\n"
    "  --write-anchors FILE  with --anchors DIR: write its windows as an anchors file (how\n"
    "                      models/anchors.json is made) and stop\n"
    "\n"
    "It prints, on your own labelled audio, how many crying stretches were found and how\n"
    "many other stretches were flagged as crying, before and after, and their mean cry\n"
    "score, and the cry episodes the monitor would announce on each stretch played alone\n"
    "(at most an hour of them; not the --rest pieces); each stretch is scored by a home\n"
    "layer fitted without it, so the figures are what to expect on new nights. It also\n"
    "prints the share of held-out anchor windows (other homes' crying) the layer lowers\n"
    "noticeably; a layer that lowers more than 2 % is not kept. When the corrections are\n"
    "too few, or do not score better, it says so and writes nothing (exit 1). Use the\n"
    "result with --model HOME.json, or `model = HOME.json` in the monitor's config file\n"
    "(restart the crymeter-monitor unit the first time; after that, `systemctl reload\n"
    "crymeter-monitor` reads the file again).\n"
    "\n"
    "Exit status: 0 written, 1 nothing written (bad input, or no improvement), 2 usage.\n";

/* Labelled stretches shorter than this hold no full window and are skipped, seconds. */
#define MIN_ITEM_S 0.25
/* --rest not-cry: unlabelled time is cut into stretches of at most this, seconds, so that
 * a false alarm in an hour of rest counts as one of many stretches, not as the whole hour. */
#define REST_PIECE_S 10.0
/* A label may end this far past the recording (rounding in an editor), seconds. */
#define END_SLACK_S 0.5
/* The episode count plays each labelled stretch through the analyzer again, so their audio
 * is kept: at most this much in all (an hour: 115 MB at CM_FRONT_RATE_HZ), seconds. */
#define EPISODE_AUDIO_MAX_S 3600.0
/* The layer's settings tried (every pair), chosen by the cross-validation: the largest
 * lowering of the cry log-odds, and the regression's weight decay (both verdicts weigh 1/2:
 * 0.01 lets 57 weights fit a cat closely, 1 keeps them near zero). */
static const float gains[] = {2.0f, 4.0f, 8.0f};
static const float l2s[] = {0.01f, 0.1f};
/* The gate's radius, standard deviations of the training data (the shipped network's scale):
 * a cat's meows lie about 0.4 apart. An example near crying reaches less (CM_HOME_CRY_REACH),
 * which is what keeps other homes' crying (models/README.md, "Home models"). */
static const float radii[] = {0.4f, 0.6f, 0.8f};

typedef struct item {
    char name[CM_LABEL_TEXT]; /* "cry", "cat", "not-cry", "rest", ... */
    int cry;
    char *where;              /* "night.txt: line 4" or the clip's path (malloc'ed) */
    double dur_s;
    cd_feats f;
    float *pcm;               /* its audio at CM_FRONT_RATE_HZ, for the episode count; NULL
                                 for --rest pieces and beyond EPISODE_AUDIO_MAX_S */
    size_t n_pcm;
    int fold;
} item;

typedef struct opts {
    const char *out, *model, *anchors, *write_anchors;
    int force, rest_not_cry;
    unsigned folds;
    char **inputs;
    int n_inputs;
} opts;

typedef struct items {
    item *v;
    size_t n, cap;
    size_t n_recordings, n_folders;
    size_t pcm_total;         /* samples kept in the items' pcm */
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
        free(s->v[i].pcm);
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

/* The stretch's window features, and (s not NULL) its audio for the episode count. */
static int features(const float *x, size_t n, const cm_front_config *fc, int keep_fin,
                    item *it, items *s)
{
    it->dur_s = (double)n / CM_FRONT_RATE_HZ;
    if (cd_window_feats(x, n, fc, keep_fin, &it->f) != 0) {
        cli_err("%s: cannot compute its features (out of memory?)", it->where);
        return -1;
    }
    /* Out of memory or beyond the cap: the stretch is left out of the episode count only. */
    if (s && s->pcm_total + n <= (size_t)(EPISODE_AUDIO_MAX_S * CM_FRONT_RATE_HZ) &&
        (it->pcm = malloc((n + 1) * sizeof *it->pcm))) {
        memcpy(it->pcm, x, n * sizeof *x);
        it->n_pcm = n;
        s->pcm_total += n;
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
        if (features(x + i0, i1 - i0, fc, keep_fin, it, s) != 0) goto out;
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
                if (features(x + i0, i1 - i0, fc, keep_fin, it, NULL) != 0) goto out;
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
            int bad = features(x, n, fc, keep_fin, it, s);
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

typedef struct pool {
    float *x;
    uint8_t *y;
    size_t n;
} pool;

static void pool_free(pool *p)
{
    free(p->x), free(p->y);
    memset(p, 0, sizeof *p);
}

/* Most anchor windows kept (every stride-th of a larger set): 1280, of which every fifth is
 * held out to check that a layer does not lose other homes' crying and the rest join the
 * regression, leaving 3072 examples for a home's own corrections. */
#define ANCHORS_MAX 1280u
/* A layer may lower the cry log-odds of at most this share of the held-out anchor windows
 * by more than ANCHOR_SHIFT nats (e^1: the odds of crying divided by 2.7). */
#define ANCHOR_LOSS_MAX 0.02
#define ANCHOR_SHIFT 1.0f
/* Anchor windows the model scores below this cry probability are left out. */
#define ANCHOR_MIN_P 0.5f

#define ANCHORS_FORMAT "crymeter-anchors"
extern const unsigned char cm_anchors_json[];
extern const size_t cm_anchors_json_len;

static int add_window(pool *p, size_t *cap, const float *x, uint8_t y)
{
    if (p->n == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        float *nx = realloc(p->x, c * CM_WF_DIM * sizeof *nx);
        if (!nx) return -1;
        p->x = nx;
        uint8_t *ny = realloc(p->y, c);
        if (!ny) return -1;
        p->y = ny;
        *cap = c;
    }
    memcpy(p->x + p->n * CM_WF_DIM, x, CM_WF_DIM * sizeof(float));
    p->y[p->n++] = y;
    return 0;
}

/* The windows of every audio file in dir and its subfolders (one level), all crying, thinned
 * to ANCHORS_MAX, appended to p as crying. */
static int read_anchors(const char *dir, const cm_front_config *fc, float silence, pool *p)
{
    pool all;
    memset(&all, 0, sizeof all);
    size_t cap = 0;
    char **names;
    size_t nn;
    if (list_dir(dir, &names, &nn) != 0) return -1;
    int rc = -1;
    for (size_t i = 0; i < nn; i++) {
        char *path = fmt("%s/%s", dir, names[i]);
        if (!path) goto out;
        char **sub = NULL;
        size_t ns = 0;
        int d = is_dir(path);
        if (d && list_dir(path, &sub, &ns) != 0) {
            free(path);
            goto out;
        }
        for (size_t j = 0; j < (d ? ns : 1); j++) {
            const char *base = d ? sub[j] : names[i];
            if (!is_audio_name(base)) continue;
            char *f = d ? fmt("%s/%s", path, base) : strdup(path);
            float *x = NULL;
            size_t n = 0;
            unsigned rate = 0;
            cd_feats ft;
            memset(&ft, 0, sizeof ft);
            int bad = !f || cd_read_front(f, &x, &n, &rate) != 0 ||
                      cd_window_feats(x, n, fc, 0, &ft) != 0;
            for (size_t w = 0; !bad && w < ft.n_win; w++)
                if (ft.peak[w] >= silence) bad = add_window(&all, &cap, ft.x + w * CM_WF_DIM, 1);
            free(x), free(ft.x), free(ft.peak), free(f);
            if (bad) {
                free_list(sub, ns), free(path);
                goto out;
            }
        }
        free_list(sub, ns);
        free(path);
    }
    if (all.n == 0) {
        cli_err("--anchors %s: no audio with sound in it", dir);
        goto out;
    }
    size_t stride = (all.n + ANCHORS_MAX - 1) / ANCHORS_MAX;
    size_t pc = p->n;
    for (size_t i = 0; i < all.n; i += stride)
        if (add_window(p, &pc, all.x + i * CM_WF_DIM, 1) != 0) goto out;
    rc = 0;
out:
    free_list(names, nn);
    pool_free(&all);
    return rc;
}

/* Anchors as written by --write-anchors: {"format": "crymeter-anchors", "version": 1,
 * "feature_version": CM_WF_VERSION, "source": TEXT, "examples": [[CM_WF_DIM numbers]...]}. */
static int parse_anchors(const char *text, size_t len, const char *name, pool *p)
{
    cJSON *r = cJSON_ParseWithLength(text, len);
    const cJSON *f = r ? cJSON_GetObjectItemCaseSensitive(r, "format") : NULL;
    const cJSON *fv = r ? cJSON_GetObjectItemCaseSensitive(r, "feature_version") : NULL;
    const cJSON *ex = r ? cJSON_GetObjectItemCaseSensitive(r, "examples") : NULL;
    const char *bad = !r ? "not JSON"
                      : !cJSON_IsString(f) || strcmp(f->valuestring, ANCHORS_FORMAT) != 0
                          ? "format: expected \"" ANCHORS_FORMAT "\""
                      : !cJSON_IsNumber(fv) || fv->valuedouble != CM_WF_VERSION
                          ? "feature_version: another crymeter version wrote these anchors"
                      : !cJSON_IsArray(ex) || cJSON_GetArraySize(ex) < 1 ? "examples: expected rows"
                                                                           : NULL;
    size_t cap = p->n, row = 0;
    for (const cJSON *e = bad ? NULL : ex->child; e && !bad; e = e->next, row++) {
        float x[CM_WF_DIM];
        size_t j = 0;
        if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == (int)CM_WF_DIM)
            for (const cJSON *v = e->child; v && cJSON_IsNumber(v) && isfinite(v->valuedouble);
                 v = v->next)
                x[j++] = (float)v->valuedouble;
        if (j != CM_WF_DIM) bad = "examples: a row is not CM_WF_DIM finite numbers";
        else if (add_window(p, &cap, x, 1) != 0) bad = "out of memory";
    }
    if (bad) cli_err("%s: %s%s", name, bad, row ? " (row shown by its index in the file)" : "");
    cJSON_Delete(r);
    return bad ? -1 : 0;
}

static int write_anchors(const char *path, const char *source, const pool *p, int force)
{
    FILE *f = cli_open_output(path, force);
    if (!f) return -1;
    fprintf(f, "{\"format\": \"%s\", \"version\": 1, \"feature_version\": %u,\n",
            ANCHORS_FORMAT, CM_WF_VERSION);
    cJSON *src = cJSON_CreateString(source);
    char *js = src ? cJSON_PrintUnformatted(src) : NULL;
    fprintf(f, " \"source\": %s,\n \"examples\": [\n", js ? js : "\"\"");
    free(js);
    cJSON_Delete(src);
    for (size_t i = 0; i < p->n; i++) {
        fputs("  [", f);
        for (size_t j = 0; j < CM_WF_DIM; j++) {
            /* The fewest digits that read back to the same float. */
            char b[40];
            float v = p->x[i * CM_WF_DIM + j];
            for (int d = 1; d <= 9; d++) {
                snprintf(b, sizeof b, "%.*g", d, (double)v);
                if ((float)strtod(b, NULL) == v) break;
            }
            fprintf(f, "%s%s", j ? ", " : "", b);
        }
        fprintf(f, "]%s\n", i + 1 < p->n ? "," : "");
    }
    fputs(" ]\n}\n", f);
    if (fclose(f) != 0) {
        cli_err("%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- examples, scoring and the cross-validation ---------------------------------------- */

/* The scale distances are measured in: the shipped network's standardisation (the spread of
 * the whole training data, so that "near" means near among all the sounds the model knows,
 * not among this home's few), or the corrections' own when the model has no network. */
static const float *g_mean, *g_std;

/* The examples every layer keeps whole: the starting model's own corrections, and the
 * anchors (crying recorded elsewhere) when it had none. Set once by cmd_adapt. */
static pool g_fixed;
/* Held-out anchor windows: crying a layer must not lower below the threshold. */
static pool g_check;

/* g_fixed, then the windows of the items with fold != skip (skip < 0: all) that pass the
 * silence gate, every stride-th one so that at most CM_HOME_MAX_EXAMPLES remain in all. */
static int make_pool(const items *s, int skip, float silence, pool *p)
{
    size_t n = 0, room = CM_HOME_MAX_EXAMPLES - g_fixed.n;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].fold != skip)
            for (size_t w = 0; w < s->v[i].f.n_win; w++) n += s->v[i].f.peak[w] >= silence;
    size_t stride = room ? (n + room - 1) / room : 1;
    if (stride < 1) stride = 1;
    size_t cap = g_fixed.n + n / stride + 1;
    p->x = malloc(cap * CM_WF_DIM * sizeof *p->x);
    p->y = malloc(cap);
    p->n = 0;
    if (!p->x || !p->y) return -1;
    if (g_fixed.n) {
        memcpy(p->x, g_fixed.x, g_fixed.n * CM_WF_DIM * sizeof *p->x);
        memcpy(p->y, g_fixed.y, g_fixed.n);
        p->n = g_fixed.n;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n && room; i++) {
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

/* What a model does on the stretches: the verdicts, and the mean cry score (a stretch's
 * highest smoothed cry probability, as clip scoring has it) of the not-crying ones and of the
 * crying ones. A stretch below the threshold can still hold a cry episode in a stream, where
 * the windows before it count too, so the scores say more than the verdicts. */
typedef struct tally {
    size_t cry_found, n_cry, false_alarms, n_other;
    double score_other, score_cry; /* means; 0 when there are none */
} tally;

static tally measure(const cm_model *m, const items *s, const float *score)
{
    tally t = {0, 0, 0, 0, 0.0, 0.0};
    float thr = cm_model_params(m)->threshold[CM_CLASS_CRY];
    for (size_t i = 0; i < s->n; i++) {
        int flag = score[i] >= thr;
        if (s->v[i].cry) {
            t.n_cry++;
            t.cry_found += flag;
            t.score_cry += score[i];
        } else {
            t.n_other++;
            t.false_alarms += flag;
            t.score_other += score[i];
        }
    }
    if (t.n_cry) t.score_cry /= (double)t.n_cry;
    if (t.n_other) t.score_other /= (double)t.n_other;
    return t;
}

/* The cross-validation's loss: the not-crying stretches' mean cry score plus how far the
 * crying ones fall below certainty. */
static double loss(const tally *t) { return t->score_other + (t->n_cry ? 1.0 - t->score_cry : 0.0); }

/* The share of the held-out anchor windows whose cry log-odds layer h lowers by more than
 * ANCHOR_SHIFT (nats). A shift, not a threshold crossing: crying is found over several
 * windows well above the threshold, and a window just above it says little on its own. */
static double anchors_lowered(const cm_home *h)
{
    size_t low = 0;
    for (size_t i = 0; i < g_check.n; i++) low += cm_home_shift(h, g_check.x + i * CM_WF_DIM) < -ANCHOR_SHIFT;
    return g_check.n ? (double)low / (double)g_check.n : 0.0;
}

/* Counts the cry episodes (sobbing included) of one stretch's analyzer run. */
static void count_episode(void *user, cm_event_kind kind, const cm_episode *ep)
{
    if (kind == CM_EVENT_END && (ep->cls == CM_CLASS_CRY || ep->cls == CM_CLASS_SOB))
        ++*(size_t *)user;
}

/* What the monitor would announce: eps[i], the cry episodes of stretch i played alone
 * through the analyzer under m (the episode settings, the confirmation and the home layer's
 * 4-window rule all apply), for every stretch of fold `fold` (< 0: all) whose audio was
 * kept. -1 on failure (printed). */
static int stretch_episodes(const cm_model *m, const items *s, int fold, size_t *eps)
{
    for (size_t i = 0; i < s->n; i++) {
        const item *it = &s->v[i];
        if (!it->pcm || (fold >= 0 && it->fold != fold)) continue;
        eps[i] = 0;
        if (cd_run_analyzer(m, it->pcm, it->n_pcm, count_episode, &eps[i], NULL) != 0)
            return -1;
    }
    return 0;
}

/* Out-of-fold cry scores of every item under params hp: fold f's items scored by m carrying
 * a layer fitted without them (with the fixed examples). score[i] out; eps (may be NULL)
 * gets their cry episodes too (stretch_episodes). */
static int cross_validate(cm_model *m, const items *s, unsigned folds,
                          const cm_home_params *hp, float silence, float *score, size_t *eps)
{
    for (unsigned f = 0; f < folds; f++) {
        pool p;
        memset(&p, 0, sizeof p);
        cm_home *h = NULL;
        cm_diag why = {{0}};
        if (make_pool(s, (int)f, silence, &p) != 0) {
            pool_free(&p);
            return -1;
        }
        cm_status st = cm_home_fit(hp, g_mean, g_std, p.x, p.y, p.n, &h, &why);
        pool_free(&p);
        if (st != CM_OK || cm_model_set_home(m, h, &why) != CM_OK) {
            cli_err("adapt: %s", why.msg);
            cm_home_free(h);
            return -1;
        }
        cm_home_free(h);
        for (size_t i = 0; i < s->n; i++)
            if (s->v[i].fold == (int)f) score[i] = cd_clip_score(m, &s->v[i].f, CM_CLASS_CRY);
        if (eps && stretch_episodes(m, s, (int)f, eps) != 0) return -1;
    }
    return 0;
}

/* "cat 7 -> 0, tv 2 -> 1": false alarms per name that had any, before and after. */
static void print_names(const items *s, float thr, const float *before, const float *after)
{
    int first = 1;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].cry) continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !s->v[j].cry && !strcmp(s->v[j].name, s->v[i].name);
        if (seen) continue;
        size_t b = 0, a = 0;
        for (size_t j = i; j < s->n; j++)
            if (!s->v[j].cry && !strcmp(s->v[j].name, s->v[i].name))
                b += before[j] >= thr, a += after[j] >= thr;
        if (b == 0 && a == 0) continue;
        printf("%s%s %zu -> %zu", first ? "   (" : ", ", s->v[i].name, b, a);
        first = 0;
    }
    if (!first) putchar(')');
}

/* "cry episodes, each stretch played alone ...": what the monitor would announce, before
 * and after, from stretch_episodes' counts. */
static void print_episodes(const items *s, const size_t *before, const size_t *after)
{
    size_t played = 0, n_cry = 0, cry_b = 0, cry_a = 0, other_b = 0, other_a = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!s->v[i].pcm) continue;
        played++;
        if (s->v[i].cry)
            n_cry++, cry_b += before[i] > 0, cry_a += after[i] > 0;
        else
            other_b += before[i], other_a += after[i];
    }
    printf("  cry episodes, each stretch played alone as the monitor hears it");
    if (played < s->n)
        printf(" (%zu of the %zu stretches: not the --rest pieces, at most %.0f min)", played,
               s->n, EPISODE_AUDIO_MAX_S / 60.0);
    printf(":\n    in the other sounds  %zu -> %zu", other_b, other_a);
    if (n_cry) printf(";  crying stretches with one  %zu/%zu -> %zu/%zu", cry_b, n_cry, cry_a, n_cry);
    putchar('\n');
}

/* ---- the command ------------------------------------------------------------------------ */

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->folds = 5;
    enum { O_FORCE = 256, O_MODEL, O_REST, O_FOLDS, O_ANCHORS, O_WRITE_ANCHORS };
    static const struct option lo[] = {
        {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, O_FORCE},
        {"model", required_argument, 0, O_MODEL}, {"rest", required_argument, 0, O_REST},
        {"folds", required_argument, 0, O_FOLDS}, {"anchors", required_argument, 0, O_ANCHORS},
        {"write-anchors", required_argument, 0, O_WRITE_ANCHORS},
        {0, 0, 0, 0}};
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
        case O_ANCHORS: o->anchors = optarg; break;
        case O_WRITE_ANCHORS: o->write_anchors = optarg; break;
        case O_FOLDS:
            if (cli_parse_uint("--folds", optarg, 2, 10, &o->folds) != 0) return -1;
            break;
        default: return -1;
        }
    }
    if (o->write_anchors) {
        if (!o->anchors || !strcmp(o->anchors, "none")) {
            cli_err("adapt: --write-anchors needs --anchors DIR (the crying to take them from)");
            return -1;
        }
        return 0;
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
    cJSON_AddNumberToObject(ad, "gain", hp->gain);
    cJSON_AddNumberToObject(ad, "l2", hp->l2);
    cJSON_AddNumberToObject(ad, "radius", hp->radius);
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
    if (o.out && !o.force && access(o.out, F_OK) == 0) {
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
    float *before = NULL, *after = NULL, *best = NULL;
    size_t *eps_before = NULL, *eps_after = NULL;
    cm_home *old = cm_model_home(m) ? cm_home_copy(cm_model_home(m)) : NULL;
    cm_home *final = NULL;
    pool all; /* every stretch's windows with the fixed examples: what a written layer fits */
    memset(&all, 0, sizeof all);
    const cm_front_config fc = cm_model_front_config(m);
    const int keep_fin = cm_model_frame_net(m) != NULL;
    const float silence = cm_model_silence_dbfs(m);
    int tty = isatty(2);
    const cm_net *net = cm_model_net(m);
    g_mean = net ? net->mean : NULL;
    g_std = net ? net->std : NULL;

    /* The anchors: built in, --anchors DIR, or none. Every fifth window is held out to
     * check forgetting (g_check); the rest join a first adaptation's regression. */
    pool anchors;
    memset(&anchors, 0, sizeof anchors);
    if (!o.anchors) {
        if (cm_anchors_json_len == 0) {
            cli_err("adapt: this crymeter was built without models/anchors.json; give "
                    "--anchors DIR (recordings of crying) or --anchors none");
            goto out;
        }
        if (parse_anchors((const char *)cm_anchors_json, cm_anchors_json_len,
                          "built-in anchors", &anchors) != 0)
            goto out;
    } else if (strcmp(o.anchors, "none") != 0 &&
               read_anchors(o.anchors, &fc, silence, &anchors) != 0) {
        pool_free(&anchors);
        goto out;
    }
    if (o.write_anchors) {
        if (write_anchors(o.write_anchors, o.anchors, &anchors, o.force) == 0) {
            printf("wrote %s: %zu windows of crying from %s\n", o.write_anchors, anchors.n,
                   o.anchors);
            rc = CM_EXIT_OK;
        }
        pool_free(&anchors);
        goto out;
    }
    {
        size_t cf = 0, cc = 0;
        pool fixed;
        memset(&fixed, 0, sizeof fixed);
        /* Only the windows the model itself calls crying: a cry clip's pauses and breaths
         * sound like any room, and a layer that lowers them loses no crying. */
        for (size_t i = 0, k = 0; i < anchors.n; i++) {
            float pr[CM_N_CLASSES] = {0};
            cm_model_forward(m, anchors.x + i * CM_WF_DIM, pr);
            if (pr[CM_CLASS_CRY] < ANCHOR_MIN_P) continue;
            int chk = k++ % 5 == 4;
            if (add_window(chk ? &g_check : &fixed, chk ? &cc : &cf, anchors.x + i * CM_WF_DIM,
                           1) != 0) {
                pool_free(&anchors), pool_free(&fixed);
                goto out;
            }
        }
        pool_free(&anchors);
        if (old)
            pool_free(&fixed);
        else
            g_fixed = fixed;
    }
    /* Earlier corrections (their anchors among them), thinned below if the layer is full. */
    if (old) {
        size_t cap = 0;
        for (size_t i = 0; i < cm_home_n(old); i++)
            if (add_window(&g_fixed, &cap, cm_home_example(old, i),
                           (uint8_t)cm_home_is_cry(old, i)) != 0)
                goto out;
    }
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

    size_t n_win = 0;
    double secs = 0;
    before = calloc(s.n + 1, sizeof *before), after = calloc(s.n + 1, sizeof *after);
    best = calloc(s.n + 1, sizeof *best);
    if (!before || !after || !best) goto out;
    /* What the starting model does on each stretch (its own home layer included). */
    for (size_t i = 0; i < s.n; i++) {
        before[i] = cd_clip_score(m, &s.v[i].f, CM_CLASS_CRY);
        for (size_t w = 0; w < s.v[i].f.n_win; w++) n_win += s.v[i].f.peak[w] >= silence;
        secs += s.v[i].dur_s;
    }
    tally tb = measure(m, &s, before);
    printf("Your corrections: %zu recording%s, %zu clip folder%s: %zu crying and %zu other "
           "stretches, %.1f min (%zu windows above the silence gate)\n",
           s.n_recordings, s.n_recordings == 1 ? "" : "s", s.n_folders,
           s.n_folders == 1 ? "" : "s", tb.n_cry, tb.n_other, secs / 60.0, n_win);
    if (tb.n_other == 0) {
        cli_err("adapt: your corrections hold no sound that is not crying, and the home layer "
                "learns from those (it lowers the cry probability of your home's other "
                "sounds; for crying the model misses, lower its threshold with calibrate "
                "--threshold-only): keeping the model, nothing written");
        goto out;
    }
    if (s.n < 2 || n_win < 8) {
        cli_err("adapt: too few corrections to learn from (%zu stretches, %zu windows; need "
                "at least 2 stretches and 2 s of sound): keeping the model, nothing written",
                s.n, n_win);
        goto out;
    }
    if (g_fixed.n == 0 && tb.n_cry == 0) {
        cli_err("adapt: --anchors none and no crying among your corrections: the layer needs "
                "crying to tell your home's sounds from; keeping the model, nothing written");
        goto out;
    }
    /* A layer holds at most CM_HOME_MAX_EXAMPLES windows. Earlier corrections (and the
     * anchors they carry) are kept whole while they leave the new ones room; beyond that
     * they are thinned evenly, every class alike, so that the new corrections get at least
     * half of the layer: a home re-adapted week after week keeps learning what it hears
     * now instead of filling up with its first nights. */
    if (g_fixed.n > CM_HOME_MAX_EXAMPLES / 2 && g_fixed.n + n_win > CM_HOME_MAX_EXAMPLES) {
        size_t want_new = n_win < CM_HOME_MAX_EXAMPLES / 2 ? n_win : CM_HOME_MAX_EXAMPLES / 2;
        size_t keep = CM_HOME_MAX_EXAMPLES - want_new, was = g_fixed.n, n = 0;
        if (keep < g_fixed.n) {
            for (size_t i = 0; i < was; i++) {
                if ((i * keep) / was == n) { /* the n-th kept of `keep`, evenly spaced */
                    memmove(g_fixed.x + n * CM_WF_DIM, g_fixed.x + i * CM_WF_DIM,
                            CM_WF_DIM * sizeof *g_fixed.x);
                    g_fixed.y[n++] = g_fixed.y[i];
                }
            }
            g_fixed.n = n;
            printf("Earlier corrections and anchors: %zu windows, %zu of them kept, evenly "
                   "spread, to leave these room (a layer holds %u)\n", was, n,
                   CM_HOME_MAX_EXAMPLES);
        }
    }
    unsigned folds = o.folds < s.n ? o.folds : (unsigned)s.n;
    for (size_t i = 0; i < s.n; i++) s.v[i].fold = (int)(i % folds);

    cm_home_params hp_best = {0.f, 0.f, 1.f};
    tally t_best = tb;
    int have = 0;
    const size_t n_check = g_check.n;
    double low_best = 0.0;
    if (make_pool(&s, -1, silence, &all) != 0) {
        cli_err("adapt: out of memory");
        goto out;
    }
    const size_t n_g = sizeof gains / sizeof gains[0], n_l = sizeof l2s / sizeof l2s[0];
    const size_t n_r = sizeof radii / sizeof radii[0];
    size_t tried = 0;
    /* Smaller gains, radii and stronger decay first: a tie keeps the change closer to the
     * shipped model. A candidate may neither miss crying the model finds nor add false alarms. */
    for (size_t g = 0; g < n_g; g++)
        for (size_t r = 0; r < n_r; r++)
        for (size_t l = n_l; l-- > 0;) {
            cm_home_params hp = {gains[g], l2s[l], radii[r]};
            if (tty)
                fprintf(stderr, "\rcrymeter: cross-validating %zu/%zu\033[K", ++tried,
                        n_g * n_l * n_r);
            if (cross_validate(m, &s, folds, &hp, silence, after, NULL) != 0) goto out;
            tally t = measure(m, &s, after);
            if (t.cry_found < tb.cry_found || t.false_alarms > tb.false_alarms) continue;
            if (!(loss(&t) < loss(have ? &t_best : &tb) - 1e-3)) continue;
            /* The layer fitted on every stretch is the one that would be written: it may
             * lower at most ANCHOR_LOSS_MAX of the held-out anchors (other homes' crying). */
            cm_home *h = NULL;
            if (cm_home_fit(&hp, g_mean, g_std, all.x, all.y, all.n, &h, &why) != CM_OK) {
                cli_err("adapt: %s", why.msg);
                goto out;
            }
            double low = anchors_lowered(h);
            if (low > ANCHOR_LOSS_MAX) {
                cm_home_free(h);
                continue;
            }
            cm_home_free(final);
            final = h;
            t_best = t, hp_best = hp, have = 1, low_best = low;
            memcpy(best, after, s.n * sizeof *best);
        }
    if (tty) fputs("\r\033[K", stderr);
    printf("On your labelled audio, each stretch scored by a home model fitted without it "
           "(%u-fold):\n", folds);
    const tally *ta = have ? &t_best : &tb;
    printf("  crying found  %zu/%zu -> %zu/%zu\n", tb.cry_found, tb.n_cry, ta->cry_found,
           ta->n_cry);
    printf("  false alarms  %zu/%zu -> %zu/%zu", tb.false_alarms, tb.n_other, ta->false_alarms,
           ta->n_other);
    print_names(&s, cm_model_params(m)->threshold[CM_CLASS_CRY], before, have ? best : before);
    printf("\n  mean cry score of the other sounds  %.2f -> %.2f (threshold %.2f)\n",
           tb.score_other, ta->score_other, (double)cm_model_params(m)->threshold[CM_CLASS_CRY]);
    if (have) {
        /* Only for a layer that will be written: the episodes of the starting model (its own
         * layer, if any, back in place of the cross-validation's) and of the chosen one. */
        eps_before = calloc(s.n + 1, sizeof *eps_before);
        eps_after = calloc(s.n + 1, sizeof *eps_after);
        if (!eps_before || !eps_after) {
            cli_err("adapt: out of memory");
            goto out;
        }
        if (cm_model_set_home(m, old, &why) != CM_OK) {
            cli_err("adapt: %s", why.msg);
            goto out;
        }
        if (stretch_episodes(m, &s, -1, eps_before) != 0 ||
            cross_validate(m, &s, folds, &hp_best, silence, after, eps_after) != 0)
            goto out;
        print_episodes(&s, eps_before, eps_after);
    }
    if (n_check && have)
        printf("  crying from other homes lowered by the layer  %.1f%% of %zu held-out windows "
               "(at most %.0f%%)\n", 100.0 * low_best, n_check, 100.0 * ANCHOR_LOSS_MAX);
    if (!have) {
        cli_err("adapt: no home layer scored your corrections better than the model alone; "
                "they may be too few, or contradict each other: keeping the model, nothing "
                "written");
        goto out;
    }
    if (cm_model_set_home(m, final, &why) != CM_OK) {
        cli_err("adapt: %s", why.msg);
        goto out;
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
    printf("Home layer: %zu windows (%zu crying), gain %g, l2 %g, radius %g SD\n",
           cm_home_n(final), cm_home_n_cry(final), (double)hp_best.gain, (double)hp_best.l2,
           (double)hp_best.radius);
    printf("wrote %s: use it with --model %s (or `model = %s` in a config file)\n", o.out,
           o.out, o.out);
    rc = CM_EXIT_OK;
out:
    free(before), free(after), free(best), free(eps_before), free(eps_after);
    cm_home_free(old);
    cm_home_free(final);
    pool_free(&all);
    pool_free(&g_fixed);
    pool_free(&g_check);
    items_free(&s);
    cm_model_destroy(m);
    return rc;
}
