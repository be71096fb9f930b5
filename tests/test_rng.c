/* Tests of the counter-based streams (rng.h): the Random123 known answers, the addressing contract
 * (any draw recomputed on its own, prefixes stable), every vector path against the portable one (bit
 * for bit) and against the naive double reference (a stated bound), the tail of the transform to
 * 6.5 sigma (exact counts), and 5-sigma checks of moments, tails, independence and the whole
 * distribution (Kolmogorov-Smirnov) at a fixed seed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <Random123/philox.h>

#include "rg_test.h"
#include "regimes/rng.h"
#include "rng_internal.h"

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
    /* Random123 kat_vectors, philox4x32 10 rounds: zero counter and key, and the digits of pi */
    philox4x32_ctr_t c32 = { { 0, 0, 0, 0 } };
    philox4x32_key_t k32 = { { 0, 0 } };
    philox4x32_ctr_t y32 = philox4x32(c32, k32);
    assert_true(y32.v[0] == 0x6627e8d5u && y32.v[1] == 0xe169c58du && y32.v[2] == 0xbc57ac4cu && y32.v[3] == 0x9b00dbd8u);
    c32 = (philox4x32_ctr_t){ { 0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u } };
    k32 = (philox4x32_key_t){ { 0xa4093822u, 0x299f31d0u } };
    y32 = philox4x32(c32, k32);
    assert_true(y32.v[0] == 0xd16cfe09u && y32.v[1] == 0x94fdccebu && y32.v[2] == 0x5001e420u && y32.v[3] == 0x24126ea1u);
    /* the normals' mapping of rng.h: normal 64 g + 32 h + 16 s + 8 p + l comes from the word pair p of
     * block 16 g + 8 h + l under counter {block, lo ^ hi of step, lo and hi ^ stream << 24 of traj},
     * key {lo, hi of seed}, its cos (s = 0) or sin (s = 1) */
    const rg_rng r = { 0x0123456789abcdefull, RG_STREAM_CLONE_B };
    const uint64_t traj = (3ull << 32) + 17, step = (5ull << 32) + 999;
    float z[200];
    rg_rng_normals(r, traj, step, z, 200);
    for (size_t i = 0; i < 200; i += 7) {
        const size_t g = i / 64, h = (i % 64) / 32, s = (i % 32) / 16, p = (i % 16) / 8, l = i % 8;
        c32 = (philox4x32_ctr_t){ { (uint32_t)(16 * g + 8 * h + l), 999u ^ 5u, 17u, 3u ^ (RG_STREAM_CLONE_B << 24) } };
        k32 = (philox4x32_key_t){ { 0x89abcdefu, 0x01234567u } };
        y32 = philox4x32(c32, k32);
        float zc, zs;
        rg_rng__word_normals(y32.v[2 * p] | (uint64_t)y32.v[2 * p + 1] << 32, &zc, &zs);
        assert_true(z[i] == (s ? zs : zc));
    }
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
    /* double normals are the float ones widened; normal i alone is the last of a draw of i + 1 */
    rg_rng_normals_d(r, 5, 7, ud, 37);
    for (int i = 0; i < 37; i++) assert_true((double)a[i] == ud[i]);
    float big[300], one[300];
    rg_rng_normals(r, 5, 7, big, 300);
    assert_memory_equal(big, a, sizeof a);
    for (size_t i = 0; i < 300; i += 37) {
        rg_rng_normals(r, 5, 7, one, i + 1);
        assert_true(one[i] == big[i]);
    }
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

/* Every vector path this machine runs gives the portable path's bits (rng.h: SLEEF's u35 functions
 * agree across its AVX-512F, AVX2 + FMA and scalar FMA builds). Lengths around the group size of 64
 * and the 4-group batches of the AVX-512 path; 64-bit addresses with high bits set. */
static void test_paths_agree(void **state)
{
    (void)state;
    static const size_t len[] = { 1, 2, 15, 16, 17, 63, 64, 65, 127, 255, 256, 257, 300, 1000 };
    static const uint64_t addr[][4] = { { SEED, RG_STREAM_REVERSE, 0, 0 },
                                        { 0, 0, 0, 0 },
                                        { UINT64_MAX, RG_STREAM_CLONE_B, (1ull << 32) + 17, 999 },
                                        { 123456789, RG_STREAM_PRIOR, UINT64_MAX - 5, UINT64_MAX } };
    float ref[1000], got[1000];
    const int best = rg_rng__isa_best();
    for (size_t a = 0; a < sizeof addr / sizeof *addr; a++)
        for (size_t l = 0; l < sizeof len / sizeof *len; l++) {
            const rg_rng r = { addr[a][0], addr[a][1] };
            rg_rng__normals_isa(RG_RNG_ISA_GENERIC, r, addr[a][2], addr[a][3], ref, len[l]);
            for (int isa = RG_RNG_ISA_GENERIC + 1; isa <= best; isa++) {
                memset(got, 0, sizeof got);
                rg_rng__normals_isa(isa, r, addr[a][2], addr[a][3], got, len[l]);
                assert_memory_equal(got, ref, len[l] * sizeof *ref);
            }
            rg_rng_normals(r, addr[a][2], addr[a][3], got, len[l]);
            assert_memory_equal(got, ref, len[l] * sizeof *ref);
        }
}

