/* Tests of the reverse-time samplers (sampler.h), written independently of sampler.c against the
 * header: the grid contract, the data law recovered with the exact score of one Gaussian (EM, EXP),
 * the exactness of the exponential integrator for a point mass (P = 1 empirical score), invariance
 * under slicing of the trajectory ids, the two ends of the cloning curve (independent and shared
 * trunks) and the structure of shared trunks. Fixed seeds; statistical
 * checks fail only beyond 5 sigma (plus a stated discretisation allowance). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/sampler.h"
#include "regimes/score.h"
#include "regimes/theory.h"

#define SEED 777001u

static double *make_grid(rg_sampler_grid_kind kind, double T, double t_end, size_t K, const double *extra,
                         size_t n_extra, size_t *n)
{
    double *g = malloc(rg_sampler_grid_size(kind, K, n_extra) * sizeof *g);
    assert_non_null(g);
    assert_int_equal(rg_sampler_grid(kind, T, t_end, K, extra, n_extra, g, n), RG_OK);
    return g;
}

static void test_grid(void **state)
{
    (void)state;
    const double extra[3] = { 2.5, 0.123, 2.5 }; /* 2.5 is on the base grid and repeated */
    size_t n = 0;
    double *g = make_grid(RG_GRID_UNIFORM, 10.0, 0.0, 4, extra, 3, &n);
    /* base grid 10, 7.5, 5, 2.5, 0 united with {2.5, 0.123}: 6 points */
    assert_int_equal(n, 6);
    const double want[6] = { 10.0, 7.5, 5.0, 2.5, 0.123, 0.0 };
    for (size_t i = 0; i < n; i++) rg_assert_abs(g[i], want[i], 1e-12, "uniform grid with extras");
    free(g);
    g = make_grid(RG_GRID_GEOMETRIC, 8.0, 0.01, 10, NULL, 0, &n);
    assert_int_equal(n, 11);
    rg_assert_rel(g[0], 8.0, 1e-15, "geometric grid start");
    rg_assert_rel(g[10], 0.01, 1e-12, "geometric grid end");
    rg_assert_rel(g[5], 8.0 * sqrt(0.01 / 8.0), 1e-12, "geometric grid midpoint");
    for (size_t i = 1; i < n; i++) assert_true(g[i] < g[i - 1]);
    free(g);
    double t[16];
    assert_int_equal(rg_sampler_grid(RG_GRID_UNIFORM, 1.0, 2.0, 4, NULL, 0, t, &n), RG_EINVAL);
    assert_int_equal(rg_sampler_grid(RG_GRID_GEOMETRIC, 1.0, 0.0, 4, NULL, 0, t, &n), RG_EINVAL);
}

/* One Gaussian N(mu, sigma2 I) on the coupled process (gamma = 0.5 cross, d = 2, N = 4). */
#define GN 4
static const double MU[GN] = { 1.0, -0.5, 0.25, 0.75 };
static const double SIG2 = 0.25;

static rg_process *coupled(void)
{
    double M[4];
    rg_process *p = NULL;
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
    assert_int_equal(rg_process_coupled(M, GN / 2, &p), RG_OK);
    return p;
}

typedef struct { double t; size_t n, calls; double s1[GN], s2[GN]; } rec_acc;

static int acc_obs(void *ctx, const rg_sampler_record *r)
{
    rec_acc *a = ctx;
    if (fabs(r->t - a->t) > 1e-12) return 0;
    a->calls++;
    for (size_t j = 0; j < r->n_rows; j++)
        for (size_t i = 0; i < GN; i++) {
            double v = (double)r->x[j * GN + i];
            a->s1[i] += v;
            a->s2[i] += v * v;
        }
    a->n += r->n_rows;
    return 0;
}

