/* SPDX-License-Identifier: MIT */
/* Check suite for the reporters. Output is captured with open_memstream and compared with
 * exact expected strings: JSON string escaping (quotes, backslash, control bytes, UTF-8,
 * invalid bytes), null for non-finite numbers, whole JSONL episode / summary / error
 * records, CSV quoting, the Audacity line, the table. Every JSONL line emitted here, also
 * for seeded random byte-string file names, goes through a small strict JSON validator
 * (RFC 8259 grammar plus RFC 3629 UTF-8). Writes to /dev/full must return CM_E_IO. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/report.h"
#include "crymeter/shape.h"
#include "testutil.h"

/* ---- capture --------------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} capture;

static FILE *cap_open(capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    ck_assert_ptr_nonnull(c->f);
    return c->f;
}

/* Closes the stream; returns the malloc'd text (caller frees). */
static char *cap_close(capture *c)
{
    ck_assert_int_eq(fclose(c->f), 0);
    return c->buf;
}

/* ---- a strict little JSON validator ------------------------------------------------------ */

typedef struct {
    const unsigned char *p, *end;
    int depth;
} jv;

static void jv_ws(jv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
        v->p++;
}

static int jv_lit(jv *v, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(v->end - v->p) < n || memcmp(v->p, s, n) != 0) return 0;
    v->p += n;
    return 1;
}

static int jv_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int jv_string(jv *v)
{
    if (v->p >= v->end || *v->p != '"') return 0;
    v->p++;
    while (v->p < v->end) {
        unsigned char c = *v->p;
        if (c == '"') {
            v->p++;
            return 1;
        }
        if (c < 0x20) return 0; /* raw control characters are not allowed */
        if (c == '\\') {
            v->p++;
            if (v->p >= v->end) return 0;
            c = *v->p++;
            if (c == 'u') {
                for (int i = 0; i < 4; i++)
                    if (v->p >= v->end || !jv_hex(*v->p++)) return 0;
            } else if (!strchr("\"\\/bfnrt", c)) {
                return 0;
            }
            continue;
        }
        if (c < 0x80) {
            v->p++;
            continue;
        }
        /* UTF-8, RFC 3629 table 4 */
        int need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else
            return 0;
        v->p++;
        for (int i = 0; i < need; i++) {
            if (v->p >= v->end) return 0;
            unsigned char b = *v->p++;
            if (b < (i ? 0x80 : lo) || b > (i ? 0xBF : hi)) return 0;
        }
    }
    return 0;
}

static int jv_digits(jv *v)
{
    const unsigned char *s = v->p;
    while (v->p < v->end && *v->p >= '0' && *v->p <= '9') v->p++;
    return v->p > s;
}

static int jv_number(jv *v)
{
    if (v->p < v->end && *v->p == '-') v->p++;
    if (v->p < v->end && *v->p == '0')
        v->p++;
    else if (!jv_digits(v))
        return 0;
    if (v->p < v->end && *v->p == '.') {
        v->p++;
        if (!jv_digits(v)) return 0;
    }
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-')) v->p++;
        if (!jv_digits(v)) return 0;
    }
    return 1;
}

static int jv_value(jv *v);

static int jv_container(jv *v, char close, int object)
{
    if (++v->depth > 64) return 0;
    v->p++;
    jv_ws(v);
    if (v->p < v->end && *v->p == close) {
        v->p++;
        v->depth--;
        return 1;
    }
    for (;;) {
        jv_ws(v);
        if (object) {
            if (!jv_string(v)) return 0;
            jv_ws(v);
            if (v->p >= v->end || *v->p++ != ':') return 0;
        }
        if (!jv_value(v)) return 0;
        jv_ws(v);
        if (v->p >= v->end) return 0;
        if (*v->p == ',') {
            v->p++;
            continue;
        }
        if (*v->p++ != close) return 0;
        v->depth--;
        return 1;
    }
}

static int jv_value(jv *v)
{
    jv_ws(v);
    if (v->p >= v->end) return 0;
    switch (*v->p) {
    case '{': return jv_container(v, '}', 1);
    case '[': return jv_container(v, ']', 0);
    case '"': return jv_string(v);
    case 't': return jv_lit(v, "true");
    case 'f': return jv_lit(v, "false");
    case 'n': return jv_lit(v, "null");
    default: return jv_number(v);
    }
}

/* 1 when s (one line, with or without its '\n') is exactly one JSON object. */
static int json_line_valid(const char *s, size_t n)
{
    if (n && s[n - 1] == '\n') n--;
    if (memchr(s, '\n', n)) return 0; /* JSON Lines: one record per line */
    jv v = {(const unsigned char *)s, (const unsigned char *)s + n, 0};
    jv_ws(&v);
    if (v.p >= v.end || *v.p != '{') return 0;
    if (!jv_value(&v)) return 0;
    jv_ws(&v);
    return v.p == v.end;
}

/* Every line of a capture must be a valid JSON object. */
static void assert_jsonl(const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        ck_assert_msg(nl != NULL, "JSONL output does not end in a newline: %s", p);
        ck_assert_msg(json_line_valid(p, (size_t)(nl - p + 1)), "invalid JSON line: %.*s",
                      (int)(nl - p), p);
        p = nl + 1;
    }
}

