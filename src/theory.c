/* Predicted regimes of a linear forward process on Gaussian-mixture data (docs/math.md 7): validation,
 * plans, the public criteria and times, phi, the equalising coupling and the closed forms.
 *
 * A plan (theory_internal.h) holds a copy of the data, the Cholesky factor of Cw and, for a process
 * with a modal form, Cw and the patterns in modal coordinates. Criteria are evaluated by
 * theory_eval.c (modal coordinates, or the process's moments per t) and, with RG_THEORY_NAIVE, by the
 * pre-modal reference in theory_naive.c. Every criterion decreases in t (theory.h), so every time is
 * the unique root, which the docs/math.md 7 convention (the largest root) also returns. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"
#include "regimes/linalg.h"
#include "regimes/theory.h"
#include "theory_internal.h"

/* Cw is often a product (inv(Sigma), a sample covariance): rounding leaves it symmetric to ~1e-15
 * relative. 1e-10 of the largest entry accepts that and rejects real asymmetry; G is symmetrised. */
#define TH_SYM_RTOL 1e-10
/* phi: for kappa >= 1000, 1 - phi <= (e^{-kappa/8} + 4 e^{-kappa}) / 2 < 1e-54, so phi = 1 in double
 * (docs/math.md 7.2 states the quadrature error bound up to this kappa). */
#define TH_PHI_KAPPA_MAX 1000.0

#define TH_INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi): the N(0, 1) density */

/* ---- validation ------------------------------------------------------------------------------ */

static double max_abs(size_t n, const double *A)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(A[i]));
    return m;
}

/* NULL if fine; *status receives RG_EINVAL, RG_EDOM (Cw not SPD) or RG_ENOMEM. L: (k, k) receives the
 * lower Cholesky factor of Cw, or NULL. */
static const char *data_reason(const rg_process *p, const rg_theory_data *d, int *status, double *L)
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
    if (!(rg__asymmetry(k, d->Cw, 1.0) <= TH_SYM_RTOL * max_abs(k * k, d->Cw))) return "Cw is not symmetric";
    int diag = 1; /* a diagonal Cw (I, U, U^-1 of a diagonal U) is factored by its square roots */
    for (size_t i = 0; i < k && diag; i++)
        for (size_t j = 0; j < k && diag; j++) diag = i == j || d->Cw[i * k + j] == 0.0;
    if (diag) {
        for (size_t i = 0; i < k; i++)
            if (!(d->Cw[i * k + i] > 0.0)) {
                *status = RG_EDOM;
                return "Cw is not positive definite";
            }
        if (L) {
            memset(L, 0, k * k * sizeof *L);
            for (size_t i = 0; i < k; i++) L[i * k + i] = sqrt(d->Cw[i * k + i]);
        }
        *status = RG_OK;
        return NULL;
    }
    double *W = L ? L : malloc(k * k * sizeof *W);
    if (!W) {
        *status = RG_ENOMEM;
        return "out of memory while checking Cw";
    }
    int st = rg_linalg_chol(k, d->Cw, W);
    if (W != L) free(W);
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
    return data_reason(p, d, &status, NULL);
}

