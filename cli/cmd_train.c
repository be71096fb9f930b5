/* `regimes train`: train a digit classifier or a score network (libregimes nn module) and write a
 * checkpoint and its sidecar FILE.json (model.h). Data: --data FILE.npy (P, N) float32/float64 rows,
 * with --labels FILE.npy ((P, 1) class indices stored as floats) for a classifier, or --data
 * mnist|fashion (module mnist: pixels / 255, --digits, --n; a classifier is also scored on the
 * test split). Score training runs under any process of the `regimes theory` flags (--process
 * ou|coupled|nonrev|general ...; OU by default): every flag that is not train's own is parsed as a
 * process flag (opts.h, process group only), with --dim filled in from the data. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "model.h"
#include "opts.h"
#include "out.h"
#include "par.h"
#include "source.h"
#include "spec.h"
#include "regimes/data.h"
#include "regimes/error.h"
#include "regimes/io.h"
#include "regimes/mnist.h"
#include "regimes/nn.h"
#include "regimes/process.h"
static const char HELP[] =
"usage: regimes train --task classifier|score --data FILE.npy|mnist|fashion --out FILE [flags]\n"
"                     [score: process flags of regimes theory]\n"
"\n"
"Train a small MLP (docs/library-nn.md) with Adam, warmup + cosine learning rate, and write a\n"
"checkpoint (parameters, optimiser state and the metadata: data, measured loss and accuracies, the\n"
"process flags of a score network) after every epoch, atomically; at the end FILE.json, a copy of\n"
"the metadata. Divergence (a NaN or Inf loss) stops training, FILE keeps the last good epoch. The\n"
"table goes to stdout when training has succeeded.\n"
"\n"
"  --task T        classifier (softmax cross-entropy) or score (denoising score matching)\n"
"  --data D        FILE.npy: (P, N) float rows; mnist: data/mnist (or --mnist-dir), fashion:\n"
"                  " RG_MNIST_FASHION_DIR "; pixels / 255, N = 784\n"
"  --digits LIST   mnist|fashion: classes to keep, comma-separated 0-9; default all ten\n"
"  --n-train N     mnist|fashion: training images in all, the first N / (number of digits) of\n"
"                  each class; default all of them\n"
"  --mnist-dir DIR MNIST idx files; default data/mnist\n"
"  --labels FILE   classifier on .npy data: a (P,) .npy of integer class indices 0..C-1\n"
"  --classes C     classifier: number of classes, integer in [2, 65536]; default 1 + max label\n"
"                  (10 for mnist|fashion)\n"
"  --hidden LIST   hidden widths, comma separated; default 512,512 (classifier), 256,256 (score)\n"
"  --shift S       classifier: random translations by up to S pixels (images of width 28 for\n"
"                  mnist|fashion; needs image data), integer in [0, 8]; default 2 on mnist|fashion, else 0\n"
"  --label-smooth E classifier: label smoothing in [0, 1); default 0.1 on mnist|fashion, else 0\n"
"  --t-embed E     score: time-embedding features, even integer in [2, 4096]; default 32\n"
"  --t-min T0      score: smallest training time, > 0; default 1e-3\n"
"  --t-max T1      score: largest training time, > t-min; default 5\n"
"  --t-sample S    score: training times log-uniform (log) or uniform on [t-min, t-max]; default log\n"
"  --centre C      score: on (default): subtract the per-coordinate mean of the training rows (the\n"
"                  parent's preprocessing; FILE.json keeps it, sample --model adds it back); off\n"
"  --precond P     score: gauss (default): the network learns the correction to the exact score of\n"
"                  N(0, s2 I), s2 = the mean square of the training data, on inputs scaled to unit\n"
"                  variance, loss weighted to unit-variance targets (nn.h); none (or all-zero\n"
"                  data): plain eps network\n"
"  --epochs K      integer >= 1; default 10\n"
"  --batch B       integer in [1, P]; default 128\n"
"  --lr LR         peak learning rate in (0, 1); default 1e-3 (cosine down to lr/100)\n"
"  --warmup W      warmup steps, integer >= 0; default 100\n"
"  --seed S        initialisation and minibatch seed, integer; default 1\n"
"  --threads T     OpenMP threads, integer in [1, 1024]; default: OpenMP's choice. Results do not\n"
"                  depend on it (bit-identical)\n"
"  --out FILE      checkpoint to write (FILE.tmp, then renamed), absent or a regular file; FILE.json\n"
"                  beside it\n"
"  --resume FILE   continue from a checkpoint written by the same command line (bit-exact)\n"
"  --json          print only the metadata's JSON object on stdout (no per-epoch table)\n"
"  --help          this text\n"
"Score networks: --process ou|coupled|nonrev|general and its flags (regimes theory --help);\n"
"--dim is set from the data (N for ou/nonrev, N/2 per modality for coupled).\n";

enum { O_TASK, O_DATA, O_LABELS, O_CLASSES, O_HIDDEN, O_TEMB, O_TMIN, O_TMAX, O_TSAMP, O_PRECOND, O_CENTRE,
       O_EPOCHS, O_BATCH, O_LR, O_WARMUP, O_SEED, O_THREADS, O_OUT, O_RESUME, O_DIGITS, O_N, O_MDIR, O_SHIFT,
       O_SMOOTH, O_JSON, O_HELP, O_N_OPTS };

static const cli_opt OPTS[O_N_OPTS] = {
    { "--task", 1, NULL }, { "--data", 1, NULL }, { "--labels", 1, NULL }, { "--classes", 1, NULL },
    { "--hidden", 1, NULL }, { "--t-embed", 1, NULL }, { "--t-min", 1, NULL }, { "--t-max", 1, NULL },
    { "--t-sample", 1, NULL }, { "--precond", 1, NULL }, { "--centre", 1, NULL },
    { "--epochs", 1, NULL }, { "--batch", 1, NULL }, { "--lr", 1, NULL }, { "--warmup", 1, NULL },
    { "--seed", 1, NULL }, { "--threads", 1, NULL }, { "--out", 1, NULL }, { "--resume", 1, NULL },
    { "--digits", 1, NULL }, { "--n-train", 1, NULL }, { "--mnist-dir", 1, NULL }, { "--shift", 1, NULL },
    { "--label-smooth", 1, NULL }, { "--json", 0, NULL }, { "--help", 0, NULL },
};

static int opt_index(const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (int i = 0; i < O_N_OPTS; i++)
        if (strlen(OPTS[i].name) == len && strncmp(OPTS[i].name, arg, len) == 0) return i;
    return -1;
}

static int parse_hidden(const char *s, size_t *n, size_t *w)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char buf[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof buf || *n == RG_NN_MAX_HIDDEN)
            return cli_usage("--hidden wants 1..%d comma-separated widths, got '%s'", RG_NN_MAX_HIDDEN, s);
        memcpy(buf, p, len);
        buf[len] = 0;
        if (cli_parse_size("--hidden", buf, 1, 65536, &w[*n]) != RG_OK) return RG_EINVAL;
        (*n)++;
        p += len;
        if (*p == ',') p++;
    }
    return *n ? RG_OK : cli_usage("--hidden is empty");
}

/* --digits LIST into cls (*nd of them); all ten when s is NULL. */
static int parse_digits(const char *s, int *cls, size_t *nd)
{
    double *dig = NULL;
    if (!s) {
        for (int i = 0; i < 10; i++) cls[i] = i;
        *nd = 10;
        return RG_OK;
    }
    int st = cli_parse_list("--digits", s, (cli_range){ 0, 9, 0, 0 }, &dig, nd);
    for (size_t i = 0; i < *nd && !st; i++) {
        cls[i] = (int)dig[i];
        if (dig[i] != cls[i] || *nd > 10) st = cli_usage("--digits wants distinct digits 0-9");
        for (size_t j = 0; j < i && !st; j++)
            if (cls[j] == cls[i]) st = cli_usage("--digits: %d given twice", cls[i]);
    }
    free(dig);
    return st;
}

