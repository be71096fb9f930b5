/* The naive reference of the theory layer: the evaluators as they were before the modal path, kept
 * beside the fast one (theory_eval.c) so that tests and bench/ compare the two in one run.
 *
 * Each evaluation asks the process for its moments by the matrix-exponential path
 * (rg_process_moments_naive: Pade expm or Van Loan with doubling, O(k^3) with a large constant) and
 * works in the original coordinates:
 *     log kappa_l(t)       kappa = |m_l|^2 p^T G^{-1} p,  p = E e_l,  G = E Cw E^T + S  (7.1 b, d)
 *     log lambda_max(K_l)  K = L^{-1} E C_l E^T L^{-T},  C_l = |m_l|^2 e_l e_l^T + Cw,  L = chol(S)
 *     s(t) = (1/2k) sum_j log(1 + nu_j),  nu = eig(L^{-1} E Cw E^T L^{-T})                (7.6)
 * Speciation criteria are evaluated as logarithms, with the scaling p = c p' (E = c E' for
 * lambda_max) that keeps them representable far beyond where the plain products underflow. Roots
 * are the largest sign change on the 400-point geometric grid of docs/math.md 7, refined by Brent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"
#include "regimes/linalg.h"
#include "theory_internal.h"

typedef enum { NV_LOG_KAPPA, NV_LOG_KMAX, NV_COLLAPSE } nv_kind;

/* One criterion evaluated at any t, with its scratch and the first failure's message. */
typedef struct {
    rg_theory_plan *pl;
    size_t k, label;
    nv_kind kind;
    th_crit crit; /* whose counters the evaluations go to */
    double shift; /* subtracted from the value: log(level) for log criteria, alpha for collapse */
    double *E, *S, *L, *B, *T, *v, *nu;
    int status;
    char msg[256];
} nv_eval;

static double max_abs(size_t n, const double *A)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(A[i]));
    return m;
}

static nv_kind kind_of(th_crit c)
{
    return c == TH_MATRIX ? NV_LOG_KMAX : c == TH_COLLAPSE ? NV_COLLAPSE : NV_LOG_KAPPA;
}

static int nv_init(nv_eval *c, rg_theory_plan *pl, th_crit crit, size_t label, double shift)
{
    memset(c, 0, sizeof *c);
    c->pl = pl;
    c->k = pl->k;
    c->kind = kind_of(crit);
    c->crit = crit;
    c->label = label;
    c->shift = shift;
    size_t kk = c->k * c->k;
    double *buf = malloc((5 * kk + 2 * c->k) * sizeof *buf);
    if (!buf) RG_FAIL(RG_ENOMEM, "theory: out of memory for %zu x %zu scratch", c->k, c->k);
    c->E = buf;
    c->S = buf + kk;
    c->L = buf + 2 * kk;
    c->B = buf + 3 * kk;
    c->T = buf + 4 * kk;
    c->v = buf + 5 * kk;
    c->nu = buf + 5 * kk + c->k;
    return RG_OK;
}

static void nv_free(nv_eval *c) { free(c->E); }

/* B = X Y X^T (k x k), symmetrised; T is scratch. */
static void sandwich(size_t k, const double *X, const double *Y, double *T, double *B)
{
    rg_linalg_mul(k, X, Y, T);
    rg_linalg_mul_t(k, T, X, B);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < i; j++) B[i * k + j] = B[j * k + i] = 0.5 * (B[i * k + j] + B[j * k + i]);
}

static int moments(nv_eval *c, double t)
{
    c->pl->stats.moments++;
    return rg_process_moments_naive(c->pl->p, t, c->E, c->S);
}

/* kappa = |m_l|^2 (c n)^2 with c = max|p_i| and n = |L_G^{-1} p / c|; c = 0 when p underflows. */
static int kappa_parts(nv_eval *c, double t, double *scale, double *norm)
{
    size_t k = c->k;
    const double *e = c->pl->pattern + c->label * k;
    RG_TRY(moments(c, t));
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)k, (int)k, 1.0, c->E, (int)k, e, 1, 0.0, c->v, 1);
    double cmax = max_abs(k, c->v);
    *scale = cmax;
    *norm = 0.0;
    if (cmax == 0.0) return RG_OK;
    cblas_dscal((int)k, 1.0 / cmax, c->v, 1);
    sandwich(k, c->E, c->pl->Cw, c->T, c->B);
    for (size_t i = 0; i < k * k; i++) c->B[i] += c->S[i];
    RG_TRY(rg_linalg_chol(k, c->B, c->L));
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)k, c->L, (int)k, c->v, 1);
    *norm = cblas_dnrm2((int)k, c->v, 1);
    return RG_OK;
}

