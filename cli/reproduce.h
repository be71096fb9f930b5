/* regimes CLI: `regimes reproduce NAME`, the pieces every reproduction shares. A reproduction runs
 * the experiment commands (clone, collapse, ...) through their *_main entry points with argument
 * vectors it builds from words, so every run it makes can be repeated by hand from the command
 * line its meta.json records; it then writes plots and rows of report.md, each row with theory,
 * measurement, the 95% interval and a verdict against a stated tolerance.
 *
 * One file per family of experiments: reproduce_gmm.c (speciation-gmm, multimodal-gmm),
 * reproduce_collapse.c (collapse-gmm), reproduce_nonrev.c (nonrev-gmm), reproduce_mnist.c
 * (mnist-exact and mnist-trained). */
#ifndef REGIMES_CLI_REPRODUCE_H
#define REGIMES_CLI_REPRODUCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "regimes/io.h"
#include "cli.h"

typedef struct repro {
    FILE *md;          /* report.md being written (rows, plots, notes) */
    const char *dir;   /* --out: every file of the reproduction goes under it */
    size_t samples;    /* --samples; 0: the experiment's default */
    uint64_t seed;     /* --seed */
    int threads;       /* --threads (0: OpenMP's default), passed on to every run */
    int rows, pass;
    int quick;         /* --quick or regimes demo: an experiment may run its headline part only */
    struct repro *headline; /* regimes demo: the summary table its headline rows also go to, or NULL */
} repro;

typedef struct {
    const char *name;
    const char *help;  /* lines for --help, each starting with the name column aligned */
    int (*run)(repro *r);
} repro_experiment;

/* A report row: pass when |measured - theory| <= tol_abs or the theory lies in [lo, hi]. */
void repro_row(repro *r, const char *exp, const char *what, double theory, double measured, double lo, double hi,
               double tol_abs);
/* The same row with its verdict decided by the caller (ok) and the tolerance stated as text. */
void repro_row_text(repro *r, const char *exp, const char *what, double theory, double measured, double lo,
                    double hi, const char *tolerance, int ok);
/* repro_row, also into r->headline when the demo collects its summary. */
void repro_headline(repro *r, const char *exp, const char *what, double theory, double measured, double lo, double hi,
                    double tol_abs);

/* Split `line` (modified in place) at spaces into argv (max entries, NULL-terminated); argc. */
int repro_split(char *line, char **argv, int max);

/* `regimes clone EXTRA --samples N --seed S --quiet --out DIR/SUB`; the summary into *s (s->res
 * owned by the caller). N is r->samples or default_pairs when that is 0. */
int repro_clone(repro *r, const char *sub, const char *extra, size_t default_pairs, clone_summary *s);
/* The same for `regimes collapse` (N: the entropy samples; trajectories min(N, 500)). */
int repro_collapse(repro *r, const char *sub, const char *extra, size_t default_samples, collapse_summary *s);

/* phi curves of n clone runs (measured with its band, theory) in one PNG DIR/NAME; labels holds
 * 2 n strings (measured, theory per run); mode selects the label (0 common/ou, 1 difference). */
int repro_plot_phi(repro *r, const char *name, const char *title, size_t n, const clone_summary *s,
                   const char *const *labels, size_t mode);
/* A PNG DIR/NAME of n series; adds its image line to the report. */
int repro_plot(repro *r, const char *name, const char *title, const char *xlabel, const char *ylabel, size_t n,
               const rg_io_series *s);

/* The experiments (their files). */
int repro_speciation_gmm(repro *r);
int repro_multimodal_gmm(repro *r);
int repro_collapse_gmm(repro *r);
int repro_nonrev_gmm(repro *r);
int repro_mnist_exact(repro *r); /* reproduce_mnist.c */
int repro_mnist_trained(repro *r); /* reproduce_mnist.c: the same with trained networks */

/* nonrev-gmm pieces the demo reuses: the process flags; the mean-decay rows (rate[q], its interval
 * and the relaxation rate for Q = 0, Q_opt). */
#define REPRO_NONREV_BASE "--process nonrev --dim 64 --U diag:0.2:1.8 --mean-norm2 64 --sigma2 1"
int repro_nonrev_decay(repro *r, double rate[2], double lo[2], double hi[2], double theory[2]);

#endif
