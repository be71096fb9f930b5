#define _POSIX_C_SOURCE 200809L
/* `regimes reproduce NAME`: a paper's experiment end to end, theory beside measurement, with plots
 * and report.md whose rows carry a verdict against a stated tolerance (docs/math.md 8, 9). The
 * experiments live in reproduce_*.c; this file holds the table, the shared helpers and the report. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/io.h"
#include "regimes/measure.h"
#include "args.h"
#include "cli.h"
#include "par.h"
#include "out.h"
#include "reproduce.h"
#include "run.h"

static const repro_experiment EXPERIMENTS[] = {
    { "speciation-gmm", "two-class GMM, d = 64, 256, 1024: phi(t_b) and t_S against theory", repro_speciation_gmm },
    { "collapse-gmm", "empirical training sets of the two-class GMM (d = 256, P = 20000 and 2000): f(t) against\n"
                      "the closed form, t_C, the memorised fraction and the last switch against t", repro_collapse_gmm },
    { "multimodal-gmm", "4-component GMM (d = 16, |m_c|^2 = 25, |m_d|^2 = 9): t_S per mode and the gap for\n"
                        "cross-drive gamma in {-0.5, 0, 0.25, 0.5, 0.75}, two anisotropic couplings, one schedule",
      repro_multimodal_gmm },
    { "nonrev-gmm", "d = 64, U = diag(linspace(0.2, 1.8)), Q in {0, Q_opt}: decay of the mean against the\n"
                    "relaxation rate, t_S for m along the slowest, fastest and all-ones directions, t_C", repro_nonrev_gmm },
    { "mnist-exact", "MNIST 1 and 8, exact empirical score (P = 10000): phi(t_b) and t_S against 1/2 log Lambda,\n"
                     "the memorised fraction against t; paired MNIST, gamma in {0, 0.5}: per-mode t_S and the gap",
      repro_mnist_exact },
    { "mnist-trained", "the same with score networks trained here (about 14 minutes on 2 cores, 12 of them training):\n"
                       "an 8 x 8 sample grid, phi(t_b) and t_S against 1/2 log Lambda; paired MNIST gap vs gamma",
      repro_mnist_trained },
};
enum { N_EXP = sizeof EXPERIMENTS / sizeof EXPERIMENTS[0] };

static const char *num4(double x, char *b)
{
    if (isnan(x)) return "none";
    if (isinf(x)) return x > 0 ? "inf" : "-inf";
    snprintf(b, 32, "%.4g", x);
    return b;
}

static const char *const VERDICT[3] = { "pass", "FAIL", "undecided" };

static void row_print(repro *r, const char *exp, const char *what, double th, double me, double lo, double hi,
                      const char *rule, repro_verdict v)
{
    char b[4][32];
    fprintf(r->md, "| %s | %s | %s | %s | [%s, %s] | %s | %s |\n", exp, what, num4(th, b[0]), num4(me, b[1]),
            num4(lo, b[2]), num4(hi, b[3]), rule, VERDICT[v]);
    r->rows++;
    r->pass += v == REPRO_PASS;
    r->undecided += v == REPRO_UNDECIDED;
}

repro_verdict repro_judge(repro *r, int headline, const char *exp, const char *what, double th, double me, double lo,
                          double hi, repro_rule rule)
{
    const double a = rule.allowance;
    repro_verdict v = REPRO_FAIL;
    if (isfinite(th) && isfinite(me) && !(isfinite(lo) && isfinite(hi)))
        v = REPRO_UNDECIDED; /* no interval (too few bootstrap replicates cross): more samples needed */
    else if (isfinite(th) && lo - a <= th && th <= hi + a)
        v = rule.resolve > 0 && 0.5 * (hi - lo) > rule.resolve ? REPRO_UNDECIDED : REPRO_PASS;
    char text[192], b[32];
    snprintf(text, sizeof text, "a = %s (%s); half-width <= %s", num4(a, b), rule.why, rule.resolve > 0 ? "" : "any");
    if (rule.resolve > 0) snprintf(text + strlen(text), sizeof text - strlen(text), "%.3g", rule.resolve);
    row_print(r, exp, what, th, me, lo, hi, text, v);
    if (headline && r->headline) row_print(r->headline, exp, what, th, me, lo, hi, text, v);
    return v;
}

