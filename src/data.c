/* Gaussian mixtures: validation, presets (gmm2, gmm4), exact log-density, posterior classification
 * and deterministic sampling on Philox streams. Contracts and addressing: include/regimes/data.h;
 * the math: docs/math.md 5.3, 5.4, 7.1(c), 8.4. Training sets and spectra live in src/data_set.c,
 * their .npy files in src/data_npy.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "regimes/data.h"

/* Weights must sum to 1 within this (data.h): rounding in a user's K-term sum is ~K eps. */
#define DATA_WEIGHT_TOL 1e-12
/* A full covariance read from a file or built as a product is symmetric to ~1e-15 relative; 1e-10 of
 * its largest entry accepts that and rejects real asymmetry (same rule as theory.c's Cw). */
#define DATA_SYM_RTOL 1e-10
/* gmm4 directions count as orthogonal when |c . d| <= 1e-12 |c| |d| (data.h): ~d eps of rounding. */
#define DATA_ORTH_RTOL 1e-12
#define DATA_LOG_2PI 1.83787706640934548356

struct rg_data_gmm {
    size_t K, N;
    rg_cov_kind kind;
    double *w;       /* (K) weights */
    double *log_w;   /* (K) log pi_j */
    double *mu;      /* (K, N) */
    double *cov;     /* as given: (K), (K, N) or (K, N, N) */
    double *scale;   /* iso: (K) sigma_j; diag: (K, N) sqrt(c_ji); full: (K, N, N) lower Cholesky */
    double *half_ld; /* (K) sum_i log (R_j)_ii = 1/2 log det C_j */
    double *dir;     /* presets: (n_dir, dim_dir) scaled label directions, else NULL */
    size_t n_dir, dim_dir;
};

/* ---- validation ------------------------------------------------------------------------------- */

static size_t cov_len(const rg_data_gmm_params *p)
{
    switch (p->cov_kind) {
    case RG_COV_ISO: return p->K;
    case RG_COV_DIAG: return p->K * p->N;
    case RG_COV_FULL: return p->K * p->N * p->N;
    }
    return 0;
}

/* Shapes, finiteness, weights: NULL or the reason (always RG_EINVAL). */
static const char *check_shape(const rg_data_gmm_params *p)
{
    static _Thread_local char msg[160];
    if (!p) return "mixture parameters are NULL";
    if (p->K == 0) return "mixture has K = 0 components";
    if (p->N == 0) return "mixture has dimension N = 0";
    if (p->cov_kind != RG_COV_ISO && p->cov_kind != RG_COV_DIAG && p->cov_kind != RG_COV_FULL)
        return "unknown covariance kind";
    if (p->cov_kind == RG_COV_FULL && p->N > 46340) return "full covariance too large for LAPACK int";
    if (p->N > ((size_t)-1 / sizeof(double)) / p->N / p->K) return "mixture too large for memory";
    if (!p->weights || !p->means || !p->cov) return "mixture weights, means or covariances are NULL";
    double sum = 0.0;
    for (size_t j = 0; j < p->K; j++) {
        if (!(p->weights[j] > 0.0) || !isfinite(p->weights[j])) {
            snprintf(msg, sizeof msg, "weight %zu is %g, want a finite value > 0", j, p->weights[j]);
            return msg;
        }
        sum += p->weights[j];
    }
    if (!(fabs(sum - 1.0) <= DATA_WEIGHT_TOL)) {
        snprintf(msg, sizeof msg, "weights sum to %.17g, want 1 (|error| <= 1e-12)", sum);
        return msg;
    }
    for (size_t j = 0; j < p->K; j++)
        if (!rg__all_finite(p->means + j * p->N, p->N)) {
            snprintf(msg, sizeof msg, "mean %zu contains NaN or Inf", j);
            return msg;
        }
    if (!rg__all_finite(p->cov, cov_len(p))) return "covariances contain NaN or Inf";
    return NULL;
}

static double max_abs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* Positive variances, or symmetric + Cholesky of each full C_j into R (K, N, N): NULL or the reason
 * (RG_EDOM). R must have room for K N^2 doubles when the kind is full. */
