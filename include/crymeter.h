/* SPDX-License-Identifier: MIT */
/* crymeter.h: the public C API of libcrymeter, the one header it installs.
 *
 * Finds episodes of crying, sobbing and other vocalisation in audio and measures their
 * loudness and duration: the same analysis as `crymeter analyze` and `crymeter monitor`.
 * Create an analyzer for a sample rate and channel count, push interleaved float or int16
 * frames in any chunking (results do not depend on it), receive episode records through a
 * callback or by polling, read the live level, finish, destroy:
 *
 *     crymeter_config cfg;
 *     crymeter_config_init(&cfg, 16000, 1);
 *     crymeter_analyzer *a = NULL;
 *     if (crymeter_create(&cfg, &a, msg, sizeof msg) != CRYMETER_OK) { puts(msg); ... }
 *     while ((n = read_frames(buf)) > 0) {
 *         crymeter_push_s16(a, buf, n);
 *         while (crymeter_poll(a, &rec) == 1) { ... rec.kind, rec.episode ... }
 *     }
 *     crymeter_finish(a);  + poll the last records (the summary is the last one)
 *     crymeter_destroy(a);
 *
 * Times are seconds from the first pushed frame. Levels: LUFS (ITU-R BS.1770), dBFS (sample
 * peak; full-scale square = 0), dB(A) re full scale (IEC 61672 A-weighting, Fast), and
 * dB SPL = dB(A) re full scale + spl_offset_db.
 *
 * Threading: an analyzer is used by one thread at a time; callbacks run on the calling
 * thread, inside push and finish. Different analyzers are independent. Create analyzers on
 * one thread at a time (libebur128's initialisation writes shared tables).
 * Link: `pkg-config --cflags --libs crymeter`. Nothing here pulls in another header of ours
 * or of a dependency. */
#ifndef CRYMETER_H
#define CRYMETER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header; crymeter_version() gives the library's at run time. The soname
 * (libcrymeter.so.0) changes when the ABI does. */
#define CRYMETER_VERSION_MAJOR 0
#define CRYMETER_VERSION_MINOR 1
#define CRYMETER_VERSION_PATCH 0
#define CRYMETER_VERSION "0.1.0"
/* major * 10000 + minor * 100 + patch, for #if comparisons. */
#define CRYMETER_VERSION_NUMBER                                                             \
    (CRYMETER_VERSION_MAJOR * 10000 + CRYMETER_VERSION_MINOR * 100 + CRYMETER_VERSION_PATCH)

#if defined(CRYMETER_BUILDING) && (defined(__GNUC__) || defined(__clang__))
#define CRYMETER_API __attribute__((visibility("default")))
#else
#define CRYMETER_API
#endif
#if defined(__GNUC__) || defined(__clang__)
#define CRYMETER_NODISCARD __attribute__((warn_unused_result))
#else
#define CRYMETER_NODISCARD
#endif

/* Library version as "MAJOR.MINOR.PATCH". Static storage, never NULL. */
CRYMETER_API const char *crymeter_version(void);
/* CRYMETER_VERSION_NUMBER of the library actually loaded. */
CRYMETER_API unsigned crymeter_version_number(void);

typedef enum crymeter_status {
    CRYMETER_OK = 0,
    CRYMETER_E_INVAL = -1,  /* contract violation: NULL handle or pointer, bad argument */
    CRYMETER_E_RANGE = -2,  /* a config value outside its documented range */
    CRYMETER_E_NOMEM = -3,  /* allocation failed */
    CRYMETER_E_FORMAT = -4, /* malformed model file */
    CRYMETER_E_IO = -5,     /* the model file could not be read */
    CRYMETER_E_STATE = -6   /* call not valid now (push after finish, finish twice) */
} crymeter_status;

/* A short static English name ("value out of range", ...). Never NULL. */
CRYMETER_API const char *crymeter_status_str(crymeter_status s);

typedef enum crymeter_class {
    CRYMETER_CLASS_BACKGROUND = 0,
    CRYMETER_CLASS_VOCAL = 1, /* speech, laughter, scream, cough, other human sounds */
    CRYMETER_CLASS_CRY = 2,
    CRYMETER_CLASS_SOB = 3
} crymeter_class;

/* "background", "vocal", "cry", "sob" (the names in crymeter's JSON Lines); "?" otherwise. */
CRYMETER_API const char *crymeter_class_name(crymeter_class c);

/* Bits of crymeter_episode.excessive. */
#define CRYMETER_EXCESS_LOUD 1u /* spl_db_max crossed loud_db */
#define CRYMETER_EXCESS_LONG 2u /* duration_s crossed long_s */

