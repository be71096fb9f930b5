/* `regimes theory`: flags -> process + data -> predicted regimes (MATH.md 7). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/process.h"
#include "regimes/theory.h"
#include "args.h"
#include "cli.h"

enum {
    O_PROCESS, O_GAMMA, O_COUPLING, O_GXY, O_GYX, O_RX, O_RY, O_SCHEDULE, O_DIM, O_U, O_Q, O_QSCALE,
    O_A, O_DATA, O_MEANNORM2, O_MEANDIR, O_MC2, O_MD2, O_SIGMA2, O_CW, O_NTRAIN, O_PHITIMES, O_JSON, O_HELP,
    O_COUNT
};

/* Which processes accept an option. */
#define P_OU (1u << RG_PROCESS_OU)
#define P_CO (1u << RG_PROCESS_COUPLED)
#define P_NR (1u << RG_PROCESS_NONREV)
#define P_GE (1u << RG_PROCESS_GENERAL)
#define P_ALL (P_OU | P_CO | P_NR | P_GE)

static const struct {
    const char *name;
    int has_arg;
    unsigned procs;
} OPTS[O_COUNT] = {
    [O_PROCESS] = { "--process", 1, P_ALL },    [O_GAMMA] = { "--gamma", 1, P_CO },
    [O_COUPLING] = { "--coupling", 1, P_CO },   [O_GXY] = { "--gamma-xy", 1, P_CO },
    [O_GYX] = { "--gamma-yx", 1, P_CO },        [O_RX] = { "--rate-x", 1, P_CO },
    [O_RY] = { "--rate-y", 1, P_CO },           [O_SCHEDULE] = { "--schedule", 1, P_CO },
    [O_DIM] = { "--dim", 1, P_ALL },            [O_U] = { "--U", 1, P_NR },
    [O_Q] = { "--Q", 1, P_NR },                 [O_QSCALE] = { "--q-scale", 1, P_NR },
    [O_A] = { "--A", 1, P_GE },                 [O_DATA] = { "--data", 1, P_ALL },
    [O_MEANNORM2] = { "--mean-norm2", 1, P_OU | P_NR | P_GE },
    [O_MEANDIR] = { "--mean-dir", 1, P_NR | P_GE },
    [O_MC2] = { "--mc2", 1, P_CO },             [O_MD2] = { "--md2", 1, P_CO },
    [O_SIGMA2] = { "--sigma2", 1, P_ALL },      [O_CW] = { "--cw", 1, P_NR | P_GE },
    [O_NTRAIN] = { "--n-train", 1, P_ALL },     [O_PHITIMES] = { "--phi-times", 1, P_ALL },
    [O_JSON] = { "--json", 0, P_ALL },
    [O_HELP] = { "--help", 0, P_ALL },
};

static const char *const PROCESS_NAMES[] = { "ou", "coupled", "nonrev", "general", NULL };
static const char *const COUPLING_NAMES[] = { "cross", "diffusive", NULL };
static const char *const DATA_NAMES[] = { "gmm2", "gmm4", NULL };

/* Largest dimensions: 2x2 algebra takes any d; dense processes are O(d^3) per time point. */
#define DIM_MAX_KRON ((size_t)1000000000000ull)
#define DIM_MAX_DENSE ((size_t)4096)

static const cli_range R_ANY = { -INFINITY, INFINITY, 1, 1 };
static const cli_range R_POS = { 0.0, INFINITY, 1, 1 };

/* Parse a double option if given (else keep *out). */
static int opt_double(const cli_opt *v, int id, cli_range r, double *out)
{
    return v[id].value ? cli_parse_double(OPTS[id].name, v[id].value, r, out) : CLI_OK;
}

static int check_applicable(const cli_opt *v, rg_process_kind kind)
{
    for (int i = 0; i < O_COUNT; i++)
        if (v[i].value && !(OPTS[i].procs & (1u << kind)))
            return cli_usage("%s does not apply to --process %s", OPTS[i].name, PROCESS_NAMES[kind]);
    return CLI_OK;
}

