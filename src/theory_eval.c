/* The fast evaluator of the theory layer: each criterion at one t, and its unique root.
 *
 * Working coordinates: the process's modal coordinates when it has them (rg_process_modal: dense
 * constant drifts), where E_t is block diagonal and G_t = E Cw E^T + Sigma_t is formed in O(k^2) with
 * no exponential (rg_linalg_modal_cov); else the original coordinates, from rg_process_moments per
 * t. The criteria are invariant under the change of basis; where a norm of the original coordinates
 * is needed (the derivatives) it is |R^-T y| (rg_linalg_modal_dual_norm2). Per t:
 *     kappa_l:      chol(G_t), p = E_t e_l:  log kappa = log |m|^2 + log |L_G^-1 p|^2,
 *                   dlog kappa/dt = -2 |y|^2 / (p^T y),  y = G^-1 p (original coordinates)
 *     lambda_max:   chol(Sigma_t), B = E_t C_l E_t^T: the top eigenpair (theta, x) of L^-1 B L^-T (dense
 *                   up to TH_DENSE_MAX, Lanczos above), dlog theta/dt = -2 |v|^2, v = L^-T x
 *     collapse:     s = (log det G_t - log det Sigma_t) / 2k (modal), or (1/2k) sum log1p(nu_j) from
 *                   the whitened eigenvalues (original coordinates, exact at tiny alpha)
 * Scales: p and B carry a factor e^{rt} (modal, r the rate) or 1 / max|.| (original coordinates) whose
 * logarithm is added back, so no criterion underflows before its own decay does. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "regimes/linalg.h"
#include "theory_internal.h"

/* lambda_max by dense eigen-decomposition up to this core size, Lanczos above. */
#define TH_DENSE_MAX 96
/* Lanczos: at most this many steps (then the dense route), stopped when the top Ritz pair's residual
 * beta |s_j| <= TH_LANCZOS_TOL theta, which puts theta within that relative distance of an eigenvalue. */
#define TH_LANCZOS_MAX 300
#define TH_LANCZOS_TOL 1e-13
/* Roots to |dt| <= TH_ROOT_TOL + 4 eps t (the docs/math.md 7 Brent tolerance); at most TH_ROOT_ITERS steps. */
#define TH_ROOT_TOL 1e-12
#define TH_ROOT_ITERS 200

rg_theory_count *rg_theory__count(rg_theory_plan *pl, th_crit c)
{
    switch (c) {
    case TH_KAPPA: return &pl->stats.kappa;
    case TH_MATRIX: return &pl->stats.matrix;
    case TH_COLLAPSE: return &pl->stats.collapse;
    case TH_HORIZON: return &pl->stats.horizon;
    }
    return &pl->stats.kappa;
}

/* ---- factorisations ------------------------------------------------------------------------------ */

static double max_abs(size_t n, const double *x)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* Lower Cholesky factor in place of the row-major lower triangle of X (LAPACK sees the upper triangle
 * of the column-major transpose: no copy), block by block when the problem decouples. *logdet =
 * log det X. */
static int chol_lower(const rg_theory_plan *pl, double *X, double *logdet, const char *what, double t)
{
    size_t k = pl->k;
    double s = 0.0;
    for (size_t b = 0; b < pl->nb; b++) {
        size_t o = pl->nb > 1 ? pl->boff[b] : 0, n = pl->nb > 1 ? pl->boff[b + 1] - o : k;
        lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, X + o * k + o, (lapack_int)k);
        if (info > 0)
            RG_FAIL(RG_EDOM, "theory: %s is not positive definite at t = %g (leading minor %d)", what, t,
                    (int)(info + (lapack_int)o));
        if (info < 0) RG_FAIL(RG_EINVAL, "theory: dpotrf failed (info %d)", (int)info);
    }
    for (size_t i = 0; i < k; i++) s += log(X[i * k + i]);
    *logdet = 2.0 * s;
    return RG_OK;
}