/* Expected law of coordinate i of (E_t (x) I) mu + N(0, sigma^2 E E^T + S_t) for the coupled d = 2 layout. */
static void coupled_law(const rg_process *p, double t, size_t i, double *m, double *v)
{
    double E[4], S[4];
    assert_int_equal(rg_process_moments(p, t, E, S), RG_OK);
    size_t blk = i / (GN / 2), col = i % (GN / 2);
    *m = E[blk * 2 + 0] * MU[col] + E[blk * 2 + 1] * MU[GN / 2 + col];
    *v = SIG2 * (E[blk * 2 + 0] * E[blk * 2 + 0] + E[blk * 2 + 1] * E[blk * 2 + 1]) + S[blk * 2 + blk];
}

/* Reverse run with the exact K = 1 score from the prior at T = 10 (the slowest coupled mode, rate
 * 1 - gamma = 0.5, has forgotten the data to e^{-5}), h = 0.0125. At the recorded t = 1 both methods give
 * the forward marginal; at t_end = 0 EM gives N(mu, sigma^2 I). EXP ends with the denoiser zhat_0 of the
 * last grid time (docs/math.md 6.4), whose law is under-dispersed by the posterior variance (and each
 * frozen-denoiser step drops (E_t' - G E_t)^2 Var(z_0 | z_t)): only its mean is checked at t_end.
 * Tolerances: 5 standard errors (mean sqrt(v / n), variance v sqrt(2 / n)) plus 0.03 v for the O(h)
 * discretisation bias (EM at h = 0.01 measured +2% on the variance with 20000 paths) and 0.01 for the
 * e^{-5} |mu| <= 0.007 prior mismatch. */
static void check_gaussian_law(rg_sampler_method method, const char *what)
{
    rg_process *p = coupled();
    double w = 1.0;
    rg_data_gmm_params prm = { 1, GN, &w, MU, RG_COV_ISO, &SIG2 };
    rg_data_gmm *g = NULL;
    assert_int_equal(rg_data_gmm_new(&prm, &g), RG_OK);
    rg_score_gmm *m = NULL;
    const size_t n = 3000;
    assert_int_equal(rg_score_gmm_new(p, g, RG_SAMPLER_CHUNK, &m), RG_OK);
    size_t ng = 0;
    const double t_rec = 1.0;
    double *grid = make_grid(RG_GRID_UNIFORM, 10.0, 0.0, 800, &t_rec, 1, &ng);
    rec_acc acc = { .t = t_rec };
    rg_sampler_cfg c = { .proc = p, .score = rg_score_gmm_iface(m), .method = method, .grid = grid,
                         .n_grid = ng, .seed = SEED, .rec_t = &t_rec, .n_rec = 1, .observer = acc_obs,
                         .observer_ctx = &acc };
    assert_null(rg_sampler_check(&c));
    float *x = malloc(n * GN * sizeof *x);
    assert_int_equal(rg_sampler_run(&c, n, 0, x), RG_OK);
    assert_int_equal(acc.n, n);
    for (size_t i = 0; i < GN; i++) {
        double mt, vt;
        coupled_law(p, t_rec, i, &mt, &vt);
        double mean = acc.s1[i] / (double)n, var = acc.s2[i] / (double)n - mean * mean;
        rg_assert_abs(mean, mt, 5.0 * sqrt(vt / (double)n) + 0.01, what);
        rg_assert_abs(var, vt, 5.0 * vt * sqrt(2.0 / (double)n) + 0.03 * vt, what);
        double s1 = 0.0, s2 = 0.0;
        for (size_t j = 0; j < n; j++) s1 += (double)x[j * GN + i];
        mean = s1 / (double)n;
        for (size_t j = 0; j < n; j++) s2 += ((double)x[j * GN + i] - mean) * ((double)x[j * GN + i] - mean);
        var = s2 / (double)(n - 1);
        rg_assert_abs(mean, MU[i], 5.0 * sqrt(SIG2 / (double)n) + 0.01, what);
        if (method == RG_SAMPLER_EM)
            rg_assert_abs(var, SIG2, 5.0 * SIG2 * sqrt(2.0 / (double)(n - 1)) + 0.03 * SIG2, what);
        else
            assert_true(var < SIG2);
    }
    free(x); free(grid);
    rg_score_gmm_free(m);
    rg_data_gmm_free(g);
    rg_process_free(p);
}

