r"""Lie algebra actions on manifolds and jet spaces, prolongation, and differential invariants.

A :class:`LieAlgebraAction` is a frozen descriptor: the coordinates of a :class:`JetSpace`
(independent variables ``x^i``, dependent variables ``u^alpha``) and ``r`` infinitesimal generators

.. math:: v_a = \sum_i \xi_a^i(x, u)\,\partial_{x^i} + \sum_\alpha \varphi_{a,\alpha}(x, u)\,\partial_{u^\alpha},

checked on construction to close into an ``r``-dimensional Lie algebra (exact structure constants
``[v_a, v_b] = c_{ab}^c v_c``; ``[v, w]`` is the commutator of vector fields, ``v(w^k) - w(v^k)``).

Jet coordinates are ``u_J`` for sorted multi-indices ``J`` and are named ``u_x``, ``u_xx``, ``u_xy``
(derivative letters in the order of the independent variables). Prolongation uses the
characteristic formula (Olver, *Applications of Lie Groups to Differential Equations*, Thm 2.36) in
its recursive form ``phi^{J,i} = D_i phi^J - sum_j D_i(xi^j) u_{J,j}``.

Counts: the number of functionally independent invariants of order ``<= k`` is
``dim J^k - (generic orbit dimension)``, the orbit dimension being the generic rank of the matrix of
prolonged generator coefficients (evaluated at random points in 50-digit arithmetic; exact rank is
not needed, only its generic value).

Invariants: Fels–Olver moving frame. A cross-section ``K = {z_c = const}`` is chosen transversal to
the orbits (coordinates taken in order of increasing jet order, constants 0 where the transversality
minor does not vanish there, else 1); the group element is a product of the generators' flows
(their characteristic ODEs, integrated exactly: matrix exponential for affine generators,
``dsolve`` for triangular ones) or the finite action supplied by the user; the normalisation
equations are solved for the group parameters and the remaining transformed coordinates are the
normalised invariants ``iota(z_j)``. They are then reduced to a functionally independent set at each
order (rank test) and checked to be annihilated by every prolonged generator (exact).

Second route, by solving the linear PDE system ``pr v_a(I) = 0`` (``method="characteristics"``, and
the fallback of the default where the frame fails): the prolonged generators are put in Jacobian
normal form ``w_a = d/dy_a + sum_j c_aj d/dz_j`` on the same transversal coordinates ``y``; these
commute (Frobenius), and an invariant is determined by its values on the cut ``{y = y0}``, so the
fundamental invariants are the ``z_j`` of the point where the leaf meets the cut, found by
integrating the characteristic ODEs of ``w_1, ..., w_s`` in turn (scalar ODEs by ``dsolve``,
including implicit general solutions; linear blocks with commuting coefficients by a matrix
exponential). On the same cut both routes give the same normalised invariants.

The invariant differential operators ``𝒟_i = sum_j (D_j X^i)^{-1}|_frame D_j`` (arc-length derivative
for SE(2)) and the Fels–Olver recurrence relations ``𝒟_i iota(z) = iota(D_i z) + sum_a R_i^a
iota(pr v_a (z))`` (``R`` from the phantom invariants) are computed symbolically.

This module uses sympy and mpmath only (no JAX, no numpy).
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import mpmath
import sympy

from nntheory.errors import InvariantError

__all__ = [
    "InvariantError", "JetSpace", "LieAlgebraAction", "InvariantSet", "lie_action", "action_from_spec",
    "differential_invariants", "invariant_count", "EquivariantFields", "equivariant_fields", "tangent_lift",
]


_RESERVED = {"pi", "E", "e", "I", "oo", "nan", "zoo"}


# ------------------------------------------------------------------------------------------ jet spaces
@dataclass(frozen=True)
class JetSpace:
    """Coordinates ``x^1..x^p`` (independent) and ``u^1..u^q`` (dependent) and their jets.

    With no dependent variables it is just the manifold ``M = R^p`` (all jets are trivial).
    """

    independent: tuple[sympy.Symbol, ...]
    dependent: tuple[sympy.Symbol, ...] = ()

    @classmethod
    def from_names(cls, independent: Sequence[str], dependent: Sequence[str] = ()) -> "JetSpace":
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
        return len(self.independent)

    @property
    def q(self) -> int:
        return len(self.dependent)

    @property
    def base(self) -> tuple[sympy.Symbol, ...]:
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


# ---------------------------------------------------------------------------------- random points
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


# ------------------------------------------------------------------------------------ the action
def _bracket(base: Sequence[sympy.Symbol], v: Sequence[sympy.Expr], w: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """Commutator ``[v, w]^k = v(w^k) - w(v^k)`` of vector fields given by components on ``base``."""
    return [
        sympy.simplify(sum(v[i] * sympy.diff(w[k], base[i]) - w[i] * sympy.diff(v[k], base[i]) for i in range(len(base))))
        for k in range(len(base))
    ]


def _solve_constant_combination(base, gens, target, seed: int):
    """Constants c with sum_c c_c gens[c] == target identically, or None."""
    r = len(gens)
    cs = sympy.symbols(f"c0:{r}")
    eqs = []
    for pt in _points(base, r + 3, seed):
        try:
            vals = [[g[k].xreplace(pt) for k in range(len(base))] for g in gens]
            tv = [target[k].xreplace(pt) for k in range(len(base))]
        except ZeroDivisionError:
            continue
        if any(v.has(sympy.zoo, sympy.nan) for row in vals for v in row) or any(v.has(sympy.zoo, sympy.nan) for v in tv):
            continue
        eqs += [sum(cs[a] * vals[a][k] for a in range(r)) - tv[k] for k in range(len(base))]
    sol = sympy.linsolve(eqs, cs)
    if not sol:
        return None
    (vec,) = list(sol)
    vec = [sympy.nsimplify(v) if v.free_symbols == set() else v.subs({c: 0 for c in cs}) for v in vec]
    rest = [sympy.simplify(target[k] - sum(vec[a] * gens[a][k] for a in range(r))) for k in range(len(base))]
    if any(e != 0 for e in rest):
        return None
    return tuple(sympy.nsimplify(v) for v in vec)


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
            object.__setattr__(self, "structure_constants", self._structure())

    @property
    def r(self) -> int:
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
    xi, phi = g[: jet.p], g[jet.p:]
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
    """Number of functionally independent differential invariants of order ``<= order``."""
    return action.jet.dimension(order) - action.orbit_dimension(order)


# ------------------------------------------------------------------------------- construction
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
    fin, params = None, ()
    if finite is not None:
        if not parameters:
            raise InvariantError("finite: give the group parameters' names in 'parameters'.")
        ptable = dict(table)
        for pname in parameters:
            if pname in ptable:
                raise InvariantError(f"parameters: {pname!r} collides with a coordinate name.")
            ptable[pname] = sympy.Symbol(pname, real=True)
        params = tuple(ptable[pname] for pname in parameters)
        fin = tuple(_as_expr(finite.get(s.name, s.name), ptable, f"finite.{s.name}", parse_expression) for s in jet.base)
    return LieAlgebraAction(jet, tuple(gens), tuple(names or ()), fin, params)


def _as_expr(val, table, label, parse):
    if isinstance(val, sympy.Basic):
        return sympy.sympify(val)
    return parse(val, table, label=label, error=InvariantError)


def action_from_spec(spec: Mapping[str, Any]) -> LieAlgebraAction:
    """Build the action from a JSON-like spec: ``{"independent": [...], "dependent": [...], "generators": [...]}``.

    Optional keys: ``"names"`` (one per generator), ``"finite"`` (transformed coordinates) with
    ``"parameters"``.
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


