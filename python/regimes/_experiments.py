"""theory, spectrum, sample, clone, collapse: the experiments of the command line as Python calls.

Each call resolves the same values `regimes <command>` builds from its flags (data, process, noise
schedule, predictions, score, labeller, default times), then makes ONE library call (rg_exp_theory,
rg_exp_clone, rg_exp_sample, rg_exp_collapse, or the data-set theory) with the interpreter lock released,
and returns a result whose fields are those of the command's summary.json (docs/cli.md). The same
arguments and seed give the same numbers as the command line (python/tests/test_cli_parity.py).
"""
import math
import warnings

import numpy as np

from . import _core
from ._data import Dataset, Gmm2, Gmm4
from ._noise import Noise, ddpm_cosine, ddpm_linear, noise_table
from ._process import Process
from ._results import CloneResult, CollapseResult, RegimesWarning, SampleResult, TheoryResult

DEFAULT_N_TRAIN = 20000  # a mixture's training set (the parent paper's P), cli/source.c
HORIZON_LEVEL = 0.01     # docs/math.md 6.2
METHODS = {"em": 0, "exp": 1, "heun": 2}
GRIDS = {"uniform": 0, "geometric": 1, "ddpm": 2}
TRUNKS = {"independent": 0, "shared": 1}
N_BRANCH = 14            # default branch times (cli/cmd_clone.c)
N_FTIMES, N_REC, MAX_TRAJ = 24, 40, 500  # collapse defaults (cli/cmd_collapse.c)
CURVE_PHI_MIXTURE, CURVE_PHI_DATA, CURVE_F_MIXTURE, CURVE_F_DATA = 0, 1, 2, 3


def _nan(x):
    return math.nan if x is None else float(x)


class Labeller:
    """A Python labeller: fn(x (B, N) float32, in the data's coordinates) -> integer labels (B,) or (B, L).

    n_classes: every label lies in [0, n_classes) (default: the data's class count, at least 2, or the
    largest label seen on a probe of the data plus one); names: one name per mode (L <= 4)."""

    def __init__(self, fn, n_classes=None, names=None):
        if not callable(fn):
            raise TypeError("Labeller wants a callable f(x) -> labels, got %r" % (fn,))
        self.fn, self.n_classes, self.names = fn, n_classes, names


def _noise(noise, grid):
    if noise is None:
        return ddpm_linear() if grid == "ddpm" else None
    if isinstance(noise, Noise):
        return noise
    if isinstance(noise, str):
        head, _, rest = noise.partition(":")
        f = [float(v) for v in rest.split(":")] if rest else []
        if head == "ddpm-linear" and len(f) in (0, 3):
            return ddpm_linear(*(f[:2] + [int(f[2])])) if f else ddpm_linear()
        if head == "ddpm-cosine" and len(f) in (0, 1):
            return ddpm_cosine(int(f[0])) if f else ddpm_cosine()
        return noise_table(noise)
    raise TypeError("noise: a regimes.Noise, 'ddpm-linear[:B0:B1:K]', 'ddpm-cosine[:K]' or a file name")


