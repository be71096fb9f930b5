/* From flags to data, process, schedule, predictions, score and labeller (source.h). */
#define _POSIX_C_SOURCE 200809L
#include "source.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <omp.h>

#include "regimes/error.h"
#include "regimes/io.h"
#include "regimes/mnist.h"
#include "regimes/rng.h"
#include "args.h"
#include "model.h"
#include "par.h"
#include "run.h"

#define DEFAULT_N_TRAIN 20000.0 /* a mixture's training set (the parent paper's P) */
#define IMG_PIX 784
#define CLF_BLOCK 256

static int lib(int s) { return s == RG_OK ? RG_OK : cli_status(s); }

/* ---- data sets ------------------------------------------------------------------------------------ */
/* Keep the first n rows of X (and labels) when --n-train asks for fewer. */
static int take_rows(cli_env *e, size_t n)
{
    if (n == 0 || n == e->X->P) return RG_OK;
    if (n > e->X->P) return cli_usage("--n-train %zu exceeds the %zu rows of --data", n, e->X->P);
    e->X->P = n;
    return RG_OK;
}

/* Classes 0 .. K-1 of e->labels: every class present, K >= 2. */
static int count_classes(cli_env *e)
{
    int mx = -1;
    for (size_t i = 0; i < e->X->P; i++) mx = e->labels[i] > mx ? e->labels[i] : mx;
    e->n_classes = (size_t)(mx + 1);
    if (e->n_classes < 2) return cli_usage("--labels: the rows used hold one class; want at least two");
    return RG_OK;
}

/* --shard-train: the MPI grid now (before any data are read), this rank's rows [lo, hi) of P. */
static int shard_rows(cli_env *e, size_t P, size_t *lo, size_t *hi)
{
    const cli_args *a = e->a;
    if (a->shard_train > 1 && par_shard(a->shard_train))
        return cli_usage("--shard-train %d must divide the number of MPI ranks (%d)", a->shard_train, par_size());
    *lo = 0, *hi = P;
    if (par_shard_comm()) rg_score_shard_rows(P, par_shard_rank(), par_shard_size(), lo, hi);
    e->P_all = P, e->row_lo = *lo;
    return RG_OK;
}

/* A set of N columns holding no row (a rank of a shard group without rows): X a one-row dummy. */
static int empty_set(size_t N, rg_data_set **out)
{
    int st = lib(rg_data_set_new(1, N, 0, out));
    if (!st) (*out)->P = 0;
    return st;
}

/* --shard-train with a .npy (docs/scale.md): only this rank's rows are read, centred by the training mean
 * streamed from the file in row order (the same bits as centring the whole set); labels are read whole. */
static int load_npy_shard(cli_env *e, size_t N_want)
{
    const cli_args *a = e->a;
    size_t P = 0, N = 0, lo, hi, nl = 0;
    int st = lib(rg_data_npy_shape(a->data_path, N_want, &P, &N));
    if (!st && a->n_train > (double)P) st = cli_usage("--n-train %.0f exceeds the %zu rows of --data", a->n_train, P);
    if (!st && a->n_train > 0) P = (size_t)a->n_train;
    if (!st) st = shard_rows(e, P, &lo, &hi);
    if (!st) st = lib(rg_io_sha256_file(a->data_path, e->sha_data));
    if (!st && a->labels_path) st = lib(rg_data_labels_read_npy(a->labels_path, 0, &e->labels, &nl));
    if (!st && a->labels_path && nl < P) st = cli_usage("--labels: %zu labels for %zu rows", nl, P);
    if (!st && a->labels_path) st = lib(rg_io_sha256_file(a->labels_path, e->sha_labels));
    e->offset = st ? NULL : malloc(N * sizeof *e->offset);
    if (!st && !e->offset) st = cli_nomem("out of memory for the data mean");
    if (!st) st = lib(rg_data_npy_mean(a->data_path, N_want, P, e->offset)); /* docs/math.md 11.2: centred */
    if (!st) st = hi > lo ? lib(rg_data_set_read_npy_rows(a->data_path, N_want, lo, hi, &e->X)) : empty_set(N, &e->X);
    if (!st) st = lib(rg_data_subtract_mean(e->X->X, e->X->P, N, e->offset));
    e->views = 1;
    return st;
}

