/* regimes._core: scores and labellers (built-in or Python callables), theory curves, and the experiments
 * (experiment.h: rg_exp_clone, rg_exp_sample, rg_exp_collapse) with the interpreter lock released.
 *
 * Python callables. The library calls a callable score from the sampler, possibly from several OpenMP
 * threads at once: each call takes the interpreter lock (PyGILState_Ensure), so calls are serialised.
 * The states are copied into a fresh float32 array for the call (the callable may keep it). The first
 * exception a callable raises is kept; the call returns a non-OK status, which stops the experiment
 * (every later call returns at once), and the exception is raised again in Python when the library
 * call has returned. */
#include "_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CB_FAILED RG_EINVAL /* the status a failed callable returns to the library */

typedef struct {
    PyObject *fn;
    size_t N;            /* values per row */
    size_t n_modes;      /* labeller: labels per row */
    double *offset;      /* labeller: (N) added to the states before the call, or NULL */
    PyObject *exc_type, *exc_value, *exc_tb; /* the first exception of this run */
    int failed;
    unsigned long long calls, rows;          /* since creation (or the last reset) */
} py_cb;

static void cb_clear(py_cb *c)
{
    Py_CLEAR(c->exc_type);
    Py_CLEAR(c->exc_value);
    Py_CLEAR(c->exc_tb);
    c->failed = 0;
}

/* Keep the pending exception (the first one only). Called with the lock held. */
static int cb_keep(py_cb *c)
{
    if (!c->failed) {
        PyErr_Fetch(&c->exc_type, &c->exc_value, &c->exc_tb);
        c->failed = 1;
    } else {
        PyErr_Clear();
    }
    return CB_FAILED;
}

/* Raise the kept exception, if any (lock held): 1 when raised. */
static int cb_raise(py_cb *c)
{
    if (!c->failed) return 0;
    PyErr_Restore(c->exc_type, c->exc_value, c->exc_tb);
    c->exc_type = c->exc_value = c->exc_tb = NULL;
    c->failed = 0;
    return 1;
}

/* B states as a new (B, N) float32 array, plus offset when given. */
static PyObject *cb_states(const py_cb *c, size_t B, const float *x)
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
static int score_call(py_cb *c, double t, size_t B, const float *x, float *s)
{
    PyObject *xa = cb_states(c, B, x);
    PyObject *ret = xa ? PyObject_CallFunction(c->fn, "Od", xa, t) : NULL;
    Py_XDECREF(xa);
    if (!ret) return cb_keep(c);
    PyArrayObject *a = rg_py_f32(ret, "the score callable's result", 2);
    Py_DECREF(ret);
    if (!a) return cb_keep(c);
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
    if (bad) return cb_keep(c);
    c->calls++, c->rows += B;
    return RG_OK;
}

static int score_cb_eval(void *ctx, void *ws, double t, size_t B, const float *x, float *s, rg_score_extra *extra)
{
    (void)ws, (void)extra;
    py_cb *c = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    const int st = c->failed ? CB_FAILED : score_call(c, t, B, x, s);
    PyGILState_Release(g);
    return st;
}

/* ---- score objects ---------------------------------------------------------------------------------------- */
enum { SCORE_MIXTURE, SCORE_EMPIRICAL, SCORE_CALLABLE };

typedef struct {
    PyObject_HEAD
    rg_score score;
    int kind, busy;
    rg_score_gmm *sg;
    rg_score_emp *se;
    PyObject *proc, *mix;  /* kept alive: the score objects point to them */
    py_cb cb;
} rg_py_score;

