/* Training sets as .npy files: read a (P, N) float32/float64 C-order array, write float32 atomically;
 * read a (P,) integer array of labels. Only regular files are opened, and the file's length must be
 * exactly what the header announces before anything is allocated or read.
 * Format: numpy NEP 1 / numpy.lib.format, versions 1.0 (uint16 header length) and 2.0/3.0 (uint32).
 * Values are assembled from little-endian bytes, so the host's byte order does not matter.
 * Contracts: include/regimes/data.h. */
#define _POSIX_C_SOURCE 200809L /* fseeko */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "regimes/data.h"

/* numpy writes headers of a few hundred bytes; anything near this is not a (P, N) array header. */
#define NPY_HEADER_MAX 65536

/* ---- header parsing ---------------------------------------------------------------------------- */

/* The text after 'key': in the header dict, blanks skipped; NULL if the key is absent. */
static const char *npy_value(const char *h, const char *key)
{
    const char *p = strstr(h, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

/* Parse "(a, b)" into dims; returns the number of dimensions (0..3 distinguished), -1 if malformed. */
static int npy_shape(const char *p, uint64_t dims[3])
{
    if (*p++ != '(') return -1;
    int nd = 0;
    for (;;) {
        while (*p == ' ') p++;
        if (*p == ')') return nd;
        char *end;
        if (*p < '0' || *p > '9') return -1;
        unsigned long long v = strtoull(p, &end, 10);
        if (nd < 3) dims[nd] = (uint64_t)v;
        nd++;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',') p++;
        else if (*p != ')') return -1;
    }
}

/* The header dict: descr (copied, quotes included, at most 15 characters), C order, the shape. */
typedef struct {
    char descr[16];
    int nd;           /* number of dimensions */
    uint64_t dims[3]; /* the first three */
    uint64_t start;   /* bytes before the data: magic, version, length field, header */
} npy_header;

static int npy_parse_header(const char *path, const char *h, npy_header *hd)
{
    const char *d = npy_value(h, "'descr'"), *f = npy_value(h, "'fortran_order'"), *s = npy_value(h, "'shape'");
    if (!d || !f || !s) RG_FAIL(RG_EFORMAT, "%s: .npy header lacks descr, fortran_order or shape", path);
    const char *q = *d == '\'' ? strchr(d + 1, '\'') : NULL; /* the closing quote */
    size_t n = q ? (size_t)(q - d) + 1 : strcspn(d, ",}");
    if (n > sizeof hd->descr - 1) n = sizeof hd->descr - 1;
    memcpy(hd->descr, d, n);
    hd->descr[n] = '\0';
    if (!strncmp(f, "True", 4)) RG_FAIL(RG_EFORMAT, "%s: Fortran-order array, want C order", path);
    if (strncmp(f, "False", 5)) RG_FAIL(RG_EFORMAT, "%s: malformed fortran_order in .npy header", path);
    hd->dims[0] = hd->dims[1] = hd->dims[2] = 0;
    hd->nd = npy_shape(s, hd->dims);
    if (hd->nd < 0) RG_FAIL(RG_EFORMAT, "%s: malformed shape in .npy header", path);
    return RG_OK;
}

/* Magic, version, header length and header text (NUL-terminated into h of NPY_HEADER_MAX + 1);
 * *start = the offset of the data. */
static int npy_read_header(FILE *f, const char *path, char *h, uint64_t *start)
{
    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0)
        RG_FAIL(RG_EFORMAT, "%s: not a .npy file (bad magic)", path);
    if (pre[6] < 1 || pre[6] > 3) RG_FAIL(RG_EFORMAT, "%s: .npy version %d.%d is not supported", path, pre[6], pre[7]);
    size_t nlen = pre[6] == 1 ? 2 : 4, hl = 0;
    if (fread(pre + 8, 1, nlen, f) != nlen) RG_FAIL(RG_EFORMAT, "%s: truncated .npy header", path);
    for (size_t i = 0; i < nlen; i++) hl |= (size_t)pre[8 + i] << (8 * i);
    if (hl == 0 || hl > NPY_HEADER_MAX) RG_FAIL(RG_EFORMAT, "%s: implausible .npy header length %zu", path, hl);
    if (fread(h, 1, hl, f) != hl) RG_FAIL(RG_EFORMAT, "%s: truncated .npy header", path);
    h[hl] = '\0';
    if (strlen(h) != hl || h[hl - 1] != '\n') RG_FAIL(RG_EFORMAT, "%s: malformed .npy header", path);
    *start = 8 + nlen + hl;
    return RG_OK;
}

