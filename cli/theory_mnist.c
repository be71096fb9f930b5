/* `regimes theory --data mnist|fashion`: speciation predicted from the spectrum of real images
 * (MATH.md 7.1, 10.2, 10.3). One modality: Lambda = the largest eigenvalue of the covariance of the
 * preprocessed images, t_S = 1/2 log Lambda (the parent paper) and the exact 1/2 log(1 + Lambda).
 * Paired images under --process coupled: Lambda_c, Lambda_d of u = (x+y)/sqrt 2, v = (x-y)/sqrt 2
 * and t_S^k = log(1 + lambda_k Lambda_k) / (2 lambda_k) per mode, lambda_k the mode's rate. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "regimes/data.h"
#include "regimes/error.h"
#include "regimes/mnist.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/theory.h"
#include "args.h"
#include "cli.h"

enum { M_DATA, M_DIGITS, M_N, M_DIR, M_PROCESS, M_GAMMA, M_COUPLING, M_RHO, M_SEED, M_JSON, M_COUNT };

static const char *const MDATA[] = { "mnist", "fashion", NULL };
static const char *const MPROC[] = { "ou", "coupled", NULL };
static const char *const MCOUP[] = { "cross", "diffusive", NULL };

int theory_data_is_images(int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        const char *s = argv[a];
        if (strcmp(s, "--data") == 0 && a + 1 < argc) s = argv[a + 1];
        else if (strncmp(s, "--data=", 7) == 0) s += 7;
        else continue;
        return strcmp(s, "mnist") == 0 || strcmp(s, "fashion") == 0;
    }
    return 0;
}

void theory_mnist_help(FILE *f)
{
    fputs("Image data (--data mnist|fashion)\n"
          "  --digits LIST     classes to keep, comma-separated digits 0-9 (default 1,8)\n"
          "  --n N             ou: images in all, split evenly over the classes (default 10000);\n"
          "                    coupled: pairs, each class needing N images of its own (default 5000)\n"
          "  --mnist-dir DIR   MNIST idx files (default data/mnist, fetched by scripts/get-mnist.sh);\n"
          "                    Fashion-MNIST is read from " RG_MNIST_FASHION_DIR "\n"
          "  --process ou|coupled, --gamma G, --coupling cross|diffusive: coupled uses paired images\n"
          "  --rho R           paired images: probability that y's class equals x's (default 1)\n"
          "  --seed S          paired images: the pairing seed (default 1)\n"
          "Pixels are /255 and centred per pixel (MATH.md 10.2). JSON: lambda_max, t_S (= 1/2 log Lambda),\n"
          "t_S_exact (= 1/2 log(1 + Lambda)), and for coupled lambda_c, lambda_d, modes, sync_gap.\n", f);
}

/* The training split's two files (plain or .gz) must be readable in dir: a wrong directory is bad
 * input (one line, exit 2), not a runtime failure. */
static int mnist_dir_check(const char *dir, int fashion)
{
    static const char *const names[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte" };
    char path[4096];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (access(path, R_OK) == 0) continue;
        snprintf(path, sizeof path, "%s/%s.gz", dir, names[i]);
        if (access(path, R_OK) == 0) continue;
        return cli_usage("%s: no readable %s (nor .gz); %s", dir, names[i],
                         fashion ? "apt-get install dataset-fashion-mnist" : "scripts/get-mnist.sh fetches MNIST");
    }
    return RG_OK;
}

