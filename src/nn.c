/* nn: models, workspaces, the chunked forward and backward kernels (sgemm), the time embedding,
 * classifier prediction and score evaluation, and the naive double references. Contracts:
 * include/regimes/nn.h. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nn_internal.h"
#include "score_internal.h"
#include "regimes/linalg.h"
#include "regimes/rng.h"

/* Highest embedding frequency: w_j runs geometrically from 1 to this (nn.h). */
#define TEMB_WMAX 64.0

/* ---- architecture ------------------------------------------------------------------------------ */

const char *rg_nn_arch_check(const rg_nn_arch *a)
{
    if (!a) return "NULL architecture";
    if (a->task != RG_NN_CLASSIFIER && a->task != RG_NN_SCORE) return "unknown task";
    if (a->act != RG_NN_RELU && a->act != RG_NN_SILU) return "unknown activation";
    if (a->n_in < 1 || a->n_in > (1u << 24)) return "n_in must be in [1, 2^24]";
    if (a->n_hidden > RG_NN_MAX_HIDDEN) return "too many hidden layers (at most RG_NN_MAX_HIDDEN = 8)";
    for (size_t l = 0; l < a->n_hidden; l++)
        if (a->hidden[l] < 1 || a->hidden[l] > (1u << 16)) return "hidden widths must be in [1, 65536]";
    if (a->task == RG_NN_CLASSIFIER) {
        if (a->n_out < 2 || a->n_out > 65536) return "a classifier needs 2 .. 65536 classes";
        if (a->t_embed != 0) return "a classifier takes no time embedding (t_embed = 0)";
        if (a->sigma_data2 != 0.0) return "a classifier takes no preconditioning (sigma_data2 = 0)";
    } else {
        if (!(a->sigma_data2 >= 0.0) || isinf(a->sigma_data2)) return "sigma_data2 must be finite and >= 0";
        if (a->n_out != a->n_in) return "a score network has n_out = n_in";
        if (a->t_embed < 2 || a->t_embed % 2 || a->t_embed > 4096) return "t_embed must be even, in [2, 4096]";
    }
    return NULL;
}

static void layout(rg_nn_model *m)
{
    const rg_nn_arch *a = &m->a;
    m->nl = a->n_hidden + 1;
    size_t off = 0, w = a->n_in + a->t_embed;
    m->maxw = w;
    for (size_t l = 0; l < m->nl; l++) {
        m->in[l] = l == 0 ? a->n_in + a->t_embed : a->hidden[l - 1];
        m->out[l] = l < a->n_hidden ? a->hidden[l] : a->n_out;
        m->woff[l] = off;
        off += m->in[l] * m->out[l];
        m->boff[l] = off;
        off += m->out[l];
        if (m->out[l] > m->maxw) m->maxw = m->out[l];
    }
    m->nparams = off;
}

int rg_nn_model_new(const rg_nn_arch *a, uint64_t seed, rg_nn_model **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_nn_model_new: NULL out");
    *out = NULL;
    const char *why = rg_nn_arch_check(a);
    if (why) RG_FAIL(RG_EINVAL, "rg_nn_model_new: %s", why);
    rg_nn_model *m = calloc(1, sizeof *m);
    if (!m) RG_FAIL(RG_ENOMEM, "rg_nn_model_new: out of memory");
    m->a.task = a->task; /* field by field: padding stays zero, unused widths 0 */
    m->a.act = a->act;
    m->a.n_in = a->n_in;
    m->a.n_out = a->n_out;
    m->a.n_hidden = a->n_hidden;
    m->a.t_embed = a->t_embed;
    m->a.sigma_data2 = a->sigma_data2;
    for (size_t l = 0; l < a->n_hidden; l++) m->a.hidden[l] = a->hidden[l];
    layout(m);
    m->p = calloc(m->nparams, sizeof *m->p);
    if (!m->p) {
        size_t np = m->nparams;
        free(m);
        RG_FAIL(RG_ENOMEM, "rg_nn_model_new: out of memory (%zu parameters)", np);
    }
    const rg_rng r = { .seed = seed, .stream = RG_STREAM_NN_INIT };
    for (size_t l = 0; l < m->nl; l++) {   /* He: N(0, 2 / fan_in); biases stay 0 */
        size_t n = m->in[l] * m->out[l];
        float *W = m->p + m->woff[l];
        rg_rng_normals(r, l, 0, W, n);
        float sc = (float)sqrt(2.0 / (double)m->in[l]);
        for (size_t i = 0; i < n; i++) W[i] *= sc;
    }
    *out = m;
    return RG_OK;
}

