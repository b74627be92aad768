"""Gaussian expectations by quadrature over the whole supported range, for every built-in activation.

Stated accuracy (``nntheory.numerics._quadrature``): variances K in [1e-30, 1e12], any correlation, error
<= 1e-10 relative (1-d: relative to <|f|>; 2-d products F1(z1) F2(z2): relative to
sqrt(<F1^2><F2^2>)), or a clean refusal outside. References are independent: mpmath quadrature split at 0
and at the activation's transition scale, closed forms (arcsine for erf, arc-cosine for ReLU-like,
Gaussian conditioning for GELU), and nested scipy (QUADPACK) quadrature for smooth activations in 2-d.
"""

from functools import lru_cache

import jax
import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from nntheory.errors import ActivationError, KernelError
from nntheory.numerics import compile_expr, compile_recursion
from nntheory.theory import activation, activation_function, finite_width_recursion, z
from nntheory.theory._gaussian import GaussianExpectation

BUILTINS = ("linear", "relu", "leaky_relu", "tanh", "erf", "gelu", "gelu_tanh", "silu", "softplus", "sigmoid")
TOL = 1e-10
z1, z2 = sympy.symbols("z1 z2", real=True)
k11, k22 = sympy.symbols("k11 k22", positive=True)
k12 = sympy.Symbol("k12", real=True)
log_k = st.floats(-12.0, 12.0)  # log10 of a variance, the range the issue asks for


@lru_cache(maxsize=None)
def _compiled_1d(name: str, deriv: int):
    s = activation_function(activation(name))
    g = sympy.diff(s(z1), z1, deriv)
    return compile_expr(GaussianExpectation(g**2, [z1], [[k11]]), [k11])


@lru_cache(maxsize=None)
def _compiled_2d(name: str, deriv: int):
    s = activation_function(activation(name))
    F = sympy.diff(s(z1), z1, deriv) * sympy.diff(s(z2), z2, deriv)
    return compile_expr(GaussianExpectation(F, [z1, z2], [[k11, k12], [k12, k22]]), [k11, k12, k22])


@lru_cache(maxsize=None)
def _mp_function(name: str, deriv: int):
    return sympy.lambdify(z, sympy.diff(activation(name).expr, z, deriv), "mpmath")


def _mp_gauss_1d(f, K):
    """<f(z)>, z ~ N(0, K), in mpmath, split at 0 and at z = +-0.1, 1, 10 (the transition scales)."""
    s = mpmath.sqrt(K)
    cuts = {mpmath.mpf(0)} | {sgn * x / s for x in (0.1, 1, 10) for sgn in (1, -1) if x / s < 12}
    pts = [-mpmath.inf, -12, *sorted(cuts), 12, mpmath.inf]
    pts = sorted(set(p for p in pts if abs(p) <= 12 or not mpmath.isfinite(p)))
    return mpmath.quad(lambda u: f(s * u) * mpmath.npdf(u), pts)


def _ref_1d(name, deriv, K):
    f = _mp_function(name, deriv)
    with mpmath.workdps(25):
        return _mp_gauss_1d(lambda x: f(x) ** 2, mpmath.mpf(K))


@settings(max_examples=6, derandomize=True, deadline=None)
@pytest.mark.parametrize("name", BUILTINS)
@given(lk=log_k, deriv=st.sampled_from([0, 1]))
def test_1d_expectations_over_the_whole_range(name, lk, deriv):
    K = 10.0**lk
    got = float(_compiled_1d(name, deriv)(K))
    ref = float(_ref_1d(name, deriv, K))
    assert abs(got - ref) <= TOL * abs(ref), (name, K, got, ref)


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("K", [1e-30, 1e-12, 1e12])
def test_1d_expectations_at_the_ends_of_the_range(name, K):
    got = float(_compiled_1d(name, 1)(K))
    ref = float(_ref_1d(name, 1, K))
    assert abs(got - ref) <= TOL * abs(ref), (name, K, got, ref)


