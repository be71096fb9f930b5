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

/* Helpers for the file-safety tests: a file with given bytes, and its content back. */
static void put_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static size_t get_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Outputs are absent or regular files (issue 16 B1): a FIFO, a symbolic link or a directory at the path
 * is refused with RG_EINVAL and left as it was (the link's target untouched, nothing created beside
 * it); a regular PATH.tmp left by a killed writer is replaced, a FIFO at PATH.tmp refused (never opened:
 * opening a FIFO for writing would block). */
static void test_output_kinds(void **state)
{
    (void)state;
    char fifo[256], link[256], target[256], tmp[300], buf[64];
    snprintf(fifo, sizeof fifo, "%s/out.fifo", dir);
    snprintf(link, sizeof link, "%s/out.link", dir);
    snprintf(target, sizeof target, "%s/target", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    put_file(target, "keep", 4);
    assert_int_equal(symlink(target, link), 0);
    const char *h[] = { "x [1]" };
    double d[] = { 1 };
    rg_expect_fail(rg_io_text_write(fifo, "x", 1), RG_EINVAL, "is a FIFO, not a regular file");
    rg_expect_fail(rg_io_csv_write(link, 1, h, 1, d), RG_EINVAL, "is a symbolic link, not a regular file");
    rg_expect_fail(rg_io_text_write(dir, "x", 1), RG_EINVAL, "is a directory, not a regular file");
    float img[4] = { 0, 1, 0, 1 };
    rg_expect_fail(rg_io_png_grid(fifo, 1, 2, 2, img, 1, 0, 1), RG_EINVAL, "is a FIFO");
    assert_int_equal(get_file(target, buf, sizeof buf), 4);
    snprintf(tmp, sizeof tmp, "%s.tmp", link);
    assert_false(exists(tmp));
    /* a stale regular PATH.tmp is replaced; a FIFO there is refused */
    char path[256];
    snprintf(path, sizeof path, "%s/t.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    put_file(tmp, "stale", 5);
    assert_int_equal(rg_io_text_write(path, "new", 3), RG_OK);
    assert_int_equal(get_file(path, buf, sizeof buf), 3);
    assert_false(exists(tmp));
    assert_int_equal(mkfifo(tmp, 0600), 0);
    rg_expect_fail(rg_io_text_write(path, "x", 1), RG_EINVAL, "t.json.tmp: exists and is a FIFO");
    assert_int_equal(get_file(path, buf, sizeof buf), 3);
    remove(tmp), remove(fifo), remove(link), remove(target), remove(path);
}

/* The one decimal syntax (issue 16 B9): the length of the number at the start of the string. */
static void test_real_len(void **state)
{
    (void)state;
    static const struct { const char *s; size_t len; } cases[] = {
        { "1", 1 }, { "-2.5", 4 }, { "+.5", 3 }, { "5.", 2 }, { "1e-3", 4 }, { "6.02E+23", 8 }, { "1e", 1 },
        { "1e+", 1 }, { "2x", 1 }, { "0x1p3", 1 }, { "inf", 0 }, { "-nan", 0 }, { ".", 0 }, { "+", 0 }, { "e5", 0 },
        { " 1", 0 }, { "", 0 }, { "0.25 0.5", 4 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (rg_io_real_len(cases[i].s) != cases[i].len)
            fail_msg("rg_io_real_len(\"%s\") = %zu, want %zu", cases[i].s, rg_io_real_len(cases[i].s), cases[i].len);
    assert_int_equal(rg_io_real_len(NULL), 0);
}

/* Text matrices and vectors: comments and blank lines skipped, exact values; every defect one line
 * naming the path and line; sizes capped by max_n (the file is refused from its size before it is read). */
static void test_matrix_read(void **state)
{
    (void)state;
    char path[256];
    size_t n = 0;
    double *A = NULL;
    snprintf(path, sizeof path, "%s/m.txt", dir);
    put_file(path, "# U\n2 -0.5\n\n  -0.5\t1e-1 \n", 25);
    assert_int_equal(rg_io_matrix_read(path, 2, &n, &A), RG_OK);
    assert_int_equal(n, 2);
    assert_true(A[0] == 2 && A[1] == -0.5 && A[2] == -0.5 && A[3] == 0.1);
    free(A);
    assert_int_equal(rg_io_vector_read(path, 4, &n, &A), RG_OK);
    assert_int_equal(n, 4);
    free(A);
    rg_expect_fail(rg_io_matrix_read(path, 1, &n, &A), RG_EFORMAT, "m.txt:2: more than 1 numbers on a line");
    rg_expect_fail(rg_io_vector_read(path, 3, &n, &A), RG_EFORMAT, "m.txt:4: more than 3 numbers");
    static const struct { const char *text; size_t len; const char *msg; } bad[] = {
        { "1 0\n0 0x1p0\n", 12, "m.txt:2: '0x1p0' is not a finite number (decimal notation)" },
        { "1 0\n0 1\0 5\n", 11, "m.txt:2: NUL byte" },
        { "1 0\n0 nan\n", 10, "'nan' is not a finite number" },
        { "1 0\n0 1e999\n", 12, "'1e999' is not a finite number" },
        { "1 0 0\n0 1\n", 10, "m.txt:2: 2 numbers, want 3 like the first row" },
        { "1 0\n", 4, "1 rows of 2 numbers, want a square matrix" },
        { "# nothing\n\n", 11, "holds no numbers" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        put_file(path, bad[i].text, bad[i].len);
        A = NULL;
        rg_expect_fail(rg_io_matrix_read(path, 8, &n, &A), RG_EFORMAT, bad[i].msg);
        assert_null(A);
    }
    /* size cap: 3 x 3 numbers of at most 64 characters, plus 1 MiB of comments */
    assert_int_equal(truncate(path, 9 * 64 + (1 << 20) + 1), 0);
    rg_expect_fail(rg_io_matrix_read(path, 3, &n, &A), RG_EFORMAT, "1049153 bytes, more than a square matrix of at most 3 needs");
    rg_expect_fail(rg_io_matrix_read("/dev/zero", 3, &n, &A), RG_EIO, "is not a regular file (a character device)");
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/m.fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    rg_expect_fail(rg_io_vector_read(fifo, 3, &n, &A), RG_EIO, "is not a regular file (a FIFO)");
    assert_int_equal(rg_io_matrix_read(path, 0, &n, &A), RG_EINVAL);
    remove(fifo), remove(path);
}

/* A directory committed as a whole: the manifest verifies, then detects a changed, a missing file and a
 * missing manifest; it is what sha256sum writes (checked against rg_io_sha256 of the bytes). */
static void test_manifest(void **state)
{
    (void)state;
    char sub[256], path[300], line[200], hex[65];
    snprintf(sub, sizeof sub, "%s/run", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/a.csv", sub);
    put_file(path, "x\n1\n", 4);
    snprintf(path, sizeof path, "%s/meta.json", sub);
    put_file(path, "{}\n", 3);
    const char *names[] = { "a.csv", "meta.json" };
    size_t n = 0;
    rg_expect_fail(rg_io_manifest_check(sub, &n), RG_EIO, "not committed");
    assert_int_equal(rg_io_manifest_write(sub, names, 2), RG_OK);
    assert_int_equal(rg_io_manifest_check(sub, &n), RG_OK);
    assert_int_equal(n, 2);
    snprintf(path, sizeof path, "%s/" RG_IO_MANIFEST, sub);
    assert_int_equal(get_file(path, line, sizeof line), 2 * (64 + 2) + 6 + 10);
    rg_io_sha256("x\n1\n", 4, hex);
    assert_memory_equal(line, hex, 64);
    assert_memory_equal(line + 64, "  a.csv\n", 8);
    snprintf(path, sizeof path, "%s/a.csv", sub);
    put_file(path, "x\n2\n", 4);
    rg_expect_fail(rg_io_manifest_check(sub, &n), RG_EFORMAT, "a.csv: its sha256 differs");
    remove(path);
    rg_expect_fail(rg_io_manifest_check(sub, &n), RG_EFORMAT, "a.csv: listed in manifest.sha256 but missing");
    rg_expect_fail(rg_io_manifest_write(sub, names, 2), RG_EIO, "a.csv");
    const char *slash[] = { "../a.csv" };
    assert_int_equal(rg_io_manifest_write(sub, slash, 1), RG_EINVAL);
    assert_int_equal(rg_io_manifest_remove(sub), RG_OK);
    assert_int_equal(rg_io_manifest_remove(sub), RG_OK); /* absent: nothing to do */
    rg_expect_fail(rg_io_manifest_check(sub, &n), RG_EIO, "not committed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv), cmocka_unit_test(test_unwritable), cmocka_unit_test(test_text),
        cmocka_unit_test(test_png_grid), cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_plot), cmocka_unit_test(test_output_kinds), cmocka_unit_test(test_real_len),
        cmocka_unit_test(test_matrix_read), cmocka_unit_test(test_manifest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
