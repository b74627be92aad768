"""ConvKernel of smooth activations without closed forms: Mehler's series per layer against the 2-d quadrature route."""

import jax
import numpy as np
import pytest

from nntheory.numerics import ConvKernel
from nntheory.numerics.kernels import _conv_kernels as ck


@pytest.mark.parametrize("act, n_rot, depth", [("tanh", 2, 3), ("gelu", 1, 3)])
def test_mehler_route_equals_quadrature_route(act, n_rot, depth, monkeypatch):
    """Every layer goes through the series (the quadrature fallback is disabled), and the kernels agree with the
    independent two-dimensional quadrature of the whole network (one jitted program) to 1e-12 relative."""
    x = np.random.default_rng(7).normal(size=(2, 2, 2))
    k = ConvKernel(act, depth, C_W=1.3, C_b=0.2, n_rot=n_rot, filter_size=3)
    a = k._images(x, "x")
    nngp_q, ntk_q = ck._block(k, a, a)

    def refuse(*args, **kw):
        raise AssertionError("the quadrature fallback ran")

    monkeypatch.setattr(ck, "_nonlin_jit", refuse)
    out = k(x)
    for got, want in ((out.nngp, nngp_q), (out.ntk, ntk_q)):
        got, want = np.asarray(got), np.asarray(want)
        assert np.all(np.isfinite(got))
        assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))


def test_large_variances_fall_back_to_quadrature(monkeypatch):
    """A layer beyond the series' range (variances > MEHLER_K_MAX) takes the quadrature route, never the series."""
    x = 3.0 * np.random.default_rng(8).normal(size=(2, 2, 2))
    k = ConvKernel("tanh", 2, C_W=1.0, C_b=0.0, n_rot=1, filter_size=1)
    assert float(np.max(x**2)) > ck.MEHLER_K_MAX  # the read-out layer's largest variance is C_W max x^2

    def refuse(*args, **kw):
        raise AssertionError("the series ran beyond its range")

    monkeypatch.setattr(ck, "_dense_horner", refuse)
    out = k(x)
    a = k._images(x, "x")
    ref = ck._block(k, a, a)
    np.testing.assert_allclose(np.asarray(out.ntk), np.asarray(jax.device_get(ref[1])), rtol=1e-13)
