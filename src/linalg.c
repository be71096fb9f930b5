/* Dense linear algebra on CBLAS/LAPACKE: expm (Pade 13, scaling and squaring), Van Loan moments with
 * doubling, Lyapunov (Bartels-Stewart), eigenvalues, Cholesky, Brent and the largest-root scan.
 * See include/regimes/linalg.h for the contracts and docs/math.md sections 2.2 and 7 for the math. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "regimes/linalg.h"

/* ---- small helpers -------------------------------------------------------------------------- */

static int check_n(size_t n, const char *who)
{
    if (n == 0) RG_FAIL(RG_EINVAL, "%s: matrix size n = 0", who);
    if (n > 46340) RG_FAIL(RG_EINVAL, "%s: matrix size n = %zu is too large for LAPACK int", who, n);
    return RG_OK;
}

static int check_mat(size_t n, const double *A, const char *name, const char *who)
{
    RG_TRY(check_n(n, who));
    if (!A) RG_FAIL(RG_EINVAL, "%s: %s is NULL", who, name);
    if (!rg__all_finite(A, n * n)) RG_FAIL(RG_EINVAL, "%s: %s contains NaN or Inf", who, name);
    return RG_OK;
}

static void set_identity(size_t n, double *Id)
{
    memset(Id, 0, n * n * sizeof *Id);
    for (size_t i = 0; i < n; i++) Id[i * n + i] = 1.0;
}

/* ---- tiled transposing helpers (internal.h) ---------------------------------------------------- */

#define TILE 64

void rg__transpose(size_t n, const double *X, double *Y)
{
    for (size_t ib = 0; ib < n; ib += TILE)
        for (size_t jb = 0; jb < n; jb += TILE)
            for (size_t i = ib; i < ib + TILE && i < n; i++)
                for (size_t j = jb; j < jb + TILE && j < n; j++) Y[j * n + i] = X[i * n + j];
}

/* 1 if X has at most 8 nonzeros per row on average (NaN counts as nonzero): one sequential pass.
 * The helpers below then visit the nonzeros only (every pair with a nonzero member is reached from
 * it; pairs of zeros need nothing): a sweep across the columns of a mostly-zero matrix is slow where
 * all-zero pages are expensive to touch, as on the virtual machines this was measured on. */
static int sparse(size_t n, const double *X)
{
    size_t nnz = 0, cap = 8 * n;
    for (size_t i = 0; i < n * n && nnz <= cap; i++) nnz += X[i] != 0.0;
    return nnz <= cap;
}

/* One pair (lo, up), lo > up, of X: mode 0 symmetrise, 1 antisymmetrise, 2 upper from lower. */
static inline void pair(size_t n, double *X, size_t lo, size_t up, int mode)
{
    const double a = X[lo * n + up], b = X[up * n + lo];
    if (mode == 0) X[lo * n + up] = X[up * n + lo] = 0.5 * (a + b);
    else if (mode == 1) {
        const double q = 0.5 * (a - b);
        X[lo * n + up] = q;
        X[up * n + lo] = -q;
    } else
        X[up * n + lo] = a;
}

/* Every off-diagonal pair of X through pair(): for a sparse X only the pairs with a nonzero member,
 * else in tiles of the lower triangle. */
static void pairs(size_t n, double *X, int mode)
{
    if (sparse(n, X)) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (j != i && X[i * n + j] != 0.0) pair(n, X, i > j ? i : j, i > j ? j : i, mode);
        return;
    }
    for (size_t ib = 0; ib < n; ib += TILE)
        for (size_t jb = 0; jb <= ib; jb += TILE)
            for (size_t i = ib; i < ib + TILE && i < n; i++)
                for (size_t j = jb; j < jb + TILE && j < i; j++) pair(n, X, i, j, mode);
}

void rg__symmetrise(size_t n, double *X) { pairs(n, X, 0); }

void rg__antisymmetrise(size_t n, double *X)
{
    pairs(n, X, 1);
    for (size_t i = 0; i < n; i++) X[i * n + i] = 0.0;
}

