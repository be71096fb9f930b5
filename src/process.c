/* The linear forward processes dz = -A(t) z dt + sqrt(2) dW (docs/math.md 2): construction, validation,
 * exact moments of constant drifts, stationary covariance, rates and forward sampling.
 * Schedules live in process_schedule.c.
 *
 * Constant moments: k = 1 closed form; k = 2 (couplings) closed forms of docs/math.md 2.5, with
 * S_t = S_inf - E_t S_inf E_t^T where that difference keeps its digits and 2x2 Van Loan where it
 * would cancel (small t, or S_inf much larger than S_t near instability); dense Van Loan with
 * doubling for nonrev and general drifts (rg_linalg_vanloan). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "process_internal.h"
#include "regimes/linalg.h"
#include "regimes/process.h"

/* Largest core size: keeps k * k * sizeof(double) far from overflow (dense algebra is O(k^3) anyway). */
#define PROCESS_MAX_K 65536
/* U and Q come from files or from products: rounding leaves them symmetric (antisymmetric) to
 * ~1e-15 relative. 1e-10 of the largest entry accepts that and rejects any real asymmetry (the same
 * rule as nonrev.c); the symmetric (antisymmetric) part is then used. */
#define PROCESS_SYM_RTOL 1e-10
/* S_t = S_inf - E S_inf E^T loses about log2(max|S_inf| / max|S_t|) bits to cancellation. Up to a
 * factor 8 (3 bits: error <~ 1e-15 relative) the closed form is kept, beyond it 2x2 Van Loan
 * (accurate at every t) takes over. */
#define COV2_MAX_LOSS 8.0
/* docs/math.md 2.5: series for c(t), s(t) when |omega^2| t^2 < 1e-3; 6 terms reach (1e-3)^6 / 12! ~ 2e-27. */
#define EXPM2_SERIES_X 1e-3
#define EXPM2_SERIES_TERMS 6

/* ---- small helpers ------------------------------------------------------------------------------ */

static void set_identity(size_t k, double *E)
{
    memset(E, 0, k * k * sizeof *E);
    for (size_t i = 0; i < k; i++) E[i * k + i] = 1.0;
}

static double max_abs(size_t n, const double *x)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static int check_time(double t, const char *what)
{
    if (!(t >= 0.0)) RG_FAIL(RG_EINVAL, "%s: t = %g must be >= 0", what, t);
    if (!isfinite(t)) RG_FAIL(RG_EINVAL, "%s: t = %g is not a finite time", what, t);
    return RG_OK;
}

/* ---- coupling matrices (docs/math.md 2.4) ----------------------------------------------------------- */

void rg_process_coupling(rg_coupling_form form, double gamma, double M[4])
{
    double a = form == RG_COUPLING_DIFFUSIVE ? 1.0 + gamma : 1.0;
    M[0] = a;
    M[1] = -gamma;
    M[2] = -gamma;
    M[3] = a;
}

void rg_process_coupling_aniso(double a_x, double a_y, double g_xy, double g_yx, double M[4])
{
    M[0] = a_x;
    M[1] = -g_xy;
    M[2] = -g_yx;
    M[3] = a_y;
}

const char *rg_process_coupling_check(const double M[4])
{
    static _Thread_local char why[192];
    if (!M) return "coupling matrix is NULL";
    if (!rg__all_finite(M, 4)) return "coupling matrix contains NaN or Inf";
    double tr = M[0] + M[3], axay = M[0] * M[3], gg = M[1] * M[2]; /* g_xy g_yx = M01 M10 */
    if (!(tr > 0.0)) {
        snprintf(why, sizeof why, "coupling has no stationary prior: tr M = a_x + a_y = %g <= 0", tr);
        return why;
    }
    if (!(axay > gg)) {
        snprintf(why, sizeof why, "coupling has no stationary prior: g_xy g_yx = %g >= a_x a_y = %g", gg,
                 axay);
        return why;
    }
    return NULL;
}

/* ---- 2x2 closed forms (docs/math.md 2.5) -------------------------------------------------------------- */

