/* Numbers in text: the one decimal syntax (rg_io_real_len) and the whitespace-separated matrix and vector
 * files of the command line (io.h). Files are read line by line with every size bounded by the dimension:
 * a file too large for a max_n x max_n matrix is refused from its size before it is read. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/io.h"
#include "internal.h"

#define TOKEN_MAX 64           /* characters one number (and its blanks) may take */
#define SLACK ((size_t)1 << 20) /* comments and blank lines beyond the numbers, bytes */

static size_t digits(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9') n++;
    return n;
}

size_t rg_io_real_len(const char *s)
{
    if (!s) return 0;
    size_t i = (s[0] == '+' || s[0] == '-'), a = digits(s + i);
    i += a;
    size_t b = 0;
    if (s[i] == '.') b = digits(s + i + 1), i += 1 + b;
    if (a + b == 0) return 0; /* no digit: ".", "+", "e5", "inf", "nan" */
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1 + (s[i + 1] == '+' || s[i + 1] == '-'), e = digits(s + j);
        if (e) i = j + e; /* "1e" or "1e+" : the number ends before the 'e' (the caller sees the rest) */
    }
    return i;
}

typedef struct {
    double *x;
    size_t n, cap, max;
} numbuf;

/* The numbers of one line (NUL-terminated, at most per_line of them) appended to b; *count: how many. */
static int parse_line(const char *path, size_t lineno, char *line, size_t per_line, numbuf *b, size_t *count)
{
    *count = 0;
    for (char *p = line;;) {
        while (rg__is_blank(*p)) p++;
        if (*p == '\0') return RG_OK;
        char *tok = p;
        while (*p && !rg__is_blank(*p)) p++;
        const size_t len = (size_t)(p - tok);
        const char keep = *p;
        *p = '\0';
        errno = 0;
        const double v = rg_io_real_len(tok) == len ? strtod(tok, NULL) : (double)NAN;
        if (!isfinite(v))
            RG_FAIL(RG_EFORMAT, "%s:%zu: '%.40s' is not a finite number (decimal notation)", path, lineno, tok);
        if (*count == per_line)
            RG_FAIL(RG_EFORMAT, "%s:%zu: more than %zu numbers on a line (want at most a %zu x %zu matrix)", path,
                    lineno, per_line, per_line, per_line);
        if (b->n == b->max) RG_FAIL(RG_EFORMAT, "%s:%zu: more than %zu numbers", path, lineno, b->max);
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 256;
            cap = cap > b->max ? b->max : cap;
            double *grown = realloc(b->x, cap * sizeof *grown);
            if (!grown) RG_FAIL(RG_ENOMEM, "%s: out of memory for %zu numbers", path, cap);
            b->x = grown, b->cap = cap;
        }
        b->x[b->n++] = v;
        ++*count;
        *p = keep;
    }
}

/* Every number of f; square: rows of equal length, as many rows as columns, at most max_n of them. */
static int parse_file(FILE *f, const char *path, size_t max_n, int square, numbuf *b, size_t *rows_out)
{
    const size_t cap = max_n * TOKEN_MAX + 4096;
    char *line = malloc(cap + 1);
    if (!line) RG_FAIL(RG_ENOMEM, "%s: out of memory", path);
    size_t len, lineno = 0, rows = 0, cols = 0, count;
    int r, st = RG_OK;
    while (st == RG_OK && (r = rg__text_line(f, line, cap, &len)) != 0) {
        lineno++;
        if (r == -1) st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s:%zu: NUL byte: not a text file", path, lineno);
        else if (r == -2) st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s:%zu: line longer than %zu characters", path, lineno, cap);
        if (st != RG_OK) break;
        char *p = line;
        while (rg__is_blank(*p)) p++;
        if (*p == '\0' || *p == '#') continue;
        if (square && rows == max_n)
            st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s:%zu: more than %zu rows (want at most a %zu x %zu matrix)",
                          path, lineno, max_n, max_n, max_n);
        if (st == RG_OK) st = parse_line(path, lineno, p, square ? max_n : (size_t)-1, b, &count);
        if (st == RG_OK && square && rows++ == 0) cols = count;
        else if (st == RG_OK && square && count != cols)
            st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s:%zu: %zu numbers, want %zu like the first row (a square matrix)",
                          path, lineno, count, cols);
    }
    free(line);
    if (st == RG_OK && ferror(f)) st = rg__fail(RG_EIO, __FILE__, __LINE__, "%s: read error after line %zu", path, lineno);
    if (st == RG_OK && b->n == 0) st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: holds no numbers", path);
    if (st == RG_OK && square && rows != cols)
        st = rg__fail(RG_EFORMAT, __FILE__, __LINE__, "%s: %zu rows of %zu numbers, want a square matrix", path, rows, cols);
    *rows_out = rows;
    return st;
}

static int read_numbers(const char *path, size_t max_n, int square, size_t *n, double **out)
{
    if (!path || !n || !out) RG_FAIL(RG_EINVAL, "rg_io_%s_read: NULL argument", square ? "matrix" : "vector");
    *out = NULL;
    *n = 0;
    if (max_n == 0 || max_n > ((size_t)1 << 20)) RG_FAIL(RG_EINVAL, "rg_io_%s_read: max_n %zu, want 1 .. 2^20", square ? "matrix" : "vector", max_n);
    FILE *f;
    unsigned long long size;
    RG_TRY(rg__open_regular(path, &f, &size));
    const size_t count = square ? max_n * max_n : max_n, bytes = count * TOKEN_MAX + SLACK;
    if (size > bytes) {
        fclose(f);
        RG_FAIL(RG_EFORMAT, "%s: %llu bytes, more than %s of at most %zu needs (%zu bytes)", path, size,
                square ? "a square matrix" : "a vector", max_n, bytes);
    }
    numbuf b = { NULL, 0, 0, count };
    size_t rows = 0;
    int st = parse_file(f, path, max_n, square, &b, &rows);
    fclose(f);
    if (st != RG_OK) {
        free(b.x);
        return st;
    }
    *out = b.x;
    *n = square ? rows : b.n;
    return RG_OK;
}

int rg_io_matrix_read(const char *path, size_t max_n, size_t *n, double **A) { return read_numbers(path, max_n, 1, n, A); }

int rg_io_vector_read(const char *path, size_t max_n, size_t *n, double **v) { return read_numbers(path, max_n, 0, n, v); }
