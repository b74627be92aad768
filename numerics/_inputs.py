"""Checked numeric inputs shared by the topics: Gram matrices and lists of input vectors.

User data (parsed JSON, arrays) are validated here once, before anything is compiled or allocated,
so the command line and the Python API refuse the same things with the same messages.
"""

from __future__ import annotations

import numpy as np

from nntheory.errors import KernelError

__all__ = ["gram_matrix", "input_vectors"]


def gram_matrix(data, *, name: str = "gram", rtol: float = 0.0) -> np.ndarray:
    """A float64 Gram matrix ``x_a.x_b/n_0`` from nested lists or an array, checked.

    Args:
        data: a square matrix (nested lists of numbers, or an array).
        name: the argument's name for messages.
        rtol: relative tolerance for symmetry and definiteness (0: exactly symmetric and positive
            definite, as for user text; a small value accepts round-off of computed Gram matrices and
            positive semi-definite ones).
    Returns:
        The matrix as a ``(m, m)`` float64 array.
    Raises:
        KernelError: if it is not square, finite, symmetric and positive (semi-)definite.

    Example:
        >>> gram_matrix([[1, 0.6], [0.6, 1.5]]).shape
        (2, 2)
    """
    try:
        G = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise KernelError(f"{name}: expected a square list of lists of numbers.") from None
    if G.ndim != 2 or G.shape[0] != G.shape[1] or G.shape[0] < 1:
        raise KernelError(f"{name}: expected a square matrix, got shape {G.shape}.")
    scale = float(np.max(np.abs(G))) if G.size and np.all(np.isfinite(G)) else 0.0
    if not np.all(np.isfinite(G)) or np.max(np.abs(G - G.T)) > rtol * scale:
        raise KernelError(f"{name}: the matrix must be finite and {'exactly ' if rtol == 0 else ''}symmetric.")
    lam = float(np.linalg.eigvalsh((G + G.T) / 2).min())
    if lam <= 0 if rtol == 0 else lam < -rtol * scale:
        raise KernelError(f"{name}: the matrix must be positive definite (smallest eigenvalue {lam:.3g}); "
                          "distinct, non-collinear inputs.")
    return G


def input_vectors(data, *, name: str = "inputs") -> np.ndarray:
    """A float64 ``(N, n_0)`` array from a non-empty list of equally long lists of finite numbers.

    Args:
        data: a list of input vectors (e.g. parsed JSON).
        name: the argument's name for messages.
    Returns:
        The inputs as an ``(N, n_0)`` float64 array.
    Raises:
        KernelError: for anything else (ragged, empty, non-numeric, non-finite).

    Example:
        >>> input_vectors([[1, 0], [0.6, 0.8]]).shape
        (2, 2)
    """
    if not isinstance(data, list) or not data or not all(isinstance(v, list) and v for v in data):
        raise KernelError(f"{name}: expected a non-empty list of non-empty lists of numbers.")
    lengths = sorted({len(v) for v in data})
    if len(lengths) != 1:
        raise KernelError(f"{name}: all inputs must have the same dimension; got dimensions {lengths}.")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for v in data for x in v):
        raise KernelError(f"{name}: every entry must be a number.")
    X = np.asarray(data, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise KernelError(f"{name}: entries must be finite.")
    return X
