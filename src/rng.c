/* Counter-based random numbers on Random123 Philox4x64-10 (blocks, uniforms) and Philox4x32-10 (normals);
 * see rng.h for the addressing and the normal transform. The normals run through one of three paths with
 * the same bits (rng_internal.h). */
#include <math.h>
#include <string.h>

#include <Random123/philox.h>
#include <Random123/u01fixedpt.h>
#include <sleef.h>

#include "regimes/rng.h"
#include "rng_internal.h"

#define RNG_PI 3.14159265358979323846

/* SLEEF's scalar FMA functions give the bits of its AVX2 and AVX-512F ones; sleef.h declares them only
 * when the compiler targets FMA (FP_FAST_FMA), but they are in every x86-64 build of libsleef and run
 * wherever the CPU has FMA (checked before each use). */
#if defined(__x86_64__) && !defined(FP_FAST_FMA)
float Sleef_logf1_u35purecfma(float);
Sleef_float_2 Sleef_sincospif1_u35purecfma(float);
#endif

void rg_rng_block(rg_rng r, uint64_t traj, uint64_t step, uint64_t block, uint64_t out[4])
{
    philox4x64_ctr_t c = { { traj, step, block, 0 } };
    philox4x64_key_t k = { { r.seed, r.stream } };
    philox4x64_ctr_t y = philox4x64(c, k);
    for (int j = 0; j < 4; j++) out[j] = y.v[j];
}

double rg_rng_uniform(rg_rng r, uint64_t traj, uint64_t step, uint64_t i)
{
    uint64_t w[4];
    rg_rng_block(r, traj, step, i / 4, w);
    return u01fixedpt_open_open_64_double(w[i % 4]);
}

void rg_rng_uniforms(rg_rng r, uint64_t traj, uint64_t step, double *u, size_t n)
{
    uint64_t w[4];
    for (size_t b = 0; 4 * b < n; b++) {
        rg_rng_block(r, traj, step, b, w);
        for (size_t j = 0; j < 4 && 4 * b + j < n; j++) u[4 * b + j] = u01fixedpt_open_open_64_double(w[j]);
    }
}

uint64_t rg_rng_index(rg_rng r, uint64_t traj, uint64_t step, uint64_t i, uint64_t n)
{
    uint64_t k = (uint64_t)(rg_rng_uniform(r, traj, step, i) * (double)n);
    return k < n ? k : n - 1;
}

/* ---- normals ---------------------------------------------------------------------------------------- */

/* Where normal q of group g comes from (rng.h): Philox4x32 block 16 g + 8 (q / 32) + (q % 16) % 8, word
 * pair (q % 16) / 8 (radius word 2 p, angle word 2 p + 1); cos for (q % 32) < 16, sin otherwise. */
static void normal_source(size_t q, size_t *block, size_t *pair, int *is_sin)
{
    const size_t j = q % 16;
    *block = 8 * (q / 32) + j % 8;
    *pair = j / 8;
    *is_sin = (q % 32) >= 16;
}

/* The four 32-bit words of the normals' Philox4x32-10 block `block` of an address. */
static void block32(const rg_rng__addr32 *a, uint64_t block, uint32_t out[4])
{
    philox4x32_ctr_t c = { { (uint32_t)block, a->c1, a->c2, a->c3 } };
    philox4x32_key_t k = { { a->k0, a->k1 } };
    philox4x32_ctr_t y = philox4x32(c, k);
    for (int j = 0; j < 4; j++) out[j] = y.v[j];
}

/* The float uniforms of a word: radius u1 = (fl(lo32) + 1/2) 2^-32 in (0, 1], angle a = fl(hi32) 2^-31 in
 * [0, 2] (in units of pi). Every operation is exact or one IEEE float rounding. */
static void word_uniforms(uint64_t w, float *u1, float *a)
{
    *u1 = ((float)(uint32_t)w + 0.5f) * 0x1p-32f;
    *a = (float)(uint32_t)(w >> 32) * 0x1p-31f;
}

/* 1 if the scalar FMA functions can run here. */
static int have_fma(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* log u1 and (sin, cos)(pi a): SLEEF's scalar FMA functions where the CPU has FMA (the vector paths'
 * bits), else its plain C ones (the same to 3.5 ulp, and bit for bit in most draws). */
static float log_u35(float x, int fma)
{
#if defined(__x86_64__)
    if (fma) return Sleef_logf1_u35purecfma(x);
#endif
    (void)fma;
    return Sleef_logf1_u35purec(x);
}