static int load_npy(cli_env *e)
{
    const cli_args *a = e->a;
    if (a->shard_train) {
        const size_t N_want = a->given_dim ? (a->o.kind == RG_PROCESS_COUPLED ? 2 : 1) * a->o.dim : 0;
        int st = cli_check_input("--data", a->data_path);
        if (!st && a->labels_path) st = cli_check_input("--labels", a->labels_path);
        return st ? st : load_npy_shard(e, N_want);
    }
    int st = cli_check_input("--data", a->data_path);
    if (!st && a->labels_path) st = cli_check_input("--labels", a->labels_path);
    /* With --dim, the file must match it (ou, nonrev, general: N = dim; coupled: N = 2 dim). */
    const size_t N_want = a->given_dim ? (a->o.kind == RG_PROCESS_COUPLED ? 2 : 1) * a->o.dim : 0;
    if (!st) st = lib(rg_data_set_read_npy(a->data_path, N_want, &e->X));
    if (!st) st = lib(rg_io_sha256_file(a->data_path, e->sha_data));
    size_t P = 0;
    if (!st && a->labels_path) st = lib(rg_data_labels_read_npy(a->labels_path, e->X->P, &e->labels, &P));
    if (!st && a->labels_path) st = lib(rg_io_sha256_file(a->labels_path, e->sha_labels));
    if (!st) st = take_rows(e, (size_t)a->n_train);
    if (!st && e->labels) st = count_classes(e);
    e->offset = st ? NULL : malloc(e->X->N * sizeof *e->offset);
    if (!st && !e->offset) st = cli_nomem("out of memory for the data mean");
    if (!st) st = lib(rg_data_center(e->X->X, e->X->P, e->X->N, e->offset)); /* docs/math.md 11.2: centred */
    e->views = 1;
    return st;
}

static int digit_index(const int *digits, size_t nd, int digit)
{
    for (size_t k = 0; k < nd; k++)
        if (digits[k] == digit) return (int)k;
    return -1;
}

int source_mnist_check(const char *dir, int fashion)
{
    static const char *const names[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte" };
    char path[4096];
    struct stat sb;
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int found = stat(path, &sb) == 0;
        if (!found) snprintf(path, sizeof path, "%s/%s.gz", dir, names[i]), found = stat(path, &sb) == 0;
        if (!found || access(path, R_OK) != 0)
            return cli_usage("%s: no readable %s (nor .gz); %s", dir, names[i],
                             fashion ? "apt-get install dataset-fashion-mnist" : "scripts/get-mnist.sh fetches MNIST");
        if (!S_ISREG(sb.st_mode)) return cli_check_input("--mnist-dir", path);
    }
    return RG_OK;
}

/* MNIST / Fashion-MNIST (docs/math.md 10.2, 10.3): pixels /255, centred; one image per row, or pairs. */
static int load_images(cli_env *e)
{
    const cli_args *a = e->a;
    const int paired = a->o.kind == RG_PROCESS_COUPLED;
    const char *dir = a->data == DATA_FASHION ? RG_MNIST_FASHION_DIR : a->mnist_dir;
    const size_t n = a->n_train > 0 ? (size_t)a->n_train : paired ? 5000 : 10000;
    if (!paired && n < a->n_digits) return cli_usage("--n-train %zu is fewer than one image per digit", n);
    rg_mnist_raw *raw = NULL;
    e->views = paired ? 2 : 1;
    e->offset = malloc(IMG_PIX * sizeof *e->offset);
    int st = e->offset ? source_mnist_check(dir, a->data == DATA_FASHION) : cli_nomem("out of memory");
    if (!st) st = lib(rg_mnist_load(dir, RG_MNIST_TRAIN, &raw));
    if (!st && !paired) st = lib(rg_mnist_select(raw, a->digits, a->n_digits, n / a->n_digits, 1, e->offset, &e->X));
    if (!st && paired)
        st = lib(rg_mnist_pairs(raw, a->digits, n, a->rho, (rg_rng){ a->seed, RG_STREAM_PAIRS }, 1, e->offset, &e->X));
    rg_mnist_free(raw);
    if (!st && paired) st = lib(rg_mnist_pair_spectra(e->X, &e->lambda_c, &e->lambda_d));
    if (st) return st;
    e->labels = malloc(e->X->P * sizeof *e->labels);
    if (!e->labels) return cli_nomem("out of memory for %zu labels", e->X->P);
    for (size_t i = 0; i < e->X->P; i++) { /* class index of the digit (paired: of x) */
        e->labels[i] = digit_index(a->digits, a->n_digits, paired ? e->X->labels[i] / 10 : e->X->labels[i]);
    }
    e->n_classes = a->n_digits;
    return RG_OK;
}

