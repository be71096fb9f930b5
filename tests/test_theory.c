/* Tests for the theory layer (docs/math.md 7): every docs/math.md 9 reference value this layer computes, closed
 * forms against the general root finder, invariances of docs/math.md 2.6, and bad input.
 *
 * Tolerance tiers used below, each with its reason:
 *   - rg_assert_digits: docs/math.md 9 tables, "match to the last digit shown, +-1".
 *   - 1e-10 relative: two exact routes to the same time (closed form versus root scan, coupled versus
 *     dense process). Roots are refined by Brent to 1e-12 in t; the moments are exact to ~1e-14.
 *   - 1e-12 relative: one criterion at one time by two exact formulas (no root finding). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/linalg.h"
#include "regimes/nonrev.h"
#include "regimes/process.h"
#include "regimes/theory.h"

/* ---- helpers ----------------------------------------------------------------------------------- */

/* gmm4 on a coupled process (docs/math.md 7.1 c): e_c = (1, 1), e_d = (1, -1), Cw = sigma^2 I_2. */
typedef struct {
    double pattern[4], norm2[2], Cw[4];
    rg_theory_data data;
} gmm4;

static void gmm4_init(gmm4 *g, double mc2, double md2, double sigma2)
{
    const double pat[4] = { 1, 1, 1, -1 };
    memcpy(g->pattern, pat, sizeof pat);
    g->norm2[0] = mc2;
    g->norm2[1] = md2;
    g->Cw[0] = g->Cw[3] = sigma2;
    g->Cw[1] = g->Cw[2] = 0.0;
    g->data = (rg_theory_data){ .n_labels = 2, .pattern = g->pattern, .mean_norm2 = g->norm2, .Cw = g->Cw };
}

static rg_process *coupled(const double M[4], size_t d)
{
    rg_process *p = NULL;
    assert_int_equal(rg_process_coupled(M, d, &p), RG_OK);
    return p;
}

static rg_process *cross(double gamma, size_t d)
{
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, gamma, M);
    return coupled(M, d);
}

static double t_spec(const rg_process *p, const rg_theory_data *d, size_t label, rg_speciation_criterion c)
{
    double t = NAN;
    int found = -1;
    int st = rg_theory_speciation(p, d, label, c, &t, &found);
    if (st != RG_OK) print_error("rg_theory_speciation: %s\n", rg_strerror_last());
    assert_int_equal(st, RG_OK);
    assert_int_equal(found, 1);
    return t;
}

static double t_coll(const rg_process *p, const rg_theory_data *d, double n_train)
{
    double t = NAN;
    int found = -1;
    int st = rg_theory_collapse(p, d, n_train, &t, &found);
    if (st != RG_OK) print_error("rg_theory_collapse: %s\n", rg_strerror_last());
    assert_int_equal(st, RG_OK);
    assert_int_equal(found, 1);
    return t;
}

/* One-label data on a k = 1 process (ou or general). */
typedef struct {
    double pattern[1], norm2[1], Cw[1];
    rg_theory_data data;
} gmm2;

static void gmm2_init(gmm2 *g, double m2, double sigma2)
{
    g->pattern[0] = 1.0;
    g->norm2[0] = m2;
    g->Cw[0] = sigma2;
    g->data = (rg_theory_data){ .n_labels = 1, .pattern = g->pattern, .mean_norm2 = g->norm2, .Cw = g->Cw };
}

