/* SPDX-License-Identifier: MIT */
/* Check suite for cm_clipwriter, the episode clip writer behind `crymeter monitor --clips`.
 * Every clip is read back with libsndfile and compared frame by frame with what was
 * pushed: the signal is a hash of (frame index, channel), so a clip that starts or ends one
 * frame off, swaps channels or contains audio from elsewhere in the stream cannot match.
 *
 * Clip bounds, as the code computes them and as asserted here: frames
 * [llround((start_s - pre_roll_s) * rate) clamped at 0, llround((end_s + post_roll_s) * rate)),
 * i.e. rounded to the nearest frame, end exclusive. Events are delivered the way the
 * analyzer delivers them: the start some seconds after start_s, the end a merge gap after
 * end_s, with the audio pushed in odd chunk sizes in between. The writer is a thread, so
 * the tests wait on its observable state (stats, messages) with a deadline, never on a
 * sleep alone.
 *
 * Full disk: a forked child ignores SIGXFSZ and lowers its soft RLIMIT_FSIZE, so
 * libsndfile's write() fails with EFBIG at a known size, without root, mounts or a real
 * full disk; the limit dies with the child. The child reports through a pipe and its exit
 * status. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "crymeter/clipwriter.h"
#include "testutil.h"

/* 2023-11-14 22:13:20 UTC; main() sets TZ=UTC0 so file names are literal strings here. */
#define T0 ((time_t)1700000000)

/* ---- helpers --------------------------------------------------------------------------- */

/* The pushed signal: a 16-bit value (q / 32768, |q| <= 30000) drawn from a hash of the
 * frame index and channel. Values are exact multiples of 2^-15, so the only error after a
 * round trip through a 16-bit WAV is libsndfile's quantisation (it writes x * 32767 rounded
 * and reads q / 32768): at most 1.5 LSB. Neighbouring frames differ by ~0.6 on average. */
static float sig(uint64_t frame, unsigned c)
{
    uint64_t z = frame * 64 + c + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)((int)(z % 60001) - 30000) / 32768.0f;
}

#define QUANT_TOL (2.0f / 32768.0f)

/* Odd chunk sizes, cycled, so chunks straddle every boundary the writer has. */
static const size_t chunks[] = {1, 37, 160, 441, 1023, 7, 2049, 13};

typedef struct stream {
    cm_clipwriter *cw;
    unsigned rate, ch;
    uint64_t pushed;
    unsigned k;
    float *buf;
    double max_push_s; /* longest single cm_clipwriter_push */
} stream;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int stream_init(stream *s, cm_clipwriter *cw, unsigned rate, unsigned ch)
{
    memset(s, 0, sizeof *s);
    s->cw = cw;
    s->rate = rate;
    s->ch = ch;
    s->buf = malloc(2049 * ch * sizeof(float));
    return s->buf ? 0 : -1;
}

/* Pushes the signal until `pushed` reaches t_s seconds (rounded to a frame). */
static void push_until(stream *s, double t_s)
{
    uint64_t target = (uint64_t)llround(t_s * s->rate);
    while (s->pushed < target) {
        size_t n = chunks[s->k++ % (sizeof chunks / sizeof chunks[0])];
        if (n > target - s->pushed) n = (size_t)(target - s->pushed);
        for (size_t i = 0; i < n; i++)
            for (unsigned c = 0; c < s->ch; c++) s->buf[i * s->ch + c] = sig(s->pushed + i, c);
        double t = now_s();
        cm_clipwriter_push(s->cw, s->buf, n);
        t = now_s() - t;
        if (t > s->max_push_s) s->max_push_s = t;
        s->pushed += n;
    }
}

static cm_episode episode(uint64_t id, cm_class cls, double start_s, double end_s)
{
    cm_episode e;
    memset(&e, 0, sizeof e);
    e.id = id;
    e.cls = cls;
    e.start_s = start_s;
    e.end_s = end_s;
    e.duration_s = end_s - start_s;
    return e;
}

