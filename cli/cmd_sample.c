/* `regimes sample`: reverse-time generation with the exact score (mixture, or the empirical score
 * of a training set), final samples as .npy and their class balance (MATH.md 6); or, with --model
 * FILE, with a trained score network (regimes train) under the process its sidecar names. */
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
#include "model.h"
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
          "Output (--out DIR): samples.npy (samples x N float32), classes.csv (per mode and class: count and\n"
          "fraction; the data model gives each class 1/2), meta.json. --json prints {samples, N, T, fractions\n"
          "(per mode, the fraction in class 0), out}.\n"
          "  --empirical        use the empirical score of --n-train drawn points\n"
          "  --model FILE       use the score network FILE written by regimes train --task score, under\n"
          "                     the process recorded in FILE.json (process flags are then not given);\n"
          "                     default T: the training t-max; samples in the data's coordinates (the\n"
          "                     training mean of FILE.json added back). Output: samples.npy, meta.json\n"
          "                     and, for 784 (28 x 28) or 2 x 784 (paired, x above y) dimensions,\n"
          "                     samples.png (the first 100 samples, 10 per row, gray levels from [0, 1])\n\n", f);
    run_print_help(f);
}

/* The first min(n, 100) samples as a PNG grid when N is one or two 28 x 28 images. */
static int sample_png(const char *out, const float *X, size_t n, size_t N)
{
    if (N != 784 && N != 2 * 784) return RG_OK;
    char path[4096];
    if (run_path(path, sizeof path, out, "samples.png")) return RG_EINVAL;
    int s = rg_io_png_grid(path, n < 100 ? n : 100, N / 28, 28, X, 10, 0.0f, 1.0f);
    return s ? cli_status(s) : RG_OK;
}

