/* SPDX-License-Identifier: MIT */
/* Audacity label-track reporter: "start<TAB>end<TAB>label" per completed episode, times in
 * seconds with 6 decimals as Audacity itself writes them (File > Import > Labels). The
 * label is the class, plus the excessive reasons so they show on the track:
 * "cry (excessive: loud+long)". It is also the labels-in format of DESIGN.md, so a track
 * reviewed and corrected in Audacity can serve as time-stamped labels. */
#include "report_internal.h"

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
    return cm_rep_finish(f);
}
