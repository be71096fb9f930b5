/* Reverse-time integrators, recording and cloning (docs/math.md 6.3-6.6). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <omp.h>
#include "regimes/sampler.h"
#include "regimes/linalg.h"
#include "regimes/rng.h"
#include "internal.h"
#include "score_internal.h"
#include "sampler_internal.h"

#define CH RG_SAMPLER_CHUNK
_Static_assert(RG_SAMPLER_CHUNK == RG_SCORE__BLK, "the pad of a chunk holds one block of lanes");
#define STEP_CACHE_BYTES ((size_t)64 << 20) /* cached step matrices of one run, at most */

/* Core matrices of one step (k x k each), built outside the parallel region. */
typedef struct {
    double t, t2, h;
    double *C1, *C2, *Ln; /* EM: C1 = I + h A; EXP: C1, C2, Ln = chol(cov) (NULL-like when t2 = 0) */
    double *A, *A2;       /* HEUN: A(t), A(t2) */
    int noise;            /* EXP: 1 if cov > 0 */
    const float *f;       /* the five matrices in float (C1, C2, Ln, A, A2) for one sgemm per chunk when
                           * r == 1 and k > 2, else NULL */
} step_mats;

/* How rows get their noise, and where the outputs of a phase go. */
typedef struct {
    uint64_t stream_lo, stream_hi; /* rows < n_lo use stream_lo */
    size_t n_lo;
    uint64_t base;                 /* noise/prior id of row i: base + i mod n_lo */
    size_t proj_rows;              /* rows per record in proj_out */
    int dup;                       /* trunk of a clone run: projections go to rows i and n_lo + i */
    double *const *proj_out;       /* n_out arrays (n_rec, proj_rows, n_proj): this branch's, or with a
                                    * shared trunk every branch still ahead; NULL when none */
    size_t n_out;
    int branched;
    size_t branch;
} phase;

typedef struct {
    const rg_sampler_cfg *c;
    size_t k, r, N, K;      /* core size, multiplicity, dimension, last grid index */
    int *rec_q;             /* (n_grid) record slot of each grid index, -1 if none */
    int nthr;
    void **ws;              /* (nthr) score workspaces */
    float *buf;             /* (nthr, 6, CH, N): S, T, U, V and the lane-wise pad (2 CH N) */
    int *chst;              /* (max chunks) */
    float *snap;            /* (max rows, N) when an observer records */
    int *nearest;           /* (max rows) extras */
    double *lse, *ratio, *entropy;
    double *mats;           /* storage of step_mats: one slot, or one per grid step when cached */
    float *matsf;           /* the same slots in float when r == 1 and k > 2, else NULL */
    unsigned char *have;    /* (K) slot k holds step k (cached runs), else NULL */
    int *noise;             /* (K) the cached steps' noise flags */
    float *fzbuf;           /* fused steps: w_j and v_j in float, (2, K, N) */
    size_t fzcap;           /* floats in fzbuf */
    float *G, *SG, *TG;     /* batch scores: (max population, N) gathered states, their scores, Heun's k1 */
} run_ctx;

const char *rg_sampler_check(const rg_sampler_cfg *c)
{
    if (!c || !c->proc) return "NULL configuration or process";
    if (!c->score.eval) return "the score has no eval function";
    if (!c->grid || c->n_grid < 2) return "the grid needs at least 2 times";
    for (size_t i = 0; i < c->n_grid; i++)
        if (!isfinite(c->grid[i])) return "the grid contains NaN or Inf";
    for (size_t i = 1; i < c->n_grid; i++)
        if (!(c->grid[i] < c->grid[i - 1])) return "the grid is not strictly decreasing";
    if (!(c->grid[c->n_grid - 1] >= 0)) return "the grid ends below t = 0";
    if (c->method != RG_SAMPLER_EM && c->method != RG_SAMPLER_EXP && c->method != RG_SAMPLER_HEUN)
        return "unknown integrator";
    if (c->n_rec && !c->rec_t) return "n_rec > 0 but rec_t is NULL";
    if (c->n_proj && (!c->proj || !c->proj_out)) return "n_proj > 0 but proj or proj_out is NULL";
    if (c->n_proj && !c->n_rec) return "projections need recorded times";
    if (c->score.batch && c->score.has_extra) return "a batch score cannot supply extras";
    return NULL;
}

static int grid_index(const rg_sampler_cfg *c, double t, size_t *k)
{
    const double tol = 1e-12 * c->grid[0];
    for (size_t i = 0; i < c->n_grid; i++)
        if (fabs(c->grid[i] - t) <= tol) {
            *k = i;
            return 1;
        }
    return 0;
}

static void ctx_free(run_ctx *x)
{
    if (x->ws)
        for (int i = 0; i < x->nthr; i++)
            if (x->c->score.ws_free) x->c->score.ws_free(x->ws[i]);
    free(x->ws), free(x->buf), free(x->chst), free(x->snap), free(x->nearest), free(x->lse), free(x->ratio);
    free(x->entropy), free(x->mats), free(x->rec_q), free(x->have), free(x->noise), free(x->matsf), free(x->fzbuf);
    free(x->G), free(x->SG), free(x->TG);
}

