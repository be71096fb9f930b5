/* regimes nn: small multilayer perceptrons in plain C on sgemm + OpenMP: a digit classifier and a
 * time-conditioned score network trained by denoising score matching under any rg_process.
 *
 * Network (one architecture for both tasks, rg_nn_arch):
 *     h_0 = [x, e(t)]                    x: (n_in) input; e(t): (t_embed) sinusoidal embedding, or none
 *     h_l = act(W_l h_{l-1} + b_l)       l = 1..L hidden layers (act = ReLU or SiLU)
 *     y   = W_{L+1} h_L + b_{L+1}        (n_out) logits (classifier) or eps-prediction (score)
 * W_l is (out, in) row-major; a batch is (B, features) row-major, so a layer is one sgemm
 * Y = X W^T. Time embedding, h = t_embed / 2 frequencies w_j = 64^(j / (h - 1)) (w_0 = 1 if h = 1):
 *     e(t) = (sin(w_0 t), ..., sin(w_{h-1} t), cos(w_0 t), ..., cos(w_{h-1} t)).
 * SiLU(z) = z sigmoid(z). Parameters are one float block: W_1, b_1, W_2, b_2, ... in layer order.
 *
 * Losses (mean over the batch, accumulated in double):
 *     classifier  -(1 - e) log softmax(y)_label - (e / C) sum_o log softmax(y)_o   (e = label_smooth)
 *     score       |y - eps|^2 / n_in   with x_t = M_t x_0 + L_t eps, t ~ U[t_min, t_max]
 * The score network predicts the whitened noise eps_theta (docs/math.md 5.6), and the score is
 *     s(x, t) = -L_t^{-T} eps_theta(x, t)       (core Cholesky factor, (k, r) state layout of process.h),
 * so the loss equals |L_t^T s + eps|^2 / n_in: denoising score matching whitened by Sigma_t; it works
 * for coupled (k = 2) and dense (r = 1) processes alike, with no N x N matrix for k = 1, 2.
 *
 * Preconditioning (score networks with sigma_data2 = s2 > 0; docs/library-nn.md): the network F sees
 * scaled inputs and a log-time embedding, and predicts only what a Gaussian model of the data misses.
 * With the k x k core moments E_t, Sigma_t = L_t L_t^T of the process and data modelled as N(0, s2 I),
 *     S_t = s2 E_t E_t^T + Sigma_t        (covariance of x_t),   G_t = L_t^T S_t^{-1},
 *     c_in = (tr S_t / k)^{-1/2},   c_out = (1 - tr(S_t^{-1} Sigma_t) / k)^{1/2},
 *     eps_theta(x, t) = (G_t (x) I_r) x + c_out F(c_in x, e(log(t) / 4)),
 *     s(x, t) = -(S_t^{-1} (x) I_r) x - c_out (L_t^{-T} (x) I_r) F,
 * i.e. the exact score of the Gaussian model plus a learned correction. G_t x is the best linear
 * eps-predictor and c_out the rms of what it leaves, so F's target (eps - G_t x)/c_out has unit
 * variance at every t for such data, and the loss is |F - (eps - G_t x_t)/c_out|^2 / n_in (the
 * eps loss weighted by 1/c_out^2: EDM's weighting, Karras et al. 2022). s2 = 0 is the plain network.
 *
 * Determinism: a batch is cut into chunks of RG_NN_CHUNK samples (boundaries independent of the
 * thread count); each chunk runs forward and backward on one OpenMP thread with its own workspace
 * and gradient buffer; gradients and losses are summed over chunks in chunk order, in double. Same
 * seed => bit-identical parameters for any number of OpenMP threads (BLAS must run single-threaded
 * inside the parallel region: set OPENBLAS_NUM_THREADS=1 or openblas_set_num_threads(1)).
 * Evaluation (rg_nn_forward, rg_nn_classifier_predict, rg_nn_score_eval) runs each layer on the chunk
 * as vector lanes (one sample per lane, score.h's lane-wise kernels, not sgemm), so a sample's output
 * is the same bits whatever batch, chunk, thread or MPI rank it arrives in; training keeps sgemm.
 * Randomness (rng.h): initial weights from RG_STREAM_NN_INIT, W_l entries
 *     rg_rng_normals({seed, NN_INIT}, traj = l, step = 0) * sqrt(2 / fan_in)   (He), biases 0;
 * training draws from RG_STREAM_NN_TRAIN: epoch e's order is a Fisher-Yates permutation with
 * rg_rng_index(traj = e, step = 0, i); the sample at global position q = step * B + b draws its time
 * u = rg_rng_uniform(traj = q, step = 1, 0) (t = t_min + u (t_max - t_min), or t_min (t_max / t_min)^u
 * with t_log) and its noise from rg_rng_normals(traj = q, step = 2);
 * a classifier sample's augmentation shift is dx = rg_rng_index(traj = q, step = 3, 0, 2 s + 1) - s,
 * dy = rg_rng_index(traj = q, step = 3, 1, 2 s + 1) - s (s = shift; dx moves the image right).
 * Hence the "rng position" of a run is just its step counter, which checkpoints store.
 *
 * Learning rate at step k (0-based) of K = epochs * floor(P / B) steps: linear warmup
 * lr (k + 1) / warmup for k < warmup, then cosine lr_min + (lr - lr_min)(1 + cos(pi u)) / 2 with
 * u = (k - warmup) / (K - warmup), or constant, or step decay lr gamma^floor(k / step_every).
 * Adam: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, w -= lr_k mhat / (sqrt(vhat) + eps).
 *
 * Checkpoints (little-endian, written to path.tmp then renamed): "RGNNCKPT" magic, uint32 version
 * (RG_NN_CKPT_VERSION), the architecture, the parameters, then optionally the optimiser state (the
 * training configuration, step, seed, data size, Adam moments), then an FNV-1a 64 checksum of all
 * preceding bytes. Readers reject truncated, foreign, wrong-version, corrupted or trailing-byte files
 * with RG_EFORMAT and a message naming the problem.
 *
 * Ownership: models, trainers and workspaces are opaque, built by _new and released by _free (NULL is
 * a no-op). A trainer borrows its model and data (they must outlive it). Hot paths (forward, backward,
 * step, eval) allocate nothing.
 * Omitted on purpose: convolutions (see docs/library-nn.md: an MLP is the documented choice),
 * dropout, batch norm, autograd, GPUs.
 */
