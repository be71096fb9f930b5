/* regimes linalg: dense double-precision linear algebra on CBLAS/LAPACKE (OpenBLAS).
 *
 * Conventions: matrices are n x n, row-major, double. Output arrays may not alias inputs unless
 * stated. Functions allocate their own scratch (these are not hot loops: they serve moments and
 * theory, O(n^3) each) and return RG_ENOMEM when that fails. Each has a plain-loop reference in the
 * tests. Omitted on purpose: sparse or iterative solvers; complex matrices in the interface.
 */
#ifndef REGIMES_LINALG_H
#define REGIMES_LINALG_H

#include <stddef.h>

/* E = exp(A) by Pade 13 with scaling and squaring (Higham 2005, "The scaling and squaring method
 * for the matrix exponential revisited", theta_13 = 5.371920351148152). A, E: (n, n); E may alias A.
 * Returns RG_OK, RG_EINVAL (n = 0 or non-finite A), RG_EDOM (exp(A) overflows), RG_ENOMEM. */
int rg_linalg_expm(size_t n, const double *A, double *E);

/* Exact moments of dz = -A z dt + sqrt(2) D^{1/2} dW over time t >= 0 for constant A:
 *     M = exp(-A t),   Sigma = int_0^t exp(-A s) 2D exp(-A^T s) ds   (dSigma/dt = 2D - A Sigma - Sigma A^T).
 * Van Loan block exponential of H = [[-A, 2D], [0, A^T]] h for h = t / 2^k with h ||A||_1 <= 5, then
 * k doublings M_2h = M_h M_h, Sigma_2h = M_h Sigma_h M_h^T + Sigma_h (any t, unstable A included).
 * D: (n, n) SPD or NULL for I. M, Sigma: (n, n) out, either may be NULL. Sigma is symmetrised.
 * t = 0 gives M = I, Sigma = 0 exactly. Returns RG_OK, RG_EINVAL (t < 0, NaN, Inf, n = 0), RG_EDOM
 * (unstable A: the moments overflow double at this t), RG_ENOMEM. */
int rg_linalg_vanloan(size_t n, const double *A, const double *D, double t, double *M, double *Sigma);

/* Solve the continuous Lyapunov equation A X + X A^T = W (Bartels-Stewart: real Schur form of A by
 * dgees, then dtrsyl). W: (n, n) symmetric. X: (n, n) out, symmetrised. Returns RG_OK, RG_EDOM when
 * A and -A share an eigenvalue (no unique solution), RG_EINVAL, RG_ENOMEM. */
int rg_linalg_lyap(size_t n, const double *A, const double *W, double *X);

/* Symmetric eigendecomposition (dsyevd) of the symmetric part of A: eigenvalues w ascending,
 * eigenvectors in the columns of V (row-major, V[i*n + k] = component i of vector k), or V = NULL for
 * values only. Returns RG_OK, RG_EINVAL, RG_ENOCONV, RG_ENOMEM. */
int rg_linalg_eigsym(size_t n, const double *A, double *w, double *V);

/* Eigenvalues of a general real matrix (dgeev): wr + i wi, sorted by real part ascending, then by
 * imaginary part ascending. Returns RG_OK, RG_EINVAL, RG_ENOCONV, RG_ENOMEM. */
int rg_linalg_eig(size_t n, const double *A, double *wr, double *wi);

/* Spectral abscissa r(A) = min_i Re lambda_i(A) (the relaxation rate of dz = -A z dt + ...). */
int rg_linalg_min_real_eig(size_t n, const double *A, double *r);

/* Lower Cholesky factor L (L L^T = A, upper triangle zeroed) of a symmetric matrix; L may alias A.
 * Returns RG_OK, or RG_EDOM "matrix is not positive definite (leading minor k)". */
int rg_linalg_chol(size_t n, const double *A, double *L);