void rg__symmetrise_lower(size_t n, double *X) { pairs(n, X, 2); }

/* Sparse matrices (e.g. a diagonal U) on their nonzeros, dense ones in 64 x 64 tiles. */
double rg__asymmetry(size_t n, const double *X, double sign)
{
    double m = 0.0;
    if (sparse(n, X)) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                if (X[i * n + j] == 0.0 && i != j) continue;
                double d = fabs(X[i * n + j] - sign * X[j * n + i]);
                if (!(d <= m)) m = d;
                if (isnan(m)) return m;
            }
        return m;
    }
    for (size_t ib = 0; ib < n; ib += TILE)
        for (size_t jb = 0; jb <= ib; jb += TILE)
            for (size_t i = ib; i < ib + TILE && i < n; i++)
                for (size_t j = jb; j < jb + TILE && j <= i; j++) {
                    double d = fabs(X[i * n + j] - sign * X[j * n + i]);
                    if (!(d <= m)) m = d;
                    if (isnan(m)) return m;
                }
    return m;
}


/* ||A||_1: the largest absolute column sum. */
static double norm1(size_t n, const double *A)
{
    double m = 0.0;
    for (size_t j = 0; j < n; j++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += fabs(A[i * n + j]);
        m = fmax(m, s);
    }
    return m;
}

void rg_linalg_mul(size_t n, const double *A, const double *B, double *C)
{
    int m = (int)n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, A, m, B, m, 0.0, C, m);
}

void rg_linalg_mul_t(size_t n, const double *A, const double *B, double *C)
{
    int m = (int)n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, m, 1.0, A, m, B, m, 0.0, C, m);
}

/* ---- expm: Higham (2005), Pade 13 with scaling and squaring ----------------------------------- */

static const double pade13_b[14] = {
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0,   10559470521600.0,    670442572800.0,     33522128640.0,
    1323241920.0,        40840800.0,          960960.0,           16380.0,
    182.0,               1.0,
};
static const double theta13 = 5.371920351148152;

/* Out = c6 A6 + c4 A4 + c2 A2 (+ c0 I). */
static void poly3(size_t n, double *out, const double *A6, const double *A4, const double *A2, double c6,
                  double c4, double c2, double c0)
{
    for (size_t i = 0; i < n * n; i++) out[i] = c6 * A6[i] + c4 * A4[i] + c2 * A2[i];
    for (size_t i = 0; i < n; i++) out[i * n + i] += c0;
}

/* w: 6 n^2 doubles; ipiv: n. E may alias A (A is read once, into As, before E is written). */
static int expm_core(size_t n, const double *A, double *E, double *w, lapack_int *ipiv)
{
    const size_t nn = n * n;
    const double *b = pade13_b;
    double *As = w, *A2 = As + nn, *A4 = A2 + nn, *A6 = A4 + nn, *U = A6 + nn, *V = U + nn;
    double nrm = norm1(n, A);
    int s = 0;
    while (ldexp(nrm, -s) > theta13) s++;
    for (size_t i = 0; i < nn; i++) As[i] = ldexp(A[i], -s);
    rg_linalg_mul(n, As, As, A2);
    rg_linalg_mul(n, A2, A2, A4);
    rg_linalg_mul(n, A4, A2, A6);
    /* U = As [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I] */
    poly3(n, E, A6, A4, A2, b[13], b[11], b[9], 0.0);
    rg_linalg_mul(n, A6, E, V);
    poly3(n, E, A6, A4, A2, b[7], b[5], b[3], b[1]);
    for (size_t i = 0; i < nn; i++) V[i] += E[i];
    rg_linalg_mul(n, As, V, U);
    /* V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I */
    poly3(n, E, A6, A4, A2, b[12], b[10], b[8], 0.0);
    rg_linalg_mul(n, A6, E, V);
    poly3(n, E, A6, A4, A2, b[6], b[4], b[2], b[0]);
    for (size_t i = 0; i < nn; i++) V[i] += E[i];
    /* (V - U) R = (V + U) */
    for (size_t i = 0; i < nn; i++) {
        As[i] = V[i] - U[i];
        E[i] = V[i] + U[i];
    }
    lapack_int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, As, (lapack_int)n,
                                    ipiv, E, (lapack_int)n);
    if (info != 0) RG_FAIL(RG_ENOCONV, "rg_linalg_expm: Pade denominator is singular (info %d)", (int)info);
    for (int k = 0; k < s; k++) {
        rg_linalg_mul(n, E, E, A2);
        memcpy(E, A2, nn * sizeof *E);
    }
    if (!rg__all_finite(E, nn))
        RG_FAIL(RG_EDOM, "rg_linalg_expm: exp(A) overflows double (||A||_1 = %g)", nrm);
    return RG_OK;
}

