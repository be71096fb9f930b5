/* Tests of theory on a user's data set (docs/math.md 11.2; theory.h, "Theory on a user's data set").
 *
 * The reference for every path is a naive dense computation written here: the full N x N moments
 * M_t = E_t (x) I_r, Sigma_t = S_t (x) I_r (or the dense E_t, S_t of a nonrev process), triple-loop
 * products, the symmetric inverse square roots Sigma^{-1/2} from an eigen-decomposition (dsyev), the
 * spectra of K_t by dsyev, kappa = sum_i (u_i . m_t)^2 / g_i from the eigenpairs of Gamma_t, and
 * sum log(1 + nu_i) from all eigenvalues of K^w_t; the data statistics (C, C_w, class means) by
 * two-pass loops. The library instead uses spectra computed once (k = 1), Lanczos (N > 64) or dsyevr
 * (N <= 64) for lambda_max, and Cholesky for Gamma_t (k >= 2).
 *
 * Tolerance tiers:
 *   - 1e-9 relative on criteria: the Lanczos stopping rule bounds |theta - lambda| by 1e-11 lambda;
 *     Cholesky against eigenvalues, and dsyrk against two-pass sums, differ by ~N eps cond (< 1e-12
 *     here); 1e-9 leaves a 100x margin and still sees any structural error (O(1)).
 *   - 1e-9 on times: the roots are refined to 1e-12 in t; criteria agree to ~1e-11 (above), and the
 *     log criteria have slopes of order 1, so the roots agree to ~1e-11.
 *   - 1e-10 on OU closed forms: root to 1e-12, the closed forms one or two roundings.
 *   - statistical checks: 5 standard errors of the sampling error of C, derived beside each. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "rg_test.h"
#include "regimes/data.h"
#include "regimes/error.h"
#include "regimes/linalg.h"
#include "regimes/nonrev.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/theory.h"
#include "theory_data_internal.h"

static void ok(int st)
{
    if (st != RG_OK) print_error("%s: %s\n", rg_status_name(st), rg_strerror_last());
    assert_int_equal(st, RG_OK);
}

/* ---- synthetic data --------------------------------------------------------------------------------- */

/* Deterministic uniform(-1, 1) (64-bit LCG, Knuth's MMIX constants): failures replay. */
static double lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

/* P points in N dimensions, K classes (point p in class p % K, or no labels when K = 0): class mean
 * sep * a fixed random direction, plus A xi with A a fixed random N x N mixing matrix (anisotropic,
 * correlated within-class covariance A A^T) and xi standard normal (Philox, seed fixed). */
typedef struct {
    size_t P, N, K;
    float *X;
    int *labels;
} synth;

static synth synth_make(size_t P, size_t N, size_t K, double sep, uint64_t seed)
{
    synth s = { P, N, K, malloc(P * N * sizeof(float)), K ? malloc(P * sizeof(int)) : NULL };
    double *A = malloc(N * N * sizeof *A), *mu = malloc((K ? K : 1) * N * sizeof *mu), *xi = malloc(N * sizeof *xi);
    assert_true(s.X && A && mu && xi && (!K || s.labels));
    uint64_t u = seed;
    for (size_t i = 0; i < N * N; i++) A[i] = lcg(&u) / sqrt((double)N) + (i % (N + 1) == 0 ? 0.6 : 0.0);
    for (size_t i = 0; i < (K ? K : 1) * N; i++) mu[i] = K ? sep * lcg(&u) / sqrt((double)N / 3.0) : 0.0;
    const rg_rng r = { .seed = seed, .stream = RG_STREAM_DATA };
    for (size_t p = 0; p < P; p++) {
        const size_t c = K ? p % K : 0;
        rg_rng_normals_d(r, p, 0, xi, N);
        for (size_t i = 0; i < N; i++) {
            double x = mu[c * N + i] + 1.5; /* a global offset: the data are centred by the library */
            for (size_t j = 0; j < N; j++) x += A[i * N + j] * xi[j];
            s.X[p * N + i] = (float)x;
        }
        if (K) s.labels[p] = (int)c;
    }
    free(A), free(mu), free(xi);
    return s;
}

static void synth_free(synth *s) { free(s->X), free(s->labels); }

/* ---- naive dense reference --------------------------------------------------------------------------- */

typedef struct {
    size_t N, K;
    double *C, *Cw, *mu; /* (N, N), (N, N), (K, N): two-pass, plain loops */
} ref_data;

