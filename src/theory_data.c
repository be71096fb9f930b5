/* Theory on a user's data set (docs/math.md 11.2): the data set object (covariances, class statistics and
 * the spectra computed once), the criteria at one time, and the four times by the root convention of
 * docs/math.md 7. Contracts: include/regimes/theory.h; the criteria themselves: theory_data_eval.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "regimes/data.h"
#include "regimes/linalg.h"
#include "theory_data_internal.h"

/* Root convention of docs/math.md 7 (as theory.c): geometric grid of 400 points on [1e-4, 200]. */
#define TD_LO 1e-4
#define TD_HI 200.0
#define TD_NPTS 400
#define TD_BLOCK 256   /* rows per dsyrk block of the within-class covariance */
#define TD_N_MAX 46340 /* N^2 must fit a LAPACK int (as rg_data_covariance) */

/* ---- construction ------------------------------------------------------------------------------------ */

void rg_theory_dataset_free(rg_theory_dataset *ds)
{
    if (!ds) return;
    free(ds->C);
    free(ds->lam);
    free(ds->Cw);
    free(ds->mu); /* with muV, pi and w: one block */
    free(ds);
}

/* Labels 0..K-1, every class with >= 2 points, K >= 2; counts (K) out (malloc'd). */
static int check_labels(const int *labels, size_t P, size_t *K_out, size_t **counts_out)
{
    int maxl = 0;
    for (size_t i = 0; i < P; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= P / 2)
            RG_FAIL(RG_EINVAL, "theory on data: label %d of point %zu is out of range (want 0..K-1, K <= P/2 = %zu, "
                    "each class with at least 2 points)", labels[i], i, P / 2);
        if (labels[i] > maxl) maxl = labels[i];
    }
    const size_t K = (size_t)maxl + 1;
    if (K < 2) RG_FAIL(RG_EINVAL, "theory on data: the labels name one class only (0); want at least 2 classes");
    size_t *n = calloc(K, sizeof *n);
    if (!n) RG_FAIL(RG_ENOMEM, "theory on data: out of memory for %zu class counts", K);
    for (size_t i = 0; i < P; i++) n[labels[i]]++;
    for (size_t c = 0; c < K; c++)
        if (n[c] < 2) {
            const size_t nc = n[c];
            free(n);
            RG_FAIL(RG_EINVAL, "theory on data: class %zu has %zu point%s, want at least 2 (labels 0..%zu)", c, nc,
                    nc == 1 ? "" : "s", K - 1);
        }
    *K_out = K;
    *counts_out = n;
    return RG_OK;
}

/* All eigenvalues of the symmetric A (destroyed), ascending, negatives from rounding clamped to 0;
 * with Z non-NULL also the eigenvectors, row i of Z = vector i (dsyevr, range A). */
static int eig_all(size_t N, double *A, double *lam, double *Z)
{
    lapack_int n = (lapack_int)N, m = 0, *isuppz = malloc(2 * N * sizeof *isuppz);
    double z1[1];
    if (!isuppz) RG_FAIL(RG_ENOMEM, "theory on data: out of memory for dsyevr");
    /* A is symmetric: its row-major and column-major readings agree. Column-major Z holds vector i
     * contiguously, i.e. as row i of a row-major matrix. */
    lapack_int info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, Z ? 'V' : 'N', 'A', 'U', n, A, n, 0.0, 0.0, 0, 0, 0.0, &m, lam,
                                     Z ? Z : z1, Z ? n : 1, isuppz);
    free(isuppz);
    if (info == LAPACK_WORK_MEMORY_ERROR) RG_FAIL(RG_ENOMEM, "theory on data: out of memory in dsyevr");
    if (info != 0 || m != n) RG_FAIL(RG_ENOCONV, "theory on data: dsyevr did not converge (info %d)", (int)info);
    for (size_t i = 0; i < N; i++) lam[i] = fmax(lam[i], 0.0);
    return RG_OK;
}

