/* SPDX-License-Identifier: MIT */
/* JSON Lines reporter, schema version 1: one object per line, one line per record, so a
 * day-long recording can be streamed into jq, pandas or a database without buffering and a
 * killed run leaves every finished line intact. Field names and meanings are a contract
 * (README.md): fields may be added, never renamed or removed. Units are in the names;
 * non-finite values are null. */
#include "report_internal.h"

#include <inttypes.h>

#include "crymeter/shape.h"

/* Classes in the order people read them: the interesting ones first. */
static const cm_class class_order[CM_N_CLASSES] = {CM_CLASS_CRY, CM_CLASS_SOB, CM_CLASS_VOCAL,
                                                   CM_CLASS_BACKGROUND};

static void key(FILE *f, const char *name) { fprintf(f, "\"%s\":", name); }

static void num(FILE *f, const char *name, double v, int decimals)
{
    key(f, name);
    cm_json_number(f, v, decimals);
}

static const char *kind_type(cm_event_kind kind)
{
    switch (kind) {
    case CM_EVENT_START: return "start";
    case CM_EVENT_EXCESSIVE: return "excessive";
    case CM_EVENT_END: break;
    }
    return "episode";
}

static void span(FILE *f, double a, double b)
{
    fputc('[', f);
    cm_json_number(f, a, CM_REP_DEC_TIME);
    fputc(',', f);
    cm_json_number(f, b, CM_REP_DEC_TIME);
}

/* The "shape" object of an episode: bursts, rhythm, melody, intensity, sob stretches
 * (README.md, docs/shape.md). */
static void shape_json(FILE *f, const cm_shape_result *r)
{
    fprintf(f, ",\"shape\":{\"bursts\":%u,\"inhalations\":%u,\"other_bursts\":%u,",
            r->n_bursts, r->n_inhalations, r->n_other);
    num(f, "burst_rate_hz", r->burst_rate_hz, CM_REP_DEC_SCORE);
    fputc(',', f);
    num(f, "regularity_cv", r->regularity_cv, CM_REP_DEC_SCORE);
    fprintf(f, ",\"rhythm\":\"%s\",\"rhythm_s\":{", cm_rhythm_name(r->rhythm));
    for (int i = 0; i < CM_N_RHYTHMS; i++) {
        if (i) fputc(',', f);
        num(f, cm_rhythm_name((cm_rhythm)i), r->rhythm_s[i], CM_REP_DEC_TIME);
    }
    fputs("},\"stretches\":[", f);
    for (unsigned i = 0; i < r->n_stretches && i < CM_SHAPE_MAX_STRETCHES; i++) {
        if (i) fputc(',', f);
        span(f, r->stretch[i].start_s, r->stretch[i].end_s);
        fprintf(f, ",\"%s\"]", cm_rhythm_name(r->stretch[i].rhythm));
    }
    fputs("],\"melody\":{", f);
    num(f, "f0_median_hz", r->f0_median_hz, CM_REP_DEC_HZ);
    fputc(',', f);
    num(f, "f0_p10_hz", r->f0_p10_hz, CM_REP_DEC_HZ);
    fputc(',', f);
    num(f, "f0_p90_hz", r->f0_p90_hz, CM_REP_DEC_HZ);
    fputc(',', f);
    num(f, "f0_range_st", r->f0_range_st, CM_REP_DEC_HZ);
    fputc(',', f);
    num(f, "rise_fall_share", r->rise_fall_share, CM_REP_DEC_SCORE);
    fputs(",\"contours\":{", f);
    for (int i = 0; i < CM_N_CONTOURS; i++)
        fprintf(f, "%s\"%s\":%u", i ? "," : "", cm_contour_name((cm_contour)i),
                r->contour_count[i]);
    fputs("}},\"intensity\":{", f);
    num(f, "effort_db", r->effort_db, CM_REP_DEC_LEVEL);
    fprintf(f, ",\"label\":\"%s\"},", cm_intensity_name(r->intensity));
    num(f, "sob_s", r->sob_s, CM_REP_DEC_TIME);
    fputs(",\"sob_stretches\":[", f);
    for (unsigned i = 0; i < r->n_sob && i < CM_SHAPE_MAX_SOBS; i++) {
        if (i) fputc(',', f);
        span(f, r->sob[i].start_s, r->sob[i].end_s);
        fputc(']', f);
    }
    fputs("],\"burst_list\":[", f);
    for (unsigned i = 0; i < r->n_listed && i < CM_SHAPE_MAX_LISTED; i++) {
        const cm_shape_burst *b = &r->burst[i];
        if (i) fputc(',', f);
        span(f, b->onset_s, b->offset_s);
        fprintf(f, ",\"%s\",\"%s\",", cm_burst_kind_name(b->kind), cm_contour_name(b->contour));
        cm_json_number(f, b->f0_median_hz, CM_REP_DEC_HZ);
        fputc(',', f);
        cm_json_number(f, b->f0_range_st, CM_REP_DEC_HZ);
        fputc(']', f);
    }
    fprintf(f, "],\"truncated\":%s}", r->truncated ? "true" : "false");
}

/* ,"clock":"2026-12-01T21:03:05.250+01:00" when the clock is known. */
static void clock_field(FILE *f, const cm_clock *clk, double t_s)
{
    char iso[40];
    if (cm_clock_format(iso, sizeof iso, clk, t_s)) fprintf(f, ",\"clock\":\"%s\"", iso);
}

