"""Wigner ``d`` and ``D`` matrices in JAX (O(j^2) two-sided recursion in ``m``), exact ``d(pi/2)``,
and their tables.

``d^j(beta)`` comes from :mod:`nntheory.numerics.so3._wigner_recursion`: every row is a solution
of the three-term recursion in the column index ``m``, run from both ends into the classically
allowed region, matched there, normalised and signed by ``d^j_{m' j} >= 0``; ``2j`` vector steps
per matrix, so one ``d^1000`` costs about ``4 * 10^6`` operations.
"""

from __future__ import annotations

from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpinError
from nntheory.numerics._rounding import round_exact, round_sqrt_sum
from nntheory.numerics.so3._basis import _add_scaled, _real_terms, real_basis_change_matrix
from nntheory.numerics.so3._lookup_table import (CONVENTIONS, DEFAULT_MAX_BYTES, RECURSION_FLOOR, LookupTable, check_choice,
                                                 check_lmax, check_table_bytes, dtype_bits)
from nntheory.numerics.so3._wigner_recursion import d_matrix_recursion
from nntheory.theory.so3._basis import int_l
from nntheory.theory.so3._so3 import wigner_d_half_pi
from nntheory.theory.so3._su2 import two_j

__all__ = ["wigner_D_matrix", "wigner_D_real_matrix", "wigner_d_matrix", "wigner_d_table"]


def _doubled(j) -> int:
    return two_j(j, "j")


#: the largest ``2j`` of :func:`wigner_d_matrix`: its accuracy is measured against mpmath up to ``j = 2000``
MAX_TWO_J = 4000


def wigner_d_matrix(j, beta, *, max_bytes: int = DEFAULT_MAX_BYTES) -> jax.Array:
    """``d^j(beta)`` (rows m', columns m, ascending) by the O(j^2) two-sided recursion in ``m``.

    ``j`` is static (integer or half-integer); ``beta`` a real scalar (jit/vmap over it; any value,
    reduced exactly modulo ``2 pi`` for ``|beta| < 10^8``). float64 when x64 is enabled. Cost:
    ``2j`` vector steps of length ``2j + 1`` (one ``d^1000`` in well under a second on a CPU core).

    Accuracy (float64): absolute error of every entry below ``1e-14`` for every ``j <= 2000`` and
    every ``|beta| < 10^8``, measured against mpmath (Wigner's explicit sum at ``0.3 * 2j + 40`` digits) on
    entries sampled where ``d`` is large (where the recursion's error lives): max ``3.8e-15`` at
    ``j = 1000`` (``beta`` = 1e-6, 0.04, 1.3, pi/2, 2.5, 3.1, -0.7, 9, 100), ``3.6e-15`` at ``j = 2000``,
    below ``4e-15`` at ``j = 3, 20, 100, 300, 400`` (including ``beta = 0``, 1e-9 and near ``pi``).
    The angle reductions (``beta mod 2 pi``, ``pi - beta``) are carried in double-double, so they add
    no error. Entries below about ``1e-300`` relative to the largest of their row underflow to 0.
    ``j > 2000`` is refused (not verified); for ``|beta| >= 10^8`` the reduction modulo ``2 pi`` is no
    longer exact and the error grows like ``j |beta| 1e-24``.

    Args:
        j: the spin (static; integer or half-integer, ``j <= 2000``).
        beta: the angle (a scalar, traced).
        max_bytes: memory limit (default 2 GiB) for the working arrays, about ``64 (2j+1)^2`` bytes
            per angle (a ``vmap`` over angles multiplies it).
    Returns:
        The real ``(2j+1, 2j+1)`` matrix.
    Raises:
        SpinError: for an invalid spin, ``j > 2000`` (beyond the verified accuracy) or a working
            size above ``max_bytes``.
    """
    tj = _doubled(j)
    if tj > MAX_TWO_J:
        raise SpinError(f"wigner_d_matrix: j must be <= {MAX_TWO_J // 2} (the range where its accuracy is "
                        f"verified), got j = {Fraction(tj, 2)}.")
    need = 64 * (tj + 1) ** 2
    max_bytes = check_int(max_bytes, "max_bytes", lo=1, where="wigner_d_matrix", error=SpinError)
    if need > max_bytes:
        raise SpinError(f"wigner_d_matrix: j = {Fraction(tj, 2)} needs about {need:.3g} bytes, more than "
                        f"max_bytes={max_bytes}; use a smaller j or pass a larger max_bytes.")
    return d_matrix_recursion(tj, beta)


def wigner_D_matrix(j, alpha, beta, gamma) -> jax.Array:
    """Complex ``D^j(alpha, beta, gamma) = exp(-i m' alpha) d^j(beta) exp(-i m gamma)`` (ZYZ, active).

    Args:
        j: the spin (static).
        alpha, beta, gamma: Euler angles (scalars).
    Returns:
        The complex ``(2j+1, 2j+1)`` matrix, ``m`` ascending.
    """
    tj = _doubled(j)
    m = (jnp.arange(tj + 1) - tj / 2).astype(jnp.result_type(float))
    d = wigner_d_matrix(j, beta)
    return jnp.exp(-1j * m[:, None] * alpha) * d * jnp.exp(-1j * m[None, :] * gamma)


