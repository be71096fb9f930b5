/* Private helpers of the score and sampler modules: small core (k x k) algebra applied to (k, r) states. */
#ifndef REGIMES_SCORE_INTERNAL_H
#define REGIMES_SCORE_INTERNAL_H

#include <stddef.h>
#include "regimes/score.h"

/* Inverse of a general (k, k) matrix by Gauss-Jordan with partial pivoting. RG_EDOM if singular. */
int rg_score__inv(size_t k, const double *A, double *Ainv);
/* Queries per block of the lane-wise kernels (score_lanes.c). A BLAS sgemm may round a row differently
 * by its position in the call (the OpenBLAS kernel here does, by position modulo 12), so the scores'
 * products over a batch run on blocks of RG_SCORE__BLK queries stored transposed, one query per
 * vector lane, every lane by the same float multiplies and adds in a fixed order: a query's result
 * depends only on that query, whatever batch it arrives in, and not on the instruction set. */
#define RG_SCORE__BLK 64
/* outT (M, BLK) = A (M, K) inT (K, BLK): outT[m][q] = sum_k A[m, k] inT[k][q], A row-major with row
 * stride lda. Each sum is blocked: the terms k in [64 b, 64 b + 64) are summed in order from 0 (float
 * products, float adds), and the block sums are added to the running total in order of b. */
void rg_score__lanes_mm(size_t M, size_t K, const float *A, size_t lda, const float *inT, float *outT);
/* outT (N, BLK) = A^T inT for A (M, N) row-major (stride lda), inT (M, BLK): the same with blocks of 256
 * terms m. */
void rg_score__lanes_mtm(size_t M, size_t N, const float *A, size_t lda, const float *inT, float *outT);
/* Rows x (B, N), B <= BLK, to lanes xT (N, BLK) (lanes B .. BLK - 1 zero), and back (first B lanes). */
void rg_score__lanes_load(size_t B, size_t N, const float *x, float *xT);
void rg_score__lanes_store(size_t B, size_t N, const float *xT, float *x);

/* out (B, k r) = (C (x) I_r) in, row by row; C (k, k) double. Cf: C in float, used through the lane-wise
 * product (blocks of BLK rows) when r == 1 and k > 2, with pad = 2 BLK k floats of scratch; Cf NULL:
 * double loops (pad unused, may be NULL). Either way a row's result depends only on that row. in and
 * out must not alias. */
void rg_score__apply(const double *C, const float *Cf, size_t k, size_t r, size_t B, const float *in,
                     float *out, float *pad);
/* The same for one double state of N = k r. */
void rg_score__apply_d(const double *C, size_t k, size_t r, const double *in, double *out);

/* An isotropic mixture score at a prepared time, as the sampler's fused steps use it (docs/math.md 5.3):
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
