#!/usr/bin/python3
"""The parent paper's headline cloning experiment, as a plain PyTorch loop, against `regimes clone`.

Setup (the parent's, docs/math.md 9.2): two-class Gaussian mixture, means +-m with |m|^2 = d, sigma^2 = 1,
OU forward process, reverse Euler-Maruyama from T = 10, 1000 uniform steps (h = 0.01), branch times
1, 1.5, ..., 9.5 (`regimes clone` wants t_b < T, so the parent's t_b = 10, a clone pair drawn from the
prior, is left out on both sides), 500 pairs per branch time, independent trunks as in the parent's
code: for each t_b a fresh trunk from the prior to t_b, then two clones continued to the end with
independent noise; phi(t_b) = the fraction of pairs whose final labels sign(m . x) agree.

PyTorch side (written here, in the style of the parent's public code): the state is a d x n tensor,
the score is the tanh form of the two-class mixture (docs/math.md 5.4), the noise torch.randn_like, one
thread (torch.set_num_threads(1)). The time grid is regimes' own (uniform from T to t_end = 1e-3 with
the branch times merged in), so both sides take the same steps. Two PyTorch variants are timed:
  plain   x + h (x + 2 score(x, t)) + sqrt(2h) randn_like(x), with score() a function as in the
          parent's code: the comparison the issue asks for (ratio_to_parent_pytorch)
  fused   the same step with the scalar coefficients folded by hand, 3 tensor operations and the
          noise: what a careful PyTorch user gets (ratio_to_fused_pytorch)
regimes side: `regimes clone --method em --grid uniform --steps 1000 --T 10 --threads 1` with the same
pairs and branch times (OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1), --trunk independent and --trunk
shared, timed as whole processes (start-up, theory, bootstrap and files included).
All timings interleave in one run (--repeat rounds); each ratio is the median over rounds of the
ratio within a round, and the load average is printed beside them. The phi curves of the
two sides are compared (each point within 5 standard errors of the difference of two binomials).
Also prints normals per second per core from bench_rng (built by `make bench`) when it is there.

Usage: /usr/bin/python3 bench/compare_parent.py [--regimes build/regimes] [--pairs 500] [--d 256]
       [--repeat 1] [--quick]     (--quick: 100 pairs, d = 64, for a smoke test)
Needs python3-torch (Debian); nothing in the build or the tests requires it.
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time


def regimes_grid(T, t_end, K, extra):
    """rg_sampler_grid(RG_GRID_UNIFORM, ...): uniform points, extra times merged, near-duplicates dropped."""
    t = [T - k * (T - t_end) / K for k in range(K + 1)]
    t[0], t[-1] = T, t_end
    t = sorted(t + list(extra), reverse=True)
    tol, out = 1e-12 * T, [t[0]]
    for v in t[1:]:
        if out[-1] - v > tol:
            out.append(v)
    out[0], out[-1] = T, t_end
    return out


def torch_clone(torch, d, n, grid, branch, seed, fused):
    """phi(t_b) for every branch time, the parent's independent-trunk loop."""
    torch.manual_seed(seed)
    m = torch.ones(d, 1)  # |m|^2 = d
    sigma2 = 1.0

    def score(x, t):  # docs/math.md 5.4 under OU: s = -x / G + tanh(g . x) g, g = e^{-t} m / G
        e2 = math.exp(-2.0 * t)
        gam = sigma2 * e2 + 1.0 - e2
        g = m * (math.exp(-t) / gam)
        return torch.tanh(g.T @ x) * g - x / gam

    def step(x, t, h):
        if not fused:
            return x + h * (x + 2.0 * score(x, t)) + math.sqrt(2.0 * h) * torch.randn_like(x)
        e2 = math.exp(-2.0 * t)
        gam = sigma2 * e2 + 1.0 - e2
        g = m * (2.0 * h * math.exp(-t) / gam)  # 2h g
        th = torch.tanh(g.T @ x / (2.0 * h))
        return x * (1.0 + h - 2.0 * h / gam) + th * g + math.sqrt(2.0 * h) * torch.randn_like(x)

    def run(x, k0, k1):
        for k in range(k0, k1):
            x = step(x, grid[k], grid[k] - grid[k + 1])
        return x

    phi = []
    for tb in branch:
        kb = min(range(len(grid)), key=lambda k: abs(grid[k] - tb))
        x = torch.randn(d, n)                       # OU prior N(0, I)
        x = run(x, 0, kb)                           # trunk T -> t_b
        xa = run(x, kb, len(grid) - 1)              # clone a
        xb = run(x.clone(), kb, len(grid) - 1)      # clone b, its own noise
        la, lb = (m.T @ xa) > 0, (m.T @ xb) > 0
        phi.append((la == lb).float().mean().item())
    return phi


