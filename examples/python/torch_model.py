#!/usr/bin/env python3
"""Your own PyTorch score model, measured by regimes against the theory.

Trains a small time-conditioned score network on P = 20000 points of the two-class mixture
1/2 N(+m, I) + 1/2 N(-m, I) in d = 8 (|m|^2 = 8), by denoising score matching under the OU forward
process, then:
  * measures its speciation: regimes.clone runs clone pairs (shared trunks) with the network as the
    score, called once per grid time on every trunk and clone at once; phi(t) is the
    fraction of pairs whose final classes agree, t_S its 0.775 crossing with a bootstrap interval,
    printed next to the theory's t_S (kappa = 1, docs/math.md 7.1 b);
  * measures its memorised fraction (docs/math.md 8.2 d) with regimes.sample against the training set,
    next to the exact empirical score of the same points, which collapses onto them below the theory's t_C;
  * saves the figure (phi measured and predicted) when matplotlib is installed.

    /usr/bin/python3 examples/python/torch_model.py            # about a minute on 2 cores
    /usr/bin/python3 examples/python/torch_model.py --short    # seconds: the setting `make check` runs

Needs Debian's python3-torch (CPU) and the regimes package (build/python after `make build`, or
`make install`). Environment: REGIMES_EXAMPLE_SHORT=1 is --short; --out FILE names the figure.
"""
import math
import os
import sys
import time

# Idle OpenMP threads sleep instead of spinning (set before torch and regimes load libgomp): on a busy
# machine spinning threads cost torch 20x here (as `make demo` sets it for the CLI).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

# Run from a checkout: the package built by `make build` (build/python) when none is installed.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "python"))
import regimes as rg  # noqa: E402

SHORT = "--short" in sys.argv or os.environ.get("REGIMES_EXAMPLE_SHORT") == "1"
FIGURE = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else "torch_model.png"
D, P = 8, 20000
TRAIN_STEPS, BATCH, LR = (200, 256, 3e-3) if SHORT else (4000, 512, 2e-3)
PAIRS, GRID_STEPS, N_MEM = (100, 40, 100) if SHORT else (2000, 200, 300)
T_MIN, T_MAX = 1e-3, 6.0  # training times, log-uniform; the sampler starts at T = 4 (the predicted horizon)


class ScoreNet(torch.nn.Module):
    """s(x, t) = -x / v_t + F(x / sqrt(v_t), log t) / sqrt(1 - e^{-2t}): the exact score of N(0, s2 I) plus a
    learned correction, v_t = s2 e^{-2t} + 1 - e^{-2t}, s2 = the data's mean square per coordinate."""

    def __init__(self, d, s2, width=128, n_freq=6):
        super().__init__()
        self.s2 = s2
        self.register_buffer("freq", 2.0 ** torch.arange(n_freq, dtype=torch.float32) / 4)
        self.F = torch.nn.Sequential(torch.nn.Linear(d + 2 * n_freq, width), torch.nn.SiLU(),
                                     torch.nn.Linear(width, width), torch.nn.SiLU(), torch.nn.Linear(width, d))

    def forward(self, x, t):
        e2 = torch.exp(-2 * t)[:, None]
        v = self.s2 * e2 + 1 - e2
        lt = torch.log(t)[:, None] * self.freq[None, :]
        h = torch.cat([x / torch.sqrt(v), torch.sin(lt), torch.cos(lt)], dim=1)
        return -x / v + self.F(h) / torch.sqrt(-torch.expm1(-2 * t))[:, None]


