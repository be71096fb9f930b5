"""Result objects: the fields of the command line's summary.json (docs/cli.md) as attributes (numbers as
floats, NaN where the JSON has null; curves as NumPy arrays), `to_dict()` for the JSON object itself, a
`warnings` list, and `plot()`, which draws the experiment's figure with matplotlib (imported there only)."""
import json
import math

import numpy as np

PLATEAU_MAX = 0.6  # experiment.h RG_EXP_PLATEAU_MAX


class RegimesWarning(UserWarning):
    """A finding that makes a result hard to read (rg_exp_clone_warnings)."""


def _matplotlib():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("plot() needs matplotlib (Debian: apt-get install python3-matplotlib); every other part "
                          "of regimes works without it") from e
    return plt


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


class Result:
    """Fields of summary.json as attributes and items; arrays of the curves beside them."""

    command = ""
    _summary_keys = ()

    def __init__(self, summary, arrays=None):
        self._summary = summary
        self._arrays = arrays or {}
        self.warnings = list(summary.get("warnings", []))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._summary:
            return self._summary[name]
        if name in self._arrays:
            return self._arrays[name]
        raise AttributeError("%s has no field %r (fields: %s)" % (type(self).__name__, name, ", ".join(self.keys())))

    def __getitem__(self, key):
        return self._summary[key] if key in self._summary else self._arrays[key]

    def __contains__(self, key):
        return key in self._summary or key in self._arrays

    def keys(self):
        return list(self._summary) + [k for k in self._arrays if k not in self._summary]

    def to_dict(self):
        """The summary as the command line writes it: JSON types, null for NaN and Inf."""
        return _jsonable(self._summary)

    def json(self, **kw):
        return json.dumps(self.to_dict(), **kw)

    def __repr__(self):
        shown = ", ".join("%s=%s" % (k, _short(self._summary[k])) for k in self._summary_keys if k in self._summary)
        return "<regimes %s result: %s>" % (self.command, shown)

    def _save(self, fig, path):
        if path is not None:
            fig.savefig(path, dpi=120, bbox_inches="tight")
        return fig


def _short(v):
    if isinstance(v, float):
        return "%.4g" % v
    if isinstance(v, np.ndarray) and v.size <= 4:
        return "[" + ", ".join("%.4g" % x for x in v.ravel()) + "]"
    return repr(v)


class TheoryResult(Result):
    """`regimes theory`'s JSON object (docs/cli.md): t_S, t_C, the gap, the horizon, modes, ... ."""

    command = "theory"
    _summary_keys = ("t_S", "t_S_matrix", "t_S_parent", "t_S_exact", "t_S_class", "t_C", "sync_gap", "horizon", "lambda_max")

    def __init__(self, summary, env, arrays=None):
        super().__init__(summary, arrays)
        self._env = env

    def plot(self, ax=None, path=None):
        """Mixtures: phi_l(t) of each label with its t_S (docs/math.md 7.2). Data sets: lambda_max(K_t), the
        class signal kappa_t and the parent's criterion against t, each crossing 1 at its t_S."""
        plt = _matplotlib()
        from . import _core
        env = self._env
        fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4))
        ts = [t for t in env.t_s if math.isfinite(t)] or [1.0]
        t = np.geomspace(0.02 * min(ts), 3.0 * max(ts), 200)
        if env.mixture_data:
            names = ["common", "difference"] if env.data.kind == "gmm4" else ["label"]
            for l, name in enumerate(names):
                ax.plot(t, _core.theory_curve(env.proc, env.mt, 0, l, t, env.P_theory), label="phi %s" % name)
                if math.isfinite(env.t_s[l]):
                    ax.axvline(env.t_s[l], ls=":", color="C%d" % l)
            ax.axhline(0.775, color="gray", lw=0.8)
            ax.set_ylabel("clone agreement phi(t)")
        else:
            for which, name in ((0, "lambda_max(K_t)"), (1, "parent: signal / stationary noise"), (2, "class signal kappa_t")):
                if which == 2 and env.data.n_classes < 2:
                    continue
                ax.loglog(t, env.ds.curve(env.proc, which, t, float(env.data.P)), label=name)
            ax.axhline(1.0, color="gray", lw=0.8)
            ax.set_ylabel("criterion")
        ax.set_xlabel("forward time t (OU units)")
        ax.legend()
        return self._save(fig, path)


