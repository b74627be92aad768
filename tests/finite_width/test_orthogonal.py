"""Orthogonal initialisation: the 1/n recursions of V, K1, Theta1, D, F, A, B, P, Q, R, S, T, U (``init="orthogonal"``).

References, none from the code under test: (i) exact laws of linear networks with orthogonal hidden layers
(``z^(L) = M z^(1)``, ``M`` a multiple of a Haar rotation: ``z^(L)`` exactly Gaussian, ``H^(L)`` the identity times a
scalar), worked out by hand below; (ii) hand-solved closed forms of critical ReLU, checked against ``sympy.rsolve``
and polynomial extrapolation; (iii) exact-NTK Monte Carlo of networks with Haar-orthogonal square layers (the
validation sampler: QR with the sign fix), width sweeps extrapolated in ``1/n``, every entry within 4 SE, and a
negative control: the Gaussian recursion is rejected by the same orthogonal ensembles by tens of SE.
"""

import json

import jax
import numpy as np
import pytest
import sympy

from nntheory.errors import SpecError
from nntheory.numerics import compile_recursion
from nntheory.theory import activation
from nntheory.theory.finite_width._ntk import _ntk_updates, ddntk_moments, ntk_recursion
from nntheory.theory.finite_width._recursions import finite_width_recursion
from nntheory.validation.finite_width._ddntk_monte_carlo import DDNTK_MOMENTS, ddntk_width_sweep
from nntheory.validation.finite_width._ntk_monte_carlo import NTKEnsembleSpec, dntk_moments_from_pq, ntk_width_sweep

x2, lam_b, lam_W, C_W = sympy.symbols("x2 lambda_b lambda_W C_W", positive=True)
ORTHO = "orthogonal"


def _scalar(layer, name):
    return sympy.sympify(layer[name][(0,) * layer[name].rank()])


# --------------------------------------------------------------------------- exact: linear networks


def test_linear_orthogonal_exact_laws_two_inputs():
    # z^(L) = M z^(1), M = C_W^{(L-1)/2} O: exactly Gaussian (V = K1 = 0); H^(L) = 1 * h with
    # h = const + lambda_W (L-1) C_W^{L-2} q, q_ab = z1_a.z1_b/n (C_b = 0), so B = F = Theta1 = 0 and, with
    # n Cov(q_ab, q_cd) = K_ac K_bd + K_ad K_bc (K = C_W X) and E[z_kc z_kd | z1] = C_W^{L-1} q_cd:
    # D_abcd = lambda_W (L-1) C_W^{2L-3} (K_ac K_bd + K_ad K_bc), A_abcd = lambda_W^2 (L-1)^2 C_W^{2L-4} (same)
    X = sympy.Matrix([[x2, sympy.Rational(1, 3)], [sympy.Rational(1, 3), 2]])
    rec = ntk_recursion(activation("linear"), 2, init=ORTHO)
    layers = rec.iterate(5, X, C_W=C_W, C_b=0, lambda_W=lam_W, lambda_b=lam_b)
    K = C_W * X
    for L, layer in enumerate(layers, start=1):
        for name in ("V", "K1", "Theta1", "B", "F"):
            assert all(sympy.simplify(e) == 0 for e in sympy.flatten(layer[name].tolist())), (name, L)
        for a, b, c, d in np.ndindex(2, 2, 2, 2):
            pair = K[a, c] * K[b, d] + K[a, d] * K[b, c]
            D_ref = lam_W * (L - 1) * C_W ** (2 * L - 3) * pair
            A_ref = lam_W**2 * (L - 1) ** 2 * C_W ** (2 * L - 4) * pair
            assert sympy.simplify(layer["D"][a, b, c, d] - D_ref) == 0, ("D", L, (a, b, c, d))
            assert sympy.simplify(layer["A"][a, b, c, d] - A_ref) == 0, ("A", L, (a, b, c, d))


