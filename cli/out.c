/* summary.json, meta.json and CSV files of the experiments (out.h). */
#define _POSIX_C_SOURCE 200809L
#include "out.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/io.h"
#include "args.h"
#include "cli.h"
#include "par.h"
#include "run.h"

void cli_json_num(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.17g", x);
    else fputs("null", f);
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
        else if (*c < 0x20) fprintf(f, "\\u%04x", *c);
        else fputc(*c, f);
    }
    fputc('"', f);
}

/* ---- JSON writer ------------------------------------------------------------------------------------- */
int j_open(json *j)
{
    memset(j, 0, sizeof *j);
    j->f = open_memstream(&j->buf, &j->len);
    if (!j->f) return cli_nomem("out of memory for a JSON object");
    fputc('{', j->f);
    return RG_OK;
}

void j_key(json *j, const char *key)
{
    if (j->comma[j->depth]) fputs(", ", j->f);
    j->comma[j->depth] = 1;
    if (key) cli_json_str(j->f, key), fputs(": ", j->f);
}

void j_num(json *j, const char *key, double x) { j_key(j, key), cli_json_num(j->f, x); }
void j_int(json *j, const char *key, long long x) { j_key(j, key), fprintf(j->f, "%lld", x); }
void j_bool(json *j, const char *key, int x) { j_key(j, key), fputs(x ? "true" : "false", j->f); }

void j_str(json *j, const char *key, const char *s)
{
    j_key(j, key);
    if (s) cli_json_str(j->f, s);
    else fputs("null", j->f);
}

void j_nums(json *j, const char *key, size_t n, const double *x)
{
    j_key(j, key);
    fputc('[', j->f);
    for (size_t i = 0; i < n; i++) fputs(i ? ", " : "", j->f), cli_json_num(j->f, x[i]);
    fputc(']', j->f);
}

static void step_value(FILE *f, const cli_env *e, double t)
{
    const long k = env_step(e, t);
    if (k < 0) fputs("null", f);
    else fprintf(f, "%ld", k);
}

void j_time(json *j, const cli_env *e, const char *key, double t)
{
    j_num(j, key, t);
    if (!e->noise) return;
    char k2[96];
    snprintf(k2, sizeof k2, "%s_step", key);
    j_key(j, k2);
    step_value(j->f, e, t);
}

void j_times(json *j, const cli_env *e, const char *key, size_t n, const double *t)
{
    j_nums(j, key, n, t);
    if (!e->noise) return;
    char k2[96];
    snprintf(k2, sizeof k2, "%s_step", key);
    j_key(j, k2);
    fputc('[', j->f);
    for (size_t i = 0; i < n; i++) fputs(i ? ", " : "", j->f), step_value(j->f, e, t[i]);
    fputc(']', j->f);
}

void j_obj(json *j, const char *key)
{
    j_key(j, key);
    fputc('{', j->f);
    j->comma[++j->depth] = 0;
}

void j_arr(json *j, const char *key)
{
    j_key(j, key);
    fputc('[', j->f);
    j->comma[++j->depth] = 0;
}

void j_end(json *j, char close)
{
    fputc(close, j->f);
    j->depth--;
}

int j_close(json *j)
{
    fputs("}\n", j->f);
    const int bad = fclose(j->f) != 0;
    j->f = NULL;
    return bad ? cli_nomem("out of memory for a JSON object") : RG_OK;
}

void j_free(json *j)
{
    if (j->f) fclose(j->f);
    free(j->buf);
    memset(j, 0, sizeof *j);
}

/* ---- files -------------------------------------------------------------------------------------------- */
int out_summary(const cli_args *a, const char *dir, const json *j)
{
    char path[4096];
    int st = run_path(path, sizeof path, dir, "summary.json");
    if (!st) st = rg_io_text_write(path, j->buf, j->len) ? cli_status(RG_EIO) : RG_OK;
    if (!st && a->json && (fwrite(j->buf, 1, j->len, stdout) != j->len || fflush(stdout) != 0))
        st = cli_runtime("cannot write the summary on stdout");
    return st;
}

static const char *const KIND[] = { "ou", "coupled", "nonrev", "general" };

void out_process(json *j, const cli_env *e)
{
    const spec_opts *o = &e->o;
    const rg_process *p = e->b.p;
    j_obj(j, "process");
    j_str(j, "kind", KIND[o->kind]);
    j_int(j, "dim", (long long)(o->kind == RG_PROCESS_COUPLED ? rg_process_mult(p) : rg_process_dim(p)));
    j_int(j, "N", (long long)rg_process_dim(p));
    if (o->kind == RG_PROCESS_COUPLED) {
        j_str(j, "coupling", o->aniso ? "anisotropic" : o->coupling == RG_COUPLING_DIFFUSIVE ? "diffusive" : "cross");
        j_num(j, "gamma", o->aniso || o->schedule ? (double)NAN : o->gamma);
        j_str(j, "schedule", o->schedule);
        if (!o->schedule) {
            j_arr(j, "M");
            j_nums(j, NULL, 2, e->b.M), j_nums(j, NULL, 2, e->b.M + 2);
            j_end(j, ']');
        }
    }
    if (o->kind == RG_PROCESS_NONREV) j_str(j, "U", o->U), j_str(j, "Q", o->q_file), j_num(j, "q_scale", o->q_scale);
    if (o->kind == RG_PROCESS_GENERAL) j_str(j, "A", o->A);
    j_end(j, '}');
}