/* E = e^{-M h} = e^{-tau h} [c I - s M0], M0 = M - tau I, M0^2 = omega^2 I. The exponential forms
 * e^{-tau h} cosh = e^{-(tau - omega) h} (1 + e^{-2 omega h}) / 2 and e^{-tau h} sinh = e^{-(tau -
 * omega) h} (-expm1(-2 omega h)) / 2 neither overflow nor cancel. */
static void expm2(const double *M, double h, double *E)
{
    double tau = 0.5 * (M[0] + M[3]), hd = 0.5 * (M[0] - M[3]);
    double w2 = hd * hd + M[1] * M[2]; /* omega^2 = tau^2 - det M, without the cancellation */
    double x = w2 * h * h, ec, es;     /* e^{-tau h} c and e^{-tau h} s */
    if (fabs(x) < EXPM2_SERIES_X) {
        double c = 1.0, s = 1.0, tc = 1.0, ts = 1.0, ed = exp(-tau * h);
        for (int j = 1; j <= EXPM2_SERIES_TERMS; j++) {
            tc *= x / ((2.0 * j - 1.0) * (2.0 * j));
            ts *= x / ((2.0 * j) * (2.0 * j + 1.0));
            c += tc;
            s += ts;
        }
        ec = ed * c;
        es = ed * s * h;
    } else if (w2 > 0.0) {
        double om = sqrt(w2), g = 0.5 * exp(-(tau - om) * h);
        ec = g * (1.0 + exp(-2.0 * om * h));
        es = g * -expm1(-2.0 * om * h) / om;
    } else {
        double th = sqrt(-w2), ed = exp(-tau * h);
        ec = ed * cos(th * h);
        es = ed * sin(th * h) / th;
    }
    E[0] = ec - es * hd;
    E[1] = -es * M[1];
    E[2] = -es * M[2];
    E[3] = ec + es * hd;
}

/* S with M S + S M^T = 2I: S = [delta I + (M - T I)(M - T I)^T] / (T delta), T = tr M, delta = det M. */
static void lyap2(const double *M, double *S)
{
    double T = M[0] + M[3], delta = M[0] * M[3] - M[1] * M[2], f = 1.0 / (T * delta);
    S[0] = (delta + M[3] * M[3] + M[1] * M[1]) * f;
    S[1] = S[2] = -(M[3] * M[2] + M[1] * M[0]) * f;
    S[3] = (delta + M[2] * M[2] + M[0] * M[0]) * f;
}

/* S_h = S_inf - E S_inf E^T for stable M, E = e^{-M h}; 2x2 Van Loan when that cancels. */
static int cov2(const double *M, double h, const double *E, double *S)
{
    double Si[4], ES[4];
    lyap2(M, Si);
    ES[0] = E[0] * Si[0] + E[1] * Si[2];
    ES[1] = E[0] * Si[1] + E[1] * Si[3];
    ES[2] = E[2] * Si[0] + E[3] * Si[2];
    ES[3] = E[2] * Si[1] + E[3] * Si[3];
    S[0] = Si[0] - (ES[0] * E[0] + ES[1] * E[1]);
    S[1] = S[2] = Si[1] - (ES[0] * E[2] + ES[1] * E[3]);
    S[3] = Si[3] - (ES[2] * E[2] + ES[3] * E[3]);
    if (max_abs(4, Si) <= COV2_MAX_LOSS * max_abs(4, S)) return RG_OK;
    return rg_linalg_vanloan(2, M, NULL, h, NULL, S);
}

/* Dense stable A with known S_inf: E = expm(-A h) (k x k Pade) and S = S_inf - E S_inf E^T, which is
 * about 8x cheaper than the 2k x 2k Van Loan exponential with doubling; Van Loan takes over where the
 * difference would cancel (the same COV2_MAX_LOSS rule as the 2x2 case: small h). */
