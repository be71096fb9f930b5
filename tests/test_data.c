/* Tests of src/data.c and src/data_set.c: mixture validation, exact log-density against a naive
 * density sum (docs/math.md 5.3), sampling moments (5 sigma, fixed seeds), determinism and the documented
 * Philox addressing, the gmm4 mode structure (docs/math.md 7.1 c), covariance spectra against data built
 * with a known spectrum (docs/math.md 10.2), the classification rules of docs/math.md 8.4, .npy round trips and
 * every bad-input path, integer labels from .npy, and the refusal of FIFOs, devices and directories. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/data.h"

#define EPS 2.220446049250313e-16
#define LOG_2PI 1.83787706640934548356

/* Phi(-1) = erfc(1/sqrt 2)/2: the misclassification rate of the sign rules at unit SNR (below).
 * Digits: Python mpmath, ncdf(-1) = 0.158655253931457051414767454367962... */
#define PHI_M1 0.15865525393145705

static const uint64_t SEED = 20240917;

/* ---- small helpers ---------------------------------------------------------------------------- */

/* Deterministic fill in (-amp, amp): an irrational rotation, no rand(). */
static void fill(double *x, size_t n, double amp, double phase)
{
    for (size_t i = 0; i < n; i++) {
        double u = fmod(phase + 0.6180339887498949 * (double)(i + 1), 1.0);
        x[i] = amp * (2.0 * u - 1.0);
    }
}

/* C = B B^T + shift I: SPD with eigenvalues >= shift. */
static void make_spd(size_t n, double shift, double phase, double *C)
{
    double *B = malloc(n * n * sizeof *B);
    assert_non_null(B);
    fill(B, n * n, 1.0, phase);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = i == j ? shift : 0.0;
            for (size_t k = 0; k < n; k++) s += B[i * n + k] * B[j * n + k];
            C[i * n + j] = s;
        }
    free(B);
}

/* In-place Gauss-Jordan inverse with partial pivoting; returns det(A). Independent of LAPACK. */
static double naive_inverse(size_t n, double *A, double *Ainv)
{
    double det = 1.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) Ainv[i * n + j] = i == j;
    for (size_t c = 0; c < n; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(A[r * n + c]) > fabs(A[piv * n + c])) piv = r;
        if (piv != c) {
            det = -det;
            for (size_t j = 0; j < n; j++) {
                double t = A[c * n + j]; A[c * n + j] = A[piv * n + j]; A[piv * n + j] = t;
                t = Ainv[c * n + j]; Ainv[c * n + j] = Ainv[piv * n + j]; Ainv[piv * n + j] = t;
            }
        }
        double p = A[c * n + c];
        det *= p;
        for (size_t j = 0; j < n; j++) { A[c * n + j] /= p; Ainv[c * n + j] /= p; }
        for (size_t r = 0; r < n; r++) {
            if (r == c) continue;
            double f = A[r * n + c];
            for (size_t j = 0; j < n; j++) { A[r * n + j] -= f * A[c * n + j]; Ainv[r * n + j] -= f * Ainv[c * n + j]; }
        }
    }
    return det;
}

/* log sum_j pi_j N(z; mu_j, C_j) by summing the densities themselves (no log-sum-exp): the direct
 * definition, usable where no density underflows. Ck: (K, N, N) full covariances. */
static double naive_logpdf(size_t K, size_t N, const double *w, const double *mu, const double *Ck,
                           const double *z)
{
    double *A = malloc(N * N * sizeof *A), *Ai = malloc(N * N * sizeof *Ai), p = 0.0;
    assert_true(A && Ai);
    for (size_t j = 0; j < K; j++) {
        memcpy(A, Ck + j * N * N, N * N * sizeof *A);
        double det = naive_inverse(N, A, Ai), q = 0.0;
        for (size_t a = 0; a < N; a++)
            for (size_t b = 0; b < N; b++) q += (z[a] - mu[j * N + a]) * Ai[a * N + b] * (z[b] - mu[j * N + b]);
        p += w[j] * exp(-0.5 * q) / sqrt(pow(2.0 * 3.14159265358979323846, (double)N) * det);
    }
    free(A);
    free(Ai);
    return log(p);
}

/* Mean, and its standard error, of n doubles. */
static void mean_se(const double *v, size_t n, double *mean, double *se)
{
    double m = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) m += v[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    *mean = m;
    *se = sqrt(s / (double)(n - 1) / (double)n);
}

/* ---- validation ------------------------------------------------------------------------------- */

