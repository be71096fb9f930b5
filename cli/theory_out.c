/* `regimes theory` output: the readable table, the JSON object and --help (schema: docs/cli.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "regimes/process.h"
#include "regimes/error.h"
#include "cli.h"
#include "out.h"

static const char *const KIND_NAMES[] = { "ou", "coupled", "nonrev", "general" };

const char *theory_num(double x, char *buf, size_t len)
{
    if (isnan(x)) return "none";
    if (isinf(x)) return x > 0 ? "inf" : "-inf";
    snprintf(buf, len, "%.6g", x);
    return buf;
}

/* ---- JSON ---------------------------------------------------------------------------------------- */

static void jkey_num(FILE *f, const char *key, double x, const char *sep)
{
    fprintf(f, "\"%s\": ", key);
    cli_json_num(f, x);
    fputs(sep, f);
}

/* A time and, with a schedule, "key_step": its step (null beyond the schedule). */
static void jkey_time(FILE *f, const cli_env *e, const char *key, double t, const char *sep)
{
    jkey_num(f, key, t, e->noise ? ", " : sep);
    if (!e->noise) return;
    const long k = env_step(e, t);
    if (k < 0) fprintf(f, "\"%s_step\": null%s", key, sep);
    else fprintf(f, "\"%s_step\": %ld%s", key, k, sep);
}

static void json_coupling(const cli_env *r, FILE *f)
{
    const spec_opts *o = &r->o;
    const spec_built *b = &r->b;
    fputs(", \"coupling\": ", f);
    cli_json_str(f, o->aniso ? "anisotropic" : o->coupling == RG_COUPLING_DIFFUSIVE ? "diffusive" : "cross");
    fputs(", \"gamma\": ", f);
    cli_json_num(f, o->aniso || b->n_knots ? (double)NAN : o->gamma);
    if (!b->n_knots) {
        fputs(", \"M\": [[", f);
        cli_json_num(f, b->M[0]), fputs(", ", f), cli_json_num(f, b->M[1]), fputs("], [", f);
        cli_json_num(f, b->M[2]), fputs(", ", f), cli_json_num(f, b->M[3]), fputs("]], \"schedule\": null", f);
        return;
    }
    fputs(", \"M\": null, \"schedule\": {\"interp\": ", f);
    cli_json_str(f, b->interp == RG_SCHEDULE_LINEAR ? "linear" : "piecewise");
    fputs(", \"t\": [", f);
    for (size_t i = 0; i < b->n_knots; i++) fputs(i ? ", " : "", f), cli_json_num(f, b->knot_t[i]);
    fputs("], \"gamma\": [", f);
    for (size_t i = 0; i < b->n_knots; i++) fputs(i ? ", " : "", f), cli_json_num(f, b->knot_g[i]);
    fputs("]}", f);
}

static void json_process(const cli_env *r, FILE *f)
{
    const rg_process *p = r->b.p;
    fputs("  \"process\": {\"kind\": ", f);
    cli_json_str(f, KIND_NAMES[r->o.kind]);
    size_t dim = r->o.kind == RG_PROCESS_COUPLED ? rg_process_mult(p) : rg_process_dim(p);
    fprintf(f, ", \"dim\": %zu, \"N\": %zu, \"core\": %zu, \"mult\": %zu", dim, rg_process_dim(p),
            rg_process_core(p), rg_process_mult(p));
    if (r->o.kind == RG_PROCESS_COUPLED) json_coupling(r, f);
    if (r->o.kind == RG_PROCESS_NONREV) {
        fputs(", \"U\": ", f), cli_json_str(f, r->o.U);
        fputs(", \"Q\": ", f), cli_json_str(f, r->o.q_file);
        fputs(", \"q_scale\": ", f), cli_json_num(f, r->o.q_scale);
    }
    if (r->o.kind == RG_PROCESS_GENERAL) fputs(", \"A\": ", f), cli_json_str(f, r->o.A);
    fputs("},\n", f);
}

