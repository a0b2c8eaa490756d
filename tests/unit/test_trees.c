/* SPDX-License-Identifier: MIT */
/* Boosted trees: training determinism for a seed, a known-answer split on a hand-made set,
 * inference (heap order, NaN to the right), model files with trees (round trip, every kind
 * of damage named, old network files untouched), and ensembles of a network and trees (their
 * mean, round trip, either half missing named). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/classifier.h"
#include "crymeter/learn/train.h"
#include "testutil.h"

/* Three Gaussian blobs in feature space, one per class (seeded), as in test_train.c. */
static void make_data(size_t n, float *x, uint8_t *y, float *w, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % 3);
        w[i] = (float)(0.5 + tu_uniform(&s));
        for (unsigned j = 0; j < CM_WF_DIM; j++)
            x[i * CM_WF_DIM + j] = (float)(tu_gauss(&s) + (j % 3 == y[i] ? 2.0 : 0.0));
    }
}

static cm_trees *train(const float *x, const uint8_t *y, const float *w, size_t n,
                       const cm_trees_config *cfg)
{
    cm_train_set set = {n, x, y, w};
    cm_trees *t = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_train_trees(&set, cfg, &t, &why) == CM_OK, "%s", why.msg);
    return t;
}

static int same(const cm_trees *a, const cm_trees *b)
{
    size_t nt = cm_trees_n_trees(a), ni = cm_trees_n_internal(a), nl = cm_trees_n_leaves(a);
    return a->depth == b->depth && a->n_rounds == b->n_rounds &&
           !memcmp(a->base, b->base, sizeof a->base) &&
           !memcmp(a->feature, b->feature, nt * ni * sizeof *a->feature) &&
           !memcmp(a->threshold, b->threshold, nt * ni * sizeof *a->threshold) &&
           !memcmp(a->leaf, b->leaf, nt * nl * sizeof *a->leaf);
}

START_TEST(deterministic)
{
    const size_t n = 900;
    float *x = malloc(n * CM_WF_DIM * sizeof *x), *w = malloc(n * sizeof *w);
    uint8_t *y = malloc(n);
    make_data(n, x, y, w, tu_seed());
    cm_trees_config c = cm_trees_config_default();
    c.rounds = 30;
    c.min_leaf = 5;
    /* Without subsampling the seed is unused: any two seeds give the same trees. */
    cm_trees *a = train(x, y, w, n, &c);
    c.seed = 99;
    cm_trees *b = train(x, y, w, n, &c);
    ck_assert_msg(same(a, b), "no subsampling: the seed changed the trees");
    /* With row and feature subsampling: same seed, same trees; another seed, other trees. */
    c.subsample = 0.7f, c.colsample = 0.5f, c.seed = 7;
    cm_trees *s1 = train(x, y, w, n, &c), *s2 = train(x, y, w, n, &c);
    c.seed = 8;
    cm_trees *s3 = train(x, y, w, n, &c);
    ck_assert_msg(same(s1, s2), "same seed, same data: trees differ");
    ck_assert_msg(!same(s1, s3), "different seeds gave identical subsampled trees");
    /* It learns: training accuracy on separable blobs. */
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        float p[CM_NET_CLASSES];
        cm_trees_forward(a, x + i * CM_WF_DIM, p);
        unsigned best = 0;
        for (unsigned k = 1; k < CM_NET_CLASSES; k++)
            if (p[k] > p[best]) best = k;
        ok += best == y[i];
        ck_assert_float_eq_tol(p[0] + p[1] + p[2], 1.f, 1e-5f);
    }
    ck_assert_msg(ok > n * 95 / 100, "accuracy %zu/%zu", ok, n);
    cm_trees_free(a), cm_trees_free(b), cm_trees_free(s1), cm_trees_free(s2), cm_trees_free(s3);
    free(x), free(y), free(w);
}
END_TEST