def test_linear_orthogonal_vertex_vanishes_with_biases():
    # with C_b > 0, z^(l+1) = W z^(l) + b stays exactly Gaussian (an isotropic Gaussian rotated, plus an independent
    # Gaussian): V = 0 at every depth; the Gaussian-weight recursion has V != 0 from layer 2 on
    for init, zero in ((ORTHO, True), ("gaussian", False)):
        layers = finite_width_recursion(activation("linear"), 1, init=init).iterate(
            4, [[x2]], C_W=C_W, C_b=sympy.Rational(1, 2), lambda_W=1, lambda_b=1)
        assert all((sympy.simplify(_scalar(layer, "V")) == 0) == (zero or l == 0) for l, layer in enumerate(layers))


# --------------------------------------------------------------------------- exact: critical ReLU


def _relu_forms(l):
    """Hand-solved orthogonal ReLU at criticality (C_W = 2, C_b = 0), one input: K = 2 x2, Theta_l = l t0."""
    K, t0 = 2 * x2, lam_b + lam_W * x2
    return {
        "V": 3 * (l - 1) * K**2,  # V' = V + 3K^2 (Gaussian: + 5K^2)
        "F": K * t0 * l * (l - 1) / 2,  # F' = F + K Theta (Gaussian: + 2 K Theta)
        "B": t0**2 * (l - 1) * l * (2 * l - 1) / 6,  # B' = B + Theta^2 (Gaussian: + 2 Theta^2)
        "D": K * t0 * l * (l - 1) / 2 + lam_W * K**2 * (l - 1) * (3 * l + 4) / 4,
        "K1": 0,
        "Theta1": 0,
    }


def test_relu_critical_closed_forms():
    rec = ntk_recursion(activation("relu"), init=ORTHO)
    layers = rec.iterate(8, [[x2]], C_W=2, C_b=0, lambda_W=lam_W, lambda_b=lam_b)
    for l, layer in enumerate(layers, start=1):
        for stat, ref in _relu_forms(l).items():
            assert sympy.expand(_scalar(layer, stat) - ref) == 0, (stat, l)
    # A: an exact cubic in l (as for Gaussian weights): the one through layers 1..4 predicts layers 5..8 exactly
    ls = sympy.Symbol("l")
    poly = sympy.interpolate([(l, _scalar(layers[l - 1], "A")) for l in range(1, 5)], ls)
    for l in range(5, 9):
        assert sympy.expand(poly.subs(ls, l) - _scalar(layers[l - 1], "A")) == 0, l
    assert sympy.Poly(sympy.expand(poly), ls).degree() == 3


def test_relu_closed_forms_by_rsolve():
    rec = ntk_recursion(activation("relu"), init=ORTHO)
    l = sympy.Symbol("l", integer=True, positive=True)
    y = sympy.Function("y")
    K, t0 = 2 * x2, lam_b + lam_W * x2
    C_W_, _, lam_W_, lam_b_ = rec.hyper
    sub = {C_W_: 2, lam_W_: lam_W, lam_b_: lam_b, rec["K"].symbols[0, 0]: K, rec["Theta"].symbols[0, 0]: l * t0,
           rec["V"].symbols[0, 0, 0, 0]: 3 * (l - 1) * K**2}
    assert rec.ratio not in rec.update("B").free_symbols  # square hidden layers: r = 1
    for stat in ("B", "F", "D"):
        s = rec[stat].symbols[0, 0, 0, 0]
        upd = rec.update(stat).xreplace(sub)
        sol = sympy.rsolve(y(l + 1) - upd.xreplace({s: y(l)}), y(l), {y(1): 0})
        assert sympy.expand(sol - _relu_forms(l)[stat]) == 0, stat


# --------------------------------------------------------------------------- structure


_SYM = {"D": [(1, 0, 2, 3), (0, 1, 3, 2)], "A": [(1, 0, 2, 3), (0, 1, 3, 2), (2, 3, 0, 1)],
        "F": [(2, 3, 0, 1)], "B": [(2, 3, 0, 1), (1, 0, 3, 2)]}


def test_orthogonal_updates_respect_tensor_symmetries():
    _, upd, _ = _ntk_updates(activation("relu"), 2, all_indices=True, init=ORTHO)
    for stat, perms in _SYM.items():
        for idx in np.ndindex(2, 2, 2, 2):
            for p in perms:
                j = tuple(idx[k] for k in p)
                assert sympy.simplify(upd[stat][idx] - upd[stat][j]) == 0, (stat, idx, j)


