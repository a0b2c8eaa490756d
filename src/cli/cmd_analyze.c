/* SPDX-License-Identifier: MIT */
/* crymeter analyze: streams each file through cm_analyzer and reports its episodes and a
 * summary. With -j 1 (the default) records are written as episodes end, so a long file's
 * results so far are on disk whatever happens later; with -j N each file's records are
 * buffered and written in input order as soon as every earlier file is done. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crymeter/analyzer.h"
#include "crymeter/classifier.h"
#include "crymeter/model_file.h"
#include "crymeter/reader.h"
#include "crymeter/report.h"

#define READ_BLOCK_FRAMES 8192u

static const char help[] =
    "Usage: crymeter analyze [options] FILE...\n"
    "\n"
    "Finds episodes of crying and other vocalisation in recorded audio files and reports\n"
    "their class, start, end, duration and loudness. Any format libsndfile reads (WAV,\n"
    "FLAC, Ogg Vorbis, Opus, MP3, ...), 8-192 kHz, any channel count; memory stays constant\n"
    "whatever the file's length. FILE may be a FIFO, or - for standard input (once); for\n"
    "what libsndfile cannot read (AAC/.m4a, video), decode with ffmpeg into a pipe:\n"
    "  ffmpeg -i night.m4a -f wav - | crymeter analyze -\n"
    "A WAV stream without a length (as ffmpeg writes to a pipe) is read to its end, up to\n"
    "4 GiB of audio data (libsndfile's limit; add -ac 1 -ar 16000 for up to 37 h).\n"
    "\n"
    "Output:\n"
    "  -f, --format FMT     table (default on a terminal), jsonl (default otherwise),\n"
    "                       csv, audacity (label track: start<TAB>end<TAB>label), rttm\n"
    "                       (SPEAKER lines for diarization scorers, the class as the\n"
    "                       speaker; file id: base name, spaces as _), textgrid (Praat:\n"
    "                       a tier per class and one of excessive episodes; one file),\n"
    "                       eaf (ELAN: the same tiers, the audio file named; one file)\n"
    "  -o, --output PATH    write records to PATH instead of standard output\n"
    "      --force          overwrite PATH if it exists\n"
    "      --progress       progress on stderr (default when stderr is a terminal)\n"
    "      --no-progress    no progress\n"
    "      --name NAME      name standard input (-) NAME in records and messages\n"
    "                       (default: -)\n"
    "      --level-step S   also write a level record every S seconds (0.1..3600; JSON\n"
    "                       Lines): momentary LUFS, dB(A) and dB SPL max, the detector's\n"
    "                       class and cry probability (default: none)\n"
    "      --level-csv PATH the level records as CSV in PATH (step 1 s or --level-step)\n"
    "      --start TIME     wall-clock time of the file's start, ISO 8601 (e.g.\n"
    "                       2026-12-01T21:00:00+01:00; no offset: local time); records get\n"
    "                       a \"clock\" field, the table clock times. One file only. Without\n"
    "                       it, a WAV file's bext origination date and time (local) is used.\n"
    "      --report PATH    also write the HTML night report (as `crymeter report`) to PATH\n"
    "\n"
    "Detection:\n"
    "      --model FILE     classifier model (default: the built-in model)\n"
    "      --merge-gap S    gaps shorter than S seconds join one episode (0..60;\n"
    "                       default: the model's value, 5 s for crying)\n"
    "      --min-episode S  drop episodes shorter than S seconds (default: model's, 1)\n"
    "\n"
    "Levels and excessive flags:\n"
    "      --spl-offset DB  dB SPL of a 0 dB(A) re full-scale signal, from `crymeter\n"
    "                       calibrate --tone` or your own measurement. Without it SPL\n"
    "                       figures assume 0 dBFS = 100 dB SPL and are marked uncalibrated.\n"
    "      --loud-db DB     flag episodes louder than DB dB(A) SPL as excessive (default\n"
    "                       76: listeners rate cries of 76 dB(A) and more most annoying)\n"
    "      --long-s S       flag episodes longer than S seconds as excessive (default 60)\n"
    "      --no-true-peak   skip the true-peak measurement (faster)\n"
    "\n"
    "Performance:\n"
    "  -j, --jobs N         analyse N files at once (default 1)\n"
    "\n"
    "Levels: LUFS (ITU-R BS.1770 via libebur128, on the original channels at the native\n"
    "rate), dBFS (sample peak), dB(A) (IEC 61672 A-weighting, Fast, re full scale) and\n"
    "dB SPL = dB(A) + offset. The JSON Lines schema is documented in README.md.\n"
    "\n"
    "Exit status: 0 all files analysed; 1 a file could not be read or had damaged audio\n"
    "(truncated, ends inside a frame, NaN/Inf or beyond +-65536 samples: analysed,\n"
    "reported, and flagged); 2 usage error.\n"
    "\n"
    "Examples:\n"
    "  crymeter analyze night.flac\n"
    "  crymeter analyze -f jsonl -j 2 -o episodes.jsonl rec/*.wav\n"
    "  crymeter analyze -f audacity night.flac > night.txt   # open beside it in Audacity\n"
    "  crymeter analyze -f rttm rec/*.flac > hyp.rttm          # for dscore, pyannote.metrics\n"
    "  crymeter analyze -f textgrid -o night.TextGrid night.wav   # open both in Praat\n"
    "  crymeter analyze -f eaf -o night.eaf night.wav             # open in ELAN\n"
    "  ffmpeg -i night.m4a -f wav - | crymeter analyze --name night.m4a -\n";

typedef struct opts {
    cm_format fmt;
    const char *output;
    bool force;
    int progress; /* -1 auto */
    unsigned jobs;
    double spl_offset;
    bool calibrated;
    double loud_db, long_s, merge_gap, min_episode;
    bool true_peak;
    const char *model_path;
    const char *stdin_name; /* --name: how records and messages call standard input */
    double level_step;      /* 0: no level records in the output */
    const char *level_csv, *report;
    cm_clock start;
} opts;