/* Class means (rg_data_class_means) centred by the global mean into ds->mu, weights into ds->pi, and
 * the pooled within-class covariance C_w = sum_c pi_c/(n_c - 1) sum_{x in c} (x - mu_c)(x - mu_c)^T:
 * rows centred by their class mean in double and scaled by sqrt(pi_c/(n_c - 1)), accumulated by dsyrk
 * in blocks of TD_BLOCK rows in row order (no E[x x^T] - mu mu^T cancellation). */
static int class_stats(rg_theory_dataset *ds, const float *X, const int *labels, const size_t *n)
{
    const size_t N = ds->N, P = ds->P, K = ds->K;
    double *cm = malloc(K * N * sizeof *cm), *B = malloc(TD_BLOCK * N * sizeof *B), *f = malloc(K * sizeof *f);
    if (!cm || !B || !f) {
        free(cm), free(B), free(f);
        RG_FAIL(RG_ENOMEM, "theory on data: out of memory for the class statistics");
    }
    int st = rg_data_class_means(X, P, N, labels, K, cm); /* cm: the class means */
    if (st != RG_OK) {
        free(cm), free(B), free(f);
        return st;
    }
    for (size_t c = 0; c < K; c++) {
        ds->pi[c] = (double)n[c] / (double)P;
        f[c] = sqrt(ds->pi[c] / (double)(n[c] - 1));
    }
    for (size_t i = 0; i < N; i++) {
        double g = 0.0; /* the global mean, sum_c pi_c mu_c */
        for (size_t c = 0; c < K; c++) g += ds->pi[c] * cm[c * N + i];
        for (size_t c = 0; c < K; c++) ds->mu[c * N + i] = cm[c * N + i] - g;
    }
    ds->m2max = td_max_pair(K, N, ds->mu, N, 1, NULL);
    for (size_t p0 = 0; p0 < P; p0 += TD_BLOCK) {
        const size_t rows = P - p0 < TD_BLOCK ? P - p0 : TD_BLOCK;
        for (size_t p = 0; p < rows; p++) {
            const size_t c = (size_t)labels[p0 + p];
            for (size_t i = 0; i < N; i++) B[p * N + i] = f[c] * ((double)X[(p0 + p) * N + i] - cm[c * N + i]);
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)N, (int)rows, 1.0, B, (int)N, p0 == 0 ? 0.0 : 1.0,
                    ds->Cw, (int)N);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++) ds->Cw[j * N + i] = ds->Cw[i * N + j];
    free(cm), free(B), free(f);
    return RG_OK;
}

/* The spectra of the k = 1 path: eigenvalues of C; eigenvalues of C_w and the class means in its
 * eigenbasis (muV = mu V, V the eigenvectors as columns). */
static int spectra(rg_theory_dataset *ds)
{
    const size_t N = ds->N;
    double *A = malloc(N * N * sizeof *A), *Z = ds->K ? malloc(N * N * sizeof *Z) : NULL;
    if (!A || (ds->K && !Z)) {
        free(A), free(Z);
        RG_FAIL(RG_ENOMEM, "theory on data: out of memory for the %zu x %zu eigen-decomposition", N, N);
    }
    memcpy(A, ds->C, N * N * sizeof *A);
    int st = eig_all(N, A, ds->lam, NULL);
    if (st == RG_OK && ds->K) {
        memcpy(A, ds->Cw, N * N * sizeof *A);
        st = eig_all(N, A, ds->w, Z);
    }
    if (st == RG_OK && ds->K)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ds->K, (int)N, (int)N, 1.0, ds->mu, (int)N, Z,
                    (int)N, 0.0, ds->muV, (int)N);
    free(A), free(Z);
    return st;
}

