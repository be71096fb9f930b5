/* The experiment layer's parallel hooks and labellers (experiment.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/experiment.h"
#include "regimes/measure.h"
#include "experiment_internal.h"
#include "internal.h"

#define LAB_BLOCK 256 /* rows per block of the nearest-point and classifier labellers */

void rg_exp_slice(const rg_exp_comm *c, size_t n, size_t *lo, size_t *hi)
{
    if (!c || c->size <= 1) {
        *lo = 0, *hi = n;
        return;
    }
    const size_t s = (size_t)c->size, r = (size_t)c->rank;
    *lo = n * r / s;
    *hi = n * (r + 1) / s;
}

int rg_exp__root(const rg_exp_comm *c) { return !c || c->rank == 0; }

int rg_exp__gather(const rg_exp_comm *c, rg_exp_type type, void *buf, size_t n, size_t len, int all)
{
    if (!c || c->size <= 1) return RG_OK;
    int (*f)(void *, rg_exp_type, void *, size_t, size_t) = all ? c->allgather : c->gather;
    if (!f) RG_FAIL(RG_EINVAL, "experiment: %d ranks but no %s hook", c->size, all ? "allgather" : "gather");
    const int st = f(c->ctx, type, buf, n, len);
    if (st != RG_OK) RG_FAIL(st, "experiment: gathering %zu items of %zu values over %d ranks failed", n, len, c->size);
    return RG_OK;
}

int rg_exp__agree(const rg_exp_comm *c, int status)
{
    return c && c->size > 1 && c->agree ? c->agree(c->ctx, status) : status;
}

int rg_exp__progress(const rg_exp_run *r, double fraction)
{
    return r->progress ? r->progress(r->progress_ctx, fraction) : RG_OK;
}

int rg_exp__label(const rg_exp_labeller *l, size_t B, const float *X, int *out)
{
    if (B == 0) return RG_OK;
    int st = l->label(l->ctx, B, X, out);
    if (st != RG_OK) return st;
    for (size_t i = 0; i < B * l->n_modes; i++)
        if (out[i] < 0 || (size_t)out[i] >= l->n_classes)
            RG_FAIL(RG_EINVAL, "labeller: label %d of row %zu is outside [0, %zu)", out[i], i / l->n_modes,
                    l->n_classes);
    return RG_OK;
}

void rg_exp__count(size_t n, size_t W, size_t L, size_t K, const int *labels, double *counts)
{
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < L; l++) counts[l * K + (size_t)labels[i * W + l]] += 1.0;
}

int rg_exp__fraction(size_t n, const unsigned char *flags, uint64_t seed, uint64_t key, double out[3])
{
    return rg_measure_phi(n, flags, RG_MEASURE_NBOOT, (rg_rng){ seed, RG_STREAM_BOOTSTRAP }, key, &out[0], &out[1],
                          &out[2]);
}

void rg_exp_labeller_free(rg_exp_labeller *l)
{
    if (!l) return;
    if (l->free) l->free(l->ctx);
    memset(l, 0, sizeof *l);
}

/* ---- sign and gmm4 ------------------------------------------------------------------------------------ */
typedef struct {
    size_t N, d;
    double *m;  /* sign: (N); gmm4: m_c then m_d (d each) */
} lab_sign;

static void lab_sign_free(void *ctx)
{
    lab_sign *c = ctx;
    if (c) free(c->m);
    free(c);
}

static int lab_sign_fn(void *ctx, size_t B, const float *X, int *labels)
{
    const lab_sign *c = ctx;
    return rg_data_classify_gmm2(c->N, c->m, X, B, labels);
}

static int lab_gmm4_fn(void *ctx, size_t B, const float *X, int *labels)
{
    const lab_sign *c = ctx;
    int *j = malloc((B ? B : 1) * sizeof *j);
    if (!j) RG_FAIL(RG_ENOMEM, "labeller: out of memory for %zu rows", B);
    int st = rg_data_classify_gmm4(c->d, c->m, c->m + c->d, X, B, j);
    for (size_t i = 0; i < B && st == RG_OK; i++) { /* component 2 [c < 0] + [d < 0] */
        labels[2 * i] = j[i] >> 1;
        labels[2 * i + 1] = j[i] & 1;
    }
    free(j);
    return st;
}

