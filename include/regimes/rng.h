/* regimes rng: counter-based random numbers (Random123 Philox4x64-10 and Philox4x32-10), addressed, never
 * advanced.
 *
 * A stream is a value {seed, stream}. Block b of (traj, step) is
 *     Philox4x64-10(counter = {traj, step, b, 0}, key = {seed, stream}), four 64-bit words;
 * uniform i is word i % 4 of block i / 4. Normals come from Philox4x32-10, whose 32-bit multiplies
 * vectorise twice as well (below). So any draw can be recomputed on its own: results are identical for
 * any number of threads or MPI ranks, whatever order trajectories are processed in (DESIGN.md, randomness).
 *
 * Uniforms are u01fixedpt_open_open_64_double of a word: (0.5 + (w >> 12)) 2^-52, strictly inside
 * (0, 1), so log(u) is finite.
 *
 * Normals (float Box-Muller, 4 per block). Block b of the normals of (traj, step) under {seed, stream} is
 *     Philox4x32-10(counter = {lo(b), lo(step) ^ hi(step), lo(traj), hi(traj) ^ (stream << 24)},
 *                   key = {lo(seed), hi(seed)})      (lo, hi: the low and high 32 bits),
 * four 32-bit words: one-to-one in (stream, traj, step, b) for stream < 256, traj < 2^56, step < 2^32 and
 * b < 2^32 (n < 2^34 normals per row), far beyond any run (a trajectory's index is at most 2^32 times
 * the number of branch times); outside that range the addresses fold onto each other.
 * Normal i belongs to group g = i / 64 (blocks 16 g .. 16 g + 15); with q = i % 64, j = q % 16 it uses
 * block 16 g + 8 (q / 32) + j % 8 and its word pair p = j / 8, radius word x = word 2 p, angle word
 * y = word 2 p + 1:
 *     u1 = (fl(x) + 1/2) 2^-32 in (0, 1],   a = fl(y) 2^-31 in [0, 2],
 *     r = sqrt(-2 log u1),   z_i = r cos(pi a) if q % 32 < 16, else r sin(pi a)
 * (fl: rounded to the nearest float; each step one float rounding). So the 16 lanes of a vector hold
 * word pairs of 8 blocks, and cos and sin of one pair land 16 apart. log and sincospi are SLEEF's u35
 * functions (error <= 3.5 ulp); the AVX-512F, AVX2 + FMA and portable paths give the same bits, so the
 * numbers do not depend on the machine either. |z| <= sqrt(66 log 2) = 6.76 (u1 >= 2^-33).
 * rg_rng_normals_naive computes the same transform in double from the same u1 and a (libm log, cos,
 * sin): the reference the fast path is tested against (relative difference <= 1e-6, rng tests).
 * Cost (bench/rng.c): about 0.5 ns per normal and core with AVX-512 (Philox4x32-10 about 0.25 ns,
 * SLEEF's log and sincospi the rest); one normal i alone costs a group.
 *
 * Known answers (Random123 kat_vectors): Philox4x64-10 of a zero counter and key is
 * 16554d9eca36314c db20fe9d672d0fdc d7e772cee186176b 7e68b68aec7ba23b; Philox4x32-10 of a zero counter
 * and key is 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
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
