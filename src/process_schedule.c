/* Scheduled drifts A(t) (docs/math.md 2.3): validation, the drift at t, and the moments in one pass.
 *
 * Piecewise-constant: exact composition segment by segment,
 *     E <- e^{-A_j h} E,   S <- e^{-A_j h} S e^{-A_j^T h} + S^{(j)}(h).
 * Piecewise-linear: constant A_0 before the first knot and A_{n-1} after the last (exact composition
 * as above); between knots adaptive Dormand-Prince 5(4) on
 *     dE/dt = -A(t) E,   dS/dt = 2I - A S - S A^T,
 * with rtol 1e-10, atol 1e-12, landing exactly on every knot (where A(t) has a kink) and on every
 * requested time. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"
#include "process_internal.h"
#include "regimes/linalg.h"

#define ODE_RTOL 1e-10
#define ODE_ATOL 1e-12
#define ODE_MAX_STEPS 1000000 /* per pass; a smooth 2x2 schedule over t = 100 takes a few hundred */

/* Dormand & Prince (1980) 5(4): nodes c, stages a, 5th-order weights b (= a row 7, FSAL) and the
 * error weights e = b - b*, b* the embedded 4th-order weights. */
static const double DP_C[7] = { 0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0 };
static const double DP_A[7][6] = {
    { 0 },
    { 1.0 / 5 },
    { 3.0 / 40, 9.0 / 40 },
    { 44.0 / 45, -56.0 / 15, 32.0 / 9 },
    { 19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729 },
    { 9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656 },
    { 35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84 },
};
static const double DP_E[7] = { 71.0 / 57600,      0.0,          -71.0 / 16695, 71.0 / 1920,
                                -17253.0 / 339200, 22.0 / 525,   -1.0 / 40 };

/* ---- validation ---------------------------------------------------------------------------------- */

static int check_knots(size_t k, const rg_schedule *s)
{
    if (s->interp != RG_SCHEDULE_PIECEWISE && s->interp != RG_SCHEDULE_LINEAR)
        RG_FAIL(RG_EINVAL, "rg_process_scheduled: unknown interpolation %d", (int)s->interp);
    if (s->n == 0 || !s->t || !s->A) RG_FAIL(RG_EINVAL, "rg_process_scheduled: empty schedule");
    for (size_t i = 0; i < s->n; i++) {
        double t = s->t[i], prev = i ? s->t[i - 1] : 0.0;
        int last_inf = s->interp == RG_SCHEDULE_PIECEWISE && i + 1 == s->n && isinf(t);
        if (!(t > prev) || !(isfinite(t) || last_inf))
            RG_FAIL(RG_EINVAL, "rg_process_scheduled: knot times must be finite, > 0 and increasing: t[%zu] = %g%s",
                    i, t, i ? " after a smaller or equal time" : "");
        if (!rg__all_finite(s->A + i * k * k, k * k))
            RG_FAIL(RG_EINVAL, "rg_process_scheduled: knot %zu (t = %g): A contains NaN or Inf", i, t);
    }
    return RG_OK;
}

static int check_stable(size_t k, const rg_schedule *s)
{
    char buf[192];
    for (size_t i = 0; i < s->n; i++) {
        const char *why = rg_process__stability(k, s->A + i * k * k, buf, sizeof buf);
        if (!why) continue;
        if (s->interp == RG_SCHEDULE_PIECEWISE)
            RG_FAIL(RG_EDOM, "schedule segment %zu (t < %g) is unstable: %s", i, s->t[i], why);
        RG_FAIL(RG_EDOM, "schedule knot %zu (t = %g) is unstable: %s", i, s->t[i], why);
    }
    return RG_OK;
}

int rg_process__schedule_init(rg_process *p, const rg_schedule *s)
{
    size_t k = p->k;
    if (!s) RG_FAIL(RG_EINVAL, "rg_process_scheduled: schedule is NULL");
    RG_TRY(check_knots(k, s));
    RG_TRY(check_stable(k, s));
    p->kt = malloc(s->n * sizeof *p->kt);
    p->kA = malloc(s->n * k * k * sizeof *p->kA);
    if (!p->kt || !p->kA) RG_FAIL(RG_ENOMEM, "rg_process_scheduled: out of memory (%zu knots)", s->n);
    memcpy(p->kt, s->t, s->n * sizeof *p->kt);
    memcpy(p->kA, s->A, s->n * k * k * sizeof *p->kA);
    memcpy(p->A, s->A + (s->n - 1) * k * k, k * k * sizeof *p->A);
    p->n = s->n;
    if (k > 2) { /* every knot's drift holds on some interval (piecewise, or outside a linear ramp) */
        p->kmodal = calloc(s->n, sizeof *p->kmodal);
        if (!p->kmodal) RG_FAIL(RG_ENOMEM, "rg_process_scheduled: out of memory (%zu knots)", s->n);
        for (size_t i = 0; i < s->n; i++) RG_TRY(rg_process__modal(k, s->A + i * k * k, &p->kmodal[i]));
    }
    p->interp = s->interp;
    p->scheduled = 1;
    return RG_OK;
}