/* 40 windows: feature 0 is 0..39, the class is cry from 20 on, background below; every
 * other feature is constant (one bin: never split on). One round of depth-1 stumps with
 * learning rate 1 and no L2 is one Newton step from the class-share logits:
 * p = 0.5 for both classes (vocal has share 0: base log(1e-6)), g = p - y = -+0.5, h = 0.25,
 * so the cry tree splits feature 0 at the shortest decimal in [19, 20), 19.5, with leaves
 * -G/H = -(20 * 0.5) / (20 * 0.25) = -2 and +2; the background tree mirrors it. */
START_TEST(known_split)
{
    float x[40 * CM_WF_DIM];
    uint8_t y[40];
    for (size_t i = 0; i < 40; i++) {
        for (unsigned j = 0; j < CM_WF_DIM; j++) x[i * CM_WF_DIM + j] = 1.f;
        x[i * CM_WF_DIM] = (float)i;
        y[i] = i < 20 ? CM_CLASS_BACKGROUND : CM_CLASS_CRY;
    }
    cm_trees_config c = cm_trees_config_default();
    c.depth = 1, c.rounds = 1, c.learning_rate = 1.f, c.min_leaf = 1, c.l2 = 0.f;
    cm_trees *t = train(x, y, NULL, 40, &c);
    ck_assert_float_eq_tol(t->base[CM_CLASS_BACKGROUND], logf(0.5f), 1e-4f);
    ck_assert_float_eq_tol(t->base[CM_CLASS_VOCAL], logf(1e-6f), 1e-3f);
    const unsigned cry = CM_CLASS_CRY, bg = CM_CLASS_BACKGROUND;
    ck_assert_int_eq(t->feature[cry], 0);
    ck_assert_float_eq(t->threshold[cry], 19.5f);
    ck_assert_float_eq(t->leaf[2 * cry], -2.f);
    ck_assert_float_eq(t->leaf[2 * cry + 1], 2.f);
    ck_assert_int_eq(t->feature[bg], 0);
    ck_assert_float_eq(t->threshold[bg], 19.5f);
    ck_assert_float_eq(t->leaf[2 * bg], 2.f);
    ck_assert_float_eq(t->leaf[2 * bg + 1], -2.f);
    /* Scores: a window at 19 is background, at 20 cry, both with p = e^2 / (e^2 + e^-2). */
    float p[CM_NET_CLASSES];
    cm_trees_forward(t, x + 19 * CM_WF_DIM, p);
    ck_assert_float_eq_tol(p[bg], 1.f / (1.f + expf(-4.f)), 1e-5f);
    cm_trees_forward(t, x + 20 * CM_WF_DIM, p);
    ck_assert_float_eq_tol(p[cry], 1.f / (1.f + expf(-4.f)), 1e-5f);
    cm_trees_free(t);
    /* min_leaf 21 leaves no admissible split of 40 windows: every node says "no split". */
    c.min_leaf = 21;
    t = train(x, y, NULL, 40, &c);
    for (unsigned k = 0; k < CM_NET_CLASSES; k++) ck_assert_int_eq(t->feature[k], -1);
    ck_assert_float_eq(t->leaf[2 * cry + 1], 0.f); /* the right leaf is never reached */
    cm_trees_free(t);
}
END_TEST

START_TEST(forward_heap_order)
{
    /* Depth 2, one round; only the cry tree has leaves: root splits feature 3 at 0.5,
     * its left child feature 7 at -1, its right child does not split. */
    cm_trees *t = cm_trees_new(CM_WF_DIM, 2, 1);
    ck_assert_ptr_nonnull(t);
    size_t o = 2 * 3; /* the cry tree: 3 nodes per tree */
    t->feature[o] = 3, t->threshold[o] = 0.5f;
    t->feature[o + 1] = 7, t->threshold[o + 1] = -1.f;
    float *leaf = t->leaf + 2 * 4;
    leaf[0] = 1.f, leaf[1] = 2.f, leaf[2] = 3.f, leaf[3] = 4.f;
    float x[CM_WF_DIM] = {0}, p[CM_NET_CLASSES];
    const struct {
        float x3, x7, logit;
    } cases[] = {{0.5f, -1.f, 1.f}, {0.f, 0.f, 2.f}, {0.6f, 5.f, 3.f}, {NAN, -5.f, 3.f},
                 {0.f, NAN, 2.f}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        x[3] = cases[k].x3, x[7] = cases[k].x7;
        cm_trees_forward(t, x, p);
        float e = expf(cases[k].logit);
        ck_assert_msg(fabsf(p[CM_CLASS_CRY] - e / (e + 2.f)) < 1e-6f, "case %zu: p %g", k,
                      (double)p[CM_CLASS_CRY]);
    }
    cm_trees_free(t);
}
END_TEST

