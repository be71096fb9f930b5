#define _POSIX_C_SOURCE 200809L
/* `regimes demo`: the headline result of each paper, theory against measurement, in a few minutes
 * (reduced sizes of the `regimes reproduce` experiments, docs/math.md 7-9): speciation and collapse on
 * Gaussian mixtures, the synchronization gap against the coupling, the non-reversible drift that
 * speeds up relaxation and speciation while collapse stays put, and speciation on MNIST with the exact
 * score. results/demo/report.md opens with a one-screen summary table (one row per headline), then
 * every row measured and the plots. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "regimes/io.h"
#include "args.h"
#include "cli.h"
#include "par.h"
#include "reproduce.h"
#include "run.h"

#define TOL_TS 0.10
#define TOL_TC 0.15

typedef struct {
    repro r;      /* detail rows and plots (r.md) */
    repro sum;    /* the summary table (sum.md) */
} demo;

static int speciation(demo *d)
{
    fputs("\n### Speciation, two-class GMM (parent paper; docs/math.md 7.1, 7.2)\n\n", d->r.md);
    clone_summary s;
    int st = repro_clone(&d->r, "speciation", "--process ou --data gmm2 --dim 256 --sigma2 1 --steps 120", 300, &s);
    if (st) return st;
    repro_headline(&d->r, "speciation", "t_S, OU, gmm2, d = 256, \\|m\\|^2 = d", s.ts_theory[0], s.ts[0], s.ts_lo[0], s.ts_hi[0],
             TOL_TS * s.ts_theory[0]);
    const char *lab[2] = { "measured", "theory" };
    st = repro_plot_phi(&d->r, "speciation.png", "Cloning curve phi(t_b), two-class GMM, d = 256", 1, &s, lab, 0);
    free(s.res);
    return st;
}

static int collapse(demo *d)
{
    fputs("\n### Collapse onto the training set (parent paper; docs/math.md 7.6, 8.2)\n\n", d->r.md);
    collapse_summary s;
    int st = repro_collapse(&d->r, "collapse", "--process ou --data gmm2 --dim 256 --sigma2 1 --n-train 20000 --steps 100",
                            4000, &s);
    if (st) return st;
    repro_headline(&d->r, "collapse", "t_C (f/alpha = 0.05), d = 256, P = 20000", s.tc_theory, s.tc, s.tc_lo, s.tc_hi,
             TOL_TC * s.tc_theory);
    repro_row_text(&d->r, "collapse", "memorised fraction of the final samples", 1, s.mf, s.mf_lo, s.mf_hi, ">= 0.95",
                   s.mf >= 0.95);
    double t[64], f[64], lo[64], hi[64], th[64];
    size_t m = s.m < 64 ? s.m : 64;
    for (size_t j = 0; j < m; j++)
        t[j] = s.res[5 * j], f[j] = s.res[5 * j + 1], lo[j] = s.res[5 * j + 2], hi[j] = s.res[5 * j + 3], th[j] = s.res[5 * j + 4];
    rg_io_series ser[2] = { { "measured", m, t, f, lo, hi, 1 }, { "closed form", m, t, th, NULL, NULL, 0 } };
    st = repro_plot(&d->r, "collapse.png", "Excess entropy f(t), P = 20000, d = 256", "t (forward)", "f(t)", 2, ser);
    collapse_summary_free(&s);
    return st;
}

