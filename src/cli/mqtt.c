/* SPDX-License-Identifier: MIT */
/* monitor --mqtt (mqtt.h). Topics under crymeter/<name>/: event (every record as JSON,
 * QoS 1), state (crying / sobbing / vocal / quiet, retained), level (dB(A) SPL, LUFS, every
 * --mqtt-level-interval seconds, QoS 0) and availability (online / offline, retained, the
 * last will). With --mqtt-discovery, Home Assistant MQTT-discovery configs (retained) for
 * a binary sensor "Crying", a sensor "Sound level" and an event entity "Episode".
 *
 * libmosquitto's thread does the network and reconnects with exponential backoff (1 s to
 * 60 s). Every QoS 1 message goes through a bounded queue of our own (the oldest record
 * dropped and counted when it is full) and is handed to libmosquitto one at a time: the
 * next only when the broker has acknowledged the last (PUBACK). Why one at a time: a
 * message in flight when the link drops is resent by libmosquitto only after its
 * on_connect callback has run, and libmosquitto sends anything published meanwhile at
 * once, so with several in flight a resent "start" could arrive after the "episode"
 * that ends it, and a resent retained state "crying" could overwrite a later "quiet".
 * Records are a few a minute; one round trip each is no limit. The analysis thread only
 * takes a mutex for a queue append or a mosquitto_publish, which queues the packet for
 * that thread. */
#include "cli/mqtt.h"

#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crymeter/report.h"

#ifndef CM_VERSION
#define CM_VERSION "0.1.0"
#endif

#define TOPIC_LEN 256

const char cli_mqtt_help[] =
    "\nMQTT (Home Assistant and others):\n"
    "      --mqtt URL       publish to the broker at mqtt://HOST[:PORT] (mqtts:// for TLS):\n"
    "                       every record on crymeter/NAME/event, the state (crying,\n"
    "                       sobbing, vocal, quiet) retained on crymeter/NAME/state, the\n"
    "                       level on crymeter/NAME/level, online/offline (last will) on\n"
    "                       crymeter/NAME/availability; QoS 1, reconnects by itself\n"
    "      --mqtt-name NAME topic and device name (default: the host name)\n"
    "      --mqtt-discovery publish Home Assistant discovery configs (a binary sensor\n"
    "                       'Crying', a sensor 'Sound level', an event 'Episode')\n"
    "      --mqtt-user USER user name; the password comes from --mqtt-password-file or\n"
    "                       $CRYMETER_MQTT_PASSWORD, never from the command line\n"
    "      --mqtt-password-file FILE  first line of FILE is the password\n"
    "      --mqtt-cafile FILE  CA certificates for mqtts:// (default: the system's)\n"
    "      --mqtt-level-interval S  seconds between level messages (default 5)\n"
    "      --mqtt-queue N   records kept while the broker is away (default 1000); when\n"
    "                       full the oldest go, counted as mqtt_dropped\n";

typedef struct msg {
    char topic[TOPIC_LEN];
    char *payload;
    bool retain;
} msg;

/* Sent on each connection before the queue: availability, 3 discovery configs, state. */
#define N_HELLO 5

struct cli_mqtt {
    struct mosquitto *mosq;
    char name[64];
    char device[128];
    char t_event[TOPIC_LEN], t_state[TOPIC_LEN], t_level[TOPIC_LEN], t_avail[TOPIC_LEN];
    bool discovery;
    double level_interval_s;
    double last_level_t;
    pthread_mutex_t lock;
    bool connected;       /* under lock, as everything below */
    bool ever_connected;
    msg *q;               /* ring of cap QoS 1 messages waiting for their turn, oldest first */
    unsigned cap, head, len;
    msg hello[N_HELLO];   /* this connection's greeting, sent before the ring */
    unsigned n_hello, i_hello;
    bool inflight;        /* one message handed to libmosquitto and not yet acknowledged */
    int inflight_mid;
    unsigned open[CM_N_CLASSES];
    const char *state;
    cli_mqtt_stats st;
    bool loop_started;
};

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Hands the next message (greeting first, then the ring) to libmosquitto when connected
 * and nothing is in flight. Call with q->lock held. */
