/* nn training: minibatch order, DSM pairs, chunked deterministic loss and gradient, Adam with a
 * learning-rate schedule. Contracts: include/regimes/nn.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nn_internal.h"
#include "regimes/linalg.h"
#include "regimes/rng.h"

struct rg_nn_trainer {
    rg_nn_model *m;
    rg_nn_train_config c;
    rg_nn_data d;
    size_t k, r;              /* score: core size and multiplicity of the process */
    uint64_t step, steps_per_epoch, total;
    rg_nn_work w;             /* one chunk workspace per chunk of a batch */
    float *gc;                /* (nchunks, nparams) per-chunk gradients */
    double *closs;            /* (nchunks) per-chunk loss sums */
    int *cst;                 /* (nchunks) per-chunk status */
    float *grad, *am, *av;    /* (nparams) gradient and Adam moments */
    float *x, *eps;           /* (B, n_in) network inputs and noise of a minibatch */
    double *t;                /* (B) times */
    int *lab;                 /* (B) labels */
    size_t *perm;             /* (P) the current epoch's order */
    uint64_t perm_epoch;      /* epoch perm holds, UINT64_MAX if none */
};

rg_nn_train_config rg_nn_train_defaults(void)
{
    return (rg_nn_train_config){ .batch = 128, .epochs = 10, .lr = 1e-3, .lr_min = 1e-5, .warmup = 100,
                                 .lr_kind = RG_NN_LR_COSINE, .step_gamma = 0.5, .step_every = 1000,
                                 .beta1 = 0.9, .beta2 = 0.999, .adam_eps = 1e-8, .seed = 1,
                                 .t_min = 1e-3, .t_max = 5.0, .t_log = 0, .shift = 0, .img_w = 0, .label_smooth = 0.0 };
}

const char *rg_nn_train_check(const rg_nn_train_config *c)
{
    if (!c) return "NULL configuration";
    if (c->batch < 1 || c->batch > (1u << 20)) return "batch must be in [1, 2^20]";
    if (c->epochs < 1) return "epochs must be >= 1";
    if (!(c->lr > 0.0) || !(c->lr < 1e3)) return "lr must be in (0, 1e3)";
    if (!(c->lr_min >= 0.0) || !(c->lr_min <= c->lr)) return "lr_min must be in [0, lr]";
    if (c->lr_kind != RG_NN_LR_COSINE && c->lr_kind != RG_NN_LR_CONST && c->lr_kind != RG_NN_LR_STEP)
        return "unknown learning-rate schedule";
    if (!(c->step_gamma > 0.0 && c->step_gamma <= 1.0)) return "step_gamma must be in (0, 1]";
    if (c->step_every < 1) return "step_every must be >= 1";
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0) || !(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return "Adam betas must be in [0, 1)";
    if (!(c->adam_eps > 0.0) || isinf(c->adam_eps)) return "adam_eps must be finite and > 0";
    if (!(c->t_min > 0.0) || !(c->t_max > c->t_min) || isinf(c->t_max)) return "times need 0 < t_min < t_max < inf";
    if (c->t_log != 0 && c->t_log != 1) return "t_log must be 0 or 1";
    if (!(c->label_smooth >= 0.0 && c->label_smooth < 1.0)) return "label_smooth must be in [0, 1)";
    if (c->shift > 0 && (c->img_w == 0 || c->shift >= c->img_w)) return "shift needs an image width img_w > shift";
    return NULL;
}

static void trainer_release(rg_nn_trainer *tr)
{
    rg_nn__work_release(&tr->w);
    free(tr->gc); free(tr->closs); free(tr->cst); free(tr->grad); free(tr->am); free(tr->av);
    free(tr->x); free(tr->eps); free(tr->t); free(tr->lab); free(tr->perm);
    free(tr);
}

void rg_nn_trainer_free(rg_nn_trainer *tr)
{
    if (tr) trainer_release(tr);
}

