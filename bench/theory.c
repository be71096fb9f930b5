/* bench_theory: `regimes theory` for nonrev at image scale, fast engine against the naive one.
 *
 * Per size D: U = diag(linspace(0.2, 1.8, D)), Q = Q_opt (docs/math.md 4.1), m along ones with |m|^2 = D,
 * Cw = I, P = 20000: the command `regimes theory --process nonrev --dim D --U diag:0.2:1.8 --Q optimal
 * --mean-norm2 D` computes exactly these four times (t_S by kappa and by lambda_max, t_C, horizon). A
 * size written as "Dd" (e.g. 784d) takes a dense random SPD Cw = B B^T / D + 0.1 I and a random unit
 * direction instead: no block structure in the data, the case of real image data (MNIST: D = 784).
 * "Du" takes a dense random SPD U = B B^T / D + 0.2 I instead of the diagonal one (Cw = I, m along
 * ones): A = (I + Q_opt) U is dense, one dense eigendecomposition (dgeev), the general case.
 *
 * Printed per size: the fast engine's setup (Q_opt, the process with its modal factorisation, the plan)
 * and its four root searches, with the evaluations each cost; then the naive engine (Van Loan moments
 * per t, 400-point scan: RG_THEORY_NAIVE) on the same process, in the same run. Up to D = 256 the naive
 * searches run to the end. Above, that would take minutes to hours, so a fixed number of naive
 * evaluations is timed (3 per criterion at times around its root, 1 from D = 2048 on, where one
 * takes about a minute) and multiplied by the number of
 * evaluations the naive scan needs for that root (the grid points from 200 down to the root, plus the
 * Brent steps counted at D = 256): "extrapolated" says so. The speed-up is naive roots / fast (plan +
 * roots); the setup is common to both but for the modal factorisation, which the naive path does not
 * need: its time is listed.
 *
 * Usage: bench_theory [D ...], default 256 1024 4096 784d 1024u. BLAS threads as the environment sets
 * them. The defaults take about 15 minutes, most of it timing the naive engine at D = 4096. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "regimes/error.h"
#include "regimes/nonrev.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/theory.h"

#define HI 200.0
#define LO 1e-4
#define NPTS 400

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_theory: %s: %s\n", what, rg_strerror_last());
    return 1;
}

/* Points of the 400-point geometric grid on [LO, HI] at or above t (the naive scan walks down to the
 * first sign change, one evaluation per point). */
static double scan_points(double t)
{
    if (!(t > LO)) return NPTS;
    return 1.0 + floor((double)(NPTS - 1) * log(HI / t) / log(HI / LO)) + 1.0;
}

typedef struct {
    double t[4];  /* t_S kappa, t_S lambda_max, t_C, horizon */
    double sec[4];
    size_t evals[4];
} roots;

static int run_roots(rg_theory_plan *pl, roots *r)
{
    int found;
    double t0 = now();
    if (rg_theory_plan_speciation(pl, 0, RG_SPECIATION_GMM, &r->t[0], &found) != RG_OK) return fail("t_S kappa");
    double t1 = now();
    if (rg_theory_plan_speciation(pl, 0, RG_SPECIATION_MATRIX, &r->t[1], &found) != RG_OK) return fail("t_S matrix");
    double t2 = now();
    if (rg_theory_plan_collapse(pl, 20000.0, &r->t[2], &found) != RG_OK) return fail("t_C");
    double t3 = now();
    if (rg_theory_plan_horizon(pl, 0.01, &r->t[3]) != RG_OK) return fail("horizon");
    double t4 = now();
    rg_theory_stats s;
    rg_theory_plan_stats(pl, &s);
    r->sec[0] = t1 - t0, r->sec[1] = t2 - t1, r->sec[2] = t3 - t2, r->sec[3] = t4 - t3;
    r->evals[0] = s.kappa.evals, r->evals[1] = s.matrix.evals, r->evals[2] = s.collapse.evals;
    r->evals[3] = s.horizon.evals;
    return 0;
}

/* Seconds per naive evaluation of criterion c, timed over reps evaluations around t. */
static int naive_per_eval(rg_theory_plan *pl, int c, double t, int reps, double *sec)
{
    double v, t0 = now();
    for (int i = 0; i < reps; i++) {
        double ti = t * (1.0 + 0.05 * (i - 1));
        int st = c == 0 || c == 3 ? rg_theory_plan_kappa(pl, 0, ti, &v)
                 : c == 1         ? rg_theory_plan_kmax(pl, 0, ti, &v)
                                  : rg_theory_plan_collapse_f(pl, 20000.0, ti, &v);
        if (st != RG_OK) return fail("naive evaluation");
    }
    *sec = (now() - t0) / (double)reps;
    return 0;
}

static const char *const NAMES[4] = { "t_S (kappa)", "t_S (lambda_max)", "t_C", "horizon" };

/* Brent steps after the scan's bracket, per criterion, measured at the first size run in full. */
static double brent_steps[4] = { 12, 12, 12, 12 };

/* B (D x D) standard normal (Philox, seed 7, rows 0..D-1) and e (row D), in double. */
static int normal_rows(size_t D, double *B, double *e)
{
    float *row = malloc(D * sizeof *row);
    const rg_rng rng = { .seed = 7, .stream = RG_STREAM_DATA };
    if (!row) return fail("out of memory");
    for (size_t i = 0; i <= D; i++) {
        rg_rng_normals(rng, i, 0, row, D);
        for (size_t j = 0; j < D; j++) (i < D ? B + i * D : e)[j] = (double)row[j];
    }
    free(row);
    return 0;
}

