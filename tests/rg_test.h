/* Floating-point assertions for cmocka 1.1.5 (which has none). Relative, explicit about NaN/Inf/0.
 * Include after <cmocka.h>. */
#ifndef RG_TEST_H
#define RG_TEST_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "regimes/error.h"

/* |got - want| <= rtol |want| (want != 0) or <= rtol (want == 0); NaN never passes. */
static inline void rg_assert_rel_(double got, double want, double rtol, const char *file, int line,
                                  const char *what)
{
    double err = fabs(got - want), scale = want != 0.0 ? fabs(want) : 1.0;
    if (!(err <= rtol * scale) && !(got == want)) {
        print_error("%s: got %.17g, want %.17g (rel err %.3g > %.3g)\n", what, got, want,
                    err / scale, rtol);
        _fail(file, line);
    }
}
static inline void rg_assert_abs_(double got, double want, double atol, const char *file, int line,
                                  const char *what)
{
    if (!(fabs(got - want) <= atol) && !(got == want)) {
        print_error("%s: got %.17g, want %.17g (abs err %.3g > %.3g)\n", what, got, want,
                    fabs(got - want), atol);
        _fail(file, line);
    }
}
#define rg_assert_rel(got, want, rtol, what) rg_assert_rel_((got), (want), (rtol), __FILE__, __LINE__, (what))
#define rg_assert_abs(got, want, atol, what) rg_assert_abs_((got), (want), (atol), __FILE__, __LINE__, (what))

/* Max-abs comparison of two arrays, relative to the largest |want|. */
static inline void rg_assert_vec_rel_(const double *got, const double *want, size_t n, double rtol,
                                      const char *file, int line, const char *what)
{
    double scale = 0.0, err = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    if (scale == 0.0) scale = 1.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]);
        if (!(e <= err)) { err = e; at = i; }
    }
    if (!(err <= rtol * scale)) {
        print_error("%s: entry %zu got %.17g want %.17g (err %.3g > %.3g x %.3g)\n", what, at,
                    got[at], want[at], err, rtol, scale);
        _fail(file, line);
    }
}
#define rg_assert_vec_rel(got, want, n, rtol, what) \
    rg_assert_vec_rel_((got), (want), (n), (rtol), __FILE__, __LINE__, (what))

/* Round a reference value to the digits docs/math.md shows and compare to +-1 in the last digit:
 * "matches to the last digit shown (+-1)". decimals = digits after the point. */
static inline void rg_assert_digits_(double got, double want, int decimals, const char *file, int line,
                                     const char *what)
{
    double ulp = pow(10.0, -decimals);
    if (!(fabs(got - want) <= ulp * 1.0000001)) {
        print_error("%s: got %.10g, table says %.*f (+-1 in the last digit)\n", what, got, decimals, want);
        _fail(file, line);
    }
}
#define rg_assert_digits(got, want, dec, what) rg_assert_digits_((got), (want), (dec), __FILE__, __LINE__, (what))

/* A call failed with status want, and rg_strerror_last() is one line containing fragment. */
static inline void rg_expect_fail_(int st, int want, const char *fragment, const char *file, int line)
{
    const char *msg = rg_strerror_last();
    if (st != want) {
        print_error("status %s, want %s (message '%s')\n", rg_status_name(st), rg_status_name(want), msg);
        _fail(file, line);
    }
    if (!strstr(msg, fragment) || strchr(msg, '\n')) {
        print_error("message '%s' lacks '%s' or is not one line\n", msg, fragment);
        _fail(file, line);
    }
}
#define rg_expect_fail(st, want, fragment) rg_expect_fail_((st), (want), (fragment), __FILE__, __LINE__)

#endif
