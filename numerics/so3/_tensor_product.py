"""The equivariant bilinear map of a Clebsch–Gordan block (dense or sparse), in JAX."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpinError

__all__ = ["tensor_product"]


def tensor_product(x1, x2, table) -> jax.Array:
    r"""Equivariant bilinear map ``out[..., M] = sum C[m1, m2, M] x1[..., m1] x2[..., m2]``.

    ``table``: a dense block ``(2l1+1, 2l2+1, 2L+1)`` (array) or a tuple ``(index, value, dim_out)``
    with ``index`` an ``(n, 3)`` integer array of ``(m1, m2, M)`` positions (0-based) for sparse
    (COO) tables; the sparse form costs O(nonzeros) instead of O(dense size). If ``x1`` transforms
    with ``D1`` and ``x2`` with ``D2`` (real basis, ``cg``/``unit`` tables), ``out`` transforms with
    ``D_L``.

    Args:
        x1, x2: inputs ``(..., 2l1+1)`` and ``(..., 2l2+1)``.
        table: the dense block or the sparse ``(index, value, dim_out)``.
    Returns:
        ``out`` of shape ``(..., 2L+1)``.
    Raises:
        SpinError: if a dense table does not fit the inputs, or a sparse table's ``index`` is not an
            ``(n, 3)`` integer array with ``0 <= index[:, 0] < 2l1+1``, ``0 <= index[:, 1] < 2l2+1`` and
            ``0 <= index[:, 2] < dim_out`` (checked whenever ``index`` is concrete, i.e. not traced),
            ``value`` does not have ``n`` entries, or ``dim_out`` is not a positive integer.
    """
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    if isinstance(table, tuple):
        if len(table) != 3:
            raise SpinError(f"tensor_product: a sparse table is (index, value, dim_out), got a tuple of {len(table)}")
        index, value, dim_out = table
        dim_out = check_int(dim_out, "dim_out", lo=1, where="tensor_product", error=SpinError)
        _check_sparse_index(index, value, (x1.shape[-1], x2.shape[-1], dim_out))
        index = jnp.asarray(index)
        terms = jnp.asarray(value) * x1[..., index[:, 0]] * x2[..., index[:, 1]]
        moved = jnp.moveaxis(terms, -1, 0)
        out = jax.ops.segment_sum(moved, index[:, 2], num_segments=int(dim_out))
        return jnp.moveaxis(out, 0, -1)
    C = jnp.asarray(table)
    if C.ndim != 3 or x1.shape[-1] != C.shape[0] or x2.shape[-1] != C.shape[1]:
        raise SpinError(f"table of shape {C.shape} does not fit inputs of last dims {x1.shape[-1]}, {x2.shape[-1]}")
    return jnp.einsum("...i,...j,ijk->...k", x1, x2, C)


def _check_sparse_index(index, value, dims: tuple[int, int, int]) -> None:
    """Refuse a COO index that is not ``(n, 3)`` integers inside ``dims`` (out-of-range positions would
    otherwise be clipped or dropped by JAX's gathers and ``segment_sum`` without a word)."""
    try:
        idx = np.asarray(index)
    except jax.errors.TracerArrayConversionError:
        return  # traced inside jit: the caller's concrete table was checked where it was built
    if idx.ndim != 2 or idx.shape[1] != 3 or not np.issubdtype(idx.dtype, np.integer):
        raise SpinError(f"tensor_product: a sparse index must be an (n, 3) integer array of (m1, m2, M) "
                        f"positions, got shape {idx.shape} and dtype {idx.dtype}")
    n_val = np.shape(value)[0] if np.ndim(value) else None
    if n_val != idx.shape[0]:
        raise SpinError(f"tensor_product: the sparse index has {idx.shape[0]} rows but value has shape {np.shape(value)}")
    for k, (name, hi) in enumerate(zip(("m1 (column 0)", "m2 (column 1)", "M (column 2)"), dims)):
        col = idx[:, k]
        if col.size and (col.min() < 0 or col.max() >= hi):
            bad = int(col[(col < 0) | (col >= hi)][0])
            raise SpinError(f"tensor_product: sparse index {name} must lie in [0, {hi - 1}] (size "
                            f"{hi}), got {bad}; positions are 0-based: pass m + l, not m.")
