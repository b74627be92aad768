"""Gaussian expectations: closed forms against independent routes (Wick by brute force, mpmath, Price)."""

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from nntheory.theory import activation, activation_function, gaussian_expectation, kernel_symbols, orthant_moment, wick_moment
from nntheory.theory._gaussian import GaussianExpectation

z1, z2 = sympy.symbols("z1 z2", real=True)
K = kernel_symbols(2)
k11, k12, k22 = K[0, 0], K[0, 1], K[1, 1]


def test_wick_known_values():
    assert wick_moment([4], [[k11]]) == 3 * k11**2  # E z^4 = 3 K^2
    assert wick_moment([6], [[k11]]) == 15 * k11**3
    assert sympy.expand(wick_moment([2, 2], K) - (k11 * k22 + 2 * k12**2)) == 0
    assert wick_moment([3, 1], K) == 3 * k11 * k12
    assert wick_moment([1, 2], K) == 0


@given(p=st.integers(0, 5), q=st.integers(0, 5))
def test_wick_matches_moment_generating_function(p, q):
    t1, t2 = sympy.symbols("t1 t2")
    mgf = sympy.exp((k11 * t1**2 + 2 * k12 * t1 * t2 + k22 * t2**2) / 2)
    ref = sympy.diff(mgf, t1, p, t2, q).subs({t1: 0, t2: 0}) if p + q else 1
    assert sympy.expand(wick_moment([p, q], K) - ref) == 0


def test_relu_arccos_kernel():
    s = activation_function(activation("relu"))
    val = gaussian_expectation(s(z1) * s(z2), [z1, z2], K)
    th = sympy.acos(k12 / sympy.sqrt(k11 * k22))
    ref = sympy.sqrt(k11 * k22) / (2 * sympy.pi) * (sympy.sin(th) + (sympy.pi - th) * sympy.cos(th))  # Cho & Saul
    pts = {k11: sympy.Rational(3, 2), k22: sympy.Rational(1, 2), k12: sympy.Rational(1, 3)}
    assert abs(sympy.N((val - ref).subs(pts), 40)) < 1e-35


def _orthant_reference(p: int, q: int, rho: float) -> mpmath.mpf:
    """E[y1^p y2^q; y1 > 0, y2 > 0] in Cartesian coordinates (independent of the polar derivation under test):
    y1 = u, y2 = rho u + c v with c = sqrt(1 - rho^2); the inner integral over v > -rho u / c is a sum of truncated
    normal moments M_k(a) = int_a^inf v^k phi(v) dv (M_0 = Phi(-a), M_1 = phi(a), M_k = a^(k-1) phi(a) + (k-1) M_(k-2),
    by parts), and the outer integral over u > 0 is a one-dimensional mpmath quadrature."""
    with mpmath.workdps(30):
        rho = mpmath.mpf(rho)
        c = mpmath.sqrt(1 - rho**2)

        def inner(u):
            a = -rho * u / c
            M = [mpmath.ncdf(-a), mpmath.npdf(a)]
            for k in range(2, q + 1):
                M.append(a ** (k - 1) * mpmath.npdf(a) + (k - 1) * M[k - 2])
            return sum(mpmath.binomial(q, k) * (rho * u) ** (q - k) * c**k * M[k] for k in range(q + 1))

        return mpmath.quad(lambda u: u**p * mpmath.npdf(u) * inner(u), [0, 1, 3, mpmath.inf])


@settings(max_examples=10)
@given(p=st.integers(0, 3), q=st.integers(0, 3), rho=st.floats(-0.95, 0.95))
def test_orthant_moment_matches_mpmath(p, q, rho):
    val = float(orthant_moment(p, q).subs(sympy.Symbol("rho", real=True), sympy.Rational(rho)))
    assert abs(val - float(_orthant_reference(p, q, rho))) < 1e-9


@pytest.mark.parametrize("rho", [-0.9, -0.3, 0.0, 0.55, 0.95])
def test_orthant_reference_against_published_closed_forms(rho):
    """The Cartesian reference itself: Sheppard's orthant probability 1/4 + asin(rho)/(2 pi) and the first-order
    arc-cosine kernel (sin t + (pi - t) cos t)/(2 pi), cos t = rho (Cho & Saul 2009); negative control in rho."""
    t = mpmath.acos(rho)
    assert abs(_orthant_reference(0, 0, rho) - (mpmath.mpf(1) / 4 + mpmath.asin(rho) / (2 * mpmath.pi))) < 1e-13
    assert abs(_orthant_reference(1, 1, rho) - (mpmath.sin(t) + (mpmath.pi - t) * mpmath.cos(t)) / (2 * mpmath.pi)) < 1e-13
    assert abs(_orthant_reference(1, 1, rho + 1e-3) - _orthant_reference(1, 1, rho)) > 1e-5


def test_erf_arcsine_formula_against_mpmath():
    s = activation_function(activation("erf"))
    val = gaussian_expectation(s(z1) * s(z2), [z1, z2], K)
    pts = {k11: 0.7, k22: 1.3, k12: 0.4}
    L11 = mpmath.sqrt(0.7)
    L21 = 0.4 / L11
    L22 = mpmath.sqrt(1.3 - L21**2)
    ref = mpmath.quad(lambda u, v: mpmath.erf(L11 * u) * mpmath.erf(L21 * u + L22 * v) * mpmath.npdf(u) * mpmath.npdf(v),
                      [-mpmath.inf, mpmath.inf], [-mpmath.inf, mpmath.inf])
    assert abs(float(val.subs(pts)) - float(ref)) < 1e-10


def test_price_theorem_derivative_of_inert_equals_derivative_of_closed_form():
    # d/dK12 <s(z1) s(z2)> = <s'(z1) s'(z2)> for erf: closed form of the derivative vs derivative of the closed form
    s = activation_function(activation("erf"))
    closed = gaussian_expectation(s(z1) * s(z2), [z1, z2], K)
    inert = GaussianExpectation(s(z1) * s(z2), [z1, z2], K)
    lhs = sympy.diff(closed, k12)
    rhs = sympy.diff(inert, k12).doit()
    pts = {k11: sympy.Rational(1, 2), k22: 2, k12: sympy.Rational(1, 5)}
    assert abs(sympy.N((lhs - rhs).subs(pts), 30)) < 1e-25


def test_hermite_form_for_kinked_activations():
    # Max(0, z) is not recognised as a family: the derivative must use the Stein/Hermite form (no delta)
    relu_user = activation(sympy.Max(0, sympy.Symbol("z", real=True)) ** 2)
    s = activation_function(relu_user)
    E = GaussianExpectation(s(z1), [z1], [[k11]])
    dE = sympy.diff(E, k11)
    assert not dE.has(sympy.Derivative)
    # <relu(z)^2> = K/2, so d/dK = 1/2
    from nntheory.numerics import compile_expr

    assert abs(float(compile_expr(dE, [k11])(1.7)) - 0.5) < 1e-12


def test_inert_prints_and_latex():
    s = activation_function(activation("tanh"))
    E = GaussianExpectation(s(z1) ** 2, [z1], [[k11]])
    assert "E[sigma(z1)**2" in str(E)
    assert r"\left\langle" in sympy.latex(E)
