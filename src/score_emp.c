/* Exact empirical score in the whitened two-product form (docs/math.md 5.2), on blocks of 64 queries as
 * vector lanes (score_lanes.c), and its naive reference. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "regimes/score.h"
#include "regimes/linalg.h"
#include "internal.h"
#include "score_internal.h"

typedef struct {
    int valid;
    double t;
    double *Linv, *LinvT; /* (k, k) core L_t^{-1} and its transpose */
    float *Linvf, *LinvTf;/* float copies (lane-wise core path, k > 2 and r = 1) */
    double logdet2pi;     /* log det(2 pi Sigma_t) = N log 2 pi + r log det S_t */
    float *Bm;            /* (P, N) whitened propagated training rows b_mu = (L^{-1} E (x) I) a_mu;
                           * NULL for k = 1 (ou): then b_mu = c a_mu and c goes with y and yhat */
    float c;              /* k = 1: the scalar L^{-1} E */
    double *norm;         /* (P) |b_mu|^2 */
    float *normf;         /* the same in float */
} emp_slot;

/* Weights below 2^-64 of the largest (which is 1) are set to 0 without calling expf: P <= 2^31 of them
 * change no float sum by more than 2^-33 of its largest term, and keeping them would put subnormal
 * products into GEMM 2 (each ~100x slower on x86). r^2 - r^2_min < WCUT = 2 * 64 log 2 keeps a weight. */
#define WCUT 88.7228391f

/* Rows per leaf block of the sums over the training set (docs/math.md 11.4): the partial sums Z, H and
 * yhat of rows [j LEAF, (j + 1) LEAF) are made from 0, and the leaves are combined by a fixed dyadic tree
 * over j, so a rank holding a contiguous range of whole leaves can combine its own subtrees and the
 * result does not depend on how the leaves are spread over ranks. A multiple of 256 (the transposed
 * product's block, score_lanes.c), so a leaf's product is the same blocked sum as before. */
#define LEAF ((size_t)4096)

/* A node of the tree: level lev (2^lev leaves), index j, covering leaves [j 2^lev, min((j+1) 2^lev, nb)). */
typedef struct {
    size_t lev, j;
} emp_node;

struct rg_score_emp {
    const rg_process *p;
    size_t P, N, k, r;  /* P: rows of the whole training set */
    size_t Pl, lo;      /* this rank's rows [lo, lo + Pl) */
    size_t nb, depth;   /* leaves ceil(P / LEAF); the root's level ceil(log2 nb) */
    float *X;           /* (Pl, N) this rank's rows */
    double *xnorm;      /* (Pl) |a_mu|^2 (k = 1) */
    emp_slot slot[2];
    int next;
    rg_score_emp_ws *ws;
    /* sharded (comm.size > 1): every rank's maximal owned nodes, node_off[q] .. node_off[q + 1] */
    rg_score_shard_comm comm;
    int sharded;
    emp_node *nodes;
    size_t *node_off, max_nodes;
};

/* Bytes of one partial (Z and H, BLK doubles each, then yhat N BLK floats when with_y). */
static size_t part_bytes(size_t N, int with_y)
{
    return 2 * RG_SCORE__BLK * sizeof(double) + (with_y ? N * RG_SCORE__BLK * sizeof(float) : 0);
}

/* One block of RG_SCORE__BLK queries (score_internal.h): y its whitened rows, yT the same as lanes, G
 * (Pl, BLK) the products and then the weights, pad the dense applies' scratch; tree (depth + 2) partials
 * (the root, then one per level), and when sharded the exchanged nodes (send max_nodes, recv size
 * max_nodes partials). */
struct rg_score_emp_ws {
    size_t B_max, P, N;
    float *y, *yT, *G, *pad;
    double *yn, *zinv;
    unsigned char *tree, *send, *recv;
};

static void slot_free(emp_slot *s)
{
    free(s->Linv);
    free(s->LinvT);
    free(s->Linvf);
    free(s->LinvTf);
    free(s->Bm);
    free(s->norm);
    free(s->normf);
}

void rg_score_emp_free(rg_score_emp *e)
{
    if (!e) return;
    slot_free(&e->slot[0]);
    slot_free(&e->slot[1]);
    rg_score_emp_ws_free(e->ws);
    free(e->xnorm);
    free(e->X);
    free(e->nodes);
    free(e->node_off);
    free(e);
}