static int gap(demo *d)
{
    fputs("\n### Synchronization gap against the coupling (multimodal paper; docs/math.md 7.3)\n\n"
          "gmm4 with |m_c|^2 = 25, |m_d|^2 = 9 at d = 16 per modality (with isotropic sigma^2 the class\n"
          "posterior sees only the projections on the means, so the times do not depend on d).\n\n", d->r.md);
    static const double G[3] = { -0.5, 0.0, 0.5 };
    double gx[3], gm[3], glo[3], ghi[3], gth[3];
    int st = RG_OK;
    for (size_t i = 0; i < 3 && !st; i++) {
        char extra[256], sub[64], what[96];
        snprintf(extra, sizeof extra, "--process coupled --data gmm4 --dim 16 --mc2 25 --md2 9 --sigma2 1 --steps 120 --gamma %g", G[i]);
        snprintf(sub, sizeof sub, "gap/gamma%g", G[i]);
        clone_summary s;
        if ((st = repro_clone(&d->r, sub, extra, 1000, &s))) break;
        for (size_t l = 0; l < 2; l++) {
            snprintf(what, sizeof what, "t_S %s, gamma = %g", l ? "difference" : "common", G[i]);
            repro_row(&d->r, "gap", what, s.ts_theory[l], s.ts[l], s.ts_lo[l], s.ts_hi[l], TOL_TS * s.ts_theory[l]);
        }
        snprintf(what, sizeof what, "gap t_S^c - t_S^d, gamma = %g", G[i]);
        repro_headline(&d->r, "gap", what, s.gap_theory, s.gap, s.gap_lo, s.gap_hi, TOL_TS * fmax(s.ts_theory[0], s.ts_theory[1]));
        gx[i] = G[i], gm[i] = s.gap, glo[i] = s.gap_lo, ghi[i] = s.gap_hi, gth[i] = s.gap_theory;
        free(s.res);
    }
    if (!st) {
        rg_io_series ser[2] = { { "measured gap", 3, gx, gm, glo, ghi, 1 }, { "theory", 3, gx, gth, NULL, NULL, 0 } };
        st = repro_plot(&d->r, "gap.png", "Synchronization gap against gamma (cross-drive)", "gamma",
                        "t_S(common) - t_S(difference)", 2, ser);
    }
    return st;
}

static int nonrev(demo *d)
{
    fputs("\n### Non-reversible drift A = (I + Q) U, U = diag(linspace(0.2, 1.8, 64)) (docs/math.md 2.6, 4, 9.6)\n\n",
          d->r.md);
    double rate[2], rate_lo[2], rate_hi[2], rate_th[2];
    int st = repro_nonrev_decay(&d->r, rate, rate_lo, rate_hi, rate_th);
    for (size_t q = 0; q < 2 && !st; q++)
        repro_headline(&d->r, "nonrev", q ? "relaxation: decay rate of \\|E z_t\\|, Q = Q_opt" : "relaxation: decay rate of \\|E z_t\\|, Q = 0",
                 rate_th[q], rate[q], rate_lo[q], rate_hi[q], 0.10 * rate_th[q]);
    static const char *const QS[2] = { "zero", "optimal" };
    double sw[2] = { NAN, NAN }, se[2] = { NAN, NAN }, tct[2] = { NAN, NAN };
    for (size_t q = 0; q < 2 && !st; q++) {
        char extra[512], sub[64], what[96];
        snprintf(extra, sizeof extra, "%s --data gmm2 --Q %s --mean-dir ones", REPRO_NONREV_BASE, QS[q]);
        snprintf(sub, sizeof sub, "nonrev/clone-Q%s", QS[q]);
        clone_summary s;
        if ((st = repro_clone(&d->r, sub, extra, 400, &s))) break;
        snprintf(what, sizeof what, "speciation: t_S, m along ones, Q = %s", QS[q]);
        repro_headline(&d->r, "nonrev", what, s.ts_theory[0], s.ts[0], s.ts_lo[0], s.ts_hi[0], TOL_TS * s.ts_theory[0]);
        free(s.res);
        snprintf(extra, sizeof extra, "%s --data gmm2 --Q %s --mean-dir slow --n-train 20000 --steps 100", REPRO_NONREV_BASE,
                 QS[q]);
        snprintf(sub, sizeof sub, "nonrev/collapse-Q%s", QS[q]);
        collapse_summary c;
        if ((st = repro_collapse(&d->r, sub, extra, 1000, &c))) break;
        snprintf(what, sizeof what, "collapse: t_C (f/alpha = 0.05), P = 20000, Q = %s", QS[q]);
        repro_row(&d->r, "nonrev", what, c.tc_theory, c.tc, c.tc_lo, c.tc_hi, TOL_TC * c.tc_theory);
        sw[q] = c.sw_mean, se[q] = c.sw_sd / sqrt((double)c.trajectories), tct[q] = c.tc_theory;
        snprintf(what, sizeof what, "collapse: t_C by the mean last switch (8.2 c), Q = %s", QS[q]);
        repro_row(&d->r, "nonrev", what, c.tc_theory, sw[q], sw[q] - 1.96 * se[q], sw[q] + 1.96 * se[q],
                  TOL_TC * c.tc_theory);
        collapse_summary_free(&c);
    }
    if (!st) {
        const double ds = sw[1] - sw[0], h = 1.96 * sqrt(se[0] * se[0] + se[1] * se[1]);
        repro_headline(&d->r, "nonrev", "collapse unchanged: t_C(Q_opt) - t_C(0), last switch", tct[1] - tct[0], ds, ds - h, ds + h,
                 TOL_TC * tct[0]);
    }
    return st;
}

