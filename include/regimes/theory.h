/* regimes theory: predicted regimes of a linear forward process on Gaussian-mixture data (MATH.md 7).
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
 *     kappa_l(t) = |m_l|^2 (E_t e_l)^T G_t^{-1} (E_t e_l),   G_t = E_t Cw E_t^T + S_t   (MATH.md 7.1 b,d)
 *     K_l(t)     = L_t^{-1} E_t C_l E_t^T L_t^{-T},  C_l = |m_l|^2 e_l e_l^T + Cw       (MATH.md 7.1 a)
 *     phi_l(t)   = 1/2 [1 + E tanh^2(kappa + sqrt(kappa) xi)]                         (MATH.md 7.2)
 * Collapse (MATH.md 7.6), with nu_j the eigenvalues of the core K^w = L^{-1} E Cw E^T L^{-T}:
 *     f(t) = max(0, alpha - (1/2k) sum_j log(1 + nu_j)),   alpha = log(P) / N.
 * Every time is a forward time in OU units, the LARGEST root of its criterion (MATH.md 7, root
 * convention: geometric grid of 400 points on [1e-4, 200], Brent to 1e-12), or "none" (found = 0).
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

/* NULL if data fit the process (sizes, finiteness, Cw SPD, norms > 0), else the reason. */
const char *rg_theory_check(const rg_process *p, const rg_theory_data *d);

/* ---- criteria at one time ------------------------------------------------------------------------ */
int rg_theory_kappa(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *kappa);
int rg_theory_kmax(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *lmax);
/* phi(kappa) by the trapezoid rule on xi in [-12, 12], step 0.05 / max(1, sqrt kappa). phi(1) = 0.7752. */
double rg_theory_phi(double kappa);
/* phi_l(t) = phi(kappa_l(t)): the clone-agreement probability of label l for clones branched at t
 * (MATH.md 7.2; exact for the two-class mixture, per label for gmm4). */
int rg_theory_phi_at(const rg_process *p, const rg_theory_data *d, size_t label, double t, double *phi);
/* Collapse free-entropy gap f(t) >= 0 for P training points (alpha = log P / N). */
int rg_theory_collapse_f(const rg_process *p, const rg_theory_data *d, double n_train, double t, double *f);

/* ---- times (largest root) ------------------------------------------------------------------------- */
typedef enum {
    RG_SPECIATION_GMM,    /* kappa_l(t) = 1: exact for the two-class mixture (MATH.md 7.1 b, d) */
    RG_SPECIATION_MATRIX  /* lambda_max(K_l(t)) = 1: the covariance criterion (MATH.md 7.1 a) */
} rg_speciation_criterion;

int rg_theory_speciation(const rg_process *p, const rg_theory_data *d, size_t label,
                         rg_speciation_criterion crit, double *t_s, int *found);
int rg_theory_collapse(const rg_process *p, const rg_theory_data *d, double n_train, double *t_c, int *found);
/* Smallest horizon T with kappa_l(t) <= level for every label and t >= T (MATH.md 6.2 diagnostic,
 * level 0.01): the largest root of kappa_l = level, max over labels; INFINITY when some kappa_l still
 * exceeds level at t = 200, the top of the root scan. */
int rg_theory_horizon(const rg_process *p, const rg_theory_data *d, double level, double *T);

/* The constant symmetric coupling gamma* (cross-drive or diffusive form) that gives both labels of
 * two-label data (gmm4: common, difference) the same t_S (MATH.md 7.4, item 4; 9.3: |mu_c|^2 = 100,
 * |mu_d|^2 = 20 gives gamma* = -0.290). Searched by Brent (to 1e-12) on t_S^0 - t_S^1 over the
 * stable range shrunk by 1e-6 (diffusive: up to gamma = 1e3). *found = 0, *gamma = NAN when the gap
 * keeps one sign there. Returns RG_OK, RG_EINVAL (n_labels != 2, bad data). */
int rg_theory_equal_gamma(rg_coupling_form form, const rg_theory_data *d, double *gamma, int *found);

/* ---- closed forms (isotropic OU and decoupled modes), for checks and fast paths ------------------- */
/* t_S = log(1 + lambda a) / (2 lambda), lambda -> 0 limit a/2 (MATH.md 7.1 c); NAN if no root. */
double rg_theory_mode_time(double lambda, double a);
/* Parent OU, two-class GMM: t_S = 1/2 log(1 + |m|^2 - sigma^2) (MATH.md 7.1 b). */
double rg_theory_ou_speciation(double mean_norm2, double sigma2);
/* Parent OU, isotropic classes: t_C = 1/2 log(1 + sigma^2 / (P^{2/N} - 1)) (MATH.md 7.6). */
double rg_theory_ou_collapse(double N, double n_train, double sigma2);
/* Per-mode heuristic t_C^k = log(1 + lambda sigma^2 / (e^{2 alpha_k} - 1)) / (2 lambda), alpha_k = log P / d. */
double rg_theory_mode_collapse(double lambda, double sigma2, double d, double n_train);

#endif
