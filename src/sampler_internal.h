/* Private to the sampler: the fused reverse step for core processes with an isotropic mixture score
 * (sampler_fused.c). One row at a time, in float, in one pass over a cache-resident row: the score's
 * dot products, the softmax, then drift + score + noise + update per block of 64 columns. The plain
 * path of sampler.c (score eval, then the step's core matrices, then the noise) is its reference. */
#ifndef REGIMES_SAMPLER_INTERNAL_H
#define REGIMES_SAMPLER_INTERNAL_H

#include <stddef.h>
#include "score_internal.h"

#define RG_SAMPLER__KMAX 8  /* fused: core size k at most */
#define RG_SAMPLER__CMAX 64 /* fused: mixture components at most */

/* One step t -> t' for rows z (N = k r): with s = -(G (x) I) z + sum_j rho_j w_j (score_internal.h),
 *   EM:  z' = ((C1 - 2h G) (x) I) z + sum_j rho_j (2h w_j) + sqrt(2h) xi
 *   EXP: z' = ((C1 - C2 G) (x) I) z + sum_j rho_j ((C2 (x) I) w_j) + (Ln (x) I) xi
 * i.e. z' = (D (x) I) z + sum_j rho_j v_j + (L (x) I) xi with D = C1 - S G, G = sum_j rho_j Ginv_j. */
typedef struct {
    rg_score__mix mix;
    const float *wf;                             /* (K, N) w_j in float: the dots z . w_j */
    const float *vf;                             /* (K, N) v_j: 2h w_j (EM) or (C2 (x) I) w_j (EXP) */
    double C1[RG_SAMPLER__KMAX * RG_SAMPLER__KMAX];
    double S[RG_SAMPLER__KMAX * RG_SAMPLER__KMAX]; /* 2h I (EM) or C2 (EXP) */
    float D[RG_SAMPLER__KMAX * RG_SAMPLER__KMAX];  /* same_cov: the constant D */
    float L[RG_SAMPLER__KMAX * RG_SAMPLER__KMAX];  /* sqrt(2h) I (EM) or Ln (EXP) */
    int noise;                                   /* 0: no noise term (the exponential step to t' = 0) */
    int mirror;                                  /* K = 2 and w_1 = -w_0 in float: z . w_1 = -(z . w_0)
                                                  * exactly, so one dot serves both (the tanh case) */
} rg_sampler__fused;

/* z (N) <- one fused step; xi (N) its normals (unread when f->noise is 0). */
void rg_sampler__fused_row(const rg_sampler__fused *f, float *z, const float *xi);

#endif