static cm_detect_params params(void)
{
    cm_detect_params p;
    memset(&p, 0, sizeof p);
    p.threshold[CM_CLASS_VOCAL] = 0.5f;
    p.threshold[CM_CLASS_CRY] = 0.75f;
    p.threshold[CM_CLASS_SOB] = 1.f;
    p.merge_gap_s[CM_CLASS_CRY] = 5.f;
    p.min_episode_s = 1.f;
    p.confirm_k = p.confirm_n = 1;
    return p;
}

/* A small hand-made tree model: depth 2, 2 rounds (6 trees), features and values chosen so
 * the damage fixtures below find unique text. */
static cm_model *small_model(void)
{
    cm_trees *t = cm_trees_new(CM_WF_DIM, 2, 2);
    ck_assert_ptr_nonnull(t);
    t->base[0] = -1.25f, t->base[1] = -0.5f, t->base[2] = -2.f;
    for (size_t k = 0; k < 6; k++) {
        for (size_t i = 0; i < 3; i++) {
            t->feature[k * 3 + i] = (int16_t)(i == 2 ? -1 : 10 * (int)i + (int)k);
            t->threshold[k * 3 + i] = (float)(0.25 * (double)(k + i) + 0.125);
        }
        for (size_t i = 0; i < 4; i++) t->leaf[k * 4 + i] = 0.0625f * (float)(k * 4 + i) - 0.5f;
    }
    cm_front_config fc = cm_front_config_default();
    cm_detect_params p = params();
    cm_model *m = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_model_create_trees(t, &fc, &p, 2, -80.f, "{\"note\":\"trees\"}", &m, &why) ==
                      CM_OK,
                  "%s", why.msg);
    cm_trees_free(t);
    return m;
}

START_TEST(model_round_trip)
{
    /* A trained model (thresholds and leaves as training writes them) and the small one. */
    cm_model *m;
    if (_i == 0) {
        m = small_model();
    } else {
        const size_t n = 300;
        float *x = malloc(n * CM_WF_DIM * sizeof *x), *w = malloc(n * sizeof *w);
        uint8_t *y = malloc(n);
        make_data(n, x, y, w, 5);
        cm_trees_config c = cm_trees_config_default();
        c.rounds = 20, c.depth = 4, c.min_leaf = 3;
        cm_trees *t = train(x, y, w, n, &c);
        cm_front_config fc = cm_front_config_default();
        cm_detect_params p = params();
        cm_diag why = {{0}};
        ck_assert_int_eq(cm_model_create_trees(t, &fc, &p, 2, -80.f, NULL, &m, &why), CM_OK);
        cm_trees_free(t);
        free(x), free(y), free(w);
    }
    ck_assert_ptr_null(cm_model_net(m));
    ck_assert_ptr_nonnull(cm_model_trees(m));
    char *js = cm_model_to_json(m);
    ck_assert_ptr_nonnull(js);
    ck_assert_ptr_nonnull(strstr(js, "\"classifier\":\t\"trees\""));
    ck_assert_ptr_nonnull(strstr(js, "\"format_version\":\t2"));
    cm_model *b = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_model_load_buffer(js, strlen(js), &b, &why) == CM_OK, "%s", why.msg);
    ck_assert_msg(same(cm_model_trees(m), cm_model_trees(b)), "trees changed on the round trip");
    char *js2 = cm_model_to_json(b);
    ck_assert_str_eq(js, js2);
    /* Same scores, bit for bit, through the model's own entry points. */
    uint64_t s = 3;
    for (int k = 0; k < 50; k++) {
        float x[CM_WF_DIM], pa[CM_NET_CLASSES], pb[CM_NET_CLASSES];
        for (unsigned j = 0; j < CM_WF_DIM; j++) x[j] = (float)(2 * tu_gauss(&s));
        cm_model_forward(m, x, pa);
        cm_model_forward(b, x, pb);
        ck_assert(!memcmp(pa, pb, sizeof pa));
    }
    ck_assert_uint_eq(cm_model_n_params(m), cm_model_n_params(b));
    free(js), free(js2);
    cm_model_destroy(m), cm_model_destroy(b);
}
END_TEST

