/* SPDX-License-Identifier: MIT */
/* Check suite for cm_ring, the SPSC ring between the PortAudio callback and the analysis
 * worker: API ranges, wrap-around with every chunk size, and a two-thread stress test that
 * `make check-tsan` runs under ThreadSanitizer. The stress producer writes a counter
 * sequence in seeded random chunk sizes (as the callback does: never waits, counts what
 * did not fit), the consumer reads through the zero-copy regions in other random sizes and
 * checks every sample it sees; any ordering bug shows up as a wrong value or a TSan race. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crymeter/ring.h"
#include "testutil.h"

START_TEST(test_round_capacity)
{
    ck_assert_uint_eq(cm_ring_round_capacity(0), 1);
    ck_assert_uint_eq(cm_ring_round_capacity(1), 1);
    ck_assert_uint_eq(cm_ring_round_capacity(3), 4);
    ck_assert_uint_eq(cm_ring_round_capacity(96000), 131072);
    ck_assert_uint_eq(cm_ring_round_capacity(131072), 131072);
    ck_assert_uint_eq(cm_ring_round_capacity(SIZE_MAX), 0);
}
END_TEST

/* API sweep: cap_frames and channels at, inside and outside their ranges. */
static const struct {
    size_t cap;
    unsigned ch;
    cm_status want;
} init_cases[] = {
    {0, 1, CM_E_RANGE},  {1, 1, CM_E_RANGE},  {2, 1, CM_OK},     {3, 1, CM_E_RANGE},
    {6, 1, CM_E_RANGE},  {1024, 0, CM_E_RANGE}, {1024, 1, CM_OK}, {1024, 64, CM_OK},
    {1024, 65, CM_E_RANGE},
};

START_TEST(test_init_ranges)
{
    static float mem[1024 * 64];
    cm_ring r;
    ck_assert_int_eq(cm_ring_init(&r, mem, init_cases[_i].cap, init_cases[_i].ch),
                     init_cases[_i].want);
}
END_TEST

/* Fill, drain and wrap with chunk sizes from 1 to past the capacity; the data read must be
 * the data written, frame for frame, and the free space must add up at every step. */
static const size_t chunk_sizes[] = {1, 3, 7, 15, 16, 17, 31, 63, 64, 65, 100};

START_TEST(test_wrap_chunks)
{
    enum { CAP = 64, CH = 3, TOTAL = 5000 };
    static float mem[CAP * CH];
    cm_ring r;
    ck_assert_int_eq(cm_ring_init(&r, mem, CAP, CH), CM_OK);
    size_t wn = chunk_sizes[_i];
    size_t rn = chunk_sizes[(_i + 4) % (sizeof chunk_sizes / sizeof chunk_sizes[0])];
    float *src = malloc(sizeof(float) * CH * (wn > CAP ? wn : CAP));
    ck_assert_ptr_nonnull(src);
    size_t next_w = 0, next_r = 0;
    while (next_r < TOTAL) {
        size_t want = wn;
        if (next_w + want > TOTAL) want = TOTAL - next_w;
        for (size_t i = 0; i < want; i++)
            for (size_t c = 0; c < CH; c++) src[i * CH + c] = (float)((next_w + i) * CH + c);
        size_t space = cm_ring_write_space(&r);
        size_t got = cm_ring_write(&r, src, want);
        ck_assert_uint_eq(got, want < space ? want : space);
        next_w += got;
        ck_assert_uint_eq(cm_ring_read_space(&r) + cm_ring_write_space(&r), CAP);

        const float *p1, *p2;
        size_t n1, n2;
        size_t n = cm_ring_read_regions(&r, rn, &p1, &n1, &p2, &n2);
        ck_assert_uint_eq(n, n1 + n2);
        for (size_t i = 0; i < n; i++) {
            const float *f = i < n1 ? p1 + i * CH : p2 + (i - n1) * CH;
            for (size_t c = 0; c < CH; c++)
                ck_assert_float_eq(f[c], (float)((next_r + i) * CH + c));
        }
        cm_ring_consume(&r, n);
        next_r += n;
    }
    ck_assert_uint_eq(next_w, TOTAL);
    ck_assert_uint_eq(cm_ring_read_space(&r), 0);
    free(src);
}
END_TEST

