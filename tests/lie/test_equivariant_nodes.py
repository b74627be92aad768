"""Equivariant vector fields, compiled invariants and equivariant neural ODEs (JAX, float64)."""

from __future__ import annotations

import functools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from nntheory.numerics import EquivariantNODE, PlainNODE, SecondOrderNODE, compile_group_action, invariants_along, jet_of
from nntheory.theory import (
    InvariantError,
    differential_invariants,
    equivariant_fields,
    lie_action,
    tangent_lift,
)
from nntheory.theory.lie._actions import _bracket
from nntheory.validation.lie import compare_nodes, invariance_residuals, node_equivariance
from nntheory.errors import SpecError

jax.config.update("jax_enable_x64", True)
X, Y, Z = (sympy.Symbol(n, real=True) for n in "xyz")
SO2 = [{"x": "-y", "y": "x"}]
SO3 = [{"y": "-z", "z": "y"}, {"x": "z", "z": "-x"}, {"x": "-y", "y": "x"}]


@functools.lru_cache(maxsize=None)
def fields(name):
    if name == "so2":
        return equivariant_fields(lie_action(["x", "y"], [], SO2))
    if name == "so3":
        return equivariant_fields(lie_action(["x", "y", "z"], [], SO3))
    return equivariant_fields(lie_action(["x", "y"], [], [{"x": "1"}, {"y": "1"}, *SO2]))


@functools.lru_cache(maxsize=None)
def curve_invariants(name, order):
    gens = {
        "se2": [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}],
        "sa2": [{"x": "1"}, {"u": "1"}, {"u": "x"}, {"x": "u"}, {"x": "x", "u": "-u"}],
        "proj": [{"u": "1"}, {"u": "u"}, {"u": "u**2"}],
    }[name]
    return differential_invariants(lie_action(["x"], ["u"], gens), order)


def test_module_ranks_so2_so3_se2():
    f2 = fields("so2")
    assert f2.rank == 2 and f2.isotropy_dimension == 0
    # every field is (F0 x + F1 J x)/r^2: the basis spans {x, Jx} pointwise with invariant coefficients
    M = sympy.Matrix([[X, -Y], [Y, X]])  # columns x and Jx
    for Yk in f2.basis:
        coef = sympy.simplify(M.inv() * sympy.Matrix(Yk))
        for c in coef:
            assert sympy.simplify(c.diff(X) * -Y + c.diff(Y) * X) == 0  # rotation invariant coefficient
    f3 = fields("so3")
    assert f3.rank == 1 and f3.isotropy_dimension == 1
    (b,) = f3.basis
    assert sympy.simplify(sympy.Matrix(b).cross(sympy.Matrix([X, Y, Z]))) == sympy.zeros(3, 1)  # f = a(|x|) x
    se2 = fields("se2")
    assert se2.rank == 0 and se2.basis == () and "only equivariant vector field is 0" in se2.message
    for f in (f2, f3):
        for g in f.action.generators:
            for Yk in f.basis:
                assert all(e == 0 for e in _bracket(f.action.jet.base, g, Yk))


def test_second_order_fields_from_the_tangent_lift():
    lifted = tangent_lift(lie_action(["x", "y"], [], SO2))
    inv = differential_invariants(lifted, 0)
    assert inv.counts == (3,)  # |x|, |v| and x.v / x^v: dim TM - 1
    vert = equivariant_fields(lifted, components=[2, 3], max_degree=1)
    assert vert.rank == 2 and len(vert.basis) == 2
    with pytest.raises(InvariantError, match="not affine"):
        tangent_lift(lie_action(["x"], [], [{"x": "1"}, {"x": "x"}, {"x": "x**2"}]))


@pytest.mark.parametrize("name, order, scale", [("se2", 4, 0.5), ("sa2", 4, 0.1), ("proj", 4, 0.2)])
def test_compiled_invariants_invariant_to_roundoff(name, order, scale):
    """|I(g z) - I(z)| <= 64 eps (sum_j |dI/dz_j||z_j| at z and g z + |I|): the first-order float64
    evaluation error of I when every coordinate is known to a few ulp (64 covers the operation count)."""
    inv = curve_invariants(name, order)
    res, sc = invariance_residuals(inv, n_points=200, scale=scale, seed=1)
    assert res.shape[0] >= 100
    assert np.all(res <= 64 * sc), float(np.max(res / sc))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.01, 0.6))
