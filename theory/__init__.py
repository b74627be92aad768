r"""Symbolic derivations (sympy only; never imports JAX or numpy).

Conventions (Roberts–Yaida–Hanin, *The Principles of Deep Learning Theory*, PDLT):
``z^(1) = b + W x``, ``z^(l+1) = b + W sigma(z^(l))``, ``b ~ N(0, C_b)``, ``W_ij ~ N(0, C_W/n_l)``;
``K`` kernel, ``V`` four-point vertex (``Cov(z_i^2, z_j^2) = V/n_{l-1}``, ``i != j``), ``K1`` the
NLO kernel correction (mean metric ``G = K + K1/n_{l-1}``), ``Theta`` the NTK mean with learning-rate
factors ``lambda_b`` and ``lambda_W/n_{l-1}``.

SO(3)/SU(2): exact 3j/CG/6j/9j (Python integers), Wigner d/D, spherical harmonics, real bases and
real CG tensors; conventions in ``nntheory.theory.so3`` (Condon–Shortley, ZYZ active, m ascending).

Lie group actions: prolongation to jet spaces, counts and complete sets of differential invariants
(moving frame), invariant derivatives and recurrences, equivariant vector fields
(conventions in ``nntheory.theory.lie``).
"""

from nntheory.theory._activations import BUILTIN_ACTIVATIONS as BUILTIN_ACTIVATIONS
from nntheory.theory._activations import Activation as Activation
from nntheory.theory._activations import activation as activation
from nntheory.theory._activations import leaky_relu as leaky_relu
from nntheory.theory._activations import parse_activation as parse_activation
from nntheory.theory._parsing import parse_expression as parse_expression
from nntheory.theory._parsing import parse_number as parse_number
from nntheory.theory._activations import scale_invariant as scale_invariant
from nntheory.theory._activations import z as z
from nntheory.theory._closed_forms import orthant_moment as orthant_moment
from nntheory.theory.finite_width import NetworkSpec as NetworkSpec
from nntheory.theory.finite_width import Recursion as Recursion
from nntheory.theory.finite_width import Statistic as Statistic
from nntheory.theory.finite_width import finite_width_recursion as finite_width_recursion
from nntheory.theory._closed_forms import wick_moment as wick_moment
from nntheory.theory.finite_width import Criticality as Criticality
from nntheory.theory.finite_width import criticality as criticality
from nntheory.theory.finite_width import DDNTK_STATISTICS as DDNTK_STATISTICS
from nntheory.theory.finite_width import NTK_STATISTICS as NTK_STATISTICS
from nntheory.theory.finite_width import ddntk_moments as ddntk_moments
from nntheory.theory.finite_width import ntk_recursion as ntk_recursion
from nntheory.theory._gaussian import GaussianExpectation as GaussianExpectation
from nntheory.theory._gaussian import activation_function as activation_function
from nntheory.theory._gaussian import gaussian_expectation as gaussian_expectation
from nntheory.theory._gaussian import kernel_symbols as kernel_symbols
from nntheory.theory.lie import EquivariantFields as EquivariantFields
from nntheory.theory.lie import InvariantError as InvariantError
from nntheory.theory.lie import InvariantSet as InvariantSet
from nntheory.theory.lie import JetSpace as JetSpace
from nntheory.theory.lie import LieAlgebraAction as LieAlgebraAction
from nntheory.theory.lie import action_from_spec as action_from_spec
from nntheory.theory.lie import differential_invariants as differential_invariants
from nntheory.theory.lie import equivariant_fields as equivariant_fields
from nntheory.theory.lie import invariant_count as invariant_count
from nntheory.theory.lie import lie_action as lie_action
from nntheory.theory.lie import tangent_lift as tangent_lift
from nntheory.theory.so3 import clebsch_gordan_tensor as clebsch_gordan_tensor
from nntheory.theory.so3 import e3nn_basis_change as e3nn_basis_change
from nntheory.theory.so3 import e3nn_clebsch_gordan as e3nn_clebsch_gordan
from nntheory.theory.so3 import projections as projections
from nntheory.theory.so3 import real_basis_change as real_basis_change
from nntheory.theory.so3 import rotation_matrix as rotation_matrix
from nntheory.theory.so3 import spherical_harmonics as spherical_harmonics
from nntheory.theory.so3 import wigner_D as wigner_D
from nntheory.theory.so3 import wigner_D_real as wigner_D_real
from nntheory.theory.so3 import wigner_small_d as wigner_small_d
from nntheory.theory.so3 import ExactValue as ExactValue
from nntheory.theory.so3 import clebsch_gordan as clebsch_gordan
from nntheory.theory.so3 import exact_3j as exact_3j
from nntheory.theory.so3 import exact_6j as exact_6j
from nntheory.theory.so3 import exact_9j as exact_9j
from nntheory.theory.so3 import exact_clebsch_gordan as exact_clebsch_gordan
from nntheory.theory.so3 import wigner_3j as wigner_3j
from nntheory.theory.so3 import wigner_6j as wigner_6j
from nntheory.theory.so3 import wigner_9j as wigner_9j
from nntheory.theory.fixed_point import overflow_probability as overflow_probability
from nntheory.theory.fixed_point import overflow_rate as overflow_rate
from nntheory.theory.fixed_point import rounding_noise as rounding_noise
from nntheory.theory.fixed_point import smallest_safe_integer_bits as smallest_safe_integer_bits
from nntheory.theory.so3 import RealBasisTerm as RealBasisTerm
from nntheory.theory.so3 import real_basis_terms as real_basis_terms

__all__ = [
    "Activation",
    "BUILTIN_ACTIVATIONS",
    "Criticality",
    "DDNTK_STATISTICS",
    "EquivariantFields",
    "ExactValue",
    "GaussianExpectation",
    "InvariantError",
    "InvariantSet",
    "JetSpace",
    "LieAlgebraAction",
    "NTK_STATISTICS",
    "NetworkSpec",
    "RealBasisTerm",
    "Recursion",
    "Statistic",
    "action_from_spec",
    "activation",
    "activation_function",
    "clebsch_gordan",
    "clebsch_gordan_tensor",
    "criticality",
    "ddntk_moments",
    "differential_invariants",
    "e3nn_basis_change",
    "e3nn_clebsch_gordan",
    "equivariant_fields",
    "exact_3j",
    "exact_6j",
    "exact_9j",
    "exact_clebsch_gordan",
    "finite_width_recursion",
    "gaussian_expectation",
    "invariant_count",
    "kernel_symbols",
    "leaky_relu",
    "lie_action",
    "ntk_recursion",
    "orthant_moment",
    "overflow_probability",
    "overflow_rate",
    "parse_activation",
    "parse_expression",
    "parse_number",
    "projections",
    "real_basis_change",
    "real_basis_terms",
    "rotation_matrix",
    "rounding_noise",
    "scale_invariant",
    "smallest_safe_integer_bits",
    "spherical_harmonics",
    "tangent_lift",
    "wick_moment",
    "wigner_3j",
    "wigner_6j",
    "wigner_9j",
    "wigner_D",
    "wigner_D_real",
    "wigner_small_d",
    "z",
]
