/* The Lelievre-Nier-Pavliotis optimal non-reversible perturbation (docs/math.md 4.1), step by step.
 *
 * Everything happens in the eigenbasis of U. E holds the eigenvectors v_i as rows (ascending
 * eigenvalues, largest-magnitude component positive); the rotations of step 2 act on coefficient
 * rows C (psi = sum_i C_i v_i), starting from the identity, so that with Lambda = diag(lambda):
 *     Psi = E^T C^T,   Ubar = C Lambda C^T,   Q = G^T Jbar G  with  G = C Lambda^{-1/2} E,
 * which is U^{-1/2} Psi Jbar Psi^T U^{-1/2} with one GEMM fewer per factor. The rotations touch two
 * rows of length n each: O(n^2) in all; the products are three GEMMs and one SYRK. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "internal.h"
#include "regimes/linalg.h"
#include "regimes/nonrev.h"

#define NONREV_MAX_N 4096
/* U and Q come from files or from products such as inv(Sigma): rounding leaves them symmetric or
 * antisymmetric to ~1e-15 relative. 1e-10 of the largest entry accepts that and rejects any real
 * asymmetry. The symmetric (antisymmetric) part is then used. */
#define NONREV_SYM_RTOL 1e-10

static double max_abs(size_t n, const double *A)
{
    double m = 0.0;
    for (size_t i = 0; i < n * n; i++) m = fmax(m, fabs(A[i]));
    return m;
}

/* sign = +1: is A symmetric; sign = -1: antisymmetric, to NONREV_SYM_RTOL of the largest entry. A
 * tiled pass decides; only a failure walks the rows again, for the first offending pair. */
static int check_symmetry(size_t n, const double *A, double sign, size_t *bad_i, size_t *bad_j)
{
    double tol = NONREV_SYM_RTOL * max_abs(n, A);
    if (rg__asymmetry(n, A, sign) <= tol) return 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            if (!(fabs(A[i * n + j] - sign * A[j * n + i]) <= tol)) {
                *bad_i = i;
                *bad_j = j;
                return 0;
            }
    return 1;
}

static int check_size(size_t n, const char *what)
{
    if (n == 0) RG_FAIL(RG_EINVAL, "%s: n = 0", what);
    if (n > NONREV_MAX_N) RG_FAIL(RG_EINVAL, "%s: n = %zu exceeds %d", what, n, NONREV_MAX_N);
    return RG_OK;
}

static int check_u(size_t n, const double *U, const char *what)
{
    size_t i, j;
    if (!U) RG_FAIL(RG_EINVAL, "%s: U is NULL", what);
    if (!rg__all_finite(U, n * n)) RG_FAIL(RG_EINVAL, "%s: U contains NaN or Inf", what);
    if (!check_symmetry(n, U, 1.0, &i, &j))
        RG_FAIL(RG_EDOM, "%s: U is not symmetric (U[%zu][%zu] = %.17g, U[%zu][%zu] = %.17g)", what, i, j,
                U[i * n + j], j, i, U[j * n + i]);
    return RG_OK;
}

/* Eigenpairs of the symmetric part of U, with docs/math.md 4.1's conventions: w ascending, E row k =
 * eigenvector k with its largest-magnitude component (first such index) positive. RG_EDOM unless
 * every eigenvalue exceeds n eps lambda_max (below that dsyevd cannot tell it from zero). */
static int cmp_pair(const void *x, const void *y)
{
    const double *a = x, *b = y; /* (value, index): ascending value */
    return (a[0] > b[0]) - (a[0] < b[0]);
}

/* Diagonal U with distinct diagonal entries: its eigenpairs without dsyevd (which returns exactly
 * these: the sorted diagonal and signed unit vectors, here with the + sign of the convention).
 * Returns 1 when it applied. w, E as eig_spd; pairs: 2 n scratch. */
static int eig_diagonal(size_t n, const double *U, double *w, double *E, double *pairs)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && U[i * n + j] != 0.0) return 0;
    for (size_t i = 0; i < n; i++) pairs[2 * i] = U[i * n + i], pairs[2 * i + 1] = (double)i;
    qsort(pairs, n, 2 * sizeof *pairs, cmp_pair);
    for (size_t k = 1; k < n; k++)
        if (!(pairs[2 * k] > pairs[2 * k - 2])) return 0; /* repeated: leave the tie order to dsyevd */
    memset(E, 0, n * n * sizeof *E);
    for (size_t k = 0; k < n; k++) {
        w[k] = pairs[2 * k];
        E[k * n + (size_t)pairs[2 * k + 1]] = 1.0;
    }
    return 1;
}

