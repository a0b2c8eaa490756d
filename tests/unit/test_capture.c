/* SPDX-License-Identifier: MIT */
/* Check suite for cm_capture without a sound card, in two parts.
 *
 * The real path: PortAudio's ALSA host opens the ALSA `file` PCM defined in
 * tests/alsa/crymeter-test.conf, whose infile is a FIFO that a feeder thread fills with a
 * 16-bit ramp (the `null` PCM under it has no clock, so the FIFO is the clock). A read of
 * the PCM that finds only part of a period comes back short and is padded with silence, so
 * the sample-exact test puts all its audio in the FIFO (enlarged) before the stream is
 * opened: no read can then find a partial period, however the threads are scheduled.
 * Checks: every delivered sample equals the ramp, nothing dropped, on_end once; device
 * lookup; config ranges.
 *
 * The faults, through the scripted source (capture_script.h), the seam that the PortAudio
 * source shares: a device that stalls, hangs in its driver, fails, vanishes, ends,
 * overflows, is outrun by its producer, or is merely silent. Each outcome is fixed by the
 * script, not by the scheduler: these tests run under ThreadSanitizer in .ci/run. */
/* F_SETPIPE_SZ (Linux). */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "crymeter/capture.h"
#include "crymeter/capture_script.h"
#include "testutil.h"

enum { RATE = 44100, BLOCK = 4410 };

typedef struct {
    int fd;
    double speed;            /* x real time */
    _Atomic long stop_after_blocks; /* stall: stop writing (FIFO kept open) after this many;
                                       -1 = never */
    _Atomic int quit;
    _Atomic int exited;
    _Atomic long written;    /* blocks written so far */
    pthread_t th;
    int running;             /* started and not yet stopped (test thread only) */
} feeder;

static void *feed_main(void *arg)
{
    feeder *f = arg;
    int16_t buf[BLOCK];
    long n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!atomic_load(&f->quit)) {
        long lim = atomic_load(&f->stop_after_blocks);
        if (lim >= 0 && n >= lim) {
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
            continue;
        }
        for (int i = 0; i < BLOCK; i++) buf[i] = (int16_t)((n * BLOCK + i) & 0x7fff);
        if (write(f->fd, buf, sizeof buf) != (ssize_t)sizeof buf) break; /* EAGAIN at quit */
        n++;
        atomic_store(&f->written, n);
        double due = (double)n * BLOCK / RATE / f->speed;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) * 1e-9;
        if (due > el) {
            double d = due - el;
            struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    atomic_store(&f->exited, 1);
    return NULL;
}

/* Sets up the ALSA environment and a FIFO with its feeder; O_RDWR keeps the FIFO from
 * blocking PortAudio's device probe and from raising EPIPE between probe and stream. */
static void feeder_start(feeder *f, double speed, long stop_after)
{
    const char *fifo = tu_path("in.fifo");
    unlink(fifo);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    f->fd = open(fifo, O_RDWR);
    ck_assert_int_ge(f->fd, 0);
    /* Room for 4 s of the test signal (352,800 bytes), so a feeder that runs ahead never
     * waits for the reader (Linux; 64 KiB by default). */
    ck_assert_int_ge(fcntl(f->fd, F_SETPIPE_SZ, 1 << 19), 1 << 19);
    f->speed = speed;
    atomic_init(&f->stop_after_blocks, stop_after);
    atomic_init(&f->quit, 0);
    atomic_init(&f->exited, 0);
    atomic_init(&f->written, 0);
    char cfgpath[1200];
    snprintf(cfgpath, sizeof cfgpath, "/usr/share/alsa/alsa.conf:%s",
             tu_src("tests/alsa/crymeter-test.conf"));
    setenv("ALSA_CONFIG_PATH", cfgpath, 1);
    setenv("CM_TEST_INFILE", fifo, 1);
    ck_assert_int_eq(pthread_create(&f->th, NULL, feed_main, f), 0);
    f->running = 1;
}

