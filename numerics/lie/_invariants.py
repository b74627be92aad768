"""Compiled differential invariants, jets, group actions and equivariant fields in JAX.

Everything symbolic comes from :mod:`nntheory.theory.lie` and goes through the one sympy→JAX seam
(:func:`nntheory.numerics.compile_expr`):

* :func:`compile_invariants` — the invariants of an :class:`~nntheory.theory.InvariantSet` as a
  function of the jet coordinates (a flat vector in ``jet.coordinates(order)`` order).
* :func:`jet_of` — the jet of a JAX function ``u: R^p -> R^q`` at a point: Taylor mode
  (``jax.experimental.jet``, one pass for every order) for one independent variable, nested
  forward-mode Jacobians otherwise. :func:`invariants_along` composes the two.
* :func:`compile_group_action` — ``g·z`` and its prolongation to jets for the group element
  ``exp(e_1 v_1) ... exp(e_r v_r)`` (the generators' exact flows), or the user's finite action.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import sympy

from nntheory.numerics._compile import compile_expr
from nntheory.errors import InvariantError, SpecError
from nntheory.theory.lie import EquivariantFields, InvariantSet, LieAlgebraAction
from nntheory.theory.lie._flows import _group_element, _prolong_finite

__all__ = ["compile_fields", "compile_group_action", "compile_invariants", "invariants_along", "jet_of"]


def compile_invariants(inv: InvariantSet, order: int | None = None) -> Callable[[jax.Array], jax.Array]:
    """``I(z)``: the fundamental invariants of order ``<= order`` from the flat jet vector ``z``.

    ``z`` holds ``inv.action.jet.coordinates(order)`` in that order. jit-, vmap- and grad-able.

    Args:
        inv: the invariant set.
        order: the highest order of the invariants (default ``inv.order``).

    Returns:
        ``invariants(z)``: maps ``z`` of shape ``(..., n)``, ``n = len(inv.action.jet.coordinates(order))``,
        to a JAX array of shape ``(..., k)``, the ``k = len(inv.all(order))`` invariants in that order; it
        raises InvariantError when the last axis of ``z`` is not ``n``.

    Raises:
        InvariantError: if there are no invariants of order ``<= order``.
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
            raise InvariantError(f"compile_invariants: z must have {len(coords)} entries ({[s.name for s in coords]}), got {z.shape}.")
        return one(z)

    return invariants


def jet_of(u: Callable, x: jax.Array, order: int, jet_space) -> jax.Array:
    """The jet ``(x, u, u_x, u_xx, ...)`` of ``u`` at ``x``, in ``jet_space.coordinates(order)`` order.

    ``u`` maps ``R^p`` (a ``(p,)`` array; a scalar for ``p = 1``) to ``R^q`` (or a scalar for ``q = 1``).

    Args:
        u: the function, traceable by JAX.
        x: the point, shape ``(p,)`` (a scalar for ``p = 1``).
        order: the jet order (``>= 0``).
        jet_space: the :class:`~nntheory.theory.JetSpace` that fixes ``p``, ``q`` and the coordinate order.

    Returns:
        A 1-d float JAX array of length ``len(jet_space.coordinates(order))``: the coordinates of ``x``,
        then the values and derivatives of ``u`` at ``x`` up to ``order``.
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
    """The invariants of the graph of ``u`` at ``x`` (e.g. the curvature of a curve ``u(x)``).

    Args:
        inv: the invariant set.
        u: the function ``R^p -> R^q``, as for :func:`jet_of`.
        x: the point, shape ``(p,)`` (a scalar for ``p = 1``).
        order: the highest order of the invariants (default ``inv.order``).

    Returns:
        A JAX array of shape ``(k,)``: the ``k = len(inv.all(order))`` invariants at the jet of ``u`` at ``x``.
    """
    order = inv.order if order is None else order
    return compile_invariants(inv, order)(jet_of(u, x, order, inv.action.jet))


def compile_group_action(action: LieAlgebraAction, order: int = 0) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """``act(params, z)``: the prolonged group element applied to the flat jet vector ``z``.

    The element is ``exp(params[0] v_1) ... exp(params[r-1] v_r)`` (innermost last), or the user's
    finite action at ``params``. Exact formulas, compiled; ``params`` near 0 is near the identity.

    Args:
        action: the Lie algebra action (its generators' flows, or its finite action).
        order: the jet order of the prolongation (0: the action on the base coordinates).

    Returns:
        ``act(params, z)``: ``params`` of shape ``(..., r)`` (``r`` group parameters) and ``z`` of shape
        ``(..., n)`` in ``action.jet.coordinates(order)`` order, broadcast over the leading axes, to the
        transformed jet vector, a JAX array of shape ``(..., n)``; it raises InvariantError for wrong last axes.
    """
    jet = action.jet
    params, g = _group_element(action, where="compile_group_action: ")
    transformed, _ = _prolong_finite(jet, g, order)
    coords = jet.coordinates(order)
    f = compile_expr([transformed[s] for s in coords], [*params, *coords])
    r, n = len(params), len(coords)

    one = jnp.vectorize(lambda prm, z: f(*(prm[i] for i in range(r)), *(z[i] for i in range(n))), signature="(r),(n)->(n)")

    def act(prm, z):
        prm, z = jnp.asarray(prm), jnp.asarray(z)
        if prm.shape[-1] != r or z.shape[-1] != n:
            raise InvariantError(f"compile_group_action: params need {r} entries and z {n}; got {prm.shape}, {z.shape}.")
        return one(prm, z)

    return act


def _selected(fields: EquivariantFields, frame: str) -> tuple[tuple[sympy.Expr, ...], ...]:
    """The fields a NODE uses: the basis, or the generating set (the basis when there is none larger)."""
    if frame not in ("basis", "generators"):
        raise SpecError(f"frame: 'basis' or 'generators', got {frame!r}.")
    return fields.basis if frame == "basis" else (fields.generators or fields.basis)


def compile_fields(fields: EquivariantFields, frame: str = "basis") -> tuple[Callable[[jax.Array], jax.Array], Callable[[jax.Array], jax.Array]]:
    """``(Y, I)``: the fields ``Y(z)`` (shape ``(k, n)``: the ``rank`` basis fields, or with
    ``frame="generators"`` the larger generating set) and the invariants ``I(z)`` on ``M``.

    Args:
        fields: the equivariant fields (from :func:`~nntheory.theory.equivariant_fields`).
        frame: ``"basis"`` or ``"generators"``.

    Returns:
        ``(Y, I)``, two JAX functions of ``z`` of shape ``(..., n)`` (``n`` base coordinates of ``M``),
        vectorized over the leading axes: ``Y(z)`` of shape ``(..., k, n)`` and ``I(z)`` of shape
        ``(..., len(fields.invariants))`` (an empty last axis when there are no invariants).

    Raises:
        SpecError: an unknown ``frame``.
        InvariantError: if there is no equivariant basis.
    """
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
