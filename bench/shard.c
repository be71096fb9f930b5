/* bench_shard: the exact empirical score over a training set sharded across R ranks (docs/math.md 11.4,
 * docs/scale.md), strong and weak scaling, R = 1, 2, 4.
 *
 * The ranks are threads of this process joined by an in-process allgather (two barriers around a shared
 * buffer), so the bench needs no mpirun and measures the library's own work and waiting; under MPI the
 * hook adds the network. Synthetic ou data, float32, B = 64 queries (one lane block), t = 0.5.
 *   strong: P rows split over R ranks;   weak: P / 4 rows per rank (P R / 4 in all).
 * Per run: seconds per call, the score rate per rank as a fraction of the same-run single-thread
 * cblas_sgemm rate of the same two shapes (64 x N x P), the per-rank efficiency against R = 1
 * (strong: t_1 / (R t_R); weak: t_1 / t_R) and the communication share (time inside the allgather,
 * waiting included, over the call). With more ranks than cores (oversubscribed) the efficiency measures
 * the machine, not the method: compare at R <= cores.
 * Usage: bench_shard [--quick] [P N reps]   (defaults P = 200000, N = 3072; --quick: 20000 x 768). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "regimes/error.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/score.h"
#include "bench.h"

#define B 64
#define RMAX 4

typedef struct {
    pthread_barrier_t bar;
    int R;
    unsigned char *buf;
    size_t cap;
    double comm[RMAX]; /* seconds inside the hook, per rank */
} group;

typedef struct {
    group *g;
    int rank, reps, st;
    const rg_process *p;
    const float *X, *x;
    size_t P, N, lo, hi;
    double best;
} rank_ctx;

static int allgather(void *ctx, const void *send, void *recv, size_t bytes)
{
    rank_ctx *r = ctx;
    group *g = r->g;
    const double t0 = bench_now();
    if (bytes * (size_t)g->R > g->cap) return RG_EIO;
    memcpy(g->buf + (size_t)r->rank * bytes, send, bytes);
    pthread_barrier_wait(&g->bar);
    memcpy(recv, g->buf, bytes * (size_t)g->R);
    pthread_barrier_wait(&g->bar);
    g->comm[r->rank] += bench_now() - t0;
    return RG_OK;
}

static void *rank_run(void *arg)
{
    rank_ctx *r = arg;
    const rg_score_shard_comm c = { r->rank, r->g->R, allgather, r };
    rg_score_emp *e = NULL;
    float *s = malloc(B * r->N * sizeof *s);
    r->st = s ? rg_score_emp_new_shard(r->p, r->X + r->lo * r->N, r->hi - r->lo, r->lo, r->P, r->N, B, &c, &e) : RG_ENOMEM;
    if (r->st == RG_OK) r->st = rg_score_emp_prepare(e, 0.5);
    r->best = 1e300;
    for (int it = 0; it <= r->reps && r->st == RG_OK; it++) { /* iteration 0 warms up */
        pthread_barrier_wait(&r->g->bar);
        if (it == 1) r->g->comm[r->rank] = 0.0;
        const double t0 = bench_now();
        r->st = rg_score_emp_eval(e, 0.5, B, r->x, s, NULL);
        const double dt = bench_now() - t0;
        if (it > 0 && dt < r->best) r->best = dt;
    }
    rg_score_emp_free(e);
    free(s);
    return NULL;
}

