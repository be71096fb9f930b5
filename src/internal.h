/* Private helpers shared by every module: error reporting, small checks. Not installed. */
#ifndef REGIMES_INTERNAL_H
#define REGIMES_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include "regimes/error.h"

#if defined(__GNUC__)
#define RG__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RG__PRINTF(a, b)
#endif

/* Record a one-line message for rg_strerror_last() and return status. Every failure passes here. */
int rg__fail(int status, const char *file, int line, const char *fmt, ...) RG__PRINTF(4, 5);
#define RG_FAIL(status, ...) return rg__fail((status), __FILE__, __LINE__, __VA_ARGS__)

/* Propagate a failing status (the callee has already set the message). */
#define RG_TRY(expr) do { int rg__st = (expr); if (rg__st != RG_OK) return rg__st; } while (0)

/* Abort with file:line: only for broken internal invariants, never for user input. */
void rg__assert_fail(const char *expr, const char *file, int line);
#define RG_ASSERT(x) ((x) ? (void)0 : rg__assert_fail(#x, __FILE__, __LINE__))

/* 1 if all n values are finite. */
int rg__all_finite(const double *x, size_t n);

/* Open path for binary reading only if it is a regular file (io_read.c): a FIFO, device or directory
 * is refused with RG_EIO "PATH: is not a regular file (a FIFO)" before anything is read, and a FIFO
 * cannot block the open. *size (or NULL) receives the file's length in bytes. RG_EIO "PATH: cannot
 * open for reading: REASON" otherwise. The caller fcloses *out. */
int rg__open_regular(const char *path, FILE **out, unsigned long long *size);
/* Square row-major n x n helpers that touch (i, j) and (j, i) together, in 64 x 64 tiles: a plain
 * column walk takes a TLB miss per element once n is in the thousands (src/linalg.c). */
void rg__transpose(size_t n, const double *X, double *Y);      /* Y = X^T, no aliasing */
void rg__symmetrise(size_t n, double *X);                      /* X = (X + X^T) / 2 */
void rg__symmetrise_lower(size_t n, double *X);                /* upper triangle = lower triangle */
void rg__antisymmetrise(size_t n, double *X);                  /* X = (X - X^T) / 2, zero diagonal */
/* max |X_ij - sign X_ji| over i > j (sign = +1: asymmetry, -1: departure from antisymmetry; the
 * diagonal counts for sign = -1 as |2 X_ii|); NAN if an entry is NaN. */
double rg__asymmetry(size_t n, const double *X, double sign);
/* Sort eigenvalues wr + i wi by real part, then imaginary part, ascending. RG_ENOMEM. */
int rg__sort_eig(size_t n, double *wr, double *wi);

#endif
