/* regimes CLI: the pieces every experiment shares. The mixture that `regimes theory` reasons
 * about, as a sampleable rg_data_gmm, and the classification rule of MATH.md 8.4 for its labels. */
#ifndef REGIMES_CLI_EXP_H
#define REGIMES_CLI_EXP_H

#include <stddef.h>

#include "regimes/data.h"
#include "cli.h"

typedef struct {
    rg_data_gmm *g;     /* the data model of th (owned) */
    size_t N;           /* state dimension */
    size_t n_labels;    /* 1 (gmm2) or 2 (gmm4: common, difference) */
    size_t d;           /* gmm4: per-modality dimension */
    double *m;          /* gmm2: the mean (N); gmm4: m_c then m_d (d each) */
} exp_model;

/* Build the mixture of th->b (gmm2 with its mean direction and Cw, or gmm4 with the default
 * directions). RG_OK or one line and RG_EINVAL/RG_EIO. */
int exp_model_new(const theory_result *th, exp_model *em);
void exp_model_free(exp_model *em);

/* Labels per mode of B states (B, N): out (n_labels, B): gmm2 out[i] = 0/1 by sign(m . z);
 * gmm4 out[i] = common sign class, out[B + i] = difference sign class (MATH.md 8.4). */
int exp_classify(const exp_model *em, size_t B, const float *Z, int *out);

#endif