int rg_nn_trainer_new(rg_nn_model *m, const rg_nn_train_config *c, const rg_nn_data *d, rg_nn_trainer **out)
{
    if (!m || !c || !d || !out) RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: NULL argument");
    *out = NULL;
    const char *why = rg_nn_train_check(c);
    if (why) RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: %s", why);
    const rg_nn_arch *a = &m->a;
    if (!d->X || d->P < c->batch)
        RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: %zu training rows, fewer than the batch %zu", d->P, c->batch);
    size_t k = 0, r = 0;
    if (a->task == RG_NN_CLASSIFIER) {
        if (!d->labels) RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: a classifier needs labels");
        for (size_t i = 0; i < d->P; i++)
            if (d->labels[i] < 0 || (size_t)d->labels[i] >= a->n_out)
                RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: label %d of row %zu is outside [0, %zu)", d->labels[i], i, a->n_out);
        if (c->shift > 0 && (a->n_in % c->img_w != 0 || c->shift >= a->n_in / c->img_w))
            RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: %zu inputs are not images of width %zu taller than shift %zu",
                    a->n_in, c->img_w, c->shift);
    } else {
        if (c->shift > 0 || c->label_smooth > 0.0)
            RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: shift and label_smooth apply to a classifier only");
        if (!d->process) RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: a score network needs a process");
        if (rg_process_dim(d->process) != a->n_in)
            RG_FAIL(RG_EINVAL, "rg_nn_trainer_new: process dimension %zu != network input %zu",
                    rg_process_dim(d->process), a->n_in);
        k = rg_process_core(d->process);
        r = rg_process_mult(d->process);
    }
    rg_nn_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) RG_FAIL(RG_ENOMEM, "rg_nn_trainer_new: out of memory");
    tr->m = m;
    tr->c = *c;
    tr->d = *d;
    tr->k = k;
    tr->r = r;
    tr->steps_per_epoch = d->P / c->batch;
    tr->total = tr->steps_per_epoch * c->epochs;
    tr->perm_epoch = UINT64_MAX;
    const size_t B = c->batch, nch = (B + RG_NN_CHUNK - 1) / RG_NN_CHUNK, np = m->nparams, nin = a->n_in;
    /* chunk scratch: E_t and L_t (plain), or the preconditioning matrices and a column (nn_internal.h) */
    int st = rg_nn__work_alloc(m, nch, a->sigma_data2 > 0.0 ? RG_NN__PC_DOUBLES(k) : 2 * k * k, &tr->w);
    if (st != RG_OK) {
        free(tr);
        return st;
    }
    tr->gc = malloc(nch * np * sizeof *tr->gc);
    tr->closs = malloc(nch * sizeof *tr->closs);
    tr->cst = malloc(nch * sizeof *tr->cst);
    tr->grad = malloc(np * sizeof *tr->grad);
    tr->am = calloc(np, sizeof *tr->am);
    tr->av = calloc(np, sizeof *tr->av);
    tr->x = malloc(B * nin * sizeof *tr->x);
    tr->eps = malloc(B * nin * sizeof *tr->eps);
    tr->t = malloc(B * sizeof *tr->t);
    tr->lab = malloc(B * sizeof *tr->lab);
    tr->perm = malloc(d->P * sizeof *tr->perm);
    if (!tr->gc || !tr->closs || !tr->cst || !tr->grad || !tr->am || !tr->av || !tr->x || !tr->eps ||
        !tr->t || !tr->lab || !tr->perm) {
        trainer_release(tr);
        RG_FAIL(RG_ENOMEM, "rg_nn_trainer_new: out of memory (%zu parameters, batch %zu)", np, B);
    }
    tr->w.B_max = B;
    *out = tr;
    return RG_OK;
}

uint64_t rg_nn_trainer_steps_done(const rg_nn_trainer *tr) { return tr->step; }
uint64_t rg_nn_trainer_steps_total(const rg_nn_trainer *tr) { return tr->total; }

double rg_nn_trainer_lr(const rg_nn_trainer *tr, uint64_t k)
{
    const rg_nn_train_config *c = &tr->c;
    if (k < c->warmup) return c->lr * (double)(k + 1) / (double)c->warmup;
    switch (c->lr_kind) {
    case RG_NN_LR_CONST: return c->lr;
    case RG_NN_LR_STEP: return c->lr * pow(c->step_gamma, (double)((k - c->warmup) / c->step_every));
    default: {
        double span = tr->total > c->warmup ? (double)(tr->total - c->warmup) : 1.0;
        double u = fmin(1.0, (double)(k - c->warmup) / span);
        return c->lr_min + (c->lr - c->lr_min) * 0.5 * (1.0 + cos(3.14159265358979323846 * u));
    }
    }
}

/* ---- chunked loss and gradient -------------------------------------------------------------------- */

