"""Monte Carlo NNGP/NTK of finite MLPs (validation.kernels._monte_carlo).

References: jax.jacobian of the network (exact, float64), the infinite-width kernels of MLPKernel (quadrature /
closed forms) extrapolated over a width sweep with the compiled 1/n correction K1 of the finite-width recursion,
and the explicit-weight sampler for the projected one (same law, compared within standard errors). Every
statistical check is |z| < 4 with z from the standard errors over independent networks; seeds are fixed.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nntheory.numerics import MLPKernel
from nntheory.theory import activation
from nntheory.validation import fit_intercept, monte_carlo_kernels, theory_statistics
from nntheory.validation._networks import activation_fns, pdlt_mlp_params
from nntheory.validation.kernels._monte_carlo import network_kernels

X = np.random.default_rng(4).normal(size=(3, 8))
X[1] = 0.6 * X[0] + 0.8 * X[1]
CASES = [("relu", 2.0, 0.0), ("tanh", 1.5, 0.2)]


def test_contraction_ntk_equals_jacobian_ntk():
    act = activation("tanh")
    sig, dsig = activation_fns(act)
    sizes, lW, lb = (8, 7, 6, 3), 0.7, 0.3
    params = pdlt_mlp_params(jax.random.key(2), sizes, 1.3, 0.2, jnp.float64)
    x = jnp.asarray(X)

    def f(p):
        h = x
        for i, (W, b) in enumerate(p):
            h = h @ W.T + b if i == len(p) - 1 else sig(h @ W.T + b)
        return h  # (m, out)

    jac = jax.jacobian(f)(params)
    ref = np.zeros((3, 3))
    for l, (JW, Jb) in enumerate(jac):
        JW, Jb = np.asarray(JW).reshape(3, 3, -1), np.asarray(Jb).reshape(3, 3, -1)  # (m, out, params)
        ref += lb * np.einsum("aop,bop->ab", Jb, Jb) + lW / sizes[l] * np.einsum("aop,bop->ab", JW, JW)
    ref /= sizes[-1]
    nngp, ntk = network_kernels(params, x, sig, dsig, lambda_W=lW, lambda_b=lb)
    np.testing.assert_allclose(np.asarray(ntk), ref, rtol=1e-12, atol=0)
    z = np.asarray(f(params))
    np.testing.assert_allclose(np.asarray(nngp), z @ z.T / 3, rtol=1e-12, atol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name,C_W,C_b", CASES)
def test_projected_sampler_has_the_law_of_explicit_weights(name, C_W, C_b):
    # width 16: the 1/n structure is large, so a wrong conditional draw would show in the means or the spreads
    kw = dict(depth=3, width=16, C_W=C_W, C_b=C_b, lambda_W=0.7, lambda_b=0.3, n_nets=20000)
    p = monte_carlo_kernels(activation(name), X, key=jax.random.key(1), method="projected", **kw)
    w = monte_carlo_kernels(activation(name), X, key=jax.random.key(2), method="weights", **kw)
    for v1, s1, v2, s2 in ((p.nngp, p.nngp_se, w.nngp, w.nngp_se), (p.ntk, p.ntk_se, w.ntk, w.ntk_se)):
        z = (v1 - v2) / np.hypot(s1, s2)
        assert np.max(np.abs(z)) < 4, z
        np.testing.assert_allclose(s1, s2, rtol=0.1)  # spreads over networks (sampling error of an SE ~1-2 %)


def _sweep(name, C_W, C_b, widths=(32, 64, 128), n_nets=3000, dtype="float64"):
    act = activation(name)
    kw = dict(depth=3, C_W=C_W, C_b=C_b, lambda_W=0.7, lambda_b=0.3)
    runs = [monte_carlo_kernels(act, X, width=n, key=jax.random.key(10 + i), n_nets=n_nets, dtype=dtype, **kw)
            for i, n in enumerate(widths)]
    ref = MLPKernel(name, **kw)(X)
    K1 = theory_statistics(act, X @ X.T / X.shape[1], **kw)["K1"][-1]
    return runs, np.asarray(ref.nngp), np.asarray(ref.ntk), K1


@pytest.mark.slow
@pytest.mark.parametrize("name,C_W,C_b", CASES)
def test_width_sweep_extrapolates_to_infinite_width_kernels(name, C_W, C_b):
    widths = (32, 64, 128)
    runs, K, T, K1 = _sweep(name, C_W, C_b, widths)
    n = np.asarray(widths, float)[:, None, None]
    # NNGP: E G = K + K1/n + O(1/n^2) -> regress G - K1/n on 1/n^2; NTK: E Theta = Theta + O(1/n) -> on 1/n
    y = np.stack([r.nngp for r in runs]) - K1 / n
    b0, se, _ = fit_intercept(1 / n**2, y, np.stack([r.nngp_se for r in runs]))
    assert np.max(np.abs((b0 - K) / se)) < 4, (b0 - K) / se
    b0, se, _ = fit_intercept(1 / n, np.stack([r.ntk for r in runs]), np.stack([r.ntk_se for r in runs]))
    assert np.max(np.abs((b0 - T) / se)) < 4, (b0 - T) / se


def test_relu_diagonal_is_exact_at_finite_width_in_float32():
    # ReLU, C_b = 0: E[G_aa] = K_aa and E[Theta_aa] = Theta_aa at every width (scale invariance), so a single
    # small width must agree within 4 SE, in single precision too
    r = monte_carlo_kernels(activation("relu"), X, depth=4, width=24, C_W=2.0, C_b=0.0, key=jax.random.key(3),
                            n_nets=4000, dtype="float32")
    ref = MLPKernel("relu", depth=4, C_W=2.0, C_b=0.0)(X)
    d = np.arange(3)
    assert r.dtype == "float32" and r.n_nets == 4000
    assert np.max(np.abs((r.nngp - np.asarray(ref.nngp))[d, d] / r.nngp_se[d, d])) < 4
    assert np.max(np.abs((r.ntk - np.asarray(ref.ntk))[d, d] / r.ntk_se[d, d])) < 4


def test_refusals():
    relu = activation("relu")
    kw = dict(depth=2, width=8, C_W=2.0, C_b=0.0, key=jax.random.key(0), n_nets=4)
    with pytest.raises(ValueError, match="method must be one of"):
        monte_carlo_kernels(relu, X, method="jacobian", **kw)
    with pytest.raises(ValueError, match="dtype must be one of"):
        monte_carlo_kernels(relu, X, dtype="float16", **kw)
    with pytest.raises(ValueError, match="n_nets must be an integer >= 2"):
        monte_carlo_kernels(relu, X, **{**kw, "n_nets": 1})
    with pytest.raises(ValueError, match="inputs must be finite"):
        monte_carlo_kernels(relu, np.full((2, 3), np.nan), **kw)
    # depth 1 is deterministic (standard error 0): float32 round-off cannot be bounded by it
    with pytest.raises(ValueError, match="float32 round-off"):
        monte_carlo_kernels(relu, X, **{**kw, "depth": 1}, dtype="float32")
    r = monte_carlo_kernels(relu, X, **{**kw, "depth": 1})
    np.testing.assert_allclose(r.ntk, 1.0 + X @ X.T / 8, rtol=1e-12)
    np.testing.assert_array_equal(r.ntk_se, 0 * r.ntk_se)
