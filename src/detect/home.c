/* SPDX-License-Identifier: MIT */
/* The home layer (crymeter/home.h): a weighted L2 logistic regression of "one of this
 * household's not-crying sounds" against crying on standardised window features, fitted by
 * Newton's method (57 parameters: a dense solve per step is cheaper than anything
 * iterative), and applied as a one-sided shift of the cry log-odds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crymeter/home.h"
#include "crymeter/model.h"

struct cm_home {
    cm_home_params p;
    size_t n, n_cry;
    float mean[CM_WF_DIM], std[CM_WF_DIM];
    float w[CM_WF_DIM], b;
    float *x;     /* n * CM_WF_DIM raw, as given (what the model file stores) */
    uint8_t *cry;
    float *z;     /* the not-crying examples standardised, n - n_cry rows (the gate) */
    float *r2;    /* each one's reach squared, summed over the features (the gate's units) */
};

void cm_home_free(cm_home *h)
{
    if (!h) return;
    free(h->x), free(h->cry), free(h->z), free(h->r2);
    free(h);
}

static cm_status check_params(const cm_home_params *p, cm_diag *why)
{
    if (!(p->gain >= 0.f && p->gain <= CM_HOME_MAX_GAIN))
        return cm_diag_fail(why, CM_E_RANGE, "home.gain=%g: expected 0..%g", (double)p->gain,
                            (double)CM_HOME_MAX_GAIN);
    if (!(p->l2 >= 0.f && p->l2 <= 1e6f))
        return cm_diag_fail(why, CM_E_RANGE, "home.l2=%g: expected 0..1e6", (double)p->l2);
    if (!(p->radius > 0.f && p->radius <= 1e3f))
        return cm_diag_fail(why, CM_E_RANGE, "home.radius=%g: expected above 0, at most 1000",
                            (double)p->radius);
    return CM_OK;
}

/* Squared distance between a and b (CM_WF_DIM standardised features), summed in feature
 * order; abandoned as soon as a checkpoint (every 8 features) reaches lim, when it returns
 * that partial sum (>= lim). Partial sums only grow, so a result below lim is the whole
 * distance. The gate and the reach both search for a nearest example with it. */
static float dist2_below(const float *a, const float *b, float lim)
{
    float d2 = 0.f;
    for (size_t j = 0; j < CM_WF_DIM; j++) {
        float d = a[j] - b[j];
        d2 += d * d;
        if ((j & 7u) == 7u && d2 >= lim) return d2;
    }
    return d2;
}

/* Each not-crying example's reach (cm_home_params.radius, CM_HOME_CRY_REACH): the radius,
 * or CM_HOME_CRY_REACH times the distance to the nearest crying example when shorter. One
 * pass over the crying examples per not-crying one, most abandoned after 8 features (40 cat
 * windows against 1,000 anchors: at most 2 M multiply-adds, once per layer). */
static void reach(cm_home *h)
{
    float zc[CM_WF_DIM];
    const float r2max = h->p.radius * h->p.radius * (float)CM_WF_DIM;
    const float k2 = CM_HOME_CRY_REACH * CM_HOME_CRY_REACH;
    size_t n_no = h->n - h->n_cry;
    for (size_t i = 0; i < n_no; i++) h->r2[i] = r2max;
    for (size_t c = 0; c < h->n; c++) {
        if (!h->cry[c]) continue;
        for (size_t j = 0; j < CM_WF_DIM; j++)
            zc[j] = (h->x[c * CM_WF_DIM + j] - h->mean[j]) / h->std[j];
        for (size_t i = 0; i < n_no; i++) {
            const float lim = h->r2[i] / k2;
            float d2 = dist2_below(zc, h->z + i * CM_WF_DIM, lim);
            if (d2 < lim) h->r2[i] = k2 * d2;
        }
    }
}

