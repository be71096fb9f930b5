/* regimes reproduce nonrev-gmm: the non-reversible drift A = (I + Q) U with U = diag(linspace(0.2,
 * 1.8, 64)) and Q in {0, Q_opt} (MATH.md 2.6, 4, 9.6): the decay of the mean against the relaxation
 * rate, speciation for m along the slowest, the fastest and the all-ones direction, and collapse. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "args.h"
#include "cli.h"
#include "exp.h"
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

static int theory_for(const char *extra, theory_result *th)
{
    char line[1024];
    snprintf(line, sizeof line, "theory %s %s", BASE, extra);
    char *argv[64];
    int argc = repro_split(line, argv, 64), help = 0;
    int st = theory_compute(argc, argv, 1, th, &help);
    cli_set_command("regimes reproduce");
    return st;
}

/* Least-squares slope of log y against t over the fit window: the decay rate is its negative. */
static double fit_rate(size_t n, const double *t, const double *y)
{
    double st = 0, sy = 0, stt = 0, sty = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] >= FIT_LO && t[i] <= FIT_HI && y[i] > 0) {
            double l = log(y[i]);
            st += t[i], sy += l, stt += t[i] * t[i], sty += t[i] * l, k++;
        }
    return k < 2 ? (double)NAN : -(k * sty - st * sy) / (k * stt - st * st);
}

/* |E z_t| from N_FWD forward paths of dz = -A z dt + sqrt(2) dW by Euler-Maruyama (step DT_H, one
 * batched dgemm per step) started at the fixed z_0: per group of paths and overall, against the
 * exact |M_t z_0| (rg_process_moments). The simulation does not use M_t: it tests it. */
static int mean_decay(const rg_process *p, const double *z0, uint64_t seed, double *t, double *me, double *ex,
                      double *grp_rate, double *rate_me, double *rate_ex)
{
    const size_t N = rg_process_dim(p), G = N_FWD / N_GRP;
    const size_t per = (size_t)llround(DT_MAX / (N_DT - 1) / DT_H); /* EM steps between curve times */
    double *Z = malloc(N_FWD * N * sizeof *Z), *W = malloc(N_FWD * N * sizeof *W), *xi = malloc(N * sizeof *xi);
    double *A = malloc(N * N * sizeof *A), *M = malloc(N * N * sizeof *M), *gm = malloc(N_GRP * N_DT * sizeof *gm);
    int st = (Z && W && xi && A && M && gm) ? rg_process_drift(p, 0.0, A) : RG_ENOMEM;
    const rg_rng r = { seed, RG_STREAM_FORWARD };
    const double h = DT_H, sq = sqrt(2.0 * DT_H);
    for (size_t s = 0; s < N_FWD && st == RG_OK; s++) memcpy(Z + s * N, z0, N * sizeof *Z);
    for (size_t i = 0; i < N_DT && st == RG_OK; i++) {
        t[i] = (double)(i * per) * h;
        if (i) /* per EM steps from t[i - 1] */
            for (size_t k = 0; k < per; k++) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N_FWD, (int)N, (int)N, 1.0, Z, (int)N, A,
                            (int)N, 0.0, W, (int)N);
                const uint64_t step = (i - 1) * per + k;
                for (size_t s = 0; s < N_FWD; s++) {
                    rg_rng_normals_d(r, s, step, xi, N);
                    for (size_t c = 0; c < N; c++) Z[s * N + c] += -h * W[s * N + c] + sq * xi[c];
                }
            }
        double tot = 0, nrm = 0;
        for (size_t g = 0; g < N_GRP; g++) {
            double q = 0;
            for (size_t c = 0; c < N; c++) {
                double a = 0;
                for (size_t s = g * G; s < (g + 1) * G; s++) a += Z[s * N + c];
                q += (a / (double)G) * (a / (double)G);
            }
            gm[g * N_DT + i] = sqrt(q);
        }
        for (size_t c = 0; c < N; c++) {
            double a = 0;
            for (size_t s = 0; s < N_FWD; s++) a += Z[s * N + c];
            tot += (a / N_FWD) * (a / N_FWD);
        }
        me[i] = sqrt(tot);
        st = rg_process_moments(p, t[i], M, NULL);
        for (size_t a = 0; a < N && st == RG_OK; a++) {
            double v = 0;
            for (size_t b = 0; b < N; b++) v += M[a * N + b] * z0[b];
            nrm += v * v;
        }
        ex[i] = sqrt(nrm);
    }
    for (size_t g = 0; g < N_GRP && st == RG_OK; g++) grp_rate[g] = fit_rate(N_DT, t, gm + g * N_DT);
    *rate_me = fit_rate(N_DT, t, me);
    *rate_ex = fit_rate(N_DT, t, ex);
    free(Z), free(W), free(xi), free(A), free(M), free(gm);
    return st;
}

