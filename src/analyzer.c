/* SPDX-License-Identifier: MIT */
/* cm_analyzer: wires the stages into one streaming pipeline shared by analyze and monitor.
 *
 * Input is re-blocked into 100 ms blocks of native frames (block k ends at frame
 * floor((k+1) * rate / 10)), so every stage sees the same blocks whatever the caller's
 * chunking. Per block, at the native rate: non-finite samples -> 0, libebur128 on the
 * original channels, A-weighted Fast level and sample peak on the channel mean; one level
 * reading per block. The channel mean then goes to 8 kHz (soxr; the front end's rate) ->
 * frames (10 ms) -> activity (level above the noise floor) and the detector (1 s windows
 * every 0.25 s) -> one segmenter per reported class -> episodes, whose statistics are
 * aggregated lazily from bounded histories of readings and frames as their spans grow. The
 * shape stage (shape.h) follows the same frames: it describes each episode's bursts,
 * rhythm, melody and intensity, and finds sob stretches on the stream, which become sob
 * episodes when they come with crying. Cleaning, channel mean and resampling are
 * featpath.h's, shared with training and evaluation, so a model learns from the features
 * analysis computes. Memory is constant. With cfg.threads == 2 (files), the
 * native-rate levels run on a thread of their own (see LOUD_QUEUE_MAX), and the resampler,
 * front end and detector on another (FRONT_BATCH); every other stage, and every callback,
 * stays on the pushing thread. */
#include "crymeter/analyzer.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crymeter/classifier.h"
#include "crymeter/frontend.h"
#include "crymeter/home.h"
#include "crymeter/loudness.h"
#include "crymeter/model.h"
#include "crymeter/featpath.h"
#include "crymeter/segmenter.h"
#include "crymeter/shape.h"

#define BLOCKS_PER_S 10u
/* History rings: they must cover the longest merge gap (60 s) plus the detector's delay. */
#define READ_RING 1024u  /* readings, 102.4 s */
#define FRAME_RING 8192u /* frames, 81.92 s */
/* F0 histogram for the episode median: 1/10 semitone bins from 50 Hz up (64 semitones,
 * to 2 kHz), so the median is exact to 0.3 % whatever the episode length. */
#define F0_BINS 640u
#define F0_LO_HZ 50.0
/* Frame activity: a frame is active when its RMS is at least ACT_MARGIN_DB above the noise
 * floor and above ACT_ABS_DBFS. The floor is the minimum frame RMS over the last
 * FLOOR_BLOCKS blocks of FLOOR_BLOCK_FRAMES frames (minimum statistics, Martin 2001): 5 s
 * is longer than the pauses between cry units (about 1.4 s units, DESIGN.md), so a crying
 * bout does not lift the floor onto itself. 9 dB clears the spread of 25 ms frame RMS in
 * stationary noise (its minimum lies a few dB under its mean). */
#define ACT_MARGIN_DB 9.0f
#define ACT_ABS_DBFS (-70.0f)
#define FLOOR_BLOCK_FRAMES 50u
#define FLOOR_BLOCKS 10u
/* How far an episode edge may move from the window core to meet activity: one window
 * (1 s), since a window is positive as long as it holds enough of the sound, so its core can
 * lie up to half a window beyond the sound, more when the detector smooths scores. */
#define SNAP_FRAMES CM_DET_WIN_FRAMES
#define MERGE_GAP_MAX_S 60.0
/* A sob stretch is reported as a sob episode when a cry episode is open, or ended at most
 * this long before the stretch started, or began during it: sobbing comes with intense
 * crying and can outlast it (Gracanin et al. 2014, DESIGN.md). Rhythmic pulses far from any
 * crying (a ticking clock: 3 stretches per hour of the shared noise clips) are not sobbing. */
#define SOB_AFTER_CRY_FRAMES 6000u /* 60 s */
/* Loudness thread: blocks queued for libebur128, at most this many and this many bytes
 * (a 192 kHz, 64-channel block is 4.9 MB; a 44.1 kHz stereo one 35 kB). libebur128 is about
 * half the work at 44.1 kHz stereo (callgrind: 4.9 of 9.0 G instructions per 5 min; 3.4 of
 * 6.9 G since the true-peak sub-blocks and momentary tiles), so on two cores the rest of the
 * pipeline runs beside it. The A-weighting filter stays on the
 * pushing thread: on the loudness thread it made that thread alone longer than ffmpeg's
 * whole run at 44.1 kHz stereo (6.0 against 5.1 G per 5 min). */
/* 64 blocks (6.4 s of audio, about 3 ms of libebur128 at 16 kHz): with three threads on two
 * cores a shorter queue fills whenever the loudness thread loses its core for a time slice,
 * and the pushing thread stalls (1 h of 16 kHz mono: 1.78 s wall with 8 blocks, 1.71 s with
 * 64; medians of 5 interleaved runs of bench/README.md's command, one build per value). */
#define LOUD_QUEUE_MAX 64u
#define LOUD_QUEUE_BYTES (8u << 20)
/* The A-weighting filter (about 60 instructions per sample) joins libebur128 on the
 * loudness thread when rate x channels is at most this: at 16 kHz mono the pushing thread
 * was the one the other two waited for (1.74 G per 10 min against 1.73 for libebur128 and
 * 2.13 for the front end); at 44.1 kHz stereo the loudness thread alone is longer than the
 * rest (4.9 G of 8.8 G per 5 min), so there it stays on the pushing thread. */
#define AW_ON_LOUD_MAX 32000u
/* Front-end thread: the channel mean goes to the resampler, the front end (FFT, mel, pitch)
 * and the window detector in jobs of FRONT_BATCH blocks (1 s, so hand-offs cost nothing), at
 * most FRONT_SLOTS jobs in flight. With the loudness thread that makes three threads for two
 * cores. The pushing thread drives the other two (they only ever wait for it), so it keeps
 * only what needs its order: reading, levels bookkeeping, shape and episodes. Moving the
 * resampler and then the detector here took 1 h of 16 kHz mono from 1.29 to 1.27 to 1.19 s
 * wall (ffmpeg ebur128: 1.18-1.19 s), CPU time unchanged (interleaved runs, see bench/README). */
#define FRONT_BATCH 10u
#define FRONT_SLOTS 4u

/* Classes that get their own segmenter and episodes. */
static const cm_class seg_classes[] = {CM_CLASS_CRY, CM_CLASS_VOCAL};
#define N_SEG (sizeof seg_classes / sizeof seg_classes[0])

typedef struct reading {
    double lufs_m, dba, peak;
} reading;

/* A window the detector completed at frame `at` of a front-end job (see front_main). */
typedef struct job_window {
    size_t at;
    cm_window_scores w;
} job_window;

/* The detector's windows centred in one block, for the level track (cfg.on_track). */
typedef struct track_block {
    bool any;
    cm_class cls, last_cls;      /* highest class (cry > vocal > background); the last one */
    float p_cry, last_p, last_score;
} track_block;

typedef struct frame_info {
    float f0_hz; /* 0 when unvoiced */
} frame_info;

typedef struct episode_acc {
    cm_class cls;
    cm_seg *seg;
    bool open, started;
    bool shape_ok; /* its slot in the shape stage is open */
    unsigned sent; /* CM_EXCESS_* bits already announced */
    uint64_t id;
    uint64_t start_f, end_f;
    uint64_t next_f;         /* next frame to aggregate */
    uint64_t next_k;         /* next reading to aggregate for dB(A) and peak */
    uint64_t next_km;        /* next reading to aggregate for momentary LUFS */
    double lufs_max, dba_max, peak_max;
    double conf_sum;
    uint64_t conf_n;
    uint64_t n_voiced;
    uint32_t f0_hist[F0_BINS];
} episode_acc;

struct cm_analyzer {
    cm_analyzer_config cfg;
    cm_model *own_model;
    const cm_model *model;
    cm_detect_params params;
    cm_loud *loud;
    cm_aw *aw;
    cm_fpath *fp;          /* clean, mono, resample: the path learning shares */
    cm_front *front;
    cm_detector *det;

