/* Tests of the forward processes (docs/math.md 2): closed forms against dense Van Loan and against
 * 40-digit mpmath values, the reference values of docs/math.md 9.4, structural properties (semigroup,
 * SPD, limits, Kronecker structure), schedules, forward sampling and bad input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/linalg.h"
#include "regimes/process.h"

#define EPS 2.220446049250313e-16

/* ---- helpers ------------------------------------------------------------------------------------- */

static void expect_fail(int st, int want, const char *word)
{
    assert_int_equal(st, want);
    if (!strstr(rg_strerror_last(), word)) {
        print_error("message '%s' lacks '%s'\n", rg_strerror_last(), word);
        fail();
    }
}

/* splitmix64 (Steele, Lea & Flood 2014): a fixed-seed, hand-written generator for test inputs. */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uniform(uint64_t *s) { return ((double)(splitmix(s) >> 11) + 0.5) * 0x1p-53; } /* (0,1) */
static void normals(uint64_t *s, double *z, size_t n)                                         /* Box-Muller */
{
    for (size_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(uniform(s))), a = 6.283185307179586 * uniform(s);
        z[i] = r * cos(a);
        if (i + 1 < n) z[i + 1] = r * sin(a);
    }
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* C = A B, (n, n), plain loops (independent of the library's BLAS path). */
static void matmul(size_t n, const double *A, const double *B, double *C)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
            C[i * n + j] = s;
        }
}

/* X <- A X A^T + B. */
static void sandwich_add(size_t n, const double *A, const double *X, const double *B, double *out)
{
    double T[64], At[64];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) At[i * n + j] = A[j * n + i];
    matmul(n, A, X, T);
    matmul(n, T, At, out);
    for (size_t i = 0; i < n * n; i++) out[i] += B[i];
}

static rg_process *coupled(double ax, double ay, double gxy, double gyx, size_t d)
{
    double M[4];
    rg_process *p = NULL;
    rg_process_coupling_aniso(ax, ay, gxy, gyx, M);
    assert_int_equal(rg_process_coupled(M, d, &p), RG_OK);
    return p;
}

/* The couplings of the brief and docs/math.md 9.4: cross-drive, diffusive, anisotropic 0.8/0.2, complex
 * (skew 0.5/-0.5), Jordan (one-way 1.0/0), and a non-symmetric one with unequal a. */
static const struct { const char *name; double ax, ay, gxy, gyx; } couplings[] = {
    { "cross 0.5", 1, 1, 0.5, 0.5 },     { "diffusive 0.3", 1.3, 1.3, 0.3, 0.3 },
    { "aniso 0.8/0.2", 1, 1, 0.8, 0.2 }, { "complex 0.5/-0.5", 1, 1, 0.5, -0.5 },
    { "Jordan 1/0", 1, 1, 1.0, 0.0 },    { "cross 0.99", 1, 1, 0.99, 0.99 },
    { "unequal a", 0.3, 2.2, 2.0, -1.5 },
};
#define NCOUP (sizeof couplings / sizeof couplings[0])

/* A non-normal stable 3x3 drift (eigenvalues have Re > 0.5; checked in test_general). */
static const double A3[9] = { 1.2, -0.7, 0.3, 0.4, 0.9, -0.5, 0.1, 0.6, 1.5 };

/* ---- coupling matrices and their check (docs/math.md 2.4, 7.4) ---------------------------------------- */
static void test_coupling_forms(void **state)
{
    (void)state;
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.3, M);
    assert_true(M[0] == 1 && M[1] == -0.3 && M[2] == -0.3 && M[3] == 1);
    rg_process_coupling(RG_COUPLING_DIFFUSIVE, 0.3, M);
    assert_true(M[0] == 1.3 && M[1] == -0.3 && M[2] == -0.3 && M[3] == 1.3);
    rg_process_coupling_aniso(0.9, 1.1, 0.8, 0.2, M);
    assert_true(M[0] == 0.9 && M[1] == -0.8 && M[2] == -0.2 && M[3] == 1.1);
    assert_null(rg_process_coupling_check(M));
    /* Bounds of docs/math.md 7.4: cross |g| < 1, diffusive g > -1/2. */
    rg_process_coupling(RG_COUPLING_CROSS, 0.999, M);
    assert_null(rg_process_coupling_check(M));
    rg_process_coupling(RG_COUPLING_CROSS, -1.0, M);
    assert_non_null(rg_process_coupling_check(M));
    rg_process_coupling(RG_COUPLING_DIFFUSIVE, -0.49, M);
    assert_null(rg_process_coupling_check(M));
    rg_process_coupling(RG_COUPLING_DIFFUSIVE, -0.5, M);
    assert_non_null(rg_process_coupling_check(M));
    rg_process_coupling_aniso(1, 1, 1.2, 1.0, M);
    assert_string_equal(rg_process_coupling_check(M),
                        "coupling has no stationary prior: g_xy g_yx = 1.2 >= a_x a_y = 1");
}

/* ---- stationary covariances: docs/math.md 9.4 and 2.5 ------------------------------------------------ */
static void test_stationary_table(void **state)
{
    (void)state;
    /* docs/math.md 9.4, a_x = a_y = 1: gamma_xy, gamma_yx, S_inf as printed (digits shown), eig(M). */
    static const struct { double gxy, gyx, s00, s01, s11; int d00, d01, d11; double re[2], im[2]; } tab[] = {
        { 0.8, 0.2, 1.476, 0.595, 1.119, 3, 3, 3, { 0.6, 1.4 }, { 0, 0 } },
        { 0.2, 0.8, 1.119, 0.595, 1.476, 3, 3, 3, { 0.6, 1.4 }, { 0, 0 } },
        { 0.4, 0.4, 1.19, 0.476, 1.19, 2, 3, 2, { 0.6, 1.4 }, { 0, 0 } },
        { 0.5, -0.5, 1, 0, 1, 0, 0, 0, { 1, 1 }, { -0.5, 0.5 } },
        { 1.0, 0.0, 1.5, 0.5, 1.0, 1, 1, 1, { 1, 1 }, { 0, 0 } },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        rg_process *p = coupled(1, 1, tab[i].gxy, tab[i].gyx, 4);
        double S[4], re[2], im[2];
        assert_int_equal(rg_process_stationary(p, S), RG_OK);
        rg_assert_digits(S[0], tab[i].s00, tab[i].d00, "S_inf[0][0], MATH 9.4");
        rg_assert_digits(S[1], tab[i].s01, tab[i].d01, "S_inf[0][1], MATH 9.4");
        rg_assert_digits(S[2], tab[i].s01, tab[i].d01, "S_inf[1][0], MATH 9.4");
        rg_assert_digits(S[3], tab[i].s11, tab[i].d11, "S_inf[1][1], MATH 9.4");
        /* Exact rows (skew: I; Jordan: [[1.5,.5],[.5,1]]) to a few eps; the others via the
         * a_x = a_y = 1 form of 2.5: [[1 + aq, q], [q, 1 + bq]], q = (a+b)/(2(1-ab)). */
        double q = (tab[i].gxy + tab[i].gyx) / (2.0 * (1.0 - tab[i].gxy * tab[i].gyx));
        rg_assert_rel(S[0], 1.0 + tab[i].gxy * q, 8 * EPS, "S_inf[0][0] = 1 + a q");
        rg_assert_abs(S[1], q, 8 * EPS, "S_inf[0][1] = q");
        rg_assert_rel(S[3], 1.0 + tab[i].gyx * q, 8 * EPS, "S_inf[1][1] = 1 + b q");
        /* eig(M) of 9.4: 1 +- sqrt(g_xy g_yx); dgeev to ~eps, 1e-7 for the Jordan block, whose
         * double eigenvalue dgeev resolves only to sqrt(eps). */
        assert_int_equal(rg_process_rates(p, re, im), RG_OK);
        for (int j = 0; j < 2; j++) {
            rg_assert_abs(re[j], tab[i].re[j], 1e-7, "Re eig(M), MATH 9.4");
            rg_assert_abs(im[j], tab[i].im[j], 1e-7, "Im eig(M), MATH 9.4");
        }
        double r;
        assert_int_equal(rg_process_relaxation_rate(p, &r), RG_OK);
        assert_true(r == re[0]);
        rg_process_free(p);
    }
}

