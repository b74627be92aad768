r"""The complex-to-real change of basis of SO(3) irreps: the one definition of its coefficients.

Real spherical harmonics (the tesseral basis, Condon–Shortley phase folded out) are
``Y_real = U Y_complex`` with, for ``h = 1/sqrt(2)``,

* ``m > 0``: ``Y_{l m} = h (Y_l^{-m} + (-1)^m Y_l^m)``  (``= sqrt2 (-1)^m Re Y_l^m``),
* ``m = 0``: ``Y_{l 0} = Y_l^0``,
* ``m < 0``: ``Y_{l m} = i h (Y_l^m - (-1)^m Y_l^{-m})``  (``= sqrt2 (-1)^m Im Y_l^{|m|}``),

so for ``l = 1`` the components are proportional to ``(y, z, x)``. :func:`real_basis_terms` gives
these coefficients exactly, in plain Python; the sympy matrix (:func:`real_basis_change`) and the
float matrices and sparse terms of ``nntheory.numerics.so3`` are all built from it.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

import sympy

from nntheory.errors import SpinError
from nntheory.theory.so3._su2 import two_j

__all__ = ["RealBasisTerm", "real_basis_change", "real_basis_terms"]


class RealBasisTerm(NamedTuple):
    """One nonzero entry ``U[real m, complex m] = (re + i im) / sqrt(2)^k`` of the basis change."""

    m: int
    re: int
    im: int
    k: int


def int_l(l, name: str = "l") -> int:
    """``l`` as an int, for the real basis (integer spins only).

    Returns:
        ``int(l)``.
    Raises:
        SpinError: if ``l`` is not a non-negative integer.
    """
    t = two_j(l, name)
    if t % 2:
        raise SpinError(f"{name} must be an integer for a real basis or spherical harmonics, got {Fraction(t, 2)}")
    return t // 2


def _row(m: int) -> tuple[RealBasisTerm, ...]:
    s = -1 if m % 2 else 1
    if m > 0:
        return (RealBasisTerm(-m, 1, 0, 1), RealBasisTerm(m, s, 0, 1))
    if m == 0:
        return (RealBasisTerm(0, 1, 0, 0),)
    return (RealBasisTerm(m, 0, 1, 1), RealBasisTerm(-m, 0, -s, 1))


@lru_cache(maxsize=None)
def real_basis_terms(l) -> dict[int, tuple[RealBasisTerm, ...]]:
    """The nonzero entries of ``U`` (``Y_real = U Y_complex``), row by row, exactly.

    Args:
        l: the degree (a non-negative integer).
    Returns:
        ``{m: terms}`` for real ``m = -l..l``; ``terms`` are the one or two
        :class:`RealBasisTerm` ``(complex m', re, im, k)`` with ``U[m, m'] = (re + i im) / sqrt(2)^k``.
    Raises:
        SpinError: for a half-integer or negative ``l``.
    """
    l = int_l(l)
    return {m: _row(m) for m in range(-l, l + 1)}


@lru_cache(maxsize=None)
def real_basis_change(l) -> sympy.ImmutableMatrix:
    """Unitary ``U`` with ``Y_real = U Y_complex`` (rows: real ``m``, columns: complex ``m``, ascending).

    Args:
        l: the degree (a non-negative integer).
    Returns:
        The exact ``(2l+1, 2l+1)`` matrix (entries ``0``, ``1``, ``±sqrt(2)/2``, ``±i sqrt(2)/2``).
    Raises:
        SpinError: for a half-integer or negative ``l``.
    """
    terms = real_basis_terms(l)
    l = int_l(l)
    U = sympy.zeros(2 * l + 1, 2 * l + 1)
    h = 1 / sympy.sqrt(2)
    for m, row in terms.items():
        for t in row:
            U[m + l, t.m + l] = (t.re + sympy.I * t.im) * h**t.k
    return sympy.ImmutableMatrix(U)
