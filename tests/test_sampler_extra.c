/* Tests of the sampler beside tests/test_sampler.c: the forward marginal the reverse process starts
 * from, the probability-flow ODE (Heun) with an exact Gaussian score, a P = 1 empirical score driving
 * Euler-Maruyama samples onto the training point, the recording contract (observer calls, extras,
 * built-in projections), the DDPM grid's anchor values and bits, the grid of any noise schedule, and the
 * fused mixture steps against the plain path. Fixed seeds; 5 sigma thresholds. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/noise.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/sampler.h"
#include "regimes/score.h"

#define SEED 9090u

/* z_t | z_0 = 0 by rg_process_sample vs Sigma_t = S_t (x) I_d, coupled gamma = 0.5 cross, d = 2,
 * t = 0.731, n = 20000. Entry (i, j) has standard error sqrt((S_ii S_jj + S_ij^2) / n); 5 of them. */
static void test_forward_marginal(void **state)
{
    (void)state;
    enum { d = 2, N = 4 };
    const size_t n = 20000;
    double M[4], E[4], S[4], z0[N] = { 0 }, xi[N], z[N], C[N * N] = { 0 };
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
    rg_process *p = NULL;
    assert_int_equal(rg_process_coupled(M, d, &p), RG_OK);
    assert_int_equal(rg_process_moments(p, 0.731, E, S), RG_OK);
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_FORWARD };
    for (size_t m = 0; m < n; m++) {
        rg_rng_normals_d(r, m, 0, xi, N);
        assert_int_equal(rg_process_sample(p, 0.731, z0, xi, z), RG_OK);
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) C[i * N + j] += z[i] * z[j];
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            const size_t ci = i / d, cj = j / d; /* state (2, d): core index = row */
            const double want = (i % d == j % d) ? S[ci * 2 + cj] : 0.0;
            const double sii = S[ci * 3], sjj = S[cj * 3];
            rg_assert_abs(C[i * N + j] / (double)n, want, 5.0 * sqrt((sii * sjj + want * want) / (double)n),
                          "forward Sigma_t entry");
        }
    rg_process_free(p);
}

static double *grid(rg_sampler_grid_kind kind, double T, double t_end, size_t K, const double *ex, size_t nex,
                    size_t *n)
{
    double *g = malloc(rg_sampler_grid_size(kind, K, nex) * sizeof *g);
    assert_non_null(g);
    assert_int_equal(rg_sampler_grid(kind, T, t_end, K, ex, nex, g, n), RG_OK);
    return g;
}

/* Heun on the probability-flow ODE with the exact score of N(mu, sigma^2 I) (K = 1 mixture), ou d = 3,
 * T = 8 (prior error e^{-16}), 400 uniform steps to 0, n = 4000. The ODE maps N(0, I) to the data law
 * up to discretisation (Heun O(h^2), one Euler step O(h) at the end), so each mean must lie within
 * 5 SE = 5 sqrt(sigma^2/n) and each variance within 5 sigma^2 sqrt(2/n) + 0.005 (an allowance for the
 * discretisation; the deviations seen with this seed are <= 0.005 in a variance, one SE = 0.0056, so
 * the bias is below the noise). A missing factor in the ODE drift (s instead of s/2-type errors) moves
 * the variance by O(sigma^2). */
