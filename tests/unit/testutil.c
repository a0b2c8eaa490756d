/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check suites. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

uint64_t tu_seed(void)
{
    static uint64_t seed;
    static int done;
    if (!done) {
        const char *s = getenv("CM_TEST_SEED");
        seed = s ? strtoull(s, NULL, 0) : 0x5eed1234abcdULL;
        if (seed == 0) seed = 1;
        fprintf(stderr, "test seed: CM_TEST_SEED=0x%llx\n", (unsigned long long)seed);
        done = 1;
    }
    return seed;
}

uint64_t tu_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double tu_uniform(uint64_t *s) { return (double)(tu_rand(s) >> 11) * (1.0 / 9007199254740992.0); }

double tu_gauss(uint64_t *s)
{
    double u1 = tu_uniform(s), u2 = tu_uniform(s);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void tu_sine(float *x, size_t n, double rate_hz, double f_hz, double amp, double phase)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2.0 * M_PI * f_hz * (double)i / rate_hz + phase));
}

static char tmpdir[512];

const char *tu_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/cmtest.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return tmpdir;
}

void tu_tmpdir_cleanup(void)
{
    if (tmpdir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
        tmpdir[0] = 0;
    }
}

const char *tu_path(const char *name)
{
    static char buf[8][700];
    static int slot;
    char *p = buf[slot++ & 7];
    snprintf(p, 700, "%s/%s", tu_tmpdir(), name);
    return p;
}

int tu_write_audio(const char *path, int format, unsigned rate_hz, unsigned channels,
                   const float *x, size_t n_frames)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = (int)rate_hz;
    info.channels = (int)channels;
    info.format = format;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        fprintf(stderr, "tu_write_audio %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    sf_count_t w = sf_writef_float(f, x, (sf_count_t)n_frames);
    sf_close(f);
    return w == (sf_count_t)n_frames ? 0 : -1;
}

const char *tu_src(const char *rel)
{
    static char buf[1024];
    const char *d = getenv("CM_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/%s", d ? d : "..", rel);
    return buf;
}

char *tu_replace_first(const char *text, const char *find, const char *replace)
{
    const char *at = strstr(text, find);
    if (!at) return NULL;
    size_t pre = (size_t)(at - text), lf = strlen(find), lr = strlen(replace);
    char *out = malloc(strlen(text) - lf + lr + 1);
    if (!out) return NULL;
    memcpy(out, text, pre);
    memcpy(out + pre, replace, lr);
    strcpy(out + pre + lr, at + lf);
    return out;
}
