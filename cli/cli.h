/* regimes CLI: subcommands and the result of `regimes theory`, shared by theory and demo.
 *
 * The CLI is a thin shell over libregimes: parse, build library objects, call them, format.
 * Exit statuses: 0 success, 1 runtime failure, 2 bad usage or bad input (args.h). */
#ifndef REGIMES_CLI_CLI_H
#define REGIMES_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spec.h"

#ifndef RG_VERSION
#define RG_VERSION "unknown"
#endif
#ifndef RG_BUILD_FLAGS
#define RG_BUILD_FLAGS "unknown"
#endif

/* The horizon level of MATH.md 6.2: kappa <= 0.01 for every label beyond the horizon. */
#define CLI_HORIZON_LEVEL 0.01
/* Default number of training points for t_C (the parent paper's P). */
#define CLI_DEFAULT_N_TRAIN 20000.0

typedef struct {
    char name[32];               /* "ou", "common", "difference", "mode0", ... */
    double rate, rate_imag;      /* eigenvalue of the core drift */
    double t_s;                  /* per-mode GMM-exact speciation time; NAN: none or undefined */
} theory_mode;

/* Everything `regimes theory` reports. NAN marks an absent value (JSON null); horizon may be
 * INFINITY (kappa still above the level at t = 200; JSON null). */
typedef struct {
    spec_opts o;
    const char *q_text;          /* the --Q argument as given ("zero", "optimal" or a path) */
    double n_train;
    int json;
    spec_built b;
    double relaxation_rate, t_s, t_s_matrix, t_s_parent, t_c, sync_gap, horizon;
    double t_s_label[2], t_s_matrix_label[2];
    double horizon_min;          /* 1 / (2 r): the horizon must be much larger (MATH.md 7.4, 3) */
    double gamma_lo, gamma_hi;   /* coupled, symmetric forms: the stable range of gamma, else NAN */
    double gamma_equal;          /* coupled, symmetric forms: gamma* equalising both modes, or NAN */
    size_t n_phi;                /* --phi-times: phi of every label at n_phi times */
    double *phi_t, *phi;         /* (n_phi) times; (n_labels, n_phi) values */
    size_t n_modes;
    theory_mode *modes;
} theory_result;

/* Parse argv[first ..) as `regimes theory` flags, build and compute everything into r.
 * Returns RG_OK, or RG_EINVAL / RG_EIO after one line on stderr (r is then already freed).
 * *help is set when --help was given (nothing else is done then). */
int theory_compute(int argc, char **argv, int first, theory_result *r, int *help);
void theory_result_free(theory_result *r);

/* Output (theory_out.c): the readable table, the JSON object (schema in docs/cli.md), --help. */
void theory_print_table(const theory_result *r, FILE *f);
void theory_print_json(const theory_result *r, FILE *f);
void theory_print_help(FILE *f);
/* A number for a table: "%.6g", "none" for NAN, "inf" for INFINITY. buf holds >= 32 chars. */
const char *theory_num(double x, char *buf, size_t len);

/* JSON pieces: a number with round-trip precision (null for NaN/Inf), an escaped string. */
void cli_json_num(FILE *f, double x);
void cli_json_str(FILE *f, const char *s);

/* Image data for `regimes theory` (theory_mnist.c): 1 if argv asks for --data mnist|fashion;
 * the command for that case; its --help section. */
int theory_data_is_images(int argc, char **argv);
int theory_mnist(int argc, char **argv);
void theory_mnist_help(FILE *f);

/* Subcommands: argv[0] is the subcommand's name. Return the exit status. */
int cmd_theory(int argc, char **argv);
int cmd_demo(int argc, char **argv);
/* The measured demo (demo_run.c): report.md and plots under dir; samples 0: each step's default. */
int demo_run(const char *dir, uint64_t seed, int threads, size_t samples);
int cmd_train(int argc, char **argv); /* cmd_train.c: regimes train (nn module) */
int cmd_sample(int argc, char **argv);   /* cmd_sample.c */
int cmd_clone(int argc, char **argv);    /* cmd_clone.c */
/* What one clone experiment measured (rank 0): res (m, 1 + 4 L) rows as in phi.csv (owned: free). */
typedef struct {
    size_t m, L;
    double *res;
    double ts[2], ts_lo[2], ts_hi[2], ts_theory[2];
    double gap, gap_lo, gap_hi, gap_theory;
} clone_summary;
/* `regimes clone` on argv (argv[0] the command name), writing its files; sum filled when not NULL. */
int clone_main(int argc, char **argv, clone_summary *sum);
int cmd_reproduce(int argc, char **argv); /* cmd_reproduce.c */
int cmd_collapse(int argc, char **argv); /* cmd_collapse.c */
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
int cmd_schedule(int argc, char **argv); /* cmd_schedule.c: design a coupling schedule gamma(t) */

#endif
