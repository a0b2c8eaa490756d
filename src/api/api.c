/* SPDX-License-Identifier: MIT */
/* The public API (include/crymeter.h) over the internal cm_analyzer: config translation,
 * int16 conversion through a buffer allocated at create, and a fixed-size record queue for
 * callers that poll instead of taking callbacks. Only the crymeter_* functions here are
 * exported from libcrymeter.so (CRYMETER_BUILDING + -fvisibility=hidden). */
#define CRYMETER_BUILDING 1
#include "crymeter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/analyzer.h"
#include "crymeter/classifier.h"
#include "crymeter/model_file.h"
#include "crymeter/status.h"

/* int16 frames are converted in blocks of this many samples (16 KiB of floats): big enough
 * that the per-call cost of cm_analyzer_push is negligible, small enough to allocate
 * always. Results do not depend on it (the analyzer re-blocks). */
#define S16_BLOCK_SAMPLES 4096u

#define QUEUE_MAX 1000000u

struct crymeter_analyzer {
    cm_analyzer *an;
    cm_model *model;
    unsigned channels;
    double rate_hz;
    crymeter_episode_fn on_episode;
    crymeter_level_fn on_level;
    void *user;
    float *conv;            /* S16_BLOCK_SAMPLES floats, or whole frames when channels is big */
    size_t conv_frames;     /* frames that fit in conv */
    crymeter_record *queue; /* ring of cap records */
    size_t cap, head, count;
    uint64_t dropped;
    int finished;
    int have_level;
    crymeter_level level;
};

/* Build-time check that the public mirrors of internal enums keep their values. */
_Static_assert((int)CRYMETER_E_STATE == (int)CM_E_STATE, "status codes differ");
_Static_assert((int)CRYMETER_E_INVAL == (int)CM_E_INVAL, "status codes differ");
_Static_assert((int)CRYMETER_CLASS_SOB == (int)CM_CLASS_SOB, "class numbers differ");
_Static_assert(CM_N_CLASSES == 4, "crymeter_summary.episodes_by_class has 4 entries");
_Static_assert((int)CRYMETER_RECORD_END == (int)CM_EVENT_END, "event kinds differ");
_Static_assert(CRYMETER_EXCESS_LOUD == CM_EXCESS_LOUD && CRYMETER_EXCESS_LONG == CM_EXCESS_LONG,
               "excess bits differ");

const char *crymeter_version(void) { return CRYMETER_VERSION; }

unsigned crymeter_version_number(void) { return CRYMETER_VERSION_NUMBER; }

const char *crymeter_status_str(crymeter_status s) { return cm_status_str((cm_status)s); }

const char *crymeter_class_name(crymeter_class c)
{
    if ((int)c < 0 || (int)c >= CM_N_CLASSES) return "?";
    return cm_class_name((cm_class)c);
}

void crymeter_config_init(crymeter_config *cfg, unsigned rate_hz, unsigned channels)
{
    if (!cfg) return;
    cm_analyzer_config d = cm_analyzer_config_default(rate_hz, channels);
    memset(cfg, 0, sizeof *cfg);
    cfg->rate_hz = rate_hz;
    cfg->channels = channels;
    cfg->model_path = NULL;
    cfg->spl_offset_db = d.spl_offset_db;
    cfg->calibrated = d.calibrated;
    cfg->loud_db = d.loud_db;
    cfg->long_s = d.long_s;
    cfg->merge_gap_s = d.merge_gap_s;
    cfg->min_episode_s = d.min_episode_s;
    cfg->true_peak = d.true_peak;
    cfg->threads = d.threads;
    cfg->levels = 0;
    cfg->queue_capacity = 256;
}

static void to_public(const cm_episode *ep, crymeter_episode *out)
{
    memset(out, 0, sizeof *out);
    out->id = ep->id;
    out->cls = (crymeter_class)ep->cls;
    out->start_s = ep->start_s;
    out->end_s = ep->end_s;
    out->duration_s = ep->duration_s;
    out->confidence = ep->confidence;
    out->lufs_momentary_max = ep->lufs_momentary_max;
    out->dba_max = ep->dba_max;
    out->peak_dbfs = ep->peak_dbfs;
    out->spl_db_max = ep->spl_db_max;
    out->calibrated = ep->calibrated;
    out->f0_median_hz = ep->f0_median_hz;
    out->excessive = ep->excessive;
    out->loud_excess_db = ep->loud_excess_db;
    out->long_excess_s = ep->long_excess_s;
    out->sob_pulses = ep->sob.n_pulses;
    out->sob_pulse_rate_hz = ep->sob.pulse_rate_hz;
    out->sob_pulse_cv = ep->sob.pulse_cv;
}

