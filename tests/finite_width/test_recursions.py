"""Exact symbolic results from the literature, reproduced by the symbolic layer (no floats)."""

import pytest
import sympy

from nntheory.errors import SpecError
from nntheory.theory import NetworkSpec, activation, criticality, finite_width_recursion

K, l = sympy.symbols("K l", positive=True)
lam_b, lam_W, x2 = sympy.symbols("lambda_b lambda_W x2", positive=True)


def _subs_prev(rec, name, values):
    """Update of ``name`` with the previous-layer single-input symbols replaced."""
    syms = {s.name: s.symbols[(0,) * s.symbols.rank()] for s in rec.statistics}
    upd = rec.update(name)
    return sympy.simplify(upd.subs({syms[k]: v for k, v in values.items()}))


def test_relu_critical_by_induction():
    # PDLT §4.3/§5.2: ReLU at C_W = 2, C_b = 0: K const, K1 = 0, V^(l) = 5 (l-1) K^2
    rec = finite_width_recursion(activation("relu"))
    hyper = {"C_W": 2, "C_b": 0}
    sub = {sympy.Symbol(k, positive=True): v for k, v in hyper.items()}
    Kn = _subs_prev(rec, "K", {"K": K}).subs(sub)
    assert Kn == K
    Vn = _subs_prev(rec, "V", {"K": K, "V": 5 * (l - 1) * K**2}).subs(sub).subs(sympy.Symbol("r", positive=True), 1)
    assert sympy.simplify(Vn - 5 * l * K**2) == 0
    K1n = _subs_prev(rec, "K1", {"K": K, "K1": 0, "V": 5 * (l - 1) * K**2}).subs(sub)
    assert K1n == 0


def test_relu_iterated_exactly_with_ntk():
    rec = finite_width_recursion(activation("relu"))
    layers = rec.iterate(6, [[x2]], C_W=2, C_b=0, lambda_W=lam_W, lambda_b=lam_b)
    for i, layer in enumerate(layers, start=1):
        assert sympy.simplify(layer["K"][0, 0] - 2 * x2) == 0
        assert sympy.simplify(layer["V"][0, 0, 0, 0] - 5 * (i - 1) * (2 * x2) ** 2) == 0
        assert layer["K1"][0, 0] == 0
        # Theta^(l) = l (lambda_b + lambda_W |x|^2/n_0), x2 = |x|^2/n_0
        assert sympy.simplify(layer["Theta"][0, 0] - i * (lam_b + lam_W * x2)) == 0


def test_linear_vertex():
    # deep linear network at C_W = 1, C_b = 0: V^(l) = 2 (l-1) K^2 (PDLT §3.3)
    rec = finite_width_recursion(activation("linear"))
    layers = rec.iterate(7, [[x2]], C_W=1, C_b=0)
    for i, layer in enumerate(layers, start=1):
        assert sympy.expand(layer["V"][0, 0, 0, 0] - 2 * (i - 1) * x2**2) == 0


def test_linear_two_inputs_vertex_matches_wick():
    # linear net, C_W = 1: V'_{(ab)(cd)} = <z_a z_b z_c z_d> - K_ab K_cd + V = K_ac K_bd + K_ad K_bc + V
    rec = finite_width_recursion(activation("linear"), 2)
    Ks = rec["K"].symbols
    sub = {sympy.Symbol("C_W", positive=True): 1, sympy.Symbol("r", positive=True): 1}
    for a, b, c, d in [(0, 0, 1, 1), (0, 1, 0, 1), (0, 0, 0, 1)]:
        upd = rec["V"].update[a, b, c, d].subs(sub)
        ref = Ks[a, c] * Ks[b, d] + Ks[a, d] * Ks[b, c] + rec["V"].symbols[a, b, c, d]
        assert sympy.expand(upd - ref) == 0


def test_width_ratio_multiplies_only_carried_term():
    rec = finite_width_recursion(activation("relu"))
    V = rec["V"].symbols[0, 0, 0, 0]
    upd = rec.update("V")
    r = sympy.Symbol("r", positive=True)
    assert sympy.expand(upd.subs(V, 0)).has(r) is False
    assert sympy.expand(upd).coeff(V).has(r)


def test_single_input_equals_diagonal_of_two_inputs():
    for name in ["relu", "erf", "tanh"]:
        one = finite_width_recursion(activation(name), 1)
        two = finite_width_recursion(activation(name), 2)
        K2 = two["K"].symbols
        sub = {K2[0, 0]: one["K"].symbols[0, 0]}
        assert sympy.simplify(two["K"].update[0, 0].subs(sub) - one["K"].update[0, 0]) == 0


