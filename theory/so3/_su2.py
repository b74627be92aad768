"""Exact SU(2) coupling coefficients: spins, Wigner 3j and Clebsch–Gordan coefficients.

Every coefficient is a signed square root of a rational number. It is computed with Python
integers only: the square-root part is a ratio of factorials, split by Legendre's formula into a
rational factor and a square-free radicand (``prime-factor`` route); the alternating Racah sum is
evaluated by Horner's rule on its term ratios with integer numerators and denominators, reduced
once at the end. No float, and no sympy simplification, is involved; sympy objects are only built
at the public boundary (``wigner_3j`` etc. return ``Rational * sqrt(Integer)``). The exact
numbers are :class:`~nntheory.theory.so3._exact.ExactValue`; 6j and 9j symbols are in
:mod:`nntheory.theory.so3._recoupling`.

Spins are ``int``, ``fractions.Fraction``, sympy ``Rational`` / ``Integer`` or a float that is an
exact half-integer (``0.5``). Internally every spin is carried doubled (``2j``) as an ``int``.

Conventions: Condon–Shortley phases; ``clebsch_gordan(j1, m1, j2, m2, J, M)`` is
``<j1 m1 j2 m2 | J M>`` and relates to the 3j symbol by
``<j1 m1 j2 m2|J M> = (-1)^(j1 - j2 + M) sqrt(2J + 1) (j1 j2 J; m1 m2 -M)``.
Arguments that are valid spins and projections but violate a selection rule (triangle
inequality, ``m1 + m2 != M``, ...) give an exact ``0``; arguments that are not valid (``|m| > j``,
``j + m`` not an integer, a coupling whose spins do not add to an integer) raise
:class:`~nntheory.errors.SpinError`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from numbers import Integral

import sympy

from nntheory.errors import SpinError
from nntheory.theory.so3._exact import (ExactValue, _alternating_sum_ints, _factorial, _make, _sqrt_factorial_ratio_ints,
                                        _square_free_split)

__all__ = [
    "clebsch_gordan",
    "exact_3j",
    "exact_clebsch_gordan",
    "two_j",
    "wigner_3j",
]

# --------------------------------------------------------------------------- spins


def two_j(value, name: str = "j", *, projection: bool = False) -> int:
    """Return ``2 * value`` as an int, or raise :class:`SpinError` naming ``name``.

    ``value`` must be an integer or half-integer (``int``, ``Fraction``, sympy ``Rational`` or an
    exactly representable float such as ``1.5``); spins (``projection=False``) must be >= 0.

    Returns:
        ``2 * value`` as an int.
    Raises:
        SpinError: for anything else.
    """
    if isinstance(value, bool):
        raise SpinError(f"{name} must be an integer or half-integer, got the bool {value!r}")
    if isinstance(value, Integral):
        t = 2 * int(value)
    elif isinstance(value, Fraction):
        if (2 * value).denominator != 1:
            raise SpinError(f"{name} must be an integer or half-integer, got {value}")
        t = int(2 * value)
    elif isinstance(value, sympy.Basic):
        if not (value.is_Rational and (2 * value).is_integer):
            raise SpinError(f"{name} must be an integer or half-integer, got {value}")
        t = int(2 * value)
    elif isinstance(value, float):
        if not math.isfinite(value) or not float(2 * value).is_integer():
            raise SpinError(f"{name} must be an integer or half-integer, got {value!r}")
        t = int(2 * value)
    else:
        raise SpinError(f"{name} must be an int, Fraction or sympy Rational, got {type(value).__name__}")
    if not projection and t < 0:
        raise SpinError(f"{name} must be >= 0, got {Fraction(t, 2)}")
    return t


def _check_jm(tj: int, tm: int, jname: str, mname: str) -> None:
    if abs(tm) > tj:
        raise SpinError(f"|{mname}| must be <= {jname} = {Fraction(tj, 2)}, got {mname} = {Fraction(tm, 2)}")
    if (tj + tm) % 2:
        raise SpinError(f"{jname} + {mname} must be an integer, got {jname} = {Fraction(tj, 2)}, {mname} = {Fraction(tm, 2)}")


def _check_triad(ta: int, tb: int, tc: int, names: str) -> bool:
    """Raise if the three spins do not add to an integer; return whether the triangle holds."""
    if (ta + tb + tc) % 2:
        raise SpinError(
            f"spins {names} = ({Fraction(ta, 2)}, {Fraction(tb, 2)}, {Fraction(tc, 2)}) mix integer and "
            "half-integer so that their sum is not an integer; no coupling exists"
        )
    return abs(ta - tb) <= tc <= ta + tb


# --------------------------------------------------------------------------- 3j


def _threej_canonical(t1: int, t2: int, t3: int, tm1: int, tm2: int, tm3: int):
    """The representative of a 3j symbol under its 12 classical symmetries (column permutations,
    ``m -> -m``) and whether the value changes sign there: odd permutations and the mirror each
    multiply by ``(-1)^(j1+j2+j3)``. The representative is the lexicographically smaller of the
    sorted columns ``(2j, 2m)`` and the sorted mirrored columns. Equal columns make the parity
    ambiguous only for symbols that vanish."""
    cols = ((t1, tm1), (t2, tm2), (t3, tm3))
    mir = ((t1, -tm1), (t2, -tm2), (t3, -tm3))
    a, b = sorted(cols), sorted(mir)
    mirrored = b < a
    ref, key = (mir, b) if mirrored else (cols, a)
    p = sorted(range(3), key=ref.__getitem__)
    odd = ((p[0] > p[1]) + (p[0] > p[2]) + (p[1] > p[2])) & 1
    flip = bool(((t1 + t2 + t3) // 2) & 1) and (odd ^ mirrored)
    return (key[0][0], key[1][0], key[2][0], key[0][1], key[1][1], key[2][1]), flip


def _threej(t1: int, t2: int, t3: int, tm1: int, tm2: int, tm3: int) -> ExactValue:
    """3j symbol from doubled arguments that passed validation; one Racah sum per symmetry class."""
    if tm1 + tm2 + tm3 != 0 or not (abs(t1 - t2) <= t3 <= t1 + t2):
        return ExactValue.ZERO
    key, flip = _threej_canonical(t1, t2, t3, tm1, tm2, tm3)
    v = _threej_racah(*key)
    if flip and v.sign:
        return ExactValue(-v.sign, v.num, v.den, v.radicand)
    return v


@lru_cache(maxsize=1 << 18)
def _threej_racah(t1: int, t2: int, t3: int, tm1: int, tm2: int, tm3: int) -> ExactValue:
    """3j symbol by the Racah sum (doubled arguments, valid, ``m`` summing to 0, triangle holds)."""
    # integer (not doubled) combinations
    a = (t1 + t2 - t3) // 2
    b = (t1 - t2 + t3) // 2
    c = (-t1 + t2 + t3) // 2
    big = (t1 + t2 + t3) // 2 + 1
    j1pm, j1mm = (t1 + tm1) // 2, (t1 - tm1) // 2
    j2pm, j2mm = (t2 + tm2) // 2, (t2 - tm2) // 2
    j3pm, j3mm = (t3 + tm3) // 2, (t3 - tm3) // 2
    # Racah: sum_k (-1)^k / [k! (j3-j2+m1+k)! (j3-j1-m2+k)! (j1+j2-j3-k)! (j1-m1-k)! (j2+m2-k)!]
    d1 = (t3 - t2 + tm1) // 2
    d2 = (t3 - t1 - tm2) // 2
    k0 = max(0, -d1, -d2)
    k1 = min(a, j1mm, j2pm)
    if k0 > k1:
        return ExactValue.ZERO
    first_den = (_factorial(k0) * _factorial(d1 + k0) * _factorial(d2 + k0) * _factorial(a - k0)
                 * _factorial(j1mm - k0) * _factorial(j2pm - k0))
    hn, hd = _alternating_sum_ints(
        k0, k1, lambda k: ((a - k) * (j1mm - k) * (j2pm - k), (k + 1) * (d1 + k + 1) * (d2 + k + 1))
    )
    if hn == 0:
        return ExactValue.ZERO
    rn, rd, s = _sqrt_factorial_ratio_ints([a, b, c, j1pm, j1mm, j2pm, j2mm, j3pm, j3mm], [big])
    sign = -1 if (k0 % 2) ^ (((t1 - t2 - tm3) // 2) % 2) else 1
    num, den = hn * rn, hd * first_den * rd
    if num < 0:
        num, sign = -num, -sign
    g = math.gcd(num, den)
    return ExactValue(sign, num // g, den // g, s)


def _coupling_args(js, ms, jnames, mnames) -> tuple[int, ...]:
    """Doubled ``(j1, j2, j3, m1, m2, m3)`` of a coupling, validated (each ``|m| <= j``, ``j + m``
    integer, the spins adding to an integer); raises :class:`SpinError` naming the argument."""
    tj = [two_j(j, n) for j, n in zip(js, jnames)]
    tm = [two_j(m, n, projection=True) for m, n in zip(ms, mnames)]
    for t, u, jn, mn in zip(tj, tm, jnames, mnames):
        _check_jm(t, u, jn, mn)
    _check_triad(*tj, f"({', '.join(jnames)})")
    return (*tj, *tm)


def exact_3j(j1, j2, j3, m1, m2, m3) -> ExactValue:
    """The 3j symbol as an :class:`ExactValue` (cheap to round to floats).

    Returns:
        The exact value (zero when a selection rule fails).
    Raises:
        SpinError: for an invalid spin or projection.
    """
    return _threej(*_coupling_args((j1, j2, j3), (m1, m2, m3), ("j1", "j2", "j3"), ("m1", "m2", "m3")))


def wigner_3j(j1, j2, j3, m1, m2, m3) -> sympy.Expr:
    """Wigner 3j symbol ``(j1 j2 j3; m1 m2 m3)`` exactly, as ``Rational * sqrt(Integer)``.

    Same argument order as ``sympy.physics.wigner.wigner_3j``.

    >>> wigner_3j(1, 1, 2, 0, 0, 0)
    sqrt(30)/15
    >>> wigner_3j(Fraction(1, 2), Fraction(1, 2), 1, Fraction(1, 2), Fraction(-1, 2), 0)
    sqrt(6)/6
    >>> wigner_3j(1, 1, 3, 0, 0, 0)   # triangle rule: exact zero
    0

    Returns:
        A sympy number ``Rational * sqrt(Integer)``.
    Raises:
        SpinError: for an invalid spin or projection.
    """
    return exact_3j(j1, j2, j3, m1, m2, m3).to_sympy()


# --------------------------------------------------------------------------- Clebsch–Gordan


def _cg_from_doubled(t1: int, tm1: int, t2: int, tm2: int, tJ: int, tM: int) -> ExactValue:
    v = _threej(t1, t2, tJ, tm1, tm2, -tM)
    if v.sign == 0:
        return v
    # <j1 m1 j2 m2|J M> = (-1)^(j1-j2+M) sqrt(2J+1) (j1 j2 J; m1 m2 -M)
    phase = -1 if ((t1 - t2 + tM) // 2) % 2 else 1
    # sqrt(s) sqrt(2J+1) with s square-free: g = gcd(s, 2J+1) comes out of the root, s/g and
    # (2J+1)/g are coprime, and only the small (2J+1)/g needs splitting
    g = math.gcd(v.radicand, tJ + 1)
    out, rad = _square_free_split((tJ + 1) // g)
    return _make(phase * Fraction(v.sign * v.num * g * out, v.den), (v.radicand // g) * rad)


def exact_clebsch_gordan(j1, m1, j2, m2, J, M) -> ExactValue:
    """``<j1 m1 j2 m2 | J M>`` as an :class:`ExactValue`.

    Returns:
        The exact value (zero when a selection rule fails).
    Raises:
        SpinError: for an invalid spin or projection.
    """
    t1, t2, tJ, tm1, tm2, tM = _coupling_args((j1, j2, J), (m1, m2, M), ("j1", "j2", "J"), ("m1", "m2", "M"))
    return _cg_from_doubled(t1, tm1, t2, tm2, tJ, tM)


def clebsch_gordan(j1, m1, j2, m2, J, M) -> sympy.Expr:
    """Clebsch–Gordan coefficient ``<j1 m1 j2 m2 | J M>`` exactly (Condon–Shortley).

    >>> clebsch_gordan(Fraction(1, 2), Fraction(1, 2), Fraction(1, 2), Fraction(-1, 2), 1, 0)
    sqrt(2)/2
    >>> clebsch_gordan(1, 1, 1, -1, 0, 0)
    sqrt(3)/3

    Returns:
        A sympy number ``Rational * sqrt(Integer)``.
    Raises:
        SpinError: for an invalid spin or projection.
    """
    return exact_clebsch_gordan(j1, m1, j2, m2, J, M).to_sympy()
