/* regimes sampler: reverse-time generation from t = T down to t_end under any rg_process (process.h)
 * with any score behind the rg_score interface (score.h).
 *
 * Grids (docs/math.md 6.1), decreasing t_0 = T > t_1 > ... > t_K = t_end >= 0, h_k = t_k - t_{k+1}:
 *   RG_GRID_UNIFORM    t_k = T - k (T - t_end) / K
 *   RG_GRID_GEOMETRIC  t_k = T (t_end / T)^(k / K)            (t_end > 0)
 *   RG_GRID_DDPM       the parent's 1000-step schedule (docs/math.md 1.3): s_j = -1/2 log abar_j,
 *                      abar_j = prod_{i<=j} (1 - beta_i), beta_i = 1e-4 + (2e-2 - 1e-4) i/999; the grid is
 *                      s_j for j = 999 .. 0 with s_j in (t_end, T), preceded by T and followed by t_end
 *                      (K is ignored). T = s_999 = 5.06 and t_end = 0 reproduce the parent's grid.
 *                      It is rg_sampler_grid_noise on rg_noise_ddpm_linear(1e-4, 2e-2, 1000) (noise.h).
 *   rg_sampler_grid_noise: the same for any schedule (noise.h): T, every t_k in (t_end, T) descending,
 *                      t_end.
 *   Extra times (branch, record) are merged in (sorted union, duplicates within 1e-12 T removed).
 *
 * Prior (6.2): z_T = (L_inf (x) I_r) xi, L_inf = chol(S_inf) (rg_process_stationary), xi = normals of
 *   (seed, RG_STREAM_PRIOR, traj, step 0); or states given by the caller.
 *
 * Integrators, one step t = t_k -> t' = t_{k+1}, h = t - t', xi = normals of (seed, stream, traj, k):
 *   RG_SAMPLER_EM    z <- z + h (A(t) z + 2 s(z, t)) + sqrt(2 h) xi                        (6.3)
 *   RG_SAMPLER_EXP   zhat_0 = M_t^{-1}(z + Sigma_t s), F = M_t M_{t'}^{-1}, G = Sigma_{t'} F^T Sigma_t^{-1},
 *                    mean = M_{t'} zhat_0 + G (z - M_t zhat_0), cov = Sigma_{t'} - G F Sigma_{t'},
 *                    z <- mean + chol(cov) xi  (exact for the linear part; t' = 0 gives zhat_0)   (6.4)
 *   RG_SAMPLER_HEUN  probability-flow ODE f = A z + s: Heun, Euler on a last step to t' = 0     (6.5)
 *   All matrices are core k x k (process.h), applied to each (k, r) state: no N x N for ou/coupled.
 *
 * Randomness: trajectory i of rg_sampler_run has id traj0 + i; its prior uses (PRIOR, id, 0), its
 *   noise at step k (REVERSE, id, k). Cloning (6.6) with branch list t_b[0..nb): pair i of branch j
 *   has id (j << 32) + traj0 + i (traj0 lets ranks take slices of the pairs with identical numbers);
 *   after t_b clone a draws (CLONE_A, id, k), clone b (CLONE_B, id, k). The trunk (cfg.trunk):
 *   RG_TRUNK_INDEPENDENT (0, the default; the parent's method, docs/math.md 6.6): one trunk per pair AND
 *     branch, prior (PRIOR, id, 0), noise (REVERSE, id, k): T/h + 2 t_j/h steps per pair and branch.
 *   RG_TRUNK_SHARED (docs/math.md 11.3): one trunk per pair i, id traj0 + i, prior (PRIOR, traj0 + i, 0),
 *     noise (REVERSE, traj0 + i, k), walked from T down through the branch times (in decreasing
 *     order, whatever the order of t_b); at t_j the clones of branch j leave it with their own
 *     streams as above. Each phi(t_j) keeps its distribution, but the phi(t_j) of different j are
 *     positively correlated through the trunk: bootstrap whole pairs over the curve (rg_measure_ts
 *     does). Steps per pair: (T - min t_j)/h + 2 sum_j t_j/h instead of sum_j (T - t_j)/h +
 *     2 sum_j t_j/h; for the parent's t_j = 1, 1.5, ..., 10 at T = 10, 1.35x fewer (the clones stay).
 *   HEUN is deterministic and is refused for cloning (RG_EINVAL).
 *
 * Threads: OpenMP over chunks of RG_SAMPLER_CHUNK trajectories (fixed, whatever the thread count);
 *   per-time score preparation happens outside the parallel region, once per grid time. Inside the
 *   region BLAS must be single-threaded: the sampler calls openblas_set_num_threads(1) around its
 *   parallel regions and restores the previous count. Same seed => bit-identical for any thread count.
 *
 * Recording: at each grid time listed in rec_t (must be grid points; the grid builder merges them),
 *   the observer gets the whole batch (rows 0..n-1; after a branch rows 0..n-1 are clones a and
 *   n..2n-1 clones b) and, where the score supplies them and the time is not the final one (the score
 *   is not evaluated at t_end), the score extras of that state. Built-in projections: proj (n_proj, N)
 *   vectors; proj_out receives (n_rec, n_rows, n_proj) doubles x . v, with n_rows = n (run) or 2 n (clone).
 *   A shared trunk is observed once per recorded time (branched = 0, branch = the next branch it reaches)
 *   and its projections go to every branch still ahead, so proj_out has the layout of independent trunks.
 *
 * Batch scores (score.batch = 1; for scores whose cost is per call, not per row: a Python callable, a
 *   network on a GPU): eval runs once per grid time, outside the parallel region, on every row alive at
 *   that time: rg_sampler_run's n rows; rg_sampler_clone's trunks, then all clones, of every branch at
 *   once (independent trunks: the trunks of the branches not yet reached in branch order, then the
 *   clones a and b of each branch already reached; shared: the n_pairs shared trunk rows while a branch
 *   is ahead, then the clones). The steps then run in chunks as above, each row with its own noise, so
 *   for a score that treats rows independently the numbers are those of the chunked path, bit for bit
 *   (tested). Heun evaluates twice per step (t, then t' on the predictor), each once over the
 *   population. A clone run then walks the grid once for all branches: observer calls come in grid
 *   order (all branches at t_k, then t_{k+1}), not branch by branch. Memory: the states of every branch
 *   at once, (2 n_branch + 1) n_pairs rows, plus two population buffers.
 *
 * Errors: RG_EINVAL (NULL, sizes, grid not strictly decreasing, record time not on the grid), RG_ENOMEM,
 *   the process' and the score's errors, the observer's non-zero return (passed through).
 * Fused steps: with an isotropic mixture score (rg_score_gmm_iface) on a core of size k <= 8 and EM or
 *   EXP, each row's step (score, drift, noise, update) runs in one pass in float (sampler_fused.c) with
 *   the same numbers for any thread count; other scores take the plain path (score, then the step).
 * Omitted on purpose: adaptive steps, non-identity diffusion D.
 */
