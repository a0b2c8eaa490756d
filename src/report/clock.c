/* SPDX-License-Identifier: MIT */
/* Wall-clock time for records, the level-track aggregator and the per-file figures a person
 * asks first. Dates are converted with the proleptic Gregorian day count (H. Hinnant's
 * days_from_civil), not timegm, which POSIX lacks; local time goes through the C library's
 * localtime_r / mktime, so the zone is whatever TZ says. */
#include "report_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

cm_clock cm_clock_none(void)
{
    cm_clock c = {NAN, 0};
    return c;
}

int cm_clock_known(const cm_clock *c) { return c && isfinite(c->epoch_s); }

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9') return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int cm_clock_parse(const char *s, cm_clock *out)
{
    if (!s || !out) return -1;
    const char *p = s;
    int Y, M, D, h, mi, sec = 0;
    double frac = 0.0;
    if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' ||
        digits(&p, 2, &D) || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) return -1;
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &sec)) return -1;
        if (*p == '.' || *p == ',') {
            double scale = 0.1;
            p++;
            if (*p < '0' || *p > '9') return -1;
            while (*p >= '0' && *p <= '9') {
                frac += (*p++ - '0') * scale;
                scale *= 0.1;
            }
        }
    }
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M == 2 && D == 29 && !leap) return -1;
    int off = CM_CLOCK_LOCAL;
    if (*p == 'Z' || *p == 'z') {
        off = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (digits(&p, 2, &oh)) return -1;
        if (*p == ':') p++;
        if (*p && digits(&p, 2, &om)) return -1;
        if (oh > 18 || om > 59) return -1;
        off = sign * (oh * 60 + om);
    }
    if (*p) return -1;
    double epoch;
    if (off == CM_CLOCK_LOCAL) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = Y - 1900;
        tm.tm_mon = M - 1;
        tm.tm_mday = D;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1) return -1;
        epoch = (double)t;
    } else {
        epoch = (double)(days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 +
                         mi * 60 + sec) - off * 60.0;
    }
    out->epoch_s = epoch + frac;
    out->offset_min = off;
    return 0;
}

int cm_clock_offset_at(const cm_clock *c, double t_s)
{
    if (!cm_clock_known(c) || !isfinite(t_s)) return 0;
    if (c->offset_min != CM_CLOCK_LOCAL) return c->offset_min;
    time_t t = (time_t)floor(c->epoch_s + t_s);
    struct tm tm;
    if (!localtime_r(&t, &tm)) return 0;
    return (int)(tm.tm_gmtoff / 60);
}

size_t cm_clock_format(char *buf, size_t cap, const cm_clock *c, double t_s)
{
    if (cap) buf[0] = 0;
    if (!cm_clock_known(c) || !isfinite(t_s) || cap < 32) return 0;
    int off = cm_clock_offset_at(c, t_s);
    double local = c->epoch_s + t_s + off * 60.0;
    if (!(local > -1e12 && local < 1e12)) return 0;
    int64_t ms = (int64_t)llround(local * 1000.0);
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t in_day = ms - days * 86400000;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int ao = off < 0 ? -off : off;
    int n = snprintf(buf, cap, "%04lld-%02u-%02uT%02u:%02u:%02u.%03u%c%02d:%02d", (long long)y,
                     m, d, (unsigned)(in_day / 3600000), (unsigned)(in_day / 60000 % 60),
                     (unsigned)(in_day / 1000 % 60), (unsigned)(in_day % 1000),
                     off < 0 ? '-' : '+', ao / 60, ao % 60);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = 0;
        return 0;
    }
    return (size_t)n;
}

/* ---- level track ------------------------------------------------------------------------ */

cm_status cm_level_acc_init(cm_level_acc *acc, double step_s, bool calibrated)
{
    if (!acc) return CM_E_INVAL;
    if (!(step_s >= 0.1 - 1e-9 && step_s <= 3600.0)) return CM_E_RANGE;
    memset(acc, 0, sizeof *acc);
    acc->step_blocks = (unsigned)lround(step_s * 10.0);
    if (acc->step_blocks < 1) acc->step_blocks = 1;
    acc->calibrated = calibrated;
    return CM_OK;
}

int cm_level_acc_push(cm_level_acc *acc, const cm_level *lv, cm_level_rec *out)
{
    if (!acc || !lv) return 0;
    cm_level_rec *r = &acc->cur;
    if (acc->n == 0) {
        r->start_s = acc->t_end;
        r->lufs_momentary_max = -INFINITY;
        r->dba_max = -INFINITY;
        r->spl_db_max = -INFINITY;
        r->calibrated = acc->calibrated;
        r->cls = CM_CLASS_BACKGROUND;
        r->cry_p = 0.0f;
    }
    /* NaN readings (none so far: silence is -inf) must not poison the max. */
    if (lv->lufs_momentary > r->lufs_momentary_max) r->lufs_momentary_max = lv->lufs_momentary;
    if (lv->dba_fast > r->dba_max) r->dba_max = lv->dba_fast;
    if (lv->spl_db > r->spl_db_max) r->spl_db_max = lv->spl_db;
    if (lv->cls == CM_CLASS_CRY || lv->cls == CM_CLASS_SOB)
        r->cls = CM_CLASS_CRY;
    else if (lv->cls == CM_CLASS_VOCAL && r->cls == CM_CLASS_BACKGROUND)
        r->cls = CM_CLASS_VOCAL;
    if (lv->p_cry > r->cry_p) r->cry_p = lv->p_cry;
    r->end_s = lv->t_s;
    if (++acc->n < acc->step_blocks) return 0;
    acc->n = 0;
    acc->t_end = r->end_s;
    if (out) *out = *r;
    return 1;
}

