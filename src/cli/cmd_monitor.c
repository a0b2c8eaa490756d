/* SPDX-License-Identifier: MIT */
/* crymeter monitor: live input -> cm_capture (callback -> ring -> worker) -> the same
 * cm_analyzer `analyze` uses -> records. Threads: the PortAudio callback (copies only), the
 * capture worker (analyzer, clip history, record output), the clip writer (disk), the exec
 * runner (alert commands, so a slow or hanging command never blocks analysis), and this
 * main thread, which redraws the meter at most 10 times a second, prints clip/exec
 * messages, watches signals, --duration and device errors, and prints the summary.
 * Records and the meter share stdout under one mutex; the worker holds it only to print. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/mqtt.h"
#include "crymeter/analyzer.h"
#include "crymeter/capture.h"
#include "crymeter/capture_script.h"
#include "crymeter/classifier.h"
#include "crymeter/model_file.h"
#include "crymeter/clipwriter.h"
#include "crymeter/report.h"

extern char **environ;
int cli_audio_init(void); /* cmd_devices.c */

static const char help[] =
    "Usage: crymeter monitor [options]\n"
    "\n"
    "Listens to a live input and reports episodes of crying, sobbing and other\n"
    "vocalisation as they happen, with their loudness and duration.\n"
    "On a terminal: a live meter (momentary LUFS, dB(A) Fast, class and score, episode\n"
    "timer) with episode lines above it. Piped: JSON Lines only: a 'start' record when\n"
    "an episode begins, 'excessive' when it crosses --loud-db or --long-s, 'episode'\n"
    "when it ends (same schema as analyze), then 'summary' and 'monitor' records.\n"
    "\n"
    "Options:\n"
    "  -d, --device D       input device: index or part of its name (see 'crymeter\n"
    "                       devices'); default: the system's default input\n"
    "      --rate HZ        capture rate (default: the device's default rate)\n"
    "      --channels N     capture channels (default 1)\n"
    "  -f, --format FMT     table (default on a terminal) or jsonl (default otherwise)\n"
    "      --exec CMD       run CMD (with /bin/sh) for each record; fields in CRYMETER_*\n"
    "                       environment variables (see README); never blocks analysis\n"
    "      --cooldown S     run --exec at most once every S seconds (default 10)\n"
    "      --exec-timeout S kill a --exec command still running after S s (default 30)\n"
    "      --clips DIR      save each episode as a WAV file in DIR\n"
    "      --pre-roll S     seconds of audio kept before each clip's onset (default 3)\n"
    "      --post-roll S    seconds after its end (default 1)\n"
    "      --duration S     stop after S seconds of audio (default: until Ctrl-C)\n"
    "      --buffer S       seconds of audio held between capture and analysis, 0.5..60\n"
    "                       (default 4); raise it if the monitor record counts drops\n"
    "      --model FILE     classifier model (default: the built-in model)\n"
    "      --on-hup ACTION  what SIGHUP does: stop (default: the terminal went away) or\n"
    "                       reload: read the --model file again and score with it from\n"
    "                       then on (the service: systemctl reload, after crymeter adapt)\n"
    "      --merge-gap S    gaps shorter than S seconds join one episode (default: model's)\n"
    "      --min-episode S  drop episodes shorter than S seconds (default: model's)\n"
    "      --spl-offset DB  dB SPL of a 0 dB(A) re full-scale signal (calibration)\n"
    "      --loud-db DB     excessive when louder than DB dB(A) SPL (default 76)\n"
    "      --long-s S       excessive when longer than S seconds (default 60)\n"
    "      --level-step S   JSON Lines: a level record every S seconds (0.1..3600), for\n"
    "                       the level track of `crymeter report`\n"
    "  -h, --help           this help\n"
    "\n"
    "Records carry the wall-clock time (\"clock\", ISO 8601, local offset) of their start;\n"
    "with --clips, episode records name their clip (\"clip\").\n"
    "Ctrl-C, SIGTERM, SIGHUP (unless --on-hup reload) or --duration: stop, analyse what\n"
    "was captured, close any open episode and print the summary.\n"
    "A device that stops delivering for 3 s, fails or is unplugged ends the run the same\n"
    "way, with a message naming it; a driver that does not stop within 5 s is left behind.\n"
    "Exit status: 0 ok; 1 device or output error, or NaN/Inf samples from the device\n"
    "(after the summary so far); 2 usage error; 3 completed but audio was dropped\n"
    "(frames dropped or input overflows).\n";

typedef struct opts {
    const char *device;
    unsigned rate, channels;
    cm_format fmt;
    bool fmt_given;
    const char *exec_cmd;
    double cooldown, exec_timeout;
    const char *clips;
    double pre_roll, post_roll, duration, buffer;
    const char *model_path;
    double merge_gap, min_episode, spl_offset, loud_db, long_s;
    bool calibrated;
    double level_step; /* 0: no level records */
    bool hup_reloads;  /* --on-hup reload */
} opts;

/* ---- alert commands -------------------------------------------------------------- */