static int mnist(demo *d)
{
    fputs("\n### Speciation on MNIST digits 1 and 8 with the exact empirical score (docs/math.md 9.2)\n\n", d->r.md);
    if (access("data/mnist/train-images-idx3-ubyte", R_OK) != 0) {
        fputs("Skipped: data/mnist is absent (scripts/get-mnist.sh fetches it; `make demo` runs it first).\n", d->r.md);
        fputs("\nMNIST speciation skipped: data/mnist is absent.\n", d->sum.md);
        return RG_OK;
    }
    repro m = d->r;
    m.samples = d->r.samples ? d->r.samples : 200;
    m.quick = 1;
    m.rows = m.pass = 0;
    int st = repro_mnist_exact(&m);
    d->r.rows += m.rows, d->r.pass += m.pass;
    return st;
}

int demo_run(const char *dir, uint64_t seed, int threads, size_t samples)
{
    double t0 = run_now();
    int st = par_rank() == 0 ? run_outdir(dir) : RG_OK;
    if ((st = par_status(st))) return st;
    char *text = NULL, *stext = NULL;
    size_t len = 0, slen = 0;
    demo d = { { open_memstream(&text, &len), dir, samples, seed, threads, 0, 0, 0, NULL },
               { open_memstream(&stext, &slen), dir, samples, seed, threads, 0, 0, 0, NULL } };
    if (!d.r.md || !d.sum.md) return cli_nomem("out of memory");
    d.r.headline = &d.sum; /* repro_headline rows go to both */
    static const char *const HEAD = "| experiment | quantity | theory | measured | 95% interval | tolerance | verdict |\n"
                                    "|---|---|---|---|---|---|---|\n";
    fputs(HEAD, d.sum.md);
    fputs(HEAD, d.r.md);
    int (*const steps[])(demo *) = { speciation, collapse, gap, nonrev, mnist };
    static const char *const NAMES[] = { "speciation", "collapse", "gap", "nonrev", "mnist" };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && !st; i++) {
        double t1 = run_now();
        if (par_rank() == 0) fprintf(stderr, "regimes demo: %s ...", NAMES[i]);
        st = steps[i](&d);
        if (par_rank() == 0) fprintf(stderr, " %.0f s\n", run_now() - t1);
        cli_set_command("regimes demo");
    }
    fclose(d.r.md);
    fclose(d.sum.md);
    double wall = run_now() - t0;
    if (!st && par_rank() == 0) {
        char *rep = NULL;
        size_t rlen = 0;
        FILE *f = open_memstream(&rep, &rlen);
        if (!f) st = cli_nomem("out of memory");
        else {
            fprintf(f, "# regimes demo\n\n`regimes demo --out %s --seed %llu` (%s, %.0f s, %d rank(s)). Every row: theory,\n"
                       "measurement, its 95%% interval and a verdict against the stated tolerance; each run's files\n"
                       "and meta.json (with its exact command) are under this directory.\n\n## Summary\n\n",
                    dir, (unsigned long long)seed, RG_VERSION, wall, par_size());
            fputs(stext, f);
            fprintf(f, "\n%d of %d headline rows pass.\n\n## Details\n\n", d.sum.pass, d.sum.rows);
            fputs(text, f);
            fprintf(f, "\n%d of %d rows pass.\n", d.r.pass, d.r.rows);
            fclose(f);
            char path[4096];
            if (!(st = run_path(path, sizeof path, dir, "report.md"))) {
                int s = rg_io_text_write(path, rep, rlen);
                if (s) st = cli_status(s);
            }
            if (!st) {
                fputs("\nSummary (theory against measurement)\n", stdout);
                fputs(stext, stdout);
                printf("\n%d of %d headline rows pass, %d of %d rows in all; %.0f s. Report: %s\n", d.sum.pass,
                       d.sum.rows, d.r.pass, d.r.rows, wall, path);
            }
        }
        free(rep);
    }
    free(text);
    free(stext);
    return st;
}