static void test_check_bad_input(void **state)
{
    (void)state;
    const double mu[4] = { 1, 2, -1, 0.5 }, s2[2] = { 1.0, 2.0 }, nan_mu[4] = { 1, NAN, 0, 0 };
    const double w_ok[2] = { 0.25, 0.75 }, w_sum[2] = { 0.25, 0.65 }, w_neg[2] = { 1.25, -0.25 };
    const double full_bad[8] = { 1, 2, 2, 1, 1, 0, 0, 1 };  /* component 0 has eigenvalues 3, -1 */
    const double full_asym[8] = { 1, 0, 0, 1, 2, 0.5, 0, 2 };
    const double iso_neg[2] = { 1.0, -1.0 };
    const struct { rg_data_gmm_params p; int want; const char *frag; } cases[] = {
        { { .K = 2, .N = 2, .weights = w_sum, .means = mu, .cov_kind = RG_COV_ISO, .cov = s2 }, RG_EINVAL, "sum to 0.9" },
        { { .K = 2, .N = 2, .weights = w_neg, .means = mu, .cov_kind = RG_COV_ISO, .cov = s2 }, RG_EINVAL, "weight 1" },
        { { .K = 2, .N = 2, .weights = w_ok, .means = nan_mu, .cov_kind = RG_COV_ISO, .cov = s2 }, RG_EINVAL, "mean 0" },
        { { .K = 0, .N = 2, .weights = w_ok, .means = mu, .cov_kind = RG_COV_ISO, .cov = s2 }, RG_EINVAL, "K = 0" },
        { { .K = 2, .N = 0, .weights = w_ok, .means = mu, .cov_kind = RG_COV_ISO, .cov = s2 }, RG_EINVAL, "N = 0" },
        { { .K = 2, .N = 2, .weights = w_ok, .means = NULL, .cov_kind = RG_COV_ISO, .cov = s2 }, RG_EINVAL, "NULL" },
        { { .K = 2, .N = 2, .weights = w_ok, .means = mu, .cov_kind = RG_COV_ISO, .cov = iso_neg }, RG_EDOM, "component 1" },
        { { .K = 2, .N = 2, .weights = w_ok, .means = mu, .cov_kind = RG_COV_FULL, .cov = full_bad }, RG_EDOM, "covariance 0 is not positive definite" },
        { { .K = 2, .N = 2, .weights = w_ok, .means = mu, .cov_kind = RG_COV_FULL, .cov = full_asym }, RG_EDOM, "covariance 1 is not symmetric" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *why = rg_data_gmm_check(&cases[c].p);
        assert_non_null(why);
        rg_data_gmm *g = (rg_data_gmm *)&c; /* must be reset to NULL on failure */
        rg_expect_fail(rg_data_gmm_new(&cases[c].p, &g), cases[c].want, cases[c].frag);
        assert_string_equal(why, rg_strerror_last());
        assert_null(g);
    }
    rg_data_gmm_params ok = { .K = 2, .N = 2, .weights = w_ok, .means = mu, .cov_kind = RG_COV_ISO, .cov = s2 };
    assert_null(rg_data_gmm_check(&ok));

    rg_data_gmm *g = NULL;
    const double ones3[3] = { 1, 1, 1 }, dir_c[2] = { 1, 1 }, dir_d[2] = { 1, 0 };
    rg_expect_fail(rg_data_gmm2(3, 0.0, NULL, 1.0, NULL, &g), RG_EINVAL, "|m|^2");
    rg_expect_fail(rg_data_gmm2(3, 1.0, NULL, NAN, NULL, &g), RG_EDOM, "sigma^2");
    rg_expect_fail(rg_data_gmm2(3, 1.0, (const double[3]){ 0, 0, 0 }, 1.0, NULL, &g), RG_EINVAL, "zero");
    rg_expect_fail(rg_data_gmm2(1, 1.0, NULL, 1.0, (const double[1]){ -2.0 }, &g), RG_EDOM, "not positive definite");
    rg_expect_fail(rg_data_gmm4(3, 1.0, 1.0, NULL, NULL, 1.0, &g), RG_EINVAL, "even d");
    rg_expect_fail(rg_data_gmm4(2, 1.0, 1.0, dir_c, dir_d, 1.0, &g), RG_EINVAL, "not orthogonal");
    rg_expect_fail(rg_data_gmm4(2, 1.0, 1.0, NULL, NULL, 0.0, &g), RG_EDOM, "sigma^2");
    (void)ones3;
    assert_null(g);
}

/* ---- log-density ------------------------------------------------------------------------------ */

/* Exact log p_0 (log-sum-exp) against the naive density sum, for each covariance kind on the same
 * K = 3, N = 5 means. Tolerance 1e-12 relative: both are backward stable in double on SPD matrices of
 * condition < 100 (eigenvalues >= 0.5, entries O(1)): errors ~1e-14 |log p| at most. */
static void test_logpdf_naive(void **state)
{
    (void)state;
    enum { K = 3, N = 5, B = 6 };
    const double w[K] = { 0.2, 0.45, 0.35 };
    double mu[K * N], z[B * N], full[K * N * N], diag[K * N], iso[K] = { 0.7, 1.3, 2.1 }, Ck[K * N * N];
    fill(mu, K * N, 1.5, 0.1);
    fill(z, B * N, 2.5, 0.37);
    fill(diag, K * N, 0.6, 0.2);
    for (size_t i = 0; i < K * N; i++) diag[i] += 1.0;   /* in (0.4, 1.6) */
    for (size_t j = 0; j < K; j++) make_spd(N, 0.5, 0.11 * (double)(j + 1), full + j * N * N);
    for (int kind = 0; kind < 3; kind++) {
        const double *cov = kind == RG_COV_ISO ? iso : kind == RG_COV_DIAG ? diag : full;
        memset(Ck, 0, sizeof Ck);
        for (size_t j = 0; j < K; j++)
            for (size_t i = 0; i < N; i++)
                for (size_t l = 0; l < N; l++)
                    Ck[j * N * N + i * N + l] = kind == RG_COV_FULL ? full[j * N * N + i * N + l]
                                               : i != l ? 0.0 : kind == RG_COV_ISO ? iso[j] : diag[j * N + i];
        rg_data_gmm_params p = { .K = K, .N = N, .weights = w, .means = mu, .cov_kind = (rg_cov_kind)kind, .cov = cov };
        rg_data_gmm *g;
        assert_int_equal(rg_data_gmm_new(&p, &g), RG_OK);
        double lp[B];
        assert_int_equal(rg_data_gmm_logpdf(g, z, B, lp), RG_OK);
        for (size_t b = 0; b < B; b++)
            rg_assert_rel(lp[b], naive_logpdf(K, N, w, mu, Ck, z + b * N), 1e-12, "log p_0 vs naive sum");
        rg_data_gmm_free(g);
    }
}

/* Far from every mean each density underflows (exp(-5000)), yet log-sum-exp stays exact. Two
 * isotropic components, sigma^2 = 1, N = 2, z = (100, 0), means (0, 0) and (1, 0):
 *   l_0 = log 0.5 - 5000,  l_1 = log 0.5 - 9801/2,  log p = l_1 + log1p(e^{l_0 - l_1}) - log 2 pi.
 * Tolerance 4 eps: a handful of roundings on values of size 5000. */
static void test_logpdf_far(void **state)
{
    (void)state;
    const double w[2] = { 0.5, 0.5 }, mu[4] = { 0, 0, 1, 0 }, s2[2] = { 1, 1 }, z[2] = { 100, 0 };
    rg_data_gmm_params p = { .K = 2, .N = 2, .weights = w, .means = mu, .cov_kind = RG_COV_ISO, .cov = s2 };
    rg_data_gmm *g;
    assert_int_equal(rg_data_gmm_new(&p, &g), RG_OK);
    double lp, l0 = log(0.5) - 5000.0, l1 = log(0.5) - 4900.5;
    assert_int_equal(rg_data_gmm_logpdf(g, z, 1, &lp), RG_OK);
    rg_assert_rel(lp, l1 + log1p(exp(l0 - l1)) - LOG_2PI, 4 * EPS, "log p_0 far in the tail");
    rg_expect_fail(rg_data_gmm_logpdf(g, (const double[2]){ NAN, 0 }, 1, &lp), RG_EINVAL, "NaN");
    rg_data_gmm_free(g);
}

/* ---- sampling --------------------------------------------------------------------------------- */

/* The addressing documented in data.h, pinned: with mu = 0 and sigma = 1 a point IS its normals
 * rg_rng_normals(r, traj = mu, step = 0) (no rounding: float -> double -> float), and with weights
 * (0.3, 0.7) its component is [u >= 0.3], u = rg_rng_uniform(r, traj = mu, step = 1, index 0). */
static void test_sample_addressing(void **state)
{
    (void)state;
    enum { N = 7, P = 40 };
    const double w[2] = { 0.3, 0.7 }, mu[2 * N] = { 0 }, s2[2] = { 1, 1 };
    rg_data_gmm_params p = { .K = 2, .N = N, .weights = w, .means = mu, .cov_kind = RG_COV_ISO, .cov = s2 };
    rg_data_gmm *g;
    assert_int_equal(rg_data_gmm_new(&p, &g), RG_OK);
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_DATA };
    float X[P * N], z[N];
    int lab[P];
    assert_int_equal(rg_data_gmm_sample(g, r, 1000, P, X, lab), RG_OK);
    int seen[2] = { 0, 0 };
    for (uint64_t k = 0; k < P; k++) {
        rg_rng_normals(r, 1000 + k, 0, z, N);
        assert_memory_equal(X + k * N, z, sizeof z);
        assert_int_equal(lab[k], rg_rng_uniform(r, 1000 + k, 1, 0) >= 0.3);
        seen[lab[k]]++;
    }
    assert_true(seen[0] > 0 && seen[1] > 0);  /* both branches of the component rule exercised */
    rg_data_gmm_free(g);
}

