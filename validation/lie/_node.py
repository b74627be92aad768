"""Numerical checks of differential invariants and equivariant neural ODEs.

* :func:`invariance_residuals` — ``|I(g·z) - I(z)|`` for random jet points and group elements,
  with the round-off scale ``eps * (sum_j |dI/dz_j| |z_j| at z and at g·z + |I|)`` of each point:
  the first-order error of evaluating ``I`` in float64 when every input carries a relative error of
  order ``eps`` (the transformed point itself is computed to a few ulp).
* :func:`node_equivariance` — ``|flow(g·z0) - g·flow(z0)|`` of a compiled NODE.
* :func:`compare_nodes` — an SO(2)-equivariant NODE and a plain MLP NODE trained on the same
  trajectories of an equivariant system (from initial conditions in one angular sector), tested
  on rotated initial conditions.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int
from nntheory.errors import NNTheoryError, SpecError
from nntheory.numerics.lie import EquivariantNODE, PlainNODE, SecondOrderNODE, compile_group_action, compile_invariants, rk4_solve
from nntheory.theory.lie import InvariantSet, equivariant_fields, lie_action

__all__ = ["NodeComparison", "compare_nodes", "invariance_residuals", "node_equivariance"]

#: the equivariant NODE passes when its rotated-test MSE is below the plain NODE's by more than
#: this many combined standard errors
PASS_SIGMAS = 4.0


def _require_x64(where: str) -> None:
    """Raise unless JAX runs in float64 (the checks below are calibrated to float64 round-off)."""
    if not jax.config.jax_enable_x64:
        raise NNTheoryError(
            f"{where}: needs float64; call jax.config.update('jax_enable_x64', True) first "
            "(nntheory does not change JAX's global configuration)."
        )


def invariance_residuals(inv: InvariantSet, *, n_points: int = 256, scale: float = 0.3, seed: int = 0,
                         order: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(residual, roundoff_scale)``, each of shape ``(n_points, n_invariants)``.

    Jet points are standard normal; group parameters are ``scale`` times standard normal (near the
    identity for small ``scale``: high-order jets of far elements are badly conditioned).
    Points where an invariant is not finite (off its real domain) are dropped, and so are elements
    that reverse the orientation of the graph (``det(D_j X^i) <= 0``), where a differential
    invariant may change sign (the action on jets is local).

    Args:
        inv: the invariant set to check.
        n_points: the number of random jet points (one group element each).
        scale: the standard deviation of the group parameters.
        seed: the seed of the NumPy generator.
        order: the highest order of the invariants (default ``inv.order``).

    Returns:
        ``(residual, roundoff_scale)``: float64 NumPy arrays of shape ``(n_kept, n_invariants)``, ``n_kept <=
        n_points`` after the dropped points; ``residual = |I(g·z) - I(z)|`` and ``roundoff_scale`` its
        float64 round-off scale, entry by entry.

    Raises:
        NNTheoryError: if JAX does not run in float64.
    """
    _require_x64("invariance_residuals")
    order = inv.order if order is None else order
    I = compile_invariants(inv, order)
    act = compile_group_action(inv.action, order)
    n = len(inv.action.jet.coordinates(order))
    rng = np.random.default_rng(seed)
    z = jnp.asarray(rng.normal(size=(n_points, n)))
    g = jnp.asarray(scale * rng.normal(size=(n_points, inv.action.r)))
    gz = act(g, z)
    keep = jnp.ones(n_points, bool)
    jet = inv.action.jet
    if jet.q and order >= 1:
        # the prolonged action is a local one: keep elements that preserve the orientation of the graph,
        # det(D_j X^i) > 0 (past it the jets pass through a pole, and e.g. the curvature changes sign)
        act0 = compile_group_action(inv.action, 0)
        nb, pp = len(jet.base), jet.p
        cols = [jet.coordinates(1).index(jet.symbol(a, (j,))) for a in range(jet.q) for j in range(pp)]

        def det_t(gg, zz):
            Jb = jax.jacfwd(act0, argnums=1)(gg, zz[:nb])
            U1 = zz[jnp.asarray(cols)].reshape(jet.q, pp)
            return jnp.linalg.det(Jb[:pp, :pp] + Jb[:pp, pp:] @ U1)

        keep = jax.vmap(det_t)(g, z) > 0
    I0, I1 = I(z), I(gz)
    jac = jax.vmap(jax.jacfwd(I))
    J0, J1 = jac(z), jac(gz)
    eps = float(jnp.finfo(jnp.float64).eps)
    cond = jnp.sum(jnp.abs(J0) * jnp.abs(z)[:, None, :], -1) + jnp.sum(jnp.abs(J1) * jnp.abs(gz)[:, None, :], -1) + jnp.abs(I0)
    res = np.asarray(jnp.abs(I1 - I0))
    sc = np.asarray(eps * cond)
    ok = np.all(np.isfinite(res) & np.isfinite(sc), axis=1) & np.asarray(keep)
    return res[ok], sc[ok]