static void test_stationary_symmetric(void **state)
{
    (void)state;
    /* docs/math.md 2.5: symmetric S_inf = M^{-1} = [[1, g], [g, 1]] / (1 - g^2); diffusive likewise
     * M^{-1} = [[1+g, g], [g, 1+g]] / (1 + 2g). A closed form: a few roundings, 8 eps. */
    const double g[] = { 0.3, -0.7, 0.99, 0.0 };
    for (size_t i = 0; i < 4; i++) {
        double M[4], S[4];
        rg_process *p = NULL;
        rg_process_coupling(RG_COUPLING_CROSS, g[i], M);
        assert_int_equal(rg_process_coupled(M, 1, &p), RG_OK);
        assert_int_equal(rg_process_stationary(p, S), RG_OK);
        double f = 1.0 / (1.0 - g[i] * g[i]);
        rg_assert_rel(S[0], f, 8 * EPS, "cross S_inf[0][0] = 1/(1-g^2)");
        rg_assert_abs(S[1], g[i] * f, 8 * EPS * f, "cross S_inf[0][1] = g/(1-g^2)");
        rg_assert_rel(S[3], f, 8 * EPS, "cross S_inf[1][1]");
        rg_process_free(p);
        if (g[i] <= -0.5) continue;
        rg_process_coupling(RG_COUPLING_DIFFUSIVE, g[i], M);
        assert_int_equal(rg_process_coupled(M, 1, &p), RG_OK);
        assert_int_equal(rg_process_stationary(p, S), RG_OK);
        f = 1.0 / (1.0 + 2.0 * g[i]);
        rg_assert_rel(S[0], (1.0 + g[i]) * f, 8 * EPS, "diffusive S_inf[0][0]");
        rg_assert_abs(S[1], g[i] * f, 8 * EPS * f, "diffusive S_inf[0][1]");
        rg_process_free(p);
    }
}

/* ---- 2x2 closed forms vs dense Van Loan and mpmath ----------------------------------------------- */
static void test_closed_vs_vanloan(void **state)
{
    (void)state;
    /* The same 2x2 M through the closed forms (coupled) and rg_linalg_vanloan. Small t exercises the
     * series and the Van Loan fallback, large t the exponential forms. Both are accurate to a few eps
     * norm-wise (t = 30: exp(-tau t) carries ~ tau t eps of argument error); 1e-12 leaves a margin of
     * 100 over the worst case while a wrong sign or factor is an O(1) error. */
    const double ts[] = { 1e-7, 1e-3, 0.05, 0.4, 1.3, 6.0, 30.0 };
    for (size_t c = 0; c < NCOUP; c++) {
        rg_process *p = coupled(couplings[c].ax, couplings[c].ay, couplings[c].gxy, couplings[c].gyx, 2);
        double M[4];
        rg_process_coupling_aniso(couplings[c].ax, couplings[c].ay, couplings[c].gxy, couplings[c].gyx, M);
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            double E[4], S[4], Ev[4], Sv[4];
            assert_int_equal(rg_process_moments(p, ts[i], E, S), RG_OK);
            assert_int_equal(rg_linalg_vanloan(2, M, NULL, ts[i], Ev, Sv), RG_OK);
            rg_assert_vec_rel(E, Ev, 4, 1e-12, couplings[c].name);
            rg_assert_vec_rel(S, Sv, 4, 1e-12, couplings[c].name);
            assert_true(S[1] == S[2]);
        }
        rg_process_free(p);
    }
}

static void test_closed_vs_mpmath(void **state)
{
    (void)state;
    /* M = [[1, -0.8], [-0.2, 1]] (MATH 9.4 row 1). References: mpmath 1.3, 40 digits, expm of the
     * 4x4 Van Loan block [[-M t, 2 t I], [0, M^T t]], S = F12 F11^T. Tolerance: t = 0.7 uses the
     * closed forms (a few eps; 2e-15 relative), t = 1e-4 the series for E (same) and Van Loan for S,
     * whose relative accuracy on the 1e-8 off-diagonal is limited to ~eps of the 2e-4 diagonal:
     * checked norm-wise at 1e-13. */
    rg_process *p = coupled(1, 1, 0.8, 0.2, 3);
    double E[4], S[4];
    assert_int_equal(rg_process_moments(p, 0.7, E, S), RG_OK);
    const double E07[4] = { 0.51617895933322816016, 0.28173572096365724289, 0.070433930240914310722,
                            0.51617895933322816016 };
    const double S07[4] = { 0.82092255104137017991, 0.20842285695827040738, 0.20842285695827040738,
                            0.77028291480413768727 };
    for (int i = 0; i < 4; i++) {
        rg_assert_rel(E[i], E07[i], 2e-15, "E_0.7 vs mpmath");
        rg_assert_rel(S[i], S07[i], 2e-15, "S_0.7 vs mpmath");
    }
    assert_int_equal(rg_process_moments(p, 1e-4, E, S), RG_OK);
    const double E4[4] = { 0.99990000579975334161, 0.000079992000421317867108, 0.000019998000105329466777,
                           0.99990000579975334161 };
    const double S4[4] = { 0.00019998000186652000924, 9.9986667719938136278e-9, 9.9986667719938136278e-9,
                           0.00019998000146658000431 };
    for (int i = 0; i < 4; i++) rg_assert_rel(E[i], E4[i], 2e-15, "E_1e-4 vs mpmath");
    rg_assert_vec_rel(S, S4, 4, 1e-13, "S_1e-4 vs mpmath");
    rg_process_free(p);
}

static void test_one_way(void **state)
{
    (void)state;
    /* docs/math.md 2.5: gamma_yx = 0, a = 1: e^{-Mt} = e^{-t} [[1, gamma t], [0, 1]] (the Jordan branch,
     * omega = 0, series with w = 0). Closed form both sides: 4 eps. */
    const double g = 0.7, ts[] = { 0.01, 0.5, 2.0, 9.0 };
    rg_process *p = coupled(1, 1, g, 0, 1);
    for (size_t i = 0; i < 4; i++) {
        double E[4], e = exp(-ts[i]);
        assert_int_equal(rg_process_moments(p, ts[i], E, NULL), RG_OK);
        rg_assert_rel(E[0], e, 4 * EPS, "one-way E[0][0] = e^{-t}");
        rg_assert_rel(E[1], e * g * ts[i], 4 * EPS, "one-way E[0][1] = g t e^{-t}");
        assert_true(E[2] == 0.0);
        rg_assert_rel(E[3], e, 4 * EPS, "one-way E[1][1] = e^{-t}");
    }
    rg_process_free(p);
}

static void test_ou(void **state)
{
    (void)state;
    rg_process *p = NULL;
    assert_int_equal(rg_process_ou(5, &p), RG_OK);
    assert_int_equal(rg_process_kind_of(p), RG_PROCESS_OU);
    assert_int_equal(rg_process_core(p), 1);
    assert_int_equal(rg_process_mult(p), 5);
    assert_int_equal(rg_process_dim(p), 5);
    assert_false(rg_process_is_scheduled(p));
    assert_null(rg_process_nonrev_U(p));
    /* docs/math.md 1.2: E = e^{-t}, S = 1 - e^{-2t}; at t = 1e-9, S = 2e-9 (1 - 1e-9 + ...) to full
     * precision (bc -l: 1.999999998000000001333e-9). 2 eps: one expm1, one exp. */
    double E, S;
    assert_int_equal(rg_process_moments(p, 1e-9, &E, &S), RG_OK);
    rg_assert_rel(S, 1.999999998000000001333e-9, 2 * EPS, "OU S at t = 1e-9");
    assert_int_equal(rg_process_moments(p, 0.8, &E, &S), RG_OK);
    rg_assert_rel(E, 0.44932896411722159143, 2 * EPS, "OU E = e^{-0.8} (bc -l)");
    rg_assert_rel(S, 0.79810348200534446497, 2 * EPS, "OU S = 1 - e^{-1.6} (bc -l)");
    rg_process_free(p);
    /* STYLE.md 11's table: Var = (1 - e^{-2 lambda t}) / lambda through the k = 1 schedule path
     * (digits confirmed with mpmath, 40 digits). */
    static const struct { double lambda, t, want; } ou_var[] = {
        { 1.37, 0.0213, 0.041380724103505018 }, { 1.37, 1e-9, 1.9999999972600000e-9 },
        { 0.2, 7.5, 4.7510646581606803 },       { 3.1, 40.0, 0.32258064516129032 },
    };
    for (size_t i = 0; i < 4; i++) {
        double knot = 1.0;
        rg_schedule s = { RG_SCHEDULE_PIECEWISE, 1, &knot, &ou_var[i].lambda };
        assert_int_equal(rg_process_scheduled(1, 2, &s, &p), RG_OK);
        assert_int_equal(rg_process_moments(p, ou_var[i].t, NULL, &S), RG_OK);
        rg_assert_rel(S, ou_var[i].want, 8 * EPS, "(1 - e^{-2 lambda t}) / lambda");
        rg_process_free(p);
    }
}

/* ---- structural properties ---------------------------------------------------------------------- */

