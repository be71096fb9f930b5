/* Predicted regimes of a linear forward process on Gaussian-mixture data (docs/math.md 7).
 *
 * Everything works on the core (k x k) moments E_t, S_t of the process; the multiplicity r enters
 * only through alpha = log P / N, N = k r. One evaluator serves every criterion:
 *     log kappa_l(t)       kappa = |m_l|^2 p^T G^{-1} p,  p = E e_l,  G = E Cw E^T + S  (7.1 b, d)
 *     log lambda_max(K_l)  K = L^{-1} E C_l E^T L^{-T},  C_l = |m_l|^2 e_l e_l^T + Cw,  L = chol(S)
 *     alpha - (1/2k) sum_j log(1 + nu_j),  nu = eig(L^{-1} E Cw E^T L^{-T})               (7.6)
 * Speciation criteria are evaluated as logarithms: kappa and lambda_max decay like e^{-2 r t}, and
 * the scaling p = c p' (E = c E' for lambda_max) keeps them representable far beyond where the
 * plain products underflow. Roots follow the convention of docs/math.md 7 (rg_linalg_largest_root). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"
#include "regimes/linalg.h"
#include "regimes/theory.h"

/* Root convention of docs/math.md 7: geometric grid of 400 points on [1e-4, 200]. */
#define TH_LO 1e-4
#define TH_HI 200.0
#define TH_NPTS 400
/* Cw is often a product (inv(Sigma), a sample covariance): rounding leaves it symmetric to ~1e-15
 * relative. 1e-10 of the largest entry accepts that and rejects real asymmetry; G is symmetrised. */
#define TH_SYM_RTOL 1e-10
/* phi: for kappa >= 1000, 1 - phi <= (e^{-kappa/8} + 4 e^{-kappa}) / 2 < 1e-54, so phi = 1 in double
 * (docs/math.md 7.2 states the quadrature error bound up to this kappa). */
#define TH_PHI_KAPPA_MAX 1000.0

#define TH_INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi): the N(0, 1) density */

typedef enum { TH_LOG_KAPPA, TH_LOG_KMAX, TH_COLLAPSE } th_kind;

/* One criterion evaluated at any t, with its scratch and the first failure's message. */
typedef struct {
    const rg_process *p;
    const rg_theory_data *d;
    size_t k, label;
    th_kind kind;
    double shift; /* subtracted from the value: log(level) for log criteria */
    double alpha; /* collapse only */
    double *E, *S, *L, *B, *T, *v, *nu;
    int status;
    char msg[256];
} th_eval;

/* ---- validation ------------------------------------------------------------------------------ */

static double max_abs(size_t n, const double *A)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(A[i]));
    return m;
}

/* NULL if fine; *status receives RG_EINVAL, RG_EDOM (Cw not SPD) or RG_ENOMEM. */
static const char *data_reason(const rg_process *p, const rg_theory_data *d, int *status)
{
    *status = RG_EINVAL;
    if (!p || !d) return "process or data is NULL";
    size_t k = rg_process_core(p);
    if (d->n_labels < 1) return "data have no labels (n_labels = 0)";
    if (!d->pattern || !d->mean_norm2 || !d->Cw) return "data pattern, mean_norm2 or Cw is NULL";
    if (!rg__all_finite(d->pattern, d->n_labels * k)) return "a label pattern contains NaN or Inf";
    for (size_t l = 0; l < d->n_labels; l++) {
        if (!(max_abs(k, d->pattern + l * k) > 0)) return "a label pattern is the zero vector";
        if (!(d->mean_norm2[l] > 0) || !isfinite(d->mean_norm2[l]))
            return "a mean norm |m_l|^2 is not a finite positive number";
    }
    if (!rg__all_finite(d->Cw, k * k)) return "Cw contains NaN or Inf";
    double tol = TH_SYM_RTOL * max_abs(k * k, d->Cw);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < i; j++)
            if (!(fabs(d->Cw[i * k + j] - d->Cw[j * k + i]) <= tol)) return "Cw is not symmetric";
    double *L = malloc(k * k * sizeof *L);
    if (!L) {
        *status = RG_ENOMEM;
        return "out of memory while checking Cw";
    }
    int st = rg_linalg_chol(k, d->Cw, L);
    free(L);
    if (st != RG_OK) {
        *status = RG_EDOM;
        return "Cw is not positive definite";
    }
    *status = RG_OK;
    return NULL;
}

