/* SPDX-License-Identifier: MIT */
/* The seeded generator behind training, augmentation and mixtures (xorshift64*, Vigna 2016,
 * "An experimental exploration of Marsaglia's xorshift generators, scrambled"): a run repeats
 * bit for bit for a seed. The runtime draws no random numbers. */
#include "crymeter/learn/train.h"

uint64_t cm_rng_next(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double cm_rng_uniform(uint64_t *s)
{
    return (double)(cm_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}