/* Largest eigenvalue of the symmetric L^{-1} B L^{-T}, L lower triangular (generalised symmetric
 * problem B v = lambda L L^T v). all: if non-NULL receives all n eigenvalues, ascending. */
int rg_linalg_whitened_eigs(size_t n, const double *L, const double *B, double *lmax, double *all);

/* 1 if A is symmetric to |A_ij - A_ji| <= tol (|A_ij| + |A_ji|) + tol; 1 if antisymmetric likewise. */
int rg_linalg_is_symmetric(size_t n, const double *A, double tol);
int rg_linalg_is_antisymmetric(size_t n, const double *A, double tol);

/* C = A B for (n, n) matrices (C must not alias). And C = A B^T. */
void rg_linalg_mul(size_t n, const double *A, const double *B, double *C);
void rg_linalg_mul_t(size_t n, const double *A, const double *B, double *C);

/* ---- modal form of a constant stable drift (src/linalg_modal.c) ---------------------------------
 * Factor A once, A R = R Lambda: R real (n, n), its columns the eigenvectors of real eigenvalues and
 * the real and imaginary parts x, y of one eigenvector per complex pair a +- ib, with
 * A [x y] = [x y] [[a, -b], [b, a]]. In these modal coordinates (z = R zeta) the moments of
 * dz = -A z dt + sqrt(2) dW are
 *     E_t = e^{-Lambda t}, block diagonal: e^{-a t} for a real eigenvalue a,
 *           e^{-a t} [[cos bt, sin bt], [-sin bt, cos bt]] for a pair;
 *     Sigma~_t = R^-1 Sigma_t R^-T, elementwise from the Lyapunov equation (docs/math.md 2.2), with full
 *           relative accuracy at every t (no cancellation as t -> 0), no matrix exponential;
 * so M_t = R E_t R^-1 and Sigma_t = R Sigma~_t R^T. Per t: O(n^2) for Sigma~_t, 3 GEMMs for the
 * moments in the original coordinates. Errors grow with the conditioning of R (like cond(R)^2 eps
 * near a defective A): the factorisation checks itself on the Lyapunov equation of Sigma_inf and
 * refuses when the relative residual exceeds tol (e.g. near the 2x2 exceptional point of docs/math.md
 * 4.5); the caller keeps the matrix-exponential path there. */
typedef struct rg_linalg_modal rg_linalg_modal;

/* Factor A (n, n), stable (every Re eig > 0): one dgeev with eigenvectors, one LU inverse, one
 * SYRK, then the check: |A S v + S A^T v - 2v| / (2 ||A||_1 |S v| + 2 |v|) <= tol on two fixed
 * probes v, S = R Sigma~_inf R^T (tol = 1e-12 keeps Sigma_t within ~1e-10 of Van Loan at the
 * exceptional point). Returns RG_OK, RG_EINVAL, RG_EDOM ("drift is not stable: ...", "modal form
 * too inaccurate (Lyapunov residual ...)"), RG_ENOCONV (dgeev), RG_ENOMEM. *out NULL on failure. */
int rg_linalg_modal_new(size_t n, const double *A, double tol, rg_linalg_modal **out);
void rg_linalg_modal_free(rg_linalg_modal *m); /* NULL is a no-op */

size_t rg_linalg_modal_dim(const rg_linalg_modal *m);
double rg_linalg_modal_cond(const rg_linalg_modal *m); /* cond_1(R) = ||R||_1 ||R^-1||_1 */
double rg_linalg_modal_rate(const rg_linalg_modal *m); /* r = min Re eig(A) > 0 */
double rg_linalg_modal_residual(const rg_linalg_modal *m); /* the check's residual (<= tol) */
/* The eigenvalues in modal order (pairs adjacent, a + ib first): re, im (n) each. */
void rg_linalg_modal_eigenvalues(const rg_linalg_modal *m, double *re, double *im);