rg_score_emp_ws *rg_score_emp_ws_new(const rg_score_emp *e, size_t B_max)
{
    if (!e || B_max == 0) return NULL;
    rg_score_emp_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    const size_t BLK = RG_SCORE__BLK, pb = part_bytes(e->N, 1);
    w->B_max = B_max;
    w->P = e->P;
    w->N = e->N;
    w->y = malloc(BLK * e->N * sizeof *w->y);
    w->yT = malloc(BLK * e->N * sizeof *w->yT);
    w->G = malloc(BLK * (e->Pl ? e->Pl : 1) * sizeof *w->G);
    w->pad = malloc(2 * BLK * e->k * sizeof *w->pad);
    w->yn = malloc(BLK * sizeof *w->yn);
    w->zinv = malloc(BLK * sizeof *w->zinv);
    w->tree = malloc((e->depth + 2) * pb);
    int ok = w->y && w->yT && w->G && w->pad && w->yn && w->zinv && w->tree;
    if (ok && e->sharded) {
        w->send = malloc((e->max_nodes ? e->max_nodes : 1) * pb);
        w->recv = malloc((size_t)e->comm.size * (e->max_nodes ? e->max_nodes : 1) * pb);
        ok = w->send && w->recv;
    }
    if (!ok) {
        rg_score_emp_ws_free(w);
        return NULL;
    }
    return w;
}

void rg_score_emp_ws_free(rg_score_emp_ws *w)
{
    if (!w) return;
    free(w->y);
    free(w->yT);
    free(w->G);
    free(w->pad);
    free(w->yn);
    free(w->zinv);
    free(w->tree);
    free(w->send);
    free(w->recv);
    free(w);
}

void rg_score_shard_rows(size_t P, int rank, int size, size_t *lo, size_t *hi)
{
    const size_t nb = (P + LEAF - 1) / LEAF, s = size > 0 ? (size_t)size : 1, q = rank > 0 ? (size_t)rank : 0;
    size_t a = nb * q / s * LEAF, b = nb * (q + 1) / s * LEAF;
    *lo = a < P ? a : P;
    *hi = b < P ? b : P;
}

/* The maximal aligned nodes covering leaves [a, b) of nb (greedy from a), into out (NULL: count only). */
static size_t cover(size_t a, size_t b, size_t nb, size_t depth, emp_node *out)
{
    size_t n = 0;
    while (a < b) {
        size_t lev = depth;
        for (;; lev--) {
            const size_t span = (size_t)1 << lev, end = a + span < nb ? a + span : nb;
            if (a % span == 0 && end <= b) break;
        }
        if (out) out[n] = (emp_node){ lev, a >> lev };
        n++;
        const size_t end = a + ((size_t)1 << lev);
        a = end < nb ? end : nb;
    }
    return n;
}

/* Every rank's row range (allgathered), checked: contiguous in rank order, on leaf boundaries, the same
 * P and N; then every rank's nodes. */
static int shard_layout(rg_score_emp *e, const rg_score_shard_comm *c)
{
    const size_t R = (size_t)c->size;
    uint64_t mine[4] = { e->lo, e->Pl, e->P, e->N }, *all = malloc(4 * R * sizeof *all);
    if (!all) RG_FAIL(RG_ENOMEM, "rg_score_emp_new_shard: out of memory");
    int st = c->allgather(c->ctx, mine, all, sizeof mine);
    if (st != RG_OK) {
        free(all);
        return rg__fail(st, __FILE__, __LINE__, "rg_score_emp_new_shard: the shard allgather failed (%d)", st);
    }
    size_t next = 0;
    for (size_t q = 0; q < R && st == RG_OK; q++) {
        const uint64_t *v = all + 4 * q;
        if (v[2] != e->P || v[3] != e->N)
            st = rg__fail(RG_EINVAL, __FILE__, __LINE__, "rg_score_emp_new_shard: rank %zu has P = %llu, N = %llu, this rank P = %zu, N = %zu",
                          q, (unsigned long long)v[2], (unsigned long long)v[3], e->P, e->N);
        else if (v[0] != next || (v[1] && v[0] % LEAF) || (v[0] + v[1] != e->P && (v[0] + v[1]) % LEAF))
            st = rg__fail(RG_EINVAL, __FILE__, __LINE__, "rg_score_emp_new_shard: rank %zu holds rows [%llu, %llu): ranks must hold "
                          "contiguous ranges in rank order starting at 0, on multiples of %zu (rg_score_shard_rows)",
                          q, (unsigned long long)v[0], (unsigned long long)(v[0] + v[1]), LEAF);
        next = (size_t)(v[0] + v[1]);
    }
    if (st == RG_OK && next != e->P)
        st = rg__fail(RG_EINVAL, __FILE__, __LINE__, "rg_score_emp_new_shard: the ranks hold %zu of P = %zu rows", next, e->P);
    if (st == RG_OK && !(e->node_off = calloc(R + 1, sizeof *e->node_off)))
        st = rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_score_emp_new_shard: out of memory");
    for (size_t q = 0; q < R && st == RG_OK; q++) {
        const size_t n = cover(all[4 * q] / LEAF, (all[4 * q] + all[4 * q + 1] + LEAF - 1) / LEAF, e->nb, e->depth, NULL);
        e->node_off[q + 1] = e->node_off[q] + n;
        if (n > e->max_nodes) e->max_nodes = n;
    }
    if (st == RG_OK && !(e->nodes = malloc((e->node_off[R] ? e->node_off[R] : 1) * sizeof *e->nodes)))
        st = rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_score_emp_new_shard: out of memory");
    for (size_t q = 0; q < R && st == RG_OK; q++)
        cover(all[4 * q] / LEAF, (all[4 * q] + all[4 * q + 1] + LEAF - 1) / LEAF, e->nb, e->depth, e->nodes + e->node_off[q]);
    free(all);
    return st;
}

