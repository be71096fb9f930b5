"""regimes: the dynamical regimes of diffusion models (speciation t_S, collapse t_C, the synchronization
gap) under a linear forward SDE dz = -A(t) z dt + sqrt(2) dW, from Python (docs/python.md).

    import regimes
    th = regimes.theory(regimes.ou(), regimes.gmm2(dim=16))              # predictions
    res = regimes.clone(regimes.ou(), regimes.gmm2(dim=16), pairs=400)     # measured phi(t), t_S
    res = regimes.clone(regimes.ou(), data, score=my_model)              # any score f(x, t) -> (B, N)

Every number comes from libregimes (the C library of the `regimes` command), called through the
extension module regimes._core with the interpreter lock released; results carry the fields of the
command line's summary.json. Library failures raise regimes.Error with the library's message.
"""
from . import _core
from ._core import Error
from ._data import Dataset, dataset, gmm2, gmm4, mnist
from ._experiments import Labeller, clone, collapse, sample, spectrum, theory
from ._noise import Noise, ddpm_cosine, ddpm_linear, noise_table
from ._process import Process, coupled, general, nonrev, ou
from ._results import CloneResult, CollapseResult, RegimesWarning, Result, SampleResult, TheoryResult

__version__ = _core.version


def set_threads(n):
    """OpenMP threads for the library's parallel loops (the numbers never depend on it)."""
    _core.set_threads(int(n))


__all__ = ["Error", "RegimesWarning", "Labeller", "Dataset", "Noise", "Process", "Result", "TheoryResult",
           "CloneResult", "SampleResult", "CollapseResult", "ou", "coupled", "nonrev", "general", "gmm2", "gmm4",
           "dataset", "mnist", "ddpm_linear", "ddpm_cosine", "noise_table", "theory", "spectrum", "sample",
           "clone", "collapse", "set_threads"]
