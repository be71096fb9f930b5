/* `regimes schedule`: design a piecewise-constant coupling gamma(t) that closes or sets the gmm4
 * synchronization gap (rg_schedule_solve, docs/math.md 7.3, 7.5). The "after" times are recomputed from
 * the printed schedule string through the same path as `regimes theory --schedule` (spec_build), so
 * the string is checked to reproduce them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/schedule.h"
#include "regimes/measure.h"
#include "regimes/theory.h"
#include "args.h"
#include "cli.h"
#include "run.h"

enum { O_COUPLING, O_GAMMA, O_DIM, O_MC2, O_MD2, O_SIGMA2, O_TARGET, O_SEGMENTS, O_JSON, O_HELP, O_VERIFY, O_SAMPLES,
       O_VDIM, O_SEED, O_OUT, O_THREADS, O_COUNT };

static const char *const NAMES[O_COUNT] = {
    [O_COUPLING] = "--coupling", [O_GAMMA] = "--gamma",   [O_DIM] = "--dim",
    [O_MC2] = "--mc2",           [O_MD2] = "--md2",       [O_SIGMA2] = "--sigma2",
    [O_TARGET] = "--target",     [O_SEGMENTS] = "--segments", [O_JSON] = "--json",
    [O_HELP] = "--help",         [O_VERIFY] = "--verify", [O_SAMPLES] = "--samples",
    [O_VDIM] = "--verify-dim",   [O_SEED] = "--seed",     [O_OUT] = "--out",
    [O_THREADS] = "--threads",
};

static const char *const COUPLING_NAMES[] = { "cross", "diffusive", NULL };

static const char HELP[] =
"usage: regimes schedule [--coupling cross|diffusive] [--mc2 X --md2 X --sigma2 S] [--target T] [flags]\n"
"\n"
"Design a piecewise-constant symmetric coupling gamma(t) for gmm4 data on the coupled process so that\n"
"the synchronization gap t_S^c - t_S^d (forward OU time units, GMM-exact kappa = 1, docs/math.md 7.3)\n"
"equals a target. With 2 segments: gamma = 0 for t < tau, gamma = g beyond, tau = 0.5 x the earlier\n"
"uncoupled (gamma = 0) t_S; with 1 segment: a constant g. g is found by Brent inside 0.98 of the\n"
"stability bound (cross: |g| <= 0.98; diffusive: g in [-0.49, 100]). Prints the schedule in the\n"
"--schedule syntax of `regimes theory`, the per-mode t_S before (constant --gamma) and after.\n"
"\n"
"  --coupling F      cross | diffusive. cross: M = [[1, -g], [-g, 1]]; diffusive:\n"
"                    M = [[1+g, -g], [-g, 1+g]]. Default cross.\n"
"  --gamma G         real, the constant coupling of the 'before' column (1 / OU time). cross: G in\n"
"                    (-1, 1); diffusive: G in (-0.5, inf). Default 0.\n"
"  --dim D           integer in [1, 1e12], d per modality (N = 2d). Default 1000. (The times do\n"
"                    not depend on it: |m|^2 below are already summed over coordinates.)\n"
"  --mc2 X           real > 0, |m_c|^2 of the common mean (data units). Default 25.\n"
"  --md2 X           real > 0, |m_d|^2 of the difference mean (data units). Default 25.\n"
"  --sigma2 S        real > 0, within-class variance sigma^2. Default 1.\n"
"  --target T        close | gap:G. close: gap 0 (synchronised generation); gap:G: t_S^c - t_S^d =\n"
"                    G, a real in forward OU time units (> 0: shared content commits first).\n"
"                    Default close.\n"
"  --segments N      1 | 2, number of constant segments. Default 2.\n"
"  --json            one JSON object on stdout (schema: docs/cli.md) instead of the table.\n"
"  --verify          also measure both gaps (below).\n"
"  --help            this text.\n"
"\n"
"Verification by measurement (--verify): two `regimes clone` runs with the exact mixture score, one\n"
"with the constant --gamma and one with the designed --schedule, each with --samples N clone pairs\n"
"per branch time (default 4000; 120 steps) at d = --verify-dim D per modality (default 16: with\n"
"isotropic sigma^2 the class posterior sees only the projections on m_c and m_d, so the times do not\n"
"depend on d), --seed S (default 1), --threads N, files under --out DIR (default results/schedule:\n"
"before/, after/). It prints the measured gaps with their 95% intervals and judges by the rule of\n"
"regimes reproduce: pass when the target (the designed schedule's crossings on the same branch grid)\n"
"lies in the measured interval and that interval's half-width is at most a third of the gap the\n"
"schedule removes; FAIL (exit 1) when it lies outside; undecided (exit 1, with the --samples to ask\n"
"for) when the interval is too wide to decide.\n"
"\n"
"An unreachable target (the gap over the whole search range stays on one side) is an error, exit 2.\n"
"Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input (one line on stderr).\n"
"Example: regimes schedule --mc2 50 --md2 10 --target close\n";

typedef struct {
    rg_coupling_form form;
    double gamma0, target;
    size_t dim, n_seg;
    double mc2, md2, sigma2;
    int json, verify, threads;
    size_t samples, vdim;
    unsigned long long seed;
    const char *out;
} sched_opts;

static int opt_double(const cli_opt *v, int id, cli_range r, double *out)
{
    return v[id].value ? cli_parse_double(NAMES[id], v[id].value, r, out) : RG_OK;
}

static int parse(const cli_opt *v, sched_opts *o)
{
    const cli_range pos = { 0.0, INFINITY, 1, 1 }, any = { -INFINITY, INFINITY, 1, 1 };
    int form = 0;
    *o = (sched_opts){ RG_COUPLING_CROSS, 0.0, 0.0, 1000, 2, 25.0, 25.0, 1.0, 0, 0, 0, 4000, 16, 1, "results/schedule" };
    if (v[O_COUPLING].value && cli_parse_choice("--coupling", v[O_COUPLING].value, COUPLING_NAMES, &form))
        return RG_EINVAL;
    o->form = form ? RG_COUPLING_DIFFUSIVE : RG_COUPLING_CROSS;
    cli_range stable = form ? (cli_range){ -0.5, INFINITY, 1, 1 } : (cli_range){ -1.0, 1.0, 1, 1 };
    int st = opt_double(v, O_GAMMA, stable, &o->gamma0);
    if (!st && v[O_DIM].value) st = cli_parse_size("--dim", v[O_DIM].value, 1, (size_t)1000000000000ull, &o->dim);
    if (!st) st = opt_double(v, O_MC2, pos, &o->mc2);
    if (!st) st = opt_double(v, O_MD2, pos, &o->md2);
    if (!st) st = opt_double(v, O_SIGMA2, pos, &o->sigma2);
    if (!st && v[O_SEGMENTS].value) st = cli_parse_size("--segments", v[O_SEGMENTS].value, 1, 2, &o->n_seg);
    const char *t = v[O_TARGET].value;
    if (!st && t && strcmp(t, "close") != 0) {
        if (strncmp(t, "gap:", 4) != 0) return cli_usage("--target wants close or gap:G, got '%s'", t);
        st = cli_parse_double("--target gap:G", t + 4, any, &o->target);
    }
    o->json = v[O_JSON].value != NULL;
    o->verify = v[O_VERIFY].value != NULL;
    size_t sz = 0;
    if (!st && v[O_SAMPLES].value) st = cli_parse_size("--samples", v[O_SAMPLES].value, 10, 10000000, &o->samples);
    if (!st && v[O_VDIM].value) st = cli_parse_size("--verify-dim", v[O_VDIM].value, 1, 4096, &o->vdim);
    if (!st && v[O_SEED].value && !(st = cli_parse_size("--seed", v[O_SEED].value, 0, (size_t)-1, &sz))) o->seed = sz;
    if (!st && v[O_THREADS].value && !(st = cli_parse_size("--threads", v[O_THREADS].value, 1, 1024, &sz))) o->threads = (int)sz;
    if (v[O_OUT].value) o->out = v[O_OUT].value;
    if (!st && !o->verify && (v[O_SAMPLES].value || v[O_VDIM].value || v[O_SEED].value || v[O_OUT].value || v[O_THREADS].value))
        st = cli_usage("--samples, --verify-dim, --seed, --out and --threads need --verify");
    return st;
}

/* Per-mode times of the process spec_build makes from o and an optional --schedule string. */
static int times_via_spec(const sched_opts *o, double gamma, const char *schedule, double *tc, double *td)
{
    spec_opts so;
    memset(&so, 0, sizeof so);
    so.kind = RG_PROCESS_COUPLED;
    so.dim = o->dim;
    so.coupling = o->form;
    so.gamma = gamma;
    so.schedule = schedule;
    so.gmm4 = 1;
    so.mc2 = o->mc2;
    so.md2 = o->md2;
    so.sigma2 = o->sigma2;
    spec_built b;
    int st = spec_build(&so, &b);
    if (st) return st;
    double t[2];
    int ls = RG_OK;
    for (size_t l = 0; l < 2 && ls == RG_OK; l++) {
        int found = 0;
        ls = rg_theory_speciation(b.p, &b.data, l, RG_SPECIATION_GMM, t + l, &found);
        if (ls == RG_OK && !found) t[l] = NAN;
    }
    spec_free(&b);
    if (ls != RG_OK) return cli_status(ls);
    *tc = t[0];
    *td = t[1];
    return RG_OK;
}

