/* `regimes collapse`: flags -> training set, process, empirical score -> rg_exp_collapse -> entropy.csv,
 * memorised.csv, switch.csv, last_switch.csv, summary.json, meta.json (docs/math.md 5.2, 7.6, 8.2). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "regimes/error.h"
#include "regimes/experiment.h"
#include "args.h"
#include "cli.h"
#include "out.h"
#include "par.h"
#include "run.h"
#include "source.h"

#define N_FTIMES 24 /* default entropy times */
#define N_REC 40    /* record times of the trajectories */
#define MAX_TRAJ 500

static void collapse_help(FILE *f)
{
    fputs("usage: regimes collapse [process flags] [data flags] [experiment flags]\n"
          "\n"
          "Collapse with the exact empirical score of a training set: --n-train points drawn from the mixture\n"
          "with --seed (default 20000), or the rows of --data FILE.npy|mnist|fashion (centred):\n"
          "  (a) f(t) = 1/2 + mean LSE(-r^2/2) / N over --samples draws z = M_t a_mu + L_t xi at each entropy\n"
          "      time, against the REM theory of the data (docs/math.md 7.6, 8.2 a; data sets: their covariance\n"
          "      spectrum, docs/math.md 11.2); t_C is the largest t with f/alpha <= 0.05, alpha = log(P)/N, its\n"
          "      interval from the curve +- 1.96 standard errors;\n"
          "  (b) min(--samples, 500) reverse trajectories from T to t_end: the last switch of the nearest\n"
          "      training point per trajectory (8.2 c), and the memorised fraction d1/d2 < 1/3 (8.2 d) of the\n"
          "      final samples and, at 40 record times, of the denoised states E[z_0 | z_t] (Tweedie).\n"
          "\n"
          "  --entropy-times LIST  increasing forward times of the entropy curve (default: 24 geometric\n"
          "                        times from 0.4 to 3 times the predicted t_C, at most T)\n"
          "  --shard-train S       under mpirun -np R (S divides R): groups of S ranks hold the training set\n"
          "                        between them; the same files as without it (docs/scale.md); a .npy has\n"
          "                        no data-set theory under it (t_C, f theory): give --entropy-times, --T\n"
          "\n"
          "Defaults: --samples 2000, --steps 200, --method exp, --grid geometric, --out results/collapse.\n"
          "Output (--out DIR): entropy.csv, memorised.csv, switch.csv, last_switch.csv (docs/cli.md),\n"
          "summary.json (the object --json prints: t_C with interval and theory, alpha, last switch,\n"
          "memorised fraction), meta.json.\n\n",
          f);
    run_print_help(f);
}

static int entropy_times(const cli_env *e, double T, double **t, size_t *m)
{
    const cli_args *a = e->a;
    *m = a->n_entropy ? a->n_entropy : N_FTIMES;
    if (!(*t = malloc(*m * sizeof **t))) return cli_nomem("out of memory for the entropy times");
    if (a->entropy_t) {
        memcpy(*t, a->entropy_t, *m * sizeof **t);
        return RG_OK;
    }
    const double lo = isnan(e->t_c) ? 0.01 : 0.4 * e->t_c, hi = isnan(e->t_c) ? 2.0 : fmin(3.0 * e->t_c, T);
    for (size_t i = 0; i < *m; i++) (*t)[i] = lo * pow(hi / lo, (double)i / (double)(*m - 1));
    return RG_OK;
}

/* The four CSV files. */
static int collapse_csv(const cli_env *e, const char *dir, const rg_exp_collapse_result *r)
{
    static const char *const HE[] = { "t [time]", "f [nats]", "f_lo [nats]", "f_hi [nats]", "f_theory [nats]" };
    static const char *const HS[] = { "t [time]", "fraction_on_final_point [1]" };
    static const char *const HM[] = { "t [time]", "memorised_fraction [1]", "memorised_lo [1]", "memorised_hi [1]" };
    static const char *const HL[] = { "trajectory [index]", "last_switch [time]" };
    static const int T1[] = { 1, 0, 0, 0, 0 }, T2[] = { 0, 1 };
    const rg_exp_sample_result *s = &r->traj;
    const size_t m = r->n_f, J = s->n_rec, n = s->n;
    double *d = malloc((5 * m + 6 * J + 2 * n + 1) * sizeof *d), *de = d, *dm = d + 5 * m, *ds = dm + 4 * J, *dl = ds + 2 * J;
    if (!d) return cli_nomem("out of memory");
    for (size_t i = 0; i < m; i++)
        de[5 * i] = r->t_f[i], de[5 * i + 1] = r->f[i], de[5 * i + 2] = r->f_lo[i], de[5 * i + 3] = r->f_hi[i],
        de[5 * i + 4] = r->f_theory[i];
    for (size_t j = 0; j < J; j++)
        dm[4 * j] = s->rec_t[j], dm[4 * j + 1] = s->mem[j], dm[4 * j + 2] = s->mem_lo[j], dm[4 * j + 3] = s->mem_hi[j];
    int st = out_csv(e, dir, "entropy.csv", 5, HE, T1, m, de);
    if (!st) st = out_csv(e, dir, "memorised.csv", 4, HM, T1, J, dm);
    for (size_t j = 0; j < J; j++) ds[2 * j] = s->rec_t[j], ds[2 * j + 1] = s->on_final[j];
    if (!st) st = out_csv(e, dir, "switch.csv", 2, HS, T1, J, ds);
    for (size_t i = 0; i < n; i++) dl[2 * i] = (double)i, dl[2 * i + 1] = s->last_switch[i];
    if (!st) st = out_csv(e, dir, "last_switch.csv", 2, HL, T2, n, dl);
    free(d);
    return st;
}

