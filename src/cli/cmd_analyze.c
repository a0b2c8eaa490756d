/* SPDX-License-Identifier: MIT */
/* crymeter analyze: under construction in this session; replaced by its owner. */
#include "cli/cli.h"

int cmd_analyze(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_err("analyze: not built yet");
    return CM_EXIT_FAIL;
}
