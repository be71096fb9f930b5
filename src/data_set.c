/* Training sets (P x N float32) and the data-side helpers of the measurement layer: drawing from a
 * mixture, centring, covariance and its top eigenvalue, the classification rules of
 * docs/math.md 8.4. Contracts: include/regimes/data.h. */
#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "regimes/data.h"

/* Rows centred per dsyrk call: 256 N doubles of scratch, and a rank-256 update keeps dsyrk near its
 * peak rate. */
#define DATA_COV_BLOCK 256

/* ---- sets ------------------------------------------------------------------------------------- */

int rg_data_set_new(size_t P, size_t N, int with_labels, rg_data_set **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_data_set_new: out is NULL");
    *out = NULL;
    if (P == 0 || N == 0) RG_FAIL(RG_EINVAL, "data set of %zu x %zu: both sizes must be >= 1", P, N);
    if (N > ((size_t)-1 / sizeof(float)) / P) RG_FAIL(RG_EINVAL, "data set of %zu x %zu is too large", P, N);
    rg_data_set *s = calloc(1, sizeof *s);
    if (!s) RG_FAIL(RG_ENOMEM, "out of memory for a data set");
    s->P = P;
    s->N = N;
    s->X = calloc(P * N, sizeof *s->X);
    if (with_labels) s->labels = calloc(P, sizeof *s->labels);
    if (!s->X || (with_labels && !s->labels)) {
        rg_data_set_free(s);
        RG_FAIL(RG_ENOMEM, "out of memory for a %zu x %zu data set", P, N);
    }
    *out = s;
    return RG_OK;
}

void rg_data_set_free(rg_data_set *s)
{
    if (!s) return;
    free(s->X);
    free(s->labels);
    free(s);
}

int rg_data_set_draw(const rg_data_gmm *g, rg_rng r, size_t P, rg_data_set **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_data_set_draw: out is NULL");
    *out = NULL;
    if (!g) RG_FAIL(RG_EINVAL, "rg_data_set_draw: mixture is NULL");
    rg_data_set *s;
    RG_TRY(rg_data_set_new(P, rg_data_gmm_N(g), 1, &s));
    int st = rg_data_gmm_sample(g, r, 0, P, s->X, s->labels);
    if (st != RG_OK) {
        rg_data_set_free(s);
        return st;
    }
    *out = s;
    return RG_OK;
}

/* ---- centring and spectra --------------------------------------------------------------------- */

/* Per-column mean of X (P, N) in double, rows added in order. */
static void column_mean(const float *X, size_t P, size_t N, double *mean)
{
    memset(mean, 0, N * sizeof *mean);
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < N; i++) mean[i] += (double)X[p * N + i];
    for (size_t i = 0; i < N; i++) mean[i] /= (double)P;
}

int rg_data_center(float *X, size_t P, size_t N, double *mean)
{
    if (!X || P == 0 || N == 0) RG_FAIL(RG_EINVAL, "center: empty data (%zu x %zu) or NULL", P, N);
    double *m = mean ? mean : malloc(N * sizeof *m);
    if (!m) RG_FAIL(RG_ENOMEM, "out of memory for column means");
    column_mean(X, P, N, m);
    const int st = rg_data_subtract_mean(X, P, N, m);
    if (!mean) free(m);
    return st;
}

int rg_data_subtract_mean(float *X, size_t P, size_t N, const double *mean)
{
    for (size_t p = 0; p < P; p++) /* first check, then change: X is left as it was on failure */
        for (size_t i = 0; i < N; i++) {
            const double d = (double)X[p * N + i] - mean[i];
            if (!(fabs(d) <= (double)FLT_MAX)) RG_FAIL(RG_EDOM, "center: row %zu, column %zu: x - mean = %g overflows float32", p, i, d);
        }
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < N; i++) X[p * N + i] = (float)((double)X[p * N + i] - mean[i]);
    return RG_OK;
}

int rg_data_class_means(const float *X, size_t P, size_t N, const int *labels, size_t K, double *means)
{
    if (!X || !labels || !means || P == 0 || N == 0 || K == 0) RG_FAIL(RG_EINVAL, "rg_data_class_means: NULL or empty");
    size_t *cnt = calloc(K, sizeof *cnt);
    if (!cnt) RG_FAIL(RG_ENOMEM, "rg_data_class_means: out of memory");
    memset(means, 0, K * N * sizeof *means);
    for (size_t i = 0; i < P; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= K) {
            free(cnt);
            RG_FAIL(RG_EINVAL, "rg_data_class_means: label %d of row %zu is outside [0, %zu)", labels[i], i, K);
        }
        double *m = means + (size_t)labels[i] * N;
        for (size_t j = 0; j < N; j++) m[j] += (double)X[i * N + j];
        cnt[labels[i]]++;
    }
    int st = RG_OK;
    for (size_t k = 0; k < K && st == RG_OK; k++) {
        if (!cnt[k]) st = rg__fail(RG_EINVAL, __FILE__, __LINE__, "rg_data_class_means: class %zu has no row", k);
        for (size_t j = 0; j < N && st == RG_OK; j++) means[k * N + j] /= (double)cnt[k];
    }
    free(cnt);
    return st;
}

