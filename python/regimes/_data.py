"""Data: Gaussian mixtures (gmm2, gmm4) and data sets (any array, MNIST), as the command line builds them
(docs/cli.md, `--data`)."""
import os

import numpy as np

from . import _core

FASHION_DIR = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist (mnist.h)


class _Mixture:
    def draw(self, n, seed=1, process=None):
        """Points 0 .. n-1 of the mixture for seed (the CLI's training set of --n-train n, RG_STREAM_DATA),
        and their component labels; process (default ou, coupled for gmm4) fixes the dimension and, for
        nonrev/general, the mean direction."""
        from ._experiments import _Env
        from ._process import coupled, ou
        env = _Env(process if process is not None else coupled() if self.kind == "gmm4" else ou(), self)
        return env.mix.draw(int(seed), int(n))


class Gmm2(_Mixture):
    """The two-class mixture 1/2 N(+m, Cw) + 1/2 N(-m, Cw) (docs/math.md 5.4, 7.1 b)."""

    kind = "gmm2"
    n_classes = 2
    labelled = True

    def __init__(self, mean_norm2=None, sigma2=1.0, dim=None, mean_dir="ones", cw="I"):
        if sigma2 <= 0 or (mean_norm2 is not None and mean_norm2 <= 0):
            raise ValueError("gmm2: want sigma2 > 0 and mean_norm2 > 0")
        self.mean_norm2, self.sigma2, self.dim = mean_norm2, float(sigma2), dim
        self.mean_dir, self.cw = mean_dir, cw

    def describe(self, env):
        d = {"kind": self.kind, "mean_norm2": env.norm2[0], "sigma2": self.sigma2}
        if env.process.kind in ("nonrev", "general"):
            d["mean_dir"] = self.mean_dir if isinstance(self.mean_dir, str) else "array"
            d["cw"] = self.cw if isinstance(self.cw, str) else "array"
        return d

    def _direction(self, proc, k):
        s = self.mean_dir
        if not isinstance(s, str):
            e = np.asarray(s, dtype=float)
            if e.shape != (k,):
                raise ValueError("mean_dir: want %d numbers, got shape %s" % (k, e.shape))
            return _core.unit(e)
        if s == "ones":
            return _core.unit(np.ones(k))
        if s in ("slow", "fast") or s.startswith("eigen:"):
            col = 0 if s == "slow" else k - 1 if s == "fast" else int(s[6:])
            if not 0 <= col < k:
                raise ValueError("mean_dir %r: want an index in 0 .. %d" % (s, k - 1))
            # eigenvectors of U (nonrev) or of the drift (general), as the CLI picks them
            S = proc._u(k) if hasattr(proc, "_u") else proc.build(k).drift(0.0)
            return _core.unit(_core.eigsym(S)[1][:, col])
        raise ValueError("mean_dir: 'ones', 'slow', 'fast', 'eigen:I' or an array, got %r" % (s,))

    def _cw(self, proc, built, k):
        s = self.cw
        if isinstance(s, str) and s == "I":
            C = np.eye(k)
        elif isinstance(s, str) and s == "U":
            if not hasattr(proc, "_u"):
                raise ValueError("cw='U' needs a nonrev process (a general A has no U; use 'Uinv' or an array)")
            C = proc._u(k).copy()
        elif isinstance(s, str) and s == "Uinv":
            C = built.stationary()  # U^-1 = Sigma_inf for every Q (docs/math.md 2.6)
        elif isinstance(s, str):
            raise ValueError("cw: 'I', 'U', 'Uinv' or an array, got %r" % (s,))
        else:
            C = np.array(s, dtype=float)
            if C.shape != (k, k):
                raise ValueError("cw: want a %dx%d matrix, got shape %s" % (k, k, C.shape))
        return C * self.sigma2

    def theory_data(self, env):
        """(pattern (1, k), mean_norm2 (1), Cw (k, k)) in core coordinates, and the mixture's m (N)."""
        proc, built, N = env.process, env.proc, env.N
        k = built.info()["core"]
        norm2 = float(self.mean_norm2) if self.mean_norm2 is not None else float(N)
        if k == 1:
            pattern, Cw = np.ones((1, 1)), np.array([[self.sigma2]])
            m = np.full(N, np.sqrt(norm2 / N))
        else:
            e = self._direction(proc, k)
            pattern, Cw = e[None, :], self._cw(proc, built, k)
            m = np.sqrt(norm2) * e
        return pattern, np.array([norm2]), Cw, m

    def mixture(self, env):
        k = env.proc.info()["core"]
        if k == 1:
            return _core.gmm2(env.N, env.norm2[0], None, self.sigma2, None)
        return _core.gmm2(env.N, env.norm2[0], env.pattern[0], self.sigma2, env.Cw)


