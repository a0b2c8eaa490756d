/* SPDX-License-Identifier: MIT */
/* A-weighting against a previous version (bench/vs/run.sh): per 100 ms block, the largest
 * relative difference of the maximum Fast mean square, on 20 s of noise, 15 and 31.5 Hz
 * tones, DC and a -80 dB stretch, at 8-192 kHz. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include "crymeter/loudness.h"
typedef struct old_aw old_aw;
cm_status old_aw_create(unsigned, old_aw **, cm_diag *);
void old_aw_process(old_aw *, const float *, size_t, double *);
int main(void) {
  unsigned rates[] = {8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000};
  for (int r = 0; r < 8; r++) {
    unsigned fs = rates[r];
    size_t n = fs * 20;
    float *x = malloc(n * sizeof *x);
    unsigned long long s = 12345;
    for (size_t i = 0; i < n; i++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      double u = ((s >> 11) * (1.0 / 9007199254740992.0)) - 0.5;
      double t = (double)i / fs;
      /* noise, a 15 Hz and a 31.5 Hz tone, a DC offset, a quiet stretch */
      double v = 0.3 * u + 0.4 * sin(2 * M_PI * 15 * t) + 0.2 * sin(2 * M_PI * 31.5 * t) + 0.05;
      if (t > 10 && t < 12) v *= 1e-4;
      x[i] = (float)v;
    }
    old_aw *o; cm_aw *a;
    if (old_aw_create(fs, &o, NULL) || cm_aw_create(fs, &a, NULL)) return 1;
    double worst = 0; size_t blk = fs / 10;
    for (size_t i = 0; i + blk <= n; i += blk) {
      double m1, m2;
      old_aw_process(o, x + i, blk, &m1);
      cm_aw_process(a, x + i, blk, &m2);
      double rel = fabs(m1 - m2) / m1;
      if (rel > worst) worst = rel;
    }
    printf("%6u Hz: worst relative difference of block ms_max %.3g\n", fs, worst);
  }
  return 0;
}
