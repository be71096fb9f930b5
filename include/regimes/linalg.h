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

/* Scalar function of time for root finding; returns NaN to signal an evaluation failure. */
typedef double (*rg_linalg_fn)(double t, void *ctx);

/* Brent's method on [a, b] with f(a) f(b) <= 0, to |dt| <= tol. Returns RG_OK, RG_EINVAL (no sign
 * change, NaN), RG_ENOCONV (200 iterations). */
int rg_linalg_brent(rg_linalg_fn f, void *ctx, double a, double b, double tol, double *root);

/* The root convention of docs/math.md section 7: scan a geometric grid of npts >= 400 points on [lo, hi]
 * from the top down for the first sign change of f (the largest root), refine it with Brent to 1e-12.
 * *found = 0 and *root = NAN when f has no sign change on the grid. Returns RG_OK, RG_EINVAL (bad
 * interval, f returned NaN: the message names t). */
int rg_linalg_largest_root(rg_linalg_fn f, void *ctx, double lo, double hi, size_t npts, double *root,
                           int *found);

#endif
