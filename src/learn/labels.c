/* SPDX-License-Identifier: MIT */
/* Parsers for label inputs: CSV manifests and Audacity label tracks, plus the mapping of
 * dataset labels to classes. They read text from memory only (the CLI does the file I/O),
 * check every field and name the offending line, and are fuzzed (tests/fuzz). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/learn/metrics.h"

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

static int icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == needle[i]) i++;
        if (i == n) return 1;
    }
    return 0;
}

int cm_label_to_class(const char *label, const char *hint, cm_class *out)
{
    static const char *const cry[] = {"cry", "cry_infant", "cry_adult", "crying", "baby_cry"};
    static const char *const vocal[] = {"vocal", "speech", "laugh", "laughter", "cough",
                                        "sneeze", "breath", "breathing", "snore", "snoring",
                                        "scream", "moan", "yawn", "sigh", "voice",
                                        "child_voice", "singing", "laugh_infant",
                                        "laugh_child", "babble", "squeal"};
    static const char *const bg[] = {"background", "dog", "cat", "music", "noise", "silence",
                                     "animal", "bird", "rooster", "siren", "alarm", "bell",
                                     "home_noncry", "tv", "television", "radio"};
    /* Non-human sounds the shared data files under "other" (ESC rooster and chirping birds,
     * a humpback whale song): without this they would teach "vocal" on animal calls. */
    static const char *const animals[] = {"rooster", "bird", "whale", "animal", "dog", "cat",
                                          "frog", "insect", "cow", "crow", "hen", "pig", "sheep"};
    if (!label || !out) return -1;
    for (size_t i = 0; i < sizeof cry / sizeof cry[0]; i++)
        if (ieq(label, cry[i])) return *out = CM_CLASS_CRY, 0;
    for (size_t i = 0; i < sizeof vocal / sizeof vocal[0]; i++)
        if (ieq(label, vocal[i])) return *out = CM_CLASS_VOCAL, 0;
    for (size_t i = 0; i < sizeof bg / sizeof bg[0]; i++)
        if (ieq(label, bg[i])) return *out = CM_CLASS_BACKGROUND, 0;
    if (ieq(label, "sob")) return *out = CM_CLASS_SOB, 0;
    if (ieq(label, "other")) {
        for (size_t i = 0; i < sizeof animals / sizeof animals[0]; i++)
            if (icontains(hint, animals[i])) return *out = CM_CLASS_BACKGROUND, 0;
        return *out = CM_CLASS_VOCAL, 0;
    }
    return -1;
}

/* ---- Audacity labels ------------------------------------------------------------------- */

static int parse_time(const char *s, size_t n, double *v)
{
    char buf[64];
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (*end || errno == ERANGE || !isfinite(d) || d < 0 || d > 1e9) return -1;
    *v = d;
    return 0;
}