/* lambda_max(K_l) = c^2 lmax' with c = max|E_ij| and lmax' computed from E / c. */
static int kmax_parts(nv_eval *c, double t, double *scale, double *lmax)
{
    size_t k = c->k, kk = k * k;
    const double *e = c->pl->pattern + c->label * k;
    double m2 = c->pl->norm2[c->label];
    RG_TRY(moments(c, t));
    RG_TRY(rg_linalg_chol(k, c->S, c->L));
    double cmax = max_abs(kk, c->E);
    *scale = cmax;
    *lmax = 0.0;
    if (cmax == 0.0) return RG_OK;
    cblas_dscal((int)kk, 1.0 / cmax, c->E, 1);
    for (size_t i = 0; i < k; i++) /* S is free now: C_l = |m|^2 e e^T + Cw */
        for (size_t j = 0; j < k; j++) c->S[i * k + j] = m2 * e[i] * e[j] + c->pl->Cw[i * k + j];
    sandwich(k, c->E, c->S, c->T, c->B);
    return rg_linalg_whitened_eigs(k, c->L, c->B, lmax, NULL);
}

/* s = (1/2k) sum_j log(1 + nu_j), the per-dimension log-volume ratio of the kernels. */
static int collapse_sum(nv_eval *c, double t, double *s)
{
    size_t k = c->k;
    double lmax;
    RG_TRY(moments(c, t));
    RG_TRY(rg_linalg_chol(k, c->S, c->L));
    sandwich(k, c->E, c->pl->Cw, c->T, c->B);
    RG_TRY(rg_linalg_whitened_eigs(k, c->L, c->B, &lmax, c->nu));
    double sum = 0.0;
    for (size_t j = 0; j < k; j++) sum += log1p(c->nu[j]);
    *s = sum / (2.0 * (double)k);
    return RG_OK;
}

/* The criterion's value at t (its sign changes at the crossing). */
static int nv_at(nv_eval *c, double t, double *y)
{
    double a, b;
    rg_theory__count(c->pl, c->crit)->evals++;
    switch (c->kind) {
    case NV_LOG_KAPPA:
        RG_TRY(kappa_parts(c, t, &a, &b));
        *y = log(c->pl->norm2[c->label]) + 2.0 * (log(a) + log(b)) - c->shift;
        return RG_OK;
    case NV_LOG_KMAX:
        RG_TRY(kmax_parts(c, t, &a, &b));
        *y = 2.0 * log(a) + log(b) - c->shift;
        return RG_OK;
    case NV_COLLAPSE:
        RG_TRY(collapse_sum(c, t, &a));
        *y = c->shift - a;
        return RG_OK;
    }
    RG_FAIL(RG_EINVAL, "theory: unknown criterion");
}

/* rg_linalg_fn adapter: NaN on failure, the first failure's status and message kept in c. */
static double nv_fn(double t, void *ctx)
{
    nv_eval *c = ctx;
    double y = NAN;
    int st = nv_at(c, t, &y);
    if (st == RG_OK) return y;
    if (c->status == RG_OK) {
        c->status = st;
        snprintf(c->msg, sizeof c->msg, "%s", rg_strerror_last());
    }
    return NAN;
}

int rg_theory__naive_value(rg_theory_plan *pl, th_crit c, size_t label, double t, double *value)
{
    nv_eval e;
    double a, b;
    RG_TRY(nv_init(&e, pl, c, label, 0.0));
    rg_theory__count(pl, c)->evals++;
    int st = e.kind == NV_LOG_KAPPA  ? kappa_parts(&e, t, &a, &b)
             : e.kind == NV_LOG_KMAX ? kmax_parts(&e, t, &a, &b)
                                     : collapse_sum(&e, t, &a);
    if (st == RG_OK)
        *value = e.kind == NV_LOG_KAPPA  ? pl->norm2[label] * (a * b) * (a * b)
                 : e.kind == NV_LOG_KMAX ? a * a * b
                                         : a;
    nv_free(&e);
    return st;
}

int rg_theory__naive_root(rg_theory_plan *pl, th_crit c, size_t label, double level, double *root, int *found)
{
    nv_eval e;
    double shift = c == TH_COLLAPSE ? level : c == TH_MATRIX ? 0.0 : log(level);
    RG_TRY(nv_init(&e, pl, c, label, shift));
    int st = rg_linalg_largest_root(nv_fn, &e, TH_LO, TH_HI, TH_NPTS, root, found);
    if (e.status != RG_OK) st = rg__fail(e.status, __FILE__, __LINE__, "%s (theory root scan)", e.msg);
    nv_free(&e);
    return st;
}
