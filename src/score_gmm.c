/* Exact Gaussian-mixture score under the forward kernel (docs/math.md 5.3, 5.4), and its naive reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "regimes/score.h"
#include "regimes/linalg.h"
#include "internal.h"
#include "score_internal.h"

#define GMM_CACHE_BYTES ((size_t)32 << 20) /* per-time caches of one score object, at most */
#define GMM_MAX_SLOTS 1024

typedef struct {
    int valid;
    double t;
    double *R;    /* iso: (K, k, k) core chol(Gamma_j); dense: (K, N, N) */
    double *Rinv; /* iso only: (K, k, k) R_j^{-1}, and below its transpose */
    double *RinvT;
    double *ld;   /* (K) sum_i log (R_j)_ii over the full N x N factor */
    double *mt;   /* (K, N) M_t mu_j */
    double *Ginv; /* iso: (K, k, k) Gamma_j^{-1} core (the tanh path uses j = 0) */
    double *w;    /* iso: (K, N) w_j = (Gamma_j^{-1} (x) I) M_t mu_j; tanh: g_t = w_0 */
    double *c;    /* iso: (K) log pi_j - ld_j - m_j . w_j / 2 */
} gmm_slot;

struct rg_score_gmm {
    const rg_process *p;
    const rg_data_gmm *g;
    size_t K, N, k, r;
    int iso, tanh_path, same_cov; /* same_cov: iso with one variance, so Gamma_j is the same for all j */
    gmm_slot *slot;   /* n_slot per-time caches, replaced round-robin (a clone run revisits its grid) */
    size_t n_slot, next;
    rg_score_gmm_ws *ws;
};

struct rg_score_gmm_ws {
    size_t B_max, N, K;
    double *z, *diff, *e, *u, *l;
};

static void slot_free(gmm_slot *s)
{
    free(s->R), free(s->Rinv), free(s->RinvT), free(s->ld), free(s->mt), free(s->Ginv), free(s->w), free(s->c);
}

void rg_score_gmm_free(rg_score_gmm *m)
{
    if (!m) return;
    for (size_t i = 0; m->slot && i < m->n_slot; i++) slot_free(&m->slot[i]);
    free(m->slot);
    rg_score_gmm_ws_free(m->ws);
    free(m);
}

rg_score_gmm_ws *rg_score_gmm_ws_new(const rg_score_gmm *m, size_t B_max)
{
    if (!m || B_max == 0) return NULL;
    rg_score_gmm_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->B_max = B_max;
    w->N = m->N;
    w->K = m->K;
    w->z = malloc(m->N * sizeof(double));
    w->diff = malloc(m->N * sizeof(double));
    w->e = malloc(m->N * sizeof(double));
    w->u = malloc(m->K * m->N * sizeof(double));
    w->l = malloc(m->K * sizeof(double));
    if (!w->z || !w->diff || !w->e || !w->u || !w->l) {
        rg_score_gmm_ws_free(w);
        return NULL;
    }
    return w;
}

void rg_score_gmm_ws_free(rg_score_gmm_ws *w)
{
    if (!w) return;
    free(w->z), free(w->diff), free(w->e), free(w->u), free(w->l);
    free(w);
}

/* K = 2, equal weights, mu_1 = -mu_0, one isotropic variance: the tanh form applies. */
static int detect_tanh(const rg_data_gmm *g)
{
    if (rg_data_gmm_K(g) != 2 || rg_data_gmm_cov_kind(g) != RG_COV_ISO) return 0;
    const double *w = rg_data_gmm_weights(g), *mu = rg_data_gmm_means(g), *c = rg_data_gmm_cov(g);
    const size_t N = rg_data_gmm_N(g);
    if (w[0] != w[1] || c[0] != c[1]) return 0;
    for (size_t i = 0; i < N; i++)
        if (mu[N + i] != -mu[i]) return 0;
    return 1;
}