START_TEST(test_validator_self_check)
{
    /* The validator must reject what it is there to catch, or the suite proves nothing. */
    static const char *const bad[] = {
        "{\"a\":1,}", "{\"a\":-inf}", "{\"a\":nan}", "{\"a\":\"x\ny\"}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\xff\"}", "{\"a\":01}", "{\"a\":1.}", "{\"a\" 1}", "{\"a\":[1,2}", "{}x",
        "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":1,5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!json_line_valid(bad[i], strlen(bad[i])), "accepted: %s", bad[i]);
    static const char *const good[] = {
        "{}", "{\"a\":[1,-2.5e-3,true,false,null,{\"b\":\"\\u00e9\\n\"}]}",
        "{\"a\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(json_line_valid(good[i], strlen(good[i])), "rejected: %s", good[i]);
}
END_TEST

/* ---- JSON strings and numbers ------------------------------------------------------------ */

static const struct {
    const char *in;
    const char *want;
} json_strings[] = {
    {"plain.wav", "\"plain.wav\""},
    {"", "\"\""},
    {"say \"hi\"", "\"say \\\"hi\\\"\""},
    {"C:\\rec\\a.wav", "\"C:\\\\rec\\\\a.wav\""},
    {"line\nnext\r\ttab", "\"line\\nnext\\r\\ttab\""},
    {"\b\f", "\"\\b\\f\""},
    {"\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\""},
    {"\x1b[31mred", "\"\\u001b[31mred\""},
    {"/slash/", "\"/slash/\""},
    /* valid UTF-8 passes through: 2, 3 and 4 byte forms, the edges of the ranges */
    {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
     "\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\""},
    {"\xc2\x80\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf",
     "\"\xc2\x80\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\""},
    /* invalid bytes become U+FFFD (EF BF BD), one per maximal invalid subpart */
    {"a\xff" "b", "\"a\xef\xbf\xbd" "b\""},
    {"\x80", "\"\xef\xbf\xbd\""},
    {"\xe2\x82", "\"\xef\xbf\xbd\""},                      /* truncated 3-byte at end */
    {"\xe2\x82" "A", "\"\xef\xbf\xbd" "A\""},              /* truncated, then ASCII */
    {"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""},         /* overlong '/' */
    {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate D800 */
    {"\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* > U+10FFFF */
    {"\xf0\x9f\x98", "\"\xef\xbf\xbd\""},                  /* truncated 4-byte */
    {"\xe9t\xe9.wav", "\"\xef\xbf\xbdt\xef\xbf\xbd.wav\""}, /* Latin-1 file name */
};

START_TEST(test_json_string)
{
    capture c;
    FILE *f = cap_open(&c);
    cm_json_string(f, json_strings[_i].in);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, json_strings[_i].want);
    /* and wrapped in an object it is valid JSON */
    char line[256];
    snprintf(line, sizeof line, "{\"s\":%s}", out);
    ck_assert(json_line_valid(line, strlen(line)));
    free(out);
}
END_TEST

START_TEST(test_json_string_null)
{
    capture c;
    FILE *f = cap_open(&c);
    cm_json_string(f, NULL);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, "null");
    free(out);
}
END_TEST

static const struct {
    double v;
    int prec;
    const char *want;
} json_numbers[] = {
    {1.5, 3, "1.500"},
    {-18.254, 2, "-18.25"},
    {0.0, 2, "0.00"},
    {-0.0001, 2, "0.00"}, /* no "-0.00" */
    {-0.004, 2, "0.00"},
    {-0.006, 2, "-0.01"},
    {3600.0, 3, "3600.000"},
    {412.46, 1, "412.5"},
    {7.0, 0, "7"},
    {-INFINITY, 2, "null"},
    {INFINITY, 2, "null"},
    {NAN, 1, "null"},
};

START_TEST(test_json_number)
{
    capture c;
    FILE *f = cap_open(&c);
    cm_json_number(f, json_numbers[_i].v, json_numbers[_i].prec);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, json_numbers[_i].want);
    free(out);
}
END_TEST

/* ---- records ---------------------------------------------------------------------------- */

static cm_episode sample_episode(void)
{
    cm_episode e;
    memset(&e, 0, sizeof e);
    e.id = 3;
    e.cls = CM_CLASS_CRY;
    e.start_s = 61.25;
    e.end_s = 125.5;
    e.duration_s = 64.25;
    e.confidence = 0.875f;
    e.lufs_momentary_max = -18.254;
    e.dba_max = -20.1;
    e.peak_dbfs = -3.0103;
    e.spl_db_max = 79.9;
    e.calibrated = false;
    e.f0_median_hz = 412.46;
    e.excessive = CM_EXCESS_LOUD | CM_EXCESS_LONG;
    e.loud_excess_db = 3.9;
    e.long_excess_s = 4.25;
    return e;
}

/* Silent, unvoiced, not excessive: every non-finite field must print as null. */
static cm_episode silent_episode(void)
{
    cm_episode e;
    memset(&e, 0, sizeof e);
    e.id = 1;
    e.cls = CM_CLASS_SOB;
    e.start_s = 0.0;
    e.end_s = 0.5;
    e.duration_s = 0.5;
    e.confidence = 0.5f;
    e.lufs_momentary_max = -INFINITY;
    e.dba_max = -INFINITY;
    e.peak_dbfs = -INFINITY;
    e.spl_db_max = -INFINITY;
    e.calibrated = true;
    e.f0_median_hz = NAN;
    return e;
}

static cm_summary sample_summary(void)
{
    cm_summary s;
    memset(&s, 0, sizeof s);
    s.duration_s = 3600.0;
    s.frames_read = 172800000;
    s.frames_analyzed = 172800000;
    s.nonfinite_samples = 2;
    s.episodes = 3;
    s.episodes_by_class[CM_CLASS_CRY] = 2;
    s.episodes_by_class[CM_CLASS_VOCAL] = 1;
    s.lufs_integrated = -23.456;
    s.lra_lu = 5.25;
    s.true_peak_dbtp = -1.0;
    s.sample_peak_dbfs = -1.5;
    return s;
}

#define EPISODE_JSON                                                                            \
    "{\"type\":\"episode\",\"id\":3,\"file\":\"day1/room \\\"A\\\".wav\",\"class\":\"cry\","    \
    "\"start_s\":61.250,\"end_s\":125.500,\"duration_s\":64.250,\"confidence\":0.875,"          \
    "\"loudness\":{\"lufs_momentary_max\":-18.25,\"dba_max\":-20.10,\"peak_dbfs\":-3.01,"       \
    "\"spl_db_max\":79.90,\"calibrated\":false},\"pitch\":{\"f0_median_hz\":412.5},"            \
    "\"excessive\":{\"flag\":true,\"reasons\":[\"loud\",\"long\"],\"loud_excess_db\":3.90,"      \
    "\"long_excess_s\":4.250}}\n"

START_TEST(test_jsonl_episode)
{
    cm_episode e = sample_episode();
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_begin(f, CM_FORMAT_JSONL), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_JSONL, "day1/room \"A\".wav", CM_EVENT_END, &e),
                     CM_OK);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, EPISODE_JSON);
    assert_jsonl(out);
    free(out);
}
END_TEST

