/* Tests of the score module's extras and threading contract (score.h), beside tests/test_score.c:
 * the per-row extras (lse, logp, nearest, d1/d2 ratio, softmax entropy) against closed-form double
 * loops, bit-identity of rg_score_emp_eval_ws from two OpenMP threads, the permutation property of
 * the nearest index, batch independence (a row's bits whatever batch it arrives in) and the lane-wise
 * kernels against plain loops. Deterministic inputs from Philox (seed below). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/rng.h"
#include "regimes/process.h"
#include "regimes/score.h"
#include "score_internal.h"

#define SEED 4242u

static void fill(float *x, size_t n, uint64_t traj, float scale)
{
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_DATA };
    rg_rng_normals(r, traj, 0, x, n);
    for (size_t i = 0; i < n; i++) x[i] *= scale;
}

/* ou, N = 5, P = 37, B = 9, t = 0.3: under A = I, M_t = e^{-t} I and Sigma_t = Delta I, so
 * r_mu^2 = |x - e^{-t} a_mu|^2 / Delta exactly (docs/math.md 5.2, parent case), computed here in double. */
static void test_extras_vs_closed_form(void **state)
{
    (void)state;
    enum { N = 5, P = 37, B = 9 };
    const double t = 0.3, E = exp(-t), D = -expm1(-2.0 * t);
    float X[P * N], x[B * N], s[B * N];
    fill(X, P * N, 1, 1.0f);
    fill(x, B * N, 2, 1.3f);
    rg_process *p = NULL;
    rg_score_emp *e = NULL;
    assert_int_equal(rg_process_ou(N, &p), RG_OK);
    assert_int_equal(rg_score_emp_new(p, X, P, N, B, &e), RG_OK);
    double lse[B], logp[B], ratio[B], ent[B];
    int nn[B];
    rg_score_extra ex = { lse, nn, logp, ratio, ent };
    assert_int_equal(rg_score_emp_eval(e, t, B, x, s, &ex), RG_OK);
    for (size_t b = 0; b < B; b++) {
        double r2[P], m1 = INFINITY, m2 = INFINITY;
        size_t i1 = 0;
        for (size_t mu = 0; mu < P; mu++) {
            double acc = 0.0;
            for (size_t i = 0; i < N; i++) {
                const double dd = (double)x[b * N + i] - E * (double)X[mu * N + i];
                acc += dd * dd;
            }
            r2[mu] = acc / D;
            if (r2[mu] < m1) m2 = m1, m1 = r2[mu], i1 = mu;
            else if (r2[mu] < m2) m2 = r2[mu];
        }
        double Z = 0.0, H = 0.0;
        for (size_t mu = 0; mu < P; mu++) Z += exp(-0.5 * (r2[mu] - m1));
        for (size_t mu = 0; mu < P; mu++) {
            const double w = exp(-0.5 * (r2[mu] - m1)) / Z;
            H -= w > 0 ? w * log(w) : 0.0;
        }
        const double want_lse = -0.5 * m1 + log(Z);
        /* float path: r^2 ~ 20 here carries ~ N eps_f (|y|^2 + |b|^2) ~ 1e-5 absolute error from the
         * sgemm expansion; 1e-4 absolute on lse, logp, entropy is a 10x margin, an index or factor
         * error is O(1). */
        rg_assert_abs(lse[b], want_lse, 1e-4, "lse vs closed form");
        rg_assert_abs(logp[b], want_lse - log((double)P) - 0.5 * N * log(6.283185307179586 * D), 1e-4, "logp");
        rg_assert_abs(ent[b], H, 1e-4, "softmax entropy");
        rg_assert_abs(ratio[b], sqrt(m1 / m2), 1e-4, "d1/d2 ratio");
        assert_int_equal(nn[b], (int)i1);
        assert_true(ent[b] >= -1e-6 && ent[b] <= log((double)P) + 1e-6);
    }
    rg_score_emp_free(e);
    rg_process_free(p);
}

/* A nonrev process (dense core, N = 6: the sgemm whitening path) evaluated by two threads at once, each
 * on its half with its own workspace, must equal the serial evaluation bit for bit (same B per call). */