/* Images: the training selection into *X (labels = digits) and the test split of the same digits
 * (all of them) into *Xt. */
static int load_images(int fashion, const char *dir, const int *cls, size_t nd, size_t n, rg_data_set **X,
                       rg_data_set **Xt)
{
    rg_mnist_raw *raw = NULL;
    if (source_mnist_check(fashion ? RG_MNIST_FASHION_DIR : dir, fashion)) return RG_EINVAL;
    int st = rg_mnist_load(fashion ? RG_MNIST_FASHION_DIR : dir, RG_MNIST_TRAIN, &raw);
    if (st == RG_OK) st = rg_mnist_select(raw, cls, nd, n / nd, 0, NULL, X);
    rg_mnist_free(raw);
    raw = NULL;
    if (st == RG_OK && Xt) st = rg_mnist_load(fashion ? RG_MNIST_FASHION_DIR : dir, RG_MNIST_TEST, &raw);
    if (st == RG_OK && Xt) st = rg_mnist_select(raw, cls, nd, 0, 0, NULL, Xt);
    rg_mnist_free(raw);
    return st == RG_OK ? RG_OK : cli_status(st);
}

static int load_npy(const char *data, const char *labels, int classifier, rg_data_set **X, int **lab,
                    size_t *n_classes)
{
    if (cli_check_input("--data", data) || (labels && cli_check_input("--labels", labels))) return RG_EINVAL;
    int st = rg_data_set_read_npy(data, 0, X);
    if (st != RG_OK) return cli_status(st);
    if (!classifier) return labels ? cli_usage("--labels applies to --task classifier only") : RG_OK;
    if (!labels) return cli_usage("a classifier needs --labels FILE.npy");
    size_t P = 0;
    if ((st = rg_data_labels_read_npy(labels, (*X)->P, lab, &P)) != RG_OK) return cli_status(st);
    int mx = 0;
    for (size_t i = 0; i < P; i++) mx = (*lab)[i] > mx ? (*lab)[i] : mx;
    if (*n_classes == 0) *n_classes = mx + 1 < 2 ? 2 : (size_t)mx + 1;
    return RG_OK;
}

