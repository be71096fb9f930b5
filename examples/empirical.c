/* The empirical score of a finite training set and the collapse free-entropy gap f(t) (docs/math.md 5.2,
 * 7.6, 8.2 a), measured against the theory.
 *
 * P = 2000 points drawn from a two-class mixture in d = 32 (|m|^2 = 32, sigma^2 = 1), parent OU
 * process. Draws z = M_t a_mu + L_t xi around random training points a_mu give, through the
 * empirical score's log-sum-exp, f_hat(t) = 1/2 + mean LSE_mu(-r_mu^2/2) / N (rg_measure_f_entropy);
 * the theory is f(t) = max(0, alpha - 1/2 log(1 + nu(t))), alpha = log(P)/N (rg_theory_collapse_f).
 * Below t_C a draw is explained by its own training point alone, f = 0 (the collapse, or
 * memorisation, regime); above it f rises towards alpha as the draws forget which point they came
 * from. t_C is the largest t with f/alpha <= 0.05 (0.486 here). Well under a second on one core.
 * Build: cc empirical.c $(pkg-config --cflags --libs regimes); tests/examples.sh checks the output
 * against examples/empirical.expect. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "regimes/data.h"
#include "regimes/error.h"
#include "regimes/measure.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/score.h"
#include "regimes/theory.h"

enum { D = 32, P = 2000, NS = 1000, B = 250 };

static int fail(const char *what)
{
    fprintf(stderr, "empirical: %s: %s\n", what, rg_strerror_last());
    return 1;
}

/* f_hat at time t from NS draws around training points, and its standard error. */
static int f_hat(const rg_process *p, rg_score_emp *e, const rg_data_set *X, double t, size_t ti, double *f,
                 double *se)
{
    static double lse[NS];
    static float x[B * D];
    double z0[D], xi[D], zt[D];
    const rg_rng r = { .seed = 3, .stream = RG_STREAM_MEASURE };
    for (size_t b0 = 0; b0 < NS; b0 += B) {
        for (size_t b = 0; b < B; b++) {
            uint64_t traj = ti * NS + b0 + b;         /* (time, sample) addresses the numbers */
            size_t mu = (size_t)rg_rng_index(r, traj, 0, 0, P);
            for (size_t k = 0; k < D; k++) z0[k] = X->X[mu * D + k];
            rg_rng_normals_d(r, traj, 1, xi, D);
            if (rg_process_sample(p, t, z0, xi, zt)) return fail("rg_process_sample");
            for (size_t k = 0; k < D; k++) x[b * D + k] = (float)zt[k];
        }
        rg_score_extra ex = { .lse = lse + b0 };
        if (rg_score_emp_eval(e, t, B, x, NULL, &ex)) return fail("rg_score_emp_eval"); /* lse only */
    }
    return rg_measure_f_entropy(NS, lse, D, f, se) ? fail("rg_measure_f_entropy") : 0;
}

int main(void)
{
    rg_process *p = NULL;
    rg_data_gmm *g = NULL;
    rg_data_set *X = NULL;
    rg_score_emp *e = NULL;
    if (rg_process_ou(D, &p) || rg_data_gmm2(D, 32.0, NULL, 1.0, NULL, &g) ||
        rg_data_set_draw(g, (rg_rng){ .seed = 3, .stream = RG_STREAM_DATA }, P, &X) ||
        rg_score_emp_new(p, X->X, P, D, B, &e))
        return fail("setup");
    const double e1[1] = { 1 }, n2[1] = { 32 }, s2[1] = { 1 };
    const rg_theory_data td = { .n_labels = 1, .pattern = e1, .mean_norm2 = n2, .Cw = s2 };
    const double times[3] = { 0.05, 1.0, 2.0 };
    const char *names[3] = { "0.05", "1", "2" };
    printf("alpha %.6f\n", log((double)P) / D);
    for (size_t i = 0; i < 3; i++) {
        double f, se, ft;
        if (f_hat(p, e, X, times[i], i, &f, &se)) return 1;
        if (rg_theory_collapse_f(p, &td, P, times[i], &ft)) return fail("rg_theory_collapse_f");
        printf("f_hat_at_%s %.5f\nse_at_%s %.5f\nf_theory_at_%s %.5f\n", names[i], f, names[i], se, names[i], ft);
        printf("z_at_%s %.3f\n", names[i], (f - ft) / se);   /* measured - theory, in standard errors */
    }
    double tc;
    int found;
    if (rg_theory_collapse(p, &td, P, &tc, &found)) return fail("rg_theory_collapse");
    printf("t_C_theory %.6f\n", tc);
    rg_score_emp_free(e);
    rg_data_set_free(X);
    rg_data_gmm_free(g);
    rg_process_free(p);
    return 0;
}
