/* Private to the process module (process.c, process_schedule.c): the process object and the helpers
 * the two files share. Not installed. */
#ifndef REGIMES_PROCESS_INTERNAL_H
#define REGIMES_PROCESS_INTERNAL_H

#include <stddef.h>

#include "regimes/linalg.h"
#include "regimes/process.h"

/* Relative Lyapunov residual the modal factorisation must reach (rg_linalg_modal_new): it keeps the
 * modal moments within ~1e-10 of Van Loan even next to a defective drift (tests/test_linalg.c). */
#define RG_PROCESS_MODAL_TOL 1e-12

struct rg_process {
    rg_process_kind kind;
    size_t k, r;       /* core size and multiplicity: the state is (k, r) row-major, N = k r */
    int dense;         /* 1: moments by dense Van Loan whatever k (nonrev, general) */
    double *A;         /* (k, k) constant core drift; for schedules the last knot (the drift as t -> inf) */
    double *U, *Q;     /* (k, k) each, nonrev only (Q zeros when none was given) */
    double *Sinf;      /* (k, k) stationary covariance of A, or NULL when A is not stable */
    double *wr, *wi;   /* (k) eigenvalues of A, real parts ascending */
    rg_linalg_modal *modal; /* dense constant A factored once (rg_linalg_modal_new), or NULL: Van Loan */
    /* schedule (scheduled = 1): n knots at times kt with drifts kA (n, k, k) */
    int scheduled;
    rg_schedule_interp interp;
    size_t n;
    double *kt, *kA;
    rg_linalg_modal **kmodal; /* (n) k > 2: each knot's constant drift factored, entries may be NULL */
};

/* Moments of the constant core drift A (k, k) over a time h >= 0 into E and S (each (k, k) or NULL):
 * the modal form when modal is not NULL (O(k^2) + 3 GEMMs, no exponential); else k = 1 scalar closed
 * form, k = 2 closed forms of docs/math.md 2.5 (A must be stable), otherwise or when dense is set Van Loan
 * with doubling. */
int rg_process__const_moments(size_t k, const double *A, const rg_linalg_modal *modal, int dense, double h,
                              double *E, double *S);
/* The same with the stationary covariance Sinf of A (or NULL): without a modal form, dense stable
 * drifts use E = expm(-A h), S = Sinf - E Sinf E^T where that difference keeps its digits, Van Loan
 * elsewhere (the naive reference path). */
int rg_process__const_moments_inf(size_t k, const double *A, const double *Sinf, const rg_linalg_modal *modal,
                                  int dense, double h, double *E, double *S);

/* Factor a dense drift (k > 2 knots, nonrev, general): the modal form, or NULL where it is refused
 * (unstable, nearly defective, dgeev failure): the caller then uses Van Loan. RG_ENOMEM only. */
int rg_process__modal(size_t k, const double *A, rg_linalg_modal **out);

/* NULL if the core drift A (k, k) is stable (every Re eig > 0), else a reason written to buf (len). */
const char *rg_process__stability(size_t k, const double *A, char *buf, size_t len);

/* Stationary covariance (A S + S A^T = 2I) of a stable A (k, k): closed forms for k <= 2, else
 * Bartels-Stewart. */
int rg_process__lyap2i(size_t k, const double *A, double *S);

/* Schedules (process_schedule.c). Validate s and copy it into p (p->k set; sets kt, kA, n, interp,
 * and A = the last knot). RG_EINVAL for malformed input, RG_EDOM for an unstable knot. */
int rg_process__schedule_init(rg_process *p, const rg_schedule *s);
/* Drift at time t >= 0. */
void rg_process__schedule_drift(const rg_process *p, double t, double *A);
/* Moments at increasing times t (validated by the caller) in one pass; M, Sigma (n, k, k) or NULL.
 * naive = 1 ignores the knots' modal forms (the Van Loan reference). */
int rg_process__schedule_grid(const rg_process *p, size_t n, const double *t, double *M, double *Sigma,
                              int naive);

#endif