/* max_rows: rows of one phase; max_pop: rows alive at one grid time (batch scores). */
static int ctx_init(run_ctx *x, const rg_sampler_cfg *c, size_t max_rows, size_t max_pop)
{
    memset(x, 0, sizeof *x);
    x->c = c;
    const char *why = rg_sampler_check(c);
    if (why) RG_FAIL(RG_EINVAL, "sampler: %s", why);
    x->k = rg_process_core(c->proc);
    x->r = rg_process_mult(c->proc);
    x->N = x->k * x->r;
    x->K = c->n_grid - 1;
    x->nthr = omp_get_max_threads();
    if (x->nthr < 1) x->nthr = 1;
    const size_t N = x->N, kk = x->k * x->k, nch = (max_rows + CH - 1) / CH;
    x->rec_q = malloc(c->n_grid * sizeof *x->rec_q);
    x->ws = calloc((size_t)x->nthr, sizeof *x->ws);
    x->buf = malloc((size_t)x->nthr * 6 * CH * N * sizeof *x->buf);
    x->chst = malloc(nch * sizeof *x->chst);
    x->nearest = malloc(max_rows * sizeof *x->nearest);
    x->lse = malloc(max_rows * sizeof *x->lse);
    x->ratio = malloc(max_rows * sizeof *x->ratio);
    x->entropy = malloc(max_rows * sizeof *x->entropy);
    /* A clone run walks the same grid once per branch time: keep every step's core matrices when they
     * fit in STEP_CACHE_BYTES (the same numbers, computed once). */
    if (x->K * 5 * kk * sizeof(double) <= STEP_CACHE_BYTES) {
        x->mats = malloc(x->K * 5 * kk * sizeof *x->mats);
        x->have = calloc(x->K, 1);
        x->noise = calloc(x->K, sizeof *x->noise);
        if (!x->have || !x->noise) free(x->mats), x->mats = NULL;
    } else {
        x->mats = malloc(5 * kk * sizeof *x->mats);
    }
    if (c->observer && c->n_rec) x->snap = malloc(max_rows * N * sizeof *x->snap);
    const size_t n_slots = x->have ? x->K : 1;
    if (x->r == 1 && x->k > 2) x->matsf = malloc(n_slots * 5 * kk * sizeof *x->matsf);
    int ok = x->rec_q && x->ws && x->buf && x->chst && x->nearest && x->lse && x->ratio && x->entropy && x->mats &&
             (x->snap || !(c->observer && c->n_rec));
    ok = ok && (x->matsf || !(x->r == 1 && x->k > 2));
    if (c->score.batch) { /* one workspace for the whole population; the chunks only step */
        x->G = malloc(max_pop * N * sizeof *x->G), x->SG = malloc(max_pop * N * sizeof *x->SG);
        x->TG = c->method == RG_SAMPLER_HEUN ? malloc(max_pop * N * sizeof *x->TG) : NULL;
        ok = ok && x->G && x->SG && (x->TG || c->method != RG_SAMPLER_HEUN);
        if (ok && c->score.ws_new) ok = (x->ws[0] = c->score.ws_new(c->score.ctx, max_pop)) != NULL;
    }
    for (int i = 0; ok && !c->score.batch && i < x->nthr && c->score.ws_new; i++)
        ok = (x->ws[i] = c->score.ws_new(c->score.ctx, CH)) != NULL;
    if (!ok) {
        ctx_free(x);
        RG_FAIL(RG_ENOMEM, "sampler: out of memory (%zu rows of dimension %zu)", max_rows, N);
    }
    for (size_t i = 0; i < c->n_grid; i++) x->rec_q[i] = -1;
    for (size_t q = 0; q < c->n_rec; q++) {
        size_t kq;
        if (!grid_index(c, c->rec_t[q], &kq)) {
            ctx_free(x);
            RG_FAIL(RG_EINVAL, "sampler: record time %.17g is not a grid point", c->rec_t[q]);
        }
        x->rec_q[kq] = (int)q;
    }
    return RG_OK;
}

/* Core matrices of step k (t_k -> t_{k+1}). */
static int step_compute(run_ctx *x, size_t k, step_mats *m, double *w);

static int step_setup(run_ctx *x, size_t k, step_mats *m)
{
    const rg_sampler_cfg *c = x->c;
    const size_t n = x->k, kk = n * n;
    double *w = x->mats + (x->have ? k * 5 * kk : 0);
    if (x->have && x->have[k]) {
        m->t = c->grid[k], m->t2 = c->grid[k + 1], m->h = m->t - m->t2;
        m->C1 = w, m->C2 = w + kk, m->Ln = w + 2 * kk, m->A = w + 3 * kk, m->A2 = w + 4 * kk;
        m->noise = x->noise[k];
        m->f = x->matsf ? x->matsf + k * 5 * kk : NULL;
        return RG_OK;
    }
    RG_TRY(step_compute(x, k, m, w));
    m->f = NULL;
    if (x->matsf) {
        float *f = x->matsf + (x->have ? k * 5 * kk : 0);
        for (size_t i = 0; i < 5 * kk; i++) f[i] = (float)w[i];
        m->f = f;
    }
    if (x->have) x->have[k] = 1, x->noise[k] = m->noise;
    return RG_OK;
}

