/* regimes data: Gaussian mixtures, training sets and the data-side helpers of the measurement layer.
 *
 * Mixture (docs/math.md 5.3):  p_0(z) = sum_j pi_j N(z; mu_j, C_j),  j = 0..K-1,  z in R^N.
 * Covariances are isotropic (C_j = sigma_j^2 I), diagonal (C_j = diag(c_j)) or full (C_j SPD, its
 * lower Cholesky factor R_j cached). Log-density, with e_j = R_j^{-1} (z - mu_j):
 *     l_j = log pi_j - sum_i log (R_j)_ii - |e_j|^2 / 2,    log p_0(z) = LSE_j(l_j) - (N/2) log 2 pi.
 *
 * Presets match `regimes theory` (theory.h) and the process layout (process.h: a state is a (k, r)
 * row-major array):
 *     gmm2  N = d:   p_0 = 1/2 N(+m, Cw) + 1/2 N(-m, Cw);  component 0 is +m, component 1 is -m.
 *     gmm4  N = 2d:  z = (x, y) stored as (2, d) row-major, x first. docs/math.md 7.1(c):
 *                    z_0 = s_c (e_c (x) m_c) + s_d (e_d (x) m_d) + sigma xi,  e_c = (1, 1), e_d = (1, -1),
 *                    i.e. x = s_c m_c + s_d m_d + sigma xi_x,  y = s_c m_c - s_d m_d + sigma xi_y,
 *                    four components of weight 1/4. Component index j = 2 [s_c < 0] + [s_d < 0]:
 *                    j = 0: (+,+), 1: (+,-), 2: (-,+), 3: (-,-)   (rg_data_gmm4_signs decodes it).
 * A training set is P x N float32 row-major with int labels = the component index of each point.
 *
 * Randomness (rng.h, stream RG_STREAM_DATA): point mu of a set drawn with rng r uses only
 *     its component:  one uniform u in (0, 1) = rg_rng_uniform(r, traj = mu, step = 1, index 0);
 *                     j = the first j with u < pi_0 + ... + pi_j (the last component if rounding
 *                     leaves u above the total);
 *     its noise:      N normals xi = rg_rng_normals(r, traj = mu, step = 0, ., N), indices 0..N-1;
 *                     z = mu_j + R_j xi (sigma_j xi, sqrt(c_j) * xi, or the Cholesky product), in
 *                     double, rounded once to float.
 * So point mu is the same whatever the set size, the slice drawn or the number of threads.
 *
 * Omitted on purpose: scores under the forward kernel (score module), MNIST/IDX (later), sampling
 * mixtures with singular covariances (a point mass is a training set, not a mixture).
 */
#ifndef REGIMES_DATA_H
#define REGIMES_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "regimes/rng.h"

/* ---- Gaussian mixtures ----------------------------------------------------------------------------- */
typedef enum {
    RG_COV_ISO,  /* cov: (K) sigma_j^2 > 0 */
    RG_COV_DIAG, /* cov: (K, N) diagonal entries > 0 */
    RG_COV_FULL  /* cov: (K, N, N) row-major symmetric positive definite matrices */
} rg_cov_kind;

typedef struct {
    size_t K;               /* number of components, >= 1 */
    size_t N;               /* dimension, >= 1 */
    const double *weights;  /* (K) pi_j > 0, summing to 1 within 1e-12 */
    const double *means;    /* (K, N) row-major mu_j */
    rg_cov_kind cov_kind;
    const double *cov;      /* layout by cov_kind, see above */
} rg_data_gmm_params;

typedef struct rg_data_gmm rg_data_gmm; /* opaque: validated copy, Cholesky factors and log-dets cached */

/* NULL if p describes a mixture, else a one-line reason ("weights sum to 0.9, want 1 (|err| <= 1e-12)",
 * "mean 2 contains NaN or Inf", "covariance 1 is not positive definite (leading minor 3)", ...).
 * The SPD test of a full covariance is its Cholesky factorisation (O(K N^3)). The reason is a
 * thread-local buffer, valid until the next check on the same thread. */
const char *rg_data_gmm_check(const rg_data_gmm_params *p);

/* Validate (RG_EINVAL for sizes, NULL arrays, NaN/Inf, weights; RG_EDOM for a non-positive variance
 * or a covariance that is not SPD, the message is rg_data_gmm_check's), copy and factorise.
 * *out is NULL on failure. RG_ENOMEM if allocation fails. */
int rg_data_gmm_new(const rg_data_gmm_params *p, rg_data_gmm **out);
void rg_data_gmm_free(rg_data_gmm *g); /* NULL is a no-op */

/* gmm2 (docs/math.md 5.4, 7.1 b): m = sqrt(mean_norm2) dir / |dir|. dir: (N) nonzero, or NULL for
 * (1, ..., 1). Cw: (N, N) SPD within-class covariance, or NULL for sigma2 I (sigma2 > 0; ignored when
 * Cw is given). RG_EINVAL / RG_EDOM as rg_data_gmm_new. */
int rg_data_gmm2(size_t N, double mean_norm2, const double *dir, double sigma2, const double *Cw,
                 rg_data_gmm **out);