/* Same seed, same bytes; a slice [first, first + n) is those rows of a longer draw; another seed
 * gives other bytes (so the comparison can fail). Full covariance: the dtrmv path. */
static void test_sample_determinism(void **state)
{
    (void)state;
    enum { N = 5 };
    double C[N * N];
    make_spd(N, 0.3, 0.42, C);
    rg_data_gmm *g;
    assert_int_equal(rg_data_gmm2(N, 3.0, NULL, 0.0, C, &g), RG_OK);
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_DATA }, r2 = { .seed = SEED + 1, .stream = RG_STREAM_DATA };
    rg_data_set *a, *b, *c;
    assert_int_equal(rg_data_set_draw(g, r, 1000, &a), RG_OK);
    assert_int_equal(rg_data_set_draw(g, r, 1000, &b), RG_OK);
    assert_int_equal(rg_data_set_draw(g, r2, 1000, &c), RG_OK);
    assert_memory_equal(a->X, b->X, 1000 * N * sizeof(float));
    assert_memory_equal(a->labels, b->labels, 1000 * sizeof(int));
    assert_true(memcmp(a->X, c->X, 1000 * N * sizeof(float)) != 0);
    float X[100 * N];
    int lab[100];
    assert_int_equal(rg_data_gmm_sample(g, r, 0, 100, X, lab), RG_OK);
    assert_memory_equal(X, a->X, sizeof X);
    assert_memory_equal(lab, a->labels, sizeof lab);
    assert_int_equal(rg_data_gmm_sample(g, r, 537, 100, X, lab), RG_OK);
    assert_memory_equal(X, a->X + 537 * N, sizeof X);
    assert_memory_equal(lab, a->labels + 537, sizeof lab);
    rg_expect_fail(rg_data_gmm_sample(g, r, 0, 0, X, lab), RG_EINVAL, "P = 0");
    rg_expect_fail(rg_data_gmm_sample(g, r, UINT64_MAX, 2, X, lab), RG_EINVAL, "overflow");
    rg_data_set_free(a);
    rg_data_set_free(b);
    rg_data_set_free(c);
    rg_data_gmm_free(g);
}

/* gmm2 with a dense Cw (docs/math.md 5.4): E z = 0 and E z z^T = m m^T + Cw, m = sqrt(2) (1, 2, -1)/sqrt 6.
 * P = 20000 points, seed SEED. Each of the 3 means and 6 second moments must lie within 5 standard
 * errors (plug-in SE = sample sd of z_i resp. z_i z_j over sqrt P). A correct sampler fails this for
 * ~5e-6 of seeds; a 5% error in a variance is a > 10 sigma shift. Labels: the +m / -m split is
 * Binomial(P, 1/2), within 5 sqrt(P/4); the class mean of label 0 is +m within 5 SE. */
static void test_gmm2_moments(void **state)
{
    (void)state;
    enum { N = 3, P = 20000 };
    const double Cw[N * N] = { 1.0, 0.3, 0.1, 0.3, 2.0, -0.4, 0.1, -0.4, 0.5 }, dir[N] = { 1, 2, -1 };
    rg_data_gmm *g;
    assert_int_equal(rg_data_gmm2(N, 2.0, dir, NAN, Cw, &g), RG_OK);
    const double *m = rg_data_gmm_direction(g, 0);
    assert_non_null(m);
    rg_assert_rel(m[0] * m[0] + m[1] * m[1] + m[2] * m[2], 2.0, 4 * EPS, "|m|^2");
    rg_assert_rel(m[1], 2.0 * sqrt(2.0 / 6.0), 4 * EPS, "m_2 = 2 sqrt(2/6)");
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_DATA };
    rg_data_set *s;
    assert_int_equal(rg_data_set_draw(g, r, P, &s), RG_OK);
    double *v = malloc(P * sizeof *v), mean, se;
    assert_non_null(v);
    for (size_t i = 0; i < N; i++) {
        for (size_t p = 0; p < P; p++) v[p] = s->X[p * N + i];
        mean_se(v, P, &mean, &se);
        rg_assert_abs(mean, 0.0, 5 * se, "E z_i");
        for (size_t j = 0; j <= i; j++) {
            for (size_t p = 0; p < P; p++) v[p] = (double)s->X[p * N + i] * (double)s->X[p * N + j];
            mean_se(v, P, &mean, &se);
            rg_assert_abs(mean, m[i] * m[j] + Cw[i * N + j], 5 * se, "E z_i z_j = m m^T + Cw");
        }
    }
    size_t n0 = 0;
    for (size_t p = 0; p < P; p++) n0 += s->labels[p] == 0;
    rg_assert_abs((double)n0, P / 2.0, 5 * sqrt(P / 4.0), "label 0 count");
    for (size_t i = 0; i < N; i++) {
        size_t n = 0;
        for (size_t p = 0; p < P; p++)
            if (s->labels[p] == 0) v[n++] = s->X[p * N + i];
        mean_se(v, n, &mean, &se);
        rg_assert_abs(mean, m[i], 5 * se, "E[z_i | component 0] = +m_i");
    }
    free(v);
    rg_data_set_free(s);
    rg_data_gmm_free(g);
}

/* A general mixture with unequal weights and diagonal covariances: each component count within 5
 * binomial SE of P pi_j, each per-component mean and variance within 5 SE of mu_j, c_j (SE of a
 * Gaussian sample variance: c sqrt(2/(n-1))). P = 30000, 3 components, N = 2. */
