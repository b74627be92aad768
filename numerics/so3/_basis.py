"""The complex-to-real basis change in floating point, built from the one exact definition.

Every coefficient comes from :func:`nntheory.theory.so3.real_basis_terms`
(``U[m, m'] = (re + i im) / sqrt(2)^k``); here it becomes a complex128 matrix, exact sparse terms
for the correctly rounded tables, or vectorised columns of ``conj(U)`` for the recursion tables.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from nntheory.theory.so3._basis import real_basis_terms
from nntheory.theory.so3._exact import ExactValue

__all__ = ["real_basis_change_matrix"]

_H = 1 / math.sqrt(2)


@lru_cache(maxsize=None)
def real_basis_change_matrix(l: int) -> np.ndarray:
    """Complex128 ``U`` with ``Y_real = U Y_complex`` (same as ``theory.real_basis_change``).

    Args:
        l: the degree (a non-negative integer).
    Returns:
        A read-only ``(2l+1, 2l+1)`` complex array; rows real ``m``, columns complex ``m``, ascending.
    Raises:
        SpinError: for a half-integer or negative ``l``.
    """
    terms = real_basis_terms(l)
    n = len(terms)
    l = (n - 1) // 2
    U = np.zeros((n, n), complex)
    for m, row in terms.items():
        for t in row:
            scale = _H if t.k else 1.0
            U[m + l, t.m + l] = complex(t.re * scale, t.im * scale)
    U.setflags(write=False)
    return U


@lru_cache(maxsize=None)
def _conj_row_terms(m: int) -> tuple[tuple[int, complex, int], ...]:
    """Row ``m`` of ``conj(U)`` as ``(complex m', unit phase, power k of 1/sqrt2)`` (exact phases)."""
    return tuple((t.m, complex(t.re, -t.im), t.k) for t in real_basis_terms(abs(m))[m])


def _real_terms(l: int, m: int):
    """Row ``m`` of ``conj(U)`` (degree ``l``) as ``(complex m', unit phase, power k of 1/sqrt2)``."""
    return _conj_row_terms(m)


def _add_scaled(acc: dict, v: ExactValue, sign: int, k: int) -> None:
    """acc[radicand] += sign * v * 2^(-k/2), keeping radicands square-free."""
    q = Fraction(sign * v.sign * v.num, v.den * (1 << (k // 2)))
    r = v.radicand
    if k % 2:  # one more 1/sqrt2: sqrt(r)/sqrt2 = sqrt(r/2) if 2 | r else sqrt(2r)/2
        if r % 2 == 0:
            r //= 2
        else:
            r *= 2
            q /= 2
    acc[r] = acc.get(r, Fraction(0)) + q


@lru_cache(maxsize=None)
def _conj_u_columns(mmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns of ``conj(U)`` for complex ``m = -mmax..mmax``: row ``+|m|`` and row ``-|m|`` entries."""
    c_pos = np.zeros(2 * mmax + 1, complex)
    c_neg = np.zeros(2 * mmax + 1, complex)
    for a in range(-mmax, mmax + 1):
        for t in real_basis_terms(abs(a))[a]:
            scale = _H if t.k else 1.0
            entry = complex(t.re * scale, -t.im * scale)  # conj(U)[a, t.m]
            (c_pos if a >= 0 else c_neg)[t.m + mmax] = entry
    return c_pos, c_neg


def _conj_u_rows(m: np.ndarray):
    """For complex index m: the two real rows a = +-|m| and the entries conj(U)[a, m] (complex)."""
    am = np.abs(m)
    mmax = int(np.max(am, initial=0))
    c_pos, c_neg = _conj_u_columns(mmax)
    return np.stack([am, -am], axis=1), np.stack([c_pos[m + mmax], c_neg[m + mmax]], axis=1)
