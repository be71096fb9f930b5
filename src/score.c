/* Exact scores (MATH.md 5.2, 5.3): empirical two-GEMM kernel, Gaussian mixture, naive references. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"
#include "regimes/linalg.h"
#include "regimes/score.h"

#define RG_LOG_2PI 1.8378770664093454836

/* ---- small core helpers ------------------------------------------------------------------------- */

/* Linv = L^{-1} for a (k, k) lower triangular L with a positive diagonal; upper triangle zero. */
static void tri_inverse(size_t k, const double *L, double *Linv)
{
    memset(Linv, 0, k * k * sizeof *Linv);
    for (size_t c = 0; c < k; c++) {
        for (size_t i = c; i < k; i++) {
            double v = (i == c) ? 1.0 : 0.0;
            for (size_t l = c; l < i; l++) v -= L[i * k + l] * Linv[l * k + c];
            Linv[i * k + c] = v / L[i * k + i];
        }
    }
}

static void transpose(size_t k, const double *A, double *At)
{
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) At[j * k + i] = A[i * k + j];
}

/* out = (C (x) I_r) in for one (k, r) state, float in and out, double accumulation. */
static void core_apply_f(size_t k, size_t r, const double *C, const float *in, float *out)
{
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < r; j++) {
            double v = 0.0;
            for (size_t l = 0; l < k; l++) v += C[i * k + l] * (double)in[l * r + j];
            out[i * r + j] = (float)v;
        }
    }
}

static void core_apply_d(size_t k, size_t r, const double *C, const double *in, double *out)
{
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < r; j++) {
            double v = 0.0;
            for (size_t l = 0; l < k; l++) v += C[i * k + l] * in[l * r + j];
            out[i * r + j] = v;
        }
    }
}

/* Dense (N, N) C (x) I_r. */
static void kron_eye(size_t k, size_t r, const double *C, double *F)
{
    size_t N = k * r;
    memset(F, 0, N * N * sizeof *F);
    for (size_t i = 0; i < k; i++)
        for (size_t l = 0; l < k; l++)
            for (size_t j = 0; j < r; j++) F[(i * r + j) * N + l * r + j] = C[i * k + l];
}

static int check_t(double t, int allow_zero)
{
    if (!(t > 0.0 || (allow_zero && t == 0.0)) || !isfinite(t))
        RG_FAIL(RG_EINVAL, "score time t = %g must be %s and finite", t, allow_zero ? ">= 0" : "> 0");
    return RG_OK;
}

/* ---- empirical score ------------------------------------------------------------------------------ */

struct rg_score_emp {
    const rg_process *p;
    size_t P, N, k, r, B_max;
    float *X;      /* (P, N) copy of the training set */
    float *Y;      /* (P, N) whitened training rows b_mu at t_cache */
    double *nrm;   /* (P) |b_mu|^2 */
    double t_cache;
    double *E, *S, *L, *Linv, *LinvT, *C; /* (k, k) each; C = L^{-1} E */
    float *W, *G, *Yh; /* workspaces: (B_max, N), (B_max, P), (B_max, N) */
    double *ny;        /* (B_max) */
};

void rg_score_emp_free(rg_score_emp *e)
{
    if (!e) return;
    free(e->X); free(e->Y); free(e->nrm); free(e->E); free(e->W); free(e->G); free(e->Yh); free(e->ny);
    free(e);
}