static void test_gaussian_em(void **state) { (void)state; check_gaussian_law(RG_SAMPLER_EM, "EM Gaussian law"); }
static void test_gaussian_exp(void **state) { (void)state; check_gaussian_law(RG_SAMPLER_EXP, "EXP Gaussian law"); }

/* P = 1 (docs/math.md 6.7): the EXP integrator with the empirical score of one point a is exact at any step:
 * at a recorded intermediate time the states are N(E_t a, S_t) (checked at 5 sigma per coordinate on
 * the diagonal of S_t (x) I), and at t_end = 0 it returns zhat_0 = a up to float rounding. */
static void test_exp_point_mass(void **state)
{
    (void)state;
    rg_process *p = coupled();
    float a[GN];
    for (size_t i = 0; i < GN; i++) a[i] = (float)MU[i];
    rg_score_emp *e = NULL;
    assert_int_equal(rg_score_emp_new(p, a, 1, GN, RG_SAMPLER_CHUNK, &e), RG_OK);
    const double t_rec = 1.0;
    size_t ng = 0;
    /* a coarse grid: 6 steps over [0, 12] plus the record time */
    double *grid = make_grid(RG_GRID_UNIFORM, 12.0, 0.0, 6, &t_rec, 1, &ng);
    rec_acc acc = { .t = t_rec };
    rg_sampler_cfg c = { .proc = p, .score = rg_score_emp_iface(e), .method = RG_SAMPLER_EXP, .grid = grid,
                         .n_grid = ng, .seed = SEED + 1, .rec_t = &t_rec, .n_rec = 1, .observer = acc_obs,
                         .observer_ctx = &acc };
    const size_t n = 3000;
    float *x = malloc(n * GN * sizeof *x);
    assert_int_equal(rg_sampler_run(&c, n, 0, x), RG_OK);
    assert_true(acc.calls >= 1);
    assert_int_equal(acc.n, n);
    double E[4], S[4];
    assert_int_equal(rg_process_moments(p, t_rec, E, S), RG_OK);
    for (size_t i = 0; i < GN; i++) {
        size_t blk = i / (GN / 2), col = i % (GN / 2);
        double m = E[blk * 2 + 0] * MU[0 * (GN / 2) + col] + E[blk * 2 + 1] * MU[1 * (GN / 2) + col];
        double v = S[blk * 2 + blk];
        double mean = acc.s1[i] / (double)n, var = acc.s2[i] / (double)n - mean * mean;
        /* the prior N(0, S_inf) differs from N(E_T a, S_T) by e^{-6}-size terms: negligible vs 5 sigma */
        rg_assert_abs(mean, m, 5.0 * sqrt(v / (double)n) + 1e-3, "P = 1 EXP mean at t = 1");
        rg_assert_abs(var, v, 5.0 * v * sqrt(2.0 / (double)n) + 1e-3, "P = 1 EXP variance at t = 1");
    }
    /* endpoint: zhat_0 = E^{-1}(z + S s) = a exactly in real arithmetic; float rounding of the score
     * and of E^{-1} at the last grid time (t = 1, E entries ~ 0.5) leaves ~1e-6: 1e-4 */
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < GN; i++) rg_assert_abs((double)x[j * GN + i], MU[i], 1e-4, "P = 1 EXP returns a");
    free(x); free(grid);
    rg_score_emp_free(e);
    rg_process_free(p);
}

/* Slicing: ids 40..99 run alone give the bit-identical states of rows 40..99 of the run over ids 0..99,
 * for the GMM score and for the empirical (GEMM) score, with EM; and so do 1 and 2 OpenMP threads. */
