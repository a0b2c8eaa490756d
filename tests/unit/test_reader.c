/* SPDX-License-Identifier: MIT */
/* Check suite for cm_reader. Every input is made here, in a fresh temp directory: audio
 * through libsndfile (tu_write_audio), bad files as raw bytes. Covers each documented
 * failure (status and the words of the message), truncation, values that must come through
 * bit-exact (float files, NaN/Inf, above full scale), integer scaling, the rate/channel
 * ranges, FLAC, Ogg Vorbis, Ogg Opus and MP3 (written by libsndfile, so they need its
 * encoders), and streaming invariance: any block size gives the same samples as one read. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "crymeter/reader.h"
#include "testutil.h"

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* Writes 16-bit samples as they are, so the test controls the exact integers on disk
 * (libsndfile's float writer scales by 32767 but its reader by 1/32768). */
static void write_short(const char *path, int format, unsigned rate, unsigned ch,
                        const short *x, size_t n)
{
    SF_INFO si = {.samplerate = (int)rate, .channels = (int)ch, .format = format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &si);
    ck_assert_msg(f != NULL, "%s: %s", path, sf_strerror(NULL));
    ck_assert_int_eq(sf_writef_short(f, x, (sf_count_t)n), (sf_count_t)n);
    ck_assert_int_eq(sf_close(f), 0);
}

/* Reads the whole file in blocks of `block` frames; returns a malloc'd buffer and the
 * frame count, and checks the reader's own count and the EOF contract on the way. */
static float *read_all(const char *path, size_t block, size_t *n_frames, cm_reader_info *info,
                       int *truncated)
{
    cm_reader *r = NULL;
    cm_diag why = {{0}};
    cm_status s = cm_reader_open(path, &r, info, &why);
    ck_assert_msg(s == CM_OK, "open %s: %d %s", path, s, why.msg);
    ck_assert_ptr_nonnull(r);
    size_t ch = info->channels, cap = 1024, n = 0;
    float *all = malloc(cap * ch * sizeof *all);
    float *buf = malloc(block * ch * sizeof *buf);
    ck_assert_ptr_nonnull(all);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        size_t got = 99;
        s = cm_reader_read(r, buf, block, &got, &why);
        ck_assert_msg(s == CM_OK, "read %s: %s", path, why.msg);
        ck_assert_uint_le(got, block);
        if (got == 0) break;
        ck_assert_int_eq(cm_reader_truncated(r), 0); /* only known after EOF */
        if (n + got > cap) {
            while (n + got > cap) cap *= 2;
            all = realloc(all, cap * ch * sizeof *all);
            ck_assert_ptr_nonnull(all);
        }
        memcpy(all + n * ch, buf, got * ch * sizeof *buf);
        n += got;
    }
    /* EOF is sticky. */
    size_t again = 99;
    ck_assert_int_eq(cm_reader_read(r, buf, block, &again, NULL), CM_OK);
    ck_assert_uint_eq(again, 0);
    ck_assert_uint_eq(cm_reader_frames_read(r), n);
    *truncated = cm_reader_truncated(r);
    cm_reader_close(r);
    free(buf);
    *n_frames = n;
    return all;
}

/* ---- failures: status and message ---------------------------------------------------- */

typedef enum { MK_NONE, MK_EMPTY, MK_TEXT, MK_ZERO_WAV, MK_RATE_4K, MK_CH_65, MK_DIR,
               MK_HEADER_ONLY } maker;

static const struct {
    const char *name;
    maker make;
    cm_status want;
    const char *words; /* must appear in why.msg, beside the file name */
} bad_cases[] = {
    {"missing.wav", MK_NONE, CM_E_IO, "no such file"},
    {"dir.wav", MK_DIR, CM_E_IO, "is a directory"},
    {"empty.wav", MK_EMPTY, CM_E_FORMAT, "empty file (0 bytes"},
    {"text.wav", MK_TEXT, CM_E_FORMAT, "not an audio file libsndfile recognises"},
    {"zero.wav", MK_ZERO_WAV, CM_E_FORMAT, "no audio frames"},
    {"headeronly.wav", MK_HEADER_ONLY, CM_E_FORMAT, "truncated (header announces 100 frames"},
    {"rate4k.wav", MK_RATE_4K, CM_E_RANGE,
     "unsupported sample rate 4000 Hz (expected 8000..192000)"},
    {"ch65.wav", MK_CH_65, CM_E_RANGE, "unsupported channel count 65 (expected 1..64)"},
};