static int step_compute(run_ctx *x, size_t k, step_mats *m, double *w)
{
    const rg_sampler_cfg *c = x->c;
    const size_t n = x->k, kk = n * n;
    m->t = c->grid[k];
    m->t2 = c->grid[k + 1];
    m->h = m->t - m->t2;
    m->C1 = w, m->C2 = w + kk, m->Ln = w + 2 * kk, m->A = w + 3 * kk, m->A2 = w + 4 * kk;
    m->noise = 0;
    if (c->method == RG_SAMPLER_EM) {
        RG_TRY(rg_process_drift(c->proc, m->t, m->A));
        for (size_t i = 0; i < kk; i++) m->C1[i] = m->h * m->A[i] + (i % (n + 1) == 0 ? 1.0 : 0.0);
        return RG_OK;
    }
    if (c->method == RG_SAMPLER_HEUN) {
        RG_TRY(rg_process_drift(c->proc, m->t, m->A));
        return rg_process_drift(c->proc, m->t2, m->A2);
    }
    /* EXP: C1 = E' E^{-1}, C2 = (C1 - G) S, G = S' F^T S^{-1}, F = E E'^{-1}, cov = S' - G F S' */
    double *E = malloc(9 * kk * sizeof *E);
    if (!E) RG_FAIL(RG_ENOMEM, "sampler: out of memory");
    double *S = E + kk, *E2 = S + kk, *S2 = E2 + kk, *Ei = S2 + kk, *E2i = Ei + kk, *F = E2i + kk, *Si = F + kk,
           *G = Si + kk;
    int st = rg_process_moments(c->proc, m->t, E, S);
    if (st == RG_OK) st = rg_process_moments(c->proc, m->t2, E2, S2);
    if (st == RG_OK) st = rg_score__inv(n, E, Ei);
    if (st == RG_OK) st = rg_score__inv(n, E2, E2i);
    if (st == RG_OK) st = rg_score__inv(n, S, Si);
    if (st == RG_OK) {
        rg_linalg_mul(n, E2, Ei, m->C1);
        rg_linalg_mul(n, E, E2i, F);
        double *T1 = m->A, *T2 = m->A2; /* scratch */
        rg_linalg_mul_t(n, S2, F, T1); /* T1 = S' F^T */
        rg_linalg_mul(n, T1, Si, G);
        for (size_t i = 0; i < kk; i++) T1[i] = m->C1[i] - G[i];
        rg_linalg_mul(n, T1, S, m->C2);
        rg_linalg_mul(n, G, F, T1);
        rg_linalg_mul(n, T1, S2, T2);
        for (size_t i = 0; i < n; i++) /* cov = S' - G F S', symmetrised */
            for (size_t j = 0; j < n; j++) T1[i * n + j] = S2[i * n + j] - 0.5 * (T2[i * n + j] + T2[j * n + i]);
        if (m->t2 > 0) {
            st = rg_linalg_chol(n, T1, m->Ln);
            if (st != RG_OK) rg__fail(st, __FILE__, __LINE__, "sampler: bridge covariance %g -> %g not positive definite", m->t, m->t2);
            m->noise = 1;
        }
    }
    free(E);
    return st;
}

static void noise_rows(const run_ctx *x, const phase *ph, size_t i0, size_t B, size_t k, float *z)
{
    for (size_t b = 0; b < B; b++) {
        const size_t i = i0 + b;
        const rg_rng rng = { .seed = x->c->seed, .stream = i < ph->n_lo ? ph->stream_lo : ph->stream_hi };
        rg_rng_normals(rng, ph->base + i % ph->n_lo, k, z + b * x->N, x->N);
    }
}

static void project_rows(const run_ctx *x, const phase *ph, int q, size_t i0, size_t B, const float *X)
{
    const rg_sampler_cfg *c = x->c;
    if (!c->n_proj || !ph->proj_out) return;
    const size_t N = x->N;
    for (size_t b = 0; b < B; b++)
        for (size_t p = 0; p < c->n_proj; p++) {
            double acc = 0.0;
            for (size_t j = 0; j < N; j++) acc += (double)X[b * N + j] * (double)c->proj[p * N + j];
            const size_t i = i0 + b;
            for (size_t o = 0; o < ph->n_out; o++) {
                double *po = ph->proj_out[o];
                po[((size_t)q * ph->proj_rows + i) * c->n_proj + p] = acc;
                if (ph->dup) po[((size_t)q * ph->proj_rows + ph->n_lo + i) * c->n_proj + p] = acc;
            }
        }
}

/* The fused step (sampler_internal.h) for step m, when the score is an isotropic mixture on this core
 * and the method is EM or EXP: 1 and *f set up (outside the parallel region), else 0 (plain path). */