static int check_label(const rg_theory_plan *pl, size_t label)
{
    if (label >= pl->n_labels)
        RG_FAIL(RG_EINVAL, "theory: label %zu out of range (n_labels = %zu)", label, pl->n_labels);
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

/* ---- plans ----------------------------------------------------------------------------------------- */

void rg_theory_plan_free(rg_theory_plan *pl)
{
    if (!pl) return;
    free(pl->pattern);
    free(pl->Cw);
    free(pl->G);
    free(pl->E);
    if (pl->m) free(pl->T);
    free(pl->lz);
    free(pl);
}

/* Blocks: pattern, norm2 | Cw, Lw, Ct, et | G, S, B, v | E, T (original coordinates only; in modal
 * coordinates T is allocated by the dense eigenvalue route when it runs). */
static int plan_alloc(rg_theory_plan *pl, size_t k, size_t L, int modal)
{
    size_t kk = k * k;
    pl->pattern = malloc((L * k + L) * sizeof *pl->pattern);
    pl->Cw = malloc((2 * kk + (modal ? kk + L * k : 0)) * sizeof *pl->Cw);
    pl->G = calloc(3 * kk + 6 * k, sizeof *pl->G); /* zeros: blocks never write between blocks */
    pl->E = modal ? NULL : malloc(2 * kk * sizeof *pl->E);
    if (!pl->pattern || !pl->Cw || !pl->G || (!modal && !pl->E))
        RG_FAIL(RG_ENOMEM, "theory: out of memory for a plan (k = %zu)", k);
    pl->norm2 = pl->pattern + L * k;
    pl->Lw = pl->Cw + kk;
    pl->Ct = modal ? pl->Lw + kk : NULL;
    pl->et = modal ? pl->Ct + kk : NULL;
    pl->S = pl->G + kk;
    pl->B = pl->S + kk;
    pl->v = pl->B + kk;
    pl->T = modal ? NULL : pl->E + kk;
    return RG_OK;
}

/* Cw and the patterns into modal coordinates: Ct = R^-1 Lw Lw^T R^-T, et_l = R^-1 e_l. When A
 * decouples into blocks and Ct vanishes between them, every per-t matrix is block diagonal too. */
static int plan_modal(rg_theory_plan *pl)
{
    size_t k = pl->k;
    int identity = 1;
    for (size_t i = 0; i < k && identity; i++)
        for (size_t j = 0; j < k && identity; j++) identity = pl->Cw[i * k + j] == (i == j ? 1.0 : 0.0);
    RG_TRY(rg_linalg_modal_congruence(pl->m, identity ? NULL : pl->Lw, pl->Ct));
    for (size_t l = 0; l < pl->n_labels; l++) rg_linalg_modal_vec(pl->m, pl->pattern + l * k, pl->et + l * k);
    const size_t *off;
    size_t nc = rg_linalg_modal_blocks(pl->m, &off), b = 0;
    int decoupled = nc > 1;
    for (size_t i = 0; i < k && decoupled; i++) { /* Ct zero outside the diagonal blocks */
        while (i >= off[b + 1]) b++;
        for (size_t j = 0; j < off[b] && decoupled; j++) decoupled = pl->Ct[i * k + j] == 0.0;
    }
    pl->nb = decoupled ? nc : 1;
    pl->boff = decoupled ? off : NULL;
    return RG_OK;
}

static double mean_rate(const rg_process *p, double *re)
{
    size_t k = rg_process_core(p);
    if (rg_process_rates(p, re, re + k) != RG_OK) return 1.0;
    double s = 0.0;
    for (size_t i = 0; i < k; i++) s += re[i];
    return s / (double)k;
}

int rg_theory_plan_new(const rg_process *p, const rg_theory_data *d, unsigned flags, rg_theory_plan **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "theory: plan out is NULL");
    *out = NULL;
    if (!p || !d) RG_FAIL(RG_EINVAL, "theory: process or data is NULL");
    size_t k = rg_process_core(p), L = d->n_labels;
    rg_theory_plan *pl = calloc(1, sizeof *pl);
    if (!pl) RG_FAIL(RG_ENOMEM, "theory: out of memory for a plan");
    pl->p = p;
    pl->k = k;
    pl->n_labels = L;
    pl->N = (double)rg_process_dim(p);
    pl->flags = flags;
    pl->m = flags & RG_THEORY_NAIVE ? NULL : rg_process_modal(p);
    pl->tG = pl->tS = pl->tE = NAN;
    pl->nb = 1;
    pl->stats.modal = pl->m != NULL;
    int st = L < 1 ? RG_OK : plan_alloc(pl, k, L, pl->m != NULL), status = RG_OK;
    if (st == RG_OK) {
        const char *why = data_reason(p, d, &status, L < 1 ? NULL : pl->Lw);
        if (why) st = rg__fail(status, __FILE__, __LINE__, "theory: %s", why);
    }
    if (st == RG_OK) {
        memcpy(pl->pattern, d->pattern, L * k * sizeof *pl->pattern);
        memcpy(pl->norm2, d->mean_norm2, L * sizeof *pl->norm2);
        memcpy(pl->Cw, d->Cw, k * k * sizeof *pl->Cw);
        rg__symmetrise(k, pl->Cw);
        pl->mean_rate = mean_rate(p, pl->G);
        if (pl->m) st = plan_modal(pl);
    }
    if (st != RG_OK) {
        rg_theory_plan_free(pl);
        return st;
    }
    *out = pl;
    return RG_OK;
}

void rg_theory_plan_stats(const rg_theory_plan *pl, rg_theory_stats *s)
{
    *s = pl->stats;
    s->blocks = pl->nb;
}

static int naive(const rg_theory_plan *pl) { return (pl->flags & RG_THEORY_NAIVE) != 0; }

int rg_theory_plan_kappa(rg_theory_plan *pl, size_t label, double t, double *kappa)
{
    RG_TRY(check_label(pl, label));
    RG_TRY(check_time(t));
    if (naive(pl)) return rg_theory__naive_value(pl, TH_KAPPA, label, t, kappa);
    return rg_theory__kappa(pl, label, t, kappa);
}

int rg_theory_plan_kmax(rg_theory_plan *pl, size_t label, double t, double *lmax)
{
    RG_TRY(check_label(pl, label));
    RG_TRY(check_time(t));
    if (naive(pl)) return rg_theory__naive_value(pl, TH_MATRIX, label, t, lmax);
    return rg_theory__kmax(pl, label, t, lmax);
}

int rg_theory_plan_phi_at(rg_theory_plan *pl, size_t label, double t, double *phi)
{
    double kappa;
    if (!phi) RG_FAIL(RG_EINVAL, "theory: phi is NULL");
    RG_TRY(rg_theory_plan_kappa(pl, label, t, &kappa));
    *phi = rg_theory_phi(kappa);
    return RG_OK;
}

