/* SPDX-License-Identifier: MIT */
/* Class names for cm_class: the one table that turns the enum into the words used in
 * reports, model files and label manifests ("background", "vocal", "cry", "sob"), and
 * back (classes.h). */
#include "crymeter/classes.h"

#include <stddef.h>

static const char *const class_names[CM_N_CLASSES] = {
    [CM_CLASS_BACKGROUND] = "background",
    [CM_CLASS_VOCAL] = "vocal",
    [CM_CLASS_CRY] = "cry",
    [CM_CLASS_SOB] = "sob",
};

const char *cm_class_name(cm_class c)
{
    /* The cast to unsigned also rejects negative values a caller may have cast in. */
    if ((unsigned)c >= (unsigned)CM_N_CLASSES) return "?";
    return class_names[c];
}

/* ASCII-only case folding: class names are ASCII, and the C locale's tolower would make
 * the result depend on the process locale. */
static int ascii_lower(int ch) { return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch; }

static int name_eq(const char *a, const char *b)
{
    while (*a && *b) {
        if (ascii_lower((unsigned char)*a) != *b) return 0;
        a++;
        b++;
    }
    return *a == 0 && *b == 0;
}

int cm_class_parse(const char *name, cm_class *out)
{
    if (!name) return -1;
    for (int c = 0; c < CM_N_CLASSES; c++) {
        if (name_eq(name, class_names[c])) {
            if (out) *out = (cm_class)c;
            return 0;
        }
    }
    return -1;
}