static ref_data ref_data_make(const synth *s)
{
    const size_t N = s->N, P = s->P, K = s->K;
    ref_data d = { N, K, calloc(N * N, sizeof(double)), K ? calloc(N * N, sizeof(double)) : NULL,
                   K ? calloc(K * N, sizeof(double)) : NULL };
    double *g = calloc(N, sizeof *g), *cm = calloc((K ? K : 1) * N, sizeof *cm);
    size_t *n = calloc(K ? K : 1, sizeof *n);
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < N; i++) g[i] += (double)s->X[p * N + i] / (double)P;
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++)
                d.C[i * N + j] += ((double)s->X[p * N + i] - g[i]) * ((double)s->X[p * N + j] - g[j]) / (double)(P - 1);
    if (K) {
        for (size_t p = 0; p < P; p++) {
            n[s->labels[p]]++;
            for (size_t i = 0; i < N; i++) cm[s->labels[p] * N + i] += (double)s->X[p * N + i];
        }
        for (size_t c = 0; c < K; c++)
            for (size_t i = 0; i < N; i++) {
                cm[c * N + i] /= (double)n[c];
                d.mu[c * N + i] = cm[c * N + i] - g[i];
            }
        for (size_t p = 0; p < P; p++) {
            const size_t c = (size_t)s->labels[p];
            const double wgt = ((double)n[c] / (double)P) / (double)(n[c] - 1);
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < N; j++)
                    d.Cw[i * N + j] += wgt * ((double)s->X[p * N + i] - cm[c * N + i]) * ((double)s->X[p * N + j] - cm[c * N + j]);
        }
    }
    free(g), free(cm), free(n);
    return d;
}

static void ref_data_free(ref_data *d) { free(d->C), free(d->Cw), free(d->mu); }

/* C = A B (n x n, plain loops). */
static void mm(size_t n, const double *A, const double *B, double *C)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t l = 0; l < n; l++) s += A[i * n + l] * B[l * n + j];
            C[i * n + j] = s;
        }
}

/* B = M X M^T. */
static void sandwich(size_t n, const double *M, const double *X, double *B)
{
    double *T = malloc(n * n * sizeof *T), *Mt = malloc(n * n * sizeof *Mt);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) Mt[i * n + j] = M[j * n + i];
    mm(n, M, X, T);
    mm(n, T, Mt, B);
    free(T), free(Mt);
}

/* Eigenvalues (ascending) and, with U non-NULL, eigenvectors (columns) of symmetric A by dsyev. */
static void eig(size_t n, const double *A, double *w, double *U)
{
    double *B = malloc(n * n * sizeof *B);
    memcpy(B, A, n * n * sizeof *B);
    for (size_t i = 0; i < n; i++) /* symmetrise the rounding of the naive products */
        for (size_t j = 0; j < i; j++) B[i * n + j] = B[j * n + i] = 0.5 * (B[i * n + j] + B[j * n + i]);
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, U ? 'V' : 'N', 'U', (lapack_int)n, B, (lapack_int)n, w), 0);
    if (U) memcpy(U, B, n * n * sizeof *U);
    free(B);
}

/* W = S^{-1/2}, the symmetric inverse square root. */
static void inv_sqrt(size_t n, const double *S, double *W)
{
    double *w = malloc(n * sizeof *w), *U = malloc(n * n * sizeof *U);
    eig(n, S, w, U);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t l = 0; l < n; l++) s += U[i * n + l] * U[j * n + l] / sqrt(w[l]);
            W[i * n + j] = s;
        }
    free(w), free(U);
}

/* lambda_max(W X W) for W = S^{-1/2}; with all non-NULL every eigenvalue. */
static double whitened_top(size_t n, const double *S, const double *X, double *all)
{
    double *W = malloc(n * n * sizeof *W), *K = malloc(n * n * sizeof *K), *w = malloc(n * sizeof *w);
    inv_sqrt(n, S, W);
    sandwich(n, W, X, K);
    eig(n, K, w, NULL);
    const double top = w[n - 1];
    if (all) memcpy(all, w, n * sizeof *w);
    free(W), free(K), free(w);
    return top;
}

typedef struct {
    double kmax, kparent, kappa, s; /* s = (1/2N) sum log(1 + nu_i) */
} ref_vals;

/* Full N x N moments of p at t (and the stationary covariance). */
static void full_moments(const rg_process *p, double t, double *M, double *Sig, double *Sinf)
{
    const size_t k = rg_process_core(p), r = rg_process_mult(p), N = k * r;
    double *E = malloc(k * k * sizeof *E), *S = malloc(k * k * sizeof *S), *Si = malloc(k * k * sizeof *Si);
    ok(rg_process_moments(p, t, E, S));
    ok(rg_process_stationary(p, Si));
    memset(M, 0, N * N * sizeof *M);
    memset(Sig, 0, N * N * sizeof *Sig);
    memset(Sinf, 0, N * N * sizeof *Sinf);
    for (size_t a = 0; a < k; a++) /* state layout (k, r): index a r + i */
        for (size_t b = 0; b < k; b++)
            for (size_t i = 0; i < r; i++) {
                M[(a * r + i) * N + b * r + i] = E[a * k + b];
                Sig[(a * r + i) * N + b * r + i] = S[a * k + b];
                Sinf[(a * r + i) * N + b * r + i] = Si[a * k + b];
            }
    free(E), free(S), free(Si);
}

