/* The modal form of a constant drift: factor A once, then every moment at any t in O(n^2) modal work
 * (docs/math.md 2.2: M_t = e^{-A t}, Sigma_t = Sigma_inf - M_t Sigma_inf M_t^T).
 *
 * A R = R Lambda with R real: a real eigenvalue a keeps its eigenvector as a column; a complex pair
 * a +- ib keeps the real and imaginary parts x, y of one eigenvector as two adjacent columns, where
 * A [x y] = [x y] [[a, -b], [b, a]]. With V = R P, P block diagonal with blocks [[1, 1], [-i, i]]
 * (index j of the pair carries a + ib, j + 1 carries a - ib), V diagonalises A. In the complex modal
 * coordinates the Lyapunov equation is elementwise (mu_jk = lambda_j + conj lambda_k):
 *     S_inf = W / mu (W = V^-1 2 V^-*),   S_t = S_inf (1 - e^{-mu t}),   E_t = diag(e^{-lambda t}).
 * The real modal blocks follow by P: Sigma~_t = R^-1 Sigma_t R^-T = P S_t P^*. Where (a_j + a_k) t >=
 * ln 2 the product form Sigma~_inf - E Sigma~_inf E^T keeps full relative accuracy (|1 - e^{-mu t}| >=
 * 1/2) and needs no transcendental per entry; below it each entry takes 1 - e^{-z} from its own
 * expm1/sin/cos (OMZ_* below), exact as t -> 0.
 *
 * Everything runs on row-major arrays; LAPACK is called in column-major on transposed views so that
 * LAPACKE never copies (its row-major wrappers transpose every matrix twice). */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "regimes/linalg.h"

/* The product form 1 - e^{-x} e^{-iy} keeps its relative accuracy (error <= 4 eps) once x >= ln 2. */
#define MODAL_PRODUCT_X 0.6931471805599453
/* 1 - e^{-z} by its Taylor series for |z|^2 < 0.25: 20 terms leave 0.5^21 / 21! ~ 1e-26. */
#define OMZ_SERIES_R2 0.25
#define OMZ_SERIES_TERMS 20

static const double complex IU = CMPLX(0.0, 1.0); /* <complex.h>'s I is float complex */

struct rg_linalg_modal {
    size_t n;
    double *R, *Ri; /* (n, n) row-major: the real modal basis and its inverse */
    double *S;      /* (n, n) Sigma~_inf = R^-1 Sigma_inf R^-T, full symmetric */
    double *a, *b;  /* (n) each: Re and Im part of index j's eigenvalue (b as in the block, per pair) */
    unsigned char *kind; /* (n): 0 real eigenvalue, 1 first of a pair, 2 second of a pair */
    double cond, rate;   /* cond_1(R) and r = min Re lambda */
    double resid;        /* relative Lyapunov residual of the reconstructed Sigma_inf (modal_residual) */
    /* A that decouples (its sparsity graph has nc > 1 connected components) is factored block by
     * block: component c holds modal indices [coff[c], coff[c+1]) and the original indices
     * cidx[coff[c] .. coff[c+1]); R and R^-1 are zero between components. nc = 1: one dense block. */
    size_t nc, *coff, *cidx;
    size_t *comp; /* (n) component of each modal index */
};

/* ---- small helpers ---------------------------------------------------------------------------- */

/* 1 - e^{-(x + iy)} with full relative accuracy (series near 0; 1 - e^{-x} cos y as -expm1(-x) cos y
 * + 2 sin^2(y/2), which never cancels for x >= 0). */
static double complex one_minus_exp(double x, double y)
{
    if (x * x + y * y < OMZ_SERIES_R2) {
        double complex z = CMPLX(x, y), term = z, sum = z;
        for (int k = 2; k <= OMZ_SERIES_TERMS; k++) {
            term *= -z / (double)k;
            sum += term;
        }
        return sum;
    }
    double h = sin(0.5 * y);
    return CMPLX(-expm1(-x) * cos(y) + 2.0 * h * h, exp(-x) * sin(y));
}

/* Size (1 or 2) of the block starting at index i, and the eigenvalue of index i in complex form. */
static size_t block_size(const rg_linalg_modal *m, size_t i) { return m->kind[i] == 1 ? 2 : 1; }

