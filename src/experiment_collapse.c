/* Collapse experiment (experiment.h; docs/math.md 8.2 a): the Monte-Carlo excess entropy f(t) of the
 * empirical measure at chosen times, its t_C, and the memorisation measures of rg_exp_sample. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/experiment.h"
#include "regimes/measure.h"
#include "experiment_internal.h"
#include "internal.h"

#define ENT_BATCH 256 /* entropy samples per score call */
#define N_FINE 200    /* theory grid of the theory's crossing */

const char *rg_exp_collapse_check(const rg_exp_collapse_cfg *c)
{
    if (!c) return "NULL configuration";
    if (!c->traj.train || c->traj.P < 2) return "the collapse experiment needs the training set (P >= 2)";
    if (!c->traj.run.score.has_extra) return "the score gives no log-sum-exp (use the empirical score)";
    if (c->traj.n) {
        const char *why = rg_exp_sample_check(&c->traj);
        if (why) return why;
    } else if (!c->traj.run.proc || !c->traj.run.score.eval)
        return "NULL process or score";
    if (!c->t_f || c->n_f < 2 || c->n_samples == 0) return "want >= 2 entropy times and >= 1 sample per time";
    for (size_t i = 0; i < c->n_f; i++) {
        if (!(c->t_f[i] > 0) || !isfinite(c->t_f[i])) return "entropy times must be finite and > 0";
        if (i && !(c->t_f[i] > c->t_f[i - 1])) return "entropy times must increase";
    }
    if (!(c->level >= 0 && c->level < 1)) return "the level must lie in [0, 1) (0: 0.05)";
    return NULL;
}

void rg_exp_collapse_result_free(rg_exp_collapse_result *r)
{
    if (!r) return;
    free(r->t_f), free(r->f), free(r->f_lo), free(r->f_hi), free(r->f_theory);
    rg_exp_sample_result_free(&r->traj);
    memset(r, 0, sizeof *r);
}

/* The training rows mu[0 .. B) into z0s (B, N): from train, or with a shard group each rank copies the rows
 * it holds into snd (ENT_BATCH, N), one allgather, and every rank takes row b from the rank that holds
 * mu[b] (ranges: (row_lo, rows) of every rank). The same floats as an unsharded read. */
static int fetch_rows(const rg_exp_collapse_cfg *c, size_t B, const size_t *mu, const size_t *ranges, float *snd,
                      float *rcv, float *z0s)
{
    const rg_exp_sample_cfg *t = &c->traj;
    const size_t N = rg_process_dim(t->run.proc);
    if (!t->shard || t->shard->size == 1) {
        const size_t lo = t->shard ? t->row_lo : 0;
        for (size_t b = 0; b < B; b++) memcpy(z0s + b * N, t->train + (mu[b] - lo) * N, N * sizeof *z0s);
        return RG_OK;
    }
    memset(snd, 0, ENT_BATCH * N * sizeof *snd);
    for (size_t b = 0; b < B; b++)
        if (mu[b] >= t->row_lo && mu[b] < t->row_lo + t->rows)
            memcpy(snd + b * N, t->train + (mu[b] - t->row_lo) * N, N * sizeof *snd);
    RG_TRY(t->shard->allgather(t->shard->ctx, snd, rcv, ENT_BATCH * N * sizeof *snd));
    for (size_t b = 0; b < B; b++) {
        int r = 0;
        while (r + 1 < t->shard->size && !(mu[b] >= ranges[2 * r] && mu[b] < ranges[2 * r] + ranges[2 * r + 1])) r++;
        memcpy(z0s + b * N, rcv + ((size_t)r * ENT_BATCH + b) * N, N * sizeof *z0s);
    }
    return RG_OK;
}

/* f_hat and its standard error at time t from n draws z = M_t a_mu + L_t xi (docs/math.md 8.2 a): the draw
 * (time index i, sample b) is addressed by traj = i n + b of stream MEASURE. fb: the fetch buffers
 * (ENT_BATCH N floats each: the rows, then with a shard group of S ranks the sent and S received). */