    /* re-blocking */
    float *stage;          /* one block of interleaved native frames */
    size_t stage_n;        /* frames in stage */
    uint64_t blocks_done;  /* k of the next block */
    float *mono;           /* channel mean of one block */
    float *rs_out;
    size_t rs_cap;
    cm_frame *frames;
    size_t frames_cap;

    /* histories */
    reading reads[READ_RING];
    uint64_t n_reads;
    frame_info finfo[FRAME_RING];
    uint64_t n_frames;

    /* noise floor */
    float floor_blk[FLOOR_BLOCKS];
    float cur_min;
    unsigned cur_count;
    uint64_t floor_blocks_done;

    /* detector state */
    cm_class cur_cls;
    bool home_recent;      /* the window being segmented is cm_window_scores.home_recent */
    float cur_score;
    float cur_p_cry;

    /* level track (cfg.on_track): per block of the reads ring, the detector's windows
     * centred in it; blocks before trk_next are delivered. */
    track_block trk[READ_RING];
    uint64_t trk_next;
    cm_class trk_hold_cls;
    float trk_hold_p, trk_hold_score;

    episode_acc acc[N_SEG];
    uint64_t next_id;

    /* episode shape and sobbing */
    cm_shape *shape;
    cm_shape_result shape_res; /* scratch for the END event */
    episode_acc sob;           /* the sob episode in progress */
    bool cry_seen;             /* a cry episode has been opened */
    uint64_t last_cry_end_f;   /* end frame of the latest cry episode */
    float rms_prev[2];         /* the two previous frame levels, for the floor */

    cm_summary sum;
    bool flushed;

    /* Loudness thread (cfg.threads == 2 without on_level). The pushing thread queues each
     * block (reading k is block k); the loudness thread feeds cm_loud, sets reads[k].lufs_m
     * and publishes loud_done = k + 1. Everything below the mutex line is guarded by it. */
    bool loud_async;
    bool loud_started;
    pthread_t loud_th;
    float *loud_q;          /* loud_slots blocks of loud_slot_floats */
    size_t loud_slots, loud_slot_floats;
    size_t loud_q_n[LOUD_QUEUE_MAX];
    _Atomic uint64_t loud_done; /* readings whose lufs_m (and dba, aw_on_loud) are final */
    pthread_mutex_t loud_mx;
    pthread_cond_t loud_work, loud_progress;
    uint64_t loud_head, loud_tail; /* blocks taken / queued */
    bool loud_waiting;      /* the pushing thread waits for loud_tail - loud_head <= loud_wake_at */
    uint64_t loud_wake_at;
    bool loud_stop;
    cm_status loud_st;
    /* A-weighting on the loudness thread too (reads[k].dba then final with lufs_m): only
     * when libebur128's share is small, see AW_ON_LOUD_MAX. */
    bool aw_on_loud;
    float *loud_mono;       /* the loudness thread's channel mean of one block */

    /* Front-end thread (same condition as the loudness thread). The pushing thread fills
     * job fq_tail with up to FRONT_BATCH blocks of 8 kHz samples and queues it; the thread
     * runs cm_front_process on jobs in order and publishes fq_head; the pushing thread
     * hands finished jobs' frames to the detector in order (fq_taken), so every later stage
     * stays on the pushing thread and sees the frames it would have computed itself.
     * fq_head, fq_tail, fq_stop and fq_st are guarded by fq_mx. */
    bool front_async;
    bool front_started;
    /* threads == 3 (four cores or more): the detector runs jobs on a thread of its own after
     * the front end has (det_head: jobs it finished, under fq_mx; det_work wakes it), so the
     * pushing thread takes jobs up to det_head instead of fq_head; and the resampler runs
     * on the pushing thread (rs_on_push), so jobs carry 8 kHz samples. Counted on arm64
     * (bench/arm64_budget.sh, 16 kHz mono, instructions per audio second): the front-end
     * thread did 4.7 M with both, the detector is 1.0 M of it and the resampler 1.1 M, the
     * pushing thread 0.6 M and libebur128's 2.5 M; split so, no thread passes 2.6 M. */
    bool det_async, det_started, rs_on_push;
    uint64_t det_head;
    pthread_cond_t det_work;
    pthread_t det_th;
    pthread_t front_th;
    float *fq_in;                    /* FRONT_SLOTS x fq_in_cap mono samples, native-rate
                                        (8 kHz with rs_on_push) */
    size_t fq_in_cap, fq_in_n[FRONT_SLOTS];
    float *fq_rs;                    /* the thread's 8 kHz samples of one job */
    size_t fq_rs_cap;
    cm_frame *fq_out;                /* FRONT_SLOTS x fq_out_cap frames */
    size_t fq_out_cap, fq_out_n[FRONT_SLOTS];
    job_window *fq_win;              /* FRONT_SLOTS x fq_win_cap detector windows */
    size_t fq_win_cap, fq_win_n[FRONT_SLOTS];
    unsigned fq_batch;               /* blocks in the job being filled */
    uint64_t fq_head, fq_tail, fq_taken;
    bool fq_stop;
    cm_status fq_st;
    pthread_mutex_t fq_mx;
    pthread_cond_t fq_work, fq_done;
};


cm_analyzer_config cm_analyzer_config_default(unsigned rate_hz, unsigned channels)
{
    cm_analyzer_config c;
    memset(&c, 0, sizeof c);
    c.rate_hz = rate_hz;
    c.channels = channels;
    c.spl_offset_db = CM_SPL_OFFSET_DEFAULT_DB;
    c.calibrated = false;
    c.loud_db = 76.0;
    c.long_s = 60.0;
    c.merge_gap_s = -1.0;
    c.min_episode_s = -1.0;
    c.true_peak = true;
    /* The third thread pays where a core is free for it: on a four-core Raspberry Pi an
     * 8-hour night's busiest thread drops from 90 to 48 s of work (bench/arm64_budget.sh,
     * struct cm_analyzer); on two cores a third thread only competes. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c.threads = ncpu >= 4 ? 3 : 2;
    return c;
}

static double frame_start_s(uint64_t f)
{
    /* A frame "owns" the 10 ms hop around its window centre (12.5 ms into the window). */
    return ((double)f * CM_FRONT_HOP_SAMPLES + CM_FRONT_WIN_SAMPLES / 2.0 -
            CM_FRONT_HOP_SAMPLES / 2.0) / CM_FRONT_RATE_HZ;
}

static double frame_end_s(uint64_t f) { return frame_start_s(f) + 0.01; }

static void loud_join(cm_analyzer *a);
static void front_join(cm_analyzer *a);

void cm_analyzer_destroy(cm_analyzer *a)
{
    if (!a) return;
    loud_join(a);
    front_join(a);
    if (a->loud_async) {
        pthread_mutex_destroy(&a->loud_mx);
        pthread_cond_destroy(&a->loud_work);
        pthread_cond_destroy(&a->loud_progress);
    }
    if (a->front_async) {
        pthread_mutex_destroy(&a->fq_mx);
        pthread_cond_destroy(&a->fq_work);
        pthread_cond_destroy(&a->fq_done);
        pthread_cond_destroy(&a->det_work);
    }
    free(a->fq_in);
    free(a->fq_rs);
    free(a->fq_out);
    free(a->fq_win);
    free(a->loud_q);
    free(a->loud_mono);
    for (size_t i = 0; i < N_SEG; i++) cm_seg_destroy(a->acc[i].seg);
    cm_shape_destroy(a->shape);
    cm_detector_destroy(a->det);
    cm_front_destroy(a->front);
    cm_fpath_destroy(a->fp);
    cm_aw_destroy(a->aw);
    cm_loud_destroy(a->loud);
    cm_model_destroy(a->own_model);
    free(a->stage);
    free(a->mono);
    free(a->rs_out);
    free(a->frames);
    free(a);
}

static size_t block_frames(const cm_analyzer *a, uint64_t k)
{
    uint64_t r = a->cfg.rate_hz;
    return (size_t)(((k + 1) * r) / BLOCKS_PER_S - (k * r) / BLOCKS_PER_S);
}