/* Deterministic uniform(-1, 1) stream (64-bit LCG, Knuth's MMIX constants): failures replay. */
static double lcg_uniform(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

/* ---- 9.1 cloning constants ------------------------------------------------------------------------ */

static void test_phi_table(void **state)
{
    (void)state;
    /* docs/math.md 9.1, phi(kappa) of 7.2 */
    rg_assert_digits(rg_theory_phi(0.5), 0.675, 3, "phi(0.5)");
    rg_assert_digits(rg_theory_phi(1.0), 0.7752, 4, "phi(1)");
    rg_assert_digits(rg_theory_phi(2.0), 0.885, 3, "phi(2)");
    rg_assert_digits(rg_theory_phi(4.0), 0.966, 3, "phi(4)");
}

/* Nishimori identity for h ~ N(kappa, kappa): E tanh(h) = E tanh^2(h), so 2 phi - 1 = E tanh(h).
 * Reference: composite Simpson on [-14, 14] with 40000 intervals, a different rule and range; both
 * quadratures are converged far below the 1e-10 tolerance (docs/math.md 7.2: error < 1e-12). */
static void test_phi_nishimori(void **state)
{
    (void)state;
    const double kappas[] = { 0.01, 0.3, 1.0, 3.0, 10.0, 50.0, 400.0 };
    for (size_t i = 0; i < sizeof kappas / sizeof kappas[0]; i++) {
        double k = kappas[i], sk = sqrt(k), sum = 0.0;
        const int n = 40000;
        const double a = -14.0, h = 28.0 / n;
        for (int j = 0; j <= n; j++) {
            double xi = a + h * j, w = (j == 0 || j == n) ? 1.0 : (j % 2 ? 4.0 : 2.0);
            sum += w * tanh(k + sk * xi) * exp(-0.5 * xi * xi);
        }
        double e_tanh = sum * h / 3.0 / sqrt(2.0 * 3.14159265358979323846);
        rg_assert_abs(2.0 * rg_theory_phi(k) - 1.0, e_tanh, 1e-10, "2 phi - 1 = E tanh (Nishimori)");
    }
}

static void test_phi_edges(void **state)
{
    (void)state;
    assert_true(rg_theory_phi(0.0) == 0.5);  /* tanh(0) = 0: no information */
    assert_true(rg_theory_phi(5000.0) == 1.0); /* 1 - phi < e^{-kappa/8}: 1 in double */
    assert_true(isnan(rg_theory_phi(-1.0)));
    assert_true(isnan(rg_theory_phi(NAN)));
    double prev = 0.5; /* phi increases strictly with kappa */
    for (double k = 0.05; k < 40.0; k *= 1.3) {
        double ph = rg_theory_phi(k);
        assert_true(ph > prev);
        prev = ph;
    }
}

/* docs/math.md 9.1 parent mixture: kappa = d e^{-2t}, t = ratio * t_S, t_S = 1/2 log d. */
static void test_phi_parent_mixture(void **state)
{
    (void)state;
    const double ratio[5] = { 0.8, 0.9, 1.0, 1.1, 1.2 };
    const double want256[5] = { 0.94, 0.86, 0.775, 0.69, 0.63 };
    const double want16k[5] = { 0.99, 0.92, 0.775, 0.64, 0.56 };
    const int dec[5] = { 2, 2, 3, 2, 2 };
    for (int i = 0; i < 5; i++) {
        double d = 256.0, t = ratio[i] * 0.5 * log(d);
        rg_assert_digits(rg_theory_phi(d * exp(-2.0 * t)), want256[i], dec[i], "phi, d = 256");
        d = 16384.0;
        t = ratio[i] * 0.5 * log(d);
        rg_assert_digits(rg_theory_phi(d * exp(-2.0 * t)), want16k[i], dec[i], "phi, d = 16384");
    }
}

/* ---- 9.2 parent paper: OU collapse, and OU speciation closed forms -------------------------------- */

static void test_parent_collapse(void **state)
{
    (void)state;
    const size_t N[3] = { 256, 1024, 4096 };
    const double want[3] = { 1.30, 1.98, 2.67 }; /* docs/math.md 9.2, sigma = 1, P = 20000 */
    gmm2 g;
    gmm2_init(&g, 1.0, 1.0);
    for (int i = 0; i < 3; i++) {
        double closed = rg_theory_ou_collapse((double)N[i], 20000.0, 1.0);
        rg_assert_digits(closed, want[i], 2, "OU t_C closed form");
        rg_process *p = NULL;
        assert_int_equal(rg_process_ou(N[i], &p), RG_OK);
        double t = t_coll(p, &g.data, 20000.0);
        rg_assert_digits(t, want[i], 2, "OU t_C by root scan");
        rg_assert_rel(t, closed, 1e-10, "OU t_C: root scan = closed form (docs/math.md 7.6)");
        /* f(t) = alpha + 1/2 log(Delta / (Delta + sigma^2 e^{-2t})) (docs/math.md 7.6, isotropic OU) */
        double alpha = log(20000.0) / (double)N[i], tt = closed + 0.7, f;
        double delta = -expm1(-2.0 * tt), want_f = alpha + 0.5 * log(delta / (delta + exp(-2.0 * tt)));
        assert_int_equal(rg_theory_collapse_f(p, &g.data, 20000.0, tt, &f), RG_OK);
        rg_assert_rel(f, want_f, 1e-12, "OU f(t) closed form");
        assert_int_equal(rg_theory_collapse_f(p, &g.data, 20000.0, 0.5 * closed, &f), RG_OK);
        assert_true(f == 0.0); /* below t_C the gap is clamped at 0 */
        rg_process_free(p);
    }
}

/* docs/math.md 7.1 a, b on the parent OU: GMM exact 1/2 log(1 + |m|^2 - sigma^2), matrix criterion
 * 1/2 log(1 + Lambda) with Lambda = |m|^2 + sigma^2; the parent mixture |m|^2 = d, sigma = 1 gives
 * exactly the parent's 1/2 log d. */
static void test_ou_speciation(void **state)
{
    (void)state;
    const double m2[3] = { 256.0, 25.0, 3.5 }, s2[3] = { 1.0, 1.0, 0.4 };
    rg_process *p = NULL;
    assert_int_equal(rg_process_ou(16, &p), RG_OK);
    for (int i = 0; i < 3; i++) {
        gmm2 g;
        gmm2_init(&g, m2[i], s2[i]);
        double exact = 0.5 * log1p(m2[i] - s2[i]), matrix = 0.5 * log1p(m2[i] + s2[i]);
        rg_assert_rel(rg_theory_ou_speciation(m2[i], s2[i]), exact, 1e-15, "closed form");
        rg_assert_rel(t_spec(p, &g.data, 0, RG_SPECIATION_GMM), exact, 1e-10, "GMM exact by root scan");
        rg_assert_rel(t_spec(p, &g.data, 0, RG_SPECIATION_MATRIX), matrix, 1e-10, "matrix criterion");
    }
    rg_assert_rel(rg_theory_ou_speciation(256.0, 1.0), 0.5 * log(256.0), 1e-15, "parent 1/2 log d");
    rg_process_free(p);
}

/* kappa and lambda_max at one time against the closed forms of docs/math.md 5.4 / 7.1 a (OU) and 7.5
 * (symmetric modes), including large t where the plain products would underflow. */
static void test_criteria_one_time(void **state)
{
    (void)state;
    rg_process *p = NULL;
    assert_int_equal(rg_process_ou(8, &p), RG_OK);
    gmm2 g;
    gmm2_init(&g, 25.0, 0.6);
    const double ts[4] = { 1e-3, 0.7, 3.0, 150.0 };
    for (int i = 0; i < 4; i++) {
        double t = ts[i], e2 = exp(-2.0 * t), delta = -expm1(-2.0 * t), k, l;
        assert_int_equal(rg_theory_kappa(p, &g.data, 0, t, &k), RG_OK);
        rg_assert_rel(k, 25.0 * e2 / (delta + 0.6 * e2), 1e-12, "OU kappa (docs/math.md 5.4)");
        assert_int_equal(rg_theory_kmax(p, &g.data, 0, t, &l), RG_OK);
        rg_assert_rel(l, 25.6 * e2 / delta, 1e-12, "OU lambda_max(K_t) (docs/math.md 7.1 a)");
    }
    rg_process_free(p);

    /* cross-drive gamma = 0.4: kappa_k = |mu_k|^2 a^2 / (Delta_k + sigma^2 a^2), |mu|^2 = 2|m|^2 */
    gmm4 g4;
    gmm4_init(&g4, 25.0, 9.0, 0.8);
    p = cross(0.4, 4);
    const double lam[2] = { 0.6, 1.4 }, mu2[2] = { 50.0, 18.0 };
    for (int i = 0; i < 3; i++)
        for (size_t m = 0; m < 2; m++) {
            double t = ts[i], a2 = exp(-2.0 * lam[m] * t), dk = -expm1(-2.0 * lam[m] * t) / lam[m], k;
            assert_int_equal(rg_theory_kappa(p, &g4.data, m, t, &k), RG_OK);
            rg_assert_rel(k, mu2[m] * a2 / (dk + 0.8 * a2), 1e-12, "per-mode kappa (docs/math.md 7.5)");
        }
    rg_process_free(p);
}

static void test_mode_time(void **state)
{
    (void)state;
    /* docs/math.md 1.4 / 7.1 c: t_S = log1p(lambda a) / (2 lambda), limit a/2 */
    rg_assert_rel(rg_theory_mode_time(0.0, 49.0), 24.5, 1e-15, "lambda = 0 limit a/2");
    rg_assert_rel(rg_theory_mode_time(1e-20, 49.0), 24.5, 1e-15, "tiny lambda");
    rg_assert_rel(rg_theory_mode_time(-1e-12, 49.0), 24.5 * (1 + 24.5e-12), 1e-15, "tiny negative lambda");
    rg_assert_rel(rg_theory_mode_time(0.5, 49.0), log(25.5), 1e-15, "lambda = 0.5");
    rg_assert_rel(rg_theory_mode_time(-0.01, 49.0), log(0.51) / -0.02, 1e-15, "lambda < 0, 1 + lambda a > 0");
    assert_true(isnan(rg_theory_mode_time(-0.05, 49.0))); /* 1 + lambda a < 0: no crossing (7.4) */
    assert_true(isnan(rg_theory_mode_time(1.0, 0.0)));    /* |mu|^2 = sigma^2: no positive root */
    assert_true(isnan(rg_theory_mode_time(1.0, -3.0)));
    assert_true(isnan(rg_theory_mode_time(NAN, 3.0)));
    assert_true(isnan(rg_theory_ou_speciation(0.5, 1.0))); /* |m|^2 < sigma^2 */
    assert_true(isnan(rg_theory_ou_collapse(256.0, 1.0, 1.0))); /* P = 1: alpha = 0 */
    /* pow-free form (STYLE 12): no loss at huge N; t_C ~ 1/2 log(1 + sigma^2 N / (2 log P)) */
    double N = 65536.0, a = 2.0 * log(20000.0) / N;
    rg_assert_rel(rg_theory_ou_collapse(N, 20000.0, 1.0), 0.5 * log1p(1.0 / expm1(a)), 1e-15, "N = 65536");
}

/* ---- 9.3 symmetric cross-drive ---------------------------------------------------------------------- */

static void test_cross_drive_table(void **state)
{
    (void)state;
    /* docs/math.md 9.3: |mu_c|^2 = |mu_d|^2 = 50, i.e. |m_c|^2 = |m_d|^2 = 25, sigma^2 = 1 */
    static const struct { double g, tc, td, gap; int dec; } row[] = {
        { -0.50, 1.437, 3.239, -1.802, 3 }, { -0.25, 1.652, 2.421, -0.768, 3 },
        { 0.00, 1.956, 1.956, 0.000, 3 },   { 0.10, 2.116, 1.821, 0.295, 3 },
        { 0.25, 2.421, 1.652, 0.768, 3 },   { 0.50, 3.239, 1.437, 1.802, 3 },
        { 0.75, 5.168, 1.275, 3.893, 3 },   { 0.90, 8.875, 1.196, 7.679, 3 },
        { 0.99, 19.94, 1.153, 18.79, 2 },
    };
    gmm4 g;
    gmm4_init(&g, 25.0, 25.0, 1.0);
    for (size_t i = 0; i < sizeof row / sizeof row[0]; i++) {
        rg_process *p = cross(row[i].g, 64);
        double tc = t_spec(p, &g.data, 0, RG_SPECIATION_GMM), td = t_spec(p, &g.data, 1, RG_SPECIATION_GMM);
        rg_assert_digits(tc, row[i].tc, row[i].dec, "t_S^c");
        rg_assert_digits(td, row[i].td, 3, "t_S^d");
        rg_assert_digits(tc - td, row[i].gap, row[i].dec, "gap");
        /* 7.1 c per mode: log[1 + lambda_k (|mu_k|^2 - sigma^2)] / (2 lambda_k), lambda = 1 -+ gamma */
        rg_assert_rel(tc, rg_theory_mode_time(1.0 - row[i].g, 49.0), 1e-10, "t_S^c = mode closed form");
        rg_assert_rel(td, rg_theory_mode_time(1.0 + row[i].g, 49.0), 1e-10, "t_S^d = mode closed form");
        rg_process_free(p);
    }
}

/* docs/math.md 7.3 small-gamma gap: [g_c(1) - g_d(1)] - gamma [g_c'(1) + g_d'(1)],
 * g_k(1) = log(1 + a_k)/2, g_k'(1) = [a_k/(1 + a_k) - log(1 + a_k)]/2, a_k = |mu_k|^2 - sigma^2. */
static double small_gamma_gap(double gamma, double ac, double ad)
{
    double g0 = 0.5 * (log1p(ac) - log1p(ad));
    double dc = 0.5 * (ac / (1 + ac) - log1p(ac)), dd = 0.5 * (ad / (1 + ad) - log1p(ad));
    return g0 - gamma * (dc + dd);
}

static void test_small_gamma_column(void **state)
{
    (void)state;
    static const struct { double g, want; } row[] = {
        { -0.50, -1.466 }, { -0.25, -0.733 }, { 0, 0 },         { 0.10, 0.293 }, { 0.25, 0.733 },
        { 0.50, 1.466 },   { 0.75, 2.199 },   { 0.90, 2.639 }, { 0.99, 2.903 },
    }; /* docs/math.md 9.3, last column */
    for (size_t i = 0; i < sizeof row / sizeof row[0]; i++)
        rg_assert_digits(small_gamma_gap(row[i].g, 49.0, 49.0), row[i].want, 3, "small-gamma gap");
    /* it is the tangent of the exact gap at gamma = 0: error O(gamma^2) */
    gmm4 g;
    gmm4_init(&g, 25.0, 25.0, 1.0);
    rg_process *p = cross(0.01, 8);
    double gap = t_spec(p, &g.data, 0, RG_SPECIATION_GMM) - t_spec(p, &g.data, 1, RG_SPECIATION_GMM);
    rg_assert_abs(gap, small_gamma_gap(0.01, 49.0, 49.0), 1e-4, "tangent at gamma = 0 (O(gamma^2) = 1e-4)");
    rg_process_free(p);
}

typedef struct {
    gmm4 g;
    double tc, td;
    int status;
} gap_ctx;

static double gap_of_gamma(double gamma, void *vctx)
{
    gap_ctx *c = vctx;
    double M[4];
    rg_process *p = NULL;
    int fc = 0, fd = 0;
    rg_process_coupling(RG_COUPLING_CROSS, gamma, M);
    c->status = rg_process_coupled(M, 4, &p);
    if (c->status == RG_OK) c->status = rg_theory_speciation(p, &c->g.data, 0, RG_SPECIATION_GMM, &c->tc, &fc);
    if (c->status == RG_OK) c->status = rg_theory_speciation(p, &c->g.data, 1, RG_SPECIATION_GMM, &c->td, &fd);
    rg_process_free(p);
    return c->status == RG_OK && fc && fd ? c->tc - c->td : (double)NAN;
}

/* docs/math.md 9.3 ordering example: |mu_c|^2 = 100, |mu_d|^2 = 20 (|m|^2 = 50, 10), sigma^2 = 1. */
static void test_ordering_example(void **state)
{
    (void)state;
    gap_ctx c;
    gmm4_init(&c.g, 50.0, 10.0, 1.0);
    rg_assert_digits(gap_of_gamma(0.0, &c), 0.805, 3, "intrinsic gap at gamma = 0");
    rg_assert_rel(gap_of_gamma(0.0, &c), 0.5 * log(100.0 / 20.0), 1e-10, "intrinsic gap 1/2 log(...) (7.3)");
    double gstar = NAN;
    assert_int_equal(rg_linalg_brent(gap_of_gamma, &c, -0.9, 0.0, 1e-12, &gstar), RG_OK);
    rg_assert_digits(gstar, -0.290, 3, "gamma*");
    gap_of_gamma(gstar, &c);
    assert_int_equal(c.status, RG_OK);
    rg_assert_digits(c.tc, 1.883, 3, "t_S at gamma*");
    rg_assert_abs(c.tc, c.td, 1e-9, "both modes equal at gamma*");
    /* the library's search over the whole stable range finds the same root (Brent to 1e-12 on a
     * gap of slope ~3: 1e-10 is a margin) and phi is 0.7752 for both modes there (7.2) */
    double g_lib = NAN, phi_c = NAN, phi_d = NAN;
    int found = 0;
    assert_int_equal(rg_theory_equal_gamma(RG_COUPLING_CROSS, &c.g.data, &g_lib, &found), RG_OK);
    assert_int_equal(found, 1);
    rg_assert_abs(g_lib, gstar, 1e-10, "rg_theory_equal_gamma = gamma*");
    double M[4];
    rg_process *p = NULL;
    rg_process_coupling(RG_COUPLING_CROSS, g_lib, M);
    assert_int_equal(rg_process_coupled(M, 4, &p), RG_OK);
    assert_int_equal(rg_theory_phi_at(p, &c.g.data, 0, c.tc, &phi_c), RG_OK);
    assert_int_equal(rg_theory_phi_at(p, &c.g.data, 1, c.tc, &phi_d), RG_OK);
    rg_assert_digits(phi_c, 0.7752, 4, "phi_c at t_S");
    rg_assert_abs(phi_c, phi_d, 1e-9, "phi_c = phi_d at gamma*");
    rg_process_free(p);
    /* equal spectra: gamma* = 0 exactly (the gap is odd in gamma, 7.3); diffusive: lambda_c = 1 is
     * fixed, so equal spectra need lambda_d = 1, gamma* = 0 as well */
    gap_ctx e;
    gmm4_init(&e.g, 25.0, 25.0, 1.0);
    assert_int_equal(rg_theory_equal_gamma(RG_COUPLING_CROSS, &e.g.data, &g_lib, &found), RG_OK);
    assert_true(found && fabs(g_lib) < 1e-10);
    assert_int_equal(rg_theory_equal_gamma(RG_COUPLING_DIFFUSIVE, &e.g.data, &g_lib, &found), RG_OK);
    assert_true(found && fabs(g_lib) < 1e-10);
}

/* docs/math.md 9.3 joint collapse t_C (7.6; N = 2d, sigma^2 = 1). */
static void test_joint_collapse_table(void **state)
{
    (void)state;
    static const struct { size_t d; double P, t[5]; } row[] = {
        { 128, 5000.0, { 1.372, 1.418, 1.591, 2.042, 2.662 } },
        { 512, 1e4, { 2.013, 2.157, 2.697, 4.115, 6.582 } },
        { 1024, 6e4, { 2.269, 2.466, 3.184, 5.053, 8.617 } },
    };
    const double gam[5] = { 0.0, 0.25, 0.5, 0.75, 0.9 };
    gmm4 g;
    gmm4_init(&g, 25.0, 25.0, 1.0);
    for (size_t i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) {
            rg_process *p = cross(gam[j], row[i].d);
            double t = t_coll(p, &g.data, row[i].P);
            rg_assert_digits(t, row[i].t[j], 3, "joint t_C");
            if (j == 0) /* gamma = 0 is the parent OU with N = 2d */
                rg_assert_rel(t, rg_theory_ou_collapse(2.0 * (double)row[i].d, row[i].P, 1.0), 1e-10,
                              "gamma = 0 joint t_C = OU closed form");
            rg_process_free(p);
        }
}

/* docs/math.md 9.3: per-mode heuristic at d = 128, P = 5000, gamma = 0.5 (lambda_c = 0.5, lambda_d = 1.5). */
static void test_mode_collapse(void **state)
{
    (void)state;
    rg_assert_digits(rg_theory_mode_collapse(0.5, 1.0, 128.0, 5000.0), 1.507, 3, "t_C^c");
    rg_assert_digits(rg_theory_mode_collapse(1.5, 1.0, 128.0, 5000.0), 0.815, 3, "t_C^d");
}

/* docs/math.md 9.3 f(t) theory values, d = 128, P = 5000, gamma = 0.5; symmetric closed form of 7.6:
 * f = alpha - 1/4 sum_k log(1 + nu_k), nu_k = sigma^2 e^{-2 lambda_k t} / Delta_k(t). */
static void test_collapse_f_values(void **state)
{
    (void)state;
    const double ts[4] = { 2.0, 2.4, 3.0, 4.0 }, want[4] = { 0.0135, 0.0208, 0.0268, 0.0309 };
    gmm4 g;
    gmm4_init(&g, 25.0, 25.0, 1.0);
    rg_process *p = cross(0.5, 128);
    double f, alpha = log(5000.0) / 256.0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rg_theory_collapse_f(p, &g.data, 5000.0, ts[i], &f), RG_OK);
        rg_assert_digits(f, want[i], 4, "f(t)");
        double s = 0.0;
        for (int k = 0; k < 2; k++) {
            double lam = k ? 1.5 : 0.5, dk = -expm1(-2.0 * lam * ts[i]) / lam;
            s += log1p(exp(-2.0 * lam * ts[i]) / dk);
        }
        rg_assert_rel(f, alpha - 0.25 * s, 1e-12, "f(t) symmetric closed form");
    }
    assert_int_equal(rg_theory_collapse_f(p, &g.data, 5000.0, 1.4, &f), RG_OK);
    assert_true(f == 0.0); /* "both ~ 0 for t <= 1.4": below t_C = 1.591 */
    rg_process_free(p);
}

