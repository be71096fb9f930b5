/* Tests of src/nn*.c: forward pass against a naive double reference, backprop against central
 * differences in double (every layer: dense, ReLU, SiLU, time embedding input, softmax
 * cross-entropy, whitened DSM loss), thread-count determinism, checkpoints (round trip, truncated,
 * foreign, wrong-version, trailing bytes), bit-exact resume, a classifier on a synthetic mixture, and
 * denoising score matching on Gaussian data against the exact score; the preconditioned score
 * network (its output form against an independent evaluation, the unit variance of its training
 * target, thread determinism and resume with log-uniform times). */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "rg_test.h"
#include "nn_internal.h"
#include "regimes/data.h"
#include "regimes/error.h"
#include "regimes/nn.h"
#include "regimes/process.h"

static const uint64_t SEED = 20240917;

static void expect_fail(int st, int want, const char *fragment)
{
    if (st != want || !strstr(rg_strerror_last(), fragment)) {
        print_error("status %s (want %s), message '%s' (want '%s')\n", rg_status_name(st),
                    rg_status_name(want), rg_strerror_last(), fragment);
        fail();
    }
}

/* Deterministic fill in (-amp, amp): an irrational rotation, no rand(). */
static void fillf(float *x, size_t n, float amp, double phase)
{
    for (size_t i = 0; i < n; i++) x[i] = amp * (float)(2.0 * fmod(phase + 0.6180339887498949 * (double)(i + 1), 1.0) - 1.0);
}

/* ---- layers ----------------------------------------------------------------------------------- */

static void test_time_embed(void **state)
{
    (void)state;
    float e[8];
    rg_nn_time_embed(0.37, 8, e);
    /* nn.h: h = 4 frequencies 64^(j/3) = 1, 4, 16, 64. Tolerance: float rounding of sin/cos. */
    const double w[4] = { 1.0, 4.0, 16.0, 64.0 };
    for (int j = 0; j < 4; j++) {
        rg_assert_abs(e[j], sin(w[j] * 0.37), 1e-6, "sin feature");
        rg_assert_abs(e[4 + j], cos(w[j] * 0.37), 1e-6, "cos feature");
    }
}

static void test_arch_check(void **state)
{
    (void)state;
    size_t wd[2] = { 8, 8 };
    rg_nn_arch a = rg_nn_classifier_arch(5, 1, 2, wd);
    rg_nn_model *m = NULL;
    expect_fail(rg_nn_model_new(&a, 1, &m), RG_EINVAL, "classes");
    a = rg_nn_score_arch(3, 3, 2, wd);
    expect_fail(rg_nn_model_new(&a, 1, &m), RG_EINVAL, "t_embed");
    assert_null(m);
}

/* Fast float forward (chunks of lanes) vs the naive double loops, B = 150 = 2 RG_NN_CHUNK + 22 crosses
 * chunk edges and ends in a ragged chunk; and the same bits for a row in any batch. */
static void check_forward(const rg_nn_arch *a)
{
    rg_nn_model *m;
    rg_nn_work *w;
    assert_int_equal(rg_nn_model_new(a, SEED, &m), RG_OK);
    const size_t B = 150, nin = a->n_in, no = a->n_out, np = rg_nn_model_nparams(m);
    assert_int_equal(rg_nn_work_new(m, B, &w), RG_OK);
    float *x = malloc(B * nin * sizeof *x), *y = malloc(B * no * sizeof *y);
    double *xd = malloc(B * nin * sizeof *xd), *t = malloc(B * sizeof *t), *p = malloc(np * sizeof *p);
    double *yd = malloc(no * sizeof *yd), *scr = malloc((3 * m->maxw + 2 * a->t_embed + no) * sizeof *scr);
    fillf(x, B * nin, 1.5f, 0.1);
    for (size_t i = 0; i < B * nin; i++) xd[i] = x[i];
    for (size_t b = 0; b < B; b++) t[b] = 0.01 + 0.1 * (double)b;
    for (size_t i = 0; i < np; i++) p[i] = rg_nn_model_params(m)[i];
    assert_int_equal(rg_nn_forward(m, B, x, a->t_embed ? t : NULL, y, w), RG_OK);
    double err = 0.0, scale = 0.0;
    for (size_t b = 0; b < B; b++) {
        rg_nn__forward_naive(m, p, xd + b * nin, t[b], yd, scr);
        for (size_t o = 0; o < no; o++) {
            err = fmax(err, fabs((double)y[b * no + o] - yd[o]));
            scale = fmax(scale, fabs(yd[o]));
        }
    }
    /* float32 sums of ~100 terms of size O(1): ~1e-6 relative; 1e-4 leaves margin, an indexing bug
     * is O(1). */
    rg_assert_abs(err / scale, 0.0, 1e-4, "forward vs naive");
    /* Batch independence: rows 22..149 alone (another chunk alignment, as on a second MPI rank) and
     * one row at a time give the same bits (the evaluation pass is lane-wise, nn.c). */
    float *y1 = malloc(B * no * sizeof *y1);
    assert_int_equal(rg_nn_forward(m, B - 22, x + 22 * nin, a->t_embed ? t + 22 : NULL, y1 + 22 * no, w), RG_OK);
    assert_memory_equal(y1 + 22 * no, y + 22 * no, (B - 22) * no * sizeof *y);
    for (size_t b = 0; b < B; b++)
        assert_int_equal(rg_nn_forward(m, 1, x + b * nin, a->t_embed ? t + b : NULL, y1 + b * no, w), RG_OK);
    assert_memory_equal(y1, y, B * no * sizeof *y);
    free(y1);
    free(x); free(y); free(xd); free(t); free(p); free(yd); free(scr);
    rg_nn_work_free(w);
    rg_nn_model_free(m);
}

static void test_forward_matches_naive(void **state)
{
    (void)state;
    size_t wd[2] = { 23, 17 };
    rg_nn_arch c = rg_nn_classifier_arch(11, 5, 2, wd), s = rg_nn_score_arch(6, 8, 2, wd);
    check_forward(&c);
    check_forward(&s);
}

/* Backprop (float, chunked, combined in chunk order) vs central differences of the naive double
 * loss, every parameter. Step h = 1e-5: truncation h^2 |f'''| ~ 1e-10, roundoff 1e-16 / h ~ 1e-11;
 * a ReLU kink inside [w - h, w + h] is improbable at these sizes. The float gradient carries ~1e-6
 * relative error, so rtol 2e-3 of the largest entry passes a correct gradient and catches a missing
 * term (O(1)). */
