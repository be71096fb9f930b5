/* regimes theory: predicted regimes of a linear forward process on Gaussian-mixture data (docs/math.md 7).
 *
 * Data model, in the core coordinates of the process (see process.h: N = k r, A = A_core (x) I_r):
 *
 *     z_0 = sum_l s_l (e_l (x) m_l) + noise,   s_l = +-1 independent uniform labels,
 *     noise ~ N(0, Cw (x) I_r),   m_l in R^r mutually orthogonal,   |m_l|^2 = mean_norm2[l].
 *
 *     gmm2 on ou       k = 1, r = d:  one label, e = [1],          Cw = [sigma^2]
 *     gmm4 on coupled  k = 2, r = d:  e_c = (1, 1), e_d = (1, -1),  Cw = sigma^2 I_2  (m_c _|_ m_d)
 *     gmm2 on nonrev   k = d, r = 1:  one label, e = unit mean direction, Cw dense (I, U, U^-1, ...)
 *
 * Per label l (a "mode" of the data), with E_t, S_t the core moments:
 *     kappa_l(t) = |m_l|^2 (E_t e_l)^T G_t^{-1} (E_t e_l),   G_t = E_t Cw E_t^T + S_t   (docs/math.md 7.1 b,d)
 *     K_l(t)     = L_t^{-1} E_t C_l E_t^T L_t^{-T},  C_l = |m_l|^2 e_l e_l^T + Cw       (docs/math.md 7.1 a)
 *     phi_l(t)   = 1/2 [1 + E tanh^2(kappa + sqrt(kappa) xi)]                         (docs/math.md 7.2)
 * Collapse (docs/math.md 7.6), with nu_j the eigenvalues of the core K^w = L^{-1} E Cw E^T L^{-T}:
 *     f(t) = max(0, alpha - (1/2k) sum_j log(1 + nu_j)),   alpha = log(P) / N.
 * Every time is a forward time in OU units, the LARGEST root of its criterion on [1e-4, 200]
 * (docs/math.md 7), refined to 1e-12, or "none" (found = 0).
 *
 * Every criterion is strictly decreasing in t, for any linear process with D = I (schedules
 * included): with y = G^{-1} p, dkappa/dt = -2 |m|^2 |y|^2; for B v = mu Sigma v (B = E C E^T),
 * dmu/dt = -2 mu |v|^2 / v^T Sigma v, and every eigenvalue of K^w likewise (a data-processing
 * inequality: z_t' is z_t carried further and noised more). So each root is unique, and a bracket
 * refined by safeguarded Newton (kappa, lambda_max: the derivatives above are nearly free) or Brent
 * (collapse) gives the same time as the docs/math.md 7 scan of 400 points, in a handful of evaluations.
 *
 * Dense processes (nonrev, general) are evaluated in the process's modal coordinates
 * (rg_process_modal): per t, O(k^2) to form G_t = E Cw E^T + Sigma_t there, one Cholesky for kappa,
 * two for collapse (log det G_t - log det Sigma_t), one plus Lanczos for lambda_max; no matrix
 * exponential. Plans (below) transform the data into those coordinates once.
 */
#ifndef REGIMES_THEORY_H
#define REGIMES_THEORY_H

#include <stddef.h>
#include "regimes/process.h"

typedef struct {
    size_t n_labels;          /* >= 1 */
    const double *pattern;    /* (n_labels, k) core patterns e_l */
    const double *mean_norm2; /* (n_labels) |m_l|^2 > 0 */
    const double *Cw;         /* (k, k) SPD core within-class covariance */
} rg_theory_data;

typedef enum {
    RG_SPECIATION_GMM,    /* kappa_l(t) = 1: exact for the two-class mixture (docs/math.md 7.1 b, d) */
    RG_SPECIATION_MATRIX  /* lambda_max(K_l(t)) = 1: the covariance criterion (docs/math.md 7.1 a) */
} rg_speciation_criterion;

/* NULL if data fit the process (sizes, finiteness, Cw SPD, norms > 0), else the reason. */
const char *rg_theory_check(const rg_process *p, const rg_theory_data *d);

/* ---- plans: data prepared once for one process, then any number of criteria ----------------------
 * A plan copies the data (the caller's arrays may go), factors Cw and, for a process with a modal
 * form, carries Cw and the patterns into modal coordinates (O(k^3), once). The process must outlive
 * the plan. A plan holds per-t scratch: one plan per thread. The functions below named rg_theory_X
 * build a plan for one call; use a plan when asking several questions of the same data. */
typedef struct rg_theory_plan rg_theory_plan;

