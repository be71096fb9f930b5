/* regimes CLI: the flags every experiment command shares (sample, clone, collapse, reproduce),
 * the split of argv between them and `regimes theory`'s process/data flags, the output
 * directory and a progress bar.
 *
 * An experiment command takes every `regimes theory` flag (the process and the data model, whose
 * predictions it reports beside its measurements) plus the flags below. run_parse pulls these out
 * of argv; the rest goes to theory_compute unchanged, so both share one parser and one set of
 * error messages. */
#ifndef REGIMES_CLI_RUN_H
#define REGIMES_CLI_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

typedef enum { RUN_EM, RUN_EXP, RUN_HEUN } run_method;
typedef enum { RUN_GRID_UNIFORM, RUN_GRID_GEOMETRIC, RUN_GRID_DDPM } run_grid;

typedef struct {
    uint64_t seed;          /* --seed (default 1) */
    size_t samples;         /* --samples: trajectories, or clone pairs per branch time */
    size_t steps;           /* --steps: reverse-time steps from T to t_end */
    double T, t_end;        /* --T, --t-end; NAN: the command's default */
    double *branch;         /* --branch-times (owned); NULL: the command's default */
    size_t n_branch;
    const char *out;        /* --out DIR */
    const char *train;      /* --train FILE.npy: the training set (collapse, empirical score) */
    int method, grid;       /* --method em|exp|heun, --grid uniform|geometric|ddpm */
    int trunk;              /* --trunk independent|shared (rg_sampler_trunk; clone only) */
    int threads;            /* --threads (0: OpenMP's default) */
    int quiet, json, help;
    int given_samples, given_steps;
} run_opts;

/* Parse the experiment flags of argv[1 ..) into ro (defaults: samples, steps as given here) and
 * the rest, as `regimes theory` flags, into th (theory_compute: process, data, predictions).
 * --json is the command's, never passed on. Returns CLI_OK or CLI_USAGE/CLI_FAIL after one line
 * (nothing to free then). ro->help set: --help was given, nothing else done. */
int run_parse(int argc, char **argv, size_t samples, size_t steps, run_opts *ro, theory_result *th);
void run_free(run_opts *ro, theory_result *th);

/* T and t_end from the flags, else the defaults: T = the theory horizon clamped to [4, 12] and at
 * least 1.5 t_S_max (t_S_max NAN: no such bound), t_end = 1e-3. CLI_OK, or CLI_USAGE after one
 * line when t_end >= T. */
int run_times(const run_opts *ro, const theory_result *th, double t_s_max, double *T, double *t_end);
/* The sampler's time grid for ro (--grid, --steps) on [t_end, T] holding the n_extra times extra:
 * *grid (owned by the caller), *n points. CLI_OK, or one line and CLI_USAGE/CLI_FAIL. */
int run_time_grid(const run_opts *ro, double T, double t_end, const double *extra, size_t n_extra, double **grid,
             size_t *n);

/* The help text of the shared experiment flags. */
void run_print_help(FILE *f);

/* Create DIR (and parents) and check that it is writable. CLI_OK or one line and CLI_USAGE. */
int run_outdir(const char *dir);
/* dir/name into buf (len bytes); CLI_USAGE when it does not fit. */
int run_path(char *buf, size_t len, const char *dir, const char *name);

/* A progress bar on stderr when stderr is a terminal and --quiet is absent (rank 0 only). */
typedef struct {
    const char *what;
    size_t total, done;
    int on, shown;
    double t0, last;
} run_progress;
void run_progress_start(run_progress *p, const char *what, size_t total, int quiet);
void run_progress_add(run_progress *p, size_t n);
void run_progress_end(run_progress *p);

/* Wall-clock seconds (monotonic), for meta.json and progress. */
double run_now(void);


/* meta.json of an experiment into dir, atomically: tool, version, build flags, command, the
 * argument vector verbatim (every parameter as given), the resolved seed/samples/steps/T/t_end,
 * ranks, threads and wall seconds. CLI_OK or one line and CLI_FAIL. */
int run_write_meta(const char *dir, const char *command, int argc, char **argv, const run_opts *ro,
                   double T, double t_end, double wall);

#endif