static Sleef_float_2 sincospi_u35(float x, int fma)
{
#if defined(__x86_64__)
    if (fma) return Sleef_sincospif1_u35purecfma(x);
#endif
    (void)fma;
    return Sleef_sincospif1_u35purec(x);
}

static void word_normals(uint64_t w, int fma, float *zc, float *zs)
{
    float u1, a;
    word_uniforms(w, &u1, &a);
    const float rad = sqrtf(-2.0f * log_u35(u1, fma));
    const Sleef_float_2 sc = sincospi_u35(a, fma); /* x = sin, y = cos */
    *zc = rad * sc.y;
    *zs = rad * sc.x;
}

void rg_rng__word_normals(uint64_t w, float *zc, float *zs) { word_normals(w, have_fma(), zc, zs); }

void rg_rng__groups_generic(rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    const int fma = have_fma();
    const rg_rng__addr32 ad = rg_rng__addr(r, traj, step);
    uint32_t w[4];
    for (size_t g = 0; g < ng; g++)
        for (size_t b = 0; b < 16; b++) {
            block32(&ad, 16 * (g0 + g) + b, w);
            for (size_t p = 0; p < 2; p++) { /* pair p of block b: lane 8 p + b % 8 of half b / 8 */
                float *zg = z + g * RG_RNG_GROUP + 32 * (b / 8) + 8 * p + b % 8;
                word_normals(w[2 * p] | (uint64_t)w[2 * p + 1] << 32, fma, zg, zg + 16);
            }
        }
}

int rg_rng__isa_best(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) return RG_RNG_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RG_RNG_ISA_AVX2;
#endif
    return RG_RNG_ISA_GENERIC;
}

static void groups(int isa, rg_rng r, uint64_t traj, uint64_t step, uint64_t g0, size_t ng, float *z)
{
    if (isa == RG_RNG_ISA_AVX512) rg_rng__groups_avx512(r, traj, step, g0, ng, z);
    else if (isa == RG_RNG_ISA_AVX2) rg_rng__groups_avx2(r, traj, step, g0, ng, z);
    else rg_rng__groups_generic(r, traj, step, g0, ng, z);
}

void rg_rng__normals_isa(int isa, rg_rng r, uint64_t traj, uint64_t step, float *z, size_t n)
{
    const size_t full = n / RG_RNG_GROUP, rest = n % RG_RNG_GROUP;
    groups(isa, r, traj, step, 0, full, z);
    if (rest) {
        float q[RG_RNG_GROUP];
        groups(isa, r, traj, step, full, 1, q);
        memcpy(z + full * RG_RNG_GROUP, q, rest * sizeof *q);
    }
}

void rg_rng_normals(rg_rng r, uint64_t traj, uint64_t step, float *z, size_t n)
{
    rg_rng__normals_isa(rg_rng__isa_best(), r, traj, step, z, n);
}

void rg_rng_normals_d(rg_rng r, uint64_t traj, uint64_t step, double *z, size_t n)
{
    enum { CHUNK = 4 * RG_RNG_GROUP };
    float q[CHUNK];
    const int isa = rg_rng__isa_best();
    for (size_t i = 0; i < n; i += CHUNK) {
        const size_t m = n - i < CHUNK ? n - i : CHUNK, ng = (m + RG_RNG_GROUP - 1) / RG_RNG_GROUP;
        groups(isa, r, traj, step, i / RG_RNG_GROUP, ng, q);
        for (size_t j = 0; j < m; j++) z[i + j] = (double)q[j];
    }
}

void rg_rng_normals_naive(rg_rng r, uint64_t traj, uint64_t step, double *z, size_t n)
{
    const rg_rng__addr32 ad = rg_rng__addr(r, traj, step);
    for (size_t i = 0; i < n; i++) {
        size_t b, p;
        int is_sin;
        float u1, a;
        uint32_t w[4];
        normal_source(i % RG_RNG_GROUP, &b, &p, &is_sin);
        block32(&ad, 16 * (i / RG_RNG_GROUP) + b, w);
        word_uniforms(w[2 * p] | (uint64_t)w[2 * p + 1] << 32, &u1, &a);
        const double rad = sqrt(-2.0 * log((double)u1)), ang = RNG_PI * (double)a;
        z[i] = rad * (is_sin ? sin(ang) : cos(ang));
    }
}