@pytest.mark.parametrize("K", [1e13, 1e300, 1e-31, float("inf")])
def test_out_of_range_is_refused_naming_the_range(K):
    with pytest.raises(KernelError, match=r"outside the range \[1e-30, 1e\+12\]"):
        _compiled_1d("tanh", 0)(K)
    with pytest.raises(KernelError, match=r"outside the range"):
        _compiled_2d("gelu", 0)(K, 0.0, 1.0)


def test_out_of_range_under_jit_is_nan_not_a_number():
    f = jax.jit(_compiled_1d("tanh", 0))
    assert np.isnan(float(f(1e13))) and np.isfinite(float(f(1e12)))


# ---- two dimensions: closed forms ------------------------------------------------------------------

def _corr_kernel(a, b, rho):
    K1, K2 = 10.0**a, 10.0**b
    return K1, float(rho * np.sqrt(K1) * np.sqrt(K2)), K2


def _mp_K(K1, K12, K2):
    return mpmath.mpf(K1), mpmath.mpf(K12), mpmath.mpf(K2)


def _erf_refs(K1, K12, K2):
    a, c, b = _mp_K(K1, K12, K2)
    g = 2 / mpmath.pi * mpmath.asin(2 * c / mpmath.sqrt((1 + 2 * a) * (1 + 2 * b)))
    gp = 4 / mpmath.pi / mpmath.sqrt((1 + 2 * a) * (1 + 2 * b) - 4 * c * c)
    scale = [2 / mpmath.pi * mpmath.sqrt(mpmath.asin(2 * a / (1 + 2 * a)) * mpmath.asin(2 * b / (1 + 2 * b))),
             4 / mpmath.pi / mpmath.sqrt(mpmath.sqrt((1 + 4 * a) * (1 + 4 * b)))]
    return (g, gp), scale


def _scale_invariant_refs(ap, am, K1, K12, K2):
    a, c, b = _mp_K(K1, K12, K2)
    rho = max(min(c / mpmath.sqrt(a * b), 1), -1)

    def R(r):  # <relu(x) relu(y)>
        th = mpmath.acos(r)
        return mpmath.sqrt(a * b) / (2 * mpmath.pi) * (mpmath.sin(th) + (mpmath.pi - th) * mpmath.cos(th))

    def P(r):  # <H(x) H(y)>
        return (mpmath.pi - mpmath.acos(r)) / (2 * mpmath.pi)

    g = (ap**2 + am**2) * R(rho) - 2 * ap * am * R(-rho)
    gp = (ap**2 + am**2) * P(rho) + 2 * ap * am * P(-rho)
    scale = [(ap**2 + am**2) / 2 * mpmath.sqrt(a * b), (ap**2 + am**2) / 2]
    return (g, gp), scale


def _gelu_refs(K1, K12, K2):
    """z2 | z1 ~ N(m, s2): E[y Phi(y)] and E[Phi(y) + y phi(y)] in closed form, then 1-d mpmath in z1."""
    with mpmath.workdps(40):
        a, c, b = _mp_K(K1, K12, K2)
        s2 = (a * b - c * c) / a
        v = 1 + s2
        Phi = lambda x: mpmath.ncdf(x)  # noqa: E731
        sig = lambda x: x * Phi(x)  # noqa: E731
        dsig = lambda x: Phi(x) + x * mpmath.npdf(x)  # noqa: E731

        def h(x):
            m = c / a * x
            return m * Phi(m / mpmath.sqrt(v)) + s2 / mpmath.sqrt(v) * mpmath.npdf(m / mpmath.sqrt(v))

        def hp(x):
            m = c / a * x
            return Phi(m / mpmath.sqrt(v)) + m * mpmath.npdf(m / mpmath.sqrt(v)) / v**1.5

        g = _mp_gauss_1d(lambda x: sig(x) * h(x), a)
        gp = _mp_gauss_1d(lambda x: dsig(x) * hp(x), a)
        scale = [mpmath.sqrt(_mp_gauss_1d(lambda x: f(x) ** 2, a) * _mp_gauss_1d(lambda x: f(x) ** 2, b)) for f in (sig, dsig)]
    return (g, gp), scale


