/* regimes._core: module, errors, array helpers, processes, noise schedules, grids, mixtures and the
 * mixture theory (see _core.h). Python adds convenience only: every number comes from libregimes. */
#define RG_PY_IMPORT_ARRAY
#include "_core.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

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
static PyArrayObject *as_type(PyObject *o, const char *name, int nd, int type)
{
    if (o == Py_None) {
        PyErr_Format(PyExc_TypeError, "%s: want an array, got None", name);
        return NULL;
    }
    PyArrayObject *in = (PyArrayObject *)PyArray_FROM_O(o);
    if (!in) return NULL;
    const char kind = PyArray_DESCR(in)->kind;
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') {
        PyErr_Format(PyExc_TypeError, "%s: want real numbers, got dtype %R", name, (PyObject *)PyArray_DESCR(in));
        Py_DECREF(in);
        return NULL;
    }
    if (nd >= 0 && PyArray_NDIM(in) != nd) {
        PyErr_Format(PyExc_ValueError, "%s: want a %d-dimensional array, got %d dimensions", name, nd, PyArray_NDIM(in));
        Py_DECREF(in);
        return NULL;
    }
    PyArrayObject *out = (PyArrayObject *)PyArray_FromAny((PyObject *)in, PyArray_DescrFromType(type), 0, 0,
                                                          NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST, NULL);
    Py_DECREF(in);
    return out;
}

PyArrayObject *rg_py_f64(PyObject *o, const char *name, int nd) { return as_type(o, name, nd, NPY_DOUBLE); }
PyArrayObject *rg_py_f32(PyObject *o, const char *name, int nd) { return as_type(o, name, nd, NPY_FLOAT32); }