const char *rg_theory_check(const rg_process *p, const rg_theory_data *d)
{
    int status;
    return data_reason(p, d, &status);
}

static int check_all(const rg_process *p, const rg_theory_data *d)
{
    int status;
    const char *why = data_reason(p, d, &status);
    if (why) RG_FAIL(status, "theory: %s", why);
    return RG_OK;
}

static int check_label(const rg_theory_data *d, size_t label)
{
    if (label >= d->n_labels)
        RG_FAIL(RG_EINVAL, "theory: label %zu out of range (n_labels = %zu)", label, d->n_labels);
    return RG_OK;
}

static int check_time(double t)
{
    if (!(t > 0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "theory: time t = %g must be finite and > 0", t);
    return RG_OK;
}

static int check_train(double n_train)
{
    if (!(n_train >= 1) || !isfinite(n_train))
        RG_FAIL(RG_EINVAL, "theory: number of training points %g must be finite and >= 1", n_train);
    return RG_OK;
}

/* ---- evaluator --------------------------------------------------------------------------------- */

static int eval_init(th_eval *c, const rg_process *p, const rg_theory_data *d, th_kind kind)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->d = d;
    c->k = rg_process_core(p);
    c->kind = kind;
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

static void eval_free(th_eval *c) { free(c->E); }

/* B = X Y X^T (k x k), symmetrised; T is scratch. */
static void sandwich(size_t k, const double *X, const double *Y, double *T, double *B)
{
    rg_linalg_mul(k, X, Y, T);
    rg_linalg_mul_t(k, T, X, B);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < i; j++) B[i * k + j] = B[j * k + i] = 0.5 * (B[i * k + j] + B[j * k + i]);
}

/* kappa = |m_l|^2 (c n)^2 with c = max|p_i| and n = |L_G^{-1} p / c|; c = 0 when p underflows. */
static int kappa_parts(th_eval *c, double t, double *scale, double *norm)
{
    size_t k = c->k;
    const double *e = c->d->pattern + c->label * k;
    RG_TRY(rg_process_moments(c->p, t, c->E, c->S));
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)k, (int)k, 1.0, c->E, (int)k, e, 1, 0.0, c->v, 1);
    double cmax = max_abs(k, c->v);
    *scale = cmax;
    *norm = 0.0;
    if (cmax == 0.0) return RG_OK;
    cblas_dscal((int)k, 1.0 / cmax, c->v, 1);
    sandwich(k, c->E, c->d->Cw, c->T, c->B);
    for (size_t i = 0; i < k * k; i++) c->B[i] += c->S[i];
    RG_TRY(rg_linalg_chol(k, c->B, c->L));
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)k, c->L, (int)k, c->v, 1);
    *norm = cblas_dnrm2((int)k, c->v, 1);
    return RG_OK;
}

/* lambda_max(K_l) = c^2 lmax' with c = max|E_ij| and lmax' computed from E / c. */
static int kmax_parts(th_eval *c, double t, double *scale, double *lmax)
{
    size_t k = c->k, kk = k * k;
    const double *e = c->d->pattern + c->label * k;
    double m2 = c->d->mean_norm2[c->label];
    RG_TRY(rg_process_moments(c->p, t, c->E, c->S));
    RG_TRY(rg_linalg_chol(k, c->S, c->L));
    double cmax = max_abs(kk, c->E);
    *scale = cmax;
    *lmax = 0.0;
    if (cmax == 0.0) return RG_OK;
    cblas_dscal((int)kk, 1.0 / cmax, c->E, 1);
    for (size_t i = 0; i < k; i++) /* S is free now: C_l = |m|^2 e e^T + Cw */
        for (size_t j = 0; j < k; j++) c->S[i * k + j] = m2 * e[i] * e[j] + c->d->Cw[i * k + j];
    sandwich(k, c->E, c->S, c->T, c->B);
    return rg_linalg_whitened_eigs(k, c->L, c->B, lmax, NULL);
}

