/* Tests of the exact scores (score.h): the float32 GEMM kernels against the double naive references,
 * the naive scores against central finite differences of the naive log densities, the extras
 * (lse, nearest), the per-t cache, and the GMM score's two paths (core algebra / dense), for ou,
 * coupled (rg_process_coupling) and nonrev processes of small N. */
#define _POSIX_C_SOURCE 200809L /* pthread barriers (the fake shard group) */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/rng.h"
#include "regimes/score.h"

#define SEED 20261203u
#define NPROC 3
#define P_TRAIN 20
#define BATCH 7

static const double TIMES[] = { 0.3, 1.0, 3.0 };

/* ou d = 4; coupled cross gamma = 0.5, d = 3 (N = 6); nonrev n = 4 with U SPD, Q antisymmetric. */
static rg_process *make_process(int which)
{
    rg_process *p = NULL;
    if (which == 0) {
        assert_int_equal(rg_process_ou(4, &p), RG_OK);
    } else if (which == 1) {
        double M[4];
        rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
        assert_int_equal(rg_process_coupled(M, 3, &p), RG_OK);
    } else {
        const double U[16] = { 2.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 1.0, 0.1, 0.1, 0.0, 0.1, 0.8 };
        const double Q[16] = { 0, 0.7, -0.2, 0.1, -0.7, 0, 0.4, 0, 0.2, -0.4, 0, 0.5, -0.1, 0, -0.5, 0 };
        assert_int_equal(rg_process_nonrev(4, U, Q, &p), RG_OK);
    }
    return p;
}

/* Training set: standard normals times 1.3 (RG_STREAM_DATA, traj = row). Batch: normals times 1.5
 * (RG_STREAM_MEASURE), kept both as float and as the same values in double. */
static void make_points(size_t N, float *X, float *xf, double *xd)
{
    rg_rng r = { SEED, RG_STREAM_DATA }, q = { SEED, RG_STREAM_MEASURE };
    for (size_t mu = 0; mu < P_TRAIN; mu++) {
        rg_rng_normals(r, mu, 0, X + mu * N, N);
        for (size_t i = 0; i < N; i++) X[mu * N + i] *= 1.3f;
    }
    for (size_t b = 0; b < BATCH; b++) {
        rg_rng_normals(q, b, 0, xf + b * N, N);
        for (size_t i = 0; i < N; i++) {
            xf[b * N + i] *= 1.5f;
            xd[b * N + i] = (double)xf[b * N + i];
        }
    }
}

