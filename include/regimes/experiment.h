/* regimes experiment: the experiments of the toolkit as library calls (docs/math.md 6-8), so that the
 * command line, Python and a user's C program run the same code.
 *
 * A user brings four values: a process (process.h), a score (score.h: exact mixture, empirical,
 * network or any callback), a labeller (below) and the sampler's time grid (sampler.h). Each
 * experiment takes them in a configuration struct, runs, and fills a result struct whose arrays it
 * allocates (free with the matching _free). Nothing here prints, exits or reads the environment.
 *
 *   rg_exp_clone     cloning at branch times t_b: phi(t_b) per labelled mode with bootstrap intervals,
 *                    t_S per mode at the 0.775 crossing, the synchronization gap of two modes
 *                    (docs/math.md 6.6, 8.1, 8.3)
 *   rg_exp_sample    n reverse trajectories: the final samples, their class fractions, and with a
 *                    training set the memorised fraction of the denoised states E[z_0 | z_t] at record
 *                    times, of the final samples, and the last switch of the nearest training point
 *                    (docs/math.md 8.2 c, d)
 *   rg_exp_collapse  the Monte-Carlo excess entropy f(t) of an empirical score at chosen times, its
 *                    measured t_C, beside rg_exp_sample's memorisation measures (docs/math.md 8.2 a)
 *   rg_exp_decay     the decay of the mean |E z_t| of forward Euler-Maruyama paths against the exact
 *                    |M_t z_0|, and the fitted rate (docs/math.md 3.1)
 *   rg_exp_theory    the predictions of a mixture: times per label and criterion, collapse, horizon,
 *                    modes and rates, coupling bounds, phi at chosen times (docs/math.md 7)
 *
 * Trajectory identities and parallel runs. Every random number is addressed by (seed, stream,
 * trajectory id, step) (rng.h), trajectory i of an experiment having id `id0 + i` (clone pairs:
 * sampler.h). Items (clone pairs, trajectories, entropy times) are split into contiguous slices over
 * the ranks of an optional rg_exp_comm; each rank computes its slice and comm->gather collects the
 * slices on rank 0 in item order, where the measurement is made. Results are therefore identical for
 * any number of ranks and threads. A NULL comm is one process. The library never calls MPI itself:
 * the command line supplies MPI hooks (cli/par.c), Python none.
 *
 * Labels. A labeller maps final states to L integer labels per row (one per "mode": the class of a
 * gmm2 sample, the common and difference signs of gmm4, the class of each view of paired images);
 * every label lies in [0, n_classes). phi of mode l at t_b is the fraction of clone pairs whose
 * mode-l labels agree.
 *
 * Errors: RG_EINVAL (NULL, sizes, times not on the grid, labels out of range), RG_ENOMEM, and every
 * error of the process, score, sampler, labeller or comm hooks (passed through). Results are
 * complete only on rank 0; other ranks get RG_OK and empty results.
 */
#ifndef REGIMES_EXPERIMENT_H
#define REGIMES_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "regimes/data.h"
#include "regimes/nn.h"
#include "regimes/process.h"
#include "regimes/sampler.h"
#include "regimes/score.h"
#include "regimes/theory.h"

/* ---- parallel hooks --------------------------------------------------------------------------------- */
typedef enum { RG_EXP_INT, RG_EXP_FLOAT, RG_EXP_DOUBLE } rg_exp_type;

/* Items 0 .. n-1 are split into contiguous slices by rg_exp_slice. gather: buf holds n items of len
 * elements of type on every rank with this rank's slice filled in; on return rank 0 holds all of them.
 * allgather: the same, every rank ends with all. agree: the largest status over ranks (every rank
 * calls it at the same points). Each returns an rg status (RG_EIO with a message on failure). */
typedef struct {
    int rank, size; /* 0 <= rank < size */
    int (*gather)(void *ctx, rg_exp_type type, void *buf, size_t n, size_t len);
    int (*allgather)(void *ctx, rg_exp_type type, void *buf, size_t n, size_t len);
    int (*agree)(void *ctx, int status);
    void *ctx;
} rg_exp_comm;

/* This rank's items [*lo, *hi) of n (the whole range when c is NULL). */
void rg_exp_slice(const rg_exp_comm *c, size_t n, size_t *lo, size_t *hi);

/* Progress: called on every rank with the fraction done in [0, 1]; a non-zero return stops the run
 * with that status (e.g. an interrupt). */
