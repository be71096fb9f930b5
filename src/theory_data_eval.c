/* The criteria of a rg_theory_dataset at one time (theory.h, "Theory on a user's data set").
 *
 * k = 1 (ou and scalar schedules): M_t = e I and Sigma_t = s I, so every criterion is a sum over the
 * spectra that rg_theory_dataset_new computed once (O(N), kappa O(K^2 N)).
 * k >= 2: core moments E_t, S_t (process.h) and, never an N k x N k loop, the Kronecker products
 * (B (x) I_r) applied to a state viewed as a (k, r) array, i.e. one k x k by k x r product:
 *   lambda_max   Lanczos on v -> (B (x) I) C (B (x) I)^T v, B = chol(S)^{-1} E (or chol(S_inf)^{-1} E);
 *                N <= TD_DENSE_MAX: the matrix formed, dsyevr's top eigenvalue;
 *   Gamma_t      (E (x) I) C' (E (x) I)^T + S (x) I formed by two dgemm, one Cholesky, which gives both
 *                log det Gamma_t (the collapse sum) and, by one triangular solve with all K propagated
 *                class means, kappa for every class pair.
 * Criteria that decay like e^{-2 rate t} are kept as scale * val with scale = c^2, c = max |B| (or
 * max |E|), so their logarithms stay finite where the products underflow (as theory.c does). Values
 * at a time already computed come from a memo, so the root scans of kappa and f in
 * rg_theory_dataset_all share one Cholesky per grid time. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "regimes/linalg.h"
#include "theory_data_internal.h"

#define TD_DENSE_MAX 64        /* N at or below: form K_t and take its top eigenvalue with dsyevr */
#define TD_LANCZOS_M 100       /* Krylov dimension before an explicit restart */
#define TD_LANCZOS_RESTARTS 30 /* then RG_ENOCONV */
/* Stop when the top Ritz pair's residual |K x - theta x| = beta_j |z_j| is at most 1e-11 theta: then
 * some eigenvalue lies within 1e-11 theta of theta (and, the top one being separated, the error is of
 * order residual^2 / gap). 1e-11 keeps the roots within ~1e-11 of the dense answer. */
#define TD_LANCZOS_TOL 1e-11
#define TD_BOUND_K 8 /* sign certificates (td_eval_bound) for cores up to this size: k x k work */

typedef struct {
    double t;
    td_value v[TD_NKINDS];
    unsigned have; /* bit kind set when v[kind] holds */
} td_memo;

struct td_eval {
    const rg_process *p;
    const rg_theory_dataset *ds;
    size_t k, r, N, K;
    double *E, *S, *L, *B, *Linf; /* (k, k) each */
    int have_inf;
    double *T, *Y;     /* (N, N) each, k >= 2 only: Gamma_t or K_t, and the transpose scratch */
    double *Q;         /* (TD_LANCZOS_M + 1, N) Lanczos basis */
    double *u, *w, *h; /* (N), (N), (TD_LANCZOS_M + 1) */
    double *tri;       /* 5 (TD_LANCZOS_M + 1): alpha, beta, d, e, z */
    double *Mt;        /* (N, K) propagated class means */
    double *inv;       /* (N) k = 1 kappa: 1 / (e^2 w_i + s) */
    td_memo *memo;
    size_t n_memo, cap_memo, count;
};

int td_check(const rg_process *p, const rg_theory_dataset *ds)
{
    if (!p || !ds) RG_FAIL(RG_EINVAL, "theory on data: process or data set is NULL");
    if (rg_process_dim(p) != ds->N)
        RG_FAIL(RG_EINVAL, "theory on data: the process has dimension %zu, the data N = %zu", rg_process_dim(p), ds->N);
    return RG_OK;
}

void td_eval_free(td_eval *e)
{
    if (!e) return;
    free(e->E);
    free(e->T);
    free(e->memo);
    free(e);
}

