/* SPDX-License-Identifier: MIT */
/* Harness for the file path of `crymeter analyze`: the input bytes are an audio file, opened
 * through the real cm_reader (libsndfile decodes whatever format the bytes claim) and pushed
 * block by block through a cm_analyzer with the compiled-in default model to flush, as
 * cmd_analyze does. Inputs of even length live in a memfd opened by its /proc/self/fd path
 * (a regular file: libsndfile reads it directly), inputs of odd length are written into a
 * pipe read through cm_reader_open_fd (the standard-input path, with its pump thread);
 * nothing touches the disk. One thread (threads = 1) with a level callback, so every stage runs on
 * the fuzzer's thread and the level path is covered too. At most CAP_SAMPLES samples are
 * analysed per input so that one input stays fast (a header may announce hours). Files of
 * more than ANALYZE_MAX_RATE samples per second (rate x channels: 48 kHz x 8, 8 kHz x 48) are
 * only read, not analysed: the analyzer's libebur128 states hold 3 s of every channel (295 MB
 * at 192 kHz x 64), and allocating that for each mutated header took most of the run time. */
#define _GNU_SOURCE /* memfd_create */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crymeter/analyzer.h"
#include "crymeter/classifier.h"
#include "crymeter/reader.h"
#include "fuzz.h"

enum { BUF_SAMPLES = 8192, CAP_SAMPLES = 1 << 16, ANALYZE_MAX_RATE = 384000, PIPE_MAX_BYTES = 1 << 20 };

static void on_event(void *user, cm_event_kind kind, const cm_episode *ep)
{
    (void)user;
    if ((unsigned)kind > CM_EVENT_END || (unsigned)ep->cls >= CM_N_CLASSES) abort();
    if (!(ep->end_s >= ep->start_s) || !isfinite(ep->duration_s) || ep->duration_s < 0) abort();
}

static void on_level(void *user, const cm_level *lv)
{
    (void)user;
    if (!isfinite(lv->t_s) || (unsigned)lv->cls >= CM_N_CLASSES || isnan(lv->score)) abort();
}

int cm_fuzz_reader(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    static cm_model *model;
    static float buf[BUF_SAMPLES];
    cm_diag why;
    if (fd < 0) {
        fd = memfd_create("cm_fuzz_reader", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (cm_model_load_default(&model, &why) != CM_OK) abort(); /* kept for the process */
    }
    cm_reader *r = NULL;
    cm_reader_info info;
    cm_status st;
    int p[2] = {-1, -1};
    if ((size & 1) && size <= PIPE_MAX_BYTES) {
        /* All of it fits the pipe's buffer, so the write never blocks. */
        if (pipe(p) != 0 || fcntl(p[1], F_SETPIPE_SZ, PIPE_MAX_BYTES) < PIPE_MAX_BYTES) abort();
        if (size && write(p[1], data, size) != (ssize_t)size) abort();
        close(p[1]);
        st = cm_reader_open_fd(p[0], "-", &r, &info, &why);
    } else {
        if (ftruncate(fd, 0) != 0) abort();
        for (size_t off = 0; off < size;) {
            ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
            if (w <= 0) abort();
            off += (size_t)w;
        }
        st = cm_reader_open(path, &r, &info, &why);
    }
    if (st != CM_OK) {
        if (r) abort(); /* a failed open leaves no reader */
        if (p[0] >= 0) close(p[0]);
        return 0;
    }
    if (info.rate_hz < 8000 || info.rate_hz > 192000 || info.channels < 1 || info.channels > 64)
        abort(); /* cm_reader_open promises these ranges */
    cm_analyzer *a = NULL;
    if ((uint64_t)info.rate_hz * info.channels <= ANALYZE_MAX_RATE) {
        cm_analyzer_config cfg = cm_analyzer_config_default(info.rate_hz, info.channels);
        cfg.threads = 1;
        cfg.model = model;
        cfg.on_event = on_event;
        cfg.on_level = on_level;
        if (cm_analyzer_create(&cfg, &a, &why) != CM_OK) abort(); /* in range: must be accepted */
    }

    size_t block = BUF_SAMPLES / info.channels, pushed = 0;
    for (;;) {
        size_t n = 0;
        if (cm_reader_read(r, buf, block, &n, &why) != CM_OK || n == 0) break;
        if (n > block) abort();
        if (a && cm_analyzer_push(a, buf, n) != CM_OK) abort();
        pushed += n;
        if (pushed * info.channels >= CAP_SAMPLES) break;
    }
    if (cm_reader_frames_read(r) != pushed) abort();
    /* Truncated: the header announced more frames than came, or an Ogg stream has no
     * end-of-stream page (Ogg announces no length); a partial last frame is less than one
     * frame (at most 8 bytes a sample). */
    if (cm_reader_truncated(r) && !strstr(info.format, "OGG") && !(info.frames > pushed)) abort();
    if (cm_reader_partial_bytes(r) >= 8u * info.channels) abort();
    if (a) {
        if (cm_analyzer_flush(a) != CM_OK) abort();
        cm_summary sum;
        cm_analyzer_summary(a, &sum);
        /* Nothing lost: every frame read was analysed. */
        if (sum.frames_read != pushed || sum.frames_analyzed != pushed) abort();
        cm_analyzer_destroy(a);
    }
    cm_reader_close(r);
    if (p[0] >= 0) close(p[0]);
    return 0;
}