static void test_mixture_components(void **state)
{
    (void)state;
    enum { K = 3, N = 2, P = 30000 };
    const double w[K] = { 0.15, 0.5, 0.35 }, mu[K * N] = { -3, 1, 0, 0, 2.5, -1 };
    const double c[K * N] = { 0.5, 2.0, 1.0, 1.0, 3.0, 0.25 };
    rg_data_gmm_params p = { .K = K, .N = N, .weights = w, .means = mu, .cov_kind = RG_COV_DIAG, .cov = c };
    rg_data_gmm *g;
    assert_int_equal(rg_data_gmm_new(&p, &g), RG_OK);
    rg_data_set *s;
    assert_int_equal(rg_data_set_draw(g, (rg_rng){ .seed = SEED + 7, .stream = RG_STREAM_DATA }, P, &s), RG_OK);
    double *v = malloc(P * sizeof *v), mean, se;
    assert_non_null(v);
    for (int j = 0; j < K; j++) {
        size_t n = 0;
        for (size_t q = 0; q < P; q++) n += s->labels[q] == j;
        rg_assert_abs((double)n, P * w[j], 5 * sqrt(P * w[j] * (1 - w[j])), "component count");
        for (size_t i = 0; i < N; i++) {
            size_t k = 0;
            for (size_t q = 0; q < P; q++)
                if (s->labels[q] == j) v[k++] = s->X[q * N + i];
            mean_se(v, k, &mean, &se);
            rg_assert_abs(mean, mu[j * N + i], 5 * se, "component mean");
            double var = 0.0;
            for (size_t q = 0; q < k; q++) var += (v[q] - mean) * (v[q] - mean);
            var /= (double)(k - 1);
            double cv = c[j * N + i];
            rg_assert_abs(var, cv, 5 * cv * sqrt(2.0 / (double)(k - 1)), "component variance");
        }
    }
    free(v);
    rg_data_set_free(s);
    rg_data_gmm_free(g);
}

/* gmm4 (docs/math.md 7.1 c), d = 6, |m_c|^2 = 4, |m_d|^2 = 9, sigma^2 = 1, default directions.
 * Deterministic: m_c = sqrt(4/6) (1, ..., 1), m_d = sqrt(9/6) (1, -1, ...), m_c . m_d = 0, and component
 * j has x = s_c m_c + s_d m_d, y = s_c m_c - s_d m_d with (s_c, s_d) decoded from j.
 * Sampled (P = 20000): u = (x + y)/sqrt 2 = sqrt 2 s_c m_c + sigma xi, v = (x - y)/sqrt 2 = sqrt 2 s_d m_d
 * + sigma xi'. Per coordinate: E[u | s_c] = sqrt 2 s_c m_c (SE sigma/sqrt n), E[v | s_d] = sqrt 2 s_d m_d,
 * and E[u | s_d] = 0 (u ignores s_d; SE sqrt((2 m_c,i^2 + sigma^2)/n)), all within 5 SE. */
static void test_gmm4_structure(void **state)
{
    (void)state;
    enum { D = 6, N = 2 * D, P = 20000 };
    rg_data_gmm *g;
    assert_int_equal(rg_data_gmm4(D, 4.0, 9.0, NULL, NULL, 1.0, &g), RG_OK);
    assert_int_equal(rg_data_gmm_N(g), N);
    assert_int_equal(rg_data_gmm_K(g), 4);
    const double *mc = rg_data_gmm_direction(g, 0), *md = rg_data_gmm_direction(g, 1), *mu = rg_data_gmm_means(g);
    assert_true(mc && md && !rg_data_gmm_direction(g, 2));
    double dot = 0.0, nc = 0.0, nd = 0.0;
    for (size_t i = 0; i < D; i++) {
        rg_assert_rel(mc[i], sqrt(4.0 / 6.0), 2 * EPS, "m_c entry");
        rg_assert_rel(md[i], (i % 2 ? -1.0 : 1.0) * sqrt(9.0 / 6.0), 2 * EPS, "m_d entry");
        dot += mc[i] * md[i];
        nc += mc[i] * mc[i];
        nd += md[i] * md[i];
    }
    assert_true(dot == 0.0);
    rg_assert_rel(nc, 4.0, 8 * EPS, "|m_c|^2");
    rg_assert_rel(nd, 9.0, 8 * EPS, "|m_d|^2");
    static const int signs[4][2] = { { 1, 1 }, { 1, -1 }, { -1, 1 }, { -1, -1 } };
    for (int j = 0; j < 4; j++) {
        int sc, sd;
        rg_data_gmm4_signs(j, &sc, &sd);
        assert_int_equal(sc, signs[j][0]);
        assert_int_equal(sd, signs[j][1]);
        for (size_t i = 0; i < D; i++) {
            assert_true(mu[j * N + i] == sc * mc[i] + sd * md[i]);
            assert_true(mu[j * N + D + i] == sc * mc[i] - sd * md[i]);
        }
    }
    rg_data_set *s;
    assert_int_equal(rg_data_set_draw(g, (rg_rng){ .seed = SEED, .stream = RG_STREAM_DATA }, P, &s), RG_OK);
    double *v = malloc(P * sizeof *v), mean, se;
    assert_non_null(v);
    for (int sgn = -1; sgn <= 1; sgn += 2)
        for (size_t i = 0; i < D; i++)
            for (int what = 0; what < 3; what++) {   /* 0: u | s_c, 1: v | s_d, 2: u | s_d */
                size_t n = 0;
                for (size_t p = 0; p < P; p++) {
                    int sc, sd;
                    rg_data_gmm4_signs(s->labels[p], &sc, &sd);
                    if ((what == 0 ? sc : sd) != sgn) continue;
                    const float *x = s->X + p * N, *y = x + D;
                    v[n++] = (what == 1 ? ((double)x[i] - (double)y[i]) : ((double)x[i] + (double)y[i])) / sqrt(2.0);
                }
                mean_se(v, n, &mean, &se);
                double want = what == 0 ? sqrt(2.0) * sgn * mc[i] : what == 1 ? sqrt(2.0) * sgn * md[i] : 0.0;
                rg_assert_abs(mean, want, 5 * se, what == 0 ? "E[u | s_c]" : what == 1 ? "E[v | s_d]" : "E[u | s_d]");
            }
    free(v);
    rg_data_set_free(s);
    rg_data_gmm_free(g);
}

/* ---- centring and spectra --------------------------------------------------------------------- */

/* Sylvester Hadamard matrix of order n (power of 2), entries +-1. */
static void hadamard(size_t n, double *H)
{
    H[0] = 1.0;
    for (size_t m = 1; m < n; m *= 2)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < m; j++) {
                double h = H[i * n + j];
                H[i * n + j + m] = h;
                H[(i + m) * n + j] = h;
                H[(i + m) * n + j + m] = -h;
            }
}

/* Data with a known spectrum: N = 64, P = 128 rows o +- a_k u_k, u_k = h_k / 8 (orthonormal rows of
 * the Hadamard matrix), o = 3 (1, ..., 1), a_k = (37 k mod 64) + 1. Every entry is a multiple of 1/8
 * below 12, exact in float, the column means are exactly 3 and the centred products are exact in double,
 * so C = sum_k 2 a_k^2 u_k u_k^T / 127 exactly up to the final division: eigenvalues 2 a_k^2 / 127, top
 * 2 * 64^2 / 127 = 8192/127. Tolerance 1e-12 relative: dsyevr is backward stable, error <~ N eps ||C||
 * = 1.4e-14 ||C||, and ||C|| = lambda_max. */
