r"""Estimators with standard errors from per-network summaries, and width-sweep extrapolation.

Networks are independent, so per-network summaries are the batch means; products of ensemble means
are replaced by U-statistics over distinct networks (unbiased), and their standard errors come from
the delete-one jackknife over networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nntheory.errors import StatisticError

from nntheory.validation.finite_width._ensembles import EnsembleSummaries

__all__ = ["Estimate", "estimate_statistics", "fit_intercept", "jackknife", "k3_jackknife"]


@dataclass(frozen=True)
class Estimate:
    """A value and its standard error (arrays of one shape)."""

    value: np.ndarray
    stderr: np.ndarray


def _mean_se(x: np.ndarray) -> Estimate:
    N = x.shape[0]
    return Estimate(x.mean(0), x.std(0, ddof=1) / np.sqrt(N))


def jackknife(stat, *arrays: np.ndarray, bias_correct: bool = True, vectorized: bool = False) -> Estimate:
    """Delete-one jackknife of ``stat(*sums_over_networks, N)``, computed from totals in O(N).

    The one jackknife of the validation stage: every leave-one-out standard error (ensemble statistics,
    k-statistics, distances of trained ensembles) comes from here.

    Args:
        stat: ``stat(*totals, n)``: the statistic from the sums over ``n`` networks of each array.
        *arrays: per-network values, leading axis = network (``N >= 2``).
        bias_correct: return the bias-corrected ``N stat - (N - 1) mean(stat_loo)`` (default) or the plain
            full-sample ``stat``.
        vectorized: ``stat`` broadcasts over a leading axis, so all ``N`` leave-one-out values come from one call.

    Returns:
        :class:`Estimate` with the (bias-corrected) value and the jackknife standard error.
    """
    N = arrays[0].shape[0]
    totals = [a.sum(0) for a in arrays]
    full = stat(*totals, N)
    if vectorized:
        loo = stat(*[t - a for t, a in zip(totals, arrays)], N - 1)
    else:
        loo = np.stack([stat(*[t - a[s] for t, a in zip(totals, arrays)], N - 1) for s in range(N)])
    value = N * full - (N - 1) * loo.mean(0) if bias_correct else full
    se = np.sqrt((N - 1) / N * ((loo - loo.mean(0)) ** 2).sum(0))
    return Estimate(value, se)


def k3_jackknife(x: np.ndarray) -> tuple[float, float]:
    """Unbiased third cumulant (k-statistic) of ``x``, bias-corrected by the jackknife, and its standard error.

    Args:
        x: one value per network, shape ``(N,)``, ``N >= 4``.

    Returns:
        ``(k3, stderr)`` as floats.
    """
    x = np.asarray(x, float)
    d = x - x.mean()  # k-statistics are shift invariant; centring keeps the sums well conditioned

    def k3(t1, t2, t3, n):
        return (n * n * t3 - 3 * n * t2 * t1 + 2 * t1**3) / (n * (n - 1) * (n - 2))

    est = jackknife(k3, d, d**2, d**3, vectorized=True)
    return float(est.value), float(est.stderr)


def _cov_cross(sum_c, sum_m, sum_mm, N):
    # E[A_p A_q]_{i != j} - E[A_p] E[A_q], the latter by the U-statistic over distinct networks
    prod = (np.einsum("...p,...q->...pq", sum_m, sum_m) - sum_mm) / (N * (N - 1))
    return sum_c / N - prod


def estimate_statistics(ens: EnsembleSummaries) -> dict[str, Estimate]:
    """``K_mc`` (= K + K1/n + ...), ``V``, ``Theta`` and single-neuron ``kurtosis`` per layer.

    ``V`` has shape ``(L, m, m, m, m)`` and is normalised by ``n_{l-1}`` (``n_0`` = input dimension); it is
    left out when the ensemble was sampled without four-point summaries (``four_point=False``).

    Args:
        ens: the per-network summaries of an ensemble (from :func:`sample_ensemble`).

    Returns:
        A dict of :class:`Estimate` (value and jackknife or sample standard error, of one shape), for ``L``
        layers and ``m`` inputs: ``"K_mc"`` and ``"Theta"`` of shape ``(L, m, m)``, ``"V"`` of shape
        ``(L, m, m, m, m)`` and ``"kurtosis"`` of shape ``(L, m)`` (the excess kurtosis ``E z^4 / (E z^2)^2 - 3``).
    """
    diag = np.arange(ens.S2.shape[-1])
    z2 = ens.S2[:, :, diag, diag]

    def kurt(s4, s2, s22, N):
        mean2 = s2 / N
        var_mean = (s22 / N - mean2**2) / (N - 1)  # unbiased square of the mean: (mean)^2 - Var(mean)
        sq = mean2**2 - var_mean
        return (s4 / N - 3 * sq) / sq

    out = {"K_mc": _mean_se(ens.S2)}
    if ens.C4 is not None:
        out["V"] = _vertex(ens)
    out.update(Theta=_mean_se(ens.NTK), kurtosis=jackknife(kurt, ens.M4, z2, z2**2))
    return out


def _vertex(ens: EnsembleSummaries) -> Estimate:
    """``V`` per layer from the cross-neuron four-point summaries (U-statistic covariance, jackknife errors)."""
    spec = ens.spec
    L, m = spec.depth, ens.S2.shape[-1]
    pa = np.array([p[0] for p in ens.pairs])
    pb = np.array([p[1] for p in ens.pairs])
    Mp = ens.S2[:, :, pa, pb]  # (N, L, P)
    MM = np.einsum("slp,slq->slpq", Mp, Mp)
    cov = jackknife(_cov_cross, ens.C4, Mp, MM)
    n_prev = np.array([ens.inputs.shape[1]] + [spec.width] * (L - 1), dtype=float)
    pidx = {p: i for i, p in enumerate(ens.pairs)}
    V = np.zeros((L, m, m, m, m))
    Vse = np.zeros_like(V)
    for a in range(m):
        for b in range(m):
            for c in range(m):
                for d in range(m):
                    p, q = pidx[tuple(sorted((a, b)))], pidx[tuple(sorted((c, d)))]
                    V[:, a, b, c, d] = n_prev * cov.value[:, p, q]
                    Vse[:, a, b, c, d] = n_prev * cov.stderr[:, p, q]
    return Estimate(V, Vse)


def fit_intercept(x: np.ndarray, y: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares ``y = b0 + b1 x`` along axis 0; returns ``(b0, se(b0), chi2)``.

    Args:
        x: the abscissae (e.g. ``1/width``), axis 0 = points; broadcast against ``y``.
        y: the values.
        se: the standard errors of ``y`` (weights ``1/se^2``).

    Returns:
        ``(b0, se(b0), chi2)``: arrays of the shape of ``y[0]``: the intercept, its standard error and
        the chi-squared of the fit.

    Raises:
        StatisticError: a standard error that is not positive and finite (a zero one would be an infinite weight).
    """
    se = np.asarray(se, dtype=float)
    if not np.all(np.isfinite(se) & (se > 0)):
        raise StatisticError("fit_intercept: se: every standard error must be positive and finite (a zero standard error "
                             "means too few networks or a deterministic statistic; handle it before the fit).")
    w = 1.0 / se**2
    Sw, Sx, Sxx = w.sum(0), (w * x).sum(0), (w * x * x).sum(0)
    Sy, Sxy = (w * y).sum(0), (w * x * y).sum(0)
    det = Sw * Sxx - Sx**2
    b0 = (Sxx * Sy - Sx * Sxy) / det
    b1 = (Sw * Sxy - Sx * Sy) / det
    var_b0 = Sxx / det
    chi2 = (w * (y - b0 - b1 * x) ** 2).sum(0)
    return b0, np.sqrt(var_b0), chi2
