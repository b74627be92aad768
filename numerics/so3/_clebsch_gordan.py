"""Clebsch–Gordan tables: every nonzero coupling coefficient up to ``lmax``, as a :class:`LookupTable`.

``method="exact"`` rounds each exact value once (nearest, ties to even) to float64 or float32;
``method="recursion"`` is the fast float64 Schulten–Gordon route of
:mod:`nntheory.numerics.so3._schulten_gordon`. The real basis is that of
:mod:`nntheory.theory.so3._basis`.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction

import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpinError
from nntheory.numerics._rounding import round_exact_cached, round_sqrt_sum
from nntheory.numerics.so3._basis import _add_scaled, _real_terms
from nntheory.numerics.so3._exact_columns import exact_canonical
from nntheory.numerics.so3._lookup_table import (CONVENTIONS, DEFAULT_MAX_BYTES, RECURSION_FLOOR, LookupTable,
                                                 check_choice, check_lmax, check_table_bytes, dtype_bits)
from nntheory.numerics.so3._schulten_gordon import (_canonical_3j, _fill_all, _complex_rows_plan, _recursion_rows,
                                                    _signed_layout)
from nntheory.theory.so3._exact import ExactValue, _square_free_split
from nntheory.theory.so3._su2 import _cg_from_doubled, _threej

__all__ = ["cg_blocks", "cg_table"]


def _validate_table_args(lmax, basis, normalization, dtype, method, lmin, max_bytes) -> tuple[int, int]:
    lmax = check_lmax(lmax, "cg_table")
    lmin = check_int(lmin, "lmin", lo=0, hi=lmax, where="cg_table", error=SpinError)
    check_choice(basis, "basis", ("real", "complex"))
    check_choice(normalization, "normalization", ("cg", "3j", "unit"))
    dtype_bits(dtype)
    check_choice(method, "method", ("exact", "recursion"))
    check_table_bytes("cg-complex" if basis == "complex" else "cg", lmax, max_bytes, "cg_table", lmin)
    return lmax, lmin


def cg_table(lmax: int, *, basis: str = "real", normalization: str = "cg", dtype="float64",
             method: str = "exact", lmin: int = 0, max_bytes: int = DEFAULT_MAX_BYTES) -> LookupTable:
    r"""All nonzero coupling coefficients with ``lmin <= l1, l2, L <= lmax`` (integer ``l``).

    ``normalization``: ``"cg"`` ``<l1 m1 l2 m2|L M>``; ``"unit"`` that divided by ``sqrt(2L+1)``
    (unit Frobenius norm per triple, e3nn's choice); ``"3j"`` the 3j symbol with ``M`` standing for
    ``m3`` (complex basis) or the real invariant tensor (real basis).
    ``method="exact"`` rounds each exact value once (complex basis: the exact sqrt-rational; real
    basis: the 2–4-term combination evaluated with 256-bit mpmath, then rounded), so entries are
    correctly rounded. ``method="recursion"`` is the fast float64 route (see module docstring),
    rounded to ``dtype`` at the end.

    Args:
        lmax: largest degree (>= 0).
        basis: ``"real"`` or ``"complex"``.
        normalization: ``"cg"``, ``"unit"`` or ``"3j"``.
        dtype: ``"float64"`` or ``"float32"``.
        method: ``"exact"`` or ``"recursion"``.
        lmin: smallest degree (``0 <= lmin <= lmax``).
        max_bytes: memory limit (default 2 GiB); the estimate (about ``32 (lmax+1)^5`` bytes in the
            complex basis, twice that in the real one) is checked before anything is allocated.
    Returns:
        A :class:`LookupTable` of kind ``"cg"``: index ``(l1, m1, l2, m2, L, M)``, provenance in ``meta``.
    Raises:
        SpinError: for a bad ``lmax``, ``lmin``, ``basis``, ``normalization``, ``dtype`` or ``method``,
            or a table estimated above ``max_bytes`` (the message names ``lmax``, the bytes and the limit).
    """
    lmax, lmin = _validate_table_args(lmax, basis, normalization, dtype, method, lmin, max_bytes)
    idx, val = [], []
    if basis == "complex":
        index, value = _complex_table(lmin, lmax, normalization, dtype, method)
    else:
        canon = _canonical_3j(lmin, lmax) if method == "recursion" else None
        for l1 in range(lmin, lmax + 1):
            if method == "recursion":
                i, v = _recursion_rows(l1, lmin, lmax, basis, normalization, canon)
                idx.append(i)
                val.append(v.astype(dtype, copy=False))
                continue
            _exact_rows(l1, lmin, lmax, basis, normalization, dtype, idx, val)
        index = np.concatenate(idx).astype(np.int32, copy=False) if idx else np.zeros((0, 6), np.int32)
        value = np.concatenate(val).astype(dtype, copy=False) if val else np.zeros(0, dtype)
    meta = {
        "kind": "cg", "lmax": lmax, "lmin": lmin, "basis": basis, "normalization": normalization,
        "dtype": np.dtype(dtype).name, "method": method,
        "accuracy": "correctly rounded (nearest, ties to even)" if method == "exact"
        else "float64 Schulten-Gordon recursion: absolute error a few ulp of 1 before rounding to dtype; |entries| < 1e-14 dropped",
        "conventions": CONVENTIONS, "index": ["l1", "m1", "l2", "m2", "L", "M"],
    }
    return LookupTable(index, value, meta)


def _complex_table(lmin: int, lmax: int, normalization: str, dtype, method: str):
    """Index and values of a complex-basis table, written once into preallocated arrays."""
    exact = method == "exact"
    workers = _fill_workers()
    canon = exact_canonical(lmin, lmax, normalization, *dtype_bits(dtype)) if exact else _canonical_3j(lmin, lmax)
    signed = not exact and normalization == "3j"
    if signed:
        canon = _signed_layout(*canon, RECURSION_FLOOR)  # [U, -U]: signs and zeros folded in
    plans = [_complex_rows_plan(l1, lmin, lmax, normalization, canon, exact, signed=signed)
             for l1 in range(lmin, lmax + 1)]
    plans = [p for p in plans if p is not None]
    total = sum(p["total"] for p in plans)
    index, value = np.empty((total, 6), np.int32), np.empty(total)
    n = _fill_all(plans, index, value, workers if total >= 1 << 20 else 1)  # threads pay off from ~1M rows
    return index[:n], value[:n].astype(dtype, copy=False)


def _fill_workers() -> int:
    """Threads for filling a table: the cores this process may use, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def _exact_rows(l1: int, lmin: int, lmax: int, basis: str, normalization: str, dtype, idx: list, val: list) -> None:
    """Append the COO rows and correctly rounded values of every triple with first degree ``l1``."""
    for l2 in range(lmin, lmax + 1):
        for L in range(max(abs(l1 - l2), lmin), min(l1 + l2, lmax) + 1):
            block = _exact_block(l1, l2, L, basis, normalization, dtype)
            a, b, c = np.nonzero(block)
            n = len(a)
            idx.append(np.stack([np.full(n, l1), a - l1, np.full(n, l2), b - l2, np.full(n, L), c - L], axis=1))
            val.append(block[a, b, c])


def cg_blocks(lmax: int, **kw) -> dict[tuple[int, int, int], np.ndarray]:
    """Dense blocks ``{(l1, l2, L): C}`` for every allowed triple up to ``lmax``.

    Args:
        lmax: largest degree.
        **kw: the keywords of :func:`cg_table`.
    Returns:
        ``{(l1, l2, L): array of shape (2l1+1, 2l2+1, 2L+1)}``.
    """
    t = cg_table(lmax, **kw)
    triples = sorted({(int(r[0]), int(r[2]), int(r[4])) for r in t.index})
    return {k: t.dense(*k) for k in triples}


def _exact_block(l1: int, l2: int, L: int, basis: str, normalization: str, dtype) -> np.ndarray:
    out = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * L + 1))
    exact = _exact_complex_values(l1, l2, L, normalization)
    if basis == "complex":
        bits, emin = dtype_bits(dtype)
        for (m1, m2, M), v in exact.items():
            out[m1 + l1, m2 + l2, M + L] = round_exact_cached(v, bits, emin)
        return out
    invariant = normalization == "3j"
    odd = (l1 + l2 + L) % 2
    for a in range(-l1, l1 + 1):
        ra = _real_terms(l1, a)
        for b in range(-l2, l2 + 1):
            rb = _real_terms(l2, b)
            for c in range(-L, L + 1):
                # sum of +-(1/sqrt2)^k * v over the (at most 8) complex entries feeding this one
                acc: dict[int, Fraction] = {}
                for m1, p1, k1 in ra:
                    for m2, p2, k2 in rb:
                        for M, p3, k3 in _real_terms(L, c):
                            v = exact.get((m1, m2, M))
                            if v is None:
                                continue
                            # intertwiner uses U_{cM} = conj(conj(U))_{cM}; invariant uses conj(U)_{cM}
                            ph = p1 * p2 * (p3 if invariant else p3.conjugate())
                            if odd:
                                ph *= -1j
                            if ph.imag != 0 and ph.real == 0:
                                continue  # purely imaginary: cancels in the real tensor
                            _add_scaled(acc, v, int(ph.real), k1 + k2 + k3)
                acc = {r: q for r, q in acc.items() if q != 0}
                if acc:
                    out[a + l1, b + l2, c + L] = round_sqrt_sum(acc, dtype)
    return out


def _exact_complex_values(l1: int, l2: int, L: int, normalization: str) -> dict:
    vals = {}
    for m1 in range(-l1, l1 + 1):
        for m2 in range(-l2, l2 + 1):
            M = m1 + m2
            if abs(M) > L:
                continue
            if normalization == "3j":
                v = _threej(2 * l1, 2 * l2, 2 * L, 2 * m1, 2 * m2, -2 * M)
                key = (m1, m2, -M)
            else:
                v = _cg_from_doubled(2 * l1, 2 * m1, 2 * l2, 2 * m2, 2 * L, 2 * M)
                if normalization == "unit" and v.sign:
                    v = _divide_sqrt(v, 2 * L + 1)
                key = (m1, m2, M)
            if v.sign:
                vals[key] = v
    return vals


def _divide_sqrt(v: ExactValue, n: int) -> ExactValue:
    """v / sqrt(n) exactly: v * sqrt(n) / n."""
    g = math.gcd(v.radicand, n)
    out, rad = _square_free_split(n // g)
    frac = Fraction(v.num * g * out, v.den * n)
    return ExactValue(v.sign, frac.numerator, frac.denominator, (v.radicand // g) * rad)
