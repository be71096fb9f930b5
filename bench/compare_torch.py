#!/usr/bin/env python3
"""Optional: the exact empirical score (docs/math.md 5.2, ou, t = 0.5) in PyTorch CPU, against bench_score.

Two forms, same sizes and threads as bench_score (B = 256, P = 10000, d = 1024 by default):
  matmul     G = y b^T, softmax, W b   (the two-GEMM form, what regimes does)
  broadcast  r2 = ((y[:, None, :] - b[None, :, :])**2).sum(-1), chunked over P so the [B, chunk, d]
             tensor stays under --max-mib; then softmax and W b
Prints GFLOP/s of each (counting 4 B P d flops, as bench_score) and the ratio of ours to each.
Ours: --ours GFLOPS, or --bench PATH to run bench_score and parse its "score:" line.
Needs python3-torch; nothing in the build or the tests requires it.
"""
import argparse
import math
import re
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=256)
    ap.add_argument("--P", type=int, default=10000)
    ap.add_argument("--d", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--max-mib", type=float, default=512.0, help="broadcast chunk budget")
    ap.add_argument("--ours", type=float, default=None, help="our GFLOP/s, if known")
    ap.add_argument("--bench", default=None, help="path of bench_score to run for our GFLOP/s")
    a = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("compare_torch: python3-torch is not installed; nothing to compare", file=sys.stderr)
        return 0
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    B, P, d, t = a.B, a.P, a.d, 0.5
    g = torch.Generator().manual_seed(1)
    X = torch.randn(P, d, generator=g)
    z = torch.randn(B, d, generator=g)
    E, D = math.exp(-t), -math.expm1(-2 * t)
    b = X * (E / math.sqrt(D))              # whitened propagated training points, once per t
    bn = (b * b).sum(1)
    flops = 4.0 * B * P * d

    def score_matmul():
        y = z / math.sqrt(D)
        r2 = (y * y).sum(1, keepdim=True) + bn[None, :] - 2.0 * (y @ b.T)
        w = torch.softmax(-0.5 * r2, dim=1)
        return -(y - w @ b) / math.sqrt(D)

    def score_broadcast():
        y = z / math.sqrt(D)
        chunk = max(1, int(a.max_mib * 2**20 / (4.0 * B * d)))
        r2 = torch.empty(B, P)
        for p0 in range(0, P, chunk):
            r2[:, p0:p0 + chunk] = ((y[:, None, :] - b[None, p0:p0 + chunk, :]) ** 2).sum(-1)
        w = torch.softmax(-0.5 * r2, dim=1)
        return -(y - w @ b) / math.sqrt(D)

    def best(fn):
        fn()
        ts = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return min(ts)

    s1, s2 = score_matmul(), score_broadcast()
    rel = float((s1 - s2).abs().max() / s1.abs().max())
    tm, tb = best(score_matmul), best(score_broadcast)
    ours = a.ours
    if ours is None and a.bench:
        out = subprocess.run([a.bench, str(B), str(P), str(d)], capture_output=True, text=True, check=True).stdout
        m = re.search(r"^score:.*?([0-9.]+) GFLOP/s", out, re.M)
        ours = float(m.group(1)) if m else None
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, B = {B}, P = {P}, d = {d}")
    print(f"torch matmul:    {tm:.4f} s  {flops / tm * 1e-9:.1f} GFLOP/s")
    print(f"torch broadcast: {tb:.4f} s  {flops / tb * 1e-9:.1f} GFLOP/s  (max rel diff to matmul {rel:.2e})")
    if ours is not None:
        print(f"ours:            {ours:.1f} GFLOP/s")
        print(f"ratio_ours_to_torch_matmul: {ours / (flops / tm * 1e-9):.3f}")
        print(f"ratio_ours_to_torch_broadcast: {ours / (flops / tb * 1e-9):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