/* gmm4 (docs/math.md 7.1 c), N = 2d: m_c = sqrt(mc2) dir_c / |dir_c|, m_d = sqrt(md2) dir_d / |dir_d|.
 * dir_c: (d) or NULL for (1, ..., 1); dir_d: (d) or NULL for (1, -1, 1, -1, ...). The directions must be
 * orthogonal (|dir_c . dir_d| <= 1e-12 |dir_c| |dir_d|), which the factorised score and the theory
 * assume, so the NULL defaults need an even d: RG_EINVAL otherwise. sigma2 > 0: isotropic noise. */
int rg_data_gmm4(size_t d, double mc2, double md2, const double *dir_c, const double *dir_d,
                 double sigma2, rg_data_gmm **out);

/* Decode a gmm4 component index into its signs s_c, s_d = +-1 (see the top of this file). */
void rg_data_gmm4_signs(int label, int *s_c, int *s_d);

size_t rg_data_gmm_K(const rg_data_gmm *g);
size_t rg_data_gmm_N(const rg_data_gmm *g);
const double *rg_data_gmm_weights(const rg_data_gmm *g); /* (K) */
const double *rg_data_gmm_means(const rg_data_gmm *g);   /* (K, N) */
rg_cov_kind rg_data_gmm_cov_kind(const rg_data_gmm *g);
const double *rg_data_gmm_cov(const rg_data_gmm *g);     /* as given, layout by cov_kind */
/* Lower Cholesky factors (K, N, N) of a full-covariance mixture, upper triangles zero; else NULL. */
const double *rg_data_gmm_chol(const rg_data_gmm *g);
/* Label direction l of a preset, scaled (|m_l|^2 = the mean_norm2 given): gmm2 l = 0 is m; gmm4 l = 0
 * is m_c and l = 1 is m_d, each (d). NULL for a general mixture or l out of range. */
const double *rg_data_gmm_direction(const rg_data_gmm *g, size_t l);

/* Exact log p_0 of B points z: (B, N) row-major double; logp: (B) out. log-sum-exp over components
 * in double (max subtracted), so it neither overflows nor underflows far from every mean.
 * Cost O(B K N) isotropic/diagonal, O(B K N^2) full. Returns RG_OK, RG_EINVAL (NaN/Inf in z), RG_ENOMEM. */
int rg_data_gmm_logpdf(const rg_data_gmm *g, const double *z, size_t B, double *logp);

/* Component posteriors at t = 0: the index of the largest l_j for each of B float rows (docs/math.md 8.4,
 * general GMM). Ties go to the smaller index. Returns RG_OK, RG_EINVAL, RG_ENOMEM. */
int rg_data_gmm_classify(const rg_data_gmm *g, const float *X, size_t B, int *labels);

/* Draw points first .. first + P - 1 of the mixture's sequence for rng r (addressing at the top):
 * X (P, N) float32 row-major out; labels (P) out or NULL. Returns RG_OK, RG_EINVAL (P = 0, first + P
 * overflows), RG_ENOMEM. Cost O(P N) isotropic/diagonal, O(P N^2) full. */
int rg_data_gmm_sample(const rg_data_gmm *g, rg_rng r, uint64_t first, size_t P, float *X, int *labels);

/* ---- training sets ----------------------------------------------------------------------------------- */
typedef struct {
    size_t P, N;  /* P points of dimension N */
    float *X;     /* (P, N) row-major, owned */
    int *labels;  /* (P) component index / class, owned; NULL when unknown (e.g. read from .npy) */
} rg_data_set;

/* Allocate a zeroed set (labels too when with_labels). RG_EINVAL (P or N = 0, P N overflows), RG_ENOMEM. */
int rg_data_set_new(size_t P, size_t N, int with_labels, rg_data_set **out);
void rg_data_set_free(rg_data_set *s); /* NULL is a no-op */

/* Points 0 .. P-1 of the mixture for rng r (rg_data_gmm_sample), with labels. */
int rg_data_set_draw(const rg_data_gmm *g, rg_rng r, size_t P, rg_data_set **out);

/* Read a (P, N) .npy (versions 1-3) of little-endian float32 or float64 (C order; float64 rounded to
 * float32), no labels.
 * N_want = 0 accepts any N, else it must match. Only a regular file is opened: a FIFO, device or
 * directory is refused before any read (RG_EIO "PATH: is not a regular file (a FIFO)"), so a FIFO
 * cannot hang the reader. The file's length must be exactly the header plus P N values, checked
 * before anything is allocated or read. RG_EIO (cannot open/read, not a regular file), RG_EFORMAT
 * (not .npy, other dtype, Fortran order, not 2-D, a zero dimension, N != N_want, NaN/Inf, truncated,
 * trailing bytes), RG_ENOMEM. */
