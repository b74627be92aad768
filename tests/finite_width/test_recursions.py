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
