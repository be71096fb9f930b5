/* regimes._core: data sets and their theory (theory.h, docs/math.md 11.2), centring, MNIST (mnist.h) and
 * classifier networks (nn.h) for labelling images. */
#include "_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- theory on a data set ------------------------------------------------------------------------------ */
static void dataset_dealloc(rg_py_dataset *self)
{
    rg_theory_dataset_free(self->ds);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Dataset(X (P, N), labels (P) or None): covariances and spectra, computed once (lock released). */
static PyObject *dataset_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "X", "labels", NULL };
    PyObject *xo, *lo = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O", kwlist, &xo, &lo)) return NULL;
    PyArrayObject *X = rg_py_f32(xo, "X", 2), *L = X && lo != Py_None ? rg_py_labels(lo, "labels", 1) : NULL;
    if (!X || (lo != Py_None && !L)) {
        Py_XDECREF(X);
        return NULL;
    }
    const size_t P = (size_t)PyArray_DIM(X, 0), N = (size_t)PyArray_DIM(X, 1);
    if (L && (size_t)PyArray_DIM(L, 0) != P) {
        Py_DECREF(X), Py_DECREF(L);
        return PyErr_Format(PyExc_ValueError, "labels: %zd values for %zu rows", (Py_ssize_t)PyArray_DIM(L, 0), P);
    }
    rg_theory_dataset *ds = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_theory_dataset_new(PyArray_DATA(X), P, N, L ? PyArray_DATA(L) : NULL, &ds);
    Py_END_ALLOW_THREADS
    Py_DECREF(X), Py_XDECREF(L);
    if (st != RG_OK) return rg_py_fail(st);
    rg_py_dataset *self = (rg_py_dataset *)type->tp_alloc(type, 0);
    if (!self) {
        rg_theory_dataset_free(ds);
        return NULL;
    }
    self->ds = ds;
    return (PyObject *)self;
}

static PyObject *dataset_info(rg_py_dataset *self, PyObject *noargs)
{
    (void)noargs;
    return Py_BuildValue("{s:n,s:n,s:n}", "P", (Py_ssize_t)rg_theory_dataset_P(self->ds), "N",
                         (Py_ssize_t)rg_theory_dataset_N(self->ds), "classes",
                         (Py_ssize_t)rg_theory_dataset_classes(self->ds));
}

static PyObject *dataset_spectrum(rg_py_dataset *self, PyObject *args)
{
    Py_ssize_t k;
    if (!PyArg_ParseTuple(args, "n", &k)) return NULL;
    const size_t N = rg_theory_dataset_N(self->ds);
    if (k < 1 || (size_t)k > N) return PyErr_Format(PyExc_ValueError, "spectrum: k = %zd, want 1 .. %zu", k, N);
    const npy_intp dims[1] = { k };
    PyObject *top = PyArray_SimpleNew(1, (npy_intp *)(uintptr_t)dims, NPY_DOUBLE);
    if (!top) return NULL;
    const int st = rg_theory_dataset_spectrum(self->ds, (size_t)k, PyArray_DATA((PyArrayObject *)top));
    if (st != RG_OK) {
        Py_CLEAR(top);
        rg_py_fail(st);
    }
    return top;
}

/* all(process, n_train) -> the four times (rg_theory_dataset_all) and the horizon at level. */
static PyObject *dataset_all(rg_py_dataset *self, PyObject *args)
{
    PyObject *po;
    double n_train, level;
    if (!PyArg_ParseTuple(args, "O!dd", &rg_py_process_type, &po, &n_train, &level)) return NULL;
    const rg_process *p = ((rg_py_process *)po)->p;
    rg_theory_dataset_times t;
    double horizon = NAN;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_theory_dataset_all(p, self->ds, n_train, &t);
    if (st == RG_OK) st = rg_theory_dataset_horizon(p, self->ds, level, &horizon);
    Py_END_ALLOW_THREADS
    if (st != RG_OK) return rg_py_fail(st);
    return Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:d,s:n,s:n}", "lambda_max", t.lambda_max, "t_S_parent", t.t_s_parent,
                         "t_S_exact", t.t_s_exact, "t_S_class", t.found_class ? t.t_s_class : (double)NAN, "t_C", t.t_c,
                         "horizon", horizon, "criterion_evaluations", (Py_ssize_t)t.evals, "certified",
                         (Py_ssize_t)t.certified);
}