static void jnum(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.17g", x);
    else fputs("null", f);
}

typedef struct {
    double knot_t[2], gamma[2];
    double tc0, td0, tc, td;
    char text[160];
} sched_result;

/* The rule of regimes reproduce (reproduce.h): the target, taken like with like (the designed schedule's
 * theory crossings on the same branch grid as the measurement), must lie in the measured gap's 95%
 * interval (the exact mixture score: no model allowance), and that interval decides only when its
 * half-width is at most a third of the gap the schedule removes (|gap before - target|); otherwise the
 * verdict is undecided and more --samples are needed. */
#define VERIFY_RESOLVE (1.0 / 3.0)

typedef enum { V_PASS, V_FAIL, V_UNDECIDED } sched_verdict;
static const char *const VERDICT_NAME[3] = { "pass", "FAIL", "undecided" };

typedef struct {
    double gap[2], lo[2], hi[2]; /* before, after */
    double target_grid, resolve;
    sched_verdict verdict;
} sched_measured;

/* The gap of the theory curves (columns 4 and 8 of a two-mode summary) at the 0.775 level on the grid. */
static double grid_gap(const clone_summary *s)
{
    double t[64], pc[64], pd[64], tc = NAN, td = NAN;
    const size_t m = s->m < 64 ? s->m : 64, w = 1 + 4 * s->L;
    for (size_t i = 0; i < m; i++) t[i] = s->res[i * w], pc[i] = s->res[i * w + 4], pd[i] = s->res[i * w + 8];
    if (rg_measure_crossing(m, t, pc, RG_MEASURE_LEVEL_TS, &tc) || rg_measure_crossing(m, t, pd, RG_MEASURE_LEVEL_TS, &td))
        return NAN;
    return tc - td;
}

