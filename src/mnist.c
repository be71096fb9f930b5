/* IDX files (plain or gzip), MNIST / Fashion-MNIST splits and the preprocessing of docs/math.md 10.2.
 * Contracts: include/regimes/mnist.h. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "internal.h"
#include "mnist_internal.h"
#include "regimes/mnist.h"

/* gzread chunk: below INT_MAX (gzread's return type), large enough to amortise the calls. */
#define MNIST_CHUNK (1u << 22)

/* ---- parsing a buffer ------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void rg_mnist_free(rg_mnist_raw *m)
{
    if (!m) return;
    free(m->pixels);
    free(m->labels);
    free(m);
}

/* Header of ndim dims after the magic: check the magic, the bounds and the exact file size.
 * dims: (ndim) out; *count: product of dims out. */
static int idx_header(const unsigned char *b, size_t len, const char *name, uint32_t magic, int ndim,
                      uint32_t *dims, size_t *count)
{
    size_t head = 4 + 4 * (size_t)ndim;
    if (len < 4) RG_FAIL(RG_EFORMAT, "%s: %zu bytes, too short for an IDX magic", name, len);
    uint32_t got = be32(b);
    if (got != magic)
        RG_FAIL(RG_EFORMAT, "%s: IDX magic %u, want %u (%s)", name, (unsigned)got, (unsigned)magic,
                magic == RG_MNIST_MAGIC_IMAGES ? "images" : "labels");
    if (len < head) RG_FAIL(RG_EFORMAT, "%s: truncated IDX header (%zu of %zu bytes)", name, len, head);
    size_t n = 1;
    for (int k = 0; k < ndim; k++) {
        dims[k] = be32(b + 4 + 4 * k);
        uint32_t hi = k == 0 ? RG_MNIST_MAX_N : RG_MNIST_MAX_SIDE;
        if (dims[k] == 0 || dims[k] > hi)
            RG_FAIL(RG_EFORMAT, "%s: IDX dimension %d is %u, want 1..%u", name, k, (unsigned)dims[k],
                    (unsigned)hi);
        n *= dims[k]; /* <= 1e7 * 4096^2 < 2^64: no overflow on 64-bit size_t */
    }
    size_t want = head + n;
    if (len < want)
        RG_FAIL(RG_EFORMAT, "%s: truncated: %zu bytes, the header announces %zu", name, len, want);
    if (len > want)
        RG_FAIL(RG_EFORMAT, "%s: %zu trailing bytes after the %zu the header announces", name,
                len - want, want);
    *count = n;
    return RG_OK;
}

int rg_mnist_parse_images(const void *buf, size_t len, const char *name, rg_mnist_raw **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_parse_images: out is NULL");
    *out = NULL;
    if (!buf && len) RG_FAIL(RG_EINVAL, "rg_mnist_parse_images: buffer is NULL");
    if (!name) name = "(buffer)";
    uint32_t d[3] = {0, 0, 0};
    size_t n = 0;
    RG_TRY(idx_header(buf, len, name, RG_MNIST_MAGIC_IMAGES, 3, d, &n));
    rg_mnist_raw *m = calloc(1, sizeof *m);
    if (m) m->pixels = malloc(n);
    if (!m || !m->pixels) {
        rg_mnist_free(m);
        RG_FAIL(RG_ENOMEM, "%s: out of memory for %zu pixels", name, n);
    }
    memcpy(m->pixels, (const unsigned char *)buf + 16, n);
    m->n = d[0];
    m->rows = d[1];
    m->cols = d[2];
    *out = m;
    return RG_OK;
}