int rg_linalg_expm(size_t n, const double *A, double *E)
{
    RG_TRY(check_mat(n, A, "A", "rg_linalg_expm"));
    if (!E) RG_FAIL(RG_EINVAL, "rg_linalg_expm: E is NULL");
    double *w = malloc(6 * n * n * sizeof *w);
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    int st = (w && ipiv) ? expm_core(n, A, E, w, ipiv)
                         : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_linalg_expm: out of memory (n = %zu)", n);
    free(w);
    free(ipiv);
    return st;
}

/* ---- Van Loan + doubling (docs/math.md 2.2) -------------------------------------------------------- */

/* H = h [[-A, 2D], [0, A^T]] (2n x 2n), exponentiated in place; then M = F11, S = F12 F11^T. */
static int vanloan_step(size_t n, const double *A, const double *D, double h, double *H, double *M,
                        double *S, double *F12)
{
    const size_t m = 2 * n;
    memset(H, 0, m * m * sizeof *H);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            H[i * m + j] = -h * A[i * n + j];
            H[i * m + n + j] = D ? 2.0 * h * D[i * n + j] : (i == j ? 2.0 * h : 0.0);
            H[(n + i) * m + n + j] = h * A[j * n + i];
        }
    RG_TRY(rg_linalg_expm(m, H, H));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            M[i * n + j] = H[i * m + j];
            F12[i * n + j] = H[i * m + n + j];
        }
    rg_linalg_mul_t(n, F12, M, S);
    rg__symmetrise(n, S);
    return RG_OK;
}

/* w: 4 n^2 (H) + 4 n^2 doubles. */
static int vanloan_core(size_t n, const double *A, const double *D, double t, double *Mout,
                        double *Sout, double *w)
{
    const size_t nn = n * n;
    double *H = w, *M = H + 4 * nn, *S = M + nn, *T1 = S + nn, *T2 = T1 + nn;
    double hn = t * norm1(n, A);
    int k = 0;
    while (ldexp(hn, -k) > 5.0) k++;
    RG_TRY(vanloan_step(n, A, D, ldexp(t, -k), H, M, S, T1));
    for (int j = 0; j < k; j++) { /* Sigma_2h = M_h Sigma_h M_h^T + Sigma_h, M_2h = M_h M_h */
        rg_linalg_mul(n, M, S, T1);
        rg_linalg_mul_t(n, T1, M, T2);
        for (size_t i = 0; i < nn; i++) S[i] += T2[i];
        rg__symmetrise(n, S);
        rg_linalg_mul(n, M, M, T1);
        memcpy(M, T1, nn * sizeof *M);
    }
    if (!rg__all_finite(M, nn) || !rg__all_finite(S, nn))
        RG_FAIL(RG_EDOM, "rg_linalg_vanloan: moments overflow double at t = %g (unstable A)", t);
    if (Mout) memcpy(Mout, M, nn * sizeof *M);
    if (Sout) memcpy(Sout, S, nn * sizeof *S);
    return RG_OK;
}

