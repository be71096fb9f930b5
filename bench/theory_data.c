/* bench_theory_data: theory on a data set (theory.h, docs/math.md 11.2) at MNIST size.
 *
 *   ou       N = 784, P = 10000 (digits 1 and 8, labelled), the k = 1 path: rg_theory_dataset_new (the
 *            covariances and both eigen-decompositions) and rg_theory_dataset_all (four root scans on
 *            the spectra), against ONE evaluation of kmax on the dense path (the same data under the
 *            general process A = I_784: Van Loan moments and Lanczos), timed in the same run.
 *   coupled  N = 1568, P = 5000 pairs (rg_mnist_pairs, rho = 1, labelled 11/88), cross-drive gamma = 0.5:
 *            rg_theory_dataset_all against ONE exact collapse evaluation (Gamma_t and its Cholesky),
 *            with the counts of exact evaluations and of scan points settled by the k x k bounds.
 * Usage: bench_theory_data [MNIST_DIR] (default data/mnist; without the files: synthetic data of the
 * same sizes, a rank-20 signal plus isotropic noise). Last line: "ratio_all_to_one_cholesky: R".
 * BLAS threads as the environment sets them (OPENBLAS_NUM_THREADS). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "regimes/error.h"
#include "regimes/mnist.h"
#include "regimes/process.h"
#include "regimes/rng.h"
#include "regimes/theory.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_theory_data: %s: %s\n", what, rg_strerror_last());
    return 1;
}

/* P points of dimension N in two classes: rank-20 signal (class-dependent mean on one direction) plus
 * isotropic noise; labels 0/1. */
static rg_data_set *synthetic(size_t P, size_t N)
{
    rg_data_set *s = NULL;
    if (rg_data_set_new(P, N, 1, &s) != RG_OK) return NULL;
    const rg_rng r = { .seed = 3, .stream = RG_STREAM_DATA };
    double z[20];
    for (size_t p = 0; p < P; p++) {
        rg_rng_normals(r, p, 0, s->X + p * N, N);
        rg_rng_normals_d(r, p, 1, z, 20);
        s->labels[p] = (int)(p % 2);
        for (size_t i = 0; i < N; i++) {
            double x = 0.3 * (double)s->X[p * N + i] + (s->labels[p] ? 0.2 : -0.2) * ((i % 7) == 0);
            for (size_t j = 0; j < 20; j++) x += 0.5 * z[j] * sin((double)((i + 1) * (j + 1)));
            s->X[p * N + i] = (float)x;
        }
    }
    return s;
}

/* Labels 10 a + b of paired MNIST as 0..K-1 in order of appearance. */
static void compact_labels(rg_data_set *s)
{
    int map[100];
    for (int i = 0; i < 100; i++) map[i] = -1;
    int K = 0;
    for (size_t i = 0; i < s->P; i++) {
        int l = s->labels[i];
        if (map[l] < 0) map[l] = K++;
        s->labels[i] = map[l];
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "data/mnist";
    rg_mnist_raw *raw = NULL;
    const int mnist = rg_mnist_load(dir, RG_MNIST_TRAIN, &raw) == RG_OK;
    const int digits[2] = { 1, 8 };
    rg_data_set *s1 = NULL, *s2 = NULL;
    if (mnist) {
        if (rg_mnist_select(raw, digits, 2, 5000, 1, NULL, &s1) != RG_OK) return fail("mnist select");
        if (rg_mnist_pairs(raw, digits, 5000, 1.0, (rg_rng){ 1, RG_STREAM_PAIRS }, 1, NULL, &s2) != RG_OK)
            return fail("mnist pairs");
        for (size_t i = 0; i < s1->P; i++) s1->labels[i] = s1->labels[i] == 1 ? 0 : 1;
        compact_labels(s2);
    } else {
        s1 = synthetic(10000, 784);
        s2 = synthetic(5000, 1568);
        if (!s1 || !s2) return fail("synthetic data");
    }
    printf("data: %s\n", mnist ? "MNIST digits 1 and 8" : "synthetic (no MNIST files)");

    /* ou, N = 784 */
    rg_theory_dataset *ds = NULL;
    rg_process *ou = NULL, *gen = NULL;
    rg_theory_dataset_times tt;
    double t0 = now();
    if (rg_theory_dataset_new(s1->X, s1->P, s1->N, s1->labels, &ds) != RG_OK) return fail("dataset (ou)");
    double t1 = now();
    if (rg_process_ou(784, &ou) != RG_OK || rg_theory_dataset_all(ou, ds, (double)s1->P, &tt) != RG_OK)
        return fail("all (ou)");
    double t2 = now();
    double *I = calloc(784 * 784, sizeof *I), v;
    for (size_t i = 0; i < 784; i++) I[i * 784 + i] = 1.0;
    if (!I || rg_process_general(784, I, &gen) != RG_OK) return fail("general process");
    double t3 = now();
    if (rg_theory_dataset_kmax(gen, ds, 1.0, &v) != RG_OK) return fail("kmax (dense path)");
    double t4 = now();
    printf("ou N=784 P=%zu: new %.3f s, all %.4f s (%zu evaluations), one dense-path kmax %.3f s\n", s1->P, t1 - t0,
           t2 - t1, tt.evals, t4 - t3);
    printf("  Lambda %.6f  t_S parent %.6f  exact %.6f  class %.6f  t_C %.6f\n", tt.lambda_max, tt.t_s_parent,
           tt.t_s_exact, tt.t_s_class, tt.t_c);
    printf("ratio_ou_all_to_one_dense_eval: %.4f\n", (t2 - t1) / (t4 - t3));
    rg_theory_dataset_free(ds);
    rg_process_free(gen);
    free(I);

    /* coupled, N = 1568 */
    double M[4];
    rg_process *cp = NULL;
    rg_process_coupling(RG_COUPLING_CROSS, 0.5, M);
    t0 = now();
    if (rg_theory_dataset_new(s2->X, s2->P, s2->N, s2->labels, &ds) != RG_OK) return fail("dataset (coupled)");
    t1 = now();
    if (rg_process_coupled(M, 784, &cp) != RG_OK || rg_theory_dataset_all(cp, ds, (double)s2->P, &tt) != RG_OK)
        return fail("all (coupled)");
    t2 = now();
    if (rg_theory_dataset_collapse_f(cp, ds, (double)s2->P, 1.0, &v) != RG_OK) return fail("collapse_f");
    t3 = now();
    printf("coupled N=1568 P=%zu: new %.3f s, all %.3f s (%zu exact evaluations, %zu scan points settled by "
           "bounds), one Cholesky evaluation %.3f s\n", s2->P, t1 - t0, t2 - t1, tt.evals, tt.certified, t3 - t2);
    printf("  Lambda %.4f  t_S parent %.4f  exact %.4f  class %.4f  t_C %.4f\n", tt.lambda_max, tt.t_s_parent,
           tt.t_s_exact, tt.t_s_class, tt.t_c);
    printf("ratio_all_to_one_cholesky: %.2f\n", (t2 - t1) / (t3 - t2));
    rg_theory_dataset_free(ds);
    rg_process_free(cp);
    rg_process_free(ou);
    rg_data_set_free(s1);
    rg_data_set_free(s2);
    rg_mnist_free(raw);
    return 0;
}