/* ---- process and schedule --------------------------------------------------------------------------- */
static int build_process(cli_env *e, const spec_opts *given)
{
    spec_opts o = *given;
    if (e->X) { /* the data fix the dimension */
        const size_t N = e->X->N, k = o.kind == RG_PROCESS_COUPLED ? 2 : 1;
        if (N % k) return cli_usage("--process coupled needs an even data dimension, got %zu", N);
        if (o.dim && o.dim != N / k)
            return cli_usage("--dim %zu does not match the data (%zu values per row)", o.dim, N);
        o.dim = N / k;
        o.dataset = !opts_mixture(e->a); /* the data set, not a mixture, gives the theory */
    }
    e->o = o;
    int st = spec_build(&o, &e->b);
    if (st) return st;
    e->N = rg_process_dim(e->b.p);
    if (e->X && e->N != e->X->N)
        return cli_usage("the process has dimension %zu, the data %zu (a --U or --A file of another size?)", e->N, e->X->N);
    return RG_OK;
}

/* The ':'-separated fields after a schedule's name into f (n of them, all required when any is given). */
static int noise_fields(const char *s, const char *rest, size_t n, double *f)
{
    if (*rest == '\0') return RG_OK;
    char buf[256];
    if (*rest != ':' || strlen(rest) >= sizeof buf) return cli_usage("--noise: cannot read '%s' (see --help)", s);
    strcpy(buf, rest + 1);
    char *save = NULL, *tok = strtok_r(buf, ":", &save);
    for (size_t i = 0; i < n; i++, tok = strtok_r(NULL, ":", &save)) {
        const cli_range r = i + 1 == n ? (cli_range){ 2, 1e7, 0, 0 } : (cli_range){ 0, 1, 1, 1 };
        if (!tok || cli_parse_double("--noise", tok, r, &f[i])) return tok ? RG_EINVAL : cli_usage("--noise: '%s' wants %zu fields", s, n);
        if (i + 1 == n && f[i] != floor(f[i])) return cli_usage("--noise: the step count K must be an integer, got '%s'", tok);
    }
    return tok ? cli_usage("--noise: '%s' has more than %zu fields", s, n) : RG_OK;
}

/* "ddpm-linear[:B0:B1:K]", "ddpm-cosine[:K]" or a file of abar_k (docs/math.md 11.1). */
static int build_noise(cli_env *e)
{
    const cli_args *a = e->a;
    const char *s = a->noise;
    if (!s && a->grid != RG_GRID_DDPM && !a->branch_steps) return RG_OK;
    if (!s || strncmp(s, "ddpm-linear", 11) == 0) {
        double f[3] = { 1e-4, 2e-2, 1000 };
        if (s && noise_fields(s, s + 11, 3, f)) return RG_EINVAL;
        return lib(rg_noise_ddpm_linear(f[0], f[1], (size_t)f[2], &e->noise));
    }
    if (strncmp(s, "ddpm-cosine", 11) == 0) {
        double k = 1000;
        if (noise_fields(s, s + 11, 1, &k)) return RG_EINVAL;
        return lib(rg_noise_ddpm_cosine((size_t)k, &e->noise));
    }
    if (cli_check_input("--noise", s)) return RG_EINVAL;
    return lib(rg_noise_read(s, &e->noise));
}

long env_step(const cli_env *e, double t)
{
    size_t k;
    if (!e->noise || !isfinite(t) || rg_noise_step(e->noise, t, &k) != RG_OK) return -1;
    return (long)k;
}

/* ---- predictions ------------------------------------------------------------------------------------- */
/* The mixture that the theory describes, sampleable (gmm2 along its direction with its Cw; gmm4 with the
 * default directions of rg_data_gmm4), and its means for the sign labellers. */