static void feeder_stop(feeder *f)
{
    if (!f->running) return;
    f->running = 0;
    /* The feeder may be blocked writing into a full FIFO nobody reads any more: make the
     * FIFO non-blocking and drain it until the feeder has seen `quit`. */
    atomic_store(&f->quit, 1);
    fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) | O_NONBLOCK);
    char sink_buf[65536];
    while (!atomic_load(&f->exited)) {
        if (read(f->fd, sink_buf, sizeof sink_buf) <= 0) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    pthread_join(f->th, NULL);
    close(f->fd);
}

typedef struct {
    size_t got;      /* worker thread only until joined */
    size_t bad;
    int ends;
    size_t check_n;  /* samples checked against the ramp; 0: all */
} sink;

static int on_audio(void *user, const float *x, size_t n)
{
    sink *s = user;
    for (size_t i = 0; i < n; i++) {
        if (s->check_n && s->got + i >= s->check_n) break;
        float want = (float)((s->got + i) & 0x7fff) / 32768.0f;
        if (x[i] != want) s->bad++;
    }
    s->got += n;
    return 0;
}

static void on_end(void *user) { ((sink *)user)->ends++; }

/* Everything a test shares with the threads it starts (the feeder, PortAudio's callback)
 * lives here, not on the test's stack: with CK_FORK=no a failed assertion leaves the test
 * function at once, and teardown (run after every test, passed or failed) stops those
 * threads before the next test reuses the stack. */
static struct {
    feeder f;
    sink s;
    cm_capture *c;
    int audio_up;
} T;

static void teardown(void)
{
    /* A stalled feeder must write again, or closing would wait on PortAudio's blocked read. */
    if (T.f.running) atomic_store(&T.f.stop_after_blocks, -1);
    cm_capture_close(T.c); /* stops it if needed; NULL is a no-op */
    T.c = NULL;
    if (T.audio_up) cm_capture_system_done();
    T.audio_up = 0;
    feeder_stop(&T.f);
}

static void init_audio(void)
{
    cm_diag why = {{0}};
    ck_assert_msg(cm_capture_system_init(&why) == CM_OK, "%s", why.msg);
    T.audio_up = 1;
}

static cm_capture_device find_test_device(void)
{
    cm_capture_device d;
    cm_diag why = {{0}};
    ck_assert_msg(cm_capture_find("crymeter_test", &d, &why) == CM_OK, "%s", why.msg);
    return d;
}

START_TEST(test_ramp_exact)
{
    /* 3.5 s of the ramp at once, then nothing (FIFO kept open): it all waits in the FIFO
     * before the stream starts. The test device's `null` PCM has no clock, so a feeder paced
     * in real time is read dry again and again, and a read that finds only part of a period
     * comes back short and is padded with silence, which shifts the ramp: under
     * AddressSanitizer, paced at 4x, 1 run in 6 to 6 in 10 failed with 101,116-103,792 of
     * 132,300 samples off (good up to a PIPE_BUF boundary inside a feeder write). */
    long blocks = (long)((3.5 * RATE + BLOCK - 1) / BLOCK);
    feeder_start(&T.f, 1e9, blocks);
    /* All of it in the FIFO before PortAudio touches the device: waiting on a count, not a
     * clock. */
    while (atomic_load(&T.f.written) < blocks) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    init_audio();
    cm_capture_device d = find_test_device();
    sink *s = &T.s;
    *s = (sink){0, 0, 0, 0};
    cm_capture_config cfg = cm_capture_config_default();
    cfg.device_index = d.index;
    cfg.rate_hz = RATE;
    cfg.max_frames = 3 * RATE;
    cfg.on_audio = on_audio;
    cfg.on_end = on_end;
    cfg.user = s;
    cm_diag why = {{0}};
    ck_assert_msg(cm_capture_open(&cfg, &T.c, &why) == CM_OK, "%s", why.msg);
    cm_capture *c = T.c;
    ck_assert_uint_eq(cm_capture_rate_hz(c), RATE);
    ck_assert_msg(cm_capture_start(c, &why) == CM_OK, "%s", why.msg);
    cm_capture_stats st;
    for (int i = 0; i < 400; i++) { /* 3 s of audio at 4x: ~0.8 s; give it 20 s */
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
        ck_assert_msg(cm_capture_poll(c, &why) == CM_OK, "%s", why.msg);
        cm_capture_get_stats(c, &st);
        if (st.done) break;
    }
    /* PortAudio's host thread is blocked reading the drained FIFO, and stop joins it. */
    atomic_store(&T.f.stop_after_blocks, -1);
    ck_assert_msg(cm_capture_stop(c, &why) == CM_OK, "%s", why.msg);
    cm_capture_get_stats(c, &st);
    ck_assert(st.done);
    ck_assert(st.finished);
    ck_assert_uint_eq(st.frames_delivered, 3 * RATE);
    ck_assert_uint_eq(s->got, 3 * RATE);
    ck_assert_uint_eq(s->bad, 0);
    ck_assert_int_eq(s->ends, 1);
    ck_assert_uint_eq(st.frames_dropped, 0);
    ck_assert_uint_eq(st.overflows, 0);
    ck_assert_uint_ge(st.frames_captured, 3 * RATE);
}
END_TEST

