/* SPDX-License-Identifier: MIT */
/* crymeter evaluate: under construction in this session; replaced by its owner. */
#include "cli/cli.h"

int cmd_evaluate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_err("evaluate: not built yet");
    return CM_EXIT_FAIL;
}