/* libebur128 on block k; sets its momentary loudness. */
static cm_status measure_loudness(cm_analyzer *a, uint64_t k, const float *x, size_t n)
{
    cm_status st = cm_loud_add(a->loud, x, n);
    a->reads[k % READ_RING].lufs_m = cm_loud_momentary_lufs(a->loud);
    return st;
}

/* The A-weighted Fast level of block k from its channel mean. */
static void measure_dba(cm_analyzer *a, uint64_t k, const float *mono, size_t n)
{
    double ms_max = 0.0;
    cm_aw_process(a->aw, mono, n, &ms_max);
    a->reads[k % READ_RING].dba = cm_db_from_ms(ms_max);
}

/* ---- loudness thread ------------------------------------------------------------------- */

static void *loud_main(void *arg)
{
    cm_analyzer *a = arg;
    pthread_mutex_lock(&a->loud_mx);
    for (;;) {
        while (a->loud_head == a->loud_tail && !a->loud_stop)
            pthread_cond_wait(&a->loud_work, &a->loud_mx);
        if (a->loud_head == a->loud_tail) break; /* stop, and nothing left */
        uint64_t k = a->loud_head;
        size_t slot = (size_t)(k % a->loud_slots), n = a->loud_q_n[slot];
        pthread_mutex_unlock(&a->loud_mx);
        const float *x = a->loud_q + slot * a->loud_slot_floats;
        cm_status st = measure_loudness(a, k, x, n);
        if (a->aw_on_loud) measure_dba(a, k, cm_fpath_mono(x, n, a->cfg.channels, a->loud_mono), n);
        pthread_mutex_lock(&a->loud_mx);
        if (st != CM_OK && a->loud_st == CM_OK) a->loud_st = st;
        a->loud_head = k + 1;
        atomic_store_explicit(&a->loud_done, k + 1, memory_order_release);
        if (a->loud_waiting && a->loud_tail - a->loud_head <= a->loud_wake_at) {
            a->loud_waiting = false;
            pthread_cond_signal(&a->loud_progress);
        }
    }
    pthread_mutex_unlock(&a->loud_mx);
    return NULL;
}

/* With loud_mx held: sleeps until the loudness thread has at most `queued` blocks left (or
 * wakes spuriously; callers loop). Two waiters never overlap: both run on the pushing thread. */
static void loud_wait_until(cm_analyzer *a, uint64_t queued)
{
    a->loud_waiting = true;
    a->loud_wake_at = queued;
    pthread_cond_wait(&a->loud_progress, &a->loud_mx);
}

/* Queues block n_reads (n frames at x) for the loudness thread; waits while the queue is
 * full. Returns the loudness thread's first error, if any. */
static cm_status loud_enqueue(cm_analyzer *a, const float *x, size_t n)
{
    pthread_mutex_lock(&a->loud_mx);
    /* A full queue is left to drain to half before the pushing thread goes on: one sleep and
     * one wake per loud_slots / 2 blocks, not one per block (1 h of 16 kHz mono: 13,400
     * voluntary context switches before). */
    while (a->loud_tail - a->loud_head == a->loud_slots)
        loud_wait_until(a, a->loud_slots / 2);
    size_t slot = (size_t)(a->loud_tail % a->loud_slots);
    pthread_mutex_unlock(&a->loud_mx);
    /* The slot is free until loud_tail moves past it: the thread does not touch it. */
    memcpy(a->loud_q + slot * a->loud_slot_floats, x, n * a->cfg.channels * sizeof *x);
    pthread_mutex_lock(&a->loud_mx);
    a->loud_q_n[slot] = n;
    a->loud_tail++;
    pthread_cond_signal(&a->loud_work);
    cm_status st = a->loud_st;
    pthread_mutex_unlock(&a->loud_mx);
    return st;
}

/* Readings whose momentary loudness is final. */
static uint64_t loud_ready(const cm_analyzer *a)
{
    return a->loud_async ? atomic_load_explicit(&a->loud_done, memory_order_acquire) : a->n_reads;
}

/* Waits until every queued block has been measured. */
static void loud_wait_all(cm_analyzer *a)
{
    if (!a->loud_async) return;
    pthread_mutex_lock(&a->loud_mx);
    while (a->loud_head != a->loud_tail) loud_wait_until(a, 0);
    pthread_mutex_unlock(&a->loud_mx);
}

static void loud_join(cm_analyzer *a)
{
    if (!a->loud_started) return;
    pthread_mutex_lock(&a->loud_mx);
    a->loud_stop = true;
    pthread_cond_signal(&a->loud_work);
    pthread_mutex_unlock(&a->loud_mx);
    pthread_join(a->loud_th, NULL);
    a->loud_started = false;
}

/* ---- front-end thread ------------------------------------------------------------------ */

/* The detector over the frames of job slot s: its windows into the slot; returns how many. */
static size_t detect_job(cm_analyzer *a, size_t s)
{
    const cm_frame *fr = a->fq_out + s * a->fq_out_cap;
    job_window *jw = a->fq_win + s * a->fq_win_cap;
    size_t nw = 0;
    /* At most one window per CM_DET_HOP_FRAMES frames: fq_win_cap holds them all. */
    for (size_t i = 0; i < a->fq_out_n[s]; i++) {
        assert(nw < a->fq_win_cap);
        if (cm_detector_push(a->det, &fr[i], &jw[nw].w)) jw[nw++].at = i;
    }
    return nw;
}

static void *front_main(void *arg)
{
    cm_analyzer *a = arg;
    pthread_mutex_lock(&a->fq_mx);
    for (;;) {
        while (a->fq_head == a->fq_tail && !a->fq_stop)
            pthread_cond_wait(&a->fq_work, &a->fq_mx);
        if (a->fq_head == a->fq_tail) break;
        uint64_t j = a->fq_head;
        size_t s = (size_t)(j % FRONT_SLOTS);
        pthread_mutex_unlock(&a->fq_mx);
        /* The slot, the resampler, the front end and (threads == 2) the detector are this
         * thread's until fq_head moves past j. The detector depends on the frames alone, so
         * it runs here too, off the pushing thread, which the rest of the pipeline waits
         * for; with threads == 3 on a thread of its own (det_main). */
        size_t nr = a->fq_in_n[s], nf = 0;
        cm_frame *fr = a->fq_out + s * a->fq_out_cap;
        const float *in = a->fq_in + s * a->fq_in_cap; /* 8 kHz already with rs_on_push */
        cm_status st = CM_OK;
        if (!a->rs_on_push) {
            st = cm_fpath_resample(a->fp, in, nr, a->fq_rs, a->fq_rs_cap, &nr);
            in = a->fq_rs;
        }
        if (st == CM_OK) st = cm_front_process(a->front, in, nr, fr, a->fq_out_cap, &nf);
        if (st != CM_OK) nf = 0;
        a->fq_out_n[s] = nf;
        if (!a->det_async) a->fq_win_n[s] = detect_job(a, s);
        pthread_mutex_lock(&a->fq_mx);
        if (st != CM_OK && a->fq_st == CM_OK) a->fq_st = st;
        a->fq_head = j + 1;
        pthread_cond_signal(a->det_async ? &a->det_work : &a->fq_done);
    }
    pthread_mutex_unlock(&a->fq_mx);
    return NULL;
}

/* threads == 3: the detector over each job the front end finished, in job order. */
static void *det_main(void *arg)
{
    cm_analyzer *a = arg;
    pthread_mutex_lock(&a->fq_mx);
    for (;;) {
        while (a->det_head == a->fq_head && !a->fq_stop) pthread_cond_wait(&a->det_work, &a->fq_mx);
        if (a->det_head == a->fq_head) break;
        uint64_t j = a->det_head;
        pthread_mutex_unlock(&a->fq_mx);
        /* The slot's frames and windows and the detector are this thread's until det_head
         * moves past j (the front end is done with it; the pushing thread waits for it). */
        size_t s = (size_t)(j % FRONT_SLOTS);
        a->fq_win_n[s] = detect_job(a, s);
        pthread_mutex_lock(&a->fq_mx);
        a->det_head = j + 1;
        pthread_cond_signal(&a->fq_done);
    }
    pthread_mutex_unlock(&a->fq_mx);
    return NULL;
}