/* Waits up to 20 s for the writer to have completed `written` clips and failed `failed`. */
static int wait_stats(cm_clipwriter *cw, unsigned written, unsigned failed,
                      cm_clipwriter_stats *out)
{
    double deadline = now_s() + 20.0;
    for (;;) {
        cm_clipwriter_get_stats(cw, out);
        if (out->clips_written >= written && out->clips_failed >= failed) return 1;
        if (now_s() > deadline) return 0;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* A fresh, empty directory under the suite's temp dir. */
static const char *fresh_dir(const char *name)
{
    const char *d = tu_path(name);
    ck_assert_msg(mkdir(d, 0755) == 0, "mkdir %s: %s", d, strerror(errno));
    return d;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Reads a whole clip: NULL (and a reason in err) if it is not a 16-bit PCM WAV of the
 * expected rate and channel count. */
static float *read_clip(const char *path, unsigned rate, unsigned ch, sf_count_t *frames,
                        char *err, size_t errlen)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, sf_strerror(NULL));
        return NULL;
    }
    if (info.format != (SF_FORMAT_WAV | SF_FORMAT_PCM_16) || info.samplerate != (int)rate ||
        info.channels != (int)ch) {
        snprintf(err, errlen, "%s: format 0x%x, %d Hz, %d channels; want 16-bit WAV, %u Hz, %u",
                 path, info.format, info.samplerate, info.channels, rate, ch);
        sf_close(f);
        return NULL;
    }
    float *x = malloc(((size_t)info.frames + 1) * ch * sizeof(float));
    sf_count_t got = x ? sf_readf_float(f, x, info.frames) : -1;
    sf_close(f);
    if (got != info.frames) {
        snprintf(err, errlen, "%s: read %lld of %lld frames", path, (long long)got,
                 (long long)info.frames);
        free(x);
        return NULL;
    }
    *frames = info.frames;
    return x;
}

/* Index of the first frame k (or -1) where x[k] differs from sig(first + k). */
static long long first_mismatch(const float *x, sf_count_t frames, unsigned ch, uint64_t first)
{
    for (sf_count_t k = 0; k < frames; k++)
        for (unsigned c = 0; c < ch; c++)
            if (fabsf(x[k * ch + c] - sig(first + (uint64_t)k, c)) > QUANT_TOL) return k;
    return -1;
}

/* Asserts the file holds exactly frames [from, to) of the pushed signal. */
static void check_clip(const char *path, unsigned rate, unsigned ch, uint64_t from, uint64_t to)
{
    char err[800];
    sf_count_t frames = 0;
    float *x = read_clip(path, rate, ch, &frames, err, sizeof err);
    ck_assert_msg(x != NULL, "%s", err);
    ck_assert_msg((uint64_t)frames == to - from, "%s: %lld frames, want %llu (frames %llu..%llu)",
                  path, (long long)frames, (unsigned long long)(to - from),
                  (unsigned long long)from, (unsigned long long)to);
    long long bad = first_mismatch(x, frames, ch, from);
    ck_assert_msg(bad < 0, "%s: frame %lld (stream frame %llu) is not the pushed sample", path,
                  bad, (unsigned long long)(from + (uint64_t)(bad < 0 ? 0 : bad)));
    free(x);
}

/* Pops one message and asserts it equals want (and its error flag). */
static void expect_msg(cm_clipwriter *cw, const char *want, int want_err)
{
    char buf[1024];
    int is_err = -1;
    ck_assert_msg(cm_clipwriter_next_message(cw, buf, sizeof buf, &is_err),
                  "no message; want \"%s\"", want);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(is_err, want_err);
}

/* ---- content ---------------------------------------------------------------------------- */

static const struct {
    unsigned ch, rate;
    double pre, post;
    uint64_t id;
    cm_class cls;
    double start_s, end_s;
    uint64_t from, to; /* expected clip frames, computed by hand */
    const char *name, *secs;
} content_cases[] = {
    /* (5.30004 - 2.5) * 16000 = 44800.64 -> 44801 (rounds up);
     * (9.17003 + 1.25) * 16000 = 166720.48 -> 166720 (rounds down): nearest frame. */
    {1, 16000, 2.5, 1.25, 1, CM_CLASS_CRY, 5.30004, 9.17003, 44801, 166720,
     "crymeter-20231114-221325-1-cry.wav", "7.6"},
    /* Stereo at 48 kHz with the default rolls: (4.2 - 3) * 48000 = 57600,
     * (7.5 + 1) * 48000 = 408000. */
    {2, 48000, 3.0, 1.0, 2, CM_CLASS_VOCAL, 4.2, 7.5, 57600, 408000,
     "crymeter-20231114-221324-2-vocal.wav", "7.3"},
};