void rg_nn_model_free(rg_nn_model *m)
{
    if (!m) return;
    free(m->p);
    free(m);
}

int rg_nn__arch_equal(const rg_nn_arch *a, const rg_nn_arch *b)
{
    if (a->task != b->task || a->act != b->act || a->n_in != b->n_in || a->n_out != b->n_out ||
        a->n_hidden != b->n_hidden || a->t_embed != b->t_embed || a->sigma_data2 != b->sigma_data2)
        return 0;
    for (size_t l = 0; l < a->n_hidden; l++)
        if (a->hidden[l] != b->hidden[l]) return 0;
    return 1;
}

const rg_nn_arch *rg_nn_model_arch(const rg_nn_model *m) { return &m->a; }
size_t rg_nn_model_nparams(const rg_nn_model *m) { return m->nparams; }
float *rg_nn_model_params(rg_nn_model *m) { return m->p; }
const float *rg_nn_model_params_const(const rg_nn_model *m) { return m->p; }

rg_nn_arch rg_nn_classifier_arch(size_t n_in, size_t n_classes, size_t n_hidden, const size_t *widths)
{
    rg_nn_arch a = { .task = RG_NN_CLASSIFIER, .n_in = n_in, .n_out = n_classes, .n_hidden = n_hidden,
                     .act = RG_NN_RELU, .t_embed = 0 };
    for (size_t l = 0; l < n_hidden && l < RG_NN_MAX_HIDDEN; l++) a.hidden[l] = widths[l];
    return a;
}

rg_nn_arch rg_nn_score_arch(size_t N, size_t t_embed, size_t n_hidden, const size_t *widths)
{
    rg_nn_arch a = { .task = RG_NN_SCORE, .n_in = N, .n_out = N, .n_hidden = n_hidden,
                     .act = RG_NN_SILU, .t_embed = t_embed };
    for (size_t l = 0; l < n_hidden && l < RG_NN_MAX_HIDDEN; l++) a.hidden[l] = widths[l];
    return a;
}

/* ---- workspaces -------------------------------------------------------------------------------- */

static size_t chunk_floats(const rg_nn_model *m)
{
    size_t n = m->in[0] + 2 * m->maxw;
    for (size_t l = 0; l < m->nl; l++) n += 2 * m->out[l];
    return n * RG_NN_CHUNK;
}

int rg_nn__work_alloc(const rg_nn_model *m, size_t nchunks, size_t ncore, rg_nn_work *w)
{
    memset(w, 0, sizeof *w);
    size_t per = chunk_floats(m);
    w->nchunks = nchunks;
    w->k = ncore;
    w->c = calloc(nchunks, sizeof *w->c);
    w->block = malloc(nchunks * per * sizeof *w->block);
    w->dblock = malloc(nchunks * (ncore + 1) * sizeof *w->dblock);
    if (!w->c || !w->block || !w->dblock) {
        rg_nn__work_release(w);
        RG_FAIL(RG_ENOMEM, "rg_nn: out of memory for %zu chunk workspaces", nchunks);
    }
    for (size_t c = 0; c < nchunks; c++) {
        float *q = w->block + c * per;
        rg_nn__chunk *ch = &w->c[c];
        ch->act[0] = q;
        q += RG_NN_CHUNK * m->in[0];
        for (size_t l = 0; l < m->nl; l++) {
            ch->z[l] = q;
            q += RG_NN_CHUNK * m->out[l];
            ch->act[l + 1] = q;
            q += RG_NN_CHUNK * m->out[l];
        }
        ch->d0 = q;
        q += RG_NN_CHUNK * m->maxw;
        ch->d1 = q;
        ch->core = w->dblock + c * (ncore + 1);
    }
    return RG_OK;
}

void rg_nn__work_release(rg_nn_work *w)
{
    free(w->c);
    free(w->block);
    free(w->dblock);
    free(w->ybuf);
    free(w->L);
    free(w->pc);
    memset(w, 0, sizeof *w);
}