/* x <- L^-1 x (trans = 0) or L^-T x (trans = 1), L lower (k x k), block by block when decoupled. */
static void tri(const rg_theory_plan *pl, const double *L, int trans, double *x)
{
    size_t k = pl->k;
    for (size_t b = 0; b < pl->nb; b++) {
        size_t o = pl->nb > 1 ? pl->boff[b] : 0, n = pl->nb > 1 ? pl->boff[b + 1] - o : k;
        cblas_dtrsv(CblasRowMajor, CblasLower, trans ? CblasTrans : CblasNoTrans, CblasNonUnit, (int)n,
                    L + o * k + o, (int)k, x + o, 1);
    }
}

/* y = B x, B symmetric (lower triangle), block by block when decoupled. */
static void symv(const rg_theory_plan *pl, const double *B, const double *x, double *y)
{
    size_t k = pl->k;
    for (size_t b = 0; b < pl->nb; b++) {
        size_t o = pl->nb > 1 ? pl->boff[b] : 0, n = pl->nb > 1 ? pl->boff[b + 1] - o : k;
        cblas_dsymv(CblasRowMajor, CblasLower, (int)n, 1.0, B + o * k + o, (int)k, x + o, 1, 0.0, y + o, 1);
    }
}

/* E_t and Sigma_t of the process (original coordinates) into pl->E, pl->T. */
static int moments(rg_theory_plan *pl, double t)
{
    if (pl->tE == t) return RG_OK;
    pl->tE = NAN;
    pl->stats.moments++;
    RG_TRY(rg_process_moments(pl->p, t, pl->E, pl->T));
    pl->tE = t;
    return RG_OK;
}

/* B = X Y X^T (lower triangle; k x k), W scratch. */
static void sandwich_lower(size_t k, const double *X, const double *Y, double *W, double *B)
{
    const int n = (int)k;
    cblas_dsymm(CblasRowMajor, CblasRight, CblasLower, n, n, 1.0, Y, n, X, n, 0.0, W, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0, W, n, X, n, 0.0, B, n);
}

/* chol(G_t), G_t = E Cw E^T + Sigma_t, into pl->G (lower); counted under criterion c. */
static int factor_g(rg_theory_plan *pl, th_crit c, double t)
{
    if (pl->tG == t) return RG_OK;
    size_t k = pl->k;
    pl->tG = NAN;
    if (pl->m) RG_TRY(rg_linalg_modal_cov(pl->m, t, pl->Ct, pl->nb > 1, pl->G));
    else {
        RG_TRY(moments(pl, t));
        sandwich_lower(k, pl->E, pl->Cw, pl->B, pl->G);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j <= i; j++) pl->G[i * k + j] += 0.5 * (pl->T[i * k + j] + pl->T[j * k + i]);
    }
    rg_theory__count(pl, c)->chol++;
    RG_TRY(chol_lower(pl, pl->G, &pl->logdetG, "G_t = M_t Cw M_t^T + Sigma_t", t));
    pl->tG = t;
    return RG_OK;
}

/* chol(Sigma_t) into pl->S (lower). */
static int factor_s(rg_theory_plan *pl, th_crit c, double t)
{
    if (pl->tS == t) return RG_OK;
    size_t k = pl->k;
    pl->tS = NAN;
    if (pl->m) RG_TRY(rg_linalg_modal_cov(pl->m, t, NULL, 0, pl->S));
    else {
        RG_TRY(moments(pl, t));
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j <= i; j++) pl->S[i * k + j] = 0.5 * (pl->T[i * k + j] + pl->T[j * k + i]);
    }
    rg_theory__count(pl, c)->chol++;
    RG_TRY(chol_lower(pl, pl->S, &pl->logdetS, "Sigma_t", t));
    pl->tS = t;
    return RG_OK;
}

