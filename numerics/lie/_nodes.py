"""Equivariant neural ODEs in JAX, and the ODE solvers they use.

* :class:`EquivariantNODE` — ``dz/dt = sum_k F_k(I(z)) Y_k(z)`` with ``F`` an MLP of the order-0
  invariants and ``Y_k`` a basis of equivariant fields, integrated by fixed-step RK4 (each stage is
  equivariant, so for a linear action the flow commutes with the group to round-off) or by
  ``jax.experimental.ode.odeint`` (adaptive Dormand–Prince; equivariant to its tolerance, since its
  step-size control uses a componentwise norm).
* :class:`SecondOrderNODE` — ``x'' = sum_k F_k(I(x, x')) Y_k(x, x')`` on ``TM`` from the tangent
  lift of an affine action (augmented NODE; the ``F_k`` see first-order differential invariants).
* :class:`PlainNODE` — the unconstrained MLP baseline; :func:`rk4_solve` — fixed-step RK4.

Parameters default to float64 (``init(key, dtype=jnp.float64)``), which JAX honours only with
``jax_enable_x64`` on; the caller sets that flag, the library never does.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from nntheory._checks import check_int
from nntheory.errors import InvariantError, SpecError
from nntheory.numerics.lie._invariants import _selected, compile_fields
from nntheory.theory.lie import EquivariantFields, LieAlgebraAction, equivariant_fields, tangent_lift

__all__ = ["EquivariantNODE", "PlainNODE", "SecondOrderNODE", "rk4_solve"]


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
    """Classical RK4 with ``steps`` equal sub-steps per interval of ``ts``; returns ``z`` at every ``ts``.

    Args:
        f: the vector field ``f(z, t)``.
        z0: the initial state, at time ``ts[0]``.
        ts: the output times, shape ``(T,)``.
        steps: the number of RK4 steps per interval of ``ts``.

    Returns:
        A JAX array of shape ``(T, *z0.shape)``: ``z`` at every time of ``ts`` (the first row is ``z0``).
    """

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
            raise SpecError(f"solver: 'rk4' or 'dopri5', got {self.solver!r}.")
        check_int(self.steps, "steps", lo=1, where=type(self).__name__)

    def solve(self, params, z0, ts):
        """``z`` at every time in ``ts`` from ``z0`` (compiled once per NODE and argument shapes; equal
        NODEs share the compiled solver)."""
        return _jitted_solve(self)(params, z0, ts)


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
        """MLP parameters of ``F`` (list of ``(W, b)``), drawn from ``key``."""
        n_in = max(len(self.fields.invariants), 1)
        return _mlp_init(key, (n_in, *self.hidden, len(_selected(self.fields, self.frame))), dtype)

    def vector_field(self, params, z):
        """``dz/dt`` at ``z`` (leading axes broadcast)."""
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
        """``(x', x'')`` at ``z = (x, x')``."""
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
            raise SpecError(f"dim: a second-order state (x, x') has even dimension, got {self.dim}.")

    def init(self, key, dtype=jnp.float64):
        """MLP parameters of ``F`` (list of ``(W, b)``), drawn from ``key``."""
        out = self.dim // 2 if self.second_order else self.dim
        return _mlp_init(key, (self.dim, *self.hidden, out), dtype)

    def vector_field(self, params, z):
        """``dz/dt`` at ``z`` (leading axes broadcast)."""
        if not self.second_order:
            return _mlp(params, z)
        return jnp.concatenate([z[..., self.dim // 2:], _mlp(params, z)], axis=-1)


_compiled_fields = functools.lru_cache(maxsize=32)(compile_fields)


@functools.lru_cache(maxsize=32)
def _jitted_solve(node):
    """The jitted ``solve`` of a (hashable, frozen) NODE: eager callers (equivariance checks, test-set
    evaluation) otherwise trace and compile the solver's scans again on every call."""
    return jax.jit(lambda params, z0, ts: _solve(lambda z, t: node.vector_field(params, z), z0, ts, node))


def _solve(f, z0, ts, cfg):
    ts = jnp.asarray(ts, dtype=z0.dtype)
    if cfg.solver == "rk4":
        return rk4_solve(f, z0, ts, cfg.steps)
    from jax.experimental.ode import odeint

    return odeint(lambda z, t: f(z, t), z0, ts, rtol=cfg.rtol, atol=cfg.atol)