static int dense_moments(size_t k, const double *A, const double *Sinf, double h, double *E, double *S)
{
    size_t kk = k * k;
    double *w = malloc(3 * kk * sizeof *w);
    if (!w) RG_FAIL(RG_ENOMEM, "rg_process_moments: out of memory (k = %zu)", k);
    double *Eh = w, *T = w + kk, *Sh = w + 2 * kk;
    for (size_t i = 0; i < kk; i++) Eh[i] = -h * A[i];
    int st = rg_linalg_expm(k, Eh, Eh), lyap_ok = 0;
    if (st == RG_OK) {
        rg_linalg_mul(k, Eh, Sinf, T);
        rg_linalg_mul_t(k, T, Eh, Sh);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j <= i; j++)
                Sh[i * k + j] = Sh[j * k + i] = Sinf[i * k + j] - 0.5 * (Sh[i * k + j] + Sh[j * k + i]);
        lyap_ok = max_abs(kk, Sinf) <= COV2_MAX_LOSS * max_abs(kk, Sh);
        if (E) memcpy(E, Eh, kk * sizeof *E);
        if (S && lyap_ok) memcpy(S, Sh, kk * sizeof *S);
    }
    free(w);
    if (st != RG_OK || !S || lyap_ok) return st;
    return rg_linalg_vanloan(k, A, NULL, h, NULL, S);
}

int rg_process__const_moments(size_t k, const double *A, const rg_linalg_modal *modal, int dense, double h,
                              double *E, double *S)
{
    return rg_process__const_moments_inf(k, A, NULL, modal, dense, h, E, S);
}

int rg_process__modal(size_t k, const double *A, rg_linalg_modal **out)
{
    int st = rg_linalg_modal_new(k, A, RG_PROCESS_MODAL_TOL, out);
    return st == RG_ENOMEM ? st : RG_OK; /* refused (unstable, defective, no convergence): Van Loan */
}

int rg_process__const_moments_inf(size_t k, const double *A, const double *Sinf, const rg_linalg_modal *modal,
                                  int dense, double h, double *E, double *S)
{
    if (h == 0.0) { /* exactly I and 0 */
        if (E) set_identity(k, E);
        if (S) memset(S, 0, k * k * sizeof *S);
        return RG_OK;
    }
    if (modal) return rg_linalg_modal_moments(modal, h, E, S);
    if ((dense || k > 2) && Sinf && (E || S)) return dense_moments(k, A, Sinf, h, E, S);
    if (dense || k > 2) return rg_linalg_vanloan(k, A, NULL, h, E, S);
    if (k == 1) {
        double a = A[0];
        if (E) E[0] = exp(-a * h);
        if (S) S[0] = a != 0.0 ? -expm1(-2.0 * a * h) / a : 2.0 * h; /* (1 - e^{-2ah}) / a */
        return RG_OK;
    }
    double e[4];
    expm2(A, h, e);
    if (E) memcpy(E, e, sizeof e);
    return S ? cov2(A, h, e, S) : RG_OK;
}

const char *rg_process__stability(size_t k, const double *A, char *buf, size_t len)
{
    if (k == 2) return rg_process_coupling_check(A);
    double r = A[0];
    if (k > 2) {
        int st = rg_linalg_min_real_eig(k, A, &r);
        if (st != RG_OK) {
            snprintf(buf, len, "eigenvalues failed (%s)", rg_strerror_last());
            return buf;
        }
    }
    if (r > 0.0) return NULL;
    snprintf(buf, len, "drift is not stable: min Re eig(A) = %g <= 0", r);
    return buf;
}

int rg_process__lyap2i(size_t k, const double *A, double *S)
{
    if (k == 1) {
        S[0] = 1.0 / A[0];
        return RG_OK;
    }
    if (k == 2) {
        lyap2(A, S);
        return RG_OK;
    }
    double *W = calloc(k * k, sizeof *W);
    if (!W) RG_FAIL(RG_ENOMEM, "rg_process: out of memory (k = %zu)", k);
    for (size_t i = 0; i < k; i++) W[i * k + i] = 2.0;
    int st = rg_linalg_lyap(k, A, W, S);
    free(W);
    return st;
}

/* ---- construction ------------------------------------------------------------------------------ */

static int check_sizes(size_t k, size_t r, const char *what)
{
    if (k == 0 || r == 0) RG_FAIL(RG_EINVAL, "%s: empty process (k = %zu, r = %zu)", what, k, r);
    if (k > PROCESS_MAX_K) RG_FAIL(RG_EINVAL, "%s: core size %zu exceeds %d", what, k, PROCESS_MAX_K);
    if (r > SIZE_MAX / k) RG_FAIL(RG_EINVAL, "%s: dimension %zu x %zu overflows", what, k, r);
    return RG_OK;
}

