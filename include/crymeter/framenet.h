/* SPDX-License-Identifier: MIT */
/* Runtime. The frame network: a small recurrent classifier that reads the front end's frames
 * one at a time (every 10 ms) and gives background / vocal / cry probabilities per frame.
 * The window classifier pools 56 features over 1 s; this network sees the time-frequency
 * pattern itself (spectral shape, level, pitch and voicing frame by frame) through a GRU, as
 * rnnoise does (issue 13, part 3). It is trained outside C by models/train/frame_net.py
 * (PyTorch) and stored as the model file's "frame_net" object (models/README.md); this is its
 * inference, the same arithmetic in float32.
 *
 * Per frame: inputs (cm_fn_inputs, 49 values, see framenet.c) -> standardise -> dense layer
 * with tanh (n_dense) -> GRU (n_hidden; PyTorch's gate order and equations) -> linear ->
 * softmax. Cost: n_dense*49 + 3*n_hidden*(n_dense + n_hidden) + 3*n_hidden multiply-adds per
 * frame (7.7 k for 32/32: 0.77 M per audio second). No allocation after creation; the state
 * is a plain struct, so results are the same whatever the chunking of the input. */
#ifndef CRYMETER_FRAMENET_H
#define CRYMETER_FRAMENET_H

#include <stddef.h>

#include "crymeter/frontend.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_FN_N_IN 49u     /* frame inputs: 40 mel shape + 9 (see cm_fn_inputs) */
#define CM_FN_N_MEL 40u    /* the front end must have this many mel bands */
#define CM_FN_MAX_UNITS 64u
#define CM_FN_CLASSES 3u   /* background, vocal, cry */

typedef struct cm_framenet cm_framenet; /* weights; read-only once loaded, shareable */

typedef struct cm_fn_state {
    float h[CM_FN_MAX_UNITS]; /* GRU state */
    float prev_rms_dbfs;      /* previous frame's level, for the level-change input */
    int started;              /* 0 until the first frame */
} cm_fn_state;

/* Parses a "frame_net" JSON object (its text, n bytes). Every size and weight checked; why
 * names the field ("frame_net.w_ih: 3071 values, expected 3072"). */
CM_NODISCARD cm_status cm_framenet_parse(const char *json, size_t n, cm_framenet **out,
                                         cm_diag *why);
void cm_framenet_destroy(cm_framenet *n); /* NULL is a no-op */
/* The JSON text it was parsed from (to write the model back out). */
const char *cm_framenet_json(const cm_framenet *n);
/* Blend weight of the network's window probabilities against the window classifier's, 0..1
 * (the object's "weight"). */
float cm_framenet_weight(const cm_framenet *n);
/* Sets it (calibrate --frame-net-weight); CM_E_RANGE outside 0..1. The JSON text keeps the
 * parsed value; writers take this one (cm_model_to_json does). */
CM_NODISCARD cm_status cm_framenet_set_weight(cm_framenet *n, float w, cm_diag *why);

/* Weights and biases, standardisation included. */
size_t cm_framenet_n_params(const cm_framenet *n);

void cm_fn_reset(cm_fn_state *s);
/* The 49 inputs of one frame; advances s's level memory. Must match frame_net.py's inputs(). */
void cm_fn_inputs(cm_fn_state *s, const cm_frame *fr, float x[CM_FN_N_IN]);
/* One frame through the network: updates s->h, writes the class probabilities. */
void cm_fn_step(const cm_framenet *n, cm_fn_state *s, const float x[CM_FN_N_IN],
                float p[CM_FN_CLASSES]);

#ifdef __cplusplus
}
#endif
#endif
