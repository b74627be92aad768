r"""Symbolic derivations (sympy only; never imports JAX or numpy).

Conventions (Roberts–Yaida–Hanin, *The Principles of Deep Learning Theory*, PDLT):
``z^(1) = b + W x``, ``z^(l+1) = b + W sigma(z^(l))``, ``b ~ N(0, C_b)``, ``W_ij ~ N(0, C_W/n_l)``;
``K`` kernel, ``V`` four-point vertex (``Cov(z_i^2, z_j^2) = V/n_{l-1}``, ``i != j``), ``K1`` the
NLO kernel correction (mean metric ``G = K + K1/n_{l-1}``), ``Theta`` the NTK mean with learning-rate
factors ``lambda_b`` and ``lambda_W/n_{l-1}``.
"""

from nntheory.theory._activations import BUILTIN_ACTIVATIONS as BUILTIN_ACTIVATIONS
from nntheory.theory._activations import Activation as Activation
from nntheory.theory._activations import activation as activation
from nntheory.theory._activations import leaky_relu as leaky_relu
from nntheory.theory._activations import parse_activation as parse_activation
from nntheory.theory._activations import scale_invariant as scale_invariant
from nntheory.theory._activations import z as z
from nntheory.theory._closed_forms import orthant_moment as orthant_moment
from nntheory.theory._network import NetworkSpec as NetworkSpec
from nntheory.theory._recursions import Recursion as Recursion
from nntheory.theory._recursions import Statistic as Statistic
from nntheory.theory._recursions import finite_width_recursion as finite_width_recursion
from nntheory.theory._closed_forms import wick_moment as wick_moment
from nntheory.theory._criticality import Criticality as Criticality
from nntheory.theory._criticality import criticality as criticality
from nntheory.theory._gaussian import GaussianExpectation as GaussianExpectation
from nntheory.theory._gaussian import activation_function as activation_function
from nntheory.theory._gaussian import gaussian_expectation as gaussian_expectation
from nntheory.theory._gaussian import kernel_symbols as kernel_symbols

__all__ = [
    "Activation",
    "BUILTIN_ACTIVATIONS",
    "Criticality",
    "GaussianExpectation",
    "NetworkSpec",
    "Recursion",
    "Statistic",
    "activation",
    "activation_function",
    "criticality",
    "finite_width_recursion",
    "gaussian_expectation",
    "kernel_symbols",
    "leaky_relu",
    "orthant_moment",
    "parse_activation",
    "scale_invariant",
    "wick_moment",
    "z",
]
