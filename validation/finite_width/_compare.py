r"""Theory vs Monte Carlo over a width sweep, with z-scores.

For each statistic the MC estimate at width :math:`n` is regressed on the next order in
:math:`1/n` that the theory does not contain, and the extrapolated intercept is compared with the
theory (this is how the :math:`O(1/n^2)` terms are accounted for):

=========  =====================================  =========  ==============
statistic  regressed quantity                     against    theory
=========  =====================================  =========  ==============
``K``      :math:`\hat K(n) - K^{\{1\}}/n`         :math:`1/n^2`  :math:`K`
``K1``     :math:`n(\hat K(n) - K)`                :math:`1/n`    :math:`K^{\{1\}}`
``V``      :math:`\hat V(n)`                       :math:`1/n`    :math:`V`
``Theta``  :math:`\hat\Theta(n)`                   :math:`1/n`    :math:`\Theta`
=========  =====================================  =========  ==============

``z = (intercept - theory) / se(intercept)``; a check passes when ``|z| < z_max`` (default 4). An entry whose
standard error is zero (to round-off) at every width is deterministic (the layer-1 NTK): it passes with ``z = 0``
if Monte Carlo equals the theory to round-off. A standard error of zero at some widths only (too few networks),
or a deterministic entry that differs from the theory, is refused with an error: no weight is infinite and no
``z`` is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import jax
import numpy as np

from nntheory.errors import NNTheoryError, SpecError
from nntheory.numerics import compile_recursion
from nntheory.theory import Activation
from nntheory.theory.finite_width._recursions import finite_width_recursion
from nntheory.validation.finite_width._ensembles import EnsembleSpec, _auto_chunk, sample_ensemble
from nntheory.validation._estimators import estimate_statistics, fit_intercept

__all__ = ["Comparison", "compare_width_sweep", "theory_statistics"]


@dataclass
class Comparison:
    """Theory vs Monte Carlo of one width sweep: one row per statistic, layer and entry (see the module docstring).

    ``depth`` is the number of PDLT layers, as in :class:`EnsembleSpec`.
    """

    activation: str
    C_W: float
    C_b: float
    depth: int
    widths: tuple[int, ...]
    n_nets: int
    rows: list[dict] = field(default_factory=list)
    theory: dict = field(default_factory=dict)
    mc: dict = field(default_factory=dict)
    z_max: float = 4.0

    @property
    def passed(self) -> bool:
        """Every row has ``|z| < z_max``."""
        return all(abs(r["z"]) < self.z_max for r in self.rows)

    @property
    def worst(self) -> dict:
        """The row with the largest ``|z|``."""
        return max(self.rows, key=lambda r: abs(r["z"]))


def theory_statistics(act: Activation, gram: np.ndarray, *, depth: int, C_W: float, C_b: float,
                      lambda_W: float = 1.0, lambda_b: float = 1.0) -> dict[str, np.ndarray]:
    """Compiled K, V, K1, Theta per layer at equal widths (float64 if x64 is on).

    Returns:
        ``{name: array}`` with leading axis = layer (``depth`` PDLT layers) for ``K``, ``K1``, ``V``, ``Theta``.
    """
    comp = _compiled_recursion(act, gram.shape[0])
    out = comp(np.asarray(gram), depth=depth, C_W=C_W, C_b=C_b, lambda_W=lambda_W, lambda_b=lambda_b)
    return {k: np.asarray(v) for k, v in out.items()}


@lru_cache(maxsize=32)
def _compiled_recursion(act: Activation, m: int):
    """The compiled finite-width recursion of ``act`` for ``m`` inputs (shared by the configurations of one activation)."""
    return compile_recursion(finite_width_recursion(act, m))


def _even_chunk(n_nets: int, chunk: int) -> int:
    """The largest divisor of ``n_nets`` not above ``chunk`` if it is at least ``chunk / 2``, else ``chunk``: equal
    batches compile the sampler once (a shorter last batch compiles it a second time)."""
    chunk = max(1, min(int(chunk), n_nets))
    best = max(d for d in range(1, chunk + 1) if n_nets % d == 0)
    return best if 2 * best >= chunk else chunk


def _entries(name: str, m: int):
    if name == "V":
        P = [(a, b) for a in range(m) for b in range(a, m)]
        return [p + q for i, p in enumerate(P) for q in P[i:]]
    return [(a, b) for a in range(m) for b in range(a, m)]


def _sweeps(ests: list, th: dict, widths) -> dict:
    """Per statistic ``(y, se, x, theory)``: the Monte Carlo values whose ``x -> 0`` intercept is the theory value."""
    ns = np.asarray(widths, dtype=float)
    Kmc = np.stack([e["K_mc"].value for e in ests])
    Kse = np.stack([e["K_mc"].stderr for e in ests])
    nn = ns.reshape((-1,) + (1,) * (Kmc.ndim - 1))
    sweeps = {
        "K": (Kmc - th["K1"][None] / nn, Kse, 1 / nn**2, th["K"]),
        "K1": (nn * (Kmc - th["K"][None]), nn * Kse, 1 / nn, th["K1"]),
        "Theta": (np.stack([e["Theta"].value for e in ests]), np.stack([e["Theta"].stderr for e in ests]), 1 / nn, th["Theta"]),
    }
    Vmc = np.stack([e["V"].value for e in ests])
    Vse = np.stack([e["V"].stderr for e in ests])
    sweeps["V"] = (Vmc, Vse, 1 / ns.reshape((-1,) + (1,) * (Vmc.ndim - 1)), th["V"])
    return sweeps


def _row_name(name: str, l: int, idx) -> str:
    return f"{name} at layer {l + 1}, entry {''.join(str(i + 1) for i in idx)}"


def _zero_se_entries(name: str, y, se, theory, widths, n_nets: int) -> np.ndarray:
    """The entries whose standard error is zero (to round-off) at every width, checked against the theory.

    Such an entry is deterministic (every network gives the same value, e.g. the layer-1 NTK): it passes with
    ``z = 0`` when Monte Carlo equals the theory to round-off at every width. Anything else is refused: a
    deterministic entry that differs from the theory, or an entry whose standard error is zero at some widths
    only (all networks happened to agree: too few networks for a weighted fit).

    Returns:
        A boolean mask of the deterministic entries (shape of ``theory``).

    Raises:
        SpecError: a standard error that is zero at some widths only ("too few networks").
        NNTheoryError: a deterministic entry that differs from the theory.
    """
    scale = np.maximum(1.0, np.abs(theory))
    tiny = se <= 1e-12 * scale[None]
    det = tiny.all(axis=0)
    partial = tiny.any(axis=0) & ~det
    if partial.any():
        at = tuple(int(i[0]) for i in np.nonzero(partial))
        ws = [int(w) for w, t in zip(widths, tiny[(slice(None), *at)]) if t]
        raise SpecError(f"compare_width_sweep: the standard error of {_row_name(name, at[0], at[1:])} is zero at width(s) "
                        f"{ws} (all {n_nets} networks gave the same value) but not at the others: SE is zero: too few "
                        "networks for a weighted fit; use more networks (--n-nets).")
    off = det & (np.abs(y - theory[None]) > 1e-9 * scale[None]).any(axis=0)
    if off.any():
        at = tuple(int(i[0]) for i in np.nonzero(off))
        raise NNTheoryError(f"compare_width_sweep: {_row_name(name, at[0], at[1:])} is deterministic (standard error zero at "
                            f"every width) but Monte Carlo gives {[float(v) for v in y[(slice(None), *at)]]} where the "
                            f"theory is {float(theory[at])}: SE is zero, so no z-score exists; this is a failed check.")
    return det


def _fit_rows(name: str, y, se, x, theory, depth: int, m: int, widths, n_nets: int) -> list[dict]:
    """Fit ``y = b0 + b1 x`` entry by entry and compare the intercept with the theory (one row per entry).

    Deterministic entries (zero standard error, equal to the theory) get ``z = 0``; zero standard errors are
    otherwise refused (:func:`_zero_se_entries`), so no weight is infinite and no ``z`` is NaN.
    """
    det = _zero_se_entries(name, y, se, theory, widths, n_nets)
    b0, b0se, chi2 = fit_intercept(x, y, np.where(det[None], 1.0, se))  # dummy weights where the fit is not used
    rows = []
    for l in range(depth):
        for idx in _entries(name, m):
            t = float(theory[(l, *idx)])
            if det[(l, *idx)]:
                est, s, z, c2 = float(np.mean(y[(slice(None), l, *idx)])), 0.0, 0.0, 0.0  # MC equals theory to round-off
            else:
                est, s, c2 = float(b0[(l, *idx)]), float(b0se[(l, *idx)]), float(chi2[(l, *idx)])
                z = (est - t) / s
            rows.append({
                "statistic": name, "layer": l + 1, "index": list(idx), "theory": t,
                "extrapolated": est, "stderr": s, "z": z, "chi2": c2,
                "mc": [float(y[(w, l, *idx)]) for w in range(len(widths))],
                "mc_stderr": [float(se[(w, l, *idx)]) for w in range(len(widths))],
            })
    return rows


def compare_width_sweep(
    act: Activation,
    *,
    C_W: float,
    C_b: float,
    depth: int,
    widths: tuple[int, ...],
    n_nets: int,
    inputs: np.ndarray,
    key: jax.Array,
    lambda_W: float = 1.0,
    lambda_b: float = 1.0,
    z_max: float = 4.0,
    chunk: int | None = None,
    progress: bool = False,
) -> Comparison:
    """Run ensembles at each width and compare every statistic with the compiled theory.

    Args:
        act: the activation.
        C_W, C_b, lambda_W, lambda_b: PDLT initialisation variances and NTK learning-rate factors.
        depth: PDLT number of layers (as :class:`EnsembleSpec`).
        widths: at least three widths; ``n_nets`` networks at each.
        inputs: ``(m, n_0)`` inputs.
        key: JAX random key (width ``i`` uses ``jax.random.fold_in(key, i)``).
        z_max: the pass threshold on ``|z|``.
        chunk, progress: as in :func:`sample_ensemble` (``chunk`` is lowered to a divisor of ``n_nets`` when one
            is at least half of it, so that every batch has the same shape and the sampler compiles once).

    Returns:
        :class:`Comparison` with one row per statistic, layer and entry.

    Raises:
        SpecError: fewer than three widths; a standard error that is zero at some widths only (too few networks).
        NNTheoryError: an entry with zero standard error at every width that differs from the theory.
    """
    if len(widths) < 3:
        raise SpecError(f"compare_width_sweep: need at least 3 widths for a 2-parameter fit with a check, got {widths}.")
    X = np.asarray(inputs, dtype=float)
    gram = X @ X.T / X.shape[1]
    th = theory_statistics(act, gram, depth=depth, C_W=C_W, C_b=C_b, lambda_W=lambda_W, lambda_b=lambda_b)
    ests = []
    for i, n in enumerate(widths):
        spec = EnsembleSpec(act, depth, n, C_W, C_b, lambda_W, lambda_b)
        want = _auto_chunk(spec, X.shape[0]) if chunk is None else chunk
        ens = sample_ensemble(spec, X, key=jax.random.fold_in(key, i), n_nets=n_nets, chunk=_even_chunk(n_nets, want),
                              progress=progress)
        ests.append(estimate_statistics(ens))
    comp = Comparison(act.name, C_W, C_b, depth, tuple(widths), n_nets, theory=th, z_max=z_max)
    comp.mc = {w: e for w, e in zip(widths, ests)}
    for name, (y, se, x, theory) in _sweeps(ests, th, widths).items():
        comp.rows += _fit_rows(name, y, se, x, theory, depth, X.shape[0], widths, n_nets)
    return comp
