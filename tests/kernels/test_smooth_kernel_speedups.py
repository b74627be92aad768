"""The fast routes of the MLP kernels of smooth activations (numerics/kernels/_graded.py): exact-GELU closed
forms and the Mehler series with its stated remainder, against independent references.

References: mpmath (GELU by Gaussian conditioning and a 1-d quadrature; tanh by nested 2-d quadrature), and
a composite Gauss-Legendre product rule in numpy (panels of 1/2, 20 nodes each, on [-12, 12]^2 in standard
coordinates; it agrees with the nested mpmath value below to 1e-16 and with itself at half the panel width)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from nntheory.numerics import MLPKernel
from nntheory.numerics.kernels import _graded
from nntheory.numerics.kernels._graded import MEHLER_K_MAX, MEHLER_TOL, gelu_duals, mehler_coefficients

jax.config.update("jax_enable_x64", True)

TANH = (np.tanh, lambda z: 1 / np.cosh(z) ** 2)
GELU = (lambda z: z * special.ndtr(z), lambda z: special.ndtr(z) + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi))


def _gl_line(panel=0.5, q=20, T=12.0):
    g, w = np.polynomial.legendre.leggauss(q)
    e = np.arange(-T, T + 1e-9, panel)
    x = ((e[:-1] + e[1:]) / 2)[:, None] + panel / 2 * g
    wx = (panel / 2 * w * np.ones_like(x)).ravel() * np.exp(-x.ravel() ** 2 / 2) / np.sqrt(2 * np.pi)
    return x.ravel(), wx


def gl_pair(k1, rho, k2, fns, panel=0.5):
    """<F(z1) F(z2)> for F in fns over N(0, [[k1, c], [c, k2]]), c = rho sqrt(k1 k2): a product Gauss-Legendre rule."""
    x, w = _gl_line(panel)
    L21, L22 = rho * np.sqrt(k2), np.sqrt(k2) * np.sqrt((1 - rho) * (1 + rho))
    z1, z2 = np.sqrt(k1) * x, L21 * x[:, None] + L22 * x[None, :]
    return [float(np.sum(w * F(z1) * (F(z2) @ w))) for F in fns]


def gl_diag(k, fns):
    x, w = _gl_line(0.25)
    return [float(np.sum(w * F(np.sqrt(k) * x) ** 2)) for F in fns]


def gl_kernels(X, depth, C_W, C_b, fns):
    """NNGP and NTK (PDLT, lambda = C) iterated with the Gauss-Legendre reference, pair by pair."""
    K, T = C_b + C_W * X, C_b + C_W * X
    n = len(X)
    for _ in range(depth - 1):
        G, Gp = np.empty((n, n)), np.empty((n, n))
        for i in range(n):
            G[i, i], Gp[i, i] = gl_diag(K[i, i], fns)
            for j in range(i + 1, n):
                rho = K[i, j] / np.sqrt(K[i, i] * K[j, j])
                G[i, j], Gp[i, j] = G[j, i], Gp[j, i] = gl_pair(K[i, i], rho, K[j, j], fns)
        K, T = C_b + C_W * G, C_b + C_W * G + C_W * Gp * T
    return K, T


def test_gl_reference_against_nested_mpmath():
    """The numpy reference itself: one tanh pair against nested 20-digit mpmath quadrature (61 s, computed once:
    0.265551331875453), and at half the panel width."""
    g, gp = gl_pair(1.3, 0.7, 0.8, TANH)
    assert abs(g / 0.265551331875453 - 1) < 1e-14
    g2, gp2 = gl_pair(1.3, 0.7, 0.8, TANH, panel=0.25)
    assert abs(g2 - g) < 1e-15 and abs(gp2 - gp) < 1e-15


def _mp_gelu(k1, rho, k2):
    """<σσ>, <σ'σ'> of exact GELU by mpmath: v | u is Gaussian, E[vΦ(v)] and E[Φ(v) + vφ(v)] over it are
    elementary (Stein), and the outer integral is a 1-d quadrature split at the transitions."""
    import mpmath

    with mpmath.workdps(25):
        k1, rho, k2 = (mpmath.mpf(v) for v in (k1, rho, k2))
        s1, s2 = mpmath.sqrt(k1), mpmath.sqrt(k2)
        S2 = k2 * (1 - rho) * (1 + rho)
        r = mpmath.sqrt(1 + S2)

        def cond(x):
            mu = rho * s2 * x
            t = mu / r
            return mu * mpmath.ncdf(t) + S2 / r * mpmath.npdf(t), mpmath.ncdf(t) + mu / r**3 * mpmath.npdf(t)

        scales = (s1, abs(rho) * s2 / r + mpmath.mpf(10) ** -30)
        pts = sorted({-12, 0, 12} | {c / s for c in (-10, -1, 1, 10) for s in scales if abs(c / s) < 12})
        g = mpmath.quad(lambda x: s1 * x * mpmath.ncdf(s1 * x) * cond(x)[0] * mpmath.npdf(x), pts)
        gp = mpmath.quad(lambda x: (mpmath.ncdf(s1 * x) + s1 * x * mpmath.npdf(s1 * x)) * cond(x)[1] * mpmath.npdf(x), pts)
        return float(g), float(gp)


@pytest.mark.slow
@pytest.mark.parametrize("k1, k2", [(1e-6, 1e-6), (1e-6, 2.0), (0.3, 1e6), (1e3, 1e6), (1e6, 1e6)])
def test_gelu_closed_form_against_mpmath(k1, k2):
    """Variances 1e-6..1e6, correlations from -1 to 1 including 1 - 1e-6: 1e-13 relative to
    sqrt(<σ²><σ²>) (<σ'σ'> is O(1)); measured 3.4e-16 at worst over 105 such points."""
    norm = np.sqrt(gelu_duals(k1, 1.0, k1)[0] * gelu_duals(k2, 1.0, k2)[0])
    for rho in (-1.0, -0.999999, -0.4, 0.3, 0.9999, 1.0):
        g, gp = _mp_gelu(k1, rho, k2)
        a, b = gelu_duals(k1, rho, k2)
        assert abs(float(a) - g) < 1e-13 * norm, (rho, float(a), g)
        assert abs(float(b) - gp) < 1e-13, (rho, float(b), gp)


@pytest.mark.parametrize("rho", [-1.0, -0.9999999, -0.6, 0.0, 0.45, 0.999999, 1.0])
def test_gelu_closed_form_against_product_rule(rho):
    for k1, k2 in ((0.2, 0.2), (1.5, 0.4), (3.0, 2.0)):
        g, gp = gl_pair(k1, rho, k2, GELU)
        a, b = gelu_duals(k1, rho, k2)
        assert abs(float(a) - g) < 1e-14 and abs(float(b) - gp) < 1e-14, (k1, k2, rho)


_price = jax.jit(jax.grad(lambda r, k1, k2: gelu_duals(k1, r, k2)[0]))


@settings(max_examples=60, deadline=None)
@given(st.floats(-6, 12), st.floats(-6, 12), st.floats(-1, 1))
def test_gelu_closed_form_identities(l1, l2, rho):
    """Symmetry in the two inputs and Price's theorem d<σσ>/dc = <σ'σ'>, c = rho sqrt(k1 k2) (by autodiff)."""
    k1, k2 = 10.0**l1, 10.0**l2
    a, b = gelu_duals(k1, rho, k2)
    a2, b2 = gelu_duals(k2, rho, k1)
    assert abs(float(a - a2)) <= 1e-15 * np.sqrt(k1 * k2) + 1e-300 and abs(float(b - b2)) < 1e-15
    if abs(rho) < 0.999:
        dg = _price(rho, k1, k2) / np.sqrt(k1 * k2)
        assert abs(float(dg) - float(b)) < 1e-12


