/* Time grids and prior draws of the sampler (docs/math.md 6.1, 6.2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "regimes/sampler.h"
#include "regimes/linalg.h"
#include "regimes/rng.h"
#include "internal.h"
#include "score_internal.h"

size_t rg_sampler_grid_size(rg_sampler_grid_kind kind, size_t K, size_t n_extra)
{
    return (kind == RG_GRID_DDPM ? RG_NOISE_DDPM_STEPS + 2 : K + 1) + n_extra;
}

size_t rg_sampler_grid_noise_size(const rg_noise *s, size_t n_extra)
{
    return rg_noise_steps(s) + 2 + n_extra;
}

static int cmp_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static int grid_args(const char *who, double T, double t_end, const double *extra, size_t n_extra,
                     const double *t, const size_t *n)
{
    if (!t || !n || (n_extra && !extra)) RG_FAIL(RG_EINVAL, "%s: NULL argument", who);
    if (!(t_end >= 0) || !(T > t_end) || !isfinite(T))
        RG_FAIL(RG_EINVAL, "%s: want 0 <= t_end < T < inf, got t_end = %g, T = %g", who, t_end, T);
    for (size_t i = 0; i < n_extra; i++)
        if (!(extra[i] >= t_end && extra[i] <= T))
            RG_FAIL(RG_EINVAL, "%s: extra time %g outside [%g, %g]", who, extra[i], t_end, T);
    return RG_OK;
}

/* t[0..m) holds T, the grid's own times, t_end: merge the extras in (sorted union, descending), drop
 * times within 1e-12 T of the one before, and pin both ends. */
static void grid_merge(double T, double t_end, const double *extra, size_t n_extra, double *t, size_t m,
                       size_t *n)
{
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
}

int rg_sampler_grid_noise(const rg_noise *s, double T, double t_end, const double *extra, size_t n_extra,
                          double *t, size_t *n)
{
    if (!s) RG_FAIL(RG_EINVAL, "rg_sampler_grid_noise: schedule is NULL");
    RG_TRY(grid_args("rg_sampler_grid_noise", T, t_end, extra, n_extra, t, n));
    size_t m = 0;
    t[m++] = T;
    for (size_t k = rg_noise_steps(s); k-- > 0;) {
        const double tk = rg_noise_time(s, k);
        if (tk > t_end && tk < T) t[m++] = tk;
    }
    t[m++] = t_end;
    grid_merge(T, t_end, extra, n_extra, t, m, n);
    return RG_OK;
}

int rg_sampler_grid(rg_sampler_grid_kind kind, double T, double t_end, size_t K, const double *extra,
                    size_t n_extra, double *t, size_t *n)
{
    RG_TRY(grid_args("rg_sampler_grid", T, t_end, extra, n_extra, t, n));
    if (kind != RG_GRID_DDPM && K == 0) RG_FAIL(RG_EINVAL, "rg_sampler_grid: K = 0 steps");
    if (kind == RG_GRID_GEOMETRIC && !(t_end > 0)) RG_FAIL(RG_EINVAL, "rg_sampler_grid: geometric grid needs t_end > 0");
    size_t m = 0;
    if (kind == RG_GRID_UNIFORM) {
        for (size_t k = 0; k <= K; k++) t[m++] = T - (double)k * (T - t_end) / (double)K;
    } else if (kind == RG_GRID_GEOMETRIC) {
        const double lr = log(t_end / T);
        for (size_t k = 0; k <= K; k++) t[m++] = T * exp((double)k / (double)K * lr);
    } else if (kind == RG_GRID_DDPM) { /* the parent's schedule, through the noise module */
        rg_noise *s;
        RG_TRY(rg_noise_ddpm_linear(RG_NOISE_DDPM_B0, RG_NOISE_DDPM_B1, RG_NOISE_DDPM_STEPS, &s));
        int st = rg_sampler_grid_noise(s, T, t_end, extra, n_extra, t, n);
        rg_noise_free(s);
        return st;
    } else {
        RG_FAIL(RG_EINVAL, "rg_sampler_grid: unknown grid kind %d", (int)kind);
    }
    grid_merge(T, t_end, extra, n_extra, t, m, n);
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
