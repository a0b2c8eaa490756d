/* SPDX-License-Identifier: MIT */
/* crymeter report: reads the JSON Lines that analyze or monitor wrote (one recording or
 * several nights) and writes one self-contained HTML page, and with --per-hour a CSV of
 * per-hour figures. Damaged input (a line that is not a record, a newer schema, a
 * truncated last line, interleaved files) is named line by line on stderr; the report is
 * still written from the valid records, and the exit status is 1 as for damaged audio. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "crymeter/nights.h"

static const char help[] =
    "Usage: crymeter report -o REPORT.html [options] RECORDS.jsonl...\n"
    "\n"
    "Draws the JSON Lines records of `crymeter analyze -f jsonl` or `crymeter monitor`\n"
    "(one recording, or several nights side by side) as one self-contained HTML page: a\n"
    "timeline on the clock, episodes by class with their excessive marks, the level track,\n"
    "per-hour bars, the figures (crying time and share, longest, loudest, first and last)\n"
    "and the episode table with each clip's player (monitor --clips). The page loads\n"
    "nothing from the network; open it from anywhere, a USB stick included. '-' reads\n"
    "standard input.\n"
    "\n"
    "  -o, --output PATH    the HTML page ('-': standard output)\n"
    "      --per-hour PATH  also write per-hour figures as CSV, one row per recording and\n"
    "                       hour (clock hours when the records carry a clock)\n"
    "      --title TEXT     page title (default: crymeter report)\n"
    "      --width PX       drawing width of the timeline, 200..4000 (default 940)\n"
    "      --force          overwrite existing outputs\n"
    "\n"
    "For the level track, run analyze or monitor with --level-step 1 (one level record per\n"
    "second); for clock times, monitor (always) or analyze --start TIME.\n"
    "\n"
    "Exit status: 0 ok; 1 an input could not be read or had lines that are not valid\n"
    "records (each named as FILE:LINE; the report is written from the rest); 2 usage error.\n"
    "\n"
    "Examples:\n"
    "  crymeter report -o night.html night.jsonl\n"
    "  crymeter report -o week.html --per-hour week.csv mon.jsonl tue.jsonl wed.jsonl\n";

static void on_warn(void *user, const char *path, unsigned long line, const char *msg)
{
    unsigned long *count = user;
    /* A damaged file can have a bad line for each of thousands of records; name the first
     * 20 and count the rest. */
    if (++*count <= 20) cli_err("%s:%lu: %s", path, line, msg);
}

FILE *cli_open_output(const char *path, bool force)
{
    if (!strcmp(path, "-")) return stdout;
    FILE *f = fopen(path, force ? "w" : "wx");
    if (!f) {
        if (errno == EEXIST)
            cli_err("%s: exists; use --force to overwrite it", path);
        else
            cli_err("%s: cannot write: %s", path, strerror(errno));
    }
    return f;
}

static int close_out(FILE *f, const char *path, cm_status st)
{
    int bad = st != CM_OK;
    if (f != stdout) bad |= fclose(f) != 0;
    else bad |= fflush(f) != 0;
    if (bad) cli_err("%s: write failed (%s)", path, st == CM_E_NOMEM ? "out of memory" : strerror(errno));
    return bad;
}

/* Makes each clip path relative to the page's folder when both can be resolved, so the
 * page and the clips can move together (a USB stick); a clip that cannot be found keeps
 * its path as written, resolved against the records' folder if it is relative. */
static void relink_clips(cm_nights *n, const char *html_path)
{
    char page_dir[PATH_MAX];
    const char *slash = strrchr(html_path, '/');
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%.*s", slash ? (int)(slash - html_path) : 1,
             slash ? html_path : ".");
    if (!tmp[0]) snprintf(tmp, sizeof tmp, "/");
    if (!realpath(tmp, page_dir)) return;
    for (size_t i = 0; i < n->n; i++) {
        cm_night *nt = &n->v[i];
        for (size_t k = 0; k < nt->n_eps; k++) {
            char *clip = nt->eps[k].clip;
            if (!clip) continue;
            char abs[PATH_MAX];
            bool found = realpath(clip, abs) != NULL;
            if (!found && clip[0] != '/' && nt->input && strrchr(nt->input, '/')) {
                const char *s = strrchr(nt->input, '/');
                snprintf(tmp, sizeof tmp, "%.*s/%s", (int)(s - nt->input), nt->input, clip);
                found = realpath(tmp, abs) != NULL;
            }
            if (!found) continue;
            /* common leading directories, then one "../" per remaining page directory */
            size_t c = 0, last = 0;
            while (page_dir[c] && abs[c] == page_dir[c]) {
                if (abs[c] == '/') last = c;
                c++;
            }
            if (!page_dir[c] && abs[c] == '/') last = c;
            else if (!page_dir[c] && !strcmp(page_dir, "/")) last = 0;
            char rel[PATH_MAX] = "";
            size_t r = 0;
            for (const char *p = page_dir + last; *p; p++)
                if (*p == '/' && p[1] && r + 4 < sizeof rel) {
                    memcpy(rel + r, "../", 3);
                    r += 3;
                }
            snprintf(rel + r, sizeof rel - r, "%s", abs + last + 1);
            char *d = strdup(rel);
            if (d) {
                free(clip);
                nt->eps[k].clip = d;
            }
        }
    }
}

