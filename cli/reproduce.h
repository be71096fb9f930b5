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
#include "out.h"

typedef struct repro {
    FILE *md;          /* report.md being written: judged rows, plots, notes */
    FILE *notes;       /* the report-only rows, printed apart after the judged ones (NULL: into md) */
    const char *dir;   /* --out: every file of the reproduction goes under it */
    size_t samples;    /* --samples; 0: the experiment's default */
    uint64_t seed;     /* --seed */
    int threads;       /* --threads (0: OpenMP's default), passed on to every run */
    int rows, pass, undecided; /* judged rows, passed, undecided (interval too wide) */
    int quick;         /* --quick or regimes demo: an experiment may run its headline part only */
    struct repro *headline; /* regimes demo: the summary table its headline rows also go to, or NULL */
} repro;

typedef struct {
    const char *name;
    const char *help;  /* lines for --help, each starting with the name column aligned */
    int (*run)(repro *r);
} repro_experiment;

/* The one rule of every judged row (report.md states it): a measured value with its 95% interval
 * [lo, hi], the theory, and a model allowance a >= 0 stated for the quantity (what the theory leaves
 * out: e.g. the sampler's step error; 0 where the theory is exact for the experiment):
 *   pass       the theory lies in [lo - a, hi + a] and the interval resolves the effect:
 *              (hi - lo) / 2 <= resolve (resolve <= 0: no resolution asked)
 *   FAIL       the theory lies outside [lo - a, hi + a]
 *   undecided  the theory lies inside, but the interval is too wide to decide, or the interval could not
 *              be computed (too few bootstrap replicates cross): more samples needed
 * Only pass counts; report-only rows (no theory, or no claim) are listed apart and never counted. */
typedef struct {
    double allowance;  /* a, in the quantity's units */
    const char *why;   /* what the allowance covers, one phrase ("exact score: none") */
    double resolve;    /* the largest half-width that decides, in the quantity's units */
} repro_rule;
typedef enum { REPRO_PASS, REPRO_FAIL, REPRO_UNDECIDED } repro_verdict;

/* Judge one row by the rule; headline: also into r->headline (regimes demo's summary). */
repro_verdict repro_judge(repro *r, int headline, const char *exp, const char *what, double theory, double measured,
                          double lo, double hi, repro_rule rule);
/* A one-sided row: the claim is measured > 0 (sign = +1) or < 0 (sign = -1), e.g. "the deviation
 * shrinks as d grows": pass when the whole interval is on that side, FAIL when it is wholly on the
 * other, undecided otherwise. */
repro_verdict repro_judge_sign(repro *r, int headline, const char *exp, const char *what, int sign, double measured,
                               double lo, double hi);
/* A condition the method needs (a classifier's accuracy >= 0.99): met or not, counted like a row. */
void repro_condition(repro *r, const char *exp, const char *what, double measured, double threshold, int met);
/* A report-only row: a value, its interval (or NAN) and why it is not judged. */
void repro_report(repro *r, const char *exp, const char *what, double value, double lo, double hi, const char *why);
/* DIR/sub/meta.json of a run a reproduction makes itself (not through a command line): tool, version,
 * build, the experiment, seed, samples, ranks, threads, and params(j, ctx) as its "params" object. */
int repro_meta(const repro *r, const char *name, const char *sub, void (*params)(json *j, const void *ctx),
               const void *ctx);

/* The rule's text (top of every report); the judged table (its header, then the rows text) and the
 * report-only table (when notes is not empty). */
void repro_rule_text(FILE *f);
void repro_tables(FILE *f, const char *judged, const char *notes);
/* The crossing of the theory curve (column 4 + 4 mode of a clone summary's rows) at the 0.775 level on
 * the branch grid, interpolated as the measured crossing is (docs/math.md 8.1: like with like). */
double repro_grid_ts(const clone_summary *s, size_t mode);

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

/* The rows of one two-mode clone run (reproduce_gmm.c): t_S of each mode (resolving at 10% of t_S) and
 * the gap (resolving at a third of the gap it tests; a gap smaller than a third of gap_ref, the sweep's
 * reference gap, resolves at a third of gap_ref), all like with like on the branch grid. */
void repro_gap_rows(repro *r, int headline, const char *exp, const char *label, const clone_summary *s, double gap_ref);

/* The rows of one collapse run (reproduce_collapse.c): t_C and the other clocks reported against the
 * d -> infinity theory, the memorised fraction of the final samples judged (= 1). */
void collapse_rows(repro *r, const char *exp, const collapse_summary *s, size_t d, size_t P);

/* The collapse runs of collapse-gmm (the first n_runs of d = 256 and 1024 at P = 20000, then d = 256 at
 * P = 2000), their rows and, with both sizes, the judged finite-size row (headline: also into the demo's
 * summary). s (n_runs) receives the summaries (owned by the caller on success). */
int repro_collapse_runs(repro *r, int headline, const char *exp, size_t n_runs, size_t samples, collapse_summary *s);

/* The experiments (their files). */
int repro_speciation_gmm(repro *r);
int repro_multimodal_gmm(repro *r);
int repro_collapse_gmm(repro *r);
int repro_nonrev_gmm(repro *r);
int repro_mnist_exact(repro *r); /* reproduce_mnist.c */
int repro_mnist_trained(repro *r); /* reproduce_mnist.c: the same with trained networks */

/* nonrev-gmm pieces the demo reuses: the process flags; the mean-decay rows (Q = 0, Q_opt); the
 * collapse-shift rows of C_w number which_lo .. which_hi - 1 (0 I, 1 U^-1, 2 U). headline: the judged rows
 * also go to the demo's summary. */
#define REPRO_NONREV_BASE "--process nonrev --dim 64 --U diag:0.2:1.8 --mean-norm2 64 --sigma2 1"
int repro_nonrev_decay(repro *r, int headline);
int repro_nonrev_collapse(repro *r, int headline, size_t which_lo, size_t which_hi);

#endif
