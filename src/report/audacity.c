/* SPDX-License-Identifier: MIT */
/* Audacity label-track reporter: "start<TAB>end<TAB>label" per completed episode, times in
 * seconds with 6 decimals as Audacity itself writes them (File > Import > Labels). The
 * label is the class, plus the excessive reasons so they show on the track:
 * "cry (excessive: loud+long)". It is also the labels-in format of DESIGN.md, so a track
 * reviewed and corrected in Audacity can serve as time-stamped labels. */
#include "report_internal.h"

#include "crymeter/shape.h"

static void time6(FILE *f, double t)
{
    char buf[512];
    /* A non-finite time would make the whole track unreadable to Audacity; 0 keeps the
     * line parseable and the label visible at the start, where a reviewer will see it. */
    if (!cm_rep_fixed(buf, sizeof buf, t, 6)) cm_rep_fixed(buf, sizeof buf, 0.0, 6);
    fputs(buf, f);
}

cm_status cm_rep_audacity_event(FILE *f, cm_event_kind kind, const cm_episode *ep)
{
    if (kind != CM_EVENT_END) return CM_OK;
    time6(f, ep->start_s);
    putc('\t', f);
    time6(f, ep->end_s);
    putc('\t', f);
    fputs(cm_class_name(ep->cls), f);
    if (ep->excessive) fprintf(f, " (excessive: %s)", cm_rep_reasons(ep->excessive));
    putc('\n', f);
    /* Inside a cry or vocal episode: its bursts and rhythm stretches as labels of their own,
     * so Audacity shows the cry units and inhalations under the episode. */
    const cm_shape_result *r = ep->shape;
    for (unsigned i = 0; r && i < r->n_listed && i < CM_SHAPE_MAX_LISTED; i++) {
        time6(f, r->burst[i].onset_s);
        putc('\t', f);
        time6(f, r->burst[i].offset_s);
        fprintf(f, "\tburst: %s\n", cm_burst_kind_name(r->burst[i].kind));
    }
    for (unsigned i = 0; r && i < r->n_stretches && i < CM_SHAPE_MAX_STRETCHES; i++) {
        time6(f, r->stretch[i].start_s);
        putc('\t', f);
        time6(f, r->stretch[i].end_s);
        fprintf(f, "\trhythm: %s\n", cm_rhythm_name(r->stretch[i].rhythm));
    }
    return cm_rep_finish(f);
}