static int build_mixture(cli_env *e)
{
    const spec_opts *o = &e->o;
    const spec_built *b = &e->b;
    const size_t N = e->N, k = rg_process_core(b->p);
    e->m = malloc(N * sizeof *e->m);
    if (!e->m) return cli_nomem("out of memory for the data model");
    if (o->gmm4) {
        const size_t d = N / 2; /* m_c along (1, ..., 1), m_d along (1, -1, 1, ...) */
        for (size_t i = 0; i < d; i++) {
            e->m[i] = sqrt(o->mc2 / (double)d);
            e->m[d + i] = (i % 2 ? -1.0 : 1.0) * sqrt(o->md2 / (double)d);
        }
        return lib(rg_data_gmm4(d, o->mc2, o->md2, NULL, NULL, o->sigma2, &e->g));
    }
    const double norm2 = b->norm2[0];
    for (size_t i = 0; i < N; i++) e->m[i] = k == 1 ? sqrt(norm2 / (double)N) : sqrt(norm2) * b->pattern[i];
    return lib(rg_data_gmm2(N, norm2, k == 1 ? NULL : b->pattern, o->sigma2, k == 1 ? NULL : b->Cw, &e->g));
}

static int predict_mixture(cli_env *e)
{
    const spec_opts *o = &e->o;
    const int sym = o->kind == RG_PROCESS_COUPLED && !o->aniso && !o->schedule;
    const double P = e->a->n_train > 0 ? e->a->n_train : DEFAULT_N_TRAIN; /* the training set's size */
    const rg_exp_theory_cfg c = { .proc = e->b.p, .data = &e->b.data, .n_train = P,
                                  .symmetric_form = sym ? (int)o->coupling : -1, .phi_t = e->a->phi_t,
                                  .n_phi = e->a->n_phi };
    int st = lib(rg_exp_theory(&c, &e->th));
    if (!st) st = lib(rg_theory_plan_new(e->b.p, &e->b.data, 0, &e->plan));
    e->n_pred = e->th.n_labels;
    for (size_t l = 0; l < e->n_pred && !st; l++) e->t_s[l] = e->th.t_s_label[l];
    e->t_c = e->th.t_c, e->horizon = e->th.horizon;
    return st ? st : build_mixture(e);
}

/* A data set's predictions (docs/math.md 11.2): t_S of the classes (labelled) or of the covariance, t_C. */
static int predict_data(cli_env *e)
{
    const rg_data_set *X = e->X;
    double lam = NAN;
    if (e->a->shard_train && e->a->data == DATA_NPY) { /* docs/scale.md: the theory needs the whole set */
        e->n_pred = 1, e->t_s[0] = NAN;
        return RG_OK;
    }
    if (X->P < 2) return cli_usage("--data has %zu row: the theory needs P >= 2 rows", X->P);
    int st = lib(rg_theory_dataset_new(X->X, X->P, X->N, e->n_classes >= 2 ? e->labels : NULL, &e->ds));
    if (!st) st = lib(rg_theory_dataset_spectrum(e->ds, 1, &lam));
    if (!st && !(lam > 0) && (e->a->cmd & G_THEORY))
        return cli_usage("the %zu rows used have no variance (Lambda = %g): there is no class signal to speciate", X->P, lam);
    e->n_pred = 1, e->t_s[0] = NAN;
    if (st || !(lam > 0)) return st; /* a sampler still runs on constant data; nothing to predict */
    if (!st) st = lib(rg_theory_dataset_all(e->b.p, e->ds, (double)X->P, &e->dt));
    if (!st) st = lib(rg_theory_dataset_horizon(e->b.p, e->ds, 0.01, &e->horizon));
    if (st) return st;
    e->n_pred = 1;
    e->t_s[0] = e->dt.found_class ? e->dt.t_s_class : e->dt.t_s_exact;
    e->t_c = e->dt.t_c;
    if (e->views == 2) { /* paired images: per mode, docs/math.md 10.3 (rates of the symmetric coupling) */
        const double *M = e->b.M;
        e->n_pred = 2;
        e->t_s[0] = rg_theory_mode_time(M[0] + M[1], e->lambda_c);
        e->t_s[1] = rg_theory_mode_time(M[0] - M[1], e->lambda_d);
    }
    return RG_OK;
}

/* ---- score -------------------------------------------------------------------------------------------- */
/* A mixture's training set: --n-train points drawn with --seed (docs/math.md 5.2). */
static int draw_training_set(cli_env *e)
{
    const double P = e->a->n_train > 0 ? e->a->n_train : DEFAULT_N_TRAIN;
    if (P > 1e8) return cli_usage("--n-train %g is too large for a training set in memory (at most 1e8)", P);
    if (P < 2) return cli_usage("--n-train %g: an empirical score needs at least 2 points", P);
    if (!e->a->shard_train) return lib(rg_data_set_draw(e->g, (rg_rng){ e->a->seed, RG_STREAM_DATA }, (size_t)P, &e->X));
    size_t lo, hi; /* --shard-train: only this rank's rows (point mu depends on mu alone, data.h) */
    int st = shard_rows(e, (size_t)P, &lo, &hi);
    if (!st) st = hi > lo ? lib(rg_data_set_new(hi - lo, e->N, 1, &e->X)) : empty_set(e->N, &e->X);
    if (!st && hi > lo)
        st = lib(rg_data_gmm_sample(e->g, (rg_rng){ e->a->seed, RG_STREAM_DATA }, lo, hi - lo, e->X->X, e->X->labels));
    return st;
}

