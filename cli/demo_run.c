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

typedef struct {
    repro r;      /* detail rows and plots (r.md, r.notes) */
    repro sum;    /* the summary table (sum.md) */
} demo;

static int speciation(demo *d)
{
    fputs("\n### Speciation, two-class GMM (parent paper; docs/math.md 7.1, 7.2)\n\n", d->r.md);
    clone_summary s;
    int st = repro_clone(&d->r, "speciation", "--process ou --data gmm2 --dim 256 --sigma2 1 --steps 120", 300, &s);
    if (st) return st;
    char what[96];
    const double tg = repro_grid_ts(&s, 0);
    snprintf(what, sizeof what, "t_S, OU, gmm2, d = 256, \\|m\\|^2 = d (exact %.4g)", s.ts_theory[0]);
    repro_judge(&d->r, 1, "speciation", what, tg, s.ts[0], s.ts_lo[0], s.ts_hi[0], (repro_rule){ 0.0, "exact score", 0.1 * tg });
    const char *lab[2] = { "measured", "theory" };
    st = repro_plot_phi(&d->r, "speciation.png", "Cloning curve phi(t_b), two-class GMM, d = 256", 1, &s, lab, 0);
    free(s.res);
    return st;
}

static int collapse(demo *d)
{
    fputs("\n### Collapse onto the training set (parent paper; docs/math.md 7.6, 8.2, 11.5)\n\n"
          "The REM theory is the d -> infinity limit; the judged claim is that the measured t_C approaches it\n"
          "as d grows at fixed P.\n\n", d->r.md);
    collapse_summary s[2];
    int st = repro_collapse_runs(&d->r, 1, "collapse", 2, d->r.samples ? d->r.samples : 2000, s);
    if (st) return st;
    double t[2][64], f[2][64], lo[2][64], hi[2][64], th[2][64];
    rg_io_series ser[4];
    static const char *const LAB[4] = { "measured d = 256", "closed form d = 256", "measured d = 1024", "closed form d = 1024" };
    for (size_t k = 0; k < 2; k++) {
        const size_t m = s[k].m < 64 ? s[k].m : 64;
        for (size_t j = 0; j < m; j++) {
            const double *row = s[k].res + 5 * j;
            t[k][j] = row[0], f[k][j] = row[1] / s[k].alpha, lo[k][j] = row[2] / s[k].alpha, hi[k][j] = row[3] / s[k].alpha;
            th[k][j] = row[4] / s[k].alpha;
        }
        ser[2 * k] = (rg_io_series){ LAB[2 * k], m, t[k], f[k], lo[k], hi[k], 1 };
        ser[2 * k + 1] = (rg_io_series){ LAB[2 * k + 1], m, t[k], th[k], NULL, NULL, 0 };
    }
    st = repro_plot(&d->r, "collapse.png", "Excess entropy f(t)/alpha, P = 20000", "t (forward)", "f(t) / alpha", 4, ser);
    collapse_summary_free(&s[0]), collapse_summary_free(&s[1]);
    return st;
}

static int gap(demo *d)
{
    fputs("\n### Synchronization gap against the coupling (multimodal paper; docs/math.md 7.3)\n\n"
          "gmm4 with |m_c|^2 = 25, |m_d|^2 = 9 at d = 16 per modality (with isotropic sigma^2 the class\n"
          "posterior sees only the projections on the means, so the times do not depend on d).\n\n", d->r.md);
    static const double G[3] = { -0.5, 0.0, 0.5 };
    double gx[3], gm[3], glo[3], ghi[3], gth[3];
    clone_summary s[3];
    int st = RG_OK;
    size_t n = 0;
    for (size_t i = 0; i < 3 && !st; i++, n++) {
        char extra[256], sub[64];
        snprintf(extra, sizeof extra, "--process coupled --data gmm4 --dim 16 --mc2 25 --md2 9 --sigma2 1 --steps 120 --gamma %g", G[i]);
        snprintf(sub, sizeof sub, "gap/gamma%g", G[i]);
        if ((st = repro_clone(&d->r, sub, extra, 1000, &s[i]))) break;
    }
    for (size_t i = 0; i < n && !st; i++) {
        char label[32];
        snprintf(label, sizeof label, "gamma = %g", G[i]);
        repro_gap_rows(&d->r, 1, "gap", label, &s[i], s[2].gap_theory);
        gx[i] = G[i], gm[i] = s[i].gap, glo[i] = s[i].gap_lo, ghi[i] = s[i].gap_hi, gth[i] = s[i].gap_theory;
    }
    for (size_t i = 0; i < n; i++) free(s[i].res);
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
    int st = repro_nonrev_decay(&d->r, 1);
    static const char *const QS[2] = { "zero", "optimal" };
    for (size_t q = 0; q < 2 && !st; q++) {
        char extra[512], sub[64], what[128];
        snprintf(extra, sizeof extra, "%s --data gmm2 --Q %s --mean-dir ones", REPRO_NONREV_BASE, QS[q]);
        snprintf(sub, sizeof sub, "nonrev/clone-Q%s", QS[q]);
        clone_summary s;
        if ((st = repro_clone(&d->r, sub, extra, 800, &s))) break; /* 400 left Q = 0 undecided */
        const double tg = repro_grid_ts(&s, 0);
        snprintf(what, sizeof what, "speciation: t_S, m along ones, Q = %s (exact %.4g)", QS[q], s.ts_theory[0]);
        repro_judge(&d->r, 1, "nonrev", what, tg, s.ts[0], s.ts_lo[0], s.ts_hi[0], (repro_rule){ 0.0, "exact score", 0.1 * tg });
        free(s.res);
    }
    if (!st) st = repro_nonrev_collapse(&d->r, 1, 1, 2); /* C_w = U^-1: Q_opt moves collapse earlier */
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
    m.samples = d->r.samples ? d->r.samples : 450; /* half-width under 10% of t_S */
    m.quick = 1;
    m.rows = m.pass = m.undecided = 0;
    int st = repro_mnist_exact(&m);
    d->r.rows += m.rows, d->r.pass += m.pass, d->r.undecided += m.undecided;
    return st;
}