# ------------------------------------------------------------------------- flows (finite action)
_EPS = sympy.Symbol("epsilon", real=True)


@functools.lru_cache(maxsize=256)
def _flow(base: tuple[sympy.Symbol, ...], comps: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...] | None:
    """The flow ``exp(epsilon v)`` of a vector field, exactly, or None when it cannot be integrated.

    Affine fields: matrix exponential of the augmented matrix. Otherwise the characteristic system is
    integrated component by component when it is triangular (each component depends only on its own
    coordinate and on coordinates already integrated), each scalar ODE by ``dsolve``. The result is
    verified: ``d/d epsilon flow = v(flow)`` and ``flow(0) = identity``.
    """
    n = len(base)
    comps = tuple(sympy.sympify(c) for c in comps)
    out: list[sympy.Expr] | None = None
    if all(c.is_polynomial(*base) and sympy.Poly(c, *base).total_degree() <= 1 for c in comps):
        A = sympy.zeros(n + 1, n + 1)
        for k in range(n):
            for i in range(n):
                A[k, i] = sympy.diff(comps[k], base[i])
            A[k, n] = comps[k].xreplace({b: 0 for b in base})
        try:
            E = (A * _EPS).exp()
            out = [_trig(sum(E[k, i] * base[i] for i in range(n)) + E[k, n]) for k in range(n)]
        except Exception:  # noqa: BLE001 - sympy may fail on hard spectra; fall through to dsolve
            out = None
    if out is None:
        out = _triangular_flow(base, comps)
    if out is None:
        return None
    sub = dict(zip(base, out))
    for k in range(n):
        if sympy.simplify(sympy.diff(out[k], _EPS) - comps[k].xreplace(sub)) != 0 or sympy.simplify(out[k].subs(_EPS, 0) - base[k]) != 0:
            return None
    return tuple(out)


def _trig(e: sympy.Expr) -> sympy.Expr:
    if e.has(sympy.I):
        e = sympy.simplify(e.rewrite(sympy.cos))
    return sympy.simplify(e)