/* Damage the small model's text in a named way; the loader must fail and name the field. */
static const struct {
    const char *find, *replace, *expect;
} damage[] = {
    {"\"feature\":[1,", "\"feature\":[80,", "trees[1].feature[0]=80: must be -1..55"},
    {"\"feature\":[2,", "\"feature\":[-2,", "trees[2].feature[0]=-2: must be -1..55"},
    {"\"feature\":[3,", "\"feature\":[3.5,", "trees[3].feature[0]: expected a whole number"},
    {"\"feature\":[4,", "\"feature\":[\"a\",", "trees[4].feature[0]: expected a whole number"},
    {"\"feature\":[0,10,-1]", "\"feature\":[0,10]", "trees[0].feature: 2 values, expected 3"},
    {"\"threshold\":[0.125,", "\"threshold\":[1e999,", "trees[0].threshold[0]: not a finite"},
    {"\"threshold\":[0.375,", "\"threshold\":[1e39,", "trees[1].threshold[0]: not a finite"},
    {"\"leaf\":[-0.5,", "\"leaf\":[-1e999,", "trees[0].leaf[0]: not a finite number"},
    {"\"leaf\":[-0.25,", "\"leaf\":[", "trees[1].leaf: 3 values, expected 4"},
    {"\"leaf\":[-0.25,", "\"leaf\":[null,", "trees[1].leaf[0]: not a finite number"},
    {"\"leaf\":[0,", "\"leaf\":{}, \"x\":[0,", "trees[2].leaf: expected an array"},
    {"\"depth\":\t2", "\"depth\":\t7", "booster.depth=7: must be 1..6"},
    {"\"depth\":\t2", "\"depth\":\t3", "trees[0].feature: 3 values, expected 7"},
    {"\"n_rounds\":\t2", "\"n_rounds\":\t3", "trees: 6 trees, expected 9"},
    {"\"n_rounds\":\t2", "\"n_rounds\":\t0", "booster.n_rounds=0"},
    {"\"n_in\":\t56", "\"n_in\":\t55", "booster.n_in=55"},
    {"\"base\":\t[", "\"base\":\t[1e999, ", "booster.base"},
    {"\"classifier\":\t\"trees\"", "\"classifier\":\t\"forest\"", "classifier: expected"},
    {"\"classifier\":\t\"trees\"", "\"classifier\":\t\"network\"", "trees: present but"},
    {"\"classifier\":\t\"trees\",", "", "classifier: missing"},
    {"\"format_version\":\t2", "\"format_version\":\t1", "classifier: needs format_version 2"},
    {"\"format_version\":\t2", "\"format_version\":\t4", "format_version=4: expected 1, 2 or 3"},
    {"\"format_version\":\t2", "\"format_version\":\t3", "home: missing"},
    {"\"booster\":", "\"network\": {}, \"booster\":", "network: present but"},
    {"\"booster\":", "\"boosterX\":", "booster: missing"},
    {"\"trees\":\t[", "\"trees\":\t{}, \"treesX\":\t[", "trees: expected an array"},
    {"{\"feature\":[0,", "7, {\"feature\":[0,", "trees: 7 trees, expected 6"},
};

