/* regimes CLI: the flags of theory, sample, clone and collapse, in one table, parsed into plain values.
 *
 * Every flag belongs to a group; a command accepts the groups it lists (an option of another group is
 * refused in one line, never ignored). Parsing only checks syntax, ranges and combinations of flags:
 * nothing is read or computed here (files are opened by source.c, theory by the library). */
#ifndef REGIMES_CLI_OPTS_H
#define REGIMES_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "regimes/sampler.h"
#include "spec.h"

/* Option groups. */
enum {
    G_PROC = 1u << 0,    /* the forward process (--process, --gamma, --U, ...) */
    G_MIX = 1u << 1,     /* mixture data (--mean-norm2, --mc2, --sigma2, ...) */
    G_DATA = 1u << 2,    /* --data, --labels, --digits, --n-train, ... */
    G_NOISE = 1u << 3,   /* --noise */
    G_THEORY = 1u << 4,  /* theory only: --phi-times, --top */
    G_RUN = 1u << 5,     /* sampling: --seed, --samples, --steps, --T, --t-end, --method, --grid, ... */
    G_SCORE = 1u << 6,   /* --score, --model */
    G_LABEL = 1u << 7,   /* --labeller, --classifier */
    G_CLONE = 1u << 8,   /* --branch-times, --branch-steps, --trunk */
    G_COLLAPSE = 1u << 9 /* --entropy-times, --shard-train */
};
#define CMD_THEORY (G_PROC | G_MIX | G_DATA | G_NOISE | G_THEORY)
#define CMD_SAMPLE (G_PROC | G_MIX | G_DATA | G_NOISE | G_RUN | G_SCORE | G_LABEL)
#define CMD_CLONE (G_PROC | G_MIX | G_DATA | G_NOISE | G_RUN | G_SCORE | G_LABEL | G_CLONE)
#define CMD_COLLAPSE (G_PROC | G_MIX | G_DATA | G_NOISE | G_RUN | G_COLLAPSE)

typedef enum { DATA_GMM2, DATA_GMM4, DATA_NPY, DATA_MNIST, DATA_FASHION } data_kind;
typedef enum { SCORE_DEFAULT, SCORE_EXACT, SCORE_EMPIRICAL } score_kind;
typedef enum { LAB_DEFAULT, LAB_SIGN, LAB_GMM4, LAB_MIXTURE, LAB_MEAN, LAB_NEAREST, LAB_CLASSIFIER } lab_kind;

typedef struct {
    unsigned cmd;                   /* the command's groups */
    /* process and mixture (spec.h); o.dim == 0 until the data fix it for files */
    spec_opts o;
    const char *q_text;
    int given_dim, given_proc, given_data; /* --dim; any process flag; any data or mixture flag */
    /* data */
    data_kind data;
    const char *data_path, *labels_path, *mnist_dir;
    int digits[10];
    size_t n_digits;
    double rho;                     /* paired images under coupled */
    double n_train;                 /* 0: the default for the data and command */
    const char *noise;              /* --noise spec, or NULL */
    /* theory */
    double *phi_t;                  /* owned */
    size_t n_phi, top;
    /* sampling */
    uint64_t seed;
    size_t samples, steps;
    int given_samples, given_steps, given_grid, given_t;
    double T, t_end;                /* NAN: the command's default */
    rg_sampler_method method;
    rg_sampler_grid_kind grid;
    double *branch;                 /* owned, --branch-times; or the times of --branch-steps once resolved */
    size_t n_branch;
    size_t *branch_steps;           /* owned, --branch-steps (resolved by source.c with the schedule) */
    double *entropy_t;              /* owned */
    size_t n_entropy;
    int trunk;                      /* rg_sampler_trunk */
    int shard_train;                /* --shard-train S (0: not given): ranks per copy of the training set */
    int threads;
    const char *out;
    int quiet, json, help;
    score_kind score;
    const char *model, *classifier;
    lab_kind labeller;
} cli_args;

/* Parse argv[1 ..) for a command with groups cmd (samples, steps: the command's defaults). RG_OK, or
 * one line and a status (nothing to free then). a->help set: --help was given, nothing else done. */
int opts_parse(int argc, char **argv, unsigned cmd, size_t samples, size_t steps, cli_args *a);
void opts_free(cli_args *a);
/* Process flags only (the group G_PROC), for flags read from a file: any other flag, --help included, is
 * refused ("--out is not a process flag: refused"). */
int opts_parse_process(int argc, char **argv, cli_args *a);

/* 1 when the data are a Gaussian mixture (gmm2, gmm4), 0 for a data set. */
int opts_mixture(const cli_args *a);
/* Names for files and JSON. */
const char *opts_data_name(data_kind k);
const char *opts_method_name(rg_sampler_method m);
const char *opts_grid_name(rg_sampler_grid_kind g);

#endif