/* Checks and copies everything but the regression. */
static cm_status make(const cm_home_params *p, const float *mean, const float *std,
                      const float *x, const uint8_t *is_cry, size_t n, cm_home **out,
                      cm_diag *why)
{
    if (!out) return CM_E_INVAL;
    *out = NULL;
    if (!p || !x || !is_cry || (!mean) != (!std))
        return cm_diag_fail(why, CM_E_INVAL, "home: NULL argument");
    cm_status st = check_params(p, why);
    if (st != CM_OK) return st;
    if (n < 2 || n > CM_HOME_MAX_EXAMPLES)
        return cm_diag_fail(why, CM_E_RANGE, "home: %zu examples: expected 2..%u", n,
                            CM_HOME_MAX_EXAMPLES);
    for (size_t i = 0; i < n * CM_WF_DIM; i++)
        if (!isfinite(x[i]))
            return cm_diag_fail(why, CM_E_RANGE, "home.examples[%zu][%zu]=%g: expected a finite "
                                "number", i / CM_WF_DIM, i % CM_WF_DIM, (double)x[i]);
    for (size_t j = 0; mean && j < CM_WF_DIM; j++)
        if (!isfinite(mean[j]) || !(std[j] > 0.f) || !isfinite(std[j]))
            return cm_diag_fail(why, CM_E_RANGE, "home.%s[%zu]=%g: expected a finite number%s",
                                isfinite(mean[j]) ? "std" : "mean", j,
                                (double)(isfinite(mean[j]) ? std[j] : mean[j]),
                                isfinite(mean[j]) ? " above 0" : "");
    cm_home *h = calloc(1, sizeof *h);
    if (!h) return cm_diag_fail(why, CM_E_NOMEM, "home: out of memory");
    h->p = *p;
    h->n = n;
    h->x = malloc(n * CM_WF_DIM * sizeof *h->x);
    h->cry = malloc(n);
    if (!h->x || !h->cry) {
        cm_home_free(h);
        return cm_diag_fail(why, CM_E_NOMEM, "home: out of memory");
    }
    memcpy(h->x, x, n * CM_WF_DIM * sizeof *h->x);
    for (size_t i = 0; i < n; i++) {
        h->cry[i] = is_cry[i] != 0;
        h->n_cry += h->cry[i];
    }
    if (h->n_cry == 0 || h->n_cry == n) {
        cm_home_free(h);
        return cm_diag_fail(why, CM_E_RANGE, "home: %zu examples, all %s: a layer needs both "
                            "crying and not crying", n, is_cry[0] ? "crying" : "not crying");
    }
    if (mean) {
        memcpy(h->mean, mean, sizeof h->mean);
        memcpy(h->std, std, sizeof h->std);
    } else {
        /* The examples' own spread. Double sums: 4096 examples of features up to ~100 lose
         * nothing. */
        for (size_t j = 0; j < CM_WF_DIM; j++) {
            double s = 0, s2 = 0;
            for (size_t i = 0; i < n; i++) s += x[i * CM_WF_DIM + j];
            double m = s / (double)n;
            for (size_t i = 0; i < n; i++) {
                double d = x[i * CM_WF_DIM + j] - m;
                s2 += d * d;
            }
            double sd = sqrt(s2 / (double)n);
            h->mean[j] = (float)m;
            h->std[j] = sd > 1e-6 ? (float)sd : 1.f;
        }
    }
    h->z = malloc((n - h->n_cry) * CM_WF_DIM * sizeof *h->z);
    h->r2 = malloc((n - h->n_cry) * sizeof *h->r2);
    if (!h->z || !h->r2) {
        cm_home_free(h);
        return cm_diag_fail(why, CM_E_NOMEM, "home: out of memory");
    }
    for (size_t i = 0, k = 0; i < n; i++)
        if (!h->cry[i]) {
            for (size_t j = 0; j < CM_WF_DIM; j++)
                h->z[k * CM_WF_DIM + j] = (x[i * CM_WF_DIM + j] - h->mean[j]) / h->std[j];
            k++;
        }
    reach(h);
    *out = h;
    return CM_OK;
}

cm_status cm_home_create(const cm_home_params *p, const float *mean, const float *std,
                         const float *w, float b, const float *x, const uint8_t *is_cry,
                         size_t n, cm_home **out, cm_diag *why)
{
    if (!w) return cm_diag_fail(why, CM_E_INVAL, "home: NULL argument");
    for (size_t j = 0; j < CM_WF_DIM; j++)
        if (!isfinite(w[j]))
            return cm_diag_fail(why, CM_E_RANGE, "home.w[%zu]=%g: expected a finite number", j,
                                (double)w[j]);
    if (!isfinite(b))
        return cm_diag_fail(why, CM_E_RANGE, "home.b=%g: expected a finite number", (double)b);
    cm_status st = make(p, mean, std, x, is_cry, n, out, why);
    if (st != CM_OK) return st;
    memcpy((*out)->w, w, sizeof (*out)->w);
    (*out)->b = b;
    return CM_OK;
}