static int fused_setup(run_ctx *x, const step_mats *m, rg_sampler__fused *f)
{
    const rg_sampler_cfg *c = x->c;
    const size_t n = x->k, r = x->r, N = x->N, kk = n * n;
    if (c->method == RG_SAMPLER_HEUN || n > RG_SAMPLER__KMAX || c->score.batch) return 0;
    if (!rg_score__gmm_view(&c->score, m->t, &f->mix)) return 0;
    if (f->mix.k != n || f->mix.r != r || f->mix.K > RG_SAMPLER__CMAX) return 0;
    const size_t K = f->mix.K;
    if (x->fzcap < 2 * K * N) {
        float *b = realloc(x->fzbuf, 2 * K * N * sizeof *b);
        if (!b) return 0; /* the plain path needs no extra memory */
        x->fzbuf = b, x->fzcap = 2 * K * N;
    }
    float *wf = x->fzbuf, *vf = x->fzbuf + K * N;
    const int em = c->method == RG_SAMPLER_EM;
    const double h2 = 2.0 * m->h;
    for (size_t i = 0; i < kk; i++) {
        f->C1[i] = m->C1[i];
        f->S[i] = em ? (i % (n + 1) == 0 ? h2 : 0.0) : m->C2[i];
        f->L[i] = (float)(em ? (i % (n + 1) == 0 ? sqrt(h2) : 0.0) : m->Ln[i]);
    }
    f->noise = em || m->noise;
    for (size_t j = 0; j < K; j++) {
        const double *w = f->mix.w + j * N;
        for (size_t i = 0; i < N; i++) wf[j * N + i] = (float)w[i];
        for (size_t a = 0; a < n; a++) /* v_j = (S (x) I) w_j */
            for (size_t q = 0; q < r; q++) {
                double acc = 0.0;
                for (size_t b = 0; b < n; b++) acc += f->S[a * n + b] * w[b * r + q];
                vf[j * N + a * r + q] = (float)acc;
            }
    }
    f->wf = wf, f->vf = vf;
    f->mirror = K == 2;
    for (size_t i = 0; f->mirror && i < N; i++) f->mirror = wf[N + i] == -wf[i];
    for (size_t a = 0; a < n; a++) /* the constant D = C1 - S Ginv_0 (used when same_cov) */
        for (size_t b = 0; b < n; b++) {
            double acc = f->C1[a * n + b];
            for (size_t l = 0; l < n; l++) acc -= f->S[a * n + l] * f->mix.Ginv[l * n + b];
            f->D[a * n + b] = (float)acc;
        }
    return 1;
}

/* One step for rows [i0, i0 + B) of X. Sp: the scores of X's rows at m->t (a batch score's, rows from
 * 0), or NULL to evaluate them here. Heun with Sp: only the predictor, k1 into Tp and z~ into Up (rows
 * from 0; heun_finish completes the step once the score at t' is known). */
static int step_chunk(const run_ctx *x, const phase *ph, const step_mats *m, const rg_sampler__fused *fz,
                      size_t k, int q, void *ws, float *bf, size_t i0, size_t B, float *X, const float *Sp,
                      float *Tp, float *Up)
{
    const rg_sampler_cfg *c = x->c;
    const size_t N = x->N, n = x->k, r = x->r;
    float *S = bf, *T = bf + CH * N, *U = bf + 2 * CH * N, *V = bf + 3 * CH * N, *pad = bf + 4 * CH * N;
    float *Xc = X + i0 * N;
    rg_score_extra ex = { NULL, NULL, NULL, NULL, NULL }, *exp_ = NULL;
    if (q >= 0) {
        project_rows(x, ph, q, i0, B, Xc);
        if (c->score.has_extra) {
            ex.nearest = x->nearest + i0, ex.lse = x->lse + i0, ex.ratio = x->ratio + i0, ex.entropy = x->entropy + i0;
            exp_ = &ex;
        }
    }
    if (fz) { /* fused: noise of one row, then its whole step */
        for (size_t b = 0; b < B; b++) {
            if (fz->noise) noise_rows(x, ph, i0 + b, 1, k, V);
            rg_sampler__fused_row(fz, Xc + b * N, V);
        }
        return RG_OK;
    }
    const size_t BN = B * N;
    if (Sp) memcpy(S, Sp + i0 * N, BN * sizeof *S);
    else RG_TRY(c->score.eval(c->score.ctx, ws, m->t, B, Xc, S, exp_));
    if (c->method == RG_SAMPLER_EM) {
        rg_score__apply(m->C1, m->f ? m->f : NULL, n, r, B, Xc, T, pad);
        noise_rows(x, ph, i0, B, k, V);
        const double h2 = 2.0 * m->h, sq = sqrt(2.0 * m->h);
        for (size_t i = 0; i < BN; i++) Xc[i] = (float)((double)T[i] + h2 * (double)S[i] + sq * (double)V[i]);
    } else if (c->method == RG_SAMPLER_EXP) {
        rg_score__apply(m->C1, m->f ? m->f : NULL, n, r, B, Xc, T, pad);
        rg_score__apply(m->C2, m->f ? m->f + n * n : NULL, n, r, B, S, U, pad);
        if (m->noise) {
            noise_rows(x, ph, i0, B, k, S);
            rg_score__apply(m->Ln, m->f ? m->f + 2 * n * n : NULL, n, r, B, S, V, pad);
            for (size_t i = 0; i < BN; i++) Xc[i] = (float)((double)T[i] + (double)U[i] + (double)V[i]);
        } else {
            for (size_t i = 0; i < BN; i++) Xc[i] = (float)((double)T[i] + (double)U[i]);
        }
    } else { /* Heun on f = A z + s */
        rg_score__apply(m->A, m->f ? m->f + 3 * n * n : NULL, n, r, B, Xc, T, pad);
        for (size_t i = 0; i < BN; i++) {
            T[i] = (float)((double)T[i] + (double)S[i]);                 /* k1 */
            U[i] = (float)((double)Xc[i] + m->h * (double)T[i]);         /* z~ */
        }
        if (Sp && m->t2 > 0) {
            memcpy(Tp + i0 * N, T, BN * sizeof *T), memcpy(Up + i0 * N, U, BN * sizeof *U);
        } else if (m->t2 > 0) {
            RG_TRY(c->score.eval(c->score.ctx, ws, m->t2, B, U, S, NULL));
            rg_score__apply(m->A2, m->f ? m->f + 4 * n * n : NULL, n, r, B, U, V, pad);
            for (size_t i = 0; i < BN; i++)
                Xc[i] = (float)((double)Xc[i] + 0.5 * m->h * ((double)T[i] + (double)V[i] + (double)S[i]));
        } else {
            memcpy(Xc, U, BN * sizeof *Xc);
        }
    }
    return RG_OK;
}

