r"""Closed forms of Gaussian expectations, term by term.

The integrand is expanded; each term is a coefficient times, per variable :math:`z_a`, a power
:math:`z_a^p` and powers of :math:`\sigma^{(k)}(z_a)`. A term is evaluated exactly when

* the activation is a polynomial: Isserlis/Wick pairings, any number of variables;
* the activation is scale-invariant (:math:`a_\pm z`) and only :math:`\sigma, \sigma'` occur:
  piecewise-homogeneous moments over quadrants, in polar coordinates (the arc-cosine kernels of
  Cho & Saul are the case :math:`p=q`), for up to two distinct variables;
* the activation is :math:`\mathrm{erf}(cz)`: the arcsine formula for
  :math:`\langle\sigma(z_a)\sigma(z_b)\rangle`, and Gaussian integrals when only derivatives
  :math:`\sigma^{(k\ge1)}` (Gaussians times Hermite polynomials) occur.

Anything else stays an inert :class:`GaussianExpectation`, evaluated numerically after compiling.
Variables that do not occur in a term are integrated out (marginal = sub-matrix of :math:`K`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import sympy

from nntheory.theory._gaussian import ActivationFunction, GaussianExpectation, sub_kernel

__all__ = ["closed_form", "wick_moment", "orthant_moment"]

Factor = tuple[int, int, int]  # (variable index, derivative order k, power q) of sigma^(k)(z_a)**q


def _parse_term(term: sympy.Expr, zs: Sequence[sympy.Symbol]):
    """Split a product into (coefficient, z-powers, activation factors), or None if unstructured."""
    coeff, zpow, acts = sympy.Integer(1), [0] * len(zs), []
    act = None
    for f in sympy.Mul.make_args(term):
        base, e = f.as_base_exp()
        if not (f.free_symbols & set(zs)) and not f.atoms(ActivationFunction):
            coeff *= f
            continue
        if not (e.is_Integer and e > 0):
            return None
        if base in zs:
            zpow[zs.index(base)] += int(e)
            continue
        k, app = 0, base
        if isinstance(base, sympy.Derivative):
            app = base.expr
            if len(base.variable_count) != 1 or base.variable_count[0][0] != app.args[0]:
                return None
            k = int(base.variable_count[0][1])
        if not isinstance(app, ActivationFunction) or app.args[0] not in zs:
            return None
        if act is not None and app.func.activation != act:
            return None
        act = app.func.activation
        acts.append((zs.index(app.args[0]), k, int(e)))
    return coeff, zpow, acts, act


# ----------------------------------------------------------------------------- Wick
def wick_moment(powers: Sequence[int], K: sympy.Matrix) -> sympy.Expr:
    r""":math:`\langle \prod_a z_a^{p_a}\rangle_K` by Isserlis' theorem (sum over pairings).

    Args:
        powers: the nonnegative integer powers :math:`p_a`, one per variable.
        K: the covariance matrix of the variables (``len(powers)`` square; symbols or numbers).

    Returns:
        The moment, an expanded sympy expression in the entries of ``K``: 0 for an odd total power,
        1 when every power is 0.
    """
    K = sympy.ImmutableMatrix(K)
    return _wick(tuple(int(p) for p in powers), K)


@lru_cache(maxsize=4096)
def _wick(p: tuple[int, ...], K: sympy.ImmutableMatrix) -> sympy.Expr:
    if sum(p) == 0:
        return sympy.Integer(1)
    if sum(p) % 2:
        return sympy.Integer(0)
    a = next(i for i, x in enumerate(p) if x)
    rest = list(p)
    rest[a] -= 1
    total = sympy.Integer(0)
    for b, cnt in enumerate(rest):
        if cnt:
            q = list(rest)
            q[b] -= 1
            total += cnt * K[a, b] * _wick(tuple(q), K)
    return sympy.expand(total)


# ----------------------------------------------------------------- scale-invariant
_rho = sympy.Symbol("rho", real=True)


@lru_cache(maxsize=256)
def orthant_moment(p: int, q: int) -> sympy.Expr:
    r""":math:`\mathbb E[y_1^p y_2^q;\ y_1>0, y_2>0]` for unit-variance :math:`y` with correlation ``rho``.

    Polar coordinates :math:`y_1 = r\cos\varphi`, :math:`y_2 = r\cos(\varphi-\theta)`,
    :math:`\cos\theta=\rho`: the radial integral is :math:`2^{(p+q)/2}\Gamma((p+q)/2+1)`, the angular one
    runs over :math:`\varphi\in[\theta-\pi/2, \pi/2]`.
    """
    th = sympy.Symbol("theta", real=True)
    lo, hi = th - sympy.pi / 2, sympy.pi / 2
    ang = sympy.Integer(0)
    for j in range(p + 1):
        for k in range(q + 1):
            m = (2 * j - p) + (2 * k - q)
            c = sympy.binomial(p, j) * sympy.binomial(q, k) * sympy.exp(-sympy.I * (2 * k - q) * th)
            if m == 0:
                ang += c * (hi - lo)
            else:
                ang += c * (sympy.exp(sympy.I * m * hi) - sympy.exp(sympy.I * m * lo)) / (sympy.I * m)
    ang = sympy.expand_complex(ang / 2 ** (p + q))
    ang = sympy.re(ang.rewrite(sympy.cos))
    ang = sympy.expand_trig(sympy.expand(ang))
    ang = ang.subs({sympy.cos(th): _rho, sympy.sin(th): sympy.sqrt(1 - _rho**2)}).subs(th, sympy.acos(_rho))
    radial = 2 ** sympy.Rational(p + q, 2) * sympy.gamma(sympy.Rational(p + q, 2) + 1)
    return sympy.simplify(sympy.expand(radial * ang / (2 * sympy.pi)))


def _half_moment(p: int) -> sympy.Expr:
    """E[y^p; y > 0] for a standard normal y."""
    return 2 ** sympy.Rational(p, 2) * sympy.gamma(sympy.Rational(p + 1, 2)) / (2 * sympy.sqrt(sympy.pi))


def _scale_invariant(zpow, acts, act, K) -> sympy.Expr | None:
    a_plus, a_minus = act.params
    if any(k > 1 for _, k, _ in acts):
        return None  # sigma'' is a Dirac delta: handled by Price/Stein on closed forms, not here
    # per variable: degree p and the constants on the positive / negative half-lines
    deg, cp, cm = list(zpow), [sympy.Integer(1)] * len(zpow), [sympy.Integer(1)] * len(zpow)
    for a, k, e in acts:
        if k == 0:
            deg[a] += e
        cp[a] *= a_plus**e
        cm[a] *= a_minus**e
    used = [a for a in range(len(zpow)) if deg[a] or acts and any(x[0] == a for x in acts)]
    if len(used) > 2:
        return None
    if len(used) == 0:
        return sympy.Integer(1)
    if len(used) == 1:
        (a,) = used
        m = _half_moment(deg[a]) * K[a, a] ** sympy.Rational(deg[a], 2)
        return cp[a] * m + cm[a] * (-1) ** deg[a] * m
    a, b = used
    p, q = deg[a], deg[b]
    rho = K[a, b] / sympy.sqrt(K[a, a] * K[b, b])
    scale = K[a, a] ** sympy.Rational(p, 2) * K[b, b] ** sympy.Rational(q, 2)
    total = sympy.Integer(0)
    for sa, ca in ((1, cp[a]), (-1, cm[a])):
        for sb, cb in ((1, cp[b]), (-1, cm[b])):
            if ca == 0 or cb == 0:
                continue
            total += ca * cb * sa**p * sb**q * orthant_moment(p, q).subs(_rho, sa * sb * rho)
    return scale * total


# ---------------------------------------------------------------------------- erf
def _gauss_poly(expr: sympy.Expr, zs: Sequence[sympy.Symbol], K: sympy.Matrix) -> sympy.Expr | None:
    r""":math:`\langle e^{-z^T M z/2} P(z)\rangle_K = \det(1+KM)^{-1/2}\langle P\rangle_{(1+KM)^{-1}K}`."""
    total = sympy.Integer(0)
    for term in sympy.Add.make_args(sympy.expand(sympy.powsimp(expr, combine="exp"))):
        expo, rest = sympy.Integer(0), sympy.Integer(1)
        for f in sympy.Mul.make_args(term):
            if isinstance(f, sympy.exp):
                expo += f.args[0]
            else:
                rest *= f
        poly = sympy.Poly(rest, *zs) if rest.free_symbols & set(zs) else None
        if poly is None and rest.has(*zs):
            return None
        if not sympy.Poly(expo, *zs).total_degree() <= 2 if expo.has(*zs) else False:
            return None
        M = -sympy.hessian(expo, zs)
        if any(sympy.diff(expo, v).subs({w: 0 for w in zs}) != 0 for v in zs):
            return None
        A = sympy.eye(len(zs)) + sympy.Matrix(K) * M
        Kp = sympy.ImmutableMatrix(sympy.simplify(A.inv() * sympy.Matrix(K)))
        const = sympy.exp(expo.subs({w: 0 for w in zs}))
        if poly is None:
            mom = rest
        else:
            mom = sum(
                (c * _wick(tuple(mon), Kp) for mon, c in zip(poly.monoms(), poly.coeffs())), sympy.Integer(0)
            )
        total += const * mom / sympy.sqrt(sympy.factor(A.det()))
    return total


def _erf(coeff, zpow, acts, act, zs, K) -> sympy.Expr | None:
    (c,) = act.params
    if all(k >= 1 for _, k, _ in acts):
        body = sympy.Mul(*[zs[a] ** p for a, p in enumerate(zpow)])
        for a, k, e in acts:
            body *= sympy.diff(act.expr, act_var(act), k).subs(act_var(act), zs[a]) ** e
        return _gauss_poly(body, zs, K)
    if any(zpow) or any(k for _, k, _ in acts) or sum(e for _, _, e in acts) != 2:
        return None
    idx = [a for a, _, e in acts for _ in range(e)]
    a, b = idx
    two_c2 = 2 * c**2
    arg = two_c2 * K[a, b] / sympy.sqrt((1 + two_c2 * K[a, a]) * (1 + two_c2 * K[b, b]))
    return 2 / sympy.pi * sympy.asin(arg)


def act_var(act) -> sympy.Symbol:
    from nntheory.theory._activations import z

    return z


# ---------------------------------------------------------------------- dispatch
def _term_closed_form(term: sympy.Expr, zs: Sequence[sympy.Symbol], K: sympy.Matrix) -> sympy.Expr | None:
    parsed = _parse_term(term, zs)
    if parsed is None:
        return _unstructured(term, zs, K)
    coeff, zpow, acts, act = parsed
    if act is None:
        return coeff * _wick(tuple(zpow), sympy.ImmutableMatrix(K))
    if act.family == "polynomial":
        body = sympy.Mul(*[zs[a] ** p for a, p in enumerate(zpow)])
        for a, k, e in acts:
            body *= sympy.diff(act.expr, act_var(act), k).subs(act_var(act), zs[a]) ** e
        return coeff * _polynomial(sympy.expand(body), zs, K)
    if act.family == "scale_invariant":
        val = _scale_invariant(zpow, acts, act, K)
        return None if val is None else coeff * val
    if act.family == "erf":
        val = _erf(coeff, zpow, acts, act, zs, K)
        return None if val is None else coeff * val
    return None


def _polynomial(poly_expr: sympy.Expr, zs, K) -> sympy.Expr:
    if not poly_expr.has(*zs):
        return poly_expr
    P = sympy.Poly(poly_expr, *zs)
    KK = sympy.ImmutableMatrix(K)
    return sum((c * _wick(tuple(m), KK) for m, c in zip(P.monoms(), P.coeffs())), sympy.Integer(0))


def _unstructured(term, zs, K) -> sympy.Expr | None:
    if not term.atoms(ActivationFunction) and term.is_polynomial(*zs):
        return _polynomial(sympy.expand(term), zs, K)
    return None


def closed_form(F: sympy.Expr, zs: Sequence[sympy.Symbol], K: sympy.Matrix) -> sympy.Expr:
    """Sum of the closed forms of the terms of ``F``; terms without one stay inside one inert expectation."""
    zs = list(zs)
    done, rest = sympy.Integer(0), sympy.Integer(0)
    for term in sympy.Add.make_args(sympy.expand(F)):
        val = _term_closed_form(term, zs, K)
        if val is None:
            rest += term
        else:
            done += val
    if rest == 0:
        return done
    used = [i for i, v in enumerate(zs) if rest.has(v)]
    if not used:
        return done + rest
    return done + GaussianExpectation(rest, [zs[i] for i in used], sub_kernel(K, used))