/* ---- 9.4 anisotropic ----------------------------------------------------------------------------- */

static void test_aniso_table(void **state)
{
    (void)state;
    static const struct { double gxy, gyx, tc, td, gap; } row[] = {
        { 0.8, 0.2, 3.018, 1.494, 1.524 }, { 0.2, 0.8, 3.018, 1.494, 1.524 },
        { 0.4, 0.4, 2.845, 1.515, 1.330 }, { 0.5, -0.5, 1.956, 1.956, 0.0 },
        { 1.0, 0.0, 2.732, 1.617, 1.115 },
    }; /* docs/math.md 9.4: a_x = a_y = 1, |m_c|^2 = |m_d|^2 = 25, sigma^2 = 1 */
    gmm4 g;
    gmm4_init(&g, 25.0, 25.0, 1.0);
    for (size_t i = 0; i < sizeof row / sizeof row[0]; i++) {
        double M[4];
        rg_process_coupling_aniso(1.0, 1.0, row[i].gxy, row[i].gyx, M);
        rg_process *p = coupled(M, 32);
        double tc = t_spec(p, &g.data, 0, RG_SPECIATION_GMM), td = t_spec(p, &g.data, 1, RG_SPECIATION_GMM);
        rg_assert_digits(tc, row[i].tc, 3, "aniso t_S^c");
        rg_assert_digits(td, row[i].td, 3, "aniso t_S^d");
        rg_assert_digits(tc - td, row[i].gap, 3, "aniso gap");
        rg_process_free(p);
    }
}

/* ---- 9.5 schedule -------------------------------------------------------------------------------- */