static ref_vals ref_eval(const rg_process *p, const ref_data *d, double t)
{
    const size_t N = d->N;
    double *M = malloc(N * N * sizeof *M), *Sig = malloc(N * N * sizeof *Sig), *Sinf = malloc(N * N * sizeof *Sinf);
    double *B = malloc(N * N * sizeof *B), *nu = malloc(N * sizeof *nu);
    ref_vals o = { 0 };
    full_moments(p, t, M, Sig, Sinf);
    sandwich(N, M, d->C, B);
    o.kmax = whitened_top(N, Sig, B, NULL);
    o.kparent = whitened_top(N, Sinf, B, NULL);
    if (d->K) sandwich(N, M, d->Cw, B);
    whitened_top(N, Sig, B, nu);
    for (size_t i = 0; i < N; i++) o.s += log1p(nu[i]) / (2.0 * (double)N);
    if (d->K) { /* Gamma = M Cw M^T + Sigma by eigenpairs; kappa = max_pairs sum (u_i . m_t)^2 / g_i */
        double *U = malloc(N * N * sizeof *U), *g = malloc(N * sizeof *g), *mt = malloc(N * sizeof *mt);
        for (size_t i = 0; i < N * N; i++) B[i] += Sig[i];
        eig(N, B, g, U);
        for (size_t a = 0; a < d->K; a++)
            for (size_t b = a + 1; b < d->K; b++) {
                for (size_t i = 0; i < N; i++) {
                    mt[i] = 0.0;
                    for (size_t j = 0; j < N; j++) mt[i] += M[i * N + j] * 0.5 * (d->mu[a * N + j] - d->mu[b * N + j]);
                }
                double kap = 0.0;
                for (size_t l = 0; l < N; l++) {
                    double c = 0.0;
                    for (size_t i = 0; i < N; i++) c += U[i * N + l] * mt[i];
                    kap += c * c / g[l];
                }
                o.kappa = fmax(o.kappa, kap);
            }
        free(U), free(g), free(mt);
    }
    free(M), free(Sig), free(Sinf), free(B), free(nu);
    return o;
}

/* The library's four criteria at t, against the reference. */
static void compare_at(const rg_process *p, const rg_theory_dataset *ds, const ref_data *d, double t, double rtol)
{
    const double n_train = 1e4, alpha = log(n_train) / (double)d->N;
    ref_vals r = ref_eval(p, d, t);
    double v;
    ok(rg_theory_dataset_kmax(p, ds, t, &v));
    rg_assert_rel(v, r.kmax, rtol, "kmax against the dense reference");
    ok(rg_theory_dataset_kparent(p, ds, t, &v));
    rg_assert_rel(v, r.kparent, rtol, "kparent against the dense reference");
    ok(rg_theory_dataset_collapse_f(p, ds, n_train, t, &v));
    rg_assert_abs(v, fmax(0.0, alpha - r.s), rtol * alpha, "collapse f against the dense reference");
    if (d->K) {
        ok(rg_theory_dataset_kappa(p, ds, t, &v));
        rg_assert_rel(v, r.kappa, rtol, "kappa against the dense reference");
    } else {
        rg_expect_fail(rg_theory_dataset_kappa(p, ds, t, &v), RG_EINVAL, "kappa needs labels");
    }
}

/* Roots of the reference criteria by the same root convention (docs/math.md 7). */
typedef struct {
    const rg_process *p;
    const ref_data *d;
    int kind; /* 0 kmax, 1 kparent, 2 kappa, 3 collapse */
    double alpha;
} ref_scan;

static double ref_fn(double t, void *ctx)
{
    const ref_scan *c = ctx;
    ref_vals r = ref_eval(c->p, c->d, t);
    switch (c->kind) {
    case 0: return log(r.kmax);
    case 1: return log(r.kparent);
    case 2: return log(r.kappa);
    default: return c->alpha - r.s;
    }
}

static double ref_root(const rg_process *p, const ref_data *d, int kind, double n_train, int *found)
{
    ref_scan c = { p, d, kind, log(n_train) / (double)d->N };
    double t = NAN;
    ok(rg_linalg_largest_root(ref_fn, &c, 1e-4, 200.0, 400, &t, found));
    return t;
}

static void compare_times(const rg_process *p, const rg_theory_dataset *ds, const ref_data *d, double n_train,
                          int check_parent)
{
    rg_theory_dataset_times tt;
    ok(rg_theory_dataset_all(p, ds, n_train, &tt));
    int found;
    double t = ref_root(p, d, 0, n_train, &found);
    assert_int_equal(tt.found_exact, found);
    if (found) rg_assert_rel(tt.t_s_exact, t, 1e-9, "t_S exact against the reference's root");
    if (check_parent) {
        t = ref_root(p, d, 1, n_train, &found);
        assert_int_equal(tt.found_parent, found);
        if (found) rg_assert_rel(tt.t_s_parent, t, 1e-9, "t_S parent against the reference's root");
    }
    if (d->K) {
        t = ref_root(p, d, 2, n_train, &found);
        assert_int_equal(tt.found_class, found);
        if (found) rg_assert_rel(tt.t_s_class, t, 1e-9, "t_S class against the reference's root");
    } else {
        assert_int_equal(tt.found_class, 0);
        assert_true(isnan(tt.t_s_class));
    }
    t = ref_root(p, d, 3, n_train, &found);
    assert_int_equal(tt.found_c, found);
    if (found) rg_assert_rel(tt.t_c, t, 1e-9, "t_C against the reference's root");
    assert_true(tt.evals > 0);
}