class _Env:
    """The values an experiment takes (cli/source.c's cli_env): process of the right dimension, data,
    schedule and the predictions that place the default times."""

    def __init__(self, process, data, noise=None, n_train=None, grid=None, phi_times=None):
        if not isinstance(process, Process):
            raise TypeError("process: want regimes.ou(), coupled(), nonrev() or general(), got %r" % (process,))
        if not isinstance(data, (Gmm2, Gmm4, Dataset)):
            raise TypeError("data: want regimes.gmm2(), gmm4(), dataset() or mnist(), got %r" % (data,))
        self.process, self.data = process, data
        self.mixture_data = not isinstance(data, Dataset)
        self.N = self._dimension()
        self.proc = process.build(self.N)
        self.noise = _noise(noise, grid)
        self.n_train = n_train
        self.views = 1 if self.mixture_data else data.views
        self.t_s, self.t_c, self.horizon = [math.nan], math.nan, math.nan
        if self.mixture_data:
            self._predict_mixture(phi_times)
        else:
            self._predict_data()

    def _dimension(self):
        p, d = self.process, self.data
        if not self.mixture_data:
            N = d.N
            if p.kind == "coupled" and N % 2:
                raise ValueError("coupled needs an even data dimension, got %d" % N)
            want = p.state_dim(N // 2 if p.kind == "coupled" else N)
            if want != N:
                raise ValueError("the process has dimension %d, the data %d" % (want, N))
            return N
        if d.kind == "gmm4" and p.kind != "coupled":
            raise ValueError("gmm4 data need regimes.coupled() (two modalities)")
        if d.kind == "gmm2" and p.kind == "coupled":
            raise ValueError("gmm2 is one-modality data; regimes.coupled() takes gmm4")
        if p.kind in ("ou", "coupled"):
            dims = {v for v in (p.dim, d.dim) if v is not None}
            if len(dims) > 1:
                raise ValueError("the process has dim %d, the data dim %d" % (p.dim, d.dim))
            return (dims.pop() if dims else 1000) * p.core
        N = p.state_dim(d.dim if d.dim is not None else 64)
        if d.dim is not None and d.dim != N:
            raise ValueError("the process has dimension %d, the data dim %d" % (N, d.dim))
        return N

    # ---- predictions -------------------------------------------------------------------------------
    def _predict_mixture(self, phi_times):
        self.pattern, self.norm2, self.Cw, self.m = self.data.theory_data(self)
        self.mt = _core.MixtureTheory(self.pattern, self.norm2, self.Cw)
        self.P_theory = float(self.n_train) if self.n_train is not None else float(DEFAULT_N_TRAIN)
        t = np.asarray([] if phi_times is None else phi_times, dtype=float)
        self.th = _core.theory(self.proc, self.mt, self.P_theory, 0.0, self.process.symmetric_form(), t)
        self.t_s = list(self.th["t_S_label"])
        self.t_c, self.horizon = self.th["t_C"], self.th["horizon"]
        self.mix = self.data.mixture(self)

    def _predict_data(self):
        d = self.data
        if d.P < 2:
            raise ValueError("the data have %d row: the theory needs P >= 2 rows" % d.P)
        self.ds = d.theory_set()
        lam = self.ds.spectrum(1)[0]
        self.lam = lam
        if not lam > 0:
            return  # a sampler still runs on constant data; nothing to predict
        self.dt = self.ds.all(self.proc, float(d.P), HORIZON_LEVEL)
        self.horizon = self.dt["horizon"]
        self.t_s = [self.dt["t_S_class"] if not math.isnan(self.dt["t_S_class"]) else self.dt["t_S_exact"]]
        self.t_c = self.dt["t_C"]
        if d.views == 2:  # paired images: per mode (docs/math.md 10.3), rates of the symmetric coupling
            M = self.process.M
            self.t_s = [_core.theory_mode_time(M[0] + M[1], d.lambda_c), _core.theory_mode_time(M[0] - M[1], d.lambda_d)]

    # ---- steps of a schedule -------------------------------------------------------------------------
    def step(self, t):
        if self.noise is None or not math.isfinite(t):
            return None
        return self.noise.step(t)

    def put_time(self, d, key, t):
        """d[key] = t and, with a schedule, d[key + '_step'] = its step (None beyond the schedule)."""
        d[key] = _nan(t)
        if self.noise is not None:
            d[key + "_step"] = self.step(d[key])

    def put_times(self, d, key, t):
        d[key] = np.asarray(t, dtype=float)
        if self.noise is not None:
            d[key + "_step"] = [self.step(float(v)) for v in d[key]]

    def describe(self, experiment=True):
        """The process and data objects of summary.json (experiments: with the data's P and classes)."""
        data = self.data.describe(self)
        if experiment and self.mixture_data:
            if getattr(self, "train_P", None):
                data["P"] = self.train_P
            data["classes"] = 0
        return self.process.describe(self.N), data

    # ---- times and grids -----------------------------------------------------------------------------
    def run_times(self, t_s_max, T, t_end, grid):
        """T: given, else the horizon clamped to [4, 12] and at least 1.5 t_S; under a schedule's grid at most
        its last time. t_end: given, else 1e-3 (cli/run.c run_times)."""
        if T is None:
            h = self.horizon if math.isfinite(self.horizon) else 12.0
            T = max(4.0, min(12.0, _fmax(h, 1.5 * t_s_max)))
            if self.noise is not None and grid == "ddpm":
                T = min(T, float(self.noise.times[-1]))
        t_end = 1e-3 if t_end is None else float(t_end)
        if not t_end < T:
            raise ValueError("t_end (%g) must be below T (%g)" % (t_end, T))
        return float(T), t_end

    def grid(self, grid, steps, T, t_end, extra):
        if grid == "ddpm":
            return _core.grid_noise(self.noise._s, T, t_end, np.asarray(extra, dtype=float))
        return _core.grid(GRIDS[grid], T, t_end, steps, np.asarray(extra, dtype=float))

    # ---- scores --------------------------------------------------------------------------------------
    def training_set(self, n_train, seed):
        """The rows of an empirical score: a data set's own, or n_train points of the mixture drawn with
        seed (default 20000; RG_STREAM_DATA, the CLI's)."""
        if not self.mixture_data:
            return self.data.X
        P = DEFAULT_N_TRAIN if n_train is None else n_train
        if P != int(P) or P < 2 or P > 1e8:
            raise ValueError("n_train: want a whole number of points in [2, 1e8], got %r" % (P,))
        self.train_P = int(P)
        return self.mix.draw(int(seed), int(P))[0]

    def score(self, spec, n_train, seed, collapse=False):
        """(core score, name, training rows or None) for 'exact', 'empirical', an array or a callable."""
        if spec is None:
            spec = "exact" if self.mixture_data and not collapse else "empirical"
        if callable(spec) and not isinstance(spec, str):
            return _core.score_callable(self.proc, spec), "callable", None
        if isinstance(spec, str):
            if spec == "exact":
                if not self.mixture_data:
                    raise ValueError("score='exact' is the mixture's closed form; a data set takes the empirical score")
                return _core.score_mixture(self.proc, self.mix), "mixture", None
            if spec != "empirical":
                raise ValueError("score: 'exact', 'empirical', a training array or a callable f(x, t), got %r" % spec)
            X = self.training_set(n_train, seed)
        else:
            X = np.asarray(spec, dtype=np.float32)
            if X.ndim != 2 or X.shape[1] != self.N or X.shape[0] < 1:
                raise ValueError("score: a training array of shape (P, %d), got %s" % (self.N, X.shape))
        return _core.score_empirical(self.proc, X), "empirical", X

    # ---- labellers -------------------------------------------------------------------------------------
    def labeller(self, spec, classifier=None, seed=1):
        """(core labeller, name, theory mask) for a name, a callable, or regimes.Labeller."""
        d = self.data
        if spec is None and classifier is not None:
            spec = "classifier"
        if spec is None:
            spec = (self.data.kind if self.mixture_data and self.data.kind in ("gmm2", "gmm4") else None)
            spec = "sign" if spec == "gmm2" else spec
            if spec is None and not self.mixture_data:
                spec = "classifier" if d.kind in ("mnist", "fashion") else "mean" if d.labelled else None
            if spec is None:
                raise ValueError("clone needs labels: give labeller=, or labelled data (dataset(X, labels))")
        if isinstance(spec, Labeller) or (callable(spec) and not isinstance(spec, str)):
            return self._callable_labeller(spec if isinstance(spec, Labeller) else Labeller(spec), seed) + (0,)
        mask = 0
        if spec == "sign":
            self._need(spec, isinstance(d, Gmm2))
            lab = _core.labeller_sign(self.m)
            mask = 1
        elif spec == "gmm4":
            self._need(spec, isinstance(d, Gmm4))
            half = self.N // 2
            lab = _core.labeller_gmm4(self.m[:half], self.m[half:])
            mask = 3
        elif spec == "mixture":
            self._need(spec, self.mixture_data)
            lab = _core.labeller_mixture(self.mix)
        elif spec in ("mean", "nearest"):
            if self.mixture_data or not d.labelled:
                raise ValueError("labeller %r needs labelled data (dataset(X, labels), or mnist)" % spec)
            if spec == "mean":
                lab = _core.labeller_nearest_mean(_core.class_means(d.X, d.labels, d.n_classes))
            else:
                lab = _core.labeller_nearest_point(d.X, d.labels)
        elif spec == "classifier":
            lab = self._classifier(classifier, seed)
        else:
            raise ValueError("labeller: 'sign', 'gmm4', 'mixture', 'mean', 'nearest', 'classifier' or a callable, got %r" % (spec,))
        if not self.mixture_data:  # data sets: phi(kappa) of the class means for two classes
            mask = 1 if d.n_classes == 2 and d.views == 1 else 0
        elif self.data.kind == "gmm4" and spec not in ("sign", "gmm4"):
            mask = 0
        return lab, spec, mask

    def _need(self, name, ok):
        if not ok:
            raise ValueError("labeller %r needs %s data" % (name, {"sign": "gmm2", "gmm4": "gmm4"}.get(name, "mixture")))

    def _classifier(self, classifier, seed):
        """A network checkpoint (a path or a regimes._core.Model), or for MNIST an MLP 784-256-K trained here
        on every training image of the digits (3 epochs: the CLI's), its test accuracy kept."""
        d = self.data
        self.classifier_accuracy = math.nan
        if classifier is None:
            if self.mixture_data or d.kind not in ("mnist", "fashion"):
                raise ValueError("labeller 'classifier' needs classifier= (a checkpoint) or MNIST data, which trains one")
            Xtr, ltr, _ = _core.mnist(d.image_dir, 0, np.array(d.digits), 0, 0)
            Xte, lte, _ = _core.mnist(d.image_dir, 1, np.array(d.digits), 0, 0)
            idx = {v: i for i, v in enumerate(d.digits)}
            ltr = np.array([idx[v] for v in ltr], dtype=np.int32)
            lte = np.array([idx[v] for v in lte], dtype=np.int32)
            model = _core.classifier_train(Xtr, ltr, len(d.digits), 256, 3, 50, int(seed))
            self.classifier_accuracy = model.eval(Xte, lte)
        else:
            model = _core.model_load(classifier) if not isinstance(classifier, _core.Model) else classifier
        off = None if self.mixture_data else np.asarray(d.offset, dtype=float)
        return _core.labeller_classifier(model, off, self.views)

    def _callable_labeller(self, L, seed):
        """Probe the callable on rows of the data to learn its label count per row."""
        d = self.data
        if self.mixture_data:
            probe = self.mix.draw(int(seed), 64)[0]
            offset = None
        else:
            probe, offset = d.uncentre(d.X[:64]), np.tile(d.offset, d.views)
        got = np.asarray(L.fn(probe.copy()))
        if got.ndim not in (1, 2) or got.shape[0] != probe.shape[0]:
            raise ValueError("the labeller callable returned shape %s for %d rows; want (B,) or (B, L)" % (got.shape, probe.shape[0]))
        if not (np.issubdtype(got.dtype, np.integer) or got.dtype == bool):
            raise TypeError("the labeller callable must return integer labels, got dtype %s" % got.dtype)
        n_modes = 1 if got.ndim == 1 else got.shape[1]
        K = L.n_classes
        if K is None:
            K = max(2, getattr(d, "n_classes", 2) or 2, int(got.max()) + 1 if got.size else 2)
        lab = _core.labeller_callable(L.fn, self.N, n_modes, int(K), L.names, offset)
        return lab, "callable"


def _fmax(a, b, f=max):
    """C's fmax (f = max) or fmin (f = min): NaN only when both are."""
    return b if math.isnan(a) else a if math.isnan(b) else f(a, b)


def _fmin(a, b):
    return _fmax(a, b, min)


def _method(name, clone=False):
    if name not in METHODS:
        raise ValueError("method: 'em', 'exp' or 'heun', got %r" % (name,))
    if clone and name == "heun":
        raise ValueError("method 'heun' is deterministic: clones cannot branch (use 'em' or 'exp')")
    return METHODS[name]


def _grid_kind(grid, noise, steps):
    g = grid if grid is not None else ("ddpm" if noise is not None else "geometric")
    if g not in GRIDS:
        raise ValueError("grid: 'uniform', 'geometric' or 'ddpm', got %r" % (g,))
    if g == "ddpm" and steps is not None:
        raise ValueError("steps does not apply to grid='ddpm' (the schedule's steps are the grid)")
    steps = 200 if steps is None else steps
    if int(steps) != steps or not 1 <= steps <= 1000000:
        raise ValueError("steps: a whole number in [1, 1e6], got %r" % (steps,))
    return g, int(steps)


def _seed(seed):
    if int(seed) != seed or seed < 0 or seed >= 2 ** 64:
        raise ValueError("seed: a whole number in [0, 2^64), got %r" % (seed,))
    return int(seed)


class _Threads:
    """OpenMP threads for one call (results never depend on them), restored afterwards."""

    def __init__(self, n):
        self.n, self.old = n, None

    def __enter__(self):
        if self.n is not None:
            self.old = _core.get_threads()
            _core.set_threads(int(self.n))

    def __exit__(self, *exc):
        if self.old is not None:
            _core.set_threads(self.old)


# ---- theory -----------------------------------------------------------------------------------------------
def theory(process, data, n_train=None, phi_times=None, noise=None, top=10):
    """The predictions of `regimes theory` (docs/cli.md): for mixture data t_S per criterion, t_C for
    n_train points (default 20000), the gap, the horizon, the modes, the coupling bounds and phi at
    phi_times; for a data set its covariance spectrum (top values), t_S under each convention, t_C, the
    horizon (docs/math.md 11.2). With a noise schedule every time also gets its step (key_step)."""
    env = _Env(process, data, noise, n_train, None, phi_times)
    proc_d, data_d = env.describe(experiment=False)
    s = {"tool": "regimes", "version": _core.version, "command": "theory", "process": proc_d, "data": data_d}
    if env.mixture_data:
        th = env.th
        s["data"]["n_train"] = env.P_theory
        s["relaxation_rate"] = th["relaxation_rate"]
        for key, v in (("t_S", th["t_S"]), ("t_S_matrix", th["t_S_matrix"]), ("t_S_parent", th["t_S_parent"]),
                       ("t_C", th["t_C"])):
            env.put_time(s, key, v)
        s["sync_gap"] = th["sync_gap"]
        env.put_time(s, "horizon", th["horizon"])
        s["horizon_level"], s["horizon_min"] = HORIZON_LEVEL, th["horizon_min"]
        if process.kind == "coupled":
            s["bounds"] = {"gamma_range": None if math.isnan(th["gamma_lo"]) else [th["gamma_lo"], th["gamma_hi"]],
                           "gamma_equal": th["gamma_equal"]}
        if len(th["phi_t"]):
            s["phi"] = {"t": th["phi_t"]}
            names = ["common", "difference"] if data.kind == "gmm4" else ["label"]
            for l, name in enumerate(names):
                s["phi"][name] = th["phi"][l]
        s["modes"] = []
        for m in th["modes"]:
            mode = {"name": m["name"], "rate": m["rate"], "rate_imag": m["rate_imag"]}
            env.put_time(mode, "t_S", m["t_S"])
            s["modes"].append(mode)
        return TheoryResult(s, env, {"t_S_label": th["t_S_label"], "t_S_matrix_label": th["t_S_matrix_label"]})
    re, im, rate = env.proc.rates()
    n_top = min(top, env.N)
    s["relaxation_rate"], s["lambda_max"] = rate, env.lam
    s["top"] = env.ds.spectrum(n_top)
    if not env.lam > 0:
        raise ValueError("the %d rows have no variance (Lambda = %g): there is no class signal to speciate" % (data.P, env.lam))
    dt = env.dt
    env.put_time(s, "t_S", env.t_s[0] if data.views == 1 else (dt["t_S_class"] if not math.isnan(dt["t_S_class"]) else dt["t_S_exact"]))
    for key in ("t_S_parent", "t_S_exact", "t_S_class", "t_C"):
        env.put_time(s, key, dt[key])
    s["alpha"] = math.log(data.P) / env.N
    env.put_time(s, "horizon", env.horizon)
    s["criterion_evaluations"] = dt["criterion_evaluations"]
    if data.views == 2:
        s["lambda_c"], s["lambda_d"] = data.lambda_c, data.lambda_d
        s["sync_gap"] = env.t_s[0] - env.t_s[1]
        s["mode_times"] = []
        for name, t in zip(("common", "difference"), env.t_s):
            mt = {"name": name}
            env.put_time(mt, "t_S", t)
            s["mode_times"].append(mt)
    s["modes"] = [{"rate": float(a), "rate_imag": float(b)} for a, b in zip(re, im)]
    return TheoryResult(s, env)


def spectrum(X, k=None):
    """The eigenvalues of the centred covariance C = Xc^T Xc / (P - 1) of rows X (P, N), descending (the top
    k, default all N): LAPACK through the library (theory.h), the Lambda = top[0] of docs/math.md 7.1 a."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError("spectrum: X must be a (P, N) array, got shape %s" % (X.shape,))
    ds = _core.Dataset(X, None)
    return ds.spectrum(X.shape[1] if k is None else int(k))


# ---- experiments ----------------------------------------------------------------------------------------------
def _common(process, data, noise, grid, steps, n_train, method, seed, clone=False):
    g, steps = _grid_kind(grid, noise, steps)
    env = _Env(process, data, noise, n_train, g)
    return env, g, steps, _method(method, clone), _seed(seed)


def _branch_times(env, T, t_end, branch_times, branch_steps, n_branch):
    if branch_times is not None and branch_steps is not None:
        raise ValueError("give branch_times or branch_steps, not both")
    if branch_steps is not None:
        if env.noise is None:
            env.noise = ddpm_linear()
        steps = [int(k) for k in branch_steps]
        if any(k != s for k, s in zip(steps, branch_steps)) or any(k < 0 or k >= env.noise.steps for k in steps):
            raise ValueError("branch_steps: step indices in 0 .. %d" % (env.noise.steps - 1))
        tb = [env.noise.time(k) for k in steps]
    elif branch_times is not None:
        tb = [float(t) for t in branch_times]
    else:
        lo_s = hi_s = math.nan
        for t in env.t_s:
            lo_s, hi_s = _fmin(lo_s, t), _fmax(hi_s, t)
        lo = max(0.1 if math.isnan(lo_s) else 0.3 * lo_s, 2.0 * t_end)
        hi = 0.9 * T if math.isnan(hi_s) else min(2.2 * hi_s, 0.9 * T)
        tb = [lo + (hi - lo) * i / (n_branch - 1) for i in range(n_branch)]
    if not tb:
        raise ValueError("no branch times")
    for i, t in enumerate(tb):
        if not (t_end < t < T):
            raise ValueError("branch time %g is not inside (t_end, T) = (%g, %g)" % (t, t_end, T))
        if i and not t > tb[i - 1]:
            raise ValueError("branch times must increase")
    return np.array(tb)


def _record_times(T, t_end):
    """N_REC decreasing times, geometric from 0.9 T to 2 t_end (libm pow, as cli/cmd_collapse.c)."""
    return np.array([0.9 * T * math.pow(2.0 * t_end / (0.9 * T), j / (N_REC - 1)) for j in range(N_REC)])


def clone(process, data, score=None, labeller=None, branch_times=None, branch_steps=None, pairs=1000, steps=None,
          T=None, t_end=None, method="exp", grid=None, noise=None, seed=1, trunk="independent", n_train=None,
          classifier=None, threads=None, n_branch=N_BRANCH):
    """Cloning (docs/math.md 6.6, 8.1): `pairs` trunks run from T to each branch time t_b, are copied, and
    both copies continue to t_end with independent noise; phi(t_b) is the fraction of pairs whose final
    labels agree, t_S its 0.775 crossing, with bootstrap intervals; two modes give the synchronization gap.

    score: 'exact' (mixtures, default), 'empirical' (the exact empirical score of a data set's rows, or of
        n_train mixture points drawn with seed), a training array, or a callable f(x (B, N), t) -> (B, N).
    labeller: 'sign' (gmm2), 'gmm4', 'mixture', 'mean', 'nearest', 'classifier' (classifier= a checkpoint;
        MNIST trains one), or a callable f(x (B, N)) -> labels (B,) or (B, L) (or regimes.Labeller).
    branch_times / branch_steps (steps of the noise schedule): default 14 points from 0.3 to 2.2 times
        the predicted t_S. Other arguments as `regimes clone` (docs/cli.md). Returns a CloneResult.
    """
    if int(pairs) != pairs or pairs < 1:
        raise ValueError("pairs: a whole number >= 1, got %r" % (pairs,))
    if trunk not in TRUNKS:
        raise ValueError("trunk: 'independent' or 'shared', got %r" % (trunk,))
    env, g, steps, m, seed = _common(process, data, noise, grid, steps, n_train, method, seed, clone=True)
    lab, lab_name, mask = env.labeller(labeller, classifier, seed)
    sc, score_name, _ = env.score(score, n_train, seed)
    T, t_end = env.run_times(max((t for t in env.t_s if not math.isnan(t)), default=math.nan), T, t_end, g)
    tb = _branch_times(env, T, t_end, branch_times, branch_steps, n_branch)
    grid_t = env.grid(g, steps, T, t_end, tb)
    curve = None
    if mask:
        kind = CURVE_PHI_MIXTURE if env.mixture_data else CURVE_PHI_DATA
        curve = _core.curve(kind, env.proc, env.mt if env.mixture_data else env.ds, mask, 0.0)
    with _Threads(threads):
        r = _core.clone(env.proc, sc, lab, m, grid_t, seed, tb, int(pairs), trunk=TRUNKS[trunk], theory=curve)
    info = lab.info()
    res = CloneResult.build(env, r, info, score_name, lab_name, trunk, getattr(env, "classifier_accuracy", math.nan))
    res.grid, res.T, res.t_end, res.score_object = grid_t, T, t_end, sc
    for w in res.warnings:
        warnings.warn(w, RegimesWarning, stacklevel=2)
    return res


def sample(process, data, score=None, n=1000, steps=None, T=None, t_end=None, method="exp", grid=None, noise=None,
           seed=1, labeller=None, n_train=None, classifier=None, train=None, threads=None):
    """`regimes sample`: n reverse trajectories from the stationary prior at T to t_end. Returns a
    SampleResult: the final samples x (n, N) in the data's coordinates, the class fractions of a labeller
    (default: the data's own rule when it has one), and with train (True: the score's training set, or an
    array in the sampler's coordinates) the memorised fraction of docs/math.md 8.2 d at 40 record times
    and of the final samples, and the last switch of the nearest training point (8.2 c)."""
    if int(n) != n or n < 1:
        raise ValueError("n: a whole number >= 1, got %r" % (n,))
    env, g, steps, m, seed = _common(process, data, noise, grid, steps, n_train, method, seed)
    lab = lab_name = None
    if labeller is not None or classifier is not None or env.mixture_data or data.labelled:
        lab, lab_name, _ = env.labeller(labeller, classifier, seed)
    sc, score_name, Xtr = env.score(score, n_train, seed)
    T, t_end = env.run_times(max((t for t in env.t_s if not math.isnan(t)), default=math.nan), T, t_end, g)
    rec = np.zeros(0)
    if train is not None and train is not False:
        if train is True:
            Xtr = Xtr if Xtr is not None else env.training_set(n_train, seed)
        else:
            Xtr = np.asarray(train, dtype=np.float32)
        if not t_end > 0:
            raise ValueError("memorisation records down to 2 t_end: t_end must be > 0")
        rec = _record_times(T, t_end)
    else:
        Xtr = None
    grid_t = env.grid(g, steps, T, t_end, rec)
    with _Threads(threads):
        r = _core.sample(env.proc, sc, m, grid_t, seed, int(n), labeller=lab, train=Xtr,
                         rec_t=rec if Xtr is not None else None)
    res = SampleResult.build(env, r, score_name, lab_name, T, t_end, lab.info() if lab else None)
    res.grid, res.score_object = grid_t, sc
    return res


def collapse(process, data, n_train=None, samples=2000, entropy_times=None, steps=None, T=None, t_end=None,
             method="exp", grid=None, noise=None, seed=1, threads=None):
    """`regimes collapse` with the exact empirical score of a training set (n_train mixture points drawn
    with seed, default 20000, or a data set's rows): the Monte-Carlo excess entropy f(t) at entropy_times
    (default 24 geometric times from 0.4 to 3 times the predicted t_C) against the theory, t_C where
    f / alpha <= 0.05, and min(samples, 500) reverse trajectories for the memorised fraction and the last
    switch (docs/math.md 7.6, 8.2). Returns a CollapseResult."""
    if int(samples) != samples or samples < 1:
        raise ValueError("samples: a whole number >= 1, got %r" % (samples,))
    env, g, steps, m, seed = _common(process, data, noise, grid, steps, n_train, method, seed)
    T, t_end = env.run_times(math.nan, T, t_end, g)
    if not t_end > 0:
        raise ValueError("collapse records down to 2 t_end: t_end must be > 0")
    rec = _record_times(T, t_end)
    if entropy_times is None:
        lo = 0.01 if math.isnan(env.t_c) else 0.4 * env.t_c
        hi = 2.0 if math.isnan(env.t_c) else min(3.0 * env.t_c, T)
        tf = np.array([lo * math.pow(hi / lo, i / (N_FTIMES - 1)) for i in range(N_FTIMES)])
    else:
        tf = np.asarray(entropy_times, dtype=float)
        if tf.ndim != 1 or len(tf) < 2 or np.any(np.diff(tf) <= 0):
            raise ValueError("entropy_times: at least two increasing times")
    sc, _, X = env.score("empirical", n_train, seed, collapse=True)
    grid_t = env.grid(g, steps, T, t_end, rec)
    kind = CURVE_F_MIXTURE if env.mixture_data else CURVE_F_DATA
    curve = _core.curve(kind, env.proc, env.mt if env.mixture_data else env.ds, 1, float(X.shape[0]))
    nt = min(int(samples), MAX_TRAJ)
    with _Threads(threads):
        r = _core.collapse(env.proc, sc, m, grid_t, seed, nt, X, rec, tf, int(samples), theory=curve)
    res = CollapseResult.build(env, r, T, t_end)
    res.grid = grid_t
    return res