START_TEST(test_bad_files)
{
    const char *path = tu_path(bad_cases[_i].name);
    static float zeros[65 * 100];
    switch (bad_cases[_i].make) {
    case MK_NONE: break;
    case MK_DIR: ck_assert_int_eq(mkdir(path, 0700), 0); break;
    case MK_EMPTY: write_bytes(path, "", 0); break;
    case MK_TEXT: {
        const char *t = "This is not audio.\nJust some notes someone saved as .wav\n";
        write_bytes(path, t, strlen(t));
        break;
    }
    case MK_ZERO_WAV:
        ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, zeros, 0),
                         0);
        break;
    case MK_HEADER_ONLY:
        ck_assert_int_eq(
            tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, zeros, 100), 0);
        ck_assert_int_eq(truncate(path, 44), 0);
        break;
    case MK_RATE_4K:
        ck_assert_int_eq(
            tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 4000, 1, zeros, 100), 0);
        break;
    case MK_CH_65:
        ck_assert_int_eq(
            tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 65, zeros, 100), 0);
        break;
    }
    cm_reader *r = (cm_reader *)&r; /* garbage: open must reset it */
    cm_reader_info info;
    memset(&info, 0xAB, sizeof info);
    cm_diag why = {{0}};
    cm_status s = cm_reader_open(path, &r, &info, &why);
    ck_assert_msg(s == bad_cases[_i].want, "%s: got %d want %d (%s)", bad_cases[_i].name, s,
                  bad_cases[_i].want, why.msg);
    ck_assert_ptr_null(r);
    ck_assert_uint_eq(info.rate_hz, 0);
    ck_assert_uint_eq(info.channels, 0);
    ck_assert_msg(strstr(why.msg, path) != NULL, "message lacks the path: %s", why.msg);
    ck_assert_msg(strstr(why.msg, bad_cases[_i].words) != NULL, "message lacks \"%s\": %s",
                  bad_cases[_i].words, why.msg);
}
END_TEST

START_TEST(test_unreadable)
{
    if (geteuid() == 0) {
        /* root reads through mode 000, so the case cannot be made; say so, do not pass
         * quietly on a false premise. */
        fprintf(stderr, "test_unreadable: running as root, permission case not checkable\n");
        return;
    }
    const char *path = tu_path("noperm.wav");
    float x[10] = {0};
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x, 10), 0);
    ck_assert_int_eq(chmod(path, 0), 0);
    cm_reader *r = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_reader_open(path, &r, NULL, &why), CM_E_IO);
    ck_assert_ptr_nonnull(strstr(why.msg, "Permission denied"));
}
END_TEST

START_TEST(test_null_args)
{
    cm_reader *r = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_reader_open(NULL, &r, NULL, &why), CM_E_INVAL);
    ck_assert_int_eq(cm_reader_open("x.wav", NULL, NULL, NULL), CM_E_INVAL);
    size_t n = 5;
    float buf[4];
    ck_assert_int_eq(cm_reader_read(NULL, buf, 4, &n, NULL), CM_E_INVAL);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(cm_reader_frames_read(NULL), 0);
    ck_assert_int_eq(cm_reader_truncated(NULL), 0);
    cm_reader_close(NULL);

    const char *path = tu_path("zeroblock.wav");
    float x[4] = {0.25f, 0.5f, 0.75f, 1.0f};
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, x, 4), 0);
    ck_assert_int_eq(cm_reader_open(path, &r, NULL, &why), CM_OK);
    ck_assert_int_eq(cm_reader_read(r, buf, 0, &n, &why), CM_E_INVAL);
    ck_assert_ptr_nonnull(strstr(why.msg, "max_frames=0"));
    cm_reader_close(r);
}
END_TEST