typedef struct shared {
    const opts *o;
    const cm_model *model;
    char **files;
    size_t n_files;
    FILE *out;
    FILE *lvl_out, *rep_out; /* --level-csv, --report's records (NULL when not asked) */
    pthread_mutex_t lock;
    pthread_cond_t turn;
    size_t next_to_write; /* -j N: index of the file whose records go out next */
    atomic_size_t next_file;
    atomic_int failed;
    atomic_int write_failed;
    bool show_progress;
    double t0;
    /* The terminal: stderr (progress line, messages) and, when it is the same terminal,
     * the records. The progress line has no newline, so it is cleared before anything else
     * is written and redrawn after, all under tty_mx: no line holds a piece of both. */
    pthread_mutex_t tty_mx;
    bool bar_shown;
    char bar[192];
} shared;

typedef struct file_ctx {
    shared *sh;
    const char *path;    /* as given: "-" is standard input */
    const char *name;    /* in records and messages */
    FILE *out;           /* the output itself (-j 1) or a memory buffer */
    FILE *lvl, *rep;     /* same for --level-csv and --report's records, or NULL */
    cm_status write_st;
    cm_clock clk;
    cm_level_acc lacc;
    cm_night_stats stats;
    cm_doc doc;          /* the episodes of a document format (-f textgrid, -f eaf) */
} file_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Callers hold sh->tty_mx. Clearing overwrites the line with spaces rather than an
 * escape sequence, so a --progress log that is not a terminal stays plain text. */
static void bar_clear(shared *sh)
{
    if (!sh->bar_shown) return;
    fprintf(stderr, "\r%*s\r", (int)strlen(sh->bar), "");
    fflush(stderr);
    sh->bar_shown = false;
}

static void bar_redraw(shared *sh)
{
    if (sh->bar_shown || !sh->bar[0]) return;
    fprintf(stderr, "\r%s", sh->bar);
    fflush(stderr);
    sh->bar_shown = true;
}

static void bar_set(shared *sh, const char *text)
{
    pthread_mutex_lock(&sh->tty_mx);
    bar_clear(sh);
    snprintf(sh->bar, sizeof sh->bar, "%s", text);
    bar_redraw(sh);
    pthread_mutex_unlock(&sh->tty_mx);
}

/* Removes the progress line for good (until the next bar_set). */
static void bar_end(shared *sh)
{
    pthread_mutex_lock(&sh->tty_mx);
    bar_clear(sh);
    sh->bar[0] = 0;
    pthread_mutex_unlock(&sh->tty_mx);
}

