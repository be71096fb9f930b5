/* Tests of src/linalg.c: expm against closed forms and a long Taylor sum, Van Loan moments against the
 * scalar OU closed form, RK4 integration, composition and the Lyapunov limit (docs/math.md 2.2), Lyapunov
 * against the 2x2 closed form of docs/math.md 2.5 / 9.4, eigenvalues against docs/math.md 4.5 / 9.6, Cholesky,
 * Brent and the largest-root convention of docs/math.md 7. */
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "rg_test.h"
#include "internal.h"
#include "regimes/error.h"
#include "regimes/linalg.h"

#define EPS 2.220446049250313e-16
#define PI 3.14159265358979323846

/* ---- plain-loop references ------------------------------------------------------------------- */

static void naive_mul(size_t n, const double *A, const double *B, double *C)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
            C[i * n + j] = s;
        }
}

static void naive_mul_t(size_t n, const double *A, const double *B, double *C)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++) s += A[i * n + k] * B[j * n + k];
            C[i * n + j] = s;
        }
}

/* Deterministic fill in (-amp, amp): a fixed irrational-rotation sequence, no rand(). */
static void fill(double *x, size_t n, double amp, double phase)
{
    for (size_t i = 0; i < n; i++) {
        double u = fmod(phase + 0.6180339887498949 * (double)(i + 1), 1.0);
        x[i] = amp * (2.0 * u - 1.0);
    }
}

static double max_abs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static void expect_fail(int st, int want, const char *fragment)
{
    assert_int_equal(st, want);
    if (!strstr(rg_strerror_last(), fragment)) {
        print_error("message '%s' lacks '%s'\n", rg_strerror_last(), fragment);
        fail();
    }
}

/* ---- expm ------------------------------------------------------------------------------------- */

static void test_expm_closed_forms(void **state)
{
    (void)state;
    double E[16];
    /* Diagonal: exp of each entry (libm exp, correctly rounded to < 1 ulp). Pade-13 at s = 0 or 1 is
     * a rational function evaluated in ~20 flops per entry: 1e-14 relative is a 20x margin over eps. */
    const double Dg[9] = { 0.3, 0, 0, 0, -1.7, 0, 0, 0, 2.5 };
    const double Dw[9] = { exp(0.3), 0, 0, 0, exp(-1.7), 0, 0, 0, exp(2.5) };
    assert_int_equal(rg_linalg_expm(3, Dg, E), RG_OK);
    for (int i = 0; i < 9; i++) rg_assert_rel(E[i], Dw[i], 1e-14, "exp(diag)");

    /* Rotation generator [[0, -w], [w, 0]]: exp = [[cos w, -sin w], [sin w, cos w]]. w = 2.7 needs
     * no squaring; w = 40 needs s = 3 squarings (40 / 2^3 < theta_13). Rotations are orthogonal, so
     * squaring adds ~2^s eps: 1e-14 (w = 2.7) and 1e-13 (w = 40) absolute on entries of size 1. */
    const double ws[2] = { 2.7, 40.0 }, tol[2] = { 1e-14, 1e-13 };
    for (int k = 0; k < 2; k++) {
        double w = ws[k], R[4] = { 0, -w, w, 0 };
        const double want[4] = { cos(w), -sin(w), sin(w), cos(w) };
        assert_int_equal(rg_linalg_expm(2, R, R), RG_OK); /* E aliases A */
        for (int i = 0; i < 4; i++) rg_assert_abs(R[i], want[i], tol[k], "exp(rotation generator)");
    }

    /* Jordan block J = l I + a N (N the 4x4 shift): exp(J) = e^l sum_k (a N)^k / k!, upper triangular
     * with e^l a^k/k! on the k-th superdiagonal. A few roundings: 1e-14 relative. */
    const double l = -0.4, a = 1.3;
    double J[16] = { 0 };
    for (int i = 0; i < 4; i++) J[i * 4 + i] = l;
    for (int i = 0; i < 3; i++) J[i * 4 + i + 1] = a;
    assert_int_equal(rg_linalg_expm(4, J, E), RG_OK);
    const double c[4] = { 1.0, a, a * a / 2.0, a * a * a / 6.0 };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double want = j >= i ? exp(l) * c[j - i] : 0.0;
            rg_assert_abs(E[i * 4 + j], want, 1e-14 * exp(l) * c[1], "exp(Jordan block)");
        }

    /* Large norm, non-normal, needs squaring (||A||_1 = 22 -> s = 3): for upper triangular
     * [[p, b], [0, d]], exp = [[e^p, b (e^p - e^d) / (p - d)], [0, e^d]]. Squaring a non-normal matrix
     * amplifies rounding; measured 8e-16, so 1e-13 of the largest entry is a 100x margin. */
    const double p = 1.5, d = -2.0, b = 20.0, T[4] = { p, b, 0.0, d };
    const double Tw[4] = { exp(p), b * (exp(p) - exp(d)) / (p - d), 0.0, exp(d) };
    assert_int_equal(rg_linalg_expm(2, T, E), RG_OK);
    for (int i = 0; i < 4; i++) rg_assert_abs(E[i], Tw[i], 1e-13 * max_abs(Tw, 4), "exp(large triangular)");
}

/* exp(A) = sum_k A^k / k! with 40 terms, plain loops: for ||A|| <= 1 the tail is < 1/40! ~ 1e-48. */
static void taylor_expm(size_t n, const double *A, double *E)
{
    double term[36], next[36];
    memset(E, 0, n * n * sizeof *E);
    memset(term, 0, sizeof term);
    for (size_t i = 0; i < n; i++) term[i * n + i] = 1.0;
    for (int k = 1; k <= 40; k++) {
        for (size_t i = 0; i < n * n; i++) E[i] += term[i];
        naive_mul(n, term, A, next);
        for (size_t i = 0; i < n * n; i++) term[i] = next[i] / k;
    }
}

static void test_expm_vs_taylor(void **state)
{
    (void)state;
    double A[36], E[36], R[36];
    fill(A, 36, 0.15, 0.1); /* 6x6, entries in (-0.15, 0.15): ||A||_1 < 0.9, no scaling needed */
    taylor_expm(6, A, R);
    assert_int_equal(rg_linalg_expm(6, A, E), RG_OK);
    /* Both are sums of O(n) well-conditioned terms of size <= e^0.9: 1e-14 of the largest entry. */
    rg_assert_vec_rel(E, R, 36, 1e-14, "expm vs 40-term Taylor");
    /* Scaled up x8 (||A||_1 < 7.2 > theta_13): one squaring. exp(8A) = exp(A)^8 by plain products. */
    double A8[36], E8[36], P[36], Q[36];
    for (int i = 0; i < 36; i++) A8[i] = 8.0 * A[i];
    assert_int_equal(rg_linalg_expm(6, A8, E8), RG_OK);
    naive_mul(6, R, R, P);
    naive_mul(6, P, P, Q);
    naive_mul(6, Q, Q, P); /* R^8 */
    rg_assert_vec_rel(E8, P, 36, 1e-13, "expm(8A) vs Taylor(A)^8 (3 squarings: ~8x the error)");
}