int rg_nn_work_new(const rg_nn_model *m, size_t B_max, rg_nn_work **out)
{
    if (!m || !out || B_max < 1) RG_FAIL(RG_EINVAL, "rg_nn_work_new: NULL argument or B_max = 0");
    *out = NULL;
    rg_nn_work *w = malloc(sizeof *w);
    if (!w) RG_FAIL(RG_ENOMEM, "rg_nn_work_new: out of memory");
    /* score: L_t (at most n_in x n_in core) shared, and n_in doubles per chunk for the solve */
    size_t k = m->a.task == RG_NN_SCORE ? m->a.n_in : 0;
    int st = rg_nn__work_alloc(m, (B_max + RG_NN_CHUNK - 1) / RG_NN_CHUNK, k, w); /* k per chunk */
    if (st != RG_OK) {
        free(w);
        return st;
    }
    w->B_max = B_max;
    w->ybuf = malloc(B_max * m->a.n_out * sizeof *w->ybuf);
    w->L = k ? malloc(k * k * sizeof *w->L) : NULL;
    /* preconditioned: room for cores up to 16 (ou, coupled, small dense) up front, larger on demand */
    w->pc_k = m->a.sigma_data2 > 0.0 ? (k < RG_NN__KMAX_STACK ? k : RG_NN__KMAX_STACK) : 0;
    w->pc = w->pc_k ? malloc(RG_NN__PC_DOUBLES(w->pc_k) * sizeof *w->pc) : NULL;
    if (!w->ybuf || (k && !w->L) || (w->pc_k && !w->pc)) {
        rg_nn__work_release(w);
        free(w);
        RG_FAIL(RG_ENOMEM, "rg_nn_work_new: out of memory");
    }
    *out = w;
    return RG_OK;
}

void rg_nn_work_free(rg_nn_work *w)
{
    if (!w) return;
    rg_nn__work_release(w);
    free(w);
}

/* ---- layers ------------------------------------------------------------------------------------ */

void rg_nn_time_embed(double t, size_t t_embed, float *e)
{
    size_t h = t_embed / 2;
    for (size_t j = 0; j < h; j++) {
        double w = h > 1 ? pow(TEMB_WMAX, (double)j / (double)(h - 1)) : 1.0;
        e[j] = (float)sin(w * t);
        e[h + j] = (float)cos(w * t);
    }
}

double rg_nn__temb_arg(const rg_nn_arch *a, double t) { return a->sigma_data2 > 0.0 ? 0.25 * log(t) : t; }

int rg_nn__precond(const rg_process *p, double t, double s2, double *scratch, rg_nn__pc *pc)
{
    const size_t k = rg_process_core(p), kk = k * k;
    double *E = scratch, *Sg = E + kk, *L = Sg + kk, *Si = L + kk, *G = Si + kk;
    RG_TRY(rg_process_moments(p, t, E, Sg));
    RG_TRY(rg_linalg_chol(k, Sg, L));   /* = rg_process_chol, without computing the moments again */
    double trS = 0.0;
    for (size_t i = 0; i < k; i++)   /* S = s2 E E^T + Sigma, lower triangle is enough for dpotrf */
        for (size_t j = 0; j <= i; j++) {
            double v = 0.0;
            for (size_t a = 0; a < k; a++) v += E[i * k + a] * E[j * k + a];
            Si[i * k + j] = s2 * v + Sg[i * k + j];
            if (i == j) trS += Si[i * k + i];
        }
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)k, Si, (lapack_int)k);
    if (info == 0) info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)k, Si, (lapack_int)k);
    if (info != 0 || !(trS > 0.0))
        RG_FAIL(RG_EINVAL, "preconditioning at t = %g: S_t = s2 E E^T + Sigma_t is not positive definite", t);
    double trSS = 0.0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < i; j++) Si[j * k + i] = Si[i * k + j];
    for (size_t i = 0; i < kk; i++) trSS += Si[i] * Sg[i];
    for (size_t i = 0; i < k; i++)   /* G = L^T S^{-1}: (L^T)_{ia} = L_{ai}, L lower */
        for (size_t j = 0; j < k; j++) {
            double v = 0.0;
            for (size_t a = i; a < k; a++) v += L[a * k + i] * Si[a * k + j];
            G[i * k + j] = v;
        }
    pc->E = E;
    pc->L = L;
    pc->Sinv = Si;
    pc->G = G;
    pc->cin = 1.0 / sqrt(trS / (double)k);
    /* 1 - tr(S^-1 Sigma)/k = s2 tr(E^T S^-1 E)/k > 0; floored where E_t underflows (t of hundreds) */
    pc->cout = sqrt(fmax(1.0 - trSS / (double)k, 1e-24));
    return RG_OK;
}