int rg_theory_dataset_new(const float *X, size_t P, size_t N, const int *labels, rg_theory_dataset **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "theory on data: out is NULL");
    *out = NULL;
    if (!X) RG_FAIL(RG_EINVAL, "theory on data: X is NULL");
    if (P < 2 || N == 0) RG_FAIL(RG_EINVAL, "theory on data: need P >= 2 points and N >= 1, got P = %zu, N = %zu", P, N);
    if (N > TD_N_MAX) RG_FAIL(RG_EINVAL, "theory on data: N = %zu is too large for an N x N LAPACK matrix", N);
    for (size_t i = 0; i < P * N; i++)
        if (!isfinite(X[i])) RG_FAIL(RG_EINVAL, "theory on data: X: point %zu contains NaN or Inf", i / N);
    size_t K = 0, *counts = NULL;
    if (labels) RG_TRY(check_labels(labels, P, &K, &counts));
    rg_theory_dataset *ds = calloc(1, sizeof *ds);
    if (ds) {
        ds->N = N, ds->P = P, ds->K = K;
        ds->C = malloc(N * N * sizeof *ds->C);
        ds->lam = malloc(N * sizeof *ds->lam);
        if (K) { /* one block for mu, pi, w, muV */
            ds->Cw = malloc(N * N * sizeof *ds->Cw);
            ds->mu = malloc((2 * K * N + K + N) * sizeof *ds->mu);
            if (ds->mu) ds->muV = ds->mu + K * N, ds->pi = ds->muV + K * N, ds->w = ds->pi + K;
        }
    }
    int st = (!ds || !ds->C || !ds->lam || (K && (!ds->Cw || !ds->mu)))
                 ? rg__fail(RG_ENOMEM, __FILE__, __LINE__, "theory on data: out of memory for %zu x %zu covariances", N, N)
                 : RG_OK;
    if (st == RG_OK) st = rg_data_covariance(X, P, N, ds->C);
    if (st == RG_OK && K) st = class_stats(ds, X, labels, counts);
    if (st == RG_OK) st = spectra(ds);
    free(counts);
    if (st != RG_OK) {
        rg_theory_dataset_free(ds);
        return st;
    }
    *out = ds;
    return RG_OK;
}

size_t rg_theory_dataset_N(const rg_theory_dataset *ds) { return ds ? ds->N : 0; }
size_t rg_theory_dataset_P(const rg_theory_dataset *ds) { return ds ? ds->P : 0; }
size_t rg_theory_dataset_classes(const rg_theory_dataset *ds) { return ds ? ds->K : 0; }

int rg_theory_dataset_spectrum(const rg_theory_dataset *ds, size_t k, double *top)
{
    if (!ds || !top) RG_FAIL(RG_EINVAL, "theory on data: NULL argument to rg_theory_dataset_spectrum");
    if (k < 1 || k > ds->N) RG_FAIL(RG_EINVAL, "theory on data: k = %zu eigenvalues, want 1 <= k <= N = %zu", k, ds->N);
    for (size_t i = 0; i < k; i++) top[i] = ds->lam[ds->N - 1 - i];
    return RG_OK;
}

/* ---- criteria at one time --------------------------------------------------------------------------- */

static int one_time(const rg_process *p, const rg_theory_dataset *ds, td_kind kind, double t, td_value *v)
{
    td_eval *e;
    RG_TRY(td_eval_new(p, ds, &e));
    int st = td_eval_at(e, kind, t, v);
    td_eval_free(e);
    return st;
}

/* kmax, kparent, kappa: the value scale * val. */
static int scaled_at(const rg_process *p, const rg_theory_dataset *ds, td_kind kind, double t, double *out)
{
    td_value v;
    if (!out) RG_FAIL(RG_EINVAL, "theory on data: output pointer is NULL");
    RG_TRY(one_time(p, ds, kind, t, &v));
    *out = v.scale * v.val;
    return RG_OK;
}

int rg_theory_dataset_kmax(const rg_process *p, const rg_theory_dataset *ds, double t, double *lmax)
{
    return scaled_at(p, ds, TD_KMAX, t, lmax);
}

