/* Cloning experiment (experiment.h; docs/math.md 6.6, 8.1, 8.3): clone pairs at each branch time with any
 * score, labels of the final clones, phi per mode with its bootstrap interval, t_S per mode, the gap. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/experiment.h"
#include "regimes/measure.h"
#include "experiment_internal.h"
#include "internal.h"

static int on_grid(const rg_exp_run *r, double t)
{
    const double tol = 1e-12 * r->grid[0];
    for (size_t i = 0; i < r->n_grid; i++)
        if (fabs(r->grid[i] - t) <= tol) return 1;
    return 0;
}

const char *rg_exp_clone_check(const rg_exp_clone_cfg *c)
{
    if (!c || !c->run.proc || !c->run.grid || !c->lab || !c->lab->label) return "NULL process, grid or labeller";
    if (!c->t_b || c->n_branch == 0) return "no branch times";
    if (c->n_pairs == 0) return "zero clone pairs";
    if (c->lab->n_modes == 0 || c->lab->n_classes < 2) return "the labeller gives no modes or fewer than 2 classes";
    if (c->run.method == RG_SAMPLER_HEUN) return "the probability-flow ODE is deterministic: clones cannot branch";
    if (c->trunk != RG_TRUNK_INDEPENDENT && c->trunk != RG_TRUNK_SHARED) return "unknown trunk mode";
    if (!(c->level >= 0 && c->level < 1)) return "the crossing level must lie in [0, 1) (0: 0.775)";
    const double end = c->run.grid[c->run.n_grid - 1];
    for (size_t i = 0; i < c->n_branch; i++) {
        if (!isfinite(c->t_b[i]) || !(c->t_b[i] > end) || !(c->t_b[i] < c->run.grid[0]))
            return "a branch time lies outside the grid's open interval";
        if (i && !(c->t_b[i] > c->t_b[i - 1])) return "branch times must increase";
        if (!on_grid(&c->run, c->t_b[i])) return "a branch time is not a grid point";
    }
    return NULL;
}

void rg_exp_clone_result_free(rg_exp_clone_result *r)
{
    if (!r) return;
    free(r->t_b), free(r->phi), free(r->phi_lo), free(r->phi_hi), free(r->phi_theory);
    free(r->t_s), free(r->t_s_lo), free(r->t_s_hi), free(r->class_frac), free(r->labels);
    memset(r, 0, sizeof *r);
}

/* Simulate this rank's slice [lo, lo + ns) of the pairs and write their labels into lab (m, n, 2 L). */
static int clone_slice(const rg_exp_clone_cfg *c, size_t lo, size_t ns, int *lab)
{
    const size_t m = c->n_branch, n = c->n_pairs, L = c->lab->n_modes, W = 2 * L;
    const size_t N = rg_process_dim(c->run.proc);
    if (ns == 0) return RG_OK;
    float *xa = malloc(m * ns * N * sizeof *xa), *xb = malloc(m * ns * N * sizeof *xb);
    int *la = malloc(ns * W * sizeof *la);
    int st = xa && xb && la ? RG_OK : RG_ENOMEM;
    if (st != RG_OK) rg__fail(st, __FILE__, __LINE__, "clone: out of memory for %zu x %zu pairs of dimension %zu", m,
                              ns, N);
    rg_sampler_cfg cfg = { .proc = c->run.proc, .score = c->run.score, .method = c->run.method, .grid = c->run.grid,
                           .n_grid = c->run.n_grid, .seed = c->run.seed, .traj0 = c->run.id0 + lo, .trunk = c->trunk };
    if (st == RG_OK) st = rg_sampler_clone(&cfg, c->t_b, m, ns, xa, xb);
    for (size_t i = 0; i < m && st == RG_OK; i++) {
        st = rg_exp__label(c->lab, ns, xa + i * ns * N, la);
        if (st == RG_OK) st = rg_exp__label(c->lab, ns, xb + i * ns * N, la + ns * L);
        for (size_t j = 0; j < ns && st == RG_OK; j++) /* row: a's L labels, then b's */
            for (size_t l = 0; l < L; l++) {
                lab[(i * n + lo + j) * W + l] = la[j * L + l];
                lab[(i * n + lo + j) * W + L + l] = la[(ns + j) * L + l];
            }
    }
    free(xa), free(xb), free(la);
    return st;
}

static int alloc_result(const rg_exp_clone_cfg *c, rg_exp_clone_result *r)
{
    const size_t m = c->n_branch, L = c->lab->n_modes, K = c->lab->n_classes;
    r->n_branch = m, r->n_modes = L, r->n_pairs = c->n_pairs, r->n_classes = K;
    r->t_b = malloc(m * sizeof *r->t_b);
    r->phi = malloc(L * m * sizeof *r->phi), r->phi_lo = malloc(L * m * sizeof *r->phi_lo);
    r->phi_hi = malloc(L * m * sizeof *r->phi_hi), r->phi_theory = malloc(L * m * sizeof *r->phi_theory);
    r->t_s = malloc(L * sizeof *r->t_s), r->t_s_lo = malloc(L * sizeof *r->t_s_lo);
    r->t_s_hi = malloc(L * sizeof *r->t_s_hi), r->class_frac = calloc(L * K, sizeof *r->class_frac);
    if (!r->t_b || !r->phi || !r->phi_lo || !r->phi_hi || !r->phi_theory || !r->t_s || !r->t_s_lo || !r->t_s_hi ||
        !r->class_frac)
        RG_FAIL(RG_ENOMEM, "clone: out of memory for the results");
    memcpy(r->t_b, c->t_b, m * sizeof *r->t_b);
    r->gap = r->gap_lo = r->gap_hi = NAN;
    return RG_OK;
}

