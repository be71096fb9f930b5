/* Mean-decay experiment (experiment.h; docs/math.md 3.1): forward Euler-Maruyama paths of
 * dz = -A z dt + sqrt(2) dW from a fixed z_0, |mean| against the exact |M_t z_0|, fitted rates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "regimes/experiment.h"
#include "regimes/rng.h"
#include "internal.h"

void rg_exp_decay_result_free(rg_exp_decay_result *r)
{
    if (!r) return;
    free(r->t), free(r->mean), free(r->exact), free(r->group_rate);
    memset(r, 0, sizeof *r);
}

/* Least-squares slope of log y against t over [lo, hi]: the decay rate is its negative. */
static double fit_rate(size_t n, const double *t, const double *y, double lo, double hi)
{
    double st = 0, sy = 0, stt = 0, sty = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] >= lo && t[i] <= hi && y[i] > 0) {
            const double l = log(y[i]);
            st += t[i], sy += l, stt += t[i] * t[i], sty += t[i] * l, k++;
        }
    return k < 2 ? (double)NAN : -(k * sty - st * sy) / (k * stt - st * st);
}

/* |mean over paths [a, b)| of Z (n_paths, N), in double. */
static double mean_norm(const double *Z, size_t N, size_t a, size_t b)
{
    double q = 0;
    for (size_t j = 0; j < N; j++) {
        double s = 0;
        for (size_t p = a; p < b; p++) s += Z[p * N + j];
        q += (s / (double)(b - a)) * (s / (double)(b - a));
    }
    return sqrt(q);
}

/* per Euler-Maruyama steps on every path (one dgemm per step), steps numbered from step0. */
static void em_steps(const rg_exp_decay_cfg *c, const double *A, double *Z, double *W, double *xi, size_t per,
                     uint64_t step0)
{
    const size_t N = rg_process_dim(c->proc), n = c->n_paths;
    const rg_rng r = { c->seed, RG_STREAM_FORWARD };
    const double sq = sqrt(2.0 * c->h);
    for (size_t k = 0; k < per; k++) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)N, (int)N, 1.0, Z, (int)N, A, (int)N, 0.0,
                    W, (int)N);
        for (size_t s = 0; s < n; s++) {
            rg_rng_normals_d(r, s, step0 + k, xi, N);
            for (size_t j = 0; j < N; j++) Z[s * N + j] += -c->h * W[s * N + j] + sq * xi[j];
        }
    }
}

static int decay_check(const rg_exp_decay_cfg *c)
{
    if (!c || !c->proc || !c->z0) RG_FAIL(RG_EINVAL, "decay: NULL process or start");
    if (c->n_groups < 2 || c->n_paths < c->n_groups || c->n_paths % c->n_groups)
        RG_FAIL(RG_EINVAL, "decay: want n_groups >= 2 dividing n_paths, got %zu and %zu", c->n_groups, c->n_paths);
    if (c->n_t < 3 || !(c->t_max > 0) || !(c->h > 0) || !(c->fit_hi > c->fit_lo))
        RG_FAIL(RG_EINVAL, "decay: want n_t >= 3, t_max > 0, h > 0 and a fit window lo < hi");
    if (rg_process_is_scheduled(c->proc)) RG_FAIL(RG_EINVAL, "decay: the drift must be constant");
    return RG_OK;
}

int rg_exp_decay(const rg_exp_decay_cfg *c, rg_exp_decay_result *r)
{
    if (!r) RG_FAIL(RG_EINVAL, "decay: NULL result");
    memset(r, 0, sizeof *r);
    RG_TRY(decay_check(c));
    const size_t N = rg_process_dim(c->proc), n = c->n_paths, G = c->n_groups, T = c->n_t, per_g = n / G;
    if (rg_process_core(c->proc) != N) RG_FAIL(RG_EINVAL, "decay: the process must be dense (nonrev or general)");
    const size_t per = (size_t)llround(c->t_max / (double)(T - 1) / c->h); /* steps between curve times */
    r->n_t = T, r->n_groups = G;
    r->t = malloc(T * sizeof *r->t), r->mean = malloc(T * sizeof *r->mean), r->exact = malloc(T * sizeof *r->exact);
    r->group_rate = malloc(G * sizeof *r->group_rate);
    double *Z = malloc(n * N * sizeof *Z), *W = malloc(n * N * sizeof *W), *xi = malloc(N * sizeof *xi);
    double *A = malloc(N * N * sizeof *A), *M = malloc(N * N * sizeof *M), *gm = malloc(G * T * sizeof *gm);
    int st = r->t && r->mean && r->exact && r->group_rate && Z && W && xi && A && M && gm
                 ? rg_process_drift(c->proc, 0.0, A) : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "decay: out of memory");
    for (size_t s = 0; s < n && st == RG_OK; s++) memcpy(Z + s * N, c->z0, N * sizeof *Z);
    for (size_t i = 0; i < T && st == RG_OK; i++) {
        r->t[i] = (double)(i * per) * c->h;
        if (i) em_steps(c, A, Z, W, xi, per, (i - 1) * per);
        for (size_t g = 0; g < G; g++) gm[g * T + i] = mean_norm(Z, N, g * per_g, (g + 1) * per_g);
        r->mean[i] = mean_norm(Z, N, 0, n);
        st = rg_process_moments(c->proc, r->t[i], M, NULL);
        double q = 0;
        for (size_t a = 0; a < N && st == RG_OK; a++) {
            const double v = cblas_ddot((int)N, M + a * N, 1, c->z0, 1);
            q += v * v;
        }
        r->exact[i] = sqrt(q);
    }
    double a = 0, a2 = 0;
    for (size_t g = 0; g < G && st == RG_OK; g++) a += r->group_rate[g] = fit_rate(T, r->t, gm + g * T, c->fit_lo, c->fit_hi);
    a /= (double)G;
    for (size_t g = 0; g < G && st == RG_OK; g++) a2 += (r->group_rate[g] - a) * (r->group_rate[g] - a);
    r->rate = fit_rate(T, r->t, r->mean, c->fit_lo, c->fit_hi);
    r->rate_exact = fit_rate(T, r->t, r->exact, c->fit_lo, c->fit_hi);
    const double half = 1.96 * sqrt(a2 / (double)(G - 1) / (double)G); /* the spread of G group fits */
    r->rate_lo = r->rate - half, r->rate_hi = r->rate + half;
    free(Z), free(W), free(xi), free(A), free(M), free(gm);
    if (st != RG_OK) rg_exp_decay_result_free(r);
    return st;
}