static int observe(const run_ctx *x, const phase *ph, size_t k, size_t n_rows, const float *X, int extras)
{
    const rg_sampler_cfg *c = x->c;
    if (!c->observer) return RG_OK;
    const int ex = extras && c->score.has_extra;
    const rg_sampler_record rec = { c->grid[k], k, n_rows, X, ex ? x->nearest : NULL, ex ? x->lse : NULL,
                                    ex ? x->ratio : NULL, ex ? x->entropy : NULL, ph->branched, ph->branch };
    const int st = c->observer(c->observer_ctx, &rec);
    if (st != 0) RG_FAIL(st, "sampler: the observer returned %d at t = %g", st, c->grid[k]);
    return RG_OK;
}

/* A batch score's one call at time t on the n rows of X into S (docs: sampler.h "Batch scores"). */
static int batch_eval(const run_ctx *x, double t, size_t n, const float *X, float *S)
{
    const rg_sampler_cfg *c = x->c;
    const int st = c->score.eval(c->score.ctx, x->ws[0], t, n, X, S, NULL);
    if (st != RG_OK) RG_FAIL(st, "sampler: the batch score failed at t = %g on %zu rows", t, n);
    return RG_OK;
}

/* Heun with a batch score, after the predictor chunks: the score at t' on all z~ (Up), then
 * z <- z + h/2 (k1 + A(t') z~ + s(z~, t')) per chunk. */
static int heun_finish(run_ctx *x, const step_mats *m, size_t n_rows, float *X, const float *Tp, const float *Up,
                       float *S2)
{
    const size_t N = x->N, n = x->k, r = x->r, nch = (n_rows + CH - 1) / CH;
    RG_TRY(batch_eval(x, m->t2, n_rows, Up, S2));
#pragma omp parallel for schedule(static)
    for (size_t ch = 0; ch < nch; ch++) {
        const int tid = omp_get_thread_num();
        float *V = x->buf + (size_t)tid * 6 * CH * N, *pad = V + 4 * CH * N;
        const size_t i0 = ch * CH, B = n_rows - i0 < CH ? n_rows - i0 : CH, o = i0 * N;
        rg_score__apply(m->A2, m->f ? m->f + 4 * n * n : NULL, n, r, B, Up + o, V, pad);
        for (size_t i = 0; i < B * N; i++)
            X[o + i] = (float)((double)X[o + i] + 0.5 * m->h * ((double)Tp[o + i] + (double)V[i] + (double)S2[o + i]));
    }
    return RG_OK;
}

/* The step mats of grid step k, the score prepared for it. */
static int step_begin(run_ctx *x, size_t k, step_mats *m)
{
    const rg_sampler_cfg *c = x->c;
    RG_TRY(step_setup(x, k, m));
    if (c->score.prepare) {
        RG_TRY(c->score.prepare(c->score.ctx, m->t));
        if (c->method == RG_SAMPLER_HEUN && m->t2 > 0) RG_TRY(c->score.prepare(c->score.ctx, m->t2));
    }
    return RG_OK;
}

/* Grid step k (set up in m) on the n_rows rows of X, with its record. Sp: a batch score's scores of X
 * at m->t (rows from 0), or NULL. */
