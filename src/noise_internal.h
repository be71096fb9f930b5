/* Private to the noise module and its test. */
#ifndef REGIMES_NOISE_INTERNAL_H
#define REGIMES_NOISE_INTERNAL_H

#include <stddef.h>
#include "regimes/noise.h"

/* rg_noise_read with the value cap max_steps instead of RG_NOISE_MAX_STEPS (the test's handle on the
 * cap: a file of 10^7 + 1 values is too large for a unit test). */
int rg__noise_read_max(const char *path, size_t max_steps, rg_noise **out);

#endif
