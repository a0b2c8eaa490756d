/* SPDX-License-Identifier: MIT */
/* crymeter: command dispatch and top-level help (the shared argument helpers are in args.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#ifndef CM_VERSION
#define CM_VERSION "0.1.0"
#endif

static const char usage[] =
    "Usage: crymeter COMMAND [options] ...\n"
    "\n"
    "Finds episodes of crying, sobbing and other vocalisation in audio and reports\n"
    "their loudness (LUFS, dBFS, dB(A), dB SPL) and duration.\n"
    "\n"
    "Commands:\n"
    "  analyze FILE...    analyse recorded files (any format libsndfile reads)\n"
    "  monitor            listen to a live input device and report episodes as they happen\n"
    "  devices            list audio input devices\n"
    "  calibrate          train or re-threshold the classifier from labelled clips\n"
    "  adapt              learn your home from your corrections (a home model)\n"
    "  evaluate           measure precision and recall of a model on labelled clips\n"
    "  report RECORDS...  draw analyze/monitor records as one HTML page (night report)\n"
    "  frames             write the frame features of labelled clips (for training scripts)\n"
    "\n"
    "Run 'crymeter COMMAND --help' for a command's options.\n"
    "\n"
    "Every command also takes --config FILE: 'key = value' lines, keys the command's\n"
    "long option names (loud-db = 80); options on the command line win. 'man crymeter'.\n"
    "crymeter --version prints the version.\n"
    "\n"
    "Exit status: 0 ok, 1 a file or device failed, 2 usage error,\n"
    "             3 completed but audio was dropped (monitor).\n";

/* A command that succeeded but whose standard output was not all written (a full disk; a
 * closed pipe when SIGPIPE is ignored) has failed: the reader of the help, the table or the
 * report got less than was printed. Commands that write records check their own writes and
 * say how far they got; this catches the rest (help, evaluate's tables, adapt's report). */
static int stdout_checked(int rc)
{
    int bad = ferror(stdout), e = 0;
    if (fflush(stdout) != 0) bad = 1, e = errno;
    if (bad && rc == CM_EXIT_OK) {
        if (e)
            cli_err("standard output: write failed (%s)", strerror(e));
        else
            cli_err("standard output: write failed");
        return CM_EXIT_FAIL;
    }
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"analyze", cmd_analyze},     {"monitor", cmd_monitor},   {"devices", cmd_devices},
        {"calibrate", cmd_calibrate}, {"adapt", cmd_adapt},       {"evaluate", cmd_evaluate},
        {"report", cmd_report},       {"frames", cmd_frames},
    };
    if (argc < 2) {
        fputs(usage, stderr);
        return CM_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return CM_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("crymeter %s\n", CM_VERSION);
        return CM_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) != 0) continue;
        int sub_argc = argc - 1, rc;
        char **sub_argv = argv + 1;
        if ((rc = cli_config_expand(&sub_argc, &sub_argv)) != 0) return rc;
        return cmds[i].fn(sub_argc, sub_argv);
    }
    cli_err("unknown command '%s'", argv[1]);
    fputs("Try 'crymeter --help'.\n", stderr);
    return CM_EXIT_USAGE;
}

int main(int argc, char **argv) { return stdout_checked(run(argc, argv)); }
