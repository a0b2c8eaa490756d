/* SPDX-License-Identifier: MIT */
/* JSON value writers shared by the JSON Lines reporter and anyone else emitting JSON.
 * File names are arbitrary bytes on POSIX, so the string writer validates UTF-8 itself:
 * valid sequences pass through, each maximal invalid subpart becomes U+FFFD (the Unicode
 * "substitution of maximal subparts" practice, also used by browsers), and the output is
 * valid JSON whatever the input. Numbers never depend on the locale and non-finite values
 * (silence at -inf LUFS, no pitch) become null, since JSON has no inf or NaN. */
#include "report_internal.h"

#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid; *sub then holds the
 * length of the maximal invalid subpart to replace (at least 1). Rejects overlong forms,
 * UTF-16 surrogates (U+D800..DFFF) and code points above U+10FFFF (RFC 3629). */
static size_t utf8_valid(const unsigned char *p, size_t *sub)
{
    unsigned char b = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0) lo = 0xA0;      /* overlong */
        if (b == 0xED) hi = 0x9F;      /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0) lo = 0x90;      /* overlong */
        if (b == 0xF4) hi = 0x8F;      /* above U+10FFFF */
    } else {
        *sub = 1;
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned char c = p[i]; /* the NUL terminator fails the test, so no overread */
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (c < l || c > h) {
            *sub = i;
            return 0;
        }
    }
    return need + 1;
}

void cm_json_string(FILE *f, const char *s)
{
    if (!f) return;
    if (!s) {
        fputs("null", f);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    putc('"', f);
    while (*p) {
        unsigned char c = *p;
        if (c < 0x80) {
            switch (c) {
            case '"': fputs("\\\"", f); break;
            case '\\': fputs("\\\\", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            default:
                if (c < 0x20)
                    fprintf(f, "\\u%04x", (unsigned)c);
                else
                    putc(c, f);
            }
            p++;
            continue;
        }
        size_t sub;
        size_t n = utf8_valid(p, &sub);
        if (n) {
            fwrite(p, 1, n, f);
            p += n;
        } else {
            fputs("\xEF\xBF\xBD", f); /* U+FFFD REPLACEMENT CHARACTER */
            p += sub;
        }
    }
    putc('"', f);
}

void cm_json_number(FILE *f, double v, int precision)
{
    if (!f) return;
    char buf[512];
    if (precision < 0) precision = 0;
    if (precision > 17) precision = 17;
    if (cm_rep_fixed(buf, sizeof buf, v, precision))
        fputs(buf, f);
    else
        fputs("null", f);
}