int repro_nonrev_decay(repro *r, double rate[2], double lo[2], double hi[2], double theory[2])
{
    double t[N_DT], me[2][N_DT], ex[2][N_DT];
    int st = RG_OK;
    for (size_t q = 0; q < 2 && !st; q++) {
        theory_result th;
        char extra[128];
        snprintf(extra, sizeof extra, "--Q %s --mean-dir slow", QS[q]);
        if ((st = theory_for(extra, &th))) break;
        exp_model em = { 0 };
        st = exp_model_new(&th, &em);
        double z0[64], nm = 0, grp[N_GRP], rme = NAN, rex = NAN;
        for (size_t k = 0; k < em.N && !st; k++) nm += em.m[k] * em.m[k];
        for (size_t k = 0; k < em.N && !st; k++) z0[k] = Z0_SCALE * em.m[k] / sqrt(nm);
        if (!st) {
            int s = mean_decay(th.b.p, z0, r->seed, t, me[q], ex[q], grp, &rme, &rex);
            if (s) st = cli_status(s);
        }
        if (!st) {
            double a = 0, a2 = 0;
            for (size_t g = 0; g < N_GRP; g++) a += grp[g];
            a /= N_GRP;
            for (size_t g = 0; g < N_GRP; g++) a2 += (grp[g] - a) * (grp[g] - a);
            const double half = 1.96 * sqrt(a2 / (N_GRP - 1) / N_GRP); /* groups of N_FWD / 10 draws */
            char what[160];
            snprintf(what, sizeof what, "decay rate of \\|E z_t\\| (fit on t in [%g, %g]; on the exact curve %.4g), Q = %s",
                     FIT_LO, FIT_HI, rex, QS[q]);
            repro_row(r, "nonrev-gmm", what, th.relaxation_rate, rme, rme - half, rme + half,
                      TOL_RATE * th.relaxation_rate);
            rate[q] = rme, lo[q] = rme - half, hi[q] = rme + half, theory[q] = th.relaxation_rate;
        }
        exp_model_free(&em);
        theory_result_free(&th);
    }
    if (!st) {
        rg_io_series ser[4] = { { "measured, Q = 0", N_DT, t, me[0], NULL, NULL, 1 },
                                { "exact |M_t z_0|, Q = 0", N_DT, t, ex[0], NULL, NULL, 0 },
                                { "measured, Q = Q_opt", N_DT, t, me[1], NULL, NULL, 1 },
                                { "exact |M_t z_0|, Q = Q_opt", N_DT, t, ex[1], NULL, NULL, 0 } };
        st = repro_plot(r, "nonrev-gmm-decay.png", "Decay of the mean |E z_t| from z_0 along the slowest mode (MATH.md 2.6)",
                        "t (forward)", "|E z_t|", 4, ser);
    }
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
    if (!st) st = repro_plot_phi(r, "nonrev-gmm-phi.png", "Cloning curves, A = (I + Q) U, d = 64 (MATH.md 9.6)", n, s, labels, 0);
    for (size_t i = 0; i < n; i++) free(s[i].res);
    /* Collapse: P = 20000 training points, m along the slowest mode, C_w = I. Two clocks of MATH.md
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
