/* `regimes train`: train a digit classifier or a score network (libregimes nn module) and write a
 * checkpoint. Data: --data FILE.npy (P, N) float32/float64 rows, with --labels FILE.npy ((P, 1)
 * class indices stored as floats) for a classifier. --data mnist|fashion is the hook for the
 * MNIST loader (module `mnist`, written in parallel): it is refused until that module lands; see
 * MNIST_HOOK below. Score training uses the parent OU process (A = I) of dimension N; other
 * processes are the lead's hook (PROCESS_HOOK: build an rg_process from the theory flags with
 * spec_build and pass it in rg_nn_data.process). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "regimes/data.h"
#include "regimes/error.h"
#include "regimes/nn.h"
#include "regimes/process.h"

static const char HELP[] =
"usage: regimes train --task classifier|score --data FILE.npy [--labels FILE.npy] --out FILE [flags]\n"
"\n"
"Train a small MLP (docs/library-nn.md) with Adam, warmup + cosine learning rate, and write a\n"
"checkpoint (parameters and optimiser state) after every epoch, atomically.\n"
"\n"
"  --task T        classifier (softmax cross-entropy) or score (denoising score matching, OU A = I)\n"
"  --data D        FILE.npy: (P, N) float rows; mnist | fashion: not yet available (MNIST hook)\n"
"  --labels FILE   classifier: (P, 1) .npy of class indices 0..C-1 (stored as floats)\n"
"  --classes C     classifier: number of classes, integer in [2, 65536]; default 1 + max label\n"
"  --hidden LIST   hidden widths, comma separated, e.g. 512,256; default 512,512 (classifier),\n"
"                  256,256 (score)\n"
"  --t-embed E     score: time-embedding features, even integer in [2, 4096]; default 32\n"
"  --t-min T0      score: smallest training time, > 0; default 1e-3\n"
"  --t-max T1      score: largest training time, > t-min; default 5\n"
"  --epochs K      integer >= 1; default 10\n"
"  --batch B       integer in [1, P]; default 128\n"
"  --lr LR         peak learning rate in (0, 1); default 1e-3 (cosine down to lr/100)\n"
"  --warmup W      warmup steps, integer >= 0; default 100\n"
"  --seed S        initialisation and minibatch seed, integer; default 1\n"
"  --threads T     OpenMP threads, integer in [1, 1024]; default: OpenMP's choice. Results do not\n"
"                  depend on it (bit-identical)\n"
"  --out FILE      checkpoint to write (FILE.tmp, then renamed)\n"
"  --resume FILE   continue from a checkpoint written by the same command line (bit-exact)\n"
"  --help          this text\n";

enum { O_TASK, O_DATA, O_LABELS, O_CLASSES, O_HIDDEN, O_TEMB, O_TMIN, O_TMAX, O_EPOCHS, O_BATCH, O_LR,
       O_WARMUP, O_SEED, O_THREADS, O_OUT, O_RESUME, O_HELP, O_N };

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
        if (cli_parse_size("--hidden", buf, 1, 65536, &w[*n]) != CLI_OK) return CLI_USAGE;
        (*n)++;
        p += len;
        if (*p == ',') p++;
    }
    return *n ? CLI_OK : cli_usage("--hidden is empty");
}

static int load_data(const char *data, const char *labels, int classifier, rg_data_set **X, int **lab,
                     size_t *n_classes)
{
    if (!strcmp(data, "mnist") || !strcmp(data, "fashion"))
        /* MNIST_HOOK: when include/regimes/mnist.h exists, load the split here into *X (pixels / 255,
         * N = 784) and *lab, and drop this refusal. */
        return cli_usage("--data %s: the MNIST loader is not built yet; pass --data FILE.npy", data);
    if (cli_check_input("--data", data) || (labels && cli_check_input("--labels", labels))) return CLI_USAGE;
    int st = rg_data_set_read_npy(data, 0, X);
    if (st != RG_OK) return cli_status(st);
    if (!classifier) return CLI_OK;
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
        return cli_runtime("out of memory");
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
    return CLI_OK;
}