int theory_mnist(int argc, char **argv)
{
    cli_opt v[M_COUNT] = { { "--data", 1, NULL },    { "--digits", 1, NULL },   { "--n", 1, NULL },
                           { "--mnist-dir", 1, NULL }, { "--process", 1, NULL }, { "--gamma", 1, NULL },
                           { "--coupling", 1, NULL }, { "--rho", 1, NULL },      { "--seed", 1, NULL },
                           { "--json", 0, NULL } };
    int st = cli_scan(argc, argv, 1, v, M_COUNT);
    int fashion = 0, coupled = 0, form = 0;
    size_t n = 0, seed = 1; /* 0: the default of --n for the case */
    double gamma = 0.0, rho = 1.0, *dig = NULL;
    size_t nd = 0;
    if (!st) st = cli_parse_choice("--data", v[M_DATA].value, MDATA, &fashion);
    if (!st && v[M_PROCESS].value) st = cli_parse_choice("--process", v[M_PROCESS].value, MPROC, &coupled);
    if (!st && v[M_COUPLING].value) st = cli_parse_choice("--coupling", v[M_COUPLING].value, MCOUP, &form);
    if (!st && v[M_N].value) st = cli_parse_size("--n", v[M_N].value, 2, 1000000, &n);
    if (!n) n = coupled ? 5000 : 10000;
    if (!st && v[M_SEED].value) st = cli_parse_size("--seed", v[M_SEED].value, 0, (size_t)-1, &seed);
    if (!st && v[M_RHO].value) st = cli_parse_double("--rho", v[M_RHO].value, (cli_range){ 0, 1, 0, 0 }, &rho);
    if (!st && v[M_GAMMA].value) {
        cli_range r = form ? (cli_range){ -0.5, INFINITY, 1, 1 } : (cli_range){ -1.0, 1.0, 1, 1 };
        st = cli_parse_double("--gamma", v[M_GAMMA].value, r, &gamma);
    }
    if (!st && !coupled && (v[M_GAMMA].value || v[M_COUPLING].value || v[M_RHO].value))
        st = cli_usage("--gamma, --coupling and --rho need --process coupled (paired images)");
    if (!st) st = cli_parse_list("--digits", v[M_DIGITS].value ? v[M_DIGITS].value : "1,8",
                                 (cli_range){ 0, 9, 0, 0 }, &dig, &nd);
    int cls[10];
    for (size_t i = 0; i < nd && !st; i++) {
        cls[i] = (int)dig[i];
        if (dig[i] != cls[i] || nd > 10) st = cli_usage("--digits wants distinct digits 0-9");
        for (size_t j = 0; j < i && !st; j++)
            if (cls[j] == cls[i]) st = cli_usage("--digits: %d given twice", cls[i]);
    }
    free(dig);
    if (!st && coupled && nd != 2) st = cli_usage("paired images (--process coupled) need exactly two --digits");
    if (st) return st;
    const char *dir = fashion ? RG_MNIST_FASHION_DIR : v[M_DIR].value ? v[M_DIR].value : "data/mnist";
    if (mnist_dir_check(dir, fashion)) return RG_EINVAL;
    rg_mnist_raw *raw = NULL;
    rg_data_set *s = NULL;
    double lam = NAN, lc = NAN, ld = NAN;
    int rs = rg_mnist_load(dir, RG_MNIST_TRAIN, &raw);
    if (rs == RG_OK && !coupled) rs = rg_mnist_select(raw, cls, nd, n / nd, 1, NULL, &s);
    if (rs == RG_OK && !coupled) rs = rg_data_covariance_top(s->X, s->P, s->N, &lam);
    if (rs == RG_OK && coupled)
        rs = rg_mnist_pairs(raw, cls, n, rho, (rg_rng){ seed, RG_STREAM_PAIRS }, 1, NULL, &s);
    if (rs == RG_OK && coupled) rs = rg_mnist_pair_spectra(s, &lc, &ld);
    rg_mnist_free(raw);
    rg_data_set_free(s);
    if (rs != RG_OK) return cli_status(rs);
    if (!coupled && !(lam > 0))
        return cli_usage("the %zu selected images have no variance (Lambda = %g): t_S = 1/2 log Lambda is undefined", n, lam);
    FILE *f = stdout;
    int json = v[M_JSON].value != NULL;
    if (!coupled) {
        double ts = 0.5 * log(lam), tse = 0.5 * log1p(lam);
        if (json) {
            fprintf(f, "{\"tool\": \"regimes\", \"command\": \"theory\", \"data\": {\"kind\": \"%s\", \"digits\": [",
                    fashion ? "fashion" : "mnist");
            for (size_t i = 0; i < nd; i++) fprintf(f, "%s%d", i ? ", " : "", cls[i]);
            fprintf(f, "], \"n\": %zu, \"N\": 784}, \"process\": {\"kind\": \"ou\"}, \"relaxation_rate\": 1, \"lambda_max\": ", n);
            cli_json_num(f, lam);
            fputs(", \"t_S\": ", f), cli_json_num(f, ts);
            fputs(", \"t_S_exact\": ", f), cli_json_num(f, tse);
            fputs(", \"t_C\": null, \"sync_gap\": null, \"modes\": [{\"name\": \"ou\", \"rate\": 1, \"t_S\": ", f);
            cli_json_num(f, tse);
            fputs("}]}\n", f);
        } else
            fprintf(f, "data          %s, %zu images of %zu classes, 784 pixels, /255, centred\n"
                       "lambda_max    %.6g  (largest covariance eigenvalue, 1/(n-1))\n"
                       "t_S           %.6g  (1/2 log Lambda, the parent paper)\n"
                       "t_S exact     %.6g  (1/2 log(1 + Lambda))\n",
                    fashion ? "fashion-mnist" : "mnist", n, nd, lam, ts, tse);
        return RG_OK;
    }
    double M[4], re[2], im[2];
    rg_process_coupling((rg_coupling_form)form, gamma, M);
    rg_process *p = NULL;
    rs = rg_process_coupled(M, 784, &p);
    if (rs == RG_OK) rs = rg_process_rates(p, re, im);
    rg_process_free(p);
    if (rs != RG_OK) return cli_status(rs);
    /* Common pattern (1, 1): M (1,1)^T = (M0 + M1) (1,1)^T for the symmetric forms. */
    double rc = M[0] + M[1], rd = M[0] - M[1];
    double tc = rg_theory_mode_time(rc, lc), td = rg_theory_mode_time(rd, ld);
    if (json) {
        fputs("{\"tool\": \"regimes\", \"command\": \"theory\", \"data\": {\"kind\": \"paired\", \"digits\": [", f);
        fprintf(f, "%d, %d], \"n\": %zu, \"rho\": %.17g}, \"process\": {\"kind\": \"coupled\", \"gamma\": %.17g}",
                cls[0], cls[1], n, rho, gamma);
        fputs(", \"relaxation_rate\": ", f), cli_json_num(f, fmin(rc, rd));
        fputs(", \"lambda_c\": ", f), cli_json_num(f, lc);
        fputs(", \"lambda_d\": ", f), cli_json_num(f, ld);
        fputs(", \"t_S\": ", f), cli_json_num(f, fmax(tc, td));
        fputs(", \"t_C\": null, \"sync_gap\": ", f), cli_json_num(f, tc - td);
        fputs(", \"modes\": [{\"name\": \"common\", \"rate\": ", f), cli_json_num(f, rc);
        fputs(", \"t_S\": ", f), cli_json_num(f, tc);
        fputs("}, {\"name\": \"difference\", \"rate\": ", f), cli_json_num(f, rd);
        fputs(", \"t_S\": ", f), cli_json_num(f, td);
        fputs("}]}\n", f);
    } else
        fprintf(f, "data          paired mnist digits %d,%d, %zu pairs, agreement rho = %g\n"
                   "Lambda_c      %.6g   Lambda_d  %.6g\n"
                   "common        rate %.6g   t_S %.6g\n"
                   "difference    rate %.6g   t_S %.6g\n"
                   "sync gap      %.6g\n",
                cls[0], cls[1], n, rho, lc, ld, rc, tc, rd, td, tc - td);
    (void)im;
    (void)re;
    return RG_OK;
}