static void test_emp_fast_vs_naive(void **state)
{
    (void)state;
    for (int w = 0; w < NPROC; w++) {
        rg_process *p = make_process(w);
        size_t N = rg_process_dim(p);
        float *X = malloc(P_TRAIN * N * sizeof *X), *xf = malloc(BATCH * N * sizeof *xf),
              *sf = malloc(BATCH * N * sizeof *sf), *sf2 = malloc(BATCH * N * sizeof *sf2);
        double *xd = malloc(BATCH * N * sizeof *xd), *sn = malloc(BATCH * N * sizeof *sn),
               *sg = malloc(BATCH * N * sizeof *sg);
        double lse[BATCH], lse_n[BATCH];
        int near[BATCH], near_n[BATCH];
        make_points(N, X, xf, xd);
        rg_score_emp *e = NULL;
        assert_int_equal(rg_score_emp_new(p, X, P_TRAIN, N, BATCH, &e), RG_OK);
        for (size_t it = 0; it < sizeof TIMES / sizeof TIMES[0]; it++) {
            double t = TIMES[it];
            rg_score_extra ex = { .lse = lse, .nearest = near };
            assert_int_equal(rg_score_emp_eval(e, t, BATCH, xf, sf, &ex), RG_OK);
            assert_int_equal(rg_score_emp_naive(p, X, P_TRAIN, N, t, BATCH, xd, sn, NULL, lse_n, near_n), RG_OK);
            for (size_t i = 0; i < BATCH * N; i++) sg[i] = (double)sf[i];
            /* float32 whitening and GEMMs: r^2 = |y|^2 + |b|^2 - 2 y.b loses log10(|y|^2 / r^2) digits of
             * eps_f = 6e-8; here |y|^2 / r^2 <= ~100 (N <= 6, t >= 0.3), so weights and scores carry
             * ~1e-5 relative error: 1e-4 relative to the largest |s| (docs/math.md 5.2 item 7). */
            rg_assert_vec_rel(sg, sn, BATCH * N, 1e-4, "empirical score fast vs naive");
            for (size_t b = 0; b < BATCH; b++) {
                /* lse = -r_min^2/2 + log Z: the same float error on r^2, absolute, scaled by |lse|. */
                rg_assert_abs(lse[b], lse_n[b], 1e-4 * fmax(1.0, fabs(lse_n[b])), "lse fast vs naive");
                assert_int_equal(near[b], near_n[b]);
            }
        }
        /* cache: returning to t = TIMES[0] after other times gives the bit-identical score */
        assert_int_equal(rg_score_emp_eval(e, TIMES[0], BATCH, xf, sf, NULL), RG_OK);
        assert_int_equal(rg_score_emp_eval(e, TIMES[2], BATCH, xf, sf2, NULL), RG_OK);
        assert_int_equal(rg_score_emp_fn(e, TIMES[0], BATCH, xf, sf2), RG_OK);
        assert_memory_equal(sf, sf2, BATCH * N * sizeof *sf);
        /* errors: batch beyond B_max, t = 0 */
        assert_int_equal(rg_score_emp_eval(e, 1.0, BATCH + 1, xf, sf, NULL), RG_EINVAL);
        assert_int_equal(rg_score_emp_eval(e, 0.0, BATCH, xf, sf, NULL), RG_EINVAL);
        rg_score_emp_free(e);
        free(X); free(xf); free(sf); free(sf2); free(xd); free(sn); free(sg);
        rg_process_free(p);
    }
}

/* Central differences of log p in double, step h: truncation O(h^2 |d^3 log p|) ~ 1e-10 and rounding
 * ~ eps |log p| / h ~ 1e-11 for h = 1e-5, so 1e-6 relative to the largest |s| is safe and still
 * catches any sign or factor error. */
typedef int (*logp_fn)(void *ctx, double t, const double *x, double *s, double *logp);

static void check_fd(logp_fn f, void *ctx, size_t N, double t, const double *x, const char *what)
{
    double *s = malloc(N * sizeof *s), *fd = malloc(N * sizeof *fd), *xx = malloc(N * sizeof *xx),
           *tmp = malloc(N * sizeof *tmp);
    double lp, lm, l0;
    assert_int_equal(f(ctx, t, x, s, &l0), RG_OK);
    assert_true(isfinite(l0));
    const double h = 1e-5;
    for (size_t i = 0; i < N; i++) {
        memcpy(xx, x, N * sizeof *xx);
        xx[i] = x[i] + h;
        assert_int_equal(f(ctx, t, xx, tmp, &lp), RG_OK);
        xx[i] = x[i] - h;
        assert_int_equal(f(ctx, t, xx, tmp, &lm), RG_OK);
        fd[i] = (lp - lm) / (2.0 * h);
    }
    rg_assert_vec_rel(s, fd, N, 1e-6, what);
    free(s); free(fd); free(xx); free(tmp);
}

typedef struct { const rg_process *p; const float *X; size_t N; const rg_data_gmm *g; } fd_ctx;

static int emp_logp(void *ctx, double t, const double *x, double *s, double *logp)
{
    fd_ctx *c = ctx;
    return rg_score_emp_naive(c->p, c->X, P_TRAIN, c->N, t, 1, x, s, logp, NULL, NULL);
}

static int gmm_logp(void *ctx, double t, const double *x, double *s, double *logp)
{
    fd_ctx *c = ctx;
    return rg_score_gmm_naive(c->p, c->g, t, 1, x, s, logp);
}

