/* Tests of the noise module (docs/math.md 1.3, 11.1): the parent's ddpm-linear schedule at its pinned steps,
 * the cosine schedule against an independent 50-digit evaluation, time -> step against a linear scan
 * and the parent's abar rule, caller tables, schedule files and every bad-input path (a FIFO, a
 * directory and a device included).
 *
 * Reference values: Python mpmath at 50 digits (mp.dps = 50), betas as exact decimals, the same sums
 * written independently of src/noise.c:
 *     ddpm-linear: la = sum_{j<=k} log(1 - beta_j), beta_j = 1e-4 + (2e-2 - 1e-4) j/999, t_k = -la/2;
 *     ddpm-cosine: beta_k = min(1 - f((k+1)/K)/f(k/K), 0.999), f(u) = cos((u + 0.008)/1.008 pi/2)^2.
 * The ddpm-linear values agree to all digits shown with bc -l:
 *     scale=40; la=0; for (j=0; j<1000; j++) { la += l(1 - (0.0001 + 0.0199*j/999)); if (j==446) -la/2 }
 * (t_446 = 1.01822638859528302562..., and -la/2 at the end: t_999 = 5.05885677120655194665...). Tolerances: a sum of K rounded log1p terms is good to ~K eps relative (2.2e-13 at K = 1000);
 * rtol 1e-12 is a 4x margin. The cosine terms are log1p of sums without cancellation (measured: at most
 * 6e-15 relative, near u = 1 where the cosines are small); the same K eps bound, 1e-12. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/noise.h"
#include "noise_internal.h"

static rg_noise *linear_default(void)
{
    rg_noise *s = NULL;
    assert_int_equal(rg_noise_ddpm_linear(RG_NOISE_DDPM_B0, RG_NOISE_DDPM_B1, RG_NOISE_DDPM_STEPS, &s), RG_OK);
    assert_non_null(s);
    return s;
}

/* The first k with t_k >= t by a linear scan (the naive reference of rg_noise_step); K when none. */
static size_t step_naive(const rg_noise *s, double t)
{
    size_t k = 0;
    while (k < rg_noise_steps(s) && !(rg_noise_time(s, k) >= t)) k++;
    return k;
}

/* ---- ddpm-linear ---------------------------------------------------------------------------------- */

static void test_linear_pinned(void **state)
{
    (void)state;
    static const struct { size_t k; double t; } ref[] = {
        { 0, 5.000250016667916766675001e-05 },  /* -1/2 log(1 - 1e-4) */
        { 1, 1.09966055610887189095615e-04 },
        { 445, 1.013713945427182083065609 },
        { 446, 1.018226388595283025624015 },
        { 447, 1.022748882118694669376835 },
        { 500, 1.276828400163307200383424 },
        { 999, 5.058856771206551946659718 },
    };
    rg_noise *s = linear_default();
    assert_int_equal(rg_noise_steps(s), 1000);
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        rg_assert_rel(rg_noise_time(s, ref[i].k), ref[i].t, 1e-12, "ddpm-linear t_k (mpmath)");
        rg_assert_rel(rg_noise_abar(s, ref[i].k), exp(-2.0 * ref[i].t), 1e-12, "ddpm-linear abar_k");
    }
    /* docs/math.md 1.3 and 11.1, to the digits given there */
    rg_assert_digits(rg_noise_time(s, 999), 5.06, 2, "docs/math.md 1.3: step 999 is t = 5.06");
    rg_assert_digits(rg_noise_time(s, 500), 1.28, 2, "docs/math.md 1.3: step 500 is t = 1.28");
    rg_assert_digits(rg_noise_time(s, 446), 1.018226, 6, "docs/math.md 11.1: t_446 = 1.018226");
    for (size_t k = 1; k < 1000; k++) {
        assert_true(rg_noise_time(s, k) > rg_noise_time(s, k - 1));
        assert_true(rg_noise_abar(s, k) < rg_noise_abar(s, k - 1));
    }
    assert_true(isnan(rg_noise_time(s, 1000)));
    assert_true(isnan(rg_noise_abar(s, 1000)));
    rg_noise_free(s);
}