def _local_zero(expr: sympy.Expr, base: Sequence[sympy.Symbol], seed: int = 0, count: int = 3) -> bool:
    """``expr`` (in ``base`` and ``epsilon``) vanishes at ``count`` points near one reference point
    with positive coordinates, for small positive ``epsilon`` (40 digits): the check of a local
    solution branch (branches of roots and logs are chosen near the reference point)."""
    ref = random.Random(7)
    p0 = {b: sympy.Rational(ref.randint(20, 40), ref.randint(7, 13)) for b in base}
    rnd = random.Random(seed)
    with mpmath.workdps(40):
        for _ in range(count):
            pt = {b: v + sympy.Rational(rnd.randint(-9, 9), 400) for b, v in p0.items()}
            pt[_EPS] = sympy.Rational(rnd.randint(1, 9), 997)
            try:
                v = complex(sympy.sympify(expr).xreplace(pt).evalf(40))
            except (TypeError, ValueError, ZeroDivisionError):
                return False
            if not abs(v) <= 1e-25:
                return False
    return True


def _scalar_flow(rhs: sympy.Expr, F: sympy.Expr, z0: sympy.Symbol, base) -> sympy.Expr | None:
    """Solution of ``F' = rhs(epsilon, F)``, ``F(0) = z0``: ``dsolve`` with the initial condition, or
    its general solution with the constant solved from the initial condition (implicit first
    integrals, several branches); the branch kept is checked at random points."""
    eq = sympy.Eq(F.diff(_EPS), rhs)

    def solves(c):
        return _local_zero(c.subs(_EPS, 0) - z0, base, 1) and _local_zero(c.diff(_EPS) - rhs.xreplace({F: c}), base, 2)

    cands: list[sympy.Expr] = []
    try:
        res = sympy.dsolve(eq, F, ics={F.subs(_EPS, 0): z0})
        cands += [r.rhs for r in (res if isinstance(res, list) else [res]) if r.lhs == F]
    except Exception:  # noqa: BLE001 - dsolve raises many types on hard ODEs
        pass
    for c in cands:
        if solves(c):
            return c
    try:
        general = sympy.dsolve(eq, F)
    except Exception:  # noqa: BLE001
        return None
    for g in general if isinstance(general, list) else [general]:
        if g.lhs != F:
            continue
        consts = sorted((c for c in g.rhs.free_symbols if c.name.startswith("C") and c not in base and c != _EPS), key=str)
        if len(consts) != 1:
            continue
        try:
            values = sympy.solve(g.rhs.subs(_EPS, 0) - z0, consts[0])
        except Exception:  # noqa: BLE001
            continue
        for v in values:
            c = g.rhs.xreplace({consts[0]: v})
            if solves(c):
                return c
    return None


def _first_piece(e: sympy.Expr) -> sympy.Expr:
    """The generic branch of an integral (its first piece, valid on an open set; checked later)."""
    return e.args[0][0] if isinstance(e, sympy.Piecewise) else e


def _linear_block_flow(rhs: Sequence[sympy.Expr], Fs: Sequence[sympy.Expr], z0: Sequence[sympy.Symbol], base):
    """``F' = A(epsilon) F + b(epsilon)`` with commuting ``A(epsilon) = f(epsilon) A0``:
    ``F = Phi (z0 + int_0^epsilon Phi^{-1} b)``, ``Phi = exp(A0 int_0^epsilon f)``."""
    m = len(Fs)
    A = sympy.Matrix(m, m, lambda i, j: sympy.diff(rhs[i], Fs[j]))
    if any(e.has(*Fs) for e in A):
        return None
    b = sympy.Matrix([sympy.simplify(rhs[i] - sum(A[i, j] * Fs[j] for j in range(m))) for i in range(m)])
    s = sympy.Dummy("s")
    piv = next((e for e in A if e != 0), None)
    if piv is None:
        Phi = sympy.eye(m)
    else:
        A0 = A.applyfunc(lambda e: sympy.simplify(e / piv))
        if any(e.has(_EPS) for e in A0):
            return None
        f_int = _first_piece(sympy.integrate(piv.subs(_EPS, s), (s, 0, _EPS)))
        if f_int.has(sympy.Integral):
            return None
        Phi = (A0 * f_int).exp().applyfunc(_trig)
    z = sympy.Matrix(z0)
    if any(e != 0 for e in b):
        integrand = (Phi.inv() * b).applyfunc(lambda e: sympy.simplify(e.subs(_EPS, s)))
        acc = integrand.applyfunc(lambda e: _first_piece(sympy.integrate(e, (s, 0, _EPS))))
        if any(e.has(sympy.Integral) for e in acc):
            return None
        z = z + acc
    out = [sympy.simplify(e) for e in Phi * z]
    sub = dict(zip(Fs, out))
    for i in range(m):
        if not (_local_zero(out[i].subs(_EPS, 0) - z0[i], base, 3) and _local_zero(out[i].diff(_EPS) - rhs[i].xreplace(sub), base, 4)):
            return None
    return out