START_TEST(test_full_and_empty)
{
    static float mem[8];
    float in[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    cm_ring r;
    ck_assert_int_eq(cm_ring_init(&r, mem, 8, 1), CM_OK);
    const float *p1, *p2;
    size_t n1, n2;
    ck_assert_uint_eq(cm_ring_read_regions(&r, 4, &p1, &n1, &p2, &n2), 0);
    ck_assert_ptr_null(p1);
    ck_assert_ptr_null(p2);
    ck_assert_uint_eq(cm_ring_write(&r, in, 10), 8); /* two frames do not fit */
    ck_assert_uint_eq(cm_ring_write(&r, in, 1), 0);
    ck_assert_uint_eq(cm_ring_read_regions(&r, 100, &p1, &n1, &p2, &n2), 8);
    ck_assert_uint_eq(n1, 8);
    ck_assert_float_eq(p1[7], 8);
    cm_ring_consume(&r, 8);
    cm_ring_reset(&r);
    ck_assert_uint_eq(cm_ring_write_space(&r), 8);
}
END_TEST

/* ---- two-thread stress ---------------------------------------------------------------- */

/* Small capacity so the ring wraps and fills constantly; 2 channels so frames are checked
 * whole. 400k frames take well under a second natively and a few seconds under TSan. */
enum { ST_CAP = 256, ST_CH = 2, ST_TOTAL = 400000 };

typedef struct {
    cm_ring ring;
    float mem[ST_CAP * ST_CH];
    uint64_t seed;
    int lossy;                 /* 1: producer never waits, counts drops (the callback) */
    _Atomic int producer_done;
    _Atomic size_t dropped;
    size_t consumed;           /* consumer only */
    size_t bad;                /* consumer only: frames out of sequence */
} stress;

static void nap(void)
{
    /* 50 us: the worker's wait is a sleep too, never a spin. */
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
}

static void *producer(void *arg)
{
    stress *s = arg;
    uint64_t rng = s->seed;
    float buf[97 * ST_CH];
    size_t next = 0;
    while (next < ST_TOTAL) {
        size_t n = 1 + (size_t)(tu_rand(&rng) % 97);
        if (next + n > ST_TOTAL) n = ST_TOTAL - next;
        for (size_t i = 0; i < n; i++) {
            buf[i * ST_CH] = (float)(next + i);
            buf[i * ST_CH + 1] = -(float)(next + i);
        }
        size_t w = cm_ring_write(&s->ring, buf, n);
        if (s->lossy) {
            /* The frames that did not fit are gone; the sequence skips them. */
            atomic_fetch_add_explicit(&s->dropped, n - w, memory_order_relaxed);
            next += n;
        } else {
            next += w;
            if (w < n) sched_yield();
        }
        if (tu_rand(&rng) % 64 == 0) nap();
    }
    atomic_store_explicit(&s->producer_done, 1, memory_order_release);
    return NULL;
}

static void *consumer(void *arg)
{
    stress *s = arg;
    uint64_t rng = s->seed ^ 0x9e3779b97f4a7c15ULL;
    long long last = -1;
    for (;;) {
        int done = atomic_load_explicit(&s->producer_done, memory_order_acquire);
        const float *p1, *p2;
        size_t n1, n2;
        size_t want = 1 + (size_t)(tu_rand(&rng) % 300);
        size_t n = cm_ring_read_regions(&s->ring, want, &p1, &n1, &p2, &n2);
        for (size_t i = 0; i < n; i++) {
            const float *f = i < n1 ? p1 + i * ST_CH : p2 + (i - n1) * ST_CH;
            long long v = (long long)f[0];
            /* Lossless: exactly last+1. Lossy: strictly increasing (drops leave gaps). */
            int ok = s->lossy ? v > last : v == last + 1;
            if (!ok || f[1] != -f[0]) s->bad++;
            last = v;
        }
        cm_ring_consume(&s->ring, n);
        s->consumed += n;
        if (n == 0) {
            if (done && cm_ring_read_space(&s->ring) == 0) break;
            nap();
        }
    }
    return NULL;
}

static void run_stress(int lossy)
{
    stress *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(cm_ring_init(&s->ring, s->mem, ST_CAP, ST_CH), CM_OK);
    s->seed = tu_seed() + (uint64_t)lossy;
    s->lossy = lossy;
    atomic_init(&s->producer_done, 0);
    atomic_init(&s->dropped, 0);
    pthread_t pt, ct;
    ck_assert_int_eq(pthread_create(&ct, NULL, consumer, s), 0);
    ck_assert_int_eq(pthread_create(&pt, NULL, producer, s), 0);
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    size_t dropped = atomic_load(&s->dropped);
    ck_assert_msg(s->bad == 0, "%zu frames out of sequence (seed 0x%llx)", s->bad,
                  (unsigned long long)tu_seed());
    /* Every frame accounted for: read or counted as dropped. */
    ck_assert_uint_eq(s->consumed + dropped, ST_TOTAL);
    if (!lossy) ck_assert_uint_eq(dropped, 0);
    free(s);
}

START_TEST(test_stress_lossless) { run_stress(0); }
END_TEST

START_TEST(test_stress_lossy) { run_stress(1); }
END_TEST

static Suite *ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_round_capacity);
    tcase_add_loop_test(tc, test_init_ranges, 0, (int)(sizeof init_cases / sizeof init_cases[0]));
    tcase_add_loop_test(tc, test_wrap_chunks, 0,
                        (int)(sizeof chunk_sizes / sizeof chunk_sizes[0]));
    tcase_add_test(tc, test_full_and_empty);
    suite_add_tcase(s, tc);
    TCase *st = tcase_create("stress");
    tcase_set_timeout(st, 120);
    tcase_add_test(st, test_stress_lossless);
    tcase_add_test(st, test_stress_lossy);
    suite_add_tcase(s, st);
    return s;
}

int main(void)
{
    tu_seed();
    SRunner *sr = srunner_create(ring_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
