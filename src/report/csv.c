/* SPDX-License-Identifier: MIT */
/* CSV reporter: one header row, then one row per completed episode, for spreadsheets and
 * R/pandas. Fields are quoted as RFC 4180 says (a field holding a comma, quote, CR or LF
 * is enclosed in quotes, quotes doubled), so any file name survives a round trip. Rows end
 * in LF rather than RFC 4180's CRLF: every CSV reader accepts LF and Unix tools choke on
 * the CR. Bytes pass through unchanged; non-finite numbers are empty fields. Start and
 * excessive notices, summaries and errors have no row shape and are not written. */
#include "report_internal.h"

#include <inttypes.h>
#include <string.h>

#include "crymeter/shape.h"

static void csv_field(FILE *f, const char *s);

void cm_rep_csv_text(FILE *f, const char *s) { csv_field(f, s); }

static void csv_field(FILE *f, const char *s)
{
    if (!s) return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    putc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') putc('"', f);
        putc(*p, f);
    }
    putc('"', f);
}

static void csv_num(FILE *f, double v, int decimals)
{
    char buf[512];
    putc(',', f);
    if (cm_rep_fixed(buf, sizeof buf, v, decimals)) fputs(buf, f);
}

cm_status cm_rep_csv_begin(FILE *f)
{
    fputs("file,id,class,start_s,end_s,duration_s,confidence,lufs_momentary_max,dba_max,"
          "peak_dbfs,spl_db_max,calibrated,f0_median_hz,excessive,reasons,"
          "bursts,inhalations,burst_rate_hz,regularity_cv,rhythm,f0_range_st,rise_fall_share,"
          "effort_db,intensity,sob_s,sob_pulses,sob_pulse_rate_hz,sob_pulse_cv\n",
          f);
    return cm_rep_finish(f);
}

cm_status cm_rep_csv_event(FILE *f, const char *file, cm_event_kind kind, const cm_episode *ep)
{
    if (kind != CM_EVENT_END) return CM_OK;
    csv_field(f, file);
    fprintf(f, ",%" PRIu64 ",%s", ep->id, cm_class_name(ep->cls));
    csv_num(f, ep->start_s, CM_REP_DEC_TIME);
    csv_num(f, ep->end_s, CM_REP_DEC_TIME);
    csv_num(f, ep->duration_s, CM_REP_DEC_TIME);
    csv_num(f, ep->confidence, CM_REP_DEC_SCORE);
    csv_num(f, ep->lufs_momentary_max, CM_REP_DEC_LEVEL);
    csv_num(f, ep->dba_max, CM_REP_DEC_LEVEL);
    csv_num(f, ep->peak_dbfs, CM_REP_DEC_LEVEL);
    csv_num(f, ep->spl_db_max, CM_REP_DEC_LEVEL);
    fprintf(f, ",%s", ep->calibrated ? "true" : "false");
    csv_num(f, ep->f0_median_hz, CM_REP_DEC_HZ);
    fprintf(f, ",%s,%s", ep->excessive ? "true" : "false", cm_rep_reasons(ep->excessive));
    /* Episode shape (cry and vocal episodes) and sob pulse statistics (sob episodes); empty
     * fields where they do not apply. */
    const cm_shape_result *r = ep->shape;
    if (r) {
        fprintf(f, ",%u,%u", r->n_bursts, r->n_inhalations);
        csv_num(f, r->burst_rate_hz, CM_REP_DEC_SCORE);
        csv_num(f, r->regularity_cv, CM_REP_DEC_SCORE);
        fprintf(f, ",%s", cm_rhythm_name(r->rhythm));
        csv_num(f, r->f0_range_st, CM_REP_DEC_HZ);
        csv_num(f, r->rise_fall_share, CM_REP_DEC_SCORE);
        csv_num(f, r->effort_db, CM_REP_DEC_LEVEL);
        fprintf(f, ",%s", cm_intensity_name(r->intensity));
        csv_num(f, r->sob_s, CM_REP_DEC_TIME);
    } else {
        fputs(",,,,,,,,,,", f);
    }
    if (ep->cls == CM_CLASS_SOB) {
        fprintf(f, ",%u", ep->sob.n_pulses);
        csv_num(f, ep->sob.pulse_rate_hz, CM_REP_DEC_SCORE);
        csv_num(f, ep->sob.pulse_cv, CM_REP_DEC_SCORE);
    } else {
        fputs(",,,", f);
    }
    putc('\n', f);
    return cm_rep_finish(f);
}

cm_status cm_report_level_csv_begin(FILE *f)
{
    if (!f) return CM_E_INVAL;
    fputs("file,start_s,end_s,clock,lufs_momentary_max,dba_max,spl_db_max,calibrated,class,"
          "cry_p\n",
          f);
    return cm_rep_finish(f);
}

cm_status cm_rep_csv_level(FILE *f, const char *file, const cm_clock *clk, const cm_level_rec *lv)
{
    char iso[40];
    csv_field(f, file);
    csv_num(f, lv->start_s, CM_REP_DEC_TIME);
    csv_num(f, lv->end_s, CM_REP_DEC_TIME);
    putc(',', f);
    if (cm_clock_format(iso, sizeof iso, clk, lv->start_s)) fputs(iso, f);
    csv_num(f, lv->lufs_momentary_max, CM_REP_DEC_LEVEL);
    csv_num(f, lv->dba_max, CM_REP_DEC_LEVEL);
    csv_num(f, lv->spl_db_max, CM_REP_DEC_LEVEL);
    fprintf(f, ",%s,%s", lv->calibrated ? "true" : "false", cm_class_name(lv->cls));
    csv_num(f, lv->cry_p, CM_REP_DEC_SCORE);
    putc('\n', f);
    return cm_rep_finish(f);
}
