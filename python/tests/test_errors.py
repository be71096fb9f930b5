"""Bad arguments and failing callables raise clean exceptions; the library's failures are regimes.Error
with its message and status."""
import numpy as np
import pytest

import regimes as rg

D = 6


def run(score=None, labeller=None, **kw):
    args = dict(pairs=20, steps=10, seed=1, branch_times=[0.5, 1.0])
    args.update(kw)
    return rg.clone(rg.ou(), rg.gmm2(dim=D), score=score, labeller=labeller, **args)


class Boom(Exception):
    pass


def test_exception_in_score_is_reraised_and_stops_the_run():
    calls = []

    def score(x, t):
        calls.append(t)
        if len(calls) == 3:
            raise Boom("from the score at t = %g" % t)
        return -x

    with pytest.raises(Boom, match="from the score"):
        run(score=score, threads=2)
    n = len(calls)
    assert n == 3  # the run stops: no further Python call after the exception
    run(score=lambda x, t: -x)  # and the library is usable again


def test_exception_in_labeller_is_reraised():
    def lab(x):
        raise KeyError("labeller failed")

    with pytest.raises(KeyError, match="labeller failed"):
        run(labeller=rg.Labeller(lab, n_classes=2))


@pytest.mark.parametrize("bad,match", [
    (lambda x, t: -x[:, :2], "returned shape"),
    (lambda x, t: np.full_like(x, np.nan), "NaN or Inf"),
    (lambda x, t: "text", "want real numbers|could not convert"),
    (lambda x, t: None, "want an array"),
])
def test_bad_score_results(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        run(score=bad)


def test_bad_labels():
    with pytest.raises(ValueError, match="shape"):  # the probe already sees the wrong shape
        run(labeller=lambda x: np.zeros((len(x), 5, 2), dtype=int))
    with pytest.raises(TypeError, match="integer"):
        run(labeller=lambda x: np.zeros(len(x)))
    with pytest.raises(rg.Error, match="outside"):  # a label out of [0, n_classes): the library's check
        run(labeller=rg.Labeller(lambda x: np.full(len(x), 7), n_classes=2))


def test_library_errors_carry_message_and_status():
    with pytest.raises(rg.Error, match="not symmetric") as e:
        rg.theory(rg.nonrev(U=[[1.0, 0.5], [0.2, 1.0]]), rg.gmm2())
    assert e.value.status == "RG_EDOM"
    with pytest.raises(rg.Error, match="abar") as e:
        rg.noise_table([0.9, 0.95])
    with pytest.raises(rg.Error):
        rg.ddpm_linear(0.5, 0.1, 10)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: rg.theory(rg.ou(), rg.gmm4()), ValueError, "gmm4 data need"),
    (lambda: rg.theory(rg.coupled(gamma=0.5), rg.gmm2()), ValueError, "one-modality"),
    (lambda: rg.theory(rg.ou(dim=4), rg.gmm2(dim=5)), ValueError, "dim"),
    (lambda: rg.coupled(gamma=1.5), ValueError, "stationary prior"),
    (lambda: rg.theory("ou", rg.gmm2()), TypeError, "process"),
    (lambda: rg.theory(rg.ou(), np.zeros((3, 3))), TypeError, "data"),
    (lambda: run(method="heun"), ValueError, "deterministic"),
    (lambda: run(method="rk4"), ValueError, "method"),
    (lambda: run(branch_times=[3.0, 1.0]), ValueError, "increase"),
    (lambda: run(branch_times=[50.0]), ValueError, "inside"),
    (lambda: run(pairs=0), ValueError, "pairs"),
    (lambda: run(score="bogus"), ValueError, "score"),
    (lambda: run(score=np.zeros((10, D + 1))), ValueError, "training array"),
    (lambda: run(labeller="mean"), ValueError, "labelled data"),
    (lambda: run(seed=-1), ValueError, "seed"),
    (lambda: run(grid="ddpm", steps=20), ValueError, "steps"),
    (lambda: rg.dataset(np.zeros((4, 2)), labels=[0, 0, 0, 0]), ValueError, "one class"),
    (lambda: rg.dataset(np.array([[1.0, np.nan]])), ValueError, "NaN"),
    (lambda: rg.dataset(np.zeros((4, 2)), labels=[0, 1.5, 0, 1]), TypeError, "integers"),
    (lambda: rg.theory(rg.ou(), rg.dataset(np.ones((5, 3)))), ValueError, "no variance"),
    (lambda: rg.mnist(dir="/nonexistent"), FileNotFoundError, "get-mnist"),
    (lambda: rg.clone(rg.ou(), rg.dataset(np.random.default_rng(0).normal(size=(20, 3)))), ValueError, "labels"),
])
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_plot_without_matplotlib_says_why():
    r = rg.theory(rg.ou(), rg.gmm2(dim=8))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="python3-matplotlib"):
            r.plot()
        return
    import matplotlib
    matplotlib.use("Agg")
    assert r.plot() is not None