int rg_mnist_parse_labels(const void *buf, size_t len, const char *name, rg_mnist_raw **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_parse_labels: out is NULL");
    *out = NULL;
    if (!buf && len) RG_FAIL(RG_EINVAL, "rg_mnist_parse_labels: buffer is NULL");
    if (!name) name = "(buffer)";
    uint32_t d[1] = {0};
    size_t n = 0;
    RG_TRY(idx_header(buf, len, name, RG_MNIST_MAGIC_LABELS, 1, d, &n));
    const unsigned char *v = (const unsigned char *)buf + 8;
    for (size_t i = 0; i < n; i++)
        if (v[i] > 9) RG_FAIL(RG_EFORMAT, "%s: label %zu is %u, want 0..9", name, i, (unsigned)v[i]);
    rg_mnist_raw *m = calloc(1, sizeof *m);
    if (m) m->labels = malloc(n);
    if (!m || !m->labels) {
        rg_mnist_free(m);
        RG_FAIL(RG_ENOMEM, "%s: out of memory for %zu labels", name, n);
    }
    memcpy(m->labels, v, n);
    m->n = n;
    *out = m;
    return RG_OK;
}

/* ---- reading files (plain or gzip) -------------------------------------------------------------- */

/* What the IDX header at the start of b (n bytes so far) announces for a file of the given magic: the
 * bytes in all, header included; 0 while the header is incomplete; 1 when the header is wrong (another
 * magic, a dimension out of bounds): reading can stop, the parser names the defect. */
static size_t idx_announced(const unsigned char *b, size_t n, uint32_t magic)
{
    const int ndim = magic == RG_MNIST_MAGIC_IMAGES ? 3 : 1;
    const size_t head = 4 + 4 * (size_t)ndim;
    if (n >= 4 && be32(b) != magic) return 1;
    if (n < head) return 0;
    size_t total = 1;
    for (int k = 0; k < ndim; k++) {
        const uint32_t d = be32(b + 4 + 4 * k);
        if (d == 0 || d > (k == 0 ? RG_MNIST_MAX_N : RG_MNIST_MAX_SIDE)) return 1;
        total *= d; /* <= 1e7 * 4096^2 < 2^64 */
    }
    return head + total;
}

/* The whole decompressed content of path (plain or gzip; a regular file only: a FIFO or a device is
 * refused before anything is read), an IDX file of the given magic. Reading stops one byte past the size
 * its header announces (or right after a wrong header), so a small gzip file cannot inflate beyond what
 * its header declares. *buf owned by the caller. */
static int slurp(const char *path, uint32_t magic, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *plain;
    RG_TRY(rg__open_regular(path, &plain, NULL));
    const int fd = dup(fileno(plain));
    fclose(plain);
    gzFile f = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        RG_FAIL(RG_EIO, "%s: cannot open for reading", path);
    }
    size_t cap = 0, n = 0, limit = (size_t)-1;
    unsigned char *b = NULL;
    int st = RG_OK;
    for (;;) {
        const size_t want = limit == (size_t)-1 ? idx_announced(b, n, magic) : 0;
        if (want == 1) break; /* a wrong header: the parser reports it */
        if (want) limit = want;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            if (limit != (size_t)-1 && ncap > limit + 1) ncap = limit + 1 > cap ? limit + 1 : cap + 1;
            unsigned char *nb = realloc(b, ncap);
            if (!nb) {
                st = rg__fail(RG_ENOMEM, __FILE__, __LINE__, "%s: out of memory after %zu bytes", path, n);
                break;
            }
            b = nb;
            cap = ncap;
        }
        size_t ask = cap - n < MNIST_CHUNK ? cap - n : MNIST_CHUNK;
        int r = gzread(f, b + n, (unsigned)ask);
        if (r < 0) {
            int err;
            const char *msg = gzerror(f, &err);
            st = rg__fail(err == Z_ERRNO ? RG_EIO : RG_EFORMAT, __FILE__, __LINE__,
                          "%s: %s after %zu bytes", path, err == Z_ERRNO ? "read error" : msg, n);
            break;
        }
        n += (size_t)r;
        if (r == 0) break;
        if (limit != (size_t)-1 && n > limit) {
            st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: trailing bytes after the %zu bytes its IDX header announces",
                          path, limit);
            break;
        }
    }
    if (st == RG_OK) {
        int err;
        const char *msg = gzerror(f, &err);
        if (err != Z_OK && err != Z_STREAM_END)
            st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: corrupt gzip stream (%s)", path, msg);
    }
    gzclose(f);
    if (st != RG_OK) {
        free(b);
        return st;
    }
    *buf = b;
    *len = n;
    return RG_OK;
}

