/* Building a process and its theory data from `regimes theory` flags (see spec.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "regimes/error.h"
#include "regimes/io.h"
#include "regimes/linalg.h"
#include "regimes/nonrev.h"
#include "regimes/process.h"
#include "args.h"
#include "spec.h"

/* ---- text files ---------------------------------------------------------------------------------- */

/* The library's reader (io.h), its message prefixed with the flag: bad input (exit 2) unless memory ran out. */
static int read_text(int square, const char *flag, const char *path, size_t max_n, size_t *n, double **out)
{
    const int st = square ? rg_io_matrix_read(path, max_n, n, out) : rg_io_vector_read(path, max_n, n, out);
    if (st == RG_OK) return RG_OK;
    return st == RG_ENOMEM ? cli_status(st) : cli_usage("%s: %s", flag, rg_strerror_last());
}

int spec_read_matrix(const char *flag, const char *path, size_t max_n, size_t *n, double **A)
{
    return read_text(1, flag, path, max_n ? max_n : SPEC_DIM_MAX, n, A);
}

int spec_read_vector(const char *flag, const char *path, size_t max_n, size_t *n, double **v)
{
    return read_text(0, flag, path, max_n ? max_n : SPEC_DIM_MAX, n, v);
}

/* ---- schedules ------------------------------------------------------------------------------------- */

static int bad_schedule(const char *flag, const char *s)
{
    return cli_usage("%s wants piecewise:T1:G1,T2:G2,... or linear:T1:G1,... (T > 0 or inf), got '%s'",
                     flag, s);
}

/* One "T:G" item of length len at item. */
static int parse_knot(const char *flag, const char *s, const char *item, size_t len, double *t, double *g)
{
    char buf[128];
    if (len == 0 || len >= sizeof buf) return bad_schedule(flag, s);
    memcpy(buf, item, len);
    buf[len] = '\0';
    char *colon = strchr(buf, ':');
    if (!colon || strchr(colon + 1, ':')) return bad_schedule(flag, s);
    *colon = '\0';
    const cli_range pos = { 0.0, INFINITY, 1, 1 }, any = { -INFINITY, INFINITY, 1, 1 };
    if (strcmp(buf, "inf") == 0) *t = INFINITY;
    else if (cli_parse_double("--schedule time", buf, pos, t) != RG_OK) return RG_EINVAL;
    return cli_parse_double("--schedule gamma", colon + 1, any, g);
}

int spec_parse_schedule(const char *flag, const char *s, rg_schedule_interp *interp, size_t *n,
                        double **t, double **g)
{
    const char *body;
    if (strncmp(s, "piecewise:", 10) == 0) {
        *interp = RG_SCHEDULE_PIECEWISE;
        body = s + 10;
    } else if (strncmp(s, "linear:", 7) == 0) {
        *interp = RG_SCHEDULE_LINEAR;
        body = s + 7;
    } else {
        return bad_schedule(flag, s);
    }
    size_t k = 1;
    for (const char *c = body; *c; c++) k += *c == ',';
    *t = malloc(k * sizeof **t);
    *g = malloc(k * sizeof **g);
    int st = (*t && *g) ? RG_OK : cli_nomem("%s: out of memory", flag);
    const char *item = body;
    for (size_t i = 0; i < k && st == RG_OK; i++) {
        const char *comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);
        st = parse_knot(flag, s, item, len, *t + i, *g + i);
        item += len + 1;
    }
    if (st != RG_OK) {
        free(*t);
        free(*g);
        *t = *g = NULL;
        return st;
    }
    *n = k;
    return RG_OK;
}

/* ---- processes ------------------------------------------------------------------------------------- */

static int lib(int status) { return status == RG_OK ? RG_OK : cli_status(status); }

static int build_coupled(const spec_opts *o, spec_built *b)
{
    if (!o->schedule) {
        if (o->aniso) rg_process_coupling_aniso(o->a_x, o->a_y, o->g_xy, o->g_yx, b->M);
        else rg_process_coupling(o->coupling, o->gamma, b->M);
        const char *why = rg_process_coupling_check(b->M);
        if (why) return cli_usage("%s", why);
        return lib(rg_process_coupled(b->M, o->dim, &b->p));
    }
    int st = spec_parse_schedule("--schedule", o->schedule, &b->interp, &b->n_knots, &b->knot_t, &b->knot_g);
    if (st != RG_OK) return st;
    double *A = malloc(4 * b->n_knots * sizeof *A);
    if (!A) return cli_nomem("--schedule: out of memory");
    for (size_t i = 0; i < b->n_knots; i++) rg_process_coupling(o->coupling, b->knot_g[i], A + 4 * i);
    rg_schedule s = { .interp = b->interp, .n = b->n_knots, .t = b->knot_t, .A = A };
    st = lib(rg_process_scheduled(2, o->dim, &s, &b->p));
    free(A);
    return st;
}