def test_gelu_mlp_kernels_take_the_closed_form_against_product_rule():
    """Depth 4 (3 nonlinearities), one input nearly opposite another: 1e-12 relative."""
    x = np.random.default_rng(3).normal(size=(3, 6))
    x[2] = -0.9 * x[0] + 1e-4
    k = MLPKernel.neural_tangents("gelu", W_std=1.3, b_std=0.2, depth=3)
    out = k(x)
    K, T = gl_kernels(x @ x.T / 6, 4, 1.69, 0.04, GELU)
    np.testing.assert_allclose(np.asarray(out.nngp), K, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(out.ntk), T, rtol=1e-12)


def test_tanh_depth_10_mehler_route_against_product_rule():
    """neural-tangents' tanh MLP (W_std 1.2, b_std 0.3, 10 nonlinearities): 1e-10 relative (the acceptance
    figure; measured ~1e-13), with a nearly parallel pair (Mehler series at r ~ 1)."""
    x = np.random.default_rng(5).normal(size=(3, 16))
    x[1] = x[0] + 1e-6 * x[2]
    k = MLPKernel.neural_tangents("tanh", W_std=1.2, b_std=0.3, depth=10)
    out = k(x)
    K, T = gl_kernels(x @ x.T / 16, 11, 1.44, 0.09, TANH)
    np.testing.assert_allclose(np.asarray(out.nngp), K, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(out.ntk), T, rtol=1e-10)


