/* Shared experiment flags, argv split, output directory and progress bar (run.h). */
#define _POSIX_C_SOURCE 200809L
#include "run.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "regimes/io.h"
#include "regimes/sampler.h"
#include "args.h"
#include "par.h"

enum { R_SEED, R_SAMPLES, R_STEPS, R_T, R_TEND, R_BRANCH, R_OUT, R_TRAIN, R_METHOD, R_GRID, R_THREADS,
       R_QUIET, R_JSON, R_TRUNK, R_COUNT };

static const cli_opt RUN_OPTS[R_COUNT] = {
    [R_SEED] = { "--seed", 1, NULL },       [R_SAMPLES] = { "--samples", 1, NULL },
    [R_STEPS] = { "--steps", 1, NULL },     [R_T] = { "--T", 1, NULL },
    [R_TEND] = { "--t-end", 1, NULL },      [R_BRANCH] = { "--branch-times", 1, NULL },
    [R_OUT] = { "--out", 1, NULL },         [R_TRAIN] = { "--train", 1, NULL },
    [R_METHOD] = { "--method", 1, NULL },   [R_GRID] = { "--grid", 1, NULL },
    [R_THREADS] = { "--threads", 1, NULL }, [R_QUIET] = { "--quiet", 0, NULL },
    [R_JSON] = { "--json", 0, NULL },       [R_TRUNK] = { "--trunk", 1, NULL },
};

static const char *const METHOD_NAMES[] = { "em", "exp", "heun", NULL };
static const char *const GRID_NAMES[] = { "uniform", "geometric", "ddpm", NULL };
static const char *const TRUNK_NAMES[] = { "independent", "shared", NULL }; /* rg_sampler_trunk order */

static int run_index(const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (int i = 0; i < R_COUNT; i++)
        if (strlen(RUN_OPTS[i].name) == len && strncmp(RUN_OPTS[i].name, arg, len) == 0) return i;
    return -1;
}

void run_free(run_opts *ro, theory_result *th)
{
    free(ro->branch);
    ro->branch = NULL;
    theory_result_free(th);
}

int run_parse(int argc, char **argv, size_t samples, size_t steps, run_opts *ro, theory_result *th)
{
    memset(ro, 0, sizeof *ro);
    memset(th, 0, sizeof *th);
    ro->seed = 1;
    ro->samples = samples;
    ro->steps = steps;
    ro->T = ro->t_end = NAN;
    ro->method = RUN_EXP;
    ro->grid = RUN_GRID_GEOMETRIC;
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], "--help") == 0) {
            ro->help = 1;
            return CLI_OK;
        }
    /* Split: our flags (with their values) into ra, everything else into ta. */
    char **ra = malloc((size_t)(argc + 1) * sizeof *ra), **ta = malloc((size_t)(argc + 1) * sizeof *ta);
    if (!ra || !ta) {
        free(ra);
        free(ta);
        return cli_runtime("out of memory for the arguments");
    }
    int nr = 1, nt = 1;
    ra[0] = ta[0] = argv[0];
    for (int a = 1; a < argc; a++) {
        int k = run_index(argv[a]);
        char **dst = k >= 0 ? ra : ta;
        int *n = k >= 0 ? &nr : &nt;
        dst[(*n)++] = argv[a];
        /* A value that follows its flag travels with it (cli_scan judges it later). */
        int takes = k >= 0 ? RUN_OPTS[k].has_arg : 1;
        if (takes && !strchr(argv[a], '=') && a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0)
            dst[(*n)++] = argv[++a];
    }
    cli_opt v[R_COUNT];
    memcpy(v, RUN_OPTS, sizeof v);
    int st = cli_scan(nr, ra, 1, v, R_COUNT);
    size_t sz;
    if (!st && v[R_SEED].value) {
        st = cli_parse_size("--seed", v[R_SEED].value, 0, (size_t)UINT64_MAX, &sz);
        ro->seed = (uint64_t)sz;
    }
    if (!st && v[R_SAMPLES].value) {
        st = cli_parse_size("--samples", v[R_SAMPLES].value, 1, (size_t)1 << 31, &ro->samples);
        ro->given_samples = 1;
    }
    if (!st && v[R_STEPS].value) {
        st = cli_parse_size("--steps", v[R_STEPS].value, 1, 1000000, &ro->steps);
        ro->given_steps = 1;
    }
    const cli_range pos = { 0.0, INFINITY, 1, 1 };
    if (!st && v[R_T].value) st = cli_parse_double("--T", v[R_T].value, pos, &ro->T);
    if (!st && v[R_TEND].value) st = cli_parse_double("--t-end", v[R_TEND].value, pos, &ro->t_end);
    if (!st && v[R_BRANCH].value) st = cli_parse_list("--branch-times", v[R_BRANCH].value, pos, &ro->branch, &ro->n_branch);
    if (!st && v[R_METHOD].value) st = cli_parse_choice("--method", v[R_METHOD].value, METHOD_NAMES, &ro->method);
    if (!st && v[R_GRID].value) st = cli_parse_choice("--grid", v[R_GRID].value, GRID_NAMES, &ro->grid);
    if (!st && v[R_TRUNK].value) st = cli_parse_choice("--trunk", v[R_TRUNK].value, TRUNK_NAMES, &ro->trunk);
    if (!st && v[R_THREADS].value) {
        st = cli_parse_size("--threads", v[R_THREADS].value, 1, 1024, &sz);
        ro->threads = (int)sz;
    }
    ro->out = v[R_OUT].value;
    ro->train = v[R_TRAIN].value;
    if (!st && ro->train) st = cli_check_input("--train", ro->train);
    ro->quiet = v[R_QUIET].value != NULL;
    ro->json = v[R_JSON].value != NULL;
    if (!st && !isnan(ro->T) && !isnan(ro->t_end) && ro->t_end >= ro->T)
        st = cli_usage("--t-end (%g) must be below --T (%g)", ro->t_end, ro->T);
    if (!st && ro->branch && !isnan(ro->T))
        for (size_t i = 0; i < ro->n_branch && !st; i++)
            if (ro->branch[i] >= ro->T) st = cli_usage("--branch-times: %g is not below --T (%g)", ro->branch[i], ro->T);
    int help = 0;
    if (!st) st = theory_compute(nt, ta, 1, th, &help);
    free(ra);
    free(ta);
    if (st) {
        free(ro->branch);
        ro->branch = NULL;
    }
    return st;
}