static void pump_locked(cli_mqtt *q)
{
    while (q->connected && !q->inflight) {
        bool hello = q->i_hello < q->n_hello;
        msg *m = hello ? &q->hello[q->i_hello] : q->len ? &q->q[q->head] : NULL;
        if (!m) return;
        int mid = 0;
        int rc = mosquitto_publish(q->mosq, &mid, m->topic, (int)strlen(m->payload), m->payload,
                                   1, m->retain);
        /* NO_CONN (the link dropped before on_disconnect ran): libmosquitto has queued a
         * QoS 1 message all the same and sends it on reconnection, so it is in flight. */
        if (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN) {
            q->inflight = true;
            q->inflight_mid = mid;
            q->st.published++;
        } else if (!hello) {
            q->st.dropped++; /* refused for good (size, memory): do not block the rest */
        }
        free(m->payload);
        m->payload = NULL;
        if (hello) {
            q->i_hello++;
        } else {
            q->head = (q->head + 1) % q->cap;
            q->len--;
        }
    }
}

/* Appends a QoS 1 message to the ring (dropping the oldest when full) and pumps. Call
 * with q->lock held. */
static void enqueue_locked(cli_mqtt *q, const char *topic, const char *payload, bool retain)
{
    if (q->len == q->cap) {
        free(q->q[q->head].payload);
        q->head = (q->head + 1) % q->cap;
        q->len--;
        q->st.dropped++;
    }
    msg *m = &q->q[(q->head + q->len) % q->cap];
    snprintf(m->topic, sizeof m->topic, "%s", topic);
    m->payload = dupstr(payload);
    m->retain = retain;
    if (!m->payload) {
        q->st.dropped++;
        return;
    }
    q->len++;
    if (q->len > q->st.queued_max) q->st.queued_max = q->len;
    pump_locked(q);
}

static void hello_add(cli_mqtt *q, const char *topic, const char *payload)
{
    if (q->n_hello == N_HELLO) return;
    msg *m = &q->hello[q->n_hello];
    m->payload = dupstr(payload);
    if (!m->payload) return;
    snprintf(m->topic, sizeof m->topic, "%s", topic);
    m->retain = true;
    q->n_hello++;
}

static void hello_clear(cli_mqtt *q)
{
    for (unsigned i = q->i_hello; i < q->n_hello; i++) free(q->hello[i].payload);
    q->n_hello = q->i_hello = 0;
}

static void device_json(const cli_mqtt *q, char *out, size_t n)
{
    snprintf(out, n,
             "{\"identifiers\":[\"crymeter_%s\"],\"name\":\"crymeter %s\","
             "\"manufacturer\":\"crymeter\",\"model\":\"crymeter monitor\","
             "\"sw_version\":\"%s\"}",
             q->name, q->name, CM_VERSION);
}

