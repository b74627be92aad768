"""Exact SU(2) coupling coefficients: Wigner 3j, Clebsch–Gordan, Racah 6j and 9j symbols.

Every coefficient is a signed square root of a rational number. It is computed with Python
integers only: the square-root part is a ratio of factorials, split by Legendre's formula into a
rational factor and a square-free radicand (``prime-factor`` route); the alternating Racah sum is
evaluated by Horner's rule on its term ratios with integer numerators and denominators, reduced
once at the end. No float, and no sympy simplification, is involved; sympy objects are only built
at the public boundary (``wigner_3j`` etc. return ``Rational * sqrt(Integer)``).

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

__all__ = [
    "ExactValue",
    "clebsch_gordan",
    "wigner_3j",
    "wigner_6j",
    "wigner_9j",
    "exact_3j",
    "exact_clebsch_gordan",
    "exact_6j",
    "exact_9j",
    "two_j",
]


# --------------------------------------------------------------------------- spins


def two_j(value, name: str = "j", *, projection: bool = False) -> int:
    """Return ``2 * value`` as an int, or raise :class:`SpinError` naming ``name``.

    ``value`` must be an integer or half-integer (``int``, ``Fraction``, sympy ``Rational`` or an
    exactly representable float such as ``1.5``); spins (``projection=False``) must be >= 0.
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


# --------------------------------------------------------------------------- exact values


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
        return self.sign == 0

    def squared(self) -> Fraction:
        """The exact square, a ``Fraction``."""
        return Fraction(self.num * self.num * self.radicand, self.den * self.den)

    def to_sympy(self) -> sympy.Expr:
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
    exact = s * s * den == num
    # s has mantissa_bits + 2 significant bits (or fewer for subnormals); round the two guard bits
    keep, guard = s >> 2, s & 3
    if guard > 2 or (guard == 2 and (not exact or keep & 1)) :
        keep += 1
    elif guard == 2 and exact and not keep & 1:
        pass
    return math.ldexp(keep, quantum)


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
    assert rn * rn == num and rd * rd == den, "factorial ratio over its square-free part is a square"
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


def _threej_args(j1, j2, j3, m1, m2, m3):
    t1, t2, t3 = two_j(j1, "j1"), two_j(j2, "j2"), two_j(j3, "j3")
    tm1, tm2, tm3 = (two_j(m, n, projection=True) for m, n in ((m1, "m1"), (m2, "m2"), (m3, "m3")))
    _check_jm(t1, tm1, "j1", "m1")
    _check_jm(t2, tm2, "j2", "m2")
    _check_jm(t3, tm3, "j3", "m3")
    _check_triad(t1, t2, t3, "(j1, j2, j3)")
    return t1, t2, t3, tm1, tm2, tm3


def exact_3j(j1, j2, j3, m1, m2, m3) -> ExactValue:
    """The 3j symbol as an :class:`ExactValue` (cheap to round to floats)."""
    return _threej(*_threej_args(j1, j2, j3, m1, m2, m3))


def wigner_3j(j1, j2, j3, m1, m2, m3) -> sympy.Expr:
    """Wigner 3j symbol ``(j1 j2 j3; m1 m2 m3)`` exactly, as ``Rational * sqrt(Integer)``.

    Same argument order as ``sympy.physics.wigner.wigner_3j``.

    >>> wigner_3j(1, 1, 2, 0, 0, 0)
    sqrt(30)/15
    >>> wigner_3j(Fraction(1, 2), Fraction(1, 2), 1, Fraction(1, 2), Fraction(-1, 2), 0)
    sqrt(6)/6
    >>> wigner_3j(1, 1, 3, 0, 0, 0)   # triangle rule: exact zero
    0
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


def exact_clebsch_gordan(j1, m1, j2, m2, J, M) -> ExactValue:
    """``<j1 m1 j2 m2 | J M>`` as an :class:`ExactValue`."""
    t1, t2, tJ = two_j(j1, "j1"), two_j(j2, "j2"), two_j(J, "J")
    tm1, tm2, tM = (two_j(m, n, projection=True) for m, n in ((m1, "m1"), (m2, "m2"), (M, "M")))
    _check_jm(t1, tm1, "j1", "m1")
    _check_jm(t2, tm2, "j2", "m2")
    _check_jm(tJ, tM, "J", "M")
    _check_triad(t1, t2, tJ, "(j1, j2, J)")
    return _cg_from_doubled(t1, tm1, t2, tm2, tJ, tM)


def clebsch_gordan(j1, m1, j2, m2, J, M) -> sympy.Expr:
    """Clebsch–Gordan coefficient ``<j1 m1 j2 m2 | J M>`` exactly (Condon–Shortley).

    >>> clebsch_gordan(Fraction(1, 2), Fraction(1, 2), Fraction(1, 2), Fraction(-1, 2), 1, 0)
    sqrt(2)/2
    >>> clebsch_gordan(1, 1, 1, -1, 0, 0)
    sqrt(3)/3
    """
    return exact_clebsch_gordan(j1, m1, j2, m2, J, M).to_sympy()


# --------------------------------------------------------------------------- 6j and 9j


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
    """Racah–Wigner 6j symbol ``{j1 j2 j3; j4 j5 j6}`` as an :class:`ExactValue`."""
    t, ok = _sixj_args(j1, j2, j3, j4, j5, j6)
    return _sixj(t) if ok else ExactValue.ZERO


def wigner_6j(j1, j2, j3, j4, j5, j6) -> sympy.Expr:
    """Racah–Wigner 6j symbol ``{j1 j2 j3; j4 j5 j6}`` exactly.

    >>> wigner_6j(1, 1, 1, 1, 1, 1)
    1/6
    >>> wigner_6j(Fraction(1, 2), Fraction(1, 2), 1, Fraction(1, 2), Fraction(1, 2), 0)
    1/2
    """
    return exact_6j(j1, j2, j3, j4, j5, j6).to_sympy()


def exact_9j(j1, j2, j3, j4, j5, j6, j7, j8, j9) -> ExactValue:
    """Wigner 9j symbol ``{j1 j2 j3; j4 j5 j6; j7 j8 j9}`` as an :class:`ExactValue`.

    Sum over x of (-1)^(2x) (2x+1) {j1 j4 j7; j8 j9 x}{j2 j5 j8; j4 x j6}{j3 j6 j9; x j1 j2};
    the Delta factors that contain x appear squared and are summed as rationals, the six
    x-independent ones are pulled out of the sum.
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
    """
    return exact_9j(j1, j2, j3, j4, j5, j6, j7, j8, j9).to_sympy()