static const char *check_spd(const rg_data_gmm_params *p, double *R)
{
    static _Thread_local char msg[160];
    size_t N = p->N, n = p->cov_kind == RG_COV_ISO ? 1 : N;
    if (p->cov_kind != RG_COV_FULL) {
        for (size_t j = 0; j < p->K; j++)
            for (size_t i = 0; i < n; i++)
                if (!(p->cov[j * n + i] > 0.0)) {
                    snprintf(msg, sizeof msg, "variance %zu of component %zu is %g, want > 0", i, j,
                             p->cov[j * n + i]);
                    return msg;
                }
        return NULL;
    }
    for (size_t j = 0; j < p->K; j++) {
        const double *C = p->cov + j * N * N;
        double tol = DATA_SYM_RTOL * max_abs(C, N * N);
        for (size_t a = 0; a < N; a++)
            for (size_t b = 0; b < a; b++)
                if (!(fabs(C[a * N + b] - C[b * N + a]) <= tol)) {
                    snprintf(msg, sizeof msg, "covariance %zu is not symmetric (entries %zu,%zu)", j, a, b);
                    return msg;
                }
        double *L = R + j * N * N;
        for (size_t a = 0; a < N; a++)
            for (size_t b = 0; b < N; b++) L[a * N + b] = b <= a ? C[a * N + b] : 0.0;
        lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)N, L, (lapack_int)N);
        if (info != 0) {
            snprintf(msg, sizeof msg, "covariance %zu is not positive definite (leading minor %d)", j,
                     (int)info);
            return msg;
        }
    }
    return NULL;
}

const char *rg_data_gmm_check(const rg_data_gmm_params *p)
{
    const char *why = check_shape(p);
    if (why || p->cov_kind != RG_COV_FULL) return why ? why : check_spd(p, NULL);
    double *R = malloc(p->K * p->N * p->N * sizeof *R);
    if (!R) return "out of memory while factorising the covariances";
    why = check_spd(p, R);
    free(R);
    return why;
}

/* ---- construction ----------------------------------------------------------------------------- */

void rg_data_gmm_free(rg_data_gmm *g)
{
    if (!g) return;
    free(g->w);
    free(g->log_w);
    free(g->mu);
    free(g->cov);
    free(g->scale);
    free(g->half_ld);
    free(g->dir);
    free(g);
}

static void fill_factors(rg_data_gmm *g)
{
    size_t K = g->K, N = g->N;
    for (size_t j = 0; j < K; j++) {
        g->log_w[j] = log(g->w[j]);
        double s = 0.0;
        if (g->kind == RG_COV_ISO) {
            g->scale[j] = sqrt(g->cov[j]);
            s = 0.5 * (double)N * log(g->cov[j]);
        } else if (g->kind == RG_COV_DIAG) {
            for (size_t i = 0; i < N; i++) {
                g->scale[j * N + i] = sqrt(g->cov[j * N + i]);
                s += 0.5 * log(g->cov[j * N + i]);
            }
        } else {
            for (size_t i = 0; i < N; i++) s += log(g->scale[j * N * N + i * N + i]);
        }
        g->half_ld[j] = s;
    }
}

int rg_data_gmm_new(const rg_data_gmm_params *p, rg_data_gmm **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_data_gmm_new: out is NULL");
    *out = NULL;
    const char *why = check_shape(p);
    if (why) RG_FAIL(RG_EINVAL, "%s", why);
    size_t K = p->K, N = p->N, nc = cov_len(p);
    rg_data_gmm *g = calloc(1, sizeof *g);
    if (!g) RG_FAIL(RG_ENOMEM, "out of memory for a mixture");
    g->K = K;
    g->N = N;
    g->kind = p->cov_kind;
    g->w = malloc(K * sizeof *g->w);
    g->log_w = malloc(K * sizeof *g->log_w);
    g->half_ld = malloc(K * sizeof *g->half_ld);
    g->mu = malloc(K * N * sizeof *g->mu);
    g->cov = malloc(nc * sizeof *g->cov);
    g->scale = malloc(nc * sizeof *g->scale);
    if (!g->w || !g->log_w || !g->half_ld || !g->mu || !g->cov || !g->scale) {
        rg_data_gmm_free(g);
        RG_FAIL(RG_ENOMEM, "out of memory for a mixture with K = %zu, N = %zu", K, N);
    }
    if ((why = check_spd(p, g->scale)) != NULL) {
        rg_data_gmm_free(g);
        RG_FAIL(RG_EDOM, "%s", why);
    }
    memcpy(g->w, p->weights, K * sizeof *g->w);
    memcpy(g->mu, p->means, K * N * sizeof *g->mu);
    memcpy(g->cov, p->cov, nc * sizeof *g->cov);
    fill_factors(g);
    *out = g;
    return RG_OK;
}

/* ---- presets ---------------------------------------------------------------------------------- */

