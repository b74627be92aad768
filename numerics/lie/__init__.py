"""Lie-group invariants and equivariant neural ODEs compiled to JAX (from :mod:`nntheory.theory.lie`).

Conventions:

* A jet point is a flat vector ``z`` in ``jet.coordinates(order)`` order: the independent
  variables, the dependent variables, then the jet coordinates ``u_J`` by order, dependent variable
  and sorted multi-index (``x, u, u_x, u_xx, ...``). Leading axes broadcast.
* Group elements are parameter vectors ``params`` of length ``r``: ``exp(params[0] v_1) ...
  exp(params[r-1] v_r)`` (innermost last) from the generators' exact flows, or the user's finite
  action at ``params``; ``params = 0`` is the identity.
* Everything symbolic goes through the one sympy→JAX seam, :func:`nntheory.numerics.compile_expr`.
* NODE parameters default to float64; enable ``jax_enable_x64`` for it (the library never changes
  JAX's global configuration).

Modules: ``_invariants`` (compiled invariants, jets, group actions, equivariant fields) and
``_nodes`` (equivariant, second-order and plain NODEs, RK4 / Dormand–Prince solvers).
"""

from nntheory.numerics.lie._invariants import compile_fields as compile_fields
from nntheory.numerics.lie._invariants import compile_group_action as compile_group_action
from nntheory.numerics.lie._invariants import compile_invariants as compile_invariants
from nntheory.numerics.lie._invariants import invariants_along as invariants_along
from nntheory.numerics.lie._invariants import jet_of as jet_of
from nntheory.numerics.lie._nodes import EquivariantNODE as EquivariantNODE
from nntheory.numerics.lie._nodes import PlainNODE as PlainNODE
from nntheory.numerics.lie._nodes import SecondOrderNODE as SecondOrderNODE
from nntheory.numerics.lie._nodes import rk4_solve as rk4_solve

__all__ = [
    "EquivariantNODE",
    "PlainNODE",
    "SecondOrderNODE",
    "compile_fields",
    "compile_group_action",
    "compile_invariants",
    "invariants_along",
    "jet_of",
    "rk4_solve",
]