static int phase_step(run_ctx *x, const phase *ph, size_t k, const step_mats *m, size_t n_rows, float *X, const float *Sp)
{
    const size_t nch = (n_rows + CH - 1) / CH;
    rg_sampler__fused fzs;
    const rg_sampler__fused *fz = fused_setup(x, m, &fzs) ? &fzs : NULL;
    const int q = x->rec_q[k];
    const int heun2 = Sp && x->c->method == RG_SAMPLER_HEUN && m->t2 > 0;
    if (q >= 0 && x->snap) memcpy(x->snap, X, n_rows * x->N * sizeof *X);
    const int prev = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel for schedule(static) if (!x->c->score.collective) /* a collective score: one thread */
    for (size_t ch = 0; ch < nch; ch++) {
        const int tid = omp_get_thread_num();
        const size_t i0 = ch * CH, B = n_rows - i0 < CH ? n_rows - i0 : CH;
        x->chst[ch] = step_chunk(x, ph, m, fz, k, q, x->ws[tid], x->buf + (size_t)tid * 6 * CH * x->N, i0, B, X, Sp,
                                 x->TG, x->G);
    }
    int st = RG_OK;
    for (size_t ch = 0; ch < nch && st == RG_OK; ch++)
        if (x->chst[ch] != RG_OK)
            st = rg__fail(x->chst[ch], __FILE__, __LINE__, "sampler: step %zu (t = %g) failed in chunk %zu", k, m->t, ch);
    if (st == RG_OK && heun2) st = heun_finish(x, m, n_rows, X, x->TG, x->G, x->SG);
    openblas_set_num_threads(prev);
    RG_TRY(st);
    if (q >= 0) RG_TRY(observe(x, ph, k, n_rows, x->snap ? x->snap : X, 1));
    return RG_OK;
}

/* The record at the last grid index, if any. */
static int phase_end(run_ctx *x, const phase *ph, size_t n_rows, const float *X)
{
    if (x->rec_q[x->K] < 0) return RG_OK;
    project_rows(x, ph, x->rec_q[x->K], 0, n_rows, X);
    return observe(x, ph, x->K, n_rows, X, 0);
}

/* Grid steps k_from .. k_to - 1 on n_rows rows; records at k_from .. k_to - 1, and at k_to if it is the
 * last grid index. A batch score is evaluated once per step on all n_rows rows. */
static int run_phase(run_ctx *x, const phase *ph, size_t k_from, size_t k_to, size_t n_rows, float *X)
{
    for (size_t k = k_from; k < k_to; k++) {
        step_mats m;
        RG_TRY(step_begin(x, k, &m));
        if (x->c->score.batch) RG_TRY(batch_eval(x, m.t, n_rows, X, x->SG));
        RG_TRY(phase_step(x, ph, k, &m, n_rows, X, x->c->score.batch ? x->SG : NULL));
    }
    if (k_to == x->K) RG_TRY(phase_end(x, ph, n_rows, X));
    return RG_OK;
}

int rg_sampler_run(const rg_sampler_cfg *c, size_t n, int init, float *x)
{
    if (!x || n == 0) RG_FAIL(RG_EINVAL, "rg_sampler_run: NULL states or n = 0");
    run_ctx ctx;
    RG_TRY(ctx_init(&ctx, c, n, n));
    int st = init ? RG_OK : rg_sampler_prior(c->proc, c->seed, c->traj0, n, x);
    double *const po[1] = { c->proj_out };
    const phase ph = { RG_STREAM_REVERSE, RG_STREAM_REVERSE, n, c->traj0, n, 0, c->proj_out ? po : NULL, 1, 0, 0 };
    if (st == RG_OK) st = run_phase(&ctx, &ph, 0, ctx.K, n, x);
    ctx_free(&ctx);
    return st;
}

/* Grid index of branch time t_b (a grid point before the end), or an RG_EINVAL status. */
static int branch_index(const run_ctx *x, double t_b, size_t *kb)
{
    if (!grid_index(x->c, t_b, kb) || *kb == x->K)
        RG_FAIL(RG_EINVAL, "rg_sampler_clone: branch time %.17g is not a grid point before the end", t_b);
    return RG_OK;
}

/* Branch j's slice of proj_out, or NULL. */
static double *branch_proj(const rg_sampler_cfg *c, size_t j, size_t n_pairs)
{
    return c->proj_out ? c->proj_out + j * c->n_rec * 2 * n_pairs * c->n_proj : NULL;
}

/* Clones of branch j from the trunk states T (n_pairs, N) at grid index kb, into xa, xb. X: (2 n_pairs, N). */
static int run_clones(run_ctx *x, size_t j, size_t kb, size_t n_pairs, const float *T, float *X, float *xa, float *xb)
{
    const rg_sampler_cfg *c = x->c;
    const size_t N = x->N;
    const uint64_t base = ((uint64_t)j << 32) + c->traj0; /* traj0: an MPI slice of the pairs */
    double *const po[1] = { branch_proj(c, j, n_pairs) };
    const phase clones = { RG_STREAM_CLONE_A, RG_STREAM_CLONE_B, n_pairs, base, 2 * n_pairs, 0, po[0] ? po : NULL, 1, 1, j };
    if (T != X) memcpy(X, T, n_pairs * N * sizeof *X);
    memcpy(X + n_pairs * N, X, n_pairs * N * sizeof *X);
    RG_TRY(run_phase(x, &clones, kb, x->K, 2 * n_pairs, X));
    memcpy(xa + j * n_pairs * N, X, n_pairs * N * sizeof *X);
    memcpy(xb + j * n_pairs * N, X + n_pairs * N, n_pairs * N * sizeof *X);
    return RG_OK;
}

