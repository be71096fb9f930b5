/* regimes._core: Gaussian mixtures (data.h) and their theory (theory.h, experiment.h rg_exp_theory). */
#include "_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

PyMethodDef rg_py_mixture_methods[] = {
    { "gmm2", py_gmm2, METH_VARARGS, "gmm2(N, mean_norm2, direction|None, sigma2, Cw|None)" },
    { "gmm4", py_gmm4, METH_VARARGS, "gmm4(d, mc2, md2, sigma2)" },
    { "gmm", py_gmm, METH_VARARGS, "gmm(weights, means, cov_kind, cov)" },
    { "theory", py_theory, METH_VARARGS, "theory(process, data, n_train, horizon_level, symmetric_form, phi_t)" },
    { "theory_curve", py_theory_curve, METH_VARARGS, "theory_curve(process, data, which, label, t, n_train)" },
    { "theory_phi", py_theory_phi, METH_VARARGS, "phi(kappa)" },
    { "theory_mode_time", py_theory_mode_time, METH_VARARGS, "log(1 + lambda a) / (2 lambda)" },
    { NULL, NULL, 0, NULL },
};
