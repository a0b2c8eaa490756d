/* SPDX-License-Identifier: MIT */
/* monitor --mqtt: records, state, live level and availability on an MQTT broker
 * (libmosquitto), and Home Assistant discovery. cmd_monitor.c calls these few hooks; the
 * network runs on libmosquitto's own thread and nothing here blocks the analysis. */
#ifndef CM_CLI_MQTT_H
#define CM_CLI_MQTT_H

#include <stdbool.h>
#include <stdio.h>

#include "crymeter/analyzer.h"

typedef struct cli_mqtt_opts {
    const char *url;           /* mqtt://host[:port] or mqtts://host[:port]; NULL: off */
    const char *name;          /* topic level and HA device name; default: host name */
    const char *user;
    const char *password_file; /* else $CRYMETER_MQTT_PASSWORD */
    const char *cafile;        /* mqtts: CA bundle (default: the system's) */
    bool discovery;            /* publish Home Assistant discovery configs */
    double level_interval_s;   /* live level every S seconds (default 5) */
    unsigned queue;            /* records kept while the broker is away (default 1000) */
} cli_mqtt_opts;

typedef struct cli_mqtt cli_mqtt;

typedef struct cli_mqtt_stats {
    unsigned long published, acked, queued_max, dropped, reconnects;
    bool connected;
} cli_mqtt_stats;

/* The --mqtt* entries for a getopt_long table (values from CLI_MQTT_OPT_BASE on); the
 * command hands each such option to cli_mqtt_option, then calls cli_mqtt_check. */
enum { CLI_MQTT_OPT_BASE = 0x1000 };
#define CLI_MQTT_LONG_OPTIONS                                                              \
    {"mqtt", required_argument, 0, CLI_MQTT_OPT_BASE},                                   \
    {"mqtt-name", required_argument, 0, CLI_MQTT_OPT_BASE + 1},                          \
    {"mqtt-discovery", no_argument, 0, CLI_MQTT_OPT_BASE + 2},                           \
    {"mqtt-user", required_argument, 0, CLI_MQTT_OPT_BASE + 3},                         \
    {"mqtt-password-file", required_argument, 0, CLI_MQTT_OPT_BASE + 4},                 \
    {"mqtt-cafile", required_argument, 0, CLI_MQTT_OPT_BASE + 5},                        \
    {"mqtt-level-interval", required_argument, 0, CLI_MQTT_OPT_BASE + 6},                \
    {"mqtt-queue", required_argument, 0, CLI_MQTT_OPT_BASE + 7},
void cli_mqtt_opts_default(cli_mqtt_opts *o);
/* Returns 1 when c is an --mqtt* option (taken, or refused: then *bad = 1 after a
 * message), 0 when it is not one. */
int cli_mqtt_option(cli_mqtt_opts *o, int c, const char *arg, int *bad);
/* After parsing: 0, or -1 after a message (--mqtt-* without --mqtt). */
int cli_mqtt_check(const cli_mqtt_opts *o);
/* The --mqtt* lines for monitor --help. */
extern const char cli_mqtt_help[];

/* Connects in the background (the broker may be down: records queue until it is up).
 * Returns NULL after a message when the options cannot work (bad URL, unreadable
 * password file, TLS set-up). device is the capture device's name, for discovery. */
cli_mqtt *cli_mqtt_start(const cli_mqtt_opts *o, const char *device);
/* Analysis thread: publishes json, the record as on stdout with -f jsonl (one line, no
 * newline), and the state that kind and ep imply. */
void cli_mqtt_event(cli_mqtt *q, cm_event_kind kind, const cm_episode *ep, const char *json);
void cli_mqtt_level(cli_mqtt *q, const cm_level *lv);
/* Waits up to wait_s for queued and unacknowledged records, says "offline", disconnects.
 * Stats are final after it. */
void cli_mqtt_stop(cli_mqtt *q, double wait_s);
void cli_mqtt_get_stats(cli_mqtt *q, cli_mqtt_stats *s);
/* ,"mqtt_published":N,... for the monitor record (nothing when q is NULL). */
void cli_mqtt_json_stats(cli_mqtt *q, FILE *f);
void cli_mqtt_destroy(cli_mqtt *q); /* NULL is a no-op */

#endif
