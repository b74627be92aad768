"""Equivariant vector fields on ``M`` (commuting with every generator) and the tangent lift of an
action to ``TM`` (for second-order NODEs)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Sequence

import sympy

from nntheory.errors import InvariantError
from nntheory.theory.lie._actions import LieAlgebraAction, _bracket, _commutator, invariant_count
from nntheory.theory.lie._invariants import differential_invariants
from nntheory.theory.lie._jets import JetSpace
from nntheory.theory.lie._sampling import _generic_rank, _points

__all__ = ["EquivariantFields", "equivariant_fields", "tangent_lift"]


@dataclass(frozen=True)
class EquivariantFields:
    """The module of vector fields on ``M`` that commute with every generator.

    Attributes:
        action: the action on ``M`` (the base coordinates).
        rank: rank of the module over invariant functions: the dimension of the subspace of
            ``T_x M`` fixed by the isotropy algebra at a generic point.
        isotropy_dimension: ``r - `` generic orbit dimension.
        basis: fields ``Y_k`` (components on the base coordinates) with ``[v_a, Y_k] = 0`` and
            pointwise rank ``rank``; every equivariant field is locally ``sum_k F_k(I) Y_k``.
            Empty when ``rank == 0`` or none was found (see ``message``).
        invariants: order-0 invariants ``I`` (the arguments of the ``F_k``).
        components: the coordinates the fields may have components on (all, or the velocities for
            second-order fields).
        generators: every polynomial equivariant field of the basis's degree (linearly independent
            over the reals): a generating set of the module that stays regular where the minimal
            basis degenerates (for ``(x, x')`` under SO(2): ``x, Jx, x', Jx'`` against the basis
            ``x, x'``, which is singular where ``x`` is parallel to ``x'``).
    """

    action: LieAlgebraAction
    rank: int
    isotropy_dimension: int
    basis: tuple[tuple[sympy.Expr, ...], ...]
    invariants: tuple[sympy.Expr, ...]
    components: tuple[int, ...]
    message: str
    generators: tuple[tuple[sympy.Expr, ...], ...] = ()

    def general_field(self, name: str = "F") -> tuple[sympy.Expr, ...]:
        """``sum_k F_k(I) Y_k`` with undefined functions ``F_k`` of the invariants."""
        n = len(self.action.jet.base)
        out = [sympy.Integer(0)] * n
        for k, Y in enumerate(self.basis):
            F = sympy.Function(f"{name}{k}")(*self.invariants)
            out = [o + F * y for o, y in zip(out, Y)]
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: rank, isotropy dimension, basis and generators by coordinate, invariants, message."""
        base = self.action.jet.base
        return {
            "rank": self.rank, "isotropy_dimension": self.isotropy_dimension,
            "basis": [{s.name: str(c) for s, c in zip(base, Y) if c != 0} for Y in self.basis],
            "invariants": [str(I) for I in self.invariants], "message": self.message,
            "generators": [{s.name: str(c) for s, c in zip(base, Y) if c != 0} for Y in self.generators],
        }


def _jacobian_at(comps, base, pt):
    return sympy.Matrix([[sympy.diff(c, z).xreplace(pt) for z in base] for c in comps])


def equivariant_fields(action: LieAlgebraAction, *, max_degree: int = 3, components: Sequence[int] | None = None) -> EquivariantFields:
    """Equivariant vector fields on ``M`` (the base coordinates of ``action``).

    The module rank comes from the isotropy: at a generic point ``p`` every combination
    ``w = sum c_a v_a`` with ``w(p) = 0`` acts on ``T_p M`` by its linearisation ``Dw(p)``, and an
    equivariant field must lie in the common kernel. A basis is searched among polynomial fields of
    degree ``<= max_degree`` (``[v_a, Y] = 0`` is linear in the coefficients).

    Args:
        action: the action on ``M`` (its base coordinates).
        max_degree: the highest polynomial degree searched for a basis.
        components: positions of the coordinates the fields may have components on (default all).

    Returns:
        The :class:`EquivariantFields`; ``basis`` is empty when the rank is 0 or no polynomial basis
        was found (``message`` says which).

    Example:
        >>> from nntheory.theory.lie import lie_action
        >>> so2 = lie_action(["x", "y"], [], [{"x": "-y", "y": "x"}])
        >>> eq = equivariant_fields(so2)
        >>> eq.rank, eq.basis
        (2, ((x, y), (-y, x)))
    """
    base = action.jet.base
    comps_allowed = tuple(range(len(base))) if components is None else tuple(components)
    gens = [tuple(sympy.sympify(c) for c in g) for g in action.generators]
    rank, iso = _module_rank(gens, base, comps_allowed)
    invs: tuple[sympy.Expr, ...] = ()
    if invariant_count(action, 0) > 0:
        invs = tuple(differential_invariants(action, 0, check=False).all(0))
    if rank == 0:
        msg = (f"the only equivariant vector field is 0: at a generic point the isotropy algebra (dimension {iso}) "
               "fixes no non-zero tangent vector.")
        return EquivariantFields(action, 0, iso, (), invs, comps_allowed, msg)
    found = _polynomial_basis(gens, base, rank, max_degree, comps_allowed)
    if found is None:
        msg = (f"module of equivariant fields of rank {rank} (isotropy dimension {iso}); no polynomial basis of degree "
               f"<= {max_degree} found: raise max_degree or build the fields from a moving frame.")
        return EquivariantFields(action, rank, iso, (), invs, comps_allowed, msg)
    basis, spanning = found
    for Y in spanning:
        for g in gens:
            if any(e != 0 for e in _bracket(base, g, Y)):
                raise InvariantError(f"internal: {Y} does not commute with {g} (please report).")
    msg = f"every equivariant field is locally sum_k F_k(I) Y_k over {rank} fields Y_k (isotropy dimension {iso})."
    if len(spanning) > rank:
        msg += (f" {len(spanning)} polynomial equivariant fields of the same degree ('generators') also span it where "
                "the basis degenerates.")
    return EquivariantFields(action, rank, iso, tuple(basis), invs, comps_allowed, msg, tuple(spanning))


def _module_rank(gens, base, comps_allowed: tuple[int, ...]) -> tuple[int, int]:
    """``(rank, isotropy_dimension)`` at generic points: the dimension of the subspace of allowed
    tangent vectors fixed by the linearised isotropy algebra, and the isotropy algebra's dimension."""
    n = len(base)
    ranks, iso_dims = [], []
    for pt in _points(base, 4, 555):
        try:
            G = sympy.Matrix([[c.xreplace(pt) for c in g] for g in gens])  # r x n
        except ZeroDivisionError:
            continue
        if G.has(sympy.zoo, sympy.nan):
            continue
        null = G.T.nullspace()
        iso_dims.append(len(null))
        blocks = [sum((c[a] * _jacobian_at(gens[a], base, pt) for a in range(len(gens))), sympy.zeros(n, n)) for c in null]
        mask = sympy.zeros(n - len(comps_allowed), n)
        for row, k in enumerate(k for k in range(n) if k not in comps_allowed):
            mask[row, k] = 1
        stack = sympy.Matrix.vstack(*(blocks + [mask])) if blocks or mask.rows else sympy.zeros(1, n)
        ranks.append(n - stack.rank())
    if not ranks:
        raise InvariantError("equivariant_fields: the generators could not be evaluated at random points.")
    return min(ranks), min(iso_dims)


def _polynomial_basis(gens, base, rank, max_degree, allowed):
    n = len(base)
    if not all(c.is_polynomial(*base) for g in gens for c in g):
        return None
    for d in range(max_degree + 1):
        monos = sorted(itertools.chain.from_iterable(
            (sympy.Mul(*combo) for combo in itertools.combinations_with_replacement(base, k)) for k in range(d + 1)
        ), key=sympy.default_sort_key)
        monos = [sympy.Integer(1) if m == 1 else m for m in monos]
        coef = [[sympy.Symbol(f"_c_{k}_{i}") if k in allowed else None for i in range(len(monos))] for k in range(n)]
        Y = [sum(c * m for c, m in zip(coef[k], monos)) if k in allowed else sympy.Integer(0) for k in range(n)]
        unknowns = [c for row in coef for c in row if c is not None]
        eqs = []
        for g in gens:
            for e in map(sympy.expand, _commutator(base, g, Y)):
                if e != 0:
                    eqs += sympy.Poly(sympy.expand(e), *base).coeffs()
        A, _ = sympy.linear_eq_to_matrix(eqs, unknowns) if eqs else (sympy.zeros(1, len(unknowns)), None)
        sols = A.nullspace()
        fields = []
        for v in sols:
            sub = dict(zip(unknowns, v))
            fields.append(tuple(sympy.expand(y.xreplace(sub)) for y in Y))
        fields.sort(key=lambda f: (sum(sympy.count_ops(c) for c in f), str(f)))
        chosen: list[tuple[sympy.Expr, ...]] = []
        for f in fields:
            if _generic_rank([list(c) for c in chosen + [f]], base, seed=17) == len(chosen) + 1:
                chosen.append(f)
            if len(chosen) == rank:
                tidy = lambda f: tuple(sympy.factor(c) for c in f)  # noqa: E731
                return [tidy(f) for f in chosen], [tidy(f) for f in fields]
    return None


def tangent_lift(action: LieAlgebraAction, velocity_suffix: str = "_t") -> LieAlgebraAction:
    """The action on ``TM`` (coordinates ``x``, velocities ``x_t``) by the first prolongation along curves.

    Second-order (augmented) NODEs ``x'' = f(x, x')`` are invariant iff ``f`` is an equivariant
    vertical field of this action; for an affine action on ``M`` (second derivatives of the
    generators vanish) that is ``f = sum_k F_k(I^1(x, x')) Y_k`` with ``Y_k`` from
    :func:`equivariant_fields` ``(..., components=velocities)``.

    Returns:
        The lifted action on ``(x, x_t)`` with the same generator names.

    Raises:
        InvariantError: when the action on ``M`` is not affine (the invariant spray is then not 0).
    """
    jet = action.jet
    if jet.q:
        raise InvariantError("tangent_lift: expects an action on M (no dependent variables).")
    base = jet.base
    for g in action.generators:
        for c in g:
            for a, b in itertools.combinations_with_replacement(base, 2):
                if sympy.diff(c, a, b) != 0:
                    raise InvariantError(
                        "tangent_lift: the action is not affine; x'' = 0 is then not invariant and a second-order "
                        "NODE needs an invariant spray, which is not implemented."
                    )
    names = [s.name for s in base] + [s.name + velocity_suffix for s in base]
    lifted = JetSpace.from_names(names)
    vel = lifted.base[len(base):]
    gens = []
    for g in action.generators:
        lin = [sum(sympy.diff(g[i], base[j]) * vel[j] for j in range(len(base))) for i in range(len(base))]
        gens.append(tuple(g) + tuple(lin))
    return LieAlgebraAction(lifted, tuple(gens), action.names)
