"""Schedules, spectra, processes, results and warnings through the package."""
import json
import math

import numpy as np
import pytest

import regimes as rg


def test_ddpm_linear_steps_and_times():
    s = rg.ddpm_linear()
    assert s.steps == 1000 and s.spec == "ddpm-linear"
    # noise.h: t_446 = 1.018226 (parent's schedule, docs/math.md 1.3; 7 digits given there)
    assert abs(s.time(446) - 1.018226) < 5e-7
    k = np.arange(1000)
    assert np.array_equal(s.step(s.time(k)), k)  # time -> step inverts step -> time
    assert s.step(s.time(446) + 1e-9) == 447 and s.step(0.0) == 0
    assert s.step(10.0) is None and s.step(np.array([10.0]))[0] == -1  # beyond the schedule
    assert np.allclose(-0.5 * np.log(s.abar), s.times, rtol=1e-14)


def test_noise_table_round_trip(tmp):
    abar = np.cumprod(1 - np.linspace(1e-3, 0.05, 50))
    np.savetxt(tmp / "x.txt", abar, fmt="%.17g")
    a, b = rg.noise_table(abar), rg.noise_table(str(tmp / "x.txt"))
    assert np.array_equal(a.times, b.times)


def test_spectrum_against_numpy():
    X = np.random.default_rng(3).normal(size=(500, 12)) @ np.diag(np.linspace(0.5, 3, 12))
    ours = rg.spectrum(X)
    ref = np.sort(np.linalg.eigvalsh(np.cov(X.astype(np.float32).astype(np.float64), rowvar=False)))[::-1]
    # both double LAPACK on the same float rows: agreement to ~N eps of the largest value
    assert np.allclose(ours, ref, rtol=1e-10, atol=1e-12 * ref[0])
    assert np.array_equal(rg.spectrum(X, 3), ours[:3])


def test_process_moments_closed_form():
    p = rg.ou().build(3)
    for t in (1e-6, 0.3, 4.0):
        E, S = p.moments(t)
        assert abs(E[0, 0] - math.exp(-t)) < 1e-15 and abs(S[0, 0] + math.expm1(-2 * t)) < 1e-15 * max(1, t)
    E, S = rg.coupled(gamma=0.5).build(4).moments(0.0)
    assert np.array_equal(E, np.eye(2)) and np.array_equal(S, np.zeros((2, 2)))


def test_results_are_json_and_warn():
    with pytest.warns(rg.RegimesWarning, match="never crosses"):
        r = rg.clone(rg.ou(), rg.gmm2(dim=4), pairs=30, steps=10, branch_times=[0.05, 0.1], seed=1)
    assert math.isnan(r.t_S) and any("never crosses" in w for w in r.warnings)
    text = json.dumps(r.to_dict(), allow_nan=False)  # null, never NaN
    assert '"t_S": null' in text and r.command == "clone" and "phi" in r.keys()

    def mostly_zero(x):
        return (x[:, 0] > 1.5).astype(int)  # about 9 in 10 rows in class 0: plateau sum p_k^2 > 0.6

    with pytest.warns(rg.RegimesWarning, match="unbalanced"):
        rg.clone(rg.ou(), rg.gmm2(dim=4), labeller=mostly_zero, pairs=60, steps=10, branch_times=[0.3, 1, 2], seed=1)


def test_result_arrays_are_not_copied():
    """Result arrays are the library's own buffers, handed to NumPy (their base owns the memory)."""
    r = rg.clone(rg.ou(), rg.gmm2(dim=4), pairs=10, steps=5, branch_times=[0.5, 1.0], seed=1)
    assert r.phi.base is not None and r.labels.base is not None and r.phi.flags.c_contiguous


def test_plot_code_paths_with_a_stand_in_matplotlib(monkeypatch, tmp):
    """matplotlib is optional and not installed here: a stand-in module records the calls, so every
    plot() body runs (attribute and shape errors would raise) and `path` reaches savefig."""
    import sys
    import types
    from unittest import mock

    plt = mock.MagicMock()
    plt.subplots.side_effect = lambda *a, **k: (mock.MagicMock(), mock.MagicMock())
    mpl = types.ModuleType("matplotlib")
    mpl.pyplot = plt
    monkeypatch.setitem(sys.modules, "matplotlib", mpl)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", plt)
    X, y = np.random.default_rng(0).normal(size=(200, 4)), np.repeat([0, 1], 100)
    results = [
        rg.theory(rg.coupled(gamma=0.3), rg.gmm4(dim=4)),
        rg.theory(rg.ou(), rg.dataset(X, y)),
        rg.clone(rg.coupled(gamma=0.3), rg.gmm4(dim=4), pairs=20, steps=10, seed=1),
        rg.sample(rg.ou(), rg.gmm2(dim=4), n=20, steps=10),
        rg.sample(rg.ou(), rg.gmm2(dim=4), n=20, steps=10, train=True, n_train=30),
        rg.collapse(rg.ou(), rg.gmm2(dim=4, mean_norm2=4), n_train=50, samples=40, steps=10),
    ]
    for r in results:
        fig = r.plot(path=str(tmp / "f.png"))
        fig.savefig.assert_called_once()
