/* SPDX-License-Identifier: MIT */
/* cm_reader: block reader over libsndfile. Opens any file the installed libsndfile
 * decodes, checks rate and channel count against the analyzer's ranges, and hands out
 * interleaved float frames in caller-sized blocks, so memory stays constant whatever the
 * file length. Every failure names the file, what is wrong and what was expected. It also
 * keeps the one piece of bookkeeping libsndfile hides: how many frames the header
 * announced, so a recording cut short (a recorder that crashed, a copy that stopped) is
 * analysed as far as it goes and then reported as truncated rather than silently shorter. */
#include "crymeter/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

/* The analyzer's input ranges (analyzer.h): checked here so a bad file fails at open with
 * the file's name, not later inside cm_analyzer_create. */
enum {
    RATE_MIN_HZ = 8000,
    RATE_MAX_HZ = 192000,
    CHANNELS_MIN = 1,
    CHANNELS_MAX = 64
};

struct cm_reader {
    SNDFILE *sf;
    unsigned channels;
    uint64_t announced;      /* frames the header claims; 0 when unknown */
    uint64_t delivered;      /* frames handed to the caller */
    int at_eof;
    cm_status pending;       /* decode error seen after a partial block; reported next call */
    char pending_msg[CM_DIAG_LEN];
    char path[];             /* for messages; owned copy */
};

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* libsndfile silently shrinks a WAV's data length to what the file holds (its log says
 * "data : 4000 (should be 1956)"), so sf_info.frames cannot reveal truncation. Read the
 * data chunk size ourselves: RIFF (little endian), RIFX (big endian) and RF64 (size in the
 * ds64 chunk). Returns the announced data bytes, or 0 when unknown. 0 and 0xFFFFFFFF are
 * what streaming writers put there before they know the length, so they mean unknown, not
 * "truncated". Only the first 64 KiB of chunks are walked: enough for real headers,
 * bounded for hostile ones. */
static uint64_t wav_announced_bytes(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char hdr[12];
    uint64_t result = 0;
    if (fread(hdr, 1, sizeof hdr, f) != sizeof hdr || memcmp(hdr + 8, "WAVE", 4) != 0) {
        fclose(f);
        return 0;
    }
    int big = memcmp(hdr, "RIFX", 4) == 0;
    int rf64 = memcmp(hdr, "RF64", 4) == 0;
    if (!big && !rf64 && memcmp(hdr, "RIFF", 4) != 0) {
        fclose(f);
        return 0;
    }
    uint64_t rf64_data = 0;
    long pos = 12;
    while (pos < 65536) {
        unsigned char ch[8];
        if (fseek(f, pos, SEEK_SET) != 0 || fread(ch, 1, 8, f) != 8) break;
        uint32_t size = big ? be32(ch + 4) : le32(ch + 4);
        if (rf64 && memcmp(ch, "ds64", 4) == 0) {
            unsigned char ds[16];
            if (size >= 16 && fread(ds, 1, 16, f) == 16) rf64_data = le64(ds + 8);
        } else if (memcmp(ch, "data", 4) == 0) {
            if (rf64 && size == 0xFFFFFFFFu)
                result = rf64_data;
            else if (size != 0xFFFFFFFFu)
                result = size;
            break;
        }
        /* Chunks are padded to even sizes. */
        pos += 8 + (long)size + (long)(size & 1u);
    }
    fclose(f);
    return result;
}

/* Bytes per frame for the PCM and float subtypes whose data length maps exactly to frames;
 * 0 for compressed subtypes (ADPCM, GSM, ...) where the header's sample count is the
 * reliable figure and libsndfile already reports it. */
static unsigned frame_bytes(int format, unsigned channels)
{
    unsigned b;
    switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW: b = 1; break;
    case SF_FORMAT_PCM_16: b = 2; break;
    case SF_FORMAT_PCM_24: b = 3; break;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT: b = 4; break;
    case SF_FORMAT_DOUBLE: b = 8; break;
    default: return 0;
    }
    return b * channels;
}

static uint64_t announced_frames(const char *path, const SF_INFO *si)
{
    int major = si->format & SF_FORMAT_TYPEMASK;
    if (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64) {
        unsigned fb = frame_bytes(si->format, (unsigned)si->channels);
        uint64_t bytes = fb ? wav_announced_bytes(path) : 0;
        if (bytes) return bytes / fb;
    }
    /* Other containers (FLAC STREAMINFO, AIFF COMM, ...) report the header's count
     * unchanged; SF_COUNT_MAX is libsndfile's "unknown" (pipes, some streams). */
    if (si->frames <= 0 || si->frames == SF_COUNT_MAX) return 0;
    return (uint64_t)si->frames;
}

/* libsndfile's messages end in a full stop ("Format not recognised."); ours embed them
 * mid-sentence. */