int rg_score_gmm_new(const rg_process *p, const rg_data_gmm *g, size_t B_max, rg_score_gmm **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_score_gmm_new: out is NULL");
    *out = NULL;
    if (!p || !g || B_max == 0) RG_FAIL(RG_EINVAL, "rg_score_gmm_new: NULL process or mixture, or B_max = 0");
    if (rg_data_gmm_N(g) != rg_process_dim(p))
        RG_FAIL(RG_EINVAL, "rg_score_gmm_new: mixture dimension %zu != process dimension %zu", rg_data_gmm_N(g),
                rg_process_dim(p));
    rg_score_gmm *m = calloc(1, sizeof *m);
    if (!m) RG_FAIL(RG_ENOMEM, "rg_score_gmm_new: out of memory");
    m->p = p;
    m->g = g;
    m->K = rg_data_gmm_K(g);
    m->N = rg_data_gmm_N(g);
    m->k = rg_process_core(p);
    m->r = rg_process_mult(p);
    m->iso = rg_data_gmm_cov_kind(g) == RG_COV_ISO;
    m->tanh_path = detect_tanh(g);
    m->same_cov = m->iso;
    for (size_t j = 1; m->iso && j < m->K; j++) m->same_cov &= rg_data_gmm_cov(g)[j] == rg_data_gmm_cov(g)[0];
    const size_t K = m->K, N = m->N, kk = m->k * m->k;
    const size_t nR = m->iso ? K * kk : K * N * N, nI = m->iso ? K * kk : 1;
    const size_t bytes = (nR + 3 * nI + K + K * N + (m->iso ? K * N + K : 2)) * sizeof(double);
    m->n_slot = GMM_CACHE_BYTES / bytes;
    m->n_slot = m->n_slot < 2 ? 2 : m->n_slot > GMM_MAX_SLOTS ? GMM_MAX_SLOTS : m->n_slot;
    m->slot = calloc(m->n_slot, sizeof *m->slot);
    int ok = m->slot != NULL;
    for (size_t i = 0; i < m->n_slot && ok; i++) {
        gmm_slot *s = &m->slot[i];
        s->R = malloc(nR * sizeof(double));
        s->Rinv = malloc(nI * sizeof(double));
        s->RinvT = malloc(nI * sizeof(double));
        s->ld = malloc(K * sizeof(double));
        s->mt = malloc(K * N * sizeof(double));
        s->Ginv = malloc(nI * sizeof(double));
        s->w = malloc((m->iso ? K * N : 1) * sizeof(double));
        s->c = malloc((m->iso ? K : 1) * sizeof(double));
        ok = s->R && s->Rinv && s->RinvT && s->ld && s->mt && s->Ginv && s->w && s->c;
    }
    if (ok) m->ws = rg_score_gmm_ws_new(m, B_max);
    if (!ok || !m->ws) {
        rg_score_gmm_free(m);
        RG_FAIL(RG_ENOMEM, "rg_score_gmm_new: out of memory");
    }
    *out = m;
    return RG_OK;
}

int rg_score_gmm_is_tanh(const rg_score_gmm *m) { return m ? m->tanh_path : 0; }

static const gmm_slot *find_slot(const rg_score_gmm *m, double t)
{
    for (size_t i = 0; i < m->n_slot; i++)
        if (m->slot[i].valid && m->slot[i].t == t) return &m->slot[i];
    return NULL;
}

/* Dense Gamma_j = M C_j M^T + Sigma (N x N) from the core E, S. */
static void dense_gamma(const rg_score_gmm *m, size_t j, const double *E, const double *S, double *Gam,
                        double *tmp)
{
    const size_t N = m->N, k = m->k, r = m->r;
    const double *cov = rg_data_gmm_cov(m->g);
    const int diag = rg_data_gmm_cov_kind(m->g) == RG_COV_DIAG;
    /* tmp = M C_j: row (i, c) = sum_l E[i, l] C[(l, c), :] */
    for (size_t i = 0; i < k; i++)
        for (size_t c = 0; c < r; c++)
            for (size_t col = 0; col < N; col++) {
                double acc = 0.0;
                for (size_t l = 0; l < k; l++) {
                    const size_t row = l * r + c;
                    const double cv = diag ? (row == col ? cov[j * N + row] : 0.0) : cov[j * N * N + row * N + col];
                    acc += E[i * k + l] * cv;
                }
                tmp[(i * r + c) * N + col] = acc;
            }
    /* Gam = tmp M^T + Sigma: column (i2, c2) of M^T is E[i2, :] on coordinate c2 */
    for (size_t row = 0; row < N; row++)
        for (size_t i2 = 0; i2 < k; i2++)
            for (size_t c2 = 0; c2 < r; c2++) {
                double acc = 0.0;
                for (size_t l = 0; l < k; l++) acc += tmp[row * N + l * r + c2] * E[i2 * k + l];
                const size_t ri = row / r, rc = row % r;
                if (rc == c2) acc += S[ri * k + i2];
                Gam[row * N + i2 * r + c2] = acc;
            }
}

