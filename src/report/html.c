/* SPDX-License-Identifier: MIT */
/* The night report: one self-contained HTML page (inline CSS and SVG, no script, font or
 * request of any kind, so it opens from a USB stick) drawn from nights (nights.h).
 *
 * Size is bounded by the drawing, not the recording: the level track is decimated to one
 * min/max pair per pixel column (a 24-hour night of 86,400 level records becomes 940
 * columns), and the detector's class track to runs. Only the episodes grow with the night.
 * Several nights share one 24-hour clock axis: each row is placed by its time of day, and
 * the axis starts where the rows need the least total span (a night from 21:00 to 07:00
 * and one from 22:30 to 06:00 share 21:00-07:00, not 00:00-24:00). */
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/nights.h"

#define LM 170.0        /* left margin: night labels */
#define RM 70.0         /* right margin: level scale */
#define AXIS_H 26.0
#define ROW_H 100.0
#define EP_Y 12.0       /* episode lane, from the row's top */
#define EP_H 22.0
#define DET_Y 38.0      /* detector class strip */
#define DET_H 5.0
#define ENV_Y 48.0      /* level envelope lane */
#define ENV_H 46.0
#define HOUR_BAR_H 120.0 /* 60 minutes */

static const char *cls_color(cm_class c)
{
    switch (c) {
    case CM_CLASS_CRY: return "#d7301f";
    case CM_CLASS_SOB: return "#7a0177";
    case CM_CLASS_VOCAL: return "#3182bd";
    default: return "#bdbdbd";
    }
}

/* Text for HTML content and attribute values: &, <, >, " and ' escaped, control bytes as
 * '?'. The strings come from cJSON, so they are valid UTF-8. */
static void esc(FILE *f, const char *s)
{
    if (!s) return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: putc(*p < 0x20 || *p == 0x7F ? '?' : *p, f);
        }
    }
}

/* A relative URL for a file path: every byte outside the unreserved set and '/' is
 * percent-encoded, so spaces, '#' and '?' in names survive. */
static void url(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            putc(*p, f);
        else
            fprintf(f, "%%%02X", *p);
    }
}

static const char *name_of(const cm_night *nt) { return nt->file ? nt->file : "live input"; }

/* "14.0 s", "4 min 10 s", "2 h 05 min". */
static void dur_words(char *b, size_t cap, double s)
{
    if (!isfinite(s) || s < 0) {
        snprintf(b, cap, "-");
    } else if (s < 59.95) {
        snprintf(b, cap, "%.1f s", s);
    } else if (s < 3600) {
        long t = lround(s);
        snprintf(b, cap, "%ld min %02ld s", t / 60, t % 60);
    } else {
        long t = lround(s / 60);
        snprintf(b, cap, "%ld h %02ld min", t / 60, t % 60);
    }
}

/* "21:03:05" (clock) or "0:03:05" (elapsed). */
static void when(char *b, size_t cap, const cm_night *nt, double t)
{
    char iso[40];
    if (cm_clock_format(iso, sizeof iso, &nt->clock, t))
        snprintf(b, cap, "%.8s", iso + 11);
    else if (isfinite(t) && t >= 0) {
        long s = lround(t);
        snprintf(b, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    } else
        snprintf(b, cap, "-");
}

/* ---- the shared axis -------------------------------------------------------------------- */

typedef struct axis {
    bool clock;
    double origin;  /* seconds of the day (clock) of x = 0, or 0 */
    double span_s;
    double step_s;
    double *off;    /* per night: seconds from x = 0 to its audio time 0 */
} axis;

static double night_end(const cm_night *nt)
{
    double e = nt->duration_s;
    for (size_t k = 0; k < nt->n_eps; k++) {
        double x = nt->eps[k].start_s + nt->eps[k].duration_s;
        if (nt->eps[k].end_s > x) x = nt->eps[k].end_s;
        if (x > e) e = x;
    }
    return isfinite(e) && e > 0 ? e : 1.0;
}

static double local_start(const cm_night *nt)
{
    return nt->clock.epoch_s + cm_clock_offset_at(&nt->clock, 0.0) * 60.0;
}

static double nice_step(double span)
{
    static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                                   7200, 10800, 21600, 43200, 86400};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / steps[i] <= 12.0) return steps[i];
    return 86400.0 * ceil(span / 86400.0 / 12.0);
}

