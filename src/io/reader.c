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
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* The WAV header walk looks at chunks starting in the first 64 KiB: enough for real
 * headers, bounded for hostile ones. A pipe's first HEAD_CAP bytes are kept for it. */
enum { WALK_LIMIT = 65536, HEAD_CAP = WALK_LIMIT + 64, PUMP_BLOCK = 65536 };

struct cm_reader {
    SNDFILE *sf;
    unsigned channels;
    uint64_t announced;      /* frames the header claims; 0 when unknown */
    uint64_t delivered;      /* frames handed to the caller */
    int at_eof;
    cm_status pending;       /* decode error seen after a partial block; reported next call */
    char pending_msg[CM_DIAG_LEN];

    int fd;                  /* the input, opened once */
    int own_fd;              /* opened here (closed by cm_reader_close) */
    int seekable;            /* regular file: header walked with pread, never moving fd */
    off_t base;              /* offset of the stream's first byte in fd (stdin may be past 0) */
    off_t size_at_open;      /* regular file: its size when libsndfile measured it */
    unsigned frame_bytes;    /* PCM/float WAV: bytes per frame; 0 otherwise */
    uint64_t data_start;     /* WAV: stream offset of the first audio byte; 0 when unknown */
    uint64_t data_bytes;     /* WAV: data bytes the header announces; 0 when unknown */
    int unterminated;        /* Ogg file whose last page is cut or lacks end-of-stream */
    int stream_cut;          /* libsndfile stopped a WAV stream of unknown length early */
    int data_size_zero;      /* WAV: the data chunk's size field holds 0 ... */
    uint64_t data_size_at;   /* ... at this stream offset */
    sf_count_t vio_pos;      /* read position of the virtual I/O below */

