"""Compiled vs exact: closed forms to 1e-12 relative, quadrature against mpmath to 1e-10."""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from nntheory.numerics import compile_expr, compile_recursion, half_range_rule
from nntheory.theory import activation, activation_function, finite_width_recursion, z
from nntheory.theory._gaussian import GaussianExpectation

z1, z2 = sympy.symbols("z1 z2", real=True)
k, c = sympy.Symbol("k", positive=True), sympy.Symbol("c", real=True)


def test_compile_expr_rejects_missing_symbols():
    with pytest.raises(ValueError, match=r"free symbols \['k'\]"):
        compile_expr(k * 2, [c])


def test_half_range_rule_integrates_moments():
    x, w = half_range_rule(40)
    for p in range(0, 30, 3):  # exact for degree < 80; above ~30 the float64 nodes limit it (1e-12 at 36)
        ref = float(mpmath.mpf(2) ** (mpmath.mpf(p - 1) / 2) * mpmath.gamma(mpmath.mpf(p + 1) / 2))
        assert abs((w * x**p).sum() / ref - 1) < 1e-13


@pytest.mark.parametrize("name", ["tanh", "gelu", "gelu_tanh", "silu", "softplus", "sigmoid"])
@pytest.mark.parametrize("kv", [0.2, 1.0, 6.0])
def test_quadrature_1d_against_mpmath(name, kv):
    act = activation(name)
    s = activation_function(act)
    f = compile_expr(GaussianExpectation(s(z1) ** 4 + sympy.diff(s(z1), z1) ** 2, [z1], [[k]]), [k])
    ex = sympy.lambdify(z, act.expr, "mpmath")
    dex = sympy.lambdify(z, sympy.diff(act.expr, z), "mpmath")
    with mpmath.workdps(30):
        ref = mpmath.quad(lambda u: (ex(mpmath.sqrt(kv) * u) ** 4 + dex(mpmath.sqrt(kv) * u) ** 2) * mpmath.npdf(u),
                          [-mpmath.inf, -3, 0, 3, mpmath.inf])
    assert abs(float(f(kv)) / float(ref) - 1) < 1e-10


@pytest.mark.parametrize("name", ["tanh", "gelu"])
def test_quadrature_2d_against_mpmath(name):
    act = activation(name)
    s = activation_function(act)
    kv, cv = 1.3, 0.5
    f = compile_expr(GaussianExpectation(s(z1) ** 2 * s(z2) ** 2, [z1, z2], [[k, c], [c, k]]), [k, c])
    ex = sympy.lambdify(z, act.expr, "mpmath")
    L11 = mpmath.sqrt(kv)
    L21 = cv / L11
    L22 = mpmath.sqrt(kv - L21**2)
    ref = mpmath.quad(lambda u, v: ex(L11 * u) ** 2 * ex(L21 * u + L22 * v) ** 2 * mpmath.npdf(u) * mpmath.npdf(v),
                      [-9, 0, 9], [-9, 0, 9])
    assert abs(float(f(kv, cv)) / float(ref) - 1) < 1e-10


def test_kinked_quadrature_matches_closed_form():
    # user-written relu (Max) goes to split quadrature; compare with the arc-cosine closed form
    user = activation(sympy.Max(0, z) + 0 * z, name="user_relu")
    assert user.family == "scale_invariant"
    hard = activation(sympy.Max(0, z) ** 3)  # generic, kinked
    s = activation_function(hard)
    f = compile_expr(GaussianExpectation(s(z1) * s(z2), [z1, z2], [[k, c], [c, k]]), [k, c])
    from nntheory.theory import orthant_moment

    rho = sympy.Symbol("rho", real=True)
    ref = float(orthant_moment(3, 3).subs(rho, sympy.Rational(1, 2))) * 2.0**3  # K=2, c=1: scale K^3
    assert abs(float(f(2.0, 1.0)) / ref - 1) < 1e-10


ALL = ("K", "K1", "Theta", "V")


# erf: <erf^4> has no closed form, so only K and Theta are exact there
@pytest.mark.parametrize("name,C_W,C_b,stats", [("relu", 2.0, 0.0, ALL), ("relu", 1.7, 0.3, ALL),
                                                ("erf", 1.1, 0.2, ("K", "Theta")), ("linear", 0.9, 0.1, ALL)])
def test_compiled_recursion_matches_exact_iteration(name, C_W, C_b, stats):
    act = activation(name)
    gram = [[sympy.Rational(3, 2), sympy.Rational(1, 2)], [sympy.Rational(1, 2), 1]]
    rec = finite_width_recursion(act, 2)
    cw, cb = sympy.nsimplify(C_W), sympy.nsimplify(C_b)
    exact = rec.iterate(4, gram, C_W=cw, C_b=cb, lambda_W=1, lambda_b=1, precision=40)
    comp = compile_recursion(rec)(np.array(gram, dtype=float), depth=4, C_W=C_W, C_b=C_b)
    for l in range(4):
        for stat in stats:
            ex = np.vectorize(lambda e: float(sympy.N(e, 30)))(np.array(exact[l][stat].tolist(), dtype=object))
            np.testing.assert_allclose(np.asarray(comp[stat][l]), ex, rtol=1e-12, atol=1e-13)


def test_negative_control_tolerance_detects_perturbation():
    act = activation("relu")
    rec = finite_width_recursion(act, 1)
    comp = compile_recursion(rec)(np.array([[1.0]]), depth=3, C_W=2.0, C_b=0.0)
    assert abs(float(comp["V"][2, 0, 0, 0, 0]) - 40.0) < 1e-12 * 40
    assert abs(float(comp["V"][2, 0, 0, 0, 0]) * (1 + 1e-10) - 40.0) > 1e-12 * 40


def test_recursion_is_differentiable_and_vmappable():
    comp = compile_recursion(finite_width_recursion(activation("tanh"), 1))
    f = lambda cw: comp(jnp.ones((1, 1)), depth=5, C_W=cw, C_b=0.1)["V"][-1].sum()
    g = jax.grad(f)(1.2)
    eps = 1e-5
    fd = (f(1.2 + eps) - f(1.2 - eps)) / (2 * eps)
    assert abs(g - fd) < 1e-6 * max(1, abs(fd))
    batched = jax.vmap(lambda cw: comp(jnp.ones((1, 1)), depth=5, C_W=cw, C_b=0.1)["K"][-1, 0, 0])(jnp.array([0.8, 1.0, 1.2]))
    assert batched.shape == (3,)


@given(cw=st.floats(0.5, 3.0), cb=st.floats(0.0, 1.0))
def test_relu_compiled_fixed_line(cw, cb):
    # K' = C_b + C_W K/2 exactly, compiled
    comp = compile_recursion(finite_width_recursion(activation("relu"), 1))
    out = comp(jnp.array([[1.0]]), depth=3, C_W=cw, C_b=cb)
    K1 = cb + cw * 1.0
    K2 = cb + cw * K1 / 2
    assert abs(float(out["K"][1, 0, 0]) - K2) <= 1e-12 * abs(K2)
