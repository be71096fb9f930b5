/* regimes nonrev: the Lelievre-Nier-Pavliotis optimal non-reversible perturbation (docs/math.md 4).
 *
 * Given SPD U (n x n), build an antisymmetric Q such that every eigenvalue of A = (I + Q) U has real
 * part tau = Tr(U)/n, the best rate any Q can reach (sum of Re lambda = Tr U). Every detail of the
 * construction is pinned by docs/math.md 4.1 so that results are reproducible: eigenpairs ascending, each
 * eigenvector's largest-magnitude component positive, the equal-diagonal basis built by pairwise
 * rotations (first index of max / min), omega_k assigned in creation order.
 * Omitted: other equal-diagonal bases (Walsh-Hadamard), which give other Q with the same spectrum.
 */
#ifndef REGIMES_NONREV_H
#define REGIMES_NONREV_H

#include <stddef.h>

/* Q_opt for U. U: (n, n) symmetric positive definite, n <= 4096. omega: (n) distinct positive values
 * assigned to the basis vectors in creation order, or NULL for omega_k = k (k = 1..n). Q: (n, n) out,
 * exactly antisymmetric. Returns RG_OK, RG_EINVAL (n = 0, non-finite, omega not distinct/positive),
 * RG_EDOM (U not symmetric or not positive definite), RG_ENOMEM. */
int rg_nonrev_optimal_q(size_t n, const double *U, const double *omega, double *Q);

/* The equal-diagonal orthonormal basis Psi of step 2 (columns, row-major (n, n)): psi_k^T U psi_k =
 * Tr(U)/n for every k. Exposed for tests and for users who want another J-bar. */
int rg_nonrev_equal_diagonal_basis(size_t n, const double *U, double *Psi);

/* Prefactor sup_t ||U^{1/2} exp(-A t) U^{-1/2}||_2 e^{tau t} on the n_t times t (docs/math.md 4.2-4.3),
 * The bound for Q_opt is sqrt(omega_max / omega_min). */
int rg_nonrev_prefactor(size_t n, const double *U, const double *Q, size_t n_t, const double *t,
                        double *prefactor);

/* Entropy production rate tr(Q^T Q U) of the stationary non-reversible process (docs/math.md 2.6). */
double rg_nonrev_entropy_production(size_t n, const double *U, const double *Q);

#endif