/* xt = R^-1 x (n): a vector into modal coordinates. */
void rg_linalg_modal_vec(const rg_linalg_modal *m, const double *x, double *xt);
/* C = R^-1 L L^T R^-T (n, n), full symmetric: an SPD matrix given by its lower Cholesky factor L
 * (row-major), or L = NULL for the identity. RG_ENOMEM. */
int rg_linalg_modal_congruence(const rg_linalg_modal *m, const double *L, double *C);
/* |R^-T y|^2 for a modal dual vector y (n): y^T R^-1 R^-T y, the Euclidean norm^2 of the original-
 * coordinate vector whose modal form is y (w^T z = y^T zeta). work: n doubles. */
double rg_linalg_modal_dual_norm2(const rg_linalg_modal *m, const double *y, double *work);

/* y = e^{rt} E_t x (n): the modal propagator scaled by e^{rt} (r the rate), so no entry underflows
 * before its own decay does. RG_EINVAL (bad t), RG_ENOMEM. */
int rg_linalg_modal_prop(const rg_linalg_modal *m, double t, const double *x, double *y);
/* A that decouples into independent blocks (its sparsity graph has several connected components)
 * is factored block by block: the number of components, and in *off (if not NULL) their nc + 1
 * offsets in modal order (component c holds modal indices [off[c], off[c+1])). Sigma~_t, R^-1 R^-T
 * and E_t vanish between components. */
size_t rg_linalg_modal_blocks(const rg_linalg_modal *m, const size_t **off);

/* Out = E_t C E_t^T + Sigma~_t (lower triangle and diagonal, row-major (n, n)), or Sigma~_t alone
 * when C is NULL. C: full symmetric (n, n) in modal coordinates; blocks = 1 promises that C vanishes
 * between components too. Entries between two components are written only when C is given and
 * blocks = 0; otherwise they are zero and left untouched (fill Out with zeros once). t >= 0. */
int rg_linalg_modal_cov(const rg_linalg_modal *m, double t, const double *C, int blocks, double *Out);
/* Out = e^{2rt} E_t C E_t^T (lower triangle and diagonal): a covariance carried to t, scaled like
 * rg_linalg_modal_prop so that it stays representable. blocks as for rg_linalg_modal_cov. */
int rg_linalg_modal_congr(const rg_linalg_modal *m, double t, const double *C, int blocks, double *Out);
/* M_t and Sigma_t (n, n) each or NULL, in the original coordinates (3 GEMMs). */
int rg_linalg_modal_moments(const rg_linalg_modal *m, double t, double *M, double *Sigma);

/* Scalar function of time for root finding; returns NaN to signal an evaluation failure. */
typedef double (*rg_linalg_fn)(double t, void *ctx);

/* Brent's method on [a, b] with f(a) f(b) <= 0, to |dt| <= tol. Returns RG_OK, RG_EINVAL (no sign
 * change, NaN), RG_ENOCONV (200 iterations). */
int rg_linalg_brent(rg_linalg_fn f, void *ctx, double a, double b, double tol, double *root);

/* Brent on a bracket whose end values are known: fa = f(a), fb = f(b), fa fb <= 0 (no evaluation is
 * repeated). Returns RG_OK, RG_EINVAL (no sign change, NaN), RG_ENOCONV. */
int rg_linalg_brent_bracket(rg_linalg_fn f, void *ctx, double a, double fa, double b, double fb, double tol,
                            double *root);

/* The root convention of docs/math.md section 7: scan a geometric grid of npts >= 400 points on [lo, hi]
 * from the top down for the first sign change of f (the largest root), refine it with Brent to 1e-12.
 * *found = 0 and *root = NAN when f has no sign change on the grid. Returns RG_OK, RG_EINVAL (bad
 * interval, f returned NaN: the message names t). */
int rg_linalg_largest_root(rg_linalg_fn f, void *ctx, double lo, double hi, size_t npts, double *root,
                           int *found);

#endif