int rg_theory_dataset_kparent(const rg_process *p, const rg_theory_dataset *ds, double t, double *lmax)
{
    return scaled_at(p, ds, TD_KPARENT, t, lmax);
}

int rg_theory_dataset_kappa(const rg_process *p, const rg_theory_dataset *ds, double t, double *kappa)
{
    return scaled_at(p, ds, TD_KAPPA, t, kappa);
}

static int check_train(double n_train)
{
    if (!(n_train >= 1) || !isfinite(n_train))
        RG_FAIL(RG_EINVAL, "theory on data: number of training points %g must be finite and >= 1", n_train);
    return RG_OK;
}

int rg_theory_dataset_collapse_f(const rg_process *p, const rg_theory_dataset *ds, double n_train, double t,
                                 double *f)
{
    td_value v;
    if (!f) RG_FAIL(RG_EINVAL, "theory on data: f is NULL");
    RG_TRY(check_train(n_train));
    RG_TRY(one_time(p, ds, TD_COLLAPSE, t, &v));
    *f = fmax(0.0, log(n_train) / (double)ds->N - v.val);
    return RG_OK;
}

/* ---- times ------------------------------------------------------------------------------------------ */

typedef struct {
    td_eval *e;
    td_kind kind;
    double alpha; /* collapse only */
    double shift; /* speciation criteria: the log of the level crossed (0: value 1) */
    size_t certified;
    int status;
    char msg[512];
} td_scan;

/* The criterion whose sign changes at the crossing: log(scale val) for the speciation criteria (= 0 at
 * value 1), alpha - s for the collapse. */
static double scan_value(const td_scan *c, td_value v)
{
    return c->kind == TD_COLLAPSE ? c->alpha - v.val : log(v.scale) + log(v.val) - c->shift;
}

/* The criterion at t for the root scan, or, where a cheap bound already settles its sign (the
 * speciation criteria below 1, the collapse gap above 0: td_eval_bound), the bound's value, which has
 * the same sign. So the scan sees the same signs at every point and finds the same bracket, and Brent,
 * which keeps a sign change, converges to the same root of the (continuous) criterion; only the N x N
 * work of far, plainly signed times is skipped. NaN on failure, the first failure kept. */
static double scan_fn(double t, void *ctx)
{
    td_scan *c = ctx;
    td_value v;
    int has = 0, st = td_eval_bound(c->e, c->kind, t, &v, &has);
    if (st == RG_OK && has) {
        const double y = scan_value(c, v);
        if (c->kind == TD_COLLAPSE ? y > 0.0 : y < 0.0) {
            c->certified++;
            return y;
        }
    }
    if (st == RG_OK) st = td_eval_at(c->e, c->kind, t, &v);
    if (st != RG_OK) {
        if (c->status == RG_OK) {
            c->status = st;
            snprintf(c->msg, sizeof c->msg, "%s", rg_strerror_last());
        }
        return NAN;
    }
    return scan_value(c, v);
}

static double scan_fn_log(double u, void *ctx) { return scan_fn(exp(u), ctx); }

/* Every criterion here is monotone in t for a constant stable drift with D = I: lambda_max(K_t),
 * kappa_t and the SNR spectrum of K_t decrease (z_t' is z_t carried further and noised more, the
 * data-processing argument of theory.h), and so does kparent, since in coordinates whitened by
 * Sigma_inf the drift's symmetric part is Sigma_inf^{-1} > 0, so ||e^{-A~ t} u|| decreases for every u.
 * The root on [TD_LO, TD_HI] is then unique, the largest root of the docs/math.md 7 convention: the
 * two ends bracket it and Brent in u = log t refines it (10 to 20 evaluations instead of the 400-point
 * scan, which remains for schedules, whose segments need not keep this order). */
