r"""SO(3)/SU(2) representation theory, exactly (sympy and Python integers only).

Conventions (one set, everywhere in nntheory; ``nntheory.numerics.so3`` follows them):

* Basis ``|j m>`` with ``m`` ascending, ``m = -j, ..., j``, along every axis of every matrix and
  tensor; Condon–Shortley phases.
* Rotations are active, Euler angles ZYZ: ``D^j_{m' m}(alpha, beta, gamma) =
  <j m'| exp(-i alpha J_z) exp(-i beta J_y) exp(-i gamma J_z) |j m> = exp(-i m' alpha) d^j_{m' m}(beta)
  exp(-i m gamma)``, representing ``R = R_z(alpha) R_y(beta) R_z(gamma)``; ``D(R1 R2) = D(R1) D(R2)``.
* Complex spherical harmonics ``Y_l^m`` are orthonormal on the sphere (CS phase) and satisfy
  ``Y(R x) = conj(D^l(R)) Y(x)``.
* Real basis (tesseral): ``Y_real = U Y_complex`` with ``m > 0: sqrt2 (-1)^m Re Y_l^m``,
  ``m = 0: Y_l^0``, ``m < 0: sqrt2 (-1)^m Im Y_l^{|m|}``; for ``l = 1`` the components are
  proportional to ``(y, z, x)``. ``U`` is :func:`real_basis_change`, its coefficients
  :func:`real_basis_terms` (the one definition). ``D_real(R) = conj(U) D(R) U^T`` is real orthogonal
  and ``Y_real(R x) = D_real(R) Y_real(x)``.
* Coupling: ``clebsch_gordan(j1, m1, j2, m2, J, M) = <j1 m1 j2 m2|J M>
  = (-1)^(j1 - j2 + M) sqrt(2J + 1) (j1 j2 J; m1 m2 -M)``. Tensors
  (:func:`clebsch_gordan_tensor`) come as ``normalization="cg"`` (each ``M`` column a unit vector),
  ``"unit"`` (divided by ``sqrt(2J+1)``: unit Frobenius norm) or ``"3j"`` (the invariant 3j tensor);
  in the real basis ``C_real = (conj(U1) (x) conj(U2)) C U_J^T``, times ``-i`` when ``l1 + l2 + L`` is
  odd, which makes it real.
* e3nn / e3nn-jax differ: ``y`` is their polar axis and their ``l = 1`` order is ``(x, y, z)``, so
  ``v_e3nn = Q v_nntheory`` with ``Q = D_real(P)``, ``P: (x, y, z) -> (z, x, y)``
  (:func:`e3nn_basis_change`); their CG tensors have unit Frobenius norm and a per-triple sign
  ``(-1)^ceil((l1 + l2 + L)/2)`` (:func:`e3nn_clebsch_gordan`).

Exact coefficients are :class:`ExactValue` ``±(p/q) sqrt(r)``; spins are ``int``, ``Fraction``,
sympy ``Rational`` or exact half-integer floats; invalid ones raise :class:`~nntheory.errors.SpinError`.
"""

from nntheory.theory.so3._basis import RealBasisTerm as RealBasisTerm
from nntheory.theory.so3._basis import real_basis_change as real_basis_change
from nntheory.theory.so3._basis import real_basis_terms as real_basis_terms
from nntheory.theory.so3._exact import ExactValue as ExactValue
from nntheory.theory.so3._recoupling import exact_6j as exact_6j
from nntheory.theory.so3._recoupling import exact_9j as exact_9j
from nntheory.theory.so3._recoupling import wigner_6j as wigner_6j
from nntheory.theory.so3._recoupling import wigner_9j as wigner_9j
from nntheory.theory.so3._so3 import clebsch_gordan_tensor as clebsch_gordan_tensor
from nntheory.theory.so3._so3 import e3nn_basis_change as e3nn_basis_change
from nntheory.theory.so3._so3 import e3nn_clebsch_gordan as e3nn_clebsch_gordan
from nntheory.theory.so3._so3 import projections as projections
from nntheory.theory.so3._so3 import rotation_matrix as rotation_matrix
from nntheory.theory.so3._so3 import spherical_harmonics as spherical_harmonics
from nntheory.theory.so3._so3 import wigner_D as wigner_D
from nntheory.theory.so3._so3 import wigner_D_real as wigner_D_real
from nntheory.theory.so3._so3 import wigner_small_d as wigner_small_d
from nntheory.theory.so3._su2 import clebsch_gordan as clebsch_gordan
from nntheory.theory.so3._su2 import exact_3j as exact_3j
from nntheory.theory.so3._su2 import exact_clebsch_gordan as exact_clebsch_gordan
from nntheory.theory.so3._su2 import wigner_3j as wigner_3j

__all__ = [
    "ExactValue",
    "RealBasisTerm",
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
    "real_basis_terms",
    "rotation_matrix",
    "spherical_harmonics",
    "wigner_3j",
    "wigner_6j",
    "wigner_9j",
    "wigner_D",
    "wigner_D_real",
    "wigner_small_d",
]