/* p = E_t e_l / c into p, returning log c (-INFINITY when p underflows entirely). */
static int propagate(rg_theory_plan *pl, size_t label, double t, double *p, double *logc)
{
    size_t k = pl->k;
    if (pl->m) {
        RG_TRY(rg_linalg_modal_prop(pl->m, t, pl->et + label * k, p));
        *logc = -rg_linalg_modal_rate(pl->m) * t;
        return RG_OK;
    }
    RG_TRY(moments(pl, t));
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)k, (int)k, 1.0, pl->E, (int)k, pl->pattern + label * k, 1, 0.0,
                p, 1);
    double c = max_abs(k, p);
    *logc = log(c);
    if (c > 0.0) cblas_dscal((int)k, 1.0 / c, p, 1);
    return RG_OK;
}

/* |y|^2 of the original-coordinate vector whose working form is the dual vector y. */
static double dual2(const rg_theory_plan *pl, const double *y, double *work)
{
    if (pl->m) return rg_linalg_modal_dual_norm2(pl->m, y, work);
    return cblas_ddot((int)pl->k, y, 1, y, 1);
}

/* ---- top eigenpair of L^-1 B L^-T -------------------------------------------------------------------- */

/* The whitened matrix of the matrix criterion: K = L^-1 (B + m2 p p^T) L^-T with B symmetric (lower
 * triangle; block diagonal when the problem decouples) and the rank-one signal term kept apart. */
typedef struct {
    const double *L, *B, *p;
    double m2;
} th_kop;

/* y = K x, w scratch. */
static void whitened_apply(const rg_theory_plan *pl, const th_kop *K, const double *x, double *y, double *w)
{
    size_t k = pl->k;
    memcpy(w, x, k * sizeof *w);
    tri(pl, K->L, 1, w);
    symv(pl, K->B, w, y);
    cblas_daxpy((int)k, K->m2 * cblas_ddot((int)k, K->p, 1, w, 1), K->p, 1, y, 1);
    tri(pl, K->L, 0, y);
}

/* Dense route: K formed in T (k x k), all eigenpairs. */
static int top_dense(rg_theory_plan *pl, const th_kop *Kop, double *theta, double *x)
{
    size_t k = pl->k;
    const int n = (int)k;
    if (!pl->T) pl->T = malloc(k * k * sizeof *pl->T); /* modal coordinates: only this route needs it */
    if (!pl->T) RG_FAIL(RG_ENOMEM, "theory: out of memory (k = %zu)", k);
    double *K = pl->T;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j <= i; j++)
            K[i * k + j] = K[j * k + i] = Kop->B[i * k + j] + Kop->m2 * Kop->p[i] * Kop->p[j];
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, n, n, 1.0, Kop->L, n, K, n);
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, n, n, 1.0, Kop->L, n, K, n);
    double *w = malloc(k * sizeof *w);
    if (!w) RG_FAIL(RG_ENOMEM, "theory: out of memory (k = %zu)", k);
    /* K is symmetric up to rounding; LAPACK's column-major upper triangle is our lower one */
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', n, K, n, w);
    if (info == 0) {
        *theta = w[k - 1];
        memcpy(x, K + (k - 1) * k, k * sizeof *x); /* column-major: eigenvector k-1 is contiguous */
    }
    free(w);
    pl->tE = NAN; /* T held the moments */
    if (info != 0) RG_FAIL(RG_ENOCONV, "theory: dsyevd failed on the whitened matrix (info %d)", (int)info);
    return RG_OK;
}

/* Largest eigenvalue (and eigenvalues/vectors) of the symmetric tridiagonal T_j: alpha (j), beta (j-1).
 * z: j*j doubles; returns theta and the last component of its eigenvector in *slast, the vector in s. */
static int tridiag_top(size_t j, const double *alpha, const double *beta, double *d, double *e, double *z,
                       double *theta, double *s)
{
    memcpy(d, alpha, j * sizeof *d);
    if (j > 1) memcpy(e, beta, (j - 1) * sizeof *e);
    lapack_int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', (lapack_int)j, d, e, z, (lapack_int)j);
    if (info != 0) RG_FAIL(RG_ENOCONV, "theory: dstev failed in Lanczos (info %d)", (int)info);
    *theta = d[j - 1];
    memcpy(s, z + (j - 1) * j, j * sizeof *s); /* column j-1 */
    return RG_OK;
}