/* A message on stderr ("crymeter: ..."), written whole, with the progress line out of its way. */
static void say(shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(shared *sh, const char *fmt, ...)
{
    char buf[2 * CM_DIAG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&sh->tty_mx);
    bar_clear(sh);
    cli_err("%s", buf);
    bar_redraw(sh);
    pthread_mutex_unlock(&sh->tty_mx);
}

static void on_event(void *user, cm_event_kind kind, const cm_episode *ep)
{
    file_ctx *fc = user;
    if (kind != CM_EVENT_END || fc->write_st != CM_OK) return;
    shared *sh = fc->sh;
    cm_night_stats_add(&fc->stats, ep);
    /* -j 1 writes to the output itself, which may be the progress line's terminal; -j N
     * writes to a memory buffer. */
    bool direct = fc->out == sh->out;
    if (direct) {
        pthread_mutex_lock(&sh->tty_mx);
        bar_clear(sh);
    }
    fc->write_st = cm_format_is_document(sh->o->fmt)
                       ? cm_doc_add(&fc->doc, ep)
                       : cm_report_event_at(fc->out, sh->o->fmt, fc->name, &fc->clk, NULL, kind, ep);
    if (direct) {
        bar_redraw(sh);
        pthread_mutex_unlock(&sh->tty_mx);
    }
    if (fc->rep && fc->write_st == CM_OK)
        fc->write_st = cm_report_event_at(fc->rep, CM_FORMAT_JSONL, fc->name, &fc->clk, NULL,
                                          kind, ep);
}

static void put_level(file_ctx *fc, const cm_level_rec *r)
{
    shared *sh = fc->sh;
    const opts *o = sh->o;
    /* In the main output only as JSON Lines: a CSV of episodes has no place for them. */
    if (o->level_step > 0 && o->fmt == CM_FORMAT_JSONL && fc->write_st == CM_OK) {
        bool direct = fc->out == sh->out;
        if (direct) {
            pthread_mutex_lock(&sh->tty_mx);
            bar_clear(sh);
        }
        fc->write_st = cm_report_level(fc->out, o->fmt, fc->name, &fc->clk, r);
        if (direct) {
            bar_redraw(sh);
            pthread_mutex_unlock(&sh->tty_mx);
        }
    }
    if (fc->lvl && fc->write_st == CM_OK)
        fc->write_st = cm_report_level(fc->lvl, CM_FORMAT_CSV, fc->name, &fc->clk, r);
    if (fc->rep && fc->write_st == CM_OK)
        fc->write_st = cm_report_level(fc->rep, CM_FORMAT_JSONL, fc->name, &fc->clk, r);
}

static void on_level(void *user, const cm_level *lv)
{
    file_ctx *fc = user;
    cm_level_rec r;
    if (cm_level_acc_push(&fc->lacc, lv, &r)) put_level(fc, &r);
}

static void progress_line(shared *sh, const char *name, double frac, double audio_s,
                          double wall_s)
{
    double speed = wall_s > 0 ? audio_s / wall_s : 0.0;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    char text[sizeof sh->bar];
    if (frac < 0) {
        /* A stream of unknown length: how far, not how much is left. */
        int h = (int)(audio_s / 3600), m = (int)(audio_s / 60) % 60;
        snprintf(text, sizeof text, "%-28.28s %d:%02d:%04.1f of audio  %7.1fx real time ", base,
                 h, m, audio_s - 60.0 * (h * 60 + m), speed);
    } else {
        const int width = 24;
        int filled = (int)(frac * width + 0.5);
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        snprintf(text, sizeof text, "%-28.28s [%s] %5.1f%%  %7.1fx real time ", base, bar,
                 frac * 100.0, speed);
    }
    bar_set(sh, text);
}

/* Analyses one file into fc->out. Returns 0 when the file was analysed cleanly, 1 when it
 * failed or its audio was damaged. Writes an error record for a file that failed. */
static int analyze_file(file_ctx *fc)
{
    shared *sh = fc->sh;
    const opts *o = sh->o;
    cm_diag why = {{0}};
    cm_reader_info info;
    cm_reader *rd = NULL;
    cm_analyzer *an = NULL;
    float *buf = NULL;
    int rc = 0;
    char msg[CM_DIAG_LEN + 64];
    const bool prog = sh->show_progress && o->jobs == 1;

    cm_status st = strcmp(fc->path, "-") == 0
                       ? cm_reader_open_fd(STDIN_FILENO, fc->name, &rd, &info, &why)
                       : cm_reader_open(fc->path, &rd, &info, &why);
    if (st != CM_OK) {
        snprintf(msg, sizeof msg, "%s", why.msg[0] ? why.msg : cm_status_str(st));
        goto fail;
    }
    fc->clk = o->start;
    if (!cm_clock_known(&fc->clk) && info.origin[0]) {
        if (cm_clock_parse(info.origin, &fc->clk) != 0)
            cli_err("%s: recording time '%s' in the file is not a date and time; ignored",
                    fc->name, info.origin);
    }
    cm_night_stats_init(&fc->stats);
    const bool levels = o->level_step > 0 || o->level_csv || o->report;
    if (levels && cm_level_acc_init(&fc->lacc, o->level_step > 0 ? o->level_step : 1.0,
                                    o->calibrated) != CM_OK) {
        snprintf(msg, sizeof msg, "bad level step");
        goto fail;
    }
    cm_analyzer_config cfg = cm_analyzer_config_default(info.rate_hz, info.channels);
    if (levels) cfg.on_track = on_level;
    cfg.spl_offset_db = o->spl_offset;
    cfg.calibrated = o->calibrated;
    cfg.loud_db = o->loud_db;
    cfg.long_s = o->long_s;
    cfg.merge_gap_s = o->merge_gap;
    cfg.min_episode_s = o->min_episode;
    cfg.true_peak = o->true_peak;
    cfg.model = sh->model;
    cfg.on_event = on_event;
    cfg.user = fc;
    if ((st = cm_analyzer_create(&cfg, &an, &why)) != CM_OK) {
        snprintf(msg, sizeof msg, "%s", why.msg[0] ? why.msg : cm_status_str(st));
        goto fail;
    }
    buf = malloc((size_t)READ_BLOCK_FRAMES * info.channels * sizeof *buf);
    if (!buf) {
        snprintf(msg, sizeof msg, "out of memory");
        goto fail;
    }
    /* Test seam: CM_TEST_PROGRESS_EVERY_BLOCK=1 redraws after every block instead of every
     * 0.2 s, so a test sees the bar beside every record whatever the machine's speed. */
    const char *every = getenv("CM_TEST_PROGRESS_EVERY_BLOCK");
    const double interval_s = every && every[0] == '1' ? -1.0 : 0.2;
    double t_start = now_s(), t_last = 0.0;
    for (;;) {
        size_t n = 0;
        st = cm_reader_read(rd, buf, READ_BLOCK_FRAMES, &n, &why);
        if (st != CM_OK) {
            /* Decode error mid-file: what came before is analysed and reported. */
            const char *m = why.msg[0] ? why.msg : cm_status_str(st);
            if (strncmp(m, fc->name, strlen(fc->name)) == 0)
                say(sh, "%s; analysed the audio before it", m);
            else
                say(sh, "%s: %s; analysed the audio before it", fc->name, m);
            rc = 1;
            break;
        }
        if (n == 0) break;
        if ((st = cm_analyzer_push(an, buf, n)) != CM_OK) {
            snprintf(msg, sizeof msg, "analysis failed: %s", cm_status_str(st));
            goto fail;
        }
        if (fc->write_st != CM_OK) break;
        if (prog) {
            double t = now_s();
            if (t - t_last > interval_s) {
                t_last = t;
                uint64_t done = cm_reader_frames_read(rd);
                double frac = info.frames ? (double)done / (double)info.frames : -1.0;
                if (frac > 1.0) frac = 1.0;
                progress_line(sh, fc->name, frac, (double)done / info.rate_hz, t - t_start);
            }
        }
    }
    if ((st = cm_analyzer_flush(an)) != CM_OK) {
        snprintf(msg, sizeof msg, "analysis failed at the end of input: %s", cm_status_str(st));
        goto fail;
    }
    if (prog) bar_end(sh);
    cm_level_rec lr;
    if (levels && cm_level_acc_flush(&fc->lacc, &lr)) put_level(fc, &lr);
    cm_summary s;
    cm_analyzer_summary(an, &s);
    if (fc->write_st == CM_OK)
        fc->write_st = cm_format_is_document(o->fmt)
                           ? cm_report_document(fc->out, o->fmt, fc->name, s.duration_s, &fc->doc)
                           : cm_report_summary_at(fc->out, o->fmt, fc->name, &fc->clk, &s);
    if (fc->rep && fc->write_st == CM_OK)
        fc->write_st = cm_report_summary_at(fc->rep, CM_FORMAT_JSONL, fc->name, &fc->clk, &s);
    fc->stats.duration_s = s.duration_s;
    if (o->fmt == CM_FORMAT_TABLE && fc->write_st == CM_OK)
        fc->write_st = cm_report_stats_line(fc->out, fc->name, &fc->clk, &fc->stats);
    if (cm_reader_truncated(rd) && cm_reader_frames_read(rd) >= info.frames) {
        say(sh, "%s: truncated: the stream stops without its end (no end-of-stream page); "
            "analysed the %llu frames there", fc->name,
            (unsigned long long)cm_reader_frames_read(rd));
        rc = 1;
    } else if (cm_reader_truncated(rd)) {
        say(sh, "%s: truncated: the header announced %llu frames but the file holds %llu; "
            "analysed what is there", fc->name, (unsigned long long)info.frames,
            (unsigned long long)cm_reader_frames_read(rd));
        rc = 1;
    }
    if (cm_reader_stream_cut(rd)) {
        say(sh, "%s: libsndfile reads a WAV stream of unknown length only to 4 GiB of audio "
            "data; analysed its first %llu frames (%.2f h), the stream went on and the rest "
            "was not analysed: give the file itself, or keep the stream under 4 GiB (fewer "
            "channels or a lower rate: ffmpeg ... -ac 1 -ar 16000 -f wav -)", fc->name,
            (unsigned long long)cm_reader_frames_read(rd),
            (double)cm_reader_frames_read(rd) / info.rate_hz / 3600.0);
        rc = 1;
    }
    unsigned partial = cm_reader_partial_bytes(rd);
    if (partial) {
        say(sh, "%s: the audio ends inside a frame (%u byte%s of an incomplete last frame, "
            "not analysed); analysed the %llu whole frames before it", fc->name, partial,
            partial == 1 ? "" : "s", (unsigned long long)cm_reader_frames_read(rd));
        rc = 1;
    }
    if (s.nonfinite_samples) {
        say(sh, "%s: %llu NaN or infinite samples, analysed as silence", fc->name,
            (unsigned long long)s.nonfinite_samples);
        rc = 1;
    }
    if (s.overrange_samples) {
        say(sh, "%s: %llu samples beyond +-%.0f (+96 dBFS: not audio, a damaged float file?), "
            "analysed as silence", fc->name, (unsigned long long)s.overrange_samples,
            (double)CM_SAMPLE_LIMIT);
        rc = 1;
    }
    if (s.frames_read == 0) {
        say(sh, "%s: no audio frames", fc->name);
        rc = 1;
    }
    goto done;
fail:
    if (prog) bar_end(sh);
    /* Reader messages already start with the file name. */
    if (strncmp(msg, fc->name, strlen(fc->name)) == 0)
        say(sh, "%s", msg);
    else
        say(sh, "%s: %s", fc->name, msg);
    if (fc->write_st == CM_OK) fc->write_st = cm_report_error(fc->out, o->fmt, fc->name, msg);
    rc = 1;
done:
    free(buf);
    cm_doc_free(&fc->doc);
    cm_analyzer_destroy(an);
    cm_reader_close(rd);
    return rc;
}

static const char *input_name(const opts *o, const char *path)
{
    return strcmp(path, "-") == 0 && o->stdin_name ? o->stdin_name : path;
}

/* -j N worker: takes files in order, buffers each file's records, writes them in order. */
static void *worker(void *arg)
{
    shared *sh = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&sh->next_file, 1);
        if (i >= sh->n_files) break;
        char *mem = NULL, *lmem = NULL, *rmem = NULL;
        size_t mem_n = 0, lmem_n = 0, rmem_n = 0;
        FILE *m = open_memstream(&mem, &mem_n);
        FILE *lm = sh->lvl_out ? open_memstream(&lmem, &lmem_n) : NULL;
        FILE *rm = sh->rep_out ? open_memstream(&rmem, &rmem_n) : NULL;
        if ((sh->lvl_out && !lm) || (sh->rep_out && !rm)) {
            if (m) fclose(m);
            m = NULL;
        }
        file_ctx fc = {.sh = sh, .path = sh->files[i], .out = m, .lvl = lm, .rep = rm,
                       .write_st = CM_OK};
        fc.name = input_name(sh->o, fc.path);
        int rc = m ? analyze_file(&fc) : 1;
        if (m) fclose(m);
        if (lm) fclose(lm);
        if (rm) fclose(rm);
        pthread_mutex_lock(&sh->lock);
        while (sh->next_to_write != i) pthread_cond_wait(&sh->turn, &sh->lock);
        if (rc) atomic_store(&sh->failed, 1);
        if (!m || fc.write_st != CM_OK) atomic_store(&sh->write_failed, 1);
        if (mem_n && !atomic_load(&sh->write_failed)) {
            pthread_mutex_lock(&sh->tty_mx);
            bar_clear(sh);
            if (fwrite(mem, 1, mem_n, sh->out) != mem_n || fflush(sh->out) != 0)
                atomic_store(&sh->write_failed, 1);
            bar_redraw(sh);
            pthread_mutex_unlock(&sh->tty_mx);
        }
        if ((lmem_n && fwrite(lmem, 1, lmem_n, sh->lvl_out) != lmem_n) ||
            (rmem_n && fwrite(rmem, 1, rmem_n, sh->rep_out) != rmem_n))
            atomic_store(&sh->write_failed, 1);
        if (sh->show_progress) {
            char text[64];
            snprintf(text, sizeof text, "%zu/%zu files, %.1f s ", i + 1, sh->n_files,
                     now_s() - sh->t0);
            bar_set(sh, text);
        }
        sh->next_to_write++;
        pthread_cond_broadcast(&sh->turn);
        pthread_mutex_unlock(&sh->lock);
        free(mem);
        free(lmem);
        free(rmem);
    }
    return NULL;
}

