/* Private helpers of the experiment layer (experiment.h): parallel hooks that reduce to the identity
 * in one process, and small pieces shared by several experiments. Not installed. */
#ifndef REGIMES_EXPERIMENT_INTERNAL_H
#define REGIMES_EXPERIMENT_INTERNAL_H

#include <stddef.h>
#include "regimes/experiment.h"

/* 1 on rank 0 (or without comm). */
int rg_exp__root(const rg_exp_comm *c);
/* comm->gather / allgather / agree, the identity without comm or with one rank. */
int rg_exp__gather(const rg_exp_comm *c, rg_exp_type type, void *buf, size_t n, size_t len, int all);
int rg_exp__agree(const rg_exp_comm *c, int status);
/* progress(fraction) when set, else RG_OK. */
int rg_exp__progress(const rg_exp_run *r, double fraction);

/* Label B states with l into out (B, L), checking every label against [0, n_classes). */
int rg_exp__label(const rg_exp_labeller *l, size_t B, const float *X, int *out);

/* Frequencies (L, K) of labels (rows of stride W, the first L columns of each row, n rows) added to
 * counts (L, K) as doubles. */
void rg_exp__count(size_t n, size_t W, size_t L, size_t K, const int *labels, double *counts);

/* The fraction of set flags (n of them) with its bootstrap interval (docs/math.md 8.1; key addresses the
 * draws): out = {fraction, lo, hi}. */
int rg_exp__fraction(size_t n, const unsigned char *flags, uint64_t seed, uint64_t key, double out[3]);

#endif