static void score_dealloc(rg_py_score *self)
{
    rg_score_gmm_free(self->sg), rg_score_emp_free(self->se);
    Py_XDECREF(self->proc), Py_XDECREF(self->mix), Py_XDECREF(self->cb.fn);
    cb_clear(&self->cb);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject score_type;

static rg_py_score *score_alloc(int kind, PyObject *proc)
{
    rg_py_score *o = PyObject_New(rg_py_score, &score_type);
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
    o->score = (rg_score){ .eval = score_cb_eval, .ctx = &o->cb };
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
    cb_clear(&self->cb);
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
    if (cb_raise(&self->cb) || st != RG_OK) {
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

static PyTypeObject score_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Score",
    .tp_basicsize = sizeof(rg_py_score),
    .tp_dealloc = (destructor)score_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a score behind score.h's rg_score interface: the exact mixture or empirical score, or a callable",
    .tp_methods = score_methods,
};

/* ---- labellers ---------------------------------------------------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    rg_exp_labeller lab;
    int busy;
    PyObject *ref;      /* a mixture or model the labeller points to */
    py_cb cb;
    char names[4][32];  /* a callable's mode names */
} rg_py_labeller;

static void labeller_dealloc(rg_py_labeller *self)
{
    rg_exp_labeller_free(&self->lab);
    Py_XDECREF(self->ref), Py_XDECREF(self->cb.fn);
    free(self->cb.offset);
    cb_clear(&self->cb);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject labeller_type;

static PyObject *labeller_wrap(int st, rg_exp_labeller *lab, PyObject *ref)
{
    if (st != RG_OK) return rg_py_fail(st);
    rg_py_labeller *o = PyObject_New(rg_py_labeller, &labeller_type);
    if (!o) {
        rg_exp_labeller_free(lab);
        return NULL;
    }
    memset((char *)o + sizeof(PyObject), 0, sizeof *o - sizeof(PyObject));
    o->lab = *lab;
    o->ref = ref ? Py_NewRef(ref) : NULL;
    return (PyObject *)o;
}

static PyObject *py_labeller_sign(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *mo;
    if (!PyArg_ParseTuple(args, "O", &mo)) return NULL;
    PyArrayObject *m = rg_py_f64(mo, "m", 1);
    if (!m) return NULL;
    rg_exp_labeller lab;
    const int st = rg_exp_labeller_sign((size_t)PyArray_DIM(m, 0), PyArray_DATA(m), &lab);
    Py_DECREF(m);
    return labeller_wrap(st, &lab, NULL);
}

static PyObject *py_labeller_gmm4(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *co, *dop;
    if (!PyArg_ParseTuple(args, "OO", &co, &dop)) return NULL;
    PyArrayObject *c = rg_py_f64(co, "m_c", 1), *d = c ? rg_py_f64(dop, "m_d", 1) : NULL;
    PyObject *res = NULL;
    if (d && PyArray_DIM(c, 0) != PyArray_DIM(d, 0)) PyErr_SetString(PyExc_ValueError, "m_c and m_d differ in length");
    else if (d) {
        rg_exp_labeller lab;
        const int st = rg_exp_labeller_gmm4((size_t)PyArray_DIM(c, 0), PyArray_DATA(c), PyArray_DATA(d), &lab);
        res = labeller_wrap(st, &lab, NULL);
    }
    Py_XDECREF(c), Py_XDECREF(d);
    return res;
}

static PyObject *py_labeller_mixture(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *mo;
    if (!PyArg_ParseTuple(args, "O!", &rg_py_mixture_type, &mo)) return NULL;
    rg_exp_labeller lab;
    return labeller_wrap(rg_exp_labeller_mixture(((rg_py_mixture *)mo)->g, &lab), &lab, mo);
}

static PyObject *py_labeller_nearest_mean(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *mo;
    if (!PyArg_ParseTuple(args, "O", &mo)) return NULL;
    PyArrayObject *m = rg_py_f64(mo, "class means", 2);
    if (!m) return NULL;
    rg_exp_labeller lab;
    const int st = rg_exp_labeller_nearest_mean((size_t)PyArray_DIM(m, 0), (size_t)PyArray_DIM(m, 1), PyArray_DATA(m), &lab);
    Py_DECREF(m);
    return labeller_wrap(st, &lab, NULL);
}

static PyObject *py_labeller_nearest_point(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *xo, *lo;
    if (!PyArg_ParseTuple(args, "OO", &xo, &lo)) return NULL;
    PyArrayObject *X = rg_py_f32(xo, "X", 2), *L = X ? rg_py_labels(lo, "labels", 1) : NULL;
    PyObject *res = NULL;
    if (L && PyArray_DIM(L, 0) != PyArray_DIM(X, 0)) PyErr_SetString(PyExc_ValueError, "labels: one per row of X");
    else if (L) {
        rg_exp_labeller lab;
        const int st = rg_exp_labeller_nearest_point(PyArray_DATA(X), (size_t)PyArray_DIM(X, 0), (size_t)PyArray_DIM(X, 1),
                                                     PyArray_DATA(L), &lab);
        res = labeller_wrap(st, &lab, NULL);
    }
    Py_XDECREF(X), Py_XDECREF(L);
    return res;
}

static PyObject *py_labeller_classifier(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *mo, *oo;
    Py_ssize_t views;
    if (!PyArg_ParseTuple(args, "O!On", &rg_py_model_type, &mo, &oo, &views)) return NULL;
    const rg_nn_model *m = ((rg_py_model *)mo)->m;
    PyArrayObject *off = oo != Py_None ? rg_py_f64(oo, "offset", 1) : NULL;
    if (oo != Py_None && !off) return NULL;
    if (off && (size_t)PyArray_DIM(off, 0) != rg_nn_model_arch(m)->n_in) {
        Py_DECREF(off);
        return PyErr_Format(PyExc_ValueError, "offset: want %zu values", rg_nn_model_arch(m)->n_in);
    }
    rg_exp_labeller lab;
    const int st = rg_exp_labeller_classifier(m, off ? PyArray_DATA(off) : NULL, views < 0 ? 0 : (size_t)views, &lab);
    Py_XDECREF(off);
    return labeller_wrap(st, &lab, mo);
}

static int label_cb(void *ctx, size_t B, const float *X, int *labels)
{
    py_cb *c = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    int st = CB_FAILED;
    if (c->failed) goto done;
    PyObject *xa = cb_states(c, B, X);
    PyObject *ret = xa ? PyObject_CallOneArg(c->fn, xa) : NULL;
    Py_XDECREF(xa);
    PyArrayObject *a = ret ? rg_py_labels(ret, "the labeller callable's result", -1) : NULL;
    Py_XDECREF(ret);
    if (!a) {
        st = cb_keep(c);
        goto done;
    }
    const int nd = PyArray_NDIM(a);
    const int ok = (nd == 1 && c->n_modes == 1 && (size_t)PyArray_DIM(a, 0) == B) ||
                   (nd == 2 && (size_t)PyArray_DIM(a, 0) == B && (size_t)PyArray_DIM(a, 1) == c->n_modes);
    if (!ok) {
        PyObject *shape = PyObject_GetAttrString((PyObject *)a, "shape");
        if (c->n_modes == 1) PyErr_Format(PyExc_ValueError, "the labeller callable returned labels of shape %R; want (%zu,)", shape, B);
        else PyErr_Format(PyExc_ValueError, "the labeller callable returned labels of shape %R; want (%zu, %zu)", shape, B, c->n_modes);
        Py_XDECREF(shape);
        Py_DECREF(a);
        st = cb_keep(c);
        goto done;
    }
    memcpy(labels, PyArray_DATA(a), B * c->n_modes * sizeof *labels);
    Py_DECREF(a);
    c->calls++, c->rows += B;
    st = RG_OK;
done:
    PyGILState_Release(g);
    return st;
}

/* labeller_callable(fn, N, n_modes, n_classes, names|None, offset|None): fn(x (B, N)) -> (B,) or (B, L). */
static PyObject *py_labeller_callable(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *fn, *names, *oo;
    Py_ssize_t N, L, K;
    if (!PyArg_ParseTuple(args, "OnnnOO", &fn, &N, &L, &K, &names, &oo)) return NULL;
    if (!PyCallable_Check(fn)) return PyErr_Format(PyExc_TypeError, "labeller: want a callable f(x), got %R", fn);
    if (N < 1 || L < 1 || L > 4 || K < 2)
        return PyErr_Format(PyExc_ValueError, "labeller: want 1 to 4 labels per row and at least 2 classes (got %zd, %zd)", L, K);
    PyArrayObject *off = oo != Py_None ? rg_py_f64(oo, "offset", 1) : NULL;
    if (oo != Py_None && (!off || PyArray_DIM(off, 0) != N)) {
        Py_XDECREF(off);
        return off ? PyErr_Format(PyExc_ValueError, "offset: want %zd values", N) : NULL;
    }
    rg_exp_labeller lab = { .n_modes = (size_t)L, .n_classes = (size_t)K };
    rg_py_labeller *o = (rg_py_labeller *)labeller_wrap(RG_OK, &lab, NULL);
    if (o && off) {
        o->cb.offset = malloc((size_t)N * sizeof(double));
        if (o->cb.offset) memcpy(o->cb.offset, PyArray_DATA(off), (size_t)N * sizeof(double));
        else {
            Py_CLEAR(o);
            PyErr_NoMemory();
        }
    }
    Py_XDECREF(off);
    if (!o) return NULL;
    o->cb.fn = Py_NewRef(fn), o->cb.N = (size_t)N, o->cb.n_modes = (size_t)L;
    o->lab.label = label_cb, o->lab.ctx = &o->cb;
    for (Py_ssize_t l = 0; l < L; l++) {
        PyObject *s = names != Py_None && l < PySequence_Size(names) ? PySequence_GetItem(names, l) : NULL;
        const char *u = s ? PyUnicode_AsUTF8(s) : NULL;
        snprintf(o->names[l], sizeof o->names[l], "%s", u ? u : L == 1 ? "label" : "mode");
        Py_XDECREF(s);
        PyErr_Clear();
        o->lab.names[l] = o->names[l];
    }
    return (PyObject *)o;
}

static PyObject *labeller_info(rg_py_labeller *self, PyObject *noargs)
{
    (void)noargs;
    PyObject *names = PyList_New(0);
    for (size_t l = 0; names && l < self->lab.n_modes; l++) {
        PyObject *s = PyUnicode_FromString(self->lab.names[l] ? self->lab.names[l] : "mode");
        if (!s || PyList_Append(names, s) < 0) Py_CLEAR(names);
        Py_XDECREF(s);
    }
    if (!names) return NULL;
    return Py_BuildValue("{s:n,s:n,s:N}", "n_modes", (Py_ssize_t)self->lab.n_modes, "n_classes",
                         (Py_ssize_t)self->lab.n_classes, "names", names);
}

static PyObject *labeller_label(rg_py_labeller *self, PyObject *args)
{
    PyObject *xo;
    if (!PyArg_ParseTuple(args, "O", &xo)) return NULL;
    PyArrayObject *X = rg_py_f32(xo, "x", 2);
    if (!X) return NULL;
    if (self->busy) {
        Py_DECREF(X);
        return PyErr_Format(PyExc_RuntimeError, "this labeller is in use by another call");
    }
    const size_t B = (size_t)PyArray_DIM(X, 0), L = self->lab.n_modes;
    const npy_intp dims[2] = { (npy_intp)B, (npy_intp)L };
    PyObject *out = PyArray_SimpleNew(2, (npy_intp *)(uintptr_t)dims, NPY_INT);
    int st = RG_OK;
    self->busy = 1;
    cb_clear(&self->cb);
    if (out) {
        Py_BEGIN_ALLOW_THREADS
        st = B ? self->lab.label(self->lab.ctx, B, PyArray_DATA(X), PyArray_DATA((PyArrayObject *)out)) : RG_OK;
        Py_END_ALLOW_THREADS
    }
    self->busy = 0;
    Py_DECREF(X);
    if (cb_raise(&self->cb) || st != RG_OK) {
        Py_XDECREF(out);
        return PyErr_Occurred() ? NULL : rg_py_fail(st);
    }
    return out;
}

static PyMethodDef labeller_methods[] = {
    { "info", (PyCFunction)labeller_info, METH_NOARGS, "n_modes, n_classes, names" },
    { "label", (PyCFunction)labeller_label, METH_VARARGS, "label(x) -> (B, L) int labels" },
    { NULL, NULL, 0, NULL },
};

static PyTypeObject labeller_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Labeller",
    .tp_basicsize = sizeof(rg_py_labeller),
    .tp_dealloc = (destructor)labeller_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a labeller (experiment.h): built-in rule or a callable",
    .tp_methods = labeller_methods,
};

/* ---- theory curves for the result columns ------------------------------------------------------------------ */
enum { CURVE_PHI_MIXTURE, CURVE_PHI_DATA, CURVE_F_MIXTURE, CURVE_F_DATA };

typedef struct {
    PyObject_HEAD
    int kind;
    unsigned mask;      /* modes that have a phi curve */
    double P;           /* collapse: training points */
    PyObject *proc, *data;
} rg_py_curve;

static void curve_dealloc(rg_py_curve *self)
{
    Py_XDECREF(self->proc), Py_XDECREF(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The CLI's theory columns (cli/source.c env_phi, env_collapse_f): phi of mode l under mixture data (docs/math.md
 * 7.2), phi(kappa_t) of a labelled two-class data set, or the collapse f(t); NAN for modes without one. */
static int curve_fn(void *ctx, size_t mode, double t, double *v)
{
    const rg_py_curve *c = ctx;
    const rg_process *p = ((rg_py_process *)c->proc)->p;
    *v = NAN;
    const int has = mode < 32 && (c->mask >> mode & 1u);
    switch (c->kind) {
    case CURVE_PHI_MIXTURE: return has ? rg_theory_phi_at(p, &((rg_py_mixture_theory *)c->data)->d, mode, t, v) : RG_OK;
    case CURVE_PHI_DATA: {
        double kappa;
        if (!has) return RG_OK;
        const int st = rg_theory_dataset_kappa(p, ((rg_py_dataset *)c->data)->ds, t, &kappa);
        if (st == RG_OK) *v = rg_theory_phi(kappa);
        return st;
    }
    case CURVE_F_MIXTURE: return rg_theory_collapse_f(p, &((rg_py_mixture_theory *)c->data)->d, c->P, t, v);
    default: return rg_theory_dataset_collapse_f(p, ((rg_py_dataset *)c->data)->ds, c->P, t, v);
    }
}

static PyTypeObject curve_type;

/* curve(kind, process, data, mask, P): data is a MixtureTheory (kinds 0, 2) or a Dataset (1, 3). */
static PyObject *py_curve(PyObject *self, PyObject *args)
{
    (void)self;
    int kind;
    PyObject *po, *d;
    unsigned int mask;
    double P;
    if (!PyArg_ParseTuple(args, "iO!OId", &kind, &rg_py_process_type, &po, &d, &mask, &P)) return NULL;
    const int mix = kind == CURVE_PHI_MIXTURE || kind == CURVE_F_MIXTURE;
    if (kind < 0 || kind > CURVE_F_DATA || !PyObject_TypeCheck(d, mix ? &rg_py_mixture_theory_type : &rg_py_dataset_type))
        return PyErr_Format(PyExc_TypeError, "curve: kind %d does not take %R", kind, (PyObject *)Py_TYPE(d));
    rg_py_curve *o = PyObject_New(rg_py_curve, &curve_type);
    if (!o) return NULL;
    o->kind = kind, o->mask = mask, o->P = P, o->proc = Py_NewRef(po), o->data = Py_NewRef(d);
    return (PyObject *)o;
}

static PyTypeObject curve_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Curve",
    .tp_basicsize = sizeof(rg_py_curve),
    .tp_dealloc = (destructor)curve_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a theory curve for an experiment's theory column",
};

/* ---- experiments ------------------------------------------------------------------------------------------ */
/* The objects a run uses: score and labeller are marked busy for its duration (their caches and
 * workspaces are not shared between concurrent calls), and their callables' state is reset. */
typedef struct {
    rg_py_score *score;
    rg_py_labeller *lab;
} run_objs;

static int run_begin(run_objs *r)
{
    if ((r->score && r->score->busy) || (r->lab && r->lab->busy)) {
        PyErr_SetString(PyExc_RuntimeError, "the score or labeller is in use by another call (one call at a time)");
        return -1;
    }
    if (r->score) r->score->busy = 1, cb_clear(&r->score->cb);
    if (r->lab) r->lab->busy = 1, cb_clear(&r->lab->cb);
    return 0;
}

/* After the library call: NULL after raising (a callable's exception first, then the status), else 1. */
static int run_end(run_objs *r, int st)
{
    if (r->score) r->score->busy = 0;
    if (r->lab) r->lab->busy = 0;
    const int raised = (r->score && cb_raise(&r->score->cb)) || (r->lab && cb_raise(&r->lab->cb));
    if (r->score) cb_clear(&r->score->cb);
    if (r->lab) cb_clear(&r->lab->cb);
    if (raised) return 0;
    if (st != RG_OK) {
        rg_py_fail(st);
        return 0;
    }
    return 1;
}

/* A 1-D double array argument (new reference) or NULL; None gives an empty array when allow_none. */
static PyArrayObject *times_arg(PyObject *o, const char *name, int allow_none)
{
    if (o == Py_None && allow_none) {
        const npy_intp z[1] = { 0 };
        return (PyArrayObject *)PyArray_SimpleNew(1, (npy_intp *)(uintptr_t)z, NPY_DOUBLE);
    }
    return rg_py_f64(o, name, 1);
}

#define OWN(d, key, ptr, nd, dims, type) (rg_py_set((d), (key), rg_py_own((ptr), (nd), (dims), (type))) < 0 ? ((ptr) = NULL, -1) : ((ptr) = NULL, 0))

static PyObject *clone_dict(rg_exp_clone_result *r, const rg_exp_labeller *lab)
{
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    const size_t m = r->n_branch, L = r->n_modes, K = r->n_classes, n = r->n_pairs;
    const npy_intp dm[1] = { (npy_intp)m }, dl[1] = { (npy_intp)L }, dlm[2] = { (npy_intp)L, (npy_intp)m };
    const npy_intp dlk[2] = { (npy_intp)L, (npy_intp)K }, dlab[3] = { (npy_intp)m, (npy_intp)n, (npy_intp)(2 * L) };
    char buf[4096];
    const size_t nw = rg_exp_clone_warnings(r, lab, buf, sizeof buf);
    PyObject *warn = PyList_New(0);
    for (char *p = buf, *nl; warn && nw && (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        PyObject *s = PyUnicode_FromString(p);
        if (!s || PyList_Append(warn, s) < 0) Py_CLEAR(warn);
        Py_XDECREF(s);
    }
    int bad = rg_py_set(d, "warnings", warn) < 0;
    bad = bad || OWN(d, "t_b", r->t_b, 1, dm, NPY_DOUBLE) || OWN(d, "phi", r->phi, 2, dlm, NPY_DOUBLE) ||
          OWN(d, "phi_lo", r->phi_lo, 2, dlm, NPY_DOUBLE) || OWN(d, "phi_hi", r->phi_hi, 2, dlm, NPY_DOUBLE) ||
          OWN(d, "phi_theory", r->phi_theory, 2, dlm, NPY_DOUBLE) || OWN(d, "t_s", r->t_s, 1, dl, NPY_DOUBLE) ||
          OWN(d, "t_s_lo", r->t_s_lo, 1, dl, NPY_DOUBLE) || OWN(d, "t_s_hi", r->t_s_hi, 1, dl, NPY_DOUBLE) ||
          OWN(d, "class_frac", r->class_frac, 2, dlk, NPY_DOUBLE) || OWN(d, "labels", r->labels, 3, dlab, NPY_INT);
    bad = bad || rg_py_setf(d, "gap", r->gap) || rg_py_setf(d, "gap_lo", r->gap_lo) || rg_py_setf(d, "gap_hi", r->gap_hi) ||
          rg_py_set(d, "n_pairs", PyLong_FromSize_t(n));
    if (bad) Py_CLEAR(d);
    return d;
}

static PyObject *py_clone(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = { "process", "score", "labeller", "method", "grid", "seed", "t_b", "n_pairs", "trunk",
                              "n_boot", "level", "theory", "id0", NULL };
    PyObject *po, *so, *lo, *go, *tbo, *theory = Py_None;
    int method, trunk = 0;
    unsigned long long seed, id0 = 0;
    Py_ssize_t n_pairs, n_boot = 0;
    double level = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!O!iOKOn|indOK", kwlist, &rg_py_process_type, &po, &score_type, &so,
                                     &labeller_type, &lo, &method, &go, &seed, &tbo, &n_pairs, &trunk, &n_boot, &level,
                                     &theory, &id0))
        return NULL;
    if (theory != Py_None && !PyObject_TypeCheck(theory, &curve_type))
        return PyErr_Format(PyExc_TypeError, "theory: want a Curve or None");
    if (n_pairs < 1 || n_boot < 0) return PyErr_Format(PyExc_ValueError, "clone: want n_pairs >= 1, n_boot >= 0");
    PyArrayObject *grid = times_arg(go, "grid", 0), *tb = grid ? times_arg(tbo, "branch times", 0) : NULL;
    if (!tb) {
        Py_XDECREF(grid);
        return NULL;
    }
    run_objs ro = { (rg_py_score *)so, (rg_py_labeller *)lo };
    const rg_exp_clone_cfg c = {
        .run = { .proc = ((rg_py_process *)po)->p, .score = ro.score->score, .method = (rg_sampler_method)method,
                 .grid = PyArray_DATA(grid), .n_grid = (size_t)PyArray_DIM(grid, 0), .seed = seed, .id0 = id0 },
        .trunk = (rg_exp_trunk)trunk, .t_b = PyArray_DATA(tb), .n_branch = (size_t)PyArray_DIM(tb, 0),
        .n_pairs = (size_t)n_pairs, .lab = &ro.lab->lab, .n_boot = (size_t)n_boot, .level = level,
        .theory = theory != Py_None ? curve_fn : NULL, .theory_ctx = theory != Py_None ? (void *)theory : NULL };
    PyObject *res = NULL;
    if (run_begin(&ro) == 0) {
        rg_exp_clone_result r;
        int st;
        Py_BEGIN_ALLOW_THREADS
        st = rg_exp_clone(&c, &r);
        Py_END_ALLOW_THREADS
        if (run_end(&ro, st)) res = clone_dict(&r, &ro.lab->lab);
        if (st == RG_OK) rg_exp_clone_result_free(&r);
    }
    Py_DECREF(grid), Py_DECREF(tb);
    return res;
}

