"""NTK sector at 1/n (Theta1, D, F, A, B): exact closed forms, symmetries, compiled vs exact, CLI."""

import json
from itertools import product

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from nntheory.theory import GaussianExpectation, activation, z
from nntheory.theory.finite_width import ntk_recursion
from nntheory.theory.finite_width._ntk import KEYS, _ntk_updates

x2 = sympy.Symbol("x2", positive=True)
lam_b, lam_W = sympy.symbols("lambda_b lambda_W", positive=True)
NTK = ("Theta1", "D", "F", "A", "B")


def _iterate(rec, depth, gram, digits=40, **hyper):
    """Layer values like ``Recursion.iterate(..., precision=digits)``, substituting by ``xreplace`` (much faster on
    the large two-input closed forms); exact zeros stay exact."""
    hs = {s: sympy.nsimplify(hyper[str(s)]) for s in rec.hyper}
    m = rec.n_inputs
    X = {rec.gram[a, b]: sympy.nsimplify(gram[a][b]) for a in range(m) for b in range(m)}
    layers = [{s.name: s.initial.xreplace({**X, **hs}).applyfunc(lambda e: sympy.N(e, digits)) for s in rec.statistics}]
    for _ in range(1, depth):
        subs = {**hs, rec.ratio: 1}
        for s in rec.statistics:
            subs.update(zip(sympy.flatten(s.symbols.tolist()), sympy.flatten(layers[-1][s.name].tolist())))
        layers.append({s.name: s.update.applyfunc(lambda e: sympy.N(e.xreplace(subs), digits)) for s in rec.statistics})
    return layers


def _scalar(layer, name):
    v = layer[name]
    return v[(0,) * v.rank()]


# --------------------------------------------------------------------------- exact closed forms
# Hand-derived from the moment definitions (on paper, single input, r = 1), independent of the code:
#  ReLU, C_W = 2, C_b = 0: K = 2 x2 at every layer, theta0 = lambda_b + lambda_W x2, Theta^(l) = l theta0,
#  V^(l) = 5 (l-1) K^2, and
#    D' = D + 5/2 lambda_W K^2 + Theta K + lambda_W V/2            -> D = K (5/2 lambda_W K + theta0) l(l-1)/2
#    F' = F + 2 K Theta                                            -> F = K theta0 l(l-1)
#    B' = B + 2 Theta^2                                            -> B = theta0^2 (l-1) l (2l-1)/3
#    A' = A + 5/4 lambda_W^2 K^2 + lambda_W K Theta + Theta^2 + lambda_W^2 V/4 + lambda_W D
#       -> A = l(l-1) [5 lambda_W^2 K^2 (2l-1) + 4 lambda_W K theta0 (l+1) + 4 theta0^2 (2l-1)]/24
#  linear, C_W = 1, C_b = 0: K = x2, V^(l) = 2(l-1) K^2,
#    D = lambda_W K^2 l(l-1), F = K theta0 l(l-1)/2, B = theta0^2 (l-1) l (2l-1)/6,
#    A = lambda_W^2 K^2 (l-1) l (2l-1)/3
#  and Theta1 = 0 for both (K1 = 0; <s'^2> does not depend on K).


def _relu_forms(l):
    K, t0 = 2 * x2, lam_b + lam_W * x2
    return {
        "D": K * (sympy.Rational(5, 2) * lam_W * K + t0) * l * (l - 1) / 2,
        "F": K * t0 * l * (l - 1),
        "B": t0**2 * (l - 1) * l * (2 * l - 1) / 3,
        "A": l * (l - 1) * (5 * lam_W**2 * K**2 * (2 * l - 1) + 4 * lam_W * K * t0 * (l + 1) + 4 * t0**2 * (2 * l - 1)) / 24,
        "Theta1": 0,
    }


def _linear_forms(l):
    K, t0 = x2, lam_b + lam_W * x2
    return {
        "D": lam_W * K**2 * l * (l - 1),
        "F": K * t0 * l * (l - 1) / 2,
        "B": t0**2 * (l - 1) * l * (2 * l - 1) / 6,
        "A": lam_W**2 * K**2 * (l - 1) * l * (2 * l - 1) / 3,
        "Theta1": 0,
    }


