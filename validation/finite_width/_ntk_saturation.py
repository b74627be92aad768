r"""Depth saturation of the normalised NTK-sector tensors: orthogonal vs Gaussian weights (Guillen & Gerken).

:func:`ntk_saturation` iterates the compiled single-input recursions of :func:`ntk_recursion` for both
initialisations (``init="gaussian"`` and ``init="orthogonal"``: Gaussian first layer, then square Haar-orthogonal
layers) to ``depth`` layers and forms the normalised tensors, each the ``n``-independent coefficient of ``1/n``:

=============  =====================================================================
``V/K^2``      four-point vertex (``n Cov(z_i^2, z_k^2) / K^2``)
``A/Theta^2``  ``n Cov(H_ii, H_kk) / Theta^2``
``B/Theta^2``  ``n E[H_ik^2] / Theta^2``
``D/ThetaK``   ``n Cov(H_ii, z_k^2) / (Theta K)``
``F/ThetaK``   ``n E[H_ik z_i z_k] / (Theta K)``
``Theta1/Theta``  the ``1/n`` NTK-mean correction ``n (E H_ii - Theta) / Theta``
=============  =====================================================================

(``i != k`` neurons of the last layer, ``n = n_{L-1}``; ``K``, ``Theta`` the leading-order kernel and NTK mean of the
same layer and initialisation.) With ``mc_depths``, exact-NTK Monte Carlo ensembles of both initialisations
(:func:`~nntheory.validation.finite_width._ntk_monte_carlo.sample_ntk_ensemble` for ``A, B, D, F``; a forward-only
sampler over all ``n`` neurons for ``V``) give points at those depths, one width ``mc_width``, with jackknife
standard errors; they are divided by the same theory normalisers (so their error bars are the estimators' own). A
single width carries the ``O(L/n)`` corrections of the ``1/n`` expansion: where ``L/n`` is not small (Gaussian nets at
large depth) the points leave the leading-order curve, as they should. ``Theta1`` has no Monte Carlo point: its
standard error, ``sqrt(n (A + 2B) / (N neurons))``, is far larger than the effect at affordable ensemble sizes.

:func:`write_ntk_saturation` writes ``ntk-saturation.png`` (one panel per quantity, depth on the x axis),
``ntk-saturation.csv`` (one row per depth, initialisation: every quantity) and ``ntk-saturation.json`` (the curves,
the Monte Carlo points, the settings and a provenance block with the SHA-256 of the data), each atomically.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import SpecError
from nntheory.theory import Activation
from nntheory.validation._plots import png_bytes

__all__ = ["SATURATION_QUANTITIES", "NTKSaturation", "ntk_saturation", "write_ntk_saturation"]

#: the normalised quantities, in panel order: (name, numerator, normaliser)
SATURATION_QUANTITIES = (
    ("V/K^2", "V", "KK"),
    ("A/Theta^2", "A", "TT"),
    ("B/Theta^2", "B", "TT"),
    ("D/ThetaK", "D", "TK"),
    ("F/ThetaK", "F", "TK"),
    ("Theta1/Theta", "Theta1", "T"),
)
_INITS = ("gaussian", "orthogonal")
MAX_DEPTH = 200


@dataclass
class NTKSaturation:
    """Result of :func:`ntk_saturation`.

    ``theory[init][quantity]``: a list over layers ``1..depth``; ``mc``: one dict per Monte Carlo point with
    ``init``, ``depth``, ``width``, ``n_nets``, ``quantity``, ``value``, ``stderr`` and ``theory`` (the curve at that
    depth) and ``z``; ``settings``: the run's parameters (JSON-ready); ``seconds``: wall time.
    """

    activation: str
    depth: int
    theory: dict
    mc: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0

    def at_depth(self, layer: int) -> dict:
        """``{init: {quantity: value}}`` of the theory curves at ``layer`` (1-based).

        Args:
            layer: the layer, ``1 <= layer <= depth``.

        Returns:
            The values of every quantity for both initialisations.
        """
        check_int(layer, "layer", lo=1, hi=self.depth, where="NTKSaturation.at_depth")
        return {ini: {q: v[layer - 1] for q, v in curves.items()} for ini, curves in self.theory.items()}

    def csv_text(self) -> str:
        """The theory curves as CSV: ``layer,init,<quantity>...`` (one row per layer and initialisation).

        Returns:
            The CSV text (floats with 17 significant digits).
        """
        names = [q for q, _, _ in SATURATION_QUANTITIES]
        lines = ["layer,init," + ",".join(names)]
        for ini in _INITS:
            for l in range(self.depth):
                lines.append(f"{l + 1},{ini}," + ",".join(f"{self.theory[ini][q][l]:.17g}" for q in names))
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """The curves, the Monte Carlo points, the settings and a provenance block, as JSON text.

        Returns:
            JSON text; ``provenance.data_sha256`` is the SHA-256 of the canonical JSON of ``theory`` and ``mc``.
        """
        from nntheory._version import __version__

        data = {"theory": self.theory, "mc": self.mc}
        digest = hashlib.sha256(json.dumps(data, sort_keys=True, allow_nan=False).encode()).hexdigest()
        doc = {"format_version": 1, "kind": "ntk-saturation",
               "provenance": {"generator": f"nntheory {__version__}", "nntheory_version": __version__,
                              "generator_function": "nntheory.validation.finite_width.ntk_saturation",
                              "data_sha256": digest},
               "settings": self.settings, "seconds": self.seconds, **data}
        return json.dumps(doc, sort_keys=True, indent=1, allow_nan=False) + "\n"

    def plot_png(self) -> bytes:
        """One panel per quantity: both theory curves against depth, the Monte Carlo points with error bars.

        Returns:
            PNG bytes.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 3, figsize=(12, 7))
        layers = np.arange(1, self.depth + 1)
        colors = {"gaussian": "C0", "orthogonal": "C3"}
        for ax, (q, _, _) in zip(axes.ravel(), SATURATION_QUANTITIES):
            for ini in _INITS:
                ax.plot(layers, self.theory[ini][q], color=colors[ini], label=f"{ini} (theory)")
                pts = [p for p in self.mc if p["init"] == ini and p["quantity"] == q]
                if pts:
                    ax.errorbar([p["depth"] for p in pts], [p["value"] for p in pts], yerr=[p["stderr"] for p in pts],
                                fmt="o", ms=4, capsize=3, color=colors[ini],
                                label=f"{ini} MC (n={pts[0]['width']}, {pts[0]['n_nets']} nets)")
            ax.set_title(q, fontsize=10)
            ax.set_xlabel("layer l")
            ax.axhline(0.0, color="k", lw=0.5)
        axes[0][0].legend(fontsize=7)
        s = self.settings
        return png_bytes(fig, f"{self.activation}: C_W={s['C_W']:.5g}, C_b={s['C_b']:.5g}, x^2={s['x2']:.5g}, "
                              f"lambda_W={s['lambda_W']:.3g}, lambda_b={s['lambda_b']:.3g}: normalised 1/n coefficients "
                              "vs depth")


