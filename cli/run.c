/* Times, grid, output directory and progress of the experiment commands (run.h). */
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

#include "regimes/noise.h"
#include "args.h"
#include "par.h"

int run_times(const cli_env *e, double t_s_max, double *T, double *t_end)
{
    const cli_args *a = e->a;
    *T = a->T;
    if (isnan(*T)) *T = fmax(4.0, fmin(12.0, fmax(isfinite(e->horizon) ? e->horizon : 12.0, 1.5 * t_s_max)));
    if (isnan(a->T) && e->noise && a->grid == RG_GRID_DDPM) /* the schedule's last time bounds its grid */
        *T = fmin(*T, rg_noise_time(e->noise, rg_noise_steps(e->noise) - 1));
    *t_end = isnan(a->t_end) ? 1e-3 : a->t_end;
    if (*t_end >= *T) return cli_usage("--t-end (%g) must be below T (%g)", *t_end, *T);
    return RG_OK;
}

static int time_grid(const cli_env *e, run_setup *r, const double *extra, size_t n_extra)
{
    const cli_args *a = e->a;
    const int sched = a->grid == RG_GRID_DDPM && e->noise;
    const size_t cap = sched ? rg_sampler_grid_noise_size(e->noise, n_extra) : rg_sampler_grid_size(a->grid, a->steps, n_extra);
    if (!(r->grid = malloc(cap * sizeof *r->grid))) return cli_nomem("out of memory for the time grid");
    int s = sched ? rg_sampler_grid_noise(e->noise, r->T, r->t_end, extra, n_extra, r->grid, &r->n_grid)
                  : rg_sampler_grid(a->grid, r->T, r->t_end, a->steps, extra, n_extra, r->grid, &r->n_grid);
    return s ? cli_status(s) : RG_OK;
}

int run_prepare(const cli_env *e, const char *what, const double *extra, size_t n_extra, run_setup *r)
{
    const cli_args *a = e->a;
    if (a->threads) omp_set_num_threads(a->threads);
    int st = env_signal_at(e, r->T, &r->kappa_T);
    if (!st && r->kappa_T > 0.01 * (1 + 1e-6) && par_rank() == 0) /* at the horizon itself kappa = 0.01 */
        fprintf(stderr, "%s: warning: T = %.4g is below the horizon %.4g: the prior N(0, Sigma_inf) misses class signal "
                        "kappa(T) = %.3g > 0.01 (raise --T)\n", cli_command(), r->T, e->horizon, r->kappa_T);
    if (!st) st = time_grid(e, r, extra, n_extra);
    run_progress_start(&r->progress, what, a->quiet);
    r->run = (rg_exp_run){ .proc = e->b.p, .score = e->score, .method = a->method, .grid = r->grid,
                           .n_grid = r->n_grid, .seed = a->seed, .comm = par_comm(),
                           .progress = run_progress_cb, .progress_ctx = &r->progress };
    return st;
}

void run_release(run_setup *r)
{
    run_progress_end(&r->progress);
    free(r->grid);
    r->grid = NULL;
}

void run_print_help(FILE *f)
{
    fputs("Experiment flags\n"
          "  --seed S            random seed, integer >= 0 (default 1); same seed, same files\n"
          "  --samples N         trajectories (sample, collapse) or clone pairs per branch time (clone)\n"
          "  --steps N           reverse-time steps from T to t_end (uniform, geometric grids)\n"
          "  --T X               start of the reverse process, forward time (default: the predicted horizon,\n"
          "                      where the class signal kappa <= 0.01, at least 4 and at most 12, and at\n"
          "                      least 1.5 t_S; with --noise and the ddpm grid at most the schedule's last time)\n"
          "  --t-end X           end of the reverse process, forward time >= 0 (default 1e-3)\n"
          "  --method M          em (Euler-Maruyama), exp (exponential integrator), heun (probability-flow\n"
          "                      ODE; deterministic after the prior draw; not for clone). Default exp\n"
          "  --grid G            time grid: uniform, geometric, ddpm (the --noise schedule's steps; default\n"
          "                      geometric, ddpm when --noise is given)\n"
          "  --noise S           noise schedule for step indices: ddpm-linear[:B0:B1:K] (default 1e-4, 2e-2,\n"
          "                      1000), ddpm-cosine[:K], or FILE (one abar_k per line). Every reported time\n"
          "                      also gets its step: the first k with t_k >= t, t_k = -1/2 log abar_k\n"
          "  --threads N         OpenMP threads (default: OpenMP's); results do not depend on it\n"
          "  --out DIR           output directory, created if missing (default results/<command>)\n"
          "  --quiet             no progress bar      --json   the summary object on stdout too\n"
          "Data flags: --data gmm2|gmm4|mnist|fashion|FILE.npy, --labels FILE.npy, --digits LIST, --n-train P,\n"
          "--mnist-dir DIR, --rho R, and every process and mixture flag of regimes theory (see its --help).\n"
          "Under mpirun -np N the work is split across ranks; rank 0 writes identical files.\n",
          f);
}

int run_path(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len) return cli_usage("output path too long: %s/%s", dir, name);
    return RG_OK;
}

static int make_dir(const char *dir)
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
    return RG_OK;
}

int run_outdir(const char *dir) { return par_status(par_rank() == 0 ? make_dir(dir) : RG_OK); }

double run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void run_progress_start(run_progress *p, const char *what, int quiet)
{
    p->what = what;
    p->fraction = 0;
    p->on = !quiet && par_rank() == 0 && isatty(STDERR_FILENO);
    p->shown = 0;
    p->t0 = p->last = run_now();
}

static void progress_draw(run_progress *p)
{
    enum { W = 30 };
    const int k = (int)(p->fraction * W);
    char bar[W + 1];
    for (int i = 0; i < W; i++) bar[i] = i < k ? '#' : '.';
    bar[W] = '\0';
    fprintf(stderr, "\r%s [%s] %3.0f%% %6.1fs", p->what, bar, 100.0 * p->fraction, run_now() - p->t0);
    fflush(stderr);
    p->shown = 1;
}

int run_progress_cb(void *ctx, double fraction)
{
    run_progress *p = ctx;
    p->fraction = fraction > 1 ? 1 : fraction;
    const double now = run_now();
    if (p->on && (now - p->last >= 0.1 || fraction >= 1)) p->last = now, progress_draw(p);
    return 0;
}

void run_progress_end(run_progress *p)
{
    if (!p->on || !p->shown) return;
    p->fraction = 1;
    progress_draw(p);
    fputc('\n', stderr);
    p->shown = 0;
}
