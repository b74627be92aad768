"""Simplification of invariants on an open set: posify, and real branches of fractional powers."""

from __future__ import annotations

import sympy

from nntheory.theory.lie._sampling import _points

__all__: list[str] = []


def _tidy(e: sympy.Expr) -> sympy.Expr:
    """Simplify on the open set where every coordinate is positive (posify), then return to the
    original symbols. The result agrees with ``e`` there and is analytic, so it is an invariant
    wherever ``e`` is (annihilation is re-checked exactly by the caller)."""
    pos, back = sympy.posify(sympy.together(e))
    pos = sympy.powdenest(sympy.factor(pos), force=True)
    pos = sympy.simplify(pos)
    f = sympy.factor(pos)
    pos = f if sympy.count_ops(f) < sympy.count_ops(pos) else pos
    out = pos.xreplace(back)
    return _real_branch(out)


def _factors(expr: sympy.Expr):
    num, den = sympy.fraction(sympy.together(expr))
    out = []
    c = sympy.Integer(1)
    for part, sign in ((num, 1), (den, -1)):
        if not part.is_polynomial(*part.free_symbols):
            return None
        cc, facs = sympy.factor_list(part)
        c = c * cc**sign
        out += [(f, k * sign) for f, k in facs]
    return c, out


def _real_branch(e: sympy.Expr, seed: int = 5) -> sympy.Expr:
    """Rewrite fractional powers of rational functions so that the expression is real and equal to
    itself near a reference point where it is real: ``(-a^3)^(5/3) -> (-a)^5`` where ``a < 0``.

    Each irreducible factor ``f`` of a base gets the sign ``s`` it has at the reference point, and
    ``(c prod f^k)^r = (c prod s^k)^r prod (s f)^(k r)``, valid where every ``s f > 0``.
    """
    pows = [p for p in e.atoms(sympy.Pow) if p.exp.is_Rational and not p.exp.is_Integer and p.base.free_symbols]
    if not pows:
        return e
    pt = _reference_point(e, seed)
    if pt is None:
        return e
    back: dict[sympy.Symbol, sympy.Expr] = {}
    known: dict[sympy.Expr, sympy.Symbol] = {}
    reps = {}
    for pw in pows:
        rep = _real_power(pw, pt, known, back)
        if rep is not None:
            reps[pw] = rep
    if not reps:
        return e
    out = sympy.simplify(e.xreplace(reps))
    out = sympy.factor(sympy.cancel(sympy.together(out.xreplace(back))))
    return out


def _reference_point(e: sympy.Expr, seed: int):
    """A random rational point where ``e`` is real and non-zero, or None."""
    syms = sorted(e.free_symbols, key=str)
    for t in range(20):
        cand = _points(syms, 1, seed + 13 * t)[0]
        try:
            v = complex(e.xreplace(cand).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if abs(v.imag) <= 1e-25 * max(1.0, abs(v)) and v != 0:
            return cand
    return None


def _real_power(pw: sympy.Pow, pt, known: dict, back: dict) -> sympy.Expr | None:
    """``(c prod s^k)^r prod P_f^(k r)`` for ``pw = (c prod f^k)^r`` with positive dummies ``P_f``
    standing for ``s f`` (``s`` the sign of ``f`` at ``pt``; recorded in ``known`` and ``back``), or
    None when a factor vanishes at ``pt`` or the constant is not positive."""
    fl = _factors(pw.base)
    if fl is None:
        return None
    c, facs = fl
    new = sympy.Integer(1)
    for f, k in facs:
        val = f.xreplace(pt)
        if not val.is_number or val == 0:
            return None
        sgn = 1 if val > 0 else -1
        c = c * sgn**k
        if f not in known:
            P = sympy.Dummy("P", positive=True)
            known[f] = P
            back[P] = sgn * f
        new = new * known[f] ** (k * pw.exp)
    if not (c > 0):
        return None
    return c**pw.exp * new
