r"""Correct rounding (to nearest, ties to even) of exact values, once for every table writer.

Every exact value is reduced to a dyadic rational ``n / 2^P`` (exact, or an interval of two such
with a sticky bit) and rounded by :func:`round_to_quantum` (pure Python, defined next to
:class:`~nntheory.theory.so3.ExactValue`, whose ``to_float`` uses it too: theory cannot import numerics): to a float format (quantum
``2^max(e - (bits - 1), emin)``, subnormals included) by :func:`round_dyadic`, or to a fixed-point
grid (quantum ``2^-frac``) by :func:`round_mpf_to_grid`.

* an :class:`~nntheory.theory.so3.ExactValue` ``±(p/q) sqrt(r)``: :func:`round_exact` (its own
  pure-integer ``to_float``: theory stays free of numerics);
* a sum ``sum_r q_r sqrt(r)`` of square roots: :func:`round_sqrt_sum` (interval refinement);
* an mpmath ``mpf`` (a dyadic number): :func:`round_mpf` (float) or :func:`round_mpf_to_grid` (the
  integer code of a fixed-point value, for activation tables).

Formats are ``"float64"`` (53 bits, least exponent -1074) and ``"float32"`` (24 bits, -149).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np

from nntheory.errors import SpecError
from nntheory.theory.so3._exact import ExactValue, round_to_quantum

__all__ = [
    "FLOAT_FORMATS",
    "float_format",
    "round_dyadic",
    "round_exact",
    "round_exact_cached",
    "round_mpf",
    "round_mpf_to_grid",
    "round_sqrt_sum",
    "round_to_quantum",
]

FLOAT_FORMATS = {"float64": (53, -1074), "float32": (24, -149)}


def float_format(dtype, *, error: type[Exception] = SpecError) -> tuple[int, int]:
    """``(mantissa bits, least exponent)`` of a float format.

    Args:
        dtype: anything ``numpy.dtype`` accepts that names float32 or float64.
        error: the exception class raised for other dtypes.
    Returns:
        ``(53, -1074)`` for float64, ``(24, -149)`` for float32.
    Raises:
        error: for any other dtype.
    """
    name = np.dtype(dtype).name
    if name not in FLOAT_FORMATS:
        raise error(f"dtype must be float32 or float64, got {name}")
    return FLOAT_FORMATS[name]


def round_dyadic(n: int, P: int, bits: int, emin: int) -> float:
    """``n / 2^P`` correctly rounded (nearest, ties to even) to a binary format with subnormals.

    Args:
        n: numerator (any sign).
        P: the value is ``n / 2^P``.
        bits: mantissa bits of the format (53 for float64, 24 for float32).
        emin: exponent of the least subnormal (-1074, -149).
    Returns:
        The rounded value as a Python float (exactly representable in the format).
    """
    if n == 0:
        return 0.0
    e_top = abs(n).bit_length() - 1 - P
    quantum = max(e_top - (bits - 1), emin)
    return math.ldexp(round_to_quantum(n, P, quantum), quantum)


def round_exact(value: ExactValue, dtype="float64") -> float:
    """Correctly rounded float (nearest, ties to even) of an exact coefficient, as a Python float.

    Args:
        value: an :class:`~nntheory.theory.so3.ExactValue` ``±(p/q) sqrt(r)``.
        dtype: ``"float64"`` or ``"float32"``.
    Returns:
        The rounded value (a Python float, representable in ``dtype``).
    Raises:
        SpecError: for other dtypes.
    """
    return value.to_float(*float_format(dtype))


@lru_cache(maxsize=1 << 18)
def round_exact_cached(value: ExactValue, bits: int, emin: int) -> float:
    """:func:`round_exact` with the format as ``(bits, emin)``, cached (entries of a symmetry class
    share their value).

    Returns:
        ``value.to_float(bits, emin)``.
    """
    return value.to_float(bits, emin)


def round_mpf(x: mpmath.mpf, dtype) -> float:
    """Correctly round an mpmath number (a dyadic rational, any precision) to float64/float32.

    Args:
        x: a finite ``mpmath.mpf``.
        dtype: ``"float64"`` or ``"float32"``.
    Returns:
        The rounded value, subnormals included.
    """
    bits, emin = float_format(dtype)
    man, exp = _mpf_dyadic(x)
    return round_dyadic(man, -exp, bits, emin)


def round_mpf_to_grid(x, frac: int) -> int:
    """The integer ``k`` with ``k * 2^-frac`` nearest to ``x`` (ties to even): a fixed-point code.

    Args:
        x: a finite mpmath number (or anything ``mpmath.mpf`` accepts).
        frac: number of fractional bits of the grid.
    Returns:
        ``k`` (unsaturated: the caller clips to its type's range).
    """
    man, exp = _mpf_dyadic(mpmath.mpf(x))
    return round_to_quantum(man, -exp, -frac)


def _mpf_dyadic(x: mpmath.mpf) -> tuple[int, int]:
    """``(man, exp)`` with ``x = man * 2^exp`` exactly."""
    if x == 0:
        return 0, 0
    sign, man, exp, _ = x._mpf_
    return (-int(man) if sign else int(man)), int(exp)


def round_sqrt_sum(terms: dict[int, Fraction], dtype) -> float:
    """Correctly round ``sum_r q_r sqrt(r)`` to float64/float32.

    The radicands ``r`` are distinct and square-free and every ``q_r != 0``, so the sum is never
    zero (square roots of distinct square-free integers are linearly independent over Q). It is
    bracketed in fixed point, ``lo / 2^P <= sum <= hi / 2^P``, with ``P`` doubled until both ends
    round alike.

    Args:
        terms: ``{r: q_r}``.
        dtype: ``"float64"`` or ``"float32"``.
    Returns:
        The correctly rounded sum.
    """
    bits, emin = float_format(dtype)
    if len(terms) == 1:
        (r, q), = terms.items()
        return ExactValue(1 if q > 0 else -1, abs(q.numerator), q.denominator, r).to_float(bits, emin)
    P = 160
    while True:
        lo, hi = _sqrt_sum_bracket(terms, P)
        a, b = round_dyadic(lo, P, bits, emin), round_dyadic(hi, P, bits, emin)
        if a == b and (lo > 0) == (hi > 0) and lo != 0 and hi != 0:
            return a
        P *= 2


def _sqrt_sum_bracket(terms: dict[int, Fraction], P: int) -> tuple[int, int]:
    """Integers ``lo <= 2^P sum_r q_r sqrt(r) <= hi``."""
    lo = hi = 0
    for r, q in terms.items():
        n2 = q.numerator * q.numerator * r << (2 * P)
        f = math.isqrt(n2 // (q.denominator * q.denominator))  # floor(|q| sqrt(r) 2^P)
        if q > 0:
            lo, hi = lo + f, hi + f + 1
        else:
            lo, hi = lo - f - 1, hi - f
    return lo, hi