static crymeter_record *queue_slot(crymeter_analyzer *a)
{
    if (a->count == a->cap) {
        a->dropped++;
        return NULL;
    }
    crymeter_record *r = &a->queue[(a->head + a->count) % a->cap];
    a->count++;
    memset(r, 0, sizeof *r);
    return r;
}

static void on_event(void *user, cm_event_kind kind, const cm_episode *ep)
{
    crymeter_analyzer *a = user;
    crymeter_episode pub;
    to_public(ep, &pub);
    if (a->on_episode) {
        a->on_episode(a->user, (crymeter_record_kind)kind, &pub);
        return;
    }
    crymeter_record *r = queue_slot(a);
    if (!r) return;
    r->kind = (crymeter_record_kind)kind;
    r->episode = pub;
}

static void on_level(void *user, const cm_level *lv)
{
    crymeter_analyzer *a = user;
    a->level.t_s = lv->t_s;
    a->level.lufs_momentary = lv->lufs_momentary;
    a->level.dba_fast = lv->dba_fast;
    a->level.spl_db = lv->spl_db;
    a->level.peak_dbfs = lv->peak_dbfs;
    a->level.cls = (crymeter_class)lv->cls;
    a->level.score = lv->score;
    a->level.in_episode = lv->in_episode;
    a->have_level = 1;
    if (a->on_level) a->on_level(a->user, &a->level);
}

static crymeter_status fail(char *msg, size_t msg_len, cm_status st, const cm_diag *why)
{
    if (msg && msg_len) snprintf(msg, msg_len, "%s", why->msg[0] ? why->msg : cm_status_str(st));
    return (crymeter_status)st;
}

crymeter_status crymeter_create(const crymeter_config *cfg, crymeter_analyzer **out, char *msg,
                                size_t msg_len)
{
    cm_diag why = {{0}};
    if (msg && msg_len) msg[0] = '\0';
    if (out) *out = NULL;
    if (!cfg || !out)
        return fail(msg, msg_len,
                    cm_diag_fail(&why, CM_E_INVAL, "crymeter_create: %s is NULL",
                                 !cfg ? "cfg" : "out"), &why);
    if (cfg->queue_capacity < 1 || cfg->queue_capacity > QUEUE_MAX)
        return fail(msg, msg_len,
                    cm_diag_fail(&why, CM_E_RANGE, "queue_capacity=%zu: must be 1..%u",
                                 cfg->queue_capacity, QUEUE_MAX), &why);
    if (cfg->levels != 0 && cfg->levels != 1)
        return fail(msg, msg_len,
                    cm_diag_fail(&why, CM_E_RANGE, "levels=%d: must be 0 or 1", cfg->levels),
                    &why);
    /* cm_analyzer_create checks these too; here they are named by their public field, and
     * the conversion buffer below is never sized from an absurd channel count. */
    if (cfg->rate_hz < 8000 || cfg->rate_hz > 192000)
        return fail(msg, msg_len,
                    cm_diag_fail(&why, CM_E_RANGE, "rate_hz=%u: must be 8000..192000",
                                 cfg->rate_hz), &why);
    if (cfg->channels < 1 || cfg->channels > 64)
        return fail(msg, msg_len,
                    cm_diag_fail(&why, CM_E_RANGE, "channels=%u: must be 1..64", cfg->channels),
                    &why);

    crymeter_analyzer *a = calloc(1, sizeof *a);
    if (!a) return fail(msg, msg_len, CM_E_NOMEM, &why);
    a->channels = cfg->channels;
    a->rate_hz = cfg->rate_hz;
    a->on_episode = cfg->on_episode;
    a->on_level = cfg->on_level;
    a->user = cfg->user;
    a->cap = cfg->queue_capacity;
    a->conv_frames = S16_BLOCK_SAMPLES / cfg->channels;
    a->conv = malloc(a->conv_frames * cfg->channels * sizeof *a->conv);
    a->queue = malloc(a->cap * sizeof *a->queue);
    a->level.lufs_momentary = a->level.dba_fast = a->level.spl_db = a->level.peak_dbfs =
        -INFINITY;
    cm_status st = CM_OK;
    if (!a->conv || !a->queue) {
        st = CM_E_NOMEM;
        goto bad;
    }
    st = cfg->model_path ? cm_model_load_file(cfg->model_path, &a->model, &why)
                         : cm_model_load_default(&a->model, &why);
    if (st != CM_OK) goto bad;

    cm_analyzer_config c = cm_analyzer_config_default(cfg->rate_hz, cfg->channels);
    c.spl_offset_db = cfg->spl_offset_db;
    c.calibrated = cfg->calibrated != 0;
    c.loud_db = cfg->loud_db;
    c.long_s = cfg->long_s;
    c.merge_gap_s = cfg->merge_gap_s;
    c.min_episode_s = cfg->min_episode_s;
    c.true_peak = cfg->true_peak != 0;
    c.threads = cfg->threads;
    c.model = a->model;
    c.on_event = on_event;
    c.on_level = cfg->levels ? on_level : NULL;
    c.user = a;
    st = cm_analyzer_create(&c, &a->an, &why);
    if (st != CM_OK) goto bad;
    *out = a;
    return CRYMETER_OK;
bad:
    crymeter_destroy(a);
    return fail(msg, msg_len, st, &why);
}