/* A criterion at an array of times: which = 0 kmax, 1 kparent, 2 kappa, 3 collapse f (n_train P). */
static PyObject *dataset_curve(rg_py_dataset *self, PyObject *args)
{
    PyObject *po, *to;
    int which;
    double P;
    if (!PyArg_ParseTuple(args, "O!iOd", &rg_py_process_type, &po, &which, &to, &P)) return NULL;
    PyArrayObject *t = rg_py_f64(to, "times", -1);
    if (!t) return NULL;
    PyObject *out = PyArray_SimpleNew(PyArray_NDIM(t), PyArray_DIMS(t), NPY_DOUBLE);
    int st = RG_OK;
    if (out) {
        const rg_process *p = ((rg_py_process *)po)->p;
        const double *pt = PyArray_DATA(t);
        double *y = PyArray_DATA((PyArrayObject *)out);
        const size_t n = (size_t)PyArray_SIZE(t);
        Py_BEGIN_ALLOW_THREADS
        for (size_t i = 0; i < n && st == RG_OK; i++) {
            if (which == 0) st = rg_theory_dataset_kmax(p, self->ds, pt[i], &y[i]);
            else if (which == 1) st = rg_theory_dataset_kparent(p, self->ds, pt[i], &y[i]);
            else if (which == 2) st = rg_theory_dataset_kappa(p, self->ds, pt[i], &y[i]);
            else st = rg_theory_dataset_collapse_f(p, self->ds, P, pt[i], &y[i]);
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

static PyMethodDef dataset_methods[] = {
    { "info", (PyCFunction)dataset_info, METH_NOARGS, "P, N, classes" },
    { "spectrum", (PyCFunction)dataset_spectrum, METH_VARARGS, "the top k eigenvalues of the covariance" },
    { "all", (PyCFunction)dataset_all, METH_VARARGS, "all(process, n_train, horizon_level) -> times" },
    { "curve", (PyCFunction)dataset_curve, METH_VARARGS, "curve(process, which, t, n_train)" },
    { NULL, NULL, 0, NULL },
};

PyTypeObject rg_py_dataset_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Dataset",
    .tp_basicsize = sizeof(rg_py_dataset),
    .tp_dealloc = (destructor)dataset_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Dataset(X, labels=None): theory on a data set (theory.h, docs/math.md 11.2)",
    .tp_methods = dataset_methods,
    .tp_new = dataset_new,
};

/* ---- centring and class means ---------------------------------------------------------------------------- */
/* center(X) -> (a centred float32 copy, the column mean): rg_data_center, the CLI's --data centring. */
static PyObject *py_center(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *xo;
    if (!PyArg_ParseTuple(args, "O", &xo)) return NULL;
    PyArrayObject *X = rg_py_f32(xo, "X", 2);
    if (!X) return NULL;
    PyObject *Xc = PyArray_NewCopy(X, NPY_CORDER);
    Py_DECREF(X);
    if (!Xc) return NULL;
    const npy_intp N = PyArray_DIM((PyArrayObject *)Xc, 1), dims[1] = { N };
    PyObject *mean = PyArray_SimpleNew(1, (npy_intp *)(uintptr_t)dims, NPY_DOUBLE);
    const int st = mean ? rg_data_center(PyArray_DATA((PyArrayObject *)Xc), (size_t)PyArray_DIM((PyArrayObject *)Xc, 0),
                                         (size_t)N, PyArray_DATA((PyArrayObject *)mean))
                        : RG_ENOMEM;
    if (st != RG_OK) {
        Py_DECREF(Xc), Py_XDECREF(mean);
        return mean ? rg_py_fail(st) : NULL;
    }
    return Py_BuildValue("(NN)", Xc, mean);
}

static PyObject *py_class_means(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *xo, *lo;
    Py_ssize_t K;
    if (!PyArg_ParseTuple(args, "OOn", &xo, &lo, &K)) return NULL;
    PyArrayObject *X = rg_py_f32(xo, "X", 2), *L = X ? rg_py_labels(lo, "labels", 1) : NULL;
    PyObject *means = NULL;
    if (L) {
        const size_t P = (size_t)PyArray_DIM(X, 0), N = (size_t)PyArray_DIM(X, 1);
        const npy_intp dims[2] = { K, (npy_intp)N };
        if ((size_t)PyArray_DIM(L, 0) != P || K < 1)
            PyErr_SetString(PyExc_ValueError, "class means: one label per row and K >= 1");
        else if ((means = PyArray_SimpleNew(2, (npy_intp *)(uintptr_t)dims, NPY_DOUBLE))) {
            const int st = rg_data_class_means(PyArray_DATA(X), P, N, PyArray_DATA(L), (size_t)K,
                                               PyArray_DATA((PyArrayObject *)means));
            if (st != RG_OK) {
                Py_CLEAR(means);
                rg_py_fail(st);
            }
        }
    }
    Py_XDECREF(X), Py_XDECREF(L);
    return means;
}

/* ---- MNIST ------------------------------------------------------------------------------------------------ */
static PyObject *set_result(int st, rg_data_set *s, double *mean, size_t n_mean)
{
    if (st != RG_OK) {
        rg_data_set_free(s);
        free(mean);
        return rg_py_fail(st);
    }
    const npy_intp d2[2] = { (npy_intp)s->P, (npy_intp)s->N }, d1[1] = { (npy_intp)s->P }, dm[1] = { (npy_intp)n_mean };
    PyObject *X = rg_py_own(s->X, 2, d2, NPY_FLOAT32), *L = rg_py_own(s->labels, 1, d1, NPY_INT);
    PyObject *M = mean ? rg_py_own(mean, 1, dm, NPY_DOUBLE) : Py_NewRef(Py_None);
    s->X = NULL, s->labels = NULL;
    rg_data_set_free(s);
    if (!X || !L || !M) {
        Py_XDECREF(X), Py_XDECREF(L), Py_XDECREF(M);
        return NULL;
    }
    return Py_BuildValue("(NNN)", X, L, M);
}

/* mnist(dir, split, digits, n_per_class, center) -> (X (P, 784) float32 pixels / 255, digit labels, mean|None). */
static PyObject *py_mnist(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *path, *dg;
    int split, center;
    Py_ssize_t n_per;
    if (!PyArg_ParseTuple(args, "O&iOni", PyUnicode_FSConverter, &path, &split, &dg, &n_per, &center)) return NULL;
    PyArrayObject *D = rg_py_labels(dg, "digits", 1);
    if (!D || n_per < 0 || (split != RG_MNIST_TRAIN && split != RG_MNIST_TEST)) {
        Py_DECREF(path), Py_XDECREF(D);
        return D ? PyErr_Format(PyExc_ValueError, "mnist: bad split or count") : NULL;
    }
    double *mean = center ? malloc(784 * sizeof *mean) : NULL;
    rg_mnist_raw *raw = NULL;
    rg_data_set *s = NULL;
    int st = center && !mean ? RG_ENOMEM : RG_OK;
    Py_BEGIN_ALLOW_THREADS
    if (st == RG_OK) st = rg_mnist_load(PyBytes_AS_STRING(path), (rg_mnist_split)split, &raw);
    if (st == RG_OK) st = rg_mnist_select(raw, PyArray_DATA(D), (size_t)PyArray_DIM(D, 0), (size_t)n_per, center, mean, &s);
    Py_END_ALLOW_THREADS
    rg_mnist_free(raw);
    Py_DECREF(path), Py_DECREF(D);
    return set_result(st, s, mean, 784);
}

/* mnist_pairs(dir, (c0, c1), P, rho, seed) -> paired images (P, 2 * 784), labels 10 a + b, pooled mean
 * (docs/math.md 10.3; stream RG_STREAM_PAIRS, the CLI's), centred. */
static PyObject *py_mnist_pairs(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *path;
    int c[2];
    Py_ssize_t P;
    double rho;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "O&(ii)ndK", PyUnicode_FSConverter, &path, &c[0], &c[1], &P, &rho, &seed)) return NULL;
    double *mean = malloc(784 * sizeof *mean);
    rg_mnist_raw *raw = NULL;
    rg_data_set *s = NULL;
    int st = mean && P > 0 ? RG_OK : RG_ENOMEM;
    Py_BEGIN_ALLOW_THREADS
    if (st == RG_OK) st = rg_mnist_load(PyBytes_AS_STRING(path), RG_MNIST_TRAIN, &raw);
    if (st == RG_OK) st = rg_mnist_pairs(raw, c, (size_t)P, rho, (rg_rng){ seed, RG_STREAM_PAIRS }, 1, mean, &s);
    Py_END_ALLOW_THREADS
    rg_mnist_free(raw);
    Py_DECREF(path);
    return set_result(st, s, mean, 784);
}