static void on_frames(cm_analyzer *a, const cm_frame *fr, size_t n, const job_window *jw,
                      size_t njw);

/* Hands the frames of every finished job to the detector, in order; with wait, first
 * waits until at least one job more than now has finished. Returns the thread's error. */
static cm_status front_take(cm_analyzer *a, bool wait)
{
    pthread_mutex_lock(&a->fq_mx);
    const uint64_t *head = a->det_async ? &a->det_head : &a->fq_head;
    while (wait && *head == a->fq_taken) pthread_cond_wait(&a->fq_done, &a->fq_mx);
    uint64_t done = *head;
    cm_status st = a->fq_st;
    pthread_mutex_unlock(&a->fq_mx);
    for (; a->fq_taken < done; a->fq_taken++) {
        size_t s = (size_t)(a->fq_taken % FRONT_SLOTS);
        on_frames(a, a->fq_out + s * a->fq_out_cap, a->fq_out_n[s],
                  a->fq_win + s * a->fq_win_cap, a->fq_win_n[s]);
    }
    return st;
}

static void front_submit(cm_analyzer *a)
{
    pthread_mutex_lock(&a->fq_mx);
    a->fq_tail++;
    pthread_cond_signal(&a->fq_work);
    pthread_mutex_unlock(&a->fq_mx);
    a->fq_batch = 0;
}

/* Adds one block's channel mean (native rate; resampled here first with rs_on_push) to the
 * job being filled; queues it when full. */
static cm_status front_feed(cm_analyzer *a, const float *x, size_t n)
{
    cm_status st;
    if (a->rs_on_push) {
        size_t nr = 0;
        if ((st = cm_fpath_resample(a->fp, x, n, a->rs_out, a->rs_cap, &nr)) != CM_OK) return st;
        x = a->rs_out;
        n = nr;
    }
    if (a->fq_batch == 0) {
        /* A new job needs a free slot: one whose frames were taken. */
        while (a->fq_tail - a->fq_taken == FRONT_SLOTS)
            if ((st = front_take(a, true)) != CM_OK) return st;
        a->fq_in_n[a->fq_tail % FRONT_SLOTS] = 0;
    }
    size_t s = (size_t)(a->fq_tail % FRONT_SLOTS);
    memcpy(a->fq_in + s * a->fq_in_cap + a->fq_in_n[s], x, n * sizeof *x);
    a->fq_in_n[s] += n;
    if (++a->fq_batch == FRONT_BATCH) front_submit(a);
    return front_take(a, false);
}

/* Queues a partly filled job and takes every job's frames: the front end is idle after. */
static cm_status front_drain(cm_analyzer *a)
{
    if (!a->front_async) return CM_OK;
    if (a->fq_batch) front_submit(a);
    cm_status st = CM_OK;
    while (st == CM_OK && a->fq_taken < a->fq_tail) st = front_take(a, true);
    return st;
}

static void front_join(cm_analyzer *a)
{
    if (!a->front_started && !a->det_started) return;
    pthread_mutex_lock(&a->fq_mx);
    a->fq_stop = true;
    pthread_cond_signal(&a->fq_work);
    pthread_cond_signal(&a->det_work);
    pthread_mutex_unlock(&a->fq_mx);
    if (a->front_started) pthread_join(a->front_th, NULL);
    /* After the front thread: it may have finished a last job for the detector. */
    if (a->det_started) pthread_join(a->det_th, NULL);
    a->front_started = a->det_started = false;
}

/* The model's detection settings with the configuration's overrides applied. */
static cm_detect_params effective_params(const cm_analyzer_config *cfg, const cm_model *m)
{
    cm_detect_params p = *cm_model_params(m);
    if (cfg->merge_gap_s >= 0.0)
        for (unsigned c = 0; c < CM_N_CLASSES; c++) p.merge_gap_s[c] = (float)cfg->merge_gap_s;
    if (cfg->min_episode_s >= 0.0) p.min_episode_s = (float)cfg->min_episode_s;
    return p;
}

