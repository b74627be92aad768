"""SO(3) on the sphere in spherical coordinates ``(theta, phi)``: counts, explicit invariants, rewritings.

References independent of the code under test:

* counts: ``dim J^k`` from the binomial formula minus the exact rank of the prolonged matrix at
  points where ``sin`` and ``cos`` are rational (``theta = 2 atan(t)``, ``t`` rational: sympy's exact
  ``Matrix.rank``);
* the geodesic curvature of a curve ``phi(theta)`` from the embedding ``r = (sin t cos f, sin t sin f,
  cos t)`` of the unit sphere: ``kappa_g = det(r, r', r'') / |r'|^3`` (``r`` is the unit normal; do
  Carmo §4-4), its arc-length derivative with ``ds = |r'| dtheta``;
* ``|grad u|^2`` and the Laplace–Beltrami operator of the round metric ``dtheta^2 + sin^2 theta dphi^2``;
* annihilation: ``pr v_a(I)`` (sympy's prolongation, not the ring of ``_trig_ring``) evaluated to 40
  digits at random points, and functional dependence by the rank of 40-digit Jacobians.
"""

from __future__ import annotations

import functools
import math
import random

import mpmath
import pytest
import sympy

from nntheory.theory import InvariantError, differential_invariants, lie_action

TH, PH = sympy.symbols("theta phi", real=True)

# L_x, L_y, L_z; the cotangent of theta spelled in several equal ways
COT = {
    "cos/sin": "cos(theta)/sin(theta)",
    "1/tan": "1/tan(theta)",
    "double angle": "sin(2*theta)/(2*sin(theta)**2)",
    "half angle": "(1 - tan(theta/2)**2)/(2*tan(theta/2))",
    "radical": "cos(theta)/sqrt(1 - cos(theta)**2)",
    "cot": "cot(theta)",
    "csc": "cos(theta)*csc(theta)",
    "sec": "1/(sin(theta)*sec(theta))",
}


def _generators(cot1="cos(theta)/sin(theta)", cot2="1/tan(theta)"):
    return [{"theta": "-sin(phi)", "phi": f"-cos(phi)*{cot1}"}, {"theta": "cos(phi)", "phi": f"-sin(phi)*{cot2}"},
            {"phi": "1"}]


CASES = {
    "curves phi(theta)": ((["theta"], ["phi"]), 4, (0, 0, 1, 2, 3)),
    "curves theta(phi)": ((["phi"], ["theta"]), 3, (0, 0, 1, 2)),
    "functions u(theta, phi)": ((["theta", "phi"], ["u"]), 2, (1, 2, 5)),
}


@functools.lru_cache(maxsize=None)
def computed(name, cot="cos/sin", order=None):
    (ind, dep), n, _ = CASES[name]
    act = lie_action(ind, dep, _generators(COT[cot], COT[cot]) if cot != "cos/sin" else _generators())
    return act, differential_invariants(act, n if order is None else order, timeout=300)


def _circle_point(coords, seed):
    """A point with rational coordinates, theta and phi with rational sine and cosine."""
    rnd = random.Random(seed)
    pt = {}
    for s in coords:
        if s.name in ("theta", "phi"):
            t = sympy.Rational(rnd.randint(3, 12), rnd.randint(13, 20))  # theta in (0.3, 1.4): sin, cos > 0
            pt[s] = 2 * sympy.atan(t)
        else:
            pt[s] = sympy.Rational(rnd.randint(-40, 40), rnd.randint(1, 9))
    return pt


def _num(e, pt):
    return sympy.sympify(e).xreplace(pt).evalf(40)


def _rank(rows, pt):
    """Numerical rank of a Jacobian at ``pt`` (40 digits, relative threshold 1e-25)."""
    with mpmath.workdps(40):
        M = mpmath.matrix([[mpmath.mpf(str(_num(e, pt))) for e in row] for row in rows])
        s = mpmath.svd_r(M, compute_uv=False)
        top = max(abs(s[i]) for i in range(len(s)))
        return sum(1 for i in range(len(s)) if abs(s[i]) > top * mpmath.mpf(10) ** -25)


@pytest.mark.parametrize("name", sorted(CASES))
def test_counts_equal_jet_dimension_minus_exact_orbit_rank(name):
    act, inv = computed(name)
    _, order, expected = CASES[name]
    assert inv.counts == expected
    assert inv.method == "ansatz"
    jet = act.jet
    for k in range(order + 1):
        dim = jet.p + jet.q * math.comb(jet.p + k, k)
        coords = jet.coordinates(k)
        rank = max(sympy.Matrix(act.matrix(k)).xreplace(_circle_point(coords, seed)).applyfunc(sympy.expand_trig)
                   .applyfunc(sympy.simplify).rank() for seed in (1, 2))
        assert inv.counts[k] == dim - rank, (name, k)
        assert len(inv.all(k)) == inv.counts[k]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_invariant_annihilated_by_the_prolonged_generators_in_theta_phi(name):
    act, inv = computed(name)
    for k in range(inv.order + 1):
        coords = act.jet.coordinates(k)
        for I in inv.invariants[k]:
            assert not I.has(sympy.tan, sympy.cot) and I.free_symbols <= set(coords) - {PH}, I
            for a in range(act.r):
                img = act.apply(a, I, k)
                for seed in (5, 6):
                    pt = _circle_point(coords, seed)
                    scale = 1 + abs(_num(I, pt))
                    assert abs(_num(img, pt)) < 1e-28 * scale, (name, I, a)