static int eig_spd(size_t n, const double *U, double *w, double *E, const char *what)
{
    RG_TRY(check_u(n, U, what));
    double *pairs = malloc(2 * n * sizeof *pairs);
    if (!pairs) RG_FAIL(RG_ENOMEM, "%s: out of memory (n = %zu)", what, n);
    int diag = eig_diagonal(n, U, w, E, pairs);
    free(pairs);
    if (diag) {
        double floor = (double)n * DBL_EPSILON * fabs(w[n - 1]);
        if (!(w[0] > floor))
            RG_FAIL(RG_EDOM, "%s: U is not positive definite (smallest eigenvalue %.3g, needs > %.3g)", what,
                    w[0], floor);
        return RG_OK;
    }
    memcpy(E, U, n * n * sizeof *E);
    rg__symmetrise(n, E);
    /* U symmetric: column-major input is the same matrix, and the column-major output has the
     * eigenvectors contiguous, i.e. as the rows of E. */
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)n, E, (lapack_int)n, w);
    if (info < 0) RG_FAIL(RG_ENOMEM, "%s: dsyevd failed (info %d, out of memory?)", what, (int)info);
    if (info > 0) RG_FAIL(RG_ENOCONV, "%s: dsyevd did not converge (info %d)", what, (int)info);
    double floor = (double)n * DBL_EPSILON * fabs(w[n - 1]);
    if (!(w[0] > floor))
        RG_FAIL(RG_EDOM, "%s: U is not positive definite (smallest eigenvalue %.3g, needs > %.3g)", what,
                w[0], floor);
    for (size_t k = 0; k < n; k++) {
        double *v = E + k * n;
        size_t at = 0;
        for (size_t i = 1; i < n; i++)
            if (fabs(v[i]) > fabs(v[at])) at = i;
        if (v[at] < 0.0) cblas_dscal((int)n, -1.0, v, 1);
    }
    return RG_OK;
}

static double trace_mean(size_t n, const double *U)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += U[i * n + i];
    return s / (double)n;
}

/* Remove position p from the ordered list (slot, c) of length *len, keeping the order. */
static void list_remove(size_t *slot, double *c, size_t *len, size_t p)
{
    memmove(slot + p, slot + p + 1, (*len - p - 1) * sizeof *slot);
    memmove(c + p, c + p + 1, (*len - p - 1) * sizeof *c);
    (*len)--;
}

/* Step 2 in coefficients: Cf row k = psi_k (k in creation order) in the eigenbasis. C: (n, n)
 * scratch, c: (n) scratch, slot: (n) scratch. List position p holds row slot[p] of C, value c[p]. */