REFS_2D = {
    "erf": _erf_refs,
    "relu": lambda *K: _scale_invariant_refs(1, 0, *K),
    "leaky_relu": lambda *K: _scale_invariant_refs(1, mpmath.mpf(1) / 100, *K),
    "linear": lambda *K: _scale_invariant_refs(1, 1, *K),
    "gelu": _gelu_refs,
}
rho_st = st.one_of(st.floats(-1.0, 1.0), st.sampled_from([1.0, -1.0, 1 - 1e-13, -1 + 1e-13, 1 - 1e-7, 0.0]))


def _check_2d(name, K1, K12, K2):
    with mpmath.workdps(40):  # the float inputs exactly (near rho = 1 the expectations are ill-conditioned)
        (g, gp), scale = REFS_2D[name](K1, K12, K2)
    for deriv, ref, sc in ((0, g, scale[0]), (1, gp, scale[1])):
        got = float(_compiled_2d(name, deriv)(K1, K12, K2))
        assert abs(got - float(ref)) <= TOL * float(sc), (name, deriv, K1, K12, K2, got, float(ref))


@settings(max_examples=12, derandomize=True, deadline=None)
@pytest.mark.parametrize("name", ["erf", "relu", "leaky_relu", "linear"])
@given(a=log_k, b=log_k, rho=rho_st)
def test_2d_expectations_against_closed_forms(name, a, b, rho):
    _check_2d(name, *_corr_kernel(a, b, rho))


@settings(max_examples=3, derandomize=True, deadline=None)
@given(a=log_k, db=st.floats(-2.0, 2.0), rho=rho_st)
def test_2d_gelu_against_gaussian_conditioning(a, db, rho):
    _check_2d("gelu", *_corr_kernel(a, min(a + db, 12.0), rho))


# ---- two dimensions: nested adaptive quadrature for activations without closed forms ----------------

#: stable float64 first derivatives, written out by hand (checked against the sympy ones below)
_D1 = {
    "tanh": lambda x: 1 / np.cosh(x) ** 2 if abs(x) < 350 else 0.0,
    "sigmoid": lambda x: special.expit(x) * special.expit(-x),
    "softplus": lambda x: special.expit(x),
    "silu": lambda x: special.expit(x) * (1 + x * special.expit(-x)),
}