START_TEST(test_jsonl_kinds_and_nulls)
{
    cm_episode s = silent_episode();
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_JSONL, "a.wav", CM_EVENT_START, &s), CM_OK);
    s.excessive = CM_EXCESS_LONG;
    s.long_excess_s = 0.25;
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_JSONL, "a.wav", CM_EVENT_EXCESSIVE, &s), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_JSONL, NULL, CM_EVENT_END, &s), CM_OK);
    char *out = cap_close(&c);
    const char *want =
        "{\"type\":\"start\",\"id\":1,\"file\":\"a.wav\",\"class\":\"sob\",\"start_s\":0.000,"
        "\"end_s\":0.500,\"duration_s\":0.500,\"confidence\":0.500,\"loudness\":{"
        "\"lufs_momentary_max\":null,\"dba_max\":null,\"peak_dbfs\":null,\"spl_db_max\":null,"
        "\"calibrated\":true},\"pitch\":{\"f0_median_hz\":null},\"excessive\":{\"flag\":false,"
        "\"reasons\":[],\"loud_excess_db\":0.00,\"long_excess_s\":0.000},\"sob\":{\"pulses\":0,"
        "\"pulse_rate_hz\":0.000,\"pulse_cv\":0.000}}\n"
        "{\"type\":\"excessive\",\"id\":1,\"file\":\"a.wav\",\"class\":\"sob\",\"start_s\":0.000,"
        "\"end_s\":0.500,\"duration_s\":0.500,\"confidence\":0.500,\"loudness\":{"
        "\"lufs_momentary_max\":null,\"dba_max\":null,\"peak_dbfs\":null,\"spl_db_max\":null,"
        "\"calibrated\":true},\"pitch\":{\"f0_median_hz\":null},\"excessive\":{\"flag\":true,"
        "\"reasons\":[\"long\"],\"loud_excess_db\":0.00,\"long_excess_s\":0.250},\"sob\":{\"pulses\":0,"
        "\"pulse_rate_hz\":0.000,\"pulse_cv\":0.000}}\n"
        "{\"type\":\"episode\",\"id\":1,\"file\":null,\"class\":\"sob\",\"start_s\":0.000,"
        "\"end_s\":0.500,\"duration_s\":0.500,\"confidence\":0.500,\"loudness\":{"
        "\"lufs_momentary_max\":null,\"dba_max\":null,\"peak_dbfs\":null,\"spl_db_max\":null,"
        "\"calibrated\":true},\"pitch\":{\"f0_median_hz\":null},\"excessive\":{\"flag\":true,"
        "\"reasons\":[\"long\"],\"loud_excess_db\":0.00,\"long_excess_s\":0.250},\"sob\":{\"pulses\":0,"
        "\"pulse_rate_hz\":0.000,\"pulse_cv\":0.000}}\n";
    ck_assert_str_eq(out, want);
    assert_jsonl(out);
    free(out);
}
END_TEST

#define SUMMARY_JSON                                                                            \
    "{\"type\":\"summary\",\"version\":1,\"file\":\"a.wav\",\"duration_s\":3600.000,"           \
    "\"episodes\":3,\"episodes_by_class\":{\"cry\":2,\"sob\":0,\"vocal\":1,\"background\":0},"  \
    "\"lufs_integrated\":-23.46,\"lra_lu\":5.25,\"true_peak_dbtp\":-1.00,"                      \
    "\"sample_peak_dbfs\":-1.50,\"frames_read\":172800000,\"frames_analyzed\":172800000,"       \
    "\"nonfinite_samples\":2,\"overrange_samples\":0}\n"

#define ERROR_JSON                                                                              \
    "{\"type\":\"error\",\"file\":\"gone.wav\",\"message\":\"gone.wav: no such file "           \
    "(expected an audio file path)\"}\n"

