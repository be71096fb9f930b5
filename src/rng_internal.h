/* Private to the rng module: the normal transform of rng.h in three instruction-set paths that give
 * the same bits (AVX-512F, AVX2 + FMA, and portable C on SLEEF's scalar FMA functions), chosen at run
 * time, plus the Philox constants they share. Tests call the paths one by one (rg_rng__normals_isa). */
#ifndef REGIMES_RNG_INTERNAL_H
#define REGIMES_RNG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "regimes/rng.h"

/* Random123 philox.h: PHILOX_M4x64_0/1 (multipliers) and PHILOX_W64_0/1 (Weyl key increments). */
#define RG_PHILOX_M0 0xD2E7470EE14C6C93ull
#define RG_PHILOX_M1 0xCA5A826395121157ull
#define RG_PHILOX_W0 0x9E3779B97F4A7C15ull
#define RG_PHILOX_W1 0xBB67AE8584CAA73Bull

/* Random123 philox.h: PHILOX_M4x32_0/1 and PHILOX_W32_0/1, for the normals' Philox4x32-10. */
#define RG_PHILOX32_M0 0xD2511F53u
#define RG_PHILOX32_M1 0xCD9E8D57u
#define RG_PHILOX32_W0 0x9E3779B9u
#define RG_PHILOX32_W1 0xBB67AE85u

#define RG_RNG_GROUP 64 /* normals per group: 16 Philox4x32 blocks */

/* The normals' Philox4x32 counter words 1..3 and key of (traj, step) under {seed, stream} (rng.h):
 * counter {block, lo32(step) ^ hi32(step), lo32(traj), hi32(traj) ^ (stream << 24)}, key {lo32(seed),
 * hi32(seed)}. */
typedef struct {
    uint32_t c1, c2, c3, k0, k1;
} rg_rng__addr32;

static inline rg_rng__addr32 rg_rng__addr(rg_rng r, uint64_t traj, uint64_t step)
{
    const rg_rng__addr32 a = { (uint32_t)step ^ (uint32_t)(step >> 32), (uint32_t)traj,
                               (uint32_t)(traj >> 32) ^ ((uint32_t)r.stream << 24), (uint32_t)r.seed,
                               (uint32_t)(r.seed >> 32) };
    return a;
}

enum { RG_RNG_ISA_GENERIC = 0, RG_RNG_ISA_AVX2 = 1, RG_RNG_ISA_AVX512 = 2 };

/* z[0 .. 64 ng) = the normals of groups g0 .. g0 + ng - 1 of (traj, step) under {seed, stream}. */
void rg_rng__groups_generic(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z);
void rg_rng__groups_avx2(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z);
void rg_rng__groups_avx512(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z);

/* The two normals (cos, sin) of one word pair by the portable path: w = radius word | angle word << 32. */
void rg_rng__word_normals(uint64_t w, float *zc, float *zs);

/* The best path this machine runs (RG_RNG_ISA_*), and rg_rng_normals through a given one (<= best). */
int rg_rng__isa_best(void);
void rg_rng__normals_isa(int isa, rg_rng r, uint64_t traj, uint64_t step, float *z, size_t n);

#endif
