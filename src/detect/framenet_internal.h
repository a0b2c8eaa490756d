/* SPDX-License-Identifier: MIT */
/* Runtime, private to src/detect: the frame network from an already parsed JSON object, so
 * that loading a model does not print and parse its frame_net object a second time (that
 * copy of the tree was 1 MiB of peak memory in bench/run.sh). */
#ifndef CM_FRAMENET_INTERNAL_H
#define CM_FRAMENET_INTERNAL_H

#include <cjson/cJSON.h>

#include "crymeter/framenet.h"

CM_NODISCARD cm_status cm_framenet_from_cjson(const cJSON *o, cm_framenet **out, cm_diag *why);

#endif