static void test_eval_ws_threads(void **state)
{
    (void)state;
    enum { N = 6, P = 50, H = 16 };
    double U[N * N], Q[N * N];
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            U[i * N + j] = (i == j ? 1.5 + 0.2 * (double)i : 0.1 / (1.0 + (double)(i + j)));
            Q[i * N + j] = i == j ? 0.0 : (i < j ? 0.3 : -0.3) * (double)(1 + (i + j) % 3);
        }
    rg_process *p = NULL;
    rg_score_emp *e = NULL;
    assert_int_equal(rg_process_nonrev(N, U, Q, &p), RG_OK);
    float X[P * N], x[2 * H * N], s1[2 * H * N], s2[2 * H * N];
    fill(X, P * N, 3, 1.0f);
    fill(x, 2 * H * N, 4, 1.0f);
    assert_int_equal(rg_score_emp_new(p, X, P, N, H, &e), RG_OK);
    const double t = 0.41;
    assert_int_equal(rg_score_emp_eval(e, t, H, x, s1, NULL), RG_OK);
    assert_int_equal(rg_score_emp_eval(e, t, H, x + H * N, s1 + H * N, NULL), RG_OK);
    int st[2] = { -1, -1 };
#pragma omp parallel num_threads(2)
    {
        const int id = omp_get_thread_num();
        if (id < 2) {
            rg_score_emp_ws *w = rg_score_emp_ws_new(e, H);
            st[id] = w ? rg_score_emp_eval_ws(e, w, t, H, x + (size_t)id * H * N, s2 + (size_t)id * H * N, NULL)
                       : RG_ENOMEM;
            rg_score_emp_ws_free(w);
        }
    }
    if (omp_get_max_threads() < 2 && st[1] == -1) /* one thread only: do the second half here */
        st[1] = rg_score_emp_eval(e, t, H, x + H * N, s2 + H * N, NULL);
    assert_int_equal(st[0], RG_OK);
    assert_int_equal(st[1], RG_OK);
    assert_memory_equal(s1, s2, sizeof s1);
    /* an unprepared time is refused by eval_ws */
    rg_score_emp_ws *w = rg_score_emp_ws_new(e, H);
    assert_non_null(w);
    assert_int_equal(rg_score_emp_eval_ws(e, w, 0.77, H, x, s2, NULL), RG_EINVAL);
    rg_score_emp_ws_free(w);
    rg_score_emp_free(e);
    rg_process_free(p);
}

/* Reversing the training set maps nearest mu to P - 1 - mu and leaves lse unchanged (a sum over mu;
 * float summation order differs, so 1e-5 relative); coupled process (2 x 2 core path). */
static void test_permutation(void **state)
{
    (void)state;
    enum { d = 3, N = 6, P = 29, B = 7 };
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.6, M);
    rg_process *p = NULL;
    assert_int_equal(rg_process_coupled(M, d, &p), RG_OK);
    float X[P * N], R[P * N], x[B * N];
    fill(X, P * N, 5, 1.0f);
    fill(x, B * N, 6, 1.0f);
    for (size_t mu = 0; mu < P; mu++) memcpy(R + mu * N, X + (P - 1 - mu) * N, N * sizeof(float));
    rg_score_emp *e1 = NULL, *e2 = NULL;
    assert_int_equal(rg_score_emp_new(p, X, P, N, B, &e1), RG_OK);
    assert_int_equal(rg_score_emp_new(p, R, P, N, B, &e2), RG_OK);
    double l1[B], l2[B];
    int n1[B], n2[B];
    rg_score_extra x1 = { l1, n1, NULL, NULL, NULL }, x2 = { l2, n2, NULL, NULL, NULL };
    assert_int_equal(rg_score_emp_eval(e1, 0.2, B, x, NULL, &x1), RG_OK);
    assert_int_equal(rg_score_emp_eval(e2, 0.2, B, x, NULL, &x2), RG_OK);
    for (size_t b = 0; b < B; b++) {
        assert_int_equal(n2[b], P - 1 - n1[b]);
        rg_assert_rel(l2[b], l1[b], 1e-5, "lse under permutation");
    }
    rg_score_emp_free(e1);
    rg_score_emp_free(e2);
    rg_process_free(p);
}

/* Tweedie (docs/math.md 5.1): with one training point a the posterior of z_0 given z_t is a point mass, so
 * E[z_0 | z_t = x] = a for every x and t; this holds for ou, coupled (2 x 2 core, non-symmetric M_t)
 * and nonrev (dense, d = 6) alike, so it checks M_t^{-1}, S_t and the (k, r) layout of rg_score_denoise.
 * Float32 score and state: 1e-4 relative to the scale of x (|x| ~ 3, S_t s ~ x). */
