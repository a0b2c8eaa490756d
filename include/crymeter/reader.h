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
    uint64_t frames;       /* as the header says (for a truncated WAV: more than will come);
                              0 when unknown */
    char format[96];       /* libsndfile's container / encoding names,
                              e.g. "WAV (Microsoft) / Signed 16 bit PCM" */
    char origin[24];       /* recording start from the file's metadata, local time
                              "YYYY-MM-DDTHH:MM:SS" (a WAV bext chunk's origination date and
                              time), or "" when the file gives none */
} cm_reader_info;

typedef struct cm_reader cm_reader;

/* Opens path. info may be NULL. On failure *out is NULL, *info is zeroed and why names the
 * file, the problem and what was expected:
 *   CM_E_IO      "no such file", "is a directory", "cannot open for reading: <errno text>"
 *   CM_E_FORMAT  "empty file (0 bytes ...)", "not an audio file libsndfile recognises (...)",
 *                "malformed or unsupported audio file: ...", "no audio frames (...)" (also
 *                for a WAV cut off before its first frame: "file is truncated ...")
 *   CM_E_RANGE   "unsupported sample rate 4000 Hz (expected 8000..192000)",
 *                "unsupported channel count 65 (expected 1..64)"
 *   CM_E_INVAL   path or out NULL; CM_E_NOMEM.
 * Integer files read as floats in [-1, 1); float files come through unchanged (no
 * normalisation: values above 1, NaN and Inf included). Thread-safe for distinct readers,
 * except that the text of an open failure comes from libsndfile's process-wide last error
 * and may name another thread's reason if two opens fail at once. */
CM_NODISCARD cm_status cm_reader_open(const char *path, cm_reader **out, cm_reader_info *info,
                                      cm_diag *why);
/* Reads up to max_frames (>= 1, else CM_E_INVAL) frames into buf (max_frames * channels
 * floats). *n_frames == 0 with CM_OK means end of file, and stays so on later calls; a block
 * may be shorter than asked before the end. A decode error mid-file is CM_E_FORMAT with why
 * ("decode error after N frames ..."); every frame decoded before it was delivered by an
 * earlier call, and the error repeats on later calls. A file shorter than its header says is
 * not an error: see cm_reader_truncated. */
CM_NODISCARD cm_status cm_reader_read(cm_reader *r, float *buf, size_t max_frames,
                                      size_t *n_frames, cm_diag *why);
/* Frames delivered so far. */
uint64_t cm_reader_frames_read(const cm_reader *r);
/* After EOF: 1 when fewer frames came than the header announced (a WAV whose data chunk
 * runs past the end of the file, a FLAC cut short). 0 before EOF, when the header gave no
 * length (streaming WAV with size 0 or 0xFFFFFFFF, pipes) and for complete files. */
int cm_reader_truncated(const cm_reader *r);
void cm_reader_close(cm_reader *r); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