/* m = sqrt(norm2) dir / |dir| into m (n); dir NULL means the pattern (1, sign, 1, sign, ...). */
static int scaled_direction(size_t n, double norm2, const double *dir, double sign, const char *name,
                            double *m)
{
    if (!(norm2 > 0.0) || !isfinite(norm2)) RG_FAIL(RG_EINVAL, "|%s|^2 = %g, want a finite value > 0", name, norm2);
    if (dir && !rg__all_finite(dir, n)) RG_FAIL(RG_EINVAL, "direction of %s contains NaN or Inf", name);
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        m[i] = dir ? dir[i] : (i % 2 ? sign : 1.0);
        s += m[i] * m[i];
    }
    if (!(s > 0.0)) RG_FAIL(RG_EINVAL, "direction of %s is zero", name);
    double f = sqrt(norm2 / s);
    for (size_t i = 0; i < n; i++) m[i] *= f;
    return RG_OK;
}

/* rg_data_gmm_new, then keep the preset's label directions m (n_dir, dim); *out NULL on failure. */
static int new_preset(const rg_data_gmm_params *p, const double *m, size_t n_dir, size_t dim,
                      rg_data_gmm **out)
{
    RG_TRY(rg_data_gmm_new(p, out));
    rg_data_gmm *g = *out;
    if (!(g->dir = malloc(n_dir * dim * sizeof *g->dir))) {
        rg_data_gmm_free(g);
        *out = NULL;
        RG_FAIL(RG_ENOMEM, "out of memory for the label directions");
    }
    memcpy(g->dir, m, n_dir * dim * sizeof *g->dir);
    g->n_dir = n_dir;
    g->dim_dir = dim;
    return RG_OK;
}

int rg_data_gmm2(size_t N, double mean_norm2, const double *dir, double sigma2, const double *Cw,
                 rg_data_gmm **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_data_gmm2: out is NULL");
    *out = NULL;
    if (N == 0) RG_FAIL(RG_EINVAL, "gmm2 needs dimension N >= 1");
    if (!Cw && (!(sigma2 > 0.0) || !isfinite(sigma2)))
        RG_FAIL(RG_EDOM, "gmm2 within-class variance sigma^2 = %g, want a finite value > 0", sigma2);
    if (Cw && N > 46340) RG_FAIL(RG_EINVAL, "gmm2: a dense Cw of size N = %zu is too large", N);
    double *mu = malloc(2 * N * sizeof *mu), *cov = Cw ? malloc(2 * N * N * sizeof *cov) : NULL;
    int st = mu && (cov || !Cw) ? RG_OK : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "out of memory for gmm2");
    if (st == RG_OK) st = scaled_direction(N, mean_norm2, dir, 1.0, "m", mu);
    if (st == RG_OK) {
        for (size_t i = 0; i < N; i++) mu[N + i] = -mu[i];
        if (Cw) {
            memcpy(cov, Cw, N * N * sizeof *cov);
            memcpy(cov + N * N, Cw, N * N * sizeof *cov);
        }
        const double w[2] = { 0.5, 0.5 }, s2[2] = { sigma2, sigma2 };
        rg_data_gmm_params p = { .K = 2, .N = N, .weights = w, .means = mu,
                                 .cov_kind = Cw ? RG_COV_FULL : RG_COV_ISO, .cov = Cw ? cov : s2 };
        st = new_preset(&p, mu, 1, N, out);
    }
    free(mu);
    free(cov);
    return st;
}

/* gmm4 means: component j = 2 [s_c < 0] + [s_d < 0], x = s_c m_c + s_d m_d, y = s_c m_c - s_d m_d. */
static void gmm4_means(size_t d, const double *mc, const double *md, double *mu)
{
    for (int j = 0; j < 4; j++) {
        int sc, sd;
        rg_data_gmm4_signs(j, &sc, &sd);
        double *x = mu + (size_t)j * 2 * d, *y = x + d;
        for (size_t i = 0; i < d; i++) {
            x[i] = sc * mc[i] + sd * md[i];
            y[i] = sc * mc[i] - sd * md[i];
        }
    }
}