static void test_expm_bad_input(void **state)
{
    (void)state;
    double A[4] = { 1, NAN, 0, 1 }, E[4];
    expect_fail(rg_linalg_expm(2, A, E), RG_EINVAL, "NaN");
    expect_fail(rg_linalg_expm(0, A, E), RG_EINVAL, "n = 0");
    const double big[1] = { 800.0 }; /* e^800 > DBL_MAX */
    expect_fail(rg_linalg_expm(1, big, E), RG_EDOM, "overflow");
    const double ok[1] = { 700.0 }; /* the control: e^700 ~ 1.0142e304 is representable */
    assert_int_equal(rg_linalg_expm(1, ok, E), RG_OK);
    /* s = 8 squarings double the relative error each time: ~2^8 eps = 6e-14 (measured 1e-13);
     * 1e-12 is a 10x margin. This is the known forward-error growth of scaling and squaring. */
    rg_assert_rel(E[0], exp(700.0), 1e-12, "exp(700) after 8 squarings");
}

/* ---- Van Loan --------------------------------------------------------------------------------- */

static void test_vanloan_scalar_ou(void **state)
{
    (void)state;
    /* dz = -l z dt + sqrt(2) dW: M = e^{-l t}, Sigma = (1 - e^{-2 l t}) / l (docs/math.md 2.5, per-mode
     * variances; -expm1 keeps full precision as t -> 0). l < 0: Sigma = (e^{2|l|t} - 1)/|l|, the same
     * formula. Tolerance 1e-13: up to 7 doublings, each a few roundings, on a contraction (or, for
     * l < 0, an expansion of the same relative error). */
    static const struct { double l, t; } c[] = {
        { 1.37, 0.0213 }, { 1.37, 1e-9 }, { 0.2, 7.5 }, { 3.1, 40.0 }, { -0.5, 3.0 }, { -0.5, 0.37 },
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        double M, S, A = c[k].l;
        assert_int_equal(rg_linalg_vanloan(1, &A, NULL, c[k].t, &M, &S), RG_OK);
        rg_assert_rel(M, exp(-c[k].l * c[k].t), 1e-13, "scalar OU M");
        rg_assert_rel(S, -expm1(-2.0 * c[k].l * c[k].t) / c[k].l, 1e-13, "scalar OU Sigma");
    }
    /* Non-identity D = 0.7: Sigma scales by D. */
    double M, S, A = 1.37, D = 0.7;
    assert_int_equal(rg_linalg_vanloan(1, &A, &D, 0.9, &M, &S), RG_OK);
    rg_assert_rel(S, 0.7 * -expm1(-2.0 * 1.37 * 0.9) / 1.37, 1e-13, "scalar OU Sigma, D = 0.7");
}

/* A non-normal 3x3 (eigenvalues 0.652 +- 1.163i, 1.896 by dgeev; ||A||_1 = 3.2) and an SPD D. */
static const double A3[9] = { 1.0, 2.0, 0.0, -0.3, 0.5, 1.5, 0.3, -0.4, 1.7 };
static const double D3[9] = { 1.0, 0.3, 0.0, 0.3, 2.0, 0.1, 0.0, 0.1, 0.5 };

/* y' = F(y) for y = (M, Sigma): M' = -A M, Sigma' = 2D - A Sigma - Sigma A^T. */
static void moments_rhs(const double *M, const double *S, double *dM, double *dS)
{
    double AS[9], SAt[9];
    naive_mul(3, A3, M, dM);
    naive_mul(3, A3, S, AS);
    naive_mul_t(3, S, A3, SAt);
    for (int i = 0; i < 9; i++) {
        dM[i] = -dM[i];
        dS[i] = 2.0 * D3[i] - AS[i] - SAt[i];
    }
}

static void rk4_moments(double t, int steps, double *M, double *S)
{
    double h = t / steps, k[4][18], y[18];
    memset(M, 0, 9 * sizeof *M);
    memset(S, 0, 9 * sizeof *S);
    M[0] = M[4] = M[8] = 1.0;
    for (int s = 0; s < steps; s++) {
        for (int st = 0; st < 4; st++) {
            double f = st == 0 ? 0.0 : (st == 3 ? 1.0 : 0.5);
            for (int i = 0; i < 9; i++) {
                y[i] = M[i] + (st ? f * h * k[st - 1][i] : 0.0);
                y[9 + i] = S[i] + (st ? f * h * k[st - 1][9 + i] : 0.0);
            }
            moments_rhs(y, y + 9, k[st], k[st] + 9);
        }
        for (int i = 0; i < 18; i++) {
            double inc = h / 6.0 * (k[0][i] + 2.0 * k[1][i] + 2.0 * k[2][i] + k[3][i]);
            if (i < 9) M[i] += inc;
            else S[i - 9] += inc;
        }
    }
}

static void test_vanloan_vs_rk4(void **state)
{
    (void)state;
    /* t = 2.3 (t ||A||_1 = 7.4 > 5: one doubling). RK4 with h = 2.3/4000: measured difference 9e-14
     * at 2000 steps and 6e-15 at 4000 (the 16x drop of a 4th-order method), so RK4 truncation is
     * ~6e-15 here; 1e-12 leaves room for rounding, and a wrong factor (2D vs D, A vs A^T) is O(1). */
    double M[9], S[9], Mr[9], Sr[9];
    assert_int_equal(rg_linalg_vanloan(3, A3, D3, 2.3, M, S), RG_OK);
    rk4_moments(2.3, 4000, Mr, Sr);
    rg_assert_vec_rel(M, Mr, 9, 1e-12, "Van Loan M vs RK4");
    rg_assert_vec_rel(S, Sr, 9, 1e-12, "Van Loan Sigma vs RK4");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) assert_true(S[i * 3 + j] == S[j * 3 + i]); /* symmetrised */
    /* NULL outputs are allowed, and each alone gives the same numbers. */
    double M1[9], S1[9];
    assert_int_equal(rg_linalg_vanloan(3, A3, D3, 2.3, M1, NULL), RG_OK);
    assert_int_equal(rg_linalg_vanloan(3, A3, D3, 2.3, NULL, S1), RG_OK);
    assert_memory_equal(M1, M, sizeof M);
    assert_memory_equal(S1, S, sizeof S);
}