/* Home Assistant MQTT discovery: <prefix>/<component>/<node_id>/<object_id>/config. */
static void hello_discovery(cli_mqtt *q)
{
    char dev[512], topic[TOPIC_LEN], p[2048];
    device_json(q, dev, sizeof dev);
    snprintf(topic, sizeof topic, "homeassistant/binary_sensor/crymeter_%s/crying/config",
             q->name);
    snprintf(p, sizeof p,
             "{\"name\":\"Crying\",\"unique_id\":\"crymeter_%s_crying\","
             "\"object_id\":\"crymeter_%s_crying\",\"device_class\":\"sound\","
             "\"state_topic\":\"%s\",\"value_template\":"
             "\"{{ 'ON' if value in ['crying', 'sobbing'] else 'OFF' }}\","
             "\"availability_topic\":\"%s\",\"device\":%s}",
             q->name, q->name, q->t_state, q->t_avail, dev);
    hello_add(q, topic, p);
    snprintf(topic, sizeof topic, "homeassistant/sensor/crymeter_%s/sound_level/config",
             q->name);
    snprintf(p, sizeof p,
             "{\"name\":\"Sound level\",\"unique_id\":\"crymeter_%s_sound_level\","
             "\"object_id\":\"crymeter_%s_sound_level\",\"device_class\":\"sound_pressure\","
             "\"unit_of_measurement\":\"dBA\",\"state_class\":\"measurement\","
             "\"state_topic\":\"%s\",\"value_template\":\"{{ value_json.spl_db }}\","
             "\"availability_topic\":\"%s\",\"device\":%s}",
             q->name, q->name, q->t_level, q->t_avail, dev);
    hello_add(q, topic, p);
    snprintf(topic, sizeof topic, "homeassistant/event/crymeter_%s/episode/config", q->name);
    snprintf(p, sizeof p,
             "{\"name\":\"Episode\",\"unique_id\":\"crymeter_%s_episode\","
             "\"object_id\":\"crymeter_%s_episode\","
             "\"event_types\":[\"start\",\"excessive\",\"episode\"],"
             "\"state_topic\":\"%s\",\"value_template\":"
             "\"{\\\"event_type\\\": \\\"{{ value_json.type }}\\\", "
             "\\\"class\\\": \\\"{{ value_json['class'] }}\\\"}\","
             "\"availability_topic\":\"%s\",\"device\":%s}",
             q->name, q->name, q->t_event, q->t_avail, dev);
    hello_add(q, topic, p);
}

/* libmosquitto's thread. */
static void on_connect(struct mosquitto *mosq, void *user, int rc)
{
    cli_mqtt *q = user;
    if (rc != 0) return;
    pthread_mutex_lock(&q->lock);
    q->connected = true;
    if (q->ever_connected) q->st.reconnects++;
    q->ever_connected = true;
    hello_clear(q);
    hello_add(q, q->t_avail, "online");
    if (q->discovery) hello_discovery(q);
    /* The state now, unless a state change waits in the ring: that one brings it. */
    bool state_queued = false;
    for (unsigned i = 0; i < q->len && !state_queued; i++)
        state_queued = !strcmp(q->q[(q->head + i) % q->cap].topic, q->t_state);
    if (!state_queued) hello_add(q, q->t_state, q->state);
    /* A message still in flight from the last connection is resent by libmosquitto right
     * after this callback; pump_locked waits for its PUBACK before sending anything. */
    pump_locked(q);
    pthread_mutex_unlock(&q->lock);
}

static void on_disconnect(struct mosquitto *mosq, void *user, int rc)
{
    cli_mqtt *q = user;
    pthread_mutex_lock(&q->lock);
    q->connected = false;
    pthread_mutex_unlock(&q->lock);
}

static void on_publish(struct mosquitto *mosq, void *user, int mid)
{
    cli_mqtt *q = user;
    pthread_mutex_lock(&q->lock);
    /* Also called for QoS 0 level messages once written: those are not ours to count. */
    if (q->inflight && mid == q->inflight_mid) {
        q->inflight = false;
        q->st.acked++;
        pump_locked(q);
    }
    pthread_mutex_unlock(&q->lock);
}

void cli_mqtt_opts_default(cli_mqtt_opts *o)
{
    memset(o, 0, sizeof *o);
    o->level_interval_s = 5.0;
    o->queue = 1000;
}

