/* `regimes train`: train a digit classifier or a score network (libregimes nn module) and write a
 * checkpoint and its sidecar FILE.json (model.h). Data: --data FILE.npy (P, N) float32/float64 rows,
 * with --labels FILE.npy ((P, 1) class indices stored as floats) for a classifier, or --data
 * mnist|fashion (module mnist: pixels / 255, --digits, --n; a classifier is also scored on the
 * test split). Score training runs under any process of the `regimes theory` flags (--process
 * ou|coupled|nonrev|general ...; OU by default): every flag that is not train's own goes to
 * theory_compute, with --dim filled in from the data. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "model.h"
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
"checkpoint (parameters and optimiser state) after every epoch, atomically, and FILE.json beside\n"
"it (data, measured loss and accuracies, the process flags of a score network).\n"
"\n"
"  --task T        classifier (softmax cross-entropy) or score (denoising score matching)\n"
"  --data D        FILE.npy: (P, N) float rows; mnist: data/mnist (or --mnist-dir), fashion:\n"
"                  " RG_MNIST_FASHION_DIR "; pixels / 255, N = 784\n"
"  --digits LIST   mnist|fashion: classes to keep, comma-separated 0-9; default all ten\n"
"  --n N           mnist|fashion: training images in all, the first N / (number of digits) of\n"
"                  each class; default all of them\n"
"  --mnist-dir DIR MNIST idx files; default data/mnist\n"
"  --labels FILE   classifier on .npy data: (P, 1) .npy of class indices 0..C-1 (stored as floats)\n"
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
"  --out FILE      checkpoint to write (FILE.tmp, then renamed); FILE.json beside it\n"
"  --resume FILE   continue from a checkpoint written by the same command line (bit-exact)\n"
"  --json          print only the sidecar's JSON object on stdout (no per-epoch table)\n"
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
    { "--digits", 1, NULL }, { "--n", 1, NULL }, { "--mnist-dir", 1, NULL }, { "--shift", 1, NULL },
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
    if (!classifier) return RG_OK;
    if (!labels) return cli_usage("a classifier needs --labels FILE.npy");
    rg_data_set *L = NULL;
    if ((st = rg_data_set_read_npy(labels, 1, &L)) != RG_OK) return cli_status(st);
    if (L->P != (*X)->P) {
        size_t lp = L->P;
        rg_data_set_free(L);
        return cli_usage("--labels has %zu rows, --data has %zu", lp, (*X)->P);
    }
    *lab = malloc(L->P * sizeof **lab);
    if (!*lab) {
        rg_data_set_free(L);
        return cli_nomem("out of memory");
    }
    size_t mx = 0;
    for (size_t i = 0; i < L->P; i++) {
        float v = L->X[i];
        if (!(v >= 0.0f && v <= 65535.0f) || v != floorf(v)) {
            rg_data_set_free(L);
            return cli_usage("--labels row %zu is %g, want an integer class index >= 0", i, (double)v);
        }
        (*lab)[i] = (int)v;
        if ((size_t)v > mx) mx = (size_t)v;
    }
    rg_data_set_free(L);
    if (*n_classes == 0) *n_classes = mx + 1 < 2 ? 2 : mx + 1;
    return RG_OK;
}

/* The score network's process from the theory flags pa[1 .. pc) with --dim filled in from N:
 * th owns it (th->b.p); *full / *nfull: the flags as used (owned by the caller, strings borrowed). */
