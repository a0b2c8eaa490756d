/* SPDX-License-Identifier: MIT */
/* crymeter devices: under construction in this session; replaced by its owner. */
#include "cli/cli.h"

int cmd_devices(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_err("devices: not built yet");
    return CM_EXIT_FAIL;
}
