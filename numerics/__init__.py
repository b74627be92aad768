"""Compile symbolic results into JAX: one sympy -> JAX seam (:func:`compile_expr`), Gaussian quadrature,
compiled layer-to-layer recursions (``lax.scan`` over layers), infinite-width NNGP/NTK kernels of MLPs
and NTK predictions of training, finite groups acting on inputs (augmentation, averaged kernels), SO(3) tables and recursions
(Clebsch–Gordan, Wigner d/D, real spherical harmonics, tensor products) and table export."""

from nntheory.numerics._compile import compile_expr as compile_expr
from nntheory.numerics._compile import explicit_integrand as explicit_integrand
from nntheory.numerics._quadrature import QuadratureConfig as QuadratureConfig
from nntheory.numerics._quadrature import expectation_nodes as expectation_nodes
from nntheory.numerics._quadrature import gauss_hermite_rule as gauss_hermite_rule
from nntheory.numerics._quadrature import half_range_rule as half_range_rule
from nntheory.numerics.finite_width import CompiledRecursion as CompiledRecursion
from nntheory.numerics.finite_width import FiniteWidthPredictions as FiniteWidthPredictions
from nntheory.numerics.finite_width import finite_width_predictions as finite_width_predictions
from nntheory.numerics.finite_width import TrainedMeanPrediction as TrainedMeanPrediction
from nntheory.numerics.finite_width import trained_mean_prediction as trained_mean_prediction
from nntheory.numerics._inputs import gram_matrix as gram_matrix
from nntheory.numerics._inputs import input_vectors as input_vectors
from nntheory.numerics._compile import require_float64 as require_float64
from nntheory.numerics.finite_width import compile_recursion as compile_recursion
from nntheory.numerics.finite_width import pairwise_statistics as pairwise_statistics
from nntheory.numerics._export import load_table_npz as load_table_npz
from nntheory.numerics.kernels import ConvKernel as ConvKernel
from nntheory.numerics.fixed_point import ActivationTable as ActivationTable
from nntheory.numerics.fixed_point import FixedType as FixedType
from nntheory.numerics.fixed_point import QActivation as QActivation
from nntheory.numerics.fixed_point import QDense as QDense
from nntheory.numerics.fixed_point import QuantizedMLP as QuantizedMLP
from nntheory.numerics.fixed_point import quantized_mlp as quantized_mlp
from nntheory.numerics.fixed_point import QuantizedTheory as QuantizedTheory
from nntheory.numerics.fixed_point import quantized_theory as quantized_theory
from nntheory.numerics.fixed_point import weight_error_moments as weight_error_moments
from nntheory.numerics.fixed_point import activation_table as activation_table
from nntheory.numerics.fixed_point import float_activation as float_activation
from nntheory.numerics.kernels import FiniteGroup as FiniteGroup
from nntheory.numerics.kernels import GroupError as GroupError
from nntheory.numerics.kernels import group_from_matrices as group_from_matrices
from nntheory.numerics.kernels import image_dihedral as image_dihedral
from nntheory.numerics.kernels import image_reflections as image_reflections
from nntheory.numerics.kernels import image_rotations as image_rotations
from nntheory.numerics.kernels import item_permutations as item_permutations
from nntheory.numerics.kernels import point_rotations as point_rotations
from nntheory.numerics.kernels import Kernels as Kernels
from nntheory.numerics.kernels import MLPKernel as MLPKernel
from nntheory.numerics.kernels import dual_functions as dual_functions
from nntheory.numerics.kernels import NTKPrediction as NTKPrediction
from nntheory.numerics.kernels import kernel_regression as kernel_regression
from nntheory.numerics.kernels import ntk_predict as ntk_predict
from nntheory.numerics._export import table_bytes as table_bytes
from nntheory.numerics._export import write_table as write_table
from nntheory.numerics.so3 import LookupTable as LookupTable
from nntheory.numerics.so3 import cg_blocks as cg_blocks
from nntheory.numerics.so3 import cg_table as cg_table
from nntheory.numerics.so3 import real_basis_change_matrix as real_basis_change_matrix
from nntheory.numerics.so3 import real_spherical_harmonics as real_spherical_harmonics
from nntheory.numerics.so3 import round_exact as round_exact
from nntheory.numerics.so3 import sh_table as sh_table
from nntheory.numerics.so3 import tensor_product as tensor_product
from nntheory.numerics.so3 import wigner_D_matrix as wigner_D_matrix
from nntheory.numerics.so3 import wigner_D_real_matrix as wigner_D_real_matrix
from nntheory.numerics.so3 import wigner_d_half_pi as wigner_d_half_pi
from nntheory.numerics.so3 import wigner_d_matrix as wigner_d_matrix
from nntheory.numerics.so3 import wigner_d_table as wigner_d_table

from nntheory.numerics.lie import compile_invariants as compile_invariants
from nntheory.numerics.lie import jet_of as jet_of
from nntheory.numerics.lie import invariants_along as invariants_along
from nntheory.numerics.lie import compile_group_action as compile_group_action
from nntheory.numerics.lie import compile_fields as compile_fields
from nntheory.numerics.lie import EquivariantNODE as EquivariantNODE
from nntheory.numerics.lie import PlainNODE as PlainNODE
from nntheory.numerics.lie import SecondOrderNODE as SecondOrderNODE
from nntheory.numerics.lie import rk4_solve as rk4_solve

__all__ = [
    "ActivationTable",
    "CompiledRecursion",
    "ConvKernel",
    "EquivariantNODE",
    "FiniteGroup",
    "FiniteWidthPredictions",
    "FixedType",
    "GroupError",
    "Kernels",
    "LookupTable",
    "MLPKernel",
    "NTKPrediction",
    "PlainNODE",
    "QActivation",
    "QDense",
    "QuadratureConfig",
    "QuantizedMLP",
    "QuantizedTheory",
    "SecondOrderNODE",
    "TrainedMeanPrediction",
    "activation_table",
    "cg_blocks",
    "cg_table",
    "compile_expr",
    "compile_fields",
    "compile_group_action",
    "compile_invariants",
    "compile_recursion",
    "dual_functions",
    "expectation_nodes",
    "explicit_integrand",
    "finite_width_predictions",
    "float_activation",
    "gauss_hermite_rule",
    "gram_matrix",
    "group_from_matrices",
    "half_range_rule",
    "image_dihedral",
    "image_reflections",
    "image_rotations",
    "input_vectors",
    "invariants_along",
    "item_permutations",
    "jet_of",
    "kernel_regression",
    "load_table_npz",
    "ntk_predict",
    "pairwise_statistics",
    "point_rotations",
    "quantized_mlp",
    "quantized_theory",
    "real_basis_change_matrix",
    "real_spherical_harmonics",
    "require_float64",
    "rk4_solve",
    "round_exact",
    "sh_table",
    "table_bytes",
    "tensor_product",
    "trained_mean_prediction",
    "weight_error_moments",
    "wigner_D_matrix",
    "wigner_D_real_matrix",
    "wigner_d_half_pi",
    "wigner_d_matrix",
    "wigner_d_table",
    "write_table",
]
