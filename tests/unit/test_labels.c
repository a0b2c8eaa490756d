/* SPDX-License-Identifier: MIT */
/* Manifest and Audacity label parsers: good input, and bad input named by line. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/learn/metrics.h"
#include "testutil.h"

START_TEST(audacity_good)
{
    const char *t = "0.5\t2.25\tcry\r\n\\\t100\t2000\n\n3\t4.5\tspeech here\n7 8 cry\n";
    cm_label *l = NULL;
    size_t n = 0;
    cm_diag why;
    ck_assert_int_eq(cm_labels_parse(t, strlen(t), &l, &n, &why), CM_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq(l[0].start_s, 0.5);
    ck_assert_double_eq(l[0].end_s, 2.25);
    ck_assert_str_eq(l[0].text, "cry");
    ck_assert_str_eq(l[1].text, "speech here");
    ck_assert_uint_eq(l[1].line, 4);
    ck_assert_str_eq(l[2].text, "cry");
    free(l);
    ck_assert_int_eq(cm_labels_parse("", 0, &l, &n, &why), CM_OK);
    ck_assert_uint_eq(n, 0);
    free(l);
}
END_TEST

static const struct {
    const char *text, *expect;
} bad_labels[] = {
    {"1\t2\tcry\nx\t3\tcry\n", "line 2"},
    {"1\t2\tcry\n3\t2\tcry\n", "line 2: end 2 before start 3"},
    {"1\t2\t\n", "line 1: empty label"},
    {"1\tnan\tcry\n", "line 1: end time"},
    {"-1\t2\tcry\n", "line 1"},
    {"1\n", "line 1"},
    {"1\t2\tabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij\n",
     "longer than"},
};

START_TEST(audacity_bad)
{
    cm_label *l = (cm_label *)1;
    size_t n = 9;
    cm_diag why;
    const char *t = bad_labels[_i].text;
    ck_assert_int_eq(cm_labels_parse(t, strlen(t), &l, &n, &why), CM_E_FORMAT);
    ck_assert_ptr_null(l);
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(strstr(why.msg, bad_labels[_i].expect) != NULL, "'%s' lacks '%s'", why.msg,
                  bad_labels[_i].expect);
}
END_TEST

START_TEST(manifest_shared_format)
{
    const char *t =
        "path,label,group,duration_s,sample_rate,source,source_repo,licence,original_path,note\n"
        "a/x.flac,cry_infant,fam1,7,8000,dac,r,ODbL,o/x.wav,\"reason=hungry, loud; ok\"\n"
        "a/y.flac,other,esc,5,16000,esc10,r,CC,\"esc/009 - Rooster/1.ogg\",\"ESC-10 class, fold 1\"\r\n"
        "a/z.flac,other,dn,2,16000,,r,CC,dataset/moaning/1.wav,class=moaning\n";
    cm_manifest *m = NULL;
    cm_diag why;
    ck_assert_msg(cm_manifest_parse(t, strlen(t), &m, &why) == CM_OK, "%s", why.msg);
    ck_assert_uint_eq(m->n, 3);
    ck_assert_str_eq(m->rows[0].path, "a/x.flac");
    ck_assert_str_eq(m->rows[0].group, "fam1");
    ck_assert_str_eq(m->rows[0].source, "dac"); /* not source_repo's "r" */
    ck_assert_str_eq(m->rows[1].source, "esc10");
    ck_assert_str_eq(m->rows[2].source, "");
    ck_assert(strstr(m->rows[0].hint, "reason=hungry, loud") != NULL);
    ck_assert_uint_eq(m->rows[1].line, 3);
    cm_class c;
    ck_assert_int_eq(cm_label_to_class(m->rows[0].label, m->rows[0].hint, &c), 0);
    ck_assert_int_eq(c, CM_CLASS_CRY);
    ck_assert_int_eq(cm_label_to_class(m->rows[1].label, m->rows[1].hint, &c), 0);
    ck_assert_int_eq(c, CM_CLASS_BACKGROUND); /* rooster */
    ck_assert_int_eq(cm_label_to_class(m->rows[2].label, m->rows[2].hint, &c), 0);
    ck_assert_int_eq(c, CM_CLASS_VOCAL); /* moaning */
    cm_manifest_free(m);
}
END_TEST