int rg_score_gmm_prepare(rg_score_gmm *m, double t)
{
    if (!m) RG_FAIL(RG_EINVAL, "rg_score_gmm_prepare: NULL object");
    if (!(t >= 0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "rg_score_gmm_prepare: t = %g, want 0 <= t < inf", t);
    if (find_slot(m, t)) return RG_OK;
    const size_t K = m->K, N = m->N, k = m->k, r = m->r, kk = k * k;
    gmm_slot *s = &m->slot[m->next];
    s->valid = 0;
    double *E = malloc(3 * kk * sizeof *E);
    double *tmp = m->iso ? NULL : malloc(N * N * sizeof *tmp);
    if (!E || (!m->iso && !tmp)) {
        free(E), free(tmp);
        RG_FAIL(RG_ENOMEM, "rg_score_gmm_prepare: out of memory");
    }
    double *S = E + kk, *G = S + kk;
    int st = rg_process_moments(m->p, t, E, S);
    const double *mu = rg_data_gmm_means(m->g), *cov = rg_data_gmm_cov(m->g);
    for (size_t j = 0; st == RG_OK && j < K; j++) {
        rg_score__apply_d(E, k, r, mu + j * N, s->mt + j * N);
        if (m->iso) {
            for (size_t a = 0; a < k; a++) /* G = sigma^2 E E^T + S */
                for (size_t b = 0; b < k; b++) {
                    double acc = 0.0;
                    for (size_t l = 0; l < k; l++) acc += E[a * k + l] * E[b * k + l];
                    G[a * k + b] = cov[j] * acc + S[a * k + b];
                }
            double *R = s->R + j * kk, *Ri = s->Rinv + j * kk;
            st = rg_linalg_chol(k, G, R);
            if (st == RG_OK) st = rg_score__inv(k, R, Ri);
            if (st != RG_OK) break;
            double ld = 0.0;
            for (size_t a = 0; a < k; a++) {
                ld += log(R[a * k + a]);
                for (size_t b = 0; b < k; b++) {
                    if (b > a) Ri[a * k + b] = 0.0;
                    s->RinvT[j * kk + b * k + a] = Ri[a * k + b];
                }
            }
            s->ld[j] = (double)r * ld;
            double *Gi = s->Ginv + j * kk, *wj = s->w + j * N;
            st = rg_score__inv(k, G, Gi);
            if (st != RG_OK) break;
            rg_score__apply_d(Gi, k, r, s->mt + j * N, wj); /* w_j = (Gamma_j^{-1} (x) I) m_j */
            double mw = 0.0;
            for (size_t i = 0; i < N; i++) mw += s->mt[j * N + i] * wj[i];
            s->c[j] = log(rg_data_gmm_weights(m->g)[j]) - s->ld[j] - 0.5 * mw;
        } else {
            double *R = s->R + j * N * N;
            dense_gamma(m, j, E, S, R, tmp);
            st = rg_linalg_chol(N, R, R);
            double ld = 0.0;
            for (size_t a = 0; st == RG_OK && a < N; a++) ld += log(R[a * N + a]);
            s->ld[j] = ld;
        }
    }
    free(E), free(tmp);
    if (st != RG_OK) return st;
    s->t = t;
    s->valid = 1;
    m->next = (m->next + 1) % m->n_slot;
    return RG_OK;
}

/* One row: s (N) and log p from the general formula of 5.3. */
static double row_general(const rg_score_gmm *m, const gmm_slot *sl, rg_score_gmm_ws *w, float *s)
{
    const size_t K = m->K, N = m->N, k = m->k, r = m->r, kk = k * k;
    const double *lw = rg_data_gmm_weights(m->g);
    double lmax = -INFINITY;
    for (size_t j = 0; j < K; j++) {
        for (size_t i = 0; i < N; i++) w->diff[i] = w->z[i] - sl->mt[j * N + i];
        double *u = w->u + j * N;
        if (m->iso) {
            rg_score__apply_d(sl->Rinv + j * kk, k, r, w->diff, w->e);
            rg_score__apply_d(sl->RinvT + j * kk, k, r, w->e, u);
        } else {
            const double *R = sl->R + j * N * N;
            memcpy(w->e, w->diff, N * sizeof(double));
            cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)N, R, (int)N, w->e, 1);
            memcpy(u, w->e, N * sizeof(double));
            cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)N, R, (int)N, u, 1);
        }
        double e2 = 0.0;
        for (size_t i = 0; i < N; i++) e2 += w->e[i] * w->e[i];
        w->l[j] = log(lw[j]) - sl->ld[j] - 0.5 * e2;
        if (w->l[j] > lmax) lmax = w->l[j];
    }
    double Z = 0.0;
    for (size_t j = 0; j < K; j++) Z += exp(w->l[j] - lmax);
    if (s) {
        for (size_t i = 0; i < N; i++) w->diff[i] = 0.0;
        for (size_t j = 0; j < K; j++) {
            const double rho = exp(w->l[j] - lmax) / Z;
            for (size_t i = 0; i < N; i++) w->diff[i] -= rho * w->u[j * N + i];
        }
        for (size_t i = 0; i < N; i++) s[i] = (float)w->diff[i];
    }
    return lmax + log(Z) - 0.5 * (double)N * RG__LOG_2PI;
}

