/* regimes reproduce nonrev-gmm: the non-reversible drift A = (I + Q) U with U = diag(linspace(0.2,
 * 1.8, 64)) and Q in {0, Q_opt} (docs/math.md 2.6, 4, 9.6): the decay of the mean against the exact
 * curve, speciation for m along the slowest, the fastest and the all-ones direction, and how Q moves
 * collapse for three within-class covariances. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/process.h"
#include "regimes/experiment.h"
#include "regimes/rng.h"
#include "args.h"
#include "cli.h"
#include "source.h"
#include "reproduce.h"

#define RES_REL 0.10  /* a time or rate interval decides when its half-width is at most 10% of the value */
#define P_ALPHA 25    /* training points of the collapse runs: alpha = log(25) / 64 = 0.0503 (docs/math.md 9.6) */
#define NS_ALPHA 40000 /* entropy samples per time: P = 25 makes them cheap, and the shifts need them */
#define BASE REPRO_NONREV_BASE
#define N_DT 25       /* times of the mean-decay curve, uniform on [0, DT_MAX] */
#define DT_MAX 8.0    /* N_DT - 1 intervals of 1/3 */
#define FIT_LO 2.0    /* the fit window: past the transient, above the Monte-Carlo floor */
#define FIT_HI 8.0
#define N_FWD 2000    /* forward paths */
#define DT_H 0.005    /* Euler-Maruyama step: rate bias about h rate^2 / 2 < 0.3% */
#define N_GRP 10      /* independent groups of paths for the interval of the fitted rate */
#define Z0_SCALE 1000.0 /* z_0 = 1000 m / |m|: the mean stays far above the sampling floor */

static const char *const QS[2] = { "zero", "optimal" };

/* One C_w's rows: the relative shift t_C(Q_opt) / t_C(0) - 1 by the entropy criterion, judged by its
 * direction (sign != 0) against the theory's, the sizes reported. */
static void nonrev_shift_rows(repro *r, int headline, const char *cw, int sign, const collapse_summary *c)
{
    char what[160], why[160];
    const double th = c[1].tc_theory / c[0].tc_theory - 1, me = c[1].tc / c[0].tc - 1;
    const double h0 = 0.5 * (c[0].tc_hi - c[0].tc_lo) / c[0].tc, h1 = 0.5 * (c[1].tc_hi - c[1].tc_lo) / c[1].tc;
    const double h = (1 + me) * sqrt(h0 * h0 + h1 * h1);
    snprintf(what, sizeof what, "collapse: t_C(Q_opt)/t_C(0) - 1, C_w = %s, alpha = 0.05 (theory %+.3f)", cw, th);
    if (sign) repro_judge_sign(r, headline, "nonrev-gmm", what, sign, me, me - h, me + h);
    snprintf(why, sizeof why, "the size: theory %+.3f; N = 64 is far from the d -> inf limit%s", th,
             sign ? "" : "; too small a shift to claim a direction here");
    repro_report(r, "nonrev-gmm", what, me, me - h, me + h, why);
    for (size_t q = 0; q < 2; q++) {
        snprintf(what, sizeof what, "t_C (f/alpha = 0.05), C_w = %s, Q = %s, P = %d", cw, QS[q], P_ALPHA);
        snprintf(why, sizeof why, "d -> inf theory %.4g: %+.1f%% at N = 64 (finite size)", c[q].tc_theory,
                 100.0 * (c[q].tc / c[q].tc_theory - 1));
        repro_report(r, "nonrev-gmm", what, c[q].tc, c[q].tc_lo, c[q].tc_hi, why);
    }
}

/* The process and mixture of BASE + extra, as `regimes theory` builds them. */
static int theory_for(const char *extra, cli_args *a, cli_env *e)
{
    char line[1024];
    snprintf(line, sizeof line, "theory %s %s", BASE, extra);
    char *argv[64];
    const int argc = repro_split(line, argv, 64);
    const int st = env_from_args(argc, argv, CMD_THEORY, 0, a, e);
    cli_set_command("regimes reproduce");
    return st;
}

/* |E z_t| of N_FWD forward Euler-Maruyama paths from z_0 = Z0_SCALE m/|m| (m along the slowest mode)
 * against the exact |M_t z_0| and the relaxation rate, for Q = 0 and Q_opt (rg_exp_decay). */
