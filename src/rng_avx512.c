/* The normal transform of rng.h on AVX-512F (this file alone is compiled with -mavx512f; rng.c calls it
 * only on a machine that has it). Eight Philox4x64-10 blocks per 512-bit vector, four independent
 * vectors in flight (one multiply chain alone waits on its latency), SLEEF's u35 logf and sincospif. */
#include "rng_internal.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>
#include <sleef.h>

/* hi:lo = a m for eight 64-bit lanes, from four 32 x 32 -> 64 products (no 64-bit high multiply in
 * AVX-512F): with p00 = a_lo m_lo, p01 = a_lo m_hi, p10 = a_hi m_lo, p11 = a_hi m_hi,
 * t = p01 + (p00 >> 32) and u = p10 + lo32(t) (neither can overflow: (2^32 - 1)^2 + 2^33 < 2^64),
 * hi = p11 + (t >> 32) + (u >> 32), lo = (u << 32) | lo32(p00). */
static inline void mulhilo(__m512i a, __m512i m_lo, __m512i m_hi, __m512i *lo, __m512i *hi)
{
    const __m512i mask = _mm512_set1_epi64(0xffffffffll);
    const __m512i ah = _mm512_srli_epi64(a, 32);
    const __m512i p00 = _mm512_mul_epu32(a, m_lo), p01 = _mm512_mul_epu32(a, m_hi);
    const __m512i p10 = _mm512_mul_epu32(ah, m_lo), p11 = _mm512_mul_epu32(ah, m_hi);
    const __m512i t = _mm512_add_epi64(p01, _mm512_srli_epi64(p00, 32));
    const __m512i u = _mm512_add_epi64(p10, _mm512_and_si512(t, mask));
    *hi = _mm512_add_epi64(_mm512_add_epi64(p11, _mm512_srli_epi64(t, 32)), _mm512_srli_epi64(u, 32));
    *lo = _mm512_ternarylogic_epi64(_mm512_slli_epi64(u, 32), p00, mask, 0xF8); /* a | (b & c) */
}

/* Philox4x64-10 of the blocks g 8 + 0..7 (lane l: block 8 g + l) for NV groups at once: w[v][j] is word j. */
#define NV_MAX 4
static inline void philox_groups(rg_rng r, uint64_t traj, uint64_t step, uint64_t g, int nv, __m512i w[NV_MAX][4])
{
    const __m512i m0l = _mm512_set1_epi64((long long)(RG_PHILOX_M0 & 0xffffffffull));
    const __m512i m0h = _mm512_set1_epi64((long long)(RG_PHILOX_M0 >> 32));
    const __m512i m1l = _mm512_set1_epi64((long long)(RG_PHILOX_M1 & 0xffffffffull));
    const __m512i m1h = _mm512_set1_epi64((long long)(RG_PHILOX_M1 >> 32));
    const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (int v = 0; v < nv; v++) {
        w[v][0] = _mm512_set1_epi64((long long)traj);
        w[v][1] = _mm512_set1_epi64((long long)step);
        w[v][2] = _mm512_add_epi64(_mm512_set1_epi64((long long)(8 * (g + (uint64_t)v))), lane);
        w[v][3] = _mm512_setzero_si512();
    }
    uint64_t k0 = r.seed, k1 = r.stream;
    for (int round = 0; round < 10; round++) {
        const __m512i K0 = _mm512_set1_epi64((long long)k0), K1 = _mm512_set1_epi64((long long)k1);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            __m512i lo0, hi0, lo1, hi1;
            mulhilo(w[v][0], m0l, m0h, &lo0, &hi0);
            mulhilo(w[v][2], m1l, m1h, &lo1, &hi1);
            w[v][0] = _mm512_ternarylogic_epi64(hi1, w[v][1], K0, 0x96); /* three-way xor */
            w[v][1] = lo1;
            w[v][2] = _mm512_ternarylogic_epi64(hi0, w[v][3], K1, 0x96);
            w[v][3] = lo0;
        }
        k0 += RG_PHILOX_W0;
        k1 += RG_PHILOX_W1;
    }
}

/* Box-Muller on the words of nv groups (rng.h): lanes 0-7 take word 2h, lanes 8-15 word 2h + 1 of the
 * group's eight blocks. In three sweeps over small stack arrays, so that nothing stays live across
 * the SLEEF calls (which clobber every vector register): uniforms, then log, then sincospi. */
static inline void transform(__m512i w[NV_MAX][4], int nv, float *z)
{
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    __m512 u1[2 * NV_MAX], a[2 * NV_MAX];
    const int n = 2 * nv;
    for (int v = 0; v < nv; v++)
        for (int h = 0; h < 2; h++) {
            const __m512i lo = _mm512_permutex2var_epi32(w[v][2 * h], even, w[v][2 * h + 1]);
            const __m512i hi = _mm512_permutex2var_epi32(w[v][2 * h], odd, w[v][2 * h + 1]);
            u1[2 * v + h] = _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepu32_ps(lo), _mm512_set1_ps(0.5f)), _mm512_set1_ps(0x1p-32f));
            a[2 * v + h] = _mm512_mul_ps(_mm512_cvtepu32_ps(hi), _mm512_set1_ps(0x1p-31f));
        }
    for (int i = 0; i < n; i++) u1[i] = Sleef_logf16_u35avx512f(u1[i]);
    for (int i = 0; i < n; i++) {
        const Sleef___m512_2 sc = Sleef_sincospif16_u35avx512f(a[i]);
        const __m512 rad = _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), u1[i]));
        float *zi = z + (size_t)(i / 2) * RG_RNG_GROUP + 32 * (i % 2);
        _mm512_storeu_ps(zi, _mm512_mul_ps(rad, sc.y));
        _mm512_storeu_ps(zi + 16, _mm512_mul_ps(rad, sc.x));
    }
}

void rg_rng__groups_avx512(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    __m512i w[NV_MAX][4];
    while (ng > 0) {
        const int nv = ng >= NV_MAX ? NV_MAX : (int)ng;
        philox_groups(r, traj, step, g0, nv, w);
        transform(w, nv, z);
        g0 += (uint64_t)nv, ng -= (size_t)nv, z += (size_t)nv * RG_RNG_GROUP;
    }
}

#else /* not an x86-64 compiler with -mavx512f: never called (rg_rng__isa_best says so) */
void rg_rng__groups_avx512(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    rg_rng__groups_generic(r, traj, step, g0, ng, z);
}
#endif