def _sp_gauss(f, m, s):
    """<f(m + s v)>, v ~ N(0, 1), by scipy's adaptive Gauss-Kronrod (QUADPACK) on [-12, 12] split at 0 and at
    v = (-m + t) / s, t = 0, +-0.1, +-1, +-10 (the activation's transition scales)."""
    cuts = sorted({(-m + sgn * x) / s for x in (0, 0.1, 1, 10) for sgn in (1, -1)} | {0.0})
    pts = [-12.0, *(p for p in cuts if abs(p) < 12), 12.0]
    return sum(integrate.quad(lambda v: f(m + s * v) * np.exp(-v * v / 2), lo, hi, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
               for lo, hi in zip(pts[:-1], pts[1:])) / np.sqrt(2 * np.pi)


def _sp_nested(name, K1, K12, K2):
    """<f'(z1) f'(z2)> over N(0, K) by nested scipy quadrature (z1 = L11 u, z2 = L21 u + L22 v). An independent
    route (QUADPACK, hand-written float64 derivatives) that agreed with a nested 18-digit mpmath quadrature
    to 2e-14 of the scale on every case below, at 1/100 - 1/400 of its cost (20-90 s per case)."""
    f = _D1[name]
    L11 = np.sqrt(K1)
    L21, L22 = K12 / L11, np.sqrt((K1 * K2 - K12 * K12) / K1)
    return _sp_gauss(lambda x: f(x) * _sp_gauss(f, L21 * x / L11, L22), 0.0, L11)


# a wider grid (tanh, silu, softplus at K = 1e-12 .. 1e12) passed against nested mpmath when written
@pytest.mark.parametrize("name, a, b, rho", [("tanh", 12, 11, -0.5), ("silu", 6, 6, 0.999), ("softplus", 0, 0.5, 0.95),
                                             ("sigmoid", -12, -11, 0.3)])  # gelu_tanh (12, 11, 0.9) passed too (68 s)
def test_2d_smooth_activations_against_nested_quadrature(name, a, b, rho):
    with mpmath.workdps(50):  # the hand-written derivative is the activation's
        for x in (-40.0, -3.0, -0.2, 0.0, 0.7, 5.0, 40.0):
            want = float(_mp_function(name, 1)(mpmath.mpf(x)))
            assert abs(_D1[name](x) - want) <= 1e-14 * abs(want), (name, x)
    K1, K12, K2 = _corr_kernel(a, b, rho)
    got = float(_compiled_2d(name, 1)(K1, K12, K2))
    ref = _sp_nested(name, K1, K12, K2)
    scale = float(mpmath.sqrt(_ref_1d(name, 1, K1) * _ref_1d(name, 1, K2)))
    assert abs(got - ref) <= TOL * scale, (name, K1, K12, K2, got, ref)


# ---- refusals and the command-line symptoms ---------------------------------------------------------

@pytest.mark.parametrize("text", ["exp(x**2)", "1/x", "sqrt(x)", "log(x)", "tan(x)"])
def test_divergent_or_complex_expectations_are_refused(text):
    with pytest.raises(ActivationError, match=r"activation '.*x.*'"):
        compile_recursion(finite_width_recursion(activation(text), 1))(np.array([[1.0]]), depth=2, C_W=1.0, C_b=0.0)


def _recursion(name, x2, depth, C_W, C_b=0.0):
    comp = compile_recursion(finite_width_recursion(activation(name), 1))
    return {k: np.asarray(v).reshape(depth, -1)[:, 0] for k, v in comp(np.array([[x2]]), depth=depth, C_W=C_W, C_b=C_b).items()}


def test_tanh_ntk_at_a_large_input_kernel():
    # Theta2 = lambda_b + lambda_W <tanh^2>_K + C_W <sech^4>_K Theta1, K = 1e6, Theta1 = lambda_b + lambda_W 1e6
    # (C_W = lambda_W = lambda_b = 1, C_b = 0)
    out = _recursion("tanh", 1e6, 2, 1.0)
    with mpmath.workdps(25):
        t2 = _mp_gauss_1d(lambda x: mpmath.tanh(x) ** 2, 1e6)
        s4 = _mp_gauss_1d(lambda x: mpmath.sech(x) ** 4, 1e6)
    ref = 1 + t2 + s4 * (1 + 1e6)
    assert abs(out["Theta"][1] / float(ref) - 1) < 1e-10 and abs(float(ref) - 533.92) < 0.01


def test_out_of_range_recursion_names_layer_and_statistic():
    with pytest.raises(KernelError, match=r"statistic \w+ is not finite at layer 2"):
        _recursion("tanh", 1e300, 2, 1.0)
    with pytest.raises(KernelError, match=r"statistic \w+ is not finite at layer \d+"):
        _recursion("relu", 1.0, 2000, 3.0)


@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_off_critical_deep_smooth_networks_stay_finite_and_right(name):
    """C_W = 3, depth 40: kernels grow to ~1e7; every layer's K against a direct mpmath iteration."""
    out = _recursion(name, 1.0, 40, 3.0)
    f = _mp_function(name, 0)
    K, ks = mpmath.mpf(3), [mpmath.mpf(3)]
    with mpmath.workdps(20):
        for _ in range(39):
            K = 3 * _mp_gauss_1d(lambda x: f(x) ** 2, K)
            ks.append(K)
    np.testing.assert_allclose(out["K"], np.array([float(k) for k in ks]), rtol=1e-9)
    assert np.all(np.isfinite(out["K1"])) and np.all(np.isfinite(out["Theta"]))
    if name == "gelu":
        assert abs(out["K1"][19] + 1285) < 1.0  # the reference value at layer 20


def test_cli_recursions_tanh_large_input(cli):
    res = cli("recursions", "--activation", "tanh", "--C_W", "1", "--C_b", "0", "--x2", "1e6", "--depth", "2")
    assert res.returncode == 0, res.stderr
    assert "533.9" in res.stdout, res.stdout
    bad = cli("recursions", "--activation", "tanh", "--C_W", "1", "--C_b", "0", "--x2", "1e300", "--depth", "2")
    assert bad.returncode != 0 and "not finite at layer" in bad.stderr and "Traceback" not in bad.stderr