/* X = B B^T / D + shift I (SPD). */
static void gram(size_t D, const double *B, double shift, double *X)
{
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j <= i; j++) {
            double acc = i == j ? shift : 0.0;
            for (size_t l = 0; l < D; l++) acc += B[i * D + l] * B[j * D + l] / (double)D;
            X[i * D + j] = X[j * D + i] = acc;
        }
}

static int bench_size(size_t D, int dense_cw, int dense_u)
{
    double *U = calloc(D * D, sizeof *U), *Q = malloc(D * D * sizeof *Q), *Cw = calloc(D * D, sizeof *Cw);
    double *e = malloc(D * sizeof *e), m2 = (double)D;
    if (!U || !Q || !Cw || !e) return fail("out of memory");
    for (size_t i = 0; i < D; i++) {
        U[i * D + i] = 0.2 + 1.6 * (double)i / (double)(D - 1);
        e[i] = 1.0 / sqrt((double)D);
        Cw[i * D + i] = 1.0;
    }
    if (dense_cw || dense_u) { /* Cw or U = B B^T / D + shift I, B (and the direction) standard normal */
        double *B = malloc(D * D * sizeof *B), *dir = malloc(D * sizeof *dir), en = 0.0;
        if (!B || !dir || normal_rows(D, B, dir)) return fail("out of memory");
        gram(D, B, dense_cw ? 0.1 : 0.2, dense_cw ? Cw : U);
        for (size_t i = 0; i < D && dense_cw; i++) en += dir[i] * dir[i];
        for (size_t i = 0; i < D && dense_cw; i++) e[i] = dir[i] / sqrt(en);
        free(B);
        free(dir);
    }
    rg_theory_data d = { .n_labels = 1, .pattern = e, .mean_norm2 = &m2, .Cw = Cw };
    rg_process *p = NULL;
    rg_theory_plan *fast = NULL, *naive = NULL;
    double t0 = now();
    if (rg_nonrev_optimal_q(D, U, NULL, Q) != RG_OK) return fail("Q_opt");
    double t1 = now();
    if (rg_process_nonrev(D, U, Q, &p) != RG_OK) return fail("process");
    double t2 = now();
    if (rg_theory_plan_new(p, &d, 0, &fast) != RG_OK) return fail("plan");
    double t3 = now();
    roots rf, rn;
    if (run_roots(fast, &rf)) return 1;
    rg_theory_stats fs;
    rg_theory_plan_stats(fast, &fs);
    double fast_roots = rf.sec[0] + rf.sec[1] + rf.sec[2] + rf.sec[3];
    printf("D = %zu%s: setup %.2f s (Q_opt %.2f, process + modal form %.2f, plan %.2f); modal %d, %zu block%s\n", D,
           dense_cw ? " (dense random Cw)" : dense_u ? " (dense random U)" : "", t3 - t0, t1 - t0, t2 - t1, t3 - t2, fs.modal, fs.blocks,
           fs.blocks == 1 ? "" : "s");
    if (rg_theory_plan_new(p, &d, RG_THEORY_NAIVE, &naive) != RG_OK) return fail("naive plan");
    int full = D <= 256;
    double naive_roots = 0.0;
    if (full) {
        if (run_roots(naive, &rn)) return 1;
        for (int c = 0; c < 4; c++) {
            naive_roots += rn.sec[c];
            brent_steps[c] = fmax((double)rn.evals[c] - scan_points(rn.t[c]), 0.0);
        }
    }
    for (int c = 0; c < 4; c++) {
        double ne, per = 0.0;
        if (full) {
            ne = (double)rn.evals[c];
        } else {
            if (naive_per_eval(naive, c, rf.t[c], D >= 2048 ? 1 : 3, &per)) return 1;
            ne = scan_points(rf.t[c]) + brent_steps[c];
            naive_roots += ne * per;
        }
        printf("  %-17s %.12f  fast %6.3f s, %2zu evaluations | naive %8.2f s, %3.0f evaluations%s",
               NAMES[c], rf.t[c], rf.sec[c], rf.evals[c], full ? rn.sec[c] : ne * per, ne,
               full ? "" : " (extrapolated)");
        if (full) printf(", |dt| / t = %.1e", fabs(rf.t[c] - rn.t[c]) / rn.t[c]);
        else printf(", %.3f s each", per);
        printf("\n");
    }
    printf("  theory: fast %.2f s (plan + roots), naive %.1f s%s: speed-up %.0fx; whole run fast %.2f s\n",
           t3 - t2 + fast_roots, naive_roots, full ? "" : " (extrapolated)", naive_roots / (t3 - t2 + fast_roots),
           t3 - t0 + fast_roots);
    fflush(stdout);
    rg_theory_plan_free(naive);
    rg_theory_plan_free(fast);
    rg_process_free(p);
    free(U), free(Q), free(Cw), free(e);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const defaults[] = { "256", "1024", "4096", "784d", "1024u" };
    int n = argc > 1 ? argc - 1 : 5;
    for (int i = 0; i < n; i++) {
        const char *a = argc > 1 ? argv[i + 1] : defaults[i];
        char *end;
        size_t D = strtoull(a, &end, 10);
        int dense = *end == 'd', du = *end == 'u';
        if (D < 2 || (*end && !((dense || du) && end[1] == '\0'))) {
            fprintf(stderr, "bench_theory: size '%s': want an integer >= 2, optionally followed by d or u\n", a);
            return 2;
        }
        if (bench_size(D, dense, du)) return 1;
    }
    return 0;
}
