/* SPDX-License-Identifier: MIT */
/* crymeter calibrate --tone: the dB SPL offset from a recording of a reference tone.
 *
 * A sound level calibrator puts a steady 1 kHz tone of known level on the microphone (94 dB
 * SPL = 1 Pa, or 114 dB). Recorded through the same chain as later recordings (same gain),
 * its A-weighted level re full scale L gives the offset: SPL = level re FS + (tone_spl - L),
 * which is what --spl-offset takes. A-weighting is 0 dB at 1 kHz (IEC 61672-1), so the tone's
 * A-weighted and unweighted levels agree; the A-weighted one is used because that is the
 * scale the offset is applied to. The steady part is the middle of the recording (the first
 * and last 20 % are skipped: the calibrator being put on and taken off); it must be steady
 * (100 ms levels within +-0.5 dB, IEC 60942 calibrators hold +-0.2 dB) and not clipped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "crymeter/loudness.h"
#include "crymeter/reader.h"

#define TONE_BLOCK_S 0.1
#define TONE_MAX_SPREAD_DB 0.5  /* steadiness of the 100 ms levels (max - min) / 2 */
#define TONE_CLIP_DBFS (-0.1)   /* a peak this close to full scale may be clipped */
#define TONE_MIN_S 2.0
/* A calibrator's 94 dB SPL reaches any usable microphone chain far above this; a quieter
 * recording is noise or dither, not the tone. */
#define TONE_MIN_DBFS (-70.0)

static const char tone_help[] =
    "Usage: crymeter calibrate --tone FILE [--tone-spl DB]\n"
    "\n"
    "Measures the dB SPL offset of a recording chain from a recorded reference tone.\n"
    "Put a sound level calibrator (1 kHz, 94 dB SPL) on the microphone, record a few\n"
    "seconds with the gain you will use, and give the file here. The offset it prints is\n"
    "what `crymeter analyze --spl-offset` and `crymeter monitor --spl-offset` take; levels\n"
    "are then reported as calibrated dB(A) SPL.\n"
    "\n"
    "  --tone FILE     the recorded tone (any format libsndfile reads, >= 2 s)\n"
    "  --tone-spl DB   the calibrator's level in dB SPL (default 94; 114 for the loud step)\n"
    "\n"
    "The middle 60 % of the recording is measured; it must be steady (100 ms levels within\n"
    "+-0.5 dB) and unclipped. Exit status: 0 ok, 1 unreadable or unusable recording, 2 usage.\n";

