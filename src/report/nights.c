/* SPDX-License-Identifier: MIT */
/* Reading JSON Lines records back into nights (nights.h). Each line is parsed on its own
 * with cJSON, so one damaged line costs that line only; what is not understood is named
 * by file and line through the caller's warning function and skipped. The shape object
 * of an episode is turned into words here, once, so the HTML writer only prints text. */
#include "report_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/nights.h"

void cm_nights_init(cm_nights *n)
{
    if (n) memset(n, 0, sizeof *n);
}

void cm_nights_free(cm_nights *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) {
        cm_night *nt = &n->v[i];
        for (size_t k = 0; k < nt->n_eps; k++) {
            free(nt->eps[k].words);
            free(nt->eps[k].clip);
        }
        free(nt->eps);
        free(nt->lvs);
        free(nt->file);
        free(nt->input);
    }
    free(n->v);
    memset(n, 0, sizeof *n);
}

/* ---- cJSON field access -------------------------------------------------------------- */

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *dupstr(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- the shape in words ---------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) CM_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->n + 256 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 512;
        char *p = realloc(b->p, cap);
        if (!p) return;
        b->p = p;
        b->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k > 0) b->n += (size_t)k < b->cap - b->n ? (size_t)k : b->cap - b->n - 1;
}

/* "6 cry units, 6 inhalations (0.5 per s), irregular; F0 503 Hz (440-581), 50 % rise-fall;
 * intense; sobbing 3.2 s" or "14 sob pulses at 0.62 Hz (CV 0.12)". */