/* One clone run of the verification: gmm4 on the coupled process, `coupling` the --gamma or
 * --schedule words. */
static int verify_run(const sched_opts *o, const char *sub, const char *coupling, clone_summary *s)
{
    char line[2048], thr[32] = "";
    if (o->threads) snprintf(thr, sizeof thr, " --threads %d", o->threads);
    snprintf(line, sizeof line,
             "clone --process coupled --data gmm4 --coupling %s --dim %zu --mc2 %.17g --md2 %.17g --sigma2 %.17g %s "
             "--steps 120 --samples %zu --seed %llu --quiet%s --out %s/%s",
             o->form == RG_COUPLING_CROSS ? "cross" : "diffusive", o->vdim, o->mc2, o->md2, o->sigma2, coupling,
             o->samples, o->seed, thr, o->out, sub);
    char *argv[64];
    int argc = 0;
    for (char *tok = strtok(line, " "); tok && argc < 63; tok = strtok(NULL, " ")) argv[argc++] = tok;
    argv[argc] = NULL;
    memset(s, 0, sizeof *s);
    int st = clone_main(argc, argv, s);
    cli_set_command("regimes schedule");
    return st;
}

static int verify(const sched_opts *o, const sched_result *r, sched_measured *m)
{
    char before[64];
    snprintf(before, sizeof before, "--gamma %.17g", o->gamma0);
    char after[200];
    snprintf(after, sizeof after, "--schedule %s", r->text);
    const char *words[2] = { before, after }, *subs[2] = { "before", "after" };
    for (int i = 0; i < 2; i++) {
        clone_summary s;
        int st = verify_run(o, subs[i], words[i], &s);
        if (!st && i == 1) m->target_grid = grid_gap(&s);
        free(s.res);
        if (st) return st;
        m->gap[i] = s.gap, m->lo[i] = s.gap_lo, m->hi[i] = s.gap_hi;
    }
    const double tg = m->target_grid;
    m->resolve = VERIFY_RESOLVE * fabs((r->tc0 - r->td0) - o->target);
    m->verdict = !(m->lo[1] <= tg && tg <= m->hi[1]) ? V_FAIL
                 : 0.5 * (m->hi[1] - m->lo[1]) > m->resolve ? V_UNDECIDED : V_PASS;
    return RG_OK;
}