static void check_grad(const rg_nn_arch *a, double smooth, size_t B)
{
    rg_nn_model *m;
    assert_int_equal(rg_nn_model_new(a, SEED, &m), RG_OK);
    const size_t nin = a->n_in, no = a->n_out, np = rg_nn_model_nparams(m);
    float *X = malloc(B * nin * sizeof *X), *eps = malloc(B * no * sizeof *eps), *g = malloc(np * sizeof *g);
    double *xd = malloc(B * nin * sizeof *xd), *ed = malloc(B * no * sizeof *ed), *t = malloc(B * sizeof *t);
    double *p = malloc(np * sizeof *p), *fd = malloc(np * sizeof *fd), *gd = malloc(np * sizeof *gd);
    int *lab = malloc(B * sizeof *lab);
    fillf(X, B * nin, 1.2f, 0.3);
    fillf(eps, B * no, 1.0f, 0.7);
    for (size_t i = 0; i < B * nin; i++) xd[i] = X[i];
    for (size_t i = 0; i < B * no; i++) ed[i] = eps[i];
    for (size_t b = 0; b < B; b++) { t[b] = 0.05 + 0.2 * (double)b; lab[b] = (int)((b * 7) % no); }
    /* the trainer needs data only for its sizes: P = B rows of X, with labels or a process */
    rg_process *ou = NULL;
    assert_int_equal(rg_process_ou(nin, &ou), RG_OK);
    rg_nn_data d = { .P = B, .X = X, .labels = lab, .process = ou };
    rg_nn_train_config c = rg_nn_train_defaults();
    c.batch = B;
    c.label_smooth = smooth;
    rg_nn_trainer *tr;
    assert_int_equal(rg_nn_trainer_new(m, &c, &d, &tr), RG_OK);
    int score = a->task == RG_NN_SCORE;
    double loss;
    assert_int_equal(rg_nn_trainer_loss_grad(tr, B, X, score ? t : NULL, score ? NULL : lab, score ? eps : NULL,
                                             &loss, g), RG_OK);
    for (size_t i = 0; i < np; i++) p[i] = rg_nn_model_params(m)[i];
    double l0 = rg_nn__loss_naive(m, p, B, xd, score ? t : NULL, lab, ed, smooth);
    rg_assert_rel(loss, l0, 1e-5, "loss vs naive (float forward, ~1e-6)");
    const double h = 1e-5;
    for (size_t i = 0; i < np; i++) {
        double keep = p[i];
        p[i] = keep + h;
        double lp = rg_nn__loss_naive(m, p, B, xd, score ? t : NULL, lab, ed, smooth);
        p[i] = keep - h;
        double lm = rg_nn__loss_naive(m, p, B, xd, score ? t : NULL, lab, ed, smooth);
        p[i] = keep;
        fd[i] = (lp - lm) / (2.0 * h);
        gd[i] = g[i];
    }
    rg_assert_vec_rel(gd, fd, np, 2e-3, score ? "score gradient vs FD" : "classifier gradient vs FD");
    rg_nn_trainer_free(tr);
    rg_process_free(ou);
    rg_nn_model_free(m);
    free(X); free(eps); free(g); free(xd); free(ed); free(t); free(p); free(fd); free(gd); free(lab);
}

static void test_gradients(void **state)
{
    (void)state;
    size_t wd[2] = { 9, 7 };
    rg_nn_arch c = rg_nn_classifier_arch(6, 4, 2, wd);
    check_grad(&c, 0.0, 70);             /* dense + ReLU + softmax cross-entropy; 2 chunks, ragged */
    check_grad(&c, 0.1, 21);             /* label smoothing */
    c.act = RG_NN_SILU;
    check_grad(&c, 0.0, 21);             /* SiLU */
    rg_nn_arch s = rg_nn_score_arch(3, 4, 2, wd);
    check_grad(&s, 0.0, 70);             /* time embedding input + SiLU + DSM loss; 2 chunks */
    s.act = RG_NN_RELU;
    s.n_hidden = 1;
    check_grad(&s, 0.0, 21);             /* one hidden layer, ReLU */
}

/* ---- training fixtures --------------------------------------------------------------------------- */

/* A 4-class isotropic mixture in N = 10: means +-1.2 on two coordinates each, sigma^2 = 1. */
static rg_data_set *mixture_set(size_t P, uint64_t seed, rg_data_gmm **gout)
{
    const size_t K = 4, N = 10;
    double wts[4] = { 0.25, 0.25, 0.25, 0.25 }, mu[40] = { 0 }, cov[4] = { 1, 1, 1, 1 };
    for (size_t j = 0; j < K; j++) {
        mu[j * N + j] = 2.0;
        mu[j * N + (j + 1) % K] = -1.0;
    }
    rg_data_gmm_params gp = { .K = K, .N = N, .weights = wts, .means = mu, .cov_kind = RG_COV_ISO, .cov = cov };
    rg_data_gmm *g;
    assert_int_equal(rg_data_gmm_new(&gp, &g), RG_OK);
    rg_data_set *s;
    assert_int_equal(rg_data_set_draw(g, (rg_rng){ seed, RG_STREAM_DATA }, P, &s), RG_OK);
    if (gout) *gout = g;
    else rg_data_gmm_free(g);
    return s;
}

typedef struct { rg_nn_model *m; rg_nn_trainer *tr; } run;

static run make_run(const rg_data_set *s, size_t epochs)
{
    size_t wd[2] = { 32, 32 };
    rg_nn_arch a = rg_nn_classifier_arch(s->N, 4, 2, wd);
    run r;
    assert_int_equal(rg_nn_model_new(&a, SEED, &r.m), RG_OK);
    rg_nn_train_config c = rg_nn_train_defaults();
    c.batch = 72; /* RG_NN_CHUNK + 8: two chunks, a ragged last one */
    c.epochs = epochs;
    c.warmup = 10;
    rg_nn_data d = { .P = s->P, .X = s->X, .labels = s->labels };
    assert_int_equal(rg_nn_trainer_new(r.m, &c, &d, &r.tr), RG_OK);
    return r;
}

static void free_run(run r)
{
    rg_nn_trainer_free(r.tr);
    rg_nn_model_free(r.m);
}

