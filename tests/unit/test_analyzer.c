/* SPDX-License-Identifier: MIT */
/* cm_analyzer end to end on real audio: streaming invariance (whole file vs random chunk
 * sizes, also with a home layer), episode times against a file built with known on/off
 * times, levels of a known sine, the excessive flags, non-finite samples, and rate/channel
 * independence. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "crymeter/analyzer.h"
#include "crymeter/classifier.h"
#include "crymeter/home.h"
#include "crymeter/model_file.h"
#include "crymeter/resample.h"
#include "crymeter/shape.h"
#include "crymeter/learn/sobgen.h"
#include "learn/calib_data.h"
#include "testutil.h"

#define MAX_EP 64

typedef struct {
    cm_episode ep[MAX_EP];
    int n;
    int starts, excessive;
    int with_shape;                /* END events of cry/vocal episodes that carried a shape */
    unsigned cry_units[MAX_EP];    /* shape->n_bursts of each END event (0 without shape) */
} collected;

static void collect(void *user, cm_event_kind kind, const cm_episode *ep)
{
    collected *c = user;
    if (kind == CM_EVENT_START) c->starts++;
    if (kind == CM_EVENT_EXCESSIVE) c->excessive++;
    if (kind == CM_EVENT_END && c->n < MAX_EP) {
        c->cry_units[c->n] = ep->shape ? ep->shape->n_bursts : 0;
        c->with_shape += ep->shape != NULL;
        c->ep[c->n] = *ep;
        c->ep[c->n++].shape = NULL; /* borrowed: valid only during the callback */
    }
}

/* Reads a whole file as interleaved float. */
static float *load(const char *path, unsigned *rate, unsigned *ch, size_t *n)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, sf_strerror(NULL));
    float *x = malloc((size_t)info.frames * info.channels * sizeof *x);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(sf_readf_float(f, x, info.frames), info.frames);
    sf_close(f);
    *rate = (unsigned)info.samplerate;
    *ch = (unsigned)info.channels;
    *n = (size_t)info.frames;
    return x;
}

/* x (n mono samples at rate) resampled to 44.1 kHz with soxr HQ; *m receives the length. */
static float *to_44100(const float *x, size_t n, unsigned rate, size_t *m)
{
    cm_rs *rs = NULL;
    ck_assert_int_eq(cm_rs_create(rate, 44100, &rs, NULL), CM_OK);
    size_t cap = cm_rs_out_for(rs, n) + cm_rs_out_for(rs, 0), m1 = 0, m2 = 0;
    float *up = malloc(cap * sizeof *up);
    ck_assert_ptr_nonnull(up);
    ck_assert_int_eq(cm_rs_process(rs, x, n, up, cap, &m1), CM_OK);
    ck_assert_int_eq(cm_rs_flush(rs, up + m1, cap - m1, &m2), CM_OK);
    cm_rs_destroy(rs);
    *m = m1 + m2;
    return up;
}

/* Runs the analyzer over x in chunks: chunk == 0 means random sizes from seed. */
static void run(const cm_analyzer_config *base, const float *x, size_t n, size_t chunk,
                uint64_t seed, collected *out, cm_summary *sum)
{
    cm_analyzer_config cfg = *base;
    cfg.on_event = collect;
    cfg.user = out;
    memset(out, 0, sizeof *out);
    cm_analyzer *a = NULL;
    cm_diag why = {{0}};
    ck_assert_msg(cm_analyzer_create(&cfg, &a, &why) == CM_OK, "create: %s", why.msg);
    size_t i = 0;
    while (i < n) {
        size_t k = chunk;
        if (!k) {
            /* Mix of tiny, odd, block-edge and large chunks. */
            static const size_t menu[] = {1, 7, 159, 160, 161, 1599, 4096, 44100};
            k = menu[tu_rand(&seed) % 8] + tu_rand(&seed) % 3;
        }
        if (k > n - i) k = n - i;
        ck_assert_int_eq(cm_analyzer_push(a, x + i * cfg.channels, k), CM_OK);
        i += k;
    }
    ck_assert_int_eq(cm_analyzer_flush(a), CM_OK);
    ck_assert_int_eq(cm_analyzer_push(a, x, 1), CM_E_STATE);
    cm_analyzer_summary(a, sum);
    cm_analyzer_destroy(a);
}

