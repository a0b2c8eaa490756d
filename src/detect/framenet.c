/* SPDX-License-Identifier: MIT */
/* The frame network's inference (crymeter/framenet.h): the arithmetic of
 * models/train/frame_net.py's Net (Linear + tanh, torch.nn.GRU, Linear, softmax) in float32,
 * on the inputs of its inputs() function. Keep the two in step: tests/unit/test_framenet.c
 * compares this code with reference outputs the script wrote. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crymeter/framenet.h"
#include "detect/framenet_internal.h"

#define INPUTS_ID "crymeter-frame-inputs-1"

struct cm_framenet {
    unsigned n_dense, n_hidden;
    float weight;                  /* blend weight against the window classifier */
    float mean[CM_FN_N_IN], std[CM_FN_N_IN], inv_std[CM_FN_N_IN]; /* 1 / std: a multiply per input */
    /* Weights stored transposed (input-major: column i of PyTorch's matrix is row i here), so
     * a layer is a sum of scaled rows: the inner loop runs over outputs with no reduction,
     * which the compiler vectorises without reassociating floats. */
    float *w_in, *b_in;            /* N_IN x n_dense, n_dense */
    float *w_ih, *w_hh;            /* n_dense x 3H, H x 3H (columns r, z, n) */
    float *b_ih, *b_hh;            /* 3H each */
    float *w_out, *b_out;          /* 3 x H, 3 */
    char *json;                    /* the object's text, to write it back out */
};

void cm_framenet_destroy(cm_framenet *n)
{
    if (!n) return;
    free(n->w_in), free(n->b_in), free(n->w_ih), free(n->w_hh), free(n->b_ih), free(n->b_hh);
    free(n->w_out), free(n->b_out), free(n->json);
    free(n);
}

const char *cm_framenet_json(const cm_framenet *n) { return n->json; }
float cm_framenet_weight(const cm_framenet *n) { return n->weight; }

size_t cm_framenet_n_params(const cm_framenet *n)
{
    size_t D = n->n_dense, H = n->n_hidden;
    return 2 * CM_FN_N_IN + D * (CM_FN_N_IN + 1) + 3 * H * (D + H + 2) + CM_FN_CLASSES * (H + 1);
}

cm_status cm_framenet_set_weight(cm_framenet *n, float w, cm_diag *why)
{
    if (!n) return CM_E_INVAL;
    if (!(w >= 0.f && w <= 1.f))
        return cm_diag_fail(why, CM_E_RANGE, "frame_net.weight=%g: must be 0..1", (double)w);
    n->weight = w;
    return CM_OK;
}

/* In place: rows x cols (row-major) becomes cols x rows. */
static int transpose(float **m, size_t rows, size_t cols)
{
    float *t = malloc(rows * cols * sizeof *t);
    if (!t) return -1;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) t[c * rows + r] = (*m)[r * cols + c];
    free(*m);
    *m = t;
    return 0;
}

static cm_status get_size(const cJSON *o, const char *key, unsigned lo, unsigned hi,
                          unsigned *v, cm_diag *why)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!it) return cm_diag_fail(why, CM_E_FORMAT, "frame_net.%s: missing", key);
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi) ||
        it->valuedouble != (double)(unsigned)it->valuedouble)
        return cm_diag_fail(why, CM_E_FORMAT, "frame_net.%s: expected an integer %u..%u", key,
                            lo, hi);
    *v = (unsigned)it->valuedouble;
    return CM_OK;
}

/* Exactly n finite numbers into dst (allocated when *dst is NULL and alloc is set). */
static cm_status get_arr(const cJSON *o, const char *key, size_t n, float **dst, float *fixed,
                         cm_diag *why)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!a) return cm_diag_fail(why, CM_E_FORMAT, "frame_net.%s: missing", key);
    if (!cJSON_IsArray(a)) return cm_diag_fail(why, CM_E_FORMAT, "frame_net.%s: not an array", key);
    size_t have = (size_t)cJSON_GetArraySize(a);
    if (have != n)
        return cm_diag_fail(why, CM_E_FORMAT, "frame_net.%s: %zu values, expected %zu", key,
                            have, n);
    float *v = fixed;
    if (!v) {
        v = malloc(n * sizeof *v);
        if (!v) return cm_diag_fail(why, CM_E_NOMEM, "frame_net: out of memory");
        *dst = v;
    }
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || fabs(e->valuedouble) > 1e6)
            return cm_diag_fail(why, CM_E_FORMAT, "frame_net.%s[%zu]: not a finite number", key, i);
        v[i++] = (float)e->valuedouble;
    }
    return CM_OK;
}

cm_status cm_framenet_parse(const char *json, size_t len, cm_framenet **out, cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!json) return cm_diag_fail(why, CM_E_INVAL, "frame_net: NULL");
    cJSON *o = cJSON_ParseWithLength(json, len);
    if (!o) return cm_diag_fail(why, CM_E_FORMAT, "frame_net: invalid or truncated JSON");
    cm_status st = cm_framenet_from_cjson(o, out, why);
    cJSON_Delete(o);
    return st;
}