/* ---- the drift ----------------------------------------------------------------------------------- */

/* First knot i with t < kt[i], or n when there is none. */
static size_t knot_after(const rg_process *p, double t)
{
    size_t i = 0;
    while (i < p->n && !(t < p->kt[i])) i++;
    return i;
}

/* A(t) on the linear segment [kt[i-1], kt[i]], 1 <= i < n: A_{i-1} + theta (A_i - A_{i-1}), exact
 * when the two knots agree. */
static void linear_drift(const rg_process *p, size_t i, double t, double *A)
{
    size_t kk = p->k * p->k;
    const double *A0 = p->kA + (i - 1) * kk, *A1 = p->kA + i * kk;
    double theta = (t - p->kt[i - 1]) / (p->kt[i] - p->kt[i - 1]);
    for (size_t j = 0; j < kk; j++) A[j] = A0[j] + theta * (A1[j] - A0[j]);
}

void rg_process__schedule_drift(const rg_process *p, double t, double *A)
{
    size_t kk = p->k * p->k, i = knot_after(p, t);
    if (p->interp == RG_SCHEDULE_PIECEWISE || i == 0 || i == p->n)
        memcpy(A, p->kA + (i < p->n ? i : p->n - 1) * kk, kk * sizeof *A);
    else
        linear_drift(p, i, t, A);
}

/* ---- one pass ------------------------------------------------------------------------------------ */

typedef struct {
    const rg_process *p;
    size_t k, kk, m; /* core size, k^2, ODE state size 2 k^2 */
    double t;        /* current time */
    double *y;       /* (2, k, k): E then S */
    double *Eh, *Sh, *T1, *Ab, *AS;  /* (k, k) each */
    double *ks, *yt, *yn;            /* 7 stages (m each), stage and new state (m each) */
    double h;        /* proposed ODE step (0: none yet) */
    size_t steps;
    int naive;       /* 1: Van Loan on every segment, ignoring the knots' modal forms */
} pass;

/* E <- Eh E, S <- Eh S Eh^T + Sh with the drift of knot j constant over h. */
static int advance_const(pass *w, size_t knot, double h)
{
    size_t k = w->k, kk = w->kk;
    double *E = w->y, *S = w->y + kk;
    const rg_linalg_modal *modal = w->naive || !w->p->kmodal ? NULL : w->p->kmodal[knot];
    RG_TRY(rg_process__const_moments(k, w->p->kA + knot * kk, modal, 0, h, w->Eh, w->Sh));
    rg_linalg_mul(k, w->Eh, E, w->T1);
    memcpy(E, w->T1, kk * sizeof *E);
    rg_linalg_mul(k, w->Eh, S, w->T1);
    rg_linalg_mul_t(k, w->T1, w->Eh, S);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j <= i; j++) {
            double v = 0.5 * (S[i * k + j] + S[j * k + i]);
            S[i * k + j] = v + w->Sh[i * k + j];
            S[j * k + i] = v + w->Sh[i * k + j];
        }
    return RG_OK;
}

/* f(t, y) on linear segment i: dE = -A E, dS = 2I - A S - (A S)^T (exactly symmetric). */
static void rhs(pass *w, size_t i, double t, const double *y, double *f)
{
    size_t k = w->k, kk = w->kk;
    linear_drift(w->p, i, t, w->Ab);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)k, (int)k, -1.0, w->Ab, (int)k, y,
                (int)k, 0.0, f, (int)k);
    rg_linalg_mul(k, w->Ab, y + kk, w->AS);
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++)
            f[kk + a * k + b] = (a == b ? 2.0 : 0.0) - w->AS[a * k + b] - w->AS[b * k + a];
}

/* One Dormand-Prince attempt of size h from (t, y) with k1 = f(t, y) in ks[0]: yn, ks[6] = f(t+h, yn)
 * and the scaled RMS error estimate. */
static double dp_attempt(pass *w, size_t seg, double h)
{
    size_t m = w->m;
    for (int s = 1; s < 7; s++) {
        for (size_t j = 0; j < m; j++) {
            double acc = 0.0;
            for (int q = 0; q < s; q++) acc += DP_A[s][q] * w->ks[(size_t)q * m + j];
            w->yt[j] = w->y[j] + h * acc;
        }
        rhs(w, seg, w->t + DP_C[s] * h, w->yt, w->ks + (size_t)s * m);
    }
    memcpy(w->yn, w->yt, m * sizeof *w->yn); /* stage 7's input (a row 7 = b) is y_{n+1} */
    double sum = 0.0;
    for (size_t j = 0; j < m; j++) {
        double e = 0.0;
        for (int q = 0; q < 7; q++) e += DP_E[q] * w->ks[(size_t)q * m + j];
        double sc = ODE_ATOL + ODE_RTOL * fmax(fabs(w->y[j]), fabs(w->yn[j]));
        sum += (h * e / sc) * (h * e / sc);
    }
    return sqrt(sum / (double)m);
}

