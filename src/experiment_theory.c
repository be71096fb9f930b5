/* The theory report of a process and its mixture data (experiment.h; docs/math.md 3, 6.2, 7). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/experiment.h"
#include "internal.h"

#define HORIZON_LEVEL 0.01 /* docs/math.md 6.2 */

void rg_exp_theory_result_free(rg_exp_theory_result *r)
{
    if (!r) return;
    free(r->t_s_label), free(r->t_s_matrix_label), free(r->rate_re), free(r->rate_im), free(r->mode_t_s);
    free(r->mode_name), free(r->phi_t), free(r->phi);
    memset(r, 0, sizeof *r);
}

static int speciation(rg_theory_plan *pl, size_t l, rg_speciation_criterion crit, double *t)
{
    int found = 0;
    RG_TRY(rg_theory_plan_speciation(pl, l, crit, t, &found));
    if (!found) *t = NAN;
    return RG_OK;
}

/* Names and per-mode times: ou has one mode; a coupling has common and difference (docs/math.md 3.2). */
static void name_modes(const rg_exp_theory_cfg *c, rg_exp_theory_result *r)
{
    const rg_process_kind kind = rg_process_kind_of(c->proc);
    for (size_t i = 0; i < r->n_modes; i++) r->mode_name[i] = "mode", r->mode_t_s[i] = NAN;
    if (kind == RG_PROCESS_OU) {
        r->mode_name[0] = "ou", r->mode_t_s[0] = r->t_s_label[0];
        return;
    }
    if (kind != RG_PROCESS_COUPLED || r->n_modes != 2 || r->n_labels != 2) return;
    /* The common pattern (1, 1) is the slow eigenvector when the net coupling g_xy + g_yx (the drift at
     * t -> infinity, M_01 + M_10 = -(g_xy + g_yx)) is attractive, the fast one when it is repulsive. */
    double A[4];
    const double late = rg_process_is_scheduled(c->proc) ? 1e300 : 0.0; /* past the last knot */
    if (rg_process_drift(c->proc, late, A) != RG_OK) return;
    const size_t cm = -(A[1] + A[2]) >= 0 ? 0 : 1;
    double re[2] = { r->rate_re[0], r->rate_re[1] }, im[2] = { r->rate_im[0], r->rate_im[1] };
    r->rate_re[0] = re[cm], r->rate_im[0] = im[cm], r->rate_re[1] = re[1 - cm], r->rate_im[1] = im[1 - cm];
    r->mode_name[0] = "common", r->mode_t_s[0] = r->t_s_label[0];
    r->mode_name[1] = "difference", r->mode_t_s[1] = r->t_s_label[1];
}

static int bounds(const rg_exp_theory_cfg *c, rg_exp_theory_result *r)
{
    r->gamma_lo = r->gamma_hi = r->gamma_equal = NAN;
    if (c->symmetric_form < 0 || rg_process_kind_of(c->proc) != RG_PROCESS_COUPLED) return RG_OK;
    const int diff = c->symmetric_form == RG_COUPLING_DIFFUSIVE;
    r->gamma_lo = diff ? -0.5 : -1.0;
    r->gamma_hi = diff ? (double)INFINITY : 1.0;
    int found = 0;
    RG_TRY(rg_theory_equal_gamma((rg_coupling_form)c->symmetric_form, c->data, &r->gamma_equal, &found));
    if (!found) r->gamma_equal = NAN;
    return RG_OK;
}