repro_verdict repro_judge_sign(repro *r, int headline, const char *exp, const char *what, int sign, double me,
                               double lo, double hi)
{
    const double l = sign > 0 ? lo : -hi, h = sign > 0 ? hi : -lo; /* the interval of sign * value */
    const repro_verdict v = isfinite(l) && l > 0 ? REPRO_PASS : isfinite(h) && h < 0 ? REPRO_FAIL : REPRO_UNDECIDED;
    const char *rule = sign > 0 ? "claim: > 0 (the whole interval)" : "claim: < 0 (the whole interval)";
    row_print(r, exp, what, NAN, me, lo, hi, rule, v);
    if (headline && r->headline) row_print(r->headline, exp, what, NAN, me, lo, hi, rule, v);
    return v;
}

void repro_condition(repro *r, const char *exp, const char *what, double me, double threshold, int met)
{
    char rule[64];
    snprintf(rule, sizeof rule, "condition: >= %.3g", threshold);
    row_print(r, exp, what, threshold, me, NAN, NAN, rule, met ? REPRO_PASS : REPRO_FAIL);
}

void repro_report(repro *r, const char *exp, const char *what, double value, double lo, double hi, const char *why)
{
    char b[3][32];
    fprintf(r->notes ? r->notes : r->md, "| %s | %s | %s | [%s, %s] | %s |\n", exp, what, num4(value, b[0]),
            num4(lo, b[1]), num4(hi, b[2]), why);
}

double repro_grid_ts(const clone_summary *s, size_t mode)
{
    double t[64], phi[64], ts = NAN;
    const size_t m = s->m < 64 ? s->m : 64, w = 1 + 4 * s->L;
    for (size_t i = 0; i < m; i++) t[i] = s->res[i * w], phi[i] = s->res[i * w + 4 + 4 * mode];
    return rg_measure_crossing(m, t, phi, RG_MEASURE_LEVEL_TS, &ts) == RG_OK ? ts : (double)NAN;
}

int repro_meta(const repro *r, const char *name, const char *sub, void (*params)(json *j, const void *ctx),
               const void *ctx)
{
    char dir[4096], path[4096];
    json j;
    int st = run_path(dir, sizeof dir, r->dir, sub);
    if (!st) st = run_path(path, sizeof path, dir, "meta.json");
    if (!st) st = j_open(&j);
    if (st) return st;
    j_str(&j, "tool", "regimes"), j_str(&j, "version", RG_VERSION), j_str(&j, "build", RG_BUILD_FLAGS);
    j_bool(&j, "mpi", par_compiled()), j_str(&j, "command", "reproduce"), j_str(&j, "experiment", name);
    j_str(&j, "run", sub), j_int(&j, "seed", (long long)r->seed), j_int(&j, "samples", (long long)r->samples);
    j_bool(&j, "quick", r->quick);
    j_obj(&j, "params");
    params(&j, ctx);
    j_end(&j, '}');
    j_int(&j, "ranks", par_size()), j_int(&j, "threads", r->threads ? r->threads : omp_get_max_threads());
    st = j_close(&j);
    if (!st && rg_io_text_write(path, j.buf, j.len)) st = cli_status(RG_EIO);
    j_free(&j);
    return st;
}

/* The rule, once, at the top of every report (and the demo's). */
void repro_rule_text(FILE *f)
{
    fputs("Every judged row follows one rule: with the measured value's 95% interval [lo, hi] and a model\n"
          "allowance a stated for the quantity (what the theory leaves out; 0 where it is exact for the\n"
          "experiment), the row passes when the theory lies in [lo - a, hi + a] and the interval resolves\n"
          "the effect (half-width at most the stated bound); it FAILs when the theory lies outside; it is\n"
          "undecided when the interval is too wide to decide or cannot be computed (more samples needed:\n"
          "not a pass). Times are\n"
          "compared like with like: the theory's crossing on the same branch grid as the measurement's\n"
          "(docs/math.md 8.1). Conditions the method needs are met or not. Report-only rows (no theory, or\n"
          "a known approximation with no claim) are listed apart and never counted.\n\n", f);
}

static const char JUDGED_HEAD[] = "| experiment | quantity | theory | measured | 95% interval | rule | verdict |\n"
                                  "|---|---|---|---|---|---|---|\n";
static const char NOTES_HEAD[] = "\n### Reported, not judged\n\n| experiment | quantity | value | 95% interval | why not judged |\n"
                                 "|---|---|---|---|---|\n";

