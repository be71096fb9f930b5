/* experiment: the experiments as library calls (experiment.h) on small problems with known answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/data.h"
#include "regimes/error.h"
#include "regimes/experiment.h"
#include "regimes/measure.h"
#include "regimes/nonrev.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/sampler.h"
#include "regimes/score.h"
#include "regimes/theory.h"
#include "rg_test.h"

/* ---- a two-class mixture under OU, the exact mixture score ------------------------------------------ */
enum { D = 16, STEPS = 40 };
static const double E1[1] = { 1.0 }, S1[1] = { 1.0 };

typedef struct {
    rg_process *p;
    rg_data_gmm *g;
    rg_score_gmm *sc;
    double norm2[1];
    rg_theory_data td;
    double *grid;
    size_t n_grid;
} gmm_fix;

static void gmm_setup(gmm_fix *f, double norm2, const double *extra, size_t n_extra, double T, double t_end)
{
    memset(f, 0, sizeof *f);
    f->norm2[0] = norm2;
    f->td = (rg_theory_data){ .n_labels = 1, .pattern = E1, .mean_norm2 = f->norm2, .Cw = S1 };
    assert_int_equal(rg_process_ou(D, &f->p), RG_OK);
    assert_int_equal(rg_data_gmm2(D, norm2, NULL, 1.0, NULL, &f->g), RG_OK);
    assert_int_equal(rg_score_gmm_new(f->p, f->g, 256, &f->sc), RG_OK);
    f->grid = malloc(rg_sampler_grid_size(RG_GRID_GEOMETRIC, STEPS, n_extra) * sizeof *f->grid);
    assert_non_null(f->grid);
    assert_int_equal(rg_sampler_grid(RG_GRID_GEOMETRIC, T, t_end, STEPS, extra, n_extra, f->grid, &f->n_grid), RG_OK);
}

static void gmm_teardown(gmm_fix *f)
{
    rg_score_gmm_free(f->sc);
    rg_data_gmm_free(f->g);
    rg_process_free(f->p);
    free(f->grid);
}

static int phi_theory(void *ctx, size_t mode, double t, double *phi)
{
    const gmm_fix *f = ctx;
    return rg_theory_phi_at(f->p, &f->td, mode, t, phi);
}

/* Cloning with the exact mixture score: phi(t_b) against docs/math.md 7.2 within 5 binomial standard errors
 * (exact for the two-class mixture; the sampler's discretisation, h/t = 0.2, is far below that at 600
 * pairs), and t_S inside its interval widened by the grid spacing. */
static void test_clone_gmm2(void **state)
{
    (void)state;
    enum { M = 5, PAIRS = 600 };
    const double tb[M] = { 0.8, 1.2, 1.6, 2.0, 2.8 };
    gmm_fix f;
    gmm_setup(&f, 32.0, tb, M, 6.0, 1e-3);
    rg_exp_labeller lab;
    assert_int_equal(rg_exp_labeller_sign(D, rg_data_gmm_means(f.g), &lab), RG_OK);
    rg_exp_clone_cfg c = { .run = { .proc = f.p, .score = rg_score_gmm_iface(f.sc), .method = RG_SAMPLER_EXP,
                                    .grid = f.grid, .n_grid = f.n_grid, .seed = 11 },
                           .t_b = tb, .n_branch = M, .n_pairs = PAIRS, .lab = &lab, .n_boot = 2000,
                           .theory = phi_theory, .theory_ctx = &f };
    rg_exp_clone_result r;
    assert_int_equal(rg_exp_clone(&c, &r), RG_OK);
    assert_int_equal(r.n_modes, 1);
    for (size_t i = 0; i < M; i++) {
        const double th = r.phi_theory[i], se = sqrt(th * (1 - th) / PAIRS);
        rg_assert_abs(r.phi[i], th, 5 * se + 1e-12, "phi(t_b) against phi(kappa)");
        assert_true(r.phi_lo[i] <= r.phi[i] && r.phi[i] <= r.phi_hi[i]);
    }
    double ts;
    int found;
    assert_int_equal(rg_theory_speciation(f.p, &f.td, 0, RG_SPECIATION_GMM, &ts, &found), RG_OK);
    assert_true(found && r.t_s_lo[0] - 0.4 <= ts && ts <= r.t_s_hi[0] + 0.4); /* 0.4: branch spacing */
    /* Both classes appear equally often among the final clones: 5 sigma of 2 M PAIRS fair draws. */
    rg_assert_abs(r.class_frac[0], 0.5, 5 * 0.5 / sqrt(2.0 * M * PAIRS), "class balance");
    rg_assert_abs(r.class_frac[0] + r.class_frac[1], 1.0, 1e-12, "class fractions sum to 1");
    assert_true(isnan(r.gap));
    rg_exp_clone_result_free(&r);
    rg_exp_labeller_free(&lab);
    gmm_teardown(&f);
}

