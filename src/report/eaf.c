/* SPDX-License-Identifier: MIT */
/* ELAN EAF 3.0 writer (document.c collects and sorts the episodes): one annotation document
 * per recording, as ELAN writes it (EAFv3.0.xsd): a HEADER naming the media file (an absolute
 * file:// URL and a relative one beside the .eaf, percent-encoded), TIME_ORDER with the time
 * slots in milliseconds in ascending order, then the tiers document.c gives both formats
 * (cm_rep_doc_tier: cry, sob, vocal, excessive), an ALIGNABLE_ANNOTATION each. DATE is the
 * time of writing, as ELAN sets it. */
#include "report_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ann {
    cm_doc_ann span;
    int tier;
    size_t slot_a, slot_b; /* 1-based ids in TIME_ORDER */
} ann;

typedef struct slot {
    long long ms;
    size_t ann, end; /* which annotation, and whether its end */
} slot;

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

cm_status cm_rep_eaf(FILE *f, const char *file, const cm_doc *d, long long end_ms)
{
    ann *an = malloc((CM_DOC_TIERS * d->n + 1) * sizeof *an);
    cm_doc_ann *tier_an = malloc((d->n + 1) * sizeof *tier_an);
    slot *sl = malloc((2 * CM_DOC_TIERS * d->n + 1) * sizeof *sl);
    if (!an || !tier_an || !sl) {
        free(an), free(tier_an), free(sl);
        return CM_E_NOMEM;
    }
    size_t na = 0;
    for (int tier = 0; tier < CM_DOC_TIERS; tier++) {
        size_t k = cm_rep_doc_tier(d, tier, end_ms, tier_an);
        for (size_t i = 0; i < k; i++) an[na++] = (ann){tier_an[i], tier, 0, 0};
    }
    free(tier_an);
    for (size_t i = 0; i < na; i++) {
        sl[2 * i] = (slot){an[i].span.a_ms, i, 0};
        sl[2 * i + 1] = (slot){an[i].span.b_ms, i, 1};
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
    for (int tier = 0; tier < CM_DOC_TIERS; tier++) {
        fprintf(f, "    <TIER LINGUISTIC_TYPE_REF=\"crymeter\" TIER_ID=\"%s\">\n",
                cm_rep_doc_tier_name(tier));
        for (size_t i = 0; i < na; i++) {
            if (an[i].tier != tier) continue;
            fprintf(f, "        <ANNOTATION>\n            <ALIGNABLE_ANNOTATION ANNOTATION_ID="
                       "\"a%zu\" TIME_SLOT_REF1=\"ts%zu\" TIME_SLOT_REF2=\"ts%zu\">\n"
                       "                <ANNOTATION_VALUE>",
                    i + 1, an[i].slot_a, an[i].slot_b);
            xml_text(f, an[i].span.label);
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