/* --model FILE: the network and its metadata (model.h): its process flags, parsed as process flags only
 * (never spliced into the command line), its training mean and time range. */
static int read_model(cli_env *e)
{
    const char *path = e->a->model;
    int st = model_load("--model", path, &e->net, &e->net_meta);
    if (!st && rg_nn_model_arch(e->net)->task != RG_NN_SCORE)
        st = cli_usage("--model %s is a classifier, not a score network", path);
    return st;
}

static int load_model(cli_env *e)
{
    const char *path = e->a->model;
    int st = RG_OK;
    if (rg_nn_model_arch(e->net)->n_in != e->N)
        st = cli_usage("--model %s has %zu inputs, the process %zu (its metadata names the process)", path,
                       rg_nn_model_arch(e->net)->n_in, e->N);
    if (!st) st = model_meta_mean(e->net_meta, path, e->N, &e->net_mean);
    e->nctx = (rg_nn_score_ctx){ .model = e->net, .process = e->b.p };
    e->score = rg_nn_score_iface(&e->nctx);
    e->score_name = "network";
    return st;
}

/* --shard-train: this rank's memory for the training set and the score (rg_score_emp_bytes, one
 * workspace per thread), one line on rank 0's stderr; refused (exit 1) beyond MemAvailable shared by this
 * node's ranks (docs/scale.md). */
static int shard_memory(const cli_env *e, size_t rows)
{
    const size_t P = e->P_all, N = e->X->N, nt = (size_t)omp_get_max_threads();
    const double mb = 1048576.0, data = (double)rows * (double)N * sizeof(float);
    const double score = (double)rg_score_emp_bytes(e->b.p, rows, P, N, par_shard_size(), nt);
    double avail = INFINITY;
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &avail) == 1) {
            avail *= 1024.0;
            break;
        }
    if (f) fclose(f);
    const char *loc = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    const double local = loc && atoi(loc) > 0 ? atoi(loc) : 1.0;
    if (par_rank() == 0)
        fprintf(stderr, "%s: memory per rank (estimate): training set %.1f MB, score %.1f MB (%zu of %zu rows), "
                "available %.1f MB per rank\n", cli_command(), data / mb, score / mb, rows, P, avail / local / mb);
    if (data + score > avail / local)
        return cli_nomem("the estimated %.1f MB per rank exceed the %.1f MB available to each of this node's %g ranks",
                         (data + score) / mb, avail / local / mb, local);
    return RG_OK;
}

static int build_score(cli_env *e)
{
    const cli_args *a = e->a;
    if (a->model) return load_model(e);
    const int exact = opts_mixture(a) && a->score != SCORE_EMPIRICAL && !(a->cmd & G_COLLAPSE);
    if (exact) {
        e->score_name = "mixture";
        int st = lib(rg_score_gmm_new(e->b.p, e->g, 256, &e->sg));
        if (!st) e->score = rg_score_gmm_iface(e->sg);
        return st;
    }
    int st = opts_mixture(a) ? draw_training_set(e) : RG_OK;
    if (!st && !a->shard_train) e->P_all = e->X->P, e->row_lo = 0; /* else: this rank's rows (shard_rows) */
    size_t lo, hi;
    if (!st && a->shard_train && !e->P_all && !(st = shard_rows(e, e->X->P, &lo, &hi))) { /* images, read whole */
        memmove(e->X->X, e->X->X + lo * e->X->N, (hi - lo) * e->X->N * sizeof *e->X->X);
        e->X->P = hi - lo; /* only this rank's rows are used (the theory has seen them all) */
    }
    if (!st && a->shard_train) st = shard_memory(e, e->X->P);
    if (!st)
        st = lib(rg_score_emp_new_shard(e->b.p, e->X->X, e->X->P, e->row_lo, e->P_all, e->X->N, 256,
                                        par_shard_comm(), &e->se));
    if (!st) e->score = rg_score_emp_iface(e->se);
    e->score_name = "empirical";
    return st;
}