/* One row by the tanh form of 5.4: s = -(G^{-1} (x) I) z + tanh(g . z) g. */
static void row_tanh(const rg_score_gmm *m, const gmm_slot *sl, rg_score_gmm_ws *w, float *s)
{
    const size_t N = m->N;
    rg_score__apply_d(sl->Ginv, m->k, m->r, w->z, w->e);
    double gz = 0.0;
    for (size_t i = 0; i < N; i++) gz += sl->w[i] * w->z[i];
    const double th = tanh(gz);
    for (size_t i = 0; i < N; i++) s[i] = (float)(th * sl->w[i] - w->e[i]);
}

int rg_score_gmm_eval_ws(const rg_score_gmm *m, rg_score_gmm_ws *w, double t, size_t B, const float *x,
                         float *s, double *logp)
{
    if (!m || !w || !x) RG_FAIL(RG_EINVAL, "rg_score_gmm_eval: NULL argument");
    if (B == 0 || B > w->B_max) RG_FAIL(RG_EINVAL, "rg_score_gmm_eval: B = %zu, want 1..%zu", B, w->B_max);
    if (w->N != m->N || w->K != m->K) RG_FAIL(RG_EINVAL, "rg_score_gmm_eval: workspace of another object");
    const gmm_slot *sl = find_slot(m, t);
    if (!sl) RG_FAIL(RG_EINVAL, "rg_score_gmm_eval: t = %.17g was not prepared", t);
    const size_t N = m->N;
    for (size_t b = 0; b < B; b++) {
        for (size_t i = 0; i < N; i++) w->z[i] = (double)x[b * N + i];
        float *sb = s ? s + b * N : NULL;
        if (m->tanh_path && sb && !logp) {
            row_tanh(m, sl, w, sb);
        } else {
            const double lp = row_general(m, sl, w, sb);
            if (logp) logp[b] = lp;
        }
    }
    return RG_OK;
}

int rg_score_gmm_eval(rg_score_gmm *m, double t, size_t B, const float *x, float *s)
{
    RG_TRY(rg_score_gmm_prepare(m, t));
    return rg_score_gmm_eval_ws(m, m->ws, t, B, x, s, NULL);
}

int rg_score_gmm_fn(void *ctx, double t, size_t B, const float *x, float *s)
{
    return rg_score_gmm_eval(ctx, t, B, x, s);
}

static int iface_prepare(void *ctx, double t) { return rg_score_gmm_prepare(ctx, t); }
static int iface_eval(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *ex)
{
    return rg_score_gmm_eval_ws(ctx, ws, t, B, x, s, ex ? ex->logp : NULL);
}
static void *iface_ws_new(void *ctx, size_t B_max) { return rg_score_gmm_ws_new(ctx, B_max); }
static void iface_ws_free(void *ws) { rg_score_gmm_ws_free(ws); }

rg_score rg_score_gmm_iface(rg_score_gmm *m)
{
    rg_score sc = { iface_prepare, iface_eval, iface_ws_new, iface_ws_free, m, 0, 0, 0 };
    return sc;
}

int rg_score__gmm_view(const rg_score *sc, double t, rg_score__mix *v)
{
    if (!sc || sc->eval != iface_eval || !sc->ctx) return 0;
    const rg_score_gmm *m = sc->ctx;
    const gmm_slot *sl = m->iso ? find_slot(m, t) : NULL;
    if (!sl) return 0;
    *v = (rg_score__mix){ m->K, m->k, m->r, m->N, m->same_cov, sl->Ginv, sl->w, sl->c };
    return 1;
}