int rg_score_emp_new_shard(const rg_process *p, const float *X, size_t rows, size_t row_lo, size_t P, size_t N,
                           size_t B_max, const rg_score_shard_comm *comm, rg_score_emp **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_score_emp_new: out is NULL");
    *out = NULL;
    if (!p || (!X && rows)) RG_FAIL(RG_EINVAL, "rg_score_emp_new: NULL process or training set");
    if (P == 0 || N == 0 || B_max == 0) RG_FAIL(RG_EINVAL, "rg_score_emp_new: P, N and B_max must be >= 1");
    if (row_lo > P || rows > P - row_lo)
        RG_FAIL(RG_EINVAL, "rg_score_emp_new_shard: rows [%zu, %zu) outside P = %zu", row_lo, row_lo + rows, P);
    if (comm && (comm->size < 1 || comm->rank < 0 || comm->rank >= comm->size || (comm->size > 1 && !comm->allgather)))
        RG_FAIL(RG_EINVAL, "rg_score_emp_new_shard: bad comm (rank %d of %d, allgather %s)", comm->rank, comm->size,
                comm->allgather ? "set" : "NULL");
    if ((!comm || comm->size == 1) && (row_lo != 0 || rows != P))
        RG_FAIL(RG_EINVAL, "rg_score_emp_new_shard: one rank must hold all P = %zu rows, not [%zu, %zu)", P, row_lo,
                row_lo + rows);
    if (N != rg_process_dim(p))
        RG_FAIL(RG_EINVAL, "rg_score_emp_new: training dimension %zu != process dimension %zu", N,
                rg_process_dim(p));
    if (P > (size_t)1 << 31 || N > (size_t)1 << 31) RG_FAIL(RG_EINVAL, "rg_score_emp_new: P or N too large");
    for (size_t i = 0; i < rows * N; i++)
        if (!isfinite(X[i]))
            RG_FAIL(RG_EINVAL, "rg_score_emp_new: training point %zu contains NaN or Inf", row_lo + i / N);
    rg_score_emp *e = calloc(1, sizeof *e);
    if (!e) RG_FAIL(RG_ENOMEM, "rg_score_emp_new: out of memory");
    e->p = p;
    e->P = P;
    e->N = N;
    e->Pl = rows;
    e->lo = row_lo;
    e->nb = (P + LEAF - 1) / LEAF;
    while (((size_t)1 << e->depth) < e->nb) e->depth++;
    e->k = rg_process_core(p);
    e->r = rg_process_mult(p);
    if (comm && comm->size > 1) {
        e->comm = *comm;
        e->sharded = 1;
        const int st = shard_layout(e, comm);
        if (st != RG_OK) {
            rg_score_emp_free(e);
            return st;
        }
    }
    const size_t Pa = rows ? rows : 1; /* a rank may hold no rows */
    e->X = malloc(Pa * N * sizeof *e->X);
    int ok = e->X != NULL;
    const size_t kk = e->k * e->k;
    for (int i = 0; i < 2 && ok; i++) {
        emp_slot *s = &e->slot[i];
        s->Linv = malloc(kk * sizeof(double));
        s->LinvT = malloc(kk * sizeof(double));
        s->Linvf = malloc(kk * sizeof(float));
        s->LinvTf = malloc(kk * sizeof(float));
        s->Bm = e->k == 1 ? NULL : malloc(Pa * N * sizeof(float));
        s->norm = malloc(Pa * sizeof(double));
        s->normf = malloc(Pa * sizeof(float));
        ok = s->Linv && s->LinvT && s->Linvf && s->LinvTf && (s->Bm || e->k == 1) && s->norm && s->normf;
    }
    if (ok && e->k == 1) ok = (e->xnorm = malloc(Pa * sizeof(double))) != NULL;
    if (ok) e->ws = rg_score_emp_ws_new(e, B_max);
    if (!ok || !e->ws) {
        rg_score_emp_free(e);
        RG_FAIL(RG_ENOMEM, "rg_score_emp_new: out of memory (P = %zu rows here, N = %zu, B_max = %zu)", rows, N, B_max);
    }
    if (rows) memcpy(e->X, X, rows * N * sizeof *X);
    for (size_t mu = 0; e->xnorm && mu < rows; mu++) {
        double n2 = 0.0;
        for (size_t i = 0; i < N; i++) n2 += (double)X[mu * N + i] * (double)X[mu * N + i];
        e->xnorm[mu] = n2;
    }
    *out = e;
    return RG_OK;
}

int rg_score_emp_new(const rg_process *p, const float *X, size_t P, size_t N, size_t B_max, rg_score_emp **out)
{
    return rg_score_emp_new_shard(p, X, P, 0, P, N, B_max, NULL, out);
}

