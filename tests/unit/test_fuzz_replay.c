/* SPDX-License-Identifier: MIT */
/* Replays the fuzz corpus (tests/fuzz/corpus/{model,labels,manifest}/) through the parsers
 * inside ordinary ctest, as libsndfile's standalone engine does: every file through its own
 * parser and through the other two. A missing or empty corpus fails the test. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_parsers.c"
#include "testutil.h"

static const char *const dirs[3] = {"model", "labels", "manifest"};

START_TEST(replay)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tu_src("tests/fuzz/corpus/"));
    strncat(dir, dirs[_i], sizeof dir - strlen(dir) - 1);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "corpus %s missing", dir);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "%s", path);
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        for (int k = 0; k < 3; k++) cm_fuzz_one((_i + k) % 3, buf, n);
        files++;
    }
    closedir(d);
    ck_assert_msg(files > 0, "corpus %s is empty", dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fuzz_replay");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, replay, 0, 3);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
