/* Tests of the LNP optimal Q (docs/math.md 4) against the reference values of docs/math.md 9.6 and 4.4-4.5,
 * closed forms worked out from 4.1 by hand, and structural properties (basis, permutations). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/linalg.h"
#include "regimes/nonrev.h"

#define EPS 2.220446049250313e-16

static void diag(size_t n, const double *u, double *U)
{
    memset(U, 0, n * n * sizeof *U);
    for (size_t i = 0; i < n; i++) U[i * n + i] = u[i];
}

/* A = (I + s Q) U. */
static void drift(size_t n, const double *U, const double *Q, double s, double *A)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double a = U[i * n + j];
            for (size_t k = 0; k < n; k++) a += s * Q[i * n + k] * U[k * n + j];
            A[i * n + j] = a;
        }
}

static void assert_exactly_antisymmetric(size_t n, const double *Q)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) assert_true(Q[i * n + j] == -Q[j * n + i]);
}

/* Largest singular value (LAPACK dgesvd, independent of the library's code path). */
static double norm2(size_t n, const double *B)
{
    double *c = malloc(n * n * sizeof *c), *s = malloc(2 * n * sizeof *s);
    assert_non_null(c);
    assert_non_null(s);
    memcpy(c, B, n * n * sizeof *c);
    assert_int_equal(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)n, c,
                                    (lapack_int)n, s, NULL, 1, NULL, 1, s + n), 0);
    double r = s[0];
    free(c);
    free(s);
    return r;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Eigenvalues of (I + s Q) U: min and max real part, max |Im|, and the sorted imaginary parts. */
typedef struct { double re_min, re_max, im_max; } spec;
static spec spectrum(size_t n, const double *U, const double *Q, double s, double *im_sorted)
{
    double *A = malloc(n * n * sizeof *A), *wr = malloc(n * sizeof *wr), *wi = malloc(n * sizeof *wi);
    assert_true(A && wr && wi);
    drift(n, U, Q, s, A);
    assert_int_equal(rg_linalg_eig(n, A, wr, wi), RG_OK);
    spec r = { INFINITY, -INFINITY, 0.0 };
    for (size_t i = 0; i < n; i++) {
        r.re_min = fmin(r.re_min, wr[i]);
        r.re_max = fmax(r.re_max, wr[i]);
        r.im_max = fmax(r.im_max, fabs(wi[i]));
    }
    if (im_sorted) {
        memcpy(im_sorted, wi, n * sizeof *wi);
        qsort(im_sorted, n, sizeof *wi, cmp_double);
    }
    free(A);
    free(wr);
    free(wi);
    return r;
}

/* ---- LNP, N = 6 (docs/math.md 9.6) ----------------------------------------------------------------- */
static const double U6[6] = { 0.2, 0.5, 1.0, 1.5, 3.0, 5.0 };

static void test_lnp6_spectrum(void **state)
{
    (void)state;
    double U[36], Q[36], im[6];
    diag(6, U6, U);
    assert_int_equal(rg_nonrev_optimal_q(6, U, NULL, Q), RG_OK);
    assert_exactly_antisymmetric(6, Q);                                /* docs/math.md 4.4 */
    double tau = 11.2 / 6.0;                                           /* Tr U / N */
    rg_assert_digits(tau, 1.8667, 4, "tau (9.6)");
    spec sp = spectrum(6, U, Q, 1.0, im);
    /* docs/math.md 4.4: every Re lambda = tau to 1e-10 relative (the eigenvalues are simple and well
     * separated, so dgeev's backward error ~1e-15 ||A|| moves them by far less). */
    rg_assert_rel(sp.re_min, tau, 1e-10, "min Re eig(A)");
    rg_assert_rel(sp.re_max, tau, 1e-10, "max Re eig(A)");
    const double want[6] = { -6.276, -5.391, -0.698, 0.698, 5.391, 6.276 };   /* docs/math.md 9.6 */
    for (size_t i = 0; i < 6; i++) rg_assert_digits(im[i], want[i], 3, "Im eig(A) (9.6)");
}