int cmd_analyze(int argc, char **argv)
{
    enum { O_FORCE = 256, O_PROGRESS, O_NO_PROGRESS, O_MODEL, O_MERGE, O_MIN, O_SPL, O_LOUD,
           O_LONG, O_NO_TP, O_NAME, O_LSTEP, O_LCSV, O_START, O_REPORT };
    static const struct option lopts[] = {
        {"format", required_argument, 0, 'f'},   {"output", required_argument, 0, 'o'},
        {"force", no_argument, 0, O_FORCE},       {"progress", no_argument, 0, O_PROGRESS},
        {"no-progress", no_argument, 0, O_NO_PROGRESS},
        {"model", required_argument, 0, O_MODEL}, {"merge-gap", required_argument, 0, O_MERGE},
        {"min-episode", required_argument, 0, O_MIN},
        {"spl-offset", required_argument, 0, O_SPL}, {"loud-db", required_argument, 0, O_LOUD},
        {"long-s", required_argument, 0, O_LONG}, {"no-true-peak", no_argument, 0, O_NO_TP},
        {"name", required_argument, 0, O_NAME},
        {"level-step", required_argument, 0, O_LSTEP},
        {"level-csv", required_argument, 0, O_LCSV}, {"start", required_argument, 0, O_START},
        {"report", required_argument, 0, O_REPORT},
        {"jobs", required_argument, 0, 'j'},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    opts o = {.fmt = CM_FORMAT_TABLE, .progress = -1, .jobs = 1,
              .spl_offset = CM_SPL_OFFSET_DEFAULT_DB, .loud_db = 76.0, .long_s = 60.0,
              .merge_gap = -1.0, .min_episode = -1.0, .true_peak = true,
              .start = cm_clock_none()};
    bool fmt_given = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:o:j:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cm_format_parse(optarg, &o.fmt) != 0) {
                cli_err("--format=%s: expected table, jsonl, csv, audacity, rttm, textgrid or "
                        "eaf", optarg);
                goto usage;
            }
            fmt_given = true;
            break;
        case 'o': o.output = optarg; break;
        case O_FORCE: o.force = true; break;
        case O_PROGRESS: o.progress = 1; break;
        case O_NO_PROGRESS: o.progress = 0; break;
        case O_MODEL: o.model_path = optarg; break;
        case O_MERGE:
            if (cli_parse_double("--merge-gap", optarg, 0.0, 60.0, &o.merge_gap)) goto usage;
            break;
        case O_MIN:
            if (cli_parse_double("--min-episode", optarg, 0.0, 600.0, &o.min_episode)) goto usage;
            break;
        case O_SPL:
            if (cli_parse_double("--spl-offset", optarg, -200.0, 200.0, &o.spl_offset)) goto usage;
            o.calibrated = true;
            break;
        case O_LOUD:
            if (cli_parse_double("--loud-db", optarg, -200.0, 300.0, &o.loud_db)) goto usage;
            break;
        case O_LONG:
            if (cli_parse_double("--long-s", optarg, 0.01, 1e7, &o.long_s)) goto usage;
            break;
        case O_NO_TP: o.true_peak = false; break;
        case O_NAME:
            if (!optarg[0]) {
                cli_err("--name: expected a non-empty name for standard input");
                goto usage;
            }
            o.stdin_name = optarg;
            break;
        case O_LSTEP:
            if (cli_parse_double("--level-step", optarg, 0.1, 3600.0, &o.level_step)) goto usage;
            break;
        case O_LCSV: o.level_csv = optarg; break;
        case O_REPORT: o.report = optarg; break;
        case O_START:
            if (cm_clock_parse(optarg, &o.start) != 0) {
                cli_err("--start=%s: expected a date and time, e.g. 2026-12-01T21:00:00+01:00",
                        optarg);
                goto usage;
            }
            break;
        case 'j':
            if (cli_parse_uint("--jobs", optarg, 1, 256, &o.jobs)) goto usage;
            break;
        case 'h': fputs(help, stdout); return CM_EXIT_OK;
        case ':': cli_err("option %s needs a value", argv[optind - 1]); goto usage;
        default: cli_err("unknown option '%s'", argv[optind - 1]); goto usage;
        }
    }
    if (optind >= argc) {
        cli_err("analyze: no input files");
        goto usage;
    }
    /* Standard input can be read once. */
    int n_stdin = 0;
    for (int i = optind; i < argc; i++) n_stdin += strcmp(argv[i], "-") == 0;
    if (n_stdin > 1) {
        cli_err("analyze: - (standard input) given %d times; it can be read only once",
                n_stdin);
        goto usage;
    }
    if (o.stdin_name && !n_stdin) {
        cli_err("--name %s: names standard input, but - is not among the inputs",
                o.stdin_name);
        goto usage;
    }
    if (n_stdin && isatty(STDIN_FILENO)) {
        cli_err("analyze: - reads standard input, which is a terminal; pipe audio into it "
                "(e.g. ffmpeg -i in.m4a -f wav - | crymeter analyze -)");
        goto usage;
    }

    if (cm_clock_known(&o.start) && argc - optind > 1) {
        cli_err("--start applies to one file; analyse files with different starts one by one");
        goto usage;
    }

    /* A file output is never a terminal, so its format is known before it is created. */
    const bool to_file = o.output && strcmp(o.output, "-") != 0;
    cm_format fmt = fmt_given ? o.fmt
                    : !to_file && isatty(STDOUT_FILENO) ? CM_FORMAT_TABLE : CM_FORMAT_JSONL;
    if (cm_format_is_document(fmt) && argc - optind > 1) {
        const char *ext = fmt == CM_FORMAT_EAF ? "eaf" : "TextGrid";
        const char *nm = fmt == CM_FORMAT_EAF ? "eaf" : "textgrid";
        cli_err("-f %s writes one document per recording: give one file (for a folder, one "
                "run per file: for f in *.wav; do crymeter analyze -f %s -o \"${f%%.*}.%s\" "
                "\"$f\"; done)", nm, nm, ext);
        goto usage;
    }
    if (o.level_step > 0 && fmt != CM_FORMAT_JSONL && !o.level_csv) {
        cli_err("--level-step: level records go to JSON Lines (-f jsonl) or to --level-csv PATH");
        goto usage;
    }

    FILE *out = stdout;
    if (o.output && strcmp(o.output, "-") != 0) {
        out = fopen(o.output, o.force ? "w" : "wx");
        if (!out) {
            if (errno == EEXIST) {
                cli_err("%s: exists; use --force to overwrite it", o.output);
                return CM_EXIT_USAGE;
            }
            cli_err("%s: cannot write: %s", o.output, strerror(errno));
            return CM_EXIT_FAIL;
        }
    }
    if (!fmt_given) o.fmt = isatty(fileno(out)) ? CM_FORMAT_TABLE : CM_FORMAT_JSONL;
    /* Every output is opened before the analysis, so an existing one stops us now, not
     * after hours of audio. The report's records wait in a temporary file. */
    FILE *lvl_out = NULL, *rep_out = NULL, *rep_html = NULL;
    if ((o.level_csv && !(lvl_out = cli_open_output(o.level_csv, o.force))) ||
        (o.report && !(rep_html = cli_open_output(o.report, o.force)))) {
        int e = errno;
        if (out != stdout) fclose(out);
        if (lvl_out && lvl_out != stdout) fclose(lvl_out);
        return e == EEXIST ? CM_EXIT_USAGE : CM_EXIT_FAIL;
    }
    if (o.report && !(rep_out = tmpfile())) {
        cli_err("--report: cannot make a temporary file: %s", strerror(errno));
        return CM_EXIT_FAIL;
    }
    if (lvl_out && cm_report_level_csv_begin(lvl_out) != CM_OK) {
        cli_err("%s: write failed", o.level_csv);
        return CM_EXIT_FAIL;
    }

    cm_model *model = NULL;
    cm_diag why = {{0}};
    cm_status st = o.model_path ? cm_model_load_file(o.model_path, &model, &why)
                                : cm_model_load_default(&model, &why);
    if (st != CM_OK) {
        cli_err("%s", why.msg[0] ? why.msg : cm_status_str(st)); /* names the file */
        if (out != stdout) fclose(out);
        return CM_EXIT_FAIL;
    }

    shared sh = {.o = &o, .model = model, .files = argv + optind,
                 .n_files = (size_t)(argc - optind), .out = out, .lvl_out = lvl_out,
                 .rep_out = rep_out, .t0 = now_s()};
    sh.show_progress = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress;
    pthread_mutex_init(&sh.lock, NULL);
    pthread_mutex_init(&sh.tty_mx, NULL);
    pthread_cond_init(&sh.turn, NULL);
    atomic_init(&sh.next_file, 0);
    atomic_init(&sh.failed, 0);
    atomic_init(&sh.write_failed, 0);

    if (cm_report_begin(out, o.fmt) != CM_OK) atomic_store(&sh.write_failed, 1);
    if (o.jobs == 1 || sh.n_files == 1) {
        o.jobs = 1;
        for (size_t i = 0; i < sh.n_files && !atomic_load(&sh.write_failed); i++) {
            file_ctx fc = {.sh = &sh, .path = sh.files[i], .out = out, .lvl = lvl_out,
                           .rep = rep_out, .write_st = CM_OK};
            fc.name = input_name(&o, fc.path);
            if (analyze_file(&fc)) atomic_store(&sh.failed, 1);
            if (fc.write_st != CM_OK || fflush(out) != 0) atomic_store(&sh.write_failed, 1);
        }
    } else {
        unsigned nt = o.jobs < sh.n_files ? o.jobs : (unsigned)sh.n_files;
        pthread_t *th = calloc(nt, sizeof *th);
        unsigned started = 0;
        for (; th && started < nt; started++)
            if (pthread_create(&th[started], NULL, worker, &sh) != 0) break;
        if (started == 0) worker(&sh);
        for (unsigned i = 0; i < started; i++) pthread_join(th[i], NULL);
        free(th);
        bar_end(&sh);
    }
    int rc = atomic_load(&sh.failed) ? CM_EXIT_FAIL : CM_EXIT_OK;
    if (lvl_out && fclose(lvl_out) != 0) {
        cli_err("%s: write failed (%s)", o.level_csv, strerror(errno));
        rc = CM_EXIT_FAIL;
    }
    if (rep_out && cli_write_report(rep_out, rep_html, o.report) != 0) rc = CM_EXIT_FAIL;
    if (fflush(out) != 0 || ferror(out)) atomic_store(&sh.write_failed, 1);
    if (out != stdout && fclose(out) != 0) atomic_store(&sh.write_failed, 1);
    if (atomic_load(&sh.write_failed)) {
        cli_err("%s: write failed (%s); records before the failure were written",
                o.output ? o.output : "standard output", errno ? strerror(errno) : "I/O error");
        rc = CM_EXIT_FAIL;
    }
    pthread_mutex_destroy(&sh.lock);
    pthread_mutex_destroy(&sh.tty_mx);
    pthread_cond_destroy(&sh.turn);
    cm_model_destroy(model);
    return rc;
usage:
    fputs("Try 'crymeter analyze --help'.\n", stderr);
    return CM_EXIT_USAGE;
}