cm_status cm_analyzer_create(const cm_analyzer_config *cfg, cm_analyzer **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!cfg) return CM_E_INVAL;
    if (cfg->rate_hz < CM_RATE_MIN_HZ || cfg->rate_hz > CM_RATE_MAX_HZ)
        return cm_diag_fail(why, CM_E_RANGE, "sample rate %u Hz: must be %u..%u", cfg->rate_hz,
                            CM_RATE_MIN_HZ, CM_RATE_MAX_HZ);
    if (cfg->channels < 1 || cfg->channels > CM_CHANNELS_MAX)
        return cm_diag_fail(why, CM_E_RANGE, "channels=%u: must be 1..%u", cfg->channels,
                            CM_CHANNELS_MAX);
    if (!isfinite(cfg->spl_offset_db) || fabs(cfg->spl_offset_db) > 200.0)
        return cm_diag_fail(why, CM_E_RANGE, "spl_offset_db=%g: must be -200..200",
                            cfg->spl_offset_db);
    if (!isfinite(cfg->loud_db))
        return cm_diag_fail(why, CM_E_RANGE, "loud_db=%g: must be finite", cfg->loud_db);
    if (!(cfg->long_s > 0.0) || !isfinite(cfg->long_s))
        return cm_diag_fail(why, CM_E_RANGE, "long_s=%g: must be > 0", cfg->long_s);
    if (isnan(cfg->merge_gap_s) || cfg->merge_gap_s > MERGE_GAP_MAX_S)
        return cm_diag_fail(why, CM_E_RANGE, "merge_gap_s=%g: must be 0..%g (or < 0 for the "
                            "model's value)", cfg->merge_gap_s, MERGE_GAP_MAX_S);
    if (isnan(cfg->min_episode_s) || cfg->min_episode_s > 600.0)
        return cm_diag_fail(why, CM_E_RANGE, "min_episode_s=%g: must be 0..600 (or < 0 for "
                            "the model's value)", cfg->min_episode_s);
    if (cfg->threads < 1 || cfg->threads > 3)
        return cm_diag_fail(why, CM_E_RANGE, "threads=%u: must be 1, 2 or 3", cfg->threads);

    cm_analyzer *a = calloc(1, sizeof *a);
    if (!a) return CM_E_NOMEM;
    a->cfg = *cfg;
    cm_status st;
    if (cfg->model) {
        a->model = cfg->model;
    } else {
        st = cm_model_load_default(&a->own_model, why);
        if (st != CM_OK) goto fail;
        a->model = a->own_model;
    }
    a->params = effective_params(cfg, a->model);

    cm_front_config fc = cm_model_front_config(a->model);
    size_t max_block = cfg->rate_hz / BLOCKS_PER_S + 1;
    if ((st = cm_loud_create(cfg->rate_hz, cfg->channels, cfg->true_peak, &a->loud, why)) ||
        (st = cm_aw_create(cfg->rate_hz, &a->aw, why)) ||
        (st = cm_fpath_create(cfg->rate_hz, cfg->channels, max_block, &a->fp, why)) ||
        (st = cm_front_create(&fc, &a->front, why)) ||
        (st = cm_detector_create(a->model, &a->det, why)))
        goto fail;
    cm_shape_config shc = cm_shape_config_default(&fc);
    shc.params = *cm_model_shape_params(a->model);
    if ((st = cm_shape_create(&shc, &a->shape, why))) goto fail;
    a->sob.cls = CM_CLASS_SOB;
    a->rms_prev[0] = a->rms_prev[1] = -INFINITY;

    a->stage = malloc(max_block * cfg->channels * sizeof *a->stage);
    a->mono = malloc(max_block * sizeof *a->mono);
    a->rs_cap = cm_fpath_out_for(a->fp, max_block);
    if (a->rs_cap < cm_fpath_out_for(a->fp, 0)) a->rs_cap = cm_fpath_out_for(a->fp, 0);
    a->rs_out = malloc(a->rs_cap * sizeof *a->rs_out);
    a->frames_cap = cm_front_frames_for(a->front, a->rs_cap) + 8;
    a->frames = malloc(a->frames_cap * sizeof *a->frames);
    if (!a->stage || !a->mono || !a->rs_out || !a->frames) {
        st = cm_diag_fail(why, CM_E_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < N_SEG; i++) {
        cm_class c = seg_classes[i];
        float gap = a->params.merge_gap_s[c];
        if (!(gap >= 0.0f) || gap > MERGE_GAP_MAX_S) {
            st = cm_diag_fail(why, CM_E_RANGE, "merge_gap_s[%s]=%g: must be 0..%g",
                              cm_class_name(c), gap, MERGE_GAP_MAX_S);
            goto fail;
        }
        cm_seg_config sc = {
            .hop_frames = CM_DET_HOP_FRAMES,
            .merge_gap_frames = (unsigned)lrintf(gap * 100.0f),
            .min_frames = (unsigned)lrintf(a->params.min_episode_s * 100.0f),
            .snap_frames = SNAP_FRAMES,
        };
        if (c == CM_CLASS_CRY) {
            sc.backdate_frames = (unsigned)lrintf(a->params.cry_onset_max_s * 100.0f);
            sc.bridge_frames = (unsigned)lrintf(a->params.cry_onset_gap_s * 100.0f);
            sc.min_windows = a->params.cry_min_windows;
        }
        a->acc[i].cls = c;
        if ((st = cm_seg_create(&sc, &a->acc[i].seg, why))) goto fail;
    }
    a->cur_min = INFINITY;
    for (unsigned i = 0; i < FLOOR_BLOCKS; i++) a->floor_blk[i] = INFINITY;
    a->cur_cls = CM_CLASS_BACKGROUND;
    a->sum.lufs_integrated = -INFINITY;
    a->sum.sample_peak_dbfs = -INFINITY;
    a->sum.true_peak_dbtp = NAN;
    /* Level readings must be current for on_level (monitor), so the loudness meter stays on
     * the pushing thread there. */
    if (cfg->threads >= 2 && !cfg->on_level) {
        size_t block_bytes = max_block * cfg->channels * sizeof(float);
        size_t slots = LOUD_QUEUE_BYTES / block_bytes;
        if (slots > LOUD_QUEUE_MAX) slots = LOUD_QUEUE_MAX;
        if (slots < 2) slots = 2;
        a->loud_slots = slots;
        a->loud_slot_floats = max_block * cfg->channels;
        a->loud_q = malloc(slots * block_bytes);
        a->aw_on_loud = (uint64_t)cfg->rate_hz * cfg->channels <= AW_ON_LOUD_MAX;
        a->loud_mono = malloc(max_block * sizeof *a->loud_mono);
        if (!a->loud_q || !a->loud_mono) {
            st = cm_diag_fail(why, CM_E_NOMEM, "out of memory");
            goto fail;
        }
        pthread_mutex_init(&a->loud_mx, NULL);
        pthread_cond_init(&a->loud_work, NULL);
        pthread_cond_init(&a->loud_progress, NULL);
        atomic_init(&a->loud_done, 0);
        a->loud_async = true;
        if (pthread_create(&a->loud_th, NULL, loud_main, a) != 0) {
            st = cm_diag_fail(why, CM_E_NOMEM, "cannot start the loudness thread");
            goto fail;
        }
        a->loud_started = true;

        /* A job holds FRONT_BATCH blocks, native-rate or (rs_on_push) 8 kHz: at most
         * rs_cap samples each then. */
        a->fq_in_cap = FRONT_BATCH * (max_block > a->rs_cap ? max_block : a->rs_cap);
        a->fq_rs_cap = cm_fpath_out_for(a->fp, a->fq_in_cap);
        size_t in8_max = a->fq_rs_cap > a->fq_in_cap ? a->fq_rs_cap : a->fq_in_cap;
        a->fq_out_cap = (in8_max + CM_FRONT_WIN_SAMPLES) / CM_FRONT_HOP_SAMPLES + 2;
        a->fq_in = malloc(FRONT_SLOTS * a->fq_in_cap * sizeof *a->fq_in);
        a->fq_rs = malloc(a->fq_rs_cap * sizeof *a->fq_rs);
        a->fq_out = malloc(FRONT_SLOTS * a->fq_out_cap * sizeof *a->fq_out);
        a->fq_win_cap = a->fq_out_cap / CM_DET_HOP_FRAMES + 2;
        a->fq_win = malloc(FRONT_SLOTS * a->fq_win_cap * sizeof *a->fq_win);
        if (!a->fq_in || !a->fq_rs || !a->fq_out || !a->fq_win) {
            st = cm_diag_fail(why, CM_E_NOMEM, "out of memory");
            goto fail;
        }
        pthread_mutex_init(&a->fq_mx, NULL);
        pthread_cond_init(&a->fq_work, NULL);
        pthread_cond_init(&a->fq_done, NULL);
        pthread_cond_init(&a->det_work, NULL);
        a->front_async = true;
        a->det_async = a->rs_on_push = cfg->threads == 3;
        if (pthread_create(&a->front_th, NULL, front_main, a) != 0) {
            st = cm_diag_fail(why, CM_E_NOMEM, "cannot start the front-end thread");
            goto fail;
        }
        a->front_started = true;
        if (a->det_async) {
            if (pthread_create(&a->det_th, NULL, det_main, a) != 0) {
                st = cm_diag_fail(why, CM_E_NOMEM, "cannot start the detector thread");
                goto fail;
            }
            a->det_started = true;
        }
    }
    *out = a;
    return CM_OK;
fail:
    cm_analyzer_destroy(a);
    return st;
}

double cm_analyzer_latency_s(const cm_analyzer *a)
{
    (void)a;
    /* A decision about time t needs the whole window ending half a window after it, plus
     * the 100 ms block and the front end's 25 ms window. */
    return (double)CM_DET_WIN_FRAMES * 0.01 + 0.1 + 0.025;
}

/* ---- episode statistics ---------------------------------------------------------------- */

static void acc_reset(episode_acc *e, uint64_t start_f, uint64_t end_f)
{
    cm_seg *seg = e->seg;
    cm_class cls = e->cls;
    memset(e, 0, sizeof *e);
    e->seg = seg;
    e->cls = cls;
    e->open = true;
    e->start_f = start_f;
    e->end_f = end_f;
    e->next_f = start_f;
    e->lufs_max = -INFINITY;
    e->dba_max = -INFINITY;
    e->peak_max = -INFINITY;
    double t0 = frame_start_s(start_f);
    e->next_k = (uint64_t)floor(t0 * BLOCKS_PER_S);
    /* Momentary readings whose 400 ms window is centred inside the episode: reading k covers
     * [(k-3)/10, (k+1)/10) s, centred at (k-1)/10 s. */
    e->next_km = (uint64_t)ceil(t0 * BLOCKS_PER_S) + 1;
}