static void test_denoise_one_point(void **state)
{
    (void)state;
    enum { N = 6, B = 4 };
    float a[N], x[B * N], s[B * N], x0[B * N];
    fill(a, N, 3, 1.0f);
    fill(x, B * N, 4, 3.0f);
    const double Mc[4] = { 1.0, 0.5, 0.3, 1.2 };
    double U[N * N] = { 0 }, Q[N * N] = { 0 };
    for (size_t i = 0; i < N; i++) U[i * N + i] = 0.2 + 0.3 * (double)i;
    Q[1] = 0.7, Q[N] = -0.7, Q[2 * N + 4] = 0.4, Q[4 * N + 2] = -0.4;
    rg_process *p[3] = { NULL, NULL, NULL };
    assert_int_equal(rg_process_ou(N, &p[0]), RG_OK);
    assert_int_equal(rg_process_coupled(Mc, N / 2, &p[1]), RG_OK);
    assert_int_equal(rg_process_nonrev(N, U, Q, &p[2]), RG_OK);
    for (size_t q = 0; q < 3; q++)
        for (double t = 0.05; t < 3.0; t *= 3.0) {
            rg_score_emp *e = NULL;
            assert_int_equal(rg_score_emp_new(p[q], a, 1, N, B, &e), RG_OK);
            assert_int_equal(rg_score_emp_eval(e, t, B, x, s, NULL), RG_OK);
            assert_int_equal(rg_score_denoise(p[q], t, B, x, s, x0), RG_OK);
            for (size_t i = 0; i < B * N; i++) assert_true(fabs((double)x0[i] - (double)a[i % N]) < 1e-4 * exp(t) * 3.0);
            rg_score_emp_free(e);
        }
    assert_int_equal(rg_score_denoise(p[0], 0.0, B, x, s, x0), RG_EINVAL);
    for (size_t q = 0; q < 3; q++) rg_process_free(p[q]);
}


/* Batch independence (score.h): 150 rows evaluated at once, as rows 22..149 alone (the offset of a
 * second MPI rank's slice), one at a time and in batches of 37 give the same bits for every row's
 * score and extras. Processes: ou (k = 1, the scalar whitening folded into the products), coupled
 * (k = 2, r = 4) and a dense non-reversible core (k = 6, r = 1: the lane-wise core applies). A BLAS
 * sgemm fails this for rows whose position in the call changes (OpenBLAS here: by position mod 12). */
static void check_batches(rg_process *p, const char *what)
{
    enum { B = 150, P = 53 };
    const size_t N = rg_process_dim(p);
    float *X = malloc(P * N * sizeof *X), *x = malloc(B * N * sizeof *x);
    float *s0 = malloc(B * N * sizeof *s0), *s1 = malloc(B * N * sizeof *s1);
    double l0[B], l1[B], r0[B], r1[B], e0[B], e1[B];
    int n0[B], n1[B];
    fill(X, P * N, 11, 1.0f);
    fill(x, B * N, 12, 1.2f);
    rg_score_emp *e = NULL;
    assert_int_equal(rg_score_emp_new(p, X, P, N, B, &e), RG_OK);
    const double t = 0.4;
    rg_score_extra ex = { l0, n0, NULL, r0, e0 };
    assert_int_equal(rg_score_emp_eval(e, t, B, x, s0, &ex), RG_OK);
    static const size_t starts[] = { 22, 0, 0 }, steps[] = { B, 1, 37 };
    for (size_t v = 0; v < 3; v++) {
        memset(s1, 0, B * N * sizeof *s1);
        for (size_t b0 = starts[v]; b0 < B; b0 += steps[v]) {
            const size_t bb = B - b0 < steps[v] ? B - b0 : steps[v];
            rg_score_extra eb = { l1 + b0, n1 + b0, NULL, r1 + b0, e1 + b0 };
            assert_int_equal(rg_score_emp_eval(e, t, bb, x + b0 * N, s1 + b0 * N, &eb), RG_OK);
        }
        const size_t a = starts[v];
        if (memcmp(s0 + a * N, s1 + a * N, (B - a) * N * sizeof *s0) || memcmp(l0 + a, l1 + a, (B - a) * sizeof *l0) ||
            memcmp(n0 + a, n1 + a, (B - a) * sizeof *n0) || memcmp(r0 + a, r1 + a, (B - a) * sizeof *r0) ||
            memcmp(e0 + a, e1 + a, (B - a) * sizeof *e0))
            fail_msg("%s: batching (start %zu, step %zu) changed a row's bits", what, a, steps[v]);
    }
    rg_score_emp_free(e);
    free(X), free(x), free(s0), free(s1);
}