static void test_vanloan_composition(void **state)
{
    (void)state;
    /* docs/math.md 2.1: M_{t+s} = M_t M_s and Sigma_{t+s} = M_s Sigma_t M_s^T + Sigma_s. t = 0.7 (0 doublings)
     * and s = 1.9 (1 doubling), t + s = 2.6 (2 doublings) take different paths; 1e-12 relative as
     * docs/math.md 2.2 asks. */
    const double t = 0.7, s = 1.9;
    double Mt[9], St[9], Ms[9], Ss[9], Mts[9], Sts[9], P[9], Q[9], R[9];
    assert_int_equal(rg_linalg_vanloan(3, A3, NULL, t, Mt, St), RG_OK);
    assert_int_equal(rg_linalg_vanloan(3, A3, NULL, s, Ms, Ss), RG_OK);
    assert_int_equal(rg_linalg_vanloan(3, A3, NULL, t + s, Mts, Sts), RG_OK);
    naive_mul(3, Mt, Ms, P);
    rg_assert_vec_rel(Mts, P, 9, 1e-12, "M_{t+s} = M_t M_s");
    naive_mul(3, Ms, St, Q);
    naive_mul_t(3, Q, Ms, R);
    for (int i = 0; i < 9; i++) R[i] += Ss[i];
    rg_assert_vec_rel(Sts, R, 9, 1e-12, "Sigma_{t+s} = M_s Sigma_t M_s^T + Sigma_s");
}

static void test_vanloan_limits(void **state)
{
    (void)state;
    double M[9], S[9], X[9], W[9] = { 2, 0, 0, 0, 2, 0, 0, 0, 2 };
    /* t = 40, ||A3||_1 = 3.2 (5 doublings), slowest rate 0.652: ||M_40|| ~ e^{-26} ~ 5e-12, so
     * Sigma_40 differs from Sigma_inf by ~M Sigma_inf M^T ~ 1e-23: the difference is all rounding
     * (measured 9e-16 relative). 1e-12 is the agreement docs/math.md 2.2 asks for. */
    assert_int_equal(rg_linalg_vanloan(3, A3, NULL, 40.0, M, S), RG_OK);
    assert_int_equal(rg_linalg_lyap(3, A3, W, X), RG_OK);
    rg_assert_vec_rel(S, X, 9, 1e-12, "Sigma_40 vs Lyapunov Sigma_inf");
    assert_true(max_abs(M, 9) < 1e-10);
    /* t = 0: exactly I and 0 (documented), not merely close. */
    assert_int_equal(rg_linalg_vanloan(3, A3, D3, 0.0, M, S), RG_OK);
    for (int i = 0; i < 9; i++) {
        assert_true(M[i] == (i % 4 == 0 ? 1.0 : 0.0));
        assert_true(S[i] == 0.0);
    }
    /* Tiny t = 1e-10: Sigma = 2 D t - (A D + D A^T) t^2 + O(t^3 ||A||^2), from the Taylor expansion
     * of the ODE; the t^3 term is ~1e-29, so any error above a few eps relative is Van Loan's.
     * 1e-14 of the largest entry (2 D_11 t = 4e-10): full relative accuracy, no 1 - e^{-x} loss. */
    double AD[9], DAt[9], want[9], t = 1e-10;
    naive_mul(3, A3, D3, AD);
    naive_mul_t(3, D3, A3, DAt);
    for (int i = 0; i < 9; i++) want[i] = 2.0 * D3[i] * t - (AD[i] + DAt[i]) * t * t;
    assert_int_equal(rg_linalg_vanloan(3, A3, D3, t, M, S), RG_OK);
    rg_assert_vec_rel(S, want, 9, 1e-14, "Sigma_t ~ 2 D t - (A D + D A^T) t^2, t = 1e-10");
}

static void test_vanloan_bad_input(void **state)
{
    (void)state;
    double M[9], S[9], An[9];
    memcpy(An, A3, sizeof An);
    An[4] = NAN;
    expect_fail(rg_linalg_vanloan(3, A3, NULL, -1.0, M, S), RG_EINVAL, "t = -1");
    expect_fail(rg_linalg_vanloan(3, A3, NULL, NAN, M, S), RG_EINVAL, "t = nan");
    expect_fail(rg_linalg_vanloan(3, A3, NULL, INFINITY, M, S), RG_EINVAL, "t = inf");
    expect_fail(rg_linalg_vanloan(0, A3, NULL, 1.0, M, S), RG_EINVAL, "n = 0");
    expect_fail(rg_linalg_vanloan(3, An, NULL, 1.0, M, S), RG_EINVAL, "NaN");
    const double unstable = -1.0; /* e^{2 * 1000} overflows */
    expect_fail(rg_linalg_vanloan(1, &unstable, NULL, 1000.0, M, S), RG_EDOM, "overflow");
}

/* ---- Lyapunov --------------------------------------------------------------------------------- */

static void test_lyap(void **state)
{
    (void)state;
    /* docs/math.md 2.5 closed form, a_x = a_y = 1, gamma_xy = a = 0.8, gamma_yx = b = 0.2:
     * S_inf = [[1 + a q, q], [q, 1 + b q]], q = (a + b) / (2 (1 - a b)) = 1/1.68; docs/math.md 9.4 row 1
     * shows [[1.476, .595], [.595, 1.119]]. Closed form: a few roundings, 1e-14. */
    const double M2[4] = { 1.0, -0.8, -0.2, 1.0 }, W2[4] = { 2, 0, 0, 2 };
    const double q = 1.0 / 1.68;
    double X[25];
    assert_int_equal(rg_linalg_lyap(2, M2, W2, X), RG_OK);
    rg_assert_rel(X[0], 1.0 + 0.8 * q, 1e-14, "S_inf xx");
    rg_assert_rel(X[1], q, 1e-14, "S_inf xy");
    rg_assert_rel(X[2], q, 1e-14, "S_inf yx");
    rg_assert_rel(X[3], 1.0 + 0.2 * q, 1e-14, "S_inf yy");
    rg_assert_digits(X[0], 1.476, 3, "docs/math.md 9.4 S_inf xx");
    rg_assert_digits(X[1], 0.595, 3, "docs/math.md 9.4 S_inf xy");
    rg_assert_digits(X[3], 1.119, 3, "docs/math.md 9.4 S_inf yy");

    /* 5x5 non-normal A = 2 I + B (entries of B in (-0.5, 0.5): stable), symmetric W: relative
     * residual ||A X + X A^T - W|| / (||A|| ||X||) below 1e-12 (backward stable: ~n eps). */
    double A[25], W[25], AX[25], XAt[25];
    fill(A, 25, 0.5, 0.3);
    for (int i = 0; i < 5; i++) A[i * 5 + i] += 2.0;
    fill(W, 25, 1.0, 0.7);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < i; j++) W[i * 5 + j] = W[j * 5 + i];
    assert_int_equal(rg_linalg_lyap(5, A, W, X), RG_OK);
    naive_mul(5, A, X, AX);
    naive_mul_t(5, X, A, XAt);
    double res = 0.0;
    for (int i = 0; i < 25; i++) res = fmax(res, fabs(AX[i] + XAt[i] - W[i]));
    assert_true(res / (max_abs(A, 25) * max_abs(X, 25)) < 1e-12);
    assert_true(max_abs(X, 25) > 0.1); /* not trivially zero */

    /* A = diag(1, -1): eigenvalue 1 of A equals eigenvalue 1 of -A, no unique solution. */
    const double sing[4] = { 1, 0, 0, -1 };
    expect_fail(rg_linalg_lyap(2, sing, W2, X), RG_EDOM, "share an eigenvalue");
    const double Wn[4] = { 2, NAN, NAN, 2 };
    expect_fail(rg_linalg_lyap(2, M2, Wn, X), RG_EINVAL, "W contains NaN");
}

