/* regimes CLI: what sample, clone and collapse share once their flags are parsed (opts.h) and their
 * library values built (source.h): the horizon and time grid, the output directory, the progress bar,
 * and the rg_exp_run every experiment takes. */
#ifndef REGIMES_CLI_RUN_H
#define REGIMES_CLI_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "regimes/experiment.h"
#include "source.h"

/* A progress bar on stderr when stderr is a terminal and --quiet is absent (rank 0 only). */
typedef struct {
    const char *what;
    int on, shown;
    double t0, last, fraction;
} run_progress;
void run_progress_start(run_progress *p, const char *what, int quiet);
void run_progress_end(run_progress *p);
/* The experiment layer's progress callback (ctx: a run_progress). */
int run_progress_cb(void *ctx, double fraction);

/* One experiment's times and grid: T and t_end from the flags or the predictions, the grid holding the
 * extra times (branch, record). */
typedef struct {
    double T, t_end;
    double kappa_T;    /* the class signal left at T (env_signal_at); > 0.01 draws a warning */
    double *grid;      /* owned */
    size_t n_grid;
    run_progress progress;
    rg_exp_run run;    /* process, score, method, grid, seed, comm, progress of the experiment */
} run_setup;

/* T: --T, else the horizon of the predictions (kappa <= 0.01 beyond it) clamped to [4, 12] and at least
 * 1.5 t_S_max (t_S_max NAN: no such bound); with a schedule and --grid ddpm, at most its last time.
 * t_end: --t-end, else 1e-3. RG_OK or one line. */
int run_times(const cli_env *e, double t_s_max, double *T, double *t_end);
/* The grid of the flags on [t_end, T] with the n_extra times merged in, and r->run filled in. Sets the
 * OpenMP thread count. When the class signal kappa(T) exceeds the horizon level 0.01 (T below the
 * horizon: a given --T, or the clamp at 12), one warning line on stderr (rank 0). RG_OK or one line. */
int run_prepare(const cli_env *e, const char *what, const double *extra, size_t n_extra, run_setup *r);
void run_release(run_setup *r);

/* Create DIR (and parents) and check that it is writable; rank 0 only, all ranks agree. */
int run_outdir(const char *dir);
/* dir/name into buf (len bytes); RG_EINVAL when it does not fit. */
int run_path(char *buf, size_t len, const char *dir, const char *name);

/* Wall-clock seconds (monotonic). */
double run_now(void);

/* The help text of the shared experiment flags. */
void run_print_help(FILE *f);

#endif