/* Regression (tests/hardening.sh, theory --data mnist on two blank images): a zero covariance made
 * LAPACKE_dsyevr write N eigenvalues into a one-element array on the stack (W has dimension N),
 * a segmentation fault for N >= 10. Constant rows: C = 0 exactly, so lambda_max = 0 exactly. */
static void test_covariance_top_zero(void **state)
{
    (void)state;
    enum { P = 3, N = 100 };
    float X[P * N];
    for (size_t i = 0; i < P * N; i++) X[i] = 0.25f * (float)(i % N);   /* every row the same */
    double lam = -1.0;
    assert_int_equal(rg_data_covariance_top(X, P, N, &lam), RG_OK);
    assert_true(lam == 0.0);
}

static void test_covariance_known_spectrum(void **state)
{
    (void)state;
    enum { N = 64, P = 128 };
    double *H = malloc(N * N * sizeof *H), *C = malloc(N * N * sizeof *C), lmax;
    float *X = malloc(P * N * sizeof *X);
    assert_true(H && C && X);
    hadamard(N, H);
    for (size_t k = 0; k < N; k++) {
        double a = (double)((37 * k) % N + 1);
        for (size_t i = 0; i < N; i++) {
            X[2 * k * N + i] = (float)(3.0 + a * H[k * N + i] / 8.0);
            X[(2 * k + 1) * N + i] = (float)(3.0 - a * H[k * N + i] / 8.0);
        }
    }
    assert_int_equal(rg_data_covariance_top(X, P, N, &lmax), RG_OK);
    rg_assert_rel(lmax, 8192.0 / 127.0, 1e-12, "Lambda = 2 * 64^2 / 127");
    /* The full matrix entry by entry: C_ij = sum_k 2 a_k^2 h_ki h_kj / (64 * 127), a sum of exact terms. */
    assert_int_equal(rg_data_covariance(X, P, N, C), RG_OK);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0.0;
            for (size_t k = 0; k < N; k++) {
                double a = (double)((37 * k) % N + 1);
                s += 2.0 * a * a * H[k * N + i] * H[k * N + j];
            }
            rg_assert_rel(C[i * N + j], s / (64.0 * 127.0), 2 * EPS, "C_ij exact");
        }
    /* centring: the column means are exactly 3, and the centred entries exact */
    double mean[N];
    assert_int_equal(rg_data_center(X, P, N, mean), RG_OK);
    for (size_t i = 0; i < N; i++) assert_true(mean[i] == 3.0);
    assert_true(X[5] == (float)(((37 * 0) % N + 1) * H[5] / 8.0));
    free(H);
    free(C);
    free(X);
}

/* Covariance of generic data against a plain double loop (two-pass mean, then centred products).
 * P = 300 spans two dsyrk blocks of 256 rows. Tolerance 1e-12 of the largest entry: sums of 300
 * products, ~300 eps. Also: the data are untouched, and P < 2 / NaN are rejected. */
static void test_covariance_naive(void **state)
{
    (void)state;
    enum { N = 7, P = 300 };
    double xd[P * N], mean[N] = { 0 }, C[N * N], want[N * N];
    float X[P * N], X0[P * N];
    fill(xd, P * N, 2.0, 0.3);
    for (size_t k = 0; k < P * N; k++) X0[k] = X[k] = (float)(xd[k] + (double)(k % N));
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < N; i++) mean[i] += (double)X[p * N + i] / (double)P;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0.0;
            for (size_t p = 0; p < P; p++) s += ((double)X[p * N + i] - mean[i]) * ((double)X[p * N + j] - mean[j]);
            want[i * N + j] = s / (P - 1);
        }
    assert_int_equal(rg_data_covariance(X, P, N, C), RG_OK);
    rg_assert_vec_rel(C, want, N * N, 1e-12, "covariance vs plain loops");
    assert_memory_equal(X, X0, sizeof X);
    double got_mean[N];
    assert_int_equal(rg_data_center(X, P, N, got_mean), RG_OK);
    rg_assert_vec_rel(got_mean, mean, N, 1e-14, "column means");
    for (size_t k = 0; k < P * N; k++)
        assert_true(X[k] == (float)((double)X0[k] - got_mean[k % N]));
    double l;
    rg_expect_fail(rg_data_covariance_top(X, 1, N, &l), RG_EINVAL, "P >= 2");
    X[11] = NAN;
    rg_expect_fail(rg_data_covariance_top(X, P, N, &l), RG_EINVAL, "point 1");
    rg_expect_fail(rg_data_center(X, 0, N, NULL), RG_EINVAL, "empty");
}

/* ---- classification (docs/math.md 8.4) ------------------------------------------------------------- */

/* Well separated (|m|^2 = 50, sigma = 1): the error rate is Phi(-|m|/sigma) = Phi(-7.07) = 8e-13 per
 * point, so all 2000 labels must be right. At |m| = sigma the rate is Phi(-1) = 0.158655 exactly; at
 * P = 20000 it must lie within 5 binomial SE (0.0026). The max-posterior rule (rg_data_gmm_classify)
 * equals sign(m.z) for equal weights and isotropic Cw: identical labels (ties have probability 0). */
static void test_classify_gmm2(void **state)
{
    (void)state;
    enum { P = 20000 };
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_DATA };
    rg_data_gmm *g;
    rg_data_set *s;
    int *lab = malloc(P * sizeof *lab), *lab2 = malloc(P * sizeof *lab2);
    assert_true(lab && lab2);
    assert_int_equal(rg_data_gmm2(50, 50.0, NULL, 1.0, NULL, &g), RG_OK);
    assert_int_equal(rg_data_set_draw(g, r, 2000, &s), RG_OK);
    assert_int_equal(rg_data_classify_gmm2(50, rg_data_gmm_direction(g, 0), s->X, 2000, lab), RG_OK);
    assert_memory_equal(lab, s->labels, 2000 * sizeof *lab);
    rg_data_set_free(s);
    rg_data_gmm_free(g);

    const double dir[10] = { 3, -1, 4, 1, -5, 9, 2, -6, 5, 3 };
    assert_int_equal(rg_data_gmm2(10, 1.0, dir, 1.0, NULL, &g), RG_OK);
    assert_int_equal(rg_data_set_draw(g, r, P, &s), RG_OK);
    assert_int_equal(rg_data_classify_gmm2(10, rg_data_gmm_direction(g, 0), s->X, P, lab), RG_OK);
    assert_int_equal(rg_data_gmm_classify(g, s->X, P, lab2), RG_OK);
    assert_memory_equal(lab, lab2, P * sizeof *lab);
    size_t wrong = 0;
    for (size_t p = 0; p < P; p++) wrong += lab[p] != s->labels[p];
    rg_assert_abs((double)wrong / P, PHI_M1, 5 * sqrt(PHI_M1 * (1 - PHI_M1) / P), "gmm2 error rate");
    rg_expect_fail(rg_data_classify_gmm2(0, dir, s->X, P, lab), RG_EINVAL, "empty");
    rg_data_set_free(s);
    rg_data_gmm_free(g);
    free(lab);
    free(lab2);
}

