/* `regimes sample`: reverse-time generation with the exact score (mixture, or the empirical score
 * of a training set), final samples as .npy and their class balance (MATH.md 6). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "regimes/io.h"
#include "regimes/rng.h"
#include "regimes/sampler.h"
#include "regimes/score.h"
#include "args.h"
#include "cli.h"
#include "exp.h"
#include "par.h"
#include "run.h"

static void sample_help(FILE *f)
{
    fputs("usage: regimes sample [process and data flags of regimes theory] [experiment flags]\n"
          "\n"
          "Draws --samples trajectories from the stationary prior at T and integrates the reverse process\n"
          "to t_end with the exact mixture score (default) or, with --train FILE.npy or --empirical, the\n"
          "exact empirical score of a training set (--n-train points drawn with --seed).\n"
          "\n"
          "Defaults: --samples 1000, --steps 200, --method exp, --grid geometric, --out results/sample.\n"
          "Output (--out DIR): samples.npy (samples x N float32), classes.csv (per mode and class: count,\n"
          "fraction, the data model's weight 1/2), meta.json. --json prints {samples, classes: ...}.\n"
          "  --empirical        use the empirical score of --n-train drawn points\n\n", f);
    run_print_help(f);
}

int cmd_sample(int argc, char **argv)
{
    cli_set_command("regimes sample");
    double t0 = run_now();
    /* --empirical is ours alone: strip it before the shared parser. */
    int empirical = 0, ac = 0;
    char **av = malloc((size_t)(argc + 1) * sizeof *av);
    if (!av) return cli_runtime("out of memory");
    for (int a = 0; a < argc; a++) {
        if (a > 0 && strcmp(argv[a], "--empirical") == 0) empirical = 1;
        else av[ac++] = argv[a];
    }
    run_opts ro;
    theory_result th;
    int st = run_parse(ac, av, 1000, 200, &ro, &th);
    if (st || ro.help) {
        free(av);
        if (ro.help) sample_help(stdout);
        return st;
    }
    if (ro.threads) omp_set_num_threads(ro.threads);
    const char *out = ro.out ? ro.out : "results/sample";
    double T, t_end;
    exp_model em = { 0 };
    rg_score_gmm *sg = NULL;
    rg_score_emp *se = NULL;
    rg_data_set *X = NULL, *S = NULL;
    st = run_times(&ro, &th, th.t_s, &T, &t_end);
    if (!st && par_rank() == 0) st = run_outdir(out);
    st = par_status(st);
    if (!st) st = exp_model_new(&th, &em);
    size_t n = ro.samples, N = em.N, lo, hi;
    if (!st) {
        int s;
        if (ro.train || empirical) {
            s = ro.train ? rg_data_set_read_npy(ro.train, N, &X)
                         : rg_data_set_draw(em.g, (rg_rng){ ro.seed, RG_STREAM_DATA }, (size_t)th.n_train, &X);
            if (!s) s = rg_score_emp_new(th.b.p, X->X, X->P, X->N, 256, &se);
        } else
            s = rg_score_gmm_new(th.b.p, em.g, 256, &sg);
        if (!s) s = rg_data_set_new(n, N, 1, &S);
        if (s) st = cli_status(s);
    }
    par_slice(n, &lo, &hi);
    double *grid = NULL;
    size_t n_grid = 0;
    if (!st) st = run_time_grid(&ro, T, t_end, NULL, 0, &grid, &n_grid);
    if (!st && hi > lo) {
        rg_sampler_cfg cfg = { .proc = th.b.p, .score = se ? rg_score_emp_iface(se) : rg_score_gmm_iface(sg),
                               .method = (rg_sampler_method)ro.method, .grid = grid, .n_grid = n_grid,
                               .seed = ro.seed, .traj0 = lo };
        int s = rg_sampler_run(&cfg, hi - lo, 0, S->X + lo * N);
        if (s) st = cli_status(s);
    }
    free(grid);
    st = par_status(st);
    if (!st && par_gather_float(S ? S->X : NULL, n, N)) st = cli_runtime("MPI gather failed");
    if (!st && par_rank() == 0) {
        size_t L = em.n_labels;
        int *lab = malloc(L * n * sizeof *lab);
        double tab[2 * 2 * 4];
        if (!lab) st = cli_runtime("out of memory");
        int s = st ? RG_OK : exp_classify(&em, n, S->X, lab);
        if (s) st = cli_status(s);
        for (size_t l = 0; l < L && !st; l++)
            for (int c = 0; c < 2; c++) {
                size_t k = 0;
                for (size_t i = 0; i < n; i++) k += lab[l * n + i] == c;
                double *row = tab + 4 * (2 * l + (size_t)c);
                row[0] = (double)l, row[1] = c, row[2] = (double)k, row[3] = (double)k / (double)n;
            }
        for (size_t i = 0; i < n && !st && L == 1; i++) S->labels[i] = lab[i];
        for (size_t i = 0; i < n && !st && L == 2; i++) S->labels[i] = 2 * lab[i] + lab[n + i];
        char path[4096];
        static const char *const H[] = { "mode [index]", "class [index]", "count [1]", "fraction [1]" };
        if (!st && !(st = run_path(path, sizeof path, out, "samples.npy")) && (s = rg_data_set_write_npy(path, S)))
            st = cli_status(s);
        if (!st && !(st = run_path(path, sizeof path, out, "classes.csv")) && (s = rg_io_csv_write(path, 4, H, 2 * L, tab)))
            st = cli_status(s);
        if (!st) st = run_write_meta(out, "sample", argc, argv, &ro, T, t_end, run_now() - t0);
        if (!st && ro.json) {
            printf("{\"command\": \"sample\", \"samples\": %zu, \"N\": %zu, \"T\": ", n, N);
            cli_json_num(stdout, T);
            printf(", \"fractions\": [");
            for (size_t l = 0; l < L; l++) printf("%s%.17g", l ? ", " : "", tab[4 * (2 * l) + 3]);
            printf("], \"out\": ");
            cli_json_str(stdout, out);
            printf("}\n");
        }
        free(lab);
    }
    rg_score_gmm_free(sg);
    rg_score_emp_free(se);
    rg_data_set_free(X);
    rg_data_set_free(S);
    exp_model_free(&em);
    run_free(&ro, &th);
    free(av);
    return st;
}