void crymeter_destroy(crymeter_analyzer *a)
{
    if (!a) return;
    cm_analyzer_destroy(a->an);
    cm_model_destroy(a->model);
    free(a->conv);
    free(a->queue);
    free(a);
}

crymeter_status crymeter_push_float(crymeter_analyzer *a, const float *data, size_t n_frames)
{
    if (!a || (!data && n_frames)) return CRYMETER_E_INVAL;
    if (a->finished) return CRYMETER_E_STATE;
    if (n_frames == 0) return CRYMETER_OK;
    return (crymeter_status)cm_analyzer_push(a->an, data, n_frames);
}

crymeter_status crymeter_push_s16(crymeter_analyzer *a, const int16_t *data, size_t n_frames)
{
    if (!a || (!data && n_frames)) return CRYMETER_E_INVAL;
    if (a->finished) return CRYMETER_E_STATE;
    while (n_frames > 0) {
        size_t n = n_frames < a->conv_frames ? n_frames : a->conv_frames;
        size_t ns = n * a->channels;
        for (size_t i = 0; i < ns; i++) a->conv[i] = (float)data[i] * (1.0f / 32768.0f);
        cm_status st = cm_analyzer_push(a->an, a->conv, n);
        if (st != CM_OK) return (crymeter_status)st;
        data += ns;
        n_frames -= n;
    }
    return CRYMETER_OK;
}

static void fill_summary(const crymeter_analyzer *a, crymeter_summary *out)
{
    cm_summary s;
    cm_analyzer_summary(a->an, &s);
    memset(out, 0, sizeof *out);
    out->duration_s = s.duration_s;
    out->frames_read = s.frames_read;
    out->frames_analyzed = s.frames_analyzed;
    out->nonfinite_samples = s.nonfinite_samples;
    out->episodes = s.episodes;
    for (unsigned c = 0; c < CM_N_CLASSES; c++) out->episodes_by_class[c] = s.episodes_by_class[c];
    out->lufs_integrated = s.lufs_integrated;
    out->lra_lu = s.lra_lu;
    out->true_peak_dbtp = s.true_peak_dbtp;
    out->sample_peak_dbfs = s.sample_peak_dbfs;
    out->records_dropped = a->dropped;
}

crymeter_status crymeter_finish(crymeter_analyzer *a)
{
    if (!a) return CRYMETER_E_INVAL;
    if (a->finished) return CRYMETER_E_STATE;
    a->finished = 1;
    cm_status st = cm_analyzer_flush(a->an);
    if (st != CM_OK) return (crymeter_status)st;
    if (!a->on_episode) {
        /* The summary must be the last record polled: when the queue is full it replaces
         * the newest record, which is counted as dropped. */
        if (a->count == a->cap) {
            a->count--;
            a->dropped++;
        }
        crymeter_record *r = queue_slot(a);
        r->kind = CRYMETER_RECORD_SUMMARY;
        fill_summary(a, &r->summary);
    }
    return CRYMETER_OK;
}

int crymeter_poll(crymeter_analyzer *a, crymeter_record *out)
{
    if (!a || !out) return CRYMETER_E_INVAL;
    if (a->count == 0) return 0;
    *out = a->queue[a->head];
    a->head = (a->head + 1) % a->cap;
    a->count--;
    return 1;
}

crymeter_status crymeter_get_summary(const crymeter_analyzer *a, crymeter_summary *out)
{
    if (!a || !out) return CRYMETER_E_INVAL;
    fill_summary(a, out);
    return CRYMETER_OK;
}

int crymeter_level_latest(const crymeter_analyzer *a, crymeter_level *out)
{
    if (!a || !out) return CRYMETER_E_INVAL;
    *out = a->level;
    return a->have_level;
}

double crymeter_latency_s(const crymeter_analyzer *a)
{
    return a ? cm_analyzer_latency_s(a->an) : NAN;
}