typedef int (*rg_exp_progress)(void *ctx, double fraction);

/* What every sampling experiment needs. */
typedef struct {
    const rg_process *proc;
    rg_score score;            /* score.h; networks and callbacks fit the same interface */
    rg_sampler_method method;  /* sampler.h */
    const double *grid;        /* (n_grid) strictly decreasing time grid; branch/record times on it */
    size_t n_grid;
    uint64_t seed;
    uint64_t id0;              /* first trajectory id of this experiment */
    const rg_exp_comm *comm;   /* NULL: one process */
    rg_exp_progress progress;  /* NULL: none */
    void *progress_ctx;
} rg_exp_run;

/* ---- labellers --------------------------------------------------------------------------------------- */
/* labels (B, n_modes) row-major for the B states X (B, N). */
typedef int (*rg_exp_label_fn)(void *ctx, size_t B, const float *X, int *labels);

typedef struct {
    rg_exp_label_fn label;
    void (*free)(void *ctx); /* frees ctx (rg_exp_labeller_free calls it); NULL: ctx is the caller's */
    void *ctx;
    size_t n_modes;          /* L >= 1 labels per row */
    size_t n_classes;        /* every label in [0, n_classes), n_classes >= 2 */
    const char *names[4];    /* mode names for files ("label", "common", ...); NULL past n_modes */
} rg_exp_labeller;

/* Two-class mixture (docs/math.md 8.4): 0 where m . x >= 0, else 1. m (N) is copied. */
int rg_exp_labeller_sign(size_t N, const double *m, rg_exp_labeller *out);
/* gmm4 (docs/math.md 8.4): mode 0 (common) = [m_c . (x + y) < 0], mode 1 (difference) = [m_d . (x - y) < 0];
 * rows (x, y) of 2d values; m_c, m_d (d) copied. */
int rg_exp_labeller_gmm4(size_t d, const double *m_c, const double *m_d, rg_exp_labeller *out);
/* General mixture: the component with the largest posterior at t = 0 (rg_data_gmm_classify). g must
 * outlive the labeller. */
int rg_exp_labeller_mixture(const rg_data_gmm *g, rg_exp_labeller *out);
/* The nearest of K class means (Euclidean; ties: the smaller index). means (K, N) copied. */
int rg_exp_labeller_nearest_mean(size_t K, size_t N, const double *means, rg_exp_labeller *out);
/* The label of the Euclidean nearest training point (one sgemm per block, rg_measure_nearest2). X (P, N)
 * and labels (P), values in [0, K), are copied. */
int rg_exp_labeller_nearest_point(const float *X, size_t P, size_t N, const int *labels, rg_exp_labeller *out);
/* A classifier network (nn.h, task classifier, n_in inputs, K outputs). Rows hold `views` inputs side
 * by side (N = views n_in: paired images); offset (n_in, or NULL) is added to each view before it is
 * classified (the training mean of centred data). Modes: one class per view; with views = 2 and
 * K = 2 two more modes follow: the shared label c = (s_x + s_y)/2 and the relative label
 * r = (s_x - s_y)/2 of docs/math.md 10.3 (s = +1 for class 0, -1 for class 1), coded 0, 1, 2 for -1, 0, +1.
 * m must outlive the labeller. */
int rg_exp_labeller_classifier(const rg_nn_model *m, const double *offset, size_t views, rg_exp_labeller *out);
void rg_exp_labeller_free(rg_exp_labeller *l); /* NULL or zeroed: no-op */

/* ---- cloning -------------------------------------------------------------------------------------- */
/* Theory of mode l at time t (phi or any curve), for the result's phi_theory column; NAN when none. */
typedef int (*rg_exp_curve_fn)(void *ctx, size_t mode, double t, double *value);

typedef struct {
    rg_exp_run run;
    rg_sampler_trunk trunk; /* independent (the parent's, docs/math.md 6.6) or shared (docs/math.md 11.3) */
    const double *t_b;      /* (n_branch) ascending branch times, grid points above the grid's end */
    size_t n_branch;
    size_t n_pairs;         /* clone pairs per branch time */
    const rg_exp_labeller *lab;
    size_t n_boot;          /* bootstrap replicates, 0: RG_MEASURE_NBOOT */
    double level;           /* crossing level, 0: RG_MEASURE_LEVEL_TS */
    rg_exp_curve_fn theory; /* optional phi theory per mode */
    void *theory_ctx;
} rg_exp_clone_cfg;

