/* SPDX-License-Identifier: MIT */
/* The scripted capture source (see include/crymeter/capture_script.h). One delivery thread
 * runs the script: it writes hop-sized blocks to the sink when the ring has room for them
 * (so nothing is dropped unless a `burst` says so), and waits on a condition variable,
 * never on the clock, in the commands that deliver nothing. */
#include "crymeter/capture_script.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "crymeter/textfile.h"

typedef enum {
    OP_AUDIO, OP_TONE, OP_SILENCE, OP_NAN, OP_OVERFLOW, OP_BURST, OP_PAUSE, OP_STALL, OP_HANG,
    OP_ERROR, OP_VANISH, OP_END, OP_WAIT, OP_MARK
} op_kind;

typedef struct op {
    op_kind kind;
    double seconds; /* audio: < 0 for all of it */
    double hz, dbfs;
    char *text;     /* audio: path; error: message */
} op;

/* What the control thread sees of the delivery thread. */
enum { ST_RUNNING = 0, ST_ENDED, ST_FAILED };

typedef struct script_source {
    cm_capture_source base; /* first */
    char origin[256];
    op *ops;
    size_t n_ops;
    cm_capture_sink *sink;
    unsigned rate, channels, hop;
    float *block;           /* hop * channels */
    pthread_t th;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool quit;              /* under lock: abort asked */
    _Atomic int state;
    char fail_msg[320];     /* written before state becomes ST_FAILED (release) */
    /* The clock: delivered frames, plus stall time once stalled. */
    _Atomic uint64_t frames;
    _Atomic int stalled;    /* 0, or 1 after stall_t0 / stall_real0 are set (release) */
    double stall_t0, stall_real0;
} script_source;

/* How much faster than real time a stalled device's clock runs: stall detection fires in
 * stall_s / 20 of real time (150 ms for the default 3 s), and never earlier, since the
 * clock only starts to run once the script has stopped delivering. */
#define STALL_CLOCK_SPEED 20.0

static double real_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool quitting(script_source *s)
{
    pthread_mutex_lock(&s->lock);
    bool q = s->quit;
    pthread_mutex_unlock(&s->lock);
    return q;
}

/* Waits about a millisecond, or less when abort comes. */
static void nap(script_source *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    if (!s->quit) pthread_cond_timedwait(&s->wake, &s->lock, &until);
    pthread_mutex_unlock(&s->lock);
}

/* Writes k frames of s->block once the ring has room for them. False when aborted. */
static bool put(script_source *s, size_t k)
{
    while (cm_capture_sink_space(s->sink) < k) {
        if (quitting(s)) return false;
        nap(s);
    }
    if (quitting(s)) return false;
    cm_capture_sink_write(s->sink, s->block, k);
    atomic_fetch_add_explicit(&s->frames, k, memory_order_release);
    return true;
}