static double complex lambda_of(const rg_linalg_modal *m, size_t i)
{
    return CMPLX(m->a[i], m->kind[i] == 2 ? -m->b[i] : m->b[i]);
}

/* Real block X (sI x sJ, row stride 2) -> complex P_I^-1 X P_J^-* (2x2, stride 2). P^-1 for a pair is
 * 1/2 [[1, i], [1, -i]]; for a real index it is [1]. */
static void to_complex(size_t sI, size_t sJ, const double *X, double complex *Z)
{
    double complex T[4];
    for (size_t q = 0; q < sJ; q++) { /* T = P_I^-1 X */
        if (sI == 1) T[q] = X[q];
        else {
            T[q] = 0.5 * CMPLX(X[q], X[2 + q]);
            T[2 + q] = 0.5 * CMPLX(X[q], -X[2 + q]);
        }
    }
    for (size_t p = 0; p < sI; p++) { /* Z = T P_J^-*, P_J^-* = 1/2 [[1, 1], [-i, i]] */
        if (sJ == 1) Z[2 * p] = T[2 * p];
        else {
            Z[2 * p] = 0.5 * (T[2 * p] - IU * T[2 * p + 1]);
            Z[2 * p + 1] = 0.5 * (T[2 * p] + IU * T[2 * p + 1]);
        }
    }
}

/* Complex Z (2x2 stride 2) -> real P_I Z P_J^* (real part), P = [[1, 1], [-i, i]]. */
static void to_real(size_t sI, size_t sJ, const double complex *Z, double *X)
{
    double complex T[4];
    for (size_t q = 0; q < sJ; q++) { /* T = P_I Z */
        if (sI == 1) T[q] = Z[q];
        else {
            T[q] = Z[q] + Z[2 + q];
            T[2 + q] = -IU * Z[q] + IU * Z[2 + q];
        }
    }
    for (size_t p = 0; p < sI; p++) { /* X = T P_J^*, P_J^* = [[1, i], [1, -i]] */
        if (sJ == 1) X[2 * p] = creal(T[2 * p]);
        else {
            X[2 * p] = creal(T[2 * p] + T[2 * p + 1]);
            X[2 * p + 1] = creal(IU * T[2 * p] - IU * T[2 * p + 1]);
        }
    }
}

/* Load the (sI x sJ) block at (i, j) of the row-major n x n X into B (stride 2), and store back. */
static void load_block(size_t n, const double *X, size_t i, size_t j, size_t sI, size_t sJ, double *B)
{
    for (size_t p = 0; p < sI; p++)
        for (size_t q = 0; q < sJ; q++) B[2 * p + q] = X[(i + p) * n + j + q];
}

/* B <- Rot_I B Rot_J^T with Rot = [[c, s], [-s, c]] for a pair, [1] for a real index. */
static void rotate_block(size_t sI, size_t sJ, const double *cs, size_t i, size_t j, double *B)
{
    if (sI == 2) {
        double c = cs[2 * i], s = cs[2 * i + 1];
        for (size_t q = 0; q < sJ; q++) {
            double x = B[q], y = B[2 + q];
            B[q] = c * x + s * y;
            B[2 + q] = -s * x + c * y;
        }
    }
    if (sJ == 2) {
        double c = cs[2 * j], s = cs[2 * j + 1];
        for (size_t p = 0; p < sI; p++) {
            double x = B[2 * p], y = B[2 * p + 1];
            B[2 * p] = c * x + s * y;
            B[2 * p + 1] = -s * x + c * y;
        }
    }
}

/* ---- construction ----------------------------------------------------------------------------- */

void rg_linalg_modal_free(rg_linalg_modal *m)
{
    if (!m) return;
    free(m->R);
    free(m->Ri);
    free(m->S);
    free(m->a);
    free(m->b);
    free(m->kind);
    free(m->coff);
    free(m->cidx);
    free(m->comp);
    free(m);
}

static rg_linalg_modal *modal_alloc(size_t n)
{
    rg_linalg_modal *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->n = n;
    m->R = malloc(n * n * sizeof *m->R);
    m->Ri = malloc(n * n * sizeof *m->Ri);
    m->S = malloc(n * n * sizeof *m->S);
    m->a = malloc(n * sizeof *m->a);
    m->b = malloc(n * sizeof *m->b);
    m->kind = malloc(n);
    if (m->R && m->Ri && m->S && m->a && m->b && m->kind) return m;
    rg_linalg_modal_free(m);
    return NULL;
}

