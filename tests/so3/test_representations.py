"""Wigner d/D, spherical harmonics, real bases and CG tensors: exact identities and the JAX paths."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nntheory.errors import SpinError
from nntheory.numerics import (cg_blocks, real_spherical_harmonics, tensor_product, wigner_D_matrix, wigner_D_real_matrix,
                               wigner_d_half_pi, wigner_d_matrix)
from nntheory.testing import Rotation, assert_equivariant, irreps, rotations, spins
from nntheory.theory import (clebsch_gordan_tensor, real_basis_change, rotation_matrix, spherical_harmonics,
                             wigner_D_real, wigner_small_d)

XYZ = sympy.symbols("x y z", real=True)


def _num(M):
    return np.array(sympy.Matrix(M).evalf(30).tolist(), dtype=complex)


#: one compile per spin, reused by every test (the eager call dispatches the recursion's loops op by op, ~1 s)
_d = jax.jit(wigner_d_matrix, static_argnums=0)
_D = jax.jit(wigner_D_matrix, static_argnums=0)
_DR = jax.jit(wigner_D_real_matrix, static_argnums=0)


def _compose(R1, R2):
    """Euler angles (zyz) of R1 R2, well conditioned everywhere, gimbal lock included: beta from
    atan2; alpha + gamma from (1 + cos beta)-weighted entries when beta <= pi/2, alpha - gamma from
    (1 - cos beta)-weighted ones beyond (the other combination's error is damped by sin beta in D)."""
    R = R1.matrix() @ R2.matrix()
    beta = math.atan2(math.hypot(R[0, 2], R[1, 2]), R[2, 2])
    alpha = math.atan2(R[1, 2], R[0, 2])  # (0, 0) at gimbal lock: alpha = 0
    if R[2, 2] >= 0:
        gamma = math.atan2(R[1, 0] - R[0, 1], R[0, 0] + R[1, 1]) - alpha  # sum = alpha + gamma
    else:
        gamma = alpha - math.atan2(-(R[1, 0] + R[0, 1]), R[1, 1] - R[0, 0])  # diff = alpha - gamma
    return Rotation(alpha, beta, gamma)


def test_small_d_is_exactly_orthogonal_and_matches_jax_recursion():
    b = sympy.Symbol("beta", real=True)
    c, s = sympy.symbols("c s")
    for j in (sympy.Rational(1, 2), 1, sympy.Rational(3, 2), 2, 3):
        d = wigner_small_d(j, b).subs({sympy.cos(b / 2): c, sympy.sin(b / 2): s})
        for e in d * d.T - sympy.eye(d.shape[0]):  # polynomial identity modulo c^2 + s^2 = 1
            assert sympy.reduced(sympy.expand(e), [c**2 + s**2 - 1], c, s)[1] == 0
    for j in (sympy.Rational(1, 2), 1, sympy.Rational(5, 2), 4, sympy.Rational(13, 2), 9):
        for beta in (0.0, 0.4, 1.9, math.pi):
            exact = _num(wigner_small_d(j, beta)).real
            # each of the 2j steps adds O(eps): absolute error bound (2j + 1) * 1e-15
            assert np.abs(np.asarray(_d(j, beta)) - exact).max() < float(2 * j + 1) * 1e-15


def test_half_pi_table_is_exact():
    for j in (0, sympy.Rational(1, 2), 3, sympy.Rational(7, 2), 6):
        exact = wigner_small_d(j, sympy.pi / 2)
        ours = wigner_d_half_pi(j)
        for a in range(exact.shape[0]):
            for b in range(exact.shape[1]):
                assert sympy.simplify(ours[a][b].to_sympy() - exact[a, b]) == 0


def test_wigner_d_unitarity_to_l_200():
    """Acceptance 3: unitarity error below 1e-12 up to l = 200 in float64."""
    worst = 0.0
    for l in (50, 120, 200):
        for beta in (0.3, 1.7, 3.0):
            d = np.asarray(_d(l, beta))
            worst = max(worst, np.abs(d @ d.T - np.eye(2 * l + 1)).max())
    D = np.asarray(_D(200, 0.4, 1.1, 2.5))  # jitted: one compile (the eager loops took ~4x longer)
    worst = max(worst, np.abs(D @ D.conj().T - np.eye(401)).max())
    assert worst < 1e-12, worst


@given(rotations(), rotations(), st.sampled_from([0.5, 1, 1.5, 2, 3, 5.5, 8]))
@example(Rotation(0.0, 0.0, 0.0), Rotation(0.0, 0.0, 0.0), 0.5)  # gimbal lock, beta = 0
@example(Rotation(0.3, math.pi / 2, 1.0), Rotation(0.2, math.pi / 2, 0.4), 3)  # beta near pi
@example(Rotation(0.3, 1e-9, 1.0), Rotation(0.2, 0.0, 0.4), 8)  # beta tiny
def test_D_homomorphism_and_unitarity(R1, R2, j):
    R = _compose(R1, R2)
    D1, D2, D = (np.asarray(_D(j, *r)) for r in (R1, R2, R))
    # integer j: a representation of SO(3); half-integer j: of SU(2), so D(R1 R2) = +-D(R1) D(R2)
    err = min(np.abs(D - s * D1 @ D2).max() for s in ((1,) if float(j).is_integer() else (1, -1)))
    assert err < 1e-12
    assert np.abs(D @ D.conj().T - np.eye(D.shape[0])).max() < 1e-13


def test_D_is_the_representation_of_the_rotation_matrix():
    """l = 1 in the real basis is the rotation matrix itself, permuted to (y, z, x)."""
    P = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])  # (x, y, z) -> (y, z, x)
    for angles in [(0.3, 1.1, -0.7), (2.0, 0.2, 1.0)]:
        R = _num(rotation_matrix(*angles)).real
        assert np.abs(np.asarray(wigner_D_real_matrix(1, *angles)) - P @ R @ P.T).max() < 1e-14


