/* Shared by the libFuzzer harnesses (make fuzz): the input bytes as a file, for readers that take a
 * path. One temporary file per process, created once, rewritten for every input. */
#ifndef REGIMES_FUZZ_COMMON_H
#define REGIMES_FUZZ_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_path[64];

/* Write the input to fuzz_path (created on the first call); aborts on an I/O error, which would be
 * a harness problem, not a finding. */
static const char *fuzz_file(const uint8_t *data, size_t size)
{
    if (!fuzz_path[0]) {
        snprintf(fuzz_path, sizeof fuzz_path, "/tmp/regimes-fuzz-XXXXXX");
        int fd = mkstemp(fuzz_path);
        if (fd < 0) abort();
        close(fd);
    }
    FILE *f = fopen(fuzz_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
    return fuzz_path;
}

#endif
