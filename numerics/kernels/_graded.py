r"""MLP kernels of quadrature activations (tanh, GELU, SiLU, ...): layer by layer, chunked over input pairs.

Each layer needs :math:`\langle\sigma_a\sigma_b\rangle` and :math:`\langle\sigma'_a\sigma'_b\rangle` for every
pair, at :math:`(K_{aa}, \rho_{ab}, K_{bb})`. They are integrated with the graded two-dimensional rule of
:mod:`nntheory.numerics._quadrature` (:func:`~nntheory.numerics._quadrature.smooth_lines_2d`) in the
correlation :math:`\rho` (so nearly identical inputs keep their accuracy), with the numbers of nodes
chosen per layer from the largest variance of that layer (:func:`~nntheory.numerics._quadrature.sinh_steps`:
about 40 x 90 nodes at :math:`K \le 3`, 232 x 432 at :math:`K = 10^{12}`), and :math:`\sigma(z_1)` evaluated
on the outer line only. Pairs are processed in chunks whose quadrature arrays take at most
:data:`CHUNK_BYTES`, so memory is bounded at any number of inputs.

Accuracy: 1e-12 relative to :math:`\sqrt{\langle\sigma^2\rangle_{K_{aa}}\langle\sigma^2\rangle_{K_{bb}}}` per
expectation for variances in [1e-30, 1e12] and every correlation (measured against the arcsine closed form
of erf and Gaussian conditioning of GELU in ``tests/kernels/test_kernels.py``); a layer whose variances
leave that range is refused with an error that names the layer. For nearly parallel inputs at large kernels
(:math:`K(1-\rho) \lesssim 1`) the expectations are ill-conditioned in the rounded Gram matrix itself
(one ulp of :math:`\rho` moves :math:`\langle\sigma'\sigma'\rangle` by up to :math:`K\epsilon`): the
results are then exact for a Gram matrix within a few ulps of the given one (backward error).
"""

from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from nntheory.errors import KernelError
from nntheory.numerics._compile import activation_callables
from nntheory.numerics._quadrature import K_MAX, K_MIN, sinh_line, sinh_steps, smooth_lines_2d

__all__ = ["CHUNK_BYTES", "MAX_RESULT_BYTES", "graded_kernels"]

#: the most memory the quadrature arrays of one chunk of pairs may take
CHUNK_BYTES = 256 * 1024**2
#: the most memory the results and the per-pair state (about 7 arrays of N1 x N2 doubles) may take
MAX_RESULT_BYTES = 4 * 1024**3
#: arrays of (n1 + 1)(n2 + 1) doubles alive at once per pair (nodes, weights, sigma, sigma', products)
_LIVE = 6
_EPS = np.finfo(np.float64).eps


def check_result_size(n1: int, n2: int) -> None:
    """Refuse ``N1 x N2`` kernels whose results and state exceed :data:`MAX_RESULT_BYTES`.

    Args:
        n1, n2: the numbers of inputs.

    Returns:
        None.

    Raises:
        KernelError: with the estimate and how to split the job.
    """
    need = 7 * 8 * n1 * n2
    if need > MAX_RESULT_BYTES:
        raise KernelError(
            f"MLPKernel: {n1} x {n2} inputs need about {need / 1024**3:.1f} GiB for the kernels and their state "
            f"(limit {MAX_RESULT_BYTES / 1024**3:.0f} GiB); call it on blocks of rows, k(x1[i:j], x2), and "
            "assemble the blocks."
        )