@pytest.mark.parametrize("name,C_W,forms", [("relu", 2, _relu_forms), ("linear", 1, _linear_forms)])
def test_critical_scale_invariant_closed_forms(name, C_W, forms):
    rec = ntk_recursion(activation(name))
    layers = rec.iterate(8, [[x2]], C_W=C_W, C_b=0, lambda_W=lam_W, lambda_b=lam_b)
    for l, layer in enumerate(layers, start=1):
        for stat, ref in forms(l).items():
            assert sympy.expand(_scalar(layer, stat) - ref) == 0, (name, stat, l)


def test_relu_polynomial_in_depth_by_rsolve():
    # second route for the degree: solve the B and F recursions as difference equations in l with sympy.rsolve
    rec = ntk_recursion(activation("relu"))
    l = sympy.Symbol("l", integer=True, positive=True)
    y = sympy.Function("y")
    K, t0 = 2 * x2, lam_b + lam_W * x2
    sub = {sympy.Symbol("C_W", positive=True): 2, rec.ratio: 1, rec["K"].symbols[0, 0]: K,
           rec["Theta"].symbols[0, 0]: l * t0}
    for stat in ("B", "F"):
        s = rec[stat].symbols[0, 0, 0, 0]
        upd = rec.update(stat).xreplace(sub)
        sol = sympy.rsolve(y(l + 1) - upd.xreplace({s: y(l)}), y(l), {y(1): 0})
        assert sympy.expand(sol - _relu_forms(l)[stat]) == 0, stat
        assert sympy.Poly(sympy.expand(sol), l).degree() == (3 if stat == "B" else 2)


def test_relu_theta1_two_inputs():
    # ReLU at criticality: Theta1 vanishes on the diagonal of the Gram matrix (all layers), not off it
    rec = ntk_recursion(activation("relu"), 2)
    gram = [[1, sympy.Rational(1, 2)], [sympy.Rational(1, 2), 1]]
    layers = _iterate(rec, 5, gram, C_W=2, C_b=0, lambda_W=1, lambda_b=1)
    for l, layer in enumerate(layers, start=1):
        th1 = layer["Theta1"]
        assert th1[0, 0] == 0 and th1[1, 1] == 0
        assert (th1[0, 1] == 0) == (l <= 2)  # no 1/n correction before the third layer
    # off the diagonal: negative and of the size of the other 1/n tensors (see the report for values)
    assert float(layers[3]["Theta1"][0, 1]) > 0


# --------------------------------------------------------------------------- symmetries
_SYM = {  # the index permutations each tensor must be invariant under (array layout of the module docstring)
    "D": [(1, 0, 2, 3), (0, 1, 3, 2)],
    "A": [(1, 0, 2, 3), (0, 1, 3, 2), (2, 3, 0, 1)],
    "F": [(2, 3, 0, 1)],
    "B": [(2, 3, 0, 1), (1, 0, 3, 2)],
}


@pytest.fixture(scope="module")
def raw_updates():
    """Updates at every index (not just canonical keys), for ReLU (closed forms) with 2 inputs."""
    return _ntk_updates(activation("relu"), 2, all_indices=True)


@settings(max_examples=10, deadline=None)
@given(stat=st.sampled_from(sorted(_SYM)), idx=st.tuples(*[st.integers(0, 1)] * 4), seed=st.integers(0, 2**16))
def test_update_formulas_respect_tensor_symmetries(raw_updates, stat, idx, seed):
    # the update written at an index and at its symmetric partner are the same function of the state
    _, upd, _ = raw_updates
    rng = np.random.default_rng(seed)
    e0 = upd[stat][idx]
    values = {}
    for perm in _SYM[stat]:
        other = upd[stat][tuple(idx[p] for p in perm)]
        syms = sorted((e0.free_symbols | other.free_symbols) - set(values), key=str)
        for s in syms:  # a valid kernel: K_11, K_22 in [1, 2], |K_12| <= 0.5
            values[s] = rng.uniform(1, 2) if str(s) in ("K_11", "K_22") else rng.uniform(-0.5, 0.5)
        a, b = float(e0.xreplace(values)), float(other.xreplace(values))
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14), (stat, idx, perm)