static int alloc_result(const rg_exp_theory_cfg *c, rg_exp_theory_result *r)
{
    const size_t L = c->data->n_labels, k = rg_process_core(c->proc), m = c->n_phi;
    r->n_labels = L, r->n_modes = k, r->n_phi = m;
    r->t_s_label = malloc(L * sizeof *r->t_s_label), r->t_s_matrix_label = malloc(L * sizeof *r->t_s_matrix_label);
    r->rate_re = malloc(k * sizeof *r->rate_re), r->rate_im = malloc(k * sizeof *r->rate_im);
    r->mode_t_s = malloc(k * sizeof *r->mode_t_s), r->mode_name = malloc(k * sizeof *r->mode_name);
    r->phi_t = malloc((m ? m : 1) * sizeof *r->phi_t), r->phi = malloc((m ? L * m : 1) * sizeof *r->phi);
    if (!r->t_s_label || !r->t_s_matrix_label || !r->rate_re || !r->rate_im || !r->mode_t_s || !r->mode_name ||
        !r->phi_t || !r->phi)
        RG_FAIL(RG_ENOMEM, "theory: out of memory for %zu modes", k);
    if (m) memcpy(r->phi_t, c->phi_t, m * sizeof *r->phi_t);
    return RG_OK;
}

static int times(const rg_exp_theory_cfg *c, rg_theory_plan *pl, rg_exp_theory_result *r)
{
    r->t_s = r->t_s_matrix = r->t_s_parent = r->sync_gap = NAN;
    for (size_t l = 0; l < r->n_labels; l++) {
        RG_TRY(speciation(pl, l, RG_SPECIATION_GMM, &r->t_s_label[l]));
        RG_TRY(speciation(pl, l, RG_SPECIATION_MATRIX, &r->t_s_matrix_label[l]));
        r->t_s = fmax(r->t_s, r->t_s_label[l]); /* fmax ignores NAN: the latest label that has a root */
        r->t_s_matrix = fmax(r->t_s_matrix, r->t_s_matrix_label[l]);
    }
    int found = 0;
    RG_TRY(rg_theory_plan_collapse(pl, c->n_train, &r->t_c, &found));
    if (!found) r->t_c = NAN;
    if (rg_process_kind_of(c->proc) == RG_PROCESS_OU) /* the parent's 1/2 log Lambda (docs/math.md 7.1 a) */
        r->t_s_parent = 0.5 * log(c->data->mean_norm2[0] + c->data->Cw[0]);
    if (r->n_labels == 2) r->sync_gap = r->t_s_label[0] - r->t_s_label[1]; /* docs/math.md 7.3 */
    const double level = c->horizon_level > 0 ? c->horizon_level : HORIZON_LEVEL;
    return rg_theory_plan_horizon(pl, level, &r->horizon);
}

int rg_exp_theory(const rg_exp_theory_cfg *c, rg_exp_theory_result *res)
{
    if (!res) RG_FAIL(RG_EINVAL, "theory: NULL result");
    memset(res, 0, sizeof *res);
    if (!c || !c->proc || !c->data) RG_FAIL(RG_EINVAL, "theory: NULL process or data");
    const char *why = rg_theory_check(c->proc, c->data);
    if (why) RG_FAIL(RG_EINVAL, "theory: %s", why);
    if (!(c->n_train >= 1) || (c->n_phi && !c->phi_t)) RG_FAIL(RG_EINVAL, "theory: want n_train >= 1 and phi times");
    rg_theory_plan *pl = NULL; /* one plan: the data prepared once for every question (theory.h) */
    int st = alloc_result(c, res);
    if (st == RG_OK) st = rg_theory_plan_new(c->proc, c->data, 0, &pl);
    if (st == RG_OK) st = rg_process_relaxation_rate(c->proc, &res->relaxation_rate);
    res->horizon_min = 0.5 / res->relaxation_rate;
    if (st == RG_OK) st = bounds(c, res);
    for (size_t l = 0; l < res->n_labels && st == RG_OK; l++)
        for (size_t i = 0; i < res->n_phi && st == RG_OK; i++)
            st = rg_theory_plan_phi_at(pl, l, c->phi_t[i], &res->phi[l * res->n_phi + i]);
    if (st == RG_OK) st = times(c, pl, res);
    rg_theory_plan_free(pl);
    if (st == RG_OK) st = rg_process_rates(c->proc, res->rate_re, res->rate_im);
    if (st == RG_OK) name_modes(c, res);
    if (st != RG_OK) rg_exp_theory_result_free(res);
    return st;
}
