/* The flag table of theory, sample, clone and collapse, and its parser (opts.h). */
#include "opts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/experiment.h"
#include "args.h"

enum {
    O_PROCESS, O_GAMMA, O_COUPLING, O_GXY, O_GYX, O_RX, O_RY, O_SCHEDULE, O_DIM, O_U, O_Q, O_QSCALE, O_A,
    O_MEANNORM2, O_MEANDIR, O_MC2, O_MD2, O_SIGMA2, O_CW,
    O_DATA, O_LABELS, O_DIGITS, O_MDIR, O_RHO, O_NTRAIN, O_NOISE, O_PHITIMES, O_TOP,
    O_SEED, O_SAMPLES, O_STEPS, O_T, O_TEND, O_METHOD, O_GRID, O_THREADS, O_OUT, O_QUIET,
    O_SCORE, O_MODEL, O_LABELLER, O_CLASSIFIER, O_BRANCH, O_BSTEPS, O_TRUNK, O_ENTROPY, O_SHARD, O_JSON, O_HELP, O_COUNT
};

#define P_OU (1u << RG_PROCESS_OU)
#define P_CO (1u << RG_PROCESS_COUPLED)
#define P_NR (1u << RG_PROCESS_NONREV)
#define P_GE (1u << RG_PROCESS_GENERAL)
#define P_ALL (P_OU | P_CO | P_NR | P_GE)
#define G_ANY 0u /* every command */

static const struct {
    const char *name;
    int has_arg;
    unsigned group, procs;
} OPT[O_COUNT] = {
    [O_PROCESS] = { "--process", 1, G_PROC, P_ALL },   [O_GAMMA] = { "--gamma", 1, G_PROC, P_CO },
    [O_COUPLING] = { "--coupling", 1, G_PROC, P_CO },  [O_GXY] = { "--gamma-xy", 1, G_PROC, P_CO },
    [O_GYX] = { "--gamma-yx", 1, G_PROC, P_CO },       [O_RX] = { "--rate-x", 1, G_PROC, P_CO },
    [O_RY] = { "--rate-y", 1, G_PROC, P_CO },          [O_SCHEDULE] = { "--schedule", 1, G_PROC, P_CO },
    [O_DIM] = { "--dim", 1, G_PROC, P_ALL },           [O_U] = { "--U", 1, G_PROC, P_NR },
    [O_Q] = { "--Q", 1, G_PROC, P_NR },                [O_QSCALE] = { "--q-scale", 1, G_PROC, P_NR },
    [O_A] = { "--A", 1, G_PROC, P_GE },
    [O_MEANNORM2] = { "--mean-norm2", 1, G_MIX, P_OU | P_NR | P_GE },
    [O_MEANDIR] = { "--mean-dir", 1, G_MIX, P_NR | P_GE }, [O_MC2] = { "--mc2", 1, G_MIX, P_CO },
    [O_MD2] = { "--md2", 1, G_MIX, P_CO },             [O_SIGMA2] = { "--sigma2", 1, G_MIX, P_ALL },
    [O_CW] = { "--cw", 1, G_MIX, P_NR | P_GE },
    [O_DATA] = { "--data", 1, G_DATA, P_ALL },         [O_LABELS] = { "--labels", 1, G_DATA, P_ALL },
    [O_DIGITS] = { "--digits", 1, G_DATA, P_ALL },     [O_MDIR] = { "--mnist-dir", 1, G_DATA, P_ALL },
    [O_RHO] = { "--rho", 1, G_DATA, P_CO },            [O_NTRAIN] = { "--n-train", 1, G_DATA, P_ALL },
    [O_NOISE] = { "--noise", 1, G_NOISE, P_ALL },      [O_PHITIMES] = { "--phi-times", 1, G_THEORY, P_ALL },
    [O_TOP] = { "--top", 1, G_THEORY, P_ALL },
    [O_SEED] = { "--seed", 1, G_RUN, P_ALL },          [O_SAMPLES] = { "--samples", 1, G_RUN, P_ALL },
    [O_STEPS] = { "--steps", 1, G_RUN, P_ALL },        [O_T] = { "--T", 1, G_RUN, P_ALL },
    [O_TEND] = { "--t-end", 1, G_RUN, P_ALL },         [O_METHOD] = { "--method", 1, G_RUN, P_ALL },
    [O_GRID] = { "--grid", 1, G_RUN, P_ALL },          [O_THREADS] = { "--threads", 1, G_RUN, P_ALL },
    [O_OUT] = { "--out", 1, G_RUN, P_ALL },            [O_QUIET] = { "--quiet", 0, G_RUN, P_ALL },
    [O_SCORE] = { "--score", 1, G_SCORE, P_ALL },      [O_MODEL] = { "--model", 1, G_SCORE, P_ALL },
    [O_LABELLER] = { "--labeller", 1, G_LABEL, P_ALL }, [O_CLASSIFIER] = { "--classifier", 1, G_LABEL, P_ALL },
    [O_BRANCH] = { "--branch-times", 1, G_CLONE, P_ALL }, [O_BSTEPS] = { "--branch-steps", 1, G_CLONE, P_ALL },
    [O_TRUNK] = { "--trunk", 1, G_CLONE, P_ALL },      [O_ENTROPY] = { "--entropy-times", 1, G_COLLAPSE, P_ALL },
    [O_SHARD] = { "--shard-train", 1, G_COLLAPSE, P_ALL },
    [O_JSON] = { "--json", 0, G_ANY, P_ALL },          [O_HELP] = { "--help", 0, G_ANY, P_ALL },
};

