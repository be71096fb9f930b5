/* Inverse design of a piecewise-constant symmetric coupling for the gmm4 gap (see schedule.h).
 *
 * One evaluator gives both per-mode times of a schedule: build the scheduled process exactly as the
 * CLI's --schedule does (rg_process_coupling per segment, rg_process_scheduled, piecewise), then
 * rg_theory_speciation (GMM criterion) per label. The solver is one Brent search on the coupling
 * of the last segment (docs/math.md 7.5: kappa_k(t) = mu^2 / (Delta_k / a_k^2 + sigma^2) is strictly
 * decreasing, so every time is a single root and the gap is continuous in g). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "regimes/linalg.h"
#include "regimes/schedule.h"

#define SC_MAX_SEG 2
#define SC_BRENT_TOL 1e-12

int rg_schedule_times(rg_coupling_form form, size_t d, const rg_theory_data *data, size_t n_seg,
                      const double *knot_t, const double *gamma, double *t_sc, double *t_sd)
{
    if (!data || !knot_t || !gamma || !t_sc || !t_sd) RG_FAIL(RG_EINVAL, "schedule: NULL argument");
    if (form != RG_COUPLING_CROSS && form != RG_COUPLING_DIFFUSIVE)
        RG_FAIL(RG_EINVAL, "schedule: unknown coupling form %d", (int)form);
    if (n_seg < 1 || n_seg > SC_MAX_SEG) RG_FAIL(RG_EINVAL, "schedule: n_seg = %zu, want 1 or 2", n_seg);
    if (d < 1) RG_FAIL(RG_EINVAL, "schedule: dimension d = 0");
    double A[4 * SC_MAX_SEG];
    for (size_t i = 0; i < n_seg; i++) {
        if (!isfinite(gamma[i])) RG_FAIL(RG_EINVAL, "schedule: gamma[%zu] is not finite", i);
        rg_process_coupling(form, gamma[i], A + 4 * i);
    }
    rg_schedule s = { .interp = RG_SCHEDULE_PIECEWISE, .n = n_seg, .t = knot_t, .A = A };
    rg_process *p = NULL;
    RG_TRY(rg_process_scheduled(2, d, &s, &p));
    const char *why = rg_theory_check(p, data);
    int st = RG_OK;
    if (why) {
        rg_process_free(p);
        RG_FAIL(RG_EINVAL, "schedule: %s", why);
    }
    if (data->n_labels != 2) {
        rg_process_free(p);
        RG_FAIL(RG_EINVAL, "schedule: gmm4 data have 2 labels (common, difference), got %zu", data->n_labels);
    }
    double t[2] = { NAN, NAN };
    for (size_t l = 0; l < 2 && st == RG_OK; l++) {
        int found = 0;
        st = rg_theory_speciation(p, data, l, RG_SPECIATION_GMM, t + l, &found);
        if (st == RG_OK && !found) t[l] = NAN;
    }
    rg_process_free(p);
    if (st != RG_OK) return st;
    *t_sc = t[0];
    *t_sd = t[1];
    return RG_OK;
}

typedef struct {
    rg_coupling_form form;
    size_t d, n_seg;
    const rg_theory_data *data;
    double target;
    double knot_t[SC_MAX_SEG], gamma[SC_MAX_SEG];
    int status;
} sc_ctx;

/* gap(g) - target for the schedule with g in the last segment; NAN when a mode has no time. */
static double sc_objective(double g, void *ctx)
{
    sc_ctx *c = ctx;
    if (c->status != RG_OK) return NAN;
    c->gamma[c->n_seg - 1] = g;
    double tc, td;
    c->status = rg_schedule_times(c->form, c->d, c->data, c->n_seg, c->knot_t, c->gamma, &tc, &td);
    if (c->status != RG_OK) return NAN;
    return (tc - td) - c->target;
}