static const char *sf_text(const char *t, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", t ? t : "unknown error");
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == ' ' || buf[n - 1] == '\n')) buf[--n] = 0;
    return buf;
}

static void format_name(SNDFILE *sf, int format, char *out, size_t cap)
{
    SF_FORMAT_INFO major = {.format = format & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO sub = {.format = format & SF_FORMAT_SUBMASK};
    const char *mn = "unknown container", *sn = "unknown encoding";
    if (sf_command(sf, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.name)
        mn = major.name;
    if (sf_command(sf, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name) sn = sub.name;
    snprintf(out, cap, "%s / %s", mn, sn);
}

/* Checks the path before libsndfile sees it, because libsndfile reports a missing file, a
 * directory and a text file all as "not recognised" or a bare system error. Only regular
 * files are opened here: a FIFO or a device would lose the byte read to probe it. */
static cm_status precheck(const char *path, cm_diag *why)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT)
            return cm_diag_fail(why, CM_E_IO, "%s: no such file (expected an audio file path)",
                                path);
        return cm_diag_fail(why, CM_E_IO, "%s: cannot open for reading: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode))
        return cm_diag_fail(why, CM_E_IO, "%s: is a directory (expected an audio file)", path);
    if (!S_ISREG(st.st_mode)) return CM_OK;

    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return cm_diag_fail(why, CM_E_IO, "%s: cannot open for reading: %s", path,
                            strerror(errno));
    cm_status s = CM_OK;
    char b;
    ssize_t n = read(fd, &b, 1);
    if (n < 0)
        s = cm_diag_fail(why, CM_E_IO, "%s: cannot read: %s", path, strerror(errno));
    else if (n == 0)
        s = cm_diag_fail(why, CM_E_FORMAT, "%s: empty file (0 bytes; expected an audio file)",
                         path);
    close(fd);
    return s;
}

/* The bext chunk's origination date and time (EBU Tech 3285: "yyyy-mm-dd", "hh:mm:ss", any
 * of - _ : space . as separators), as "YYYY-MM-DDTHH:MM:SS"; "" when absent or malformed. */
static void bext_origin(SNDFILE *sf, char *buf, size_t cap)
{
    SF_BROADCAST_INFO bi;
    buf[0] = 0;
    memset(&bi, 0, sizeof bi);
    if (sf_command(sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi) != SF_TRUE) return;
    const char *d = bi.origination_date, *t = bi.origination_time;
    static const int dig[] = {0, 1, 2, 3, 5, 6, 8, 9}, tdig[] = {0, 1, 3, 4, 6, 7};
    for (size_t i = 0; i < 8; i++)
        if (d[dig[i]] < '0' || d[dig[i]] > '9') return;
    for (size_t i = 0; i < 6; i++)
        if (t[tdig[i]] < '0' || t[tdig[i]] > '9') return;
    snprintf(buf, cap, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s", d, d + 5, d + 8, t, t + 3, t + 6);
}

cm_status cm_reader_open(const char *path, cm_reader **out, cm_reader_info *info, cm_diag *why)
{
    if (out) *out = NULL;
    if (info) memset(info, 0, sizeof *info);
    if (why) why->msg[0] = 0;
    if (!path || !out)
        return cm_diag_fail(why, CM_E_INVAL, "cm_reader_open: path and out must not be NULL");

    cm_status s = precheck(path, why);
    if (s != CM_OK) return s;

    SF_INFO si;
    memset(&si, 0, sizeof si);
    /* A failed sf_open leaves its reason in libsndfile's process-wide last error, which
     * another thread's failed open (analyze -j) could overwrite before it is read: opens are
     * serialised, and the reason is copied while the lock is held. */
    static pthread_mutex_t open_mx = PTHREAD_MUTEX_INITIALIZER;
    int err = 0;
    char tb[256];
    const char *text = NULL;
    pthread_mutex_lock(&open_mx);
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    if (!sf) {
        err = sf_error(NULL);
        text = sf_text(sf_strerror(NULL), tb, sizeof tb);
    }
    pthread_mutex_unlock(&open_mx);
    if (!sf) {
        if (err == SF_ERR_UNRECOGNISED_FORMAT)
            return cm_diag_fail(why, CM_E_FORMAT,
                                "%s: not an audio file libsndfile recognises (libsndfile: %s; "
                                "expected WAV, FLAC, Ogg Vorbis/Opus, MP3 or another format "
                                "libsndfile reads)",
                                path, text);
        if (err == SF_ERR_SYSTEM)
            return cm_diag_fail(why, CM_E_IO, "%s: cannot read: %s", path, text);
        return cm_diag_fail(why, CM_E_FORMAT, "%s: malformed or unsupported audio file: %s",
                            path, text);
    }

    if (si.samplerate < RATE_MIN_HZ || si.samplerate > RATE_MAX_HZ) {
        sf_close(sf);
        return cm_diag_fail(why, CM_E_RANGE, "%s: unsupported sample rate %d Hz (expected %d..%d)",
                            path, si.samplerate, RATE_MIN_HZ, RATE_MAX_HZ);
    }
    if (si.channels < CHANNELS_MIN || si.channels > CHANNELS_MAX) {
        sf_close(sf);
        return cm_diag_fail(why, CM_E_RANGE, "%s: unsupported channel count %d (expected %d..%d)",
                            path, si.channels, CHANNELS_MIN, CHANNELS_MAX);
    }

    uint64_t announced = announced_frames(path, &si);
    if (si.frames == 0) {
        sf_close(sf);
        if (announced > 0)
            return cm_diag_fail(why, CM_E_FORMAT,
                                "%s: no audio frames: file is truncated (header announces %llu "
                                "frames, the data ends before the first)",
                                path, (unsigned long long)announced);
        return cm_diag_fail(why, CM_E_FORMAT,
                            "%s: no audio frames (the header is valid but the audio is empty)",
                            path);
    }

    /* Integer files read as float come out in [-1, 1) only with SFC_SET_NORM_FLOAT on;
     * it is libsndfile's default, set here so the contract does not rest on a default.
     * Float and double files are copied unchanged whatever this flag says: values above
     * full scale, NaN and Inf reach the analyzer, which counts and zeroes non-finite
     * samples. (SFC_SET_SCALE_FLOAT_INT_READ is for the opposite direction, float files
     * read into int buffers, and does not apply here.) */
    sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    sf_command(sf, SFC_SET_NORM_DOUBLE, NULL, SF_TRUE);

    size_t plen = strlen(path);
    cm_reader *r = calloc(1, sizeof *r + plen + 1);
    if (!r) {
        sf_close(sf);
        return cm_diag_fail(why, CM_E_NOMEM, "%s: out of memory opening the reader", path);
    }
    memcpy(r->path, path, plen + 1);
    r->sf = sf;
    r->channels = (unsigned)si.channels;
    r->announced = announced;

    if (info) {
        info->rate_hz = (unsigned)si.samplerate;
        info->channels = (unsigned)si.channels;
        info->frames = announced;
        format_name(sf, si.format, info->format, sizeof info->format);
        bext_origin(sf, info->origin, sizeof info->origin);
    }
    *out = r;
    return CM_OK;
}

cm_status cm_reader_read(cm_reader *r, float *buf, size_t max_frames, size_t *n_frames,
                         cm_diag *why)
{
    if (n_frames) *n_frames = 0;
    if (!r || !buf || !n_frames)
        return cm_diag_fail(why, CM_E_INVAL,
                            "cm_reader_read: r, buf and n_frames must not be NULL");
    if (max_frames == 0)
        return cm_diag_fail(why, CM_E_INVAL,
                            "%s: max_frames=0: must be at least 1 (0 frames read means end "
                            "of file)",
                            r->path);
    if (r->pending != CM_OK) return cm_diag_fail(why, r->pending, "%s", r->pending_msg);
    if (r->at_eof) return CM_OK;

    /* Cap a block so max_frames * channels floats fits both size_t and sf_count_t. */
    size_t cap = (size_t)(INT32_MAX / r->channels);
    if (max_frames > cap) max_frames = cap;

    sf_count_t got = sf_readf_float(r->sf, buf, (sf_count_t)max_frames);
    if (got < 0) got = 0;
    /* libsndfile flags a decode error on the handle of the read that hit it (a short
     * block) and clears it on the next read, so it is checked after every call. */
    int err = sf_error(r->sf);
    if (err != SF_ERR_NO_ERROR) {
        r->pending = err == SF_ERR_SYSTEM ? CM_E_IO : CM_E_FORMAT;
        char tb[256];
        snprintf(r->pending_msg, sizeof r->pending_msg,
                 "%s: decode error after %llu frames (data corrupt or cut off): libsndfile: %s",
                 r->path, (unsigned long long)(r->delivered + (uint64_t)got),
                 sf_text(sf_strerror(r->sf), tb, sizeof tb));
        if (got == 0) return cm_diag_fail(why, r->pending, "%s", r->pending_msg);
        /* Deliver what decoded; the error follows on the next call so no frame is lost. */
    } else if (got == 0) {
        r->at_eof = 1;
    }
    r->delivered += (uint64_t)got;
    *n_frames = (size_t)got;
    return CM_OK;
}

uint64_t cm_reader_frames_read(const cm_reader *r) { return r ? r->delivered : 0; }

int cm_reader_truncated(const cm_reader *r)
{
    if (!r || !r->at_eof) return 0;
    return r->announced > 0 && r->delivered < r->announced;
}

void cm_reader_close(cm_reader *r)
{
    if (!r) return;
    sf_close(r->sf);
    free(r);
}