/* A pair's labels depend only on its id: pairs 0..n-1 in one call equal pairs 0..k-1 and k..n-1 of two
 * calls with id0 = 0 and id0 = k (the slices MPI ranks take). */
static void test_clone_slices(void **state)
{
    (void)state;
    enum { M = 2, N1 = 37, N2 = 27 };
    const double tb[M] = { 1.0, 2.0 };
    gmm_fix f;
    gmm_setup(&f, 16.0, tb, M, 5.0, 1e-2);
    rg_exp_labeller lab;
    assert_int_equal(rg_exp_labeller_sign(D, rg_data_gmm_means(f.g), &lab), RG_OK);
    rg_exp_clone_cfg c = { .run = { .proc = f.p, .score = rg_score_gmm_iface(f.sc), .method = RG_SAMPLER_EM,
                                    .grid = f.grid, .n_grid = f.n_grid, .seed = 5 },
                           .t_b = tb, .n_branch = M, .n_pairs = N1 + N2, .lab = &lab, .n_boot = 100 };
    rg_exp_clone_result all, a, b;
    assert_int_equal(rg_exp_clone(&c, &all), RG_OK);
    c.n_pairs = N1;
    assert_int_equal(rg_exp_clone(&c, &a), RG_OK);
    c.n_pairs = N2, c.run.id0 = N1;
    assert_int_equal(rg_exp_clone(&c, &b), RG_OK);
    for (size_t i = 0; i < M; i++) {
        assert_memory_equal(all.labels + i * (N1 + N2) * 2, a.labels + i * N1 * 2, N1 * 2 * sizeof(int));
        assert_memory_equal(all.labels + (i * (N1 + N2) + N1) * 2, b.labels + i * N2 * 2, N2 * 2 * sizeof(int));
    }
    rg_exp_clone_result_free(&all), rg_exp_clone_result_free(&a), rg_exp_clone_result_free(&b);
    /* Refused: a branch time off the grid, the deterministic ODE, a labeller out of range. */
    const double off[1] = { 1.5 };
    c.t_b = off, c.n_branch = 1;
    assert_int_equal(rg_exp_clone(&c, &a), RG_EINVAL);
    assert_non_null(strstr(rg_strerror_last(), "not a grid point"));
    c.t_b = tb, c.n_branch = M, c.run.method = RG_SAMPLER_HEUN;
    assert_int_equal(rg_exp_clone(&c, &a), RG_EINVAL);
    rg_exp_labeller_free(&lab);
    gmm_teardown(&f);
}

