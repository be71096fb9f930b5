/* Core (k x k) algebra shared by the score and sampler modules (score_internal.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "score_internal.h"
#include "regimes/process.h"
#include "regimes/score.h"

int rg_score__inv(size_t k, const double *A, double *Ainv)
{
    double a[64 * 128];
    double *w = a;
    double *heap = NULL;
    if (k > 64) {
        heap = malloc(2 * k * k * sizeof *heap);
        if (!heap) RG_FAIL(RG_ENOMEM, "rg_score__inv: out of memory (k = %zu)", k);
        w = heap;
    }
    const size_t m = 2 * k; /* augmented [A | I], row length m */
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < m; j++) w[i * m + j] = j < k ? A[i * k + j] : (j - k == i ? 1.0 : 0.0);
    for (size_t c = 0; c < k; c++) {
        size_t piv = c;
        for (size_t i = c + 1; i < k; i++)
            if (fabs(w[i * m + c]) > fabs(w[piv * m + c])) piv = i;
        if (!(fabs(w[piv * m + c]) > 0)) {
            free(heap);
            RG_FAIL(RG_EDOM, "core matrix is singular (column %zu)", c);
        }
        if (piv != c)
            for (size_t j = 0; j < m; j++) {
                double tmp = w[c * m + j];
                w[c * m + j] = w[piv * m + j];
                w[piv * m + j] = tmp;
            }
        const double inv = 1.0 / w[c * m + c];
        for (size_t j = 0; j < m; j++) w[c * m + j] *= inv;
        for (size_t i = 0; i < k; i++) {
            if (i == c) continue;
            const double f = w[i * m + c];
            if (f != 0.0)
                for (size_t j = 0; j < m; j++) w[i * m + j] -= f * w[c * m + j];
        }
    }
    for (size_t i = 0; i < k; i++) memcpy(Ainv + i * k, w + i * m + k, k * sizeof *Ainv);
    free(heap);
    return RG_OK;
}

void rg_score__apply(const double *C, const float *Cf, size_t k, size_t r, size_t B, const float *in,
                     float *out, float *pad)
{
    const size_t N = k * r, BLK = RG_SCORE__BLK;
    if (Cf && r == 1 && k > 2) { /* lane-wise: out^T = C in^T per block of BLK rows */
        RG_ASSERT(pad != NULL);
        float *inT = pad, *outT = pad + BLK * k;
        for (size_t b0 = 0; b0 < B; b0 += BLK) {
            const size_t bb = B - b0 < BLK ? B - b0 : BLK;
            rg_score__lanes_load(bb, k, in + b0 * k, inT);
            rg_score__lanes_mm(k, k, Cf, k, inT, outT);
            rg_score__lanes_store(bb, k, outT, out + b0 * k);
        }
        return;
    }
    if (k == 1) {
        const double c = C[0];
        for (size_t i = 0; i < B * N; i++) out[i] = (float)(c * (double)in[i]);
        return;
    }
    for (size_t b = 0; b < B; b++) {
        const float *x = in + b * N;
        float *y = out + b * N;
        for (size_t i = 0; i < k; i++)
            for (size_t c = 0; c < r; c++) {
                double acc = 0.0;
                for (size_t j = 0; j < k; j++) acc += C[i * k + j] * (double)x[j * r + c];
                y[i * r + c] = (float)acc;
            }
    }
}

void rg_score__apply_d(const double *C, size_t k, size_t r, const double *in, double *out)
{
    for (size_t i = 0; i < k; i++)
        for (size_t c = 0; c < r; c++) {
            double acc = 0.0;
            for (size_t j = 0; j < k; j++) acc += C[i * k + j] * in[j * r + c];
            out[i * r + c] = acc;
        }
}

int rg_score_denoise(const rg_process *p, double t, size_t B, const float *x, const float *s, float *x0)
{
    if (!p || !x || !s || !x0 || !(t > 0)) RG_FAIL(RG_EINVAL, "rg_score_denoise: NULL argument or t = %g <= 0", t);
    const size_t k = rg_process_core(p), r = rg_process_mult(p), N = k * r;
    double *M = malloc(3 * k * k * sizeof *M);
    if (!M) RG_FAIL(RG_ENOMEM, "rg_score_denoise: out of memory");
    double *S = M + k * k, *Mi = S + k * k;
    int st = rg_process_moments(p, t, M, S);
    if (st == RG_OK) st = rg_score__inv(k, M, Mi);
    if (st == RG_OK) {
        rg_score__apply(S, NULL, k, r, B, s, x0, NULL);        /* x0 = (S (x) I) s */
        for (size_t i = 0; i < B * N; i++) x0[i] = (float)((double)x0[i] + (double)x[i]);
        float *tmp = malloc(N * sizeof *tmp);
        if (!tmp) st = RG_ENOMEM;
        for (size_t b = 0; b < B && st == RG_OK; b++) {        /* x0 = (M^{-1} (x) I) x0, row by row */
            rg_score__apply(Mi, NULL, k, r, 1, x0 + b * N, tmp, NULL);
            memcpy(x0 + b * N, tmp, N * sizeof *tmp);
        }
        free(tmp);
    }
    free(M);
    if (st != RG_OK) RG_FAIL(st, "rg_score_denoise: M_t at t = %g is singular or out of memory", t);
    return RG_OK;
}
