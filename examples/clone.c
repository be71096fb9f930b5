/* Measure the speciation time by cloning (docs/math.md 6.6, 8.1) and compare it with the theory.
 *
 * Parent OU process, two-class Gaussian mixture in d = 64 with |m|^2 = 64, sigma^2 = 1: the theory
 * gives t_S = 1/2 log(1 + |m|^2 - sigma^2) = 1/2 log 64 = 2.079 (docs/math.md 7.1 b). For each branch time
 * t_b, 240 trajectories run the reverse SDE with the exact mixture score from T = 6 down to t_b, are
 * copied, and both copies finish at t_end = 1e-3 with independent noise; phi(t_b) is the fraction of
 * pairs whose two ends fall in the same class, and t_S is where phi crosses 0.775 (rg_measure_ts,
 * with a bootstrap interval). About two seconds on one core.
 * Build: cc clone.c $(pkg-config --cflags --libs regimes); tests/examples.sh checks the output
 * against examples/clone.expect. */
#include <stdio.h>
#include <stdlib.h>

#include "regimes/data.h"
#include "regimes/error.h"
#include "regimes/measure.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/sampler.h"
#include "regimes/score.h"
#include "regimes/theory.h"

enum { D = 64, PAIRS = 240, M = 7, STEPS = 60 };

static int fail(const char *what)
{
    fprintf(stderr, "clone: %s: %s\n", what, rg_strerror_last());
    return 1;
}

int main(void)
{
    const double t_b[M] = { 0.5, 1, 1.5, 2, 2.5, 3, 4 };
    rg_process *p = NULL;
    rg_data_gmm *g = NULL;
    rg_score_gmm *sc = NULL;
    if (rg_process_ou(D, &p) || rg_data_gmm2(D, 64.0, NULL, 1.0, NULL, &g) || rg_score_gmm_new(p, g, 256, &sc))
        return fail("setup");

    /* Reverse-time grid: 60 geometric steps from T = 6 to 1e-3, with the branch times merged in. */
    size_t n_grid;
    double *grid = malloc(rg_sampler_grid_size(RG_GRID_GEOMETRIC, STEPS, M) * sizeof *grid);
    float *xa = malloc((size_t)M * PAIRS * D * sizeof *xa), *xb = malloc((size_t)M * PAIRS * D * sizeof *xb);
    int *la = malloc(PAIRS * sizeof *la), *lb = malloc(PAIRS * sizeof *lb);
    unsigned char *same = malloc((size_t)M * PAIRS);
    if (!grid || !xa || !xb || !la || !lb || !same) return fprintf(stderr, "clone: out of memory\n"), 1;
    if (rg_sampler_grid(RG_GRID_GEOMETRIC, 6.0, 1e-3, STEPS, t_b, M, grid, &n_grid)) return fail("grid");
    rg_sampler_cfg cfg = { .proc = p, .score = rg_score_gmm_iface(sc), .method = RG_SAMPLER_EXP,
                           .grid = grid, .n_grid = n_grid, .seed = 7 };
    if (rg_sampler_clone(&cfg, t_b, M, PAIRS, xa, xb)) return fail("rg_sampler_clone");

    /* Class of each end state: the sign of m . x (docs/math.md 8.4), m the mean of component 0. */
    const double *m = rg_data_gmm_means(g);
    for (size_t i = 0; i < M; i++) {
        if (rg_data_classify_gmm2(D, m, xa + i * PAIRS * D, PAIRS, la) ||
            rg_data_classify_gmm2(D, m, xb + i * PAIRS * D, PAIRS, lb))
            return fail("classify");
        for (size_t j = 0; j < PAIRS; j++) same[i * PAIRS + j] = la[j] == lb[j];
    }
    double ts, lo, hi, phi[M], phi_lo[M], phi_hi[M], ts_theory, phi_theory;
    const rg_rng boot = { .seed = 7, .stream = RG_STREAM_BOOTSTRAP };
    if (rg_measure_ts(M, t_b, PAIRS, same, 2000, boot, RG_MEASURE_LEVEL_TS, &ts, &lo, &hi, phi, phi_lo, phi_hi))
        return fail("rg_measure_ts");
    const double e[1] = { 1 }, n2[1] = { 64 }, s2[1] = { 1 };
    const rg_theory_data td = { .n_labels = 1, .pattern = e, .mean_norm2 = n2, .Cw = s2 };
    int found;
    if (rg_theory_speciation(p, &td, 0, RG_SPECIATION_GMM, &ts_theory, &found)) return fail("theory");
    for (size_t i = 0; i < M; i++) {
        if (rg_theory_phi_at(p, &td, 0, t_b[i], &phi_theory)) return fail("phi theory");
        printf("# t_b %.2f  phi %.3f [%.3f, %.3f]  theory %.3f\n", t_b[i], phi[i], phi_lo[i], phi_hi[i], phi_theory);
    }
    printf("phi_at_0.5 %.4f\n", phi[0]);
    printf("phi_at_4 %.4f\n", phi[M - 1]);
    printf("t_S_theory %.6f\n", ts_theory);
    printf("t_S_measured %.4f\n", ts);
    printf("t_S_ci_lo %.4f\nt_S_ci_hi %.4f\n", lo, hi);
    free(grid), free(xa), free(xb), free(la), free(lb), free(same);
    rg_score_gmm_free(sc);
    rg_data_gmm_free(g);
    rg_process_free(p);
    return 0;
}