def pair_chunk(n1: int, n2: int) -> int:
    """Pairs per chunk such that the quadrature arrays take at most :data:`CHUNK_BYTES`.

    Raises:
        KernelError: if not even one pair fits (never for the rule's largest orders, 232 x 432).
    """
    per_pair = _LIVE * 8 * (n1 + 1) * (n2 + 1)
    if per_pair > CHUNK_BYTES:
        raise KernelError(
            f"MLPKernel: one input pair needs {per_pair / 1024**2:.0f} MiB of quadrature arrays "
            f"(limit {CHUNK_BYTES / 1024**2:.0f} MiB per chunk); use smaller quadrature orders."
        )
    return int(min(CHUNK_BYTES // per_pair, 1 << 16))


@lru_cache(maxsize=32)
def _pair_fn(act, n1: int, n2: int, centred: bool):
    sig, dsig = activation_callables(act)

    @jax.jit
    def run(k11, rho, k22):
        s22 = jnp.sqrt(k22)
        z1, w1, z2, w2 = smooth_lines_2d(jnp.sqrt(k11), rho * s22, s22 * jnp.sqrt((1 - rho) * (1 + rho)), n1, n2,
                                         centred=centred)
        inner = jnp.sum(w2 * sig(z2), -1), jnp.sum(w2 * dsig(z2), -1)
        return jnp.sum(w1 * sig(z1) * inner[0], -1), jnp.sum(w1 * dsig(z1) * inner[1], -1)

    return run


@lru_cache(maxsize=32)
def _diag_fn(act, n: int):
    sig, dsig = activation_callables(act)

    @jax.jit
    def run(k):
        L = jnp.sqrt(k)
        u, w = sinh_line(jnp.zeros_like(k), 1.0 / jnp.maximum(L, 1.0), n)
        z = L[:, None] * u
        return jnp.sum(w * sig(z) ** 2, -1), jnp.sum(w * dsig(z) ** 2, -1)

    return run


def _correlation(k12, k1, k2):
    r = k12 / (jnp.sqrt(k1) * jnp.sqrt(k2))
    r = jnp.where(jnp.abs(r) >= 1 - 16 * _EPS, jnp.sign(r), r)  # identical inputs reached by different roundings
    return jnp.clip(r, -1.0, 1.0)


def _pairs(act, k12, k1, k2, n1, n2, centred):
    """``(<σσ>, <σ'σ'>)`` for flat arrays of pairs, in padded chunks of one compiled shape."""
    run = _pair_fn(act, n1, n2, centred)
    m = k12.shape[0]
    size = min(pair_chunk(n1, n2), max(m, 1))
    rho = _correlation(k12, k1, k2)
    g, gp = [], []
    for s in range(0, m, size):
        sl = slice(s, s + size)
        pad = size - rho[sl].shape[0]
        args = [jnp.pad(v[sl], (0, pad), constant_values=1.0) for v in (k1, rho, k2)]
        a, b = run(*args)
        g.append(a[: size - pad])
        gp.append(b[: size - pad])
    return jnp.concatenate(g), jnp.concatenate(gp)


def _check_layer(layer: int, *variances) -> None:
    lo = min(float(jnp.min(v)) for v in variances)
    hi = max(float(jnp.max(v)) for v in variances)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < K_MIN or hi > K_MAX:
        raise KernelError(
            f"MLPKernel: the NNGP kernel K at layer {layer} has variances from {lo:.3g} to {hi:.3g}, outside the "
            f"range [{K_MIN:g}, {K_MAX:g}] where Gaussian expectations are computed to their stated accuracy; "
            "use fewer layers, or C_W, C_b and inputs that keep the kernel in range."
        )


def graded_kernels(kern, X12, d1, d2, symmetric: bool):
    """NNGP and NTK of ``kern`` (an :class:`~nntheory.numerics.MLPKernel`) from the input Gram entries.

    Args:
        kern: the kernel specification (activation, depth, hyperparameters).
        X12: ``(N1, N2)`` Gram entries ``x_a.x_b/n_0``.
        d1, d2: the diagonals ``|x_a|^2/n_0`` of both sets.
        symmetric: ``x2`` is ``x1`` (only pairs ``a < b`` are integrated; the diagonal is the single-input
            recursion).

    Returns:
        ``(K, Theta)``, JAX arrays of shape ``(N1, N2)``.

    Raises:
        KernelError: a layer whose variances leave the supported range.
    """
    C_W, C_b, lW, lb = kern.C_W, kern.C_b, kern.lambda_W, kern.lambda_b
    act = kern.activation
    N1, N2 = X12.shape
    if symmetric:
        ia, ib = np.triu_indices(N1, 1)
        x12 = X12[ia, ib]
    else:
        ia, ib = np.divmod(np.arange(N1 * N2), N2)
        x12 = X12.reshape(-1)
    K12, T12 = C_b + C_W * x12, lb + lW * x12
    K1, T1 = C_b + C_W * d1, lb + lW * d1
    K2, T2 = (K1, T1) if symmetric else (C_b + C_W * d2, lb + lW * d2)
    for layer in range(2, kern.depth + 1):
        _check_layer(layer - 1, K1, K2)
        n1, n2, centred = sinh_steps(max(float(jnp.max(K1)), float(jnp.max(K2))))
        diag = _diag_fn(act, n1)
        g12, gp12 = _pairs(act, K12, K1[ia], K2[ib], n1, n2, centred)
        g1, gp1 = diag(K1)
        g2, gp2 = (g1, gp1) if symmetric else diag(K2)
        K12, T12 = C_b + C_W * g12, lb + lW * g12 + C_W * gp12 * T12
        K1, T1, K2, T2 = C_b + C_W * g1, lb + lW * g1 + C_W * gp1 * T1, C_b + C_W * g2, lb + lW * g2 + C_W * gp2 * T2
    if symmetric:
        i = np.arange(N1)
        K = jnp.zeros((N1, N1), X12.dtype).at[ia, ib].set(K12).at[ib, ia].set(K12).at[i, i].set(K1)
        T = jnp.zeros((N1, N1), X12.dtype).at[ia, ib].set(T12).at[ib, ia].set(T12).at[i, i].set(T1)
        return K, T
    return K12.reshape(N1, N2), T12.reshape(N1, N2)