static void test_heun_gaussian(void **state)
{
    (void)state;
    enum { N = 3 };
    const size_t n = 4000;
    const double mu[N] = { 0.7, -1.1, 0.2 }, w = 1.0, s2 = 0.25;
    const rg_data_gmm_params gp = { 1, N, &w, mu, RG_COV_ISO, &s2 };
    rg_data_gmm *g = NULL;
    rg_process *p = NULL;
    rg_score_gmm *sc = NULL;
    assert_int_equal(rg_data_gmm_new(&gp, &g), RG_OK);
    assert_int_equal(rg_process_ou(N, &p), RG_OK);
    assert_int_equal(rg_score_gmm_new(p, g, RG_SAMPLER_CHUNK, &sc), RG_OK);
    size_t ng = 0;
    double *t = grid(RG_GRID_UNIFORM, 8.0, 0.0, 400, NULL, 0, &ng);
    rg_sampler_cfg c = { .proc = p, .score = rg_score_gmm_iface(sc), .method = RG_SAMPLER_HEUN, .grid = t,
                         .n_grid = ng, .seed = SEED };
    float *x = malloc(n * N * sizeof *x);
    assert_non_null(x);
    assert_int_equal(rg_sampler_run(&c, n, 0, x), RG_OK);
    for (size_t i = 0; i < N; i++) {
        double m = 0.0, v = 0.0;
        for (size_t k = 0; k < n; k++) m += (double)x[k * N + i];
        m /= (double)n;
        for (size_t k = 0; k < n; k++) v += ((double)x[k * N + i] - m) * ((double)x[k * N + i] - m);
        v /= (double)(n - 1);
        rg_assert_abs(m, mu[i], 5.0 * sqrt(s2 / (double)n), "Heun mean");
        rg_assert_abs(v, s2, 5.0 * s2 * sqrt(2.0 / (double)n) + 0.005, "Heun variance");
    }
    free(x), free(t);
    rg_score_gmm_free(sc);
    rg_process_free(p);
    rg_data_gmm_free(g);
}

/* P = 1 empirical score, Euler-Maruyama on a geometric grid from T = 6 to t_end = 1e-3 (300 steps):
 * every sample must end near the training point a. The exact law at t_end is N(e^{-t} a, Delta I)
 * with Delta = 2e-3 (std 0.045); EM adds a bias of order the last relative step (2.3%), so each
 * coordinate within 0.3 (6.7 exact sd) of a, and the mean square distance per coordinate within
 * [0.5, 2] Delta (0.985 Delta with this seed): a wrong sign or factor 2 in the drift lands far outside. */
static void test_point_mass_em(void **state)
{
    (void)state;
    enum { N = 4 };
    const size_t n = 256;
    const float a[N] = { 1.0f, -0.5f, 0.25f, 2.0f };
    rg_process *p = NULL;
    rg_score_emp *e = NULL;
    assert_int_equal(rg_process_ou(N, &p), RG_OK);
    assert_int_equal(rg_score_emp_new(p, a, 1, N, RG_SAMPLER_CHUNK, &e), RG_OK);
    size_t ng = 0;
    double *t = grid(RG_GRID_GEOMETRIC, 6.0, 1e-3, 300, NULL, 0, &ng);
    rg_sampler_cfg c = { .proc = p, .score = rg_score_emp_iface(e), .method = RG_SAMPLER_EM, .grid = t,
                         .n_grid = ng, .seed = SEED };
    float *x = malloc(n * N * sizeof *x);
    assert_non_null(x);
    assert_int_equal(rg_sampler_run(&c, n, 0, x), RG_OK);
    const double Delta = -expm1(-2e-3), ea = exp(-1e-3);
    double ms = 0.0;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < N; i++) {
            const double dd = (double)x[k * N + i] - ea * (double)a[i];
            assert_true(fabs(dd) < 0.3);
            ms += dd * dd;
        }
    ms /= (double)(n * N);
    assert_true(ms > 0.5 * Delta && ms < 2.0 * Delta);
    free(x), free(t);
    rg_score_emp_free(e);
    rg_process_free(p);
}

/* Recording: observer calls at the 3 recorded times (one of them the final), the built-in projections
 * equal x . v recomputed from the observer's copy (the same float inputs, double sums in the same order:
 * exact), extras present before the end and absent at it. */
typedef struct {
    size_t calls, N, n;
    float x[3][64 * 3];
    int had_nearest[3];
    double t[3];
} obs_ctx;