static void test_emp_naive_vs_fd(void **state)
{
    (void)state;
    for (int w = 0; w < NPROC; w++) {
        rg_process *p = make_process(w);
        size_t N = rg_process_dim(p);
        float *X = malloc(P_TRAIN * N * sizeof *X), *xf = malloc(BATCH * N * sizeof *xf);
        double *xd = malloc(BATCH * N * sizeof *xd);
        make_points(N, X, xf, xd);
        fd_ctx c = { p, X, N, NULL };
        for (size_t it = 0; it < sizeof TIMES / sizeof TIMES[0]; it++)
            for (size_t b = 0; b < 3; b++) check_fd(emp_logp, &c, N, TIMES[it], xd + b * N, "emp score vs FD");
        free(X); free(xf); free(xd);
        rg_process_free(p);
    }
}

/* A 3-component mixture of dimension N: means = 2 x normals (RG_STREAM_DATA traj 1000 + j), weights
 * 0.2, 0.3, 0.5; isotropic variances 0.3, 0.6, 1.1, or diagonal entries 0.3 + 0.1 i + 0.2 j. */
static rg_data_gmm *make_gmm(size_t N, rg_cov_kind kind)
{
    double w[3] = { 0.2, 0.3, 0.5 }, *mu = malloc(3 * N * sizeof *mu), *cov = malloc(3 * N * sizeof *cov);
    rg_rng r = { SEED, RG_STREAM_DATA };
    for (size_t j = 0; j < 3; j++) {
        rg_rng_normals_d(r, 1000 + j, 0, mu + j * N, N);
        for (size_t i = 0; i < N; i++) mu[j * N + i] *= 2.0;
    }
    const double iso[3] = { 0.3, 0.6, 1.1 };
    for (size_t j = 0; j < 3; j++)
        for (size_t i = 0; i < N; i++) cov[j * N + i] = 0.3 + 0.1 * (double)i + 0.2 * (double)j;
    rg_data_gmm_params prm = { 3, N, w, mu, kind, kind == RG_COV_ISO ? iso : cov };
    rg_data_gmm *g = NULL;
    assert_int_equal(rg_data_gmm_new(&prm, &g), RG_OK);
    free(mu); free(cov);
    return g;
}

static void test_gmm(void **state)
{
    (void)state;
    for (int w = 0; w < NPROC; w++) {
        rg_process *p = make_process(w);
        size_t N = rg_process_dim(p);
        float *X = malloc(P_TRAIN * N * sizeof *X), *xf = malloc(BATCH * N * sizeof *xf),
              *sf = malloc(BATCH * N * sizeof *sf);
        double *xd = malloc(BATCH * N * sizeof *xd), *sn = malloc(BATCH * N * sizeof *sn),
               *sg = malloc(BATCH * N * sizeof *sg), lp[BATCH], l0[BATCH];
        make_points(N, X, xf, xd);
        for (int kind = 0; kind < 2; kind++) {
            rg_data_gmm *g = make_gmm(N, kind == 0 ? RG_COV_ISO : RG_COV_DIAG);
            rg_score_gmm *m = NULL;
            assert_int_equal(rg_score_gmm_new(p, g, BATCH, &m), RG_OK);
            fd_ctx c = { p, NULL, N, g };
            for (size_t it = 0; it < sizeof TIMES / sizeof TIMES[0]; it++) {
                double t = TIMES[it];
                assert_int_equal(rg_score_gmm_fn(m, t, BATCH, xf, sf), RG_OK);
                assert_int_equal(rg_score_gmm_naive(p, g, t, BATCH, xd, sn, NULL), RG_OK);
                for (size_t i = 0; i < BATCH * N; i++) sg[i] = (double)sf[i];
                /* both in double from the same inputs; the fast one only rounds its output to float
                 * (6e-8) and uses core instead of dense algebra (~1e-14): 1e-6 */
                rg_assert_vec_rel(sg, sn, BATCH * N, 1e-6, kind == 0 ? "gmm iso fast vs naive" : "gmm diag fast vs naive");
                for (size_t b = 0; b < 3; b++) check_fd(gmm_logp, &c, N, t, xd + b * N, "gmm score vs FD");
            }
            /* t = 0: the naive density is the mixture's own (data.h), to rounding */
            assert_int_equal(rg_score_gmm_naive(p, g, 0.0, BATCH, xd, sn, lp), RG_OK);
            assert_int_equal(rg_data_gmm_logpdf(g, xd, BATCH, l0), RG_OK);
            for (size_t b = 0; b < BATCH; b++) rg_assert_rel(lp[b], l0[b], 1e-12, "gmm logp at t = 0");
            rg_score_gmm_free(m);
            rg_data_gmm_free(g);
        }
        free(X); free(xf); free(sf); free(xd); free(sn); free(sg);
        rg_process_free(p);
    }
}

