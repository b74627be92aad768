r"""SO(3) numerics: correctly rounded tables from the exact values, fast stable float recursions,
Wigner d/D and real spherical harmonics in JAX, and an equivariant tensor product.

Conventions are those of :mod:`nntheory.theory.so3`, unchanged:

* index order ``m`` ascending (``-l..l``) on every axis; Condon–Shortley phase;
* ``D^j(alpha, beta, gamma) = exp(-i m' alpha) d^j(beta) exp(-i m gamma)``: active rotations, Euler
  angles ZYZ, ``R = R_z(alpha) R_y(beta) R_z(gamma)``;
* real (tesseral) basis ``Y_real = U Y_complex`` (``l = 1`` block proportional to ``(y, z, x)``),
  ``D_real = conj(U) D U^T``; the float ``U`` (:func:`real_basis_change_matrix`) and every sparse
  real-basis term are built from :func:`nntheory.theory.so3.real_basis_terms`, the one definition;
* CG tables: ``normalization="cg"`` ``<l1 m1 l2 m2|L M>``, ``"unit"`` that divided by ``sqrt(2L+1)``
  (unit Frobenius norm per triple, e3nn's choice), ``"3j"`` the 3j symbol (``M`` stands for ``m3``)
  or, in the real basis, the real invariant tensor. e3nn's real basis differs by the axis
  relabelling and per-triple sign of :func:`nntheory.theory.so3.e3nn_basis_change` /
  :func:`~nntheory.theory.so3.e3nn_clebsch_gordan`.

Two routes to Clebsch–Gordan tables (:func:`cg_table`):

* ``method="exact"``: every entry from exact integer arithmetic, rounded once (nearest, ties to
  even) to float64 or float32, at any ``l``; exact zeros stay zeros. Complex basis: each column
  ``<a . b .|c M>`` from an integer three-term recursion (no Racah sums), about ``L^5`` entries of
  small-integer work (all 3j to ``L = 8`` in ~0.02 s); real basis: per entry, fine to ``L ~ 16``.
* ``method="recursion"``: the Schulten–Gordon three-term recursion in float64 (numpy, vectorised;
  absolute error a few ulp of 1), for large ``L``.

Wigner ``d^j(beta)`` in JAX in O(j^2) by a two-sided three-term recursion in ``m`` (absolute error
below 1e-14 for ``j <= 2000``, measured max 3.8e-15; ``d^1000`` in well under a second).
Tables are :class:`LookupTable` objects (COO index, values, metadata with conventions and
accuracy); every builder checks its estimated memory against ``max_bytes`` (default 2 GiB) before
allocating.
"""

from nntheory.numerics._rounding import round_exact as round_exact
from nntheory.numerics.so3._basis import real_basis_change_matrix as real_basis_change_matrix
from nntheory.numerics.so3._clebsch_gordan import cg_blocks as cg_blocks
from nntheory.numerics.so3._clebsch_gordan import cg_table as cg_table
from nntheory.numerics.so3._harmonics import real_spherical_harmonics as real_spherical_harmonics
from nntheory.numerics.so3._harmonics import sh_table as sh_table
from nntheory.numerics.so3._lookup_table import LookupTable as LookupTable
from nntheory.numerics.so3._tensor_product import tensor_product as tensor_product
from nntheory.numerics.so3._wigner import wigner_D_matrix as wigner_D_matrix
from nntheory.numerics.so3._wigner import wigner_D_real_matrix as wigner_D_real_matrix
from nntheory.numerics.so3._wigner import wigner_d_matrix as wigner_d_matrix
from nntheory.numerics.so3._wigner import wigner_d_table as wigner_d_table
from nntheory.theory.so3._so3 import wigner_d_half_pi as wigner_d_half_pi

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