int cli_mqtt_option(cli_mqtt_opts *o, int c, const char *v, int *bad)
{
    switch (c - CLI_MQTT_OPT_BASE) {
    case 0: o->url = v; return 1;
    case 1: {
        size_t n = strlen(v), ok = n > 0 && n < 48;
        for (size_t j = 0; ok && j < n; j++)
            ok = (v[j] >= 'a' && v[j] <= 'z') || (v[j] >= '0' && v[j] <= '9') || v[j] == '_' ||
                 v[j] == '-';
        if (!ok) {
            cli_err("--mqtt-name=%s: expected 1-47 of a-z, 0-9, _ and -", v);
            *bad = 1;
        }
        o->name = v;
        return 1;
    }
    case 2: o->discovery = true; return 1;
    case 3: o->user = v; return 1;
    case 4: o->password_file = v; return 1;
    case 5: o->cafile = v; return 1;
    case 6:
        if (cli_parse_double("--mqtt-level-interval", v, 0.1, 3600.0, &o->level_interval_s))
            *bad = 1;
        return 1;
    case 7:
        if (cli_parse_uint("--mqtt-queue", v, 1, 1000000, &o->queue)) *bad = 1;
        return 1;
    }
    return 0;
}

int cli_mqtt_check(const cli_mqtt_opts *o)
{
    if (!o->url && (o->name || o->user || o->password_file || o->cafile || o->discovery)) {
        cli_err("the --mqtt-* options need --mqtt URL");
        return -1;
    }
    return 0;
}

/* mqtt://[user@]host[:port] -> host, port, tls. A password in the URL is refused. */
static int parse_url(const char *url, char *host, size_t hn, int *port, bool *tls,
                     const char **user_in_url, char *userbuf, size_t un)
{
    const char *p;
    if (!strncmp(url, "mqtt://", 7)) {
        *tls = false;
        *port = 1883;
        p = url + 7;
    } else if (!strncmp(url, "mqtts://", 8)) {
        *tls = true;
        *port = 8883;
        p = url + 8;
    } else {
        cli_err("--mqtt=%s: expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", url);
        return -1;
    }
    *user_in_url = NULL;
    const char *at = strchr(p, '@');
    if (at) {
        size_t n = (size_t)(at - p);
        if (memchr(p, ':', n)) {
            cli_err("--mqtt: no password in the URL (it would show in the process list); "
                    "use --mqtt-password-file or CRYMETER_MQTT_PASSWORD");
            return -1;
        }
        if (n == 0 || n >= un) {
            cli_err("--mqtt=%s: bad user name", url);
            return -1;
        }
        memcpy(userbuf, p, n);
        userbuf[n] = 0;
        *user_in_url = userbuf;
        p = at + 1;
    }
    const char *colon = strrchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strcspn(p, "/");
    if (n == 0 || n >= hn) {
        cli_err("--mqtt=%s: no host", url);
        return -1;
    }
    memcpy(host, p, n);
    host[n] = 0;
    if (colon) {
        char *end = NULL;
        long v = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || (*end && *end != '/') || v < 1 || v > 65535) {
            cli_err("--mqtt=%s: port must be 1..65535", url);
            return -1;
        }
        *port = (int)v;
    }
    return 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