static const char *const PROCESS_NAMES[] = { "ou", "coupled", "nonrev", "general", NULL };
static const char *const COUPLING_NAMES[] = { "cross", "diffusive", NULL };
static const char *const DATA_NAMES[] = { "gmm2", "gmm4", "npy", "mnist", "fashion", NULL };
static const char *const METHOD_NAMES[] = { "em", "exp", "heun", NULL };
static const char *const GRID_NAMES[] = { "uniform", "geometric", "ddpm", NULL };
static const char *const SCORE_NAMES[] = { "default", "exact", "empirical", NULL };
static const char *const LAB_NAMES[] = { "default", "sign", "gmm4", "mixture", "mean", "nearest", "classifier", NULL };
static const char *const TRUNK_NAMES[] = { "independent", "shared", NULL };

/* Largest dimensions: 2x2 algebra takes any d; dense processes are O(d^3) per time point. */
#define DIM_MAX_KRON ((size_t)1000000000000ull)

static const cli_range R_ANY = { -INFINITY, INFINITY, 1, 1 };
static const cli_range R_POS = { 0.0, INFINITY, 1, 1 };

const char *opts_data_name(data_kind k) { return DATA_NAMES[k]; }
const char *opts_method_name(rg_sampler_method m) { return METHOD_NAMES[m]; }
const char *opts_grid_name(rg_sampler_grid_kind g) { return GRID_NAMES[g]; }
int opts_mixture(const cli_args *a) { return a->data == DATA_GMM2 || a->data == DATA_GMM4; }

void opts_free(cli_args *a)
{
    free(a->phi_t), free(a->branch), free(a->branch_steps), free(a->entropy_t);
    a->phi_t = a->branch = a->entropy_t = NULL;
    a->branch_steps = NULL;
}

static int opt_double(const cli_opt *v, int id, cli_range r, double *out)
{
    return v[id].value ? cli_parse_double(OPT[id].name, v[id].value, r, out) : RG_OK;
}

static int opt_size(const cli_opt *v, int id, size_t lo, size_t hi, size_t *out)
{
    return v[id].value ? cli_parse_size(OPT[id].name, v[id].value, lo, hi, out) : RG_OK;
}

static int opt_choice(const cli_opt *v, int id, const char *const *words, int *out)
{
    return v[id].value ? cli_parse_choice(OPT[id].name, v[id].value, words, out) : RG_OK;
}

static int process_only; /* opts_parse_process: a flag of another group is data that is not a process flag */

/* Every given option must belong to the command and apply to the process. */
static int check_groups(const cli_opt *v, unsigned cmd, rg_process_kind kind, cli_args *a)
{
    for (int i = 0; i < O_COUNT; i++) {
        if (!v[i].value) continue;
        a->given_proc |= OPT[i].group == G_PROC;
        a->given_data |= OPT[i].group == G_DATA || OPT[i].group == G_MIX;
        if (OPT[i].group != G_PROC && process_only) return cli_usage("%s is not a process flag: refused", OPT[i].name);
        if (OPT[i].group && !(OPT[i].group & cmd))
            return cli_usage("%s does not apply to %s (see --help)", OPT[i].name, cli_command());
        if (!(OPT[i].procs & (1u << kind)))
            return cli_usage("%s does not apply to --process %s", OPT[i].name, PROCESS_NAMES[kind]);
    }
    return RG_OK;
}