/* What the root searches and single-time calls of a plan cost, per criterion. */
typedef struct {
    size_t evals;   /* evaluations of the criterion, each at one t */
    size_t chol;    /* k x k Cholesky factorisations */
    size_t lanczos; /* Lanczos matrix-vector products (matrix criterion at large k) */
} rg_theory_count;

typedef struct {
    int modal;      /* 1: modal coordinates (no matrix exponential anywhere); 0: the moments per t */
    size_t blocks;  /* independent blocks per t (A decouples and Cw respects it); 1: one dense block */
    rg_theory_count kappa, matrix, collapse, horizon;
    size_t moments; /* rg_process_moments calls (original-coordinate evaluations) */
} rg_theory_stats;

enum {
    /* The naive reference: moments by the matrix-exponential path (rg_process_moments_naive) at every
     * t, original coordinates, the 400-point scan of docs/math.md 7 refined by Brent. For tests and bench/. */
    RG_THEORY_NAIVE = 1u
};

/* Returns RG_OK, or rg_theory_check's reason (RG_EINVAL, RG_EDOM), RG_ENOMEM; *out NULL on failure. */
int rg_theory_plan_new(const rg_process *p, const rg_theory_data *d, unsigned flags, rg_theory_plan **out);
void rg_theory_plan_free(rg_theory_plan *pl); /* NULL is a no-op */
void rg_theory_plan_stats(const rg_theory_plan *pl, rg_theory_stats *s);
int rg_theory_plan_kappa(rg_theory_plan *pl, size_t label, double t, double *kappa);
int rg_theory_plan_kmax(rg_theory_plan *pl, size_t label, double t, double *lmax);
int rg_theory_plan_phi_at(rg_theory_plan *pl, size_t label, double t, double *phi);
int rg_theory_plan_collapse_f(rg_theory_plan *pl, double n_train, double t, double *f);
int rg_theory_plan_speciation(rg_theory_plan *pl, size_t label, rg_speciation_criterion crit, double *t_s,
                              int *found);
int rg_theory_plan_collapse(rg_theory_plan *pl, double n_train, double *t_c, int *found);
int rg_theory_plan_horizon(rg_theory_plan *pl, double level, double *T);

/* ---- criteria at one time ------------------------------------------------------------------------ */
int rg_theory_kappa(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *kappa);
int rg_theory_kmax(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *lmax);
/* phi(kappa) by the trapezoid rule on xi in [-12, 12], step 0.05 / max(1, sqrt kappa). phi(1) = 0.7752. */
double rg_theory_phi(double kappa);
/* phi_l(t) = phi(kappa_l(t)): the clone-agreement probability of label l for clones branched at t
 * (docs/math.md 7.2; exact for the two-class mixture, per label for gmm4). */
int rg_theory_phi_at(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *phi);
/* Collapse free-entropy gap f(t) >= 0 for P training points (alpha = log P / N). */
int rg_theory_collapse_f(const rg_process *p, const rg_theory_data *d, double n_train, double t, double *f);

/* ---- times (largest root) ------------------------------------------------------------------------- */
int rg_theory_speciation(const rg_process *p, const rg_theory_data *d, size_t label,
                         rg_speciation_criterion crit, double *t_s, int *found);
int rg_theory_collapse(const rg_process *p, const rg_theory_data *d, double n_train, double *t_c, int *found);
/* Smallest horizon T with kappa_l(t) <= level for every label and t >= T (docs/math.md 6.2 diagnostic,
 * level 0.01): the largest root of kappa_l = level, max over labels; INFINITY when some kappa_l still
 * exceeds level at t = 200, the top of the root scan. */
int rg_theory_horizon(const rg_process *p, const rg_theory_data *d, double level, double *T);

/* The constant symmetric coupling gamma* (cross-drive or diffusive form) that gives both labels of
 * two-label data (gmm4: common, difference) the same t_S (docs/math.md 7.4, item 4; 9.3: |mu_c|^2 = 100,
 * |mu_d|^2 = 20 gives gamma* = -0.290). Searched by Brent (to 1e-12) on t_S^0 - t_S^1 over the
 * stable range shrunk by 1e-6 (diffusive: up to gamma = 1e3). *found = 0, *gamma = NAN when the gap
 * keeps one sign there. Returns RG_OK, RG_EINVAL (n_labels != 2, bad data). */
int rg_theory_equal_gamma(rg_coupling_form form, const rg_theory_data *d, double *gamma, int *found);