static void test_threads_bit_identical(void **state)
{
    (void)state;
    rg_data_set *s = mixture_set(400, SEED, NULL);
    int keep = omp_get_max_threads();
    run a = make_run(s, 2), b = make_run(s, 2);
    omp_set_num_threads(1);
    assert_int_equal(rg_nn_trainer_run(a.tr, 15, NULL), RG_OK);
    omp_set_num_threads(3);
    assert_int_equal(rg_nn_trainer_run(b.tr, 15, NULL), RG_OK);
    omp_set_num_threads(keep);
    assert_memory_equal(rg_nn_model_params(a.m), rg_nn_model_params(b.m), rg_nn_model_nparams(a.m) * sizeof(float));
    free_run(a);
    free_run(b);
    rg_data_set_free(s);
}

/* Augmented classifier training (shifts of up to 1 pixel of 5 x 2 "images" of the N = 10 mixture
 * points, label smoothing 0.1) is bit-identical for 1 and 3 threads, differs from the plain run
 * (the shifts act), and bad augmentation settings are refused up front. */
static void test_augmented_training(void **state)
{
    (void)state;
    rg_data_set *s = mixture_set(400, SEED, NULL);
    size_t wd[1] = { 16 };
    rg_nn_arch a = rg_nn_classifier_arch(s->N, 4, 1, wd);
    rg_nn_train_config c = rg_nn_train_defaults();
    c.batch = 100;
    c.shift = 1;
    c.img_w = 2;
    c.label_smooth = 0.1;
    rg_nn_data d = { .P = s->P, .X = s->X, .labels = s->labels };
    rg_nn_model *m[3];
    rg_nn_trainer *tr[3];
    int keep = omp_get_max_threads();
    for (int i = 0; i < 3; i++) {
        if (i == 2) c.shift = 0, c.img_w = 0;
        assert_int_equal(rg_nn_model_new(&a, SEED, &m[i]), RG_OK);
        assert_int_equal(rg_nn_trainer_new(m[i], &c, &d, &tr[i]), RG_OK);
        omp_set_num_threads(i == 1 ? 3 : 1);
        assert_int_equal(rg_nn_trainer_run(tr[i], 8, NULL), RG_OK);
    }
    omp_set_num_threads(keep);
    const size_t bytes = rg_nn_model_nparams(m[0]) * sizeof(float);
    assert_memory_equal(rg_nn_model_params(m[0]), rg_nn_model_params(m[1]), bytes);
    assert_true(memcmp(rg_nn_model_params(m[0]), rg_nn_model_params(m[2]), bytes) != 0);
    rg_nn_trainer *bad = NULL;
    c.shift = 1;
    c.img_w = 3;                                  /* 10 inputs are not rows of width 3 */
    expect_fail(rg_nn_trainer_new(m[0], &c, &d, &bad), RG_EINVAL, "not images of width 3");
    c.img_w = 0;
    expect_fail(rg_nn_trainer_new(m[0], &c, &d, &bad), RG_EINVAL, "shift needs an image width");
    c.shift = 0;
    c.label_smooth = 1.0;
    expect_fail(rg_nn_trainer_new(m[0], &c, &d, &bad), RG_EINVAL, "label_smooth");
    assert_null(bad);
    for (int i = 0; i < 3; i++) {
        rg_nn_trainer_free(tr[i]);
        rg_nn_model_free(m[i]);
    }
    rg_data_set_free(s);
}

/* Diffusive coupling gamma = 0.3 in d dimensions per modality and P deterministic rows X (P, 2 d). */
static rg_process *coupled_set(size_t d, size_t P, double phase, float **X)
{
    double M[4];
    rg_process_coupling(RG_COUPLING_DIFFUSIVE, 0.3, M);
    rg_process *p;
    assert_int_equal(rg_process_coupled(M, d, &p), RG_OK);
    *X = malloc(P * 2 * d * sizeof **X);
    fillf(*X, P * 2 * d, 1.0f, phase);
    return p;
}

/* Score training (DSM pairs drawn inside the parallel chunks, coupled process) is also
 * bit-identical for 1 and 3 threads. */
static void test_threads_bit_identical_score(void **state)
{
    (void)state;
    const size_t d = 3, P = 256;
    float *X;
    rg_process *p = coupled_set(d, P, 0.4, &X);
    size_t wd[1] = { 24 };
    rg_nn_arch a = rg_nn_score_arch(2 * d, 6, 1, wd);
    rg_nn_model *m[2];
    rg_nn_trainer *tr[2];
    rg_nn_train_config c = rg_nn_train_defaults();
    c.batch = 100; /* two chunks */
    rg_nn_data dd = { .P = P, .X = X, .process = p };
    int keep = omp_get_max_threads();
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rg_nn_model_new(&a, SEED, &m[i]), RG_OK);
        assert_int_equal(rg_nn_trainer_new(m[i], &c, &dd, &tr[i]), RG_OK);
        omp_set_num_threads(i == 0 ? 1 : 3);
        assert_int_equal(rg_nn_trainer_run(tr[i], 12, NULL), RG_OK);
    }
    omp_set_num_threads(keep);
    assert_memory_equal(rg_nn_model_params(m[0]), rg_nn_model_params(m[1]), rg_nn_model_nparams(m[0]) * sizeof(float));
    for (int i = 0; i < 2; i++) {
        rg_nn_trainer_free(tr[i]);
        rg_nn_model_free(m[i]);
    }
    free(X);
    rg_process_free(p);
}

/* Learning-rate schedules against their formulas (nn.h), evaluated by hand: warmup 10 steps of lr
 * 1e-3 gives 1e-4 at step 0; cosine over K = 10 * floor(400 / 72) = 50 steps reaches lr_min at
 * the end and the midpoint (lr + lr_min) / 2 at u = 1/2 (step 30); step decay halves every 20 steps. */