/* ---- labeller ------------------------------------------------------------------------------------------ */
/* The images of the chosen digits in one split, raw pixels /255, labels as digit indices. */
static int images_split(const char *dir, const int *digits, size_t nd, rg_mnist_split split, rg_data_set **out,
                        int **lab)
{
    rg_mnist_raw *raw = NULL;
    int st = lib(rg_mnist_load(dir, split, &raw));
    if (!st) st = lib(rg_mnist_select(raw, digits, nd, 0, 0, NULL, out));
    rg_mnist_free(raw);
    if (!st && !(*lab = malloc((*out)->P * sizeof **lab))) st = cli_nomem("out of memory for the labels");
    for (size_t i = 0; !st && i < (*out)->P; i++) (*lab)[i] = digit_index(digits, nd, (*out)->labels[i]);
    return st;
}

int source_classifier(const char *dir, const int *digits, size_t nd, uint64_t seed, rg_nn_model **m, double *acc,
                      size_t *n_train, size_t *n_test)
{
    rg_data_set *tr = NULL, *te = NULL;
    int *ltr = NULL, *lte = NULL;
    rg_nn_trainer *t = NULL;
    rg_nn_work *w = NULL;
    const size_t hid[1] = { 256 };
    const rg_nn_arch arch = rg_nn_classifier_arch(IMG_PIX, nd, 1, hid);
    rg_nn_train_config c = rg_nn_train_defaults();
    c.epochs = 3, c.warmup = 50, c.seed = seed; /* 3 x (P / 128) Adam steps: about a second, > 99% for 1 vs 8 */
    int st = images_split(dir, digits, nd, RG_MNIST_TRAIN, &tr, &ltr);
    if (!st) st = images_split(dir, digits, nd, RG_MNIST_TEST, &te, &lte);
    const rg_nn_data d = { .P = tr ? tr->P : 0, .X = tr ? tr->X : NULL, .labels = ltr };
    if (!st) st = lib(rg_nn_model_new(&arch, seed, m));
    if (!st) st = lib(rg_nn_trainer_new(*m, &c, &d, &t));
    if (!st) st = lib(rg_nn_trainer_run(t, (size_t)rg_nn_trainer_steps_total(t), NULL));
    if (!st) st = lib(rg_nn_work_new(*m, CLF_BLOCK, &w));
    if (!st) st = lib(rg_nn_classifier_accuracy(*m, te->P, te->X, lte, w, acc));
    if (!st && n_train) *n_train = tr->P, *n_test = te->P;
    rg_nn_work_free(w), rg_nn_trainer_free(t);
    rg_data_set_free(tr), rg_data_set_free(te);
    free(ltr), free(lte);
    return st;
}

static int train_classifier(cli_env *e)
{
    const cli_args *a = e->a;
    const char *dir = a->data == DATA_FASHION ? RG_MNIST_FASHION_DIR : a->mnist_dir;
    return source_classifier(dir, a->digits, a->n_digits, a->seed, &e->clf, &e->clf_acc, NULL, NULL);
}

static int load_classifier(cli_env *e)
{
    const char *path = e->a->classifier;
    if (!path) return train_classifier(e);
    int st = cli_check_input("--classifier", path);
    if (!st && rg_nn_load(path, &e->clf)) st = cli_usage("--classifier: %s", rg_strerror_last());
    const rg_nn_arch *ar = st ? NULL : rg_nn_model_arch(e->clf);
    if (ar && ar->task != RG_NN_CLASSIFIER) st = cli_usage("--classifier %s is a score network", path);
    if (ar && !st && ar->n_in * e->views != e->N)
        st = cli_usage("--classifier %s takes %zu inputs; the rows hold %zu values", path, ar->n_in, e->N);
    return st;
}

static lab_kind default_labeller(const cli_env *e)
{
    const cli_args *a = e->a;
    if (a->labeller != LAB_DEFAULT) return a->labeller;
    if (a->classifier || a->data == DATA_MNIST || a->data == DATA_FASHION) return LAB_CLASSIFIER;
    if (a->data == DATA_GMM2) return LAB_SIGN;
    if (a->data == DATA_GMM4) return LAB_GMM4;
    return e->labels ? LAB_MEAN : LAB_DEFAULT;
}

