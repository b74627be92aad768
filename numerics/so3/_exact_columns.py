r"""Correctly rounded Clebsch–Gordan / 3j tables from exact integer recursions, one column at a time.

For a canonical triple ``a <= b <= c`` and ``M >= 0`` the column ``G(ma) = <a ma b mb|c M>``
(``mb = M - ma``) satisfies the three-term recursion of
:mod:`nntheory.numerics.so3._schulten_gordon`. Writing ``G = K H Q`` with
``Q(ma)^2 = (a+ma)! (b+mb)! / ((a-ma)! (b-mb)!)`` turns its square-root coefficients into integers:

    ``(b+mb+1)(b-mb) H(ma-1) + D(ma) H(ma) + (a-ma)(a+ma+1) H(ma+1) = 0``,
    ``D = a(a+1) + b(b+1) - c(c+1) + 2 ma mb``,

so ``H`` is run exactly (Python integers, one common denominator) from ``H(lo) = 1``. The column is
a unit vector and ``G(hi) > 0`` (Condon–Shortley), so every ``G(ma)^2 = H^2 Q^2 / sum H^2 Q^2`` is an
exact rational, with its sign from ``H``: no Racah sum and no float enters. The 3j symbol is
``(a b c; ma mb -M) = (-1)^(a-b+M) G / sqrt(2c+1)``. Each value is then rounded once to the nearest
float (ties to even) from its exact square: a float candidate is checked against the exact
midpoints with integer arithmetic and moved by one ulp if needed.

The values fill the canonical layout of :func:`~nntheory.numerics.so3._schulten_gordon._canonical_3j`
(one float array per position of ``L`` among ``a, b, c`` for ``normalization="cg"``, whose factor
``sqrt(2L+1)`` is applied before rounding), so the table is assembled by the same vectorised
symmetry map as the recursion route.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from nntheory.numerics.so3._schulten_gordon import _sg_layout
from nntheory.theory.so3._exact import _round_sqrt_fraction

__all__: list[str] = []


@lru_cache(maxsize=None)
def _fact(n: int) -> int:
    return math.factorial(n)


def exact_column_squares(a: int, b: int, c: int, M: int) -> tuple[int, list[tuple[int, int]]]:
    """``(lo, [(sign, p), ...], T)``: ``<a ma b mb|c M>^2 = p / T`` and its sign, for ``ma = lo..hi``.

    Integer arguments with ``|a - b| <= c <= a + b`` and ``|M| <= c``.
    """
    lo, hi = max(-a, M - b), min(a, M + b)
    base = a * (a + 1) + b * (b + 1) - c * (c + 1)
    # H(ma) = N(ma) / Dn(ma); Dn(ma + 1) = Dn(ma) * e(ma); all rescaled to Dn(hi) at the end
    N = [1]
    Dn = [1]
    prev_N, prev_e = 0, 1  # H(lo - 1) = 0
    for ma in range(lo, hi):
        mb = M - ma
        c1 = (b + mb + 1) * (b - mb)
        e = (a - ma) * (a + ma + 1)
        nxt = -(c1 * prev_e * prev_N + (base + 2 * ma * mb) * N[-1])
        prev_N, prev_e = N[-1], e
        N.append(nxt)
        Dn.append(Dn[-1] * e)
    top = Dn[-1]
    two_a, two_b = _fact(2 * a), _fact(2 * b)
    terms = []
    for i, ma in enumerate(range(lo, hi + 1)):
        mb = M - ma
        n = N[i] * (top // Dn[i])
        q = _fact(a + ma) * _fact(b + mb) * (two_a // _fact(a - ma)) * (two_b // _fact(b - mb))
        terms.append((n, n * n * q))
    T = sum(p for _, p in terms)
    s_hi = 1 if terms[-1][0] > 0 else -1
    return lo, [((1 if n > 0 else -1) * s_hi if n else 0, p) for n, p in terms], T


def round_sqrt_ratio(p: int, q: int, bits: int = 53, emin: int = -1074) -> float:
    """``sqrt(p / q)`` (non-negative integers, ``q > 0``) correctly rounded (nearest, ties to even).

    Fast path: a float candidate from the correctly rounded quotient, verified against the exact
    midpoints to its neighbours; the exact integer-square-root route otherwise (subnormal range).
    """
    if p == 0:
        return 0.0
    x = math.sqrt(p / q) if p < q << 2000 and q < p << 2000 else None
    if x is None or x == 0.0 or math.isinf(x) or x < 2.0 ** (emin + bits + 10):
        return _round_sqrt_fraction(p, q, bits, emin)
    if bits != 53:
        x = float(np.float32(x))
    for _ in range(4):
        mant, e = math.frexp(x)  # x = mant * 2^e, 0.5 <= mant < 1
        Mi = int(mant * (1 << bits))  # x = Mi * 2^(e - bits)
        sh = e - bits - 1  # midpoints (2 Mi +- 1) * 2^sh; the lower one is finer at powers of two
        lo_mid = (4 * Mi - 1) if Mi == 1 << (bits - 1) else (2 * Mi - 1) * 2
        hi_mid = (2 * Mi + 1) * 2
        # compare p/q with (mid * 2^(sh - 1))^2: p * 2^(2 - 2 sh) vs mid^2 q
        if sh <= 1:
            lhs, f = p << (2 - 2 * sh), 1
        else:
            lhs, f = p, 1 << (2 * sh - 2)
        if lhs > hi_mid * hi_mid * q * f:
            x = math.nextafter(x, math.inf) if bits == 53 else float(np.nextafter(np.float32(x), np.float32(np.inf)))
        elif lhs < lo_mid * lo_mid * q * f:
            x = math.nextafter(x, 0.0) if bits == 53 else float(np.nextafter(np.float32(x), np.float32(0)))
        elif lhs == hi_mid * hi_mid * q * f or lhs == lo_mid * lo_mid * q * f:
            return _round_sqrt_fraction(p, q, bits, emin)  # an exact tie: the slow route decides
        else:
            return x
    return _round_sqrt_fraction(p, q, bits, emin)  # pragma: no cover - the candidate is within 1 ulp


def exact_canonical(lmin: int, lmax: int, normalization: str, bits: int, emin: int):
    """Correctly rounded canonical blocks in the layout of ``_canonical_3j``.

    Returns ``(flat, info)``: ``flat`` has one row per position of ``L`` among ``(a, b, c)`` for
    ``normalization="cg"`` (the value times ``sqrt(2 l_p + 1)``, rounded) and one row (the 3j symbol)
    otherwise; ``info[a] = (offset, ncol, colbase)``.
    """
    parts, info, off = [], {}, 0
    nrows = 3 if normalization == "cg" else 1
    for a in range(lmin, lmax + 1):
        T, colbase = _exact_block(a, lmax, normalization, bits, emin, nrows)
        info[a] = (off, T.shape[2] // 2, colbase)
        parts.append(T.reshape(nrows, -1))
        off += T.shape[1] * T.shape[2]
    return np.concatenate(parts, axis=1), info


def _exact_block(a: int, lmax: int, normalization: str, bits: int, emin: int, nrows: int):
    """The ``(nrows, 2a+1, 2 ncol)`` canonical block of ``a`` (first half ``(a b c; ma, M-ma, -M)``,
    second half its mirror), exactly rounded."""
    b_arr, c_arr, M_arr, colbase = _sg_layout(a, lmax)
    ncol = len(M_arr)
    T = np.zeros((nrows, 2 * a + 1, ncol))
    col = 0
    while col < ncol:
        b, c = int(b_arr[col]), int(c_arr[col])
        for M in range(c + 1):
            lo, vals, tot = exact_column_squares(a, b, c, M)
            phase = -1 if (a - b + M) % 2 else 1
            for i, (sg, p) in enumerate(vals):
                if sg == 0:
                    continue
                row = lo + i + a
                s = sg * phase
                if nrows == 1:  # 3j^2 = G^2 / (2c + 1)
                    T[0, row, col + M] = s * round_sqrt_ratio(p, tot * (2 * c + 1), bits, emin)
                else:  # cg with L at position k: 3j^2 (2 l_k + 1)
                    for k, lk in enumerate((a, b, c)):
                        T[k, row, col + M] = s * (round_sqrt_ratio(p * (2 * lk + 1), tot * (2 * c + 1), bits, emin)
                                                  if lk != c else round_sqrt_ratio(p, tot, bits, emin))
        col += c + 1
    mirror = T[:, ::-1, :]
    parity = np.where((a + b_arr + c_arr) % 2 == 1, -1.0, 1.0)
    return np.concatenate([T, mirror * parity], axis=2), colbase
