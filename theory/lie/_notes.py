"""Warnings attached to an invariant set: singular sets, fractional powers, and invariance under group
elements far from the identity (local / sign-changing invariants)."""

from __future__ import annotations

import functools
import itertools
import math
import random
from typing import Sequence

import sympy

from nntheory.theory.lie._actions import LieAlgebraAction
from nntheory.errors import InvariantError
from nntheory.theory.lie._flows import _group_element, _prolong_finite
from nntheory.theory.lie._sampling import _points
from nntheory.theory.lie._trig_ring import _action_ring

__all__: list[str] = []


def _singular_notes(action: LieAlgebraAction, order: int, rank: int) -> list[str]:
    if rank == 0:
        return []
    M = sympy.Matrix(action.matrix(order))
    coords = action.jet.coordinates(order)
    n_minors = math.comb(action.r, rank) * math.comb(len(coords), rank)
    if n_minors > 60 or rank > 5:
        return [f"singular set at order {order} not computed ({n_minors} minors of size {rank})."]
    tr = _action_ring(action, order)
    minors = []
    for rows in itertools.combinations(range(action.r), rank):
        for cols in itertools.combinations(range(len(coords)), rank):
            d = M.extract(list(rows), list(cols)).det()
            # trigonometric generators: the numerator's normal form over the ring of the angles
            d = sympy.factor(sympy.cancel(d)) if tr is None else _ring_numerator(tr, d)
            if d != 0:
                minors.append(d)
    if not minors:
        return []
    nums = [sympy.fraction(m)[0] for m in minors]
    g = functools.reduce(sympy.gcd, nums)
    notes = []
    facs = [f for f, _ in sympy.factor_list(g)[1]] if g.free_symbols else []
    facs = [f for f in facs if not f.is_positive]
    if facs:
        notes.append(f"order {order}: the orbit dimension drops below {rank} on " + " and ".join(f"{{{f} = 0}}" for f in facs)
                     + " (singular set: no moving frame there).")
    else:
        reduced = sorted({sympy.factor(n / g) for n in nums}, key=sympy.count_ops)[:12]
        syms = sorted(set().union(*(n.free_symbols for n in reduced)), key=str)
        if all(n.free_symbols for n in reduced) and len(syms) <= 6:
            try:
                sols = sympy.solve(reduced, syms, dict=True)
            except Exception:  # noqa: BLE001 - sympy's solve fails in many ways (AttributeError included): no note
                sols = []
            real = [sol for sol in sols if all(v.is_real is not False for v in sol.values())]
            if real:
                where = "; ".join(", ".join(f"{k} = {v}" for k, v in sol.items()) for sol in real)
                notes.append(f"order {order}: the orbit dimension drops below {rank} where {where} (singular set).")
    return notes


def _ring_numerator(tr, d: sympy.Expr) -> sympy.Expr:
    """The numerator of ``d`` in its short normal form over the trigonometric ring (``d`` factored
    when it is outside the ring)."""
    try:
        return tr.tidy(tr.to_expr(tr.fraction(d)[0]))
    except InvariantError:
        return sympy.factor(sympy.cancel(d))


def _power_notes(invs: Sequence[sympy.Expr]) -> list[str]:
    notes = []
    for I in invs:
        for pw in I.atoms(sympy.Pow):
            if pw.exp.is_Rational and not pw.exp.is_Integer and pw.base.free_symbols and not pw.base.is_nonnegative:
                notes.append(f"{I}: real only where {pw.base} > 0 (fractional power {pw.exp}); elsewhere use the real branch.")
                break
    return notes


def _global_notes(action: LieAlgebraAction, invs: Sequence[sympy.Expr], order: int, samples: int = 12) -> list[str]:
    """Check invariance under group elements far from the identity (50 digits)."""
    jet = action.jet
    try:
        params, g = _group_element(action)
    except InvariantError:
        return ["global invariance not checked (a flow could not be integrated)."]
    transformed, _ = _prolong_finite(jet, g, order)
    coords = jet.coordinates(order)
    rng = random.Random(4242)
    flips: dict[int, list] = {}
    broken: dict[int, list] = {}
    done = 0
    for t in range(samples * 4):
        if done >= samples:
            break
        pt = _points(coords, 1, 9000 + t)[0]
        gp = {e: sympy.Rational(rng.randint(-250, 250), 100) for e in params}
        try:
            img = {s: transformed[s].xreplace({**pt, **gp}).evalf(40) for s in coords}
            if any(not v.is_real for v in img.values()):
                continue
            vals = [(complex(I.xreplace(pt).evalf(40)), complex(I.xreplace(img).evalf(40))) for I in invs]
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        done += 1
        for i, (a, b) in enumerate(vals):
            if abs(a.imag) > 1e-20 * max(1, abs(a)) or abs(b.imag) > 1e-20 * max(1, abs(b)):
                continue
            if abs(a - b) > 1e-20 * max(1.0, abs(a)):
                (flips if abs(a + b) <= 1e-20 * max(1.0, abs(a)) else broken).setdefault(i, []).append(gp)
    notes = []
    for i, gps in flips.items():
        ex = ", ".join(f"{k} = {v}" for k, v in gps[0].items())
        notes.append(f"{invs[i]}: changes sign under some group elements far from the identity (e.g. {ex}; "
                     f"orientation reversal of the graph): an invariant only locally / up to sign, its square is global.")
    for i, gps in broken.items():
        ex = ", ".join(f"{k} = {v}" for k, v in gps[0].items())
        notes.append(f"{invs[i]}: only locally invariant (changes under e.g. {ex}; another branch of the frame).")
    return notes
