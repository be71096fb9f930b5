/* Estimators of docs/math.md 8 (measure.h). */
#include "regimes/measure.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regimes/error.h"
#include "internal.h"

/* ---- bootstrap ------------------------------------------------------------------------------------ */

/* Uniform index in [0, n) from the top 53 bits of a 64-bit word (bias <= n / 2^53). */
static size_t uindex(uint64_t w, size_t n)
{
    size_t j = (size_t)((double)(w >> 11) * 0x1p-53 * (double)n);
    return j < n ? j : n - 1;
}

/* Sums of `same` (and of same2, if given) over the n indices of replicate b of row `row`. */
static void resample(rg_rng r, uint64_t key, size_t row, uint64_t b, size_t n, const unsigned char *same,
                     const unsigned char *same2, size_t *s1, size_t *s2)
{
    uint64_t w[4];
    size_t a = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0) rg_rng_block(r, (key << 32) | row, b, i / 4, w);
        size_t j = uindex(w[i % 4], n);
        a += same[j];
        if (same2) c += same2[j];
    }
    *s1 = a;
    *s2 = c;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Percentiles 2.5 / 97.5 of v (n values, NANs dropped; sorted in place). NAN when more than 2.5% are NAN. */
static void percentiles(double *v, size_t n, double *lo, double *hi)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) v[k++] = v[i];
    if (k == 0 || (double)(n - k) > 0.025 * (double)n) {
        *lo = *hi = NAN;
        return;
    }
    qsort(v, k, sizeof *v, cmp_double);
    /* Linear interpolation between order statistics (type 7). */
    double q[2] = { 0.025, 0.975 }, out[2];
    for (int i = 0; i < 2; i++) {
        double h = q[i] * (double)(k - 1);
        size_t f = (size_t)floor(h);
        size_t c = f + 1 < k ? f + 1 : f;
        out[i] = v[f] + (h - (double)f) * (v[c] - v[f]);
    }
    *lo = out[0];
    *hi = out[1];
}

int rg_measure_phi(size_t n, const unsigned char *same, size_t n_boot, rg_rng r, uint64_t key, double *phi,
                   double *lo, double *hi)
{
    if (!same || !phi || !lo || !hi || n == 0 || n_boot == 0) RG_FAIL(RG_EINVAL, "measure: phi needs n >= 1 pairs and n_boot >= 1");
    size_t s = 0;
    for (size_t i = 0; i < n; i++) s += same[i] != 0;
    *phi = (double)s / (double)n;
    double *v = malloc(n_boot * sizeof *v);
    if (!v) RG_FAIL(RG_ENOMEM, "measure: out of memory for %zu bootstrap replicates", n_boot);
    for (size_t b = 0; b < n_boot; b++) {
        size_t s1, s2;
        resample(r, key, 0, b, n, same, NULL, &s1, &s2);
        v[b] = (double)s1 / (double)n;
    }
    percentiles(v, n_boot, lo, hi);
    free(v);
    return RG_OK;
}

/* ---- crossings ------------------------------------------------------------------------------------- */

static int check_times(size_t m, const double *t, int increasing)
{
    for (size_t i = 0; i < m; i++) {
        if (!isfinite(t[i])) RG_FAIL(RG_EINVAL, "measure: time %zu is not finite", i);
        if (i && (increasing ? t[i] <= t[i - 1] : t[i] >= t[i - 1]))
            RG_FAIL(RG_EINVAL, "measure: times must be strictly %s", increasing ? "increasing" : "decreasing");
    }
    return RG_OK;
}

/* Largest i with y[i] >= level, interpolated towards i + 1 (y falling through the level). */
static double cross_down(size_t m, const double *t, const double *y, double level)
{
    size_t i = m;
    for (size_t k = m; k-- > 0;)
        if (y[k] >= level) {
            i = k;
            break;
        }
    if (i >= m - 1) return NAN;
    double d = y[i] - y[i + 1];
    return t[i] + (d > 0 ? (y[i] - level) / d : 0.0) * (t[i + 1] - t[i]);
}

int rg_measure_crossing(size_t m, const double *t, const double *phi, double level, double *t_cross)
{
    if (!t || !phi || !t_cross || m < 2) RG_FAIL(RG_EINVAL, "measure: a crossing needs at least 2 points");
    if (!(level > 0 && level <= 1)) RG_FAIL(RG_EINVAL, "measure: level %g is outside (0, 1]", level);
    RG_TRY(check_times(m, t, 1));
    *t_cross = cross_down(m, t, phi, level);
    return RG_OK;
}

