/* regimes reproduce collapse-gmm: collapse onto the training set with the exact empirical score
 * (docs/math.md 7.6, 8.2) for training sets of the two-class GMM at d = 256 (P = 20000 and 2000) and
 * d = 1024 (P = 20000). The REM theory is the d -> infinity limit: at d = 256 the measured t_C sits
 * 10-13% below it (docs/math.md 11.5), so each t_C is reported, not judged, and the judged row is that
 * this finite-size deviation shrinks from d = 256 to d = 1024 at the same P. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "reproduce.h"

#define N_RUNS 3
static const size_t PS[N_RUNS] = { 20000, 20000, 2000 }, DS[N_RUNS] = { 256, 1024, 256 }; /* P and d per run */

/* Where the memorised fraction of the denoised states first reaches 1/2 coming down from T
 * (linear interpolation on the record times), NAN if never. */
static double half_time(const collapse_summary *s)
{
    for (size_t j = 1; j < s->n_rec; j++) {
        const double *a = s->mem + 4 * (j - 1), *b = s->mem + 4 * j;
        if (a[1] < 0.5 && b[1] >= 0.5) return a[0] + (b[0] - a[0]) * (0.5 - a[1]) / (b[1] - a[1]);
    }
    return NAN;
}

/* One run's rows: t_C against the d -> infinity theory, the closed form's fit, the other clocks (all
 * report-only) and the memorised fraction of the final samples (judged: every one is a training point). */
void collapse_rows(repro *r, const char *exp, const collapse_summary *s, size_t d, size_t P)
{
    char what[160], why[128];
    snprintf(what, sizeof what, "t_C (f/alpha = 0.05), d = %zu, P = %zu", d, P);
    snprintf(why, sizeof why, "d -> inf theory %.4g: %+.1f%% at this d (finite size)", s->tc_theory,
             100.0 * (s->tc / s->tc_theory - 1));
    repro_report(r, exp, what, s->tc, s->tc_lo, s->tc_hi, why);
    double dev = 0;
    for (size_t j = 0; j < s->m; j++) dev = fmax(dev, fabs(s->res[5 * j + 1] - s->res[5 * j + 4]));
    snprintf(what, sizeof what, "max_t \\|f - f_closed\\| / alpha, d = %zu, P = %zu", d, P);
    repro_report(r, exp, what, dev / s->alpha, NAN, NAN, "the finite-size shape of f (docs/math.md 11.5)");
    snprintf(what, sizeof what, "memorised fraction of E[z_0\\|z_t] reaches 1/2, d = %zu, P = %zu", d, P);
    repro_report(r, exp, what, half_time(s), NAN, NAN, "another clock of collapse (8.2 d), no theory of its own");
    const double se = 1.96 * s->sw_sd / sqrt((double)s->trajectories);
    snprintf(what, sizeof what, "mean last switch of the nearest point (8.2 c), d = %zu, P = %zu", d, P);
    repro_report(r, exp, what, s->sw_mean, s->sw_mean - se, s->sw_mean + se, "another clock of collapse, no theory of its own");
    snprintf(what, sizeof what, "memorised fraction of the final samples, d = %zu, P = %zu", d, P);
    repro_judge(r, 0, exp, what, 1.0, s->mf, s->mf_lo, s->mf_hi, (repro_rule){ 0.0, "exact score: samples are training points", 0.0 });
}

/* The finite-size row: |t_C / t_C(theory) - 1| at d = 256 minus at d = 1024 (same P) > 0. */
static void shrink_row(repro *r, int headline, const char *exp, const collapse_summary *a, const collapse_summary *b)
{
    const double d0 = fabs(a->tc / a->tc_theory - 1), d2 = fabs(b->tc / b->tc_theory - 1);
    const double h0 = 0.5 * (a->tc_hi - a->tc_lo) / a->tc_theory, h2 = 0.5 * (b->tc_hi - b->tc_lo) / b->tc_theory;
    const double h = sqrt(h0 * h0 + h2 * h2); /* independent runs */
    repro_judge_sign(r, headline, exp, "finite size: \\|t_C/t_C(theory) - 1\\| at d = 256 minus at d = 1024 (P = 20000)",
                     +1, d0 - d2, d0 - d2 - h, d0 - d2 + h);
}