static void test_lr_schedule(void **state)
{
    (void)state;
    rg_data_set *s = mixture_set(400, SEED, NULL);
    run r = make_run(s, 10);
    assert_int_equal(rg_nn_trainer_steps_total(r.tr), 50);
    rg_assert_rel(rg_nn_trainer_lr(r.tr, 0), 1e-4, 1e-15, "warmup step 0");
    rg_assert_rel(rg_nn_trainer_lr(r.tr, 9), 1e-3, 1e-15, "warmup end");
    rg_assert_rel(rg_nn_trainer_lr(r.tr, 10), 1e-3, 1e-15, "cosine start");
    rg_assert_rel(rg_nn_trainer_lr(r.tr, 30), 0.5 * (1e-3 + 1e-5), 1e-14, "cosine midpoint");
    rg_assert_rel(rg_nn_trainer_lr(r.tr, 50), 1e-5, 1e-14, "cosine end");
    free_run(r);
    size_t wd[1] = { 8 };
    rg_nn_arch a = rg_nn_classifier_arch(s->N, 4, 1, wd);
    rg_nn_train_config c = rg_nn_train_defaults();
    c.batch = 40;
    c.warmup = 0;
    c.lr_kind = RG_NN_LR_STEP;
    c.step_every = 20;
    rg_nn_data d = { .P = s->P, .X = s->X, .labels = s->labels };
    assert_int_equal(rg_nn_model_new(&a, SEED, &r.m), RG_OK);
    assert_int_equal(rg_nn_trainer_new(r.m, &c, &d, &r.tr), RG_OK);
    rg_assert_rel(rg_nn_trainer_lr(r.tr, 19), 1e-3, 1e-15, "step decay, first period");
    rg_assert_rel(rg_nn_trainer_lr(r.tr, 45), 2.5e-4, 1e-15, "step decay, third period");
    c.lr_min = 2e-3;
    rg_nn_trainer *bad = NULL;
    expect_fail(rg_nn_trainer_new(r.m, &c, &d, &bad), RG_EINVAL, "lr_min");
    assert_null(bad);
    free_run(r);
    rg_data_set_free(s);
}

/* ---- checkpoints --------------------------------------------------------------------------------- */

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* Regression (found while writing fuzz/fuzz_ckpt.c): a checkpoint whose header announces a huge
 * score network (n_in = n_out = 2^24, one hidden layer of 65536: 2^41 parameters, 8 TB) but carries
 * no parameters, with a valid checksum, made rg_nn_load build the model before comparing the counts:
 * RG_ENOMEM, or an ASan abort (allocation-size-too-big). Now the count is checked first. The bytes
 * follow the layout of src/nn_ckpt.c: magic, u32 version, task, act, u64 n_in, n_out, n_hidden,
 * hidden[8], t_embed, nparams, (no parameters), u32 has_opt, u64 FNV-1a 64 of all before it. */
static void test_checkpoint_forged_size(void **state)
{
    (void)state;
    unsigned char b[8 + 3 * 4 + 13 * 8 + 4 + 8];
    uint32_t u32[3] = { 1, RG_NN_SCORE, RG_NN_RELU };   /* the version-1 layout (no sigma_data2) */
    uint64_t u64[13] = { 1u << 24, 1u << 24, 1, 65536, 0, 0, 0, 0, 0, 0, 0, 2, 0 };
    const uint32_t has_opt = 0;
    memcpy(b, "RGNNCKPT", 8);
    memcpy(b + 8, u32, sizeof u32);
    memcpy(b + 20, u64, sizeof u64);
    memcpy(b + 124, &has_opt, 4);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < 128; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    memcpy(b + 128, &h, 8);
    const char *path = "test_nn_forged.bin";
    write_bytes(path, b, sizeof b);
    rg_nn_model *m = NULL;
    expect_fail(rg_nn_load(path, &m), RG_EFORMAT, "0 parameters, the architecture needs 2199040229376");
    assert_null(m);
    remove(path);
}

static void test_checkpoint_round_trip_and_rejects(void **state)
{
    (void)state;
    rg_data_set *s = mixture_set(200, SEED, NULL);
    run r = make_run(s, 1);
    assert_int_equal(rg_nn_trainer_run(r.tr, 3, NULL), RG_OK);
    const char *path = "test_nn_ckpt.bin", *bad = "test_nn_bad.bin";
    assert_int_equal(rg_nn_save(path, r.m, r.tr), RG_OK);
    FILE *tmpf = fopen("test_nn_ckpt.bin.tmp", "rb");
    assert_null(tmpf);                                   /* renamed, nothing left behind */
    rg_nn_model *m2;
    assert_int_equal(rg_nn_load(path, &m2), RG_OK);
    assert_true(rg_nn__arch_equal(rg_nn_model_arch(m2), rg_nn_model_arch(r.m)));
    assert_memory_equal(rg_nn_model_params(m2), rg_nn_model_params(r.m), rg_nn_model_nparams(r.m) * sizeof(float));
    rg_nn_model_free(m2);

    size_t n;
    unsigned char *b = read_bytes(path, &n);
    rg_nn_model *m3 = NULL;
    write_bytes(bad, b, n / 2);                            /* truncated in the parameters */
    expect_fail(rg_nn_load(bad, &m3), RG_EFORMAT, "truncated");
    write_bytes(bad, b, n - 3);                            /* truncated in the checksum */
    expect_fail(rg_nn_load(bad, &m3), RG_EFORMAT, "truncated");
    write_bytes(bad, b, 5);
    expect_fail(rg_nn_load(bad, &m3), RG_EFORMAT, "bad magic");
    b[n] = 0;
    write_bytes(bad, b, n + 1);                            /* one trailing byte */
    expect_fail(rg_nn_load(bad, &m3), RG_EFORMAT, "trailing");
    b[0] ^= 0x20;                                          /* foreign file */
    write_bytes(bad, b, n);
    expect_fail(rg_nn_load(bad, &m3), RG_EFORMAT, "bad magic");
    b[0] ^= 0x20;
    b[8] = 99;                                             /* version 99 */
    write_bytes(bad, b, n);
    expect_fail(rg_nn_load(bad, &m3), RG_EFORMAT, "version 99");
    b[8] = RG_NN_CKPT_VERSION;
    b[n / 2] ^= 1;                                         /* a flipped bit in a weight */
    write_bytes(bad, b, n);
    expect_fail(rg_nn_load(bad, &m3), RG_EFORMAT, "checksum");
    expect_fail(rg_nn_load("/nonexistent/dir/x.bin", &m3), RG_EIO, "cannot open");
    assert_null(m3);
    free(b);
    /* a model-only checkpoint cannot resume training */
    assert_int_equal(rg_nn_save(bad, r.m, NULL), RG_OK);
    expect_fail(rg_nn_trainer_restore(r.tr, bad), RG_EFORMAT, "no optimiser state");
    remove(path);
    remove(bad);
    free_run(r);
    rg_data_set_free(s);
}

/* Train 2k steps straight vs k, save, restore into a fresh model and trainer, k more: the same
 * bits. k = 13 with 5 steps per epoch crosses an epoch boundary after the restore. */