static int collapse_json(const cli_env *e, const char *dir, const rg_exp_collapse_result *r)
{
    const rg_exp_sample_result *s = &r->traj;
    json j;
    int st = j_open(&j);
    if (st) return st;
    const double ci[2] = { r->t_c_lo, r->t_c_hi }, mci[2] = { s->mem_final_lo, s->mem_final_hi };
    j_str(&j, "tool", "regimes"), j_str(&j, "command", "collapse");
    out_process(&j, e), out_data(&j, e);
    j_time(&j, e, "t_C", r->t_c), j_nums(&j, "t_C_ci", 2, ci);
    j_time(&j, e, "t_C_theory", r->t_c_theory), j_time(&j, e, "t_C_theory_f0", e->t_c);
    j_num(&j, "alpha", r->alpha), j_int(&j, "n_train", (long long)r->P), j_int(&j, "trajectories", (long long)s->n);
    j_time(&j, e, "last_switch_mean", s->switch_mean), j_num(&j, "last_switch_std", s->switch_sd);
    j_num(&j, "memorised_fraction", s->mem_final), j_nums(&j, "memorised_fraction_ci", 2, mci);
    j_times(&j, e, "entropy_times", r->n_f, r->t_f), j_str(&j, "out", dir);
    st = j_close(&j);
    if (!st) st = out_summary(e->a, dir, &j);
    j_free(&j);
    return st;
}

/* For regimes reproduce: the table rows and the times (arrays owned by the caller). */
static int fill_summary(const cli_env *e, const rg_exp_collapse_result *r, collapse_summary *cs)
{
    const rg_exp_sample_result *s = &r->traj;
    const size_t m = r->n_f, J = s->n_rec;
    *cs = (collapse_summary){ .m = m, .n_rec = J, .P = r->P, .N = r->N, .trajectories = s->n, .alpha = r->alpha,
                              .tc = r->t_c, .tc_lo = r->t_c_lo, .tc_hi = r->t_c_hi, .tc_theory = r->t_c_theory,
                              .tc_theory_f0 = e->t_c,
                              .sw_mean = s->switch_mean, .sw_sd = s->switch_sd, .mf = s->mem_final,
                              .mf_lo = s->mem_final_lo, .mf_hi = s->mem_final_hi };
    cs->res = malloc(5 * m * sizeof *cs->res), cs->mem = malloc(4 * J * sizeof *cs->mem), cs->sw = malloc(2 * J * sizeof *cs->sw);
    if (!cs->res || !cs->mem || !cs->sw) return cli_nomem("out of memory");
    for (size_t i = 0; i < m; i++)
        cs->res[5 * i] = r->t_f[i], cs->res[5 * i + 1] = r->f[i], cs->res[5 * i + 2] = r->f_lo[i],
        cs->res[5 * i + 3] = r->f_hi[i], cs->res[5 * i + 4] = r->f_theory[i];
    for (size_t j = 0; j < J; j++)
        cs->mem[4 * j] = s->rec_t[j], cs->mem[4 * j + 1] = s->mem[j], cs->mem[4 * j + 2] = s->mem_lo[j],
        cs->mem[4 * j + 3] = s->mem_hi[j], cs->sw[2 * j] = s->rec_t[j], cs->sw[2 * j + 1] = s->on_final[j];
    return RG_OK;
}

void collapse_summary_free(collapse_summary *s)
{
    if (!s) return;
    free(s->res), free(s->mem), free(s->sw);
    s->res = s->mem = s->sw = NULL;
}

typedef struct {
    const cli_env *e;
    const rg_exp_collapse_result *r;
    const double *ranks; /* --shard-train: every rank's peak RSS [MB], then its shard allgather [s]; else NULL */
} collapse_meta;

/* meta.json's own keys: the training set's size, entropy and record times, trajectories, shards (with
 * --shard-train every rank's peak RSS and seconds in the shard allgather, docs/scale.md). */