@settings(max_examples=10, deadline=None)
@given(idx=st.tuples(*[st.integers(0, 2)] * 4))
def test_symbol_arrays_have_the_stated_symmetries(idx):
    rec = ntk_recursion(activation("linear"), 3)
    for stat, perms in _SYM.items():
        arr = rec[stat].symbols
        for perm in perms:
            assert arr[idx] == arr[tuple(idx[p] for p in perm)]
    # and nothing more: D is not symmetric under the pair swap, F not under a1 <-> a2 alone
    assert rec["D"].symbols[0, 0, 1, 1] != rec["D"].symbols[1, 1, 0, 0]
    assert rec["F"].symbols[0, 0, 1, 1] != rec["F"].symbols[1, 0, 0, 1]
    assert len(KEYS) == 4


def test_single_input_equals_diagonal_of_two_inputs():
    # the (a, a, a, a) entries of the two-input tensors obey the single-input recursion
    one, two = ntk_recursion(activation("relu"), 1), ntk_recursion(activation("relu"), 2)
    g1 = one.iterate(4, [[sympy.Rational(3, 2)]], C_W=2, C_b=0, lambda_W=1, lambda_b=1)
    g2 = _iterate(two, 4, [[sympy.Rational(3, 2), sympy.Rational(1, 3)], [sympy.Rational(1, 3), 1]],
                  C_W=2, C_b=0, lambda_W=1, lambda_b=1)
    for l in range(4):
        for stat in NTK:
            v2 = g2[l][stat][(0,) * g2[l][stat].rank()]
            assert abs(float(_scalar(g1[l], stat)) - float(v2)) <= 1e-30 * max(1, abs(float(v2)))


# --------------------------------------------------------------------------- compiled vs exact


def _float_array(arr):
    return np.vectorize(lambda e: float(sympy.N(e, 30)))(np.array(arr.tolist(), dtype=object))


@pytest.mark.parametrize("name,C_W,C_b", [("relu", 1.7, 0.3), ("linear", 0.9, 0.1)])
def test_compiled_matches_exact_closed_forms(name, C_W, C_b):
    from nntheory.numerics import compile_recursion

    rec = ntk_recursion(activation(name), 2)
    gram = [[sympy.Rational(3, 2), sympy.Rational(1, 2)], [sympy.Rational(1, 2), 1]]
    exact = _iterate(rec, 5, gram, C_W=C_W, C_b=C_b, lambda_W=sympy.Rational(1, 2), lambda_b=1)
    comp = compile_recursion(rec)(np.array(gram, dtype=float), depth=5, C_W=C_W, C_b=C_b, lambda_W=0.5, lambda_b=1.0)
    for l in range(5):
        for stat in NTK:
            np.testing.assert_allclose(np.asarray(comp[stat][l]), _float_array(exact[l][stat]), rtol=1e-12, atol=1e-13)


def _gauss_hermite(ge, act):
    """``<F>_K`` by a tensor Gauss-Hermite rule (scipy's nodes; an independent quadrature), K numeric.

    600 nodes in 1-d, 400 per axis in 2-d: for tanh at K <= 2 this agrees with mpmath to ~1e-14 (checked by hand
    for <tanh^4> and <sech^4 tanh^2> at K = 1.76); numpy's own hermgauss is not accurate enough above ~150 nodes.
    """
    from scipy.special import roots_hermite

    from nntheory.theory import activation_function

    s = activation_function(act)
    zs = ge.variables
    F = ge.integrand.replace(lambda e: isinstance(e, s), lambda e: act.expr.subs(z, e.args[0])).doit()
    f = sympy.lambdify(zs, F, modules="numpy")
    K = np.array(ge.kernel.tolist(), dtype=float)
    x, w = roots_hermite(600 if len(zs) == 1 else 400)
    L = np.linalg.cholesky(K)
    grids = np.meshgrid(*([x] * len(zs)), indexing="ij")
    pts = np.sqrt(2) * np.einsum("ij,j...->i...", L, np.stack(grids))
    wts = np.prod(np.meshgrid(*([w] * len(zs)), indexing="ij"), axis=0) / np.pi ** (len(zs) / 2)
    return float(np.sum(wts * np.broadcast_to(f(*pts), wts.shape)))


