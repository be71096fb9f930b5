/* regimes._core: scores behind score.h's rg_score interface: the exact mixture and empirical scores, and
 * Python callables f(x, t).
 *
 * Python callables. A callable score is a batch score (score.h .batch = 1): the sampler calls it ONCE per
 * grid time on the whole population (sampler.h "Batch scores"), from one thread; the call takes the
 * interpreter lock (PyGILState_Ensure) and a PyTorch model runs at its own batch speed.
 * The states are copied into a fresh float32 array for the call (the callable may keep it). The first
 * exception a callable raises is kept; the call returns a non-OK status, which stops the experiment
 * (every later call returns at once), and the exception is raised again in Python when the library
 * call has returned (rg_py_cb_raise). */
#include "_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rg_py_cb_clear(rg_py_cb *c)
{
    Py_CLEAR(c->exc_type);
    Py_CLEAR(c->exc_value);
    Py_CLEAR(c->exc_tb);
    c->failed = 0;
}

/* Keep the pending exception (the first one only). Called with the lock held. */
int rg_py_cb_keep(rg_py_cb *c)
{
    if (!c->failed) {
        PyErr_Fetch(&c->exc_type, &c->exc_value, &c->exc_tb);
        c->failed = 1;
    } else {
        PyErr_Clear();
    }
    return RG_PY_CB_FAILED;
}

/* Raise the kept exception, if any (lock held): 1 when raised. */
int rg_py_cb_raise(rg_py_cb *c)
{
    if (!c->failed) return 0;
    PyErr_Restore(c->exc_type, c->exc_value, c->exc_tb);
    c->exc_type = c->exc_value = c->exc_tb = NULL;
    c->failed = 0;
    return 1;
}

/* B states as a new (B, N) float32 array, plus offset when given. */
PyObject *rg_py_cb_states(const rg_py_cb *c, size_t B, const float *x)
{
    const npy_intp dims[2] = { (npy_intp)B, (npy_intp)c->N };
    PyObject *a = PyArray_SimpleNew(2, (npy_intp *)(uintptr_t)dims, NPY_FLOAT32);
    if (!a) return NULL;
    float *y = PyArray_DATA((PyArrayObject *)a);
    if (!c->offset) memcpy(y, x, B * c->N * sizeof *y);
    else
        for (size_t i = 0; i < B * c->N; i++) y[i] = (float)((double)x[i] + c->offset[i % c->N]);
    return a;
}

/* ---- callable scores -------------------------------------------------------------------------------------- */
static int score_call(rg_py_cb *c, double t, size_t B, const float *x, float *s)
{
    PyObject *xa = rg_py_cb_states(c, B, x);
    PyObject *ret = xa ? PyObject_CallFunction(c->fn, "Od", xa, t) : NULL;
    Py_XDECREF(xa);
    if (!ret) return rg_py_cb_keep(c);
    PyArrayObject *a = rg_py_f32(ret, "the score callable's result", 2);
    Py_DECREF(ret);
    if (!a) return rg_py_cb_keep(c);
    int bad = 0;
    if ((size_t)PyArray_DIM(a, 0) != B || (size_t)PyArray_DIM(a, 1) != c->N) {
        PyErr_Format(PyExc_ValueError, "the score callable returned shape (%zd, %zd) for x of shape (%zu, %zu) at t = %g",
                     (Py_ssize_t)PyArray_DIM(a, 0), (Py_ssize_t)PyArray_DIM(a, 1), B, c->N, t);
        bad = 1;
    }
    const float *v = PyArray_DATA(a);
    for (size_t i = 0; !bad && i < B * c->N; i++)
        if (!isfinite(v[i])) {
            PyErr_Format(PyExc_ValueError, "the score callable returned NaN or Inf (row %zu) at t = %g", i / c->N, t);
            bad = 1;
        }
    if (!bad) memcpy(s, v, B * c->N * sizeof *s);
    Py_DECREF(a);
    if (bad) return rg_py_cb_keep(c);
    c->calls++, c->rows += B;
    return RG_OK;
}