/* The times of rg_theory_dataset_all are roots of the single-time criteria: each equals 1 there
 * (1e-9: the root is refined to 1e-12 in t, the slopes are O(1)), and f changes sign at t_C. For sizes
 * where the reference's root scans would be slow (its criteria cost O(N^3) naive loops). */
static void roots_consistent(const rg_process *p, const rg_theory_dataset *ds, double n_train)
{
    rg_theory_dataset_times tt;
    double v;
    ok(rg_theory_dataset_all(p, ds, n_train, &tt));
    assert_true(tt.found_exact && tt.found_parent && tt.found_c);
    ok(rg_theory_dataset_kmax(p, ds, tt.t_s_exact, &v));
    rg_assert_rel(v, 1.0, 1e-9, "kmax(t_S exact) = 1");
    ok(rg_theory_dataset_kparent(p, ds, tt.t_s_parent, &v));
    rg_assert_rel(v, 1.0, 1e-9, "kparent(t_S parent) = 1");
    if (rg_theory_dataset_classes(ds)) {
        assert_true(tt.found_class);
        ok(rg_theory_dataset_kappa(p, ds, tt.t_s_class, &v));
        rg_assert_rel(v, 1.0, 1e-9, "kappa(t_S class) = 1");
    }
    ok(rg_theory_dataset_collapse_f(p, ds, n_train, tt.t_c * (1 + 1e-6), &v));
    assert_true(v > 0.0);
    ok(rg_theory_dataset_collapse_f(p, ds, n_train, tt.t_c * (1 - 1e-6), &v));
    assert_true(v == 0.0);
}

/* ---- (e) data statistics and spectrum ------------------------------------------------------------------ */

static void test_spectrum(void **state)
{
    (void)state;
    synth s = synth_make(500, 12, 3, 2.0, 11);
    ref_data d = ref_data_make(&s);
    rg_theory_dataset *ds = NULL;
    ok(rg_theory_dataset_new(s.X, s.P, s.N, s.labels, &ds));
    assert_int_equal(rg_theory_dataset_N(ds), 12);
    assert_int_equal(rg_theory_dataset_P(ds), 500);
    assert_int_equal(rg_theory_dataset_classes(ds), 3);
    double want[12], got[12], top;
    eig(12, d.C, want, NULL); /* naive C, dsyev, ascending */
    ok(rg_theory_dataset_spectrum(ds, 12, got));
    for (size_t i = 0; i < 12; i++) rg_assert_rel(got[i], want[11 - i], 1e-11, "spectrum of C (descending)");
    ok(rg_theory_dataset_spectrum(ds, 1, &top));
    assert_true(top == got[0]);
    double lmax;
    ok(rg_data_covariance_top(s.X, s.P, s.N, &lmax)); /* the data module's Lambda */
    rg_assert_rel(top, lmax, 1e-13, "Lambda against rg_data_covariance_top");
    rg_expect_fail(rg_theory_dataset_spectrum(ds, 13, got), RG_EINVAL, "k = 13");
    rg_expect_fail(rg_theory_dataset_spectrum(ds, 0, got), RG_EINVAL, "k = 0");
    rg_theory_dataset_free(ds);
    ref_data_free(&d);
    synth_free(&s);
}

/* ---- (b) OU closed forms ------------------------------------------------------------------------------ */

/* OU: K_t = C e^{-2t} / (1 - e^{-2t}), so t_S exact = 1/2 log(1 + Lambda); kparent = e^{-2t} Lambda,
 * so t_S parent = 1/2 log Lambda; and at the times found the criteria equal 1 (f = 0 for t_C); the
 * horizon (kmax = 0.01) is 1/2 log(1 + 100 Lambda). */
