r"""The one fully connected network (MLP) of the validation stage: parameter sampling and forward pass.

The Monte Carlo ensembles of :mod:`nntheory.validation.finite_width` and the trained ensembles of
:mod:`nntheory.validation.kernels` both sample and run their MLPs here, so the networks whose
statistics test the finite-width theory and those trained against the NTK cannot drift apart.

Conventions. Layer :math:`l` maps :math:`h^{(l-1)}` (``h^{(0)} = x``, fan-in :math:`n_{l-1}`) to
the preactivations :math:`z^{(l)} = b^{(l)} + W^{(l)} h^{(l-1)}` and :math:`h^{(l)} = \sigma(z^{(l)})`.
``sizes = (n_0, n_1, ..., n_L)`` lists the widths, so an MLP has ``len(sizes) - 1`` layers. Weights
are stored as ``W (n_l, n_{l-1})`` and biases as ``b (n_l,)``; the random draws are the same in both
parameterisations (``jax.random.split(key, 2 L)``: key ``2l`` for ``W^{(l+1)}``, ``2l + 1`` for
``b^{(l+1)}``):

* PDLT (:func:`pdlt_mlp_params`): :math:`W \sim \mathcal N(0, C_W/n_{l-1})`, :math:`b \sim \mathcal N(0, C_b)`,
  and :func:`mlp_forward` without scales;
* neural-tangents' NTK parameterisation (:func:`standard_mlp_params`): :math:`W, b \sim \mathcal N(0, 1)`
  and :func:`mlp_forward` with ``W_std, b_std``: :math:`z = \tfrac{\sigma_W}{\sqrt{n_{l-1}}} W h + \sigma_b b`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import sympy

from nntheory.numerics import compile_expr
from nntheory.theory import Activation, z

__all__ = ["activation_fns", "mlp_forward", "pdlt_mlp_params", "standard_mlp_params"]


def activation_fns(act: Activation) -> tuple[Callable, Callable]:
    """JAX callables for sigma and sigma', compiled through the one seam.

    Args:
        act: the activation.

    Returns:
        ``(sigma, sigma_prime)``, elementwise JAX functions.
    """
    return compile_expr(act.expr, [z]), compile_expr(sympy.diff(act.expr, z), [z])


def standard_mlp_params(key: jax.Array, sizes: Sequence[int], dtype=None) -> list[tuple[jax.Array, jax.Array]]:
    """Standard-normal parameters of an MLP with widths ``sizes = (n_0, ..., n_L)`` (see the module docstring).

    Args:
        key: JAX random key.
        sizes: input dimension followed by the width of every layer.
        dtype: dtype of the draws (JAX's default float when ``None``).

    Returns:
        ``[(W, b), ...]``, one pair per layer, ``W (n_l, n_{l-1})`` and ``b (n_l,)``, all entries ``N(0, 1)``.
    """
    L = len(sizes) - 1
    keys = jax.random.split(key, 2 * L)
    kw = {} if dtype is None else {"dtype": dtype}
    return [(jax.random.normal(keys[2 * i], (sizes[i + 1], sizes[i]), **kw), jax.random.normal(keys[2 * i + 1], (sizes[i + 1],), **kw))
            for i in range(L)]


def pdlt_mlp_params(key: jax.Array, sizes: Sequence[int], C_W: float, C_b: float, dtype=None) -> list[tuple[jax.Array, jax.Array]]:
    """PDLT parameters: ``W ~ N(0, C_W / n_{l-1})``, ``b ~ N(0, C_b)``, from the draws of :func:`standard_mlp_params`.

    Args:
        key: JAX random key.
        sizes: input dimension followed by the width of every layer.
        C_W: weight variance (times fan-in).
        C_b: bias variance.
        dtype: dtype of the draws (JAX's default float when ``None``).

    Returns:
        ``[(W, b), ...]``, one pair per layer.
    """
    return [(W * jnp.sqrt(C_W / W.shape[1]), b * jnp.sqrt(C_b)) for W, b in standard_mlp_params(key, sizes, dtype)]


def mlp_forward(params, x: jax.Array, sig: Callable, *, W_std: float | None = None, b_std: float | None = None):
    """Forward pass: the preactivations of every layer and the activations feeding them.

    Args:
        params: ``[(W, b), ...]`` from :func:`pdlt_mlp_params` or :func:`standard_mlp_params`.
        x: inputs ``(m, n_0)``.
        sig: the activation (elementwise).
        W_std, b_std: ``None`` for PDLT parameters (``z = h W^T + b``); numbers for the NTK
            parameterisation (``z = W_std / sqrt(n_{l-1}) (h W^T) + b_std b``, both or neither).

    Returns:
        ``(zs, hs)``: ``zs[l]`` the preactivations of layer ``l + 1``, ``(m, n_{l+1})``; ``hs[l]`` the input of
        that layer (``hs[0] = x``, ``hs[l] = sig(zs[l - 1])``), with ``len(hs) = len(zs) + 1``. A linear read-out
        is ``zs[-1]``; unused activations cost nothing under ``jax.jit``.
    """
    h = x
    zs, hs = [], [x]
    for W, b in params:
        if W_std is None:
            zl = h @ W.T + b
        else:
            zl = W_std / jnp.sqrt(h.shape[-1]) * (h @ W.T) + b_std * b
        zs.append(zl)
        h = sig(zl)
        hs.append(h)
    return zs, hs