static char *shape_words(const cJSON *rec)
{
    sbuf b = {0};
    const cJSON *sob = cJSON_GetObjectItemCaseSensitive(rec, "sob");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(rec, "shape");
    if (cJSON_IsObject(sob)) {
        double n = jnum(sob, "pulses"), r = jnum(sob, "pulse_rate_hz"), cv = jnum(sob, "pulse_cv");
        if (isfinite(n)) sb_printf(&b, "%.0f sob pulses", n);
        if (isfinite(r)) sb_printf(&b, " at %.2f Hz", r);
        if (isfinite(cv)) sb_printf(&b, " (CV %.2f)", cv);
    }
    if (cJSON_IsObject(sh)) {
        double bursts = jnum(sh, "bursts"), inh = jnum(sh, "inhalations");
        double rate = jnum(sh, "burst_rate_hz");
        const char *rhythm = jstr(sh, "rhythm");
        if (isfinite(bursts)) sb_printf(&b, "%s%.0f cry unit%s", b.n ? "; " : "", bursts,
                                        bursts == 1 ? "" : "s");
        if (isfinite(inh)) sb_printf(&b, ", %.0f inhalation%s", inh, inh == 1 ? "" : "s");
        if (isfinite(rate)) sb_printf(&b, " (%.2f per s)", rate);
        if (rhythm) sb_printf(&b, ", %s", rhythm);
        const cJSON *mel = cJSON_GetObjectItemCaseSensitive(sh, "melody");
        if (cJSON_IsObject(mel)) {
            double f0 = jnum(mel, "f0_median_hz"), lo = jnum(mel, "f0_p10_hz"),
                   hi = jnum(mel, "f0_p90_hz"), rf = jnum(mel, "rise_fall_share");
            if (isfinite(f0)) {
                sb_printf(&b, "; F0 %.0f Hz", f0);
                if (isfinite(lo) && isfinite(hi)) sb_printf(&b, " (%.0f-%.0f)", lo, hi);
            }
            if (isfinite(rf)) sb_printf(&b, ", %.0f %% rise-fall", rf * 100.0);
        }
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(sh, "intensity");
        const char *label = cJSON_IsObject(in) ? jstr(in, "label") : NULL;
        if (label && strcmp(label, "unknown") != 0) sb_printf(&b, "; %s", label);
        double sob_s = jnum(sh, "sob_s");
        if (isfinite(sob_s) && sob_s > 0) sb_printf(&b, "; sobbing %.1f s", sob_s);
    }
    if (!b.n) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct rd {
    cm_nights *n;
    const char *path;
    unsigned long line;
    cm_nights_warn_fn warn;
    void *user;
    size_t first;      /* first night of this input */
    long last;         /* night of the previous record, -1 */
    bool *open;        /* per night of this input: no summary yet */
    size_t open_cap;
} rd;

static void warnf(rd *r, const char *fmt, ...) CM_PRINTF(2, 3);
static void warnf(rd *r, const char *fmt, ...)
{
    r->n->bad++;
    if (!r->warn) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->warn(r->user, r->path, r->line, msg);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* The open night of `file` in this input, or a new one. *fresh: created now. */
static cm_night *night_for(rd *r, const char *file, long *idx, bool *fresh)
{
    cm_nights *n = r->n;
    *fresh = false;
    for (size_t i = n->n; i-- > r->first;) {
        if (same(n->v[i].file, file)) {
            if (r->open[i - r->first]) {
                *idx = (long)i;
                return &n->v[i];
            }
            break; /* its latest night is closed: a new run */
        }
    }
    if (grow((void **)&n->v, &n->cap, n->n + 1, sizeof *n->v)) return NULL;
    size_t k = n->n - r->first + 1;
    if (k > r->open_cap) {
        size_t c = r->open_cap ? r->open_cap * 2 : 16;
        bool *o = realloc(r->open, c * sizeof *o);
        if (!o) return NULL;
        r->open = o;
        r->open_cap = c;
    }
    cm_night *nt = &n->v[n->n];
    memset(nt, 0, sizeof *nt);
    nt->file = dupstr(file);
    nt->input = dupstr(r->path);
    if ((file && !nt->file) || (r->path && !nt->input)) {
        free(nt->file);
        free(nt->input);
        return NULL;
    }
    nt->clock = cm_clock_none();
    nt->duration_s = 0.0;
    nt->lufs_integrated = NAN;
    nt->lv_last_start = -INFINITY;
    r->open[n->n - r->first] = true;
    *idx = (long)n->n;
    *fresh = true;
    n->n++;
    return nt;
}

static void take_clock(cm_night *nt, const cJSON *rec, double t_s)
{
    if (cm_clock_known(&nt->clock) || !isfinite(t_s)) return;
    const char *c = jstr(rec, "clock");
    cm_clock k;
    if (c && cm_clock_parse(c, &k) == 0) {
        k.epoch_s -= t_s;
        nt->clock = k;
    }
}

static void see_time(cm_night *nt, double t)
{
    if (isfinite(t) && t > nt->duration_s && !nt->has_summary) nt->duration_s = t;
}

static int parse_class(const char *s, cm_class *c) { return s ? cm_class_parse(s, c) : -1; }

/* Times a recording can have: 0 to 1e7 s (115 days). Anything else is damage, and would
 * make the per-hour table absurdly long. */
#define MAX_T_S 1e7
static bool time_ok(double t) { return t >= 0.0 && t <= MAX_T_S; }

static cm_status add_episode(rd *r, cm_night *nt, const cJSON *rec)
{
    cm_night_ep e;
    memset(&e, 0, sizeof e);
    double id = jnum(rec, "id");
    e.start_s = jnum(rec, "start_s");
    e.end_s = jnum(rec, "end_s");
    e.duration_s = jnum(rec, "duration_s");
    if (parse_class(jstr(rec, "class"), &e.cls) || !isfinite(e.start_s) || !isfinite(e.end_s) ||
        !(id >= 0)) {
        warnf(r, "episode record without a valid class, id, start_s or end_s; skipped");
        return CM_OK;
    }
    e.id = (uint64_t)id;
    for (size_t k = 0; k < nt->n_eps; k++) {
        if (nt->eps[k].id == e.id) {
            warnf(r, "episode %llu of %s again (first at line %lu): records of two runs "
                  "interleaved?; skipped", (unsigned long long)e.id,
                  nt->file ? nt->file : "live input", nt->eps[k].line);
            return CM_OK;
        }
    }
    if (!isfinite(e.duration_s)) e.duration_s = e.end_s - e.start_s;
    if (!time_ok(e.start_s) || !time_ok(e.end_s) || !time_ok(e.start_s + e.duration_s)) {
        warnf(r, "episode times out of range (start_s %g, duration_s %g); skipped", e.start_s,
              e.duration_s);
        return CM_OK;
    }
    e.confidence = jnum(rec, "confidence");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(rec, "loudness");
    e.lufs_max = jnum(l, "lufs_momentary_max");
    e.dba_max = jnum(l, "dba_max");
    e.spl_db_max = jnum(l, "spl_db_max");
    e.calibrated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "calibrated"));
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(rec, "excessive");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(x, "reasons");
    const cJSON *it;
    cJSON_ArrayForEach(it, why)
    {
        if (cJSON_IsString(it) && !strcmp(it->valuestring, "loud")) e.excessive |= CM_EXCESS_LOUD;
        if (cJSON_IsString(it) && !strcmp(it->valuestring, "long")) e.excessive |= CM_EXCESS_LONG;
    }
    e.loud_excess_db = jnum(x, "loud_excess_db");
    e.long_excess_s = jnum(x, "long_excess_s");
    e.line = r->line;
    e.words = shape_words(rec);
    const char *clip = jstr(rec, "clip");
    e.clip = dupstr(clip);
    if (grow((void **)&nt->eps, &nt->cap_eps, nt->n_eps + 1, sizeof *nt->eps)) {
        free(e.words);
        free(e.clip);
        return CM_E_NOMEM;
    }
    nt->eps[nt->n_eps++] = e;
    take_clock(nt, rec, e.start_s);
    see_time(nt, e.end_s);
    return CM_OK;
}