/* One run of R ranks over P rows: the slowest rank's best time per call, the mean comm share. */
static int run(const rg_process *p, const float *X, const float *x, size_t P, size_t N, int R, int reps, double *t,
               double *share)
{
    group g = { .R = R, .cap = (size_t)64 << 20 };
    g.buf = malloc(g.cap);
    if (!g.buf || pthread_barrier_init(&g.bar, NULL, (unsigned)R)) return RG_ENOMEM;
    rank_ctx rc[RMAX];
    pthread_t th[RMAX];
    for (int q = 0; q < R; q++) {
        rc[q] = (rank_ctx){ .g = &g, .rank = q, .reps = reps, .p = p, .X = X, .x = x, .P = P, .N = N };
        rg_score_shard_rows(P, q, R, &rc[q].lo, &rc[q].hi);
        pthread_create(&th[q], NULL, rank_run, &rc[q]);
    }
    int st = RG_OK;
    *t = 0.0, *share = 0.0;
    for (int q = 0; q < R; q++) {
        pthread_join(th[q], NULL);
        if (rc[q].st != RG_OK) st = rc[q].st;
        if (rc[q].best > *t) *t = rc[q].best;
        *share += g.comm[q] / (double)reps / rc[q].best / (double)R;
    }
    pthread_barrier_destroy(&g.bar);
    free(g.buf);
    return st;
}

int main(int argc, char **argv)
{
    const int quick = argc > 1 && !strcmp(argv[1], "--quick"), a0 = quick ? 1 : 0;
    const size_t P = bench_arg(argc - a0, argv + a0, 1, quick ? 20000 : 200000);
    const size_t N = bench_arg(argc - a0, argv + a0, 2, quick ? 768 : 3072);
    const int reps = (int)bench_arg(argc - a0, argv + a0, 3, 3);
    const size_t Pw = P / 4 * RMAX; /* the weak runs' largest set */
    float *X = malloc((Pw > P ? Pw : P) * N * sizeof *X), *x = malloc(B * N * sizeof *x);
    float *G = malloc(B * P * sizeof *G), *Y = malloc(B * N * sizeof *Y);
    rg_process *p = NULL;
    if (!X || !x || !G || !Y || rg_process_ou(N, &p) != RG_OK) {
        fprintf(stderr, "bench_shard: setup failed (P = %zu, N = %zu)\n", P, N);
        return 1;
    }
    const rg_rng rng = { .seed = 1, .stream = RG_STREAM_DATA };
    for (size_t mu = 0; mu < (Pw > P ? Pw : P); mu++) rg_rng_normals(rng, mu, 0, X + mu * N, N);
    for (size_t b = 0; b < B; b++) rg_rng_normals(rng, (uint64_t)1 << 40 | b, 0, x + b * N, N);
    openblas_set_num_threads(1);
    double ref = 1e300; /* one rank's sgemm: the same two shapes, 64 x N x P */
    for (int it = 0; it <= reps; it++) {
        const double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, (int)P, (int)N, 1.0f, x, (int)N, X, (int)N, 0.0f, G, (int)P);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, (int)N, (int)P, 1e-4f, G, (int)P, X, (int)N, 0.0f, Y, (int)N);
        const double dt = bench_now() - t0;
        if (it > 0 && dt < ref) ref = dt;
    }
    const double flops = 4.0 * B * (double)P * (double)N;
    printf("sharded empirical score, ou, B = %d, P = %zu, N = %zu, float32, ranks as threads, best of %d\n", B, P, N, reps);
    printf("sgemm (1 thread, same shapes, P rows): %.4f s  %.1f GFLOP/s\n", ref, flops / ref * 1e-9);
    double t1[2] = { 0, 0 };
    for (int weak = 0; weak < 2; weak++)
        for (int R = 1; R <= RMAX; R *= 2) {
            const size_t PR = weak ? P / 4 * (size_t)R : P;
            double t, share;
            if (run(p, X, x, PR, N, R, reps, &t, &share) != RG_OK) {
                fprintf(stderr, "bench_shard: %s\n", rg_strerror_last());
                return 1;
            }
            if (R == 1) t1[weak] = t;
            const double fl = 4.0 * B * (double)PR * (double)N, eff = weak ? t1[1] / t : t1[0] / ((double)R * t);
            printf("%s R = %d  P = %7zu  %.4f s/call  rate per rank / sgemm %.3f  efficiency per rank %.3f  "
                   "comm share %.3f\n", weak ? "weak  " : "strong", R, PR, t, fl / t / (double)R / (flops / ref), eff,
                   share);
        }
    rg_process_free(p);
    free(X), free(x), free(G), free(Y);
    return 0;
}