def node_equivariance(node, params, z0, ts, group_elements) -> float:
    """``max |flow(R z0) - R flow(z0)|`` over the given linear group elements ``R`` (matrices).

    Args:
        node: a NODE with ``solve(params, z0, ts)`` (e.g. :class:`~nntheory.numerics.EquivariantNODE`).
        params: its parameters.
        z0: the initial state, shape ``(n,)``.
        ts: the output times.
        group_elements: ``(n, n)`` matrices ``R``.

    Returns:
        The largest absolute deviation over all times, entries and elements, a float (0.0 for no elements).
    """
    zt = node.solve(params, z0, ts)
    worst = 0.0
    for R in group_elements:
        R = jnp.asarray(R)
        worst = max(worst, float(jnp.max(jnp.abs(node.solve(params, R @ z0, ts) - zt @ R.T))))
    return worst


@dataclass(frozen=True)
class NodeComparison:
    """Result of :func:`compare_nodes`; every dict is keyed by model, ``"equivariant"`` and ``"plain"``.

    Attributes:
        train_mse: mean squared error on the training trajectories.
        test_mse: mean squared error on the rotated test trajectories.
        test_se: standard error of ``test_mse`` over test trajectories.
        seconds: wall time of the comparison.
        settings: the arguments of :func:`compare_nodes` and the sampling laws.
        equivariance_error: ``max |flow(R z0) - R flow(z0)|`` of the trained equivariant NODE over 8
            random rotations ``R`` (block-diagonal on ``(x, x')``) and 4 test states: round-off.
    """

    train_mse: dict
    test_mse: dict
    test_se: dict
    seconds: float
    settings: dict
    equivariance_error: float | None = None

    @property
    def gap(self) -> float:
        """Plain minus equivariant rotated-test MSE (positive when the equivariant NODE generalises better)."""
        return self.test_mse["plain"] - self.test_mse["equivariant"]

    @property
    def gap_se(self) -> float:
        """Combined standard error of :attr:`gap`, ``sqrt(se_equivariant^2 + se_plain^2)``."""
        return (self.test_se["equivariant"] ** 2 + self.test_se["plain"] ** 2) ** 0.5

    @property
    def gap_in_se(self) -> float:
        """:attr:`gap` in units of :attr:`gap_se`."""
        return self.gap / self.gap_se

    @property
    def passed(self) -> bool:
        """The pass rule: the equivariant NODE's rotated-test MSE is lower than the plain NODE's by
        more than ``PASS_SIGMAS`` (4) combined standard errors."""
        return bool(self.gap > PASS_SIGMAS * self.gap_se)

    def table(self) -> str:
        """One line per model: train MSE, rotated-test MSE and its standard error."""
        lines = [f"{'model':<12} {'train MSE':>12} {'rotated test MSE':>18} {'± SE':>10}"]
        for m in self.train_mse:
            lines.append(f"{m:<12} {self.train_mse[m]:>12.3e} {self.test_mse[m]:>18.3e} {self.test_se[m]:>10.1e}")
        return "\n".join(lines)


def _true_field(z):
    r2 = jnp.sum(z**2, -1, keepdims=True)
    Jz = jnp.stack([-z[..., 1], z[..., 0]], -1)
    return (1 - r2) * z + (1 + 0.5 * r2) * Jz


def _true_second_order(z):
    x, v = z[..., :2], z[..., 2:]
    r2 = jnp.sum(x**2, -1, keepdims=True)
    Jv = jnp.stack([-v[..., 1], v[..., 0]], -1)
    return jnp.concatenate([v, -(1 + r2) * x + 0.4 * Jv - 0.1 * v], -1)