static void test_lnp6_lyapunov(void **state)
{
    (void)state;
    double U[36], Q[36], A[36], W[36], X[36], Uinv[36], uinv[6];
    diag(6, U6, U);
    for (size_t i = 0; i < 6; i++) uinv[i] = 1.0 / U6[i];
    diag(6, uinv, Uinv);
    diag(6, (const double[]){ 2, 2, 2, 2, 2, 2 }, W);
    assert_int_equal(rg_nonrev_optimal_q(6, U, NULL, Q), RG_OK);
    drift(6, U, Q, 1.0, A);
    assert_int_equal(rg_linalg_lyap(6, A, W, X), RG_OK);
    /* docs/math.md 2.6 / 4.4: Sigma_inf = U^{-1} for every antisymmetric Q, to 1e-10 (Bartels-Stewart
     * is backward stable; ||A|| ~ 30 and cond ~ 25 leave ~1e-13). */
    rg_assert_vec_rel(X, Uinv, 36, 1e-10, "Lyapunov solution = U^{-1}");
}

/* Prefactor at one time by a path independent of the library's: expm(-A t) of the unwhitened A,
 * then diag(sqrt u) . diag(1/sqrt u), 2-norm by dgesvd. */
static double prefactor_direct(size_t n, const double *u, const double *Q, double t)
{
    double U[64 * 64], A[64 * 64];
    diag(n, u, U);
    drift(n, U, Q, 1.0, A);
    for (size_t i = 0; i < n * n; i++) A[i] *= -t;
    assert_int_equal(rg_linalg_expm(n, A, A), RG_OK);
    double tau = 0.0;
    for (size_t i = 0; i < n; i++) tau += u[i] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) A[i * n + j] *= sqrt(u[i]) / sqrt(u[j]);
    return norm2(n, A) * exp(tau * t);
}

static void test_lnp6_prefactor(void **state)
{
    (void)state;
    double U[36], Q[36];
    diag(6, U6, U);
    assert_int_equal(rg_nonrev_optimal_q(6, U, NULL, Q), RG_OK);
    const double t[5] = { 0.5, 1, 2, 4, 8 }, want[5] = { 1.935, 1.50, 1.75, 1.70, 1.59 };  /* 9.6 */
    const int dec[5] = { 3, 2, 2, 2, 2 };
    for (size_t k = 0; k < 5; k++) {
        double p;
        assert_int_equal(rg_nonrev_prefactor(6, U, Q, 1, t + k, &p), RG_OK);
        rg_assert_digits(p, want[k], dec[k], "prefactor at t (9.6)");
        /* Two exact formulas, two code paths: agreement to rounding amplified by e^{tau t}
         * cancellations (e^{-A t} entries ~ e^{-15}, relative error ~1e-13). */
        rg_assert_rel(p, prefactor_direct(6, U6, Q, t[k]), 1e-10, "whitened vs direct prefactor");
    }
    double grid[400], sup;
    for (size_t k = 0; k < 400; k++) grid[k] = 0.025 * (double)k;     /* [0, 10) */
    assert_int_equal(rg_nonrev_prefactor(6, U, Q, 400, grid, &sup), RG_OK);
    assert_true(sup <= sqrt(6.0));                                    /* 4.2: sqrt(omega_max/omega_min) */
    assert_true(sup >= 1.935);                                        /* the grid holds t = 0.5 */
}

