/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point: CM_FUZZ_TARGET names the harness (cm_fuzz_model, ...), set per
 * executable by CMakeLists.txt under -DCM_FUZZ=ON. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return CM_FUZZ_TARGET(data, size);
}