#define EXEC_QUEUE 8
#define EXEC_VARS 20
#define EXEC_VAR_LEN 512
#define EXEC_JSON_LEN 4096

typedef struct exec_job {
    char vars[EXEC_VARS][EXEC_VAR_LEN];
    int n_vars;
    char json[EXEC_JSON_LEN];
} exec_job;

typedef struct execq {
    const char *cmd;
    double timeout_s, cooldown_s;
    double last_s; /* worker: wall time of the last accepted job */
    exec_job q[EXEC_QUEUE];
    unsigned head, len;
    bool closing;
    unsigned runs, failed, skipped_cooldown, skipped_full, killed;
    char msgs[8][600];
    unsigned n_msgs;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t th;
    bool started;
} execq;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void exec_msg(execq *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void exec_msg(execq *x, const char *fmt, ...)
{
    /* Caller holds the lock; the main thread prints and clears. */
    if (x->n_msgs == 8) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msgs[x->n_msgs++], sizeof x->msgs[0], fmt, ap);
    va_end(ap);
}

static void run_job(execq *x, exec_job *j)
{
    size_t n_env = 0;
    while (environ[n_env]) n_env++;
    char **envp = calloc(n_env + EXEC_VARS + 2, sizeof *envp);
    char *json_var = malloc(EXEC_JSON_LEN + 32);
    if (!envp || !json_var) {
        free(envp);
        free(json_var);
        pthread_mutex_lock(&x->lock);
        x->failed++;
        exec_msg(x, "--exec: out of memory");
        pthread_mutex_unlock(&x->lock);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "CRYMETER_", 9) != 0) envp[k++] = environ[i];
    for (int i = 0; i < j->n_vars; i++) envp[k++] = j->vars[i];
    snprintf(json_var, EXEC_JSON_LEN + 32, "CRYMETER_JSON=%s", j->json);
    envp[k++] = json_var;
    envp[k] = NULL;

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigdefault(&attr, &def);
    /* Own process group: Ctrl-C on the terminal is for crymeter, and a timeout kills the
     * command with everything it started. */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    /* stdin and stdout from/to /dev/null: the records on our stdout stay whole JSON lines
     * whatever the command prints (a flood included); its stderr is the user's to see. */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"/bin/sh", "-c", (char *)x->cmd, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    free(json_var);
    if (e != 0) {
        pthread_mutex_lock(&x->lock);
        x->failed++;
        exec_msg(x, "--exec: cannot start /bin/sh: %s", strerror(e));
        pthread_mutex_unlock(&x->lock);
        return;
    }
    double t0 = now_s();
    int status = 0;
    bool killed = false;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) break;
        double el = now_s() - t0;
        if (!killed && el > x->timeout_s) {
            kill(-pid, SIGTERM);
            killed = true;
        } else if (killed && el > x->timeout_s + 2.0) {
            kill(-pid, SIGKILL); /* ignored SIGTERM for 2 s */
        }
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&x->lock);
    x->runs++;
    if (killed) {
        x->killed++;
        x->failed++;
        exec_msg(x, "--exec: command still running after %g s; killed", x->timeout_s);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        x->failed++;
        exec_msg(x, "--exec: command exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        x->failed++;
        exec_msg(x, "--exec: command killed by signal %d", WTERMSIG(status));
    }
    pthread_mutex_unlock(&x->lock);
}

static void *exec_main(void *arg)
{
    execq *x = arg;
    exec_job *j = malloc(sizeof *j);
    pthread_mutex_lock(&x->lock);
    for (;;) {
        while (!x->closing && x->len == 0) pthread_cond_wait(&x->wake, &x->lock);
        if (x->len == 0) break;
        if (j) *j = x->q[x->head];
        x->head = (x->head + 1) % EXEC_QUEUE;
        x->len--;
        pthread_mutex_unlock(&x->lock);
        if (j) run_job(x, j);
        pthread_mutex_lock(&x->lock);
    }
    pthread_mutex_unlock(&x->lock);
    free(j);
    return NULL;
}

/* Lets the exec thread finish the commands already queued, then joins it. */
static void exec_stop(execq *x)
{
    if (!x->started) return;
    pthread_mutex_lock(&x->lock);
    x->closing = true;
    pthread_cond_signal(&x->wake);
    pthread_mutex_unlock(&x->lock);
    pthread_join(x->th, NULL);
    x->started = false;
}