/* gmm4: c = sign(m_c.(x+y)) errs when the noise m_c.(xi_x + xi_y) sigma ~ N(0, 2 sigma^2 |m_c|^2)
 * beats 2 |m_c|^2, i.e. with probability Phi(-sqrt 2 |m_c| / sigma); likewise d. With |m_c|^2 =
 * |m_d|^2 = 1/2, sigma = 1: Phi(-1) each, within 5 binomial SE at P = 20000. With |m|^2 = 50 every
 * label of 2000 points is right (error 2 Phi(-10) = 1.5e-23 per point). */
static void test_classify_gmm4(void **state)
{
    (void)state;
    enum { D = 8, P = 20000 };
    const rg_rng r = { .seed = SEED + 3, .stream = RG_STREAM_DATA };
    int *lab = malloc(P * sizeof *lab);
    assert_non_null(lab);
    rg_data_gmm *g;
    rg_data_set *s;
    assert_int_equal(rg_data_gmm4(D, 50.0, 50.0, NULL, NULL, 1.0, &g), RG_OK);
    assert_int_equal(rg_data_set_draw(g, r, 2000, &s), RG_OK);
    assert_int_equal(rg_data_classify_gmm4(D, rg_data_gmm_direction(g, 0), rg_data_gmm_direction(g, 1), s->X, 2000, lab), RG_OK);
    assert_memory_equal(lab, s->labels, 2000 * sizeof *lab);
    rg_data_set_free(s);
    rg_data_gmm_free(g);

    assert_int_equal(rg_data_gmm4(D, 0.5, 0.5, NULL, NULL, 1.0, &g), RG_OK);
    assert_int_equal(rg_data_set_draw(g, r, P, &s), RG_OK);
    assert_int_equal(rg_data_classify_gmm4(D, rg_data_gmm_direction(g, 0), rg_data_gmm_direction(g, 1), s->X, P, lab), RG_OK);
    size_t wrong_c = 0, wrong_d = 0;
    for (size_t p = 0; p < P; p++) {
        wrong_c += (lab[p] & 2) != (s->labels[p] & 2);
        wrong_d += (lab[p] & 1) != (s->labels[p] & 1);
    }
    double se = 5 * sqrt(PHI_M1 * (1 - PHI_M1) / P);
    rg_assert_abs((double)wrong_c / P, PHI_M1, se, "gmm4 common-label error rate");
    rg_assert_abs((double)wrong_d / P, PHI_M1, se, "gmm4 difference-label error rate");
    rg_data_set_free(s);
    rg_data_gmm_free(g);
    free(lab);
}

/* ---- .npy ------------------------------------------------------------------------------------- */

/* A .npy of the given major version (1: uint16 header length, 2 and 3: uint32) written byte by byte
 * (independent of io.h): header padded to a multiple of 64. */