/* Rank 0: phi, t_S and the gap from the full label table. */
static int clone_measure(const rg_exp_clone_cfg *c, rg_exp_clone_result *r)
{
    const size_t m = c->n_branch, n = c->n_pairs, L = c->lab->n_modes, W = 2 * L, K = c->lab->n_classes;
    const rg_rng br = { c->run.seed, RG_STREAM_BOOTSTRAP };
    const size_t nb = c->n_boot ? c->n_boot : RG_MEASURE_NBOOT;
    const double level = c->level > 0 ? c->level : RG_MEASURE_LEVEL_TS;
    unsigned char *same = malloc(L * m * n);
    if (!same) RG_FAIL(RG_ENOMEM, "clone: out of memory for %zu x %zu pairs", m, n);
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < m * n; k++) same[l * m * n + k] = r->labels[k * W + l] == r->labels[k * W + L + l];
    int st = RG_OK;
    for (size_t l = 0; l < L && st == RG_OK; l++) {
        st = rg_measure_ts(m, c->t_b, n, same + l * m * n, nb, br, level, &r->t_s[l], &r->t_s_lo[l], &r->t_s_hi[l],
                           r->phi + l * m, r->phi_lo + l * m, r->phi_hi + l * m);
        for (size_t i = 0; i < m && st == RG_OK; i++) {
            r->phi_theory[l * m + i] = NAN;
            if (c->theory) st = c->theory(c->theory_ctx, l, c->t_b[i], &r->phi_theory[l * m + i]);
        }
    }
    if (st == RG_OK && L == 2) {
        double t0, t1;
        st = rg_measure_ts_joint(m, c->t_b, n, same, same + m * n, nb, br, level, &t0, &t1, &r->gap, &r->gap_lo,
                                 &r->gap_hi);
    }
    free(same);
    rg_exp__count(m * n, W, L, K, r->labels, r->class_frac);          /* clones a */
    rg_exp__count(m * n, W, L, K, r->labels + L, r->class_frac);      /* clones b */
    for (size_t i = 0; i < L * K; i++) r->class_frac[i] /= (double)(2 * m * n);
    return st;
}

int rg_exp_clone(const rg_exp_clone_cfg *c, rg_exp_clone_result *res)
{
    if (!res) RG_FAIL(RG_EINVAL, "clone: NULL result");
    memset(res, 0, sizeof *res);
    const char *why = rg_exp_clone_check(c);
    if (why) RG_FAIL(RG_EINVAL, "clone: %s", why);
    const rg_exp_comm *comm = c->run.comm;
    const size_t m = c->n_branch, n = c->n_pairs, W = 2 * c->lab->n_modes;
    size_t lo, hi;
    rg_exp_slice(comm, n, &lo, &hi);
    int st = alloc_result(c, res);
    if (st == RG_OK && !(res->labels = calloc(m * n * W, sizeof *res->labels)))
        st = rg__fail(RG_ENOMEM, __FILE__, __LINE__, "clone: out of memory for %zu x %zu labels", m, n);
    if (st == RG_OK) st = rg_exp__progress(&c->run, 0.0);
    if (st == RG_OK) st = clone_slice(c, lo, hi - lo, res->labels);
    st = rg_exp__agree(comm, st);
    for (size_t i = 0; i < m && st == RG_OK; i++)
        st = rg_exp__gather(comm, RG_EXP_INT, res->labels + i * n * W, n, W, 0);
    if (st == RG_OK && rg_exp__root(comm)) st = clone_measure(c, res);
    if (st == RG_OK) st = rg_exp__progress(&c->run, 1.0);
    if (st != RG_OK || !rg_exp__root(comm)) rg_exp_clone_result_free(res);
    return st;
}

size_t rg_exp_clone_warnings(const rg_exp_clone_result *r, const rg_exp_labeller *lab, char *buf, size_t len)
{
    size_t n = 0, used = 0;
    if (len) buf[0] = '\0';
    for (size_t l = 0; r && l < r->n_modes; l++) {
        const char *name = lab && l < 4 && lab->names[l] ? lab->names[l] : "mode";
        double plateau = 0;
        for (size_t k = 0; k < r->n_classes; k++) plateau += r->class_frac[l * r->n_classes + k] * r->class_frac[l * r->n_classes + k];
        char line[256];
        int w = 0;
        if (isnan(r->t_s[l]))
            w = snprintf(line, sizeof line, "mode %zu (%s): phi never crosses the level inside the branch times "
                         "(%.3g to %.3g): t_S is undefined; widen --branch-times\n", l, name, r->t_b[0], r->t_b[r->n_branch - 1]);
        if (w > 0 && used + (size_t)w < len) memcpy(buf + used, line, (size_t)w + 1), used += (size_t)w;
        n += w > 0;
        w = 0;
        if (plateau > RG_EXP_PLATEAU_MAX)
            w = snprintf(line, sizeof line, "mode %zu (%s): unbalanced final labels, plateau sum p_k^2 = %.3f > %.2f: "
                         "the 0.775 crossing is biased\n", l, name, plateau, RG_EXP_PLATEAU_MAX);
        if (w > 0 && used + (size_t)w < len) memcpy(buf + used, line, (size_t)w + 1), used += (size_t)w;
        n += w > 0;
    }
    return n;
}
