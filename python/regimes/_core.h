/* regimes._core: the CPython extension over libregimes (NumPy C API), compiled against the library's
 * own headers, so every struct it fills is checked by the compiler (no layout is mirrored by hand).
 *
 * Files: _core.c (module, errors, arrays, threads), _core_process.c (processes, noise schedules, grids),
 * _core_mixture.c (mixtures and their theory), _core_data.c (data sets, MNIST, classifier networks),
 * _core_score.c (scores, Python callables), _core_label.c (labellers, theory curves), _core_exp.c
 * (clone, sample, collapse).
 * Conventions: every library call that can take long runs with the interpreter lock released
 * (Py_BEGIN_ALLOW_THREADS); a non-OK status becomes regimes.Error carrying rg_strerror_last(). */
#ifndef REGIMES_PY_CORE_H
#define REGIMES_PY_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL regimes_core_ARRAY_API
#ifndef RG_PY_IMPORT_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "regimes/regimes.h"

/* regimes.Error (a subclass of Exception with .status, the library's code name). */
extern PyObject *rg_py_error;
/* Raise regimes.Error for status st with the library's last message; returns NULL. */
PyObject *rg_py_fail(int st);
/* The same with st's message prefixed by what (e.g. "score"). */
PyObject *rg_py_failf(int st, const char *what);

/* Arrays. Each returns a new reference to a C-contiguous, aligned array of the type (no copy when the
 * argument already is one), or NULL with ValueError/TypeError naming `name`. nd < 0: any dimension. */
PyArrayObject *rg_py_f64(PyObject *o, const char *name, int nd);
PyArrayObject *rg_py_f32(PyObject *o, const char *name, int nd);
/* Integer labels (any integer or bool dtype) as C int, every value in [0, INT_MAX]. */
PyArrayObject *rg_py_labels(PyObject *o, const char *name, int nd);
/* A new array of the given shape owning a copy of data (n = product of dims elements). */
PyObject *rg_py_copy_f64(const double *data, int nd, const npy_intp *dims);
/* A NumPy array over a malloc'ed buffer; the array frees it (no copy). On failure the buffer is freed. */
PyObject *rg_py_own(void *data, int nd, const npy_intp *dims, int type);
/* dict[key] = value (value's reference is stolen; NULL value: returns -1). */
int rg_py_set(PyObject *d, const char *key, PyObject *value);
int rg_py_setf(PyObject *d, const char *key, double x);

/* ---- objects shared across files --------------------------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    rg_process *p;
} rg_py_process;
extern PyTypeObject rg_py_process_type;

typedef struct {
    PyObject_HEAD
    rg_data_gmm *g;
} rg_py_mixture;
extern PyTypeObject rg_py_mixture_type;

/* Mixture data as the theory sees it (theory.h rg_theory_data): copies of its arrays. */
typedef struct {
    PyObject_HEAD
    rg_theory_data d;
    double *pattern, *mean_norm2, *Cw; /* owned */
    size_t k;
} rg_py_mixture_theory;
extern PyTypeObject rg_py_mixture_theory_type;

typedef struct {
    PyObject_HEAD
    rg_theory_dataset *ds;
} rg_py_dataset;
extern PyTypeObject rg_py_dataset_type;

typedef struct {
    PyObject_HEAD
    rg_noise *s;
} rg_py_noise;
extern PyTypeObject rg_py_noise_type;

typedef struct {
    PyObject_HEAD
    rg_nn_model *m;
} rg_py_model;
extern PyTypeObject rg_py_model_type;

/* Ready type t and add it to module m as name: 0, or -1 with an exception. */
int rg_py_add_type(PyObject *m, PyTypeObject *t, const char *name);


/* ---- Python callables (_core_score.c) ------------------------------------------------------------------ */
#define RG_PY_CB_FAILED RG_EINVAL /* the status a failed callable returns to the library */

typedef struct {
    PyObject *fn;
    size_t N;            /* values per row */
    size_t n_modes;      /* labeller: labels per row */
    double *offset;      /* labeller: (N) added to the states before the call, or NULL */
    PyObject *exc_type, *exc_value, *exc_tb; /* the first exception of this run */
    int failed;
    unsigned long long calls, rows;          /* since creation (or the last reset) */
} rg_py_cb;

void rg_py_cb_clear(rg_py_cb *c);              /* forget a kept exception */
int rg_py_cb_keep(rg_py_cb *c);                /* keep the pending exception (lock held); RG_PY_CB_FAILED */
int rg_py_cb_raise(rg_py_cb *c);               /* raise the kept exception (lock held): 1 when raised */
PyObject *rg_py_cb_states(const rg_py_cb *c, size_t B, const float *x); /* (B, N) float32 copy (+ offset) */

enum { SCORE_MIXTURE, SCORE_EMPIRICAL, SCORE_CALLABLE };

typedef struct {
    PyObject_HEAD
    rg_score score;
    int kind, busy;
    rg_score_gmm *sg;
    rg_score_emp *se;
    PyObject *proc, *mix;  /* kept alive: the score objects point to them */
    rg_py_cb cb;
} rg_py_score;
extern PyTypeObject rg_py_score_type;

/* ---- labellers and theory curves (_core_label.c) --------------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    rg_exp_labeller lab;
    int busy;
    PyObject *ref;      /* a mixture or model the labeller points to */
    rg_py_cb cb;
    char names[4][32];  /* a callable's mode names */
} rg_py_labeller;
extern PyTypeObject rg_py_labeller_type;

enum { CURVE_PHI_MIXTURE, CURVE_PHI_DATA, CURVE_F_MIXTURE, CURVE_F_DATA };

typedef struct {
    PyObject_HEAD
    int kind;
    unsigned mask;      /* modes that have a phi curve */
    double P;           /* collapse: training points */
    PyObject *proc, *data;
} rg_py_curve;
extern PyTypeObject rg_py_curve_type;
int rg_py_curve_fn(void *ctx, size_t mode, double t, double *v); /* rg_exp_curve_fn over an rg_py_curve */

/* Module tables of each file (NULL-terminated); the module registers them and the types. */
extern PyMethodDef rg_py_process_methods[], rg_py_mixture_methods[], rg_py_data_methods[], rg_py_score_methods[], rg_py_label_methods[], rg_py_exp_methods[];
int rg_py_data_init(PyObject *m);

#endif