static void test_batch_independent(void **state)
{
    (void)state;
    rg_process *p = NULL;
    assert_int_equal(rg_process_ou(7, &p), RG_OK);
    check_batches(p, "ou");
    rg_process_free(p);
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
    assert_int_equal(rg_process_coupled(M, 4, &p), RG_OK);
    check_batches(p, "coupled");
    rg_process_free(p);
    enum { k = 6 };
    double U[k * k] = { 0 }, Q[k * k] = { 0 };
    for (size_t i = 0; i < k; i++) {
        U[i * k + i] = 1.0 + 0.3 * (double)i;
        if (i + 1 < k) U[i * k + i + 1] = U[(i + 1) * k + i] = 0.2, Q[i * k + i + 1] = 0.5, Q[(i + 1) * k + i] = -0.5;
    }
    assert_int_equal(rg_process_nonrev(k, U, Q, &p), RG_OK);
    check_batches(p, "dense nonrev");
    rg_process_free(p);
}

/* Sum of n float products a[i * sa] b[i * sb] in blocks of kb terms (score_internal.h's contract). */
static float blocked(const float *a, size_t sa, const float *b, size_t sb, size_t n, size_t kb)
{
    float total = 0.0f;
    for (size_t i0 = 0; i0 < n; i0 += kb) {
        float acc = 0.0f;
        for (size_t i = i0; i < n && i < i0 + kb; i++) acc += a[i * sa] * b[i * sb];
        total = i0 == 0 ? acc : total + acc;
    }
    return total;
}

/* The lane-wise kernels (score_internal.h) against plain loops that spell out their contract: each
 * output lane is a blocked float sum of float products (no FMA), blocks of 64 terms (mm) and 256
 * (mtm). Bit for bit; shapes with tails of the 4-row and 4-column tiles and of the blocks (K = 150:
 * 64 + 64 + 22; M = 263: 256 + 7). Then the point of the blocks: a sum of 1568 positive products
 * (MNIST coupled) against double, blocked error below a third of the plain chain's. */
static void test_lanes_kernels(void **state)
{
    (void)state;
    enum { L = RG_SCORE__BLK, M = 263, K = 150 };
    float *A = malloc(M * K * sizeof *A), *in = malloc(M * L * sizeof *in), *out = malloc(M * L * sizeof *out);
    fill(A, M * K, 21, 1.0f);
    fill(in, M * L, 22, 1.0f);
    rg_score__lanes_mm(M, K, A, K, in, out); /* out (M, L) = A (M, K) in (K, L) */
    for (size_t m = 0; m < M; m++)
        for (size_t q = 0; q < L; q++) {
            const float want = blocked(A + m * K, 1, in + q, L, K, 64);
            if (out[m * L + q] != want) fail_msg("lanes_mm (%zu, %zu): %.9g, want %.9g", m, q, (double)out[m * L + q], (double)want);
        }
    rg_score__lanes_mtm(M, K, A, K, in, out); /* out (K, L) = A^T (K, M) in (M, L) */
    for (size_t n = 0; n < K; n++)
        for (size_t q = 0; q < L; q++) {
            const float want = blocked(A + n, K, in + q, L, M, 256);
            if (out[n * L + q] != want) fail_msg("lanes_mtm (%zu, %zu): %.9g, want %.9g", n, q, (double)out[n * L + q], (double)want);
        }
    free(A), free(in), free(out);
    enum { NL = 1568 };
    float *a = malloc(NL * sizeof *a), *x = malloc(NL * L * sizeof *x), *o = malloc(L * sizeof *o);
    for (size_t i = 0; i < NL; i++) a[i] = 0.5f + 0.5f * (float)((i * 7919u) % 1000u) / 1000.0f;
    for (size_t i = 0; i < NL * L; i++) x[i] = 0.5f + 0.5f * (float)((i * 104729u) % 997u) / 997.0f;
    rg_score__lanes_mm(1, NL, a, NL, x, o);
    double eb = 0.0, ep = 0.0;
    for (size_t q = 0; q < L; q++) {
        double exact = 0.0;
        float plain = 0.0f;
        for (size_t i = 0; i < NL; i++) exact += (double)(a[i] * x[i * L + q]), plain += a[i] * x[i * L + q];
        eb = fmax(eb, fabs((double)o[q] - exact) / exact);
        ep = fmax(ep, fabs((double)plain - exact) / exact);
    }
    if (!(eb < ep / 3)) fail_msg("blocked sums: relative error %g, a plain chain %g", eb, ep);
    free(a), free(x), free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extras_vs_closed_form),
        cmocka_unit_test(test_eval_ws_threads),
        cmocka_unit_test(test_permutation),
        cmocka_unit_test(test_denoise_one_point),
        cmocka_unit_test(test_batch_independent),
        cmocka_unit_test(test_lanes_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