cm_status cm_framenet_from_cjson(const cJSON *o, cm_framenet **out, cm_diag *why)
{
    *out = NULL;
    cm_status st = CM_OK;
    cm_framenet *n = calloc(1, sizeof *n);
    if (!n) {
        st = cm_diag_fail(why, CM_E_NOMEM, "frame_net: out of memory");
        goto done;
    }
    const cJSON *it;
    if (!cJSON_IsObject(o)) {
        st = cm_diag_fail(why, CM_E_FORMAT, "frame_net: not an object");
        goto done;
    }
    it = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!it) {
        st = cm_diag_fail(why, CM_E_FORMAT, "frame_net.type: missing");
        goto done;
    }
    if (!cJSON_IsString(it) || strcmp(it->valuestring, "gru") != 0) {
        st = cm_diag_fail(why, CM_E_FORMAT, "frame_net.type: expected \"gru\"");
        goto done;
    }
    it = cJSON_GetObjectItemCaseSensitive(o, "inputs");
    if (!it) {
        st = cm_diag_fail(why, CM_E_FORMAT, "frame_net.inputs: missing");
        goto done;
    }
    if (!cJSON_IsString(it) || strcmp(it->valuestring, INPUTS_ID) != 0) {
        st = cm_diag_fail(why, CM_E_FORMAT, "frame_net.inputs: expected \"%s\"", INPUTS_ID);
        goto done;
    }
    unsigned nin = 0;
    if ((st = get_size(o, "n_in", 1, 4096, &nin, why))) goto done;
    if (nin != CM_FN_N_IN) {
        st = cm_diag_fail(why, CM_E_FORMAT, "frame_net.n_in=%u: expected %u", nin, CM_FN_N_IN);
        goto done;
    }
    if ((st = get_size(o, "n_dense", 1, CM_FN_MAX_UNITS, &n->n_dense, why))) goto done;
    if ((st = get_size(o, "n_hidden", 1, CM_FN_MAX_UNITS, &n->n_hidden, why))) goto done;
    it = cJSON_GetObjectItemCaseSensitive(o, "weight");
    n->weight = 0.5f;
    if (it) {
        if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble <= 1)) {
            st = cm_diag_fail(why, CM_E_FORMAT, "frame_net.weight: expected 0..1");
            goto done;
        }
        n->weight = (float)it->valuedouble;
    }
    size_t D = n->n_dense, H = n->n_hidden;
    if ((st = get_arr(o, "mean", CM_FN_N_IN, NULL, n->mean, why)) ||
        (st = get_arr(o, "std", CM_FN_N_IN, NULL, n->std, why)) ||
        (st = get_arr(o, "w_in", D * CM_FN_N_IN, &n->w_in, NULL, why)) ||
        (st = get_arr(o, "b_in", D, &n->b_in, NULL, why)) ||
        (st = get_arr(o, "w_ih", 3 * H * D, &n->w_ih, NULL, why)) ||
        (st = get_arr(o, "w_hh", 3 * H * H, &n->w_hh, NULL, why)) ||
        (st = get_arr(o, "b_ih", 3 * H, &n->b_ih, NULL, why)) ||
        (st = get_arr(o, "b_hh", 3 * H, &n->b_hh, NULL, why)) ||
        (st = get_arr(o, "w_out", CM_FN_CLASSES * H, &n->w_out, NULL, why)) ||
        (st = get_arr(o, "b_out", CM_FN_CLASSES, &n->b_out, NULL, why)))
        goto done;
    if (transpose(&n->w_in, D, CM_FN_N_IN) || transpose(&n->w_ih, 3 * H, D) ||
        transpose(&n->w_hh, 3 * H, H)) {
        st = cm_diag_fail(why, CM_E_NOMEM, "frame_net: out of memory");
        goto done;
    }
    for (unsigned i = 0; i < CM_FN_N_IN; i++)
        if (!(n->std[i] > 0)) {
            st = cm_diag_fail(why, CM_E_FORMAT, "frame_net.std[%u]: must be > 0", i);
            goto done;
        }
    for (unsigned i = 0; i < CM_FN_N_IN; i++) n->inv_std[i] = 1.f / n->std[i];
    n->json = cJSON_PrintUnformatted(o);
    if (!n->json) st = cm_diag_fail(why, CM_E_NOMEM, "frame_net: out of memory");
done:
    if (st != CM_OK) {
        cm_framenet_destroy(n);
        return st;
    }
    *out = n;
    return CM_OK;
}

void cm_fn_reset(cm_fn_state *s) { memset(s, 0, sizeof *s); }

static float clampf(float v, float lo, float hi)
{
    if (!(v == v)) return lo; /* NaN from a broken frame: the quiet end */
    return v < lo ? lo : v > hi ? hi : v;
}