/* Open path (a regular file only: rg__open_regular refuses FIFOs, devices and directories before any
 * read), read and parse the header. *size = the file's length. On failure *f is NULL. */
static int npy_open(const char *path, FILE **f, unsigned long long *size, npy_header *hd)
{
    RG_TRY(rg__open_regular(path, f, size));
    char *h = malloc(NPY_HEADER_MAX + 1);
    int st = h ? npy_read_header(*f, path, h, &hd->start)
               : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "out of memory for a .npy header");
    if (st == RG_OK) st = npy_parse_header(path, h, hd);
    free(h);
    if (st != RG_OK) {
        fclose(*f);
        *f = NULL;
    }
    return st;
}

/* The data must fill the file exactly: checked from its length before anything is allocated (a
 * 100-byte file announcing (1e8, 1000) must not ask for 400 GB first; found by tests/hardening.sh),
 * so the reads below never go beyond what the header declares. */
static int npy_check_size(const char *path, const npy_header *hd, unsigned long long size, uint64_t count,
                          size_t elt)
{
    unsigned long long left = size > hd->start ? size - hd->start : 0, want = (unsigned long long)count * elt;
    char shape[48];
    if (hd->nd == 2) snprintf(shape, sizeof shape, "%" PRIu64 " x %" PRIu64, hd->dims[0], hd->dims[1]);
    else snprintf(shape, sizeof shape, "%" PRIu64, count);
    if (left < want)
        RG_FAIL(RG_EFORMAT, "%s: truncated data: the header announces %s values of %zu bytes, "
                "the file holds %llu bytes after it", path, shape, elt, left);
    if (left > want)
        RG_FAIL(RG_EFORMAT, "%s: %llu trailing bytes after the %" PRIu64 " values the header announces", path,
                left - want, count);
    return RG_OK;
}

/* ---- data ---------------------------------------------------------------------------------------- */