/* Processes of every kind for the property tests; n = core size. */
static rg_process *make_kind(int which)
{
    rg_process *p = NULL;
    static const double U4[16] = { 2.0, 0.3, -0.2, 0.1, 0.3, 1.5, 0.4, 0.0, -0.2, 0.4, 1.2, 0.2, 0.1, 0.0, 0.2, 0.9 };
    static const double Q4[16] = { 0, 0.8, -0.3, 1.1, -0.8, 0, 0.5, -0.2, 0.3, -0.5, 0, 0.7, -1.1, 0.2, -0.7, 0 };
    switch (which) {
    case 0: assert_int_equal(rg_process_ou(3, &p), RG_OK); break;
    case 1: p = coupled(1, 1, 0.8, 0.2, 2); break;
    case 2: p = coupled(1, 1, 0.5, -0.5, 2); break;
    case 3: p = coupled(0.3, 2.2, 2.0, -1.5, 2); break;
    case 4: assert_int_equal(rg_process_nonrev(4, U4, Q4, &p), RG_OK); break;
    default: assert_int_equal(rg_process_general(3, A3, &p), RG_OK); break;
    }
    return p;
}
#define NKINDS 6

static void test_semigroup(void **state)
{
    (void)state;
    /* docs/math.md 2.1: M_{t+s} = M_t M_s and Sigma_{t+s} = M_s Sigma_t M_s^T + Sigma_s (constant A).
     * Each side is a few-eps computation of O(1) matrices: 1e-12 relative to the largest entry. */
    const double pairs[][2] = { { 0.3, 0.45 }, { 1e-3, 2.0 }, { 1.7, 3.1 } };
    for (int w = 0; w < NKINDS; w++) {
        rg_process *p = make_kind(w);
        size_t k = rg_process_core(p);
        for (size_t i = 0; i < 3; i++) {
            double t = pairs[i][0], s = pairs[i][1];
            double Mt[16], St[16], Ms[16], Ss[16], Mts[16], Sts[16], prod[16], comp[16];
            assert_int_equal(rg_process_moments(p, t, Mt, St), RG_OK);
            assert_int_equal(rg_process_moments(p, s, Ms, Ss), RG_OK);
            assert_int_equal(rg_process_moments(p, t + s, Mts, Sts), RG_OK);
            matmul(k, Mt, Ms, prod);
            rg_assert_vec_rel(prod, Mts, k * k, 1e-12, "M_t M_s = M_{t+s}");
            sandwich_add(k, Ms, St, Ss, comp);
            rg_assert_vec_rel(comp, Sts, k * k, 1e-12, "M_s S_t M_s^T + S_s = S_{t+s}");
        }
        rg_process_free(p);
    }
}

static void test_dense_lyapunov_vs_vanloan(void **state)
{
    (void)state;
    /* docs/math.md 2.2: dense stable drifts take the modal form (rg_process_moments) and, on the naive path
     * (rg_process_moments_naive), S_t = S_inf - M_t S_inf M_t^T where that keeps its digits (at most 3
     * bits lost) and Van Loan with doubling elsewhere. All against rg_linalg_vanloan at times on either
     * side of both switches: a few eps of O(1) matrices times 8: 1e-12. */
    const double ts[] = { 1e-3, 0.05, 0.3, 1.0, 5.0, 30.0 };
    for (int w = 4; w < NKINDS; w++) {
        rg_process *p = make_kind(w);
        size_t k = rg_process_core(p);
        double A[16], M[16], S[16], Mv[16], Sv[16];
        assert_non_null(rg_process_modal(p));
        assert_int_equal(rg_process_drift(p, 0.0, A), RG_OK);
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            assert_int_equal(rg_linalg_vanloan(k, A, NULL, ts[i], Mv, Sv), RG_OK);
            assert_int_equal(rg_process_moments(p, ts[i], M, S), RG_OK);
            rg_assert_vec_rel(M, Mv, k * k, 1e-12, "dense M_t (modal) vs Van Loan");
            rg_assert_vec_rel(S, Sv, k * k, 1e-12, "dense Sigma_t (modal) vs Van Loan");
            assert_int_equal(rg_process_moments_naive(p, ts[i], M, S), RG_OK);
            rg_assert_vec_rel(M, Mv, k * k, 1e-12, "dense M_t (expm) vs Van Loan");
            rg_assert_vec_rel(S, Sv, k * k, 1e-12, "dense Sigma_t (Lyapunov form) vs Van Loan");
        }
        rg_process_free(p);
    }
}

static void test_modal_nonrev_random(void **state)
{
    (void)state;
    /* A random nonrev drift (n = 9: U = B B^T / 9 + 0.3 I, Q antisymmetric N(0, 1)) is factored once
     * (rg_process_modal) and its moments match the naive path (expm, Lyapunov form, Van Loan) to
     * 1e-12 at every time; its rates equal dgeev's without vectors (1e-13: the two runs of the QR
     * algorithm differ in rounding only). */
    enum { N = 9 };
    uint64_t seed = 20240917;
    double B[N * N], U[N * N], Q[N * N], M[N * N], S[N * N], Mn[N * N], Sn[N * N], A[N * N];
    double re[N], im[N], wr[N], wi[N];
    normals(&seed, B, N * N);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double acc = i == j ? 0.3 : 0.0;
            for (int l = 0; l < N; l++) acc += B[i * N + l] * B[j * N + l] / N;
            U[i * N + j] = acc;
        }
    normals(&seed, Q, N * N);
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) {
            Q[i * N + j] = i == j ? 0.0 : Q[i * N + j];
            Q[j * N + i] = -Q[i * N + j];
        }
    rg_process *p = NULL;
    assert_int_equal(rg_process_nonrev(N, U, Q, &p), RG_OK);
    assert_non_null(rg_process_modal(p));
    const double ts[] = { 1e-6, 0.02, 0.4, 1.7, 9.0, 60.0 };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        assert_int_equal(rg_process_moments(p, ts[i], M, S), RG_OK);
        assert_int_equal(rg_process_moments_naive(p, ts[i], Mn, Sn), RG_OK);
        rg_assert_vec_rel(M, Mn, N * N, 1e-12, "nonrev M_t: modal vs naive");
        rg_assert_vec_rel(S, Sn, N * N, 1e-12, "nonrev Sigma_t: modal vs naive");
    }
    assert_int_equal(rg_process_rates(p, re, im), RG_OK);
    assert_int_equal(rg_process_drift(p, 0.0, A), RG_OK);
    assert_int_equal(rg_linalg_eig(N, A, wr, wi), RG_OK);
    for (int i = 0; i < N; i++) {
        rg_assert_abs(re[i], wr[i], 1e-13, "rates from the modal form vs dgeev, real part");
        rg_assert_abs(im[i], wi[i], 1e-13, "rates from the modal form vs dgeev, imaginary part");
    }
    rg_process_free(p);
}

static void test_modal_exceptional_point(void **state)
{
    (void)state;
    /* docs/math.md 4.5: U = diag(0.2, 1.8), Q = q [[0, 1], [-1, 0]] is defective at q* = 4/3. There the
     * modal factorisation is refused (its Lyapunov check fails) and the moments keep Van Loan, which
     * must equal the Jordan closed form of docs/math.md 2.5: e^{-At} = e^{-t} (I - t M0), M0 = A - I, and
     * Sigma_t = U^-1 - E U^-1 E^T (10 digits: Van Loan at a Jordan block; the closed form has no
     * cancellation at these t). Just off q* (1e-4) the modal form is kept and agrees with the naive
     * path to 1e-10 (tests/test_linalg.c measures the error growth). */
    const double u1 = 0.2, u2 = 1.8, U[4] = { u1, 0, 0, u2 };
    double q = 4.0 / 3.0, Q[4] = { 0, q, -q, 0 };
    rg_process *p = NULL;
    assert_int_equal(rg_process_nonrev(2, U, Q, &p), RG_OK);
    assert_null(rg_process_modal(p));
    const double ts[] = { 0.01, 0.5, 2.0, 7.0 };
    for (size_t i = 0; i < 4; i++) {
        double t = ts[i], E[4], S[4], M0[4] = { u1 - 1.0, q * u2, -q * u1, u2 - 1.0 }, Ew[4], Sw[4];
        for (int j = 0; j < 4; j++) Ew[j] = exp(-t) * ((j == 0 || j == 3 ? 1.0 : 0.0) - t * M0[j]);
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) /* U^-1 - E U^-1 E^T, U^-1 = diag(1/u1, 1/u2) */
                Sw[a * 2 + b] = (a == b ? 1.0 / (a ? u2 : u1) : 0.0) - Ew[a * 2] * Ew[b * 2] / u1 -
                                Ew[a * 2 + 1] * Ew[b * 2 + 1] / u2;
        assert_int_equal(rg_process_moments(p, t, E, S), RG_OK);
        rg_assert_vec_rel(E, Ew, 4, 1e-10, "Jordan closed form, E_t");
        rg_assert_vec_rel(S, Sw, 4, 1e-10, "Jordan closed form, Sigma_t");
    }
    rg_process_free(p);
    q *= 1.0 + 1e-4;
    Q[1] = q, Q[2] = -q;
    assert_int_equal(rg_process_nonrev(2, U, Q, &p), RG_OK);
    assert_non_null(rg_process_modal(p));
    for (size_t i = 0; i < 4; i++) {
        double E[4], S[4], En[4], Sn[4];
        assert_int_equal(rg_process_moments(p, ts[i], E, S), RG_OK);
        assert_int_equal(rg_process_moments_naive(p, ts[i], En, Sn), RG_OK);
        rg_assert_vec_rel(E, En, 4, 1e-10, "near q*: modal E_t vs naive");
        rg_assert_vec_rel(S, Sn, 4, 1e-10, "near q*: modal Sigma_t vs naive");
    }
    rg_process_free(p);
}