/* Property: P = 1 empirical score is the score of the Gaussian N(E a, S): s = -Sigma^{-1}(x - E a),
 * which is the K = 1 mixture with a vanishing covariance; compare against the K = 1 mixture with
 * variance 1e-12 (its Gamma differs from S by 1e-12 E E^T: relative 1e-10). */
static void test_emp_single_point(void **state)
{
    (void)state;
    rg_process *p = make_process(1);
    size_t N = rg_process_dim(p);
    float *X = malloc(P_TRAIN * N * sizeof *X), *xf = malloc(BATCH * N * sizeof *xf),
          *sf = malloc(BATCH * N * sizeof *sf), *sg = malloc(BATCH * N * sizeof *sg);
    double *xd = malloc(BATCH * N * sizeof *xd), *mu = malloc(N * sizeof *mu), *a = malloc(BATCH * N * sizeof *a),
           *b = malloc(BATCH * N * sizeof *b);
    make_points(N, X, xf, xd);
    for (size_t i = 0; i < N; i++) mu[i] = (double)X[i];
    double wt = 1.0, var = 1e-12;
    rg_data_gmm_params prm = { 1, N, &wt, mu, RG_COV_ISO, &var };
    rg_data_gmm *g = NULL;
    assert_int_equal(rg_data_gmm_new(&prm, &g), RG_OK);
    rg_score_emp *e = NULL;
    rg_score_gmm *m = NULL;
    assert_int_equal(rg_score_emp_new(p, X, 1, N, BATCH, &e), RG_OK);
    assert_int_equal(rg_score_gmm_new(p, g, BATCH, &m), RG_OK);
    assert_int_equal(rg_score_emp_eval(e, 0.7, BATCH, xf, sf, NULL), RG_OK);
    assert_int_equal(rg_score_gmm_eval(m, 0.7, BATCH, xf, sg), RG_OK);
    for (size_t i = 0; i < BATCH * N; i++) { a[i] = (double)sf[i]; b[i] = (double)sg[i]; }
    /* float whitening of one point, no cancellation beyond |y - b| itself: 1e-5 */
    rg_assert_vec_rel(a, b, BATCH * N, 1e-5, "P = 1 empirical vs K = 1 mixture");
    rg_score_emp_free(e);
    rg_score_gmm_free(m);
    rg_data_gmm_free(g);
    free(X); free(xf); free(sf); free(sg); free(xd); free(mu); free(a); free(b);
    rg_process_free(p);
}

/* Fast vs naive for the mixtures the generic K = 3 test does not reach: gmm2 (K = 2, equal weights,
 * opposite means, one variance: the tanh path of docs/math.md 5.4 when the implementation detects it) on
 * all three processes, and a full-covariance mixture (dense N x N path). Same 1e-6 as test_gmm: double
 * algebra, float output rounding. FD of the naive log density checks the naive score for full C. */