/* ---- naive reference ------------------------------------------------------------------------------ */
int rg_score_gmm_naive(const rg_process *p, const rg_data_gmm *g, double t, size_t B, const double *x,
                       double *s, double *logp)
{
    if (!p || !g || !x || B == 0 || rg_data_gmm_N(g) != rg_process_dim(p))
        RG_FAIL(RG_EINVAL, "rg_score_gmm_naive: bad arguments");
    if (!(t >= 0)) RG_FAIL(RG_EINVAL, "rg_score_gmm_naive: t = %g, want >= 0", t);
    const size_t K = rg_data_gmm_K(g), N = rg_data_gmm_N(g), k = rg_process_core(p), r = rg_process_mult(p);
    const double *pw = rg_data_gmm_weights(g), *mu = rg_data_gmm_means(g), *cov = rg_data_gmm_cov(g);
    const rg_cov_kind ck = rg_data_gmm_cov_kind(g);
    double *E = malloc(k * k * sizeof *E), *S = malloc(k * k * sizeof *S);
    double *M = calloc(N * N, sizeof *M), *Sig = calloc(N * N, sizeof *Sig);
    double *C = malloc(N * N * sizeof *C), *MC = malloc(N * N * sizeof *MC);
    double *R = malloc(K * N * N * sizeof *R), *mt = malloc(K * N * sizeof *mt), *ld = malloc(K * sizeof *ld);
    double *e = malloc(N * sizeof *e), *l = malloc(K * sizeof *l), *u = malloc(K * N * sizeof *u);
    int st = (E && S && M && Sig && C && MC && R && mt && ld && e && l && u) ? RG_OK : RG_ENOMEM;
    if (st == RG_OK) st = rg_process_moments(p, t, E, S);
    if (st == RG_OK)
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                for (size_t c = 0; c < r; c++) {
                    M[(i * r + c) * N + j * r + c] = E[i * k + j];
                    Sig[(i * r + c) * N + j * r + c] = S[i * k + j];
                }
    for (size_t j = 0; st == RG_OK && j < K; j++) {
        for (size_t a = 0; a < N; a++)
            for (size_t b = 0; b < N; b++)
                C[a * N + b] = ck == RG_COV_FULL ? cov[j * N * N + a * N + b]
                               : a != b          ? 0.0
                               : ck == RG_COV_ISO ? cov[j]
                                                 : cov[j * N + a];
        for (size_t a = 0; a < N; a++)
            for (size_t b = 0; b < N; b++) {
                double acc = 0.0;
                for (size_t c = 0; c < N; c++) acc += M[a * N + c] * C[c * N + b];
                MC[a * N + b] = acc;
            }
        double *Rj = R + j * N * N;
        for (size_t a = 0; a < N; a++)
            for (size_t b = 0; b < N; b++) {
                double acc = Sig[a * N + b];
                for (size_t c = 0; c < N; c++) acc += MC[a * N + c] * M[b * N + c];
                Rj[a * N + b] = acc;
            }
        st = rg_linalg_chol(N, Rj, Rj);
        ld[j] = 0.0;
        for (size_t a = 0; st == RG_OK && a < N; a++) ld[j] += log(Rj[a * N + a]);
        for (size_t a = 0; a < N; a++) {
            double acc = 0.0;
            for (size_t c = 0; c < N; c++) acc += M[a * N + c] * mu[j * N + c];
            mt[j * N + a] = acc;
        }
    }
    for (size_t b = 0; st == RG_OK && b < B; b++) {
        double lmax = -INFINITY;
        for (size_t j = 0; j < K; j++) {
            const double *Rj = R + j * N * N;
            for (size_t a = 0; a < N; a++) { /* forward substitution R e = z - m_t */
                double acc = x[b * N + a] - mt[j * N + a];
                for (size_t c = 0; c < a; c++) acc -= Rj[a * N + c] * e[c];
                e[a] = acc / Rj[a * N + a];
            }
            double e2 = 0.0;
            for (size_t a = 0; a < N; a++) e2 += e[a] * e[a];
            double *uj = u + j * N;
            for (size_t a = N; a-- > 0;) { /* back substitution R^T u = e */
                double acc = e[a];
                for (size_t c = a + 1; c < N; c++) acc -= Rj[c * N + a] * uj[c];
                uj[a] = acc / Rj[a * N + a];
            }
            l[j] = log(pw[j]) - ld[j] - 0.5 * e2;
            if (l[j] > lmax) lmax = l[j];
        }
        double Z = 0.0;
        for (size_t j = 0; j < K; j++) Z += exp(l[j] - lmax);
        if (logp) logp[b] = lmax + log(Z) - 0.5 * (double)N * RG__LOG_2PI;
        if (s)
            for (size_t a = 0; a < N; a++) {
                double acc = 0.0;
                for (size_t j = 0; j < K; j++) acc -= exp(l[j] - lmax) / Z * u[j * N + a];
                s[b * N + a] = acc;
            }
    }
    free(E), free(S), free(M), free(Sig), free(C), free(MC), free(R), free(mt), free(ld), free(e), free(l), free(u);
    if (st == RG_ENOMEM) RG_FAIL(RG_ENOMEM, "rg_score_gmm_naive: out of memory");
    return st;
}
