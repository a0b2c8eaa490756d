/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check suites: seeded randomness, signal generators, temp files. */
#ifndef CM_TESTUTIL_H
#define CM_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Seed from CM_TEST_SEED or a fixed default; printed once so a failure can be reproduced. */
uint64_t tu_seed(void);
/* xorshift64* generator: deterministic for a given state. */
uint64_t tu_rand(uint64_t *state);
double tu_uniform(uint64_t *state);               /* [0,1) */
double tu_gauss(uint64_t *state);                 /* N(0,1) */

/* x[i] = amp * sin(2*pi*f*i/rate + phase) */
void tu_sine(float *x, size_t n, double rate_hz, double f_hz, double amp, double phase);

/* A fresh directory under $TMPDIR (or /tmp), removed by tu_tmpdir_cleanup. */
const char *tu_tmpdir(void);
void tu_tmpdir_cleanup(void);
/* Path inside tu_tmpdir(); returns a static buffer rotated among 8 slots. */
const char *tu_path(const char *name);

/* Writes interleaved float frames to a file via libsndfile. format is an SF_FORMAT_* value
 * (e.g. SF_FORMAT_WAV | SF_FORMAT_FLOAT). Returns 0 on success. */
int tu_write_audio(const char *path, int format, unsigned rate_hz, unsigned channels,
                   const float *x, size_t n_frames);

/* A malloc'ed copy of text with the first occurrence of find replaced by replace; NULL when
 * find does not occur (or out of memory). For damaging files in named ways. */
char *tu_replace_first(const char *text, const char *find, const char *replace);

/* $CM_SOURCE_DIR/<rel>, or ../<rel> when unset. Static buffer. */
const char *tu_src(const char *rel);

#endif
