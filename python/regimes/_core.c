/* regimes._core: the module, regimes.Error, the array helpers and the thread count (see _core.h). Python
 * adds convenience only: every number comes from libregimes. */
#define RG_PY_IMPORT_ARRAY
#include "_core.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>


PyObject *rg_py_error = NULL;

PyObject *rg_py_fail(int st) { return rg_py_failf(st, NULL); }

PyObject *rg_py_failf(int st, const char *what)
{
    const char *msg = rg_strerror_last();
    PyObject *text = what ? PyUnicode_FromFormat("%s: %s", what, *msg ? msg : rg_status_name(st))
                          : PyUnicode_FromString(*msg ? msg : rg_status_name(st));
    PyObject *exc = text ? PyObject_CallOneArg(rg_py_error, text) : NULL;
    Py_XDECREF(text);
    if (!exc) return NULL;
    PyObject *name = PyUnicode_FromString(rg_status_name(st));
    if (name) PyObject_SetAttrString(exc, "status", name);
    Py_XDECREF(name);
    PyErr_SetObject(rg_py_error, exc);
    Py_DECREF(exc);
    return NULL;
}

/* ---- arrays ---------------------------------------------------------------------------------------------- */
/* o as an array of real numbers (integers only: integers != 0) with nd dimensions (nd < 0: any). */
static PyArrayObject *checked(PyObject *o, const char *name, int nd, int integers)
{
    PyArrayObject *in = (PyArrayObject *)PyArray_FROM_O(o);
    if (!in) return NULL;
    const char kind = PyArray_DESCR(in)->kind;
    if ((integers || kind != 'f') && kind != 'i' && kind != 'u' && kind != 'b') {
        PyErr_Format(PyExc_TypeError, "%s: want %s, got dtype %R", name, integers ? "integer labels" : "real numbers",
                     (PyObject *)PyArray_DESCR(in));
        Py_DECREF(in);
        return NULL;
    }
    if (nd >= 0 && PyArray_NDIM(in) != nd) {
        PyErr_Format(PyExc_ValueError, "%s: want a %d-dimensional array, got %d dimensions", name, nd, PyArray_NDIM(in));
        Py_DECREF(in);
        return NULL;
    }
    return in;
}

static PyArrayObject *as_type(PyObject *o, const char *name, int nd, int type)
{
    if (o == Py_None) {
        PyErr_Format(PyExc_TypeError, "%s: want an array, got None", name);
        return NULL;
    }
    PyArrayObject *in = checked(o, name, nd, 0);
    if (!in) return NULL;
    PyArrayObject *out = (PyArrayObject *)PyArray_FromAny((PyObject *)in, PyArray_DescrFromType(type), 0, 0,
                                                          NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST, NULL);
    Py_DECREF(in);
    return out;
}

PyArrayObject *rg_py_f64(PyObject *o, const char *name, int nd) { return as_type(o, name, nd, NPY_DOUBLE); }
PyArrayObject *rg_py_f32(PyObject *o, const char *name, int nd) { return as_type(o, name, nd, NPY_FLOAT32); }

PyArrayObject *rg_py_labels(PyObject *o, const char *name, int nd)
{
    PyArrayObject *in = checked(o, name, nd, 1);
    if (!in) return NULL;
    const char kind = PyArray_DESCR(in)->kind;
    /* Through int64 (every integer dtype but huge uint64 fits; those are refused below as out of range). */
    PyArrayObject *wide = (PyArrayObject *)PyArray_FromAny((PyObject *)in, PyArray_DescrFromType(NPY_INT64), 0, 0,
                                                           NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST, NULL);
    if (wide && kind == 'u' && PyArray_ITEMSIZE(in) == 8) { /* a uint64 above INT64_MAX wrapped negative */
        PyArrayObject *u = (PyArrayObject *)PyArray_FromAny((PyObject *)in, PyArray_DescrFromType(NPY_UINT64), 0, 0,
                                                            NPY_ARRAY_CARRAY_RO, NULL);
        const npy_uint64 *v = u ? PyArray_DATA(u) : NULL;
        for (npy_intp i = 0; v && i < PyArray_SIZE(u); i++)
            if (v[i] > (npy_uint64)INT_MAX) {
                PyErr_Format(PyExc_ValueError, "%s: label %llu at index %zd exceeds %d", name, (unsigned long long)v[i],
                             (Py_ssize_t)i, INT_MAX);
                Py_CLEAR(wide);
                break;
            }
        Py_XDECREF(u);
    }
    Py_DECREF(in);
    if (!wide) return NULL;
    const npy_int64 *w = PyArray_DATA(wide);
    for (npy_intp i = 0; i < PyArray_SIZE(wide); i++)
        if (w[i] < 0 || w[i] > INT_MAX) {
            PyErr_Format(PyExc_ValueError, "%s: label %lld at index %zd is outside [0, %d]", name, (long long)w[i],
                         (Py_ssize_t)i, INT_MAX);
            Py_DECREF(wide);
            return NULL;
        }
    PyArrayObject *out = (PyArrayObject *)PyArray_FromAny((PyObject *)wide, PyArray_DescrFromType(NPY_INT), 0, 0,
                                                          NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST, NULL);
    Py_DECREF(wide);
    return out;
}