/* ---- labellers ---------------------------------------------------------------------------------------- */
static void test_labellers(void **state)
{
    (void)state;
    /* nearest mean and nearest point against direct answers on points placed by hand */
    const double means[3 * 2] = { 0, 0, 4, 0, 0, 4 };
    const float X[4 * 2] = { 0.1f, -0.2f, 3.0f, 0.5f, -0.5f, 3.2f, 2.1f, 1.9f };
    int lab[4];
    rg_exp_labeller l;
    assert_int_equal(rg_exp_labeller_nearest_mean(3, 2, means, &l), RG_OK);
    assert_int_equal(l.label(l.ctx, 4, X, lab), RG_OK);
    assert_int_equal(lab[0], 0), assert_int_equal(lab[1], 1), assert_int_equal(lab[2], 2);
    assert_int_equal(lab[3], 1); /* (2.1, 1.9): 2.1^2 + 1.9^2 = 8.02 to (0,0), 1.9^2 + 1.9^2 = 7.22 to (4,0), 8.02 to (0,4) */
    rg_exp_labeller_free(&l);
    const float T[3 * 2] = { 0, 0, 4, 0, 0, 4 };
    const int tl[3] = { 2, 0, 1 };
    assert_int_equal(rg_exp_labeller_nearest_point(T, 3, 2, tl, &l), RG_OK);
    assert_int_equal(l.n_classes, 3);
    assert_int_equal(l.label(l.ctx, 4, X, lab), RG_OK);
    assert_int_equal(lab[0], 2), assert_int_equal(lab[1], 0), assert_int_equal(lab[2], 1), assert_int_equal(lab[3], 0);
    rg_exp_labeller_free(&l);
    /* gmm4: the signs of m_c . (x + y) and m_d . (x - y) */
    const double mc[2] = { 1, 1 }, md[2] = { 1, -1 };
    const float Z[2 * 4] = { 1, 1, 1, 1, /* x + y = (2, 2): c = 0; x - y = 0: d = 0 */
                             -1, 2, 1, -3 }; /* x + y = (0, -1): c = 1; x - y = (-2, 5): m_d . = -7: d = 1 */
    assert_int_equal(rg_exp_labeller_gmm4(2, mc, md, &l), RG_OK);
    assert_int_equal(l.n_modes, 2);
    assert_int_equal(l.label(l.ctx, 2, Z, lab), RG_OK);
    assert_int_equal(lab[0], 0), assert_int_equal(lab[1], 0), assert_int_equal(lab[2], 1), assert_int_equal(lab[3], 1);
    rg_exp_labeller_free(&l);
    /* bad input */
    const double nanm[2] = { NAN, 0 };
    assert_int_equal(rg_exp_labeller_sign(2, nanm, &l), RG_EINVAL);
    const int one[3] = { 0, 0, 0 };
    assert_int_equal(rg_exp_labeller_nearest_point(T, 3, 2, one, &l), RG_EINVAL);
}

/* ---- sampling and memorisation ---------------------------------------------------------------------------- */
/* The empirical score of two far-apart points collapses every trajectory onto one of them: the final
 * samples are memorised (d1/d2 -> 0) and split between the points about evenly. At t = 5 the denoiser
 * is (2w - 1) a with log(w / (1 - w)) = 2 e^{-t} a.z / Delta_t ~ N(0.02, 0.08^2): memorised (w > 3/4,
 * log-odds > log 3) only beyond 13 sigma. */
static void test_sample_memorised(void **state)
{
    (void)state;
    enum { N = 4, NT = 200 };
    const float train[2 * N] = { 3, 3, 3, 3, -3, -3, -3, -3 };
    const int tl[2] = { 0, 1 };
    const double rec[3] = { 5.0, 1.0, 0.1 };
    rg_process *p;
    rg_score_emp *e;
    assert_int_equal(rg_process_ou(N, &p), RG_OK);
    assert_int_equal(rg_score_emp_new(p, train, 2, N, 64, &e), RG_OK);
    double grid[128];
    size_t n_grid;
    assert_int_equal(rg_sampler_grid(RG_GRID_GEOMETRIC, 6.0, 1e-3, 60, rec, 3, grid, &n_grid), RG_OK);
    rg_exp_labeller lab;
    assert_int_equal(rg_exp_labeller_nearest_point(train, 2, N, tl, &lab), RG_OK);
    rg_exp_sample_cfg c = { .run = { .proc = p, .score = rg_score_emp_iface(e), .method = RG_SAMPLER_EXP,
                                     .grid = grid, .n_grid = n_grid, .seed = 3 },
                            .n = NT, .lab = &lab, .train = train, .P = 2, .rec_t = rec, .n_rec = 3, .keep = 1 };
    rg_exp_sample_result r;
    assert_int_equal(rg_exp_sample(&c, &r), RG_OK);
    rg_assert_abs(r.mem_final, 1.0, 0.0, "every final sample is memorised");
    rg_assert_abs(r.mem[0], 0.0, 0.0, "at t = 5 the denoiser sits between the points");
    rg_assert_abs(r.mem[2], 1.0, 0.0, "at t = 0.1 the denoiser is one point");
    rg_assert_abs(r.class_frac[0], 0.5, 5 * 0.5 / sqrt((double)NT), "both points chosen evenly");
    for (size_t i = 0; i < NT; i++) assert_true(r.last_switch[i] >= 1e-3 && r.last_switch[i] <= 5.0);
    assert_non_null(r.x);
    for (size_t i = 0; i < NT; i++) /* at t_end = 1e-3 each coordinate is a point's +-3 with sd sqrt(2e-3) */
        assert_true(fabsf(fabsf(r.x[i * N]) - 3.0f) < 5.0f * sqrtf(2e-3f));
    rg_exp_sample_result_free(&r);
    rg_exp_labeller_free(&lab);
    rg_score_emp_free(e);
    rg_process_free(p);
}

