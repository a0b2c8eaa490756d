/* SPDX-License-Identifier: MIT */
/* Replays the fuzz corpus (tests/fuzz/corpus/<target>/, seeds and the crashers fuzzing
 * found) through the same harness code the libFuzzer targets run (tests/fuzz/fuzz.h), inside
 * ordinary ctest, as libsndfile's standalone engine does: every file through its own harness
 * and through the other four. A harness aborts on a broken invariant; under make check-asan
 * the sanitizers watch as under make fuzz. A missing or empty corpus fails the test. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz.h"
#include "testutil.h"

static const struct {
    const char *dir;
    int (*fn)(const uint8_t *, size_t);
} targets[] = {
    {"model", cm_fuzz_model},     {"labels", cm_fuzz_labels}, {"manifest", cm_fuzz_manifest},
    {"options", cm_fuzz_options}, {"reader", cm_fuzz_reader},
};
enum { N_TARGETS = sizeof targets / sizeof targets[0] };

START_TEST(replay)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tu_src("tests/fuzz/corpus/"));
    strncat(dir, targets[_i].dir, sizeof dir - strlen(dir) - 1);
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
        ck_assert_msg(feof(f), "%s: larger than the replay buffer", path);
        fclose(f);
        for (int k = 0; k < N_TARGETS; k++) targets[(_i + k) % N_TARGETS].fn(buf, n);
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
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, replay, 0, N_TARGETS);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