/* The process flags pa[1 .. pc) with --dim filled in from N (unless given, or a --U / --A file sets it),
 * parsed as process flags only and built into b; *full / *nfull: the flags as used (the sidecar's
 * process_argv; strings borrowed, the array owned by the caller). */
static int train_process(int pc, char **pa, size_t N, spec_built *b, char ***full, int *nfull, char *dimbuf,
                         size_t dimlen)
{
    int coupled = 0, has_dim = 0, has_file = 0;
    for (int a = 1; a < pc; a++) {
        const char *v = a + 1 < pc ? pa[a + 1] : "";
        coupled |= (!strcmp(pa[a], "--process") && !strcmp(v, "coupled")) || !strcmp(pa[a], "--process=coupled");
        has_dim |= !strcmp(pa[a], "--dim") || !strncmp(pa[a], "--dim=", 6);
        has_file |= !strcmp(pa[a], "--A") || !strncmp(pa[a], "--A=", 4) || (!strcmp(pa[a], "--U") && strncmp(v, "diag:", 5)) ||
                    (!strncmp(pa[a], "--U=", 4) && strncmp(pa[a] + 4, "diag:", 5));
    }
    if (coupled && N % 2) return cli_usage("--process coupled needs an even data dimension, got %zu", N);
    static char dim_flag[] = "--dim";
    char **v = malloc((size_t)(pc + 3) * sizeof *v);
    if (!v) return cli_nomem("out of memory");
    int n = 0;
    v[n++] = pa[0];
    if (!has_dim && !has_file) {
        snprintf(dimbuf, dimlen, "%zu", coupled ? N / 2 : N);
        v[n++] = dim_flag, v[n++] = dimbuf;
    }
    for (int a = 1; a < pc; a++) v[n++] = pa[a];
    v[n] = NULL;
    cli_args pr;
    int st = opts_parse(n, v, G_PROC, 1, 1, &pr);
    if (!st && pr.help) st = cli_usage("--help: see regimes train --help");
    if (!st) st = spec_build(&pr.o, b);
    if (!st && rg_process_dim(b->p) != N) st = cli_usage("the process has dimension %zu, the data %zu", rg_process_dim(b->p), N);
    if (!st) opts_free(&pr);
    if (st) return free(v), st;
    *full = v, *nfull = n;
    return RG_OK;
}