@functools.lru_cache(maxsize=None)
def _sh_function(l, basis):
    return sympy.lambdify(XYZ, spherical_harmonics(l, basis=basis))


@settings(max_examples=10)
@given(rotations(), st.sampled_from([1, 2, 3]), st.sampled_from(["complex", "real"]))
def test_spherical_harmonics_transform_exact_polynomials(R, l, basis):
    """Y(R x) = D(R) Y(x) (real basis) and conj(Y)(R x) = D(R) conj(Y)(x) (complex basis)."""
    f = _sh_function(l, basis)
    x = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    y, yr = np.array(f(*x), complex), np.array(f(*(R.matrix() @ x)), complex)
    if basis == "real":
        assert np.abs(yr - np.asarray(_DR(l, *R)) @ y).max() < 1e-13
        assert np.abs(y.imag).max() == 0
    else:
        assert np.abs(np.conj(yr) - np.asarray(_D(l, *R)) @ np.conj(y)).max() < 1e-13


def test_spherical_harmonics_are_orthonormal_and_harmonic():
    x, y, z = XYZ
    for l in range(4):
        for basis in ("real", "complex"):
            ys = spherical_harmonics(l, basis=basis)
            for e in ys:
                assert sympy.expand(sum(sympy.diff(e, v, 2) for v in XYZ)) == 0  # harmonic
    # orthonormality on the sphere: exact integrals of monomials, <x^a y^b z^c> over S^2
    def sphere_integral(poly):
        total = 0
        for (a, b, c), coeff in sympy.Poly(sympy.expand(poly), x, y, z).terms():
            if a % 2 or b % 2 or c % 2:
                continue
            g = sympy.gamma
            total += coeff * 2 * g(sympy.Rational(a + 1, 2)) * g(sympy.Rational(b + 1, 2)) * g(sympy.Rational(c + 1, 2)) / g(sympy.Rational(a + b + c + 3, 2))
        return sympy.simplify(total)
    ys = spherical_harmonics(2, basis="real")
    for i in range(5):
        for k in range(i, 5):
            assert sphere_integral(ys[i] * ys[k]) == (1 if i == k else 0)


def test_real_basis_change_is_unitary_and_makes_D_real():
    for l in range(4):
        U = real_basis_change(l)
        assert sympy.simplify(U * U.H - sympy.eye(2 * l + 1)) == sympy.zeros(2 * l + 1)
    for l in range(3):
        D = wigner_D_real(l, sympy.Rational(1, 3), sympy.Rational(2, 3), sympy.Rational(-1, 5))
        assert all(e.is_real for e in D)
        assert np.abs(_num(D).real - np.asarray(_DR(l, 1 / 3, 2 / 3, -1 / 5))).max() < 1e-14