int rg_score_emp_collective(const rg_score_emp *e) { return e && e->sharded; }

size_t rg_score_emp_bytes(const rg_process *p, size_t rows, size_t P, size_t N, int ranks, size_t n_ws)
{
    const size_t k = p ? rg_process_core(p) : 1, BLK = RG_SCORE__BLK, Pa = rows ? rows : 1;
    size_t nb = (P + LEAF - 1) / LEAF, depth = 0;
    while (((size_t)1 << depth) < nb) depth++;
    const size_t pb = part_bytes(N, 1), nodes = ranks > 1 ? 2 * depth + 1 : 0;
    size_t obj = Pa * N * sizeof(float) * (k == 1 ? 1 : 3)      /* X, and two whitened slots unless ou */
                 + Pa * (2 * (sizeof(double) + sizeof(float)) + (k == 1 ? sizeof(double) : 0));
    size_t ws = 2 * BLK * N * sizeof(float) + BLK * Pa * sizeof(float) + (depth + 2) * pb
                + (ranks > 1 ? (1 + (size_t)ranks) * nodes * pb : 0);
    return obj + (n_ws + 1) * ws; /* + 1: the object's own workspace */
}

size_t rg_score_emp_P(const rg_score_emp *e) { return e ? e->P : 0; }
size_t rg_score_emp_N(const rg_score_emp *e) { return e ? e->N : 0; }

static const emp_slot *find_slot(const rg_score_emp *e, double t)
{
    for (int i = 0; i < 2; i++)
        if (e->slot[i].valid && e->slot[i].t == t) return &e->slot[i];
    return NULL;
}

int rg_score_emp_prepare(rg_score_emp *e, double t)
{
    if (!e) RG_FAIL(RG_EINVAL, "rg_score_emp_prepare: NULL object");
    if (!(t > 0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "rg_score_emp_prepare: t = %g, want 0 < t < inf", t);
    if (find_slot(e, t)) return RG_OK;
    const size_t k = e->k, r = e->r, kk = k * k;
    double Ebuf[64], Sbuf[64], Lbuf[64], Wbuf[64];
    double *E = Ebuf, *S = Sbuf, *L = Lbuf, *W = Wbuf, *heap = NULL;
    float *Wf = NULL, *pad = NULL;
    if (k > 8) {
        heap = malloc(4 * kk * sizeof *heap);
        Wf = malloc(kk * sizeof *Wf);
        if (!heap || !Wf) {
            free(heap);
            free(Wf);
            RG_FAIL(RG_ENOMEM, "rg_score_emp_prepare: out of memory");
        }
        E = heap;
        S = E + kk;
        L = S + kk;
        W = L + kk;
    }
    emp_slot *s = &e->slot[e->next];
    s->valid = 0;
    int st = rg_process_moments(e->p, t, E, S);
    if (st == RG_OK) st = rg_linalg_chol(k, S, L);
    if (st == RG_OK) st = rg_score__inv(k, L, s->Linv);
    if (st == RG_OK) {
        double ld = 0.0;
        for (size_t i = 0; i < k; i++) ld += 2.0 * log(L[i * k + i]);
        s->logdet2pi = (double)e->N * log(2.0 * RG__PI) + (double)r * ld;
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) {
                if (j > i) s->Linv[i * k + j] = 0.0; /* exact lower triangle */
                s->LinvT[j * k + i] = s->Linv[i * k + j];
            }
        for (size_t i = 0; i < kk; i++) {
            s->Linvf[i] = (float)s->Linv[i];
            s->LinvTf[i] = (float)s->LinvT[i];
        }
        rg_linalg_mul(k, s->Linv, E, W); /* W = L^{-1} E */
        if (Wf)
            for (size_t i = 0; i < kk; i++) Wf[i] = (float)W[i];
        s->c = (float)W[0];
        if (k == 1) /* b_mu = c a_mu: nothing to store; |b_mu|^2 = c^2 |a_mu|^2 with the float c used */
            for (size_t mu = 0; mu < e->Pl; mu++) s->norm[mu] = (double)s->c * (double)s->c * e->xnorm[mu];
        else if (!(pad = malloc(2 * RG_SCORE__BLK * k * sizeof *pad)))
            st = rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_score_emp_prepare: out of memory");
        else
            rg_score__apply(W, Wf, k, r, e->Pl, e->X, s->Bm, pad);
    }
    if (st == RG_OK) {
        for (size_t mu = 0; s->Bm && mu < e->Pl; mu++) {
            const float *b = s->Bm + mu * e->N;
            double n2 = 0.0;
            for (size_t i = 0; i < e->N; i++) n2 += (double)b[i] * (double)b[i];
            s->norm[mu] = n2;
        }
        for (size_t mu = 0; mu < e->Pl; mu++) s->normf[mu] = (float)s->norm[mu];
        s->t = t;
        s->valid = 1;
        e->next ^= 1;
    }
    free(heap);
    free(Wf);
    free(pad);
    return st;
}