START_TEST(test_jsonl_summary_and_error)
{
    cm_summary s = sample_summary();
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_JSONL, "a.wav", &s), CM_OK);
    ck_assert_int_eq(cm_report_error(f, CM_FORMAT_JSONL, "gone.wav",
                                     "gone.wav: no such file (expected an audio file path)"),
                     CM_OK);
    /* Silence: integrated loudness -inf, no true peak measured. */
    s.lufs_integrated = -INFINITY;
    s.lra_lu = 0.0;
    s.true_peak_dbtp = NAN;
    s.sample_peak_dbfs = -INFINITY;
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_JSONL, "quiet.wav", &s), CM_OK);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, SUMMARY_JSON ERROR_JSON
                     "{\"type\":\"summary\",\"version\":1,\"file\":\"quiet.wav\","
                     "\"duration_s\":3600.000,\"episodes\":3,\"episodes_by_class\":{\"cry\":2,"
                     "\"sob\":0,\"vocal\":1,\"background\":0},\"lufs_integrated\":null,"
                     "\"lra_lu\":0.00,\"true_peak_dbtp\":null,\"sample_peak_dbfs\":null,"
                     "\"frames_read\":172800000,\"frames_analyzed\":172800000,"
                     "\"nonfinite_samples\":2,\"overrange_samples\":0}\n");
    assert_jsonl(out);
    free(out);
}
END_TEST

START_TEST(test_jsonl_random_names)
{
    /* Arbitrary byte strings as file names and messages: every line must still be one
     * valid JSON object. Seeded (CM_TEST_SEED) so a failure reproduces. */
    uint64_t st = tu_seed();
    cm_episode e = sample_episode();
    cm_summary s = sample_summary();
    capture c;
    FILE *f = cap_open(&c);
    for (int k = 0; k < 500; k++) {
        char name[64];
        size_t n = (size_t)(tu_rand(&st) % (sizeof name - 1));
        for (size_t i = 0; i < n; i++) {
            unsigned char b = (unsigned char)(tu_rand(&st) % 255 + 1); /* no NUL */
            /* bias towards UTF-8 lead and continuation bytes to hit the tricky paths */
            if (k % 2 && i % 3 == 0) b = (unsigned char)(0xC0 | (b & 0x3F));
            if (k % 2 && i % 3 != 0) b = (unsigned char)(0x80 | (b & 0x3F));
            name[i] = (char)b;
        }
        name[n] = 0;
        ck_assert_int_eq(cm_report_event(f, CM_FORMAT_JSONL, name, (cm_event_kind)(k % 3), &e),
                         CM_OK);
        ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_JSONL, name, &s), CM_OK);
        ck_assert_int_eq(cm_report_error(f, CM_FORMAT_JSONL, name, name), CM_OK);
    }
    char *out = cap_close(&c);
    assert_jsonl(out);
    free(out);
}
END_TEST

/* ---- CSV, Audacity, table ------------------------------------------------------------------ */

#define CSV_HEADER                                                                              \
    "file,id,class,start_s,end_s,duration_s,confidence,lufs_momentary_max,dba_max,peak_dbfs,"  \
    "spl_db_max,calibrated,f0_median_hz,excessive,reasons,bursts,inhalations,burst_rate_hz,"     \
    "regularity_cv,rhythm,f0_range_st,rise_fall_share,effort_db,intensity,sob_s,sob_pulses,"     \
    "sob_pulse_rate_hz,sob_pulse_cv\n"

START_TEST(test_csv)
{
    cm_episode e = sample_episode();
    cm_episode q = silent_episode();
    cm_summary s = sample_summary();
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_begin(f, CM_FORMAT_CSV), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_CSV, "a,\"b\".wav", CM_EVENT_END, &e), CM_OK);
    /* not rows: start / excessive notices, summaries, errors */
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_CSV, "x.wav", CM_EVENT_START, &e), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_CSV, "x.wav", CM_EVENT_EXCESSIVE, &e), CM_OK);
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_CSV, "x.wav", &s), CM_OK);
    ck_assert_int_eq(cm_report_error(f, CM_FORMAT_CSV, "x.wav", "boom"), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_CSV, "two\nlines.wav", CM_EVENT_END, &q), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_CSV, "plain.wav", CM_EVENT_END, &q), CM_OK);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, CSV_HEADER
                     "\"a,\"\"b\"\".wav\",3,cry,61.250,125.500,64.250,0.875,-18.25,-20.10,-3.01,"
                     "79.90,false,412.5,true,loud+long,,,,,,,,,,,,,\n"
                     "\"two\nlines.wav\",1,sob,0.000,0.500,0.500,0.500,,,,,true,,false,"
                     ",,,,,,,,,,,0,0.000,0.000\n"
                     "plain.wav,1,sob,0.000,0.500,0.500,0.500,,,,,true,,false,,,,,,,,,,,,0,0.000,"
                     "0.000\n");
    free(out);
}
END_TEST

/* An episode with its shape: JSONL carries a valid "shape" object, CSV the shape columns,
 * Audacity a label per burst and per rhythm stretch. */