START_TEST(manifest_plain)
{
    const char *t = "x.wav,cry,g1\ny.wav,speech\n\n";
    cm_manifest *m = NULL;
    cm_diag why;
    ck_assert_int_eq(cm_manifest_parse(t, strlen(t), &m, &why), CM_OK);
    ck_assert_uint_eq(m->n, 2);
    ck_assert_str_eq(m->rows[0].group, "g1");
    ck_assert_str_eq(m->rows[1].group, "");
    ck_assert_str_eq(m->rows[0].source, ""); /* no header: no source column */
    cm_manifest_free(m);
    cm_class c;
    ck_assert_int_eq(cm_label_to_class("bogus", NULL, &c), -1);
    ck_assert_int_eq(cm_label_to_class("Laugh", NULL, &c), 0);
    ck_assert_int_eq(c, CM_CLASS_VOCAL);
    ck_assert_int_eq(cm_label_to_class("noise", NULL, &c), 0);
    ck_assert_int_eq(c, CM_CLASS_BACKGROUND);
    /* The shared data's second wave. */
    static const char *const bg[] = {"siren", "alarm", "bell", "home_noncry", "animal", "bird"};
    for (size_t i = 0; i < sizeof bg / sizeof bg[0]; i++) {
        ck_assert_int_eq(cm_label_to_class(bg[i], NULL, &c), 0);
        ck_assert_int_eq(c, CM_CLASS_BACKGROUND);
    }
    ck_assert_int_eq(cm_label_to_class("child_voice", NULL, &c), 0);
    ck_assert_int_eq(c, CM_CLASS_VOCAL);
    ck_assert_int_eq(cm_label_to_class("singing", NULL, &c), 0);
    ck_assert_int_eq(c, CM_CLASS_VOCAL);
    /* The shared data's third wave: infant and toddler sounds are the confusers, not crying. */
    static const char *const infant[] = {"laugh_infant", "laugh_child", "babble", "squeal"};
    for (size_t i = 0; i < sizeof infant / sizeof infant[0]; i++) {
        c = CM_CLASS_CRY;
        ck_assert_int_eq(cm_label_to_class(infant[i], NULL, &c), 0);
        ck_assert_int_eq(c, CM_CLASS_VOCAL);
    }
}
END_TEST

static const struct {
    const char *text, *expect;
} bad_manifests[] = {
    {"path,group\nx,1\n", "line 1: header lacks the 'label' column"},
    {"path,label\nx.wav\n", "line 2: 1 column, expected at least 2"},
    {"path,label\nx.wav,\n", "line 2: empty label"},
    {"path,label\n,cry\n", "line 2: empty path"},
    {"path,label\n\"x.wav,cry\n", "line 2: unterminated"},
    {"path,label\nx\"y,cry\n", "line 2: stray"},
    {"path,label\n", "no rows"},
    {"", "no rows"},
};

START_TEST(manifest_bad)
{
    cm_manifest *m = (cm_manifest *)1;
    cm_diag why;
    const char *t = bad_manifests[_i].text;
    ck_assert_int_eq(cm_manifest_parse(t, strlen(t), &m, &why), CM_E_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(why.msg, bad_manifests[_i].expect) != NULL, "'%s' lacks '%s'", why.msg,
                  bad_manifests[_i].expect);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("labels");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, audacity_good);
    tcase_add_loop_test(tc, audacity_bad, 0, (int)(sizeof bad_labels / sizeof bad_labels[0]));
    tcase_add_test(tc, manifest_shared_format);
    tcase_add_test(tc, manifest_plain);
    tcase_add_loop_test(tc, manifest_bad, 0, (int)(sizeof bad_manifests / sizeof bad_manifests[0]));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
