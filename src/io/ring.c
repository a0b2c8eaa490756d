/* SPDX-License-Identifier: MIT */
/* SPSC float-frame ring (see include/crymeter/ring.h). Indices run freely and are masked on
 * access; their difference is the fill level, correct across size_t overflow because the
 * capacity is a power of two. Each side loads its own index relaxed (only it writes it) and
 * the other side's index with acquire, and publishes its own with release: the release of
 * write_idx makes the copied samples visible before the consumer can see them, and the
 * release of read_idx makes the consumer's reads happen before the producer overwrites. */
#include "crymeter/ring.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

size_t cm_ring_round_capacity(size_t n_frames)
{
    size_t c = 1;
    while (c < n_frames) {
        if (c > SIZE_MAX / 2) return 0;
        c <<= 1;
    }
    return c;
}

cm_status cm_ring_init(cm_ring *r, float *mem, size_t cap_frames, unsigned channels)
{
    assert(r && mem);
    if (!r || !mem) return CM_E_INVAL;
    if (cap_frames < 2 || (cap_frames & (cap_frames - 1)) != 0) return CM_E_RANGE;
    if (channels < 1 || channels > 64) return CM_E_RANGE;
    if (cap_frames > SIZE_MAX / sizeof(float) / channels) return CM_E_RANGE;
    r->mem = mem;
    r->cap_frames = cap_frames;
    r->mask = cap_frames - 1;
    r->channels = channels;
    atomic_init(&r->write_idx, 0);
    atomic_init(&r->read_idx, 0);
    return CM_OK;
}

void cm_ring_reset(cm_ring *r)
{
    atomic_store_explicit(&r->write_idx, 0, memory_order_relaxed);
    atomic_store_explicit(&r->read_idx, 0, memory_order_relaxed);
}

size_t cm_ring_write_space(const cm_ring *r)
{
    size_t w = atomic_load_explicit(&((cm_ring *)r)->write_idx, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&((cm_ring *)r)->read_idx, memory_order_acquire);
    return r->cap_frames - (w - rd);
}

size_t cm_ring_write(cm_ring *r, const float *src, size_t n_frames)
{
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_acquire);
    size_t space = r->cap_frames - (w - rd);
    size_t n = n_frames < space ? n_frames : space;
    if (n == 0) return 0;
    size_t at = w & r->mask;
    size_t first = r->cap_frames - at;
    if (first > n) first = n;
    size_t ch = r->channels;
    memcpy(r->mem + at * ch, src, first * ch * sizeof(float));
    if (n > first) memcpy(r->mem, src + first * ch, (n - first) * ch * sizeof(float));
    atomic_store_explicit(&r->write_idx, w + n, memory_order_release);
    return n;
}

size_t cm_ring_read_space(const cm_ring *r)
{
    size_t w = atomic_load_explicit(&((cm_ring *)r)->write_idx, memory_order_acquire);
    size_t rd = atomic_load_explicit(&((cm_ring *)r)->read_idx, memory_order_relaxed);
    return w - rd;
}

size_t cm_ring_read_regions(cm_ring *r, size_t n_frames, const float **p1, size_t *n1,
                            const float **p2, size_t *n2)
{
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_acquire);
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    size_t avail = w - rd;
    size_t n = n_frames < avail ? n_frames : avail;
    size_t at = rd & r->mask;
    size_t first = r->cap_frames - at;
    if (first > n) first = n;
    *p1 = n ? r->mem + at * r->channels : NULL;
    *n1 = first;
    *p2 = n > first ? r->mem : NULL;
    *n2 = n - first;
    return n;
}

void cm_ring_consume(cm_ring *r, size_t n_frames)
{
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    /* Never run past the writer: an internal invariant a caller bug would break. */
    assert(n_frames <= w - rd);
    if (n_frames > w - rd) n_frames = w - rd;
    atomic_store_explicit(&r->read_idx, rd + n_frames, memory_order_release);
}
