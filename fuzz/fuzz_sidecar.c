/* libFuzzer harness for the reader of a checkpoint's metadata (cli/model.h, the sidecar), the JSON
 * object that `regimes train` stores in the checkpoint and copies to FILE.json: every input, as text,
 * goes through the process_argv, number and mean parsers. On success the results must keep model.h's
 * promises. Its one-line messages go to stderr, which `make fuzz` closes for this target
 * (-close_fd_mask=2; libFuzzer keeps its own copy). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "regimes/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, 0, size)) return 0; /* the metadata is text: NUL bytes are refused before parsing */
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = -1;
    char **argv = NULL;
    if (model_meta_process_argv(text, "fuzz", &argc, &argv) == 0) {
        if (argc < 0 || (argc && !argv)) abort();
        for (int i = 0; i < argc; i++)
            if (!argv[i]) abort();
    } else if (argc != 0 || argv) {
        abort();
    }
    model_argv_free(argc, argv);
    double x = 0.0;
    if (model_meta_number(text, "t_max", &x) == 0 && !isfinite(x)) abort();
    double *mean = NULL;
    if (model_meta_mean(text, "fuzz", 3, &mean) == 0 && mean)
        for (int i = 0; i < 3; i++)
            if (!isfinite(mean[i])) abort();
    free(mean);
    free(text);
    return 0;
}
