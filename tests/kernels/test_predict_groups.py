"""NTK predictions of training, finite groups on inputs, and emergent invariance at infinite width."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from nntheory.errors import KernelError, SpecError
from nntheory.numerics import (
    GroupError,
    MLPKernel,
    group_from_matrices,
    image_dihedral,
    image_reflections,
    image_rotations,
    item_permutations,
    kernel_regression,
    ntk_predict,
    point_rotations,
)


def _spd(seed, n):
    A = np.random.default_rng(seed).normal(size=(n, n + 3))
    return A @ A.T / n


@given(st.integers(0, 10_000), st.sampled_from(["mean", "sum"]), st.floats(0.05, 0.95))
def test_gd_matches_explicit_function_space_iteration(seed, norm, frac):
    rng = np.random.default_rng(seed)
    n, m, k = 7, 4, 2
    J = _spd(seed, n + m)
    Tt, Tx = J[:n, :n], J[n:, :n]
    Y = rng.normal(size=(n, k))
    scale = Y.size if norm == "mean" else 1.0
    lr = frac * 2 * scale / np.linalg.eigvalsh(Tt)[-1]
    rate = lr / scale
    f_tr, f_te, ref = np.zeros((n, k)), np.zeros((m, k)), []
    for _ in range(31):
        ref.append(f_te.copy())
        f_te = f_te - rate * Tx @ (f_tr - Y)
        f_tr = f_tr - rate * Tt @ (f_tr - Y)
    got = ntk_predict(Tt, Tx, Y, np.arange(31), learning_rate=lr, method="gd", normalization=norm).mean
    np.testing.assert_allclose(got, np.array(ref), rtol=1e-10, atol=1e-12)


def test_flow_matches_matrix_exponential_and_inf_is_kernel_regression():
    J = _spd(1, 9)
    Tt, Tx = J[:6, :6], J[6:, :6]
    Y = np.random.default_rng(0).normal(size=6)
    t = 3.7
    ref = Tx @ np.linalg.solve(Tt, (np.eye(6) - scipy.linalg.expm(-Tt * t / Y.size)) @ Y)
    got = ntk_predict(Tt, Tx, Y, [t]).mean[0]
    np.testing.assert_allclose(got, ref, rtol=1e-11)
    np.testing.assert_allclose(kernel_regression(Tt, Tx, Y), Tx @ np.linalg.solve(Tt, Y), rtol=1e-10)


def test_covariance_equals_linear_map_of_the_initial_gp():
    """f_t = f_0 + Theta_xX T_t (Y - f_0(X)) is linear in the Gaussian f_0: its covariance is A K A^T."""
    n, m = 5, 3
    Th = _spd(2, n + m)
    K = _spd(3, n + m)
    Y = np.random.default_rng(1).normal(size=n)
    t = 11.0
    lam, U = np.linalg.eigh(Th[:n, :n])
    Tmat = U @ np.diag(-np.expm1(-lam * t / n) / lam) @ U.T
    A = np.hstack([-Th[n:, :n] @ Tmat, np.eye(m)])  # acts on (f0(X), f0(x))
    ref = A @ K @ A.T
    got = ntk_predict(Th[:n, :n], Th[n:, :n], Y, [t], nngp_train_train=K[:n, :n], nngp_test_train=K[n:, :n],
                      nngp_test_test=K[n:, n:]).cov[0]
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_prediction_bad_input():
    with pytest.raises(KernelError, match="not positive semi-definite"):
        ntk_predict(np.array([[1.0, 2.0], [2.0, 1.0]]), np.ones((1, 2)), np.ones(2), 1.0)
    with pytest.raises(KernelError, match="positive definite"):
        ntk_predict(np.ones((2, 2)), np.ones((1, 2)), np.ones(2), np.inf)
    with pytest.raises(SpecError, match="learning_rate too large"):
        ntk_predict(np.eye(2), np.ones((1, 2)), np.ones(2), 5, learning_rate=10.0, method="gd")
    with pytest.raises(SpecError, match="t must be times >= 0"):
        ntk_predict(np.eye(2), np.ones((1, 2)), np.ones(2), -1.0)
    with pytest.raises(KernelError, match="shape"):
        ntk_predict(np.eye(2), np.ones((1, 3)), np.ones(2), 1.0)


GROUPS = [
    lambda: image_rotations(5, 5, 4),
    lambda: image_rotations(4, 6, 2, channels=2),
    lambda: image_reflections(3, 4),
    lambda: image_dihedral(4),
    lambda: point_rotations(5, 3),
    lambda: point_rotations(6, 2, equivariant_output=True),
    lambda: item_permutations(4, 2),
    lambda: item_permutations(5, 1, cyclic=True),
]


@pytest.mark.parametrize("make", GROUPS)
def test_group_axioms(make):
    G = make()
    n = G.order
    t = G.table
    assert all(sorted(row) == list(range(n)) for row in t)  # Latin square
    assert list(t[0]) == list(range(n))  # identity
    for g in range(n):
        for h in range(n):
            np.testing.assert_allclose(G.R[g] @ G.R[h], G.R[t[g, h]], atol=1e-12)
            np.testing.assert_allclose(G.rho[g] @ G.rho[h], G.rho[t[g, h]], atol=1e-12)
            for k in range(n):
                assert t[t[g, h], k] == t[g, t[h, k]]  # associativity of the table


@pytest.mark.parametrize("make", GROUPS)
@given(seed=st.integers(0, 10_000), t=st.floats(0.0, 50.0))
def test_augmented_infinite_width_prediction_is_equivariant_off_manifold(make, seed, t):
    G = make()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, G.input_dim))
    y = rng.normal(size=(4, G.output_dim if not G.invariant else 2))
    xa, ya = G.augment(x, y)
    k = MLPKernel("erf", 3, 1.5, 0.1)
    Ktt = np.asarray(k(xa).ntk)

    def f(z):
        return ntk_predict(Ktt, np.asarray(k(z, xa).ntk), ya, [t], learning_rate=1.0).mean[0]

    off = rng.normal(size=(3, G.input_dim))  # noise inputs: off the data manifold
    scale = max(1.0, float(np.max(np.abs(f(off)))))
    assert np.max(G.equivariance_error(f, off)) < 1e-12 * scale * G.order


@given(st.integers(0, 10_000))
def test_augmented_data_equals_group_averaged_kernel(seed):
    G = image_rotations(4, 4, 4)
    rng = np.random.default_rng(seed)
    x, y, xt = rng.normal(size=(5, 16)), rng.normal(size=(5, 3)), rng.normal(size=(4, 16))
    k = MLPKernel("relu", 3, 2.0, 0.1)
    xa, ya = G.augment(x, y)
    ts = [0.5, 4.0, np.inf]
    direct = ntk_predict(np.asarray(k(xa).ntk), np.asarray(k(xt, xa).ntk), ya, ts).mean
    ntk = lambda a, b: np.asarray(k(a, b).ntk)  # noqa: E731
    avg = ntk_predict(G.average_kernel(ntk, x), G.average_kernel(ntk, xt, x), y, ts).mean
    np.testing.assert_allclose(direct, avg, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("call, match", [
    (lambda: image_rotations(8, 8, 8), "not a symmetry of the pixel grid"),
    (lambda: image_rotations(8, 8, 3), "not a symmetry of the pixel grid"),
    (lambda: image_rotations(8, 6, 4), "needs a square image"),
    (lambda: group_from_matrices("bad", np.stack([np.eye(2), 2 * np.eye(2)])), "orthogonal"),
    (lambda: group_from_matrices("bad", np.stack([np.eye(2), np.array([[0.0, -1.0], [1.0, 0.0]])])), "not closed"),
    (lambda: group_from_matrices("bad", np.stack([np.eye(2), -np.eye(2)]), np.stack([np.eye(1), 2 * np.eye(1)])), "not a representation"),
    (lambda: item_permutations(9), "use cyclic=True"),
    (lambda: image_rotations(4, 4, 4).act(7, np.ones(16)), r"element index g must be in \[0, 3\]"),
    (lambda: image_rotations(4, 4, 4).orbit(np.ones((2, 15))), r"shape \(N, 16\)"),
])
def test_group_bad_input(call, match):
    with pytest.raises(GroupError, match=match):
        call()


def test_image_rotation_is_rot90():
    G = image_rotations(3, 3, 4)
    img = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(G.act(1, img.ravel()).reshape(3, 3), np.rot90(img))