static void json_data(const cli_env *r, FILE *f)
{
    const spec_opts *o = &r->o;
    fputs("  \"data\": {\"kind\": ", f);
    cli_json_str(f, o->gmm4 ? "gmm4" : "gmm2");
    if (o->gmm4) {
        fputs(", ", f), jkey_num(f, "mc2", o->mc2, ", "), jkey_num(f, "md2", o->md2, "");
    } else {
        fputs(", ", f), jkey_num(f, "mean_norm2", r->b.norm2[0], "");
    }
    fputs(", ", f), jkey_num(f, "sigma2", o->sigma2, "");
    if (o->kind == RG_PROCESS_NONREV || o->kind == RG_PROCESS_GENERAL) {
        fputs(", \"mean_dir\": ", f), cli_json_str(f, o->mean_dir);
        fputs(", \"cw\": ", f), cli_json_str(f, o->cw);
    }
    fputs(", ", f), jkey_num(f, "n_train", r->a->n_train > 0 ? r->a->n_train : 20000.0, "},\n");
}

static void json_bounds_phi(const cli_env *e, FILE *f)
{
    const rg_exp_theory_result *t = &e->th;
    if (e->o.kind == RG_PROCESS_COUPLED) {
        fputs("  \"bounds\": {\"gamma_range\": ", f);
        if (isnan(t->gamma_lo)) fputs("null", f);
        else fputs("[", f), cli_json_num(f, t->gamma_lo), fputs(", ", f), cli_json_num(f, t->gamma_hi), fputs("]", f);
        fputs(", ", f), jkey_num(f, "gamma_equal", t->gamma_equal, "},\n");
    }
    if (!t->n_phi) return;
    fputs("  \"phi\": {\"t\": [", f);
    for (size_t i = 0; i < t->n_phi; i++) fputs(i ? ", " : "", f), cli_json_num(f, t->phi_t[i]);
    fputs("]", f);
    for (size_t l = 0; l < t->n_labels; l++) {
        fprintf(f, ", \"%s\": [", e->o.gmm4 ? (l ? "difference" : "common") : "label");
        for (size_t i = 0; i < t->n_phi; i++) fputs(i ? ", " : "", f), cli_json_num(f, t->phi[l * t->n_phi + i]);
        fputs("]", f);
    }
    fputs("},\n", f);
}

static void json_modes(const cli_env *e, FILE *f)
{
    const rg_exp_theory_result *t = &e->th;
    fputs("  \"modes\": [", f);
    for (size_t i = 0; i < t->n_modes; i++) {
        fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        cli_json_str(f, t->mode_name[i]);
        fputs(", ", f), jkey_num(f, "rate", t->rate_re[i], ", "), jkey_num(f, "rate_imag", t->rate_im[i], ", ");
        jkey_time(f, e, "t_S", t->mode_t_s[i], "}");
    }
    fputs("\n  ]\n}\n", f);
}

static void theory_json_mixture(const cli_env *e, FILE *f)
{
    const rg_exp_theory_result *t = &e->th;
    fputs("{\n  \"tool\": \"regimes\", \"version\": ", f);
    cli_json_str(f, RG_VERSION);
    fputs(", \"command\": \"theory\",\n", f);
    json_process(e, f);
    json_data(e, f);
    fputs("  ", f), jkey_num(f, "relaxation_rate", t->relaxation_rate, ",\n");
    const struct { const char *key; double x; } top[] = {
        { "t_S", t->t_s }, { "t_S_matrix", t->t_s_matrix }, { "t_S_parent", t->t_s_parent }, { "t_C", t->t_c },
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) fputs("  ", f), jkey_time(f, e, top[i].key, top[i].x, ",\n");
    fputs("  ", f), jkey_num(f, "sync_gap", t->sync_gap, ",\n");
    fputs("  ", f), jkey_time(f, e, "horizon", t->horizon, ",\n");
    fputs("  ", f), jkey_num(f, "horizon_level", CLI_HORIZON_LEVEL, ",\n");
    fputs("  ", f), jkey_num(f, "horizon_min", t->horizon_min, ",\n");
    json_bounds_phi(e, f);
    json_modes(e, f);
}