PyArrayObject *rg_py_labels(PyObject *o, const char *name, int nd)
{
    PyArrayObject *in = (PyArrayObject *)PyArray_FROM_O(o);
    if (!in) return NULL;
    const char kind = PyArray_DESCR(in)->kind;
    if (kind != 'i' && kind != 'u' && kind != 'b') {
        PyErr_Format(PyExc_TypeError, "%s: want integer labels, got dtype %R", name, (PyObject *)PyArray_DESCR(in));
        Py_DECREF(in);
        return NULL;
    }
    if (nd >= 0 && PyArray_NDIM(in) != nd) {
        PyErr_Format(PyExc_ValueError, "%s: want a %d-dimensional array, got %d dimensions", name, nd, PyArray_NDIM(in));
        Py_DECREF(in);
        return NULL;
    }
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

/* ---- processes ------------------------------------------------------------------------------------------- */
static void process_dealloc(rg_py_process *self)
{
    rg_process_free(self->p);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *process_wrap(int st, rg_process **pp)
{
    rg_process *p = *pp; /* read after the call that set it (argument order is unspecified) */
    if (st != RG_OK) return rg_py_fail(st);
    rg_py_process *o = PyObject_New(rg_py_process, &rg_py_process_type);
    if (!o) {
        rg_process_free(p);
        return NULL;
    }
    o->p = p;
    return (PyObject *)o;
}

static PyObject *py_process_ou(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t d;
    if (!PyArg_ParseTuple(args, "n", &d)) return NULL;
    if (d < 1) return PyErr_Format(PyExc_ValueError, "ou: dimension %zd, want >= 1", d);
    rg_process *p = NULL;
    return process_wrap(rg_process_ou((size_t)d, &p), &p);
}

static PyObject *py_process_coupled(PyObject *self, PyObject *args)
{
    (void)self;
    double M[4];
    Py_ssize_t d;
    if (!PyArg_ParseTuple(args, "(dddd)n", &M[0], &M[1], &M[2], &M[3], &d)) return NULL;
    if (d < 1) return PyErr_Format(PyExc_ValueError, "coupled: dimension per modality %zd, want >= 1", d);
    rg_process *p = NULL;
    return process_wrap(rg_process_coupled(M, (size_t)d, &p), &p);
}

static PyObject *py_process_scheduled(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t k, r;
    int interp;
    PyObject *to, *Ao;
    if (!PyArg_ParseTuple(args, "nniOO", &k, &r, &interp, &to, &Ao)) return NULL;
    PyArrayObject *t = rg_py_f64(to, "schedule times", 1), *A = t ? rg_py_f64(Ao, "schedule drifts", 3) : NULL;
    PyObject *res = NULL;
    if (A) {
        const npy_intp *s = PyArray_DIMS(A);
        if (k < 1 || r < 1 || s[0] != PyArray_DIM(t, 0) || s[1] != k || s[2] != k)
            PyErr_Format(PyExc_ValueError, "schedule: want (n, %zd, %zd) drifts for n knot times", k, k);
        else if (interp != RG_SCHEDULE_PIECEWISE && interp != RG_SCHEDULE_LINEAR)
            PyErr_SetString(PyExc_ValueError, "schedule: interpolation must be piecewise or linear");
        else {
            const rg_schedule sc = { .interp = (rg_schedule_interp)interp, .n = (size_t)s[0], .t = PyArray_DATA(t),
                                     .A = PyArray_DATA(A) };
            rg_process *p = NULL;
            res = process_wrap(rg_process_scheduled((size_t)k, (size_t)r, &sc, &p), &p);
        }
    }
    Py_XDECREF(t), Py_XDECREF(A);
    return res;
}

/* A square (n, n) double array named name, or NULL with an exception. */
static PyArrayObject *square(PyObject *o, const char *name)
{
    PyArrayObject *a = rg_py_f64(o, name, 2);
    if (a && PyArray_DIM(a, 0) != PyArray_DIM(a, 1)) {
        PyErr_Format(PyExc_ValueError, "%s: want a square matrix, got %zd x %zd", name, (Py_ssize_t)PyArray_DIM(a, 0),
                     (Py_ssize_t)PyArray_DIM(a, 1));
        Py_CLEAR(a);
    }
    if (a && PyArray_DIM(a, 0) == 0) {
        PyErr_Format(PyExc_ValueError, "%s: empty matrix", name);
        Py_CLEAR(a);
    }
    return a;
}

static PyObject *py_process_nonrev(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *Uo, *Qo = Py_None;
    if (!PyArg_ParseTuple(args, "O|O", &Uo, &Qo)) return NULL;
    PyArrayObject *U = square(Uo, "U"), *Q = U && Qo != Py_None ? square(Qo, "Q") : NULL;
    PyObject *res = NULL;
    if (U && (Q || Qo == Py_None)) {
        const size_t n = (size_t)PyArray_DIM(U, 0);
        if (Q && (size_t)PyArray_DIM(Q, 0) != n)
            PyErr_Format(PyExc_ValueError, "Q is %zd x %zd, want %zu x %zu like U", (Py_ssize_t)PyArray_DIM(Q, 0),
                         (Py_ssize_t)PyArray_DIM(Q, 0), n, n);
        else {
            rg_process *p = NULL;
            res = process_wrap(rg_process_nonrev(n, PyArray_DATA(U), Q ? PyArray_DATA(Q) : NULL, &p), &p);
        }
    }
    Py_XDECREF(U), Py_XDECREF(Q);
    return res;
}

static PyObject *py_process_general(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *Ao;
    if (!PyArg_ParseTuple(args, "O", &Ao)) return NULL;
    PyArrayObject *A = square(Ao, "A");
    if (!A) return NULL;
    const size_t n = (size_t)PyArray_DIM(A, 0);
    rg_process *p = NULL;
    int st = rg_process_general(n, PyArray_DATA(A), &p);
    Py_DECREF(A);
    double *S = st == RG_OK ? malloc(n * n * sizeof *S) : NULL; /* a general A must have a stationary prior */
    if (st == RG_OK) st = S ? rg_process_stationary(p, S) : RG_ENOMEM;
    free(S);
    if (st != RG_OK) rg_process_free(p);
    return process_wrap(st, &p);
}

static PyObject *process_info(rg_py_process *self, PyObject *noargs)
{
    (void)noargs;
    static const char *const KIND[] = { "ou", "coupled", "nonrev", "general" };
    return Py_BuildValue("{s:s,s:n,s:n,s:n,s:O}", "kind", KIND[rg_process_kind_of(self->p)], "N",
                         (Py_ssize_t)rg_process_dim(self->p), "core", (Py_ssize_t)rg_process_core(self->p), "mult",
                         (Py_ssize_t)rg_process_mult(self->p), "scheduled",
                         rg_process_is_scheduled(self->p) ? Py_True : Py_False);
}

static PyObject *process_moments(rg_py_process *self, PyObject *args)
{
    double t;
    if (!PyArg_ParseTuple(args, "d", &t)) return NULL;
    const size_t k = rg_process_core(self->p);
    double *M = malloc(2 * k * k * sizeof *M);
    if (!M) return PyErr_NoMemory();
    const int st = rg_process_moments(self->p, t, M, M + k * k);
    PyObject *res = NULL;
    const npy_intp dims[2] = { (npy_intp)k, (npy_intp)k };
    if (st != RG_OK) rg_py_fail(st);
    else res = Py_BuildValue("(NN)", rg_py_copy_f64(M, 2, dims), rg_py_copy_f64(M + k * k, 2, dims));
    free(M);
    return res;
}

static PyObject *process_stationary(rg_py_process *self, PyObject *noargs)
{
    (void)noargs;
    const size_t k = rg_process_core(self->p);
    double *S = malloc(k * k * sizeof *S);
    if (!S) return PyErr_NoMemory();
    const npy_intp dims[2] = { (npy_intp)k, (npy_intp)k };
    const int st = rg_process_stationary(self->p, S);
    PyObject *res = st == RG_OK ? rg_py_copy_f64(S, 2, dims) : rg_py_fail(st);
    free(S);
    return res;
}

static PyObject *process_drift(rg_py_process *self, PyObject *args)
{
    double t;
    if (!PyArg_ParseTuple(args, "d", &t)) return NULL;
    const size_t k = rg_process_core(self->p);
    double *A = malloc(k * k * sizeof *A);
    if (!A) return PyErr_NoMemory();
    const npy_intp dims[2] = { (npy_intp)k, (npy_intp)k };
    const int st = rg_process_drift(self->p, t, A);
    PyObject *res = st == RG_OK ? rg_py_copy_f64(A, 2, dims) : rg_py_fail(st);
    free(A);
    return res;
}

static PyObject *process_rates(rg_py_process *self, PyObject *noargs)
{
    (void)noargs;
    const size_t k = rg_process_core(self->p);
    double *re = malloc(2 * k * sizeof *re), r = NAN;
    if (!re) return PyErr_NoMemory();
    int st = rg_process_rates(self->p, re, re + k);
    if (st == RG_OK) st = rg_process_relaxation_rate(self->p, &r);
    const npy_intp dims[1] = { (npy_intp)k };
    PyObject *res = st == RG_OK ? Py_BuildValue("(NNd)", rg_py_copy_f64(re, 1, dims), rg_py_copy_f64(re + k, 1, dims), r)
                                : rg_py_fail(st);
    free(re);
    return res;
}

static PyMethodDef process_methods[] = {
    { "info", (PyCFunction)process_info, METH_NOARGS, "kind, N, core k, multiplicity r, scheduled" },
    { "moments", (PyCFunction)process_moments, METH_VARARGS, "moments(t) -> (E_t, S_t), core k x k matrices" },
    { "stationary", (PyCFunction)process_stationary, METH_NOARGS, "stationary core covariance S_inf" },
    { "drift", (PyCFunction)process_drift, METH_VARARGS, "drift(t) -> core A(t)" },
    { "rates", (PyCFunction)process_rates, METH_NOARGS, "(Re eig A, Im eig A, relaxation rate)" },
    { NULL, NULL, 0, NULL },
};

PyTypeObject rg_py_process_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Process",
    .tp_basicsize = sizeof(rg_py_process),
    .tp_dealloc = (destructor)process_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a validated forward process (process.h); build it with regimes.ou(), coupled(), nonrev(), general()",
    .tp_methods = process_methods,
};

static PyObject *py_coupling(PyObject *self, PyObject *args)
{
    (void)self;
    int form;
    double gamma, M[4];
    if (!PyArg_ParseTuple(args, "id", &form, &gamma)) return NULL;
    if (form != RG_COUPLING_CROSS && form != RG_COUPLING_DIFFUSIVE)
        return PyErr_Format(PyExc_ValueError, "coupling form %d: want cross (0) or diffusive (1)", form);
    rg_process_coupling((rg_coupling_form)form, gamma, M);
    return Py_BuildValue("(dddd)", M[0], M[1], M[2], M[3]);
}

static PyObject *py_coupling_aniso(PyObject *self, PyObject *args)
{
    (void)self;
    double ax, ay, gxy, gyx, M[4];
    if (!PyArg_ParseTuple(args, "dddd", &ax, &ay, &gxy, &gyx)) return NULL;
    rg_process_coupling_aniso(ax, ay, gxy, gyx, M);
    return Py_BuildValue("(dddd)", M[0], M[1], M[2], M[3]);
}

static PyObject *py_coupling_check(PyObject *self, PyObject *args)
{
    (void)self;
    double M[4];
    if (!PyArg_ParseTuple(args, "(dddd)", &M[0], &M[1], &M[2], &M[3])) return NULL;
    const char *why = rg_process_coupling_check(M);
    if (why) return PyUnicode_FromString(why);
    Py_RETURN_NONE;
}

static PyObject *py_nonrev_optimal_q(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *Uo;
    if (!PyArg_ParseTuple(args, "O", &Uo)) return NULL;
    PyArrayObject *U = square(Uo, "U");
    if (!U) return NULL;
    const npy_intp n = PyArray_DIM(U, 0), dims[2] = { n, n };
    PyObject *Q = PyArray_SimpleNew(2, (npy_intp *)(uintptr_t)dims, NPY_DOUBLE);
    int st = RG_OK;
    if (Q) {
        Py_BEGIN_ALLOW_THREADS
        st = rg_nonrev_optimal_q((size_t)n, PyArray_DATA(U), NULL, PyArray_DATA((PyArrayObject *)Q));
        Py_END_ALLOW_THREADS
    }
    Py_DECREF(U);
    if (Q && st != RG_OK) {
        Py_CLEAR(Q);
        rg_py_fail(st);
    }
    return Q;
}

/* Eigen-decomposition of a symmetric matrix by the library (rg_linalg_eigsym: ascending values,
 * eigenvectors in columns), so a direction picked from it has the CLI's bits. */
static PyObject *py_eigsym(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *So;
    if (!PyArg_ParseTuple(args, "O", &So)) return NULL;
    PyArrayObject *S = square(So, "matrix");
    if (!S) return NULL;
    const npy_intp n = PyArray_DIM(S, 0), d1[1] = { n }, d2[2] = { n, n };
    PyObject *w = PyArray_SimpleNew(1, (npy_intp *)(uintptr_t)d1, NPY_DOUBLE);
    PyObject *V = PyArray_SimpleNew(2, (npy_intp *)(uintptr_t)d2, NPY_DOUBLE);
    const int st = w && V ? rg_linalg_eigsym((size_t)n, PyArray_DATA(S), PyArray_DATA((PyArrayObject *)w),
                                             PyArray_DATA((PyArrayObject *)V))
                          : RG_ENOMEM;
    Py_DECREF(S);
    if (st != RG_OK) {
        Py_XDECREF(w), Py_XDECREF(V);
        return st == RG_ENOMEM && PyErr_Occurred() ? NULL : rg_py_fail(st);
    }
    return Py_BuildValue("(NN)", w, V);
}

/* v / |v| with BLAS's dnrm2 and dscal: the CLI's normalisation of a mean direction, bit for bit. */
static PyObject *py_unit(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *vo;
    if (!PyArg_ParseTuple(args, "O", &vo)) return NULL;
    PyArrayObject *v = rg_py_f64(vo, "direction", 1);
    if (!v) return NULL;
    PyObject *u = PyArray_NewCopy(v, NPY_CORDER);
    Py_DECREF(v);
    if (!u) return NULL;
    const int n = (int)PyArray_DIM((PyArrayObject *)u, 0);
    double *x = PyArray_DATA((PyArrayObject *)u);
    const double norm = cblas_dnrm2(n, x, 1);
    if (!(norm > 0) || !isfinite(norm)) {
        Py_DECREF(u);
        return PyErr_Format(PyExc_ValueError, "the mean direction has no finite nonzero length");
    }
    cblas_dscal(n, 1.0 / norm, x, 1);
    return u;
}

/* ---- noise schedules --------------------------------------------------------------------------------- */
static void noise_dealloc(rg_py_noise *self)
{
    rg_noise_free(self->s);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *noise_wrap(int st, rg_noise **pp)
{
    rg_noise *s = *pp; /* read after the call that set it (argument order is unspecified) */
    if (st != RG_OK) return rg_py_fail(st);
    rg_py_noise *o = PyObject_New(rg_py_noise, &rg_py_noise_type);
    if (!o) {
        rg_noise_free(s);
        return NULL;
    }
    o->s = s;
    return (PyObject *)o;
}

static PyObject *py_noise_ddpm_linear(PyObject *self, PyObject *args)
{
    (void)self;
    double b0, b1;
    Py_ssize_t K;
    if (!PyArg_ParseTuple(args, "ddn", &b0, &b1, &K)) return NULL;
    if (K < 0) return PyErr_Format(PyExc_ValueError, "ddpm_linear: K = %zd steps", K);
    rg_noise *s = NULL;
    return noise_wrap(rg_noise_ddpm_linear(b0, b1, (size_t)K, &s), &s);
}

static PyObject *py_noise_ddpm_cosine(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t K;
    if (!PyArg_ParseTuple(args, "n", &K)) return NULL;
    if (K < 0) return PyErr_Format(PyExc_ValueError, "ddpm_cosine: K = %zd steps", K);
    rg_noise *s = NULL;
    return noise_wrap(rg_noise_ddpm_cosine((size_t)K, &s), &s);
}

static PyObject *py_noise_table(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *ao;
    if (!PyArg_ParseTuple(args, "O", &ao)) return NULL;
    PyArrayObject *a = rg_py_f64(ao, "alphas_cumprod", 1);
    if (!a) return NULL;
    rg_noise *s = NULL;
    const int st = rg_noise_table((size_t)PyArray_DIM(a, 0), PyArray_DATA(a), &s);
    Py_DECREF(a);
    return noise_wrap(st, &s);
}

static PyObject *py_noise_read(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *path;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path)) return NULL;
    rg_noise *s = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_noise_read(PyBytes_AS_STRING(path), &s);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    return noise_wrap(st, &s);
}

