/* SPDX-License-Identifier: MIT */
/* The fuzz harnesses, one per outside input. Each takes the raw bytes of one input (no
 * selector byte), returns 0, and aborts only on a broken invariant; sanitizers catch the
 * rest. fuzz_main.c wraps one of them as LLVMFuzzerTestOneInput (make fuzz, build-fuzz/);
 * tests/unit/test_fuzz_replay.c runs the same functions over tests/fuzz/corpus/ in make
 * check. */
#ifndef CM_FUZZ_H
#define CM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int cm_fuzz_model(const uint8_t *data, size_t size);    /* model JSON: load, score, save */
int cm_fuzz_labels(const uint8_t *data, size_t size);   /* Audacity label track */
int cm_fuzz_manifest(const uint8_t *data, size_t size); /* CSV manifest path,label[,group] */
int cm_fuzz_options(const uint8_t *data, size_t size);  /* NUL/newline-separated arguments */
int cm_fuzz_reader(const uint8_t *data, size_t size);   /* an audio file: cm_reader + cm_analyzer */

#endif