def test_only_V_F_B_get_weingarten_terms():
    # two-weight means (K, K1, Theta, Theta1) and the tensors whose crossed pairings carry a cross-neuron object
    # (D, A, P, Q and the ddNTK R, S, T, U) have the Gaussian form at r = 1; V, F, B do not
    act = activation("tanh")
    o, g = ntk_recursion(act, 1, ddntk=True, init=ORTHO), ntk_recursion(act, 1, ddntk=True)
    assert set("RSTU") <= set(o.names)
    for name in o.names:
        diff = sympy.simplify(o.update(name) - g.update(name).xreplace({g.ratio: 1}))
        assert (diff == 0) == (name not in ("V", "F", "B")), (name, diff)


def test_bad_init_and_refusals():
    act = activation("tanh")
    for bad in ("ortho", "Orthogonal", None, 1):
        with pytest.raises(SpecError, match="init"):
            ntk_recursion(act, 1, init=bad)
        with pytest.raises(SpecError, match="init"):
            finite_width_recursion(act, 1, init=bad)
    with pytest.raises(SpecError, match="ddNTK tensors R, S, T, U need sigma''"):
        ntk_recursion(activation("relu"), 1, ddntk=True, init=ORTHO)
    with pytest.raises(SpecError, match="square hidden layers"):
        finite_width_recursion(activation("relu"), 1, init=ORTHO).iterate(3, [[1]], C_W=2, C_b=0, widths=[8, 16])
    assert ntk_recursion(act, 1, init=ORTHO) is ntk_recursion(act, 1, False, False, ORTHO)  # cached


# --------------------------------------------------------------------------- CLI


def test_cli_orthogonal(cli):
    out = cli("recursions", "--activation", "relu", "--C_W", "2", "--C_b", "0", "--depth", "4", "--x2", "0.5",
              "--statistics", "K,V,B,F", "--init", "orthogonal")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["settings"]["init"] == "orthogonal" and "square hidden layers" in doc["settings"]["init_assumptions"]
    vals = {x2: sympy.Rational(1, 2), lam_b: 1, lam_W: 1}
    for row in doc["layers"]:
        for stat in ("V", "B", "F"):
            ref = float(sympy.sympify(_relu_forms(row["l"])[stat]).subs(vals))
            assert row[stat] == pytest.approx(ref, rel=1e-13, abs=1e-13)


# bad CLI input (--init ortho, --init orthogonal with unequal --widths or --order): tests/test_bad_input.py


# --------------------------------------------------------------------------- Monte Carlo (Haar-orthogonal weights)

X2 = np.array([[0.9, -0.4, 0.7, 0.2], [0.3, 0.8, -0.5, 0.6]])
_TO_MC = {"B": (0, 2, 1, 3), "F": (0, 2, 1, 3)}  # recursion B[a1,a3,a2,a4], F[a1,a3,a2,a4] -> MC [a,b,c,d]


def _theory(act, m, L, C_W_, C_b_, init, dntk):
    out = compile_recursion(ntk_recursion(act, m, dntk=dntk, init=init))(X2[:m] @ X2[:m].T / 4, depth=L, C_W=C_W_,
                                                                         C_b=C_b_)
    th = {k: np.asarray(v)[L - 1] for k, v in out.items()}
    if dntk:
        th.update(dntk_moments_from_pq(th["P"], th["Q"]))
    return th


def _z(sw, th, name):
    b0, se = np.asarray(sw.intercept[name]), np.asarray(sw.stderr[name])
    ref = np.asarray(th[name], dtype=float)
    if name in _TO_MC and ref.ndim == 4:
        ref = ref.transpose(_TO_MC[name])
    return (b0 - ref.reshape(b0.shape)) / se


