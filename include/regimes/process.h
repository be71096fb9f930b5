/* regimes process: the linear forward processes dz = -A(t) z dt + sqrt(2) dW and their exact moments.
 *
 *     z_t | z_0 ~ N(M_t z_0, Sigma_t),  dM/dt = -A M,  dSigma/dt = 2I - A Sigma - Sigma A^T  (docs/math.md 2)
 *
 * Structure is kept inside the process. Every process has a CORE dimension k and a MULTIPLICITY r:
 * A(t) = A_core(t) (x) I_r, so M_t = E_t (x) I_r and Sigma_t = S_t (x) I_r with k x k core matrices,
 * and the state dimension is N = k r. A state z is stored as a (k, r) row-major array, so applying a
 * core matrix B is Z <- B Z, and a (k, k) core matrix never becomes an N x N one.
 *
 *     preset   k     r    A_core
 *     ou       1     d    [1]
 *     coupled  2     d    the 2x2 coupling matrix M (docs/math.md 2.4), constant or a schedule M(t)
 *     nonrev   d     1    (I + Q) U, U SPD, Q antisymmetric (docs/math.md 2.6)
 *     general  d     1    any A read by the caller
 *
 * Every function below returns core (k x k, row-major) matrices. Moments are exact: closed forms for
 * k = 1, 2 (docs/math.md 2.5); for dense constant A (nonrev, general) the modal form, A factored once at
 * construction (rg_process_modal), with Van Loan and doubling where the factorisation is refused;
 * exact segment composition for piecewise-constant schedules (each knot factored once), and
 * Dormand-Prince 5(4) (rtol 1e-10, atol 1e-12) for piecewise-linear schedules. Not covered: non-linear
 * drifts, non-identity diffusion D.
 */
#ifndef REGIMES_PROCESS_H
#define REGIMES_PROCESS_H

#include <stddef.h>

#include "regimes/linalg.h"

typedef enum { RG_PROCESS_OU, RG_PROCESS_COUPLED, RG_PROCESS_NONREV, RG_PROCESS_GENERAL } rg_process_kind;

typedef struct rg_process rg_process; /* opaque: validated drift, cached factors */

/* ---- coupling matrices (docs/math.md 2.4): M = [[a_x, -g_xy], [-g_yx, a_y]] ------------------------- */
typedef enum { RG_COUPLING_CROSS, RG_COUPLING_DIFFUSIVE } rg_coupling_form;

/* Symmetric cross-drive [[1, -g], [-g, 1]] or diffusive [[1+g, -g], [-g, 1+g]] into M (2x2). */
void rg_process_coupling(rg_coupling_form form, double gamma, double M[4]);
/* Anisotropic [[a_x, -g_xy], [-g_yx, a_y]] into M. */
void rg_process_coupling_aniso(double a_x, double a_y, double g_xy, double g_yx, double M[4]);
/* NULL if the 2x2 drift M has a stationary prior (tr M > 0 and det M > 0), else a reason such as
 * "coupling has no stationary prior: g_xy g_yx = 1.2 >= a_x a_y = 1". */
const char *rg_process_coupling_check(const double M[4]);

/* ---- schedules (coupled processes; any core size k) -------------------------------------------- */
typedef enum {
    RG_SCHEDULE_PIECEWISE, /* A_i holds for t_{i-1} <= t < t_i (t_{-1} = 0); the last A holds beyond */
    RG_SCHEDULE_LINEAR     /* A(t) interpolates linearly between knots (t_i, A_i); constant outside */
} rg_schedule_interp;

typedef struct {
    rg_schedule_interp interp;
    size_t n;        /* number of knots, >= 1 */
    const double *t; /* (n) strictly increasing knot times > 0 (piecewise: the last may be INFINITY) */
    const double *A; /* (n, k, k) core drift matrices, row-major */
} rg_schedule;

/* ---- construction: each validates its input; *out is NULL on failure --------------------------- */
int rg_process_ou(size_t d, rg_process **out);
/* Constant coupling M (2x2), d per modality. RG_EDOM with rg_process_coupling_check's reason. */
int rg_process_coupled(const double M[4], size_t d, rg_process **out);
/* Scheduled core drift; the schedule is copied. Every knot matrix must be stable (RG_EDOM names the
 * knot, 0-based): "schedule segment 2 (t < 1.5) is unstable: ..." (piecewise), "schedule knot 2
 * (t = 1.5) is unstable: ..." (linear). Kind: RG_PROCESS_COUPLED for k = 2, else RG_PROCESS_GENERAL. */