#ifndef REGIMES_SAMPLER_H
#define REGIMES_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include "regimes/noise.h"
#include "regimes/process.h"
#include "regimes/score.h"

#define RG_SAMPLER_CHUNK 64

typedef enum { RG_GRID_UNIFORM, RG_GRID_GEOMETRIC, RG_GRID_DDPM } rg_sampler_grid_kind;
typedef enum { RG_SAMPLER_EM, RG_SAMPLER_EXP, RG_SAMPLER_HEUN } rg_sampler_method;
typedef enum { RG_TRUNK_INDEPENDENT = 0, RG_TRUNK_SHARED = 1 } rg_sampler_trunk;

/* Upper bound on the points rg_sampler_grid writes. */
size_t rg_sampler_grid_size(rg_sampler_grid_kind kind, size_t K, size_t n_extra);
/* Build the grid into t (capacity rg_sampler_grid_size), *n = its length (>= 2). extra (n_extra) times
 * in [t_end, T], or NULL. RG_EINVAL: K = 0 (uniform/geometric), T <= t_end, t_end < 0, geometric t_end = 0. */
int rg_sampler_grid(rg_sampler_grid_kind kind, double T, double t_end, size_t K, const double *extra,
                    size_t n_extra, double *t, size_t *n);
/* The grid of a noise schedule s (noise.h): T, then every t_k in (t_end, T) descending, then t_end, the
 * extras merged as above; t has capacity rg_sampler_grid_noise_size(s, n_extra) = K + 2 + n_extra.
 * RG_EINVAL: s NULL, T <= t_end, t_end < 0, an extra outside [t_end, T]. */