/* docs/math.md 11.1: Lambda = 7.66 -> step 446, Lambda = 7.668 -> step 447 for t = 1/2 log Lambda; the same
 * as the parent's first k with abar_k <= 1/Lambda. 1/2 log 7.66 = 1.01800599187624996 lies 2.2e-4
 * below t_446 and 4.3e-3 above t_445, so no rounding can move it. */
static void test_step_lookup(void **state)
{
    (void)state;
    rg_noise *s = linear_default();
    size_t k = 12345;
    assert_int_equal(rg_noise_step(s, 0.5 * log(7.66), &k), RG_OK);
    assert_int_equal(k, 446);
    assert_int_equal(rg_noise_step(s, 0.5 * log(7.668), &k), RG_OK);
    assert_int_equal(k, 447);
    /* exact step times map to themselves; just above maps to the next step */
    for (size_t j = 0; j < 1000; j += 37) {
        assert_int_equal(rg_noise_step(s, rg_noise_time(s, j), &k), RG_OK);
        assert_int_equal(k, j);
        if (j + 1 < 1000) {
            assert_int_equal(rg_noise_step(s, nextafter(rg_noise_time(s, j), INFINITY), &k), RG_OK);
            assert_int_equal(k, j + 1);
        }
    }
    /* below the first step: 0; beyond the last: RG_EDOM; NaN: RG_EDOM */
    assert_int_equal(rg_noise_step(s, 0.0, &k), RG_OK);
    assert_int_equal(k, 0);
    assert_int_equal(rg_noise_step(s, -3.0, &k), RG_OK);
    assert_int_equal(k, 0);
    assert_int_equal(rg_noise_step(s, rg_noise_time(s, 999), &k), RG_OK);
    assert_int_equal(k, 999);
    rg_expect_fail(rg_noise_step(s, nextafter(rg_noise_time(s, 999), INFINITY), &k), RG_EDOM, "beyond the last step");
    rg_expect_fail(rg_noise_step(s, NAN, &k), RG_EDOM, "NaN");
    rg_expect_fail(rg_noise_step(NULL, 1.0, &k), RG_EINVAL, "NULL");
    /* binary search against the linear scan, and against the parent's abar rule, for 3000 Lambdas on
     * [1.0001, 2.4e4] (t from 5e-5 to t_999): the two rules may differ only where abar_k and 1/Lambda
     * agree to rounding, which these Lambdas avoid (checked: the rules agree on every one). */
    for (int i = 0; i < 3000; i++) {
        const double L = exp(1e-4 + (2.0 * 5.0588 - 1e-4) * i / 2999.0), t = 0.5 * log(L);
        assert_int_equal(rg_noise_step(s, t, &k), RG_OK);
        assert_int_equal(k, step_naive(s, t));
        size_t kp = 0;
        while (!(rg_noise_abar(s, kp) <= 1.0 / L)) kp++;
        assert_int_equal(k, kp);
    }
    rg_noise_free(s);
}