static int parse_coupled(const cli_opt *v, spec_opts *o)
{
    int form = 0, st = CLI_OK;
    o->aniso = v[O_GXY].value || v[O_GYX].value || v[O_RX].value || v[O_RY].value;
    if (v[O_COUPLING].value && cli_parse_choice("--coupling", v[O_COUPLING].value, COUPLING_NAMES, &form))
        return CLI_USAGE;
    o->coupling = form ? RG_COUPLING_DIFFUSIVE : RG_COUPLING_CROSS;
    o->schedule = v[O_SCHEDULE].value;
    if (o->schedule && (v[O_GAMMA].value || o->aniso))
        return cli_usage("--schedule gives gamma(t) itself: drop --gamma, --gamma-xy, --gamma-yx, --rate-x, --rate-y");
    if (o->aniso && v[O_COUPLING].value)
        return cli_usage("--coupling does not combine with --gamma-xy/--gamma-yx/--rate-x/--rate-y "
                         "(they give M = [[a_x, -g_xy], [-g_yx, a_y]] directly)");
    /* The stability bound of each symmetric form (MATH.md 3.2); anisotropic M is checked whole. */
    cli_range rg = R_ANY;
    if (!o->aniso) rg = form ? (cli_range){ -0.5, INFINITY, 1, 1 } : (cli_range){ -1.0, 1.0, 1, 1 };
    st = opt_double(v, O_GAMMA, rg, &o->gamma);
    o->a_x = o->a_y = 1.0;
    o->g_xy = o->g_yx = o->gamma;
    if (!st) st = opt_double(v, O_RX, R_ANY, &o->a_x);
    if (!st) st = opt_double(v, O_RY, R_ANY, &o->a_y);
    if (!st) st = opt_double(v, O_GXY, R_ANY, &o->g_xy);
    if (!st) st = opt_double(v, O_GYX, R_ANY, &o->g_yx);
    return st;
}

static int parse_dense(const cli_opt *v, spec_opts *o, const char **q_text)
{
    int st = CLI_OK;
    if (o->kind == RG_PROCESS_NONREV) {
        o->U = v[O_U].value ? v[O_U].value : "diag:0.2:1.8";
        if (strncmp(o->U, "diag:", 5) == 0 && !v[O_DIM].value) o->dim = 64;
        const char *q = v[O_Q].value ? v[O_Q].value : "zero";
        *q_text = q;
        o->q = strcmp(q, "zero") == 0 ? SPEC_Q_ZERO : strcmp(q, "optimal") == 0 ? SPEC_Q_OPTIMAL : SPEC_Q_FILE;
        o->q_file = q;
        o->q_scale = 1.0;
        st = opt_double(v, O_QSCALE, R_ANY, &o->q_scale);
    } else if (!v[O_A].value) {
        return cli_usage("--process general needs --A FILE (the drift matrix)");
    }
    o->A = v[O_A].value;
    o->mean_dir = v[O_MEANDIR].value ? v[O_MEANDIR].value : "ones";
    o->cw = v[O_CW].value ? v[O_CW].value : "I";
    return st;
}

static int parse_data(const cli_opt *v, spec_opts *o)
{
    int gmm4 = o->kind == RG_PROCESS_COUPLED;
    if (v[O_DATA].value && cli_parse_choice("--data", v[O_DATA].value, DATA_NAMES, &gmm4)) return CLI_USAGE;
    if (gmm4 && o->kind != RG_PROCESS_COUPLED)
        return cli_usage("--data gmm4 needs --process coupled (two modalities)");
    if (!gmm4 && o->kind == RG_PROCESS_COUPLED)
        return cli_usage("--data gmm2 is one-modality data; --process coupled takes --data gmm4");
    o->gmm4 = gmm4;
    o->mc2 = o->md2 = 25.0;
    o->sigma2 = 1.0;
    o->mean_norm2 = 0.0; /* spec_build: the dimension N */
    int st = opt_double(v, O_SIGMA2, R_POS, &o->sigma2);
    if (!st) st = opt_double(v, O_MC2, R_POS, &o->mc2);
    if (!st) st = opt_double(v, O_MD2, R_POS, &o->md2);
    return st ? st : opt_double(v, O_MEANNORM2, R_POS, &o->mean_norm2);
}