/* exp(-d / 2) for 0 <= d < WCUT, in float, vectorisable (no libm call): 2^n p(r) with Cody-Waite
 * reduction and the Cephes expf polynomial. Checked exhaustively against double exp over every float d
 * in [0, WCUT): max relative error 8.3e-8 (about 1.4 float ulp). n lies in [-64, 0], so 2^n is built
 * from its exponent bits as a normal float. */
static inline float exp_half_neg(float d)
{
    const float x = -0.5f * d;
    const float tt = x * 1.44269504088896341f - 0.5f; /* round(x log2 e), x <= 0 */
    const int n = (int)tt;                             /* truncation toward 0 of a negative value */
    const float nf = (float)n;
    const float r = (x - nf * 0.693359375f) + nf * 2.12194440e-4f;
    float q = 1.9875691500e-4f;
    q = q * r + 1.3981999507e-3f;
    q = q * r + 8.3334519073e-3f;
    q = q * r + 4.1665795894e-2f;
    q = q * r + 1.6666665459e-1f;
    q = q * r + 5.0000001201e-1f;
    const float e = q * r * r + r + 1.0f;
    union { uint32_t u; float f; } sc;
    sc.u = (uint32_t)(n + 127) << 23;
    return e * sc.f;
}

#define BLK RG_SCORE__BLK

/* The exact minima of a block (docs/math.md 11.4): per lane the smallest r^2 (m1), the global index of its
 * first occurrence (i1, P if none) and the smallest r^2 of the other rows (m2). */
typedef struct {
    float m1, m2;
    uint64_t i1;
} emp_min;

/* Distances of this rank's rows, lane by lane (score_internal.h): on entry G (Pl, BLK) holds y_q . b_mu, on
 * exit r^2 = |y|^2 + |b|^2 - 2 y.b in float (its error is the products', docs/math.md 1.4), clamped at 0;
 * mn the block's minima over this rank's rows (i1 and m2 only when idx). */
static void dist_lanes(const rg_score_emp *e, const emp_slot *sl, rg_score_emp_ws *w, size_t bb, int idx,
                       emp_min *mn)
{
    const size_t Pl = e->Pl;
    const float *nf = sl->normf;
    float *G = w->G, yn[BLK], m1[BLK], m2[BLK];
    size_t i1[BLK];
    for (size_t q = 0; q < BLK; q++) yn[q] = q < bb ? (float)w->yn[q] : 0.0f, m1[q] = m2[q] = INFINITY;
    for (size_t mu = 0; mu < Pl; mu++) {
        float *g = G + mu * BLK;
        const float n = nf[mu];
        for (size_t q = 0; q < BLK; q++) {
            float r2 = yn[q] + n - 2.0f * g[q];
            r2 = r2 > 0.0f ? r2 : 0.0f; /* cancellation can make it slightly negative */
            g[q] = r2;
            m1[q] = r2 < m1[q] ? r2 : m1[q];
        }
    }
    for (size_t q = 0; q < BLK; q++) i1[q] = Pl;
    if (idx) /* first index of the minimum, and the second smallest r^2 */
        for (size_t mu = 0; mu < Pl; mu++)
            for (size_t q = 0; q < bb; q++) {
                const float r2 = G[mu * BLK + q];
                if (i1[q] == Pl && r2 == m1[q]) i1[q] = mu;
                else if (r2 < m2[q]) m2[q] = r2;
            }
    for (size_t q = 0; q < BLK; q++)
        mn[q] = (emp_min){ m1[q], m2[q], i1[q] < Pl ? (uint64_t)(e->lo + i1[q]) : (uint64_t)e->P };
}

/* Merge every rank's minima (recv: size x BLK, rank order = row order) into mn: exact, so the same as one
 * rank's pass over all rows. */
static void merge_min(size_t R, const emp_min *all, emp_min *mn)
{
    for (size_t q = 0; q < BLK; q++) {
        size_t best = 0;
        for (size_t s = 1; s < R; s++)
            if (all[s * BLK + q].m1 < all[best * BLK + q].m1) best = s; /* strict: the first rank wins ties */
        emp_min m = all[best * BLK + q];
        for (size_t s = 0; s < R; s++)
            if (s != best && all[s * BLK + q].m1 < m.m2) m.m2 = all[s * BLK + q].m1;
        mn[q] = m;
    }
}

/* Leaf j's partial: weights exp(-(r^2 - m1)/2) (0 beyond WCUT and in the padding lanes q >= bb) over its
 * rows, written over their r^2 in G; Z and (ent) H = sum w (r^2 - m1) in double over the rows in order;
 * (with_y) yhat = the leaf rows of Bm^T W as lanes. */