static void test_modal_schedule(void **state)
{
    (void)state;
    /* A k = 3 piecewise schedule factors each knot's drift once; its moments (segment composition on
     * the modal forms) match the naive composition on Van Loan to 1e-12. */
    double As[18], M[9], S[9], Mn[9], Sn[9];
    memcpy(As, A3, sizeof A3);
    for (int i = 0; i < 9; i++) As[9 + i] = A3[(i % 3) * 3 + i / 3] + (i % 4 == 0 ? 0.5 : 0.0); /* A3^T + diag */
    const double knots[2] = { 0.7, INFINITY };
    rg_schedule s = { RG_SCHEDULE_PIECEWISE, 2, knots, As };
    rg_process *p = NULL, *g = NULL;
    for (int j = 0; j < 2; j++) { /* each knot's drift alone is factored (so the knots are too) */
        assert_int_equal(rg_process_general(3, As + 9 * j, &g), RG_OK);
        assert_non_null(rg_process_modal(g));
        rg_process_free(g);
    }
    assert_int_equal(rg_process_scheduled(3, 1, &s, &p), RG_OK);
    assert_null(rg_process_modal(p)); /* schedules keep their factors per knot */
    const double ts[] = { 0.3, 0.7, 1.1, 4.0 };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rg_process_moments(p, ts[i], M, S), RG_OK);
        assert_int_equal(rg_process_moments_naive(p, ts[i], Mn, Sn), RG_OK);
        rg_assert_vec_rel(M, Mn, 9, 1e-12, "schedule M_t: modal segments vs Van Loan");
        rg_assert_vec_rel(S, Sn, 9, 1e-12, "schedule Sigma_t: modal segments vs Van Loan");
    }
    rg_process_free(p);
}

static void test_sigma_spd_and_limit(void **state)
{
    (void)state;
    /* docs/math.md 2.2: Sigma_t is SPD for t > 0 (Cholesky succeeds with a positive diagonal, from 2t I at
     * t = 1e-8 to the stationary size) and tends to Sigma_inf: every process here has rate >= 0.4,
     * so at t = 80 the gap ~ C e^{-2 r t} < 1e-27: equal to 1e-13 (the size of the rounding). */
    const double ts[] = { 1e-8, 0.01, 0.5, 3.0 };
    for (int w = 0; w < NKINDS; w++) {
        rg_process *p = make_kind(w);
        size_t k = rg_process_core(p);
        double L[16], S[16], Sinf[16], r;
        assert_int_equal(rg_process_relaxation_rate(p, &r), RG_OK);
        assert_true(r >= 0.4);
        for (size_t i = 0; i < 4; i++) {
            assert_int_equal(rg_process_chol(p, ts[i], L), RG_OK);
            for (size_t j = 0; j < k; j++) assert_true(L[j * k + j] > 0.0);
            assert_int_equal(rg_process_moments(p, ts[i], NULL, S), RG_OK);
            for (size_t a = 0; a < k; a++)
                for (size_t b = 0; b < k; b++) assert_true(S[a * k + b] == S[b * k + a]);
        }
        /* small t: Sigma_t = 2t I + O(t^2): at t = 1e-8 the O(t^2) part is ~1e-8 relative */
        assert_int_equal(rg_process_moments(p, 1e-8, NULL, S), RG_OK);
        for (size_t j = 0; j < k; j++) rg_assert_rel(S[j * k + j], 2e-8, 1e-7, "Sigma_t ~ 2t I");
        assert_int_equal(rg_process_moments(p, 80.0, NULL, S), RG_OK);
        assert_int_equal(rg_process_stationary(p, Sinf), RG_OK);
        rg_assert_vec_rel(S, Sinf, k * k, 1e-13, "Sigma_80 = Sigma_inf");
        rg_process_free(p);
    }
}

static void test_kron_dense(void **state)
{
    (void)state;
    /* STYLE.md 8: the 2x2 coupled algebra vs the dense 2d x 2d matrix M (x) I_d, d = 3, through the
     * general process (dense Van Loan, Bartels-Stewart, dgeev). Index (i, j) of the (2, d) state is
     * i d + j in both. 1e-12: a few eps of O(1) matrices with a margin. */
    enum { D = 3, N = 2 * D };
    const double ts[] = { 0.01, 0.5, 3.0 };
    for (size_t c = 2; c < 4; c++) {
        rg_process *p = coupled(couplings[c].ax, couplings[c].ay, couplings[c].gxy, couplings[c].gyx, D);
        double M[4], A[N * N] = { 0 };
        rg_process_coupling_aniso(couplings[c].ax, couplings[c].ay, couplings[c].gxy, couplings[c].gyx, M);
        for (size_t a = 0; a < 2; a++)
            for (size_t b = 0; b < 2; b++)
                for (size_t j = 0; j < D; j++) A[(a * D + j) * N + b * D + j] = M[a * 2 + b];
        rg_process *g = NULL;
        assert_int_equal(rg_process_general(N, A, &g), RG_OK);
        assert_int_equal(rg_process_dim(p), N);
        assert_int_equal(rg_process_dim(g), N);
        for (size_t i = 0; i < 3; i++) {
            double E[4], S[4], Eg[N * N], Sg[N * N], Ek[N * N] = { 0 }, Sk[N * N] = { 0 };
            assert_int_equal(rg_process_moments(p, ts[i], E, S), RG_OK);
            assert_int_equal(rg_process_moments(g, ts[i], Eg, Sg), RG_OK);
            for (size_t a = 0; a < 2; a++)
                for (size_t b = 0; b < 2; b++)
                    for (size_t j = 0; j < D; j++) {
                        Ek[(a * D + j) * N + b * D + j] = E[a * 2 + b];
                        Sk[(a * D + j) * N + b * D + j] = S[a * 2 + b];
                    }
            rg_assert_vec_rel(Eg, Ek, N * N, 1e-12, "E (x) I_d vs dense");
            rg_assert_vec_rel(Sg, Sk, N * N, 1e-12, "S (x) I_d vs dense");
            /* forward sample: (E (x) I) z0 + (chol S (x) I) xi vs the dense N-vector version */
            double z0[N], xi[N], zc[N], zg[N];
            uint64_t seed = 7 + i;
            normals(&seed, z0, N);
            normals(&seed, xi, N);
            assert_int_equal(rg_process_sample(p, ts[i], z0, xi, zc), RG_OK);
            assert_int_equal(rg_process_sample(g, ts[i], z0, xi, zg), RG_OK);
            rg_assert_vec_rel(zc, zg, N, 1e-12, "sample: (k, r) layout vs dense");
        }
        double S[4], Sg[N * N], re[2], im[2], reg[N], img[N];
        assert_int_equal(rg_process_stationary(p, S), RG_OK);
        assert_int_equal(rg_process_stationary(g, Sg), RG_OK);
        for (size_t j = 0; j < D; j++) rg_assert_rel(Sg[j * N + j], S[0], 1e-12, "S_inf (x) I_d vs dense");
        rg_assert_rel(Sg[D], S[1], 1e-12, "S_inf[x][y] vs dense");
        /* rates: each 2x2 eigenvalue d times. Equal real parts sort in rounding order, so the
         * imaginary parts are compared as sorted sets. Semi-simple eigenvalues: dgeev to ~eps. */
        double imk[N];
        assert_int_equal(rg_process_rates(p, re, im), RG_OK);
        assert_int_equal(rg_process_rates(g, reg, img), RG_OK);
        for (size_t j = 0; j < N; j++) imk[j] = im[j / D];
        qsort(img, N, sizeof *img, cmp_double);
        qsort(imk, N, sizeof *imk, cmp_double);
        for (size_t j = 0; j < N; j++) {
            rg_assert_abs(reg[j], re[j / D], 1e-12, "Re rates (x) I_d vs dense");
            rg_assert_abs(img[j], imk[j], 1e-12, "Im rates (x) I_d vs dense");
        }
        rg_process_free(p);
        rg_process_free(g);
    }
}

