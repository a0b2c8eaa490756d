/* SPDX-License-Identifier: MIT */
/* Human table reporter, for a person at a terminal (`crymeter analyze` by default and the
 * live monitor). Columns are fixed width with the file name last, so names of any length
 * keep the other columns aligned. Times are H:MM:SS.s because recordings run for hours;
 * SPL figures carry a '*' until a calibration exists (DESIGN.md: "uncalibrated next to any
 * SPL figure"). Control bytes in file names and messages are shown as '?' so a hostile
 * name cannot send escape sequences to the terminal. Silence prints as -inf (STYLE.md). */
#include "report_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* H:MM:SS.s, rounded to the tenth first so 59.96 s prints 0:01:00.0, not 0:00:60.0. */
void cm_rep_hms(char *buf, size_t cap, double t)
{
    if (!isfinite(t) || t < 0 || t > 1e12) {
        snprintf(buf, cap, "-");
        return;
    }
    uint64_t t10 = (uint64_t)llround(t * 10.0);
    snprintf(buf, cap, "%llu:%02u:%02u.%u", (unsigned long long)(t10 / 36000),
             (unsigned)(t10 / 600 % 60), (unsigned)(t10 / 10 % 60), (unsigned)(t10 % 10));
}

/* A number for people: "-inf" for silence, "-" when there is no value (NaN). */
static void human(char *buf, size_t cap, double v, int decimals)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else if (isinf(v))
        snprintf(buf, cap, "%s", v < 0 ? "-inf" : "inf");
    else
        cm_rep_fixed(buf, cap, v, decimals);
}