int cm_level_acc_flush(cm_level_acc *acc, cm_level_rec *out)
{
    if (!acc || acc->n == 0) return 0;
    acc->n = 0;
    acc->t_end = acc->cur.end_s;
    if (out) *out = acc->cur;
    return 1;
}

/* ---- per-file figures ------------------------------------------------------------------- */

void cm_night_stats_init(cm_night_stats *st)
{
    if (!st) return;
    memset(st, 0, sizeof *st);
    st->duration_s = NAN;
    st->longest_s = st->longest_start_s = NAN;
    st->loudest_spl_db = st->loudest_dba = st->loudest_lufs = st->loudest_start_s = NAN;
    st->first_start_s = st->last_start_s = NAN;
    st->longest_cls = st->loudest_cls = CM_CLASS_BACKGROUND;
}

void cm_night_stats_add(cm_night_stats *st, const cm_episode *ep)
{
    if (!st || !ep || (unsigned)ep->cls >= CM_N_CLASSES) return;
    st->n[ep->cls]++;
    if (isfinite(ep->duration_s)) st->time_s[ep->cls] += ep->duration_s;
    if (ep->excessive) st->excessive++;
    if (ep->excessive & CM_EXCESS_LOUD) st->excessive_loud++;
    if (ep->excessive & CM_EXCESS_LONG) st->excessive_long++;
    if (isnan(st->longest_s) || ep->duration_s > st->longest_s) {
        st->longest_s = ep->duration_s;
        st->longest_start_s = ep->start_s;
        st->longest_cls = ep->cls;
    }
    if (isfinite(ep->dba_max) && (isnan(st->loudest_dba) || ep->dba_max > st->loudest_dba)) {
        st->loudest_dba = ep->dba_max;
        st->loudest_spl_db = ep->spl_db_max;
        st->loudest_lufs = ep->lufs_momentary_max;
        st->loudest_calibrated = ep->calibrated;
        st->loudest_start_s = ep->start_s;
        st->loudest_cls = ep->cls;
    }
    if (isnan(st->first_start_s) || ep->start_s < st->first_start_s)
        st->first_start_s = ep->start_s;
    if (isnan(st->last_start_s) || ep->start_s > st->last_start_s) st->last_start_s = ep->start_s;
}

/* "21:03:05" with a clock, else "0:00:04.2". */
void cm_rep_when(char *buf, size_t cap, const cm_clock *clk, double t_s)
{
    char iso[40];
    if (cm_clock_format(iso, sizeof iso, clk, t_s)) {
        snprintf(buf, cap, "%.8s", iso + 11);
        return;
    }
    cm_rep_hms(buf, cap, t_s);
}

cm_status cm_report_stats_line(FILE *f, const char *file, const cm_clock *clk,
                               const cm_night_stats *st)
{
    static const cm_class order[3] = {CM_CLASS_CRY, CM_CLASS_SOB, CM_CLASS_VOCAL};
    if (!f || !st) return CM_E_INVAL;
    char a[48], b[48], c[64];
    cm_rep_safe_prefix(f, file);
    cm_rep_hms(a, sizeof a, st->time_s[CM_CLASS_CRY]);
    fprintf(f, "crying %s", a);
    if (isfinite(st->duration_s) && st->duration_s > 0) {
        cm_rep_hms(b, sizeof b, st->duration_s);
        cm_rep_fixed(c, sizeof c, 100.0 * st->time_s[CM_CLASS_CRY] / st->duration_s, 1);
        fprintf(f, " (%s %% of %s)", c, b);
    }
    unsigned total = 0;
    for (int i = 0; i < 3; i++) total += st->n[order[i]];
    if (!total) {
        fputs("; no episodes\n", f);
        return cm_rep_finish(f);
    }
    fputs("; episodes:", f);
    int k = 0;
    for (int i = 0; i < 3; i++)
        if (st->n[order[i]])
            fprintf(f, "%s %s %u", k++ ? "," : "", cm_class_name(order[i]), st->n[order[i]]);
    cm_rep_fixed(a, sizeof a, st->longest_s, 1);
    cm_rep_when(b, sizeof b, clk, st->longest_start_s);
    fprintf(f, "; longest %s %s s at %s", cm_class_name(st->longest_cls), a, b);
    if (isfinite(st->loudest_spl_db)) {
        cm_rep_fixed(a, sizeof a, st->loudest_spl_db, 1);
        cm_rep_when(b, sizeof b, clk, st->loudest_start_s);
        fprintf(f, "; loudest %s %s dB(A) SPL%s at %s", cm_class_name(st->loudest_cls), a,
                st->loudest_calibrated ? "" : "*", b);
    }
    fprintf(f, "; excessive %u", st->excessive);
    if (st->excessive) {
        k = 0;
        fputs(" (", f);
        if (st->excessive_loud) fprintf(f, "%sloud %u", k++ ? ", " : "", st->excessive_loud);
        if (st->excessive_long) fprintf(f, "%slong %u", k++ ? ", " : "", st->excessive_long);
        fputc(')', f);
    }
    fputc('\n', f);
    return cm_rep_finish(f);
}