def test_hypothesis_random_points_and_group_elements_se2(seed, scale):
    res, sc = invariance_residuals(curve_invariants("se2", 3), n_points=16, scale=scale, seed=seed)
    assert np.all(res <= 64 * sc)


def test_jets_by_taylor_mode_give_circle_curvature():
    inv = curve_invariants("se2", 3)
    for R in (0.5, 2.0, 7.0):
        for x0 in (-0.3 * R, 0.1 * R, 0.6 * R):
            k, ks = np.asarray(invariants_along(inv, lambda t: jnp.sqrt(R**2 - t**2), x0))
            assert abs(k + 1 / R) <= 1e-13 / R and abs(ks) <= 1e-12 / R**2  # upper half circle: kappa = -1/R
    # two independent variables: jets by nested forward mode against hand derivatives
    so2f = differential_invariants(lie_action(["x", "y"], ["u"], SO2), 2)
    z = np.asarray(jet_of(lambda p: jnp.sin(p[0]) * p[1] ** 2, jnp.array([0.3, 0.8]), 2, so2f.action.jet))
    s, c = math.sin(0.3), math.cos(0.3)
    ref = [0.3, 0.8, s * 0.64, c * 0.64, 2 * s * 0.8, -s * 0.64, 2 * c * 0.8, 2 * s]
    np.testing.assert_allclose(z, ref, rtol=1e-14, atol=1e-15)


def _rot(t):
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), theta=st.floats(-math.pi, math.pi))
def test_equivariant_node_commutes_with_rotations(seed, theta):
    node = EquivariantNODE(fields("so2"), hidden=(16,))
    params = node.init(jax.random.key(seed))
    z0 = jnp.asarray(np.random.default_rng(seed).normal(size=2))
    ts = jnp.linspace(0.0, 1.0, 6)
    scale = float(jnp.max(jnp.abs(node.solve(params, z0, ts)))) + 1.0
    # RK4: every stage is equivariant, so round-off only (stated bound: 1e-13 relative to the state)
    assert node_equivariance(node, params, z0, ts, [_rot(theta)]) <= 1e-13 * scale


def test_adaptive_solver_equivariant_to_its_tolerance_and_so3_node():
    node = EquivariantNODE(fields("so2"), hidden=(16,), solver="dopri5", rtol=1e-9, atol=1e-11)
    params = node.init(jax.random.key(3))
    z0, ts = jnp.array([0.4, -1.1]), jnp.linspace(0.0, 1.0, 5)
    assert node_equivariance(node, params, z0, ts, [_rot(0.7), _rot(2.5)]) <= 1e-6
    node3 = EquivariantNODE(fields("so3"), hidden=(8,))
    p3 = node3.init(jax.random.key(1))
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    Q = Q * np.sign(np.linalg.det(Q))
    assert node_equivariance(node3, p3, jnp.array([0.3, -0.2, 0.9]), ts, [Q]) <= 1e-13


def test_group_action_matches_rotation_matrix():
    act = compile_group_action(lie_action(["x", "y"], [], SO2))
    z = jnp.array([0.3, -1.2])
    np.testing.assert_allclose(np.asarray(act(jnp.array([0.8]), z)), _rot(0.8) @ np.asarray(z), rtol=1e-15, atol=1e-15)