@pytest.mark.slow
def test_compiled_tanh_two_inputs_matches_exact_iteration():
    # tanh (all statistics, dNTK included): the exact layer map with every inert expectation evaluated by an
    # independent Gauss-Hermite rule
    from nntheory.numerics import compile_recursion

    act = activation("tanh")
    rec = ntk_recursion(act, 2, dntk=True)
    gram = np.array([[1.2, 0.5], [0.5, 0.8]])
    hyper = {"C_W": 1.3, "C_b": 0.2, "lambda_W": 0.7, "lambda_b": 1.1}
    depth = 5
    comp = compile_recursion(rec)(gram, depth=depth, **hyper)
    hsub = {s: v for s in rec.hyper for k, v in hyper.items() if str(s) == k}
    X = {rec.gram[a, b]: gram[a, b] for a, b in product(range(2), repeat=2)}
    cache = {}

    def evaluate(e, subs):
        e = e.xreplace(subs)
        for ge in e.atoms(GaussianExpectation):
            if ge not in cache:
                cache[ge] = _gauss_hermite(ge, act)
        return float(e.xreplace(cache))

    state = {s.name: np.vectorize(lambda e: evaluate(e, {**X, **hsub}))(np.array(s.initial.tolist(), dtype=object))
             for s in rec.statistics}
    for l in range(depth):
        if l:
            subs = {**hsub, rec.ratio: 1.0}
            for s in rec.statistics:
                subs.update({sym: float(v) for sym, v in zip(sympy.flatten(s.symbols.tolist()), state[s.name].ravel())})
            state = {s.name: np.vectorize(lambda e: evaluate(e, subs))(np.array(s.update.tolist(), dtype=object))
                     for s in rec.statistics}
        for s in rec.statistics:
            np.testing.assert_allclose(np.asarray(comp[s.name][l]), state[s.name], rtol=1e-12, atol=1e-12,
                                       err_msg=f"{s.name} at layer {l + 1}")


# --------------------------------------------------------------------------- CLI


def test_cli_ntk_statistics_single_input(cli):
    args = ["recursions", "--activation", "relu", "--C_W", "2", "--C_b", "0", "--depth", "4", "--x2", "0.5",
            "--lambda-b", "0.5", "--lambda-W", "2"]
    out = cli(*args, "--statistics", "K,Theta,Theta1,A,B,D,F", "--init", "gaussian")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["settings"]["statistics"] == ["K", "Theta", "Theta1", "A", "B", "D", "F"]
    # the hand-derived closed forms above, at K = 1, theta0 = 0.5 + 2 * 0.5 = 1.5, lambda_W = 2
    vals = {x2: sympy.Rational(1, 2), lam_b: sympy.Rational(1, 2), lam_W: 2}
    for row in doc["layers"]:
        assert set(row) == {"l", "K", "Theta", "Theta1", "A", "B", "D", "F"}
        for stat, ref in _relu_forms(row["l"]).items():
            assert row[stat] == pytest.approx(float(sympy.sympify(ref).subs(vals)), rel=1e-13, abs=1e-13)
    default = json.loads(cli(*args).stdout)  # today's output: unchanged keys
    assert set(default["layers"][0]) == {"l", "K", "V", "K1", "Theta"} and "statistics" not in default["settings"]