int rg_process_scheduled(size_t k, size_t r, const rg_schedule *s, rg_process **out);
/* A = (I + Q) U. U: (n, n) symmetric positive definite; Q: (n, n) antisymmetric or NULL for 0. Both
 * copied. RG_EDOM "U is not symmetric", "U is not positive definite", "Q is not antisymmetric". */
int rg_process_nonrev(size_t n, const double *U, const double *Q, rg_process **out);
/* Any (n, n) A, copied. Unstable A is accepted here; rg_process_stationary() then fails. */
int rg_process_general(size_t n, const double *A, rg_process **out);
void rg_process_free(rg_process *p); /* NULL is a no-op */

/* ---- structure ----------------------------------------------------------------------------------- */
rg_process_kind rg_process_kind_of(const rg_process *p);
size_t rg_process_core(const rg_process *p); /* k */
size_t rg_process_mult(const rg_process *p); /* r */
size_t rg_process_dim(const rg_process *p);  /* N = k r */
int rg_process_is_scheduled(const rg_process *p);
/* U and Q of a nonrev process ((n, n) each; Q is all zeros when it was NULL), else NULL. */
const double *rg_process_nonrev_U(const rg_process *p);
const double *rg_process_nonrev_Q(const rg_process *p);

/* ---- moments (core matrices) ---------------------------------------------------------------------- */
/* Core drift A(t), (k, k). */
int rg_process_drift(const rg_process *p, double t, double *A);
/* M = E_t and Sigma = S_t, each (k, k) or NULL. t >= 0; t = 0 gives I and 0 exactly.
 * Returns RG_OK, RG_EINVAL (t < 0 or NaN), RG_ENOMEM, RG_ENOCONV (ODE step size underflow). */
int rg_process_moments(const rg_process *p, double t, double *M, double *Sigma);
/* The same by the matrix-exponential path only (Pade expm, Van Loan with doubling, the closed forms
 * for k <= 2), ignoring the modal form below: the reference the tests and bench/ compare against. */
int rg_process_moments_naive(const rg_process *p, double t, double *M, double *Sigma);
/* The modal form of a constant dense drift (nonrev, general), factored once at construction and
 * used by every moment above (linalg.h: O(k^2) modal work plus 3 GEMMs per t, no exponential), or
 * NULL: k <= 2 closed forms, schedules (their knots are factored separately), or a drift the
 * factorisation refuses (unstable, or nearly defective: its Lyapunov check failed), where the
 * moments keep Van Loan. */
const rg_linalg_modal *rg_process_modal(const rg_process *p);
/* The same at n increasing times t[0] < t[1] < ... (one integration pass for schedules):
 * M, Sigma: (n, k, k) each, or NULL. */
int rg_process_moments_grid(const rg_process *p, size_t n, const double *t, double *M, double *Sigma);
/* Lower Cholesky factor of S_t, (k, k). t > 0. */
int rg_process_chol(const rg_process *p, double t, double *L);
/* Stationary core covariance S_inf (A S + S A^T = 2I), of the last schedule segment for schedules.
 * RG_EDOM "drift is not stable: min Re eig(A) = -0.1 <= 0". */
int rg_process_stationary(const rg_process *p, double *Sinf);
/* Eigenvalues of the core drift (the mode rates), real parts ascending: re, im (k) each. Schedules:
 * the drift as t -> infinity. */
int rg_process_rates(const rg_process *p, double *re, double *im);
/* Spectral abscissa r(A) = min Re eig(A_core): the relaxation rate. */
int rg_process_relaxation_rate(const rg_process *p, double *r);

/* ---- forward sampling -------------------------------------------------------------------------- */
/* z_t = (E_t (x) I_r) z0 + (chol(S_t) (x) I_r) xi for one state; z0, xi, zt: (k, r) = N doubles, xi
 * standard normal chosen by the caller. zt must not alias. t > 0 (t = 0 copies z0). */
int rg_process_sample(const rg_process *p, double t, const double *z0, const double *xi, double *zt);

#endif
