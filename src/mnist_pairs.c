/* Paired MNIST (docs/math.md 10.3): pairs of distinct real images whose classes follow a joint law with
 * agreement rho, and the common / difference spectra. Contracts: include/regimes/mnist.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mnist_internal.h"
#include "regimes/mnist.h"

/* idx: (P) out, the first P image indices of `digit` in file order, then shuffled (Fisher-Yates,
 * addressing in mnist.h). RG_EDOM if fewer than P images of that digit. */
static int class_perm(const rg_mnist_raw *m, int digit, size_t P, rg_rng r, size_t *idx)
{
    size_t got = 0;
    for (size_t i = 0; i < m->n && got < P; i++)
        if (m->labels[i] == digit) idx[got++] = i;
    if (got < P) RG_FAIL(RG_EDOM, "rg_mnist_pairs: digit %d has %zu images, want P = %zu", digit, got, P);
    for (size_t i = P - 1; i >= 1; i--) {
        size_t j = (size_t)rg_rng_index(r, (uint64_t)digit, 0, (uint64_t)(P - 1 - i), (uint64_t)(i + 1));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return RG_OK;
}

/* Class index (0 or 1) of modality `mod` (0 = x, 1 = y) in pair k; type order (0,0), (1,1), (0,1),
 * (1,0) with counts n_same, n_same, n_diff, n_diff. */
static int pair_class(size_t k, size_t n_same, size_t n_diff, int mod)
{
    if (k < n_same) return 0;
    if (k < 2 * n_same) return 1;
    if (k < 2 * n_same + n_diff) return mod == 0 ? 0 : 1;
    return mod == 0 ? 1 : 0;
}

static int pairs_check(const rg_mnist_raw *m, const int classes[2], size_t P, double rho)
{
    if (!m || !m->pixels || !m->labels) RG_FAIL(RG_EINVAL, "rg_mnist_pairs: need images and labels");
    if (!classes) RG_FAIL(RG_EINVAL, "rg_mnist_pairs: classes is NULL");
    for (int c = 0; c < 2; c++)
        if (classes[c] < 0 || classes[c] > 9)
            RG_FAIL(RG_EINVAL, "rg_mnist_pairs: class %d, want 0..9", classes[c]);
    if (classes[0] == classes[1]) RG_FAIL(RG_EINVAL, "rg_mnist_pairs: the two classes are both %d", classes[0]);
    if (P < 2 || P % 2) RG_FAIL(RG_EINVAL, "rg_mnist_pairs: P = %zu, want an even P >= 2", P);
    if (!(rho >= 0.0 && rho <= 1.0)) RG_FAIL(RG_EINVAL, "rg_mnist_pairs: rho = %g, want [0, 1]", rho);
    return RG_OK;
}

int rg_mnist_pairs(const rg_mnist_raw *m, const int classes[2], size_t P, double rho, rg_rng r,
                   int center, double *mean, rg_data_set **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_mnist_pairs: out is NULL");
    *out = NULL;
    RG_TRY(pairs_check(m, classes, P, rho));
    size_t N = m->rows * m->cols;
    size_t n_same = (size_t)llround(rho * (double)P / 2.0); /* n_00 = n_11 <= P / 2 */
    size_t n_diff = (P - 2 * n_same) / 2;                   /* n_01 = n_10 */
    size_t *idx = malloc(2 * P * sizeof *idx);
    if (!idx) RG_FAIL(RG_ENOMEM, "rg_mnist_pairs: out of memory for %zu indices", 2 * P);
    int st = class_perm(m, classes[0], P, r, idx);
    if (st == RG_OK) st = class_perm(m, classes[1], P, r, idx + P);
    rg_data_set *s = NULL;
    if (st == RG_OK) st = rg_data_set_new(P, 2 * N, 1, &s);
    if (st != RG_OK) {
        free(idx);
        return st;
    }
    size_t next[2] = {0, 0}; /* images of each class dealt so far: x of every pair, then y */
    for (int mod = 0; mod < 2; mod++)
        for (size_t k = 0; k < P; k++) {
            int c = pair_class(k, n_same, n_diff, mod);
            size_t img = idx[(size_t)c * P + next[c]++];
            rg_mnist__scale(m->pixels + img * N, N, s->X + k * 2 * N + (size_t)mod * N);
            if (mod == 0) s->labels[k] = 10 * classes[c];
            else s->labels[k] += classes[c];
        }
    RG_ASSERT(next[0] == P && next[1] == P);
    free(idx);
    /* (P, 2, N) row-major is (2P, N): one pooled per-pixel mean over x and y alike. */
    if ((st = rg_mnist__finish(s, 2 * P, N, center, mean)) != RG_OK) {
        rg_data_set_free(s);
        return st;
    }
    *out = s;
    return RG_OK;
}

int rg_mnist_pair_spectra(const rg_data_set *s, double *lambda_c, double *lambda_d)
{
    if (!s || !s->X) RG_FAIL(RG_EINVAL, "rg_mnist_pair_spectra: set is NULL");
    if (s->N < 2 || s->N % 2) RG_FAIL(RG_EINVAL, "rg_mnist_pair_spectra: N = %zu, want an even N >= 2", s->N);
    if (s->P < 2) RG_FAIL(RG_EINVAL, "rg_mnist_pair_spectra: P = %zu, want >= 2", s->P);
    size_t P = s->P, d = s->N / 2;
    float *U = malloc(P * d * sizeof *U), *V = malloc(P * d * sizeof *V);
    if (!U || !V) {
        free(U);
        free(V);
        RG_FAIL(RG_ENOMEM, "rg_mnist_pair_spectra: out of memory for 2 x %zu x %zu floats", P, d);
    }
    const double h = sqrt(0.5);
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < d; i++) {
            double x = (double)s->X[p * 2 * d + i], y = (double)s->X[p * 2 * d + d + i];
            U[p * d + i] = (float)(h * (x + y));
            V[p * d + i] = (float)(h * (x - y));
        }
    int st = RG_OK;
    if (lambda_c) st = rg_data_covariance_top(U, P, d, lambda_c);
    if (st == RG_OK && lambda_d) st = rg_data_covariance_top(V, P, d, lambda_d);
    free(U);
    free(V);
    return st;
}