/* ---- eigenvalues ------------------------------------------------------------------------------ */

static void test_eigsym(void **state)
{
    (void)state;
    /* Tridiagonal (2, -1) of size 6: eigenvalues 2 - 2 cos(k pi / 7), k = 1..6 (ascending). An
     * antisymmetric part is added: only the symmetric part counts. Backward stable: 1e-14 absolute
     * on a matrix of norm 4. */
    enum { n = 6 };
    double A[n * n] = { 0 }, w[n], V[n * n], AV[n * n];
    for (int i = 0; i < n; i++) {
        A[i * n + i] = 2.0;
        if (i + 1 < n) {
            A[i * n + i + 1] = -1.0 + 0.37 * (i + 1);
            A[(i + 1) * n + i] = -1.0 - 0.37 * (i + 1);
        }
    }
    assert_int_equal(rg_linalg_eigsym(n, A, w, NULL), RG_OK);
    for (int k = 0; k < n; k++) rg_assert_abs(w[k], 2.0 - 2.0 * cos((k + 1) * PI / 7.0), 1e-14, "eigsym");
    assert_int_equal(rg_linalg_eigsym(n, A, w, V), RG_OK);
    /* Columns of V: S v_k = w_k v_k and V^T V = I, with S the symmetric part. */
    double S[n * n], VtV[n * n];
    for (int i = 0; i < n * n; i++) S[i] = 0.5 * (A[i] + A[(i % n) * n + i / n]);
    naive_mul(n, S, V, AV);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) rg_assert_abs(AV[i * n + k], w[k] * V[i * n + k], 1e-14, "S V = V diag(w)");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int k = 0; k < n; k++) s += V[k * n + i] * V[k * n + j];
            VtV[i * n + j] = s;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) rg_assert_abs(VtV[i * n + j], i == j, 1e-14, "V^T V = I");
}

static void test_eig_exceptional_point(void **state)
{
    (void)state;
    /* docs/math.md 4.5 / 9.6: A = [[u1, q u2], [-q u1, u2]], u1 = 0.2, u2 = 1.8, eig = 1 +- sqrt(0.64 -
     * 0.36 q^2); q* = 4/3. Table: {0.2, 1.8} at 0, {0.307, 1.693} at q* / 2, {1, 1} at q*, 1 +- 1.386i at
     * 2q*. Away from q* the eigenvalues are simple: 1e-14. At q* the Jordan block makes them
     * sensitive as sqrt(eps ||A||) ~ 2e-8: 1e-7 there. */
    const double u1 = 0.2, u2 = 1.8, qs[4] = { 0.0, 2.0 / 3.0, 4.0 / 3.0, 8.0 / 3.0 };
    const double re0[4] = { 0.2, 1.0 - sqrt(0.48), 1.0, 1.0 }, re1[4] = { 1.8, 1.0 + sqrt(0.48), 1.0, 1.0 };
    const double im1[4] = { 0.0, 0.0, 0.0, sqrt(1.92) }, tol[4] = { 1e-14, 1e-14, 1e-7, 1e-14 };
    const double d0[4] = { 0.2, 0.307, 1.0, 1.0 }, d1[4] = { 1.8, 1.693, 1.0, 1.0 };
    for (int k = 0; k < 4; k++) {
        double q = qs[k], A[4] = { u1, q * u2, -q * u1, u2 }, wr[2], wi[2], r;
        assert_int_equal(rg_linalg_eig(2, A, wr, wi), RG_OK);
        rg_assert_abs(wr[0], re0[k], tol[k], "eig real, lower");
        rg_assert_abs(wr[1], re1[k], tol[k], "eig real, upper");
        rg_assert_abs(wi[0], -im1[k], tol[k], "eig imag, sorted ascending");
        rg_assert_abs(wi[1], im1[k], tol[k], "eig imag");
        rg_assert_digits(wr[0], d0[k], 3, "docs/math.md 9.6 eig");
        rg_assert_digits(wr[1], d1[k], 3, "docs/math.md 9.6 eig");
        assert_int_equal(rg_linalg_min_real_eig(2, A, &r), RG_OK);
        assert_true(r == wr[0]);
    }
    double A[4] = { u1, qs[3] * u2, -qs[3] * u1, u2 }, wr[2], wi[2];
    assert_int_equal(rg_linalg_eig(2, A, wr, wi), RG_OK);
    rg_assert_digits(wi[1], 1.386, 3, "docs/math.md 9.6: 1 +- 1.386i at 2 q*");
}

static void test_eig_sorting(void **state)
{
    (void)state;
    /* Block diagonal 3, [[-1, 2], [-2, -1]] (-1 +- 2i), 0.5, -1, deliberately out of order. Sorted
     * by real part, then imaginary part: -1-2i, -1, -1+2i, 0.5, 3. Exact in a few roundings: 1e-14. */
    double A[25] = { 0 }, wr[5], wi[5], r;
    A[0] = 3.0;
    A[1 * 5 + 1] = -1.0; A[1 * 5 + 2] = 2.0; A[2 * 5 + 1] = -2.0; A[2 * 5 + 2] = -1.0;
    A[3 * 5 + 3] = 0.5;
    A[4 * 5 + 4] = -1.0;
    const double wr_want[5] = { -1, -1, -1, 0.5, 3 }, wi_want[5] = { -2, 0, 2, 0, 0 };
    assert_int_equal(rg_linalg_eig(5, A, wr, wi), RG_OK);
    for (int i = 0; i < 5; i++) {
        rg_assert_abs(wr[i], wr_want[i], 1e-14, "sorted real parts");
        rg_assert_abs(wi[i], wi_want[i], 1e-14, "sorted imaginary parts");
    }
    assert_int_equal(rg_linalg_min_real_eig(5, A, &r), RG_OK);
    rg_assert_abs(r, -1.0, 1e-14, "spectral abscissa");
}

/* ---- Cholesky, whitened eigenvalues ----------------------------------------------------------- */

