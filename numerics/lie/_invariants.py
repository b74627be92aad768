"""Differential invariants, group actions and equivariant neural ODEs in JAX.

Everything symbolic comes from :mod:`nntheory.theory.lie._lie` and goes through the one sympy→JAX seam
(:func:`nntheory.numerics.compile_expr`):

* :func:`compile_invariants` — the invariants of an :class:`~nntheory.theory.InvariantSet` as a
  function of the jet coordinates (a flat vector in ``jet.coordinates(order)`` order).
* :func:`jet_of` — the jet of a JAX function ``u: R^p -> R^q`` at a point: Taylor mode
  (``jax.experimental.jet``, one pass for every order) for one independent variable, nested
  forward-mode Jacobians otherwise. :func:`invariants_along` composes the two.
* :func:`compile_group_action` — ``g·z`` and its prolongation to jets for the group element
  ``exp(e_1 v_1) ... exp(e_r v_r)`` (the generators' exact flows), or the user's finite action.
* :class:`EquivariantNODE` — ``dz/dt = sum_k F_k(I(z)) Y_k(z)`` with ``F`` an MLP of the order-0
  invariants and ``Y_k`` a basis of equivariant fields, integrated by fixed-step RK4 (each stage is
  equivariant, so for a linear action the flow commutes with the group to round-off) or by
  ``jax.experimental.ode.odeint`` (adaptive Dormand–Prince; equivariant to its tolerance, since its
  step-size control uses a componentwise norm).
* :class:`SecondOrderNODE` — ``x'' = sum_k F_k(I(x, x')) Y_k(x, x')`` on ``TM`` from the tangent
  lift of an affine action (augmented NODE; the ``F_k`` see first-order differential invariants).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import sympy

from nntheory.numerics._compile import compile_expr
from nntheory.theory.lie._lie import (
    EquivariantFields,
    InvariantError,
    InvariantSet,
    LieAlgebraAction,
    _compose,
    equivariant_fields,
    tangent_lift,
    _flow,
    _prolong_finite,
)

__all__ = [
    "compile_invariants", "jet_of", "invariants_along", "compile_group_action", "compile_fields", "EquivariantNODE",
    "SecondOrderNODE", "PlainNODE", "rk4_solve",
]


def compile_invariants(inv: InvariantSet, order: int | None = None) -> Callable[[jax.Array], jax.Array]:
    """``I(z)``: the fundamental invariants of order ``<= order`` from the flat jet vector ``z``.

    ``z`` holds ``inv.action.jet.coordinates(order)`` in that order. jit-, vmap- and grad-able.
    """
    order = inv.order if order is None else order
    coords = inv.action.jet.coordinates(order)
    exprs = inv.all(order)
    if not exprs:
        raise InvariantError(f"compile_invariants: no invariants of order <= {order}.")
    f = compile_expr(list(exprs), list(coords))

    one = jnp.vectorize(lambda z: f(*(z[i] for i in range(len(coords)))), signature="(n)->(m)")

    def invariants(z):
        z = jnp.asarray(z)
        if z.shape[-1] != len(coords):
            raise ValueError(f"compile_invariants: z must have {len(coords)} entries ({[s.name for s in coords]}), got {z.shape}.")
        return one(z)

    return invariants


def jet_of(u: Callable, x: jax.Array, order: int, jet_space) -> jax.Array:
    """The jet ``(x, u, u_x, u_xx, ...)`` of ``u`` at ``x``, in ``jet_space.coordinates(order)`` order.

    ``u`` maps ``R^p`` (a ``(p,)`` array; a scalar for ``p = 1``) to ``R^q`` (or a scalar for ``q = 1``).
    """
    p, q = jet_space.p, jet_space.q
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    xv = jnp.reshape(x, (p,))

    def uq(xx):
        return jnp.reshape(u(xx[0] if p == 1 else xx), (q,))

    vals: dict = {}
    if p == 1:
        from jax.experimental import jet as _jet

        f1 = lambda s: uq(jnp.reshape(s, (1,)))  # noqa: E731
        if order == 0:
            series = []
            primal = f1(xv[0])
        else:
            one = jnp.ones((), x.dtype)
            primal, series = _jet.jet(f1, (xv[0],), ((one,) + (jnp.zeros((), x.dtype),) * (order - 1),))
        for a in range(q):
            vals[(a, ())] = primal[a]
            for k in range(1, order + 1):
                vals[(a, (0,) * k)] = series[k - 1][a]
    else:
        derivs = [uq(xv)]
        f = uq
        for k in range(1, order + 1):
            f = jax.jacfwd(f)
            derivs.append(f(xv))
        for a in range(q):
            vals[(a, ())] = derivs[0][a]
            for (alpha, J) in jet_space.multi_indices(order):
                if alpha == a:
                    vals[(a, J)] = derivs[len(J)][(a, *J)]
    out = [xv[i] for i in range(p)]
    for s in jet_space.coordinates(order)[p:]:
        out.append(vals[jet_space.decode(s, order)])
    return jnp.stack(out)


def invariants_along(inv: InvariantSet, u: Callable, x: jax.Array, order: int | None = None) -> jax.Array:
    """The invariants of the graph of ``u`` at ``x`` (e.g. the curvature of a curve ``u(x)``)."""
    order = inv.order if order is None else order
    return compile_invariants(inv, order)(jet_of(u, x, order, inv.action.jet))


def compile_group_action(action: LieAlgebraAction, order: int = 0) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """``act(params, z)``: the prolonged group element applied to the flat jet vector ``z``.

    The element is ``exp(params[0] v_1) ... exp(params[r-1] v_r)`` (innermost last), or the user's
    finite action at ``params``. Exact formulas, compiled; ``params`` near 0 is near the identity.
    """
    jet = action.jet
    if action.finite is not None:
        params, g = list(action.parameters), list(action.finite)
    else:
        flows = []
        for a, gen in enumerate(action.generators):
            fl = _flow(jet.base, tuple(sympy.sympify(c) for c in gen))
            if fl is None:
                raise InvariantError(f"compile_group_action: the flow of {action.names[a]} could not be integrated exactly.")
            flows.append(fl)
        params = [sympy.Symbol(f"epsilon_{n}", real=True) for n in action.names]
        g = _compose(jet.base, flows, params)
    transformed, _ = _prolong_finite(jet, g, order)
    coords = jet.coordinates(order)
    f = compile_expr([transformed[s] for s in coords], [*params, *coords])
    r, n = len(params), len(coords)

    one = jnp.vectorize(lambda prm, z: f(*(prm[i] for i in range(r)), *(z[i] for i in range(n))), signature="(r),(n)->(n)")

    def act(prm, z):
        prm, z = jnp.asarray(prm), jnp.asarray(z)
        if prm.shape[-1] != r or z.shape[-1] != n:
            raise ValueError(f"compile_group_action: params need {r} entries and z {n}; got {prm.shape}, {z.shape}.")
        return one(prm, z)

    return act


def _selected(fields: EquivariantFields, frame: str) -> tuple[tuple[sympy.Expr, ...], ...]:
    """The fields a NODE uses: the basis, or the generating set (the basis when there is none larger)."""
    if frame not in ("basis", "generators"):
        raise ValueError(f"frame: 'basis' or 'generators', got {frame!r}.")
    return fields.basis if frame == "basis" else (fields.generators or fields.basis)


def compile_fields(fields: EquivariantFields, frame: str = "basis") -> tuple[Callable[[jax.Array], jax.Array], Callable[[jax.Array], jax.Array]]:
    """``(Y, I)``: the fields ``Y(z)`` (shape ``(k, n)``: the ``rank`` basis fields, or with
    ``frame="generators"`` the larger generating set) and the invariants ``I(z)`` on ``M``."""
    base = fields.action.jet.base
    n = len(base)
    chosen = _selected(fields, frame)
    if not chosen:
        raise InvariantError(f"compile_fields: no equivariant basis ({fields.message})")
    flat = [c for Y in chosen for c in Y]
    fY = compile_expr(flat, list(base))
    invs = list(fields.invariants)
    fI = compile_expr(invs, list(base)) if invs else None
    k = len(chosen)

    Y = jnp.vectorize(lambda z: fY(*(z[i] for i in range(n))).reshape(k, n), signature="(n)->(k,n)")

    def I(z):  # noqa: E743
        if fI is None:
            return jnp.zeros(z.shape[:-1] + (0,), z.dtype)
        return jnp.vectorize(lambda w: fI(*(w[i] for i in range(n))), signature="(n)->(m)")(z)

    return Y, I


# ------------------------------------------------------------------------------------- NODEs
def _mlp_init(key, sizes: Sequence[int], dtype):
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        key, k1 = jax.random.split(key)
        params.append((jax.random.normal(k1, (a, b), dtype) / math.sqrt(a), jnp.zeros((b,), dtype)))
    return params


def _mlp(params, h):
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = jnp.tanh(h)
    return h


def rk4_solve(f: Callable, z0: jax.Array, ts: jax.Array, steps: int = 8) -> jax.Array:
    """Classical RK4 with ``steps`` equal sub-steps per interval of ``ts``; returns ``z`` at every ``ts``."""

    def interval(z, tt):
        t0, t1 = tt
        h = (t1 - t0) / steps

        def step(z, i):
            t = t0 + i * h
            k1 = f(z, t)
            k2 = f(z + h / 2 * k1, t + h / 2)
            k3 = f(z + h / 2 * k2, t + h / 2)
            k4 = f(z + h * k3, t + h)
            return z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

        z, _ = jax.lax.scan(step, z, jnp.arange(steps))
        return z, z

    _, zs = jax.lax.scan(interval, z0, jnp.stack([ts[:-1], ts[1:]], axis=1))
    return jnp.concatenate([z0[None], zs], axis=0)


@dataclass(frozen=True, kw_only=True)
class _ODESettings:
    """Solver settings shared by the NODEs: ``"rk4"`` (fixed step, ``steps`` per output interval)
    or ``"dopri5"`` (adaptive, ``rtol``/``atol``)."""

    hidden: tuple[int, ...] = (32, 32)
    solver: str = "rk4"
    steps: int = 8
    rtol: float = 1e-8
    atol: float = 1e-10

    def __post_init__(self) -> None:
        if self.solver not in ("rk4", "dopri5"):
            raise ValueError(f"solver: 'rk4' or 'dopri5', got {self.solver!r}.")
        if self.steps < 1:
            raise ValueError(f"steps: must be >= 1, got {self.steps}.")

    def solve(self, params, z0, ts):
        """``z`` at every time in ``ts`` from ``z0``."""
        return _solve(lambda z, t: self.vector_field(params, z), z0, ts, self)


@dataclass(frozen=True)
class EquivariantNODE(_ODESettings):
    """``dz/dt = sum_k F_k(I(z)) Y_k(z)``: equivariant by construction for any MLP ``F``.

    Args:
        fields: the equivariant basis ``Y_k`` and invariants ``I`` (from
            :func:`~nntheory.theory.equivariant_fields`).
        frame: ``"basis"`` (the ``rank`` basis fields) or ``"generators"`` (the generating set,
            redundant but regular where the basis degenerates).
        hidden, solver, steps, rtol, atol: hidden layer sizes of ``F`` and the solver settings.
    """

    fields: EquivariantFields
    frame: str = "basis"

    def __post_init__(self) -> None:
        super().__post_init__()
        _selected(self.fields, self.frame)

    def init(self, key, dtype=jnp.float64):
        n_in = max(len(self.fields.invariants), 1)
        return _mlp_init(key, (n_in, *self.hidden, len(_selected(self.fields, self.frame))), dtype)

    def vector_field(self, params, z):
        Y, I = _compiled_fields(self.fields, self.frame)
        inv = I(z)
        if inv.shape[-1] == 0:
            inv = jnp.zeros(z.shape[:-1] + (1,), z.dtype)
        coef = _mlp(params, inv)
        return jnp.einsum("...k,...kn->...n", coef, Y(z))


@dataclass(frozen=True)
class SecondOrderNODE(EquivariantNODE):
    """An augmented (second-order) equivariant NODE ``x'' = sum_k F_k(I(x, x')) Y_k(x, x')``.

    The state is ``z = (x, x')`` on ``TM``; ``fields`` are the vertical equivariant fields of the
    tangent-lifted action (components on the velocities only) and ``I`` its order-0 invariants,
    i.e. the first-order differential invariants of curves ``t -> x(t)``. The first-order system
    ``(x' = v, v' = sum_k F_k Y_k)`` is equivariant under the lifted action ``(x, v) -> (g x, g_* v)``
    for any MLP ``F``. Build it with :meth:`from_action`.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        n = len(self.fields.action.jet.base)
        if n % 2 or tuple(self.fields.components) != tuple(range(n // 2, n)):
            raise InvariantError(
                "fields: a second-order NODE needs the vertical fields of a tangent lift "
                "(equivariant_fields(tangent_lift(action), components=velocities)); use SecondOrderNODE.from_action."
            )

    @classmethod
    def from_action(cls, action: LieAlgebraAction, *, max_degree: int = 1, frame: str = "generators",
                    **settings) -> "SecondOrderNODE":
        """Tangent-lift an affine action on ``M`` and take its vertical equivariant fields (by
        default the generating set: the minimal basis of ``TM`` fields, e.g. ``x, x'``, is
        singular where they are parallel)."""
        lifted = tangent_lift(action)
        n = len(action.jet.base)
        fields = equivariant_fields(lifted, components=list(range(n, 2 * n)), max_degree=max_degree)
        if not fields.basis:
            raise InvariantError(f"SecondOrderNODE: no equivariant second-order fields ({fields.message})")
        return cls(fields=fields, frame=frame, **settings)

    def vector_field(self, params, z):
        n = z.shape[-1] // 2
        acc = super().vector_field(params, z)
        return jnp.concatenate([z[..., n:], acc[..., n:]], axis=-1)


@dataclass(frozen=True)
class PlainNODE(_ODESettings):
    """``dz/dt = F(z)`` with an unconstrained MLP (the non-equivariant baseline); with
    ``second_order=True`` the state is ``(x, x')`` (``dim`` = 2 dim M) and ``x'' = F(x, x')``."""

    dim: int
    second_order: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.second_order and self.dim % 2:
            raise ValueError(f"dim: a second-order state (x, x') has even dimension, got {self.dim}.")

    def init(self, key, dtype=jnp.float64):
        out = self.dim // 2 if self.second_order else self.dim
        return _mlp_init(key, (self.dim, *self.hidden, out), dtype)

    def vector_field(self, params, z):
        if not self.second_order:
            return _mlp(params, z)
        return jnp.concatenate([z[..., self.dim // 2:], _mlp(params, z)], axis=-1)


_compiled_fields = functools.lru_cache(maxsize=32)(compile_fields)


def _solve(f, z0, ts, cfg):
    ts = jnp.asarray(ts, dtype=z0.dtype)
    if cfg.solver == "rk4":
        return rk4_solve(f, z0, ts, cfg.steps)
    from jax.experimental.ode import odeint

    return odeint(lambda z, t: f(z, t), z0, ts, rtol=cfg.rtol, atol=cfg.atol)