static int axis_make(axis *ax, const cm_nights *n)
{
    memset(ax, 0, sizeof *ax);
    ax->off = calloc(n->n ? n->n : 1, sizeof *ax->off);
    if (!ax->off) return -1;
    ax->clock = n->n > 0;
    for (size_t i = 0; i < n->n; i++) ax->clock &= cm_clock_known(&n->v[i].clock) != 0;
    double span = 1.0, cand = 0.0;
    if (ax->clock) {
        /* Try each night's time of day as the axis start; keep the one with the least span. */
        double best = INFINITY;
        for (size_t c = 0; c < n->n; c++) {
            double tc = fmod(local_start(&n->v[c]), 86400.0);
            double s = 0;
            for (size_t i = 0; i < n->n; i++) {
                double o = fmod(fmod(local_start(&n->v[i]), 86400.0) - tc + 86400.0, 86400.0);
                if (o + night_end(&n->v[i]) > s) s = o + night_end(&n->v[i]);
            }
            if (s < best) {
                best = s;
                cand = tc;
            }
        }
        span = best;
    } else {
        for (size_t i = 0; i < n->n; i++)
            if (night_end(&n->v[i]) > span) span = night_end(&n->v[i]);
    }
    ax->step_s = nice_step(span);
    /* The axis starts on the hour (or on the tick for short recordings), ticks every step. */
    double unit = ax->step_s < 3600 ? ax->step_s : 3600;
    ax->origin = ax->clock ? floor(cand / unit) * unit : 0.0;
    double end = 0;
    for (size_t i = 0; i < n->n; i++) {
        ax->off[i] = ax->clock ? fmod(fmod(local_start(&n->v[i]), 86400.0) - ax->origin + 86400.0,
                                      86400.0)
                               : 0.0;
        if (ax->off[i] + night_end(&n->v[i]) > end) end = ax->off[i] + night_end(&n->v[i]);
    }
    ax->span_s = ceil(end / ax->step_s - 1e-9) * ax->step_s;
    if (ax->span_s <= 0) ax->span_s = ax->step_s;
    return 0;
}