static int check_data(const float *X, size_t P, size_t N, const char *who)
{
    if (!X) RG_FAIL(RG_EINVAL, "%s: data are NULL", who);
    if (P < 2 || N == 0) RG_FAIL(RG_EINVAL, "%s: need P >= 2 points and N >= 1, got %zu x %zu", who, P, N);
    if (N > 46340) RG_FAIL(RG_EINVAL, "%s: N = %zu is too large for an N x N LAPACK matrix", who, N);
    for (size_t k = 0; k < P * N; k++)
        if (!isfinite(X[k])) RG_FAIL(RG_EINVAL, "%s: point %zu contains NaN or Inf", who, k / N);
    return RG_OK;
}

int rg_data_covariance(const float *X, size_t P, size_t N, double *C)
{
    RG_TRY(check_data(X, P, N, "covariance"));
    if (!C) RG_FAIL(RG_EINVAL, "covariance: output is NULL");
    double *mean = malloc(N * sizeof *mean), *B = malloc(DATA_COV_BLOCK * N * sizeof *B);
    if (!mean || !B) {
        free(mean);
        free(B);
        RG_FAIL(RG_ENOMEM, "out of memory for the covariance scratch (N = %zu)", N);
    }
    column_mean(X, P, N, mean);
    for (size_t p0 = 0; p0 < P; p0 += DATA_COV_BLOCK) {
        size_t rows = P - p0 < DATA_COV_BLOCK ? P - p0 : DATA_COV_BLOCK;
        for (size_t p = 0; p < rows; p++)
            for (size_t i = 0; i < N; i++) B[p * N + i] = (double)X[(p0 + p) * N + i] - mean[i];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)N, (int)rows, 1.0, B, (int)N,
                    p0 == 0 ? 0.0 : 1.0, C, (int)N);
    }
    double f = 1.0 / (double)(P - 1);
    for (size_t i = 0; i < N; i++)
        for (size_t j = i; j < N; j++) C[j * N + i] = C[i * N + j] *= f;
    free(mean);
    free(B);
    return RG_OK;
}

int rg_data_covariance_top(const float *X, size_t P, size_t N, double *lambda_max)
{
    RG_TRY(check_data(X, P, N, "covariance_top"));
    if (!lambda_max) RG_FAIL(RG_EINVAL, "covariance_top: output is NULL");
    /* C, then w: dsyevr's W has dimension N even when one eigenvalue is asked for (it is workspace
     * too: a zero covariance, e.g. constant images, made it write N values into a w[1] on the stack;
     * found by tests/hardening.sh through theory --data mnist). */
    double *C = malloc((N * N + N) * sizeof *C);
    if (!C) RG_FAIL(RG_ENOMEM, "out of memory for the %zu x %zu covariance", N, N);
    int st = rg_data_covariance(X, P, N, C);
    if (st == RG_OK) {
        /* C is symmetric, so its row-major and column-major readings agree: no transposed copy. */
        lapack_int n = (lapack_int)N, m = 0, isuppz[2];
        double *w = C + N * N, z[1];
        lapack_int info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'N', 'I', 'U', n, C, n, 0.0, 0.0, n, n, 0.0, &m,
                                         w, z, 1, isuppz);
        if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
            st = rg__fail(RG_ENOMEM, __FILE__, __LINE__, "covariance_top: out of memory in dsyevr");
        else if (info != 0 || m != 1)
            st = rg__fail(RG_ENOCONV, __FILE__, __LINE__, "covariance_top: dsyevr did not converge (info %d)", (int)info);
        else
            *lambda_max = w[0];
    }
    free(C);
    return st;
}

/* ---- classification rules (docs/math.md 8.4) ------------------------------------------------------- */

static double dot_fd(const double *m, const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += m[i] * (double)x[i];
    return s;
}

int rg_data_classify_gmm2(size_t N, const double *m, const float *X, size_t B, int *labels)
{
    if (N == 0 || !m || (B && (!X || !labels))) RG_FAIL(RG_EINVAL, "classify_gmm2: empty or NULL argument");
    if (!rg__all_finite(m, N)) RG_FAIL(RG_EINVAL, "classify_gmm2: m contains NaN or Inf");
    for (size_t b = 0; b < B; b++) labels[b] = dot_fd(m, X + b * N, N) >= 0.0 ? 0 : 1;
    return RG_OK;
}

int rg_data_classify_gmm4(size_t d, const double *m_c, const double *m_d, const float *X, size_t B,
                          int *labels)
{
    if (d == 0 || !m_c || !m_d || (B && (!X || !labels)))
        RG_FAIL(RG_EINVAL, "classify_gmm4: empty or NULL argument");
    if (!rg__all_finite(m_c, d) || !rg__all_finite(m_d, d))
        RG_FAIL(RG_EINVAL, "classify_gmm4: m_c or m_d contains NaN or Inf");
    for (size_t b = 0; b < B; b++) {
        const float *x = X + b * 2 * d, *y = x + d;
        double mx_c = dot_fd(m_c, x, d), my_c = dot_fd(m_c, y, d);
        double mx_d = dot_fd(m_d, x, d), my_d = dot_fd(m_d, y, d);
        labels[b] = 2 * (mx_c + my_c < 0.0) + (mx_d - my_d < 0.0);
    }
    return RG_OK;
}