static void test_ou_closed_forms(void **state)
{
    (void)state;
    const size_t Ks[2] = { 0, 2 };
    for (size_t c = 0; c < 2; c++) {
        synth s = synth_make(300, 7, Ks[c], 3.0, 21 + c);
        rg_theory_dataset *ds = NULL;
        rg_process *p = NULL;
        ok(rg_theory_dataset_new(s.X, s.P, s.N, s.labels, &ds));
        ok(rg_process_ou(7, &p));
        rg_theory_dataset_times tt;
        ok(rg_theory_dataset_all(p, ds, 300, &tt));
        double L;
        ok(rg_theory_dataset_spectrum(ds, 1, &L));
        assert_true(tt.lambda_max == L);
        assert_true(L > 1.0); /* so both roots exist */
        assert_int_equal(tt.found_exact, 1);
        assert_int_equal(tt.found_parent, 1);
        rg_assert_rel(tt.t_s_exact, 0.5 * log1p(L), 1e-10, "OU: t_S exact = 1/2 log(1 + Lambda)");
        rg_assert_rel(tt.t_s_parent, 0.5 * log(L), 1e-10, "OU: t_S parent = 1/2 log Lambda");
        double v;
        ok(rg_theory_dataset_kmax(p, ds, tt.t_s_exact, &v));
        rg_assert_rel(v, 1.0, 1e-10, "kmax(t_S exact) = 1");
        ok(rg_theory_dataset_kparent(p, ds, tt.t_s_parent, &v));
        rg_assert_rel(v, 1.0, 1e-10, "kparent(t_S parent) = 1");
        assert_int_equal(tt.found_c, 1);
        ok(rg_theory_dataset_collapse_f(p, ds, 300, tt.t_c * (1 + 1e-6), &v));
        assert_true(v > 0.0); /* f > 0 above t_C, = 0 below */
        ok(rg_theory_dataset_collapse_f(p, ds, 300, tt.t_c * (1 - 1e-6), &v));
        assert_true(v == 0.0);
        /* horizon: Lambda e^{-2T} / (1 - e^{-2T}) = 0.01, T = 1/2 log(1 + 100 Lambda) */
        double T;
        ok(rg_theory_dataset_horizon(p, ds, 0.01, &T));
        rg_assert_rel(T, 0.5 * log1p(100.0 * L), 1e-10, "OU horizon at level 0.01");
        assert_int_equal(rg_theory_dataset_horizon(p, ds, 0.0, &T), RG_EINVAL);
        if (Ks[c]) {
            assert_int_equal(tt.found_class, 1);
            ok(rg_theory_dataset_kappa(p, ds, tt.t_s_class, &v));
            rg_assert_rel(v, 1.0, 1e-10, "kappa(t_S class) = 1");
        } else {
            assert_int_equal(tt.found_class, 0);
            assert_true(isnan(tt.t_s_class));
        }
        rg_process_free(p);
        rg_theory_dataset_free(ds);
        synth_free(&s);
    }
}

/* The k = 1 fast path (spectra computed once) against the dense reference, labelled (3 classes) and not,
 * at times from the high-SNR to the pure-noise end; and the four times against the reference's roots. */
static void test_ou_fast_path(void **state)
{
    (void)state;
    const double ts[] = { 2e-3, 0.07, 0.45, 1.3, 4.2 };
    for (size_t c = 0; c < 2; c++) {
        synth s = synth_make(400, 9, c ? 3 : 0, 2.5, 31 + c);
        ref_data d = ref_data_make(&s);
        rg_theory_dataset *ds = NULL;
        rg_process *p = NULL;
        ok(rg_theory_dataset_new(s.X, s.P, s.N, s.labels, &ds));
        ok(rg_process_ou(9, &p));
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) compare_at(p, ds, &d, ts[i], 1e-9);
        compare_times(p, ds, &d, 1e4, 1);
        rg_process_free(p);
        rg_theory_dataset_free(ds);
        ref_data_free(&d);
        synth_free(&s);
    }
}

/* ---- (a) a two-class mixture: the data-set times against the mixture's theory ------------------------ */

/* gmm2 with N = 8, |m|^2 = 8, sigma^2 = 1 (rg_data_gmm2), P = 20000 points (rg_data_set_draw, fixed
 * seed), OU, n_train = 100 for the collapse. Population values (rg_theory on the mixture):
 *   t_S exact = 1/2 log(1 + |m|^2 + sigma^2) (the matrix criterion with C = m m^T + sigma^2 I),
 *   t_S class = 1/2 log(1 + |m|^2 - sigma^2) (kappa = 1),   t_C = 1/2 log(1 + 1/(100^{1/4} - 1)).
 * Sampling error (delta method, 5 standard errors each):
 *   Lambda-hat: u = x . m/|m| = s|m| + xi has Var(u^2) = E u^4 - (E u^2)^2 = (64 + 48 + 3) - 81 = 34, so
 *     se(Lambda) = sqrt(34/P) = 0.041 and se(t) = se(Lambda)/(2(1 + Lambda)) = 0.0021 -> 0.0105
 *     (the top-eigenvalue bias sum_j Lambda lambda_j/(P(Lambda - lambda_j)) = 4e-4 is 2e-5 in t);
 *   kappa = 1 at t = 1/2 log(1 + a - b), a = |m-hat|^2 (se 2|m|/sqrt(P) = 0.040, bias N/P = 4e-4),
 *     b = m-hat^T C_w-hat m-hat/|m-hat|^2 (se sigma^2 sqrt(2/P) = 0.010): se(t) = 0.041/16 -> 0.013;
 *   t_C: s(t) moves by (1/2N) g (tr C_w-hat - N), g = e^{-2t}/(e^{-2t} + Delta) = 0.68 at t_C,
 *     se(tr C_w-hat) = sqrt(2N/P) = 0.028, slope |ds/dt| = 2.16: se(t) = 5.6e-4 -> 0.0028.
 * A wrong time convention or a missing factor 2 moves these by > 0.1. Exactly, with no sampling error:
 * t_S class and t_C equal rg_theory's on a dense identity drift (k = N) fed the empirical m-hat and
 * C_w-hat, an independent route to the same numbers (1e-9). */
