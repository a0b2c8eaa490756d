/* SPDX-License-Identifier: MIT */
/* Window features time, previous version against this one: one hour of windows (14,400). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "crymeter/model.h"
float old_wf_compute(const cm_frame *fr, size_t n, float out[CM_WF_DIM]);
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
int main(void) {
  static cm_frame fr[100];
  unsigned long long s = 7;
  #define R() ((s = s * 6364136223846793005ULL + 1442695040888963407ULL), (double)(s >> 11) / 9007199254740992.0)
  for (size_t t = 0; t < 100; t++) {
      fr[t].index = t; fr[t].n_mel = 40;
      for (unsigned b = 0; b < 40; b++) fr[t].mel_db[b] = (float)(-80 + 60 * R());
      fr[t].rms_dbfs = (float)(-50 + 40 * R());
      fr[t].centroid_hz = (float)(4000 * R()); fr[t].rolloff_hz = (float)(4000 * R());
      fr[t].flatness = (float)R(); fr[t].flux = (float)(10 * R());
      fr[t].voicing = (float)R(); fr[t].f0_hz = R() < 0.3 ? 0.f : (float)(150 + 850 * R());
  }
  float a[CM_WF_DIM]; double acc = 0;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    for (int i = 0; i < 14400; i++) { acc += old_wf_compute(fr, 100, a); acc += a[i % CM_WF_DIM]; }
    double t1 = now();
    for (int i = 0; i < 14400; i++) { acc += cm_wf_compute(fr, 100, a); acc += a[i % CM_WF_DIM]; }
    double t2 = now();
    printf("1 h of windows (14,400): old %.3f s, new %.3f s\n", t1 - t0, t2 - t1);
  }
  return acc == 0;
}
