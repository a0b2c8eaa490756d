/* SPDX-License-Identifier: MIT */
/* crymeter monitor: under construction in this session; replaced by its owner. */
#include "cli/cli.h"

int cmd_monitor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_err("monitor: not built yet");
    return CM_EXIT_FAIL;
}