static int build_process(int pc, char **pa, size_t N, theory_result *th, char ***full, int *nfull, char *dimbuf,
                         size_t dimlen)
{
    int coupled = 0, has_dim = 0, has_file = 0;
    for (int a = 1; a < pc; a++) {
        const char *v = a + 1 < pc ? pa[a + 1] : "";
        if (!strcmp(pa[a], "--process")) coupled = !strcmp(v, "coupled");
        if (!strcmp(pa[a], "--process=coupled")) coupled = 1;
        if (!strcmp(pa[a], "--dim") || !strncmp(pa[a], "--dim=", 6)) has_dim = 1;
        if (!strcmp(pa[a], "--A") || !strncmp(pa[a], "--A=", 4) ||
            ((!strcmp(pa[a], "--U")) && strncmp(v, "diag:", 5) != 0) || (!strncmp(pa[a], "--U=", 4) && strncmp(pa[a] + 4, "diag:", 5) != 0))
            has_file = 1;
    }
    if (coupled && N % 2) return cli_usage("--process coupled needs an even data dimension, got %zu", N);
    static char dim_flag[] = "--dim";
    char **v = malloc((size_t)(pc + 3) * sizeof *v);
    if (!v) return cli_nomem("out of memory");
    int n = 0;
    v[n++] = pa[0];
    if (!has_dim && !has_file) {
        snprintf(dimbuf, dimlen, "%zu", coupled ? N / 2 : N);
        v[n++] = dim_flag;
        v[n++] = dimbuf;
    }
    for (int a = 1; a < pc; a++) v[n++] = pa[a];
    v[n] = NULL;
    int help = 0, st = theory_compute(n, v, 1, th, &help);
    if (!st && help) st = cli_usage("--help: see regimes train --help");
    if (!st && rg_process_dim(th->b.p) != N) {
        size_t d = rg_process_dim(th->b.p);
        theory_result_free(th);
        st = cli_usage("the process has dimension %zu, the data %zu", d, N);
    }
    if (st) {
        free(v);
        return st;
    }
    *full = v;
    *nfull = n;
    return RG_OK;
}

typedef struct {
    const char *task, *data;
    const int *cls;
    size_t nd, P, N, classes, nparams, epochs, shift;
    const size_t *hid;
    size_t nh;
    double smooth, loss, train_acc, test_acc, wall, t_min, t_max, sigma_data2;
    const char *t_sample;
    const double *mean;   /* (N) subtracted from the training rows, or NULL */
    size_t test_n;
    uint64_t steps, seed;
    int np;
    char **pv;
} train_summary;

/* The sidecar's JSON object into f. */
static void summary_json(FILE *f, const train_summary *s, int argc, char **argv)
{
    fputs("{\"tool\": \"regimes\", \"version\": ", f);
    cli_json_str(f, RG_VERSION);
    fputs(", \"command\": \"train\", \"argv\": [", f);
    for (int a = 1; a < argc; a++) fputs(a > 1 ? ", " : "", f), cli_json_str(f, argv[a]);
    fprintf(f, "],\n \"task\": \"%s\", \"data\": ", s->task);
    cli_json_str(f, s->data);
    fputs(", \"digits\": ", f);
    if (!s->cls) fputs("null", f);
    else {
        fputc('[', f);
        for (size_t i = 0; i < s->nd; i++) fprintf(f, "%s%d", i ? ", " : "", s->cls[i]);
        fputc(']', f);
    }
    fprintf(f, ", \"P\": %zu, \"N\": %zu, \"classes\": %zu, \"hidden\": [", s->P, s->N, s->classes);
    for (size_t i = 0; i < s->nh; i++) fprintf(f, "%s%zu", i ? ", " : "", s->hid[i]);
    fprintf(f, "], \"parameters\": %zu,\n \"epochs\": %zu, \"steps\": %llu, \"seed\": %llu, \"shift\": %zu, "
               "\"label_smooth\": ", s->nparams, s->epochs, (unsigned long long)s->steps,
            (unsigned long long)s->seed, s->shift);
    cli_json_num(f, s->smooth);
    fputs(", \"t_min\": ", f), cli_json_num(f, s->t_min);
    fputs(", \"t_max\": ", f), cli_json_num(f, s->t_max);
    fputs(", \"t_sample\": ", f);
    if (s->t_sample) cli_json_str(f, s->t_sample);
    else fputs("null", f);
    fputs(", \"sigma_data2\": ", f), cli_json_num(f, s->sigma_data2);
    fputs(",\n \"mean\": ", f);
    if (!s->mean) fputs("null", f);
    else {
        fputc('[', f);
        for (size_t i = 0; i < s->N; i++) fprintf(f, "%s%.9g", i ? ", " : "", s->mean[i]);
        fputc(']', f);
    }
    fputs(", \"final_loss\": ", f), cli_json_num(f, s->loss);
    fputs(",\n \"train_accuracy\": ", f), cli_json_num(f, s->train_acc);
    fputs(", \"test_accuracy\": ", f), cli_json_num(f, s->test_acc);
    fprintf(f, ", \"test_n\": %zu, \"process_argv\": ", s->test_n);
    if (!s->pv) fputs("null", f);
    else {
        fputc('[', f);
        for (int a = 1; a < s->np; a++) fputs(a > 1 ? ", " : "", f), cli_json_str(f, s->pv[a]);
        fputc(']', f);
    }
    fputs(", \"wall_s\": ", f), cli_json_num(f, s->wall);
    fputs("}\n", f);
}

