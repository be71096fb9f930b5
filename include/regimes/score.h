/* regimes score: exact scores s(z, t) = grad_z log p_t(z) under any linear forward process (process.h).
 *
 * Two exact scores, each with a fast batched kernel and a NAIVE double reference beside it:
 *
 *   Empirical (docs/math.md 5.2), training set X = {a_mu}, P x N float32:
 *       p_t(z) = (1/P) sum_mu N(z; M_t a_mu, Sigma_t),  r_mu^2 = |L_t^{-1}(z - M_t a_mu)|^2,
 *       w = softmax_mu(-r^2/2),  zhat_0 = sum_mu w_mu a_mu,  s = -Sigma_t^{-1}(z - M_t zhat_0),
 *       log p_t(z) = LSE_mu(-r_mu^2/2) - log P - (1/2) log det(2 pi Sigma_t).
 *     With M_t = E_t (x) I_r, Sigma_t = S_t (x) I_r and S_t = L L^T (core k x k, process.h):
 *       b_mu = (L^{-1} E_t (x) I_r) a_mu   whitened training rows, computed once per t (cached: a
 *                                          repeated t reuses them), norms |b_mu|^2 in double;
 *       y    = (L^{-1} (x) I_r) z          whitened batch;
 *       G    = Y B^T (B x P),  r^2 = |y|^2 + |b|^2 - 2 G;
 *       w    = min-shifted softmax per row: float r^2 and exp (a polynomial, rel err < 1e-7), sums in
 *              double; weights below 2^-64 of the largest are 0 (no float sum can see them);
 *              the 1/Z normalisation is applied to the second product's output;
 *       yhat = W Bmat ((B x P)(P x N)) = (L^{-1} E_t (x) I) zhat_0;
 *       s    = -(L^{-T} (x) I_r)(y - yhat)  = -Sigma_t^{-1}(z - M_t zhat_0).
 *     Cost 4 B P N flops (the two GEMM-shaped products) + O(B N k) for the core solves. The products run
 *     on blocks of 64 queries held as vector lanes (one query per lane, our own kernels, no BLAS: a
 *     BLAS sgemm rounds a row by its position in the call), so a row's score and extras are the same
 *     bits whatever batch, chunk, thread or rank it arrives in (tested); they are float multiplies and
 *     adds in a fixed order (blocked sums, as accurate as sgemm's), the same on AVX-512, AVX2 or SSE2.
 *     Speed: bench/score.c, ratio_to_sgemm.
 *     Memory: a copy of X (P N floats), one whitened copy per cached time (P N floats each; none for
 *     ou, whose scalar whitening goes with y), + 64 (P + 2 N) + 128 k floats per workspace.
 *
 *   Gaussian mixture (docs/math.md 5.3), rg_data_gmm (data.h) of K components:
 *       Gamma_j = M_t C_j M_t^T + Sigma_t,  R_j = chol(Gamma_j),  e_j = R_j^{-1}(z - M_t mu_j),
 *       l_j = log pi_j - sum_i log (R_j)_ii - |e_j|^2/2,  rho = softmax(l),  s = -sum_j rho_j R_j^{-T} e_j.
 *     Isotropic C_j = sigma_j^2 I (any process): Gamma_j = (sigma_j^2 E E^T + S) (x) I_r is a core
 *     matrix, so the cost is O(K N k) per point. Diagonal or full C_j: dense N x N Gamma_j and R_j per
 *     component, factorised once per t (cached), O(K N^2) per point.
 *
 *   Two-class tanh path (docs/math.md 5.4): a mixture with K = 2, equal weights, mu_1 = -mu_0 and one
 *   isotropic sigma^2 uses s = -(G^{-1} (x) I) z + tanh(g . z) g, g = (G^{-1} E (x) I) mu_0, G = sigma^2 E E^T + S.
 *
 * Per-time objects and threads: rg_score_*_prepare(obj, t) computes and caches everything that depends
 * only on t (E_t, S_t, factors, the whitened training set); two times are cached (Heun needs t and t'),
 * the older one is replaced. rg_score_*_eval_ws(obj, ws, t, ...) then reads the object only, so
 * several threads may call it at once, each with its OWN workspace (rg_score_*_ws_new), for any t
 * prepared before. rg_score_*_eval (no ws) is the single-threaded convenience: prepare + eval with a
 * workspace owned by the object (sized B_max at creation).
 * rg_score (below) wraps either object, or a network, behind function pointers for the sampler.
 *
 * Extras (rg_score_extra, empirical only): per row, each array optional: lse = LSE_mu(-r_mu^2/2),
 * logp = the exact log p_t (5.2), nearest = argmin_mu r_mu^2 (kernel metric; at small t and A = I the
 * Euclidean nearest of e^{-t} a_mu), ratio = d1/d2 = sqrt(r^2_(1)/r^2_(2)) (nearest over second nearest,
 * kernel metric, docs/math.md 8.2d; 0 when P = 1), entropy = -sum_mu w_mu log w_mu of the softmax weights.
 * The entropy estimator of docs/math.md 8.2a needs lse only: f_hat(t) = 1/2 + mean(lse)/N over samples
 * z = M_t a_mu + L_t xi.
 *
 * Shapes: x, s are (B, N) float32 row-major, N = rg_process_dim(p), each row a (k, r) state; B <= the
 * B_max given at creation. t > 0 (the empirical score is singular at t = 0). Evaluation is
 * allocation-free (workspaces sized at creation); objects are NOT thread-safe (the per-t cache and
 * workspaces are shared): threads use rg_score_*_eval_ws, one workspace each. The objects keep pointers to p and g, which
 * must outlive them; X is copied (whitened per t).
 * Errors: RG_EINVAL (NULL, sizes, B > B_max, t <= 0 or NaN, N mismatch), RG_ENOMEM, and the process'
 * moment errors.
 * Sums over the training set (Z, the entropy's H, yhat) are made on fixed 4096-row leaf blocks combined by
 * a fixed dyadic tree (docs/math.md 11.4), so a training set sharded over ranks (rg_score_emp_new_shard)
 * gives the same bits as one object.
 * Omitted on purpose: streaming over blocks of P (B_max P floats must fit), the dgemm fallback of
 * docs/math.md 1.4 (always float; r^2 is clamped at 0), learned scores (nn.h plugs in through rg_score),
 * the factorised gmm4 tanh form (the general isotropic mixture covers it at O(K N k)).
 */