static PyObject *noise_steps(rg_py_noise *self, PyObject *noargs)
{
    (void)noargs;
    return PyLong_FromSize_t(rg_noise_steps(self->s));
}

/* abar_k and t_k for k = 0 .. K-1. */
static PyObject *noise_table(rg_py_noise *self, PyObject *noargs)
{
    (void)noargs;
    const size_t K = rg_noise_steps(self->s);
    const npy_intp dims[1] = { (npy_intp)K };
    PyObject *a = PyArray_SimpleNew(1, (npy_intp *)(uintptr_t)dims, NPY_DOUBLE);
    PyObject *t = PyArray_SimpleNew(1, (npy_intp *)(uintptr_t)dims, NPY_DOUBLE);
    if (!a || !t) {
        Py_XDECREF(a), Py_XDECREF(t);
        return NULL;
    }
    double *pa = PyArray_DATA((PyArrayObject *)a), *pt = PyArray_DATA((PyArrayObject *)t);
    for (size_t k = 0; k < K; k++) pa[k] = rg_noise_abar(self->s, k), pt[k] = rg_noise_time(self->s, k);
    return Py_BuildValue("(NN)", a, t);
}

/* time -> step for an array of times: the first k with t_k >= t, -1 beyond the schedule or NaN. */
static PyObject *noise_step(rg_py_noise *self, PyObject *args)
{
    PyObject *to;
    if (!PyArg_ParseTuple(args, "O", &to)) return NULL;
    PyArrayObject *t = rg_py_f64(to, "times", -1);
    if (!t) return NULL;
    PyObject *k = PyArray_SimpleNew(PyArray_NDIM(t), PyArray_DIMS(t), NPY_INT64);
    if (k) {
        const double *pt = PyArray_DATA(t);
        npy_int64 *pk = PyArray_DATA((PyArrayObject *)k);
        for (npy_intp i = 0; i < PyArray_SIZE(t); i++) {
            size_t s;
            pk[i] = isfinite(pt[i]) && rg_noise_step(self->s, pt[i], &s) == RG_OK ? (npy_int64)s : -1;
        }
    }
    Py_DECREF(t);
    return k;
}

