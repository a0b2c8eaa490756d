/* SPDX-License-Identifier: MIT */
/* Learning (not linked by the runtime). Labelled clips for `calibrate` and `evaluate`:
 * manifest loading (with checks that name the line), audio decoding to the front end's rate
 * (CM_FRONT_RATE_HZ, mono) through the analyzer's own path (crymeter/featpath.h), parallel
 * window-feature extraction (with optional noise-mixing augmentation), group-wise and
 * leave-one-source-out folds and cross-validated training. Private to the crymeter tool and
 * the tests. It prints its diagnostics on stderr ("crymeter: FILE: line N: ..."), as the
 * tool does, instead of returning a cm_diag: it works through thousands of files and names
 * every bad one (up to ten manifest lines), more than one message can hold. The command-line
 * parsers of its settings are the CLI's (src/cli/learn_opts.h). */
#ifndef CM_CALIB_DATA_H
#define CM_CALIB_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/analyzer.h"
#include "crymeter/classifier.h"
#include "crymeter/learn/metrics.h"
#include "crymeter/learn/train.h"

typedef struct cd_feats {
    size_t n_win;
    float *x;    /* n_win * CM_WF_DIM */
    float *peak; /* n_win, window loudest frame, dBFS */
    size_t n_frames;
    float *fin;  /* n_frames * CM_FN_N_IN frame-network inputs, when cd_keep_frame_inputs */
} cd_feats;

/* Set before cd_extract to keep every clean clip's frame-network inputs (cd_feats.fin), so
 * that cd_clip_score can run a model's frame network: 196 bytes per 10 ms frame, about
 * 310 MB for the 4.4 h of the shared data. */
extern int cd_keep_frame_inputs;

typedef struct cd_clip {
    char *path;      /* resolved */
    char *label;     /* as in the manifest */
    char *group;
    char *source;    /* the manifest's source column ("" without one; NULL for labelled files) */
    cm_class cls;
    size_t line;     /* manifest line */
    unsigned rate_hz;
    double duration_s;
    int fold;        /* 0..k-1 */
    cd_feats clean;
    cd_feats aug;    /* the clip mixed onto a background bed of its fold (training only) */
    cd_feats aug2;   /* a second such copy (other bed, other SNR) when augmenting twice */
    double aug_snr_db;
    int labelled;    /* given on the command line with an Audacity label track */
    int no_train;    /* scored but never trained on, mixed, used as a bed or for a threshold
                        (evaluate --train-only: a recipe restricted to older data) */
    cm_span *sob;    /* its `sob` label spans (seconds, malloc'ed; NULL when none) */
    size_t n_sob;
} cd_clip;

typedef struct cd_set {
    cd_clip *clip;
    size_t n;
    char manifest_hash[17]; /* FNV-1a 64 of the manifest bytes, hex */
    const char *manifest_path;
} cd_set;

/* Reads a whole file; NULL with a message printed on failure. */
char *cd_read_file(const char *path, size_t *n);

/* Loads and checks a manifest: every row's label known, every file present, at least
 * min_per_class clips in each of background, vocal and cry (0 disables). Prints what is
 * wrong (with the line) and returns -1. */
int cd_load_manifest(const char *manifest, const char *root, size_t min_per_class, cd_set *set);
/* Adds audio files given on the command line with Audacity labels beside them (x.wav ->
 * x.txt): each becomes one clip whose class is cry when a label maps to cry, else vocal when
 * one maps to vocal, else background. Its `sob` labels are kept as spans (cd_clip.sob) for
 * the sob calibration. */
int cd_add_labelled_files(char **files, size_t n, cd_set *set);

/* The Audacity label track beside an audio file (x.wav -> x.txt), parsed, with each label's
 * class (every label must name one). */
typedef struct cd_labels {
    char *txt;     /* the label file's path, for messages */
    cm_label *lab; /* n labels, in file order */
    cm_class *cls; /* their classes */
    size_t n;
} cd_labels;
/* 0, or -1 with what is wrong printed (missing file, line, unknown label); *out is then
 * empty. Free with cd_labels_free. */
int cd_read_labels(const char *audio, cd_labels *out);
void cd_labels_free(cd_labels *l);
void cd_free(cd_set *set);

