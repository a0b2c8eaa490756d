/* SPDX-License-Identifier: MIT */
/* Episode clip writer (see include/crymeter/clipwriter.h). The analysis worker appends
 * audio to a circular history under a mutex (a memcpy, never file I/O) and queues clip
 * requests; the writer thread copies ranges out of the history in 0.5 s pieces and writes
 * them with libsndfile outside the lock. Neither side is the real-time capture callback,
 * so a mutex and a condition variable are the simple correct tool here. */
#include "crymeter/clipwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#define CLIP_QUEUE 16
#define MSG_QUEUE 32
#define MSG_LEN 640

typedef struct clip_req {
    uint64_t id;
    cm_class cls;
    uint64_t from, to; /* frames; to == UINT64_MAX until the end event */
    double start_s;
} clip_req;

struct cm_clipwriter {
    cm_clipwriter_config cfg;
    char dir[512];
    float *hist;
    uint64_t hist_frames;   /* capacity */
    uint64_t total;         /* frames ever pushed */
    uint64_t hold_frames;   /* writer stays this far behind total while an end is unknown */
    float *piece;           /* writer: one piece copied out of the history */
    size_t piece_frames;
    clip_req q[CLIP_QUEUE];
    unsigned q_head, q_len;
    char msg[MSG_QUEUE][MSG_LEN];
    int msg_err[MSG_QUEUE];
    unsigned m_head, m_len;
    cm_clipwriter_stats stats;
    bool closing;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool thread_started, finished;
};

static void add_msg(cm_clipwriter *cw, int is_err, const char *fmt, ...) CM_PRINTF(3, 4);
static void add_msg(cm_clipwriter *cw, int is_err, const char *fmt, ...)
{
    /* Caller holds the lock. A full queue drops the oldest message. */
    if (cw->m_len == MSG_QUEUE) {
        cw->m_head = (cw->m_head + 1) % MSG_QUEUE;
        cw->m_len--;
    }
    unsigned i = (cw->m_head + cw->m_len) % MSG_QUEUE;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cw->msg[i], MSG_LEN, fmt, ap);
    va_end(ap);
    cw->msg_err[i] = is_err;
    cw->m_len++;
}

cm_clipwriter_config cm_clipwriter_config_default(const char *dir, unsigned rate_hz,
                                                  unsigned channels)
{
    cm_clipwriter_config c;
    memset(&c, 0, sizeof c);
    c.dir = dir;
    c.rate_hz = rate_hz;
    c.channels = channels;
    c.pre_roll_s = 3.0;
    c.post_roll_s = 1.0;
    c.history_s = 30.0;
    c.hold_s = 10.0;
    c.t0 = time(NULL);
    return c;
}

/* DIR/crymeter-YYYYmmdd-HHMMSS-<id>-<class>[.k].wav: the one place a clip's name is made
 * (suffix k > 0 only when the plain name is taken). */
static void clip_name(const cm_clipwriter *cw, double start_s, uint64_t id, cm_class cls, int k,
                      char *buf, size_t len)
{
    time_t t = cw->cfg.t0 + (time_t)floor(start_s);
    struct tm tm;
    localtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    if (k == 0)
        snprintf(buf, len, "%s/crymeter-%s-%llu-%s.wav", cw->dir, stamp, (unsigned long long)id,
                 cm_class_name(cls));
    else
        snprintf(buf, len, "%s/crymeter-%s-%llu-%s.%d.wav", cw->dir, stamp,
                 (unsigned long long)id, cm_class_name(cls), k);
}

void cm_clipwriter_clip_path(const cm_clipwriter *cw, const cm_episode *ep, char *buf,
                             size_t len)
{
    clip_name(cw, ep->start_s, ep->id, ep->cls, 0, buf, len);
}

/* Clips are written under a temporary name in the same folder and get their name
 * DIR/crymeter-YYYYmmdd-HHMMSS-<id>-<class>.wav only when complete, so a clip that a message
 * has announced is a whole WAV file even if the process is killed (kill -9, power cut of
 * the process) the moment after, and a kill mid-clip leaves only a hidden ".part" file. */