static int parse_coupled(const cli_opt *v, spec_opts *o)
{
    int form = 0;
    o->aniso = v[O_GXY].value || v[O_GYX].value || v[O_RX].value || v[O_RY].value;
    if (opt_choice(v, O_COUPLING, COUPLING_NAMES, &form)) return RG_EINVAL;
    o->coupling = form ? RG_COUPLING_DIFFUSIVE : RG_COUPLING_CROSS;
    o->schedule = v[O_SCHEDULE].value;
    if (o->schedule && (v[O_GAMMA].value || o->aniso))
        return cli_usage("--schedule gives gamma(t) itself: drop --gamma, --gamma-xy, --gamma-yx, --rate-x, --rate-y");
    if (o->aniso && v[O_COUPLING].value)
        return cli_usage("--coupling does not combine with --gamma-xy/--gamma-yx/--rate-x/--rate-y "
                         "(they give M = [[a_x, -g_xy], [-g_yx, a_y]] directly)");
    /* The stability bound of each symmetric form (docs/math.md 3.2); anisotropic M is checked whole. */
    cli_range rg = R_ANY;
    if (!o->aniso) rg = form ? (cli_range){ -0.5, INFINITY, 1, 1 } : (cli_range){ -1.0, 1.0, 1, 1 };
    int st = opt_double(v, O_GAMMA, rg, &o->gamma);
    o->a_x = o->a_y = 1.0;
    o->g_xy = o->g_yx = o->gamma;
    if (!st) st = opt_double(v, O_RX, R_ANY, &o->a_x);
    if (!st) st = opt_double(v, O_RY, R_ANY, &o->a_y);
    if (!st) st = opt_double(v, O_GXY, R_ANY, &o->g_xy);
    return st ? st : opt_double(v, O_GYX, R_ANY, &o->g_yx);
}

static int parse_dense(const cli_opt *v, cli_args *a)
{
    spec_opts *o = &a->o;
    if (o->kind == RG_PROCESS_NONREV) {
        o->U = v[O_U].value ? v[O_U].value : "diag:0.2:1.8";
        if (strncmp(o->U, "diag:", 5) == 0 && !v[O_DIM].value && opts_mixture(a)) o->dim = 64;
        const char *q = v[O_Q].value ? v[O_Q].value : "zero";
        a->q_text = q;
        o->q = strcmp(q, "zero") == 0 ? SPEC_Q_ZERO : strcmp(q, "optimal") == 0 ? SPEC_Q_OPTIMAL : SPEC_Q_FILE;
        o->q_file = q;
        o->q_scale = 1.0;
        if (opt_double(v, O_QSCALE, R_ANY, &o->q_scale)) return RG_EINVAL;
    } else if (!v[O_A].value) {
        return cli_usage("--process general needs --A FILE (the drift matrix)");
    }
    o->A = v[O_A].value;
    o->mean_dir = v[O_MEANDIR].value ? v[O_MEANDIR].value : "ones";
    o->cw = v[O_CW].value ? v[O_CW].value : "I";
    return RG_OK;
}

/* --digits LIST: distinct digits 0-9. */
static int parse_digits(const char *s, cli_args *a)
{
    double *dig = NULL;
    int st = cli_parse_list("--digits", s, (cli_range){ 0, 9, 0, 0 }, &dig, &a->n_digits);
    if (!st && a->n_digits > 10) st = cli_usage("--digits wants at most ten distinct digits 0-9");
    for (size_t i = 0; i < a->n_digits && !st; i++) {
        a->digits[i] = (int)dig[i];
        if (dig[i] != a->digits[i]) st = cli_usage("--digits wants whole digits 0-9, got %g", dig[i]);
        for (size_t j = 0; j < i && !st; j++)
            if (a->digits[j] == a->digits[i]) st = cli_usage("--digits: %d given twice", a->digits[i]);
    }
    free(dig);
    return st;
}

