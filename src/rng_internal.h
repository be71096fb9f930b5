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

#define RG_RNG_GROUP 64 /* normals per group: 8 Philox blocks */

enum { RG_RNG_ISA_GENERIC = 0, RG_RNG_ISA_AVX2 = 1, RG_RNG_ISA_AVX512 = 2 };

/* z[0 .. 64 ng) = the normals of groups g0 .. g0 + ng - 1 of (traj, step) under key {seed, stream}. */
void rg_rng__groups_generic(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z);
void rg_rng__groups_avx2(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z);
void rg_rng__groups_avx512(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z);

/* The two normals of one word (cos, sin) by the portable path. */
void rg_rng__word_normals(uint64_t w, float *zc, float *zs);

/* The best path this machine runs (RG_RNG_ISA_*), and rg_rng_normals through a given one (<= best). */
int rg_rng__isa_best(void);
void rg_rng__normals_isa(int isa, rg_rng r, uint64_t traj, uint64_t step, float *z, size_t n);

#endif