static void test_linear_general(void **state)
{
    (void)state;
    rg_noise *s = NULL;
    /* K = 2: beta = b0, b1; abar_1 = (1 - b0)(1 - b1) exactly up to two roundings */
    assert_int_equal(rg_noise_ddpm_linear(0.1, 0.3, 2, &s), RG_OK);
    rg_assert_rel(rg_noise_abar(s, 0), 0.9, 4e-16, "abar_0 = 1 - b0");
    rg_assert_rel(rg_noise_abar(s, 1), 0.9 * 0.7, 8e-16, "abar_1 = (1 - b0)(1 - b1)");
    rg_assert_rel(rg_noise_time(s, 1), -0.5 * log(0.63), 4e-16, "t_1");
    rg_noise_free(s);
    /* constant beta: t_k = -(k + 1)/2 log(1 - b), a closed form */
    assert_int_equal(rg_noise_ddpm_linear(0.02, 0.02, 500, &s), RG_OK);
    for (size_t k = 0; k < 500; k += 99)
        rg_assert_rel(rg_noise_time(s, k), -0.5 * (double)(k + 1) * log1p(-0.02), 600 * 2.2e-16, "constant beta");
    rg_noise_free(s);
    s = (rg_noise *)&s;
    rg_expect_fail(rg_noise_ddpm_linear(0.0, 0.02, 1000, &s), RG_EINVAL, "0 < b0 <= b1 < 1");
    assert_null(s);
    rg_expect_fail(rg_noise_ddpm_linear(0.03, 0.02, 1000, &s), RG_EINVAL, "b0 <= b1");
    rg_expect_fail(rg_noise_ddpm_linear(1e-4, 1.0, 1000, &s), RG_EINVAL, "< 1");
    rg_expect_fail(rg_noise_ddpm_linear(NAN, 0.02, 1000, &s), RG_EINVAL, "b0");
    rg_expect_fail(rg_noise_ddpm_linear(1e-4, 2e-2, 1, &s), RG_EINVAL, "K >= 2");
    rg_expect_fail(rg_noise_ddpm_linear(1e-4, 2e-2, (size_t)RG_NOISE_MAX_STEPS + 1, &s), RG_EINVAL, "K = ");
    /* the product underflows: 1e6 steps of beta = 0.9 reach abar = 0.1^(1e6) */
    rg_expect_fail(rg_noise_ddpm_linear(0.9, 0.9, 1000000, &s), RG_EDOM, "underflows");
    assert_null(s);
    rg_expect_fail(rg_noise_ddpm_linear(1e-4, 2e-2, 1000, NULL), RG_EINVAL, "NULL");
}

/* ---- ddpm-cosine ----------------------------------------------------------------------------------- */

static double cos_f(double u)
{
    const double c = cos((u + 0.008) / 1.008 * 3.14159265358979323846 / 2.0);
    return c * c;
}

static void test_cosine(void **state)
{
    (void)state;
    static const struct { size_t K, k; double t; } ref[] = {
        { 1000, 0, 2.06425385194214322689933e-05 },
        { 1000, 1, 4.371394716947876037793261e-05 },
        { 1000, 499, 0.3527682152348333183278666 },
        { 1000, 500, 0.3543485558027722214607595 },
        { 1000, 998, 6.464063437535384375677722 },
        { 1000, 999, 9.917941077026452901704709 },  /* the clipped last step: + 1/2 log 1000 */
        { 10, 0, 0.01415203525966915536787837 },
        { 10, 4, 0.3527682152348333183278666 },    /* = K 1000, k 499: (k + 1)/K = 1/2 both */
        { 10, 8, 1.862943447068301737127117 },
        { 10, 9, 5.316821086559370263154104 },
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        rg_noise *s = NULL;
        assert_int_equal(rg_noise_ddpm_cosine(ref[i].K, &s), RG_OK);
        rg_assert_rel(rg_noise_time(s, ref[i].k), ref[i].t, 1e-12, "ddpm-cosine t_k (mpmath)");
        rg_noise_free(s);
    }
    /* Unclipped steps telescope: abar_k = f((k+1)/K) / f(0) (docs/math.md 11.1), here for every k < K - 1
     * (only the last step clips at K = 1000). Plain double formula: a few eps per cosine. */
    rg_noise *s = NULL;
    assert_int_equal(rg_noise_ddpm_cosine(1000, &s), RG_OK);
    for (size_t k = 0; k + 1 < 1000; k++)
        rg_assert_rel(rg_noise_abar(s, k), cos_f((double)(k + 1) / 1000.0) / cos_f(0.0), 1e-12, "telescoped abar");
    rg_assert_rel(rg_noise_abar(s, 999), rg_noise_abar(s, 998) * (1.0 - 0.999), 1e-13, "beta clipped at 0.999");
    rg_noise_free(s);
    /* K = 1: one step from abar = 1 to f(1)/f(0) ~ 4e-33, clipped: abar_0 = 1 - 0.999 */
    assert_int_equal(rg_noise_ddpm_cosine(1, &s), RG_OK);
    rg_assert_rel(rg_noise_abar(s, 0), 1.0 - 0.999, 1e-15, "K = 1");
    rg_noise_free(s);
    s = (rg_noise *)&s;
    rg_expect_fail(rg_noise_ddpm_cosine(0, &s), RG_EINVAL, "K = 0");
    assert_null(s);
}

