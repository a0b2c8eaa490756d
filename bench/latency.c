/* SPDX-License-Identifier: MIT */
/* Start-record latency in audio time (README, monitor section). Build after `make build`:
 *   gcc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Iinclude bench/latency.c build/libcrymeter.a \
 *       -o /tmp/latency $(pkg-config --libs sndfile kissfft-float libebur128 soxr portaudio-2.0 \
 *       libcjson) -lm -lpthread && /tmp/latency samples/demo.flac
 * The file is pushed in 10 ms chunks, as the capture worker does; for each START event it
 * prints the episode start and how much audio had been pushed when the record fired. The
 * latency is that minus the labelled onset (demo.flac: 4.0, 24.0, 48.0 s, samples/demo.txt).
 * MINEP=S overrides the model's minimum episode length. */
#include <stdio.h>
#include <stdlib.h>
#include <sndfile.h>
#include "crymeter/analyzer.h"
static double pushed_s;
static void on_ev(void *u, cm_event_kind k, const cm_episode *e)
{
    (void)u;
    if (k == CM_EVENT_START)
        printf("start %s: episode start %.3f s, announced at %.3f s of audio\n",
               cm_class_name(e->cls), e->start_s, pushed_s);
}
int main(int argc, char **argv)
{
    SF_INFO in = {0};
    SNDFILE *f = sf_open(argv[1], SFM_READ, &in);
    float *x = malloc(sizeof(float) * in.frames);
    sf_readf_float(f, x, in.frames);
    cm_analyzer_config c = cm_analyzer_config_default(in.samplerate, 1);
    c.on_event = on_ev;
    if (getenv("MINEP")) c.min_episode_s = atof(getenv("MINEP"));
    /* Every stage on this thread, as in monitor (its on_level keeps them there): the file
     * path's front-end thread hands frames on in 1 s jobs up to 4 jobs behind the push, which
     * timed the demo's START records at 9.1 and 53.1 s instead of 5.9 and 49.7 s. */
    c.threads = 1;
    cm_analyzer *a;
    if (cm_analyzer_create(&c, &a, NULL)) return 1;
    size_t hop = in.samplerate / 100;
    for (size_t i = 0; i < (size_t)in.frames; i += hop) {
        size_t n = i + hop <= (size_t)in.frames ? hop : in.frames - i;
        pushed_s = (double)(i + n) / in.samplerate;
        if (cm_analyzer_push(a, x + i, n)) return 1;
    }
    (void)argc;
    return cm_analyzer_flush(a);
}
