/* regimes CLI: from parsed flags (opts.h) to the library values an experiment takes: the data (a
 * mixture, a .npy file, MNIST), the process (its dimension taken from the data), the noise schedule,
 * the predictions that place default times, the score and the labeller. Library calls only. */
#ifndef REGIMES_CLI_SOURCE_H
#define REGIMES_CLI_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "regimes/data.h"
#include "regimes/experiment.h"
#include "regimes/nn.h"
#include "regimes/noise.h"
#include "regimes/score.h"
#include "regimes/theory.h"
#include "opts.h"
#include "spec.h"

/* What env_open builds beyond the data, process and predictions. */
enum { ENV_SCORE = 1, ENV_LABELLER = 2 };

typedef struct {
    const cli_args *a;
    spec_opts o;                  /* the process and mixture options in effect (dimension filled in) */
    spec_built b;                 /* process; for mixtures also the theory data of rg_theory_* */
    size_t N;                     /* state dimension */
    rg_noise *noise;              /* --noise (or ddpm-linear for --grid ddpm / --branch-steps), else NULL */
    /* mixture data */
    rg_data_gmm *g;
    double *m;                    /* gmm2: m (N); gmm4: m_c then m_d (N/2 each) */
    rg_exp_theory_result th;      /* mixture predictions */
    rg_theory_plan *plan;         /* the mixture's theory plan, for the curves beside measurements */
    /* data sets (and the training set of a mixture's empirical score) */
    rg_data_set *X;
    size_t P_all, row_lo;         /* the training set's rows; X holds rows [row_lo, row_lo + X->P) of them
                                   * (--shard-train: this rank's rows only; else all, row_lo = 0) */
    int *labels;                  /* (P) classes 0 .. n_classes - 1, or NULL */
    size_t n_classes;
    double *offset;               /* images: the per-pixel mean subtracted (784), added back to classify */
    size_t views;                 /* images per row: 1, or 2 for paired images */
    rg_theory_dataset *ds;
    rg_theory_dataset_times dt;
    double lambda_c, lambda_d;    /* paired images: top eigenvalues of the u and v covariances */
    char sha_data[65], sha_labels[65]; /* input files' sha256 (hex), "" when none */
    /* predictions that place the defaults: per label (mixture) or of the data set */
    size_t n_pred;
    double t_s[4], t_c, horizon;  /* NAN: none */
    /* score and labeller (when asked for) */
    rg_score_gmm *sg;
    rg_score_emp *se;
    rg_nn_model *net;
    double *net_mean;             /* the training mean of a --model network (N), or NULL */
    char *net_meta;               /* the metadata of a --model network (model.h), or NULL */
    rg_nn_score_ctx nctx;
    rg_score score;
    const char *score_name;       /* "mixture", "empirical", "network" */
    rg_exp_labeller lab;
    rg_nn_model *clf;
    double clf_acc;               /* held-out accuracy of an in-process classifier, else NAN */
    const char *lab_name;
} cli_env;

/* Read the data, build the process, the schedule and the predictions, then what `what` asks for.
 * RG_OK, or one line and a status (e is then closed). */
int env_open(const cli_args *a, unsigned what, cli_env *e);
void env_close(cli_env *e);
/* opts_parse (argv[0] is skipped, --help refused) and env_open: for reproduce and demo, whose runs are
 * command lines. On failure nothing is left to free; else opts_free(a) and env_close(e). */
int env_from_args(int argc, char **argv, unsigned cmd, unsigned what, cli_args *a, cli_env *e);

/* One experiment command: opts_parse (with the command's groups and default --samples, --steps),
 * --help, env_open (what), run, env_close. run gets the env, argv (for meta.json), ctx and the start
 * time. */
typedef int (*env_run_fn)(const cli_env *e, int argc, char **argv, void *ctx, double t0);
int env_command(int argc, char **argv, unsigned cmd, size_t samples, size_t steps, unsigned what,
                void (*help)(FILE *), env_run_fn run, void *ctx);

/* docs/math.md 8.4, images: an MLP 784-256-K trained on every image of the digits in dir's training split
 * (3 epochs of Adam), its accuracy on the test split's images of those digits; n_train, n_test (or
 * NULL): the counts. Labels are indices into digits. */
int source_classifier(const char *dir, const int *digits, size_t nd, uint64_t seed, rg_nn_model **m, double *acc,
                      size_t *n_train, size_t *n_test);

/* The training split's two IDX files (plain or .gz) in dir must be readable regular files: a wrong
 * directory, a FIFO or a device is bad input (one line, RG_EINVAL), not a runtime failure. */
int source_mnist_check(const char *dir, int fashion);

/* t as a step of the schedule (the first k with t_k >= t), or -1 without a schedule or beyond it. */
long env_step(const cli_env *e, double t);

/* Theory curves for the experiments: phi of mode l at t (mixtures: docs/math.md 7.2 per label; labelled
 * two-class data: phi(kappa_t) of the class means; other data: phi(lambda_max(K_t)), the Gaussian
 * reference) and the collapse f(t) (mode ignored). ctx is the cli_env. */
int env_phi(void *ctx, size_t mode, double t, double *phi);
int env_collapse_f(void *ctx, size_t mode, double t, double *f);
/* The class signal left at time t, which the prior N(0, Sigma_inf) ignores (docs/math.md 6.2): the
 * largest kappa_l(t) of a mixture's labels, lambda_max(K_t) of a data set; NAN without predictions. */
int env_signal_at(const cli_env *e, double t, double *kappa);
/* 1 when env_phi has a curve for mode l of the labeller. */
int env_has_phi(const cli_env *e, size_t mode);

#endif