static PyMethodDef noise_methods[] = {
    { "steps", (PyCFunction)noise_steps, METH_NOARGS, "K" },
    { "table", (PyCFunction)noise_table, METH_NOARGS, "(abar_k, t_k) for k = 0..K-1" },
    { "step", (PyCFunction)noise_step, METH_VARARGS, "step(times) -> int64 steps, -1 beyond the schedule" },
    { NULL, NULL, 0, NULL },
};

PyTypeObject rg_py_noise_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Noise",
    .tp_basicsize = sizeof(rg_py_noise),
    .tp_dealloc = (destructor)noise_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a DDPM noise schedule (noise.h)",
    .tp_methods = noise_methods,
};

/* ---- time grids -------------------------------------------------------------------------------------- */
static PyObject *grid_result(int st, double *t, size_t n)
{
    if (st != RG_OK) {
        free(t);
        return rg_py_fail(st);
    }
    const npy_intp dims[1] = { (npy_intp)n };
    return rg_py_own(t, 1, dims, NPY_DOUBLE);
}

static PyObject *py_grid(PyObject *self, PyObject *args)
{
    (void)self;
    int kind;
    double T, t_end;
    Py_ssize_t K;
    PyObject *eo;
    if (!PyArg_ParseTuple(args, "iddnO", &kind, &T, &t_end, &K, &eo)) return NULL;
    if (kind < RG_GRID_UNIFORM || kind > RG_GRID_DDPM || K < 0)
        return PyErr_Format(PyExc_ValueError, "grid: unknown kind %d or K = %zd", kind, K);
    PyArrayObject *e = rg_py_f64(eo, "extra times", 1);
    if (!e) return NULL;
    const size_t ne = (size_t)PyArray_DIM(e, 0);
    double *t = malloc(rg_sampler_grid_size((rg_sampler_grid_kind)kind, (size_t)K, ne) * sizeof *t);
    size_t n = 0;
    const int st = t ? rg_sampler_grid((rg_sampler_grid_kind)kind, T, t_end, (size_t)K, PyArray_DATA(e), ne, t, &n)
                     : RG_ENOMEM;
    Py_DECREF(e);
    return grid_result(st, t, n);
}