/* Shared by ts and ts_joint: point curves and n_boot replicate crossings per mode. Replicate b draws
 * its n pair indices once (traj = 1 << 32, step b) and uses them at every branch time and for both
 * modes: whole pairs are resampled across the curve (measure.h). */
static int curves(size_t m, const double *t_b, size_t n, const unsigned char *sa, const unsigned char *sb,
                  size_t n_boot, rg_rng r, double level, double *ca, double *cb, double *pa)
{
    double *ya = malloc(2 * m * sizeof *ya);
    size_t *idx = malloc(n * sizeof *idx);
    if (!ya || !idx) {
        free(ya), free(idx);
        RG_FAIL(RG_ENOMEM, "measure: out of memory");
    }
    double *yb = ya + m;
    uint64_t w[4];
    for (size_t b = 0; b < n_boot; b++) {
        for (size_t q = 0; q < n; q++) {
            if (q % 4 == 0) rg_rng_block(r, (uint64_t)1 << 32, b, q / 4, w);
            idx[q] = uindex(w[q % 4], n);
        }
        for (size_t i = 0; i < m; i++) {
            const unsigned char *ra = sa + i * n, *rb = sb ? sb + i * n : NULL;
            size_t s1 = 0, s2 = 0;
            for (size_t q = 0; q < n; q++) s1 += ra[idx[q]] != 0;
            for (size_t q = 0; rb && q < n; q++) s2 += rb[idx[q]] != 0;
            ya[i] = (double)s1 / (double)n;
            yb[i] = (double)s2 / (double)n;
            if (pa) pa[b * m + i] = ya[i];
        }
        ca[b] = cross_down(m, t_b, ya, level);
        if (sb) cb[b] = cross_down(m, t_b, yb, level);
    }
    free(ya), free(idx);
    return RG_OK;
}

static double mean_row(size_t n, const unsigned char *s)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += s[i] != 0;
    return (double)k / (double)n;
}

int rg_measure_ts(size_t m, const double *t_b, size_t n, const unsigned char *same, size_t n_boot, rg_rng r,
                  double level, double *t_s, double *lo, double *hi, double *phi, double *phi_lo, double *phi_hi)
{
    if (!t_b || !same || !t_s || !lo || !hi || !phi || !phi_lo || !phi_hi || m < 2 || n == 0 || n_boot == 0)
        RG_FAIL(RG_EINVAL, "measure: t_S needs >= 2 branch times, >= 1 pair and >= 1 replicate");
    if (!(level > 0 && level <= 1)) RG_FAIL(RG_EINVAL, "measure: level %g is outside (0, 1]", level);
    RG_TRY(check_times(m, t_b, 1));
    for (size_t i = 0; i < m; i++) phi[i] = mean_row(n, same + i * n);
    *t_s = cross_down(m, t_b, phi, level);
    double *c = malloc(n_boot * (1 + m) * sizeof *c);
    if (!c) RG_FAIL(RG_ENOMEM, "measure: out of memory for %zu replicates", n_boot);
    double *pr = c + n_boot; /* (n_boot, m) replicate curves */
    int st = curves(m, t_b, n, same, NULL, n_boot, r, level, c, NULL, pr);
    if (st == RG_OK) percentiles(c, n_boot, lo, hi);
    double *col = c; /* reuse: per-t_b percentiles of the replicate phi */
    for (size_t i = 0; i < m && st == RG_OK; i++) {
        for (size_t b = 0; b < n_boot; b++) col[b] = pr[b * m + i];
        percentiles(col, n_boot, &phi_lo[i], &phi_hi[i]);
    }
    free(c);
    return st;
}

