/* SPDX-License-Identifier: MIT */
/* Reporter front door: format names, argument checks, and dispatch to one writer per
 * format. Records a format has no place for (summaries in CSV, errors in an Audacity
 * label track, start notices outside JSONL and the table) are skipped with CM_OK, so the
 * CLI can send every record to every format without special cases. */
#include "report_internal.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    cm_format fmt;
} format_names[] = {
    {"table", CM_FORMAT_TABLE},
    {"jsonl", CM_FORMAT_JSONL},
    {"csv", CM_FORMAT_CSV},
    {"audacity", CM_FORMAT_AUDACITY},
    {"rttm", CM_FORMAT_RTTM},
    {"textgrid", CM_FORMAT_TEXTGRID},
    {"eaf", CM_FORMAT_EAF},
};

int cm_format_parse(const char *name, cm_format *out)
{
    if (!name) return -1;
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (strcmp(name, format_names[i].name) == 0) {
            if (out) *out = format_names[i].fmt;
            return 0;
        }
    }
    return -1;
}

int cm_rep_fixed(char *buf, size_t cap, double v, int decimals)
{
    if (cap == 0) return 0;
    buf[0] = 0;
    if (!isfinite(v)) return 0;
    char tmp[512];
    int n = snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
    if (n < 0 || (size_t)n >= sizeof tmp) return 0;
    /* Copy, turning the locale's decimal separator (one or more non-digit bytes: "," in
     * de_DE after a setlocale() in the program) into '.', so JSON and CSV stay parseable. */
    size_t o = 0;
    int only_zeros = 1;
    for (const char *p = tmp; *p && o + 1 < cap; p++) {
        if ((*p >= '0' && *p <= '9') || (*p == '-' && p == tmp)) {
            if (*p >= '1' && *p <= '9') only_zeros = 0;
            buf[o++] = *p;
        } else if (o > 0 && buf[o - 1] != '.') {
            buf[o++] = '.';
        }
    }
    buf[o] = 0;
    /* "-0.00" (a tiny negative rounded away) reads as a sign that is not there. */
    if (only_zeros && buf[0] == '-') memmove(buf, buf + 1, o);
    return 1;
}

const char *cm_rep_reasons(unsigned excessive)
{
    switch (excessive & (CM_EXCESS_LOUD | CM_EXCESS_LONG)) {
    case CM_EXCESS_LOUD: return "loud";
    case CM_EXCESS_LONG: return "long";
    case CM_EXCESS_LOUD | CM_EXCESS_LONG: return "loud+long";
    default: return "";
    }
}

cm_status cm_rep_finish(FILE *f)
{
    if (fflush(f) != 0 || ferror(f)) return CM_E_IO;
    return CM_OK;
}

static int format_ok(cm_format fmt)
{
    return fmt == CM_FORMAT_TABLE || fmt == CM_FORMAT_JSONL || fmt == CM_FORMAT_CSV ||
           fmt == CM_FORMAT_AUDACITY || fmt == CM_FORMAT_RTTM ||
           cm_format_is_document(fmt);
}

cm_status cm_report_begin(FILE *f, cm_format fmt)
{
    if (!f || !format_ok(fmt)) return CM_E_INVAL;
    switch (fmt) {
    case CM_FORMAT_TABLE: return cm_rep_table_begin(f);
    case CM_FORMAT_CSV: return cm_rep_csv_begin(f);
    default: return CM_OK;
    }
}

cm_status cm_report_event(FILE *f, cm_format fmt, const char *file, cm_event_kind kind,
                          const cm_episode *ep)
{
    return cm_report_event_at(f, fmt, file, NULL, NULL, kind, ep);
}

cm_status cm_report_event_at(FILE *f, cm_format fmt, const char *file, const cm_clock *clk,
                             const char *clip, cm_event_kind kind, const cm_episode *ep)
{
    if (!f || !ep || !format_ok(fmt)) return CM_E_INVAL;
    if (kind != CM_EVENT_START && kind != CM_EVENT_EXCESSIVE && kind != CM_EVENT_END)
        return CM_E_INVAL;
    switch (fmt) {
    case CM_FORMAT_TABLE: return cm_rep_table_event(f, file, clk, kind, ep);
    case CM_FORMAT_JSONL: return cm_rep_jsonl_event(f, file, clk, clip, kind, ep);
    case CM_FORMAT_CSV: return cm_rep_csv_event(f, file, kind, ep);
    case CM_FORMAT_AUDACITY: return cm_rep_audacity_event(f, kind, ep);
    case CM_FORMAT_RTTM: return cm_rep_rttm_event(f, file, kind, ep);
    case CM_FORMAT_TEXTGRID:
    case CM_FORMAT_EAF: return CM_OK; /* a document: cm_doc_add, cm_report_document */
    }
    return CM_E_INVAL;
}

cm_status cm_report_summary(FILE *f, cm_format fmt, const char *file, const cm_summary *s)
{
    return cm_report_summary_at(f, fmt, file, NULL, s);
}

cm_status cm_report_summary_at(FILE *f, cm_format fmt, const char *file, const cm_clock *clk,
                               const cm_summary *s)
{
    if (!f || !s || !format_ok(fmt)) return CM_E_INVAL;
    switch (fmt) {
    case CM_FORMAT_TABLE: return cm_rep_table_summary(f, file, s);
    case CM_FORMAT_JSONL: return cm_rep_jsonl_summary(f, file, clk, s);
    default: return CM_OK;
    }
}

cm_status cm_report_level(FILE *f, cm_format fmt, const char *file, const cm_clock *clk,
                          const cm_level_rec *lv)
{
    if (!f || !lv || !format_ok(fmt)) return CM_E_INVAL;
    switch (fmt) {
    case CM_FORMAT_JSONL: return cm_rep_jsonl_level(f, file, clk, lv);
    case CM_FORMAT_CSV: return cm_rep_csv_level(f, file, clk, lv);
    default: return CM_OK;
    }
}

cm_status cm_report_error(FILE *f, cm_format fmt, const char *file, const char *message)
{
    if (!f || !format_ok(fmt)) return CM_E_INVAL;
    switch (fmt) {
    case CM_FORMAT_TABLE: return cm_rep_table_error(f, file, message);
    case CM_FORMAT_JSONL: return cm_rep_jsonl_error(f, file, message);
    default: return CM_OK;
    }
}