@pytest.mark.parametrize("basis", ["complex", "real"])
@pytest.mark.parametrize("triple", [(1, 1, 1), (1, 1, 2), (2, 1, 3), (2, 2, 2), (sympy.Rational(1, 2), 1, sympy.Rational(3, 2))])
def test_exact_cg_tensors_intertwine(triple, basis):
    """(D1 (x) D2) C = C D_J at a numeric rotation; real tensors have real entries."""
    j1, j2, J = triple
    if basis == "real" and any(sympy.Rational(j).q != 1 for j in triple):
        with pytest.raises(SpinError):
            clebsch_gordan_tensor(j1, j2, J, basis="real")
        return
    C = np.array(clebsch_gordan_tensor(j1, j2, J, basis=basis).tolist(), dtype=complex)
    if basis == "real":
        assert all(sympy.sympify(e).is_real for e in clebsch_gordan_tensor(j1, j2, J, basis="real").tolist() for e in np.ravel(e))
    ang = (0.7, 1.2, -0.4)
    Dm = (lambda j: np.asarray(_DR(j, *ang))) if basis == "real" else (lambda j: np.asarray(_D(j, *ang)))
    lhs = np.einsum("ai,bj,ijk->abk", Dm(j1), Dm(j2), C)
    rhs = np.einsum("abk,kc->abc", C, Dm(J))
    assert np.abs(lhs - rhs).max() < 1e-13
    # each M column is a unit vector (cg normalisation)
    assert np.allclose(np.einsum("abk,abk->k", C.conj(), C), 1)


_BLOCKS = cg_blocks(10, method="recursion")


@settings(max_examples=15)
@given(rotations(), irreps(5), irreps(5), st.data())
def test_tensor_product_equivariant_dense_and_sparse(R, l1, l2, data):
    L = data.draw(st.integers(abs(l1 - l2), l1 + l2))
    C = _BLOCKS[(l1, l2, L)]

    def dense(x):
        return tensor_product(x[..., : 2 * l1 + 1], x[..., 2 * l1 + 1 :], C)

    nz = np.nonzero(C)
    coo = (np.stack(nz, axis=1), C[nz], 2 * L + 1)

    def sparse(x):
        return tensor_product(x[..., : 2 * l1 + 1], x[..., 2 * l1 + 1 :], coo)

    assert_equivariant(dense, [l1, l2], L, rotation=R, atol=1e-12)
    x = np.random.default_rng(0).standard_normal((3, 2 * l1 + 2 * l2 + 2))
    assert np.abs(np.asarray(dense(x)) - np.asarray(sparse(x))).max() < 1e-14


def test_assert_equivariant_catches_a_broken_map():
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda x: x ** 2, 1, 1)


def test_real_sh_jax_matches_exact_polynomials_and_is_batched():
    pts = np.random.default_rng(2).standard_normal((7, 3))
    Y = np.asarray(real_spherical_harmonics(6, pts, normalization="component"))
    u = pts / np.linalg.norm(pts, axis=1, keepdims=True)
    ref = np.concatenate([np.array([sympy.lambdify(XYZ, spherical_harmonics(l, normalization="component"))(*p) for p in u]).reshape(7, -1)
                          for l in range(7)], axis=1)
    assert np.abs(Y - ref).max() < 1e-13
    batched = jax.jit(jax.vmap(lambda p: real_spherical_harmonics(6, p)))(jnp.asarray(pts))
    assert np.abs(np.asarray(batched) - np.asarray(real_spherical_harmonics(6, pts))).max() < 1e-15


_SH40 = jax.jit(lambda p: real_spherical_harmonics(20, p, normalization="norm"))


@given(rotations())
@settings(max_examples=10)
def test_real_sh_high_l_equivariant(R):
    pts = np.random.default_rng(3).standard_normal((5, 3))
    lmax = 20
    Y = np.asarray(_SH40(pts))
    YR = np.asarray(_SH40(pts @ R.matrix().T))
    D = np.asarray(_DR(lmax, *R))
    block = slice(lmax * lmax, (lmax + 1) ** 2)
    assert np.abs(YR[:, block] - Y[:, block] @ D.T).max() < 1e-12


def test_wigner_d_vmaps_over_rotations():
    betas = jnp.linspace(0.0, math.pi, 9)
    batched = jax.jit(jax.vmap(lambda b: wigner_d_matrix(3, b)))(betas)  # jit: one compile, not op-by-op dispatch
    for k, b in enumerate(np.asarray(betas)):
        assert np.abs(np.asarray(batched[k]) - np.asarray(_d(3, float(b)))).max() < 1e-15  # unbatched
    D = jax.jit(jax.vmap(lambda a, b, g: wigner_D_real_matrix(2, a, b, g)))(betas, betas, betas)
    assert D.shape == (9, 5, 5)


@given(spins(3))
def test_half_integer_D_is_a_projective_representation(j):
    """A 2pi rotation gives (-1)^(2j): the spinor sign."""
    D = np.asarray(_D(j, 2 * math.pi, 0.0, 0.0))  # jitted: one compile per spin (eager dispatch took ~2 s a call)
    assert np.abs(D - (-1) ** int(2 * j) * np.eye(int(2 * j) + 1)).max() < 1e-13