START_TEST(test_content)
{
    const unsigned ch = content_cases[_i].ch, rate = content_cases[_i].rate;
    char dname[32];
    snprintf(dname, sizeof dname, "content%d", _i);
    const char *dir = fresh_dir(dname);
    cm_clipwriter_config cfg = cm_clipwriter_config_default(dir, rate, ch);
    cfg.pre_roll_s = content_cases[_i].pre;
    cfg.post_roll_s = content_cases[_i].post;
    cfg.t0 = T0;
    /* hold_s 10 (default) covers the 4 s between end_s and the end event below. */
    cm_clipwriter *cw = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_clipwriter_create(&cfg, &cw, &why) == CM_OK, "%s", why.msg);
    stream s;
    ck_assert_int_eq(stream_init(&s, cw, rate, ch), 0);

    cm_episode ep = episode(content_cases[_i].id, content_cases[_i].cls,
                            content_cases[_i].start_s, content_cases[_i].end_s);
    push_until(&s, ep.start_s + 2.0); /* detection latency */
    cm_clipwriter_episode_start(cw, &ep);
    push_until(&s, ep.end_s + 4.0); /* merge gap */
    cm_clipwriter_episode_end(cw, &ep);
    push_until(&s, 20.0);

    /* The clip is complete while monitoring goes on, not only at finish. */
    cm_clipwriter_stats st;
    ck_assert_msg(wait_stats(cw, 1, 0, &st), "clip not written within 20 s (written %u, failed %u)",
                  st.clips_written, st.clips_failed);
    cm_clipwriter_finish(cw);
    cm_clipwriter_get_stats(cw, &st);
    ck_assert_uint_eq(st.clips_written, 1);
    ck_assert_uint_eq(st.clips_failed, 0);
    ck_assert_uint_eq(st.episodes_skipped, 0);
    ck_assert_uint_eq(st.clip_frames_lost, 0);

    char path[700], want[900];
    snprintf(path, sizeof path, "%s/%s", dir, content_cases[_i].name);
    snprintf(want, sizeof want, "clip %llu: %s (%s s)", (unsigned long long)ep.id, path,
             content_cases[_i].secs);
    expect_msg(cw, want, 0);
    char buf[1024];
    ck_assert_int_eq(cm_clipwriter_next_message(cw, buf, sizeof buf, NULL), 0);
    ck_assert_int_eq(count_entries(dir), 1);
    check_clip(path, rate, ch, content_cases[_i].from, content_cases[_i].to);
    cm_clipwriter_close(cw);
    free(s.buf);
}
END_TEST

/* Episode at 1 s with the default 3 s pre-roll: the clip starts at frame 0, not before. */
START_TEST(test_preroll_clamped)
{
    const char *dir = fresh_dir("clamp");
    cm_clipwriter_config cfg = cm_clipwriter_config_default(dir, 16000, 1);
    cfg.t0 = T0;
    cm_clipwriter *cw = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_clipwriter_create(&cfg, &cw, &why) == CM_OK, "%s", why.msg);
    stream s;
    ck_assert_int_eq(stream_init(&s, cw, 16000, 1), 0);
    cm_episode ep = episode(1, CM_CLASS_CRY, 1.0, 2.0);
    push_until(&s, 3.0);
    cm_clipwriter_episode_start(cw, &ep);
    push_until(&s, 6.0);
    cm_clipwriter_episode_end(cw, &ep);
    push_until(&s, 10.0);
    cm_clipwriter_finish(cw);
    cm_clipwriter_stats st;
    cm_clipwriter_get_stats(cw, &st);
    ck_assert_uint_eq(st.clips_written, 1);
    ck_assert_uint_eq(st.clips_failed, 0);
    char path[700], want[900];
    snprintf(path, sizeof path, "%s/crymeter-20231114-221321-1-cry.wav", dir);
    snprintf(want, sizeof want, "clip 1: %s (3.0 s)", path);
    expect_msg(cw, want, 0);
    check_clip(path, 16000, 1, 0, 48000); /* 0 .. (2 + 1) s */
    cm_clipwriter_close(cw);
    free(s.buf);
}
END_TEST