static int entropy_at(const rg_exp_collapse_cfg *c, void *ws, size_t i, double *f, double *se, double *buf,
                      const size_t *ranges, float *fb)
{
    const rg_process *p = c->traj.run.proc;
    const rg_score *sc = &c->traj.run.score;
    const size_t N = rg_process_dim(p), P = c->traj.P, n = c->n_samples;
    const double t = c->t_f[i];
    double *z0 = buf, *xi = z0 + N, *zt = xi + N, *lse = zt + N;
    float *x = (float *)(lse + n), *rows = fb, *snd = rows + ENT_BATCH * N, *rcv = snd + ENT_BATCH * N;
    size_t mu[ENT_BATCH];
    const rg_rng r = { c->traj.run.seed, RG_STREAM_MEASURE };
    int st = sc->prepare ? sc->prepare(sc->ctx, t) : RG_OK;
    for (size_t b0 = 0; b0 < n && st == RG_OK; b0 += ENT_BATCH) {
        const size_t B = n - b0 < ENT_BATCH ? n - b0 : ENT_BATCH;
        for (size_t b = 0; b < B; b++) {
            mu[b] = (size_t)(rg_rng_uniform(r, (uint64_t)i * n + b0 + b, 0, 0) * (double)P);
            if (mu[b] >= P) mu[b] = P - 1;
        }
        st = fetch_rows(c, B, mu, ranges, snd, rcv, rows);
        for (size_t b = 0; b < B && st == RG_OK; b++) {
            const uint64_t traj = (uint64_t)i * n + b0 + b;
            for (size_t k = 0; k < N; k++) z0[k] = rows[b * N + k];
            rg_rng_normals_d(r, traj, 1, xi, N);
            st = rg_process_sample(p, t, z0, xi, zt);
            for (size_t k = 0; k < N; k++) x[b * N + k] = (float)zt[k];
        }
        rg_score_extra ex = { .lse = lse + b0 };
        if (st == RG_OK) st = sc->eval(sc->ctx, ws, t, B, x, NULL, &ex); /* lse only: GEMM 1 */
    }
    return st == RG_OK ? rg_measure_f_entropy(n, lse, N, f, se) : st;
}

/* This rank's share of the entropy times; f, se (n_f) on every rank afterwards. */
static int entropy_curve(const rg_exp_collapse_cfg *c, double *f, double *se)
{
    const rg_score *sc = &c->traj.run.score;
    const rg_score_shard_comm *g = c->traj.shard;
    const size_t N = rg_process_dim(c->traj.run.proc), n = c->n_samples, S = g ? (size_t)g->size : 1;
    size_t lo, hi, mine[2] = { c->traj.row_lo, c->traj.rows };
    rg_exp_slice(c->traj.run.comm, c->n_f, &lo, &hi);
    double *buf = malloc((3 * N + n) * sizeof *buf + ENT_BATCH * N * sizeof(float));
    float *fb = malloc((S > 1 ? 2 + S : 1) * ENT_BATCH * N * sizeof *fb);
    size_t *ranges = malloc(2 * S * sizeof *ranges);
    void *ws = sc->ws_new ? sc->ws_new(sc->ctx, ENT_BATCH) : NULL;
    int st = buf && fb && ranges && (ws || !sc->ws_new) ? RG_OK : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "collapse: out of memory for %zu entropy samples", n);
    if (st == RG_OK && S > 1) st = g->allgather(g->ctx, mine, ranges, sizeof mine); /* who holds which rows */
    for (size_t i = lo; i < hi && st == RG_OK; i++) {
        st = entropy_at(c, ws, i, &f[i], &se[i], buf, ranges, fb);
        if (st == RG_OK) st = rg_exp__progress(&c->traj.run, 0.5 * (double)(i + 1 - lo) / (double)(hi - lo));
    }
    if (ws && sc->ws_free) sc->ws_free(ws);
    free(buf), free(fb), free(ranges);
    st = rg_exp__agree(c->traj.run.comm, st);
    if (st == RG_OK) st = rg_exp__gather(c->traj.run.comm, RG_EXP_DOUBLE, f, c->n_f, 1, 1);
    if (st == RG_OK) st = rg_exp__gather(c->traj.run.comm, RG_EXP_DOUBLE, se, c->n_f, 1, 1);
    return st;
}

