/* SPDX-License-Identifier: MIT */
/* Harnesses for the three text parsers that take outside input: model files, Audacity
 * label tracks and CSV manifests (fuzz.h). Build and run: make fuzz (tests/fuzz/README.md). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/learn/metrics.h"
#include "crymeter/model.h"
#include "fuzz.h"

int cm_fuzz_model(const uint8_t *data, size_t size)
{
    cm_diag why;
    cm_model *m = NULL;
    if (cm_model_load_buffer((const char *)data, size, &m, &why) == CM_OK) {
        /* A model that loads must also score and save, and what it saves must load back
         * and score the same, bit for bit (cm_model_save_file is how calibrate writes). */
        float x[CM_WF_DIM], p[CM_NET_CLASSES], q[CM_NET_CLASSES];
        for (size_t i = 0; i < CM_WF_DIM; i++) x[i] = (float)((int)(i % 7) - 3);
        cm_model_forward(m, x, p);
        char *json = cm_model_to_json(m);
        cm_model *back = NULL;
        if (json && cm_model_load_buffer(json, strlen(json), &back, &why) != CM_OK) abort();
        if (back) {
            cm_model_forward(back, x, q);
            if (memcmp(p, q, sizeof p) != 0) abort();
        }
        cm_model_destroy(back);
        free(json);
        cm_model_destroy(m);
    }
    return 0;
}

int cm_fuzz_labels(const uint8_t *data, size_t size)
{
    cm_diag why;
    cm_label *l = NULL;
    size_t n = 0;
    if (cm_labels_parse((const char *)data, size, &l, &n, &why) == CM_OK) {
        cm_class c;
        for (size_t i = 0; i < n; i++) {
            /* The parser promises finite times, 0 <= start <= end, and a terminated text. */
            if (!(l[i].start_s >= 0 && l[i].end_s >= l[i].start_s && l[i].end_s <= 1e9)) abort();
            if (!memchr(l[i].text, 0, sizeof l[i].text)) abort();
            (void)cm_label_to_class(l[i].text, "", &c);
        }
        free(l);
    }
    return 0;
}

int cm_fuzz_manifest(const uint8_t *data, size_t size)
{
    cm_diag why;
    cm_manifest *m = NULL;
    if (cm_manifest_parse((const char *)data, size, &m, &why) == CM_OK) {
        cm_class c;
        for (size_t i = 0; i < m->n; i++) (void)cm_label_to_class(m->rows[i].label, m->rows[i].hint, &c);
        cm_manifest_free(m);
    }
    return 0;
}
