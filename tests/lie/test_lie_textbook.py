"""Differential invariants of the textbook actions against their classical closed forms.

References are independent of the moving frame: closed forms from the literature (Olver,
*Equivalence, Invariants and Symmetry*; Guggenheimer, *Differential Geometry*), the dimension
formula ``dim J^k - r`` for locally free actions, exact orbit ranks at rational points, and the
prolongation recomputed by implicit differentiation of the flows.
"""

from __future__ import annotations

import functools
import math

import mpmath
import pytest
import sympy

from nntheory.theory import InvariantError, differential_invariants, invariant_count, lie_action
from nntheory.theory.lie._flows import _flow, _prolong_finite

x, u, y = (sympy.Symbol(n, real=True) for n in ("x", "u", "y"))
ux, uxx, uxxx, uxxxx = (sympy.Symbol(n, real=True) for n in ("u_x", "u_xx", "u_xxx", "u_xxxx"))
uy = sympy.Symbol("u_y", real=True)

CURVE = dict(independent=["x"], dependent=["u"])
SE2 = [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}]
KAPPA = uxx / (1 + ux**2) ** sympy.Rational(3, 2)
DS = lambda e: sympy.diff(e, x) + sum(sympy.diff(e, a) * b for a, b in ((u, ux), (ux, uxx), (uxx, uxxx), (uxxx, uxxxx)))  # noqa: E731
KAPPA_S = DS(KAPPA) / sympy.sqrt(1 + ux**2)  # arc-length derivative of the curvature
SCHWARZ = uxxx / ux - sympy.Rational(3, 2) * (uxx / ux) ** 2
AFFINE = (3 * uxx * uxxxx - 5 * uxxx**2) / (9 * uxx ** sympy.Rational(8, 3))

# name: (generators, jet, order, {order: textbook invariant}, first order at which the action is locally free)
CASES = {
    "SE(2) on curves": (SE2, CURVE, 3, {2: KAPPA, 3: KAPPA_S}, 1),
    "similarity on curves": (SE2 + [{"x": "x", "u": "u"}], CURVE, 4, {3: KAPPA_S / KAPPA**2}, 2),
    "SA(2) on curves": ([{"x": "1"}, {"u": "1"}, {"u": "x"}, {"x": "u"}, {"x": "x", "u": "-u"}], CURVE, 4, {4: AFFINE}, 3),
    "PSL(2) projective on u": ([{"u": "1"}, {"u": "u"}, {"u": "u**2"}], CURVE, 3, {0: x, 3: SCHWARZ}, 2),
    "translations and scalings": ([{"x": "1"}, {"u": "1"}, {"x": "x"}, {"u": "u"}], CURVE, 3, {3: ux * uxxx / uxx**2}, 2),
    "SO(2) on a scalar field u(x, y)": (
        [{"x": "-y", "y": "x"}], dict(independent=["x", "y"], dependent=["u"]), 1,
        {0: x**2 + y**2, 1: x * ux + y * uy}, 0,
    ),
}


@functools.lru_cache(maxsize=None)
def computed(name):
    gens, jet, order, _, _ = CASES[name]
    action = lie_action(jet["independent"], jet["dependent"], gens)
    return action, differential_invariants(action, order)


def _exact_rank(action, k, seed):
    import random

    rnd = random.Random(seed)
    coords = action.jet.coordinates(k)
    pt = {s: sympy.Rational(rnd.randint(-40, 40), rnd.randint(1, 9)) for s in coords}
    return sympy.Matrix(action.matrix(k)).xreplace(pt).rank()


def _numeric_rank(funcs, coords, seed):
    import random

    rnd = random.Random(seed)
    with mpmath.workdps(40):
        pt = {s: sympy.Rational(rnd.randint(5, 40), rnd.randint(7, 13)) for s in coords}  # positive: fractional powers real
        M = mpmath.matrix([[mpmath.mpf(sympy.diff(f, s).xreplace(pt).evalf(40)) for s in coords] for f in funcs])
        sv = mpmath.svd_r(M, compute_uv=False)
        top = max(abs(v) for v in sv)
        return sum(1 for v in sv if abs(v) > top * mpmath.mpf(10) ** -25)