/* ---- non-reversible drift (docs/math.md 2.6) ------------------------------------------------------------ */
enum { NR = 5 };

/* U = B B^T / n + I (eigenvalues >= 1) and Q = C - C^T from fixed-seed normals. */
static void random_uq(uint64_t seed, double *U, double *Q)
{
    double B[NR * NR], C[NR * NR];
    normals(&seed, B, NR * NR);
    normals(&seed, C, NR * NR);
    for (size_t i = 0; i < NR; i++)
        for (size_t j = 0; j < NR; j++) {
            double s = i == j ? 1.0 : 0.0;
            for (size_t k = 0; k < NR; k++) s += B[i * NR + k] * B[j * NR + k] / NR;
            U[i * NR + j] = s;
            Q[i * NR + j] = C[i * NR + j] - C[j * NR + i];
        }
}

static void test_nonrev_stationary(void **state)
{
    (void)state;
    double U[NR * NR], Q[NR * NR], Uinv[NR * NR] = { 0 }, LU[NR * NR], S[NR * NR], St[NR * NR], A[NR * NR];
    lapack_int piv[NR];
    random_uq(20240917, U, Q);
    /* U^{-1} by LU (dgesv on I), independent of the Cholesky path in the library. */
    memcpy(LU, U, sizeof U);
    for (size_t i = 0; i < NR; i++) Uinv[i * NR + i] = 1.0;
    assert_int_equal(LAPACKE_dgesv(LAPACK_ROW_MAJOR, NR, NR, LU, NR, piv, Uinv, NR), 0);
    rg_process *p = NULL;
    assert_int_equal(rg_process_nonrev(NR, U, Q, &p), RG_OK);
    assert_int_equal(rg_process_kind_of(p), RG_PROCESS_NONREV);
    assert_int_equal(rg_process_dim(p), NR);
    assert_memory_equal(rg_process_nonrev_U(p), U, sizeof U); /* exactly symmetric input: kept as is */
    assert_memory_equal(rg_process_nonrev_Q(p), Q, sizeof Q);
    /* docs/math.md 2.6: Sigma_inf = U^{-1} for every antisymmetric Q. cond(U) ~ 5: 1e-12 is ~500 eps. */
    assert_int_equal(rg_process_stationary(p, S), RG_OK);
    rg_assert_vec_rel(S, Uinv, NR * NR, 1e-12, "nonrev Sigma_inf = U^{-1}");
    /* ... it solves A S + S A^T = 2I with A = (I + Q) U (n-term sums of O(10) terms: 1e-12) */
    assert_int_equal(rg_process_drift(p, 0.0, A), RG_OK);
    double AS[NR * NR];
    matmul(NR, A, S, AS);
    for (size_t i = 0; i < NR; i++)
        for (size_t j = 0; j < NR; j++)
            rg_assert_abs(AS[i * NR + j] + AS[j * NR + i], i == j ? 2.0 : 0.0, 1e-12, "A S + S A^T = 2I");
    /* ... and the dynamics reach it: r(A) >= lambda_min(U) >= 1, so at t = 60 the gap is < e^{-120}. */
    double r;
    assert_int_equal(rg_process_relaxation_rate(p, &r), RG_OK);
    assert_true(r >= 1.0 - 1e-12);
    assert_int_equal(rg_process_moments(p, 60.0, NULL, St), RG_OK);
    rg_assert_vec_rel(St, Uinv, NR * NR, 1e-12, "nonrev Sigma_60 = U^{-1}");
    rg_process_free(p);
    /* Q = NULL: the reversible process, Q reported as zeros, A = U. */
    assert_int_equal(rg_process_nonrev(NR, U, NULL, &p), RG_OK);
    for (size_t i = 0; i < NR * NR; i++) assert_true(rg_process_nonrev_Q(p)[i] == 0.0);
    assert_int_equal(rg_process_drift(p, 3.0, A), RG_OK);
    assert_memory_equal(A, U, sizeof U);
    rg_process_free(p);
}

static void test_nonrev_isotropic(void **state)
{
    (void)state;
    /* docs/math.md 2.6: U = u I leaves Sigma_t = ((1 - e^{-2ut}) / u) I for any Q, and M_t = e^{-ut} R_t with
     * R_t orthogonal. Van Loan to a few eps of O(1): 1e-12. */
    const double u = 1.7, ts[] = { 0.01, 0.3, 2.0, 10.0 };
    double U[NR * NR] = { 0 }, Q[NR * NR], dummy[NR * NR];
    random_uq(99, dummy, Q);
    for (size_t i = 0; i < NR; i++) U[i * NR + i] = u;
    rg_process *p = NULL;
    assert_int_equal(rg_process_nonrev(NR, U, Q, &p), RG_OK);
    for (size_t i = 0; i < 4; i++) {
        double E[NR * NR], S[NR * NR], EEt[NR * NR], Et[NR * NR];
        assert_int_equal(rg_process_moments(p, ts[i], E, S), RG_OK);
        double v = -expm1(-2.0 * u * ts[i]) / u, e2 = exp(-2.0 * u * ts[i]);
        for (size_t a = 0; a < NR; a++)
            for (size_t b = 0; b < NR; b++) {
                rg_assert_abs(S[a * NR + b], a == b ? v : 0.0, 1e-12 * v, "isotropic U: Sigma_t unchanged");
                Et[a * NR + b] = E[b * NR + a];
            }
        matmul(NR, E, Et, EEt);
        for (size_t a = 0; a < NR; a++)
            for (size_t b = 0; b < NR; b++)
                rg_assert_abs(EEt[a * NR + b], a == b ? e2 : 0.0, 1e-12 * e2, "M_t M_t^T = e^{-2ut} I");
    }
    double r;
    assert_int_equal(rg_process_relaxation_rate(p, &r), RG_OK);
    rg_assert_rel(r, u, 1e-12, "isotropic U: relaxation rate u");
    rg_process_free(p);
}

/* ---- schedules (docs/math.md 2.3, 7.5) ------------------------------------------------------------------ */

/* Compare a schedule built from 3 equal knots with the constant process. */
static void check_constant_schedule(size_t k, const double *A, const rg_process *ref, rg_schedule_interp how,
                                    double tol)
{
    const double knots[3] = { 0.5, 1.2, 2.0 }, ts[] = { 0.3, 0.5, 0.9, 1.7, 2.5, 6.0 };
    enum { NT = sizeof ts / sizeof ts[0] };
    double As[27], Mg[NT * 9], Sg[NT * 9], E[9], S[9], E1[9], S1[9];
    for (size_t i = 0; i < 3; i++) memcpy(As + i * k * k, A, k * k * sizeof *A);
    rg_schedule s = { how, 3, knots, As };
    rg_process *p = NULL;
    assert_int_equal(rg_process_scheduled(k, 3, &s, &p), RG_OK);
    assert_true(rg_process_is_scheduled(p));
    assert_int_equal(rg_process_moments_grid(p, NT, ts, Mg, Sg), RG_OK);
    for (size_t i = 0; i < NT; i++) {
        assert_int_equal(rg_process_moments(ref, ts[i], E, S), RG_OK);
        rg_assert_vec_rel(Mg + i * k * k, E, k * k, tol, "constant schedule E (grid)");
        rg_assert_vec_rel(Sg + i * k * k, S, k * k, tol, "constant schedule S (grid)");
        assert_int_equal(rg_process_moments(p, ts[i], E1, S1), RG_OK); /* one time, its own pass */
        rg_assert_vec_rel(E1, E, k * k, tol, "constant schedule E (single)");
        rg_assert_vec_rel(S1, S, k * k, tol, "constant schedule S (single)");
    }
    rg_process_free(p);
}

static void test_schedule_constant(void **state)
{
    (void)state;
    /* docs/math.md 2.3: a constant schedule matches 2.2 to 1e-9. Piecewise composes exact segments (a few
     * eps per segment: 1e-13); linear runs Dormand-Prince at rtol 1e-10 between knots: 1e-9. k = 2
     * takes the closed forms, k = 3 dense Van Loan. */
    double M[4];
    rg_process_coupling_aniso(1, 1, 0.8, 0.2, M);
    rg_process *ref = NULL;
    assert_int_equal(rg_process_coupled(M, 3, &ref), RG_OK);
    check_constant_schedule(2, M, ref, RG_SCHEDULE_PIECEWISE, 1e-13);
    check_constant_schedule(2, M, ref, RG_SCHEDULE_LINEAR, 1e-9);
    rg_process_free(ref);
    assert_int_equal(rg_process_general(3, A3, &ref), RG_OK);
    check_constant_schedule(3, A3, ref, RG_SCHEDULE_PIECEWISE, 1e-13);
    check_constant_schedule(3, A3, ref, RG_SCHEDULE_LINEAR, 1e-9);
    rg_process_free(ref);
}

