/* Data model and classification shared by the experiment commands (exp.h). */
#include "exp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "args.h"

int exp_model_new(const theory_result *th, exp_model *em)
{
    memset(em, 0, sizeof *em);
    const spec_built *b = &th->b;
    size_t N = rg_process_dim(b->p);
    em->N = N;
    int st;
    if (th->o.gmm4) {
        size_t d = N / 2;
        em->d = d;
        em->n_labels = 2;
        em->m = malloc(2 * d * sizeof *em->m);
        if (!em->m) return cli_nomem("out of memory for the data model");
        /* The defaults of rg_data_gmm4: m_c along (1, ..., 1), m_d along (1, -1, 1, ...). */
        for (size_t i = 0; i < d; i++) {
            em->m[i] = sqrt(th->o.mc2 / (double)d);
            em->m[d + i] = (i % 2 ? -1.0 : 1.0) * sqrt(th->o.md2 / (double)d);
        }
        st = rg_data_gmm4(d, th->o.mc2, th->o.md2, NULL, NULL, th->o.sigma2, &em->g);
    } else {
        em->n_labels = 1;
        em->m = malloc(N * sizeof *em->m);
        if (!em->m) return cli_nomem("out of memory for the data model");
        size_t k = rg_process_core(b->p);
        double norm2 = b->norm2[0];
        if (k == 1) { /* ou: isotropic, m along (1, ..., 1) */
            for (size_t i = 0; i < N; i++) em->m[i] = sqrt(norm2 / (double)N);
            st = rg_data_gmm2(N, norm2, NULL, th->o.sigma2, NULL, &em->g);
        } else { /* dense: the unit mean direction and Cw of the spec */
            for (size_t i = 0; i < N; i++) em->m[i] = sqrt(norm2) * b->pattern[i];
            st = rg_data_gmm2(N, norm2, b->pattern, th->o.sigma2, b->Cw, &em->g);
        }
    }
    if (st != RG_OK) {
        exp_model_free(em);
        return cli_status(st);
    }
    return RG_OK;
}

void exp_model_free(exp_model *em)
{
    rg_data_gmm_free(em->g);
    free(em->m);
    memset(em, 0, sizeof *em);
}

int exp_classify(const exp_model *em, size_t B, const float *Z, int *out)
{
    if (em->n_labels == 1) return rg_data_classify_gmm2(em->N, em->m, Z, B, out);
    int st = rg_data_classify_gmm4(em->d, em->m, em->m + em->d, Z, B, out + B);
    for (size_t i = 0; i < B && st == RG_OK; i++) { /* component j = 2 [c < 0] + [d < 0] */
        int j = out[B + i];
        out[i] = j >> 1;
        out[B + i] = j & 1;
    }
    return st;
}