static PyObject *py_grid_noise(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *so, *eo;
    double T, t_end;
    if (!PyArg_ParseTuple(args, "O!ddO", &rg_py_noise_type, &so, &T, &t_end, &eo)) return NULL;
    PyArrayObject *e = rg_py_f64(eo, "extra times", 1);
    if (!e) return NULL;
    const rg_noise *s = ((rg_py_noise *)so)->s;
    const size_t ne = (size_t)PyArray_DIM(e, 0);
    double *t = malloc(rg_sampler_grid_noise_size(s, ne) * sizeof *t);
    size_t n = 0;
    const int st = t ? rg_sampler_grid_noise(s, T, t_end, PyArray_DATA(e), ne, t, &n) : RG_ENOMEM;
    Py_DECREF(e);
    return grid_result(st, t, n);
}

/* ---- mixtures ---------------------------------------------------------------------------------------- */
static void mixture_dealloc(rg_py_mixture *self)
{
    rg_data_gmm_free(self->g);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *mixture_wrap(int st, rg_data_gmm **pp)
{
    rg_data_gmm *g = *pp; /* read after the call that set it (argument order is unspecified) */
    if (st != RG_OK) return rg_py_fail(st);
    rg_py_mixture *o = PyObject_New(rg_py_mixture, &rg_py_mixture_type);
    if (!o) {
        rg_data_gmm_free(g);
        return NULL;
    }
    o->g = g;
    return (PyObject *)o;
}

/* An optional 1-D (n) or 2-D (n, n) double array; None gives *out = NULL and success. */
static int optional_f64(PyObject *o, const char *name, int nd, npy_intp n, PyArrayObject **out)
{
    *out = NULL;
    if (o == Py_None) return 0;
    if (!(*out = rg_py_f64(o, name, nd))) return -1;
    for (int i = 0; i < nd; i++)
        if (PyArray_DIM(*out, i) != n) {
            PyErr_Format(PyExc_ValueError, "%s: want %zd values per axis, got %zd", name, (Py_ssize_t)n,
                         (Py_ssize_t)PyArray_DIM(*out, i));
            Py_CLEAR(*out);
            return -1;
        }
    return 0;
}

static PyObject *py_gmm2(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t N;
    double norm2, sigma2;
    PyObject *diro, *cwo;
    if (!PyArg_ParseTuple(args, "ndOdO", &N, &norm2, &diro, &sigma2, &cwo)) return NULL;
    if (N < 1) return PyErr_Format(PyExc_ValueError, "gmm2: dimension %zd", N);
    PyArrayObject *dir = NULL, *cw = NULL;
    PyObject *res = NULL;
    if (!optional_f64(diro, "direction", 1, N, &dir) && !optional_f64(cwo, "Cw", 2, N, &cw)) {
        rg_data_gmm *g = NULL;
        const int st = rg_data_gmm2((size_t)N, norm2, dir ? PyArray_DATA(dir) : NULL, sigma2, cw ? PyArray_DATA(cw) : NULL, &g);
        res = mixture_wrap(st, &g);
    }
    Py_XDECREF(dir), Py_XDECREF(cw);
    return res;
}

static PyObject *py_gmm4(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t d;
    double mc2, md2, sigma2;
    if (!PyArg_ParseTuple(args, "nddd", &d, &mc2, &md2, &sigma2)) return NULL;
    if (d < 1) return PyErr_Format(PyExc_ValueError, "gmm4: dimension per modality %zd", d);
    rg_data_gmm *g = NULL;
    return mixture_wrap(rg_data_gmm4((size_t)d, mc2, md2, NULL, NULL, sigma2, &g), &g);
}

static PyObject *py_gmm(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *wo, *mo, *co;
    int kind;
    if (!PyArg_ParseTuple(args, "OOiO", &wo, &mo, &kind, &co)) return NULL;
    if (kind < RG_COV_ISO || kind > RG_COV_FULL) return PyErr_Format(PyExc_ValueError, "covariance kind %d", kind);
    PyArrayObject *w = rg_py_f64(wo, "weights", 1), *m = w ? rg_py_f64(mo, "means", 2) : NULL;
    PyArrayObject *c = m ? rg_py_f64(co, "covariances", kind + 1) : NULL;
    PyObject *res = NULL;
    if (c) {
        const npy_intp K = PyArray_DIM(m, 0), N = PyArray_DIM(m, 1);
        int ok = PyArray_DIM(w, 0) == K && PyArray_DIM(c, 0) == K;
        if (kind >= RG_COV_DIAG) ok = ok && PyArray_DIM(c, 1) == N;
        if (kind == RG_COV_FULL) ok = ok && PyArray_DIM(c, 2) == N;
        if (!ok) PyErr_SetString(PyExc_ValueError, "gmm: weights (K), means (K, N) and covariances of matching sizes");
        else {
            const rg_data_gmm_params p = { .K = (size_t)K, .N = (size_t)N, .weights = PyArray_DATA(w),
                                           .means = PyArray_DATA(m), .cov_kind = (rg_cov_kind)kind, .cov = PyArray_DATA(c) };
            rg_data_gmm *g = NULL;
            res = mixture_wrap(rg_data_gmm_new(&p, &g), &g);
        }
    }
    Py_XDECREF(w), Py_XDECREF(m), Py_XDECREF(c);
    return res;
}

/* Points 0 .. P-1 of the mixture for (seed, RG_STREAM_DATA): the CLI's training set of --n-train P. */
static PyObject *mixture_draw(rg_py_mixture *self, PyObject *args)
{
    unsigned long long seed;
    Py_ssize_t P;
    if (!PyArg_ParseTuple(args, "Kn", &seed, &P)) return NULL;
    if (P < 1) return PyErr_Format(PyExc_ValueError, "draw: P = %zd points", P);
    rg_data_set *s = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_data_set_draw(self->g, (rg_rng){ seed, RG_STREAM_DATA }, (size_t)P, &s);
    Py_END_ALLOW_THREADS
    if (st != RG_OK) return rg_py_fail(st);
    const npy_intp d2[2] = { (npy_intp)s->P, (npy_intp)s->N }, d1[1] = { (npy_intp)s->P };
    PyObject *X = rg_py_own(s->X, 2, d2, NPY_FLOAT32), *L = rg_py_own(s->labels, 1, d1, NPY_INT);
    s->X = NULL, s->labels = NULL;
    rg_data_set_free(s);
    if (!X || !L) {
        Py_XDECREF(X), Py_XDECREF(L);
        return NULL;
    }
    return Py_BuildValue("(NN)", X, L);
}

static PyObject *mixture_info(rg_py_mixture *self, PyObject *noargs)
{
    (void)noargs;
    const size_t K = rg_data_gmm_K(self->g), N = rg_data_gmm_N(self->g);
    const npy_intp dk[1] = { (npy_intp)K }, dm[2] = { (npy_intp)K, (npy_intp)N };
    return Py_BuildValue("{s:n,s:n,s:N,s:N}", "K", (Py_ssize_t)K, "N", (Py_ssize_t)N, "weights",
                         rg_py_copy_f64(rg_data_gmm_weights(self->g), 1, dk), "means",
                         rg_py_copy_f64(rg_data_gmm_means(self->g), 2, dm));
}

static PyMethodDef mixture_methods[] = {
    { "draw", (PyCFunction)mixture_draw, METH_VARARGS, "draw(seed, P) -> (X (P, N) float32, labels (P))" },
    { "info", (PyCFunction)mixture_info, METH_NOARGS, "K, N, weights, means" },
    { NULL, NULL, 0, NULL },
};

PyTypeObject rg_py_mixture_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Mixture",
    .tp_basicsize = sizeof(rg_py_mixture),
    .tp_dealloc = (destructor)mixture_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a Gaussian mixture (data.h)",
    .tp_methods = mixture_methods,
};

