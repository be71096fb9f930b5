/* Lane-wise GEMM kernels on blocks of RG_SCORE__BLK queries (score_internal.h): one query per vector
 * lane, every lane computed by the same float multiplies and adds in the same order, so a query's
 * result never depends on the other queries of its block. A BLAS sgemm does not promise that: the
 * OpenBLAS kernel this machine runs rounds a row differently by its position modulo 12 in the block.
 * Compiled for AVX-512F, AVX2 and baseline x86-64 (chosen when the library loads); no FMA, so the
 * clones give the same bits. Tiles: 4 rows x 64 lanes (16 vector accumulators) where 32 vector
 * registers exist, 1 row x 64 lanes elsewhere; the same operations per element either way. Sums are
 * blocked (64 terms, 256 in the transposed product), each block summed from 0 and then added to the
 * running total: the rounding error grows with the block size plus the number of blocks instead of
 * with the length (sgemm's FMA chains were 4-5x more accurate than one plain chain over 1568 terms). */
#include <string.h>
#include "score_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LANES_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LANES_CLONES
#endif

#define BLK RG_SCORE__BLK
#define KB 64  /* terms per block of a sum (score_internal.h) */
#define MC 256 /* terms per block of the transposed product's sums (its slice of inT stays in cache) */

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
#define LD(p) (*(const v16u *)(const void *)(p))
#define ST(p, v) (*(v16u *)(void *)(p) = (v))

_Static_assert(BLK == 64, "the kernels hold one block as four 16-lane vectors");

static int wide_registers(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

/* o (+)= c: the block's sum is stored (first block) or added to the running total. */
static inline void put(float *o, v16 c, int first)
{
    if (first) ST(o, c);
    else ST(o, LD(o) + c);
}

/* outT[m] = sum_k A[m, k] inT[k] for rows m0 .. m0 + 3 (rows4) or m0 alone, terms k in [k0, k1) summed
 * in order from 0 and then put to outT. */
LANES_CLONES static void mm_rows4(size_t m0, size_t k0, size_t k1, const float *A, size_t lda, const float *inT,
                                  float *outT)
{
    v16 c[4][4] = { { { 0 } } };
    const float *a0 = A + m0 * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    for (size_t k = k0; k < k1; k++) {
        const float *x = inT + k * BLK;
        const v16 x0 = LD(x), x1 = LD(x + 16), x2 = LD(x + 32), x3 = LD(x + 48);
        const float s[4] = { a0[k], a1[k], a2[k], a3[k] };
        for (int j = 0; j < 4; j++) {
            c[j][0] += s[j] * x0;
            c[j][1] += s[j] * x1;
            c[j][2] += s[j] * x2;
            c[j][3] += s[j] * x3;
        }
    }
    for (int j = 0; j < 4; j++)
        for (int q = 0; q < 4; q++) put(outT + (m0 + (size_t)j) * BLK + 16 * q, c[j][q], k0 == 0);
}

LANES_CLONES static void mm_row1(size_t m0, size_t k0, size_t k1, const float *A, size_t lda, const float *inT,
                                 float *outT)
{
    v16 c0 = { 0 }, c1 = { 0 }, c2 = { 0 }, c3 = { 0 };
    const float *a = A + m0 * lda;
    for (size_t k = k0; k < k1; k++) {
        const float *x = inT + k * BLK, s = a[k];
        c0 += s * LD(x);
        c1 += s * LD(x + 16);
        c2 += s * LD(x + 32);
        c3 += s * LD(x + 48);
    }
    float *o = outT + m0 * BLK;
    put(o, c0, k0 == 0), put(o + 16, c1, k0 == 0), put(o + 32, c2, k0 == 0), put(o + 48, c3, k0 == 0);
}

void rg_score__lanes_mm(size_t M, size_t K, const float *A, size_t lda, const float *inT, float *outT)
{
    const int wide = wide_registers();
    if (K == 0) memset(outT, 0, M * BLK * sizeof *outT);
    size_t m = 0;
    for (; wide && m + 4 <= M; m += 4)
        for (size_t k0 = 0; k0 < K; k0 += KB) mm_rows4(m, k0, K - k0 < KB ? K : k0 + KB, A, lda, inT, outT);
    for (; m < M; m++)
        for (size_t k0 = 0; k0 < K; k0 += KB) mm_row1(m, k0, K - k0 < KB ? K : k0 + KB, A, lda, inT, outT);
}

/* outT[n] (+)= sum_{m in [m0, m1)} A[m, n] inT[m] for columns n0 .. n0 + 3 (cols4) or n0 alone, summed in
 * order from 0 and then put to outT. */
LANES_CLONES static void mtm_cols4(size_t m0, size_t m1, size_t n0, const float *A, size_t lda, const float *inT,
                                   float *outT)
{
    v16 c[4][4] = { { { 0 } } };
    for (size_t m = m0; m < m1; m++) {
        const float *x = inT + m * BLK, *a = A + m * lda + n0;
        const v16 x0 = LD(x), x1 = LD(x + 16), x2 = LD(x + 32), x3 = LD(x + 48);
        for (int j = 0; j < 4; j++) {
            const float s = a[j];
            c[j][0] += s * x0;
            c[j][1] += s * x1;
            c[j][2] += s * x2;
            c[j][3] += s * x3;
        }
    }
    for (int j = 0; j < 4; j++)
        for (int q = 0; q < 4; q++) put(outT + (n0 + (size_t)j) * BLK + 16 * q, c[j][q], m0 == 0);
}

LANES_CLONES static void mtm_col1(size_t m0, size_t m1, size_t n0, const float *A, size_t lda, const float *inT,
                                  float *outT)
{
    v16 c0 = { 0 }, c1 = { 0 }, c2 = { 0 }, c3 = { 0 };
    for (size_t m = m0; m < m1; m++) {
        const float *x = inT + m * BLK, s = A[m * lda + n0];
        c0 += s * LD(x);
        c1 += s * LD(x + 16);
        c2 += s * LD(x + 32);
        c3 += s * LD(x + 48);
    }
    float *o = outT + n0 * BLK;
    put(o, c0, m0 == 0), put(o + 16, c1, m0 == 0), put(o + 32, c2, m0 == 0), put(o + 48, c3, m0 == 0);
}

void rg_score__lanes_mtm(size_t M, size_t N, const float *A, size_t lda, const float *inT, float *outT)
{
    const int wide = wide_registers();
    if (M == 0) memset(outT, 0, N * BLK * sizeof *outT);
    for (size_t m0 = 0; m0 < M; m0 += MC) {
        const size_t m1 = M - m0 < MC ? M : m0 + MC;
        size_t n = 0;
        for (; wide && n + 4 <= N; n += 4) mtm_cols4(m0, m1, n, A, lda, inT, outT);
        for (; n < N; n++) mtm_col1(m0, m1, n, A, lda, inT, outT);
    }
}

void rg_score__lanes_load(size_t B, size_t N, const float *x, float *xT)
{
    for (size_t i = 0; i < N; i++) {
        float *row = xT + i * BLK;
        for (size_t b = 0; b < B; b++) row[b] = x[b * N + i];
        for (size_t b = B; b < BLK; b++) row[b] = 0.0f;
    }
}

void rg_score__lanes_store(size_t B, size_t N, const float *xT, float *x)
{
    for (size_t b = 0; b < B; b++)
        for (size_t i = 0; i < N; i++) x[b * N + i] = xT[i * BLK + b];
}