/* Decodes a file to CM_FRONT_RATE_HZ mono as the analyzer does (cm_fpath_push: non-finite
 * and over-range samples to 0, channel mean, resampling). *x malloc'ed. Prints on failure,
 * returns -1. */
int cd_read_front(const char *path, float **x, size_t *n, unsigned *rate_hz);
/* Frame features of a CM_FRONT_RATE_HZ signal (cm_fpath_frames). *fr malloc'ed. Returns -1
 * on failure (printed). */
int cd_frames(const float *x, size_t n, const cm_front_config *fc, cm_frame **fr, size_t *nfr);
/* Window features of a CM_FRONT_RATE_HZ signal. */
int cd_window_feats(const float *x, size_t n, const cm_front_config *fc, int keep_fin,
                    cd_feats *out);

/* Extracts clean features of every clip (and, with augment = 1 or 2, that many mixed copies
 * of each cry and vocal clip) using `jobs` threads. Folds must be assigned first when augmenting. Prints
 * progress to stderr when verbose. Returns -1 when a clip fails (printed). */
int cd_extract(cd_set *set, const cm_front_config *fc, unsigned jobs, int augment, uint64_t seed,
               int verbose);

/* Group-wise folds, stratified by class: groups shuffled with the seed and dealt round-robin
 * per class so every fold has each class. */
void cd_assign_folds(cd_set *set, unsigned k, uint64_t seed);

/* Leave-one-source-out folds (evaluate --cv source). A source (cd_clip.source, never NULL
 * here) is left out, as a fold of its own, unless it holds crying and the other sources
 * together keep less than min_cry_share of all cry clips (they could not learn crying
 * without it): such a source is kept in every fold's training, and its groups, shuffled with
 * the seed, are dealt round-robin over the folds, so each of its clips is scored by a model
 * that did not see its group but saw its source. Left-out sources take folds 0..k-1 in
 * sorted name order. *src (malloc'ed, *n_src entries, sorted by name; names point into the
 * clips) tells which was which. With max_folds >= 2 and more sources to leave out than that,
 * the left-out sources are dealt into max_folds folds of about equal clip counts instead
 * (each fold then leaves several sources out; still none is seen by its model). Returns k, the number of folds (0 when no source can be
 * left out: then every fold is -1), or -1 when out of memory. */
#define CD_LOSO_MIN_CRY_SHARE 0.5
typedef struct cd_source_info {
    const char *name;
    size_t n_clips, n_cry;
    int fold; /* its fold when left out; -1 when kept in training */
} cd_source_info;
int cd_assign_source_folds(cd_set *set, double min_cry_share, unsigned max_folds, uint64_t seed,
                           cd_source_info **src, size_t *n_src);

/* Training examples from the clips with fold != skip_fold (skip_fold < 0: all clips) and no
 * no_train flag, clean windows and augmented ones, excluding windows quieter than
 * silence_dbfs or more than 30 dB below the clip's loudest window. Weights balance classes and, within a class, give
 * each group sqrt(its window count) in total so that the 500-clip digit speakers do not
 * drown the rest. Returns a malloc'ed set (free with cd_trainset_free) or NULL. */
typedef struct cd_trainset {
    cm_train_set set;
    float *x, *w;
    uint8_t *y;
} cd_trainset;
/* label_balance: within a class, each label weighs sqrt(its group-weighted size) instead of
 * its size (hard negatives such as the 32 cat clips are not drowned by 535 noise clips). */
cd_trainset *cd_trainset_build(const cd_set *set, int skip_fold, float silence_dbfs,
                               int label_balance);
void cd_trainset_free(cd_trainset *t);

/* Plays a CM_FRONT_RATE_HZ mono signal through the analyzer under model m (NULL: the
 * compiled-in default), as monitor hears it: every stage on this thread, 10 ms pushes, then
 * the flush. on_event (may be NULL) gets every record with user; *pushed_s (may be NULL)
 * holds the audio pushed so far, in seconds, when a record comes. Returns -1 on failure
 * (printed). */
int cd_run_analyzer(const cm_model *m, const float *x, size_t n, cm_event_fn on_event,
                    void *user, double *pushed_s);

/* Clip score for class c: the maximum over windows of the detector's smoothed probability
 * (a clip "contains" the class when the detector would fire somewhere in it). */