static int class_means(cli_env *e)
{
    double *means = malloc(e->n_classes * e->N * sizeof *means);
    if (!means) return cli_nomem("out of memory for %zu class means", e->n_classes);
    int st = lib(rg_data_class_means(e->X->X, e->X->P, e->N, e->labels, e->n_classes, means));
    if (!st) st = lib(rg_exp_labeller_nearest_mean(e->n_classes, e->N, means, &e->lab));
    free(means);
    return st;
}

static int build_labeller(cli_env *e)
{
    const lab_kind k = default_labeller(e);
    static const char *const NAMES[] = { "none", "sign", "gmm4", "mixture", "mean", "nearest", "classifier" };
    e->lab_name = NAMES[k];
    const size_t d = e->N / 2;
    switch (k) {
    case LAB_SIGN: return lib(rg_exp_labeller_sign(e->N, e->m, &e->lab));
    case LAB_GMM4: return lib(rg_exp_labeller_gmm4(d, e->m, e->m + d, &e->lab));
    case LAB_MIXTURE: return lib(rg_exp_labeller_mixture(e->g, &e->lab));
    case LAB_MEAN: return class_means(e);
    case LAB_NEAREST: return lib(rg_exp_labeller_nearest_point(e->X->X, e->X->P, e->N, e->labels, &e->lab));
    case LAB_CLASSIFIER: {
        int st = load_classifier(e);
        return st ? st : lib(rg_exp_labeller_classifier(e->clf, e->offset, e->views, &e->lab));
    }
    default: return RG_OK; /* no labels: callers that need them say so */
    }
}

/* ---- opening ---------------------------------------------------------------------------------------------- */
/* --model: the process flags of the network's metadata, parsed as process flags only, into pa. */
static int model_process(const cli_env *e, cli_args *pa)
{
    const cli_args *a = e->a;
    if (a->given_proc) return cli_usage("--model brings its own process (its metadata); drop the process flags");
    int pc = 0;
    char **pv = NULL, **argv = NULL;
    int st = model_meta_process_argv(e->net_meta, a->model, &pc, &pv);
    if (!st && !(argv = malloc((size_t)(pc + 2) * sizeof *argv))) st = cli_nomem("out of memory");
    if (!st) {
        static char name[] = "model";
        argv[0] = name;
        for (int i = 0; i < pc; i++) argv[i + 1] = pv[i];
        argv[pc + 1] = NULL;
        const char *cmd = cli_command();
        char scope[4400];
        snprintf(scope, sizeof scope, "%s: --model %s: process_argv", cmd, a->model);
        cli_set_command(scope);
        st = opts_parse_process(pc + 1, argv, pa);
        cli_set_command(cmd);
    }
    free(argv);
    model_argv_free(pc, pv);
    return st;
}

static int open_data(cli_env *e)
{
    const cli_args *a = e->a;
    if (a->data == DATA_NPY) return load_npy(e);
    if (a->data == DATA_MNIST || a->data == DATA_FASHION) return load_images(e);
    return RG_OK;
}

/* The process of the flags, or of a --model's metadata combined with the command line's data flags. */
static int open_process(cli_env *e, cli_args *pa)
{
    const cli_args *a = e->a;
    if (!a->model) return build_process(e, &a->o);
    int st = read_model(e); /* the checkpoint and the metadata inside it */
    if (!st) st = model_process(e, pa);
    if (st) return st;
    spec_opts o = pa->o; /* the network's process, the command line's data */
    o.gmm4 = a->data == DATA_GMM4, o.mean_norm2 = a->o.mean_norm2, o.mc2 = a->o.mc2, o.md2 = a->o.md2;
    o.sigma2 = a->o.sigma2, o.mean_dir = a->o.mean_dir ? a->o.mean_dir : "ones", o.cw = a->o.cw ? a->o.cw : "I";
    if (a->given_data && opts_mixture(a) && o.gmm4 != (o.kind == RG_PROCESS_COUPLED))
        return cli_usage("--data %s does not fit the network's process (%s)", opts_data_name(a->data),
                         o.kind == RG_PROCESS_COUPLED ? "coupled: gmm4" : "one modality: gmm2");
    return build_process(e, &o);
}