static PyObject *sample_dict(rg_exp_sample_result *r)
{
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    const npy_intp dx[2] = { (npy_intp)r->n, (npy_intp)r->N }, dlk[2] = { (npy_intp)r->n_modes, (npy_intp)r->n_classes };
    const npy_intp dr[1] = { (npy_intp)r->n_rec }, dn[1] = { (npy_intp)r->n };
    int bad = rg_py_set(d, "n", PyLong_FromSize_t(r->n)) || rg_py_set(d, "N", PyLong_FromSize_t(r->N));
    bad = bad || (r->x ? OWN(d, "x", r->x, 2, dx, NPY_FLOAT32) : PyDict_SetItemString(d, "x", Py_None));
    bad = bad || (r->class_frac ? OWN(d, "class_frac", r->class_frac, 2, dlk, NPY_DOUBLE)
                                : PyDict_SetItemString(d, "class_frac", Py_None));
    if (!bad && r->rec_t) {
        bad = OWN(d, "rec_t", r->rec_t, 1, dr, NPY_DOUBLE) || OWN(d, "mem", r->mem, 1, dr, NPY_DOUBLE) ||
              OWN(d, "mem_lo", r->mem_lo, 1, dr, NPY_DOUBLE) || OWN(d, "mem_hi", r->mem_hi, 1, dr, NPY_DOUBLE) ||
              OWN(d, "on_final", r->on_final, 1, dr, NPY_DOUBLE) || OWN(d, "last_switch", r->last_switch, 1, dn, NPY_DOUBLE);
    }
    bad = bad || rg_py_setf(d, "mem_final", r->mem_final) || rg_py_setf(d, "mem_final_lo", r->mem_final_lo) ||
          rg_py_setf(d, "mem_final_hi", r->mem_final_hi) || rg_py_setf(d, "switch_mean", r->switch_mean) ||
          rg_py_setf(d, "switch_sd", r->switch_sd);
    if (bad) Py_CLEAR(d);
    return d;
}

