/* regimes._core: the CPython extension over libregimes (NumPy C API), compiled against the library's
 * own headers, so every struct it fills is checked by the compiler (no layout is mirrored by hand).
 *
 * Shared by _core.c (module, errors, processes, schedules, mixtures, theory), _core_data.c (data sets,
 * MNIST, classifier networks) and _core_exp.c (scores, labellers, Python callbacks, experiments).
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

/* Module tables of each file (NULL-terminated) and their type registrations. */
extern PyMethodDef rg_py_data_methods[];
extern PyMethodDef rg_py_exp_methods[];
int rg_py_data_init(PyObject *m);
int rg_py_exp_init(PyObject *m);

#endif