/* An episode still open at finish: the clip runs to the last pushed frame. */
START_TEST(test_finish_open_episode)
{
    const char *dir = fresh_dir("open");
    cm_clipwriter_config cfg = cm_clipwriter_config_default(dir, 16000, 1);
    cfg.pre_roll_s = 1.0;
    cfg.t0 = T0;
    cm_clipwriter *cw = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_clipwriter_create(&cfg, &cw, &why) == CM_OK, "%s", why.msg);
    stream s;
    ck_assert_int_eq(stream_init(&s, cw, 16000, 1), 0);
    cm_episode ep = episode(7, CM_CLASS_CRY, 2.0, 2.0);
    push_until(&s, 4.0);
    cm_clipwriter_episode_start(cw, &ep);
    push_until(&s, 6.0);
    cm_clipwriter_finish(cw);
    char path[700], want[900];
    snprintf(path, sizeof path, "%s/crymeter-20231114-221322-7-cry.wav", dir);
    snprintf(want, sizeof want, "clip 7: %s (5.0 s)", path);
    expect_msg(cw, want, 0);
    check_clip(path, 16000, 1, 16000, 96000);
    cm_clipwriter_finish(cw); /* idempotent */
    cm_clipwriter_close(cw);
    free(s.buf);
}
END_TEST

/* The writer further behind than the history: the lost frames are counted and the clip
 * holds only frames of its own range. A single push larger than the history is atomic
 * with respect to the writer, so this stands in, deterministically, for a writer stalled
 * on a slow disk while capture goes on. History here: hold 10 + history 5 = 15 s at 8 kHz
 * = 120000 frames; one push of 60 s leaves frames 360000..480000. The events come before
 * the audio so the writer has nothing to write before that push. */
static const struct {
    double start_s, end_s;
    uint64_t want_from, want_to, want_lost; /* what the file must hold, and the count */
} behind_cases[] = {
    /* Clip 1..50 s: 1..45 s lost, 45..50 s written. */
    {1.0, 50.0, 360000, 400000, 352000},
    /* Clip 1..2 s: all of it lost; the file must hold none of the later audio. */
    {1.0, 2.0, 16000, 16000, 8000},
};

START_TEST(test_writer_behind_history)
{
    char dname[32];
    snprintf(dname, sizeof dname, "behind%d", _i);
    const char *dir = fresh_dir(dname);
    cm_clipwriter_config cfg = cm_clipwriter_config_default(dir, 8000, 1);
    cfg.pre_roll_s = 0;
    cfg.post_roll_s = 0;
    cfg.hold_s = 10;
    cfg.history_s = 5;
    cfg.t0 = T0;
    cm_clipwriter *cw = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_clipwriter_create(&cfg, &cw, &why) == CM_OK, "%s", why.msg);
    cm_episode ep = episode(1, CM_CLASS_CRY, behind_cases[_i].start_s, behind_cases[_i].end_s);
    cm_clipwriter_episode_start(cw, &ep);
    cm_clipwriter_episode_end(cw, &ep);
    enum { N = 480000 };
    float *x = malloc(N * sizeof(float));
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < N; i++) x[i] = sig(i, 0);
    cm_clipwriter_push(cw, x, N);
    free(x);
    cm_clipwriter_stats st;
    ck_assert_msg(wait_stats(cw, 1, 0, &st), "clip not written within 20 s");
    cm_clipwriter_finish(cw);
    cm_clipwriter_get_stats(cw, &st);
    ck_assert_uint_eq(st.clip_frames_lost, behind_cases[_i].want_lost);
    char path[700];
    snprintf(path, sizeof path, "%s/crymeter-20231114-221321-1-cry.wav", dir);
    check_clip(path, 8000, 1, behind_cases[_i].want_from, behind_cases[_i].want_to);
    cm_clipwriter_close(cw);
}
END_TEST

/* ---- full disk -------------------------------------------------------------------------- */

static int report_fd = -1;

#define CHILD_REQUIRE(cond, ...)                                                             \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            dprintf(report_fd, "line %d: ", __LINE__);                                       \
            dprintf(report_fd, __VA_ARGS__);                                                 \
            _exit(1);                                                                        \
        }                                                                                    \
    } while (0)