static double npy_value_le(const unsigned char *b, size_t elt)
{
    uint64_t u = 0;
    for (size_t i = 0; i < elt; i++) u |= (uint64_t)b[i] << (8 * i);
    if (elt == 4) {
        uint32_t w = (uint32_t)u;
        float x;
        memcpy(&x, &w, sizeof x);
        return (double)x;
    }
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* One row of N values (elt bytes each) from f into x, rounded to float32; row p of P names it in messages. */
static int npy_row(FILE *f, const char *path, size_t elt, size_t N, unsigned char *buf, size_t p, size_t P, float *x)
{
    if (fread(buf, 1, N * elt, f) != N * elt)
        RG_FAIL(RG_EFORMAT, "%s: truncated data at row %zu of %zu", path, p, P);
    for (size_t i = 0; i < N; i++) {
        double v = npy_value_le(buf + i * elt, elt);
        if (!isfinite(v) || !isfinite((float)v))
            RG_FAIL(RG_EFORMAT, "%s: row %zu contains NaN or Inf (or overflows float32)", path, p);
        x[i] = (float)v;
    }
    return RG_OK;
}

/* Read s->P rows (global rows row0 .. of P) into s->X; at the end of the file (end = 1) no byte may follow. */
static int npy_read_rows(FILE *f, const char *path, size_t elt, size_t row0, size_t P, int end, rg_data_set *s)
{
    size_t N = s->N;
    unsigned char *buf = malloc(N * elt);
    if (!buf) RG_FAIL(RG_ENOMEM, "%s: out of memory for a row of %zu values", path, N);
    int st = RG_OK;
    for (size_t p = 0; p < s->P && st == RG_OK; p++) st = npy_row(f, path, elt, N, buf, row0 + p, P, s->X + p * N);
    if (st == RG_OK && end && fgetc(f) != EOF) st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: trailing bytes after the data", path);
    free(buf);
    return st;
}

/* Float data: dtype '<f4' or '<f8' (elt = 4 or 8), 2-D (P, N) with P, N >= 1. */
static int npy_data_shape(const char *path, const npy_header *hd, size_t N_want, size_t *elt)
{
    if (!strcmp(hd->descr, "'<f4'")) *elt = 4;
    else if (!strcmp(hd->descr, "'<f8'")) *elt = 8;
    else RG_FAIL(RG_EFORMAT, "%s: dtype %s, want '<f4' or '<f8' (float32/float64)", path, hd->descr);
    if (hd->nd != 2) RG_FAIL(RG_EFORMAT, "%s: array has %d dimensions, want 2 (P, N)", path, hd->nd);
    uint64_t P = hd->dims[0], N = hd->dims[1];
    if (P == 0 || N == 0)
        RG_FAIL(RG_EFORMAT, "%s: shape (%" PRIu64 ", %" PRIu64 ") has a zero dimension", path, P, N);
    if (N_want && N != N_want)
        RG_FAIL(RG_EFORMAT, "%s: %" PRIu64 " columns, want N = %zu", path, N, N_want);
    if (P > SIZE_MAX || N > SIZE_MAX / P / *elt) RG_FAIL(RG_EFORMAT, "%s: shape too large for memory", path);
    return RG_OK;
}

static int npy_read(FILE *f, const char *path, const npy_header *hd, unsigned long long size, size_t N_want,
                    rg_data_set **out)
{
    size_t elt = 0;
    RG_TRY(npy_data_shape(path, hd, N_want, &elt));
    RG_TRY(npy_check_size(path, hd, size, hd->dims[0] * hd->dims[1], elt));
    rg_data_set *s;
    RG_TRY(rg_data_set_new((size_t)hd->dims[0], (size_t)hd->dims[1], 0, &s));
    int st = npy_read_rows(f, path, elt, 0, s->P, 1, s);
    if (st != RG_OK) {
        rg_data_set_free(s);
        return st;
    }
    *out = s;
    return RG_OK;
}

int rg_data_set_read_npy(const char *path, size_t N_want, rg_data_set **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_data_set_read_npy: out is NULL");
    *out = NULL;
    if (!path) RG_FAIL(RG_EINVAL, "rg_data_set_read_npy: path is NULL");
    FILE *f;
    unsigned long long size;
    npy_header hd;
    RG_TRY(npy_open(path, &f, &size, &hd));
    int st = npy_read(f, path, &hd, size, N_want, out);
    fclose(f);
    return st;
}

/* Open a float (P, N) file with all the checks of rg_data_set_read_npy but reading no data. */
static int npy_open_float(const char *path, size_t N_want, FILE **f, npy_header *hd, size_t *elt)
{
    unsigned long long size;
    RG_TRY(npy_open(path, f, &size, hd));
    int st = npy_data_shape(path, hd, N_want, elt);
    if (st == RG_OK) st = npy_check_size(path, hd, size, hd->dims[0] * hd->dims[1], *elt);
    if (st != RG_OK) fclose(*f), *f = NULL;
    return st;
}

int rg_data_npy_shape(const char *path, size_t N_want, size_t *P, size_t *N)
{
    if (!path || !P || !N) RG_FAIL(RG_EINVAL, "rg_data_npy_shape: NULL argument");
    FILE *f;
    npy_header hd;
    size_t elt;
    RG_TRY(npy_open_float(path, N_want, &f, &hd, &elt));
    fclose(f);
    *P = (size_t)hd.dims[0], *N = (size_t)hd.dims[1];
    return RG_OK;
}

int rg_data_set_read_npy_rows(const char *path, size_t N_want, size_t lo, size_t hi, rg_data_set **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_data_set_read_npy_rows: out is NULL");
    *out = NULL;
    if (!path) RG_FAIL(RG_EINVAL, "rg_data_set_read_npy_rows: path is NULL");
    FILE *f;
    npy_header hd;
    size_t elt;
    RG_TRY(npy_open_float(path, N_want, &f, &hd, &elt));
    const size_t P = (size_t)hd.dims[0], N = (size_t)hd.dims[1];
    rg_data_set *s = NULL;
    int st = lo < hi && hi <= P ? RG_OK
                                : rg__fail(RG_EINVAL, __FILE__, __LINE__, "%s: rows [%zu, %zu) are not inside the %zu rows", path, lo, hi, P);
    if (st == RG_OK && fseeko(f, (off_t)(hd.start + (uint64_t)lo * N * elt), SEEK_SET) != 0)
        st = rg__fail(RG_EIO, __FILE__, __LINE__, "%s: cannot seek to row %zu", path, lo);
    if (st == RG_OK) st = rg_data_set_new(hi - lo, N, 0, &s);
    if (st == RG_OK) st = npy_read_rows(f, path, elt, lo, P, hi == P, s);
    fclose(f);
    if (st != RG_OK) rg_data_set_free(s);
    else *out = s;
    return st;
}

int rg_data_npy_mean(const char *path, size_t N_want, size_t P_use, double *mean)
{
    if (!path || !mean) RG_FAIL(RG_EINVAL, "rg_data_npy_mean: NULL argument");
    FILE *f;
    npy_header hd;
    size_t elt;
    RG_TRY(npy_open_float(path, N_want, &f, &hd, &elt));
    const size_t P = (size_t)hd.dims[0], N = (size_t)hd.dims[1], n = P_use ? P_use : P;
    unsigned char *buf = malloc(N * elt);
    float *x = malloc(N * sizeof *x);
    int st = buf && x ? RG_OK : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "%s: out of memory for a row", path);
    if (st == RG_OK && n > P) st = rg__fail(RG_EINVAL, __FILE__, __LINE__, "%s: %zu rows asked, the file has %zu", path, n, P);
    if (st == RG_OK) memset(mean, 0, N * sizeof *mean);
    for (size_t p = 0; p < n && st == RG_OK; p++) { /* rows in order, as rg_data_center: the same bits */
        st = npy_row(f, path, elt, N, buf, p, P, x);
        for (size_t i = 0; i < N && st == RG_OK; i++) mean[i] += (double)x[i];
    }
    for (size_t i = 0; i < N && st == RG_OK; i++) mean[i] /= (double)n;
    free(buf), free(x);
    fclose(f);
    return st;
}