int cmd_train(int argc, char **argv)
{
    cli_set_command("regimes train");
    cli_opt o[O_N] = {
        { "--task", 1, NULL }, { "--data", 1, NULL }, { "--labels", 1, NULL }, { "--classes", 1, NULL },
        { "--hidden", 1, NULL }, { "--t-embed", 1, NULL }, { "--t-min", 1, NULL }, { "--t-max", 1, NULL },
        { "--epochs", 1, NULL }, { "--batch", 1, NULL }, { "--lr", 1, NULL }, { "--warmup", 1, NULL },
        { "--seed", 1, NULL }, { "--threads", 1, NULL }, { "--out", 1, NULL }, { "--resume", 1, NULL },
        { "--help", 0, NULL },
    };
    if (cli_scan(argc, argv, 1, o, O_N) != CLI_OK) return CLI_USAGE;
    if (o[O_HELP].value) {
        fputs(HELP, stdout);
        return CLI_OK;
    }
    static const char *const tasks[] = { "classifier", "score", NULL };
    int task = 0;
    if (!o[O_TASK].value) return cli_usage("missing --task (classifier or score)");
    if (cli_parse_choice("--task", o[O_TASK].value, tasks, &task) != CLI_OK) return CLI_USAGE;
    if (!o[O_DATA].value) return cli_usage("missing --data FILE.npy");
    if (!o[O_OUT].value) return cli_usage("missing --out FILE");
    if (cli_check_output_file("--out", o[O_OUT].value) ||
        (o[O_RESUME].value && cli_check_input("--resume", o[O_RESUME].value))) return CLI_USAGE;
    rg_nn_train_config c = rg_nn_train_defaults();
    size_t classes = 0, nh = 2, hid[RG_NN_MAX_HIDDEN] = { 512, 512 }, temb = 32, threads = 0, seed = 1;
    if (task == 1) hid[0] = hid[1] = 256;
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
        (o[O_THREADS].value && cli_parse_size("--threads", o[O_THREADS].value, 1, 1024, &threads)))
        return CLI_USAGE;
    if (temb % 2) return cli_usage("--t-embed wants an even number, got %zu", temb);
    if (!(c.t_max > c.t_min)) return cli_usage("--t-max must exceed --t-min");
    c.lr_min = c.lr / 100.0;
    c.seed = seed;
    if (threads) omp_set_num_threads((int)threads);
    openblas_set_num_threads(1); /* BLAS runs inside the OpenMP chunks: single-threaded there */

    rg_data_set *X = NULL;
    int *lab = NULL, rc = load_data(o[O_DATA].value, o[O_LABELS].value, task == 0, &X, &lab, &classes);
    rg_process *p = NULL;
    rg_nn_model *m = NULL;
    rg_nn_trainer *tr = NULL;
    int st = RG_OK;
    if (rc != CLI_OK) goto done;
    if (c.batch > X->P) {
        rc = cli_usage("--batch %zu exceeds the %zu training rows", c.batch, X->P);
        goto done;
    }
    rg_nn_arch a = task == 0 ? rg_nn_classifier_arch(X->N, classes, nh, hid) : rg_nn_score_arch(X->N, temb, nh, hid);
    /* PROCESS_HOOK: score training under OU (A = I) only; the lead can build any process here. */
    if (task == 1 && (st = rg_process_ou(X->N, &p)) != RG_OK) goto done;
    if (task == 0)
        for (size_t i = 0; i < X->P; i++)
            if ((size_t)lab[i] >= classes) {
                rc = cli_usage("label %d of row %zu is not below --classes %zu", lab[i], i, classes);
                goto done;
            }
    if ((st = rg_nn_model_new(&a, seed, &m)) != RG_OK) goto done;
    rg_nn_data d = { .P = X->P, .X = X->X, .labels = lab, .process = p };
    if ((st = rg_nn_trainer_new(m, &c, &d, &tr)) != RG_OK) goto done;
    if (o[O_RESUME].value && (st = rg_nn_trainer_restore(tr, o[O_RESUME].value)) != RG_OK) goto done;
    const uint64_t K = rg_nn_trainer_steps_total(tr), per = K / c.epochs;
    printf("# regimes train: task %s, N %zu, P %zu, %zu parameters, %llu steps (%llu per epoch), seed %zu\n",
           tasks[task], X->N, X->P, rg_nn_model_nparams(m), (unsigned long long)K, (unsigned long long)per, seed);
    printf("epoch,step,lr,mean_loss\n");
    while (rg_nn_trainer_steps_done(tr) < K) {
        uint64_t done_steps = rg_nn_trainer_steps_done(tr), n = per - done_steps % per;
        double loss;
        if ((st = rg_nn_trainer_run(tr, (size_t)n, &loss)) != RG_OK) goto done;
        done_steps += n;
        printf("%llu,%llu,%.17g,%.17g\n", (unsigned long long)(done_steps / per), (unsigned long long)done_steps,
               rg_nn_trainer_lr(tr, done_steps - 1), loss);
        fflush(stdout);
        if ((st = rg_nn_save(o[O_OUT].value, m, tr)) != RG_OK) goto done;
    }
    if (task == 0) {
        rg_nn_work *w = NULL;
        double acc = 0.0;
        if ((st = rg_nn_work_new(m, 256, &w)) == RG_OK)
            st = rg_nn_classifier_accuracy(m, X->P, X->X, lab, w, &acc);
        rg_nn_work_free(w);
        if (st == RG_OK) printf("# training accuracy %.6f\n", acc);
    }
done:
    if (st != RG_OK) rc = cli_status(st);
    rg_nn_trainer_free(tr);
    rg_nn_model_free(m);
    rg_process_free(p);
    rg_data_set_free(X);
    free(lab);
    return rc;
}