/* docs/math.md 9.6 prefactor trade-off: omega_k = 1 + k eps, k = 0..5. */
static void test_prefactor_tradeoff(void **state)
{
    (void)state;
    const double eps[3] = { 1.0, 0.1, 0.01 };
    const double bound[3] = { 2.45, 1.22, 1.02 }, jn[3] = { 6.5, 36, 339 };
    const int jdec[3] = { 1, 0, 0 };
    double U[36], Q[36], J[36], om[6], grid[1000];
    diag(6, U6, U);
    for (size_t k = 0; k < 1000; k++) grid[k] = 0.01 * (double)k;     /* fine grid on [0, 10) */
    for (size_t e = 0; e < 3; e++) {
        for (size_t k = 0; k < 6; k++) om[k] = 1.0 + (double)k * eps[e];
        assert_int_equal(rg_nonrev_optimal_q(6, U, om, Q), RG_OK);
        double b = sqrt(om[5] / om[0]);
        rg_assert_digits(b, bound[e], 2, "bound sqrt(omega_max/omega_min) (9.6)");
        for (size_t i = 0; i < 6; i++)
            for (size_t j = 0; j < 6; j++) J[i * 6 + j] = sqrt(U6[i]) * Q[i * 6 + j] * sqrt(U6[j]);
        rg_assert_digits(norm2(6, J), jn[e], jdec[e], "||J||_2 (9.6)");
        double sup;
        assert_int_equal(rg_nonrev_prefactor(6, U, Q, 1000, grid, &sup), RG_OK);
        assert_true(sup <= b);                                          /* 4.2 bound */
        if (e == 0) {                                                   /* 9.6: "2.2-2.3" */
            assert_true(sup >= 2.2);
            assert_true(sup <= 2.3);
        } else {
            rg_assert_digits(sup, e == 1 ? 1.14 : 1.01, 2, "sup_t prefactor (9.6)");
        }
    }
}

/* ---- N = 64, U = diag(linspace(0.2, 1.8, 64)) (docs/math.md 9.6) ----------------------------------- */
static void test_n64_scaled_q(void **state)
{
    (void)state;
    enum { N = 64 };
    static double U[N * N], Q[N * N];
    double u[N];
    for (size_t i = 0; i < N; i++) u[i] = 0.2 + 1.6 * (double)i / (N - 1);
    diag(N, u, U);
    assert_int_equal(rg_nonrev_optimal_q(N, U, NULL, Q), RG_OK);
    assert_exactly_antisymmetric(N, Q);
    /* 4.4 at N = 64: Re lambda = tau = 1 to 1e-10. */
    spec sp = spectrum(N, U, Q, 1.0, NULL);
    rg_assert_rel(sp.re_min, 1.0, 1e-10, "min Re eig, s = 1");
    rg_assert_rel(sp.re_max, 1.0, 1e-10, "max Re eig, s = 1");
    const double s[4] = { 1, 2, 4, 8 }, im[4] = { 0.75, 1.77, 3.68, 7.44 };   /* 9.6 */
    for (size_t k = 0; k < 4; k++) {
        sp = spectrum(N, U, Q, s[k], NULL);
        rg_assert_digits(sp.re_min, 1.000, 3, "min Re eig(A), s Q_opt (9.6)");
        rg_assert_digits(sp.im_max, im[k], 2, "max |Im eig(A)|, s Q_opt (9.6)");
    }
    sp = spectrum(N, U, Q, 0.9, NULL);
    rg_assert_digits(sp.re_min, 0.766, 3, "min Re eig at s = 0.9 (9.6)");
    rg_assert_digits(sp.re_max, 1.234, 3, "max Re eig at s = 0.9 (9.6)");
    rg_assert_digits(spectrum(N, U, Q, 0.25, NULL).re_min, 0.229, 3, "min Re eig at s = 0.25 (9.6)");
    rg_assert_digits(spectrum(N, U, Q, 0.5, NULL).re_min, 0.322, 3, "min Re eig at s = 0.5 (9.6)");
}