#ifndef REGIMES_NN_H
#define REGIMES_NN_H

#include <stddef.h>
#include <stdint.h>
#include "regimes/process.h"
#include "regimes/score.h"

#define RG_NN_MAX_HIDDEN 8      /* hidden layers at most */
#define RG_NN_CHUNK 64          /* samples per chunk of deterministic parallel work */
#define RG_NN_CKPT_VERSION 2u    /* 2 added sigma_data2 and t_log; version 1 files still load */

typedef enum { RG_NN_RELU = 0, RG_NN_SILU = 1 } rg_nn_act;
typedef enum { RG_NN_CLASSIFIER = 0, RG_NN_SCORE = 1 } rg_nn_task;

typedef struct {
    rg_nn_task task;
    size_t n_in;                      /* input features (784 for digits; N = k r for a score net) */
    size_t n_out;                     /* classes (classifier, >= 2) or n_in (score) */
    size_t n_hidden;                  /* L, 0 .. RG_NN_MAX_HIDDEN */
    size_t hidden[RG_NN_MAX_HIDDEN];  /* widths, >= 1 */
    rg_nn_act act;
    size_t t_embed;                   /* score: even >= 2; classifier: 0 */
    double sigma_data2;               /* score: s2 > 0 preconditions (above), 0 plain; classifier: 0 */
} rg_nn_arch;

typedef struct rg_nn_model rg_nn_model;     /* architecture + parameter block */
typedef struct rg_nn_work rg_nn_work;       /* per-call workspace for up to B_max samples */
typedef struct rg_nn_trainer rg_nn_trainer; /* Adam state, gradients, chunk workspaces */

