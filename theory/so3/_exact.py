"""Exact numbers of the form ``±(p/q) sqrt(r)`` and the integer machinery that makes them.

:class:`ExactValue` is the canonical form of every SU(2) coupling coefficient (``r`` square-free,
``p/q`` reduced), so equality, hashing and correct rounding to floats are exact. The square-root
parts of factorial ratios are split by Legendre's formula (prime-parity masks) into a rational
and a square-free radicand; alternating Racah sums run by Horner's rule on integer term ratios.
Python integers only: no float, no sympy simplification (sympy objects are built in
:meth:`ExactValue.to_sympy` only).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import sympy

from nntheory.errors import NNTheoryError

__all__ = ["ExactValue", "round_to_quantum"]

class ExactValue:
    """``sign * (num / den) * sqrt(radicand)`` with ``radicand`` square-free and ``num/den`` reduced.

    The canonical form makes equality, hashing and correctly rounded conversion to floats exact.
    """

    __slots__ = ("sign", "num", "den", "radicand")

    def __init__(self, sign: int, num: int, den: int, radicand: int):
        self.sign, self.num, self.den, self.radicand = sign, num, den, radicand

    ZERO: "ExactValue"

    @property
    def is_zero(self) -> bool:
        """Whether the value is exactly 0."""
        return self.sign == 0

    def squared(self) -> Fraction:
        """The exact square, a ``Fraction``."""
        return Fraction(self.num * self.num * self.radicand, self.den * self.den)

    def to_sympy(self) -> sympy.Expr:
        """The value as ``Rational * sqrt(Integer)`` (sympy), ``0`` for zero."""
        if self.sign == 0:
            return sympy.S.Zero
        r = sympy.Rational(self.sign * self.num, self.den)
        if self.radicand == 1:
            return r
        return sympy.Mul(r, sympy.Pow(sympy.Integer(self.radicand), sympy.S.Half, evaluate=False))

    def to_float(self, mantissa_bits: int = 53, min_exponent: int = -1074) -> float:
        """Correctly rounded (to nearest, ties to even) binary float with the given precision.

        ``mantissa_bits=53, min_exponent=-1074`` is IEEE float64 (default), ``24, -149`` float32;
        the result is returned as a Python float, exactly representable in the target format.
        """
        if self.sign == 0:
            return 0.0
        return self.sign * _round_sqrt_fraction(self.num * self.num * self.radicand, self.den * self.den,
                                                mantissa_bits, min_exponent)

    def __float__(self) -> float:
        return self.to_float()

    def __eq__(self, other):
        if isinstance(other, ExactValue):
            return (self.sign, self.num, self.den, self.radicand) == (other.sign, other.num, other.den, other.radicand)
        return NotImplemented

    def __hash__(self):
        return hash((self.sign, self.num, self.den, self.radicand))

    def __repr__(self):
        return f"ExactValue({self.to_sympy()})"


ExactValue.ZERO = ExactValue(0, 0, 1, 1)


def _round_sqrt_fraction(p: int, q: int, mantissa_bits: int, min_exponent: int) -> float:
    """sqrt(p/q) for positive ints, correctly rounded to ``mantissa_bits`` with subnormals below 2**min_exponent."""
    # exponent e with 2**e <= sqrt(p/q) < 2**(e+1)
    e = (p.bit_length() - q.bit_length()) // 2 - 1
    while True:  # adjust e exactly: compare p/q with 4**e
        lo = (p << max(0, -2 * e)) >= (q << max(0, 2 * e))
        hi = (p << max(0, -2 * (e + 1))) < (q << max(0, 2 * (e + 1)))
        if lo and hi:
            break
        e += 1 if not hi else -1
    # quantum of the target format at this exponent (subnormals have a fixed quantum)
    quantum = max(e - (mantissa_bits - 1), min_exponent)
    # integer s = floor(sqrt(p/q) / 2**(quantum - 2)) carries two guard bits; sticky from the remainder
    shift = -(quantum - 2)  # sqrt(p/q) * 2**shift = sqrt(p * 4**shift / q)
    if shift >= 0:
        num, den = p << (2 * shift), q
    else:
        num, den = p, q << (-2 * shift)
    n_floor = num // den
    s = math.isqrt(n_floor)
    sticky = 0 if s * s * den == num else 1
    # s has two guard bits below the quantum; with the sticky bit appended, 2s + sticky over
    # 2^(shift + 1) rounds to the same grid point as sqrt(p/q) itself (it is never a false tie)
    return math.ldexp(round_to_quantum(2 * s + sticky, shift + 1, quantum), quantum)


def round_to_quantum(n: int, P: int, quantum: int) -> int:
    """The integer ``k`` nearest to ``n / 2^P / 2^quantum`` (ties to even), exactly.

    The one rounding step of nntheory: every correctly rounded float or fixed-point code is
    ``k * 2^quantum`` for some exact dyadic ``n / 2^P`` (``nntheory.numerics._rounding`` builds on it).

    Args:
        n: numerator (any sign).
        P: the value is ``n / 2^P``.
        quantum: exponent of the grid spacing ``2^quantum``.
    Returns:
        ``k`` such that ``k * 2^quantum`` is the correctly rounded value.
    """
    sign = -1 if n < 0 else 1
    n = abs(n)
    shift = quantum + P
    if shift <= 0:
        return sign * (n << (-shift))
    q, rem = divmod(n, 1 << shift)
    half = 1 << (shift - 1)
    if rem > half or (rem == half and q & 1):
        q += 1
    return sign * q


_PRIMES_CACHE: list[int] = [2]


def _primes_upto(n: int) -> list[int]:
    """The cached list of primes in ascending order, covering at least ``n`` (may go further)."""
    if _PRIMES_CACHE[-1] < n:
        top = max(2 * n, 1000)
        sieve = bytearray([1]) * (top + 1)
        sieve[0:2] = b"\x00\x00"
        for i in range(2, math.isqrt(top) + 1):
            if sieve[i]:
                sieve[i * i :: i] = bytearray(len(range(i * i, top + 1, i)))
        _PRIMES_CACHE[:] = [i for i in range(top + 1) if sieve[i]]
    return _PRIMES_CACHE


@lru_cache(maxsize=None)
def _factorial(n: int) -> int:
    return math.factorial(n)


@lru_cache(maxsize=1 << 16)
def _mask_product(mask: int) -> int:
    """Product of the primes whose bits are set in ``mask`` (bit k: the k-th prime)."""
    primes = _primes_upto(2)
    s, k = 1, 0
    while mask:
        if mask & 1:
            s *= primes[k]
        mask >>= 1
        k += 1
    return s


@lru_cache(maxsize=None)
def _factorial_parity_mask(n: int) -> int:
    """Bit k set iff the k-th prime divides n! to an odd power (Legendre's formula)."""
    mask = 0
    for k, p in enumerate(_primes_upto(max(n, 2))):
        if p > n:
            break
        e, pk = 0, p
        while pk <= n:
            e += n // pk
            pk *= p
        if e & 1:
            mask |= 1 << k
    return mask


def _sqrt_factorial_ratio(top: list[int], bottom: list[int]) -> tuple[Fraction, int]:
    """sqrt(prod(top)! / prod(bottom)!) = r * sqrt(s): rational r and square-free s."""
    rn, rd, s = _sqrt_factorial_ratio_ints(top, bottom)
    return Fraction(rn, rd), s


def _sqrt_factorial_ratio_ints(top: list[int], bottom: list[int]) -> tuple[int, int, int]:
    """As :func:`_sqrt_factorial_ratio`, returning coprime (numerator, denominator, s)."""
    mask = 0
    for n in top:
        mask ^= _factorial_parity_mask(n)
    for n in bottom:
        mask ^= _factorial_parity_mask(n)
    s = _mask_product(mask) if mask else 1
    num = math.prod(_factorial(n) for n in top)
    den = math.prod(_factorial(n) for n in bottom) * s
    g = math.gcd(num, den)
    num, den = num // g, den // g
    rn, rd = math.isqrt(num), math.isqrt(den)
    if rn * rn != num or rd * rd != den:  # pragma: no cover - guards Legendre's formula above
        raise NNTheoryError(f"factorial ratio {num}/{den} over its square-free part {s} is not a square")
    return rn, rd, s


def _make(value: Fraction, s: int) -> ExactValue:
    if value == 0:
        return ExactValue.ZERO
    return ExactValue(1 if value > 0 else -1, abs(value.numerator), value.denominator, s)


def _alternating_sum(k0: int, k1: int, ratio) -> Fraction:
    """sum_{k=k0}^{k1} t_k / t_k0 where t_{k+1}/t_k = ratio(k) = (a, b) meaning -a/b, by Horner."""
    return Fraction(*_alternating_sum_ints(k0, k1, ratio))


def _alternating_sum_ints(k0: int, k1: int, ratio) -> tuple[int, int]:
    """:func:`_alternating_sum` as an unreduced (numerator, denominator) pair of ints."""
    num, den = 1, 1
    for k in range(k1 - 1, k0 - 1, -1):
        a, b = ratio(k)
        # 1 + (-a/b) * (num/den)
        num, den = den * b - a * num, den * b
    return num, den


@lru_cache(maxsize=4096)
def _square_free_split(n: int) -> tuple[int, int]:
    """n = out**2 * rad with rad square-free, by trial division (n is small: at most 2J + 1)."""
    out, rad, p = 1, 1, 2
    while p * p <= n:
        while n % (p * p) == 0:
            n //= p * p
            out *= p
        if n % p == 0:
            n //= p
            rad *= p
        p += 1
    return out, rad * n