static void collapse_meta_keys(json *j, const void *ctx)
{
    const collapse_meta *c = ctx;
    const size_t R = (size_t)par_size();
    j_int(j, "n_train", (long long)c->r->P), j_times(j, c->e, "entropy_times", c->r->n_f, c->r->t_f);
    j_int(j, "trajectories", (long long)c->r->traj.n);
    j_times(j, c->e, "record_times", c->r->traj.n_rec, c->r->traj.rec_t);
    j_int(j, "shards", c->e->a->shard_train ? c->e->a->shard_train : 1);
    if (c->ranks) j_nums(j, "peak_rss_mb", R, c->ranks), j_nums(j, "shard_allgather_s", R, c->ranks + R);
}

/* --shard-train: this rank's peak resident memory and seconds in the shard allgather on stderr, and every
 * rank's on rank 0 (*ranks, 2 par_size() values; NULL elsewhere) for meta.json. Every rank calls it. */
static int rank_figures(double **ranks)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double mine[2] = { (double)ru.ru_maxrss / 1024.0, par_shard_seconds() };
    const size_t R = (size_t)par_size();
    fprintf(stderr, "regimes collapse: rank %d: peak RSS %.1f MB, %.3f s in the shard allgather\n", par_rank(),
            mine[0], mine[1]);
    *ranks = par_rank() == 0 ? malloc(2 * R * sizeof **ranks) : NULL;
    int st = par_status(par_rank() == 0 && !*ranks ? cli_nomem("out of memory") : RG_OK);
    if (!st && (par_gather_ranks_double(mine, 1, *ranks) || par_gather_ranks_double(mine + 1, 1, *ranks ? *ranks + R : NULL)))
        st = cli_status(RG_EIO);
    return st;
}
static const char *const FILES[] = { "entropy.csv", "memorised.csv", "switch.csv", "last_switch.csv", "summary.json",
                                     "meta.json" };
#define N_FILES (sizeof FILES / sizeof *FILES)

static int collapse_run(const cli_env *e, int argc, char **argv, void *ctx, double t0)
{
    collapse_summary *sum = ctx;
    const cli_args *a = e->a;
    const char *dir = a->out ? a->out : "results/collapse";
    run_setup rs = { 0 };
    double *tf = NULL, rec[N_REC];
    size_t m = 0;
    int st = run_times(e, NAN, &rs.T, &rs.t_end); /* collapse needs no speciation bound on T */
    for (size_t j = 0; j < N_REC; j++) /* decreasing, geometric from 0.9 T to 2 t_end */
        rec[j] = 0.9 * rs.T * pow(2.0 * rs.t_end / (0.9 * rs.T), (double)j / (N_REC - 1));
    if (!st && !(rs.t_end > 0)) st = cli_usage("collapse records down to 2 t_end: --t-end must be > 0");
    if (!st) st = entropy_times(e, rs.T, &tf, &m);
    if (!st) st = run_outdir_files(dir, FILES, N_FILES);
    if (!st) st = run_prepare(e, "collapse", rec, N_REC, &rs);
    const size_t nt = a->samples < MAX_TRAJ ? a->samples : MAX_TRAJ;
    const rg_exp_collapse_cfg c = { .traj = { .run = rs.run, .n = nt, .train = e->X ? e->X->X : NULL,
                                              .P = e->X ? e->P_all : 0, .shard = par_shard_comm(),
                                              .row_lo = e->row_lo, .rows = e->X ? e->X->P : 0, .rec_t = rec,
                                              .n_rec = N_REC },
                                    .t_f = tf, .n_f = m, .n_samples = a->samples, .theory = env_collapse_f,
                                    .theory_ctx = (void *)(uintptr_t)e };
    rg_exp_collapse_result r = { 0 };
    const int s = st ? RG_OK : rg_exp_collapse(&c, &r);
    if (s) st = cli_status(s);
    run_progress_end(&rs.progress);
    const out_grid g = { rs.T, rs.t_end, rs.grid, rs.n_grid, rs.kappa_T };
    double *ranks = NULL;
    if (!st && a->shard_train) st = rank_figures(&ranks); /* docs/scale.md; st is the same on every rank here */
    if (!st && par_rank() == 0) st = collapse_csv(e, dir, &r);
    if (!st && par_rank() == 0) st = collapse_json(e, dir, &r);
    const collapse_meta cm = { e, &r, ranks };
    if (!st && par_rank() == 0) st = out_meta(dir, "collapse", argc, argv, e, &g, run_now() - t0, collapse_meta_keys, &cm);
    if (!st && par_rank() == 0) st = run_commit(dir, FILES, N_FILES);
    if (!st && par_rank() == 0 && sum) st = fill_summary(e, &r, sum);
    free(ranks);
    rg_exp_collapse_result_free(&r);
    run_release(&rs);
    free(tf);
    return st;
}

int collapse_main(int argc, char **argv, collapse_summary *sum)
{
    return env_command(argc, argv, CMD_COLLAPSE, 2000, 200, ENV_SCORE, collapse_help, collapse_run, sum);
}

int cmd_collapse(int argc, char **argv)
{
    cli_set_command("regimes collapse");
    return collapse_main(argc, argv, NULL);
}