/* The fast transform against the naive double one (libm) on the same uniforms, 2e5 normals. Error
 * budget, relative to |z|: logf u35 is within 3.5 ulp <= 3.5 2^-23 = 4.2e-7 (halved by the square
 * root, plus its rounding 2^-24 = 6e-8), sincospif u35 within 4.2e-7, the product's rounding 6e-8:
 * 7.5e-7 in all; 1e-6 is the bound. Near a zero of cos the double pi a carries 1e-16 absolute, hence
 * the 1e-15 r floor. A wrong word, lane or sign is an O(1) error. */
static void test_naive_reference(void **state)
{
    (void)state;
    enum { ROW = 400, ROWS = 500 };
    float z[ROW];
    double ref[ROW], worst = 0.0;
    const rg_rng r = { SEED, RG_STREAM_CLONE_A };
    for (uint64_t t = 0; t < ROWS; t++) {
        rg_rng_normals(r, t, 11, z, ROW);
        rg_rng_normals_naive(r, t, 11, ref, ROW);
        for (int i = 0; i < ROW; i++) {
            const double err = fabs((double)z[i] - ref[i]) / (fabs(ref[i]) + 1e-15 * 6.8);
            assert_true(err <= 1e-6);
            worst = fmax(worst, err);
        }
    }
    assert_true(worst > 0.0); /* float against double: the comparison can see a difference */
}

/* The tail of the radius, exactly: r = sqrt(-2 log u1) with u1 = (k + 1/2) 2^-32 for the low word k
 * (exact for k < 2^24), so #{k : r(k) > x} = 2^32 exp(-x^2/2) + O(1): counted over every k, through the
 * portable transform (which the vector paths match bit for bit), at x = 3.5 .. 6.5. The count may
 * move by one where log's 3.5 ulp cross the boundary: tolerance 2. A radius off by one float ulp in
 * u1 would shift the count at x = 6 by 1 (of 8.5), a missing 1/2 by about 1. */
static void test_tail_exact(void **state)
{
    (void)state;
    static const double xs[] = { 3.5, 4.0, 5.0, 6.0, 6.5 };
    for (size_t q = 0; q < sizeof xs / sizeof *xs; q++) {
        const double want = 0x1p32 * exp(-0.5 * xs[q] * xs[q]) - 0.5; /* k + 1/2 < 2^32 e^{-x^2/2} */
        uint64_t k = 0;
        float zc, zs;
        for (;; k++) { /* hi word 0: angle 0, so zc = r */
            rg_rng__word_normals(k, &zc, &zs);
            if (!((double)zc > xs[q])) break;
            assert_true(zs == 0.0f);
        }
        rg_assert_abs((double)k, ceil(want), 2.0, "radius tail count");
    }
    /* the largest radius: k = 0, u1 = 2^-33, r = sqrt(66 log 2) */
    float zc, zs;
    rg_rng__word_normals(0, &zc, &zs);
    rg_assert_rel((double)zc, sqrt(66.0 * log(2.0)), 1e-6, "largest |z|");
}

/* Standard normal upper tail P(Z > x). */
static double upper(double x) { return 0.5 * erfc(x / sqrt(2.0)); }

/* Moments to the sixth, tails at 3, 4, 5 sigma (6 sigma is checked exactly above: at this N it would
 * see 0.08 draws), 4e6 normals in rows of 300 (every position of a group, a partial group). Standard
 * errors sqrt(Var/N): mean 1, E z^2 sqrt(2), E z^3 sqrt(15), E z^4 sqrt(96), E z^6 sqrt(10395 - 225);
 * tails sqrt(p(1 - p)/N). 5 sigma each. A 1% error in the variance is a 7 sigma shift. */
static void test_normal_moments(void **state)
{
    (void)state;
    const rg_rng r = { SEED, RG_STREAM_REVERSE };
    enum { ROW = 300, ROWS = 13334 };
    static float z[ROW];
    double m[7] = { 0 }, tail[3] = { 0 };
    for (uint64_t t = 0; t < ROWS; t++) {
        rg_rng_normals(r, t, 2, z, ROW);
        for (int i = 0; i < ROW; i++) {
            const double x = z[i], x2 = x * x;
            m[1] += x, m[2] += x2, m[3] += x2 * x, m[4] += x2 * x2, m[6] += x2 * x2 * x2;
            for (int k = 0; k < 3; k++) tail[k] += fabs(x) > 3.0 + k;
        }
    }
    const double n = (double)ROW * ROWS;
    rg_assert_abs(m[1] / n, 0.0, 5 / sqrt(n), "E z");
    rg_assert_abs(m[2] / n, 1.0, 5 * sqrt(2 / n), "E z^2");
    rg_assert_abs(m[3] / n, 0.0, 5 * sqrt(15 / n), "E z^3");
    rg_assert_abs(m[4] / n, 3.0, 5 * sqrt(96 / n), "E z^4");
    rg_assert_abs(m[6] / n, 15.0, 5 * sqrt(10170 / n), "E z^6");
    for (int k = 0; k < 3; k++) {
        const double p = 2.0 * upper(3.0 + k);
        rg_assert_abs(tail[k] / n, p, 5 * sqrt(p * (1 - p) / n), "P(|z| > 3, 4, 5)");
    }
}

