/* bench/train: nn training throughput (images/s, MNIST-shaped: 784 inputs, batch 128: the
 * classifier 784-512-256-10 and the score network 784-256-256-784 on DSM pairs under OU) and
 * score-network sampling throughput (samples x steps / s: rg_sampler_run, exponential integrator,
 * OU, N = 784, 256 samples x 50 steps), each against the machine's own sgemm rate measured in the
 * same run (fraction of the sgemm peak, counting 6 flops per parameter per training image: forward
 * 2, backward 4, and 2 per parameter per score evaluation).
 * Usage: bench_train [threads [MNIST_DIR [epochs]]] (default: OpenMP's choice). Inputs are synthetic
 * (uniform pixels, labels i mod 10); the figure is speed, not accuracy.
 * With MNIST_DIR (the four uncompressed idx files of docs/math.md 10.1), it then trains the documented
 * classifier 784-1024-1024-10 (pixels / 255, batch 128, Adam 1e-3, warmup 500 + cosine, seed 1) for
 * `epochs` (default 20) and prints the test accuracy: the manual check of the 98.5% target. The idx
 * reader here is a bench-only helper, not a library reader (that is the mnist module's job). */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "regimes/error.h"
#include "regimes/nn.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/sampler.h"
#include "regimes/score.h"

static double now(void) { return omp_get_wtime(); }

/* Big-endian idx file: magic 2051 (images, 28 x 28) or 2049 (labels); returns the count or 0. */
static size_t read_idx(const char *dir, const char *name, int images, unsigned char **data)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    unsigned char h[16];
    size_t hl = images ? 16 : 8, n = 0;
    if (!f) return 0;
    if (fread(h, 1, hl, f) == hl) {
        unsigned magic = (unsigned)h[0] << 24 | (unsigned)h[1] << 16 | (unsigned)h[2] << 8 | h[3];
        n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
        size_t each = images ? 784 : 1;
        if (magic != (images ? 2051u : 2049u) || (images && (h[11] != 28 || h[15] != 28)) || n == 0 ||
            !(*data = malloc(n * each)) || fread(*data, each, n, f) != n || fgetc(f) != EOF)
            n = 0;
    }
    fclose(f);
    return n;
}

static int mnist_run(const char *dir, size_t epochs)
{
    unsigned char *tx = NULL, *ty = NULL, *vx = NULL, *vy = NULL;
    size_t P = read_idx(dir, "train-images-idx3-ubyte", 1, &tx), Pl = read_idx(dir, "train-labels-idx1-ubyte", 0, &ty);
    size_t T = read_idx(dir, "t10k-images-idx3-ubyte", 1, &vx), Tl = read_idx(dir, "t10k-labels-idx1-ubyte", 0, &vy);
    if (!P || P != Pl || !T || T != Tl) {
        fprintf(stderr, "bench_train: cannot read the four idx files in %s\n", dir);
        return 1;
    }
    float *X = malloc(P * 784 * sizeof *X), *V = malloc(T * 784 * sizeof *V);
    int *y = malloc(P * sizeof *y), *v = malloc(T * sizeof *v);
    for (size_t i = 0; i < P * 784; i++) X[i] = (float)tx[i] / 255.0f;
    for (size_t i = 0; i < T * 784; i++) V[i] = (float)vx[i] / 255.0f;
    for (size_t i = 0; i < P; i++) y[i] = ty[i];
    for (size_t i = 0; i < T; i++) v[i] = vy[i];
    size_t wd[2] = { 1024, 1024 };
    rg_nn_arch a = rg_nn_classifier_arch(784, 10, 2, wd);
    rg_nn_model *m;
    rg_nn_trainer *tr;
    rg_nn_work *w;
    rg_nn_train_config c = rg_nn_train_defaults();
    c.epochs = epochs;
    c.warmup = 500;
    rg_nn_data d = { .P = P, .X = X, .labels = y };
    if (rg_nn_model_new(&a, 1, &m) || rg_nn_trainer_new(m, &c, &d, &tr) || rg_nn_work_new(m, 500, &w)) {
        fprintf(stderr, "bench_train: %s\n", rg_strerror_last());
        return 1;
    }
    const size_t per = (size_t)rg_nn_trainer_steps_total(tr) / epochs;
    double t0 = now();
    for (size_t e = 0; e < epochs; e++) {
        double loss, acc;
        rg_nn_trainer_run(tr, per, &loss);
        rg_nn_classifier_accuracy(m, T, V, v, w, &acc);
        printf("mnist epoch %zu: train loss %.4f, test accuracy %.4f (%.0f s)\n", e + 1, loss, acc, now() - t0);
        fflush(stdout);
    }
    rg_nn_work_free(w);
    rg_nn_trainer_free(tr);
    rg_nn_model_free(m);
    free(X); free(V); free(y); free(v); free(tx); free(ty); free(vx); free(vy);
    return 0;
}


