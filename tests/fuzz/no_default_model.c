/* SPDX-License-Identifier: MIT */
/* Stand-in for the generated default_model.c when building the fuzzer by hand. */
#include <stddef.h>
const unsigned char cm_default_model_json[] = {0};
const size_t cm_default_model_json_len = 0;
