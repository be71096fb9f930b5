"""Shared helpers of the Python tests (run by ctest: `make check`; or by hand with
PYTHONPATH=build/python /usr/bin/python3 -m pytest python/tests)."""
import json
import math
import os
import subprocess

import numpy as np
import pytest

SOURCE = os.environ.get("REGIMES_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("REGIMES_CLI", os.path.join(SOURCE, "build", "regimes"))
MNIST_DIR = os.path.join(SOURCE, "data", "mnist")


def have_mnist():
    return any(os.path.exists(os.path.join(MNIST_DIR, "train-images-idx3-ubyte" + z)) for z in ("", ".gz"))


def run_cli(*args):
    """The built CLI's JSON object for these arguments."""
    out = subprocess.run([CLI, *map(str, args), "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def same(cli, py, path="", skip=()):
    """Every key of the CLI's object is in the Python one with the same value: numbers bit for bit
    (null is NaN or None), lists element by element; strings naming files or matrices are skipped."""
    diffs = []
    if isinstance(cli, dict):
        for k, v in cli.items():
            if k in skip:
                continue
            if k not in py:
                diffs.append("%s.%s missing" % (path, k))
            else:
                diffs += same(v, py[k], "%s.%s" % (path, k), skip)
    elif isinstance(cli, list):
        py = list(py)
        if len(cli) != len(py):
            return ["%s: %d values, Python %d" % (path, len(cli), len(py))]
        for i, (a, b) in enumerate(zip(cli, py)):
            diffs += same(a, b, "%s[%d]" % (path, i), skip)
    elif cli is None:
        if not (py is None or (isinstance(py, float) and math.isnan(py))):
            diffs.append("%s: null, Python %r" % (path, py))
    elif isinstance(cli, bool) or isinstance(cli, str):
        if cli != py:
            diffs.append("%s: %r, Python %r" % (path, cli, py))
    else:
        if not float(cli) == float(py):  # the CLI prints %.17g: equal floats round-trip exactly
            diffs.append("%s: %r, Python %r" % (path, cli, py))
    return diffs


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


def two_class(d=16, P=2000, seed=2026):
    """A non-Gaussian two-class set (tests/cli_data.sh's): classes at -+m, |m|^2 = d, uniform noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], P // 2)
    X = np.where(y[:, None] == 0, -1.0, 1.0) + rng.uniform(-3 ** 0.5, 3 ** 0.5, size=(P, d))
    return X.astype(np.float32), y