/* The training set and record times of a memorisation run (both or neither). */
static int train_args(PyObject *xo, PyObject *ro, PyArrayObject **X, PyArrayObject **rec)
{
    *X = NULL, *rec = NULL;
    if (xo == Py_None) return 0;
    if (!(*X = rg_py_f32(xo, "training set", 2))) return -1;
    if (!(*rec = times_arg(ro, "record times", 1))) {
        Py_CLEAR(*X);
        return -1;
    }
    return 0;
}

static PyObject *py_sample(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = { "process", "score", "method", "grid", "seed", "n", "labeller", "train", "rec_t", "keep",
                              "id0", NULL };
    PyObject *po, *so, *go, *lo = Py_None, *xo = Py_None, *ro = Py_None;
    int method, keep = 1;
    unsigned long long seed, id0 = 0;
    Py_ssize_t n;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!iOKn|OOOpK", kwlist, &rg_py_process_type, &po, &score_type, &so,
                                     &method, &go, &seed, &n, &lo, &xo, &ro, &keep, &id0))
        return NULL;
    if (lo != Py_None && !PyObject_TypeCheck(lo, &labeller_type)) return PyErr_Format(PyExc_TypeError, "labeller: want a Labeller or None");
    if (n < 0) return PyErr_Format(PyExc_ValueError, "sample: n = %zd", n);
    PyArrayObject *grid = times_arg(go, "grid", 0), *X = NULL, *rec = NULL;
    if (!grid || train_args(xo, ro, &X, &rec) < 0) {
        Py_XDECREF(grid);
        return NULL;
    }
    run_objs r_o = { (rg_py_score *)so, lo != Py_None ? (rg_py_labeller *)lo : NULL };
    const rg_exp_sample_cfg c = {
        .run = { .proc = ((rg_py_process *)po)->p, .score = r_o.score->score, .method = (rg_sampler_method)method,
                 .grid = PyArray_DATA(grid), .n_grid = (size_t)PyArray_DIM(grid, 0), .seed = seed, .id0 = id0 },
        .n = (size_t)n, .lab = r_o.lab ? &r_o.lab->lab : NULL, .train = X ? PyArray_DATA(X) : NULL,
        .P = X ? (size_t)PyArray_DIM(X, 0) : 0, .rec_t = rec ? PyArray_DATA(rec) : NULL,
        .n_rec = rec ? (size_t)PyArray_DIM(rec, 0) : 0, .keep = keep };
    PyObject *res = NULL;
    if (X && (size_t)PyArray_DIM(X, 1) != rg_process_dim(c.run.proc))
        PyErr_Format(PyExc_ValueError, "training set: rows of %zd values, the process has N = %zu", (Py_ssize_t)PyArray_DIM(X, 1),
                     rg_process_dim(c.run.proc));
    else if (run_begin(&r_o) == 0) {
        rg_exp_sample_result r;
        int st;
        Py_BEGIN_ALLOW_THREADS
        st = rg_exp_sample(&c, &r);
        Py_END_ALLOW_THREADS
        if (run_end(&r_o, st)) res = sample_dict(&r);
        if (st == RG_OK) rg_exp_sample_result_free(&r);
    }
    Py_DECREF(grid), Py_XDECREF(X), Py_XDECREF(rec);
    return res;
}