/* Runs in the forked child; never returns. */
static void full_disk_child(const char *dir)
{
    enum { RATE = 16000, LIMIT = 20000 };
    struct rlimit rl;
    CHILD_REQUIRE(getrlimit(RLIMIT_FSIZE, &rl) == 0, "getrlimit: %s", strerror(errno));
    CHILD_REQUIRE(rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= 1000000,
                  "hard RLIMIT_FSIZE %llu too small for the test", (unsigned long long)rl.rlim_max);
    CHILD_REQUIRE(signal(SIGXFSZ, SIG_IGN) != SIG_ERR, "signal(SIGXFSZ): %s", strerror(errno));

    cm_clipwriter_config cfg = cm_clipwriter_config_default(dir, RATE, 1);
    cfg.pre_roll_s = 1.0;
    cfg.post_roll_s = 1.0;
    cfg.t0 = T0;
    cm_clipwriter *cw = NULL;
    cm_diag why = {{0}};
    CHILD_REQUIRE(cm_clipwriter_create(&cfg, &cw, &why) == CM_OK, "create: %s", why.msg);
    stream s;
    CHILD_REQUIRE(stream_init(&s, cw, RATE, 1) == 0, "out of memory");

    /* Files may not grow past 20 kB: 44 header bytes + 9978 frames of 16-bit mono. */
    struct rlimit low = {LIMIT, rl.rlim_max};
    CHILD_REQUIRE(setrlimit(RLIMIT_FSIZE, &low) == 0, "setrlimit: %s", strerror(errno));

    /* Episode 1: 2..6 s, clip 1..7 s = 96000 frames = 192 kB: cannot fit. */
    cm_episode e1 = episode(1, CM_CLASS_CRY, 2.0, 6.0);
    push_until(&s, 4.0);
    cm_clipwriter_episode_start(cw, &e1);
    push_until(&s, 9.0);
    cm_clipwriter_episode_end(cw, &e1);

    /* The failure is reported while audio keeps coming. */
    char p1[700], msg[1024];
    snprintf(p1, sizeof p1, "%s/crymeter-20231114-221322-1-cry.wav", dir);
    int is_err = -1, got = 0;
    double deadline = now_s() + 20.0;
    while (!got && now_s() < deadline) {
        push_until(&s, (double)s.pushed / RATE + 0.01);
        got = cm_clipwriter_next_message(cw, msg, sizeof msg, &is_err);
        if (!got) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    CHILD_REQUIRE(got, "no message within 20 s of a clip that cannot fit in %d bytes", LIMIT);
    CHILD_REQUIRE(is_err == 1, "message \"%s\" not flagged as an error", msg);
    CHILD_REQUIRE(strstr(msg, "clip 1: ") == msg && strstr(msg, p1) && strstr(msg, "write failed"),
                  "message \"%s\" should name clip 1, %s and say \"write failed\"", msg, p1);
    CHILD_REQUIRE(strstr(msg, "File too large"),
                  "message \"%s\" should give the cause (EFBIG, \"File too large\")", msg);
    cm_clipwriter_stats st;
    cm_clipwriter_get_stats(cw, &st);
    CHILD_REQUIRE(st.clips_failed == 1 && st.clips_written == 0,
                  "after the failure: clips_failed %u (want 1), clips_written %u (want 0)",
                  st.clips_failed, st.clips_written);

    /* The cut clip is a valid WAV whose audio is the clip's beginning, and the message says
     * where it was cut ("clip cut at S s", S to 0.1 s). */
    char err[800];
    sf_count_t frames = 0;
    float *x = read_clip(p1, RATE, 1, &frames, err, sizeof err);
    CHILD_REQUIRE(x, "cut clip: %s", err);
    CHILD_REQUIRE(frames > 0 && frames <= (LIMIT - 44) / 2, "cut clip has %lld frames",
                  (long long)frames);
    CHILD_REQUIRE(first_mismatch(x, frames, 1, RATE) < 0, "cut clip: wrong audio");
    free(x);
    char cut[64];
    snprintf(cut, sizeof cut, "clip cut at %.1f s", (double)frames / RATE);
    CHILD_REQUIRE(strstr(msg, cut), "message \"%s\" should say \"%s\"", msg, cut);

    /* Monitoring goes on: space comes back (soft limit raised to the hard one) and the next
     * episode's clip is written whole. Episode 2: 20..23 s, clip 19..24 s. */
    push_until(&s, 15.0);
    CHILD_REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit back: %s", strerror(errno));
    cm_episode e2 = episode(2, CM_CLASS_CRY, 20.0, 23.0);
    push_until(&s, 22.0);
    cm_clipwriter_episode_start(cw, &e2);
    push_until(&s, 26.0);
    cm_clipwriter_episode_end(cw, &e2);
    push_until(&s, 30.0);
    CHILD_REQUIRE(s.max_push_s < 1.0, "a push took %.3f s: pushes must not wait for the disk",
                  s.max_push_s);
    CHILD_REQUIRE(wait_stats(cw, 1, 1, &st), "clip 2 not written within 20 s");
    cm_clipwriter_finish(cw);
    cm_clipwriter_get_stats(cw, &st);
    CHILD_REQUIRE(st.clips_written == 1 && st.clips_failed == 1 && st.clip_frames_lost == 0,
                  "final stats: written %u (want 1), failed %u (want 1), lost %llu (want 0)",
                  st.clips_written, st.clips_failed, (unsigned long long)st.clip_frames_lost);
    char p2[700], want[900];
    snprintf(p2, sizeof p2, "%s/crymeter-20231114-221340-2-cry.wav", dir);
    snprintf(want, sizeof want, "clip 2: %s (5.0 s)", p2);
    is_err = -1;
    CHILD_REQUIRE(cm_clipwriter_next_message(cw, msg, sizeof msg, &is_err), "no message for clip 2");
    CHILD_REQUIRE(strcmp(msg, want) == 0 && is_err == 0, "clip 2 message \"%s\" (error %d), want \"%s\"",
                  msg, is_err, want);
    x = read_clip(p2, RATE, 1, &frames, err, sizeof err);
    CHILD_REQUIRE(x, "clip 2: %s", err);
    CHILD_REQUIRE(frames == 80000, "clip 2 has %lld frames, want 80000", (long long)frames);
    long long bad = first_mismatch(x, frames, 1, 19 * RATE);
    CHILD_REQUIRE(bad < 0, "clip 2: frame %lld is not the pushed sample", bad);
    free(x);
    cm_clipwriter_close(cw);
    free(s.buf);
    _exit(0);
}

START_TEST(test_full_disk)
{
    const char *dir = fresh_dir("full");
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        full_disk_child(dir);
    }
    close(fds[1]);
    char msg[2048] = "";
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], msg + len, sizeof msg - 1 - len)) > 0) len += (size_t)r;
    msg[len] = 0;
    close(fds[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        ck_abort_msg("full-disk child killed by signal %d (%s) %s", WTERMSIG(status),
                     strsignal(WTERMSIG(status)), msg);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "full-disk child failed: %s",
                  len ? msg : "(no message)");
}
END_TEST