cm_home *cm_home_copy(const cm_home *h)
{
    if (!h) return NULL;
    cm_home *c = NULL;
    cm_diag why;
    if (cm_home_create(&h->p, h->mean, h->std, h->w, h->b, h->x, h->cry, h->n, &c, &why) !=
        CM_OK)
        return NULL;
    return c;
}

cm_home_params cm_home_get_params(const cm_home *h) { return h->p; }
size_t cm_home_n(const cm_home *h) { return h->n; }
size_t cm_home_n_cry(const cm_home *h) { return h->n_cry; }
const float *cm_home_mean(const cm_home *h) { return h->mean; }
const float *cm_home_std(const cm_home *h) { return h->std; }
const float *cm_home_weights(const cm_home *h) { return h->w; }
float cm_home_intercept(const cm_home *h) { return h->b; }
const float *cm_home_example(const cm_home *h, size_t i) { return h->x + i * CM_WF_DIM; }
int cm_home_is_cry(const cm_home *h, size_t i) { return h->cry[i]; }

float cm_home_shift(const cm_home *h, const float *x)
{
    if (!h || h->p.gain == 0.f) return 0.f;
    float z[CM_WF_DIM];
    double a = h->b;
    for (size_t j = 0; j < CM_WF_DIM; j++) {
        z[j] = (x[j] - h->mean[j]) / h->std[j];
        /* A non-finite feature says nothing about this home: no correction, not a NaN. */
        if (!isfinite(z[j])) return 0.f;
        a += (double)h->w[j] * z[j];
    }
    /* The gate: the not-crying example whose reach x lies deepest within, as the smallest
     * ratio of squared distance to squared reach. An example that lies on a crying one has
     * reach 0 and never gates. */
    float best = 1.f;
    for (size_t i = 0, n = h->n - h->n_cry; i < n; i++) {
        const float lim = best * h->r2[i];
        float d2 = dist2_below(z, h->z + i * CM_WF_DIM, lim);
        if (d2 < lim) best = d2 / h->r2[i];
    }
    if (!(best < 1.f)) return 0.f;
    float gate = 1.f - sqrtf(best);
    return -h->p.gain * gate * (float)(1.0 / (1.0 + exp(-a)));
}

float cm_home_trail_push(cm_home_trail *t, float shift)
{
    if (t->recent) t->recent--;
    t->shift[t->n++ % CM_HOME_TRAIL] = shift;
    /* Summed in slot order: unfilled slots (a stream's first 4 s) are 0, and the same
     * windows give the same float sum however the stream was chunked. */
    float sum = 0.f;
    for (unsigned i = 0; i < CM_HOME_TRAIL; i++) sum += t->shift[i];
    return sum / (float)CM_HOME_TRAIL;
}

int cm_home_trail_recent(const cm_home_trail *t) { return t->recent > 0; }

void cm_home_apply(const cm_home *h, cm_home_trail *t, const float *x, float p[CM_N_CLASSES])
{
    float s = cm_home_shift(h, x);
    float c = p[CM_CLASS_CRY];
    /* Only a correction of a window the model calls crying spreads: the room tone between a
     * cat's meows is the household's too, and its large (harmless) shift must not carry
     * into the crying that follows it. */
    if (t) {
        const int crying = c >= CM_HOME_TRAIL_MIN_P;
        float mean = cm_home_trail_push(t, crying ? s : 0.f);
        /* A match: recent for the window itself plus CM_HOME_RECENT after it. */
        if (crying && s <= -CM_HOME_MATCH_NAT) t->recent = CM_HOME_RECENT + 1u;
        if (mean < s) s = mean;
    }
    if (s == 0.f) return;
    if (c < 1e-6f) c = 1e-6f;
    if (c > 1.f - 1e-6f) c = 1.f - 1e-6f;
    float lo = logf(c / (1.f - c)) + s;
    float nc = 1.f / (1.f + expf(-lo));
    float rest = p[CM_CLASS_BACKGROUND] + p[CM_CLASS_VOCAL];
    float fb = rest > 0.f ? p[CM_CLASS_BACKGROUND] / rest : 0.5f;
    p[CM_CLASS_CRY] = nc;
    p[CM_CLASS_BACKGROUND] = (1.f - nc) * fb;
    p[CM_CLASS_VOCAL] = (1.f - nc) * (1.f - fb);
}