static void tick_label(char *b, size_t cap, const axis *ax, double t)
{
    if (ax->clock) {
        long s = lround(fmod(ax->origin + t, 86400.0));
        if (ax->step_s >= 60)
            snprintf(b, cap, "%02ld:%02ld", s / 3600, s / 60 % 60);
        else
            snprintf(b, cap, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    } else {
        long s = lround(t);
        snprintf(b, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    }
}

/* ---- per-hour figures --------------------------------------------------------------------- */

typedef struct hour {
    double start_s, end_s; /* audio time, clipped to the recording */
    double t0;             /* audio time of the hour's start (may be < 0 for the first) */
    double secs[CM_N_CLASSES];
    unsigned eps, exc, exc_loud, exc_long;
} hour;

static hour *hours_of(const cm_night *nt, size_t *n_out)
{
    double first = 0.0; /* audio time of the first hour's start */
    if (cm_clock_known(&nt->clock)) {
        double ls = local_start(nt);
        first = floor(ls / 3600.0) * 3600.0 - ls;
    }
    double end = night_end(nt);
    size_t n = (size_t)ceil((end - first) / 3600.0 - 1e-9);
    if (n < 1) n = 1;
    hour *h = calloc(n, sizeof *h);
    if (!h) return NULL;
    for (size_t k = 0; k < n; k++) {
        h[k].t0 = first + 3600.0 * (double)k;
        h[k].start_s = h[k].t0 > 0 ? h[k].t0 : 0;
        h[k].end_s = h[k].t0 + 3600.0 < end ? h[k].t0 + 3600.0 : end;
    }
    for (size_t i = 0; i < nt->n_eps; i++) {
        const cm_night_ep *e = &nt->eps[i];
        double a = e->start_s, b = e->start_s + e->duration_s;
        long k0 = (long)floor((a - first) / 3600.0);
        if (k0 < 0) k0 = 0;
        if ((size_t)k0 >= n) k0 = (long)n - 1;
        h[k0].eps++;
        if (e->excessive) h[k0].exc++;
        if (e->excessive & CM_EXCESS_LOUD) h[k0].exc_loud++;
        if (e->excessive & CM_EXCESS_LONG) h[k0].exc_long++;
        /* Split the duration over the hours it spans; the ends of the first and last hour
         * are open so every second lands in some hour. */
        for (size_t k = (size_t)k0; k < n; k++) {
            double lo = k == 0 ? -INFINITY : h[k].t0;
            double hi = k + 1 == n ? INFINITY : h[k].t0 + 3600.0;
            double s = (b < hi ? b : hi) - (a > lo ? a : lo);
            if (s > 0) h[k].secs[e->cls] += s;
            if (b <= hi) break;
        }
    }
    *n_out = n;
    return h;
}

cm_status cm_nights_write_per_hour(const cm_nights *n, FILE *f)
{
    if (!n || !f) return CM_E_INVAL;
    fputs("file,input,hour_clock,hour_index,start_s,end_s,cry_s,sob_s,vocal_s,cry_min,sob_min,"
          "episodes,excessive,excessive_loud,excessive_long\n", f);
    for (size_t i = 0; i < n->n; i++) {
        const cm_night *nt = &n->v[i];
        size_t nh;
        hour *h = hours_of(nt, &nh);
        if (!h) return CM_E_NOMEM;
        for (size_t k = 0; k < nh; k++) {
            char iso[40], a[64], b[64];
            cm_rep_csv_text(f, nt->file);
            putc(',', f);
            cm_rep_csv_text(f, nt->input);
            putc(',', f);
            if (cm_clock_format(iso, sizeof iso, &nt->clock, h[k].t0)) fputs(iso, f);
            cm_rep_fixed(a, sizeof a, h[k].start_s, 3);
            cm_rep_fixed(b, sizeof b, h[k].end_s, 3);
            fprintf(f, ",%zu,%s,%s", k, a, b);
            static const cm_class cl[3] = {CM_CLASS_CRY, CM_CLASS_SOB, CM_CLASS_VOCAL};
            for (int c = 0; c < 3; c++) {
                cm_rep_fixed(a, sizeof a, h[k].secs[cl[c]], 3);
                fprintf(f, ",%s", a);
            }
            cm_rep_fixed(a, sizeof a, h[k].secs[CM_CLASS_CRY] / 60.0, 2);
            cm_rep_fixed(b, sizeof b, h[k].secs[CM_CLASS_SOB] / 60.0, 2);
            fprintf(f, ",%s,%s,%u,%u,%u,%u\n", a, b, h[k].eps, h[k].exc, h[k].exc_loud,
                    h[k].exc_long);
        }
        free(h);
    }
    return cm_rep_finish(f);
}

/* ---- the page ----------------------------------------------------------------------------- */

static const char css[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
    "border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}"
    ".sub{color:#666}svg{display:block;max-width:100%;height:auto}"
    "svg text{font:11px system-ui,Arial,sans-serif;fill:#444}"
    "svg .tick{text-anchor:middle}svg .reason{fill:#fff;font-weight:600}svg .rowlab{font-size:12px;fill:#222}"
    ".figs{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}"
    ".fig{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}"
    ".fig .v{font-size:18px;font-weight:600}.fig .k{color:#666;font-size:12px}"
    "table.eps{border-collapse:collapse;width:100%;font-size:13px}"
    "table.eps th,table.eps td{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;"
    "vertical-align:top}table.eps td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "table.eps tr:target{background:#fff3c4}table.eps td.n{white-space:nowrap}"
    ".chip{display:inline-block;padding:0 6px;border-radius:8px;color:#fff;font-size:12px}"
    ".exc{color:#b30000;font-weight:600;white-space:nowrap}.unc{color:#a15c00}"
    ".fix{font-size:80%;color:#555}"
    ".legend span{margin-right:14px;white-space:nowrap}"
    ".sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:4px}"
    "audio{height:28px;max-width:220px}.warn{color:#a15c00}";

static void figure(FILE *f, const char *value, const char *key)
{
    fputs("<div class=\"fig\"><div class=\"v\">", f);
    esc(f, value);
    fputs("</div><div class=\"k\">", f);
    esc(f, key);
    fputs("</div></div>", f);
}

static void summary_figs(FILE *f, const cm_night *nt)
{
    cm_night_stats st;
    cm_night_stats_of(nt, &st);
    char v[160], k[160], a[64], b[64];
    fputs("<div class=\"figs\">", f);
    dur_words(a, sizeof a, st.time_s[CM_CLASS_CRY]);
    dur_words(b, sizeof b, nt->duration_s);
    snprintf(v, sizeof v, "%s", a);
    snprintf(k, sizeof k, "total crying (of %s recorded)", b);
    figure(f, v, k);
    if (nt->duration_s > 0)
        snprintf(v, sizeof v, "%.1f %%", 100.0 * st.time_s[CM_CLASS_CRY] / nt->duration_s);
    else
        snprintf(v, sizeof v, "-");
    figure(f, v, "of the recording spent crying");
    dur_words(a, sizeof a, st.time_s[CM_CLASS_SOB]);
    figure(f, a, "sobbing");
    snprintf(v, sizeof v, "cry %u · sob %u · vocal %u", st.n[CM_CLASS_CRY], st.n[CM_CLASS_SOB],
             st.n[CM_CLASS_VOCAL]);
    figure(f, v, "episodes by class");
    if (!isnan(st.longest_s)) {
        dur_words(a, sizeof a, st.longest_s);
        when(b, sizeof b, nt, st.longest_start_s);
        snprintf(v, sizeof v, "%s", a);
        snprintf(k, sizeof k, "longest episode (%s at %s)", cm_class_name(st.longest_cls), b);
        figure(f, v, k);
    }
    if (!isnan(st.loudest_spl_db)) {
        when(b, sizeof b, nt, st.loudest_start_s);
        snprintf(v, sizeof v, "%.1f dB(A) SPL%s", st.loudest_spl_db,
                 st.loudest_calibrated ? "" : " (uncalibrated)");
        if (isfinite(st.loudest_lufs))
            snprintf(k, sizeof k, "loudest (%s at %s; %.1f LUFS momentary)",
                     cm_class_name(st.loudest_cls), b, st.loudest_lufs);
        else
            snprintf(k, sizeof k, "loudest (%s at %s)", cm_class_name(st.loudest_cls), b);
        figure(f, v, k);
    }
    snprintf(v, sizeof v, "%u", st.excessive);
    snprintf(k, sizeof k, "excessive episodes (loud %u, long %u)", st.excessive_loud,
             st.excessive_long);
    figure(f, v, k);
    if (!isnan(st.first_start_s)) {
        when(a, sizeof a, nt, st.first_start_s);
        when(b, sizeof b, nt, st.last_start_s);
        snprintf(v, sizeof v, "%s – %s", a, b);
        figure(f, v, "first and last episode");
    }
    fputs("</div>\n", f);
}

/* The loud threshold in dB(A) SPL, from any loud episode (its SPL minus the excess);
 * NAN when no episode was loud. */
static double loud_threshold(const cm_night *nt)
{
    for (size_t k = 0; k < nt->n_eps; k++) {
        const cm_night_ep *e = &nt->eps[k];
        if ((e->excessive & CM_EXCESS_LOUD) && isfinite(e->spl_db_max) &&
            isfinite(e->loud_excess_db))
            return e->spl_db_max - e->loud_excess_db;
    }
    return NAN;
}

/* Envelope range over every night: whole 10 dB steps, at least 40 dB. */
static void level_range(const cm_nights *n, double *lo, double *hi)
{
    double a = INFINITY, b = -INFINITY;
    for (size_t i = 0; i < n->n; i++)
        for (size_t k = 0; k < n->v[i].n_lvs; k++) {
            float v = n->v[i].lvs[k].spl_db_max;
            if (isfinite(v)) {
                if (v < a) a = v;
                if (v > b) b = v;
            }
        }
    if (!isfinite(a)) {
        a = 20;
        b = 100;
    }
    for (size_t i = 0; i < n->n; i++) { /* room above the loud line for its label */
        double t = loud_threshold(&n->v[i]);
        if (isfinite(t) && t + 8 > b) b = t + 8;
    }
    *lo = floor(a / 10.0) * 10.0;
    *hi = ceil(b / 10.0) * 10.0;
    if (*hi - *lo < 40) *hi = *lo + 40;
}

static void timeline(FILE *f, const cm_nights *n, const axis *ax, double pw)
{
    double W = LM + pw + RM, H = AXIS_H + ROW_H * (double)n->n + 8;
    double lo, hi;
    level_range(n, &lo, &hi);
    fprintf(f, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" data-axis=\"%s\">\n", W, H, W, H,
            ax->clock ? "clock" : "elapsed");
    /* grid and tick labels */
    int nt = (int)lround(ax->span_s / ax->step_s);
    for (int k = 0; k <= nt; k++) {
        double t = k * ax->step_s, x = LM + t / ax->span_s * pw;
        char lab[32];
        tick_label(lab, sizeof lab, ax, t);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#e5e5e5\"/>"
                "<text class=\"tick %s\" x=\"%.1f\" y=\"16\">%s</text>\n", x, AXIS_H - 4, x,
                H - 6, ax->clock ? "clock" : "elapsed", x, lab);
    }
    for (size_t i = 0; i < n->n; i++) {
        const cm_night *ntp = &n->v[i];
        double y = AXIS_H + ROW_H * (double)i, o = ax->off[i];
        double sx = pw / ax->span_s;
        char iso[40];
        fprintf(f, "<g class=\"night\" data-night=\"%zu\">", i);
        /* row label: date (clock) and file */
        fprintf(f, "<text class=\"rowlab\" x=\"4\" y=\"%.0f\">", y + EP_Y + 14);
        if (cm_clock_format(iso, sizeof iso, &ntp->clock, 0.0))
            fprintf(f, "%.10s", iso);
        else
            fputs("night", f);
        fprintf(f, "</text><text x=\"4\" y=\"%.0f\">", y + EP_Y + 30);
        const char *base = strrchr(name_of(ntp), '/');
        base = base ? base + 1 : name_of(ntp);
        char shortname[40];
        snprintf(shortname, sizeof shortname, "%s", base);
        esc(f, shortname);
        fputs("</text>\n", f);
        /* the recording's extent */
        fprintf(f, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"#f6f6f6\"/>\n",
                LM + o * sx, y + EP_Y, night_end(ntp) * sx, EP_H);
        /* episodes: sob under cry when they overlap, so draw vocal, sob, cry in that order */
        static const cm_class order[3] = {CM_CLASS_VOCAL, CM_CLASS_SOB, CM_CLASS_CRY};
        for (int c = 0; c < 3; c++)
            for (size_t k = 0; k < ntp->n_eps; k++) {
                const cm_night_ep *e = &ntp->eps[k];
                if (e->cls != order[c]) continue;
                double x = LM + (o + e->start_s) * sx, w = e->duration_s * sx;
                if (w < 1.5) w = 1.5;
                char wh[32], d[32];
                when(wh, sizeof wh, ntp, e->start_s);
                dur_words(d, sizeof d, e->duration_s);
                fprintf(f, "<a href=\"#ep-%zu-%llu\"><rect class=\"ep ep-%s\" x=\"%.1f\" "
                        "y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"%s><title>%s %s, "
                        "%s", i, (unsigned long long)e->id, cm_class_name(e->cls), x,
                        y + EP_Y + (e->cls == CM_CLASS_SOB ? EP_H / 2 : 0), w,
                        e->cls == CM_CLASS_SOB ? EP_H / 2 : EP_H, cls_color(e->cls),
                        e->excessive ? " stroke=\"#000\" stroke-width=\"1\"" : "", wh,
                        cm_class_name(e->cls), d);
                if (isfinite(e->spl_db_max))
                    fprintf(f, ", %.1f dB(A) SPL%s", e->spl_db_max, e->calibrated ? "" : "*");
                if (e->excessive) fprintf(f, ", excessive: %s", cm_rep_reasons(e->excessive));
                fputs("</title></rect></a>\n", f);
                /* the reason written on the bar when it is wide enough to hold it */
                if (e->excessive && w >= 34 && e->cls != CM_CLASS_SOB)
                    fprintf(f, "<text class=\"reason\" x=\"%.1f\" y=\"%.0f\">%s</text>\n",
                            x + 4, y + EP_Y + 15, cm_rep_reasons(e->excessive));
                if (e->excessive & CM_EXCESS_LOUD)
                    fprintf(f, "<path class=\"mark mark-loud\" d=\"M%.1f %.0fl-4 -8h8z\" "
                            "fill=\"#000\"><title>loud: +%.1f dB over the threshold</title>"
                            "</path>\n", x + (w < 8 ? w / 2 : 4), y + EP_Y - 1,
                            isfinite(e->loud_excess_db) ? e->loud_excess_db : 0.0);
                if (e->excessive & CM_EXCESS_LONG)
                    fprintf(f, "<rect class=\"mark mark-long\" x=\"%.1f\" y=\"%.0f\" "
                            "width=\"%.1f\" height=\"3\" fill=\"#ff9900\"><title>long: +%.0f s "
                            "over the threshold</title></rect>\n", x, y + EP_Y - 5, w,
                            isfinite(e->long_excess_s) ? e->long_excess_s : 0.0);
            }
        if (ntp->n_lvs == 0) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">no level track (analyze/monitor "
                    "--level-step 1)</text></g>\n", LM + 4, y + ENV_Y + 20);
            continue;
        }
        /* detector class strip: runs of one class, background left empty */
        size_t k = 0;
        while (k < ntp->n_lvs) {
            size_t j = k + 1;
            while (j < ntp->n_lvs && ntp->lvs[j].cls == ntp->lvs[k].cls &&
                   ntp->lvs[j].start_s - ntp->lvs[j - 1].end_s < 1e-6)
                j++;
            if (ntp->lvs[k].cls != CM_CLASS_BACKGROUND) {
                double x0 = LM + (o + ntp->lvs[k].start_s) * sx;
                double x1 = LM + (o + ntp->lvs[j - 1].end_s) * sx;
                fprintf(f, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
                        "fill=\"%s\" opacity=\"0.6\"/>", x0, y + DET_Y,
                        x1 - x0 < 0.5 ? 0.5 : x1 - x0, DET_H, cls_color(ntp->lvs[k].cls));
            }
            k = j;
        }
        /* level envelope: min and max of dB(A) SPL per pixel column */
        size_t ncol = (size_t)pw;
        float *mn = malloc(ncol * sizeof *mn), *mx = malloc(ncol * sizeof *mx);
        if (mn && mx) {
            for (size_t c = 0; c < ncol; c++) {
                mn[c] = INFINITY;
                mx[c] = -INFINITY;
            }
            for (size_t q = 0; q < ntp->n_lvs; q++) {
                float v = ntp->lvs[q].spl_db_max;
                if (!isfinite(v)) continue;
                double c0 = floor((o + ntp->lvs[q].start_s) * sx);
                double c1 = floor((o + ntp->lvs[q].end_s) * sx - 1e-9);
                if (c1 < c0) c1 = c0;
                for (double c = c0; c <= c1; c++) {
                    if (c < 0 || c >= (double)ncol) continue;
                    size_t ci = (size_t)c;
                    if (v < mn[ci]) mn[ci] = v;
                    if (v > mx[ci]) mx[ci] = v;
                }
            }
            double ey = y + ENV_Y, eh = ENV_H;
#define YV(v) (ey + eh - ((v) - lo) / (hi - lo) * eh)
            fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
                    "fill=\"none\" stroke=\"#eee\"/>", LM, ey, pw, eh);
            /* one closed path per run of columns with data */
            size_t c = 0;
            while (c < ncol) {
                if (!isfinite(mx[c])) {
                    c++;
                    continue;
                }
                size_t e = c;
                while (e < ncol && isfinite(mx[e])) e++;
                /* the area under the max, light, then the min-max band, dark */
                fputs("<path class=\"env-max\" fill=\"#e3e3e3\" d=\"", f);
                for (size_t q = c; q < e; q++)
                    fprintf(f, "%s%.0f %.1f", q == c ? "M" : "L", LM + (double)q, YV(mx[q]));
                fprintf(f, "L%.0f %.1fL%.0f %.1fZ\"/>", LM + (double)e, ey + eh, LM + (double)c,
                        ey + eh);
                fputs("<path class=\"env\" fill=\"#6e6e6e\" stroke=\"#555\" "
                      "stroke-width=\"0.6\" d=\"", f);
                for (size_t q = c; q < e; q++)
                    fprintf(f, "%s%.0f %.1f", q == c ? "M" : "L", LM + (double)q, YV(mx[q]));
                for (size_t q = e; q-- > c;)
                    fprintf(f, "L%.0f %.1f", LM + (double)q + 1, YV(mn[q]));
                fputs("Z\"/>\n", f);
                c = e;
            }
            double thr = loud_threshold(ntp);
            if (isfinite(thr) && thr > lo && thr < hi)
                fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
                        "stroke=\"#b30000\" stroke-dasharray=\"4 3\"/><text x=\"%.0f\" "
                        "y=\"%.1f\" fill=\"#b30000\" text-anchor=\"end\">loud %.0f dB(A)</text>",
                        LM, YV(thr), LM + pw, YV(thr), LM + pw - 2, YV(thr) - 3, thr);
            fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%.0f dB</text><text x=\"%.0f\" y=\"%.0f\">"
                    "%.0f dB</text>", LM + pw + 4, ey + 9, hi, LM + pw + 4, ey + eh, lo);
#undef YV
        }
        free(mn);
        free(mx);
        fputs("</g>\n", f);
    }
    fputs("</svg>\n", f);
}