static void write_npy_ver(const char *path, int major, const char *descr, const char *shape, const void *data,
                          size_t nbytes)
{
    char dict[128];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    const size_t pre = major == 1 ? 10 : 12, total = pre + (size_t)n + 1, pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    const size_t hl = (size_t)n + pad + 1;
    unsigned char head[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major, 0 };
    for (size_t i = 0; i < pre - 8; i++) head[8 + i] = (unsigned char)(hl >> (8 * i));
    fwrite(head, 1, pre, f);
    fwrite(dict, 1, (size_t)n, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    fwrite(data, 1, nbytes, f);
    assert_int_equal(fclose(f), 0);
}

static void write_npy_raw(const char *path, const char *descr, const char *shape, const void *data, size_t nbytes)
{
    write_npy_ver(path, 1, descr, shape, data, nbytes);
}

/* Round trip (bytes identical), float64 input rounded to float32 (values chosen exact, and one that
 * rounds), and the bad shapes: 1-D, 3-D, wrong N, integer dtype, truncated data. */
static void test_npy(void **state)
{
    (void)state;
    const char *path = "test_data_tmp.npy";
    rg_data_gmm *g;
    rg_data_set *s, *t = NULL;
    assert_int_equal(rg_data_gmm2(5, 4.0, NULL, 1.0, NULL, &g), RG_OK);
    assert_int_equal(rg_data_set_draw(g, (rg_rng){ .seed = SEED, .stream = RG_STREAM_DATA }, 37, &s), RG_OK);
    assert_int_equal(rg_data_set_write_npy(path, s), RG_OK);
    assert_int_equal(rg_data_set_read_npy(path, 0, &t), RG_OK);
    assert_int_equal(t->P, 37);
    assert_int_equal(t->N, 5);
    assert_null(t->labels);
    assert_memory_equal(t->X, s->X, 37 * 5 * sizeof(float));
    rg_data_set_free(t);
    assert_int_equal(rg_data_set_read_npy(path, 5, &t), RG_OK);
    rg_data_set_free(t);
    t = (rg_data_set *)&g;
    rg_expect_fail(rg_data_set_read_npy(path, 4, &t), RG_EFORMAT, "");
    assert_null(t);

    const double d64[6] = { 1.5, -2.0, 0.1, 3.0, 1e-3, -7.25 };
    write_npy_raw(path, "<f8", "(3, 2)", d64, sizeof d64);
    assert_int_equal(rg_data_set_read_npy(path, 2, &t), RG_OK);
    for (size_t k = 0; k < 6; k++) assert_true(t->X[k] == (float)d64[k]);
    rg_data_set_free(t);
    const struct { const char *descr, *shape; size_t nbytes; } bad[] = {
        { "<f8", "(6,)", sizeof d64 },       /* 1-D */
        { "<f8", "(1, 3, 2)", sizeof d64 },  /* 3-D */
        { "<f8", "(3, 0)", 0 },              /* zero dimension */
        { "<i8", "(3, 2)", sizeof d64 },     /* integer dtype */
        { "<f8", "(4, 2)", sizeof d64 },     /* truncated data */
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        write_npy_raw(path, bad[c].descr, bad[c].shape, d64, bad[c].nbytes);
        rg_expect_fail(rg_data_set_read_npy(path, 0, &t), RG_EFORMAT, "");
        assert_null(t);
    }
    /* Regression (tests/hardening.sh): a 150-byte file announcing (1e8, 1000) float32 values was
     * allocated (400 GB) before the data were read: RG_ENOMEM, or an ASan abort. The length is now
     * checked first. */
    write_npy_raw(path, "<f4", "(100000000, 1000)", d64, sizeof d64);
    rg_expect_fail(rg_data_set_read_npy(path, 0, &t), RG_EFORMAT, "the file holds 48 bytes");
    assert_null(t);
    const double nan2[2] = { 1.0, NAN };
    write_npy_raw(path, "<f8", "(1, 2)", nan2, sizeof nan2);
    rg_expect_fail(rg_data_set_read_npy(path, 0, &t), RG_EFORMAT, "NaN");
    write_npy_raw(path, "<f8", "(2, 2)", d64, sizeof d64); /* 6 values for a (2, 2) array */
    rg_expect_fail(rg_data_set_read_npy(path, 0, &t), RG_EFORMAT, "16 trailing bytes after the 4 values");
    remove(path);
    rg_expect_fail(rg_data_set_read_npy("test_data_no_such_file.npy", 0, &t), RG_EIO, "");
    rg_data_set_free(s);
    rg_data_gmm_free(g);
}

/* Per-rank row reads and the streamed mean (docs/scale.md): rows [lo, hi) of a float32 and a float64 file
 * equal those rows of the whole read, for every split of R = 1, 2, 3, 4 (rank r: P r / R .. P (r+1) / R);
 * the streamed mean (all rows, and the first 29 as --n-train takes them) equals rg_data_center's bit for
 * bit; the centred rows with that mean equal the whole centred set's rows. Bad ranges, NaN in the range,
 * a truncated file (checked from the length before any row) fail with one line. */
static void test_npy_rows(void **state)
{
    (void)state;
    const char *path = "test_data_rows_tmp.npy";
    rg_data_gmm *g;
    rg_data_set *s, *t = NULL, *all = NULL;
    assert_int_equal(rg_data_gmm2(7, 4.0, NULL, 1.0, NULL, &g), RG_OK);
    assert_int_equal(rg_data_set_draw(g, (rg_rng){ .seed = SEED, .stream = RG_STREAM_DATA }, 41, &s), RG_OK);
    double *d64 = malloc(41 * 7 * sizeof *d64);
    for (size_t k = 0; k < 41 * 7; k++) d64[k] = (double)s->X[k] * (1.0 + 1e-9); /* rounds to float */
    for (int f64 = 0; f64 < 2; f64++) {
        if (f64) write_npy_raw(path, "<f8", "(41, 7)", d64, 41 * 7 * sizeof *d64);
        else assert_int_equal(rg_data_set_write_npy(path, s), RG_OK);
        size_t P = 0, N = 0;
        assert_int_equal(rg_data_npy_shape(path, 7, &P, &N), RG_OK);
        assert_int_equal(P, 41), assert_int_equal(N, 7);
        assert_int_equal(rg_data_set_read_npy(path, 7, &all), RG_OK);
        for (size_t use = 29; use <= 41; use += 12) {
            double m_ref[7], m[7];
            float *c = malloc(use * 7 * sizeof *c);
            memcpy(c, all->X, use * 7 * sizeof *c);
            assert_int_equal(rg_data_center(c, use, 7, m_ref), RG_OK);
            assert_int_equal(rg_data_npy_mean(path, 7, use == 41 ? 0 : use, m), RG_OK);
            assert_memory_equal(m, m_ref, sizeof m);
            for (int R = 1; R <= 4; R++)
                for (int r = 0; r < R; r++) {
                    const size_t lo = use * (size_t)r / (size_t)R, hi = use * (size_t)(r + 1) / (size_t)R;
                    assert_int_equal(rg_data_set_read_npy_rows(path, 0, lo, hi, &t), RG_OK);
                    assert_int_equal(t->P, hi - lo);
                    assert_memory_equal(t->X, all->X + lo * 7, (hi - lo) * 7 * sizeof(float));
                    assert_int_equal(rg_data_subtract_mean(t->X, t->P, 7, m), RG_OK);
                    assert_memory_equal(t->X, c + lo * 7, (hi - lo) * 7 * sizeof(float));
                    rg_data_set_free(t);
                }
            free(c);
        }
        rg_data_set_free(all);
        rg_expect_fail(rg_data_set_read_npy_rows(path, 0, 5, 5, &t), RG_EINVAL, "rows [5, 5)");
        rg_expect_fail(rg_data_set_read_npy_rows(path, 0, 40, 42, &t), RG_EINVAL, "not inside the 41 rows");
        assert_null(t);
        rg_expect_fail(rg_data_npy_mean(path, 0, 42, (double[7]){ 0 }), RG_EINVAL, "42 rows asked");
        rg_expect_fail(rg_data_npy_shape(path, 6, &P, &N), RG_EFORMAT, "want N = 6");
    }
    d64[3 * 7 + 2] = NAN; /* row 3: only a range holding it, and the mean, see it */
    write_npy_raw(path, "<f8", "(41, 7)", d64, 41 * 7 * sizeof *d64);
    assert_int_equal(rg_data_set_read_npy_rows(path, 0, 4, 41, &t), RG_OK);
    rg_data_set_free(t);
    rg_expect_fail(rg_data_set_read_npy_rows(path, 0, 0, 4, &t), RG_EFORMAT, "row 3 contains NaN");
    rg_expect_fail(rg_data_npy_mean(path, 0, 0, (double[7]){ 0 }), RG_EFORMAT, "row 3 contains NaN");
    write_npy_raw(path, "<f8", "(42, 7)", d64, 41 * 7 * sizeof *d64); /* one row short */
    rg_expect_fail(rg_data_set_read_npy_rows(path, 0, 0, 1, &t), RG_EFORMAT, "truncated data");
    remove(path);
    free(d64);
    rg_data_set_free(s);
    rg_data_gmm_free(g);
}

/* Class means by hand: rows (1, 2), (3, 4) in class 1, (5, 6) in class 0. */
static void test_class_means(void **state)
{
    (void)state;
    const float X[6] = { 1, 2, 3, 4, 5, 6 };
    const int lab[3] = { 1, 1, 0 }, bad[3] = { 1, 1, 2 }, none0[3] = { 1, 1, 1 };
    double m[4];
    assert_int_equal(rg_data_class_means(X, 3, 2, lab, 2, m), RG_OK);
    rg_assert_rel(m[0], 5, 0, "class 0, x"), rg_assert_rel(m[1], 6, 0, "class 0, y");
    rg_assert_rel(m[2], 2, 0, "class 1, x"), rg_assert_rel(m[3], 3, 0, "class 1, y");
    assert_int_equal(rg_data_class_means(X, 3, 2, bad, 2, m), RG_EINVAL);
    assert_int_equal(rg_data_class_means(X, 3, 2, none0, 2, m), RG_EINVAL);
    assert_non_null(strstr(rg_strerror_last(), "class 0 has no row"));
}

/* ---- labels (.npy) --------------------------------------------------------------------------------- */

/* n values as little-endian integers of elt bytes (two's complement), into b. */
static size_t le_ints(const long long *v, size_t n, size_t elt, unsigned char *b)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < elt; j++) b[i * elt + j] = (unsigned char)((unsigned long long)v[i] >> (8 * j));
    return n * elt;
}

