/* One error path: rg__fail writes this thread's message and returns the status. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include "internal.h"

static _Thread_local char rg__msg[512];

int rg__fail(int status, const char *file, int line, const char *fmt, ...)
{
    (void)file;
    (void)line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rg__msg, sizeof rg__msg, fmt, ap);
    va_end(ap);
    return status;
}

const char *rg_strerror_last(void) { return rg__msg; }

const char *rg_status_name(int status)
{
    static const char *const names[] = { "RG_OK",  "RG_EINVAL",  "RG_ENOMEM", "RG_EIO",
                                         "RG_EDOM", "RG_EFORMAT", "RG_ENOCONV" };
    return status >= 0 && status < (int)(sizeof names / sizeof names[0]) ? names[status] : "RG_E?";
}

void rg__assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "regimes: internal error: %s failed at %s:%d\n", expr, file, line);
    abort();
}

int rg__all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

size_t rg__first_nonfinite_f(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

int rg__all_finite_f(const float *x, size_t n) { return rg__first_nonfinite_f(x, n) == n; }