/* ---- table ------------------------------------------------------------------------------------------ */

static void table_process(const cli_env *e, FILE *f)
{
    const spec_opts *o = &e->o;
    const spec_built *b = &e->b;
    size_t N = rg_process_dim(b->p);
    char g[32];
    switch (o->kind) {
    case RG_PROCESS_OU: fprintf(f, "process     ou (A = I), N = %zu\n", N); break;
    case RG_PROCESS_COUPLED:
        if (b->n_knots) fprintf(f, "process     coupled, %s schedule %s", o->coupling ? "diffusive" : "cross-drive",
                                o->schedule);
        else if (o->aniso) fprintf(f, "process     coupled, M = [[%g, %g], [%g, %g]]", b->M[0], b->M[1], b->M[2], b->M[3]);
        else fprintf(f, "process     coupled, %s gamma = %s", o->coupling ? "diffusive" : "cross-drive",
                     theory_num(o->gamma, g, sizeof g));
        fprintf(f, ", d = %zu per modality (N = %zu)\n", rg_process_mult(b->p), N);
        break;
    case RG_PROCESS_NONREV:
        fprintf(f, "process     nonrev A = (I + Q) U, U = %s, Q = %s x %g, N = %zu\n", o->U, o->q_file, o->q_scale, N);
        break;
    default: fprintf(f, "process     general A from '%s', N = %zu\n", o->A, N); break;
    }
}

static void table_data(const cli_env *e, FILE *f)
{
    const spec_opts *o = &e->o;
    if (o->gmm4)
        fprintf(f, "data        gmm4, |m_c|^2 = %g, |m_d|^2 = %g, sigma^2 = %g\n", o->mc2, o->md2, o->sigma2);
    else if (o->kind == RG_PROCESS_OU)
        fprintf(f, "data        gmm2, |m|^2 = %g, sigma^2 = %g\n", e->b.norm2[0], o->sigma2);
    else
        fprintf(f, "data        gmm2, |m|^2 = %g along %s, Cw = %g x %s\n", e->b.norm2[0], o->mean_dir, o->sigma2,
                o->cw);
}

/* The modes of the process: eigenvalues of the core drift, and per-mode t_S where defined. */
static void table_modes(const cli_env *e, size_t n, const double *re, const double *im, const double *ts,
                        const char *const *name, FILE *f)
{
    char rate[64], t[32];
    if (n <= 8) {
        fprintf(f, "%-12s%-26s%s\n", "mode", "rate", n <= 2 && ts ? "t_S (kappa = 1)" : "");
        for (size_t i = 0; i < n; i++) {
            if (im[i] == 0.0) snprintf(rate, sizeof rate, "%.6g", re[i]);
            else snprintf(rate, sizeof rate, "%.6g %c %.6gi", re[i], im[i] < 0 ? '-' : '+', fabs(im[i]));
            fprintf(f, "%-12s%-26s%s\n", name ? name[i] : "mode", rate, n <= 2 && ts ? theory_num(ts[i], t, sizeof t) : "");
        }
        return;
    }
    double mi = 0.0;
    for (size_t i = 0; i < n; i++) mi = fmax(mi, fabs(im[i]));
    fprintf(f, "modes       %zu eigenvalues, Re from %.6g to %.6g, max |Im| %.6g (--json lists them)\n", n, re[0],
            re[n - 1], mi);
    (void)e;
}