static void equal_diagonal_coeffs(size_t n, const double *w, double tau, double *C, double *c,
                                  size_t *slot, double *Cf)
{
    size_t len = n, made = 0;
    memset(C, 0, n * n * sizeof *C);
    for (size_t i = 0; i < n; i++) {
        C[i * n + i] = 1.0;
        c[i] = w[i];
        slot[i] = i;
    }
    while (len > 1) {
        size_t a = 0, b = 0;
        for (size_t p = 1; p < len; p++) {
            if (c[p] > c[a]) a = p;
            if (c[p] < c[b]) b = p;
        }
        if (!(c[a] - c[b] >= 1e-12 * tau)) break;                 /* docs/math.md 4.1: already equal */
        double span = c[a] - c[b];
        double cs = sqrt(fmin(1.0, fmax(0.0, (tau - c[b]) / span)));   /* cos^2 = (tau - c_b)/span */
        double sn = sqrt(fmin(1.0, fmax(0.0, (c[a] - tau) / span)));   /* sin^2 = 1 - cos^2 */
        double *va = C + slot[a] * n, *vb = C + slot[b] * n;
        cblas_drot((int)n, va, 1, vb, 1, cs, sn);   /* va <- cs va + sn vb = psi; vb <- psi_perp */
        memcpy(Cf + made++ * n, va, n * sizeof *va);
        double c_new = c[a] + c[b] - tau;
        size_t s_new = slot[b];
        list_remove(slot, c, &len, a > b ? a : b);                  /* the later position first */
        list_remove(slot, c, &len, a > b ? b : a);
        slot[len] = s_new;                                          /* psi_perp at the END */
        c[len++] = c_new;
    }
    for (size_t p = 0; p < len; p++) memcpy(Cf + made++ * n, C + slot[p] * n, n * sizeof *C);
    RG_ASSERT(made == n);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static int check_omega(size_t n, const double *omega)
{
    if (!omega) return RG_OK;
    if (!rg__all_finite(omega, n)) RG_FAIL(RG_EINVAL, "rg_nonrev_optimal_q: omega contains NaN or Inf");
    for (size_t k = 0; k < n; k++)
        if (!(omega[k] > 0.0))
            RG_FAIL(RG_EINVAL, "rg_nonrev_optimal_q: omega[%zu] = %g is not positive", k, omega[k]);
    double *s = malloc(n * sizeof *s);
    if (!s) RG_FAIL(RG_ENOMEM, "rg_nonrev_optimal_q: out of memory (%zu doubles)", n);
    memcpy(s, omega, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    for (size_t k = 1; k < n; k++)
        if (s[k] == s[k - 1]) {
            double v = s[k];
            free(s);
            RG_FAIL(RG_EINVAL, "rg_nonrev_optimal_q: omega values are not distinct (%g repeats)", v);
        }
    free(s);
    return RG_OK;
}

/* Workspace of the construction: three (n, n) blocks and three n-vectors. */
typedef struct {
    double *E, *C, *Cf, *w, *c;
    size_t *slot;
} nonrev_work;

static void work_free(nonrev_work *ws)
{
    free(ws->E);
    free(ws->C);
    free(ws->Cf);
    free(ws->w);
    free(ws->c);
    free(ws->slot);
}

static int work_alloc(size_t n, nonrev_work *ws)
{
    ws->E = malloc(n * n * sizeof *ws->E);
    ws->C = malloc(n * n * sizeof *ws->C);
    ws->Cf = malloc(n * n * sizeof *ws->Cf);
    ws->w = malloc(n * sizeof *ws->w);
    ws->c = malloc(n * sizeof *ws->c);
    ws->slot = malloc(n * sizeof *ws->slot);
    if (ws->E && ws->C && ws->Cf && ws->w && ws->c && ws->slot) return RG_OK;
    work_free(ws);
    RG_FAIL(RG_ENOMEM, "rg_nonrev: out of memory (n = %zu)", n);
}

/* Steps 1-2: eigenpairs in ws->w, ws->E and the basis coefficients in ws->Cf. */
static int build_basis(size_t n, const double *U, nonrev_work *ws, double *tau, const char *what)
{
    RG_TRY(eig_spd(n, U, ws->w, ws->E, what));
    *tau = trace_mean(n, U);
    equal_diagonal_coeffs(n, ws->w, *tau, ws->C, ws->c, ws->slot, ws->Cf);
    return RG_OK;
}

/* Jbar_kl = Ubar_kl (w_k + w_l) / (w_l - w_k) for k != l, 0 on the diagonal (step 5), in place on a
 * full symmetric Ubar (exactly antisymmetric after: the two quotients differ by the sign only). */
static void jbar(size_t n, const double *omega, double *J)
{
    for (size_t k = 0; k < n; k++) {
        double wk = omega ? omega[k] : (double)(k + 1);
        J[k * n + k] = 0.0;
        for (size_t l = 0; l < n; l++) {
            double wl = omega ? omega[l] : (double)(l + 1);
            if (l != k && J[k * n + l] != 0.0) J[k * n + l] = J[k * n + l] * (wk + wl) / (wl - wk);
        }
    }
}

/* Steps 3-6, dense: Q = G^T Jbar G, G = Cf Lambda^{-1/2} E (one SYRK, three GEMMs). Overwrites ws. */
static void assemble_dense(size_t n, nonrev_work *ws, const double *omega, double *Q)
{
    const int m = (int)n;
    double *Jb = ws->C;
    for (size_t i = 0; i < n; i++)                   /* Cf <- Cf Lambda^{1/2}, row by row */
        for (size_t j = 0; j < n; j++) ws->Cf[i * n + j] *= sqrt(ws->w[j]);
    for (size_t j = 0; j < n; j++) cblas_dscal(m, 1.0 / ws->w[j], ws->E + j * n, 1); /* E <- Lambda^-1 E */
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, m, m, 1.0, ws->Cf, m, 0.0, Jb, m); /* Ubar */
    rg__symmetrise_lower(n, Jb);
    jbar(n, omega, Jb);
    /* G = (Cf Lambda^{1/2}) (Lambda^{-1} E) into Q; T = Jbar G into Cf; Q^T-ish product into E. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, ws->Cf, m, ws->E, m, 0.0, Q, m);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, Jb, m, Q, m, 0.0, ws->Cf, m);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, m, 1.0, Q, m, ws->Cf, m, 0.0, ws->E, m);
    rg__antisymmetrise(n, ws->E);                    /* exact antisymmetry: Q = (Q - Q^T) / 2 */
    memcpy(Q, ws->E, n * n * sizeof *Q);
}

/* The nonzeros of Cf, by row (CSR: rp, ci, cv) and by column (CSC: cp, ri, rv). */
typedef struct {
    size_t *rp, *ci, *cp, *ri;
    double *cv, *rv;
} nonrev_sparse;

static int sparse_from(size_t n, const double *Cf, size_t nnz, nonrev_sparse *sp)
{
    sp->rp = calloc(2 * (n + 1) + 2 * nnz, sizeof *sp->rp);
    sp->cv = malloc(2 * nnz * sizeof *sp->cv);
    if (!sp->rp || !sp->cv) {
        free(sp->rp);
        free(sp->cv);
        RG_FAIL(RG_ENOMEM, "rg_nonrev: out of memory (n = %zu)", n);
    }
    sp->cp = sp->rp + n + 1;
    sp->ci = sp->cp + n + 1;
    sp->ri = sp->ci + nnz;
    sp->rv = sp->cv + nnz;
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < n; i++)
            if (Cf[k * n + i] != 0.0) {
                sp->ci[at] = i;
                sp->cv[at++] = Cf[k * n + i];
                sp->cp[i + 1]++;
            }
        sp->rp[k + 1] = at;
    }
    for (size_t i = 0; i < n; i++) sp->cp[i + 1] += sp->cp[i];
    /* CSC filled in row order: rows ascending inside each column */
    size_t *fill = malloc(n * sizeof *fill);
    if (!fill) {
        free(sp->rp);
        free(sp->cv);
        RG_FAIL(RG_ENOMEM, "rg_nonrev: out of memory (n = %zu)", n);
    }
    memcpy(fill, sp->cp, n * sizeof *fill);
    for (size_t k = 0; k < n; k++)
        for (size_t q = sp->rp[k]; q < sp->rp[k + 1]; q++) {
            size_t i = sp->ci[q];
            sp->ri[fill[i]] = k;
            sp->rv[fill[i]++] = sp->cv[q];
        }
    free(fill);
    return RG_OK;
}

