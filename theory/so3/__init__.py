"""TODO: conventions of theory.so3."""

from nntheory.theory.so3._so3 import clebsch_gordan_tensor as clebsch_gordan_tensor
from nntheory.theory.so3._so3 import e3nn_basis_change as e3nn_basis_change
from nntheory.theory.so3._so3 import e3nn_clebsch_gordan as e3nn_clebsch_gordan
from nntheory.theory.so3._so3 import projections as projections
from nntheory.theory.so3._so3 import real_basis_change as real_basis_change
from nntheory.theory.so3._so3 import rotation_matrix as rotation_matrix
from nntheory.theory.so3._so3 import spherical_harmonics as spherical_harmonics
from nntheory.theory.so3._so3 import wigner_D as wigner_D
from nntheory.theory.so3._so3 import wigner_D_real as wigner_D_real
from nntheory.theory.so3._so3 import wigner_small_d as wigner_small_d
from nntheory.theory.so3._su2 import ExactValue as ExactValue
from nntheory.theory.so3._su2 import clebsch_gordan as clebsch_gordan
from nntheory.theory.so3._su2 import exact_3j as exact_3j
from nntheory.theory.so3._su2 import exact_6j as exact_6j
from nntheory.theory.so3._su2 import exact_9j as exact_9j
from nntheory.theory.so3._su2 import exact_clebsch_gordan as exact_clebsch_gordan
from nntheory.theory.so3._su2 import wigner_3j as wigner_3j
from nntheory.theory.so3._su2 import wigner_6j as wigner_6j
from nntheory.theory.so3._su2 import wigner_9j as wigner_9j

__all__ = [
    "ExactValue",
    "clebsch_gordan",
    "clebsch_gordan_tensor",
    "e3nn_basis_change",
    "e3nn_clebsch_gordan",
    "exact_3j",
    "exact_6j",
    "exact_9j",
    "exact_clebsch_gordan",
    "projections",
    "real_basis_change",
    "rotation_matrix",
    "spherical_harmonics",
    "wigner_3j",
    "wigner_6j",
    "wigner_9j",
    "wigner_D",
    "wigner_D_real",
    "wigner_small_d",
]
