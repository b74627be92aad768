"""The NTK-sector Monte Carlo comparison behind ``nntheory validate ntk``: recursion vs exact-derivative ensembles.

For one activation at one ``(C_W, C_b)``, :func:`validate_ntk` compiles :func:`ntk_recursion` (``dntk=True``; Gaussian
or orthogonal weights, ``init``), samples a width sweep of finite networks with :func:`ntk_width_sweep`, extrapolates every moment
linearly in ``1/n`` and compares the intercept of the last layer ``L`` with the recursion: ``Theta`` (from
``Theta_mc``), ``Theta1``, ``A``, ``B``, ``D``, ``F`` and the plain dNTK moments (``dNTK_iik_k``, ``dNTK_ikk_i``,
``dNTK_iii_i``, predicted by :func:`dntk_moments_from_pq`). ``z = (MC - theory) / SE``; the comparison passes when
every ``|z| < z_max``. With ``init="orthogonal"`` the networks have a Gaussian first layer and Haar-orthogonal square
layers after it (:func:`~nntheory.validation.finite_width._ntk_monte_carlo.orthogonal_mlp_params`), compared with the
orthogonal recursions (``ntk_recursion(..., init="orthogonal")``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import SpecError
from nntheory.theory import Activation
from nntheory.validation._plots import png_bytes
from nntheory.validation.finite_width._ntk_monte_carlo import (
    _MAX_BYTES,
    NTKEnsembleSpec,
    _bytes_per_network,
    dntk_moments_from_pq,
    ntk_width_sweep,
)

__all__ = ["NTK_VALIDATE_STATISTICS", "NTKComparison", "validate_ntk"]

#: the statistics :func:`validate_ntk` can compare, in table order
NTK_VALIDATE_STATISTICS = ("Theta", "Theta1", "A", "B", "D", "F", "dNTK_iik_k", "dNTK_ikk_i", "dNTK_iii_i")
_MC_NAME = {"Theta": "Theta_mc"}
# ntk_statistics: B[a,b,c,d] = n E[H_{ik;ab} H_{ik;cd}], F[a,b,c,d] = n E[H_{ik;ab} z_{i;c} z_{k;d}]; the recursion lists
# inputs neuron by neuron, B[a1,a3,a2,a4] with (a1, a3) on neuron i: the MC's [a,b,c,d] is the recursion's [a,c,b,d]
_TO_MC_LAYOUT = {"B": (0, 2, 1, 3), "F": (0, 2, 1, 3)}
MAX_NETS = 1_000_000


@dataclass
class NTKComparison:
    """Result of :func:`validate_ntk`.

    ``rows``: one dict per tensor entry with ``statistic``, ``index`` (input indices), ``theory``, ``mc`` (value at
    each width), ``mc_stderr``, ``extrapolated`` (the ``1/n -> 0`` intercept), ``stderr`` and ``z``; ``passed`` is
    ``all(|z| < z_max)``; ``settings`` the run's parameters (JSON-ready).
    """

    activation: str
    C_W: float
    C_b: float
    depth: int
    widths: tuple[int, ...]
    n_nets: int
    z_max: float
    rows: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every entry agrees within ``z_max`` standard errors."""
        return all(abs(r["z"]) < self.z_max for r in self.rows)

    @property
    def worst(self) -> dict:
        """The row with the largest ``|z|``."""
        return max(self.rows, key=lambda r: abs(r["z"]))

    def table(self) -> str:
        """A plain-text table: one line per tensor entry (theory, extrapolated MC, SE, z, MC at each width).

        Returns:
            The table as one string.
        """
        head = (f"== {self.activation} C_W={self.C_W:.6g} C_b={self.C_b:.6g} L={self.depth} widths={list(self.widths)} "
                f"init={self.settings.get('init', 'gaussian')} "
                f"n_nets={self.n_nets} -> {'PASS' if self.passed else 'FAIL'} (worst |z| = {abs(self.worst['z']):.2f})")
        lines = [head, f"{'statistic':>11} {'index':>6} {'theory':>12} {'MC (n->inf)':>12} {'stderr':>10} {'z':>7}  MC at each width"]
        for r in self.rows:
            idx = "".join(str(i + 1) for i in r["index"])
            lines.append(f"{r['statistic']:>11} {idx:>6} {r['theory']:>12.6g} {r['extrapolated']:>12.6g} {r['stderr']:>10.3g} "
                         f"{r['z']:>7.2f}  " + " ".join(f"{v:.5g}" for v in r["mc"]))
        return "\n".join(lines)

    def plot_png(self) -> bytes:
        """One panel per statistic (first entry of each): MC at each width vs ``1/n`` with error bars, the
        extrapolated point at ``1/n = 0`` and the theory value.

        Returns:
            PNG bytes.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = list(dict.fromkeys(r["statistic"] for r in self.rows))
        fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), squeeze=False)
        x = 1.0 / np.asarray(self.widths, float)
        for ax, name in zip(axes[0], names):
            r = next(r for r in self.rows if r["statistic"] == name)
            ax.errorbar(x, r["mc"], yerr=r["mc_stderr"], fmt="o", capsize=3, label="MC")
            ax.errorbar([0.0], [r["extrapolated"]], yerr=[r["stderr"]], fmt="s", color="C3", capsize=3, label="n->inf")
            ax.axhline(r["theory"], color="k", label="theory")
            ax.set_title(f"{name}[{''.join(str(i + 1) for i in r['index'])}]  z={r['z']:.2f}", fontsize=9)
            ax.set_xlabel("1/n")
        axes[0][0].legend(fontsize=7)
        return png_bytes(fig, f"{self.activation}: C_W={self.C_W:.5g}, C_b={self.C_b:.5g}, layer {self.depth}, "
                              f"{self.settings.get('init', 'gaussian')} weights", dpi=80)


def _check_statistics(statistics) -> tuple[str, ...]:
    if statistics is None:
        return NTK_VALIDATE_STATISTICS
    stats = tuple(statistics)
    bad = [s for s in stats if s not in NTK_VALIDATE_STATISTICS]
    if bad or not stats:
        raise SpecError(f"statistics: unknown {bad[0]!r}; choose from {', '.join(NTK_VALIDATE_STATISTICS)}."
                        if bad else "statistics: at least one statistic is needed.")
    return stats


def validate_ntk(act: Activation, inputs, *, C_W: float, C_b: float, depth: int, widths, n_nets: int,
                 key: jax.Array, statistics=None, init: str = "gaussian", neurons: int = 8, lambda_W: float = 1.0,
                 lambda_b: float = 1.0, z_max: float = 4.0, progress: bool = False) -> NTKComparison:
    """Compare the NTK-sector recursion with a Monte Carlo width sweep at the last layer ``depth``.

    Args:
        act: the activation; with kinks (ReLU) the dNTK moments are left out of the default statistics and refused
            when asked for (the dNTK recursion needs ``sigma''``).
        inputs: ``(m, n_0)`` inputs, ``m`` = 1 or 2.
        C_W, C_b: weight and bias variances.
        depth: the layer ``L`` compared (``1 <= L <= 100``; the dNTK needs ``L >= 2`` to be nonzero).
        widths: at least two distinct widths ``>= max(neurons, 2)``.
        n_nets: networks per width (``2 <= n_nets <= 1e6``).
        key: JAX random key.
        statistics: names from :data:`NTK_VALIDATE_STATISTICS` (default all).
        init: ``"gaussian"`` or ``"orthogonal"`` (Gaussian first layer, then ``sqrt(C_W) O`` with ``O`` Haar; every
            layer has the sweep's width, so the hidden layers are square).
        neurons: neurons of layer ``L`` entering the pair estimators.
        lambda_W, lambda_b: learning-rate factors.
        z_max: the largest accepted ``|z|``.
        progress: print one line per width to stderr.

    Returns:
        :class:`NTKComparison`.

    Raises:
        SpecError: an unknown statistic or init, sizes out of range, a chunk of one network over
            the memory limit (the message gives the estimate), or a non-finite theory value.
    """
    import sys
    import time

    from nntheory.numerics import compile_recursion
    from nntheory.theory.finite_width._ntk import ntk_recursion

    where = "validate_ntk"
    stats = _check_statistics(statistics)
    dntk_stats = [s for s in stats if s.startswith("dNTK")]
    if not act.is_smooth:  # kinks: sigma'' is a distribution, so the dNTK recursion does not apply
        if statistics is not None and dntk_stats:
            raise SpecError(f"{where}: statistics: {dntk_stats[0]} needs a smooth activation (the dNTK recursion uses "
                            f"sigma''); {act.name} has kinks. Leave the dNTK moments out.")
        stats = tuple(s for s in stats if not s.startswith("dNTK"))
    dntk = any(s.startswith("dNTK") for s in stats)
    if init not in ("gaussian", "orthogonal"):
        raise SpecError(f"{where}: init must be 'gaussian' or 'orthogonal', got {init!r}.")
    X = np.asarray(inputs, dtype=float)
    if X.ndim != 2 or X.shape[0] not in (1, 2) or not np.all(np.isfinite(X)):
        raise SpecError(f"{where}: inputs must be a finite (m, n_0) array with m = 1 or 2, got shape {X.shape}.")
    check_int(depth, "depth", lo=1, hi=100, where=where)
    check_int(n_nets, "n_nets", lo=2, hi=MAX_NETS, where=where)
    check_int(neurons, "neurons", lo=2, hi=64, where=where)
    check_real(z_max, "z_max", lo=0, lo_open=True, where=where)
    widths = tuple(check_int(w, "widths", lo=max(neurons, 2), hi=4096, where=where) for w in widths)
    if len(set(widths)) < 2:
        raise SpecError(f"{where}: widths needs at least two distinct widths, got {widths}.")
    spec = NTKEnsembleSpec(act, depth, max(widths), C_W, C_b, lambda_W, lambda_b, init, neurons, dntk)
    per = _bytes_per_network(spec, X.shape[0], X.shape[1])
    chunk = int(min(64, n_nets, _MAX_BYTES // per))
    if chunk < 1:
        raise SpecError(f"{where}: widths: width {max(widths)} at depth {depth} needs about {per / 2**30:.2f} GiB per "
                        f"network (limit {_MAX_BYTES / 2**30:.0f} GiB per chunk); use smaller widths or depth.")
    t0 = time.time()
    rec = compile_recursion(ntk_recursion(act, X.shape[0], dntk=dntk, init=init))
    out = rec(X @ X.T / X.shape[1], depth=depth, C_W=C_W, C_b=C_b, lambda_W=lambda_W, lambda_b=lambda_b)
    th = {k: np.asarray(v)[depth - 1] for k, v in out.items()}
    if dntk:
        th.update(dntk_moments_from_pq(th["P"], th["Q"]))
    for name in stats:
        if not np.all(np.isfinite(th[name])):
            raise SpecError(f"{where}: the recursion's {name} is not finite at depth {depth} (C_W={C_W}, C_b={C_b}); "
                            "lower depth or C_W.")
    if progress:
        print(f"  theory compiled ({time.time() - t0:.1f} s); sampling widths {list(widths)} x {n_nets} networks",
              file=sys.stderr, flush=True)
    sw = ntk_width_sweep(spec, widths, X, key=key, n_nets=n_nets, chunk=chunk, theta=th["Theta"])
    rows = []
    for name in stats:
        mc_name = _MC_NAME.get(name, name)
        ref = np.asarray(th[name], dtype=float)
        if name in _TO_MC_LAYOUT and ref.ndim == 4:  # recursion B[a1,a3,a2,a4], F[a1,a3,a2,a4] -> the MC's [a,b,c,d]
            ref = np.transpose(ref, _TO_MC_LAYOUT[name])
        b0, se = np.asarray(sw.intercept[mc_name]), np.asarray(sw.stderr[mc_name])
        ref = ref.reshape(b0.shape) if ref.size == b0.size else np.broadcast_to(ref, b0.shape)
        for idx in np.ndindex(b0.shape):
            s = float(se[idx])
            if not (s > 0 and math.isfinite(s)):
                continue  # an exactly vanishing estimator (e.g. the dNTK at L = 1) has nothing to compare
            rows.append({"statistic": name, "index": list(idx), "theory": float(ref[idx]),
                         "mc": [float(np.asarray(sw.estimates[w][mc_name].value)[idx]) if mc_name in sw.estimates[w]
                                else float("nan") for w in widths],
                         "mc_stderr": [float(np.asarray(sw.estimates[w][mc_name].stderr)[idx]) if mc_name in sw.estimates[w]
                                       else float("nan") for w in widths],
                         "extrapolated": float(b0[idx]), "stderr": s, "z": float((b0[idx] - ref[idx]) / s)})
    for r in rows:  # Theta1 has no per-width estimate of its own: report n (E H - Theta) at each width
        if r["statistic"] == "Theta1":
            idx = tuple(r["index"])
            r["mc"] = [float(w * (np.asarray(sw.estimates[w]["Theta_mc"].value)[idx] - th["Theta"][idx])) for w in widths]
            r["mc_stderr"] = [float(w * np.asarray(sw.estimates[w]["Theta_mc"].stderr)[idx]) for w in widths]
    bad = [r["statistic"] for r in rows if not all(math.isfinite(v) for v in (r["theory"], r["extrapolated"], r["z"], *r["mc"]))]
    if bad:
        raise SpecError(f"{where}: non-finite Monte Carlo or theory value for {bad[0]}; lower depth or C_W.")
    if not rows:
        raise SpecError(f"{where}: nothing to compare (every requested statistic vanishes identically at depth {depth}).")
    settings = {"activation": act.name, "C_W": float(C_W), "C_b": float(C_b), "depth": depth, "widths": list(widths),
                "n_nets": n_nets, "neurons": neurons, "lambda_W": float(lambda_W), "lambda_b": float(lambda_b),
                "init": init, "inputs": X.tolist(), "statistics": list(stats), "z_max": float(z_max)}
    return NTKComparison(act.name, float(C_W), float(C_b), depth, widths, n_nets, float(z_max), rows, settings,
                         time.time() - t0)
