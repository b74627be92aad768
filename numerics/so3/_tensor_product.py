"""The equivariant bilinear map of a Clebsch–Gordan block (dense or sparse), in JAX."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nntheory.errors import SpinError

__all__ = ["tensor_product"]


def tensor_product(x1, x2, table) -> jax.Array:
    r"""Equivariant bilinear map ``out[..., M] = sum C[m1, m2, M] x1[..., m1] x2[..., m2]``.

    ``table``: a dense block ``(2l1+1, 2l2+1, 2L+1)`` (array) or a tuple ``(index, value, dim_out)``
    with ``index`` an ``(n, 3)`` integer array of ``(m1, m2, M)`` positions (0-based) for sparse
    (COO) tables; the sparse form costs O(nonzeros) instead of O(dense size). If ``x1`` transforms
    with ``D1`` and ``x2`` with ``D2`` (real basis, ``cg``/``unit`` tables), ``out`` transforms with
    ``D_L``.

    Returns:
        ``out`` of shape ``(..., 2L+1)``.
    Raises:
        SpinError: if a dense table does not fit the inputs.
    """
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    if isinstance(table, tuple):
        index, value, dim_out = table
        index = jnp.asarray(index)
        terms = jnp.asarray(value) * x1[..., index[:, 0]] * x2[..., index[:, 1]]
        moved = jnp.moveaxis(terms, -1, 0)
        out = jax.ops.segment_sum(moved, index[:, 2], num_segments=int(dim_out))
        return jnp.moveaxis(out, 0, -1)
    C = jnp.asarray(table)
    if C.ndim != 3 or x1.shape[-1] != C.shape[0] or x2.shape[-1] != C.shape[1]:
        raise SpinError(f"table of shape {C.shape} does not fit inputs of last dims {x1.shape[-1]}, {x2.shape[-1]}")
    return jnp.einsum("...i,...j,ijk->...k", x1, x2, C)
