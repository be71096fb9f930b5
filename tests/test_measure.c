/* measure: docs/math.md 8 estimators on hand-made inputs, bootstrap coverage, nearest two by sgemm
 * against the naive reference. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/measure.h"
#include "regimes/rng.h"

/* Crossing: phi = (1, 0.9, 0.7, 0.5) at t = (1, 2, 3, 4); the largest t_b with phi >= 0.775 is 2,
 * and linear interpolation to 3 gives 2 + (0.9 - 0.775) / 0.2 = 2.625 (hand computation). */
static void test_crossing(void **state)
{
    (void)state;
    double t[] = { 1, 2, 3, 4 }, phi[] = { 1, 0.9, 0.7, 0.5 }, x;
    assert_int_equal(rg_measure_crossing(4, t, phi, 0.775, &x), RG_OK);
    rg_assert_abs(x, 2.625, 1e-15, "interpolated crossing");
    /* Non-monotone: a late excursion above the level wins (the LARGEST t_b, docs/math.md 8.1). */
    double phi2[] = { 1, 0.7, 0.8, 0.5 };
    assert_int_equal(rg_measure_crossing(4, t, phi2, 0.775, &x), RG_OK);
    rg_assert_abs(x, 3.0 + 0.025 / 0.3, 1e-15, "largest t_b above the level");
    /* Never below within the grid, never above: NAN. */
    double hi[] = { 1, 1, 0.9, 0.8 }, lo[] = { 0.7, 0.6, 0.5, 0.5 };
    assert_int_equal(rg_measure_crossing(4, t, hi, 0.775, &x), RG_OK);
    assert_true(isnan(x));
    assert_int_equal(rg_measure_crossing(4, t, lo, 0.775, &x), RG_OK);
    assert_true(isnan(x));
    double bad[] = { 1, 3, 2, 4 };
    assert_int_equal(rg_measure_crossing(4, bad, phi, 0.775, &x), RG_EINVAL);
    assert_int_equal(rg_measure_crossing(4, t, phi, 1.5, &x), RG_EINVAL);
}

/* Bootstrap of n Bernoulli(p) indicators: the interval holds phi_hat and its width is the normal
 * approximation 2 * 1.96 sqrt(p(1-p)/n) within 10% (n = 2000: the percentile width's relative
 * Monte-Carlo error with 20000 replicates is ~1%, the normal approximation's ~1%). */
static void test_phi_bootstrap(void **state)
{
    (void)state;
    enum { n = 2000 };
    unsigned char same[n];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        same[i] = (i * 7919u) % 1000u < 700u; /* exactly 70% ones, spread out */
        k += same[i];
    }
    assert_int_equal(k, 1400);
    double phi, lo, hi, lo2, hi2, phi2;
    rg_rng r = { 42, RG_STREAM_BOOTSTRAP };
    assert_int_equal(rg_measure_phi(n, same, RG_MEASURE_NBOOT, r, 1, &phi, &lo, &hi), RG_OK);
    rg_assert_abs(phi, 0.7, 1e-15, "phi_hat");
    assert_true(lo < phi && phi < hi);
    rg_assert_rel(hi - lo, 2 * 1.96 * sqrt(0.7 * 0.3 / n), 0.1, "95% interval width");
    rg_assert_abs(0.5 * (lo + hi), 0.7, 0.005, "interval centred");
    /* Deterministic: same seed and key, same interval; another key, another one. */
    assert_int_equal(rg_measure_phi(n, same, RG_MEASURE_NBOOT, r, 1, &phi2, &lo2, &hi2), RG_OK);
    assert_true(lo2 == lo && hi2 == hi);
    assert_int_equal(rg_measure_phi(n, same, 2000, r, 2, &phi2, &lo2, &hi2), RG_OK);
    assert_true(lo2 != lo || hi2 != hi);
}

/* A whole curve whose exact crossing is known, and the joint gap of two shifted copies. */
static void test_ts_and_gap(void **state)
{
    (void)state;
    enum { m = 6, n = 1000 };
    double t[m] = { 0.5, 1, 1.5, 2, 2.5, 3 };
    double p[m] = { 1.0, 0.95, 0.85, 0.7, 0.6, 0.5 }; /* crossing 1.5 + 0.075/0.15 * 0.5 = 1.75 */
    unsigned char *sc = malloc(m * n), *sd = malloc(m * n);
    assert_non_null(sc);
    assert_non_null(sd);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            sc[i * n + j] = (double)((j * 7919u) % n) < p[i] * n;
            /* mode d: the curve one step earlier in t (phi(t) = p(t + 0.5)), crossing 1.25 */
            double q = i + 1 < m ? p[i + 1] : 0.5;
            sd[i * n + j] = (double)((j * 104729u) % n) < q * n;
        }
    double ts, lo, hi, phi[m], plo[m], phi_hi[m];
    rg_rng r = { 9, RG_STREAM_BOOTSTRAP };
    assert_int_equal(rg_measure_ts(m, t, n, sc, 4000, r, 0.775, &ts, &lo, &hi, phi, plo, phi_hi), RG_OK);
    rg_assert_abs(ts, 1.75, 1e-12, "t_S of the exact curve");
    assert_true(lo < ts && ts < hi);
    assert_true(hi - lo < 0.5);
    for (size_t i = 0; i < m; i++) {
        rg_assert_abs(phi[i], p[i], 1e-12, "phi per t_b");
        assert_true(plo[i] <= phi[i] && phi[i] <= phi_hi[i]);
    }
    /* Whole pairs are resampled across the curve: with every row equal (one trunk decides every t_b)
     * each replicate curve is flat, so every t_b gets the same interval; row-wise resampling would
     * give different ones. */
    for (size_t i = 1; i < m; i++) memcpy(sd + i * n, sd, n);
    double fl[m], flo[m], fhi[m];
    assert_int_equal(rg_measure_ts(m, t, n, sd, 2000, r, 0.5, &ts, &lo, &hi, fl, flo, fhi), RG_OK);
    for (size_t i = 1; i < m; i++) assert_true(flo[i] == flo[0] && fhi[i] == fhi[0] && flo[0] < fhi[0]);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) sd[i * n + j] = (double)((j * 104729u) % n) < (i + 1 < m ? p[i + 1] : 0.5) * n;
    double tc, td, gap, glo, ghi;
    assert_int_equal(rg_measure_ts_joint(m, t, n, sc, sd, 4000, r, 0.775, &tc, &td, &gap, &glo, &ghi), RG_OK);
    rg_assert_abs(tc, 1.75, 1e-12, "t_S common");
    rg_assert_abs(td, 1.25, 1e-12, "t_S difference");
    rg_assert_abs(gap, 0.5, 1e-12, "gap");
    assert_true(glo < gap && gap < ghi);
    free(sc);
    free(sd);
}

