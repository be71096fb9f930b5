/* regimes._core: the experiments (experiment.h: rg_exp_clone, rg_exp_sample, rg_exp_collapse) with the
 * interpreter lock released, their results as dicts of NumPy arrays that own the library's buffers. */
#include "_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    if (r->score) r->score->busy = 1, rg_py_cb_clear(&r->score->cb);
    if (r->lab) r->lab->busy = 1, rg_py_cb_clear(&r->lab->cb);
    return 0;
}

/* After the library call: NULL after raising (a callable's exception first, then the status), else 1. */
static int run_end(run_objs *r, int st)
{
    if (r->score) r->score->busy = 0;
    if (r->lab) r->lab->busy = 0;
    const int raised = (r->score && rg_py_cb_raise(&r->score->cb)) || (r->lab && rg_py_cb_raise(&r->lab->cb));
    if (r->score) rg_py_cb_clear(&r->score->cb);
    if (r->lab) rg_py_cb_clear(&r->lab->cb);
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
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!O!iOKOn|indOK", kwlist, &rg_py_process_type, &po, &rg_py_score_type, &so,
                                     &rg_py_labeller_type, &lo, &method, &go, &seed, &tbo, &n_pairs, &trunk, &n_boot, &level,
                                     &theory, &id0))
        return NULL;
    if (theory != Py_None && !PyObject_TypeCheck(theory, &rg_py_curve_type))
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
        .trunk = (rg_sampler_trunk)trunk, .t_b = PyArray_DATA(tb), .n_branch = (size_t)PyArray_DIM(tb, 0),
        .n_pairs = (size_t)n_pairs, .lab = &ro.lab->lab, .n_boot = (size_t)n_boot, .level = level,
        .theory = theory != Py_None ? rg_py_curve_fn : NULL, .theory_ctx = theory != Py_None ? (void *)theory : NULL };
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
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!iOKn|OOOpK", kwlist, &rg_py_process_type, &po, &rg_py_score_type, &so,
                                     &method, &go, &seed, &n, &lo, &xo, &ro, &keep, &id0))
        return NULL;
    if (lo != Py_None && !PyObject_TypeCheck(lo, &rg_py_labeller_type)) return PyErr_Format(PyExc_TypeError, "labeller: want a Labeller or None");
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
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!iOKnOOOn|dO", kwlist, &rg_py_process_type, &po, &rg_py_score_type, &so,
                                     &method, &go, &seed, &n_traj, &xo, &ro, &fo, &n_samples, &level, &theory))
        return NULL;
    if (theory != Py_None && !PyObject_TypeCheck(theory, &rg_py_curve_type))
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
        .theory = theory != Py_None ? rg_py_curve_fn : NULL, .theory_ctx = theory != Py_None ? (void *)theory : NULL };
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
    { "clone", (PyCFunction)(void (*)(void))py_clone, METH_VARARGS | METH_KEYWORDS, "rg_exp_clone" },
    { "sample", (PyCFunction)(void (*)(void))py_sample, METH_VARARGS | METH_KEYWORDS, "rg_exp_sample" },
    { "collapse", (PyCFunction)(void (*)(void))py_collapse, METH_VARARGS | METH_KEYWORDS, "rg_exp_collapse" },
    { NULL, NULL, 0, NULL },
};
