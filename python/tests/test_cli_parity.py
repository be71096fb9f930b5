"""The Python calls give the command line's numbers to all digits: the same library calls with the same
values (the CLI prints %.17g, which round-trips), for theory and for the experiments with the same seed."""
import numpy as np
import pytest

import regimes as rg
from conftest import have_mnist, run_cli, same, two_class, MNIST_DIR

# (CLI flags, the Python process, the Python data, keyword arguments): one case per process kind and path.
THEORY = [
    (["--process", "ou", "--dim", "256"], lambda: rg.ou(), lambda: rg.gmm2(dim=256), {}),
    (["--process", "ou", "--dim", "64", "--mean-norm2", "30", "--sigma2", "2", "--n-train", "5000", "--noise",
      "ddpm-linear", "--phi-times", "0.5,1,2"], lambda: rg.ou(), lambda: rg.gmm2(dim=64, mean_norm2=30, sigma2=2),
     dict(n_train=5000, noise="ddpm-linear", phi_times=[0.5, 1, 2])),
    (["--process", "coupled", "--gamma", "0.5", "--mc2", "25", "--md2", "25", "--phi-times", "1,3"],
     lambda: rg.coupled(gamma=0.5), lambda: rg.gmm4(mc2=25, md2=25), dict(phi_times=[1, 3])),
    (["--process", "coupled", "--coupling", "diffusive", "--gamma", "0.3", "--mc2", "100", "--md2", "20", "--dim", "50"],
     lambda: rg.coupled(gamma=0.3, coupling="diffusive"), lambda: rg.gmm4(mc2=100, md2=20, dim=50), {}),
    (["--process", "coupled", "--schedule", "piecewise:1:0,inf:-0.4", "--mc2", "50", "--md2", "10"],
     lambda: rg.coupled(schedule="piecewise:1:0,inf:-0.4"), lambda: rg.gmm4(mc2=50, md2=10), {}),
    (["--process", "coupled", "--gamma-xy", "0.3", "--gamma-yx", "0.1", "--rate-x", "1.2"],
     lambda: rg.coupled(rates=(1.2, 1.0), gammas=(0.3, 0.1)), lambda: rg.gmm4(), {}),
    (["--process", "nonrev", "--Q", "optimal", "--mean-dir", "slow", "--mean-norm2", "64"],
     lambda: rg.nonrev(Q="optimal"), lambda: rg.gmm2(mean_norm2=64, mean_dir="slow"), {}),
    (["--process", "nonrev", "--dim", "12", "--Q", "zero", "--cw", "Uinv", "--mean-dir", "eigen:3", "--sigma2", "0.5"],
     lambda: rg.nonrev(dim=12), lambda: rg.gmm2(mean_dir="eigen:3", cw="Uinv", sigma2=0.5), {}),
]


@pytest.mark.parametrize("flags,proc,data,kw", THEORY, ids=[" ".join(c[0][:4]) for c in THEORY])
def test_theory_mixture(flags, proc, data, kw):
    cli = run_cli("theory", *flags)
    py = rg.theory(proc(), data(), **kw).to_dict()
    assert same(cli, py) == []


def test_theory_general_matrix_file(tmp):
    A = np.array([[1.0, 0.4, 0.0], [-0.2, 0.8, 0.1], [0.0, 0.3, 1.5]])
    np.savetxt(tmp / "A.txt", A, fmt="%.17g")
    cli = run_cli("theory", "--process", "general", "--A", tmp / "A.txt", "--mean-dir", "fast")
    py = rg.theory(rg.general(A), rg.gmm2(mean_dir="fast")).to_dict()
    assert same(cli, py, skip=("A",)) == []


def test_theory_dataset(tmp):
    X, y = two_class()
    np.save(tmp / "X.npy", X)
    np.save(tmp / "y.npy", y)
    for flags, args in ((["--labels", tmp / "y.npy"], (X, y)), ([], (X,))):
        cli = run_cli("theory", "--data", tmp / "X.npy", *flags, "--noise", "ddpm-cosine", "--top", "5")
        py = rg.theory(rg.ou(), rg.dataset(*args), noise="ddpm-cosine", top=5).to_dict()
        assert same(cli, py, skip=("file", "sha256", "labels", "labels_sha256", "kind")) == []
    cli = run_cli("theory", "--data", tmp / "X.npy", "--labels", tmp / "y.npy", "--process", "coupled", "--gamma", "0.4")
    py = rg.theory(rg.coupled(gamma=0.4), rg.dataset(X, y)).to_dict()
    assert same(cli, py, skip=("file", "sha256", "labels", "labels_sha256", "kind")) == []


@pytest.mark.skipif(not have_mnist(), reason="MNIST not fetched (scripts/get-mnist.sh)")
def test_theory_mnist():
    cli = run_cli("theory", "--data", "mnist", "--digits", "1,8", "--n-train", "2000", "--mnist-dir", MNIST_DIR)
    py = rg.theory(rg.ou(), rg.mnist(digits=(1, 8), n_train=2000, dir=MNIST_DIR)).to_dict()
    assert same(cli, py) == []


def test_clone_mixture(tmp):
    flags = ["--process", "ou", "--dim", "8", "--samples", "120", "--steps", "30", "--seed", "5", "--quiet", "--out"]
    cli = run_cli("clone", *flags, tmp / "c")
    py = rg.clone(rg.ou(), rg.gmm2(dim=8), pairs=120, steps=30, seed=5).to_dict()
    assert same(cli, py, skip=("out",)) == []


def test_clone_dataset_and_sample(tmp):
    X, y = two_class(d=8, P=600)
    np.save(tmp / "X.npy", X)
    np.save(tmp / "y.npy", y)
    base = ["--data", tmp / "X.npy", "--labels", tmp / "y.npy", "--steps", "25", "--seed", "2", "--quiet"]
    cli = run_cli("clone", *base, "--samples", "80", "--branch-times", "0.4,0.8,1.2,1.6,2", "--out", tmp / "c")
    py = rg.clone(rg.ou(), rg.dataset(X, y), pairs=80, steps=25, seed=2, branch_times=[0.4, 0.8, 1.2, 1.6, 2])
    assert same(cli, py.to_dict(), skip=("out", "file", "sha256", "labels", "labels_sha256", "kind")) == []
    cli = run_cli("sample", *base, "--samples", "50", "--out", tmp / "s")
    py = rg.sample(rg.ou(), rg.dataset(X, y), n=50, steps=25, seed=2)
    assert same(cli, py.to_dict(), skip=("out", "png", "file", "sha256", "labels", "labels_sha256", "kind")) == []
    assert np.array_equal(np.load(tmp / "s" / "samples.npy"), py.x)  # in the data's coordinates, bit for bit


def test_collapse_mixture(tmp):
    flags = ["--process", "ou", "--dim", "6", "--mean-norm2", "6", "--n-train", "100", "--samples", "200", "--steps", "30"]
    cli = run_cli("collapse", *flags, "--seed", "4", "--quiet", "--out", tmp / "k")
    py = rg.collapse(rg.ou(), rg.gmm2(dim=6, mean_norm2=6), n_train=100, samples=200, steps=30, seed=4).to_dict()
    assert same(cli, py, skip=("out",)) == []