static void test_schedule_table(void **state)
{
    (void)state;
    static const struct { double g1, tc, td, gap; } row[] = {
        { 0.0, 2.303, 1.498, 0.805 }, { -0.2, 2.156, 1.538, 0.618 }, { -0.4, 2.043, 1.588, 0.455 },
    }; /* docs/math.md 9.5: gamma = 0 on [0, 1), g1 beyond; |mu_c|^2 = 100, |mu_d|^2 = 20, sigma^2 = 1 */
    gmm4 g;
    gmm4_init(&g, 50.0, 10.0, 1.0);
    for (size_t i = 0; i < sizeof row / sizeof row[0]; i++) {
        double A[8], knots[2] = { 1.0, INFINITY };
        rg_process_coupling(RG_COUPLING_CROSS, 0.0, A);
        rg_process_coupling(RG_COUPLING_CROSS, row[i].g1, A + 4);
        rg_schedule s = { .interp = RG_SCHEDULE_PIECEWISE, .n = 2, .t = knots, .A = A };
        rg_process *p = NULL;
        assert_int_equal(rg_process_scheduled(2, 16, &s, &p), RG_OK);
        double tc = t_spec(p, &g.data, 0, RG_SPECIATION_GMM), td = t_spec(p, &g.data, 1, RG_SPECIATION_GMM);
        rg_assert_digits(tc, row[i].tc, 3, "schedule t_S^c");
        rg_assert_digits(td, row[i].td, 3, "schedule t_S^d");
        rg_assert_digits(tc - td, row[i].gap, 3, "schedule gap");
        rg_process_free(p);
    }
}

/* ---- 9.6 non-reversible, N = 64 ------------------------------------------------------------------ */

#define NR 64
static double nr_U[NR * NR], nr_Qopt[NR * NR];

static int nr_setup(void **state)
{
    (void)state;
    memset(nr_U, 0, sizeof nr_U);
    for (int i = 0; i < NR; i++) nr_U[i * NR + i] = 0.2 + 1.6 * i / (NR - 1.0); /* linspace(0.2, 1.8) */
    return rg_nonrev_optimal_q(NR, nr_U, NULL, nr_Qopt) == RG_OK ? 0 : -1;
}

static rg_process *nr_process(const double *U, double s)
{
    double *Q = malloc(sizeof(double) * NR * NR);
    assert_non_null(Q);
    for (int i = 0; i < NR * NR; i++) Q[i] = s * nr_Qopt[i];
    rg_process *p = NULL;
    int st = rg_process_nonrev(NR, U, s == 0.0 ? NULL : Q, &p);
    free(Q);
    assert_int_equal(st, RG_OK);
    return p;
}

/* One label along unit direction e (|m|^2 = 64), within-class covariance Cw. */
typedef struct {
    double e[NR], norm2[1], Cw[NR * NR];
    rg_theory_data data;
} nr_data;

static void nr_data_init(nr_data *g, int dir, const double *cw_diag)
{
    for (int i = 0; i < NR; i++) g->e[i] = dir < 0 ? 1.0 / 8.0 : (i == dir ? 1.0 : 0.0);
    memset(g->Cw, 0, sizeof g->Cw);
    for (int i = 0; i < NR; i++) g->Cw[i * NR + i] = cw_diag ? cw_diag[i] : 1.0;
    g->norm2[0] = 64.0;
    g->data = (rg_theory_data){ .n_labels = 1, .pattern = g->e, .mean_norm2 = g->norm2, .Cw = g->Cw };
}

static void test_nonrev_speciation_table(void **state)
{
    (void)state;
    /* docs/math.md 9.6: |m|^2 = 64, Cw = I; m = 8 e_1, 8 e_64, ones; kappa = 1, [lambda_max = 1] */
    static const struct { double s, t[3], lm[3]; } row[] = {
        { 0.0, { 6.525, 1.317, 2.801 }, { 6.598, 1.325, 2.909 } },
        { 0.25, { 5.823, 2.312, 2.138 }, { 0, 0, 0 } },
        { 0.5, { 4.433, 3.980, 1.786 }, { 4.510, 4.086, 1.823 } },
        { 1.0, { 2.456, 3.504, 1.756 }, { 2.550, 3.527, 1.819 } },
        { 2.0, { 1.322, 2.251, 2.013 }, { 0, 0, 0 } },
        { 4.0, { 1.384, 2.487, 2.003 }, { 0, 0, 0 } },
        { 8.0, { 1.255, 2.351, 2.058 }, { 0, 0, 0 } },
    };
    const int dirs[3] = { 0, NR - 1, -1 };
    static nr_data g[3];
    for (int j = 0; j < 3; j++) nr_data_init(&g[j], dirs[j], NULL);
    for (size_t i = 0; i < sizeof row / sizeof row[0]; i++) {
        rg_process *p = nr_process(nr_U, row[i].s);
        for (int j = 0; j < 3; j++) {
            double t = t_spec(p, &g[j].data, 0, RG_SPECIATION_GMM);
            rg_assert_digits(t, row[i].t[j], 3, "nonrev t_S (kappa)");
            /* 7.1 e, U diagonal, Q = 0, m along e_i: log(1 + u_i (|m|^2 - sigma^2)) / (2 u_i) */
            if (row[i].s == 0.0 && j < 2)
                rg_assert_rel(t, rg_theory_mode_time(j ? 1.8 : 0.2, 63.0), 1e-10, "Q = 0 closed form");
            if (row[i].lm[j] > 0)
                rg_assert_digits(t_spec(p, &g[j].data, 0, RG_SPECIATION_MATRIX), row[i].lm[j], 3,
                                 "nonrev t_S (lambda_max)");
        }
        rg_process_free(p);
    }
    /* -Q_opt: same spectrum; ones moves to 2.727 (2.754), eigen-directions unchanged */
    rg_process *p = nr_process(nr_U, -1.0);
    rg_assert_digits(t_spec(p, &g[2].data, 0, RG_SPECIATION_GMM), 2.727, 3, "-Q_opt ones (kappa)");
    rg_assert_digits(t_spec(p, &g[2].data, 0, RG_SPECIATION_MATRIX), 2.754, 3, "-Q_opt ones (lambda_max)");
    rg_assert_digits(t_spec(p, &g[0].data, 0, RG_SPECIATION_GMM), 2.456, 3, "-Q_opt e_1 unchanged");
    rg_assert_digits(t_spec(p, &g[1].data, 0, RG_SPECIATION_GMM), 3.504, 3, "-Q_opt e_64 unchanged");
    rg_process_free(p);
    /* U = I, m = ones: 2.079 (kappa) and 2.095 = 1/2 log(1 + 64 + 1) (lambda_max) */
    static double I[NR * NR];
    for (int i = 0; i < NR; i++) I[i * NR + i] = 1.0;
    assert_int_equal(rg_process_nonrev(NR, I, NULL, &p), RG_OK);
    rg_assert_digits(t_spec(p, &g[2].data, 0, RG_SPECIATION_GMM), 2.079, 3, "U = I ones (kappa)");
    double tm = t_spec(p, &g[2].data, 0, RG_SPECIATION_MATRIX);
    rg_assert_digits(tm, 2.095, 3, "U = I ones (lambda_max)");
    rg_assert_rel(tm, 0.5 * log(66.0), 1e-10, "1/2 log(1 + |m|^2 + sigma^2) (7.1 a, isotropic)");
    rg_process_free(p);
}

static void test_nonrev_collapse_table(void **state)
{
    (void)state;
    /* docs/math.md 9.6 collapse t_C; alpha is given, so n_train = exp(alpha N). cw: 0 = I, 1 = U^-1, 2 = U.
     * A want of 0 marks the table's "-". */
    static const struct { double alpha; int cw, dec; double t[3]; } row[] = {
        { 0.05, 0, 3, { 1.288, 1.338, 1.184 } },    { 0.05, 1, 3, { 1.815, 1.477, 1.182 } },
        { 0.05, 2, 3, { 1.106, 1.388, 1.250 } },    { 0.15, 0, 3, { 0.691, 0.707, 0.721 } },
        { 0.15, 1, 3, { 0.898, 0.844, 0.717 } },    { 0.15, 2, 3, { 0.627, 0.684, 0.793 } },
        { 0.5, 0, 4, { 0.2294, 0.2296, 0.2304 } },  { 0.5, 1, 4, { 0.2754, 0.2740, 0.2655 } },
        { 1.0, 0, 4, { 0.0727, 0.0727, 0.0726 } },  { 1.0, 1, 4, { 0.0849, 0.0849, 0.0846 } },
        { -1.0, 0, 3, { 0.676, 0.691, 0 } }, /* alpha = log(20000)/64 */
    };
    const double scale[3] = { 0.0, 1.0, 3.0 };
    static nr_data g[3];
    double diag[3][NR];
    for (int i = 0; i < NR; i++) {
        diag[0][i] = 1.0;
        diag[1][i] = 1.0 / nr_U[i * NR + i];
        diag[2][i] = nr_U[i * NR + i];
    }
    for (int c = 0; c < 3; c++) nr_data_init(&g[c], 0, diag[c]);
    for (int q = 0; q < 3; q++) {
        rg_process *p = nr_process(nr_U, scale[q]);
        for (size_t i = 0; i < sizeof row / sizeof row[0]; i++) {
            if (row[i].t[q] == 0.0) continue;
            double P = row[i].alpha > 0 ? exp(row[i].alpha * NR) : 20000.0;
            rg_assert_digits(t_coll(p, &g[row[i].cw].data, P), row[i].t[q], row[i].dec, "nonrev t_C");
        }
        rg_process_free(p);
    }
}

