"""DDPM noise schedules and their OU clock t_k = -1/2 log abar_k (docs/math.md 1.3, 11.1; noise.h)."""
import os

import numpy as np

from . import _core


class Noise:
    """A schedule abar_k, k = 0 .. K-1. Every time the toolkit reports is an OU time; a schedule translates
    it to a step: step(t) = the first k with t_k >= t, time(k) = t_k."""

    def __init__(self, core, spec):
        self._s, self.spec = core, spec
        self.abar, self.times = self._s.table()

    @property
    def steps(self):
        """K, the number of steps."""
        return len(self.times)

    def time(self, k):
        """t_k for a step (or an array of steps)."""
        k = np.asarray(k)
        if not np.issubdtype(k.dtype, np.integer) or np.any(k < 0) or np.any(k >= self.steps):
            raise ValueError("time: steps are integers in 0 .. %d" % (self.steps - 1))
        t = self.times[k]
        return float(t) if t.ndim == 0 else t

    def step(self, t):
        """The first step k with t_k >= t: an int, or None beyond the schedule (its last step is less noisy
        than t); for an array of times an int64 array with -1 there."""
        k = self._s.step(np.asarray(t, dtype=float))
        if k.ndim == 0:
            return None if k < 0 else int(k)
        return k

    def __repr__(self):
        return "regimes.Noise(%r, K=%d, t_last=%.6g)" % (self.spec, self.steps, self.times[-1])


def ddpm_linear(b0=1e-4, b1=2e-2, K=1000):
    """The DDPM linear schedule beta_j = b0 + (b1 - b0) j / (K - 1) (the parent's: 1e-4, 2e-2, 1000)."""
    spec = "ddpm-linear" if (b0, b1, K) == (1e-4, 2e-2, 1000) else "ddpm-linear:%r:%r:%d" % (b0, b1, K)
    return Noise(_core.noise_ddpm_linear(float(b0), float(b1), int(K)), spec)


def ddpm_cosine(K=1000):
    """The cosine schedule of Nichol & Dhariwal (2021), s = 0.008."""
    return Noise(_core.noise_ddpm_cosine(int(K)), "ddpm-cosine" if K == 1000 else "ddpm-cosine:%d" % K)


def noise_table(abar):
    """Any schedule from its abar_k (a model's alphas_cumprod), or a text file of one value per line."""
    if isinstance(abar, (str, os.PathLike)):
        return Noise(_core.noise_read(abar), os.fspath(abar))
    return Noise(_core.noise_table(np.asarray(abar, dtype=float)), "table")