static void acc_aggregate(cm_analyzer *a, episode_acc *e, bool final)
{
    /* A final figure needs every momentary reading of the span: wait for the loudness
     * thread (it is at most LOUD_QUEUE_MAX blocks behind). */
    if (final) loud_wait_all(a);
    const uint64_t n_loud = loud_ready(a);
    /* Frames: F0 of voiced frames inside the span. Frames older than the ring are gone;
     * the span never reaches that far back (merge gap <= 60 s < ring). */
    if (e->next_f + FRAME_RING < a->n_frames) e->next_f = a->n_frames - FRAME_RING;
    for (; e->next_f <= e->end_f && e->next_f < a->n_frames; e->next_f++) {
        float f0 = a->finfo[e->next_f % FRAME_RING].f0_hz;
        if (f0 > 0.0f) {
            double b = 120.0 * log2(f0 / F0_LO_HZ);
            if (b >= 0.0 && b < F0_BINS) {
                e->f0_hist[(unsigned)b]++;
                e->n_voiced++;
            }
        }
    }
    double t1 = frame_end_s(e->end_f);
    uint64_t k_end = (uint64_t)floor(t1 * BLOCKS_PER_S - 1e-9);
    if (e->next_k + READ_RING < a->n_reads) e->next_k = a->n_reads - READ_RING;
    for (; e->next_k <= k_end && e->next_k < n_loud; e->next_k++) {
        const reading *r = &a->reads[e->next_k % READ_RING];
        if (r->dba > e->dba_max) e->dba_max = r->dba;
        if (r->peak > e->peak_max) e->peak_max = r->peak;
    }
    uint64_t km_end = (uint64_t)floor(t1 * BLOCKS_PER_S) + 1;
    if (e->next_km + READ_RING < a->n_reads) e->next_km = a->n_reads - READ_RING;
    for (; e->next_km <= km_end && e->next_km < n_loud; e->next_km++) {
        double l = a->reads[e->next_km % READ_RING].lufs_m;
        if (l > e->lufs_max) e->lufs_max = l;
    }
    if (final && e->lufs_max == -INFINITY) {
        /* Episode shorter than one momentary hop: take the reading nearest its middle. */
        double mid = 0.5 * (frame_start_s(e->start_f) + t1);
        uint64_t k = (uint64_t)llround(mid * BLOCKS_PER_S) + 1;
        if (k >= a->n_reads && a->n_reads) k = a->n_reads - 1;
        if (k < n_loud && a->n_reads - k <= READ_RING) e->lufs_max = a->reads[k % READ_RING].lufs_m;
    }
}

static double f0_median(const episode_acc *e)
{
    if (!e->n_voiced) return NAN;
    uint64_t half = (e->n_voiced + 1) / 2, c = 0;
    for (unsigned b = 0; b < F0_BINS; b++) {
        c += e->f0_hist[b];
        if (c >= half) return F0_LO_HZ * exp2((b + 0.5) / 120.0);
    }
    return NAN;
}

static void acc_fill(const cm_analyzer *a, const episode_acc *e, cm_episode *ep)
{
    memset(ep, 0, sizeof *ep);
    ep->id = e->id;
    ep->cls = e->cls;
    ep->start_s = frame_start_s(e->start_f);
    ep->end_s = frame_end_s(e->end_f);
    ep->duration_s = ep->end_s - ep->start_s;
    ep->confidence = e->conf_n ? (float)(e->conf_sum / (double)e->conf_n) : 0.0f;
    ep->lufs_momentary_max = e->lufs_max;
    ep->dba_max = e->dba_max;
    ep->peak_dbfs = e->peak_max;
    ep->spl_db_max = e->dba_max + a->cfg.spl_offset_db;
    ep->calibrated = a->cfg.calibrated;
    ep->f0_median_hz = f0_median(e);
    if (ep->spl_db_max >= a->cfg.loud_db) {
        ep->excessive |= CM_EXCESS_LOUD;
        ep->loud_excess_db = ep->spl_db_max - a->cfg.loud_db;
    }
    if (ep->duration_s >= a->cfg.long_s) {
        ep->excessive |= CM_EXCESS_LONG;
        ep->long_excess_s = ep->duration_s - a->cfg.long_s;
    }
}

static void emit(cm_analyzer *a, cm_event_kind kind, const cm_episode *ep)
{
    if (a->cfg.on_event) a->cfg.on_event(a->cfg.user, kind, ep);
}

/* After the span grew: announce the start once it is long enough to be kept, and any
 * threshold crossed for the first time. */
static void acc_progress(cm_analyzer *a, episode_acc *e)
{
    acc_aggregate(a, e, false);
    cm_episode ep;
    acc_fill(a, e, &ep);
    /* Long enough counts from the start before back-dating (the segmenter keeps episodes by
     * the same rule), so back-dating never announces an episode sooner. */
    double ev_s = frame_end_s(e->end_f) - frame_start_s(cm_seg_evidence_start(e->seg));
    if (!e->started && ev_s + 1e-9 >= a->params.min_episode_s &&
        cm_seg_evidence(e->seg) >= cm_seg_required(e->seg)) {
        e->started = true;
        e->id = ep.id = ++a->next_id;
        emit(a, CM_EVENT_START, &ep);
    }
    if (e->started && (ep.excessive & ~e->sent)) {
        e->sent |= ep.excessive;
        emit(a, CM_EVENT_EXCESSIVE, &ep);
    }
}

/* Final statistics and the END event (with START and EXCESSIVE first if still owed). */
static void acc_close(cm_analyzer *a, episode_acc *e, const cm_shape_result *shape,
                      const cm_sob_info *sob)
{
    acc_aggregate(a, e, true);
    if (!e->started) e->id = ++a->next_id;
    cm_episode ep;
    acc_fill(a, e, &ep);
    if (sob) {
        ep.sob = *sob;
        ep.confidence = NAN;
    }
    if (!e->started) emit(a, CM_EVENT_START, &ep);
    if (ep.excessive & ~e->sent) emit(a, CM_EVENT_EXCESSIVE, &ep);
    ep.shape = shape;
    emit(a, CM_EVENT_END, &ep);
    a->sum.episodes++;
    a->sum.episodes_by_class[e->cls]++;
    e->open = false;
}

static void note_cry(cm_analyzer *a, const episode_acc *e)
{
    if (e->cls != CM_CLASS_CRY) return;
    a->cry_seen = true;
    if (e->end_f > a->last_cry_end_f) a->last_cry_end_f = e->end_f;
}

/* slot: the episode's index in a->acc, also its slot in the shape stage. */
static void apply_update(cm_analyzer *a, unsigned slot, const cm_seg_update *u)
{
    episode_acc *e = &a->acc[slot];
    switch (u->kind) {
    case CM_SEG_OPEN:
        /* Just after the household's own sounds (the home layer's match), a cry episode needs
         * more evidence: crymeter/home.h, CM_HOME_RECENT. */
        if (e->cls == CM_CLASS_CRY && a->home_recent)
            cm_seg_require(e->seg, CM_HOME_RECENT_MIN_WINDOWS);
        acc_reset(e, u->start_frame, u->end_frame);
        e->shape_ok = cm_shape_begin(a->shape, slot, u->start_frame) == CM_OK &&
                      cm_shape_extend(a->shape, slot, u->end_frame) == CM_OK;
        note_cry(a, e);
        acc_progress(a, e);
        break;
    case CM_SEG_EXTEND:
        e->end_f = u->end_frame;
        if (e->shape_ok) e->shape_ok = cm_shape_extend(a->shape, slot, u->end_frame) == CM_OK;
        note_cry(a, e);
        acc_progress(a, e);
        break;
    case CM_SEG_CLOSE: {
        e->start_f = u->start_frame;
        e->end_f = u->end_frame;
        note_cry(a, e);
        acc_aggregate(a, e, true);
        double spl = e->dba_max + a->cfg.spl_offset_db;
        bool have = e->shape_ok && cm_shape_end(a->shape, slot, u->end_frame,
                                                isfinite(spl) ? spl : NAN, &a->shape_res) == CM_OK;
        acc_close(a, e, have ? &a->shape_res : NULL, NULL);
        break;
    }
    case CM_SEG_DROP:
        e->open = false;
        break;
    }
}

static bool cry_near(const cm_analyzer *a, uint64_t start_f)
{
    for (size_t i = 0; i < N_SEG; i++)
        if (a->acc[i].cls == CM_CLASS_CRY && a->acc[i].open) return true;
    return a->cry_seen && a->last_cry_end_f + SOB_AFTER_CRY_FRAMES >= start_f;
}

static void on_sob_event(cm_analyzer *a, const cm_shape_event *ev)
{
    episode_acc *e = &a->sob;
    if (ev->kind == CM_SHAPE_SOB_START) {
        /* Announce now when crying is already known; otherwise decide at the end, when the
         * cry segmenter has caught up with the stretch. */
        if (cry_near(a, ev->start_frame)) {
            acc_reset(e, ev->start_frame, ev->end_frame);
            acc_progress(a, e);
        }
        return;
    }
    if (!e->open) {
        if (!cry_near(a, ev->start_frame)) return;
        acc_reset(e, ev->start_frame, ev->end_frame);
    }
    e->end_f = ev->end_frame;
    cm_sob_info si = {.n_pulses = ev->n_pulses, .pulse_rate_hz = ev->rate_hz,
                      .pulse_cv = ev->cv};
    acc_close(a, e, NULL, &si);
}