class CloneResult(Result):
    """`regimes clone`'s summary.json, plus the curves: t_b (m), phi, phi_lo, phi_hi, phi_theory (L, m),
    class_frac (L, K) and the final labels (m, pairs, 2 L)."""

    command = "clone"
    _summary_keys = ("t_S", "t_S_ci", "t_S_theory", "sync_gap", "pairs")

    @classmethod
    def build(cls, env, r, lab_info, score_name, lab_name, trunk, clf_acc):
        proc_d, data_d = env.describe()
        L, names = lab_info["n_modes"], lab_info["names"]
        t_s = r["t_s"]
        theory = [env_mode_theory(env, L, l) for l in range(L)]
        lm = 0
        for l in range(1, L):
            lm = l if t_s[l] > t_s[lm] else lm
        s = {"tool": "regimes", "command": "clone", "process": proc_d, "data": data_d, "score": score_name,
             "labeller": lab_name, "classifier_accuracy": clf_acc}
        env.put_time(s, "t_S", t_s[lm])
        s["t_S_ci"] = np.array([r["t_s_lo"][lm], r["t_s_hi"][lm]])
        env.put_time(s, "t_S_theory", theory[lm])
        s["modes"] = []
        for l in range(L):
            mode = {"name": names[l]}
            env.put_time(mode, "t_S", t_s[l])
            mode["t_S_ci"] = np.array([r["t_s_lo"][l], r["t_s_hi"][l]])
            env.put_time(mode, "t_S_theory", theory[l])
            mode["class_fractions"] = r["class_frac"][l]
            s["modes"].append(mode)
        s["sync_gap"], s["sync_gap_ci"] = r["gap"], np.array([r["gap_lo"], r["gap_hi"]])
        s["sync_gap_theory"] = theory[0] - theory[1] if L == 2 else math.nan
        s["pairs"] = r["n_pairs"]
        env.put_times(s, "branch_times", r["t_b"])
        s["trunk"] = trunk
        s["warnings"] = r["warnings"]
        arrays = {k: r[k] for k in ("t_b", "phi", "phi_lo", "phi_hi", "phi_theory", "class_frac", "labels")}
        arrays["t_S_modes"], arrays["mode_names"] = t_s, names
        return cls(s, arrays)

    def plot(self, ax=None, path=None):
        """phi(t_b) per mode with its bootstrap interval, the theory (dashed), the 0.775 level and t_S."""
        plt = _matplotlib()
        fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4))
        t = self.t_b
        for l, name in enumerate(self.mode_names):
            c = "C%d" % l
            ax.errorbar(t, self.phi[l], yerr=[self.phi[l] - self.phi_lo[l], self.phi_hi[l] - self.phi[l]], fmt="o",
                        ms=3, color=c, label="%s measured" % name)
            if np.any(np.isfinite(self.phi_theory[l])):
                ax.plot(t, self.phi_theory[l], "--", color=c, label="%s theory" % name)
            ts = self.t_S_modes[l]
            if math.isfinite(ts):
                ax.axvline(ts, ls=":", color=c)
        ax.axhline(0.775, color="gray", lw=0.8)
        ax.set_xlabel("branch time t_b (OU units)")
        ax.set_ylabel("clone agreement phi")
        ax.set_title("t_S = %.3g [%.3g, %.3g]" % (self.t_S, self.t_S_ci[0], self.t_S_ci[1]))
        ax.legend(fontsize=8)
        return self._save(fig, path)


def env_mode_theory(env, L, l):
    """The predicted t_S of labeller mode l (cli/cmd_clone.c mode_theory): mixture labels, a data set's class
    signal, or for paired images the shared (common) and relative (difference) labels."""
    if env.views == 2:
        return env.t_s[l - 2] if L == 4 and l >= 2 else math.nan
    return env.t_s[l] if l < len(env.t_s) else math.nan


def _fractions(class_frac):
    return [] if class_frac is None else [float(class_frac[l][0]) for l in range(class_frac.shape[0])]