/* Weighted L2 logistic regression of "not crying" on the standardised examples, both
 * verdicts weighing 1/2 in all (a home's 40 cat windows count as much as 1024 anchors), the
 * intercept not decayed. Newton's method from zero: deterministic, converged when no
 * parameter moves by 1e-6 (25 steps at most). Returns -1 when the system is singular. */
static int fit(cm_home *h, float l2)
{
    enum { D = CM_WF_DIM + 1 };
    double w[D] = {0}, g[D], H[D][D + 1];
    size_t n_no = h->n - h->n_cry;
    if (!n_no || !h->n_cry) return -1;
    double wno = 0.5 / (double)n_no, wcr = 0.5 / (double)h->n_cry;
    for (int it = 0; it < 25; it++) {
        memset(g, 0, sizeof g);
        memset(H, 0, sizeof H);
        for (size_t i = 0; i < h->n; i++) {
            double zz[D];
            for (size_t j = 0; j < CM_WF_DIM; j++)
                zz[j] = ((double)h->x[i * CM_WF_DIM + j] - h->mean[j]) / h->std[j];
            zz[CM_WF_DIM] = 1.0;
            double a = 0;
            for (int j = 0; j < D; j++) a += w[j] * zz[j];
            double p = 1.0 / (1.0 + exp(-a)), y = h->cry[i] ? 0.0 : 1.0;
            double wt = h->cry[i] ? wcr : wno, r = wt * (p - y), v = wt * p * (1 - p);
            for (int j = 0; j < D; j++) {
                g[j] += r * zz[j];
                for (int k = 0; k <= j; k++) H[j][k] += v * zz[j] * zz[k];
            }
        }
        for (int j = 0; j < D; j++)
            for (int k = j + 1; k < D; k++) H[j][k] = H[k][j];
        for (int j = 0; j < (int)CM_WF_DIM; j++) {
            g[j] += l2 * w[j];
            H[j][j] += l2;
        }
        H[CM_WF_DIM][CM_WF_DIM] += 1e-9;
        for (int j = 0; j < D; j++) H[j][D] = g[j];
        /* Gaussian elimination with partial pivoting. */
        for (int c = 0; c < D; c++) {
            int piv = c;
            for (int r = c + 1; r < D; r++)
                if (fabs(H[r][c]) > fabs(H[piv][c])) piv = r;
            if (piv != c)
                for (int k = 0; k <= D; k++) {
                    double t = H[c][k];
                    H[c][k] = H[piv][k], H[piv][k] = t;
                }
            if (fabs(H[c][c]) < 1e-15) return -1;
            for (int r = c + 1; r < D; r++) {
                double f = H[r][c] / H[c][c];
                for (int k = c; k <= D; k++) H[r][k] -= f * H[c][k];
            }
        }
        double step[D], mx = 0;
        for (int r = D - 1; r >= 0; r--) {
            double t = H[r][D];
            for (int k = r + 1; k < D; k++) t -= H[r][k] * step[k];
            step[r] = t / H[r][r];
        }
        for (int j = 0; j < D; j++) {
            w[j] -= step[j];
            if (fabs(step[j]) > mx) mx = fabs(step[j]);
        }
        if (mx < 1e-6) break;
    }
    for (size_t j = 0; j < CM_WF_DIM; j++) h->w[j] = (float)w[j];
    h->b = (float)w[CM_WF_DIM];
    return 0;
}

cm_status cm_home_fit(const cm_home_params *p, const float *mean, const float *std,
                      const float *x, const uint8_t *is_cry, size_t n, cm_home **out,
                      cm_diag *why)
{
    cm_status st = make(p, mean, std, x, is_cry, n, out, why);
    if (st != CM_OK) return st;
    if (fit(*out, p->l2) != 0) {
        cm_home_free(*out);
        *out = NULL;
        return cm_diag_fail(why, CM_E_RANGE, "home: the regression cannot be fitted (the "
                            "examples are degenerate; try a larger home.l2)");
    }
    return CM_OK;
}