#ifndef REGIMES_SCORE_H
#define REGIMES_SCORE_H

#include <stddef.h>
#include "regimes/data.h"
#include "regimes/process.h"

/* A score callback: s (B, N) = score of the batch x (B, N) at time t. Returns an rg status. */
typedef int (*rg_score_fn)(void *ctx, double t, size_t B, const float *x, float *s);

/* Optional per-row extras of the empirical score; each array (B) or NULL (see the manual above). */
typedef struct {
    double *lse;     /* LSE_mu(-r_mu^2/2) over all P (no -log P, no log det term) */
    int *nearest;    /* argmin_mu r_mu^2 (ties: smallest mu), docs/math.md 5.2 item 8 */
    double *logp;    /* exact log p_t(x) = lse - log P - (1/2) log det(2 pi Sigma_t) */
    double *ratio;   /* d1/d2 in the kernel metric, 0 if P = 1 */
    double *entropy; /* softmax entropy -sum w log w, in [0, log P] */
} rg_score_extra;

/* ---- generic score interface (exact scores, networks) ------------------------------------------------ */
/* prepare(ctx, t): per-time work, called OUTSIDE parallel regions before any eval at t (may be NULL).
 * eval(ctx, ws, t, B, x, s, extra): thread-safe for distinct ws; extra may be NULL and an
 *   implementation without extras ignores it (the sampler then passes NULL arrays on).
 * ws_new(ctx, B_max): a per-thread workspace, NULL when out of memory (ws_new NULL: ws is NULL).
 * ws_free(ws): NULL is a no-op. */