/* ---- 2 x 2 exceptional point (docs/math.md 4.5, 9.6) ----------------------------------------------- */
static void test_exceptional_point(void **state)
{
    (void)state;
    const double u[2] = { 0.2, 1.8 };
    double U[4], Q[4], A[4], wr[2], wi[2];
    diag(2, u, U);
    double qstar = fabs(u[0] - u[1]) / (2.0 * sqrt(u[0] * u[1]));
    rg_assert_rel(qstar, 4.0 / 3.0, 4 * EPS, "q* (9.6)");
    /* 4.1 by hand: tau = 1, psi = (e1 + e2)/sqrt2, (e1 - e2)/sqrt2, Ubar_12 = -0.8, Jbar_12 = -2.4
     * (omega = 1, 2), J = det(Psi) Jbar = 2.4 [[0,1],[-1,0]], Q_12 = 2.4 / sqrt(0.36) = 4 = 3 q*. */
    assert_int_equal(rg_nonrev_optimal_q(2, U, NULL, Q), RG_OK);
    rg_assert_rel(Q[1], 4.0, 1e-14, "Q_opt 2x2 closed form");
    assert_true(Q[0] == 0.0 && Q[3] == 0.0 && Q[2] == -Q[1]);
    assert_true(Q[1] >= qstar);                                 /* both modes at rate a = tau */
    /* eig(A) table of 9.6 for Q = q [[0,1],[-1,0]], A = [[u1, q u2], [-q u1, u2]]. */
    const double q[4] = { 0.0, qstar / 2, qstar, 2 * qstar };
    const double re[4][2] = { { 0.2, 1.8 }, { 0.307, 1.693 }, { 1, 1 }, { 1, 1 } };
    const double imw[4] = { 0, 0, 0, 1.386 };
    const int dec[4] = { 1, 3, 3, 3 };
    for (size_t k = 0; k < 4; k++) {
        double Qk[4] = { 0, q[k], -q[k], 0 };
        drift(2, U, Qk, 1.0, A);
        assert_int_equal(rg_linalg_eig(2, A, wr, wi), RG_OK);
        double lo = fmin(wr[0], wr[1]), hi = fmax(wr[0], wr[1]);
        rg_assert_digits(lo, re[k][0], dec[k], "Re eig, lower (9.6)");
        rg_assert_digits(hi, re[k][1], dec[k], "Re eig, upper (9.6)");
        rg_assert_digits(fabs(wi[0]), imw[k], 3, "|Im eig| (9.6)");
    }
    /* At q*, U + J = I + N with N = 0.8 [[-1,1],[-1,1]] nilpotent: e^{-At} e^{t} = I - N t, whose
     * 2-norm is 0.8 t + sqrt(0.64 t^2 + 1) (singular values of I + 1.6 t x y^T, x perp y unit). */
    double Qs[4] = { 0, qstar, -qstar, 0 };
    for (double t = 0.5; t <= 8.0; t *= 2.0) {
        double p;
        assert_int_equal(rg_nonrev_prefactor(2, U, Qs, 1, &t, &p), RG_OK);
        /* expm of a defective matrix is still well conditioned here (||A t|| <= 15): 1e-12. */
        rg_assert_rel(p, 0.8 * t + sqrt(0.64 * t * t + 1.0), 1e-12, "prefactor at q* (closed form)");
    }
}

/* ---- the equal-diagonal basis (docs/math.md 4.1 step 2) ------------------------------------------- */
static void check_psi(size_t n, const double *u, const double *want)
{
    double U[16], Psi[16];
    diag(n, u, U);
    assert_int_equal(rg_nonrev_equal_diagonal_basis(n, U, Psi), RG_OK);
    /* Entries are 0, 1 or sqrt(1/2): exact up to the rounding of sqrt(0.5) and of cos/sin. */
    for (size_t i = 0; i < n * n; i++) rg_assert_abs(Psi[i], want[i], 4 * EPS, "Psi entry (4.1 by hand)");
}

static void check_psi_col(size_t n, const double *u, size_t k, const double *want)
{
    double U[25], Psi[25];
    diag(n, u, U);
    assert_int_equal(rg_nonrev_equal_diagonal_basis(n, U, Psi), RG_OK);
    /* cos and sin from (tau - c_b)/(c_a - c_b) with exact c's: a few ulps. */
    for (size_t i = 0; i < n; i++) rg_assert_abs(Psi[i * n + k], want[i], 4 * EPS, "psi_k entry (4.1 ties)");
}

