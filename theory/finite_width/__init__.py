"""TODO: conventions of theory.finite_width."""

from nntheory.theory.finite_width._network import NetworkSpec as NetworkSpec
from nntheory.theory.finite_width._recursions import Recursion as Recursion
from nntheory.theory.finite_width._recursions import Statistic as Statistic
from nntheory.theory.finite_width._recursions import finite_width_recursion as finite_width_recursion
from nntheory.theory.finite_width._criticality import Criticality as Criticality
from nntheory.theory.finite_width._criticality import criticality as criticality

__all__ = [
    "Criticality",
    "NetworkSpec",
    "Recursion",
    "Statistic",
    "criticality",
    "finite_width_recursion",
]
