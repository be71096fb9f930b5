/* `regimes collapse`: collapse onto training points with the exact empirical score (MATH.md 5.2,
 * 7.6, 8.2): the Monte-Carlo excess entropy f(t) against the REM closed form, its measured t_C, the
 * per-trajectory last switch of the nearest training point and the memorised fraction. */
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

#define TC_LEVEL 0.05   /* MATH.md 8.2 (a): the largest t with f / alpha <= 0.05 */
#define N_FTIMES 24     /* times of the entropy curve */
#define N_REC 40        /* record times of the trajectories */
#define MEM_RATIO (1.0 / 3.0)
#define BATCH 256
#define CLONE_BOOT_MEM 20000 /* MATH.md 8.1 resamples, for the memorised fraction */

static void collapse_help(FILE *f)
{
    fputs("usage: regimes collapse [process and data flags of regimes theory] [experiment flags]\n"
          "\n"
          "Collapse experiment with the exact empirical score of P = --n-train training points drawn from\n"
          "the data model with --seed (or --train FILE.npy):\n"
          "  (a) f(t) = 1/2 + mean LSE(-r^2/2) / N over --samples draws z = M_t a_mu + L_t xi at 24 times,\n"
          "      against the closed form (MATH.md 7.6, 8.2 a); t_C is the largest t with f/alpha <= 0.05,\n"
          "      alpha = log(P)/N, its interval from the curve +- 1.96 standard errors;\n"
          "  (b) min(--samples, 500) reverse trajectories from T to t_end: the last switch of the nearest\n"
          "      training point per trajectory (8.2 c), and the memorised fraction d1/d2 < 1/3 (8.2 d) of\n"
          "      the final samples and, at each of 40 record times t, of the denoised states E[z_0 | z_t]\n"
          "      (Tweedie: the softmax average of the training points the score weighs).\n"
          "\n"
          "Defaults: --samples 2000, --steps 200, --method exp, --grid geometric, --n-train 20000,\n"
          "--out results/collapse.\n"
          "Output (--out DIR): entropy.csv (t, f, its interval, theory), switch.csv (t, fraction of\n"
          "trajectories already on their final training point), memorised.csv (t, memorised\n"
          "fraction of the denoised states, its interval), last_switch.csv (per trajectory),\n"
          "meta.json. --json prints {t_C, t_C_ci, t_C_theory, alpha, last_switch_mean, last_switch_std,\n"
          "memorised_fraction, memorised_fraction_ci}.\n\n", f);
    run_print_help(f);
}


/* Entropy curve on rank 0's grid; every rank computes its share of times. */
static int entropy_curve(const theory_result *th, rg_score_emp *e, const rg_data_set *X, uint64_t seed,
                         size_t ns, size_t m, const double *t, double *f, double *se)
{
    const rg_process *p = th->b.p;
    size_t N = X->N, P = X->P;
    double *z0 = malloc(N * sizeof *z0), *xi = malloc(N * sizeof *xi), *zt = malloc(N * sizeof *zt);
    float *x = malloc(BATCH * N * sizeof *x), *s = malloc(BATCH * N * sizeof *s);
    double *lse = malloc(ns * sizeof *lse);
    int st = (z0 && xi && zt && x && s && lse) ? RG_OK : RG_ENOMEM;
    size_t lo, hi;
    par_slice(m, &lo, &hi);
    rg_rng r = { seed, RG_STREAM_MEASURE };
    for (size_t i = lo; i < hi && st == RG_OK; i++) {
        for (size_t b0 = 0; b0 < ns && st == RG_OK; b0 += BATCH) {
            size_t B = ns - b0 < BATCH ? ns - b0 : BATCH;
            for (size_t b = 0; b < B && st == RG_OK; b++) {
                uint64_t traj = (uint64_t)i * ns + b0 + b; /* (time, sample) addresses its numbers */
                size_t mu = (size_t)(rg_rng_uniform(r, traj, 0, 0) * (double)P);
                if (mu >= P) mu = P - 1;
                for (size_t k = 0; k < N; k++) z0[k] = X->X[mu * N + k];
                rg_rng_normals_d(r, traj, 1, xi, N);
                st = rg_process_sample(p, t[i], z0, xi, zt);
                for (size_t k = 0; k < N; k++) x[b * N + k] = (float)zt[k];
            }
            rg_score_extra ex = { .lse = lse + b0 };
            if (st == RG_OK) st = rg_score_emp_eval(e, t[i], B, x, NULL, &ex); /* lse only: GEMM 1 */
        }
        if (st == RG_OK) st = rg_measure_f_entropy(ns, lse, N, &f[i], &se[i]);
    }
    free(z0), free(xi), free(zt), free(x), free(s), free(lse);
    return st;
}

