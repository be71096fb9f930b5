/* Private to the theory module (theory.c, theory_eval.c, theory_naive.c): the plan and the two
 * evaluators. Not installed. */
#ifndef REGIMES_THEORY_INTERNAL_H
#define REGIMES_THEORY_INTERNAL_H

#include <stddef.h>

#include "regimes/linalg.h"
#include "regimes/theory.h"

/* Root convention of docs/math.md 7: [1e-4, 200]; the naive path scans 400 geometric points on it. */
#define TH_LO 1e-4
#define TH_HI 200.0
#define TH_NPTS 400

/* The criteria, each a function of t that decreases through 0 at its root. */
typedef enum { TH_KAPPA, TH_MATRIX, TH_COLLAPSE, TH_HORIZON } th_crit;

struct rg_theory_plan {
    const rg_process *p;
    size_t k, n_labels;
    double N;                /* state dimension k r (alpha = log P / N) */
    double mean_rate;        /* tr(A_core) / k (the collapse search's first trial) */
    double *pattern, *norm2; /* (n_labels, k) and (n_labels): copies of the data */
    double *Cw, *Lw;         /* (k, k) Cw and its lower Cholesky factor */
    unsigned flags;
    const rg_linalg_modal *m; /* modal coordinates, or NULL: original coordinates from the moments */
    size_t nb;               /* independent blocks of the whole problem (1: dense): A decouples and */
    const size_t *boff;      /* Cw does not couple its components; block b is [boff[b], boff[b+1]) */
    double *Ct, *et;         /* modal: R^-1 Cw R^-T (k, k), R^-1 e_l (n_labels, k) */
    /* scratch and per-t state */
    double *G, *S, *B, *E, *T;  /* (k, k) each: chol(G_t), chol(Sigma_t), B_l(t), E_t, scratch */
    double *v;               /* 6 k doubles of vectors */
    double *lz;              /* Lanczos basis (TH_LANCZOS_MAX + 1, k), allocated on first use */
    double tG, tS, tE;       /* time of the factor in G, in S, of the moments in E and T (NAN: none) */
    double logdetG, logdetS; /* log det of G_t and Sigma_t (in the working coordinates) */
    rg_theory_stats stats;
    int status;              /* first failure inside a root search, with its message */
    char msg[256];
};

/* One evaluation: g(t) = criterion - level in log form (collapse: s(t) - alpha) and, where
 * available, dg/dt (NAN otherwise). */
typedef struct { double g, dg; } th_val;

/* Fast evaluator (theory_eval.c): modal coordinates when the process has them, else the moments. */
int rg_theory__eval(rg_theory_plan *pl, th_crit c, size_t label, double level, double t, th_val *out);
/* kappa_l(t), lambda_max(K_l(t)) and the collapse sum s(t) = (1/2k) log det(I + K^w) at one t. */
int rg_theory__kappa(rg_theory_plan *pl, size_t label, double t, double *kappa);
int rg_theory__kmax(rg_theory_plan *pl, size_t label, double t, double *lmax);
int rg_theory__collapse_sum(rg_theory_plan *pl, double t, double *s);
/* Unique root of the decreasing criterion on [TH_LO, TH_HI]: bracketing + safeguarded Newton (or
 * Brent where there is no derivative). *found = 0, *root = NAN when it keeps one sign there. */
int rg_theory__root(rg_theory_plan *pl, th_crit c, size_t label, double level, double *root, int *found);

/* The naive reference (theory_naive.c): the evaluators as they were before the modal path, on
 * rg_process_moments_naive, and the 400-point scan of docs/math.md 7. value: kappa_l (TH_KAPPA),
 * lambda_max(K_l) (TH_MATRIX) or the collapse sum s (TH_COLLAPSE) at t. root: the largest root of
 * kappa_l = level (TH_KAPPA, TH_HORIZON), lambda_max = 1, or s = level (TH_COLLAPSE, level = alpha). */
int rg_theory__naive_value(rg_theory_plan *pl, th_crit c, size_t label, double t, double *value);
int rg_theory__naive_root(rg_theory_plan *pl, th_crit c, size_t label, double level, double *root, int *found);

/* Stats slot of a criterion. */
rg_theory_count *rg_theory__count(rg_theory_plan *pl, th_crit c);

#endif