def train(X):
    """Denoising score matching: x_t = e^{-t} x0 + sqrt(1 - e^{-2t}) eps, loss |sqrt(1 - e^{-2t}) s(x_t, t) + eps|^2."""
    torch.manual_seed(0)
    Xt = torch.from_numpy(X)
    net = ScoreNet(D, float((X.astype(np.float64) ** 2).mean()))
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=TRAIN_STEPS, pct_start=0.05)
    loss_avg = 0.0
    for step in range(TRAIN_STEPS):
        x0 = Xt[torch.randint(0, len(Xt), (BATCH,))]
        t = torch.exp(math.log(T_MIN) + (math.log(T_MAX) - math.log(T_MIN)) * torch.rand(BATCH))
        eps = torch.randn_like(x0)
        sd = torch.sqrt(-torch.expm1(-2 * t))[:, None]
        loss = ((sd * net(torch.exp(-t)[:, None] * x0 + sd * eps, t) + eps) ** 2).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        loss_avg = 0.99 * loss_avg + 0.01 * loss.item() if step else loss.item()
    return net.eval(), loss_avg


def as_score(net):
    """The network as a regimes score: f(x (B, N) float32, t) -> (B, N)."""
    def score(x, t):
        with torch.no_grad():
            xt = torch.from_numpy(x)
            return net(xt, torch.full((len(x),), t, dtype=torch.float32)).numpy()
    return score


def main():
    t0 = time.time()
    torch.set_num_threads(2)
    process, data = rg.ou(), rg.gmm2(dim=D)  # |m|^2 = d = 8, sigma^2 = 1
    X, _ = data.draw(P, seed=1)              # the CLI's training set of --n-train 20000 --seed 1
    print("regimes torch example (%s): two-class mixture, d = %d, |m|^2 = %d, sigma^2 = 1, P = %d training points"
          % ("short" if SHORT else "full", D, D, P))
    net, loss = train(X)
    print("trained    a score network (2 x 128 SiLU) for %d Adam steps in %.1f s, final loss %.3f"
          % (TRAIN_STEPS, time.time() - t0, loss))

    th = rg.theory(process, data, n_train=P)
    print("theory     t_S = %.4f  (kappa = 1, docs/math.md 7.1 b), t_C = %.4f for P = %d" % (th.t_S, th.t_C, P))

    t1 = time.time()
    # shared trunks (docs/math.md 11.3): one trunk per pair for all branch times, so 2000 pairs cost about
    # what 1000 independent ones do; the bootstrap resamples whole pairs over the curve
    res = rg.clone(process, data, score=as_score(net), pairs=PAIRS, steps=GRID_STEPS, seed=1, trunk="shared",
                   n_branch=8 if SHORT else 14)
    off = 100.0 * (res.t_S / th.t_S - 1.0)
    print("network    t_S = %.4f [%.4f, %.4f]  (clone: %d pairs x %d branch times, shared trunks, %d steps, %.1f s): "
          "%+.1f%% from the theory"
          % (res.t_S, res.t_S_ci[0], res.t_S_ci[1], PAIRS, len(res.t_b), GRID_STEPS, time.time() - t1, off))
    print("phi(t_b)   " + " ".join("%.2f:%.2f" % (t, p) for t, p in zip(res.t_b, res.phi[0])))

    t2 = time.time()
    mem = rg.sample(process, data, score=as_score(net), n=N_MEM, steps=GRID_STEPS, seed=2, train=X)
    line = "memorised  network: %.3f [%.3f, %.3f] of %d samples" % (mem.memorised_fraction, mem.memorised_fraction_ci[0],
                                                                     mem.memorised_fraction_ci[1], N_MEM)
    if not SHORT:  # the exact empirical score of the same points collapses onto them (t_end << t_C)
        emp = rg.sample(process, data, score=X, n=N_MEM, steps=GRID_STEPS, seed=2, train=X)
        line += "; exact empirical score of the same points: %.3f" % emp.memorised_fraction
    print(line + " (%.1f s)" % (time.time() - t2))

    try:
        import matplotlib
        matplotlib.use("Agg")
        fig = res.plot()
        fig.axes[0].set_title("PyTorch score network: t_S = %.3f [%.3f, %.3f], theory %.3f"
                              % (res.t_S, res.t_S_ci[0], res.t_S_ci[1], th.t_S))
        fig.savefig(FIGURE, dpi=120, bbox_inches="tight")
        print("figure     %s" % FIGURE)
    except ImportError:
        print("figure     skipped: matplotlib is not installed (apt-get install python3-matplotlib)")
    print("total      %.1f s" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