/* Everything `regimes train` was asked to do, parsed. */
typedef struct {
    int task, images, fashion, json, tlog, prec, centre;
    const char *data, *labels, *out, *resume, *mnist_dir;
    size_t classes, nh, hid[RG_NN_MAX_HIDDEN], temb, threads, seed, n_img, nd;
    int cls[10];
    rg_nn_train_config c;
} train_opts;

static const char *const TASKS[] = { "classifier", "score", NULL };
static const char *const TSAMP[] = { "uniform", "log", NULL };

/* Split argv: train's own flags (with their values) into ta, the rest (process flags) into pa. */
static int train_split(int argc, char **argv, char **ta, int *nt, char **pa, int *np)
{
    *nt = *np = 1;
    ta[0] = pa[0] = argv[0];
    for (int a = 1; a < argc; a++) {
        int k = opt_index(argv[a]);
        char **dst = k >= 0 ? ta : pa;
        int *n = k >= 0 ? nt : np;
        dst[(*n)++] = argv[a];
        int takes = k >= 0 ? OPTS[k].has_arg : 1;
        if (takes && !strchr(argv[a], '=') && a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0) dst[(*n)++] = argv[++a];
    }
    return RG_OK;
}

static int parse_required(const cli_opt *o, train_opts *t)
{
    if (!o[O_TASK].value) return cli_usage("missing --task (classifier or score)");
    if (cli_parse_choice("--task", o[O_TASK].value, TASKS, &t->task)) return RG_EINVAL;
    if (!o[O_DATA].value) return cli_usage("missing --data FILE.npy|mnist|fashion");
    if (!o[O_OUT].value) return cli_usage("missing --out FILE");
    char side[4096];
    if (cli_check_output_file("--out", o[O_OUT].value) || model_sidecar_path(side, sizeof side, o[O_OUT].value) ||
        cli_check_output_path("--out", side) || (o[O_RESUME].value && cli_check_input("--resume", o[O_RESUME].value)))
        return RG_EINVAL;
    t->data = o[O_DATA].value, t->out = o[O_OUT].value, t->resume = o[O_RESUME].value, t->labels = o[O_LABELS].value;
    t->images = !strcmp(t->data, "mnist") || !strcmp(t->data, "fashion"), t->fashion = !strcmp(t->data, "fashion");
    t->mnist_dir = o[O_MDIR].value ? o[O_MDIR].value : "data/mnist";
    t->json = o[O_JSON].value != NULL;
    if (!t->images && (o[O_DIGITS].value || o[O_N].value || o[O_MDIR].value))
        return cli_usage("--digits, --n-train and --mnist-dir need --data mnist|fashion");
    return RG_OK;
}

/* Defaults by task and data, then the numeric flags. */
static int parse_numbers(const cli_opt *o, train_opts *t)
{
    rg_nn_train_config *c = &t->c;
    const int img_cls = t->images && t->task == 0;
    t->classes = img_cls ? 10 : 0, t->nh = 2, t->temb = 32, t->seed = 1;
    t->hid[0] = t->hid[1] = t->task == 1 ? 256 : 512;
    if (img_cls) c->shift = 2, c->label_smooth = 0.1; /* the recipe of docs/library-nn.md: 99.04% on MNIST */
    const cli_range pos = { 0, INFINITY, 1, 0 };
    if ((o[O_CLASSES].value && cli_parse_size("--classes", o[O_CLASSES].value, 2, 65536, &t->classes)) ||
        (o[O_HIDDEN].value && parse_hidden(o[O_HIDDEN].value, &t->nh, t->hid)) ||
        (o[O_TEMB].value && cli_parse_size("--t-embed", o[O_TEMB].value, 2, 4096, &t->temb)) ||
        (o[O_TMIN].value && cli_parse_double("--t-min", o[O_TMIN].value, pos, &c->t_min)) ||
        (o[O_TMAX].value && cli_parse_double("--t-max", o[O_TMAX].value, pos, &c->t_max)) ||
        (o[O_EPOCHS].value && cli_parse_size("--epochs", o[O_EPOCHS].value, 1, 1000000, &c->epochs)) ||
        (o[O_BATCH].value && cli_parse_size("--batch", o[O_BATCH].value, 1, 1u << 20, &c->batch)) ||
        (o[O_LR].value && cli_parse_double("--lr", o[O_LR].value, (cli_range){ 0, 1, 1, 1 }, &c->lr)) ||
        (o[O_WARMUP].value && cli_parse_size("--warmup", o[O_WARMUP].value, 0, 100000000, &c->warmup)) ||
        (o[O_SEED].value && cli_parse_size("--seed", o[O_SEED].value, 0, SIZE_MAX, &t->seed)) ||
        (o[O_THREADS].value && cli_parse_size("--threads", o[O_THREADS].value, 1, 1024, &t->threads)) ||
        (o[O_N].value && cli_parse_size("--n-train", o[O_N].value, 1, 10000000, &t->n_img)) ||
        (o[O_SHIFT].value && cli_parse_size("--shift", o[O_SHIFT].value, 0, 8, &c->shift)) ||
        (o[O_SMOOTH].value && cli_parse_double("--label-smooth", o[O_SMOOTH].value, (cli_range){ 0, 1, 0, 1 }, &c->label_smooth)) ||
        (t->images && parse_digits(o[O_DIGITS].value, t->cls, &t->nd)))
        return RG_EINVAL;
    return RG_OK;
}

