"""Trainable CNNs / C4 GCNNs (validation) against their infinite-width kernels (numerics.ConvKernel)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nntheory.errors import SpecError
from nntheory.numerics import ConvKernel, MLPKernel
from nntheory.validation import TrainedConvSpec, TrainedMLPSpec
from nntheory.validation.kernels import trained_spec, validate_equivariance, validate_training
from nntheory.validation.kernels._architectures import _sigma

jax.config.update("jax_enable_x64", True)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), depth=st.integers(2, 4), q=st.integers(1, 3))
def test_gcnn_is_exactly_rotation_invariant_and_cnn_translation_invariant(seed, depth, q):
    """Lifting + group convolutions + pooling over positions and rotations: f(R x) = f(x) for R in C4;
    periodic convolutions + global pooling: f(shifted x) = f(x). Both to round-off, at any parameters."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 5, 5, 2))
    for n_rot, moved in ((4, np.rot90(x, k=q, axes=(1, 2))), (1, np.roll(x, shift=(q, -2 * q), axis=(1, 2)))):
        spec = TrainedConvSpec("tanh", depth, 4, 1.3**2, 0.2**2, out_dim=2, image_size=5, n_rot=n_rot)
        p = spec.init(jax.random.key(seed % 1000), 50)
        sig = _sigma(spec.activation)
        f = np.asarray(spec.apply(p, jnp.asarray(x.reshape(3, -1)), sig))
        g = np.asarray(spec.apply(p, jnp.asarray(moved.reshape(3, -1)), sig))
        np.testing.assert_allclose(g, f, rtol=1e-12, atol=1e-12 * np.max(np.abs(f)))
    # the plain CNN is not rotation invariant (the check above is not vacuous)
    spec = TrainedConvSpec("tanh", depth, 4, 1.3**2, 0.2**2, out_dim=2, image_size=5, n_rot=1)
    p = spec.init(jax.random.key(1), 50)
    sig = _sigma(spec.activation)
    f = np.asarray(spec.apply(p, jnp.asarray(x.reshape(3, -1)), sig))
    g = np.asarray(spec.apply(p, jnp.asarray(np.rot90(x, k=q, axes=(1, 2)).reshape(3, -1)), sig))
    assert np.max(np.abs(f - g)) > 1e-3


@pytest.mark.parametrize("n_rot", [1, 4])
def test_one_layer_conv_nets_match_conv_kernel(n_rot):
    """One (lifting) convolution, pooling, dense read-out: z^(1) is exactly Gaussian, so E[f f'] and the mean
    empirical NTK of the trainable networks equal ConvKernel at any channel count (within 4 SE)."""
    spec = TrainedConvSpec.neural_tangents("erf", W_std=1.3, b_std=0.3, depth=1, width=3, image_size=4, n_rot=n_rot)
    assert spec.depth == 2 and spec.kernel().kernel.depth == 2  # one convolution + the read-out
    sig = _sigma(spec.activation)
    X = jnp.asarray(np.random.default_rng(n_rot).normal(size=(2, 16)))

    def one(k):
        p = spec.init(k, 16)
        f = spec.apply(p, X, sig)[:, 0]
        J = jax.jacrev(lambda p: spec.apply(p, X, sig)[:, 0])(p)
        flat = jnp.concatenate([j.reshape(2, -1) for j in jax.tree_util.tree_leaves(J)], axis=1)
        return jnp.outer(f, f), flat @ flat.T

    ff, ntk = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(3), 4000))
    k = spec.kernel()(np.asarray(X))
    for mc, th in ((np.asarray(ff), np.asarray(k.nngp)), (np.asarray(ntk), np.asarray(k.ntk))):
        se = mc.std(0, ddof=1) / np.sqrt(mc.shape[0])
        assert np.max(np.abs((mc.mean(0) - th) / se)) < 4.0


def test_conv_kernel_chunks_agree():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 4, 4)), rng.normal(size=(3, 4, 4))
    k = trained_spec("gcnn", "relu", 3, 8, 1.4**2, 0.1**2, 1, image_size=4).kernel().kernel
    a, b = k(x, y), k(x, y, chunk=2)
    np.testing.assert_allclose(np.asarray(b.ntk), np.asarray(a.ntk), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(b.nngp), np.asarray(a.nngp), rtol=1e-14)


def test_trained_cnn_ensembles_approach_conv_ntk_with_channels():
    """Trained CNN ensembles (digits) against the CNN NTK prediction: the distance falls with the channel count."""
    res = validate_training(activation="erf", arch="cnn", widths=(8, 32, 128), n_nets=12, n_train=32, n_test=16,
                            steps=60, every=30, seed=1)
    d = [r["distance"][-1] for r in res.rows]
    se = [r["distance_se"][-1] for r in res.rows]
    assert d[0] > d[1] > d[2], (d, se)
    assert d[0] - d[2] > 3 * np.hypot(se[0], se[2]), (d, se)
    assert res.passed