static SNDFILE *open_clip(cm_clipwriter *cw, const clip_req *r, char *tmp, size_t len)
{
    snprintf(tmp, len, "%s/.crymeter-%ld-%llu.wav.part", cw->dir, (long)getpid(),
             (unsigned long long)r->id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return NULL;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = (int)cw->cfg.rate_hz;
    info.channels = (int)cw->cfg.channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
    if (!sf) {
        close(fd);
        unlink(tmp);
    }
    return sf;
}

/* Gives the finished temporary file tmp its clip name in path, never replacing a file:
 * link() fails on an existing name, so the next suffix is tried; on a file system without
 * hard links (FAT on a USB stick) rename() after a check, which only a concurrent writer
 * of the same name could race. 0, or an errno. */
static int name_clip(cm_clipwriter *cw, const clip_req *r, const char *tmp, char *path, size_t len)
{
    for (int k = 0; k < 100; k++) {
        clip_name(cw, r->start_s, r->id, r->cls, k, path, len);
        if (link(tmp, path) == 0) {
            unlink(tmp);
            return 0;
        }
        if (errno == EEXIST) continue;
        if (errno != EPERM && errno != ENOTSUP && errno != EXDEV) return errno;
        if (access(path, F_OK) == 0) continue;
        return rename(tmp, path) == 0 ? 0 : errno;
    }
    return EEXIST;
}

/* Writes one clip; returns with the lock held. */
static void write_clip(cm_clipwriter *cw, clip_req *r)
{
    char path[700], tmp[700], fail_why[256] = "";
    double cut_s = 0.0;
    pthread_mutex_unlock(&cw->lock);
    errno = 0;
    SNDFILE *sf = open_clip(cw, r, tmp, sizeof tmp);
    int open_errno = errno;
    const char *open_err = sf ? NULL : open_errno ? strerror(open_errno) : sf_strerror(NULL);
    pthread_mutex_lock(&cw->lock);
    if (!sf) {
        cw->stats.clips_failed++;
        add_msg(cw, 1, "clip %llu: cannot create a file in %s: %s", (unsigned long long)r->id,
                cw->dir, open_err);
        return;
    }
    uint64_t pos = r->from, written = 0;
    const unsigned ch = cw->cfg.channels;
    bool failed = false;
    for (;;) {
        /* Wait for audio, the end event, or the close. */
        /* Until the end event, stay hold_frames behind the newest audio: the end of an
         * episode is only known a merge gap after its last activity. */
        uint64_t avail;
        for (;;) {
            avail = cw->total;
            if (r->to == UINT64_MAX && !cw->closing)
                avail = avail > cw->hold_frames ? avail - cw->hold_frames : 0;
            if (cw->closing || pos < avail || pos >= r->to) break;
            pthread_cond_wait(&cw->wake, &cw->lock);
        }
        uint64_t end = r->to < avail ? r->to : avail;
        if (pos >= end) break; /* reached the end, or closing with nothing more */
        uint64_t oldest = cw->total > cw->hist_frames ? cw->total - cw->hist_frames : 0;
        if (pos < oldest) {
            /* Never skip past the clip's end: what lies beyond it is not the clip's. */
            uint64_t skip_to = oldest < end ? oldest : end;
            cw->stats.clip_frames_lost += skip_to - pos;
            pos = skip_to;
        }
        size_t n = (size_t)(end - pos < cw->piece_frames ? end - pos : cw->piece_frames);
        for (size_t i = 0; i < n;) {
            size_t at = (size_t)((pos + i) % cw->hist_frames);
            size_t k = (size_t)(cw->hist_frames - at);
            if (k > n - i) k = n - i;
            memcpy(cw->piece + i * ch, cw->hist + at * ch, k * ch * sizeof(float));
            i += k;
        }
        pos += n;
        pthread_mutex_unlock(&cw->lock);
        sf_count_t w = sf_writef_float(sf, cw->piece, (sf_count_t)n);
        int err = sf_error(sf);
        pthread_mutex_lock(&cw->lock);
        if (w != (sf_count_t)n || err) {
            /* Reported once the cut clip has its name (below). */
            snprintf(fail_why, sizeof fail_why, "%s", err ? sf_strerror(sf) : strerror(errno));
            cut_s = (double)(written + (w > 0 ? (uint64_t)w : 0)) / cw->cfg.rate_hz;
            failed = true;
            break;
        }
        written += n;
    }
    pthread_mutex_unlock(&cw->lock);
    int cerr = sf_close(sf);
    /* A clip cut by a write error is still a valid WAV of what was written: it gets its
     * name too. One that did not close is not, and goes. */
    int nerr = cerr ? 0 : name_clip(cw, r, tmp, path, sizeof path);
    if (cerr || nerr) unlink(tmp);
    pthread_mutex_lock(&cw->lock);
    if (failed) {
        cw->stats.clips_failed++;
        add_msg(cw, 1, "clip %llu: %s: write failed (%s); clip cut at %.1f s; monitoring goes on",
                (unsigned long long)r->id, cerr || nerr ? tmp : path, fail_why, cut_s);
    } else if (cerr) {
        cw->stats.clips_failed++;
        add_msg(cw, 1, "clip %llu: %s: closing failed (%s)", (unsigned long long)r->id, tmp,
                sf_error_number(cerr));
    } else if (nerr) {
        cw->stats.clips_failed++;
        add_msg(cw, 1, "clip %llu: cannot name it in %s: %s", (unsigned long long)r->id,
                cw->dir, strerror(nerr));
    } else {
        cw->stats.clips_written++;
        add_msg(cw, 0, "clip %llu: %s (%.1f s)", (unsigned long long)r->id, path,
                (double)written / cw->cfg.rate_hz);
    }
}

static void *writer_main(void *arg)
{
    cm_clipwriter *cw = arg;
    pthread_mutex_lock(&cw->lock);
    for (;;) {
        while (!cw->closing && cw->q_len == 0) pthread_cond_wait(&cw->wake, &cw->lock);
        if (cw->q_len == 0) break; /* closing, nothing pending */
        /* The request stays at the head while written so episode_end can update `to`. */
        write_clip(cw, &cw->q[cw->q_head]);
        cw->q_head = (cw->q_head + 1) % CLIP_QUEUE;
        cw->q_len--;
    }
    pthread_mutex_unlock(&cw->lock);
    return NULL;
}

cm_status cm_clipwriter_create(const cm_clipwriter_config *cfg, cm_clipwriter **out,
                               cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!cfg || !cfg->dir) return cm_diag_fail(why, CM_E_INVAL, "clip directory missing");
    if (cfg->rate_hz < 8000 || cfg->rate_hz > 192000)
        return cm_diag_fail(why, CM_E_RANGE, "rate_hz=%u: must be 8000..192000", cfg->rate_hz);
    if (cfg->channels < 1 || cfg->channels > 64)
        return cm_diag_fail(why, CM_E_RANGE, "channels=%u: must be 1..64", cfg->channels);
    if (!(cfg->pre_roll_s >= 0 && cfg->pre_roll_s <= 60))
        return cm_diag_fail(why, CM_E_RANGE, "pre_roll_s=%g: must be 0..60", cfg->pre_roll_s);
    if (!(cfg->post_roll_s >= 0 && cfg->post_roll_s <= 60))
        return cm_diag_fail(why, CM_E_RANGE, "post_roll_s=%g: must be 0..60", cfg->post_roll_s);
    if (!(cfg->hold_s >= 0 && cfg->hold_s <= 600))
        return cm_diag_fail(why, CM_E_RANGE, "hold_s=%g: must be 0..600", cfg->hold_s);
    if (!(cfg->history_s >= 5 && cfg->history_s <= 600))
        return cm_diag_fail(why, CM_E_RANGE, "history_s=%g: must be 5..600", cfg->history_s);
    struct stat sb;
    if (stat(cfg->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cm_diag_fail(why, CM_E_IO, "%s: not a directory", cfg->dir);
    if (access(cfg->dir, W_OK) != 0)
        return cm_diag_fail(why, CM_E_IO, "%s: not writable: %s", cfg->dir, strerror(errno));
    if (strlen(cfg->dir) >= 512) return cm_diag_fail(why, CM_E_RANGE, "clip directory name too long");

    cm_clipwriter *cw = calloc(1, sizeof *cw);
    if (!cw) return cm_diag_fail(why, CM_E_NOMEM, "out of memory");
    cw->cfg = *cfg;
    snprintf(cw->dir, sizeof cw->dir, "%s", cfg->dir);
    cw->cfg.dir = cw->dir;
    cw->hist_frames = (uint64_t)ceil(
        (cfg->pre_roll_s + cfg->post_roll_s + cfg->hold_s + cfg->history_s) * cfg->rate_hz);
    cw->hold_frames = (uint64_t)ceil(cfg->hold_s * cfg->rate_hz);
    cw->piece_frames = cfg->rate_hz / 2;
    cw->hist = malloc((size_t)cw->hist_frames * cfg->channels * sizeof(float));
    cw->piece = malloc(cw->piece_frames * cfg->channels * sizeof(float));
    pthread_mutex_init(&cw->lock, NULL);
    pthread_cond_init(&cw->wake, NULL);
    if (!cw->hist || !cw->piece) {
        cm_clipwriter_close(cw);
        return cm_diag_fail(why, CM_E_NOMEM, "out of memory for %.0f s of clip history",
                            cfg->pre_roll_s + cfg->history_s);
    }
    if (pthread_create(&cw->thread, NULL, writer_main, cw) != 0) {
        cm_clipwriter_close(cw);
        return cm_diag_fail(why, CM_E_NOMEM, "cannot start the clip writer thread");
    }
    cw->thread_started = true;
    *out = cw;
    return CM_OK;
}

void cm_clipwriter_push(cm_clipwriter *cw, const float *x, size_t n)
{
    const unsigned ch = cw->cfg.channels;
    pthread_mutex_lock(&cw->lock);
    /* Only the last hist_frames frames can matter. */
    if (n > cw->hist_frames) {
        x += (n - cw->hist_frames) * ch;
        cw->total += n - cw->hist_frames;
        n = (size_t)cw->hist_frames;
    }
    for (size_t i = 0; i < n;) {
        size_t at = (size_t)((cw->total + i) % cw->hist_frames);
        size_t k = (size_t)(cw->hist_frames - at);
        if (k > n - i) k = n - i;
        memcpy(cw->hist + at * ch, x + i * ch, k * ch * sizeof(float));
        i += k;
    }
    cw->total += n;
    pthread_cond_signal(&cw->wake);
    pthread_mutex_unlock(&cw->lock);
}

static uint64_t to_frame(double s, unsigned rate)
{
    return s <= 0 ? 0 : (uint64_t)llround(s * rate);
}

void cm_clipwriter_episode_start(cm_clipwriter *cw, const cm_episode *ep)
{
    pthread_mutex_lock(&cw->lock);
    if (cw->q_len == CLIP_QUEUE) {
        cw->stats.episodes_skipped++;
        add_msg(cw, 1, "clip %llu: skipped, %d clips already waiting for the disk",
                (unsigned long long)ep->id, CLIP_QUEUE);
    } else {
        clip_req *r = &cw->q[(cw->q_head + cw->q_len) % CLIP_QUEUE];
        r->id = ep->id;
        r->cls = ep->cls;
        r->start_s = ep->start_s;
        r->from = to_frame(ep->start_s - cw->cfg.pre_roll_s, cw->cfg.rate_hz);
        r->to = UINT64_MAX;
        cw->q_len++;
        pthread_cond_signal(&cw->wake);
    }
    pthread_mutex_unlock(&cw->lock);
}

void cm_clipwriter_episode_end(cm_clipwriter *cw, const cm_episode *ep)
{
    pthread_mutex_lock(&cw->lock);
    for (unsigned i = 0; i < cw->q_len; i++) {
        clip_req *r = &cw->q[(cw->q_head + i) % CLIP_QUEUE];
        if (r->id == ep->id) {
            r->cls = ep->cls;
            r->to = to_frame(ep->end_s + cw->cfg.post_roll_s, cw->cfg.rate_hz);
            if (r->to < r->from) r->to = r->from;
        }
    }
    pthread_cond_signal(&cw->wake);
    pthread_mutex_unlock(&cw->lock);
}

int cm_clipwriter_next_message(cm_clipwriter *cw, char *buf, size_t len, int *is_error)
{
    pthread_mutex_lock(&cw->lock);
    int got = cw->m_len > 0;
    if (got) {
        snprintf(buf, len, "%s", cw->msg[cw->m_head]);
        if (is_error) *is_error = cw->msg_err[cw->m_head];
        cw->m_head = (cw->m_head + 1) % MSG_QUEUE;
        cw->m_len--;
    }
    pthread_mutex_unlock(&cw->lock);
    return got;
}

void cm_clipwriter_get_stats(cm_clipwriter *cw, cm_clipwriter_stats *out)
{
    pthread_mutex_lock(&cw->lock);
    *out = cw->stats;
    pthread_mutex_unlock(&cw->lock);
}

void cm_clipwriter_finish(cm_clipwriter *cw)
{
    if (!cw || cw->finished) return;
    cw->finished = true;
    if (cw->thread_started) {
        pthread_mutex_lock(&cw->lock);
        cw->closing = true;
        pthread_cond_broadcast(&cw->wake);
        pthread_mutex_unlock(&cw->lock);
        pthread_join(cw->thread, NULL);
    }
}

void cm_clipwriter_close(cm_clipwriter *cw)
{
    if (!cw) return;
    cm_clipwriter_finish(cw);
    pthread_mutex_destroy(&cw->lock);
    pthread_cond_destroy(&cw->wake);
    free(cw->hist);
    free(cw->piece);
    free(cw);
}
