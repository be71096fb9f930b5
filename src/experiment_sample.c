/* Sampling experiment (experiment.h): reverse trajectories with any score, the class fractions of the
 * final samples, and the memorisation measures of docs/math.md 8.2 c, d against a training set. */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "regimes/experiment.h"
#include "regimes/measure.h"
#include "experiment_internal.h"
#include "internal.h"

#define MEM_RATIO (1.0 / 3.0) /* docs/math.md 8.2 d */
#define MEM_CH 64             /* rows per chunk of the denoiser pass (fixed: thread-count free) */

const char *rg_exp_sample_check(const rg_exp_sample_cfg *c)
{
    if (!c || !c->run.proc || !c->run.grid || c->run.n_grid < 2 || !c->run.score.eval)
        return "NULL process, grid or score";
    if (c->lab && (!c->lab->label || c->lab->n_modes == 0 || c->lab->n_classes < 2)) return "unusable labeller";
    if (c->n_rec && (!c->rec_t || !c->train)) return "record times need rec_t and a training set";
    if (c->train && c->P < 2) return "the training set needs at least 2 points (nearest and second nearest)";
    if (c->train && c->shard && (c->shard->size < 1 || !c->shard->allgather || c->row_lo + c->rows > c->P ||
                                 c->row_lo % RG_MEASURE_NEAREST_BLOCK))
        return "a sharded training set needs an allgather and rows [row_lo, row_lo + rows) inside P, on a 4096-row block";
    const double end = c->run.grid[c->run.n_grid - 1];
    for (size_t j = 0; j < c->n_rec; j++) {
        if (!(c->rec_t[j] > end) || !(c->rec_t[j] <= c->run.grid[0])) return "a record time lies outside (end, T]";
        if (j && !(c->rec_t[j] < c->rec_t[j - 1])) return "record times must decrease";
    }
    return NULL;
}

void rg_exp_sample_result_free(rg_exp_sample_result *r)
{
    if (!r) return;
    free(r->x), free(r->class_frac), free(r->rec_t), free(r->mem), free(r->mem_lo), free(r->mem_hi);
    free(r->last_switch), free(r->on_final);
    memset(r, 0, sizeof *r);
}

/* ---- recording ---------------------------------------------------------------------------------------- */
typedef struct {
    size_t n_rec, ns, N, W;
    const double *rec;
    float *snap; /* (n_rec, ns, N) */
    int *near;   /* (ns, W): the score's nearest point (kernel metric) at each record time, -1 without */
} rec_ctx;

static int observe(void *ctx, const rg_sampler_record *r)
{
    rec_ctx *c = ctx;
    for (size_t j = 0; j < c->n_rec; j++) {
        if (c->rec[j] != r->t) continue;
        memcpy(c->snap + j * c->ns * c->N, r->x, c->ns * c->N * sizeof *r->x);
        for (size_t b = 0; b < c->ns; b++) c->near[b * c->W + j] = r->nearest ? r->nearest[b] : -1;
    }
    return RG_OK;
}

/* ---- memorised flags ------------------------------------------------------------------------------------ */
/* Nearest and second-nearest training points of b <= MEM_CH rows x0: over this rank's rows, then with a
 * shard group the exact fold of every rank's minima in rank order (rg_measure_nearest2_fold): the same
 * idx, d1, d2 as unsharded. ex: 6 MEM_CH doubles (the exchange), times the group size. */
static int nearest2(const rg_exp_sample_cfg *c, size_t b, const float *x0, const double *xn, size_t N, int *idx,
                    float *d1, float *d2, float *work, double *ex)
{
    double best[MEM_CH], second[MEM_CH];
    for (size_t q = 0; q < b; q++) best[q] = second[q] = DBL_MAX, idx[q] = -1;
    const size_t rows = c->shard ? c->rows : c->P, lo = c->shard ? c->row_lo : 0;
    int e = rg_measure_nearest2_update(b, x0, rows, c->train, xn, N, lo, idx, best, second, work);
    if (e == RG_OK && c->shard && c->shard->size > 1) {
        const rg_score_shard_comm *g = c->shard;
        double *snd = ex, *rcv = ex + 3 * MEM_CH;
        for (size_t q = 0; q < MEM_CH; q++) /* fixed size: one record per possible row */
            snd[q] = q < b ? (double)idx[q] : -1.0, snd[MEM_CH + q] = q < b ? best[q] : DBL_MAX,
            snd[2 * MEM_CH + q] = q < b ? second[q] : DBL_MAX;
        e = g->allgather(g->ctx, snd, rcv, 3 * MEM_CH * sizeof *snd);
        for (size_t q = 0; q < b; q++) best[q] = second[q] = DBL_MAX, idx[q] = -1;
        for (int r = 0; r < g->size && e == RG_OK; r++) {
            const double *o = rcv + (size_t)r * 3 * MEM_CH;
            int io[MEM_CH];
            for (size_t q = 0; q < b; q++) io[q] = (int)o[q];
            rg_measure_nearest2_fold(b, io, o + MEM_CH, o + 2 * MEM_CH, idx, best, second);
        }
    }
    for (size_t q = 0; q < b && e == RG_OK; q++) d1[q] = (float)sqrt(best[q]), d2[q] = (float)sqrt(second[q]);
    return e;
}