/* Lanczos with full reorthogonalisation from the start direction u + a fixed dense vector. Returns
 * RG_ENOCONV (caller falls back to the dense route) when TH_LANCZOS_MAX steps do not converge. */
static int top_lanczos(rg_theory_plan *pl, const th_kop *Kop, const double *u, double *theta, double *x)
{
    size_t k = pl->k, jmax = k < TH_LANCZOS_MAX ? k : TH_LANCZOS_MAX;
    const int n = (int)k;
    if (!pl->lz) {
        pl->lz = malloc(((TH_LANCZOS_MAX + 1) * k + 5 * TH_LANCZOS_MAX + TH_LANCZOS_MAX * TH_LANCZOS_MAX) *
                        sizeof *pl->lz);
        if (!pl->lz) RG_FAIL(RG_ENOMEM, "theory: out of memory for Lanczos (k = %zu)", k);
    }
    double *Q = pl->lz, *al = Q + (TH_LANCZOS_MAX + 1) * k, *be = al + TH_LANCZOS_MAX, *d = be + TH_LANCZOS_MAX;
    double *e = d + TH_LANCZOS_MAX, *s = e + TH_LANCZOS_MAX, *z = s + TH_LANCZOS_MAX;
    double *w = pl->v + 3 * k, *tmp = pl->v + 4 * k, *c = pl->v + 5 * k; /* c: up to k >= jmax coefficients */
    double nu = cblas_dnrm2(n, u, 1);
    for (size_t i = 0; i < k; i++) /* u / |u| + a fixed dense unit vector / sqrt 2: overlaps every eigenvector */
        Q[i] = (nu > 0 ? u[i] / nu : 0.0) + sin(0.6180339887498949 * (double)(i + 1) * 7.0) * sqrt(2.0 / (double)k);
    cblas_dscal(n, 1.0 / cblas_dnrm2(n, Q, 1), Q, 1);
    for (size_t j = 0; j < jmax; j++) {
        double *q = Q + j * k;
        whitened_apply(pl, Kop, q, w, tmp);
        pl->stats.matrix.lanczos++;
        al[j] = cblas_ddot(n, q, 1, w, 1);
        for (int pass = 0; pass < 2; pass++) { /* w -= Q Q^T w over q_0..q_j (twice is enough) */
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)(j + 1), n, 1.0, Q, n, w, 1, 0.0, c, 1);
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)(j + 1), n, -1.0, Q, n, c, 1, 1.0, w, 1);
        }
        be[j] = cblas_dnrm2(n, w, 1);
        RG_TRY(tridiag_top(j + 1, al, be, d, e, z, theta, s));
        if (be[j] * fabs(s[j]) <= TH_LANCZOS_TOL * fabs(*theta) || be[j] == 0.0 || j + 1 == k) {
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)(j + 1), n, 1.0, Q, n, s, 1, 0.0, x, 1);
            return RG_OK;
        }
        for (size_t i = 0; i < k; i++) Q[(j + 1) * k + i] = w[i] / be[j];
    }
    return RG_ENOCONV;
}

/* ---- the criteria -------------------------------------------------------------------------------- */

/* log kappa_l(t) - log level and its t-derivative. */
static int eval_kappa(rg_theory_plan *pl, th_crit c, size_t label, double level, double t, th_val *out)
{
    size_t k = pl->k;
    const int n = (int)k;
    double *p = pl->v, *work = pl->v + k, logc;
    RG_TRY(factor_g(pl, c, t));
    RG_TRY(propagate(pl, label, t, p, &logc));
    out->dg = NAN;
    if (isinf(logc)) {
        out->g = -INFINITY;
        return RG_OK;
    }
    tri(pl, pl->G, 0, p);
    double n2 = cblas_ddot(n, p, 1, p, 1);
    out->g = log(pl->norm2[label]) + 2.0 * logc + log(n2) - log(level);
    tri(pl, pl->G, 1, p); /* y = G^-1 p */
    if (n2 > 0.0) out->dg = -2.0 * dual2(pl, p, work) / n2;
    return RG_OK;
}

