/* Private to the process module (process.c, process_schedule.c): the process object and the helpers
 * the two files share. Not installed. */
#ifndef REGIMES_PROCESS_INTERNAL_H
#define REGIMES_PROCESS_INTERNAL_H

#include <stddef.h>

#include "regimes/process.h"

struct rg_process {
    rg_process_kind kind;
    size_t k, r;       /* core size and multiplicity: the state is (k, r) row-major, N = k r */
    int dense;         /* 1: moments by dense Van Loan whatever k (nonrev, general) */
    double *A;         /* (k, k) constant core drift; for schedules the last knot (the drift as t -> inf) */
    double *U, *Q;     /* (k, k) each, nonrev only (Q zeros when none was given) */
    double *Sinf;      /* (k, k) stationary covariance of A, or NULL when A is not stable */
    double *wr, *wi;   /* (k) eigenvalues of A, real parts ascending */
    /* schedule (scheduled = 1): n knots at times kt with drifts kA (n, k, k) */
    int scheduled;
    rg_schedule_interp interp;
    size_t n;
    double *kt, *kA;
};

/* Moments of the constant core drift A (k, k) over a time h >= 0 into E and S (each (k, k) or NULL):
 * k = 1 scalar closed form, k = 2 closed forms of docs/math.md 2.5 (A must be stable), otherwise or when
 * dense is set Van Loan with doubling. */
int rg_process__const_moments(size_t k, const double *A, int dense, double h, double *E, double *S);
/* The same with the stationary covariance Sinf of A (or NULL): dense stable drifts then use
 * E = expm(-A h), S = Sinf - E Sinf E^T where that difference keeps its digits, Van Loan elsewhere. */
int rg_process__const_moments_inf(size_t k, const double *A, const double *Sinf, int dense, double h,
                                  double *E, double *S);

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
/* Moments at increasing times t (validated by the caller) in one pass; M, Sigma (n, k, k) or NULL. */
int rg_process__schedule_grid(const rg_process *p, size_t n, const double *t, double *M, double *Sigma);

#endif