/* Independent trunks (docs/math.md 6.6): pair i of branch j has its own trunk, id (j << 32) + traj0 + i. */
static int clone_independent(run_ctx *x, const double *t_b, size_t n_branch, size_t n_pairs, float *X, float *xa,
                             float *xb)
{
    const rg_sampler_cfg *c = x->c;
    for (size_t j = 0; j < n_branch; j++) {
        size_t kb = 0;
        RG_TRY(branch_index(x, t_b[j], &kb));
        const uint64_t base = ((uint64_t)j << 32) + c->traj0;
        double *const po[1] = { branch_proj(c, j, n_pairs) };
        const phase trunk = { RG_STREAM_REVERSE, RG_STREAM_REVERSE, n_pairs, base, 2 * n_pairs, 1, po[0] ? po : NULL, 1, 0, j };
        RG_TRY(rg_sampler_prior(c->proc, c->seed, base, n_pairs, X));
        RG_TRY(run_phase(x, &trunk, 0, kb, n_pairs, X));
        RG_TRY(run_clones(x, j, kb, n_pairs, X, X, xa, xb));
    }
    return RG_OK;
}

/* Shared trunks (docs/math.md 11.3): one trunk per pair, id traj0 + i, walked from T down through the branch
 * times in decreasing order; at each, clones of that branch leave it. T: (n_pairs, N). */
static int clone_shared(run_ctx *x, const double *t_b, size_t n_branch, size_t n_pairs, float *T, float *X,
                        float *xa, float *xb)
{
    const rg_sampler_cfg *c = x->c;
    size_t *ord = malloc(2 * n_branch * sizeof *ord), *kb = ord + n_branch;
    double **po = malloc(n_branch * sizeof *po);
    int st = ord && po ? RG_OK : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_sampler_clone: out of memory");
    for (size_t j = 0; st == RG_OK && j < n_branch; j++) st = branch_index(x, t_b[j], &kb[j]);
    for (size_t j = 0; st == RG_OK && j < n_branch; j++) { /* ord: branches by increasing grid index, stable */
        size_t p = j;
        for (; p > 0 && kb[ord[p - 1]] > kb[j]; p--) ord[p] = ord[p - 1];
        ord[p] = j;
    }
    if (st == RG_OK) st = rg_sampler_prior(c->proc, c->seed, c->traj0, n_pairs, T);
    size_t k_at = 0;
    for (size_t q = 0; st == RG_OK && q < n_branch; q++) {
        const size_t j = ord[q];
        for (size_t o = q; o < n_branch; o++) po[o - q] = branch_proj(c, ord[o], n_pairs); /* still ahead */
        const phase trunk = { RG_STREAM_REVERSE, RG_STREAM_REVERSE, n_pairs, c->traj0, 2 * n_pairs, 1,
                              c->proj_out ? po : NULL, n_branch - q, 0, j };
        st = run_phase(x, &trunk, k_at, kb[j], n_pairs, T);
        k_at = kb[j];
        if (st == RG_OK) st = run_clones(x, j, kb[j], n_pairs, T, X, xa, xb);
    }
    free(ord), free(po);
    return st;
}

/* Rows [off, off + n) of the population buffer G from X. */
static size_t gather(run_ctx *x, size_t off, size_t n, const float *X)
{
    memcpy(x->G + off * x->N, X, n * x->N * sizeof *X);
    return off + n;
}

/* Batch scores (sampler.h "Batch scores"): every branch walked at once, one score call per grid time on
 * the trunks, then all clones. Same rows, streams and ids as clone_independent / clone_shared. X: the
 * states, (n_branch, 2 n_pairs, N) (independent: branch j's trunk in its first n_pairs rows until it
 * branches), then (n_pairs, N) for the shared trunk. */