int rg_score_emp_new(const rg_process *p, const float *X, size_t P, size_t N, size_t B_max,
                     rg_score_emp **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_score_emp_new: out is NULL");
    *out = NULL;
    if (!p || !X) RG_FAIL(RG_EINVAL, "rg_score_emp_new: process or training set is NULL");
    if (P == 0 || B_max == 0) RG_FAIL(RG_EINVAL, "rg_score_emp_new: P = %zu and B_max = %zu must be >= 1", P, B_max);
    if (N != rg_process_dim(p))
        RG_FAIL(RG_EINVAL, "training dimension N = %zu differs from the process dimension %zu", N, rg_process_dim(p));
    if (P > (size_t)INT32_MAX || N > (size_t)INT32_MAX || B_max > (size_t)INT32_MAX || P > SIZE_MAX / N / sizeof(float)
        || B_max > SIZE_MAX / P / sizeof(float))
        RG_FAIL(RG_EINVAL, "rg_score_emp_new: sizes P = %zu, N = %zu, B_max = %zu too large", P, N, B_max);
    for (size_t i = 0; i < P * N; i++)
        if (!isfinite(X[i])) RG_FAIL(RG_EINVAL, "training set contains NaN or Inf (row %zu)", i / N);
    rg_score_emp *e = calloc(1, sizeof *e);
    if (!e) RG_FAIL(RG_ENOMEM, "rg_score_emp_new: out of memory");
    e->p = p; e->P = P; e->N = N; e->k = rg_process_core(p); e->r = rg_process_mult(p); e->B_max = B_max;
    e->t_cache = NAN;
    size_t kk = e->k * e->k;
    e->X = malloc(P * N * sizeof *e->X);
    e->Y = malloc(P * N * sizeof *e->Y);
    e->nrm = malloc(P * sizeof *e->nrm);
    e->E = malloc(6 * kk * sizeof *e->E);
    e->W = malloc(B_max * N * sizeof *e->W);
    e->G = malloc(B_max * P * sizeof *e->G);
    e->Yh = malloc(B_max * N * sizeof *e->Yh);
    e->ny = malloc(B_max * sizeof *e->ny);
    if (!e->X || !e->Y || !e->nrm || !e->E || !e->W || !e->G || !e->Yh || !e->ny) {
        rg_score_emp_free(e);
        RG_FAIL(RG_ENOMEM, "rg_score_emp_new: out of memory (P = %zu, N = %zu, B_max = %zu)", P, N, B_max);
    }
    e->S = e->E + kk; e->L = e->S + kk; e->Linv = e->L + kk; e->LinvT = e->Linv + kk; e->C = e->LinvT + kk;
    memcpy(e->X, X, P * N * sizeof *X);
    *out = e;
    return RG_OK;
}

/* Whitened training rows and the core factors at t (cached when t repeats). */
static int emp_prepare(rg_score_emp *e, double t)
{
    if (t == e->t_cache) return RG_OK;
    e->t_cache = NAN;
    size_t k = e->k, r = e->r, N = e->N;
    RG_TRY(rg_process_moments(e->p, t, e->E, e->S));
    RG_TRY(rg_linalg_chol(k, e->S, e->L));
    tri_inverse(k, e->L, e->Linv);
    transpose(k, e->Linv, e->LinvT);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            double v = 0.0;
            for (size_t l = 0; l <= i; l++) v += e->Linv[i * k + l] * e->E[l * k + j];
            e->C[i * k + j] = v;
        }
    for (size_t mu = 0; mu < e->P; mu++) {
        float *b = e->Y + mu * N;
        core_apply_f(k, r, e->C, e->X + mu * N, b);
        double s = 0.0;
        for (size_t i = 0; i < N; i++) s += (double)b[i] * (double)b[i];
        e->nrm[mu] = s;
    }
    e->t_cache = t;
    return RG_OK;
}

int rg_score_emp_eval(rg_score_emp *e, double t, size_t B, const float *x, float *s, rg_score_extra *extra)
{
    if (!e || !x || !s) RG_FAIL(RG_EINVAL, "rg_score_emp_eval: NULL argument");
    if (B == 0 || B > e->B_max) RG_FAIL(RG_EINVAL, "batch B = %zu outside 1 .. B_max = %zu", B, e->B_max);
    RG_TRY(check_t(t, 0));
    RG_TRY(emp_prepare(e, t));
    size_t k = e->k, r = e->r, N = e->N, P = e->P;
    for (size_t b = 0; b < B; b++) {
        float *y = e->W + b * N;
        core_apply_f(k, r, e->Linv, x + b * N, y);
        double v = 0.0;
        for (size_t i = 0; i < N; i++) v += (double)y[i] * (double)y[i];
        if (!isfinite(v)) RG_FAIL(RG_EINVAL, "score input row %zu contains NaN or Inf", b);
        e->ny[b] = v;
    }
    /* GEMM 1: G = Y_batch Y_X^T, (B, P) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)P, (int)N, 1.0f, e->W, (int)N, e->Y,
                (int)N, 0.0f, e->G, (int)P);
    for (size_t b = 0; b < B; b++) {
        float *g = e->G + b * P;
        double m = INFINITY;
        size_t arg = 0;
        for (size_t mu = 0; mu < P; mu++) {
            double r2 = e->ny[b] + e->nrm[mu] - 2.0 * (double)g[mu];
            if (r2 < m) { m = r2; arg = mu; }
        }
        double Z = 0.0;
        for (size_t mu = 0; mu < P; mu++) {
            double r2 = e->ny[b] + e->nrm[mu] - 2.0 * (double)g[mu];
            double w = exp(-0.5 * (r2 - m));
            Z += w;
            g[mu] = (float)w;
        }
        float inv = (float)(1.0 / Z);
        for (size_t mu = 0; mu < P; mu++) g[mu] *= inv;
        if (extra && extra->lse) extra->lse[b] = -0.5 * m + log(Z);
        if (extra && extra->nearest) extra->nearest[b] = (int)arg;
    }
    /* GEMM 2: Yhat = W Y_X, (B, N) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)N, (int)P, 1.0f, e->G, (int)P, e->Y,
                (int)N, 0.0f, e->Yh, (int)N);
    for (size_t b = 0; b < B; b++) {
        float *d = e->Yh + b * N;
        const float *y = e->W + b * N;
        for (size_t i = 0; i < N; i++) d[i] = d[i] - y[i]; /* yhat - y */
        core_apply_f(k, r, e->LinvT, d, s + b * N);         /* s = -L^{-T}(y - yhat) */
    }
    return RG_OK;
}

