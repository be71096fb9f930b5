/* The normal transform of rng.h on AVX2 + FMA (this file alone is compiled with -mavx2 -mfma; rng.c
 * calls it only on a machine that has both). Four Philox4x64-10 blocks per 256-bit vector, two vectors
 * per group, SLEEF's u35 logf and sincospif (the same bits as the AVX-512 path). */
#include "rng_internal.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include <sleef.h>

/* hi:lo = a m for four 64-bit lanes from four 32 x 32 -> 64 products (see rng_avx512.c). */
static inline void mulhilo(__m256i a, __m256i m_lo, __m256i m_hi, __m256i *lo, __m256i *hi)
{
    const __m256i mask = _mm256_set1_epi64x(0xffffffffll);
    const __m256i ah = _mm256_srli_epi64(a, 32);
    const __m256i p00 = _mm256_mul_epu32(a, m_lo), p01 = _mm256_mul_epu32(a, m_hi);
    const __m256i p10 = _mm256_mul_epu32(ah, m_lo), p11 = _mm256_mul_epu32(ah, m_hi);
    const __m256i t = _mm256_add_epi64(p01, _mm256_srli_epi64(p00, 32));
    const __m256i u = _mm256_add_epi64(p10, _mm256_and_si256(t, mask));
    *hi = _mm256_add_epi64(_mm256_add_epi64(p11, _mm256_srli_epi64(t, 32)), _mm256_srli_epi64(u, 32));
    *lo = _mm256_or_si256(_mm256_slli_epi64(u, 32), _mm256_and_si256(p00, mask));
}

/* Philox4x64-10 of blocks 8 g + 0..7: w[c][j] is word j of blocks 8 g + 4 c + 0..3. */
static inline void philox_group(rg_rng r, uint64_t traj, uint64_t step, uint64_t g, __m256i w[2][4])
{
    const __m256i m0l = _mm256_set1_epi64x((long long)(RG_PHILOX_M0 & 0xffffffffull));
    const __m256i m0h = _mm256_set1_epi64x((long long)(RG_PHILOX_M0 >> 32));
    const __m256i m1l = _mm256_set1_epi64x((long long)(RG_PHILOX_M1 & 0xffffffffull));
    const __m256i m1h = _mm256_set1_epi64x((long long)(RG_PHILOX_M1 >> 32));
    for (int c = 0; c < 2; c++) {
        w[c][0] = _mm256_set1_epi64x((long long)traj);
        w[c][1] = _mm256_set1_epi64x((long long)step);
        w[c][2] = _mm256_add_epi64(_mm256_set1_epi64x((long long)(8 * g + 4 * (uint64_t)c)), _mm256_set_epi64x(3, 2, 1, 0));
        w[c][3] = _mm256_setzero_si256();
    }
    uint64_t k0 = r.seed, k1 = r.stream;
    for (int round = 0; round < 10; round++) {
        const __m256i K0 = _mm256_set1_epi64x((long long)k0), K1 = _mm256_set1_epi64x((long long)k1);
        for (int c = 0; c < 2; c++) {
            __m256i lo0, hi0, lo1, hi1;
            mulhilo(w[c][0], m0l, m0h, &lo0, &hi0);
            mulhilo(w[c][2], m1l, m1h, &lo1, &hi1);
            w[c][0] = _mm256_xor_si256(_mm256_xor_si256(hi1, w[c][1]), K0);
            w[c][1] = lo1;
            w[c][2] = _mm256_xor_si256(_mm256_xor_si256(hi0, w[c][3]), K1);
            w[c][3] = lo0;
        }
        k0 += RG_PHILOX_W0;
        k1 += RG_PHILOX_W1;
    }
}

/* The eight low (hi = 0) or high (hi = 1) 32-bit halves of word j of the group's blocks 0..7. */
static inline __m256i halves(__m256i w[2][4], int j, int hi)
{
    const __m256 a = _mm256_castsi256_ps(w[0][j]), b = _mm256_castsi256_ps(w[1][j]);
    const __m256 s = hi ? _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)) : _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    /* s = [a0 a1 b0 b1 | a2 a3 b2 b3] (one half per 64-bit lane): put blocks in order */
    return _mm256_permute4x64_epi64(_mm256_castps_si256(s), _MM_SHUFFLE(3, 1, 2, 0));
}

/* uint32 -> float rounded to nearest, as vcvtudq2ps: both 16-bit parts convert exactly, the product by
 * 2^16 is exact, and the one rounding is the sum's. */
static inline __m256 u32_to_float(__m256i u)
{
    const __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(u, 16));
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xffff)));
    return _mm256_add_ps(_mm256_mul_ps(hi, _mm256_set1_ps(65536.0f)), lo);
}

static inline void transform(__m256i w[2][4], float *z)
{
    for (int h = 0; h < 2; h++)
        for (int q = 0; q < 2; q++) { /* lanes 8 q .. 8 q + 7 of the 16 of rng.h: word 2 h + q */
            const __m256 u1 = _mm256_mul_ps(_mm256_add_ps(u32_to_float(halves(w, 2 * h + q, 0)), _mm256_set1_ps(0.5f)),
                                            _mm256_set1_ps(0x1p-32f));
            const __m256 rad = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), Sleef_logf8_u35avx2(u1)));
            const Sleef___m256_2 sc =
                Sleef_sincospif8_u35avx2(_mm256_mul_ps(u32_to_float(halves(w, 2 * h + q, 1)), _mm256_set1_ps(0x1p-31f)));
            _mm256_storeu_ps(z + 32 * h + 8 * q, _mm256_mul_ps(rad, sc.y));
            _mm256_storeu_ps(z + 32 * h + 16 + 8 * q, _mm256_mul_ps(rad, sc.x));
        }
}

void rg_rng__groups_avx2(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    __m256i w[2][4];
    for (size_t g = 0; g < ng; g++) {
        philox_group(r, traj, step, g0 + g, w);
        transform(w, z + g * RG_RNG_GROUP);
    }
}

#else /* not an x86-64 compiler with -mavx2 -mfma: never called (rg_rng__isa_best says so) */
void rg_rng__groups_avx2(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    rg_rng__groups_generic(r, traj, step, g0, ng, z);
}
#endif