START_TEST(test_shape_fields)
{
    cm_shape_result r;
    memset(&r, 0, sizeof r);
    r.start_s = 1.0;
    r.end_s = 5.0;
    r.n_bursts = 2;
    r.n_inhalations = 1;
    r.n_listed = 3;
    r.burst[0] = (cm_shape_burst){1.0, 2.0, CM_BURST_CRY, CM_CONTOUR_RISE_FALL, 450.0f, 5.5f,
                                  -20.0f, -12.0f};
    r.burst[1] = (cm_shape_burst){2.1, 2.3, CM_BURST_INHALE, CM_CONTOUR_NONE, NAN, NAN, -30.0f,
                                  NAN};
    r.burst[2] = (cm_shape_burst){2.5, 3.9, CM_BURST_CRY, CM_CONTOUR_FALL, 430.0f, 3.0f, -21.0f,
                                  -13.0f};
    r.burst_rate_hz = 0.667;
    r.regularity_cv = NAN;
    r.rhythm = CM_RHYTHM_IRREGULAR;
    r.rhythm_s[0] = 4.0;
    r.n_stretches = 1;
    r.stretch[0] = (cm_shape_stretch){1.0, 5.0, CM_RHYTHM_IRREGULAR};
    r.f0_median_hz = 440.0;
    r.f0_p10_hz = 420.0;
    r.f0_p90_hz = 470.0;
    r.f0_range_st = 1.9;
    r.contour_count[CM_CONTOUR_RISE_FALL] = 1;
    r.contour_count[CM_CONTOUR_FALL] = 1;
    r.rise_fall_share = 0.5;
    r.effort_db = -12.5;
    r.intensity = CM_INTENSITY_INTENSE;
    r.n_sob = 1;
    r.sob[0] = (cm_shape_span){2.0, 4.0};
    r.sob_s = 2.0;
    cm_episode e = sample_episode();
    e.shape = &r;
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_JSONL, "a.wav", CM_EVENT_END, &e), CM_OK);
    char *out = cap_close(&c);
    assert_jsonl(out);
    ck_assert_ptr_nonnull(strstr(out, ",\"shape\":{\"bursts\":2,\"inhalations\":1,\"other_bursts\":0,"
                                      "\"burst_rate_hz\":0.667,\"regularity_cv\":null,"));
    ck_assert_ptr_nonnull(strstr(out, "\"intensity\":{\"effort_db\":-12.50,\"label\":\"intense\"}"));
    ck_assert_ptr_nonnull(strstr(out, "\"sob_stretches\":[[2.000,4.000]]"));
    ck_assert_ptr_nonnull(strstr(out, "[2.100,2.300,\"inhale\",\"none\",null,null]"));
    free(out);

    f = cap_open(&c);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_CSV, "a.wav", CM_EVENT_END, &e), CM_OK);
    out = cap_close(&c);
    ck_assert_ptr_nonnull(strstr(out, ",loud+long,2,1,0.667,,irregular,1.9,0.500,-12.50,intense,"
                                      "2.000,,,\n"));
    free(out);

    f = cap_open(&c);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_AUDACITY, "a.wav", CM_EVENT_END, &e), CM_OK);
    out = cap_close(&c);
    ck_assert_ptr_nonnull(strstr(out, "1.000000\t2.000000\tburst: cry\n2.100000\t2.300000\t"
                                      "burst: inhale\n"));
    ck_assert_ptr_nonnull(strstr(out, "1.000000\t5.000000\trhythm: irregular\n"));
    free(out);
}
END_TEST

START_TEST(test_audacity)
{
    cm_episode e = sample_episode();
    cm_episode q = silent_episode();
    cm_summary s = sample_summary();
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_begin(f, CM_FORMAT_AUDACITY), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_AUDACITY, "a.wav", CM_EVENT_START, &e), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_AUDACITY, "a.wav", CM_EVENT_END, &e), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_AUDACITY, "a.wav", CM_EVENT_END, &q), CM_OK);
    e.excessive = CM_EXCESS_LOUD;
    e.start_s = 1.0 / 3.0;
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_AUDACITY, "a.wav", CM_EVENT_END, &e), CM_OK);
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_AUDACITY, "a.wav", &s), CM_OK);
    ck_assert_int_eq(cm_report_error(f, CM_FORMAT_AUDACITY, "a.wav", "boom"), CM_OK);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, "61.250000\t125.500000\tcry (excessive: loud+long)\n"
                          "0.000000\t0.500000\tsob\n"
                          "0.333333\t125.500000\tcry (excessive: loud)\n");
    free(out);
}
END_TEST

/* RTTM: END episodes only, background never; the file id is the base name without its
 * extension with whitespace as '_' (a field of a whitespace-separated line), UTF-8 kept;
 * standard input is "stdin"; a non-finite time writes no line. */
START_TEST(test_rttm)
{
    cm_episode e = sample_episode();
    cm_episode q = silent_episode();
    cm_summary s = sample_summary();
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_begin(f, CM_FORMAT_RTTM), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_RTTM, "/rec/a b\tc.night.wav", CM_EVENT_START,
                                     &e), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_RTTM, "/rec/a b\tc.night.wav", CM_EVENT_END, &e),
                     CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_RTTM, "nuit \xc3\xa9t\xc3\xa9.flac",
                                     CM_EVENT_END, &q), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_RTTM, NULL, CM_EVENT_END, &q), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_RTTM, "-", CM_EVENT_END, &q), CM_OK);
    cm_episode b = q;
    b.cls = CM_CLASS_BACKGROUND;
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_RTTM, "a.wav", CM_EVENT_END, &b), CM_OK);
    b = q;
    b.end_s = NAN;
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_RTTM, "a.wav", CM_EVENT_END, &b), CM_OK);
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_RTTM, "a.wav", &s), CM_OK);
    ck_assert_int_eq(cm_report_error(f, CM_FORMAT_RTTM, "a.wav", "boom"), CM_OK);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, "SPEAKER a_b_c.night 1 61.250 64.250 <NA> <NA> cry <NA> <NA>\n"
                          "SPEAKER nuit_\xc3\xa9t\xc3\xa9 1 0.000 0.500 <NA> <NA> sob <NA> <NA>\n"
                          "SPEAKER stdin 1 0.000 0.500 <NA> <NA> sob <NA> <NA>\n"
                          "SPEAKER stdin 1 0.000 0.500 <NA> <NA> sob <NA> <NA>\n");
    free(out);
    cm_format fmt;
    ck_assert_int_eq(cm_format_parse("rttm", &fmt), 0);
    ck_assert_int_eq(fmt, CM_FORMAT_RTTM);
}
END_TEST