int cmd_calibrate_tone(int argc, char **argv)
{
    const char *path = NULL;
    double tone_spl = 94.0;
    if (cli_help_asked(argc, argv)) {
        fputs(tone_help, stdout);
        return CM_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--tone") && i + 1 < argc) {
            path = argv[++i];
        } else if (!strncmp(a, "--tone=", 7)) {
            path = a + 7;
        } else if (!strcmp(a, "--tone-spl") && i + 1 < argc) {
            if (cli_parse_double("--tone-spl", argv[++i], 40.0, 160.0, &tone_spl)) goto usage;
        } else if (!strncmp(a, "--tone-spl=", 11)) {
            if (cli_parse_double("--tone-spl", a + 11, 40.0, 160.0, &tone_spl)) goto usage;
        } else {
            cli_err("calibrate --tone: unexpected argument '%s'", a);
            goto usage;
        }
    }
    if (!path) {
        cli_err("calibrate --tone: no recording given");
        goto usage;
    }

    cm_diag why = {{0}};
    cm_reader_info info;
    cm_reader *rd = NULL;
    cm_status st = cm_reader_open(path, &rd, &info, &why);
    if (st != CM_OK) {
        cli_err("%s", why.msg[0] ? why.msg : cm_status_str(st));
        return CM_EXIT_FAIL;
    }
    int rc = CM_EXIT_FAIL;
    cm_aw *aw = NULL;
    const size_t blk = (size_t)(info.rate_hz * TONE_BLOCK_S);
    float *buf = malloc(blk * info.channels * sizeof *buf);
    float *mono = malloc(blk * sizeof *mono);
    /* Block energies of the whole recording would grow with its length; a calibration tone
     * is short, but cap it: 10 minutes of 100 ms blocks. */
    const size_t max_blocks = 6000;
    double *e = malloc(max_blocks * sizeof *e);
    float peak = 0.0f;
    size_t nb = 0;
    if (!buf || !mono || !e || cm_aw_create(info.rate_hz, &aw, &why) != CM_OK) {
        cli_err("%s: %s", path, why.msg[0] ? why.msg : "out of memory");
        goto out;
    }
    for (;;) {
        size_t n = 0;
        if ((st = cm_reader_read(rd, buf, blk, &n, &why)) != CM_OK) {
            cli_err("%s", why.msg);
            goto out;
        }
        if (n < blk) break; /* a short last block is left out of the statistics */
        if (nb == max_blocks) {
            cli_err("%s: longer than 10 minutes; a calibration tone needs a few seconds", path);
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            float s = 0.0f;
            for (unsigned c = 0; c < info.channels; c++) {
                float v = buf[i * info.channels + c];
                if (!isfinite(v)) {
                    cli_err("%s: NaN or infinite samples; not a usable tone recording", path);
                    goto out;
                }
                if (fabsf(v) > peak) peak = fabsf(v);
                s += v;
            }
            mono[i] = s / (float)info.channels;
        }
        /* The Fast (125 ms) mean square at the block's end: for a steady tone it equals the
         * block's mean square to well under 0.01 dB (the 2 kHz ripple of a 1 kHz tone's
         * square passes the 125 ms one-pole with a gain of about 1 / (2 pi 2000 Hz 0.125 s),
         * 6e-4). */
        cm_aw_process(aw, mono, n, NULL);
        e[nb++] = cm_aw_ms(aw);
    }
    if ((double)nb * TONE_BLOCK_S < TONE_MIN_S) {
        cli_err("%s: %.1f s of audio; record at least %.0f s of the tone", path,
                (double)nb * TONE_BLOCK_S, TONE_MIN_S);
        goto out;
    }
    if (20.0 * log10(peak) > TONE_CLIP_DBFS) {
        cli_err("%s: the tone reaches %.2f dBFS and may be clipped; lower the gain and record "
                "again", path, 20.0 * log10(peak));
        goto out;
    }
    size_t lo = nb / 5, hi = nb - nb / 5;
    double sum = 0.0, mn = INFINITY, mx = -INFINITY;
    for (size_t k = lo; k < hi; k++) {
        double db = cm_db_from_ms(e[k]);
        sum += e[k];
        if (db < mn) mn = db;
        if (db > mx) mx = db;
    }
    double leq = cm_db_from_ms(sum / (double)(hi - lo));
    if (!(leq >= TONE_MIN_DBFS)) {
        cli_err("%s: silent or nearly (%.1f dB(A) re full scale, below %.0f); no tone to "
                "measure", path, leq, TONE_MIN_DBFS);
        goto out;
    }
    if ((mx - mn) / 2.0 > TONE_MAX_SPREAD_DB) {
        cli_err("%s: the level varies by +-%.1f dB over the middle of the recording (a steady "
                "tone holds +-%.1f dB); is the calibrator seated on the microphone?",
                path, (mx - mn) / 2.0, TONE_MAX_SPREAD_DB);
        goto out;
    }
    double offset = tone_spl - leq;
    printf("tone: %s, %.1f s, %u Hz, %u channel%s\n", path, (double)nb * TONE_BLOCK_S,
           info.rate_hz, info.channels, info.channels == 1 ? "" : "s");
    printf("level of the tone: %.2f dB(A) re full scale (steady within +-%.2f dB)\n", leq,
           (mx - mn) / 2.0);
    printf("calibrator: %.1f dB SPL\n", tone_spl);
    printf("spl offset: %.2f dB\n", offset);
    printf("use: crymeter analyze --spl-offset %.2f ...   (or monitor --spl-offset %.2f)\n",
           offset, offset);
    rc = CM_EXIT_OK;
out:
    free(buf);
    free(mono);
    free(e);
    cm_aw_destroy(aw);
    cm_reader_close(rd);
    return rc;
usage:
    fputs("Try 'crymeter calibrate --tone --help'.\n", stderr);
    return CM_EXIT_USAGE;
}