/* log lambda_max(K_l(t)) and its t-derivative. */
static int eval_kmax(rg_theory_plan *pl, size_t label, double t, th_val *out)
{
    size_t k = pl->k;
    const int n = (int)k;
    double *p = pl->v, *x = pl->v + k, *u = pl->v + 2 * k, logc, theta = 0.0;
    RG_TRY(factor_s(pl, TH_MATRIX, t));
    RG_TRY(propagate(pl, label, t, p, &logc)); /* p = E e_l / c */
    if (pl->m) { /* B = e^{2rt} E Ct E^T, with p scaled by e^{rt} alike */
        RG_TRY(rg_linalg_modal_congr(pl->m, t, pl->Ct, pl->nb > 1, pl->B));
    } else { /* B = (E / c) Cw (E / c)^T with c = max|E_ij|; p rescaled to match */
        RG_TRY(moments(pl, t));
        double cE = max_abs(k * k, pl->E);
        if (cE == 0.0) logc = -INFINITY;
        else {
            for (size_t i = 0; i < k * k; i++) pl->E[i] /= cE;
            pl->tE = NAN;
            sandwich_lower(k, pl->E, pl->Cw, pl->G, pl->B);
            pl->tG = NAN; /* G served as scratch */
            cblas_dgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0, pl->E, n, pl->pattern + label * k, 1, 0.0, p, 1);
            logc = log(cE);
        }
    }
    out->dg = NAN;
    if (isinf(logc)) {
        out->g = -INFINITY;
        return RG_OK;
    }
    th_kop K = { pl->S, pl->B, p, pl->norm2[label] };
    int st = RG_ENOCONV;
    if (k > TH_DENSE_MAX) { /* start from the signal direction L^-1 p */
        memcpy(u, p, k * sizeof *u);
        tri(pl, pl->S, 0, u);
        st = top_lanczos(pl, &K, u, &theta, x);
        if (st != RG_OK && st != RG_ENOCONV) return st;
    }
    if (st == RG_ENOCONV) RG_TRY(top_dense(pl, &K, &theta, x));
    out->g = 2.0 * logc + log(theta);
    tri(pl, pl->S, 1, x); /* v = L^-T x */
    double xx = theta > 0 ? dual2(pl, x, u) : (double)NAN;
    out->dg = -2.0 * xx;
    return RG_OK;
}

/* s(t) = (1/2k) log det(I + K^w). */
static int eval_collapse_sum(rg_theory_plan *pl, double t, double *s)
{
    size_t k = pl->k;
    if (pl->m) {
        RG_TRY(factor_g(pl, TH_COLLAPSE, t));
        RG_TRY(factor_s(pl, TH_COLLAPSE, t));
        *s = (pl->logdetG - pl->logdetS) / (2.0 * (double)k);
        return RG_OK;
    }
    /* original coordinates: from the whitened eigenvalues, log1p keeps s exact at tiny alpha */
    RG_TRY(factor_s(pl, TH_COLLAPSE, t));
    RG_TRY(moments(pl, t));
    double *nu = pl->v, lmax, sum = 0.0;
    sandwich_lower(k, pl->E, pl->Cw, pl->G, pl->B);
    pl->tG = NAN;
    rg__symmetrise_lower(k, pl->B);
    for (size_t i = 0; i < k; i++) /* rg_linalg_whitened_eigs wants L with a zero upper triangle */
        for (size_t j = i + 1; j < k; j++) pl->S[i * k + j] = 0.0;
    RG_TRY(rg_linalg_whitened_eigs(k, pl->S, pl->B, &lmax, nu));
    for (size_t j = 0; j < k; j++) sum += log1p(nu[j]);
    *s = sum / (2.0 * (double)k);
    return RG_OK;
}

