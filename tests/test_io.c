/* io: atomic CSV and text files, PNG grids read back with libpng, gnuplot plots (skipped without
 * gnuplot). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>

#include "rg_test.h"
#include "regimes/error.h"
#include "regimes/io.h"

static char dir[] = "/tmp/rg_test_io_XXXXXX";

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* CSV: header, %.17g round trip (strtod gives the same doubles), nan/inf spelled out. */
static void test_csv(void **state)
{
    (void)state;
    char path[256], tmp[300], line[512];
    snprintf(path, sizeof path, "%s/a.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    const char *h[] = { "t [time]", "phi [1]" };
    double d[] = { 0.1, 1.0 / 3.0, 1e-300, NAN, -INFINITY, 2.5 };
    assert_int_equal(rg_io_csv_write(path, 2, h, 3, d), RG_OK);
    assert_false(exists(tmp));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "t [time],phi [1]\n");
    for (int i = 0; i < 3; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        char *end, *c = strchr(line, ',');
        assert_non_null(c);
        double a = strtod(line, &end), b = strtod(c + 1, &end);
        if (isnan(d[2 * i + 1])) assert_true(isnan(b));
        else assert_true(b == d[2 * i + 1]);
        if (isinf(d[2 * i])) assert_true(isinf(a) && a < 0);
        else assert_true(a == d[2 * i]);
    }
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    const char *bad[] = { "a,b", "c" };
    assert_int_equal(rg_io_csv_write(path, 2, bad, 3, d), RG_EINVAL);
}

/* A directory that does not exist: RG_EIO naming it, and nothing left behind. */
static void test_unwritable(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/missing/b.csv", dir);
    const char *h[] = { "x [1]" };
    double d[] = { 1 };
    assert_int_equal(rg_io_csv_write(path, 1, h, 1, d), RG_EIO);
    assert_non_null(strstr(rg_strerror_last(), "missing/b.csv"));
    assert_int_equal(rg_io_text_write(path, "x", 1), RG_EIO);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/missing", dir);
    assert_false(exists(sub));
}

static void test_text(void **state)
{
    (void)state;
    char path[256], buf[64];
    snprintf(path, sizeof path, "%s/m.json", dir);
    assert_int_equal(rg_io_text_write(path, "{\"a\": 1}\n", 9), RG_OK);
    assert_int_equal(rg_io_text_write(path, "{}\n", 3), RG_OK); /* replaces it whole */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, 3);
}

/* A plot: a PNG with its signature appears, no temporary file stays. Needs gnuplot. */
static void test_plot(void **state)
{
    (void)state;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) skip();
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/p.png", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    double x[] = { 0, 1, 2 }, y[] = { 1, 0.5, 0.2 }, lo[] = { 0.9, 0.4, 0.1 }, hi[] = { 1, 0.6, 0.3 };
    rg_io_series s[2] = { { "measured", 3, x, y, lo, hi, 1 }, { "theory's", 3, x, y, NULL, NULL, 0 } };
    assert_int_equal(rg_io_plot(path, "phi(t)", "t", "phi", 2, s), RG_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    assert_false(exists(tmp));
    rg_io_series bad = { "half band", 3, x, y, lo, NULL, 1 };
    assert_int_equal(rg_io_plot(path, "t", "x", "y", 1, &bad), RG_EINVAL);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* PNG grid: 3 images of 2 x 3 pixels, 2 per row, so a 2 x 2 tiling with an empty last tile:
 * W = 2 * 3 + 1 = 7, H = 2 * 2 + 1 = 5. Expected gray levels from io.h's map with lo = -1,
 * hi = 1: round(255 clamp((v + 1) / 2, 0, 1)), computed here independently; NaN is 0. Read back
 * with libpng's simplified API, every pixel compared exactly (8-bit, lossless). */
static void test_png_grid(void **state)
{
    (void)state;
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/g.png", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    const float img[3 * 6] = { -2.0f, -1.0f, 0.0f, 0.5f, 1.0f, 3.0f,      /* clamps, midpoint 127.5 -> 128 */
                               0.25f, -0.5f, NAN, 0.1f, -0.1f, 0.9f,
                               1.0f, 1.0f, 1.0f, -1.0f, -1.0f, -1.0f };
    assert_int_equal(rg_io_png_grid(path, 3, 2, 3, img, 2, -1.0f, 1.0f), RG_OK);
    assert_false(exists(tmp));
    unsigned char want[5 * 7];
    memset(want, 0, sizeof want);
    for (size_t k = 0; k < 3; k++)
        for (size_t y = 0; y < 2; y++)
            for (size_t x = 0; x < 3; x++) {
                double v = img[k * 6 + y * 3 + x];
                v = isnan(v) ? 0.0 : (v + 1.0) / 2.0;
                v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
                want[((k / 2) * 3 + y) * 7 + (k % 2) * 4 + x] = (unsigned char)floor(255.0 * v + 0.5);
            }
    assert_int_equal(want[2], 128);  /* hand check of the map: v = 0 -> 127.5 rounds up */
    assert_int_equal(want[4 + 2], 0); /* NaN */
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&im, path));
    assert_int_equal(im.width, 7);
    assert_int_equal(im.height, 5);
    im.format = PNG_FORMAT_GRAY;
    unsigned char got[5 * 7];
    assert_int_equal(PNG_IMAGE_SIZE(im), sizeof got);
    assert_true(png_image_finish_read(&im, NULL, got, 0, NULL));
    assert_memory_equal(got, want, sizeof got);
    /* bad input: nothing written, nothing left behind */
    char bad[256];
    snprintf(bad, sizeof bad, "%s/bad.png", dir);
    assert_int_equal(rg_io_png_grid(bad, 3, 2, 3, img, 2, 1.0f, 1.0f), RG_EINVAL);
    assert_int_equal(rg_io_png_grid(bad, 0, 2, 3, img, 2, 0.0f, 1.0f), RG_EINVAL);
    assert_false(exists(bad));
    assert_int_equal(rg_io_png_grid("/nonexistent_rg_dir/x.png", 3, 2, 3, img, 2, 0.0f, 1.0f), RG_EIO);
    remove(path);
}

/* FIPS 180-4 / NIST CSRC example values (SHA256.pdf, "SHA-2 examples"): "", "abc", the 448-bit
 * "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" (two blocks: padding crosses a block)
 * and a million 'a' (fed through the file reader, in 64 KiB reads). */
static void test_sha256(void **state)
{
    (void)state;
    char hex[65];
    rg_io_sha256("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    rg_io_sha256("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    rg_io_sha256(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char path[] = "/tmp/rg_test_sha_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char a[1000];
    memset(a, 'a', sizeof a);
    for (int i = 0; i < 1000; i++) assert_int_equal(write(fd, a, sizeof a), (long)sizeof a);
    close(fd);
    assert_int_equal(rg_io_sha256_file(path, hex), RG_OK);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    remove(path);
    assert_int_equal(rg_io_sha256_file("/tmp", hex), RG_EIO); /* a directory is not a regular file */
    assert_int_equal(rg_io_sha256_file("/nonexistent/x", hex), RG_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv), cmocka_unit_test(test_unwritable), cmocka_unit_test(test_text),
        cmocka_unit_test(test_png_grid), cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_plot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