@pytest.mark.parametrize("k1, k2", [(1e-30, 1e-6), (0.05, 1.0), (1.0, 1.0), (2.5, MEHLER_K_MAX)])
def test_mehler_expectations_within_the_stated_bound(k1, k2):
    """Every correlation up to +-1: error within 10 x MEHLER_TOL relative to sqrt(<σ²><σ²>) (tanh)."""
    rhos = np.array([-1.0, -1 + 1e-12, -0.7, 0.0, 0.3, 0.99, 1 - 1e-9, 1.0])
    K1, K2 = jnp.full(1, k1), jnp.full(len(rhos), k2)  # one input against eight
    out = _graded._mehler_layer(_graded_act("tanh"), jnp.asarray(rhos), K1, K2, 1, 8, False, max(k1, k2))
    assert out is not None
    n1, n2 = np.sqrt(gl_diag(k1, TANH)), np.sqrt(gl_diag(k2, TANH))
    for i, rho in enumerate(rhos):
        g, gp = gl_pair(k1, rho, k2, TANH)
        assert abs(float(out[0][i]) - g) < 10 * MEHLER_TOL * n1[0] * n2[0], (rho, float(out[0][i]), g)
        assert abs(float(out[1][i]) - gp) < 10 * MEHLER_TOL * n1[1] * n2[1], (rho, float(out[1][i]), gp)


def _graded_act(name):
    from nntheory.theory import activation

    return activation(name)


def test_mehler_terms_are_the_fewest_that_meet_the_bound_and_large_kernels_fall_back():
    act = _graded_act("tanh")
    k = jnp.asarray([0.3, 1.0, 2.0])
    A, B, Es, Ed = mehler_coefficients(act, k)
    # Parseval: the coefficients exhaust the norms (the series converges at rho = 1)
    np.testing.assert_allclose(np.sum(np.asarray(A) ** 2, 1), np.asarray(Es), rtol=1e-13)
    np.testing.assert_allclose(np.sum(np.asarray(B) ** 2, 1), np.asarray(Ed), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(Es), [gl_diag(float(v), TANH)[0] for v in k], rtol=5e-14)
    for r in (0.0, 0.5, 0.95, 1.0):
        n = _graded._mehler_terms(A, B, Es, Ed, r, MEHLER_TOL)
        for C, E in ((A, Es), (B, Ed)):
            tail = np.asarray(E)[:, None] - np.cumsum(np.asarray(C) ** 2, 1)
            assert np.all(r**n * tail[:, n - 1] <= MEHLER_TOL * np.asarray(E) + 1e-300)
        if n > 1:
            worse = max(np.max(r ** (n - 1) * (np.asarray(E) - np.sum(np.asarray(C)[:, : n - 1] ** 2, 1)) / np.asarray(E))
                        for C, E in ((A, Es), (B, Ed)))
            assert worse > MEHLER_TOL
    big = _graded._mehler_layer(act, jnp.asarray([0.5]), jnp.asarray([10.0]), jnp.asarray([1.0]), 1, 1, False, 10.0)
    assert big is None  # variances above MEHLER_K_MAX: the graded rule