/* For B rows Z at time t (t = 0: the states themselves, else their Tweedie denoiser E[z_0 | z_t]): flag[i]
 * = d1/d2 < 1/3 against the training set, idx[i] = the Euclidean nearest point. OpenMP over chunks (one
 * thread with a collective score: a sharded score and the nearest search exchange per chunk). */
static int mem_flags(const rg_exp_sample_cfg *c, const double *xn, double t, size_t B, const float *Z, int *flag,
                     int *idx)
{
    const rg_score *sc = &c->run.score;
    const size_t N = rg_process_dim(c->run.proc), nch = (B + MEM_CH - 1) / MEM_CH;
    const size_t rows = c->shard ? c->rows : c->P, L = rows < RG_MEASURE_NEAREST_BLOCK ? rows : RG_MEASURE_NEAREST_BLOCK;
    const int coll = sc->collective || (c->shard && c->shard->size > 1);
    const int nt = coll ? 1 : omp_get_max_threads();
    const size_t per = MEM_CH * (2 * N + L) + (c->shard ? 6 * MEM_CH * ((size_t)c->shard->size + 1) + 1 : 0);
    int st = t > 0 && sc->prepare ? sc->prepare(sc->ctx, t) : RG_OK;
    if (st != RG_OK) return st;
    float *buf = malloc((size_t)nt * per * sizeof *buf);
    void **ws = calloc((size_t)nt, sizeof *ws);
    int *chst = calloc(nch ? nch : 1, sizeof *chst), ok = buf && ws && chst;
    for (int i = 0; ok && t > 0 && sc->ws_new && i < nt; i++) ok = (ws[i] = sc->ws_new(sc->ctx, MEM_CH)) != NULL;
    const int prev = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel for schedule(static) num_threads(nt) /* collectives: one thread */
    for (size_t ch = 0; ch < (ok ? nch : 0); ch++) {
        const int tid = omp_get_thread_num();
        float *x0 = buf + (size_t)tid * per, *s = x0 + MEM_CH * N, *work = s + MEM_CH * N;
        double *ex = (double *)(work + MEM_CH * L + (MEM_CH * L) % 2); /* 8-byte aligned */
        const size_t i0 = ch * MEM_CH, b = B - i0 < MEM_CH ? B - i0 : MEM_CH;
        float d1[MEM_CH], d2[MEM_CH];
        int e = RG_OK;
        if (t > 0) {
            e = sc->eval(sc->ctx, ws[tid], t, b, Z + i0 * N, s, NULL);
            if (e == RG_OK) e = rg_score_denoise(c->run.proc, t, b, Z + i0 * N, s, x0);
        } else
            memcpy(x0, Z + i0 * N, b * N * sizeof *x0);
        if (e == RG_OK) e = nearest2(c, b, x0, xn, N, idx + i0, d1, d2, work, ex);
        for (size_t q = 0; q < b && e == RG_OK; q++) flag[i0 + q] = (double)d1[q] < MEM_RATIO * (double)d2[q];
        chst[ch] = e;
    }
    openblas_set_num_threads(prev);
    if (!ok) st = rg__fail(RG_ENOMEM, __FILE__, __LINE__, "sample: out of memory for the denoiser workspaces");
    for (size_t ch = 0; ch < nch && st == RG_OK; ch++) st = chst[ch];
    for (int i = 0; ws && i < nt; i++)
        if (ws[i] && sc->ws_free) sc->ws_free(ws[i]);
    free(buf), free(ws), free(chst);
    return st;
}

/* This rank's rows: memorised flags and nearest points at every record time and of the final states
 * (column n_rec), into mem and near (n, W) at rows lo .. lo + ns. */