/* ---- values ---------------------------------------------------------------------------- */

START_TEST(test_float_exact_nonfinite)
{
    /* Float files are not normalised: 0.5 stays 0.5, values above full scale stay, and
     * NaN/Inf reach the analyzer (which counts and zeroes them). */
    const float x[] = {0.5f, -0.25f, NAN, INFINITY, -INFINITY, 2.0f, -3.5f, 1e-30f};
    const size_t n = sizeof x / sizeof x[0];
    const char *path = tu_path("nonfinite.wav");
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, n), 0);
    cm_reader_info info;
    size_t got;
    int trunc;
    float *y = read_all(path, 3, &got, &info, &trunc);
    ck_assert_uint_eq(got, n);
    ck_assert_int_eq(trunc, 0);
    ck_assert_uint_eq(info.rate_hz, 48000);
    ck_assert_uint_eq(info.channels, 1);
    ck_assert_uint_eq(info.frames, n);
    ck_assert_str_eq(info.format, "WAV (Microsoft) / 32 bit float");
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            ck_assert_msg(isnan(y[i]), "sample %zu: want NaN, got %g", i, (double)y[i]);
        else
            ck_assert_msg(memcmp(&x[i], &y[i], sizeof x[i]) == 0, "sample %zu: want %g got %g", i,
                          (double)x[i], (double)y[i]);
    }
    free(y);
}
END_TEST

START_TEST(test_int16_scaled)
{
    /* 16-bit PCM reads as [-1, 1): sample / 32768, exactly. */
    const short x[] = {16384, -16384, -32768, 32767, 0, 1, -1};
    const size_t n = sizeof x / sizeof x[0];
    const char *path = tu_path("pcm16.wav");
    write_short(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x, n);
    cm_reader_info info;
    size_t got;
    int trunc;
    float *y = read_all(path, 64, &got, &info, &trunc);
    ck_assert_uint_eq(got, n);
    ck_assert_str_eq(info.format, "WAV (Microsoft) / Signed 16 bit PCM");
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(y[i], (float)x[i] / 32768.0f);
    ck_assert_float_eq(y[0], 0.5f);
    ck_assert_float_eq(y[2], -1.0f);
    free(y);
}
END_TEST

START_TEST(test_one_sample)
{
    const float x[] = {-0.125f};
    const char *path = tu_path("one.wav");
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 8000, 1, x, 1), 0);
    cm_reader_info info;
    size_t got;
    int trunc;
    float *y = read_all(path, 4096, &got, &info, &trunc);
    ck_assert_uint_eq(got, 1);
    ck_assert_int_eq(trunc, 0);
    ck_assert_uint_eq(info.rate_hz, 8000);
    ck_assert_float_eq(y[0], -0.125f);
    free(y);
}
END_TEST

/* Channel c of frame i: distinct per channel and per frame, exact in float. */
static float pattern(size_t i, unsigned c)
{
    return (float)((double)((i * 37 + c * 1009) % 2048) / 2048.0 - 0.5);
}

START_TEST(test_8ch_192k)
{
    const unsigned ch = 8, rate = 192000;
    const size_t n = 19200; /* 100 ms */
    float *x = malloc(n * ch * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < ch; c++) x[i * ch + c] = pattern(i, c);
    const char *path = tu_path("8ch192k.wav");
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, ch, x, n), 0);
    cm_reader_info info;
    size_t got;
    int trunc;
    float *y = read_all(path, 1000, &got, &info, &trunc);
    ck_assert_uint_eq(info.rate_hz, rate);
    ck_assert_uint_eq(info.channels, ch);
    ck_assert_uint_eq(got, n);
    ck_assert_int_eq(memcmp(x, y, n * ch * sizeof *x), 0);
    free(x);
    free(y);
}
END_TEST