START_TEST(damaged)
{
    cm_model *m = small_model();
    char *js = cm_model_to_json(m);
    cm_model_destroy(m);
    char *bad = tu_replace_first(js, damage[_i].find, damage[_i].replace);
    ck_assert_msg(bad != NULL, "fixture '%s' not found in\n%s", damage[_i].find, js);
    cm_model *b = (cm_model *)1;
    cm_diag why = {{0}};
    ck_assert_int_ne(cm_model_load_buffer(bad, strlen(bad), &b, &why), CM_OK);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(why.msg, damage[_i].expect) != NULL, "case %d: '%s' lacks '%s'", _i,
                  why.msg, damage[_i].expect);
    free(bad), free(js);
}
END_TEST

START_TEST(truncated)
{
    cm_model *m = small_model();
    char *js = cm_model_to_json(m);
    cm_model_destroy(m);
    size_t n = strlen(js);
    for (size_t k = 0; k < n; k++) { /* every prefix fails cleanly */
        cm_model *b = (cm_model *)1;
        cm_diag why;
        ck_assert_int_ne(cm_model_load_buffer(js, k, &b, &why), CM_OK);
        ck_assert_ptr_null(b);
    }
    free(js);
}
END_TEST

START_TEST(bad_config)
{
    float x[4 * CM_WF_DIM] = {0};
    uint8_t y[4] = {0, 1, 2, 0};
    cm_train_set set = {4, x, y, NULL};
    cm_trees_config c = cm_trees_config_default();
    cm_trees *t = (cm_trees *)1;
    cm_diag why = {{0}};
    c.depth = 7;
    ck_assert_int_eq(cm_train_trees(&set, &c, &t, &why), CM_E_RANGE);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(why.msg, "depth=7"));
    c = cm_trees_config_default();
    c.max_bins = 300;
    ck_assert_int_eq(cm_train_trees(&set, &c, &t, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "max_bins=300"));
    c = cm_trees_config_default();
    c.subsample = 0.f;
    ck_assert_int_eq(cm_train_trees(&set, &c, &t, &why), CM_E_RANGE);
    c = cm_trees_config_default();
    y[3] = 3;
    ck_assert_int_eq(cm_train_trees(&set, &c, &t, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "example 3"));
}
END_TEST

/* A small seeded network (hidden tanh layer of 5) for the ensemble tests. */
static cm_net *small_net(uint64_t seed)
{
    cm_net *n = cm_net_new(CM_WF_DIM, 5);
    ck_assert_ptr_nonnull(n);
    uint64_t s = seed;
    for (unsigned i = 0; i < CM_WF_DIM; i++) {
        n->mean[i] = (float)tu_gauss(&s);
        n->std[i] = (float)(0.5 + tu_uniform(&s));
    }
    for (size_t i = 0; i < 5u * CM_WF_DIM; i++) n->w1[i] = (float)(0.3 * tu_gauss(&s));
    for (size_t i = 0; i < 5u * CM_NET_CLASSES; i++) n->w2[i] = (float)tu_gauss(&s);
    return n;
}