int demo_run(const char *dir, uint64_t seed, int threads, size_t samples)
{
    double t0 = run_now();
    int st = par_rank() == 0 ? run_outdir(dir) : RG_OK;
    if ((st = par_status(st))) return st;
    char *text = NULL, *stext = NULL;
    size_t len = 0, slen = 0;
    char *ntext = NULL;
    size_t nlen = 0;
    demo d = { { .md = open_memstream(&text, &len), .notes = open_memstream(&ntext, &nlen), .dir = dir,
                 .samples = samples, .seed = seed, .threads = threads },
               { .md = open_memstream(&stext, &slen), .dir = dir, .samples = samples, .seed = seed, .threads = threads } };
    if (!d.r.md || !d.sum.md || !d.r.notes) return cli_nomem("out of memory");
    d.r.headline = &d.sum; /* headline rows go to both */
    int (*const steps[])(demo *) = { speciation, collapse, gap, nonrev, mnist };
    static const char *const NAMES[] = { "speciation", "collapse", "gap", "nonrev", "mnist" };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && !st; i++) {
        double t1 = run_now();
        if (par_rank() == 0) fprintf(stderr, "regimes demo: %s ...", NAMES[i]);
        st = steps[i](&d);
        if (par_rank() == 0) fprintf(stderr, " %.0f s\n", run_now() - t1);
        cli_set_command("regimes demo");
    }
    fclose(d.r.md), fclose(d.r.notes), fclose(d.sum.md);
    double wall = run_now() - t0;
    if (!st && par_rank() == 0) {
        char *rep = NULL;
        size_t rlen = 0;
        FILE *f = open_memstream(&rep, &rlen);
        if (!f) st = cli_nomem("out of memory");
        else {
            fprintf(f, "# regimes demo\n\n`regimes demo --out %s --seed %llu` (%s, %.0f s, %d rank(s)). Each run's\n"
                       "files and meta.json (with its exact command) are under this directory.\n\n",
                    dir, (unsigned long long)seed, RG_VERSION, wall, par_size());
            repro_rule_text(f);
            fputs("## Summary\n\n", f);
            repro_tables(f, stext, NULL);
            fprintf(f, "\n%d of %d headline rows pass (%d undecided).\n\n## Details\n\n", d.sum.pass, d.sum.rows,
                    d.sum.undecided);
            repro_tables(f, text, ntext);
            fprintf(f, "\n%d of %d judged rows pass (%d undecided).\n", d.r.pass, d.r.rows, d.r.undecided);
            fclose(f);
            char path[4096];
            if (!(st = run_path(path, sizeof path, dir, "report.md"))) {
                int s = rg_io_text_write(path, rep, rlen);
                if (s) st = cli_status(s);
            }
            if (!st) {
                fputs("\nSummary (theory against measurement)\n", stdout);
                repro_tables(stdout, stext, NULL);
                printf("\n%d of %d headline rows pass, %d of %d judged rows in all (%d undecided); %.0f s. Report: %s\n",
                       d.sum.pass, d.sum.rows, d.r.pass, d.r.rows, d.r.undecided, wall, path);
            }
        }
        free(rep);
    }
    free(text), free(stext), free(ntext);
    return st;
}