@pytest.mark.parametrize("tile, batch", [(8, 2), (64, 8)])
def test_mehler_tiles_cross_and_symmetric_agree(monkeypatch, tile, batch):
    """21 inputs in tiles of 8 (3 x 3 tiles, a padded batch), and of the default 64: the cross block equals
    the symmetric result."""
    monkeypatch.setattr(_graded, "_TILE", tile)
    monkeypatch.setattr(_graded, "_TILE_BATCH", batch)
    x = np.random.default_rng(2).normal(size=(21, 8))
    k = MLPKernel("tanh", 3, 1.5, 0.1)
    _graded._horner_fn.cache_clear()  # compiled per tile size: none may outlive the patch
    try:
        full = k(x)
        cross = k(x[:12], x[9:])
    finally:
        _graded._horner_fn.cache_clear()
    np.testing.assert_allclose(np.asarray(cross.nngp), np.asarray(full.nngp)[:12, 9:], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(cross.ntk), np.asarray(full.ntk)[:12, 9:], rtol=1e-12)


def test_mehler_route_matches_the_graded_route(monkeypatch):
    """A dozen inputs: the Mehler route matches the graded quadrature route (an independent rule, validated
    against mpmath in tests/finite_width/test_quadrature_range.py) to 1e-12 (1e-13 of the largest entry where
    entries cancel). Variances below 1: the graded route compiles one shape."""
    x = 0.5 * np.random.default_rng(2).normal(size=(12, 8))
    k = MLPKernel("tanh", 3, 1.0, 0.1)
    full = k(x)
    monkeypatch.setattr(_graded, "_mehler_layer", lambda *a: None)
    old = k(x)
    for a, b in ((full.nngp, old.nngp), (full.ntk, old.ntk)):  # accuracy relative to the norms: atol
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-13 * float(jnp.max(jnp.abs(b))))


def test_arc_tangent_of_the_gelu_closed_form_to_a_few_ulp():
    """The multiply-add arc tangent that replaces XLA's atan2: 3 ulp against numpy over 1e-300..1e300 ratios
    and at the branch points."""
    rng = np.random.default_rng(1)
    u = np.concatenate([rng.uniform(-1, 1, 20000), 10.0 ** rng.uniform(-300, 0, 2000) * rng.choice([-1, 1], 2000),
                        [0.0, 1.0, -1.0, np.tan(np.pi / 8), np.nextafter(np.tan(np.pi / 8), 1)]])
    ref = np.arctan(u)
    got = np.asarray(_graded._atan_unit(jnp.asarray(u)))
    assert np.all(np.abs(got - ref) <= 3 * np.finfo(float).eps * np.abs(ref))
    y = 10.0 ** rng.uniform(-150, 150, 20000)
    x = 10.0 ** rng.uniform(-150, 150, 20000) * rng.choice([-1, 1], 20000)
    y, x = np.concatenate([y, [1.0, 1.0, 1.0]]), np.concatenate([x, [1.0, -1.0, 0.0]])
    ref = np.arctan2(y, x)
    got = np.asarray(_graded._angle(jnp.asarray(y), jnp.asarray(x)))
    assert np.all(np.abs(got - ref) <= 3 * np.finfo(float).eps * ref)