    /* Non-seekable input (pipe, FIFO, socket, device): a pump thread is the only reader of
     * fd. It keeps the stream's first bytes (for the header walk: libsndfile hides the data
     * chunk's size) and counts every byte, and forwards the stream to libsndfile through a
     * socket pair, which libsndfile treats as the pipe it is. */
    int pumping;
    pthread_t pump;
    int sock[2];             /* [0] libsndfile's end, [1] the pump's */
    pthread_mutex_t mx;      /* guards the fields below */
    pthread_cond_t grew;     /* head_n grew or pump_done was set */
    unsigned char *head;
    size_t head_n;
    uint64_t total;          /* bytes read from fd */
    int pump_done;           /* fd reached its end (or failed: pump_errno) */
    int pump_errno;
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

/* n bytes at stream offset off, without consuming anything: pread on a regular file, the
 * pump's copy of the head for a pipe. 0 on success. */
static int peek(cm_reader *r, uint64_t off, void *buf, size_t n)
{
    if (r->seekable)
        return pread(r->fd, buf, n, r->base + (off_t)off) == (ssize_t)n ? 0 : -1;
    int rc = -1;
    pthread_mutex_lock(&r->mx);
    if (off + n <= r->head_n) {
        memcpy(buf, r->head + off, n);
        rc = 0;
    }
    pthread_mutex_unlock(&r->mx);
    return rc;
}

/* libsndfile silently shrinks a WAV's data length to what the file holds (its log says
 * "data : 4000 (should be 1956)"), and over a pipe reports a streaming writer's 0xFFFFFFFF
 * as a length, so sf_info.frames can reveal neither truncation nor an unknown length.
 * Reads the data chunk's size and position ourselves: RIFF (little endian), RIFX (big
 * endian) and RF64 (size in the ds64 chunk). Sets r->data_start (0 when no data chunk was
 * found) and r->data_bytes (0 when unknown: 0 and 0xFFFFFFFF are what streaming writers
 * put there before they know the length, so they mean unknown, not "truncated"). */
static void wav_walk(cm_reader *r)
{
    unsigned char hdr[12];
    if (peek(r, 0, hdr, sizeof hdr) != 0 || memcmp(hdr + 8, "WAVE", 4) != 0) return;
    int big = memcmp(hdr, "RIFX", 4) == 0;
    int rf64 = memcmp(hdr, "RF64", 4) == 0;
    if (!big && !rf64 && memcmp(hdr, "RIFF", 4) != 0) return;
    uint64_t rf64_data = 0;
    uint64_t pos = 12;
    while (pos < WALK_LIMIT) {
        unsigned char ch[8];
        if (peek(r, pos, ch, 8) != 0) break;
        uint32_t size = big ? be32(ch + 4) : le32(ch + 4);
        if (rf64 && memcmp(ch, "ds64", 4) == 0) {
            unsigned char ds[16];
            if (size >= 16 && peek(r, pos + 8, ds, 16) == 0) rf64_data = le64(ds + 8);
        } else if (memcmp(ch, "data", 4) == 0) {
            r->data_start = pos + 8;
            r->data_size_at = pos + 4;
            r->data_size_zero = size == 0;
            if (rf64 && size == 0xFFFFFFFFu)
                r->data_bytes = rf64_data;
            else if (size != 0xFFFFFFFFu)
                r->data_bytes = size;
            return;
        }
        /* Chunks are padded to even sizes. */
        pos += 8 + (uint64_t)size + (size & 1u);
    }
}

/* A WAV whose data size field holds 0 (a recorder that stopped before writing the length)
 * reads as empty in libsndfile, whatever follows on disk, while 0xFFFFFFFF reads to the end
 * of the file. Such a file is handed to libsndfile through this virtual I/O over the same
 * descriptor, which shows the field as 0xFFFFFFFF: nothing recorded is lost. */
static sf_count_t vio_len(void *u)
{
    const cm_reader *r = u;
    return (sf_count_t)(r->size_at_open - r->base);
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *u)
{
    cm_reader *r = u;
    sf_count_t p = whence == SEEK_SET ? off : whence == SEEK_CUR ? r->vio_pos + off
                                                                 : vio_len(u) + off;
    if (p < 0) return -1;
    r->vio_pos = p;
    return p;
}

static sf_count_t vio_read(void *ptr, sf_count_t n, void *u)
{
    cm_reader *r = u;
    ssize_t got = pread(r->fd, ptr, (size_t)n, r->base + (off_t)r->vio_pos);
    if (got <= 0) return 0;
    uint64_t a = (uint64_t)r->vio_pos, b = a + (uint64_t)got;
    for (uint64_t i = r->data_size_at; i < r->data_size_at + 4; i++)
        if (i >= a && i < b) ((unsigned char *)ptr)[i - a] = 0xFF;
    r->vio_pos += got;
    return got;
}

static sf_count_t vio_write(const void *ptr, sf_count_t n, void *u)
{
    (void)ptr, (void)n, (void)u;
    return 0;
}

static sf_count_t vio_tell(void *u) { return ((const cm_reader *)u)->vio_pos; }

/* The sample rate in a WAV's fmt chunk, or -1 when there is none: libsndfile refuses a
 * rate of 0 with only "SF_INFO struct incomplete". */
static long wav_fmt_rate(cm_reader *r)
{
    unsigned char hdr[12];
    if (peek(r, 0, hdr, sizeof hdr) != 0 || memcmp(hdr, "RIFF", 4) != 0 ||
        memcmp(hdr + 8, "WAVE", 4) != 0)
        return -1;
    for (uint64_t pos = 12; pos < WALK_LIMIT;) {
        unsigned char ch[16];
        if (peek(r, pos, ch, 8) != 0) return -1;
        uint32_t size = le32(ch + 4);
        if (memcmp(ch, "fmt ", 4) == 0)
            return size >= 8 && peek(r, pos + 8, ch, 8) == 0 ? (long)le32(ch + 4) : -1;
        pos += 8 + (uint64_t)size + (size & 1u);
    }
    return -1;
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

static uint64_t announced_frames(cm_reader *r, const SF_INFO *si)
{
    int major = si->format & SF_FORMAT_TYPEMASK;
    if (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64) {
        r->frame_bytes = frame_bytes(si->format, (unsigned)si->channels);
        if (r->frame_bytes) {
            wav_walk(r);
            if (r->data_start) return r->data_bytes / r->frame_bytes;
        }
    }
    /* Other containers (FLAC STREAMINFO, AIFF COMM, ...) report the header's count
     * unchanged; SF_COUNT_MAX is libsndfile's "unknown" (pipes, some streams). */
    if (si->frames <= 0 || si->frames == SF_COUNT_MAX) return 0;
    return (uint64_t)si->frames;
}

/* Ogg's page checksum: CRC-32, polynomial 0x04c11db7, MSB first, no reflection, initial 0
 * (RFC 3533, section 6). */
static uint32_t ogg_crc(const unsigned char *p, size_t n)
{
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint32_t)p[i] << 24;
        for (int k = 0; k < 8; k++) c = c & 0x80000000u ? c << 1 ^ 0x04c11db7u : c << 1;
    }
    return c;
}

