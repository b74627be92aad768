"""TODO: conventions of numerics.so3."""

from nntheory.numerics.so3._so3 import LookupTable as LookupTable
from nntheory.numerics.so3._so3 import cg_blocks as cg_blocks
from nntheory.numerics.so3._so3 import cg_table as cg_table
from nntheory.numerics.so3._so3 import real_basis_change_matrix as real_basis_change_matrix
from nntheory.numerics.so3._so3 import real_spherical_harmonics as real_spherical_harmonics
from nntheory.numerics.so3._so3 import round_exact as round_exact
from nntheory.numerics.so3._so3 import sh_table as sh_table
from nntheory.numerics.so3._so3 import tensor_product as tensor_product
from nntheory.numerics.so3._so3 import wigner_D_matrix as wigner_D_matrix
from nntheory.numerics.so3._so3 import wigner_D_real_matrix as wigner_D_real_matrix
from nntheory.numerics.so3._so3 import wigner_d_half_pi as wigner_d_half_pi
from nntheory.numerics.so3._so3 import wigner_d_matrix as wigner_d_matrix
from nntheory.numerics.so3._so3 import wigner_d_table as wigner_d_table

__all__ = [
    "LookupTable",
    "cg_blocks",
    "cg_table",
    "real_basis_change_matrix",
    "real_spherical_harmonics",
    "round_exact",
    "sh_table",
    "tensor_product",
    "wigner_D_matrix",
    "wigner_D_real_matrix",
    "wigner_d_half_pi",
    "wigner_d_matrix",
    "wigner_d_table",
]