/* NULL if a is usable, else a one-line reason. */
const char *rg_nn_arch_check(const rg_nn_arch *a);
/* Build a model with He-initialised weights from {seed, RG_STREAM_NN_INIT}. RG_EINVAL, RG_ENOMEM. */
int rg_nn_model_new(const rg_nn_arch *a, uint64_t seed, rg_nn_model **out);
void rg_nn_model_free(rg_nn_model *m);
const rg_nn_arch *rg_nn_model_arch(const rg_nn_model *m);
size_t rg_nn_model_nparams(const rg_nn_model *m);
float *rg_nn_model_params(rg_nn_model *m);               /* (nparams), layer order as above */
const float *rg_nn_model_params_const(const rg_nn_model *m);

/* Workspace for forward passes of up to B_max samples. */
int rg_nn_work_new(const rg_nn_model *m, size_t B_max, rg_nn_work **out);
void rg_nn_work_free(rg_nn_work *w);

/* Network output y for B <= B_max rows: x (B, n_in); t (B) times or NULL (classifier); y (B, n_out)
 * out. Allocation-free; OpenMP over chunks. RG_EINVAL (B > B_max, bad t). For a preconditioned score
 * net this is the bare F: x are its inputs c_in x_t, y = F (the time embedding takes log(t) / 4). */
int rg_nn_forward(const rg_nn_model *m, size_t B, const float *x, const double *t, float *y,
                  rg_nn_work *w);
/* The sinusoidal embedding e(t) above into e (t_embed). */
void rg_nn_time_embed(double t, size_t t_embed, float *e);

/* ---- classifier ---------------------------------------------------------------------------------- */
/* Classifier arch: n_in inputs, n_classes outputs, ReLU hidden layers of the given widths. */
rg_nn_arch rg_nn_classifier_arch(size_t n_in, size_t n_classes, size_t n_hidden, const size_t *widths);
/* Argmax labels (B) for any B (blocks of the workspace's B_max). */
int rg_nn_classifier_predict(const rg_nn_model *m, size_t B, const float *x, int *labels, rg_nn_work *w);
/* Fraction of the B rows whose predicted label equals labels[i]. */
int rg_nn_classifier_accuracy(const rg_nn_model *m, size_t B, const float *x, const int *labels,
                              rg_nn_work *w, double *acc);

/* ---- score network ------------------------------------------------------------------------------- */
/* Score arch: N inputs and outputs, SiLU hidden layers, t_embed time features, plain (sigma_data2 = 0;
 * set it afterwards to precondition). */
rg_nn_arch rg_nn_score_arch(size_t N, size_t t_embed, size_t n_hidden, const size_t *widths);
/* s(x, t) = -L_t^{-T} eps_theta(x, t) (preconditioned: the form above) for B rows x (B, N) at one time t > 0, s (B, N) out; p gives
 * L_t (rg_process_chol; N must equal rg_process_dim(p)). Any B (blocks of B_max). x and s may alias.
 * Allocation-free for ou/coupled processes (cores k <= 16). RG_EINVAL (t <= 0, N mismatch), process errors. */
int rg_nn_score_eval(const rg_nn_model *m, const rg_process *p, double t, size_t B, const float *x,
                     float *s, rg_nn_work *w);
/* The same shape as a generic score callback: ctx is an rg_nn_score_ctx. */
typedef struct {
    const rg_nn_model *model;
    const rg_process *process;
    rg_nn_work *work;
} rg_nn_score_ctx;
int rg_nn_score_fn(void *ctx, double t, size_t B, const float *x, float *s);
/* The network behind the sampler's generic interface (score.h): prepare NULL, one rg_nn_work of B_max
 * rows per workspace, eval = rg_nn_score_eval, no extras. c->model and c->process are used (c->work is
 * not); c must outlive the returned value. */
rg_score rg_nn_score_iface(const rg_nn_score_ctx *c);

/* ---- training ------------------------------------------------------------------------------------ */
typedef enum { RG_NN_LR_COSINE = 0, RG_NN_LR_CONST = 1, RG_NN_LR_STEP = 2 } rg_nn_lr_kind;

