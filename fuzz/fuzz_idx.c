/* libFuzzer harness for the IDX reader (include/regimes/mnist.h): every input is parsed as an image
 * file and as a label file in memory; inputs that start with the gzip magic also go through the
 * path readers (zlib inflates them; a plain file there is only copied into the same parser, and the
 * 4 MB read buffer would cost more than the parse). Any status is fine; a crash, a leak or
 * undefined behaviour is a finding. */
#include "fuzz_common.h"
#include "regimes/mnist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rg_mnist_raw *m = NULL;
    if (rg_mnist_parse_images(data, size, "fuzz", &m) == 0 && (!m || !m->pixels || m->n == 0)) abort();
    rg_mnist_free(m);
    m = NULL;
    if (rg_mnist_parse_labels(data, size, "fuzz", &m) == 0) {
        if (!m || !m->labels) abort();
        for (size_t i = 0; i < m->n; i++)
            if (m->labels[i] > 9) abort(); /* the header's promise: every label <= 9 */
    }
    rg_mnist_free(m);
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) return 0;
    const char *path = fuzz_file(data, size);
    m = NULL;
    (void)rg_mnist_read_images(path, &m);
    rg_mnist_free(m);
    m = NULL;
    (void)rg_mnist_read_labels(path, &m);
    rg_mnist_free(m);
    return 0;
}