def test_cli_ntk_statistics_two_inputs(cli):
    out = cli("recursions", "--activation", "linear", "--C_W", "1", "--C_b", "0", "--depth", "3",
              "--gram", "[[1, 0.5], [0.5, 2]]", "--statistics", "V,F,B", "--lambda-b", "0", "--format", "json")
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)["layers"][2]
    assert np.shape(row["F"]) == (2, 2, 2, 2) and np.shape(row["V"]) == (3, 3)
    # linear, C_W = 1, lambda_b = 0: B' = Theta_{a1a2} Theta_{a3a4} + B with Theta^(l) = l X, so at l = 3:
    # B_{a1a3a2a4} = (1 + 4) X_{a1a2} X_{a3a4}; and F' = Theta_{a1a2} X_{a3a4} + F -> F_{a1a3a2a4} = 3 X_{a1a2} X_{a3a4}
    X = np.array([[1, 0.5], [0.5, 2]])
    for a1, a3, a2, a4 in product(range(2), repeat=4):
        assert row["B"][a1][a3][a2][a4] == pytest.approx(5 * X[a1, a2] * X[a3, a4], rel=1e-13)
        assert row["F"][a1][a3][a2][a4] == pytest.approx(3 * X[a1, a2] * X[a3, a4], rel=1e-13)


@pytest.mark.parametrize("extra,needle", [
    (("--statistics", "K,Thetta"), "--statistics: unknown statistic 'Thetta'; known statistics: K, K1, V, Theta"),
    (("--statistics", "K,U", "--activation", "relu"), "--statistics: R, S, T, U (the ddNTK) need a smooth activation"),
    (("--init", "orthogonal", "--depth", "3", "--widths", "8,16"), "--widths: --init orthogonal assumes square hidden layers"),
    (("--init", "gausian"), "--init: unknown value 'gausian'"),
])
def test_cli_refuses_bad_statistics_and_init(cli, extra, needle):
    out = cli("recursions", "--activation", "tanh", "--depth", "2", *extra)
    assert out.returncode == 2
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- dNTK (P, Q)


def test_linear_dntk_closed_form():
    # linear, C_W = 1, C_b = 0 (hand-derived): only the own-layer weight terms make a dNTK, so Q = 0 and
    # P' = P + lambda_W (Theta K + F) -> P^(l) = lambda_W K theta0 (l-1) l (l+1)/6
    rec = ntk_recursion(activation("linear"), 1, dntk=True)
    layers = rec.iterate(7, [[x2]], C_W=1, C_b=0, lambda_W=lam_W, lambda_b=lam_b)
    for l, layer in enumerate(layers, start=1):
        assert sympy.expand(_scalar(layer, "P") - lam_W * x2 * (lam_b + lam_W * x2) * (l - 1) * l * (l + 1) / 6) == 0
        assert _scalar(layer, "Q") == 0


def test_dntk_refuses_kinked_activation():
    from nntheory.errors import SpecError

    with pytest.raises(SpecError, match="kinks"):
        ntk_recursion(activation("relu"), 1, dntk=True)


def test_cli_dntk_moments(cli):
    out = cli("recursions", "--activation", "linear", "--C_W", "1", "--C_b", "0", "--depth", "4", "--x2", "1",
              "--statistics", "P,Q", "--lambda-b", "1", "--lambda-W", "1")
    assert out.returncode == 0, out.stderr
    for row in json.loads(out.stdout)["layers"]:
        l = row["l"]
        ref = 2 * (l - 1) * l * (l + 1) / 6  # the closed form above, K = 1, theta0 = 2
        assert row["P"] == pytest.approx(ref, abs=1e-13) and row["Q"] == 0
        # PDLT's dNTK (the NTK's derivative) dH_i0i1i2 = S_i1i0i2 + S_i2i0i1: iik_k = P + Q, ikk_i = 2P,
        # iii_i = 2(2P + Q); the same values as the linear-network Monte Carlo check in test_ntk_monte_carlo.py
        assert row["dNTK_moments"] == pytest.approx({"iik_k": ref, "ikk_i": 2 * ref, "iii_i": 4 * ref}, abs=1e-13)
    bad = cli("recursions", "--activation", "relu", "--depth", "2", "--statistics", "P")
    assert bad.returncode == 2 and "--statistics: P, Q (the dNTK) need a smooth activation" in bad.stderr
