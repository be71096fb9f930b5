/* Tests of the counter-based streams (rng.h): the Random123 known answer, the addressing contract
 * (any draw recomputed on its own, prefixes stable), and 5-sigma checks of the distributions. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <Random123/philox.h>

#include "rg_test.h"
#include "regimes/rng.h"

#define SEED 20240917u

static void test_known_answer(void **state)
{
    (void)state;
    /* Random123 kat_vectors: philox4x64 10 rounds, counter 0 and key 0. */
    uint64_t w[4];
    rg_rng_block((rg_rng){ 0, 0 }, 0, 0, 0, w);
    assert_true(w[0] == 0x16554d9eca36314cull);
    assert_true(w[1] == 0xdb20fe9d672d0fdcull);
    assert_true(w[2] == 0xd7e772cee186176bull);
    assert_true(w[3] == 0x7e68b68aec7ba23bull);
    /* kat_vectors, the digits of pi: Random123 as compiled here (C11, our flags) */
    philox4x64_ctr_t ctr = { { 0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull,
                               0x082efa98ec4e6c89ull } };
    philox4x64_key_t key = { { 0x452821e638d01377ull, 0xbe5466cf34e90c6cull } };
    philox4x64_ctr_t y = philox4x64(ctr, key);
    assert_true(y.v[0] == 0xa528f45403e61d95ull && y.v[1] == 0x38c72dbd566e9788ull);
    assert_true(y.v[2] == 0xa5a1610e72fd18b5ull && y.v[3] == 0x57bd43b5e52b7fe6ull);
    /* the mapping of rng.h: counter {traj, step, block, 0}, key {seed, stream} */
    ctr.v[3] = 0;
    y = philox4x64(ctr, key);
    rg_rng_block((rg_rng){ key.v[0], key.v[1] }, ctr.v[0], ctr.v[1], ctr.v[2], w);
    for (int j = 0; j < 4; j++) assert_true(w[j] == y.v[j]);
}

static void test_addressing(void **state)
{
    (void)state;
    const rg_rng r = { SEED, RG_STREAM_FORWARD };
    float a[37], b[13];
    double u[9], ud[37];
    /* a prefix of a longer draw is the shorter draw: normal i depends only on (traj, step, i) */
    rg_rng_normals(r, 5, 7, a, 37);
    rg_rng_normals(r, 5, 7, b, 13);
    assert_memory_equal(a, b, sizeof b);
    /* float normals are the double ones rounded once */
    rg_rng_normals_d(r, 5, 7, ud, 37);
    for (int i = 0; i < 37; i++) assert_true(a[i] == (float)ud[i]);
    /* uniforms: one at a time equals the vector form */
    rg_rng_uniforms(r, 3, 1, u, 9);
    for (int i = 0; i < 9; i++) assert_true(u[i] == rg_rng_uniform(r, 3, 1, (uint64_t)i));
    /* another trajectory, step, stream or seed gives other numbers (so the comparisons can fail) */
    float c[13];
    rg_rng_normals(r, 6, 7, c, 13);
    assert_true(memcmp(b, c, sizeof b) != 0);
    rg_rng_normals(r, 5, 8, c, 13);
    assert_true(memcmp(b, c, sizeof b) != 0);
    rg_rng_normals((rg_rng){ SEED, RG_STREAM_PRIOR }, 5, 7, c, 13);
    assert_true(memcmp(b, c, sizeof b) != 0);
    rg_rng_normals((rg_rng){ SEED + 1, RG_STREAM_FORWARD }, 5, 7, c, 13);
    assert_true(memcmp(b, c, sizeof b) != 0);
}

static void test_uniform_range_and_moments(void **state)
{
    (void)state;
    /* N = 4e5 uniforms: mean 1/2 with standard error sqrt(1/12 / N) = 4.6e-4, mean of u^2 1/3 with
     * standard error sqrt((1/5 - 1/9) / N) = 4.7e-4; 5 sigma each. Every u strictly in (0, 1). */
    const rg_rng r = { SEED, RG_STREAM_MEASURE };
    enum { N = 400000 };
    double s1 = 0, s2 = 0, u[8];
    for (uint64_t t = 0; t < N / 8; t++) {
        rg_rng_uniforms(r, t, 0, u, 8);
        for (int i = 0; i < 8; i++) {
            assert_true(u[i] > 0.0 && u[i] < 1.0);
            s1 += u[i];
            s2 += u[i] * u[i];
        }
    }
    rg_assert_abs(s1 / N, 0.5, 5 * sqrt(1.0 / 12 / N), "mean of U(0,1)");
    rg_assert_abs(s2 / N, 1.0 / 3, 5 * sqrt((0.2 - 1.0 / 9) / N), "E u^2");
    /* the index draw stays in [0, n) and hits both ends of a small range */
    int seen[3] = { 0, 0, 0 };
    for (uint64_t i = 0; i < 300; i++) {
        uint64_t k = rg_rng_index(r, i, 0, 0, 3);
        assert_true(k < 3);
        seen[k]++;
    }
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
}

static void test_normal_moments(void **state)
{
    (void)state;
    /* N = 4e5 normals in rows of 10 (so every Box-Muller position and a partial block occur).
     * Standard errors: mean 1/sqrt(N), E z^2 sqrt(2/N), E z^3 sqrt(15/N), E z^4 sqrt(96/N); lag-1
     * correlation within a row 1/sqrt(N'); tail P(|z| > 3) = 0.0026998 with sqrt(p(1-p)/N). 5 sigma. */
    const rg_rng r = { SEED, RG_STREAM_REVERSE };
    enum { ROW = 10, N = 400000 };
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0, lag = 0, tail = 0, z[ROW];
    for (uint64_t t = 0; t < N / ROW; t++) {
        rg_rng_normals_d(r, t, 2, z, ROW);
        for (int i = 0; i < ROW; i++) {
            double x = z[i];
            m1 += x;
            m2 += x * x;
            m3 += x * x * x;
            m4 += x * x * x * x;
            tail += fabs(x) > 3.0;
            if (i) lag += x * z[i - 1];
        }
    }
    double n = N, nl = (double)N / ROW * (ROW - 1), p3 = 0.0026997960632601866;
    rg_assert_abs(m1 / n, 0.0, 5 / sqrt(n), "E z");
    rg_assert_abs(m2 / n, 1.0, 5 * sqrt(2 / n), "E z^2");
    rg_assert_abs(m3 / n, 0.0, 5 * sqrt(15 / n), "E z^3");
    rg_assert_abs(m4 / n, 3.0, 5 * sqrt(96 / n), "E z^4");
    rg_assert_abs(lag / nl, 0.0, 5 / sqrt(nl), "E z_i z_{i+1}");
    rg_assert_abs(tail / n, p3, 5 * sqrt(p3 * (1 - p3) / n), "P(|z| > 3)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_addressing),
        cmocka_unit_test(test_uniform_range_and_moments),
        cmocka_unit_test(test_normal_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