def _theory(act: Activation, init: str, depth: int, C_W, C_b, x2, lambda_W, lambda_b) -> dict:
    from nntheory.numerics import compile_recursion
    from nntheory.theory.finite_width._ntk import ntk_recursion

    out = compile_recursion(ntk_recursion(act, 1, init=init))(np.array([[x2]]), depth=depth, C_W=C_W, C_b=C_b,
                                                               lambda_W=lambda_W, lambda_b=lambda_b)
    v = {k: np.asarray(a, dtype=float).reshape(depth) for k, a in out.items()}
    K, Th = v["K"], v["Theta"]
    norm = {"KK": K * K, "TT": Th * Th, "TK": Th * K, "T": Th}
    curves = {q: v[num] / norm[den] for q, num, den in SATURATION_QUANTITIES}
    curves.update(K=K, Theta=Th)
    for q, c in curves.items():
        if not np.all(np.isfinite(c)):
            raise SpecError(f"ntk_saturation: the {init} recursion's {q} is not finite by depth {depth}; lower depth "
                            "or choose C_W, C_b, x2 that keep the kernel finite.")
    return {q: c.tolist() for q, c in curves.items()}


def _v_summaries(key, X, sizes, init, C_W, C_b, sig):
    """Per network: ``(pair mean of z_i^2 z_k^2 over all i != k, mean z^2)`` of the last layer (one input)."""
    from nntheory.validation._networks import mlp_forward, pdlt_mlp_params
    from nntheory.validation.finite_width._ntk_monte_carlo import orthogonal_mlp_params

    make = orthogonal_mlp_params if init == "orthogonal" else pdlt_mlp_params
    params = make(key, sizes, C_W, C_b, X.dtype)
    z = mlp_forward(params, X, sig)[0][-1][0]
    n = z.shape[0]
    s2, s4 = jnp.sum(z * z), jnp.sum(z**4)
    return (s2 * s2 - s4) / (n * (n - 1)), s2 / n