/* ||X||_1 (largest column sum) of a row-major n x n X, reading rows in order; cs: n scratch. */
static double norm1_rows(size_t n, const double *X, double *cs)
{
    memset(cs, 0, n * sizeof *cs);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) cs[j] += fabs(X[i * n + j]);
    double m = 0.0;
    for (size_t j = 0; j < n; j++) m = fmax(m, cs[j]);
    return m;
}

/* One dense block: A (s, s) row-major -> R (s, s) with A R = R Lambda, Ri = R^-1, eigenvalues wr,
 * wi (b of each pair on both its indices), kinds. dgeev's left eigenvectors of the column-major view
 * A^T are right eigenvectors of A for conj(lambda). w: 2 s^2 scratch; ipiv: s. */
static int factor_block(size_t s, const double *A, double *R, double *Ri, double *wr, double *wi,
                        unsigned char *kind, double *w, lapack_int *ipiv)
{
    const lapack_int ls = (lapack_int)s;
    double *B = w, *VL = w + s * s;
    memcpy(B, A, s * s * sizeof *B);
    lapack_int info = LAPACKE_dgeev(LAPACK_COL_MAJOR, 'V', 'N', ls, B, ls, wr, wi, VL, ls, NULL, ls);
    if (info > 0) RG_FAIL(RG_ENOCONV, "rg_linalg_modal: dgeev did not converge (info %d)", (int)info);
    if (info < 0) RG_FAIL(info == LAPACK_WORK_MEMORY_ERROR ? RG_ENOMEM : RG_EINVAL,
                          "rg_linalg_modal: dgeev failed (info %d)", (int)info);
    /* column j of VL (contiguous) is u_j; for a pair (wi_j > 0) u = x + iy with x = VL(:, j), y =
     * VL(:, j + 1) and A u = (a - ib) u, so A x = a x + b y, A y = -b x + a y: the block
     * [[a, -b], [b, a]] with b = wi_j. */
    rg__transpose(s, VL, R);
    for (size_t j = 0; j < s; j++) {
        if (wi[j] == 0.0) kind[j] = 0;
        else if (wi[j] > 0.0 && j + 1 < s) {
            kind[j] = 1;
            kind[j + 1] = 2;
            wi[j + 1] = wi[j];
            j++;
        } else
            RG_FAIL(RG_ENOCONV, "rg_linalg_modal: dgeev returned an unpaired complex eigenvalue");
    }
    /* Ri = R^-1: LU on the transposed view (inverting R^T column-major is R^-1 row-major) */
    memcpy(Ri, R, s * s * sizeof *Ri);
    info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, ls, ls, Ri, ls, ipiv);
    if (info == 0) info = LAPACKE_dgetri(LAPACK_COL_MAJOR, ls, Ri, ls, ipiv);
    if (info > 0) RG_FAIL(RG_EDOM, "rg_linalg_modal: the eigenvector basis is singular (A is defective)");
    if (info < 0) RG_FAIL(RG_ENOMEM, "rg_linalg_modal: inverting the eigenvector basis failed (info %d)", (int)info);
    return RG_OK;
}