/* Independence: correlations of z and of z^2 between positions i and i + lag of a row (lag 16 pairs
 * the cos and sin of one word, 8 the two words of a lane, 1 neighbours, 64 the next group), and between
 * the same address in another stream, trajectory, step or seed. Each from 1e6 products: a correlation
 * has standard error 1/sqrt(n) under independence (z^2 standardised by its variance 2); 5 sigma. */
typedef struct { rg_rng r; uint64_t traj, step; } addr_t;

static void corr_check(const float *a, const float *b, size_t n, const char *what)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += (double)a[i] * (double)b[i];
        s2 += ((double)a[i] * (double)a[i] - 1.0) * ((double)b[i] * (double)b[i] - 1.0) / 2.0;
    }
    rg_assert_abs(s / (double)n, 0.0, 5 / sqrt((double)n), what);
    rg_assert_abs(s2 / (double)n, 0.0, 5 / sqrt((double)n), what);
}

static void test_independence(void **state)
{
    (void)state;
    enum { ROW = 128, ROWS = 8000, NP = ROWS * 64 };
    static float z[ROW], w[ROW], a[NP], b[NP];
    const rg_rng r = { SEED, RG_STREAM_CLONE_A };
    static const size_t lags[] = { 1, 8, 16, 64 };
    for (size_t l = 0; l < sizeof lags / sizeof *lags; l++) {
        size_t k = 0;
        for (uint64_t t = 0; t < ROWS; t++) {
            rg_rng_normals(r, t, 5, z, ROW);
            for (size_t i = 0; i + lags[l] < ROW && i < 64; i++) a[k] = z[i], b[k++] = z[i + lags[l]];
        }
        corr_check(a, b, k, "within a row");
    }
    const addr_t other[] = { { { SEED, RG_STREAM_CLONE_B }, 0, 5 }, { { SEED, RG_STREAM_CLONE_A }, 1, 5 },
                             { { SEED, RG_STREAM_CLONE_A }, 0, 6 }, { { SEED + 1, RG_STREAM_CLONE_A }, 0, 5 } };
    for (size_t o = 0; o < sizeof other / sizeof *other; o++) {
        size_t k = 0;
        for (uint64_t t = 0; t < ROWS; t++) {
            rg_rng_normals(r, 2 * t, 5, z, 64);
            rg_rng_normals(other[o].r, 2 * t + other[o].traj, other[o].step, w, 64);
            memcpy(a + k, z, 64 * sizeof *z);
            memcpy(b + k, w, 64 * sizeof *w);
            k += 64;
        }
        corr_check(a, b, k, "across streams, trajectories, steps, seeds");
    }
}

static int cmp_float(const void *x, const void *y)
{
    const float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

/* Kolmogorov-Smirnov against the standard normal CDF, 1e6 normals (rows of 250). Under the null
 * sqrt(n) D follows Kolmogorov's law, P(sqrt(n) D > x) ~ 2 exp(-2 x^2): x = 2.75 is the 5-sigma
 * level (5.7e-7). It sees a CDF error of 3e-3 anywhere (a variance off by 1% is D ~ 2.4e-3 at z = 1). */
static void test_ks(void **state)
{
    (void)state;
    enum { ROW = 250, ROWS = 4000, N = ROW * ROWS };
    float *z = malloc(N * sizeof *z);
    assert_non_null(z);
    const rg_rng r = { SEED, RG_STREAM_PRIOR };
    for (uint64_t t = 0; t < ROWS; t++) rg_rng_normals(r, t, 0, z + t * ROW, ROW);
    qsort(z, N, sizeof *z, cmp_float);
    double d = 0.0;
    for (size_t i = 0; i < N; i++) {
        const double f = upper(-(double)z[i]); /* Phi(z) */
        d = fmax(d, fmax(fabs(f - (double)i / N), fabs(f - (double)(i + 1) / N)));
    }
    free(z);
    rg_assert_abs(sqrt((double)N) * d, 0.0, 2.75, "Kolmogorov-Smirnov sqrt(n) D");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_addressing),
        cmocka_unit_test(test_uniform_range_and_moments),
        cmocka_unit_test(test_paths_agree),
        cmocka_unit_test(test_naive_reference),
        cmocka_unit_test(test_tail_exact),
        cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_independence),
        cmocka_unit_test(test_ks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