def _triangular_flow(base, comps):
    """Integrate ``dz/d epsilon = comps(z)`` block by block: each block is a set of coordinates that
    depend on each other (a strongly connected component of the dependency graph) and only on
    coordinates already integrated. Single coordinates are scalar ODEs; larger blocks must be linear
    with commuting coefficient matrices. Returns None when a block cannot be integrated."""
    n = len(base)
    sol: dict[sympy.Symbol, sympy.Expr] = {b: b for b, c in zip(base, comps) if c == 0}
    pending = {k for k in range(n) if comps[k] != 0}
    deps = {k: {j for j in pending if j != k and comps[k].has(base[j])} for k in pending}
    while pending:
        reach = {}
        for k in pending:  # transitive closure within the pending coordinates
            seen, todo = set(), [k]
            while todo:
                for j in deps[todo.pop()] & pending:
                    if j not in seen:
                        seen.add(j)
                        todo.append(j)
            reach[k] = seen
        blocks = []
        for k in sorted(pending):
            block = {k} | {j for j in reach[k] if k in reach[j]}
            if reach[k] <= block:
                blocks.append(sorted(block))
        block = min(blocks, key=len)
        Fs = [sympy.Function(f"F{j}")(_EPS) for j in block]
        sub = {b: sol[b] for b in sol}
        sub.update({base[j]: Fs[i] for i, j in enumerate(block)})
        rhs = [comps[j].xreplace(sub) for j in block]
        res = _linear_block_flow(rhs, Fs, [base[j] for j in block], base)
        if res is None and len(block) == 1:
            res = _scalar_flow(rhs[0], Fs[0], base[block[0]], base)
            res = None if res is None else [res]
        if res is None:
            return None
        for j, e in zip(block, res):
            sol[base[j]] = sympy.simplify(e)
        pending -= set(block)
    return [sol[b] for b in base]


def _compose(base, flows, params):
    """``exp(e_1 v_1) ∘ ... ∘ exp(e_m v_m)``: the innermost flow acts first."""
    z = list(base)
    for fl, e in reversed(list(zip(flows, params))):
        z = [f.xreplace({**dict(zip(base, z)), _EPS: e}) for f in fl]
    return [sympy.simplify(c) for c in z]


def _prolong_finite(jet: JetSpace, transformed: Sequence[sympy.Expr], order: int):
    """Transformed jet coordinates (implicit differentiation) and the matrix ``(D_j X^i)^{-1}``."""
    out = dict(zip(jet.base, transformed))
    if jet.q == 0:
        return out, None
    T = sympy.Matrix(jet.p, jet.p, lambda i, j: jet.total_derivative(transformed[i], j, 0))
    Tinv = sympy.Matrix([[1 / T[0, 0]]]) if jet.p == 1 else T.inv()
    Tinv = Tinv.applyfunc(sympy.simplify)
    for k in range(1, order + 1):
        for alpha in range(jet.q):
            for J in itertools.combinations_with_replacement(range(jet.p), k):
                parent, i = J[:-1], J[-1]
                prev = out[jet.symbol(alpha, parent)]
                val = sum(Tinv[j, i] * jet.total_derivative(prev, j, k - 1) for j in range(jet.p))
                out[jet.symbol(alpha, J)] = sympy.together(val)
    return out, Tinv


# ---------------------------------------------------------------------------- the moving frame
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
                    if _rank_at([[row[k] for k in chosen + [j]] for row in M], pt) == len(chosen) + 1:
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
    if action.finite is not None:
        params = [action.parameters[a] for a in picked]
        zero = {e: 0 for e in action.parameters if e not in params}
        g = [sympy.simplify(f.xreplace(zero)) for f in action.finite]
    else:
        flows = []
        for a in picked:
            fl = _flow(jet.base, tuple(sympy.sympify(c) for c in action.generators[a]))
            if fl is None:
                raise InvariantError(
                    f"the flow of {action.names[a]} = {action.generators[a]} could not be integrated exactly; "
                    "give the finite action ('finite' with 'parameters') to use the moving frame."
                )
            flows.append(fl)
        params = [sympy.Symbol(f"epsilon_{action.names[a]}", real=True) for a in picked]
        g = _compose(jet.base, flows, params)
    transformed, Tinv = _prolong_finite(jet, g, order)
    coords = jet.coordinates(order)
    pt = _points(coords, 1, 3000 + order)[0]
    eqs = [transformed[s] - c for s, c in section]
    sol: dict[sympy.Symbol, sympy.Expr] = {}
    notes: list[str] = []
    todo = list(params)
    while todo:
        live = [e for e in eqs if any(e.has(p) for p in todo)]
        single = [(e, [p for p in todo if e.has(p)][0]) for e in live if sum(e.has(p) for p in todo) == 1]
        linear = [] if single else _linear_pairs(live, todo)
        if single:
            e, p = single[0]
            cands = _solve_one(e, p)
        elif linear:  # unique solution, possibly in parameters still to be solved: substitute and go on
            p, best = linear[0]
            sol[p] = best
            todo.remove(p)
            eqs = [sympy.simplify(e.xreplace({p: best})) for e in eqs]
            sol = {k: v.xreplace({p: best}) for k, v in sol.items()}
            continue
        else:
            if not live:
                break
            sols = sympy.solve(live, todo, dict=True)
            cands = []
            p = todo[0]
            for s in sols:
                if p in s and not any(s[p].has(q) for q in todo):
                    cands.append(s[p])
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
        best = sympy.simplify(best)
        sol[p] = best
        todo.remove(p)
        eqs = [sympy.simplify(e.xreplace({p: best})) for e in eqs]
        sol = {k: v.xreplace({p: best}) for k, v in sol.items()}
    return _Frame(
        order, tuple(section), tuple(params), tuple(sol.items()),
        tuple((s, transformed[s]) for s in coords), Tinv, tuple(notes),
    )