static void poll_shape(cm_analyzer *a)
{
    cm_shape_event ev;
    while (cm_shape_poll(a->shape, &ev)) on_sob_event(a, &ev);
}

/* Waits until reading k's loudness is final (the loudness thread has done block k). */
static void loud_wait_for(cm_analyzer *a, uint64_t k)
{
    if (!a->loud_async || atomic_load_explicit(&a->loud_done, memory_order_acquire) > k) return;
    pthread_mutex_lock(&a->loud_mx);
    while (a->loud_head <= k) loud_wait_until(a, a->loud_tail - (k + 1));
    pthread_mutex_unlock(&a->loud_mx);
}

/* Delivers the level track's readings of blocks before `upto`: called when a window centred
 * in block upto comes (windows come in time order, so earlier blocks are decided), and at
 * the end. Tied to the windows, not to when the threads finish, so the track's place among
 * the episode events is the same on every run; a reading's loudness is waited for (the
 * loudness thread is seconds of audio ahead of the detector, so this rarely sleeps). */
static void track_emit(cm_analyzer *a, uint64_t upto)
{
    if (upto > a->n_reads) upto = a->n_reads;
    while (a->trk_next < upto) {
        uint64_t k = a->trk_next;
        loud_wait_for(a, k);
        track_block *t = &a->trk[k % READ_RING];
        const reading *r = &a->reads[k % READ_RING];
        uint64_t end_f = ((k + 1) * (uint64_t)a->cfg.rate_hz) / BLOCKS_PER_S;
        if (end_f > a->sum.frames_read) end_f = a->sum.frames_read;
        cm_level lv = {
            .t_s = (double)end_f / a->cfg.rate_hz,
            .lufs_momentary = r->lufs_m,
            .dba_fast = r->dba,
            .spl_db = r->dba + a->cfg.spl_offset_db,
            .peak_dbfs = r->peak,
            .cls = t->any ? t->cls : a->trk_hold_cls,
            .score = t->any ? t->last_score : a->trk_hold_score,
            .p_cry = t->any ? t->p_cry : a->trk_hold_p,
            .in_episode = false,
        };
        if (t->any) {
            a->trk_hold_cls = t->last_cls;
            a->trk_hold_p = t->last_p;
            a->trk_hold_score = t->last_score;
        }
        memset(t, 0, sizeof *t);
        a->trk_next++;
        a->cfg.on_track(a->cfg.user, &lv);
    }
}

/* ---- per-window and per-frame work ------------------------------------------------------- */

static void on_window(cm_analyzer *a, const cm_window_scores *w)
{
    const cm_detect_params *p = &a->params;
    cm_class label = CM_CLASS_BACKGROUND;
    if (w->p[CM_CLASS_CRY] >= p->threshold[CM_CLASS_CRY])
        label = CM_CLASS_CRY;
    else if (w->p[CM_CLASS_VOCAL] >= p->threshold[CM_CLASS_VOCAL])
        label = CM_CLASS_VOCAL;
    a->cur_cls = label;
    a->home_recent = w->home_recent != 0;
    a->cur_score = w->p[label];
    a->cur_p_cry = w->p[CM_CLASS_CRY];
    if (a->cfg.on_track) {
        /* The window's centre: the middle of its (smoothed) frame span. */
        double c = 0.5 * (frame_start_s(w->first_frame) + frame_end_s(w->last_frame));
        uint64_t b = c > 0 ? (uint64_t)floor(c * BLOCKS_PER_S) : 0;
        track_emit(a, b);
        if (b < a->trk_next) b = a->trk_next; /* centres never go back; kept safe anyway */
        if (b - a->trk_next < READ_RING) {
            track_block *t = &a->trk[b % READ_RING];
            if (!t->any) {
                t->any = true;
                t->cls = label;
                t->p_cry = w->p[CM_CLASS_CRY];
            }
            if (label == CM_CLASS_CRY || (label == CM_CLASS_VOCAL && t->cls == CM_CLASS_BACKGROUND))
                t->cls = label;
            if (w->p[CM_CLASS_CRY] > t->p_cry) t->p_cry = w->p[CM_CLASS_CRY];
            t->last_cls = label;
            t->last_p = w->p[CM_CLASS_CRY];
            t->last_score = w->p[label];
        }
    }
    for (size_t i = 0; i < N_SEG; i++) {
        episode_acc *e = &a->acc[i];
        bool pos = (label == e->cls);
        /* Weak cry evidence (cry_onset_threshold, short of the cry threshold) may move the
         * start of the next cry episode back; it never opens, extends or keeps one. */
        int level = pos ? 2
                    : (e->cls == CM_CLASS_CRY && p->cry_onset_max_s > 0.f &&
                       w->p[CM_CLASS_CRY] >= p->cry_onset_threshold)
                        ? 1
                        : 0;
        cm_seg_update u[3];
        size_t n = cm_seg_window_level(e->seg, w->first_frame, w->last_frame, level, u);
        for (size_t j = 0; j < n; j++) apply_update(a, (unsigned)i, &u[j]);
        if (pos && e->open) {
            e->conf_sum += w->p[e->cls];
            e->conf_n++;
            /* The evidence count may have reached cry_min_windows without the span growing. */
            if (!e->started && n == 0) acc_progress(a, e);
        }
    }
}

static bool frame_active(cm_analyzer *a, float rms_dbfs)
{
    /* The floor tracks the minimum of a 3-frame running maximum, so that one low frame (a
     * dropout, the zero-padded last frame) cannot pull it down for 5 s. */
    float m3 = fmaxf(rms_dbfs, fmaxf(a->rms_prev[0], a->rms_prev[1]));
    a->rms_prev[1] = a->rms_prev[0];
    a->rms_prev[0] = rms_dbfs;
    if (m3 < a->cur_min) a->cur_min = m3;
    float floor_db = a->cur_min;
    for (unsigned i = 0; i < FLOOR_BLOCKS; i++)
        if (a->floor_blk[i] < floor_db) floor_db = a->floor_blk[i];
    if (++a->cur_count == FLOOR_BLOCK_FRAMES) {
        a->floor_blk[a->floor_blocks_done++ % FLOOR_BLOCKS] = a->cur_min;
        a->cur_min = INFINITY;
        a->cur_count = 0;
    }
    return rms_dbfs >= ACT_ABS_DBFS && rms_dbfs >= floor_db + ACT_MARGIN_DB;
}

/* The frames' later stages, in order. jw: the detector's windows for them, already computed
 * (front-end jobs), in frame order, jw[k] completed at fr[jw[k].at]; NULL: run the detector
 * here. */
static void on_frames(cm_analyzer *a, const cm_frame *fr, size_t n, const job_window *jw,
                      size_t njw)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool act = frame_active(a, fr[i].rms_dbfs);
        a->finfo[fr[i].index % FRAME_RING].f0_hz = fr[i].f0_hz;
        a->n_frames = fr[i].index + 1;
        for (size_t s = 0; s < N_SEG; s++) cm_seg_frame(a->acc[s].seg, fr[i].index, act);
        if (cm_shape_frame(a->shape, &fr[i]) == CM_OK) poll_shape(a);
        if (jw) {
            if (k < njw && jw[k].at == i) on_window(a, &jw[k++].w);
        } else {
            cm_window_scores w;
            if (cm_detector_push(a->det, &fr[i], &w)) on_window(a, &w);
        }
    }
}

static cm_status run_front(cm_analyzer *a, const float *x, size_t n)
{
    size_t nf = 0;
    cm_status st = cm_front_process(a->front, x, n, a->frames, a->frames_cap, &nf);
    if (st == CM_OK) on_frames(a, a->frames, nf, NULL, 0);
    return st;
}