/* s = (1/2k) sum_j log(1 + nu_j), the per-dimension log-volume ratio of the kernels. */
static int collapse_sum(th_eval *c, double t, double *s)
{
    size_t k = c->k;
    double lmax;
    RG_TRY(rg_process_moments(c->p, t, c->E, c->S));
    RG_TRY(rg_linalg_chol(k, c->S, c->L));
    sandwich(k, c->E, c->d->Cw, c->T, c->B);
    RG_TRY(rg_linalg_whitened_eigs(k, c->L, c->B, &lmax, c->nu));
    double sum = 0.0;
    for (size_t j = 0; j < k; j++) sum += log1p(c->nu[j]);
    *s = sum / (2.0 * (double)k);
    return RG_OK;
}

/* The criterion's value at t (its sign changes at the crossing). */
static int eval_at(th_eval *c, double t, double *y)
{
    double a, b;
    switch (c->kind) {
    case TH_LOG_KAPPA:
        RG_TRY(kappa_parts(c, t, &a, &b));
        *y = log(c->d->mean_norm2[c->label]) + 2.0 * (log(a) + log(b)) - c->shift;
        return RG_OK;
    case TH_LOG_KMAX:
        RG_TRY(kmax_parts(c, t, &a, &b));
        *y = 2.0 * log(a) + log(b) - c->shift;
        return RG_OK;
    case TH_COLLAPSE:
        RG_TRY(collapse_sum(c, t, &a));
        *y = c->alpha - a;
        return RG_OK;
    }
    RG_FAIL(RG_EINVAL, "theory: unknown criterion");
}

/* rg_linalg_fn adapter: NaN on failure, the first failure's status and message kept in c. */
static double eval_fn(double t, void *ctx)
{
    th_eval *c = ctx;
    double y = NAN;
    int st = eval_at(c, t, &y);
    if (st == RG_OK) return y;
    if (c->status == RG_OK) {
        c->status = st;
        snprintf(c->msg, sizeof c->msg, "%s", rg_strerror_last());
    }
    return NAN;
}

/* Largest root of the criterion on the docs/math.md 7 grid; failures keep the evaluator's message. */
static int eval_root(th_eval *c, double *root, int *found)
{
    int st = rg_linalg_largest_root(eval_fn, c, TH_LO, TH_HI, TH_NPTS, root, found);
    if (c->status != RG_OK) RG_FAIL(c->status, "%s (theory root scan)", c->msg);
    return st;
}

/* ---- criteria at one time ------------------------------------------------------------------------ */

static int one_time(const rg_process *p, const rg_theory_data *d, size_t label, double t, th_kind kind,
                    double *a, double *b)
{
    th_eval c;
    RG_TRY(check_all(p, d));
    RG_TRY(check_label(d, label));
    RG_TRY(check_time(t));
    RG_TRY(eval_init(&c, p, d, kind));
    c.label = label;
    int st = kind == TH_LOG_KAPPA ? kappa_parts(&c, t, a, b) : kmax_parts(&c, t, a, b);
    eval_free(&c);
    return st;
}

int rg_theory_kappa(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *kappa)
{
    double c, n;
    RG_TRY(one_time(p, d, label, t, TH_LOG_KAPPA, &c, &n));
    *kappa = d->mean_norm2[label] * (c * n) * (c * n);
    return RG_OK;
}

int rg_theory_kmax(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *lmax)
{
    double c, l;
    RG_TRY(one_time(p, d, label, t, TH_LOG_KMAX, &c, &l));
    *lmax = c * c * l;
    return RG_OK;
}

double rg_theory_phi(double kappa)
{
    if (!(kappa >= 0)) return NAN;
    if (kappa >= TH_PHI_KAPPA_MAX) return 1.0;
    double h0 = 0.05 / fmax(1.0, sqrt(kappa));
    size_t n = (size_t)ceil(24.0 / h0); /* intervals on [-12, 12] */
    double h = 24.0 / (double)n, sk = sqrt(kappa), sum = 0.0;
    for (size_t i = 0; i <= n; i++) {
        double xi = -12.0 + h * (double)i, th = tanh(kappa + sk * xi);
        double w = (i == 0 || i == n) ? 0.5 : 1.0;
        sum += w * th * th * exp(-0.5 * xi * xi);
    }
    double mean = sum * h * TH_INV_SQRT_2PI;
    return 0.5 * (1.0 + mean);
}

