"""examples/python/torch_model.py in its short setting (seconds): it trains, measures and prints."""
import os
import re
import subprocess
import sys

import regimes as rg
from conftest import SOURCE


def test_torch_example_short(tmp):
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(rg.__file__)))  # the regimes under test
    env = dict(os.environ, REGIMES_EXAMPLE_SHORT="1", PYTHONPATH=pkg)
    out = subprocess.run([sys.executable, os.path.join(SOURCE, "examples", "python", "torch_model.py"), "--out",
                          str(tmp / "fig.png")], capture_output=True, text=True, env=env, cwd=tmp, timeout=600)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    theory = float(re.search(r"theory     t_S = ([0-9.]+)", text).group(1))
    assert abs(theory - rg.theory(rg.ou(), rg.gmm2(dim=8)).t_S) < 1e-4
    m = re.search(r"network    t_S = ([0-9.naif]+) \[([0-9.naif]+), ([0-9.naif]+)\]", text)
    assert m, text
    t_s = float(m.group(1))
    # 200 Adam steps make a rough model; the pipeline (training, callable score, cloning) must still give a
    # crossing of the right order. The full run is within 4% (docs/python.md).
    assert 0.3 * theory < t_s < 3 * theory, text
    assert re.search(r"memorised  network: [0-9.]+ \[", text)
    assert ("figure     " + str(tmp / "fig.png")) in text or "figure     skipped: matplotlib" in text
