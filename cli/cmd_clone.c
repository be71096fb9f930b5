/* `regimes clone`: flags -> data, process, score, labeller -> rg_exp_clone -> phi.csv, summary.json,
 * meta.json (docs/math.md 6.6, 7.2, 8.1, 8.3). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/experiment.h"
#include "args.h"
#include "cli.h"
#include "out.h"
#include "par.h"
#include "run.h"
#include "source.h"

#define NB_DEFAULT 14

static void clone_help(FILE *f)
{
    fputs("usage: regimes clone [process flags] [data flags] [experiment flags]\n"
          "\n"
          "Cloning (docs/math.md 6.6, 8.1): --samples trajectories run from T to each branch time t_b, are copied,\n"
          "and both copies continue to t_end with independent noise; phi(t_b) is the fraction of pairs whose\n"
          "final labels agree, with a bootstrap 95% interval (20000 resamples). t_S is the 0.775 crossing,\n"
          "its interval the percentile interval over bootstrap replicates of the whole curve. With two\n"
          "labelled modes (gmm4: common, difference) each mode gets its curve and t_S, and sync_gap =\n"
          "t_S(common) - t_S(difference) with a joint bootstrap interval.\n"
          "\n"
          "Score: mixtures use their exact score (--score exact, default) or the exact empirical score of\n"
          "--n-train points drawn with --seed (--score empirical); data sets (--data FILE.npy, mnist, fashion)\n"
          "the exact empirical score of their rows (centred); --model FILE a score network of regimes train\n"
          "(its process comes from FILE.json).\n"
          "Labels (--labeller): sign (gmm2: sign of m.x), gmm4 (signs of m_c.(x+y) and m_d.(x-y)), mixture\n"
          "(largest posterior component), mean (nearest class mean of --labels), nearest (label of the\n"
          "nearest training row), classifier (--classifier FILE, or for mnist|fashion an MLP trained here on\n"
          "the digits' training images, its test accuracy reported). Defaults: sign, gmm4, mean, classifier.\n"
          "\n"
          "Clone flags\n"
          "  --branch-times LIST  branch times t_b, forward times, increasing (default: 14 points from 0.3 to\n"
          "                       2.2 times the predicted t_S of the data, inside (2 t_end, 0.9 T))\n"
          "  --branch-steps LIST  the same as step indices of the --noise schedule (default ddpm-linear)\n"
          "  --trunk T            independent (default: one trunk per pair and branch time, the parent's)\n"
          "                       or shared (one trunk per pair serves every branch time, docs/math.md 11.3)\n"
          "  --score S, --model FILE, --labeller L, --classifier FILE: above\n"
          "\n"
          "Defaults: --samples 1000 (pairs per branch time), --steps 200, --method exp, --grid geometric,\n"
          "--out results/clone.\n"
          "Output (--out DIR): phi.csv (t_b, then per mode phi, its interval and the theory; docs/cli.md),\n"
          "summary.json (the object --json prints: t_S per mode with intervals and theory, the gap, class\n"
          "fractions, warnings), meta.json (every resolved parameter, input files with sha256).\n\n",
          f);
    run_print_help(f);
}

/* Branch times: --branch-times, --branch-steps through the schedule, or around the predicted t_S. */
static int branch_times(const cli_env *e, double T, double t_end, double **tb, size_t *m)
{
    const cli_args *a = e->a;
    double lo_s = NAN, hi_s = NAN;
    for (size_t l = 0; l < e->n_pred; l++) lo_s = fmin(lo_s, e->t_s[l]), hi_s = fmax(hi_s, e->t_s[l]);
    *m = a->n_branch ? a->n_branch : NB_DEFAULT;
    if (!(*tb = malloc(*m * sizeof **tb))) return cli_nomem("out of memory for the branch times");
    const double lo = fmax(isnan(lo_s) ? 0.1 : 0.3 * lo_s, 2.0 * t_end), hi = isnan(hi_s) ? 0.9 * T : fmin(2.2 * hi_s, 0.9 * T);
    for (size_t i = 0; i < *m; i++) {
        if (a->branch) (*tb)[i] = a->branch[i];
        else if (a->branch_steps && a->branch_steps[i] >= rg_noise_steps(e->noise))
            return cli_usage("--branch-steps: step %zu is beyond the schedule's %zu steps", a->branch_steps[i],
                             rg_noise_steps(e->noise));
        else if (a->branch_steps) (*tb)[i] = rg_noise_time(e->noise, a->branch_steps[i]);
        else (*tb)[i] = lo + (hi - lo) * (double)i / (double)(*m - 1);
        if ((*tb)[i] >= T || (*tb)[i] <= t_end)
            return cli_usage("branch time %g is not inside (t_end, T) = (%g, %g)", (*tb)[i], t_end, T);
    }
    return RG_OK;
}

