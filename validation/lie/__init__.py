"""Validation of equivariant neural ODEs built from differential invariants (see :mod:`nntheory.numerics.lie`).

Conventions: every check runs in float64 and refuses to run otherwise (enable ``jax_enable_x64``
first; nntheory never changes JAX's global configuration). Jet points and group parameters follow
:mod:`nntheory.numerics.lie`. :func:`compare_nodes` trains an SO(2)-equivariant NODE and a plain NODE
on one angular sector and tests both on rotated initial states; :attr:`NodeComparison.passed` is the
pass rule (the equivariant test MSE lower by more than 4 combined standard errors).
"""

from nntheory.validation.lie._node import NodeComparison as NodeComparison
from nntheory.validation.lie._node import compare_nodes as compare_nodes
from nntheory.validation.lie._node import invariance_residuals as invariance_residuals
from nntheory.validation.lie._node import node_equivariance as node_equivariance

__all__ = [
    "NodeComparison",
    "compare_nodes",
    "invariance_residuals",
    "node_equivariance",
]