static int lab_sign_new(size_t N, size_t d, const double *m, size_t n_m, rg_exp_labeller *out)
{
    memset(out, 0, sizeof *out);
    if (!m || N == 0) RG_FAIL(RG_EINVAL, "labeller: NULL mean or zero dimension");
    if (!rg__all_finite(m, n_m)) RG_FAIL(RG_EINVAL, "labeller: the mean contains NaN or Inf");
    lab_sign *c = calloc(1, sizeof *c);
    if (c) c->m = malloc(n_m * sizeof *c->m);
    if (!c || !c->m) {
        lab_sign_free(c);
        RG_FAIL(RG_ENOMEM, "labeller: out of memory");
    }
    memcpy(c->m, m, n_m * sizeof *c->m);
    c->N = N, c->d = d;
    *out = (rg_exp_labeller){ .free = lab_sign_free, .ctx = c, .n_classes = 2 };
    return RG_OK;
}

int rg_exp_labeller_sign(size_t N, const double *m, rg_exp_labeller *out)
{
    RG_TRY(lab_sign_new(N, 0, m, N, out));
    out->label = lab_sign_fn, out->n_modes = 1, out->names[0] = "label";
    return RG_OK;
}

int rg_exp_labeller_gmm4(size_t d, const double *m_c, const double *m_d, rg_exp_labeller *out)
{
    memset(out, 0, sizeof *out);
    if (!m_c || !m_d) RG_FAIL(RG_EINVAL, "labeller: NULL mean");
    double *m = malloc(2 * (d ? d : 1) * sizeof *m);
    if (!m) RG_FAIL(RG_ENOMEM, "labeller: out of memory");
    memcpy(m, m_c, d * sizeof *m);
    memcpy(m + d, m_d, d * sizeof *m);
    int st = lab_sign_new(2 * d, d, m, 2 * d, out);
    free(m);
    if (st != RG_OK) return st;
    out->label = lab_gmm4_fn, out->n_modes = 2, out->names[0] = "common", out->names[1] = "difference";
    return RG_OK;
}

/* ---- mixture posterior ----------------------------------------------------------------------------------- */
static int lab_mixture_fn(void *ctx, size_t B, const float *X, int *labels)
{
    return rg_data_gmm_classify(ctx, X, B, labels);
}

int rg_exp_labeller_mixture(const rg_data_gmm *g, rg_exp_labeller *out)
{
    memset(out, 0, sizeof *out);
    if (!g) RG_FAIL(RG_EINVAL, "labeller: NULL mixture");
    if (rg_data_gmm_K(g) < 2) RG_FAIL(RG_EINVAL, "labeller: a mixture of one component has one class");
    *out = (rg_exp_labeller){ .label = lab_mixture_fn, .ctx = (void *)(uintptr_t)g, .n_modes = 1,
                              .n_classes = rg_data_gmm_K(g), .names = { "component" } };
    return RG_OK;
}

/* ---- nearest class mean ----------------------------------------------------------------------------------- */
typedef struct {
    size_t K, N;
    double *means; /* (K, N) */
} lab_means;

static void lab_means_free(void *ctx)
{
    lab_means *c = ctx;
    if (c) free(c->means);
    free(c);
}

static int lab_means_fn(void *ctx, size_t B, const float *X, int *labels)
{
    const lab_means *c = ctx;
    for (size_t b = 0; b < B; b++) {
        double best = INFINITY;
        int arg = 0;
        for (size_t k = 0; k < c->K; k++) {
            const double *mu = c->means + k * c->N;
            double r2 = 0.0;
            for (size_t i = 0; i < c->N; i++) {
                const double e = (double)X[b * c->N + i] - mu[i];
                r2 += e * e;
            }
            if (r2 < best) best = r2, arg = (int)k;
        }
        labels[b] = arg;
    }
    return RG_OK;
}