/* ---- closed forms (isotropic OU and decoupled modes), for checks and fast paths ------------------- */
/* t_S = log(1 + lambda a) / (2 lambda), lambda -> 0 limit a/2 (docs/math.md 7.1 c); NAN if no root. */
double rg_theory_mode_time(double lambda, double a);
/* Parent OU, two-class GMM: t_S = 1/2 log(1 + |m|^2 - sigma^2) (docs/math.md 7.1 b). */
double rg_theory_ou_speciation(double mean_norm2, double sigma2);
/* Parent OU, isotropic classes: t_C = 1/2 log(1 + sigma^2 / (P^{2/N} - 1)) (docs/math.md 7.6). */
double rg_theory_ou_collapse(double N, double n_train, double sigma2);
/* Per-mode heuristic t_C^k = log(1 + lambda sigma^2 / (e^{2 alpha_k} - 1)) / (2 lambda), alpha_k = log P / d. */
double rg_theory_mode_collapse(double lambda, double sigma2, double d, double n_train);

/* ==== Theory on a user's data set (docs/math.md 11.2) =====================================================
 *
 * The criteria of docs/math.md 7 on a training set X (P, N) instead of a mixture, for any process p with
 * rg_process_dim(p) = N (a state is the process' (k, r) layout). X is centred by its global mean; all
 * covariances use 1/(n - 1):
 *     C    = Cov(X)                                              (rg_data_covariance), Lambda = lambda_max(C)
 *     labelled (values 0..K-1, K >= 2, each class >= 2 points):
 *     mu_c = class means (centred coordinates), pi_c = n_c / P,  C_w = sum_c pi_c Cov(X | c).
 * With M_t = E_t (x) I_r and Sigma_t = S_t (x) I_r (process.h), at a time t > 0:
 *     kmax     lambda_max(K_t),  K_t = Sigma_t^{-1/2} M_t C M_t^T Sigma_t^{-1/2}      (7.1 a: t_S exact)
 *     kparent  lambda_max(Sigma_inf^{-1/2} M_t C M_t^T Sigma_inf^{-1/2}): signal against the stationary
 *              noise; for OU it is e^{-2t} Lambda, whose root is the parent's 1/2 log Lambda    (t_S parent)
 *     kappa    max over class pairs (a, b) of m_t^T Gamma_t^{-1} m_t, m = (mu_a - mu_b)/2,
 *              Gamma_t = M_t C_w M_t^T + Sigma_t                                     (7.1 b: t_S class)
 *     f        max(0, alpha - (1/2N) sum_i log(1 + nu_i)), nu = eig(Sigma_t^{-1/2} M_t C' M_t^T Sigma_t^{-1/2}),
 *              C' = C_w when labelled, else C; alpha = log(n_train)/N                   (7.6: t_C)
 *              sum_i log(1 + nu_i) = log det(M_t C' M_t^T + Sigma_t) - log det Sigma_t.
 * The collapse criterion treats the data as Gaussian (covariance C'): an approximation, exact only for
 * Gaussian data in high dimension (docs/math.md 11.5 gives the finite-size picture).
 * Times are the LARGEST roots on the docs/math.md 7 grid (400 points on [1e-4, 200], Brent to 1e-12) of
 * kmax = 1, kparent = 1, kappa = 1 (as logarithms) and f = 0.
 *
 * Paths and cost per time t (P training points, N dimensions, K classes, j Lanczos iterations):
 *   k = 1 (ou, scalar schedules): M_t = e I, Sigma_t = s I, so everything follows from eigen-
 *       decompositions made ONCE by rg_theory_dataset_new: kmax = e^2 Lambda / s, kparent =
 *       e^2 Lambda / s_inf, sum log(1 + e^2 lambda_i(C') / s) (O(N)), kappa = max_pairs
 *       e^2 sum_i (v_i . m)^2 / (e^2 w_i + s) with (w_i, v_i) the eigenpairs of C_w (O(K^2 N)).
 *   k >= 2 (coupled: Kronecker, never an N k x N k loop; nonrev, general: dense, r = 1):
 *       the process moments (2x2 closed forms for coupled; Van Loan, O(N^3), for dense drifts), then
 *       kmax, kparent: Lanczos with full reorthogonalisation on v -> (B (x) I_r) C (B (x) I_r)^T v,
 *           B = L^{-1} E_t (L = chol S_t or chol S_inf), j (N^2 + 2 k N + 4 j N) flops (j = 11 on
 *           paired MNIST; restarts every 100) (N <= 64: the matrix is formed, dsyevr's top eigenvalue);
 *       kappa, f: Gamma_t formed in 4 k N^2 flops, one Cholesky (N^3 / 3), kappa's K triangular solves
 *           (K N^2); rg_theory_dataset_all uses one Cholesky per t for both kappa and f when labelled.
 *   Construction: P N^2 flops per covariance (dsyrk; C, and C_w when labelled), the eigenvalues of C
 *   (dsyevr, ~4/3 N^3) and, when labelled, the eigen-decomposition of C_w (dsyevr, ~4 N^3); it keeps
 *   2 N^2 doubles (N^2 unlabelled), with up to 2 N^2 more while it runs. Each call on a k >= 2 process
 *   allocates 2 N^2 + 101 N + 5 k^2 doubles of scratch (k = 1: N).
 *   Measured at MNIST size: docs/library.md (theory on a data set).
 *
 * Errors: RG_EINVAL (NULL, sizes, NaN/Inf in X: "X: point 12 contains NaN or Inf", P < 2, a label out
 * of range or a class with fewer than 2 points (naming the class), one class only, dim(p) != N, t <= 0
 * or NaN, n_train < 1, kappa without labels), RG_ENOMEM, RG_ENOCONV (Lanczos or LAPACK), and the
 * process' errors (RG_EDOM for kparent when the drift has no stationary law).
 * Thread-safety: a data set is read-only after construction; the functions allocate their own scratch.
 */