static PyObject *py_pair_spectra(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *xo;
    if (!PyArg_ParseTuple(args, "O", &xo)) return NULL;
    PyArrayObject *X = rg_py_f32(xo, "X", 2);
    if (!X) return NULL;
    rg_data_set s = { .P = (size_t)PyArray_DIM(X, 0), .N = (size_t)PyArray_DIM(X, 1), .X = PyArray_DATA(X) };
    double lc = NAN, ld = NAN;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_mnist_pair_spectra(&s, &lc, &ld);
    Py_END_ALLOW_THREADS
    Py_DECREF(X);
    return st == RG_OK ? Py_BuildValue("(dd)", lc, ld) : rg_py_fail(st);
}

/* ---- classifier networks (nn.h) ---------------------------------------------------------------------------- */
static void model_dealloc(rg_py_model *self)
{
    rg_nn_model_free(self->m);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *model_wrap(int st, rg_nn_model *m)
{
    if (st != RG_OK) {
        rg_nn_model_free(m);
        return rg_py_fail(st);
    }
    rg_py_model *o = PyObject_New(rg_py_model, &rg_py_model_type);
    if (!o) {
        rg_nn_model_free(m);
        return NULL;
    }
    o->m = m;
    return (PyObject *)o;
}

/* classifier_train(X, labels, K, hidden, epochs, warmup, seed): an MLP n_in-hidden-K by Adam (nn.h). */
static PyObject *py_classifier_train(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *xo, *lo;
    Py_ssize_t K, hidden, epochs, warmup;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OOnnnnK", &xo, &lo, &K, &hidden, &epochs, &warmup, &seed)) return NULL;
    if (K < 2 || hidden < 1 || epochs < 1 || warmup < 0)
        return PyErr_Format(PyExc_ValueError, "classifier: want K >= 2, hidden >= 1, epochs >= 1");
    PyArrayObject *X = rg_py_f32(xo, "X", 2), *L = X ? rg_py_labels(lo, "labels", 1) : NULL;
    if (!L) {
        Py_XDECREF(X);
        return NULL;
    }
    if (PyArray_DIM(L, 0) != PyArray_DIM(X, 0)) {
        Py_DECREF(X), Py_DECREF(L);
        return PyErr_Format(PyExc_ValueError, "classifier: one label per row");
    }
    const size_t hid[1] = { (size_t)hidden };
    const rg_nn_arch arch = rg_nn_classifier_arch((size_t)PyArray_DIM(X, 1), (size_t)K, 1, hid);
    rg_nn_train_config c = rg_nn_train_defaults();
    c.epochs = (size_t)epochs, c.warmup = (size_t)warmup, c.seed = seed;
    const rg_nn_data d = { .P = (size_t)PyArray_DIM(X, 0), .X = PyArray_DATA(X), .labels = PyArray_DATA(L) };
    rg_nn_model *m = NULL;
    rg_nn_trainer *t = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_nn_model_new(&arch, seed, &m);
    if (st == RG_OK) st = rg_nn_trainer_new(m, &c, &d, &t);
    if (st == RG_OK) st = rg_nn_trainer_run(t, (size_t)rg_nn_trainer_steps_total(t), NULL);
    rg_nn_trainer_free(t);
    Py_END_ALLOW_THREADS
    Py_DECREF(X), Py_DECREF(L);
    return model_wrap(st, m);
}

static PyObject *py_model_load(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *path;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path)) return NULL;
    rg_nn_model *m = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_nn_load(PyBytes_AS_STRING(path), &m);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    return model_wrap(st, m);
}