/* Integrate linear segment seg from w->t to tb (> w->t), landing exactly on tb. */
static int dp_segment(pass *w, size_t seg, double tb)
{
    size_t m = w->m;
    rhs(w, seg, w->t, w->y, w->ks);
    if (!(w->h > 0.0)) { /* first step: 1% of the fastest time scale; the controller adapts it */
        double a = 0.0;
        for (size_t j = 0; j < w->kk; j++) a = fmax(a, fabs(w->Ab[j]));
        w->h = 0.01 / (1.0 + (double)w->k * a);
    }
    while (w->t < tb) {
        if (++w->steps > ODE_MAX_STEPS)
            RG_FAIL(RG_ENOCONV, "rg_process_moments: ODE took more than %d steps (at t = %g)", ODE_MAX_STEPS,
                    w->t);
        int last = w->h >= tb - w->t;
        double h = last ? tb - w->t : w->h;
        double err = dp_attempt(w, seg, h);
        if (!(err == err)) RG_FAIL(RG_ENOCONV, "rg_process_moments: ODE produced NaN at t = %g", w->t);
        double fac = err > 0.0 ? 0.9 * pow(err, -0.2) : 5.0;
        if (err <= 1.0) {
            w->t = last ? tb : w->t + h;
            memcpy(w->y, w->yn, m * sizeof *w->y);
            memcpy(w->ks, w->ks + 6 * m, m * sizeof *w->ks); /* FSAL */
            double hnew = h * fmin(5.0, fmax(0.2, fac));
            w->h = last && h < w->h ? fmax(w->h, hnew) : hnew; /* a clipped last step keeps the pace */
            continue;
        }
        w->h = h * fmax(0.2, fmin(1.0, fac));
        if (w->h < 16.0 * DBL_EPSILON * fmax(fabs(w->t), DBL_MIN))
            RG_FAIL(RG_ENOCONV, "rg_process_moments: ODE step size underflow at t = %g", w->t);
    }
    return RG_OK;
}

/* Advance the pass to time tq >= w->t. */
static int advance(pass *w, double tq)
{
    const rg_process *p = w->p;
    while (w->t < tq) {
        size_t i = knot_after(p, w->t);
        if (p->interp == RG_SCHEDULE_PIECEWISE) {
            size_t j = i < p->n ? i : p->n - 1;
            double tend = j + 1 < p->n ? fmin(tq, p->kt[j]) : tq;
            RG_TRY(advance_const(w, j, tend - w->t));
            w->t = tend; /* exactly on the knot */
        } else if (i == 0 || i == p->n) {
            double tend = i == 0 ? fmin(tq, p->kt[0]) : tq;
            RG_TRY(advance_const(w, i ? p->n - 1 : 0, tend - w->t));
            w->t = tend;
        } else {
            RG_TRY(dp_segment(w, i, fmin(tq, p->kt[i])));
        }
    }
    return RG_OK;
}

static int run_pass(pass *w, size_t n, const double *t, double *M, double *Sigma)
{
    size_t kk = w->kk;
    for (size_t q = 0; q < n; q++) {
        RG_TRY(advance(w, t[q]));
        if (M) memcpy(M + q * kk, w->y, kk * sizeof *M);
        if (Sigma) memcpy(Sigma + q * kk, w->y + kk, kk * sizeof *Sigma);
    }
    return RG_OK;
}

int rg_process__schedule_grid(const rg_process *p, size_t n, const double *t, double *M, double *Sigma,
                              int naive)
{
    pass w = { .p = p, .k = p->k, .kk = p->k * p->k, .m = 2 * p->k * p->k, .naive = naive };
    /* y, Eh, Sh, T1, Ab, AS, ks (7), yt, yn */
    double *buf = calloc(w.m * 10 + w.kk * 5, sizeof *buf);
    if (!buf) RG_FAIL(RG_ENOMEM, "rg_process_moments: out of memory (k = %zu)", p->k);
    w.y = buf;
    w.Eh = w.y + w.m;
    w.Sh = w.Eh + w.kk;
    w.T1 = w.Sh + w.kk;
    w.Ab = w.T1 + w.kk;
    w.AS = w.Ab + w.kk;
    w.ks = w.AS + w.kk;
    w.yt = w.ks + 7 * w.m;
    w.yn = w.yt + w.m;
    for (size_t i = 0; i < w.k; i++) w.y[i * w.k + i] = 1.0; /* E_0 = I, S_0 = 0 */
    int st = run_pass(&w, n, t, M, Sigma);
    free(buf);
    return st;
}