static void test_resume_bit_exact(void **state)
{
    (void)state;
    rg_data_set *s = mixture_set(400, SEED, NULL);
    const size_t k = 13;
    run a = make_run(s, 6), b = make_run(s, 6); /* 30 steps in all */
    assert_int_equal(rg_nn_trainer_run(a.tr, 2 * k, NULL), RG_OK);
    assert_int_equal(rg_nn_trainer_run(b.tr, k, NULL), RG_OK);
    assert_int_equal(rg_nn_save("test_nn_resume.bin", b.m, b.tr), RG_OK);
    free_run(b);
    run c = make_run(s, 6);
    assert_int_equal(rg_nn_trainer_restore(c.tr, "test_nn_resume.bin"), RG_OK);
    assert_int_equal(rg_nn_trainer_steps_done(c.tr), k);
    assert_int_equal(rg_nn_trainer_run(c.tr, k, NULL), RG_OK);
    assert_memory_equal(rg_nn_model_params(a.m), rg_nn_model_params(c.m), rg_nn_model_nparams(a.m) * sizeof(float));
    remove("test_nn_resume.bin");
    free_run(a);
    free_run(c);
    rg_data_set_free(s);
}

/* ---- classifier ---------------------------------------------------------------------------------- */

/* 4000 training points, 10 epochs; accuracy on 4000 fresh points (another seed) against the Bayes
 * rule on the same points (rg_data_gmm_classify, the best any classifier can do). The gap is mostly
 * training, not the test set (whose standard error is 0.005): this setup over 16 seeds (seed .. seed + 7,
 * with two generations of the normals) gave gaps 0.006 to 0.027, mean 0.015, sd 0.006. The MLP must
 * come within 0.045 of Bayes (mean + 5 sd); an untrained or broken network sits near 0.25. */
static void test_classifier_synthetic(void **state)
{
    (void)state;
    rg_data_gmm *g;
    rg_data_set *tr_set = mixture_set(4000, SEED, &g), *te = mixture_set(4000, SEED + 1, NULL);
    run r = make_run(tr_set, 10);
    double l0, l1;
    assert_int_equal(rg_nn_trainer_run(r.tr, 20, &l0), RG_OK);
    assert_int_equal(rg_nn_trainer_run(r.tr, (size_t)rg_nn_trainer_steps_total(r.tr) - 20, &l1), RG_OK);
    rg_nn_work *w;
    assert_int_equal(rg_nn_work_new(r.m, 256, &w), RG_OK);
    double acc;
    assert_int_equal(rg_nn_classifier_accuracy(r.m, te->P, te->X, te->labels, w, &acc), RG_OK);
    int *bayes = malloc(te->P * sizeof *bayes);
    assert_int_equal(rg_data_gmm_classify(g, te->X, te->P, bayes), RG_OK);
    size_t ok = 0;
    for (size_t i = 0; i < te->P; i++) ok += bayes[i] == te->labels[i];
    double acc_bayes = (double)ok / (double)te->P;
    print_message("classifier: loss %.4f -> %.4f, test accuracy %.4f, Bayes %.4f\n", l0, l1, acc, acc_bayes);
    assert_true(l1 < l0);
    assert_true(acc >= acc_bayes - 0.045);
    free(bayes);
    rg_nn_work_free(w);
    free_run(r);
    rg_data_set_free(tr_set);
    rg_data_set_free(te);
    rg_data_gmm_free(g);
}

/* ---- score network -------------------------------------------------------------------------------- */

/* s = -L_t^{-T} eps_theta under a coupled process: check L_t^T s = -eps_theta from the forward pass. */
static void test_score_eval_coupled(void **state)
{
    (void)state;
    const size_t d = 3, N = 2 * d, B = 19;
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.4, M);
    rg_process *p;
    assert_int_equal(rg_process_coupled(M, d, &p), RG_OK);
    size_t wd[1] = { 16 };
    rg_nn_arch a = rg_nn_score_arch(N, 4, 1, wd);
    rg_nn_model *m;
    rg_nn_work *w;
    assert_int_equal(rg_nn_model_new(&a, SEED, &m), RG_OK);
    assert_int_equal(rg_nn_work_new(m, 8, &w), RG_OK);   /* B > B_max: evaluated in blocks */
    float x[19 * 6], s[19 * 6], e[19 * 6];
    double t = 0.7, tt[8], L[4];
    for (int i = 0; i < 8; i++) tt[i] = t;
    fillf(x, B * N, 2.0f, 0.2);
    assert_int_equal(rg_nn_score_eval(m, p, t, B, x, s, w), RG_OK);
    for (size_t b0 = 0; b0 < B; b0 += 8) {
        size_t n = B - b0 < 8 ? B - b0 : 8;
        assert_int_equal(rg_nn_forward(m, n, x + b0 * N, tt, e + b0 * N, w), RG_OK);
    }
    assert_int_equal(rg_process_chol(p, t, L), RG_OK);
    double got[19 * 6], want[19 * 6];
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < d; j++) { /* (L^T (x) I) s: row 0 = L00 s_x + L10 s_y, row 1 = L11 s_y */
            const float *sb = s + b * N;
            got[b * N + j] = L[0] * (double)sb[j] + L[2] * (double)sb[d + j];
            got[b * N + d + j] = L[3] * (double)sb[d + j];
            want[b * N + j] = -(double)e[b * N + j];
            want[b * N + d + j] = -(double)e[b * N + d + j];
        }
    rg_assert_vec_rel(got, want, B * N, 1e-5, "L^T s = -eps (float rounding of s)");
    /* a row's score is the same bits whatever batch it arrives in (rows 5.. alone, then one by one) */
    float s1[19 * 6];
    assert_int_equal(rg_nn_score_eval(m, p, t, B - 5, x + 5 * N, s1 + 5 * N, w), RG_OK);
    assert_memory_equal(s1 + 5 * N, s + 5 * N, (B - 5) * N * sizeof *s);
    for (size_t b = 0; b < B; b++) assert_int_equal(rg_nn_score_eval(m, p, t, 1, x + b * N, s1 + b * N, w), RG_OK);
    assert_memory_equal(s1, s, B * N * sizeof *s);
    expect_fail(rg_nn_score_eval(m, p, 0.0, B, x, s, w), RG_EINVAL, "t > 0");
    rg_nn_work_free(w);
    rg_nn_model_free(m);
    rg_process_free(p);
}