int rg_linalg_vanloan(size_t n, const double *A, const double *D, double t, double *M, double *Sigma)
{
    RG_TRY(check_mat(n, A, "A", "rg_linalg_vanloan"));
    if (D && !rg__all_finite(D, n * n)) RG_FAIL(RG_EINVAL, "rg_linalg_vanloan: D contains NaN or Inf");
    if (!(t >= 0.0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "rg_linalg_vanloan: t = %g is not a finite time >= 0", t);
    if (t == 0.0) {
        if (M) set_identity(n, M);
        if (Sigma) memset(Sigma, 0, n * n * sizeof *Sigma);
        return RG_OK;
    }
    if (!M && !Sigma) return RG_OK;
    double *w = malloc(8 * n * n * sizeof *w);
    if (!w) RG_FAIL(RG_ENOMEM, "rg_linalg_vanloan: out of memory (n = %zu)", n);
    int st = vanloan_core(n, A, D, t, M, Sigma, w);
    free(w);
    return st;
}

/* ---- Lyapunov: Bartels-Stewart ---------------------------------------------------------------- */

/* w: 4 n^2 + 2 n doubles. A = Z T Z^T; T Y + Y T^T = Z^T W Z; X = Z Y Z^T. */
static int lyap_core(size_t n, const double *A, const double *W, double *X, double *w)
{
    const size_t nn = n * n;
    const int m = (int)n;
    double *T = w, *Z = T + nn, *C = Z + nn, *tmp = C + nn, *wr = tmp + nn, *wi = wr + n, scale = 1.0;
    lapack_int sdim = 0, info;
    memcpy(T, A, nn * sizeof *T);
    info = LAPACKE_dgees(LAPACK_ROW_MAJOR, 'V', 'N', NULL, m, T, m, &sdim, wr, wi, Z, m);
    if (info > 0) RG_FAIL(RG_ENOCONV, "rg_linalg_lyap: Schur decomposition did not converge (info %d)", (int)info);
    if (info < 0) RG_FAIL(RG_EINVAL, "rg_linalg_lyap: dgees rejected argument %d", (int)-info);
    rg_linalg_mul(n, W, Z, tmp);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, m, 1.0, Z, m, tmp, m, 0.0, C, m);
    info = LAPACKE_dtrsyl(LAPACK_ROW_MAJOR, 'N', 'T', 1, m, m, T, m, T, m, C, m, &scale);
    if (info == 1)
        RG_FAIL(RG_EDOM, "rg_linalg_lyap: A and -A share an eigenvalue (no unique solution)");
    if (info != 0) RG_FAIL(RG_EINVAL, "rg_linalg_lyap: dtrsyl failed (info %d)", (int)info);
    rg_linalg_mul(n, Z, C, tmp);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, m, 1.0 / scale, tmp, m, Z, m, 0.0, X, m);
    rg__symmetrise(n, X);
    if (!rg__all_finite(X, nn))
        RG_FAIL(RG_EDOM, "rg_linalg_lyap: solution overflows (A and -A nearly share an eigenvalue)");
    return RG_OK;
}

int rg_linalg_lyap(size_t n, const double *A, const double *W, double *X)
{
    RG_TRY(check_mat(n, A, "A", "rg_linalg_lyap"));
    RG_TRY(check_mat(n, W, "W", "rg_linalg_lyap"));
    if (!X) RG_FAIL(RG_EINVAL, "rg_linalg_lyap: X is NULL");
    double *w = malloc((4 * n * n + 2 * n) * sizeof *w);
    if (!w) RG_FAIL(RG_ENOMEM, "rg_linalg_lyap: out of memory (n = %zu)", n);
    int st = lyap_core(n, A, W, X, w);
    free(w);
    return st;
}

/* ---- eigenvalues ------------------------------------------------------------------------------ */

int rg_linalg_eigsym(size_t n, const double *A, double *w, double *V)
{
    RG_TRY(check_mat(n, A, "A", "rg_linalg_eigsym"));
    if (!w) RG_FAIL(RG_EINVAL, "rg_linalg_eigsym: w is NULL");
    double *S = V ? V : malloc(n * n * sizeof *S);
    if (!S) RG_FAIL(RG_ENOMEM, "rg_linalg_eigsym: out of memory (n = %zu)", n);
    if (S != A) memcpy(S, A, n * n * sizeof *S);
    rg__symmetrise(n, S);
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, V ? 'V' : 'N', 'U', (lapack_int)n, S,
                                     (lapack_int)n, w);
    if (!V) free(S);
    if (info > 0) RG_FAIL(RG_ENOCONV, "rg_linalg_eigsym: dsyevd did not converge (info %d)", (int)info);
    if (info < 0) RG_FAIL(info == LAPACK_WORK_MEMORY_ERROR ? RG_ENOMEM : RG_EINVAL,
                          "rg_linalg_eigsym: dsyevd failed (info %d)", (int)info);
    return RG_OK;
}

