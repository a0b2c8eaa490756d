/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the three text parsers that take outside input: model files,
 * Audacity label tracks and CSV manifests. The first byte picks the parser (0: model,
 * 1: labels, 2: manifest, by value mod 3), the rest is the input. Build:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *     tests/fuzz/fuzz_parsers.c -DCM_FUZZ_MAIN src/detect/model.c src/detect/labels.c src/detect/net.c \
 *     src/detect/winfeat.c src/detect/metrics.c src/detect/train.c src/detect/mixture.c \
 *     src/detect/trees.c src/detect/train_trees.c \
 *     src/detect/detector.c src/status.c tests/fuzz/no_default_model.c -lcjson -lm \
 *     -o fuzz_parsers
 *   ./fuzz_parsers tests/fuzz/corpus/all   (seed: tests/fuzz/corpus/{model,labels,manifest})
 * tests/unit/test_fuzz_replay.c replays the corpus in ctest. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crymeter/metrics.h"
#include "crymeter/train.h"

int cm_fuzz_one(int which, const uint8_t *data, size_t size);

int cm_fuzz_one(int which, const uint8_t *data, size_t size)
{
    cm_diag why;
    const char *t = (const char *)data;
    if (which == 0) {
        cm_model *m = NULL;
        if (cm_model_load_buffer(t, size, &m, &why) == CM_OK) {
            /* A model that loads must also score and save without trouble. */
            float x[CM_WF_DIM] = {0}, p[CM_NET_CLASSES];
            cm_model_forward(m, x, p);
            free(cm_model_to_json(m));
            cm_model_destroy(m);
        }
    } else if (which == 1) {
        cm_label *l = NULL;
        size_t n = 0;
        if (cm_labels_parse(t, size, &l, &n, &why) == CM_OK) free(l);
    } else {
        cm_manifest *m = NULL;
        if (cm_manifest_parse(t, size, &m, &why) == CM_OK) {
            cm_class c;
            for (size_t i = 0; i < m->n; i++) (void)cm_label_to_class(m->rows[i].label, m->rows[i].hint, &c);
            cm_manifest_free(m);
        }
    }
    return 0;
}

#ifdef CM_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    return cm_fuzz_one(data[0] % 3, data + 1, size - 1);
}
#endif
