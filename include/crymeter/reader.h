/* SPDX-License-Identifier: MIT */
/* Block reader for audio files: every format the installed libsndfile reads (WAV, FLAC,
 * Ogg Vorbis, Opus, MP3, ...), delivered as interleaved float at the file's own rate and
 * channel count. Memory is constant: the caller gives the block buffer. */
#ifndef CRYMETER_READER_H
#define CRYMETER_READER_H

#include <stddef.h>
#include <stdint.h>

#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_reader_info {
    unsigned rate_hz;      /* checked: 8000..192000 */
    unsigned channels;     /* checked: 1..64 */
    uint64_t frames;       /* as the header says; 0 when unknown */
    char format[96];       /* e.g. "WAV (Microsoft) / Signed 16 bit PCM" */
} cm_reader_info;

typedef struct cm_reader cm_reader;

/* Opens path. On failure *out is NULL and why names the file and the problem ("no such
 * file", "not an audio file", "unsupported rate 4000 Hz (expected 8000..192000)",
 * "empty: no audio frames"). CM_E_IO for a missing or unreadable file, CM_E_FORMAT for
 * content libsndfile rejects, CM_E_RANGE for a rate or channel count outside the ranges. */
CM_NODISCARD cm_status cm_reader_open(const char *path, cm_reader **out, cm_reader_info *info,
                                      cm_diag *why);
/* Reads up to max_frames frames into buf (max_frames * channels floats). *n_frames == 0 means
 * end of file. A decode error mid-file is CM_E_FORMAT with why; frames before it were
 * delivered. A file shorter than its header says is not an error: see cm_reader_truncated. */
CM_NODISCARD cm_status cm_reader_read(cm_reader *r, float *buf, size_t max_frames,
                                      size_t *n_frames, cm_diag *why);
/* Frames delivered so far. */
uint64_t cm_reader_frames_read(const cm_reader *r);
/* After EOF: 1 when fewer frames came than the header announced. */
int cm_reader_truncated(const cm_reader *r);
void cm_reader_close(cm_reader *r); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