cm_status cm_rep_jsonl_event(FILE *f, const char *file, const cm_clock *clk, const char *clip,
                             cm_event_kind kind, const cm_episode *ep)
{
    fprintf(f, "{\"type\":\"%s\",\"id\":%" PRIu64 ",", kind_type(kind), ep->id);
    key(f, "file");
    cm_json_string(f, file);
    clock_field(f, clk, ep->start_s);
    if (clip) {
        fputc(',', f);
        key(f, "clip");
        cm_json_string(f, clip);
    }
    fputc(',', f);
    key(f, "class");
    cm_json_string(f, cm_class_name(ep->cls));
    fputc(',', f);
    num(f, "start_s", ep->start_s, CM_REP_DEC_TIME);
    fputc(',', f);
    num(f, "end_s", ep->end_s, CM_REP_DEC_TIME);
    fputc(',', f);
    num(f, "duration_s", ep->duration_s, CM_REP_DEC_TIME);
    fputc(',', f);
    num(f, "confidence", ep->confidence, CM_REP_DEC_SCORE);
    fputs(",\"loudness\":{", f);
    num(f, "lufs_momentary_max", ep->lufs_momentary_max, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "dba_max", ep->dba_max, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "peak_dbfs", ep->peak_dbfs, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "spl_db_max", ep->spl_db_max, CM_REP_DEC_LEVEL);
    fprintf(f, ",\"calibrated\":%s},\"pitch\":{", ep->calibrated ? "true" : "false");
    num(f, "f0_median_hz", ep->f0_median_hz, CM_REP_DEC_HZ);
    fprintf(f, "},\"excessive\":{\"flag\":%s,\"reasons\":[", ep->excessive ? "true" : "false");
    int n = 0;
    if (ep->excessive & CM_EXCESS_LOUD) fputs(n++ ? ",\"loud\"" : "\"loud\"", f);
    if (ep->excessive & CM_EXCESS_LONG) fputs(n++ ? ",\"long\"" : "\"long\"", f);
    fputs("],", f);
    num(f, "loud_excess_db", ep->loud_excess_db, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "long_excess_s", ep->long_excess_s, CM_REP_DEC_TIME);
    fputc('}', f);
    if (ep->cls == CM_CLASS_SOB) {
        fprintf(f, ",\"sob\":{\"pulses\":%u,", ep->sob.n_pulses);
        num(f, "pulse_rate_hz", ep->sob.pulse_rate_hz, CM_REP_DEC_SCORE);
        fputc(',', f);
        num(f, "pulse_cv", ep->sob.pulse_cv, CM_REP_DEC_SCORE);
        fputc('}', f);
    }
    if (ep->shape) shape_json(f, ep->shape);
    fputs("}\n", f);
    return cm_rep_finish(f);
}

cm_status cm_rep_jsonl_summary(FILE *f, const char *file, const cm_clock *clk,
                               const cm_summary *s)
{
    fputs("{\"type\":\"summary\",\"version\":1,", f);
    key(f, "file");
    cm_json_string(f, file);
    clock_field(f, clk, 0.0);
    fputc(',', f);
    num(f, "duration_s", s->duration_s, CM_REP_DEC_TIME);
    fprintf(f, ",\"episodes\":%u,\"episodes_by_class\":{", s->episodes);
    for (int i = 0; i < CM_N_CLASSES; i++) {
        cm_class c = class_order[i];
        fprintf(f, "%s\"%s\":%u", i ? "," : "", cm_class_name(c), s->episodes_by_class[c]);
    }
    fputs("},", f);
    num(f, "lufs_integrated", s->lufs_integrated, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "lra_lu", s->lra_lu, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "true_peak_dbtp", s->true_peak_dbtp, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "sample_peak_dbfs", s->sample_peak_dbfs, CM_REP_DEC_LEVEL);
    fprintf(f,
            ",\"frames_read\":%" PRIu64 ",\"frames_analyzed\":%" PRIu64
            ",\"nonfinite_samples\":%" PRIu64 "}\n",
            s->frames_read, s->frames_analyzed, s->nonfinite_samples);
    return cm_rep_finish(f);
}

cm_status cm_rep_jsonl_error(FILE *f, const char *file, const char *message)
{
    fputs("{\"type\":\"error\",", f);
    key(f, "file");
    cm_json_string(f, file);
    fputc(',', f);
    key(f, "message");
    cm_json_string(f, message ? message : "");
    fputs("}\n", f);
    return cm_rep_finish(f);
}

/* Short, fixed field order: a day at one record per second is 86,400 lines. */
cm_status cm_rep_jsonl_level(FILE *f, const char *file, const cm_clock *clk,
                             const cm_level_rec *lv)
{
    fputs("{\"type\":\"level\",", f);
    key(f, "file");
    cm_json_string(f, file);
    clock_field(f, clk, lv->start_s);
    fputc(',', f);
    num(f, "start_s", lv->start_s, CM_REP_DEC_TIME);
    fputc(',', f);
    num(f, "end_s", lv->end_s, CM_REP_DEC_TIME);
    fputc(',', f);
    num(f, "lufs_momentary_max", lv->lufs_momentary_max, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "dba_max", lv->dba_max, CM_REP_DEC_LEVEL);
    fputc(',', f);
    num(f, "spl_db_max", lv->spl_db_max, CM_REP_DEC_LEVEL);
    fprintf(f, ",\"calibrated\":%s,\"class\":\"%s\",", lv->calibrated ? "true" : "false",
            cm_class_name(lv->cls));
    num(f, "cry_p", lv->cry_p, CM_REP_DEC_SCORE);
    fputs("}\n", f);
    return cm_rep_finish(f);
}