static size_t uf_find(size_t *parent, size_t i)
{
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

/* Connected components of the sparsity graph of A into m->nc, coff, cidx (components in order of
 * their smallest index, indices ascending inside each). parent, lab: n scratch each. */
static int modal_components(rg_linalg_modal *m, const double *A, size_t *parent, size_t *lab)
{
    size_t n = m->n;
    for (size_t i = 0; i < n; i++) parent[i] = i;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (j != i && A[i * n + j] != 0.0) {
                size_t a = uf_find(parent, i), b = uf_find(parent, j);
                if (a != b) parent[a > b ? a : b] = a < b ? a : b;
            }
    m->nc = 0;
    for (size_t i = 0; i < n; i++) { /* roots are the smallest index of their component */
        size_t r = uf_find(parent, i);
        lab[i] = r == i ? m->nc++ : lab[r];
    }
    m->coff = calloc(m->nc + 1, sizeof *m->coff);
    m->cidx = malloc(n * sizeof *m->cidx);
    m->comp = malloc(n * sizeof *m->comp);
    if (!m->coff || !m->cidx || !m->comp) RG_FAIL(RG_ENOMEM, "rg_linalg_modal_new: out of memory (n = %zu)", n);
    for (size_t i = 0; i < n; i++) m->coff[lab[i] + 1]++;
    for (size_t c = 0; c < m->nc; c++) m->coff[c + 1] += m->coff[c];
    for (size_t c = 0; c < m->nc; c++) parent[c] = m->coff[c]; /* parent reused: next slot per component */
    for (size_t i = 0; i < n; i++) m->cidx[parent[lab[i]]++] = i;
    for (size_t c = 0; c < m->nc; c++)
        for (size_t j = m->coff[c]; j < m->coff[c + 1]; j++) m->comp[j] = c;
    return RG_OK;
}

/* The whole factorisation: R, Ri, eigenvalues, kinds, rate, and W = 2 R^-1 R^-T (full). Component by
 * component when A decouples. w: 2 n^2 + 2 n scratch (W lands in w). */
static int modal_factor(rg_linalg_modal *m, const double *A, double *w, lapack_int *ipiv)
{
    size_t n = m->n;
    size_t *scratch = (size_t *)(w + 2 * n * n); /* 2 n size_t fit in 2 n doubles */
    RG_TRY(modal_components(m, A, scratch, scratch + n));
    if (m->nc == 1) {
        RG_TRY(factor_block(n, A, m->R, m->Ri, m->a, m->b, m->kind, w, ipiv));
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)n, (int)n, 2.0, m->Ri, (int)n, 0.0, w, (int)n);
        rg__symmetrise_lower(n, w);
    } else {
        memset(m->R, 0, n * n * sizeof *m->R);
        memset(m->Ri, 0, n * n * sizeof *m->Ri);
        memset(w, 0, n * n * sizeof *w);
        for (size_t c = 0; c < m->nc; c++) {
            size_t off = m->coff[c], sz = m->coff[c + 1] - off;
            const size_t *idx = m->cidx + off;
            double *Ab = w + n * n, *Rb = Ab + sz * sz, *Rib = Rb + sz * sz, *Wb = Rib + sz * sz, *fw = Wb + sz * sz;
            if (5 * sz * sz + 2 * sz * sz > n * n) { /* a large component: its own scratch */
                Ab = malloc(7 * sz * sz * sizeof *Ab);
                if (!Ab) RG_FAIL(RG_ENOMEM, "rg_linalg_modal_new: out of memory (block %zu)", sz);
                Rb = Ab + sz * sz, Rib = Rb + sz * sz, Wb = Rib + sz * sz, fw = Wb + sz * sz;
            }
            for (size_t p = 0; p < sz; p++)
                for (size_t q = 0; q < sz; q++) Ab[p * sz + q] = A[idx[p] * n + idx[q]];
            int st = factor_block(sz, Ab, Rb, Rib, m->a + off, m->b + off, m->kind + off, fw, ipiv);
            if (st == RG_OK) {
                cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)sz, (int)sz, 2.0, Rib, (int)sz, 0.0, Wb,
                            (int)sz);
                for (size_t p = 0; p < sz; p++)
                    for (size_t q = 0; q < sz; q++) {
                        m->R[idx[p] * n + off + q] = Rb[p * sz + q];
                        m->Ri[(off + q) * n + idx[p]] = Rib[q * sz + p];
                        w[(off + p) * n + off + q] = Wb[(p >= q ? p * sz + q : q * sz + p)];
                    }
            }
            if (Ab != w + n * n) free(Ab);
            RG_TRY(st);
        }
    }
    m->rate = INFINITY;
    for (size_t j = 0; j < n; j++) m->rate = fmin(m->rate, m->a[j]);
    return RG_OK;
}

/* S = Sigma~_inf from W = 2 R^-1 R^-T (full, in W): S_jk = W_jk / (lambda_j + conj lambda_k) in complex
 * modal coordinates, blockwise; zero between components. */
