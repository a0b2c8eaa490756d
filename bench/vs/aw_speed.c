/* SPDX-License-Identifier: MIT */
/* A-weighting time, previous version against this one: 10 min of noise in 100 ms calls. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "crymeter/loudness.h"
typedef struct old_aw old_aw;
cm_status old_aw_create(unsigned, old_aw **, cm_diag *);
void old_aw_process(old_aw *, const float *, size_t, double *);
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc, char **argv) {
  unsigned fs = argc > 1 ? atoi(argv[1]) : 16000;
  size_t n = (size_t)fs * 600, blk = fs / 10;
  float *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = (float)((rand() / (double)RAND_MAX) - 0.5);
  old_aw *o; cm_aw *a; double m, acc = 0;
  if (old_aw_create(fs, &o, NULL) || cm_aw_create(fs, &a, NULL)) return 1;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    for (size_t i = 0; i + blk <= n; i += blk) { old_aw_process(o, x + i, blk, &m); acc += m; }
    double t1 = now();
    for (size_t i = 0; i + blk <= n; i += blk) { cm_aw_process(a, x + i, blk, &m); acc += m; }
    double t2 = now();
    printf("%u Hz, 10 min: cascade %.3f s, parallel pairs %.3f s (x%.2f)\n", fs, t1 - t0, t2 - t1, (t1 - t0) / (t2 - t1));
  }
  return acc < 0;
}