/* The score network behind the sampler's interface (as cli/model.c does): one rg_nn_work per thread. */
typedef struct { const rg_nn_model *m; const rg_process *p; } net_ctx;
static void *net_ws_new(void *ctx, size_t B_max)
{
    rg_nn_work *w = NULL;
    return rg_nn_work_new(((const net_ctx *)ctx)->m, B_max, &w) == RG_OK ? w : NULL;
}
static void net_ws_free(void *ws) { rg_nn_work_free(ws); }
static int net_eval(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *e)
{
    const net_ctx *c = ctx;
    (void)e;
    return rg_nn_score_eval(c->m, c->p, t, B, x, s, ws);
}

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

    /* score network: DSM training under OU, then sampling with rg_sampler_run */
    size_t ws[2] = { 256, 256 };
    rg_nn_arch s = rg_nn_score_arch(N, 32, 2, ws);
    rg_process *p;
    if (rg_nn_model_new(&s, 1, &m) || rg_process_ou(N, &p)) {
        fprintf(stderr, "bench_train: %s\n", rg_strerror_last());
        return 1;
    }
    rg_nn_data ds = { .P = P, .X = X, .process = p };
    if (rg_nn_trainer_new(m, &c, &ds, &tr)) {
        fprintf(stderr, "bench_train: %s\n", rg_strerror_last());
        return 1;
    }
    rg_nn_trainer_run(tr, 5, NULL);
    t0 = now();
    rg_nn_trainer_run(tr, steps, NULL);
    dt = now() - t0;
    double sips = (double)(steps * c.batch) / dt, stf = 6.0 * (double)rg_nn_model_nparams(m) * sips / 1e9;
    printf("score net %zu-256-256-%zu (+32 time features), batch 128, DSM under OU: %.0f images/s, %.1f GFLOP/s = %.2f of sgemm\n",
           N, N, sips, stf, stf / peak);
    rg_nn_trainer_free(tr);
    const size_t n_samp = 256, K = 50;
    double *grid = malloc(rg_sampler_grid_size(RG_GRID_GEOMETRIC, K, 0) * sizeof *grid);
    float *S = malloc(n_samp * N * sizeof *S);
    size_t n_grid = 0;
    net_ctx nc = { m, p };
    rg_sampler_cfg cfg = { .proc = p, .score = { NULL, net_eval, net_ws_new, net_ws_free, &nc, 0 },
                           .method = RG_SAMPLER_EXP, .seed = 1 };
    if (rg_sampler_grid(RG_GRID_GEOMETRIC, 5.0, 1e-3, K, NULL, 0, grid, &n_grid)) {
        fprintf(stderr, "bench_train: %s\n", rg_strerror_last());
        return 1;
    }
    cfg.grid = grid;
    cfg.n_grid = n_grid;
    t0 = now();
    if (rg_sampler_run(&cfg, n_samp, 0, S)) {
        fprintf(stderr, "bench_train: %s\n", rg_strerror_last());
        return 1;
    }
    dt = now() - t0;
    double sps = (double)(n_samp * (n_grid - 1)) / dt, sgf = 2.0 * (double)rg_nn_model_nparams(m) * sps / 1e9;
    printf("score-network sampling (exp integrator, OU, %zu samples x %zu steps): %.0f samples*steps/s, %.1f GFLOP/s = %.2f of sgemm\n",
           n_samp, n_grid - 1, sps, sgf, sgf / peak);
    free(S);
    free(grid);
    rg_process_free(p);
    rg_nn_model_free(m);
    free(X); free(lab); free(u);
    if (argc > 2) return mnist_run(argv[2], argc > 3 && atoi(argv[3]) > 0 ? (size_t)atoi(argv[3]) : 20);
    return 0;
}