/* ---- invariances (docs/math.md 2.6) ------------------------------------------------------------------- */

#define NI 5
typedef struct {
    double e[NI], norm2[1], Cw[NI * NI];
    rg_theory_data data;
} small_data;

/* Generic direction and generic SPD Cw = B B^T / NI + 0.5 I (fixed seed). */
static void small_data_init(small_data *g, unsigned long long seed)
{
    double B[NI * NI];
    for (int i = 0; i < NI; i++) g->e[i] = lcg_uniform(&seed);
    for (int i = 0; i < NI * NI; i++) B[i] = lcg_uniform(&seed);
    for (int i = 0; i < NI; i++)
        for (int j = 0; j < NI; j++) {
            double s = i == j ? 0.5 : 0.0;
            for (int k = 0; k < NI; k++) s += B[i * NI + k] * B[j * NI + k] / NI;
            g->Cw[i * NI + j] = s;
        }
    g->norm2[0] = 12.0;
    g->data = (rg_theory_data){ .n_labels = 1, .pattern = g->e, .mean_norm2 = g->norm2, .Cw = g->Cw };
}

typedef struct { double ts_gmm, ts_mat, tc; } times3;

static times3 times_of(const double *U, const double *Q, const rg_theory_data *d)
{
    rg_process *p = NULL;
    assert_int_equal(rg_process_nonrev(NI, U, Q, &p), RG_OK);
    times3 r = { t_spec(p, d, 0, RG_SPECIATION_GMM), t_spec(p, d, 0, RG_SPECIATION_MATRIX),
                 t_coll(p, d, 200.0) };
    rg_process_free(p);
    return r;
}

static void assert_same_times(times3 a, times3 b, const char *what)
{
    rg_assert_rel(a.ts_gmm, b.ts_gmm, 1e-10, what);
    rg_assert_rel(a.ts_mat, b.ts_mat, 1e-10, what);
    rg_assert_rel(a.tc, b.tc, 1e-10, what);
}

static void test_isotropic_u_q_invariance(void **state)
{
    (void)state;
    double U[NI * NI] = { 0 }, Q[NI * NI] = { 0 };
    unsigned long long seed = 12345;
    for (int i = 0; i < NI; i++) U[i * NI + i] = 1.0;
    for (int i = 0; i < NI; i++)
        for (int j = 0; j < i; j++) {
            Q[i * NI + j] = 2.0 * lcg_uniform(&seed);
            Q[j * NI + i] = -Q[i * NI + j];
        }
    small_data g;
    small_data_init(&g, 777);
    assert_same_times(times_of(U, NULL, &g.data), times_of(U, Q, &g.data), "U = I: times independent of Q");
}

static void test_commuting_q_invariance(void **state)
{
    (void)state;
    /* U = diag(0.5, 0.5, 1.5, 1.5, 3); Q rotates inside the equal-eigenvalue blocks: [Q, U] = 0 */
    double U[NI * NI] = { 0 }, Q[NI * NI] = { 0 };
    const double u[NI] = { 0.5, 0.5, 1.5, 1.5, 3.0 };
    for (int i = 0; i < NI; i++) U[i * NI + i] = u[i];
    Q[0 * NI + 1] = 1.7, Q[1 * NI + 0] = -1.7;
    Q[2 * NI + 3] = -0.6, Q[3 * NI + 2] = 0.6;
    small_data g;
    small_data_init(&g, 4242);
    times3 t0 = times_of(U, NULL, &g.data);
    assert_same_times(t0, times_of(U, Q, &g.data), "[Q, U] = 0: times independent of Q");
    /* the check is sensitive: a Q pairing slow (0.5) with fast (3) directions moves t_S */
    double Q2[NI * NI] = { 0 };
    Q2[0 * NI + 4] = 1.0, Q2[4 * NI + 0] = -1.0;
    times3 t2 = times_of(U, Q2, &g.data);
    assert_true(fabs(t2.ts_gmm - t0.ts_gmm) > 1e-3);
}

/* The dense process A = M (x) I_d with pattern e_l (x) u_l and Cw2 (x) I_d is the coupled one. */
static void test_dense_matches_coupled(void **state)
{
    (void)state;
    enum { D = 3, K = 2 * D };
    const double u[2][D] = { { 1.0 / 3, 2.0 / 3, 2.0 / 3 }, { 2.0 / 3, -2.0 / 3, 1.0 / 3 } }; /* orthonormal */
    const double pat2[4] = { 1, 1, 1, -1 }, cw2[4] = { 1.0, 0.3, 0.3, 0.8 }, norm2[2] = { 25.0, 16.0 };
    double M[4], A[K * K] = { 0 }, pat[2 * K], Cw[K * K] = { 0 };
    rg_process_coupling_aniso(1.0, 1.0, 0.8, 0.2, M);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            for (int a = 0; a < D; a++) {
                A[(i * D + a) * K + j * D + a] = M[i * 2 + j];
                Cw[(i * D + a) * K + j * D + a] = cw2[i * 2 + j];
            }
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < 2; i++)
            for (int a = 0; a < D; a++) pat[l * K + i * D + a] = pat2[l * 2 + i] * u[l][a];
    rg_theory_data d2 = { .n_labels = 2, .pattern = pat2, .mean_norm2 = norm2, .Cw = cw2 };
    rg_theory_data dk = { .n_labels = 2, .pattern = pat, .mean_norm2 = norm2, .Cw = Cw };
    rg_process *pc = coupled(M, D), *pg = NULL;
    assert_int_equal(rg_process_general(K, A, &pg), RG_OK);
    for (size_t l = 0; l < 2; l++) {
        double kc, kg;
        assert_int_equal(rg_theory_kappa(pc, &d2, l, 1.3, &kc), RG_OK);
        assert_int_equal(rg_theory_kappa(pg, &dk, l, 1.3, &kg), RG_OK);
        rg_assert_rel(kg, kc, 1e-12, "kappa: dense = coupled");
        assert_int_equal(rg_theory_kmax(pc, &d2, l, 1.3, &kc), RG_OK);
        assert_int_equal(rg_theory_kmax(pg, &dk, l, 1.3, &kg), RG_OK);
        rg_assert_rel(kg, kc, 1e-12, "lambda_max: dense = coupled");
        rg_assert_rel(t_spec(pg, &dk, l, RG_SPECIATION_GMM), t_spec(pc, &d2, l, RG_SPECIATION_GMM), 1e-10,
                      "t_S: dense = coupled");
    }
    rg_assert_rel(t_coll(pg, &dk, 50.0), t_coll(pc, &d2, 50.0), 1e-10, "t_C: dense = coupled");
    rg_process_free(pc);
    rg_process_free(pg);
}

/* ---- horizon, bad input, no root ------------------------------------------------------------------ */

static void test_horizon(void **state)
{
    (void)state;
    /* OU, sigma^2 = 1: kappa = |m|^2 e^{-2t}, so kappa = level at T = 1/2 log(|m|^2 / level) */
    const double pat[2] = { 1, 1 }, n2[2] = { 25.0, 4.0 }, cw[1] = { 1.0 };
    rg_theory_data d = { .n_labels = 2, .pattern = pat, .mean_norm2 = n2, .Cw = cw };
    rg_process *p = NULL;
    double T = 0;
    assert_int_equal(rg_process_ou(10, &p), RG_OK);
    assert_int_equal(rg_theory_horizon(p, &d, 0.01, &T), RG_OK);
    rg_assert_rel(T, 0.5 * log(2500.0), 1e-10, "OU horizon, max over labels");
    rg_process_free(p);
    /* A = 0 (lambda = 0, docs/math.md 7.4): kappa = |m|^2 / (sigma^2 + 2t) > 0.01 at t = 200 */
    const double zero[1] = { 0.0 }, big[1] = { 1000.0 };
    rg_theory_data d1 = { .n_labels = 1, .pattern = pat, .mean_norm2 = big, .Cw = cw };
    assert_int_equal(rg_process_general(1, zero, &p), RG_OK);
    assert_int_equal(rg_theory_horizon(p, &d1, 0.01, &T), RG_OK);
    assert_true(isinf(T) && T > 0);
    assert_int_equal(rg_theory_horizon(p, &d1, 10.0, &T), RG_OK); /* 1000 / (1 + 2T) = 10 */
    rg_assert_rel(T, 49.5, 1e-10, "A = 0 horizon");
    assert_int_equal(rg_theory_horizon(p, &d1, 0.0, &T), RG_EINVAL);
    rg_process_free(p);
}

