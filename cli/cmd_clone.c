/* `regimes clone`: cloning curves phi(t_b) with the exact mixture score, the measured speciation
 * time(s) and, for two modalities, the measured synchronization gap, beside the theory
 * (MATH.md 6.6, 7.2, 8.1, 8.3). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/io.h"
#include "regimes/measure.h"
#include "regimes/rng.h"
#include "regimes/sampler.h"
#include "regimes/score.h"
#include "regimes/theory.h"
#include "args.h"
#include "cli.h"
#include "exp.h"
#include "par.h"
#include "run.h"

#define CLONE_LEVEL 0.775   /* MATH.md 7.2, 8.1 */
#define CLONE_BOOT 20000    /* MATH.md 8.1: the parent's n_boot */
#define CLONE_NB_DEFAULT 14

static void clone_help(FILE *f)
{
    fputs("usage: regimes clone [process and data flags of regimes theory] [experiment flags]\n"
          "\n"
          "Cloning experiment (MATH.md 6.6, 8.1): --samples trajectories run from T to each branch time t_b\n"
          "with the exact mixture score, are copied, and both copies continue to t_end with independent\n"
          "noise; phi(t_b) is the fraction of pairs whose final labels agree (MATH.md 8.4), with a bootstrap\n"
          "95% interval (20000 resamples). t_S is the 0.775 crossing, with the percentile interval over\n"
          "bootstrap replicates of the whole curve. For --data gmm4 each mode (common, difference) gets its\n"
          "own curve and t_S, and sync_gap = t_S(common) - t_S(difference) with a joint bootstrap interval.\n"
          "\n"
          "Defaults: --samples 1000 (pairs per branch time), --steps 200, --method exp, --grid geometric,\n"
          "--branch-times 14 points from 0.3 to 2.2 times the predicted t_S, --out results/clone.\n"
          "\n"
          "Output (--out DIR): phi.csv (t_b, then per mode phi, its 95% interval and the theory), meta.json.\n"
          "--json prints {t_S, t_S_ci, t_S_theory, modes: [{name, t_S, t_S_ci, t_S_theory}], sync_gap,\n"
          "sync_gap_ci, sync_gap_theory} on stdout.\n\n", f);
    run_print_help(f);
}

/* T, t_end and branch times from the flags or the theory (run.h defaults). */
static int clone_times(run_opts *ro, const theory_result *th, double *T, double *t_end)
{
    double tmax = NAN, tmin = NAN;
    for (size_t l = 0; l < th->b.data.n_labels; l++) {
        tmax = fmax(tmax, th->t_s_label[l]);
        tmin = fmin(tmin, th->t_s_label[l]);
    }
    if (run_times(ro, th, tmax, T, t_end)) return CLI_USAGE;
    if (!ro->branch) {
        double lo = isnan(tmin) ? 0.1 : 0.3 * tmin, hi = isnan(tmax) ? 0.9 * *T : fmin(2.2 * tmax, 0.9 * *T);
        lo = fmax(lo, 2.0 * *t_end);
        ro->n_branch = CLONE_NB_DEFAULT;
        ro->branch = malloc(ro->n_branch * sizeof *ro->branch);
        if (!ro->branch) return cli_runtime("out of memory");
        for (size_t i = 0; i < ro->n_branch; i++) ro->branch[i] = lo + (hi - lo) * (double)i / (double)(ro->n_branch - 1);
    }
    for (size_t i = 0; i < ro->n_branch; i++) {
        if (ro->branch[i] >= *T || ro->branch[i] <= *t_end)
            return cli_usage("--branch-times: %g is not inside (t_end, T) = (%g, %g)", ro->branch[i], *t_end, *T);
        if (i && ro->branch[i] <= ro->branch[i - 1]) return cli_usage("--branch-times must increase");
    }
    return CLI_OK;
}