int rg_theory__eval(rg_theory_plan *pl, th_crit c, size_t label, double level, double t, th_val *out)
{
    rg_theory__count(pl, c)->evals++;
    switch (c) {
    case TH_KAPPA:
    case TH_HORIZON: return eval_kappa(pl, c, label, level, t, out);
    case TH_MATRIX: {
        RG_TRY(eval_kmax(pl, label, t, out));
        out->g -= log(level);
        return RG_OK;
    }
    case TH_COLLAPSE: {
        double s;
        RG_TRY(eval_collapse_sum(pl, t, &s));
        out->g = s - level;
        out->dg = NAN;
        return RG_OK;
    }
    }
    RG_FAIL(RG_EINVAL, "theory: unknown criterion %d", (int)c);
}

int rg_theory__kappa(rg_theory_plan *pl, size_t label, double t, double *kappa)
{
    th_val v;
    RG_TRY(rg_theory__eval(pl, TH_KAPPA, label, 1.0, t, &v));
    *kappa = exp(v.g);
    return RG_OK;
}

int rg_theory__kmax(rg_theory_plan *pl, size_t label, double t, double *lmax)
{
    th_val v;
    RG_TRY(rg_theory__eval(pl, TH_MATRIX, label, 1.0, t, &v));
    *lmax = exp(v.g);
    return RG_OK;
}

int rg_theory__collapse_sum(rg_theory_plan *pl, double t, double *s)
{
    rg_theory__count(pl, TH_COLLAPSE)->evals++;
    return eval_collapse_sum(pl, t, s);
}

/* ---- the root -------------------------------------------------------------------------------------- */

typedef struct {
    double t, g, dg;
} th_pt;

typedef struct {
    rg_theory_plan *pl;
    th_crit c;
    size_t label;
    double level;
} th_fn_ctx;

static int at(const th_fn_ctx *f, double t, th_pt *x)
{
    th_val v = { NAN, NAN };
    *x = (th_pt){ t, NAN, NAN };
    RG_TRY(rg_theory__eval(f->pl, f->c, f->label, f->level, t, &v));
    if (isnan(v.g)) RG_FAIL(RG_EDOM, "theory: criterion is NaN at t = %.17g", t);
    *x = (th_pt){ t, v.g, v.dg };
    return RG_OK;
}

/* rg_linalg_fn adapter for Brent; failures are kept in the plan. */
static double brent_fn(double t, void *ctx)
{
    const th_fn_ctx *f = ctx;
    th_pt x;
    int st = at(f, t, &x);
    if (st == RG_OK) return x.g;
    if (f->pl->status == RG_OK) {
        f->pl->status = st;
        snprintf(f->pl->msg, sizeof f->pl->msg, "%s", rg_strerror_last());
    }
    return NAN;
}

static double root_tol(double t) { return TH_ROOT_TOL + 4.0 * DBL_EPSILON * fabs(t); }

/* Secant (or, for collapse, log-secant: g + level = s decays exponentially in t) step from x using y;
 * NAN when the two points give no usable decreasing slope. */
static double secant(const th_pt *x, const th_pt *y, double level, int logy)
{
    if (y->t == x->t) return NAN;
    double gx = x->g, gy = y->g;
    if (logy && gx + level > 0.0 && gy + level > 0.0) {
        gx = log((gx + level) / level);
        gy = log((gy + level) / level);
    }
    double slope = (gx - gy) / (x->t - y->t);
    return slope < 0.0 && isfinite(slope) ? x->t - gx / slope : (double)NAN;
}

/* Safeguarded Newton (secant where there is no derivative) for the decreasing g on [TH_LO, TH_HI].
 * a, b: the best points known with g > 0 and g < 0 (have_a, have_b); x: the latest point. Steps
 * stay inside a known bracket (else geometric bisection, as in Numerical Recipes' rtsafe) and, on the
 * side not yet bracketed, within a factor 64 of x. Without a derivative, once a bracket exists,
 * Brent finishes. Stops when the Newton step is below root_tol: with quadratic convergence the
 * remaining error is far smaller. */
