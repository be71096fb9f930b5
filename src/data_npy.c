/* Training sets as .npy files: read a (P, N) float32/float64 C-order array, write float32 atomically.
 * Format: numpy NEP 1 / numpy.lib.format, versions 1.0 (uint16 header length) and 2.0/3.0 (uint32).
 * Values are assembled from little-endian bytes, so the host's byte order does not matter.
 * Contracts: include/regimes/data.h. */
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

/* Check the header dict: dtype '<f4' or '<f8' (elt = 4 or 8), C order, 2-D (P, N) with P, N >= 1. */
static int npy_parse_header(const char *path, const char *h, size_t *elt, uint64_t *P, uint64_t *N)
{
    const char *d = npy_value(h, "'descr'"), *f = npy_value(h, "'fortran_order'"), *s = npy_value(h, "'shape'");
    if (!d || !f || !s) RG_FAIL(RG_EFORMAT, "%s: .npy header lacks descr, fortran_order or shape", path);
    if (!strncmp(d, "'<f4'", 5)) *elt = 4;
    else if (!strncmp(d, "'<f8'", 5)) *elt = 8;
    else RG_FAIL(RG_EFORMAT, "%s: dtype %.8s, want '<f4' or '<f8' (float32/float64)", path, d);
    if (!strncmp(f, "True", 4)) RG_FAIL(RG_EFORMAT, "%s: Fortran-order array, want C order", path);
    if (strncmp(f, "False", 5)) RG_FAIL(RG_EFORMAT, "%s: malformed fortran_order in .npy header", path);
    uint64_t dims[3] = { 0, 0, 0 };
    int nd = npy_shape(s, dims);
    if (nd < 0) RG_FAIL(RG_EFORMAT, "%s: malformed shape in .npy header", path);
    if (nd != 2) RG_FAIL(RG_EFORMAT, "%s: array has %d dimensions, want 2 (P, N)", path, nd);
    if (dims[0] == 0 || dims[1] == 0)
        RG_FAIL(RG_EFORMAT, "%s: shape (%" PRIu64 ", %" PRIu64 ") has a zero dimension", path, dims[0], dims[1]);
    *P = dims[0];
    *N = dims[1];
    return RG_OK;
}

/* Magic, version, header length and header text (NUL-terminated into h of NPY_HEADER_MAX + 1). */
static int npy_read_header(FILE *f, const char *path, char *h)
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

/* Read P rows of N values (elt bytes each) into s->X, rounding float64 to float32. */
static int npy_read_rows(FILE *f, const char *path, size_t elt, rg_data_set *s)
{
    size_t N = s->N, row = N * elt;
    unsigned char *buf = malloc(row);
    if (!buf) RG_FAIL(RG_ENOMEM, "%s: out of memory for a row of %zu values", path, N);
    int st = RG_OK;
    for (size_t p = 0; p < s->P && st == RG_OK; p++) {
        if (fread(buf, 1, row, f) != row) {
            st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: truncated data at row %zu of %zu", path, p, s->P);
            break;
        }
        for (size_t i = 0; i < N && st == RG_OK; i++) {
            double x = npy_value_le(buf + i * elt, elt);
            if (!isfinite(x) || !isfinite((float)x))
                st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: row %zu contains NaN or Inf (or overflows float32)", path, p);
            s->X[p * N + i] = (float)x;
        }
    }
    if (st == RG_OK && fgetc(f) != EOF) st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: trailing bytes after the data", path);
    free(buf);
    return st;
}

/* Bytes from the current position to the end of f, or -1 when f cannot seek (a pipe). */
static long long npy_bytes_left(FILE *f)
{
    long here = ftell(f), end;
    if (here < 0 || fseek(f, 0, SEEK_END) != 0) return -1;
    end = ftell(f);
    if (fseek(f, here, SEEK_SET) != 0 || end < here) return -1;
    return (long long)(end - here);
}

static int npy_read(FILE *f, const char *path, size_t N_want, rg_data_set **out)
{
    char *h = malloc(NPY_HEADER_MAX + 1);
    if (!h) RG_FAIL(RG_ENOMEM, "out of memory for a .npy header");
    size_t elt = 0;
    uint64_t P = 0, N = 0;
    int st = npy_read_header(f, path, h);
    if (st == RG_OK) st = npy_parse_header(path, h, &elt, &P, &N);
    free(h);
    RG_TRY(st);
    if (N_want && N != N_want)
        RG_FAIL(RG_EFORMAT, "%s: %" PRIu64 " columns, want N = %zu", path, N, N_want);
    if (P > SIZE_MAX || N > SIZE_MAX / P / elt) RG_FAIL(RG_EFORMAT, "%s: shape too large for memory", path);
    /* A short file is refused before the allocation: a 100-byte file announcing (1e8, 1000) must not
     * ask for 400 GB first (found by tests/hardening.sh). Unseekable streams are checked while read. */
    long long left = npy_bytes_left(f);
    if (left >= 0 && (unsigned long long)left < (unsigned long long)(P * N * elt))
        RG_FAIL(RG_EFORMAT, "%s: truncated data: the header announces %" PRIu64 " x %" PRIu64 " values of %zu bytes, "
                "the file holds %lld bytes after it", path, P, N, elt, left);
    rg_data_set *s;
    RG_TRY(rg_data_set_new((size_t)P, (size_t)N, 0, &s));
    if ((st = npy_read_rows(f, path, elt, s)) != RG_OK) {
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
    FILE *f = fopen(path, "rb");
    if (!f) RG_FAIL(RG_EIO, "%s: cannot open for reading", path);
    int st = npy_read(f, path, N_want, out);
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
    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    unsigned char *buf = malloc(4 * s->N);
    if (!tmp || !buf) {
        free(tmp);
        free(buf);
        RG_FAIL(RG_ENOMEM, "out of memory writing %s", path);
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);   /* same directory: rename() below is atomic */
    FILE *f = fopen(tmp, "wb");
    int st = f ? RG_OK : rg__fail(RG_EIO, __FILE__, __LINE__, "%s: cannot open for writing", tmp);
    if (st == RG_OK) {
        npy_write_header(f, s->P, s->N);
        npy_write_rows(f, s, buf);
        if (ferror(f) | (fclose(f) != 0)) st = rg__fail(RG_EIO, __FILE__, __LINE__, "%s: write failed", tmp);
        else if (rename(tmp, path) != 0) st = rg__fail(RG_EIO, __FILE__, __LINE__, "%s: cannot rename to %s", tmp, path);
        if (st != RG_OK) remove(tmp);
    }
    free(tmp);
    free(buf);
    return st;
}