static void check_slicing(rg_score sc, const rg_process *p, const char *what)
{
    size_t ng = 0, N = rg_process_dim(p);
    double *grid = make_grid(RG_GRID_UNIFORM, 5.0, 0.0, 50, NULL, 0, &ng);
    rg_sampler_cfg c = { .proc = p, .score = sc, .method = RG_SAMPLER_EM, .grid = grid, .n_grid = ng,
                         .seed = SEED + 2 };
    float *x1 = malloc(100 * N * sizeof *x1), *x2 = malloc(60 * N * sizeof *x2);
    c.traj0 = 0;
    assert_int_equal(rg_sampler_run(&c, 100, 0, x1), RG_OK);
    c.traj0 = 40;
    assert_int_equal(rg_sampler_run(&c, 60, 0, x2), RG_OK);
    if (memcmp(x1 + 40 * N, x2, 60 * N * sizeof *x1) != 0) fail_msg("%s: slicing changed the states", what);
    /* thread count: 1 thread and 2 threads give the bit-identical states (chunks of fixed size) */
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    assert_int_equal(rg_sampler_run(&c, 60, 0, x2), RG_OK);
    omp_set_num_threads(2);
    c.traj0 = 0;
    float *x3 = malloc(100 * N * sizeof *x3);
    assert_int_equal(rg_sampler_run(&c, 100, 0, x3), RG_OK);
    omp_set_num_threads(nt);
    if (memcmp(x1 + 40 * N, x2, 60 * N * sizeof *x1) != 0) fail_msg("%s: 1 thread differs", what);
    if (memcmp(x1, x3, 100 * N * sizeof *x1) != 0) fail_msg("%s: 2 threads differ", what);
    free(x3);
    free(x1); free(x2); free(grid);
}

/* The one-Gaussian data N(MU, SIG2 I) and its exact score on p. */
static void one_gaussian(const rg_process *p, rg_data_gmm **g, rg_score_gmm **m)
{
    double w = 1.0;
    rg_data_gmm_params prm = { 1, GN, &w, MU, RG_COV_ISO, &SIG2 };
    assert_int_equal(rg_data_gmm_new(&prm, g), RG_OK);
    assert_int_equal(rg_score_gmm_new(p, *g, RG_SAMPLER_CHUNK, m), RG_OK);
}

static void test_slicing(void **state)
{
    (void)state;
    rg_process *p = coupled();
    rg_data_gmm *g = NULL;
    rg_score_gmm *m = NULL;
    one_gaussian(p, &g, &m);
    check_slicing(rg_score_gmm_iface(m), p, "gmm score");
    /* 300 training points from the same Gaussian (RG_STREAM_DATA) */
    float *X = malloc(300 * GN * sizeof *X);
    assert_int_equal(rg_data_gmm_sample(g, (rg_rng){ SEED, RG_STREAM_DATA }, 0, 300, X, NULL), RG_OK);
    rg_score_emp *e = NULL;
    assert_int_equal(rg_score_emp_new(p, X, 300, GN, RG_SAMPLER_CHUNK, &e), RG_OK);
    check_slicing(rg_score_emp_iface(e), p, "empirical score");
    rg_score_emp_free(e);
    free(X);
    rg_score_gmm_free(m);
    rg_data_gmm_free(g);
    rg_process_free(p);
}

/* Cloning (docs/math.md 6.6) on gmm2 (ou, N = 2, means +-(1.5, 1.5), sigma^2 = 0.1): branched near T = 8 the
 * clones pick their class independently (P(same) = 1/2, 5 binomial sigma); branched at t_b = 0.01 they
 * share the class and differ by the little noise left: the conditional variance of z_0 given z_t is
 * ~ S_t sigma^2 / Gamma_t ~ 0.02 per coordinate, so |xa - xb|^2 / N ~ 0.04, far below the 2 sigma^2 = 0.2
 * of independent members of one class: 0.1 separates them. At kappa_t = 1 the agreement is phi(1) (7.2). */