static void modal_sinf(rg_linalg_modal *m, const double *W)
{
    size_t n = m->n;
    if (m->nc > 1) memset(m->S, 0, n * n * sizeof *m->S);
    for (size_t c = 0; c < m->nc; c++) {
        size_t lo = m->coff[c], hi = m->coff[c + 1];
        for (size_t i = lo; i < hi; i += block_size(m, i))
            for (size_t j = lo; j <= i; j += block_size(m, j)) {
                size_t sI = block_size(m, i), sJ = block_size(m, j);
                double X[4];
                double complex Z[4];
                load_block(n, W, i, j, sI, sJ, X);
                to_complex(sI, sJ, X, Z);
                for (size_t p = 0; p < sI; p++)
                    for (size_t q = 0; q < sJ; q++)
                        Z[2 * p + q] /= lambda_of(m, i + p) + conj(lambda_of(m, j + q));
                to_real(sI, sJ, Z, X);
                for (size_t p = 0; p < sI; p++)
                    for (size_t q = 0; q < sJ; q++) m->S[(i + p) * n + j + q] = X[2 * p + q];
            }
    }
    rg__symmetrise_lower(n, m->S);
}

/* y = Sigma_inf x = R Sigma~_inf R^T x; w: n scratch. */
static void sinf_apply(const rg_linalg_modal *m, const double *x, double *y, double *w)
{
    const int ni = (int)m->n;
    cblas_dgemv(CblasRowMajor, CblasTrans, ni, ni, 1.0, m->R, ni, x, 1, 0.0, y, 1);
    cblas_dsymv(CblasRowMajor, CblasLower, ni, 1.0, m->S, ni, y, 1, 0.0, w, 1);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, ni, ni, 1.0, m->R, ni, w, 1, 0.0, y, 1);
}

/* A-posteriori check of the whole factorisation: the relative Lyapunov residual of the reconstructed
 * Sigma_inf = R Sigma~_inf R^T on MODAL_PROBES fixed dense probes v,
 *     |A S v + S A^T v - 2 v| / (2 ||A||_1 |S v| + 2 |v|)   (worst probe).
 * It tracks the real error of the moments (about 1/30 of the error of Sigma_t at the 2x2 exceptional
 * point of docs/math.md 4.5, where that error grows like cond(R)^2 eps). w: 5 n scratch. */
#define MODAL_PROBES 2
static double modal_residual(const rg_linalg_modal *m, const double *A, double *w)
{
    size_t n = m->n;
    const int ni = (int)n;
    double *v = w, *sv = v + n, *r = sv + n, *t = r + n, *u = t + n, worst = 0.0, a1 = 0.0;
    for (size_t j = 0; j < n; j++) { /* ||A||_1 */
        double c = 0.0;
        for (size_t i = 0; i < n; i++) c += fabs(A[i * n + j]);
        a1 = fmax(a1, c);
    }
    for (int k = 0; k < MODAL_PROBES; k++) {
        for (size_t i = 0; i < n; i++) v[i] = sin(0.7548776662466927 * (double)(i + 1) * (double)(k + 1) + 0.3 * k);
        sinf_apply(m, v, sv, u);                                                    /* S v */
        cblas_dgemv(CblasRowMajor, CblasNoTrans, ni, ni, 1.0, A, ni, sv, 1, 0.0, r, 1); /* A S v */
        cblas_dgemv(CblasRowMajor, CblasTrans, ni, ni, 1.0, A, ni, v, 1, 0.0, t, 1);    /* A^T v */
        sinf_apply(m, t, u, t + 0);                                                 /* S A^T v */
        double num = 0.0, nv = 0.0, nsv = 0.0;
        for (size_t i = 0; i < n; i++) {
            double e = r[i] + u[i] - 2.0 * v[i];
            num += e * e;
            nv += v[i] * v[i];
            nsv += sv[i] * sv[i];
        }
        double rel = sqrt(num) / (2.0 * a1 * sqrt(nsv) + 2.0 * sqrt(nv));
        if (!(rel <= worst)) worst = rel;
    }
    return worst;
}

