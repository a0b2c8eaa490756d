/* SPDX-License-Identifier: MIT */
/* The command-line options of the detector settings and the learner that calibrate and
 * evaluate share (learn_opts.h): parsed here, in src/cli, so that their messages name the
 * config file and line like every other option's (cli_err); the settings themselves and
 * what they do live with the training pipeline (src/learn/calib_data.h). */
#include "cli/learn_opts.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cd_detector_option(const char *cmd, const char *a, const char *v, cd_detector_opts *d)
{
    static const char *const names[] = {"--min-episode", "--merge-gap-cry",
                                        "--onset-threshold", "--onset-max", "--onset-gap",
                                        "--f1-slack", "--min-cry-windows", "--confirm",
                                        "--smooth"};
    /* Upper bounds of the first six (seconds, probability, seconds, seconds, F1); all >= 0. */
    static const double hi[] = {60.0, 60.0, 1.0, 6.0, 3.0, 0.5};
    int k = 0, n = (int)(sizeof names / sizeof names[0]);
    while (k < n && strcmp(a, names[k])) k++;
    if (k == n) return 0;
    if (!v) {
        cli_err("%s: %s needs a value", cmd, a);
        return -1;
    }
    double *const dst[] = {&d->min_episode, &d->merge_gap_cry, &d->onset_threshold,
                           &d->onset_max,   &d->onset_gap,     &cd_f1_slack};
    if (k < 6) return cli_parse_double(a, v, 0.0, hi[k], dst[k]) ? -1 : 1;
    unsigned u, ck, cn;
    char tail;
    switch (k) {
    case 6:
        if (cli_parse_uint(a, v, 0, 64, &u)) return -1;
        d->min_cry_windows = (int)u;
        return 1;
    case 7:
        if (sscanf(v, "%u/%u%c", &ck, &cn, &tail) != 2 || ck < 1 || cn > 16 || ck > cn) {
            cli_err("%s: --confirm '%s': expected K/N with 1 <= K <= N <= 16", cmd, v);
            return -1;
        }
        d->confirm_k = (int)ck, d->confirm_n = (int)cn;
        return 1;
    default: return cli_parse_uint(a, v, 1, 16, &d->smooth) ? -1 : 1;
    }
}

const char cd_learner_help[] =
    "  --model-type T        classifier: ensemble (default: a tanh network and gradient-\n"
    "                        boosted decision trees, their probabilities averaged), mlp\n"
    "                        (the network alone) or trees (the trees alone);\n"
    "                        models/README.md compares them\n"
    "  --train-seed N        seed of the network's initial weights and example order, and of\n"
    "                        the trees' subsampling (default: --seed); folds and\n"
    "                        augmentation keep --seed\n"
    "  --tree-depth D        trees: levels per tree, 1..6 (default 3)\n"
    "  --tree-rounds R       trees: boosting rounds, one tree per class each, 1..2000\n"
    "                        (default 200)\n"
    "  --tree-lr E           trees: shrinkage of every leaf, (0, 1] (default 0.1)\n"
    "  --tree-min-leaf N     trees: windows on each side of a split, >= 1 (default 400)\n"
    "  --tree-l2 L           trees: L2 penalty on leaf values (default 10)\n"
    "  --tree-subsample S    trees: share of windows drawn for each round, (0, 1] (default 1)\n"
    "  --tree-colsample S    trees: share of features each tree may use, (0, 1] (default 1)\n"
    "  --tree-bins B         trees: quantile bins per feature, 2..256 (default 64)\n";

int cd_learner_option(const char *cmd, const char *a, const char *v, cd_learner *l)
{
    static const char *const names[] = {"--model-type", "--train-seed", "--tree-depth",
                                        "--tree-rounds", "--tree-lr", "--tree-min-leaf",
                                        "--tree-l2", "--tree-subsample", "--tree-colsample",
                                        "--tree-bins", "--hidden", "--epochs", "--l2",
                                        "--label-smoothing", "--hard-negative"};
    int k = -1;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(a, names[i])) k = i;
    if (k < 0) return 0;
    if (!v) {
        cli_err("%s: %s needs a value", cmd, a);
        return -1;
    }
    double d;
    unsigned u;
    cm_trees_config *t = &l->trees;
    l->tree_opts |= k >= 2 && k <= 9;
    switch (k) {
    case 0:
        if (!strcmp(v, "mlp")) l->type = CD_MODEL_MLP;
        else if (!strcmp(v, "trees")) l->type = CD_MODEL_TREES;
        else if (!strcmp(v, "ensemble")) l->type = CD_MODEL_ENSEMBLE;
        else {
            cli_err("%s: --model-type '%s': expected mlp, trees or ensemble", cmd, v);
            return -1;
        }
        return 1;
    case 1:
        if (cli_parse_uint(a, v, 0, 4000000000u, &u)) return -1;
        l->mlp.seed = l->trees.seed = u;
        l->train_seed_given = 1;
        return 1;
    case 2: return cli_parse_uint(a, v, 1, CM_TREES_MAX_DEPTH, &t->depth) ? -1 : 1;
    case 3: return cli_parse_uint(a, v, 1, CM_TREES_MAX_ROUNDS, &t->rounds) ? -1 : 1;
    case 4:
        if (cli_parse_double(a, v, 1e-4, 1.0, &d)) return -1;
        t->learning_rate = (float)d;
        return 1;
    case 5: return cli_parse_uint(a, v, 1, 1000000, &t->min_leaf) ? -1 : 1;
    case 6:
        if (cli_parse_double(a, v, 0.0, 1e6, &d)) return -1;
        t->l2 = (float)d;
        return 1;
    case 7:
    case 8:
        if (cli_parse_double(a, v, 0.01, 1.0, &d)) return -1;
        *(k == 7 ? &t->subsample : &t->colsample) = (float)d;
        return 1;
    case 9: return cli_parse_uint(a, v, 2, 256, &t->max_bins) ? -1 : 1;
    case 10: return cli_parse_uint(a, v, 0, CM_NET_MAX_HIDDEN, &l->mlp.n_hidden) ? -1 : 1;
    case 11: return cli_parse_uint(a, v, 1, 10000, &l->mlp.epochs) ? -1 : 1;
    default: {
        /* --l2, --label-smoothing 0..0.5; --hard-negative 0..1000 */
        float *dst = k == 12 ? &l->mlp.l2 : k == 13 ? &l->mlp.label_smoothing : &l->mlp.hard_negative;
        if (cli_parse_double(a, v, 0.0, k == 14 ? 1000.0 : 0.5, &d)) return -1;
        *dst = (float)d;
        return 1;
    }
    }
}

int cd_learner_finish(const char *cmd, cd_learner *l, unsigned seed)
{
    if (!l->train_seed_given) l->mlp.seed = l->trees.seed = seed;
    if (l->type == CD_MODEL_MLP && l->tree_opts) {
        cli_err("%s: --tree-* options need --model-type trees or ensemble", cmd);
        return -1;
    }
    cm_train_config d = cm_train_config_default();
    const cm_train_config *m = &l->mlp;
    if (l->type == CD_MODEL_TREES &&
        (m->n_hidden != d.n_hidden || m->epochs != d.epochs || m->l2 != d.l2 ||
         m->label_smoothing != d.label_smoothing || m->hard_negative != d.hard_negative)) {
        cli_err("%s: --hidden, --epochs, --l2, --label-smoothing and --hard-negative are network "
                "settings; with --model-type trees use the --tree-* options",
                cmd);
        return -1;
    }
    return 0;
}