class SampleResult(Result):
    """`regimes sample`'s summary.json, plus x (n, N) the samples in the data's coordinates, class_frac
    (L, K) and, with train=, the memorisation curves (rec_t, memorised, memorised_lo, memorised_hi,
    on_final, last_switch)."""

    command = "sample"
    _summary_keys = ("samples", "N", "fractions", "memorised_fraction")

    @classmethod
    def build(cls, env, r, score_name, lab_name, T, t_end, lab_info):
        proc_d, data_d = env.describe()
        x = r["x"]
        if not env.mixture_data:
            x = env.data.uncentre(x)
        s = {"tool": "regimes", "command": "sample", "process": proc_d, "data": data_d, "score": score_name,
             "model": None, "labeller": lab_name, "samples": r["n"], "N": r["N"]}
        env.put_time(s, "T", T)
        env.put_time(s, "t_end", t_end)
        s["fractions"] = _fractions(r["class_frac"])
        arrays = {"x": x, "class_frac": r["class_frac"]}
        if "rec_t" in r:
            s["memorised_fraction"] = r["mem_final"]
            s["memorised_fraction_ci"] = np.array([r["mem_final_lo"], r["mem_final_hi"]])
            env.put_time(s, "last_switch_mean", r["switch_mean"])
            s["last_switch_std"] = r["switch_sd"]
            arrays.update(rec_t=r["rec_t"], memorised=r["mem"], memorised_lo=r["mem_lo"], memorised_hi=r["mem_hi"],
                          on_final=r["on_final"], last_switch=r["last_switch"])
        res = cls(s, arrays)
        res._env = env
        return res

    def plot(self, ax=None, path=None, n=100):
        """Images (N = 784, or 2 x 784 paired, x above y): the first n in a grid; otherwise the first two
        coordinates (or the one) of the samples."""
        plt = _matplotlib()
        x = self.x
        N = x.shape[1]
        fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 6 if N in (784, 1568) else 4))
        if N in (784, 1568):
            k = min(n, len(x))
            cols = 10
            rows = (k + cols - 1) // cols
            h = N // 28
            img = np.ones((rows * h, cols * 28))
            for i in range(k):
                img[(i // cols) * h:(i // cols + 1) * h, (i % cols) * 28:(i % cols + 1) * 28] = x[i].reshape(h, 28)
            ax.imshow(np.clip(img, 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.axis("off")
        elif N == 1:
            ax.hist(x[:, 0], bins=50)
            ax.set_xlabel("x")
        else:
            ax.scatter(x[:, 0], x[:, 1], s=3)
            ax.set_xlabel("x[0]")
            ax.set_ylabel("x[1]")
        return self._save(fig, path)


class CollapseResult(Result):
    """`regimes collapse`'s summary.json, plus the curves t_f, f, f_lo, f_hi, f_theory and the
    memorisation curves of the trajectories (rec_t, memorised, ..., last_switch)."""

    command = "collapse"
    _summary_keys = ("t_C", "t_C_ci", "t_C_theory", "memorised_fraction")

    @classmethod
    def build(cls, env, r, T, t_end):
        proc_d, data_d = env.describe()
        tr = r["traj"]
        s = {"tool": "regimes", "command": "collapse", "process": proc_d, "data": data_d}
        env.put_time(s, "t_C", r["t_c"])
        s["t_C_ci"] = np.array([r["t_c_lo"], r["t_c_hi"]])
        env.put_time(s, "t_C_theory", r["t_c_theory"])
        env.put_time(s, "t_C_theory_f0", env.t_c)
        s["alpha"], s["n_train"], s["trajectories"] = r["alpha"], r["P"], tr["n"]
        env.put_time(s, "last_switch_mean", tr["switch_mean"])
        s["last_switch_std"] = tr["switch_sd"]
        s["memorised_fraction"] = tr["mem_final"]
        s["memorised_fraction_ci"] = np.array([tr["mem_final_lo"], tr["mem_final_hi"]])
        env.put_times(s, "entropy_times", r["t_f"])
        arrays = {k: r[k] for k in ("t_f", "f", "f_lo", "f_hi", "f_theory")}
        if "rec_t" in tr:
            arrays.update(rec_t=tr["rec_t"], memorised=tr["mem"], memorised_lo=tr["mem_lo"], memorised_hi=tr["mem_hi"],
                          on_final=tr["on_final"], last_switch=tr["last_switch"])
        res = cls(s, arrays)
        res.T, res.t_end = T, t_end
        return res

    def plot(self, ax=None, path=None):
        """f(t)/alpha with its interval and the theory, the 0.05 level and t_C; the memorised fraction of the
        denoised states against t on a second axis."""
        plt = _matplotlib()
        fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4))
        a = self.alpha
        ax.fill_between(self.t_f, self.f_lo / a, self.f_hi / a, alpha=0.3, color="C0")
        ax.semilogx(self.t_f, self.f / a, "o-", ms=3, color="C0", label="f / alpha measured")
        if np.any(np.isfinite(self.f_theory)):
            ax.semilogx(self.t_f, self.f_theory / a, "--", color="C0", label="theory")
        ax.axhline(0.05, color="gray", lw=0.8)
        if math.isfinite(self.t_C):
            ax.axvline(self.t_C, ls=":", color="C0")
        ax.set_xlabel("t (OU units)")
        ax.set_ylabel("f(t) / alpha")
        if "rec_t" in self:
            ax2 = ax.twinx()
            ax2.semilogx(self.rec_t, self.memorised, color="C1", label="memorised fraction")
            ax2.set_ylabel("memorised fraction", color="C1")
            ax2.set_ylim(0, 1)
        ax.legend(fontsize=8, loc="upper left")
        return self._save(fig, path)