/* ---- labels -------------------------------------------------------------------------------------- */

/* Integer dtypes a label file may have: numpy's spelling, byte width, signedness. */
static const struct { const char *descr; size_t elt; int is_signed; } NPY_INT_TYPES[] = {
    { "'|u1'", 1, 0 }, { "'|i1'", 1, 1 }, { "'<u2'", 2, 0 }, { "'<i2'", 2, 1 },
    { "'<u4'", 4, 0 }, { "'<i4'", 4, 1 }, { "'<u8'", 8, 0 }, { "'<i8'", 8, 1 },
};

static int npy_label_type(const char *path, const npy_header *hd, size_t *elt, int *is_signed)
{
    for (size_t i = 0; i < sizeof NPY_INT_TYPES / sizeof NPY_INT_TYPES[0]; i++)
        if (!strcmp(hd->descr, NPY_INT_TYPES[i].descr)) {
            *elt = NPY_INT_TYPES[i].elt;
            *is_signed = NPY_INT_TYPES[i].is_signed;
            return RG_OK;
        }
    const char kind = strlen(hd->descr) > 2 ? hd->descr[2] : '?';
    if (kind == 'f' || kind == 'c')
        RG_FAIL(RG_EFORMAT, "%s: labels have dtype %s (floating point), want integers (e.g. labels.astype(np.int64))",
                path, hd->descr);
    if (hd->descr[1] == '>')
        RG_FAIL(RG_EFORMAT, "%s: labels have big-endian dtype %s, want little-endian integers", path, hd->descr);
    RG_FAIL(RG_EFORMAT, "%s: labels have dtype %s, want integers (|u1 |i1 <i2 <u2 <i4 <u4 <i8 <u8)", path, hd->descr);
}

/* Label i from elt little-endian bytes; refuses negative values and values >= RG_LABEL_LIMIT. */
#define RG_LABEL_LIMIT 2147483647ULL /* 2^31 - 1: labels are in [0, 2^31 - 1) */
static int npy_label(const char *path, const unsigned char *b, size_t elt, int is_signed, size_t i, int *out)
{
    uint64_t u = 0;
    for (size_t j = 0; j < elt; j++) u |= (uint64_t)b[j] << (8 * j);
    if (is_signed && (u >> (8 * elt - 1)) & 1u)
        RG_FAIL(RG_EFORMAT, "%s: label %zu is negative, want class indices 0, 1, ...", path, i);
    if (u >= RG_LABEL_LIMIT)
        RG_FAIL(RG_EFORMAT, "%s: label %zu = %" PRIu64 " is too large (want < 2^31 - 1)", path, i, u);
    *out = (int)u;
    return RG_OK;
}

static int npy_read_labels(FILE *f, const char *path, size_t elt, int is_signed, size_t P, int *labels)
{
    enum { CHUNK = 8192 };
    unsigned char buf[CHUNK * 8];
    for (size_t i0 = 0; i0 < P; i0 += CHUNK) {
        const size_t n = P - i0 < CHUNK ? P - i0 : CHUNK;
        if (fread(buf, elt, n, f) != n) RG_FAIL(RG_EFORMAT, "%s: truncated data near label %zu of %zu", path, i0, P);
        for (size_t i = 0; i < n; i++) RG_TRY(npy_label(path, buf + i * elt, elt, is_signed, i0 + i, labels + i0 + i));
    }
    if (fgetc(f) != EOF) RG_FAIL(RG_EFORMAT, "%s: trailing bytes after the %zu labels", path, P);
    return RG_OK;
}