/* Blocks until abort (hang: for good). */
static void wait_quit(script_source *s, bool forever)
{
    pthread_mutex_lock(&s->lock);
    while (forever || !s->quit) pthread_cond_wait(&s->wake, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

static void set_failed(script_source *s, const char *msg)
{
    snprintf(s->fail_msg, sizeof s->fail_msg, "%s", msg);
    atomic_store_explicit(&s->state, ST_FAILED, memory_order_release);
}

static void start_stall_clock(script_source *s)
{
    s->stall_t0 = (double)atomic_load_explicit(&s->frames, memory_order_acquire) / s->rate;
    s->stall_real0 = real_now();
    atomic_store_explicit(&s->stalled, 1, memory_order_release);
}

/* Delivers n frames made by fill(s, first_frame_of_block, k); false when aborted. */
static bool deliver_gen(script_source *s, uint64_t n, const op *o)
{
    uint64_t done = 0;
    size_t ch = s->channels;
    double a = pow(10.0, o->dbfs / 20.0), w = 2.0 * M_PI * o->hz / s->rate;
    while (done < n) {
        size_t k = n - done < s->hop ? (size_t)(n - done) : s->hop;
        for (size_t i = 0; i < k; i++) {
            float v = 0.0f;
            if (o->kind == OP_TONE) v = (float)(a * sin(w * (double)(done + i)));
            else if (o->kind == OP_NAN) v = NAN;
            for (size_t c = 0; c < ch; c++) s->block[i * ch + c] = v;
        }
        if (!put(s, k)) return false;
        done += k;
    }
    return true;
}

static bool deliver_file(script_source *s, const op *o)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(o->text, SFM_READ, &info);
    if (!f) {
        char m[256];
        snprintf(m, sizeof m, "%s: %s", o->text, sf_strerror(NULL));
        set_failed(s, m);
        return false;
    }
    uint64_t left = o->seconds < 0 ? UINT64_MAX : (uint64_t)llround(o->seconds * s->rate);
    bool ok = true;
    while (left > 0) {
        size_t want = left < s->hop ? (size_t)left : s->hop;
        sf_count_t k = sf_readf_float(f, s->block, (sf_count_t)want);
        if (k <= 0) break;
        if (!put(s, (size_t)k)) {
            ok = false;
            break;
        }
        left -= (uint64_t)k;
    }
    sf_close(f);
    return ok;
}

static void *script_main(void *arg)
{
    script_source *s = arg;
    for (size_t i = 0; i < s->n_ops; i++) {
        const op *o = &s->ops[i];
        switch (o->kind) {
        case OP_AUDIO:
            if (!deliver_file(s, o)) goto out;
            break;
        case OP_TONE:
        case OP_SILENCE:
        case OP_NAN:
            if (!deliver_gen(s, (uint64_t)llround(o->seconds * s->rate), o)) goto out;
            break;
        case OP_OVERFLOW: cm_capture_sink_overflow(s->sink); break;
        case OP_BURST: {
            /* One write larger than the ring can hold: the excess is dropped whatever the
             * worker does meanwhile. */
            uint64_t n = (uint64_t)llround(o->seconds * s->rate);
            float *big = calloc((size_t)n * s->channels, sizeof *big);
            if (!big) {
                set_failed(s, "burst: out of memory");
                goto out;
            }
            cm_capture_sink_write(s->sink, big, (size_t)n);
            atomic_fetch_add_explicit(&s->frames, n, memory_order_release);
            free(big);
            break;
        }
        case OP_PAUSE: wait_quit(s, false); goto out;
        case OP_STALL: start_stall_clock(s); wait_quit(s, false); goto out;
        case OP_HANG: start_stall_clock(s); wait_quit(s, true); goto out;
        case OP_ERROR: set_failed(s, o->text); wait_quit(s, false); goto out;
        case OP_VANISH:
            set_failed(s, "device unavailable (unplugged?)");
            wait_quit(s, false);
            goto out;
        case OP_WAIT:
            /* The clock stops (no frames), so waiting is never a stall. */
            while (access(o->text, F_OK) != 0) {
                if (quitting(s)) goto out;
                nap(s);
            }
            break;
        case OP_MARK: {
            FILE *f = fopen(o->text, "w");
            if (!f || fclose(f) != 0) {
                char m[300];
                snprintf(m, sizeof m, "mark %s: cannot create it", o->text);
                set_failed(s, m);
                goto out;
            }
            break;
        }
        case OP_END: goto end;
        }
    }
end:
    atomic_store_explicit(&s->state, ST_ENDED, memory_order_release);
    wait_quit(s, false);
out:
    return NULL;
}

/* ---- cm_capture_source_ops -------------------------------------------------------------- */

static cm_status sc_open(cm_capture_source *src, cm_capture_sink *sink, unsigned rate,
                         unsigned channels, unsigned hop, cm_diag *why)
{
    script_source *s = (script_source *)src;
    for (size_t i = 0; i < s->n_ops; i++) {
        if (s->ops[i].kind != OP_AUDIO) continue;
        SF_INFO info;
        memset(&info, 0, sizeof info);
        SNDFILE *f = sf_open(s->ops[i].text, SFM_READ, &info);
        if (!f)
            return cm_diag_fail(why, CM_E_IO, "%s: audio %s: %s", s->origin, s->ops[i].text,
                                sf_strerror(NULL));
        sf_close(f);
        if ((unsigned)info.samplerate != rate || (unsigned)info.channels != channels)
            return cm_diag_fail(why, CM_E_RANGE,
                                "%s: audio %s is %d Hz, %d channel(s); the stream is %u Hz, "
                                "%u channel(s)",
                                s->origin, s->ops[i].text, info.samplerate, info.channels, rate,
                                channels);
    }
    s->sink = sink;
    s->rate = rate;
    s->channels = channels;
    s->hop = hop;
    s->block = malloc((size_t)hop * channels * sizeof(float));
    if (!s->block) return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    return CM_OK;
}

static cm_status sc_start(cm_capture_source *src, cm_diag *why)
{
    script_source *s = (script_source *)src;
    if (pthread_create(&s->th, NULL, script_main, s) != 0)
        return cm_diag_fail(why, CM_E_NOMEM, "%s: cannot start its thread", s->origin);
    s->started = true;
    return CM_OK;
}

static cm_source_state sc_state(cm_capture_source *src, cm_diag *why)
{
    script_source *s = (script_source *)src;
    int st = atomic_load_explicit(&s->state, memory_order_acquire);
    if (st == ST_FAILED) {
        cm_diag_fail(why, CM_E_IO, "%s", s->fail_msg);
        return CM_SOURCE_FAILED;
    }
    return st == ST_ENDED ? CM_SOURCE_ENDED : CM_SOURCE_RUNNING;
}

static cm_status sc_abort(cm_capture_source *src, cm_diag *why)
{
    (void)why;
    script_source *s = (script_source *)src;
    pthread_mutex_lock(&s->lock);
    s->quit = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (s->started) pthread_join(s->th, NULL); /* `hang`: never returns, as asked */
    s->started = false;
    return CM_OK;
}

static void sc_close(cm_capture_source *src)
{
    script_source *s = (script_source *)src;
    if (s->started) {
        cm_status ignored = sc_abort(src, NULL);
        (void)ignored;
    }
    for (size_t i = 0; i < s->n_ops; i++) free(s->ops[i].text);
    free(s->ops);
    free(s->block);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

static double sc_now(cm_capture_source *src)
{
    script_source *s = (script_source *)src;
    if (atomic_load_explicit(&s->stalled, memory_order_acquire))
        return s->stall_t0 + (real_now() - s->stall_real0) * STALL_CLOCK_SPEED;
    return (double)atomic_load_explicit(&s->frames, memory_order_acquire) / (s->rate ? s->rate : 1);
}

static const cm_capture_source_ops script_ops = {sc_open, sc_start, sc_state,
                                                 sc_abort, sc_close, sc_now};

/* ---- parsing ------------------------------------------------------------------------ */

static bool parse_num(const char *tok, double lo, double hi, double *out)
{
    if (!tok) return false;
    char *end;
    double v = strtod(tok, &end);
    if (end == tok || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

cm_status cm_capture_script_parse(const char *text, const char *origin, cm_capture_source **out,
                                  cm_diag *why)
{
    if (!out || !text) return CM_E_INVAL;
    *out = NULL;
    if (!origin) origin = "script";
    script_source *s = calloc(1, sizeof *s);
    char *copy = strdup(text);
    if (!s || !copy) {
        free(s);
        free(copy);
        return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    }
    s->base.ops = &script_ops;
    snprintf(s->base.name, sizeof s->base.name, "script");
    snprintf(s->origin, sizeof s->origin, "%s", origin);
    s->base.max_channels = 2;
    s->base.default_rate_hz = 16000;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    atomic_init(&s->state, ST_RUNNING);
    atomic_init(&s->frames, 0);
    atomic_init(&s->stalled, 0);

    cm_status st = CM_OK;
    size_t cap = 0, line_no = 0;
    char *next = copy;
    while (*next) {
        char *line = next, *nl = strchr(next, '\n');
        if (nl) {
            *nl = 0;
            next = nl + 1;
        } else {
            next += strlen(next);
        }
        line_no++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *save = NULL;
        char *cmd = strtok_r(line, " \t\r", &save);
        if (!cmd) continue;
        /* The rest of the line, for name and error (spaces kept, ends trimmed). */
        char *rest = save ? save : (char *)"";
        while (*rest == ' ' || *rest == '\t') rest++;
        char rest_copy[256];
        snprintf(rest_copy, sizeof rest_copy, "%s", rest);
        for (size_t k = strlen(rest_copy); k > 0 && isspace((unsigned char)rest_copy[k - 1]); k--)
            rest_copy[k - 1] = 0;
        char *a1 = strtok_r(NULL, " \t\r", &save), *a2 = strtok_r(NULL, " \t\r", &save),
             *a3 = strtok_r(NULL, " \t\r", &save), *a4 = strtok_r(NULL, " \t\r", &save);
        op o;
        memset(&o, 0, sizeof o);
        o.dbfs = -20.0;
        o.seconds = -1.0;
        double v;
        bool ok = true, is_op = true;
        if (!strcmp(cmd, "name")) {
            ok = rest_copy[0] != 0;
            snprintf(s->base.name, sizeof s->base.name, "%s", rest_copy);
            is_op = false;
        } else if (!strcmp(cmd, "rate")) {
            ok = !a2 && parse_num(a1, 8000, 192000, &v);
            if (ok) s->base.default_rate_hz = (unsigned)v;
            is_op = false;
        } else if (!strcmp(cmd, "channels")) {
            ok = !a2 && parse_num(a1, 1, 64, &v);
            if (ok) s->base.max_channels = (unsigned)v;
            is_op = false;
        } else if (!strcmp(cmd, "wait") || !strcmp(cmd, "mark")) {
            o.kind = cmd[0] == 'w' ? OP_WAIT : OP_MARK;
            ok = a1 && !a2;
            if (ok) o.text = strdup(a1);
        } else if (!strcmp(cmd, "audio")) {
            o.kind = OP_AUDIO;
            ok = a1 && !a3 && (!a2 || parse_num(a2, 0, 1e7, &o.seconds));
            if (ok) o.text = strdup(a1);
        } else if (!strcmp(cmd, "tone")) {
            o.kind = OP_TONE;
            ok = parse_num(a1, 0, 96000, &o.hz) && parse_num(a2, 0, 1e7, &o.seconds) &&
                 (!a3 || parse_num(a3, -200, 0, &o.dbfs)) && !a4;
        } else if (!strcmp(cmd, "silence") || !strcmp(cmd, "nan") || !strcmp(cmd, "burst")) {
            o.kind = cmd[0] == 's' ? OP_SILENCE : cmd[0] == 'n' ? OP_NAN : OP_BURST;
            ok = !a2 && parse_num(a1, 0, cmd[0] == 'b' ? 600 : 1e7, &o.seconds);
        } else if (!strcmp(cmd, "overflow") || !strcmp(cmd, "pause") || !strcmp(cmd, "stall") ||
                   !strcmp(cmd, "hang") || !strcmp(cmd, "vanish") || !strcmp(cmd, "end")) {
            o.kind = !strcmp(cmd, "overflow") ? OP_OVERFLOW
                     : !strcmp(cmd, "pause")  ? OP_PAUSE
                     : !strcmp(cmd, "stall")  ? OP_STALL
                     : !strcmp(cmd, "hang")   ? OP_HANG
                     : !strcmp(cmd, "vanish") ? OP_VANISH
                                              : OP_END;
            ok = !a1;
        } else if (!strcmp(cmd, "error")) {
            o.kind = OP_ERROR;
            o.text = strdup(rest_copy[0] ? rest_copy : "host error");
        } else {
            st = cm_diag_fail(why, CM_E_FORMAT,
                              "%s:%zu: unknown command '%s' (expected name, rate, channels, "
                              "audio, tone, silence, nan, overflow, burst, wait, mark, pause, "
                              "stall, hang, error, vanish or end)",
                              origin, line_no, cmd);
            break;
        }
        if (!ok) {
            st = cm_diag_fail(why, CM_E_FORMAT, "%s:%zu: bad arguments to '%s' (see "
                              "include/crymeter/capture_script.h)", origin, line_no, cmd);
            free(o.text);
            break;
        }
        if (!is_op) continue;
        if ((o.kind == OP_AUDIO || o.kind == OP_ERROR || o.kind == OP_WAIT || o.kind == OP_MARK) && !o.text) {
            st = cm_diag_fail(why, CM_E_NOMEM, "out of memory");
            break;
        }
        if (s->n_ops == cap) {
            size_t nc = cap ? 2 * cap : 16;
            op *n = realloc(s->ops, nc * sizeof *n);
            if (!n) {
                free(o.text);
                st = cm_diag_fail(why, CM_E_NOMEM, "out of memory");
                break;
            }
            s->ops = n;
            cap = nc;
        }
        s->ops[s->n_ops++] = o;
    }
    free(copy);
    if (st != CM_OK) {
        sc_close(&s->base);
        return st;
    }
    *out = &s->base;
    return CM_OK;
}

cm_status cm_capture_script_load(const char *path, cm_capture_source **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    char *text = NULL;
    size_t n = 0;
    cm_status st = cm_read_text_file(path, 1 << 20, &text, &n, why);
    if (st != CM_OK) return st;
    st = cm_capture_script_parse(text, path, out, why);
    free(text);
    return st;
}