static void test_check_rejects(void **state)
{
    (void)state;
    rg_process *p2 = cross(0.3, 4);
    gmm4 g;
    gmm4_init(&g, 25.0, 25.0, 1.0);
    assert_null(rg_theory_check(p2, &g.data));
    rg_theory_data bad = g.data;
    bad.n_labels = 0;
    assert_non_null(rg_theory_check(p2, &bad));
    bad = g.data;
    bad.Cw = NULL;
    assert_non_null(rg_theory_check(p2, &bad));
    assert_non_null(rg_theory_check(NULL, &g.data));
    assert_non_null(rg_theory_check(p2, NULL));
    double pat[4] = { 1, 1, 0, 0 }, n2[2] = { 25, 25 }, cw[4] = { 1, 0, 0, 1 };
    bad = (rg_theory_data){ .n_labels = 2, .pattern = pat, .mean_norm2 = n2, .Cw = cw };
    assert_non_null(rg_theory_check(p2, &bad)); /* zero pattern row */
    pat[2] = NAN;
    assert_non_null(rg_theory_check(p2, &bad));
    pat[2] = 1.0, pat[3] = -1.0;
    assert_null(rg_theory_check(p2, &bad));
    n2[1] = 0.0;
    assert_non_null(rg_theory_check(p2, &bad)); /* |m|^2 must be > 0 */
    n2[1] = NAN;
    assert_non_null(rg_theory_check(p2, &bad));
    n2[1] = 25.0;
    cw[1] = cw[2] = 2.0; /* symmetric, indefinite */
    assert_non_null(rg_theory_check(p2, &bad));
    double t, kap;
    int found;
    assert_int_equal(rg_theory_speciation(p2, &bad, 0, RG_SPECIATION_GMM, &t, &found), RG_EDOM);
    assert_true(strlen(rg_strerror_last()) > 0);
    cw[1] = 0.5, cw[2] = 0.4; /* not symmetric */
    assert_non_null(rg_theory_check(p2, &bad));
    cw[1] = cw[2] = NAN;
    assert_non_null(rg_theory_check(p2, &bad));
    assert_int_equal(rg_theory_kappa(p2, &bad, 0, 1.0, &kap), RG_EINVAL);
    /* arguments */
    assert_int_equal(rg_theory_kappa(p2, &g.data, 2, 1.0, &kap), RG_EINVAL);  /* label */
    assert_int_equal(rg_theory_kappa(p2, &g.data, 0, 0.0, &kap), RG_EINVAL);  /* t = 0 */
    assert_int_equal(rg_theory_kmax(p2, &g.data, 0, NAN, &kap), RG_EINVAL);   /* t NaN */
    assert_int_equal(rg_theory_collapse(p2, &g.data, 0.5, &t, &found), RG_EINVAL); /* P < 1 */
    assert_int_equal(rg_theory_collapse_f(p2, &g.data, NAN, 1.0, &kap), RG_EINVAL);
    assert_int_equal(rg_theory_speciation(p2, &g.data, 0, (rg_speciation_criterion)7, &t, &found), RG_EINVAL);
    rg_process_free(p2);
}

static void test_no_root(void **state)
{
    (void)state;
    rg_process *p = NULL;
    assert_int_equal(rg_process_ou(4, &p), RG_OK);
    gmm2 g; /* |m|^2 < sigma^2: kappa = 0.5 e^{-2t} < 1 for every t (docs/math.md 7.1 c) */
    gmm2_init(&g, 0.5, 1.0);
    double t = 0;
    int found = -1;
    assert_int_equal(rg_theory_speciation(p, &g.data, 0, RG_SPECIATION_GMM, &t, &found), RG_OK);
    assert_int_equal(found, 0);
    assert_true(isnan(t));
    /* P = 1: alpha = 0, f = 0 for all t, no collapse crossing */
    found = -1;
    assert_int_equal(rg_theory_collapse(p, &g.data, 1.0, &t, &found), RG_OK);
    assert_int_equal(found, 0);
    rg_process_free(p);
    /* lambda < 0 beyond the bound |lambda| (|mu|^2 - sigma^2) < 1 (docs/math.md 7.4): kappa(inf) > 1 */
    const double A[1] = { -0.1 };
    gmm2_init(&g, 30.0, 1.0); /* kappa(inf) = 0.1 * 30 / 1.1 > 1 */
    assert_int_equal(rg_process_general(1, A, &p), RG_OK);
    assert_int_equal(rg_theory_speciation(p, &g.data, 0, RG_SPECIATION_GMM, &t, &found), RG_OK);
    assert_int_equal(found, 0);
    rg_process_free(p);
}


/* ---- the fast engine against the naive reference (RG_THEORY_NAIVE) ------------------------------- */

/* Fast (modal coordinates, bracketing + Newton/Brent) and naive (Van Loan moments per t, the 400-point
 * scan of docs/math.md 7) plans on the same process and data. */
typedef struct {
    rg_theory_plan *fast, *naive;
} plan_pair;

static plan_pair pair_new(const rg_process *p, const rg_theory_data *d)
{
    plan_pair pp = { NULL, NULL };
    assert_int_equal(rg_theory_plan_new(p, d, 0, &pp.fast), RG_OK);
    assert_int_equal(rg_theory_plan_new(p, d, RG_THEORY_NAIVE, &pp.naive), RG_OK);
    return pp;
}

static void pair_free(plan_pair *pp)
{
    rg_theory_plan_free(pp->fast);
    rg_theory_plan_free(pp->naive);
}

/* Both roots found, agreeing to rtol: each is refined to 1e-12 in t (Brent, Newton), and both
 * engines evaluate the criteria to ~1e-13 (moments exact to ~1e-14, modal errors of the bases used
 * here well below that): 1e-9 is the bar, with three orders of margin. */
static void same_speciation(plan_pair *pp, size_t label, rg_speciation_criterion c, double rtol, const char *what)
{
    double tf = NAN, tn = NAN;
    int ff = -1, fn = -1;
    assert_int_equal(rg_theory_plan_speciation(pp->fast, label, c, &tf, &ff), RG_OK);
    assert_int_equal(rg_theory_plan_speciation(pp->naive, label, c, &tn, &fn), RG_OK);
    assert_int_equal(ff, fn);
    if (ff) rg_assert_rel(tf, tn, rtol, what);
}

static void same_collapse(plan_pair *pp, double n_train, double rtol, const char *what)
{
    double tf = NAN, tn = NAN;
    int ff = -1, fn = -1;
    assert_int_equal(rg_theory_plan_collapse(pp->fast, n_train, &tf, &ff), RG_OK);
    assert_int_equal(rg_theory_plan_collapse(pp->naive, n_train, &tn, &fn), RG_OK);
    assert_int_equal(ff, fn);
    if (ff) rg_assert_rel(tf, tn, rtol, what);
}

/* The same agreement at two naive evaluations instead of a 400-point scan: every criterion decreases
 * in t (test_criteria_decrease), so the naive root lies within rtol of the fast root t_f exactly when
 * the naive criterion is above its level at t_f (1 - rtol) and below it at t_f (1 + rtol). c: 0
 * kappa = level, 1 lambda_max = 1, 2 collapse with P = level (f = max(0, alpha - s) is 0 before t_C). */
static void naive_brackets(plan_pair *pp, int c, double level, double rtol, const char *what)
{
    double tf = NAN, lo, hi;
    int found = -1;
    if (c == 0 && level == 1.0)
        assert_int_equal(rg_theory_plan_speciation(pp->fast, 0, RG_SPECIATION_GMM, &tf, &found), RG_OK);
    else if (c == 0) {
        assert_int_equal(rg_theory_plan_horizon(pp->fast, level, &tf), RG_OK);
        found = 1;
    } else if (c == 1)
        assert_int_equal(rg_theory_plan_speciation(pp->fast, 0, RG_SPECIATION_MATRIX, &tf, &found), RG_OK);
    else
        assert_int_equal(rg_theory_plan_collapse(pp->fast, level, &tf, &found), RG_OK);
    assert_int_equal(found, 1);
    double t0 = tf * (1.0 - rtol), t1 = tf * (1.0 + rtol);
    if (c == 0) {
        assert_int_equal(rg_theory_plan_kappa(pp->naive, 0, t0, &lo), RG_OK);
        assert_int_equal(rg_theory_plan_kappa(pp->naive, 0, t1, &hi), RG_OK);
    } else if (c == 1) {
        assert_int_equal(rg_theory_plan_kmax(pp->naive, 0, t0, &lo), RG_OK);
        assert_int_equal(rg_theory_plan_kmax(pp->naive, 0, t1, &hi), RG_OK);
        level = 1.0;
    } else { /* above the level <=> s > alpha <=> f = 0 */
        assert_int_equal(rg_theory_plan_collapse_f(pp->naive, level, t0, &lo), RG_OK);
        assert_int_equal(rg_theory_plan_collapse_f(pp->naive, level, t1, &hi), RG_OK);
        lo = lo == 0.0 ? 2.0 : 0.0;
        hi = hi == 0.0 ? 2.0 : 0.0;
        level = 1.0;
    }
    if (!(lo > level && hi < level)) {
        print_error("%s: the naive criterion does not cross %g within %g of t = %.17g (%.17g, %.17g)\n", what,
                    level, rtol, tf, lo, hi);
        fail();
    }
}