int rg_score_emp_fn(void *ctx, double t, size_t B, const float *x, float *s)
{
    return rg_score_emp_eval((rg_score_emp *)ctx, t, B, x, s, NULL);
}

int rg_score_emp_naive(const rg_process *p, const float *X, size_t P, size_t N, double t, size_t B,
                       const double *x, double *s, double *logp, double *lse, int *nearest)
{
    if (!p || !X || !x || !s) RG_FAIL(RG_EINVAL, "rg_score_emp_naive: NULL argument");
    if (P == 0 || N != rg_process_dim(p)) RG_FAIL(RG_EINVAL, "rg_score_emp_naive: P = %zu, N = %zu", P, N);
    RG_TRY(check_t(t, 0));
    size_t k = rg_process_core(p), r = rg_process_mult(p);
    double *E = malloc((4 * k * k + 2 * N * N + 3 * N + P) * sizeof *E);
    if (!E) RG_FAIL(RG_ENOMEM, "rg_score_emp_naive: out of memory");
    double *S = E + k * k, *L = S + k * k, *Li = L + k * k, *Si = Li + k * k, *Ef = Si + k * k,
           *Sif = Ef + N * N, *d = Sif + N * N, *zh = d + N, *q = zh + N, *lw = q + N;
    int st = rg_process_moments(p, t, E, S);
    if (st == RG_OK) st = rg_linalg_chol(k, S, L);
    if (st != RG_OK) { free(E); return st; }
    tri_inverse(k, L, Li);
    double logdetS = 0.0;
    for (size_t i = 0; i < k; i++) logdetS += 2.0 * log(L[i * k + i]);
    for (size_t i = 0; i < k; i++) /* S^{-1} = Li^T Li */
        for (size_t j = 0; j < k; j++) {
            double v = 0.0;
            for (size_t l = 0; l < k; l++) v += Li[l * k + i] * Li[l * k + j];
            Si[i * k + j] = v;
        }
    kron_eye(k, r, E, Ef);
    kron_eye(k, r, Si, Sif);
    for (size_t b = 0; b < B; b++) {
        const double *z = x + b * N;
        double mx = -INFINITY;
        size_t arg = 0;
        for (size_t mu = 0; mu < P; mu++) {
            for (size_t i = 0; i < N; i++) {
                double v = z[i];
                for (size_t j = 0; j < N; j++) v -= Ef[i * N + j] * (double)X[mu * N + j];
                d[i] = v;
            }
            double r2 = 0.0;
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < N; j++) r2 += d[i] * Sif[i * N + j] * d[j];
            lw[mu] = -0.5 * r2;
            if (lw[mu] > mx) { mx = lw[mu]; arg = mu; }
        }
        double Z = 0.0;
        for (size_t mu = 0; mu < P; mu++) Z += exp(lw[mu] - mx);
        double l = mx + log(Z);
        memset(zh, 0, N * sizeof *zh);
        for (size_t mu = 0; mu < P; mu++) {
            double w = exp(lw[mu] - l);
            for (size_t i = 0; i < N; i++) zh[i] += w * (double)X[mu * N + i];
        }
        for (size_t i = 0; i < N; i++) {
            double v = z[i];
            for (size_t j = 0; j < N; j++) v -= Ef[i * N + j] * zh[j];
            q[i] = v;
        }
        for (size_t i = 0; i < N; i++) {
            double v = 0.0;
            for (size_t j = 0; j < N; j++) v -= Sif[i * N + j] * q[j];
            s[b * N + i] = v;
        }
        if (lse) lse[b] = l;
        if (nearest) nearest[b] = (int)arg;
        if (logp) logp[b] = l - log((double)P) - 0.5 * ((double)N * RG_LOG_2PI + (double)r * logdetS);
    }
    free(E);
    return RG_OK;
}