static PyObject *model_info(rg_py_model *self, PyObject *noargs)
{
    (void)noargs;
    const rg_nn_arch *a = rg_nn_model_arch(self->m);
    return Py_BuildValue("{s:s,s:n,s:n}", "task", a->task == RG_NN_CLASSIFIER ? "classifier" : "score", "n_in",
                         (Py_ssize_t)a->n_in, "n_out", (Py_ssize_t)a->n_out);
}

/* predict(X) -> labels; accuracy(X, labels) -> fraction right. */
static PyObject *model_eval(rg_py_model *self, PyObject *args)
{
    PyObject *xo, *lo = Py_None;
    if (!PyArg_ParseTuple(args, "O|O", &xo, &lo)) return NULL;
    const rg_nn_arch *a = rg_nn_model_arch(self->m);
    if (a->task != RG_NN_CLASSIFIER) return PyErr_Format(PyExc_ValueError, "the network is a score network");
    PyArrayObject *X = rg_py_f32(xo, "X", 2), *L = X && lo != Py_None ? rg_py_labels(lo, "labels", 1) : NULL;
    if (!X || (lo != Py_None && !L)) {
        Py_XDECREF(X);
        return NULL;
    }
    const size_t B = (size_t)PyArray_DIM(X, 0);
    PyObject *res = NULL;
    if ((size_t)PyArray_DIM(X, 1) != a->n_in || (L && (size_t)PyArray_DIM(L, 0) != B))
        PyErr_Format(PyExc_ValueError, "classifier: want rows of %zu values (and one label each)", a->n_in);
    else {
        rg_nn_work *w = NULL;
        int *out = L ? NULL : malloc((B ? B : 1) * sizeof *out);
        double acc = NAN;
        int st = L || out ? RG_OK : RG_ENOMEM;
        Py_BEGIN_ALLOW_THREADS
        if (st == RG_OK) st = rg_nn_work_new(self->m, 256, &w);
        if (st == RG_OK && L) st = rg_nn_classifier_accuracy(self->m, B, PyArray_DATA(X), PyArray_DATA(L), w, &acc);
        else if (st == RG_OK) st = rg_nn_classifier_predict(self->m, B, PyArray_DATA(X), out, w);
        rg_nn_work_free(w);
        Py_END_ALLOW_THREADS
        const npy_intp dims[1] = { (npy_intp)B };
        if (st != RG_OK) free(out), rg_py_fail(st);
        else res = L ? PyFloat_FromDouble(acc) : rg_py_own(out, 1, dims, NPY_INT);
    }
    Py_DECREF(X), Py_XDECREF(L);
    return res;
}

