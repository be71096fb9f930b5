/* libFuzzer harness for the .npy readers (rg_data_set_read_npy, rg_data_labels_read_npy,
 * include/regimes/data.h). A set it accepts must keep the header's promises: P, N >= 1 and every value
 * finite; accepted labels are P >= 1 values in [0, 2^31 - 1). */
#include "fuzz_common.h" /* first: it sets _POSIX_C_SOURCE */
#include <math.h>

#include "regimes/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    rg_data_set *s = NULL;
    if (rg_data_set_read_npy(path, 0, &s) == 0) {
        if (!s || s->P == 0 || s->N == 0 || s->labels) abort();
        for (size_t i = 0; i < s->P * s->N; i++)
            if (!isfinite(s->X[i])) abort();
    } else if (s) {
        abort(); /* *out must be NULL on failure */
    }
    rg_data_set_free(s);
    int *lab = NULL;
    size_t P = 0;
    if (rg_data_labels_read_npy(path, 0, &lab, &P) == 0) {
        if (!lab || P == 0) abort();
        for (size_t i = 0; i < P; i++)
            if (lab[i] < 0 || lab[i] == 2147483647) abort();
    } else if (lab || P) {
        abort(); /* *labels NULL and *P 0 on failure */
    }
    free(lab);
    return 0;
}
