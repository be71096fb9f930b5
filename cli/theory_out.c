/* `regimes theory` output: the readable table, the JSON object and --help (schema: docs/cli.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "regimes/process.h"
#include "cli.h"

static const char *const KIND_NAMES[] = { "ou", "coupled", "nonrev", "general" };

const char *theory_num(double x, char *buf, size_t len)
{
    if (isnan(x)) return "none";
    if (isinf(x)) return x > 0 ? "inf" : "-inf";
    snprintf(buf, len, "%.6g", x);
    return buf;
}

/* ---- JSON ---------------------------------------------------------------------------------------- */

/* A JSON number with round-trip precision, or null for NaN and +-Inf (JSON has neither). */
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

static void jkey_num(FILE *f, const char *key, double x, const char *sep)
{
    fprintf(f, "\"%s\": ", key);
    cli_json_num(f, x);
    fputs(sep, f);
}

static void json_coupling(const theory_result *r, FILE *f)
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

static void json_process(const theory_result *r, FILE *f)
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
        fputs(", \"Q\": ", f), cli_json_str(f, r->q_text);
        fputs(", \"q_scale\": ", f), cli_json_num(f, r->o.q_scale);
    }
    if (r->o.kind == RG_PROCESS_GENERAL) fputs(", \"A\": ", f), cli_json_str(f, r->o.A);
    fputs("},\n", f);
}

static void json_data(const theory_result *r, FILE *f)
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
    fputs(", ", f), jkey_num(f, "n_train", r->n_train, "},\n");
}

void theory_print_json(const theory_result *r, FILE *f)
{
    fputs("{\n  \"tool\": \"regimes\", \"version\": ", f);
    cli_json_str(f, RG_VERSION);
    fputs(", \"command\": \"theory\",\n", f);
    json_process(r, f);
    json_data(r, f);
    const struct { const char *key; double x; } top[] = {
        { "relaxation_rate", r->relaxation_rate }, { "t_S", r->t_s }, { "t_S_matrix", r->t_s_matrix },
        { "t_S_parent", r->t_s_parent }, { "t_C", r->t_c }, { "sync_gap", r->sync_gap },
        { "horizon", r->horizon }, { "horizon_level", CLI_HORIZON_LEVEL }, { "horizon_min", r->horizon_min },
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) fputs("  ", f), jkey_num(f, top[i].key, top[i].x, ",\n");
    if (r->o.kind == RG_PROCESS_COUPLED) {
        fputs("  \"bounds\": {\"gamma_range\": ", f);
        if (isnan(r->gamma_lo)) fputs("null", f);
        else fputs("[", f), cli_json_num(f, r->gamma_lo), fputs(", ", f), cli_json_num(f, r->gamma_hi), fputs("]", f);
        fputs(", ", f), jkey_num(f, "gamma_equal", r->gamma_equal, "},\n");
    }
    if (r->n_phi) {
        fputs("  \"phi\": {\"t\": [", f);
        for (size_t i = 0; i < r->n_phi; i++) fputs(i ? ", " : "", f), cli_json_num(f, r->phi_t[i]);
        fputs("]", f);
        for (size_t l = 0; l < r->b.data.n_labels; l++) {
            fprintf(f, ", \"%s\": [", r->o.gmm4 ? (l ? "difference" : "common") : "label");
            for (size_t i = 0; i < r->n_phi; i++) fputs(i ? ", " : "", f), cli_json_num(f, r->phi[l * r->n_phi + i]);
            fputs("]", f);
        }
        fputs("},\n", f);
    }
    fputs("  \"modes\": [", f);
    for (size_t i = 0; i < r->n_modes; i++) {
        const theory_mode *m = &r->modes[i];
        fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        cli_json_str(f, m->name);
        fputs(", ", f), jkey_num(f, "rate", m->rate, ", "), jkey_num(f, "rate_imag", m->rate_imag, ", ");
        jkey_num(f, "t_S", m->t_s, "}");
    }
    fputs("\n  ]\n}\n", f);
}

/* ---- table ------------------------------------------------------------------------------------------ */

static void table_process(const theory_result *r, FILE *f)
{
    const spec_opts *o = &r->o;
    const spec_built *b = &r->b;
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
        fprintf(f, "process     nonrev A = (I + Q) U, U = %s, Q = %s x %g, N = %zu\n", o->U, r->q_text, o->q_scale, N);
        break;
    default: fprintf(f, "process     general A from '%s', N = %zu\n", o->A, N); break;
    }
}

static void table_data(const theory_result *r, FILE *f)
{
    const spec_opts *o = &r->o;
    if (o->gmm4)
        fprintf(f, "data        gmm4, |m_c|^2 = %g, |m_d|^2 = %g, sigma^2 = %g\n", o->mc2, o->md2, o->sigma2);
    else if (o->kind == RG_PROCESS_OU)
        fprintf(f, "data        gmm2, |m|^2 = %g, sigma^2 = %g\n", r->b.norm2[0], o->sigma2);
    else
        fprintf(f, "data        gmm2, |m|^2 = %g along %s, Cw = %g x %s\n", r->b.norm2[0], o->mean_dir, o->sigma2,
                o->cw);
}