int td_eval_new(const rg_process *p, const rg_theory_dataset *ds, td_eval **out)
{
    RG_TRY(td_check(p, ds));
    td_eval *e = calloc(1, sizeof *e);
    if (!e) RG_FAIL(RG_ENOMEM, "theory on data: out of memory");
    e->p = p;
    e->ds = ds;
    e->k = rg_process_core(p);
    e->r = rg_process_mult(p);
    e->N = ds->N;
    e->K = ds->K;
    const size_t kk = e->k * e->k, N = e->N, m1 = TD_LANCZOS_M + 1;
    e->E = malloc(5 * kk * sizeof *e->E);
    /* one block: (N, N) x 2, Q, u, w, h, tri, Mt, inv; k = 1 needs only inv */
    const size_t big = e->k == 1 ? N : 2 * N * N + m1 * N + 2 * N + m1 + 5 * m1 + N * e->K + N;
    e->T = malloc(big * sizeof *e->T);
    if (!e->E || !e->T) {
        td_eval_free(e);
        RG_FAIL(RG_ENOMEM, "theory on data: out of memory for the %zu x %zu scratch", N, N);
    }
    e->S = e->E + kk;
    e->L = e->E + 2 * kk;
    e->B = e->E + 3 * kk;
    e->Linf = e->E + 4 * kk;
    if (e->k == 1) { /* the block is only inv (still freed through T) */
        e->inv = e->T;
        *out = e;
        return RG_OK;
    }
    e->Y = e->T + N * N;
    e->Q = e->Y + N * N;
    e->u = e->Q + m1 * N;
    e->w = e->u + N;
    e->h = e->w + N;
    e->tri = e->h + m1;
    e->Mt = e->tri + 5 * m1;
    e->inv = e->Mt + N * e->K;
    *out = e;
    return RG_OK;
}

size_t td_eval_count(const td_eval *e) { return e ? e->count : 0; }
int td_eval_scheduled(const td_eval *e) { return rg_process_is_scheduled(e->p); }

/* ---- memo ------------------------------------------------------------------------------------------ */

static td_memo *memo_get(td_eval *e, double t)
{
    for (size_t i = e->n_memo; i-- > 0;)
        if (e->memo[i].t == t) return &e->memo[i];
    if (e->n_memo == e->cap_memo) {
        size_t nc = e->cap_memo ? 2 * e->cap_memo : 256;
        td_memo *m = realloc(e->memo, nc * sizeof *m);
        if (!m) return NULL;
        e->memo = m;
        e->cap_memo = nc;
    }
    td_memo *m = &e->memo[e->n_memo++];
    m->t = t;
    m->have = 0;
    return m;
}

double td_max_pair(size_t K, size_t N, const double *X, size_t sc, size_t si, const double *w)
{
    double best = 0.0;
    for (size_t a = 0; a < K; a++)
        for (size_t b = a + 1; b < K; b++) {
            double sum = 0.0;
            for (size_t i = 0; i < N; i++) {
                const double d = 0.5 * (X[a * sc + i * si] - X[b * sc + i * si]);
                sum += w ? d * d * w[i] : d * d;
            }
            best = fmax(best, sum);
        }
    return best;
}

/* ---- helpers ----------------------------------------------------------------------------------------- */

static double max_abs(size_t n, const double *a)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

/* The stationary core covariance's Cholesky factor, once. */
static int need_inf(td_eval *e)
{
    if (e->have_inf) return RG_OK;
    RG_TRY(rg_process_stationary(e->p, e->Linf));
    RG_TRY(rg_linalg_chol(e->k, e->Linf, e->Linf));
    e->have_inf = 1;
    return RG_OK;
}

/* ---- k = 1: spectra ---------------------------------------------------------------------------------- */

static int fast_at(td_eval *e, td_kind kind, double t, td_value *v)
{
    const rg_theory_dataset *ds = e->ds;
    const size_t N = e->N;
    double E, S;
    RG_TRY(rg_process_moments(e->p, t, &E, &S));
    const double e2 = E * E, top = ds->lam[N - 1];
    v->scale = e2;
    if (kind == TD_KMAX) {
        v->val = top / S;
    } else if (kind == TD_KPARENT) {
        RG_TRY(need_inf(e));
        v->val = top / (e->Linf[0] * e->Linf[0]);
    } else if (kind == TD_COLLAPSE) { /* (1/2N) sum log(1 + e^2 lambda_i / s) over C' */
        const double *lam = ds->K ? ds->w : ds->lam;
        double sum = 0.0;
        for (size_t i = 0; i < N; i++) sum += log1p(e2 * lam[i] / S);
        v->scale = 1.0;
        v->val = sum / (2.0 * (double)N);
    } else { /* kappa: max over pairs of sum_i ((v_i . (mu_a - mu_b)) / 2)^2 / (e^2 w_i + s) */
        for (size_t i = 0; i < N; i++) e->inv[i] = 1.0 / (e2 * ds->w[i] + S);
        v->val = td_max_pair(e->K, N, ds->muV, N, 1, e->inv);
    }
    return RG_OK;
}

/* ---- k >= 2: Kronecker products ---------------------------------------------------------------------- */

/* T = (B (x) I_r) X (B (x) I_r)^T for symmetric X (N x N, N = k r), symmetrised; Y is scratch.
 * X viewed as a (k, r N) matrix gives (B (x) I_r) X = B X: one dgemm, then the same on the transpose. */