/* A process of kind with core k and multiplicity r, with A, Sinf, wr, wi allocated (zeroed). */
static int alloc_process(rg_process_kind kind, size_t k, size_t r, rg_process **out, const char *what)
{
    *out = NULL;
    RG_TRY(check_sizes(k, r, what));
    rg_process *p = calloc(1, sizeof *p);
    if (p) {
        p->kind = kind;
        p->k = k;
        p->r = r;
        p->A = calloc(k * k, sizeof *p->A);
        p->Sinf = calloc(k * k, sizeof *p->Sinf);
        p->wr = calloc(k, sizeof *p->wr);
        p->wi = calloc(k, sizeof *p->wi);
    }
    if (!p || !p->A || !p->Sinf || !p->wr || !p->wi) {
        rg_process_free(p);
        RG_FAIL(RG_ENOMEM, "%s: out of memory (k = %zu)", what, k);
    }
    *out = p;
    return RG_OK;
}

/* Rates from A (from the modal form when a dense drift has one); S_inf unless the caller filled it
 * (nonrev) or A is unstable (general). */
static int finish(rg_process *p, int have_sinf)
{
    if (p->dense) RG_TRY(rg_process__modal(p->k, p->A, &p->modal));
    if (p->modal) {
        rg_linalg_modal_eigenvalues(p->modal, p->wr, p->wi);
        RG_TRY(rg__sort_eig(p->k, p->wr, p->wi));
    } else
        RG_TRY(rg_linalg_eig(p->k, p->A, p->wr, p->wi));
    if (have_sinf) return RG_OK;
    if (!(p->wr[0] > 0.0)) {
        free(p->Sinf);
        p->Sinf = NULL;
        return RG_OK;
    }
    return rg_process__lyap2i(p->k, p->A, p->Sinf);
}

/* Run finish(); on failure free p and clear *out. */
static int finish_or_free(rg_process **out, int have_sinf)
{
    int st = finish(*out, have_sinf);
    if (st != RG_OK) {
        rg_process_free(*out);
        *out = NULL;
    }
    return st;
}

int rg_process_ou(size_t d, rg_process **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_process_ou: out is NULL");
    RG_TRY(alloc_process(RG_PROCESS_OU, 1, d, out, "rg_process_ou"));
    (*out)->A[0] = 1.0;
    return finish_or_free(out, 0);
}

int rg_process_coupled(const double M[4], size_t d, rg_process **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_process_coupled: out is NULL");
    *out = NULL;
    if (!M) RG_FAIL(RG_EINVAL, "rg_process_coupled: M is NULL");
    if (!rg__all_finite(M, 4)) RG_FAIL(RG_EINVAL, "rg_process_coupled: coupling matrix contains NaN or Inf");
    const char *why = rg_process_coupling_check(M);
    if (why) RG_FAIL(RG_EDOM, "rg_process_coupled: %s", why);
    RG_TRY(alloc_process(RG_PROCESS_COUPLED, 2, d, out, "rg_process_coupled"));
    memcpy((*out)->A, M, 4 * sizeof *M);
    return finish_or_free(out, 0);
}

int rg_process_scheduled(size_t k, size_t r, const rg_schedule *s, rg_process **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_process_scheduled: out is NULL");
    RG_TRY(alloc_process(k == 2 ? RG_PROCESS_COUPLED : RG_PROCESS_GENERAL, k, r, out,
                         "rg_process_scheduled"));
    int st = rg_process__schedule_init(*out, s);
    if (st != RG_OK) {
        rg_process_free(*out);
        *out = NULL;
        return st;
    }
    return finish_or_free(out, 0);
}

/* sign = +1: is X symmetric, -1: antisymmetric, to PROCESS_SYM_RTOL of its largest entry. A tiled
 * pass decides; only a failure walks the rows again, for the first offending pair. */
