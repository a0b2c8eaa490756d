/* SPDX-License-Identifier: MIT */
/* Runtime. cm_ring: a lock-free single-producer single-consumer ring of interleaved float
 * frames.
 *
 * It carries audio from the PortAudio callback (producer, real-time: no locks, no
 * allocation, no system calls) to the analysis worker (consumer). The caller owns the
 * memory: cap_frames * channels floats, cap_frames a power of two (so index wrap is a mask
 * and the free-running size_t indices may overflow harmlessly). Reads are zero-copy: the
 * consumer gets up to two contiguous regions (before and after the wrap), uses them, then
 * consumes. Ordering: the producer publishes data with a release store of the write index
 * and the consumer reads it after an acquire load (and symmetrically for the read index),
 * which is exactly what ThreadSanitizer checks in tests/unit/test_ring.c.
 *
 * Threading: exactly one thread calls cm_ring_write / cm_ring_write_space and exactly one
 * (other) thread calls cm_ring_read_regions / cm_ring_consume / cm_ring_read_space;
 * cm_ring_init and cm_ring_reset only while neither is running. The struct is public so it
 * can live inside another object without allocation; touch its fields only through these
 * functions. */
#ifndef CRYMETER_RING_H
#define CRYMETER_RING_H

#include <stdatomic.h>
#include <stddef.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Separate cache lines for the two indices so producer and consumer do not false-share
 * (64 bytes: x86-64 and most ARM cores). */
#define CM_RING_CACHELINE 64

typedef struct cm_ring {
    _Alignas(CM_RING_CACHELINE) _Atomic size_t write_idx; /* frames ever written */
    _Alignas(CM_RING_CACHELINE) _Atomic size_t read_idx;  /* frames ever consumed */
    _Alignas(CM_RING_CACHELINE) float *mem;               /* cap_frames * channels floats */
    size_t cap_frames;                                    /* power of two */
    size_t mask;                                          /* cap_frames - 1 */
    unsigned channels;                                    /* floats per frame */
} cm_ring;

/* Smallest power of two >= n_frames (at least 1); for sizing mem. 0 if it would overflow. */
size_t cm_ring_round_capacity(size_t n_frames);

/* Sets up r over mem (borrowed: must outlive r, cap_frames * channels floats).
 * CM_E_INVAL: r or mem NULL. CM_E_RANGE: cap_frames not a power of two >= 2, or channels
 * not 1..64. */
CM_NODISCARD cm_status cm_ring_init(cm_ring *r, float *mem, size_t cap_frames,
                                    unsigned channels);
/* Empties the ring. Neither side may be running. */
void cm_ring_reset(cm_ring *r);

/* Producer. Copies up to n_frames frames from src (n_frames * channels floats); returns the
 * number of frames written (fewer when the ring is full; the caller counts the rest as
 * dropped). Never blocks; wait-free. */
size_t cm_ring_write(cm_ring *r, const float *src, size_t n_frames);
/* Producer: frames that can be written now. */
size_t cm_ring_write_space(const cm_ring *r);

/* Consumer. Frames readable now. */
size_t cm_ring_read_space(const cm_ring *r);
/* Consumer. Exposes up to n_frames readable frames as *p1 (*n1 frames) then *p2 (*n2 frames,
 * after the wrap; 0 and NULL when not needed). Returns *n1 + *n2. The data stays valid and
 * unchanged until cm_ring_consume. */
size_t cm_ring_read_regions(cm_ring *r, size_t n_frames, const float **p1, size_t *n1,
                            const float **p2, size_t *n2);
/* Consumer. Releases n_frames frames (at most what read_regions returned) to the producer. */
void cm_ring_consume(cm_ring *r, size_t n_frames);

#ifdef __cplusplus
}
#endif
#endif