/* ---- tables ---------------------------------------------------------------------------------------- */

static void test_table(void **state)
{
    (void)state;
    const double a[5] = { 0.99, 0.9, 0.5, 0.1, 1e-300 };
    rg_noise *s = NULL;
    assert_int_equal(rg_noise_table(5, a, &s), RG_OK);
    assert_int_equal(rg_noise_steps(s), 5);
    for (size_t k = 0; k < 5; k++) {
        assert_true(rg_noise_abar(s, k) == a[k]);
        rg_assert_rel(rg_noise_time(s, k), -0.5 * log(a[k]), 0.0, "t_k = -1/2 log abar_k");
    }
    size_t k;
    assert_int_equal(rg_noise_step(s, 0.5 * log(2.0), &k), RG_OK); /* abar <= 1/2 first at k = 2 */
    assert_int_equal(k, 2);
    rg_noise_free(s);
    /* bad tables: the message names the index */
    const double tiny = 1e-300, tiny2 = nextafter(1e-300, 0.0);
    static const struct { double a[3]; int want; const char *frag; } bad[] = {
        { { 0.9, NAN, 0.1 }, RG_EINVAL, "abar[1] = nan is not finite" },
        { { 0.9, INFINITY, 0.1 }, RG_EINVAL, "abar[1]" },
        { { 1.2, 0.5, 0.1 }, RG_EINVAL, "abar[0] = 1.2" },
        { { 1.0, 0.5, 0.1 }, RG_EINVAL, "outside (0, 1)" },
        { { 0.9, 0.5, 0.0 }, RG_EINVAL, "abar[2] = 0" },
        { { 0.9, 0.5, -0.1 }, RG_EINVAL, "abar[2]" },
        { { 0.9, 0.5, 0.5 }, RG_EDOM, "abar[2] = 0.5 is not below abar[1] = 0.5" },
        { { 0.5, 0.9, 0.1 }, RG_EDOM, "abar[1] = 0.9" },
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        s = (rg_noise *)&s;
        rg_expect_fail(rg_noise_table(3, bad[c].a, &s), bad[c].want, bad[c].frag);
        assert_null(s);
    }
    /* two abar one ulp apart near 1e-300: log cannot separate them (spacing 1.1e-13 at |log| = 690) */
    assert_true(-0.5 * log(tiny) == -0.5 * log(tiny2));
    const double same_t[2] = { tiny, tiny2 };
    rg_expect_fail(rg_noise_table(2, same_t, &s), RG_EDOM, "same time");
    rg_expect_fail(rg_noise_table(0, a, &s), RG_EINVAL, "K = 0");
    rg_expect_fail(rg_noise_table((size_t)RG_NOISE_MAX_STEPS + 1, a, &s), RG_EINVAL, "K = ");
    rg_expect_fail(rg_noise_table(3, NULL, &s), RG_EINVAL, "NULL");
    rg_noise_free(NULL);
}

/* ---- files ----------------------------------------------------------------------------------------- */

typedef struct {
    char dir[64], path[128];
} tmpdir;

static void tmp_make(tmpdir *d)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/rg_test_noise_XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->path, sizeof d->path, "%s/schedule.txt", d->dir);
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