int rg_linalg_modal_new(size_t n, const double *A, double tol, rg_linalg_modal **out)
{
    if (!out) RG_FAIL(RG_EINVAL, "rg_linalg_modal_new: out is NULL");
    *out = NULL;
    if (n == 0 || n > 46340) RG_FAIL(RG_EINVAL, "rg_linalg_modal_new: matrix size n = %zu out of range", n);
    if (!A || !rg__all_finite(A, n * n)) RG_FAIL(RG_EINVAL, "rg_linalg_modal_new: A is NULL or not finite");
    if (!(tol > 0.0)) RG_FAIL(RG_EINVAL, "rg_linalg_modal_new: tol = %g must be > 0", tol);
    rg_linalg_modal *m = modal_alloc(n);
    double *w = malloc((2 * n * n + 5 * n) * sizeof *w);
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    int st = m && w && ipiv ? RG_OK
                            : rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_linalg_modal_new: out of memory (n = %zu)", n);
    if (st == RG_OK) st = modal_factor(m, A, w, ipiv);
    if (st == RG_OK && !(m->rate > 0.0))
        st = rg__fail(RG_EDOM, __FILE__, __LINE__, "rg_linalg_modal: drift is not stable: min Re eig(A) = %g <= 0",
                      m->rate);
    if (st == RG_OK) {
        m->cond = norm1_rows(n, m->R, w + 2 * n * n) * norm1_rows(n, m->Ri, w + 2 * n * n);
        modal_sinf(m, w);
        m->resid = modal_residual(m, A, w + 2 * n * n);
        if (!(m->resid <= tol))
            st = rg__fail(RG_EDOM, __FILE__, __LINE__,
                          "rg_linalg_modal: modal form too inaccurate (Lyapunov residual %.3g > %.3g, cond_1(R) = "
                          "%.3g): A is (nearly) defective", m->resid, tol, m->cond);
    }
    free(w);
    free(ipiv);
    if (st != RG_OK) {
        rg_linalg_modal_free(m);
        return st;
    }
    *out = m;
    return RG_OK;
}

/* ---- queries ------------------------------------------------------------------------------------ */

size_t rg_linalg_modal_dim(const rg_linalg_modal *m) { return m->n; }
double rg_linalg_modal_cond(const rg_linalg_modal *m) { return m->cond; }
double rg_linalg_modal_rate(const rg_linalg_modal *m) { return m->rate; }
double rg_linalg_modal_residual(const rg_linalg_modal *m) { return m->resid; }

size_t rg_linalg_modal_blocks(const rg_linalg_modal *m, const size_t **off)
{
    if (off) *off = m->coff;
    return m->nc;
}

void rg_linalg_modal_eigenvalues(const rg_linalg_modal *m, double *re, double *im)
{
    for (size_t j = 0; j < m->n; j++) {
        re[j] = m->a[j];
        im[j] = m->kind[j] == 2 ? -m->b[j] : m->b[j];
    }
}

void rg_linalg_modal_vec(const rg_linalg_modal *m, const double *x, double *xt)
{
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m->n, (int)m->n, 1.0, m->Ri, (int)m->n, x, 1, 0.0, xt, 1);
}

double rg_linalg_modal_dual_norm2(const rg_linalg_modal *m, const double *y, double *work)
{
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)m->n, (int)m->n, 1.0, m->Ri, (int)m->n, y, 1, 0.0, work, 1);
    double s = 0.0;
    for (size_t i = 0; i < m->n; i++) s += work[i] * work[i];
    return s;
}

int rg_linalg_modal_congruence(const rg_linalg_modal *m, const double *L, double *C)
{
    size_t n = m->n;
    const int ni = (int)n;
    if (!L && m->nc == 1) { /* C = R^-1 R^-T */
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, ni, ni, 1.0, m->Ri, ni, 0.0, C, ni);
        rg__symmetrise_lower(n, C);
        return RG_OK;
    }
    if (!L) { /* block diagonal: rows of R^-1 in different components have disjoint supports */
        memset(C, 0, n * n * sizeof *C);
        for (size_t c = 0; c < m->nc; c++)
            for (size_t i = m->coff[c]; i < m->coff[c + 1]; i++)
                for (size_t j = m->coff[c]; j <= i; j++) {
                    double acc = 0.0;
                    for (size_t p = m->coff[c]; p < m->coff[c + 1]; p++)
                        acc += m->Ri[i * n + m->cidx[p]] * m->Ri[j * n + m->cidx[p]];
                    C[i * n + j] = C[j * n + i] = acc;
                }
        return RG_OK;
    }
    double *X = malloc(n * n * sizeof *X);
    if (!X) RG_FAIL(RG_ENOMEM, "rg_linalg_modal_congruence: out of memory (n = %zu)", n);
    memcpy(X, m->Ri, n * n * sizeof *X); /* X = R^-1 L, then C = X X^T */
    cblas_dtrmm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, ni, ni, 1.0, L, ni, X, ni);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, ni, ni, 1.0, X, ni, 0.0, C, ni);
    free(X);
    rg__symmetrise_lower(n, C);
    return RG_OK;
}

