/* regimes noise: discrete DDPM noise schedules and their OU clock (docs/math.md 1.3, 11.1).
 *
 * A schedule is a table abar_k, k = 0 .. K-1, strictly decreasing in (0, 1): step k of a DDPM-style
 * model has the kernel z_k = sqrt(abar_k) z_0 + sqrt(1 - abar_k) xi, which is the OU process of this
 * toolkit (A = I) at the forward time
 *
 *     t_k = -1/2 log abar_k          (the OU clock; strictly increasing in k).
 *
 * Every time the toolkit computes is such an OU time; a schedule only translates it to a step:
 *     time -> step   the first k with t_k >= t   (equivalently abar_k <= e^{-2t}; for t = 1/2 log Lambda
 *                    this is the parent's first k with abar_k <= 1/Lambda);
 *     step -> time   t_k.
 * Under another process (coupled, nonrev) the same t_k is used and the kernel at step k is
 * N(M_{t_k} z_0, Sigma_{t_k}) (docs/math.md 1.3).
 *
 * Schedules:
 *   ddpm-linear(b0, b1, K)   beta_j = b0 + (b1 - b0) j / (K - 1),  abar_k = prod_{j<=k} (1 - beta_j),
 *                            accumulated as sum log1p(-beta_j) (t_k = -1/2 of that sum, no exp/log
 *                            round trip). The parent's schedule is (1e-4, 2e-2, 1000) (RG_NOISE_DDPM_*):
 *                            t_446 = 1.018226, t_500 = 1.2768, t_999 = 5.0589.
 *   ddpm-cosine(K)           Nichol & Dhariwal 2021: f(u) = cos^2(((u + s) / (1 + s)) pi / 2), s = 0.008,
 *                            beta_k = min(1 - f((k+1)/K) / f(k/K), 0.999), abar_k = prod_{j<=k} (1 - beta_j)
 *                            (the clipped product; unclipped steps give abar_k = f((k+1)/K) / f(0)).
 *   table                    any abar_k the caller has (a model's alphas_cumprod), or a text file with
 *                            one value per line.
 *
 * Errors: RG_EINVAL (NULL, sizes, a value NaN/Inf or outside (0, 1), K over RG_NOISE_MAX_STEPS),
 * RG_EDOM (not strictly decreasing, or two steps so close that their times t_k coincide in double),
 * RG_EIO / RG_EFORMAT (files), RG_ENOMEM. Messages name the index (and, for files, the line).
 * Thread-safety: a schedule is read-only after construction.
 * Omitted on purpose: continuous schedules beta(s) (docs/math.md 1.2: those are the OU process in the
 * clock t = 1/2 int beta), the sampler's own step rule (a schedule gives times; sampler.h integrates). */
#ifndef REGIMES_NOISE_H
#define REGIMES_NOISE_H

#include <stddef.h>

/* The parent's ddpm-linear defaults (docs/math.md 1.3). */
#define RG_NOISE_DDPM_B0 1e-4
#define RG_NOISE_DDPM_B1 2e-2
#define RG_NOISE_DDPM_STEPS 1000
/* Largest K any constructor accepts (a file of more values is refused before it is read whole). */
#define RG_NOISE_MAX_STEPS 10000000

typedef struct rg_noise rg_noise; /* opaque: abar_k and t_k, k = 0..K-1, validated */

/* ddpm-linear. 0 < b0 <= b1 < 1 (NaN refused), 2 <= K <= RG_NOISE_MAX_STEPS. RG_EDOM when the product
 * underflows or two times coincide (huge K with tiny betas). *out is NULL on failure. */
int rg_noise_ddpm_linear(double b0, double b1, size_t K, rg_noise **out);
/* ddpm-cosine, 1 <= K <= RG_NOISE_MAX_STEPS. */
int rg_noise_ddpm_cosine(size_t K, rg_noise **out);
/* A caller's table abar (K), copied: finite, in (0, 1), strictly decreasing, 1 <= K <= RG_NOISE_MAX_STEPS.
 * RG_EINVAL "abar[3] = 1.2 is outside (0, 1)", RG_EDOM "abar[7] = 0.5 is not below abar[6] = 0.5". */
int rg_noise_table(size_t K, const double *abar, rg_noise **out);
/* A text file: one abar per line (strtod syntax, blanks around it allowed), lines that are blank or
 * start with '#' (after blanks) skipped, nothing else on a line. Checked as rg_noise_table, with the
 * line number in the message. Refused before reading: a path that is not a regular file (FIFO,
 * device, directory: RG_EIO "... is not a regular file (a FIFO)"). RG_EFORMAT: a NUL byte, a line of
 * more than 255 characters, text that is not one number, no values, more than RG_NOISE_MAX_STEPS values. */
int rg_noise_read(const char *path, rg_noise **out);
void rg_noise_free(rg_noise *s); /* NULL is a no-op */

size_t rg_noise_steps(const rg_noise *s);            /* K */
double rg_noise_abar(const rg_noise *s, size_t k);   /* abar_k; NAN when k >= K */
double rg_noise_time(const rg_noise *s, size_t k);   /* t_k = -1/2 log abar_k; NAN when k >= K */
/* time -> step: *k = the first k with t_k >= t (binary search, O(log K)); t <= t_0 gives 0.
 * RG_EDOM when t > t_{K-1} (beyond the schedule: its last step is less noisy than t) or t is NaN;
 * RG_EINVAL for NULL. */
int rg_noise_step(const rg_noise *s, double t, size_t *k);

#endif