/* Steps 3-6 on the nonzeros of Cf (few when the rotations pair a handful of eigenvectors, e.g. for
 * diag:LO:HI, two per row): Ubar = Cf Lambda Cf^T, T = Jbar Cf, Q' = Lambda^{-1/2} Cf^T T Lambda^{-1/2}
 * in O(n^2 + n nnz), then Q = E^T Q' E (a permutation when U is diagonal, else two GEMMs). */
static int assemble_sparse(size_t n, nonrev_work *ws, const double *omega, size_t nnz, double *Q)
{
    nonrev_sparse sp = { 0 };
    RG_TRY(sparse_from(n, ws->Cf, nnz, &sp));
    double *Ub = ws->C, *T = ws->Cf;
    memset(Ub, 0, n * n * sizeof *Ub);
    for (size_t i = 0; i < n; i++) /* Ubar_kl = sum_i Cf_ki lambda_i Cf_li */
        for (size_t p = sp.cp[i]; p < sp.cp[i + 1]; p++)
            for (size_t q = sp.cp[i]; q < sp.cp[i + 1]; q++)
                Ub[sp.ri[p] * n + sp.ri[q]] += sp.rv[p] * ws->w[i] * sp.rv[q];
    jbar(n, omega, Ub);
    memset(T, 0, n * n * sizeof *T); /* T = Jbar Cf */
    for (size_t k = 0; k < n; k++)
        for (size_t l = 0; l < n; l++) {
            double j = Ub[k * n + l];
            if (j == 0.0) continue;
            for (size_t q = sp.rp[l]; q < sp.rp[l + 1]; q++) T[k * n + sp.ci[q]] += j * sp.cv[q];
        }
    memset(Q, 0, n * n * sizeof *Q); /* Q' = Cf^T T */
    for (size_t k = 0; k < n; k++)
        for (size_t q = sp.rp[k]; q < sp.rp[k + 1]; q++)
            cblas_daxpy((int)n, sp.cv[q], T + k * n, 1, Q + sp.ci[q] * n, 1);
    free(sp.rp);
    free(sp.cv);
    for (size_t i = 0; i < n; i++) ws->c[i] = sqrt(ws->w[i]); /* c is free after step 2 */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) Q[i * n + j] /= ws->c[i] * ws->c[j];
    /* Q = E^T Q' E: E is a permutation for diagonal U (row k = e_perm(k)) */
    size_t *perm = malloc(n * sizeof *perm);
    if (!perm) RG_FAIL(RG_ENOMEM, "rg_nonrev: out of memory (n = %zu)", n);
    int is_perm = 1;
    for (size_t k = 0; k < n && is_perm; k++) {
        size_t ones = 0;
        for (size_t i = 0; i < n; i++) {
            double e = ws->E[k * n + i];
            if (e == 1.0) perm[k] = i, ones++;
            else if (e != 0.0) ones = 2;
        }
        is_perm = ones == 1;
    }
    const int m = (int)n;
    if (is_perm) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) ws->C[perm[i] * n + perm[j]] = Q[i * n + j];
    } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, Q, m, ws->E, m, 0.0, ws->Cf, m);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, m, 1.0, ws->E, m, ws->Cf, m, 0.0, ws->C, m);
    }
    free(perm);
    rg__antisymmetrise(n, ws->C);                    /* exact antisymmetry: Q = (Q - Q^T) / 2 */
    memcpy(Q, ws->C, n * n * sizeof *Q);
    return RG_OK;
}