int cli_write_report(FILE *records, FILE *html, const char *html_path)
{
    cm_nights n;
    cm_nights_init(&n);
    unsigned long warned = 0;
    rewind(records);
    cm_status st = cm_nights_read(&n, records, "records", on_warn, &warned);
    fclose(records);
    int rc = 0;
    if (st != CM_OK) {
        cli_err("--report: reading the records back failed: %s", cm_status_str(st));
        rc = -1;
    }
    if (html != stdout) relink_clips(&n, html_path);
    if (close_out(html, html_path, st != CM_OK ? st : cm_nights_write_html(&n, html, NULL))) rc = -1;
    cm_nights_free(&n);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    enum { O_PER_HOUR = 256, O_TITLE, O_WIDTH, O_FORCE };
    static const struct option lopts[] = {
        {"output", required_argument, 0, 'o'}, {"per-hour", required_argument, 0, O_PER_HOUR},
        {"title", required_argument, 0, O_TITLE}, {"width", required_argument, 0, O_WIDTH},
        {"force", no_argument, 0, O_FORCE},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *output = NULL, *per_hour = NULL;
    cm_html_options ho = {NULL, 0};
    bool force = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case O_PER_HOUR: per_hour = optarg; break;
        case O_TITLE: ho.title = optarg; break;
        case O_WIDTH:
            if (cli_parse_uint("--width", optarg, 200, 4000, &ho.width_px)) goto usage;
            break;
        case O_FORCE: force = true; break;
        case 'h': fputs(help, stdout); return CM_EXIT_OK;
        case ':': cli_err("option %s needs a value", argv[optind - 1]); goto usage;
        default: cli_err("unknown option '%s'", argv[optind - 1]); goto usage;
        }
    }
    if (optind >= argc) {
        cli_err("report: no input files (JSON Lines from analyze -f jsonl or monitor)");
        goto usage;
    }
    if (!output && !per_hour) {
        cli_err("report: say where the page goes: -o REPORT.html");
        goto usage;
    }
    int rc = CM_EXIT_OK;
    unsigned long warned = 0;
    cm_nights n;
    cm_nights_init(&n);
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
        if (!in) {
            cli_err("%s: cannot read: %s", path, strerror(errno));
            rc = CM_EXIT_FAIL;
            continue;
        }
        cm_status st = cm_nights_read(&n, in, strcmp(path, "-") ? path : "stdin", on_warn, &warned);
        if (in != stdin) fclose(in);
        if (st != CM_OK) {
            cli_err("%s: %s; the report covers what was read before", path,
                    st == CM_E_NOMEM ? "out of memory" : "read error");
            rc = CM_EXIT_FAIL;
        }
    }
    if (n.bad) {
        if (warned > 20) cli_err("... %lu bad lines in all", warned);
        rc = CM_EXIT_FAIL;
    }
    if (n.n == 0) cli_err("no recordings in the input: the report is empty");
    if (output) {
        FILE *f = cli_open_output(output, force);
        if (!f) {
            rc = errno == EEXIST ? CM_EXIT_USAGE : CM_EXIT_FAIL;
            goto done;
        }
        if (f != stdout) relink_clips(&n, output);
        if (close_out(f, output, cm_nights_write_html(&n, f, &ho))) rc = CM_EXIT_FAIL;
    }
    if (per_hour) {
        FILE *f = cli_open_output(per_hour, force);
        if (!f) {
            rc = errno == EEXIST ? CM_EXIT_USAGE : CM_EXIT_FAIL;
            goto done;
        }
        if (close_out(f, per_hour, cm_nights_write_per_hour(&n, f))) rc = CM_EXIT_FAIL;
    }
done:
    cm_nights_free(&n);
    return rc;
usage:
    fputs("Try 'crymeter report --help'.\n", stderr);
    return CM_EXIT_USAGE;
}