static inline float sigmoidf_(float z) { return 1.0f / (1.0f + expf(-z)); }

/* a (n) = z itself (the last layer), ReLU(z) or SiLU(z). */
static void activate(const float *z, float *a, size_t n, int last, int relu)
{
    if (last) memcpy(a, z, n * sizeof *a);
    else if (relu)
        for (size_t i = 0; i < n; i++) a[i] = z[i] > 0.0f ? z[i] : 0.0f;
    else
        for (size_t i = 0; i < n; i++) a[i] = z[i] * sigmoidf_(z[i]);
}

void rg_nn__chunk_forward(const rg_nn_model *m, rg_nn__chunk *c, size_t n, const float *x, float xs,
                          const double *t)
{
    const size_t nin = m->a.n_in, in0 = m->in[0];
    for (size_t b = 0; b < n; b++) {
        float *h = c->act[0] + b * in0;
        if (xs == 1.0f) memcpy(h, x + b * nin, nin * sizeof *x);
        else
            for (size_t i = 0; i < nin; i++) h[i] = xs * x[b * nin + i];
        if (m->a.t_embed) rg_nn_time_embed(rg_nn__temb_arg(&m->a, t[b]), m->a.t_embed, h + nin);
    }
    for (size_t l = 0; l < m->nl; l++) {
        const size_t NI = m->in[l], NO = m->out[l];
        const float *W = m->p + m->woff[l], *bias = m->p + m->boff[l];
        float *Z = c->z[l], *A = c->act[l + 1];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)NO, (int)NI, 1.0f, c->act[l],
                    (int)NI, W, (int)NI, 0.0f, Z, (int)NO);
        const int last = l + 1 == m->nl, relu = m->a.act == RG_NN_RELU;
        for (size_t b = 0; b < n; b++) {   /* one branch per row, vectorisable inner loops */
            float *zr = Z + b * NO;
            for (size_t o = 0; o < NO; o++) zr[o] += bias[o];
            activate(zr, A + b * NO, NO, last, relu);
        }
    }
}

void rg_nn__chunk_backward(const rg_nn_model *m, rg_nn__chunk *c, size_t n, float *g)
{
    float *dz = c->d0, *da = c->d1;
    for (size_t l = m->nl; l-- > 0;) {
        const size_t NI = m->in[l], NO = m->out[l];
        const float *W = m->p + m->woff[l];
        /* dW = dZ^T A_{l-1}, db = column sums of dZ */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)NO, (int)NI, (int)n, 1.0f, dz, (int)NO,
                    c->act[l], (int)NI, 0.0f, g + m->woff[l], (int)NI);
        for (size_t o = 0; o < NO; o++) {
            double s = 0.0;
            for (size_t b = 0; b < n; b++) s += (double)dz[b * NO + o];
            g[m->boff[l] + o] = (float)s;
        }
        if (l == 0) break;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)NI, (int)NO, 1.0f, dz, (int)NO,
                    W, (int)NI, 0.0f, da, (int)NI);
        const float *Z = c->z[l - 1];
        for (size_t i = 0; i < n * NI; i++) {
            float z = Z[i];
            if (m->a.act == RG_NN_RELU) da[i] = z > 0.0f ? da[i] : 0.0f;
            else {
                float s = sigmoidf_(z);
                da[i] *= s * (1.0f + z * (1.0f - s));
            }
        }
        float *tmp = dz;
        dz = da;
        da = tmp;
    }
}

_Static_assert(RG_NN_CHUNK == RG_SCORE__BLK, "a chunk is one block of lanes");

/* The evaluation forward pass (rg_nn_forward, rg_nn_score_eval) with the chunk as vector lanes
 * (score_internal.h): each layer is rg_score__lanes_mm, so a sample's output is the same bits whatever
 * chunk, batch, thread or rank it arrives in (a BLAS sgemm rounds a row by its position in the call).
 * Training keeps rg_nn__chunk_forward, whose row layout its backward pass reads. act[l] hold the
 * activations as (width, CHUNK) lanes; lanes n .. CHUNK - 1 start at 0. y: (n, n_out) rows. */