/* --data and what belongs to it. */
static int parse_source(const cli_opt *v, cli_args *a)
{
    const char *d = v[O_DATA].value;
    const int coupled = a->o.kind == RG_PROCESS_COUPLED;
    a->data = coupled ? DATA_GMM4 : DATA_GMM2;
    if (d && !strcmp(d, "gmm2")) a->data = DATA_GMM2;
    else if (d && !strcmp(d, "gmm4")) a->data = DATA_GMM4;
    else if (d && !strcmp(d, "mnist")) a->data = DATA_MNIST;
    else if (d && !strcmp(d, "fashion")) a->data = DATA_FASHION;
    else if (d) a->data = DATA_NPY, a->data_path = d;
    if (a->data == DATA_GMM4 && !coupled) return cli_usage("--data gmm4 needs --process coupled (two modalities)");
    if (a->data == DATA_GMM2 && coupled)
        return cli_usage("--data gmm2 is one-modality data; --process coupled takes --data gmm4");
    const int images = a->data == DATA_MNIST || a->data == DATA_FASHION;
    a->labels_path = v[O_LABELS].value;
    if (a->labels_path && a->data != DATA_NPY) return cli_usage("--labels goes with --data FILE.npy");
    if ((v[O_DIGITS].value || v[O_RHO].value) && !images) return cli_usage("--digits and --rho need --data mnist|fashion");
    if (v[O_MDIR].value && a->data != DATA_MNIST) return cli_usage("--mnist-dir needs --data mnist");
    a->mnist_dir = v[O_MDIR].value ? v[O_MDIR].value : "data/mnist";
    a->rho = 1.0;
    if (opt_double(v, O_RHO, (cli_range){ 0, 1, 0, 0 }, &a->rho)) return RG_EINVAL;
    if (images && parse_digits(v[O_DIGITS].value ? v[O_DIGITS].value : "1,8", a)) return RG_EINVAL;
    if (images && coupled && a->n_digits != 2) return cli_usage("paired images (--process coupled) need exactly two --digits");
    if (!opts_mixture(a))
        for (int i = O_MEANNORM2; i <= O_CW; i++)
            if (v[i].value) return cli_usage("%s describes mixture data; it does not apply to --data %s", OPT[i].name, d);
    if (opt_double(v, O_NTRAIN, (cli_range){ 1.0, INFINITY, 0, 1 }, &a->n_train)) return RG_EINVAL;
    if (!opts_mixture(a) && a->n_train > 0 && (a->n_train != floor(a->n_train) || a->n_train < 2))
        return cli_usage("--n-train wants a whole number of rows >= 2 for --data %s", d);
    a->noise = v[O_NOISE].value;
    return RG_OK;
}

static int parse_mixture(const cli_opt *v, spec_opts *o)
{
    o->mc2 = o->md2 = 25.0;
    o->sigma2 = 1.0;
    o->mean_norm2 = 0.0; /* spec_build: the dimension N */
    int st = opt_double(v, O_SIGMA2, R_POS, &o->sigma2);
    if (!st) st = opt_double(v, O_MC2, R_POS, &o->mc2);
    if (!st) st = opt_double(v, O_MD2, R_POS, &o->md2);
    return st ? st : opt_double(v, O_MEANNORM2, R_POS, &o->mean_norm2);
}

/* The process flags (and the mixture's, which share spec_opts). */
static int parse_process(const cli_opt *v, cli_args *a)
{
    spec_opts *o = &a->o;
    int kind = 0;
    if (opt_choice(v, O_PROCESS, PROCESS_NAMES, &kind)) return RG_EINVAL;
    o->kind = (rg_process_kind)kind;
    if (check_groups(v, a->cmd, o->kind, a)) return RG_EINVAL;
    int st = parse_source(v, a);
    const int kron = o->kind == RG_PROCESS_OU || o->kind == RG_PROCESS_COUPLED;
    o->dim = kron && opts_mixture(a) ? 1000 : 0; /* data sets: the file decides */
    a->given_dim = v[O_DIM].value != NULL;
    if (!st) st = opt_size(v, O_DIM, 1, kron ? DIM_MAX_KRON : SPEC_DIM_MAX, &o->dim);
    if (!st && o->kind == RG_PROCESS_COUPLED) st = parse_coupled(v, o);
    if (!st && !kron) st = parse_dense(v, a);
    o->gmm4 = a->data == DATA_GMM4;
    return st ? st : parse_mixture(v, o);
}