@pytest.mark.parametrize("name,C_W", [("relu", 2), ("linear", 1), ("tanh", 1), ("erf", sympy.pi / 4)])
def test_criticality_exact(name, C_W):
    c = criticality(activation(name))
    assert c.exact and sympy.simplify(c.C_W - C_W) == 0 and c.C_b == 0


def test_gelu_criticality_numeric_matches_pdlt():
    # PDLT §5.3 footnote: GELU critical point (C_b, C_W) ~ (0.17292, 1.98305)
    c = criticality(activation("gelu"))
    assert not c.exact
    assert abs(float(c.C_W) - 1.98305) < 1e-5 and abs(float(c.C_b) - 0.17292) < 1e-5


def test_spec_validation():
    with pytest.raises(SpecError, match="widths must be positive"):
        NetworkSpec(3, (-4, 8), "relu")
    with pytest.raises(SpecError, match="C_W must be > 0"):
        NetworkSpec(3, 8, "relu", C_W=0)
    with pytest.raises(SpecError, match="depth must be an int >= 1"):
        NetworkSpec(0, 8, "relu")
    spec = NetworkSpec(3, 8, "tanh", C_W=1.5)
    assert spec.C_W == sympy.Rational(3, 2)


def _gauss_mp(f, K):
    """<f>_K by mpmath at 30 digits, integrated in x (not the library's u = x/sqrt(K) route)."""
    import mpmath

    with mpmath.workdps(30):
        K = mpmath.mpf(K)
        w = lambda x: mpmath.exp(-x * x / (2 * K)) / mpmath.sqrt(2 * mpmath.pi * K)  # noqa: E731
        s = mpmath.sqrt(K)
        return mpmath.quad(lambda x: f(x) * w(x), [-mpmath.inf, -10 * s, -s, 0, s, 10 * s, mpmath.inf])


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "x*erf(x)", "gelu(x/10)", "gelu(x/100)", "gelu(50*x)"])
def test_numeric_criticality_satisfies_the_conditions(name):
    """chi_perp = chi_par = 1 and K* = C_b + C_W <sigma^2>, checked by an independent 30-digit quadrature."""
    import mpmath

    from nntheory.theory._activations import z

    gelu = lambda u: u * (1 + sympy.erf(u / sympy.sqrt(2))) / 2  # noqa: E731
    scaled = {"gelu(x/10)": gelu(z / 10), "gelu(x/100)": gelu(z / 100), "gelu(50*x)": gelu(50 * z)}
    act = activation(scaled[name], name=name) if name in scaled else activation(name)
    c = criticality(act)
    assert not c.exact and c.universality_class == "nonzero K* (half-stable)"
    f, d1, d2 = (sympy.lambdify(z, e, "mpmath") for e in (act.expr, sympy.diff(act.expr, z), sympy.diff(act.expr, z, 2)))
    K, CW, Cb = (mpmath.mpf(str(v)) for v in (c.K_star, c.C_W, c.C_b))
    chi_perp = CW * _gauss_mp(lambda x: d1(x) ** 2, K)
    chi_par = CW * _gauss_mp(lambda x: d1(x) ** 2 + f(x) * d2(x), K)
    fixed = (Cb + CW * _gauss_mp(lambda x: f(x) ** 2, K)) / K
    for v in (chi_perp, chi_par, fixed):
        assert abs(v - 1) < 1e-12
    if name in scaled:  # sigma(x) = g(x/a) = (x/a) Phi(x/a): K*, C_W and C_b all scale with a^2
        a = {"gelu(x/10)": 10, "gelu(x/100)": 100, "gelu(50*x)": sympy.Rational(1, 50)}[name]
        ref = criticality(activation("gelu"))
        for got, want in ((c.C_W, ref.C_W), (c.K_star, ref.K_star), (c.C_b, ref.C_b)):
            assert abs(float(got) / float(a * a * want) - 1) < 1e-12


@pytest.mark.parametrize("name,match", [
    ("sigmoid", "no critical point"), ("softplus", "no critical point"), ("cos(x)", "no critical point"),
    ("exp(x)", "no critical point"), ("tanh(x) + 1/10", "no critical point"),
    ("Heaviside(x)", "not smooth"), ("1/x", "not a finite real"), ("sqrt(x)", "not a finite real"),
    ("log(x)", "not a finite real"),
])
def test_criticality_refuses_at_once(name, match):
    """No critical point (sigmoid: <sigma sigma''> < 0 for every K; softplus: > 0) is decided by the scan, not by
    a minute of failed root finding."""
    with pytest.raises(SpecError, match=match):
        criticality(activation(name))