/* Rank 0: the interval, the theory column and the crossings. */
static int entropy_measure(const rg_exp_collapse_cfg *c, const double *se, rg_exp_collapse_result *r)
{
    const size_t m = c->n_f;
    const double level = c->level > 0 ? c->level : RG_MEASURE_LEVEL_TC;
    int st = RG_OK;
    for (size_t i = 0; i < m && st == RG_OK; i++) {
        r->f_lo[i] = r->f[i] - 1.96 * se[i], r->f_hi[i] = r->f[i] + 1.96 * se[i];
        r->f_theory[i] = NAN;
        if (c->theory) st = c->theory(c->theory_ctx, 0, c->t_f[i], &r->f_theory[i]);
    }
    r->t_c = r->t_c_lo = r->t_c_hi = r->t_c_theory = NAN;
    if (st == RG_OK && c->theory) { /* like with like (docs/math.md 8.2 a): the theory at the same level */
        double tg[N_FINE], fg[N_FINE];
        for (size_t i = 0; i < N_FINE && st == RG_OK; i++) {
            tg[i] = c->t_f[0] * pow(c->t_f[m - 1] / c->t_f[0], (double)i / (N_FINE - 1));
            st = c->theory(c->theory_ctx, 0, tg[i], &fg[i]);
        }
        if (st == RG_OK) st = rg_measure_tc(N_FINE, tg, fg, r->alpha, level, &r->t_c_theory);
    }
    if (st == RG_OK) st = rg_measure_tc(m, c->t_f, r->f, r->alpha, level, &r->t_c);
    if (st == RG_OK) st = rg_measure_tc(m, c->t_f, r->f_hi, r->alpha, level, &r->t_c_lo); /* higher f crosses earlier */
    if (st == RG_OK) st = rg_measure_tc(m, c->t_f, r->f_lo, r->alpha, level, &r->t_c_hi);
    return st;
}

int rg_exp_collapse(const rg_exp_collapse_cfg *c, rg_exp_collapse_result *res)
{
    if (!res) RG_FAIL(RG_EINVAL, "collapse: NULL result");
    memset(res, 0, sizeof *res);
    const char *why = rg_exp_collapse_check(c);
    if (why) RG_FAIL(RG_EINVAL, "collapse: %s", why);
    const size_t m = c->n_f, N = rg_process_dim(c->traj.run.proc);
    res->n_f = m, res->P = c->traj.P, res->N = N;
    res->alpha = log((double)c->traj.P) / (double)N;
    res->t_f = malloc(m * sizeof *res->t_f), res->f = calloc(m, sizeof *res->f);
    res->f_lo = malloc(m * sizeof *res->f_lo), res->f_hi = malloc(m * sizeof *res->f_hi);
    res->f_theory = malloc(m * sizeof *res->f_theory);
    double *se = calloc(m, sizeof *se);
    int st = res->t_f && res->f && res->f_lo && res->f_hi && res->f_theory && se
                 ? RG_OK : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "collapse: out of memory");
    if (st == RG_OK) memcpy(res->t_f, c->t_f, m * sizeof *res->t_f);
    if (st == RG_OK) st = entropy_curve(c, res->f, se);
    if (st == RG_OK && rg_exp__root(c->traj.run.comm)) st = entropy_measure(c, se, res);
    free(se);
    if (st == RG_OK && c->traj.n) st = rg_exp_sample(&c->traj, &res->traj);
    if (st != RG_OK || !rg_exp__root(c->traj.run.comm)) rg_exp_collapse_result_free(res);
    return st;
}
