/* regimes._core: labellers (experiment.h: the built-in rules, or a Python callable f(x) -> labels) and the
 * theory curves of the experiments' theory columns. */
#include "_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- labellers ---------------------------------------------------------------------------------------------- */

static void labeller_dealloc(rg_py_labeller *self)
{
    rg_exp_labeller_free(&self->lab);
    Py_XDECREF(self->ref), Py_XDECREF(self->cb.fn);
    free(self->cb.offset);
    rg_py_cb_clear(&self->cb);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *labeller_wrap(int st, rg_exp_labeller *lab, PyObject *ref)
{
    if (st != RG_OK) return rg_py_fail(st);
    rg_py_labeller *o = PyObject_New(rg_py_labeller, &rg_py_labeller_type);
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
    rg_py_cb *c = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    int st = RG_PY_CB_FAILED;
    if (c->failed) goto done;
    PyObject *xa = rg_py_cb_states(c, B, X);
    PyObject *ret = xa ? PyObject_CallOneArg(c->fn, xa) : NULL;
    Py_XDECREF(xa);
    PyArrayObject *a = ret ? rg_py_labels(ret, "the labeller callable's result", -1) : NULL;
    Py_XDECREF(ret);
    if (!a) {
        st = rg_py_cb_keep(c);
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
        st = rg_py_cb_keep(c);
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
    rg_py_cb_clear(&self->cb);
    if (out) {
        Py_BEGIN_ALLOW_THREADS
        st = B ? self->lab.label(self->lab.ctx, B, PyArray_DATA(X), PyArray_DATA((PyArrayObject *)out)) : RG_OK;
        Py_END_ALLOW_THREADS
    }
    self->busy = 0;
    Py_DECREF(X);
    if (rg_py_cb_raise(&self->cb) || st != RG_OK) {
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

PyTypeObject rg_py_labeller_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Labeller",
    .tp_basicsize = sizeof(rg_py_labeller),
    .tp_dealloc = (destructor)labeller_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a labeller (experiment.h): built-in rule or a callable",
    .tp_methods = labeller_methods,
};

/* ---- theory curves for the result columns ------------------------------------------------------------------ */

static void curve_dealloc(rg_py_curve *self)
{
    Py_XDECREF(self->proc), Py_XDECREF(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The CLI's theory columns (cli/source.c env_phi, env_collapse_f): phi of mode l under mixture data (docs/math.md
 * 7.2), phi(kappa_t) of a labelled two-class data set, or the collapse f(t); NAN for modes without one. */
int rg_py_curve_fn(void *ctx, size_t mode, double t, double *v)
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
    rg_py_curve *o = PyObject_New(rg_py_curve, &rg_py_curve_type);
    if (!o) return NULL;
    o->kind = kind, o->mask = mask, o->P = P, o->proc = Py_NewRef(po), o->data = Py_NewRef(d);
    return (PyObject *)o;
}

PyTypeObject rg_py_curve_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Curve",
    .tp_basicsize = sizeof(rg_py_curve),
    .tp_dealloc = (destructor)curve_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a theory curve for an experiment's theory column",
};

PyMethodDef rg_py_label_methods[] = {
    { "labeller_sign", py_labeller_sign, METH_VARARGS, "labeller_sign(m)" },
    { "labeller_gmm4", py_labeller_gmm4, METH_VARARGS, "labeller_gmm4(m_c, m_d)" },
    { "labeller_mixture", py_labeller_mixture, METH_VARARGS, "labeller_mixture(mixture)" },
    { "labeller_nearest_mean", py_labeller_nearest_mean, METH_VARARGS, "labeller_nearest_mean(means)" },
    { "labeller_nearest_point", py_labeller_nearest_point, METH_VARARGS, "labeller_nearest_point(X, labels)" },
    { "labeller_classifier", py_labeller_classifier, METH_VARARGS, "labeller_classifier(model, offset, views)" },
    { "labeller_callable", py_labeller_callable, METH_VARARGS, "labeller_callable(fn, N, n_modes, n_classes, names, offset)" },
    { "curve", py_curve, METH_VARARGS, "curve(kind, process, data, mask, P)" },
    { NULL, NULL, 0, NULL },
};
