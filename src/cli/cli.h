/* SPDX-License-Identifier: MIT */
/* Subcommands of the crymeter tool. Each returns the process exit status:
 * 0 ok, 1 runtime error (a file or device failed), 2 usage error, 3 completed with audio
 * dropped. Only src/cli prints to a person or exits. */
#ifndef CM_CLI_H
#define CM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#define CM_EXIT_OK 0
#define CM_EXIT_FAIL 1
#define CM_EXIT_USAGE 2
#define CM_EXIT_DROPPED 3

int cmd_analyze(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_adapt(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_frames(int argc, char **argv);
/* calibrate --tone: the SPL offset from a recorded reference tone (cmd_tone.c). */
int cmd_calibrate_tone(int argc, char **argv);

/* Opens an output file, never overwriting one without force ('-' is stdout); NULL after a
 * message naming the path (errno EEXIST when it exists). */
FILE *cli_open_output(const char *path, bool force);
/* Reads the JSON Lines in records (rewound first) and writes the HTML report to html, opened
 * with cli_open_output(html_path) (cmd_report.c); closes both. Returns 0, or -1 after a
 * message. */
int cli_write_report(FILE *records, FILE *html, const char *html_path);

/* "crymeter: " + printf message + newline on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 when any argument after argv[0] is --help or -h (help wins over every other option). */
int cli_help_asked(int argc, char **argv);
/* Strict number parsing: whole string, finite, within [lo, hi]. Returns 0 or -1 after
 * printing "crymeter: --opt=value: expected ..." on stderr. */
int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out);
int cli_parse_uint(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out);

/* --config FILE / --config=FILE anywhere after the command (before "--"): replaces *argv
 * with the command name, the file's settings as --key=value options, then the remaining
 * arguments, so the command line wins (config.c has the file format). Returns 0, or the
 * exit status after a message naming FILE:LINE. */
int cli_config_expand(int *argc, char ***argv);
/* When msg is about an option that came from a config file and getopt has just parsed it,
 * writes "FILE:LINE: " into where and returns 1; else 0. For cli_err. */
int cli_config_where(const char *msg, char *where, size_t where_len);

#endif