static float fnum(double v) { return isfinite(v) ? (float)v : NAN; }

static cm_status add_level(rd *r, cm_night *nt, const cJSON *rec)
{
    cm_night_lv v;
    v.start_s = jnum(rec, "start_s");
    v.end_s = jnum(rec, "end_s");
    cm_class c;
    if (!isfinite(v.start_s) || !isfinite(v.end_s) || parse_class(jstr(rec, "class"), &c)) {
        warnf(r, "level record without a valid start_s, end_s or class; skipped");
        return CM_OK;
    }
    if (!time_ok(v.start_s) || !time_ok(v.end_s) || v.end_s < v.start_s) {
        warnf(r, "level record times out of range (start_s %g, end_s %g); skipped", v.start_s,
              v.end_s);
        return CM_OK;
    }
    if (v.start_s < nt->lv_last_start) {
        warnf(r, "level record at %.3f s comes after one at %.3f s of the same recording: "
              "records of two runs interleaved?; skipped", v.start_s, nt->lv_last_start);
        return CM_OK;
    }
    v.cls = (unsigned char)c;
    v.lufs_max = fnum(jnum(rec, "lufs_momentary_max"));
    v.spl_db_max = fnum(jnum(rec, "spl_db_max"));
    double p = jnum(rec, "cry_p");
    v.cry_p = isfinite(p) ? (float)p : 0.0f;
    if (grow((void **)&nt->lvs, &nt->cap_lvs, nt->n_lvs + 1, sizeof *nt->lvs)) return CM_E_NOMEM;
    nt->lvs[nt->n_lvs++] = v;
    nt->lv_last_start = v.start_s;
    take_clock(nt, rec, v.start_s);
    see_time(nt, v.end_s);
    return CM_OK;
}

