"""Forward processes dz = -A(t) z dt + sqrt(2) dW (docs/math.md 2): ou, coupled, nonrev, general.

A process here is a description; its dimension may come from the data it is used with (as on the
command line). `build(N)` makes the library's validated process (process.h) for a state dimension N.
"""
import math

import numpy as np

from . import _core

_FORMS = {"cross": 0, "diffusive": 1}
_INTERP = {"piecewise": 0, "linear": 1}


class Process:
    """A forward process. Build one with regimes.ou(), coupled(), nonrev() or general()."""

    kind = ""

    def __init__(self, dim=None):
        if dim is not None and (int(dim) != dim or dim < 1):
            raise ValueError("dim must be a whole number >= 1, got %r" % (dim,))
        self.dim = None if dim is None else int(dim)
        self._built = {}

    # The core size k of A = A_core (x) I_r; None when it is the whole dimension (dense processes).
    core = 1

    def state_dim(self, data_dim=None):
        """N from the process' own dimension, else from data_dim (per modality for coupled)."""
        d = self.dim if self.dim is not None else data_dim
        return None if d is None else self.core * d

    def build(self, N):
        """The library's process (regimes._core.Process) for state dimension N."""
        if N not in self._built:
            self._built[N] = self._build(N)
        return self._built[N]

    def _build(self, N):
        raise NotImplementedError

    def symmetric_form(self):
        return -1

    def describe(self, N):
        p = self.build(N).info()
        d = {"kind": self.kind, "dim": p["N"] // (2 if self.kind == "coupled" else 1), "N": p["N"],
             "core": p["core"], "mult": p["mult"]}
        d.update(self._describe())
        return d

    def _describe(self):
        return {}

    def __repr__(self):
        return "regimes.%s(%s)" % (self.kind, ", ".join("%s=%r" % kv for kv in self._describe().items()))


class _OU(Process):
    kind = "ou"

    def _build(self, N):
        return _core.process_ou(N)


def ou(dim=None):
    """The parent paper's Ornstein-Uhlenbeck process, A = I (docs/math.md 2.1). dim: N, or None to take
    it from the data."""
    return _OU(dim)


def _parse_schedule(s):
    """'piecewise:T1:G1,T2:G2,...' or 'linear:...' (the CLI's --schedule), or (interp, [(t, gamma), ...])."""
    if isinstance(s, str):
        head, _, body = s.partition(":")
        if head not in _INTERP or not body:
            raise ValueError("schedule wants piecewise:T1:G1,... or linear:T1:G1,..., got %r" % s)
        knots = []
        for item in body.split(","):
            t, sep, g = item.partition(":")
            if not sep:
                raise ValueError("schedule: cannot read the knot %r of %r" % (item, s))
            knots.append((math.inf if t.strip() == "inf" else float(t), float(g)))
        return head, knots
    interp, knots = s
    if interp not in _INTERP:
        raise ValueError("schedule interpolation must be 'piecewise' or 'linear', got %r" % (interp,))
    return interp, [(float(t), float(g)) for t, g in knots]