/* ---- Gaussian-mixture score ------------------------------------------------------------------------ */

struct rg_score_gmm {
    const rg_process *p;
    const rg_data_gmm *g;
    size_t N, k, r, K, B_max;
    int core;        /* 1: isotropic covariances, core algebra; 0: dense N x N */
    size_t m;        /* size of each Rinv: k (core) or N (dense) */
    double t_cache;
    double *E, *S;   /* (k, k) */
    double *Ri, *RiT; /* (K, m, m) inverse Cholesky factors of Gamma_j and their transposes */
    double *c;       /* (K) log pi_j - log det R_j */
    double *mt;      /* (K, N) E mu_j */
    double *e, *l, *d, *v; /* workspaces (K, N), (K), (N), (N) */
    double *dense;   /* (3, N, N) dense scratch (dense path only) */
};

void rg_score_gmm_free(rg_score_gmm *m)
{
    if (!m) return;
    free(m->E); free(m->Ri); free(m->c); free(m->mt); free(m->e); free(m->dense);
    free(m);
}

int rg_score_gmm_new(const rg_process *p, const rg_data_gmm *g, size_t B_max, rg_score_gmm **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_score_gmm_new: out is NULL");
    *out = NULL;
    if (!p || !g) RG_FAIL(RG_EINVAL, "rg_score_gmm_new: process or mixture is NULL");
    if (B_max == 0) RG_FAIL(RG_EINVAL, "rg_score_gmm_new: B_max must be >= 1");
    size_t N = rg_process_dim(p);
    if (rg_data_gmm_N(g) != N)
        RG_FAIL(RG_EINVAL, "mixture dimension %zu differs from the process dimension %zu", rg_data_gmm_N(g), N);
    rg_score_gmm *m = calloc(1, sizeof *m);
    if (!m) RG_FAIL(RG_ENOMEM, "rg_score_gmm_new: out of memory");
    m->p = p; m->g = g; m->N = N; m->k = rg_process_core(p); m->r = rg_process_mult(p);
    m->K = rg_data_gmm_K(g); m->B_max = B_max; m->t_cache = NAN;
    m->core = rg_data_gmm_cov_kind(g) == RG_COV_ISO;
    m->m = m->core ? m->k : N;
    size_t K = m->K, mm = m->m * m->m;
    m->E = malloc(2 * m->k * m->k * sizeof *m->E);
    m->Ri = malloc(2 * K * mm * sizeof *m->Ri);
    m->c = malloc(K * sizeof *m->c);
    m->mt = malloc(K * N * sizeof *m->mt);
    m->e = malloc((K * N + K + 2 * N) * sizeof *m->e);
    if (!m->core) m->dense = malloc(3 * N * N * sizeof *m->dense);
    if (!m->E || !m->Ri || !m->c || !m->mt || !m->e || (!m->core && !m->dense)) {
        rg_score_gmm_free(m);
        RG_FAIL(RG_ENOMEM, "rg_score_gmm_new: out of memory (K = %zu, N = %zu)", K, N);
    }
    m->S = m->E + m->k * m->k;
    m->RiT = m->Ri + K * mm;
    m->l = m->e + K * N; m->d = m->l + K; m->v = m->d + N;
    *out = m;
    return RG_OK;
}

/* Dense Gamma_j = M C_j M^T + Sigma (N, N) into G, with M = E (x) I in Mf; T is scratch. */
static void gmm_dense_gamma(const rg_data_gmm *g, size_t j, size_t k, size_t r, const double *Mf,
                            const double *S, double *T, double *G)
{
    size_t N = k * r;
    const double *cov = rg_data_gmm_cov(g);
    rg_cov_kind kind = rg_data_gmm_cov_kind(g);
    /* T = M C_j */
    for (size_t a = 0; a < N; a++)
        for (size_t b = 0; b < N; b++) {
            double v = 0.0;
            if (kind == RG_COV_ISO) v = Mf[a * N + b] * cov[j];
            else if (kind == RG_COV_DIAG) v = Mf[a * N + b] * cov[j * N + b];
            else
                for (size_t c = 0; c < N; c++) v += Mf[a * N + c] * cov[(j * N + c) * N + b];
            T[a * N + b] = v;
        }
    /* G = T M^T + S (x) I */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)N, (int)N, 1.0, T, (int)N, Mf, (int)N,
                0.0, G, (int)N);
    for (size_t i = 0; i < k; i++)
        for (size_t l = 0; l < k; l++)
            for (size_t a = 0; a < r; a++) G[(i * r + a) * N + l * r + a] += S[i * k + l];
}