/* An Ogg file holds no length in a header: libsndfile takes the last page's granule
 * position, so a file cut in the middle reads as a shorter, complete one. A whole stream
 * ends with a page flagged end-of-stream (RFC 3533), exactly at the end of the file.
 * Looks at the last 64 KiB (a page is at most 65307 bytes) for the last page whose
 * checksum is right: 1 when none is found, when bytes follow it (a page cut short) or when
 * it lacks the flag. */
static int ogg_unterminated(cm_reader *r)
{
    uint64_t size = (uint64_t)(r->size_at_open - r->base);
    size_t n = size < 65536 + 65307 ? (size_t)size : 65536 + 65307;
    unsigned char *b = malloc(n);
    if (!b) return 0;
    int result = 0;
    if (peek(r, size - n, b, n) != 0) goto out;
    result = 1;
    for (size_t i = n >= 27 ? n - 27 : 0; i + 27 <= n; i--) {
        if (memcmp(b + i, "OggS", 4) == 0 && b[i + 4] == 0) {
            size_t nseg = b[i + 26], len = 27 + nseg;
            if (i + len <= n) {
                for (size_t k = 0; k < nseg; k++) len += b[i + 27 + k];
                if (i + len <= n) {
                    uint32_t want = le32(b + i + 22);
                    memset(b + i + 22, 0, 4);
                    uint32_t got = ogg_crc(b + i, len);
                    memcpy(b + i + 22, (unsigned char[4]){(unsigned char)want,
                           (unsigned char)(want >> 8), (unsigned char)(want >> 16),
                           (unsigned char)(want >> 24)}, 4);
                    if (got == want) {
                        result = i + len != n || !(b[i + 5] & 0x04);
                        break;
                    }
                }
            }
        }
        if (i == 0) break;
    }
out:
    free(b);
    return result;
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

/* The pump: reads fd to its end, keeps the head, counts bytes and forwards them to
 * libsndfile's end of the socket pair. It stops when libsndfile's end is closed (the
 * reader was closed before the end of the stream: POLLHUP or EPIPE) and then leaves the
 * rest of the stream unread. */
static void *pump_main(void *arg)
{
    cm_reader *r = arg;
    unsigned char *buf = malloc(PUMP_BLOCK);
    int err = buf ? 0 : ENOMEM;
    while (buf) {
        struct pollfd pf[2] = {{.fd = r->fd, .events = POLLIN}, {.fd = r->sock[1], .events = 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            err = errno;
            break;
        }
        if (pf[1].revents & (POLLHUP | POLLERR)) break;
        if (!pf[0].revents) continue;
        ssize_t n = read(r->fd, buf, PUMP_BLOCK);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            err = errno;
            break;
        }
        if (n == 0) break;
        pthread_mutex_lock(&r->mx);
        if (r->head_n < HEAD_CAP) {
            size_t k = (size_t)n < HEAD_CAP - r->head_n ? (size_t)n : HEAD_CAP - r->head_n;
            memcpy(r->head + r->head_n, buf, k);
            r->head_n += k;
        }
        r->total += (uint64_t)n;
        pthread_cond_broadcast(&r->grew);
        pthread_mutex_unlock(&r->mx);
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = send(r->sock[1], buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                goto out; /* libsndfile's end closed: the reader is closing */
            }
            off += w;
        }
    }
out:
    free(buf);
    pthread_mutex_lock(&r->mx);
    r->pump_done = 1;
    r->pump_errno = err;
    pthread_cond_broadcast(&r->grew);
    pthread_mutex_unlock(&r->mx);
    /* End of stream for libsndfile, after pump_done is set: a reader that saw the end can
     * trust total. */
    shutdown(r->sock[1], SHUT_WR);
    return NULL;
}