def test_trained_equivariant_node_generalises_to_rotated_data():
    cmp = compare_nodes(n_train=24, n_test=128, steps=150, hidden=(24, 24), verbose=False)
    se = math.hypot(cmp.test_se["equivariant"], cmp.test_se["plain"])
    # on rotated initial conditions the plain NODE is worse by many standard errors
    assert cmp.test_mse["plain"] - cmp.test_mse["equivariant"] > 4 * se
    # the equivariant NODE does as well on rotated data as on its training sector (within 4 SE + 50%)
    assert cmp.test_mse["equivariant"] <= 1.5 * cmp.train_mse["equivariant"] + 4 * cmp.test_se["equivariant"]


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 1000), theta=st.floats(-math.pi, math.pi), shift=st.floats(-2, 2))
def test_second_order_nodes_commute_with_the_lifted_group(seed, theta, shift):
    """x'' = sum F_k(I(x, x')) Y_k: SO(2) (fields x, Jx, x', Jx') and SE(2) (fields x', Jx' only:
    translations leave no position dependence) act on (x, x') by (R x + b, R x'); RK4 commutes with
    them to round-off (stated bound 1e-13 relative to the state)."""
    so2 = SecondOrderNODE.from_action(lie_action(["x", "y"], [], SO2), hidden=(16,))
    gens = {tuple(str(c) for c in Yk) for Yk in so2.fields.generators}
    assert gens == {("0", "0", "x", "y"), ("0", "0", "-y", "x"), ("0", "0", "x_t", "y_t"), ("0", "0", "-y_t", "x_t")}
    assert so2.fields.rank == 2 and len(so2.fields.basis) == 2
    se2 = SecondOrderNODE.from_action(lie_action(["x", "y"], [], [{"x": "1"}, {"y": "1"}, *SO2]), hidden=(16,))
    assert se2.fields.rank == 2 and all(Yk[0] == 0 and Yk[1] == 0 and not ({X, Y} & set().union(*(sympy.sympify(c).free_symbols for c in Yk)))
                                        for Yk in se2.fields.generators)
    rng = np.random.default_rng(seed)
    z0 = jnp.asarray(rng.normal(size=4))
    ts = jnp.linspace(0.0, 1.0, 6)
    R = _rot(theta)
    for node, b in ((so2, np.zeros(2)), (se2, np.array([shift, -0.5 * shift]))):
        params = node.init(jax.random.key(seed))
        g = lambda z: jnp.concatenate([z[..., :2] @ R.T + b, z[..., 2:] @ R.T], -1)  # noqa: E731
        zt = node.solve(params, z0, ts)
        scale = float(jnp.max(jnp.abs(zt))) + 1.0 + abs(shift)
        assert float(jnp.max(jnp.abs(node.solve(params, g(z0), ts) - g(zt)))) <= 1e-13 * scale


def test_second_order_nodes_refuse_bad_input():
    with pytest.raises(ValueError, match="even dimension"):
        PlainNODE(3, second_order=True)
    with pytest.raises(InvariantError, match="tangent lift"):
        SecondOrderNODE(fields=fields("so2"))
    with pytest.raises(ValueError, match="frame"):
        EquivariantNODE(fields("so2"), frame="moving")


def test_trained_second_order_node_generalises_to_rotated_data():
    """Augmented NODE on x'' = -(1 + |x|^2) x + 0.4 J x' - 0.1 x' against a plain second-order MLP."""
    cmp = compare_nodes(order=2, n_train=24, n_test=128, steps=150, hidden=(24, 24), verbose=False)
    se = math.hypot(cmp.test_se["equivariant"], cmp.test_se["plain"])
    assert cmp.test_mse["plain"] - cmp.test_mse["equivariant"] > 4 * se
    assert cmp.test_mse["equivariant"] <= 1.5 * cmp.train_mse["equivariant"] + 4 * cmp.test_se["equivariant"]