cm_status cm_labels_parse(const char *text, size_t n, cm_label **out, size_t *n_out,
                          cm_diag *why)
{
    if (out) *out = NULL;
    if (n_out) *n_out = 0;
    if (!text || !out || !n_out) return cm_diag_fail(why, CM_E_INVAL, "labels: NULL argument");
    size_t cap = 16, k = 0, line = 0;
    cm_label *v = malloc(cap * sizeof *v);
    if (!v) return cm_diag_fail(why, CM_E_NOMEM, "labels: out of memory");
    size_t i = 0;
    cm_status st = CM_OK;
    while (i < n) {
        size_t j = i;
        while (j < n && text[j] != '\n') j++;
        line++;
        const char *s = text + i;
        size_t len = j - i;
        i = j + 1;
        while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
        size_t lead = 0;
        while (lead < len && (s[lead] == ' ' || s[lead] == '\t')) lead++;
        if (lead == len || s[lead] == '\\') continue; /* blank or spectral-selection line */
        if (memchr(s, '\0', len)) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: NUL byte", line);
            break;
        }
        /* Fields: by tab when the line has one, else by runs of spaces. */
        const char *f[3];
        size_t fl[3], nf = 0, p = lead;
        int tabbed = memchr(s, '\t', len) != NULL;
        while (nf < 3 && p <= len) {
            size_t q = p;
            if (nf == 2) q = len;
            else if (tabbed) while (q < len && s[q] != '\t') q++;
            else while (q < len && s[q] != ' ') q++;
            f[nf] = s + p;
            fl[nf] = q - p;
            nf++;
            p = q + 1;
            if (!tabbed) while (p < len && s[p] == ' ') p++;
        }
        double t0, t1;
        if (nf < 2 || parse_time(f[0], fl[0], &t0) != 0) {
            st = cm_diag_fail(why, CM_E_FORMAT,
                              "line %zu: expected 'start<TAB>end<TAB>label' with start a time "
                              "in seconds", line);
            break;
        }
        if (parse_time(f[1], fl[1], &t1) != 0) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: end time is not a number of seconds",
                              line);
            break;
        }
        if (t1 < t0) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: end %g before start %g", line, t1, t0);
            break;
        }
        const char *lab = nf == 3 ? f[2] : "";
        size_t ll = nf == 3 ? fl[2] : 0;
        while (ll && isspace((unsigned char)*lab)) lab++, ll--;
        if (ll == 0) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: empty label", line);
            break;
        }
        if (ll >= CM_LABEL_TEXT) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: label longer than %d characters",
                              line, CM_LABEL_TEXT - 1);
            break;
        }
        if (k == cap) {
            cm_label *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                st = cm_diag_fail(why, CM_E_NOMEM, "labels: out of memory");
                break;
            }
            v = nv;
            cap *= 2;
        }
        v[k].start_s = t0;
        v[k].end_s = t1;
        memcpy(v[k].text, lab, ll);
        v[k].text[ll] = 0;
        v[k].line = line;
        k++;
    }
    if (st != CM_OK) {
        free(v);
        return st;
    }
    *out = v;
    *n_out = k;
    return CM_OK;
}

/* ---- CSV manifest ---------------------------------------------------------------------- */

void cm_manifest_free(cm_manifest *m)
{
    if (!m) return;
    free(m->rows);
    free(m->store);
    free(m);
}

#define MAX_COLS 64

/* Splits one CSV record starting at text[*pos] into fields written NUL-terminated into store
 * (unquoted, "" unescaped). Advances *pos past the record's line end and *line by the lines
 * consumed (quoted fields may span lines). Returns the field count, or -1 for an
 * unterminated quote, -2 for too many columns, -3 for a stray quote. */