PyObject *rg_py_copy_f64(const double *data, int nd, const npy_intp *dims)
{
    PyObject *a = PyArray_SimpleNew(nd, (npy_intp *)(uintptr_t)dims, NPY_DOUBLE);
    if (a) memcpy(PyArray_DATA((PyArrayObject *)a), data, (size_t)PyArray_SIZE((PyArrayObject *)a) * sizeof(double));
    return a;
}

static void capsule_free(PyObject *cap) { free(PyCapsule_GetPointer(cap, "regimes.buffer")); }

PyObject *rg_py_own(void *data, int nd, const npy_intp *dims, int type)
{
    npy_intp n = 1;
    for (int i = 0; i < nd; i++) n *= dims[i];
    if (!data && n == 0) data = malloc(1); /* an empty result: still an owned buffer */
    if (!data) return PyErr_NoMemory();
    PyObject *cap = PyCapsule_New(data, "regimes.buffer", capsule_free);
    if (!cap) {
        free(data);
        return NULL;
    }
    PyObject *a = PyArray_SimpleNewFromData(nd, (npy_intp *)(uintptr_t)dims, type, data);
    if (!a || PyArray_SetBaseObject((PyArrayObject *)a, cap) < 0) {
        Py_XDECREF(a);
        Py_DECREF(cap);
        return NULL;
    }
    return a;
}

int rg_py_set(PyObject *d, const char *key, PyObject *value)
{
    if (!value) return -1;
    const int r = PyDict_SetItemString(d, key, value);
    Py_DECREF(value);
    return r;
}

int rg_py_setf(PyObject *d, const char *key, double x) { return rg_py_set(d, key, PyFloat_FromDouble(x)); }

/* ---- threads ------------------------------------------------------------------------------------------- */
static PyObject *py_set_threads(PyObject *self, PyObject *args)
{
    (void)self;
    int n;
    if (!PyArg_ParseTuple(args, "i", &n)) return NULL;
    if (n < 1 || n > 1024) return PyErr_Format(PyExc_ValueError, "threads: %d, want 1 .. 1024", n);
    omp_set_num_threads(n);
    Py_RETURN_NONE;
}

static PyObject *py_get_threads(PyObject *self, PyObject *noargs)
{
    (void)self, (void)noargs;
    return PyLong_FromLong(omp_get_max_threads());
}

static PyMethodDef core_methods[] = {
    { "set_threads", py_set_threads, METH_VARARGS, "OpenMP threads for the following calls" },
    { "get_threads", py_get_threads, METH_NOARGS, "OpenMP's thread count" },
    { NULL, NULL, 0, NULL },
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, .m_name = "regimes._core",
    .m_doc = "libregimes through the NumPy C API (see the regimes package)", .m_size = -1,
};

int rg_py_add_type(PyObject *m, PyTypeObject *t, const char *name)
{
    if (PyType_Ready(t) < 0) return -1;
    Py_INCREF(t);
    if (PyModule_AddObject(m, name, (PyObject *)t) < 0) {
        Py_DECREF(t);
        return -1;
    }
    return 0;
}

static int add_methods(PyObject *m, PyMethodDef *defs)
{
    return PyModule_AddFunctions(m, defs);
}

PyMODINIT_FUNC PyInit__core(void);
PyMODINIT_FUNC PyInit__core(void)
{
    import_array();
    PyObject *m = PyModule_Create(&core_module);
    if (!m) return NULL;
    rg_py_error = PyErr_NewExceptionWithDoc("regimes.Error",
                                            "a libregimes failure; the message is the library's, .status its code name",
                                            NULL, NULL);
    int bad = !rg_py_error || PyModule_AddObjectRef(m, "Error", rg_py_error) < 0;
    bad = bad || add_methods(m, core_methods) < 0 || add_methods(m, rg_py_data_methods) < 0 ||
          add_methods(m, rg_py_process_methods) < 0 || add_methods(m, rg_py_mixture_methods) < 0 ||
          add_methods(m, rg_py_score_methods) < 0 || add_methods(m, rg_py_label_methods) < 0 ||
          add_methods(m, rg_py_exp_methods) < 0;
    bad = bad || rg_py_add_type(m, &rg_py_process_type, "Process") || rg_py_add_type(m, &rg_py_noise_type, "Noise") ||
          rg_py_add_type(m, &rg_py_mixture_type, "Mixture") || rg_py_add_type(m, &rg_py_mixture_theory_type, "MixtureTheory");
    bad = bad || rg_py_data_init(m) || rg_py_add_type(m, &rg_py_score_type, "Score") ||
          rg_py_add_type(m, &rg_py_labeller_type, "Labeller") || rg_py_add_type(m, &rg_py_curve_type, "Curve");
    bad = bad || PyModule_AddStringConstant(m, "version", RG_VERSION) < 0 ||
          PyModule_AddIntConstant(m, "CHUNK", RG_SAMPLER_CHUNK) < 0 ||
          PyModule_AddIntConstant(m, "PLATEAU_MAX_PERMILLE", (long)(RG_EXP_PLATEAU_MAX * 1000)) < 0;
    if (bad) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
