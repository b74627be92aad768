"""Fels--Olver recurrence relations of the normalised invariants (Maurer--Cartan invariants from the
phantom invariants)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy

from nntheory.errors import InvariantError

if TYPE_CHECKING:
    from nntheory.theory.lie._invariants import InvariantSet

__all__: list[str] = []


def _recurrence(inv: InvariantSet) -> list[tuple[str, sympy.Expr, sympy.Expr]]:
    action, jet, N = inv.action, inv.action.jet, inv.order
    if inv.derivatives is None:
        raise InvariantError("recurrence relations need a free action with dependent variables.")
    phantom = dict(inv.cross_section)
    coords = jet.coordinates(N + 1)

    def iota(s):
        return phantom.get(s, sympy.Symbol(f"I_{s.name}", real=True))

    sub = {s: iota(s) for s in coords}

    def D(s, i):  # D_i of a coordinate, as a coordinate (or 1/0 for independent variables)
        key = jet.decode(s, N + 1)
        if key is None:
            return sympy.Integer(1 if jet.independent[i] == s else 0)
        alpha, J = key
        return jet.symbol(alpha, tuple(sorted(J + (i,))))

    R = sympy.symbols(f"R0:{jet.p * action.r}")
    Rm = [[R[i * action.r + a] for a in range(action.r)] for i in range(jet.p)]
    pro = [action.prolong(a, N + 1) for a in range(action.r)]
    out = []
    for i in range(jet.p):
        eqs = []
        for s in phantom:
            Ds = D(s, i)
            eqs.append(sympy.sympify(Ds).xreplace(sub) + sum(Rm[i][a] * pro[a][s].xreplace(sub) for a in range(action.r)))
        sol = sympy.solve(eqs, Rm[i], dict=True)
        if not sol:
            raise InvariantError("recurrence: the Maurer–Cartan invariants could not be solved (singular cross-section).")
        Ri = [sympy.simplify(sol[0].get(x, x)) for x in Rm[i]]
        for s in jet.coordinates(N):
            if s in phantom:
                continue
            rhs = sympy.sympify(D(s, i)).xreplace(sub) + sum(Ri[a] * pro[a][s].xreplace(sub) for a in range(action.r))
            out.append((f"D{i + 1}(I_{s.name})", iota(s), sympy.simplify(rhs)))
    return out