/* The switches and what must not be combined. */
static int parse_choices(const cli_opt *o, train_opts *t, int np, char **pa)
{
    static const char *const precs[] = { "none", "gauss", NULL }, *const onoff[] = { "off", "on", NULL };
    t->tlog = t->prec = t->centre = 1;
    if ((o[O_TSAMP].value && cli_parse_choice("--t-sample", o[O_TSAMP].value, TSAMP, &t->tlog)) ||
        (o[O_PRECOND].value && cli_parse_choice("--precond", o[O_PRECOND].value, precs, &t->prec)) ||
        (o[O_CENTRE].value && cli_parse_choice("--centre", o[O_CENTRE].value, onoff, &t->centre)))
        return RG_EINVAL;
    const rg_nn_train_config *c = &t->c;
    if (t->task == 0 && np > 1) return cli_usage("'%s': unknown option (process flags apply to --task score only)", pa[1]);
    if (t->temb % 2) return cli_usage("--t-embed wants an even number, got %zu", t->temb);
    if (!(c->t_max > c->t_min)) return cli_usage("--t-max must exceed --t-min");
    if (t->task == 1 && (o[O_SHIFT].value || o[O_SMOOTH].value || o[O_LABELS].value || o[O_CLASSES].value))
        return cli_usage("--shift, --label-smooth, --labels and --classes apply to --task classifier only");
    if (t->task == 0 && (o[O_TSAMP].value || o[O_PRECOND].value || o[O_CENTRE].value || o[O_TEMB].value || o[O_TMIN].value || o[O_TMAX].value))
        return cli_usage("--t-sample, --precond, --centre, --t-embed, --t-min and --t-max apply to --task score only");
    if (!t->images && c->shift) return cli_usage("--shift needs image data (--data mnist|fashion)");
    if (t->images && o[O_LABELS].value) return cli_usage("--labels does not apply to --data %s", t->data);
    if (t->images && t->n_img && t->n_img < t->nd) return cli_usage("--n-train %zu is fewer than one image per digit", t->n_img);
    return RG_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What a run builds; freed by train_free. */
typedef struct {
    rg_data_set *X, *Xt;
    int *lab;
    double *mean;          /* --centre on: the training mean subtracted (N), else NULL */
    spec_built b;
    char **pv, dimbuf[32]; /* the process flags as used (sidecar) */
    int npv;
    rg_nn_arch a;
    rg_nn_model *m;
    rg_nn_trainer *tr;
    double loss, train_acc, test_acc, t0;
    size_t test_n;
    int complete, progress;  /* trained to the end; a progress line on stderr (a terminal) */
    FILE *table;             /* the table, printed on stdout only when everything succeeded */
    char *table_buf;
    size_t table_len;
} train_state;

static void train_free(train_state *s)
{
    rg_nn_trainer_free(s->tr), rg_nn_model_free(s->m);
    spec_free(&s->b);
    if (s->lab && (!s->X || s->lab != s->X->labels)) free(s->lab);
    rg_data_set_free(s->X), rg_data_set_free(s->Xt);
    free(s->pv), free(s->mean);
    if (s->table) fclose(s->table);
    free(s->table_buf);
}

/* The training rows (and a classifier's test split of the images); a score net's centring and s2. */
static int train_data(train_opts *t, train_state *s)
{
    int st = t->images ? load_images(t->fashion, t->mnist_dir, t->cls, t->nd, t->n_img, &s->X, t->task == 0 ? &s->Xt : NULL)
                       : load_npy(t->data, t->labels, t->task == 0, &s->X, &s->lab, &t->classes);
    if (!st && t->images && t->task == 0) s->lab = s->X->labels;
    if (!st && t->c.batch > s->X->P) st = cli_usage("--batch %zu exceeds the %zu training rows", t->c.batch, s->X->P);
    for (size_t i = 0; !st && t->task == 0 && i < s->X->P; i++)
        if ((size_t)s->lab[i] >= t->classes) st = cli_usage("label %d of row %zu is not below --classes %zu", s->lab[i], i, t->classes);
    if (st || t->task == 0) return st;
    const size_t P = s->X->P, N = s->X->N;
    if (t->centre && !(s->mean = malloc(N * sizeof *s->mean))) return cli_nomem("out of memory for the mean");
    if (t->centre) { /* --centre on: the data must stay float32 once centred */
        const int cs = rg_data_center(s->X->X, P, N, s->mean);
        if (cs) st = cs == RG_ENOMEM ? cli_status(cs) : cli_usage("--centre on: %s", rg_strerror_last());
    }
    if (!st && t->prec) { /* s2 = the mean square of the (centred) data: the isotropic Gaussian model of nn.h;
                           * all-zero data leave s2 = 0, a plain network */
        double s2 = 0.0;
        for (size_t i = 0; i < P * N; i++) s2 += (double)s->X->X[i] * (double)s->X->X[i];
        s->a.sigma_data2 = s2 / (double)(P * N);
    }
    return st;
}

static int train_model(train_opts *t, train_state *s, int np, char **pa)
{
    const double s2 = s->a.sigma_data2;
    s->a = t->task == 0 ? rg_nn_classifier_arch(s->X->N, t->classes, t->nh, t->hid) : rg_nn_score_arch(s->X->N, t->temb, t->nh, t->hid);
    s->a.sigma_data2 = t->task == 1 ? s2 : 0.0;
    int st = t->task == 1 ? train_process(np, pa, s->X->N, &s->b, &s->pv, &s->npv, s->dimbuf, sizeof s->dimbuf) : RG_OK;
    rg_nn_data d = { .P = s->X->P, .X = s->X->X, .labels = s->lab, .process = s->b.p };
    int ls = st ? RG_OK : rg_nn_model_new(&s->a, t->seed, &s->m);
    if (!st && !ls) ls = rg_nn_trainer_new(s->m, &t->c, &d, &s->tr);
    if (!st && !ls && t->resume) ls = rg_nn_trainer_restore(s->tr, t->resume);
    return ls ? cli_status(ls) : st;
}

/* The metadata (model.h): what was trained on which data, the measured figures, a score net's process
 * flags; stored inside every checkpoint and, at the end, copied to FILE.json. */
static void meta_json(json *j, const train_opts *t, const train_state *s, int argc, char **argv)
{
    const int sc = t->task == 1;
    j_str(j, "tool", "regimes"), j_str(j, "version", RG_VERSION), j_str(j, "command", "train");
    j_arr(j, "argv");
    for (int i = 1; i < argc; i++) j_str(j, NULL, argv[i]);
    j_end(j, ']');
    j_str(j, "task", TASKS[t->task]), j_str(j, "data", t->data);
    double dg[10], hd[RG_NN_MAX_HIDDEN];
    for (size_t i = 0; i < t->nd; i++) dg[i] = t->cls[i];
    for (size_t i = 0; i < t->nh; i++) hd[i] = (double)t->hid[i];
    if (t->images) j_nums(j, "digits", t->nd, dg);
    else j_str(j, "digits", NULL);
    j_int(j, "P", (long long)s->X->P), j_int(j, "N", (long long)s->X->N), j_int(j, "classes", sc ? 0 : (long long)t->classes);
    j_nums(j, "hidden", t->nh, hd), j_int(j, "parameters", (long long)rg_nn_model_nparams(s->m));
    j_int(j, "epochs", (long long)t->c.epochs), j_int(j, "steps", (long long)rg_nn_trainer_steps_total(s->tr));
    j_int(j, "steps_done", (long long)rg_nn_trainer_steps_done(s->tr)), j_bool(j, "complete", s->complete);
    j_int(j, "seed", (long long)t->seed), j_int(j, "shift", (long long)t->c.shift), j_num(j, "label_smooth", t->c.label_smooth);
    j_num(j, "t_min", sc ? t->c.t_min : (double)NAN), j_num(j, "t_max", sc ? t->c.t_max : (double)NAN);
    j_str(j, "t_sample", sc ? TSAMP[t->c.t_log] : NULL), j_num(j, "sigma_data2", sc ? s->a.sigma_data2 : (double)NAN);
    if (s->mean) j_nums(j, "mean", s->X->N, s->mean);
    else j_str(j, "mean", NULL);
    j_num(j, "final_loss", s->loss), j_num(j, "train_accuracy", s->train_acc), j_num(j, "test_accuracy", s->test_acc);
    j_int(j, "test_n", (long long)s->test_n);
    if (s->pv) {
        j_arr(j, "process_argv");
        for (int i = 1; i < s->npv; i++) j_str(j, NULL, s->pv[i]);
        j_end(j, ']');
    } else
        j_str(j, "process_argv", NULL);
    j_num(j, "wall_s", now_s() - s->t0);
}

/* The checkpoint with its metadata, as one file (model.h); j: the metadata, kept for FILE.json. */
static int save(const train_opts *t, const train_state *s, int argc, char **argv, json *j)
{
    int st = j_open(j);
    if (st) return st;
    meta_json(j, t, s, argc, argv);
    st = j_close(j);
    const int ls = st ? RG_OK : rg_nn_save_meta(t->out, s->m, s->tr, j->buf, j->len);
    return ls ? cli_status(ls) : st;
}

/* Every epoch: its mean loss (a table row, printed at the end), then the checkpoint with its metadata.
 * A stale FILE.json goes just before the first save, so FILE.json is always absent or the copy of FILE's
 * metadata. Divergence (a NaN or Inf loss or gradient): one line, and FILE is left as it was (the last
 * good epoch of this run, or the file that was there). */
static int train_epochs(const train_opts *t, train_state *s, int argc, char **argv)
{
    const uint64_t K = rg_nn_trainer_steps_total(s->tr), per = K / t->c.epochs;
    char side[4096];
    int st = model_sidecar_path(side, sizeof side, t->out);
    fprintf(s->table, "# regimes train: task %s, data %s, N %zu, P %zu, %zu parameters, %llu steps (%llu per epoch), seed %zu\n",
            TASKS[t->task], t->data, s->X->N, s->X->P, rg_nn_model_nparams(s->m), (unsigned long long)K,
            (unsigned long long)per, t->seed);
    fprintf(s->table, "epoch,step,lr,mean_loss\n");
    s->loss = NAN;
    uint64_t saved = UINT64_MAX;
    while (!st && rg_nn_trainer_steps_done(s->tr) < K) {
        uint64_t done = rg_nn_trainer_steps_done(s->tr), n = per - done % per;
        int ls = rg_nn_trainer_run(s->tr, (size_t)n, &s->loss);
        if (ls == RG_ENOCONV && saved == UINT64_MAX)
            return cli_runtime("epoch %llu: %s; no checkpoint written", (unsigned long long)(done / per + 1), rg_strerror_last());
        if (ls == RG_ENOCONV)
            return cli_runtime("epoch %llu: %s; %s keeps epoch %llu", (unsigned long long)(done / per + 1), rg_strerror_last(),
                               t->out, (unsigned long long)saved);
        if (ls) return cli_status(ls);
        if (saved == UINT64_MAX && remove(side) != 0 && errno != ENOENT) /* FILE.json of another run */
            return cli_runtime("cannot remove the stale '%s': %s", side, strerror(errno));
        json j;
        st = save(t, s, argc, argv, &j);
        j_free(&j);
        done += n;
        saved = done / per;
        fprintf(s->table, "%llu,%llu,%.17g,%.17g\n", (unsigned long long)(done / per), (unsigned long long)done,
                rg_nn_trainer_lr(s->tr, done - 1), s->loss);
        if (s->progress) fprintf(stderr, "\rregimes train: epoch %llu of %llu, mean loss %.6g ", (unsigned long long)(done / per),
                                 (unsigned long long)(K / per), s->loss);
    }
    if (s->progress) fputc('\n', stderr);
    return st;
}
static int train_scores(const train_opts *t, train_state *s)
{
    s->train_acc = s->test_acc = NAN;
    if (t->task != 0) return RG_OK;
    rg_nn_work *w = NULL;
    int ls = rg_nn_work_new(s->m, 256, &w);
    if (!ls) ls = rg_nn_classifier_accuracy(s->m, s->X->P, s->X->X, s->lab, w, &s->train_acc);
    if (!ls) fprintf(s->table, "# training accuracy %.6f\n", s->train_acc);
    if (!ls && s->Xt) ls = rg_nn_classifier_accuracy(s->m, s->Xt->P, s->Xt->X, s->Xt->labels, w, &s->test_acc);
    if (!ls && s->Xt) s->test_n = s->Xt->P;
    if (!ls && s->Xt) fprintf(s->table, "# test accuracy %.6f (%zu test images)\n", s->test_acc, s->Xt->P);
    rg_nn_work_free(w);
    return ls ? cli_status(ls) : RG_OK;
}

/* The end: the checkpoint with its complete metadata (always, also when a finished checkpoint was
 * resumed), then FILE.json, its copy; then stdout: the table, or with --json the metadata. */
static int train_finish(const train_opts *t, train_state *s, int argc, char **argv)
{
    char path[4096];
    json j = { 0 };
    s->complete = 1;
    int st = model_sidecar_path(path, sizeof path, t->out);
    if (!st) st = save(t, s, argc, argv, &j);
    if (!st && rg_io_text_write(path, j.buf, j.len)) st = cli_status(RG_EIO);
    if (!st && fflush(s->table) != 0) st = cli_nomem("out of memory for the table");
    const char *out = t->json ? j.buf : s->table_buf;
    const size_t len = t->json ? j.len : s->table_len;
    if (!st && (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0)) st = cli_runtime("cannot write on stdout");
    j_free(&j);
    return st;
}

int cmd_train(int argc, char **argv)
{
    cli_set_command("regimes train");
    char **ta = malloc((size_t)(argc + 1) * sizeof *ta), **pa = malloc((size_t)(argc + 1) * sizeof *pa);
    train_opts t = { .c = rg_nn_train_defaults() };
    train_state s = { .t0 = now_s() };
    int nt, np, st = ta && pa ? train_split(argc, argv, ta, &nt, pa, &np) : cli_nomem("out of memory for the arguments");
    cli_opt o[O_N_OPTS];
    memcpy(o, OPTS, sizeof o);
    if (!st) st = cli_scan(nt, ta, 1, o, O_N_OPTS);
    if (!st && o[O_HELP].value) {
        fputs(HELP, stdout);
        return free(ta), free(pa), RG_OK;
    }
    if (!st) st = parse_required(o, &t);
    if (!st) st = parse_numbers(o, &t);
    if (!st) st = parse_choices(o, &t, np, pa);
    t.c.lr_min = t.c.lr / 100.0, t.c.seed = t.seed, t.c.img_w = t.c.shift ? 28 : 0, t.c.t_log = t.task == 1 && t.tlog;
    openblas_set_num_threads(1); /* BLAS runs inside the OpenMP chunks: single-threaded there */
    if (!st) st = par_threads(t.threads);
    if (!st) st = train_data(&t, &s);
    if (!st) st = train_model(&t, &s, np, pa);
    if (!st && !(s.table = open_memstream(&s.table_buf, &s.table_len))) st = cli_nomem("out of memory for the table");
    s.progress = !t.json && isatty(STDERR_FILENO);
    if (!st) st = train_epochs(&t, &s, argc, argv);
    if (!st) st = train_scores(&t, &s);
    if (!st) st = train_finish(&t, &s, argc, argv);
    train_free(&s);
    free(ta), free(pa);
    return st;
}