/* Loss sum of chunk rows and dy / B into c->d0 (B: the whole batch; ls: label smoothing). */
static double chunk_loss(const rg_nn_model *m, rg_nn__chunk *c, size_t n, size_t B, const int *lab,
                         const float *eps, double ls)
{
    const size_t no = m->a.n_out;
    const float *y = c->act[m->nl];
    float *dy = c->d0;
    double sum = 0.0;
    for (size_t b = 0; b < n; b++) {
        const float *yb = y + b * no;
        float *db = dy + b * no;
        if (m->a.task == RG_NN_CLASSIFIER) {
            double mx = -INFINITY, z = 0.0;
            for (size_t o = 0; o < no; o++) mx = fmax(mx, (double)yb[o]);
            double ymean = 0.0;
            for (size_t o = 0; o < no; o++) z += exp((double)yb[o] - mx), ymean += (double)yb[o];
            ymean /= (double)no;
            /* -(1 - ls) log p_label - ls mean_o log p_o, log p_o = y_o - mx - log z */
            sum += mx + log(z) - (1.0 - ls) * (double)yb[lab[b]] - ls * ymean;
            for (size_t o = 0; o < no; o++) {
                double target = (1.0 - ls) * (o == (size_t)lab[b]) + ls / (double)no;
                db[o] = (float)((exp((double)yb[o] - mx) / z - target) / (double)B);
            }
        } else {
            for (size_t o = 0; o < no; o++) {
                double e = (double)yb[o] - (double)eps[b * no + o];
                sum += e * e / (double)no;
                db[o] = (float)(2.0 * e / ((double)no * (double)B));
            }
        }
    }
    return sum;
}

int rg_nn_trainer_loss_grad(rg_nn_trainer *tr, size_t B, const float *x, const double *t, const int *labels,
                            const float *eps, double *loss, float *grad)
{
    const rg_nn_model *m = tr->m;
    if (!x || !grad || B < 1 || B > tr->c.batch) RG_FAIL(RG_EINVAL, "rg_nn_trainer_loss_grad: bad arguments");
    if (m->a.task == RG_NN_CLASSIFIER ? !labels : (!t || !eps))
        RG_FAIL(RG_EINVAL, "rg_nn_trainer_loss_grad: missing labels, or times and noise");
    const size_t nch = (B + RG_NN_CHUNK - 1) / RG_NN_CHUNK, np = m->nparams, nin = m->a.n_in;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        size_t b0 = c * RG_NN_CHUNK, n = B - b0 < RG_NN_CHUNK ? B - b0 : RG_NN_CHUNK;
        rg_nn__chunk *ch = &tr->w.c[c];
        rg_nn__chunk_forward(m, ch, n, x + b0 * nin, 1.0f, t ? t + b0 : NULL);
        tr->closs[c] = chunk_loss(m, ch, n, B, labels ? labels + b0 : NULL, eps ? eps + b0 * nin : NULL,
                                  tr->c.label_smooth);
        rg_nn__chunk_backward(m, ch, n, tr->gc + c * np);
    }
    /* combine in chunk order, in double: the grouping never depends on the thread count */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < np; i++) {
        double s = 0.0;
        for (size_t c = 0; c < nch; c++) s += (double)tr->gc[c * np + i];
        grad[i] = (float)s;
    }
    double L = 0.0;
    for (size_t c = 0; c < nch; c++) L += tr->closs[c];
    if (loss) *loss = L / (double)B;
    return RG_OK;
}

/* ---- minibatches ----------------------------------------------------------------------------------- */

static void epoch_order(rg_nn_trainer *tr, uint64_t e)
{
    const rg_rng r = { .seed = tr->c.seed, .stream = RG_STREAM_NN_TRAIN };
    const size_t P = tr->d.P;
    for (size_t i = 0; i < P; i++) tr->perm[i] = i;
    for (size_t i = 0; i + 1 < P; i++) {   /* Fisher-Yates, draw i picks from [i, P) */
        size_t j = i + (size_t)rg_rng_index(r, e, 0, i, P - i), s = tr->perm[i];
        tr->perm[i] = tr->perm[j];
        tr->perm[j] = s;
    }
    tr->perm_epoch = e;
}

/* x_t = (E_t (x) I_r) x0 + (L_t (x) I_r) eps for sample q; E and L: k x k scratch. Preconditioned
 * (nn.h): xt gets the network input c_in x_t and eps the target (eps - (G_t (x) I_r) x_t) / c_out. */