int rg_exp_labeller_nearest_mean(size_t K, size_t N, const double *means, rg_exp_labeller *out)
{
    memset(out, 0, sizeof *out);
    if (!means || K < 2 || N == 0) RG_FAIL(RG_EINVAL, "labeller: want K >= 2 class means of dimension >= 1");
    if (!rg__all_finite(means, K * N)) RG_FAIL(RG_EINVAL, "labeller: a class mean contains NaN or Inf");
    lab_means *c = calloc(1, sizeof *c);
    if (c) c->means = malloc(K * N * sizeof *c->means);
    if (!c || !c->means) {
        lab_means_free(c);
        RG_FAIL(RG_ENOMEM, "labeller: out of memory for %zu means", K);
    }
    memcpy(c->means, means, K * N * sizeof *c->means);
    c->K = K, c->N = N;
    *out = (rg_exp_labeller){ .label = lab_means_fn, .free = lab_means_free, .ctx = c, .n_modes = 1,
                              .n_classes = K, .names = { "class" } };
    return RG_OK;
}

/* ---- label of the nearest training point ------------------------------------------------------------------ */
typedef struct {
    size_t P, N;
    float *X;       /* (P, N) */
    int *labels;    /* (P) */
    double *xnorm;  /* (P) */
    float *work;    /* (LAB_BLOCK, P) Gram block */
} lab_point;

static void lab_point_free(void *ctx)
{
    lab_point *c = ctx;
    if (c) free(c->X), free(c->labels), free(c->xnorm), free(c->work);
    free(c);
}

static int lab_point_fn(void *ctx, size_t B, const float *X, int *labels)
{
    lab_point *c = ctx;
    int idx[LAB_BLOCK];
    float d1[LAB_BLOCK], d2[LAB_BLOCK];
    for (size_t b0 = 0; b0 < B; b0 += LAB_BLOCK) {
        const size_t nb = B - b0 < LAB_BLOCK ? B - b0 : LAB_BLOCK;
        RG_TRY(rg_measure_nearest2(nb, X + b0 * c->N, c->P, c->X, c->xnorm, c->N, idx, d1, d2, c->work));
        for (size_t b = 0; b < nb; b++) labels[b0 + b] = c->labels[idx[b]];
    }
    return RG_OK;
}

int rg_exp_labeller_nearest_point(const float *X, size_t P, size_t N, const int *labels, rg_exp_labeller *out)
{
    memset(out, 0, sizeof *out);
    if (!X || !labels || P < 2 || N == 0) RG_FAIL(RG_EINVAL, "labeller: want P >= 2 labelled training points");
    int K = 0;
    for (size_t i = 0; i < P; i++) {
        if (labels[i] < 0) RG_FAIL(RG_EINVAL, "labeller: label %d of point %zu is negative", labels[i], i);
        if (labels[i] + 1 > K) K = labels[i] + 1;
    }
    if (K < 2) RG_FAIL(RG_EINVAL, "labeller: the training labels hold one class");
    lab_point *c = calloc(1, sizeof *c);
    if (c) {
        c->X = malloc(P * N * sizeof *c->X), c->labels = malloc(P * sizeof *c->labels);
        c->xnorm = malloc(P * sizeof *c->xnorm), c->work = malloc(LAB_BLOCK * P * sizeof *c->work);
    }
    if (!c || !c->X || !c->labels || !c->xnorm || !c->work) {
        lab_point_free(c);
        RG_FAIL(RG_ENOMEM, "labeller: out of memory for %zu training points", P);
    }
    memcpy(c->X, X, P * N * sizeof *c->X);
    memcpy(c->labels, labels, P * sizeof *c->labels);
    c->P = P, c->N = N;
    int st = rg_measure_norms(P, c->X, N, c->xnorm);
    if (st != RG_OK) {
        lab_point_free(c);
        return st;
    }
    *out = (rg_exp_labeller){ .label = lab_point_fn, .free = lab_point_free, .ctx = c, .n_modes = 1,
                              .n_classes = (size_t)K, .names = { "class" } };
    return RG_OK;
}