static void test_gmm_tanh_and_full(void **state)
{
    (void)state;
    for (int w = 0; w < NPROC; w++) {
        rg_process *p = make_process(w);
        size_t N = rg_process_dim(p);
        float *X = malloc(P_TRAIN * N * sizeof *X), *xf = malloc(BATCH * N * sizeof *xf),
              *sf = malloc(BATCH * N * sizeof *sf);
        double *xd = malloc(BATCH * N * sizeof *xd), *sn = malloc(BATCH * N * sizeof *sn),
               *sg = malloc(BATCH * N * sizeof *sg);
        make_points(N, X, xf, xd);
        rg_data_gmm *g2 = NULL, *gf = NULL;
        assert_int_equal(rg_data_gmm2(N, 2.0, NULL, 0.4, NULL, &g2), RG_OK);
        /* full covariances C_j = 0.3 I + 0.1 (j + 1) v v^T with v = (1, -1, 1, ...) / sqrt(N) */
        double wts[2] = { 0.4, 0.6 }, *mu = calloc(2 * N, sizeof *mu), *C = calloc(2 * N * N, sizeof *C);
        for (size_t i = 0; i < N; i++) { mu[i] = 1.0; mu[N + i] = (i % 2) ? 0.5 : -1.0; }
        for (size_t j = 0; j < 2; j++)
            for (size_t a = 0; a < N; a++)
                for (size_t b = 0; b < N; b++) {
                    double va = (a % 2 ? -1.0 : 1.0), vb = (b % 2 ? -1.0 : 1.0);
                    C[(j * N + a) * N + b] = (a == b ? 0.3 : 0.0) + 0.1 * (double)(j + 1) * va * vb / (double)N;
                }
        rg_data_gmm_params prm = { 2, N, wts, mu, RG_COV_FULL, C };
        assert_int_equal(rg_data_gmm_new(&prm, &gf), RG_OK);
        const rg_data_gmm *gs[2] = { g2, gf };
        for (int q = 0; q < 2; q++) {
            rg_score_gmm *m = NULL;
            assert_int_equal(rg_score_gmm_new(p, gs[q], BATCH, &m), RG_OK);
            if (q == 0) assert_int_equal(rg_score_gmm_is_tanh(m), 1); /* the path under test */
            fd_ctx c = { p, NULL, N, gs[q] };
            for (size_t it = 0; it < sizeof TIMES / sizeof TIMES[0]; it++) {
                assert_int_equal(rg_score_gmm_eval(m, TIMES[it], BATCH, xf, sf), RG_OK);
                assert_int_equal(rg_score_gmm_naive(p, gs[q], TIMES[it], BATCH, xd, sn, NULL), RG_OK);
                for (size_t i = 0; i < BATCH * N; i++) sg[i] = (double)sf[i];
                rg_assert_vec_rel(sg, sn, BATCH * N, 1e-6, q == 0 ? "gmm2 fast vs naive" : "full-cov gmm fast vs naive");
                if (q == 1) check_fd(gmm_logp, &c, N, TIMES[it], xd, "full-cov gmm score vs FD");
            }
            rg_score_gmm_free(m);
        }
        rg_data_gmm_free(g2);
        rg_data_gmm_free(gf);
        free(mu); free(C); free(X); free(xf); free(sf); free(xd); free(sn); free(sg);
        rg_process_free(p);
    }
}

/* A larger empirical case, ou N = 64, P = 300, t = 0.5 and 2: the GEMM shapes are no longer tiny and
 * for points drawn from the forward marginal |y|^2 / r^2 ~ 1 / (1 - e^{-2t}) <= 1.6 (few digits lost), so
 * 1e-4 as above. Batch rows: z = e^{-t} a_mu + sqrt(1 - e^{-2t}) xi for mu = b. */
static void test_emp_larger(void **state)
{
    (void)state;
    const size_t N = 64, P = 300, B = 16;
    rg_process *p = NULL;
    assert_int_equal(rg_process_ou(N, &p), RG_OK);
    float *X = malloc(P * N * sizeof *X), *xf = malloc(B * N * sizeof *xf), *sf = malloc(B * N * sizeof *sf);
    double *xd = malloc(B * N * sizeof *xd), *sn = malloc(B * N * sizeof *sn), *sg = malloc(B * N * sizeof *sg);
    double lse[16], lse_n[16];
    int near[16], near_n[16];
    rg_rng r = { SEED, RG_STREAM_DATA }, q = { SEED, RG_STREAM_FORWARD };
    for (size_t mu = 0; mu < P; mu++) rg_rng_normals(r, mu, 0, X + mu * N, N);
    rg_score_emp *e = NULL;
    assert_int_equal(rg_score_emp_new(p, X, P, N, B, &e), RG_OK);
    const double ts[2] = { 0.5, 2.0 };
    for (size_t it = 0; it < 2; it++) {
        double t = ts[it], m = exp(-t), sd = sqrt(1.0 - exp(-2.0 * t));
        for (size_t b = 0; b < B; b++) {
            rg_rng_normals(q, b, it, xf + b * N, N);
            for (size_t i = 0; i < N; i++) {
                xf[b * N + i] = (float)(m * (double)X[b * N + i] + sd * (double)xf[b * N + i]);
                xd[b * N + i] = (double)xf[b * N + i];
            }
        }
        rg_score_extra ex = { .lse = lse, .nearest = near };
        assert_int_equal(rg_score_emp_eval(e, t, B, xf, sf, &ex), RG_OK);
        assert_int_equal(rg_score_emp_naive(p, X, P, N, t, B, xd, sn, NULL, lse_n, near_n), RG_OK);
        for (size_t i = 0; i < B * N; i++) sg[i] = (double)sf[i];
        rg_assert_vec_rel(sg, sn, B * N, 1e-4, "empirical score N = 64 fast vs naive");
        for (size_t b = 0; b < B; b++) {
            rg_assert_abs(lse[b], lse_n[b], 1e-4 * fmax(1.0, fabs(lse_n[b])), "lse N = 64");
            assert_int_equal(near[b], near_n[b]);
        }
    }
    rg_score_emp_free(e);
    free(X); free(xf); free(sf); free(xd); free(sn); free(sg);
    rg_process_free(p);
}