static int csv_record(const char *t, size_t n, size_t *pos, char **store, char **fields,
                      size_t *line)
{
    size_t p = *pos;
    int nf = 0;
    char *w = *store;
    for (;;) {
        if (nf == MAX_COLS) return -2;
        fields[nf++] = w;
        if (p < n && t[p] == '"') {
            p++;
            for (;;) {
                if (p >= n) return -1;
                if (t[p] == '"') {
                    if (p + 1 < n && t[p + 1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (t[p] == '\n') (*line)++;
                *w++ = t[p++];
            }
            if (p < n && t[p] != ',' && t[p] != '\n' && t[p] != '\r') return -3;
        } else {
            while (p < n && t[p] != ',' && t[p] != '\n' && t[p] != '\r') {
                if (t[p] == '"') return -3;
                *w++ = t[p++];
            }
        }
        *w++ = 0;
        if (p < n && t[p] == ',') {
            p++;
            continue;
        }
        if (p < n && t[p] == '\r') p++;
        if (p < n && t[p] == '\n') p++;
        break;
    }
    *pos = p;
    *store = w;
    return nf;
}

cm_status cm_manifest_parse(const char *text, size_t n, cm_manifest **out, cm_diag *why)
{
    if (out) *out = NULL;
    if (!text || !out) return cm_diag_fail(why, CM_E_INVAL, "manifest: NULL argument");
    if (memchr(text, '\0', n)) return cm_diag_fail(why, CM_E_FORMAT, "manifest: NUL byte");
    cm_manifest *m = calloc(1, sizeof *m);
    size_t rows_cap = 64;
    if (m) {
        m->store = malloc(n + MAX_COLS + 16); /* unquoting never grows; + terminators */
        m->rows = malloc(rows_cap * sizeof *m->rows);
    }
    /* Unquoting never grows a field and each field's NUL replaces its comma or line end, so
     * the fields of all records fit in n + 1 bytes; the store has slack on top. */
    if (!m || !m->store || !m->rows) {
        cm_manifest_free(m);
        return cm_diag_fail(why, CM_E_NOMEM, "manifest: out of memory");
    }
    char *w = m->store;
    char *fields[MAX_COLS];
    size_t pos = 0, line = 1;
    int c_path = 0, c_label = 1, c_group = 2, c_orig = -1, c_note = -1, c_source = -1;
    int first = 1, need = 2;
    cm_status st = CM_OK;
    if (n >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        pos = 3; /* UTF-8 byte-order mark from spreadsheet exports */
    while (pos < n) {
        size_t rec_line = line;
        char *w0 = w;
        int nf = csv_record(text, n, &pos, &w, fields, &line);
        line++;
        if (nf == -1) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: unterminated quoted field", rec_line);
            break;
        }
        if (nf == -2) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: more than %d columns", rec_line,
                              MAX_COLS);
            break;
        }
        if (nf == -3) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: stray '\"' inside a field", rec_line);
            break;
        }
        if (nf == 1 && fields[0][0] == 0) { /* blank line */
            w = w0;
            continue;
        }
        if (first) {
            first = 0;
            int hp = -1, hl = -1, hg = -1;
            for (int i = 0; i < nf; i++) {
                if (ieq(fields[i], "path")) hp = i;
                else if (ieq(fields[i], "label")) hl = i;
                else if (ieq(fields[i], "group")) hg = i;
                else if (ieq(fields[i], "original_path")) c_orig = i;
                else if (ieq(fields[i], "note")) c_note = i;
                else if (ieq(fields[i], "source")) c_source = i;
            }
            if (hp >= 0 || hl >= 0) {
                if (hp < 0 || hl < 0) {
                    st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: header lacks the '%s' column",
                                      rec_line, hp < 0 ? "path" : "label");
                    break;
                }
                c_path = hp;
                c_label = hl;
                c_group = hg;
                need = (hp > hl ? hp : hl) + 1;
                w = w0;
                continue;
            }
            c_orig = c_note = c_source = -1;
        }
        if (nf < need) {
            st = cm_diag_fail(why, CM_E_FORMAT,
                              "line %zu: %d column%s, expected at least %d (path,label[,group])",
                              rec_line, nf, nf == 1 ? "" : "s", need);
            break;
        }
        if (!fields[c_path][0] || !fields[c_label][0]) {
            st = cm_diag_fail(why, CM_E_FORMAT, "line %zu: empty %s", rec_line,
                              !fields[c_path][0] ? "path" : "label");
            break;
        }
        if (m->n == rows_cap) {
            cm_manifest_row *nr = realloc(m->rows, 2 * rows_cap * sizeof *nr);
            if (!nr) {
                st = cm_diag_fail(why, CM_E_NOMEM, "manifest: out of memory");
                break;
            }
            m->rows = nr;
            rows_cap *= 2;
        }
        cm_manifest_row *r = &m->rows[m->n++];
        r->path = fields[c_path];
        r->label = fields[c_label];
        r->group = c_group >= 0 && c_group < nf ? fields[c_group] : w - 1;
        r->source = c_source >= 0 && c_source < nf ? fields[c_source] : w - 1;
        /* hint: note, else original_path; both when adjacent (see below). */
        r->hint = c_note >= 0 && c_note < nf ? fields[c_note]
                  : c_orig >= 0 && c_orig < nf ? fields[c_orig]
                                               : w - 1;
        if (c_orig >= 0 && c_orig < nf && c_note >= 0 && c_note < nf && fields[c_orig][0]) {
            /* Adjacent columns are adjacent in the store: turning original_path's NUL into
             * a space joins "original_path note" without copying (the shared manifest's
             * order); otherwise the hint is the note alone. */
            if (c_note == c_orig + 1) {
                fields[c_note][-1] = ' ';
                r->hint = fields[c_orig];
            }
        }
        r->line = rec_line;
    }
    if (st == CM_OK && m->n == 0)
        st = cm_diag_fail(why, CM_E_FORMAT, "manifest: no rows");
    if (st != CM_OK) {
        cm_manifest_free(m);
        return st;
    }
    *out = m;
    return CM_OK;
}
