"""TODO: conventions of numerics.lie."""

from nntheory.numerics.lie._invariants import compile_invariants as compile_invariants
from nntheory.numerics.lie._invariants import jet_of as jet_of
from nntheory.numerics.lie._invariants import invariants_along as invariants_along
from nntheory.numerics.lie._invariants import compile_group_action as compile_group_action
from nntheory.numerics.lie._invariants import compile_fields as compile_fields
from nntheory.numerics.lie._invariants import EquivariantNODE as EquivariantNODE
from nntheory.numerics.lie._invariants import PlainNODE as PlainNODE
from nntheory.numerics.lie._invariants import SecondOrderNODE as SecondOrderNODE
from nntheory.numerics.lie._invariants import rk4_solve as rk4_solve

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