/* (a_c, a_d) and (D_c, D_d) of the common/difference modes into E and S (docs/math.md 3.2, 7.5):
 * B = b_c P_c + b_d P_d, P_c = [[1,1],[1,1]]/2, P_d = [[1,-1],[-1,1]]/2. */
static void modes_to_matrix(double bc, double bd, double *B)
{
    B[0] = B[3] = 0.5 * (bc + bd);
    B[1] = B[2] = 0.5 * (bc - bd);
}

static void test_schedule_commuting(void **state)
{
    (void)state;
    /* docs/math.md 7.5: gamma(t) = 0 for t < 1, g1 = -0.4 after (symmetric cross-drive, as 9.5). The modes
     * decouple: a_k = e^{-L_k}, Delta_k = Delta_k(1) e^{-2 lambda_k (t-1)} + (1 - e^{-2 lambda_k (t-1)})
     * / lambda_k with lambda_c = 1 - g1, lambda_d = 1 + g1. Exact composition vs closed form: 1e-13. */
    const double g1 = -0.4, knots[2] = { 1.0, INFINITY }, ts[] = { 0.6, 1.0, 2.3, 5.0 };
    double As[8];
    rg_process_coupling(RG_COUPLING_CROSS, 0.0, As);
    rg_process_coupling(RG_COUPLING_CROSS, g1, As + 4);
    rg_schedule s = { RG_SCHEDULE_PIECEWISE, 2, knots, As };
    rg_process *p = NULL;
    assert_int_equal(rg_process_scheduled(2, 10, &s, &p), RG_OK);
    for (size_t i = 0; i < 4; i++) {
        double t = ts[i], lam[2] = { 1.0 - g1, 1.0 + g1 }, a[2], D[2], E[4], S[4], Ew[4], Sw[4];
        for (int m = 0; m < 2; m++) {
            double h = fmax(t - 1.0, 0.0), t0 = fmin(t, 1.0), D1 = -expm1(-2.0 * t0);
            a[m] = exp(-t0 - lam[m] * h);
            D[m] = D1 * exp(-2.0 * lam[m] * h) - expm1(-2.0 * lam[m] * h) / lam[m];
        }
        modes_to_matrix(a[0], a[1], Ew);
        modes_to_matrix(D[0], D[1], Sw);
        assert_int_equal(rg_process_moments(p, t, E, S), RG_OK);
        rg_assert_vec_rel(E, Ew, 4, 1e-13, "commuting step schedule: E");
        rg_assert_vec_rel(S, Sw, 4, 1e-13, "commuting step schedule: S");
    }
    rg_process_free(p);

    /* Linear ramp gamma: 0 at t = 0.5 to 0.6 at t = 2 (constant outside). a_k = e^{-L_k(t)} and
     * Delta_k = 2 int_0^t e^{-2 (L_k(t) - L_k(s))} ds by mpmath quadrature (40 digits, split at the
     * knots). Dormand-Prince at rtol 1e-10 over a few units of time: 1e-9. */
    const double kl[2] = { 0.5, 2.0 };
    rg_process_coupling(RG_COUPLING_CROSS, 0.6, As + 4);
    rg_schedule sl = { RG_SCHEDULE_LINEAR, 2, kl, As };
    assert_int_equal(rg_process_scheduled(2, 1, &sl, &p), RG_OK);
    static const struct { double t, ac, Dc, ad, Dd; } ref[] = {
        { 1.3, 0.30974682770322080753, 1.082258242630834867, 0.2397880190253246922, 0.79746453815265166716 },
        { 3.0, 0.14227407158651357185, 2.0609667061571055552, 0.017422374639493511387, 0.62730736757168636422 },
    };
    double tg[2] = { 1.3, 3.0 }, Mg[8], Sg[8];
    assert_int_equal(rg_process_moments_grid(p, 2, tg, Mg, Sg), RG_OK);
    for (size_t i = 0; i < 2; i++) {
        double Ew[4], Sw[4];
        modes_to_matrix(ref[i].ac, ref[i].ad, Ew);
        modes_to_matrix(ref[i].Dc, ref[i].Dd, Sw);
        rg_assert_vec_rel(Mg + 4 * i, Ew, 4, 1e-9, "linear commuting schedule: E vs quadrature");
        rg_assert_vec_rel(Sg + 4 * i, Sw, 4, 1e-9, "linear commuting schedule: S vs quadrature");
    }
    rg_process_free(p);
}

static double ramp_error(double eps, const double *As)
{
    /* step at t = 1 (piecewise) vs a linear ramp over [1 - eps/2, 1 + eps/2]; max-abs difference of
     * E and S at t = 2.5, relative to the largest entry. */
    const double kp[2] = { 1.0, INFINITY }, kl[2] = { 1.0 - 0.5 * eps, 1.0 + 0.5 * eps };
    rg_schedule sp = { RG_SCHEDULE_PIECEWISE, 2, kp, As }, sl = { RG_SCHEDULE_LINEAR, 2, kl, As };
    rg_process *p = NULL, *q = NULL;
    double Ep[4], Sp[4], El[4], Sl[4], err = 0.0, scale = 0.0;
    assert_int_equal(rg_process_scheduled(2, 1, &sp, &p), RG_OK);
    assert_int_equal(rg_process_scheduled(2, 1, &sl, &q), RG_OK);
    assert_int_equal(rg_process_moments(p, 2.5, Ep, Sp), RG_OK);
    assert_int_equal(rg_process_moments(q, 2.5, El, Sl), RG_OK);
    for (int i = 0; i < 4; i++) {
        err = fmax(err, fmax(fabs(Ep[i] - El[i]), fabs(Sp[i] - Sl[i])));
        scale = fmax(scale, fmax(fabs(Ep[i]), fabs(Sp[i])));
    }
    rg_process_free(p);
    rg_process_free(q);
    return err / scale;
}

static void test_schedule_ramp(void **state)
{
    (void)state;
    /* Piecewise step vs the linear integrator on a steep ramp of width eps centred on the step, with
     * non-commuting drifts. The ramp differs from the step by dA(t), odd about t = 1 with int dA = 0,
     * so the first-order effect int Phi(s) dA(s) Y(s) ds keeps only the O(eps^2 |A1 - A0| |A|) term.
     * Found: 3.4e-7 at eps = 1e-2 and 3.4e-9 at 1e-3 (exactly the eps^2 law). We assert < 1e-6 at
     * eps = 1e-2 (a 3x margin on an error that is a property of the ramp, not of the code) and that a
     * 10x narrower ramp gives a >= 50x smaller error (the ODE's 1e-10 tolerance is still far below). A wrong segment,
     * a ramp in the wrong place or a missed knot give O(eps) or O(1) errors and fail both. */
    double As[8];
    rg_process_coupling_aniso(1, 1, 0.8, 0.2, As);
    rg_process_coupling_aniso(1.5, 0.7, -0.3, 0.6, As + 4);
    double e2 = ramp_error(1e-2, As), e3 = ramp_error(1e-3, As);
    assert_true(e2 < 1e-6);
    assert_true(e3 < e2 / 50.0);
}