static int pump_start(cm_reader *r)
{
    r->head = malloc(HEAD_CAP);
    if (!r->head) return -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->sock) != 0) return -1;
    if (pthread_mutex_init(&r->mx, NULL) != 0) {
        close(r->sock[0]);
        close(r->sock[1]);
        r->sock[0] = r->sock[1] = -1;
        return -1;
    }
    if (pthread_cond_init(&r->grew, NULL) != 0) {
        pthread_mutex_destroy(&r->mx);
        close(r->sock[0]);
        close(r->sock[1]);
        r->sock[0] = r->sock[1] = -1;
        return -1;
    }
    if (pthread_create(&r->pump, NULL, pump_main, r) != 0) {
        pthread_cond_destroy(&r->grew);
        pthread_mutex_destroy(&r->mx);
        close(r->sock[0]);
        close(r->sock[1]);
        r->sock[0] = r->sock[1] = -1;
        return -1;
    }
    r->pumping = 1;
    return 0;
}

/* 1 when a pipe's stream starts as MP3 does (an ID3v2 tag, or an MPEG audio frame sync):
 * waits for its first 3 bytes (or its end). libsndfile 1.2.0 reads one byte before a heap
 * buffer of its own when it opens MP3 from a pipe (AddressSanitizer, sf_open_fd on any MP3
 * piped in; found by tests/fuzz), so such a stream is refused before libsndfile sees it. */
static int pipe_is_mp3(cm_reader *r)
{
    pthread_mutex_lock(&r->mx);
    while (r->head_n < 3 && !r->pump_done) pthread_cond_wait(&r->grew, &r->mx);
    const unsigned char *h = r->head;
    int mp3 = (r->head_n >= 3 && memcmp(h, "ID3", 3) == 0) ||
              (r->head_n >= 2 && h[0] == 0xFF && (h[1] & 0xE0) == 0xE0);
    pthread_mutex_unlock(&r->mx);
    return mp3;
}

void cm_reader_close(cm_reader *r)
{
    if (!r) return;
    if (r->sf) sf_close(r->sf); /* closes libsndfile's own descriptor */
    if (r->pumping) {
        /* Wakes the pump (POLLHUP or EPIPE) whatever became of libsndfile's copy. */
        shutdown(r->sock[0], SHUT_RDWR);
        close(r->sock[0]);
        pthread_join(r->pump, NULL);
        close(r->sock[1]);
        pthread_cond_destroy(&r->grew);
        pthread_mutex_destroy(&r->mx);
    }
    if (r->own_fd && r->fd >= 0) close(r->fd);
    free(r->head);
    free(r);
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

/* Opens the input once. Only this descriptor is ever read: a FIFO or a pipe has no second
 * chance, so nothing opens the path again or probes it. */
static cm_status open_input(const char *path, int *fd_out, cm_diag *why)
{
    *fd_out = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return cm_diag_fail(why, CM_E_IO, "%s: no such file (expected an audio file path)",
                                path);
        if (e == ELOOP)
            return cm_diag_fail(why, CM_E_IO,
                                "%s: cannot open for reading: a loop of symbolic links (%s)",
                                path, strerror(e));
        return cm_diag_fail(why, CM_E_IO, "%s: cannot open for reading: %s", path, strerror(e));
    }
    *fd_out = fd;
    return CM_OK;
}