static void safe_text(FILE *f, const char *s)
{
    if (!s || !*s) {
        putc('-', f);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        putc(*p < 0x20 || *p == 0x7F ? '?' : *p, f);
}

/* "file: " before a notice, or nothing when there is no file (live input). */
void cm_rep_safe_prefix(FILE *f, const char *file)
{
    if (file && *file) {
        safe_text(f, file);
        fputs(": ", f);
    }
}

cm_status cm_rep_table_begin(FILE *f)
{
    fprintf(f, "%-10s %11s %11s %8s %8s %10s %7s  %-10s %s\n", "class", "start", "end",
            "dur s", "LUFS max", "dB(A) SPL", "f0 Hz", "excessive", "file");
    /* Said once, up front, rather than on every row. */
    fprintf(f, "(* = uncalibrated SPL: assumes 0 dB re full scale = %.0f dB SPL)\n",
            CM_SPL_OFFSET_DEFAULT_DB);
    return cm_rep_finish(f);
}

static cm_status start_notice(FILE *f, const char *file, const cm_clock *clk,
                              const cm_episode *ep)
{
    char t[32];
    cm_rep_when(t, sizeof t, clk, ep->start_s);
    cm_rep_safe_prefix(f, file);
    fprintf(f, "%s started at %s (episode %llu)\n", cm_class_name(ep->cls), t,
            (unsigned long long)ep->id);
    return cm_rep_finish(f);
}

static cm_status excessive_notice(FILE *f, const char *file, const cm_clock *clk,
                                  const cm_episode *ep)
{
    char t[32], s[32];
    cm_rep_when(t, sizeof t, clk, ep->end_s);
    cm_rep_when(s, sizeof s, clk, ep->start_s);
    cm_rep_safe_prefix(f, file);
    fprintf(f, "%s since %s is excessive at %s:", cm_class_name(ep->cls), s, t);
    if (ep->excessive & CM_EXCESS_LOUD) {
        char d[64], l[64];
        human(d, sizeof d, ep->loud_excess_db, 1);
        human(l, sizeof l, ep->spl_db_max, 1);
        fprintf(f, " loud %s dB(A) SPL%s (+%s dB)", l, ep->calibrated ? "" : "*", d);
    }
    if (ep->excessive & CM_EXCESS_LONG) {
        char d[64];
        human(d, sizeof d, ep->long_excess_s, 1);
        fprintf(f, "%s long (+%s s)", (ep->excessive & CM_EXCESS_LOUD) ? "," : "", d);
    }
    putc('\n', f);
    return cm_rep_finish(f);
}

/* Clock times as HH:MM:SS.s (same width as the elapsed H:MM:SS.s of a recording under 10 h). */
static void table_time(char *buf, size_t cap, const cm_clock *clk, double t_s)
{
    char iso[40];
    /* + 0.05 s: rounded to the tenth, as the elapsed times are */
    if (cm_clock_format(iso, sizeof iso, clk, t_s + 0.05))
        snprintf(buf, cap, "%.10s", iso + 11);
    else
        cm_rep_hms(buf, cap, t_s);
}

cm_status cm_rep_table_event(FILE *f, const char *file, const cm_clock *clk, cm_event_kind kind,
                             const cm_episode *ep)
{
    if (kind == CM_EVENT_START) return start_notice(f, file, clk, ep);
    if (kind == CM_EVENT_EXCESSIVE) return excessive_notice(f, file, clk, ep);

    char st[32], en[32], dur[64], lufs[64], spl[72], f0[64];
    table_time(st, sizeof st, clk, ep->start_s);
    table_time(en, sizeof en, clk, ep->end_s);
    human(dur, sizeof dur, ep->duration_s, 2);
    human(lufs, sizeof lufs, ep->lufs_momentary_max, 1);
    human(spl, sizeof spl - 1, ep->spl_db_max, 1);
    if (!ep->calibrated) {
        size_t n = strlen(spl);
        spl[n] = '*';
        spl[n + 1] = 0;
    }
    human(f0, sizeof f0, ep->f0_median_hz, 0);
    const char *why = ep->excessive ? cm_rep_reasons(ep->excessive) : "-";
    fprintf(f, "%-10s %11s %11s %8s %8s %10s %7s  %-10s ", cm_class_name(ep->cls), st, en, dur,
            lufs, spl, f0, why);
    safe_text(f, file);
    putc('\n', f);
    return cm_rep_finish(f);
}

cm_status cm_rep_table_summary(FILE *f, const char *file, const cm_summary *s)
{
    static const cm_class order[CM_N_CLASSES] = {CM_CLASS_CRY, CM_CLASS_SOB, CM_CLASS_VOCAL,
                                                 CM_CLASS_BACKGROUND};
    char d[32], li[64], lra[64], tp[64];
    cm_rep_hms(d, sizeof d, s->duration_s);
    human(li, sizeof li, s->lufs_integrated, 1);
    human(lra, sizeof lra, s->lra_lu, 1);
    human(tp, sizeof tp, s->true_peak_dbtp, 1);
    cm_rep_safe_prefix(f, file);
    fprintf(f, "%s, %u episode%s", d, s->episodes, s->episodes == 1 ? "" : "s");
    int n = 0;
    for (int i = 0; i < CM_N_CLASSES; i++) {
        unsigned k = s->episodes_by_class[order[i]];
        if (k) fprintf(f, "%s%s %u", n++ ? ", " : " (", cm_class_name(order[i]), k);
    }
    if (n) putc(')', f);
    fprintf(f, ", integrated %s LUFS, LRA %s LU, true peak %s dBTP", li, lra, tp);
    if (s->nonfinite_samples)
        fprintf(f, ", %llu non-finite samples zeroed", (unsigned long long)s->nonfinite_samples);
    if (s->frames_analyzed != s->frames_read)
        fprintf(f, ", %llu of %llu frames analysed", (unsigned long long)s->frames_analyzed,
                (unsigned long long)s->frames_read);
    putc('\n', f);
    return cm_rep_finish(f);
}

cm_status cm_rep_table_error(FILE *f, const char *file, const char *message)
{
    cm_rep_safe_prefix(f, file);
    fputs("ERROR ", f);
    safe_text(f, message);
    putc('\n', f);
    return cm_rep_finish(f);
}