int run_times(const run_opts *ro, const theory_result *th, double t_s_max, double *T, double *t_end)
{
    *T = ro->T;
    if (isnan(*T)) *T = fmax(4.0, fmin(12.0, fmax(isfinite(th->horizon) ? th->horizon : 12.0, 1.5 * t_s_max)));
    *t_end = isnan(ro->t_end) ? 1e-3 : ro->t_end;
    if (*t_end >= *T) return cli_usage("--t-end (%g) must be below T (%g)", *t_end, *T);
    return CLI_OK;
}

int run_time_grid(const run_opts *ro, double T, double t_end, const double *extra, size_t n_extra, double **grid,
             size_t *n)
{
    rg_sampler_grid_kind kind = (rg_sampler_grid_kind)ro->grid;
    *grid = malloc(rg_sampler_grid_size(kind, ro->steps, n_extra) * sizeof **grid);
    if (!*grid) return cli_runtime("out of memory for the time grid");
    int s = rg_sampler_grid(kind, T, t_end, ro->steps, extra, n_extra, *grid, n);
    if (s) {
        free(*grid);
        *grid = NULL;
        return cli_status(s);
    }
    return CLI_OK;
}

void run_print_help(FILE *f)
{
    fputs("Experiment flags (shared by sample, clone, collapse, reproduce)\n"
          "  --seed S            random seed, integer >= 0 (default 1); same seed, same files\n"
          "  --samples N         trajectories (sample, collapse) or clone pairs per branch time (clone)\n"
          "  --steps N           reverse-time steps from T to t_end (default per command)\n"
          "  --T X               start of the reverse process, forward time (default: the theory horizon,\n"
          "                      where every kappa <= 0.01, at least 4 and at most 12)\n"
          "  --t-end X           end of the reverse process, forward time (default 1e-3)\n"
          "  --branch-times LIST clone: branch times t_b, forward time, comma-separated\n"
          "                      (default: 14 points around the predicted speciation times)\n"
          "  --method M          em (Euler-Maruyama), exp (exponential integrator), heun (probability-flow\n"
          "                      ODE; deterministic after the prior draw). Default exp\n"
          "  --grid G            time grid: uniform, geometric, ddpm (default geometric)\n"
          "  --trunk K           clone: independent (a trunk per pair and branch time, the parent's; default)\n"
          "                      or shared (one trunk per pair serves every branch time: the trunk is paid\n"
          "                      once; phi(t_b) become correlated, the bootstrap resamples whole pairs)\n"
          "  --train FILE.npy    training set (P x N float32/float64) for the empirical score; default:\n"
          "                      --n-train points drawn from the data model with --seed\n"
          "  --threads N         OpenMP threads (default: OpenMP's); results do not depend on it\n"
          "  --out DIR           output directory, created if missing (default results/<command>)\n"
          "  --quiet             no progress bar      --json   one summary object on stdout\n"
          "Every `regimes theory` flag (process, data) is accepted too; see regimes theory --help.\n"
          "Under mpirun -np N the work is split across ranks; rank 0 writes identical files.\n",
          f);
}

