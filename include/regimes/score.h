/* regimes score: exact scores s(z, t) = grad_z log p_t(z) under any linear forward process (process.h).
 *
 * Two exact scores, each with a fast batched kernel and a NAIVE double reference beside it:
 *
 *   Empirical (MATH.md 5.2), training set X = {a_mu}, P x N float32:
 *       p_t(z) = (1/P) sum_mu N(z; M_t a_mu, Sigma_t),  r_mu^2 = |L_t^{-1}(z - M_t a_mu)|^2,
 *       w = softmax_mu(-r^2/2),  zhat_0 = sum_mu w_mu a_mu,  s = -Sigma_t^{-1}(z - M_t zhat_0),
 *       log p_t(z) = LSE_mu(-r_mu^2/2) - log P - (1/2) log det(2 pi Sigma_t).
 *     With M_t = E_t (x) I_r, Sigma_t = S_t (x) I_r and S_t = L L^T (core k x k, process.h):
 *       b_mu = (L^{-1} E_t (x) I_r) a_mu   whitened training rows, computed once per t (cached: a
 *                                          repeated t reuses them), norms |b_mu|^2 in double;
 *       y    = (L^{-1} (x) I_r) z          whitened batch;
 *       G    = Y B^T (ONE cblas_sgemm, B x P),  r^2 = |y|^2 + |b|^2 - 2 G;
 *       w    = min-shifted softmax per row (double accumulation), rounded to float;
 *       yhat = W Bmat (the second sgemm, (B x P)(P x N)) = (L^{-1} E_t (x) I) zhat_0;
 *       s    = -(L^{-T} (x) I_r)(y - yhat)  = -Sigma_t^{-1}(z - M_t zhat_0).
 *     Cost 4 B P N flops (two GEMMs) + O(B N k) for the core solves. Each GEMM is ONE call outside any
 *     parallel region (BLAS threads, if the caller enables them, work inside it). A row's score depends
 *     only on that row, but BLAS may block differently for a different B, so bit-identity is promised
 *     only for equal B (the sampler always calls with full batches of 64).
 *     Memory: P N floats (whitened training) + B_max (P + 2 N) floats, owned by the object.
 *
 *   Gaussian mixture (MATH.md 5.3), rg_data_gmm (data.h) of K components:
 *       Gamma_j = M_t C_j M_t^T + Sigma_t,  R_j = chol(Gamma_j),  e_j = R_j^{-1}(z - M_t mu_j),
 *       l_j = log pi_j - sum_i log (R_j)_ii - |e_j|^2/2,  rho = softmax(l),  s = -sum_j rho_j R_j^{-T} e_j.
 *     Isotropic C_j = sigma_j^2 I (any process): Gamma_j = (sigma_j^2 E E^T + S) (x) I_r is a core
 *     matrix, so the cost is O(K N k) per point. Diagonal or full C_j: dense N x N Gamma_j and R_j per
 *     component, factorised once per t (cached), O(K N^2) per point.
 *
 * Shapes: x, s are (B, N) float32 row-major, N = rg_process_dim(p), each row a (k, r) state; B <= the
 * B_max given at creation. t > 0 (the empirical score is singular at t = 0). Evaluation is
 * allocation-free (workspaces sized at creation); objects are NOT thread-safe (the per-t cache and
 * workspaces are shared): use one object per thread. The objects keep pointers to p and g, which
 * must outlive them; X is copied (whitened per t).
 * Errors: RG_EINVAL (NULL, sizes, B > B_max, t <= 0 or NaN, N mismatch), RG_ENOMEM, and the process'
 * moment errors.
 * Omitted on purpose: streaming over blocks of P (B_max P floats must fit), learned scores (nn.h
 * plugs in through rg_score_fn), the gmm2/gmm4 tanh forms (5.4: the general mixture covers them).
 */
#ifndef REGIMES_SCORE_H
#define REGIMES_SCORE_H

#include <stddef.h>
#include "regimes/data.h"
#include "regimes/process.h"

/* A score callback: s (B, N) = score of the batch x (B, N) at time t. Returns an rg status. */
typedef int (*rg_score_fn)(void *ctx, double t, size_t B, const float *x, float *s);

/* Optional per-row extras of the empirical score; each array (B) or NULL. */
typedef struct {
    double *lse;  /* LSE_mu(-r_mu^2/2) over all P (no -log P, no log det term) */
    int *nearest; /* argmin_mu r_mu^2 (ties: smallest mu), MATH.md 5.2 item 8 */
} rg_score_extra;

/* ---- empirical score (MATH.md 5.2) ---------------------------------------------------------------- */
typedef struct rg_score_emp rg_score_emp;

/* X: (P, N) float32, copied. N must equal rg_process_dim(p). B_max >= 1. */
int rg_score_emp_new(const rg_process *p, const float *X, size_t P, size_t N, size_t B_max,
                     rg_score_emp **out);
void rg_score_emp_free(rg_score_emp *e); /* NULL is a no-op */
int rg_score_emp_eval(rg_score_emp *e, double t, size_t B, const float *x, float *s,
                      rg_score_extra *extra);
/* rg_score_fn adapter: ctx is an rg_score_emp*. */
int rg_score_emp_fn(void *ctx, double t, size_t B, const float *x, float *s);

/* NAIVE reference in double: dense Sigma_t^{-1} = S_t^{-1} (x) I_r and M_t built as N x N, a double loop
 * over (b, mu). x, s: (B, N) double; logp (B) = log p_t(x) (full density, MATH.md 5.2), lse (B),
 * nearest (B): each may be NULL. For small N only (O(N^2) memory). */
int rg_score_emp_naive(const rg_process *p, const float *X, size_t P, size_t N, double t, size_t B,
                       const double *x, double *s, double *logp, double *lse, int *nearest);

/* ---- Gaussian-mixture score (MATH.md 5.3) ----------------------------------------------------------- */
typedef struct rg_score_gmm rg_score_gmm;

/* rg_data_gmm_N(g) must equal rg_process_dim(p). */
int rg_score_gmm_new(const rg_process *p, const rg_data_gmm *g, size_t B_max, rg_score_gmm **out);
void rg_score_gmm_free(rg_score_gmm *m); /* NULL is a no-op */
int rg_score_gmm_eval(rg_score_gmm *m, double t, size_t B, const float *x, float *s);
int rg_score_gmm_fn(void *ctx, double t, size_t B, const float *x, float *s);

/* NAIVE reference in double: dense N x N Gamma_j per component, straight loops. x, s: (B, N) double;
 * logp (B) = log p_t(x) or NULL. t >= 0 (t = 0 is the mixture itself). */
int rg_score_gmm_naive(const rg_process *p, const rg_data_gmm *g, double t, size_t B, const double *x,
                       double *s, double *logp);

#endif