static int dsm_pair(const rg_nn_trainer *tr, uint64_t q, const float *x0, double *core, float *xt,
                    float *eps, double *t)
{
    const rg_rng r = { .seed = tr->c.seed, .stream = RG_STREAM_NN_TRAIN };
    const size_t k = tr->k, R = tr->r;
    const double u = rg_rng_uniform(r, q, 1, 0), s2 = tr->m->a.sigma_data2;
    *t = tr->c.t_log ? tr->c.t_min * pow(tr->c.t_max / tr->c.t_min, u) : tr->c.t_min + (tr->c.t_max - tr->c.t_min) * u;
    rg_rng_normals(r, q, 2, eps, k * R);
    if (s2 > 0.0) {
        rg_nn__pc pc;
        RG_TRY(rg_nn__precond(tr->d.process, *t, s2, core, &pc));
        double *col = core + 5 * k * k, *res = col + k; /* the 2 k spare doubles */
        for (size_t j = 0; j < R; j++) {
            for (size_t i = 0; i < k; i++) {
                double v = 0.0;
                for (size_t a = 0; a < k; a++) v += pc.E[i * k + a] * (double)x0[a * R + j];
                for (size_t a = 0; a <= i; a++) v += pc.L[i * k + a] * (double)eps[a * R + j];
                col[i] = v;
            }
            for (size_t i = 0; i < k; i++) {
                double v = (double)eps[i * R + j];
                for (size_t a = 0; a < k; a++) v -= pc.G[i * k + a] * col[a];
                res[i] = v / pc.cout;
            }
            for (size_t i = 0; i < k; i++) {
                xt[i * R + j] = (float)(pc.cin * col[i]);
                eps[i * R + j] = (float)res[i];
            }
        }
        return RG_OK;
    }
    double *E = core, *L = core + k * k;
    RG_TRY(rg_process_moments(tr->d.process, *t, E, L));
    RG_TRY(rg_linalg_chol(k, L, L));    /* = rg_process_chol, without computing the moments again */
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < R; j++) {
            double v = 0.0;
            for (size_t a = 0; a < k; a++) v += E[i * k + a] * (double)x0[a * R + j];
            for (size_t a = 0; a <= i; a++) v += L[i * k + a] * (double)eps[a * R + j];
            xt[i * R + j] = (float)v;
        }
    return RG_OK;
}

/* Augmentation of sample q: out = in translated by (dx, dy) pixels, zero fill (nn.h). */
static void shift_image(const rg_nn_trainer *tr, uint64_t q, const float *in, float *out)
{
    const rg_rng r = { .seed = tr->c.seed, .stream = RG_STREAM_NN_TRAIN };
    const size_t W = tr->c.img_w, H = tr->m->a.n_in / W, s = tr->c.shift;
    const long dx = (long)rg_rng_index(r, q, 3, 0, 2 * s + 1) - (long)s;
    const long dy = (long)rg_rng_index(r, q, 3, 1, 2 * s + 1) - (long)s;
    for (size_t i = 0; i < H; i++) {
        long si = (long)i - dy;
        for (size_t j = 0; j < W; j++) {
            long sj = (long)j - dx;
            int inside = si >= 0 && si < (long)H && sj >= 0 && sj < (long)W;
            out[i * W + j] = inside ? in[(size_t)si * W + (size_t)sj] : 0.0f;
        }
    }
}

static int fill_batch(rg_nn_trainer *tr)
{
    const size_t B = tr->c.batch, nin = tr->m->a.n_in;
    const uint64_t e = tr->step / tr->steps_per_epoch, pos = tr->step % tr->steps_per_epoch;
    if (tr->perm_epoch != e) epoch_order(tr, e);
    const size_t *idx = tr->perm + pos * B;
    if (tr->m->a.task == RG_NN_CLASSIFIER) {
        for (size_t b = 0; b < B; b++) {
            if (tr->c.shift) shift_image(tr, tr->step * B + b, tr->d.X + idx[b] * nin, tr->x + b * nin);
            else memcpy(tr->x + b * nin, tr->d.X + idx[b] * nin, nin * sizeof *tr->x);
            tr->lab[b] = tr->d.labels[idx[b]];
        }
        return RG_OK;
    }
    const size_t nch = (B + RG_NN_CHUNK - 1) / RG_NN_CHUNK;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nch; c++) {
        tr->cst[c] = RG_OK;
        for (size_t b = c * RG_NN_CHUNK; b < B && b < (c + 1) * RG_NN_CHUNK && tr->cst[c] == RG_OK; b++)
            tr->cst[c] = dsm_pair(tr, tr->step * B + b, tr->d.X + idx[b] * nin, tr->w.c[c].core,
                                  tr->x + b * nin, tr->eps + b * nin, tr->t + b);
    }
    for (size_t c = 0; c < nch; c++)
        if (tr->cst[c] != RG_OK) /* the message was set on a worker thread: redo serially to set it here */
            for (size_t b = c * RG_NN_CHUNK; b < B && b < (c + 1) * RG_NN_CHUNK; b++)
                RG_TRY(dsm_pair(tr, tr->step * B + b, tr->d.X + idx[b] * nin, tr->w.c[c].core,
                                tr->x + b * nin, tr->eps + b * nin, tr->t + b));
    return RG_OK;
}