/* ---- classifier network ------------------------------------------------------------------------------------ */
typedef struct {
    const rg_nn_model *m;
    rg_nn_work *w;
    size_t n_in, views, modes;
    double *offset; /* (n_in) or NULL */
    float *img;     /* (LAB_BLOCK, n_in) */
    int *cls;       /* (LAB_BLOCK) */
} lab_clf;

static void lab_clf_free(void *ctx)
{
    lab_clf *c = ctx;
    if (c) rg_nn_work_free(c->w), free(c->offset), free(c->img), free(c->cls);
    free(c);
}

static int lab_clf_fn(void *ctx, size_t B, const float *X, int *labels)
{
    lab_clf *c = ctx;
    const size_t n_in = c->n_in, V = c->views, L = c->modes;
    for (size_t b0 = 0; b0 < B; b0 += LAB_BLOCK) {
        const size_t nb = B - b0 < LAB_BLOCK ? B - b0 : LAB_BLOCK;
        for (size_t v = 0; v < V; v++) {
            for (size_t b = 0; b < nb; b++)
                for (size_t i = 0; i < n_in; i++) {
                    const double x = (double)X[((b0 + b) * V + v) * n_in + i];
                    c->img[b * n_in + i] = (float)(c->offset ? x + c->offset[i] : x);
                }
            RG_TRY(rg_nn_classifier_predict(c->m, nb, c->img, c->cls, c->w));
            for (size_t b = 0; b < nb; b++) labels[(b0 + b) * L + v] = c->cls[b];
        }
        if (L == V) continue;
        for (size_t b = 0; b < nb; b++) { /* docs/math.md 10.3: s = +1 for class 0, -1 for class 1 */
            int *l = labels + (b0 + b) * L;
            const int sx = 1 - 2 * l[0], sy = 1 - 2 * l[1];
            l[2] = (sx + sy) / 2 + 1; /* shared c in {-1, 0, 1} -> 0, 1, 2 */
            l[3] = (sx - sy) / 2 + 1; /* relative r */
        }
    }
    return RG_OK;
}

int rg_exp_labeller_classifier(const rg_nn_model *m, const double *offset, size_t views, rg_exp_labeller *out)
{
    memset(out, 0, sizeof *out);
    if (!m || views < 1 || views > 2) RG_FAIL(RG_EINVAL, "labeller: want a classifier and 1 or 2 views");
    const rg_nn_arch *a = rg_nn_model_arch(m);
    if (a->task != RG_NN_CLASSIFIER) RG_FAIL(RG_EINVAL, "labeller: the network is a score network, not a classifier");
    if (a->n_out < 2) RG_FAIL(RG_EINVAL, "labeller: a classifier of %zu classes", a->n_out);
    lab_clf *c = calloc(1, sizeof *c);
    int st = c ? rg_nn_work_new(m, LAB_BLOCK, &c->w) : RG_ENOMEM;
    if (st == RG_OK) {
        c->img = malloc(LAB_BLOCK * a->n_in * sizeof *c->img), c->cls = malloc(LAB_BLOCK * sizeof *c->cls);
        if (offset) c->offset = malloc(a->n_in * sizeof *c->offset);
        if (!c->img || !c->cls || (offset && !c->offset)) st = RG_ENOMEM;
    }
    if (st != RG_OK) {
        lab_clf_free(c);
        RG_FAIL(st, "labeller: out of memory for the classifier's workspace");
    }
    if (offset) memcpy(c->offset, offset, a->n_in * sizeof *c->offset);
    c->m = m, c->n_in = a->n_in, c->views = views;
    c->modes = views == 2 && a->n_out == 2 ? 4 : views;
    *out = (rg_exp_labeller){ .label = lab_clf_fn, .free = lab_clf_free, .ctx = c, .n_modes = c->modes,
                              .n_classes = c->modes == 4 ? 3 : a->n_out }; /* c, r take 3 values */
    if (views == 1) out->names[0] = "class";
    else out->names[0] = "class_x", out->names[1] = "class_y";
    if (c->modes == 4) out->names[2] = "shared", out->names[3] = "relative";
    return RG_OK;
}