def compare_nodes(*, n_train: int = 32, n_test: int = 256, steps: int = 400, hidden: tuple[int, ...] = (32, 32),
                  t_max: float = 2.0, n_times: int = 11, lr: float = 3e-3, seed: int = 0, order: int = 1,
                  verbose: bool = True, group: str = "SO(2)") -> NodeComparison:
    """Train an SO(2)- (or SO(3)-) equivariant NODE and a plain NODE on the same data; test under rotations.

    ``order=1``: the true system is ``z' = (1 - r^2) z + (1 + r^2/2) J z`` (a rotating limit cycle),
    learnt by :class:`EquivariantNODE` against :class:`PlainNODE`. ``order=2``: a damped anharmonic
    central force with a magnetic term, ``x'' = -(1 + |x|^2) x + 0.4 J x' - 0.1 x'``, learnt by the
    augmented :class:`SecondOrderNODE` (MLPs of the first-order invariants ``|x|``, ``x.x'/|x|``,
    ``x^x'/|x|`` times the vertical fields ``x``, ``x'``) against ``PlainNODE(4, second_order=True)``.
    Training initial states are rotated by angles in ``[0, pi/3]`` (radii in ``[0.3, 1.6]``;
    second order: velocities in ``[-0.5, 0.5]^2`` before rotation); the test set is the same law
    rotated by uniform random angles. MSE over all trajectory points (the whole state); the test SE
    is the standard error over test trajectories.

    ``group="SO(3)"``: the same on ``R^3`` with the rotation group (equivariant fields from
    :func:`~nntheory.theory.equivariant_fields` of the three rotation generators; second order from
    their tangent lift, whose vertical fields include ``x`` x ``x'``). ``order=1``: the radial system
    ``z' = (1 - r^2) z`` (the only SO(3)-equivariant fields are radial); ``order=2``:
    ``x'' = -(1 + |x|^2) x + 0.4 x`` x ``x' - 0.1 x'``. Training states: directions in the cone of
    half-angle ``pi/3`` about ``e_3`` (second order: the velocity rotated with them), test states
    rotated by Haar-random rotations.

    ``group="SO(3) on S2"`` (``order=2`` only: the only SO(3)-equivariant tangent field on the sphere
    is 0): motion on the unit sphere, ``x'' = -|x'|^2 x + 0.4 x`` x ``x' - 0.1 x'`` (geodesic flow with a
    magnetic term and friction; ``|x| = 1`` and ``x.x' = 0`` are preserved), states ``(R e_3, R w)`` with
    ``w`` in ``[-0.5, 0.5]^2 x {0}``, the same two models as for ``"SO(3)"`` order 2.

    Args:
        n_train: training trajectories; n_test: test trajectories.
        steps: Adam steps; hidden: MLP widths; lr: learning rate; seed: seed of data and initialisation.
        t_max, n_times: the trajectory times ``linspace(0, t_max, n_times)``.
        order: 1 (first-order NODE) or 2 (second-order NODE).
        verbose: training progress on stderr.
        group: ``"SO(2)"`` (on ``R^2``), ``"SO(3)"`` (on ``R^3``) or ``"SO(3) on S2"`` (on the sphere).

    Returns:
        A :class:`NodeComparison`; its ``passed`` property is the pass rule of ``nntheory validate node``.

    Raises:
        SpecError: ``order`` not 1 or 2 (2 for the sphere), or ``group`` not one of the three.
        NNTheoryError: JAX not in float64 mode (``jax_enable_x64`` off).
    """
    order = check_int(order, "order", lo=1, hi=2, where="compare_nodes", error=SpecError)
    if group not in ("SO(2)", "SO(3)", "SO(3) on S2"):
        raise SpecError(f"group: 'SO(2)', 'SO(3)' or 'SO(3) on S2', got {group!r}.")
    if group == "SO(3) on S2" and order != 2:
        raise SpecError("order: group 'SO(3) on S2' takes order=2 (the only SO(3)-equivariant tangent field on the "
                        "sphere is 0, so a first-order equivariant NODE there is trivial).")
    _require_x64("compare_nodes")
    t0 = time.time()
    rng = np.random.default_rng(seed)
    ts = jnp.linspace(0.0, t_max, n_times)
    if group == "SO(2)":
        law = _true_field if order == 1 else _true_second_order
        z_tr, z_te = _initial_states(rng, n_train, False, order), _initial_states(rng, n_test, True, order)
    elif group == "SO(3)":
        law = _true_field_so3 if order == 1 else _true_second_order_so3
        z_tr, z_te = _initial_states_so3(rng, n_train, False, order), _initial_states_so3(rng, n_test, True, order)
    else:
        law = _true_second_order_sphere
        z_tr, z_te = _initial_states_sphere(rng, n_train, False), _initial_states_sphere(rng, n_test, True)
    truth = jax.vmap(lambda z0: rk4_solve(lambda z, t: law(z), z0, ts, 32))
    y_tr, y_te = truth(z_tr), truth(z_te)
    train_mse, test_mse, test_se = {}, {}, {}
    equiv_err = None
    for name, model in (_models(order, hidden) if group == "SO(2)" else _models_so3(order, hidden)).items():
        params, train_mse[name] = _train(name, model, ts, z_tr, y_tr, lr=lr, steps=steps, seed=seed, verbose=verbose)
        if name == "equivariant":
            equiv_err = _equivariance_error(model, params, z_te[:4], ts, "SO(2)" if group == "SO(2)" else "SO(3)", order, rng)
        per = jnp.mean((jax.vmap(lambda a: model.solve(params, a, ts))(z_te) - y_te) ** 2, axis=(1, 2))
        test_mse[name] = float(jnp.mean(per))
        test_se[name] = float(jnp.std(per, ddof=1) / math.sqrt(n_test))
    settings = dict(group=group, order=order, n_train=n_train, n_test=n_test, steps=steps, hidden=list(hidden), t_max=t_max, n_times=n_times,
                    lr=lr, seed=seed, train_angles="[0, pi/3]", test_angles="[0, 2 pi)",
                    radii="1" if group == "SO(3) on S2" else "[0.3, 1.6]")
    return NodeComparison(train_mse, test_mse, test_se, time.time() - t0, settings, equiv_err)