static int gmm4_dirs(size_t d, double mc2, double md2, const double *dir_c, const double *dir_d, double *m)
{
    if ((!dir_c || !dir_d) && d % 2)
        RG_FAIL(RG_EINVAL, "gmm4 default directions (1,...,1) and (1,-1,...) are orthogonal only for even d, got d = %zu", d);
    RG_TRY(scaled_direction(d, mc2, dir_c, 1.0, "m_c", m));
    RG_TRY(scaled_direction(d, md2, dir_d, -1.0, "m_d", m + d));
    double dot = 0.0;
    for (size_t i = 0; i < d; i++) dot += m[i] * m[d + i];
    if (!(fabs(dot) <= DATA_ORTH_RTOL * sqrt(mc2 * md2)))
        RG_FAIL(RG_EINVAL, "gmm4 directions are not orthogonal: m_c . m_d / (|m_c| |m_d|) = %g",
                dot / sqrt(mc2 * md2));
    return RG_OK;
}

int rg_data_gmm4(size_t d, double mc2, double md2, const double *dir_c, const double *dir_d,
                 double sigma2, rg_data_gmm **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_data_gmm4: out is NULL");
    *out = NULL;
    if (d == 0) RG_FAIL(RG_EINVAL, "gmm4 needs d >= 1 per modality");
    if (!(sigma2 > 0.0) || !isfinite(sigma2))
        RG_FAIL(RG_EDOM, "gmm4 noise variance sigma^2 = %g, want a finite value > 0", sigma2);
    double *m = malloc(2 * d * sizeof *m), *mu = malloc(8 * d * sizeof *mu);
    int st = m && mu ? RG_OK : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "out of memory for gmm4 means");
    if (st == RG_OK) st = gmm4_dirs(d, mc2, md2, dir_c, dir_d, m);
    if (st == RG_OK) {
        gmm4_means(d, m, m + d, mu);
        const double w[4] = { 0.25, 0.25, 0.25, 0.25 }, s2[4] = { sigma2, sigma2, sigma2, sigma2 };
        rg_data_gmm_params p = { .K = 4, .N = 2 * d, .weights = w, .means = mu, .cov_kind = RG_COV_ISO,
                                 .cov = s2 };
        st = new_preset(&p, m, 2, d, out);
    }
    free(m);
    free(mu);
    return st;
}

void rg_data_gmm4_signs(int label, int *s_c, int *s_d)
{
    *s_c = label & 2 ? -1 : 1;
    *s_d = label & 1 ? -1 : 1;
}

/* ---- accessors -------------------------------------------------------------------------------- */

size_t rg_data_gmm_K(const rg_data_gmm *g) { return g->K; }
size_t rg_data_gmm_N(const rg_data_gmm *g) { return g->N; }
const double *rg_data_gmm_weights(const rg_data_gmm *g) { return g->w; }
const double *rg_data_gmm_means(const rg_data_gmm *g) { return g->mu; }
rg_cov_kind rg_data_gmm_cov_kind(const rg_data_gmm *g) { return g->kind; }
const double *rg_data_gmm_cov(const rg_data_gmm *g) { return g->cov; }
const double *rg_data_gmm_chol(const rg_data_gmm *g) { return g->kind == RG_COV_FULL ? g->scale : NULL; }
const double *rg_data_gmm_direction(const rg_data_gmm *g, size_t l)
{
    return g->dir && l < g->n_dir ? g->dir + l * g->dim_dir : NULL;
}

/* ---- log-density ------------------------------------------------------------------------------ */

/* l_j = log pi_j - 1/2 log det C_j - 1/2 |R_j^{-1}(z - mu_j)|^2 for every j; e: N doubles of scratch. */
static void component_logliks(const rg_data_gmm *g, const double *z, double *ell, double *e)
{
    size_t N = g->N;
    for (size_t j = 0; j < g->K; j++) {
        const double *mu = g->mu + j * N, *sc = g->scale + (g->kind == RG_COV_ISO ? j : j * N);
        double q = 0.0;
        if (g->kind == RG_COV_FULL) {
            for (size_t i = 0; i < N; i++) e[i] = z[i] - mu[i];
            cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)N, g->scale + j * N * N,
                        (int)N, e, 1);
            for (size_t i = 0; i < N; i++) q += e[i] * e[i];
        } else if (g->kind == RG_COV_DIAG) {
            for (size_t i = 0; i < N; i++) {
                double r = (z[i] - mu[i]) / sc[i];
                q += r * r;
            }
        } else {
            for (size_t i = 0; i < N; i++) q += (z[i] - mu[i]) * (z[i] - mu[i]);
            q /= g->cov[j];
        }
        ell[j] = g->log_w[j] - g->half_ld[j] - 0.5 * q;
    }
}

static double log_sum_exp(const double *a, size_t n)
{
    double m = -INFINITY, s = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, a[i]);
    if (isinf(m)) return m;
    for (size_t i = 0; i < n; i++) s += exp(a[i] - m);
    return m + log(s);
}