typedef struct {
    size_t batch;          /* B >= 1, <= P */
    size_t epochs;         /* >= 1: sets the schedule length K = epochs floor(P / B) */
    double lr, lr_min;     /* peak and final (cosine) learning rates */
    size_t warmup;         /* linear warmup steps */
    rg_nn_lr_kind lr_kind;
    double step_gamma;     /* step decay factor in (0, 1] */
    size_t step_every;     /* step decay period (steps, >= 1) */
    double beta1, beta2, adam_eps;
    uint64_t seed;         /* RG_STREAM_NN_TRAIN key */
    double t_min, t_max;   /* score: training times, 0 < t_min < t_max */
    int t_log;             /* score: 1 draws t log-uniformly on [t_min, t_max], 0 uniformly */
    /* classifier only (0 for a score network): */
    size_t shift;          /* augmentation: each training image is translated by (dx, dy), both
                            * uniform in [-shift, shift] pixels, vacated pixels 0; 0: none */
    size_t img_w;          /* image width for shift: rows are (n_in / img_w, img_w) row-major images */
    double label_smooth;   /* target (1 - e) onehot + e / n_out, e in [0, 1); 0: plain cross-entropy */
} rg_nn_train_config;

/* Defaults: batch 128, epochs 10, lr 1e-3, lr_min 1e-5, warmup 100, cosine, betas 0.9/0.999,
 * eps 1e-8, seed 1, t_min 1e-3, t_max 5, t_log 0, shift 0, img_w 0, label_smooth 0. */
rg_nn_train_config rg_nn_train_defaults(void);
const char *rg_nn_train_check(const rg_nn_train_config *c);

/* Training data (borrowed): P rows X (P, n_in); labels (P) in [0, n_out) for a classifier; the
 * forward process (rg_process_dim = n_in) for a score network. */
typedef struct {
    size_t P;
    const float *X;
    const int *labels;
    const rg_process *process;
} rg_nn_data;

int rg_nn_trainer_new(rg_nn_model *m, const rg_nn_train_config *c, const rg_nn_data *d,
                      rg_nn_trainer **out);
void rg_nn_trainer_free(rg_nn_trainer *tr);
/* One Adam step on the next minibatch; *loss (or NULL) = the minibatch loss before the update. */
int rg_nn_trainer_step(rg_nn_trainer *tr, double *loss);
/* n steps; *mean_loss (or NULL) = their mean loss. */
int rg_nn_trainer_run(rg_nn_trainer *tr, size_t n, double *mean_loss);
uint64_t rg_nn_trainer_steps_done(const rg_nn_trainer *tr);
uint64_t rg_nn_trainer_steps_total(const rg_nn_trainer *tr); /* K */
double rg_nn_trainer_lr(const rg_nn_trainer *tr, uint64_t step); /* schedule value at a step */
/* Loss and gradient (nparams, out) of B rows at given times/noise (score) or labels (classifier),
 * without updating anything: x (B, n_in) network inputs; target: labels (int) for a classifier, or
 * eps (B, n_in) float for a score net with t (B) (preconditioned: x = c_in x_t and eps = F's target).
 * The chunked deterministic path of the trainer. B <= batch. */
int rg_nn_trainer_loss_grad(rg_nn_trainer *tr, size_t B, const float *x, const double *t,
                            const int *labels, const float *eps, double *loss, float *grad);

/* ---- checkpoints --------------------------------------------------------------------------------- */
/* Write m, and tr's optimiser state when tr is not NULL, atomically. RG_EIO. */
int rg_nn_save(const char *path, const rg_nn_model *m, const rg_nn_trainer *tr);
/* Read a model (the optimiser state, if any, is checked and skipped). RG_EIO, RG_EFORMAT, RG_ENOMEM. */
int rg_nn_load(const char *path, rg_nn_model **out);
/* Restore parameters, Adam moments and step from path into tr: the architecture, batch, seed and
 * data size P must match tr's (RG_EFORMAT naming the mismatch); other configuration is taken from tr.
 * Training then continues bit-exactly as if never interrupted. */
int rg_nn_trainer_restore(rg_nn_trainer *tr, const char *path);

#endif
