/* Helpers shared by src/mnist.c and src/mnist_pairs.c. Not installed. */
#ifndef REGIMES_MNIST_INTERNAL_H
#define REGIMES_MNIST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "regimes/data.h"

/* x[i] = (float)(px[i] / 255.0), i < n. */
void rg_mnist__scale(const uint8_t *px, size_t n, float *x);

/* When center: subtract from the first `rows` rows of s (each N wide) their per-column mean,
 * accumulated in double in row order; mean: (N) out or NULL. RG_OK or RG_ENOMEM. */
int rg_mnist__finish(rg_data_set *s, size_t rows, size_t N, int center, double *mean);

#endif