static int symmetric(size_t n, const double *X, double sign, size_t *bi, size_t *bj)
{
    double tol = PROCESS_SYM_RTOL * max_abs(n * n, X);
    if (rg__asymmetry(n, X, sign) <= tol) return 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            if (!(fabs(X[i * n + j] - sign * X[j * n + i]) <= tol)) {
                *bi = i;
                *bj = j;
                return 0;
            }
    return 1;
}

static int check_uq(size_t n, const double *U, const double *Q)
{
    size_t i = 0, j = 0;
    if (!U) RG_FAIL(RG_EINVAL, "rg_process_nonrev: U is NULL");
    if (!rg__all_finite(U, n * n)) RG_FAIL(RG_EINVAL, "rg_process_nonrev: U contains NaN or Inf");
    if (Q && !rg__all_finite(Q, n * n)) RG_FAIL(RG_EINVAL, "rg_process_nonrev: Q contains NaN or Inf");
    if (!symmetric(n, U, 1.0, &i, &j))
        RG_FAIL(RG_EDOM, "rg_process_nonrev: U is not symmetric (U[%zu][%zu] = %.17g, U[%zu][%zu] = %.17g)",
                i, j, U[i * n + j], j, i, U[j * n + i]);
    if (Q && !symmetric(n, Q, -1.0, &i, &j))
        RG_FAIL(RG_EDOM,
                "rg_process_nonrev: Q is not antisymmetric (Q[%zu][%zu] = %.17g, Q[%zu][%zu] = %.17g)", i, j,
                Q[i * n + j], j, i, Q[j * n + i]);
    return RG_OK;
}

/* p->U, p->Q (symmetric and antisymmetric parts), A = (I + Q) U and S_inf = U^{-1} (docs/math.md 2.6). */
static int nonrev_fill(rg_process *p, const double *U, const double *Q)
{
    size_t n = p->k;
    double *S = p->Sinf;
    memcpy(p->U, U, n * n * sizeof *U);
    rg__symmetrise(n, p->U);
    if (Q) {
        memcpy(p->Q, Q, n * n * sizeof *Q);
        rg__antisymmetrise(n, p->Q);
    } else
        memset(p->Q, 0, n * n * sizeof *p->Q);
    int diag = 1; /* diagonal U (e.g. diag:LO:HI): U^-1 and Q U without O(n^3) work */
    for (size_t i = 0; i < n && diag; i++)
        for (size_t j = 0; j < n && diag; j++) diag = i == j || p->U[i * n + j] == 0.0;
    if (diag) {
        memset(S, 0, n * n * sizeof *S);
        for (size_t i = 0; i < n; i++) {
            double u = p->U[i * n + i], r = 1.0 / sqrt(u);
            if (!(u > 0.0))
                RG_FAIL(RG_EDOM, "rg_process_nonrev: U is not positive definite (leading minor %zu)", i + 1);
            S[i * n + i] = r * r; /* as dpotrf + dpotri do it: 1 / sqrt(u), squared */
        }
        for (size_t i = 0; i < n; i++) /* A = U + Q U: column j of Q scaled by u_j */
            for (size_t j = 0; j < n; j++) p->A[i * n + j] = p->Q[i * n + j] * p->U[j * n + j] + p->U[i * n + j];
        return RG_OK;
    }
    memcpy(S, p->U, n * n * sizeof *S);
    /* the row-major lower triangle is LAPACK's column-major upper one: no transposed copies */
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, S, (lapack_int)n);
    if (info > 0)
        RG_FAIL(RG_EDOM, "rg_process_nonrev: U is not positive definite (leading minor %d)", (int)info);
    if (info == 0) info = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)n, S, (lapack_int)n);
    if (info != 0) RG_FAIL(RG_ENOMEM, "rg_process_nonrev: inverting U failed (info %d)", (int)info);
    rg__symmetrise_lower(n, S);
    memcpy(p->A, p->U, n * n * sizeof *p->A); /* A = U + Q U */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0, p->Q, (int)n, p->U,
                (int)n, 1.0, p->A, (int)n);
    return RG_OK;
}