float cd_clip_score(const cm_model *m, const cd_feats *f, cm_class c);

/* Chooses the cry threshold from out-of-fold clip scores of the clips whose fold is not
 * skip_fold (skip_fold < 0: all clips) and that are not no_train: the clean copies (s_clean)
 * and, where a clip has one and s_aug is not NULL, its copy mixed onto a background bed
 * (s_aug, NaN for none), so that the threshold also holds for crying in noise, the way the
 * analyzer meets it. target as for cm_choose_threshold. Returns its status; *thr NaN when nothing could be chosen. */
cm_status cd_choose_cry_threshold(const cd_set *set, const float *s_clean, const float *s_aug,
                                  int skip_fold, double target, float *thr, double *p,
                                  double *r, double *f1);

/* With no precision target, cd_choose_cry_threshold takes the highest threshold whose F1 is
 * within cd_f1_slack of the best (--f1-slack): equal F1 within the noise of the clip counts,
 * fewer false alarms. 0.01 by default: with the ensemble it kept clip F1 (0.900 -> 0.902 over
 * three fold splits) and cut false cry episodes by 40 % (16.6 -> 10.0 per hour);
 * models/README.md, row 39. */
#define CD_F1_SLACK_DEFAULT 0.01
extern double cd_f1_slack;

/* The detector settings calibrate and evaluate take on the command line; a field < 0 (0 for
 * smooth) was not given and leaves the base parameters' value. */
typedef struct cd_detector_opts {
    double min_episode, merge_gap_cry;            /* --min-episode, --merge-gap-cry, s */
    double onset_threshold, onset_max, onset_gap; /* --onset-threshold, --onset-max, --onset-gap */
    int min_cry_windows;                          /* --min-cry-windows */
    int confirm_k, confirm_n;                     /* --confirm K/N */
    unsigned smooth;                              /* --smooth W, windows */
} cd_detector_opts;

/* Every field "not given". */
cd_detector_opts cd_detector_opts_default(void);
/* Writes the given fields into par (smooth is the caller's: it is not a cm_detect_params
 * field). */
void cd_detector_apply(const cd_detector_opts *d, cm_detect_params *par);

/* The classifier calibrate and evaluate train (--model-type) and its settings. */
typedef enum { CD_MODEL_MLP, CD_MODEL_TREES, CD_MODEL_ENSEMBLE } cd_model_type;
typedef struct cd_learner {
    cd_model_type type;
    cm_train_config mlp;   /* --hidden, --epochs, ... (each command parses those) */
    cm_trees_config trees; /* --tree-* */
    int tree_opts;         /* a --tree-* option was given: refused with --model-type mlp */
    int train_seed_given;  /* --train-seed given; else the training seed is --seed */
} cd_learner;

/* The default classifier (what calibrate writes without --model-type) and its settings. */
cd_learner cd_learner_default(void);
/* Trains the learner's classifier (or both, for an ensemble) on ts and builds a model around
 * it (cm_model_create, cm_model_create_trees or cm_model_create_ensemble). */
cm_status cd_train_model(const cd_learner *l, const cm_train_set *ts, const cm_front_config *fc,
                         const cm_detect_params *par, unsigned smooth, float silence_dbfs,
                         const char *provenance_json, cm_model **out, cm_diag *why);
/* The learner as a provenance fragment (",\"classifier\":..." with its settings), written
 * to buf (n bytes). */
void cd_learner_provenance(const cd_learner *l, char *buf, size_t n);

/* FNV-1a 64-bit hash as 16 hex digits. */
void cd_hash_hex(const void *p, size_t n, char out[17]);

/* Frame networks trained outside C (models/train/frame_net.py) on folds that C assigned:
 * cd_write_folds writes each clip's fold as CSV (path,fold,source,label; -1: never scored);
 * cd_attach_frame_net gives m the network DIR/foldFF.json (FF: f, two digits), and
 * cd_attach_frame_net_file the one at path; weight >= 0 replaces the file's blend weight
 * (--frame-net-weight), < 0 keeps it. 0, or -1 with the file and field named. */
int cd_write_folds(const char *path, const cd_set *set, int force);
int cd_attach_frame_net(const char *dir, unsigned f, double weight, cm_model *m);
int cd_attach_frame_net_file(const char *path, double weight, cm_model *m);

#endif