static int mem_slice(const rg_exp_sample_cfg *c, size_t lo, size_t ns, const rec_ctx *rc, const float *xf, int *mem,
                     int *near)
{
    const size_t N = rg_process_dim(c->run.proc), W = c->n_rec + 1;
    const size_t rows = c->shard ? c->rows : c->P;
    double *xn = malloc((rows ? rows : 1) * sizeof *xn);
    int *fl = malloc(ns * sizeof *fl), *id = malloc(ns * sizeof *id);
    int st = xn && fl && id ? (rows ? rg_measure_norms(rows, c->train, N, xn) : RG_OK)
                            : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "sample: out of memory for %zu rows", ns);
    for (size_t j = 0; j < W && st == RG_OK; j++) {
        const int fin = j == c->n_rec;
        st = mem_flags(c, xn, fin ? 0.0 : c->rec_t[j], ns, fin ? xf : rc->snap + j * ns * N, fl, id);
        for (size_t i = 0; i < ns && st == RG_OK; i++) {
            mem[(lo + i) * W + j] = fl[i];
            const int kn = fin ? -1 : rc->near[i * W + j]; /* the score's kernel-metric nearest, if any */
            near[(lo + i) * W + j] = kn >= 0 ? kn : id[i];
        }
    }
    free(xn), free(fl), free(id);
    return st;
}

/* Run this rank's trajectories [lo, lo + ns): final states into x (n, N) at row lo; with a training set
 * their memorised flags and nearest points into mem, near (n, n_rec + 1). */
static int sample_slice(const rg_exp_sample_cfg *c, size_t lo, size_t ns, float *x, int *mem, int *near)
{
    if (ns == 0) return RG_OK;
    const size_t N = rg_process_dim(c->run.proc), W = c->n_rec + 1;
    rec_ctx rc = { c->n_rec, ns, N, W, c->rec_t, NULL, NULL };
    if (c->train && c->n_rec) {
        rc.snap = malloc(c->n_rec * ns * N * sizeof *rc.snap);
        rc.near = malloc(ns * W * sizeof *rc.near);
        if (!rc.snap || !rc.near) {
            free(rc.snap), free(rc.near);
            RG_FAIL(RG_ENOMEM, "sample: out of memory for %zu record times of %zu rows", c->n_rec, ns);
        }
    }
    rg_sampler_cfg cfg = { .proc = c->run.proc, .score = c->run.score, .method = c->run.method, .grid = c->run.grid,
                           .n_grid = c->run.n_grid, .seed = c->run.seed, .traj0 = c->run.id0 + lo };
    if (rc.snap) cfg.rec_t = c->rec_t, cfg.n_rec = c->n_rec, cfg.observer = observe, cfg.observer_ctx = &rc;
    int st = rg_sampler_run(&cfg, ns, 0, x + lo * N);
    const size_t bad = st == RG_OK ? rg__first_nonfinite_f(x + lo * N, ns * N) : ns * N;
    if (bad < ns * N) /* a non-finite score (a diverged network, an overflow): refused, never returned */
        st = rg__fail(RG_ENOCONV, __FILE__, __LINE__, "trajectory %zu ends at NaN or Inf (coordinate %zu): the score "
                      "was not finite along it", lo + bad / N, bad % N);
    if (st == RG_OK && c->train) st = mem_slice(c, lo, ns, &rc, x + lo * N, mem, near);
    free(rc.snap), free(rc.near);
    return st;
}