static void leaf_part(const rg_score_emp *e, const emp_slot *sl, rg_score_emp_ws *w, size_t bb, const float *m1,
                      size_t j, int ent, int with_y, unsigned char *out)
{
    double *Z = (double *)(void *)out, *H = Z + BLK;
    float *yh = (float *)(void *)(H + BLK);
    const size_t a = j * LEAF - e->lo, n = (j + 1) * LEAF < e->P ? LEAF : e->P - j * LEAF;
    float *G = w->G + a * BLK;
    for (size_t q = 0; q < BLK; q++) Z[q] = H[q] = 0.0;
    if (ent) /* before G is overwritten */
        for (size_t mu = 0; mu < n; mu++)
            for (size_t q = 0; q < BLK; q++) {
                const float dr = G[mu * BLK + q] - m1[q];
                H[q] += dr < WCUT ? (double)exp_half_neg(dr) * (double)dr : 0.0;
            }
    for (size_t mu = 0; mu < n; mu++) {
        float *g = G + mu * BLK;
        for (size_t q = 0; q < BLK; q++) {
            const float dr = g[q] - m1[q];
            const float wq = dr < WCUT && q < bb ? exp_half_neg(dr) : 0.0f; /* beyond the cut a weight is 0 */
            g[q] = wq;
            Z[q] += (double)wq;
        }
    }
    if (with_y) {
        const float *Bm = sl->Bm ? sl->Bm : e->X;
        rg_score__lanes_mtm(n, e->N, Bm + a * e->N, e->N, G, yh);
    }
}

/* out += in (partials of N lanes' yhat when with_y). */
static void part_add(size_t N, int with_y, unsigned char *out, const unsigned char *in)
{
    double *o = (double *)(void *)out;
    const double *i = (const double *)(const void *)in;
    for (size_t q = 0; q < 2 * BLK; q++) o[q] += i[q];
    if (!with_y) return;
    float *of = (float *)(void *)(o + 2 * BLK);
    const float *inf = (const float *)(const void *)(i + 2 * BLK);
    for (size_t m = 0; m < N * BLK; m++) of[m] += inf[m];
}

/* The tree below node (lev, j) into out: leaves computed here (got == NULL) or, when sharded, nodes taken
 * from the exchanged partials (got: every rank's nodes, e->nodes order). The right child exists when its
 * first leaf is below nb; a node with one child is that child, bit for bit. Scratch: w->tree level lev. */
typedef struct {
    const rg_score_emp *e;
    const emp_slot *sl;
    rg_score_emp_ws *w;
    size_t bb, pb;
    const float *m1;
    int ent, with_y;
    const unsigned char *got;
} tree_ctx;

/* The rank whose nodes include node i. */
static size_t node_rank(const rg_score_emp *e, size_t i)
{
    size_t q = 0;
    while (e->node_off[q + 1] <= i) q++;
    return q;
}

static void tree_node(const tree_ctx *c, size_t lev, size_t j, unsigned char *out)
{
    const rg_score_emp *e = c->e;
    if (c->got) {
        const size_t n = e->node_off[e->comm.size];
        for (size_t i = 0; i < n; i++)
            if (e->nodes[i].lev == lev && e->nodes[i].j == j) {
                const size_t q = node_rank(e, i), slot = i - e->node_off[q];
                memcpy(out, c->got + (q * e->max_nodes + slot) * c->pb, c->pb);
                return;
            }
    }
    if (lev == 0) {
        leaf_part(e, c->sl, c->w, c->bb, c->m1, j, c->ent, c->with_y, out);
        return;
    }
    tree_node(c, lev - 1, 2 * j, out);
    if (((2 * j + 1) << (lev - 1)) < e->nb) {
        unsigned char *tmp = c->w->tree + (lev + 1) * c->pb;
        tree_node(c, lev - 1, 2 * j + 1, tmp);
        part_add(e->N, c->with_y, out, tmp);
    }
}

