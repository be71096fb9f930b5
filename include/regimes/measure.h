/* regimes measure: estimators of the regimes on sampled trajectories (docs/math.md 8), on plain arrays.
 *
 * Cloning (8.1): same[i] = 1 when clone pair i ends with equal labels; phi_hat = mean(same). Its 95%
 * interval is the 2.5/97.5% percentile interval over n_boot bootstrap replicates (pairs resampled
 * with replacement; the parent's n_boot = 20000). rg_measure_phi: replicate b draws its n indices
 * from Philox (seed, stream, traj = key << 32, step = b). Curves (rg_measure_ts, _ts_joint): replicate
 * b draws its n pair indices once (traj = 1 << 32, step = b) and uses them at EVERY branch time and for
 * every mode: pair index i is resampled as a whole over the curve. That is what shared trunks need
 * (docs/math.md 11.3: the pairs i of all t_b share one trunk, so the phi(t_b) are positively correlated
 * and the replicate curves must keep that correlation), and it is equally valid for independent
 * trunks (the tuples of pairs i over t_b are then i.i.d. too). The same indices for every mode give
 * the joint resampling of 8.3. Deterministic for a given seed.
 * Crossing (8.1): over t_b ascending, the largest t_b with phi >= level, interpolated linearly
 * towards the next larger t_b; NAN when no t_b reaches the level or the last one does (the
 * crossing is then outside the grid). t_S = crossing at 0.775; its interval is the percentile
 * interval of the crossing over bootstrap replicates of the whole curve (replicates without a
 * crossing are dropped; NAN when more than 2.5% of them have none).
 * Collapse (8.2): f_hat(t) = 1/2 + mean(lse)/N from lse_i = LSE_mu(-r_mu^2/2) of draws
 * z = M_t a_mu + L_t xi (score.h supplies lse), standard error sd(lse)/(N sqrt n); t_C = the largest
 * t with f/alpha <= level, interpolated towards the next larger t. Last switch (8.2 c): per
 * trajectory, the largest recorded t_j from which the nearest training point no longer changes.
 * Memorised (8.2 d): d1/d2 < 1/3 with Euclidean nearest and second-nearest distances, computed
 * with one sgemm (rg_measure_nearest2) beside a naive double reference.
 *
 * Errors: RG_EINVAL for NULL arrays, zero sizes, non-finite or unsorted times, a level outside (0, 1],
 * P < 2 for nearest2; RG_ENOMEM. Nothing here allocates more than O(n_boot + m) doubles. */
#ifndef REGIMES_MEASURE_H
#define REGIMES_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "regimes/rng.h"

#define RG_MEASURE_LEVEL_TS 0.775 /* docs/math.md 7.2, 8.1 */
#define RG_MEASURE_LEVEL_TC 0.05  /* docs/math.md 8.2 a */
#define RG_MEASURE_NBOOT 20000    /* docs/math.md 8.1 */

/* phi_hat of n indicators with its bootstrap interval (key addresses the draws). */
int rg_measure_phi(size_t n, const unsigned char *same, size_t n_boot, rg_rng r, uint64_t key, double *phi,
                   double *lo, double *hi);

/* The 8.1 crossing of a curve phi over ascending t (m points) at level; NAN as described above. */
int rg_measure_crossing(size_t m, const double *t, const double *phi, double level, double *t_cross);

/* A whole cloning curve: same (m, n) row-major (row i: the n pairs branched at t_b[i]). Point
 * estimate and interval of the crossing, and phi with its interval per t_b (phi, phi_lo, phi_hi: (m)). */
int rg_measure_ts(size_t m, const double *t_b, size_t n, const unsigned char *same, size_t n_boot, rg_rng r,
                  double level, double *t_s, double *lo, double *hi, double *phi, double *phi_lo, double *phi_hi);

/* Two modes on the same pairs (8.3): t_S of each and the gap t_S^c - t_S^d with its interval from
 * resampling the pairs jointly. */
int rg_measure_ts_joint(size_t m, const double *t_b, size_t n, const unsigned char *same_c,
                        const unsigned char *same_d, size_t n_boot, rg_rng r, double level, double *t_c,
                        double *t_d, double *gap, double *gap_lo, double *gap_hi);

/* 8.1: the true phi from an observed one when each label flips with probability e < 1/2. */
double rg_measure_phi_correct(double phi_obs, double e);

/* 8.2 a: f_hat and its standard error from n values lse (N the dimension). */
int rg_measure_f_entropy(size_t n, const double *lse, size_t N, double *f, double *se);
/* 8.2 a: t_C over ascending t (m points) where f / alpha first exceeds level from below. */
int rg_measure_tc(size_t m, const double *t, const double *f, double alpha, double level, double *t_c);

/* 8.2 c: t (J) strictly DEcreasing record times, nearest (n, J); t_switch (n). */
int rg_measure_last_switch(size_t J, const double *t, size_t n, const int *nearest, double *t_switch);

/* Squared norms of the P rows of X (P, N), in double: computed once per training set. */
int rg_measure_norms(size_t P, const float *X, size_t N, double *xnorm);
/* Nearest and second-nearest training points of B points Z (B, N) among X (P, N), P >= 2, with
 * xnorm from rg_measure_norms: idx (B), Euclidean distances d1 <= d2 (B), from
 * r^2 = |z|^2 + |x|^2 - 2 z.x (clamped at 0). work: B min(P, RG_MEASURE_NEAREST_BLOCK) floats (the
 * Gram matrix of one sgemm per block of rows). Ties: the first index. */
int rg_measure_nearest2(size_t B, const float *Z, size_t P, const float *X, const double *xnorm, size_t N,
                        int *idx, float *d1, float *d2, float *work);
/* The running form behind rg_measure_nearest2, for a training set split over ranks (docs/scale.md): X (P, N)
 * are the global rows idx0 .. idx0 + P - 1 (idx0 a multiple of RG_MEASURE_NEAREST_BLOCK, P may be 0), xnorm
 * their norms; per query b the squared distances best[b] <= second[b] (DBL_MAX before the first rows) and
 * the first global index of the minimum idx[b] (-1 before) are updated. The products are one sgemm per
 * block of RG_MEASURE_NEAREST_BLOCK rows aligned to global row 0, so every distance has the same bits
 * whichever ranks hold which blocks. work: B min(P, RG_MEASURE_NEAREST_BLOCK) floats. */
#define RG_MEASURE_NEAREST_BLOCK 4096
int rg_measure_nearest2_update(size_t B, const float *Z, size_t P, const float *X, const double *xnorm, size_t N,
                               size_t idx0, int *idx, double *best, double *second, float *work);
/* Fold the (idx_o, best_o, second_o) of rows that come AFTER ours in global order into ours: exact
 * (minima only), ties keep the first index, so folding ranks in rank order gives the unsplit result. */
void rg_measure_nearest2_fold(size_t B, const int *idx_o, const double *best_o, const double *second_o, int *idx,
                              double *best, double *second);
/* The naive reference: direct differences in double. */
int rg_measure_nearest2_naive(size_t B, const float *Z, size_t P, const float *X, size_t N, int *idx,
                              double *d1, double *d2);

#endif