/* One episode. On CRYMETER_RECORD_START and _EXCESSIVE the fields are those so far; on
 * CRYMETER_RECORD_END every field is final. */
typedef struct crymeter_episode {
    uint64_t id;                /* 1, 2, ... within one analyzer */
    crymeter_class cls;
    double start_s, end_s;      /* seconds from the first frame */
    double duration_s;          /* end_s - start_s */
    double confidence;          /* 0..1, mean detector score over the episode; NAN for sob
                                   (found from the pulse rhythm, not scored) */
    double lufs_momentary_max;  /* LUFS; -INFINITY if silent */
    double dba_max;             /* dB(A) re full scale, Fast, maximum */
    double peak_dbfs;           /* sample peak over all channels */
    double spl_db_max;          /* dba_max + spl_offset_db */
    int calibrated;             /* 0: spl_db_max uses the default offset (100 dB) */
    double f0_median_hz;        /* over voiced frames; NAN when there were none */
    unsigned excessive;         /* CRYMETER_EXCESS_* bits */
    double loud_excess_db;      /* spl_db_max - loud_db when CRYMETER_EXCESS_LOUD, else 0 */
    double long_excess_s;       /* duration_s - long_s when CRYMETER_EXCESS_LONG, else 0 */
    unsigned sob_pulses;        /* sob episodes: inhalation pulses; 0 otherwise */
    double sob_pulse_rate_hz;   /* sob: 1 / mean pulse interval; 0 otherwise */
    double sob_pulse_cv;        /* sob: coefficient of variation of the intervals; 0 otherwise */
} crymeter_episode;

/* The whole input, final after crymeter_finish. */
typedef struct crymeter_summary {
    double duration_s;          /* frames_read / rate_hz */
    uint64_t frames_read;       /* frames pushed */
    uint64_t frames_analyzed;   /* frames that reached every stage; = frames_read after finish */
    uint64_t nonfinite_samples; /* NaN / Inf samples, analysed as 0 */
    unsigned episodes;          /* episodes ended */
    unsigned episodes_by_class[4]; /* indexed by crymeter_class */
    double lufs_integrated;     /* LUFS; -INFINITY if silent */
    double lra_lu;              /* loudness range, LU */
    double true_peak_dbtp;      /* NAN when true_peak was off */
    double sample_peak_dbfs;
    uint64_t records_dropped;   /* poll queue overflows (records never polled); 0 normally */
} crymeter_summary;

/* A level reading, one per 100 ms of input (config.levels = 1 only). */
typedef struct crymeter_level {
    double t_s;                 /* end of the 100 ms block */
    double lufs_momentary;      /* LUFS over the last 400 ms */
    double dba_fast;            /* dB(A) re full scale, Fast, max over the block */
    double spl_db;              /* dba_fast + spl_offset_db */
    double peak_dbfs;           /* sample peak in the block */
    crymeter_class cls;         /* the detector's current best class */
    double score;               /* its score, 0..1 */
    int in_episode;             /* 1 while an episode is open */
} crymeter_level;

typedef enum crymeter_record_kind {
    CRYMETER_RECORD_START = 0,     /* an episode has begun */
    CRYMETER_RECORD_EXCESSIVE = 1, /* an open episode has just crossed loud_db or long_s */
    CRYMETER_RECORD_END = 2,       /* an episode is complete */
    CRYMETER_RECORD_SUMMARY = 3    /* the whole input: the last record, queued by finish */
} crymeter_record_kind;

/* What crymeter_poll returns: episode for START/EXCESSIVE/END, summary for SUMMARY. */
typedef struct crymeter_record {
    crymeter_record_kind kind;
    crymeter_episode episode;
    crymeter_summary summary;
} crymeter_record;

/* Callbacks run on the thread calling push or finish; the pointers are valid only during
 * the call (copy what you keep). They must not call back into the same analyzer. */
typedef void (*crymeter_episode_fn)(void *user, crymeter_record_kind kind,
                                    const crymeter_episode *ep);
typedef void (*crymeter_level_fn)(void *user, const crymeter_level *lv);

