r"""NTK predictions of training: the ensemble mean and covariance of wide networks trained on MSE.

For a network in the NTK regime trained by gradient flow on
:math:`\mathcal L = \tfrac{1}{2\,\mathrm{size}(Y)}\sum_i \lVert f(x_i) - y_i\rVert^2` (``normalization="mean"``,
neural-tangents' ``gradient_descent_mse`` convention) or :math:`\tfrac12\sum_i\lVert f(x_i)-y_i\rVert^2`
(``"sum"``) with learning rate :math:`\eta`, write :math:`\Theta` for the training-set NTK,
:math:`\eta' = \eta/\mathrm{size}(Y)` (or :math:`\eta`) and
:math:`T_t = \Theta^{-1}(1 - e^{-\eta'\Theta t})` (gradient flow) or :math:`\Theta^{-1}(1 - (1 - \eta'\Theta)^t)`
(``method="gd"``, ``t`` steps). Over initialisations (:math:`f_0 \sim \mathrm{GP}(0, K)`), Lee et al.
(2019) eq. (16):

.. math::
    \mu_t(x) = \Theta_{xX} T_t Y, \qquad
    \Sigma_t(x, x') = K_{xx'} + \Theta_{xX} T_t K_{XX} T_t \Theta_{Xx'}
        - \Theta_{xX} T_t K_{Xx'} - K_{xX} T_t \Theta_{Xx'}.

Everything is evaluated in the eigenbasis of :math:`\Theta` (one ``eigh``); :math:`(1-e^{-a})/\lambda` is
computed with ``expm1`` so that small eigenvalues are accurate, and its limit :math:`\eta' t` at
:math:`\lambda = 0`. At :math:`t = \infty` the kernel must be positive definite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nntheory.errors import KernelError, SpecError

__all__ = ["NTKPrediction", "kernel_regression", "ntk_predict"]


@dataclass(frozen=True)
class NTKPrediction:
    """Mean ``(T, N_test, k)`` and, if the NNGP kernels were given, covariance ``(T, N_test, N_test)``."""

    t: np.ndarray
    mean: np.ndarray
    cov: np.ndarray | None = None


def _eig(ntk_train_train, name="ntk_train_train"):
    A = np.asarray(ntk_train_train, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise KernelError(f"{name} must be a square (N, N) matrix, got shape {A.shape}.")
    if not np.all(np.isfinite(A)):
        raise KernelError(f"{name} contains NaN or infinite entries.")
    scale = max(np.max(np.abs(A)), 1e-300)
    if np.max(np.abs(A - A.T)) > 1e-10 * scale:
        raise KernelError(f"{name} is not symmetric (max |A - A^T| = {np.max(np.abs(A - A.T)):.3g}).")
    lam, U = np.linalg.eigh((A + A.T) / 2)
    tol = A.shape[0] * np.finfo(np.float64).eps * scale
    if lam[0] < -tol:
        raise KernelError(
            f"{name} is not positive semi-definite: smallest eigenvalue {lam[0]:.3g} "
            f"(tolerance {tol:.2g}); a kernel matrix of valid inputs cannot have one."
        )
    return np.clip(lam, 0.0, None), U, tol


def _filter(lam, t, rate, method, tol):
    """(1 - e^{-rate lam t}) / lam, or the gradient-descent version, elementwise; shape (T, N)."""
    t = np.asarray(t, dtype=np.float64)[:, None]
    lam = lam[None, :]
    if method == "flow":
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            a = rate * lam * t
            out = np.where(lam > tol, -np.expm1(-a) / np.where(lam > tol, lam, 1.0), rate * t)
        if np.any(np.isinf(t)):
            small = lam[0] <= tol
            if np.any(small):
                raise KernelError(
                    "ntk_predict: at t = inf the training NTK must be positive definite; "
                    f"{int(np.sum(small))} eigenvalue(s) are 0 to round-off (duplicate inputs?). Use a finite t or diag_reg > 0."
                )
            out = np.where(np.isinf(t), 1.0 / lam, out)
        return out
    step = 1.0 - rate * lam
    if np.any(np.abs(step) >= 1.0) and np.any(lam > tol):
        bad = float(np.max(lam)) * rate
        if bad >= 2.0:
            raise SpecError(f"ntk_predict: learning_rate too large for gradient descent: eta' * lambda_max = {bad:.3g} >= 2 diverges.")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # 1 - (1 - a)^t: by expm1/log1p while 1 - a > 0 (accurate for small a), by the power otherwise
        one_minus = np.where(step > 0, -np.expm1(t * np.log1p(-np.minimum(rate * lam, 0.5))), 1.0 - np.power(step, t))
        one_minus = np.where(step > 0.5, one_minus, 1.0 - np.power(step, t))
        out = np.where(lam > tol, one_minus / np.where(lam > tol, lam, 1.0), rate * t)
    return out


def _check_options(t, learning_rate, method: str, normalization: str):
    """The checked ``(learning_rate, times)`` of :func:`ntk_predict`."""
    if method not in ("flow", "gd"):
        raise SpecError(f"ntk_predict: method must be 'flow' or 'gd', got {method!r}.")
    if normalization not in ("mean", "sum"):
        raise SpecError(f"ntk_predict: normalization must be 'mean' or 'sum', got {normalization!r}.")
    lr = float(learning_rate)
    if not np.isfinite(lr) or lr <= 0:
        raise SpecError(f"ntk_predict: learning_rate must be > 0 and finite, got {learning_rate!r}.")
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if ts.ndim != 1 or np.any(ts < 0) or np.any(np.isnan(ts)):
        raise SpecError(f"ntk_predict: t must be times >= 0, got {t!r}.")
    if method == "gd" and np.any(np.isinf(ts)):
        raise SpecError("ntk_predict: t = inf is only defined for method='flow'.")
    return lr, ts


def _covariance(nngp_train_train, nngp_test_train, nngp_test_test, U, BU, F):
    """The covariance ``(T, M, M)`` over initialisations (``None`` without NNGP kernels); see the module docstring."""
    given = [k is not None for k in (nngp_train_train, nngp_test_train, nngp_test_test)]
    if not any(given):
        return None
    if not all(given):
        raise SpecError("ntk_predict: give all of nngp_train_train, nngp_test_train and nngp_test_test for the covariance.")
    Kxx = np.asarray(nngp_train_train, dtype=np.float64)
    Ktx = np.asarray(nngp_test_train, dtype=np.float64)
    Ktt = np.asarray(nngp_test_test, dtype=np.float64)
    KU = U.T @ Kxx @ U
    KtU = Ktx @ U
    P = BU[None] * F[:, None, :]  # (T, M, N): Theta_xX T_t in the eigenbasis
    cov = Ktt[None] + np.einsum("tmi,ij,tnj->tmn", P, KU, P) - np.einsum("tmi,ni->tmn", P, KtU)
    return cov - np.swapaxes(np.einsum("tmi,ni->tmn", P, KtU), 1, 2)


def ntk_predict(
    ntk_train_train,
    ntk_test_train,
    y_train,
    t,
    *,
    learning_rate: float = 1.0,
    nngp_train_train=None,
    nngp_test_train=None,
    nngp_test_test=None,
    method: str = "flow",
    normalization: str = "mean",
    diag_reg: float = 0.0,
) -> NTKPrediction:
    """Ensemble mean (and covariance) of NTK-regime training at times ``t`` (see the module docstring).

    Args:
        ntk_train_train: ``(N, N)`` NTK on the training inputs.
        ntk_test_train: ``(M, N)`` NTK between test and training inputs.
        y_train: ``(N,)`` or ``(N, k)`` targets.
        t: a time or a sequence of times (``inf`` allowed for ``method="flow"``); for ``"gd"`` step counts.
        nngp_*: the NNGP kernels; give all three for the covariance.
        learning_rate: :math:`\\eta`; with ``normalization="mean"`` (the default) the loss is divided by
            ``size(Y)``, so the per-sample rate is :math:`\\eta/\\mathrm{size}(Y)`; ``"sum"`` uses :math:`\\eta` itself.
        method: ``"flow"`` (gradient flow) or ``"gd"`` (``t`` discrete steps).
        diag_reg: added to the diagonal of the training NTK (times its mean diagonal).

    Returns:
        :class:`NTKPrediction` with ``mean (T, M[, k])`` and ``cov (T, M, M)`` (``None`` without NNGP kernels).

    Raises:
        SpecError: bad options or a learning rate for which gradient descent diverges.
        KernelError: kernels of the wrong shape, not symmetric PSD, or singular at ``t = inf``.
    """
    lr, ts = _check_options(t, learning_rate, method, normalization)
    Y = np.asarray(y_train, dtype=np.float64)
    vector = Y.ndim == 1
    Y = Y[:, None] if vector else Y
    A = np.asarray(ntk_train_train, dtype=np.float64)
    if diag_reg:
        A = A + float(diag_reg) * np.mean(np.diag(A)) * np.eye(A.shape[0])
    lam, U, tol = _eig(A)
    B = np.asarray(ntk_test_train, dtype=np.float64)
    if B.ndim != 2 or B.shape[1] != A.shape[0]:
        raise KernelError(f"ntk_predict: ntk_test_train must have shape (M, {A.shape[0]}), got {B.shape}.")
    if Y.shape[0] != A.shape[0]:
        raise KernelError(f"ntk_predict: y_train has {Y.shape[0]} rows but the training NTK is {A.shape[0]} x {A.shape[0]}.")
    rate = lr / Y.size if normalization == "mean" else lr
    F = _filter(lam, ts, rate, method, tol)  # (T, N)
    BU = B @ U
    UY = U.T @ Y
    mean = np.einsum("mi,ti,ik->tmk", BU, F, UY)
    cov = _covariance(nngp_train_train, nngp_test_train, nngp_test_test, U, BU, F)
    if vector:
        mean = mean[..., 0]
    return NTKPrediction(ts, mean, cov)


def kernel_regression(k_train_train, k_test_train, y_train, *, diag_reg: float = 0.0):
    """The ``t = inf`` prediction ``k_test_train k_train_train^{-1} y_train`` (positive definite kernel).

    Returns:
        The ``(M,)`` or ``(M, k)`` array of predictions at the ``M`` test inputs (the shape of ``y_train``'s rows).
    """
    return ntk_predict(k_train_train, k_test_train, y_train, np.inf, diag_reg=diag_reg).mean[0]