/* Rank 0: memorised fractions (bootstrap key 1, docs/math.md 8.1) and the last switch (8.2 c). */
static int mem_measure(const rg_exp_sample_cfg *c, const int *mem, const int *near, rg_exp_sample_result *r)
{
    const size_t n = c->n, J = c->n_rec, W = J + 1;
    unsigned char *fl = malloc(n);
    double *tr = malloc(W * sizeof *tr);
    r->rec_t = malloc((J ? J : 1) * sizeof *r->rec_t), r->on_final = calloc(J ? J : 1, sizeof *r->on_final);
    r->mem = malloc((J ? J : 1) * sizeof *r->mem), r->mem_lo = malloc((J ? J : 1) * sizeof *r->mem_lo);
    r->mem_hi = malloc((J ? J : 1) * sizeof *r->mem_hi), r->last_switch = malloc(n * sizeof *r->last_switch);
    int st = fl && tr && r->rec_t && r->on_final && r->mem && r->mem_lo && r->mem_hi && r->last_switch ? RG_OK
                                                                                                       : RG_ENOMEM;
    if (st != RG_OK) rg__fail(st, __FILE__, __LINE__, "sample: out of memory for the memorisation measures");
    r->n_rec = J;
    for (size_t j = 0; j < W && st == RG_OK; j++) {
        double f[3];
        for (size_t i = 0; i < n; i++) fl[i] = (unsigned char)(mem[i * W + j] != 0);
        st = rg_exp__fraction(n, fl, c->run.seed, 1, f);
        if (j < J) r->mem[j] = f[0], r->mem_lo[j] = f[1], r->mem_hi[j] = f[2], r->rec_t[j] = tr[j] = c->rec_t[j];
        else r->mem_final = f[0], r->mem_final_lo = f[1], r->mem_final_hi = f[2];
    }
    tr[J] = c->run.grid[c->run.n_grid - 1];
    if (st == RG_OK) st = rg_measure_last_switch(W, tr, n, near, r->last_switch);
    double a = 0, a2 = 0;
    for (size_t i = 0; i < n && st == RG_OK; i++) a += r->last_switch[i];
    r->switch_mean = a / (double)n;
    for (size_t i = 0; i < n && st == RG_OK; i++) a2 += (r->last_switch[i] - r->switch_mean) * (r->last_switch[i] - r->switch_mean);
    r->switch_sd = n > 1 ? sqrt(a2 / (double)(n - 1)) : (double)NAN;
    for (size_t j = 0; j < J && st == RG_OK; j++) { /* already on the final training point at rec_t[j] */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) k += r->last_switch[i] >= c->rec_t[j];
        r->on_final[j] = (double)k / (double)n;
    }
    free(fl), free(tr);
    return st;
}

static int sample_classes(const rg_exp_sample_cfg *c, const float *x, rg_exp_sample_result *r)
{
    const size_t L = c->lab->n_modes, K = c->lab->n_classes;
    int *lab = malloc(c->n * L * sizeof *lab);
    r->class_frac = calloc(L * K, sizeof *r->class_frac);
    if (!lab || !r->class_frac) {
        free(lab);
        RG_FAIL(RG_ENOMEM, "sample: out of memory for %zu labels", c->n);
    }
    r->n_modes = L, r->n_classes = K;
    int st = rg_exp__label(c->lab, c->n, x, lab);
    if (st == RG_OK) rg_exp__count(c->n, L, L, K, lab, r->class_frac);
    for (size_t i = 0; i < L * K; i++) r->class_frac[i] /= (double)c->n;
    free(lab);
    return st;
}

int rg_exp_sample(const rg_exp_sample_cfg *c, rg_exp_sample_result *res)
{
    if (!res) RG_FAIL(RG_EINVAL, "sample: NULL result");
    memset(res, 0, sizeof *res);
    const char *why = rg_exp_sample_check(c);
    if (why) RG_FAIL(RG_EINVAL, "sample: %s", why);
    const rg_exp_comm *comm = c->run.comm;
    const size_t n = c->n, N = rg_process_dim(c->run.proc), W = c->n_rec + 1;
    res->n = n, res->N = N;
    res->mem_final = res->mem_final_lo = res->mem_final_hi = res->switch_mean = res->switch_sd = NAN;
    if (n == 0) return RG_OK;
    size_t lo, hi;
    rg_exp_slice(comm, n, &lo, &hi);
    float *x = malloc(n * N * sizeof *x);
    int *mem = c->train ? calloc(n * W, sizeof *mem) : NULL, *near = c->train ? calloc(n * W, sizeof *near) : NULL;
    int st = x && (!c->train || (mem && near)) ? rg_exp__progress(&c->run, 0.0)
                                                : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "sample: out of memory for %zu states of dimension %zu", n, N);
    if (st == RG_OK) st = sample_slice(c, lo, hi - lo, x, mem, near);
    st = rg_exp__agree(comm, st);
    if (st == RG_OK) st = rg_exp__gather(comm, RG_EXP_FLOAT, x, n, N, 0);
    if (st == RG_OK && c->train) st = rg_exp__gather(comm, RG_EXP_INT, mem, n, W, 0);
    if (st == RG_OK && c->train) st = rg_exp__gather(comm, RG_EXP_INT, near, n, W, 0);
    if (st == RG_OK && rg_exp__root(comm) && c->lab) st = sample_classes(c, x, res);
    if (st == RG_OK && rg_exp__root(comm) && c->train) st = mem_measure(c, mem, near, res);
    if (st == RG_OK) st = rg_exp__progress(&c->run, 1.0);
    if (st == RG_OK && rg_exp__root(comm) && c->keep) res->x = x, x = NULL;
    free(x), free(mem), free(near);
    if (st != RG_OK || !rg_exp__root(comm)) rg_exp_sample_result_free(res);
    return st;
}
