/* SPDX-License-Identifier: MIT */
/* The command-line options calibrate and evaluate share for the detector settings and the
 * learner (learn/calib_data.h has the settings). CLI: the parsers print their messages
 * through cli_err, which names the config file and line an option came from. */
#ifndef CM_LEARN_OPTS_H
#define CM_LEARN_OPTS_H

#include "learn/calib_data.h"

/* Parses a detector option a with its value v (every one takes a value): --smooth,
 * --min-episode, --merge-gap-cry, --onset-threshold, --onset-max, --onset-gap,
 * --min-cry-windows, --confirm K/N and --f1-slack (into cd_f1_slack). Returns 1 when a is
 * one (v consumed), 0 when it is not, -1 after a message naming cmd. */
int cd_detector_option(const char *cmd, const char *a, const char *v, cd_detector_opts *d);
/* Parses a learner option a with its value v (every one takes a value): --model-type
 * mlp|trees|ensemble, --train-seed N, --tree-depth, --tree-rounds, --tree-lr, --tree-min-leaf,
 * --tree-l2, --tree-subsample, --tree-colsample, --tree-bins, and the network's --hidden,
 * --epochs, --l2, --label-smoothing, --hard-negative. Returns 1 when a is one (v consumed),
 * 0 when it is not, -1 after a message naming cmd. */
int cd_learner_option(const char *cmd, const char *a, const char *v, cd_learner *l);
/* After all options: the training seed becomes seed unless --train-seed was given; then the
 * usage checks, -1 after a message (tree options with mlp; the network settings differ from
 * their defaults with trees; an ensemble takes both). */
int cd_learner_finish(const char *cmd, cd_learner *l, unsigned seed);
/* The learner's help lines, shared by calibrate and evaluate. */
extern const char cd_learner_help[];

#endif