static void test_chol(void **state)
{
    (void)state;
    const double L0[9] = { 2.0, 0, 0, 0.5, 1.5, 0, -1.0, 0.25, 0.8 };
    double A[9], L[9];
    naive_mul_t(3, L0, L0, A); /* A = L0 L0^T, exact in binary (dyadic entries) */
    assert_int_equal(rg_linalg_chol(3, A, L), RG_OK);
    rg_assert_vec_rel(L, L0, 9, 1e-15, "chol(L0 L0^T) = L0 (dyadic: nearly exact)");
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) assert_true(L[i * 3 + j] == 0.0);
    assert_int_equal(rg_linalg_chol(3, A, A), RG_OK); /* in place */
    assert_memory_equal(A, L, sizeof L);
    const double notpd[4] = { 1, 2, 2, 1 }; /* eigenvalues 3, -1 */
    expect_fail(rg_linalg_chol(2, notpd, L), RG_EDOM, "not positive definite (leading minor 2)");
    const double neg[4] = { -1, 0, 0, 1 };
    expect_fail(rg_linalg_chol(2, neg, L), RG_EDOM, "leading minor 1");
}

static void test_whitened_eigs(void **state)
{
    (void)state;
    /* B = L C L^T gives L^{-1} B L^{-T} = C; C the (2, -1) tridiagonal of size 3, eigenvalues
     * 2 - sqrt(2), 2, 2 + sqrt(2). Two triangular solves on an O(1)-conditioned L: 1e-13. */
    const double L[9] = { 2.0, 0, 0, 0.5, 1.5, 0, -1.0, 0.25, 0.8 };
    const double C[9] = { 2, -1, 0, -1, 2, -1, 0, -1, 2 };
    double LC[9], B[9], lmax, all[3];
    naive_mul(3, L, C, LC);
    naive_mul_t(3, LC, L, B);
    assert_int_equal(rg_linalg_whitened_eigs(3, L, B, &lmax, all), RG_OK);
    rg_assert_rel(lmax, 2.0 + sqrt(2.0), 1e-13, "whitened lmax");
    rg_assert_rel(all[0], 2.0 - sqrt(2.0), 1e-13, "whitened eig 0");
    rg_assert_rel(all[1], 2.0, 1e-13, "whitened eig 1");
    assert_true(all[2] == lmax);
}

/* ---- small utilities -------------------------------------------------------------------------- */

static void test_mul_and_symmetry(void **state)
{
    (void)state;
    /* dgemm against plain loops on an odd size (7): one FMA-or-not rounding per term, 1e-14. */
    double A[49], B[49], C[49], R[49];
    fill(A, 49, 1.0, 0.2);
    fill(B, 49, 1.0, 0.9);
    rg_linalg_mul(7, A, B, C);
    naive_mul(7, A, B, R);
    rg_assert_vec_rel(C, R, 49, 1e-14, "mul vs naive");
    rg_linalg_mul_t(7, A, B, C);
    naive_mul_t(7, A, B, R);
    rg_assert_vec_rel(C, R, 49, 1e-14, "mul_t vs naive");

    const double S[4] = { 1.0, 2.0, 2.0 + 1e-12, 3.0 }, K[4] = { 0.0, 2.0, -2.0, 0.0 };
    assert_true(rg_linalg_is_symmetric(2, S, 1e-10));
    assert_false(rg_linalg_is_symmetric(2, S, 1e-14));
    assert_false(rg_linalg_is_symmetric(2, K, 1e-10));
    assert_true(rg_linalg_is_antisymmetric(2, K, 0.0));
    assert_false(rg_linalg_is_antisymmetric(2, S, 1e-10));
    const double Kd[4] = { 0.1, 2.0, -2.0, 0.0 }; /* nonzero diagonal is not antisymmetric */
    assert_false(rg_linalg_is_antisymmetric(2, Kd, 1e-10));
}

/* ---- root finding ----------------------------------------------------------------------------- */

static double cos_minus_t(double t, void *ctx)
{
    (void)ctx;
    return cos(t) - t;
}

static double cubic(double t, void *ctx) /* roots 0.5, 3, 20 (or those scaled by *ctx) */
{
    double s = ctx ? *(double *)ctx : 1.0;
    return (t - 0.5 * s) * (t - 3.0 * s) * (t - 20.0 * s);
}

static double positive(double t, void *ctx)
{
    (void)ctx;
    return 1.0 + t;
}

static double nan_above_5(double t, void *ctx)
{
    (void)ctx;
    return t > 5.0 ? (double)NAN : t - 1.0;
}

static void test_brent(void **state)
{
    (void)state;
    /* Dottie number, the fixed point of cos: 0.73908513321516064165531208767387... (OEIS A003957).
     * Brent stops with |dt| <= tol + 4 eps |t|: tol = 1e-14 gives 2e-14 absolute. */
    double r;
    assert_int_equal(rg_linalg_brent(cos_minus_t, NULL, 0.0, 1.0, 1e-14, &r), RG_OK);
    rg_assert_abs(r, 0.73908513321516064, 2e-14, "Dottie number");
    assert_int_equal(rg_linalg_brent(cos_minus_t, NULL, 1.0, 0.0, 1e-14, &r), RG_OK); /* reversed */
    rg_assert_abs(r, 0.73908513321516064, 2e-14, "Dottie number, reversed interval");
    expect_fail(rg_linalg_brent(cos_minus_t, NULL, 1.0, 2.0, 1e-12, &r), RG_EINVAL, "no sign change");
    expect_fail(rg_linalg_brent(nan_above_5, NULL, 0.0, 6.0, 1e-12, &r), RG_EINVAL, "NaN");
    expect_fail(rg_linalg_brent(cos_minus_t, NULL, NAN, 1.0, 1e-12, &r), RG_EINVAL, "bad interval");
}