/* Sparse basis coefficients: at most this many nonzeros per row on average. */
#define NONREV_SPARSE_PER_ROW 8

static int assemble_q(size_t n, nonrev_work *ws, const double *omega, double *Q)
{
    size_t nnz = 0;
    for (size_t i = 0; i < n * n; i++) nnz += ws->Cf[i] != 0.0;
    if (nnz <= NONREV_SPARSE_PER_ROW * n) return assemble_sparse(n, ws, omega, nnz, Q);
    assemble_dense(n, ws, omega, Q);
    return RG_OK;
}

int rg_nonrev_optimal_q(size_t n, const double *U, const double *omega, double *Q)
{
    const char *what = "rg_nonrev_optimal_q";
    nonrev_work ws;
    double tau;
    RG_TRY(check_size(n, what));
    if (!Q) RG_FAIL(RG_EINVAL, "%s: Q is NULL", what);
    RG_TRY(check_omega(n, omega));
    RG_TRY(work_alloc(n, &ws));
    int st = build_basis(n, U, &ws, &tau, what);
    if (st == RG_OK) st = assemble_q(n, &ws, omega, Q);
    work_free(&ws);
    return st;
}

int rg_nonrev_equal_diagonal_basis(size_t n, const double *U, double *Psi)
{
    const char *what = "rg_nonrev_equal_diagonal_basis";
    nonrev_work ws;
    double tau;
    RG_TRY(check_size(n, what));
    if (!Psi) RG_FAIL(RG_EINVAL, "%s: Psi is NULL", what);
    RG_TRY(work_alloc(n, &ws));
    int st = build_basis(n, U, &ws, &tau, what);
    if (st == RG_OK)      /* Psi = E^T Cf^T: column k is psi_k */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, (int)n, (int)n, (int)n, 1.0, ws.E, (int)n,
                    ws.Cf, (int)n, 0.0, Psi, (int)n);
    work_free(&ws);
    return st;
}

/* Largest singular value of the (n, n) matrix B (destroyed). */
static int norm2(size_t n, double *B, double *s, double *superb, double *out)
{
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, (lapack_int)n, B,
                                     (lapack_int)n, s, NULL, 1, NULL, 1, superb);
    if (info < 0) RG_FAIL(RG_ENOMEM, "rg_nonrev_prefactor: dgesvd failed (info %d)", (int)info);
    if (info > 0) RG_FAIL(RG_ENOCONV, "rg_nonrev_prefactor: dgesvd did not converge (info %d)", (int)info);
    *out = s[0];
    return RG_OK;
}