/* One 100 ms block of native frames in a->stage. */
static cm_status process_block(cm_analyzer *a, size_t n)
{
    const unsigned ch = a->cfg.channels;
    /* The reads ring holds the track's undelivered readings. The detector lags by a few
     * seconds at most (FRONT_SLOTS jobs and its windows), far less than READ_RING blocks;
     * should it ever not, the oldest go out undecided rather than be overwritten. */
    if (a->cfg.on_track && a->n_reads - a->trk_next >= READ_RING - 1)
        track_emit(a, a->n_reads - READ_RING / 2);
    float *x = a->stage;
    float peak = cm_fpath_clean(x, n * ch, &a->sum.nonfinite_samples, &a->sum.overrange_samples);
    cm_status st = a->loud_async ? loud_enqueue(a, x, n) : measure_loudness(a, a->n_reads, x, n);
    if (st != CM_OK) return st;
    const float *mono = cm_fpath_mono(x, n, ch, a->mono);
    if (!a->aw_on_loud) measure_dba(a, a->n_reads, mono, n);
    reading *r = &a->reads[a->n_reads % READ_RING];
    r->peak = peak > 0.0f ? 20.0 * log10((double)peak) : -INFINITY;
    a->n_reads++;

    if (a->front_async) {
        if ((st = front_feed(a, mono, n))) return st;
    } else {
        size_t nr = 0;
        if ((st = cm_fpath_resample(a->fp, mono, n, a->rs_out, a->rs_cap, &nr))) return st;
        if ((st = run_front(a, a->rs_out, nr))) return st;
    }
    a->blocks_done++;
    a->sum.frames_analyzed += n;

    if (a->cfg.on_level) {
        cm_level lv = {
            .t_s = (double)(a->sum.frames_analyzed) / a->cfg.rate_hz,
            .lufs_momentary = r->lufs_m,
            .dba_fast = r->dba,
            .spl_db = r->dba + a->cfg.spl_offset_db,
            .peak_dbfs = r->peak,
            .cls = a->cur_cls,
            .score = a->cur_score,
            .p_cry = a->cur_p_cry,
            .in_episode = false,
        };
        for (size_t s = 0; s < N_SEG; s++) lv.in_episode |= a->acc[s].open && a->acc[s].started;
        a->cfg.on_level(a->cfg.user, &lv);
    }
    return CM_OK;
}

cm_status cm_analyzer_push(cm_analyzer *a, const float *x, size_t n_frames)
{
    if (!a || (!x && n_frames)) return CM_E_INVAL;
    if (a->flushed) return CM_E_STATE;
    const unsigned ch = a->cfg.channels;
    while (n_frames) {
        size_t want = block_frames(a, a->blocks_done) - a->stage_n;
        size_t take = n_frames < want ? n_frames : want;
        memcpy(a->stage + a->stage_n * ch, x, take * ch * sizeof *x);
        a->stage_n += take;
        a->sum.frames_read += take;
        x += take * ch;
        n_frames -= take;
        if (a->stage_n == block_frames(a, a->blocks_done)) {
            cm_status st = process_block(a, a->stage_n);
            a->stage_n = 0;
            if (st != CM_OK) return st;
        }
    }
    return CM_OK;
}

cm_status cm_analyzer_set_model(cm_analyzer *a, const cm_model *m, cm_diag *why)
{
    if (!a || !m) return CM_E_INVAL;
    if (a->flushed) return CM_E_STATE;
    /* What state already built depends on: the front end and shape stage were created from
     * the front config and shape settings, the segmenters from the episode settings, and
     * the detector's histories and frame-network state assume its smoothing, confirmation
     * and network. A home model or a recalibrated threshold changes none of them. */
    const cm_front_config f0 = cm_model_front_config(a->model), f1 = cm_model_front_config(m);
    const cm_detect_params p = effective_params(&a->cfg, m), *q = &a->params;
    const char *what = NULL;
    if (f0.n_mel != f1.n_mel || f0.fmin_hz != f1.fmin_hz || f0.fmax_hz != f1.fmax_hz ||
        f0.f0_min_hz != f1.f0_min_hz || f0.f0_max_hz != f1.f0_max_hz ||
        f0.voicing_threshold != f1.voicing_threshold)
        what = "front end (mel bands, frequency or pitch range, voicing threshold):";
    else if (cm_model_smooth_windows(a->model) != cm_model_smooth_windows(m) ||
             p.confirm_k != q->confirm_k || p.confirm_n != q->confirm_n)
        what = "smoothing or cry confirmation:";
    else if (!cm_model_frame_net(a->model) != !cm_model_frame_net(m))
        what = "frame network (one model has one, the other not):";
    else if (memcmp(p.merge_gap_s, q->merge_gap_s, sizeof p.merge_gap_s) != 0 ||
             p.min_episode_s != q->min_episode_s || p.cry_onset_max_s != q->cry_onset_max_s ||
             p.cry_onset_gap_s != q->cry_onset_gap_s || p.cry_min_windows != q->cry_min_windows)
        what = "episode settings (merge gaps, minimum episode, onset back-dating):";
    else if (memcmp(cm_model_shape_params(a->model), cm_model_shape_params(m),
                    sizeof(cm_shape_params)) != 0) /* both parsed into zeroed memory */
        what = "sobbing shape settings:";
    if (what)
        return cm_diag_fail(why, CM_E_FORMAT, "%s not the same as the running model's "
                            "(restart to use this model)", what);
    /* Jobs in flight score with the old model; the front thread is idle after the drain,
     * and the next job's hand-off (under fq_mx) publishes the new pointer to it. */
    cm_status st = front_drain(a);
    if (st != CM_OK) return st;
    a->model = m;
    a->params = p;
    cm_detector_set_model(a->det, m);
    return CM_OK;
}

cm_status cm_analyzer_flush(cm_analyzer *a)
{
    if (!a) return CM_E_INVAL;
    if (a->flushed) return CM_E_STATE;
    a->flushed = true;
    cm_status st = CM_OK;
    if (a->stage_n) {
        st = process_block(a, a->stage_n);
        a->stage_n = 0;
        if (st) return st;
    }
    /* The rest runs here: the front-end thread is idle once its jobs are taken. */
    if ((st = front_drain(a))) return st;
    front_join(a);
    size_t nr = 0;
    if ((st = cm_fpath_flush(a->fp, a->rs_out, a->rs_cap, &nr))) return st;
    if ((st = run_front(a, a->rs_out, nr))) return st;
    size_t nf = 0;
    if ((st = cm_front_flush(a->front, a->frames, a->frames_cap, &nf))) return st;
    on_frames(a, a->frames, nf, NULL, 0);
    cm_window_scores w;
    if (cm_detector_flush(a->det, &w)) on_window(a, &w);
    for (size_t i = 0; i < N_SEG; i++) {
        cm_seg_update u[1];
        if (cm_seg_finish(a->acc[i].seg, u)) apply_update(a, (unsigned)i, &u[0]);
    }
    cm_shape_flush(a->shape);
    poll_shape(a);
    loud_wait_all(a);
    if (a->cfg.on_track) track_emit(a, a->n_reads);
    loud_join(a);
    return a->loud_st;
}

void cm_analyzer_summary(const cm_analyzer *a, cm_summary *out)
{
    if (!out) return;
    if (!a) {
        memset(out, 0, sizeof *out);
        return;
    }
    /* The loudness thread must be idle before its meter is read; it only works on what this
     * (the pushing) thread queued, so waiting here is bounded. */
    loud_wait_all((cm_analyzer *)a);
    *out = a->sum;
    out->duration_s = (double)a->sum.frames_read / a->cfg.rate_hz;
    out->lufs_integrated = cm_loud_integrated_lufs(a->loud);
    out->lra_lu = cm_loud_range_lu(a->loud);
    out->sample_peak_dbfs = cm_loud_sample_peak_dbfs(a->loud);
    out->true_peak_dbtp = a->cfg.true_peak ? cm_loud_true_peak_dbtp(a->loud) : NAN;
}