static void test_largest_root(void **state)
{
    (void)state;
    /* docs/math.md 7 root convention: the LARGEST root on [1e-4, 200], refined to 1e-12. The cubic has
     * roots 0.5, 3 and 20; the answer is 20 (and 2 for the scaled copy), to 1e-12 + 4 eps t. */
    double r, s = 0.1;
    int found = -1;
    assert_int_equal(rg_linalg_largest_root(cubic, NULL, 1e-4, 200.0, 400, &r, &found), RG_OK);
    assert_int_equal(found, 1);
    rg_assert_abs(r, 20.0, 1e-12 + 4.0 * 20.0 * EPS, "largest of 0.5, 3, 20");
    assert_int_equal(rg_linalg_largest_root(cubic, &s, 1e-4, 200.0, 1000, &r, &found), RG_OK);
    rg_assert_abs(r, 2.0, 1e-12 + 4.0 * 2.0 * EPS, "largest of 0.05, 0.3, 2");
    /* Only the two lower roots on [1e-4, 10]: 3. */
    assert_int_equal(rg_linalg_largest_root(cubic, NULL, 1e-4, 10.0, 400, &r, &found), RG_OK);
    rg_assert_abs(r, 3.0, 1e-12 + 4.0 * 3.0 * EPS, "largest root below 10");
    /* No sign change: found = 0, root NaN, status OK. */
    assert_int_equal(rg_linalg_largest_root(positive, NULL, 1e-4, 200.0, 400, &r, &found), RG_OK);
    assert_int_equal(found, 0);
    assert_true(isnan(r));
    /* f NaN on the grid: EINVAL naming t; bad intervals and grids. */
    expect_fail(rg_linalg_largest_root(nan_above_5, NULL, 1e-4, 200.0, 400, &r, &found), RG_EINVAL,
                "NaN at t = 200");
    expect_fail(rg_linalg_largest_root(cubic, NULL, 0.0, 200.0, 400, &r, &found), RG_EINVAL, "interval");
    expect_fail(rg_linalg_largest_root(cubic, NULL, 5.0, 1.0, 400, &r, &found), RG_EINVAL, "interval");
    expect_fail(rg_linalg_largest_root(cubic, NULL, 1e-4, 200.0, 399, &r, &found), RG_EINVAL, "npts");
}


/* ---- modal form (src/linalg_modal.c) ---------------------------------------------------------- */

/* A stable n x n drift with complex pairs: I + (fill - mean) / sqrt(n) (random-like, non-normal). */
static void stable_drift(size_t n, double phase, double *A)
{
    fill(A, n * n, 1.5 / sqrt((double)n), phase);
    for (size_t i = 0; i < n; i++) A[i * n + i] += 1.0;
}

/* max |X - Y| / max |Y| */
static double rel_err(const double *X, const double *Y, size_t n)
{
    double e = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs(X[i] - Y[i]));
        s = fmax(s, fabs(Y[i]));
    }
    return e / s;
}

static void test_modal_vs_vanloan(void **state)
{
    (void)state;
    /* M_t and Sigma_t of the modal form against Van Loan + doubling (docs/math.md 2.2) on stable drifts
     * with complex pairs (n = 7, 12) and at times from 1e-4 to 200, both sides of the product-form
     * switch ((a_j + a_k) t = ln 2). Both are exact up to rounding; measured agreement ~1e-14 (M at
     * t = 200 ~4e-13: Van Loan squares 2^8 times there). 1e-11 leaves room; a wrong block sign, a
     * missing conjugate or P vs P^-1 is an O(1) error. */
    const double ts[] = { 1e-4, 0.013, 0.3, 0.7, 1.9, 6.0, 40.0, 200.0 };
    const size_t ns[] = { 7, 12 };
    for (size_t q = 0; q < 2; q++) {
        size_t n = ns[q];
        double *A = malloc(5 * n * n * sizeof *A), *M = A + n * n, *S = M + n * n, *Mv = S + n * n, *Sv = Mv + n * n;
        assert_non_null(A);
        stable_drift(n, 0.37 * (double)(q + 1), A);
        rg_linalg_modal *m = NULL;
        assert_int_equal(rg_linalg_modal_new(n, A, 1e-12, &m), RG_OK);
        double re[12], im[12];
        rg_linalg_modal_eigenvalues(m, re, im);
        int pairs = 0;
        for (size_t i = 0; i < n; i++) pairs += im[i] != 0.0;
        assert_true(pairs >= 2); /* the complex-pair path is exercised */
        for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
            assert_int_equal(rg_linalg_modal_moments(m, ts[k], M, S), RG_OK);
            assert_int_equal(rg_linalg_vanloan(n, A, NULL, ts[k], Mv, Sv), RG_OK);
            if (rel_err(M, Mv, n * n) > 1e-11 || rel_err(S, Sv, n * n) > 1e-11) {
                print_error("n = %zu, t = %g: M err %.3g, Sigma err %.3g\n", n, ts[k], rel_err(M, Mv, n * n),
                            rel_err(S, Sv, n * n));
                fail();
            }
        }
        rg_linalg_modal_free(m);
        free(A);
    }
}

static void test_modal_small_t(void **state)
{
    (void)state;
    /* Sigma_t = 2t I - t^2 (A + A^T) + O(t^3): at t = 1e-9 the t^2 term is 1e-9 of the first, so
     * Sigma_t / (2t) = I to 2e-9, and no cancellation may spoil it: 1e-8 relative, entrywise against
     * the two-term expansion 2t I - t^2 (A + A^T) (exact to t^3 ~ 1e-27). */
    enum { N = 5 };
    double A[N * N], S[N * N], W[N * N];
    const double t = 1e-9;
    stable_drift(N, 0.11, A);
    rg_linalg_modal *m = NULL;
    assert_int_equal(rg_linalg_modal_new(N, A, 1e-12, &m), RG_OK);
    assert_int_equal(rg_linalg_modal_moments(m, t, NULL, S), RG_OK);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) W[i * N + j] = (i == j ? 2.0 * t : 0.0) - t * t * (A[i * N + j] + A[j * N + i]);
    for (int i = 0; i < N * N; i++) rg_assert_abs(S[i], W[i], 1e-8 * 2.0 * t, "Sigma_t at t = 1e-9");
    rg_linalg_modal_free(m);
}

