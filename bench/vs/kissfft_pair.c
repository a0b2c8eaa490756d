/* SPDX-License-Identifier: MIT */
/* kissfft alone: 360,000 real 256-point FFTs (one hour of 10 ms frames) against 180,000
 * complex 256-point ones (two real frames per transform), the figure of bench/README.md
 * ("two real frames per complex kissfft"). Build and run:
 *   gcc -O2 -D_GNU_SOURCE bench/vs/kissfft_pair.c $(pkg-config --cflags --libs kissfft-float) \
 *       -o /tmp/kissfft_pair \&\& /tmp/kissfft_pair */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <kiss_fftr.h>
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
int main(void){
  kiss_fftr_cfg r = kiss_fftr_alloc(256, 0, NULL, NULL);
  kiss_fft_cfg c = kiss_fft_alloc(256, 0, NULL, NULL);
  float x[256]; kiss_fft_cpx X[129], ci[256], co[256];
  for (int i = 0; i < 256; i++) { x[i] = rand() / (float)RAND_MAX; ci[i].r = x[i]; ci[i].i = x[255-i]; }
  double acc = 0; int N = 360000;
  for (int rep = 0; rep < 3; rep++) {
  double t0 = now();
  for (int i = 0; i < N; i++) { x[i & 255] += 1e-7f; kiss_fftr(r, x, X); acc += X[5].r; }
  double t1 = now();
  for (int i = 0; i < N / 2; i++) { ci[i & 255].r += 1e-7f; kiss_fft(c, ci, co); acc += co[5].r; }
  double t2 = now();
  printf("1 h of frames: kiss_fftr(256) x%d %.3f s; kiss_fft(256 complex) x%d %.3f s\n", N,
         t1 - t0, N / 2, t2 - t1);
  }
  return acc == 0;
}