static int npy_labels(FILE *f, const char *path, const npy_header *hd, unsigned long long size, size_t P_want,
                      int **labels, size_t *P)
{
    size_t elt = 0;
    int is_signed = 0;
    RG_TRY(npy_label_type(path, hd, &elt, &is_signed));
    if (!(hd->nd == 1 || (hd->nd == 2 && hd->dims[1] == 1)))
        RG_FAIL(RG_EFORMAT, "%s: labels have %d dimensions%s, want shape (P,) or (P, 1)", path, hd->nd,
                hd->nd == 2 ? " with more than one column" : "");
    const uint64_t n = hd->dims[0];
    if (n == 0) RG_FAIL(RG_EFORMAT, "%s: no labels (shape (0,))", path);
    if (P_want && n != P_want) RG_FAIL(RG_EFORMAT, "%s: %" PRIu64 " labels, want P = %zu (one per point)", path, n, P_want);
    if (n > SIZE_MAX / 8) RG_FAIL(RG_EFORMAT, "%s: %" PRIu64 " labels do not fit in memory", path, n);
    RG_TRY(npy_check_size(path, hd, size, n, elt));
    int *lab = malloc((size_t)n * sizeof *lab);
    if (!lab) RG_FAIL(RG_ENOMEM, "%s: out of memory for %" PRIu64 " labels", path, n);
    int st = npy_read_labels(f, path, elt, is_signed, (size_t)n, lab);
    if (st != RG_OK) {
        free(lab);
        return st;
    }
    *labels = lab;
    *P = (size_t)n;
    return RG_OK;
}

int rg_data_labels_read_npy(const char *path, size_t P_want, int **labels, size_t *P)
{
    if (!labels || !P) RG_FAIL(RG_EINVAL, "rg_data_labels_read_npy: labels or P is NULL");
    *labels = NULL;
    *P = 0;
    if (!path) RG_FAIL(RG_EINVAL, "rg_data_labels_read_npy: path is NULL");
    FILE *f;
    unsigned long long size;
    npy_header hd;
    RG_TRY(npy_open(path, &f, &size, &hd));
    int st = npy_labels(f, path, &hd, size, P_want, labels, P);
    fclose(f);
    return st;
}

/* ---- writing ------------------------------------------------------------------------------------- */

/* Version 1.0 header for a float32 (P, N) array, padded with blanks so the data start at a multiple
 * of 64 bytes (numpy's alignment), ending in '\n'. */
static void npy_write_header(FILE *f, size_t P, size_t N)
{
    char dict[160];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", P, N);
    size_t pad = (64 - (10 + (size_t)n + 1) % 64) % 64, hl = (size_t)n + pad + 1;
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8) };
    fwrite(pre, 1, sizeof pre, f);
    fwrite(dict, 1, (size_t)n, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);   /* errors surface through ferror() in the caller */
}

static void npy_write_rows(FILE *f, const rg_data_set *s, unsigned char *buf)
{
    for (size_t p = 0; p < s->P; p++) {
        for (size_t i = 0; i < s->N; i++) {
            uint32_t w;
            memcpy(&w, &s->X[p * s->N + i], sizeof w);
            for (size_t b = 0; b < 4; b++) buf[4 * i + b] = (unsigned char)(w >> (8 * b));
        }
        fwrite(buf, 4, s->N, f);
    }
}

int rg_data_set_write_npy(const char *path, const rg_data_set *s)
{
    if (!path || !s || !s->X || s->P == 0 || s->N == 0) RG_FAIL(RG_EINVAL, "rg_data_set_write_npy: empty set or NULL");
    unsigned char *buf = malloc(4 * s->N);
    if (!buf) RG_FAIL(RG_ENOMEM, "out of memory writing %s", path);
    char *tmp;
    FILE *f;
    int st = rg__out_open(path, &tmp, &f); /* PATH.tmp in the same directory, renamed into place */
    if (st == RG_OK) {
        npy_write_header(f, s->P, s->N);
        npy_write_rows(f, s, buf);
        st = rg__out_commit(f, !ferror(f), tmp, path);
    }
    free(buf);
    return st;
}