def read_phi(path):
    with open(path) as f:
        next(f)
        return [float(line.split(",")[1]) for line in f if line.strip()]


def run_regimes(binary, d, n, branch, trunk, out):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    cmd = [binary, "clone", "--process", "ou", "--dim", str(d), "--mean-norm2", str(d), "--sigma2", "1",
           "--method", "em", "--grid", "uniform", "--steps", "1000", "--T", "10", "--threads", "1",
           "--samples", str(n), "--branch-times", ",".join("%g" % t for t in branch), "--trunk", trunk,
           "--seed", "1", "--quiet", "--out", out]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, read_phi(os.path.join(out, "phi.csv")), " ".join(cmd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--regimes", default="build/regimes")
    ap.add_argument("--bench-rng", default="build/bench_rng")
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the four timings, interleaved")
    ap.add_argument("--quick", action="store_true", help="100 pairs, d = 64: a smoke test")
    a = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("compare_parent: python3-torch is not installed; nothing to compare", file=sys.stderr)
        return 0
    torch.set_num_threads(1)
    if a.quick:
        a.pairs, a.d = 100, 64
    branch = [1.0 + 0.5 * i for i in range(18)]
    grid = regimes_grid(10.0, 1e-3, 1000, branch)
    times = {"plain": [], "fused": [], "independent": [], "shared": []}
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.repeat):
            for key in ("plain", "independent", "fused", "shared"):
                if key in ("plain", "fused"):
                    t0 = time.perf_counter()
                    phi = torch_clone(torch, a.d, a.pairs, grid, branch, 1 + r, key == "fused")
                    times[key].append(time.perf_counter() - t0)
                    if key == "plain":
                        phi_torch = phi
                else:
                    dt, phi, cmd = run_regimes(a.regimes, a.d, a.pairs, branch, key, os.path.join(tmp, key))
                    times[key].append(dt)
                    if key == "independent":
                        phi_ours, cmd_ours = phi, cmd
                    else:
                        phi_shared = phi
                load.append(os.getloadavg()[0])
    def median(v):
        v = sorted(v)
        return 0.5 * (v[(len(v) - 1) // 2] + v[len(v) // 2])

    med = {k: median(v) for k, v in times.items()}

    def ratio(a, b):  # the median over rounds of the ratio within each round (the load drifts)
        return median([x / y for x, y in zip(times[a], times[b])])

    print("compare_parent: d = %d, %d pairs, %d branch times, %d grid steps, one thread each; load %s"
          % (a.d, a.pairs, len(branch), len(grid) - 1, " ".join("%.2f" % x for x in load)))
    print("  regimes: %s" % cmd_ours)
    for k, what in (("plain", "PyTorch, plain loop (the parent's style)"),
                    ("fused", "PyTorch, coefficients folded by hand"),
                    ("independent", "regimes clone --trunk independent"),
                    ("shared", "regimes clone --trunk shared")):
        print("  %-45s %8.2f s median  (%s)" % (what, med[k], " ".join("%.2f" % x for x in times[k])))
    print("  t_b    phi_pytorch  phi_regimes  phi_shared")
    worst = 0.0
    for tb, p, q, s in zip(branch, phi_torch, phi_ours, phi_shared):
        se = math.sqrt(max(p * (1 - p) + q * (1 - q), 2.0 / a.pairs) / a.pairs)
        worst = max(worst, abs(p - q) / se, abs(p - s) / se)
        print("  %4.1f   %10.3f  %11.3f  %10.3f" % (tb, p, q, s))
    print("phi_max_deviation_in_se: %.2f (%s)" % (worst, "ok" if worst < 5 else "CURVES DIFFER"))
    if os.path.exists(a.bench_rng):
        out = subprocess.run([a.bench_rng], capture_output=True, text=True,
                             env=dict(os.environ, OMP_NUM_THREADS="1")).stdout
        mm = re.search(r"normals_per_s_per_core: (\S+)", out)
        if mm:
            print("normals_per_s_per_core: %s" % mm.group(1))
    else:
        print("normals_per_s_per_core: (build bench_rng with `make bench` to print it)")
    print("ratio_to_parent_pytorch: %.2f" % ratio("plain", "independent"))
    print("ratio_to_parent_pytorch_shared: %.2f" % ratio("plain", "shared"))
    print("ratio_to_fused_pytorch: %.2f" % ratio("fused", "independent"))
    return 0 if worst < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