typedef struct rg_theory_dataset rg_theory_dataset; /* opaque: N x N covariances in double, spectra */

/* X (P, N) float32 row-major, any mean; labels (P) or NULL. *out is NULL on failure. */
int rg_theory_dataset_new(const float *X, size_t P, size_t N, const int *labels, rg_theory_dataset **out);
void rg_theory_dataset_free(rg_theory_dataset *ds); /* NULL is a no-op */
size_t rg_theory_dataset_N(const rg_theory_dataset *ds);
size_t rg_theory_dataset_P(const rg_theory_dataset *ds);
size_t rg_theory_dataset_classes(const rg_theory_dataset *ds); /* K; 0 when unlabelled */

/* The top k eigenvalues of C, descending (1 <= k <= N): top[0] = Lambda. All N were computed once by
 * dsyevr (values only) in rg_theory_dataset_new; this copies k of them. */
int rg_theory_dataset_spectrum(const rg_theory_dataset *ds, size_t k, double *top);

/* The criteria at one time t > 0 (definitions above). */
int rg_theory_dataset_kmax(const rg_process *p, const rg_theory_dataset *ds, double t, double *lmax);
int rg_theory_dataset_kparent(const rg_process *p, const rg_theory_dataset *ds, double t, double *lmax);
int rg_theory_dataset_kappa(const rg_process *p, const rg_theory_dataset *ds, double t, double *kappa);
int rg_theory_dataset_collapse_f(const rg_process *p, const rg_theory_dataset *ds, double n_train, double t,
                                 double *f);

typedef struct {
    double lambda_max;                            /* Lambda = top eigenvalue of C */
    double t_s_parent, t_s_exact, t_s_class, t_c; /* NAN when no root, unlabelled (t_s_class) or no
                                                   * stationary law (t_s_parent) */
    int found_parent, found_exact, found_class, found_c;
    size_t evals;     /* exact criterion evaluations in all (a shared Cholesky counts once), for benches */
    size_t certified; /* scan points whose sign a k x k bound settled without N x N work (k >= 2) */
} rg_theory_dataset_times;

/* All four times for n_train >= 1 training points (alpha = log(n_train)/N): t_S parent (kparent = 1),
 * t_S exact (kmax = 1), t_S class (kappa = 1, labelled) and t_C (f = 0). A process without a
 * stationary law gives t_s_parent = NAN, found_parent = 0 (not an error).
 * Sign certificates (cores k = 2..8: coupled, small scheduled cores): with g = lambda_max(E^T S^{-1} E)
 * (S_inf for kparent), lambda_max(K_t) <= g Lambda, kappa <= g max_pairs |m|^2 and
 * sum log(1 + nu_i) <= sum log(1 + g lambda_i(C')). Where such a bound already gives the criterion's
 * sign (far above the root, where the scan starts), the scan uses its value instead of the N x N
 * work. The signs at every scan point, hence the bracket, are unchanged, and Brent keeps a sign change
 * of the criterion itself, so the roots are the same (MNIST pairs, N = 1568: 31 exact evaluations
 * instead of 428; the four times agree to 3e-13). */
int rg_theory_dataset_all(const rg_process *p, const rg_theory_dataset *ds, double n_train,
                          rg_theory_dataset_times *out);
/* The sampler's horizon for a data set (docs/math.md 6.2): the largest t with lambda_max(K_t) = level (0 <
 * level <= 1, 0.01 by convention), beyond which the prior N(0, Sigma_inf) misses at most that much
 * signal; INFINITY when lambda_max(K_t) still exceeds level at t = 200, the top of the root scan. */
int rg_theory_dataset_horizon(const rg_process *p, const rg_theory_dataset *ds, double level, double *T);

#endif