static int eig_cmp(const void *x, const void *y)
{
    const double *a = x, *b = y;
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1];
}

int rg__sort_eig(size_t n, double *wr, double *wi)
{
    double *p = malloc(2 * n * sizeof *p);
    if (!p) RG_FAIL(RG_ENOMEM, "sorting %zu eigenvalues: out of memory", n);
    for (size_t i = 0; i < n; i++) p[2 * i] = wr[i], p[2 * i + 1] = wi[i];
    qsort(p, n, 2 * sizeof *p, eig_cmp); /* equal keys are equal values: stability is moot */
    for (size_t i = 0; i < n; i++) wr[i] = p[2 * i], wi[i] = p[2 * i + 1];
    free(p);
    return RG_OK;
}

int rg_linalg_eig(size_t n, const double *A, double *wr, double *wi)
{
    RG_TRY(check_mat(n, A, "A", "rg_linalg_eig"));
    if (!wr || !wi) RG_FAIL(RG_EINVAL, "rg_linalg_eig: wr or wi is NULL");
    double *B = malloc(n * n * sizeof *B);
    if (!B) RG_FAIL(RG_ENOMEM, "rg_linalg_eig: out of memory (n = %zu)", n);
    memcpy(B, A, n * n * sizeof *B);
    lapack_int info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, B, (lapack_int)n, wr, wi,
                                    NULL, 1, NULL, 1);
    free(B);
    if (info > 0) RG_FAIL(RG_ENOCONV, "rg_linalg_eig: dgeev did not converge (info %d)", (int)info);
    if (info < 0) RG_FAIL(info == LAPACK_WORK_MEMORY_ERROR ? RG_ENOMEM : RG_EINVAL,
                          "rg_linalg_eig: dgeev failed (info %d)", (int)info);
    return rg__sort_eig(n, wr, wi);
}

int rg_linalg_min_real_eig(size_t n, const double *A, double *r)
{
    RG_TRY(check_n(n, "rg_linalg_min_real_eig"));
    if (!r) RG_FAIL(RG_EINVAL, "rg_linalg_min_real_eig: r is NULL");
    double *w = malloc(2 * n * sizeof *w);
    if (!w) RG_FAIL(RG_ENOMEM, "rg_linalg_min_real_eig: out of memory (n = %zu)", n);
    int st = rg_linalg_eig(n, A, w, w + n);
    if (st == RG_OK) *r = w[0];
    free(w);
    return st;
}

/* ---- Cholesky and whitened eigenvalues -------------------------------------------------------- */

int rg_linalg_chol(size_t n, const double *A, double *L)
{
    RG_TRY(check_mat(n, A, "A", "rg_linalg_chol"));
    if (!L) RG_FAIL(RG_EINVAL, "rg_linalg_chol: L is NULL");
    if (L != A) memcpy(L, A, n * n * sizeof *L);
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n);
    if (info > 0) RG_FAIL(RG_EDOM, "matrix is not positive definite (leading minor %d)", (int)info);
    if (info < 0) RG_FAIL(RG_EINVAL, "rg_linalg_chol: dpotrf failed (info %d)", (int)info);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) L[i * n + j] = 0.0;
    return RG_OK;
}