/* ---- collapse ------------------------------------------------------------------------------------------- */
/* f_hat(t) -> alpha at large t (every kernel overlaps: LSE = log P - |xi|^2/2 on average, exactly) and
 * -> 0 at small t (the own kernel dominates); within 5 standard errors plus the O(e^{-2t}) remainder. */
static void test_collapse_limits(void **state)
{
    (void)state;
    enum { N = 8, P = 50, NS = 400 };
    rg_process *p;
    rg_data_gmm *g;
    rg_data_set *X;
    rg_score_emp *e;
    assert_int_equal(rg_process_ou(N, &p), RG_OK);
    assert_int_equal(rg_data_gmm2(N, 8.0, NULL, 1.0, NULL, &g), RG_OK);
    assert_int_equal(rg_data_set_draw(g, (rg_rng){ 4, RG_STREAM_DATA }, P, &X), RG_OK);
    assert_int_equal(rg_score_emp_new(p, X->X, P, N, 256, &e), RG_OK);
    const double tf[3] = { 1e-3, 1.0, 9.0 };
    rg_exp_collapse_cfg c = { .traj = { .run = { .proc = p, .score = rg_score_emp_iface(e), .seed = 9 },
                                        .train = X->X, .P = P },
                              .t_f = tf, .n_f = 3, .n_samples = NS };
    rg_exp_collapse_result r;
    assert_int_equal(rg_exp_collapse(&c, &r), RG_OK);
    const double alpha = log((double)P) / N, se_hi = (r.f_hi[2] - r.f[2]) / 1.96, se_lo = (r.f_hi[0] - r.f[0]) / 1.96;
    rg_assert_abs(r.alpha, alpha, 1e-15, "alpha = log P / N");
    rg_assert_abs(r.f[2], alpha, 5 * se_hi + 1e-6, "f(9) = alpha");
    rg_assert_abs(r.f[0], 0.0, 5 * se_lo + 1e-3, "f(1e-3) = 0");
    assert_true(isnan(r.f_theory[0]));
    rg_exp_collapse_result_free(&r);
    /* a score without log-sum-exp is refused */
    rg_score_gmm *sg;
    assert_int_equal(rg_score_gmm_new(p, g, 64, &sg), RG_OK);
    c.traj.run.score = rg_score_gmm_iface(sg);
    assert_int_equal(rg_exp_collapse(&c, &r), RG_EINVAL);
    rg_score_gmm_free(sg);
    rg_score_emp_free(e);
    rg_data_set_free(X);
    rg_data_gmm_free(g);
    rg_process_free(p);
}

/* ---- mean decay ---------------------------------------------------------------------------------------- */
/* A = diag(0.3, 1.5) (nonrev with Q = 0): from z_0 along the slow axis the mean decays at 0.3; the
 * exact curve is e^{-0.3 t} |z_0| to rounding, and the fit of the paths lies within its interval (a
 * 95% one: 2.6 half-widths are 4.4 sigma of the group spread) of 0.3 plus the Euler bias h 0.3^2/2. */