START_TEST(streaming_invariance_demo)
{
    unsigned rate, ch;
    size_t n;
    float *x = load(tu_src("samples/demo.flac"), &rate, &ch, &n);
    cm_analyzer_config cfg = cm_analyzer_config_default(rate, ch);
    collected whole, parts;
    cm_summary s1, s2;
    run(&cfg, x, n, n, 0, &whole, &s1);
    ck_assert_msg(whole.n >= 2, "demo.flac should hold several episodes, got %d", whole.n);
    for (int trial = 0; trial < 3; trial++) {
        uint64_t seed = tu_seed() + (uint64_t)trial * 7919;
        run(&cfg, x, n, 0, seed, &parts, &s2);
        ck_assert_int_eq(parts.n, whole.n);
        ck_assert_msg(memcmp(parts.ep, whole.ep, (size_t)whole.n * sizeof whole.ep[0]) == 0,
                      "episodes differ with random chunks (trial %d)", trial);
        ck_assert_uint_eq(s2.frames_read, n);
        ck_assert_uint_eq(s2.frames_analyzed, n);
        ck_assert(s1.lufs_integrated == s2.lufs_integrated);
        ck_assert(s1.lra_lu == s2.lra_lu);
    }
    free(x);
}
END_TEST

/* Builds a file with known on/off times: quiet noise (-60 dBFS) and, at `at` seconds, the
 * speech clip cut to its span above -45 dB re its peak, with 10 ms raised-cosine fades. The
 * truth is exactly where the inserted material starts and ends. */
START_TEST(known_on_off_times)
{
    unsigned rate, ch;
    size_t nc;
    float *clip = load(tu_src("samples/clips/speech_5703-47212-0000.flac"), &rate, &ch, &nc);
    ck_assert_uint_eq(ch, 1);
    double peak = 0;
    for (size_t i = 0; i < nc; i++) peak = fmax(peak, fabs(clip[i]));
    const size_t blk = rate / 100;
    long on = -1, off = -1;
    for (size_t b = 0; b + blk <= nc; b += blk) {
        double e = 0;
        for (size_t i = 0; i < blk; i++) e += (double)clip[b + i] * clip[b + i];
        double db = 10 * log10(e / blk / (peak * peak) + 1e-30);
        if (db > -45.0) {
            if (on < 0) on = (long)b;
            off = (long)(b + blk);
        }
    }
    ck_assert(on >= 0 && off > on);
    const double at = 3.0, total = 30.0;
    size_t n = (size_t)(total * rate);
    float *x = calloc(n, sizeof *x);
    uint64_t seed = tu_seed();
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.001 * tu_gauss(&seed)); /* -60 dBFS */
    const size_t o = (size_t)(at * rate), len = (size_t)(off - on), fade = rate / 100;
    for (size_t i = 0; i < len; i++) {
        double g = 1.0;
        if (i < fade) g = 0.5 - 0.5 * cos(M_PI * (double)i / fade);
        if (len - 1 - i < fade) g = 0.5 - 0.5 * cos(M_PI * (double)(len - 1 - i) / fade);
        x[o + i] += (float)(0.5 * g * clip[(size_t)on + i] / peak);
    }
    const double t_on = at, t_off = at + (double)len / rate;

    cm_analyzer_config cfg = cm_analyzer_config_default(rate, 1);
    collected c;
    cm_summary s;
    run(&cfg, x, n, 4096, 0, &c, &s);
    ck_assert_msg(c.n == 1, "expected one vocal episode, got %d", c.n);
    ck_assert_str_eq(cm_class_name(c.ep[0].cls), "vocal");
    /* 0.2 s: the tolerance for episode edges. */
    ck_assert_msg(fabs(c.ep[0].start_s - t_on) <= 0.2, "start %.3f vs truth %.3f",
                  c.ep[0].start_s, t_on);
    ck_assert_msg(fabs(c.ep[0].end_s - t_off) <= 0.2, "end %.3f vs truth %.3f", c.ep[0].end_s,
                  t_off);
    ck_assert_double_eq_tol(c.ep[0].duration_s, c.ep[0].end_s - c.ep[0].start_s, 1e-9);
    /* The pitch search covers 150-1000 Hz (infant cry and most adult voices); this male
     * reader's F0 lies below it, so only the contract is checked: a voiced median inside the
     * search range. */
    ck_assert_msg(c.ep[0].f0_median_hz >= 150 && c.ep[0].f0_median_hz <= 1000, "f0 %.1f",
                  c.ep[0].f0_median_hz);
    ck_assert_int_eq(c.starts, 1);
    free(x);
    free(clip);
}
END_TEST