static void kron_sandwich(size_t k, size_t r, const double *B, const double *X, double *T, double *Y)
{
    const size_t N = k * r;
    const int K = (int)k, RN = (int)(r * N);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, RN, K, 1.0, B, K, X, RN, 0.0, T, RN);
    for (size_t i0 = 0; i0 < N; i0 += 32) /* Y = T^T = X (B (x) I)^T, in 32 x 32 tiles */
        for (size_t j0 = 0; j0 < N; j0 += 32)
            for (size_t i = i0; i < N && i < i0 + 32; i++)
                for (size_t j = j0; j < N && j < j0 + 32; j++) Y[j * N + i] = T[i * N + j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, RN, K, 1.0, B, K, Y, RN, 0.0, T, RN);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < i; j++) T[i * N + j] = T[j * N + i] = 0.5 * (T[i * N + j] + T[j * N + i]);
}

/* y = (B (x) I) C (B (x) I)^T x: the implicit K_t. */
static void kop(td_eval *e, const double *x, double *y)
{
    const int k = (int)e->k, r = (int)e->r, N = (int)e->N;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, r, k, 1.0, e->B, k, x, r, 0.0, e->u, r);
    cblas_dsymv(CblasRowMajor, CblasUpper, N, 1.0, e->ds->C, N, e->u, 1, 0.0, e->w, 1);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, k, r, k, 1.0, e->B, k, e->w, r, 0.0, y, r);
}

/* Top eigenpair of the symmetric tridiagonal (n; diagonal al, off-diagonal be[0..n-2]): theta, z (n). */
static int tri_top(size_t n, const double *al, const double *be, double *d, double *sub, double *theta, double *z)
{
    if (n == 1) {
        *theta = al[0];
        z[0] = 1.0;
        return RG_OK;
    }
    memcpy(d, al, n * sizeof *d);
    memcpy(sub, be, (n - 1) * sizeof *sub);
    lapack_int m = 0, isuppz[2], nn = (lapack_int)n;
    lapack_int info = LAPACKE_dstevr(LAPACK_COL_MAJOR, 'V', 'I', nn, d, sub, 0.0, 0.0, nn, nn, 0.0, &m, theta, z,
                                     nn, isuppz);
    if (info != 0 || m != 1) RG_FAIL(RG_ENOCONV, "theory on data: dstevr failed (info %d) in Lanczos", (int)info);
    return RG_OK;
}

/* A fixed start vector (splitmix64 bits, uniform in (-1/2, 1/2)): the same for every t, so a criterion's
 * value does not depend on which times were evaluated before. */
static void lanczos_start(size_t n, double *q)
{
    uint64_t s = 0x9e3779b97f4a7c15u;
    double nrm = 0.0;
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (s += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        q[i] = (double)(z >> 11) * 0x1.0p-53 - 0.5;
        nrm += q[i] * q[i];
    }
    cblas_dscal((int)n, 1.0 / sqrt(nrm), q, 1);
}

/* lambda_max of the implicit K_t by Lanczos with full reorthogonalisation (twice, classical Gram-Schmidt),
 * explicit restarts from the top Ritz vector every TD_LANCZOS_M steps. */
static int lanczos_top(td_eval *e, double *lmax)
{
    const size_t n = e->N, m = n < TD_LANCZOS_M ? n : TD_LANCZOS_M, m1 = TD_LANCZOS_M + 1;
    double *Q = e->Q, *al = e->tri, *be = al + m1, *d = be + m1, *sub = d + m1, *z = sub + m1;
    lanczos_start(n, Q);
    for (int restart = 0; restart <= TD_LANCZOS_RESTARTS; restart++) {
        double theta = 0.0;
        for (size_t j = 0; j < m; j++) {
            double *qj = Q + j * n, *w = Q + (j + 1) * n;
            kop(e, qj, w);
            al[j] = cblas_ddot((int)n, qj, 1, w, 1);
            for (int pass = 0; pass < 2; pass++) { /* w -= Q_j Q_j^T w */
                cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)(j + 1), (int)n, 1.0, Q, (int)n, w, 1, 0.0, e->h, 1);
                cblas_dgemv(CblasRowMajor, CblasTrans, (int)(j + 1), (int)n, -1.0, Q, (int)n, e->h, 1, 1.0, w, 1);
            }
            be[j] = cblas_dnrm2((int)n, w, 1);
            RG_TRY(tri_top(j + 1, al, be, d, sub, &theta, z));
            const double rho = be[j] * fabs(z[j]);
            if (rho <= TD_LANCZOS_TOL * fabs(theta) || rho == 0.0 || j + 1 == n) {
                *lmax = theta;
                return RG_OK;
            }
            cblas_dscal((int)n, 1.0 / be[j], w, 1);
        }
        /* restart: q_0 = the top Ritz vector sum_j z_j q_j (into u, then row 0) */
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)m, (int)n, 1.0, Q, (int)n, z, 1, 0.0, e->u, 1);
        cblas_dscal((int)n, 1.0 / cblas_dnrm2((int)n, e->u, 1), e->u, 1);
        memcpy(Q, e->u, n * sizeof *Q);
    }
    RG_FAIL(RG_ENOCONV, "theory on data: Lanczos did not converge in %d restarts of %zu steps (N = %zu)",
            TD_LANCZOS_RESTARTS, m, n);
}