/* TextGrid: a tier per class and one of excessive reasons, each tiling 0..duration; spans
 * sorted by start, overlaps clipped, background, NaN and zero-length spans left out. */
START_TEST(test_textgrid)
{
    cm_episode e = sample_episode(); /* cry 61.25..125.5, loud+long */
    cm_episode q = silent_episode(); /* sob 0..0.5 */
    cm_doc d = {0};
    ck_assert_int_eq(cm_doc_add(&d, &e), CM_OK);
    ck_assert_int_eq(cm_doc_add(&d, &q), CM_OK);
    cm_episode o = e; /* a cry overlapping the first: clipped to start at 125.5 */
    o.start_s = 100.0, o.end_s = 130.0, o.excessive = 0;
    ck_assert_int_eq(cm_doc_add(&d, &o), CM_OK);
    cm_episode b = q;
    b.cls = CM_CLASS_BACKGROUND;
    ck_assert_int_eq(cm_doc_add(&d, &b), CM_OK);
    b = q;
    b.end_s = NAN;
    ck_assert_int_eq(cm_doc_add(&d, &b), CM_OK);
    ck_assert_uint_eq(d.n, 3);
    ck_assert(cm_format_is_document(CM_FORMAT_TEXTGRID) && !cm_format_is_document(CM_FORMAT_RTTM));
    capture c;
    FILE *f = cap_open(&c);
    /* The events and the summary write nothing for a document format. */
    ck_assert_int_eq(cm_report_begin(f, CM_FORMAT_TEXTGRID), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_TEXTGRID, "a.wav", CM_EVENT_END, &e), CM_OK);
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_TEXTGRID, "a.wav", &(cm_summary){0}), CM_OK);
    ck_assert_int_eq(cm_report_document(f, CM_FORMAT_TEXTGRID, "a.wav", 200.0, &d), CM_OK);
    char *out = cap_close(&c);
    ck_assert_ptr_nonnull(strstr(out, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n"
                                      "xmin = 0\nxmax = 200.000\ntiers? <exists>\nsize = 4\n"));
    ck_assert_ptr_nonnull(strstr(out, "        name = \"cry\"\n        xmin = 0\n        xmax = "
                                      "200.000\n        intervals: size = 4\n"
                                      "        intervals [1]:\n            xmin = 0.000\n"
                                      "            xmax = 61.250\n            text = \"\"\n"
                                      "        intervals [2]:\n            xmin = 61.250\n"
                                      "            xmax = 125.500\n            text = \"cry\"\n"
                                      "        intervals [3]:\n            xmin = 125.500\n"
                                      "            xmax = 130.000\n            text = \"cry\"\n"
                                      "        intervals [4]:\n            xmin = 130.000\n"
                                      "            xmax = 200.000\n            text = \"\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "        name = \"sob\"\n        xmin = 0\n        xmax = "
                                      "200.000\n        intervals: size = 2\n"
                                      "        intervals [1]:\n            xmin = 0.000\n"
                                      "            xmax = 0.500\n            text = \"sob\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "        name = \"vocal\"\n        xmin = 0\n        xmax = "
                                      "200.000\n        intervals: size = 1\n"));
    ck_assert_ptr_nonnull(strstr(out, "        name = \"excessive\"\n        xmin = 0\n"
                                      "        xmax = 200.000\n        intervals: size = 3\n"));
    ck_assert_ptr_nonnull(strstr(out, "            xmax = 125.500\n            text = \"loud+long\"\n"));
    free(out);
    /* Nothing at all in a recording of unknown length: one empty interval of 1 ms per tier. */
    cm_doc none = {0};
    f = cap_open(&c);
    ck_assert_int_eq(cm_report_document(f, CM_FORMAT_TEXTGRID, NULL, NAN, &none), CM_OK);
    out = cap_close(&c);
    ck_assert_ptr_nonnull(strstr(out, "xmax = 0.001\ntiers? <exists>\nsize = 4\n"));
    ck_assert_ptr_nonnull(strstr(out, "intervals: size = 1\n        intervals [1]:\n"
                                      "            xmin = 0.000\n            xmax = 0.001\n"));
    free(out);
    ck_assert_int_eq(cm_report_document(stdout, CM_FORMAT_JSONL, NULL, 1.0, &none), CM_E_INVAL);

    /* EAF of the same spans: slots in ascending order, the overlapping cry clipped to start
     * where the first ends, the excessive tier; the media named with %-encoding and XML
     * escapes; no media for standard input. */
    f = cap_open(&c);
    ck_assert_int_eq(cm_report_document(f, CM_FORMAT_EAF, "/rec/a b&\xc3\xa9.wav", 200.0, &d),
                     CM_OK);
    out = cap_close(&c);
    ck_assert_ptr_nonnull(strstr(out, "<MEDIA_DESCRIPTOR MEDIA_URL=\"file:///rec/a%20b%26%C3%A9.wav\" "
                                      "MIME_TYPE=\"audio/x-wav\" RELATIVE_MEDIA_URL=\"./a%20b%26%C3%A9.wav\"/>"));
    ck_assert_ptr_nonnull(strstr(out, "<TIME_SLOT TIME_SLOT_ID=\"ts1\" TIME_VALUE=\"0\"/>\n"
                                      "        <TIME_SLOT TIME_SLOT_ID=\"ts2\" TIME_VALUE=\"500\"/>\n"
                                      "        <TIME_SLOT TIME_SLOT_ID=\"ts3\" TIME_VALUE=\"61250\"/>\n"
                                      "        <TIME_SLOT TIME_SLOT_ID=\"ts4\" TIME_VALUE=\"61250\"/>\n"));
    ck_assert_ptr_nonnull(strstr(out, "TIME_VALUE=\"130000\"/>\n    </TIME_ORDER>\n"));
    ck_assert_ptr_nonnull(strstr(out, "<TIER LINGUISTIC_TYPE_REF=\"crymeter\" TIER_ID=\"excessive\">\n"
                                      "        <ANNOTATION>\n            <ALIGNABLE_ANNOTATION "
                                      "ANNOTATION_ID=\"a4\""));
    ck_assert_ptr_nonnull(strstr(out, "<ANNOTATION_VALUE>loud+long</ANNOTATION_VALUE>"));
    ck_assert_ptr_nonnull(strstr(out, "<PROPERTY NAME=\"lastUsedAnnotationId\">4</PROPERTY>"));
    ck_assert_ptr_nonnull(strstr(out, "</ANNOTATION_DOCUMENT>\n"));
    free(out);
    f = cap_open(&c);
    ck_assert_int_eq(cm_report_document(f, CM_FORMAT_EAF, "-", 1.0, &none), CM_OK);
    out = cap_close(&c);
    ck_assert_ptr_null(strstr(out, "MEDIA_DESCRIPTOR"));
    ck_assert_ptr_nonnull(strstr(out, "<TIME_ORDER>\n    </TIME_ORDER>\n"));
    free(out);
    cm_doc_free(&d);
    ck_assert_ptr_null(d.v);
}
END_TEST

