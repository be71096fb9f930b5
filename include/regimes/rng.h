/* regimes rng: counter-based random numbers (Random123 Philox4x64-10), addressed, never advanced.
 *
 * A stream is a value {seed, stream}. Block b of (traj, step) is
 *     Philox4x64-10(counter = {traj, step, b, 0}, key = {seed, stream}), four 64-bit words;
 * uniform i is word i % 4 of block i / 4, normal i is computed from one word of block 8 (i / 64) + 0..7
 * (below). So any draw can be recomputed on its own: results are identical for any number of threads or
 * MPI ranks, whatever order trajectories are processed in (DESIGN.md, randomness).
 *
 * Uniforms are u01fixedpt_open_open_64_double of a word: (0.5 + (w >> 12)) 2^-52, strictly inside
 * (0, 1), so log(u) is finite.
 *
 * Normals (float Box-Muller, 8 per block). Normal i of (traj, step) belongs to group g = i / 64 (blocks
 * 8 g .. 8 g + 7); with q = i % 64, j = q % 16 it uses word w = 2 (q / 32) + j / 8 of block 8 g + j % 8:
 *     u1 = (fl(lo32(w)) + 1/2) 2^-32 in (0, 1],   a = fl(hi32(w)) 2^-31 in [0, 2],
 *     r = sqrt(-2 log u1),   z_i = r cos(pi a) if q % 32 < 16, else r sin(pi a)
 * (fl: rounded to the nearest float; each step one float rounding). So the 16 lanes of a vector hold
 * words of 8 blocks, and cos and sin of one pair land 16 apart. log and sincospi are SLEEF's u35
 * functions (error <= 3.5 ulp); the AVX-512F, AVX2 + FMA and portable paths give the same bits, so the
 * numbers do not depend on the machine either. |z| <= sqrt(66 log 2) = 6.76 (u1 >= 2^-33).
 * rg_rng_normals_naive computes the same transform in double from the same u1 and a (libm log, cos,
 * sin): the reference the fast path is tested against (relative difference <= 1e-6, rng tests).
 * Cost (bench/rng.c): about 0.7 ns per normal and core with AVX-512; one normal i alone costs a group.
 *
 * Known answer (Random123 kat_vectors): Philox4x64-10 of a zero counter and key is
 * 16554d9eca36314c db20fe9d672d0fdc d7e772cee186176b 7e68b68aec7ba23b.
 * Omitted on purpose: any generator state that advances; other distributions than the ones below.
 */
#ifndef REGIMES_RNG_H
#define REGIMES_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t seed;   /* the user's seed (recorded in meta.json) */
    uint64_t stream; /* one of RG_STREAM_*: keeps the draws of different purposes independent */
} rg_rng;

/* Streams: what a key's draws are used for. Values are part of the output format (same seed, same
 * numbers across versions), so they are never renumbered. */
enum {
    RG_STREAM_DATA = 1,      /* training sets drawn from a mixture (data.h) */
    RG_STREAM_FORWARD = 2,   /* forward samples z_t = M_t z_0 + L_t xi */
    RG_STREAM_PRIOR = 3,     /* initial states of the reverse process */
    RG_STREAM_REVERSE = 4,   /* reverse-process noise before a branch point (trunks) */
    RG_STREAM_CLONE_A = 5,   /* clone a after its branch point */
    RG_STREAM_CLONE_B = 6,   /* clone b after its branch point */
    RG_STREAM_BOOTSTRAP = 7, /* bootstrap resampling */
    RG_STREAM_MEASURE = 8,   /* Monte-Carlo estimators (entropy samples) */
    RG_STREAM_NN_INIT = 9,   /* network weight initialisation */
    RG_STREAM_NN_TRAIN = 10, /* minibatch order, training noise and times */
    RG_STREAM_PAIRS = 11     /* paired two-modality data sets */
};

/* The four 64-bit words of block `block` of (traj, step). */
void rg_rng_block(rg_rng r, uint64_t traj, uint64_t step, uint64_t block, uint64_t out[4]);

/* Uniform in (0, 1): draw i of (traj, step). */
double rg_rng_uniform(rg_rng r, uint64_t traj, uint64_t step, uint64_t i);
/* u[0 .. n) = draws 0 .. n-1 of (traj, step). */
void rg_rng_uniforms(rg_rng r, uint64_t traj, uint64_t step, double *u, size_t n);
/* Uniform integer in [0, n), n >= 1: floor(u n) of draw i, clamped to n - 1. */
uint64_t rg_rng_index(rg_rng r, uint64_t traj, uint64_t step, uint64_t i, uint64_t n);

/* Standard normals 0 .. n-1 of (traj, step), float, or the same floats widened to double. */
void rg_rng_normals(rg_rng r, uint64_t traj, uint64_t step, float *z, size_t n);
void rg_rng_normals_d(rg_rng r, uint64_t traj, uint64_t step, double *z, size_t n);
/* NAIVE reference: the transform above in double (libm) from the same uniforms, one normal at a time. */
void rg_rng_normals_naive(rg_rng r, uint64_t traj, uint64_t step, double *z, size_t n);

#endif
