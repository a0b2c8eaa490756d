/* SPDX-License-Identifier: MIT */
/* crymeter frames: writes the front end's frame features of every clip of a manifest, for
 * training scripts (models/train/) that fit models outside C. The frames are the ones the
 * analyzer computes (decode, channel mean, resample to CM_FRONT_RATE_HZ, front end with the
 * model's settings), so a model trained on them sees at run time what it saw in training. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/calib_data.h"
#include "cli/cli.h"
#include "crymeter/model_file.h"

static const char help[] =
    "Usage: crymeter frames --manifest CSV [--data-root DIR] -o PREFIX [options]\n"
    "\n"
    "Writes the frame features (one row per 10 ms frame) of every clip of a manifest, for\n"
    "training scripts such as models/train/frame_net.py:\n"
    "  PREFIX.f32   little-endian float32 rows of D values: the n_mel mel band levels (dB),\n"
    "               then centroid (kHz), flatness, rolloff (kHz), flux (dB), RMS (dBFS),\n"
    "               f0 (Hz, 0 unvoiced) and voicing (0..1); D = n_mel + 7\n"
    "  PREFIX.csv   one row per clip: index, path, label, class, group, source, offset (first\n"
    "               row in PREFIX.f32), n_frames; with a header naming D\n"
    "\n"
    "Options:\n"
    "  --manifest CSV     labelled clips (the calibrate format; extra columns are ignored)\n"
    "  --data-root DIR    directory the manifest's paths are relative to\n"
    "  -o, --output PREFIX  where to write PREFIX.f32 and PREFIX.csv\n"
    "  --model FILE       take the front-end settings from this model (default: built-in)\n"
    "  --force            overwrite existing outputs\n"
    "\n"
    "Exit status: 0 ok; 1 a clip could not be read or an output not written (named; the rows\n"
    "written so far stay); 2 usage error.\n";

#define N_EXTRA 7u

static int csv_field(FILE *f, const char *s)
{
    /* Quote every text field: paths and groups may hold commas. */
    if (fputc('"', f) == EOF) return -1;
    for (; *s; s++) {
        if (*s == '"' && fputc('"', f) == EOF) return -1;
        if (fputc(*s, f) == EOF) return -1;
    }
    return fputc('"', f) == EOF ? -1 : 0;
}

int cmd_frames(int argc, char **argv)
{
    const char *manifest = NULL, *root = NULL, *prefix = NULL, *model_path = NULL;
    bool force = false;
    static const struct option lo[] = {
        {"manifest", required_argument, 0, 'm'}, {"data-root", required_argument, 0, 'r'},
        {"output", required_argument, 0, 'o'},   {"model", required_argument, 0, 'M'},
        {"force", no_argument, 0, 'f'},          {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'm': manifest = optarg; break;
        case 'r': root = optarg; break;
        case 'o': prefix = optarg; break;
        case 'M': model_path = optarg; break;
        case 'f': force = true; break;
        case 'h': fputs(help, stdout); return CM_EXIT_OK;
        default: fputs("Try 'crymeter frames --help'.\n", stderr); return CM_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("frames: unexpected argument '%s'", argv[optind]);
        return CM_EXIT_USAGE;
    }
    if (!manifest || !prefix) {
        cli_err("frames: --manifest and -o PREFIX are required");
        fputs("Try 'crymeter frames --help'.\n", stderr);
        return CM_EXIT_USAGE;
    }
    cm_model *m = NULL;
    cm_diag why = {{0}};
    cm_status st = model_path ? cm_model_load_file(model_path, &m, &why)
                              : cm_model_load_default(&m, &why);
    if (st != CM_OK) {
        cli_err("%s: %s", model_path ? model_path : "built-in model", why.msg);
        return CM_EXIT_FAIL;
    }
    cm_front_config fc = cm_model_front_config(m);
    cm_model_destroy(m);

    cd_set set = {0};
    if (cd_load_manifest(manifest, root, 0, &set) != 0) {
        cd_free(&set); /* the clips read before the bad line */
        return CM_EXIT_FAIL;
    }
    int rc = CM_EXIT_FAIL;
    size_t plen = strlen(prefix) + 8;
    char *pf = malloc(plen), *pc = malloc(plen);
    FILE *ff = NULL, *fcsv = NULL;
    if (!pf || !pc) goto out;
    snprintf(pf, plen, "%s.f32", prefix);
    snprintf(pc, plen, "%s.csv", prefix);
    if (!(ff = cli_open_output(pf, force)) || !(fcsv = cli_open_output(pc, force))) goto out;
    const unsigned d = fc.n_mel + N_EXTRA;
    if (fprintf(fcsv, "index,path,label,class,group,source,offset,n_frames  # D=%u\n", d) < 0)
        goto io;
    float *row = malloc(d * sizeof *row);
    if (!row) goto out;
    uint64_t offset = 0;
    for (size_t i = 0; i < set.n; i++) {
        const cd_clip *cl = &set.clip[i];
        float *x = NULL;
        size_t n = 0, nfr = 0;
        cm_frame *fr = NULL;
        if (cd_read_front(cl->path, &x, &n, NULL) != 0 || cd_frames(x, n, &fc, &fr, &nfr) != 0) {
            free(x);
            free(row);
            goto out; /* named by cd_read_front / cd_frames */
        }
        free(x);
        for (size_t k = 0; k < nfr; k++) {
            memcpy(row, fr[k].mel_db, fc.n_mel * sizeof *row);
            float *e = row + fc.n_mel;
            e[0] = fr[k].centroid_hz / 1000.f;
            e[1] = fr[k].flatness;
            e[2] = fr[k].rolloff_hz / 1000.f;
            e[3] = fr[k].flux;
            e[4] = fr[k].rms_dbfs;
            e[5] = fr[k].f0_hz;
            e[6] = fr[k].voicing;
            if (fwrite(row, sizeof *row, d, ff) != d) {
                free(fr);
                free(row);
                goto io;
            }
        }
        free(fr);
        if (fprintf(fcsv, "%zu,", i) < 0 || csv_field(fcsv, cl->path) || fputc(',', fcsv) == EOF ||
            csv_field(fcsv, cl->label) || fprintf(fcsv, ",%s,", cm_class_name(cl->cls)) < 0 ||
            csv_field(fcsv, cl->group ? cl->group : "") || fputc(',', fcsv) == EOF ||
            csv_field(fcsv, cl->source ? cl->source : "") ||
            fprintf(fcsv, ",%llu,%zu\n", (unsigned long long)offset, nfr) < 0) {
            free(row);
            goto io;
        }
        offset += nfr;
        if (i % 200 == 199 || i + 1 == set.n)
            fprintf(stderr, "\rframes: %zu/%zu clips, %llu frames", i + 1, set.n,
                    (unsigned long long)offset);
    }
    fputc('\n', stderr);
    free(row);
    rc = CM_EXIT_OK;
    goto out;
io:
    cli_err("frames: writing %s: %s", prefix, strerror(errno));
out:
    if (ff && fclose(ff) != 0 && rc == CM_EXIT_OK) {
        cli_err("frames: %s: %s", pf, strerror(errno));
        rc = CM_EXIT_FAIL;
    }
    if (fcsv && fclose(fcsv) != 0 && rc == CM_EXIT_OK) {
        cli_err("frames: %s: %s", pc, strerror(errno));
        rc = CM_EXIT_FAIL;
    }
    free(pf);
    free(pc);
    cd_free(&set);
    return rc;
}