void repro_tables(FILE *f, const char *judged, const char *notes)
{
    fputs(JUDGED_HEAD, f);
    fputs(judged, f);
    if (notes && *notes) fputs(NOTES_HEAD, f), fputs(notes, f);
}

int repro_split(char *line, char **argv, int max)
{
    int argc = 0;
    for (char *tok = strtok(line, " "); tok && argc < max - 1; tok = strtok(NULL, " ")) argv[argc++] = tok;
    argv[argc] = NULL;
    return argc;
}

/* argv of `CMD EXTRA --samples N --seed S --quiet [--threads T] --out DIR/SUB` in line (modified). */
static int run_argv(const repro *r, const char *cmd, const char *sub, const char *extra, size_t def, char *line,
                    size_t len, char **argv)
{
    char thr[32] = "";
    if (r->threads) snprintf(thr, sizeof thr, " --threads %d", r->threads);
    snprintf(line, len, "%s %s --samples %zu --seed %llu --quiet%s --out %s/%s", cmd, extra, r->samples ? r->samples : def,
             (unsigned long long)r->seed, thr, r->dir, sub);
    return repro_split(line, argv, 64);
}

int repro_clone(repro *r, const char *sub, const char *extra, size_t default_pairs, clone_summary *s)
{
    char line[2048], *argv[64];
    int argc = run_argv(r, "clone", sub, extra, default_pairs, line, sizeof line, argv);
    memset(s, 0, sizeof *s);
    int st = clone_main(argc, argv, s);
    cli_set_command("regimes reproduce");
    return st;
}

int repro_collapse(repro *r, const char *sub, const char *extra, size_t default_samples, collapse_summary *s)
{
    char line[2048], *argv[64];
    int argc = run_argv(r, "collapse", sub, extra, default_samples, line, sizeof line, argv);
    memset(s, 0, sizeof *s);
    int st = collapse_main(argc, argv, s);
    cli_set_command("regimes reproduce");
    return st;
}

int repro_plot(repro *r, const char *name, const char *title, const char *xlabel, const char *ylabel, size_t n,
               const rg_io_series *s)
{
    char path[4096];
    int st = run_path(path, sizeof path, r->dir, name);
    if (st) return st;
    if (par_rank() == 0) {
        int s2 = rg_io_plot(path, title, xlabel, ylabel, n, s);
        if (s2) return cli_status(s2);
    }
    fprintf(r->md, "\n![%s](%s)\n\n", title, name);
    return RG_OK;
}

int repro_plot_phi(repro *r, const char *name, const char *title, size_t n, const clone_summary *s,
                   const char *const *labels, size_t mode)
{
    rg_io_series ser[16];
    double buf[16][4][64];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 2 <= 16; i++) {
        size_t m = s[i].m < 64 ? s[i].m : 64, w = 1 + 4 * s[i].L;
        for (size_t j = 0; j < m; j++) {
            const double *rw = s[i].res + j * w;
            buf[k][0][j] = rw[0], buf[k][1][j] = rw[1 + 4 * mode], buf[k][2][j] = rw[2 + 4 * mode];
            buf[k][3][j] = rw[3 + 4 * mode], buf[k + 1][1][j] = rw[4 + 4 * mode];
        }
        ser[k] = (rg_io_series){ labels[2 * i], m, buf[k][0], buf[k][1], buf[k][2], buf[k][3], 1 };
        ser[k + 1] = (rg_io_series){ labels[2 * i + 1], m, buf[k][0], buf[k + 1][1], NULL, NULL, 0 };
        k += 2;
    }
    return repro_plot(r, name, title, "branch time t_b (forward, OU units)", "phi(t_b)", k, ser);
}

static void reproduce_help(void)
{
    fputs("usage: regimes reproduce NAME [--out DIR] [--samples N] [--seed S] [--threads N] [--quick]\n\nNAME:\n",
          stdout);
    for (size_t i = 0; i < N_EXP; i++) {
        printf("  %-15s ", EXPERIMENTS[i].name);
        for (const char *c = EXPERIMENTS[i].help; *c; c++) {
            putchar(*c);
            if (*c == '\n') printf("  %-15s ", "");
        }
        putchar('\n');
    }
    fputs("\nWrites DIR/NAME/... (CSV and meta.json per run), PNG plots and DIR/report.md: a row per\n"
          "quantity with theory, measurement, its 95% interval and a verdict by one rule (pass: the theory\n"
          "inside the interval widened by the row's stated model allowance, and the interval narrow enough\n"
          "to decide; FAIL: outside; undecided: too wide), report-only rows apart. --samples sets\n"
          "the clone pairs or trajectories of every run (default: each experiment's own, sized for about\n"
          "3 minutes on 2 cores). --quick: mnist-exact and mnist-trained measure the digits only (no paired\n"
          "MNIST). Defaults: --out results/reproduce, --seed 1. Exit 0 even when a row fails\n"
          "(the report says so); 2 for bad usage. Under mpirun every run splits across the ranks.\n", stdout);
}

