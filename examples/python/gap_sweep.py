#!/usr/bin/env python3
"""The synchronization gap of two coupled modalities against the coupling gamma (docs/math.md 7.3, 7.4):
the theory over the whole stable range, and the gap measured by cloning at a few gammas.

    /usr/bin/python3 examples/python/gap_sweep.py [--short]

Data: gmm4 (docs/math.md 7.1 c), |m_c|^2 = 100, |m_d|^2 = 20, d = 32 per modality. The cross-drive
coupling M = [[1, -g], [-g, 1]] slows the common mode (rate 1 - g) and speeds the difference mode
(rate 1 + g); gamma* equalises their speciation times.
"""
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

# Run from a checkout: the package built by `make build` (build/python) when none is installed.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "python"))
import regimes as rg  # noqa: E402

SHORT = "--short" in sys.argv
data = rg.gmm4(mc2=100, md2=20, dim=32)

print("gamma    t_S common  t_S diff   gap (theory)")
for g in np.linspace(-0.9, 0.9, 7) + 0.0:  # + 0.0: no "-0.00"
    th = rg.theory(rg.coupled(gamma=g), data)
    print("%+.2f    %-10.4f  %-9.4f  %+.4f" % (g, th.modes[0]["t_S"], th.modes[1]["t_S"], th.sync_gap))
print("gamma* = %.4f equalises both modes" % rg.theory(rg.coupled(gamma=0.0), data).bounds["gamma_equal"])

print("\nmeasured by cloning (%d pairs per branch time, 14 branch times, exact mixture score)" % (100 if SHORT else 600))
print("gamma    gap measured [95%]            gap theory   wall")
for g in ((0.5,) if SHORT else (-0.5, 0.0, 0.5)):
    t0 = time.time()
    r = rg.clone(rg.coupled(gamma=g), data, pairs=100 if SHORT else 600, steps=60 if SHORT else 150, seed=1)
    print("%+.2f    %+.3f [%+.3f, %+.3f]       %+.3f       %.0f s"
          % (g, r.sync_gap, r.sync_gap_ci[0], r.sync_gap_ci[1], r.sync_gap_theory, time.time() - t0))