/* Entropy estimator, t_C, last switch, classifier correction: hand computations. */
static void test_collapse(void **state)
{
    (void)state;
    double lse[] = { -10, -12, -14 }, f, se;
    assert_int_equal(rg_measure_f_entropy(3, lse, 4, &f, &se), RG_OK);
    rg_assert_abs(f, 0.5 - 12.0 / 4, 1e-15, "f = 1/2 + mean(lse)/N");
    rg_assert_abs(se, sqrt(4.0 / 3.0) / 4, 1e-15, "standard error sd/(N sqrt n)"); /* sd = 2 */
    double t[] = { 0.1, 0.2, 0.3, 0.4 }, fv[] = { 0.0, 0.001, 0.02, 0.1 }, tc;
    /* alpha = 0.1, level 0.05: f/alpha = (0, 0.01, 0.2, 1); the largest t with <= 0.05 is 0.2, then
     * 0.2 + (0.05 - 0.01) / (0.2 - 0.01) * 0.1. */
    assert_int_equal(rg_measure_tc(4, t, fv, 0.1, 0.05, &tc), RG_OK);
    rg_assert_abs(tc, 0.2 + 0.04 / 0.19 * 0.1, 1e-15, "t_C");
    double tr[] = { 4, 3, 2, 1 }, sw[3];
    int nn[] = { 5, 5, 5, 5, /**/ 1, 2, 3, 3, /**/ 7, 8, 8, 9 };
    assert_int_equal(rg_measure_last_switch(4, tr, 3, nn, sw), RG_OK);
    rg_assert_abs(sw[0], 4, 0, "never switches: the first record time");
    rg_assert_abs(sw[1], 2, 0, "settles at t = 2");
    rg_assert_abs(sw[2], 1, 0, "switches at the last time");
    rg_assert_abs(rg_measure_phi_correct(0.5 + 0.3 * 0.64, 0.1), 0.8, 1e-15, "phi_obs = 1/2 + (phi - 1/2)(1 - 2e)^2");
    assert_int_equal(rg_measure_last_switch(4, t, 3, nn, sw), RG_EINVAL); /* times must decrease */
}

/* Nearest two by one sgemm against the naive double loop, on random points with one near-tie. */
static void test_nearest2(void **state)
{
    (void)state;
    enum { B = 37, P = 211, N = 19 };
    float *Z = malloc(B * N * sizeof *Z), *X = malloc(P * N * sizeof *X), *work = malloc(B * P * sizeof *work);
    double *xn = malloc(P * sizeof *xn), n1[B], n2[B];
    float d1[B], d2[B];
    int i1[B], i2[B];
    assert_true(Z && X && work && xn);
    rg_rng r = { 5, RG_STREAM_MEASURE };
    rg_rng_normals(r, 0, 0, Z, B * N);
    rg_rng_normals(r, 1, 0, X, P * N);
    for (size_t k = 0; k < N; k++) Z[3 * N + k] = X[17 * N + k] + 0.01f; /* a point right next to x_17 */
    assert_int_equal(rg_measure_norms(P, X, N, xn), RG_OK);
    assert_int_equal(rg_measure_nearest2(B, Z, P, X, xn, N, i1, d1, d2, work), RG_OK);
    assert_int_equal(rg_measure_nearest2_naive(B, Z, P, X, N, i2, n1, n2), RG_OK);
    assert_int_equal(i1[3], 17);
    for (size_t b = 0; b < B; b++) {
        assert_int_equal(i1[b], i2[b]);
        /* float32 Gram entries: |r^2| error ~ 1e-6 (|z|^2 + |x|^2) ~ 4e-5, so the distances of order
         * 6 agree to ~1e-5 absolute; the near point (d1 = 0.044) to ~1e-3 relative. */
        rg_assert_abs(d1[b], n1[b], b == 3 ? 2e-3 : 1e-4, "d1");
        rg_assert_abs(d2[b], n2[b], 1e-4, "d2");
    }
    assert_int_equal(rg_measure_nearest2(B, Z, 1, X, xn, N, i1, d1, d2, work), RG_EINVAL);
    free(Z), free(X), free(work), free(xn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crossing),   cmocka_unit_test(test_phi_bootstrap), cmocka_unit_test(test_ts_and_gap),
        cmocka_unit_test(test_collapse),   cmocka_unit_test(test_nearest2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
