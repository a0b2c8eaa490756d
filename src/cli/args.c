/* SPDX-License-Identifier: MIT */
/* Argument helpers shared by the subcommands (cli.h): messages and strict number parsing.
 * Apart from main.c so the options fuzz harness (tests/fuzz/fuzz_options.c) links them. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void cli_err(const char *fmt, ...)
{
    char msg[2048], where[1024] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_config_where(msg, where, sizeof where);
    fprintf(stderr, "crymeter: %s%s\n", where, msg);
}

int cli_help_asked(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || end == s || *end != '\0' || errno == ERANGE || !isfinite(v) || v < lo || v > hi) {
        cli_err("%s=%s: expected a number from %g to %g", opt, s ? s : "(missing)", lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_uint(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : -1;
    if (!s || end == s || *end != '\0' || errno == ERANGE || v < (long long)lo ||
        v > (long long)hi) {
        cli_err("%s=%s: expected a whole number from %u to %u", opt, s ? s : "(missing)", lo,
                hi);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}