static int observer(void *ctx, const rg_sampler_record *rec)
{
    obs_ctx *o = ctx;
    if (o->calls >= 3 || rec->n_rows != o->n) return 99;
    memcpy(o->x[o->calls], rec->x, o->n * o->N * sizeof(float));
    o->had_nearest[o->calls] = rec->nearest != NULL;
    if (rec->nearest)
        for (size_t i = 0; i < rec->n_rows; i++)
            if (rec->nearest[i] < 0 || rec->nearest[i] >= 5) return 98;
    o->t[o->calls++] = rec->t;
    return 0;
}

static void test_recording(void **state)
{
    (void)state;
    enum { N = 3, P = 5, n = 40 };
    float X[P * N];
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_DATA };
    rg_rng_normals(r, 0, 0, X, P * N);
    rg_process *p = NULL;
    rg_score_emp *e = NULL;
    assert_int_equal(rg_process_ou(N, &p), RG_OK);
    assert_int_equal(rg_score_emp_new(p, X, P, N, RG_SAMPLER_CHUNK, &e), RG_OK);
    const double rec[3] = { 2.0, 0.5, 0.01 };
    size_t ng = 0;
    double *t = grid(RG_GRID_UNIFORM, 4.0, 0.01, 50, rec, 3, &ng);
    const float v[2 * N] = { 1.0f, 0.0f, 0.0f, 0.5f, -1.0f, 2.0f };
    double proj[3 * n * 2];
    obs_ctx o = { .N = N, .n = n };
    rg_sampler_cfg c = { .proc = p, .score = rg_score_emp_iface(e), .method = RG_SAMPLER_EXP, .grid = t,
                         .n_grid = ng, .seed = SEED, .rec_t = rec, .n_rec = 3, .observer = observer,
                         .observer_ctx = &o, .proj = v, .n_proj = 2, .proj_out = proj };
    float x[n * N];
    assert_int_equal(rg_sampler_run(&c, n, 0, x), RG_OK);
    assert_int_equal(o.calls, 3);
    for (size_t q = 0; q < 3; q++) {
        rg_assert_rel(o.t[q], rec[q], 1e-15, "recorded time");
        assert_int_equal(o.had_nearest[q], q < 2);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < 2; j++) {
                double acc = 0.0;
                for (size_t l = 0; l < N; l++) acc += (double)o.x[q][i * N + l] * (double)v[j * N + l];
                rg_assert_abs(proj[(q * n + i) * 2 + j], acc, 0.0, "projection");
            }
    }
    assert_memory_equal(o.x[2], x, sizeof x); /* the final record is the returned state */
    /* a record time off the grid is refused */
    const double bad = 1.2345;
    c.rec_t = &bad;
    c.n_rec = 1;
    c.n_proj = 0;
    assert_int_equal(rg_sampler_run(&c, n, 0, x), RG_EINVAL);
    free(t);
    rg_score_emp_free(e);
    rg_process_free(p);
}

/* DDPM grid anchors (docs/math.md 1.3): step 999 is t = 5.06 and step 500 is t = 1.28 (two decimals given). */
static void test_ddpm_grid(void **state)
{
    (void)state;
    size_t n = 0;
    double *t = grid(RG_GRID_DDPM, 6.0, 0.0, 0, NULL, 0, &n);
    assert_int_equal(n, 1002); /* T, s_999 .. s_0, 0 */
    rg_assert_abs(t[1], 5.06, 0.005, "DDPM step 999");
    rg_assert_abs(t[1 + 999 - 500], 1.28, 0.005, "DDPM step 500");
    for (size_t i = 1; i < n; i++) assert_true(t[i] < t[i - 1]);
    free(t);
}

/* RG_GRID_DDPM now goes through the noise module: its grid must keep the bits of the code it replaced,
 * copied here as the reference (the parent's betas summed by log1p, filtered to (t_end, T), merged
 * with extras exactly as rg_sampler_grid does), with extras that hit a step time, fall between steps
 * and sit within 1e-12 T of a step (dropped as a duplicate). */