START_TEST(sine_levels_and_silence)
{
    /* 10 s of 1 kHz at peak -20 dBFS, stereo 48 kHz, no episodes; levels from the summary. */
    const unsigned rate = 48000;
    size_t n = 10 * rate;
    float *x = malloc(2 * n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[2 * i] = x[2 * i + 1] = (float)(0.1 * sin(2 * M_PI * 1000.0 * (double)i / rate));
    cm_analyzer_config cfg = cm_analyzer_config_default(rate, 2);
    collected c;
    cm_summary s;
    run(&cfg, x, n, 1000, 0, &c, &s);
    ck_assert_double_eq_tol(s.sample_peak_dbfs, -20.0, 0.01);
    ck_assert_double_eq_tol(s.duration_s, 10.0, 1e-9);
    /* Stereo sine at -20 dBFS peak per channel: -20 - 3.01 + 0.69 (K at 1 kHz) - 0.691
     * + 3.01 (two channels) = -20.0 LUFS, +-0.1 (EBU Tech 3341 tolerance). */
    ck_assert_double_eq_tol(s.lufs_integrated, -20.0, 0.1);
    ck_assert_double_eq_tol(s.true_peak_dbtp, -20.0, 0.2);
    ck_assert_int_eq(s.nonfinite_samples, 0);

    memset(x, 0, 2 * n * sizeof *x);
    run(&cfg, x, n, n, 0, &c, &s);
    ck_assert_int_eq(c.n, 0);
    ck_assert(isinf(s.lufs_integrated) && s.lufs_integrated < 0);
    free(x);
}
END_TEST

START_TEST(excessive_flags_and_nonfinite)
{
    unsigned rate, ch;
    size_t n;
    float *x = load(tu_src("samples/demo.flac"), &rate, &ch, &n);
    cm_analyzer_config cfg = cm_analyzer_config_default(rate, ch);
    collected base, c;
    cm_summary s;
    run(&cfg, x, n, n, 0, &base, &s);
    ck_assert_int_ge(base.n, 1);
    /* Thresholds just under the first episode's level and duration flag it, by the margin. */
    cfg.loud_db = base.ep[0].spl_db_max - 1.5;
    cfg.long_s = base.ep[0].duration_s - 0.5;
    run(&cfg, x, n, n, 0, &c, &s);
    ck_assert_int_eq(c.n, base.n);
    ck_assert_uint_eq(c.ep[0].excessive, CM_EXCESS_LOUD | CM_EXCESS_LONG);
    ck_assert_double_eq_tol(c.ep[0].loud_excess_db, 1.5, 1e-9);
    ck_assert_double_eq_tol(c.ep[0].long_excess_s, 0.5, 1e-9);
    ck_assert_int_ge(c.excessive, 1);
    ck_assert(!c.ep[0].calibrated);
    /* Calibration shifts SPL by the offset difference and marks it calibrated. */
    cfg = cm_analyzer_config_default(rate, ch);
    cfg.spl_offset_db = CM_SPL_OFFSET_DEFAULT_DB - 10.0;
    cfg.calibrated = true;
    run(&cfg, x, n, n, 0, &c, &s);
    ck_assert(c.ep[0].calibrated);
    ck_assert_double_eq_tol(c.ep[0].spl_db_max, base.ep[0].spl_db_max - 10.0, 1e-9);

    /* NaN and Inf samples are counted and analysed as silence. */
    x[1000] = NAN;
    x[2000] = INFINITY;
    x[3000] = -INFINITY;
    cfg = cm_analyzer_config_default(rate, ch);
    run(&cfg, x, n, 777, 0, &c, &s);
    ck_assert_uint_eq(s.nonfinite_samples, 3);
    ck_assert(isfinite(s.lufs_integrated));
    free(x);
}
END_TEST

START_TEST(rate_and_channels_independent)
{
    /* The demo at 16 kHz mono and the same audio at 44.1 kHz stereo (soxr HQ, both channels
     * equal) give the same episodes. Edges within 0.3 s: the round trip is not bit-exact, so a
     * window scored right at a threshold may flip, moving an edge by one detector hop. */
    unsigned rate, ch;
    size_t n;
    float *x = load(tu_src("samples/demo.flac"), &rate, &ch, &n);
    size_t m = 0;
    float *up = to_44100(x, n, rate, &m);
    float *y = malloc(2 * m * sizeof *y);
    for (size_t i = 0; i < m; i++) y[2 * i] = y[2 * i + 1] = up[i];
    cm_analyzer_config c1 = cm_analyzer_config_default(rate, 1);
    cm_analyzer_config c2 = cm_analyzer_config_default(44100, 2);
    collected e1, e2;
    cm_summary s1, s2;
    run(&c1, x, n, 4096, 0, &e1, &s1);
    run(&c2, y, m, 4096, 0, &e2, &s2);
    ck_assert_int_eq(e1.n, e2.n);
    for (int i = 0; i < e1.n; i++) {
        ck_assert_int_eq(e1.ep[i].cls, e2.ep[i].cls);
        ck_assert_double_eq_tol(e1.ep[i].start_s, e2.ep[i].start_s, 0.3);
        ck_assert_double_eq_tol(e1.ep[i].end_s, e2.ep[i].end_s, 0.3);
        /* Same audio, same A-weighted level within 0.5 dB (resampler passband and the
         * A-weighting's bilinear error at 16 kHz differ slightly). */
        ck_assert_double_eq_tol(e1.ep[i].dba_max, e2.ep[i].dba_max, 0.5);
    }
    free(up);
    ck_assert_double_eq_tol(s1.duration_s, s2.duration_s, 1e-6);
    free(x);
    free(y);
}
END_TEST

/* Sobbing that outlasts the tears: a real infant cry (5 s), then synthetic sobbing whose
 * voiced exhalations stop after 3 s while the inhalation pulses go on at 0.8 Hz, in pink
 * noise at 20 dB SNR. The analyzer must report a sob episode after the cry with the pulse
 * rate; the same pulses with no crying anywhere near are not sobbing. */
START_TEST(sobbing_after_crying)
{
    unsigned rate, ch;
    size_t nc;
    float *cry = load(tu_src("samples/clips/baby_cry_1-187207-A.flac"), &rate, &ch, &nc);
    ck_assert_uint_eq(rate, 16000);
    cm_sobgen_config g = cm_sobgen_config_default();
    g.duration_s = 25.0;
    g.exhale_until_s = 3.0;
    g.noise = CM_SOBGEN_NOISE_PINK;
    g.snr_db = 20.0;
    g.seed = tu_seed();
    size_t ns = cm_sobgen_samples(&g), nev = 0;
    float *x = calloc(nc + ns, sizeof *x);
    memcpy(x, cry, nc * sizeof *x);
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_sobgen_render(&g, x + nc, ns, NULL, 0, &nev, &why), CM_OK);

    cm_analyzer_config cfg = cm_analyzer_config_default(rate, 1);
    collected c;
    cm_summary s;
    run(&cfg, x, nc + ns, 4096, 0, &c, &s);
    int cries = 0, sobs = 0, k = -1;
    for (int i = 0; i < c.n; i++) {
        if (c.ep[i].cls == CM_CLASS_CRY) cries++;
        if (c.ep[i].cls == CM_CLASS_SOB) sobs++, k = i;
    }
    ck_assert_msg(cries >= 1, "the real cry was not found");
    ck_assert_msg(sobs == 1, "expected one sob episode, got %d", sobs);
    ck_assert_uint_eq(s.episodes_by_class[CM_CLASS_SOB], 1);
    const cm_episode *e = &c.ep[k];
    ck_assert(e->start_s >= 5.0 && e->end_s <= (double)(nc + ns) / rate);
    ck_assert_msg(fabs(e->sob.pulse_rate_hz - 0.8) <= 0.08, "pulse rate %.3f Hz (0.8 +- 10 %%)",
                  e->sob.pulse_rate_hz);
    ck_assert_uint_ge(e->sob.n_pulses, 5);
    ck_assert(isnan(e->confidence));
    ck_assert(isfinite(e->dba_max) && isfinite(e->peak_dbfs));
    /* Every cry or vocal END carries its shape; the real cry has cry units. */
    ck_assert_int_eq(c.with_shape, c.n - sobs);
    int units = 0;
    for (int i = 0; i < c.n; i++)
        if (c.ep[i].cls == CM_CLASS_CRY) units += (int)c.cry_units[i];
    ck_assert_int_ge(units, 1);

    /* The same pulses alone (no cry within 60 s): no sob episode. */
    g.exhale = false;
    ck_assert_int_eq(cm_sobgen_render(&g, x, ns, NULL, 0, &nev, &why), CM_OK);
    run(&cfg, x, ns, 4096, 0, &c, &s);
    ck_assert_uint_eq(s.episodes_by_class[CM_CLASS_SOB], 0);
    free(x);
    free(cry);
}
END_TEST

