/* bench_rng: standard normals per second on one core (rng.h), against the scalar double Box-Muller on
 * the same Philox blocks timed in the same run (the transform regimes used before the vector one: one
 * block per 4 normals, libm log, sqrt, cos and sin in double) and against rg_rng_normals_naive.
 *
 * Rows of d normals (default 256, the parent's dimension) for (traj, step) = (i, rep): the sampler's
 * access pattern. Each figure is the best of `reps` rounds of `rows` rows (default 20000 x 7), the
 * three interleaved so that a change in the machine's load hits all of them.
 * Output: "normals_per_s_per_core: X" and "ratio_to_scalar_double: R". bench_rng [d rows reps] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "regimes/rng.h"
#include "bench.h"

/* The former transform: normals 4 b .. 4 b + 3 from block b, u = (0.5 + (w >> 12)) 2^-52 in double. */
static void scalar_double(rg_rng r, uint64_t traj, uint64_t step, float *z, size_t n)
{
    uint64_t w[4];
    for (size_t b = 0; 4 * b < n; b++) {
        rg_rng_block(r, traj, step, b, w);
        for (size_t j = 0; j < 4 && 4 * b + j < n; j += 2) {
            const double u1 = (0.5 + (double)(w[j] >> 12)) * 0x1p-52, u2 = (0.5 + (double)(w[j + 1] >> 12)) * 0x1p-52;
            const double rad = sqrt(-2.0 * log(u1)), ang = 6.283185307179586 * u2;
            z[4 * b + j] = (float)(rad * cos(ang));
            if (4 * b + j + 1 < n) z[4 * b + j + 1] = (float)(rad * sin(ang));
        }
    }
}

int main(int argc, char **argv)
{
    const size_t d = bench_arg(argc, argv, 1, 256), rows = bench_arg(argc, argv, 2, 20000);
    const int reps = (int)bench_arg(argc, argv, 3, 7);
    float *z = malloc(d * sizeof *z);
    double *zd = malloc(d * sizeof *zd);
    if (!z || !zd || d == 0 || rows == 0) {
        fprintf(stderr, "bench_rng: bad sizes or out of memory\n");
        return 1;
    }
    const rg_rng r = { 1, RG_STREAM_REVERSE };
    double best[3] = { INFINITY, INFINITY, INFINITY }, sink = 0.0;
    for (int it = 0; it <= reps; it++) { /* round 0 warms up */
        double t[4];
        t[0] = bench_now();
        for (size_t i = 0; i < rows; i++) rg_rng_normals(r, i, (uint64_t)it, z, d), sink += (double)z[d - 1];
        t[1] = bench_now();
        for (size_t i = 0; i < rows; i++) scalar_double(r, i, (uint64_t)it, z, d), sink += (double)z[d - 1];
        t[2] = bench_now();
        for (size_t i = 0; i < rows / 8 + 1; i++) rg_rng_normals_naive(r, i, (uint64_t)it, zd, d), sink += zd[d - 1];
        t[3] = bench_now();
        if (it == 0) continue;
        const double n = (double)rows * (double)d;
        best[0] = fmin(best[0], (t[1] - t[0]) / n);
        best[1] = fmin(best[1], (t[2] - t[1]) / n);
        best[2] = fmin(best[2], (t[3] - t[2]) / ((double)(rows / 8 + 1) * (double)d));
    }
    printf("bench_rng: d = %zu, %zu rows, best of %d rounds (checksum %.6g)\n", d, rows, reps, sink);
    printf("  rg_rng_normals (float Box-Muller, vector)   %7.3f ns/normal\n", 1e9 * best[0]);
    printf("  scalar double Box-Muller (the former one)   %7.3f ns/normal\n", 1e9 * best[1]);
    printf("  rg_rng_normals_naive (double, reference)    %7.3f ns/normal\n", 1e9 * best[2]);
    printf("normals_per_s_per_core: %.4g\n", 1.0 / best[0]);
    printf("ratio_to_scalar_double: %.2f\n", best[1] / best[0]);
    free(z);
    free(zd);
    return 0;
}