def _mc_V(act, init, depth, width, C_W, C_b, X, key, n_nets, chunk):
    from nntheory.validation._networks import activation_fns
    from nntheory.validation.finite_width._ntk_monte_carlo import _covariance

    sig, _ = activation_fns(act)
    sizes = (X.shape[1],) + (width,) * depth
    f = jax.jit(jax.vmap(lambda k: _v_summaries(k, jnp.asarray(X), sizes, init, C_W, C_b, sig)))
    keys = jax.random.split(key, n_nets)
    pair, z2 = [], []
    for s in range(0, n_nets, chunk):
        kc = keys[s:s + chunk]
        if kc.shape[0] < chunk:
            kc = jnp.concatenate([kc, keys[: chunk - kc.shape[0]]])
        p, q = (np.asarray(a)[: min(chunk, n_nets - s)] for a in f(kc))
        pair.append(p)
        z2.append(q)
    pair, z2 = np.concatenate(pair), np.concatenate(z2)
    fan_in = width if depth > 1 else X.shape[1]
    est = _covariance(pair.reshape(-1, 1, 1, 1, 1), z2.reshape(-1, 1, 1), z2.reshape(-1, 1, 1), fan_in)
    return float(np.ravel(est.value)[0]), float(np.ravel(est.stderr)[0])