/* ---- per-t moments ---------------------------------------------------------------------------- */

/* cs[2i], cs[2i+1] = cos(b_i t), sin(b_i t) (1, 0 for a real index); g[i] = e^{-(a_i - r) t} <= 1. */
static void time_factors(const rg_linalg_modal *m, double t, double *cs, double *g)
{
    for (size_t i = 0; i < m->n; i++) {
        g[i] = exp(-(m->a[i] - m->rate) * t);
        cs[2 * i] = m->kind[i] ? cos(m->b[i] * t) : 1.0;
        cs[2 * i + 1] = m->kind[i] ? sin(m->b[i] * t) : 0.0;
    }
}

/* y = G Rot x (trans = 0) or (G Rot)^T x (trans = 1), blockwise: e^{rt} E_t or its transpose. */
static void apply_e(const rg_linalg_modal *m, const double *cs, const double *g, int trans, const double *x,
                    double *y)
{
    for (size_t i = 0; i < m->n; i += block_size(m, i)) {
        if (m->kind[i] == 0) {
            y[i] = g[i] * x[i];
            continue;
        }
        double c = cs[2 * i], s = trans ? -cs[2 * i + 1] : cs[2 * i + 1], x0 = x[i], x1 = x[i + 1];
        y[i] = g[i] * (c * x0 + s * x1);
        y[i + 1] = g[i] * (-s * x0 + c * x1);
    }
}