def _check(name, m, L, C_W_, C_b_, widths, n_nets, key, stats, control):
    act = activation(name)
    dntk = act.is_smooth
    th = _theory(act, m, L, C_W_, C_b_, ORTHO, dntk)
    spec = NTKEnsembleSpec(act, L, widths[0], C_W_, C_b_, init=ORTHO, neurons=8 if m == 1 else 6, dntk=dntk)
    sw = ntk_width_sweep(spec, widths, X2[:m], key=jax.random.key(key), n_nets=n_nets, chunk=n_nets,
                         theta=th["Theta"])
    zs = {s: float(np.max(np.abs(_z(sw, th, s)))) for s in stats + (("dNTK_iik_k", "dNTK_ikk_i", "dNTK_iii_i")
                                                                    if dntk else ())}
    assert max(zs.values()) < 4, zs
    # negative control: the Gaussian-weight recursion, tested against the same orthogonal ensembles
    gs = _theory(act, m, L, C_W_, C_b_, "gaussian", dntk)
    for s, z_min in control.items():
        assert float(np.max(np.abs(_z(sw, gs, s)))) > z_min, s
    return zs


def test_monte_carlo_tanh_critical_one_input():
    # tanh at criticality, L = 3, widths 32, 64 x 100 networks, dNTK included. At 1000 networks x widths 32, 64, 128:
    # every |z| <= 1.9, and the Gaussian recursion off by 680 SE (B), 38 SE (F), 14 SE (dNTK_ikk_i)
    _check("tanh", 1, 3, 1.0, 0.0, (32, 64), 100, 31, ("Theta1", "A", "B", "D", "F"), {"B": 50, "F": 8})


def test_monte_carlo_relu_critical_one_input():
    # ReLU at criticality, L = 3, widths 32, 64 x 100 networks (two inputs, 600 networks x 32, 64, 128: worst |z| 2.3,
    # Gaussian off by 83 SE in B and 14 SE in F); Gaussian and orthogonal ReLU differ by a factor 2 in B and F
    _check("relu", 1, 3, 2.0, 0.0, (32, 64), 100, 32, ("Theta1", "A", "B", "D", "F"), {"B": 10})


@pytest.mark.slow
def test_monte_carlo_tanh_off_critical_deeper_two_inputs():
    # tanh at C_W = 1.5, C_b = 0.1, L = 4, two inputs, widths 32, 64 x 200 networks, dNTK included (at L = 5 with
    # 500 networks x 32, 64, 128: every |z| <= 2.4; Gaussian off by 230 SE in B, 21 in F, 18 in the dNTK)
    _check("tanh", 2, 4, 1.5, 0.1, (32, 64), 200, 33, ("Theta1", "A", "B", "D", "F"), {"B": 30})


def _ddntk_check(L, n_nets, seed, control):
    """Orthogonal ddNTK moments at depth ``L`` (tanh at criticality, one input) against a Haar width sweep."""
    act = activation("tanh")
    th = {}
    for init in (ORTHO, "gaussian"):
        out = compile_recursion(ntk_recursion(act, 1, ddntk=True, init=init))(np.array([[1.0]]), depth=L, C_W=1.0, C_b=0.0)
        th[init] = ddntk_moments(*(float(np.asarray(out[k])[-1].ravel()[0]) for k in "RSTU"))
    sw = ddntk_width_sweep(NTKEnsembleSpec(act, L, 32, 1.0, 0.0, init=ORTHO, neurons=4, dntk=False), (32, 64, 128),
                           np.array([[1.0]]), key=jax.random.PRNGKey(seed), n_nets=n_nets)
    for k in DDNTK_MOMENTS:
        b, se = (float(np.asarray(x).ravel()[0]) for x in (sw.intercept[k], sw.stderr[k]))
        assert se < 0.05 * abs(th[ORTHO][k]), (k, se)  # power: a 20% error would be >= 4 SE
        assert abs(b - th[ORTHO][k]) < 4 * se, (k, b, se, th[ORTHO][k])
        if k in control:  # negative control: the Gaussian recursion on the same orthogonal ensembles
            assert abs(b - th["gaussian"][k]) > control[k] * se, (k, b, se, th["gaussian"][k])