def wigner_D_real_matrix(l: int, alpha, beta, gamma) -> jax.Array:
    """Real orthogonal ``D_real = conj(U) D U^T`` with ``Y_real(R x) = D_real(R) Y_real(x)``.

    Args:
        l: the degree (static, an integer).
        alpha, beta, gamma: Euler angles (scalars).
    Returns:
        The real ``(2l+1, 2l+1)`` matrix in the real basis.
    Raises:
        SpinError: for a half-integer ``l``.
    """
    U = jnp.asarray(real_basis_change_matrix(int_l(l)))
    return (jnp.conj(U) @ wigner_D_matrix(l, alpha, beta, gamma) @ U.T).real


def wigner_d_table(lmax: int, *, beta=None, basis: str = "complex", dtype="float64",
                   max_bytes: int = DEFAULT_MAX_BYTES) -> LookupTable:
    r"""``d^l_{m' m}(beta)`` for ``l = 0..lmax`` as a COO table with index ``(l, m', m)``.

    ``beta=None`` means ``pi/2``, where every entry is exact (complex basis: a sqrt-rational; real
    basis ``conj(U) d U^T``: a sum of at most two) and is correctly rounded. Any other ``beta``
    (a float) uses the JAX recursion in float64 (error ~1e-15 absolute), rounded to ``dtype``.

    Args:
        lmax: largest degree (>= 0).
        beta: the angle, or ``None`` for ``pi/2`` (exact route).
        basis: ``"complex"`` or ``"real"``.
        dtype: ``"float64"`` or ``"float32"``.
        max_bytes: memory limit (default 2 GiB), checked against an estimate (``~60 (lmax+1)^3``
            bytes) before anything is built.
    Returns:
        A :class:`LookupTable` of kind ``"wigner-d"`` with provenance in ``meta``.
    Raises:
        SpinError: for a bad ``lmax``, ``basis`` or ``dtype``, or a table estimated above ``max_bytes``.
    """
    lmax = check_lmax(lmax, "wigner_d_table")
    check_choice(basis, "basis", ("real", "complex"))
    dtype_bits(dtype)
    check_table_bytes("wigner-d", lmax, max_bytes, "wigner_d_table")
    if beta is not None and lmax > MAX_TWO_J // 2:
        raise SpinError(f"wigner_d_table: lmax must be <= {MAX_TWO_J // 2} for a float beta, got {lmax}.")
    idx, val = [], []
    for l in range(lmax + 1):
        if beta is None:
            _half_pi_entries(l, basis, dtype, idx, val)
        else:
            _beta_entries(l, float(beta), basis, idx, val)
    meta = {
        "kind": "wigner-d", "lmax": lmax, "beta": "pi/2" if beta is None else float(beta), "basis": basis,
        "dtype": np.dtype(dtype).name, "method": "exact" if beta is None else "recursion",
        "accuracy": "correctly rounded (nearest, ties to even)" if beta is None
        else "float64 recursion, absolute error ~1e-15 before rounding to dtype; |entries| < 1e-14 dropped",
        "conventions": CONVENTIONS, "index": ["l", "m'", "m"],
    }
    return LookupTable(np.asarray(idx, np.int32).reshape(-1, 3), np.asarray(val, dtype), meta)


def _half_pi_entries(l: int, basis: str, dtype, idx: list, val: list) -> None:
    """Append the correctly rounded nonzero entries of ``d^l(pi/2)`` (complex or real basis)."""
    d = wigner_d_half_pi(l)
    for a in range(2 * l + 1):
        for b in range(2 * l + 1):
            if basis == "complex":
                if d[a][b].sign:
                    idx.append((l, a - l, b - l))
                    val.append(round_exact(d[a][b], dtype))
                continue
            acc: dict[int, Fraction] = {}
            for m1, p1, k1 in _real_terms(l, a - l):
                for m2, p2, k2 in _real_terms(l, b - l):
                    v = d[m1 + l][m2 + l]
                    ph = p1 * p2.conjugate()  # conj(U)[a, m1] d[m1, m2] U[b, m2]
                    if v.sign and ph.real != 0:
                        _add_scaled(acc, v, int(ph.real), k1 + k2)
            acc = {r: q for r, q in acc.items() if q != 0}
            if acc:
                idx.append((l, a - l, b - l))
                val.append(round_sqrt_sum(acc, dtype))


def _beta_entries(l: int, beta: float, basis: str, idx: list, val: list) -> None:
    """Append the entries of ``d^l(beta)`` from the float64 recursion (``|d| < 1e-14`` dropped)."""
    if basis == "complex":
        d = np.asarray(jax.jit(wigner_d_matrix, static_argnums=0)(l, beta))
    else:
        d = np.asarray(wigner_D_real_matrix(l, 0.0, beta, 0.0))
    a, b = np.nonzero(np.abs(d) >= RECURSION_FLOOR)
    idx.extend(zip([l] * len(a), (a - l).tolist(), (b - l).tolist()))
    val.extend(d[a, b].tolist())