cli_mqtt *cli_mqtt_start(const cli_mqtt_opts *o, const char *device)
{
    char host[256], userbuf[128], password[256] = "";
    int port;
    bool tls;
    const char *url_user;
    if (parse_url(o->url, host, sizeof host, &port, &tls, &url_user, userbuf, sizeof userbuf))
        return NULL;
    const char *user = o->user ? o->user : url_user;
    if (o->password_file) {
        FILE *f = fopen(o->password_file, "r");
        if (!f || !fgets(password, sizeof password, f)) {
            cli_err("--mqtt-password-file=%s: cannot read: %s", o->password_file,
                    f ? "empty file" : strerror(errno));
            if (f) fclose(f);
            return NULL;
        }
        fclose(f);
        password[strcspn(password, "\r\n")] = 0;
    } else if (getenv("CRYMETER_MQTT_PASSWORD")) {
        snprintf(password, sizeof password, "%s", getenv("CRYMETER_MQTT_PASSWORD"));
    }
    if (password[0] && !user) {
        cli_err("--mqtt: a password needs a user (--mqtt-user)");
        return NULL;
    }

    cli_mqtt *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    pthread_mutex_init(&q->lock, NULL);
    q->cap = o->queue;
    q->q = calloc(q->cap, sizeof *q->q);
    q->discovery = o->discovery;
    q->level_interval_s = o->level_interval_s;
    q->last_level_t = -INFINITY;
    q->state = "quiet";
    if (o->name) {
        snprintf(q->name, sizeof q->name, "%s", o->name);
    } else {
        char hn[64] = "crymeter";
        gethostname(hn, sizeof hn - 1);
        size_t j = 0;
        for (size_t i = 0; hn[i] && j < sizeof q->name - 1 && j < 47; i++) {
            char c = hn[i];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) c = '_';
            q->name[j++] = c;
        }
        q->name[j] = 0;
    }
    snprintf(q->device, sizeof q->device, "%s", device ? device : "");
    snprintf(q->t_event, TOPIC_LEN, "crymeter/%s/event", q->name);
    snprintf(q->t_state, TOPIC_LEN, "crymeter/%s/state", q->name);
    snprintf(q->t_level, TOPIC_LEN, "crymeter/%s/level", q->name);
    snprintf(q->t_avail, TOPIC_LEN, "crymeter/%s/availability", q->name);

    mosquitto_lib_init();
    char id[96];
    snprintf(id, sizeof id, "crymeter-%s", q->name);
    /* Persistent session: QoS 1 records in flight when the link drops are resent. */
    q->mosq = q->q ? mosquitto_new(id, false, q) : NULL;
    if (!q->mosq) {
        cli_err("--mqtt: out of memory");
        cli_mqtt_destroy(q);
        return NULL;
    }
    mosquitto_int_option(q->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(q->mosq, on_connect);
    mosquitto_disconnect_callback_set(q->mosq, on_disconnect);
    mosquitto_publish_callback_set(q->mosq, on_publish);
    mosquitto_reconnect_delay_set(q->mosq, 1, 60, true);
    mosquitto_will_set(q->mosq, q->t_avail, 7, "offline", 1, true);
    if (user && mosquitto_username_pw_set(q->mosq, user, password[0] ? password : NULL)) {
        cli_err("--mqtt: cannot set the user name");
        cli_mqtt_destroy(q);
        return NULL;
    }
    memset(password, 0, sizeof password);
    if (tls) {
        int rc = mosquitto_tls_set(q->mosq, o->cafile, o->cafile ? NULL : "/etc/ssl/certs",
                                   NULL, NULL, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            cli_err("--mqtt: TLS set-up failed: %s", mosquitto_strerror(rc));
            cli_mqtt_destroy(q);
            return NULL;
        }
    }
    /* connect_async: a broker that is down now is retried by the loop thread. */
    int rc = mosquitto_connect_async(q->mosq, host, port, 30);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO) {
        cli_err("--mqtt=%s: %s", o->url, mosquitto_strerror(rc));
        cli_mqtt_destroy(q);
        return NULL;
    }
    if (mosquitto_loop_start(q->mosq) != MOSQ_ERR_SUCCESS) {
        cli_err("--mqtt: cannot start the network thread");
        cli_mqtt_destroy(q);
        return NULL;
    }
    q->loop_started = true;
    return q;
}

static const char *state_of(const cli_mqtt *q)
{
    if (q->open[CM_CLASS_CRY]) return "crying";
    if (q->open[CM_CLASS_SOB]) return "sobbing";
    if (q->open[CM_CLASS_VOCAL]) return "vocal";
    return "quiet";
}

void cli_mqtt_event(cli_mqtt *q, cm_event_kind kind, const cm_episode *ep, const char *json)
{
    if (!q || !json) return;
    pthread_mutex_lock(&q->lock);
    enqueue_locked(q, q->t_event, json, false);
    if ((unsigned)ep->cls < CM_N_CLASSES) {
        if (kind == CM_EVENT_START) q->open[ep->cls]++;
        if (kind == CM_EVENT_END && q->open[ep->cls]) q->open[ep->cls]--;
    }
    const char *s = state_of(q);
    if (s != q->state) {
        q->state = s;
        /* Queued too: a client that comes back sees the states in order. */
        enqueue_locked(q, q->t_state, s, true);
    }
    pthread_mutex_unlock(&q->lock);
}