/* report.md: the command, the rule, the judged rows with the experiment's notes and plots, the
 * report-only rows, the count. */
static int reproduce_write(const repro *r, const char *name, const char *text, const char *notes, double wall)
{
    char *rep = NULL, path[4096];
    size_t rlen = 0;
    FILE *f = open_memstream(&rep, &rlen);
    if (!f) return cli_nomem("out of memory");
    fprintf(f, "# regimes reproduce %s\n\n`regimes reproduce %s", name, name);
    if (r->samples) fprintf(f, " --samples %zu", r->samples);
    if (r->quick) fputs(" --quick", f);
    fprintf(f, " --seed %llu --out %s`\n\n", (unsigned long long)r->seed, r->dir);
    repro_rule_text(f);
    repro_tables(f, text, notes);
    fprintf(f, "\n%d of %d judged rows pass (%d undecided). Wall time %.0f s, %d rank(s).\n", r->pass, r->rows,
            r->undecided, wall, par_size());
    int st = fclose(f) ? cli_nomem("out of memory") : run_path(path, sizeof path, r->dir, "report.md");
    if (!st && rg_io_text_write(path, rep, rlen)) st = cli_status(RG_EIO);
    if (!st) printf("%s: %d of %d judged rows pass, %d undecided (%s)\n", name, r->pass, r->rows, r->undecided, path);
    free(rep);
    return st;
}

int cmd_reproduce(int argc, char **argv)
{
    cli_set_command("regimes reproduce");
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], "--help") == 0) {
            reproduce_help();
            return RG_OK;
        }
    const char *names[N_EXP + 1];
    char list[512] = "";
    for (size_t i = 0; i < N_EXP; i++) {
        names[i] = EXPERIMENTS[i].name;
        strcat(list, i ? ", " : ""), strcat(list, names[i]);
    }
    names[N_EXP] = NULL;
    if (argc < 2 || strncmp(argv[1], "--", 2) == 0) return cli_usage("missing NAME (%s)", list);
    int which;
    if (cli_parse_choice("NAME", argv[1], names, &which)) return RG_EINVAL;
    cli_opt v[5] = { { "--out", 1, NULL }, { "--samples", 1, NULL }, { "--seed", 1, NULL }, { "--threads", 1, NULL },
                     { "--quick", 0, NULL } };
    if (cli_scan(argc, argv, 2, v, 5)) return RG_EINVAL;
    size_t samples = 0, seed = 1, threads = 0;
    if (v[1].value && cli_parse_size("--samples", v[1].value, 10, 1000000, &samples)) return RG_EINVAL;
    if (v[2].value && cli_parse_size("--seed", v[2].value, 0, (size_t)-1, &seed)) return RG_EINVAL;
    if (v[3].value && cli_parse_size("--threads", v[3].value, 1, 1024, &threads)) return RG_EINVAL;
    const char *dir = v[0].value ? v[0].value : "results/reproduce";
    int st = par_rank() == 0 ? run_outdir(dir) : RG_OK;
    if ((st = par_status(st))) return st;
    double t0 = run_now();
    char *text = NULL;
    size_t len = 0;
    char *notes = NULL;
    size_t nlen = 0;
    repro r = { .md = open_memstream(&text, &len), .notes = open_memstream(&notes, &nlen), .dir = dir,
                .samples = samples, .seed = seed, .threads = (int)threads, .quick = v[4].value != NULL };
    if (!r.md || !r.notes) return cli_nomem("out of memory");
    st = EXPERIMENTS[which].run(&r);
    fclose(r.md), fclose(r.notes);
    cli_set_command("regimes reproduce");
    if (!st && par_rank() == 0) st = reproduce_write(&r, names[which], text, notes, run_now() - t0);
    free(text), free(notes);
    return st;
}