static PyObject *collapse_dict(rg_exp_collapse_result *r)
{
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    const npy_intp df[1] = { (npy_intp)r->n_f };
    int bad = OWN(d, "t_f", r->t_f, 1, df, NPY_DOUBLE) || OWN(d, "f", r->f, 1, df, NPY_DOUBLE) ||
              OWN(d, "f_lo", r->f_lo, 1, df, NPY_DOUBLE) || OWN(d, "f_hi", r->f_hi, 1, df, NPY_DOUBLE) ||
              OWN(d, "f_theory", r->f_theory, 1, df, NPY_DOUBLE);
    bad = bad || rg_py_setf(d, "alpha", r->alpha) || rg_py_setf(d, "t_c", r->t_c) || rg_py_setf(d, "t_c_lo", r->t_c_lo) ||
          rg_py_setf(d, "t_c_hi", r->t_c_hi) || rg_py_setf(d, "t_c_theory", r->t_c_theory) ||
          rg_py_set(d, "P", PyLong_FromSize_t(r->P)) || rg_py_set(d, "N", PyLong_FromSize_t(r->N)) ||
          rg_py_set(d, "traj", sample_dict(&r->traj));
    if (bad) Py_CLEAR(d);
    return d;
}

static PyObject *py_collapse(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = { "process", "score", "method", "grid", "seed", "n_traj", "train", "rec_t", "t_f",
                              "n_samples", "level", "theory", NULL };
    PyObject *po, *so, *go, *xo, *ro, *fo, *theory = Py_None;
    int method;
    unsigned long long seed;
    Py_ssize_t n_traj, n_samples;
    double level = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!iOKnOOOn|dO", kwlist, &rg_py_process_type, &po, &score_type, &so,
                                     &method, &go, &seed, &n_traj, &xo, &ro, &fo, &n_samples, &level, &theory))
        return NULL;
    if (theory != Py_None && !PyObject_TypeCheck(theory, &curve_type))
        return PyErr_Format(PyExc_TypeError, "theory: want a Curve or None");
    if (n_traj < 0 || n_samples < 1) return PyErr_Format(PyExc_ValueError, "collapse: want n_traj >= 0, n_samples >= 1");
    PyArrayObject *grid = times_arg(go, "grid", 0), *X = NULL, *rec = NULL, *tf = NULL;
    if (!grid || train_args(xo, ro, &X, &rec) < 0 || !(tf = times_arg(fo, "entropy times", 0)) || !X) {
        if (grid && !X && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "collapse: want the training set");
        Py_XDECREF(grid), Py_XDECREF(X), Py_XDECREF(rec), Py_XDECREF(tf);
        return NULL;
    }
    run_objs r_o = { (rg_py_score *)so, NULL };
    const rg_exp_collapse_cfg c = {
        .traj = { .run = { .proc = ((rg_py_process *)po)->p, .score = r_o.score->score, .method = (rg_sampler_method)method,
                           .grid = PyArray_DATA(grid), .n_grid = (size_t)PyArray_DIM(grid, 0), .seed = seed },
                  .n = (size_t)n_traj, .train = PyArray_DATA(X), .P = (size_t)PyArray_DIM(X, 0),
                  .rec_t = PyArray_DATA(rec), .n_rec = (size_t)PyArray_DIM(rec, 0) },
        .t_f = PyArray_DATA(tf), .n_f = (size_t)PyArray_DIM(tf, 0), .n_samples = (size_t)n_samples, .level = level,
        .theory = theory != Py_None ? curve_fn : NULL, .theory_ctx = theory != Py_None ? (void *)theory : NULL };
    PyObject *res = NULL;
    if (run_begin(&r_o) == 0) {
        rg_exp_collapse_result r;
        int st;
        Py_BEGIN_ALLOW_THREADS
        st = rg_exp_collapse(&c, &r);
        Py_END_ALLOW_THREADS
        if (run_end(&r_o, st)) res = collapse_dict(&r);
        if (st == RG_OK) rg_exp_collapse_result_free(&r);
    }
    Py_DECREF(grid), Py_DECREF(X), Py_DECREF(rec), Py_DECREF(tf);
    return res;
}