/* Small k x k inverse by Gauss-Jordan with partial pivoting (k <= 4), independent of LAPACK. */
static void inv_small(size_t k, const double *A, double *X)
{
    double W[4 * 8];
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < 2 * k; j++) W[i * 2 * k + j] = j < k ? A[i * k + j] : (double)(j - k == i);
    for (size_t c = 0; c < k; c++) {
        size_t piv = c;
        for (size_t i = c + 1; i < k; i++)
            if (fabs(W[i * 2 * k + c]) > fabs(W[piv * 2 * k + c])) piv = i;
        for (size_t j = 0; j < 2 * k; j++) {
            double tmp = W[c * 2 * k + j];
            W[c * 2 * k + j] = W[piv * 2 * k + j];
            W[piv * 2 * k + j] = tmp;
        }
        double d = W[c * 2 * k + c];
        for (size_t j = 0; j < 2 * k; j++) W[c * 2 * k + j] /= d;
        for (size_t i = 0; i < k; i++)
            if (i != c) {
                double f = W[i * 2 * k + c];
                for (size_t j = 0; j < 2 * k; j++) W[i * 2 * k + j] -= f * W[c * 2 * k + j];
            }
    }
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) X[i * k + j] = W[i * 2 * k + k + j];
}

/* Moments E, S of p at t (k x k) and the covariance Gamma = s2 E E^T + S of x_t for data N(0, s2 I)
 * (docs/math.md 5.4 with m = 0) with its inverse Gi, k <= 4. */
static void gauss_cov(const rg_process *p, double t, double s2, double *E, double *S, double *G, double *Gi)
{
    const size_t k = rg_process_core(p);
    assert_int_equal(rg_process_moments(p, t, E, S), RG_OK);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            G[i * k + j] = S[i * k + j];
            for (size_t l = 0; l < k; l++) G[i * k + j] += s2 * E[i * k + l] * E[j * k + l];
        }
    inv_small(k, G, Gi);
}

/* DSM on Gaussian data N(0, sigma^2 I_N), sigma^2 = 0.25, under process p: the exact score is
 * s = -Gamma_t^{-1} x with Gamma_t = sigma^2 E_t E_t^T + S_t (x) I_r (docs/math.md 5.4 with m = 0). After
 * training, at t in {0.1, 0.3, 1, 2.5} and 512 points x = chol(Gamma_t) xi from p_t, the relative L2
 * error of the network score must be below 0.1: measured 0.027-0.040 (OU) and 0.037-0.078 (coupled,
 * worst at t = 0.1; fixed seed, deterministic for a given BLAS kernel), while an
 * untrained net gives O(1). The loss must also decrease. */
static void check_dsm_gaussian(const rg_process *p, const char *what)
{
    const size_t N = rg_process_dim(p), k = rg_process_core(p), r = rg_process_mult(p), P = 4096;
    const double s2 = 0.25;
    double wts[1] = { 1.0 }, mu[4] = { 0, 0, 0, 0 }, cov[1] = { s2 };
    rg_data_gmm_params gp = { .K = 1, .N = N, .weights = wts, .means = mu, .cov_kind = RG_COV_ISO, .cov = cov };
    rg_data_gmm *g;
    rg_data_set *ds;
    assert_true(N <= 4 && k <= 2);
    assert_int_equal(rg_data_gmm_new(&gp, &g), RG_OK);
    assert_int_equal(rg_data_set_draw(g, (rg_rng){ SEED, RG_STREAM_DATA }, P, &ds), RG_OK);
    size_t wd[2] = { 64, 64 };
    rg_nn_arch a = rg_nn_score_arch(N, 16, 2, wd);
    rg_nn_model *m;
    assert_int_equal(rg_nn_model_new(&a, SEED, &m), RG_OK);
    rg_nn_train_config c = rg_nn_train_defaults();
    c.batch = 128;
    c.epochs = 80;
    c.lr = 3e-3;
    c.t_min = 0.05;
    c.t_max = 3.0;
    rg_nn_data dd = { .P = P, .X = ds->X, .process = p };
    rg_nn_trainer *tr;
    assert_int_equal(rg_nn_trainer_new(m, &c, &dd, &tr), RG_OK);
    double l0, l1;
    size_t K = (size_t)rg_nn_trainer_steps_total(tr);
    assert_int_equal(rg_nn_trainer_run(tr, 50, &l0), RG_OK);
    assert_int_equal(rg_nn_trainer_run(tr, K - 250, NULL), RG_OK);
    assert_int_equal(rg_nn_trainer_run(tr, 200, &l1), RG_OK);
    rg_nn_work *w;
    assert_int_equal(rg_nn_work_new(m, 512, &w), RG_OK);
    const double ts[4] = { 0.1, 0.3, 1.0, 2.5 };
    float x[512 * 4], s[512 * 4];
    double worst = 0.0;
    for (int q = 0; q < 4; q++) {
        double E[4], S[4], G[4], R[4] = { 0 }, Gi[4];
        gauss_cov(p, ts[q], s2, E, S, G, Gi);
        R[0] = sqrt(G[0]);
        if (k == 2) { /* 2 x 2 Cholesky by hand */
            R[2] = G[2] / R[0];
            R[3] = sqrt(G[3] - R[2] * R[2]);
        }
        double xi[4];
        for (size_t b = 0; b < 512; b++) {
            rg_rng_normals_d((rg_rng){ SEED, RG_STREAM_MEASURE }, b, (uint64_t)q, xi, N);
            for (size_t i = 0; i < k; i++)
                for (size_t j = 0; j < r; j++) {
                    double v = 0.0;
                    for (size_t l = 0; l <= i; l++) v += R[i * k + l] * xi[l * r + j];
                    x[b * N + i * r + j] = (float)v;
                }
        }
        assert_int_equal(rg_nn_score_eval(m, p, ts[q], 512, x, s, w), RG_OK);
        double num = 0.0, den = 0.0;
        for (size_t b = 0; b < 512; b++)
            for (size_t i = 0; i < k; i++)
                for (size_t j = 0; j < r; j++) {
                    double ex = 0.0;
                    for (size_t l = 0; l < k; l++) ex -= Gi[i * k + l] * (double)x[b * N + l * r + j];
                    double e = (double)s[b * N + i * r + j] - ex;
                    num += e * e;
                    den += ex * ex;
                }
        double rel = sqrt(num / den);
        print_message("%s: t = %.2f relative L2 error of the score %.4f\n", what, ts[q], rel);
        worst = fmax(worst, rel);
    }
    print_message("%s: DSM loss %.4f -> %.4f over %zu steps\n", what, l0, l1, K);
    assert_true(l1 < l0);
    assert_true(worst < 0.1);
    rg_nn_work_free(w);
    rg_nn_trainer_free(tr);
    rg_nn_model_free(m);
    rg_data_set_free(ds);
    rg_data_gmm_free(g);
}