void cli_mqtt_level(cli_mqtt *q, const cm_level *lv)
{
    if (!q || lv->t_s - q->last_level_t < q->level_interval_s) return;
    q->last_level_t = lv->t_s;
    char p[256];
    snprintf(p, sizeof p, "{\"t_s\":%.1f,\"spl_db\":%.1f,\"dba\":%.1f,\"lufs\":%.1f}", lv->t_s,
             isfinite(lv->spl_db) ? lv->spl_db : -999.0,
             isfinite(lv->dba_fast) ? lv->dba_fast : -999.0,
             isfinite(lv->lufs_momentary) ? lv->lufs_momentary : -999.0);
    pthread_mutex_lock(&q->lock);
    /* QoS 0 and not queued: a level is stale when late. */
    if (q->connected) mosquitto_publish(q->mosq, NULL, q->t_level, (int)strlen(p), p, 0, false);
    pthread_mutex_unlock(&q->lock);
}

void cli_mqtt_stop(cli_mqtt *q, double wait_s)
{
    if (!q || !q->loop_started) return;
    double t_end = mono_s() + wait_s;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        bool done = q->len == 0 && q->i_hello == q->n_hello && !q->inflight;
        bool conn = q->connected;
        pthread_mutex_unlock(&q->lock);
        if ((done && conn) || mono_s() > t_end) break;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&q->lock);
    bool conn = q->connected;
    if (conn) {
        enqueue_locked(q, q->t_state, "quiet", true);
        enqueue_locked(q, q->t_avail, "offline", true);
    }
    pthread_mutex_unlock(&q->lock);
    /* The two last messages: up to 2 s more for their acknowledgement. */
    double t2 = mono_s() + (conn ? 2.0 : 0.0);
    while (mono_s() < t2) {
        pthread_mutex_lock(&q->lock);
        bool done = q->len == 0 && !q->inflight;
        pthread_mutex_unlock(&q->lock);
        if (done) break;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&q->lock);
    q->st.connected = q->connected;
    pthread_mutex_unlock(&q->lock);
    mosquitto_disconnect(q->mosq);
    mosquitto_loop_stop(q->mosq, false);
    q->loop_started = false;
}

void cli_mqtt_get_stats(cli_mqtt *q, cli_mqtt_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!q) return;
    pthread_mutex_lock(&q->lock);
    *s = q->st;
    s->dropped += q->len; /* never sent: still queued at the end */
    pthread_mutex_unlock(&q->lock);
}

void cli_mqtt_json_stats(cli_mqtt *q, FILE *f)
{
    if (!q) return;
    cli_mqtt_stats s;
    cli_mqtt_get_stats(q, &s);
    fprintf(f,
            ",\"mqtt_published\":%lu,\"mqtt_acked\":%lu,\"mqtt_queued_max\":%lu,"
            "\"mqtt_dropped\":%lu,\"mqtt_reconnects\":%lu,\"mqtt_connected\":%s",
            s.published, s.acked, s.queued_max, s.dropped, s.reconnects,
            s.connected ? "true" : "false");
}

void cli_mqtt_destroy(cli_mqtt *q)
{
    if (!q) return;
    if (q->loop_started) {
        mosquitto_disconnect(q->mosq);
        mosquitto_loop_stop(q->mosq, true);
    }
    if (q->mosq) mosquitto_destroy(q->mosq);
    if (q->q) {
        for (unsigned i = 0; i < q->len; i++) free(q->q[(q->head + i) % q->cap].payload);
        free(q->q);
    }
    hello_clear(q);
    pthread_mutex_destroy(&q->lock);
    free(q);
    mosquitto_lib_cleanup();
}