/* ---- a training set sharded over R ranks (docs/math.md 11.4) ------------------------------------------
 * A fake in-process group: R threads, one shard object each, and an allgather through a shared buffer
 * between two barriers, so the library's collectives run exactly as under MPI. */
#define SH_P 16421    /* 4 leaves of 4096 and a fifth of 37 rows: the tree's truncated right edge */
#define SH_B 70       /* two query blocks: 64 and 6 */
#define SH_RMAX 6
#define SH_CAP (1u << 21)

typedef struct {
    pthread_barrier_t bar;
    int R;
    unsigned char *buf;
} fake_group;

typedef struct {
    fake_group *g;
    int rank;
    size_t lo, hi;            /* rows held */
    const rg_process *p;
    const float *X, *x;       /* the whole training set (this rank copies its rows), the queries */
    size_t N;
    int st;
    float *s;                 /* (2 times, B, N) */
    double *lse, *logp, *ratio, *ent;
    int *near;
} fake_rank;

static int fake_allgather(void *ctx, const void *send, void *recv, size_t bytes)
{
    fake_rank *f = ctx;
    fake_group *g = f->g;
    if (bytes * (size_t)g->R > SH_CAP) return RG_EIO;
    memcpy(g->buf + (size_t)f->rank * bytes, send, bytes);
    pthread_barrier_wait(&g->bar);
    memcpy(recv, g->buf, bytes * (size_t)g->R);
    pthread_barrier_wait(&g->bar);
    return RG_OK;
}

static const double SH_T[2] = { 0.4, 2.5 };
static char sh_msg[256]; /* rank 0's error message (messages are per thread) */

static void *fake_run(void *arg)
{
    fake_rank *f = arg;
    const rg_score_shard_comm c = { f->rank, f->g->R, fake_allgather, f };
    rg_score_emp *e = NULL;
    f->st = rg_score_emp_new_shard(f->p, f->X + f->lo * f->N, f->hi - f->lo, f->lo, SH_P, f->N, SH_B, &c, &e);
    for (size_t it = 0; it < 2 && f->st == RG_OK; it++) {
        rg_score_extra ex = { f->lse + it * SH_B, f->near + it * SH_B, f->logp + it * SH_B, f->ratio + it * SH_B,
                              f->ent + it * SH_B };
        f->st = rg_score_emp_eval(e, SH_T[it], SH_B, f->x, f->s + it * SH_B * f->N, &ex);
    }
    rg_score_emp_free(e);
    if (f->rank == 0 && f->st != RG_OK) snprintf(sh_msg, sizeof sh_msg, "%s", rg_strerror_last());
    return NULL;
}

/* Outputs of one run (R ranks, rank 0's arrays; every rank's must agree too). */
typedef struct {
    float *s;
    double *lse, *logp, *ratio, *ent;
    int *near;
} sh_out;