static void test_score_dsm_gaussian_ou(void **state)
{
    (void)state;
    rg_process *p;
    assert_int_equal(rg_process_ou(2, &p), RG_OK);
    check_dsm_gaussian(p, "OU d = 2");
    rg_process_free(p);
}

/* Coupled cross-drive gamma = 0.5, d = 2 (state (2, 2)): Sigma_t is not isotropic, so this checks
 * the whitening by L_t and the (k, r) layout end to end. */
static void test_score_dsm_gaussian_coupled(void **state)
{
    (void)state;
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
    rg_process *p;
    assert_int_equal(rg_process_coupled(M, 2, &p), RG_OK);
    check_dsm_gaussian(p, "coupled gamma = 0.5, d = 2");
    rg_process_free(p);
}

/* ---- preconditioned score network ----------------------------------------------------------------- */


/* The preconditioned score (nn.h) evaluated by hand from the process moments: with Gamma = s2 E E^T +
 * Sigma, c_in = (tr Gamma / k)^-1/2, c_out = (1 - tr(Gamma^-1 Sigma) / k)^1/2 and F = the bare network
 * on c_in x (rg_nn_forward), s = -Gamma^-1 x - c_out L^-T F, i.e. L^T (s + Gamma^-1 x) = -c_out F.
 * With a zero network the score is exactly the Gaussian -Gamma^-1 x. Coupled (k = 2, r = 3) and
 * non-reversible (dense k = 3, r = 1) processes, t from 0.02 to 4. */
static void check_precond_eval(const rg_process *p, const char *what)
{
    const size_t N = rg_process_dim(p), k = rg_process_core(p), r = rg_process_mult(p), B = 21;
    const double s2 = 0.3, ts[4] = { 0.02, 0.4, 1.3, 4.0 };
    size_t wd[1] = { 12 };
    rg_nn_arch a = rg_nn_score_arch(N, 6, 1, wd);
    a.sigma_data2 = s2;
    rg_nn_model *m;
    rg_nn_work *w;
    assert_int_equal(rg_nn_model_new(&a, SEED, &m), RG_OK);
    assert_int_equal(rg_nn_work_new(m, 16, &w), RG_OK);
    float x[21 * 6], xin[21 * 6], s[21 * 6], F[21 * 6];
    fillf(x, B * N, 1.5f, 0.3);
    for (int zero = 0; zero < 2; zero++) {
        if (zero) memset(rg_nn_model_params(m), 0, rg_nn_model_nparams(m) * sizeof(float));
        for (int q = 0; q < 4; q++) {
            const double t = ts[q];
            double E[16], S[16], G[16], Gi[16], L[16], trG = 0.0, trGS = 0.0, tt[21];
            gauss_cov(p, t, s2, E, S, G, Gi);
            assert_int_equal(rg_process_chol(p, t, L), RG_OK);
            for (size_t i = 0; i < k; i++) trG += G[i * k + i];
            for (size_t i = 0; i < k * k; i++) trGS += Gi[i] * S[i];
            const double cin = 1.0 / sqrt(trG / (double)k), cout = sqrt(1.0 - trGS / (double)k);
            for (size_t i = 0; i < B * N; i++) xin[i] = (float)(cin * (double)x[i]);
            for (size_t b = 0; b < B; b++) tt[b] = t;
            assert_int_equal(rg_nn_score_eval(m, p, t, B, x, s, w), RG_OK);
            for (size_t b0 = 0; b0 < B; b0 += 16)
                assert_int_equal(rg_nn_forward(m, B - b0 < 16 ? B - b0 : 16, xin + b0 * N, tt, F + b0 * N, w), RG_OK);
            double got[21 * 6], want[21 * 6];
            for (size_t b = 0; b < B; b++)
                for (size_t j = 0; j < r; j++)
                    for (size_t i = 0; i < k; i++) {
                        double v = 0.0, g = 0.0;   /* v = L^T (s + Gamma^-1 x), row i */
                        for (size_t a2 = i; a2 < k; a2++) {
                            double u = (double)s[b * N + a2 * r + j];
                            for (size_t l = 0; l < k; l++) u += Gi[a2 * k + l] * (double)x[b * N + l * r + j];
                            v += L[a2 * k + i] * u;
                        }
                        for (size_t l = 0; l < k; l++) g -= Gi[i * k + l] * (double)x[b * N + l * r + j];
                        got[b * N + i * r + j] = zero ? (double)s[b * N + i * r + j] : v;
                        want[b * N + i * r + j] = zero ? g : -cout * (double)F[b * N + i * r + j];
                    }
            char msg[160];
            snprintf(msg, sizeof msg, "%s, t = %g: %s", what, t,
                     zero ? "zero net: s = -Gamma^-1 x" : "L^T (s + Gamma^-1 x) = -c_out F");
            /* float rounding of s and x, amplified by |Gamma^-1| at small t */
            rg_assert_vec_rel(got, want, B * N, zero ? 1e-5 : 2e-4, msg);
        }
    }
    rg_nn_work_free(w);
    rg_nn_model_free(m);
}

static void test_precond_eval(void **state)
{
    (void)state;
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, 0.4, M);
    rg_process *p;
    assert_int_equal(rg_process_coupled(M, 3, &p), RG_OK);
    check_precond_eval(p, "coupled gamma = 0.4");
    rg_process_free(p);
    const double U[9] = { 1.0, 0.2, 0.0, 0.2, 0.7, 0.1, 0.0, 0.1, 1.4 }, Q[9] = { 0, 0.5, -0.3, -0.5, 0, 0.2, 0.3, -0.2, 0 };
    assert_int_equal(rg_process_nonrev(3, U, Q, &p), RG_OK);
    check_precond_eval(p, "nonrev n = 3");
    rg_process_free(p);
    rg_nn_arch a = rg_nn_score_arch(4, 2, 0, NULL);
    a.sigma_data2 = -1.0;
    assert_non_null(strstr(rg_nn_arch_check(&a), "sigma_data2"));
    a = rg_nn_classifier_arch(4, 2, 0, NULL);
    a.sigma_data2 = 0.5;
    assert_non_null(strstr(rg_nn_arch_check(&a), "preconditioning"));
}