/* Top eigenvalue of a formed symmetric matrix (destroyed). */
static int dense_top(size_t n, double *A, double *lmax)
{
    lapack_int m = 0, isuppz[2], nn = (lapack_int)n;
    double z[1], *w = malloc(n * sizeof *w); /* dsyevr's W has dimension n even for one value */
    if (!w) RG_FAIL(RG_ENOMEM, "theory on data: out of memory");
    lapack_int info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'N', 'I', 'U', nn, A, nn, 0.0, 0.0, nn, nn, 0.0, &m, w, z, 1,
                                     isuppz);
    *lmax = w[0];
    free(w);
    if (info != 0 || m != 1) RG_FAIL(RG_ENOCONV, "theory on data: dsyevr failed (info %d)", (int)info);
    return RG_OK;
}

/* The moments at t and the whitened propagator B = L^{-1} E_t, L = chol(S_inf) for kparent, else
 * chol(S_t); *c = max |B| and B / c in e->B (B unscaled when c is 0 or not finite). */
static int whitened(td_eval *e, td_kind kind, double t, double *c)
{
    const size_t k = e->k;
    RG_TRY(rg_process_moments(e->p, t, e->E, e->S));
    const double *L = e->L;
    if (kind == TD_KPARENT) {
        RG_TRY(need_inf(e));
        L = e->Linf;
    } else {
        RG_TRY(rg_linalg_chol(k, e->S, e->L));
    }
    memcpy(e->B, e->E, k * k * sizeof *e->B);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)k, (int)k, 1.0, L, (int)k,
                e->B, (int)k);
    *c = max_abs(k * k, e->B);
    if (*c > 0.0 && isfinite(*c)) cblas_dscal((int)(k * k), 1.0 / *c, e->B, 1);
    return RG_OK;
}

/* kmax or kparent: lambda_max of (B (x) I) C (B (x) I)^T = c^2 times that of the scaled B. */
static int lambda_at(td_eval *e, td_kind kind, double t, td_value *v)
{
    const size_t k = e->k;
    double c;
    RG_TRY(whitened(e, kind, t, &c));
    v->scale = c * c;
    v->val = 0.0;
    if (c == 0.0) return RG_OK;
    if (!isfinite(c)) RG_FAIL(RG_EDOM, "theory on data: the whitened propagator overflows at t = %g", t);
    if (e->N > TD_DENSE_MAX) return lanczos_top(e, &v->val);
    kron_sandwich(k, e->r, e->B, e->ds->C, e->T, e->Y);
    return dense_top(e->N, e->T, &v->val);
}

/* Gamma_t = (E (x) I) C' (E (x) I)^T + S (x) I, its Cholesky factor; the collapse sum and, labelled,
 * kappa = max_pairs |L^{-1} (E (x) I)(mu_a - mu_b) / 2|^2, all propagated means in one triangular solve. */