/* Flags -> spec_opts, n_train and json. */
static int parse_all(const cli_opt *v, theory_result *r)
{
    spec_opts *o = &r->o;
    int kind = 0;
    memset(o, 0, sizeof *o);
    if (v[O_PROCESS].value && cli_parse_choice("--process", v[O_PROCESS].value, PROCESS_NAMES, &kind))
        return CLI_USAGE;
    o->kind = (rg_process_kind)kind;
    int st = check_applicable(v, o->kind);
    int kron = o->kind == RG_PROCESS_OU || o->kind == RG_PROCESS_COUPLED;
    o->dim = kron ? 1000 : 0;
    if (!st && v[O_DIM].value)
        st = cli_parse_size("--dim", v[O_DIM].value, 1, kron ? DIM_MAX_KRON : DIM_MAX_DENSE, &o->dim);
    if (!st && o->kind == RG_PROCESS_COUPLED) st = parse_coupled(v, o);
    if (!st && !kron) st = parse_dense(v, o, &r->q_text);
    if (!st) st = parse_data(v, o);
    r->n_train = CLI_DEFAULT_N_TRAIN;
    if (!st) st = opt_double(v, O_NTRAIN, (cli_range){ 1.0, INFINITY, 0, 1 }, &r->n_train);
    if (!st && v[O_PHITIMES].value) st = cli_parse_list("--phi-times", v[O_PHITIMES].value, R_POS, &r->phi_t, &r->n_phi);
    r->json = v[O_JSON].value != NULL;
    return st;
}

/* ---- computing --------------------------------------------------------------------------------------- */

static int speciation(rg_theory_plan *pl, size_t label, rg_speciation_criterion crit, double *t)
{
    int found = 0;
    int st = rg_theory_plan_speciation(pl, label, crit, t, &found);
    if (st == RG_OK && !found) *t = NAN;
    return st;
}

/* Mode list: eigenvalues of the core drift, named per process. Returns 0, or -1 out of memory. */
static int fill_modes(theory_result *r, const double *re, const double *im)
{
    size_t k = rg_process_core(r->b.p);
    r->modes = calloc(k, sizeof *r->modes);
    if (!r->modes) return -1;
    r->n_modes = k;
    for (size_t i = 0; i < k; i++) {
        snprintf(r->modes[i].name, sizeof r->modes[i].name, "mode%zu", i);
        r->modes[i].rate = re[i];
        r->modes[i].rate_imag = im[i];
        r->modes[i].t_s = NAN; /* per-mode speciation is defined only for decoupled modes */
    }
    if (r->o.kind == RG_PROCESS_OU) {
        strcpy(r->modes[0].name, "ou");
        r->modes[0].t_s = r->t_s_label[0];
    } else if (r->o.kind == RG_PROCESS_COUPLED) {
        /* The common pattern (1, 1) is the slow eigenvector when the net coupling g_xy + g_yx is
         * attractive (>= 0) and the fast one when it is repulsive: cross-drive lambda_c = 1 - gamma
         * for either sign (MATH.md 3.2). Schedules: the drift as t -> infinity (the last knot). */
        const spec_built *b = &r->b;
        double net = b->n_knots ? b->knot_g[b->n_knots - 1] : -(b->M[1] + b->M[2]);
        size_t c = net >= 0 ? 0 : 1;
        r->modes[0] = (theory_mode){ "common", re[c], im[c], r->t_s_label[0] };
        r->modes[1] = (theory_mode){ "difference", re[1 - c], im[1 - c], r->t_s_label[1] };
    }
    return 0;
}

/* The coupling bounds of MATH.md 7.4 for symmetric forms: the stable range of gamma and gamma*. */
static int coupling_bounds(theory_result *r)
{
    const spec_opts *o = &r->o;
    r->gamma_lo = r->gamma_hi = r->gamma_equal = NAN;
    if (o->kind != RG_PROCESS_COUPLED || o->aniso) return RG_OK;
    r->gamma_lo = o->coupling == RG_COUPLING_DIFFUSIVE ? -0.5 : -1.0;
    r->gamma_hi = o->coupling == RG_COUPLING_DIFFUSIVE ? (double)INFINITY : 1.0;
    int found = 0;
    int st = rg_theory_equal_gamma(o->coupling, &r->b.data, &r->gamma_equal, &found);
    if (st == RG_OK && !found) r->gamma_equal = NAN;
    return st;
}

/* phi of every label at the --phi-times. */
static int phi_values(theory_result *r, rg_theory_plan *pl)
{
    if (!r->n_phi) return RG_OK;
    size_t L = r->b.data.n_labels;
    r->phi = malloc(L * r->n_phi * sizeof *r->phi);
    if (!r->phi) return RG_ENOMEM;
    int st = RG_OK;
    for (size_t l = 0; l < L && st == RG_OK; l++)
        for (size_t i = 0; i < r->n_phi && st == RG_OK; i++)
            st = rg_theory_plan_phi_at(pl, l, r->phi_t[i], &r->phi[l * r->n_phi + i]);
    return st;
}

