"""Jet spaces: coordinates ``x^i``, ``u^alpha`` and the jet coordinates ``u^alpha_J``, total derivatives.

A jet coordinate is named after its dependent variable and the sorted independent-variable letters
(``u_x``, ``u_xx``, ``u_xy``); :meth:`JetSpace.coordinates` lists the base first, then the jets by
order, dependent variable and multi-index. Name collisions between coordinates are refused.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import sympy

from nntheory.errors import InvariantError

__all__ = ["JetSpace"]

_RESERVED = {"pi", "E", "e", "I", "oo", "nan", "zoo"}


@dataclass(frozen=True)
class JetSpace:
    """Coordinates ``x^1..x^p`` (independent) and ``u^1..u^q`` (dependent) and their jets.

    With no dependent variables it is just the manifold ``M = R^p`` (all jets are trivial).
    """

    independent: tuple[sympy.Symbol, ...]
    dependent: tuple[sympy.Symbol, ...] = ()

    @classmethod
    def from_names(cls, independent: Sequence[str], dependent: Sequence[str] = ()) -> "JetSpace":
        """The jet space of real symbols with these names.

        Raises:
            InvariantError: names that are not identifiers, reserved, duplicated, or that collide
                with low-order jet coordinate names.
        """
        names = [*independent, *dependent]
        for label, group in (("independent", independent), ("dependent", dependent)):
            if isinstance(group, str) or not all(isinstance(n, str) for n in group):
                raise InvariantError(f"{label}: expected a list of coordinate names, got {group!r}.")
        if not independent:
            raise InvariantError("independent: at least one coordinate is needed.")
        for n in names:
            if not n.isidentifier() or n in _RESERVED or n.startswith("_"):
                raise InvariantError(f"coordinate name {n!r} is not allowed (a Python identifier, not one of {sorted(_RESERVED)}).")
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InvariantError(f"coordinate names collide: {dup} appear more than once.")
        jet = cls(tuple(sympy.Symbol(n, real=True) for n in independent), tuple(sympy.Symbol(n, real=True) for n in dependent))
        jet.coordinates(3)  # name collisions of low-order jet coordinates are reported now
        return jet

    @property
    def p(self) -> int:
        """Number of independent variables."""
        return len(self.independent)

    @property
    def q(self) -> int:
        """Number of dependent variables."""
        return len(self.dependent)

    @property
    def base(self) -> tuple[sympy.Symbol, ...]:
        """The base coordinates: independent, then dependent variables."""
        return self.independent + self.dependent

    def dimension(self, order: int) -> int:
        """``dim J^k = p + q * binomial(p + k, k)``."""
        return self.p + self.q * math.comb(self.p + order, order)

    def symbol(self, alpha: int, J: tuple[int, ...]) -> sympy.Symbol:
        """The jet coordinate ``u^alpha_J`` (``J`` a multi-index of independent-variable positions)."""
        if not J:
            return self.dependent[alpha]
        letters = "".join(self.independent[j].name for j in sorted(J))
        return sympy.Symbol(f"{self.dependent[alpha].name}_{letters}", real=True)

    def coordinates(self, order: int) -> tuple[sympy.Symbol, ...]:
        """All coordinates of ``J^order``: the base, then the jets by order, dependent variable, multi-index."""
        return tuple(s for s, _ in _jet_table(self, order))

    def multi_indices(self, order: int) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """``(alpha, J)`` for every dependent jet coordinate of order ``1..order``, in coordinate order."""
        return tuple(key for _, key in _jet_table(self, order) if key is not None and key[1])

    def decode(self, sym: sympy.Symbol, order: int) -> tuple[int, tuple[int, ...]] | None:
        """``(alpha, J)`` of a dependent jet coordinate, None for an independent variable."""
        for s, key in _jet_table(self, order):
            if s == sym:
                return key
        raise InvariantError(f"{sym} is not a coordinate of J^{order}.")

    def order_of(self, expr: sympy.Expr, order: int = 12) -> int:
        """The highest jet order of a coordinate that ``expr`` depends on (0 for base coordinates)."""
        best = 0
        for s, key in _jet_table(self, order):
            if key is not None and key[1] and expr.has(s):
                best = max(best, len(key[1]))
        return best

    def total_derivative(self, expr: sympy.Expr, i: int, order: int) -> sympy.Expr:
        """``D_i expr`` for ``expr`` on ``J^order`` (the result lives on ``J^(order+1)``)."""
        out = sympy.diff(expr, self.independent[i])
        for alpha in range(self.q):
            for J in _multis(self.p, order):
                s = self.symbol(alpha, J)
                if expr.has(s):
                    out += self.symbol(alpha, tuple(sorted(J + (i,)))) * sympy.diff(expr, s)
        return out


def _multis(p: int, order: int) -> list[tuple[int, ...]]:
    return [J for k in range(order + 1) for J in itertools.combinations_with_replacement(range(p), k)]


@functools.lru_cache(maxsize=256)
def _jet_table(jet: JetSpace, order: int) -> tuple[tuple[sympy.Symbol, Any], ...]:
    if order < 0:
        raise InvariantError(f"order: must be >= 0, got {order}.")
    rows: list[tuple[sympy.Symbol, Any]] = [(x, None) for x in jet.independent]
    rows += [(jet.dependent[a], (a, ())) for a in range(jet.q)]
    for k in range(1, order + 1):
        for a in range(jet.q):
            for J in itertools.combinations_with_replacement(range(jet.p), k):
                rows.append((jet.symbol(a, J), (a, J)))
    seen: dict[str, Any] = {}

    def what(key):
        if key is None:
            return "an independent variable"
        alpha, J = key
        if not J:
            return f"the dependent variable {jet.dependent[alpha].name}"
        return f"the derivative of {jet.dependent[alpha].name} by ({', '.join(jet.independent[j].name for j in J)})"

    for s, key in rows:
        if s.name in seen:
            raise InvariantError(
                f"coordinate names collide: {s.name!r} would be both {what(seen[s.name])} and {what(key)}; "
                "rename the variables (jet coordinates are named u_ followed by the independent names, concatenated)."
            )
        seen[s.name] = key
    return tuple(rows)
