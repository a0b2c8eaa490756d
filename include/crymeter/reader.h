/* SPDX-License-Identifier: MIT */
/* Runtime. Block reader for audio files: every format the installed libsndfile reads (WAV,
 * FLAC, Ogg Vorbis, Opus, MP3, ...), delivered as interleaved float at the file's own rate
 * and channel count. Memory is constant: the caller gives the block buffer. */
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

/* Opens path, once: the path is opened and read through one descriptor only, so a FIFO
 * or a device loses no byte to a probe. A regular file is read by libsndfile directly;
 * anything else (FIFO, pipe, socket, character device) as a stream, through a helper
 * thread that owns the descriptor until cm_reader_close. info may be NULL. On failure
 * *out is NULL, *info is zeroed and why names the file, the problem and what was expected:
 *   CM_E_IO      "no such file", "is a directory", "cannot open for reading: <errno text>"
 *                ("a loop of symbolic links" for ELOOP)
 *   CM_E_FORMAT  "empty file (0 bytes ...)", "empty input (the stream ended ...)",
 *                "not an audio file libsndfile recognises (...)",
 *                "FLAC cannot be read from a pipe or FIFO" (libsndfile 1.2 cannot),
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
/* The same for an open descriptor (standard input: fd 0, name "-"), read from its current
 * position; name is used in messages. The reader never closes fd; fd must stay open until
 * cm_reader_close. CM_E_INVAL for fd < 0 or NULL name/out. */
CM_NODISCARD cm_status cm_reader_open_fd(int fd, const char *name, cm_reader **out,
                                         cm_reader_info *info, cm_diag *why);
/* Reads up to max_frames (>= 1, else CM_E_INVAL) frames into buf (max_frames * channels
 * floats). *n_frames == 0 with CM_OK means end of file, and stays so on later calls; a block
 * may be shorter than asked before the end. A decode error mid-file is CM_E_FORMAT with why
 * ("decode error after N frames ..."); every frame decoded before it was delivered by an
 * earlier call, and the error repeats on later calls (a stream whose read fails: CM_E_IO,
 * "read error after N frames: <errno text>"). A file shorter than its header says is
 * not an error: see cm_reader_truncated. */
CM_NODISCARD cm_status cm_reader_read(cm_reader *r, float *buf, size_t max_frames,
                                      size_t *n_frames, cm_diag *why);
/* Frames delivered so far. */
uint64_t cm_reader_frames_read(const cm_reader *r);
/* After EOF: 1 when fewer frames came than the header announced (a WAV whose data chunk
 * runs past the end of the file, a FLAC cut short), and for an Ogg file (Vorbis, Opus)
 * that does not end with a whole end-of-stream page (cut short: Ogg announces no length). 0 before EOF, when the header gave no
 * length (streaming WAV with size 0 or 0xFFFFFFFF, pipes) and for complete files. */
int cm_reader_truncated(const cm_reader *r);
/* After EOF: the bytes of an incomplete last frame that the stream or file ended inside
 * (1..frame size - 1; a 16-bit stereo stream that stops 3 bytes into a frame gives 3), not
 * delivered. 0 before EOF, when the last frame was whole, and for formats other than
 * PCM/float WAV (RIFF, RIFX, RF64), where libsndfile's decoder decides. */
unsigned cm_reader_partial_bytes(const cm_reader *r);
/* After EOF: 1 when the input is a WAV stream of unknown length (pipe, FIFO) and libsndfile
 * stopped at 4 GiB of audio data (0xFFFFFFFF bytes: 6.8 h of 44.1 kHz stereo 16-bit) while
 * the stream went on; the rest was not read. 0 otherwise. */
int cm_reader_stream_cut(const cm_reader *r);
void cm_reader_close(cm_reader *r); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