START_TEST(test_table)
{
    cm_episode e = sample_episode();
    cm_episode q = silent_episode();
    cm_summary s = sample_summary();
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_begin(f, CM_FORMAT_TABLE), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_TABLE, "a.wav", CM_EVENT_START, &e), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_TABLE, "a.wav", CM_EVENT_EXCESSIVE, &e), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_TABLE, "a.wav", CM_EVENT_END, &e), CM_OK);
    q.start_s = 3599.96; /* rounds up to the next hour */
    q.end_s = 3600.46;
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_TABLE, "esc\x1b[2J.wav", CM_EVENT_END, &q),
                     CM_OK);
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_TABLE, "a.wav", &s), CM_OK);
    s.episodes = 1;
    memset(s.episodes_by_class, 0, sizeof s.episodes_by_class);
    s.episodes_by_class[CM_CLASS_SOB] = 1;
    s.lufs_integrated = -INFINITY;
    s.true_peak_dbtp = NAN;
    s.nonfinite_samples = 0;
    s.frames_analyzed = 100;
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_TABLE, "b.wav", &s), CM_OK);
    ck_assert_int_eq(cm_report_error(f, CM_FORMAT_TABLE, "gone.wav", "no such file"), CM_OK);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_TABLE, NULL, CM_EVENT_START, &q), CM_OK);
    char *out = cap_close(&c);
    const char *want =
        "class            start         end    dur s LUFS max  dB(A) SPL   f0 Hz  excessive  file\n"
        "(* = uncalibrated SPL: assumes 0 dB re full scale = 100 dB SPL)\n"
        "a.wav: cry started at 0:01:01.3 (episode 3)\n"
        "a.wav: cry since 0:01:01.3 is excessive at 0:02:05.5: loud 79.9 dB(A) SPL* (+3.9 dB),"
        " long (+4.2 s)\n"
        "cry          0:01:01.3   0:02:05.5    64.25    -18.3      79.9*     412  loud+long  "
        "a.wav\n"
        "sob          1:00:00.0   1:00:00.5     0.50     -inf       -inf       -  -          "
        "esc?[2J.wav\n"
        "a.wav: 1:00:00.0, 3 episodes (cry 2, vocal 1), integrated -23.5 LUFS, LRA 5.2 LU, true "
        "peak -1.0 dBTP, 2 non-finite samples zeroed\n"
        "b.wav: 1:00:00.0, 1 episode (sob 1), integrated -inf LUFS, LRA 5.2 LU, true peak - dBTP, "
        "100 of 172800000 frames analysed\n"
        "gone.wav: ERROR no such file\n"
        "sob started at 1:00:00.0 (episode 1)\n";
    ck_assert_str_eq(out, want);
    free(out);
}
END_TEST

/* ---- write errors ------------------------------------------------------------------------ */

typedef enum { W_BEGIN, W_END, W_START, W_SUMMARY, W_ERROR } what;

static const struct {
    cm_format fmt;
    what w;
} full_cases[] = {
    {CM_FORMAT_JSONL, W_END},     {CM_FORMAT_JSONL, W_START},  {CM_FORMAT_JSONL, W_SUMMARY},
    {CM_FORMAT_JSONL, W_ERROR},   {CM_FORMAT_CSV, W_BEGIN},    {CM_FORMAT_CSV, W_END},
    {CM_FORMAT_AUDACITY, W_END},  {CM_FORMAT_TABLE, W_BEGIN},  {CM_FORMAT_TABLE, W_END},
    {CM_FORMAT_TABLE, W_START},   {CM_FORMAT_TABLE, W_SUMMARY}, {CM_FORMAT_TABLE, W_ERROR},
};