/* The helper threads change nothing: the same episodes (every field) and summary with
 * threads = 1, 2 and 3, at 44.1 kHz stereo where it matters, in random chunks. */
START_TEST(helper_threads_same_results)
{
    unsigned rate, ch;
    size_t n;
    float *x = load(tu_src("samples/demo.flac"), &rate, &ch, &n);
    size_t m = 0;
    float *up = to_44100(x, n, rate, &m);
    float *y = malloc(2 * m * sizeof *y);
    for (size_t i = 0; i < m; i++) {
        y[2 * i] = up[i];
        y[2 * i + 1] = 0.5f * up[i];
    }
    cm_analyzer_config c1 = cm_analyzer_config_default(44100, 2);
    c1.threads = 1;
    cm_analyzer_config c2 = c1, c3 = c1;
    c2.threads = 2;
    c3.threads = 3;
    collected e1, e2, e3;
    cm_summary s1, s2, s3;
    run(&c1, y, m, 0, tu_seed(), &e1, &s1);
    run(&c2, y, m, 0, tu_seed() + 1, &e2, &s2);
    run(&c3, y, m, 0, tu_seed() + 2, &e3, &s3);
    ck_assert_int_ge(e1.n, 2);
    ck_assert_int_eq(e1.n, e2.n);
    ck_assert_int_eq(e1.n, e3.n);
    ck_assert(memcmp(e1.ep, e2.ep, (size_t)e1.n * sizeof e1.ep[0]) == 0);
    ck_assert(memcmp(e1.ep, e3.ep, (size_t)e1.n * sizeof e1.ep[0]) == 0);
    ck_assert(memcmp(&s1, &s2, sizeof s1) == 0);
    ck_assert(memcmp(&s1, &s3, sizeof s1) == 0);
    free(x);
    free(up);
    free(y);
}
END_TEST