START_TEST(test_64ch_limit)
{
    const unsigned ch = 64;
    const size_t n = 50;
    float *x = calloc(n * ch, sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++) x[i * ch + 63] = pattern(i, 63);
    const char *path = tu_path("64ch.wav");
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 192000, ch, x, n), 0);
    cm_reader_info info;
    size_t got;
    int trunc;
    float *y = read_all(path, 7, &got, &info, &trunc);
    ck_assert_uint_eq(info.channels, 64);
    ck_assert_uint_eq(got, n);
    ck_assert_int_eq(memcmp(x, y, n * ch * sizeof *x), 0);
    free(x);
    free(y);
}
END_TEST

/* ---- truncation and decode errors -------------------------------------------------------- */

START_TEST(test_truncated_wav)
{
    /* 1000 stereo 16-bit frames; cut the file after 489 whole frames and half a sample. */
    const size_t n = 1000, keep = 489;
    float x[2000];
    for (size_t i = 0; i < n; i++) {
        x[2 * i] = pattern(i, 0);
        x[2 * i + 1] = pattern(i, 1);
    }
    const char *path = tu_path("trunc.wav");
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2, x, n), 0);
    ck_assert_int_eq(truncate(path, 44 + 4 * (off_t)keep + 1), 0);
    cm_reader_info info;
    size_t got;
    int trunc;
    float *y = read_all(path, 100, &got, &info, &trunc);
    ck_assert_uint_eq(info.frames, n); /* what the header says */
    ck_assert_uint_eq(got, keep);
    ck_assert_int_eq(trunc, 1);
    /* 16-bit quantisation of the pattern: half a step. */
    for (size_t i = 0; i < 2 * keep; i++) ck_assert_float_eq_tol(y[i], x[i], 1.0f / 32768.0f);
    free(y);

    /* The same file intact is not truncated. */
    const char *whole = tu_path("whole.wav");
    ck_assert_int_eq(tu_write_audio(whole, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2, x, n), 0);
    y = read_all(whole, 100, &got, &info, &trunc);
    ck_assert_uint_eq(got, n);
    ck_assert_int_eq(trunc, 0);
    free(y);
}
END_TEST

START_TEST(test_corrupt_flac)
{
    /* Garbage over the middle of a FLAC file: frames before it arrive, then CM_E_FORMAT
     * naming the file and the frame count; the error is sticky. */
    const size_t n = 160000;
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    tu_sine(x, n, 16000, 440, 0.5, 0);
    const char *path = tu_path("corrupt.flac");
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, x, n), 0);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    ck_assert_int_eq(fseek(f, len / 2, SEEK_SET), 0);
    uint64_t st = tu_seed();
    for (int i = 0; i < 2000; i++) putc((int)(tu_rand(&st) & 255), f);
    ck_assert_int_eq(fclose(f), 0);

    cm_reader *r = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_reader_open(path, &r, NULL, &why), CM_OK);
    size_t total = 0, got;
    cm_status s;
    while ((s = cm_reader_read(r, x, 1000, &got, &why)) == CM_OK && got > 0) total += got;
    ck_assert_msg(s == CM_E_FORMAT, "status %d after %zu frames: %s", s, total, why.msg);
    ck_assert_uint_gt(total, 0);
    ck_assert_uint_lt(total, n);
    ck_assert_uint_eq(cm_reader_frames_read(r), total);
    ck_assert_ptr_nonnull(strstr(why.msg, path));
    ck_assert_ptr_nonnull(strstr(why.msg, "decode error after"));
    ck_assert_int_eq(cm_reader_read(r, x, 1000, &got, NULL), CM_E_FORMAT);
    ck_assert_uint_eq(got, 0);
    cm_reader_close(r);
    free(x);
}
END_TEST

/* ---- codecs ---------------------------------------------------------------------------- */