static int parse_times(const cli_opt *v, cli_args *a)
{
    size_t sz;
    int st = RG_OK;
    if (v[O_SEED].value) {
        st = cli_parse_size("--seed", v[O_SEED].value, 0, (size_t)UINT64_MAX, &sz);
        a->seed = (uint64_t)sz;
    }
    a->given_samples = v[O_SAMPLES].value != NULL, a->given_steps = v[O_STEPS].value != NULL;
    if (!st) st = opt_size(v, O_SAMPLES, 1, (size_t)1 << 31, &a->samples);
    if (!st) st = opt_size(v, O_STEPS, 1, 1000000, &a->steps);
    if (!st) st = opt_double(v, O_T, R_POS, &a->T);
    if (!st) st = opt_double(v, O_TEND, (cli_range){ 0.0, INFINITY, 0, 1 }, &a->t_end);
    a->given_t = v[O_T].value != NULL;
    if (!st && !isnan(a->T) && !isnan(a->t_end) && a->t_end >= a->T)
        st = cli_usage("--t-end (%g) must be below --T (%g)", a->t_end, a->T);
    int m = RG_SAMPLER_EXP, g = RG_GRID_GEOMETRIC, tr = RG_TRUNK_INDEPENDENT;
    a->given_grid = v[O_GRID].value != NULL;
    if (!st) st = opt_choice(v, O_METHOD, METHOD_NAMES, &m);
    if (!st) st = opt_choice(v, O_GRID, GRID_NAMES, &g);
    if (!st) st = opt_choice(v, O_TRUNK, TRUNK_NAMES, &tr);
    a->method = (rg_sampler_method)m, a->grid = (rg_sampler_grid_kind)g, a->trunk = tr;
    if (!st && a->noise && !a->given_grid) a->grid = RG_GRID_DDPM; /* the schedule's own steps */
    if (!st && a->grid == RG_GRID_DDPM && a->given_steps)
        st = cli_usage("--steps does not apply to --grid ddpm (the schedule's steps are the grid)");
    if (!st && v[O_SHARD].value) { /* docs/scale.md: S ranks share one copy of the training set */
        st = cli_parse_size("--shard-train", v[O_SHARD].value, 1, 1 << 20, &sz);
        a->shard_train = (int)sz;
    }
    if (!st && v[O_THREADS].value) {
        st = cli_parse_size("--threads", v[O_THREADS].value, 1, 1024, &sz);
        a->threads = (int)sz;
    }
    return st;
}

/* Ascending lists of branch / entropy times or steps. */
static int parse_lists(const cli_opt *v, cli_args *a)
{
    int st = RG_OK;
    if (v[O_BRANCH].value && v[O_BSTEPS].value) return cli_usage("give --branch-times or --branch-steps, not both");
    if (v[O_BRANCH].value) st = cli_parse_list("--branch-times", v[O_BRANCH].value, R_POS, &a->branch, &a->n_branch);
    if (!st && v[O_BSTEPS].value) {
        double *s = NULL;
        st = cli_parse_list("--branch-steps", v[O_BSTEPS].value, (cli_range){ 0, 1e9, 0, 0 }, &s, &a->n_branch);
        a->branch_steps = st ? NULL : malloc(a->n_branch * sizeof *a->branch_steps);
        if (!st && !a->branch_steps) st = cli_nomem("out of memory for --branch-steps");
        for (size_t i = 0; i < a->n_branch && !st; i++) {
            a->branch_steps[i] = (size_t)s[i];
            if (s[i] != floor(s[i])) st = cli_usage("--branch-steps wants step indices (integers), got %g", s[i]);
        }
        free(s);
    }
    for (size_t i = 1; i < a->n_branch && !st; i++)
        if (a->branch ? !(a->branch[i] > a->branch[i - 1]) : a->branch_steps[i] <= a->branch_steps[i - 1])
            st = cli_usage("--branch-%s must increase", a->branch ? "times" : "steps");
    for (size_t i = 0; a->branch && i < a->n_branch && !st; i++)
        if (!isnan(a->T) && a->branch[i] >= a->T)
            st = cli_usage("--branch-times: %g is not below --T (%g)", a->branch[i], a->T);
    if (!st && v[O_ENTROPY].value)
        st = cli_parse_list("--entropy-times", v[O_ENTROPY].value, R_POS, &a->entropy_t, &a->n_entropy);
    for (size_t i = 1; i < a->n_entropy && !st; i++)
        if (!(a->entropy_t[i] > a->entropy_t[i - 1])) st = cli_usage("--entropy-times must increase");
    if (!st && a->entropy_t && a->n_entropy < 2) st = cli_usage("--entropy-times wants at least two times");
    return st;
}