int rg_mnist_read_images(const char *path, rg_mnist_raw **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_read_images: out is NULL");
    *out = NULL;
    if (!path) RG_FAIL(RG_EINVAL, "rg_mnist_read_images: path is NULL");
    unsigned char *b = NULL;
    size_t n = 0;
    RG_TRY(slurp(path, RG_MNIST_MAGIC_IMAGES, &b, &n));
    int st = rg_mnist_parse_images(b, n, path, out);
    free(b);
    return st;
}

int rg_mnist_read_labels(const char *path, rg_mnist_raw **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_read_labels: out is NULL");
    *out = NULL;
    if (!path) RG_FAIL(RG_EINVAL, "rg_mnist_read_labels: path is NULL");
    unsigned char *b = NULL;
    size_t n = 0;
    RG_TRY(slurp(path, RG_MNIST_MAGIC_LABELS, &b, &n));
    int st = rg_mnist_parse_labels(b, n, path, out);
    free(b);
    return st;
}

int rg_mnist_read_pair(const char *images_path, const char *labels_path, rg_mnist_raw **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_read_pair: out is NULL");
    *out = NULL;
    rg_mnist_raw *im, *lb;
    RG_TRY(rg_mnist_read_images(images_path, &im));
    int st = rg_mnist_read_labels(labels_path, &lb);
    if (st != RG_OK) {
        rg_mnist_free(im);
        return st;
    }
    if (im->n != lb->n) {
        st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: %zu images but %s has %zu labels",
                      images_path, im->n, labels_path, lb->n);
        rg_mnist_free(im);
        rg_mnist_free(lb);
        return st;
    }
    im->labels = lb->labels;
    lb->labels = NULL;
    rg_mnist_free(lb);
    *out = im;
    return RG_OK;
}

/* dir/name, or dir/name.gz when the plain file does not exist (whatever kind of file it is: the reader
 * refuses anything but a regular file, without opening it). buf: out, size cap. */
static int pick_path(const char *dir, const char *name, char *buf, size_t cap)
{
    int k = snprintf(buf, cap, "%s/%s", dir, name);
    if (k < 0 || (size_t)k + 4 >= cap) RG_FAIL(RG_EINVAL, "rg_mnist_load: directory name too long");
    struct stat sb;
    if (stat(buf, &sb) == 0) return RG_OK;
    strcat(buf, ".gz");
    if (stat(buf, &sb) != 0) RG_FAIL(RG_EIO, "%s/%s: cannot open (nor %s.gz)", dir, name, name);
    return RG_OK;
}

int rg_mnist_load(const char *dir, rg_mnist_split split, rg_mnist_raw **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_load: out is NULL");
    *out = NULL;
    if (!dir) RG_FAIL(RG_EINVAL, "rg_mnist_load: directory is NULL");
    if (split != RG_MNIST_TRAIN && split != RG_MNIST_TEST)
        RG_FAIL(RG_EINVAL, "rg_mnist_load: split %d, want RG_MNIST_TRAIN or RG_MNIST_TEST", (int)split);
    const char *pre = split == RG_MNIST_TRAIN ? "train" : "t10k";
    char name[32], ip[4096], lp[4096];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", pre);
    RG_TRY(pick_path(dir, name, ip, sizeof ip));
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", pre);
    RG_TRY(pick_path(dir, name, lp, sizeof lp));
    rg_mnist_raw *m;
    RG_TRY(rg_mnist_read_pair(ip, lp, &m));
    if (m->rows != 28 || m->cols != 28) {
        int st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: %zux%zu images, want 28x28", ip, m->rows,
                          m->cols);
        rg_mnist_free(m);
        return st;
    }
    *out = m;
    return RG_OK;
}

/* ---- preprocessing (docs/math.md 10.2) ---------------------------------------------------------------- */

