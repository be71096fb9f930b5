/* Private to theory_data.c and theory_data_eval.c: the data set and the criterion evaluator. */
#ifndef REGIMES_THEORY_DATA_INTERNAL_H
#define REGIMES_THEORY_DATA_INTERNAL_H

#include <stddef.h>
#include "regimes/theory.h"

struct rg_theory_dataset {
    size_t N, P, K; /* K classes, 0 when unlabelled */
    double *C;      /* (N, N) Cov(X), both triangles */
    double *lam;    /* (N) eigenvalues of C, ascending, negatives (rounding) clamped to 0 */
    /* labelled only (NULL otherwise) */
    double *Cw;     /* (N, N) pooled within-class covariance */
    double *mu;     /* (K, N) class means minus the global mean */
    double *pi;     /* (K) n_c / P */
    double *w;      /* (N) eigenvalues of C_w, ascending, clamped to 0 */
    double *muV;    /* (K, N) mu_c in the eigenbasis of C_w: muV[c][i] = v_i . mu_c */
    double m2max;   /* max over class pairs of |mu_a - mu_b|^2 / 4 (for the kappa bound) */
};

typedef enum { TD_KMAX, TD_KPARENT, TD_KAPPA, TD_COLLAPSE, TD_NKINDS } td_kind;

/* A criterion value as scale * val (kmax, kparent, kappa: the scale carries e^{-2 rate t}, so that the
 * logarithm log(scale) + log(val) stays finite where the product underflows), or the plain sum
 * s = (1/2N) sum log(1 + nu_i) for the collapse (scale = 1). */
typedef struct {
    double scale, val;
} td_value;

/* max over class pairs a < b of sum_i w_i ((x_a - x_b)_i / 2)^2, with x_c[i] = X[c sc + i si]; w NULL
 * for weights 1. O(K^2 N). */
double td_max_pair(size_t K, size_t N, const double *X, size_t sc, size_t si, const double *w);

typedef struct td_eval td_eval; /* scratch, memo and counters for one process and data set */

/* NULL-safe checks: p and ds non-NULL, dim(p) = N. */
int td_check(const rg_process *p, const rg_theory_dataset *ds);
/* Scratch for the criteria of this process on this data set. */
int td_eval_new(const rg_process *p, const rg_theory_dataset *ds, td_eval **out);
void td_eval_free(td_eval *e);
/* The criterion kind at time t > 0. Values at a time already seen come from the memo (the collapse sum
 * and kappa share one Cholesky per t). */
int td_eval_at(td_eval *e, td_kind kind, double t, td_value *v);
size_t td_eval_count(const td_eval *e); /* criterion evaluations actually computed */
int td_eval_scheduled(const td_eval *e); /* 1 when the process has a time-dependent drift */
/* A cheap upper bound of the criterion at t (k >= 2 with a small core only; *has = 0 otherwise): for
 * kmax, kparent, kappa an upper bound ub->scale * ub->val, for the collapse an upper bound ub->val of
 * the sum s(t). O(k^3) (O(N) for the collapse), no N x N work. */
int td_eval_bound(td_eval *e, td_kind kind, double t, td_value *ub, int *has);

#endif