def ntk_saturation(act: Activation, *, depth: int = 50, C_W: float = 1.0, C_b: float = 0.0, x2: float = 1.0,
                   lambda_W: float = 1.0, lambda_b: float = 1.0, mc_depths=(), mc_width: int = 128, n_nets: int = 200,
                   neurons: int = 8, key: jax.Array | None = None, progress: bool = False) -> NTKSaturation:
    """Normalised NTK-sector tensors vs depth for Gaussian and orthogonal weights, with Monte Carlo points.

    Args:
        act: the activation (the default study: tanh at criticality, ``C_W = 1``, ``C_b = 0``).
        depth: the deepest layer of the curves (``2 <= depth <= 200``).
        C_W, C_b: weight and bias variances.
        x2: the single input's ``|x|^2 / n_0`` (``> 0``).
        lambda_W, lambda_b: the NTK learning-rate factors.
        mc_depths: layers (each in ``2..depth``) at which to sample both initialisations; empty: theory only.
        mc_width: the one width of the Monte Carlo networks (every layer; ``16 <= mc_width <= 1024``).
        n_nets: networks per depth and initialisation (``2 <= n_nets <= 100000``).
        neurons: neurons of the last layer entering the NTK pair estimators (``2..min(64, mc_width)``).
        key: JAX random key (required with ``mc_depths``).
        progress: print one line per Monte Carlo point to stderr.

    Returns:
        :class:`NTKSaturation`.

    Raises:
        SpecError: an argument out of range, ``mc_depths`` without ``key``, a non-finite recursion value (overflow),
            or a Monte Carlo network whose working memory exceeds the per-chunk limit (the message gives the estimate).
    """
    import sys
    import time

    from nntheory.validation.finite_width._ntk_monte_carlo import (
        _MAX_BYTES,
        NTKEnsembleSpec,
        _bytes_per_network,
        ntk_statistics,
        sample_ntk_ensemble,
    )

    where = "ntk_saturation"
    t0 = time.time()
    check_int(depth, "depth", lo=2, hi=MAX_DEPTH, where=where)
    check_real(C_W, "C_W", lo=0, lo_open=True, hi=100, where=where)
    check_real(C_b, "C_b", lo=0, hi=100, where=where)
    check_real(x2, "x2", lo=0, lo_open=True, hi=1e6, where=where)
    check_real(lambda_W, "lambda_W", lo=0, hi=1e6, where=where)
    check_real(lambda_b, "lambda_b", lo=0, hi=1e6, where=where)
    if lambda_W == 0 and lambda_b == 0:
        raise SpecError(f"{where}: lambda_W and lambda_b are both 0: the NTK vanishes and nothing can be normalised.")
    mc_depths = tuple(sorted({check_int(d, "mc_depths", lo=2, hi=depth, where=where) for d in mc_depths}))
    if mc_depths:
        if key is None:
            raise SpecError(f"{where}: key: a JAX random key is needed for the Monte Carlo points (mc_depths).")
        check_int(mc_width, "mc_width", lo=16, hi=1024, where=where)
        check_int(n_nets, "n_nets", lo=2, hi=100_000, where=where)
        check_int(neurons, "neurons", lo=2, hi=min(64, mc_width), where=where)
    theory = {ini: _theory(act, ini, depth, C_W, C_b, x2, lambda_W, lambda_b) for ini in _INITS}
    n0 = 16
    X = np.full((1, n0), math.sqrt(x2))  # |x|^2 / n_0 = x2
    mc = []
    for i, ini in enumerate(_INITS if mc_depths else ()):
        for j, L in enumerate(mc_depths):
            spec = NTKEnsembleSpec(act, L, mc_width, C_W, C_b, lambda_W, lambda_b, ini, neurons, False)
            per = _bytes_per_network(spec, 1, n0)
            chunk = int(min(64, n_nets, _MAX_BYTES // per))
            if chunk < 1:
                raise SpecError(f"{where}: mc_width: width {mc_width} at depth {L} needs about {per / 2**30:.2f} GiB per "
                                f"network (limit {_MAX_BYTES / 2**30:.0f} GiB per chunk); use a smaller mc_width or depth.")
            k1, k2 = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, i), L))
            st = ntk_statistics(sample_ntk_ensemble(spec, X, key=k1, n_nets=n_nets, chunk=chunk))
            v, v_se = _mc_V(act, ini, L, mc_width, C_W, C_b, X, k2, n_nets, chunk)
            K, Th = theory[ini]["K"][L - 1], theory[ini]["Theta"][L - 1]
            norm = {"KK": K * K, "TT": Th * Th, "TK": Th * K}
            raw = {"V": (v, v_se), **{t: (float(np.ravel(st[t].value)[0]), float(np.ravel(st[t].stderr)[0]))
                                      for t in ("A", "B", "D", "F")}}
            for q, num, den in SATURATION_QUANTITIES:
                if num not in raw:
                    continue
                val, se = raw[num][0] / norm[den], raw[num][1] / norm[den]
                ref = theory[ini][q][L - 1]
                if not (math.isfinite(val) and math.isfinite(se)):
                    raise SpecError(f"{where}: non-finite Monte Carlo {q} ({ini}, depth {L}); lower C_W or depth.")
                mc.append({"init": ini, "depth": L, "width": mc_width, "n_nets": n_nets, "quantity": q, "value": val,
                           "stderr": se, "theory": ref, "z": (val - ref) / se if se > 0 else 0.0})
            if progress:
                print(f"  {ini} L={L} n={mc_width}: {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    settings = {"activation": act.name, "depth": depth, "C_W": float(C_W), "C_b": float(C_b), "x2": float(x2),
                "lambda_W": float(lambda_W), "lambda_b": float(lambda_b), "mc_depths": list(mc_depths),
                "mc_width": mc_width, "n_nets": n_nets, "neurons": neurons, "n0": n0, "dtype": "float64",
                "orthogonal": "W^(1) ~ N(0, C_W/n_0); W^(l) = sqrt(C_W) O (Haar) for l >= 2; square hidden layers"}
    return NTKSaturation(act.name, depth, theory, mc, settings, time.time() - t0)


def write_ntk_saturation(result: NTKSaturation, folder: str, *, stem: str = "ntk-saturation") -> list[str]:
    """Write ``<stem>.png``, ``<stem>.csv`` and ``<stem>.json`` into ``folder``, each atomically.

    Args:
        result: from :func:`ntk_saturation`.
        folder: the output folder (created if missing).
        stem: the file-name stem (letters, digits, ``._-``).

    Returns:
        The three file names written (relative to ``folder``).

    Raises:
        SpecError: a ``stem`` with other characters.
        OutputPathError: a target that is a directory, device or symlink.
    """
    import re

    from nntheory._io import atomic_write

    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", stem):
        raise SpecError(f"write_ntk_saturation: stem must be 1-100 of [A-Za-z0-9._-], got {stem!r}.")
    names = [f"{stem}.png", f"{stem}.csv", f"{stem}.json"]
    for name, data in zip(names, (result.plot_png(), result.csv_text(), result.to_json())):
        atomic_write(os.path.join(folder, name), data)
    return names