static void test_schedule_structure(void **state)
{
    (void)state;
    double As[12], A[4], want[4], S[4], Sref[4], re[2], im[2], rr[2], ri[2];
    rg_process_coupling_aniso(1, 1, 0.8, 0.2, As);
    rg_process_coupling(RG_COUPLING_DIFFUSIVE, 0.3, As + 4);
    rg_process_coupling(RG_COUPLING_CROSS, -0.5, As + 8);
    const double knots[3] = { 0.5, 1.5, 3.0 };
    rg_schedule sp = { RG_SCHEDULE_PIECEWISE, 3, knots, As }, sl = { RG_SCHEDULE_LINEAR, 3, knots, As };
    rg_process *p = NULL, *q = NULL, *last = NULL;
    assert_int_equal(rg_process_scheduled(2, 4, &sp, &p), RG_OK);
    assert_int_equal(rg_process_scheduled(2, 4, &sl, &q), RG_OK);
    assert_int_equal(rg_process_kind_of(p), RG_PROCESS_COUPLED);
    assert_int_equal(rg_process_dim(p), 8);
    /* piecewise: A_i holds on [t_{i-1}, t_i) */
    const struct { double t; int seg; } pw[] = { { 0.0, 0 }, { 0.49, 0 }, { 0.5, 1 }, { 1.49, 1 }, { 1.5, 2 }, { 99, 2 } };
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(rg_process_drift(p, pw[i].t, A), RG_OK);
        assert_memory_equal(A, As + 4 * pw[i].seg, sizeof A);
    }
    /* linear: A_0 before the first knot, the mean of A_1 and A_2 halfway, A_2 after the last */
    assert_int_equal(rg_process_drift(q, 0.2, A), RG_OK);
    assert_memory_equal(A, As, sizeof A);
    assert_int_equal(rg_process_drift(q, 2.25, A), RG_OK);
    for (int j = 0; j < 4; j++) want[j] = 0.5 * (As[4 + j] + As[8 + j]);
    rg_assert_vec_rel(A, want, 4, 4 * EPS, "linear drift at the midpoint");
    assert_int_equal(rg_process_drift(q, 7.0, A), RG_OK);
    assert_memory_equal(A, As + 8, sizeof A);
    /* rates and S_inf: those of the last knot (the drift as t -> inf) */
    assert_int_equal(rg_process_coupled(As + 8, 1, &last), RG_OK);
    assert_int_equal(rg_process_stationary(last, Sref), RG_OK);
    assert_int_equal(rg_process_rates(last, rr, ri), RG_OK);
    rg_process *both[2] = { p, q };
    for (int w = 0; w < 2; w++) {
        assert_int_equal(rg_process_stationary(both[w], S), RG_OK);
        assert_memory_equal(S, Sref, sizeof S);
        assert_int_equal(rg_process_rates(both[w], re, im), RG_OK);
        assert_memory_equal(re, rr, sizeof re);
        rg_assert_rel(re[0], 0.5, 1e-14, "schedule rate = 1 - |g| of the last knot");
    }
    /* k = 3 schedules are GENERAL */
    rg_process *g = NULL;
    double A3s[9];
    memcpy(A3s, A3, sizeof A3s);
    rg_schedule s3 = { RG_SCHEDULE_PIECEWISE, 1, knots, A3s };
    assert_int_equal(rg_process_scheduled(3, 2, &s3, &g), RG_OK);
    assert_int_equal(rg_process_kind_of(g), RG_PROCESS_GENERAL);
    assert_int_equal(rg_process_dim(g), 6);
    rg_process_free(g);
    rg_process_free(last);
    rg_process_free(p);
    rg_process_free(q);
}

/* ---- t = 0, grids, unstable general drifts ----------------------------------------------------- */
static void test_t_zero_and_grid(void **state)
{
    (void)state;
    double As[8], knots[2] = { 0.5, 1.0 };
    rg_process_coupling_aniso(1, 1, 0.8, 0.2, As);
    rg_process_coupling(RG_COUPLING_CROSS, 0.3, As + 4);
    rg_schedule sp = { RG_SCHEDULE_PIECEWISE, 2, knots, As }, sl = { RG_SCHEDULE_LINEAR, 2, knots, As };
    rg_process *ps[NKINDS + 2];
    for (int w = 0; w < NKINDS; w++) ps[w] = make_kind(w);
    assert_int_equal(rg_process_scheduled(2, 3, &sp, &ps[NKINDS]), RG_OK);
    assert_int_equal(rg_process_scheduled(2, 3, &sl, &ps[NKINDS + 1]), RG_OK);
    for (int w = 0; w < NKINDS + 2; w++) {
        size_t k = rg_process_core(ps[w]), N = rg_process_dim(ps[w]);
        double E[16], S[16], z0[12], zt[12], xi[12];
        /* t = 0 gives I and 0 exactly (header contract) */
        assert_int_equal(rg_process_moments(ps[w], 0.0, E, S), RG_OK);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) {
                assert_true(E[i * k + j] == (i == j ? 1.0 : 0.0));
                assert_true(S[i * k + j] == 0.0);
            }
        uint64_t seed = 5;
        normals(&seed, z0, N);
        normals(&seed, xi, N);
        assert_int_equal(rg_process_sample(ps[w], 0.0, z0, xi, zt), RG_OK);
        assert_memory_equal(zt, z0, N * sizeof *z0);
        /* a grid equals the single calls (the constant processes run the same code: exactly; the
         * linear schedule's ODE takes other steps: 1e-9) */
        const double tg[4] = { 0.0, 0.25, 0.75, 2.0 };
        double Mg[64], Sg[64];
        assert_int_equal(rg_process_moments_grid(ps[w], 4, tg, Mg, Sg), RG_OK);
        for (size_t i = 0; i < 4; i++) {
            assert_int_equal(rg_process_moments(ps[w], tg[i], E, S), RG_OK);
            double tol = w == NKINDS + 1 ? 1e-9 : w == NKINDS ? 1e-13 : 0.0;
            rg_assert_vec_rel(Mg + i * k * k, E, k * k, tol, "grid vs single: M");
            rg_assert_vec_rel(Sg + i * k * k, S, k * k, tol, "grid vs single: Sigma");
        }
        assert_int_equal(rg_process_moments_grid(ps[w], 0, NULL, NULL, NULL), RG_OK);
        rg_process_free(ps[w]);
    }
}

static void test_general_unstable(void **state)
{
    (void)state;
    /* An unstable general drift is accepted; moments still exist (Van Loan with doubling), and per
     * docs/math.md 2.5 a mode with lambda < 0 has Delta = (e^{2|lambda| t} - 1) / |lambda|; no S_inf. */
    const double A[4] = { -0.1, 0.0, 0.0, 1.0 };
    rg_process *p = NULL;
    double E[4], S[4], r;
    assert_int_equal(rg_process_general(2, A, &p), RG_OK);
    assert_int_equal(rg_process_moments(p, 2.0, E, S), RG_OK);
    rg_assert_rel(E[0], exp(0.2), 1e-13, "unstable mode: E = e^{0.1 t}");
    rg_assert_rel(S[0], expm1(0.4) / 0.1, 1e-13, "unstable mode: Delta = (e^{0.2 t} - 1) / 0.1");
    rg_assert_rel(S[3], -expm1(-4.0), 1e-13, "stable mode: 1 - e^{-2t}");
    assert_true(S[1] == 0.0 && E[1] == 0.0);
    assert_int_equal(rg_process_relaxation_rate(p, &r), RG_OK);
    rg_assert_rel(r, -0.1, 1e-14, "relaxation rate of an unstable drift");
    expect_fail(rg_process_stationary(p, S), RG_EDOM, "drift is not stable: min Re eig(A) = -0.1 <= 0");
    rg_process_free(p);
}

/* ---- forward sampling (STYLE.md 10) -------------------------------------------------------------- */
static void test_sampling(void **state)
{
    (void)state;
    /* z_t | z_0 for the 0.8/0.2 coupling, r = 2 columns, t = 1.5, N = 20000 fixed-seed draws
     * (splitmix64 + Box-Muller above). Sample mean of entry (i, j) has standard error
     * sqrt(S_ii / N); covariance (about the exact mean) of rows a, b within a column has
     * sqrt((S_aa S_bb + S_ab^2) / N); across columns the covariance is 0 with sqrt(S_aa S_bb / N).
     * Every check within 5 of its standard error: a correct sampler fails ~1e-5 of seeds (ours is
     * fixed). Power: S_01 = 0.43 is 51 standard errors, so a diagonal-only factor fails; the
     * transposed factor L^T shifts Var(x) by S_01^2 / S_00 = 0.155, 13 standard errors (asserted
     * below), and a 10% error in a variance is ~7. */
    enum { K = 2, R = 2, NS = 20000 };
    rg_process *p = coupled(1, 1, 0.8, 0.2, R);
    const double t = 1.5, z0[K * R] = { 0.9, -1.3, 0.4, 2.1 };
    double E[4], S[4], L[4], mu[K * R];
    assert_int_equal(rg_process_moments(p, t, E, S), RG_OK);
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < R; j++) mu[i * R + j] = E[i * K] * z0[j] + E[i * K + 1] * z0[R + j];
    /* deterministic: z = E z0 + L xi with L = rg_process_chol (L L^T = S, lower), by plain loops;
     * a few roundings of O(1) numbers: 1e-14 */
    assert_int_equal(rg_process_chol(p, t, L), RG_OK);
    assert_true(L[1] == 0.0);
    rg_assert_rel(L[0] * L[0], S[0], 1e-14, "L L^T = S (0,0)");
    rg_assert_rel(L[2] * L[0], S[1], 1e-14, "L L^T = S (1,0)");
    rg_assert_rel(L[2] * L[2] + L[3] * L[3], S[3], 1e-14, "L L^T = S (1,1)");
    {
        const double xi[K * R] = { 0.3, -1.1, 2.0, 0.7 };
        double z[K * R];
        assert_int_equal(rg_process_sample(p, t, z0, xi, z), RG_OK);
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < R; j++)
                rg_assert_abs(z[i * R + j], mu[i * R + j] + L[i * K] * xi[j] + L[i * K + 1] * xi[R + j], 1e-14,
                              "z_t = E z0 + L xi, (k, r) layout");
    }
    double mean[K * R] = { 0 }, cov[R][K * K] = { { 0 } }, cross = 0.0;
    uint64_t seed = 0x5eed2024;
    for (size_t n = 0; n < NS; n++) {
        double xi[K * R], z[K * R], d[K * R];
        normals(&seed, xi, K * R);
        assert_int_equal(rg_process_sample(p, t, z0, xi, z), RG_OK);
        for (size_t i = 0; i < K * R; i++) {
            mean[i] += z[i];
            d[i] = z[i] - mu[i];
        }
        for (size_t j = 0; j < R; j++)
            for (size_t a = 0; a < K; a++)
                for (size_t b = 0; b < K; b++) cov[j][a * K + b] += d[a * R + j] * d[b * R + j];
        cross += d[0] * d[R + 1]; /* x in column 0 with y in column 1 */
    }
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < R; j++)
            rg_assert_abs(mean[i * R + j] / NS, mu[i * R + j], 5.0 * sqrt(S[i * K + i] / NS), "sample mean");
    for (size_t j = 0; j < R; j++)
        for (size_t a = 0; a < K; a++)
            for (size_t b = 0; b < K; b++)
                rg_assert_abs(cov[j][a * K + b] / NS, S[a * K + b],
                              5.0 * sqrt((S[a * K + a] * S[b * K + b] + S[a * K + b] * S[a * K + b]) / NS),
                              "sample covariance");
    rg_assert_abs(cross / NS, 0.0, 5.0 * sqrt(S[0] * S[3] / NS), "columns are independent");
    assert_true(S[1] > 50.0 * sqrt((S[0] * S[3] + S[1] * S[1]) / NS)); /* the power claimed above */
    assert_true(S[1] * S[1] / S[0] > 12.0 * sqrt(2.0 * S[0] * S[0] / NS));
    rg_process_free(p);
}