@pytest.mark.parametrize("name", sorted(CASES))
def test_counts_match_exact_rank_and_dimension_formula(name):
    action, inv = computed(name)
    _, _, order, _, free_from = CASES[name]
    for k in range(order + 1):
        rank = max(_exact_rank(action, k, s) for s in range(3))
        assert inv.counts[k] == action.jet.dimension(k) - rank
        if k >= free_from:  # locally free: the dimension formula p + q C(p+k, k) - r
            jet = action.jet
            assert inv.counts[k] == jet.p + jet.q * math.comb(jet.p + k, k) - action.r


@functools.lru_cache(maxsize=None)
def by_characteristics(name):
    gens, jet, order, _, _ = CASES[name]
    action = lie_action(jet["independent"], jet["dependent"], gens)
    return action, differential_invariants(action, order, method="characteristics")


@pytest.mark.parametrize("name", sorted(CASES))
def test_invariants_annihilated_complete_and_textbook_dependent(name):
    _check_complete(name, *computed(name))


@pytest.mark.parametrize("name", sorted(CASES))
def test_characteristics_route_complete_and_equal_to_the_frame_on_the_same_cut(name):
    """The PDE route (Jacobian normal form, characteristics) on its own: complete, exact, textbook;
    where its cut is the frame's cross-section both give the same normalised invariants."""
    action, inv = by_characteristics(name)
    assert inv.method == "characteristics"
    _check_complete(name, action, inv)
    _, frame = computed(name)
    assert inv.counts == frame.counts
    if inv.cross_section == frame.cross_section:
        import random

        rnd = random.Random(3)
        pt = {s: sympy.Rational(rnd.randint(5, 40), rnd.randint(7, 13)) for s in action.jet.coordinates(inv.order)}
        for a, b in zip(inv.all(), frame.all()):
            assert abs(sympy.N((a - b).xreplace(pt), 30)) < 1e-25, (a, b)


def _check_complete(name, action, inv):
    _, _, order, textbook, _ = CASES[name]
    for k in range(order + 1):
        coords = action.jet.coordinates(k)
        have = inv.all(k)
        assert len(have) == inv.counts[k]
        for I in inv.invariants[k]:
            for a in range(action.r):
                assert sympy.simplify(action.apply(a, I, k)) == 0, (I, a)
        if have:
            assert _numeric_rank(have, coords, 1) == inv.counts[k]  # complete: independent, as many as the count
        if k in textbook:
            T = textbook[k]
            for a in range(action.r):  # the reference really is an invariant (exact)
                assert sympy.simplify(action.apply(a, T, k)) == 0
            assert _numeric_rank(have + [T], coords, 2) == inv.counts[k]  # functionally dependent on ours


def test_se2_arc_length_derivative_and_recurrence():
    action, inv = computed("SE(2) on curves")
    (W,), = inv.derivatives
    assert sympy.simplify(W - 1 / sympy.sqrt(1 + ux**2)) == 0
    kappa = inv.invariants[2][0]
    assert sympy.simplify(kappa - KAPPA) == 0 or sympy.simplify(kappa + KAPPA) == 0
    assert sympy.simplify(inv.invariant_derivative(KAPPA) - KAPPA_S) == 0
    # Fels–Olver recurrences against the explicit normalised invariants: D I_u_xx = I_u_xxx and
    # D I_u_xxx = I_u_xxxx - 3 I_u_xx^3 (Olver's kappa_ss + 3 kappa^3 = iota(u_xxxx)).
    inv4 = differential_invariants(action, 4)
    explicit = {sympy.Symbol("I_u_xx", real=True): inv4.invariants[2][0],
                sympy.Symbol("I_u_xxx", real=True): inv4.invariants[3][0],
                sympy.Symbol("I_u_xxxx", real=True): inv4.invariants[4][0]}
    rels = inv.recurrence()
    assert len(rels) == 2
    for _, lhs, rhs in rels:
        assert sympy.simplify(inv.invariant_derivative(lhs.xreplace(explicit)) - rhs.xreplace(explicit)) == 0


def test_prolongation_equals_implicit_differentiation_of_the_flows():
    """Characteristic formula (recursive) == d/de at e = 0 of the prolonged finite flow."""
    eps = sympy.Symbol("epsilon", real=True)
    for name in sorted(CASES):
        action, _ = computed(name)
        order = 3 if action.jet.p == 1 else 2
        for a, gen in enumerate(action.generators):
            fl = _flow(action.jet.base, tuple(gen))
            fin, _ = _prolong_finite(action.jet, fl, order)
            pro = action.prolong(a, order)
            for s in action.jet.coordinates(order):
                d = sympy.diff(fin[s], eps).subs(eps, 0)
                assert sympy.simplify(d - pro[s]) == 0, (name, a, s)
    # and Olver's worked example: pr v for the rotation -u d_x + x d_u
    action, _ = computed("SE(2) on curves")
    pro = action.prolong(2, 2)
    assert sympy.expand(pro[ux] - (1 + ux**2)) == 0
    assert sympy.expand(pro[uxx] - 3 * ux * uxx) == 0