static void hour_bars(FILE *f, const cm_night *nt, double pw)
{
    size_t nh;
    hour *h = hours_of(nt, &nh);
    if (!h) return;
    double bw = pw / (double)(nh < 12 ? 12 : nh);
    if (bw > 48) bw = 48;
    double W = LM + pw + RM, H = HOUR_BAR_H + 56;
    fprintf(f, "<svg class=\"hours\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", W, H, W, H);
    double base = 14 + HOUR_BAR_H;
    for (int m = 0; m <= 60; m += 15) {
        double y = base - m / 60.0 * HOUR_BAR_H;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%d min</text>\n", LM - 6, y,
                LM + bw * (double)nh, y, LM - 10, y + 4, m);
    }
    unsigned label_every = (unsigned)ceil(28.0 / bw);
    for (size_t k = 0; k < nh; k++) {
        double x = LM + bw * (double)k;
        double cry = h[k].secs[CM_CLASS_CRY] / 60.0, sob = h[k].secs[CM_CLASS_SOB] / 60.0;
        double hc = cry / 60.0 * HOUR_BAR_H, hs = sob / 60.0 * HOUR_BAR_H;
        char lab[40], iso[40];
        if (cm_clock_format(iso, sizeof iso, &nt->clock, h[k].t0))
            snprintf(lab, sizeof lab, "%.2s", iso + 11);
        else
            snprintf(lab, sizeof lab, "%zu h", k);
        fprintf(f, "<g class=\"hour\"><title>%s: crying %.1f min, sobbing %.1f min, "
                "%u episodes, %u excessive</title>", lab, cry, sob, h[k].eps, h[k].exc);
        fprintf(f, "<rect class=\"h-cry\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\"/>", x + 1, base - hc, bw - 2, hc, cls_color(CM_CLASS_CRY));
        fprintf(f, "<rect class=\"h-sob\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\"/>", x + 1, base - hc - hs, bw - 2, hs, cls_color(CM_CLASS_SOB));
        if (h[k].exc)
            fprintf(f, "<text class=\"h-exc\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                    "fill=\"#b30000\">!%u</text>", x + bw / 2, base - hc - hs - 4, h[k].exc);
        if (k % label_every == 0)
            fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%s</text>", x + bw / 2,
                    base + 14, lab);
        fputs("</g>\n", f);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">minutes of crying (red) and sobbing (purple) per "
            "%s hour; !n: excessive episodes starting in it</text>\n", LM, base + 32,
            cm_clock_known(&nt->clock) ? "clock" : "recorded");
    fputs("</svg>\n", f);
    free(h);
}