static void check_clones(rg_sampler_trunk trunk)
{
    rg_process *p = NULL;
    assert_int_equal(rg_process_ou(2, &p), RG_OK);
    rg_data_gmm *g = NULL;
    assert_int_equal(rg_data_gmm2(2, 4.5, NULL, 0.1, NULL, &g), RG_OK);
    rg_score_gmm *m = NULL;
    assert_int_equal(rg_score_gmm_new(p, g, RG_SAMPLER_CHUNK, &m), RG_OK);
    /* the third branch time has kappa_t = 1: e^{-2t} (4.5 - 0.1 + 1) = 1 */
    const double tb[3] = { 7.9, 0.01, 0.5 * log(5.4) };
    size_t ng = 0;
    double *grid = make_grid(RG_GRID_UNIFORM, 8.0, 0.0, 800, tb, 3, &ng);
    rg_sampler_cfg c = { .proc = p, .score = rg_score_gmm_iface(m), .method = RG_SAMPLER_EM, .grid = grid,
                         .n_grid = ng, .seed = SEED + 3, .trunk = trunk };
    const size_t n = 1500;
    float *xa = malloc(3 * n * 2 * sizeof *xa), *xb = malloc(3 * n * 2 * sizeof *xb);
    assert_int_equal(rg_sampler_clone(&c, tb, 3, n, xa, xb), RG_OK);
    const double *mdir = rg_data_gmm_direction(g, 0);
    int *la = malloc(n * sizeof *la), *lb = malloc(n * sizeof *lb);
    for (size_t j = 0; j < 3; j++) {
        assert_int_equal(rg_data_classify_gmm2(2, mdir, xa + j * n * 2, n, la), RG_OK);
        assert_int_equal(rg_data_classify_gmm2(2, mdir, xb + j * n * 2, n, lb), RG_OK);
        size_t same = 0;
        double d2 = 0.0;
        for (size_t i = 0; i < n; i++) {
            same += la[i] == lb[i];
            for (size_t q = 0; q < 2; q++) {
                double d = (double)xa[(j * n + i) * 2 + q] - (double)xb[(j * n + i) * 2 + q];
                d2 += d * d;
            }
        }
        double frac = (double)same / (double)n;
        if (j == 0) {
            rg_assert_abs(frac, 0.5, 5.0 * 0.5 / sqrt((double)n), "clones branched near T: P(same class)");
        } else if (j == 1) {
            assert_true(frac >= 0.99);
            assert_true(d2 / (double)(2 * n) < 0.1);
        } else {
            /* docs/math.md 7.2: phi(kappa = 1) = 0.7752; kappa computed here from the process moments.
             * 5 binomial sigma plus 0.01 for EM at h = 0.01; misclassification of the end states
             * (Phi(-|m| / sigma) ~ 1e-11) is negligible. */
            double E, S;
            assert_int_equal(rg_process_moments(p, tb[2], &E, &S), RG_OK);
            double kappa = E * E * 4.5 / (0.1 * E * E + S);
            rg_assert_abs(kappa, 1.0, 1e-12, "kappa at the third branch time");
            double phi = rg_theory_phi(kappa);
            rg_assert_abs(frac, phi, 5.0 * sqrt(phi * (1.0 - phi) / (double)n) + 0.01, "clones at kappa = 1: phi");
        }
    }
    c.method = RG_SAMPLER_HEUN; /* deterministic: refused */
    assert_int_equal(rg_sampler_clone(&c, tb, 3, n, xa, xb), RG_EINVAL);
    c.method = RG_SAMPLER_EM;
    c.trunk = (rg_sampler_trunk)7;
    assert_int_equal(rg_sampler_clone(&c, tb, 3, n, xa, xb), RG_EINVAL);
    free(la); free(lb); free(xa); free(xb); free(grid);
    rg_score_gmm_free(m);
    rg_data_gmm_free(g);
    rg_process_free(p);
}

/* Both trunk modes give the cloning law at each branch time (docs/math.md 11.3: each phi(t_j) keeps its
 * distribution; the branch times are given out of order on purpose). */
static void test_clones(void **state)
{
    (void)state;
    check_clones(RG_TRUNK_INDEPENDENT);
    check_clones(RG_TRUNK_SHARED);
}

