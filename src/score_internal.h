/* Private helpers of the score and sampler modules: small core (k x k) algebra applied to (k, r) states. */
#ifndef REGIMES_SCORE_INTERNAL_H
#define REGIMES_SCORE_INTERNAL_H

#include <stddef.h>
#include "regimes/score.h"

/* Inverse of a general (k, k) matrix by Gauss-Jordan with partial pivoting. RG_EDOM if singular. */
int rg_score__inv(size_t k, const double *A, double *Ainv);
/* out (B, k r) = (C (x) I_r) in, row by row; C (k, k) double. Cf: C in float, used through one sgemm
 * when r == 1 and k > 2 (may be NULL, then double loops). in and out must not alias. */
void rg_score__apply(const double *C, const float *Cf, size_t k, size_t r, size_t B, const float *in,
                     float *out);
/* The same for one double state of N = k r. */
void rg_score__apply_d(const double *C, size_t k, size_t r, const double *in, double *out);

/* An isotropic mixture score at a prepared time, as the sampler's fused steps use it (MATH.md 5.3):
 *     s(z) = -sum_j rho_j (Ginv_j (x) I)(z - m_j) = -(sum_j rho_j Ginv_j (x) I) z + sum_j rho_j w_j,
 *     rho = softmax(l),  l_j = c_j + z . w_j - z^T (Ginv_j (x) I) z / 2   (the last term is the same for
 *     every j when same_cov, and then drops out of the softmax). */
typedef struct {
    size_t K, k, r, N;   /* components, core size, multiplicity, N = k r */
    int same_cov;        /* every Gamma_j is the same */
    const double *Ginv;  /* (K, k, k) Gamma_j^{-1} (core) */
    const double *w;     /* (K, N) w_j = (Gamma_j^{-1} (x) I) M_t mu_j */
    const double *c;     /* (K) log pi_j - (1/2) log det(Gamma_j (x) I) - m_j . w_j / 2 */
} rg_score__mix;
/* 1 and *v filled when sc is rg_score_gmm_iface of an isotropic mixture with t prepared; else 0. */
int rg_score__gmm_view(const rg_score *sc, double t, rg_score__mix *v);

#define RG__PI 3.14159265358979323846
#define RG__LOG_2PI 1.83787706640934548356 /* log(2 pi) */
#endif
