/* regimes sampler: reverse-time integration of dz = -A(t) z dt + sqrt(2) dW with a score (score.h).
 *
 * Grid (MATH.md 6.1): decreasing t_0 = T > t_1 > ... > t_K = t_end, uniform (t_i = T - i (T - t_end)/steps)
 * or geometric (t_i = T (t_end/T)^(i/steps), t_end > 0), united with the requested times (record
 * times, the start time, a branch time) so that they are grid points. Step k goes t_k -> t_{k+1},
 * h = t_k - t_{k+1}. Methods (core k x k algebra, process.h; D = I):
 *   0 EM (6.3):     z <- z + h [A(t_k) z + 2 s(z, t_k)] + sqrt(2 h) xi_k
 *   1 exponential integrator with frozen denoiser (6.4): zhat_0 = E_t^{-1}(z + S_t s) (Tweedie, 5.1),
 *                   F = E_t E_{t'}^{-1}, G = S_{t'} F^T S_t^{-1},
 *                   z <- E_{t'} zhat_0 + G (z - E_t zhat_0) + chol(S_{t'} - G F S_{t'}) xi_k;
 *                   at t' = 0 it returns zhat_0. Exact at any step for the P = 1 empirical score.
 *   2 Heun PF-ODE (6.5): f = A z + s; z~ = z + h f(z, t); z <- z + h/2 (f(z, t) + f(z~, t')) if t' > 0,
 *                   else z~. Deterministic: cannot continue clones (rg_sampler_clone rejects it).
 * Prior (6.2): z_init NULL draws z_T = (chol(S_inf) (x) I_r) xi, xi = rg_rng_normals({seed,
 * RG_STREAM_PRIOR}, traj, step 0, N). Step noise xi_k = rg_rng_normals({seed, stream}, traj, k, N)
 * with traj the GLOBAL trajectory index and k the step index in the grid.
 *
 * Batches and determinism: trajectories are processed in batches of RG_SAMPLER_BATCH = 64 aligned to
 * GLOBAL indices (batch m holds trajectories 64 m .. 64 m + 63); rows of a batch outside
 * [first_traj, first_traj + n_traj) are zero padding that is never updated. The score is always
 * called with a full batch of 64, each trajectory at the same row, so results depend only on
 * (seed, stream, trajectory index) and not on the slicing: an MPI caller may split trajectories
 * across ranks and get identical numbers. Batches run sequentially (the score objects are not
 * thread-safe); BLAS threads, if enabled by the caller, work inside the score's GEMMs.
 * Errors: RG_EINVAL (NULL, sizes, T <= t_end, t_end < 0, steps = 0, unknown grid/method, times
 * outside [t_end, T], geometric with t_end = 0), RG_ENOMEM, the score's and the process' statuses.
 */
#ifndef REGIMES_SAMPLER_H
#define REGIMES_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include "regimes/process.h"
#include "regimes/score.h"

#define RG_SAMPLER_BATCH 64

typedef struct {
    double T, t_end; /* start (prior) time and final time, T > t_end >= 0 */
    size_t steps;    /* base grid steps, >= 1 */
    int grid;        /* 0 uniform, 1 geometric (t_end > 0) */
    int method;      /* 0 EM (MATH.md 6.3), 1 exponential integrator (6.4), 2 Heun PF-ODE (6.5) */
    uint64_t seed;
} rg_sampler_opts;

/* The grid: base grid united with extra_times (each in [t_end, T]; duplicates within 1e-12 T merged),
 * decreasing. *grid is malloc'ed (free() it), *n its length. */
int rg_sampler_grid(const rg_sampler_opts *o, size_t n_extra, const double *extra_times, double **grid,
                    size_t *n);

/* Called once per batch at every record time (and at t_end) in decreasing t: first_traj the global
 * index of the first valid row, z (B, N) the valid rows. A nonzero return stops the run with it. */
typedef int (*rg_sampler_observer)(void *ctx, double t, size_t first_traj, size_t B, const float *z);

/* Integrate trajectories first_traj .. first_traj + n_traj - 1 from t_start (a time in (t_end, T];
 * normally o->T) to o->t_end. z_init: (n_traj, N) states at t_start, or NULL for the prior (only when
 * t_start = T). rec_times (n_rec) in [t_end, t_start] or NULL; obs may be NULL. z_out: (n_traj, N) final
 * states or NULL. stream: RG_STREAM_REVERSE, or RG_STREAM_CLONE_A / _B for clone continuation. */
int rg_sampler_run(const rg_process *p, rg_score_fn score, void *score_ctx, const rg_sampler_opts *o,
                   size_t first_traj, size_t n_traj, const float *z_init, double t_start, size_t n_rec,
                   const double *rec_times, rg_sampler_observer obs, void *obs_ctx, float *z_out,
                   uint64_t stream);

/* Cloning at t_b (MATH.md 6.6): trunk from the prior at T to t_b with RG_STREAM_REVERSE (trajectory
 * index = pair index), then two copies continue to t_end with RG_STREAM_CLONE_A and RG_STREAM_CLONE_B.
 * Independent trunk per branch time: every draw (prior, trunk, clones) uses the seed
 * rg_sampler_clone_seed(o->seed, t_b). The grid is the base grid united with {t_b}. za, zb:
 * (n_pairs, N) final states. Method 2 (ODE) is RG_EINVAL. t_b in (t_end, T]. */
int rg_sampler_clone(const rg_process *p, rg_score_fn score, void *score_ctx, const rg_sampler_opts *o,
                     double t_b, size_t first_pair, size_t n_pairs, float *za, float *zb);
/* seed XOR splitmix64(the IEEE bits of t_b). */
uint64_t rg_sampler_clone_seed(uint64_t seed, double t_b);

#endif