@pytest.mark.parametrize("arch", ["mlp", "cnn", "gcnn"])
def test_neural_tangents_constructors_give_the_same_network(arch):
    """depth = layers with weights, read-out included; neural_tangents(W_std, b_std, depth nonlinearities) is the
    spec with depth + 1 layers and C = std**2: equal specs, equal parameters for a key, equal outputs and kernels."""
    kw = {} if arch == "mlp" else {"image_size": 4, "n_rot": 1 if arch == "cnn" else 4}
    cls = TrainedMLPSpec if arch == "mlp" else TrainedConvSpec
    nt = cls.neural_tangents("erf", W_std=1.3, b_std=0.4, depth=2, width=5, out_dim=2, **kw)
    direct = trained_spec(arch, "erf", 3, 5, 1.3**2, 0.4**2, 2, image_size=4)
    assert nt == direct and (nt.depth, nt.C_W, nt.C_b) == (3, 1.3**2, 0.4**2)
    assert nt._scales == (1.3, 0.4)  # sqrt(W_std**2) == W_std exactly: the network is the one neural-tangents builds
    p = nt.init(jax.random.key(0), 16)
    assert len(p) == 3  # two hidden (convolutional) layers + the read-out
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 16)))
    np.testing.assert_array_equal(np.asarray(nt.apply(p, x, _sigma(nt.activation))), np.asarray(direct.apply(p, x, _sigma(direct.activation))))
    if arch == "mlp":
        assert nt.kernel() == MLPKernel.neural_tangents("erf", W_std=1.3, b_std=0.4, depth=2)
        assert nt.kernel().depth == nt.depth
    else:
        assert nt.kernel().kernel == ConvKernel.neural_tangents("erf", W_std=1.3, b_std=0.4, depth=2, n_rot=kw["n_rot"])
        assert nt.kernel().kernel.depth == nt.depth


@pytest.mark.parametrize("call, match", [
    (lambda: TrainedConvSpec("relu", 2, 4, n_rot=3), "n_rot must be 1, 2 or 4"),
    (lambda: TrainedConvSpec("relu", 2, 4, filter_size=4), "filter_size must be odd"),
    (lambda: TrainedConvSpec("relu", 1, 4), r"depth must be an integer >= 2"),
    (lambda: TrainedMLPSpec("relu", 1, 4), r"TrainedMLPSpec \(layers: hidden \+ read-out\): depth must be an integer >= 2"),
    (lambda: TrainedMLPSpec("relu", 2, 4, C_W=0.0), "C_W must be a real number > 0"),
    (lambda: TrainedConvSpec("relu", 2, 4, C_b=-0.1), "C_b must be a real number >= 0"),
    (lambda: TrainedConvSpec.neural_tangents("relu", W_std=1.0, b_std=0.0, depth=0, width=4), "number of nonlinearities"),
    (lambda: TrainedMLPSpec.neural_tangents("relu", W_std=-1.0, b_std=0.0, depth=1, width=4), "W_std must be a real number > 0"),
    (lambda: trained_spec("resnet", "relu", 2, 4, 1.0, 0.0, 1), "arch must be one of"),
    (lambda: TrainedConvSpec("relu", 2, 4, image_size=8).apply(None, jnp.ones((2, 60)), None), "not 8x8 images"),
    (lambda: validate_equivariance(arch="gcnn"), "invariant by construction"),
])
def test_conv_training_bad_input(call, match):
    with pytest.raises(SpecError, match=match):
        call()


def test_emergent_invariance_of_augmented_cnn_ensembles():
    """CNNs (not invariant by construction) trained on C4-augmented digits: the infinite-width prediction is
    invariant to round-off, and the ensemble mean's invariance error falls with ensemble size like 1/sqrt(m)."""
    res = validate_equivariance(arch="cnn", activation="relu", width=32, n_nets=32, n_train=8, n_test=8, n_noise=8,
                                steps=30, sizes=(1, 16), seed=3)
    for where in ("train", "test", "noise"):
        assert res.theory["augmented"][where] < 1e-11
        r = res.rows["augmented"][where]
        (e1, e16), (s1, s16) = r["error"], r["error_se"]
        assert e1 - e16 > 6 * np.hypot(s1, s16), r
        assert abs(e16 / e1 - 0.25) < 0.15, r  # the Monte Carlo noise of the mean: 1/sqrt(16)
        assert res.theory["plain"][where] > 1e-2  # without augmentation the prediction is not invariant