/* The training target (eps - G_t x_t) / c_out has unit variance per coordinate on average, at every t,
 * for data N(0, s2 I): its covariance is (I - L^T Gamma^-1 L) / c_out^2, of trace k. With a zero
 * network (and a learning rate of 1e-12, so it stays zero to 1e-10) the DSM loss of a minibatch is
 * the mean of the squared targets: 40 steps of 256 samples of N = 6 (61440 squares of unit-variance
 * normals, sd of the mean 0.0057 for independent ones, at most 0.008 with the k = 2 correlation
 * here) must average 1 within 0.04 (5 sigma). Checked under the coupled process with log-uniform
 * times on [1e-3, 8]; a wrong c_out or G moves it by O(1) at large or small t. Then the loss with
 * uniform times (t_log = 0) too. */
static void test_precond_target_unit_variance(void **state)
{
    (void)state;
    const size_t d = 3, N = 2 * d, P = 4096;
    double M[4];
    rg_process_coupling(RG_COUPLING_CROSS, -0.3, M);
    rg_process *p;
    assert_int_equal(rg_process_coupled(M, d, &p), RG_OK);
    const double s2 = 0.2;
    float *X = malloc(P * N * sizeof *X);
    rg_rng_normals((rg_rng){ SEED, RG_STREAM_DATA }, 0, 0, X, P * N);
    for (size_t i = 0; i < P * N; i++) X[i] *= (float)sqrt(s2);
    size_t wd[1] = { 8 };
    rg_nn_arch a = rg_nn_score_arch(N, 4, 1, wd);
    a.sigma_data2 = s2;
    for (int tl = 1; tl >= 0; tl--) {
        rg_nn_model *m;
        assert_int_equal(rg_nn_model_new(&a, SEED, &m), RG_OK);
        memset(rg_nn_model_params(m), 0, rg_nn_model_nparams(m) * sizeof(float));
        rg_nn_train_config c = rg_nn_train_defaults();
        c.batch = 256;
        c.lr = 1e-12;
        c.lr_min = 1e-12;
        c.t_min = 1e-3;
        c.t_max = 8.0;
        c.t_log = tl;
        rg_nn_data dd = { .P = P, .X = X, .process = p };
        rg_nn_trainer *tr;
        assert_int_equal(rg_nn_trainer_new(m, &c, &dd, &tr), RG_OK);
        double mean;
        assert_int_equal(rg_nn_trainer_run(tr, 40, &mean), RG_OK);
        print_message("preconditioned target, t_log = %d: mean square %.4f (want 1)\n", tl, mean);
        assert_true(fabs(mean - 1.0) < 0.04);
        rg_nn_trainer_free(tr);
        rg_nn_model_free(m);
    }
    free(X);
    rg_process_free(p);
}

/* A preconditioned score net with log-uniform times: 1 and 3 threads give the same bits, and a run
 * saved after 7 steps and resumed (sigma_data2 and t_log in the checkpoint) ends on the same bits as
 * one straight run of 14. */
static void test_precond_threads_and_resume(void **state)
{
    (void)state;
    const size_t d = 3, P = 256;
    float *X;
    rg_process *p = coupled_set(d, P, 0.7, &X);
    size_t wd[1] = { 24 };
    rg_nn_arch a = rg_nn_score_arch(2 * d, 6, 1, wd);
    a.sigma_data2 = 0.33;
    rg_nn_model *m[3];
    rg_nn_trainer *tr[3];
    rg_nn_train_config c = rg_nn_train_defaults();
    c.batch = 100;
    c.t_log = 1;
    rg_nn_data dd = { .P = P, .X = X, .process = p };
    int keep = omp_get_max_threads();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rg_nn_model_new(&a, SEED, &m[i]), RG_OK);
        assert_int_equal(rg_nn_trainer_new(m[i], &c, &dd, &tr[i]), RG_OK);
    }
    omp_set_num_threads(1);
    assert_int_equal(rg_nn_trainer_run(tr[0], 14, NULL), RG_OK);
    omp_set_num_threads(3);
    assert_int_equal(rg_nn_trainer_run(tr[1], 7, NULL), RG_OK);
    assert_int_equal(rg_nn_save("test_nn_pc.bin", m[1], tr[1]), RG_OK);
    omp_set_num_threads(keep);
    rg_nn_model *ml;
    assert_int_equal(rg_nn_load("test_nn_pc.bin", &ml), RG_OK);
    assert_true(rg_nn_model_arch(ml)->sigma_data2 == 0.33);
    rg_nn_model_free(ml);
    assert_int_equal(rg_nn_trainer_restore(tr[2], "test_nn_pc.bin"), RG_OK);
    assert_int_equal(rg_nn_trainer_run(tr[2], 7, NULL), RG_OK);
    assert_memory_equal(rg_nn_model_params(m[0]), rg_nn_model_params(m[2]), rg_nn_model_nparams(m[0]) * sizeof(float));
    /* a plain network of the same widths is another architecture */
    rg_nn_arch plain = a;
    plain.sigma_data2 = 0.0;
    rg_nn_model *mp;
    rg_nn_trainer *tp;
    assert_int_equal(rg_nn_model_new(&plain, SEED, &mp), RG_OK);
    assert_int_equal(rg_nn_trainer_new(mp, &c, &dd, &tp), RG_OK);
    expect_fail(rg_nn_trainer_restore(tp, "test_nn_pc.bin"), RG_EFORMAT, "architecture differs");
    rg_nn_trainer_free(tp);
    rg_nn_model_free(mp);
    remove("test_nn_pc.bin");
    for (int i = 0; i < 3; i++) {
        rg_nn_trainer_free(tr[i]);
        rg_nn_model_free(m[i]);
    }
    free(X);
    rg_process_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_embed),
        cmocka_unit_test(test_arch_check),
        cmocka_unit_test(test_forward_matches_naive),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_augmented_training),
        cmocka_unit_test(test_threads_bit_identical_score),
        cmocka_unit_test(test_lr_schedule),
        cmocka_unit_test(test_checkpoint_round_trip_and_rejects),
        cmocka_unit_test(test_checkpoint_forged_size),
        cmocka_unit_test(test_resume_bit_exact),
        cmocka_unit_test(test_classifier_synthetic),
        cmocka_unit_test(test_score_eval_coupled),
        cmocka_unit_test(test_score_dsm_gaussian_ou),
        cmocka_unit_test(test_score_dsm_gaussian_coupled),
        cmocka_unit_test(test_precond_eval),
        cmocka_unit_test(test_precond_target_unit_variance),
        cmocka_unit_test(test_precond_threads_and_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
