/* `regimes demo`: first the theory for a few documented example processes, on one screen (each row
 * computed by running exactly the `regimes theory` command line printed above it, its placeholders
 * filled with the row's values), then the measured headlines of demo_run.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "par.h"
#include "run.h"
#include "source.h"

#define DEMO_MAX_ARGS 32
#define DEMO_MAX_ROWS 8

/* One example: a command template with up to two %s placeholders, named in `shown`. */
typedef struct {
    const char *title;
    const char *shown;    /* the template as printed, placeholders by name */
    const char *format;   /* the template as run */
    const char *cols;     /* column header after the placeholders */
    int n_vars;
    const char *rows[DEMO_MAX_ROWS][2];
    void (*row)(const rg_exp_theory_result *r, FILE *f);
} demo_example;

static void cell(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%9.3f", x);
    else fprintf(f, "%9s", isnan(x) ? "none" : "inf");
}

static void row_ou(const rg_exp_theory_result *r, FILE *f)
{
    cell(f, r->t_s), cell(f, r->t_s_parent), cell(f, r->t_s_matrix), cell(f, r->t_c), cell(f, r->horizon);
}

static void row_coupled(const rg_exp_theory_result *r, FILE *f)
{
    cell(f, r->rate_re[0]), cell(f, r->rate_re[1]), cell(f, r->mode_t_s[0]), cell(f, r->mode_t_s[1]);
    cell(f, r->sync_gap), cell(f, r->t_c);
}

static void row_nonrev(const rg_exp_theory_result *r, FILE *f)
{
    cell(f, r->relaxation_rate), cell(f, r->t_s), cell(f, r->t_s_matrix), cell(f, r->t_c);
}

static const demo_example EXAMPLES[] = {
    { "1. Parent OU (A = I), two-class mixture |m|^2 = N, sigma^2 = 1; t_C at P = 20000",
      "regimes theory --process ou --dim N",
      "regimes theory --process ou --dim %s",
      "      t_S  t_S_par  t_S_mat      t_C  horizon", 1,
      { { "256" }, { "1024" }, { "4096" } }, row_ou },
    { "2. Coupled cross-drive, gmm4 |m_c|^2 = |m_d|^2 = 25, sigma^2 = 1, d = 1000",
      "regimes theory --process coupled --gamma G --mc2 25 --md2 25",
      "regimes theory --process coupled --gamma %s --mc2 25 --md2 25",
      " lambda_c lambda_d    t_S^c    t_S^d      gap      t_C", 1,
      { { "-0.5" }, { "0" }, { "0.25" }, { "0.5" }, { "0.75" } }, row_coupled },
    { "3. Coupled anisotropic, a_x = a_y = 1: non-normality widens the gap at equal rates",
      "regimes theory --process coupled --gamma-xy GXY --gamma-yx GYX",
      "regimes theory --process coupled --gamma-xy %s --gamma-yx %s",
      " lambda_c lambda_d    t_S^c    t_S^d      gap      t_C", 2,
      { { "0.8", "0.2" }, { "0.4", "0.4" } }, row_coupled },
    { "4. Coupling schedule gamma = 0 for t < 1, G1 beyond; |m_c|^2 = 50, |m_d|^2 = 10",
      "regimes theory --process coupled --schedule piecewise:1:0,inf:G1 --mc2 50 --md2 10",
      "regimes theory --process coupled --schedule piecewise:1:0,inf:%s --mc2 50 --md2 10",
      " lambda_c lambda_d    t_S^c    t_S^d      gap      t_C", 1,
      { { "0" }, { "-0.2" }, { "-0.4" } }, row_coupled },
    { "5. Non-reversible A = (I + Q) U, U = diag(linspace(0.2, 1.8, 64)), |m|^2 = 64 along M",
      "regimes theory --process nonrev --dim 64 --U diag:0.2:1.8 --Q Q --mean-dir M --mean-norm2 64",
      "regimes theory --process nonrev --dim 64 --U diag:0.2:1.8 --Q %s --mean-dir %s --mean-norm2 64",
      "     rate      t_S  t_S_mat      t_C", 2,
      { { "zero", "slow" }, { "optimal", "slow" }, { "zero", "fast" }, { "optimal", "fast" },
        { "zero", "ones" }, { "optimal", "ones" } }, row_nonrev },
};