void cm_fn_inputs(cm_fn_state *s, const cm_frame *fr, float x[CM_FN_N_IN])
{
    /* Spectral shape relative to the frame's loudest band (level-free), 60 dB deep, in
     * units of 20 dB. */
    float mx = -INFINITY;
    for (unsigned b = 0; b < CM_FN_N_MEL; b++)
        if (fr->mel_db[b] > mx) mx = fr->mel_db[b];
    for (unsigned b = 0; b < CM_FN_N_MEL; b++)
        x[b] = clampf(fr->mel_db[b] - mx, -60.f, 0.f) / 20.f;
    float rms = clampf(fr->rms_dbfs, -100.f, 0.f);
    float prev = s->started ? s->prev_rms_dbfs : rms;
    s->prev_rms_dbfs = rms;
    s->started = 1;
    float *e = x + CM_FN_N_MEL;
    e[0] = (rms + 50.f) / 20.f;                       /* level, around -50 dBFS */
    e[1] = clampf(rms - prev, -20.f, 20.f) / 10.f;    /* level change per 10 ms */
    e[2] = fr->centroid_hz / 1000.f;                  /* kHz */
    e[3] = fr->flatness;
    e[4] = fr->rolloff_hz / 1000.f;                   /* kHz */
    e[5] = clampf(fr->flux, 0.f, 30.f) / 10.f;
    int voiced = fr->f0_hz > 0.f;
    e[6] = voiced ? 1.f : 0.f;
    e[7] = voiced ? log2f(fr->f0_hz / 400.f) : 0.f;  /* octaves from 400 Hz */
    e[8] = fr->voicing;
    for (unsigned i = 2; i < CM_FN_N_IN - CM_FN_N_MEL; i++)
        if (!(e[i] == e[i])) e[i] = 0.f;
}

/* tanh as the rational approximation Eigen uses for float (13/6 degree, clamped at +-7.9053:
 * a few ulp from tanhf over the whole range). It has no branch or call, so the gate loops
 * below vectorise; libm's tanhf and expf were half of the network's time. */
static inline float fast_tanhf(float x)
{
    const float c = 7.90531110763549805f;
    x = x < -c ? -c : x > c ? c : x;
    const float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return x * p / q;
}

static inline float fast_sigmoidf(float a) { return 0.5f + 0.5f * fast_tanhf(0.5f * a); }

/* y[0..m) = b + sum over i of x[i] * wt[i][0..m): a layer with transposed weights. */
static inline void layer(const float *wt, const float *b, const float *x, size_t n, size_t m, float *y)
{
    memcpy(y, b, m * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        const float xi = x[i], *w = wt + i * m;
        for (size_t j = 0; j < m; j++) y[j] += xi * w[j];
    }
}

/* Cloned for AVX2 where the CPU has it (GCC picks the clone at load time; the default build
 * targets plain x86-64), which doubles the vector width of the layers and the gates. Each
 * output's sum runs in the same order in both clones and ISO C mode does not contract to
 * FMA, so the results are the same bit for bit on every x86-64. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__) /* ifunc resolvers run before the sanitizer runtimes start */
__attribute__((target_clones("avx2", "default")))
#endif
static void fn_step(const cm_framenet *n, cm_fn_state *s, const float x[CM_FN_N_IN],
                    float p[CM_FN_CLASSES])
{
    const size_t D = n->n_dense, H = n->n_hidden;
    float xs[CM_FN_N_IN], z[CM_FN_MAX_UNITS], gi[3 * CM_FN_MAX_UNITS], gh[3 * CM_FN_MAX_UNITS];
    for (unsigned i = 0; i < CM_FN_N_IN; i++) xs[i] = (x[i] - n->mean[i]) * n->inv_std[i];
    layer(n->w_in, n->b_in, xs, CM_FN_N_IN, D, z);
    for (size_t j = 0; j < D; j++) z[j] = fast_tanhf(z[j]);
    layer(n->w_ih, n->b_ih, z, D, 3 * H, gi);
    layer(n->w_hh, n->b_hh, s->h, H, 3 * H, gh);
    for (size_t j = 0; j < H; j++) {
        float r = fast_sigmoidf(gi[j] + gh[j]);
        float u = fast_sigmoidf(gi[H + j] + gh[H + j]);
        float c = fast_tanhf(gi[2 * H + j] + r * gh[2 * H + j]);
        s->h[j] = (1.f - u) * c + u * s->h[j];
    }
    float lg[CM_FN_CLASSES], mx = -INFINITY, sum = 0.f;
    for (unsigned c = 0; c < CM_FN_CLASSES; c++) {
        float a = n->b_out[c];
        for (size_t j = 0; j < H; j++) a += n->w_out[c * H + j] * s->h[j];
        lg[c] = a;
        if (lg[c] > mx) mx = lg[c];
    }
    for (unsigned c = 0; c < CM_FN_CLASSES; c++) sum += (lg[c] = expf(lg[c] - mx));
    for (unsigned c = 0; c < CM_FN_CLASSES; c++) p[c] = lg[c] / sum;
}

/* The clones and their resolver stay inside this file: a non-static cloned function would be
 * an exported ifunc of libcrymeter.so, whose only exports are the crymeter_* API. */
void cm_fn_step(const cm_framenet *n, cm_fn_state *s, const float x[CM_FN_N_IN],
                float p[CM_FN_CLASSES])
{
    fn_step(n, s, x, p);
}
