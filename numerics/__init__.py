"""Compile symbolic results into JAX: one sympy -> JAX seam (:func:`compile_expr`), Gaussian quadrature,
and compiled layer-to-layer recursions (``lax.scan`` over layers)."""

from nntheory.numerics._compile import compile_expr as compile_expr
from nntheory.numerics._compile import explicit_integrand as explicit_integrand
from nntheory.numerics._quadrature import QuadratureConfig as QuadratureConfig
from nntheory.numerics._quadrature import expectation_nodes as expectation_nodes
from nntheory.numerics._quadrature import gauss_hermite_rule as gauss_hermite_rule
from nntheory.numerics._quadrature import half_range_rule as half_range_rule
from nntheory.numerics._recursions import CompiledRecursion as CompiledRecursion
from nntheory.numerics._recursions import compile_recursion as compile_recursion
from nntheory.numerics._recursions import pairwise_statistics as pairwise_statistics

__all__ = [
    "CompiledRecursion",
    "QuadratureConfig",
    "compile_expr",
    "compile_recursion",
    "expectation_nodes",
    "explicit_integrand",
    "gauss_hermite_rule",
    "half_range_rule",
    "pairwise_statistics",
]