static cm_status reader_open(int fd, int own_fd, const char *name, cm_reader **out,
                             cm_reader_info *info, cm_diag *why)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        if (own_fd) close(fd);
        return cm_diag_fail(why, CM_E_IO, "%s: cannot read: %s", name, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        if (own_fd) close(fd);
        return cm_diag_fail(why, CM_E_IO, "%s: is a directory (expected an audio file)", name);
    }
    size_t plen = strlen(name);
    cm_reader *r = calloc(1, sizeof *r + plen + 1);
    if (!r) {
        if (own_fd) close(fd);
        return cm_diag_fail(why, CM_E_NOMEM, "%s: out of memory opening the reader", name);
    }
    memcpy(r->path, name, plen + 1);
    r->fd = fd;
    r->own_fd = own_fd;
    r->sock[0] = r->sock[1] = -1;
    r->base = S_ISREG(st.st_mode) ? lseek(fd, 0, SEEK_CUR) : (off_t)-1;
    r->seekable = r->base >= 0;
    r->size_at_open = st.st_size;
    cm_status s = CM_OK;

    if (r->seekable && st.st_size <= r->base) {
        s = cm_diag_fail(why, CM_E_FORMAT, "%s: empty file (0 bytes; expected an audio file)",
                         name);
        goto fail;
    }
    if (!r->seekable && pump_start(r) != 0) {
        s = cm_diag_fail(why, CM_E_NOMEM, "%s: cannot start reading the stream: %s", name,
                         strerror(errno));
        goto fail;
    }

    SF_INFO si;
    memset(&si, 0, sizeof si);
    /* A failed open leaves its reason in libsndfile's process-wide last error, which
     * another thread's failed open (analyze -j) could overwrite before it is read: opens are
     * serialised, and the reason is copied while the lock is held. */
    static pthread_mutex_t open_mx = PTHREAD_MUTEX_INITIALIZER;
    int err = 0;
    char tb[256];
    const char *text = NULL;
    /* libsndfile gets a descriptor of its own: it closes the one it is given when an open
     * fails, even with close_desc false (1.2.0), and ours must stay valid for the header
     * walk, the pump and cm_reader_close. */
    if (r->pumping && pipe_is_mp3(r)) {
        s = cm_diag_fail(why, CM_E_FORMAT,
                         "%s: MP3 cannot be read from a pipe or FIFO (libsndfile 1.2 reads "
                         "outside its buffer opening one); give the file itself, or decode it "
                         "into the pipe: ffmpeg -i IN.mp3 -f wav - | crymeter analyze -",
                         name);
        goto fail;
    }
    if (r->seekable) wav_walk(r);
    int patch = r->seekable && r->data_size_zero && r->data_start &&
                (uint64_t)(r->size_at_open - r->base) > r->data_start;
    int sfd = patch ? -1 : fcntl(r->seekable ? fd : r->sock[0], F_DUPFD_CLOEXEC, 0);
    if (!patch && sfd < 0) {
        s = cm_diag_fail(why, CM_E_IO, "%s: cannot read: %s", name, strerror(errno));
        goto fail;
    }
    static SF_VIRTUAL_IO vio = {vio_len, vio_seek, vio_read, vio_write, vio_tell};
    pthread_mutex_lock(&open_mx);
    r->sf = patch ? sf_open_virtual(&vio, SFM_READ, &si, r)
                  : sf_open_fd(sfd, SFM_READ, &si, SF_TRUE);
    if (!r->sf) {
        err = sf_error(NULL);
        text = sf_text(sf_strerror(NULL), tb, sizeof tb);
    }
    pthread_mutex_unlock(&open_mx);
    if (!r->sf) {
        int empty = 0, flac = 0;
        if (r->pumping) {
            pthread_mutex_lock(&r->mx);
            empty = r->pump_done && r->total == 0;
            flac = r->head_n >= 4 && memcmp(r->head, "fLaC", 4) == 0;
            pthread_mutex_unlock(&r->mx);
        }
        if (!empty && wav_fmt_rate(r) == 0)
            s = cm_diag_fail(why, CM_E_RANGE,
                             "%s: unsupported sample rate 0 Hz (expected %d..%d)", name,
                             RATE_MIN_HZ, RATE_MAX_HZ);
        else if (empty)
            s = cm_diag_fail(why, CM_E_FORMAT,
                             "%s: empty input (the stream ended before its first byte; expected "
                             "audio)",
                             name);
        else if (flac)
            /* libsndfile 1.2 hands its FLAC decoder the stream after the bytes it read to
             * recognise the format, and the decoder cannot find the start ("lost sync"). */
            s = cm_diag_fail(why, CM_E_FORMAT,
                             "%s: FLAC cannot be read from a pipe or FIFO (libsndfile: %s); "
                             "give the file itself, or decode it into the pipe: "
                             "ffmpeg -i IN.flac -f wav - | crymeter analyze -",
                             name, text);
        else if (err == SF_ERR_UNRECOGNISED_FORMAT)
            s = cm_diag_fail(why, CM_E_FORMAT,
                             "%s: not an audio file libsndfile recognises (libsndfile: %s; "
                             "expected WAV, FLAC, Ogg Vorbis/Opus, MP3 or another format "
                             "libsndfile reads)",
                             name, text);
        else if (err == SF_ERR_SYSTEM)
            s = cm_diag_fail(why, CM_E_IO, "%s: cannot read: %s", name, text);
        else if (strstr(text, "does not exist or is not a regular file"))
            /* libsndfile's text for a failed read at open (an MP3 cut in its first frame):
             * the file is there and open, so say what is wrong with it. */
            s = cm_diag_fail(why, CM_E_FORMAT,
                             "%s: malformed or unsupported audio file: no decodable audio at "
                             "its start (cut short or damaged; libsndfile: %s)",
                             name, text);
        else
            s = cm_diag_fail(why, CM_E_FORMAT, "%s: malformed or unsupported audio file: %s",
                             name, text);
        goto fail;
    }

    if (si.samplerate < RATE_MIN_HZ || si.samplerate > RATE_MAX_HZ) {
        s = cm_diag_fail(why, CM_E_RANGE, "%s: unsupported sample rate %d Hz (expected %d..%d)",
                         name, si.samplerate, RATE_MIN_HZ, RATE_MAX_HZ);
        goto fail;
    }
    if (si.channels < CHANNELS_MIN || si.channels > CHANNELS_MAX) {
        s = cm_diag_fail(why, CM_E_RANGE, "%s: unsupported channel count %d (expected %d..%d)",
                         name, si.channels, CHANNELS_MIN, CHANNELS_MAX);
        goto fail;
    }

    r->channels = (unsigned)si.channels;
    r->announced = announced_frames(r, &si);
    if (r->seekable && (si.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG)
        r->unterminated = ogg_unterminated(r);
    /* Over a pipe libsndfile takes a data size of 0 at its word; the stream decides. */
    if (si.frames == 0 && r->seekable) {
        if (r->announced > 0)
            s = cm_diag_fail(why, CM_E_FORMAT,
                             "%s: no audio frames: file is truncated (header announces %llu "
                             "frames, the data ends before the first)",
                             name, (unsigned long long)r->announced);
        else
            s = cm_diag_fail(why, CM_E_FORMAT,
                             "%s: no audio frames (the header is valid but the audio is empty)",
                             name);
        goto fail;
    }

    /* Integer files read as float come out in [-1, 1) only with SFC_SET_NORM_FLOAT on;
     * it is libsndfile's default, set here so the contract does not rest on a default.
     * Float and double files are copied unchanged whatever this flag says: values above
     * full scale, NaN and Inf reach the analyzer, which counts and zeroes non-finite
     * samples. (SFC_SET_SCALE_FLOAT_INT_READ is for the opposite direction, float files
     * read into int buffers, and does not apply here.) */
    sf_command(r->sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    sf_command(r->sf, SFC_SET_NORM_DOUBLE, NULL, SF_TRUE);

    if (info) {
        info->rate_hz = (unsigned)si.samplerate;
        info->channels = (unsigned)si.channels;
        info->frames = r->announced;
        format_name(r->sf, si.format, info->format, sizeof info->format);
        bext_origin(r->sf, info->origin, sizeof info->origin);
    }
    *out = r;
    return CM_OK;
fail:
    cm_reader_close(r);
    return s;
}


cm_status cm_reader_open(const char *path, cm_reader **out, cm_reader_info *info, cm_diag *why)
{
    if (out) *out = NULL;
    if (info) memset(info, 0, sizeof *info);
    if (why) why->msg[0] = 0;
    if (!path || !out)
        return cm_diag_fail(why, CM_E_INVAL, "cm_reader_open: path and out must not be NULL");
    int fd;
    cm_status s = open_input(path, &fd, why);
    if (s != CM_OK) return s;
    return reader_open(fd, 1, path, out, info, why);
}

cm_status cm_reader_open_fd(int fd, const char *name, cm_reader **out, cm_reader_info *info,
                            cm_diag *why)
{
    if (out) *out = NULL;
    if (info) memset(info, 0, sizeof *info);
    if (why) why->msg[0] = 0;
    if (fd < 0 || !name || !out)
        return cm_diag_fail(why, CM_E_INVAL,
                            "cm_reader_open_fd: fd must be open, name and out not NULL");
    return reader_open(fd, 0, name, out, info, why);
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
        int e = 0;
        if (r->pumping) {
            pthread_mutex_lock(&r->mx);
            e = r->pump_done ? r->pump_errno : 0;
            pthread_mutex_unlock(&r->mx);
        }
        /* Over a pipe libsndfile takes a WAV stream's unknown length (0xFFFFFFFF) as 4 GiB
         * of data and stops there. Whether the stream went on is known without a clock:
         * the pump either sends more (a byte to peek at) or shuts its end (0). */
        if (!e && r->pumping && r->data_start && !r->data_bytes) {
            char c;
            ssize_t k;
            do k = recv(r->sock[0], &c, 1, MSG_PEEK);
            while (k < 0 && errno == EINTR);
            r->stream_cut = k > 0;
        }
        if (e) {
            r->pending = CM_E_IO;
            snprintf(r->pending_msg, sizeof r->pending_msg,
                     "%s: read error after %llu frames: %s", r->path,
                     (unsigned long long)r->delivered, strerror(e));
            return cm_diag_fail(why, r->pending, "%s", r->pending_msg);
        }
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
    return r->unterminated || (r->announced > 0 && r->delivered < r->announced);
}

int cm_reader_stream_cut(const cm_reader *r) { return r && r->at_eof && r->stream_cut; }

unsigned cm_reader_partial_bytes(const cm_reader *r)
{
    if (!r || !r->at_eof || !r->frame_bytes || !r->data_start) return 0;
    uint64_t end; /* stream offset one past the last byte */
    if (r->seekable) {
        /* libsndfile sized the audio at open. A file that has grown since is a recording
         * still being written: a frame cut at open was a write in progress, not damage. */
        struct stat st;
        if (fstat(r->fd, &st) != 0 || st.st_size != r->size_at_open) return 0;
        end = (uint64_t)(r->size_at_open - r->base);
    } else {
        cm_reader *w = (cm_reader *)r; /* the mutex only */
        pthread_mutex_lock(&w->mx);
        int done = r->pump_done;
        end = r->total;
        pthread_mutex_unlock(&w->mx);
        /* libsndfile stopped at the announced length with the stream going on (chunks
         * after the audio): the audio itself was whole. */
        if (!done) return 0;
    }
    if (end <= r->data_start) return 0;
    uint64_t avail = end - r->data_start;
    if (r->data_bytes && avail > r->data_bytes) avail = r->data_bytes;
    return (unsigned)(avail % r->frame_bytes);
}