static int parse_score(const cli_opt *v, cli_args *a)
{
    int s = SCORE_DEFAULT, l = LAB_DEFAULT;
    if (opt_choice(v, O_SCORE, SCORE_NAMES, &s) || opt_choice(v, O_LABELLER, LAB_NAMES, &l)) return RG_EINVAL;
    a->score = (score_kind)s, a->labeller = (lab_kind)l;
    a->model = v[O_MODEL].value, a->classifier = v[O_CLASSIFIER].value;
    const int mix = opts_mixture(a);
    if (a->model && a->score != SCORE_DEFAULT) return cli_usage("--model and --score exclude each other");
    if (a->score == SCORE_EXACT && !mix)
        return cli_usage("--score exact is the mixture's closed form; --data %s takes the empirical score", a->data_path ? a->data_path : opts_data_name(a->data));
    if (a->n_train > 0 && mix && (a->cmd & G_SCORE) && a->score != SCORE_EMPIRICAL)
        return cli_usage("--n-train sets the training set of --score empirical; the exact mixture score has none");
    if (a->classifier && l != LAB_DEFAULT && l != LAB_CLASSIFIER)
        return cli_usage("--classifier goes with --labeller classifier");
    if (a->classifier) a->labeller = LAB_CLASSIFIER;
    if ((l == LAB_SIGN && a->data != DATA_GMM2) || (l == LAB_GMM4 && a->data != DATA_GMM4) || (l == LAB_MIXTURE && !mix))
        return cli_usage("--labeller %s needs --data %s", LAB_NAMES[l], l == LAB_GMM4 ? "gmm4" : l == LAB_SIGN ? "gmm2" : "gmm2|gmm4");
    if ((l == LAB_MEAN || l == LAB_NEAREST) && (mix || (a->data == DATA_NPY && !a->labels_path)))
        return cli_usage("--labeller %s needs labelled data (--labels FILE.npy, or mnist|fashion)", LAB_NAMES[l]);
    if (l == LAB_CLASSIFIER && !a->classifier && a->data != DATA_MNIST && a->data != DATA_FASHION)
        return cli_usage("--labeller classifier needs --classifier FILE (or --data mnist|fashion, which trains one)");
    if ((a->cmd & G_CLONE) && a->method == RG_SAMPLER_HEUN)
        return cli_usage("--method heun is deterministic: clones cannot branch (use em or exp)");
    return RG_OK;
}

/* The command's flag table as cli_opt values. */
static int scan(int argc, char **argv, cli_opt *v)
{
    for (int i = 0; i < O_COUNT; i++) v[i] = (cli_opt){ OPT[i].name, OPT[i].has_arg, NULL };
    return cli_scan(argc, argv, 1, v, O_COUNT);
}

int opts_parse(int argc, char **argv, unsigned cmd, size_t samples, size_t steps, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd, a->seed = 1, a->samples = samples, a->steps = steps, a->T = a->t_end = NAN;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) {
            a->help = 1;
            return RG_OK;
        }
    cli_opt v[O_COUNT];
    int st = scan(argc, argv, v);
    if (!st) st = parse_process(v, a);
    if (!st && v[O_PHITIMES].value) st = cli_parse_list("--phi-times", v[O_PHITIMES].value, R_POS, &a->phi_t, &a->n_phi);
    if (!st) st = opt_size(v, O_TOP, 1, 1000000, &a->top);
    if (!st && (cmd & G_RUN)) st = parse_times(v, a);
    if (!st) st = parse_lists(v, a);
    if (!st) st = parse_score(v, a);
    a->out = v[O_OUT].value;
    a->quiet = v[O_QUIET].value != NULL, a->json = v[O_JSON].value != NULL;
    if (st) opts_free(a);
    return st;
}

int opts_parse_process(int argc, char **argv, cli_args *a)
{
    process_only = 1;
    int st = opts_parse(argc, argv, G_PROC, 1, 1, a);
    process_only = 0;
    if (!st && a->help) st = cli_usage("--help is not a process flag: refused");
    return st;
}