int rg_nn_trainer_step(rg_nn_trainer *tr, double *loss)
{
    if (!tr) RG_FAIL(RG_EINVAL, "rg_nn_trainer_step: NULL trainer");
    RG_TRY(fill_batch(tr));
    int score = tr->m->a.task == RG_NN_SCORE;
    double l = 0.0;
    RG_TRY(rg_nn_trainer_loss_grad(tr, tr->c.batch, tr->x, score ? tr->t : NULL, score ? NULL : tr->lab,
                                   score ? tr->eps : NULL, &l, tr->grad));
    if (loss) *loss = l;
    if (!isfinite(l) || !rg__all_finite_f(tr->grad, tr->m->nparams))
        RG_FAIL(RG_ENOCONV, "training diverged at step %llu: the minibatch %s is not finite (loss %g)",
                (unsigned long long)tr->step, isfinite(l) ? "gradient" : "loss", l);
    const rg_nn_train_config *c = &tr->c;
    const double lr = rg_nn_trainer_lr(tr, tr->step), n = (double)(tr->step + 1);
    const double bc1 = 1.0 - pow(c->beta1, n), bc2 = 1.0 - pow(c->beta2, n);
    float *w = tr->m->p;
    const size_t np = tr->m->nparams;
    /* float arithmetic (as the moments are stored), scalars folded in double: w -= a m / (sqrt(v) q + eps)
     * with a = lr / bc1 and q = 1 / sqrt(bc2); vectorisable, the double loop was a quarter of a step */
    const float b1 = (float)c->beta1, b2 = (float)c->beta2, nb1 = (float)(1.0 - c->beta1),
                nb2 = (float)(1.0 - c->beta2), a = (float)(lr / bc1), q = (float)(1.0 / sqrt(bc2)),
                ae = (float)c->adam_eps;
    float *restrict am = tr->am, *restrict av = tr->av;
    const float *restrict gr = tr->grad;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < np; i++) {
        float g = gr[i], mi = b1 * am[i] + nb1 * g, vi = b2 * av[i] + nb2 * g * g;
        am[i] = mi;
        av[i] = vi;
        w[i] -= a * mi / (sqrtf(vi) * q + ae);
    }
    tr->step++;
    return RG_OK;
}

int rg_nn_trainer_run(rg_nn_trainer *tr, size_t n, double *mean_loss)
{
    double s = 0.0, l = 0.0;
    for (size_t i = 0; i < n; i++) {
        RG_TRY(rg_nn_trainer_step(tr, &l));
        s += l;
    }
    if (mean_loss) *mean_loss = n ? s / (double)n : 0.0;
    return RG_OK;
}

/* ---- state for checkpoints -------------------------------------------------------------------------- */

const rg_nn_train_config *rg_nn__trainer_config(const rg_nn_trainer *tr) { return &tr->c; }
rg_nn_model *rg_nn__trainer_model(const rg_nn_trainer *tr) { return tr->m; }

int rg_nn__trainer_view(const rg_nn_trainer *tr, rg_nn__opt_view *v)
{
    v->c = tr->c;
    v->P = tr->d.P;
    v->step = tr->step;
    v->m = tr->am;
    v->v = tr->av;
    return RG_OK;
}

int rg_nn__trainer_set(rg_nn_trainer *tr, uint64_t step, const float *params, const float *m, const float *v)
{
    const size_t np = tr->m->nparams;
    memcpy(tr->m->p, params, np * sizeof *params);
    memcpy(tr->am, m, np * sizeof *m);
    memcpy(tr->av, v, np * sizeof *v);
    tr->step = step;
    tr->perm_epoch = UINT64_MAX;
    return RG_OK;
}