PyMethodDef rg_py_exp_methods[] = {
    { "score_mixture", py_score_mixture, METH_VARARGS, "score_mixture(process, mixture)" },
    { "score_empirical", py_score_empirical, METH_VARARGS, "score_empirical(process, X)" },
    { "score_callable", py_score_callable, METH_VARARGS, "score_callable(process, fn)" },
    { "labeller_sign", py_labeller_sign, METH_VARARGS, "labeller_sign(m)" },
    { "labeller_gmm4", py_labeller_gmm4, METH_VARARGS, "labeller_gmm4(m_c, m_d)" },
    { "labeller_mixture", py_labeller_mixture, METH_VARARGS, "labeller_mixture(mixture)" },
    { "labeller_nearest_mean", py_labeller_nearest_mean, METH_VARARGS, "labeller_nearest_mean(means)" },
    { "labeller_nearest_point", py_labeller_nearest_point, METH_VARARGS, "labeller_nearest_point(X, labels)" },
    { "labeller_classifier", py_labeller_classifier, METH_VARARGS, "labeller_classifier(model, offset, views)" },
    { "labeller_callable", py_labeller_callable, METH_VARARGS, "labeller_callable(fn, N, n_modes, n_classes, names, offset)" },
    { "curve", py_curve, METH_VARARGS, "curve(kind, process, data, mask, P)" },
    { "clone", (PyCFunction)(void (*)(void))py_clone, METH_VARARGS | METH_KEYWORDS, "rg_exp_clone" },
    { "sample", (PyCFunction)(void (*)(void))py_sample, METH_VARARGS | METH_KEYWORDS, "rg_exp_sample" },
    { "collapse", (PyCFunction)(void (*)(void))py_collapse, METH_VARARGS | METH_KEYWORDS, "rg_exp_collapse" },
    { NULL, NULL, 0, NULL },
};

int rg_py_exp_init(PyObject *m)
{
    return rg_py_add_type(m, &score_type, "Score") || rg_py_add_type(m, &labeller_type, "Labeller") ||
                   rg_py_add_type(m, &curve_type, "Curve")
               ? -1
               : 0;
}
