"""Reproducible random rational points and generic ranks of symbolic matrices (50-digit mpmath).

Generic ranks (orbit dimensions, functional independence) are the ranks at random points, which
equal the generic value except on a measure-zero set; exact symbolic ranks are never needed.
"""

from __future__ import annotations

import random
from typing import Any, Mapping, Sequence

import mpmath
import sympy

__all__: list[str] = []


def _points(symbols: Sequence[sympy.Symbol], count: int, seed: int, fixed: Mapping[sympy.Symbol, Any] | None = None):
    """Reproducible random rational points (small numerators and denominators, away from 0 and ±1)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        pt = {}
        for s in symbols:
            if fixed and s in fixed:
                pt[s] = fixed[s]
            else:
                v = sympy.Rational(rng.randint(3, 29), rng.randint(7, 31)) * rng.choice((1, -1))
                pt[s] = v
        out.append(pt)
    return out


_DPS = 50


def _numeric(expr: sympy.Expr, pt: Mapping[sympy.Symbol, Any]) -> mpmath.mpc:
    with mpmath.workdps(_DPS):
        val = sympy.sympify(expr).xreplace(dict(pt)).evalf(_DPS)
        if val.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or val.free_symbols:
            raise ZeroDivisionError
        return mpmath.mpc(complex(val)) if not val.is_number else mpmath.mpmathify(val)


def _rank_at(rows: Sequence[Sequence[sympy.Expr]], pt) -> int:
    """Numerical rank of a matrix of expressions at a point (50 digits, relative threshold 1e-30)."""
    if not rows or not rows[0]:
        return 0
    with mpmath.workdps(_DPS):
        M = mpmath.matrix([[_numeric(e, pt) for e in row] for row in rows])
        if all(abs(M[i, j]) == 0 for i in range(M.rows) for j in range(M.cols)):
            return 0
        S = mpmath.svd_c(M, compute_uv=False) if any(mpmath.im(M[i, j]) != 0 for i in range(M.rows) for j in range(M.cols)) \
            else mpmath.svd_r(M, compute_uv=False)
        s = sorted((abs(S[i]) for i in range(len(S))), reverse=True)
        return sum(1 for v in s if v > s[0] * mpmath.mpf(10) ** -30)


def _generic_rank(rows: Sequence[Sequence[sympy.Expr]], symbols: Sequence[sympy.Symbol], seed: int = 1, tries: int = 3) -> int:
    best, ok = 0, 0
    for k in range(40):
        if ok >= tries:
            break
        pt = _points(symbols, 1, seed + 7919 * k)[0]
        try:
            best = max(best, _rank_at(rows, pt))
            ok += 1
        except (ZeroDivisionError, TypeError, ValueError):
            continue
    return best


def _jacobian_rank(funcs: Sequence[sympy.Expr], coords: Sequence[sympy.Symbol], seed: int) -> int:
    rows = [[sympy.diff(f, c) for c in coords] for f in funcs]
    return _generic_rank(rows, coords, seed=seed)