static int gmm_prepare(rg_score_gmm *m, double t)
{
    if (t == m->t_cache) return RG_OK;
    m->t_cache = NAN;
    size_t k = m->k, r = m->r, N = m->N, K = m->K, n = m->m;
    const double *w = rg_data_gmm_weights(m->g), *mu = rg_data_gmm_means(m->g);
    RG_TRY(rg_process_moments(m->p, t, m->E, m->S));
    for (size_t j = 0; j < K; j++) core_apply_d(k, r, m->E, mu + j * N, m->mt + j * N);
    double *Ri = m->Ri, *RiT = m->RiT;
    if (m->core) {
        const double *cov = rg_data_gmm_cov(m->g);
        for (size_t j = 0; j < K; j++) {
            double *Gj = Ri + j * n * n; /* build Gamma_j in place, then factor and invert via RiT */
            for (size_t a = 0; a < k; a++)
                for (size_t b = 0; b < k; b++) {
                    double v = 0.0;
                    for (size_t c = 0; c < k; c++) v += m->E[a * k + c] * m->E[b * k + c];
                    Gj[a * k + b] = cov[j] * v + m->S[a * k + b];
                }
            double *Rj = RiT + j * n * n;
            RG_TRY(rg_linalg_chol(k, Gj, Rj));
            double ld = 0.0;
            for (size_t a = 0; a < k; a++) ld += log(Rj[a * k + a]);
            m->c[j] = log(w[j]) - (double)r * ld;
            tri_inverse(k, Rj, Gj);
            transpose(k, Gj, Rj);
        }
    } else {
        double *Mf = m->dense, *T = Mf + N * N, *G = T + N * N;
        kron_eye(k, r, m->E, Mf);
        for (size_t j = 0; j < K; j++) {
            gmm_dense_gamma(m->g, j, k, r, Mf, m->S, T, G);
            RG_TRY(rg_linalg_chol(N, G, G));
            double ld = 0.0;
            for (size_t a = 0; a < N; a++) ld += log(G[a * N + a]);
            m->c[j] = log(w[j]) - ld;
            tri_inverse(N, G, Ri + j * n * n);
            transpose(N, Ri + j * n * n, RiT + j * n * n);
        }
    }
    m->t_cache = t;
    return RG_OK;
}

int rg_score_gmm_eval(rg_score_gmm *m, double t, size_t B, const float *x, float *s)
{
    if (!m || !x || !s) RG_FAIL(RG_EINVAL, "rg_score_gmm_eval: NULL argument");
    if (B == 0 || B > m->B_max) RG_FAIL(RG_EINVAL, "batch B = %zu outside 1 .. B_max = %zu", B, m->B_max);
    RG_TRY(check_t(t, 0));
    RG_TRY(gmm_prepare(m, t));
    size_t N = m->N, K = m->K, n = m->m, kc = m->core ? m->k : N, rc = m->core ? m->r : 1;
    for (size_t b = 0; b < B; b++) {
        const float *z = x + b * N;
        double mx = -INFINITY;
        for (size_t j = 0; j < K; j++) {
            for (size_t i = 0; i < N; i++) m->d[i] = (double)z[i] - m->mt[j * N + i];
            double *ej = m->e + j * N;
            core_apply_d(kc, rc, m->Ri + j * n * n, m->d, ej);
            double q = 0.0;
            for (size_t i = 0; i < N; i++) q += ej[i] * ej[i];
            if (!isfinite(q)) RG_FAIL(RG_EINVAL, "score input row %zu contains NaN or Inf", b);
            m->l[j] = m->c[j] - 0.5 * q;
            if (m->l[j] > mx) mx = m->l[j];
        }
        double Z = 0.0;
        for (size_t j = 0; j < K; j++) Z += exp(m->l[j] - mx);
        memset(m->v, 0, N * sizeof *m->v);
        for (size_t j = 0; j < K; j++) {
            double rho = exp(m->l[j] - mx) / Z;
            core_apply_d(kc, rc, m->RiT + j * n * n, m->e + j * N, m->d);
            for (size_t i = 0; i < N; i++) m->v[i] -= rho * m->d[i];
        }
        for (size_t i = 0; i < N; i++) s[b * N + i] = (float)m->v[i];
    }
    return RG_OK;
}

