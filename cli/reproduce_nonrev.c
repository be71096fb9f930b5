/* regimes reproduce nonrev-gmm: the non-reversible drift A = (I + Q) U with U = diag(linspace(0.2,
 * 1.8, 64)) and Q in {0, Q_opt} (docs/math.md 2.6, 4, 9.6): the decay of the mean against the relaxation
 * rate, speciation for m along the slowest, the fastest and the all-ones direction, and collapse. */
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

#define TOL_TS 0.10   /* issue tolerances: t_S within 10%, t_C within 15% (or theory inside the interval) */
#define TOL_TC 0.15
#define TOL_RATE 0.10 /* fitted decay rate within 10% of the relaxation rate */
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
int repro_nonrev_decay(repro *r, double rate[2], double lo[2], double hi[2], double theory[2])
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
        if (!st) {
            char what[160];
            snprintf(what, sizeof what, "decay rate of \\|E z_t\\| (fit on t in [%g, %g]; on the exact curve %.4g), Q = %s",
                     FIT_LO, FIT_HI, dr[q].rate_exact, QS[q]);
            repro_row(r, "nonrev-gmm", what, e.th.relaxation_rate, dr[q].rate, dr[q].rate_lo, dr[q].rate_hi,
                      TOL_RATE * e.th.relaxation_rate);
            rate[q] = dr[q].rate, lo[q] = dr[q].rate_lo, hi[q] = dr[q].rate_hi, theory[q] = e.th.relaxation_rate;
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

int repro_nonrev_gmm(repro *r)
{
    static const char *const DIRS[3] = { "slow", "fast", "ones" };
    double rate[2], rlo[2], rhi[2], rth[2];
    int st = repro_nonrev_decay(r, rate, rlo, rhi, rth);
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
            snprintf(what, sizeof what, "t_S, Q = %s, m along %s", QS[q], DIRS[d]);
            repro_row(r, "nonrev-gmm", what, s[n].ts_theory[0], s[n].ts[0], s[n].ts_lo[0], s[n].ts_hi[0],
                      TOL_TS * s[n].ts_theory[0]);
            snprintf(lab[2 * n], 64, "measured Q = %s, %s", QS[q], DIRS[d]);
            snprintf(lab[2 * n + 1], 64, "theory Q = %s, %s", QS[q], DIRS[d]);
            labels[2 * n] = lab[2 * n], labels[2 * n + 1] = lab[2 * n + 1];
            n++;
        }
    if (!st) st = repro_plot_phi(r, "nonrev-gmm-phi.png", "Cloning curves, A = (I + Q) U, d = 64 (docs/math.md 9.6)", n, s, labels, 0);
    for (size_t i = 0; i < n; i++) free(s[i].res);
    /* Collapse: P = 20000 training points, m along the slowest mode, C_w = I. Two clocks of docs/math.md
     * 8.2: the entropy criterion (a) and the per-trajectory last switch (c); at d = 64 the finite-N
     * curve f(t) rounds off well below t_C, so (a) reads early (at d = 256 it is within 10%). */
    collapse_summary c[2];
    size_t nc = 0;
    for (size_t q = 0; q < 2 && !st; q++) {
        char extra[512], sub[64], what[128];
        snprintf(extra, sizeof extra, "%s --data gmm2 --Q %s --mean-dir slow --n-train 20000 --steps 100", BASE, QS[q]);
        snprintf(sub, sizeof sub, "nonrev-gmm/collapse-Q%s", QS[q]);
        st = repro_collapse(r, sub, extra, 1000, &c[q]);
        if (st) break;
        nc++;
        snprintf(what, sizeof what, "t_C (f/alpha = 0.05), Q = %s, P = 20000", QS[q]);
        repro_row(r, "nonrev-gmm", what, c[q].tc_theory, c[q].tc, c[q].tc_lo, c[q].tc_hi, TOL_TC * c[q].tc_theory);
        const double se = 1.96 * c[q].sw_sd / sqrt((double)c[q].trajectories);
        snprintf(what, sizeof what, "t_C (mean last switch, 8.2 c), Q = %s, P = 20000", QS[q]);
        repro_row(r, "nonrev-gmm", what, c[q].tc_theory, c[q].sw_mean, c[q].sw_mean - se, c[q].sw_mean + se,
                  TOL_TC * c[q].tc_theory);
    }
    if (!st && nc == 2) {
        /* Collapse unchanged: the measured shift against the predicted one, within 15% of t_C. */
        double d = c[1].tc - c[0].tc, dth = c[1].tc_theory - c[0].tc_theory;
        double lo = c[1].tc_lo - c[0].tc_hi, hi = c[1].tc_hi - c[0].tc_lo;
        repro_row(r, "nonrev-gmm", "t_C(Q_opt) - t_C(0), entropy criterion", dth, d, lo, hi, TOL_TC * c[0].tc_theory);
        const double s0 = c[0].sw_sd / sqrt((double)c[0].trajectories), s1 = c[1].sw_sd / sqrt((double)c[1].trajectories);
        const double ds = c[1].sw_mean - c[0].sw_mean, hs = 1.96 * sqrt(s0 * s0 + s1 * s1);
        repro_row(r, "nonrev-gmm", "t_C(Q_opt) - t_C(0), last switch", dth, ds, ds - hs, ds + hs, TOL_TC * c[0].tc_theory);
    }
    for (size_t q = 0; q < nc; q++) collapse_summary_free(&c[q]);
    return st;
}