# ------------------------------------------------------------------ characteristics (Frobenius)
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
    pt = _points(coords, 1, 4242 + order)[0]
    rows: list[int] = []
    for a in range(action.r):
        try:
            if _rank_at([[M[b, j] for j in ycols] for b in rows + [a]], pt) == len(rows) + 1:
                rows.append(a)
        except (ZeroDivisionError, TypeError, ValueError):
            continue
        if len(rows) == rank:
            break
    if len(rows) < rank:
        raise InvariantError(f"characteristics: no {rank} generators are transversal to the cut at order {order}.")
    A = M.extract(rows, ycols)
    Mr = M.extract(rows, list(range(len(coords))))
    zs = [j for j in range(len(coords)) if j not in ycols]
    for shift in range(3):  # the branch integrated near a generic point may meet the cut only where it is singular
        cut = [(c, y0 + shift) for c, y0 in section]
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
        values = [_tidy(current[j]) for j in zs]
        if _jacobian_rank(values, coords, seed=91 + order) == len(zs):
            return _Characteristics(order, tuple(cut), tuple(normal), tuple((coords[j], v) for j, v in zip(zs, values)))
    raise InvariantError(f"characteristics: the integrated leaves do not meet the cut {section} regularly at order {order}.")


def _normalised(frame: _Frame, s: sympy.Symbol) -> sympy.Expr:
    sub = dict(frame.solution)
    val = dict(frame.transformed)[s].xreplace(sub)
    return _tidy(val)


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
    syms = sorted(e.free_symbols, key=str)
    pt = None
    for t in range(20):
        cand = _points(syms, 1, seed + 13 * t)[0]
        try:
            v = complex(e.xreplace(cand).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if abs(v.imag) <= 1e-25 * max(1.0, abs(v)) and v != 0:
            pt = cand
            break
    if pt is None:
        return e
    back: dict[sympy.Symbol, sympy.Expr] = {}
    known: dict[sympy.Expr, sympy.Symbol] = {}
    reps = {}
    for pw in pows:
        fl = _factors(pw.base)
        if fl is None:
            continue
        c, facs = fl
        new = sympy.Integer(1)
        ok = True
        for f, k in facs:
            val = f.xreplace(pt)
            if not val.is_number or val == 0:
                ok = False
                break
            sgn = 1 if val > 0 else -1
            c = c * sgn**k
            if f not in known:
                P = sympy.Dummy("P", positive=True)
                known[f] = P
                back[P] = sgn * f
            new = new * known[f] ** (k * pw.exp)
        if not ok or not (c > 0):
            continue
        reps[pw] = c**pw.exp * new
    if not reps:
        return e
    out = sympy.simplify(e.xreplace(reps))
    out = sympy.factor(sympy.cancel(sympy.together(out.xreplace(back))))
    return out


# ---------------------------------------------------------------------------- invariant sets
@dataclass(frozen=True)
class InvariantSet:
    """A complete set of fundamental differential invariants up to ``order``.

    Attributes:
        action: the Lie algebra action.
        order: the highest jet order ``N``.
        counts: ``counts[k]`` functionally independent invariants of order ``<= k``.
        orbit_dimensions: generic orbit dimension of the prolonged action on ``J^k``.
        invariants: ``invariants[k]``: the new invariants of exactly order ``k``; with those of lower
            orders they form a complete set of order ``<= k``.
        cross_section: the normalisations ``z_c = const`` of the moving frame at the highest order.
        frame: the group parameters of the frame as functions of the jet coordinates.
        derivatives: ``W`` with invariant differential operators ``𝒟_i = sum_j W[i][j] D_j`` (free
            actions with dependent variables), else None.
        warnings: non-freeness, singular sets, local (sign-changing) invariants, fractional powers.
    """

    action: LieAlgebraAction
    order: int
    counts: tuple[int, ...]
    orbit_dimensions: tuple[int, ...]
    invariants: tuple[tuple[sympy.Expr, ...], ...]
    cross_section: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    frame: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    derivatives: tuple[tuple[sympy.Expr, ...], ...] | None
    warnings: tuple[str, ...]
    method: str = "moving frame"

    def all(self, order: int | None = None) -> list[sympy.Expr]:
        """Every fundamental invariant of order ``<= order`` (default: all)."""
        order = self.order if order is None else order
        return [I for k in range(order + 1) for I in self.invariants[k]]

    def invariant_derivative(self, expr: sympy.Expr, i: int = 0) -> sympy.Expr:
        """``𝒟_i expr``: again an invariant when ``expr`` is one (e.g. the arc-length derivative)."""
        if self.derivatives is None:
            raise InvariantError("invariant derivatives need a free action with dependent variables (see warnings).")
        jet = self.action.jet
        k = jet.order_of(expr)
        return _tidy(sum(self.derivatives[i][j] * jet.total_derivative(expr, j, k) for j in range(jet.p)))

    def recurrence(self) -> list[tuple[str, sympy.Expr, sympy.Expr]]:
        """Fels–Olver recurrence relations ``𝒟_i I_z = I_{D_i z} + sum_a R_i^a iota(pr v_a z)``.

        Returns ``(name, lhs, rhs)`` with ``I_<coordinate>`` symbols for the normalised invariants
        (phantom invariants replaced by their constants), for every non-phantom coordinate of order
        ``< order`` and every ``i``. ``R`` (the Maurer–Cartan invariants) is solved from the phantoms.
        """
        return _recurrence(self)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "independent": [s.name for s in self.action.jet.independent],
            "dependent": [s.name for s in self.action.jet.dependent],
            "dimension": len(self.action.generators),
            "structure_constants": self.action.bracket_table(),
            "orders": {
                str(k): {
                    "count": self.counts[k], "orbit_dimension": self.orbit_dimensions[k],
                    "jet_dimension": self.action.jet.dimension(k), "invariants": [str(I) for I in self.invariants[k]],
                }
                for k in range(self.order + 1)
            },
            "cross_section": {str(s): str(c) for s, c in self.cross_section},
            "method": self.method,
            "warnings": list(self.warnings),
        }
        if self.derivatives is not None:
            jet = self.action.jet
            out["invariant_derivatives"] = [
                " + ".join(f"({w})*D_{jet.independent[j].name}" for j, w in enumerate(row) if w != 0) for row in self.derivatives
            ]
        return out

    def to_text(self) -> str:
        jet = self.action.jet
        lines = [
            f"Lie algebra of dimension {self.action.r} acting on J^k with independent {[s.name for s in jet.independent]}, "
            f"dependent {[s.name for s in jet.dependent]}",
        ]
        for name, val in self.action.bracket_table().items():
            lines.append(f"  {name} = {val}")
        lines.append(f"{'order':>5} {'dim J^k':>8} {'orbit':>6} {'count':>6}  new invariants")
        for k in range(self.order + 1):
            inv = "; ".join(str(I) for I in self.invariants[k]) or "-"
            lines.append(f"{k:>5} {jet.dimension(k):>8} {self.orbit_dimensions[k]:>6} {self.counts[k]:>6}  {inv}")
        if self.derivatives is not None:
            for i, row in enumerate(self.derivatives):
                terms = " + ".join(f"({w}) D_{jet.independent[j].name}" for j, w in enumerate(row) if w != 0)
                lines.append(f"invariant derivative 𝒟_{i + 1} = {terms}")
        lines.append("cross-section: " + ", ".join(f"{s} = {c}" for s, c in self.cross_section))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


