"""Finite flows ``exp(epsilon v)`` of vector fields, integrated exactly, their composition, and the
prolongation of a finite transformation to jets (implicit differentiation)."""

from __future__ import annotations

import functools
import itertools
import random
from typing import Sequence

import mpmath
import sympy

from nntheory.errors import InvariantError
from nntheory.theory.lie._jets import JetSpace

__all__: list[str] = []

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


def _group_element(action, picked: Sequence[int] | None = None, *, where: str = "") -> tuple[list[sympy.Symbol], list[sympy.Expr]]:
    """``(parameters, g·z)``: the base coordinates transformed by a group element of ``action`` (a
    :class:`~nntheory.theory.lie.LieAlgebraAction`).

    With ``picked`` None: the user's finite action as given, or ``exp(e_1 v_1) ... exp(e_r v_r)``
    with parameters ``epsilon_<name>``. With ``picked`` (generator positions): only those
    parameters (the finite action at 0 in the others, simplified) or those generators' flows.

    Raises:
        InvariantError: a flow that cannot be integrated exactly (``where`` prefixes the message).
    """
    jet = action.jet
    if action.finite is not None:
        if picked is None:
            return list(action.parameters), list(action.finite)
        params = [action.parameters[a] for a in picked]
        zero = {e: 0 for e in action.parameters if e not in params}
        return params, [sympy.simplify(f.xreplace(zero)) for f in action.finite]
    picked = range(action.r) if picked is None else picked
    flows = []
    for a in picked:
        fl = _flow(jet.base, tuple(sympy.sympify(c) for c in action.generators[a]))
        if fl is None:
            raise InvariantError(
                f"{where}the flow of {action.names[a]} = {action.generators[a]} could not be integrated exactly; "
                "give the finite action ('finite' with 'parameters') instead."
            )
        flows.append(fl)
    params = [sympy.Symbol(f"epsilon_{action.names[a]}", real=True) for a in picked]
    return params, _compose(jet.base, flows, params)


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
