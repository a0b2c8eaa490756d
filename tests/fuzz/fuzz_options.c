/* SPDX-License-Identifier: MIT */
/* Harness for the command-line option parsers that check values: the detector and learner
 * options of calibrate / evaluate (cd_detector_option, cd_learner_option, cd_learner_finish,
 * cd_detector_apply), the strict number parsers (cli_parse_double, cli_parse_uint) and
 * --format (cm_format_parse). The input is an argument list, one argument per NUL- or
 * newline-separated piece, walked as calibrate's parse loop walks argv: an option takes the
 * next argument as its value. Messages go to stderr (run with -close_fd_mask=2 to hush). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/learn_opts.h"
#include "cli/cli.h"
#include "crymeter/report.h"
#include "fuzz.h"

enum { MAX_ARGS = 64 };

int cm_fuzz_options(const uint8_t *data, size_t size)
{
    /* A private, terminated copy: the parsers take C strings. */
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGS];
    int argc = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
        size_t j = i;
        while (j < size && buf[j] != 0 && buf[j] != '\n') j++;
        buf[j] = 0;
        argv[argc++] = buf + i;
        i = j + 1;
    }

    cd_f1_slack = CD_F1_SLACK_DEFAULT; /* a global that --f1-slack writes */
    cd_detector_opts d = cd_detector_opts_default();
    cd_learner l = cd_learner_default();
    int ok = 1;
    for (int i = 0; i < argc && ok; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r = cd_learner_option("fuzz", a, v, &l);
        if (!r) r = cd_detector_option("fuzz", a, v, &d);
        if (r < 0) ok = 0;
        else if (r > 0) i++;
        else if (!strcmp(a, "--format") && v) {
            cm_format f;
            if (cm_format_parse(v, &f) != 0) ok = 0;
            i++;
        } else if (!strcmp(a, "--double") && v) {
            double x = NAN;
            if (cli_parse_double(a, v, -1e6, 1e6, &x) == 0 && !(x >= -1e6 && x <= 1e6)) abort();
            i++;
        } else if (!strcmp(a, "--uint") && v) {
            unsigned u = 0;
            if (cli_parse_uint(a, v, 3, 4000000000u, &u) == 0 && !(u >= 3 && u <= 4000000000u))
                abort();
            i++;
        }
    }
    if (ok && cd_learner_finish("fuzz", &l, 1) == 0) {
        cm_detect_params par;
        memset(&par, 0, sizeof par);
        cd_detector_apply(&d, &par);
        /* What the parsers accepted is within the documented ranges. */
        if (d.confirm_n > 0 && !(d.confirm_k >= 1 && d.confirm_k <= d.confirm_n && d.confirm_n <= 16))
            abort();
        if (!(cd_f1_slack >= 0 && cd_f1_slack <= 0.5)) abort();
        char prov[1024];
        cd_learner_provenance(&l, prov, sizeof prov);
    }
    cd_f1_slack = CD_F1_SLACK_DEFAULT;
    free(buf);
    return 0;
}