static void sh_out_alloc(sh_out *o, size_t N)
{
    o->s = malloc(2 * SH_B * N * sizeof *o->s);
    o->lse = malloc(2 * SH_B * sizeof(double)), o->logp = malloc(2 * SH_B * sizeof(double));
    o->ratio = malloc(2 * SH_B * sizeof(double)), o->ent = malloc(2 * SH_B * sizeof(double));
    o->near = malloc(2 * SH_B * sizeof(int));
    assert_non_null(o->s), assert_non_null(o->lse), assert_non_null(o->logp), assert_non_null(o->ratio);
    assert_non_null(o->ent), assert_non_null(o->near);
}

static void sh_out_free(sh_out *o) { free(o->s), free(o->lse), free(o->logp), free(o->ratio), free(o->ent), free(o->near); }

/* R threads; bounds (R + 1) leaf-aligned row boundaries (NULL: rg_score_shard_rows). Returns the status of
 * rank 0 after checking every rank's outputs equal rank 0's, bit for bit. */
static int run_shards(const rg_process *p, size_t N, const float *X, const float *x, int R, const size_t *bounds,
                      sh_out *out)
{
    fake_group g = { .R = R, .buf = malloc(SH_CAP) };
    assert_non_null(g.buf);
    assert_int_equal(pthread_barrier_init(&g.bar, NULL, (unsigned)R), 0);
    fake_rank f[SH_RMAX];
    sh_out o[SH_RMAX];
    pthread_t th[SH_RMAX];
    for (int q = 0; q < R; q++) {
        if (q == 0) o[q] = *out;
        else sh_out_alloc(&o[q], N);
        f[q] = (fake_rank){ .g = &g, .rank = q, .p = p, .X = X, .x = x, .N = N, .s = o[q].s, .lse = o[q].lse,
                            .logp = o[q].logp, .ratio = o[q].ratio, .ent = o[q].ent, .near = o[q].near };
        if (bounds) f[q].lo = bounds[q], f[q].hi = bounds[q + 1];
        else rg_score_shard_rows(SH_P, q, R, &f[q].lo, &f[q].hi);
        assert_int_equal(pthread_create(&th[q], NULL, fake_run, &f[q]), 0);
    }
    for (int q = 0; q < R; q++) assert_int_equal(pthread_join(th[q], NULL), 0);
    for (int q = 1; q < R; q++) {
        assert_int_equal(f[q].st, f[0].st);
        if (f[0].st == RG_OK) {
            assert_memory_equal(o[q].s, o[0].s, 2 * SH_B * N * sizeof(float));
            assert_memory_equal(o[q].lse, o[0].lse, 2 * SH_B * sizeof(double));
            assert_memory_equal(o[q].near, o[0].near, 2 * SH_B * sizeof(int));
        }
        sh_out_free(&o[q]);
    }
    pthread_barrier_destroy(&g.bar);
    free(g.buf);
    return f[0].st;
}

static void assert_same_out(const sh_out *a, const sh_out *b, size_t N)
{
    assert_memory_equal(a->s, b->s, 2 * SH_B * N * sizeof(float));
    assert_memory_equal(a->lse, b->lse, 2 * SH_B * sizeof(double));
    assert_memory_equal(a->logp, b->logp, 2 * SH_B * sizeof(double));
    assert_memory_equal(a->ratio, b->ratio, 2 * SH_B * sizeof(double));
    assert_memory_equal(a->ent, b->ent, 2 * SH_B * sizeof(double));
    assert_memory_equal(a->near, b->near, 2 * SH_B * sizeof(int));
}

/* The sharded score equals the one-object score bit for bit (score, lse, logp, ratio, entropy, nearest as a
 * global index) for R = 1, 2, 3, 4, 6 (6 ranks over 5 leaves: one rank holds no rows) and an uneven split,
 * for ou (whitening with the queries) and coupled (a whitened copy per time). The queries sit near training
 * rows from every leaf (z = M_t a_mu + 0.3 xi with mu spread over P), so the weights and the nearest
 * indices involve several leaves; at t = 2.5 the weights spread over many rows of every leaf. The
 * one-object score itself is held to the naive double reference (1e-4, as test_emp_larger; ou only: the
 * naive cost is B P N^2). A rank split that is not on leaf boundaries is refused on every rank. */