static int compute(theory_result *r)
{
    const rg_process *p = r->b.p;
    const rg_theory_data *d = &r->b.data;
    size_t k = rg_process_core(p);
    int found = 0;
    rg_theory_plan *pl = NULL; /* the data prepared once for every criterion below */
    r->t_s = r->t_s_matrix = r->t_s_parent = r->sync_gap = NAN;
    int st = rg_process_relaxation_rate(p, &r->relaxation_rate);
    r->horizon_min = 0.5 / r->relaxation_rate;
    if (st == RG_OK) st = rg_theory_plan_new(p, d, 0, &pl);
    if (st == RG_OK) st = coupling_bounds(r);
    if (st == RG_OK) st = phi_values(r, pl);
    for (size_t l = 0; l < d->n_labels && st == RG_OK; l++) {
        st = speciation(pl, l, RG_SPECIATION_GMM, &r->t_s_label[l]);
        if (st == RG_OK) st = speciation(pl, l, RG_SPECIATION_MATRIX, &r->t_s_matrix_label[l]);
        r->t_s = fmax(r->t_s, r->t_s_label[l]); /* fmax ignores NAN: the latest mode that has a root */
        r->t_s_matrix = fmax(r->t_s_matrix, r->t_s_matrix_label[l]);
    }
    if (st == RG_OK) st = rg_theory_plan_collapse(pl, r->n_train, &r->t_c, &found);
    if (st == RG_OK && !found) r->t_c = NAN;
    if (st == RG_OK) st = rg_theory_plan_horizon(pl, CLI_HORIZON_LEVEL, &r->horizon);
    rg_theory_plan_free(pl);
    if (r->o.kind == RG_PROCESS_OU) /* the parent paper's label, 1/2 log Lambda (MATH.md 7.1 a) */
        r->t_s_parent = 0.5 * log(d->mean_norm2[0] + r->o.sigma2);
    if (r->o.gmm4) r->sync_gap = r->t_s_label[0] - r->t_s_label[1]; /* MATH.md 7.3 */
    if (st != RG_OK) return cli_status(st);
    double *re = malloc(2 * k * sizeof *re);
    if (!re) return cli_runtime("out of memory for %zu rates", k);
    st = rg_process_rates(p, re, re + k);
    if (st == RG_OK && fill_modes(r, re, re + k) != 0) st = -1;
    free(re);
    if (st < 0) return cli_runtime("out of memory for %zu modes", k);
    return st == RG_OK ? CLI_OK : cli_status(st);
}

void theory_result_free(theory_result *r)
{
    spec_free(&r->b);
    free(r->modes);
    free(r->phi_t);
    free(r->phi);
    r->modes = NULL;
    r->phi_t = r->phi = NULL;
    r->n_modes = r->n_phi = 0;
}

int theory_compute(int argc, char **argv, int first, theory_result *r, int *help)
{
    cli_opt v[O_COUNT];
    memset(r, 0, sizeof *r);
    *help = 0;
    for (int a = first; a < argc; a++)
        if (strcmp(argv[a], "--help") == 0) {
            *help = 1;
            return CLI_OK;
        }
    for (int i = 0; i < O_COUNT; i++) v[i] = (cli_opt){ OPTS[i].name, OPTS[i].has_arg, NULL };
    int st = cli_scan(argc, argv, first, v, O_COUNT);
    if (!st) st = parse_all(v, r);
    if (!st) st = spec_build(&r->o, &r->b);
    if (!st) st = compute(r);
    if (st) theory_result_free(r);
    return st;
}

int cmd_theory(int argc, char **argv)
{
    theory_result r;
    int help;
    cli_set_command("regimes theory");
    if (theory_data_is_images(argc, argv)) {
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], "--help") == 0) {
                theory_print_help(stdout);
                return CLI_OK;
            }
        return theory_mnist(argc, argv);
    }
    int st = theory_compute(argc, argv, 1, &r, &help);
    if (help) {
        theory_print_help(stdout);
        return CLI_OK;
    }
    if (st) return st;
    if (r.json) theory_print_json(&r, stdout);
    else theory_print_table(&r, stdout);
    theory_result_free(&r);
    if (fflush(stdout) != 0 || ferror(stdout)) return cli_runtime("cannot write the output");
    return CLI_OK;
}
