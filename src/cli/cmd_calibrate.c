/* SPDX-License-Identifier: MIT */
/* crymeter calibrate: under construction in this session; replaced by its owner. */
#include "cli/cli.h"

int cmd_calibrate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_err("calibrate: not built yet");
    return CM_EXIT_FAIL;
}
