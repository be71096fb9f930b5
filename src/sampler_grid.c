/* Time grids and prior draws of the sampler (MATH.md 6.1, 6.2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "regimes/sampler.h"
#include "regimes/linalg.h"
#include "regimes/rng.h"
#include "internal.h"
#include "score_internal.h"

#define DDPM_STEPS 1000

size_t rg_sampler_grid_size(rg_sampler_grid_kind kind, size_t K, size_t n_extra)
{
    return (kind == RG_GRID_DDPM ? DDPM_STEPS + 2 : K + 1) + n_extra;
}

static int cmp_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

int rg_sampler_grid(rg_sampler_grid_kind kind, double T, double t_end, size_t K, const double *extra,
                    size_t n_extra, double *t, size_t *n)
{
    if (!t || !n || (n_extra && !extra)) RG_FAIL(RG_EINVAL, "rg_sampler_grid: NULL argument");
    if (!(t_end >= 0) || !(T > t_end) || !isfinite(T))
        RG_FAIL(RG_EINVAL, "rg_sampler_grid: want 0 <= t_end < T < inf, got t_end = %g, T = %g", t_end, T);
    if (kind != RG_GRID_DDPM && K == 0) RG_FAIL(RG_EINVAL, "rg_sampler_grid: K = 0 steps");
    if (kind == RG_GRID_GEOMETRIC && !(t_end > 0)) RG_FAIL(RG_EINVAL, "rg_sampler_grid: geometric grid needs t_end > 0");
    for (size_t i = 0; i < n_extra; i++)
        if (!(extra[i] >= t_end && extra[i] <= T))
            RG_FAIL(RG_EINVAL, "rg_sampler_grid: extra time %g outside [%g, %g]", extra[i], t_end, T);
    size_t m = 0;
    if (kind == RG_GRID_UNIFORM) {
        for (size_t k = 0; k <= K; k++) t[m++] = T - (double)k * (T - t_end) / (double)K;
    } else if (kind == RG_GRID_GEOMETRIC) {
        const double lr = log(t_end / T);
        for (size_t k = 0; k <= K; k++) t[m++] = T * exp((double)k / (double)K * lr);
    } else if (kind == RG_GRID_DDPM) {
        double s[DDPM_STEPS], la = 0.0;
        for (size_t j = 0; j < DDPM_STEPS; j++) {
            const double beta = 1e-4 + (2e-2 - 1e-4) * (double)j / 999.0;
            la += log1p(-beta);
            s[j] = -0.5 * la;
        }
        t[m++] = T;
        for (size_t j = DDPM_STEPS; j-- > 0;)
            if (s[j] > t_end && s[j] < T) t[m++] = s[j];
        t[m++] = t_end;
    } else {
        RG_FAIL(RG_EINVAL, "rg_sampler_grid: unknown grid kind %d", (int)kind);
    }
    t[0] = T;
    t[m - 1] = t_end;
    for (size_t i = 0; i < n_extra; i++) t[m++] = extra[i];
    qsort(t, m, sizeof *t, cmp_desc);
    const double tol = 1e-12 * T;
    size_t w = 1;
    for (size_t i = 1; i < m; i++) /* keep the first of each run of near-equal times */
        if (t[w - 1] - t[i] > tol) t[w++] = t[i];
    t[0] = T;
    t[w - 1] = t_end;
    *n = w;
    return RG_OK;
}

int rg_sampler_prior(const rg_process *p, uint64_t seed, uint64_t traj0, size_t n, float *x)
{
    if (!p || !x || n == 0) RG_FAIL(RG_EINVAL, "rg_sampler_prior: NULL process/output or n = 0");
    const size_t k = rg_process_core(p), r = rg_process_mult(p), N = k * r;
    double *Sinf = malloc(2 * k * k * sizeof *Sinf), *xi = malloc(2 * N * sizeof *xi);
    if (!Sinf || !xi) {
        free(Sinf), free(xi);
        RG_FAIL(RG_ENOMEM, "rg_sampler_prior: out of memory");
    }
    double *L = Sinf + k * k, *z = xi + N;
    int st = rg_process_stationary(p, Sinf);
    if (st == RG_OK) st = rg_linalg_chol(k, Sinf, L);
    const rg_rng rng = { .seed = seed, .stream = RG_STREAM_PRIOR };
    for (size_t i = 0; st == RG_OK && i < n; i++) {
        rg_rng_normals_d(rng, traj0 + i, 0, xi, N);
        rg_score__apply_d(L, k, r, xi, z);
        for (size_t j = 0; j < N; j++) x[i * N + j] = (float)z[j];
    }
    free(Sinf), free(xi);
    return st;
}