static void table_rate(const theory_mode *m, char *buf, size_t len)
{
    if (m->rate_imag == 0.0) snprintf(buf, len, "%.6g", m->rate);
    else snprintf(buf, len, "%.6g %c %.6gi", m->rate, m->rate_imag < 0 ? '-' : '+', fabs(m->rate_imag));
}

static void table_modes(const theory_result *r, FILE *f)
{
    char rate[64], t[32];
    if (r->n_modes <= 8) {
        fprintf(f, "%-12s%-26s%s\n", "mode", "rate", r->n_modes <= 2 ? "t_S (kappa = 1)" : "");
        for (size_t i = 0; i < r->n_modes; i++) {
            table_rate(&r->modes[i], rate, sizeof rate);
            fprintf(f, "%-12s%-26s%s\n", r->modes[i].name, rate,
                    r->n_modes <= 2 ? theory_num(r->modes[i].t_s, t, sizeof t) : "");
        }
        return;
    }
    double im = 0.0;
    for (size_t i = 0; i < r->n_modes; i++) im = fmax(im, fabs(r->modes[i].rate_imag));
    fprintf(f, "modes       %zu eigenvalues, Re from %.6g to %.6g, max |Im| %.6g (--json lists them)\n",
            r->n_modes, r->modes[0].rate, r->modes[r->n_modes - 1].rate, im);
}

void theory_print_table(const theory_result *r, FILE *f)
{
    char a[32], b[32];
    table_process(r, f);
    table_data(r, f);
    table_modes(r, f);
    fprintf(f, "%-12s%-14s%s\n", "t_S", theory_num(r->t_s, a, sizeof a),
            r->o.gmm4 ? "speciation, GMM exact (kappa = 1), the later mode" : "speciation, GMM exact (kappa = 1)");
    fprintf(f, "%-12s%-14s%s\n", "t_S_matrix", theory_num(r->t_s_matrix, a, sizeof a),
            "speciation, covariance criterion lambda_max(K_t) = 1");
    if (r->o.kind == RG_PROCESS_OU)
        fprintf(f, "%-12s%-14s%s\n", "t_S_parent", theory_num(r->t_s_parent, a, sizeof a),
                "1/2 log(Lambda), Lambda = |m|^2 + sigma^2 (the parent paper's value)");
    if (r->o.gmm4)
        fprintf(f, "%-12s%-14s%s\n", "sync_gap", theory_num(r->sync_gap, a, sizeof a),
                "t_S(common) - t_S(difference)");
    snprintf(b, sizeof b, "%.17g", r->n_train);
    fprintf(f, "%-12s%-14scollapse with P = %s training points\n", "t_C", theory_num(r->t_c, a, sizeof a), b);
    fprintf(f, "%-12s%-14s%s\n", "relaxation", theory_num(r->relaxation_rate, a, sizeof a),
            "min Re eig(A), rate per OU time unit");
    fprintf(f, "%-12s%-14skappa <= %g for every label beyond this time%s\n", "horizon",
            theory_num(r->horizon, a, sizeof a), CLI_HORIZON_LEVEL, isinf(r->horizon) ? " (none up to t = 200)" : "");
    fprintf(f, "%-12s%-14s1 / (2 rate): any horizon T must be much larger\n", "horizon_min",
            theory_num(r->horizon_min, a, sizeof a));
    if (r->o.kind == RG_PROCESS_COUPLED && !isnan(r->gamma_lo)) {
        char lo[32], hi[32];
        fprintf(f, "%-12sgamma in (%s, %s) is stable; gamma* = %s equalises both modes\n", "bounds",
                theory_num(r->gamma_lo, lo, sizeof lo), theory_num(r->gamma_hi, hi, sizeof hi),
                theory_num(r->gamma_equal, a, sizeof a));
    }
    for (size_t i = 0; i < r->n_phi; i++) {
        char lab[48];
        snprintf(lab, sizeof lab, "phi(%s)", theory_num(r->phi_t[i], a, sizeof a));
        fprintf(f, "%-12s", lab);
        for (size_t l = 0; l < r->b.data.n_labels; l++)
            fprintf(f, "%s%-14s", r->o.gmm4 ? (l ? "difference " : "common ") : "",
                    theory_num(r->phi[l * r->n_phi + i], b, sizeof b));
        fputs(r->o.gmm4 ? "\n" : "clone agreement, branched at this time\n", f);
    }
    fputs("(times are forward times in OU units; 'none': no crossing on [1e-4, 200]; --json: all digits)\n", f);
}
