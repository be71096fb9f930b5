/* regimes reproduce speciation-gmm | multimodal-gmm: cloning with the exact mixture score (docs/math.md
 * 7.2, 7.3, 8.1, 8.4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "cli.h"
#include "reproduce.h"

/* The exact mixture score and a theory exact for the mixture: no model allowance. A t_S interval
 * decides when its half-width is at most 10% of t_S; a gap interval when its half-width is at most a
 * third of the gap it tests (repro_gap_rows). */
#define RES_TS 0.10
#define RES_GAP (1.0 / 3.0)

int repro_speciation_gmm(repro *r)
{
    static const size_t D[3] = { 64, 256, 1024 };
    clone_summary s[3];
    char lab[6][64];
    const char *labels[6];
    int st = RG_OK;
    size_t n = 0;
    for (size_t i = 0; i < 3 && !st; i++) {
        char extra[256], sub[64], what[96];
        snprintf(extra, sizeof extra, "--process ou --data gmm2 --dim %zu --sigma2 1", D[i]);
        snprintf(sub, sizeof sub, "speciation-gmm/d%zu", D[i]);
        st = repro_clone(r, sub, extra, 400, &s[i]);
        if (st) break;
        n++;
        const double tg = repro_grid_ts(&s[i], 0);
        snprintf(what, sizeof what, "t_S, d = %zu, \\|m\\|^2 = d (exact %.4g)", D[i], s[i].ts_theory[0]);
        repro_judge(r, 0, "speciation-gmm", what, tg, s[i].ts[0], s[i].ts_lo[0], s[i].ts_hi[0],
                    (repro_rule){ 0.0, "exact score", RES_TS * tg });
        snprintf(lab[2 * i], 64, "measured d = %zu", D[i]);
        snprintf(lab[2 * i + 1], 64, "theory d = %zu", D[i]);
        labels[2 * i] = lab[2 * i], labels[2 * i + 1] = lab[2 * i + 1];
    }
    if (!st) st = repro_plot_phi(r, "speciation-gmm.png", "Cloning curves, two-class GMM (docs/math.md 7.2)", n, s, labels, 0);
    for (size_t i = 0; i < n; i++) free(s[i].res);
    return st;
}

/* d = 16 per modality: with isotropic sigma^2 the class posterior sees only the projections of z on
 * m_c and m_d, the other coordinates relax as plain OU noise, so phi and the times do not depend on d
 * (docs/math.md 7.3); a small d buys pairs, and pairs buy precision. */
int repro_multimodal_gmm(repro *r)
{
    static const char *const CFG[][2] = {
        { "gamma-0.5", "--gamma -0.5" },  { "gamma0", "--gamma 0" },     { "gamma0.25", "--gamma 0.25" },
        { "gamma0.5", "--gamma 0.5" },    { "gamma0.75", "--gamma 0.75" },
        { "aniso-a", "--gamma-xy 0.6 --gamma-yx 0.2" },
        { "aniso-b", "--rate-x 1.5 --rate-y 0.8 --gamma-xy 0.3 --gamma-yx 0.3" },
        { "schedule", "--schedule piecewise:1:0,inf:0.6" },
    };
    enum { NC = sizeof CFG / sizeof CFG[0] };
    int st = RG_OK;
    double gx[NC], gm[NC], glo[NC], ghi[NC], gth[NC];
    size_t ng = 0;
    for (size_t i = 0; i < NC && !st; i++) {
        char extra[256], sub[96];
        snprintf(extra, sizeof extra, "--process coupled --data gmm4 --dim 16 --mc2 25 --md2 9 --sigma2 1 --steps 120 %s",
                 CFG[i][1]);
        snprintf(sub, sizeof sub, "multimodal-gmm/%s", CFG[i][0]);
        clone_summary s;
        st = repro_clone(r, sub, extra, 800, &s);
        if (st) break;
        repro_gap_rows(r, 0, "multimodal-gmm", CFG[i][0], &s, 0.0);
        if (i < 5) {
            gx[ng] = (double[]){ -0.5, 0, 0.25, 0.5, 0.75 }[i];
            gm[ng] = s.gap, glo[ng] = s.gap_lo, ghi[ng] = s.gap_hi, gth[ng] = s.gap_theory;
            ng++;
        }
        free(s.res);
    }
    if (!st && ng) {
        rg_io_series ser[2] = { { "measured gap", ng, gx, gm, glo, ghi, 1 }, { "theory", ng, gx, gth, NULL, NULL, 0 } };
        st = repro_plot(r, "multimodal-gmm.png", "Synchronization gap against gamma (cross-drive)", "gamma",
                        "t_S(common) - t_S(difference)", 2, ser);
    }
    return st;
}

void repro_gap_rows(repro *r, int headline, const char *exp, const char *label, const clone_summary *s, double gap_ref)
{
    static const char *const MODE[2] = { "common", "difference" };
    char what[160];
    const double tc = repro_grid_ts(s, 0), td = repro_grid_ts(s, 1), g = tc - td;
    for (size_t l = 0; l < 2; l++) {
        const double tg = l ? td : tc;
        snprintf(what, sizeof what, "t_S %s, %s (exact %.4g)", MODE[l], label, s->ts_theory[l]);
        repro_judge(r, 0, exp, what, tg, s->ts[l], s->ts_lo[l], s->ts_hi[l], (repro_rule){ 0.0, "exact score", RES_TS * tg });
    }
    snprintf(what, sizeof what, "gap t_S^c - t_S^d, %s (exact %.4g)", label, s->gap_theory);
    const double eff = fabs(g) >= RES_GAP * fabs(gap_ref) ? fabs(g) : fabs(gap_ref);
    repro_judge(r, headline, exp, what, g, s->gap, s->gap_lo, s->gap_hi, (repro_rule){ 0.0, "exact score", RES_GAP * eff });
}