int rg_linalg_whitened_eigs(size_t n, const double *L, const double *B, double *lmax, double *all)
{
    RG_TRY(check_mat(n, L, "L", "rg_linalg_whitened_eigs"));
    RG_TRY(check_mat(n, B, "B", "rg_linalg_whitened_eigs"));
    for (size_t i = 0; i < n; i++)
        if (L[i * n + i] == 0.0) RG_FAIL(RG_EDOM, "rg_linalg_whitened_eigs: L[%zu][%zu] = 0 (singular)", i, i);
    const int m = (int)n;
    double *C = malloc((n * n + n) * sizeof *C), *w = C ? C + n * n : NULL;
    if (!C) RG_FAIL(RG_ENOMEM, "rg_linalg_whitened_eigs: out of memory (n = %zu)", n);
    memcpy(C, B, n * n * sizeof *C);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, m, m, 1.0, L, m, C, m);
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, m, m, 1.0, L, m, C, m);
    int st = rg__all_finite(C, n * n) ? rg_linalg_eigsym(n, C, w, NULL)
                                      : rg__fail(RG_EDOM, __FILE__, __LINE__,
                                                 "rg_linalg_whitened_eigs: L^-1 B L^-T overflows");
    if (st == RG_OK) {
        if (lmax) *lmax = w[n - 1];
        if (all) memcpy(all, w, n * sizeof *all);
    }
    free(C);
    return st;
}

/* ---- symmetry tests --------------------------------------------------------------------------- */

static int check_sym(size_t n, const double *A, double tol, double sign)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double a = A[i * n + j], b = A[j * n + i];
            if (!(fabs(a - sign * b) <= tol * (fabs(a) + fabs(b)) + tol)) return 0;
        }
    return 1;
}

int rg_linalg_is_symmetric(size_t n, const double *A, double tol) { return check_sym(n, A, tol, 1.0); }
int rg_linalg_is_antisymmetric(size_t n, const double *A, double tol) { return check_sym(n, A, tol, -1.0); }

/* ---- root finding ----------------------------------------------------------------------------- */

static int same_sign(double x, double y) { return (x > 0.0 && y > 0.0) || (x < 0.0 && y < 0.0); }