int rg_process_nonrev(size_t n, const double *U, const double *Q, rg_process **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_process_nonrev: out is NULL");
    *out = NULL;
    RG_TRY(check_sizes(n, 1, "rg_process_nonrev"));
    RG_TRY(check_uq(n, U, Q));
    RG_TRY(alloc_process(RG_PROCESS_NONREV, n, 1, out, "rg_process_nonrev"));
    rg_process *p = *out;
    p->dense = 1;
    p->U = malloc(n * n * sizeof *p->U);
    p->Q = malloc(n * n * sizeof *p->Q);
    int st = p->U && p->Q ? nonrev_fill(p, U, Q)
                          : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_process_nonrev: out of memory (n = %zu)", n);
    if (st != RG_OK) {
        rg_process_free(p);
        *out = NULL;
        return st;
    }
    return finish_or_free(out, 1);
}

int rg_process_general(size_t n, const double *A, rg_process **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_process_general: out is NULL");
    *out = NULL;
    RG_TRY(check_sizes(n, 1, "rg_process_general"));
    if (!A) RG_FAIL(RG_EINVAL, "rg_process_general: A is NULL");
    if (!rg__all_finite(A, n * n)) RG_FAIL(RG_EINVAL, "rg_process_general: A contains NaN or Inf");
    RG_TRY(alloc_process(RG_PROCESS_GENERAL, n, 1, out, "rg_process_general"));
    (*out)->dense = 1;
    memcpy((*out)->A, A, n * n * sizeof *A);
    return finish_or_free(out, 0);
}

void rg_process_free(rg_process *p)
{
    if (!p) return;
    free(p->A);
    free(p->U);
    free(p->Q);
    free(p->Sinf);
    free(p->wr);
    free(p->wi);
    free(p->kt);
    free(p->kA);
    rg_linalg_modal_free(p->modal);
    for (size_t i = 0; p->kmodal && i < p->n; i++) rg_linalg_modal_free(p->kmodal[i]);
    free(p->kmodal);
    free(p);
}

/* ---- structure ----------------------------------------------------------------------------------- */

rg_process_kind rg_process_kind_of(const rg_process *p) { return p->kind; }
size_t rg_process_core(const rg_process *p) { return p->k; }
size_t rg_process_mult(const rg_process *p) { return p->r; }
size_t rg_process_dim(const rg_process *p) { return p->k * p->r; }
int rg_process_is_scheduled(const rg_process *p) { return p->scheduled; }
const double *rg_process_nonrev_U(const rg_process *p) { return p->U; }
const double *rg_process_nonrev_Q(const rg_process *p) { return p->Q; }

/* ---- moments ------------------------------------------------------------------------------------- */

int rg_process_drift(const rg_process *p, double t, double *A)
{
    if (!p || !A) RG_FAIL(RG_EINVAL, "rg_process_drift: NULL argument");
    if (!(t >= 0.0)) RG_FAIL(RG_EINVAL, "rg_process_drift: t = %g must be >= 0", t);
    if (p->scheduled)
        rg_process__schedule_drift(p, t, A);
    else
        memcpy(A, p->A, p->k * p->k * sizeof *A);
    return RG_OK;
}

int rg_process_moments(const rg_process *p, double t, double *M, double *Sigma)
{
    if (!p) RG_FAIL(RG_EINVAL, "rg_process_moments: process is NULL");
    RG_TRY(check_time(t, "rg_process_moments"));
    if (p->scheduled) return rg_process__schedule_grid(p, 1, &t, M, Sigma, 0);
    return rg_process__const_moments_inf(p->k, p->A, p->Sinf, p->modal, p->dense, t, M, Sigma);
}

int rg_process_moments_naive(const rg_process *p, double t, double *M, double *Sigma)
{
    if (!p) RG_FAIL(RG_EINVAL, "rg_process_moments_naive: process is NULL");
    RG_TRY(check_time(t, "rg_process_moments_naive"));
    if (p->scheduled) return rg_process__schedule_grid(p, 1, &t, M, Sigma, 1);
    return rg_process__const_moments_inf(p->k, p->A, p->Sinf, NULL, p->dense, t, M, Sigma);
}