static PyObject *model_save(rg_py_model *self, PyObject *args)
{
    PyObject *path;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path)) return NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = rg_nn_save(PyBytes_AS_STRING(path), self->m, NULL);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (st != RG_OK) return rg_py_fail(st);
    Py_RETURN_NONE;
}

static PyMethodDef model_methods[] = {
    { "info", (PyCFunction)model_info, METH_NOARGS, "task, n_in, n_out" },
    { "eval", (PyCFunction)model_eval, METH_VARARGS, "eval(X) -> labels; eval(X, labels) -> accuracy" },
    { "save", (PyCFunction)model_save, METH_VARARGS, "save(path): an nn checkpoint (regimes train's format)" },
    { NULL, NULL, 0, NULL },
};

PyTypeObject rg_py_model_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "regimes._core.Model",
    .tp_basicsize = sizeof(rg_py_model),
    .tp_dealloc = (destructor)model_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "an nn.h network (a classifier for labelling images)",
    .tp_methods = model_methods,
};

PyMethodDef rg_py_data_methods[] = {
    { "center", py_center, METH_VARARGS, "center(X) -> (centred float32 copy, column mean)" },
    { "class_means", py_class_means, METH_VARARGS, "class_means(X, labels, K) -> (K, N)" },
    { "mnist", py_mnist, METH_VARARGS, "mnist(dir, split, digits, n_per_class, center)" },
    { "mnist_pairs", py_mnist_pairs, METH_VARARGS, "mnist_pairs(dir, (c0, c1), P, rho, seed)" },
    { "pair_spectra", py_pair_spectra, METH_VARARGS, "pair_spectra(X) -> (Lambda_c, Lambda_d)" },
    { "classifier_train", py_classifier_train, METH_VARARGS, "classifier_train(X, labels, K, hidden, epochs, warmup, seed)" },
    { "model_load", py_model_load, METH_VARARGS, "model_load(path)" },
    { NULL, NULL, 0, NULL },
};

int rg_py_data_init(PyObject *m)
{
    return rg_py_add_type(m, &rg_py_dataset_type, "Dataset") || rg_py_add_type(m, &rg_py_model_type, "Model") ? -1 : 0;
}
