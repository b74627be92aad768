r"""Estimators with standard errors from per-network summaries, and width-sweep extrapolation.

Networks are independent, so per-network summaries are the batch means; products of ensemble means
are replaced by U-statistics over distinct networks (unbiased), and their standard errors come from
the delete-one jackknife over networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nntheory.validation.finite_width._ensembles import EnsembleSummaries

__all__ = ["Estimate", "estimate_statistics", "fit_intercept", "jackknife"]


@dataclass(frozen=True)
class Estimate:
    value: np.ndarray
    stderr: np.ndarray


def _mean_se(x: np.ndarray) -> Estimate:
    N = x.shape[0]
    return Estimate(x.mean(0), x.std(0, ddof=1) / np.sqrt(N))


def jackknife(stat, *arrays: np.ndarray) -> Estimate:
    """Delete-one jackknife of ``stat(*sums_over_networks, N)``, computed from totals in O(N)."""
    N = arrays[0].shape[0]
    totals = [a.sum(0) for a in arrays]
    full = stat(*totals, N)
    loo = np.stack([stat(*[t - a[s] for t, a in zip(totals, arrays)], N - 1) for s in range(N)])
    bias_corrected = N * full - (N - 1) * loo.mean(0)
    se = np.sqrt((N - 1) / N * ((loo - loo.mean(0)) ** 2).sum(0))
    return Estimate(bias_corrected, se)


def _cov_cross(sum_c, sum_m, sum_mm, N):
    # E[A_p A_q]_{i != j} - E[A_p] E[A_q], the latter by the U-statistic over distinct networks
    prod = (np.einsum("...p,...q->...pq", sum_m, sum_m) - sum_mm) / (N * (N - 1))
    return sum_c / N - prod


def estimate_statistics(ens: EnsembleSummaries) -> dict[str, Estimate]:
    """``K_mc`` (= K + K1/n + ...), ``V``, ``Theta`` and single-neuron ``kurtosis`` per layer.

    ``V`` has shape ``(L, m, m, m, m)`` and is normalised by ``n_{l-1}`` (``n_0`` = input dimension).
    """
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
    diag = np.arange(m)
    z2 = ens.S2[:, :, diag, diag]

    def kurt(s4, s2, s22, N):
        mean2 = s2 / N
        var_mean = (s22 / N - mean2**2) / (N - 1)  # unbiased square of the mean: (mean)^2 - Var(mean)
        sq = mean2**2 - var_mean
        return (s4 / N - 3 * sq) / sq

    return {
        "K_mc": _mean_se(ens.S2),
        "V": Estimate(V, Vse),
        "Theta": _mean_se(ens.NTK),
        "kurtosis": jackknife(kurt, ens.M4, z2, z2**2),
    }


def fit_intercept(x: np.ndarray, y: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares ``y = b0 + b1 x`` along axis 0; returns ``(b0, se(b0), chi2)``."""
    w = 1.0 / np.maximum(se, 1e-300) ** 2
    Sw, Sx, Sxx = w.sum(0), (w * x).sum(0), (w * x * x).sum(0)
    Sy, Sxy = (w * y).sum(0), (w * x * y).sum(0)
    det = Sw * Sxx - Sx**2
    b0 = (Sxx * Sy - Sx * Sxy) / det
    b1 = (Sw * Sxy - Sx * Sy) / det
    var_b0 = Sxx / det
    chi2 = (w * (y - b0 - b1 * x) ** 2).sum(0)
    return b0, np.sqrt(var_b0), chi2