static void chunk_forward_lanes(const rg_nn_model *m, rg_nn__chunk *c, size_t n, const float *x, float xs,
                                const double *t, float *y)
{
    const size_t nin = m->a.n_in, te = m->a.t_embed, L = RG_NN_CHUNK, no = m->a.n_out;
    float *h = c->act[0], *e = c->d0; /* d0: room for one time embedding */
    for (size_t i = 0; i < nin; i++)
        for (size_t b = 0; b < L; b++) h[i * L + b] = b < n ? xs * x[b * nin + i] : 0.0f;
    for (size_t b = 0; b < L && te; b++) {
        if (b < n) rg_nn_time_embed(rg_nn__temb_arg(&m->a, t[b]), te, e);
        for (size_t j = 0; j < te; j++) h[(nin + j) * L + b] = b < n ? e[j] : 0.0f;
    }
    for (size_t l = 0; l < m->nl; l++) {
        const size_t NI = m->in[l], NO = m->out[l];
        const float *W = m->p + m->woff[l], *bias = m->p + m->boff[l];
        float *Z = c->z[l], *A = c->act[l + 1];
        rg_score__lanes_mm(NO, NI, W, NI, c->act[l], Z);
        const int last = l + 1 == m->nl, relu = m->a.act == RG_NN_RELU;
        for (size_t o = 0; o < NO; o++) {
            float *zr = Z + o * L;
            for (size_t b = 0; b < L; b++) zr[b] += bias[o];
            activate(zr, A + o * L, L, last, relu);
        }
    }
    rg_score__lanes_store(n, no, c->act[m->nl], y);
}

int rg_nn_forward(const rg_nn_model *m, size_t B, const float *x, const double *t, float *y, rg_nn_work *w)
{
    if (!m || !x || !y || !w) RG_FAIL(RG_EINVAL, "rg_nn_forward: NULL argument");
    if (B > w->B_max) RG_FAIL(RG_EINVAL, "rg_nn_forward: B = %zu exceeds the workspace's %zu", B, w->B_max);
    if (m->a.t_embed && !t) RG_FAIL(RG_EINVAL, "rg_nn_forward: a score network needs times t");
    const size_t nch = (B + RG_NN_CHUNK - 1) / RG_NN_CHUNK, nin = m->a.n_in, no = m->a.n_out;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        size_t b0 = c * RG_NN_CHUNK, n = B - b0 < RG_NN_CHUNK ? B - b0 : RG_NN_CHUNK;
        chunk_forward_lanes(m, &w->c[c], n, x + b0 * nin, 1.0f, t ? t + b0 : NULL, y + b0 * no);
    }
    return RG_OK;
}

/* ---- classifier ---------------------------------------------------------------------------------- */

int rg_nn_classifier_predict(const rg_nn_model *m, size_t B, const float *x, int *labels, rg_nn_work *w)
{
    if (!m || !x || !labels || !w) RG_FAIL(RG_EINVAL, "rg_nn_classifier_predict: NULL argument");
    if (m->a.task != RG_NN_CLASSIFIER) RG_FAIL(RG_EINVAL, "rg_nn_classifier_predict: not a classifier");
    const size_t no = m->a.n_out;
    for (size_t b0 = 0; b0 < B; b0 += w->B_max) {
        size_t n = B - b0 < w->B_max ? B - b0 : w->B_max;
        RG_TRY(rg_nn_forward(m, n, x + b0 * m->a.n_in, NULL, w->ybuf, w));
        for (size_t b = 0; b < n; b++) {
            const float *y = w->ybuf + b * no;
            size_t best = 0;
            for (size_t o = 1; o < no; o++)
                if (y[o] > y[best]) best = o;
            labels[b0 + b] = (int)best;
        }
    }
    return RG_OK;
}