int rg_theory_collapse_f(const rg_process *p, const rg_theory_data *d, double n_train, double t, double *f)
{
    th_eval c;
    double s;
    RG_TRY(check_all(p, d));
    RG_TRY(check_train(n_train));
    RG_TRY(check_time(t));
    RG_TRY(eval_init(&c, p, d, TH_COLLAPSE));
    int st = collapse_sum(&c, t, &s);
    eval_free(&c);
    RG_TRY(st);
    *f = fmax(0.0, log(n_train) / (double)rg_process_dim(p) - s);
    return RG_OK;
}

int rg_theory_phi_at(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *phi)
{
    double kappa;
    if (!phi) RG_FAIL(RG_EINVAL, "theory: phi is NULL");
    RG_TRY(rg_theory_kappa(p, d, label, t, &kappa));
    *phi = rg_theory_phi(kappa);
    return RG_OK;
}

/* ---- times ----------------------------------------------------------------------------------------- */

int rg_theory_speciation(const rg_process *p, const rg_theory_data *d, size_t label,
                         rg_speciation_criterion crit, double *t_s, int *found)
{
    th_eval c;
    RG_TRY(check_all(p, d));
    RG_TRY(check_label(d, label));
    if (crit != RG_SPECIATION_GMM && crit != RG_SPECIATION_MATRIX)
        RG_FAIL(RG_EINVAL, "theory: unknown speciation criterion %d", (int)crit);
    RG_TRY(eval_init(&c, p, d, crit == RG_SPECIATION_GMM ? TH_LOG_KAPPA : TH_LOG_KMAX));
    c.label = label;
    int st = eval_root(&c, t_s, found);
    eval_free(&c);
    return st;
}

int rg_theory_collapse(const rg_process *p, const rg_theory_data *d, double n_train, double *t_c, int *found)
{
    th_eval c;
    RG_TRY(check_all(p, d));
    RG_TRY(check_train(n_train));
    RG_TRY(eval_init(&c, p, d, TH_COLLAPSE));
    c.alpha = log(n_train) / (double)rg_process_dim(p);
    int st = eval_root(&c, t_c, found);
    eval_free(&c);
    return st;
}

/* Horizon for one label: the largest crossing of kappa = level, INFINITY if kappa > level at the top
 * of the grid, the grid's bottom if kappa <= level everywhere on it. */
static int horizon_label(th_eval *c, double *T)
{
    int found;
    RG_TRY(eval_root(c, T, &found));
    if (found) return RG_OK;
    double y = NAN;
    RG_TRY(eval_at(c, TH_HI, &y));
    *T = y > 0 ? (double)INFINITY : TH_LO;
    return RG_OK;
}

int rg_theory_horizon(const rg_process *p, const rg_theory_data *d, double level, double *T)
{
    th_eval c;
    RG_TRY(check_all(p, d));
    if (!(level > 0) || !isfinite(level))
        RG_FAIL(RG_EINVAL, "theory: horizon level %g must be finite and > 0", level);
    RG_TRY(eval_init(&c, p, d, TH_LOG_KAPPA));
    c.shift = log(level);
    double worst = 0.0;
    int st = RG_OK;
    for (size_t l = 0; l < d->n_labels && st == RG_OK; l++) {
        double Tl = 0.0;
        c.label = l;
        st = horizon_label(&c, &Tl);
        worst = fmax(worst, Tl);
    }
    eval_free(&c);
    RG_TRY(st);
    *T = worst;
    return RG_OK;
}

/* ---- the equalising coupling (docs/math.md 7.4, item 4) -------------------------------------------------- */

/* gamma that gives both labels the same t_S: Brent on gap(gamma) = t_S^0 - t_S^1 inside the stability
 * interval of the form, shrunk by EQ_EDGE (at the bound a rate vanishes and t_S^c grows like N). */