/* One row: name, the time (and its step with a schedule), what it is. */
static void table_time(const cli_env *e, FILE *f, const char *name, double t, const char *what)
{
    char a[32], s[48] = "";
    const long k = env_step(e, t);
    if (e->noise && k >= 0) snprintf(s, sizeof s, " (step %ld)", k);
    else if (e->noise && isfinite(t)) snprintf(s, sizeof s, " (beyond the schedule)");
    fprintf(f, "%-12s%-14s%s%s\n", name, theory_num(t, a, sizeof a), what, s);
}

static void theory_table_mixture(const cli_env *e, FILE *f)
{
    const rg_exp_theory_result *t = &e->th;
    char a[32], b[32], tc[96];
    table_process(e, f);
    table_data(e, f);
    table_modes(e, t->n_modes, t->rate_re, t->rate_im, t->mode_t_s, t->mode_name, f);
    table_time(e, f, "t_S", t->t_s, e->o.gmm4 ? "speciation, GMM exact (kappa = 1), the later mode" : "speciation, GMM exact (kappa = 1)");
    table_time(e, f, "t_S_matrix", t->t_s_matrix, "speciation, covariance criterion lambda_max(K_t) = 1");
    if (e->o.kind == RG_PROCESS_OU)
        table_time(e, f, "t_S_parent", t->t_s_parent, "1/2 log(Lambda), Lambda = |m|^2 + sigma^2 (the parent paper's value)");
    if (e->o.gmm4) fprintf(f, "%-12s%-14s%s\n", "sync_gap", theory_num(t->sync_gap, a, sizeof a), "t_S(common) - t_S(difference)");
    snprintf(tc, sizeof tc, "collapse with P = %.17g training points", e->a->n_train > 0 ? e->a->n_train : 20000.0);
    table_time(e, f, "t_C", t->t_c, tc);
    fprintf(f, "%-12s%-14s%s\n", "relaxation", theory_num(t->relaxation_rate, a, sizeof a), "min Re eig(A), rate per OU time unit");
    fprintf(f, "%-12s%-14skappa <= %g for every label beyond this time%s\n", "horizon", theory_num(t->horizon, a, sizeof a),
            CLI_HORIZON_LEVEL, isinf(t->horizon) ? " (none up to t = 200)" : "");
    fprintf(f, "%-12s%-14s1 / (2 rate): any horizon T must be much larger\n", "horizon_min", theory_num(t->horizon_min, a, sizeof a));
    if (e->o.kind == RG_PROCESS_COUPLED && !isnan(t->gamma_lo)) {
        char lo[32], hi[32];
        fprintf(f, "%-12sgamma in (%s, %s) is stable; gamma* = %s equalises both modes\n", "bounds",
                theory_num(t->gamma_lo, lo, sizeof lo), theory_num(t->gamma_hi, hi, sizeof hi), theory_num(t->gamma_equal, a, sizeof a));
    }
    for (size_t i = 0; i < t->n_phi; i++) {
        char lab[48];
        snprintf(lab, sizeof lab, "phi(%s)", theory_num(t->phi_t[i], a, sizeof a));
        fprintf(f, "%-12s", lab);
        for (size_t l = 0; l < t->n_labels; l++)
            fprintf(f, "%s%-14s", e->o.gmm4 ? (l ? "difference " : "common ") : "", theory_num(t->phi[l * t->n_phi + i], b, sizeof b));
        fputs(e->o.gmm4 ? "\n" : "clone agreement, branched at this time\n", f);
    }
    fputs("(times are forward times in OU units; 'none': no crossing on [1e-4, 200]; --json: all digits)\n", f);
}

int theory_print_json(const cli_env *e, FILE *f)
{
    if (!opts_mixture(e->a)) return theory_json_data(e, f);
    theory_json_mixture(e, f);
    return RG_OK;
}

int theory_print_table(const cli_env *e, FILE *f)
{
    if (!opts_mixture(e->a)) return theory_table_data(e, f);
    theory_table_mixture(e, f);
    return RG_OK;
}
