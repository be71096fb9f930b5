#!/usr/bin/env python3
"""MNIST from Python: the theory of the digits 1 and 8 (docs/math.md 10.2, 11.2), with DDPM step indices,
then their speciation measured by cloning with the exact empirical score, labelled by a classifier
network trained here (the CLI's: 784-256-2, 3 epochs of Adam).

    scripts/get-mnist.sh                         # once: data/mnist
    /usr/bin/python3 examples/python/mnist.py    # from the repository root; a few minutes on 2 cores
"""
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Run from a checkout: the package built by `make build` (build/python) when none is installed.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "python"))
import regimes as rg  # noqa: E402

SHORT = "--short" in sys.argv
t0 = time.time()
digits = rg.mnist(digits=(1, 8), n_train=2000 if SHORT else 10000)  # 784 pixels / 255, centred
th = rg.theory(rg.ou(), digits, noise=rg.ddpm_linear())
print("MNIST 1 vs 8, P = %d: Lambda = %.4f, top eigenvalues %s" % (digits.P, th.lambda_max,
                                                                  " ".join("%.3f" % v for v in th.top[:5])))
print("t_S parent (1/2 log Lambda) = %.4f, step %d of the parent's DDPM schedule" % (th.t_S_parent, th.t_S_parent_step))
print("t_S exact = %.4f, t_S class means = %.4f (step %d), t_C = %.4f, horizon %.3f"
      % (th.t_S_exact, th.t_S_class, th.t_S_class_step, th.t_C, th.horizon))

r = rg.clone(rg.ou(), digits, pairs=100 if SHORT else 300, steps=40 if SHORT else 100, seed=1,
             branch_times=[0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.7, 2.0, 2.5])
print("clone (exact empirical score, classifier accuracy %.4f): t_S = %.3f [%.3f, %.3f], theory %.3f"
      % (r.classifier_accuracy, r.t_S, r.t_S_ci[0], r.t_S_ci[1], r.t_S_theory))
print("phi(t_b): " + " ".join("%.1f:%.2f" % (t, p) for t, p in zip(r.t_b, r.phi[0])))
s = rg.sample(rg.ou(), digits, n=100, steps=100, seed=1)
print("100 samples: class fractions %s (classifier labels)" % " ".join("%.2f" % f for f in s.class_frac[0]))
try:
    import matplotlib
    matplotlib.use("Agg")
    s.plot(path="mnist_samples.png")
    r.plot(path="mnist_phi.png")
    print("figures mnist_samples.png, mnist_phi.png")
except ImportError:
    print("figures skipped: matplotlib is not installed")
print("total %.0f s" % (time.time() - t0))
