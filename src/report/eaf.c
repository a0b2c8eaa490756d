/* SPDX-License-Identifier: MIT */
/* ELAN EAF 3.0 writer (document.c collects and sorts the episodes): one annotation document
 * per recording, as ELAN writes it (EAFv3.0.xsd): a HEADER naming the media file (an absolute
 * file:// URL and a relative one beside the .eaf, percent-encoded), TIME_ORDER with the time
 * slots in milliseconds in ascending order, then one TIER per class (cry, sob, vocal) and one
 * "excessive" tier whose annotations carry the reasons (loud, long, loud+long). Within a tier
 * annotations never overlap (an episode that starts before the previous one ends is clipped,
 * one of 0 ms after rounding is dropped) and none passes the recording's end. DATE is the
 * time of writing, as ELAN sets it. */
#include "report_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ann {
    long long a_ms, b_ms;
    int tier;
    const char *label;
    size_t slot_a, slot_b; /* 1-based ids in TIME_ORDER */
} ann;

typedef struct slot {
    long long ms;
    size_t ann, end; /* which annotation, and whether its end */
} slot;

static const cm_class tier_class[] = {CM_CLASS_CRY, CM_CLASS_SOB, CM_CLASS_VOCAL};
enum { N_CLASS_TIERS = sizeof tier_class / sizeof tier_class[0] };

static int by_time(const void *x, const void *y)
{
    const slot *a = x, *b = y;
    if (a->ms != b->ms) return a->ms < b->ms ? -1 : 1;
    if (a->ann != b->ann) return a->ann < b->ann ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

/* XML attribute or text: & < > " ' escaped; control bytes other than tab, LF, CR (not allowed
 * in XML 1.0) as '?'. */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: putc(c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : c, f);
        }
    }
}

/* A path as a URL path: unreserved bytes and '/' as they are, every other byte %XX (so UTF-8
 * names become %C3%A9 and spaces %20, as RFC 3986 and ELAN's own URLs have them). */
static void url_path(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
            putc(c, f);
        else
            fprintf(f, "%%%02X", c);
    }
}

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return "unknown";
    if (!strcmp(dot, ".wav") || !strcmp(dot, ".WAV")) return "audio/x-wav";
    if (!strcmp(dot, ".mp3") || !strcmp(dot, ".MP3")) return "audio/mpeg";
    return "unknown"; /* ELAN's own word for a type it does not name */
}

static void media(FILE *f, const char *file)
{
    if (!file || !*file || !strcmp(file, "-")) return; /* standard input: no media file */
    char abs[PATH_MAX];
    const char *p = file[0] == '/' ? file : realpath(file, abs) ? abs : NULL;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    fputs("        <MEDIA_DESCRIPTOR MEDIA_URL=\"", f);
    if (p) {
        fputs("file://", f);
        url_path(f, p);
    } else
        url_path(f, file); /* a relative name that no longer resolves: as given */
    fprintf(f, "\" MIME_TYPE=\"%s\" RELATIVE_MEDIA_URL=\"./", mime_of(base));
    url_path(f, base);
    fputs("\"/>\n", f);
}

cm_status cm_rep_eaf(FILE *f, const char *file, const cm_doc *d, double xmax)
{
    long long end_ms = llround(xmax * 1000.0);
    ann *an = malloc((4 * d->n + 1) * sizeof *an);
    slot *sl = malloc((8 * d->n + 1) * sizeof *sl);
    if (!an || !sl) {
        free(an), free(sl);
        return CM_E_NOMEM;
    }
    size_t na = 0;
    for (int tier = 0; tier <= N_CLASS_TIERS; tier++) {
        long long t = 0;
        for (size_t i = 0; i < d->n; i++) {
            const cm_doc_span *s = &d->v[i];
            const char *label = tier < N_CLASS_TIERS
                                    ? (s->cls == tier_class[tier] ? cm_class_name(s->cls) : NULL)
                                    : (s->excessive ? cm_rep_reasons(s->excessive) : NULL);
            if (!label) continue;
            long long a = llround(s->start_s * 1000.0), b = llround(s->end_s * 1000.0);
            if (a < t) a = t;
            if (b > end_ms) b = end_ms;
            if (b <= a) continue;
            an[na++] = (ann){a, b, tier, label, 0, 0};
            t = b;
        }
    }
    for (size_t i = 0; i < na; i++) {
        sl[2 * i] = (slot){an[i].a_ms, i, 0};
        sl[2 * i + 1] = (slot){an[i].b_ms, i, 1};
    }
    qsort(sl, 2 * na, sizeof *sl, by_time);
    for (size_t k = 0; k < 2 * na; k++) {
        if (sl[k].end) an[sl[k].ann].slot_b = k + 1;
        else an[sl[k].ann].slot_a = k + 1;
    }
    char date[32] = "1970-01-01T00:00:00Z";
    time_t now = time(NULL);
    struct tm tmv;
    if (now != (time_t)-1 && gmtime_r(&now, &tmv)) strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<ANNOTATION_DOCUMENT AUTHOR=\"crymeter\" DATE=\"%s\" FORMAT=\"3.0\" VERSION=\"3.0\" "
               "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
               "xsi:noNamespaceSchemaLocation=\"http://www.mpi.nl/tools/elan/EAFv3.0.xsd\">\n"
               "    <HEADER MEDIA_FILE=\"\" TIME_UNITS=\"milliseconds\">\n", date);
    media(f, file);
    fprintf(f, "        <PROPERTY NAME=\"lastUsedAnnotationId\">%zu</PROPERTY>\n"
               "    </HEADER>\n    <TIME_ORDER>\n", na);
    for (size_t k = 0; k < 2 * na; k++)
        fprintf(f, "        <TIME_SLOT TIME_SLOT_ID=\"ts%zu\" TIME_VALUE=\"%lld\"/>\n", k + 1,
                sl[k].ms);
    fputs("    </TIME_ORDER>\n", f);
    for (int tier = 0; tier <= N_CLASS_TIERS; tier++) {
        const char *name = tier < N_CLASS_TIERS ? cm_class_name(tier_class[tier]) : "excessive";
        fprintf(f, "    <TIER LINGUISTIC_TYPE_REF=\"crymeter\" TIER_ID=\"%s\">\n", name);
        for (size_t i = 0; i < na; i++) {
            if (an[i].tier != tier) continue;
            fprintf(f, "        <ANNOTATION>\n            <ALIGNABLE_ANNOTATION ANNOTATION_ID="
                       "\"a%zu\" TIME_SLOT_REF1=\"ts%zu\" TIME_SLOT_REF2=\"ts%zu\">\n"
                       "                <ANNOTATION_VALUE>",
                    i + 1, an[i].slot_a, an[i].slot_b);
            xml_text(f, an[i].label);
            fputs("</ANNOTATION_VALUE>\n            </ALIGNABLE_ANNOTATION>\n"
                  "        </ANNOTATION>\n", f);
        }
        fputs("    </TIER>\n", f);
    }
    fputs("    <LINGUISTIC_TYPE GRAPHIC_REFERENCES=\"false\" LINGUISTIC_TYPE_ID=\"crymeter\" "
          "TIME_ALIGNABLE=\"true\"/>\n</ANNOTATION_DOCUMENT>\n", f);
    free(an), free(sl);
    return cm_rep_finish(f);
}
