/* `regimes theory` on a data set (--data FILE.npy|mnist|fashion): the covariance spectrum, t_S under each
 * convention, t_C from the data's own SNR spectrum (docs/math.md 11.2), as a table or JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "regimes/error.h"
#include "regimes/process.h"
#include "regimes/theory.h"
#include "args.h"
#include "cli.h"
#include "out.h"

#define TOP_DEFAULT 10

typedef struct {
    double *top;           /* (n_top) eigenvalues of C, descending */
    size_t n_top, k;
    double rate, *re, *im; /* relaxation rate; the core drift's eigenvalues (k) */
} data_extra;

static int extra_new(const cli_env *e, data_extra *x)
{
    x->k = rg_process_core(e->b.p);
    x->n_top = e->a->top ? e->a->top : TOP_DEFAULT;
    if (x->n_top > e->N) x->n_top = e->N;
    x->top = malloc(x->n_top * sizeof *x->top), x->re = malloc(2 * x->k * sizeof *x->re);
    if (!x->top || !x->re) return cli_nomem("out of memory for the spectrum");
    x->im = x->re + x->k;
    int s = rg_theory_dataset_spectrum(e->ds, x->n_top, x->top);
    if (!s) s = rg_process_relaxation_rate(e->b.p, &x->rate);
    if (!s) s = rg_process_rates(e->b.p, x->re, x->im);
    return s ? cli_status(s) : RG_OK;
}

static void extra_free(data_extra *x) { free(x->top), free(x->re); }

/* The headline t_S: the class means' criterion with labels, else the covariance criterion. */
static double headline(const cli_env *e) { return e->dt.found_class ? e->dt.t_s_class : e->dt.t_s_exact; }

static void json_paired(json *j, const cli_env *e)
{
    if (e->views != 2) return;
    j_num(j, "lambda_c", e->lambda_c), j_num(j, "lambda_d", e->lambda_d);
    j_num(j, "sync_gap", e->t_s[0] - e->t_s[1]);
    j_arr(j, "mode_times");
    const char *names[2] = { "common", "difference" };
    for (size_t l = 0; l < 2; l++) {
        j_obj(j, NULL);
        j_str(j, "name", names[l]), j_time(j, e, "t_S", e->t_s[l]);
        j_end(j, '}');
    }
    j_end(j, ']');
}

int theory_json_data(const cli_env *e, FILE *f)
{
    data_extra x = { 0 };
    json j;
    int st = extra_new(e, &x);
    if (!st) st = j_open(&j);
    if (st) return extra_free(&x), st;
    j_str(&j, "tool", "regimes"), j_str(&j, "version", RG_VERSION), j_str(&j, "command", "theory");
    out_process(&j, e), out_data(&j, e);
    j_num(&j, "relaxation_rate", x.rate), j_num(&j, "lambda_max", e->dt.lambda_max), j_nums(&j, "top", x.n_top, x.top);
    j_time(&j, e, "t_S", headline(e)), j_time(&j, e, "t_S_parent", e->dt.t_s_parent);
    j_time(&j, e, "t_S_exact", e->dt.t_s_exact), j_time(&j, e, "t_S_class", e->dt.t_s_class);
    j_time(&j, e, "t_C", e->dt.t_c), j_num(&j, "alpha", log((double)e->X->P) / (double)e->N);
    j_time(&j, e, "horizon", e->horizon), j_int(&j, "criterion_evaluations", (long long)e->dt.evals);
    json_paired(&j, e);
    j_arr(&j, "modes");
    for (size_t i = 0; i < x.k; i++) {
        j_obj(&j, NULL);
        j_num(&j, "rate", x.re[i]), j_num(&j, "rate_imag", x.im[i]);
        j_end(&j, '}');
    }
    j_end(&j, ']');
    st = j_close(&j);
    if (!st && fwrite(j.buf, 1, j.len, f) != j.len) st = cli_runtime("cannot write the output");
    j_free(&j), extra_free(&x);
    return st;
}

static void table_row(const cli_env *e, FILE *f, const char *name, double t, const char *what)
{
    char a[32], s[48] = "";
    const long k = env_step(e, t);
    if (e->noise && k >= 0) snprintf(s, sizeof s, " (step %ld)", k);
    fprintf(f, "%-12s%-14s%s%s\n", name, theory_num(t, a, sizeof a), what, s);
}

int theory_table_data(const cli_env *e, FILE *f)
{
    const cli_args *a = e->a;
    data_extra x = { 0 };
    int st = extra_new(e, &x);
    if (st) return extra_free(&x), st;
    fprintf(f, "data        %s, P = %zu rows of N = %zu, centred; %zu classes\n",
            a->data_path ? a->data_path : opts_data_name(a->data), e->X->P, e->N, e->n_classes);
    fprintf(f, "process     %s, relaxation rate %.6g\n", (const char *[]){ "ou", "coupled", "nonrev", "general" }[e->o.kind], x.rate);
    fprintf(f, "spectrum    Lambda = %.6g; top %zu:", e->dt.lambda_max, x.n_top);
    for (size_t i = 0; i < x.n_top; i++) fprintf(f, " %.4g", x.top[i]);
    fputc('\n', f);
    table_row(e, f, "t_S_parent", e->dt.t_s_parent, "signal = stationary noise (ou: 1/2 log Lambda, the parent paper)");
    table_row(e, f, "t_S_exact", e->dt.t_s_exact, "covariance criterion lambda_max(K_t) = 1 (ou: 1/2 log(1 + Lambda))");
    table_row(e, f, "t_S_class", e->dt.t_s_class, "class means and pooled within-class covariance, kappa = 1");
    if (e->views == 2) {
        table_row(e, f, "t_S common", e->t_s[0], "paired images: log(1 + lambda_c Lambda_c) / (2 lambda_c)");
        table_row(e, f, "t_S diff", e->t_s[1], "paired images: log(1 + lambda_d Lambda_d) / (2 lambda_d)");
    }
    table_row(e, f, "t_C", e->dt.t_c, "REM criterion on the data's SNR spectrum (Gaussian approximation)");
    table_row(e, f, "horizon", e->horizon, "lambda_max(K_t) <= 0.01 beyond this time");
    fputs("(forward times in OU units; 'none': no crossing on [1e-4, 200]; --json: all digits)\n", f);
    extra_free(&x);
    return RG_OK;
}