/* ---- mixture theory ------------------------------------------------------------------------------------ */
static void mt_dealloc(rg_py_mixture_theory *self)
{
    free(self->pattern), free(self->mean_norm2), free(self->Cw);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* MixtureTheory(pattern (L, k), mean_norm2 (L), Cw (k, k)): theory.h's rg_theory_data, copied. */
static PyObject *mt_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "pattern", "mean_norm2", "Cw", NULL };
    PyObject *po, *no, *co;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO", kwlist, &po, &no, &co)) return NULL;
    PyArrayObject *p = rg_py_f64(po, "pattern", 2), *n = p ? rg_py_f64(no, "mean_norm2", 1) : NULL;
    PyArrayObject *c = n ? rg_py_f64(co, "Cw", 2) : NULL;
    rg_py_mixture_theory *self = NULL;
    if (c) {
        const npy_intp L = PyArray_DIM(p, 0), k = PyArray_DIM(p, 1);
        if (L < 1 || k < 1 || PyArray_DIM(n, 0) != L || PyArray_DIM(c, 0) != k || PyArray_DIM(c, 1) != k)
            PyErr_SetString(PyExc_ValueError, "theory data: want pattern (L, k), mean_norm2 (L), Cw (k, k)");
        else if ((self = (rg_py_mixture_theory *)type->tp_alloc(type, 0))) {
            self->k = (size_t)k;
            self->pattern = malloc((size_t)(L * k) * sizeof(double));
            self->mean_norm2 = malloc((size_t)L * sizeof(double));
            self->Cw = malloc((size_t)(k * k) * sizeof(double));
            if (!self->pattern || !self->mean_norm2 || !self->Cw) {
                Py_CLEAR(self);
                PyErr_NoMemory();
            } else {
                memcpy(self->pattern, PyArray_DATA(p), (size_t)(L * k) * sizeof(double));
                memcpy(self->mean_norm2, PyArray_DATA(n), (size_t)L * sizeof(double));
                memcpy(self->Cw, PyArray_DATA(c), (size_t)(k * k) * sizeof(double));
                self->d = (rg_theory_data){ .n_labels = (size_t)L, .pattern = self->pattern,
                                            .mean_norm2 = self->mean_norm2, .Cw = self->Cw };
            }
        }
    }
    Py_XDECREF(p), Py_XDECREF(n), Py_XDECREF(c);
    return (PyObject *)self;
}