START_TEST(test_flac_roundtrip)
{
    const size_t n = 4800;
    short x[2 * 4800];
    uint64_t st = tu_seed();
    for (size_t i = 0; i < 2 * n; i++) x[i] = (short)(tu_rand(&st) & 0xFFFF);
    x[0] = -32768;
    x[1] = 32767;
    const char *path = tu_path("rt.flac");
    write_short(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, x, n);
    cm_reader_info info;
    size_t got;
    int trunc;
    float *y = read_all(path, 333, &got, &info, &trunc);
    ck_assert_uint_eq(got, n);
    ck_assert_uint_eq(info.frames, n);
    ck_assert_uint_eq(info.rate_hz, 44100);
    ck_assert_int_eq(trunc, 0);
    ck_assert_str_eq(info.format, "FLAC (Free Lossless Audio Codec) / Signed 16 bit PCM");
    for (size_t i = 0; i < 2 * n; i++) ck_assert_float_eq(y[i], (float)x[i] / 32768.0f);
    free(y);
}
END_TEST

static const struct {
    const char *name;
    int format;
    const char *format_name;
    int same_waveform; /* 0 when the codec's delay handling is not sample-exact */
} lossy_cases[] = {
    {"rt.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, "OGG (OGG Container format) / Vorbis", 1},
    {"rt.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, "OGG (OGG Container format) / Opus", 0},
    {"rt.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, "MPEG-1/2 Audio / MPEG Layer III", 0},
};

START_TEST(test_lossy_roundtrip)
{
    const size_t n = 48000;
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    tu_sine(x, n, 48000, 1000, 0.5, 0);
    const char *path = tu_path(lossy_cases[_i].name);
    ck_assert_int_eq(tu_write_audio(path, lossy_cases[_i].format, 48000, 1, x, n), 0);
    cm_reader_info info;
    size_t got;
    int trunc;
    float *y = read_all(path, 1024, &got, &info, &trunc);
    ck_assert_str_eq(info.format, lossy_cases[_i].format_name);
    ck_assert_uint_eq(info.rate_hz, 48000);
    ck_assert_uint_eq(got, n);
    ck_assert_int_eq(trunc, 0);
    /* Lossy: compare the level of the middle half (codec start-up excluded). A 0.5
     * amplitude sine has RMS 0.3536; each codec at default quality keeps it within 0.2 dB. */
    double e = 0, d = 0;
    for (size_t i = n / 4; i < 3 * n / 4; i++) {
        e += (double)y[i] * y[i];
        d += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
    }
    double rms = sqrt(e / (double)(n / 2));
    ck_assert_double_eq_tol(20 * log10(rms / (0.5 / sqrt(2.0))), 0.0, 0.2);
    /* And it is the same waveform, not just the same level: error 30 dB below signal. */
    if (lossy_cases[_i].same_waveform) ck_assert_double_lt(d, e * 1e-3);
    free(x);
    free(y);
}
END_TEST

/* ---- streaming invariance -------------------------------------------------------------- */

static const size_t block_sizes[] = {1, 2, 3, 7, 64, 1023, 4096, 100000};

START_TEST(test_block_invariance)
{
    const unsigned ch = 3;
    const size_t n = 12345;
    float *x = malloc(n * ch * sizeof *x);
    ck_assert_ptr_nonnull(x);
    uint64_t st = tu_seed();
    for (size_t i = 0; i < n * ch; i++) x[i] = (float)(tu_uniform(&st) * 2.0 - 1.0);
    const char *path = tu_path("blocks.wav");
    ck_assert_int_eq(tu_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 22050, ch, x, n), 0);
    cm_reader_info info;
    size_t n_big, n_small;
    int trunc;
    float *big = read_all(path, n + 10, &n_big, &info, &trunc);
    float *small = read_all(path, block_sizes[_i], &n_small, &info, &trunc);
    ck_assert_uint_eq(n_big, n);
    ck_assert_uint_eq(n_small, n);
    ck_assert_int_eq(memcmp(big, small, n * ch * sizeof *big), 0);
    free(x);
    free(big);
    free(small);
}
END_TEST

/* ---- streams: a pipe read once, through cm_reader_open_fd ------------------------------ */

typedef struct feed {
    int fd;
    const unsigned char *p;
    size_t n;
} feed;

static void *feeder(void *arg)
{
    feed *f = arg;
    size_t off = 0;
    while (off < f->n) {
        ssize_t w = write(f->fd, f->p + off, f->n - off > 3000 ? 3000 : f->n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

/* 0: the file as it is; 1: its data size set to 0xFFFFFFFF (a streaming writer's) and one
 * byte more; 2: cut after 30001 bytes. Written in 3000-byte pieces through a pipe. */
START_TEST(test_pipe_stream)
{
    enum { N = 20000 };
    const char *path = tu_path("stream.wav");
    short *x = malloc(N * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < N; i++) x[i] = (short)((i * 37) % 60000 - 30000);
    write_short(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x, N);
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    unsigned char *bytes = malloc(2 * N + 4096);
    ck_assert_ptr_nonnull(bytes);
    size_t n = fread(bytes, 1, 2 * N + 4096, fp);
    fclose(fp);
    size_t data = 0;
    for (size_t i = 12; i + 8 <= n; i++)
        if (memcmp(bytes + i, "data", 4) == 0) {
            data = i + 8;
            break;
        }
    ck_assert_uint_gt(data, 0);
    size_t want = N;
    unsigned want_partial = 0;
    int want_trunc = 0;
    if (_i == 1) {
        memset(bytes + data - 4, 0xFF, 4);
        bytes[n++] = 0x7f;
        want_partial = 1;
    } else if (_i == 2) {
        n = 30001;
        want = (n - data) / 2;
        want_partial = 1;
        want_trunc = 1;
    }
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    feed f = {.fd = pfd[1], .p = bytes, .n = n};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, feeder, &f), 0);
    cm_reader *r = NULL;
    cm_reader_info info;
    cm_diag why = {{0}};
    ck_assert_msg(cm_reader_open_fd(pfd[0], "-", &r, &info, &why) == CM_OK, "%s", why.msg);
    ck_assert_uint_eq(info.frames, _i == 1 ? 0 : N); /* unknown length: 0 */
    float buf[777];
    size_t total = 0, got;
    do {
        ck_assert_int_eq(cm_reader_read(r, buf, 777, &got, &why), CM_OK);
        for (size_t i = 0; i < got; i++)
            ck_assert_float_eq(buf[i], x[total + i] / 32768.0f); /* exact: 1/32768 scaling */
        total += got;
    } while (got);
    ck_assert_uint_eq(total, want);
    ck_assert_int_eq(cm_reader_truncated(r), want_trunc);
    ck_assert_uint_eq(cm_reader_partial_bytes(r), want_partial);
    ck_assert_int_eq(cm_reader_stream_cut(r), 0);
    cm_reader_close(r); /* the fd is the caller's */
    pthread_join(th, NULL);
    ck_assert_int_eq(close(pfd[0]), 0);
    free(bytes);
    free(x);
}
END_TEST

static Suite *reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_bad_files, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_unreadable);
    tcase_add_test(tc, test_null_args);
    tcase_add_test(tc, test_truncated_wav);
    tcase_add_test(tc, test_corrupt_flac);
    suite_add_tcase(s, tc);
    TCase *tv = tcase_create("values");
    tcase_set_timeout(tv, 60);
    tcase_add_test(tv, test_float_exact_nonfinite);
    tcase_add_test(tv, test_int16_scaled);
    tcase_add_test(tv, test_one_sample);
    tcase_add_test(tv, test_8ch_192k);
    tcase_add_test(tv, test_64ch_limit);
    tcase_add_test(tv, test_flac_roundtrip);
    tcase_add_loop_test(tv, test_lossy_roundtrip, 0,
                        (int)(sizeof lossy_cases / sizeof lossy_cases[0]));
    tcase_add_loop_test(tv, test_block_invariance, 0,
                        (int)(sizeof block_sizes / sizeof block_sizes[0]));
    tcase_add_loop_test(tv, test_pipe_stream, 0, 3);
    suite_add_tcase(s, tv);
    return s;
}

int main(void)
{
    tu_seed();
    tu_tmpdir(); /* created before forking so every test shares it and main removes it */
    SRunner *sr = srunner_create(reader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