static void addvar(exec_job *j, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void addvar(exec_job *j, const char *name, const char *fmt, ...)
{
    if (j->n_vars >= EXEC_VARS) return;
    char *v = j->vars[j->n_vars++];
    int n = snprintf(v, EXEC_VAR_LEN, "CRYMETER_%s=", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v + n, EXEC_VAR_LEN - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- the monitor ----------------------------------------------------------------- */

typedef struct mon {
    const opts *o;
    cm_analyzer *an;
    /* Pushes and flush (capture worker) and a reload's model swap (main thread) take turns
     * under an_lock; model is the one in use (owned). */
    pthread_mutex_t an_lock;
    cm_model *model;
    cm_clipwriter *clips;
    execq *ex;
    const char *device;
    unsigned rate;
    pthread_mutex_t out_lock; /* stdout: records and the meter */
    bool meter;               /* live meter on stdout */
    bool meter_drawn;
    cm_level level;           /* latest reading (under out_lock) */
    bool have_level;
    double open_start_s;      /* running episode's start, NAN when none */
    cm_status write_st;       /* first stdout error */
    cm_status push_st;
    cm_clock clk;             /* wall clock of audio time 0 */
    cm_level_acc lacc;        /* --level-step (worker thread only) */
    cli_mqtt *mq;             /* --mqtt, or NULL */
} mon;

static void clear_meter(mon *m)
{
    if (m->meter && m->meter_drawn) {
        fputs("\r\033[K", stdout);
        m->meter_drawn = false;
    }
}

static const char *kind_name(cm_event_kind k)
{
    return k == CM_EVENT_START ? "start" : k == CM_EVENT_EXCESSIVE ? "excessive" : "end";
}

static void queue_exec(mon *m, cm_event_kind kind, const cm_episode *ep, const char *json)
{
    execq *x = m->ex;
    double t = now_s();
    pthread_mutex_lock(&x->lock);
    if (x->last_s > 0 && t - x->last_s < x->cooldown_s) {
        x->skipped_cooldown++;
    } else if (x->len == EXEC_QUEUE) {
        x->skipped_full++;
    } else {
        x->last_s = t;
        exec_job *j = &x->q[(x->head + x->len) % EXEC_QUEUE];
        j->n_vars = 0;
        addvar(j, "EVENT", "%s", kind_name(kind));
        addvar(j, "ID", "%llu", (unsigned long long)ep->id);
        addvar(j, "CLASS", "%s", cm_class_name(ep->cls));
        addvar(j, "START_S", "%.3f", ep->start_s);
        addvar(j, "END_S", "%.3f", ep->end_s);
        addvar(j, "DURATION_S", "%.3f", ep->duration_s);
        addvar(j, "CONFIDENCE", "%.3f", ep->confidence);
        addvar(j, "DBA_MAX", "%.2f", ep->dba_max);
        addvar(j, "SPL_DB_MAX", "%.2f", ep->spl_db_max);
        addvar(j, "CALIBRATED", "%d", ep->calibrated ? 1 : 0);
        addvar(j, "LUFS_MAX", "%.2f", ep->lufs_momentary_max);
        addvar(j, "PEAK_DBFS", "%.2f", ep->peak_dbfs);
        addvar(j, "EXCESSIVE", "%s%s%s", (ep->excessive & CM_EXCESS_LOUD) ? "loud" : "",
               (ep->excessive & CM_EXCESS_LOUD) && (ep->excessive & CM_EXCESS_LONG) ? "," : "",
               (ep->excessive & CM_EXCESS_LONG) ? "long" : "");
        addvar(j, "DEVICE", "%s", m->device);
        snprintf(j->json, sizeof j->json, "%s", json ? json : "");
        x->len++;
        pthread_cond_signal(&x->wake);
    }
    pthread_mutex_unlock(&x->lock);
}

/* Worker thread (inside cm_analyzer_push / flush). */
static void on_event(void *user, cm_event_kind kind, const cm_episode *ep)
{
    mon *m = user;
    /* One record text for stdout (JSON Lines), --exec's CRYMETER_JSON and --mqtt: they say
     * the same thing in the same words (wall clock and clip included). */
    char clip[1024];
    bool with_clip = m->clips && kind == CM_EVENT_END;
    if (with_clip) cm_clipwriter_clip_path(m->clips, ep, clip, sizeof clip);
    char *json = NULL;
    size_t json_len = 0;
    FILE *mf = open_memstream(&json, &json_len);
    if (mf) {
        cm_status js = cm_report_event_at(mf, CM_FORMAT_JSONL, m->device, &m->clk,
                                          with_clip ? clip : NULL, kind, ep);
        if (fclose(mf) != 0 || js != CM_OK) {
            free(json);
            json = NULL;
        } else if (json_len && json[json_len - 1] == '\n') {
            json[json_len - 1] = 0;
        }
    }
    pthread_mutex_lock(&m->out_lock);
    clear_meter(m);
    if (m->write_st == CM_OK) {
        cm_status st;
        if (m->o->fmt == CM_FORMAT_JSONL)
            st = json && printf("%s\n", json) > 0 ? CM_OK : CM_E_IO;
        else
            st = cm_report_event_at(stdout, m->o->fmt, m->device, &m->clk,
                                    with_clip ? clip : NULL, kind, ep);
        if (st == CM_OK && fflush(stdout) != 0) st = CM_E_IO;
        m->write_st = st;
    }
    if (kind == CM_EVENT_START) m->open_start_s = ep->start_s;
    if (kind == CM_EVENT_END) m->open_start_s = NAN;
    pthread_mutex_unlock(&m->out_lock);
    if (m->clips) {
        if (kind == CM_EVENT_START) cm_clipwriter_episode_start(m->clips, ep);
        if (kind == CM_EVENT_END) cm_clipwriter_episode_end(m->clips, ep);
    }
    if (m->ex) queue_exec(m, kind, ep, json);
    if (json) cli_mqtt_event(m->mq, kind, ep, json);
    free(json);
}

static void on_level(void *user, const cm_level *lv)
{
    mon *m = user;
    cli_mqtt_level(m->mq, lv);
    if (!m->meter) return;
    pthread_mutex_lock(&m->out_lock);
    m->level = *lv;
    m->have_level = true;
    pthread_mutex_unlock(&m->out_lock);
}

/* Worker thread: the level track (--level-step), as analyze writes it. */
static void on_track(void *user, const cm_level *lv)
{
    mon *m = user;
    cm_level_rec r;
    if (!cm_level_acc_push(&m->lacc, lv, &r) || m->o->fmt != CM_FORMAT_JSONL) return;
    pthread_mutex_lock(&m->out_lock);
    clear_meter(m);
    if (m->write_st == CM_OK) m->write_st = cm_report_level(stdout, m->o->fmt, m->device, &m->clk, &r);
    pthread_mutex_unlock(&m->out_lock);
}

static int on_audio(void *user, const float *x, size_t n)
{
    mon *m = user;
    if (m->clips) cm_clipwriter_push(m->clips, x, n);
    pthread_mutex_lock(&m->an_lock);
    cm_status st = cm_analyzer_push(m->an, x, n);
    pthread_mutex_unlock(&m->an_lock);
    if (st != CM_OK) {
        m->push_st = st;
        return 1;
    }
    return 0;
}

static void on_end(void *user)
{
    mon *m = user;
    pthread_mutex_lock(&m->an_lock);
    cm_status st = cm_analyzer_flush(m->an);
    pthread_mutex_unlock(&m->an_lock);
    if (st != CM_OK && m->push_st == CM_OK) m->push_st = st;
}

static void draw_meter(mon *m, const cm_capture_stats *cs)
{
    pthread_mutex_lock(&m->out_lock);
    if (m->have_level) {
        const cm_level *l = &m->level;
        char lufs[16], dba[16], ep[32] = "";
        if (isfinite(l->lufs_momentary)) snprintf(lufs, sizeof lufs, "%6.1f", l->lufs_momentary);
        else snprintf(lufs, sizeof lufs, "%6s", "-inf");
        if (isfinite(l->dba_fast)) snprintf(dba, sizeof dba, "%6.1f", l->dba_fast);
        else snprintf(dba, sizeof dba, "%6s", "-inf");
        if (isfinite(m->open_start_s)) {
            double d = l->t_s - m->open_start_s;
            if (d < 0) d = 0;
            snprintf(ep, sizeof ep, "  EPISODE %02d:%02d", (int)(d / 60), (int)fmod(d, 60));
        }
        int t = (int)l->t_s;
        printf("\r\033[K%02d:%02d:%02d  %s LUFS  %s dB(A)  %-10s %.2f%s%s", t / 3600,
               t / 60 % 60, t % 60, lufs, dba, cm_class_name(l->cls), l->score, ep,
               cs->frames_dropped || cs->overflows ? "  DROPPED AUDIO" : "");
        fflush(stdout);
        m->meter_drawn = true;
    }
    pthread_mutex_unlock(&m->out_lock);
}

static void print_messages(mon *m)
{
    char buf[700];
    int err = 0;
    while (m->clips && cm_clipwriter_next_message(m->clips, buf, sizeof buf, &err)) {
        pthread_mutex_lock(&m->out_lock);
        clear_meter(m);
        if (err) cli_err("%s", buf);
        else if (m->meter) fprintf(stderr, "crymeter: %s\n", buf);
        pthread_mutex_unlock(&m->out_lock);
    }
    if (m->ex) {
        pthread_mutex_lock(&m->ex->lock);
        unsigned n = m->ex->n_msgs;
        char msgs[8][600];
        memcpy(msgs, m->ex->msgs, sizeof msgs);
        m->ex->n_msgs = 0;
        pthread_mutex_unlock(&m->ex->lock);
        pthread_mutex_lock(&m->out_lock);
        if (n) clear_meter(m);
        for (unsigned i = 0; i < n; i++) cli_err("%s", msgs[i]);
        pthread_mutex_unlock(&m->out_lock);
    }
}

static volatile sig_atomic_t got_signal, got_hup; /* what a handler may set */
static bool hup_reloads; /* --on-hup reload; set before the handler is installed */

static void on_signal(int sig)
{
    if (sig == SIGHUP && hup_reloads) got_hup = 1;
    else got_signal = sig;
}

/* SIGHUP with --on-hup reload: the --model file read again and swapped in between two
 * pushes. A file that does not load, or a model the running analysis cannot switch to
 * (cm_analyzer_set_model), is reported and the model in use stays: a half-written or
 * wrong file never stops the monitor. */
static void reload_model(mon *m)
{
    const char *path = m->o->model_path;
    char msg[1200];
    bool failed = true;
    cm_diag why = {{0}};
    cm_model *nm = NULL;
    if (!path) {
        snprintf(msg, sizeof msg, "SIGHUP: no --model file is in use (the built-in model): "
                 "nothing to read again");
    } else if (cm_model_load_file(path, &nm, &why) != CM_OK) {
        snprintf(msg, sizeof msg, "reload: %s; the model in use stays", why.msg); /* names the file */
    } else {
        pthread_mutex_lock(&m->an_lock);
        cm_status st = cm_analyzer_set_model(m->an, nm, &why);
        pthread_mutex_unlock(&m->an_lock);
        if (st == CM_OK) {
            cm_model_destroy(m->model);
            m->model = nm;
            failed = false;
            snprintf(msg, sizeof msg, "read the model again: %s%s; it scores from here on", path,
                     cm_model_home(nm) ? " (a home model)" : "");
        } else {
            cm_model_destroy(nm);
            snprintf(msg, sizeof msg, "reload: %s: %s; the model in use stays", path,
                     why.msg[0] ? why.msg : cm_status_str(st));
        }
    }
    pthread_mutex_lock(&m->out_lock);
    clear_meter(m);
    if (failed) cli_err("%s", msg);
    else fprintf(stderr, "crymeter: %s\n", msg);
    pthread_mutex_unlock(&m->out_lock);
}

int cmd_monitor(int argc, char **argv)
{
    opts o = {.channels = 1, .fmt = CM_FORMAT_TABLE, .cooldown = 10.0, .exec_timeout = 30.0,
              .pre_roll = 3.0, .post_roll = 1.0, .duration = 0.0, .buffer = 4.0, .merge_gap = -1.0,
              .min_episode = -1.0, .spl_offset = CM_SPL_OFFSET_DEFAULT_DB, .loud_db = 76.0,
              .long_s = 60.0};
    enum { O_RATE = 256, O_CH, O_EXEC, O_COOL, O_EXTO, O_CLIPS, O_PRE, O_POST, O_DUR, O_MODEL,
           O_MERGE, O_MINEP, O_SPL, O_LOUD, O_LONG, O_BUF, O_LSTEP, O_HUP };
    static const struct option lopts[] = {
        {"device", required_argument, 0, 'd'},   {"format", required_argument, 0, 'f'},
        {"rate", required_argument, 0, O_RATE},  {"channels", required_argument, 0, O_CH},
        {"exec", required_argument, 0, O_EXEC},  {"cooldown", required_argument, 0, O_COOL},
        {"exec-timeout", required_argument, 0, O_EXTO},
        {"clips", required_argument, 0, O_CLIPS}, {"pre-roll", required_argument, 0, O_PRE},
        {"post-roll", required_argument, 0, O_POST},
        {"duration", required_argument, 0, O_DUR}, {"model", required_argument, 0, O_MODEL},
        {"buffer", required_argument, 0, O_BUF},
        {"merge-gap", required_argument, 0, O_MERGE},
        {"min-episode", required_argument, 0, O_MINEP},
        {"spl-offset", required_argument, 0, O_SPL}, {"loud-db", required_argument, 0, O_LOUD},
        {"long-s", required_argument, 0, O_LONG}, {"help", no_argument, 0, 'h'},
        {"level-step", required_argument, 0, O_LSTEP},
        {"on-hup", required_argument, 0, O_HUP},
        CLI_MQTT_LONG_OPTIONS
        {0, 0, 0, 0}};
    cli_mqtt_opts mqo;
    cli_mqtt_opts_default(&mqo);
    int c, mq_bad = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:f:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.device = optarg; break;
        case 'f':
            if (cm_format_parse(optarg, &o.fmt) != 0 ||
                (o.fmt != CM_FORMAT_TABLE && o.fmt != CM_FORMAT_JSONL)) {
                cli_err("--format=%s: expected table or jsonl", optarg);
                goto usage;
            }
            o.fmt_given = true;
            break;
        case O_RATE: if (cli_parse_uint("--rate", optarg, 8000, 192000, &o.rate)) goto usage; break;
        case O_CH: if (cli_parse_uint("--channels", optarg, 1, 64, &o.channels)) goto usage; break;
        case O_EXEC: o.exec_cmd = optarg; break;
        case O_COOL: if (cli_parse_double("--cooldown", optarg, 0, 86400, &o.cooldown)) goto usage; break;
        case O_EXTO: if (cli_parse_double("--exec-timeout", optarg, 0.1, 3600, &o.exec_timeout)) goto usage; break;
        case O_CLIPS: o.clips = optarg; break;
        case O_PRE: if (cli_parse_double("--pre-roll", optarg, 0, 60, &o.pre_roll)) goto usage; break;
        case O_POST: if (cli_parse_double("--post-roll", optarg, 0, 60, &o.post_roll)) goto usage; break;
        case O_DUR: if (cli_parse_double("--duration", optarg, 0.01, 1e7, &o.duration)) goto usage; break;
        case O_BUF: if (cli_parse_double("--buffer", optarg, 0.5, 60, &o.buffer)) goto usage; break;
        case O_MODEL: o.model_path = optarg; break;
        case O_MERGE: if (cli_parse_double("--merge-gap", optarg, 0, 60, &o.merge_gap)) goto usage; break;
        case O_MINEP: if (cli_parse_double("--min-episode", optarg, 0, 600, &o.min_episode)) goto usage; break;
        case O_SPL:
            if (cli_parse_double("--spl-offset", optarg, -200, 200, &o.spl_offset)) goto usage;
            o.calibrated = true;
            break;
        case O_LOUD: if (cli_parse_double("--loud-db", optarg, -200, 300, &o.loud_db)) goto usage; break;
        case O_LONG: if (cli_parse_double("--long-s", optarg, 0.01, 1e7, &o.long_s)) goto usage; break;
        case O_LSTEP: if (cli_parse_double("--level-step", optarg, 0.1, 3600, &o.level_step)) goto usage; break;
        case O_HUP:
            if (strcmp(optarg, "stop") != 0 && strcmp(optarg, "reload") != 0) {
                cli_err("--on-hup=%s: expected stop or reload", optarg);
                goto usage;
            }
            o.hup_reloads = strcmp(optarg, "reload") == 0;
            break;
        case 'h': fputs(help, stdout); fputs(cli_mqtt_help, stdout); return CM_EXIT_OK;
        case ':': cli_err("option %s needs a value", argv[optind - 1]); goto usage;
        default:
            if (cli_mqtt_option(&mqo, c, optarg, &mq_bad)) {
                if (mq_bad) goto usage;
                break;
            }
            cli_err("unknown option '%s'", argv[optind - 1]);
            goto usage;
        }
    }
    if (optind < argc) {
        cli_err("monitor: unexpected argument '%s'", argv[optind]);
        goto usage;
    }
    if (cli_mqtt_check(&mqo)) goto usage;
    const bool tty = isatty(STDOUT_FILENO);
    if (!o.fmt_given) o.fmt = tty ? CM_FORMAT_TABLE : CM_FORMAT_JSONL;

    cm_diag why = {{0}};
    cm_model *model = NULL;
    cm_status st = o.model_path ? cm_model_load_file(o.model_path, &model, &why)
                                : cm_model_load_default(&model, &why);
    if (st != CM_OK) {
        cli_err("%s", why.msg[0] ? why.msg : cm_status_str(st)); /* names the file */
        return CM_EXIT_FAIL;
    }
    /* The test seam (tests/README.md): a scripted device instead of PortAudio, so the
     * tests drive stalls, hangs, failures and overflows by construction. */
    const char *script = getenv("CRYMETER_TEST_CAPTURE");
    bool audio_up = false;
    if (!script || !*script) {
        if (cli_audio_init() != 0) {
            cm_model_destroy(model);
            return CM_EXIT_FAIL;
        }
        audio_up = true;
    }

    int rc = CM_EXIT_OK;
    mon m;
    memset(&m, 0, sizeof m);
    m.clk = cm_clock_none();
    m.o = &o;
    m.open_start_s = NAN;
    m.model = model; /* the monitor's from here: a reload may replace it */
    pthread_mutex_init(&m.out_lock, NULL);
    pthread_mutex_init(&m.an_lock, NULL);
    execq ex;
    memset(&ex, 0, sizeof ex);
    pthread_mutex_init(&ex.lock, NULL);
    pthread_cond_init(&ex.wake, NULL);
    cm_capture *cap = NULL;
    cm_capture_source *src = NULL;
    if (audio_up) {
        cm_capture_device dev;
        if ((st = cm_capture_find(o.device, &dev, &why)) != CM_OK) {
            cli_err("%s", why.msg);
            rc = st == CM_E_RANGE ? CM_EXIT_USAGE : CM_EXIT_FAIL;
            goto done;
        }
        st = cm_capture_source_portaudio(dev.index, 0.0, &src, &why);
    } else {
        st = cm_capture_script_load(script, &src, &why);
    }
    if (st != CM_OK) {
        cli_err("%s", why.msg);
        rc = CM_EXIT_FAIL;
        goto done;
    }
    cm_capture_config ccfg = cm_capture_config_default();
    ccfg.source = src; /* the capture owns it from here */
    ccfg.rate_hz = o.rate ? o.rate : src->default_rate_hz;
    ccfg.channels = o.channels;
    ccfg.ring_s = o.buffer;
    ccfg.max_frames = o.duration > 0 ? (uint64_t)llround(o.duration * ccfg.rate_hz) : 0;
    ccfg.on_audio = on_audio;
    ccfg.on_end = on_end;
    ccfg.user = &m;
    if ((st = cm_capture_open(&ccfg, &cap, &why)) != CM_OK) {
        cli_err("%s", why.msg);
        rc = CM_EXIT_FAIL;
        goto done;
    }
    m.rate = cm_capture_rate_hz(cap);
    m.device = cm_capture_device_name(cap); /* owned by this capture: valid until close */
    if (mqo.url && !(m.mq = cli_mqtt_start(&mqo, m.device))) {
        rc = CM_EXIT_FAIL;
        goto done;
    }

    cm_analyzer_config acfg = cm_analyzer_config_default(m.rate, o.channels);
    acfg.spl_offset_db = o.spl_offset;
    acfg.calibrated = o.calibrated;
    acfg.loud_db = o.loud_db;
    acfg.long_s = o.long_s;
    acfg.merge_gap_s = o.merge_gap;
    acfg.min_episode_s = o.min_episode;
    acfg.model = model;
    acfg.on_event = on_event;
    acfg.on_level = on_level;
    if (o.level_step > 0) acfg.on_track = on_track;
    acfg.user = &m;
    if ((st = cm_analyzer_create(&acfg, &m.an, &why)) != CM_OK) {
        cli_err("%s", why.msg[0] ? why.msg : cm_status_str(st));
        rc = CM_EXIT_FAIL;
        goto done;
    }
    if (o.level_step > 0 && cm_level_acc_init(&m.lacc, o.level_step, o.calibrated) != CM_OK) {
        rc = CM_EXIT_FAIL;
        goto done;
    }
    if (o.clips) {
        cm_clipwriter_config wcfg = cm_clipwriter_config_default(o.clips, m.rate, o.channels);
        wcfg.pre_roll_s = o.pre_roll;
        wcfg.post_roll_s = o.post_roll;
        /* Hold = longest merge gap in use + 5 s: detection latency (about 1.3 s) with room. */
        double gap = o.merge_gap;
        if (gap < 0) {
            const cm_detect_params *dp = cm_model_params(model);
            gap = 0;
            for (int k = 0; k < CM_N_CLASSES; k++)
                if (dp->merge_gap_s[k] > gap) gap = dp->merge_gap_s[k];
        }
        wcfg.hold_s = gap + 5.0;
        if ((st = cm_clipwriter_create(&wcfg, &m.clips, &why)) != CM_OK) {
            cli_err("--clips: %s", why.msg);
            rc = st == CM_E_IO ? CM_EXIT_USAGE : CM_EXIT_FAIL;
            goto done;
        }
    }
    if (o.exec_cmd) {
        ex.cmd = o.exec_cmd;
        ex.cooldown_s = o.cooldown;
        ex.timeout_s = o.exec_timeout;
        if (pthread_create(&ex.th, NULL, exec_main, &ex) != 0) {
            cli_err("cannot start the --exec thread");
            rc = CM_EXIT_FAIL;
            goto done;
        }
        ex.started = true;
        m.ex = &ex;
    }
    m.meter = tty && o.fmt == CM_FORMAT_TABLE;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    hup_reloads = o.hup_reloads;
    sigaction(SIGHUP, &sa, NULL); /* the terminal went away: stop as for Ctrl-C (or reload) */
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error, reported */

    if (o.fmt == CM_FORMAT_TABLE) {
        pthread_mutex_lock(&m.out_lock);
        m.write_st = cm_report_begin(stdout, o.fmt);
        fflush(stdout);
        pthread_mutex_unlock(&m.out_lock);
    }
    if (m.meter)
        fprintf(stderr, "crymeter: monitoring '%s' at %u Hz; Ctrl-C to stop\n", m.device, m.rate);
    /* Audio time 0 is now, give or take the device's start-up: the records' "clock". */
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    m.clk.epoch_s = (double)wall.tv_sec + wall.tv_nsec * 1e-9;
    m.clk.offset_min = CM_CLOCK_LOCAL;
    if ((st = cm_capture_start(cap, &why)) != CM_OK) {
        cli_err("%s", why.msg);
        rc = CM_EXIT_FAIL;
        goto done;
    }

    bool device_failed = false;
    double last_draw = 0;
    cm_capture_stats cs;
    for (;;) {
        struct timespec ts = {0, 25000000}; /* 25 ms: signal and --duration reaction time */
        nanosleep(&ts, NULL);
        cm_capture_get_stats(cap, &cs);
        if (got_signal || cs.done) break;
        if (got_hup) {
            got_hup = 0;
            reload_model(&m);
        }
        if (cm_capture_poll(cap, &why) != CM_OK) {
            pthread_mutex_lock(&m.out_lock);
            clear_meter(&m);
            cli_err("%s", why.msg);
            pthread_mutex_unlock(&m.out_lock);
            device_failed = true;
            break;
        }
        pthread_mutex_lock(&m.out_lock);
        bool out_failed = m.write_st != CM_OK;
        pthread_mutex_unlock(&m.out_lock);
        if (out_failed) break;
        print_messages(&m);
        double t = now_s();
        if (m.meter && t - last_draw >= 0.1) { /* at most 10 redraws a second */
            draw_meter(&m, &cs);
            last_draw = t;
        }
    }

    /* Stop: drain the ring through the analyzer, flush (closes an open episode). */
    if (cm_capture_stop(cap, &why) != CM_OK) {
        cli_err("%s", why.msg);
        device_failed = true;
    }
    cm_capture_get_stats(cap, &cs);
    cm_clipwriter_finish(m.clips);
    exec_stop(&ex);
    cli_mqtt_stop(m.mq, 5.0); /* up to 5 s for queued records to reach the broker */
    print_messages(&m);

    cm_summary sum;
    cm_analyzer_summary(m.an, &sum);
    pthread_mutex_lock(&m.out_lock);
    clear_meter(&m);
    cm_level_rec lr;
    if (o.level_step > 0 && cm_level_acc_flush(&m.lacc, &lr) && m.write_st == CM_OK)
        m.write_st = cm_report_level(stdout, o.fmt, m.device, &m.clk, &lr);
    if (m.write_st == CM_OK) m.write_st = cm_report_summary_at(stdout, o.fmt, m.device, &m.clk, &sum);
    cm_clipwriter_stats ws = {0, 0, 0, 0};
    if (m.clips) cm_clipwriter_get_stats(m.clips, &ws);
    double monitored = (double)cs.frames_delivered / m.rate;
    if (m.write_st == CM_OK) {
        if (o.fmt == CM_FORMAT_JSONL) {
            fputs("{\"type\":\"monitor\",\"device\":", stdout);
            cm_json_string(stdout, m.device);
            printf(",\"rate_hz\":%u,\"channels\":%u,\"monitored_s\":", m.rate, o.channels);
            cm_json_number(stdout, monitored, 3);
            printf(",\"frames_captured\":%llu,\"frames_analyzed\":%llu,\"frames_dropped\":%llu,"
                   "\"overflows\":%llu,\"device_error\":%s,\"clips_written\":%u,"
                   "\"clips_failed\":%u,\"exec_runs\":%u,\"exec_failed\":%u,"
                   "\"exec_skipped\":%u",
                   (unsigned long long)cs.frames_captured,
                   (unsigned long long)cs.frames_delivered, (unsigned long long)cs.frames_dropped,
                   (unsigned long long)cs.overflows, device_failed ? "true" : "false",
                   ws.clips_written, ws.clips_failed, ex.runs, ex.failed,
                   ex.skipped_cooldown + ex.skipped_full);
            cli_mqtt_json_stats(m.mq, stdout);
            fputs("}\n", stdout);
        } else {
            int t = (int)monitored;
            printf("monitored %02d:%02d:%02d on '%s'; episodes: %u (cry %u, sob %u, vocal %u); "
                   "frames dropped: %llu; overflows: %llu",
                   t / 3600, t / 60 % 60, t % 60, m.device, sum.episodes,
                   sum.episodes_by_class[CM_CLASS_CRY], sum.episodes_by_class[CM_CLASS_SOB],
                   sum.episodes_by_class[CM_CLASS_VOCAL], (unsigned long long)cs.frames_dropped,
                   (unsigned long long)cs.overflows);
            if (m.clips) printf("; clips: %u written, %u failed", ws.clips_written, ws.clips_failed);
            if (o.exec_cmd) printf("; --exec: %u run, %u failed", ex.runs, ex.failed);
            putchar('\n');
        }
        if (fflush(stdout) != 0 || ferror(stdout)) m.write_st = CM_E_IO;
    }
    pthread_mutex_unlock(&m.out_lock);

    if (m.write_st != CM_OK) {
        cli_err("writing the output failed: %s", strerror(errno));
        rc = CM_EXIT_FAIL;
    } else if (m.push_st != CM_OK) {
        cli_err("analysis failed: %s", cm_status_str(m.push_st));
        rc = CM_EXIT_FAIL;
    } else if (device_failed) {
        rc = CM_EXIT_FAIL;
    } else if (sum.nonfinite_samples) {
        cli_err("device '%s' delivered %llu NaN/Inf samples (analysed as silence)", m.device,
                (unsigned long long)sum.nonfinite_samples);
        rc = CM_EXIT_FAIL;
    } else if (cs.frames_dropped || cs.overflows) {
        cli_err("audio was dropped: %llu frames did not fit the buffer, %llu input overflows",
                (unsigned long long)cs.frames_dropped, (unsigned long long)cs.overflows);
        rc = CM_EXIT_DROPPED;
    }
    if (got_signal && m.meter) fputs("\n", stderr);

done:
    exec_stop(&ex);
    bool hung = cm_capture_hung(cap);
    cm_capture_close(cap);
    cm_clipwriter_close(m.clips);
    cm_analyzer_destroy(m.an);
    cli_mqtt_destroy(m.mq);
    if (audio_up && !hung) cm_capture_system_done(); /* PortAudio would wait on the stuck driver */
    cm_model_destroy(m.model);
    pthread_mutex_destroy(&m.out_lock);
    pthread_mutex_destroy(&m.an_lock);
    pthread_mutex_destroy(&ex.lock);
    pthread_cond_destroy(&ex.wake);
    return rc;
usage:
    fputs("Try 'crymeter monitor --help'.\n", stderr);
    return CM_EXIT_USAGE;
}
