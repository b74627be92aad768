"""CNN and C4 group-convolutional NNGP/NTK: the GCNN kernel is the C4-averaged CNN kernel; MC of real nets."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nntheory.errors import KernelError, SpecError
from nntheory.numerics import ConvKernel, image_rotations, ntk_predict


@pytest.mark.parametrize("act, depth", [("relu", 2), ("relu", 4), ("erf", 3)])
def test_gcnn_kernel_is_group_averaged_cnn_kernel(act, depth):
    rng = np.random.default_rng(depth)
    x, y = rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 4, 4))
    g = ConvKernel(act, depth, 1.3**2, 0.2**2, n_rot=4)(x, y)
    cnn = [ConvKernel(act, depth, 1.3**2, 0.2**2, n_rot=1)(x, np.rot90(y, k=q, axes=(1, 2))) for q in range(4)]
    np.testing.assert_allclose(np.asarray(g.nngp), sum(np.asarray(c.nngp) for c in cnn) / 4, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(g.ntk), sum(np.asarray(c.ntk) for c in cnn) / 4, rtol=1e-13)


def test_gcnn_regression_equals_augmented_cnn_regression_and_is_invariant():
    """Kernel regression with the GCNN NTK = regression on C4-augmented data with the CNN NTK (at every t)."""
    rng = np.random.default_rng(0)
    x, y, xt = rng.normal(size=(3, 4, 4)), rng.normal(size=(3, 2)), rng.normal(size=(2, 4, 4))
    G = image_rotations(4, 4, 4)
    xa, ya = G.augment(x.reshape(3, -1), y)
    xa = xa.reshape(-1, 4, 4)
    cnn, gcnn = ConvKernel("relu", 3, 1.4**2, 0.1**2, n_rot=1), ConvKernel("relu", 3, 1.4**2, 0.1**2, n_rot=4)
    ts = [1.0, 20.0]
    aug = ntk_predict(np.asarray(cnn(xa).ntk), np.asarray(cnn(xt, xa).ntk), ya, ts).mean
    eq = ntk_predict(np.asarray(gcnn(x).ntk), np.asarray(gcnn(xt, x).ntk), y, ts).mean
    np.testing.assert_allclose(aug, eq, rtol=1e-10, atol=1e-12)
    rot = ntk_predict(np.asarray(gcnn(x).ntk), np.asarray(gcnn(np.rot90(xt, axes=(1, 2)), x).ntk), y, ts).mean
    np.testing.assert_allclose(rot, eq, rtol=1e-12, atol=1e-13)


def test_lifting_layer_kernels_against_real_gcnns():
    """One lifting layer (rotated 3x3 filters, periodic), invariant pooling, dense read-out: E[f f'] and the
    mean empirical NTK equal the infinite-width kernels at every channel count (z^(1) is exactly Gaussian)."""
    rng = np.random.default_rng(5)
    X = jnp.asarray(rng.normal(size=(2, 4, 4)))
    W_std, b_std, C = 1.3, 0.3, 6

    def net(params, x):
        W, b, w, b2 = params
        zs = []
        for r in range(4):  # lifting: correlate with the filter rotated by r * 90 degrees
            F = jnp.rot90(W, k=r, axes=(1, 2))  # (C, 3, 3)
            z = sum(F[:, i, j][:, None, None] * jnp.roll(x, shift=(1 - i, 1 - j), axis=(0, 1)) for i in range(3) for j in range(3))
            zs.append(W_std / 3.0 * z + b_std * b[:, None, None])
        h = jax.nn.relu(jnp.stack(zs)).mean(axis=(0, 2, 3))  # pool over rotations and positions: (C,)
        return W_std / np.sqrt(C) * h @ w + b_std * b2

    def one(key):
        k = jax.random.split(key, 4)
        p = (jax.random.normal(k[0], (C, 3, 3)), jax.random.normal(k[1], (C,)), jax.random.normal(k[2], (C,)), jax.random.normal(k[3], ()))
        f = jnp.stack([net(p, X[i]) for i in range(2)])
        J = [jax.grad(net)(p, X[i]) for i in range(2)]
        flat = jnp.stack([jnp.concatenate([g.ravel() for g in jax.tree_util.tree_leaves(j)]) for j in J])
        return jnp.outer(f, f), flat @ flat.T

    ff, ntk = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(1), 3000))
    kern = ConvKernel.neural_tangents("relu", W_std=W_std, b_std=b_std, depth=1, n_rot=4)
    assert (kern.depth, kern.C_W, kern.C_b) == (2, W_std**2, b_std**2)  # one lifting layer + the read-out
    k = kern(np.asarray(X))
    for mc, th in ((np.asarray(ff), np.asarray(k.nngp)), (np.asarray(ntk), np.asarray(k.ntk))):
        se = mc.std(0, ddof=1) / np.sqrt(mc.shape[0])
        assert np.max(np.abs((mc.mean(0) - th) / se)) < 4.0


@pytest.mark.parametrize("call, match", [
    (lambda: ConvKernel("relu", 2, 1.0, n_rot=8), "not.*|n_rot must be 1, 2 or 4"),
    (lambda: ConvKernel("relu", 2, 1.0, filter_size=2), "odd integer"),
    (lambda: ConvKernel("relu", 1, 1.0), r"ConvKernel \(layers: convolutions \+ read-out\): depth must be an integer >= 2"),
    (lambda: ConvKernel("relu", 2, 0.0), "C_W must be a real number > 0"),
    (lambda: ConvKernel("relu", 2, 1.0, -1.0), "C_b must be a real number >= 0"),
    (lambda: ConvKernel.neural_tangents("relu", W_std=1.0, b_std=0.0, depth=0), "number of nonlinearities"),
    (lambda: ConvKernel.neural_tangents("relu", W_std=1.0, b_std=-0.1, depth=1), "b_std must be a real number >= 0"),
    (lambda: ConvKernel("relu", 2, 1.0)(np.ones((2, 4, 5))), "square images"),
    (lambda: ConvKernel("relu", 2, 1.0)(np.ones((2, 4, 4)), np.ones((1, 3, 3))), "same image shape"),
])
def test_conv_bad_input(call, match):
    with pytest.raises((SpecError, KernelError), match=match):
        call()


def test_quadrature_dual_functions_run_in_bounded_blocks(monkeypatch):
    """The quadrature route (activations without closed forms, in layers beyond Mehler's range) integrates every
    spatial covariance entry; the entries go through in blocks (so a C4 GCNN of tanh no longer asks for ~70 GB)
    and blocking changes nothing."""
    from nntheory.numerics.kernels import _conv_kernels, _kernels

    x = np.random.default_rng(3).normal(size=(3, 3, 3))
    k = ConvKernel("tanh", depth=2, C_W=1.3, C_b=0.2, n_rot=2, filter_size=3)
    a = k._images(x, "x")
    whole = _conv_kernels._block(k, a[:2], a[:2])  # 2 * 2 * 9 entries per side: one vmap
    monkeypatch.setattr(_kernels, "_QUAD_BLOCK", 7)  # a new input shape is traced again, now in blocks of 7
    blocked = _conv_kernels._block(k, a, a)
    np.testing.assert_allclose(np.asarray(blocked[0])[:2, :2], np.asarray(whole[0]), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(blocked[1])[:2, :2], np.asarray(whole[1]), rtol=1e-13)
    assert _kernels._blocked(lambda a: jnp.stack([a, 2 * a]), [jnp.arange(10.0)], (0.0,), 3).shape == (10, 2)
