"""Relative invariants with two multipliers, found class by class of a grading (plane curves).

For an action on curves ``u(x)`` (``p = q = 1``) a polynomial ``P`` in the jet coordinates is a
relative invariant of weight ``(c1, c2)`` when

.. math:: \\operatorname{pr} v_a(P) = (c_1\\,\\lambda_a + c_2\\,\\nu_a)\\,P \\qquad (a = 1..r),

with ``lambda_a = D_x xi_a`` (the divergence multiplier) and ``nu_a = d phi_a/du - u_x d xi_a/du``
(the ``u``-derivative of the characteristic). One multiplier is not enough for groups such as the
projective group of the plane (``sl(3)``, no characters): its relative invariants ``u_xx`` and
Monge's ``9 u_2^2 u_5 - 45 u_2 u_3 u_4 + 40 u_3^3`` have independent weight vectors.

When the algebra contains two independent scalings ``a x d/dx + b u d/du``, every monomial in the
jet coordinates is an eigenvector of their prolongations, so a relative invariant lies in one
eigen-class, and its weight ``(c1, c2)`` is fixed by the class: the linear system is solved class
by class (a few dozen unknowns each) instead of over all monomials of a degree, which is what makes
the projective group of the plane at order 7 (its first absolute invariant, the projective
curvature) take seconds. Absolute invariants are then products of powers of relative invariants
with total weight zero (an integer kernel of the weight matrix). Everything is exact over QQ.
"""

from __future__ import annotations

import itertools
import time

import sympy
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix
from sympy.polys.rings import ring

from nntheory.errors import InvariantError
from nntheory.theory.lie._actions import LieAlgebraAction
from nntheory.theory.lie._budget import _step

__all__: list[str] = []


def _scalings(action: LieAlgebraAction):
    """``[(a, b)]`` of the generators that are exactly ``a x d/dx + b u d/du`` (constants)."""
    x, u = action.jet.base
    out = []
    for g in action.generators:
        xi, phi = (sympy.sympify(c) for c in g)
        a, b = sympy.cancel(xi / x) if xi != 0 else sympy.Integer(0), sympy.cancel(phi / u) if phi != 0 else sympy.Integer(0)
        if a.is_Rational and b.is_Rational and (a, b) != (0, 0):
            out.append((a, b))
    return out


def _two_multipliers(action: LieAlgebraAction):
    """``(lambda_a, nu_a)`` per generator (polynomials in ``x, u, u_x`` for polynomial generators)."""
    jet = action.jet
    x, u = jet.base
    u1 = jet.coordinates(1)[-1]
    out = []
    for g in action.generators:
        xi, phi = (sympy.sympify(c) for c in g)
        lam = sympy.expand(jet.total_derivative(xi, 0, 0))
        nu = sympy.expand(sympy.diff(phi, u) - u1 * sympy.diff(xi, u))
        out.append((lam, nu))
    return out


def _graded_applicable(action: LieAlgebraAction) -> bool:
    """Curves ``u(x)``, polynomial generators, and two independent scalings."""
    jet = action.jet
    if jet.p != 1 or jet.q != 1:
        return False
    base = jet.base
    if not all(sympy.sympify(c).is_polynomial(*base) for g in action.generators for c in g):
        return False
    sc = _scalings(action)
    return any(a1 * b2 - a2 * b1 != 0 for (a1, b1), (a2, b2) in itertools.combinations(sc, 2))