int rg_nn_classifier_accuracy(const rg_nn_model *m, size_t B, const float *x, const int *labels,
                              rg_nn_work *w, double *acc)
{
    if (!labels || !acc || B == 0) RG_FAIL(RG_EINVAL, "rg_nn_classifier_accuracy: NULL argument or B = 0");
    int *pred = malloc(B * sizeof *pred);
    if (!pred) RG_FAIL(RG_ENOMEM, "rg_nn_classifier_accuracy: out of memory");
    int st = rg_nn_classifier_predict(m, B, x, pred, w);
    size_t ok = 0;
    for (size_t i = 0; st == RG_OK && i < B; i++) ok += pred[i] == labels[i];
    free(pred);
    *acc = (double)ok / (double)B;
    return st;
}

/* ---- score --------------------------------------------------------------------------------------- */

int rg_nn_score_eval(const rg_nn_model *m, const rg_process *p, double t, size_t B, const float *x,
                     float *s, rg_nn_work *w)
{
    if (!m || !p || !x || !s || !w) RG_FAIL(RG_EINVAL, "rg_nn_score_eval: NULL argument");
    if (m->a.task != RG_NN_SCORE) RG_FAIL(RG_EINVAL, "rg_nn_score_eval: not a score network");
    if (!(t > 0.0) || isinf(t)) RG_FAIL(RG_EINVAL, "rg_nn_score_eval: t = %g, want finite t > 0", t);
    const size_t N = m->a.n_in, k = rg_process_core(p), r = rg_process_mult(p);
    if (rg_process_dim(p) != N)
        RG_FAIL(RG_EINVAL, "rg_nn_score_eval: process dimension %zu != network input %zu", rg_process_dim(p), N);
    const double s2 = m->a.sigma_data2;
    const double *L = w->L, *Si = NULL;
    float xs = 1.0f, co = 1.0f;
    if (s2 > 0.0) {
        if (k > w->pc_k) {   /* a dense core larger than the room made up front */
            double *q = realloc(w->pc, RG_NN__PC_DOUBLES(k) * sizeof *q);
            if (!q) RG_FAIL(RG_ENOMEM, "rg_nn_score_eval: out of memory (core %zu)", k);
            w->pc = q;
            w->pc_k = k;
        }
        rg_nn__pc pc;
        RG_TRY(rg_nn__precond(p, t, s2, w->pc, &pc));
        L = pc.L;
        Si = pc.Sinv;
        xs = (float)pc.cin;
        co = (float)pc.cout;
    } else {
        RG_TRY(rg_process_chol(p, t, w->L));
    }
    for (size_t b0 = 0; b0 < B; b0 += w->B_max) {
        const size_t n = B - b0 < w->B_max ? B - b0 : w->B_max, nch = (n + RG_NN_CHUNK - 1) / RG_NN_CHUNK;
#pragma omp parallel for schedule(static)
        for (size_t c = 0; c < nch; c++) {
            size_t c0 = b0 + c * RG_NN_CHUNK, nc = n - c * RG_NN_CHUNK;
            if (nc > RG_NN_CHUNK) nc = RG_NN_CHUNK;
            double tt[RG_NN_CHUNK];
            for (size_t i = 0; i < nc; i++) tt[i] = t;
            float *eps = w->c[c].d1; /* (CHUNK, maxw): room for the chunk's outputs as rows */
            chunk_forward_lanes(m, &w->c[c], nc, x + c0 * N, xs, tt, eps);
            /* s = -(L^{-T} (x) I_r) eps: per column j of the (k, r) state, back-substitute L^T u = e,
             * (L^T)_{iq} = L_{qi}, in double; then s = -u. Preconditioned (eps = F):
             * s = -(S^{-1} (x) I_r) x - c_out u, the column of x read whole before s overwrites it. */
            for (size_t b = 0; b < nc; b++) {
                float *sb = s + (c0 + b) * N;
                const float *eb = eps + b * N, *xb = x + (c0 + b) * N;
                for (size_t j = 0; j < r; j++) {
                    double u[RG_NN__KMAX_STACK], *uu = k <= RG_NN__KMAX_STACK ? u : w->c[c].core;
                    for (size_t i = k; i-- > 0;) {
                        double v = (double)eb[i * r + j];
                        for (size_t q = i + 1; q < k; q++) v -= L[q * k + i] * uu[q];
                        uu[i] = v / L[i * k + i];
                    }
                    if (Si)
                        for (size_t i = 0; i < k; i++) {
                            double v = (double)co * uu[i];
                            for (size_t a = 0; a < k; a++) v += Si[i * k + a] * (double)xb[a * r + j];
                            uu[i] = v;
                        }
                    for (size_t i = 0; i < k; i++) sb[i * r + j] = (float)-uu[i];
                }
            }
        }
    }
    return RG_OK;
}

