/* SPDX-License-Identifier: MIT */
/* RTTM reporter (NIST Rich Transcription Time Marked, as diarization scorers read it: dscore,
 * pyannote.metrics, md-eval): one SPEAKER line per completed episode,
 *   SPEAKER <file-id> 1 <onset> <duration> <NA> <NA> <class> <NA> <NA>
 * with the class (cry, sob, vocal) in the speaker-name field, so a scorer compares crymeter's
 * episodes with a reference RTTM class by class. Times in seconds, 3 decimals (the other
 * formats' millisecond). The file id is the recording's base name without its extension, its
 * whitespace as '_': RTTM fields are separated by whitespace, and the scorers match a
 * reference and a hypothesis by this id. Background is not written (it is not an event). */
#include "report_internal.h"

#include <math.h>
#include <string.h>

static void file_id(FILE *f, const char *file)
{
    if (!file || !*file || !strcmp(file, "-")) {
        fputs("stdin", f);
        return;
    }
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n == 0) {
        fputs("stdin", f);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)base[i];
        /* Space, tab and the other ASCII separators and controls would split the field;
         * bytes >= 0x80 (UTF-8 names) pass through. */
        putc(c <= ' ' || c == 0x7f ? '_' : c, f);
    }
}

cm_status cm_rep_rttm_event(FILE *f, const char *file, cm_event_kind kind, const cm_episode *ep)
{
    if (kind != CM_EVENT_END || ep->cls == CM_CLASS_BACKGROUND) return CM_OK;
    char on[64], dur[64];
    double d = ep->end_s - ep->start_s;
    if (!isfinite(d) || !cm_rep_fixed(on, sizeof on, ep->start_s, CM_REP_DEC_TIME) ||
        !cm_rep_fixed(dur, sizeof dur, d > 0 ? d : 0.0, CM_REP_DEC_TIME))
        return CM_OK; /* a non-finite time has no RTTM line a scorer would read */
    fputs("SPEAKER ", f);
    file_id(f, file);
    fprintf(f, " 1 %s %s <NA> <NA> %s <NA> <NA>\n", on, dur, cm_class_name(ep->cls));
    return cm_rep_finish(f);
}
