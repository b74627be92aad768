"""Deciding whether an expression in the coordinates is identically zero (on an open set).

Used wherever a refusal would follow from "not zero" (closure of the generators, annihilation of
invariants): a false "not zero" must never happen. The decision is:

1. cheap symbolic normal forms (``cancel(together)``; trigonometric and hyperbolic functions
   rewritten to ``exp`` then ``cancel``; ``tan``/``cot``/``sec``/``csc`` rewritten to ``sin``/``cos``
   then ``trigsimp``; ``simplify`` last) — any of them giving 0 proves zero;
2. otherwise a randomized numeric test at rational points, 60 digits (mpmath through ``evalf``):
   points clustered near a few reference points where every subexpression is real and finite; the
   expression is zero on an open set when it vanishes at every point near one reference point
   (an analytic function vanishing at random points of a neighbourhood), and it is refuted (not
   zero) when some point near every reference point gives a value above ``1e-30``.

The numeric test refutes inequality cheaply (one evaluation decides "not zero") and decides the
identities the normal forms miss (``cos/sin`` against ``1/tan``, radicals), so trigonometric,
radical or rational rewritings of the same expression are never taken for different expressions.
"""

from __future__ import annotations

import random
from typing import Sequence

import mpmath
import sympy

__all__: list[str] = []

_DPS = 60
_TOLF = mpmath.mpf(10) ** -30

_RECIPROCAL_TRIG = (sympy.tan, sympy.cot, sympy.sec, sympy.csc, sympy.tanh, sympy.coth, sympy.sech, sympy.csch)


def _symbolic_zero(e: sympy.Expr, thorough: bool = True) -> bool:
    """True when a symbolic normal form of ``e`` is 0 (a proof); False means undecided."""
    if e == 0:
        return True
    try:
        if sympy.cancel(sympy.together(e)) == 0:
            return True
        if e.has(*_RECIPROCAL_TRIG):
            e2 = e.rewrite(sympy.sin).rewrite(sympy.cos) if e.has(sympy.tan, sympy.cot, sympy.sec, sympy.csc) else e
            e2 = e2.rewrite(sympy.exp) if e2.has(sympy.tanh, sympy.coth, sympy.sech, sympy.csch) else e2
            if sympy.cancel(sympy.together(e2)) == 0 or sympy.trigsimp(sympy.together(e2)) == 0:
                return True
        if e.has(sympy.sin, sympy.cos, sympy.sinh, sympy.cosh, *_RECIPROCAL_TRIG):
            e3 = sympy.expand(e.rewrite(sympy.exp))
            if sympy.cancel(sympy.together(e3)) == 0:
                return True
        if thorough and sympy.count_ops(e) < 400 and sympy.simplify(e) == 0:
            return True
    except Exception:  # noqa: BLE001 - sympy's rewriters can fail on unusual expressions: undecided
        return False
    return False


def _value(e: sympy.Expr, pt) -> mpmath.mpf | None:
    """``e`` at ``pt`` to 60 digits (an mpmath number), or None where it is not finite or not real."""
    try:
        v = e.xreplace(pt).evalf(_DPS)
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        return None
    if not v.is_number or v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    re, im = v.as_real_imag()
    try:
        with mpmath.workdps(_DPS):
            r, i = mpmath.mpf(sympy.Float(re, _DPS)._mpf_), mpmath.mpf(sympy.Float(im, _DPS)._mpf_)
    except (TypeError, ValueError, AttributeError):
        return None
    if abs(i) > mpmath.mpf(10) ** -40 * max(1, abs(r)):
        return None
    return r


def _references(symbols: Sequence[sympy.Symbol], seed: int, count: int):
    """Reference points: first with every coordinate in (0.3, 1.3) (inside the domain of the usual
    radicals, logs and angle coordinates), then with random signs and magnitudes."""
    rng = random.Random(seed)
    out = []
    for t in range(count):
        pt = {}
        for s in symbols:
            if t < count // 2:
                pt[s] = sympy.Rational(rng.randint(30, 130), 100)
            else:
                pt[s] = sympy.Rational(rng.randint(3, 29), rng.randint(7, 31)) * rng.choice((1, -1))
        out.append(pt)
    return out


def _numeric_zero(e: sympy.Expr, seed: int = 0, references: int = 6, near: int = 3) -> bool | None:
    """True: zero at every point near some reference point; False: non-zero near every reference
    point where ``e`` could be evaluated; None: ``e`` could be evaluated nowhere."""
    syms = sorted(e.free_symbols, key=str)
    if not syms:
        v = _value(e, {})
        return None if v is None else abs(v) <= _TOLF
    rng = random.Random(seed + 17)
    evaluated = False
    for ref in _references(syms, seed, references):
        vals = []
        for k in range(near):
            pt = {s: c + (sympy.Rational(rng.randint(-50, 50), 1000) if k else 0) for s, c in ref.items()}
            v = _value(e, pt)
            if v is None:
                break
            vals.append(v)
        if len(vals) < near:
            continue
        evaluated = True
        if all(abs(v) <= _TOLF for v in vals):
            return True
    return False if evaluated else None


def _is_zero(e: sympy.Expr, seed: int = 0, thorough: bool = True) -> bool:
    """True when ``e`` is identically zero on an open set (see module docs).

    Decided symbolically when a normal form is 0, else numerically; an expression that cannot be
    evaluated anywhere (and is not proved zero) counts as not zero.
    """
    e = sympy.sympify(e)
    if e == 0:
        return True
    if not e.free_symbols:
        v = _value(e, {})
        return v is not None and abs(v) <= _TOLF
    if _symbolic_zero(e, thorough=False):
        return True
    num = _numeric_zero(e, seed)
    if num is False:
        return False
    if num is True:
        return True
    return thorough and _symbolic_zero(e, thorough=True)