int rg_measure_ts_joint(size_t m, const double *t_b, size_t n, const unsigned char *same_c,
                        const unsigned char *same_d, size_t n_boot, rg_rng r, double level, double *t_c,
                        double *t_d, double *gap, double *gap_lo, double *gap_hi)
{
    if (!t_b || !same_c || !same_d || !t_c || !t_d || !gap || !gap_lo || !gap_hi || m < 2 || n == 0 || n_boot == 0)
        RG_FAIL(RG_EINVAL, "measure: the gap needs >= 2 branch times, >= 1 pair and >= 1 replicate");
    if (!(level > 0 && level <= 1)) RG_FAIL(RG_EINVAL, "measure: level %g is outside (0, 1]", level);
    RG_TRY(check_times(m, t_b, 1));
    double *y = malloc((2 * m + 2 * n_boot) * sizeof *y);
    if (!y) RG_FAIL(RG_ENOMEM, "measure: out of memory for %zu replicates", n_boot);
    for (size_t i = 0; i < m; i++) {
        y[i] = mean_row(n, same_c + i * n);
        y[m + i] = mean_row(n, same_d + i * n);
    }
    *t_c = cross_down(m, t_b, y, level);
    *t_d = cross_down(m, t_b, y + m, level);
    *gap = *t_c - *t_d;
    double *ca = y + 2 * m, *cb = ca + n_boot;
    int st = curves(m, t_b, n, same_c, same_d, n_boot, r, level, ca, cb, NULL);
    for (size_t b = 0; b < n_boot; b++) ca[b] -= cb[b];
    if (st == RG_OK) percentiles(ca, n_boot, gap_lo, gap_hi);
    free(y);
    return st;
}

double rg_measure_phi_correct(double phi_obs, double e)
{
    double k = (1.0 - 2.0 * e) * (1.0 - 2.0 * e);
    return 0.5 + (phi_obs - 0.5) / k;
}

/* ---- collapse --------------------------------------------------------------------------------------- */

int rg_measure_f_entropy(size_t n, const double *lse, size_t N, double *f, double *se)
{
    if (!lse || !f || !se || n == 0 || N == 0) RG_FAIL(RG_EINVAL, "measure: f needs n >= 1 values and N >= 1");
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(lse[i])) RG_FAIL(RG_EINVAL, "measure: lse[%zu] is not finite", i);
        s += lse[i];
    }
    double mean = s / (double)n, v = 0;
    for (size_t i = 0; i < n; i++) v += (lse[i] - mean) * (lse[i] - mean);
    *f = 0.5 + mean / (double)N;
    *se = n > 1 ? sqrt(v / (double)(n - 1) / (double)n) / (double)N : (double)NAN;
    return RG_OK;
}

int rg_measure_tc(size_t m, const double *t, const double *f, double alpha, double level, double *t_c)
{
    if (!t || !f || !t_c || m < 2) RG_FAIL(RG_EINVAL, "measure: t_C needs at least 2 times");
    if (!(alpha > 0) || !isfinite(alpha)) RG_FAIL(RG_EINVAL, "measure: alpha %g must be positive", alpha);
    if (!(level > 0 && level <= 1)) RG_FAIL(RG_EINVAL, "measure: level %g is outside (0, 1]", level);
    RG_TRY(check_times(m, t, 1));
    /* The largest i with f_i / alpha <= level, towards i + 1 where f rises through it. */
    size_t i = m;
    for (size_t k = m; k-- > 0;)
        if (f[k] / alpha <= level) {
            i = k;
            break;
        }
    if (i >= m - 1) {
        *t_c = NAN;
        return RG_OK;
    }
    double a = f[i] / alpha, b = f[i + 1] / alpha;
    *t_c = t[i] + (b > a ? (level - a) / (b - a) : 0.0) * (t[i + 1] - t[i]);
    return RG_OK;
}

int rg_measure_last_switch(size_t J, const double *t, size_t n, const int *nearest, double *t_switch)
{
    if (!t || !nearest || !t_switch || J == 0) RG_FAIL(RG_EINVAL, "measure: last switch needs >= 1 record time");
    RG_TRY(check_times(J, t, 0));
    for (size_t i = 0; i < n; i++) {
        const int *row = nearest + i * J;
        size_t j = J - 1;
        while (j > 0 && row[j - 1] == row[J - 1]) j--;
        t_switch[i] = t[j];
    }
    return RG_OK;
}

/* ---- nearest training points ------------------------------------------------------------------------- */

/* Track the two smallest squared distances (ties keep the smaller index). */
static void keep2(double r2, size_t p, double *best, double *second, int *bi)
{
    if (r2 < *best) {
        *second = *best;
        *best = r2;
        *bi = (int)p;
    } else if (r2 < *second)
        *second = r2;
}

int rg_measure_norms(size_t P, const float *X, size_t N, double *xnorm)
{
    if (!X || !xnorm || P == 0 || N == 0) RG_FAIL(RG_EINVAL, "measure: norms need P, N >= 1");
    for (size_t p = 0; p < P; p++) {
        double xx = 0;
        for (size_t k = 0; k < N; k++) xx += (double)X[p * N + k] * (double)X[p * N + k];
        xnorm[p] = xx;
    }
    return RG_OK;
}