/* Several nights: one row each with the figures asked first, to compare them. */
static void nights_table(FILE *f, const cm_nights *n)
{
    fputs("<h2>Nights compared</h2><table class=\"eps nights\"><thead><tr><th>recording</th>"
          "<th>from</th><th>recorded</th><th>crying</th><th>share</th><th>sobbing</th>"
          "<th>cry / sob / vocal</th><th>excessive</th><th>longest</th><th>loudest dB(A) SPL"
          "</th></tr></thead><tbody>\n", f);
    for (size_t i = 0; i < n->n; i++) {
        const cm_night *nt = &n->v[i];
        cm_night_stats st;
        cm_night_stats_of(nt, &st);
        char a[64], b[64], c[64], d[64], iso[40];
        dur_words(a, sizeof a, nt->duration_s);
        dur_words(b, sizeof b, st.time_s[CM_CLASS_CRY]);
        dur_words(c, sizeof c, st.time_s[CM_CLASS_SOB]);
        dur_words(d, sizeof d, st.longest_s);
        fputs("<tr class=\"night-row\"><td>", f);
        esc(f, name_of(nt));
        fputs("</td><td>", f);
        if (cm_clock_format(iso, sizeof iso, &nt->clock, 0.0)) fprintf(f, "%.10s %.5s", iso, iso + 11);
        fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">", a, b);
        if (nt->duration_s > 0)
            fprintf(f, "%.1f %%", 100.0 * st.time_s[CM_CLASS_CRY] / nt->duration_s);
        fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%u / %u / %u</td><td class=\"n\">"
                "%u</td><td class=\"n\">%s</td><td class=\"n\">", c, st.n[CM_CLASS_CRY],
                st.n[CM_CLASS_SOB], st.n[CM_CLASS_VOCAL], st.excessive, isnan(st.longest_s) ? "-" : d);
        if (isfinite(st.loudest_spl_db))
            fprintf(f, "%.1f%s", st.loudest_spl_db, st.loudest_calibrated ? "" : "*");
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* Beside a clip: how to correct the detector with it (crymeter adapt; README, "Your home").
 * A cry clip that was not crying goes into not-cry/ (or a folder named after the sound) of
 * the clip's own folder; another clip that was crying goes into cry/. */