/* phi.csv: t_b, then per mode phi, lo, hi, theory. */
static int write_phi(const cli_env *e, const char *dir, const rg_exp_clone_result *r, const rg_exp_labeller *lab)
{
    const size_t m = r->n_branch, L = r->n_modes, W = 1 + 4 * L;
    double *d = malloc(m * W * sizeof *d);
    char (*names)[64] = malloc(W * sizeof *names);
    const char **h = malloc(W * sizeof *h);
    int *tc = calloc(W, sizeof *tc), st = d && names && h && tc ? RG_OK : cli_nomem("out of memory");
    static const char *const PART[4] = { "", "_lo", "_hi", "_theory" };
    for (size_t i = 0; i < m && !st; i++) {
        d[i * W] = r->t_b[i];
        for (size_t l = 0; l < L; l++) {
            const double *v[4] = { r->phi, r->phi_lo, r->phi_hi, r->phi_theory };
            for (size_t q = 0; q < 4; q++) d[i * W + 1 + 4 * l + q] = v[q][l * m + i];
        }
    }
    for (size_t l = 0; l < L && !st; l++)
        for (size_t q = 0; q < 4; q++) {
            snprintf(names[1 + 4 * l + q], sizeof names[0], L == 1 ? "phi%s [1]" : "phi_%s%s [1]",
                     L == 1 ? PART[q] : lab->names[l], L == 1 ? "" : PART[q]);
            h[1 + 4 * l + q] = names[1 + 4 * l + q];
        }
    h[0] = "t_b [time]", tc[0] = 1;
    if (!st) st = out_csv(e, dir, "phi.csv", W, h, tc, m, d);
    free(d), free(names), free(h), free(tc);
    return st;
}

/* The predicted t_S of labeller mode l: mixture labels, the class signal of a data set, or for paired
 * images the shared (common mode) and relative (difference mode) labels. */
static double mode_theory(const cli_env *e, const rg_exp_labeller *lab, size_t l)
{
    if (e->views == 2) return lab->n_modes == 4 && l >= 2 ? e->t_s[l - 2] : (double)NAN;
    return l < e->n_pred ? e->t_s[l] : (double)NAN;
}

static void summary_modes(json *j, const cli_env *e, const rg_exp_clone_result *r, const rg_exp_labeller *lab)
{
    j_arr(j, "modes");
    for (size_t l = 0; l < r->n_modes; l++) {
        j_obj(j, NULL);
        j_str(j, "name", lab->names[l] ? lab->names[l] : "mode");
        j_time(j, e, "t_S", r->t_s[l]);
        const double ci[2] = { r->t_s_lo[l], r->t_s_hi[l] };
        j_nums(j, "t_S_ci", 2, ci);
        j_time(j, e, "t_S_theory", mode_theory(e, lab, l));
        j_nums(j, "class_fractions", r->n_classes, r->class_frac + l * r->n_classes);
        j_end(j, '}');
    }
    j_end(j, ']');
}

