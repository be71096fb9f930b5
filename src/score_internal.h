/* Private helpers of the score and sampler modules: small core (k x k) algebra applied to (k, r) states. */
#ifndef REGIMES_SCORE_INTERNAL_H
#define REGIMES_SCORE_INTERNAL_H

#include <stddef.h>

/* Inverse of a general (k, k) matrix by Gauss-Jordan with partial pivoting. RG_EDOM if singular. */
int rg_score__inv(size_t k, const double *A, double *Ainv);
/* out (B, k r) = (C (x) I_r) in, row by row; C (k, k) double. Cf: C in float, used through one sgemm
 * when r == 1 and k > 2 (may be NULL, then double loops). in and out must not alias. */
void rg_score__apply(const double *C, const float *Cf, size_t k, size_t r, size_t B, const float *in,
                     float *out);
/* The same for one double state of N = k r. */
void rg_score__apply_d(const double *C, size_t k, size_t r, const double *in, double *out);



#define RG__PI 3.14159265358979323846
#define RG__LOG_2PI 1.83787706640934548356 /* log(2 pi) */
#endif
