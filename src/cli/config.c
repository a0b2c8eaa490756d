/* SPDX-License-Identifier: MIT */
/* --config FILE for every command: the file's `key = value` lines become `--key=value`
 * options placed before the command line's own, so each command parses them with its own
 * getopt table and the command line wins (the last value of an option counts). A message
 * about one of those options names the file and line (cli_config_where, used by cli_err).
 *
 * File format: one setting per line, `key = value`; key is a long option name without
 * the dashes; `key` alone, or with the value yes/true/on, is a flag (`force`), and
 * no/false/off leaves the flag out; blank lines and lines starting with # are ignored;
 * a value may be "double-quoted" to keep leading or trailing spaces. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_LINE 4096

typedef struct cfg_entry {
    char *arg;        /* "--key=value" or "--key", as placed in argv */
    const char *file; /* the path as given */
    unsigned line;
} cfg_entry;

/* The CLI is one command per process: the expanded options live until exit. */
static cfg_entry *g_entries;
static size_t g_n, g_cap;
static char **g_argv; /* the expanded argv, kept reachable for the process's life */

static int add_entry(char *arg, const char *file, unsigned line)
{
    if (g_n == g_cap) {
        size_t cap = g_cap ? 2 * g_cap : 16;
        cfg_entry *e = realloc(g_entries, cap * sizeof *e);
        if (!e) return -1;
        g_entries = e;
        g_cap = cap;
    }
    g_entries[g_n++] = (cfg_entry){arg, file, line};
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static int is_yes(const char *v)
{
    return !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on");
}

static int is_no(const char *v)
{
    return !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off");
}

/* Reads one config file into entries. Returns 0, or CM_EXIT_USAGE after a message. */
static int read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_err("--config=%s: cannot read: %s", path, strerror(errno));
        return CM_EXIT_USAGE;
    }
    char buf[MAX_LINE];
    unsigned line = 0;
    int rc = 0;
    while (!rc && fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n' && !feof(f)) {
            cli_err("%s:%u: line longer than %d bytes", path, line, MAX_LINE - 2);
            rc = CM_EXIT_USAGE;
            break;
        }
        char *s = trim(buf);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        char *val = NULL;
        if (eq) {
            *eq = '\0';
            val = trim(eq + 1);
        }
        char *key = trim(s);
        size_t kn = strlen(key);
        int key_ok = kn > 0 && isalpha((unsigned char)key[0]);
        for (size_t i = 0; key_ok && i < kn; i++)
            key_ok = islower((unsigned char)key[i]) || isdigit((unsigned char)key[i]) ||
                     key[i] == '-';
        if (!key_ok) {
            cli_err("%s:%u: '%s': expected 'key = value' with key a long option name "
                    "(lower case, as in --loud-db)", path, line, key);
            rc = CM_EXIT_USAGE;
            break;
        }
        if (!strcmp(key, "config") || !strcmp(key, "help")) {
            cli_err("%s:%u: '%s' cannot be set in a config file", path, line, key);
            rc = CM_EXIT_USAGE;
            break;
        }
        if (val && (!*val || is_no(val))) {
            if (!*val) {
                cli_err("%s:%u: %s: no value after '='", path, line, key);
                rc = CM_EXIT_USAGE;
            }
            continue;
        }
        if (val) {
            size_t vn = strlen(val);
            if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"') {
                val[vn - 1] = '\0';
                val++;
            }
        }
        const char *v = val && !is_yes(val) ? val : NULL;
        size_t n = kn + 3 + (v ? strlen(v) + 1 : 0);
        char *arg = malloc(n);
        if (!arg || add_entry(arg, path, line) != 0) {
            free(arg);
            cli_err("out of memory");
            rc = CM_EXIT_FAIL;
            break;
        }
        if (v)
            snprintf(arg, n, "--%s=%s", key, v);
        else
            snprintf(arg, n, "--%s", key);
    }
    if (!rc && ferror(f)) {
        cli_err("--config=%s: read failed", path);
        rc = CM_EXIT_USAGE;
    }
    fclose(f);
    return rc;
}

int cli_config_expand(int *argc, char ***argv)
{
    int n = *argc;
    char **in = *argv;
    int found = 0;
    for (int i = 1; i < n && strcmp(in[i], "--") != 0; i++)
        if (!strcmp(in[i], "--config") || !strncmp(in[i], "--config=", 9)) found = 1;
    if (!found) return 0;

    int k = 1, past_dashdash = 0;
    for (int i = 1; i < n; i++) {
        const char *path = NULL;
        if (!past_dashdash && !strcmp(in[i], "--")) past_dashdash = 1;
        if (!past_dashdash && !strcmp(in[i], "--config")) {
            if (i + 1 >= n) {
                cli_err("option --config needs a value");
                return CM_EXIT_USAGE;
            }
            path = in[++i];
        } else if (!past_dashdash && !strncmp(in[i], "--config=", 9)) {
            path = in[i] + 9;
        }
        if (path) {
            int rc = read_file(path);
            if (rc) return rc;
        }
    }
    /* argv[0] (the command), the file's options, then the rest without --config. */
    char **res = calloc((size_t)n + g_n + 1, sizeof *res);
    if (!res) {
        cli_err("out of memory");
        return CM_EXIT_FAIL;
    }
    res[0] = in[0];
    for (size_t e = 0; e < g_n; e++) res[k++] = g_entries[e].arg;
    past_dashdash = 0;
    for (int i = 1; i < n; i++) {
        if (!past_dashdash && !strcmp(in[i], "--")) past_dashdash = 1;
        if (!past_dashdash && !strcmp(in[i], "--config")) {
            i++;
            continue;
        }
        if (!past_dashdash && !strncmp(in[i], "--config=", 9)) continue;
        res[k++] = in[i];
    }
    res[k] = NULL;
    g_argv = res;
    *argc = k;
    *argv = res;
    return 0;
}

int cli_config_where(const char *msg, char *where, size_t where_len)
{
    /* getopt has just taken the option at optind - 1 (or, for a flag-like key of an
     * option that needs a value, the next argument as its value: optind - 2). Entries sit
     * at argv[1..g_n]. */
    for (size_t e = 0; e < g_n; e++) {
        int idx = (int)e + 1;
        if (idx != optind - 1 && idx != optind - 2) continue;
        const char *hit = strstr(msg, g_entries[e].arg);
        size_t an = strlen(g_entries[e].arg);
        /* "--loud-db=x" must not match "--loud-db=xy"; "--force" must not match "--forced". */
        if (hit && (hit[an] == '\0' || hit[an] == '\'' || hit[an] == ':' || hit[an] == ' ' ||
                    (hit[an] == '=' && !strchr(g_entries[e].arg, '=')))) {
            snprintf(where, where_len, "%s:%u: ", g_entries[e].file, g_entries[e].line);
            return 1;
        }
    }
    return 0;
}