/* Seconds of cry episodes inside [a, b) s. */
static double cry_seconds(const collected *c, double a, double b)
{
    double t = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->ep[i].cls != CM_CLASS_CRY) continue;
        double s = c->ep[i].start_s > a ? c->ep[i].start_s : a;
        double e = c->ep[i].end_s < b ? c->ep[i].end_s : b;
        if (e > s) t += e - s;
    }
    return t;
}

/* The streaming invariant with a home layer, whose state runs across windows (the 4 s trail
 * of recent corrections and the 4-window rule after a match, cm_home_trail): a layer taught
 * that the demo's second cry (48-58 s) is the household's sound, against its first (4-18 s),
 * lowers that cry, and gives the same episodes whole and in random chunks, on 1, 2 and 3
 * threads. */
START_TEST(streaming_invariance_home_layer)
{
    cm_model *m = NULL, *plain = NULL;
    cm_diag why = {{0}};
    ck_assert_int_eq(cm_model_load_default(&m, &why), CM_OK);
    ck_assert_int_eq(cm_model_load_default(&plain, &why), CM_OK);
    const char *path = tu_src("samples/demo.flac");
    float *au = NULL;
    size_t na = 0;
    unsigned fr = 0;
    ck_assert_int_eq(cd_read_front(path, &au, &na, &fr), 0);
    cm_front_config fc = cm_model_front_config(m);
    cd_feats f;
    ck_assert_int_eq(cd_window_feats(au, na, &fc, 0, &f), 0);
    float *x = malloc(f.n_win * CM_WF_DIM * sizeof *x);
    uint8_t *y = malloc(f.n_win);
    ck_assert(x && y);
    size_t k = 0, n_home = 0;
    for (size_t w = 0; w < f.n_win; w++) {
        double c = 0.25 * (double)w + 0.5; /* 1 s windows every 0.25 s: the centre, s */
        int cry = c >= 4.5 && c < 18.0, home = c >= 48.5 && c < 57.5;
        if (!cry && !home) continue;
        memcpy(x + k * CM_WF_DIM, f.x + w * CM_WF_DIM, CM_WF_DIM * sizeof *x);
        y[k++] = (uint8_t)cry;
        n_home += home;
    }
    ck_assert_uint_ge(n_home, 30);
    cm_home_params hp = {8.f, 0.01f, 0.8f};
    cm_home *h = NULL;
    ck_assert_msg(cm_home_fit(&hp, cm_model_net(m)->mean, cm_model_net(m)->std, x, y, k, &h,
                              &why) == CM_OK, "fit: %s", why.msg);
    ck_assert_int_eq(cm_model_set_home(m, h, &why), CM_OK);
    cm_home_free(h);

    unsigned rate, ch;
    size_t n;
    float *a = load(path, &rate, &ch, &n);
    cm_analyzer_config cfg = cm_analyzer_config_default(rate, ch);
    collected base, whole, parts;
    cm_summary s0, s1, s2;
    cfg.model = plain;
    run(&cfg, a, n, n, 0, &base, &s0);
    cfg.model = m;
    run(&cfg, a, n, n, 0, &whole, &s1);
    /* The layer acts: the second cry is (mostly) no longer crying, the first still is. */
    double b2 = cry_seconds(&base, 48, 58), h2 = cry_seconds(&whole, 48, 58);
    ck_assert_msg(b2 > 5.0 && h2 < 0.5 * b2, "second cry: %.2f s without the layer, %.2f s with", b2, h2);
    ck_assert_double_gt(cry_seconds(&whole, 4, 18.5), 0.8 * cry_seconds(&base, 4, 18.5));
    for (int trial = 0; trial < 3; trial++) {
        cfg.threads = 1u + (unsigned)trial;
        run(&cfg, a, n, 0, tu_seed() + (uint64_t)trial * 7919, &parts, &s2);
        ck_assert_int_eq(parts.n, whole.n);
        ck_assert_msg(memcmp(parts.ep, whole.ep, (size_t)whole.n * sizeof whole.ep[0]) == 0,
                      "episodes differ with random chunks on %u threads", cfg.threads);
    }
    free(a), free(au), free(x), free(y), free(f.x), free(f.peak);
    cm_model_destroy(m);
    cm_model_destroy(plain);
}
END_TEST

