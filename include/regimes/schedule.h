/* regimes schedule: inverse design of a piecewise-constant coupling gamma(t) that sets the
 * synchronization gap of gmm4 data on the symmetric coupled process (docs/math.md 7.3, 7.5, 9.5).
 *
 * Process: the symmetric coupling of docs/math.md 2.4 in cross-drive ([[1, -g], [-g, 1]]) or diffusive
 * ([[1+g, -g], [-g, 1+g]]) form, with g = gamma(t) piecewise constant, d per modality
 * (rg_process_scheduled, RG_SCHEDULE_PIECEWISE: gamma_i holds for knot_t[i-1] <= t < knot_t[i],
 * knot_t[-1] = 0, the last knot is INFINITY). Such schedules commute, so the common and difference
 * modes stay decoupled with rates lambda_c(t), lambda_d(t) (docs/math.md 3.2, 7.5).
 *
 * Data: two-label theory data as cli/spec.c builds gmm4 (label 0 = common, pattern (1, 1); label 1 =
 * difference, pattern (1, -1); Cw = sigma^2 I_2). Times are rg_theory_speciation, GMM-exact
 * criterion kappa_k = 1 (docs/math.md 7.1 d), largest root; the gap is t_S^c - t_S^d (docs/math.md 7.3).
 *
 * Parameterisation (documented choice, n_seg = 2):
 *     gamma(t) = 0    for t < tau,      gamma(t) = g    for t >= tau,
 *     tau = RG_SCHEDULE_SPLIT * min(t_S^c, t_S^d) of the uncoupled process (gamma = 0),
 * i.e. the low-noise end t < tau, well below both crossings, stays uncoupled and the coupling acts on
 * the window where the modes' times are set (docs/math.md 7.5, design rule). This reaches less than a
 * constant g (n_seg = 1) can: the gap of docs/math.md 9.5 (|m_c|^2 = 50, |m_d|^2 = 10) closes with both
 * forms; with |m_c|^2 = 25, |m_d|^2 = 4 the diffusive form closes it only with a constant g.
 * n_seg = 1 is a constant g on [0, inf). The single unknown g is found by Brent (rg_linalg_brent,
 * tol 1e-12 on g) on gap(g) - target inside the stability bound shrunk by RG_SCHEDULE_SHRINK:
 *     cross:     g in [-0.98, 0.98]                 (stable iff |g| < 1)
 *     diffusive: g in [-0.98 / 2, RG_SCHEDULE_DIFFUSIVE_MAX]   (stable iff g > -1/2)
 * The gap is monotone in g for both forms (g up: lambda_c down or fixed, lambda_d up), so the
 * target is reachable iff it lies between the gaps at the two ends of the search range.
 *
 * Outputs: knot_t (n_seg) segment ends, the last INFINITY; gamma (n_seg); *t_sc, *t_sd the
 * per-mode times of the designed schedule (t_sc - t_sd = target_gap to about 1e-10).
 * Errors: RG_EINVAL (n_seg not 1 or 2, d = 0, bad data: rg_theory_check's reason, non-finite
 * target, NULL output); RG_EDOM "target gap 5 is unreachable: the gap spans [a, b] for gamma in
 * [lo, hi]" (also when a mode has no speciation time at an end of the range); statuses of
 * rg_process_scheduled / rg_theory_speciation otherwise.
 * Omitted on purpose: anisotropic couplings, more than 2 segments, linear schedules, collapse. */
#ifndef REGIMES_SCHEDULE_H
#define REGIMES_SCHEDULE_H

#include <stddef.h>
#include "regimes/process.h"
#include "regimes/theory.h"

#define RG_SCHEDULE_SPLIT 0.5           /* tau as a fraction of the earlier uncoupled t_S */
#define RG_SCHEDULE_SHRINK 0.98         /* fraction of the stability bound searched */
#define RG_SCHEDULE_DIFFUSIVE_MAX 100.0 /* top of the diffusive search (the bound is infinite) */

int rg_schedule_solve(rg_coupling_form form, size_t d, const rg_theory_data *data, double target_gap,
                      size_t n_seg, double *knot_t, double *gamma, double *t_sc, double *t_sd);

/* Per-mode times (label 0, label 1) of a given piecewise-constant symmetric schedule: builds the
 * process exactly as the CLI's --schedule does and calls rg_theory_speciation (GMM criterion).
 * knot_t, gamma: (n_seg). A mode without a root gives NAN. */
int rg_schedule_times(rg_coupling_form form, size_t d, const rg_theory_data *data, size_t n_seg,
                      const double *knot_t, const double *gamma, double *t_sc, double *t_sd);

/* The CLI's --schedule text "piecewise:T1:G1,T2:G2,..." (gamma = G_i for t below T_i, the last T
 * written "inf"), numbers as %.17g so that spec_parse_schedule reads back the same doubles.
 * buf: len bytes, NUL-terminated. RG_EINVAL (n_seg = 0, non-finite gamma, knot times not
 * increasing and > 0, buffer too small: the message gives the length needed). */
int rg_schedule_format(size_t n_seg, const double *knot_t, const double *gamma, char *buf, size_t len);

#endif
