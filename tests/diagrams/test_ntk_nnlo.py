"""The NTK mean to 1/n^2 from the diagrams: consistency with the first-order engine and the kernel diagrams, the pairing
decompositions at coinciding neurons, ReLU's exact law, and the exact finite-width NTK mean of sigma(z) = z^2 networks
(depth 3 and 4, a closed form in n derived here from sums of i.i.d. neurons, cross-checked by brute force at n = 1)."""

from itertools import product

import pytest
import sympy
from sympy import Rational as Q

from nntheory.diagrams import diagram_recursion, ntk_mean_recursion
from nntheory.diagrams._ntk_nnlo import _cumulant2
from nntheory.errors import SpecError
from nntheory.theory import activation, ntk_recursion, parse_activation


def _act(name):
    return parse_activation(name) if "z" in name else activation(name)


def _by_name(e):
    """Symbols compared by name (the kernel diagrams keep K1 real, the foundation declares it positive)."""
    return e.xreplace({s: sympy.Symbol(s.name, real=True) for s in e.free_symbols})


@pytest.mark.parametrize("name", ["relu", "z**2", pytest.param("tanh", marks=pytest.mark.slow)])
def test_lower_orders_equal_the_first_order_engine_and_the_kernel_diagrams(name):
    act = _act(name)
    rec, hand, ker = ntk_mean_recursion(act), ntk_recursion(act), diagram_recursion(act, 2, 1)
    for s in rec.statistics:
        ref = hand if s.name in hand.names else ker if s.name in ("K2", "V2", "U6") else None
        if ref is None:
            continue
        idx = (0,) * s.update.rank()
        assert sympy.expand(_by_name(s.update[idx]) - _by_name(ref[s.name].update[idx])) == 0, s.name


@pytest.mark.parametrize("name", ["relu", "z**2"])
def test_coinciding_neurons_follow_the_pairing_decompositions_at_second_order(name):
    """Computed directly at each neuron pattern, the 1/n^2 cumulants are sums over the pairings of the neuron slots."""
    act = _act(name)
    rec = ntk_mean_recursion(act)

    def u(n):
        return rec[n].update[(0,) * rec[n].update.rank()]

    def c2(*fields):
        return _cumulant2(act, 1, fields)[2]

    H, Hik, zi, zk = ("H", 0, 0, 0, 0), ("H", 0, 1, 0, 0), ("z", 0, 0), ("z", 1, 0)
    cases = [((H, zi, zi), u("D2") + 2 * u("F2")), ((H, zi, zi, zk, zk), u("D4") + 2 * u("F4")),
             ((H, zk, zk, zk, zk), 3 * u("D4")), ((H, zi, zi, zi, zi), 3 * u("D4") + 12 * u("F4")),
             ((Hik, zi, zk, zk, zk), 3 * u("F4")), ((zi,) * 4, 3 * u("V2")), ((zi,) * 6, 15 * u("U6"))]
    for fields, expect in cases:
        assert sympy.simplify(c2(*fields) - expect) == 0, fields


def test_linear_network_second_order_updates_match_hand_derived_closed_forms():
    """Linear activation: the 1/n^2 updates derived by hand (law of total cumulance, in a separate review of this
    engine) equal the generated ones."""
    rec = ntk_mean_recursion(activation("linear"))
    C_W, lW, r, K, K1, V, V2, U6, D, D2, F, F2, D4, F4, Th, Th1 = sympy.symbols(
        "C_W lambda_W r K K1 V V2 U6 D D2 F F2 D4 F4 Theta Theta1")
    expected = {
        "D2": lW * C_W * (r**2 * V2 + 2 * r * V + 4 * r * K * K1) + C_W**2 * (r**2 * D2 + 2 * r * F),
        "F2": C_W**2 * (r**2 * F2 + r * F + r * D + r * K * Th1 + r * Th * K1),
        "D4": C_W**2 * (8 * lW * K**3 + 12 * r * lW * K * V + 4 * r * C_W * K * D + r**2 * (lW * U6 + C_W * D4)),
        "F4": C_W**3 * (2 * K**2 * Th + r * Th * V + r * K * D + 4 * r * K * F + r**2 * F4),
    }
    plain = {}
    for name, e in expected.items():
        got = rec.update(name)
        plain = {x: sympy.Symbol(x.name) for x in got.free_symbols}
        assert sympy.expand(got.xreplace(plain) - e) == 0, name


def test_relu_single_input_mean_follows_its_exact_law():
    """ReLU, one input: E[sigma^2] = E[z^2]/2 and E[sigma'^2 H] = E[H]/2 exactly (z -> -z), so Theta2' = (lambda_W K2 +
    C_W Theta2)/2 (times r^2)."""
    rec = ntk_mean_recursion(activation("relu"))
    C_W, lam_W, r = (sympy.Symbol("C_W", positive=True), sympy.Symbol("lambda_W", nonnegative=True),
                     sympy.Symbol("r", positive=True))
    K2, Th2 = rec["K2"].symbols[0, 0], rec["Theta2"].symbols[0, 0]
    assert sympy.expand(rec.update("Theta2") - r**2 * (lam_W * K2 + C_W * Th2) / 2) == 0