/* Whitened drift At = U + U^{1/2} Q U^{1/2} (docs/math.md 2.6) into At, using E, T as scratch. */
static int whitened_drift(size_t n, const double *U, const double *Q, double *w, double *E, double *T,
                          double *At)
{
    const int m = (int)n;
    RG_TRY(eig_spd(n, U, w, E, "rg_nonrev_prefactor"));
    for (size_t k = 0; k < n; k++) {                          /* T = Lambda^{1/4} E */
        double r = sqrt(sqrt(w[k]));
        for (size_t i = 0; i < n; i++) T[k * n + i] = r * E[k * n + i];
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, m, 1.0, T, m, T, m, 0.0, E, m); /* U^1/2 */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, E, m, Q, m, 0.0, T, m);
    memcpy(At, U, n * n * sizeof *At);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, T, m, E, m, 1.0, At, m);
    return RG_OK;
}

static int check_prefactor_args(size_t n, const double *Q, size_t n_t, const double *t,
                                const double *prefactor)
{
    size_t i, j;
    RG_TRY(check_size(n, "rg_nonrev_prefactor"));
    if (!Q || !t || !prefactor) RG_FAIL(RG_EINVAL, "rg_nonrev_prefactor: NULL argument");
    if (n_t == 0) RG_FAIL(RG_EINVAL, "rg_nonrev_prefactor: no times (n_t = 0)");
    if (!rg__all_finite(Q, n * n)) RG_FAIL(RG_EINVAL, "rg_nonrev_prefactor: Q contains NaN or Inf");
    if (!check_symmetry(n, Q, -1.0, &i, &j))
        RG_FAIL(RG_EDOM, "rg_nonrev_prefactor: Q is not antisymmetric (Q[%zu][%zu] = %.17g, "
                "Q[%zu][%zu] = %.17g)", i, j, Q[i * n + j], j, i, Q[j * n + i]);
    for (size_t k = 0; k < n_t; k++)
        if (!(t[k] >= 0.0) || !isfinite(t[k]))
            RG_FAIL(RG_EINVAL, "rg_nonrev_prefactor: t[%zu] = %g is not a finite time >= 0", k, t[k]);
    return RG_OK;
}

static int prefactor_sup(size_t n, const double *U, const double *Q, size_t n_t, const double *t,
                         double *buf, double *prefactor)
{
    double *E = buf, *T = E + n * n, *At = T + n * n, *w = At + n * n, *s = w + n, *superb = s + n;
    double tau = trace_mean(n, U), sup = 0.0;
    RG_TRY(whitened_drift(n, U, Q, w, E, T, At));
    for (size_t k = 0; k < n_t; k++) {
        double nrm = 0.0;
        for (size_t i = 0; i < n * n; i++) T[i] = -t[k] * At[i];
        RG_TRY(rg_linalg_expm(n, T, T));
        RG_TRY(norm2(n, T, s, superb, &nrm));
        sup = fmax(sup, nrm * exp(tau * t[k]));
    }
    *prefactor = sup;
    return RG_OK;
}

int rg_nonrev_prefactor(size_t n, const double *U, const double *Q, size_t n_t, const double *t,
                        double *prefactor)
{
    RG_TRY(check_prefactor_args(n, Q, n_t, t, prefactor));
    double *buf = malloc((3 * n * n + 3 * n) * sizeof *buf);
    if (!buf) RG_FAIL(RG_ENOMEM, "rg_nonrev_prefactor: out of memory (n = %zu)", n);
    int st = prefactor_sup(n, U, Q, n_t, t, buf, prefactor);
    free(buf);
    return st;
}

double rg_nonrev_entropy_production(size_t n, const double *U, const double *Q)
{
    if (n == 0) return 0.0;
    if (!U || !Q) {
        rg__fail(RG_EINVAL, __FILE__, __LINE__, "rg_nonrev_entropy_production: NULL argument");
        return NAN;
    }
    double *QU = malloc(n * n * sizeof *QU);
    if (!QU) {
        rg__fail(RG_ENOMEM, __FILE__, __LINE__, "rg_nonrev_entropy_production: out of memory (n = %zu)", n);
        return NAN;
    }
    const int m = (int)n;   /* tr(Q^T Q U) = <Q, Q U>_F */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, Q, m, U, m, 0.0, QU, m);
    double s = 0.0;
    for (size_t i = 0; i < n * n; i++) s += Q[i] * QU[i];
    free(QU);
    return s;
}