int rg_data_gmm_logpdf(const rg_data_gmm *g, const double *z, size_t B, double *logp)
{
    if (!g || (B && (!z || !logp))) RG_FAIL(RG_EINVAL, "rg_data_gmm_logpdf: NULL argument");
    if (!rg__all_finite(z, B * g->N)) RG_FAIL(RG_EINVAL, "log-density: points contain NaN or Inf");
    double *e = malloc((g->N + g->K) * sizeof *e);
    if (!e) RG_FAIL(RG_ENOMEM, "out of memory for the log-density scratch");
    for (size_t b = 0; b < B; b++) {
        component_logliks(g, z + b * g->N, e + g->N, e);
        logp[b] = log_sum_exp(e + g->N, g->K) - 0.5 * (double)g->N * DATA_LOG_2PI;
    }
    free(e);
    return RG_OK;
}

int rg_data_gmm_classify(const rg_data_gmm *g, const float *X, size_t B, int *labels)
{
    if (!g || (B && (!X || !labels))) RG_FAIL(RG_EINVAL, "rg_data_gmm_classify: NULL argument");
    size_t N = g->N;
    double *e = malloc((2 * N + g->K) * sizeof *e);
    if (!e) RG_FAIL(RG_ENOMEM, "out of memory for the classification scratch");
    double *z = e + N, *ell = z + N;
    int st = RG_OK;
    for (size_t b = 0; b < B && st == RG_OK; b++) {
        for (size_t i = 0; i < N; i++) z[i] = (double)X[b * N + i];
        if (!rg__all_finite(z, N)) {
            st = rg__fail(RG_EINVAL, __FILE__, __LINE__, "classify: point %zu contains NaN or Inf", b);
            break;
        }
        component_logliks(g, z, ell, e);
        size_t best = 0;
        for (size_t j = 1; j < g->K; j++)
            if (ell[j] > ell[best]) best = j;
        labels[b] = (int)best;
    }
    free(e);
    return st;
}

/* ---- sampling --------------------------------------------------------------------------------- */

/* Component of uniform u: the first j with u < pi_0 + ... + pi_j, else the last. */
static size_t pick_component(const rg_data_gmm *g, double u)
{
    double c = 0.0;
    for (size_t j = 0; j + 1 < g->K; j++) {
        c += g->w[j];
        if (u < c) return j;
    }
    return g->K - 1;
}

/* z = mu_j + R_j xi in double, rounded to float; xi: N floats; t: N doubles of scratch. */
static void place_point(const rg_data_gmm *g, size_t j, const float *xi, double *t, float *x)
{
    size_t N = g->N;
    const double *mu = g->mu + j * N;
    if (g->kind == RG_COV_FULL) {
        for (size_t i = 0; i < N; i++) t[i] = (double)xi[i];
        cblas_dtrmv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)N, g->scale + j * N * N,
                    (int)N, t, 1);
        for (size_t i = 0; i < N; i++) x[i] = (float)(mu[i] + t[i]);
    } else if (g->kind == RG_COV_DIAG) {
        for (size_t i = 0; i < N; i++) x[i] = (float)(mu[i] + g->scale[j * N + i] * (double)xi[i]);
    } else {
        for (size_t i = 0; i < N; i++) x[i] = (float)(mu[i] + g->scale[j] * (double)xi[i]);
    }
}

int rg_data_gmm_sample(const rg_data_gmm *g, rg_rng r, uint64_t first, size_t P, float *X, int *labels)
{
    if (!g || !X) RG_FAIL(RG_EINVAL, "rg_data_gmm_sample: NULL argument");
    if (P == 0) RG_FAIL(RG_EINVAL, "sample: P = 0 points requested");
    if (first > UINT64_MAX - (uint64_t)(P - 1)) RG_FAIL(RG_EINVAL, "sample: point index overflows 2^64");
    size_t N = g->N;
    float *xi = malloc(N * sizeof *xi);
    double *t = malloc(N * sizeof *t);
    if (!xi || !t) {
        free(xi);
        free(t);
        RG_FAIL(RG_ENOMEM, "out of memory for sampling scratch");
    }
    for (size_t p = 0; p < P; p++) {
        uint64_t mu = first + p;
        size_t j = pick_component(g, rg_rng_uniform(r, mu, 1, 0));
        rg_rng_normals(r, mu, 0, xi, N);
        place_point(g, j, xi, t, X + p * N);
        if (labels) labels[p] = (int)j;
    }
    free(xi);
    free(t);
    return RG_OK;
}