/* Every accepted integer dtype (values at the edges of each: the largest that fits below 2^31 - 1),
 * shape (P,) and (P, 1), versions 1-3; then each way a label file can be wrong. */
static void test_labels_npy(void **state)
{
    (void)state;
    const char *path = "test_data_labels_tmp.npy";
    unsigned char b[64];
    int *lab = NULL;
    size_t P = 0;
    static const struct { const char *descr; size_t elt; long long v[4]; } ok[] = {
        { "|u1", 1, { 0, 1, 255, 7 } },          { "|i1", 1, { 0, 127, 3, 1 } },
        { "<u2", 2, { 0, 65535, 2, 1 } },        { "<i2", 2, { 0, 32767, 9, 1 } },
        { "<u4", 4, { 0, 2147483646, 5, 1 } },   { "<i4", 4, { 0, 2147483646, 0, 1 } },
        { "<u8", 8, { 0, 2147483646, 5, 1 } },   { "<i8", 8, { 0, 2147483646, 4, 1 } },
    };
    for (size_t c = 0; c < sizeof ok / sizeof ok[0]; c++)
        for (int major = 1; major <= 3; major++) {
            write_npy_ver(path, major, ok[c].descr, c % 2 ? "(4, 1)" : "(4,)", b, le_ints(ok[c].v, 4, ok[c].elt, b));
            int st = rg_data_labels_read_npy(path, c < 4 ? 0 : 4, &lab, &P);
            if (st != RG_OK) print_error("%s v%d: %s\n", ok[c].descr, major, rg_strerror_last());
            assert_int_equal(st, RG_OK);
            assert_int_equal(P, 4);
            for (size_t i = 0; i < 4; i++) assert_int_equal(lab[i], ok[c].v[i]);
            free(lab);
        }
    /* bad files: RG_EFORMAT naming the reason; *labels NULL and *P 0 afterwards */
    const double f8[3] = { 0, 1, 1 };
    const long long neg[3] = { 0, 1, -1 }, big[2] = { 1, 2147483647 }, huge[2] = { 0, 1LL << 40 }, five[5] = { 0 };
    static const struct { const char *descr, *shape; int kind; size_t P_want; const char *frag; } bad[] = {
        { "<f8", "(3,)", 0, 0, "dtype '<f8' (floating point), want integers" },
        { "<f4", "(3,)", 0, 0, "(floating point)" },
        { ">i4", "(3,)", 1, 0, "big-endian dtype '>i4'" },
        { "|b1", "(3,)", 1, 0, "dtype '|b1', want integers" },
        { "<i4", "(3,)", 1, 0, "label 2 is negative" },
        { "<i8", "(3,)", 2, 0, "label 2 is negative" },
        { "<u4", "(2,)", 3, 0, "label 1 = 2147483647 is too large" },
        { "<i8", "(2,)", 4, 0, "label 1 = 1099511627776 is too large" },
        { "<i8", "(5,)", 5, 4, "5 labels, want P = 4" },
        { "<i8", "(6,)", 5, 0, "truncated data" },
        { "<i8", "(4,)", 5, 0, "8 trailing bytes after the 4 values" },
        { "<i8", "(5, 2)", 5, 0, "want shape (P,) or (P, 1)" },
        { "<i8", "(1, 1, 5)", 5, 0, "3 dimensions" },
        { "<i8", "(0,)", 5, 0, "no labels" },
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        size_t n = 0;
        switch (bad[c].kind) {
        case 0: memcpy(b, f8, sizeof f8), n = sizeof f8; break;
        case 1: n = le_ints(neg, 3, 4, b); break;
        case 2: n = le_ints(neg, 3, 8, b); break;
        case 3: n = le_ints(big, 2, 4, b); break;
        case 4: n = le_ints(huge, 2, 8, b); break;
        default: n = le_ints(five, 5, 8, b); break;
        }
        write_npy_raw(path, bad[c].descr, bad[c].shape, b, n);
        lab = (int *)&P;
        P = 99;
        rg_expect_fail(rg_data_labels_read_npy(path, bad[c].P_want, &lab, &P), RG_EFORMAT, bad[c].frag);
        assert_null(lab);
        assert_int_equal(P, 0);
    }
    remove(path);
    rg_expect_fail(rg_data_labels_read_npy(path, 0, &lab, &P), RG_EIO, "cannot open for reading");
    rg_expect_fail(rg_data_labels_read_npy(path, 0, NULL, &P), RG_EINVAL, "NULL");
    rg_expect_fail(rg_data_labels_read_npy(NULL, 0, &lab, &P), RG_EINVAL, "NULL");
}

/* A FIFO, a directory and a device are refused before any read, by both .npy readers. The FIFO has no
 * writer: a reader that opened it for reading without O_NONBLOCK would block here forever. */
static void test_npy_not_regular(void **state)
{
    (void)state;
    char dir[64] = "/tmp/rg_test_data_XXXXXX", fifo[96];
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/x.npy", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    rg_data_set *s = NULL;
    int *lab = NULL;
    size_t P = 0;
    const char *why[3] = { "(a FIFO)", "(a directory)", "(a character device)" };
    const char *paths[3] = { fifo, dir, "/dev/null" };
    for (size_t c = 0; c < 3; c++) {
        rg_expect_fail(rg_data_set_read_npy(paths[c], 0, &s), RG_EIO, why[c]);
        assert_null(s);
        rg_expect_fail(rg_data_labels_read_npy(paths[c], 0, &lab, &P), RG_EIO, why[c]);
        rg_expect_fail(rg_data_labels_read_npy(paths[c], 0, &lab, &P), RG_EIO, "is not a regular file");
        assert_null(lab);
    }
    assert_int_equal(remove(fifo), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_bad_input),
        cmocka_unit_test(test_logpdf_naive),
        cmocka_unit_test(test_logpdf_far),
        cmocka_unit_test(test_sample_addressing),
        cmocka_unit_test(test_sample_determinism),
        cmocka_unit_test(test_gmm2_moments),
        cmocka_unit_test(test_mixture_components),
        cmocka_unit_test(test_gmm4_structure),
        cmocka_unit_test(test_covariance_known_spectrum),
        cmocka_unit_test(test_covariance_top_zero),
        cmocka_unit_test(test_covariance_naive),
        cmocka_unit_test(test_classify_gmm2),
        cmocka_unit_test(test_classify_gmm4),
        cmocka_unit_test(test_npy), cmocka_unit_test(test_npy_rows), cmocka_unit_test(test_class_means),
        cmocka_unit_test(test_labels_npy),
        cmocka_unit_test(test_npy_not_regular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