int rg_score_gmm_fn(void *ctx, double t, size_t B, const float *x, float *s)
{
    return rg_score_gmm_eval((rg_score_gmm *)ctx, t, B, x, s);
}

int rg_score_gmm_naive(const rg_process *p, const rg_data_gmm *g, double t, size_t B, const double *x,
                       double *s, double *logp)
{
    if (!p || !g || !x || !s) RG_FAIL(RG_EINVAL, "rg_score_gmm_naive: NULL argument");
    size_t N = rg_process_dim(p), k = rg_process_core(p), r = rg_process_mult(p), K = rg_data_gmm_K(g);
    if (rg_data_gmm_N(g) != N) RG_FAIL(RG_EINVAL, "mixture dimension differs from the process dimension");
    RG_TRY(check_t(t, 1));
    double *E = malloc((2 * k * k + (3 + K) * N * N + K * N + K + 3 * N + K) * sizeof *E);
    if (!E) RG_FAIL(RG_ENOMEM, "rg_score_gmm_naive: out of memory");
    double *S = E + k * k, *Mf = S + k * k, *T = Mf + N * N, *G = T + N * N, *R = G + N * N,
           *mt = R + K * N * N, *c = mt + K * N, *e = c + K, *u = e + N, *acc = u + N, *l = acc + N;
    const double *w = rg_data_gmm_weights(g), *mu = rg_data_gmm_means(g);
    int st = rg_process_moments(p, t, E, S);
    if (st != RG_OK) { free(E); return st; }
    kron_eye(k, r, E, Mf);
    for (size_t j = 0; j < K; j++) {
        gmm_dense_gamma(g, j, k, r, Mf, S, T, G);
        st = rg_linalg_chol(N, G, R + j * N * N);
        if (st != RG_OK) { free(E); return st; }
        double ld = 0.0;
        for (size_t a = 0; a < N; a++) ld += log(R[j * N * N + a * N + a]);
        c[j] = log(w[j]) - ld;
        for (size_t a = 0; a < N; a++) {
            double v = 0.0;
            for (size_t b = 0; b < N; b++) v += Mf[a * N + b] * mu[j * N + b];
            mt[j * N + a] = v;
        }
    }
    for (size_t b = 0; b < B; b++) {
        const double *z = x + b * N;
        double mx = -INFINITY;
        for (size_t j = 0; j < K; j++) { /* forward substitution R e = z - mt */
            const double *Rj = R + j * N * N;
            double q = 0.0;
            for (size_t a = 0; a < N; a++) {
                double v = z[a] - mt[j * N + a];
                for (size_t i = 0; i < a; i++) v -= Rj[a * N + i] * e[i];
                e[a] = v / Rj[a * N + a];
                q += e[a] * e[a];
            }
            l[j] = c[j] - 0.5 * q;
            if (l[j] > mx) mx = l[j];
        }
        double Z = 0.0;
        for (size_t j = 0; j < K; j++) Z += exp(l[j] - mx);
        memset(acc, 0, N * sizeof *acc);
        for (size_t j = 0; j < K; j++) {
            const double *Rj = R + j * N * N;
            double rho = exp(l[j] - mx) / Z;
            for (size_t a = 0; a < N; a++) { /* recompute e_j */
                double v = z[a] - mt[j * N + a];
                for (size_t i = 0; i < a; i++) v -= Rj[a * N + i] * e[i];
                e[a] = v / Rj[a * N + a];
            }
            for (size_t a = N; a-- > 0;) { /* back substitution R^T u = e */
                double v = e[a];
                for (size_t i = a + 1; i < N; i++) v -= Rj[i * N + a] * u[i];
                u[a] = v / Rj[a * N + a];
            }
            for (size_t a = 0; a < N; a++) acc[a] -= rho * u[a];
        }
        memcpy(s + b * N, acc, N * sizeof *acc);
        if (logp) logp[b] = mx + log(Z) - 0.5 * (double)N * RG_LOG_2PI;
    }
    free(E);
    return RG_OK;
}