static void test_basis_by_hand(void **state)
{
    (void)state;
    const double h = sqrt(0.5);
    /* diag(1, 3), tau = 2: v = +e1, +e2; a = 2, b = 1, cos^2 = 1/2: psi1 = h(e2 + e1), then
     * psi_perp = h(e1 - e2). Columns of Psi are the psi's. */
    check_psi(2, (const double[]){ 1, 3 }, (const double[]){ h, h, h, -h });
    /* diag(3, 1): ascending order puts v1 = +e2, v2 = +e1: psi1 = h(e1 + e2), psi2 = h(e2 - e1). */
    check_psi(2, (const double[]){ 3, 1 }, (const double[]){ h, -h, h, h });
    /* diag(1, 2, 3), tau = 2: psi1 = h(e3 + e1); list [e2 (2), h(e1 - e3) (2)]: equal c, stop and
     * append in list order. */
    check_psi(3, (const double[]){ 1, 2, 3 }, (const double[]){ h, 0, h, 0, 1, 0, h, 0, -h });
    /* diag(1, 2, 4, 5), tau = 3: psi1 = h(e4 + e1), list [e2 (2), e3 (4), h(e1 - e4) (3)];
     * psi2 = h(e3 + e2), list [h(e1 - e4) (3), h(e2 - e3) (3)]: stop. */
    check_psi(4, (const double[]){ 1, 2, 4, 5 },
              (const double[]){ h, 0, h, 0, 0, h, 0, h, 0, h, 0, -h, h, 0, -h, 0 });
    /* Ties: the FIRST index of max c and of min c. diag(1, 2, 3, 5, 7.75), tau = 3.75: step 1 leaves
     * [e2 (2), e3 (3), e4 (5), psi_perp (1 + 7.75 - 3.75 = 5)], so a = e4, b = e2 and
     * psi2 = sqrt(7/12) e4 + sqrt(5/12) e2. diag(1, 3, 4, 5, 5.75), tau = 3.75: step 1 leaves
     * [e2 (3), e3 (4), e4 (5), psi_perp (3)], so a = e4, b = e2, psi2 = sqrt(3/8) e4 + sqrt(5/8) e2. */
    check_psi_col(5, (const double[]){ 1, 2, 3, 5, 7.75 }, 1,
                  (const double[]){ 0, sqrt(5.0 / 12), 0, sqrt(7.0 / 12), 0 });
    check_psi_col(5, (const double[]){ 1, 3, 4, 5, 5.75 }, 1,
                  (const double[]){ 0, sqrt(5.0 / 8), 0, sqrt(3.0 / 8), 0 });
}

/* Deterministic random SPD U = B B^T / n + 0.1 I (xorshift64*, fixed seed). */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static double urand(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717u) >> 11) * 0x1.0p-53 - 0.5;
}
static void random_spd(size_t n, double *U)
{
    double *B = malloc(n * n * sizeof *B);
    assert_non_null(B);
    for (size_t i = 0; i < n * n; i++) B[i] = urand();
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = i == j ? 0.1 : 0.0;
            for (size_t k = 0; k < n; k++) s += B[i * n + k] * B[j * n + k] / (double)n;
            U[i * n + j] = s;
        }
    free(B);
}

enum { NR = 40 };
static double Ur[NR * NR], Qr[NR * NR], Wr[NR * NR];

static void test_basis_random(void **state)
{
    (void)state;
    static double Psi[NR * NR];
    random_spd(NR, Ur);
    assert_int_equal(rg_nonrev_equal_diagonal_basis(NR, Ur, Psi), RG_OK);
    double tau = 0.0, orth = 0.0, dmax = 0.0;
    for (size_t i = 0; i < NR; i++) tau += Ur[i * NR + i] / NR;
    for (size_t k = 0; k < NR; k++)
        for (size_t l = 0; l < NR; l++) {
            double g = 0.0, d = 0.0;
            for (size_t i = 0; i < NR; i++) {
                g += Psi[i * NR + k] * Psi[i * NR + l];
                if (k == l)
                    for (size_t j = 0; j < NR; j++) d += Psi[i * NR + k] * Ur[i * NR + j] * Psi[j * NR + l];
            }
            orth = fmax(orth, fabs(g - (k == l)));
            if (k == l) dmax = fmax(dmax, fabs(d - tau) / tau);
        }
    /* Orthonormal to rounding (<= 39 rotations of O(eps) each, n-term dot products): 1e-13. */
    assert_true(orth <= 1e-13);
    /* psi^T U psi = tau: the tracked c values carry rounding of ~ n eps: 1e-12. */
    assert_true(dmax <= 1e-12);
}