static int clone_batch(run_ctx *x, const double *t_b, size_t n_branch, size_t n_pairs, float *X, float *xa, float *xb)
{
    const rg_sampler_cfg *c = x->c;
    const size_t N = x->N, n = n_pairs, shared = c->trunk == RG_TRUNK_SHARED;
    float *T = X + n_branch * 2 * n * N; /* the shared trunk */
    size_t *ord = malloc(2 * n_branch * sizeof *ord), *kb = ord + n_branch;
    double **po = malloc(n_branch * sizeof *po);
    int st = ord && po ? RG_OK : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_sampler_clone: out of memory");
    size_t kmax = 0;
    for (size_t j = 0; st == RG_OK && j < n_branch; j++) st = branch_index(x, t_b[j], &kb[j]);
    for (size_t j = 0; st == RG_OK && j < n_branch; j++) { /* ord: branches by increasing grid index, stable */
        size_t p = j;
        for (; p > 0 && kb[ord[p - 1]] > kb[j]; p--) ord[p] = ord[p - 1];
        ord[p] = j;
        kmax = kb[j] > kmax ? kb[j] : kmax;
    }
    if (st == RG_OK && shared) st = rg_sampler_prior(c->proc, c->seed, c->traj0, n, T);
    for (size_t j = 0; st == RG_OK && !shared && j < n_branch; j++)
        st = rg_sampler_prior(c->proc, c->seed, ((uint64_t)j << 32) + c->traj0, n, X + j * 2 * n * N);
    for (size_t k = 0; st == RG_OK && k < x->K; k++) {
        for (size_t j = 0; j < n_branch; j++) /* branch j's clones leave its trunk at kb[j] */
            if (kb[j] == k) {
                float *Xj = X + j * 2 * n * N;
                if (shared) memcpy(Xj, T, n * N * sizeof *Xj);
                memcpy(Xj + n * N, Xj, n * N * sizeof *Xj);
            }
        step_mats m;
        st = step_begin(x, k, &m);
        size_t off = 0;
        if (shared && k < kmax) off = gather(x, off, n, T);
        for (size_t j = 0; !shared && j < n_branch; j++)
            if (k < kb[j]) off = gather(x, off, n, X + j * 2 * n * N);
        for (size_t j = 0; j < n_branch; j++)
            if (kb[j] <= k) off = gather(x, off, 2 * n, X + j * 2 * n * N);
        if (st == RG_OK) st = batch_eval(x, m.t, off, x->G, x->SG);
        off = 0;
        if (st == RG_OK && shared && k < kmax) {
            size_t q = 0, a = 0;
            for (; q < n_branch && kb[ord[q]] <= k; q++) {}
            for (size_t o = q; o < n_branch; o++) po[a++] = branch_proj(c, ord[o], n); /* still ahead */
            const phase trunk = { RG_STREAM_REVERSE, RG_STREAM_REVERSE, n, c->traj0, 2 * n, 1, c->proj_out ? po : NULL,
                                  a, 0, ord[q] };
            st = phase_step(x, &trunk, k, &m, n, T, x->SG);
            off += n;
        }
        for (size_t j = 0; st == RG_OK && !shared && j < n_branch; j++)
            if (k < kb[j]) {
                double *const pj[1] = { branch_proj(c, j, n) };
                const phase trunk = { RG_STREAM_REVERSE, RG_STREAM_REVERSE, n, ((uint64_t)j << 32) + c->traj0, 2 * n, 1,
                                      pj[0] ? pj : NULL, 1, 0, j };
                st = phase_step(x, &trunk, k, &m, n, X + j * 2 * n * N, x->SG + off * N);
                off += n;
            }
        for (size_t j = 0; st == RG_OK && j < n_branch; j++)
            if (kb[j] <= k) {
                double *const pj[1] = { branch_proj(c, j, n) };
                const phase clones = { RG_STREAM_CLONE_A, RG_STREAM_CLONE_B, n, ((uint64_t)j << 32) + c->traj0, 2 * n, 0,
                                       pj[0] ? pj : NULL, 1, 1, j };
                st = phase_step(x, &clones, k, &m, 2 * n, X + j * 2 * n * N, x->SG + off * N);
                off += 2 * n;
            }
    }
    for (size_t j = 0; st == RG_OK && j < n_branch; j++) {
        const float *Xj = X + j * 2 * n * N;
        double *const pj[1] = { branch_proj(c, j, n) };
        const phase clones = { RG_STREAM_CLONE_A, RG_STREAM_CLONE_B, n, ((uint64_t)j << 32) + c->traj0, 2 * n, 0,
                               pj[0] ? pj : NULL, 1, 1, j };
        st = phase_end(x, &clones, 2 * n, Xj);
        memcpy(xa + j * n * N, Xj, n * N * sizeof *Xj);
        memcpy(xb + j * n * N, Xj + n * N, n * N * sizeof *Xj);
    }
    free(ord), free(po);
    return st;
}

int rg_sampler_clone(const rg_sampler_cfg *c, const double *t_b, size_t n_branch, size_t n_pairs, float *xa,
                     float *xb)
{
    if (!t_b || !xa || !xb || n_branch == 0 || n_pairs == 0)
        RG_FAIL(RG_EINVAL, "rg_sampler_clone: NULL argument, no branch time or no pair");
    if (n_pairs > ((size_t)1 << 32)) RG_FAIL(RG_EINVAL, "rg_sampler_clone: n_pairs > 2^32");
    if (c && c->method == RG_SAMPLER_HEUN)
        RG_FAIL(RG_EINVAL, "rg_sampler_clone: the probability-flow ODE is deterministic and cannot continue clones");
    if (c && c->trunk != RG_TRUNK_INDEPENDENT && c->trunk != RG_TRUNK_SHARED)
        RG_FAIL(RG_EINVAL, "rg_sampler_clone: unknown trunk mode %d", (int)c->trunk);
    run_ctx ctx;
    const int batch = c && c->score.batch;
    const size_t pop = (2 * n_branch + 1) * n_pairs; /* rows alive at one grid time, at most (batch) */
    RG_TRY(ctx_init(&ctx, c, 2 * n_pairs, batch ? pop : 0));
    const size_t N = ctx.N, shared = c->trunk == RG_TRUNK_SHARED;
    float *X = malloc((batch ? pop : (2 + shared) * n_pairs) * N * sizeof *X);
    int st = X ? RG_OK : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_sampler_clone: out of memory");
    if (st == RG_OK && batch) st = clone_batch(&ctx, t_b, n_branch, n_pairs, X, xa, xb);
    else if (st == RG_OK)
        st = shared ? clone_shared(&ctx, t_b, n_branch, n_pairs, X + 2 * n_pairs * N, X, xa, xb)
                    : clone_independent(&ctx, t_b, n_branch, n_pairs, X, xa, xb);
    free(X);
    ctx_free(&ctx);
    return st;
}
