/* Helpers shared by the bench programs: a monotonic clock and optional size arguments. */
#ifndef REGIMES_BENCH_H
#define REGIMES_BENCH_H

#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* argv[i] as a size, or def when absent. */
static inline size_t bench_arg(int argc, char **argv, int i, size_t def)
{
    return argc > i ? (size_t)strtoull(argv[i], NULL, 10) : def;
}

#endif