static void test_read(void **state)
{
    (void)state;
    tmpdir d;
    tmp_make(&d);
    rg_noise *s = NULL, *ref = NULL;
    /* comments, blank lines, blanks around values, CRLF, no final newline */
    write_text(d.path, "# alphas_cumprod of a model\n\n  0.99\n0.9\t\r\n   # halfway\n5e-1\n0.1");
    assert_int_equal(rg_noise_read(d.path, &s), RG_OK);
    const double a[4] = { 0.99, 0.9, 0.5, 0.1 };
    assert_int_equal(rg_noise_table(4, a, &ref), RG_OK);
    assert_int_equal(rg_noise_steps(s), 4);
    for (size_t k = 0; k < 4; k++) {
        assert_true(rg_noise_abar(s, k) == rg_noise_abar(ref, k));
        assert_true(rg_noise_time(s, k) == rg_noise_time(ref, k));
    }
    rg_noise_free(s);
    rg_noise_free(ref);
    /* the default ddpm-linear schedule written with %.17g reads back bit for bit */
    ref = linear_default();
    FILE *f = fopen(d.path, "w");
    assert_non_null(f);
    for (size_t k = 0; k < 1000; k++) fprintf(f, "%.17g\n", rg_noise_abar(ref, k));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rg_noise_read(d.path, &s), RG_OK);
    for (size_t k = 0; k < 1000; k++) assert_true(rg_noise_abar(s, k) == rg_noise_abar(ref, k));
    rg_noise_free(s);
    rg_noise_free(ref);

    /* bad content: RG_EFORMAT or the table's status, each naming the line */
    static const struct { const char *text; int want; const char *frag; } bad[] = {
        { "0.9\n0.5 0.4\n", RG_EFORMAT, ":2: want one number" },
        { "0.9\nabc\n", RG_EFORMAT, ":2: want one number (abar) per line, got 'abc'" },
        { "0.9\n0.5 # half\n", RG_EFORMAT, ":2:" },
        { "# nothing\n\n", RG_EFORMAT, "no schedule values" },
        { "", RG_EFORMAT, "no schedule values" },
        { "0.9\n\n0.95\n", RG_EDOM, ":3: abar[1] = 0.94999999999999996 is not below abar[0]" },
        { "0.9\nnan\n", RG_EFORMAT, ":2: want one number (abar) per line, got 'nan'" }, /* decimal only */
        { "0.9\n0x1p-1\n", RG_EFORMAT, ":2: want one number (abar) per line, got '0x1p-1'" },
        { "0.9\n1.5\n", RG_EINVAL, ":2: abar[1] = 1.5 is outside (0, 1)" },
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        write_text(d.path, bad[c].text);
        s = (rg_noise *)&s;
        rg_expect_fail(rg_noise_read(d.path, &s), bad[c].want, bad[c].frag);
        assert_null(s);
    }
    write_bytes(d.path, "0.9\n0.\0005\n", 9); /* "0.9\n0.", NUL, "5\n" */
    rg_expect_fail(rg_noise_read(d.path, &s), RG_EFORMAT, ":2: NUL byte");
    char longline[400];
    memset(longline, ' ', sizeof longline);
    memcpy(longline + 390, "0.5\n", 4);
    write_bytes(d.path, longline, 394);
    rg_expect_fail(rg_noise_read(d.path, &s), RG_EFORMAT, ":1: line longer than 255");
    /* the cap on the number of values (RG_NOISE_MAX_STEPS in rg_noise_read), here 3 */
    write_text(d.path, "0.9\n0.8\n0.7\n");
    assert_int_equal(rg__noise_read_max(d.path, 3, &s), RG_OK);
    rg_noise_free(s);
    write_text(d.path, "0.9\n0.8\n0.7\n0.6\n");
    rg_expect_fail(rg__noise_read_max(d.path, 3, &s), RG_EFORMAT, ":4: more than 3 schedule values");
    assert_null(s);
    assert_int_equal(remove(d.path), 0);

    /* not a regular file: refused before any read, so a FIFO with no writer cannot hang the test */
    rg_expect_fail(rg_noise_read(d.path, &s), RG_EIO, "cannot open for reading");
    assert_int_equal(mkfifo(d.path, 0600), 0);
    rg_expect_fail(rg_noise_read(d.path, &s), RG_EIO, "is not a regular file (a FIFO)");
    assert_null(s);
    assert_int_equal(remove(d.path), 0);
    rg_expect_fail(rg_noise_read(d.dir, &s), RG_EIO, "is not a regular file (a directory)");
    rg_expect_fail(rg_noise_read("/dev/null", &s), RG_EIO, "is not a regular file (a character device)");
    rg_expect_fail(rg_noise_read(NULL, &s), RG_EINVAL, "NULL");
    assert_int_equal(rmdir(d.dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_pinned), cmocka_unit_test(test_step_lookup),
        cmocka_unit_test(test_linear_general), cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_table),         cmocka_unit_test(test_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
