"""Lie algebras of vector fields on a jet space's base: closure, structure constants, prolongation,
and their construction from coordinate names or a JSON-like spec."""

from __future__ import annotations

import functools
import itertools
import random
from fractions import Fraction
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import mpmath
import sympy

from nntheory.errors import InvariantError
from nntheory.theory.lie._budget import _step
from nntheory.theory.lie._jets import JetSpace
from nntheory.theory.lie._sampling import _generic_rank, _points, _rank_at
from nntheory.theory.lie._zero import _is_zero, _references, _value

__all__ = ["LieAlgebraAction", "action_from_spec", "invariant_count", "lie_action"]


def _commutator(base: Sequence[sympy.Symbol], v: Sequence[sympy.Expr], w: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """Commutator ``[v, w]^k = v(w^k) - w(v^k)`` of vector fields given by components on ``base`` (unsimplified)."""
    return [sum(v[i] * sympy.diff(w[k], base[i]) - w[i] * sympy.diff(v[k], base[i]) for i in range(len(base)))
            for k in range(len(base))]


def _bracket(base: Sequence[sympy.Symbol], v: Sequence[sympy.Expr], w: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """The commutator ``[v, w]``, each component simplified."""
    return [sympy.simplify(e) for e in _commutator(base, v, w)]


def _solve_constant_combination(base, gens, target, seed: int):
    """Constants c with sum_c c_c gens[c] == target identically, or None.

    The constants are solved numerically (60 digits, least squares at points near a reference point
    where every component is real and finite), recognised as rationals, and the identity is then
    decided by :func:`~nntheory.theory.lie._zero._is_zero` (symbolic normal forms, then a randomized
    numeric test): rewritings of the same field (``cos/sin`` against ``1/tan``, radicals) never make
    a closed algebra look open.
    """
    r, n = len(gens), len(base)
    if all(_is_zero(t, seed) for t in target):
        return tuple(sympy.Integer(0) for _ in range(r))
    syms = sorted(set(base), key=str)
    rows, rhs = [], []
    rng = random.Random(seed)
    for ref in _references(syms, 1000 + seed, 8):
        for k in range(r + 2):
            pt = {s: c + sympy.Rational(rng.randint(-60, 60), 1000) for s, c in ref.items()}
            vals = [[_value(g[i], pt) for i in range(n)] for g in gens]
            tv = [_value(target[i], pt) for i in range(n)]
            if any(v is None for row in vals for v in row) or any(v is None for v in tv):
                break
            for i in range(n):
                rows.append([vals[a][i] for a in range(r)])
                rhs.append(tv[i])
        if len(rows) >= n * (r + 2):
            break
        rows, rhs = [], []
    if not rows:
        return None
    with mpmath.workdps(60):
        A, b = mpmath.matrix(rows), mpmath.matrix(rhs)
        try:
            x = mpmath.lu_solve(A.T * A, A.T * b)  # normal equations: exact rows, 60 digits
        except (ZeroDivisionError, ValueError):
            return None
        vec = []
        for a in range(r):
            fr = Fraction(str(mpmath.nstr(x[a], 50))).limit_denominator(10**6)
            if abs(x[a] - mpmath.mpf(fr.numerator) / fr.denominator) > mpmath.mpf(10) ** -25:
                return None
            vec.append(sympy.Rational(fr.numerator, fr.denominator))
    for k in range(n):
        if not _is_zero(target[k] - sum(vec[a] * gens[a][k] for a in range(r)), seed + k):
            return None
    return tuple(vec)


@dataclass(frozen=True)
class LieAlgebraAction:
    """An ``r``-dimensional Lie algebra of vector fields on the base of a jet space (see module docs).

    Attributes:
        jet: the coordinates.
        generators: ``r`` tuples of components on ``jet.base`` (independent, then dependent).
        names: a name per generator (``v1``, ``v2``, ... by default).
        finite: optional finite action: the transformed base coordinates as expressions in the base
            coordinates and ``parameters``, with the identity at all parameters 0. When absent, the
            group element is built from the generators' flows.
        parameters: the symbols of ``finite``.
        structure_constants: ``c[a][b][c]`` with ``[v_a, v_b] = sum_c c[a][b][c] v_c`` (exact).
    """

    jet: JetSpace
    generators: tuple[tuple[sympy.Expr, ...], ...]
    names: tuple[str, ...] = ()
    finite: tuple[sympy.Expr, ...] | None = None
    parameters: tuple[sympy.Symbol, ...] = ()
    structure_constants: tuple = field(default=(), compare=False)

    def __post_init__(self) -> None:
        n = len(self.jet.base)
        if not self.generators:
            raise InvariantError("generators: at least one generator is needed.")
        for a, g in enumerate(self.generators):
            if any(not isinstance(c, sympy.Basic) for c in g):
                raise InvariantError(f"generators[{a}]: components must be sympy expressions; build the action with "
                                     "lie_action or action_from_spec to parse text safely.")
            if len(g) != n:
                raise InvariantError(f"generators[{a}]: expected {n} components, got {len(g)}.")
            extra = set().union(*(sympy.sympify(c).free_symbols for c in g)) - set(self.jet.base)
            if extra:
                raise InvariantError(f"generators[{a}]: unknown symbols {sorted(map(str, extra))}; coordinates are {[s.name for s in self.jet.base]}.")
            if all(sympy.sympify(c) == 0 for c in g):
                raise InvariantError(f"generators[{a}]: the zero vector field generates nothing.")
        if not self.names:
            object.__setattr__(self, "names", tuple(f"v{a + 1}" for a in range(self.r)))
        if len(self.names) != self.r:
            raise InvariantError(f"names: expected {self.r}, got {len(self.names)}.")
        # linear independence over the constants
        rank = _rank_at(self._sampled_rows(), {})
        if rank < self.r:
            raise InvariantError(
                f"generators: the {self.r} generators are linearly dependent over the constants (rank {rank}); "
                "drop the redundant ones."
            )
        if self.finite is not None:
            if len(self.finite) != n or len(self.parameters) != self.r:
                raise InvariantError(f"finite: expected {n} transformed coordinates in {self.r} parameters.")
        if not self.structure_constants:
            _step("closure of the generators (structure constants)")
            object.__setattr__(self, "structure_constants", self._structure())

    @property
    def r(self) -> int:
        """Dimension of the Lie algebra (number of generators)."""
        return len(self.generators)

    def _sampled_rows(self):
        base = self.jet.base
        rows = [[] for _ in range(self.r)]
        for pt in _points(base, self.r + 2, 99):
            vals = [[sympy.sympify(c).xreplace(pt) for c in g] for g in self.generators]
            if any(v.has(sympy.zoo, sympy.nan) for row in vals for v in row):
                continue
            for a in range(self.r):
                rows[a] += [sympy.nsimplify(v) if v.is_number else v for v in vals[a]]
        return rows

    def _structure(self):
        base = self.jet.base
        r = self.r
        c = [[[sympy.Integer(0)] * r for _ in range(r)] for _ in range(r)]
        for a, b in itertools.combinations(range(r), 2):
            br = _bracket(base, self.generators[a], self.generators[b])
            if all(e == 0 for e in br):
                continue
            sol = _solve_constant_combination(base, self.generators, br, seed=a * r + b)
            if sol is None:
                comps = ", ".join(f"{s}: {e}" for s, e in zip(base, br) if e != 0)
                raise InvariantError(
                    f"generators do not close into a Lie algebra: [{self.names[a]}, {self.names[b]}] = ({comps}) "
                    "is not a constant linear combination of the generators. Add the missing generators."
                )
            for k in range(r):
                c[a][b][k] = sol[k]
                c[b][a][k] = -sol[k]
        return tuple(tuple(tuple(row) for row in m) for m in c)

    def bracket_table(self) -> dict[str, str]:
        """``{"[v1, v3]": "-v2", ...}`` for the non-zero brackets."""
        out = {}
        for a, b in itertools.combinations(range(self.r), 2):
            comb = sum(self.structure_constants[a][b][k] * sympy.Symbol(self.names[k]) for k in range(self.r))
            if comb != 0:
                out[f"[{self.names[a]}, {self.names[b]}]"] = str(comb)
        return out

    # ------------------------------------------------------------------ prolongation
    def prolong(self, a: int, order: int) -> dict[sympy.Symbol, sympy.Expr]:
        """Coefficients of ``pr^(order) v_a`` on every coordinate of ``J^order``."""
        return dict(_prolonged(self, a, order))

    def matrix(self, order: int) -> list[list[sympy.Expr]]:
        """The ``r x dim J^order`` matrix of prolonged coefficients (rows: generators)."""
        coords = self.jet.coordinates(order)
        return [[self.prolong(a, order)[s] for s in coords] for a in range(self.r)]

    def orbit_dimension(self, order: int) -> int:
        """Generic orbit dimension of the prolonged action on ``J^order``."""
        return _orbit_dim(self, order)

    def apply(self, a: int, expr: sympy.Expr, order: int | None = None) -> sympy.Expr:
        """``pr v_a (expr)``."""
        order = self.jet.order_of(expr) if order is None else order
        co = self.prolong(a, order)
        return sum((co[s] * sympy.diff(expr, s) for s in self.jet.coordinates(order) if expr.has(s)), sympy.Integer(0))


@functools.lru_cache(maxsize=512)
def _prolonged(action: LieAlgebraAction, a: int, order: int) -> tuple[tuple[sympy.Symbol, sympy.Expr], ...]:
    jet = action.jet
    g = [sympy.sympify(c) for c in action.generators[a]]
    xi = g[: jet.p]
    if order == 0:
        return tuple(zip(jet.base, g))
    prev = dict(_prolonged(action, a, order - 1))
    Dxi = [[_simp(jet.total_derivative(xi[j], i, 0)) for j in range(jet.p)] for i in range(jet.p)]
    for alpha in range(jet.q):
        for J in itertools.combinations_with_replacement(range(jet.p), order):
            parent, i = J[:-1], J[-1]
            ph = jet.total_derivative(prev[jet.symbol(alpha, parent)], i, order - 1)
            ph -= sum(Dxi[i][j] * jet.symbol(alpha, tuple(sorted(parent + (j,)))) for j in range(jet.p))
            prev[jet.symbol(alpha, J)] = _simp(ph)
    return tuple((s, prev[s]) for s in jet.coordinates(order))


def _simp(e: sympy.Expr) -> sympy.Expr:
    e = sympy.expand(e)
    return sympy.cancel(e) if e.has(sympy.Pow) and any(p.exp.is_negative for p in e.atoms(sympy.Pow)) else e


@functools.lru_cache(maxsize=256)
def _orbit_dim(action: LieAlgebraAction, order: int) -> int:
    return _generic_rank(action.matrix(order), action.jet.coordinates(order), seed=order + 11)


def invariant_count(action: LieAlgebraAction, order: int) -> int:
    """Number of functionally independent differential invariants of order ``<= order``.

    Args:
        action: the Lie algebra action.
        order: the jet order ``k >= 0``.

    Returns:
        An int: ``dim J^k`` minus the generic orbit dimension of the action prolonged to ``J^k``.
    """
    return action.jet.dimension(order) - action.orbit_dimension(order)


def lie_action(
    independent: Sequence[str],
    dependent: Sequence[str] = (),
    generators: Sequence[Mapping[str, Any]] = (),
    *,
    names: Sequence[str] | None = None,
    finite: Mapping[str, Any] | None = None,
    parameters: Sequence[str] | None = None,
) -> LieAlgebraAction:
    """Build a :class:`LieAlgebraAction` from coordinate names and generator components.

    Components are sympy expressions or strings (parsed safely); a missing component is 0.

    Returns:
        The action, its closure checked and structure constants computed.

    Raises:
        InvariantError: bad coordinate names, unknown coordinates or symbols, unparsable components,
            dependent generators, or generators that do not close into a Lie algebra.

    Example:
        >>> se2 = lie_action(["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}])
        >>> se2.bracket_table()
        {'[v1, v3]': 'v2', '[v2, v3]': '-v1'}
        >>> [invariant_count(se2, k) for k in range(4)]
        [0, 0, 1, 2]
    """
    from nntheory.theory._activations import parse_expression

    jet = JetSpace.from_names(list(independent), list(dependent))
    table = {s.name: s for s in jet.base}
    if isinstance(generators, Mapping) or not isinstance(generators, Sequence):
        raise InvariantError("generators: expected a list of {coordinate: component} objects.")
    gens = []
    for a, gdict in enumerate(generators):
        if not isinstance(gdict, Mapping):
            raise InvariantError(f"generators[{a}]: expected an object {{coordinate: component}}, got {gdict!r}.")
        unknown = sorted(set(gdict) - set(table))
        if unknown:
            raise InvariantError(f"generators[{a}]: unknown coordinate(s) {unknown}; coordinates are {sorted(table)}.")
        gens.append(tuple(
            _as_expr(gdict.get(s.name, 0), table, f"generators[{a}].{s.name}", parse_expression) for s in jet.base
        ))
    fin, params = (None, ()) if finite is None else _finite_action(jet, finite, parameters, table, parse_expression)
    return LieAlgebraAction(jet, tuple(gens), tuple(names or ()), fin, params)


def _finite_action(jet: JetSpace, finite: Mapping[str, Any], parameters, table, parse):
    """``(transformed base coordinates, parameter symbols)`` of a user-supplied finite action."""
    if not parameters:
        raise InvariantError("finite: give the group parameters' names in 'parameters'.")
    ptable = dict(table)
    for pname in parameters:
        if pname in ptable:
            raise InvariantError(f"parameters: {pname!r} collides with a coordinate name.")
        ptable[pname] = sympy.Symbol(pname, real=True)
    params = tuple(ptable[pname] for pname in parameters)
    return tuple(_as_expr(finite.get(s.name, s.name), ptable, f"finite.{s.name}", parse) for s in jet.base), params


def _as_expr(val, table, label, parse):
    if isinstance(val, sympy.Basic):
        return sympy.sympify(val)
    return parse(val, table, label=label, error=InvariantError)


def action_from_spec(spec: Mapping[str, Any]) -> LieAlgebraAction:
    """Build the action from a JSON-like spec: ``{"independent": [...], "dependent": [...], "generators": [...]}``.

    Optional keys: ``"names"`` (one per generator), ``"finite"`` (transformed coordinates) with
    ``"parameters"`` (and ``"comment"``, ignored).

    Returns:
        The action, as :func:`lie_action` builds it.

    Raises:
        InvariantError: not an object, unknown or missing keys, or any error of :func:`lie_action`.
    """
    if not isinstance(spec, Mapping):
        raise InvariantError("spec: expected a JSON object with 'independent', 'dependent' and 'generators'.")
    unknown = sorted(set(spec) - {"independent", "dependent", "generators", "names", "finite", "parameters", "comment"})
    if unknown:
        raise InvariantError(f"spec: unknown key(s) {unknown}.")
    for key in ("independent", "generators"):
        if key not in spec:
            raise InvariantError(f"spec: missing key {key!r}.")
    return lie_action(
        spec["independent"], spec.get("dependent", []), spec["generators"], names=spec.get("names"),
        finite=spec.get("finite"), parameters=spec.get("parameters"),
    )