int clone_main(int argc, char **argv, clone_summary *sum)
{
    double t0 = run_now();
    run_opts ro;
    theory_result th;
    int st = run_parse(argc, argv, 1000, 200, &ro, &th);
    if (st) return st;
    if (ro.help) {
        clone_help(stdout);
        return CLI_OK;
    }
    if (ro.threads) omp_set_num_threads(ro.threads);
    const char *out = ro.out ? ro.out : "results/clone";
    double T, t_end;
    exp_model em = { 0 };
    rg_score_gmm *sc = NULL;
    st = clone_times(&ro, &th, &T, &t_end);
    if (!st && par_rank() == 0) st = run_outdir(out);
    st = par_status(st);
    if (!st) st = exp_model_new(&th, &em);
    if (!st) {
        int s = rg_score_gmm_new(th.b.p, em.g, 256, &sc);
        if (s) st = cli_status(s);
    }
    const size_t m = ro.n_branch, n = ro.samples, L = em.n_labels, N = em.N, W = 2 * L;
    size_t lo, hi;
    par_slice(n, &lo, &hi);
    size_t ns = hi - lo;
    int *lab = NULL, *la = NULL;
    if (!st) {
        lab = calloc(m * n * W, sizeof *lab);
        la = malloc((ns ? ns : 1) * W * sizeof *la);
        if (!lab || !la) st = cli_runtime("out of memory for %zu clone pairs of dimension %zu", ns, N);
    }
    double *grid = NULL;
    size_t n_grid = 0;
    if (!st) st = run_time_grid(&ro, T, t_end, ro.branch, m, &grid, &n_grid);
    float *xa = NULL, *xb = NULL;
    if (!st && ns) {
        xa = malloc(m * ns * N * sizeof *xa);
        xb = malloc(m * ns * N * sizeof *xb);
        if (!xa || !xb) st = cli_runtime("out of memory for %zu x %zu clone pairs of dimension %zu", m, ns, N);
    }
    run_progress pr;
    run_progress_start(&pr, "clone", 1, ro.quiet);
    if (!st && ns) {
        rg_sampler_cfg cfg = { .proc = th.b.p, .score = rg_score_gmm_iface(sc), .method = (rg_sampler_method)ro.method,
                               .grid = grid, .n_grid = n_grid, .seed = ro.seed, .traj0 = lo,
                               .trunk = (rg_sampler_trunk)ro.trunk };
        int s = rg_sampler_clone(&cfg, ro.branch, m, ns, xa, xb);
        if (s) st = cli_status(s);
    }
    for (size_t i = 0; i < m && !st && ns; i++) {
        int s = exp_classify(&em, ns, xa + i * ns * N, la);
        if (!s) s = exp_classify(&em, ns, xb + i * ns * N, la + L * ns);
        if (s) st = cli_status(s);
        /* Row j of branch i: (a labels per mode, b labels per mode). */
        for (size_t j = 0; j < ns && !st; j++)
            for (size_t l = 0; l < L; l++) {
                lab[(i * n + lo + j) * W + l] = la[l * ns + j];
                lab[(i * n + lo + j) * W + L + l] = la[(L + l) * ns + j];
            }
    }
    free(xa);
    free(xb);
    free(grid);
    run_progress_add(&pr, 1);
    run_progress_end(&pr);
    st = par_status(st);
    for (size_t i = 0; i < m && !st; i++)
        if (par_gather_int(lab + i * n * W, n, W)) st = cli_runtime("MPI gather failed");
    if (!st && par_rank() == 0) {
        /* Measurement on rank 0 from the full label table: identical for any number of ranks. */
        unsigned char *same = malloc(L * m * n);
        double *res = malloc(m * (1 + 4 * L) * sizeof *res);
        double ts[2] = { NAN, NAN }, ts_lo[2] = { NAN, NAN }, ts_hi[2] = { NAN, NAN };
        double gap = NAN, gap_lo = NAN, gap_hi = NAN;
        if (!same || !res) st = cli_runtime("out of memory");
        for (size_t l = 0; l < L && !st; l++)
            for (size_t k = 0; k < m * n; k++) same[l * m * n + k] = lab[k * W + l] == lab[k * W + L + l];
        rg_rng br = { ro.seed, RG_STREAM_BOOTSTRAP };
        double *phi = malloc(3 * m * sizeof *phi);
        if (!phi && !st) st = cli_runtime("out of memory");
        for (size_t l = 0; l < L && !st; l++) {
            int s = rg_measure_ts(m, ro.branch, n, same + l * m * n, CLONE_BOOT, br, CLONE_LEVEL, &ts[l], &ts_lo[l],
                                  &ts_hi[l], phi, phi + m, phi + 2 * m);
            for (size_t i = 0; i < m && !s; i++) {
                double *row = res + i * (1 + 4 * L);
                row[0] = ro.branch[i];
                row[1 + 4 * l] = phi[i];
                row[2 + 4 * l] = phi[m + i];
                row[3 + 4 * l] = phi[2 * m + i];
                s = rg_theory_phi_at(th.b.p, &th.b.data, l, ro.branch[i], &row[4 + 4 * l]);
            }
            if (s) st = cli_status(s);
        }
        if (!st && L == 2) {
            double tc, td;
            int s = rg_measure_ts_joint(m, ro.branch, n, same, same + m * n, CLONE_BOOT, br, CLONE_LEVEL, &tc, &td,
                                        &gap, &gap_lo, &gap_hi);
            if (s) st = cli_status(s);
        }
        static const char *const NAMES1[] = { "t_b [time]", "phi [1]", "phi_lo [1]", "phi_hi [1]", "phi_theory [1]" };
        static const char *const NAMES2[] = { "t_b [time]", "phi_common [1]", "phi_common_lo [1]", "phi_common_hi [1]",
                                              "phi_common_theory [1]", "phi_difference [1]", "phi_difference_lo [1]",
                                              "phi_difference_hi [1]", "phi_difference_theory [1]" };
        char path[4096];
        if (!st) st = run_path(path, sizeof path, out, "phi.csv");
        if (!st) {
            int s = rg_io_csv_write(path, 1 + 4 * L, L == 1 ? NAMES1 : NAMES2, m, res);
            if (s) st = cli_status(s);
        }
        if (!st) st = run_write_meta(out, "clone", argc, argv, &ro, T, t_end, run_now() - t0);
        if (!st && ro.json) {
            static const char *const MN[2] = { "common", "difference" };
            FILE *f = stdout;
            double tsm = fmax(ts[0], L == 2 ? ts[1] : (double)NAN);
            size_t lm = (L == 2 && ts[1] > ts[0]) ? 1 : 0;
            fputs("{\"command\": \"clone\", \"t_S\": ", f);
            cli_json_num(f, tsm);
            fputs(", \"t_S_ci\": [", f);
            cli_json_num(f, ts_lo[lm]), fputs(", ", f), cli_json_num(f, ts_hi[lm]);
            fputs("], \"t_S_theory\": ", f);
            cli_json_num(f, th.t_s);
            fputs(", \"modes\": [", f);
            for (size_t l = 0; l < L; l++) {
                fputs(l ? ", {\"name\": " : "{\"name\": ", f);
                cli_json_str(f, L == 1 ? (th.o.kind == RG_PROCESS_OU ? "ou" : "label") : MN[l]);
                fputs(", \"t_S\": ", f), cli_json_num(f, ts[l]);
                fputs(", \"t_S_ci\": [", f), cli_json_num(f, ts_lo[l]), fputs(", ", f), cli_json_num(f, ts_hi[l]);
                fputs("], \"t_S_theory\": ", f), cli_json_num(f, th.t_s_label[l]), fputs("}", f);
            }
            fputs("], \"sync_gap\": ", f), cli_json_num(f, gap);
            fputs(", \"sync_gap_ci\": ", f);
            if (L == 2) fputs("[", f), cli_json_num(f, gap_lo), fputs(", ", f), cli_json_num(f, gap_hi), fputs("]", f);
            else fputs("null", f);
            fputs(", \"sync_gap_theory\": ", f), cli_json_num(f, th.sync_gap);
            fprintf(f, ", \"pairs\": %zu, \"branch_times\": %zu, \"out\": ", n, m);
            cli_json_str(f, out);
            fputs("}\n", f);
        }
        if (!st && sum) { /* for regimes reproduce: the table and the curve (sum takes res) */
            sum->m = m, sum->L = L, sum->res = res, res = NULL;
            for (size_t l = 0; l < L; l++) {
                sum->ts[l] = ts[l], sum->ts_lo[l] = ts_lo[l], sum->ts_hi[l] = ts_hi[l];
                sum->ts_theory[l] = th.t_s_label[l];
            }
            sum->gap = gap, sum->gap_lo = gap_lo, sum->gap_hi = gap_hi, sum->gap_theory = th.sync_gap;
        }
        free(same);
        free(res);
        free(phi);
    }
    free(lab);
    free(la);
    rg_score_gmm_free(sc);
    exp_model_free(&em);
    run_free(&ro, &th);
    return st;
}

int cmd_clone(int argc, char **argv)
{
    cli_set_command("regimes clone");
    return clone_main(argc, argv, NULL);
}