PyTypeObject rg_py_mixture_theory_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.MixtureTheory",
    .tp_basicsize = sizeof(rg_py_mixture_theory),
    .tp_dealloc = (destructor)mt_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "MixtureTheory(pattern, mean_norm2, Cw): mixture data in core coordinates (theory.h)",
    .tp_new = mt_new,
};

static const char *const MODE_KEYS[] = { "name", "rate", "rate_imag", "t_S" };

static PyObject *theory_dict(const rg_exp_theory_result *r)
{
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    const npy_intp dl[1] = { (npy_intp)r->n_labels }, dm[1] = { (npy_intp)r->n_modes }, dp[1] = { (npy_intp)r->n_phi };
    const npy_intp dph[2] = { (npy_intp)r->n_labels, (npy_intp)r->n_phi };
    PyObject *modes = PyList_New((Py_ssize_t)r->n_modes);
    int bad = !modes;
    for (size_t i = 0; !bad && i < r->n_modes; i++) {
        PyObject *m = Py_BuildValue("{s:s,s:d,s:d,s:d}", MODE_KEYS[0], r->mode_name[i], MODE_KEYS[1], r->rate_re[i],
                                    MODE_KEYS[2], r->rate_im[i], MODE_KEYS[3], r->mode_t_s[i]);
        if (!m) bad = 1;
        else PyList_SET_ITEM(modes, (Py_ssize_t)i, m);
    }
    bad = bad || rg_py_set(d, "modes", modes) || rg_py_setf(d, "relaxation_rate", r->relaxation_rate) ||
          rg_py_setf(d, "horizon", r->horizon) || rg_py_setf(d, "horizon_min", r->horizon_min) ||
          rg_py_setf(d, "t_S", r->t_s) || rg_py_setf(d, "t_S_matrix", r->t_s_matrix) ||
          rg_py_setf(d, "t_S_parent", r->t_s_parent) || rg_py_setf(d, "t_C", r->t_c) ||
          rg_py_setf(d, "sync_gap", r->sync_gap) || rg_py_setf(d, "gamma_lo", r->gamma_lo) ||
          rg_py_setf(d, "gamma_hi", r->gamma_hi) || rg_py_setf(d, "gamma_equal", r->gamma_equal) ||
          rg_py_set(d, "t_S_label", rg_py_copy_f64(r->t_s_label, 1, dl)) ||
          rg_py_set(d, "t_S_matrix_label", rg_py_copy_f64(r->t_s_matrix_label, 1, dl)) ||
          rg_py_set(d, "phi_t", rg_py_copy_f64(r->phi_t, 1, dp)) || rg_py_set(d, "phi", rg_py_copy_f64(r->phi, 2, dph));
    (void)dm;
    if (bad) Py_CLEAR(d);
    return d;
}

/* theory(process, data, n_train, horizon_level, symmetric_form, phi_t) -> rg_exp_theory's result. */
static PyObject *py_theory(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *po, *mo, *to;
    double n_train, level;
    int sym;
    if (!PyArg_ParseTuple(args, "O!O!ddiO", &rg_py_process_type, &po, &rg_py_mixture_theory_type, &mo, &n_train, &level,
                          &sym, &to))
        return NULL;
    PyArrayObject *t = rg_py_f64(to, "phi times", 1);
    if (!t) return NULL;
    const rg_exp_theory_cfg c = { .proc = ((rg_py_process *)po)->p, .data = &((rg_py_mixture_theory *)mo)->d,
                                  .n_train = n_train, .horizon_level = level, .symmetric_form = sym,
                                  .phi_t = PyArray_DATA(t), .n_phi = (size_t)PyArray_DIM(t, 0) };
    rg_exp_theory_result r;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_exp_theory(&c, &r);
    Py_END_ALLOW_THREADS
    Py_DECREF(t);
    if (st != RG_OK) return rg_py_fail(st);
    PyObject *d = theory_dict(&r);
    rg_exp_theory_result_free(&r);
    return d;
}

/* A criterion of the mixture theory at an array of times: which = 0 phi_l, 1 kappa_l, 2 lambda_max(K_l),
 * 3 collapse f (label ignored; n_train P). */