typedef struct {
    size_t n_rec, n_rows;
    const double *rec;
    int *nearest;  /* (n_rows, n_rec + 1) */
    float *states; /* (n_rec, n_rows, N): the states at the record times, for the denoiser */
    size_t N;
} rec_ctx;

/* Observer: the nearest training point (kernel metric, MATH.md 5.2 item 8) and the state at each
 * record time. */
static int observe(void *ctx, const rg_sampler_record *r)
{
    rec_ctx *c = ctx;
    size_t j = 0;
    while (j < c->n_rec && c->rec[j] != r->t) j++;
    if (j == c->n_rec || !r->nearest) return RG_OK; /* t_end: the final states are measured directly */
    for (size_t b = 0; b < r->n_rows; b++) c->nearest[b * (c->n_rec + 1) + j] = r->nearest[b];
    memcpy(c->states + j * c->n_rows * c->N, r->x, r->n_rows * c->N * sizeof *r->x);
    return RG_OK;
}

/* Memorised flags (MATH.md 8.2 d) of the denoised states x0 = E[z_0 | z_t] (rg_score_denoise) at each
 * record time: mem (n_rows, n_rec) = 1 where d1/d2 < 1/3 against the training set. */
static int memorised_curve(const rg_process *p, rg_score_emp *e, const rg_data_set *X, const double *xn,
                           const rec_ctx *rc, int *mem, float *work)
{
    const size_t N = X->N, n = rc->n_rows;
    float *s = malloc(BATCH * N * sizeof *s), *x0 = malloc(BATCH * N * sizeof *x0);
    float *d1 = malloc(BATCH * sizeof *d1), *d2 = malloc(BATCH * sizeof *d2);
    int *idx = malloc(BATCH * sizeof *idx);
    int st = (s && x0 && d1 && d2 && idx) ? RG_OK : RG_ENOMEM;
    for (size_t j = 0; j < rc->n_rec && st == RG_OK; j++)
        for (size_t b0 = 0; b0 < n && st == RG_OK; b0 += BATCH) {
            const size_t B = n - b0 < BATCH ? n - b0 : BATCH;
            const float *x = rc->states + (j * n + b0) * N;
            st = rg_score_emp_eval(e, rc->rec[j], B, x, s, NULL);
            if (st == RG_OK) st = rg_score_denoise(p, rc->rec[j], B, x, s, x0);
            if (st == RG_OK) st = rg_measure_nearest2(B, x0, X->P, X->X, xn, N, idx, d1, d2, work);
            for (size_t b = 0; b < B && st == RG_OK; b++)
                mem[(b0 + b) * rc->n_rec + j] = (double)d1[b] < MEM_RATIO * (double)d2[b];
        }
    free(s), free(x0), free(d1), free(d2), free(idx);
    return st;
}

void collapse_summary_free(collapse_summary *s)
{
    if (!s) return;
    free(s->res), free(s->mem), free(s->sw);
    s->res = s->mem = s->sw = NULL;
}

/* Fraction of flags set per column (n rows of n_col), with its bootstrap interval: out (n_col, 4)
 * rows (t, fraction, lo, hi). */
static int fraction_curve(size_t n, size_t n_col, const int *flags, const double *t, uint64_t seed, double *out)
{
    unsigned char *col = malloc(n ? n : 1);
    if (!col) return RG_ENOMEM;
    int st = RG_OK;
    for (size_t j = 0; j < n_col && st == RG_OK; j++) {
        for (size_t i = 0; i < n; i++) col[i] = (unsigned char)(flags[i * n_col + j] != 0);
        out[4 * j] = t[j];
        st = rg_measure_phi(n, col, CLONE_BOOT_MEM, (rg_rng){ seed, RG_STREAM_BOOTSTRAP }, 1, &out[4 * j + 1],
                            &out[4 * j + 2], &out[4 * j + 3]);
    }
    free(col);
    return st;
}