def test_structure_constants_so2_sl2():
    action, _ = computed("PSL(2) projective on u")
    assert action.bracket_table() == {"[v1, v2]": "v1", "[v1, v3]": "2*v2", "[v2, v3]": "v3"}
    se2, _ = computed("SE(2) on curves")
    assert se2.bracket_table() == {"[v1, v3]": "v2", "[v2, v3]": "-v1"}


def test_warnings_name_local_invariants_singular_sets_and_non_freeness():
    _, se2 = computed("SE(2) on curves")
    text = " ".join(se2.warnings)
    assert "changes sign" in text and "not free at orders 0..0" in text
    _, sim = computed("similarity on curves")
    assert any("u_xx = 0" in w for w in sim.warnings)
    _, sa2 = computed("SA(2) on curves")
    assert any("real only where u_xx > 0" in w for w in sa2.warnings)
    so3 = lie_action(["x", "y", "z"], [], [{"y": "-z", "z": "y"}, {"x": "z", "z": "-x"}, {"x": "-y", "y": "x"}])
    inv = differential_invariants(so3, 0)
    assert inv.counts == (1,) and any("not free" in w for w in inv.warnings)
    assert _numeric_rank(inv.all(0) + [sympy.Symbol("x", real=True) ** 2 + sympy.Symbol("y", real=True) ** 2
                                        + sympy.Symbol("z", real=True) ** 2], so3.jet.coordinates(0), 3) == 1


@pytest.mark.parametrize(
    "gens, dep, order, match",
    [
        ([{"x": "1"}, {"u": "x**2"}], ["u"], 2, "do not close into a Lie algebra"),
        ([{"x": "1"}, {"x": "2"}], ["u"], 2, "linearly dependent"),
        (SE2, ["u"], 1, "no differential invariants of order <= 1; the first appear at order 2"),
        ([{"x": "1", "w": "1"}], ["u"], 2, "unknown coordinate"),
        ([{"x": "exec('1')"}], ["u"], 2, "is not allowed"),
        ([{"x": "1"}], ["u", "u_x"], 2, "collide"),
        ([{"x": "0"}], ["u"], 2, "zero vector field"),
    ],
)
def test_bad_input_clear_errors(gens, dep, order, match):
    with pytest.raises(InvariantError, match=match):
        action = lie_action(["x"], dep, gens)
        differential_invariants(action, order)


def test_bad_order_and_names():
    action, _ = computed("SE(2) on curves")
    with pytest.raises(InvariantError, match="order must be an integer >= 0"):
        differential_invariants(action, -1)
    with pytest.raises(InvariantError, match="collide"):
        lie_action(["x", "xx"], ["u"], [{"x": "1"}])
    with pytest.raises(InvariantError, match="more than once"):
        lie_action(["x"], ["x"], [{"x": "1"}])
    assert invariant_count(action, 2) == 1


def test_auto_falls_back_to_characteristics_where_the_frame_fails():
    """The conformal field (x^2 - u^2) d_x + 2xu d_u (z -> z/(1 - epsilon z)): its flow is a coupled
    non-linear system, so the moving frame has no group element; the characteristics of the PDE
    system still give the invariant, a function of the classical (x^2 + u^2)/u (circles tangent to
    the x-axis at 0)."""
    conformal = lie_action(["x"], ["u"], [{"x": "x**2 - u**2", "u": "2*x*u"}])
    with pytest.raises(InvariantError, match="could not be integrated exactly"):
        differential_invariants(conformal, 0, method="moving frame")
    inv = differential_invariants(conformal, 0)
    assert inv.method == "characteristics" and inv.counts == (1,)
    (I,) = inv.all()
    assert sympy.simplify(conformal.apply(0, I, 0)) == 0
    assert _numeric_rank([I, (x**2 + u**2) / u], conformal.jet.coordinates(0), 4) == 1
    assert inv.derivatives is None and any("need the moving frame" in w for w in inv.warnings)
    with pytest.raises(InvariantError, match="method: must be one of"):
        differential_invariants(conformal, 0, method="frobenius")
