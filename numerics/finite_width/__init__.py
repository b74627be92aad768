"""TODO: conventions of numerics.finite_width."""

from nntheory.numerics.finite_width._recursions import CompiledRecursion as CompiledRecursion
from nntheory.numerics.finite_width._recursions import compile_recursion as compile_recursion
from nntheory.numerics.finite_width._recursions import pairwise_statistics as pairwise_statistics

__all__ = [
    "CompiledRecursion",
    "compile_recursion",
    "pairwise_statistics",
]