#define EQ_EDGE 1e-6
#define EQ_DIFFUSIVE_HI 1e3 /* diffusive: lambda_d = 1 + 2 gamma; beyond 1e3 t_S^d < 1e-3 */

typedef struct {
    rg_coupling_form form;
    const rg_theory_data *d;
    int status;
    char msg[256];
} eq_ctx;

static double eq_gap(double gamma, void *ctx)
{
    eq_ctx *c = ctx;
    double M[4], t[2] = { NAN, NAN };
    rg_process *p = NULL;
    int found[2] = { 0, 0 };
    rg_process_coupling(c->form, gamma, M);
    int st = rg_process_coupled(M, 1, &p);
    for (size_t l = 0; l < 2 && st == RG_OK; l++)
        st = rg_theory_speciation(p, c->d, l, RG_SPECIATION_GMM, &t[l], &found[l]);
    rg_process_free(p);
    if (st != RG_OK && c->status == RG_OK) {
        c->status = st;
        snprintf(c->msg, sizeof c->msg, "%s", rg_strerror_last());
    }
    if (st != RG_OK) return NAN;
    /* a label without a root has t_S = 0 for this purpose: it never commits before the other */
    return (found[0] ? t[0] : 0.0) - (found[1] ? t[1] : 0.0);
}

int rg_theory_equal_gamma(rg_coupling_form form, const rg_theory_data *d, double *gamma, int *found)
{
    if (!gamma || !found || !d) RG_FAIL(RG_EINVAL, "theory: NULL argument to rg_theory_equal_gamma");
    if (form != RG_COUPLING_CROSS && form != RG_COUPLING_DIFFUSIVE)
        RG_FAIL(RG_EINVAL, "theory: unknown coupling form %d", (int)form);
    if (d->n_labels != 2) RG_FAIL(RG_EINVAL, "theory: the equalising gamma needs two labels, got %zu", d->n_labels);
    *found = 0;
    *gamma = NAN;
    eq_ctx c = { .form = form, .d = d };
    double lo = form == RG_COUPLING_CROSS ? -1.0 + EQ_EDGE : -0.5 + EQ_EDGE;
    double hi = form == RG_COUPLING_CROSS ? 1.0 - EQ_EDGE : EQ_DIFFUSIVE_HI;
    double flo = eq_gap(lo, &c), fhi = eq_gap(hi, &c);
    if (c.status != RG_OK) RG_FAIL(c.status, "%s (equalising gamma)", c.msg);
    if (!(flo <= 0.0 && fhi >= 0.0) && !(flo >= 0.0 && fhi <= 0.0)) return RG_OK; /* no sign change */
    int st = rg_linalg_brent(eq_gap, &c, lo, hi, 1e-12, gamma);
    if (c.status != RG_OK) RG_FAIL(c.status, "%s (equalising gamma)", c.msg);
    RG_TRY(st);
    *found = 1;
    return RG_OK;
}

/* ---- closed forms ---------------------------------------------------------------------------------- */

double rg_theory_mode_time(double lambda, double a)
{
    if (!isfinite(lambda) || !(a > 0) || !isfinite(a)) return NAN;
    double x = lambda * a;
    if (!(x > -1.0)) return NAN; /* 1 + lambda a <= 0: kappa stays above 1, no crossing */
    /* log1p(x) / (2 lambda) = (a / 2) log1p(x) / x: no division by a vanishing lambda */
    double ratio = x == 0.0 ? 1.0 : log1p(x) / x;
    return 0.5 * a * ratio;
}

double rg_theory_ou_speciation(double mean_norm2, double sigma2)
{
    return rg_theory_mode_time(1.0, mean_norm2 - sigma2);
}

double rg_theory_ou_collapse(double N, double n_train, double sigma2)
{
    return rg_theory_mode_collapse(1.0, sigma2, N, n_train);
}

double rg_theory_mode_collapse(double lambda, double sigma2, double d, double n_train)
{
    if (!(d > 0) || !(n_train > 1) || !isfinite(n_train) || !(sigma2 > 0)) return NAN;
    return rg_theory_mode_time(lambda, sigma2 / expm1(2.0 * log(n_train) / d));
}