static void print_json(const sched_opts *o, const sched_result *r, const sched_measured *m, FILE *f)
{
    fprintf(f, "{\"command\": \"schedule\", \"coupling\": \"%s\", \"dim\": %zu, \"mc2\": ",
            o->form == RG_COUPLING_CROSS ? "cross" : "diffusive", o->dim);
    jnum(f, o->mc2), fputs(", \"md2\": ", f), jnum(f, o->md2), fputs(", \"sigma2\": ", f), jnum(f, o->sigma2);
    fputs(", \"target_gap\": ", f), jnum(f, o->target);
    fprintf(f, ", \"segments\": %zu, \"schedule\": \"%s\", \"knot_t\": [", o->n_seg, r->text);
    for (size_t i = 0; i < o->n_seg; i++) fputs(i ? ", " : "", f), jnum(f, r->knot_t[i]);
    fputs("], \"gamma\": [", f);
    for (size_t i = 0; i < o->n_seg; i++) fputs(i ? ", " : "", f), jnum(f, r->gamma[i]);
    fputs("], \"before\": {\"gamma\": ", f), jnum(f, o->gamma0);
    fputs(", \"t_s_common\": ", f), jnum(f, r->tc0), fputs(", \"t_s_difference\": ", f), jnum(f, r->td0);
    fputs(", \"sync_gap\": ", f), jnum(f, r->tc0 - r->td0);
    fputs("}, \"after\": {\"t_s_common\": ", f), jnum(f, r->tc), fputs(", \"t_s_difference\": ", f);
    jnum(f, r->td), fputs(", \"sync_gap\": ", f), jnum(f, r->tc - r->td), fputs("}", f);
    if (m) {
        fputs(", \"measured\": {", f);
        for (int i = 0; i < 2; i++) {
            fprintf(f, "%s\"%s\": {\"sync_gap\": ", i ? ", " : "", i ? "after" : "before"), jnum(f, m->gap[i]);
            fputs(", \"sync_gap_ci\": [", f), jnum(f, m->lo[i]), fputs(", ", f), jnum(f, m->hi[i]), fputs("]}", f);
        }
        fputs(", \"target_on_grid\": ", f), jnum(f, m->target_grid);
        fputs(", \"resolve\": ", f), jnum(f, m->resolve);
        fprintf(f, ", \"samples\": %zu, \"verify_dim\": %zu, \"verdict\": \"%s\", \"pass\": %s}", o->samples, o->vdim,
                VERDICT_NAME[m->verdict], m->verdict == V_PASS ? "true" : "false");
    }
    fputs("}\n", f);
}