static void test_modal_coordinates(void **state)
{
    (void)state;
    /* The modal-coordinate pieces against their definitions in the original coordinates:
     *   cov(t, C~) = R^-1 (M C M^T + Sigma_t) R^-T with C~ = R^-1 C R^-T (congruence of chol(C)),
     *   congr(t, C~) = e^{2rt} R^-1 M C M^T R^-T,   prop(t, e~) = e^{rt} R^-1 M e,
     *   dual_norm2(y) = |R^-T y|^2 with y = R^T w for w original: = |w|^2.
     * R^-1 is reached through rg_linalg_modal_vec on unit vectors. Rounding only: 1e-12. */
    enum { N = 6 };
    double A[N * N], C[N * N], L[N * N], M[N * N], S[N * N], Ct[N * N], Ri[N * N], Out[N * N], T1[N * N], T2[N * N];
    double e[N], et[N], y[N], w[N], work[N];
    const double t = 0.83;
    stable_drift(N, 0.5, A);
    fill(L, N * N, 0.5, 0.2);
    for (int i = 0; i < N; i++) /* lower triangular with a positive diagonal: C = L L^T SPD */
        for (int j = 0; j < N; j++) L[i * N + j] = j > i ? 0.0 : j == i ? 1.0 + fabs(L[i * N + j]) : L[i * N + j];
    naive_mul_t(N, L, L, C);
    fill(e, N, 1.0, 0.9);
    rg_linalg_modal *m = NULL;
    assert_int_equal(rg_linalg_modal_new(N, A, 1e-12, &m), RG_OK);
    for (int j = 0; j < N; j++) { /* columns of R^-1 */
        double u[N] = { 0 }, c[N];
        u[j] = 1.0;
        rg_linalg_modal_vec(m, u, c);
        for (int i = 0; i < N; i++) Ri[i * N + j] = c[i];
    }
    assert_int_equal(rg_linalg_modal_moments(m, t, M, S), RG_OK);
    assert_int_equal(rg_linalg_modal_congruence(m, L, Ct), RG_OK);
    /* want: Ri (M C M^T + S) Ri^T */
    naive_mul(N, M, C, T1);
    naive_mul_t(N, T1, M, T2);
    for (int i = 0; i < N * N; i++) T2[i] += S[i];
    naive_mul(N, Ri, T2, T1);
    naive_mul_t(N, T1, Ri, T2);
    memset(Out, 0, sizeof Out);
    assert_int_equal(rg_linalg_modal_cov(m, t, Ct, 0, Out), RG_OK);
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) rg_assert_abs(Out[i * N + j], T2[i * N + j], 1e-12 * max_abs(T2, N * N), "modal cov");
    double r = rg_linalg_modal_rate(m), sc = exp(2.0 * r * t);
    naive_mul(N, M, C, T1);
    naive_mul_t(N, T1, M, T2);
    naive_mul(N, Ri, T2, T1);
    naive_mul_t(N, T1, Ri, T2);
    assert_int_equal(rg_linalg_modal_congr(m, t, Ct, 0, Out), RG_OK);
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) rg_assert_abs(Out[i * N + j], sc * T2[i * N + j], 1e-12 * sc * max_abs(T2, N * N), "modal congr");
    rg_linalg_modal_vec(m, e, et);
    assert_int_equal(rg_linalg_modal_prop(m, t, et, y), RG_OK);
    for (int i = 0; i < N; i++) { /* want e^{rt} Ri M e */
        double acc = 0.0;
        for (int j = 0; j < N; j++) {
            double me = 0.0;
            for (int k = 0; k < N; k++) me += M[j * N + k] * e[k];
            acc += Ri[i * N + j] * me;
        }
        rg_assert_abs(y[i], exp(r * t) * acc, 1e-12 * max_abs(y, N), "modal prop");
    }
    /* a dual vector: w original, y = R^T w (R = inverse of Ri, from the moments at t = 0: use R^T w
     * = solve Ri^T y = w) -> |R^-T y|^2 = |w|^2 */
    fill(w, N, 1.0, 0.3);
    double B[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) B[i * N + j] = Ri[j * N + i]; /* Ri^T */
    lapack_int ipiv[N];
    memcpy(y, w, sizeof y);
    assert_int_equal(LAPACKE_dgesv(LAPACK_ROW_MAJOR, N, 1, B, N, ipiv, y, 1), 0);
    double ww = 0.0;
    for (int i = 0; i < N; i++) ww += w[i] * w[i];
    rg_assert_rel(rg_linalg_modal_dual_norm2(m, y, work), ww, 1e-12, "dual norm");
    rg_linalg_modal_free(m);
}

static void test_modal_blocks(void **state)
{
    (void)state;
    /* A that decouples: the 2x2 blocks of A3-like drifts on the index pairs (0, 5), (1, 3), the 1x1
     * index 2 and the 1x1 index 4, scattered (a permuted block diagonal). Factored block by block (4
     * components), its moments must equal Van Loan on the whole matrix (1e-12, as above) and Sigma~
     * must vanish between components. */
    enum { N = 6 };
    double A[N * N] = { 0 }, M[N * N], S[N * N], Mv[N * N], Sv[N * N], St[N * N];
    const int pa[2][2] = { { 0, 5 }, { 1, 3 } };
    const double blk[2][4] = { { 1.2, -0.9, 0.7, 0.8 }, { 0.5, 2.0, -1.1, 1.4 } };
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) A[pa[b][i] * N + pa[b][j]] = blk[b][i * 2 + j];
    A[2 * N + 2] = 0.6;
    A[4 * N + 4] = 1.7;
    rg_linalg_modal *m = NULL;
    assert_int_equal(rg_linalg_modal_new(N, A, 1e-12, &m), RG_OK);
    const size_t *off = NULL;
    assert_int_equal(rg_linalg_modal_blocks(m, &off), 4);
    const size_t want_off[5] = { 0, 2, 4, 5, 6 }; /* components by smallest index: {0,5} {1,3} {2} {4} */
    for (int c = 0; c < 5; c++) assert_int_equal(off[c], want_off[c]);
    const double ts[] = { 1e-3, 0.4, 3.0, 30.0 };
    for (int k = 0; k < 4; k++) {
        assert_int_equal(rg_linalg_modal_moments(m, ts[k], M, S), RG_OK);
        assert_int_equal(rg_linalg_vanloan(N, A, NULL, ts[k], Mv, Sv), RG_OK);
        assert_true(rel_err(M, Mv, N * N) <= 1e-12);
        assert_true(rel_err(S, Sv, N * N) <= 1e-12);
    }
    for (int i = 0; i < N * N; i++) St[i] = 7.0; /* marker: entries between components stay untouched */
    assert_int_equal(rg_linalg_modal_cov(m, 0.4, NULL, 0, St), RG_OK);
    for (int c = 0; c < 4; c++)
        for (size_t i = off[c]; i < off[c + 1]; i++)
            for (size_t j = 0; j < off[c]; j++) assert_true(St[i * N + j] == 7.0);
    rg_linalg_modal_free(m);
}