static cm_status write_one(FILE *f, cm_format fmt, what w)
{
    cm_episode e = sample_episode();
    cm_summary s = sample_summary();
    switch (w) {
    case W_BEGIN: return cm_report_begin(f, fmt);
    case W_END: return cm_report_event(f, fmt, "a.wav", CM_EVENT_END, &e);
    case W_START: return cm_report_event(f, fmt, "a.wav", CM_EVENT_START, &e);
    case W_SUMMARY: return cm_report_summary(f, fmt, "a.wav", &s);
    case W_ERROR: return cm_report_error(f, fmt, "a.wav", "boom");
    }
    return CM_E_INVAL;
}

START_TEST(test_dev_full)
{
    /* Fully buffered on purpose: the reporter must flush to see the error. */
    FILE *f = fopen("/dev/full", "w");
    ck_assert_msg(f != NULL, "/dev/full is needed for this test");
    ck_assert_int_eq(write_one(f, full_cases[_i].fmt, full_cases[_i].w), CM_E_IO);
    fclose(f);
}
END_TEST

START_TEST(test_args)
{
    cm_episode e = sample_episode();
    cm_summary s = sample_summary();
    capture c;
    FILE *f = cap_open(&c);
    ck_assert_int_eq(cm_report_begin(NULL, CM_FORMAT_JSONL), CM_E_INVAL);
    ck_assert_int_eq(cm_report_begin(f, (cm_format)7), CM_E_INVAL);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_JSONL, "a", CM_EVENT_END, NULL), CM_E_INVAL);
    ck_assert_int_eq(cm_report_event(f, CM_FORMAT_JSONL, "a", (cm_event_kind)9, &e), CM_E_INVAL);
    ck_assert_int_eq(cm_report_summary(f, CM_FORMAT_JSONL, "a", NULL), CM_E_INVAL);
    ck_assert_int_eq(cm_report_summary(NULL, CM_FORMAT_JSONL, "a", &s), CM_E_INVAL);
    ck_assert_int_eq(cm_report_error(f, (cm_format)-1, "a", "m"), CM_E_INVAL);
    char *out = cap_close(&c);
    ck_assert_str_eq(out, ""); /* nothing written on a rejected call */
    free(out);
}
END_TEST

static const struct {
    const char *name;
    int ok;
    cm_format fmt;
} format_cases[] = {
    {"table", 0, CM_FORMAT_TABLE}, {"jsonl", 0, CM_FORMAT_JSONL},
    {"csv", 0, CM_FORMAT_CSV},     {"audacity", 0, CM_FORMAT_AUDACITY},
    {"json", -1, CM_FORMAT_TABLE}, {"", -1, CM_FORMAT_TABLE},
    {"CSV ", -1, CM_FORMAT_TABLE}, {NULL, -1, CM_FORMAT_TABLE},
};

START_TEST(test_format_parse)
{
    cm_format got = (cm_format)99;
    ck_assert_int_eq(cm_format_parse(format_cases[_i].name, &got), format_cases[_i].ok);
    if (format_cases[_i].ok == 0)
        ck_assert_int_eq(got, format_cases[_i].fmt);
    else
        ck_assert_int_eq(got, 99); /* untouched on failure */
}
END_TEST

START_TEST(test_class_names)
{
    static const char *const names[CM_N_CLASSES] = {"background", "vocal", "cry", "sob"};
    for (int i = 0; i < CM_N_CLASSES; i++) {
        ck_assert_str_eq(cm_class_name((cm_class)i), names[i]);
        cm_class c = CM_N_CLASSES;
        ck_assert_int_eq(cm_class_parse(names[i], &c), 0);
        ck_assert_int_eq(c, i);
    }
    cm_class c = CM_CLASS_SOB;
    ck_assert_int_eq(cm_class_parse("Cry", &c), 0);
    ck_assert_int_eq(c, CM_CLASS_CRY);
    ck_assert_str_eq(cm_class_name(CM_N_CLASSES), "?");
    ck_assert_str_eq(cm_class_name((cm_class)-1), "?");
    ck_assert_int_eq(cm_class_parse("cries", &c), -1);
    ck_assert_int_eq(cm_class_parse("cr", &c), -1);
    ck_assert_int_eq(cm_class_parse("", &c), -1);
    ck_assert_int_eq(cm_class_parse(NULL, &c), -1);
    ck_assert_int_eq(c, CM_CLASS_CRY);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tj = tcase_create("json");
    tcase_add_test(tj, test_validator_self_check);
    tcase_add_loop_test(tj, test_json_string, 0,
                        (int)(sizeof json_strings / sizeof json_strings[0]));
    tcase_add_test(tj, test_json_string_null);
    tcase_add_loop_test(tj, test_json_number, 0,
                        (int)(sizeof json_numbers / sizeof json_numbers[0]));
    tcase_add_test(tj, test_jsonl_episode);
    tcase_add_test(tj, test_jsonl_kinds_and_nulls);
    tcase_add_test(tj, test_jsonl_summary_and_error);
    tcase_add_test(tj, test_jsonl_random_names);
    suite_add_tcase(s, tj);
    TCase *to = tcase_create("other");
    tcase_add_test(to, test_csv);
    tcase_add_test(to, test_shape_fields);
    tcase_add_test(to, test_audacity);
    tcase_add_test(to, test_rttm);
    tcase_add_test(to, test_textgrid);
    tcase_add_test(to, test_table);
    tcase_add_loop_test(to, test_dev_full, 0, (int)(sizeof full_cases / sizeof full_cases[0]));
    tcase_add_test(to, test_args);
    tcase_add_loop_test(to, test_format_parse, 0,
                        (int)(sizeof format_cases / sizeof format_cases[0]));
    tcase_add_test(to, test_class_names);
    suite_add_tcase(s, to);
    return s;
}

int main(void)
{
    tu_seed();
    SRunner *sr = srunner_create(report_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