def _equivariance_error(model, params, z0s, ts, group: str, order: int, rng: np.random.Generator) -> float:
    """``max |flow(R z0) - R flow(z0)|`` over 8 random rotations and the given initial states."""
    if group == "SO(2)":
        th = rng.uniform(0, 2 * math.pi, 8)
        Rs = [np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]) for t in th]
    else:
        Rs = list(_rotations(rng, 8, True))
    if order == 2:
        Rs = [np.block([[R, np.zeros_like(R)], [np.zeros_like(R), R]]) for R in Rs]
    return max(node_equivariance(model, params, z0, ts, Rs) for z0 in z0s)


def _true_field_so3(z):
    r2 = jnp.sum(z**2, -1, keepdims=True)
    return (1 - r2) * z


def _true_second_order_so3(z):
    x, v = z[..., :3], z[..., 3:]
    r2 = jnp.sum(x**2, -1, keepdims=True)
    return jnp.concatenate([v, -(1 + r2) * x + 0.4 * jnp.cross(x, v) - 0.1 * v], -1)


def _true_second_order_sphere(z):
    x, v = z[..., :3], z[..., 3:]
    v2 = jnp.sum(v**2, -1, keepdims=True)
    return jnp.concatenate([v, -v2 * x + 0.4 * jnp.cross(x, v) - 0.1 * v], -1)


def _initial_states_sphere(rng: np.random.Generator, n: int, full: bool) -> jax.Array:
    """``n`` states on the tangent bundle of the unit sphere: ``(R e_3, R w)``, ``w`` in
    ``[-0.5, 0.5]^2 x {0}``, ``R`` from :func:`_rotations`."""
    R = _rotations(rng, n, full)
    x = R @ np.array([0.0, 0.0, 1.0])
    w = np.concatenate([rng.uniform(-0.5, 0.5, (n, 2)), np.zeros((n, 1))], 1)
    return jnp.asarray(np.concatenate([x, np.einsum("nij,nj->ni", R, w)], 1))


def _rotations(rng: np.random.Generator, n: int, full: bool) -> np.ndarray:
    """``n`` rotation matrices: Haar-random (``full``), else taking ``e_3`` into the cone of half-angle
    ``pi/3`` about it (uniform azimuth and spin)."""
    if full:
        q = rng.normal(size=(n, 4))
    else:
        half = rng.uniform(0, math.pi / 6, n)  # rotation angle <= pi/3 about a horizontal axis
        az = rng.uniform(0, 2 * math.pi, n)
        q = np.stack([np.cos(half), np.sin(half) * np.cos(az), np.sin(half) * np.sin(az), np.zeros(n)], 1)
        spin = rng.uniform(0, math.pi, n)  # then a spin about e_3 (applied first)
        p = np.stack([np.cos(spin), np.zeros(n), np.zeros(n), np.sin(spin)], 1)
        w1, x1, y1, z1 = q.T
        w2, x2, y2, z2 = p.T
        q = np.stack([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                      w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2], 1)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], 1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], 1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], 1),
    ], 1)