/* ---- bad input ---------------------------------------------------------------------------------- */
static void test_bad_input(void **state)
{
    (void)state;
    static char junk;
    rg_process *p = (rg_process *)(void *)&junk; /* a failed constructor must set it to NULL */
    double M[4], E[4];
    /* couplings: RG_EDOM with the check's reason; NaN is RG_EINVAL */
    rg_process_coupling_aniso(1, 1, 1.2, 1.0, M);
    expect_fail(rg_process_coupled(M, 2, &p), RG_EDOM, "g_xy g_yx = 1.2 >= a_x a_y = 1");
    assert_null(p);
    rg_process_coupling(RG_COUPLING_CROSS, 1.0, M);
    expect_fail(rg_process_coupled(M, 2, &p), RG_EDOM, "no stationary prior");
    rg_process_coupling_aniso(-2, 1, 3, -1, M); /* det = -2 + 3 = 1 > 0 but tr = -1 */
    expect_fail(rg_process_coupled(M, 2, &p), RG_EDOM, "tr M = a_x + a_y = -1 <= 0");
    rg_process_coupling_aniso(1, NAN, 0, 0, M);
    expect_fail(rg_process_coupled(M, 2, &p), RG_EINVAL, "NaN");
    rg_process_coupling(RG_COUPLING_CROSS, 0.2, M);
    expect_fail(rg_process_coupled(M, 0, &p), RG_EINVAL, "empty");
    expect_fail(rg_process_ou(0, &p), RG_EINVAL, "empty");
    /* schedules */
    double As[12], knots[3] = { 0.5, 1.0, 1.5 };
    rg_process_coupling(RG_COUPLING_CROSS, 0.2, As);
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, As + 4);
    rg_process_coupling_aniso(1, 1, 1.5, 1.0, As + 8);
    rg_schedule s = { RG_SCHEDULE_PIECEWISE, 3, knots, As };
    expect_fail(rg_process_scheduled(2, 1, &s, &p), RG_EDOM, "schedule segment 2 (t < 1.5) is unstable: ");
    assert_null(p);
    s.interp = RG_SCHEDULE_LINEAR;
    expect_fail(rg_process_scheduled(2, 1, &s, &p), RG_EDOM, "schedule knot 2 (t = 1.5) is unstable");
    rg_process_coupling(RG_COUPLING_CROSS, 0.9, As + 8);
    assert_int_equal(rg_process_scheduled(2, 1, &s, &p), RG_OK); /* the control */
    rg_process_free(p);
    const double A3u[9] = { 1, 0, 0, 0, -0.5, 0, 0, 0, 2 };
    rg_schedule s3 = { RG_SCHEDULE_PIECEWISE, 1, knots, A3u };
    expect_fail(rg_process_scheduled(3, 1, &s3, &p), RG_EDOM, "min Re eig(A) = -0.5 <= 0");
    double bad_t[3] = { 0.5, 0.5, 1.5 };
    s.t = bad_t;
    expect_fail(rg_process_scheduled(2, 1, &s, &p), RG_EINVAL, "t[1] = 0.5");
    bad_t[0] = 0.0;
    expect_fail(rg_process_scheduled(2, 1, &s, &p), RG_EINVAL, "t[0] = 0");
    bad_t[0] = 0.2;
    bad_t[1] = 0.6;
    bad_t[2] = INFINITY;
    expect_fail(rg_process_scheduled(2, 1, &s, &p), RG_EINVAL, "t[2] = inf"); /* linear: finite */
    s.interp = RG_SCHEDULE_PIECEWISE;
    assert_int_equal(rg_process_scheduled(2, 1, &s, &p), RG_OK); /* piecewise: the last may be inf */
    rg_process_free(p);
    As[5] = NAN;
    expect_fail(rg_process_scheduled(2, 1, &s, &p), RG_EINVAL, "knot 1");
    /* nonrev */
    const double U[4] = { 2, 0.5, 0.5, 1 }, Uasym[4] = { 2, 0.5, 0.4, 1 }, Uind[4] = { 1, 2, 2, 1 };
    const double Qok[4] = { 0, 1, -1, 0 }, Qsym[4] = { 0, 1, 1, 0 }, Unan[4] = { 2, NAN, NAN, 1 };
    expect_fail(rg_process_nonrev(2, Uasym, Qok, &p), RG_EDOM, "U is not symmetric");
    expect_fail(rg_process_nonrev(2, Uind, Qok, &p), RG_EDOM, "U is not positive definite");
    expect_fail(rg_process_nonrev(2, U, Qsym, &p), RG_EDOM, "Q is not antisymmetric");
    expect_fail(rg_process_nonrev(2, Unan, Qok, &p), RG_EINVAL, "U contains NaN");
    expect_fail(rg_process_nonrev(0, U, Qok, &p), RG_EINVAL, "empty");
    /* general */
    const double Anan[4] = { 1, 0, NAN, 1 };
    expect_fail(rg_process_general(2, Anan, &p), RG_EINVAL, "A contains NaN");
    /* times */
    assert_int_equal(rg_process_nonrev(2, U, Qok, &p), RG_OK);
    expect_fail(rg_process_moments(p, -1.0, E, NULL), RG_EINVAL, "t = -1 must be >= 0");
    expect_fail(rg_process_moments(p, NAN, E, NULL), RG_EINVAL, "t = nan");
    expect_fail(rg_process_moments(p, INFINITY, E, NULL), RG_EINVAL, "not a finite time");
    expect_fail(rg_process_chol(p, 0.0, E), RG_EINVAL, "t = 0");
    const double tg[3] = { 0.1, 0.3, 0.3 };
    expect_fail(rg_process_moments_grid(p, 3, tg, E, NULL), RG_EINVAL, "t[2] = 0.3");
    const double z[2] = { 1, 2 };
    double zt[2];
    expect_fail(rg_process_sample(p, -0.5, z, z, zt), RG_EINVAL, "t = -0.5");
    rg_process_free(p);
    rg_process_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coupling_forms),      cmocka_unit_test(test_stationary_table),
        cmocka_unit_test(test_stationary_symmetric), cmocka_unit_test(test_closed_vs_vanloan),
        cmocka_unit_test(test_closed_vs_mpmath),    cmocka_unit_test(test_one_way),
        cmocka_unit_test(test_ou),                  cmocka_unit_test(test_semigroup),
        cmocka_unit_test(test_dense_lyapunov_vs_vanloan), cmocka_unit_test(test_modal_nonrev_random),
        cmocka_unit_test(test_modal_exceptional_point), cmocka_unit_test(test_modal_schedule),
        cmocka_unit_test(test_sigma_spd_and_limit), cmocka_unit_test(test_kron_dense),
        cmocka_unit_test(test_nonrev_stationary),   cmocka_unit_test(test_nonrev_isotropic),
        cmocka_unit_test(test_schedule_constant),   cmocka_unit_test(test_schedule_commuting),
        cmocka_unit_test(test_schedule_ramp),       cmocka_unit_test(test_schedule_structure),
        cmocka_unit_test(test_t_zero_and_grid),     cmocka_unit_test(test_general_unstable),
        cmocka_unit_test(test_sampling),            cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