/* ---- configuration ---------------------------------------------------------------------- */

typedef struct bad_case {
    const char *field;
    unsigned rate, ch;
    double pre, post, hold, hist;
} bad_case;

/* Defaults are 16000, 1, 3, 1, 10, 30; each row moves one field just out of range. */
static const bad_case bad_cases[] = {
    {"rate_hz", 7999, 1, 3, 1, 10, 30},      {"rate_hz", 192001, 1, 3, 1, 10, 30},
    {"channels", 16000, 0, 3, 1, 10, 30},    {"channels", 16000, 65, 3, 1, 10, 30},
    {"pre_roll_s", 16000, 1, -0.01, 1, 10, 30}, {"pre_roll_s", 16000, 1, 60.01, 1, 10, 30},
    {"pre_roll_s", 16000, 1, NAN, 1, 10, 30}, {"post_roll_s", 16000, 1, 3, -0.01, 10, 30},
    {"post_roll_s", 16000, 1, 3, 60.01, 10, 30}, {"post_roll_s", 16000, 1, 3, NAN, 10, 30},
    {"hold_s", 16000, 1, 3, 1, -0.01, 30},   {"hold_s", 16000, 1, 3, 1, 600.01, 30},
    {"hold_s", 16000, 1, 3, 1, NAN, 30},     {"history_s", 16000, 1, 3, 1, 10, 4.99},
    {"history_s", 16000, 1, 3, 1, 10, 600.01}, {"history_s", 16000, 1, 3, 1, 10, NAN},
    {"history_s", 16000, 1, 3, 1, 10, INFINITY},
};

START_TEST(test_bad_config)
{
    const bad_case *b = &bad_cases[_i];
    cm_clipwriter_config cfg = cm_clipwriter_config_default(tu_tmpdir(), b->rate, b->ch);
    cfg.pre_roll_s = b->pre;
    cfg.post_roll_s = b->post;
    cfg.hold_s = b->hold;
    cfg.history_s = b->hist;
    cm_clipwriter *cw = (cm_clipwriter *)&cfg; /* must be reset to NULL */
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_clipwriter_create(&cfg, &cw, &why), CM_E_RANGE);
    ck_assert_ptr_null(cw);
    ck_assert_msg(strstr(why.msg, b->field) == why.msg, "why \"%s\" should name %s", why.msg,
                  b->field);
}
END_TEST