/* regimes sample --model FILE: av (ac, without --model) gets the sidecar's process flags. */
static int sample_model(int argc, char **argv, int ac, char **av, const char *model, double t0)
{
    rg_nn_model *m = NULL;
    int s = rg_nn_load(model, &m);
    if (s) return cli_usage("--model %s: %s", model, rg_strerror_last());
    if (rg_nn_model_arch(m)->task != RG_NN_SCORE) {
        rg_nn_model_free(m);
        return cli_usage("--model %s is a classifier, not a score network", model);
    }
    const size_t N = rg_nn_model_arch(m)->n_in;
    int pc = 0;
    char **pv = NULL;
    char **bv = NULL;
    double *mean = NULL; /* train --centre on: added back to the samples */
    int st = model_read_process_argv(model, &pc, &pv);
    if (!st) st = model_read_mean(model, N, &mean);
    if (!st && !(bv = malloc((size_t)(ac + pc + 1) * sizeof *bv))) st = cli_nomem("out of memory");
    run_opts ro;
    theory_result th;
    int parsed = 0;
    if (!st) {
        int nb = 0;
        bv[nb++] = av[0];
        for (int a = 0; a < pc; a++) bv[nb++] = pv[a];
        for (int a = 1; a < ac; a++) bv[nb++] = av[a];
        bv[nb] = NULL;
        st = run_parse(nb, bv, 1000, 200, &ro, &th);
        parsed = !st;
        if (!st && ro.help) sample_help(stdout);
        if (!st && !ro.help && rg_process_dim(th.b.p) != N)
            st = cli_usage("--model %s: the recorded process has dimension %zu, the network %zu", model,
                           rg_process_dim(th.b.p), N);
    }
    double T = 0, t_end = 0, t_max = NAN, *grid = NULL;
    size_t n_grid = 0, n = 0, lo = 0, hi = 0;
    rg_data_set *S = NULL;
    const char *out = NULL;
    if (!st && !ro.help) {
        out = ro.out ? ro.out : "results/sample";
        if (ro.threads) omp_set_num_threads(ro.threads);
        run_opts r2 = ro;
        if (isnan(r2.T) && model_read_number(model, "t_max", &t_max) == RG_OK) r2.T = t_max;
        st = run_times(&r2, &th, th.t_s, &T, &t_end);
        if (!st && par_rank() == 0) st = run_outdir(out);
        st = par_status(st);
        n = ro.samples;
        if (!st && (s = rg_data_set_new(n, N, 0, &S))) st = cli_status(s);
        if (!st) st = run_time_grid(&ro, T, t_end, NULL, 0, &grid, &n_grid);
        par_slice(n, &lo, &hi);
    }
    model_score ms = { .model = m, .process = parsed ? th.b.p : NULL };
    if (!st && !ro.help && hi > lo) {
        rg_sampler_cfg cfg = { .proc = th.b.p, .score = model_score_iface(&ms), .method = (rg_sampler_method)ro.method,
                               .grid = grid, .n_grid = n_grid, .seed = ro.seed, .traj0 = lo };
        if ((s = rg_sampler_run(&cfg, hi - lo, 0, S->X + lo * N))) st = cli_status(s);
    }
    free(grid);
    if (parsed && !ro.help) {
        st = par_status(st);
        if (!st && par_gather_float(S ? S->X : NULL, n, N)) st = cli_runtime("MPI gather failed");
    }
    if (!st && parsed && !ro.help && par_rank() == 0 && mean)
        for (size_t i = 0; i < n; i++) /* back to the data's coordinates */
            for (size_t j = 0; j < N; j++) S->X[i * N + j] = (float)((double)S->X[i * N + j] + mean[j]);
    if (!st && parsed && !ro.help && par_rank() == 0) {
        char path[4096];
        if (!(st = run_path(path, sizeof path, out, "samples.npy")) && (s = rg_data_set_write_npy(path, S)))
            st = cli_status(s);
        if (!st) st = sample_png(out, S->X, n, N);
        if (!st) st = run_write_meta(out, "sample", argc, argv, &ro, T, t_end, run_now() - t0);
        if (!st && ro.json) {
            printf("{\"command\": \"sample\", \"model\": ");
            cli_json_str(stdout, model);
            printf(", \"samples\": %zu, \"N\": %zu, \"T\": ", n, N);
            cli_json_num(stdout, T);
            printf(", \"t_end\": ");
            cli_json_num(stdout, t_end);
            printf(", \"png\": %s, \"out\": ", N == 784 || N == 2 * 784 ? "true" : "false");
            cli_json_str(stdout, out);
            printf("}\n");
        }
    }
    rg_data_set_free(S);
    if (parsed) run_free(&ro, &th);
    free(bv);
    model_argv_free(pc, pv);
    free(mean);
    rg_nn_model_free(m);
    return st;
}

int cmd_sample(int argc, char **argv)
{
    cli_set_command("regimes sample");
    double t0 = run_now();
    /* --empirical is ours alone: strip it before the shared parser. */
    int empirical = 0, ac = 0;
    const char *model = NULL;
    char **av = malloc((size_t)(argc + 1) * sizeof *av);
    if (!av) return cli_nomem("out of memory");
    for (int a = 0; a < argc; a++) {
        if (a > 0 && strcmp(argv[a], "--empirical") == 0) empirical = 1;
        else if (a > 0 && strncmp(argv[a], "--model=", 8) == 0) model = argv[a] + 8;
        else if (a > 0 && strcmp(argv[a], "--model") == 0) {
            if (a + 1 >= argc || strncmp(argv[a + 1], "--", 2) == 0) {
                free(av);
                return cli_usage("--model needs a value");
            }
            model = argv[++a];
        } else
            av[ac++] = argv[a];
    }
    if (model) {
        int st = empirical ? cli_usage("--model and --empirical exclude each other") : sample_model(argc, argv, ac, av, model, t0);
        free(av);
        return st;
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
        if (!lab) st = cli_nomem("out of memory");
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
