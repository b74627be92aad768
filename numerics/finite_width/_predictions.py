r"""Finite-width predictions at a given width from the diagram recursions of the kernel cumulants.

With equal hidden widths ``n``, the cumulants of a layer's stochastic kernel ``G`` expand as
``kappa_m(G) = sum_k S(m, k) / n^k``; :func:`finite_width_predictions` compiles the diagram recursion
of every ``S(m, k)`` with ``k <= order`` and sums the series at ``1/n``: the mean ``<z^2>``, the
variance of ``G`` and the single-neuron excess kurtosis ``(<z^4> - 3<z^2>^2)/<z^2>^2 = 3 Var(G)/<z^2>^2``,
each truncated at ``1/n^order``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nntheory._checks import check_int, check_real

__all__ = ["FiniteWidthPredictions", "finite_width_predictions"]

#: the diagram enumeration grows quickly: orders above this are refused
MAX_PREDICTION_ORDER = 4


@dataclass(frozen=True)
class FiniteWidthPredictions:
    """Per-layer statistics ``S(m, k)`` (``statistics[name][l]``) and predictions at width ``width``.

    ``predictions[l]`` maps ``mean``, ``var_G`` and ``kurtosis`` to one value per input (the diagonal).
    """

    names: tuple[str, ...]
    statistics: dict
    predictions: list
    order: int
    width: float


def _series_ratio(num: np.ndarray, den: np.ndarray, order: int) -> np.ndarray:
    """Coefficients of ``num(e) / den(e)^2`` to ``e^order`` (power series; ``den[0] != 0``)."""
    d2 = np.convolve(den, den)[: order + 1]
    out = np.zeros(order + 1)
    for k in range(order + 1):
        out[k] = (num[k] - sum(out[j] * d2[k - j] for j in range(k))) / d2[0]
    return out


def _layer_predictions(out: dict, l: int, m: int, order: int, eps: float) -> dict:
    from nntheory.diagrams import statistic_name

    pred = {"mean": [], "var_G": [], "kurtosis": []}
    powers = eps ** np.arange(order + 1)
    for a in range(m):
        mean = np.array([out[statistic_name(1, j)][l][a, a] for j in range(order + 1)])
        var = np.array([0.0] + [out[statistic_name(2, j)][l][(a,) * 4] for j in range(1, order + 1)])
        kurt = 3 * _series_ratio(var, mean, order)
        pred["mean"].append(float(mean @ powers))
        pred["var_G"].append(float(var @ powers))
        pred["kurtosis"].append(float(kurt @ powers))
    return pred


def finite_width_predictions(act, gram, *, order: int, width: float, depth: int, C_W: float,
                             C_b: float) -> FiniteWidthPredictions:
    """Every kernel cumulant to ``1/n^order`` from the Feynman diagrams, and the predictions at ``width``.

    Args:
        act: the activation (:class:`~nntheory.theory.Activation`).
        gram: the ``(m, m)`` input Gram matrix ``x_a.x_b/n_0``.
        order: the finite-width order ``k`` (0 to 4).
        width: the hidden width ``n`` (equal widths).
        depth: the number of layers ``L >= 1``.
        C_W, C_b: weight and bias variances.
    Returns:
        A :class:`FiniteWidthPredictions` with arrays of shape ``(depth, ...)`` per statistic.
    Raises:
        SpecError: for an order, width or depth out of range.
    """
    from nntheory.diagrams import diagram_recursion
    from nntheory.numerics._compile import require_float64
    from nntheory.numerics.finite_width._recursions import compile_recursion

    order = check_int(order, "order", lo=0, hi=MAX_PREDICTION_ORDER, where="finite_width_predictions")
    depth = check_int(depth, "depth", lo=1, where="finite_width_predictions")
    width = check_real(width, "width", lo=0, lo_open=True, where="finite_width_predictions")
    require_float64("finite_width_predictions")
    G = np.asarray(gram, dtype=np.float64)
    m = G.shape[0]
    rec = diagram_recursion(act, order, m)
    out = {k: np.asarray(v) for k, v in compile_recursion(rec)(G, depth=depth, C_W=C_W, C_b=C_b).items()}
    stats = {s.name: out[s.name] for s in rec.statistics}
    preds = [_layer_predictions(out, l, m, order, 1.0 / width) for l in range(depth)]
    return FiniteWidthPredictions(tuple(rec.names), stats, preds, order, width)