static void test_fast_vs_naive_nonrev_table(void **state)
{
    (void)state;
    /* Every docs/math.md 9.6 non-reversible time: t_S (kappa: 8 Q scales x 3 directions; lambda_max where
     * the table gives it), the horizon of each scale, t_C (every row: alpha, Cw = I, U^-1, U; Q = 0,
     * Q_opt, 3 Q_opt), U = I. The fast times against the naive criteria (naive_brackets: 1e-9), and
     * against full naive scans for the Q_opt row (each costs ~0.1 s here). At 0.5 Q_opt one of the 32
     * slow/fast pairs sits next to its exceptional point (docs/math.md 4.5; cond(R) ~ 1e8): the modal form
     * is refused and the plan works from the moments (Van Loan). */
    const struct { double s; int matrix; } sc[] = { { 0.0, 1 }, { 0.25, 0 }, { 0.5, 1 }, { 1.0, 1 },
                                                    { 2.0, 0 },  { 4.0, 0 },  { 8.0, 0 }, { -1.0, 1 } };
    const int dirs[3] = { 0, NR - 1, -1 };
    static nr_data g[3], c[3];
    double diag[3][NR];
    for (int i = 0; i < NR; i++) {
        diag[0][i] = 1.0;
        diag[1][i] = 1.0 / nr_U[i * NR + i];
        diag[2][i] = nr_U[i * NR + i];
    }
    for (int j = 0; j < 3; j++) {
        nr_data_init(&g[j], dirs[j], NULL);
        nr_data_init(&c[j], 0, diag[j]);
    }
    for (size_t q = 0; q < sizeof sc / sizeof sc[0]; q++) {
        rg_process *p = nr_process(nr_U, sc[q].s);
        assert_int_equal(rg_process_modal(p) != NULL, sc[q].s != 0.5);
        for (int j = 0; j < 3; j++) {
            plan_pair pp = pair_new(p, &g[j].data);
            naive_brackets(&pp, 0, 1.0, 1e-9, "9.6 t_S (kappa): fast vs naive");
            if (sc[q].matrix && (j == 2 || sc[q].s != -1.0))
                naive_brackets(&pp, 1, 1.0, 1e-9, "9.6 t_S (lambda_max): fast vs naive");
            if (j == 2) naive_brackets(&pp, 0, 0.01, 1e-9, "9.6 horizon: fast vs naive");
            if (sc[q].s == 1.0 && j == 2) { /* the scan itself, once per criterion */
                same_speciation(&pp, 0, RG_SPECIATION_GMM, 1e-9, "9.6 t_S (kappa): fast vs naive scan");
                same_speciation(&pp, 0, RG_SPECIATION_MATRIX, 1e-9, "9.6 t_S (lambda_max): fast vs naive scan");
            }
            pair_free(&pp);
        }
        rg_process_free(p);
    }
    const double cscale[3] = { 0.0, 1.0, 3.0 };
    const double alphas[5] = { 0.05, 0.15, 0.5, 1.0, 0.15474621396460088 /* log(20000)/64 */ };
    for (int q = 0; q < 3; q++) {
        rg_process *p = nr_process(nr_U, cscale[q]);
        for (int j = 0; j < 3; j++) {
            plan_pair pp = pair_new(p, &c[j].data);
            for (int a = 0; a < 5; a++)
                if (j < 2 || a < 2) naive_brackets(&pp, 2, exp(alphas[a] * NR), 1e-9, "9.6 t_C: fast vs naive");
            if (q == 1 && j == 0) same_collapse(&pp, exp(0.05 * NR), 1e-9, "9.6 t_C: fast vs naive scan");
            pair_free(&pp);
        }
        rg_process_free(p);
    }
    /* U = I, m = ones (2.079 kappa, 2.095 lambda_max) */
    static double I[NR * NR];
    rg_process *p = NULL;
    for (int i = 0; i < NR; i++) I[i * NR + i] = 1.0;
    assert_int_equal(rg_process_nonrev(NR, I, NULL, &p), RG_OK);
    plan_pair pp = pair_new(p, &g[2].data);
    naive_brackets(&pp, 0, 1.0, 1e-9, "9.6 U = I t_S (kappa)");
    naive_brackets(&pp, 1, 1.0, 1e-9, "9.6 U = I t_S (lambda_max)");
    pair_free(&pp);
    rg_process_free(p);
}

/* A random stable general drift of size n (a shifted dense matrix: complex pairs, non-normal), a
 * random SPD Cw = B B^T / n + 0.2 I and a random unit pattern, from seed. */
typedef struct {
    size_t n;
    double A[144], Cw[144], e[12], norm2[1];
    rg_theory_data data;
} rand_case;

static void rand_case_init(rand_case *rc, size_t n, unsigned long long seed, double m2)
{
    double B[144], en = 0.0;
    rc->n = n;
    for (size_t i = 0; i < n * n; i++) rc->A[i] = 1.6 * lcg_uniform(&seed) / sqrt((double)n);
    for (size_t i = 0; i < n; i++) rc->A[i * n + i] += 1.5; /* spectral radius of the rest ~0.92 */
    for (size_t i = 0; i < n * n; i++) B[i] = lcg_uniform(&seed);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double acc = i == j ? 0.2 : 0.0;
            for (size_t l = 0; l < n; l++) acc += B[i * n + l] * B[j * n + l] / (double)n;
            rc->Cw[i * n + j] = acc;
        }
    for (size_t i = 0; i < n; i++) rc->e[i] = lcg_uniform(&seed), en += rc->e[i] * rc->e[i];
    for (size_t i = 0; i < n; i++) rc->e[i] /= sqrt(en);
    rc->norm2[0] = m2;
    rc->data = (rg_theory_data){ .n_labels = 1, .pattern = rc->e, .mean_norm2 = rc->norm2, .Cw = rc->Cw };
}

static void test_fast_vs_naive_random(void **state)
{
    (void)state;
    /* Random stable drifts (n = 5, 8, 12, complex pairs, non-normal), random dense SPD Cw and random
     * directions: every time (1e-9) and the criteria at single times (1e-11: no root finding, both
     * exact up to rounding and the Van Loan / modal errors of ~1e-13). */
    const struct { size_t n; unsigned long long seed; double m2; } cases[] = {
        { 5, 11, 20.0 }, { 8, 22, 40.0 }, { 12, 33, 80.0 }, { 8, 44, 3.0 },
    };
    static rand_case rc;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rand_case_init(&rc, cases[c].n, cases[c].seed, cases[c].m2);
        rg_process *p = NULL;
        assert_int_equal(rg_process_general(rc.n, rc.A, &p), RG_OK);
        assert_non_null(rg_process_modal(p));
        plan_pair pp = pair_new(p, &rc.data);
        same_speciation(&pp, 0, RG_SPECIATION_GMM, 1e-9, "random drift t_S (kappa)");
        same_speciation(&pp, 0, RG_SPECIATION_MATRIX, 1e-9, "random drift t_S (lambda_max)");
        same_collapse(&pp, 50.0, 1e-9, "random drift t_C, P = 50");
        same_collapse(&pp, 1e4, 1e-9, "random drift t_C, P = 1e4");
        double Tf, Tn;
        assert_int_equal(rg_theory_plan_horizon(pp.fast, 0.01, &Tf), RG_OK);
        assert_int_equal(rg_theory_plan_horizon(pp.naive, 0.01, &Tn), RG_OK);
        rg_assert_rel(Tf, Tn, 1e-9, "random drift horizon");
        const double ts[] = { 2e-4, 0.05, 0.6, 2.5, 11.0 };
        for (size_t i = 0; i < 5; i++) {
            double a, b;
            assert_int_equal(rg_theory_plan_kappa(pp.fast, 0, ts[i], &a), RG_OK);
            assert_int_equal(rg_theory_plan_kappa(pp.naive, 0, ts[i], &b), RG_OK);
            rg_assert_rel(a, b, 1e-11, "random drift kappa(t)");
            assert_int_equal(rg_theory_plan_kmax(pp.fast, 0, ts[i], &a), RG_OK);
            assert_int_equal(rg_theory_plan_kmax(pp.naive, 0, ts[i], &b), RG_OK);
            rg_assert_rel(a, b, 1e-11, "random drift lambda_max(K_t)");
            assert_int_equal(rg_theory_plan_collapse_f(pp.fast, 1e4, ts[i], &a), RG_OK);
            assert_int_equal(rg_theory_plan_collapse_f(pp.naive, 1e4, ts[i], &b), RG_OK);
            rg_assert_abs(a, b, 1e-12, "random drift f(t)"); /* f = max(0, alpha - s): absolute */
        }
        pair_free(&pp);
        rg_process_free(p);
    }
}