/* A model swapped in mid-stream (monitor's reload) at a block-unaligned point, with every
 * thread layout: a copy of the model in use changes nothing (no window lost or scored
 * twice, the jobs in flight finished first); a model with a frame network is refused by
 * name and the analysis goes on as if nothing happened. */
START_TEST(set_model_mid_stream)
{
    unsigned rate, ch;
    size_t n;
    float *x = load(tu_src("samples/demo.flac"), &rate, &ch, &n);
    cm_diag why = {{0}};
    cm_model *m1 = NULL, *m2 = NULL, *fn = NULL;
    ck_assert_int_eq(cm_model_load_default(&m1, &why), CM_OK);
    ck_assert_int_eq(cm_model_load_default(&m2, &why), CM_OK);
    ck_assert_msg(cm_model_load_file(tu_src("models/framenet.json"), &fn, &why) == CM_OK, "%s", why.msg);
    cm_analyzer_config base = cm_analyzer_config_default(rate, ch);
    base.model = m1;
    base.threads = 1;
    collected ref;
    cm_summary sref;
    run(&base, x, n, 4096, 0, &ref, &sref);
    ck_assert_int_ge(ref.n, 2);
    for (unsigned t = 1; t <= 3; t++) {
        cm_analyzer_config cfg = base;
        cfg.threads = t;
        cfg.on_event = collect;
        collected got;
        memset(&got, 0, sizeof got);
        cfg.user = &got;
        cm_analyzer *a = NULL;
        ck_assert_int_eq(cm_analyzer_create(&cfg, &a, &why), CM_OK);
        size_t half = n / 2 + 77; /* not on a 100 ms block edge */
        for (size_t i = 0; i < n;) {
            size_t k = 3001 < n - i ? 3001 : n - i;
            if (i < half && i + k > half) k = half - i;
            ck_assert_int_eq(cm_analyzer_push(a, x + i * ch, k), CM_OK);
            i += k;
            if (i == half) {
                ck_assert_int_eq(cm_analyzer_set_model(a, fn, &why), CM_E_FORMAT);
                ck_assert_msg(strstr(why.msg, "frame network") != NULL, "%s", why.msg);
                ck_assert_int_eq(cm_analyzer_set_model(a, m2, &why), CM_OK);
            }
        }
        ck_assert_int_eq(cm_analyzer_flush(a), CM_OK);
        ck_assert_int_eq(cm_analyzer_set_model(a, m1, &why), CM_E_STATE);
        cm_summary s;
        cm_analyzer_summary(a, &s);
        cm_analyzer_destroy(a);
        ck_assert_int_eq(got.n, ref.n);
        ck_assert_msg(memcmp(got.ep, ref.ep, (size_t)ref.n * sizeof ref.ep[0]) == 0, "threads %u", t);
        ck_assert(memcmp(&s, &sref, sizeof s) == 0);
    }
    cm_model_destroy(m1);
    cm_model_destroy(m2);
    cm_model_destroy(fn);
    free(x);
}
END_TEST