def _embedded_geodesic_curvature():
    """``(kappa_g, |r'|)`` of the curve ``phi(theta)`` on the unit sphere, and the jet symbols."""
    p, q = sympy.symbols("phi_theta phi_thetatheta", real=True)
    f = sympy.Function("f")(TH)
    r = sympy.Matrix([sympy.sin(TH) * sympy.cos(f), sympy.sin(TH) * sympy.sin(f), sympy.cos(TH)])
    r1, r2 = r.diff(TH), r.diff(TH, 2)
    sub = {f.diff(TH, 2): q, f.diff(TH): p}
    det = sympy.trigsimp(sympy.Matrix.hstack(r, r1, r2).det().subs(sub))
    speed = sympy.sqrt(sympy.trigsimp(r1.dot(r1).subs(sub)))
    kappa = det / speed**3
    return kappa.subs(f, PH), speed.subs(f, PH)


def test_geodesic_curvature_and_its_arc_length_derivatives_are_the_invariants():
    act, inv = computed("curves phi(theta)")
    kappa, speed = _embedded_geodesic_curvature()
    jet = act.jet
    (I2,) = inv.invariants[2]
    for seed in range(3):
        pt = _circle_point(jet.coordinates(2), seed)
        assert abs(_num(I2 - kappa**2, pt)) < 1e-30 * (1 + abs(_num(I2, pt)))  # exactly kappa_g^2
    # kappa, kappa_s, kappa_ss generate the invariants of orders 3 and 4 (and conversely)
    ks = [kappa]
    for k in (2, 3):
        ks.append(jet.total_derivative(ks[-1], 0, k) / speed)
    for k in (3, 4):
        coords = jet.coordinates(k)
        pt = _circle_point(coords, 10 + k)
        ours = [[sympy.diff(I, c) for c in coords] for I in inv.all(k)]
        ref = [[sympy.diff(K, c) for c in coords] for K in ks[: k - 1]]
        assert _rank(ours, pt) == k - 1
        assert _rank(ref, pt) == k - 1
        assert _rank(ours + ref, pt) == k - 1


def test_no_spurious_singular_set_for_curves_and_critical_points_for_functions():
    # SO(3) acts locally freely on the first jets of curves on the sphere (no real singular set in the
    # chart); for functions the orbits of J^1 drop dimension exactly at critical points
    _, curves = computed("curves phi(theta)")
    assert not any("drops below" in w for w in curves.warnings), curves.warnings
    _, funcs = computed("functions u(theta, phi)")
    assert any("drops below 3 where u_phi = 0, u_theta = 0" in w for w in funcs.warnings), funcs.warnings


def test_functions_on_the_sphere_gradient_norm_and_laplacian():
    act, inv = computed("functions u(theta, phi)")
    u, ut, up, utt, utp, upp = (sympy.Symbol(n, real=True) for n in ("u", "u_theta", "u_phi", "u_thetatheta",
                                                                      "u_thetaphi", "u_phiphi"))
    grad2 = ut**2 + up**2 / sympy.sin(TH) ** 2
    lap = utt + sympy.cos(TH) / sympy.sin(TH) * ut + upp / sympy.sin(TH) ** 2
    assert inv.invariants[0] == (u,)
    pt = _circle_point(act.jet.coordinates(2), 21)
    (I1,) = inv.invariants[1]
    assert abs(_num(I1 - grad2, pt)) < 1e-30 * (1 + abs(_num(grad2, pt)))
    coords = act.jet.coordinates(2)
    ours = [[sympy.diff(I, c) for c in coords] for I in inv.all(2)]
    assert _rank(ours, pt) == 5
    assert _rank(ours + [[sympy.diff(lap, c) for c in coords]], pt) == 5


@pytest.mark.parametrize("cot", [c for c in sorted(COT) if c != "cos/sin"])
def test_rewritten_generators_close_and_give_the_same_invariants(cot):
    ref_act, ref = computed("curves phi(theta)", "cos/sin", 2)
    act, inv = computed("curves phi(theta)", cot, 2)
    assert act.structure_constants == ref_act.structure_constants
    assert inv.counts == ref.counts
    # the ring of cos/sin has unique normal forms: the same invariants, term for term
    assert inv.invariants == ref.invariants


def test_cli_sphere_in_spherical_coordinates(cli, tmp_path):
    import json

    spec = tmp_path / "sphere.json"
    spec.write_text(json.dumps({"independent": ["theta"], "dependent": ["phi"], "generators": _generators()}))
    r = cli("invariants", str(spec), "--order", "3", "--format", "json", "--timeout", "120", "--quiet")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [out["orders"][str(k)]["count"] for k in range(4)] == [0, 0, 1, 2]
    assert "sin(theta)" in out["orders"]["2"]["invariants"][0]


def test_genuinely_different_trigonometric_field_is_refused():
    # cot replaced by cot + 1: the bracket of v1 and v2 leaves the span
    with pytest.raises(InvariantError, match="do not close"):
        lie_action(["theta"], ["phi"], _generators("(cos(theta)/sin(theta) + 1)", "(cos(theta)/sin(theta) + 1)"))