static cm_status one_line(rd *r, char *line, size_t len, bool last_unterminated)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    size_t sp = 0;
    while (sp < len && (line[sp] == ' ' || line[sp] == '\t')) sp++;
    if (sp == len) return CM_OK; /* blank lines are harmless */
    cJSON *rec = cJSON_ParseWithLength(line, len);
    if (!rec) {
        if (last_unterminated)
            warnf(r, "truncated last line (the writer stopped mid-record?); skipped");
        else
            warnf(r, "not a JSON object, so not a crymeter record; skipped");
        return CM_OK;
    }
    cm_status st = CM_OK;
    const char *type = jstr(rec, "type");
    double version = jnum(rec, "version");
    if (!cJSON_IsObject(rec) || !type) {
        warnf(r, "no \"type\": not a crymeter record; skipped");
        goto done;
    }
    if (isfinite(version) && version > CM_SCHEMA_VERSION) {
        warnf(r, "schema version %g is newer than this crymeter reads (%d); skipped", version,
              CM_SCHEMA_VERSION);
        goto done;
    }
    bool episode = !strcmp(type, "episode"), level = !strcmp(type, "level"),
         summary = !strcmp(type, "summary");
    if (!episode && !level && !summary) {
        /* Known records a report does not draw: live notices, errors, monitor counters. */
        if (strcmp(type, "start") && strcmp(type, "excessive") && strcmp(type, "error") &&
            strcmp(type, "monitor"))
            warnf(r, "unknown record type \"%s\"; skipped", type);
        goto done;
    }
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(rec, "file");
    if (!cJSON_IsString(fv) && !cJSON_IsNull(fv)) {
        warnf(r, "%s record without a \"file\"; skipped", type);
        goto done;
    }
    const char *file = cJSON_IsString(fv) ? fv->valuestring : NULL;
    long idx;
    bool fresh;
    cm_night *nt = night_for(r, file, &idx, &fresh);
    if (!nt) {
        st = CM_E_NOMEM;
        goto done;
    }
    if (!fresh && r->last >= 0 && r->last != idx)
        warnf(r, "a record of %s between records of %s: two files' records interleaved; kept "
              "with %s", file ? file : "live input",
              r->n->v[r->last].file ? r->n->v[r->last].file : "live input",
              file ? file : "live input");
    r->last = idx;
    if (episode) {
        st = add_episode(r, nt, rec);
    } else if (level) {
        st = add_level(r, nt, rec);
    } else {
        double d = jnum(rec, "duration_s");
        if (time_ok(d)) nt->duration_s = d;
        else if (isfinite(d)) warnf(r, "summary duration_s %g out of range; not used", d);
        nt->lufs_integrated = jnum(rec, "lufs_integrated");
        nt->has_summary = true;
        take_clock(nt, rec, 0.0);
        r->open[idx - (long)r->first] = false;
    }
done:
    cJSON_Delete(rec);
    return st;
}

cm_status cm_nights_read(cm_nights *n, FILE *f, const char *path, cm_nights_warn_fn warn,
                         void *user)
{
    if (!n || !f) return CM_E_INVAL;
    rd r = {.n = n, .path = path, .warn = warn, .user = user, .first = n->n, .last = -1};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    cm_status st = CM_OK;
    while (st == CM_OK && (len = getline(&line, &cap, f)) >= 0) {
        r.line++;
        bool unterminated = len == 0 || line[len - 1] != '\n';
        st = one_line(&r, line, (size_t)len, unterminated);
    }
    if (st == CM_OK && ferror(f)) st = CM_E_IO;
    free(line);
    free(r.open);
    return st;
}

void cm_night_stats_of(const cm_night *nt, cm_night_stats *st)
{
    cm_night_stats_init(st);
    if (!nt) return;
    st->duration_s = nt->duration_s;
    for (size_t k = 0; k < nt->n_eps; k++) {
        const cm_night_ep *e = &nt->eps[k];
        cm_episode ep;
        memset(&ep, 0, sizeof ep);
        ep.cls = e->cls;
        ep.start_s = e->start_s;
        ep.end_s = e->end_s;
        ep.duration_s = e->duration_s;
        ep.lufs_momentary_max = e->lufs_max;
        ep.dba_max = e->dba_max;
        ep.spl_db_max = e->spl_db_max;
        ep.calibrated = e->calibrated;
        ep.excessive = e->excessive;
        cm_night_stats_add(st, &ep);
    }
}