class _Coupled(Process):
    kind = "coupled"
    core = 2

    def __init__(self, gamma, coupling, schedule, dim, rates, gammas):
        super().__init__(dim)
        if coupling not in _FORMS:
            raise ValueError("coupling must be 'cross' or 'diffusive', got %r" % (coupling,))
        self.gamma, self.coupling = float(gamma), coupling
        self.aniso = rates is not None or gammas is not None
        self.schedule = None if schedule is None else _parse_schedule(schedule)
        self._schedule_text = schedule if isinstance(schedule, str) else None
        if self.schedule is not None and (self.aniso or gamma != 0):
            raise ValueError("schedule gives gamma(t) itself: drop gamma, rates and gammas")
        if self.aniso:
            ax, ay = rates if rates is not None else (1.0, 1.0)
            gxy, gyx = gammas if gammas is not None else (self.gamma, self.gamma)
            self.M = _core.coupling_aniso(float(ax), float(ay), float(gxy), float(gyx))
        elif self.schedule is None:
            self.M = _core.coupling(_FORMS[coupling], self.gamma)
        else:
            self.M = None
        why = _core.coupling_check(self.M) if self.M is not None else None
        if why:
            raise ValueError(why)

    def _build(self, N):
        if N % 2:
            raise ValueError("coupled: the state holds two modalities; N = %d is odd" % N)
        if self.schedule is None:
            return _core.process_coupled(self.M, N // 2)
        interp, knots = self.schedule
        t = np.array([k[0] for k in knots])
        A = np.array([np.reshape(_core.coupling(_FORMS[self.coupling], g), (2, 2)) for _, g in knots])
        return _core.process_scheduled(2, N // 2, _INTERP[interp], t, A)

    def symmetric_form(self):
        return -1 if self.aniso or self.schedule is not None else _FORMS[self.coupling]

    def _describe(self):
        d = {"coupling": "anisotropic" if self.aniso else self.coupling,
             "gamma": math.nan if self.aniso or self.schedule is not None else self.gamma}
        if self.schedule is None:
            d["M"] = [list(self.M[:2]), list(self.M[2:])]
            d["schedule"] = None
        else:
            d["M"] = None
            d["schedule"] = {"interp": self.schedule[0], "t": [k[0] for k in self.schedule[1]],
                             "gamma": [k[1] for k in self.schedule[1]]}
        return d


def coupled(gamma=0.0, coupling="cross", schedule=None, dim=None, rates=None, gammas=None):
    """Two modalities (x, y) of dimension d each, A = M (x) I_d (docs/math.md 2.4).

    gamma, coupling: the symmetric coupling, M = [[1, -g], [-g, 1]] ('cross') or
        [[1+g, -g], [-g, 1+g]] ('diffusive').
    schedule: gamma(t) instead of gamma: 'piecewise:T1:G1,T2:G2,...' / 'linear:...' (T may be inf), or
        (interp, [(t, gamma), ...]).
    rates=(a_x, a_y), gammas=(g_xy, g_yx): the anisotropic M = [[a_x, -g_xy], [-g_yx, a_y]].
    dim: d per modality, or None to take it from the data.
    """
    return _Coupled(gamma, coupling, schedule, dim, rates, gammas)


def _diag_u(spec, n):
    lo, hi = (float(v) for v in spec[5:].split(":"))
    return np.diag(np.linspace(lo, hi, n)), spec


class _Dense(Process):
    core = None

    def state_dim(self, data_dim=None):
        n = self.size()
        return n if n is not None else (self.dim if self.dim is not None else data_dim)

    def size(self):
        return None


class _Nonrev(_Dense):
    kind = "nonrev"

    def __init__(self, U, Q, dim, q_scale):
        super().__init__(dim)
        self.U_spec = U if U is not None else "diag:0.2:1.8"
        if isinstance(self.U_spec, str):
            if not self.U_spec.startswith("diag:"):
                raise ValueError("U: an array, or 'diag:LO:HI', got %r" % (U,))
            self.U = None
        else:
            self.U = np.array(U, dtype=float)
        if isinstance(Q, str) and Q not in ("optimal", "zero"):
            raise ValueError("Q: 'optimal', 'zero' or an array, got %r" % (Q,))
        self.Q_spec, self.q_scale = Q, float(q_scale)

    def size(self):
        return self.U.shape[0] if self.U is not None else self.dim

    def _u(self, N):
        return self.U if self.U is not None else _diag_u(self.U_spec, N)[0]

    def _build(self, N):
        U = self._u(N)
        if U.shape != (N, N):
            raise ValueError("nonrev: U is %s, the data have N = %d" % (U.shape, N))
        if isinstance(self.Q_spec, str):
            Q = None if self.Q_spec == "zero" else _core.nonrev_optimal_q(U) * self.q_scale
        else:
            Q = np.array(self.Q_spec, dtype=float) * self.q_scale
        return _core.process_nonrev(U, Q)

    def _describe(self):
        return {"U": self.U_spec if isinstance(self.U_spec, str) else "array %dx%d" % self.U.shape,
                "Q": self.Q_spec if isinstance(self.Q_spec, str) else "array", "q_scale": self.q_scale}


def nonrev(U=None, Q="zero", dim=None, q_scale=1.0):
    """A = (I + Q) U (docs/math.md 2.6): U symmetric positive definite (an array, or 'diag:LO:HI'; default
    diag(linspace(0.2, 1.8, dim))), Q 'optimal' (the Lelievre-Nier-Pavliotis Q, docs/math.md 4), 'zero'
    or an antisymmetric array, scaled by q_scale. dim: with a 'diag:' U, its size (default: the data's, or
    64 for mixtures)."""
    return _Nonrev(U, Q, dim, q_scale)


class _General(_Dense):
    kind = "general"

    def __init__(self, A):
        super().__init__(None)
        self.A = np.array(A, dtype=float)
        if self.A.ndim != 2 or self.A.shape[0] != self.A.shape[1]:
            raise ValueError("general: A must be a square matrix, got shape %s" % (self.A.shape,))

    def size(self):
        return self.A.shape[0]

    def _build(self, N):
        if self.A.shape[0] != N:
            raise ValueError("general: A is %dx%d, the data have N = %d" % (self.A.shape + (N,)))
        return _core.process_general(self.A)

    def _describe(self):
        return {"A": "array %dx%d" % self.A.shape}


def general(A):
    """Any constant drift matrix A (n x n) with a stationary law (every eigenvalue has Re > 0)."""
    return _General(A)
