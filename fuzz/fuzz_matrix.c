/* libFuzzer harness for the text matrix and vector reader (include/regimes/io.h): every input is read
 * as a matrix and as a vector of at most 8 rows or numbers (the cap is part of what is fuzzed: a larger
 * file is refused from its size). On success the result must keep the promises of io.h: n in 1 .. 8,
 * every value finite. Any status is fine; a crash, a leak or undefined behaviour is a finding. */
#include "fuzz_common.h" /* first: it defines _POSIX_C_SOURCE (mkstemp) */

#include <math.h>
#include <string.h>

#include "regimes/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    size_t n = 0;
    double *A = NULL;
    if (rg_io_matrix_read(path, 8, &n, &A) == 0) {
        if (!A || n < 1 || n > 8) abort();
        for (size_t i = 0; i < n * n; i++)
            if (!isfinite(A[i])) abort();
    }
    free(A);
    A = NULL;
    if (rg_io_vector_read(path, 8, &n, &A) == 0) {
        if (!A || n < 1 || n > 8) abort();
        for (size_t i = 0; i < n; i++)
            if (!isfinite(A[i])) abort();
    }
    free(A);
    /* the decimal syntax on the raw bytes (NUL-terminated copy): the length never passes the end */
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    if (rg_io_real_len(s) > strlen(s)) abort();
    free(s);
    return 0;
}