static int gamma_at(td_eval *e, double t, td_value *coll, td_value *kap)
{
    const rg_theory_dataset *ds = e->ds;
    const size_t k = e->k, r = e->r, N = e->N, K = e->K;
    RG_TRY(rg_process_moments(e->p, t, e->E, e->S));
    RG_TRY(rg_linalg_chol(k, e->S, e->L));
    double logdet_s = 0.0;
    for (size_t a = 0; a < k; a++) logdet_s += 2.0 * log(e->L[a * k + a]);
    kron_sandwich(k, r, e->E, ds->K ? ds->Cw : ds->C, e->T, e->Y);
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++)
            for (size_t i = 0; i < r; i++) e->T[(a * r + i) * N + b * r + i] += e->S[a * k + b];
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)N, e->T, (lapack_int)N);
    if (info != 0)
        RG_FAIL(RG_EDOM, "theory on data: Gamma_t is not positive definite at t = %g (leading minor %d)", t, (int)info);
    double logdet_g = 0.0;
    for (size_t i = 0; i < N; i++) logdet_g += 2.0 * log(e->T[i * N + i]);
    coll->scale = 1.0;
    coll->val = (logdet_g - (double)r * logdet_s) / (2.0 * (double)N);
    if (!K) return RG_OK;
    const double c = max_abs(k * k, e->E);
    kap->scale = c * c;
    kap->val = 0.0;
    if (c == 0.0) return RG_OK;
    for (size_t a = 0; a < k * k; a++) e->B[a] = e->E[a] / c;
    for (size_t cl = 0; cl < K; cl++) { /* column cl of Mt = (E/c (x) I) mu_cl */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)r, (int)k, 1.0, e->B, (int)k,
                    ds->mu + cl * N, (int)r, 0.0, e->u, (int)r);
        for (size_t i = 0; i < N; i++) e->Mt[i * K + cl] = e->u[i];
    }
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)N, (int)K, 1.0, e->T, (int)N,
                e->Mt, (int)K);
    kap->val = td_max_pair(K, N, e->Mt, 1, K, NULL);
    return RG_OK;
}

/* ---- sign certificates --------------------------------------------------------------------------- */

/* With G = B^T B (B = chol(S)^{-1} E_t, or chol(S_inf)^{-1} E_t for kparent) and g = lambda_max(G):
 * K_t has the nonzero spectrum of C^{1/2} (G (x) I) C^{1/2} <= g C, so lambda_max(K_t) <= g Lambda and,
 * eigenvalue by eigenvalue, nu_i <= g lambda_i(C'), whence s(t) <= (1/2N) sum log(1 + g lambda_i(C'));
 * Gamma_t >= S_t (x) I gives kappa <= m^T (G (x) I) m <= g max_pairs |m|^2. O(k^3 + N). */
int td_eval_bound(td_eval *e, td_kind kind, double t, td_value *ub, int *has)
{
    const rg_theory_dataset *ds = e->ds;
    const size_t k = e->k, N = e->N;
    double G[TD_BOUND_K * TD_BOUND_K], w[TD_BOUND_K];
    double c;
    *has = 0;
    if (k == 1 || k > TD_BOUND_K || (kind == TD_KAPPA && !e->K)) return RG_OK;
    RG_TRY(whitened(e, kind, t, &c));
    if (!isfinite(c)) return RG_OK;
    double g1 = 0.0; /* lambda_max(G) / c^2 */
    if (c > 0.0) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)k, (int)k, 1.0, e->B, (int)k, e->B, (int)k,
                    0.0, G, (int)k);
        RG_TRY(rg_linalg_eigsym(k, G, w, NULL));
        g1 = w[k - 1];
    }
    ub->scale = c * c;
    if (kind == TD_KMAX || kind == TD_KPARENT) {
        ub->val = g1 * ds->lam[N - 1];
    } else if (kind == TD_KAPPA) {
        ub->val = g1 * ds->m2max;
    } else {
        const double g = c * c * g1, *lam = ds->K ? ds->w : ds->lam;
        double sum = 0.0;
        for (size_t i = 0; i < N; i++) sum += log1p(g * lam[i]);
        ub->scale = 1.0;
        ub->val = sum / (2.0 * (double)N);
    }
    *has = 1;
    return RG_OK;
}

/* ---- dispatch ---------------------------------------------------------------------------------------- */

int td_eval_at(td_eval *e, td_kind kind, double t, td_value *v)
{
    if (!(t > 0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "theory on data: time t = %g must be finite and > 0", t);
    if (kind == TD_KAPPA && !e->K) RG_FAIL(RG_EINVAL, "theory on data: kappa needs labels (the data set has none)");
    td_memo *m = memo_get(e, t);
    if (!m) RG_FAIL(RG_ENOMEM, "theory on data: out of memory for the memo");
    if (!((m->have >> kind) & 1u)) {
        if (e->k == 1) {
            RG_TRY(fast_at(e, kind, t, &m->v[kind]));
            m->have |= 1u << kind;
        } else if (kind == TD_KMAX || kind == TD_KPARENT) {
            RG_TRY(lambda_at(e, kind, t, &m->v[kind]));
            m->have |= 1u << kind;
        } else {
            RG_TRY(gamma_at(e, t, &m->v[TD_COLLAPSE], &m->v[TD_KAPPA]));
            m->have |= (1u << TD_COLLAPSE) | (e->K ? 1u << TD_KAPPA : 0u);
        }
        e->count++;
    }
    *v = m->v[kind];
    return RG_OK;
}