def test_cli_invariants_json_text_and_errors(cli, tmp_path):
    spec = {"independent": ["x"], "dependent": ["u"], "generators": [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}]}
    path = tmp_path / "se2.json"
    path.write_text(json.dumps(spec))
    r = cli("invariants", str(path), "--order", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["orders"]["2"]["count"] == 1 and out["orders"]["3"]["count"] == 2
    names = {s: sympy.Symbol(s, real=True) for s in ("x", "u", "u_x", "u_xx", "u_xxx")}
    kappa = sympy.parse_expr(out["orders"]["2"]["invariants"][0], local_dict=names)
    assert sympy.simplify(kappa**2 - names["u_xx"] ** 2 / (1 + names["u_x"] ** 2) ** 3) == 0
    r = cli("invariants", str(path), "--order", "2", "--method", "characteristics")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["method"] == "characteristics"
    kappa_c = sympy.parse_expr(out["orders"]["2"]["invariants"][0], local_dict=names)
    assert sympy.simplify(kappa_c**2 - kappa**2) == 0
    r = cli("invariants", str(path), "--order", "2", "--format", "text", "--fields")
    assert r.returncode == 0 and "u_xx/(u_x**2 + 1)**(3/2)" in r.stdout and "equivariant fields: rank 0" in r.stdout
    for bad, msg in [
        ('{"independent": ["x"], "dependent": ["u"], "generators": [{"x": "1"}, {"u": "x**2"}]}', "do not close"),
        ('{"independent": ["x"], "generators": [{"x": "__import__(1)"}]}', "not allowed"),
        ('{"independent": ["x"], "dependent": ["u"], "generators": [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}]}', "first appear at order 2"),
        ("not json", "not valid JSON"),
    ]:
        r = cli("invariants", "-", "--order", "1", stdin=bad)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow  # five NODE comparisons (SO(2) and SO(3), orders 1 and 2; SO(3) on S2), each trained twice
def test_cli_validate_node_writes_results_and_refuses_foreign_options(cli, tmp_path):
    r = cli("validate", "node", "--steps", "10", "--n-nets", "4", "--out", str(tmp_path))
    assert r.returncode in (0, 1), r.stderr  # 10 steps need not pass; the job must run and report
    out = json.loads((tmp_path / "node.json").read_text())
    assert out["format_version"] == 1 and out["job"] == "node"
    assert set(out["results"]) == {"1", "2", "SO(3) order 1", "SO(3) order 2", "SO(3) on S2 order 2"}
    for row in out["results"].values():  # equivariant by construction: round-off whatever the training
        assert 0 <= row["equivariance_error"] < 1e-10
    assert "order 2" in (tmp_path / "node.txt").read_text() and "SO(3), order 2" in (tmp_path / "node.txt").read_text()
    r = cli("validate", "node", "--widths", "8,16,32", "--out", str(tmp_path))
    assert r.returncode == 2 and "not used by 'validate node'" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("order", [1, 2])
def test_trained_so3_equivariant_node_generalises_to_rotated_data(order):
    # SO(3) on R^3: trained on a cone of directions, tested on Haar-random rotations
    cmp = compare_nodes(n_train=16, n_test=64, steps=60, hidden=(24, 24), verbose=False, group="SO(3)", order=order)
    assert cmp.settings["group"] == "SO(3)"
    se = math.hypot(cmp.test_se["equivariant"], cmp.test_se["plain"])
    assert cmp.test_mse["plain"] - cmp.test_mse["equivariant"] > 4 * se
    assert cmp.equivariance_error < 1e-10  # equivariant by construction: float64 round-off


@pytest.mark.slow
def test_trained_so3_equivariant_node_on_the_sphere_generalises_to_rotated_data():
    # geodesic flow with a magnetic term on the unit sphere: trained on a cone, tested on Haar rotations
    cmp = compare_nodes(n_train=16, n_test=64, steps=60, hidden=(24, 24), verbose=False, group="SO(3) on S2", order=2)
    se = math.hypot(cmp.test_se["equivariant"], cmp.test_se["plain"])
    assert cmp.test_mse["plain"] - cmp.test_mse["equivariant"] > 4 * se
    assert cmp.equivariance_error < 1e-10  # equivariant by construction: float64 round-off


def test_sphere_states_stay_on_the_tangent_bundle_of_the_sphere():
    # the true law preserves |x| = 1 and x.v = 0: the data are a system on the sphere (RK4, 1e-8 over t in [0, 2])
    from nntheory.numerics.lie import rk4_solve
    from nntheory.validation.lie._node import _initial_states_sphere, _true_second_order_sphere

    z0 = _initial_states_sphere(np.random.default_rng(3), 8, True)
    ts = jnp.linspace(0.0, 2.0, 11)
    traj = jax.vmap(lambda z: rk4_solve(lambda y, t: _true_second_order_sphere(y), z, ts, 64))(z0)
    x, v = traj[..., :3], traj[..., 3:]
    assert float(jnp.max(jnp.abs(jnp.sum(x * x, -1) - 1))) < 1e-8
    assert float(jnp.max(jnp.abs(jnp.sum(x * v, -1)))) < 1e-8


def test_compare_nodes_refuses_unknown_group():
    with pytest.raises(SpecError, match="group"):
        compare_nodes(group="SE(3)", verbose=False)
    with pytest.raises(SpecError, match="order=2"):
        compare_nodes(group="SO(3) on S2", order=1, verbose=False)