static int search(th_fn_ctx *f, double t0, int logy, double *root, int *found)
{
    th_pt x = { t0, NAN, NAN }, a = x, b = x, prev = x;
    int have_a = 0, have_b = 0, have_prev = 0;
    double dx_old = INFINITY;
    RG_TRY(at(f, t0, &x));
    for (int it = 0; it < TH_ROOT_ITERS; it++) {
        if (x.g == 0.0) {
            *root = x.t;
            *found = 1;
            return RG_OK;
        }
        if (x.g > 0.0) a = x, have_a = 1;
        else b = x, have_b = 1;
        if ((!have_a && b.t <= TH_LO) || (!have_b && a.t >= TH_HI)) return RG_OK; /* one sign: none */
        if (have_a && have_b && b.t - a.t <= 2.0 * root_tol(b.t)) {
            *root = 0.5 * (a.t + b.t);
            *found = 1;
            return RG_OK;
        }
        int newton = isfinite(x.dg) && x.dg < 0.0;
        if (!newton && have_a && have_b) { /* no derivative: Brent on the bracket */
            f->pl->status = RG_OK;
            int st = rg_linalg_brent_bracket(brent_fn, f, a.t, a.g, b.t, b.g, TH_ROOT_TOL, root);
            if (f->pl->status != RG_OK) RG_FAIL(f->pl->status, "%s", f->pl->msg);
            RG_TRY(st);
            *found = 1;
            return RG_OK;
        }
        double tn = newton      ? x.t - x.g / x.dg
                    : have_prev ? secant(&x, &prev, f->level, logy)
                    : logy && x.g + f->level > 0.0 /* log s falls like -2 (mean rate) t at large t */
                        ? x.t + log((x.g + f->level) / f->level) / (2.0 * f->pl->mean_rate)
                        : (double)NAN;
        if (newton && fabs(tn - x.t) <= root_tol(x.t)) { /* clamped: tn may round onto x itself */
            *root = fmin(fmax(tn, have_a ? a.t : TH_LO), have_b ? b.t : TH_HI);
            *found = 1;
            return RG_OK;
        }
        if (have_a && have_b) { /* inside the bracket, and halving |g| fast enough (rtsafe) */
            int ok = isfinite(tn) && tn > a.t && tn < b.t && fabs(2.0 * x.g) <= fabs(dx_old * x.dg);
            if (!ok) tn = b.t / a.t > 2.0 ? sqrt(a.t * b.t) : 0.5 * (a.t + b.t);
        } else { /* one side: towards the root, at most a factor 64 */
            if (!isfinite(tn)) tn = x.g < 0.0 ? x.t / 8.0 : x.t * 8.0;
            tn = x.g < 0.0 ? fmax(fmin(tn, x.t), fmax(x.t / 64.0, TH_LO))
                           : fmin(fmax(tn, x.t), fmin(x.t * 64.0, TH_HI));
            if (tn == x.t) tn = x.g < 0.0 ? fmax(x.t / 8.0, TH_LO) : fmin(x.t * 8.0, TH_HI);
        }
        dx_old = fabs(tn - x.t);
        prev = x;
        have_prev = 1;
        RG_TRY(at(f, tn, &x));
    }
    RG_FAIL(RG_ENOCONV, "theory: root search did not converge in %d steps", TH_ROOT_ITERS);
}

/* First trial: the top of the interval for kappa and lambda_max (their logarithms are nearly linear
 * in t there, so the first Newton step lands close); for collapse the isotropic-OU estimate
 * 1/2 log(1 + 1/(2 alpha)) divided by the mean rate. */
static double first_trial(const rg_theory_plan *pl, th_crit c, double level)
{
    if (c != TH_COLLAPSE) return TH_HI;
    double t0 = 0.5 * log1p(1.0 / (2.0 * level)) / pl->mean_rate;
    return isfinite(t0) && t0 > 0 ? fmin(fmax(t0, TH_LO), TH_HI) : 1.0;
}

int rg_theory__root(rg_theory_plan *pl, th_crit c, size_t label, double level, double *root, int *found)
{
    th_fn_ctx f = { pl, c, label, level };
    *found = 0;
    *root = NAN;
    return search(&f, first_trial(pl, c, level), c == TH_COLLAPSE, root, found);
}