static void test_modal_exceptional_point(void **state)
{
    (void)state;
    /* docs/math.md 4.5: A = [[u1, q u2], [-q u1, u2]], u1 = 0.2, u2 = 1.8, defective at q* = 4/3. The
     * modal Sigma_t error grows like cond(R)^2 eps as q -> q*; the factorisation's Lyapunov check
     * (tol 1e-12) must refuse where that error would exceed ~1e-10 and accept elsewhere, with Sigma_t
     * within 1e-10 of Van Loan whenever accepted. Measured: delta = q/q* - 1 = 1e-4 -> residual
     * 1.7e-13, Sigma err 8e-12 (accepted); 1e-6 -> 3e-12 (refused); at q* -> 1e-7 and beyond. */
    const double u1 = 0.2, u2 = 1.8, qs = 4.0 / 3.0;
    const struct { double delta; int accept; } row[] = {
        { -0.5, 1 }, { 1.0, 1 }, { 1e-2, 1 }, { -1e-2, 1 }, { 1e-4, 1 }, { -1e-4, 1 },
        { 1e-6, 0 }, { -1e-6, 0 }, { 1e-10, 0 }, { 0.0, 0 },
    };
    for (size_t k = 0; k < sizeof row / sizeof row[0]; k++) {
        double q = qs * (1.0 + row[k].delta), A[4] = { u1, q * u2, -q * u1, u2 };
        rg_linalg_modal *m = NULL;
        int st = rg_linalg_modal_new(2, A, 1e-12, &m);
        if (!row[k].accept) {
            expect_fail(st, RG_EDOM, "too inaccurate");
            assert_null(m);
            continue;
        }
        assert_int_equal(st, RG_OK);
        const double ts[] = { 1e-3, 0.1, 1.0, 5.0, 20.0 };
        for (int j = 0; j < 5; j++) {
            double M[4], S[4], Mv[4], Sv[4];
            assert_int_equal(rg_linalg_modal_moments(m, ts[j], M, S), RG_OK);
            assert_int_equal(rg_linalg_vanloan(2, A, NULL, ts[j], Mv, Sv), RG_OK);
            if (!(rel_err(M, Mv, 4) <= 1e-10 && rel_err(S, Sv, 4) <= 1e-10)) {
                print_error("delta = %g, t = %g: M err %.3g, Sigma err %.3g\n", row[k].delta, ts[j],
                            rel_err(M, Mv, 4), rel_err(S, Sv, 4));
                fail();
            }
        }
        rg_linalg_modal_free(m);
    }
    double A[4] = { -0.2, 0.0, 0.0, 1.0 }; /* unstable: refused, not factored */
    rg_linalg_modal *m = NULL;
    expect_fail(rg_linalg_modal_new(2, A, 1e-12, &m), RG_EDOM, "not stable");
    expect_fail(rg_linalg_modal_new(0, A, 1e-12, &m), RG_EINVAL, "out of range");
}

static void test_tiled_helpers(void **state)
{
    (void)state;
    /* The 64 x 64-tiled transposing helpers against plain loops, at sizes that cut tiles (67, 130). */
    /* Dense inputs take the tiles, sparse ones (q = 3, 4: at most 8 nonzeros per row) the nonzeros. */
    const size_t ns[] = { 1, 67, 130, 67, 130 };
    for (size_t q = 0; q < 5; q++) {
        size_t n = ns[q];
        double *X = malloc(4 * n * n * sizeof *X), *Y = X + n * n, *Z = Y + n * n, *W = Z + n * n;
        assert_non_null(X);
        fill(X, n * n, 1.0, 0.1 * (double)q);
        if (q >= 3) /* keep a band-like sparse pattern, with unmatched entries on either side */
            for (size_t i = 0; i < n * n; i++)
                if ((i * 7919) % 17 != 0 || (i / n + i % n) % 5 == 0) X[i] = 0.0; /* ~6 per row */
        rg__transpose(n, X, Y);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) assert_true(Y[j * n + i] == X[i * n + j]);
        memcpy(Z, X, n * n * sizeof *Z);
        rg__symmetrise(n, Z);
        memcpy(W, X, n * n * sizeof *W);
        rg__antisymmetrise(n, W);
        double asym = 0.0, anti = 0.0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                assert_true(Z[i * n + j] == 0.5 * (X[i * n + j] + X[j * n + i]));
                assert_true(W[i * n + j] == (i == j ? 0.0 : 0.5 * (X[i * n + j] - X[j * n + i])));
                if (j <= i) {
                    asym = fmax(asym, fabs(X[i * n + j] - X[j * n + i]));
                    anti = fmax(anti, fabs(X[i * n + j] + X[j * n + i]));
                }
            }
        assert_true(rg__asymmetry(n, X, 1.0) == asym);
        assert_true(rg__asymmetry(n, X, -1.0) == anti);
        memcpy(Z, X, n * n * sizeof *Z);
        rg__symmetrise_lower(n, Z);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) assert_true(Z[i * n + j] == X[(j > i ? j : i) * n + (j > i ? i : j)]);
        free(X);
    }
    double nan_x[4] = { 1.0, NAN, 0.0, 1.0 };
    assert_true(isnan(rg__asymmetry(2, nan_x, 1.0)));
    /* a sparse matrix takes the nonzero route: a diagonal plus one unmatched entry on either side */
    enum { S = 50 };
    static double D[S * S];
    for (int i = 0; i < S; i++) D[i * S + i] = 1.0 + i;
    assert_true(rg__asymmetry(S, D, 1.0) == 0.0);
    assert_true(rg__asymmetry(S, D, -1.0) == 2.0 * S); /* |2 D_ii|, largest at i = S - 1 */
    D[3 * S + 40] = 0.25;  /* upper, no partner */
    D[41 * S + 7] = -0.5;  /* lower, no partner */
    assert_true(rg__asymmetry(S, D, 1.0) == 0.5);
    D[41 * S + 7] = NAN;
    assert_true(isnan(rg__asymmetry(S, D, 1.0)));
}

static double shifted_cubic(double t, void *ctx)
{
    (void)ctx;
    return (t - 1.25) * (t * t + 1.0);
}

static void test_brent_bracket(void **state)
{
    (void)state;
    double r = NAN;
    assert_int_equal(rg_linalg_brent_bracket(shifted_cubic, NULL, 0.0, shifted_cubic(0.0, NULL), 3.0,
                                             shifted_cubic(3.0, NULL), 1e-13, &r), RG_OK);
    rg_assert_abs(r, 1.25, 1e-12, "Brent on a known bracket");
    expect_fail(rg_linalg_brent_bracket(shifted_cubic, NULL, 2.0, shifted_cubic(2.0, NULL), 3.0,
                                        shifted_cubic(3.0, NULL), 1e-13, &r), RG_EINVAL, "no sign change");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expm_closed_forms),   cmocka_unit_test(test_expm_vs_taylor),
        cmocka_unit_test(test_expm_bad_input),      cmocka_unit_test(test_vanloan_scalar_ou),
        cmocka_unit_test(test_vanloan_vs_rk4),      cmocka_unit_test(test_vanloan_composition),
        cmocka_unit_test(test_vanloan_limits),      cmocka_unit_test(test_vanloan_bad_input),
        cmocka_unit_test(test_lyap),                cmocka_unit_test(test_eigsym),
        cmocka_unit_test(test_eig_exceptional_point), cmocka_unit_test(test_eig_sorting),
        cmocka_unit_test(test_chol),                cmocka_unit_test(test_whitened_eigs),
        cmocka_unit_test(test_mul_and_symmetry),    cmocka_unit_test(test_brent),
        cmocka_unit_test(test_largest_root),        cmocka_unit_test(test_modal_vs_vanloan),
        cmocka_unit_test(test_modal_small_t),       cmocka_unit_test(test_modal_coordinates),
        cmocka_unit_test(test_modal_blocks),        cmocka_unit_test(test_modal_exceptional_point),
        cmocka_unit_test(test_tiled_helpers),       cmocka_unit_test(test_brent_bracket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
