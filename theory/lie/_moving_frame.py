"""The Fels--Olver moving frame: cross-section, group parameters, normalisation equations, and the
normalised invariants ``iota(z)``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sympy

from nntheory.errors import InvariantError
from nntheory.theory.lie._actions import LieAlgebraAction
from nntheory.theory.lie._flows import _group_element, _prolong_finite
from nntheory.theory.lie._sampling import _points, _rank_at
from nntheory.theory.lie._simplify import _tidy

__all__: list[str] = []


@dataclass(frozen=True)
class _Frame:
    order: int
    cross_section: tuple[tuple[sympy.Symbol, sympy.Expr], ...]   # normalised coordinates and their constants
    parameters: tuple[sympy.Symbol, ...]
    solution: tuple[tuple[sympy.Symbol, sympy.Expr], ...]        # the frame: parameters as functions of z
    transformed: tuple[tuple[sympy.Symbol, sympy.Expr], ...]     # g·z_j (jets to `order`), in the parameters
    Tinv: Any
    branches: tuple[str, ...]                                   # notes on discarded solution branches


def _infinitesimal_rows(action: LieAlgebraAction) -> list[tuple[sympy.Expr, ...]]:
    """The generators, or for a user-supplied finite action the fields d/de_a (g·z) at e = 0."""
    if action.finite is None:
        return [tuple(sympy.sympify(c) for c in g) for g in action.generators]
    zero = {e: 0 for e in action.parameters}
    return [tuple(sympy.simplify(sympy.diff(f, e).xreplace(zero)) for f in action.finite) for e in action.parameters]


def _choose_cross_section(action: LieAlgebraAction, order: int, rank: int, seed: int):
    coords = action.jet.coordinates(order)
    M = action.matrix(order)
    chosen: list[int] = []
    consts: dict[sympy.Symbol, sympy.Expr] = {}
    for j, s in enumerate(coords):
        if len(chosen) == rank:
            break
        for c in (sympy.Integer(0), sympy.Integer(1)):
            fixed = {**consts, s: c}
            ok = False
            for t in range(3):
                pt = _points(coords, 1, seed + 31 * t + j, fixed)[0]
                try:
                    # the constant must leave the cut regular: the sub-matrix gains rank and the whole
                    # matrix keeps the generic rank there (no singular value such as theta = 0 for cot)
                    if _rank_at([[row[k] for k in chosen + [j]] for row in M], pt) == len(chosen) + 1 \
                            and _rank_at(M, pt) == rank:
                        ok = True
                        break
                except (ZeroDivisionError, TypeError, ValueError):
                    continue
            if ok:
                chosen.append(j)
                consts[s] = c
                break
    if len(chosen) < rank:
        raise InvariantError(f"no cross-section found at order {order} (rank {rank}); the action may be singular everywhere.")
    return [(coords[j], consts[coords[j]]) for j in chosen]


def _choose_parameters(action: LieAlgebraAction, section, order: int, seed: int) -> list[int]:
    """Generators whose flows reach the cross-section: translations first, then in the given order."""
    rows = _infinitesimal_rows(action)
    if action.finite is not None:
        # prolong the fields d/de_a (g·z) like generators
        tmp = LieAlgebraAction(action.jet, tuple(rows), structure_constants=((),))
        M = tmp.matrix(order)
    else:
        M = action.matrix(order)
    coords = action.jet.coordinates(order)
    cols = [coords.index(s) for s, _ in section]
    consts = dict(section)
    pt = _points(coords, 1, seed, consts)[0]
    constant = [a for a in range(action.r) if all(sympy.sympify(c).free_symbols == set() for c in rows[a])]
    others = [a for a in range(action.r) if a not in constant]
    chosen: list[int] = []
    for a in constant + others:
        if _rank_at([[M[b][k] for k in cols] for b in chosen + [a]], pt) == len(chosen) + 1:
            chosen.append(a)
        if len(chosen) == len(section):
            break
    return sorted(chosen, key=(constant + others).index)


def _solve_one(eq: sympy.Expr, p: sympy.Symbol) -> list[sympy.Expr]:
    num, _ = sympy.fraction(sympy.together(eq))
    num = sympy.expand(num)
    c, s = sympy.cos(p), sympy.sin(p)
    if num.has(c) or num.has(s):
        A, B = num.coeff(c), num.coeff(s)
        rest = sympy.expand(num - A * c - B * s)
        if rest == 0 and not (A.has(p) or B.has(p)):
            w = sympy.simplify(-A / B) if B != 0 else None
            if w is None:
                return [sympy.pi / 2, -sympy.pi / 2]
            return [sympy.atan(w), sympy.atan(w) + sympy.pi]
    return list(sympy.solve(num, p))


def _linear_pairs(eqs, params):
    """(parameter, solution) for equations whose numerator is of degree 1 in one parameter, simplest first."""
    out = []
    for e in eqs:
        num = sympy.expand(sympy.fraction(sympy.together(e))[0])
        for p in params:
            if not num.has(p):
                continue
            c1 = num.coeff(p, 1)
            c0 = sympy.expand(num - c1 * p)
            if c1 != 0 and not c1.has(p) and not c0.has(p):
                sol = sympy.simplify(-c0 / c1)
                out.append((sympy.count_ops(sol), str(p), p, sol))
    out.sort(key=lambda t: t[:2])
    return [(p, sol) for _, _, p, sol in out]


def _pick(cands: list[sympy.Expr], pt) -> tuple[sympy.Expr | None, int]:
    """The real candidate of smallest magnitude at a generic point (the branch nearest the identity)."""
    scored = []
    for cand in cands:
        try:
            v = complex(sympy.sympify(cand).xreplace(pt).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if abs(v.imag) <= 1e-20 * max(1.0, abs(v.real)):
            scored.append((abs(v.real), cand))
    if not scored:
        return None, 0
    scored.sort(key=lambda t: t[0])
    return scored[0][1], len(scored)


@functools.lru_cache(maxsize=64)
def _frame(action: LieAlgebraAction, order: int) -> _Frame:
    """The moving frame of the prolonged action on ``J^order`` (cached per action and order)."""
    jet = action.jet
    rank = action.orbit_dimension(order)
    section = _choose_cross_section(action, order, rank, seed=1000)
    if order > 0 and action.orbit_dimension(order - 1) == rank:
        low = _frame(action, order - 1)
        if list(low.cross_section) == section:  # same frame: only prolong the transformation further
            g = [dict(low.transformed)[b] for b in jet.base]
            transformed, Tinv = _prolong_finite(jet, g, order)
            return _Frame(order, low.cross_section, low.parameters, low.solution,
                          tuple((s, transformed[s]) for s in jet.coordinates(order)), Tinv, low.branches)
    picked = _choose_parameters(action, section, order, seed=2000 + order)
    params, g = _group_element(action, picked)
    transformed, Tinv = _prolong_finite(jet, g, order)
    coords = jet.coordinates(order)
    eqs = [transformed[s] - c for s, c in section]
    sol, notes = _solve_normalisation(eqs, params, coords, order, section)
    return _Frame(
        order, tuple(section), tuple(params), tuple(sol.items()),
        tuple((s, transformed[s]) for s in coords), Tinv, tuple(notes),
    )


def _solve_normalisation(eqs, params, coords, order: int, section) -> tuple[dict[sympy.Symbol, sympy.Expr], list[str]]:
    """Solve the normalisation equations for the group parameters one at a time: ``(solution, notes)``."""
    pt = _points(coords, 1, 3000 + order)[0]
    sol: dict[sympy.Symbol, sympy.Expr] = {}
    notes: list[str] = []
    todo = list(params)
    while todo:
        step = _next_parameter(eqs, todo)
        if step is None:
            break
        p, best, cands = step
        if best is None:
            best = _branch(cands, p, pt, coords, order, section, notes)
        sol[p] = best
        todo.remove(p)
        eqs = [sympy.simplify(e.xreplace({p: best})) for e in eqs]
        sol = {k: v.xreplace({p: best}) for k, v in sol.items()}
    return sol, notes


def _next_parameter(eqs, todo):
    """The next parameter to solve for: ``(p, solution, None)`` when a linear equation gives it
    uniquely (possibly in parameters still to be solved), ``(p, None, candidates)`` otherwise, None
    when no equation involves the remaining parameters."""
    live = [e for e in eqs if any(e.has(p) for p in todo)]
    single = [(e, [p for p in todo if e.has(p)][0]) for e in live if sum(e.has(p) for p in todo) == 1]
    if single:
        e, p = single[0]
        return p, None, _solve_one(e, p)
    linear = _linear_pairs(live, todo)
    if linear:
        p, best = linear[0]
        return p, best, None
    if not live:
        return None
    sols = sympy.solve(live, todo, dict=True)
    p = todo[0]
    return p, None, [s[p] for s in sols if p in s and not any(s[p].has(q) for q in todo)]


def _branch(cands, p, pt, coords, order: int, section, notes: list[str]) -> sympy.Expr:
    """The branch of the frame kept for ``p`` (real, nearest the identity); appends notes on the
    branches discarded and raises when there is no real one."""
    best, n_real = _pick(cands, pt)
    if best is None and cands:
        for t in range(1, 12):
            best, n_real = _pick(cands, _points(coords, 1, 3000 + order + 97 * t)[0])
            if best is not None:
                notes.append(f"{p}: no real solution at some points (the frame, and invariants built from it, "
                             f"are real on an open subset only); chose {best}")
                break
    if best is None:
        raise InvariantError(
            f"the normalisation equations of the moving frame at order {order} could not be solved for {p} "
            f"(cross-section {[f'{s} = {c}' for s, c in section]}); give the finite action or a lower order."
        )
    if n_real > 1:
        notes.append(f"{p}: {n_real} real branches of the frame; chose {best}")
    return sympy.simplify(best)


def _normalised(frame: _Frame, s: sympy.Symbol) -> sympy.Expr:
    sub = dict(frame.solution)
    val = dict(frame.transformed)[s].xreplace(sub)
    return _tidy(val)