/* One block of bb <= BLK queries (x, s and extra offset to the block). */
static int eval_block(const rg_score_emp *e, const emp_slot *sl, rg_score_emp_ws *w, size_t bb, const float *x,
                      float *s, rg_score_extra *ex)
{
    const size_t N = e->N, Pl = e->Pl, k = e->k, r = e->r;
    rg_score__apply(sl->Linv, sl->Linvf, k, r, bb, x, w->y, w->pad);             /* y = (L^{-1} (x) I) z */
    for (size_t b = 0; b < bb; b++) {
        const float *y = w->y + b * N;
        double n2 = 0.0;
        for (size_t i = 0; i < N; i++) n2 += (double)y[i] * (double)y[i];
        w->yn[b] = n2;
    }
    /* ou: b_mu = c a_mu is not stored; c goes with y on the way in and with yhat on the way out */
    const float *Bm = sl->Bm ? sl->Bm : e->X, c = sl->Bm ? 1.0f : sl->c;
    rg_score__lanes_load(bb, N, w->y, w->yT);
    if (c != 1.0f)
        for (size_t i = 0; i < N * BLK; i++) w->yT[i] *= c;
    if (Pl) rg_score__lanes_mm(Pl, N, Bm, N, w->yT, w->G);                      /* G = Bm y */
    emp_min mn[BLK];
    dist_lanes(e, sl, w, bb, ex && (ex->nearest || ex->ratio), mn);
    const int ent = ex && ex->entropy, with_y = s != NULL;
    const size_t pb = part_bytes(N, with_y);
    if (e->sharded) { /* the exact minima, then this rank's subtrees, then everyone's */
        const size_t R = (size_t)e->comm.size;
        emp_min *all = (emp_min *)(void *)w->recv;
        int st = e->comm.allgather(e->comm.ctx, mn, all, sizeof mn);
        if (st != RG_OK) RG_FAIL(st, "rg_score_emp_eval: the shard allgather failed (%d)", st);
        merge_min(R, all, mn);
    }
    float m1[BLK];
    for (size_t q = 0; q < BLK; q++) m1[q] = mn[q].m1;
    tree_ctx tc = { e, sl, w, bb, pb, m1, ent, with_y, NULL };
    unsigned char *root = w->tree;
    if (e->sharded) {
        const size_t q0 = (size_t)e->comm.rank;
        for (size_t i = e->node_off[q0]; i < e->node_off[q0 + 1]; i++)
            tree_node(&tc, e->nodes[i].lev, e->nodes[i].j, w->send + (i - e->node_off[q0]) * pb);
        int st = e->comm.allgather(e->comm.ctx, w->send, w->recv, e->max_nodes * pb);
        if (st != RG_OK) RG_FAIL(st, "rg_score_emp_eval: the shard allgather failed (%d)", st);
        tc.got = w->recv;
    }
    tree_node(&tc, e->depth, 0, root);
    const double *Z = (const double *)(const void *)root, *H = Z + BLK;
    const float *yh = (const float *)(const void *)(H + BLK);
    for (size_t q = 0; q < bb; q++) {
        w->zinv[q] = 1.0 / Z[q];
        if (!ex) continue;
        const double lse = -0.5 * (double)m1[q] + log(Z[q]);
        if (ex->lse) ex->lse[q] = lse;
        if (ex->logp) ex->logp[q] = lse - log((double)e->P) - 0.5 * sl->logdet2pi;
        if (ex->entropy) ex->entropy[q] = log(Z[q]) + 0.5 * H[q] / Z[q];
        if (ex->nearest) ex->nearest[q] = (int)mn[q].i1;
        if (ex->ratio) ex->ratio[q] = e->P > 1 ? (mn[q].m2 > 0 ? sqrt((double)m1[q] / (double)mn[q].m2) : 1.0) : 0.0;
    }
    if (!s) return RG_OK;
    for (size_t i = 0; i < N; i++) /* yhat / Z - y, back to rows */
        for (size_t b = 0; b < bb; b++) {
            float *yb = w->y + b * N + i;
            *yb = (c * yh[i * BLK + b]) * (float)w->zinv[b] - *yb;
        }
    rg_score__apply(sl->LinvT, sl->LinvTf, k, r, bb, w->y, s, w->pad);            /* s = -L^{-T}(y - yhat) */
    return RG_OK;
}

int rg_score_emp_eval_ws(const rg_score_emp *e, rg_score_emp_ws *w, double t, size_t B, const float *x,
                         float *s, rg_score_extra *extra)
{
    if (!e || !w || !x) RG_FAIL(RG_EINVAL, "rg_score_emp_eval: NULL argument");
    if (B == 0 || B > w->B_max) RG_FAIL(RG_EINVAL, "rg_score_emp_eval: B = %zu, want 1..%zu", B, w->B_max);
    if (w->P != e->P || w->N != e->N) RG_FAIL(RG_EINVAL, "rg_score_emp_eval: workspace of another object");
    const emp_slot *sl = find_slot(e, t);
    if (!sl) RG_FAIL(RG_EINVAL, "rg_score_emp_eval: t = %.17g was not prepared", t);
    const size_t N = e->N;
    for (size_t b0 = 0; b0 < B; b0 += BLK) {
        rg_score_extra ex, *exb = NULL;
        if (extra) {
            ex = (rg_score_extra){ extra->lse ? extra->lse + b0 : NULL, extra->nearest ? extra->nearest + b0 : NULL,
                                   extra->logp ? extra->logp + b0 : NULL, extra->ratio ? extra->ratio + b0 : NULL,
                                   extra->entropy ? extra->entropy + b0 : NULL };
            exb = &ex;
        }
        RG_TRY(eval_block(e, sl, w, B - b0 < BLK ? B - b0 : BLK, x + b0 * N, s ? s + b0 * N : NULL, exb));
    }
    return RG_OK;
}

int rg_score_emp_eval(rg_score_emp *e, double t, size_t B, const float *x, float *s, rg_score_extra *extra)
{
    RG_TRY(rg_score_emp_prepare(e, t));
    return rg_score_emp_eval_ws(e, e->ws, t, B, x, s, extra);
}