static void test_gmm2_mixture(void **state)
{
    (void)state;
    enum { N = 8 };
    const size_t P = 20000;
    const double m2 = 8.0, s2 = 1.0, n_train = 100.0;
    rg_data_gmm *g = NULL;
    rg_data_set *set = NULL;
    rg_process *ou = NULL;
    rg_theory_dataset *ds = NULL;
    ok(rg_data_gmm2(N, m2, NULL, s2, NULL, &g));
    ok(rg_data_set_draw(g, (rg_rng){ .seed = 20240917, .stream = RG_STREAM_DATA }, P, &set));
    ok(rg_process_ou(N, &ou));
    ok(rg_theory_dataset_new(set->X, P, N, set->labels, &ds));
    rg_theory_dataset_times tt;
    ok(rg_theory_dataset_all(ou, ds, n_train, &tt));

    /* the mixture's own theory, rg_theory_* on the core k = 1 data of theory.h */
    double e = 1.0, mm2 = m2, cw = s2, ts_gmm, ts_mat, tc;
    int found;
    const rg_theory_data td = { .n_labels = 1, .pattern = &e, .mean_norm2 = &mm2, .Cw = &cw };
    ok(rg_theory_speciation(ou, &td, 0, RG_SPECIATION_GMM, &ts_gmm, &found));
    ok(rg_theory_speciation(ou, &td, 0, RG_SPECIATION_MATRIX, &ts_mat, &found));
    ok(rg_theory_collapse(ou, &td, n_train, &tc, &found));
    rg_assert_rel(ts_mat, 0.5 * log(1 + m2 + s2), 1e-10, "mixture t_S matrix");
    rg_assert_abs(tt.t_s_exact, ts_mat, 0.0105, "t_S exact from data vs the mixture (5 se)");
    rg_assert_abs(tt.t_s_class, ts_gmm, 0.013, "t_S class from data vs the mixture (5 se)");
    rg_assert_abs(tt.t_c, tc, 0.0028, "t_C from data vs the mixture (5 se)");
    assert_true(tt.found_exact && tt.found_class && tt.found_c && tt.found_parent);

    /* exact: rg_theory with the empirical m-hat, C_w-hat on a dense identity drift */
    synth s = { P, N, 2, set->X, set->labels };
    ref_data d = ref_data_make(&s);
    double Id[N * N] = { 0 }, m[N], nm2 = 0.0, ts_emp, tc_emp;
    for (size_t i = 0; i < N; i++) {
        Id[i * N + i] = 1.0;
        m[i] = 0.5 * (d.mu[i] - d.mu[N + i]);
        nm2 += m[i] * m[i];
    }
    for (size_t i = 0; i < N; i++) m[i] /= sqrt(nm2);
    rg_process *gen = NULL;
    ok(rg_process_general(N, Id, &gen));
    const rg_theory_data te = { .n_labels = 1, .pattern = m, .mean_norm2 = &nm2, .Cw = d.Cw };
    ok(rg_theory_speciation(gen, &te, 0, RG_SPECIATION_GMM, &ts_emp, &found));
    ok(rg_theory_collapse(gen, &te, n_train, &tc_emp, &found));
    rg_assert_rel(tt.t_s_class, ts_emp, 1e-9, "t_S class = rg_theory with m-hat, C_w-hat (dense A = I)");
    rg_assert_rel(tt.t_c, tc_emp, 1e-9, "t_C = rg_theory with C_w-hat (dense A = I)");
    rg_process_free(gen);
    ref_data_free(&d);
    rg_theory_dataset_free(ds);
    rg_process_free(ou);
    rg_data_set_free(set);
    rg_data_gmm_free(g);
}

/* ---- (c) coupled: the Kronecker path against the explicit 2d x 2d computation ------------------------ */

/* A process p (taken and freed) on a synthetic set of P points, K classes: the criteria at the times ts
 * against the reference, then the times (against the reference's roots for N <= 12, where its scans
 * are cheap; else as roots of the criteria). */
static void check_process(rg_process *p, size_t P, size_t K, uint64_t seed, const double *ts, size_t n_ts)
{
    const size_t N = rg_process_dim(p);
    synth s = synth_make(P, N, K, 2.5, seed);
    ref_data rd = ref_data_make(&s);
    rg_theory_dataset *ds = NULL;
    ok(rg_theory_dataset_new(s.X, s.P, s.N, s.labels, &ds));
    for (size_t i = 0; i < n_ts; i++) compare_at(p, ds, &rd, ts[i], 1e-9);
    if (N <= 12) compare_times(p, ds, &rd, 1e4, 1);
    else roots_consistent(p, ds, 1e4);
    rg_process_free(p);
    rg_theory_dataset_free(ds);
    ref_data_free(&rd);
    synth_free(&s);
}