int rg_linalg_modal_prop(const rg_linalg_modal *m, double t, const double *x, double *y)
{
    if (!(t >= 0.0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "rg_linalg_modal_prop: t = %g is not a finite time >= 0", t);
    double *cs = malloc(3 * m->n * sizeof *cs);
    if (!cs) RG_FAIL(RG_ENOMEM, "rg_linalg_modal_prop: out of memory (n = %zu)", m->n);
    time_factors(m, t, cs, cs + 2 * m->n);
    apply_e(m, cs, cs + 2 * m->n, 0, x, y);
    free(cs);
    return RG_OK;
}

/* Block (i, j) of Sigma~_t into X (stride 2); e2 = e^{-2rt}. */
static void sigma_block(const rg_linalg_modal *m, double t, const double *cs, const double *g, double e2,
                        size_t i, size_t j, size_t sI, size_t sJ, double *X)
{
    double x = (m->a[i] + m->a[j]) * t;
    load_block(m->n, m->S, i, j, sI, sJ, X);
    if (x >= MODAL_PRODUCT_X) { /* Sigma~_inf - E Sigma~_inf E^T */
        double Y[4], h = e2 * g[i] * g[j];
        memcpy(Y, X, sizeof Y);
        rotate_block(sI, sJ, cs, i, j, Y);
        for (size_t p = 0; p < sI; p++)
            for (size_t q = 0; q < sJ; q++) X[2 * p + q] -= h * Y[2 * p + q];
        return;
    }
    double complex Z[4];
    to_complex(sI, sJ, X, Z);
    for (size_t p = 0; p < sI; p++)
        for (size_t q = 0; q < sJ; q++) {
            double y = cimag(lambda_of(m, i + p) + conj(lambda_of(m, j + q))) * t;
            Z[2 * p + q] *= one_minus_exp(x, y);
        }
    to_real(sI, sJ, Z, X);
}

int rg_linalg_modal_cov(const rg_linalg_modal *m, double t, const double *C, int blocks, double *Out)
{
    size_t n = m->n;
    if (!(t >= 0.0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "rg_linalg_modal_cov: t = %g is not a finite time >= 0", t);
    double *cs = malloc(3 * n * sizeof *cs);
    if (!cs) RG_FAIL(RG_ENOMEM, "rg_linalg_modal_cov: out of memory (n = %zu)", n);
    double *g = cs + 2 * n, e2 = exp(-2.0 * m->rate * t);
    time_factors(m, t, cs, g);
    for (size_t i = 0; i < n; i += block_size(m, i))
        for (size_t j = 0; j <= i; j += block_size(m, j)) {
            if (m->comp[i] != m->comp[j] && (!C || blocks)) { /* Sigma~ (and C) vanish between components */
                j = m->coff[m->comp[j] + 1] - 1;
                continue;
            }
            size_t sI = block_size(m, i), sJ = block_size(m, j);
            double X[4], Y[4];
            sigma_block(m, t, cs, g, e2, i, j, sI, sJ, X);
            if (C) { /* + E_I C_IJ E_J^T, E_I = e^{-rt} g_I Rot_I */
                double h = e2 * g[i] * g[j];
                load_block(n, C, i, j, sI, sJ, Y);
                rotate_block(sI, sJ, cs, i, j, Y);
                for (size_t p = 0; p < sI; p++)
                    for (size_t q = 0; q < sJ; q++) X[2 * p + q] += h * Y[2 * p + q];
            }
            for (size_t p = 0; p < sI; p++)
                for (size_t q = 0; q < sJ && j + q <= i + p; q++) Out[(i + p) * n + j + q] = X[2 * p + q];
        }
    free(cs);
    return RG_OK;
}

int rg_linalg_modal_congr(const rg_linalg_modal *m, double t, const double *C, int blocks, double *Out)
{
    size_t n = m->n;
    if (!(t >= 0.0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "rg_linalg_modal_congr: t = %g is not a finite time >= 0", t);
    double *cs = malloc(3 * n * sizeof *cs);
    if (!cs) RG_FAIL(RG_ENOMEM, "rg_linalg_modal_congr: out of memory (n = %zu)", n);
    double *g = cs + 2 * n;
    time_factors(m, t, cs, g);
    for (size_t i = 0; i < n; i += block_size(m, i))
        for (size_t j = 0; j <= i; j += block_size(m, j)) {
            if (blocks && m->comp[i] != m->comp[j]) {
                j = m->coff[m->comp[j] + 1] - 1;
                continue;
            }
            size_t sI = block_size(m, i), sJ = block_size(m, j);
            double Y[4];
            load_block(n, C, i, j, sI, sJ, Y);
            rotate_block(sI, sJ, cs, i, j, Y);
            for (size_t p = 0; p < sI; p++)
                for (size_t q = 0; q < sJ && j + q <= i + p; q++) Out[(i + p) * n + j + q] = g[i] * g[j] * Y[2 * p + q];
        }
    free(cs);
    return RG_OK;
}

int rg_linalg_modal_moments(const rg_linalg_modal *m, double t, double *M, double *Sigma)
{
    size_t n = m->n;
    const int ni = (int)n;
    if (!(t >= 0.0) || !isfinite(t)) RG_FAIL(RG_EINVAL, "rg_linalg_modal_moments: t = %g is not a finite time >= 0", t);
    if (!M && !Sigma) return RG_OK;
    double *X = malloc((2 * n * n + 3 * n) * sizeof *X);
    if (!X) RG_FAIL(RG_ENOMEM, "rg_linalg_modal_moments: out of memory (n = %zu)", n);
    double *Y = X + n * n, *cs = Y + n * n, *g = cs + 2 * n;
    int st = RG_OK;
    if (M) { /* M = e^{-rt} (R G Rot) R^-1: each row of R times G Rot, then one GEMM */
        time_factors(m, t, cs, g);
        for (size_t i = 0; i < n; i++) apply_e(m, cs, g, 1, m->R + i * n, X + i * n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, exp(-m->rate * t), X, ni, m->Ri, ni,
                    0.0, M, ni);
    }
    if (Sigma) { /* Sigma = R Sigma~_t R^T */
        if (m->nc > 1) memset(X, 0, n * n * sizeof *X);
        st = rg_linalg_modal_cov(m, t, NULL, 0, X);
        if (st == RG_OK) {
            cblas_dsymm(CblasRowMajor, CblasRight, CblasLower, ni, ni, 1.0, X, ni, m->R, ni, 0.0, Y, ni);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ni, ni, ni, 1.0, Y, ni, m->R, ni, 0.0, Sigma, ni);
            rg__symmetrise(n, Sigma);
        }
    }
    free(X);
    return st;
}
