/* regimes reproduce collapse-gmm: collapse onto the training set with the exact empirical score
 * (docs/math.md 7.6, 8.2) for training sets of the two-class GMM at d = 256, P = 20000 and P = 2000. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "reproduce.h"

#define TOL_TC 0.15   /* issue tolerance: measured t_C within 15% of theory, or theory inside the interval */
#define TOL_F 0.15    /* f(t) against the closed form: max |f - f_theory| within 15% of alpha */
#define N_RUNS 2

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

int repro_collapse_gmm(repro *r)
{
    static const size_t PS[N_RUNS] = { 20000, 2000 };
    collapse_summary s[N_RUNS];
    int st = RG_OK;
    size_t n = 0;
    for (size_t i = 0; i < N_RUNS && !st; i++) {
        char extra[256], sub[64], what[128], tol[96];
        snprintf(extra, sizeof extra, "--process ou --data gmm2 --dim 256 --sigma2 1 --n-train %zu --steps 100", PS[i]);
        snprintf(sub, sizeof sub, "collapse-gmm/P%zu", PS[i]);
        st = repro_collapse(r, sub, extra, 4000, &s[i]);
        if (st) break;
        n++;
        snprintf(what, sizeof what, "t_C (f/alpha = 0.05), d = 256, P = %zu", PS[i]);
        repro_row(r, "collapse-gmm", what, s[i].tc_theory, s[i].tc, s[i].tc_lo, s[i].tc_hi, TOL_TC * s[i].tc_theory);
        double dev = 0;
        for (size_t j = 0; j < s[i].m; j++) dev = fmax(dev, fabs(s[i].res[5 * j + 1] - s[i].res[5 * j + 4]));
        snprintf(what, sizeof what, "max_t \\|f - f_closed\\| / alpha, P = %zu", PS[i]);
        snprintf(tol, sizeof tol, "<= %.2f", TOL_F);
        repro_row_text(r, "collapse-gmm", what, 0, dev / s[i].alpha, NAN, NAN, tol, dev / s[i].alpha <= TOL_F);
        snprintf(what, sizeof what, "memorised fraction of the final samples, P = %zu", PS[i]);
        repro_row_text(r, "collapse-gmm", what, 1, s[i].mf, s[i].mf_lo, s[i].mf_hi, ">= 0.95", s[i].mf >= 0.95);
        /* Two other collapse clocks of docs/math.md 8.2: informative, against the same theory and tolerance. */
        snprintf(what, sizeof what, "memorised fraction of E[z_0\\|z_t] reaches 1/2, P = %zu", PS[i]);
        repro_row(r, "collapse-gmm", what, s[i].tc_theory, half_time(&s[i]), NAN, NAN, TOL_TC * s[i].tc_theory);
        const double se = 1.96 * s[i].sw_sd / sqrt((double)s[i].trajectories);
        snprintf(what, sizeof what, "mean last switch of the nearest point (8.2 c), P = %zu", PS[i]);
        repro_row(r, "collapse-gmm", what, s[i].tc_theory, s[i].sw_mean, s[i].sw_mean - se, s[i].sw_mean + se,
                  TOL_TC * s[i].tc_theory);
    }
    if (!st && n) {
        rg_io_series ser[2 * N_RUNS];
        double buf[2 * N_RUNS][4][64];
        char lab[2 * N_RUNS][64];
        for (size_t i = 0; i < n; i++) {
            size_t m = s[i].m < 64 ? s[i].m : 64;
            for (size_t j = 0; j < m; j++)
                for (size_t c = 0; c < 4; c++) buf[2 * i][c][j] = s[i].res[5 * j + c], buf[2 * i + 1][c][j] = s[i].res[5 * j + 4];
            snprintf(lab[2 * i], 64, "measured P = %zu", PS[i]);
            snprintf(lab[2 * i + 1], 64, "closed form P = %zu", PS[i]);
            ser[2 * i] = (rg_io_series){ lab[2 * i], m, buf[2 * i][0], buf[2 * i][1], buf[2 * i][2], buf[2 * i][3], 1 };
            ser[2 * i + 1] = (rg_io_series){ lab[2 * i + 1], m, buf[2 * i][0], buf[2 * i + 1][1], NULL, NULL, 0 };
        }
        st = repro_plot(r, "collapse-gmm-f.png", "Excess entropy f(t), two-class GMM training sets, d = 256 (docs/math.md 8.2 a)",
                        "t (forward)", "f(t) [nats per dimension]", 2 * n, ser);
        for (size_t i = 0; i < n && !st; i++) {
            size_t m = s[i].n_rec < 64 ? s[i].n_rec : 64;
            for (size_t j = 0; j < m; j++)
                for (size_t c = 0; c < 4; c++) buf[i][c][j] = s[i].mem[4 * j + c];
            snprintf(lab[i], 64, "memorised, P = %zu", PS[i]);
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