static void coupled_case(const double M[4], size_t d, size_t K)
{
    rg_process *p = NULL;
    const double ts[] = { 3e-3, 0.11, 0.6, 1.7, 6.0 };
    ok(rg_process_coupled(M, d, &p));
    check_process(p, 12 * d, K, 41 + d + K, ts, sizeof ts / sizeof ts[0]);
}

/* Symmetric cross-drive gamma = 0.5 and a non-normal anisotropic coupling; d = 5 (N = 10: the formed
 * matrix and dsyevr; the four times against the reference's roots) and d = 40 (N = 80: Lanczos on the
 * implicit operator; the times checked as roots of the criteria), labelled and not. */
static void test_coupled(void **state)
{
    (void)state;
    double M1[4], M2[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M1);
    rg_process_coupling_aniso(1.0, 1.4, 0.3, 0.8, M2);
    coupled_case(M1, 5, 3);
    coupled_case(M2, 5, 0);
    coupled_case(M1, 40, 0);
    coupled_case(M2, 40, 4);
}

/* The sign certificates of the root scans (td_eval_bound, k x k work) are upper bounds of the exact
 * criteria at every time (the scan relies on nothing else): kmax, kparent, kappa and the collapse sum,
 * for a symmetric and a non-normal coupling, labelled, from t = 1e-4 to 200; and rg_theory_dataset_all
 * does use them (certified > 0) while its roots stay roots (roots_consistent above). Slack 1e-12
 * relative: the bound and the exact value round differently. */
static void test_bounds(void **state)
{
    (void)state;
    double M[2][4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M[0]);
    rg_process_coupling_aniso(1.0, 1.4, 0.3, 0.8, M[1]);
    synth s = synth_make(240, 24, 3, 2.5, 91);
    rg_theory_dataset *ds = NULL;
    ok(rg_theory_dataset_new(s.X, s.P, s.N, s.labels, &ds));
    for (size_t c = 0; c < 2; c++) {
        rg_process *p = NULL;
        td_eval *e = NULL;
        ok(rg_process_coupled(M[c], 12, &p));
        ok(td_eval_new(p, ds, &e));
        for (double t = 1e-4; t < 200.0; t *= 1.7) {
            for (int kind = 0; kind < TD_NKINDS; kind++) {
                td_value ub, v;
                int has = 0;
                ok(td_eval_bound(e, (td_kind)kind, t, &ub, &has));
                ok(td_eval_at(e, (td_kind)kind, t, &v));
                assert_int_equal(has, 1);
                const double b = ub.scale * ub.val, x = v.scale * v.val;
                if (!(b >= x * (1 - 1e-12))) {
                    print_error("kind %d, t = %g: bound %.17g below the value %.17g\n", kind, t, b, x);
                    fail();
                }
            }
        }
        rg_theory_dataset_times tt;
        ok(rg_theory_dataset_all(p, ds, 1e4, &tt));
        assert_true(tt.certified > 0);
        td_eval_free(e);
        rg_process_free(p);
    }
    rg_theory_dataset_free(ds);
    synth_free(&s);
}

/* ---- (d) nonrev: dense drifts ------------------------------------------------------------------------- */

static rg_process *nonrev_process(size_t n, uint64_t seed)
{
    double *U = malloc(n * n * sizeof *U), *G = malloc(n * n * sizeof *G), *Q = malloc(n * n * sizeof *Q);
    uint64_t u = seed;
    for (size_t i = 0; i < n * n; i++) G[i] = lcg(&u);
    for (size_t i = 0; i < n; i++) /* U = G G^T / n + 0.3 I: SPD, spread spectrum */
        for (size_t j = 0; j < n; j++) {
            double acc = i == j ? 0.3 : 0.0;
            for (size_t l = 0; l < n; l++) acc += G[i * n + l] * G[j * n + l] / (double)n;
            U[i * n + j] = acc;
        }
    ok(rg_nonrev_optimal_q(n, U, NULL, Q));
    rg_process *p = NULL;
    ok(rg_process_nonrev(n, U, Q, &p));
    free(U), free(G), free(Q);
    return p;
}

/* U SPD with its LNP-optimal Q: N = 12 (dsyevr; all four times against the reference's roots) and
 * N = 70 (Lanczos, r = 1: the k x k "Kronecker" products are plain dense products; the times checked
 * as roots of the criteria). */
static void test_nonrev(void **state)
{
    (void)state;
    const size_t Ns[2] = { 12, 70 };
    const double ts[] = { 5e-3, 0.3, 1.1, 3.3 };
    for (size_t c = 0; c < 2; c++)
        check_process(nonrev_process(Ns[c], 61 + c), 5 * Ns[c], 3, 51 + c, ts, sizeof ts / sizeof ts[0]);
}