static void print_table(const sched_opts *o, const sched_result *r, const sched_measured *m, FILE *f)
{
    char a[32], b[32], c[32];
    fprintf(f, "coupled %s, d = %zu per modality; gmm4 |m_c|^2 = %s, |m_d|^2 = %s, sigma^2 = %s\n",
            o->form == RG_COUPLING_CROSS ? "cross" : "diffusive", o->dim, theory_num(o->mc2, a, sizeof a),
            theory_num(o->md2, b, sizeof b), theory_num(o->sigma2, c, sizeof c));
    fprintf(f, "target gap   %s\n", theory_num(o->target, a, sizeof a));
    fprintf(f, "schedule     %s\n", r->text);
    fprintf(f, "                   before (gamma = %s)   after\n", theory_num(o->gamma0, a, sizeof a));
    fprintf(f, "t_S common         %-20s  %s\n", theory_num(r->tc0, a, sizeof a), theory_num(r->tc, b, sizeof b));
    fprintf(f, "t_S difference     %-20s  %s\n", theory_num(r->td0, a, sizeof a), theory_num(r->td, b, sizeof b));
    fprintf(f, "sync gap           %-20s  %s\n", theory_num(r->tc0 - r->td0, a, sizeof a),
            theory_num(r->tc - r->td, b, sizeof b));
    if (m) {
        fprintf(f, "measured gap       %-20s  %s\n", theory_num(m->gap[0], a, sizeof a), theory_num(m->gap[1], b, sizeof b));
        char lo[32], hi[32], i0[80];
        snprintf(i0, sizeof i0, "[%s, %s]", theory_num(m->lo[0], lo, sizeof lo), theory_num(m->hi[0], hi, sizeof hi));
        fprintf(f, "  95%% interval     %-20s  [%s, %s]\n", i0, theory_num(m->lo[1], lo, sizeof lo), theory_num(m->hi[1], hi, sizeof hi));
        fprintf(f, "verification       %s (target on the branch grid %.4g inside the interval, half-width <= %.3g; "
                   "%zu pairs, d = %zu, files in %s)\n",
                VERDICT_NAME[m->verdict], m->target_grid, m->resolve, o->samples, o->vdim, o->out);
    }
}

int cmd_schedule(int argc, char **argv)
{
    cli_set_command("regimes schedule");
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], "--help") == 0) {
            fputs(HELP, stdout);
            return RG_OK;
        }
    cli_opt v[O_COUNT];
    for (int i = 0; i < O_COUNT; i++) v[i] = (cli_opt){ NAMES[i], i != O_JSON && i != O_HELP && i != O_VERIFY, NULL };
    sched_opts o;
    int st = cli_scan(argc, argv, 1, v, O_COUNT);
    if (!st) st = parse(v, &o);
    if (st) return st;
    if (o.verify && run_outdir(o.out)) return RG_EINVAL; /* before any work: nothing half-done */

    sched_result r;
    st = times_via_spec(&o, o.gamma0, NULL, &r.tc0, &r.td0);
    if (st) return st;
    double pat[4] = { 1, 1, 1, -1 }, norm2[2] = { o.mc2, o.md2 }, Cw[4] = { o.sigma2, 0, 0, o.sigma2 };
    rg_theory_data data = { .n_labels = 2, .pattern = pat, .mean_norm2 = norm2, .Cw = Cw };
    double tc_lib, td_lib;
    int ls = rg_schedule_solve(o.form, o.dim, &data, o.target, o.n_seg, r.knot_t, r.gamma, &tc_lib, &td_lib);
    if (ls == RG_OK) ls = rg_schedule_format(o.n_seg, r.knot_t, r.gamma, r.text, sizeof r.text);
    if (ls != RG_OK) return cli_status(ls);
    st = times_via_spec(&o, 0.0, r.text, &r.tc, &r.td); /* the string through the --schedule path */
    if (st) return st;
    if (!(fabs(r.tc - tc_lib) <= 1e-9 * fabs(tc_lib)) || !(fabs(r.td - td_lib) <= 1e-9 * fabs(td_lib)))
        return cli_runtime("the schedule string does not reproduce the designed times (%.17g, %.17g)", tc_lib,
                           td_lib);
    sched_measured m;
    if (o.verify && (st = verify(&o, &r, &m))) return st;
    if (o.json) print_json(&o, &r, o.verify ? &m : NULL, stdout);
    else print_table(&o, &r, o.verify ? &m : NULL, stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) return cli_runtime("cannot write the output");
    if (o.verify && m.verdict == V_FAIL)
        return cli_runtime("verification failed: the target %.4g (on the branch grid) is outside the measured gap's interval "
                           "[%.4g, %.4g]", m.target_grid, m.lo[1], m.hi[1]);
    if (o.verify && m.verdict == V_UNDECIDED)
        return cli_runtime("undecided: the measured gap's half-width %.3g exceeds %.3g (a third of the gap removed); rerun "
                           "with more --samples (about %.0f)", 0.5 * (m.hi[1] - m.lo[1]), m.resolve,
                           ceil((double)o.samples * pow(0.5 * (m.hi[1] - m.lo[1]) / m.resolve, 2)));
    return RG_OK;
}