/* U from "diag:LO:HI" (D = o->dim) or a file (then o->dim, if set, must match). */
static int build_u(const spec_opts *o, size_t *n, double **U)
{
    if (strncmp(o->U, "diag:", 5) != 0) {
        int st = spec_read_matrix("--U", o->U, o->dim, n, U);
        if (st == RG_OK && o->dim && o->dim != *n) {
            free(*U);
            *U = NULL; /* the caller frees *U on every path */
            return cli_usage("--dim %zu does not match the %zu x %zu matrix in --U '%s'", o->dim, *n, *n, o->U);
        }
        return st;
    }
    char lo_s[64], hi_s[64];
    const char *colon = strchr(o->U + 5, ':');
    size_t len = colon ? (size_t)(colon - (o->U + 5)) : 0;
    if (!colon || len == 0 || len >= sizeof lo_s || strlen(colon + 1) >= sizeof hi_s)
        return cli_usage("--U wants diag:LO:HI or a matrix file, got '%s'", o->U);
    memcpy(lo_s, o->U + 5, len);
    lo_s[len] = '\0';
    strcpy(hi_s, colon + 1);
    double lo, hi;
    const cli_range pos = { 0.0, INFINITY, 1, 1 };
    if (cli_parse_double("--U diag LO", lo_s, pos, &lo) || cli_parse_double("--U diag HI", hi_s, pos, &hi))
        return RG_EINVAL;
    *n = o->dim;
    *U = calloc(*n * *n, sizeof **U);
    if (!*U) return cli_nomem("--U: out of memory for a %zu x %zu matrix", *n, *n);
    for (size_t i = 0; i < *n; i++) /* numpy.linspace(lo, hi, n): lo + i step, the last exactly hi */
        (*U)[i * *n + i] = *n == 1 ? lo : (i + 1 == *n ? hi : lo + (double)i * ((hi - lo) / (double)(*n - 1)));
    return RG_OK;
}

static int build_q(const spec_opts *o, size_t n, const double *U, double **Q)
{
    *Q = NULL;
    if (o->q == SPEC_Q_ZERO) return RG_OK;
    if (o->q == SPEC_Q_FILE) {
        size_t m;
        int st = spec_read_matrix("--Q", o->q_file, n, &m, Q);
        if (st == RG_OK && m != n) {
            free(*Q);
            *Q = NULL;
            return cli_usage("--Q '%s' is %zu x %zu, want %zu x %zu like U", o->q_file, m, m, n, n);
        }
        if (st != RG_OK) return st;
    } else {
        *Q = malloc(n * n * sizeof **Q);
        if (!*Q) return cli_nomem("--Q: out of memory for a %zu x %zu matrix", n, n);
        int st = rg_nonrev_optimal_q(n, U, NULL, *Q);
        if (st != RG_OK) return cli_status(st);
    }
    for (size_t i = 0; i < n * n; i++) (*Q)[i] *= o->q_scale;
    return RG_OK;
}

static int build_nonrev(const spec_opts *o, spec_built *b)
{
    size_t n = 0;
    double *U = NULL, *Q = NULL;
    int st = build_u(o, &n, &U);
    if (st == RG_OK) st = build_q(o, n, U, &Q);
    if (st == RG_OK) st = lib(rg_process_nonrev(n, U, Q, &b->p));
    free(U);
    free(Q);
    return st;
}

static int build_general(const spec_opts *o, spec_built *b)
{
    size_t n;
    double *A = NULL;
    int st = spec_read_matrix("--A", o->A, o->dim, &n, &A);
    if (st != RG_OK) return st;
    if (o->dim && o->dim != n) st = cli_usage("--dim %zu does not match the %zu x %zu matrix in --A '%s'",
                                              o->dim, n, n, o->A);
    if (st == RG_OK) st = lib(rg_process_general(n, A, &b->p));
    free(A);
    return st;
}

/* ---- data ------------------------------------------------------------------------------------------- */

/* Unit mean direction for a dense (nonrev/general) process of core size n, into b->pattern. */
static int build_mean_dir(const spec_opts *o, size_t n, spec_built *b)
{
    const char *s = o->mean_dir;
    double *e = b->pattern;
    size_t col = 0;
    int eigen = 1;
    if (strcmp(s, "ones") == 0) {
        for (size_t i = 0; i < n; i++) e[i] = 1.0;
        eigen = 0;
    } else if (strcmp(s, "slow") == 0) {
        col = 0;
    } else if (strcmp(s, "fast") == 0) {
        col = n - 1;
    } else if (strncmp(s, "eigen:", 6) == 0) {
        if (cli_parse_size("--mean-dir eigen:I", s + 6, 0, n - 1, &col) != RG_OK) return RG_EINVAL;
    } else {
        size_t m;
        double *v;
        int st = spec_read_vector("--mean-dir", s, n, &m, &v);
        if (st != RG_OK) return st;
        if (m != n) {
            free(v);
            return cli_usage("--mean-dir '%s' holds %zu numbers, want %zu (the dimension)", s, m, n);
        }
        memcpy(e, v, n * sizeof *e);
        free(v);
        eigen = 0;
    }
    if (eigen) {
        /* slow/fast: eigenvectors of U (nonrev) or of the symmetric part of A (general). */
        const double *S = rg_process_nonrev_U(b->p);
        double *A = malloc(2 * n * n * sizeof *A + n * sizeof *A);
        if (!A) return cli_nomem("--mean-dir: out of memory");
        double *V = A + n * n, *w = V + n * n;
        int st = S ? RG_OK : rg_process_drift(b->p, 0.0, A);
        if (st == RG_OK) st = rg_linalg_eigsym(n, S ? S : A, w, V);
        for (size_t i = 0; i < n && st == RG_OK; i++) e[i] = V[i * n + col];
        free(A);
        if (st != RG_OK) return cli_status(st);
    }
    double norm = cblas_dnrm2((int)n, e, 1);
    if (!(norm > 0) || !isfinite(norm)) return cli_usage("--mean-dir '%s' has no finite direction", s);
    cblas_dscal((int)n, 1.0 / norm, e, 1);
    return RG_OK;
}

