/* regimes CLI: the subcommands and what reproduce and demo take from them.
 *
 * The CLI is a thin shell over libregimes: parse (opts.h), build library values (source.h), call one
 * rg_exp_* experiment, write files (out.h). Statuses are the library's (regimes/error.h), mapped to
 * the exit status once in main: 0 success, 1 runtime failure, 2 bad usage or bad input. */
#ifndef REGIMES_CLI_CLI_H
#define REGIMES_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "source.h"

#ifndef RG_VERSION
#define RG_VERSION "unknown"
#endif
#ifndef RG_BUILD_FLAGS
#define RG_BUILD_FLAGS "unknown"
#endif

/* The horizon level of docs/math.md 6.2: kappa <= 0.01 for every label beyond the horizon. */
#define CLI_HORIZON_LEVEL 0.01

/* `regimes theory` output (theory_out.c, theory_data.c): the readable table or the JSON object (schema in
 * docs/cli.md) of a mixture's or a data set's predictions; --help. */
int theory_print_table(const cli_env *e, FILE *f);
int theory_print_json(const cli_env *e, FILE *f);
int theory_table_data(const cli_env *e, FILE *f);
int theory_json_data(const cli_env *e, FILE *f);
void theory_print_help(FILE *f);
/* A number for a table: "%.6g", "none" for NAN, "inf" for INFINITY. buf holds >= 32 chars. */
const char *theory_num(double x, char *buf, size_t len);

/* Subcommands: argv[0] is the subcommand's name. Return a status (args.h: cli_exit_code). */
int cmd_theory(int argc, char **argv);
int cmd_demo(int argc, char **argv);
/* The measured demo (demo_run.c): report.md and plots under dir; samples 0: each step's default. */
int demo_run(const char *dir, uint64_t seed, int threads, size_t samples);
int cmd_train(int argc, char **argv);    /* cmd_train.c: regimes train (nn module) */
int cmd_sample(int argc, char **argv);   /* cmd_sample.c */
int cmd_clone(int argc, char **argv);    /* cmd_clone.c */
int cmd_reproduce(int argc, char **argv); /* cmd_reproduce.c */
int cmd_collapse(int argc, char **argv); /* cmd_collapse.c */
int cmd_schedule(int argc, char **argv); /* cmd_schedule.c: design a coupling schedule gamma(t) */

/* What one clone experiment measured (rank 0): res (m, 1 + 4 L) rows as in phi.csv, the first two
 * modes (owned: free). */
typedef struct {
    size_t m, L;
    double *res;
    double ts[2], ts_lo[2], ts_hi[2], ts_theory[2];
    double gap, gap_lo, gap_hi, gap_theory;
} clone_summary;
/* `regimes clone` on argv (argv[0] the command name), writing its files; sum filled when not NULL. */
int clone_main(int argc, char **argv, clone_summary *sum);

/* What one collapse experiment measured (rank 0); the arrays are the CSV files' rows (owned: free). */
typedef struct {
    size_t m, n_rec, P, N, trajectories;
    double *res;  /* (m, 5) entropy.csv: t, f, f_lo, f_hi, f_theory */
    double *mem;  /* (n_rec, 4) memorised.csv: t, memorised fraction of the denoised states, lo, hi */
    double *sw;   /* (n_rec, 2) switch.csv: t, fraction already on the final nearest point */
    double tc, tc_lo, tc_hi, tc_theory, tc_theory_f0, alpha;
    double sw_mean, sw_sd, mf, mf_lo, mf_hi; /* last switch; final-sample memorised fraction */
} collapse_summary;
/* `regimes collapse` on argv (argv[0] the command name), writing its files; sum filled when not NULL. */
int collapse_main(int argc, char **argv, collapse_summary *sum);
void collapse_summary_free(collapse_summary *s);

#endif