/* Per-pixel mean of X (P, N) in double, rows in order, subtracted in place; mean: (N) scratch/out. */
static void center_rows(float *X, size_t P, size_t N, double *mean)
{
    memset(mean, 0, N * sizeof *mean);
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < N; i++) mean[i] += (double)X[p * N + i];
    for (size_t i = 0; i < N; i++) mean[i] /= (double)P;
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < N; i++) X[p * N + i] = (float)((double)X[p * N + i] - mean[i]);
}

void rg_mnist__scale(const uint8_t *px, size_t n, float *x)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(px[i] / 255.0);
}

int rg_mnist__finish(rg_data_set *s, size_t rows, size_t N, int center, double *mean)
{
    if (!center) return RG_OK;
    double *m = mean ? mean : malloc(N * sizeof *m);
    if (!m) RG_FAIL(RG_ENOMEM, "out of memory for a mean of %zu pixels", N);
    center_rows(s->X, rows, N, m);
    if (!mean) free(m);
    return RG_OK;
}

int rg_mnist_select(const rg_mnist_raw *m, const int *classes, size_t n_classes, size_t n_per_class,
                    int center, double *mean, rg_data_set **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_select: out is NULL");
    *out = NULL;
    if (!m || !m->pixels || !m->labels) RG_FAIL(RG_EINVAL, "rg_mnist_select: need images and labels");
    if (!classes || n_classes == 0 || n_classes > 10)
        RG_FAIL(RG_EINVAL, "rg_mnist_select: %zu classes, want 1..10", n_classes);
    size_t have[10] = {0}, P = 0;
    int seen[10] = {0};
    for (size_t i = 0; i < m->n; i++) have[m->labels[i]]++;
    for (size_t c = 0; c < n_classes; c++) {
        int k = classes[c];
        if (k < 0 || k > 9) RG_FAIL(RG_EINVAL, "rg_mnist_select: class %d, want 0..9", k);
        if (seen[k]++) RG_FAIL(RG_EINVAL, "rg_mnist_select: class %d listed twice", k);
        if (n_per_class && have[k] < n_per_class)
            RG_FAIL(RG_EDOM, "rg_mnist_select: class %d has %zu images, want %zu", k, have[k], n_per_class);
        P += n_per_class ? n_per_class : have[k];
    }
    if (P == 0) RG_FAIL(RG_EDOM, "rg_mnist_select: no image of the requested classes");
    size_t N = m->rows * m->cols;
    rg_data_set *s;
    RG_TRY(rg_data_set_new(P, N, 1, &s));
    size_t row = 0;
    for (size_t c = 0; c < n_classes; c++) {
        size_t want = n_per_class ? n_per_class : have[classes[c]], got = 0;
        for (size_t i = 0; i < m->n && got < want; i++) {
            if (m->labels[i] != classes[c]) continue;
            rg_mnist__scale(m->pixels + i * N, N, s->X + row * N);
            s->labels[row++] = classes[c];
            got++;
        }
    }
    RG_ASSERT(row == P);
    int st = rg_mnist__finish(s, P, N, center, mean);
    if (st != RG_OK) {
        rg_data_set_free(s);
        return st;
    }
    *out = s;
    return RG_OK;
}

int rg_mnist_to_set(const rg_mnist_raw *m, int center, double *mean, rg_data_set **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_to_set: out is NULL");
    *out = NULL;
    if (!m || !m->pixels) RG_FAIL(RG_EINVAL, "rg_mnist_to_set: no images");
    size_t N = m->rows * m->cols;
    rg_data_set *s;
    RG_TRY(rg_data_set_new(m->n, N, m->labels != NULL, &s));
    rg_mnist__scale(m->pixels, m->n * N, s->X);
    if (m->labels)
        for (size_t i = 0; i < m->n; i++) s->labels[i] = m->labels[i];
    int st = rg_mnist__finish(s, m->n, N, center, mean);
    if (st != RG_OK) {
        rg_data_set_free(s);
        return st;
    }
    *out = s;
    return RG_OK;
}
