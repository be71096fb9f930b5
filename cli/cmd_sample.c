/* `regimes sample`: flags -> data, process, score, labeller -> rg_exp_sample -> samples.npy (in the
 * data's coordinates), classes.csv, samples.png for images, summary.json, meta.json (docs/math.md 6). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/experiment.h"
#include "regimes/io.h"
#include "args.h"
#include "cli.h"
#include "model.h"
#include "out.h"
#include "par.h"
#include "run.h"
#include "source.h"

static void sample_help(FILE *f)
{
    fputs("usage: regimes sample [process flags] [data flags] [experiment flags]\n"
          "\n"
          "Draws --samples trajectories from the stationary prior at T and integrates the reverse process to\n"
          "t_end with the exact mixture score (mixtures, default), the exact empirical score of a training set\n"
          "(--score empirical: --n-train points drawn with --seed; --data FILE.npy|mnist|fashion: its rows,\n"
          "centred), or a score network (--model FILE written by regimes train --task score: its process comes\n"
          "from FILE.json, process flags are refused; default T its training t-max).\n"
          "\n"
          "  --score S          exact (mixtures) or empirical\n"
          "  --model FILE       a score network instead\n"
          "  --labeller L, --classifier FILE: the class fractions of the final samples (regimes clone --help);\n"
          "                     default: the data's own rule when it has one\n"
          "\n"
          "Defaults: --samples 1000, --steps 200, --method exp, --grid geometric, --out results/sample.\n"
          "Output (--out DIR): samples.npy (samples x N float32, in the data's coordinates: a data set's mean,\n"
          "or a network's training mean, is added back), classes.csv (mode, class, count, fraction) with a\n"
          "labeller, samples.png for 784 (28 x 28) or 2 x 784 (paired, x above y) dimensions (the first 100,\n"
          "10 per row, gray levels from [0, 1]), summary.json (the object --json prints), meta.json.\n\n",
          f);
    run_print_help(f);
}

/* The samples back in the data's coordinates: the mean subtracted from a data set (per view) or the
 * training mean of a --model network. */
static void uncentre(const cli_env *e, float *X, size_t n)
{
    const double *off = e->net_mean ? e->net_mean : e->offset;
    const size_t w = e->net_mean ? e->N : e->N / (e->views ? e->views : 1);
    if (!off) return;
    for (size_t i = 0; i < n * e->N; i++) X[i] = (float)((double)X[i] + off[i % e->N % w]);
}

static int write_samples(const cli_env *e, const char *dir, rg_exp_sample_result *r)
{
    char path[4096];
    rg_data_set S = { .P = r->n, .N = r->N, .X = r->x, .labels = NULL };
    uncentre(e, r->x, r->n);
    int st = run_path(path, sizeof path, dir, "samples.npy");
    if (!st && rg_data_set_write_npy(path, &S)) st = cli_status(RG_EIO);
    if (!st && (r->N == 784 || r->N == 2 * 784)) {
        st = run_path(path, sizeof path, dir, "samples.png");
        if (!st && rg_io_png_grid(path, r->n < 100 ? r->n : 100, r->N / 28, 28, r->x, 10, 0.0f, 1.0f)) st = cli_status(RG_EIO);
    }
    if (st || !r->class_frac) return st;
    const size_t L = r->n_modes, K = r->n_classes;
    static const char *const H[] = { "mode [index]", "class [index]", "count [1]", "fraction [1]" };
    static const int TC[] = { 0, 0, 0, 0 };
    double *tab = malloc(L * K * 4 * sizeof *tab);
    if (!tab) return cli_nomem("out of memory");
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) {
            double *row = tab + 4 * (l * K + k), fr = r->class_frac[l * K + k];
            row[0] = (double)l, row[1] = (double)k, row[2] = round(fr * (double)r->n), row[3] = fr;
        }
    st = out_csv(e, dir, "classes.csv", 4, H, TC, L * K, tab);
    free(tab);
    return st;
}

static int sample_json(const cli_env *e, const char *dir, const run_setup *rs, const rg_exp_sample_result *r)
{
    json j;
    int st = j_open(&j);
    if (st) return st;
    j_str(&j, "tool", "regimes"), j_str(&j, "command", "sample");
    out_process(&j, e), out_data(&j, e);
    j_str(&j, "score", e->score_name), j_str(&j, "model", e->a->model), j_str(&j, "labeller", e->lab_name);
    j_int(&j, "samples", (long long)r->n), j_int(&j, "N", (long long)r->N);
    j_time(&j, e, "T", rs->T), j_time(&j, e, "t_end", rs->t_end);
    j_arr(&j, "fractions"); /* per mode, the fraction in class 0 */
    for (size_t l = 0; r->class_frac && l < r->n_modes; l++) j_num(&j, NULL, r->class_frac[l * r->n_classes]);
    j_end(&j, ']');
    j_bool(&j, "png", r->N == 784 || r->N == 2 * 784), j_str(&j, "out", dir);
    st = j_close(&j);
    if (!st) st = out_summary(e->a, dir, &j);
    j_free(&j);
    return st;
}

static int sample_run(const cli_env *e, int argc, char **argv, void *ctx, double t0)
{
    (void)ctx;
    const cli_args *a = e->a;
    const char *dir = a->out ? a->out : "results/sample";
    run_setup rs = { 0 };
    double tmax = NAN;
    for (size_t l = 0; l < e->n_pred; l++) tmax = fmax(tmax, e->t_s[l]);
    int st = run_times(e, tmax, &rs.T, &rs.t_end);
    double t_max = NAN; /* a network: its training range bounds the start */
    if (!st && a->model && isnan(a->T) && model_read_number(a->model, "t_max", &t_max) == RG_OK && t_max > rs.t_end)
        rs.T = t_max;
    if (!st) st = run_outdir(dir);
    if (!st) st = run_prepare(e, "sample", NULL, 0, &rs);
    const rg_exp_sample_cfg c = { .run = rs.run, .n = a->samples, .lab = e->lab.label ? &e->lab : NULL, .keep = 1 };
    rg_exp_sample_result r = { 0 };
    const int s = st ? RG_OK : rg_exp_sample(&c, &r);
    if (s) st = cli_status(s);
    run_progress_end(&rs.progress);
    const out_grid g = { rs.T, rs.t_end, rs.grid, rs.n_grid, rs.kappa_T };
    if (!st && par_rank() == 0) st = write_samples(e, dir, &r);
    if (!st && par_rank() == 0) st = sample_json(e, dir, &rs, &r);
    if (!st && par_rank() == 0) st = out_meta(dir, "sample", argc, argv, e, &g, run_now() - t0, NULL, NULL);
    rg_exp_sample_result_free(&r);
    run_release(&rs);
    return st;
}

int cmd_sample(int argc, char **argv)
{
    cli_set_command("regimes sample");
    return env_command(argc, argv, CMD_SAMPLE, 1000, 200, ENV_SCORE | ENV_LABELLER, sample_help, sample_run, NULL);
}