static void test_random_q(void **state)
{
    (void)state;
    random_spd(NR, Ur);
    double tau = 0.0, om[NR];
    for (size_t i = 0; i < NR; i++) tau += Ur[i * NR + i] / NR;
    assert_int_equal(rg_nonrev_optimal_q(NR, Ur, NULL, Qr), RG_OK);
    assert_exactly_antisymmetric(NR, Qr);
    spec sp = spectrum(NR, Ur, Qr, 1.0, NULL);
    rg_assert_rel(sp.re_min, tau, 1e-10, "min Re eig, random U (4.4)");   /* as in the N = 6 test */
    rg_assert_rel(sp.re_max, tau, 1e-10, "max Re eig, random U (4.4)");
    /* omega = NULL is omega_k = k exactly: same arithmetic. */
    for (size_t k = 0; k < NR; k++) om[k] = (double)(k + 1);
    assert_int_equal(rg_nonrev_optimal_q(NR, Ur, om, Wr), RG_OK);
    assert_memory_equal(Wr, Qr, sizeof Qr);
    /* Other omega (reversed): another Q, the same rate. */
    for (size_t k = 0; k < NR; k++) om[k] = (double)(NR - k);
    assert_int_equal(rg_nonrev_optimal_q(NR, Ur, om, Wr), RG_OK);
    assert_true(fabs(Wr[1] - Qr[1]) > 1e-6);
    rg_assert_rel(spectrum(NR, Ur, Wr, 1.0, NULL).re_min, tau, 1e-10, "min Re eig, reversed omega");
}

static void test_covariance(void **state)
{
    (void)state;
    static double Up[NR * NR], Qp[NR * NR];
    size_t p[NR];
    random_spd(NR, Ur);
    assert_int_equal(rg_nonrev_optimal_q(NR, Ur, NULL, Qr), RG_OK);
    double qmax = 0.0;
    for (size_t i = 0; i < NR * NR; i++) qmax = fmax(qmax, fabs(Qr[i]));
    /* Q(c U) = Q(U): every step of 4.1 is homogeneous (Ubar, Jbar, J ~ c; U^{-1/2} ~ c^{-1/2}). */
    for (size_t i = 0; i < NR * NR; i++) Up[i] = 4.0 * Ur[i];
    assert_int_equal(rg_nonrev_optimal_q(NR, Up, NULL, Qp), RG_OK);
    for (size_t i = 0; i < NR * NR; i++) rg_assert_abs(Qp[i], Qr[i], 1e-11 * qmax, "Q(4U) = Q(U)");
    /* Q(P U P^T) = P Q(U) P^T for a permutation P: the sign convention (largest component positive)
     * is permutation-invariant, unlike "first component positive". Tolerance: both runs differ by
     * eigensolver rounding, propagated through <= 39 rotations and the products: 1e-11 of max |Q|. */
    for (size_t i = 0; i < NR; i++) p[i] = (7 * i + 3) % NR;
    for (size_t i = 0; i < NR; i++)
        for (size_t j = 0; j < NR; j++) Up[p[i] * NR + p[j]] = Ur[i * NR + j];
    assert_int_equal(rg_nonrev_optimal_q(NR, Up, NULL, Qp), RG_OK);
    for (size_t i = 0; i < NR; i++)
        for (size_t j = 0; j < NR; j++)
            rg_assert_abs(Qp[p[i] * NR + p[j]], Qr[i * NR + j], 1e-11 * qmax, "Q(P U P^T) = P Q P^T");
}

/* ---- entropy production tr(Q^T Q U) (docs/math.md 2.6) -------------------------------------------- */
static void test_entropy_production(void **state)
{
    (void)state;
    /* 2x2: Q = q [[0,1],[-1,0]] gives Q^T Q = q^2 I, so tr = q^2 Tr U for any U. */
    double U[4] = { 0.7, 0.2, 0.2, 1.1 }, Q[4] = { 0, 1.5, -1.5, 0 };
    rg_assert_rel(rg_nonrev_entropy_production(2, U, Q), 2.25 * 1.8, 4 * EPS, "tr(Q^T Q U), 2x2");
    /* Random 40 x 40 against the triple loop (n-term sums: 1e-13). */
    random_spd(NR, Ur);
    assert_int_equal(rg_nonrev_optimal_q(NR, Ur, NULL, Qr), RG_OK);
    double naive = 0.0;
    for (size_t i = 0; i < NR; i++)
        for (size_t j = 0; j < NR; j++)
            for (size_t k = 0; k < NR; k++) naive += Qr[k * NR + i] * Qr[k * NR + j] * Ur[j * NR + i];
    rg_assert_rel(rg_nonrev_entropy_production(NR, Ur, Qr), naive, 1e-13, "tr(Q^T Q U), naive");
    double Z[4] = { 0 };
    assert_true(rg_nonrev_entropy_production(2, U, Z) == 0.0);
}

