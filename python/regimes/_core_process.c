/* regimes._core: forward processes (process.h, nonrev.h), noise schedules (noise.h) and time grids
 * (sampler.h). */
#include "_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

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

PyMethodDef rg_py_process_methods[] = {
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
    { NULL, NULL, 0, NULL },
};