START_TEST(test_find_and_ranges)
{
    feeder_start(&T.f, 1.0, -1);
    init_audio();
    cm_capture_device d;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_capture_find("CRYMETER_T", &d, &why), CM_OK); /* case-insensitive */
    ck_assert_str_eq(d.name, "crymeter_test");
    char idx[16];
    snprintf(idx, sizeof idx, "%d", d.index);
    ck_assert_int_eq(cm_capture_find(idx, &d, &why), CM_OK);
    ck_assert_int_eq(cm_capture_find("no such microphone", &d, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "no such microphone"));
    ck_assert_int_eq(cm_capture_find("99999", &d, &why), CM_E_RANGE);
    ck_assert_int_eq(d.index, -1);
    size_t n = 0;
    ck_assert_int_eq(cm_capture_list(NULL, 0, &n), CM_OK);
    ck_assert_uint_ge(n, 1);

    d = find_test_device();
    T.s = (sink){0, 0, 0, 0};
    static const struct {
        unsigned rate, ch;
        double ring_s;
        cm_status want;
    } cases[] = {
        {7999, 1, 4, CM_E_RANGE}, {192001, 1, 4, CM_E_RANGE}, {8000, 0, 4, CM_E_RANGE},
        {8000, 1, 0.49, CM_E_RANGE}, {8000, 1, 60.1, CM_E_RANGE}, {8000, 1, 0.5, CM_OK},
        {48000, 2, 4, CM_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cm_capture_config cfg = cm_capture_config_default();
        cfg.device_index = d.index;
        cfg.rate_hz = cases[i].rate;
        cfg.channels = cases[i].ch;
        cfg.ring_s = cases[i].ring_s;
        cfg.on_audio = on_audio;
        cfg.user = &T.s;
        cm_capture *c = (cm_capture *)&T.s; /* must be reset to NULL on failure */
        cm_status got = cm_capture_open(&cfg, &c, &why);
        if (c != (cm_capture *)&T.s) T.c = c; /* teardown closes it if an assertion fails */
        ck_assert_msg(got == cases[i].want, "case %zu: %s", i, why.msg);
        if (cases[i].want != CM_OK) ck_assert_ptr_null(c);
        cm_capture_close(c);
        T.c = NULL;
    }
    cm_capture_config cfg = cm_capture_config_default();
    cm_capture *c = NULL;
    ck_assert_int_eq(cm_capture_open(&cfg, &c, &why), CM_E_INVAL); /* no on_audio */
}
END_TEST

/* ---- the scripted source --------------------------------------------------------- */

enum { SRATE = 16000 };

/* Opens a capture on a script (rate SRATE, mono unless channels says otherwise). */
static void script_open(const char *text, cm_capture_config *cfg)
{
    cm_capture_source *src = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_capture_script_parse(text, "test", &src, &why) == CM_OK, "%s", why.msg);
    cfg->source = src;
    if (!cfg->rate_hz) cfg->rate_hz = SRATE;
    if (!cfg->on_audio) cfg->on_audio = on_audio;
    cfg->on_end = on_end;
    cfg->user = &T.s;
    ck_assert_msg(cm_capture_open(cfg, &T.c, &why) == CM_OK, "%s", why.msg);
    ck_assert_msg(cm_capture_start(T.c, &why) == CM_OK, "%s", why.msg);
}