def _relative_by_class(action: LieAlgebraAction, order: int, max_degree: int, deadline: float | None):
    """``[(P, (c1, c2), order_of_P)]``: a basis of the polynomial relative invariants of degree
    ``<= max_degree`` in the jet coordinates of orders ``1..order`` (without the translated base
    coordinates), found eigen-class by eigen-class of the scalings."""
    jet = action.jet
    coords = jet.coordinates(order)
    x, u = jet.base
    sc = _scalings(action)
    (a1, b1), (a2, b2) = next(((s, t) for s, t in itertools.combinations(sc, 2) if s[0] * t[1] - s[1] * t[0] != 0))
    det = a1 * b2 - a2 * b1
    # variables: jet coordinates of order >= 1 (x and u appear only if not translated)
    from nntheory.theory.lie._ansatz import _translated

    skip = _translated(action)
    variables = [c for c in coords if c not in skip]
    if x in variables or u in variables:
        raise InvariantError("graded ansatz: needs the translations in x and u.")
    k_of = {c: jet.order_of(c) for c in variables}
    R, *gens = ring([str(c) for c in coords], QQ)
    plain = {c: sympy.Symbol(str(c)) for c in coords}
    g_of = {c: gg for c, gg in zip(coords, gens)}
    mult = _two_multipliers(action)
    pros = []
    for a in range(action.r):
        pro = action.prolong(a, order)
        coef = {v: R(sympy.expand(pro[v]).xreplace(plain)) for v in variables}
        lam, nu = (R(sympy.expand(m).xreplace(plain)) for m in mult[a])
        pros.append((coef, lam, nu))
    found = []
    for degree in range(1, max_degree + 1):
        classes: dict[tuple, list] = {}
        for m in itertools.combinations_with_replacement(variables, degree):
            s = sum(k_of[c] for c in m)
            classes.setdefault(s, []).append(m)
        for s, monos in sorted(classes.items()):
            if deadline is not None and time.monotonic() > deadline:
                raise InvariantError(f"graded ansatz: not finished at degree {degree} within its time share.")
            # eigenvalue of u_k under a x d/dx + b u d/du is b - k a; of the monomial: degree*b - s*a
            e1, e2 = degree * b1 - s * a1, degree * b2 - s * a2
            # c1 a + c2 b = eigenvalue for both scalings
            c1 = sympy.Rational(e1 * b2 - e2 * b1) / det
            c2 = sympy.Rational(a1 * e2 - a2 * e1) / det
            monos_r = []
            for m in monos:
                mono = R.one
                for c in m:
                    mono *= g_of[c]
                monos_r.append(mono)
            rows: dict[tuple, dict[int, object]] = {}
            for a, (coef, lam, nu) in enumerate(pros):
                mu = QQ(int(c1.p), int(c1.q)) * lam + QQ(int(c2.p), int(c2.q)) * nu
                for col, mono in enumerate(monos_r):
                    img = -mu * mono
                    for v in variables:
                        dm = mono.diff(g_of[v])
                        if dm:
                            img += coef[v] * dm
                    for exps, cf in img.items():
                        rows.setdefault((a, exps), {})[col] = cf
            if rows:
                keys = list(rows)
                M = DomainMatrix({i: rows[kk] for i, kk in enumerate(keys)}, (len(keys), len(monos)), QQ)
                null = M.nullspace().to_Matrix()
            else:  # every monomial of the class is a relative invariant
                null = sympy.eye(len(monos))
            for r_ in range(null.rows):
                P = sum(null[r_, col] * sympy.Mul(*m) for col, m in enumerate(monos))
                P = sympy.factor(sympy.expand(P).as_content_primitive()[1])
                found.append((P, (c1, c2), jet.order_of(P), degree))
        yield degree, found


def _graded_invariants(action: LieAlgebraAction, order: int, running, count: int, consider,
                       *, max_degree: int = 8, deadline: float | None = None) -> bool:
    """Feed absolute invariants of order ``order`` built from graded relative invariants to
    ``consider`` (which returns True once the set is complete). Returns True when complete."""
    _step(f"graded ansatz (two multipliers) at order {order}")
    seen: set = set()
    for degree, found in _relative_by_class(action, order, max_degree, deadline):
        _step(f"graded ansatz at order {order}: degree {degree}")
        tops = [(P, w) for P, w, k, _ in found if k == order and P not in seen]
        lows = [(P, w) for P, w, k, _ in found if k < order]
        seen.update(P for P, _ in tops)
        for P, w in sorted(tops, key=lambda t: sympy.count_ops(t[0])):
            for I in _weight_zero_products(P, w, lows):
                if consider(I):
                    return True
    return False


def _weight_zero_products(P, w, lows):
    """``P^m * prod R_i^{n_i}`` with total weight zero, for pairs of lower relative invariants with
    independent weights (smallest integer exponents, ``m > 0``)."""
    out = []
    if w == (0, 0):
        return [P]
    for (R1, w1), (R2, w2) in itertools.combinations(lows, 2):
        M = sympy.Matrix([[w[0], w1[0], w2[0]], [w[1], w1[1], w2[1]]])
        ker = M.nullspace()
        if len(ker) != 1:
            continue
        v = ker[0]
        if v[0] == 0:
            continue
        den = sympy.ilcm(*[sympy.Rational(t).q for t in v])
        v = [sympy.Rational(t) * den for t in v]
        g = sympy.igcd(*[int(t) for t in v if t != 0])
        v = [int(t) // g for t in v]
        if v[0] < 0:
            v = [-t for t in v]
        out.append(P ** v[0] * R1 ** v[1] * R2 ** v[2])
    return out
