/* bench/train: nn training throughput (images/s, MNIST-shaped: 784 inputs, batch 128, MLP
 * 784-512-256-10) and score-network evaluation throughput (samples x steps / s, N = 784), each
 * against the machine's own sgemm rate measured in the same run (fraction of the sgemm peak the
 * training step achieves, counting 6 flops per parameter per image: forward 2, backward 4).
 * Usage: bench_train [threads] (default: OpenMP's choice). Inputs are synthetic (uniform pixels,
 * labels i mod 10); the figure is speed, not accuracy. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "regimes/error.h"
#include "regimes/nn.h"
#include "regimes/process.h"
#include "regimes/rng.h"

static double now(void) { return omp_get_wtime(); }

/* GFLOP/s of single-threaded sgemm (128 x 512 x 784, the first layer's shape), run on every thread. */
static double sgemm_rate(int threads)
{
    const int M = 128, N = 512, K = 784, reps = 40;
    double t0 = now();
#pragma omp parallel num_threads(threads)
    {
        float *A = calloc((size_t)M * K, 4), *B = calloc((size_t)N * K, 4), *C = calloc((size_t)M * N, 4);
        for (int r = 0; r < reps; r++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
        free(A); free(B); free(C);
    }
    return 2.0 * M * N * K * reps * threads / (now() - t0) / 1e9;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : omp_get_max_threads();
    if (threads < 1) threads = 1;
    omp_set_num_threads(threads);
    openblas_set_num_threads(1);
    const size_t P = 4096, N = 784;
    float *X = malloc(P * N * sizeof *X);
    int *lab = malloc(P * sizeof *lab);
    double *u = malloc(N * sizeof *u);
    for (size_t i = 0; i < P; i++) {
        rg_rng_uniforms((rg_rng){ 1, RG_STREAM_DATA }, i, 0, u, N);
        for (size_t j = 0; j < N; j++) X[i * N + j] = (float)u[j];
        lab[i] = (int)(i % 10);
    }
    double peak = sgemm_rate(threads);

    size_t wd[2] = { 512, 256 };
    rg_nn_arch a = rg_nn_classifier_arch(N, 10, 2, wd);
    rg_nn_model *m;
    rg_nn_trainer *tr;
    rg_nn_train_config c = rg_nn_train_defaults();
    rg_nn_data d = { .P = P, .X = X, .labels = lab };
    if (rg_nn_model_new(&a, 1, &m) || rg_nn_trainer_new(m, &c, &d, &tr)) {
        fprintf(stderr, "bench_train: %s\n", rg_strerror_last());
        return 1;
    }
    rg_nn_trainer_run(tr, 5, NULL); /* warm up */
    const size_t steps = 200;
    double t0 = now();
    rg_nn_trainer_run(tr, steps, NULL);
    double dt = now() - t0, ips = (double)(steps * c.batch) / dt;
    double gf = 6.0 * (double)rg_nn_model_nparams(m) * ips / 1e9;
    printf("threads %d: sgemm %.1f GFLOP/s (128x512x784, single-threaded BLAS per thread)\n", threads, peak);
    printf("classifier 784-512-256-10, batch 128: %.0f images/s, %.1f GFLOP/s = %.2f of sgemm\n", ips, gf, gf / peak);
    rg_nn_trainer_free(tr);
    rg_nn_model_free(m);

    /* score network: evaluation at one time, B = 256, as one reverse-SDE step would call it */
    size_t ws[2] = { 256, 256 };
    rg_nn_arch s = rg_nn_score_arch(N, 32, 2, ws);
    rg_process *p;
    rg_nn_work *w;
    if (rg_nn_model_new(&s, 1, &m) || rg_process_ou(N, &p) || rg_nn_work_new(m, 256, &w)) {
        fprintf(stderr, "bench_train: %s\n", rg_strerror_last());
        return 1;
    }
    float *S = malloc(256 * N * sizeof *S);
    const size_t evals = 200;
    t0 = now();
    for (size_t k = 0; k < evals; k++) rg_nn_score_eval(m, p, 0.5 + 0.001 * (double)k, 256, X, S, w);
    dt = now() - t0;
    double sps = (double)(evals * 256) / dt, sgf = 2.0 * (double)rg_nn_model_nparams(m) * sps / 1e9;
    printf("score net %zu-256-256-%zu (+32 time features), B = 256: %.0f sample-steps/s, %.1f GFLOP/s = %.2f of sgemm\n",
           N, N, sps, sgf, sgf / peak);
    free(S);
    rg_nn_work_free(w);
    rg_process_free(p);
    rg_nn_model_free(m);
    free(X); free(lab); free(u);
    return 0;
}