def _initial_states_so3(rng: np.random.Generator, n: int, full: bool, order: int) -> jax.Array:
    """``n`` initial states on ``R^3`` (``TR^3`` for ``order=2``): a fixed law (radius in ``[0.3, 1.6]``
    along ``e_3``; velocity in ``[-0.5, 0.5]^3``) rotated by :func:`_rotations`."""
    R = _rotations(rng, n, full)
    r = rng.uniform(0.3, 1.6, n)
    x = R @ np.array([0.0, 0.0, 1.0]) * r[:, None]
    if order == 1:
        return jnp.asarray(x)
    v = np.einsum("nij,nj->ni", R, rng.uniform(-0.5, 0.5, (n, 3)))
    return jnp.asarray(np.concatenate([x, v], 1))


def _models_so3(order: int, hidden: tuple[int, ...]) -> dict:
    """The SO(3)-equivariant NODE and the plain baseline of the given order on ``R^3``."""
    so3 = lie_action(["x", "y", "z"], [], [{"y": "-z", "z": "y"}, {"x": "z", "z": "-x"}, {"x": "-y", "y": "x"}])
    if order == 1:
        return {"equivariant": EquivariantNODE(equivariant_fields(so3), hidden=hidden, steps=4),
                "plain": PlainNODE(3, hidden=hidden, steps=4)}
    return {"equivariant": SecondOrderNODE.from_action(so3, max_degree=2, hidden=hidden, steps=4),
            "plain": PlainNODE(6, second_order=True, hidden=hidden, steps=4)}


def _initial_states(rng: np.random.Generator, n: int, full: bool, order: int) -> jax.Array:
    """``n`` initial states: angles in ``[0, pi/3]`` (``full``: ``[0, 2 pi)``), radii in ``[0.3, 1.6]``;
    for ``order=2`` also velocities in ``[-0.5, 0.5]^2`` rotated with the position."""
    th = rng.uniform(0, 2 * math.pi if full else math.pi / 3, n)
    r = rng.uniform(0.3, 1.6, n)
    c, s = np.cos(th), np.sin(th)
    x = np.stack([r * c, r * s], 1)
    if order == 1:
        return jnp.asarray(x)
    a, b = rng.uniform(-0.5, 0.5, (2, n))
    return jnp.asarray(np.concatenate([x, np.stack([c * a - s * b, s * a + c * b], 1)], 1))


def _models(order: int, hidden: tuple[int, ...]) -> dict:
    """The SO(2)-equivariant NODE and the plain baseline of the given order."""
    so2 = lie_action(["x", "y"], [], [{"x": "-y", "y": "x"}])
    if order == 1:
        return {"equivariant": EquivariantNODE(equivariant_fields(so2), hidden=hidden, steps=4),
                "plain": PlainNODE(2, hidden=hidden, steps=4)}
    return {"equivariant": SecondOrderNODE.from_action(so2, hidden=hidden, steps=4),
            "plain": PlainNODE(4, second_order=True, hidden=hidden, steps=4)}


def _train(name: str, model, ts, z_tr, y_tr, *, lr: float, steps: int, seed: int, verbose: bool):
    """``(params, train_mse)`` after ``steps`` full-batch Adam steps on the trajectory MSE."""
    import optax

    params = model.init(jax.random.key(seed))
    opt = optax.adam(lr)
    state = opt.init(params)

    def loss(p, z0, y):
        pred = jax.vmap(lambda a: model.solve(p, a, ts))(z0)
        return jnp.mean((pred - y) ** 2)

    @jax.jit
    def update(p, s):
        val, g = jax.value_and_grad(loss)(p, z_tr, y_tr)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, val

    for i in range(steps):
        params, state, val = update(params, state)
        if verbose and (i + 1) % max(1, steps // 4) == 0:
            print(f"  {name}: step {i + 1}/{steps} train MSE {float(val):.3e}", file=sys.stderr)
    return params, float(loss(params, z_tr, y_tr))