/* An unstable general drift has no stationary law: t_S parent is NAN (not an error) and kparent fails. */
static void test_no_stationary(void **state)
{
    (void)state;
    synth s = synth_make(60, 3, 0, 0.0, 71);
    rg_theory_dataset *ds = NULL;
    rg_process *p = NULL;
    const double A[9] = { 1, 0, 0, 0, 0.5, 0, 0, 0, -0.2 };
    ok(rg_theory_dataset_new(s.X, s.P, s.N, NULL, &ds));
    ok(rg_process_general(3, A, &p));
    rg_theory_dataset_times tt;
    ok(rg_theory_dataset_all(p, ds, 50, &tt));
    assert_int_equal(tt.found_parent, 0);
    assert_true(isnan(tt.t_s_parent));
    double v;
    rg_expect_fail(rg_theory_dataset_kparent(p, ds, 1.0, &v), RG_EDOM, "not stable");
    rg_process_free(p);
    rg_theory_dataset_free(ds);
    synth_free(&s);
}

/* ---- (f) bad input --------------------------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
    (void)state;
    synth s = synth_make(20, 4, 2, 1.0, 81);
    rg_theory_dataset *ds = (rg_theory_dataset *)&s;
    int lab[20];
    memcpy(lab, s.labels, sizeof lab);
    s.X[13 * 4 + 2] = NAN;
    rg_expect_fail(rg_theory_dataset_new(s.X, 20, 4, NULL, &ds), RG_EINVAL, "X: point 13 contains NaN or Inf");
    assert_null(ds);
    s.X[13 * 4 + 2] = INFINITY;
    rg_expect_fail(rg_theory_dataset_new(s.X, 20, 4, NULL, &ds), RG_EINVAL, "point 13");
    s.X[13 * 4 + 2] = 0.5f;
    rg_expect_fail(rg_theory_dataset_new(s.X, 1, 4, NULL, &ds), RG_EINVAL, "P >= 2");
    rg_expect_fail(rg_theory_dataset_new(s.X, 20, 0, NULL, &ds), RG_EINVAL, "N >= 1");
    rg_expect_fail(rg_theory_dataset_new(NULL, 20, 4, NULL, &ds), RG_EINVAL, "X is NULL");
    lab[7] = 2; /* class 2 with one point */
    rg_expect_fail(rg_theory_dataset_new(s.X, 20, 4, lab, &ds), RG_EINVAL, "class 2 has 1 point, want at least 2");
    lab[7] = -1;
    rg_expect_fail(rg_theory_dataset_new(s.X, 20, 4, lab, &ds), RG_EINVAL, "label -1 of point 7 is out of range");
    lab[7] = 10; /* 20 points cannot hold 11 classes of 2 */
    rg_expect_fail(rg_theory_dataset_new(s.X, 20, 4, lab, &ds), RG_EINVAL, "label 10 of point 7 is out of range");
    lab[7] = 3; /* class 2 empty */
    rg_expect_fail(rg_theory_dataset_new(s.X, 20, 4, lab, &ds), RG_EINVAL, "class 2 has 0 points");
    for (size_t i = 0; i < 20; i++) lab[i] = 0;
    rg_expect_fail(rg_theory_dataset_new(s.X, 20, 4, lab, &ds), RG_EINVAL, "one class only");
    assert_null(ds);
    ok(rg_theory_dataset_new(s.X, 20, 4, NULL, &ds));
    rg_process *p = NULL, *p5 = NULL;
    ok(rg_process_ou(4, &p));
    ok(rg_process_ou(5, &p5));
    double v;
    rg_theory_dataset_times tt;
    rg_expect_fail(rg_theory_dataset_kmax(p5, ds, 1.0, &v), RG_EINVAL, "dimension 5, the data N = 4");
    rg_expect_fail(rg_theory_dataset_all(p5, ds, 10, &tt), RG_EINVAL, "dimension 5");
    rg_expect_fail(rg_theory_dataset_kmax(p, ds, 0.0, &v), RG_EINVAL, "t = 0");
    rg_expect_fail(rg_theory_dataset_kmax(p, ds, NAN, &v), RG_EINVAL, "finite and > 0");
    rg_expect_fail(rg_theory_dataset_kappa(p, ds, 1.0, &v), RG_EINVAL, "kappa needs labels");
    rg_expect_fail(rg_theory_dataset_collapse_f(p, ds, 0.5, 1.0, &v), RG_EINVAL, "training points");
    rg_expect_fail(rg_theory_dataset_all(p, ds, NAN, &tt), RG_EINVAL, "training points");
    rg_expect_fail(rg_theory_dataset_kmax(NULL, ds, 1.0, &v), RG_EINVAL, "NULL");
    rg_expect_fail(rg_theory_dataset_kmax(p, NULL, 1.0, &v), RG_EINVAL, "NULL");
    rg_theory_dataset_free(ds);
    rg_theory_dataset_free(NULL);
    rg_process_free(p);
    rg_process_free(p5);
    synth_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spectrum),    cmocka_unit_test(test_ou_closed_forms),
        cmocka_unit_test(test_ou_fast_path), cmocka_unit_test(test_gmm2_mixture),
        cmocka_unit_test(test_coupled),     cmocka_unit_test(test_nonrev),
        cmocka_unit_test(test_no_stationary), cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