/* ---- bad input ------------------------------------------------------------------------------- */
static void expect_fail(int st, int want, const char *word)
{
    assert_int_equal(st, want);
    if (!strstr(rg_strerror_last(), word)) {
        print_error("message '%s' lacks '%s'\n", rg_strerror_last(), word);
        fail();
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    double Q[9], P[9], p;
    const double t1 = 1.0, tneg = -1.0;
    const double spd[4] = { 2, 0.5, 0.5, 1 };
    expect_fail(rg_nonrev_optimal_q(0, spd, NULL, Q), RG_EINVAL, "n = 0");
    expect_fail(rg_nonrev_optimal_q(5000, spd, NULL, Q), RG_EINVAL, "exceeds");
    expect_fail(rg_nonrev_optimal_q(2, (const double[]){ 2, 0.5, 0.4, 1 }, NULL, Q), RG_EDOM, "symmetric");
    const double indefinite[4] = { 1, 0, 0, -1 }, zero_eig[4] = { 1, 0, 0, 0 }, rank1[4] = { 1, 1, 1, 1 };
    expect_fail(rg_nonrev_optimal_q(2, indefinite, NULL, Q), RG_EDOM, "positive definite");
    expect_fail(rg_nonrev_optimal_q(2, zero_eig, NULL, Q), RG_EDOM, "positive definite");
    expect_fail(rg_nonrev_optimal_q(2, rank1, NULL, Q), RG_EDOM, "positive definite");
    expect_fail(rg_nonrev_optimal_q(2, (const double[]){ NAN, 0, 0, 1 }, NULL, Q), RG_EINVAL, "NaN");
    expect_fail(rg_nonrev_optimal_q(2, spd, (const double[]){ 2, 2 }, Q), RG_EINVAL, "distinct");
    expect_fail(rg_nonrev_optimal_q(2, spd, (const double[]){ 1, 0 }, Q), RG_EINVAL, "positive");
    expect_fail(rg_nonrev_optimal_q(2, spd, (const double[]){ 1, NAN }, Q), RG_EINVAL, "NaN");
    expect_fail(rg_nonrev_equal_diagonal_basis(2, (const double[]){ 1, 2, 3, -4 }, P), RG_EDOM, "symmetric");
    double Qa[4] = { 0, 1, -1, 0 }, Qn[4] = { 0, 1, 1, 0 };
    expect_fail(rg_nonrev_prefactor(2, spd, Qn, 1, &t1, &p), RG_EDOM, "antisymmetric");
    expect_fail(rg_nonrev_prefactor(2, spd, Qa, 1, &tneg, &p), RG_EINVAL, "t[0]");
    expect_fail(rg_nonrev_prefactor(2, spd, Qa, 0, &t1, &p), RG_EINVAL, "n_t = 0");
    expect_fail(rg_nonrev_prefactor(2, indefinite, Qa, 1, &t1, &p), RG_EDOM, "positive definite");
    assert_int_equal(rg_nonrev_prefactor(2, spd, Qa, 1, &t1, &p), RG_OK);   /* the control */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lnp6_spectrum),      cmocka_unit_test(test_lnp6_lyapunov),
        cmocka_unit_test(test_lnp6_prefactor),     cmocka_unit_test(test_prefactor_tradeoff),
        cmocka_unit_test(test_n64_scaled_q),       cmocka_unit_test(test_exceptional_point),
        cmocka_unit_test(test_basis_by_hand),      cmocka_unit_test(test_basis_random),
        cmocka_unit_test(test_random_q),           cmocka_unit_test(test_covariance),
        cmocka_unit_test(test_entropy_production), cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
