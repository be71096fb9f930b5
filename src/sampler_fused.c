/* The fused reverse step for core processes with an isotropic mixture score (sampler_internal.h;
 * docs/math.md 5.3, 5.4, 6.3, 6.4). Compiled for AVX-512F, AVX2 and baseline x86-64 (chosen when the
 * library loads); every operation is a float or double add or multiply in a fixed order (no FMA
 * contraction, explicit partial sums), so the three give the same bits. */
#include <math.h>
#include "sampler_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FUSED_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FUSED_CLONES
#endif

#define KM RG_SAMPLER__KMAX
#define CB 64 /* columns per block of the update */

/* sum_i a_i b_i: float products (each one rounding), summed in double in 32 partial sums (four
 * independent vector chains, not one waiting on the adder's latency), folded in a fixed order. */
static inline double dot(const float *a, const float *b, size_t n)
{
    double s[32] = { 0 };
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (size_t q = 0; q < 32; q++) s[q] += (double)(a[i + q] * b[i + q]);
    double t = 0.0;
    for (; i < n; i++) t += (double)(a[i] * b[i]);
    for (size_t q = 0; q < 16; q++) s[q] += s[q + 16];
    for (size_t q = 0; q < 8; q++) s[q] += s[q + 8];
    return (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) + t;
}

/* rho = softmax(l) over K components; the largest term is exp(0) = 1 without a call. */
static inline void softmax(const double *l, size_t K, double *rho)
{
    double m = l[0], Z = 0.0;
    for (size_t j = 1; j < K; j++) m = l[j] > m ? l[j] : m;
    for (size_t j = 0; j < K; j++) Z += rho[j] = l[j] == m ? 1.0 : exp(l[j] - m);
    for (size_t j = 0; j < K; j++) rho[j] /= Z;
}

/* D = C1 - S (sum_j rho_j Ginv_j), k x k, rounded to float. */
static inline void row_drift(const rg_sampler__fused *f, const double *rho, float *D)
{
    const size_t k = f->mix.k, kk = k * k;
    double G[KM * KM] = { 0 };
    for (size_t j = 0; j < f->mix.K; j++)
        for (size_t i = 0; i < kk; i++) G[i] += rho[j] * f->mix.Ginv[j * kk + i];
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            double acc = f->C1[a * k + b];
            for (size_t l = 0; l < k; l++) acc -= f->S[a * k + l] * G[l * k + b];
            D[a * k + b] = (float)acc;
        }
}

FUSED_CLONES
void rg_sampler__fused_row(const rg_sampler__fused *f, float *z, const float *xi)
{
    const size_t K = f->mix.K, k = f->mix.k, r = f->mix.r, N = f->mix.N, kk = k * k;
    double l[RG_SAMPLER__CMAX], rho[RG_SAMPLER__CMAX];
    double p0 = 0.0;
    for (size_t j = 0; j < K; j++) {
        const double p = j == 1 && f->mirror ? -p0 : dot(z, f->wf + j * N, N);
        p0 = j == 0 ? p : p0;
        l[j] = f->mix.c[j] + p;
    }
    if (!f->mix.same_cov) { /* - z^T (Ginv_j (x) I) z / 2 from the row's k x k Gram matrix */
        double Q[KM * KM];
        for (size_t a = 0; a < k; a++)
            for (size_t b = a; b < k; b++) Q[a * k + b] = Q[b * k + a] = dot(z + a * r, z + b * r, r);
        for (size_t j = 0; j < K; j++) {
            double q = 0.0;
            for (size_t i = 0; i < kk; i++) q += f->mix.Ginv[j * kk + i] * Q[i];
            l[j] -= 0.5 * q;
        }
    }
    softmax(l, K, rho);
    float Drow[KM * KM], rf[RG_SAMPLER__CMAX];
    const float *D = f->D;
    if (!f->mix.same_cov) row_drift(f, rho, Drow), D = Drow;
    for (size_t j = 0; j < K; j++) rf[j] = (float)rho[j];
    if (k == 1 && K <= 2) { /* ou: one pass in place, the same operations in the same order as below */
        const float d = D[0], g = f->noise ? f->L[0] : 0.0f, r0 = rf[0], rl = rf[K - 1];
        const float *restrict v0 = f->vf, *restrict vl = f->vf + (K - 1) * N, *restrict x = xi;
        float *restrict y = z;
        if (K == 2 && g != 0.0f)
            for (size_t c = 0; c < N; c++) y[c] = ((d * y[c] + g * x[c]) + r0 * v0[c]) + rl * vl[c];
        else if (K == 2)
            for (size_t c = 0; c < N; c++) y[c] = (d * y[c] + r0 * v0[c]) + rl * vl[c];
        else if (g != 0.0f)
            for (size_t c = 0; c < N; c++) y[c] = (d * y[c] + g * x[c]) + rl * vl[c];
        else
            for (size_t c = 0; c < N; c++) y[c] = d * y[c] + rl * vl[c];
        return;
    }
    for (size_t c0 = 0; c0 < r; c0 += CB) {
        const size_t cb = r - c0 < CB ? r - c0 : CB;
        float acc[KM][CB];
        for (size_t i = 0; i < k; i++) {
            float *ai = acc[i];
            for (size_t c = 0; c < cb; c++) ai[c] = D[i * k] * z[c0 + c];
            for (size_t a = 1; a < k; a++) {
                const float d = D[i * k + a], *za = z + a * r + c0;
                for (size_t c = 0; c < cb; c++) ai[c] += d * za[c];
            }
            for (size_t a = 0; f->noise && a < k; a++) {
                const float g = f->L[i * k + a], *xa = xi + a * r + c0;
                if (g != 0.0f)
                    for (size_t c = 0; c < cb; c++) ai[c] += g * xa[c];
            }
            for (size_t j = 0; j + 1 < K; j++) {
                const float rj = rf[j], *vj = f->vf + j * N + i * r + c0;
                for (size_t c = 0; c < cb; c++) ai[c] += rj * vj[c];
            }
        }
        const float rl = rf[K - 1]; /* the last term goes with the store (z is no longer read) */
        for (size_t i = 0; i < k; i++) {
            const float *ai = acc[i], *vl = f->vf + (K - 1) * N + i * r + c0;
            float *zi = z + i * r + c0;
            for (size_t c = 0; c < cb; c++) zi[c] = ai[c] + rl * vl[c];
        }
    }
}