/* Shared trunks (docs/math.md 11.3), structure: (a) one trunk serves every branch time, so the clones of
 * t_b = 1 are the same bits whether or not another branch (t = 2.5, reached first) leaves the trunk
 * too; (b) pair ids: pairs 40..99 run alone (traj0 = 40, an MPI slice) are rows 40..99 of the run
 * over 100 pairs; (c) 1 and 2 threads agree; (d) projections recorded at t = 3, above both branch
 * times, are the trunk's: the same in both branches' slices (independent trunks: different), and
 * duplicated to rows i and n + i. Mixture score (fused path) on the coupled process. */
static void test_shared_trunk(void **state)
{
    (void)state;
    rg_process *p = coupled();
    rg_data_gmm *g = NULL;
    rg_score_gmm *m = NULL;
    one_gaussian(p, &g, &m);
    const double ex[3] = { 1.0, 2.5, 3.0 }, tb[2] = { 1.0, 2.5 }, t_rec = 3.0;
    size_t ng = 0;
    double *grid = make_grid(RG_GRID_UNIFORM, 6.0, 0.01, 60, ex, 3, &ng);
    enum { n = 100, N = GN };
    float *xa = malloc(2 * n * N * sizeof *xa), *xb = malloc(2 * n * N * sizeof *xb);
    float *ya = malloc(2 * n * N * sizeof *ya), *yb = malloc(2 * n * N * sizeof *yb);
    double *pr = malloc(2 * 2 * n * sizeof *pr);
    const float v[N] = { 0.5f, -1.0f, 0.25f, 2.0f };
    rg_sampler_cfg c = { .proc = p, .score = rg_score_gmm_iface(m), .method = RG_SAMPLER_EXP, .grid = grid,
                         .n_grid = ng, .seed = SEED + 9, .trunk = RG_TRUNK_SHARED, .rec_t = &t_rec, .n_rec = 1,
                         .proj = v, .n_proj = 1, .proj_out = pr };
    assert_int_equal(rg_sampler_clone(&c, tb, 2, n, xa, xb), RG_OK);
    for (size_t i = 0; i < 2 * n; i++) assert_true(pr[i] == pr[2 * n + i]);            /* (d) */
    for (size_t i = 0; i < n; i++) assert_true(pr[i] == pr[n + i]);
    c.rec_t = NULL, c.n_rec = 0, c.proj = NULL, c.n_proj = 0, c.proj_out = NULL;
    assert_int_equal(rg_sampler_clone(&c, tb, 1, n, ya, yb), RG_OK);                     /* (a) */
    assert_memory_equal(xa, ya, n * N * sizeof *xa);
    assert_memory_equal(xb, yb, n * N * sizeof *xb);
    assert_true(memcmp(xa + n * N, xa, n * N * sizeof *xa) != 0);
    c.traj0 = 40;                                                                         /* (b) */
    assert_int_equal(rg_sampler_clone(&c, tb, 2, n - 40, ya, yb), RG_OK);
    for (size_t j = 0; j < 2; j++) {
        assert_memory_equal(ya + j * (n - 40) * N, xa + (j * n + 40) * N, (n - 40) * N * sizeof *xa);
        assert_memory_equal(yb + j * (n - 40) * N, xb + (j * n + 40) * N, (n - 40) * N * sizeof *xb);
    }
    c.traj0 = 0;                                                                          /* (c) */
    const int nt = omp_get_max_threads();
    omp_set_num_threads(nt == 1 ? 2 : 1);
    assert_int_equal(rg_sampler_clone(&c, tb, 2, n, ya, yb), RG_OK);
    omp_set_num_threads(nt);
    assert_memory_equal(xa, ya, 2 * n * N * sizeof *xa);
    assert_memory_equal(xb, yb, 2 * n * N * sizeof *xb);
    c.trunk = RG_TRUNK_INDEPENDENT, c.rec_t = &t_rec, c.n_rec = 1, c.proj = v, c.n_proj = 1, c.proj_out = pr;
    assert_int_equal(rg_sampler_clone(&c, tb, 2, n, ya, yb), RG_OK);
    assert_true(memcmp(pr, pr + 2 * n, 2 * n * sizeof *pr) != 0);
    free(xa), free(xb), free(ya), free(yb), free(pr), free(grid);
    rg_score_gmm_free(m);
    rg_data_gmm_free(g);
    rg_process_free(p);
}