typedef struct {
    int (*prepare)(void *ctx, double t);
    int (*eval)(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *extra);
    void *(*ws_new)(void *ctx, size_t B_max);
    void (*ws_free)(void *ws);
    void *ctx;
    int has_extra; /* 1 if eval fills rg_score_extra */
    int batch;     /* 1: the sampler calls eval ONCE per grid time on the whole population, from one thread,
                    * with ws = ws_new(ctx, population) (sampler.h "Batch scores"); has_extra must be 0 */
    int collective; /* 1 if eval is a collective over a shard group (rg_score_emp_new_shard): callers make
                     * every call from one thread, in the same order on every rank of the group */
} rg_score;

/* ---- empirical score (docs/math.md 5.2) ---------------------------------------------------------------- */
typedef struct rg_score_emp rg_score_emp;
typedef struct rg_score_emp_ws rg_score_emp_ws;

/* X: (P, N) float32, copied. N must equal rg_process_dim(p). B_max >= 1 (the internal workspace). */
int rg_score_emp_new(const rg_process *p, const float *X, size_t P, size_t N, size_t B_max,
                     rg_score_emp **out);
void rg_score_emp_free(rg_score_emp *e); /* NULL is a no-op */

/* A training set sharded over the ranks of a group (docs/math.md 11.4). The library never calls MPI: the
 * caller passes an allgather over the group. allgather(ctx, send, recv, bytes): every rank sends `bytes`
 * bytes (the same number on every rank); recv (size x bytes) receives them in rank order, this rank's
 * included. Returns an rg status. */
typedef struct {
    int rank, size; /* 0 <= rank < size */
    int (*allgather)(void *ctx, const void *send, void *recv, size_t bytes);
    void *ctx;
} rg_score_shard_comm;

/* This rank's rows [*lo, *hi) of P under an even split of the 4096-row leaf blocks (a rank may get none). */
void rg_score_shard_rows(size_t P, int rank, int size, size_t *lo, size_t *hi);
/* The empirical score of a training set of P rows of which this rank holds X (rows, N) = global rows
 * [row_lo, row_lo + rows), copied. The ranks' ranges must be contiguous in rank order, cover [0, P), and
 * start and end on multiples of 4096 (or P): rg_score_shard_rows gives such a split. Creation is a
 * collective (one allgather of the ranges, checked on every rank: RG_EINVAL with the same message on
 * all). Sums over the training set are made on fixed 4096-row leaf blocks combined by a fixed dyadic
 * tree (also without comm), so the score and every extra (nearest as a GLOBAL index, ratio, lse, logp,
 * entropy) are bit-identical for any number of ranks and equal to rg_score_emp_new's. With comm->size > 1
 * every eval is a collective (two allgathers per block of 64 queries): call it from ONE thread, on every
 * rank of the group with the same queries in the same order (rg_score_emp_collective, rg_score.collective).
 * comm NULL or size 1: one rank holding all P rows, the same as rg_score_emp_new. */
int rg_score_emp_new_shard(const rg_process *p, const float *X, size_t rows, size_t row_lo, size_t P, size_t N,
                           size_t B_max, const rg_score_shard_comm *comm, rg_score_emp **out);
/* 1 when evals are collectives over a group of more than one rank. */
int rg_score_emp_collective(const rg_score_emp *e);
/* Bytes an rg_score_emp_new_shard object holding `rows` of P rows (over `ranks` ranks) takes with n_ws
 * extra workspaces (rg_score_emp_ws_new), before any allocation: an estimate for refusing work that does
 * not fit (the exchanged nodes are bounded by 2 log2(leaves) + 1 per rank). */
size_t rg_score_emp_bytes(const rg_process *p, size_t rows, size_t P, size_t N, int ranks, size_t n_ws);
/* Cache the per-time data for t > 0 (no-op when t is cached). Not thread-safe. */
int rg_score_emp_prepare(rg_score_emp *e, double t);
/* Per-thread workspace for batches of up to B_max rows; NULL when out of memory. */
rg_score_emp_ws *rg_score_emp_ws_new(const rg_score_emp *e, size_t B_max);
void rg_score_emp_ws_free(rg_score_emp_ws *w); /* NULL is a no-op */
/* Thread-safe eval at a PREPARED t (RG_EINVAL if t is not cached). extra may be NULL. */
int rg_score_emp_eval_ws(const rg_score_emp *e, rg_score_emp_ws *w, double t, size_t B, const float *x,
                         float *s, rg_score_extra *extra);
