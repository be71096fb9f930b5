/* Counter-based random numbers on Random123 Philox4x64-10 (see rng.h for the addressing). */
#include <math.h>

#include <Random123/philox.h>
#include <Random123/u01fixedpt.h>

#include "regimes/rng.h"

#define RNG_TWO_PI 6.283185307179586476925286766559

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

/* The four normals of block b (Box-Muller on the two pairs). */
static void normal_block(rg_rng r, uint64_t traj, uint64_t step, uint64_t b, double z[4])
{
    uint64_t w[4];
    rg_rng_block(r, traj, step, b, w);
    for (int j = 0; j < 4; j += 2) {
        double rad = sqrt(-2.0 * log(u01fixedpt_open_open_64_double(w[j])));
        double ang = RNG_TWO_PI * u01fixedpt_open_open_64_double(w[j + 1]);
        z[j] = rad * cos(ang);
        z[j + 1] = rad * sin(ang);
    }
}

void rg_rng_normals_d(rg_rng r, uint64_t traj, uint64_t step, double *z, size_t n)
{
    double q[4];
    size_t full = n / 4;
    for (size_t b = 0; b < full; b++) normal_block(r, traj, step, b, z + 4 * b);
    if (4 * full < n) {
        normal_block(r, traj, step, full, q);
        for (size_t j = 0; 4 * full + j < n; j++) z[4 * full + j] = q[j];
    }
}

void rg_rng_normals(rg_rng r, uint64_t traj, uint64_t step, float *z, size_t n)
{
    double q[4];
    for (size_t b = 0; 4 * b < n; b++) {
        normal_block(r, traj, step, b, q);
        for (size_t j = 0; j < 4 && 4 * b + j < n; j++) z[4 * b + j] = (float)q[j];
    }
}