int rg_measure_nearest2_update(size_t B, const float *Z, size_t P, const float *X, const double *xnorm, size_t N,
                               size_t idx0, int *idx, double *best, double *second, float *work)
{
    if (!Z || (P && (!X || !xnorm || !work)) || !idx || !best || !second || B == 0 || N == 0)
        RG_FAIL(RG_EINVAL, "measure: nearest2 needs B, N >= 1 and non-NULL arrays");
    if (idx0 % RG_MEASURE_NEAREST_BLOCK) RG_FAIL(RG_EINVAL, "measure: nearest2 rows must start on a block of %d", RG_MEASURE_NEAREST_BLOCK);
    if (B > INT32_MAX || idx0 + P > INT32_MAX || N > INT32_MAX) RG_FAIL(RG_EINVAL, "measure: sizes exceed BLAS int");
    for (size_t p0 = 0; p0 < P; p0 += RG_MEASURE_NEAREST_BLOCK) {
        /* G = Z X^T (B x L) on one block of L rows, then r^2 = |z|^2 + |x|^2 - 2 G. */
        const size_t L = P - p0 < RG_MEASURE_NEAREST_BLOCK ? P - p0 : RG_MEASURE_NEAREST_BLOCK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)L, (int)N, 1.0f, Z, (int)N, X + p0 * N,
                    (int)N, 0.0f, work, (int)L);
        for (size_t b = 0; b < B; b++) {
            double zz = 0;
            for (size_t k = 0; k < N; k++) zz += (double)Z[b * N + k] * (double)Z[b * N + k];
            for (size_t p = 0; p < L; p++)
                keep2(fmax(0.0, zz + xnorm[p0 + p] - 2.0 * (double)work[b * L + p]), idx0 + p0 + p, &best[b], &second[b],
                      &idx[b]);
        }
    }
    return RG_OK;
}

void rg_measure_nearest2_fold(size_t B, const int *idx_o, const double *best_o, const double *second_o, int *idx,
                              double *best, double *second)
{
    for (size_t b = 0; b < B; b++) { /* the other range's two smallest, its minimum first: ties keep ours */
        if (idx_o[b] >= 0) keep2(best_o[b], (size_t)idx_o[b], &best[b], &second[b], &idx[b]);
        keep2(second_o[b], 0, &best[b], &second[b], &idx[b]); /* never below its best: no index taken */
    }
}

int rg_measure_nearest2(size_t B, const float *Z, size_t P, const float *X, const double *xnorm, size_t N,
                        int *idx, float *d1, float *d2, float *work)
{
    if (!Z || !X || !xnorm || !idx || !d1 || !d2 || !work || B == 0 || N == 0 || P < 2)
        RG_FAIL(RG_EINVAL, "measure: nearest2 needs B, N >= 1 and P >= 2");
    double *bs = malloc(2 * B * sizeof *bs);
    if (!bs) RG_FAIL(RG_ENOMEM, "measure: out of memory for %zu distances", B);
    for (size_t b = 0; b < B; b++) bs[b] = bs[B + b] = DBL_MAX, idx[b] = -1;
    int st = rg_measure_nearest2_update(B, Z, P, X, xnorm, N, 0, idx, bs, bs + B, work);
    for (size_t b = 0; b < B && st == RG_OK; b++) d1[b] = (float)sqrt(bs[b]), d2[b] = (float)sqrt(bs[B + b]);
    free(bs);
    return st;
}

int rg_measure_nearest2_naive(size_t B, const float *Z, size_t P, const float *X, size_t N, int *idx,
                              double *d1, double *d2)
{
    if (!Z || !X || !idx || !d1 || !d2 || B == 0 || N == 0 || P < 2)
        RG_FAIL(RG_EINVAL, "measure: nearest2 needs B, N >= 1 and P >= 2");
    for (size_t b = 0; b < B; b++) {
        double best = DBL_MAX, second = DBL_MAX;
        int bi = -1;
        for (size_t p = 0; p < P; p++) {
            double r2 = 0;
            for (size_t k = 0; k < N; k++) {
                double d = (double)Z[b * N + k] - (double)X[p * N + k];
                r2 += d * d;
            }
            keep2(r2, p, &best, &second, &bi);
        }
        idx[b] = bi;
        d1[b] = sqrt(best);
        d2[b] = sqrt(second);
    }
    return RG_OK;
}
