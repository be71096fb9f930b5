/* regimes CLI: a forward process and its Gaussian-mixture data, built from parsed flags.
 *
 * Only parsing, file reading and library calls live here: every matrix the CLI needs (couplings,
 * optimal Q, eigenvectors for --mean-dir, stationary covariances for --cw Uinv) comes from the
 * library. Files are whitespace-separated text: a matrix is n lines of n numbers, a vector is n
 * numbers in any layout; blank lines and lines starting with '#' are skipped. */
#ifndef REGIMES_CLI_SPEC_H
#define REGIMES_CLI_SPEC_H

#include <stddef.h>

#include "regimes/process.h"
#include "regimes/theory.h"

typedef enum { SPEC_Q_ZERO, SPEC_Q_OPTIMAL, SPEC_Q_FILE } spec_q;

/* Largest dimension of a dense (nonrev, general) process: O(d^3) per time point. */
#define SPEC_DIM_MAX ((size_t)4096)

/* Values of the `regimes theory` flags after parsing (defaults filled in by the caller). */
typedef struct {
    rg_process_kind kind;
    size_t dim;     /* ou/coupled: d (per modality); nonrev diag: D; 0: take it from the file */
    /* coupled */
    rg_coupling_form coupling;
    double gamma;
    int aniso;                       /* any of --gamma-xy/--gamma-yx/--rate-x/--rate-y given */
    double a_x, a_y, g_xy, g_yx;
    const char *schedule;            /* raw --schedule text or NULL */
    /* nonrev / general */
    const char *U;                   /* "diag:LO:HI" or a file */
    spec_q q;
    const char *q_file;
    double q_scale;
    const char *A;                   /* general: file */
    const char *mean_dir;            /* ones|slow|fast|eigen:I|FILE */
    const char *cw;                  /* I|U|Uinv|FILE */
    /* data */
    int dataset;                     /* 1: a data set gives the theory; no mixture is built */
    int gmm4;
    double mean_norm2;               /* gmm2 |m|^2; 0: the dimension N */
    double mc2, md2, sigma2;
} spec_opts;

/* A built process and its data. Owns everything it points to. */
typedef struct {
    rg_process *p;
    rg_theory_data data;
    double M[4];              /* coupled, constant: the 2x2 coupling */
    size_t n_knots;           /* coupled with a schedule: knots (t_i, gamma_i) */
    rg_schedule_interp interp;
    double *knot_t, *knot_g;
    double *pattern, *Cw, norm2[2];
} spec_built;

/* Build o into b. Returns RG_OK, or RG_EINVAL / RG_EIO after one line on stderr (b is then
 * freed). */
int spec_build(const spec_opts *o, spec_built *b);
void spec_free(spec_built *b);

/* Parse "piecewise:T1:G1,T2:G2,..." or "linear:..." (T may be "inf"). *t and *g are malloc'ed (n). */
int spec_parse_schedule(const char *flag, const char *s, rg_schedule_interp *interp, size_t *n,
                        double **t, double **g);
/* Read a square matrix (*n x *n, malloc'ed) or a vector (*n numbers) from path (rg_io_matrix_read):
 * at most max_n rows or numbers (0: SPEC_DIM_MAX). RG_OK, or one line "FLAG: PATH:LINE: ..." and a status. */
int spec_read_matrix(const char *flag, const char *path, size_t max_n, size_t *n, double **A);
int spec_read_vector(const char *flag, const char *path, size_t max_n, size_t *n, double **v);

#endif