static int score_cb_eval(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *extra)
{
    (void)ws, (void)extra;
    rg_py_cb *c = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    const int st = c->failed ? RG_PY_CB_FAILED : score_call(c, t, B, x, s);
    PyGILState_Release(g);
    return st;
}

static void score_dealloc(rg_py_score *self)
{
    rg_score_gmm_free(self->sg), rg_score_emp_free(self->se);
    Py_XDECREF(self->proc), Py_XDECREF(self->mix), Py_XDECREF(self->cb.fn);
    rg_py_cb_clear(&self->cb);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static rg_py_score *score_alloc(int kind, PyObject *proc)
{
    rg_py_score *o = PyObject_New(rg_py_score, &rg_py_score_type);
    if (!o) return NULL;
    memset((char *)o + sizeof(PyObject), 0, sizeof *o - sizeof(PyObject));
    o->kind = kind;
    o->proc = Py_NewRef(proc);
    return o;
}

/* score_mixture(process, mixture): the exact mixture score (docs/math.md 5.3, 5.4). */
static PyObject *py_score_mixture(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *po, *mo;
    if (!PyArg_ParseTuple(args, "O!O!", &rg_py_process_type, &po, &rg_py_mixture_type, &mo)) return NULL;
    rg_py_score *o = score_alloc(SCORE_MIXTURE, po);
    if (!o) return NULL;
    o->mix = Py_NewRef(mo);
    const int st = rg_score_gmm_new(((rg_py_process *)po)->p, ((rg_py_mixture *)mo)->g, 256, &o->sg);
    if (st != RG_OK) {
        Py_DECREF(o);
        return rg_py_fail(st);
    }
    o->score = rg_score_gmm_iface(o->sg);
    return (PyObject *)o;
}

/* score_empirical(process, X): the exact empirical score of the training set X (docs/math.md 5.2). */
static PyObject *py_score_empirical(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *po, *xo;
    if (!PyArg_ParseTuple(args, "O!O", &rg_py_process_type, &po, &xo)) return NULL;
    PyArrayObject *X = rg_py_f32(xo, "training set", 2);
    if (!X) return NULL;
    rg_py_score *o = score_alloc(SCORE_EMPIRICAL, po);
    int st = RG_OK;
    if (o) {
        Py_BEGIN_ALLOW_THREADS
        st = rg_score_emp_new(((rg_py_process *)po)->p, PyArray_DATA(X), (size_t)PyArray_DIM(X, 0),
                              (size_t)PyArray_DIM(X, 1), 256, &o->se);
        Py_END_ALLOW_THREADS
    }
    Py_DECREF(X);
    if (!o) return NULL;
    if (st != RG_OK) {
        Py_DECREF(o);
        return rg_py_fail(st);
    }
    o->score = rg_score_emp_iface(o->se);
    return (PyObject *)o;
}

/* score_callable(process, fn): fn(x (B, N) float32, t) -> (B, N). */
static PyObject *py_score_callable(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *po, *fn;
    if (!PyArg_ParseTuple(args, "O!O", &rg_py_process_type, &po, &fn)) return NULL;
    if (!PyCallable_Check(fn)) return PyErr_Format(PyExc_TypeError, "score: want a callable f(x, t), got %R", fn);
    rg_py_score *o = score_alloc(SCORE_CALLABLE, po);
    if (!o) return NULL;
    o->cb.fn = Py_NewRef(fn);
    o->cb.N = rg_process_dim(((rg_py_process *)po)->p);
    o->score = (rg_score){ .eval = score_cb_eval, .ctx = &o->cb, .batch = 1 }; /* one call per grid time */
    return (PyObject *)o;
}

/* eval(t, x) -> s: the score of rows x at time t (prepare, one workspace, chunks of RG_SAMPLER_CHUNK). */
static PyObject *score_eval(rg_py_score *self, PyObject *args)
{
    double t;
    PyObject *xo;
    if (!PyArg_ParseTuple(args, "dO", &t, &xo)) return NULL;
    const size_t N = rg_process_dim(((rg_py_process *)self->proc)->p);
    PyArrayObject *X = rg_py_f32(xo, "x", 2);
    if (!X) return NULL;
    if ((size_t)PyArray_DIM(X, 1) != N) {
        Py_DECREF(X);
        return PyErr_Format(PyExc_ValueError, "x: rows of %zd values, the process has N = %zu", (Py_ssize_t)PyArray_DIM(X, 1), N);
    }
    if (self->busy) {
        Py_DECREF(X);
        return PyErr_Format(PyExc_RuntimeError, "this score is in use by another call");
    }
    const size_t B = (size_t)PyArray_DIM(X, 0);
    PyObject *S = PyArray_SimpleNew(2, PyArray_DIMS(X), NPY_FLOAT32);
    int st = S ? RG_OK : RG_ENOMEM;
    self->busy = 1;
    rg_py_cb_clear(&self->cb);
    if (S) {
        const rg_score *sc = &self->score;
        const float *x = PyArray_DATA(X);
        float *s = PyArray_DATA((PyArrayObject *)S);
        Py_BEGIN_ALLOW_THREADS
        void *ws = sc->ws_new ? sc->ws_new(sc->ctx, RG_SAMPLER_CHUNK) : NULL;
        if (sc->ws_new && !ws) st = RG_ENOMEM;
        if (st == RG_OK && sc->prepare) st = sc->prepare(sc->ctx, t);
        for (size_t i = 0; i < B && st == RG_OK; i += RG_SAMPLER_CHUNK) {
            const size_t b = B - i < RG_SAMPLER_CHUNK ? B - i : RG_SAMPLER_CHUNK;
            st = sc->eval(sc->ctx, ws, t, b, x + i * N, s + i * N, NULL);
        }
        if (sc->ws_free) sc->ws_free(ws);
        Py_END_ALLOW_THREADS
    }
    self->busy = 0;
    Py_DECREF(X);
    if (rg_py_cb_raise(&self->cb) || st != RG_OK) {
        Py_XDECREF(S);
        return PyErr_Occurred() ? NULL : rg_py_fail(st);
    }
    return S;
}

/* calls() -> (calls, rows) of a callable since the last reset; reset with calls(True). */
static PyObject *score_calls(rg_py_score *self, PyObject *args)
{
    int reset = 0;
    if (!PyArg_ParseTuple(args, "|p", &reset)) return NULL;
    PyObject *r = Py_BuildValue("(KK)", self->cb.calls, self->cb.rows);
    if (reset) self->cb.calls = self->cb.rows = 0;
    return r;
}

static PyMethodDef score_methods[] = {
    { "eval", (PyCFunction)score_eval, METH_VARARGS, "eval(t, x) -> s (B, N) float32" },
    { "calls", (PyCFunction)score_calls, METH_VARARGS, "calls(reset=False) -> (calls, rows) of a callable" },
    { NULL, NULL, 0, NULL },
};

PyTypeObject rg_py_score_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Score",
    .tp_basicsize = sizeof(rg_py_score),
    .tp_dealloc = (destructor)score_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a score behind score.h's rg_score interface: the exact mixture or empirical score, or a callable",
    .tp_methods = score_methods,
};

PyMethodDef rg_py_score_methods[] = {
    { "score_mixture", py_score_mixture, METH_VARARGS, "score_mixture(process, mixture)" },
    { "score_empirical", py_score_empirical, METH_VARARGS, "score_empirical(process, X)" },
    { "score_callable", py_score_callable, METH_VARARGS, "score_callable(process, fn)" },
    { NULL, NULL, 0, NULL },
};
