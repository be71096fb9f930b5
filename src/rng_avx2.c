/* The normal transform of rng.h on AVX2 + FMA (this file alone is compiled with -mavx2 -mfma; rng.c
 * calls it only on a machine that has both). Philox4x32-10 on four blocks per 256-bit vector, one 32-bit
 * word in the low half of each 64-bit lane (see rng_avx512.c), four vectors per group; SLEEF's u35 logf
 * and sincospif (the same bits as the AVX-512 path). */
#include "rng_internal.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include <sleef.h>

/* Philox4x32-10 of blocks 16 g + 0..15: w[c][j] holds word j of blocks 16 g + 4 c + 0..3 in the low
 * halves of its 64-bit lanes. */
static inline void philox_group(const rg_rng__addr32 *ad, uint64_t g, __m256i w[4][4])
{
    const __m256i m0 = _mm256_set1_epi64x(RG_PHILOX32_M0), m1 = _mm256_set1_epi64x(RG_PHILOX32_M1);
    for (int c = 0; c < 4; c++) {
        w[c][0] = _mm256_add_epi64(_mm256_set1_epi64x((long long)(uint32_t)(16 * g + 4 * (uint64_t)c)), _mm256_set_epi64x(3, 2, 1, 0));
        w[c][1] = _mm256_set1_epi64x(ad->c1);
        w[c][2] = _mm256_set1_epi64x(ad->c2);
        w[c][3] = _mm256_set1_epi64x(ad->c3);
    }
    uint32_t k0 = ad->k0, k1 = ad->k1;
    for (int round = 0; round < 10; round++) {
        const __m256i K0 = _mm256_set1_epi64x(k0), K1 = _mm256_set1_epi64x(k1);
        for (int c = 0; c < 4; c++) {
            const __m256i p0 = _mm256_mul_epu32(w[c][0], m0), p1 = _mm256_mul_epu32(w[c][2], m1);
            w[c][0] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), w[c][1]), K0);
            w[c][1] = p1;
            w[c][2] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), w[c][3]), K1);
            w[c][3] = p0;
        }
        k0 += RG_PHILOX32_W0;
        k1 += RG_PHILOX32_W1;
    }
}

/* The low 32-bit halves of the lanes of a (blocks 0..3) and b (blocks 4..7), in block order. */
static inline __m256i lows(__m256i a, __m256i b)
{
    const __m256 s = _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _MM_SHUFFLE(2, 0, 2, 0));
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

static inline void transform(__m256i w[4][4], float *z)
{
    for (int h = 0; h < 2; h++)
        for (int p = 0; p < 2; p++) { /* lanes 8 p .. 8 p + 7 of the 16 of rng.h: words 2 p, 2 p + 1 */
            const __m256i *a = w[2 * h], *b = w[2 * h + 1];
            const __m256 u1 = _mm256_mul_ps(_mm256_add_ps(u32_to_float(lows(a[2 * p], b[2 * p])), _mm256_set1_ps(0.5f)),
                                            _mm256_set1_ps(0x1p-32f));
            const __m256 rad = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), Sleef_logf8_u35avx2(u1)));
            const Sleef___m256_2 sc =
                Sleef_sincospif8_u35avx2(_mm256_mul_ps(u32_to_float(lows(a[2 * p + 1], b[2 * p + 1])), _mm256_set1_ps(0x1p-31f)));
            _mm256_storeu_ps(z + 32 * h + 8 * p, _mm256_mul_ps(rad, sc.y));
            _mm256_storeu_ps(z + 32 * h + 16 + 8 * p, _mm256_mul_ps(rad, sc.x));
        }
}

void rg_rng__groups_avx2(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    const rg_rng__addr32 ad = rg_rng__addr(r, traj, step);
    __m256i w[4][4];
    for (size_t g = 0; g < ng; g++) {
        philox_group(&ad, g0 + g, w);
        transform(w, z + g * RG_RNG_GROUP);
    }
}

#else /* not an x86-64 compiler with -mavx2 -mfma: never called (rg_rng__isa_best says so) */
void rg_rng__groups_avx2(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    rg_rng__groups_generic(r, traj, step, g0, ng, z);
}
#endif
