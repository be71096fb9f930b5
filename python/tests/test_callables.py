"""Python callables as scores and labellers."""
import numpy as np
import pytest

import regimes as rg
from regimes._experiments import _Env

D, SIGMA2 = 8, 1.0
M = np.ones(D)  # gmm2(dim=8): |m|^2 = 8 along (1, ..., 1)


def exact_score(x, t):
    """The exact two-class score under OU (docs/math.md 5.4) in NumPy, float64:
    s = -x / G + tanh(g . x) g,  G = sigma^2 e^{-2t} + 1 - e^{-2t},  g = e^{-t} m / G."""
    x = np.asarray(x, dtype=np.float64)
    e2 = np.exp(-2.0 * t)
    G = SIGMA2 * e2 + (1.0 - e2)
    g = np.exp(-t) * M / G
    return -x / G + np.tanh(x @ g)[:, None] * g[None, :]


def test_numpy_exact_score_matches_builtin_pointwise():
    """The callable and the built-in tanh path differ only by float rounding: the built-in works in float
    on float states; relative differences of a few float epsilons (1e-5 is a 100x margin)."""
    p, data = rg.ou(), rg.gmm2(dim=D)
    X = np.random.default_rng(1).normal(size=(100, D)).astype(np.float32) * 2
    env_score = _Env(p, data).score("exact", None, 1)[0]
    mine = rg._core.score_callable(p.build(D), exact_score)
    for t in (0.05, 0.7, 2.5):
        a, b = env_score.eval(t, X), mine.eval(t, X)
        assert np.allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(a).max())


def test_numpy_exact_score_same_phi_and_t_s_as_builtin():
    """Same seed, same noise: trajectories differ only by the score's float rounding (~1e-7 relative per
    step), far too little to flip the final sign of m . x of any pair here, so phi and t_S agree to the last
    digit. (A flip would move one phi by 1/pairs; the assertion allows that much, and t_S by the matching
    interpolation step.)"""
    kw = dict(pairs=150, steps=40, seed=11, branch_times=np.linspace(0.3, 2.2, 8))
    built = rg.clone(rg.ou(), rg.gmm2(dim=D), **kw)
    mine = rg.clone(rg.ou(), rg.gmm2(dim=D), score=exact_score, **kw)
    assert np.max(np.abs(built.phi - mine.phi)) <= 1.0 / 150 + 1e-12
    assert abs(built.t_S - mine.t_S) <= 0.05 * built.t_S
    assert np.array_equal(built.phi, mine.phi) and built.t_S == mine.t_S  # the observed outcome: identical
    assert mine.score == "callable" and built.score == "mixture"


def test_callable_results_do_not_depend_on_threads():
    """The sampler calls a callable once per grid time from one thread, then steps the rows in OpenMP
    chunks; every row's noise is addressed by its id, so 1 and 2 threads give the same bits."""
    kw = dict(score=exact_score, pairs=70, steps=20, seed=3, branch_times=[0.5, 1.0, 1.5])
    one = rg.clone(rg.ou(), rg.gmm2(dim=D), threads=1, **kw)
    two = rg.clone(rg.ou(), rg.gmm2(dim=D), threads=2, **kw)
    assert np.array_equal(one.labels, two.labels)


@pytest.mark.parametrize("trunk", ["independent", "shared"])
def test_callable_score_one_call_per_grid_time(trunk):
    """Batch mode (sampler.h "Batch scores"): ONE call per grid time over the whole population, trunks
    then all clones of every branch, not chunks of 64. 150 pairs x 4 branches: 600 trunk rows at T
    (independent) would be 10 chunks per step in the chunked path."""
    seen = []

    def f(x, t):
        seen.append((t, x.shape[0]))
        return exact_score(x, t)

    n, tb = 150, np.array([0.4, 0.9, 1.5, 2.0])
    r = rg.clone(rg.ou(), rg.gmm2(dim=D), score=f, pairs=n, steps=30, seed=5, branch_times=tb, trunk=trunk)
    assert len(seen) == len(r.grid) - 1                  # one call per step t_k -> t_{k+1}
    assert np.array_equal([t for t, _ in seen], r.grid[:-1])  # at each grid time, in order
    for t, rows in seen:                                 # the whole population alive at t
        ahead = int(np.sum(t > tb + 1e-12))              # branches not reached yet
        trunks = (n if ahead else 0) if trunk == "shared" else n * ahead
        assert rows == trunks + 2 * n * (len(tb) - ahead)
    assert seen[0][1] == (n if trunk == "shared" else 4 * n)
    assert r.score_object.calls() == (len(seen), sum(b for _, b in seen))


def test_callable_labeller_equals_sign_labeller():
    def sign(x):
        return (x.astype(np.float64) @ M < 0).astype(np.int64)  # label 0 where m . x >= 0 (docs/math.md 8.4)

    kw = dict(pairs=60, steps=20, seed=9, branch_times=[0.5, 1.0, 1.5, 2.0])
    a = rg.clone(rg.ou(), rg.gmm2(dim=D), **kw)
    b = rg.clone(rg.ou(), rg.gmm2(dim=D), labeller=sign, **kw)
    assert np.array_equal(a.labels, b.labels)
    assert b.labeller == "callable" and np.all(np.isnan(b.phi_theory))


def test_callable_labeller_sees_data_coordinates():
    """On a data set, states are centred for the sampler; a callable labeller gets them back in the data's
    own coordinates (mean added), like the samples sample() returns."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 4)) + 10.0
    y = (X[:, 0] > 10).astype(int)
    seen = []

    def lab(x):
        seen.append(x.mean())
        return (x[:, 0] > 10).astype(np.int32)

    rg.clone(rg.ou(), rg.dataset(X, y), labeller=lab, pairs=10, steps=10, seed=1, branch_times=[0.5, 1.0])
    assert min(seen) > 5  # centred states would average about 0


def test_multi_mode_callable_labeller():
    def two(x):
        return np.stack([(x[:, 0] < 0), (x[:, 1] < 0)], axis=1).astype(np.int8)

    r = rg.clone(rg.ou(), rg.gmm2(dim=D), labeller=rg.Labeller(two, names=["first", "second"]), pairs=40, steps=15,
                 seed=2, branch_times=[0.5, 1.5])
    assert r.phi.shape == (2, 2) and [m["name"] for m in r.modes] == ["first", "second"]
    assert np.isfinite(r.sync_gap) or np.isnan(r.sync_gap)


def test_score_array_is_the_empirical_score():
    X = rg.gmm2(dim=D)  # the mixture; its training set drawn like the CLI's
    kw = dict(pairs=40, steps=15, seed=6, branch_times=[0.5, 1.0, 1.5], n_train=300)
    a = rg.clone(rg.ou(), X, score="empirical", **kw)
    env = _Env(rg.ou(), X)
    rows = env.training_set(300, 6)
    b = rg.clone(rg.ou(), X, score=rows, **kw)
    assert np.array_equal(a.labels, b.labels)


@pytest.mark.parametrize("method", ["em", "exp"])
def test_sample_with_callable_and_memorisation(method):
    r = rg.sample(rg.ou(), rg.gmm2(dim=4), score=lambda x, t: -x, n=30, steps=10,
                  method=method, train=True, n_train=50, seed=1)
    assert r.x.shape == (30, 4) and r.memorised.shape == (40,) and 0 <= r.memorised_fraction <= 1
