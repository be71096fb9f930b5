/* `regimes theory --help`: every flag with its type, range, default and unit. */
#include <stdio.h>

#include "cli.h"

/* Sections, each under the 4095 characters ISO C guarantees for one string literal. */
static const char *const HELP[] = {
"usage: regimes theory [--process ou|coupled|nonrev|general] [flags] [--json]\n"
"\n"
"Predicted regimes of the linear forward process dz = -A(t) z dt + sqrt(2) dW on Gaussian-mixture\n"
"data: speciation t_S, collapse t_C, synchronization gap, relaxation rate, horizon. Every time is a\n"
"forward time in OU units (data at t = 0), the largest root on [1e-4, 200], or 'none'.\n"
"\n"
"Process\n"
"  --process K       ou | coupled | nonrev | general. Default ou.\n"
"                      ou       A = I on R^d\n"
"                      coupled  two modalities of d each, A = M (x) I_d with a 2x2 coupling M\n"
"                      nonrev   A = (I + Q) U, U symmetric positive definite, Q antisymmetric\n"
"                      general  any stable A read from --A\n"
"  --dim D           integer. ou: d in [1, 1e12], default 1000. coupled: d per modality in\n"
"                    [1, 1e12] (N = 2d), default 1000. nonrev: D in [1, 4096] for --U diag:,\n"
"                    default 64; with a U file it must equal the file's size (default: that size).\n"
"                    general: must equal the size of --A (default: that size). Time on 2 cores:\n"
"                    --U diag: with --Q optimal or zero, D = 1024 about 1.5 s, D = 4096 about 20 s;\n"
"                    a dense U or A: 7 s at 1024, 40 s at 2048, minutes at 4096.\n"
"coupled only\n"
"  --gamma G         real, coupling strength (1 / OU time). Default 0. cross: M = [[1, -G], [-G, 1]],\n"
"                    G in (-1, 1) (the stability bound); diffusive: M = [[1+G, -G], [-G, 1+G]],\n"
"                    G in (-0.5, inf). With the anisotropic flags: the default of g_xy and g_yx.\n"
"  --coupling F      cross | diffusive. Default cross.\n"
"  --gamma-xy G      real, g_xy; default --gamma. Any of these four flags selects the anisotropic\n"
"  --gamma-yx G      real, g_yx; default --gamma. M = [[a_x, -g_xy], [-g_yx, a_y]], which needs\n"
"  --rate-x A        real, a_x; default 1.        a_x + a_y > 0 and a_x a_y > g_xy g_yx (a stationary\n"
"  --rate-y A        real, a_y; default 1.        prior); not with --coupling.\n"
"  --schedule S      gamma(t) through the --coupling form. piecewise:T1:G1,T2:G2,...: gamma = G_i\n"
"                    for T_(i-1) <= t < T_i, the last G holds beyond the last T (T may be inf);\n"
"                    linear:T1:G1,...: knots (T_i, G_i), linear in between, constant outside.\n"
"                    T: strictly increasing forward times > 0 (OU units); every segment must be\n"
"                    stable. Not with --gamma or the anisotropic flags. Default: none.\n",
"nonrev only\n"
"  --U SPEC          diag:LO:HI = diag(linspace(LO, HI, D)), LO, HI > 0; or FILE: n lines of n\n"
"                    numbers, symmetric positive definite. Default diag:0.2:1.8.\n"
"  --Q Q             zero | optimal | FILE. optimal: the Lelievre-Nier-Pavliotis Q with omega_k = k\n"
"                    (all rates Re lambda = Tr U / D); FILE: n x n antisymmetric (write ./zero for\n"
"                    a file named zero). Default zero.\n"
"  --q-scale S       real, multiplies Q. Default 1.\n"
"general only\n"
"  --A FILE          the drift matrix, n lines of n numbers; must be stable (min Re eig(A) > 0).\n"
"\n",
"Data (two-class Gaussian mixtures; means are in data units, |m|^2 summed over all N coordinates)\n"
"  --data D          gmm2 | gmm4 | mnist | fashion. Default gmm2 for ou/nonrev/general, gmm4 for\n"
"                    coupled. mnist/fashion: real images, see 'Image data' below.\n"
"                      gmm2: z_0 = s m + noise, s = +-1 (ou, nonrev, general only)\n"
"                      gmm4: z_0 = s_c (e_c (x) m_c) + s_d (e_d (x) m_d) + noise, e_c = (1, 1),\n"
"                            e_d = (1, -1), m_c _|_ m_d (coupled only; gmm2 is an error there)\n"
"  --mean-norm2 X    real > 0, |m|^2 for gmm2. Default N (the parent paper's mixture).\n"
"  --mean-dir V      nonrev/general: direction of m. ones | slow | fast | eigen:I | FILE. slow/fast:\n"
"                    the eigenvector of U (nonrev) or of the symmetric part of A (general) with the\n"
"                    smallest/largest eigenvalue; eigen:I the I-th ascending, I in [0, N-1];\n"
"                    FILE: N numbers. Normalised, then scaled to |m|^2. Default ones.\n"
"  --mc2 X           real > 0, |m_c|^2 (gmm4). Default 25.\n"
"  --md2 X           real > 0, |m_d|^2 (gmm4). Default 25.\n"
"  --sigma2 S        real > 0, within-class variance sigma^2. Default 1.\n"
"  --cw C            nonrev/general within-class covariance Cw = sigma^2 C: I | U | Uinv | FILE.\n"
"                    U: nonrev only; Uinv: the stationary covariance (U^-1 for nonrev, whatever Q);\n"
"                    FILE: N x N symmetric positive definite. Default I.\n"
"  --n-train P       real >= 1, training points P for t_C (alpha = log P / N). Default 20000:\n"
"                    t_C is always computed, with this P when the flag is absent.\n"
"  --phi-times T,..  forward times > 0 (OU units): also report the clone-agreement probability\n"
"                    phi(t) = 1/2 [1 + E tanh^2(kappa + sqrt(kappa) xi)] of each label there\n"
"                    (MATH.md 7.2). Default: none.\n"
"\n",
"Output\n"
"  --json            one JSON object on stdout (schema: docs/cli.md) instead of the table.\n"
"  --help            this text.\n"
"\n"
"Reported: t_S (GMM exact, kappa = 1; gmm4: the later of the two modes), t_S_matrix\n"
"(lambda_max(K_t) = 1), t_S_parent (ou: 1/2 log(|m|^2 + sigma^2)), t_C (REM criterion), sync_gap\n"
"(gmm4: t_S common - t_S difference), relaxation rate min Re eig(A) (1 / OU time), horizon (kappa\n"
"<= 0.01 beyond it), horizon_min = 1 / (2 rate), for symmetric couplings the stable gamma range and\n"
"the gamma* that equalises both modes (MATH.md 7.4), and the modes (eigenvalues of A; per-mode t_S\n"
"for ou and coupled only: per-mode speciation is defined only for decoupled modes).\n"
"\n"
"Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input (one line on stderr).\n"
"Example: regimes theory --process coupled --gamma 0.5 --mc2 25 --md2 25 --json\n",
    NULL,
};

void theory_print_help(FILE *f)
{
    for (size_t i = 0; HELP[i]; i++) fputs(HELP[i], f);
    fputc('\n', f);
    theory_mnist_help(f);
}