typedef struct {
    size_t n_branch, n_modes, n_pairs, n_classes;
    double *t_b;                          /* (m) */
    double *phi, *phi_lo, *phi_hi;        /* (L, m): mode l at t_b[i] is [l * m + i] */
    double *phi_theory;                   /* (L, m), NAN without theory */
    double *t_s, *t_s_lo, *t_s_hi;        /* (L), NAN: no crossing inside the branch times */
    double gap, gap_lo, gap_hi;           /* L == 2: t_S of mode 0 - mode 1 (joint bootstrap), else NAN */
    double *class_frac;                   /* (L, n_classes) label frequencies over every final clone */
    int *labels;                          /* (m, n_pairs, 2 L): clone a's L labels, then clone b's */
} rg_exp_clone_result;

const char *rg_exp_clone_check(const rg_exp_clone_cfg *c); /* NULL if usable, else the reason */
int rg_exp_clone(const rg_exp_clone_cfg *c, rg_exp_clone_result *res);
void rg_exp_clone_result_free(rg_exp_clone_result *r);
/* What makes a result hard to read, one line per finding ("mode 0 (label): ..."), into buf (len bytes,
 * truncated, NUL-terminated); returns the number of findings:
 *   - phi of a mode never crosses the level inside the branch times (t_S is then NAN, not a number);
 *   - unbalanced final labels: the large-t plateau phi_inf = sum_k p_k^2 of the label frequencies p_k
 *     exceeds RG_EXP_PLATEAU_MAX (1/2 for two balanced classes), so the 0.775 crossing is biased. */
#define RG_EXP_PLATEAU_MAX 0.6
size_t rg_exp_clone_warnings(const rg_exp_clone_result *r, const rg_exp_labeller *lab, char *buf, size_t len);

/* ---- sampling and memorisation ------------------------------------------------------------------------ */
typedef struct {
    rg_exp_run run;
    size_t n;                      /* trajectories */
    const rg_exp_labeller *lab;    /* optional: class fractions of the final samples */
    /* Memorisation, optional: the training set (P, N) the score is built from (P >= 2) and decreasing
     * record times on the grid (above its end). */
    const float *train;
    size_t P;
    /* A training set sharded over the ranks of a group (docs/scale.md), optional: train holds the global
     * rows [row_lo, row_lo + rows) of the P rows (the split of rg_score_emp_new_shard), the other rows live
     * on the other ranks of shard, and every rank of the group runs the same items (its comm, run.comm,
     * splits items over groups). The memorised fraction's nearest points are an exact minimum over the
     * group, the collapse entropy draws fetch their rows from the rank that holds them: the results are
     * bit-identical to an unsharded run. NULL: train holds all P rows (row_lo, rows ignored). */
    const rg_score_shard_comm *shard;
    size_t row_lo, rows;
    const double *rec_t;
    size_t n_rec;
    int keep;                      /* 1: keep the final samples in the result */
} rg_exp_sample_cfg;

typedef struct {
    size_t n, N;
    float *x;                      /* (n, N) final states when keep, else NULL */
    size_t n_modes, n_classes;
    double *class_frac;            /* (L, n_classes) with a labeller, else NULL */
    size_t n_rec;
    double *rec_t;                 /* (n_rec) */
    double *mem, *mem_lo, *mem_hi; /* (n_rec) memorised fraction (d1/d2 < 1/3) of E[z_0 | z_t] */
    double mem_final, mem_final_lo, mem_final_hi; /* of the final samples (NAN without train) */
    double *last_switch;           /* (n) the largest record time from which the nearest point stays */
    double *on_final;              /* (n_rec) fraction of trajectories already on their final point */
    double switch_mean, switch_sd;
} rg_exp_sample_result;

/* rg_exp_sample: RG_ENOCONV when a trajectory ends at NaN or Inf (a score that is not finite along it):
 * non-finite samples are never returned. */
const char *rg_exp_sample_check(const rg_exp_sample_cfg *c);
int rg_exp_sample(const rg_exp_sample_cfg *c, rg_exp_sample_result *res);
void rg_exp_sample_result_free(rg_exp_sample_result *r);