/* The edges of each range are accepted. */
START_TEST(test_config_edges)
{
    static const bad_case ok[] = {
        {"", 8000, 1, 0, 0, 0, 5},  {"", 192000, 1, 3, 1, 10, 30},
        {"", 8000, 64, 3, 1, 0, 5}, {"", 8000, 1, 60, 60, 600, 600},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cm_clipwriter_config cfg = cm_clipwriter_config_default(tu_tmpdir(), ok[i].rate, ok[i].ch);
        cfg.pre_roll_s = ok[i].pre;
        cfg.post_roll_s = ok[i].post;
        cfg.hold_s = ok[i].hold;
        cfg.history_s = ok[i].hist;
        cm_clipwriter *cw = NULL;
        cm_diag why = {{0}};
        ck_assert_msg(cm_clipwriter_create(&cfg, &cw, &why) == CM_OK, "case %zu: %s", i, why.msg);
        cm_clipwriter_close(cw);
    }
    cm_clipwriter_close(NULL);
}
END_TEST

START_TEST(test_bad_dir)
{
    cm_clipwriter *cw = NULL;
    cm_diag why = {{0}};
    cm_clipwriter_config cfg = cm_clipwriter_config_default(NULL, 16000, 1);
    ck_assert_int_eq(cm_clipwriter_create(&cfg, &cw, &why), CM_E_INVAL);

    /* Missing directory. */
    const char *missing = tu_path("no-such-dir");
    cfg = cm_clipwriter_config_default(missing, 16000, 1);
    ck_assert_int_eq(cm_clipwriter_create(&cfg, &cw, &why), CM_E_IO);
    ck_assert_ptr_null(cw);
    ck_assert_msg(strstr(why.msg, missing), "why \"%s\" should name %s", why.msg, missing);

    /* A regular file, not a directory. */
    const char *file = tu_path("plain-file");
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    cfg = cm_clipwriter_config_default(file, 16000, 1);
    ck_assert_int_eq(cm_clipwriter_create(&cfg, &cw, &why), CM_E_IO);
    ck_assert_msg(strstr(why.msg, file), "why \"%s\" should name %s", why.msg, file);

    /* Read-only directory. Skipped as root: root may write anywhere whatever the mode, so
     * access(W_OK) succeeds and there is nothing to test. */
    if (geteuid() != 0) {
        const char *ro = tu_path("read-only");
        ck_assert_int_eq(mkdir(ro, 0555), 0);
        cfg = cm_clipwriter_config_default(ro, 16000, 1);
        ck_assert_int_eq(cm_clipwriter_create(&cfg, &cw, &why), CM_E_IO);
        ck_assert_ptr_null(cw);
        ck_assert_msg(strstr(why.msg, ro) && strstr(why.msg, "not writable"),
                      "why \"%s\" should name %s and say it is not writable", why.msg, ro);
        chmod(ro, 0755);
    } else {
        fprintf(stderr, "test_bad_dir: running as root, read-only directory case skipped\n");
    }
}
END_TEST

static Suite *clipwriter_suite(void)
{
    Suite *s = suite_create("clipwriter");
    TCase *tc = tcase_create("clips");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_content, 0,
                        (int)(sizeof content_cases / sizeof content_cases[0]));
    tcase_add_test(tc, test_preroll_clamped);
    tcase_add_test(tc, test_finish_open_episode);
    tcase_add_loop_test(tc, test_writer_behind_history, 0,
                        (int)(sizeof behind_cases / sizeof behind_cases[0]));
    tcase_add_test(tc, test_full_disk);
    suite_add_tcase(s, tc);
    TCase *cfg = tcase_create("config");
    tcase_add_loop_test(cfg, test_bad_config, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(cfg, test_config_edges);
    tcase_add_test(cfg, test_bad_dir);
    suite_add_tcase(s, cfg);
    return s;
}

int main(void)
{
    /* File names use local time: pin it so they can be spelled out above. */
    setenv("TZ", "UTC0", 1);
    tzset();
    tu_tmpdir(); /* created here, not in a forked test, so cleanup below removes it */
    SRunner *sr = srunner_create(clipwriter_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