void out_data(json *j, const cli_env *e)
{
    const cli_args *a = e->a;
    const spec_opts *o = &e->o;
    j_obj(j, "data");
    j_str(j, "kind", opts_data_name(a->data));
    if (a->data == DATA_GMM4) j_num(j, "mc2", o->mc2), j_num(j, "md2", o->md2);
    if (a->data == DATA_GMM2) j_num(j, "mean_norm2", e->b.norm2[0]);
    if (opts_mixture(a)) j_num(j, "sigma2", o->sigma2);
    if (opts_mixture(a) && o->kind >= RG_PROCESS_NONREV) j_str(j, "mean_dir", o->mean_dir), j_str(j, "cw", o->cw);
    if (a->data == DATA_NPY) {
        j_str(j, "file", a->data_path), j_str(j, "sha256", e->sha_data);
        j_str(j, "labels", a->labels_path), j_str(j, "labels_sha256", a->labels_path ? e->sha_labels : NULL);
    }
    if (a->data == DATA_MNIST || a->data == DATA_FASHION) {
        double dg[10];
        for (size_t i = 0; i < a->n_digits; i++) dg[i] = a->digits[i];
        j_nums(j, "digits", a->n_digits, dg);
        if (e->views == 2) j_num(j, "rho", a->rho);
    }
    if (e->X) j_int(j, "P", (long long)e->P_all);
    j_int(j, "classes", (long long)e->n_classes);
    j_end(j, '}');
}

static void meta_noise(json *j, const cli_env *e)
{
    j_obj(j, "noise");
    j_str(j, "spec", e->a->noise ? e->a->noise : e->noise ? "ddpm-linear" : NULL);
    if (e->noise) {
        const size_t K = rg_noise_steps(e->noise);
        j_int(j, "steps", (long long)K), j_num(j, "t_last", rg_noise_time(e->noise, K - 1));
    }
    j_end(j, '}');
}

int out_meta(const char *dir, const char *cmd, int argc, char **argv, const cli_env *e, const out_grid *g,
             double wall, void (*extra)(json *j, const void *ctx), const void *ctx)
{
    const cli_args *a = e->a;
    json j;
    char path[4096];
    int st = run_path(path, sizeof path, dir, "meta.json");
    if (!st) st = j_open(&j);
    if (st) return st;
    j_str(&j, "tool", "regimes"), j_str(&j, "version", RG_VERSION), j_str(&j, "build", RG_BUILD_FLAGS);
    j_bool(&j, "mpi", par_compiled()), j_str(&j, "command", cmd);
    j_arr(&j, "argv");
    for (int i = 1; i < argc; i++) j_str(&j, NULL, argv[i]);
    j_end(&j, ']');
    out_process(&j, e), out_data(&j, e), meta_noise(&j, e);
    j_str(&j, "score", e->score_name), j_str(&j, "labeller", e->lab_name);
    j_int(&j, "seed", (long long)a->seed), j_int(&j, "samples", (long long)a->samples);
    j_str(&j, "method", opts_method_name(a->method)), j_str(&j, "grid", opts_grid_name(a->grid));
    j_time(&j, e, "T", g->T), j_time(&j, e, "t_end", g->t_end), j_int(&j, "grid_points", (long long)g->n_grid);
    j_time(&j, e, "horizon", e->horizon), j_num(&j, "kappa_T", g->kappa_T), j_bool(&j, "horizon_warning", g->kappa_T > 0.01 * (1 + 1e-6));
    if (extra) extra(&j, ctx);
    j_int(&j, "ranks", par_size()), j_int(&j, "threads", a->threads ? a->threads : omp_get_max_threads());
    j_num(&j, "wall_s", wall);
    st = j_close(&j);
    if (!st && rg_io_text_write(path, j.buf, j.len)) st = cli_status(RG_EIO);
    j_free(&j);
    return st;
}

int out_csv(const cli_env *e, const char *dir, const char *name, size_t ncol, const char *const *header,
            const int *time_col, size_t nrow, const double *data)
{
    size_t nt = 0;
    for (size_t c = 0; e->noise && c < ncol; c++) nt += time_col[c] != 0;
    const size_t w = ncol + nt;
    char path[4096], (*names)[96] = malloc((w ? w : 1) * sizeof *names);
    const char **h = malloc((w ? w : 1) * sizeof *h);
    double *d = malloc((nrow ? nrow * w : 1) * sizeof *d);
    int st = names && h && d ? run_path(path, sizeof path, dir, name) : cli_nomem("out of memory for %s", name);
    for (size_t c = 0, k = 0; c < ncol && !st; c++) {
        h[k] = header[c];
        for (size_t r = 0; r < nrow; r++) d[r * w + k] = data[r * ncol + c];
        k++;
        if (!e->noise || !time_col[c]) continue;
        snprintf(names[k], sizeof names[k], "%.*s_step [step]", (int)strcspn(header[c], " "), header[c]);
        h[k] = names[k];
        for (size_t r = 0; r < nrow; r++) d[r * w + k] = (double)env_step(e, data[r * ncol + c]);
        k++;
    }
    if (!st && rg_io_csv_write(path, w, h, nrow, d)) st = cli_status(RG_EIO);
    free(names), free(h), free(d);
    return st;
}