static int write_sidecar(const char *ckpt, const train_summary *sum, int argc, char **argv, int json)
{
    char path[4096], *buf = NULL;
    size_t len = 0;
    if (model_sidecar_path(path, sizeof path, ckpt)) return RG_EINVAL;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return cli_nomem("out of memory for the sidecar");
    summary_json(f, sum, argc, argv);
    if (fclose(f) != 0) {
        free(buf);
        return cli_nomem("out of memory for the sidecar");
    }
    int rs = rg_io_text_write(path, buf, len), st = rs ? cli_status(rs) : RG_OK;
    if (!st && json) fputs(buf, stdout);
    free(buf);
    return st;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_train(int argc, char **argv)
{
    cli_set_command("regimes train");
    const double t0 = now_s();
    /* Split: train's own flags (with their values) into ta, the rest (process flags) into pa. */
    char **ta = malloc((size_t)(argc + 1) * sizeof *ta), **pa = malloc((size_t)(argc + 1) * sizeof *pa);
    if (!ta || !pa) {
        free(ta);
        free(pa);
        return cli_nomem("out of memory for the arguments");
    }
    int nt = 1, np = 1;
    ta[0] = pa[0] = argv[0];
    for (int a = 1; a < argc; a++) {
        int k = opt_index(argv[a]);
        char **dst = k >= 0 ? ta : pa;
        int *n = k >= 0 ? &nt : &np;
        dst[(*n)++] = argv[a];
        int takes = k >= 0 ? OPTS[k].has_arg : 1;
        if (takes && !strchr(argv[a], '=') && a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0)
            dst[(*n)++] = argv[++a];
    }
    cli_opt o[O_N_OPTS];
    memcpy(o, OPTS, sizeof o);
    rg_data_set *X = NULL, *Xt = NULL;
    int *lab = NULL, rc = cli_scan(nt, ta, 1, o, O_N_OPTS);
    theory_result th;
    memset(&th, 0, sizeof th);
    char **pv = NULL, dimbuf[32];
    int npv = 0, have_th = 0;
    rg_nn_model *m = NULL;
    rg_nn_trainer *tr = NULL;
    rg_nn_work *w = NULL;
    double *mean = NULL;
    int st = RG_OK;
    if (rc) goto done;
    if (o[O_HELP].value) {
        fputs(HELP, stdout);
        goto done;
    }
    static const char *const tasks[] = { "classifier", "score", NULL };
    int task = 0;
    if (!o[O_TASK].value) {
        rc = cli_usage("missing --task (classifier or score)");
        goto done;
    }
    if ((rc = cli_parse_choice("--task", o[O_TASK].value, tasks, &task))) goto done;
    if (!o[O_DATA].value) {
        rc = cli_usage("missing --data FILE.npy|mnist|fashion");
        goto done;
    }
    if (!o[O_OUT].value) {
        rc = cli_usage("missing --out FILE");
        goto done;
    }
    if (cli_check_output_file("--out", o[O_OUT].value) ||
        (o[O_RESUME].value && cli_check_input("--resume", o[O_RESUME].value))) {
        rc = RG_EINVAL;
        goto done;
    }
    if (task == 0 && np > 1) {
        rc = cli_usage("'%s': unknown option (process flags apply to --task score only)", pa[1]);
        goto done;
    }
    const char *data = o[O_DATA].value;
    const int images = !strcmp(data, "mnist") || !strcmp(data, "fashion"), fashion = !strcmp(data, "fashion");
    if (!images && (o[O_DIGITS].value || o[O_N].value || o[O_MDIR].value)) {
        rc = cli_usage("--digits, --n and --mnist-dir need --data mnist|fashion");
        goto done;
    }
    const int img_cls = images && task == 0;
    rg_nn_train_config c = rg_nn_train_defaults();
    size_t classes = img_cls ? 10 : 0, nh = 2, hid[RG_NN_MAX_HIDDEN] = { 512, 512 }, temb = 32, threads = 0,
           seed = 1, n_img = 0, nd = 0;
    if (task == 1) hid[0] = hid[1] = 256;
    if (img_cls) { /* the recipe of docs/library-nn.md: 99.04% on the MNIST test split */
        c.shift = 2;
        c.label_smooth = 0.1;
    }
    int cls[10];
    const cli_range pos = { 0, INFINITY, 1, 0 };
    if ((o[O_CLASSES].value && cli_parse_size("--classes", o[O_CLASSES].value, 2, 65536, &classes)) ||
        (o[O_HIDDEN].value && parse_hidden(o[O_HIDDEN].value, &nh, hid)) ||
        (o[O_TEMB].value && cli_parse_size("--t-embed", o[O_TEMB].value, 2, 4096, &temb)) ||
        (o[O_TMIN].value && cli_parse_double("--t-min", o[O_TMIN].value, pos, &c.t_min)) ||
        (o[O_TMAX].value && cli_parse_double("--t-max", o[O_TMAX].value, pos, &c.t_max)) ||
        (o[O_EPOCHS].value && cli_parse_size("--epochs", o[O_EPOCHS].value, 1, 1000000, &c.epochs)) ||
        (o[O_BATCH].value && cli_parse_size("--batch", o[O_BATCH].value, 1, 1u << 20, &c.batch)) ||
        (o[O_LR].value && cli_parse_double("--lr", o[O_LR].value, (cli_range){ 0, 1, 1, 1 }, &c.lr)) ||
        (o[O_WARMUP].value && cli_parse_size("--warmup", o[O_WARMUP].value, 0, 100000000, &c.warmup)) ||
        (o[O_SEED].value && cli_parse_size("--seed", o[O_SEED].value, 0, SIZE_MAX, &seed)) ||
        (o[O_THREADS].value && cli_parse_size("--threads", o[O_THREADS].value, 1, 1024, &threads)) ||
        (o[O_N].value && cli_parse_size("--n", o[O_N].value, 1, 10000000, &n_img)) ||
        (o[O_SHIFT].value && cli_parse_size("--shift", o[O_SHIFT].value, 0, 8, &c.shift)) ||
        (o[O_SMOOTH].value &&
         cli_parse_double("--label-smooth", o[O_SMOOTH].value, (cli_range){ 0, 1, 0, 1 }, &c.label_smooth)) ||
        (images && parse_digits(o[O_DIGITS].value, cls, &nd))) {
        rc = RG_EINVAL;
        goto done;
    }
    static const char *const tsamp[] = { "uniform", "log", NULL }, *const precs[] = { "none", "gauss", NULL },
                             *const onoff[] = { "off", "on", NULL };
    int tlog = 1, prec = 1, centre = 1;
    if ((o[O_TSAMP].value && cli_parse_choice("--t-sample", o[O_TSAMP].value, tsamp, &tlog)) ||
        (o[O_PRECOND].value && cli_parse_choice("--precond", o[O_PRECOND].value, precs, &prec)) ||
        (o[O_CENTRE].value && cli_parse_choice("--centre", o[O_CENTRE].value, onoff, &centre))) {
        rc = RG_EINVAL;
        goto done;
    }
    if (temb % 2) rc = cli_usage("--t-embed wants an even number, got %zu", temb);
    else if (!(c.t_max > c.t_min)) rc = cli_usage("--t-max must exceed --t-min");
    else if (task == 1 && (o[O_SHIFT].value || o[O_SMOOTH].value))
        rc = cli_usage("--shift and --label-smooth apply to --task classifier only");
    else if (task == 0 && (o[O_TSAMP].value || o[O_PRECOND].value || o[O_CENTRE].value))
        rc = cli_usage("--t-sample, --precond and --centre apply to --task score only");
    else if (!images && c.shift) rc = cli_usage("--shift needs image data (--data mnist|fashion)");
    else if (images && o[O_LABELS].value) rc = cli_usage("--labels does not apply to --data %s", data);
    else if (images && n_img && n_img < nd) rc = cli_usage("--n %zu is fewer than one image per digit", n_img);
    if (rc) goto done;
    c.lr_min = c.lr / 100.0;
    c.seed = seed;
    c.img_w = c.shift ? 28 : 0;
    c.t_log = task == 1 && tlog;
    if (threads) omp_set_num_threads((int)threads);
    openblas_set_num_threads(1); /* BLAS runs inside the OpenMP chunks: single-threaded there */

    if (images) {
        rc = load_images(fashion, o[O_MDIR].value ? o[O_MDIR].value : "data/mnist", cls, nd, n_img, &X,
                         task == 0 ? &Xt : NULL);
        if (!rc && task == 0) lab = X->labels;
    } else
        rc = load_npy(data, o[O_LABELS].value, task == 0, &X, &lab, &classes);
    if (rc != RG_OK) goto done;
    if (c.batch > X->P) {
        rc = cli_usage("--batch %zu exceeds the %zu training rows", c.batch, X->P);
        goto done;
    }
    rg_nn_arch a = task == 0 ? rg_nn_classifier_arch(X->N, classes, nh, hid) : rg_nn_score_arch(X->N, temb, nh, hid);
    if (task == 1 && centre) {
        if (!(mean = calloc(X->N, sizeof *mean))) {
            rc = cli_nomem("out of memory for the mean");
            goto done;
        }
        for (size_t i = 0; i < X->P; i++)
            for (size_t j = 0; j < X->N; j++) mean[j] += (double)X->X[i * X->N + j];
        for (size_t j = 0; j < X->N; j++) mean[j] /= (double)X->P;
        for (size_t i = 0; i < X->P; i++)
            for (size_t j = 0; j < X->N; j++) X->X[i * X->N + j] = (float)((double)X->X[i * X->N + j] - mean[j]);
    }
    if (task == 1 && prec) { /* s2 = mean square of the data: the isotropic Gaussian model of nn.h; all-zero
                              * (e.g. constant, centred) data leave s2 = 0, a plain network */
        double s2 = 0.0;
        for (size_t i = 0; i < X->P * X->N; i++) s2 += (double)X->X[i] * (double)X->X[i];
        a.sigma_data2 = s2 / (double)(X->P * X->N);
    }
    if (task == 1) {
        if ((rc = build_process(np, pa, X->N, &th, &pv, &npv, dimbuf, sizeof dimbuf))) goto done;
        have_th = 1;
    }
    if (task == 0)
        for (size_t i = 0; i < X->P; i++)
            if ((size_t)lab[i] >= classes) {
                rc = cli_usage("label %d of row %zu is not below --classes %zu", lab[i], i, classes);
                goto done;
            }
    if ((st = rg_nn_model_new(&a, seed, &m)) != RG_OK) goto done;
    rg_nn_data d = { .P = X->P, .X = X->X, .labels = lab, .process = have_th ? th.b.p : NULL };
    if ((st = rg_nn_trainer_new(m, &c, &d, &tr)) != RG_OK) goto done;
    if (o[O_RESUME].value && (st = rg_nn_trainer_restore(tr, o[O_RESUME].value)) != RG_OK) goto done;
    const int json = o[O_JSON].value != NULL;
    const uint64_t K = rg_nn_trainer_steps_total(tr), per = K / c.epochs;
    if (!json) {
        printf("# regimes train: task %s, data %s, N %zu, P %zu, %zu parameters, %llu steps (%llu per epoch), seed %zu\n",
               tasks[task], data, X->N, X->P, rg_nn_model_nparams(m), (unsigned long long)K, (unsigned long long)per, seed);
        printf("epoch,step,lr,mean_loss\n");
    }
    double loss = NAN;
    while (rg_nn_trainer_steps_done(tr) < K) {
        uint64_t done_steps = rg_nn_trainer_steps_done(tr), n = per - done_steps % per;
        if ((st = rg_nn_trainer_run(tr, (size_t)n, &loss)) != RG_OK) goto done;
        done_steps += n;
        if (!json) {
            printf("%llu,%llu,%.17g,%.17g\n", (unsigned long long)(done_steps / per), (unsigned long long)done_steps,
                   rg_nn_trainer_lr(tr, done_steps - 1), loss);
            fflush(stdout);
        }
        if ((st = rg_nn_save(o[O_OUT].value, m, tr)) != RG_OK) goto done;
    }
    train_summary sum = { .task = tasks[task], .data = data, .cls = images ? cls : NULL, .nd = nd, .P = X->P,
                          .N = X->N, .classes = task == 0 ? classes : 0, .nparams = rg_nn_model_nparams(m),
                          .epochs = c.epochs, .shift = c.shift, .hid = hid, .nh = nh, .smooth = c.label_smooth,
                          .loss = loss, .train_acc = NAN, .test_acc = NAN, .steps = K, .seed = seed,
                          .np = npv, .pv = pv, .t_min = task == 1 ? c.t_min : (double)NAN,
                          .t_max = task == 1 ? c.t_max : (double)NAN,
                          .t_sample = task == 1 ? tsamp[c.t_log] : NULL,
                          .sigma_data2 = task == 1 ? a.sigma_data2 : (double)NAN, .mean = mean };
    if (task == 0) {
        if ((st = rg_nn_work_new(m, 256, &w)) != RG_OK) goto done;
        if ((st = rg_nn_classifier_accuracy(m, X->P, X->X, lab, w, &sum.train_acc)) != RG_OK) goto done;
        if (!json) printf("# training accuracy %.6f\n", sum.train_acc);
        if (Xt) {
            if ((st = rg_nn_classifier_accuracy(m, Xt->P, Xt->X, Xt->labels, w, &sum.test_acc)) != RG_OK) goto done;
            sum.test_n = Xt->P;
            if (!json) printf("# test accuracy %.6f (%zu test images)\n", sum.test_acc, Xt->P);
        }
    }
    sum.wall = now_s() - t0;
    rc = write_sidecar(o[O_OUT].value, &sum, argc, argv, json);
done:
    if (st != RG_OK) rc = cli_status(st);
    rg_nn_work_free(w);
    rg_nn_trainer_free(tr);
    rg_nn_model_free(m);
    if (have_th) theory_result_free(&th);
    if (lab && (!X || lab != X->labels)) free(lab);
    rg_data_set_free(X);
    rg_data_set_free(Xt);
    free(pv);
    free(mean);
    free(ta);
    free(pa);
    return rc;
}
