/* The normal transform of rng.h on AVX-512F (this file alone is compiled with -mavx512f; rng.c calls it
 * only on a machine that has it). Philox4x32-10 on eight blocks per set of four 512-bit vectors, one
 * 32-bit word in the low half of each 64-bit lane, so that one vpmuludq gives eight full 32 x 32 -> 64
 * products (the high halves of the lanes carry garbage that no multiply reads and the final permute
 * drops); four sets (two groups) in flight against the multiplier's latency; SLEEF's u35 logf and
 * sincospif. */
#include "rng_internal.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>
#include <sleef.h>

#define NS_MAX 4 /* sets of eight blocks (half groups) per batch */

/* Philox4x32-10 of the blocks 8 s0 + 8 s + 0..7 for s < ns (set s: half s % 2 of group s0 / 2 + s / 2;
 * lane l: block 8 (s0 + s) + l): w[s][j] holds word j in the low halves of its 64-bit lanes. */
static inline __attribute__((always_inline)) void philox_sets(const rg_rng__addr32 *ad, uint64_t s0, int ns, __m512i w[NS_MAX][4])
{
    const __m512i m0 = _mm512_set1_epi64(RG_PHILOX32_M0), m1 = _mm512_set1_epi64(RG_PHILOX32_M1);
    const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (int v = 0; v < ns; v++) {
        w[v][0] = _mm512_add_epi64(_mm512_set1_epi64((long long)(uint32_t)(8 * (s0 + (uint64_t)v))), lane);
        w[v][1] = _mm512_set1_epi64(ad->c1);
        w[v][2] = _mm512_set1_epi64(ad->c2);
        w[v][3] = _mm512_set1_epi64(ad->c3);
    }
    uint32_t k0 = ad->k0, k1 = ad->k1;
#pragma GCC unroll 10
    for (int round = 0; round < 10; round++) {
        const __m512i K0 = _mm512_set1_epi64(k0), K1 = _mm512_set1_epi64(k1);
#pragma GCC unroll 4
        for (int v = 0; v < ns; v++) {
            const __m512i p0 = _mm512_mul_epu32(w[v][0], m0), p1 = _mm512_mul_epu32(w[v][2], m1);
            w[v][0] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), w[v][1], K0, 0x96); /* three-way xor */
            w[v][1] = p1;
            w[v][2] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), w[v][3], K1, 0x96);
            w[v][3] = p0;
        }
        k0 += RG_PHILOX32_W0;
        k1 += RG_PHILOX32_W1;
    }
}

/* Box-Muller on the word pairs of ns sets (rng.h): lanes 0-7 take the pair (word 0, word 1), lanes 8-15
 * the pair (word 2, word 3) of the set's eight blocks. In three sweeps over small stack arrays, so that
 * nothing stays live across the SLEEF calls (which clobber every vector register): uniforms, then log,
 * then the radii, then sincospi. */
static inline __attribute__((always_inline)) void transform(__m512i w[NS_MAX][4], int ns, float *z)
{
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    __m512 u1[NS_MAX], a[NS_MAX];
    for (int v = 0; v < ns; v++) {
        const __m512i lo = _mm512_permutex2var_epi32(w[v][0], even, w[v][2]);
        const __m512i hi = _mm512_permutex2var_epi32(w[v][1], even, w[v][3]);
        u1[v] = _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepu32_ps(lo), _mm512_set1_ps(0.5f)), _mm512_set1_ps(0x1p-32f));
        a[v] = _mm512_mul_ps(_mm512_cvtepu32_ps(hi), _mm512_set1_ps(0x1p-31f));
    }
    for (int v = 0; v < ns; v++) u1[v] = Sleef_logf16_u35avx512f(u1[v]);
    for (int v = 0; v < ns; v++) /* the radii in one sweep: the square roots' latencies overlap */
        u1[v] = _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), u1[v]));
    for (int v = 0; v < ns; v++) {
        const Sleef___m512_2 sc = Sleef_sincospif16_u35avx512f(a[v]);
        _mm512_storeu_ps(z + 32 * v, _mm512_mul_ps(u1[v], sc.y));
        _mm512_storeu_ps(z + 32 * v + 16, _mm512_mul_ps(u1[v], sc.x));
    }
}

void rg_rng__groups_avx512(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    const rg_rng__addr32 ad = rg_rng__addr(r, traj, step);
    __m512i w[NS_MAX][4];
    size_t ns_left = 2 * ng;
    uint64_t s0 = 2 * g0;
    while (ns_left > 0) {
        const int ns = ns_left >= NS_MAX ? NS_MAX : 2; /* a constant to each call: w stays in registers */
        if (ns == NS_MAX) philox_sets(&ad, s0, NS_MAX, w), transform(w, NS_MAX, z);
        else philox_sets(&ad, s0, 2, w), transform(w, 2, z);
        s0 += (uint64_t)ns, ns_left -= (size_t)ns, z += (size_t)ns * 32;
    }
}

#else /* not an x86-64 compiler with -mavx512f: never called (rg_rng__isa_best says so) */
void rg_rng__groups_avx512(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    rg_rng__groups_generic(r, traj, step, g0, ng, z);
}
#endif