int rg_theory_plan_collapse_f(rg_theory_plan *pl, double n_train, double t, double *f)
{
    double s;
    RG_TRY(check_train(n_train));
    RG_TRY(check_time(t));
    if (naive(pl)) RG_TRY(rg_theory__naive_value(pl, TH_COLLAPSE, 0, t, &s));
    else RG_TRY(rg_theory__collapse_sum(pl, t, &s));
    *f = fmax(0.0, log(n_train) / pl->N - s);
    return RG_OK;
}

static int root(rg_theory_plan *pl, th_crit c, size_t label, double level, double *t, int *found)
{
    if (!t || !found) RG_FAIL(RG_EINVAL, "theory: NULL output");
    if (naive(pl)) return rg_theory__naive_root(pl, c, label, level, t, found);
    return rg_theory__root(pl, c, label, level, t, found);
}

int rg_theory_plan_speciation(rg_theory_plan *pl, size_t label, rg_speciation_criterion crit, double *t_s,
                              int *found)
{
    RG_TRY(check_label(pl, label));
    if (crit != RG_SPECIATION_GMM && crit != RG_SPECIATION_MATRIX)
        RG_FAIL(RG_EINVAL, "theory: unknown speciation criterion %d", (int)crit);
    return root(pl, crit == RG_SPECIATION_GMM ? TH_KAPPA : TH_MATRIX, label, 1.0, t_s, found);
}

int rg_theory_plan_collapse(rg_theory_plan *pl, double n_train, double *t_c, int *found)
{
    RG_TRY(check_train(n_train));
    double alpha = log(n_train) / pl->N;
    if (!(alpha > 0.0)) { /* P = 1: s(t) > 0 = alpha at every t, nothing to condense onto */
        if (!t_c || !found) RG_FAIL(RG_EINVAL, "theory: NULL output");
        *t_c = NAN;
        *found = 0;
        return RG_OK;
    }
    return root(pl, TH_COLLAPSE, 0, alpha, t_c, found);
}

/* Horizon for one label: the crossing of kappa = level; INFINITY if kappa > level at the top of the
 * interval, its bottom if kappa <= level everywhere on it. */
static int horizon_label(rg_theory_plan *pl, size_t l, double level, double *T)
{
    int found;
    RG_TRY(root(pl, TH_HORIZON, l, level, T, &found));
    if (found) return RG_OK;
    double kappa = NAN;
    RG_TRY(rg_theory_plan_kappa(pl, l, TH_HI, &kappa));
    *T = kappa > level ? (double)INFINITY : TH_LO;
    return RG_OK;
}

int rg_theory_plan_horizon(rg_theory_plan *pl, double level, double *T)
{
    if (!(level > 0) || !isfinite(level))
        RG_FAIL(RG_EINVAL, "theory: horizon level %g must be finite and > 0", level);
    if (!T) RG_FAIL(RG_EINVAL, "theory: NULL output");
    double worst = 0.0;
    for (size_t l = 0; l < pl->n_labels; l++) {
        double Tl = 0.0;
        RG_TRY(horizon_label(pl, l, level, &Tl));
        worst = fmax(worst, Tl);
    }
    *T = worst;
    return RG_OK;
}

/* ---- one-call forms: a plan for one question ------------------------------------------------------- */

#define ONE_CALL(call)                                      \
    do {                                                    \
        rg_theory_plan *pl_;                                \
        RG_TRY(rg_theory_plan_new(p, d, 0, &pl_));          \
        int st_ = (call);                                   \
        rg_theory_plan_free(pl_);                           \
        return st_;                                         \
    } while (0)

int rg_theory_kappa(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *kappa)
{
    ONE_CALL(rg_theory_plan_kappa(pl_, label, t, kappa));
}

int rg_theory_kmax(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *lmax)
{
    ONE_CALL(rg_theory_plan_kmax(pl_, label, t, lmax));
}

int rg_theory_phi_at(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *phi)
{
    ONE_CALL(rg_theory_plan_phi_at(pl_, label, t, phi));
}

int rg_theory_collapse_f(const rg_process *p, const rg_theory_data *d, double n_train, double t, double *f)
{
    ONE_CALL(rg_theory_plan_collapse_f(pl_, n_train, t, f));
}

int rg_theory_speciation(const rg_process *p, const rg_theory_data *d, size_t label,
                         rg_speciation_criterion crit, double *t_s, int *found)
{
    ONE_CALL(rg_theory_plan_speciation(pl_, label, crit, t_s, found));
}

int rg_theory_collapse(const rg_process *p, const rg_theory_data *d, double n_train, double *t_c, int *found)
{
    ONE_CALL(rg_theory_plan_collapse(pl_, n_train, t_c, found));
}

int rg_theory_horizon(const rg_process *p, const rg_theory_data *d, double level, double *T)
{
    ONE_CALL(rg_theory_plan_horizon(pl_, level, T));
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
