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

struct rg_score_emp {
    const rg_process *p;
    size_t P, N, k, r;
    float *X;
    double *xnorm; /* (P) |a_mu|^2 (k = 1) */
    emp_slot slot[2];
    int next;
    rg_score_emp_ws *ws;
};

/* One block of RG_SCORE__BLK queries (score_internal.h): y its whitened rows, yT the same as lanes (and
 * later yhat as lanes), G (P, BLK) the products and then the weights, pad the dense applies' scratch. */
struct rg_score_emp_ws {
    size_t B_max, P, N;
    float *y, *yT, *G, *pad;
    double *yn, *zinv;
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
    free(e);
}

rg_score_emp_ws *rg_score_emp_ws_new(const rg_score_emp *e, size_t B_max)
{
    if (!e || B_max == 0) return NULL;
    rg_score_emp_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    const size_t BLK = RG_SCORE__BLK;
    w->B_max = B_max;
    w->P = e->P;
    w->N = e->N;
    w->y = malloc(BLK * e->N * sizeof *w->y);
    w->yT = malloc(BLK * e->N * sizeof *w->yT);
    w->G = malloc(BLK * e->P * sizeof *w->G);
    w->pad = malloc(2 * BLK * e->k * sizeof *w->pad);
    w->yn = malloc(BLK * sizeof *w->yn);
    w->zinv = malloc(BLK * sizeof *w->zinv);
    if (!w->y || !w->yT || !w->G || !w->pad || !w->yn || !w->zinv) {
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
    free(w);
}

int rg_score_emp_new(const rg_process *p, const float *X, size_t P, size_t N, size_t B_max,
                     rg_score_emp **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_score_emp_new: out is NULL");
    *out = NULL;
    if (!p || !X) RG_FAIL(RG_EINVAL, "rg_score_emp_new: NULL process or training set");
    if (P == 0 || N == 0 || B_max == 0) RG_FAIL(RG_EINVAL, "rg_score_emp_new: P, N and B_max must be >= 1");
    if (N != rg_process_dim(p))
        RG_FAIL(RG_EINVAL, "rg_score_emp_new: training dimension %zu != process dimension %zu", N,
                rg_process_dim(p));
    if (P > (size_t)1 << 31 || N > (size_t)1 << 31) RG_FAIL(RG_EINVAL, "rg_score_emp_new: P or N too large");
    for (size_t i = 0; i < P * N; i++)
        if (!isfinite(X[i])) RG_FAIL(RG_EINVAL, "rg_score_emp_new: training point %zu contains NaN or Inf", i / N);
    rg_score_emp *e = calloc(1, sizeof *e);
    if (!e) RG_FAIL(RG_ENOMEM, "rg_score_emp_new: out of memory");
    e->p = p;
    e->P = P;
    e->N = N;
    e->k = rg_process_core(p);
    e->r = rg_process_mult(p);
    e->X = malloc(P * N * sizeof *e->X);
    int ok = e->X != NULL;
    const size_t kk = e->k * e->k;
    for (int i = 0; i < 2 && ok; i++) {
        emp_slot *s = &e->slot[i];
        s->Linv = malloc(kk * sizeof(double));
        s->LinvT = malloc(kk * sizeof(double));
        s->Linvf = malloc(kk * sizeof(float));
        s->LinvTf = malloc(kk * sizeof(float));
        s->Bm = e->k == 1 ? NULL : malloc(P * N * sizeof(float));
        s->norm = malloc(P * sizeof(double));
        s->normf = malloc(P * sizeof(float));
        ok = s->Linv && s->LinvT && s->Linvf && s->LinvTf && (s->Bm || e->k == 1) && s->norm && s->normf;
    }
    if (ok && e->k == 1) ok = (e->xnorm = malloc(P * sizeof(double))) != NULL;
    if (ok) e->ws = rg_score_emp_ws_new(e, B_max);
    if (!ok || !e->ws) {
        rg_score_emp_free(e);
        RG_FAIL(RG_ENOMEM, "rg_score_emp_new: out of memory (P = %zu, N = %zu, B_max = %zu)", P, N, B_max);
    }
    memcpy(e->X, X, P * N * sizeof *X);
    for (size_t mu = 0; e->xnorm && mu < P; mu++) {
        double n2 = 0.0;
        for (size_t i = 0; i < N; i++) n2 += (double)X[mu * N + i] * (double)X[mu * N + i];
        e->xnorm[mu] = n2;
    }
    *out = e;
    return RG_OK;
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
            for (size_t mu = 0; mu < e->P; mu++) s->norm[mu] = (double)s->c * (double)s->c * e->xnorm[mu];
        else if (!(pad = malloc(2 * RG_SCORE__BLK * k * sizeof *pad)))
            st = rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_score_emp_prepare: out of memory");
        else
            rg_score__apply(W, Wf, k, r, e->P, e->X, s->Bm, pad);
    }
    if (st == RG_OK) {
        for (size_t mu = 0; s->Bm && mu < e->P; mu++) {
            const float *b = s->Bm + mu * e->N;
            double n2 = 0.0;
            for (size_t i = 0; i < e->N; i++) n2 += (double)b[i] * (double)b[i];
            s->norm[mu] = n2;
        }
        for (size_t mu = 0; mu < e->P; mu++) s->normf[mu] = (float)s->norm[mu];
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

/* Softmax weights of the block's queries, lane by lane (score_internal.h): on entry G (P, BLK) holds
 * y_q . b_mu, on exit the unnormalised weights exp(-(r^2 - r^2_min)/2) (0 beyond WCUT, and 0 in the
 * padding lanes q >= bb), zinv[q] = 1/Z, and the extras of the bb queries. r^2 = |y|^2 + |b|^2 - 2 y.b in
 * float (its error is the products', docs/math.md 1.4), clamped at 0; sums in double, over mu in order. */
static void weights_lanes(const rg_score_emp *e, const emp_slot *sl, rg_score_emp_ws *w, size_t bb,
                          rg_score_extra *ex)
{
    const size_t P = e->P;
    const float *nf = sl->normf;
    float *G = w->G, yn[BLK], m1[BLK], m2[BLK];
    double Z[BLK], H[BLK];
    size_t i1[BLK];
    for (size_t q = 0; q < BLK; q++) yn[q] = q < bb ? (float)w->yn[q] : 0.0f, m1[q] = m2[q] = INFINITY;
    for (size_t mu = 0; mu < P; mu++) {
        float *g = G + mu * BLK;
        const float n = nf[mu];
        for (size_t q = 0; q < BLK; q++) {
            float r2 = yn[q] + n - 2.0f * g[q];
            r2 = r2 > 0.0f ? r2 : 0.0f; /* cancellation can make it slightly negative */
            g[q] = r2;
            m1[q] = r2 < m1[q] ? r2 : m1[q];
        }
    }
    for (size_t q = 0; q < BLK; q++) i1[q] = P, Z[q] = H[q] = 0.0;
    if (ex && (ex->nearest || ex->ratio)) /* first index of the minimum, and the second smallest r^2 */
        for (size_t mu = 0; mu < P; mu++)
            for (size_t q = 0; q < bb; q++) {
                const float r2 = G[mu * BLK + q];
                if (i1[q] == P && r2 == m1[q]) i1[q] = mu;
                else if (r2 < m2[q]) m2[q] = r2;
            }
    if (ex && ex->entropy) /* sum_mu w_mu (r^2_mu - m1), before G is overwritten */
        for (size_t mu = 0; mu < P; mu++)
            for (size_t q = 0; q < BLK; q++) {
                const float dr = G[mu * BLK + q] - m1[q];
                H[q] += dr < WCUT ? (double)exp_half_neg(dr) * (double)dr : 0.0;
            }
    for (size_t mu = 0; mu < P; mu++) {
        float *g = G + mu * BLK;
        for (size_t q = 0; q < BLK; q++) {
            const float dr = g[q] - m1[q];
            const float wq = dr < WCUT && q < bb ? exp_half_neg(dr) : 0.0f; /* beyond the cut a weight is 0 */
            g[q] = wq;
            Z[q] += (double)wq;
        }
    }
    for (size_t q = 0; q < bb; q++) {
        w->zinv[q] = 1.0 / Z[q];
        if (!ex) continue;
        const double lse = -0.5 * (double)m1[q] + log(Z[q]);
        if (ex->lse) ex->lse[q] = lse;
        if (ex->logp) ex->logp[q] = lse - log((double)P) - 0.5 * sl->logdet2pi;
        if (ex->entropy) ex->entropy[q] = log(Z[q]) + 0.5 * H[q] / Z[q];
        if (ex->nearest) ex->nearest[q] = (int)i1[q];
        if (ex->ratio) ex->ratio[q] = P > 1 ? (m2[q] > 0 ? sqrt((double)m1[q] / (double)m2[q]) : 1.0) : 0.0;
    }
}

/* One block of bb <= BLK queries (x, s and extra offset to the block). */
static void eval_block(const rg_score_emp *e, const emp_slot *sl, rg_score_emp_ws *w, size_t bb, const float *x,
                       float *s, rg_score_extra *extra)
{
    const size_t N = e->N, P = e->P, k = e->k, r = e->r;
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
    rg_score__lanes_mm(P, N, Bm, N, w->yT, w->G);                                 /* G = Bm y */
    weights_lanes(e, sl, w, bb, extra);
    if (!s) return;
    rg_score__lanes_mtm(P, N, Bm, N, w->G, w->yT);                                /* yhat = Bm^T W */
    for (size_t i = 0; i < N; i++) /* yhat / Z - y, back to rows */
        for (size_t b = 0; b < bb; b++) {
            float *yb = w->y + b * N + i;
            *yb = (c * w->yT[i * BLK + b]) * (float)w->zinv[b] - *yb;
        }
    rg_score__apply(sl->LinvT, sl->LinvTf, k, r, bb, w->y, s, w->pad);            /* s = -L^{-T}(y - yhat) */
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
        eval_block(e, sl, w, B - b0 < BLK ? B - b0 : BLK, x + b0 * N, s ? s + b0 * N : NULL, exb);
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
    rg_score sc = { iface_prepare, iface_eval, iface_ws_new, iface_ws_free, e, 1, 0 };
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
