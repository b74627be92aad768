"""Exact recoupling coefficients: Racah–Wigner 6j and Wigner 9j symbols.

Racah's single sum for the 6j symbol, with the four triangle factors ``Delta(abc)`` split into a
rational and a square-free radicand once; the 9j symbol as the sum over ``x`` of three 6j symbols,
with the ``x``-dependent ``Delta`` factors (which appear squared) summed as rationals. Arguments as
in :mod:`nntheory.theory.so3._su2`; a triangle violation gives an exact ``0``, spins that do not
add to an integer raise :class:`~nntheory.errors.SpinError`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import sympy

from nntheory.theory.so3._exact import ExactValue, _alternating_sum, _factorial, _make, _sqrt_factorial_ratio
from nntheory.theory.so3._su2 import _check_triad, two_j

__all__ = ["exact_6j", "exact_9j", "wigner_6j", "wigner_9j"]


def _delta_lists(ta: int, tb: int, tc: int) -> tuple[list[int], list[int]]:
    """Factorial arguments of Delta(abc)^2: ([a+b-c, a-b+c, -a+b+c], [a+b+c+1])."""
    return [(ta + tb - tc) // 2, (ta - tb + tc) // 2, (-ta + tb + tc) // 2], [(ta + tb + tc) // 2 + 1]


def _sqrt_deltas(*triads) -> tuple[Fraction, int]:
    top, bottom = [], []
    for tr in triads:
        t, b = _delta_lists(*tr)
        top += t
        bottom += b
    return _sqrt_factorial_ratio(top, bottom)


def _delta_sq(ta: int, tb: int, tc: int) -> Fraction:
    """Delta(abc)^2 = (a+b-c)!(a-b+c)!(-a+b+c)!/(a+b+c+1)!."""
    return Fraction(
        _factorial((ta + tb - tc) // 2) * _factorial((ta - tb + tc) // 2) * _factorial((-ta + tb + tc) // 2),
        _factorial((ta + tb + tc) // 2 + 1),
    )


def _racah_sum(t: tuple[int, ...]) -> Fraction:
    """Racah's sum for {j1 j2 j3; j4 j5 j6} (doubled args), without the four Delta factors."""
    t1, t2, t3, t4, t5, t6 = t
    a = [(t1 + t2 + t3) // 2, (t1 + t5 + t6) // 2, (t4 + t2 + t6) // 2, (t4 + t5 + t3) // 2]
    b = [(t1 + t2 + t4 + t5) // 2, (t2 + t3 + t5 + t6) // 2, (t3 + t1 + t6 + t4) // 2]
    k0, k1 = max(a), min(b)
    if k0 > k1:
        return Fraction(0)
    first = Fraction(
        _factorial(k0 + 1),
        math.prod(_factorial(k0 - x) for x in a) * math.prod(_factorial(y - k0) for y in b),
    )
    # t_{k+1}/t_k = -(k+2) prod(b-k) / prod(k+1-a)  (with the sign (-1)^k)
    horner = _alternating_sum(
        k0, k1,
        lambda k: ((k + 2) * math.prod(y - k for y in b), math.prod(k + 1 - x for x in a)),
    )
    return first * horner * (-1 if k0 % 2 else 1)


def _sixj_args(j1, j2, j3, j4, j5, j6):
    t = tuple(two_j(j, f"j{i + 1}") for i, j in enumerate((j1, j2, j3, j4, j5, j6)))
    ok = True
    for (i, k, m) in ((0, 1, 2), (0, 4, 5), (3, 1, 5), (3, 4, 2)):
        ok &= _check_triad(t[i], t[k], t[m], f"(j{i + 1}, j{k + 1}, j{m + 1})")
    return t, ok


@lru_cache(maxsize=1 << 14)
def _sixj(t: tuple[int, ...]) -> ExactValue:
    t1, t2, t3, t4, t5, t6 = t
    w = _racah_sum(t)
    if w == 0:
        return ExactValue.ZERO
    r, rad = _sqrt_deltas((t1, t2, t3), (t1, t5, t6), (t4, t2, t6), (t4, t5, t3))
    return _make(w * r, rad)


def exact_6j(j1, j2, j3, j4, j5, j6) -> ExactValue:
    """Racah–Wigner 6j symbol ``{j1 j2 j3; j4 j5 j6}`` as an :class:`ExactValue`.

    Returns:
        The exact value (zero when a triangle rule fails).
    Raises:
        SpinError: for invalid spins or a triad that does not add to an integer.
    """
    t, ok = _sixj_args(j1, j2, j3, j4, j5, j6)
    return _sixj(t) if ok else ExactValue.ZERO


def wigner_6j(j1, j2, j3, j4, j5, j6) -> sympy.Expr:
    """Racah–Wigner 6j symbol ``{j1 j2 j3; j4 j5 j6}`` exactly.

    >>> wigner_6j(1, 1, 1, 1, 1, 1)
    1/6
    >>> wigner_6j(Fraction(1, 2), Fraction(1, 2), 1, Fraction(1, 2), Fraction(1, 2), 0)
    1/2

    Returns:
        A sympy number ``Rational * sqrt(Integer)``.
    Raises:
        SpinError: for invalid spins.
    """
    return exact_6j(j1, j2, j3, j4, j5, j6).to_sympy()


def exact_9j(j1, j2, j3, j4, j5, j6, j7, j8, j9) -> ExactValue:
    """Wigner 9j symbol ``{j1 j2 j3; j4 j5 j6; j7 j8 j9}`` as an :class:`ExactValue`.

    Sum over x of (-1)^(2x) (2x+1) {j1 j4 j7; j8 j9 x}{j2 j5 j8; j4 x j6}{j3 j6 j9; x j1 j2};
    the Delta factors that contain x appear squared and are summed as rationals, the six
    x-independent ones are pulled out of the sum.

    Returns:
        The exact value (zero when a triangle rule fails).
    Raises:
        SpinError: for invalid spins or a triad that does not add to an integer.
    """
    t = tuple(two_j(j, f"j{i + 1}") for i, j in enumerate((j1, j2, j3, j4, j5, j6, j7, j8, j9)))
    ok = True
    for (i, k, m) in ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8)):
        ok &= _check_triad(t[i], t[k], t[m], f"(j{i + 1}, j{k + 1}, j{m + 1})")
    if not ok:
        return ExactValue.ZERO
    a, b, c, d, e, f, g, h, i = t
    lo = max(abs(a - i), abs(d - h), abs(b - f))
    hi = min(a + i, d + h, b + f)
    total = Fraction(0)
    for x in range(lo, hi + 1, 2):
        w = _racah_sum((a, d, g, h, i, x)) * _racah_sum((b, e, h, d, x, f)) * _racah_sum((c, f, i, x, a, b))
        if w == 0:
            continue
        # x-dependent Deltas of the three 6j: (a i x), (h d x) from the 1st and 2nd / 3rd,
        # (b f x) from the 2nd and 3rd; each appears twice -> Delta^2
        wx = _delta_sq(a, i, x) * _delta_sq(h, d, x) * _delta_sq(b, f, x)
        total += (-1 if x % 2 else 1) * (x + 1) * w * wx
    if total == 0:
        return ExactValue.ZERO
    r, rad = _sqrt_deltas((a, d, g), (h, i, g), (b, e, h), (d, e, f), (c, f, i), (a, b, c))
    return _make(total * r, rad)


def wigner_9j(j1, j2, j3, j4, j5, j6, j7, j8, j9) -> sympy.Expr:
    """Wigner 9j symbol ``{j1 j2 j3; j4 j5 j6; j7 j8 j9}`` exactly.

    >>> wigner_9j(1, 1, 1, 1, 1, 1, 1, 1, 0)   # sympy.physics.wigner.wigner_9j agrees
    1/18

    Returns:
        A sympy number ``Rational * sqrt(Integer)``.
    Raises:
        SpinError: for invalid spins.
    """
    return exact_9j(j1, j2, j3, j4, j5, j6, j7, j8, j9).to_sympy()