static void wait_captured(uint64_t n)
{
    cm_capture_stats st;
    for (;;) {
        cm_capture_get_stats(T.c, &st);
        if (st.frames_captured >= n) return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Polls until the capture reports a device error; returns it. Ends by construction: every
 * script here stops delivering and then fails, stalls or ends. */
static cm_status poll_until_error(cm_diag *why)
{
    cm_status st;
    while ((st = cm_capture_poll(T.c, why)) == CM_OK) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return st;
}

/* A ramp in a WAV file, so the script's `audio` path is checked sample by sample too. */
static const char *ramp_wav(size_t frames)
{
    const char *path = tu_path("ramp.wav");
    SF_INFO info = {0};
    info.samplerate = SRATE;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < frames; i++) {
        short v = (short)(i & 0x7fff);
        ck_assert_int_eq(sf_write_short(f, &v, 1), 1);
    }
    sf_close(f);
    return path;
}

START_TEST(test_script_exact)
{
    /* 3 s of ramp through a 0.5 s ring: the source waits for room, nothing is dropped, and
     * max_frames cuts at exactly 2.5 s whatever the worker's pace. */
    char text[1200];
    snprintf(text, sizeof text, "name fake mic\naudio %s\npause\n", ramp_wav(3 * SRATE));
    T.s = (sink){0, 0, 0, 0};
    cm_capture_config cfg = cm_capture_config_default();
    cfg.ring_s = 0.5;
    cfg.max_frames = 5 * SRATE / 2;
    script_open(text, &cfg);
    ck_assert_str_eq(cm_capture_device_name(T.c), "fake mic");
    cm_capture_stats st;
    do {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        cm_diag why = {{0}};
        ck_assert_msg(cm_capture_poll(T.c, &why) == CM_OK, "%s", why.msg); /* pause: no stall */
        cm_capture_get_stats(T.c, &st);
    } while (!st.done);
    cm_diag why = {{0}};
    ck_assert_msg(cm_capture_stop(T.c, &why) == CM_OK, "%s", why.msg);
    cm_capture_get_stats(T.c, &st);
    ck_assert(st.finished);
    ck_assert_uint_eq(st.frames_delivered, 5 * SRATE / 2);
    ck_assert_uint_eq(T.s.got, 5 * SRATE / 2);
    ck_assert_uint_eq(T.s.bad, 0);
    ck_assert_int_eq(T.s.ends, 1);
    ck_assert_uint_eq(st.frames_dropped, 0);
    ck_assert_uint_eq(st.overflows, 0);
    ck_assert_uint_ge(st.frames_captured, 5 * SRATE / 2); /* and what came after, discarded */
}
END_TEST

START_TEST(test_script_stall)
{
    /* 0.5 s of audio, then a device gone quiet: poll says so, stop returns, and everything
     * captured before the stall reaches on_audio. */
    T.s = (sink){0, 0, 0, 0};
    char text[1200];
    snprintf(text, sizeof text, "audio %s\nstall\n", ramp_wav(SRATE / 2));
    cm_capture_config cfg = cm_capture_config_default();
    script_open(text, &cfg);
    wait_captured(SRATE / 2);
    cm_diag why = {{0}};
    ck_assert_int_eq(poll_until_error(&why), CM_E_IO);
    ck_assert_msg(strstr(why.msg, "no audio for") && strstr(why.msg, "'script'"), "%s", why.msg);
    ck_assert_msg(cm_capture_stop(T.c, &why) == CM_OK, "%s", why.msg);
    ck_assert(!cm_capture_hung(T.c));
    ck_assert_uint_eq(T.s.got, SRATE / 2);
    ck_assert_uint_eq(T.s.bad, 0);
    ck_assert_int_eq(T.s.ends, 1);
}
END_TEST

START_TEST(test_script_hang)
{
    /* A driver that never returns from stop: stop gives up after stop_timeout_s, says so,
     * and the worker has still drained and flushed what was captured. */
    T.s = (sink){0, 0, 0, 0};
    char text[1200];
    snprintf(text, sizeof text, "audio %s\nhang\n", ramp_wav(SRATE / 2));
    cm_capture_config cfg = cm_capture_config_default();
    cfg.stop_timeout_s = 0.2;
    script_open(text, &cfg);
    wait_captured(SRATE / 2);
    cm_diag why = {{0}};
    ck_assert_int_eq(poll_until_error(&why), CM_E_IO);
    ck_assert_ptr_nonnull(strstr(why.msg, "no audio for"));
    ck_assert_int_eq(cm_capture_stop(T.c, &why), CM_E_IO);
    ck_assert_msg(strstr(why.msg, "did not stop within 0.2 s"), "%s", why.msg);
    ck_assert(cm_capture_hung(T.c));
    cm_capture_stats st;
    cm_capture_get_stats(T.c, &st);
    ck_assert(st.finished);
    ck_assert_uint_eq(st.frames_delivered, SRATE / 2);
    ck_assert_uint_eq(T.s.got, SRATE / 2);
    ck_assert_uint_eq(T.s.bad, 0);
    ck_assert_int_eq(T.s.ends, 1);
    cm_capture_close(T.c); /* frees nothing: the source is abandoned */
    T.c = NULL;
}
END_TEST

START_TEST(test_script_fail)
{
    static const struct {
        const char *last, *want;
    } cases[] = {
        {"error ALSA read: Input/output error", "ALSA read: Input/output error"},
        {"vanish", "unavailable"},
        {"end", "stream ended"},
        {"", "stream ended"}, /* the end of the script is the end of the stream */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        T.s = (sink){0, 0, 0, 0};
        char text[200];
        snprintf(text, sizeof text, "tone 440 0.3\n%s\n", cases[i].last);
        cm_capture_config cfg = cm_capture_config_default();
        script_open(text, &cfg);
        cm_diag why = {{0}};
        ck_assert_int_eq(poll_until_error(&why), CM_E_IO);
        ck_assert_msg(strstr(why.msg, cases[i].want) && strstr(why.msg, "stopped delivering"),
                      "case %zu: %s", i, why.msg);
        ck_assert_msg(cm_capture_stop(T.c, &why) == CM_OK, "%s", why.msg);
        /* The error came after the audio in the script, so all of it was captured first. */
        ck_assert_uint_eq(T.s.got, 3 * SRATE / 10);
        ck_assert_int_eq(T.s.ends, 1);
        cm_capture_close(T.c);
        T.c = NULL;
    }
}
END_TEST

START_TEST(test_script_overflow_and_burst)
{
    /* Two overflow flags, then 2 s in one write into a ring of 8192 frames (0.5 s at 16 kHz
     * rounded up to a power of two): at least 32000 - 8192 frames are dropped whatever the
     * worker does; max_frames covers them all, so all count. */
    T.s = (sink){0, 0, 0, 0};
    cm_capture_config cfg = cm_capture_config_default();
    cfg.ring_s = 0.5;
    script_open("overflow\nsilence 0.1\noverflow\nburst 2\npause\n", &cfg);
    wait_captured(SRATE / 10 + 2 * SRATE);
    cm_diag why = {{0}};
    ck_assert_msg(cm_capture_stop(T.c, &why) == CM_OK, "%s", why.msg);
    cm_capture_stats st;
    cm_capture_get_stats(T.c, &st);
    ck_assert_uint_eq(st.overflows, 2);
    ck_assert_uint_ge(st.frames_dropped, 2 * SRATE - 8192);
    ck_assert_uint_eq(st.frames_delivered + st.frames_dropped, st.frames_captured);
    cm_capture_close(T.c);
    T.c = NULL;

    /* The same burst past max_frames: frames never asked for are not a loss. */
    T.s = (sink){0, 0, 0, 0};
    cfg = cm_capture_config_default();
    cfg.ring_s = 0.5;
    cfg.max_frames = SRATE / 10;
    script_open("silence 0.1\nburst 2\npause\n", &cfg);
    wait_captured(SRATE / 10 + 2 * SRATE);
    ck_assert_msg(cm_capture_stop(T.c, &why) == CM_OK, "%s", why.msg);
    cm_capture_get_stats(T.c, &st);
    ck_assert_uint_eq(st.frames_dropped, 0);
    ck_assert_uint_eq(st.frames_delivered, SRATE / 10);
}
END_TEST

START_TEST(test_script_silence_is_not_a_stall)
{
    /* 3.5 s of digital silence with a 3 s stall limit, then a paused device: a quiet room
     * is not a fault, and neither is a device waiting on the test. NaN samples pass through
     * to the caller (the analyzer counts and zeroes them). */
    T.s = (sink){0, 0, 0, 0};
    cm_capture_config cfg = cm_capture_config_default();
    cfg.channels = 2;
    script_open("channels 2\nsilence 3.5\nnan 0.01\npause\n", &cfg);
    wait_captured(7 * SRATE / 2 + SRATE / 100);
    cm_diag why = {{0}};
    for (int i = 0; i < 50; i++) {
        ck_assert_msg(cm_capture_poll(T.c, &why) == CM_OK, "%s", why.msg);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(cm_capture_stop(T.c, &why) == CM_OK, "%s", why.msg);
    ck_assert_uint_eq(T.s.got, 7 * SRATE / 2 + SRATE / 100);
}
END_TEST

START_TEST(test_script_parse_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"tone 440 1\nsing\n", "test:2: unknown command 'sing'"},
        {"\n# comment\ntone 440\n", "test:3: bad arguments to 'tone'"},
        {"silence -1\n", "test:1: bad arguments to 'silence'"},
        {"rate 4000\n", "test:1: bad arguments to 'rate'"},
        {"channels 65\n", "test:1: bad arguments to 'channels'"},
        {"pause now\n", "test:1: bad arguments to 'pause'"},
        {"audio\n", "test:1: bad arguments to 'audio'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cm_capture_source *src = (cm_capture_source *)&T; /* must become NULL */
        cm_diag why = {{0}};
        ck_assert_int_eq(cm_capture_script_parse(cases[i].text, "test", &src, &why), CM_E_FORMAT);
        ck_assert_ptr_null(src);
        ck_assert_msg(strstr(why.msg, cases[i].want), "case %zu: %s", i, why.msg);
    }
    /* A sound file at another rate than the stream: named when the capture opens. */
    char text[1200];
    snprintf(text, sizeof text, "audio %s\n", ramp_wav(100));
    cm_capture_source *src = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_capture_script_parse(text, "test", &src, &why), CM_OK);
    cm_capture_config cfg = cm_capture_config_default();
    cfg.source = src;
    cfg.rate_hz = 48000;
    cfg.on_audio = on_audio;
    cfg.user = &T.s;
    cm_capture *c = NULL;
    ck_assert_int_eq(cm_capture_open(&cfg, &c, &why), CM_E_RANGE);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(why.msg, "ramp.wav is 16000 Hz"), "%s", why.msg);
    /* More channels than the device has. */
    ck_assert_int_eq(cm_capture_script_parse("channels 1\n", "test", &src, &why), CM_OK);
    cfg.source = src;
    cfg.rate_hz = 0; /* the script's default rate */
    cfg.channels = 2;
    ck_assert_int_eq(cm_capture_open(&cfg, &c, &why), CM_E_RANGE);
    ck_assert_msg(strstr(why.msg, "channels=2: device 'script' has 1..1"), "%s", why.msg);
    ck_assert_int_eq(cm_capture_script_load("/nonexistent/script", &src, &why), CM_E_IO);
    ck_assert_ptr_nonnull(strstr(why.msg, "/nonexistent/script"));
}
END_TEST

int main(void)
{
    tu_seed();
    Suite *su = suite_create("capture");
    TCase *tc = tcase_create("alsa_file_pcm");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_ramp_exact);
    tcase_add_test(tc, test_find_and_ranges);
    suite_add_tcase(su, tc);
    TCase *ts = tcase_create("script");
    tcase_set_timeout(ts, 120);
    tcase_add_checked_fixture(ts, NULL, teardown);
    tcase_add_test(ts, test_script_exact);
    tcase_add_test(ts, test_script_stall);
    tcase_add_test(ts, test_script_hang);
    tcase_add_test(ts, test_script_fail);
    tcase_add_test(ts, test_script_overflow_and_burst);
    tcase_add_test(ts, test_script_silence_is_not_a_stall);
    tcase_add_test(ts, test_script_parse_errors);
    suite_add_tcase(su, ts);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
