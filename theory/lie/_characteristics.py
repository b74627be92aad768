"""Invariants by integrating the linear PDE system ``pr v_a(I) = 0`` along its characteristics
(Jacobian normal form of the prolonged generators; Frobenius)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Sequence

import sympy

from nntheory.errors import InvariantError
from nntheory.theory.lie._actions import LieAlgebraAction
from nntheory.theory.lie._flows import _EPS, _triangular_flow
from nntheory.theory.lie._moving_frame import _choose_cross_section
from nntheory.theory.lie._sampling import _jacobian_rank, _points, _rank_at
from nntheory.theory.lie._simplify import _tidy

__all__: list[str] = []


@dataclass(frozen=True)
class _Characteristics:
    order: int
    cross_section: tuple[tuple[sympy.Symbol, sympy.Expr], ...]  # y_a = y0_a: where the leaves are cut
    normal_form: tuple[tuple[sympy.Expr, ...], ...]             # w_a = d/dy_a + sum_j c_aj d/dz_j on {y_b = y0_b, b < a}
    values: tuple[tuple[sympy.Symbol, sympy.Expr], ...]         # z_j at the cut, as functions on J^order


def _solve_rational(A: sympy.Matrix, rhs: Sequence[Any]) -> list[sympy.Expr]:
    """``A x = rhs`` over the field of rational functions (sympy's polynomial DomainMatrix: orders of
    magnitude faster than expression-level elimination on the prolonged matrices)."""
    from sympy.polys.matrices import DomainMatrix

    try:
        dm = DomainMatrix.from_Matrix(A).to_field()
        b = DomainMatrix.from_Matrix(sympy.Matrix(rhs)).convert_to(dm.domain)
        return list(dm.lu_solve(b).to_Matrix())
    except Exception:  # noqa: BLE001 - domains sympy cannot build (e.g. algebraic coefficients): plain LU
        return list(A.LUsolve(sympy.Matrix(rhs)))


@functools.lru_cache(maxsize=64)
def _characteristics(action: LieAlgebraAction, order: int) -> _Characteristics:
    """Invariants of ``J^order`` by integrating the linear PDE system ``pr v_a(I) = 0`` directly.

    The prolonged generators span an involutive distribution of rank ``s`` (the orbit dimension).
    Solving the coefficient matrix for ``s`` transversal coordinates ``y`` puts it in Jacobian normal
    form ``w_a = d/dy_a + sum_j c_aj(y, z) d/dz_j``, whose fields commute (Frobenius: a complete
    system). An invariant is constant along each ``w_a``, so it is determined by its values on
    ``{y = y0}``: the fundamental invariants are the coordinates ``z_j`` of the point of ``{y = y0}``
    on the same leaf, reached by flowing along ``w_1``, ..., ``w_s`` in turn (their characteristic
    ODEs, in ``epsilon = y0_a - y_a``). No group parameters are solved for, so this route works
    where the moving frame's normalisation equations cannot be solved; it needs the characteristic
    ODEs integrable in closed form (scalar ODEs by ``dsolve``, linear blocks with commuting
    coefficients by a matrix exponential), and is local: branches are chosen on an open set.
    """
    jet = action.jet
    rank = action.orbit_dimension(order)
    coords = jet.coordinates(order)
    section = _choose_cross_section(action, order, rank, seed=1000)
    M = sympy.Matrix(action.matrix(order))
    ycols = [coords.index(c) for c, _ in section]
    rows = _transversal_rows(M, ycols, rank, _points(coords, 1, 4242 + order)[0], order)
    A = M.extract(rows, ycols)
    Mr = M.extract(rows, list(range(len(coords))))
    zs = [j for j in range(len(coords)) if j not in ycols]
    for shift in range(3):  # the branch integrated near a generic point may meet the cut only where it is singular
        cut = [(c, y0 + shift) for c, y0 in section]
        normal, current = _flow_to_cut(A, Mr, coords, ycols, cut, order)
        values = [_tidy(current[j]) for j in zs]
        if _jacobian_rank(values, coords, seed=91 + order) == len(zs):
            return _Characteristics(order, tuple(cut), tuple(normal), tuple((coords[j], v) for j, v in zip(zs, values)))
    raise InvariantError(f"characteristics: the integrated leaves do not meet the cut {section} regularly at order {order}.")


def _transversal_rows(M: sympy.Matrix, ycols: list[int], rank: int, pt, order: int) -> list[int]:
    """``rank`` generators (rows of ``M``) whose coefficients on the cut coordinates are independent at ``pt``."""
    rows: list[int] = []
    for a in range(M.rows):
        try:
            if _rank_at([[M[b, j] for j in ycols] for b in rows + [a]], pt) == len(rows) + 1:
                rows.append(a)
        except (ZeroDivisionError, TypeError, ValueError):
            continue
        if len(rows) == rank:
            break
    if len(rows) < rank:
        raise InvariantError(f"characteristics: no {rank} generators are transversal to the cut at order {order}.")
    return rows


def _flow_to_cut(A: sympy.Matrix, Mr: sympy.Matrix, coords, ycols: list[int], cut, order: int):
    """``(normal_form, point)``: the Jacobian normal form fields ``w_a`` and the coordinates of the
    point where the leaf through a generic point meets ``cut``, flowing along ``w_1, ..., w_s``."""
    rank = len(cut)
    current = list(coords)
    normal = []
    for a in range(rank):
        # w_a preserves every other y, so flow a runs on {y_b = y0_b, b < a}: its normal-form row
        # e_a^T A^{-1} M is only needed there (A^T r = e_a, solved after substituting the cut).
        on = {cut[b][0]: cut[b][1] for b in range(a)}
        r = _solve_rational(A.xreplace(on).T, [int(b == a) for b in range(rank)])
        comps = tuple(sympy.factor(sympy.cancel(sum(r[b] * Mr[b, j].xreplace(on) for b in range(rank))))
                      for j in range(len(coords)))
        normal.append(comps)
        flow = _triangular_flow(coords, comps)
        if flow is None:
            field_text = " + ".join(f"({c})*d/d{z}" for z, c in zip(coords, comps) if c != 0)
            raise InvariantError(
                f"characteristics: the characteristic ODEs of {field_text} (order {order}) could not be integrated "
                "in closed form."
            )
        sub = dict(zip(coords, current))
        sub[_EPS] = cut[a][1] - current[ycols[a]]
        current = [f.xreplace(sub) for f in flow]
    return normal, current