size_t rg_sampler_grid_noise_size(const rg_noise *s, size_t n_extra);
int rg_sampler_grid_noise(const rg_noise *s, double T, double t_end, const double *extra, size_t n_extra,
                          double *t, size_t *n);

/* What the observer sees at a recorded time. */
typedef struct {
    double t;             /* the grid time */
    size_t step;          /* its grid index */
    size_t n_rows;        /* rows of x */
    const float *x;       /* (n_rows, N) states at t */
    const int *nearest;   /* (n_rows) score extras or NULL (none, or t = t_end) */
    const double *lse;
    const double *ratio;
    const double *entropy;
    int branched;         /* clone runs: 1 after the branch point */
    size_t branch;        /* clone runs: index into the branch list */
} rg_sampler_record;

typedef int (*rg_sampler_observer)(void *ctx, const rg_sampler_record *rec);

typedef struct {
    const rg_process *proc;
    rg_score score;           /* prepare/eval; see score.h */
    rg_sampler_method method;
    const double *grid;       /* (n_grid) strictly decreasing, grid[0] = T */
    size_t n_grid;            /* >= 2 */
    uint64_t seed;
    uint64_t traj0;           /* first trajectory id (rg_sampler_run), first pair (rg_sampler_clone) */
    rg_sampler_trunk trunk;   /* rg_sampler_clone: independent (0, default) or shared trunks */
    /* recording, all optional */
    const double *rec_t;      /* (n_rec) grid times */
    size_t n_rec;
    rg_sampler_observer observer;
    void *observer_ctx;
    const float *proj;        /* (n_proj, N) */
    size_t n_proj;
    double *proj_out;         /* (n_rec, n_rows, n_proj) */
} rg_sampler_cfg;

/* NULL if c is usable, else a one-line reason. */
const char *rg_sampler_check(const rg_sampler_cfg *c);

/* Prior states: x (n, N) = (L_inf (x) I_r) xi for ids traj0 .. traj0 + n - 1. */
int rg_sampler_prior(const rg_process *p, uint64_t seed, uint64_t traj0, size_t n, float *x);

/* Run n trajectories over the whole grid. x: (n, N) in/out: if init is nonzero x holds the states at
 * grid[0], else the prior is drawn into it; on return x holds the states at grid[n_grid - 1]. */
int rg_sampler_run(const rg_sampler_cfg *c, size_t n, int init, float *x);

/* Cloning at each branch time t_b[j] (grid points, > grid end): n_pairs trunks per branch
 * (independent, or one shared trunk per pair: cfg.trunk), clones continued to the grid end.
 * xa, xb: (n_branch, n_pairs, N) end states of clones a and b, in the order of t_b.
 * Observer calls carry .branch = j; proj_out (if any) is (n_branch, n_rec, 2 n_pairs, n_proj). */
int rg_sampler_clone(const rg_sampler_cfg *c, const double *t_b, size_t n_branch, size_t n_pairs,
                     float *xa, float *xb);

#endif