static int scan_at(td_eval *e, td_kind kind, double alpha, double shift, double *t, int *found, size_t *certified)
{
    td_scan c = { .e = e, .kind = kind, .alpha = alpha, .shift = shift };
    int st = RG_OK;
    if (td_eval_scheduled(e)) st = rg_linalg_largest_root(scan_fn, &c, TD_LO, TD_HI, TD_NPTS, t, found);
    else {
        const double a = log(TD_LO), b = log(TD_HI), fa = scan_fn_log(a, &c), fb = scan_fn_log(b, &c);
        double u = NAN;
        *found = 0, *t = NAN;
        if (c.status == RG_OK && (fa > 0) != (fb > 0) && (fa < 0) != (fb < 0)) { /* a strict sign change */
            st = rg_linalg_brent_bracket(scan_fn_log, &c, a, fa, b, fb, 1e-13, &u);
            if (st == RG_OK) *t = exp(u), *found = 1;
        }
    }
    *certified += c.certified;
    if (c.status != RG_OK) RG_FAIL(c.status, "%s (theory on data, root scan)", c.msg);
    return st;
}

static int scan(td_eval *e, td_kind kind, double alpha, double *t, int *found, size_t *certified)
{
    return scan_at(e, kind, alpha, 0.0, t, found, certified);
}

/* RG_OK and *has = 1 when the process has a stationary law, *has = 0 for RG_EDOM (unstable drift). */
static int has_stationary(const rg_process *p, int *has)
{
    const size_t k = rg_process_core(p);
    double *S = malloc(k * k * sizeof *S);
    if (!S) RG_FAIL(RG_ENOMEM, "theory on data: out of memory");
    int st = rg_process_stationary(p, S);
    free(S);
    *has = st == RG_OK;
    return st == RG_EDOM ? RG_OK : st;
}

int rg_theory_dataset_all(const rg_process *p, const rg_theory_dataset *ds, double n_train,
                          rg_theory_dataset_times *out)
{
    if (!out) RG_FAIL(RG_EINVAL, "theory on data: out is NULL");
    RG_TRY(td_check(p, ds));
    RG_TRY(check_train(n_train));
    *out = (rg_theory_dataset_times){ .lambda_max = ds->lam[ds->N - 1], .t_s_parent = NAN, .t_s_exact = NAN,
                                      .t_s_class = NAN, .t_c = NAN };
    int stationary = 0;
    RG_TRY(has_stationary(p, &stationary));
    td_eval *e;
    RG_TRY(td_eval_new(p, ds, &e));
    size_t *cert = &out->certified;
    int st = scan(e, TD_KMAX, 0.0, &out->t_s_exact, &out->found_exact, cert);
    if (st == RG_OK && stationary) st = scan(e, TD_KPARENT, 0.0, &out->t_s_parent, &out->found_parent, cert);
    if (st == RG_OK && ds->K) st = scan(e, TD_KAPPA, 0.0, &out->t_s_class, &out->found_class, cert);
    /* after kappa: the collapse scan finds the Cholesky of times kappa's scan computed in the memo */
    if (st == RG_OK) st = scan(e, TD_COLLAPSE, log(n_train) / (double)ds->N, &out->t_c, &out->found_c, cert);
    out->evals = td_eval_count(e);
    td_eval_free(e);
    return st;
}

int rg_theory_dataset_horizon(const rg_process *p, const rg_theory_dataset *ds, double level, double *T)
{
    if (!T || !(level > 0 && level <= 1)) RG_FAIL(RG_EINVAL, "theory on data: want a horizon level in (0, 1]");
    RG_TRY(td_check(p, ds));
    td_eval *e;
    RG_TRY(td_eval_new(p, ds, &e));
    size_t cert = 0;
    int found = 0;
    int st = scan_at(e, TD_KMAX, 0.0, log(level), T, &found, &cert);
    td_value v;
    if (st == RG_OK && !found) st = td_eval_at(e, TD_KMAX, TD_HI, &v); /* above the level at the top: none */
    if (st == RG_OK && !found) *T = v.scale * v.val > level ? (double)INFINITY : TD_LO;
    td_eval_free(e);
    return st;
}