/* Within-class covariance sigma^2 X for X = I, U, U^-1 (the stationary covariance) or a file. */
static int build_cw(const spec_opts *o, size_t n, spec_built *b)
{
    double *C = b->Cw;
    const char *s = o->cw;
    if (strcmp(s, "I") == 0) {
        memset(C, 0, n * n * sizeof *C);
        for (size_t i = 0; i < n; i++) C[i * n + i] = 1.0;
    } else if (strcmp(s, "U") == 0) {
        const double *U = rg_process_nonrev_U(b->p);
        if (!U) return cli_usage("--cw U needs --process nonrev (a general A has no U; use Uinv or a file)");
        memcpy(C, U, n * n * sizeof *C);
    } else if (strcmp(s, "Uinv") == 0) {
        int st = rg_process_stationary(b->p, C); /* U^-1 = Sigma_inf for every Q (docs/math.md 2.6) */
        if (st != RG_OK) return cli_status(st);
    } else {
        size_t m;
        double *F;
        int st = spec_read_matrix("--cw", s, n, &m, &F);
        if (st != RG_OK) return st;
        if (m != n) {
            free(F);
            return cli_usage("--cw '%s' is %zu x %zu, want %zu x %zu", s, m, m, n, n);
        }
        memcpy(C, F, n * n * sizeof *C);
        free(F);
    }
    for (size_t i = 0; i < n * n; i++) C[i] *= o->sigma2;
    return RG_OK;
}

static int build_data(const spec_opts *o, spec_built *b)
{
    size_t k = rg_process_core(b->p);
    b->pattern = calloc(2 * k, sizeof *b->pattern);
    b->Cw = calloc(k * k, sizeof *b->Cw);
    if (!b->pattern || !b->Cw) return cli_nomem("out of memory for the data model");
    b->data.pattern = b->pattern;
    b->data.mean_norm2 = b->norm2;
    b->data.Cw = b->Cw;
    if (o->gmm4) { /* e_c = (1, 1), e_d = (1, -1), Cw = sigma^2 I_2 (docs/math.md 7.1 c) */
        static const double pat[4] = { 1.0, 1.0, 1.0, -1.0 };
        memcpy(b->pattern, pat, sizeof pat);
        b->norm2[0] = o->mc2;
        b->norm2[1] = o->md2;
        b->Cw[0] = b->Cw[3] = o->sigma2;
        b->data.n_labels = 2;
        return RG_OK;
    }
    b->data.n_labels = 1;
    b->norm2[0] = o->mean_norm2 > 0 ? o->mean_norm2 : (double)rg_process_dim(b->p);
    if (k == 1) { /* ou: e = [1], Cw = [sigma^2] */
        b->pattern[0] = 1.0;
        b->Cw[0] = o->sigma2;
        return RG_OK;
    }
    int st = build_mean_dir(o, k, b);
    return st == RG_OK ? build_cw(o, k, b) : st;
}

int spec_build(const spec_opts *o, spec_built *b)
{
    memset(b, 0, sizeof *b);
    int st;
    switch (o->kind) {
    case RG_PROCESS_OU: st = lib(rg_process_ou(o->dim, &b->p)); break;
    case RG_PROCESS_COUPLED: st = build_coupled(o, b); break;
    case RG_PROCESS_NONREV: st = build_nonrev(o, b); break;
    default: st = build_general(o, b); break;
    }
    if (st == RG_OK && o->kind == RG_PROCESS_GENERAL) {
        size_t n = rg_process_core(b->p);
        double *S = malloc(n * n * sizeof *S); /* a general A must have a stationary prior */
        int ls = S ? rg_process_stationary(b->p, S) : RG_ENOMEM;
        free(S);
        if (ls != RG_OK) st = ls == RG_ENOMEM ? cli_nomem("out of memory") : cli_status(ls);
    }
    if (st == RG_OK && !o->dataset) st = build_data(o, b);
    if (st != RG_OK) spec_free(b);
    return st;
}

void spec_free(spec_built *b)
{
    rg_process_free(b->p);
    free(b->knot_t);
    free(b->knot_g);
    free(b->pattern);
    free(b->Cw);
    memset(b, 0, sizeof *b);
}