int repro_nonrev_decay(repro *r, int headline)
{
    rg_exp_decay_result dr[2] = { { 0 }, { 0 } };
    int st = RG_OK;
    for (size_t q = 0; q < 2 && !st; q++) {
        cli_args a;
        cli_env e;
        char extra[128];
        snprintf(extra, sizeof extra, "--Q %s --mean-dir slow", QS[q]);
        if ((st = theory_for(extra, &a, &e))) break;
        double z0[64], nm = cblas_dnrm2((int)e.N, e.m, 1);
        for (size_t k = 0; k < e.N; k++) z0[k] = Z0_SCALE * e.m[k] / nm;
        const rg_exp_decay_cfg c = { .proc = e.b.p, .z0 = z0, .n_paths = N_FWD, .n_groups = N_GRP, .h = DT_H,
                                     .n_t = N_DT, .t_max = DT_MAX, .fit_lo = FIT_LO, .fit_hi = FIT_HI, .seed = r->seed };
        const int s = rg_exp_decay(&c, &dr[q]);
        if (s) st = cli_status(s);
        if (!st) { /* like with like: the same fit on the exact |M_t z_0|; the Euler step biases a rate by h r^2 / 2 */
            char what[160], why[128];
            snprintf(what, sizeof what, "relaxation: decay rate of \\|E z_t\\|, fit on t in [%g, %g], Q = %s", FIT_LO, FIT_HI, QS[q]);
            const double ex = dr[q].rate_exact;
            repro_judge(r, headline, "nonrev-gmm", what, ex, dr[q].rate, dr[q].rate_lo, dr[q].rate_hi,
                        (repro_rule){ 0.5 * DT_H * ex * ex, "Euler step h r^2/2", RES_REL * ex });
            snprintf(why, sizeof why, "the same fit on the exact curve against r(A) = %.4g (the non-normal transient)",
                     e.th.relaxation_rate);
            snprintf(what, sizeof what, "decay rate of the exact \\|M_t z_0\\| on t in [%g, %g], Q = %s", FIT_LO, FIT_HI, QS[q]);
            repro_report(r, "nonrev-gmm", what, ex, NAN, NAN, why);
        }
        env_close(&e), opts_free(&a);
    }
    if (!st) {
        rg_io_series ser[4] = { { "measured, Q = 0", N_DT, dr[0].t, dr[0].mean, NULL, NULL, 1 },
                                { "exact |M_t z_0|, Q = 0", N_DT, dr[0].t, dr[0].exact, NULL, NULL, 0 },
                                { "measured, Q = Q_opt", N_DT, dr[1].t, dr[1].mean, NULL, NULL, 1 },
                                { "exact |M_t z_0|, Q = Q_opt", N_DT, dr[1].t, dr[1].exact, NULL, NULL, 0 } };
        st = repro_plot(r, "nonrev-gmm-decay.png", "Decay of the mean |E z_t| from z_0 along the slowest mode (docs/math.md 2.6)",
                        "t (forward)", "|E z_t|", 4, ser);
    }
    rg_exp_decay_result_free(&dr[0]), rg_exp_decay_result_free(&dr[1]);
    return st;
}

/* Collapse at alpha = log(25)/64 = 0.05 for C_w = I, U^-1 and U, with Q = 0 and Q_opt (docs/math.md 7.6,
 * 9.6): the REM theory moves t_C by Q only through ||[Q, U]||_F^2, in a direction set by how C_w aligns
 * with U: earlier for U^-1 (-19%), later for U (+25%), a little later for I (+4%). At N = 64 the measured
 * t_C sit 20-25% below the d -> infinity theory (finite size), so the judged claim is the direction of
 * each predicted shift; its size is reported beside the theory's. Shift intervals combine the two runs'
 * intervals as if independent (they share the training set, so this is conservative). */
int repro_nonrev_collapse(repro *r, int headline, size_t which_lo, size_t which_hi)
{
    static const char *const CW[3] = { "I", "Uinv", "U" };
    static const int SIGN[3] = { 0, -1, +1 }; /* I: +4% predicted, too small to claim a direction at this size */
    int st = RG_OK;
    for (size_t w = which_lo; w < which_hi && !st; w++) {
        collapse_summary c[2];
        size_t nc = 0;
        for (size_t q = 0; q < 2 && !st; q++, nc++) {
            char extra[512], sub[64];
            snprintf(extra, sizeof extra, "%s --data gmm2 --Q %s --mean-dir slow --cw %s --n-train %d --steps 100", BASE,
                     QS[q], CW[w], P_ALPHA);
            snprintf(sub, sizeof sub, "nonrev-gmm/collapse-Cw%s-Q%s", CW[w], QS[q]);
            if ((st = repro_collapse(r, sub, extra, r->samples ? r->samples : NS_ALPHA, &c[q]))) break;
        }
        if (!st) nonrev_shift_rows(r, headline, CW[w], SIGN[w], c);
        for (size_t q = 0; q < nc; q++) collapse_summary_free(&c[q]);
    }
    return st;
}

int repro_nonrev_gmm(repro *r)
{
    static const char *const DIRS[3] = { "slow", "fast", "ones" };
    int st = repro_nonrev_decay(r, 0);
    /* Speciation: clone runs with the exact mixture score. */
    clone_summary s[6];
    char lab[12][64];
    const char *labels[12];
    size_t n = 0;
    for (size_t q = 0; q < 2 && !st; q++)
        for (size_t d = 0; d < 3 && !st; d++) {
            char extra[256], sub[96], what[128];
            snprintf(extra, sizeof extra, "%s --data gmm2 --Q %s --mean-dir %s --steps 120", BASE, QS[q], DIRS[d]);
            snprintf(sub, sizeof sub, "nonrev-gmm/clone-Q%s-%s", QS[q], DIRS[d]);
            if ((st = repro_clone(r, sub, extra, 300, &s[n]))) break;
            const double tg = repro_grid_ts(&s[n], 0);
            snprintf(what, sizeof what, "t_S, Q = %s, m along %s (exact %.4g)", QS[q], DIRS[d], s[n].ts_theory[0]);
            repro_judge(r, 0, "nonrev-gmm", what, tg, s[n].ts[0], s[n].ts_lo[0], s[n].ts_hi[0],
                        (repro_rule){ 0.0, "exact score", RES_REL * tg });
            snprintf(lab[2 * n], 64, "measured Q = %s, %s", QS[q], DIRS[d]);
            snprintf(lab[2 * n + 1], 64, "theory Q = %s, %s", QS[q], DIRS[d]);
            labels[2 * n] = lab[2 * n], labels[2 * n + 1] = lab[2 * n + 1];
            n++;
        }
    if (!st) st = repro_plot_phi(r, "nonrev-gmm-phi.png", "Cloning curves, A = (I + Q) U, d = 64 (docs/math.md 9.6)", n, s, labels, 0);
    for (size_t i = 0; i < n; i++) free(s[i].res);
    if (!st) st = repro_nonrev_collapse(r, 0, 0, 3);
    return st;
}