int rg_data_set_read_npy(const char *path, size_t N_want, rg_data_set **out);
/* A float (P, N) .npy's shape, with every check of rg_data_set_read_npy except the values' (no data read). */
int rg_data_npy_shape(const char *path, size_t N_want, size_t *P, size_t *N);
/* Rows [lo, hi) of a float (P, N) .npy (0 <= lo < hi <= P, else RG_EINVAL): the same header and length
 * checks as rg_data_set_read_npy, then one seek and only those rows read (NaN/Inf checked in them), so a
 * rank of a sharded run never holds the whole file (docs/scale.md). */
int rg_data_set_read_npy_rows(const char *path, size_t N_want, size_t lo, size_t hi, rg_data_set **out);
/* The per-column mean (N) of the first P_use rows (0: all; RG_EINVAL beyond P) of a float .npy, streamed
 * one row at a time: rows rounded to float32 and added in order in double, as rg_data_center, so the
 * bits equal rg_data_center's of the whole set read into memory. Every row read is checked for NaN/Inf. */
int rg_data_npy_mean(const char *path, size_t N_want, size_t P_use, double *mean);
/* Read labels from a .npy (versions 1-3): shape (P,) or (P, 1), C order, an integer dtype |u1 |i1 <i2
 * <u2 <i4 <u4 <i8 <u8 (little-endian), every value in [0, 2^31 - 1). P_want = 0 accepts any P >= 1,
 * else P must equal it. *labels (P) is malloc'd: free() it; *labels = NULL and *P = 0 on failure.
 * The same file checks as rg_data_set_read_npy (regular file only, exact length before any read).
 * RG_EFORMAT with the reason: a float dtype ("... (floating point), want integers"), big-endian,
 * a negative or too large value (naming its index), wrong length, other shapes, truncated, trailing
 * bytes; RG_EIO, RG_EINVAL (NULL), RG_ENOMEM. */
int rg_data_labels_read_npy(const char *path, size_t P_want, int **labels, size_t *P);
/* Write X as a (P, N) float32 .npy, version 1.0, atomically (path.tmp, then rename). Labels are not
 * written. RG_EINVAL (empty set), RG_EIO, RG_ENOMEM. */
int rg_data_set_write_npy(const char *path, const rg_data_set *s);

/* ---- helpers for the measurement layer ---------------------------------------------------------------- */
/* Per-column mean (accumulated in double, in row order) subtracted in place. X: (P, N) float32.
 * mean: (N) out, or NULL. Returns RG_OK, RG_EINVAL (P or N = 0), RG_EDOM (X unchanged) when x - mean overflows float32. */
int rg_data_center(float *X, size_t P, size_t N, double *mean);
/* X[p, i] = (float)((double)X[p, i] - mean[i]): the subtraction of rg_data_center with a given mean (e.g.
 * rg_data_npy_mean's, applied to one rank's rows). RG_OK, or RG_EDOM (X unchanged) when a difference
 * overflows float32. */
int rg_data_subtract_mean(float *X, size_t P, size_t N, const double *mean);

/* Class means: means (K, N) row-major, mean k over the rows with labels[i] = k (accumulated in double in
 * row order). Every label in [0, K) and every class present. Returns RG_OK, RG_EINVAL. */
int rg_data_class_means(const float *X, size_t P, size_t N, const int *labels, size_t K, double *means);

/* Centred covariance C = Xc^T Xc / (P - 1), (N, N) row-major double, full (both triangles). X is not
 * modified: rows are centred in double blocks of 256 and accumulated with cblas_dsyrk, so there is
 * no E[x x^T] - mu mu^T cancellation. Cost P N^2 flops, memory N^2 + 256 N doubles. P >= 2.
 * Returns RG_OK, RG_EINVAL (P < 2, N = 0, NaN/Inf in X), RG_ENOMEM. */
int rg_data_covariance(const float *X, size_t P, size_t N, double *C);

/* Lambda = lambda_max(C) of the centred covariance above (docs/math.md 7.1 a, 10.2): rg_data_covariance,
 * then LAPACKE_dsyevr for the top eigenvalue only. Cost P N^2 (dsyrk) + ~4/3 N^3 (tridiagonal
 * reduction) flops and 8 N^2 bytes: N = 1024, P = 10^4 is ~1.2e10 flops (~1 s on one core);
 * N = 4096 needs 128 MiB and ~2.6e11 flops. Returns RG_OK, RG_EINVAL, RG_ENOMEM, RG_ENOCONV. */
int rg_data_covariance_top(const float *X, size_t P, size_t N, double *lambda_max);

/* docs/math.md 8.4, two-class GMM: label 0 where m . z >= 0, else 1 (the gmm2 component encoding).
 * X: (B, N) float32; m: (N); dot products in double. Returns RG_OK, RG_EINVAL. */
int rg_data_classify_gmm2(size_t N, const double *m, const float *X, size_t B, int *labels);

/* docs/math.md 8.4, gmm4: c = sign(m_c . (x + y)), d = sign(m_d . (x - y)) (0 counts as +), encoded as the
 * gmm4 component index 2 [c < 0] + [d < 0]. X: (B, 2d) rows (x, y); m_c, m_d: (d). */
int rg_data_classify_gmm4(size_t d, const double *m_c, const double *m_d, const float *X, size_t B,
                          int *labels);

#endif