/* Split line (modified in place) at spaces into argv; returns argc. */
static int split(char *line, char **argv)
{
    int argc = 0;
    for (char *tok = strtok(line, " "); tok && argc < DEMO_MAX_ARGS; tok = strtok(NULL, " ")) argv[argc++] = tok;
    return argc;
}

static int run_example(const demo_example *ex, FILE *f)
{
    fprintf(f, "\n%s\n  $ %s\n  ", ex->title, ex->shown);
    for (int v = 0; v < ex->n_vars; v++) fprintf(f, "%-9s", v == 0 ? "value" : "");
    fprintf(f, "%s\n", ex->cols);
    for (int i = 0; i < DEMO_MAX_ROWS && ex->rows[i][0]; i++) {
        char line[512], *argv[DEMO_MAX_ARGS];
        snprintf(line, sizeof line, ex->format, ex->rows[i][0], ex->n_vars > 1 ? ex->rows[i][1] : "");
        cli_args a;
        cli_env e;
        const int st = env_from_args(split(line, argv) - 1, argv + 1, CMD_THEORY, 0, &a, &e);
        if (st != RG_OK) return st;
        fputs("  ", f);
        for (int v = 0; v < ex->n_vars; v++) fprintf(f, "%-9s", ex->rows[i][v]);
        ex->row(&e.th, f);
        fputc('\n', f);
        env_close(&e), opts_free(&a);
    }
    return RG_OK;
}

int cmd_demo(int argc, char **argv)
{
    cli_set_command("regimes demo");
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: regimes demo [--out DIR] [--seed S] [--threads N] [--samples N] [--theory]\n"
             "\n"
             "The headline result of each paper, theory against measurement, in under 10 minutes on 2 cores:\n"
             "speciation (two-class GMM, d = 256) and collapse (P = 20000) with exact scores; the\n"
             "synchronization gap against the coupling gamma (gmm4); the non-reversible drift that speeds up\n"
             "relaxation and speciation while collapse stays put; speciation on MNIST digits 1 and 8 with\n"
             "the exact empirical score (skipped with a note when data/mnist is absent). Writes DIR/report.md\n"
             "(a one-screen summary table first, then every row and the PNG plots) and each run's CSV and\n"
             "meta.json under DIR; prints the theory screen and then the summary table.\n"
             "\n"
             "  --out DIR      default results/demo\n"
             "  --seed S       integer >= 0, default 1\n"
             "  --threads N    OpenMP threads, default all\n"
             "  --samples N    clone pairs / samples of every run (default: each step's own)\n"
             "  --theory       only the theory screen: `regimes theory` for the example processes of\n"
             "                 docs/cli.md, each row under the command line that reproduces it (instant)");
        return RG_OK;
    }
    cli_opt v[5] = { { "--out", 1, NULL }, { "--seed", 1, NULL }, { "--threads", 1, NULL }, { "--samples", 1, NULL },
                     { "--theory", 0, NULL } };
    if (cli_scan(argc, argv, 1, v, 5)) return RG_EINVAL;
    size_t seed = 1, threads = 0, samples = 0;
    if (v[1].value && cli_parse_size("--seed", v[1].value, 0, (size_t)-1, &seed)) return RG_EINVAL;
    if (v[2].value && cli_parse_size("--threads", v[2].value, 1, 1024, &threads)) return RG_EINVAL;
    if (v[3].value && cli_parse_size("--samples", v[3].value, 10, 1000000, &samples)) return RG_EINVAL;
    if (!v[4].value && par_rank() == 0 && run_outdir(v[0].value ? v[0].value : "results/demo")) return RG_EINVAL;
    puts("regimes demo: predicted regimes (forward times in OU units; rates per OU time unit).\n"
         "t_S: speciation (kappa = 1, GMM exact); t_S_mat: lambda_max(K_t) = 1; t_S_par: 1/2 log(|m|^2 + 1);\n"
         "t_C: collapse at P = 20000; gap = t_S^c - t_S^d; every row is the command above it.");
    for (size_t e = 0; e < sizeof EXAMPLES / sizeof EXAMPLES[0]; e++) {
        cli_set_command("regimes theory");
        int st = run_example(&EXAMPLES[e], stdout);
        if (st != RG_OK) return st;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) return cli_runtime("cannot write the output");
    cli_set_command("regimes demo");
    if (v[4].value) return RG_OK;
    return demo_run(v[0].value ? v[0].value : "results/demo", seed, (int)threads, samples);
}