int collapse_main(int argc, char **argv, collapse_summary *sum)
{
    double t0 = run_now();
    run_opts ro;
    theory_result th;
    int st = run_parse(argc, argv, 2000, 200, &ro, &th);
    if (st) return st;
    if (ro.help) {
        collapse_help(stdout);
        return RG_OK;
    }
    if (ro.threads) omp_set_num_threads(ro.threads);
    const char *out = ro.out ? ro.out : "results/collapse";
    exp_model em = { 0 };
    rg_data_set *X = NULL;
    rg_score_emp *e = NULL;
    double T, t_end;
    st = run_times(&ro, &th, NAN, &T, &t_end); /* collapse needs no speciation bound on T */
    if (!st && par_rank() == 0) st = run_outdir(out);
    st = par_status(st);
    if (!st) st = exp_model_new(&th, &em);
    if (!st) {
        int s;
        if (ro.train) s = rg_data_set_read_npy(ro.train, em.N, &X);
        else {
            s = th.n_train > 1e8 ? RG_OK
                                 : rg_data_set_draw(em.g, (rg_rng){ ro.seed, RG_STREAM_DATA }, (size_t)th.n_train, &X);
        }
        if (!s && !X) st = cli_usage("--n-train %g is too large for a training set in memory", th.n_train);
        else if (!s) s = rg_score_emp_new(th.b.p, X->X, X->P, X->N, BATCH, &e);
        if (s) st = cli_status(s);
    }
    const size_t P = X ? X->P : 0, N = em.N;
    const double alpha = log((double)(P ? P : 1)) / (double)N;
    /* (a) entropy curve on a geometric grid around the predicted t_C. */
    double tf[N_FTIMES], f[N_FTIMES], se[N_FTIMES];
    double tc_th = NAN;
    int found = 0;
    if (!st) {
        int s = rg_theory_collapse(th.b.p, &th.b.data, (double)P, &tc_th, &found);
        if (s) st = cli_status(s);
        if (!found) tc_th = NAN;
        double a = isnan(tc_th) ? 0.01 : 0.4 * tc_th, b = isnan(tc_th) ? 2.0 : fmin(3.0 * tc_th, T);
        for (size_t i = 0; i < N_FTIMES; i++) tf[i] = a * pow(b / a, (double)i / (N_FTIMES - 1));
    }
    run_progress pr;
    run_progress_start(&pr, "collapse", 3, ro.quiet);
    if (!st) {
        int s = entropy_curve(&th, e, X, ro.seed, ro.samples, N_FTIMES, tf, f, se);
        if (s) st = cli_status(s);
    }
    st = par_status(st);
    if (!st && (par_allgather_double(f, N_FTIMES, 1) || par_allgather_double(se, N_FTIMES, 1)))
        st = cli_runtime("MPI gather failed");
    run_progress_add(&pr, 1);
    /* (b) trajectories: nearest training point and state at the record times, final samples. */
    const size_t nt = ro.samples < 500 ? ro.samples : 500;
    size_t lo, hi;
    par_slice(nt, &lo, &hi);
    const size_t ns = hi - lo, n1 = ns ? ns : 1;
    double rec[N_REC];
    for (size_t j = 0; j < N_REC; j++) /* decreasing, geometric from 0.9 T to 2 t_end */
        rec[j] = 0.9 * T * pow(2.0 * t_end / (0.9 * T), (double)j / (N_REC - 1));
    int *nearest = calloc(nt * (N_REC + 1), sizeof *nearest), *memf = calloc(nt * N_REC, sizeof *memf);
    float *zf = calloc((nt ? nt : 1) * N, sizeof *zf), *states = malloc(N_REC * n1 * N * sizeof *states);
    int *loc = calloc(n1 * (N_REC + 1), sizeof *loc), *fin = malloc(n1 * sizeof *fin);
    float *d1 = malloc(n1 * sizeof *d1), *d2 = malloc(n1 * sizeof *d2);
    float *work = malloc((ns > BATCH ? ns : BATCH) * (P ? P : 1) * sizeof *work);
    double *dd = calloc(2 * (nt ? nt : 1), sizeof *dd), *xn = malloc((P ? P : 1) * sizeof *xn);
    rec_ctx rc = { N_REC, ns, rec, loc, states, N };
    double *grid = NULL;
    size_t n_grid = 0;
    if (!st && (!nearest || !memf || !zf || !states || !loc || !fin || !d1 || !d2 || !work || !dd || !xn))
        st = cli_nomem("out of memory for %zu trajectories against %zu training points of dimension %zu", ns, P, N);
    if (!st) st = run_time_grid(&ro, T, t_end, rec, N_REC, &grid, &n_grid);
    if (!st && ns) {
        rg_sampler_cfg cfg = { .proc = th.b.p, .score = rg_score_emp_iface(e), .method = (rg_sampler_method)ro.method,
                               .grid = grid, .n_grid = n_grid, .seed = ro.seed, .traj0 = lo, .rec_t = rec,
                               .n_rec = N_REC, .observer = observe, .observer_ctx = &rc };
        int s = rg_sampler_run(&cfg, ns, 0, zf + lo * N);
        if (s) st = cli_status(s);
    }
    free(grid);
    run_progress_add(&pr, 1);
    /* Final nearest training point (Euclidean, MATH.md 8.2 d) as the last column; the memorised
     * flags of the denoised states at the record times. */
    if (!st && ns) {
        int s = rg_measure_norms(P, X->X, N, xn);
        if (!s) s = rg_measure_nearest2(ns, zf + lo * N, P, X->X, xn, N, fin, d1, d2, work);
        if (!s) s = memorised_curve(th.b.p, e, X, xn, &rc, memf + lo * N_REC, work);
        if (s) st = cli_status(s);
    }
    for (size_t i = 0; i < ns && !st; i++) {
        for (size_t j = 0; j < N_REC; j++) nearest[(lo + i) * (N_REC + 1) + j] = loc[i * (N_REC + 1) + j];
        nearest[(lo + i) * (N_REC + 1) + N_REC] = fin[i];
        dd[2 * (lo + i)] = (double)d1[i];
        dd[2 * (lo + i) + 1] = (double)d2[i];
    }
    free(states), free(loc), free(fin), free(d1), free(d2), free(work), free(xn);
    st = par_status(st);
    if (!st && (par_gather_int(nearest, nt, N_REC + 1) || par_gather_double(dd, nt, 2) || par_gather_int(memf, nt, N_REC)))
        st = cli_runtime("MPI gather failed");
    run_progress_add(&pr, 1);
    run_progress_end(&pr);
    collapse_summary cs = { .m = N_FTIMES, .n_rec = N_REC, .P = P, .N = N, .trajectories = nt, .alpha = alpha,
                            .tc_theory_f0 = tc_th };
    if (!st && par_rank() == 0) {
        cs.res = malloc(N_FTIMES * 5 * sizeof *cs.res);
        cs.mem = malloc(N_REC * 4 * sizeof *cs.mem);
        cs.sw = malloc(N_REC * 2 * sizeof *cs.sw);
        double *tsw = malloc((nt ? nt : 1) * sizeof *tsw);
        unsigned char *mem = malloc(nt ? nt : 1);
        if (!cs.res || !cs.mem || !cs.sw || !tsw || !mem) st = cli_nomem("out of memory");
        double fl[N_FTIMES], fh[N_FTIMES];
        for (size_t i = 0; i < N_FTIMES && !st; i++) {
            fl[i] = f[i] - 1.96 * se[i];
            fh[i] = f[i] + 1.96 * se[i];
            double *row = cs.res + 5 * i;
            row[0] = tf[i], row[1] = f[i], row[2] = fl[i], row[3] = fh[i];
            int s = rg_theory_collapse_f(th.b.p, &th.b.data, (double)P, tf[i], &row[4]);
            if (s) st = cli_status(s);
        }
        /* The theory at the same level (MATH.md 8.2 a: like with like), on a fine grid of the same span. */
        double tg[200], fg[200];
        for (size_t i = 0; i < 200 && !st; i++) {
            tg[i] = tf[0] * pow(tf[N_FTIMES - 1] / tf[0], (double)i / 199.0);
            int s2 = rg_theory_collapse_f(th.b.p, &th.b.data, (double)P, tg[i], &fg[i]);
            if (s2) st = cli_status(s2);
        }
        cs.tc = cs.tc_lo = cs.tc_hi = cs.tc_theory = NAN;
        cs.sw_mean = cs.sw_sd = cs.mf = cs.mf_lo = cs.mf_hi = NAN;
        int s = st ? RG_OK : rg_measure_tc(200, tg, fg, alpha, TC_LEVEL, &cs.tc_theory);
        if (!s) s = rg_measure_tc(N_FTIMES, tf, f, alpha, TC_LEVEL, &cs.tc);
        if (!s) s = rg_measure_tc(N_FTIMES, tf, fh, alpha, TC_LEVEL, &cs.tc_lo); /* higher f: crosses earlier */
        if (!s) s = rg_measure_tc(N_FTIMES, tf, fl, alpha, TC_LEVEL, &cs.tc_hi);
        if (s && !st) st = cli_status(s);
        /* Last switch per trajectory over the record times plus t_end. */
        double tr[N_REC + 1];
        memcpy(tr, rec, sizeof rec);
        tr[N_REC] = t_end;
        if (!st && nt) {
            s = rg_measure_last_switch(N_REC + 1, tr, nt, nearest, tsw);
            double acc = 0, acc2 = 0;
            for (size_t i = 0; i < nt; i++) acc += tsw[i];
            cs.sw_mean = acc / (double)nt;
            for (size_t i = 0; i < nt; i++) acc2 += (tsw[i] - cs.sw_mean) * (tsw[i] - cs.sw_mean);
            cs.sw_sd = nt > 1 ? sqrt(acc2 / (double)(nt - 1)) : (double)NAN;
            for (size_t j = 0; j < N_REC; j++) { /* fraction already on its final training point at rec[j] */
                size_t c = 0;
                for (size_t i = 0; i < nt; i++) c += tsw[i] >= rec[j];
                cs.sw[2 * j] = rec[j];
                cs.sw[2 * j + 1] = (double)c / (double)nt;
            }
            for (size_t i = 0; i < nt; i++) mem[i] = dd[2 * i] < MEM_RATIO * dd[2 * i + 1];
            if (!s) s = rg_measure_phi(nt, mem, CLONE_BOOT_MEM, (rg_rng){ ro.seed, RG_STREAM_BOOTSTRAP }, 1, &cs.mf,
                                       &cs.mf_lo, &cs.mf_hi);
            if (!s) s = fraction_curve(nt, N_REC, memf, rec, ro.seed, cs.mem);
            if (s) st = cli_status(s);
        }
        char path[4096];
        static const char *const HE[] = { "t [time]", "f [nats]", "f_lo [nats]", "f_hi [nats]", "f_theory [nats]" };
        static const char *const HS[] = { "t [time]", "fraction_on_final_point [1]" };
        static const char *const HM[] = { "t [time]", "memorised_fraction [1]", "memorised_lo [1]", "memorised_hi [1]" };
        static const char *const HL[] = { "trajectory [index]", "last_switch [time]" };
        if (!st && !(st = run_path(path, sizeof path, out, "entropy.csv")) && (s = rg_io_csv_write(path, 5, HE, N_FTIMES, cs.res)))
            st = cli_status(s);
        if (!st && !(st = run_path(path, sizeof path, out, "switch.csv")) && (s = rg_io_csv_write(path, 2, HS, N_REC, cs.sw)))
            st = cli_status(s);
        if (!st && !(st = run_path(path, sizeof path, out, "memorised.csv")) && (s = rg_io_csv_write(path, 4, HM, N_REC, cs.mem)))
            st = cli_status(s);
        double *ls = st ? NULL : malloc(2 * (nt ? nt : 1) * sizeof *ls);
        if (!st && !ls) st = cli_nomem("out of memory");
        for (size_t i = 0; i < nt && !st; i++) ls[2 * i] = (double)i, ls[2 * i + 1] = tsw[i];
        if (!st && !(st = run_path(path, sizeof path, out, "last_switch.csv")) && (s = rg_io_csv_write(path, 2, HL, nt, ls)))
            st = cli_status(s);
        free(ls);
        if (!st) st = run_write_meta(out, "collapse", argc, argv, &ro, T, t_end, run_now() - t0);
        if (!st && ro.json) {
            FILE *o = stdout;
            fputs("{\"command\": \"collapse\", \"t_C\": ", o), cli_json_num(o, cs.tc);
            fputs(", \"t_C_ci\": [", o), cli_json_num(o, cs.tc_lo), fputs(", ", o), cli_json_num(o, cs.tc_hi);
            fputs("], \"t_C_theory\": ", o), cli_json_num(o, cs.tc_theory);
            fputs(", \"t_C_theory_f0\": ", o), cli_json_num(o, tc_th);
            fputs(", \"alpha\": ", o), cli_json_num(o, alpha);
            fprintf(o, ", \"n_train\": %zu, \"trajectories\": %zu", P, nt);
            fputs(", \"last_switch_mean\": ", o), cli_json_num(o, cs.sw_mean);
            fputs(", \"last_switch_std\": ", o), cli_json_num(o, cs.sw_sd);
            fputs(", \"memorised_fraction\": ", o), cli_json_num(o, cs.mf);
            fputs(", \"memorised_fraction_ci\": [", o), cli_json_num(o, cs.mf_lo), fputs(", ", o), cli_json_num(o, cs.mf_hi);
            fputs("], \"out\": ", o), cli_json_str(o, out), fputs("}\n", o);
        }
        free(tsw), free(mem);
    }
    if (!st && sum) *sum = cs;
    else collapse_summary_free(&cs);
    free(nearest), free(memf), free(zf), free(dd);
    rg_score_emp_free(e);
    rg_data_set_free(X);
    exp_model_free(&em);
    run_free(&ro, &th);
    return st;
}

int cmd_collapse(int argc, char **argv)
{
    cli_set_command("regimes collapse");
    return collapse_main(argc, argv, NULL);
}
