"""Rational invariants by an ansatz in the jet coordinates, verified exactly, and invariant derivatives.

For generators that are polynomial in the base coordinates, the prolonged generators have
polynomial coefficients, and the linear conditions

.. math:: \\operatorname{pr} v_a(P) = c\\,\\lambda_a\\,P \\qquad (a = 1..r)

on the coefficients of a polynomial ``P`` of degree ``<= d`` in the jet coordinates are solved
exactly over the rationals (sparse nullspace). ``lambda_a`` is the divergence multiplier
``sum_i D_i xi_a^i`` and ``c`` an integer weight: ``c = 0`` gives polynomial invariants, ``c != 0``
relative invariants, and ratios ``P^m / R^n`` of relative invariants of matching weights are
rational invariants (Euclidean curvature ``|r' x r''|^2 / |r'|^6``, the torsion numerator
``det(r', r'', r''')`` against ``|r'|^6``, Gaussian curvature ``det Hess u / (1 + |grad u|^2)^2``).
Coordinates translated by a generator that is exactly ``d/dz`` are left out (an invariant does not
depend on them).

Higher orders come from invariant derivatives without a frame: ``D_i I`` of an invariant has weight
``-1`` per derivative (``p = 1``: ``(D_x I)^2 / R`` for ``R`` of weight ``-2`` is the squared
arc-length derivative), and for ``p = 2`` the Jacobian ``det(D_i I_a)`` of two invariants has
weight ``-1``. Every candidate is exact; the caller keeps the functionally independent ones (rank
test) and re-checks annihilation exactly.

This is the route that scales with the group for polynomial actions (rotations, Euclidean and
affine groups): no group parameters, no ``solve``, no branches; the cost is the size of the
monomial basis, capped by ``max_unknowns``. Generators with trigonometric functions of angle
coordinates are handled the same way over the ring ``QQ[cos z, sin z, ...]/(cos^2 z + sin^2 z - 1)``
(:mod:`._trig_ring`: monomials in normal form, images times a common denominator, exact ranks at
rational points of the circle), which gives SO(3) on the sphere in spherical coordinates.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from dataclasses import dataclass, field

import sympy
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix
from sympy.polys.rings import ring

from nntheory.errors import InvariantError
from nntheory.theory.lie._actions import LieAlgebraAction
from nntheory.theory.lie._budget import _step
from nntheory.theory.lie._graded import _graded_applicable, _graded_invariants
from nntheory.theory.lie._sampling import _points
from nntheory.theory.lie._trig_ring import _action_ring, _ring_annihilated, _ring_form, _ring_images, _ring_log_rows

__all__: list[str] = []

#: weights tried, in this order
_WEIGHTS = (0, -1, -2, -3, -4, -6, -8, 1, 2, -5, -7, -9, -10, -12, 3, 4)


@dataclass
class _AnsatzState:
    """Relative invariants found so far, across orders: ``(P, weight, order)`` (sympy expressions)."""

    relative: list[tuple[sympy.Expr, int, int]] = field(default_factory=list)
    reference: tuple[sympy.Expr, int] | None = None
    tensors: list | None = None
    ring_form: object = None  # the action with generators rational in cos/sin of its angles, or ()


def _ansatz_route(action: LieAlgebraAction, order: int, running, count: int, state: _AnsatzState,
                  deadline: float | None = None) -> list[sympy.Expr]:
    """The ansatz at order ``order`` for rational generators, or for trigonometric ones over the ring
    ``QQ[cos z, sin z, ...] / (cos^2 + sin^2 - 1)`` of their angles (:mod:`._trig_ring`; the
    invariants come out in the original coordinates)."""
    target = action
    if not _rational_action(action):
        if state.ring_form is None:
            state.ring_form = _ring_form(action) or ()
        target = state.ring_form
    if not target:
        raise InvariantError("ansatz: the generators are neither rational nor rational in sin/cos of the coordinates.")
    return _ansatz_invariants(target, order, list(running), count, state, deadline=deadline)


def _polynomial_action(action: LieAlgebraAction) -> bool:
    """All generator components are polynomials in the base coordinates."""
    base = action.jet.base
    return all(sympy.sympify(c).is_polynomial(*base) for g in action.generators for c in g)


def _rational_action(action: LieAlgebraAction) -> bool:
    """All generator components are rational functions of the base coordinates."""
    base = action.jet.base
    return all(sympy.sympify(c).is_rational_function(*base) for g in action.generators for c in g)


def _translated(action: LieAlgebraAction) -> set[sympy.Symbol]:
    """Coordinates ``z`` with a generator exactly ``d/dz``."""
    out = set()
    for g in action.generators:
        nz = [k for k, c in enumerate(g) if sympy.sympify(c) != 0]
        if len(nz) == 1 and sympy.sympify(g[nz[0]]) == 1:
            out.add(action.jet.base[nz[0]])
    return out


def _multipliers(action: LieAlgebraAction) -> list[sympy.Expr]:
    """``lambda_a = sum_i D_i xi_a^i`` (polynomial in the first jets)."""
    jet = action.jet
    out = []
    for g in action.generators:
        xi = [sympy.sympify(c) for c in g[: jet.p]]
        out.append(sympy.expand(sum(jet.total_derivative(xi[i], i, 0) for i in range(jet.p))))
    return out


@functools.lru_cache(maxsize=32)
def _images(action: LieAlgebraAction, order: int, variables: tuple[sympy.Symbol, ...], degree: int):
    """``(ring, monomials, images)``: the monomials of degree ``1..degree`` in ``variables`` and, per
    generator, ``(pr v_a(m), lambda_a m)`` for each monomial ``m`` (sparse polynomials over QQ)."""
    coords = action.jet.coordinates(max(order, 1))
    monos = [m for d in range(0, degree + 1) for m in itertools.combinations_with_replacement(range(len(variables)), d)]
    R, *gens = ring([str(c) for c in coords], QQ)
    plain = {c: sympy.Symbol(str(c)) for c in coords}
    sym_to_gen = dict(zip(coords, gens))
    vgens = [sym_to_gen[v] for v in variables]
    lam = _multipliers(action)
    images = []
    for a in range(action.r):
        pro = action.prolong(a, order)
        # rational coefficients: the equation of generator a times the common denominator
        den = sympy.lcm([sympy.fraction(sympy.together(e))[1] for e in [pro[v] for v in variables] + [lam[a]]])
        coef = {v: R(sympy.expand(sympy.cancel(pro[v] * den)).xreplace(plain)) for v in variables}
        la = R(sympy.expand(sympy.cancel(lam[a] * den)).xreplace(plain))
        row = []
        for m in monos:
            mono = R.one
            for i in m:
                mono *= vgens[i]
            img = R.zero
            for v, g in zip(variables, vgens):
                dm = mono.diff(g)
                if dm:
                    img += coef[v] * dm
            row.append((img, la * mono))
        images.append(row)
    return R, monos, images


def _relative_invariants(action: LieAlgebraAction, order: int, degree: int, weight: int, variables, max_unknowns: int):
    """Basis of the polynomials of degree ``<= degree`` (non-constant for weight 0) in ``variables`` with ``pr v_a(P) = weight * lambda_a * P``."""
    tr = _action_ring(action, order)
    n_monos = sum(math.comb(len(variables) + d - 1, d) for d in range(1, degree + 1))
    if tr is None and n_monos > max_unknowns:
        raise InvariantError(f"ansatz: {n_monos} monomials of degree <= {degree} at order {order} exceed {max_unknowns}.")
    if tr is None:
        _, monos, images = _images(action, order, tuple(variables), degree)
        xs = list(variables)

        def expr(m):
            return sympy.Mul(*[xs[i] for i in m])
    else:
        _, monos, images = _ring_images(action, order, tuple(variables), degree, tuple(_multipliers(action)), max_unknowns)

        def expr(m):
            return m
    first = 1 if weight == 0 else 0  # the constant is a relative invariant of weight 0 only trivially
    monos = monos[first:]
    rows: dict[tuple, dict[int, object]] = {}
    for a, row in enumerate(images):
        for col, (img, lm) in enumerate(row[first:]):
            full = img - weight * lm if weight else img
            for exps, c in full.items():
                rows.setdefault((a, exps), {})[col] = c
    if not rows:
        return []
    keys = list(rows)
    M = DomainMatrix({i: rows[k] for i, k in enumerate(keys)}, (len(keys), len(monos)), QQ)
    null = M.nullspace().to_Matrix()
    out = []
    for r_ in range(null.rows):
        P = sum(null[r_, col] * expr(m) for col, m in enumerate(monos) if null[r_, col] != 0)
        out.append(sympy.factor(P) if tr is None else tr.tidy(P))
    return out


def _log_factors(I: sympy.Expr):
    """``[(f, e)]`` with ``I = const * prod f^e`` (``f`` polynomials, ``e`` rational), without expanding powers."""
    out = []
    for fac in sympy.Mul.make_args(sympy.together(I)):
        base, e = fac.as_base_exp()
        if base.free_symbols:
            out.append((base, e))
    return out


def _top_rank(factored, top, coords, seed: int) -> int:
    """Generic rank of ``[d log I_j / d z]`` (``z`` in ``top``) for ``I_j = prod f^e`` given as factor
    lists: exact over QQ at two random rational points (the maximum); -1 when a factor is not a
    polynomial in the coordinates. (Rows of ``d I`` and ``d log I`` differ by non-zero factors.)"""
    R, *gens = ring([str(c) for c in coords], QQ)
    plain = {c: sympy.Symbol(str(c)) for c in coords}
    g_of = dict(zip(coords, gens))
    cache: dict[sympy.Expr, object] = {}
    polys = []
    for facs in factored:
        row = []
        for f, e in facs:
            if f not in cache:
                try:
                    cache[f] = R(sympy.expand(f).xreplace(plain))
                except (ValueError, TypeError):
                    return -1
            row.append((cache[f], QQ(int(sympy.Rational(e).p), int(sympy.Rational(e).q))))
        polys.append(row)
    best = 0
    for pt in _points(coords, 2, seed):
        vals = [(g_of[c], QQ(int(pt[c].p), int(pt[c].q))) for c in coords]

        def ev(e):
            return e.evaluate(vals) if e else QQ(0)

        rows, ok = [], True
        for facs in polys:
            vals_f = [(ev(f), e, f) for f, e in facs]
            if any(v == 0 for v, _, _ in vals_f):
                ok = False
                break
            rows.append([sum((e * ev(f.diff(g_of[z])) / v for v, e, f in vals_f), QQ(0)) for z in top])
        if ok:
            best = max(best, DomainMatrix(rows, (len(rows), len(top)), QQ).rank())
    return best


def _ratio(P: sympy.Expr, c: int, R: sympy.Expr, cR: int) -> sympy.Expr:
    """``P^m / R^n`` with ``m c = n cR`` (``m > 0``, smallest integers): an absolute invariant."""
    g = math.gcd(c, cR)
    m, n = cR // g, c // g
    if m < 0:
        m, n = -m, -n
    return P**m / R**n


def _derivative_candidates(action: LieAlgebraAction, invs, order: int, state: _AnsatzState) -> list[sympy.Expr]:
    """Invariants of order ``order`` from derivatives of the lower-order relative invariants.

    ``p = 1``: for ``P`` of weight ``c`` and the reference ``R`` of weight ``cR``, the polynomial
    ``cR R D_x P - c P D_x R`` is a relative invariant of weight ``c + cR - 1`` (the ``D_x lambda``
    terms cancel); with ``lambda = 0`` (no ``x`` in the generators) ``D_x P`` is again invariant.
    ``p = 2``: the Jacobian ``det(D_i I_a)`` of two absolute invariants has weight ``-1``.
    """
    jet = action.jet
    out: list[sympy.Expr] = []
    tr = _action_ring(action, order)
    if jet.p == 1:
        trivial = all(lam == 0 for lam in _multipliers(action))
        lower = [(P, w) for P, w, k in list(state.relative) if k == order - 1]
        for P, w in lower:
            if trivial:
                Q, wq = sympy.expand(jet.total_derivative(P, 0, order - 1)), 0
            elif state.reference is not None:
                R, cR = state.reference
                Q = sympy.expand(cR * R * jet.total_derivative(P, 0, order - 1) - w * P * jet.total_derivative(R, 0, order - 1))
                wq = w + cR - 1
            else:
                continue
            if tr is not None:
                Q = tr.tidy(Q)
            if Q == 0 or jet.order_of(Q) != order:
                continue
            Q = sympy.factor(Q) if tr is None and sympy.count_ops(Q) < 400 else Q
            state.relative.append((Q, wq, order))
            if wq == 0:
                out.append(Q)
            else:
                same = [S for S, ws, k in state.relative if ws == wq and k < order]
                out += [Q / S for S in same]
                out.append(_ratio(Q, wq, *state.reference))
        if not out:  # no relative invariants recorded: ratios of derivatives of absolute invariants
            lower_abs = [I for I in invs if I.free_symbols and jet.order_of(I) == order - 1]
            for I in lower_abs:
                for I0 in invs:
                    if I0 is not I and I0.free_symbols:
                        D0 = jet.total_derivative(I0, 0, order - 1)
                        if D0 != 0:
                            out.append(sympy.factor(sympy.together(jet.total_derivative(I, 0, order - 1) / D0)))
                            break
    elif jet.p == 2 and state.reference is not None:
        out += _covector_candidates(action, order, state)
    return out


def _contravariant_tensors(action: LieAlgebraAction, jet_order: int = 1, degree: int = 2, max_unknowns: int = 400):
    """Symmetric contravariant 2-tensors ``h^{ij}`` (``p = 2``), polynomial of degree ``<= 2`` in the
    non-translated coordinates of ``J^1``, with ``pr v_a(h^{ij}) = sum_k (D_k xi^i h^{kj} + D_k xi^j h^{ik})
    + c lambda_a h^{ij}``: ``[(h, c)]`` (the inverse metric times a relative invariant, for the
    Euclidean group ``(1 + |grad u|^2) g^{-1}``)."""
    jet = action.jet
    coords = jet.coordinates(jet_order)
    skip = _translated(action)
    variables = [c for c in coords if c not in skip]
    R, *gens = ring([str(c) for c in coords], QQ)
    plain = {c: sympy.Symbol(str(c)) for c in coords}
    g_of = dict(zip(coords, gens))
    monos = [m for d in range(0, degree + 1) for m in itertools.combinations_with_replacement(range(len(variables)), d)]
    comps = [(0, 0), (0, 1), (1, 1)]
    if len(monos) * len(comps) > max_unknowns:
        return []
    mono_polys = []
    for m in monos:
        mono = R.one
        for i in m:
            mono *= g_of[variables[i]]
        mono_polys.append(mono)
    lam = [R(e.xreplace(plain)) for e in _multipliers(action)]
    found = []
    for c in _WEIGHTS:
        rows: dict[tuple, dict[int, object]] = {}
        for a in range(action.r):
            pro = action.prolong(a, jet_order)
            coef = {v: R(sympy.expand(pro[v]).xreplace(plain)) for v in variables}
            xi = [sympy.sympify(e) for e in action.generators[a][: jet.p]]
            Dxi = [[R(sympy.expand(jet.total_derivative(xi[i], k, 0)).xreplace(plain)) for i in range(2)] for k in range(2)]
            for ci, (i, j) in enumerate(comps):
                for col_m, mono in enumerate(mono_polys):
                    # unknown: coefficient of mono in h^{comps[ci]}; contributions to equation (i, j) of all components
                    img = R.zero
                    for v, g in zip(variables, (g_of[v] for v in variables)):
                        dm = mono.diff(g)
                        if dm:
                            img += coef[v] * dm
                    col = ci * len(monos) + col_m
                    eq_terms = {(i, j): img - c * lam[a] * mono}
                    # - sum_k D_k xi^I h^{kJ} - D_k xi^J h^{Ik} for every equation (I, J) this component enters
                    for (I, J) in comps:
                        t = R.zero
                        for k in range(2):
                            if tuple(sorted((k, J))) == (i, j):
                                t -= Dxi[k][I] * mono
                            if tuple(sorted((I, k))) == (i, j):
                                t -= Dxi[k][J] * mono
                        if t:
                            eq_terms[(I, J)] = eq_terms.get((I, J), R.zero) + t
                    for eq, poly in eq_terms.items():
                        for exps, val in poly.items():
                            rows.setdefault((a, eq, exps), {})[col] = val
        keys = list(rows)
        M = DomainMatrix({n: rows[k] for n, k in enumerate(keys)}, (len(keys), len(comps) * len(monos)), QQ)
        for vec in M.nullspace().to_Matrix().tolist():
            h = [sum(vec[ci * len(monos) + cm] * mono_polys[cm].as_expr() for cm in range(len(monos))) for ci in range(3)]
            h = [sympy.factor(e.xreplace({sympy.Symbol(str(x)): x for x in coords})) for e in h]
            if any(e != 0 for e in h):
                found.append((h, c))
    return found


def _not_multiple(h, low) -> bool:
    """``h`` is not a multiple of a tensor in ``low`` by a function."""
    for g in low:
        ratios = {sympy.cancel(x / y) for x, y in zip(h, g) if y != 0}
        if len(ratios) == 1 and all((x == 0) == (y == 0) for x, y in zip(h, g)):
            return False
    return True


def _covector_candidates(action: LieAlgebraAction, order: int, state: _AnsatzState) -> list[sympy.Expr]:
    """``p = 2``: covectors ``Q_i = cR R D_i P - c P D_i R`` of the relative invariants ``P`` of order
    ``order - 1`` (weight ``c + cR``), contracted with each other by the invariant contravariant
    tensor ``h`` and by the determinant (weight ``-1``): relative invariants of order ``order``."""
    jet = action.jet
    R, cR = state.reference
    if state.tensors is None and not _polynomial_action(action):
        state.tensors = []
    if state.tensors is None:
        state.tensors = _contravariant_tensors(action, 1, 2)
        _step("invariant tensors of order 2 (ansatz route)")
        low = {tuple(h) for h, _ in state.tensors}
        for h, c in _contravariant_tensors(action, 2, 3):
            if _not_multiple(h, low):
                state.tensors.append((h, c))
                low.add(tuple(h))
    covs = []
    for P, w, k in list(state.relative):
        if k != order - 1:
            continue
        Q = [sympy.expand(cR * R * jet.total_derivative(P, i, order - 1) - w * P * jet.total_derivative(R, i, order - 1))
             for i in range(2)]
        if any(q != 0 for q in Q):
            covs.append((Q, w + cR))
    out = []
    rel = []
    for (Q1, w1), (Q2, w2) in itertools.combinations_with_replacement(covs, 2):
        for h, ch in state.tensors:
            S = sympy.expand(h[0] * Q1[0] * Q2[0] + h[1] * (Q1[0] * Q2[1] + Q1[1] * Q2[0]) + h[2] * Q1[1] * Q2[1])
            rel.append((S, w1 + w2 + ch))
        if Q1 is not Q2:
            rel.append((sympy.expand(Q1[0] * Q2[1] - Q1[1] * Q2[0]), w1 + w2 - 1))
    for S, ws in rel:
        if S == 0 or jet.order_of(S) != order:
            continue
        S = sympy.factor(S) if sympy.count_ops(S) < 400 else S
        state.relative.append((S, ws, order))
        out.append(S if ws == 0 else _ratio(S, ws, R, cR))
    return out


def _ansatz_invariants(action: LieAlgebraAction, order: int, running: list[sympy.Expr], count: int,
                       state: _AnsatzState, *, max_degree: int = 6, max_unknowns: int = 1200,
                       deadline: float | None = None) -> list[sympy.Expr]:
    """The new invariants of order ``order`` (until ``count`` in all with ``running``).

    Raises:
        InvariantError: non-polynomial generators, or not enough invariants within the degree,
            size or time caps.
    """
    tr = _action_ring(action, order)
    if tr is None and not _rational_action(action):
        raise InvariantError("ansatz: the generators are not rational functions of the coordinates.")
    jet = action.jet
    coords = jet.coordinates(order)
    skip = _translated(action)
    variables = [c for c in coords if c not in skip]
    new: list[sympy.Expr] = []
    seed = 313 + order

    top = [c for c in coords if jet.order_of(c) == order] if order > 0 else list(coords)
    tops: list = []

    def consider(I) -> bool:
        if not I.free_symbols or jet.order_of(I) != order:
            return False
        # rank of the top-order Jacobian of the numerators, exactly over QQ at random rational points
        # (lower-order invariants do not depend on the top coordinates, and the lower set is
        # complete, so a new invariant is independent iff its top-order gradient is)
        facs = _log_factors(I)
        rank = _top_rank(tops + [facs], top, coords, seed) if tr is None else _ring_log_rows(tr, tops + [facs], top, seed)
        if rank == len(tops) + 1:
            new.append(I)
            tops.append(facs)
        return len(running) + len(new) == count

    if len(running) >= count:
        return []
    if order > 0:
        _step(f"invariant derivatives at order {order} (ansatz route)")
        for I in _derivative_candidates(action, running, order, state):
            if consider(I):
                return new
    if tr is None and _graded_applicable(action):
        # plane curves with two scalings: relative invariants with two multipliers, class by class
        # (a superset of the one-multiplier search below; the projective plane needs it)
        try:
            if _graded_invariants(action, order, running, count, consider, deadline=deadline):
                return new
        except InvariantError:
            pass
    for degree in range(1, max_degree + 1):
        for w in (_WEIGHTS if any(lam != 0 for lam in _multipliers(action)) else (0,)):
            if deadline is not None and time.monotonic() > deadline:
                raise InvariantError(f"ansatz: no complete set at order {order} within its time share.")
            _step(f"ansatz at order {order}: degree {degree}, weight {w}")
            try:
                rel = _relative_invariants(action, order, degree, w, variables, max_unknowns)
            except InvariantError:
                if w == _WEIGHTS[0]:
                    raise InvariantError(f"ansatz: no complete set at order {order} within degree {degree - 1} "
                                         f"(found {len(running) + len(new)} of {count}).") from None
                continue
            known = {P for P, _, _ in state.relative}
            for P in sorted(rel, key=sympy.count_ops):
                if P in known or -P in known:
                    continue
                state.relative.append((P, w, jet.order_of(P)))
                if w != 0 and (state.reference is None or (abs(w), sympy.count_ops(P)) < (abs(state.reference[1]), sympy.count_ops(state.reference[0]))):
                    state.reference = (P, w)
            rel = [P for P in rel if jet.order_of(P) == order]
            cands = []
            for P in rel:
                if w == 0:
                    cands.append(P)
                    continue
                same = [Q for Q, wq, _ in state.relative if wq == w and Q != P]
                cands += [P / Q for Q in same]
                if state.reference is not None and state.reference[0] != P:
                    cands.append(_ratio(P, w, *state.reference))
            for I in sorted(cands, key=sympy.count_ops):
                if consider(I):
                    return new
    raise InvariantError(f"ansatz: found {len(running) + len(new)} of {count} invariants at order {order} "
                         f"with polynomials of degree <= {max_degree}.")


def _annihilated_exactly(action: LieAlgebraAction, I: sympy.Expr, order: int) -> bool | None:
    """Exact check that ``pr v_a(I) = 0`` for ``I = const * prod f^e`` with polynomial factors: each
    ``pr v_a(f)`` is divided by ``f`` over QQ (a remainder means undecided: None) and the quotients
    must satisfy ``sum e_f q_f = 0`` (then ``pr v_a(I) = I * sum e_f q_f = 0``). None when ``I`` is
    not of that form."""
    coords = action.jet.coordinates(order)
    facs = _log_factors(I)
    if facs and _action_ring(action, order) is not None:
        return _ring_annihilated(action, I, order, facs)
    if not facs or not all(f.is_polynomial(*coords) for f, _ in facs):
        return None
    R, *gens = ring([str(c) for c in coords], QQ)
    plain = {c: sympy.Symbol(str(c)) for c in coords}
    g_of = dict(zip(coords, gens))
    try:
        polys = [(R(sympy.expand(f).xreplace(plain)), QQ(int(sympy.Rational(e).p), int(sympy.Rational(e).q))) for f, e in facs]
    except (ValueError, TypeError):
        return None
    for a in range(action.r):
        pro = action.prolong(a, order)
        try:
            coef = {c: R(sympy.expand(pro[c]).xreplace(plain)) for c in coords}
        except (ValueError, TypeError):
            return None
        total = R.zero
        for f, e in polys:
            img = R.zero
            for c in coords:
                df = f.diff(g_of[c])
                if df:
                    img += coef[c] * df
            q, r = img.div(f)
            if r:
                return None
            total += q * e
        if total:
            return False
    return True