int run_path(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len) return cli_usage("output path too long: %s/%s", dir, name);
    return CLI_OK;
}

int run_outdir(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return cli_usage("--out: bad directory name '%s'", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return cli_usage("--out: cannot create directory '%s': %s", buf, strerror(errno));
        buf[i] = c;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return cli_usage("--out: '%s' is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0) return cli_usage("--out: directory '%s' is not writable", dir);
    return CLI_OK;
}

double run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void run_progress_start(run_progress *p, const char *what, size_t total, int quiet)
{
    p->what = what;
    p->total = total ? total : 1;
    p->done = 0;
    p->on = !quiet && par_rank() == 0 && isatty(STDERR_FILENO);
    p->shown = 0;
    p->t0 = p->last = run_now();
}

static void progress_draw(run_progress *p)
{
    enum { W = 30 };
    double f = (double)p->done / (double)p->total;
    int k = (int)(f * W);
    char bar[W + 1];
    for (int i = 0; i < W; i++) bar[i] = i < k ? '#' : '.';
    bar[W] = '\0';
    fprintf(stderr, "\r%s [%s] %3.0f%% %6.1fs", p->what, bar, 100.0 * f, run_now() - p->t0);
    fflush(stderr);
    p->shown = 1;
}

void run_progress_add(run_progress *p, size_t n)
{
    p->done += n;
    if (p->done > p->total) p->done = p->total;
    if (!p->on) return;
    double now = run_now();
    if (now - p->last < 0.1 && p->done < p->total) return;
    p->last = now;
    progress_draw(p);
}

void run_progress_end(run_progress *p)
{
    if (!p->on) return;
    p->done = p->total;
    progress_draw(p);
    fputc('\n', stderr);
}

int run_write_meta(const char *dir, const char *command, int argc, char **argv, const run_opts *ro,
                   double T, double t_end, double wall)
{
    char path[4096];
    if (run_path(path, sizeof path, dir, "meta.json")) return CLI_FAIL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return cli_runtime("out of memory for meta.json");
    fputs("{\n  \"tool\": \"regimes\", \"version\": ", f);
    cli_json_str(f, RG_VERSION);
    fputs(", \"build\": ", f);
    cli_json_str(f, RG_BUILD_FLAGS);
    fprintf(f, ", \"mpi\": %s,\n  \"command\": ", par_compiled() ? "true" : "false");
    cli_json_str(f, command);
    fputs(", \"argv\": [", f);
    for (int a = 1; a < argc; a++) fputs(a > 1 ? ", " : "", f), cli_json_str(f, argv[a]);
    fprintf(f, "],\n  \"seed\": %llu, \"samples\": %zu, \"steps\": %zu, \"T\": ", (unsigned long long)ro->seed,
            ro->samples, ro->steps);
    cli_json_num(f, T);
    fputs(", \"t_end\": ", f);
    cli_json_num(f, t_end);
    fprintf(f, ", \"method\": \"%s\", \"grid\": \"%s\",\n  \"ranks\": %d, \"threads\": %d, \"wall_s\": ",
            (const char *[]){ "em", "exp", "heun" }[ro->method], (const char *[]){ "uniform", "geometric", "ddpm" }[ro->grid],
            par_size(), ro->threads ? ro->threads : omp_get_max_threads());
    cli_json_num(f, wall);
    fputs("\n}\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return cli_runtime("out of memory for meta.json");
    }
    int rs = rg_io_text_write(path, buf, len);
    int st = rs ? cli_status(rs) : CLI_OK;
    free(buf);
    return st;
}
