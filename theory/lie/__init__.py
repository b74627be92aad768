"""TODO: conventions of theory.lie."""

from nntheory.theory.lie._lie import EquivariantFields as EquivariantFields
from nntheory.theory.lie._lie import InvariantError as InvariantError
from nntheory.theory.lie._lie import InvariantSet as InvariantSet
from nntheory.theory.lie._lie import JetSpace as JetSpace
from nntheory.theory.lie._lie import LieAlgebraAction as LieAlgebraAction
from nntheory.theory.lie._lie import action_from_spec as action_from_spec
from nntheory.theory.lie._lie import differential_invariants as differential_invariants
from nntheory.theory.lie._lie import equivariant_fields as equivariant_fields
from nntheory.theory.lie._lie import invariant_count as invariant_count
from nntheory.theory.lie._lie import lie_action as lie_action
from nntheory.theory.lie._lie import tangent_lift as tangent_lift

__all__ = [
    "EquivariantFields",
    "InvariantError",
    "InvariantSet",
    "JetSpace",
    "LieAlgebraAction",
    "action_from_spec",
    "differential_invariants",
    "equivariant_fields",
    "invariant_count",
    "lie_action",
    "tangent_lift",
]