int rg_schedule_solve(rg_coupling_form form, size_t d, const rg_theory_data *data, double target_gap,
                      size_t n_seg, double *knot_t, double *gamma, double *t_sc, double *t_sd)
{
    if (!data || !knot_t || !gamma || !t_sc || !t_sd) RG_FAIL(RG_EINVAL, "schedule: NULL argument");
    if (form != RG_COUPLING_CROSS && form != RG_COUPLING_DIFFUSIVE)
        RG_FAIL(RG_EINVAL, "schedule: unknown coupling form %d", (int)form);
    if (n_seg < 1 || n_seg > SC_MAX_SEG) RG_FAIL(RG_EINVAL, "schedule: n_seg = %zu, want 1 or 2", n_seg);
    if (d < 1) RG_FAIL(RG_EINVAL, "schedule: dimension d = 0");
    if (!isfinite(target_gap)) RG_FAIL(RG_EINVAL, "schedule: target gap is not finite");
    if (data->n_labels != 2)
        RG_FAIL(RG_EINVAL, "schedule: gmm4 data have 2 labels (common, difference), got %zu", data->n_labels);

    sc_ctx c = { .form = form, .d = d, .n_seg = n_seg, .data = data, .target = target_gap, .status = RG_OK };
    c.knot_t[n_seg - 1] = INFINITY;
    c.gamma[0] = 0.0;
    if (n_seg == 2) { /* tau = SPLIT * the earlier uncoupled time */
        double inf = INFINITY, zero = 0.0, tc0, td0;
        RG_TRY(rg_schedule_times(form, d, data, 1, &inf, &zero, &tc0, &td0));
        double first = fmin(tc0, td0);
        if (!(first > 0) || !isfinite(first))
            RG_FAIL(RG_EDOM, "schedule: the uncoupled process has no speciation time for a mode "
                             "(t_S^c = %.6g, t_S^d = %.6g): no split time", tc0, td0);
        c.knot_t[0] = RG_SCHEDULE_SPLIT * first;
    }
    double lo = form == RG_COUPLING_CROSS ? -RG_SCHEDULE_SHRINK : -0.5 * RG_SCHEDULE_SHRINK;
    double hi = form == RG_COUPLING_CROSS ? RG_SCHEDULE_SHRINK : RG_SCHEDULE_DIFFUSIVE_MAX;
    double flo = sc_objective(lo, &c), fhi = sc_objective(hi, &c);
    if (c.status != RG_OK) return c.status;
    if (isnan(flo) || isnan(fhi))
        RG_FAIL(RG_EDOM, "schedule: target gap %.6g is unreachable: a mode has no speciation time at "
                         "gamma = %.6g", target_gap, isnan(flo) ? lo : hi);
    if (!(flo <= 0.0 && fhi >= 0.0) && !(flo >= 0.0 && fhi <= 0.0))
        RG_FAIL(RG_EDOM, "schedule: target gap %.6g is unreachable: the gap spans [%.6g, %.6g] for "
                         "gamma in [%.6g, %.6g]", target_gap, fmin(flo, fhi) + target_gap,
                fmax(flo, fhi) + target_gap, lo, hi);
    double g;
    int st = rg_linalg_brent(sc_objective, &c, lo, hi, SC_BRENT_TOL, &g);
    if (c.status != RG_OK) return c.status;
    RG_TRY(st);
    c.gamma[n_seg - 1] = g;
    double tc, td;
    RG_TRY(rg_schedule_times(form, d, data, n_seg, c.knot_t, c.gamma, &tc, &td));
    for (size_t i = 0; i < n_seg; i++) {
        knot_t[i] = c.knot_t[i];
        gamma[i] = c.gamma[i];
    }
    *t_sc = tc;
    *t_sd = td;
    return RG_OK;
}

int rg_schedule_format(size_t n_seg, const double *knot_t, const double *gamma, char *buf, size_t len)
{
    if (!knot_t || !gamma || !buf) RG_FAIL(RG_EINVAL, "schedule: NULL argument to rg_schedule_format");
    if (n_seg < 1) RG_FAIL(RG_EINVAL, "schedule: no segments to format");
    for (size_t i = 0; i < n_seg; i++) {
        if (!isfinite(gamma[i])) RG_FAIL(RG_EINVAL, "schedule: gamma[%zu] is not finite", i);
        int last = i + 1 == n_seg;
        if (!(knot_t[i] > 0) || (!last && !isfinite(knot_t[i])) || (i > 0 && !(knot_t[i] > knot_t[i - 1])))
            RG_FAIL(RG_EINVAL, "schedule: knot time %zu = %.6g must be > 0, finite (but the last) and "
                               "increasing", i, knot_t[i]);
    }
    size_t need = 0;
    int n = snprintf(len ? buf : NULL, len, "piecewise:");
    for (size_t i = 0; i < n_seg && n >= 0; i++) {
        need += (size_t)n;
        size_t room = need < len ? len - need : 0;
        char *at = room ? buf + need : NULL;
        if (isinf(knot_t[i])) n = snprintf(at, room, "%sinf:%.17g", i ? "," : "", gamma[i]);
        else n = snprintf(at, room, "%s%.17g:%.17g", i ? "," : "", knot_t[i], gamma[i]);
    }
    if (n < 0) RG_FAIL(RG_EINVAL, "schedule: formatting failed");
    need += (size_t)n;
    if (need + 1 > len) {
        if (len) buf[0] = '\0';
        RG_FAIL(RG_EINVAL, "schedule: buffer of %zu bytes too small, need %zu", len, need + 1);
    }
    return RG_OK;
}