int env_open(const cli_args *a, unsigned what, cli_env *e)
{
    memset(e, 0, sizeof *e);
    e->a = a;
    e->t_c = e->horizon = e->clf_acc = NAN;
    for (size_t i = 0; i < 4; i++) e->t_s[i] = NAN;
    cli_args pa;
    memset(&pa, 0, sizeof pa);
    int st = par_threads(a->threads); /* before the first BLAS call */
    if (!st) st = open_data(e);
    if (!st && e->X && !a->shard_train) e->P_all = e->X->P; /* sharded: shard_rows sets it */
    if (!st) st = open_process(e, &pa);
    opts_free(&pa);
    if (!st) st = build_noise(e);
    const int predict = !a->model || a->given_data;
    if (!st && predict) st = opts_mixture(a) ? predict_mixture(e) : predict_data(e);
    if (!st && (what & ENV_SCORE)) st = build_score(e);
    if (!st && (what & ENV_LABELLER) && predict) st = build_labeller(e);
    if (st) env_close(e);
    return st;
}

void env_close(cli_env *e)
{
    rg_exp_labeller_free(&e->lab);
    rg_nn_model_free(e->clf), rg_nn_model_free(e->net);
    rg_score_gmm_free(e->sg), rg_score_emp_free(e->se);
    rg_theory_dataset_free(e->ds);
    rg_exp_theory_result_free(&e->th);
    rg_theory_plan_free(e->plan);
    rg_data_set_free(e->X), rg_data_gmm_free(e->g);
    rg_noise_free(e->noise);
    spec_free(&e->b);
    free(e->labels), free(e->offset), free(e->m), free(e->net_mean), free(e->net_meta);
    memset(e, 0, sizeof *e);
}

/* ---- theory curves ---------------------------------------------------------------------------------------- */
int env_has_phi(const cli_env *e, size_t mode)
{
    if (opts_mixture(e->a)) return e->lab.label && e->lab.label != NULL && mode < e->b.data.n_labels &&
                                   (default_labeller(e) == LAB_SIGN || default_labeller(e) == LAB_GMM4);
    return e->ds && mode == 0 && e->n_classes == 2 && e->views == 1;
}

int env_phi(void *ctx, size_t mode, double t, double *phi)
{
    const cli_env *e = ctx;
    *phi = NAN;
    if (!env_has_phi(e, mode)) return RG_OK;
    if (opts_mixture(e->a)) return rg_theory_plan_phi_at(e->plan, mode, t, phi);
    double kappa;
    int st = rg_theory_dataset_kappa(e->b.p, e->ds, t, &kappa);
    if (st == RG_OK) *phi = rg_theory_phi(kappa);
    return st;
}

int env_collapse_f(void *ctx, size_t mode, double t, double *f)
{
    const cli_env *e = ctx;
    (void)mode;
    const double P = (double)e->P_all;
    if (opts_mixture(e->a)) return rg_theory_plan_collapse_f(e->plan, P, t, f);
    if (!e->ds) return *f = NAN, RG_OK; /* --shard-train on a .npy: no data-set theory (docs/scale.md) */
    return rg_theory_dataset_collapse_f(e->b.p, e->ds, P, t, f);
}

int env_from_args(int argc, char **argv, unsigned cmd, unsigned what, cli_args *a, cli_env *e)
{
    memset(e, 0, sizeof *e);
    int st = opts_parse(argc, argv, cmd, 1, 1, a);
    if (!st && a->help) st = cli_usage("--help is not an experiment's flag here");
    if (!st) st = env_open(a, what, e);
    if (st) opts_free(a);
    return st;
}

int env_command(int argc, char **argv, unsigned cmd, size_t samples, size_t steps, unsigned what,
                void (*help)(FILE *), env_run_fn run, void *ctx)
{
    const double t0 = run_now();
    cli_args a;
    cli_env e;
    int st = opts_parse(argc, argv, cmd, samples, steps, &a);
    if (!st && a.help) help(stdout);
    if (st || a.help) return st;
    st = env_open(&a, what, &e);
    if (!st) st = run(&e, argc, argv, ctx, t0);
    env_close(&e);
    opts_free(&a);
    return st;
}

int env_signal_at(const cli_env *e, double t, double *kappa)
{
    *kappa = NAN;
    if (e->ds) return lib(rg_theory_dataset_kmax(e->b.p, e->ds, t, kappa));
    if (!e->plan) return RG_OK; /* no predictions (a --model without data flags) */
    double k = 0;
    for (size_t l = 0; l < e->b.data.n_labels; l++) {
        int s = rg_theory_plan_kappa(e->plan, l, t, &k);
        if (s) return cli_status(s);
        *kappa = fmax(*kappa, k);
    }
    return RG_OK;
}