static void fix_hint(FILE *f, const char *clip, int is_cry)
{
    const char *slash = strrchr(clip, '/');
    char dir[1024] = ".";
    if (slash) {
        size_t n = (size_t)(slash - clip);
        if (n > sizeof dir - 1) n = sizeof dir - 1;
        memcpy(dir, clip, n);
        dir[n] = '\0';
    }
    fprintf(f, "<div class=\"fix\">%s? Move it into <code>", is_cry ? "Not crying" : "Crying");
    esc(f, dir);
    fputs(is_cry ? "/not-cry/</code> (or <code>cat/</code>, <code>tv/</code> ...)" : "/cry/</code>",
          f);
    fputs(", then <code>crymeter adapt -o home.json ", f);
    esc(f, dir);
    fputs("</code></div>", f);
}

static void episode_table(FILE *f, const cm_night *nt, size_t i)
{
    fputs("<table class=\"eps\"><thead><tr><th>#</th><th>start</th><th>duration</th>"
          "<th>class</th><th>LUFS max</th><th>dB(A) SPL max</th><th>excessive</th>"
          "<th>shape</th><th>clip</th></tr></thead><tbody>\n", f);
    for (size_t k = 0; k < nt->n_eps; k++) {
        const cm_night_ep *e = &nt->eps[k];
        char wh[32], d[32], iso[40];
        when(wh, sizeof wh, nt, e->start_s);
        dur_words(d, sizeof d, e->duration_s);
        fprintf(f, "<tr class=\"ep-row\" id=\"ep-%zu-%llu\"><td class=\"n\">%llu</td><td "
                "title=\"", i, (unsigned long long)e->id, (unsigned long long)e->id);
        if (cm_clock_format(iso, sizeof iso, &nt->clock, e->start_s)) fputs(iso, f);
        fprintf(f, " (%.3f s)\">%s</td><td class=\"n\">%s</td><td><span class=\"chip\" "
                "style=\"background:%s\">%s</span></td>", e->start_s, wh, d, cls_color(e->cls),
                cm_class_name(e->cls));
        if (isfinite(e->lufs_max))
            fprintf(f, "<td class=\"n\">%.1f</td>", e->lufs_max);
        else
            fputs("<td class=\"n\">-inf</td>", f);
        if (isfinite(e->spl_db_max))
            fprintf(f, "<td class=\"n\">%.1f%s</td>", e->spl_db_max,
                    e->calibrated ? "" : "<span class=\"unc\" title=\"uncalibrated\">*</span>");
        else
            fputs("<td class=\"n\">-</td>", f);
        fputs("<td class=\"exc\">", f);
        if (e->excessive & CM_EXCESS_LOUD)
            fprintf(f, "loud +%.1f dB ", isfinite(e->loud_excess_db) ? e->loud_excess_db : 0.0);
        if (e->excessive & CM_EXCESS_LONG)
            fprintf(f, "long +%.0f s", isfinite(e->long_excess_s) ? e->long_excess_s : 0.0);
        fputs("</td><td>", f);
        esc(f, e->words);
        fputs("</td><td>", f);
        if (e->clip) {
            fputs("<audio controls preload=\"none\" src=\"", f);
            url(f, e->clip);
            fputs("\"></audio>", f);
            fix_hint(f, e->clip, e->cls == CM_CLASS_CRY || e->cls == CM_CLASS_SOB);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

cm_status cm_nights_write_html(const cm_nights *n, FILE *f, const cm_html_options *o)
{
    if (!n || !f) return CM_E_INVAL;
    const char *title = o && o->title ? o->title : "crymeter report";
    double pw = o && o->width_px ? o->width_px : 940;
    if (pw < 200 || pw > 4000) return CM_E_RANGE;
    axis ax;
    if (axis_make(&ax, n)) return CM_E_NOMEM;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>", f);
    esc(f, title);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>", css);
    esc(f, title);
    fprintf(f, "</h1><p class=\"sub\">%zu recording%s; times are %s. Made by crymeter from its "
            "JSON Lines records; nothing here is loaded from the network.</p>\n", n->n,
            n->n == 1 ? "" : "s",
            ax.clock ? "clock times" : "elapsed from each recording's start (no clock known)");
    fputs("<h2>Timeline</h2><p class=\"legend\">", f);
    static const cm_class lc[3] = {CM_CLASS_CRY, CM_CLASS_SOB, CM_CLASS_VOCAL};
    for (int c = 0; c < 3; c++)
        fprintf(f, "<span><i class=\"sw\" style=\"background:%s\"></i>%s</span>", cls_color(lc[c]),
                cm_class_name(lc[c]));
    fputs("<span>▼ loud (above the loud threshold, dashed line)</span><span><i class=\"sw\" "
          "style=\"background:#ff9900;height:4px\"></i>long (above the long threshold)</span>"
          "<span>thin strip: the detector's class each second; grey band: level, min-max of "
          "dB(A) SPL per pixel</span></p>\n", f);
    timeline(f, n, &ax, pw);
    if (n->n > 1) nights_table(f, n);
    for (size_t i = 0; i < n->n; i++) {
        const cm_night *nt = &n->v[i];
        char iso[40];
        fputs("<section class=\"night-sec\"><h2>", f);
        esc(f, name_of(nt));
        if (cm_clock_format(iso, sizeof iso, &nt->clock, 0.0)) {
            fputs(" <span class=\"sub\">from ", f);
            fprintf(f, "%.10s %.5s", iso, iso + 11);
            fputs("</span>", f);
        }
        fputs("</h2>\n", f);
        if (!nt->has_summary)
            fputs("<p class=\"warn\">No summary record: the run did not finish (figures cover "
                  "the records there are).</p>\n", f);
        summary_figs(f, nt);
        fputs("<h3>Per hour</h3>\n", f);
        hour_bars(f, nt, pw);
        fprintf(f, "<h3>Episodes (%zu)</h3>\n", nt->n_eps);
        episode_table(f, nt, i);
        fputs("</section>\n", f);
    }
    fputs("<p class=\"sub\">* uncalibrated: dB SPL assumes 0 dB re full scale = 100 dB SPL; "
          "run crymeter calibrate --tone for real figures.</p>\n</body></html>\n", f);
    free(ax.off);
    return cm_rep_finish(f);
}