START_TEST(config_checks)
{
    cm_analyzer *a = NULL;
    cm_diag why = {{0}};
    cm_analyzer_config c = cm_analyzer_config_default(4000, 1);
    ck_assert_int_eq(cm_analyzer_create(&c, &a, &why), CM_E_RANGE);
    ck_assert_ptr_null(a);
    ck_assert_ptr_nonnull(strstr(why.msg, "4000"));
    c = cm_analyzer_config_default(16000, 0);
    ck_assert_int_eq(cm_analyzer_create(&c, &a, &why), CM_E_RANGE);
    c = cm_analyzer_config_default(16000, 65);
    ck_assert_int_eq(cm_analyzer_create(&c, &a, &why), CM_E_RANGE);
    c = cm_analyzer_config_default(16000, 1);
    c.merge_gap_s = 61;
    ck_assert_int_eq(cm_analyzer_create(&c, &a, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "merge_gap_s"));
    c.merge_gap_s = 60;
    c.long_s = 0;
    ck_assert_int_eq(cm_analyzer_create(&c, &a, &why), CM_E_RANGE);
    c.long_s = 1;
    c.threads = 4;
    ck_assert_int_eq(cm_analyzer_create(&c, &a, &why), CM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(why.msg, "threads=4"));
    c.threads = 2;
    ck_assert_int_eq(cm_analyzer_create(&c, &a, &why), CM_OK);
    ck_assert_int_eq(cm_analyzer_flush(a), CM_OK);
    ck_assert_int_eq(cm_analyzer_flush(a), CM_E_STATE);
    cm_summary s;
    cm_analyzer_summary(a, &s);
    ck_assert_uint_eq(s.frames_read, 0);
    cm_analyzer_destroy(a);
    cm_analyzer_destroy(NULL);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("analyzer");
    TCase *tc = tcase_create("pipeline");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, streaming_invariance_demo);
    tcase_add_test(tc, known_on_off_times);
    tcase_add_test(tc, sine_levels_and_silence);
    tcase_add_test(tc, excessive_flags_and_nonfinite);
    tcase_add_test(tc, rate_and_channels_independent);
    tcase_add_test(tc, sobbing_after_crying);
    tcase_add_test(tc, helper_threads_same_results);
    tcase_add_test(tc, streaming_invariance_home_layer);
    tcase_add_test(tc, set_model_mid_stream);
    tcase_add_test(tc, config_checks);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    tu_tmpdir_cleanup();
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