const rg_linalg_modal *rg_process_modal(const rg_process *p)
{
    return p && !p->scheduled ? p->modal : NULL;
}

int rg_process_moments_grid(const rg_process *p, size_t n, const double *t, double *M, double *Sigma)
{
    if (!p || (n > 0 && !t)) RG_FAIL(RG_EINVAL, "rg_process_moments_grid: NULL argument");
    for (size_t i = 0; i < n; i++) {
        RG_TRY(check_time(t[i], "rg_process_moments_grid"));
        if (i > 0 && !(t[i] > t[i - 1]))
            RG_FAIL(RG_EINVAL, "rg_process_moments_grid: times not increasing: t[%zu] = %g after %g", i,
                    t[i], t[i - 1]);
    }
    if (p->scheduled) return rg_process__schedule_grid(p, n, t, M, Sigma, 0);
    size_t kk = p->k * p->k;
    for (size_t i = 0; i < n; i++)
        RG_TRY(rg_process__const_moments_inf(p->k, p->A, p->Sinf, p->modal, p->dense, t[i],
                                             M ? M + i * kk : NULL, Sigma ? Sigma + i * kk : NULL));
    return RG_OK;
}

int rg_process_chol(const rg_process *p, double t, double *L)
{
    if (!p || !L) RG_FAIL(RG_EINVAL, "rg_process_chol: NULL argument");
    RG_TRY(check_time(t, "rg_process_chol"));
    if (t == 0.0) RG_FAIL(RG_EINVAL, "rg_process_chol: t = 0 (Sigma_0 = 0 has no Cholesky factor)");
    RG_TRY(rg_process_moments(p, t, NULL, L));
    return rg_linalg_chol(p->k, L, L);
}

int rg_process_stationary(const rg_process *p, double *Sinf)
{
    if (!p || !Sinf) RG_FAIL(RG_EINVAL, "rg_process_stationary: NULL argument");
    if (!p->Sinf)
        RG_FAIL(RG_EDOM, "rg_process_stationary: drift is not stable: min Re eig(A) = %g <= 0", p->wr[0]);
    memcpy(Sinf, p->Sinf, p->k * p->k * sizeof *Sinf);
    return RG_OK;
}

int rg_process_rates(const rg_process *p, double *re, double *im)
{
    if (!p || !re || !im) RG_FAIL(RG_EINVAL, "rg_process_rates: NULL argument");
    memcpy(re, p->wr, p->k * sizeof *re);
    memcpy(im, p->wi, p->k * sizeof *im);
    return RG_OK;
}

int rg_process_relaxation_rate(const rg_process *p, double *r)
{
    if (!p || !r) RG_FAIL(RG_EINVAL, "rg_process_relaxation_rate: NULL argument");
    *r = p->wr[0];
    return RG_OK;
}

/* ---- forward sampling -------------------------------------------------------------------------- */

int rg_process_sample(const rg_process *p, double t, const double *z0, const double *xi, double *zt)
{
    if (!p || !z0 || !xi || !zt) RG_FAIL(RG_EINVAL, "rg_process_sample: NULL argument");
    RG_TRY(check_time(t, "rg_process_sample"));
    size_t k = p->k, r = p->r;
    if (r > INT_MAX) RG_FAIL(RG_EINVAL, "rg_process_sample: multiplicity %zu exceeds the BLAS int range", r);
    if (t == 0.0) {
        memmove(zt, z0, k * r * sizeof *zt);
        return RG_OK;
    }
    double *E = malloc(2 * k * k * sizeof *E);
    if (!E) RG_FAIL(RG_ENOMEM, "rg_process_sample: out of memory (k = %zu)", k);
    double *L = E + k * k;
    int st = rg_process_moments(p, t, E, L);
    if (st == RG_OK) st = rg_linalg_chol(k, L, L);
    if (st == RG_OK) { /* Z_t = E Z_0 + L Xi, each (k, k) x (k, r) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)r, (int)k, 1.0, E, (int)k, z0,
                    (int)r, 0.0, zt, (int)r);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)r, (int)k, 1.0, L, (int)k, xi,
                    (int)r, 1.0, zt, (int)r);
    }
    free(E);
    return st;
}
