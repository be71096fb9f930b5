/* The umbrella header regimes/regimes.h is self-sufficient (it is included first, before any system
 * header) and declares every public module: one function of each module is called or taken by
 * address, so a header dropped from regimes.h fails the build, and a missing symbol fails the link. */
#include "regimes/regimes.h"

#include <math.h>

#include "rg_test.h"

static void test_every_module_declared(void **state)
{
    (void)state;
    typedef void (*any_fn)(void); /* casts between function pointer types are ISO C */
    const any_fn fns[] = {
        (any_fn)rg_strerror_last,        (any_fn)rg_linalg_expm,
        (any_fn)rg_rng_normals,          (any_fn)rg_process_ou,
        (any_fn)rg_nonrev_optimal_q,     (any_fn)rg_data_gmm2,
        (any_fn)rg_theory_phi,           (any_fn)rg_score_emp_new,
        (any_fn)rg_sampler_run,          (any_fn)rg_measure_crossing,
        (any_fn)rg_io_csv_write,         (any_fn)rg_mnist_load,
        (any_fn)rg_nn_model_new,         (any_fn)rg_schedule_solve,
        (any_fn)rg_exp_clone,
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) assert_non_null(fns[i]);
    /* One call per header whose constants the docs quote: the status names (error.h) and phi(1) =
     * 0.7752 (theory.h and docs/math.md 9.1 give 4 digits; tolerance half a unit of the 4th). */
    assert_string_equal(rg_status_name(RG_EDOM), "RG_EDOM");
    rg_assert_abs(rg_theory_phi(1.0), 0.7752, 5e-5, "phi(1)");
    assert_int_equal(RG_SAMPLER_CHUNK, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_every_module_declared) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
