/* Private to the nn module: model layout, chunk workspaces, the chunked forward/backward kernels
 * and the naive double-precision reference used by tests/test_nn.c. Not installed. */
#ifndef REGIMES_NN_INTERNAL_H
#define REGIMES_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "regimes/nn.h"

#define RG_NN__MAXL (RG_NN_MAX_HIDDEN + 1)

struct rg_nn_model {
    rg_nn_arch a;
    size_t nl;                                /* layers with weights: n_hidden + 1 */
    size_t in[RG_NN__MAXL], out[RG_NN__MAXL]; /* layer l maps in[l] -> out[l] */
    size_t woff[RG_NN__MAXL], boff[RG_NN__MAXL];
    size_t nparams, maxw;                     /* maxw: widest layer input or output */
    float *p;
};

/* Buffers for one chunk of up to RG_NN_CHUNK rows. act[0] = h_0; z[l], act[l + 1] for layer l. */
typedef struct {
    float *act[RG_NN__MAXL + 1];
    float *z[RG_NN__MAXL];
    float *d0, *d1;   /* (CHUNK, maxw) back-propagated deltas */
    double *core;     /* scratch: trainer 2 k^2 (E_t, L_t of the k x k core), work k (a solve) */
} rg_nn__chunk;

struct rg_nn_work {
    size_t B_max, nchunks, k;
    rg_nn__chunk *c;
    float *block;
    double *dblock;
    float *ybuf;      /* (B_max, n_out) */
    double *L;        /* score: (n_in, n_in) room for the core L_t */
    double *pc;       /* preconditioned score: RG_NN__PC_DOUBLES(k) doubles, grown on demand */
    size_t pc_k;      /* the largest core pc has room for */
};

/* Preconditioning at one time (nn.h): the k x k core matrices and the two scalars. */
typedef struct {
    const double *E, *L, *Sinv, *G;  /* row-major k x k, pointing into the caller's scratch */
    double cin, cout;
} rg_nn__pc;
#define RG_NN__PC_DOUBLES(k) (5 * (k) * (k) + 2 * (k)) /* scratch of rg_nn__precond, plus 2 k spare */
/* Fill pc for process p at time t with data variance s2 > 0, in scratch (RG_NN__PC_DOUBLES(k)).
 * RG_EINVAL if S_t is not positive definite, process errors. Safe on worker threads (its LAPACK
 * calls are on k x k matrices). */
int rg_nn__precond(const rg_process *p, double t, double s2, double *scratch, rg_nn__pc *pc);
/* The time embedding's argument: log(t) / 4 for a preconditioned score network, else t. */
double rg_nn__temb_arg(const rg_nn_arch *a, double t);

#define RG_NN__KMAX_STACK 16 /* core sizes up to this solve on the stack, larger ones in chunk->core */

/* Allocate chunk buffers (nchunks) for m, with ncore doubles of scratch (chunk->core) each. */
int rg_nn__work_alloc(const rg_nn_model *m, size_t nchunks, size_t ncore, rg_nn_work *w);
/* 1 if the architectures agree in every used field (padding and unused widths ignored). */
int rg_nn__arch_equal(const rg_nn_arch *a, const rg_nn_arch *b);
void rg_nn__work_release(rg_nn_work *w);
/* Forward n <= CHUNK rows; inputs xs x (n, n_in), times t (n) or NULL. Output in c->act[nl]. */
void rg_nn__chunk_forward(const rg_nn_model *m, rg_nn__chunk *c, size_t n, const float *x, float xs,
                          const double *t);
/* Backward from dy (n, n_out) stored in c->d0: gradient of the chunk into g (nparams, overwritten). */
void rg_nn__chunk_backward(const rg_nn_model *m, rg_nn__chunk *c, size_t n, float *g);

/* Naive double reference of the mean loss (header formulas), params (nparams) double; inputs
 * x (B, n_in); t (B) or NULL; labels (classifier) or eps (score, (B, n_in)); smooth: the
 * classifier's label smoothing (0: plain cross-entropy). */
double rg_nn__loss_naive(const rg_nn_model *m, const double *params, size_t B, const double *x,
                         const double *t, const int *labels, const double *eps, double smooth);
/* Naive double forward of one row into y (n_out); scratch of 2 maxw + t_embed doubles. */
void rg_nn__forward_naive(const rg_nn_model *m, const double *params, const double *x, double t,
                          double *y, double *scratch);

/* Checkpoint sections shared by nn_ckpt.c and nn_train.c. */
typedef struct {
    rg_nn_train_config c;
    uint64_t P, step;
    const float *m, *v;
} rg_nn__opt_view;
const rg_nn_train_config *rg_nn__trainer_config(const rg_nn_trainer *tr);
int rg_nn__trainer_view(const rg_nn_trainer *tr, rg_nn__opt_view *v);
rg_nn_model *rg_nn__trainer_model(const rg_nn_trainer *tr);
int rg_nn__trainer_set(rg_nn_trainer *tr, uint64_t step, const float *params, const float *m, const float *v);

#endif