def _jacobian_rank(funcs: Sequence[sympy.Expr], coords: Sequence[sympy.Symbol], seed: int) -> int:
    rows = [[sympy.diff(f, c) for c in coords] for f in funcs]
    return _generic_rank(rows, coords, seed=seed)


def _annihilated(action: LieAlgebraAction, I: sympy.Expr, order: int) -> bool:
    for a in range(action.r):
        val = action.apply(a, I, order)
        if val == 0:
            continue
        v = sympy.cancel(sympy.together(val))
        if v != 0 and sympy.simplify(v) != 0:
            return False
    return True


_METHODS = ("auto", "moving frame", "characteristics")


def differential_invariants(action: LieAlgebraAction, order: int, *, method: str = "auto", check: bool = True) -> InvariantSet:
    """A complete set of fundamental differential invariants of orders ``0..order``.

    Two routes give the invariants at each order (both return the normalised coordinates: the
    value each non-cut coordinate takes where the orbit meets a cross-section):

    * ``"moving frame"``: Fels–Olver; group elements from the generators' flows (or the finite
      action), normalisation equations solved for the group parameters;
    * ``"characteristics"``: the linear PDE system ``pr v_a(I) = 0`` itself, in Jacobian normal
      form (commuting fields, Frobenius) integrated along its characteristics; no group
      parameters, so it works where the normalisation cannot be solved or the group's flows are
      not integrable;
    * ``"auto"`` (default): the moving frame, and characteristics at the orders where it fails.

    Invariant derivatives and recurrence relations need the moving frame; with
    ``"characteristics"`` they are not computed (``derivatives`` is None).

    Raises:
        InvariantError: ``order`` negative or below the first order with invariants, an unknown
            ``method``, or no route that succeeds (flows or characteristic ODEs not integrable in
            closed form, normalisation not solvable).

    Example:
        >>> se2 = lie_action(["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}])
        >>> inv = differential_invariants(se2, 3)
        >>> inv.invariants[2]
        (u_xx/(u_x**2 + 1)**(3/2),)
        >>> inv.invariant_derivative(inv.invariants[2][0]) == inv.invariants[3][0]
        True
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 0:
        raise InvariantError(f"order: must be an integer >= 0, got {order!r}.")
    if method not in _METHODS:
        raise InvariantError(f"method: must be one of {list(_METHODS)}, got {method!r}.")
    jet = action.jet
    counts = [invariant_count(action, k) for k in range(order + 1)]
    dims = [action.orbit_dimension(k) for k in range(order + 1)]
    if counts[-1] == 0:
        first = next((k for k in range(order + 1, order + 12) if invariant_count(action, k) > 0), None)
        where = f"the first appear at order {first}" if first is not None else f"none up to order {order + 11}"
        raise InvariantError(f"order: there are no differential invariants of order <= {order}; {where}.")
    warnings: list[str] = []
    running: list[sympy.Expr] = []
    per_order: list[tuple[sympy.Expr, ...]] = []
    frame = None
    section: tuple = ()
    routes: dict[int, str] = {}
    for k in range(order + 1):
        new: list[sympy.Expr] = []
        if counts[k] > len(running):
            values, section, frame_k, routes[k] = _route(action, k, method)
            if frame_k is not None:
                frame = frame_k
                for note in frame.branches:
                    if note not in warnings:
                        warnings.append(note)
            phantoms = {s for s, _ in section}
            coords = jet.coordinates(k)
            for s in coords:
                if len(running) + len(new) == counts[k]:
                    break
                if s in phantoms:
                    continue
                I = values(s)
                if not I.free_symbols:
                    continue
                if _jacobian_rank(running + new + [I], coords, seed=77 + k) == len(running) + len(new) + 1:
                    new.append(I)
            if len(running) + len(new) < counts[k]:
                raise InvariantError(
                    f"found only {len(running) + len(new)} of {counts[k]} independent invariants at order {k}; "
                    "the moving frame may be singular here (try giving the finite action)."
                )
        if check:
            for I in new:
                if not _annihilated(action, I, k):
                    raise InvariantError(f"internal: {I} is not annihilated by the prolonged generators (please report).")
        running += new
        per_order.append(tuple(new))
    r = action.r
    nonfree = [k for k in range(order + 1) if dims[k] < r]
    if nonfree:
        if dims[-1] < r:
            warnings.append(
                f"the action is not free up to order {order}: generic orbit dimension {dims[-1]} < {r} = dim g "
                f"(isotropy of dimension {r - dims[-1]}); invariant derivatives and recurrences need a free action."
            )
        else:
            warnings.append(
                f"the prolonged action is not free at orders {nonfree[0]}..{nonfree[-1]} (orbit dimensions "
                f"{[dims[k] for k in nonfree]} < {r}); it is locally free from order {nonfree[-1] + 1}."
            )
    k0 = min(k for k in range(order + 1) if dims[k] == dims[-1])  # where the frame is fixed
    warnings += _singular_notes(action, k0, dims[-1])
    warnings += _power_notes(running)
    if check:
        warnings += _global_notes(action, running, order)
    derivs = None
    final = frame if routes[max(routes)] == "moving frame" else None
    if jet.q and dims[-1] == r and final is not None and final.Tinv is not None:
        sub = dict(final.solution)
        derivs = tuple(tuple(_tidy(final.Tinv[j, i].xreplace(sub)) for j in range(jet.p)) for i in range(jet.p))
    elif jet.q and dims[-1] == r:
        warnings.append("invariant derivatives and recurrence relations need the moving frame, which was not built "
                        f"at order {order} (route: characteristics).")
    used = sorted(set(routes.values()))
    route = used[0] if len(used) == 1 else "; ".join(
        f"{m} at orders {', '.join(str(k) for k in sorted(routes) if routes[k] == m)}" for m in used)
    return InvariantSet(action, order, tuple(counts), tuple(dims), tuple(per_order),
                        final.cross_section if final is not None else section,
                        final.solution if final is not None else (), derivs, tuple(warnings), route or "moving frame")


def _route(action: LieAlgebraAction, k: int, method: str):
    """``(values, cross_section, frame or None, route)`` for order ``k``: ``values(z)`` is the
    normalised invariant of the non-cut coordinate ``z``."""
    errors = []
    if method in ("auto", "moving frame"):
        try:
            fr = _frame(action, k)
            return (lambda s: _normalised(fr, s)), fr.cross_section, fr, "moving frame"
        except InvariantError as exc:
            if method == "moving frame":
                raise
            errors.append(f"moving frame: {exc}")
    try:
        ch = _characteristics(action, k)
    except InvariantError as exc:
        errors.append(str(exc))
        raise InvariantError(f"no route gave the invariants of order {k}: " + " | ".join(errors)) from None
    vals = dict(ch.values)
    return (lambda s: vals[s]), ch.cross_section, None, "characteristics"


def _singular_notes(action: LieAlgebraAction, order: int, rank: int) -> list[str]:
    if rank == 0:
        return []
    M = sympy.Matrix(action.matrix(order))
    coords = action.jet.coordinates(order)
    n_minors = math.comb(action.r, rank) * math.comb(len(coords), rank)
    if n_minors > 60 or rank > 5:
        return [f"singular set at order {order} not computed ({n_minors} minors of size {rank})."]
    minors = []
    for rows in itertools.combinations(range(action.r), rank):
        for cols in itertools.combinations(range(len(coords)), rank):
            d = sympy.factor(sympy.cancel(M.extract(list(rows), list(cols)).det()))
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
            except (NotImplementedError, ValueError):
                sols = []
            real = [sol for sol in sols if all(v.is_real is not False for v in sol.values())]
            if real:
                where = "; ".join(", ".join(f"{k} = {v}" for k, v in sol.items()) for sol in real)
                notes.append(f"order {order}: the orbit dimension drops below {rank} where {where} (singular set).")
    return notes


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
    if action.finite is not None:
        params, g = list(action.parameters), list(action.finite)
    else:
        flows = [_flow(jet.base, tuple(sympy.sympify(c) for c in gen)) for gen in action.generators]
        if any(f is None for f in flows):
            return ["global invariance not checked (a flow could not be integrated)."]
        params = [sympy.Symbol(f"epsilon_{n}", real=True) for n in action.names]
        g = _compose(jet.base, flows, params)
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


# ------------------------------------------------------------------------- equivariant fields
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

    Example:
        >>> so2 = lie_action(["x", "y"], [], [{"x": "-y", "y": "x"}])
        >>> eq = equivariant_fields(so2)
        >>> eq.rank, eq.basis
        (2, ((x, y), (-y, x)))
    """
    jet = action.jet
    base = jet.base
    n = len(base)
    comps_allowed = tuple(range(n)) if components is None else tuple(components)
    gens = [tuple(sympy.sympify(c) for c in g) for g in action.generators]
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
        blocks = []
        for c in null:
            A = sum((c[a] * _jacobian_at(gens[a], base, pt) for a in range(action.r)), sympy.zeros(n, n))
            blocks.append(A)
        mask = sympy.zeros(n - len(comps_allowed), n)
        for row, k in enumerate(k for k in range(n) if k not in comps_allowed):
            mask[row, k] = 1
        stack = sympy.Matrix.vstack(*(blocks + [mask])) if blocks or mask.rows else sympy.zeros(1, n)
        ranks.append(n - stack.rank())
    if not ranks:
        raise InvariantError("equivariant_fields: the generators could not be evaluated at random points.")
    rank, iso = min(ranks), min(iso_dims)
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
            br = _bracket(base, g, Y)
            if any(e != 0 for e in br):
                raise InvariantError(f"internal: {Y} does not commute with {g} (please report).")
    msg = f"every equivariant field is locally sum_k F_k(I) Y_k over {rank} fields Y_k (isotropy dimension {iso})."
    if len(spanning) > rank:
        msg += (f" {len(spanning)} polynomial equivariant fields of the same degree ('generators') also span it where "
                "the basis degenerates.")
    return EquivariantFields(action, rank, iso, tuple(basis), invs, comps_allowed, msg, tuple(spanning))


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
            for e in _bracket_raw(base, g, Y):
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


def _bracket_raw(base, v, w):
    return [sympy.expand(sum(v[i] * sympy.diff(w[k], base[i]) - w[i] * sympy.diff(v[k], base[i]) for i in range(len(base))))
            for k in range(len(base))]


def tangent_lift(action: LieAlgebraAction, velocity_suffix: str = "_t") -> LieAlgebraAction:
    """The action on ``TM`` (coordinates ``x``, velocities ``x_t``) by the first prolongation along curves.

    Second-order (augmented) NODEs ``x'' = f(x, x')`` are invariant iff ``f`` is an equivariant
    vertical field of this action; for an affine action on ``M`` (second derivatives of the
    generators vanish) that is ``f = sum_k F_k(I^1(x, x')) Y_k`` with ``Y_k`` from
    :func:`equivariant_fields` ``(..., components=velocities)``.

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