int rg_nn_score_fn(void *ctx, double t, size_t B, const float *x, float *s)
{
    const rg_nn_score_ctx *c = ctx;
    if (!c) RG_FAIL(RG_EINVAL, "rg_nn_score_fn: NULL context");
    return rg_nn_score_eval(c->model, c->process, t, B, x, s, c->work);
}

static void *iface_ws_new(void *ctx, size_t B_max)
{
    const rg_nn_score_ctx *c = ctx;
    rg_nn_work *w = NULL;
    return rg_nn_work_new(c->model, B_max, &w) == RG_OK ? w : NULL;
}

static void iface_ws_free(void *ws) { rg_nn_work_free(ws); }

static int iface_eval(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *extra)
{
    const rg_nn_score_ctx *c = ctx;
    (void)extra;
    return rg_nn_score_eval(c->model, c->process, t, B, x, s, ws);
}

rg_score rg_nn_score_iface(const rg_nn_score_ctx *c)
{
    return (rg_score){ .prepare = NULL, .eval = iface_eval, .ws_new = iface_ws_new, .ws_free = iface_ws_free,
                       .ctx = (void *)(uintptr_t)c, .has_extra = 0 };
}

/* ---- naive double references --------------------------------------------------------------------- */

static double act_d(rg_nn_act a, double z) { return a == RG_NN_RELU ? (z > 0.0 ? z : 0.0) : z / (1.0 + exp(-z)); }

void rg_nn__forward_naive(const rg_nn_model *m, const double *params, const double *x, double t,
                          double *y, double *scratch)
{
    double *h = scratch, *g = scratch + m->maxw + m->a.t_embed;
    const size_t nin = m->a.n_in, E = m->a.t_embed;
    for (size_t i = 0; i < nin; i++) h[i] = x[i];
    const double ta = E ? rg_nn__temb_arg(&m->a, t) : 0.0;
    for (size_t j = 0; j < E / 2; j++) {
        double w = E / 2 > 1 ? pow(TEMB_WMAX, (double)j / (double)(E / 2 - 1)) : 1.0;
        h[nin + j] = sin(w * ta);
        h[nin + E / 2 + j] = cos(w * ta);
    }
    for (size_t l = 0; l < m->nl; l++) {
        const double *W = params + m->woff[l], *bias = params + m->boff[l];
        int last = l + 1 == m->nl;
        for (size_t o = 0; o < m->out[l]; o++) {
            double z = bias[o];
            for (size_t i = 0; i < m->in[l]; i++) z += W[o * m->in[l] + i] * h[i];
            (last ? y : g)[o] = last ? z : act_d(m->a.act, z);
        }
        if (!last) memcpy(h, g, m->out[l] * sizeof *h);
    }
}

double rg_nn__loss_naive(const rg_nn_model *m, const double *params, size_t B, const double *x,
                         const double *t, const int *labels, const double *eps, double smooth)
{
    const size_t no = m->a.n_out, nin = m->a.n_in;
    double *scr = malloc((3 * m->maxw + 2 * m->a.t_embed + no) * sizeof *scr), *y = NULL, sum = 0.0;
    if (!scr) return NAN;
    y = scr + 2 * m->maxw + 2 * m->a.t_embed;
    for (size_t b = 0; b < B; b++) {
        rg_nn__forward_naive(m, params, x + b * nin, t ? t[b] : 0.0, y, scr);
        if (m->a.task == RG_NN_CLASSIFIER) {
            double mx = -INFINITY, z = 0.0;
            for (size_t o = 0; o < no; o++) mx = fmax(mx, y[o]);
            for (size_t o = 0; o < no; o++) z += exp(y[o] - mx);
            for (size_t o = 0; o < no; o++) /* -log p_o = mx + log z - y_o, weighted by the target */
                sum += ((1.0 - smooth) * (o == (size_t)labels[b]) + smooth / (double)no) * (mx + log(z) - y[o]);
        } else {
            for (size_t o = 0; o < no; o++) sum += (y[o] - eps[b * no + o]) * (y[o] - eps[b * no + o]) / (double)no;
        }
    }
    free(scr);
    return sum / (double)B;
}
