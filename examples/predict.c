/* Predict the regimes of a coupled two-modality process from the theory API alone (docs/math.md 7, 9.3).
 *
 * Data: gmm4 (docs/math.md 7.1 c), |m_c|^2 = |m_d|^2 = 25, sigma^2 = 1, d = 1000 per modality; process:
 * dx = -(x - gamma y) dt + sqrt(2) dW, dy = -(y - gamma x) dt + sqrt(2) dW' with gamma = 0.5 (the
 * symmetric cross-drive coupling M = [[1, -0.5], [-0.5, 1]]). The common pattern relaxes at rate
 * 1 - gamma = 0.5, the difference at 1 + gamma = 1.5, so the common content speciates first (larger
 * forward time) and the synchronization gap t_S^c - t_S^d is positive. Also the parent OU case of
 * Biroli et al. (d = 256, P = 20000) for the collapse time, against its closed form.
 * Build: cc predict.c $(pkg-config --cflags --libs regimes); the test (tests/examples.sh) checks
 * every printed number against examples/predict.expect. */
#include <stdio.h>

#include "regimes/error.h"
#include "regimes/process.h"
#include "regimes/theory.h"

static int check(int st, const char *what)
{
    if (st != RG_OK) fprintf(stderr, "predict: %s: %s\n", what, rg_strerror_last());
    return st != RG_OK;
}

int main(void)
{
    /* Coupled process and gmm4 data in core coordinates: patterns e_c = (1, 1), e_d = (1, -1). */
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
    rg_process *p = NULL;
    if (check(rg_process_coupled(M, 1000, &p), "rg_process_coupled")) return 1;
    const double pattern[4] = { 1, 1, 1, -1 }, norm2[2] = { 25, 25 }, Cw[4] = { 1, 0, 0, 1 };
    const rg_theory_data d = { .n_labels = 2, .pattern = pattern, .mean_norm2 = norm2, .Cw = Cw };
    double ts[2], tc;
    int found;
    for (size_t l = 0; l < 2; l++) {
        if (check(rg_theory_speciation(p, &d, l, RG_SPECIATION_GMM, &ts[l], &found), "speciation")) return 1;
        if (!found) return fprintf(stderr, "predict: no speciation time for label %zu\n", l), 1;
    }
    if (check(rg_theory_collapse(p, &d, 20000, &tc, &found), "collapse")) return 1;
    printf("coupled_t_S_common %.6f\n", ts[0]);
    printf("coupled_t_S_difference %.6f\n", ts[1]);
    printf("coupled_sync_gap %.6f\n", ts[0] - ts[1]);
    /* Decoupled modes have a closed form: t_S = log(1 + lambda a) / (2 lambda) with
     * a = |mu|^2 - sigma^2 = 2 |m|^2 - 1 (docs/math.md 7.1 c): the root finder must agree. */
    printf("closed_form_t_S_common %.6f\n", rg_theory_mode_time(0.5, 49.0));
    printf("coupled_t_C %.6f\n", tc);
    rg_process_free(p);

    /* Parent OU, two-class GMM, d = 256, |m|^2 = 256, P = 20000 (docs/math.md 9.2). */
    rg_process *ou = NULL;
    if (check(rg_process_ou(256, &ou), "rg_process_ou")) return 1;
    const double e1[1] = { 1 }, m2[1] = { 256 }, s2[1] = { 1 };
    const rg_theory_data g = { .n_labels = 1, .pattern = e1, .mean_norm2 = m2, .Cw = s2 };
    if (check(rg_theory_speciation(ou, &g, 0, RG_SPECIATION_GMM, &ts[0], &found), "speciation")) return 1;
    if (check(rg_theory_collapse(ou, &g, 20000, &tc, &found), "collapse")) return 1;
    printf("ou_t_S %.6f\n", ts[0]);
    printf("ou_t_C %.6f\n", tc);
    printf("ou_t_C_closed_form %.6f\n", rg_theory_ou_collapse(256, 20000, 1));
    rg_process_free(ou);
    return 0;
}