START_TEST(ensemble)
{
    cm_model *tm = small_model(); /* the trees' half, taken from a trees model */
    cm_net *net = small_net(11);
    cm_front_config fc = cm_front_config_default();
    cm_detect_params p = params();
    cm_model *m = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_model_create_ensemble(net, NULL, &fc, &p, 2, -80.f, NULL, &m, &why),
                     CM_E_INVAL);
    ck_assert_ptr_null(m);
    ck_assert_msg(cm_model_create_ensemble(net, cm_model_trees(tm), &fc, &p, 2, -80.f, NULL, &m,
                                           &why) == CM_OK,
                  "%s", why.msg);
    ck_assert_ptr_nonnull(cm_model_net(m));
    ck_assert_ptr_nonnull(cm_model_trees(m));
    ck_assert_uint_eq(cm_model_n_params(m),
                      cm_net_n_params(net) + cm_model_n_params(tm));
    /* Each class probability is the mean of the two halves', exactly. */
    uint64_t s = 5;
    int differ = 0;
    for (int k = 0; k < 200; k++) {
        float x[CM_WF_DIM], pe[CM_NET_CLASSES], pn[CM_NET_CLASSES], pt[CM_NET_CLASSES];
        for (unsigned j = 0; j < CM_WF_DIM; j++) x[j] = (float)(2 * tu_gauss(&s));
        cm_model_forward(m, x, pe);
        cm_net_forward(net, x, pn);
        cm_trees_forward(cm_model_trees(tm), x, pt);
        for (unsigned c = 0; c < CM_NET_CLASSES; c++) {
            ck_assert(pe[c] == 0.5f * (pt[c] + pn[c]));
            differ |= fabsf(pn[c] - pt[c]) > 0.05f; /* the halves do disagree somewhere */
        }
    }
    ck_assert(differ);
    /* Round trip: version 2, both halves, the same text and the same bits after loading. */
    char *js = cm_model_to_json(m);
    ck_assert_ptr_nonnull(strstr(js, "\"classifier\":\t\"ensemble\""));
    ck_assert_ptr_nonnull(strstr(js, "\"format_version\":\t2"));
    cm_model *b = NULL;
    ck_assert_msg(cm_model_load_buffer(js, strlen(js), &b, &why) == CM_OK, "%s", why.msg);
    ck_assert(same(cm_model_trees(m), cm_model_trees(b)));
    char *js2 = cm_model_to_json(b);
    ck_assert_str_eq(js, js2);
    float x[CM_WF_DIM] = {0}, pa[CM_NET_CLASSES], pb[CM_NET_CLASSES];
    x[3] = 0.7f;
    cm_model_forward(m, x, pa);
    cm_model_forward(b, x, pb);
    ck_assert(!memcmp(pa, pb, sizeof pa));
    /* Either half missing is named. */
    static const struct {
        const char *find, *replace, *expect;
    } cut[] = {{"\"network\":", "\"networkX\":", "network: missing"},
               {"\"booster\":", "\"boosterX\":", "booster: missing"},
               {"\"classifier\":\t\"ensemble\"", "\"classifier\":\t\"trees\"",
                "network: present but classifier is \"trees\""}};
    for (size_t k = 0; k < sizeof cut / sizeof cut[0]; k++) {
        char *bad = tu_replace_first(js, cut[k].find, cut[k].replace);
        ck_assert_ptr_nonnull(bad);
        cm_model *c = (cm_model *)1;
        ck_assert_int_ne(cm_model_load_buffer(bad, strlen(bad), &c, &why), CM_OK);
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(why.msg, cut[k].expect) != NULL, "cut %zu: '%s'", k, why.msg);
        free(bad);
    }
    free(js), free(js2);
    cm_net_free(net);
    cm_model_destroy(m), cm_model_destroy(b), cm_model_destroy(tm);
}
END_TEST

START_TEST(default_model_loads)
{
    /* The compiled-in model loads whichever classifier it holds, and scores. */
    cm_model *m = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_model_load_default(&m, &why) == CM_OK, "%s", why.msg);
    ck_assert(cm_model_net(m) != NULL || cm_model_trees(m) != NULL);
    float x[CM_WF_DIM] = {0}, p[CM_NET_CLASSES];
    cm_model_forward(m, x, p);
    ck_assert_float_eq_tol(p[0] + p[1] + p[2], 1.f, 1e-5f);
    cm_model_destroy(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trees");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, known_split);
    tcase_add_test(tc, forward_heap_order);
    tcase_add_loop_test(tc, model_round_trip, 0, 2);
    tcase_add_loop_test(tc, damaged, 0, (int)(sizeof damage / sizeof damage[0]));
    tcase_add_test(tc, truncated);
    tcase_add_test(tc, bad_config);
    tcase_add_test(tc, ensemble);
    tcase_add_test(tc, default_model_loads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    tu_tmpdir_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