/* prepare + eval_ws with the object's workspace (B <= B_max). s may be NULL when only extras are wanted. */
int rg_score_emp_eval(rg_score_emp *e, double t, size_t B, const float *x, float *s,
                      rg_score_extra *extra);
/* rg_score_fn adapter: ctx is an rg_score_emp*. */
int rg_score_emp_fn(void *ctx, double t, size_t B, const float *x, float *s);
/* The generic interface over e (has_extra = 1). */
rg_score rg_score_emp_iface(rg_score_emp *e);
size_t rg_score_emp_P(const rg_score_emp *e);
size_t rg_score_emp_N(const rg_score_emp *e);

/* NAIVE reference in double: dense Sigma_t^{-1} = S_t^{-1} (x) I_r and M_t built as N x N, a double loop
 * over (b, mu). x, s: (B, N) double; logp (B) = log p_t(x) (full density, docs/math.md 5.2), lse (B),
 * nearest (B): each may be NULL. For small N only (O(N^2) memory). */
int rg_score_emp_naive(const rg_process *p, const float *X, size_t P, size_t N, double t, size_t B,
                       const double *x, double *s, double *logp, double *lse, int *nearest);

/* ---- Gaussian-mixture score (docs/math.md 5.3, 5.4) ------------------------------------------------------- */
typedef struct rg_score_gmm rg_score_gmm;
typedef struct rg_score_gmm_ws rg_score_gmm_ws;

/* rg_data_gmm_N(g) must equal rg_process_dim(p). */
int rg_score_gmm_new(const rg_process *p, const rg_data_gmm *g, size_t B_max, rg_score_gmm **out);
void rg_score_gmm_free(rg_score_gmm *m); /* NULL is a no-op */
int rg_score_gmm_prepare(rg_score_gmm *m, double t);               /* t >= 0 */
rg_score_gmm_ws *rg_score_gmm_ws_new(const rg_score_gmm *m, size_t B_max);
void rg_score_gmm_ws_free(rg_score_gmm_ws *w);
/* Thread-safe eval at a prepared t. logp (B) = exact log p_t or NULL. */
int rg_score_gmm_eval_ws(const rg_score_gmm *m, rg_score_gmm_ws *w, double t, size_t B, const float *x,
                         float *s, double *logp);
int rg_score_gmm_eval(rg_score_gmm *m, double t, size_t B, const float *x, float *s);
int rg_score_gmm_fn(void *ctx, double t, size_t B, const float *x, float *s);
rg_score rg_score_gmm_iface(rg_score_gmm *m); /* has_extra = 0 (extra->logp is filled if given) */
/* 1 if the two-class tanh path (5.4) is used for this mixture. */
int rg_score_gmm_is_tanh(const rg_score_gmm *m);

/* NAIVE reference in double: dense N x N Gamma_j per component, straight loops. x, s: (B, N) double;
 * logp (B) = log p_t(x) or NULL. t >= 0 (t = 0 is the mixture itself). */
int rg_score_gmm_naive(const rg_process *p, const rg_data_gmm *g, double t, size_t B, const double *x,
                       double *s, double *logp);

/* ---- posterior mean (Tweedie, docs/math.md 5.1) ------------------------------------------------------------ */
/* x0 (B, N) = E[z_0 | z_t = x] = (M_t^{-1} (x) I_r)(x + (S_t (x) I_r) s) for states x and their exact scores s
 * (B, N) at time t > 0 under p. With the empirical score it is the softmax average of the training
 * points, one point once collapsed; docs/math.md 8.2 d applied to x0 gives the memorised fraction at t.
 * x0 may alias neither x nor s. RG_EINVAL (t <= 0, NULL), RG_EDOM (M_t singular), RG_ENOMEM. */
int rg_score_denoise(const rg_process *p, double t, size_t B, const float *x, const float *s, float *x0);

#endif
