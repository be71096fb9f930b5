/* bench_score: the exact empirical score (docs/math.md 5.2, two GEMMs) against the machine's own sgemm.
 *
 * B = 256 queries, P = 10000 training points, d = 1024, float32, ou process, t = 0.5. One call costs
 * 4 B P d flops in its two GEMMs; the reference is the same two cblas_sgemm shapes timed alone in this
 * run (B x P x d with B^T, then B x d x P), so the ratio measures our overhead (whitening, distances,
 * softmax, extras-free) over the bare GEMMs. Sizes can be changed: bench_score [B P d reps].
 * Peak RSS (getrusage) is printed against the essential bytes: training set + B P weights + batch.
 * Last line: "ratio_to_sgemm: R". BLAS threads as the environment sets them (OPENBLAS_NUM_THREADS). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>
#include <cblas.h>
#include "regimes/error.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "bench.h"
#include "regimes/score.h"

int main(int argc, char **argv)
{
    const size_t B = bench_arg(argc, argv, 1, 256), P = bench_arg(argc, argv, 2, 10000), d = bench_arg(argc, argv, 3, 1024);
    const int reps = (int)bench_arg(argc, argv, 4, 5);
    const double t = 0.5, flops = 4.0 * (double)B * (double)P * (double)d;
    rg_process *p = NULL;
    rg_score_emp *e = NULL;
    float *X = malloc(P * d * sizeof *X), *x = malloc(B * d * sizeof *x), *s = malloc(B * d * sizeof *s);
    if (!X || !x || !s || rg_process_ou(d, &p) != 0) {
        fprintf(stderr, "bench_score: setup failed\n");
        return 1;
    }
    const rg_rng rng = { .seed = 1, .stream = RG_STREAM_DATA };
    for (size_t mu = 0; mu < P; mu++) rg_rng_normals(rng, mu, 0, X + mu * d, d);
    for (size_t b = 0; b < B; b++) rg_rng_normals(rng, P + b, 0, x + b * d, d);
    if (rg_score_emp_new(p, X, P, d, B, &e) != 0 || rg_score_emp_prepare(e, t) != 0) {
        fprintf(stderr, "bench_score: %s\n", rg_strerror_last());
        return 1;
    }
    /* sgemm reference with the same shapes (G = Y X^T, then W X), buffers of the same sizes */
    float *G = malloc(B * P * sizeof *G), *Y = malloc(B * d * sizeof *Y);
    if (!G || !Y) return 1;
    double best_ref = 1e300, best = 1e300;
    for (int it = 0; it <= reps; it++) { /* iteration 0 warms up */
        double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)P, (int)d, 1.0f, x, (int)d, X, (int)d, 0.0f,
                    G, (int)P);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)d, (int)P, 1e-4f, G, (int)P, X, (int)d,
                    0.0f, Y, (int)d);
        double t1 = bench_now();
        if (rg_score_emp_eval(e, t, B, x, s, NULL) != 0) {
            fprintf(stderr, "bench_score: %s\n", rg_strerror_last());
            return 1;
        }
        double t2 = bench_now();
        if (it > 0 && t1 - t0 < best_ref) best_ref = t1 - t0;
        if (it > 0 && t2 - t1 < best) best = t2 - t1;
    }
    free(G), free(Y);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double essential = (double)(P * d + B * P + 2 * B * d) * 4.0;
    printf("empirical score, ou, B = %zu, P = %zu, d = %zu, float32, best of %d\n", B, P, d, reps);
    printf("score:  %.4f s/call  %.1f GFLOP/s (4 B P d flops)\n", best, flops / best * 1e-9);
    printf("sgemm:  %.4f s/pair  %.1f GFLOP/s (same two GEMM shapes)\n", best_ref, flops / best_ref * 1e-9);
    printf("peak RSS: %.1f MiB (includes this program's copy of X and the reference buffers); essential "
           "(training + B P weights + batch) %.1f MiB\n",
           (double)ru.ru_maxrss / 1024.0, essential / 1048576.0);
    printf("ratio_to_sgemm: %.3f\n", best_ref / best);
    rg_score_emp_free(e);
    rg_process_free(p);
    free(X), free(x), free(s);
    return 0;
}
