/* SPDX-License-Identifier: MIT */
/* Window features, previous version against this one: 20,000 random windows (1-100 frames,
 * 23/40/64 mel bands, voiced and unvoiced frames) must give the same bits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "crymeter/model.h"
float old_wf_compute(const cm_frame *fr, size_t n, float out[CM_WF_DIM]);
int main(void) {
  static cm_frame fr[100];
  unsigned long long s = 7;
  #define R() ((s = s * 6364136223846793005ULL + 1442695040888963407ULL), (double)(s >> 11) / 9007199254740992.0)
  int bad = 0;
  for (int trial = 0; trial < 20000; trial++) {
    size_t n = 1 + (size_t)(R() * 100);
    unsigned nm = trial % 3 == 0 ? 40 : (trial % 3 == 1 ? 23 : 64 < CM_FRONT_MAX_MEL ? 64 : CM_FRONT_MAX_MEL);
    for (size_t t = 0; t < n; t++) {
      memset(&fr[t], 0, sizeof fr[t]);
      fr[t].index = t; fr[t].n_mel = nm;
      for (unsigned b = 0; b < nm; b++) fr[t].mel_db[b] = (float)(-120 + 120 * R());
      fr[t].rms_dbfs = (float)(-90 + 90 * R());
      fr[t].centroid_hz = (float)(4000 * R()); fr[t].rolloff_hz = (float)(4000 * R());
      fr[t].flatness = (float)R(); fr[t].flux = (float)(10 * R());
      fr[t].voicing = (float)R(); fr[t].f0_hz = R() < 0.5 ? 0.f : (float)(150 + 850 * R());
    }
    float a[CM_WF_DIM], b[CM_WF_DIM];
    float pa = old_wf_compute(fr, n, a), pb = cm_wf_compute(fr, n, b);
    if (pa != pb || memcmp(a, b, sizeof a)) bad++;
  }
  printf("%d of 20000 windows differ\n", bad);
  return bad != 0;
}
