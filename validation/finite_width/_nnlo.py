r"""Order-1/n^2 statistics from the diagrams vs Monte Carlo ensembles: the NNLO kernel correction
``K2`` and the six-point vertex ``U6`` of one input.

Per network we record the stochastic kernel :math:`\hat G` of the last layer (the exact
conditional variance of its preactivations, ``EnsembleSummaries.G``). Over networks,
:math:`E\hat G = K + K1/n + K2/n^2 + O(n^{-3})` and :math:`\kappa_3(\hat G) = U6/n^2 + O(n^{-3})`.
At each width we estimate the mean and the unbiased third k-statistic with delete-one jackknife
standard errors. The mean ``K2/n^2`` is a small signal under noise of order ``sqrt(V/n)``, so it is
estimated at ``depth = 3`` with two exact variance reductions: the last layer's sampling is
integrated out, :math:`E[\hat G^{(3)} \mid \hat G^{(2)}] = C_b + C_W\langle\sigma^2\rangle_{\hat G^{(2)}}`
(Gauss–Hermite quadrature, 96 nodes, per network), and :math:`\hat G^{(2)}`, whose mean is known
exactly (layer 1 is deterministic), is a control variate with its coefficient fitted by
regression (bias O(1/N)). Then we form :math:`y_K = n^2(\bar G - K - K1/n)` and :math:`y_U = n^2 k_3`, and fit
``y = b0 + b1/n`` by weighted least squares over the width sweep; the intercept ``b0`` estimates
``K2`` (resp. ``U6``) with a standard error from the fit, and ``b1`` absorbs the next order.

Two samplers give the same joint law of :math:`(\hat G^{(2)}, \hat G^{(3)})`. ``sampler="networks"`` draws real
networks (:func:`sample_ensemble`). ``sampler="conditional"`` uses the exact identity behind the stochastic
kernel: for one input, given layer :math:`l` the preactivations :math:`z^{(l+1)}_i = \sum_j W_{ij}\sigma(z^{(l)}_j)
+ b_i` are independent :math:`N(0, \hat G^{(l+1)})` with :math:`\hat G^{(l+1)} = C_b + (C_W/n)\sum_j
\sigma(z^{(l)}_j)^2` (Gaussian weights and biases), so each layer costs :math:`n` draws instead of an
:math:`n\times n` matrix: the same statistics at the same number of networks, hundreds of times faster.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from nntheory.errors import SpecError
from nntheory.theory import Activation
from nntheory.validation.finite_width._ensembles import EnsembleSpec, sample_ensemble
from nntheory.validation._estimators import fit_intercept, k3_jackknife

__all__ = ["NNLOCheck", "conditional_kernels", "k3_jackknife", "validate_nnlo"]


@dataclass(frozen=True)
class NNLOCheck:
    """One fitted statistic: theory value, fit intercept and its standard error, z-score."""

    activation: str
    statistic: str
    theory: float
    fit: float
    stderr: float
    chi2: float
    widths: tuple[int, ...]
    y: tuple[float, ...]
    y_se: tuple[float, ...]

    @property
    def z(self) -> float:
        """``(fit - theory) / stderr``."""
        return (self.fit - self.theory) / self.stderr


def _gauss_mean_sq(act: Activation, var: np.ndarray, nodes: int = 96) -> np.ndarray:
    """<sigma(z)^2> for z ~ N(0, var), per entry of ``var``, by Gauss–Hermite quadrature."""
    from nntheory.validation._networks import activation_fns

    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    sig = activation_fns(act)[0]
    vals = np.asarray(sig(np.sqrt(np.asarray(var, float))[:, None] * x[None, :]))
    return (vals**2) @ w


def conditional_kernels(act: Activation, *, C_W: float, C_b: float, width: int, n_nets: int, x2: float, key: jax.Array,
                        chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    r"""``(G2, G3)``: the stochastic kernels of layers 2 and 3 of ``n_nets`` networks of one input, drawn layer by
    layer from the exact conditional law (module docstring) instead of from weight matrices.

    Args:
        act: the activation.
        C_W, C_b: initialisation variances (PDLT).
        width: the width ``n`` of layers 1 and 2.
        n_nets: the number of networks.
        x2: ``|x|^2 / n_0`` of the input (layer 1 is deterministic: :math:`G^{(1)} = C_b + C_W x_2`).
        key: JAX random key.
        chunk: networks per batch (memory: about ``16 * chunk * width`` bytes).

    Returns:
        Two float64 arrays of shape ``(n_nets,)``.
    """
    import jax.numpy as jnp

    from nntheory.validation._networks import activation_fns

    sig = activation_fns(act)[0]

    @jax.jit
    def batch(k):
        k1, k2 = jax.random.split(k)
        z1 = jnp.sqrt(C_b + C_W * x2) * jax.random.normal(k1, (chunk, width), jnp.float64)
        G2 = C_b + C_W * jnp.mean(sig(z1) ** 2, axis=1)
        z2 = jnp.sqrt(G2)[:, None] * jax.random.normal(k2, (chunk, width), jnp.float64)
        return G2, C_b + C_W * jnp.mean(sig(z2) ** 2, axis=1)

    out = [batch(jax.random.fold_in(key, i)) for i in range(-(-n_nets // chunk))]
    return tuple(np.concatenate([np.asarray(o[j]) for o in out])[:n_nets] for j in range(2))


def validate_nnlo(act: Activation, *, C_W: float, C_b: float, depth: int, widths, n_nets: int, x2: float = 1.0,
                  seed: int = 0, chunk: int = 8192, progress: bool = False, sampler: str = "networks") -> list[NNLOCheck]:
    """``K2`` and ``U6`` at layer ``depth`` (one input, ``|x|^2/n_0 = x2``): theory from
    :func:`nntheory.diagrams.diagram_recursion` (order 2) vs the width-sweep fit (see module doc).

    Args:
        act: the activation.
        C_W, C_b: initialisation variances (PDLT).
        depth: PDLT number of layers; must be 3.
        widths: at least three widths >= 3.
        n_nets: networks per width.
        x2: ``|x|^2 / n_0`` of the one input.
        seed: seed of the JAX key (width ``i`` uses ``fold_in(key, i)``).
        chunk, progress: as in :func:`sample_ensemble`.
        sampler: ``"networks"`` (real networks) or ``"conditional"`` (the exact layer-by-layer law of the
            stochastic kernels, :func:`conditional_kernels`; same statistics, far faster; module docstring).

    Returns:
        Two :class:`NNLOCheck`, for ``K2`` and ``U6``.

    Raises:
        SpecError: ``depth != 3``, too few / too small widths, an unknown sampler, or a standard error that is zero
            (too few networks).
    """
    from nntheory.diagrams import diagram_recursion
    from nntheory.numerics import compile_recursion

    if sampler not in ("networks", "conditional"):
        raise SpecError(f"validate_nnlo: sampler must be 'networks' or 'conditional', got {sampler!r}.")
    if depth != 3:
        raise SpecError(f"validate_nnlo: depth must be 3 (the variance-reduced K2 estimator needs an exactly known E[G^(2)]), got {depth}.")
    widths = tuple(int(w) for w in widths)
    if len(widths) < 3 or min(widths) < 3:
        raise SpecError(f"validate_nnlo: at least 3 widths >= 3 are needed for the fit, got {widths}.")
    theo = compile_recursion(diagram_recursion(act, 2))(np.array([[x2]]), depth=depth, C_W=C_W, C_b=C_b)
    t = {k: float(np.asarray(v)[depth - 1].reshape(-1)[0]) for k, v in theo.items()}
    n0 = 4
    X = np.full((1, n0), np.sqrt(x2))
    yK, seK, yU, seU = [], [], [], []
    key = jax.random.PRNGKey(seed)
    mu2 = C_b + C_W * _gauss_mean_sq(act, np.array([C_b + C_W * x2]))[0]  # E[G^(2)], exact: layer 1 is deterministic
    for i, n in enumerate(widths):
        if sampler == "conditional":
            G2, G = conditional_kernels(act, C_W=C_W, C_b=C_b, width=n, n_nets=n_nets, x2=x2, key=jax.random.fold_in(key, i),
                                        chunk=min(chunk, n_nets))
        else:
            spec = EnsembleSpec(act, depth, n, C_W, C_b, ntk_neurons=0)
            ens = sample_ensemble(spec, X, key=jax.random.fold_in(key, i), n_nets=n_nets, chunk=chunk, progress=progress)
            G, G2 = ens.G[:, depth - 1, 0, 0], ens.G[:, 1, 0, 0]
        h = C_b + C_W * _gauss_mean_sq(act, G2)  # E[G^(3) | G^(2)]
        c = np.cov(h, G2)
        beta = c[0, 1] / c[1, 1]
        est = h - beta * (G2 - mu2)
        mean, mse = est.mean(), est.std(ddof=1) / np.sqrt(len(est))
        k3, k3se = k3_jackknife(G)
        yK.append(n * n * (mean - t["K"] - t["K1"] / n))
        seK.append(n * n * mse)
        yU.append(n * n * k3)
        seU.append(n * n * k3se)
    inv = 1.0 / np.array(widths, float)
    out = []
    for name, y, se in (("K2", yK, seK), ("U6", yU, seU)):
        if min(se) <= 0 or not np.all(np.isfinite(se)):
            raise SpecError(f"validate_nnlo: the standard error of {name} is zero (or not finite) at widths "
                            f"{[w for w, e in zip(widths, se) if not e > 0]}: SE is zero: too few networks ({n_nets}).")
        b0, b0se, chi2 = fit_intercept(inv, np.array(y), np.array(se))
        out.append(NNLOCheck(act.name, name, t[name], float(b0), float(b0se), float(chi2), widths,
                             tuple(map(float, y)), tuple(map(float, se))))
    return out