/* Plain data: fill it with crymeter_config_init, then change what you need. */
typedef struct crymeter_config {
    unsigned rate_hz;          /* input rate, 8000..192000 */
    unsigned channels;         /* 1..64; frames are interleaved */
    const char *model_path;    /* a model file written by `crymeter calibrate`; NULL: the
                                  built-in model. Read during create only. */
    double spl_offset_db;      /* dB SPL of 0 dB(A) re full scale, -200..200; default 100 */
    int calibrated;            /* 1 when spl_offset_db was measured; default 0 */
    double loud_db;            /* flag episodes louder than this dB(A) SPL; default 76 */
    double long_s;             /* flag episodes longer than this, > 0; default 60 s */
    double merge_gap_s;        /* gaps shorter than this join one episode, 0..60;
                                  < 0 (default): the model's value */
    double min_episode_s;      /* drop shorter episodes, 0..600; < 0 (default): model's */
    int true_peak;             /* 1 (default): measure true peak (costs an oversampler) */
    unsigned threads;          /* 1: all work on the calling thread; 2: with levels = 0,
                                  loudness and the front end run on two helper threads; 3:
                                  the detector on a third. Default: 3 where four or more
                                  processors are online, else 2. Results are identical
                                  whatever the threads. */
    int levels;                /* 1: produce a level reading per 100 ms (on_level and
                                  crymeter_level_latest); 0 (default) */
    size_t queue_capacity;     /* records kept for crymeter_poll, 1..1000000; default 256.
                                  Records go to the queue only when on_episode is NULL. */
    crymeter_episode_fn on_episode; /* NULL: queue records for crymeter_poll */
    crymeter_level_fn on_level;     /* may be NULL; used only with levels = 1 */
    void *user;                /* passed to the callbacks */
} crymeter_config;

/* Defaults for the given rate and channel count (not checked here; create checks). */
CRYMETER_API void crymeter_config_init(crymeter_config *cfg, unsigned rate_hz,
                                       unsigned channels);

typedef struct crymeter_analyzer crymeter_analyzer; /* opaque */

/* Checks every field, loads the model, allocates everything (push never allocates).
 * On failure *out is NULL and, if msg is not NULL, msg (msg_len bytes, always terminated)
 * names the field, its value and the allowed range, or the model file and what is wrong.
 * Returns CRYMETER_OK, _E_INVAL (NULL cfg or out), _E_RANGE, _E_NOMEM, _E_FORMAT, _E_IO. */
CRYMETER_API CRYMETER_NODISCARD crymeter_status
crymeter_create(const crymeter_config *cfg, crymeter_analyzer **out, char *msg, size_t msg_len);

/* Frees everything, including unpolled records. NULL is a no-op. */
CRYMETER_API void crymeter_destroy(crymeter_analyzer *a);

/* Pushes n_frames interleaved frames (n_frames * channels samples): float in -1..1 full
 * scale, or int16 (divided by 32768, as libsndfile reads 16-bit files). Any n_frames,
 * including 0; data may be NULL only when n_frames is 0. Non-finite floats are analysed
 * as 0 and counted. Returns CRYMETER_OK, _E_INVAL, or _E_STATE after crymeter_finish. */
CRYMETER_API CRYMETER_NODISCARD crymeter_status
crymeter_push_float(crymeter_analyzer *a, const float *data, size_t n_frames);
CRYMETER_API CRYMETER_NODISCARD crymeter_status
crymeter_push_s16(crymeter_analyzer *a, const int16_t *data, size_t n_frames);

/* End of input: drains every stage, ends any open episode (RECORD_END) and queues the
 * summary record. Returns CRYMETER_OK, _E_INVAL, or _E_STATE when called twice. */
CRYMETER_API CRYMETER_NODISCARD crymeter_status crymeter_finish(crymeter_analyzer *a);

/* Takes the oldest queued record into *out: returns 1, or 0 when the queue is empty (*out
 * untouched), or CRYMETER_E_INVAL. Records arrive in order: START, EXCESSIVE, END per
 * episode, then SUMMARY after finish. Poll after each push: when the queue is full the
 * newest records are dropped and counted in summary.records_dropped. */
CRYMETER_API int crymeter_poll(crymeter_analyzer *a, crymeter_record *out);

/* The summary so far (final after finish). Returns CRYMETER_OK or _E_INVAL. */
CRYMETER_API crymeter_status crymeter_get_summary(const crymeter_analyzer *a,
                                                  crymeter_summary *out);

/* The latest level reading: returns 1, or 0 before the first reading or with levels = 0
 * (then *out has t_s = 0 and every level -INFINITY), or CRYMETER_E_INVAL. */
CRYMETER_API int crymeter_level_latest(const crymeter_analyzer *a, crymeter_level *out);

/* Delay from input to detector decision, seconds (for time-stamping live events). */
CRYMETER_API double crymeter_latency_s(const crymeter_analyzer *a);

#ifdef __cplusplus
}
#endif
#endif