/* ---- collapse ---------------------------------------------------------------------------------------- */
typedef struct {
    rg_exp_sample_cfg traj;        /* the trajectories (n may be 0); traj.run.score must be the
                                    * empirical score of train, with extras (score.h) */
    const double *t_f;             /* (n_f) ascending entropy times */
    size_t n_f;
    size_t n_samples;              /* entropy samples per time */
    double level;                  /* 0: RG_MEASURE_LEVEL_TC */
    rg_exp_curve_fn theory;        /* optional f(t) theory (mode 0) */
    void *theory_ctx;
} rg_exp_collapse_cfg;

typedef struct {
    size_t n_f, P, N;
    double alpha;                  /* log P / N */
    double *t_f, *f, *f_lo, *f_hi, *f_theory; /* (n_f); interval f +- 1.96 se; theory NAN without */
    double t_c, t_c_lo, t_c_hi;    /* largest t with f / alpha <= level; NAN: no crossing */
    double t_c_theory;             /* the theory's crossing at the same level (fine grid), or NAN */
    rg_exp_sample_result traj;
} rg_exp_collapse_result;

const char *rg_exp_collapse_check(const rg_exp_collapse_cfg *c);
int rg_exp_collapse(const rg_exp_collapse_cfg *c, rg_exp_collapse_result *res);
void rg_exp_collapse_result_free(rg_exp_collapse_result *r);

/* ---- mean decay (forward process) ---------------------------------------------------------------------- */
typedef struct {
    const rg_process *proc;        /* constant drift */
    const double *z0;              /* (N) the start */
    size_t n_paths, n_groups;      /* Euler-Maruyama paths, in n_groups equal groups (intervals) */
    double h;                      /* Euler-Maruyama step */
    size_t n_t;                    /* curve times 0, dt, ..., (n_t - 1) dt with dt = t_max / (n_t - 1) */
    double t_max;
    double fit_lo, fit_hi;         /* the window of the least-squares fit of log |mean| against t */
    uint64_t seed;
} rg_exp_decay_cfg;

typedef struct {
    size_t n_t, n_groups;
    double *t, *mean, *exact;      /* (n_t): |mean of the paths| and |M_t z0| */
    double *group_rate;            /* (n_groups) fitted rate per group */
    double rate, rate_exact;       /* fitted on all paths, and on the exact curve */
    double rate_lo, rate_hi;       /* the range of the group rates */
} rg_exp_decay_result;

int rg_exp_decay(const rg_exp_decay_cfg *c, rg_exp_decay_result *res);
void rg_exp_decay_result_free(rg_exp_decay_result *r);

/* ---- theory report ------------------------------------------------------------------------------------ */
typedef struct {
    const rg_process *proc;
    const rg_theory_data *data;
    double n_train;                /* P for t_C */
    double horizon_level;          /* 0: 0.01 (docs/math.md 6.2) */
    int symmetric_form;            /* rg_coupling_form of a constant symmetric coupling (bounds and
                                    * gamma*), or -1 */
    const double *phi_t;           /* (n_phi) times for phi of every label, optional */
    size_t n_phi;
} rg_exp_theory_cfg;

typedef struct {
    size_t n_labels, n_modes, n_phi;
    double relaxation_rate;        /* min Re eig(A) */
    double horizon, horizon_min;   /* kappa <= level beyond horizon (INFINITY: none up to 200); 1/(2r) */
    double t_s, t_s_matrix;        /* the latest label's time of each criterion (NAN: none) */
    double t_s_parent;             /* ou: 1/2 log(|m|^2 + sigma^2), the parent's; else NAN */
    double t_c;                    /* collapse for n_train, NAN: none */
    double sync_gap;               /* two labels: t_S(label 0) - t_S(label 1), else NAN */
    double *t_s_label, *t_s_matrix_label; /* (n_labels) */
    double gamma_lo, gamma_hi, gamma_equal; /* symmetric couplings: stable range, gamma*; else NAN */
    double *rate_re, *rate_im;     /* (n_modes) eigenvalues of the core drift, real part ascending */
    double *mode_t_s;              /* (n_modes) per-mode t_S where defined (ou, coupled), else NAN */
    const char **mode_name;        /* (n_modes) static names: "ou", "common", "difference", "mode" */
    double *phi_t, *phi;           /* (n_phi), (n_labels, n_phi) */
} rg_exp_theory_result;

int rg_exp_theory(const rg_exp_theory_cfg *c, rg_exp_theory_result *res);
void rg_exp_theory_result_free(rg_exp_theory_result *r);

#endif
