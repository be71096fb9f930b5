#!/usr/bin/env python3
"""Cost per sampler step of a Python-callable score against the built-in one on the same score.

The score is the exact two-class score under OU (docs/math.md 5.4), built in (rg_score_gmm, the tanh
path) or as a NumPy callable f(x, t) computing the same formula. Both run regimes.sample (n trajectories,
`--steps` grid steps, exponential integrator) in the same process, alternated `--reps` times; each line
gives the median wall time per grid step and the ratio callable / built-in measured in this run.
With python3-torch installed, a torch callable of the same formula is timed too.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_score.py [--n 2000] [--d 16] [--steps 100]

A callable is a batch score: one call per grid step on all n rows (the line prints the count). The NumPy
line measures NumPy's own costs on whole-population arrays, which depend on the environment, not on
regimes: each (2000, 16) float64 temporary (256 KB) is above glibc's mmap threshold, so every NumPy
operation maps and page-faults fresh memory (-x / 2 took 1.9 ms here, 0.027 ms with
MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=8388608), and OpenBLAS threads spin on a busy
machine (x @ g: 6 ms with 2 threads, 7 us with OPENBLAS_NUM_THREADS=1, printed). torch keeps its buffers.

`make bench` runs it with the defaults. Timing only: nothing here is a test.
"""
import argparse
import os
import statistics
import time

import numpy as np

import regimes as rg


def numpy_score(d):
    m = np.ones(d)

    def score(x, t):
        e2 = np.exp(-2.0 * t)
        G = e2 + (1.0 - e2)  # sigma^2 = 1
        g = np.exp(-t) * m / G
        x = x.astype(np.float64)
        return -x / G + np.tanh(x @ g)[:, None] * g[None, :]
    return score


def torch_score(d):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    m = torch.ones(d, dtype=torch.float32)

    def score(x, t):
        xt = torch.from_numpy(x)
        e = float(np.exp(-t))
        g = e * m
        return (-xt + torch.tanh(xt @ g)[:, None] * g[None, :]).numpy()
    return score


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="trajectories")
    ap.add_argument("--d", type=int, default=16, help="dimension")
    ap.add_argument("--steps", type=int, default=100, help="grid steps")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    proc, data = rg.ou(), rg.gmm2(dim=a.d)
    threads = rg._core.get_threads()
    kinds = [("built-in", None), ("numpy", numpy_score(a.d))]
    ts = torch_score(a.d)
    if ts is not None:
        kinds.append(("torch", ts))
    rg.set_threads(threads)  # torch.set_num_threads sets OpenMP's count for the whole process (one libgomp)
    times = {k: [] for k, _ in kinds}
    calls = {}
    for _ in range(a.reps):  # alternated, so both see the same machine load
        for name, fn in kinds:
            t0 = time.perf_counter()
            r = rg.sample(proc, data, score=fn, n=a.n, steps=a.steps, T=4.0, seed=1)
            times[name].append((time.perf_counter() - t0) / a.steps)
            if fn is not None:
                calls[name] = r.score_object.calls()[0]
    base = statistics.median(times["built-in"])
    print("python_score: n = %d trajectories, d = %d, %d steps, threads %d, OPENBLAS_NUM_THREADS=%s, load %.2f"
          % (a.n, a.d, a.steps, rg._core.get_threads(), os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
             os.getloadavg()[0]))
    for name, _ in kinds:
        med = statistics.median(times[name])
        extra = "" if name not in calls else ", %.1f score calls per step" % (calls[name] / a.steps)
        print("  %-9s %9.3f ms per step   ratio to built-in %7.2f%s" % (name, 1e3 * med, med / base, extra))


if __name__ == "__main__":
    main()
