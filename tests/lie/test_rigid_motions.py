"""SO(3) and SE(3): counts per order against the rank formula, exact annihilation, and the classical
invariants (curvature, torsion; Gaussian and mean curvature) as functions of the returned set.

References independent of the code under test: the orbit dimension recomputed as the exact rank of
the prolonged matrix at rational points (sympy ``Matrix.rank``), ``dim J^n`` from the binomial
formula, the classical closed forms of curvature and torsion of a space curve ``(x, u(x), v(x))``
and of Gaussian and mean curvature of a graph ``u(x, y)`` (do Carmo), and functional dependence
tested by the exact rank of Jacobians at rational points.
"""

from __future__ import annotations

import functools
import math
import random
import time

import pytest
import sympy

from nntheory.theory import differential_invariants, lie_action

S = {n: sympy.Symbol(n, real=True) for n in ("u_x", "v_x", "u_xx", "v_xx", "u_xxx", "v_xxx", "u_x", "u_y", "u_xx",
                                              "u_xy", "u_yy")}
ROT3 = [{"u": "-v", "v": "u"}, {"x": "v", "v": "-x"}, {"x": "-u", "u": "x"}]
SE3_CURVES = (["x"], ["u", "v"], [{"x": "1"}, {"u": "1"}, {"v": "1"}] + ROT3)
SE3_SURFACES = (["x", "y"], ["u"], [{"x": "1"}, {"y": "1"}, {"u": "1"}, {"x": "-y", "y": "x"}, {"x": "u", "u": "-x"},
                                    {"y": "-u", "u": "y"}])
SO3_R3 = (["t"], ["x", "y", "z"], [{"y": "-z", "z": "y"}, {"x": "z", "z": "-x"}, {"x": "-y", "y": "x"}])
SO3_EMBEDDED = (["x"], ["y", "z"], [{"y": "-z", "z": "y"}, {"x": "z", "z": "-x"}, {"x": "-y", "y": "x"}])

CASES = {
    "SE(3) on space curves": (SE3_CURVES, 4, (0, 0, 1, 3, 5)),
    "SE(3) on surfaces": (SE3_SURFACES, 3, (0, 0, 2, 6)),
    "SO(3) on R^3 (curves in t)": (SO3_R3, 2, (2, 4, 7)),
    "SO(3) on the embedded sphere": (SO3_EMBEDDED, 3, (1, 2, 4, 6)),
}


@functools.lru_cache(maxsize=None)
def computed(name):
    (ind, dep, gens), order, _ = CASES[name]
    action = lie_action(ind, dep, gens)
    t = time.perf_counter()
    inv = differential_invariants(action, order, timeout=300)
    return action, inv, time.perf_counter() - t


def _exact_rank(M, coords, seed):
    rnd = random.Random(seed)
    pt = {s: sympy.Rational(rnd.randint(-40, 40), rnd.randint(1, 9)) for s in coords}
    return sympy.Matrix(M).xreplace(pt).rank()


@pytest.mark.parametrize("name", sorted(CASES))
def test_counts_equal_jet_dimension_minus_exact_orbit_rank(name):
    action, inv, _ = computed(name)
    (_, _, _), order, expected = CASES[name]
    assert inv.counts == expected
    for k in range(order + 1):
        jet = action.jet
        dim = jet.p + jet.q * math.comb(jet.p + k, k)
        rank = max(_exact_rank(action.matrix(k), jet.coordinates(k), seed) for seed in (1, 2))
        assert inv.counts[k] == dim - rank, (name, k)
        assert len(inv.all(k)) == inv.counts[k]


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if "surfaces" in n else n for n in sorted(CASES)])
def test_every_invariant_annihilated_exactly_by_the_prolonged_generators(name):
    # symbolic cancellation for the small ones; for the large ones the exact value at rational points
    # (exact rational arithmetic: a non-zero rational function vanishes there with probability 0)
    action, inv, _ = computed(name)
    rnd = random.Random(11)
    for k in range(inv.order + 1):
        coords = action.jet.coordinates(k)
        for I in inv.invariants[k]:
            for a in range(action.r):
                img = action.apply(a, I, k)
                if sympy.count_ops(I) < 150:
                    assert sympy.cancel(sympy.together(img)) == 0, (name, I, a)
                else:
                    for _ in range(2):
                        pt = {s: sympy.Rational(rnd.randint(1, 60), rnd.randint(1, 13)) for s in coords}
                        assert img.xreplace(pt) == 0, (name, a)


def _dependent_on(inv, targets, order):
    """Exact rank of the Jacobian of (returned set + targets) equals that of the returned set."""
    coords = inv.action.jet.coordinates(order)
    base = inv.all(order)
    J0 = [[sympy.diff(f, c) for c in coords] for f in base]
    J1 = J0 + [[sympy.diff(f, c) for c in coords] for f in targets]
    for seed in (3, 4):
        rnd = random.Random(seed)
        pt = {s: sympy.Rational(rnd.randint(1, 40), rnd.randint(1, 9)) for s in coords}
        r0 = sympy.Matrix(J0).xreplace(pt).rank()
        r1 = sympy.Matrix(J1).xreplace(pt).rank()
        assert r0 == len(base) and r1 == r0


def test_curvature_and_torsion_are_functions_of_the_returned_set():
    _, inv, _ = computed("SE(3) on space curves")
    ux, vx, uxx, vxx, uxxx, vxxx = (S[n] for n in ("u_x", "v_x", "u_xx", "v_xx", "u_xxx", "v_xxx"))
    r1, r2, r3 = sympy.Matrix([1, ux, vx]), sympy.Matrix([0, uxx, vxx]), sympy.Matrix([0, uxxx, vxxx])
    cross = r1.cross(r2)
    kappa2 = cross.dot(cross) / r1.dot(r1) ** 3  # curvature squared (do Carmo, §1-5)
    tau = sympy.Matrix.hstack(r1, r2, r3).det() / cross.dot(cross)  # torsion
    _dependent_on(inv, [kappa2], 2)
    _dependent_on(inv, [kappa2, tau], 3)


def test_gaussian_and_mean_curvature_are_functions_of_the_returned_set():
    _, inv, _ = computed("SE(3) on surfaces")
    ux, uy, uxx, uxy, uyy = (S[n] for n in ("u_x", "u_y", "u_xx", "u_xy", "u_yy"))
    g = 1 + ux**2 + uy**2
    K = (uxx * uyy - uxy**2) / g**2
    H = ((1 + uy**2) * uxx - 2 * ux * uy * uxy + (1 + ux**2) * uyy) / (2 * g ** sympy.Rational(3, 2))
    _dependent_on(inv, [K, H**2], 2)


def test_rotation_cases_use_the_ansatz_route_and_finish_in_seconds():
    for name in CASES:
        _, inv, seconds = computed(name)
        assert inv.method == "ansatz", name
        assert seconds < 120, (name, seconds)  # generous on a loaded machine; benchmarks/invariants.py times them