# ---------------------------------------------------------------- exact finite-width NTK mean of sigma(z) = z^2 nets

n = sympy.Symbol("n", positive=True)


def _set_partitions(items):
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for part in _set_partitions(rest):
        out.append([[first]] + part)
        for i in range(len(part)):
            out.append(part[:i] + [[first] + part[i]] + part[i + 1:])
    return out


def _exact_quadratic(depth, CW, Cb, lb, lW, X):
    """E[H_ii] of the depth-3 or depth-4 network sigma(z) = z^2 (one input, equal widths n), exactly in n.

    Layer 1 is Gaussian (z1 ~ N(0, k), k = C_b + C_W X; H1 = (lambda_b + lambda_W X) delta). Given layer 1, the rows x of
    layer 2 are i.i.d.: z2 ~ N(0, G2), G2 = C_b + C_W S1, and (Gaussian integration by parts in the row's weights)
    E[z^{2p} H2_xx] = (lb + lW S1) m_p + th1 [C_W Sv m_p + (C_W^2/n) 2p(2p-1) m_{p-1} Suv], m_p = (2p-1)!! G2^p, with the
    layer-1 sample means S1 = <z^4>, Sv = <4 z^2>, Suv = <4 z^6>; across two rows E[z_x^3 W_xw] = (C_W/n) u_w 3 m_1.
    Given layer 2, E[z3^2 W_jx W_jy] = d_xy (C_W/n) G3 + 2 (C_W/n)^2 u_x u_y. The layer-1 sample means' joint moments
    are sums over set partitions with falling factorials n (n-1) ... ."""
    k, th1 = Cb + CW * X, lb + lW * X
    S1, Sv, Suv = sympy.symbols("S1 Sv Suv")
    spec = {S1: (1, 4), Sv: (4, 2), Suv: (4, 6)}

    def E1(expr):
        poly = sympy.Poly(sympy.expand(expr), S1, Sv, Suv)
        tot = 0
        for mon, c in poly.terms():
            factors = [s for s, e in zip((S1, Sv, Suv), mon) for _ in range(e)]
            for part in _set_partitions(list(range(len(factors)))):
                term = sympy.prod([n - t for t in range(len(part))]) / n ** len(factors)
                for blk in part:
                    coef = sympy.prod([spec[factors[i]][0] for i in blk])
                    p = sum(spec[factors[i]][1] for i in blk)
                    term *= coef * (sympy.factorial2(p - 1) * k ** (p // 2) if p % 2 == 0 else 0)
                tot += c * term
        return sympy.expand(tot)

    G2 = Cb + CW * S1

    def m(p):
        return sympy.factorial2(2 * p - 1) * G2**p if p > 0 else sympy.Integer(1)

    def h(p):
        return (lb + lW * S1) * m(p) + th1 * (CW * Sv * m(p) + (CW**2 / n) * 2 * p * (2 * p - 1) * m(p - 1) * Suv)

    if depth == 3:  # E[H3] = lb + lW E[z2^4] + 4 C_W E[z2^2 H2_xx]
        return E1(lb + 3 * lW * G2**2 + 4 * CW * h(1))
    ES4, ES4sq = m(2), m(4) / n + (1 - 1 / n) * m(2) ** 2  # S4 = <z2^4> over layer 2
    EG3 = Cb + CW * ES4
    EG3sq = Cb**2 + 2 * Cb * CW * ES4 + CW**2 * ES4sq
    T2 = lb * EG3 + lW * (Cb * ES4 + CW * ES4sq)  # E[G3 (lb + lW S4)]
    T3 = 4 * CW * Cb * h(1) + (4 * CW**2 / n) * (h(3) + (n - 1) * m(2) * h(1))  # (C_W/n) E[G3 sum_x 4 z_x^2 H_xx]
    T4 = 2 * (CW / n) ** 2 * (4 * n * h(3) + 36 * th1 * (n - 1) * CW**2 * Suv * m(1) ** 2)  # sum_xy u v u v H_xy
    return E1(lb + 3 * lW * EG3sq + 4 * CW * (T2 + T3 + T4))


def _brute_width_one(depth, CW, Cb, lb, lW, X):
    """E[H_L] at n = 1 by expanding the whole network in its Gaussian parameters."""
    g = sympy.symbols(f"g1:{2 * depth + 1}")
    z, H, t = sympy.sqrt(Cb) * g[0] + sympy.sqrt(CW * X) * g[1], lb + lW * X, 2
    for _ in range(2, depth):
        b, W = sympy.sqrt(Cb) * g[t], sympy.sqrt(CW) * g[t + 1]
        t += 2
        H, z = sympy.expand(lb + lW * z**4 + W**2 * 4 * z**2 * H), sympy.expand(b + W * z**2)
    poly = sympy.Poly(sympy.expand(lb + lW * z**4 + CW * 4 * z**2 * H), *g[:t])
    return sum(c * sympy.prod([sympy.factorial2(e - 1) if e % 2 == 0 else 0 for e in mon]) for mon, c in poly.terms())


def _series(expr, top):
    e = sympy.Symbol("e")
    p = sympy.Poly(sympy.expand(sympy.simplify(expr.subs(n, 1 / e))), e)
    return [p.coeff_monomial(e**j) for j in range(top + 1)]


@pytest.mark.parametrize("depth", [3, 4])
@pytest.mark.parametrize("hyper", [(Q(1, 3), Q(1, 5), Q(1), Q(1, 2), Q(1)), (Q(1, 4), Q(0), Q(1, 3), Q(2), Q(3, 2))])
def test_quadratic_network_ntk_mean_matches_its_exact_finite_width_value(depth, hyper):
    """sigma(z) = z^2: E[H] is a polynomial in 1/n; its first three coefficients are Theta, Theta1, Theta2 of the
    recursion at layer ``depth`` (depth 4 runs the 1/n^2 recursions of K2, V2, U6, D2, F2, D4, F4 and Theta2)."""
    CW, Cb, lb, lW, X = hyper
    exact = _exact_quadratic(depth, *hyper)
    assert sympy.simplify(exact.subs(n, 1) - _brute_width_one(depth, *hyper)) == 0  # the closed form itself
    layers = ntk_mean_recursion(parse_activation("z**2")).iterate(depth, [[X]], C_W=CW, C_b=Cb, lambda_b=lb, lambda_W=lW)
    got = [layers[-1][k][0, 0] for k in ("Theta", "Theta1", "Theta2")]
    assert _series(exact, 2) == got
    if depth == 4:
        assert got[2] != 0  # depth 3 has no 1/n^2 term; depth 4 does


def test_bad_input(cli):
    with pytest.raises(SpecError, match="n_inputs"):
        ntk_mean_recursion(activation("tanh"), 0)
    with pytest.raises(SpecError, match="n_inputs must be 1"):
        ntk_mean_recursion(activation("tanh"), 2)
    for args, needle in (
        (("--statistics", "Theta2", "--gram", "[[1,0.2],[0.2,1]]"), "--gram"),
        (("--statistics", "Theta2,A"), "--statistics"),
        (("--statistics", "Theta2", "--init", "orthogonal"), "--init"),
    ):
        out = cli("recursions", "--activation", "tanh", "--depth", "3", *args)
        assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr, args


def test_cli_prints_the_ntk_mean_to_second_order(cli):
    import json

    out = cli("recursions", "--activation", "relu", "--depth", "4", "--statistics", "Theta,Theta1,Theta2,D4,F4")
    js = json.loads(out.stdout)
    assert js["settings"]["derivation"] == "diagrams"
    assert [row["Theta2"] for row in js["layers"]] == [0.0] * 4  # ReLU, one input: exactly no 1/n^2 correction
    assert js["layers"][-1]["D4"] != 0
    # compiled (float64, through the one sympy->JAX seam) = exact, for sigma = z^2 (closed forms) at depth 5
    out = cli("recursions", "--activation", "z**2", "--C_W", "0.4", "--C_b", "0.1", "--lambda-b", "0.5", "--depth", "5",
              "--statistics", "Theta,Theta1,Theta2,K2,V2,U6,D2,F2,D4,F4")
    got = json.loads(out.stdout)["layers"]
    exact = ntk_mean_recursion(parse_activation("z**2")).iterate(5, [[1]], C_W=Q(2, 5), C_b=Q(1, 10), lambda_b=Q(1, 2),
                                                                 lambda_W=1)
    for row, ex in zip(got, exact):
        for k in ("Theta2", "K2", "V2", "U6", "D2", "F2", "D4", "F4"):
            ref = float(ex[k][(0,) * ex[k].rank()])
            assert abs(row[k] - ref) <= 1e-12 * max(1.0, abs(ref)), (row["l"], k, row[k], ref)
    assert got[-1]["Theta2"] != 0
    tex = ntk_mean_recursion(activation("relu")).latex()
    assert "Theta2' &=" in tex and "D4' &=" in tex


def test_two_inputs_keep_the_tensor_symmetries():
    """Two inputs, sigma = z^2: the generated second-order updates are filled from canonical components; the engine's value at
    a permuted index (computed on its own) agrees."""
    act = parse_activation("z**2")
    from nntheory.diagrams._ntk_nnlo import _DEFS

    for name, perm in (("F2", (2, 3, 0, 1)), ("D2", (1, 0, 3, 2)), ("D4", (0, 1, 4, 5, 2, 3)), ("F4", (2, 3, 0, 1, 5, 4))):
        order, rank, make = _DEFS[name]
        mixed = [idx for idx in product(range(2), repeat=rank) if len(set(idx)) > 1]
        for idx in mixed[:: max(1, len(mixed) // 3)]:  # three spread-out components per tensor
            a = _cumulant2(act, 2, make(*idx))[order]
            b = _cumulant2(act, 2, make(*[idx[p] for p in perm]))[order]
            assert sympy.simplify(a - b) == 0, (name, idx)