def test_ddntk_fresh_terms_depth2():
    # layer 2 is the first Haar layer and carries nothing (layer 1 is Gaussian with a deterministic NTK): no Weingarten
    # term at 1/n means the Gaussian fresh terms. 400 networks x 32, 64, 128: every moment within 1.8 SE, ~2% SE
    _ddntk_check(2, 400, 11, {})


@pytest.mark.slow
def test_ddntk_carried_terms_depth3():
    # layer 3 carries the orthogonal B, F, P, Q of layer 2. 640 networks x 32, 64, 128: every moment within 1.0 SE,
    # while the Gaussian recursion is off by 9 SE (ddIH), 22 SE (ddIIH_iikk), 10 SE (ikik), 15 SE (iiii)
    _ddntk_check(3, 640, 12, {"ddI_iikk": 6, "ddII_iikk": 12, "ddII_ikik": 6, "ddII_iiii": 8})


# --------------------------------------------------------------------------- depth saturation (acceptance 3)


def test_saturation_curves_and_files(tmp_path):
    # tanh at criticality: the orthogonal normalised tensors settle (V/K^2 -> -1.95, B/Theta^2 -> 0.013 at L = 50)
    # while the Gaussian ones grow ~linearly in L (V/K^2 = 31.7, B/Theta^2 = 9.6 at L = 50)
    from nntheory.validation.finite_width._ntk_saturation import ntk_saturation, write_ntk_saturation

    res = ntk_saturation(activation("tanh"), depth=50)
    g25, g50 = res.at_depth(25)["gaussian"], res.at_depth(50)["gaussian"]
    o25, o50 = res.at_depth(25)["orthogonal"], res.at_depth(50)["orthogonal"]
    for q in ("V/K^2", "B/Theta^2", "F/ThetaK", "A/Theta^2"):
        assert abs(g50[q]) > 1.7 * abs(g25[q]) and abs(g50[q]) > 2, (q, g25[q], g50[q])
        assert abs(o50[q]) < 2.0 and abs(o50[q] - o25[q]) < 0.1, (q, o25[q], o50[q])
    # Var(sum_i z_i^2) >= 0 forces V/K^2 >= -2 at leading order (-2: the norm of z frozen); orthogonal tanh nears it
    assert all(v > -2 for v in res.theory["orthogonal"]["V/K^2"])
    names = write_ntk_saturation(res, str(tmp_path))
    doc = json.loads((tmp_path / names[2]).read_text(), parse_constant=lambda t: pytest.fail(t))
    assert doc["provenance"]["data_sha256"] and doc["settings"]["depth"] == 50
    rows = (tmp_path / names[1]).read_text().splitlines()
    assert len(rows) == 101 and rows[0].startswith("layer,init,V/K^2")
    assert (tmp_path / names[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SpecError, match="key"):
        ntk_saturation(activation("tanh"), depth=5, mc_depths=(3,))
    with pytest.raises(SpecError, match="mc_depths"):
        ntk_saturation(activation("tanh"), depth=5, mc_depths=(9,), key=jax.random.key(0))


@pytest.mark.slow
def test_saturation_monte_carlo_points():
    # the Monte Carlo points of the plot at depth 8, width 64, 120 networks: every |z| < 4 for orthogonal weights
    # (one width: the 1/n remainder is inside the error bars here); the Gaussian B/Theta^2 at L = 8 is 5x the
    # orthogonal one, far outside the orthogonal points' error bars
    from nntheory.validation.finite_width._ntk_saturation import ntk_saturation

    res = ntk_saturation(activation("tanh"), depth=8, mc_depths=(8,), mc_width=64, n_nets=120, key=jax.random.key(41))
    pts = [p for p in res.mc if p["init"] == "orthogonal"]
    assert len(pts) == 5 and max(abs(p["z"]) for p in pts) < 4, [(p["quantity"], p["depth"], p["z"]) for p in pts]
    b = next(p for p in pts if p["depth"] == 8 and p["quantity"] == "B/Theta^2")
    assert abs(b["value"] - res.at_depth(8)["gaussian"]["B/Theta^2"]) > 10 * b["stderr"]