static void test_emp_shard_identical(void **state)
{
    (void)state;
    for (int which = 0; which < 2; which++) {
        rg_process *p = make_process(which);
        const size_t N = rg_process_dim(p);
        float *X = malloc(SH_P * N * sizeof *X), *x = malloc(SH_B * N * sizeof *x);
        assert_non_null(X), assert_non_null(x);
        rg_rng r = { SEED, RG_STREAM_DATA }, q = { SEED, RG_STREAM_MEASURE };
        for (size_t mu = 0; mu < SH_P; mu++) rg_rng_normals(r, mu, 1, X + mu * N, N);
        for (size_t b = 0; b < SH_B; b++) { /* near row mu = b * 233 (up to 16100: all five leaves) */
            rg_rng_normals(q, b, 1, x + b * N, N);
            for (size_t i = 0; i < N; i++) x[b * N + i] = 0.8f * X[b * 233 * N + i] + 0.3f * x[b * N + i];
        }
        sh_out one;
        sh_out_alloc(&one, N);
        rg_score_emp *e = NULL;
        assert_int_equal(rg_score_emp_new(p, X, SH_P, N, SH_B, &e), RG_OK);
        for (size_t it = 0; it < 2; it++) {
            rg_score_extra ex = { one.lse + it * SH_B, one.near + it * SH_B, one.logp + it * SH_B,
                                  one.ratio + it * SH_B, one.ent + it * SH_B };
            assert_int_equal(rg_score_emp_eval(e, SH_T[it], SH_B, x, one.s + it * SH_B * N, &ex), RG_OK);
        }
        rg_score_emp_free(e);
        if (which == 0) { /* the tree's sums against the naive reference */
            double *xd = malloc(SH_B * N * sizeof *xd), *sn = malloc(SH_B * N * sizeof *sn), *sg = malloc(SH_B * N * sizeof *sg);
            double lse_n[SH_B];
            int near_n[SH_B];
            for (size_t i = 0; i < SH_B * N; i++) xd[i] = (double)x[i];
            for (size_t it = 0; it < 2; it++) {
                assert_int_equal(rg_score_emp_naive(p, X, SH_P, N, SH_T[it], SH_B, xd, sn, NULL, lse_n, near_n), RG_OK);
                for (size_t i = 0; i < SH_B * N; i++) sg[i] = (double)one.s[it * SH_B * N + i];
                rg_assert_vec_rel(sg, sn, SH_B * N, 1e-4, "leaf-tree score vs naive");
                for (size_t b = 0; b < SH_B; b++) {
                    rg_assert_abs(one.lse[it * SH_B + b], lse_n[b], 1e-4 * fmax(1.0, fabs(lse_n[b])), "lse vs naive");
                    assert_int_equal(one.near[it * SH_B + b], near_n[b]);
                }
            }
            free(xd), free(sn), free(sg);
        }
        const int Rs[] = { 1, 2, 3, 4, 6 };
        for (size_t i = 0; i < sizeof Rs / sizeof *Rs; i++) {
            sh_out o;
            sh_out_alloc(&o, N);
            assert_int_equal(run_shards(p, N, X, x, Rs[i], NULL, &o), RG_OK);
            assert_same_out(&o, &one, N);
            sh_out_free(&o);
        }
        const size_t uneven[3] = { 0, 3 * 4096, SH_P }, bad[3] = { 0, 5000, SH_P };
        sh_out o;
        sh_out_alloc(&o, N);
        assert_int_equal(run_shards(p, N, X, x, 2, uneven, &o), RG_OK);
        assert_same_out(&o, &one, N);
        assert_int_equal(run_shards(p, N, X, x, 2, bad, &o), RG_EINVAL);
        assert_non_null(strstr(sh_msg, "multiples of 4096"));
        sh_out_free(&o);
        sh_out_free(&one);
        free(X), free(x);
        rg_process_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emp_fast_vs_naive),
        cmocka_unit_test(test_emp_naive_vs_fd),
        cmocka_unit_test(test_gmm),
        cmocka_unit_test(test_emp_single_point),
        cmocka_unit_test(test_gmm_tanh_and_full),
        cmocka_unit_test(test_emp_larger),
        cmocka_unit_test(test_emp_shard_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