static int clone_summary_json(const cli_env *e, const char *dir, const rg_exp_clone_result *r)
{
    const rg_exp_labeller *lab = &e->lab;
    json j;
    int st = j_open(&j);
    if (st) return st;
    size_t lm = 0; /* the later mode: its t_S, interval and theory lead the summary */
    for (size_t l = 1; l < r->n_modes; l++) lm = r->t_s[l] > r->t_s[lm] ? l : lm;
    char warn[2048];
    const size_t nw = rg_exp_clone_warnings(r, lab, warn, sizeof warn);
    j_str(&j, "tool", "regimes"), j_str(&j, "command", "clone");
    out_process(&j, e), out_data(&j, e);
    j_str(&j, "score", e->score_name), j_str(&j, "labeller", e->lab_name), j_num(&j, "classifier_accuracy", e->clf_acc);
    j_time(&j, e, "t_S", r->t_s[lm]);
    const double ci[2] = { r->t_s_lo[lm], r->t_s_hi[lm] }, gci[2] = { r->gap_lo, r->gap_hi };
    j_nums(&j, "t_S_ci", 2, ci), j_time(&j, e, "t_S_theory", mode_theory(e, lab, lm));
    summary_modes(&j, e, r, lab);
    j_num(&j, "sync_gap", r->gap), j_nums(&j, "sync_gap_ci", 2, gci);
    j_num(&j, "sync_gap_theory", r->n_modes == 2 ? mode_theory(e, lab, 0) - mode_theory(e, lab, 1) : (double)NAN);
    j_int(&j, "pairs", (long long)r->n_pairs), j_times(&j, e, "branch_times", r->n_branch, r->t_b);
    j_str(&j, "trunk", e->a->trunk == RG_TRUNK_SHARED ? "shared" : "independent");
    j_arr(&j, "warnings");
    for (char *p = warn, *nl; nw && (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        j_str(&j, NULL, p);
        fprintf(stderr, "regimes clone: warning: %s\n", p);
    }
    j_end(&j, ']'), j_str(&j, "out", dir);
    st = j_close(&j);
    if (!st) st = out_summary(e->a, dir, &j);
    j_free(&j);
    return st;
}

/* For regimes reproduce: the curve rows of phi.csv and the times (sum->res owned by the caller). */
static int fill_summary(const cli_env *e, const rg_exp_clone_result *r, clone_summary *s)
{
    const size_t m = r->n_branch, L = r->n_modes < 2 ? r->n_modes : 2;
    memset(s, 0, sizeof *s);
    s->m = m, s->L = L;
    if (!(s->res = malloc(m * (1 + 4 * L) * sizeof *s->res))) return cli_nomem("out of memory");
    for (size_t i = 0; i < m; i++) {
        double *row = s->res + i * (1 + 4 * L);
        row[0] = r->t_b[i];
        for (size_t l = 0; l < L; l++)
            row[1 + 4 * l] = r->phi[l * m + i], row[2 + 4 * l] = r->phi_lo[l * m + i],
            row[3 + 4 * l] = r->phi_hi[l * m + i], row[4 + 4 * l] = r->phi_theory[l * m + i];
    }
    for (size_t l = 0; l < L; l++)
        s->ts[l] = r->t_s[l], s->ts_lo[l] = r->t_s_lo[l], s->ts_hi[l] = r->t_s_hi[l], s->ts_theory[l] = mode_theory(e, &e->lab, l);
    s->gap = r->gap, s->gap_lo = r->gap_lo, s->gap_hi = r->gap_hi;
    s->gap_theory = L == 2 ? s->ts_theory[0] - s->ts_theory[1] : (double)NAN;
    return RG_OK;
}

typedef struct {
    const cli_env *e;
    const rg_exp_clone_result *r;
} clone_meta;

/* meta.json's own keys: pairs, branch times (their steps under a schedule), trunk. */
static void clone_meta_keys(json *j, const void *ctx)
{
    const clone_meta *c = ctx;
    j_int(j, "pairs", (long long)c->r->n_pairs), j_times(j, c->e, "branch_times", c->r->n_branch, c->r->t_b);
    j_str(j, "trunk", c->e->a->trunk == RG_TRUNK_SHARED ? "shared" : "independent");
}

static int clone_write(const cli_env *e, const run_setup *rs, int argc, char **argv, const rg_exp_clone_result *r,
                       double t0)
{
    const char *dir = e->a->out ? e->a->out : "results/clone";
    int st = write_phi(e, dir, r, &e->lab);
    if (!st) st = clone_summary_json(e, dir, r);
    const out_grid g = { rs->T, rs->t_end, rs->grid, rs->n_grid, rs->kappa_T };
    const clone_meta cm = { e, r };
    if (!st) st = out_meta(dir, "clone", argc, argv, e, &g, run_now() - t0, clone_meta_keys, &cm);
    return st;
}

static int clone_run(const cli_env *e, int argc, char **argv, void *ctx, double t0)
{
    clone_summary *sum = ctx;
    const cli_args *a = e->a;
    if (!e->lab.label) return cli_usage("clone needs labels: --labels FILE.npy, --labeller, or mixture/image data");
    run_setup rs = { 0 };
    double *tb = NULL, tmax = NAN;
    size_t m = 0;
    for (size_t l = 0; l < e->n_pred; l++) tmax = fmax(tmax, e->t_s[l]);
    int st = run_times(e, tmax, &rs.T, &rs.t_end);
    if (!st) st = branch_times(e, rs.T, rs.t_end, &tb, &m);
    if (!st) st = run_outdir(a->out ? a->out : "results/clone");
    if (!st) st = run_prepare(e, "clone", tb, m, &rs);
    int has_theory = 0;
    for (size_t l = 0; l < e->lab.n_modes; l++) has_theory |= env_has_phi(e, l);
    const rg_exp_clone_cfg c = { .run = rs.run, .trunk = (rg_sampler_trunk)a->trunk, .t_b = tb, .n_branch = m,
                                 .n_pairs = a->samples, .lab = &e->lab, .theory = has_theory ? env_phi : NULL,
                                 .theory_ctx = (void *)(uintptr_t)e };
    rg_exp_clone_result r = { 0 };
    const int s = st ? RG_OK : rg_exp_clone(&c, &r);
    if (s) st = cli_status(s);
    run_progress_end(&rs.progress);
    if (!st && par_rank() == 0) st = clone_write(e, &rs, argc, argv, &r, t0);
    if (!st && par_rank() == 0 && sum) st = fill_summary(e, &r, sum);
    run_release(&rs);
    rg_exp_clone_result_free(&r);
    free(tb);
    return st;
}

int clone_main(int argc, char **argv, clone_summary *sum)
{
    return env_command(argc, argv, CMD_CLONE, 1000, 200, ENV_SCORE | ENV_LABELLER, clone_help, clone_run, sum);
}

int cmd_clone(int argc, char **argv)
{
    cli_set_command("regimes clone");
    return clone_main(argc, argv, NULL);
}