/* Brent's zeroin (Brent 1973, ch. 4; netlib zeroin.f), with [b, c] bracketing the root. */
static int brent_core(rg_linalg_fn f, void *ctx, double a, double b, double fa, double fb, double tol,
                      double *root)
{
    double c = a, fc = fa, d = b - a, e = d;
    for (int it = 0; it < 200; it++) {
        if (same_sign(fb, fc)) {
            c = a;
            fc = fa;
            d = e = b - a;
        }
        if (fabs(fc) < fabs(fb)) {
            a = b; b = c; c = a;
            fa = fb; fb = fc; fc = fa;
        }
        double tol1 = 2.0 * 0x1p-52 * fabs(b) + 0.5 * tol, xm = 0.5 * (c - b);
        if (fabs(xm) <= tol1 || fb == 0.0) {
            *root = b;
            return RG_OK;
        }
        if (fabs(e) >= tol1 && fabs(fa) > fabs(fb)) {
            double s = fb / fa, p, q;
            if (a == c) {
                p = 2.0 * xm * s;
                q = 1.0 - s;
            } else {
                double r = fb / fc;
                q = fa / fc;
                p = s * (2.0 * xm * q * (q - r) - (b - a) * (r - 1.0));
                q = (q - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if (p > 0.0) q = -q;
            p = fabs(p);
            if (2.0 * p < 3.0 * xm * q - fabs(tol1 * q) && p < fabs(0.5 * e * q)) {
                e = d;
                d = p / q;
            } else {
                d = e = xm;
            }
        } else {
            d = e = xm;
        }
        a = b;
        fa = fb;
        b += fabs(d) > tol1 ? d : copysign(tol1, xm);
        fb = f(b, ctx);
        if (isnan(fb)) RG_FAIL(RG_EINVAL, "rg_linalg_brent: f returned NaN at t = %.17g", b);
    }
    RG_FAIL(RG_ENOCONV, "rg_linalg_brent: no convergence in 200 iterations on [%g, %g]", fmin(b, c), fmax(b, c));
}

int rg_linalg_brent(rg_linalg_fn f, void *ctx, double a, double b, double tol, double *root)
{
    if (!f || !root) RG_FAIL(RG_EINVAL, "rg_linalg_brent: NULL f or root");
    if (!isfinite(a) || !isfinite(b) || !(tol > 0.0))
        RG_FAIL(RG_EINVAL, "rg_linalg_brent: bad interval [%g, %g] or tol %g", a, b, tol);
    double fa = f(a, ctx), fb = f(b, ctx);
    if (isnan(fa)) RG_FAIL(RG_EINVAL, "rg_linalg_brent: f returned NaN at t = %.17g", a);
    if (isnan(fb)) RG_FAIL(RG_EINVAL, "rg_linalg_brent: f returned NaN at t = %.17g", b);
    if (fa == 0.0 || fb == 0.0) {
        *root = fa == 0.0 ? a : b;
        return RG_OK;
    }
    if (same_sign(fa, fb))
        RG_FAIL(RG_EINVAL, "rg_linalg_brent: no sign change on [%g, %g] (f = %g, %g)", a, b, fa, fb);
    return brent_core(f, ctx, a, b, fa, fb, tol, root);
}

int rg_linalg_brent_bracket(rg_linalg_fn f, void *ctx, double a, double fa, double b, double fb, double tol,
                            double *root)
{
    if (!f || !root) RG_FAIL(RG_EINVAL, "rg_linalg_brent_bracket: NULL f or root");
    if (!isfinite(a) || !isfinite(b) || !(tol > 0.0) || isnan(fa) || isnan(fb))
        RG_FAIL(RG_EINVAL, "rg_linalg_brent_bracket: bad interval [%g, %g], values (%g, %g) or tol %g", a, b, fa,
                fb, tol);
    if (fa == 0.0 || fb == 0.0) {
        *root = fa == 0.0 ? a : b;
        return RG_OK;
    }
    if (same_sign(fa, fb))
        RG_FAIL(RG_EINVAL, "rg_linalg_brent_bracket: no sign change on [%g, %g] (f = %g, %g)", a, b, fa, fb);
    return brent_core(f, ctx, a, b, fa, fb, tol, root);
}

/* Grid point i of npts, geometric on [lo, hi], endpoints exact. */
static double grid_t(double lo, double hi, size_t i, size_t npts)
{
    if (i == 0) return lo;
    if (i == npts - 1) return hi;
    return lo * exp((double)i / (double)(npts - 1) * log(hi / lo));
}

int rg_linalg_largest_root(rg_linalg_fn f, void *ctx, double lo, double hi, size_t npts, double *root,
                           int *found)
{
    if (!f || !root || !found) RG_FAIL(RG_EINVAL, "rg_linalg_largest_root: NULL argument");
    *found = 0;
    *root = NAN;
    if (!(lo > 0.0) || !(hi > lo) || !isfinite(hi))
        RG_FAIL(RG_EINVAL, "rg_linalg_largest_root: bad interval [%g, %g] (need 0 < lo < hi)", lo, hi);
    if (npts < 400) RG_FAIL(RG_EINVAL, "rg_linalg_largest_root: npts = %zu < 400", npts);
    double t1 = hi, f1 = f(hi, ctx);
    if (isnan(f1)) RG_FAIL(RG_EINVAL, "rg_linalg_largest_root: f returned NaN at t = %.17g", t1);
    if (f1 == 0.0) {
        *root = hi;
        *found = 1;
        return RG_OK;
    }
    for (size_t i = npts - 1; i-- > 0;) {
        double t0 = grid_t(lo, hi, i, npts), f0 = f(t0, ctx);
        if (isnan(f0)) RG_FAIL(RG_EINVAL, "rg_linalg_largest_root: f returned NaN at t = %.17g", t0);
        if (f0 == 0.0) {
            *root = t0;
            *found = 1;
            return RG_OK;
        }
        if (!same_sign(f0, f1)) { /* the largest sign change: refine it to 1e-12 */
            RG_TRY(brent_core(f, ctx, t0, t1, f0, f1, 1e-12, root));
            *found = 1;
            return RG_OK;
        }
        t1 = t0;
        f1 = f0;
    }
    return RG_OK;
}