static PyObject *py_theory_curve(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *po, *mo, *to;
    int which;
    Py_ssize_t label;
    double P;
    if (!PyArg_ParseTuple(args, "O!O!inOd", &rg_py_process_type, &po, &rg_py_mixture_theory_type, &mo, &which, &label,
                          &to, &P))
        return NULL;
    const rg_process *p = ((rg_py_process *)po)->p;
    const rg_theory_data *d = &((rg_py_mixture_theory *)mo)->d;
    if (label < 0 || (size_t)label >= d->n_labels)
        return PyErr_Format(PyExc_ValueError, "label %zd: the data have %zu", label, d->n_labels);
    const char *why = rg_theory_check(p, d);
    if (why) return PyErr_Format(PyExc_ValueError, "theory: %s", why);
    PyArrayObject *t = rg_py_f64(to, "times", -1);
    if (!t) return NULL;
    PyObject *out = PyArray_SimpleNew(PyArray_NDIM(t), PyArray_DIMS(t), NPY_DOUBLE);
    int st = RG_OK;
    if (out) {
        const double *pt = PyArray_DATA(t);
        double *y = PyArray_DATA((PyArrayObject *)out);
        const size_t n = (size_t)PyArray_SIZE(t), l = (size_t)label;
        Py_BEGIN_ALLOW_THREADS
        for (size_t i = 0; i < n && st == RG_OK; i++) {
            if (which == 0) st = rg_theory_phi_at(p, d, l, pt[i], &y[i]);
            else if (which == 1) st = rg_theory_kappa(p, d, l, pt[i], &y[i]);
            else if (which == 2) st = rg_theory_kmax(p, d, l, pt[i], &y[i]);
            else st = rg_theory_collapse_f(p, d, P, pt[i], &y[i]);
        }
        Py_END_ALLOW_THREADS
    }
    Py_DECREF(t);
    if (out && st != RG_OK) {
        Py_CLEAR(out);
        rg_py_fail(st);
    }
    return out;
}

static PyObject *py_theory_phi(PyObject *self, PyObject *args)
{
    (void)self;
    double kappa;
    if (!PyArg_ParseTuple(args, "d", &kappa)) return NULL;
    return PyFloat_FromDouble(rg_theory_phi(kappa));
}

/* Decoupled-mode t_S = log(1 + lambda a) / (2 lambda) (theory.h; NAN if no root). */
static PyObject *py_theory_mode_time(PyObject *self, PyObject *args)
{
    (void)self;
    double lambda, a;
    if (!PyArg_ParseTuple(args, "dd", &lambda, &a)) return NULL;
    return PyFloat_FromDouble(rg_theory_mode_time(lambda, a));
}

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
    { "process_ou", py_process_ou, METH_VARARGS, "process_ou(d)" },
    { "process_coupled", py_process_coupled, METH_VARARGS, "process_coupled(M (4), d)" },
    { "process_scheduled", py_process_scheduled, METH_VARARGS, "process_scheduled(k, r, interp, t, A)" },
    { "process_nonrev", py_process_nonrev, METH_VARARGS, "process_nonrev(U, Q=None)" },
    { "process_general", py_process_general, METH_VARARGS, "process_general(A)" },
    { "coupling", py_coupling, METH_VARARGS, "coupling(form, gamma) -> M (4)" },
    { "coupling_aniso", py_coupling_aniso, METH_VARARGS, "coupling_aniso(a_x, a_y, g_xy, g_yx) -> M (4)" },
    { "coupling_check", py_coupling_check, METH_VARARGS, "None, or why M has no stationary prior" },
    { "nonrev_optimal_q", py_nonrev_optimal_q, METH_VARARGS, "the LNP optimal Q of U" },
    { "eigsym", py_eigsym, METH_VARARGS, "(ascending eigenvalues, eigenvectors in columns)" },
    { "unit", py_unit, METH_VARARGS, "v / |v| (BLAS dnrm2, dscal)" },
    { "noise_ddpm_linear", py_noise_ddpm_linear, METH_VARARGS, "noise_ddpm_linear(b0, b1, K)" },
    { "noise_ddpm_cosine", py_noise_ddpm_cosine, METH_VARARGS, "noise_ddpm_cosine(K)" },
    { "noise_table", py_noise_table, METH_VARARGS, "noise_table(abar)" },
    { "noise_read", py_noise_read, METH_VARARGS, "noise_read(path)" },
    { "grid", py_grid, METH_VARARGS, "grid(kind, T, t_end, K, extra)" },
    { "grid_noise", py_grid_noise, METH_VARARGS, "grid_noise(noise, T, t_end, extra)" },
    { "gmm2", py_gmm2, METH_VARARGS, "gmm2(N, mean_norm2, direction|None, sigma2, Cw|None)" },
    { "gmm4", py_gmm4, METH_VARARGS, "gmm4(d, mc2, md2, sigma2)" },
    { "gmm", py_gmm, METH_VARARGS, "gmm(weights, means, cov_kind, cov)" },
    { "theory", py_theory, METH_VARARGS, "theory(process, data, n_train, horizon_level, symmetric_form, phi_t)" },
    { "theory_curve", py_theory_curve, METH_VARARGS, "theory_curve(process, data, which, label, t, n_train)" },
    { "theory_phi", py_theory_phi, METH_VARARGS, "phi(kappa)" },
    { "theory_mode_time", py_theory_mode_time, METH_VARARGS, "log(1 + lambda a) / (2 lambda)" },
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
          add_methods(m, rg_py_exp_methods) < 0;
    bad = bad || rg_py_add_type(m, &rg_py_process_type, "Process") || rg_py_add_type(m, &rg_py_noise_type, "Noise") ||
          rg_py_add_type(m, &rg_py_mixture_type, "Mixture") || rg_py_add_type(m, &rg_py_mixture_theory_type, "MixtureTheory");
    bad = bad || rg_py_data_init(m) || rg_py_exp_init(m);
    bad = bad || PyModule_AddStringConstant(m, "version", RG_VERSION) < 0 ||
          PyModule_AddIntConstant(m, "CHUNK", RG_SAMPLER_CHUNK) < 0 ||
          PyModule_AddIntConstant(m, "PLATEAU_MAX_PERMILLE", (long)(RG_EXP_PLATEAU_MAX * 1000)) < 0;
    if (bad) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