static int cmp_desc_d(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static size_t ddpm_grid_old(double T, double t_end, const double *extra, size_t n_extra, double *t)
{
    double s[1000], la = 0.0;
    for (size_t j = 0; j < 1000; j++) {
        const double beta = 1e-4 + (2e-2 - 1e-4) * (double)j / 999.0;
        la += log1p(-beta);
        s[j] = -0.5 * la;
    }
    size_t m = 0;
    t[m++] = T;
    for (size_t j = 1000; j-- > 0;)
        if (s[j] > t_end && s[j] < T) t[m++] = s[j];
    t[m++] = t_end;
    for (size_t i = 0; i < n_extra; i++) t[m++] = extra[i];
    qsort(t, m, sizeof *t, cmp_desc_d);
    size_t w = 1;
    for (size_t i = 1; i < m; i++)
        if (t[w - 1] - t[i] > 1e-12 * T) t[w++] = t[i];
    t[0] = T;
    t[w - 1] = t_end;
    return w;
}

static void test_ddpm_grid_bits(void **state)
{
    (void)state;
    rg_noise *s = NULL;
    assert_int_equal(rg_noise_ddpm_linear(RG_NOISE_DDPM_B0, RG_NOISE_DDPM_B1, RG_NOISE_DDPM_STEPS, &s), RG_OK);
    const double t446 = rg_noise_time(s, 446);
    const double extra[4] = { t446, 0.7, rg_noise_time(s, 300) + 1e-14, 2.5 };
    static const struct { double T, t_end; size_t n_extra; } cases[] = {
        { 6.0, 0.0, 0 }, { 5.06, 0.0, 4 }, { 3.0, 0.01, 4 }, { 1.5, 0.5, 2 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double want[1010], got[1010], via[1010];
        size_t nw = ddpm_grid_old(cases[c].T, cases[c].t_end, extra, cases[c].n_extra, want), n = 0, nv = 0;
        assert_true(rg_sampler_grid_size(RG_GRID_DDPM, 0, cases[c].n_extra) <= 1010);
        assert_int_equal(rg_sampler_grid(RG_GRID_DDPM, cases[c].T, cases[c].t_end, 0, extra,
                                         cases[c].n_extra, got, &n), RG_OK);
        assert_int_equal(n, nw);
        assert_memory_equal(got, want, n * sizeof *got);
        assert_int_equal(rg_sampler_grid_noise(s, cases[c].T, cases[c].t_end, extra, cases[c].n_extra, via, &nv),
                         RG_OK);
        assert_int_equal(nv, nw);
        assert_memory_equal(via, want, n * sizeof *via);
    }
    rg_noise_free(s);
}

/* Any schedule: T first, t_end last, every t_k in (t_end, T) present, strictly decreasing, the extras in. */
static void test_grid_noise(void **state)
{
    (void)state;
    rg_noise *s = NULL;
    assert_int_equal(rg_noise_ddpm_cosine(50, &s), RG_OK);
    const double T = 2.0, t_end = 0.05, extra[2] = { 1.2345, 0.06 };
    assert_int_equal(rg_sampler_grid_noise_size(s, 2), 54);
    double t[54];
    size_t n = 0, inside = 0;
    assert_int_equal(rg_sampler_grid_noise(s, T, t_end, extra, 2, t, &n), RG_OK);
    assert_true(t[0] == T && t[n - 1] == t_end);
    for (size_t i = 1; i < n; i++) assert_true(t[i] < t[i - 1]);
    for (size_t k = 0; k < 50; k++) {
        const double tk = rg_noise_time(s, k);
        if (!(tk > t_end && tk < T)) continue;
        inside++;
        size_t hit = 0;
        for (size_t i = 0; i < n; i++) hit += t[i] == tk;
        assert_int_equal(hit, 1);
    }
    assert_int_equal(n, inside + 2 + 2);
    for (size_t e = 0; e < 2; e++) {
        size_t hit = 0;
        for (size_t i = 0; i < n; i++) hit += t[i] == extra[e];
        assert_int_equal(hit, 1);
    }
    assert_int_equal(rg_sampler_grid_noise(NULL, T, t_end, NULL, 0, t, &n), RG_EINVAL);
    assert_int_equal(rg_sampler_grid_noise(s, t_end, T, NULL, 0, t, &n), RG_EINVAL);
    const double outside = 3.0;
    assert_int_equal(rg_sampler_grid_noise(s, T, t_end, &outside, 1, t, &n), RG_EINVAL);
    rg_noise_free(s);
}

/* ---- fused steps ------------------------------------------------------------------------------------ */

/* The same mixture behind a wrapper the sampler does not recognise: the plain path (score, then step). */
static int wrap_prepare(void *ctx, double t) { return rg_score_gmm_prepare(ctx, t); }
static int wrap_eval(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *ex)
{
    (void)ex;
    return rg_score_gmm_eval_ws(ctx, ws, t, B, x, s, NULL);
}
static void *wrap_ws_new(void *ctx, size_t B_max) { return rg_score_gmm_ws_new(ctx, B_max); }
static void wrap_ws_free(void *ws) { rg_score_gmm_ws_free(ws); }

/* A two-class tanh pair (K = 2, means +-m, one variance) or K = 3 with unequal weights and variances. */
static rg_data_gmm *mixture(size_t N, int three)
{
    double mu[3 * 8], w3[3] = { 0.5, 0.3, 0.2 }, w2[2] = { 0.5, 0.5 }, c3[3] = { 0.3, 0.8, 0.5 }, c2[2] = { 0.4, 0.4 };
    for (size_t i = 0; i < N; i++) {
        mu[i] = 1.2 * cos(0.7 * (double)i + 0.3);
        mu[N + i] = three ? 0.9 * sin(1.3 * (double)i) : -mu[i];
        mu[2 * N + i] = -0.6 + 0.2 * (double)i;
    }
    rg_data_gmm_params prm = { three ? 3 : 2, N, three ? w3 : w2, mu, RG_COV_ISO, three ? c3 : c2 };
    rg_data_gmm *g = NULL;
    assert_int_equal(rg_data_gmm_new(&prm, &g), RG_OK);
    return g;
}

/* The fused step (sampler_fused.c) against the plain path, same seed: ou (k = 1, N = 5) and coupled
 * (k = 2, r = 3); the tanh pair and K = 3 (unequal variances: the per-row Gram path); EM and EXP.
 * 70 rows (a full chunk and a ragged one), 40 steps from T = 4 to t_end = 0.05. The two round
 * differently (fused: float products and float sums in its own order; plain: double sums of float
 * inputs), a few 1e-7 relative per step; over 40 steps the largest difference measured 3e-6 of
 * max |x| (coupled, EXP). 1e-4 leaves a 30x margin and is far below a wrong term (O(h) = 0.1). The two must not be
 * bit-identical, or the fused path was not taken. */
static void test_fused_vs_plain(void **state)
{
    (void)state;
    enum { n = 70 };
    size_t ng = 0;
    double *t = grid(RG_GRID_UNIFORM, 4.0, 0.05, 40, NULL, 0, &ng);
    for (int proc = 0; proc < 2; proc++)
        for (int three = 0; three < 2; three++)
            for (int meth = 0; meth < 2; meth++) {
                rg_process *p = NULL;
                double M[4];
                rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
                assert_int_equal(proc ? rg_process_coupled(M, 3, &p) : rg_process_ou(5, &p), RG_OK);
                const size_t N = rg_process_dim(p);
                rg_data_gmm *g = mixture(N, three);
                rg_score_gmm *m = NULL;
                assert_int_equal(rg_score_gmm_new(p, g, RG_SAMPLER_CHUNK, &m), RG_OK);
                rg_sampler_cfg c = { .proc = p, .score = rg_score_gmm_iface(m), .grid = t, .n_grid = ng,
                                     .seed = SEED + 5, .method = meth ? RG_SAMPLER_EXP : RG_SAMPLER_EM };
                float *xf = malloc(n * N * sizeof *xf), *xp = malloc(n * N * sizeof *xp);
                assert_int_equal(rg_sampler_run(&c, n, 0, xf), RG_OK);
                c.score = (rg_score){ wrap_prepare, wrap_eval, wrap_ws_new, wrap_ws_free, m, 0, 0, 0 };
                assert_int_equal(rg_sampler_run(&c, n, 0, xp), RG_OK);
                double big = 0.0, diff = 0.0;
                for (size_t i = 0; i < n * N; i++) {
                    big = fmax(big, fabs((double)xp[i]));
                    diff = fmax(diff, fabs((double)xf[i] - (double)xp[i]));
                }
                if (!(diff <= 1e-4 * big))
                    fail_msg("fused vs plain (process %d, K = %d, %s): max diff %g of max |x| %g", proc, three ? 3 : 2,
                             meth ? "EXP" : "EM", diff, big);
                assert_true(memcmp(xf, xp, n * N * sizeof *xf) != 0);
                free(xf), free(xp);
                rg_score_gmm_free(m);
                rg_data_gmm_free(g);
                rg_process_free(p);
            }
    free(t);
}

/* ---- batch scores ----------------------------------------------------------------------------------- */

/* The wrapped mixture, counting its calls (the sampler calls a batch score from one thread). */
typedef struct {
    rg_score_gmm *m;
    size_t calls, rows;
} counted;
static int cnt_prepare(void *ctx, double t) { return rg_score_gmm_prepare(((counted *)ctx)->m, t); }
static int cnt_eval(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *ex)
{
    (void)ex;
    counted *c = ctx;
    c->calls++, c->rows += B;
    return rg_score_gmm_eval_ws(c->m, ws, t, B, x, s, NULL);
}
static void *cnt_ws_new(void *ctx, size_t B_max) { return rg_score_gmm_ws_new(((counted *)ctx)->m, B_max); }

/* Batch mode (sampler.h "Batch scores") against the chunked plain path on the same row-wise score, same
 * seed: the mixture's eval is lane-exact (a row's score does not depend on its batch, score.h), so the
 * two must agree bit for bit, end states and projections. The batch score is called once per grid step
 * (Heun: twice, except the last step to t' = 0), on every row alive: clones of 3 branches of 70 pairs
 * (one full chunk and a ragged one), independent and shared trunks, EM and EXP; runs of 70 rows, EM and
 * Heun. A mis-gathered row, a wrong stream or a skipped branch would break the bits. */
static void test_batch_score(void **state)
{
    (void)state;
    enum { n = 70, nb = 3 };
    const double tb[nb] = { 2.0, 0.8, 2.0 }; /* unsorted, a repeated time */
    size_t ng = 0;
    double *t = grid(RG_GRID_UNIFORM, 4.0, 0.0, 20, NULL, 0, &ng);
    rg_process *p = NULL;
    assert_int_equal(rg_process_ou(5, &p), RG_OK);
    const size_t N = rg_process_dim(p), K = ng - 1;
    rg_data_gmm *g = mixture(N, 1);
    rg_score_gmm *m = NULL;
    assert_int_equal(rg_score_gmm_new(p, g, RG_SAMPLER_CHUNK, &m), RG_OK);
    counted cc = { m, 0, 0 };
    const rg_score plain = { cnt_prepare, cnt_eval, cnt_ws_new, wrap_ws_free, &cc, 0, 0, 0 };
    rg_score batch = plain;
    batch.batch = 1;
    float v[2 * 5] = { 1, 0, 0, 0, 0, 0.3f, -0.2f, 0.5f, 0.1f, 0.7f };
    const double rec[2] = { t[3], t[K] };
    float *xa[2], *xb[2];
    double *pr[2];
    for (int trunk = 0; trunk < 2; trunk++)
        for (int meth = 0; meth < 2; meth++) {
            for (int mode = 0; mode < 2; mode++) {
                xa[mode] = malloc(nb * n * N * sizeof(float)), xb[mode] = malloc(nb * n * N * sizeof(float));
                pr[mode] = malloc(nb * 2 * 2 * n * 2 * sizeof(double));
                rg_sampler_cfg c = { .proc = p, .score = mode ? batch : plain, .grid = t, .n_grid = ng, .seed = SEED + 7,
                                     .method = meth ? RG_SAMPLER_EXP : RG_SAMPLER_EM, .trunk = (rg_sampler_trunk)trunk,
                                     .rec_t = rec, .n_rec = 2, .proj = v, .n_proj = 2, .proj_out = pr[mode] };
                cc.calls = cc.rows = 0;
                assert_int_equal(rg_sampler_clone(&c, tb, nb, n, xa[mode], xb[mode]), RG_OK);
                if (mode) {
                    assert_int_equal(cc.calls, K);
                    /* rows: trunks before their branch, 2 n after (independent: per branch; shared: one trunk) */
                    size_t want = 0;
                    for (size_t k = 0; k < K; k++) {
                        size_t ahead = 0;
                        for (size_t j = 0; j < nb; j++) {
                            const int before = t[k] > tb[j] + 1e-12;
                            ahead += before;
                            want += before ? (trunk ? 0 : n) : 2 * n;
                        }
                        want += trunk && ahead ? n : 0;
                    }
                    assert_int_equal(cc.rows, want);
                }
            }
            assert_memory_equal(xa[0], xa[1], nb * n * N * sizeof(float));
            assert_memory_equal(xb[0], xb[1], nb * n * N * sizeof(float));
            assert_memory_equal(pr[0], pr[1], nb * 2 * 2 * n * 2 * sizeof(double));
            for (int mode = 0; mode < 2; mode++) free(xa[mode]), free(xb[mode]), free(pr[mode]);
        }
    for (int meth = 0; meth < 2; meth++) {
        float *x[2];
        for (int mode = 0; mode < 2; mode++) {
            x[mode] = malloc(n * N * sizeof(float));
            rg_sampler_cfg c = { .proc = p, .score = mode ? batch : plain, .grid = t, .n_grid = ng, .seed = SEED + 8,
                                 .method = meth ? RG_SAMPLER_HEUN : RG_SAMPLER_EM };
            cc.calls = cc.rows = 0;
            assert_int_equal(rg_sampler_run(&c, n, 0, x[mode]), RG_OK);
            if (mode) assert_int_equal(cc.calls, meth ? 2 * K - 1 : K); /* Heun: t and t', none at t' = 0 */
        }
        assert_memory_equal(x[0], x[1], n * N * sizeof(float));
        free(x[0]), free(x[1]);
    }
    /* a batch score with extras is refused */
    batch.has_extra = 1;
    rg_sampler_cfg c = { .proc = p, .score = batch, .grid = t, .n_grid = ng, .seed = 1 };
    float x1[5];
    assert_int_equal(rg_sampler_run(&c, 1, 0, x1), RG_EINVAL);
    rg_score_gmm_free(m);
    rg_data_gmm_free(g);
    rg_process_free(p);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_marginal), cmocka_unit_test(test_heun_gaussian),
        cmocka_unit_test(test_point_mass_em),    cmocka_unit_test(test_recording),
        cmocka_unit_test(test_ddpm_grid),        cmocka_unit_test(test_ddpm_grid_bits),
        cmocka_unit_test(test_grid_noise),       cmocka_unit_test(test_fused_vs_plain),
        cmocka_unit_test(test_batch_score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