static void test_decay(void **state)
{
    (void)state;
    const double U[4] = { 0.3, 0, 0, 1.5 }, z0[2] = { 100.0, 0.0 };
    rg_process *p;
    assert_int_equal(rg_process_nonrev(2, U, NULL, &p), RG_OK);
    rg_exp_decay_cfg c = { .proc = p, .z0 = z0, .n_paths = 400, .n_groups = 8, .h = 0.01, .n_t = 9, .t_max = 4.0,
                           .fit_lo = 1.0, .fit_hi = 4.0, .seed = 2 };
    rg_exp_decay_result r;
    assert_int_equal(rg_exp_decay(&c, &r), RG_OK);
    for (size_t i = 0; i < r.n_t; i++) rg_assert_rel(r.exact[i], 100.0 * exp(-0.3 * r.t[i]), 1e-12, "|M_t z0|");
    rg_assert_rel(r.rate_exact, 0.3, 1e-10, "rate of the exact curve");
    const double half = r.rate_hi - r.rate;
    rg_assert_abs(r.rate, 0.3, 2.6 * half + 0.01 * 0.09 / 2, "fitted rate");
    rg_exp_decay_result_free(&r);
    c.n_groups = 7; /* does not divide 400 */
    assert_int_equal(rg_exp_decay(&c, &r), RG_EINVAL);
    rg_process_free(p);
}

/* ---- theory report ---------------------------------------------------------------------------------------- */
/* gmm4 under symmetric cross-drive gamma = 0.5, |m_c|^2 = |m_d|^2 = 25, sigma^2 = 1: docs/math.md 9.3 gives
 * t_S^c = 3.239, t_S^d = 1.437, gap 1.802, rates 0.5 (common) and 1.5 (difference). */
static void test_theory_report(void **state)
{
    (void)state;
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
    rg_process *p;
    assert_int_equal(rg_process_coupled(M, 100, &p), RG_OK);
    const double pat[4] = { 1, 1, 1, -1 }, n2[2] = { 25, 25 }, cw[4] = { 1, 0, 0, 1 }, pt[2] = { 1.0, 3.0 };
    const rg_theory_data td = { .n_labels = 2, .pattern = pat, .mean_norm2 = n2, .Cw = cw };
    rg_exp_theory_cfg c = { .proc = p, .data = &td, .n_train = 20000, .symmetric_form = RG_COUPLING_CROSS,
                            .phi_t = pt, .n_phi = 2 };
    rg_exp_theory_result r;
    assert_int_equal(rg_exp_theory(&c, &r), RG_OK);
    rg_assert_digits(r.t_s_label[0], 3.239, 3, "t_S common");
    rg_assert_digits(r.t_s_label[1], 1.437, 3, "t_S difference");
    rg_assert_digits(r.sync_gap, 1.802, 3, "gap");
    assert_string_equal(r.mode_name[0], "common");
    rg_assert_rel(r.rate_re[0], 0.5, 1e-12, "common rate");
    rg_assert_rel(r.rate_re[1], 1.5, 1e-12, "difference rate");
    rg_assert_rel(r.t_s, r.t_s_label[0], 0, "t_S is the later mode");
    rg_assert_rel(r.relaxation_rate, 0.5, 1e-12, "relaxation");
    rg_assert_rel(r.horizon_min, 1.0, 1e-12, "1/(2 r)");
    rg_assert_rel(r.gamma_lo, -1.0, 0, "stable range");
    double phi;
    assert_int_equal(rg_theory_phi_at(p, &td, 1, 3.0, &phi), RG_OK);
    rg_assert_rel(r.phi[1 * 2 + 1], phi, 0, "phi of label 1 at t = 3");
    assert_true(isnan(r.t_s_parent));
    rg_exp_theory_result_free(&r);
    rg_process_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clone_gmm2),      cmocka_unit_test(test_clone_slices),
        cmocka_unit_test(test_labellers),       cmocka_unit_test(test_sample_memorised),
        cmocka_unit_test(test_collapse_limits), cmocka_unit_test(test_decay),
        cmocka_unit_test(test_theory_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