int rg_score_emp_fn(void *ctx, double t, size_t B, const float *x, float *s)
{
    return rg_score_emp_eval(ctx, t, B, x, s, NULL);
}

static int iface_prepare(void *ctx, double t) { return rg_score_emp_prepare(ctx, t); }
static int iface_eval(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *ex)
{
    return rg_score_emp_eval_ws(ctx, ws, t, B, x, s, ex);
}
static void *iface_ws_new(void *ctx, size_t B_max) { return rg_score_emp_ws_new(ctx, B_max); }
static void iface_ws_free(void *ws) { rg_score_emp_ws_free(ws); }

rg_score rg_score_emp_iface(rg_score_emp *e)
{
    rg_score sc = { iface_prepare, iface_eval, iface_ws_new, iface_ws_free, e, 1, 0, rg_score_emp_collective(e) };
    return sc;
}

/* ---- naive reference ------------------------------------------------------------------------------ */
int rg_score_emp_naive(const rg_process *p, const float *X, size_t P, size_t N, double t, size_t B,
                       const double *x, double *s, double *logp, double *lse, int *nearest)
{
    if (!p || !X || !x || P == 0 || N == 0 || B == 0 || N != rg_process_dim(p))
        RG_FAIL(RG_EINVAL, "rg_score_emp_naive: bad arguments");
    if (!(t > 0)) RG_FAIL(RG_EINVAL, "rg_score_emp_naive: t = %g, want > 0", t);
    const size_t k = rg_process_core(p), r = rg_process_mult(p);
    double *E = malloc(k * k * sizeof *E), *S = malloc(k * k * sizeof *S);
    double *M = calloc(N * N, sizeof *M), *Sig = calloc(N * N, sizeof *Sig), *Si = malloc(N * N * sizeof *Si);
    double *d = malloc(N * sizeof *d), *a = malloc(P * sizeof *a), *z0 = malloc(N * sizeof *z0);
    int st = (E && S && M && Sig && Si && d && a && z0) ? RG_OK : RG_ENOMEM;
    if (st == RG_OK) st = rg_process_moments(p, t, E, S);
    if (st == RG_OK) {
        for (size_t i = 0; i < k; i++) /* dense M = E (x) I_r, Sigma = S (x) I_r */
            for (size_t j = 0; j < k; j++)
                for (size_t c = 0; c < r; c++) {
                    M[(i * r + c) * N + j * r + c] = E[i * k + j];
                    Sig[(i * r + c) * N + j * r + c] = S[i * k + j];
                }
        st = rg_score__inv(N, Sig, Si);
    }
    double logdet = 0.0;
    if (st == RG_OK) { /* log det Sigma from a dense Cholesky */
        double *L = malloc(N * N * sizeof *L);
        st = L ? rg_linalg_chol(N, Sig, L) : RG_ENOMEM;
        for (size_t i = 0; st == RG_OK && i < N; i++) logdet += 2.0 * log(L[i * N + i]);
        free(L);
    }
    for (size_t b = 0; st == RG_OK && b < B; b++) {
        const double *xb = x + b * N;
        double mx = -INFINITY;
        size_t arg = 0;
        for (size_t mu = 0; mu < P; mu++) {
            for (size_t i = 0; i < N; i++) { /* d = x - M a_mu */
                double acc = xb[i];
                for (size_t j = 0; j < N; j++) acc -= M[i * N + j] * (double)X[mu * N + j];
                d[i] = acc;
            }
            double r2 = 0.0;
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < N; j++) r2 += d[i] * Si[i * N + j] * d[j];
            a[mu] = -0.5 * r2;
            if (a[mu] > mx) {
                mx = a[mu];
                arg = mu;
            }
        }
        double Z = 0.0;
        for (size_t mu = 0; mu < P; mu++) Z += exp(a[mu] - mx);
        const double l = mx + log(Z);
        if (lse) lse[b] = l;
        if (logp) logp[b] = l - log((double)P) - 0.5 * ((double)N * log(2.0 * RG__PI) + logdet);
        if (nearest) nearest[b] = (int)arg;
        if (!s) continue;
        for (size_t i = 0; i < N; i++) z0[i] = 0.0;
        for (size_t mu = 0; mu < P; mu++) {
            const double wmu = exp(a[mu] - l);
            for (size_t i = 0; i < N; i++) z0[i] += wmu * (double)X[mu * N + i];
        }
        for (size_t i = 0; i < N; i++) {
            double acc = xb[i];
            for (size_t j = 0; j < N; j++) acc -= M[i * N + j] * z0[j];
            d[i] = acc;
        }
        for (size_t i = 0; i < N; i++) {
            double acc = 0.0;
            for (size_t j = 0; j < N; j++) acc -= Si[i * N + j] * d[j];
            s[b * N + i] = acc;
        }
    }
    free(E), free(S), free(M), free(Sig), free(Si), free(d), free(a), free(z0);
    if (st == RG_ENOMEM) RG_FAIL(RG_ENOMEM, "rg_score_emp_naive: out of memory");
    return st;
}