class Gmm4(_Mixture):
    """Four classes of paired data (x, y) = (s_c m_c + s_d m_d, s_c m_c - s_d m_d) + sigma xi
    (docs/math.md 7.1 c): the common and the difference mode of a coupled process."""

    kind = "gmm4"
    n_classes = 2
    labelled = True

    def __init__(self, mc2=25.0, md2=25.0, sigma2=1.0, dim=None):
        if min(mc2, md2, sigma2) <= 0:
            raise ValueError("gmm4: want mc2, md2, sigma2 > 0")
        self.mc2, self.md2, self.sigma2, self.dim = float(mc2), float(md2), float(sigma2), dim

    def describe(self, env):
        return {"kind": self.kind, "mc2": self.mc2, "md2": self.md2, "sigma2": self.sigma2}

    def theory_data(self, env):
        d = env.N // 2
        m = np.concatenate([np.full(d, np.sqrt(self.mc2 / d)), np.sqrt(self.md2 / d) * np.where(np.arange(d) % 2, -1.0, 1.0)])
        return (np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([self.mc2, self.md2]), self.sigma2 * np.eye(2), m)

    def mixture(self, env):
        return _core.gmm4(env.N // 2, self.mc2, self.md2, self.sigma2)


def gmm2(mean_norm2=None, sigma2=1.0, dim=None, mean_dir="ones", cw="I"):
    """The two-class Gaussian mixture 1/2 N(+m, Cw) + 1/2 N(-m, Cw) of the parent paper.

    mean_norm2: |m|^2 (default: the dimension N); sigma2: the within-class variance; dim: N (default:
    the process', else 1000, or 64 under nonrev). Under nonrev/general processes m lies along mean_dir
    ('ones', 'slow', 'fast', 'eigen:I' or an array) and Cw = sigma2 x ('I', 'U', 'Uinv' or an array).
    """
    return Gmm2(mean_norm2, sigma2, dim, mean_dir, cw)


def gmm4(mc2=25.0, md2=25.0, sigma2=1.0, dim=None):
    """Paired two-modality data for regimes.coupled(): |m_c|^2 = mc2, |m_d|^2 = md2; dim: d per modality."""
    return Gmm4(mc2, md2, sigma2, dim)


class Dataset:
    """A training set: rows X (P, N) and optional integer labels, centred by their mean (docs/math.md
    11.2) as on the command line. X holds the centred rows, mean the mean removed; samples come back in
    the data's own coordinates."""

    kind = "npy"

    def __init__(self, X, labels=None, views=1, offset=None, kind="npy", centred=False, **extra):
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError("dataset: X must be a (P, N) array, got shape %s" % (X.shape,))
        if not np.issubdtype(X.dtype, np.floating) and not np.issubdtype(X.dtype, np.integer):
            raise TypeError("dataset: X must hold real numbers, got dtype %s" % X.dtype)
        if not np.all(np.isfinite(X)):
            bad = int(np.argmax(~np.all(np.isfinite(X), axis=1)))
            raise ValueError("dataset: row %d contains NaN or Inf" % bad)
        if centred:
            self.X, self.mean = np.ascontiguousarray(X, dtype=np.float32), np.asarray(offset, dtype=float)
        else:
            self.X, self.mean = _core.center(X)
        self.offset = self.mean if offset is None else np.asarray(offset, dtype=float)
        self.views, self.kind = views, kind
        self.P, self.N = self.X.shape
        self.labels, self.n_classes = None, 0
        if labels is not None:
            lab = np.asarray(labels)
            if lab.ndim == 2 and lab.shape[1] == 1:
                lab = lab[:, 0]
            if lab.shape != (self.P,):
                raise ValueError("dataset: %d labels for %d rows" % (lab.size, self.P))
            if not (np.issubdtype(lab.dtype, np.integer) or lab.dtype == bool):
                raise TypeError("dataset: labels must be integers 0 .. K-1, got dtype %s" % lab.dtype)
            if lab.min() < 0:
                raise ValueError("dataset: label %d is negative" % lab.min())
            self.labels = np.ascontiguousarray(lab, dtype=np.int32)
            self.n_classes = int(self.labels.max()) + 1
            if self.n_classes < 2:
                raise ValueError("dataset: the labels hold one class; want at least two")
        self.labelled = self.labels is not None
        self.dim = self.N
        self.extra = extra
        self._ds = {}

    def theory_set(self):
        """The library's theory data set (theory.h), labelled when the data are (computed once)."""
        if "ds" not in self._ds:
            self._ds["ds"] = _core.Dataset(self.X, self.labels if self.n_classes >= 2 else None)
        return self._ds["ds"]

    def uncentre(self, x):
        """States in the sampler's coordinates back to the data's: + the mean of each view."""
        return (x.astype(np.float64) + np.tile(self.offset, self.views)[None, :]).astype(np.float32)  # as the CLI

    def describe(self, env):
        d = {"kind": self.kind}
        d.update(self.extra)
        d["P"], d["classes"] = self.P, self.n_classes
        return d

    def __repr__(self):
        return "regimes.Dataset(P=%d, N=%d, classes=%d, kind=%r)" % (self.P, self.N, self.n_classes, self.kind)


def dataset(X, labels=None):
    """Any (P, N) array (or a .npy file name) as a training set, with optional integer labels (an array
    or a .npy file). Rows are centred by their mean, like `regimes ... --data FILE.npy`."""
    if isinstance(X, (str, os.PathLike)):
        X = np.load(X)
    if isinstance(labels, (str, os.PathLike)):
        labels = np.load(labels)
    return Dataset(X, labels)


def mnist(digits=(1, 8), n_train=None, dir="data/mnist", fashion=False, paired=False, rho=1.0, seed=1):
    """MNIST (or Fashion-MNIST, fashion=True: Debian's dataset-fashion-mnist) images of the given digits,
    pixels / 255, centred (docs/math.md 10.2), labelled by the index of their digit in `digits`.

    n_train: images in all (default 10000; the first n_train / len(digits) of each digit). paired=True
    gives the paired images (x, y) of two digits for regimes.coupled() (docs/math.md 10.3; default 5000
    pairs, rho the probability that y shows the same class as x, drawn with seed)."""
    digits = [int(d) for d in digits]
    if len(set(digits)) != len(digits) or not all(0 <= d <= 9 for d in digits) or not 1 <= len(digits) <= 10:
        raise ValueError("mnist: want distinct digits 0-9, got %r" % (digits,))
    path = FASHION_DIR if fashion else os.fspath(dir)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        if not any(os.access(os.path.join(path, name + z), os.R_OK) for z in ("", ".gz")):
            raise FileNotFoundError("%s: no readable %s (nor .gz); %s" % (path, name, "apt-get install dataset-fashion-mnist"
                                    if fashion else "scripts/get-mnist.sh fetches MNIST"))
    kind = "fashion" if fashion else "mnist"
    if paired:
        if len(digits) != 2:
            raise ValueError("mnist: paired images need exactly two digits")
        n = int(n_train) if n_train is not None else 5000
        X, lab, mean = _core.mnist_pairs(path, tuple(digits), n, float(rho), int(seed))
        labels = np.array([digits.index(v // 10) for v in lab], dtype=np.int32)
        ds = Dataset(X, labels, views=2, offset=mean, kind=kind, centred=True, digits=digits, rho=float(rho))
        ds.lambda_c, ds.lambda_d = _core.pair_spectra(X)
    else:
        n = int(n_train) if n_train is not None else 10000
        if n < len(digits):
            raise ValueError("mnist: n_train %d is fewer than one image per digit" % n)
        X, lab, mean = _core.mnist(path, 0, np.array(digits), n // len(digits), 1)
        labels = np.array([digits.index(v) for v in lab], dtype=np.int32)
        ds = Dataset(X, labels, views=1, offset=mean, kind=kind, centred=True, digits=digits)
    ds.image_dir, ds.digits, ds.seed = path, digits, seed
    return ds