int repro_collapse_runs(repro *r, int headline, const char *exp, size_t n_runs, size_t samples, collapse_summary *s)
{
    int st = RG_OK;
    size_t n = 0;
    for (size_t i = 0; i < n_runs && !st; i++, n++) {
        char extra[256], sub[64];
        snprintf(extra, sizeof extra, "--process ou --data gmm2 --dim %zu --sigma2 1 --n-train %zu --steps 100", DS[i], PS[i]);
        snprintf(sub, sizeof sub, "%s/d%zu-P%zu", exp, DS[i], PS[i]);
        if ((st = repro_collapse(r, sub, extra, samples, &s[i]))) break;
        collapse_rows(r, exp, &s[i], DS[i], PS[i]);
    }
    if (!st && n >= 2) shrink_row(r, headline, exp, &s[0], &s[1]);
    for (size_t i = st ? 0 : n; i < n; i++) collapse_summary_free(&s[i]);
    return st;
}

int repro_collapse_gmm(repro *r)
{
    collapse_summary s[N_RUNS];
    memset(s, 0, sizeof s);
    int st = repro_collapse_runs(r, 0, "collapse-gmm", N_RUNS, 4000, s);
    const size_t n = st ? 0 : N_RUNS;
    if (!st && n) {
        rg_io_series ser[2 * N_RUNS];
        double buf[2 * N_RUNS][4][64];
        char lab[2 * N_RUNS][64];
        for (size_t i = 0; i < n; i++) {
            size_t m = s[i].m < 64 ? s[i].m : 64;
            for (size_t j = 0; j < m; j++)
                for (size_t c = 0; c < 4; c++) buf[2 * i][c][j] = s[i].res[5 * j + c], buf[2 * i + 1][c][j] = s[i].res[5 * j + 4];
            snprintf(lab[2 * i], 64, "measured d = %zu, P = %zu", DS[i], PS[i]);
            snprintf(lab[2 * i + 1], 64, "closed form d = %zu, P = %zu", DS[i], PS[i]);
            ser[2 * i] = (rg_io_series){ lab[2 * i], m, buf[2 * i][0], buf[2 * i][1], buf[2 * i][2], buf[2 * i][3], 1 };
            ser[2 * i + 1] = (rg_io_series){ lab[2 * i + 1], m, buf[2 * i][0], buf[2 * i + 1][1], NULL, NULL, 0 };
        }
        st = repro_plot(r, "collapse-gmm-f.png", "Excess entropy f(t), two-class GMM training sets (docs/math.md 8.2 a)",
                        "t (forward)", "f(t) [nats per dimension]", 2 * n, ser);
        for (size_t i = 0; i < n && !st; i++) {
            size_t m = s[i].n_rec < 64 ? s[i].n_rec : 64;
            for (size_t j = 0; j < m; j++)
                for (size_t c = 0; c < 4; c++) buf[i][c][j] = s[i].mem[4 * j + c];
            snprintf(lab[i], 64, "memorised, d = %zu, P = %zu", DS[i], PS[i]);
            ser[i] = (rg_io_series){ lab[i], m, buf[i][0], buf[i][1], buf[i][2], buf[i][3], 1 };
        }
        if (!st)
            st = repro_plot(r, "collapse-gmm-memorised.png",
                            "Memorised fraction of the denoised states E[z_0|z_t] (d1/d2 < 1/3, docs/math.md 8.2 d)",
                            "t (forward)", "fraction", n, ser);
    }
    for (size_t i = 0; i < n; i++) collapse_summary_free(&s[i]);
    return st;
}