/* Stationarity (docs/math.md 6.7, 5.5) under the non-reversible drift A = (I + Q) U (N = 4, dense core): data
 * N(0, S_inf) have the score -S_inf^{-1} z at every t, so the reverse SDE (EM) and the probability-flow
 * ODE (Heun) started from N(0, S_inf) keep that law. A wrong sign or factor on A z or on the score term
 * breaks it (a sign error on Q alone would not: (I +- Q) U share the stationary law U^{-1}).
 * Checked on every entry of the covariance: 5 standard errors sqrt((S_ii S_jj + S_ij^2) / n) plus
 * 0.02 sqrt(S_ii S_jj) for EM's O(h |A|) stationary bias at h = 0.005 (|A| <= ~2.5: ~1.3%). */
static void test_stationary_nonrev(void **state)
{
    (void)state;
    const double U[16] = { 2.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 1.0, 0.1, 0.1, 0.0, 0.1, 0.8 };
    const double Q[16] = { 0, 0.7, -0.2, 0.1, -0.7, 0, 0.4, 0, 0.2, -0.4, 0, 0.5, -0.1, 0, -0.5, 0 };
    rg_process *p = NULL;
    assert_int_equal(rg_process_nonrev(4, U, Q, &p), RG_OK);
    double Sinf[16], zero[4] = { 0, 0, 0, 0 }, w = 1.0;
    assert_int_equal(rg_process_stationary(p, Sinf), RG_OK);
    rg_data_gmm_params prm = { 1, 4, &w, zero, RG_COV_FULL, Sinf };
    rg_data_gmm *g = NULL;
    assert_int_equal(rg_data_gmm_new(&prm, &g), RG_OK);
    rg_score_gmm *m = NULL;
    assert_int_equal(rg_score_gmm_new(p, g, RG_SAMPLER_CHUNK, &m), RG_OK);
    size_t ng = 0;
    double *grid = make_grid(RG_GRID_UNIFORM, 1.0, 0.0, 200, NULL, 0, &ng);
    const size_t n = 3000;
    float *x = malloc(n * 4 * sizeof *x);
    const rg_sampler_method meth[2] = { RG_SAMPLER_EM, RG_SAMPLER_HEUN };
    for (int q = 0; q < 2; q++) {
        rg_sampler_cfg c = { .proc = p, .score = rg_score_gmm_iface(m), .method = meth[q], .grid = grid,
                             .n_grid = ng, .seed = SEED + 4 };
        assert_int_equal(rg_sampler_run(&c, n, 0, x), RG_OK);
        for (size_t a = 0; a < 4; a++)
            for (size_t b = 0; b < 4; b++) {
                double sab = 0.0;
                for (size_t j = 0; j < n; j++) sab += (double)x[j * 4 + a] * (double)x[j * 4 + b];
                sab /= (double)n; /* the mean is 0 exactly in law */
                double se = sqrt((Sinf[a * 4 + a] * Sinf[b * 4 + b] + Sinf[a * 4 + b] * Sinf[a * 4 + b]) / (double)n);
                rg_assert_abs(sab, Sinf[a * 4 + b], 5.0 * se + 0.02 * sqrt(Sinf[a * 4 + a] * Sinf[b * 4 + b]),
                              q == 0 ? "EM keeps N(0, S_inf) (nonrev)" : "Heun keeps N(0, S_inf) (nonrev)");
            }
    }
    free(x); free(grid);
    rg_score_gmm_free(m);
    rg_data_gmm_free(g);
    rg_process_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_gaussian_em),
        cmocka_unit_test(test_gaussian_exp),
        cmocka_unit_test(test_exp_point_mass),
        cmocka_unit_test(test_slicing),
        cmocka_unit_test(test_clones),
        cmocka_unit_test(test_shared_trunk),
        cmocka_unit_test(test_stationary_nonrev),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