static void test_criteria_decrease(void **state)
{
    (void)state;
    /* theory.h: every criterion decreases in t (dkappa/dt = -2 |m|^2 |G^-1 p|^2, dmu/dt = -2 mu |v|^2 /
     * v^T Sigma v, each eigenvalue of K^w likewise). The root search relies on it (a unique root). On
     * the naive values (independent of the fast engine), on a geometric grid of 60 times in [1e-3, 6],
     * for a random non-normal drift and dense Cw: strictly decreasing, beyond the ~1e-13 noise. */
    static rand_case rc;
    rand_case_init(&rc, 8, 555, 30.0);
    rg_process *p = NULL;
    rg_theory_plan *pl = NULL;
    assert_int_equal(rg_process_general(rc.n, rc.A, &p), RG_OK);
    assert_int_equal(rg_theory_plan_new(p, &rc.data, RG_THEORY_NAIVE, &pl), RG_OK);
    double prev[3] = { INFINITY, INFINITY, INFINITY }, P = exp(80.0); /* alpha = 10 > s(t) on the grid */
    for (int i = 0; i < 60; i++) {
        double t = 1e-3 * pow(6e3, i / 59.0), v[3], f;
        assert_int_equal(rg_theory_plan_kappa(pl, 0, t, &v[0]), RG_OK);
        assert_int_equal(rg_theory_plan_kmax(pl, 0, t, &v[1]), RG_OK);
        assert_int_equal(rg_theory_plan_collapse_f(pl, P, t, &f), RG_OK); /* f = alpha - s > 0 */
        v[2] = 80.0 / (double)rc.n - f;                                /* s(t), resolved to ~1e-15 */
        for (int c = 0; c < 3; c++) {
            if (!(v[c] < prev[c] * (1.0 - 1e-12))) {
                print_error("criterion %d not decreasing at t = %g: %.17g after %.17g\n", c, t, v[c], prev[c]);
                fail();
            }
            prev[c] = v[c];
        }
    }
    rg_theory_plan_free(pl);
    rg_process_free(p);
}

static void test_lanczos_dense_cw(void **state)
{
    (void)state;
    /* k = 100 > 96: lambda_max by Lanczos, on a non-decoupled problem (dense Cw from MNIST-like data is
     * the use case): nonrev with U = diag(linspace(0.2, 1.8)), Q_opt, a dense SPD Cw and a random
     * direction. Fast against naive (1e-9), one dense block, Lanczos used. */
    enum { K = 100 };
    double *U = calloc(3 * K * K + K, sizeof *U), *Q = U + K * K, *Cw = Q + K * K, *e = Cw + K * K, norm2 = 150.0;
    assert_non_null(U);
    unsigned long long seed = 9090;
    for (int i = 0; i < K; i++) U[i * K + i] = 0.2 + 1.6 * i / (K - 1.0);
    assert_int_equal(rg_nonrev_optimal_q(K, U, NULL, Q), RG_OK);
    double *B = malloc(K * K * sizeof *B), en = 0.0;
    assert_non_null(B);
    for (int i = 0; i < K * K; i++) B[i] = lcg_uniform(&seed);
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double acc = i == j ? 0.1 : 0.0;
            for (int l = 0; l < K; l++) acc += B[i * K + l] * B[j * K + l] / K;
            Cw[i * K + j] = acc;
        }
    for (int i = 0; i < K; i++) e[i] = lcg_uniform(&seed), en += e[i] * e[i];
    for (int i = 0; i < K; i++) e[i] /= sqrt(en);
    rg_theory_data d = { .n_labels = 1, .pattern = e, .mean_norm2 = &norm2, .Cw = Cw };
    rg_process *p = NULL;
    assert_int_equal(rg_process_nonrev(K, U, Q, &p), RG_OK);
    plan_pair pp = pair_new(p, &d);
    same_speciation(&pp, 0, RG_SPECIATION_MATRIX, 1e-9, "k = 100 t_S (lambda_max, Lanczos)");
    same_speciation(&pp, 0, RG_SPECIATION_GMM, 1e-9, "k = 100 t_S (kappa)");
    same_collapse(&pp, 2e4, 1e-9, "k = 100 t_C");
    rg_theory_stats st;
    rg_theory_plan_stats(pp.fast, &st);
    assert_int_equal(st.modal, 1);
    assert_int_equal(st.blocks, 1);
    assert_true(st.matrix.lanczos > 0);
    pair_free(&pp);
    rg_process_free(p);
    free(B);
    free(U);
}

static void test_eval_counts(void **state)
{
    (void)state;
    /* The search costs a handful of evaluations per root where the scan of docs/math.md 7 costs 100+:
     * N = 64, Q_opt, m along ones (9.6). Bounds (measured 5-8 per root): 12 each; naive >= 100. And the
     * decoupled structure is found: diag U with Q_opt pairs slow with fast directions (32 blocks of 2),
     * Cw = I respects them. */
    static nr_data g;
    nr_data_init(&g, -1, NULL);
    rg_process *p = nr_process(nr_U, 1.0);
    plan_pair pp = pair_new(p, &g.data);
    double t, T;
    int found;
    assert_int_equal(rg_theory_plan_speciation(pp.fast, 0, RG_SPECIATION_GMM, &t, &found), RG_OK);
    assert_int_equal(rg_theory_plan_speciation(pp.fast, 0, RG_SPECIATION_MATRIX, &t, &found), RG_OK);
    assert_int_equal(rg_theory_plan_collapse(pp.fast, 20000.0, &t, &found), RG_OK);
    assert_int_equal(rg_theory_plan_horizon(pp.fast, 0.01, &T), RG_OK);
    assert_int_equal(rg_theory_plan_speciation(pp.naive, 0, RG_SPECIATION_GMM, &t, &found), RG_OK);
    rg_theory_stats f, n;
    rg_theory_plan_stats(pp.fast, &f);
    rg_theory_plan_stats(pp.naive, &n);
    assert_int_equal(f.modal, 1);
    assert_int_equal(f.blocks, NR / 2);
    assert_int_equal(f.moments, 0); /* no moment, hence no matrix exponential, anywhere */
    assert_true(f.kappa.evals >= 1 && f.kappa.evals <= 12);
    assert_true(f.matrix.evals >= 1 && f.matrix.evals <= 12);
    assert_true(f.collapse.evals >= 1 && f.collapse.evals <= 12);
    assert_true(f.horizon.evals >= 1 && f.horizon.evals <= 12);
    assert_true(n.kappa.evals >= 100 && n.moments >= 100);
    pair_free(&pp);
    rg_process_free(p);
}

static void test_exceptional_point_fallback(void **state)
{
    (void)state;
    /* docs/math.md 4.5 at q* = 4/3 (defective A): no modal form; the plan works from the moments (Van Loan)
     * and the search gives the scan's times. Just off q* (1e-4) the modal form is kept. Both against
     * the naive plan, 1e-9. Data: |m|^2 = 20 along (1, 1)/sqrt 2, Cw = I. */
    const double U[4] = { 0.2, 0, 0, 1.8 }, e[2] = { 0.70710678118654752, 0.70710678118654752 }, cw[4] = { 1, 0, 0, 1 }, m2 = 20.0;
    rg_theory_data d = { .n_labels = 1, .pattern = e, .mean_norm2 = &m2, .Cw = cw };
    const double qs[2] = { 4.0 / 3.0, 4.0 / 3.0 * (1.0 + 1e-4) };
    for (int k = 0; k < 2; k++) {
        const double Q[4] = { 0, qs[k], -qs[k], 0 };
        rg_process *p = NULL;
        assert_int_equal(rg_process_nonrev(2, U, Q, &p), RG_OK);
        plan_pair pp = pair_new(p, &d);
        rg_theory_stats st;
        rg_theory_plan_stats(pp.fast, &st);
        assert_int_equal(st.modal, k == 1);
        same_speciation(&pp, 0, RG_SPECIATION_GMM, 1e-9, "exceptional point t_S (kappa)");
        same_speciation(&pp, 0, RG_SPECIATION_MATRIX, 1e-9, "exceptional point t_S (lambda_max)");
        same_collapse(&pp, 20.0, 1e-9, "exceptional point t_C");
        pair_free(&pp);
        rg_process_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phi_table),
        cmocka_unit_test(test_phi_nishimori),
        cmocka_unit_test(test_phi_edges),
        cmocka_unit_test(test_phi_parent_mixture),
        cmocka_unit_test(test_parent_collapse),
        cmocka_unit_test(test_ou_speciation),
        cmocka_unit_test(test_criteria_one_time),
        cmocka_unit_test(test_mode_time),
        cmocka_unit_test(test_cross_drive_table),
        cmocka_unit_test(test_small_gamma_column),
        cmocka_unit_test(test_ordering_example),
        cmocka_unit_test(test_joint_collapse_table),
        cmocka_unit_test(test_mode_collapse),
        cmocka_unit_test(test_collapse_f_values),
        cmocka_unit_test(test_aniso_table),
        cmocka_unit_test(test_schedule_table),
        cmocka_unit_test_setup(test_nonrev_speciation_table, nr_setup),
        cmocka_unit_test_setup(test_nonrev_collapse_table, nr_setup),
        cmocka_unit_test(test_isotropic_u_q_invariance),
        cmocka_unit_test(test_commuting_q_invariance),
        cmocka_unit_test(test_dense_matches_coupled),
        cmocka_unit_test(test_horizon),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_no_root),
        cmocka_unit_test_setup(test_fast_vs_naive_nonrev_table, nr_setup),
        cmocka_unit_test(test_fast_vs_naive_random),
        cmocka_unit_test(test_criteria_decrease),
        cmocka_unit_test(test_lanczos_dense_cw),
        cmocka_unit_test_setup(test_eval_counts, nr_setup),
        cmocka_unit_test(test_exceptional_point_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
