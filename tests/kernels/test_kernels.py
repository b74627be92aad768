"""Infinite-width NNGP/NTK of MLPs against independent closed forms, quadrature and Monte Carlo."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

from nntheory.errors import KernelError, SpecError
from nntheory.numerics import MLPKernel, QuadratureConfig


def arccos_relu(X, depth, C_W, C_b, lW=1.0, lb=1.0):
    """Cho & Saul's arc-cosine kernel of order 1 and its derivative kernel, iterated in numpy."""
    K, T = C_b + C_W * X, lb + lW * X
    for _ in range(depth - 1):
        d = np.sqrt(np.diag(K))
        rho = np.clip(K / np.outer(d, d), -1, 1)
        np.fill_diagonal(rho, 1.0)  # an input with itself: correlation exactly 1 (not 1 - ulp)
        th = np.arccos(rho)
        G = np.outer(d, d) * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
        Gp = (np.pi - th) / (2 * np.pi)
        K, T = C_b + C_W * G, lb + lW * G + C_W * Gp * T
    return K, T


def arcsine_erf(X, depth, C_W, C_b, lW=1.0, lb=1.0):
    """Williams' arcsine kernel of erf and the derivative kernel 4/(pi sqrt((1+2K11)(1+2K22) - 4K12^2))."""
    K, T = C_b + C_W * X, lb + lW * X
    for _ in range(depth - 1):
        d = 1 + 2 * np.diag(K)
        G = 2 / np.pi * np.arcsin(2 * K / np.sqrt(np.outer(d, d)))
        Gp = 4 / np.pi / np.sqrt(np.outer(d, d) - 4 * K**2)
        K, T = C_b + C_W * G, lb + lW * G + C_W * Gp * T
    return K, T


def _inputs(seed, n=5, d=4):
    x = np.random.default_rng(seed).normal(size=(n, d))
    return x, x @ x.T / d


@pytest.mark.parametrize("ref, act", [(arccos_relu, "relu"), (arcsine_erf, "erf")])
@pytest.mark.parametrize("depth", [1, 2, 5, 10])
@pytest.mark.parametrize("C_W, C_b, lW, lb", [(2.0, 0.0, 1.0, 1.0), (1.3, 0.4, 0.5, 2.0), (0.8, 0.1, 1.0, 0.0)])
def test_closed_forms_to_1e12(ref, act, depth, C_W, C_b, lW, lb):
    x, X = _inputs(depth)
    out = MLPKernel(act, depth, C_W, C_b, lW, lb)(x)
    K, T = ref(X, depth, C_W, C_b, lW, lb)
    np.testing.assert_allclose(np.asarray(out.nngp), K, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.asarray(out.ntk), T, rtol=1e-12, atol=0)


def test_cross_kernels_match_joint_kernel_and_chunks():
    x, _ = _inputs(1, n=7)
    k = MLPKernel("erf", 4, 1.7, 0.2)
    full = k(x)
    part = k(x[:3], x[2:], chunk=5)  # several row blocks, one padded
    np.testing.assert_allclose(np.asarray(part.ntk), np.asarray(full.ntk)[:3, 2:], rtol=1e-13)
    np.testing.assert_allclose(np.asarray(part.nngp), np.asarray(full.nngp)[:3, 2:], rtol=1e-13)
    g = k.from_gram(x @ x.T / x.shape[1])
    np.testing.assert_allclose(np.asarray(g.ntk), np.asarray(full.ntk), rtol=1e-13)


def _dblquad_step(f, fp, K):
    """<f f> and <f' f'> over N(0, K) by adaptive scipy quadrature (an independent route)."""
    L = np.linalg.cholesky(K)
    dens = lambda u, v: np.exp(-(u * u + v * v) / 2) / (2 * np.pi)  # noqa: E731

    def E(g):
        return integrate.dblquad(lambda v, u: g(L[0, 0] * u) * g(L[1, 0] * u + L[1, 1] * v) * dens(u, v),
                                 -12, 12, -12, 12, epsabs=1e-13, epsrel=1e-12)[0]

    return E(f), E(fp)


@pytest.mark.parametrize("act, f, fp", [
    ("tanh", np.tanh, lambda z: 1 / np.cosh(z) ** 2),
    ("gelu", lambda z: z * (1 + __import__("scipy.special").special.erf(z / np.sqrt(2))) / 2,
     lambda z: (1 + __import__("scipy.special").special.erf(z / np.sqrt(2))) / 2 + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)),
])
def test_quadrature_activations_against_adaptive_quadrature(act, f, fp):
    """Stated accuracy of quadrature-based kernels: 1e-9 relative at depth 3 (default rule)."""
    X = np.array([[1.2, 0.5], [0.5, 0.8]])
    C_W, C_b = 1.6, 0.1
    K, T = C_b + C_W * X, 1 + X
    for _ in range(2):
        new_K, new_T = np.empty((2, 2)), np.empty((2, 2))
        for a in range(2):
            for b in range(2):
                sub = K[np.ix_([a, b], [a, b])] + (1e-300 if a != b else 0)
                if a == b:
                    g = integrate.quad(lambda u: f(np.sqrt(K[a, a]) * u) ** 2 * np.exp(-u * u / 2) / np.sqrt(2 * np.pi), -12, 12, epsabs=1e-14)[0]
                    gp = integrate.quad(lambda u: fp(np.sqrt(K[a, a]) * u) ** 2 * np.exp(-u * u / 2) / np.sqrt(2 * np.pi), -12, 12, epsabs=1e-14)[0]
                else:
                    g, gp = _dblquad_step(f, fp, sub)
                new_K[a, b], new_T[a, b] = C_b + C_W * g, 1 + g + C_W * gp * T[a, b]
        K, T = new_K, new_T
    out = MLPKernel(act, 3, C_W, C_b).from_gram(X)
    np.testing.assert_allclose(np.asarray(out.nngp), K, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(out.ntk), T, rtol=1e-9)


def test_neural_tangents_mapping_against_finite_networks():
    """stax.serial(Dense(W_std, b_std), erf, Dense(1, W_std, b_std)) in NTK parameterisation: with one
    nonlinearity the mean empirical NTK and the output covariance equal the infinite-width values at
    every width (first-layer preactivations are exactly Gaussian), so Monte Carlo tests them without bias."""
    from nntheory.validation.kernels._architectures import TrainedMLPSpec, _sigma, apply, init_params

    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(3, 5)))
    spec = TrainedMLPSpec.neural_tangents("erf", W_std=1.3, b_std=0.4, depth=1, width=64)
    assert spec.depth == spec.kernel().depth == 2 and spec.kernel() == MLPKernel.neural_tangents("erf", W_std=1.3, b_std=0.4, depth=1)
    sig = _sigma(spec.activation)

    def one(key):
        p = init_params(key, spec, 5)
        J = jax.jacobian(lambda q: apply(q, x, spec, sig)[:, 0])(p)
        flat = jnp.concatenate([j.reshape(3, -1) for j in jax.tree_util.tree_leaves(J)], 1)
        f = apply(p, x, spec, sig)[:, 0]
        return flat @ flat.T, jnp.outer(f, f)

    ntk, ff = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(0), 2000))
    k = MLPKernel.neural_tangents("erf", W_std=1.3, b_std=0.4, depth=1)(x)
    for mc, th in ((np.asarray(ntk), np.asarray(k.ntk)), (np.asarray(ff), np.asarray(k.nngp))):
        se = mc.std(0, ddof=1) / np.sqrt(mc.shape[0])
        z = (mc.mean(0) - th) / se
        assert np.max(np.abs(z)) < 4.0, z


def test_neural_tangents_convention_is_pdlt_with_one_more_layer():
    x, _ = _inputs(2)
    nt = MLPKernel.neural_tangents("relu", W_std=1.5, b_std=0.2, depth=3)
    assert (nt.depth, nt.C_W, nt.lambda_W, nt.C_b, nt.lambda_b) == (4, 2.25, 2.25, 0.04000000000000001, 0.04000000000000001)
    K, T = arccos_relu(x @ x.T / x.shape[1], 4, 2.25, 0.04, 2.25, 0.04)
    np.testing.assert_allclose(np.asarray(nt(x).ntk), T, rtol=1e-12)


def test_compile_once_for_all_depths():
    """depth is a dynamic argument of the compiled kernel: a new depth does not compile again."""
    from nntheory.numerics.kernels._kernels import _kernel_block
    from nntheory.theory import activation

    x, _ = _inputs(4)
    MLPKernel("relu", 3, 2.0)(x)
    fn = _kernel_block(activation("relu"), QuadratureConfig())
    before = fn._cache_size()
    MLPKernel("relu", 40, 2.0)(x)
    MLPKernel("relu", 7, 1.5, 0.3)(x)
    assert fn._cache_size() == before


@given(st.integers(1, 12), st.floats(0.5, 3.0), st.floats(0.0, 1.0), st.integers(0, 10_000))
def test_kernels_symmetric_psd_and_ntk_dominates_gradient_part(depth, C_W, C_b, seed):
    """K and Theta are symmetric PSD Gram matrices; Theta - lambda_W K / C_W ... is PSD too for lambda = C (NT)."""
    x = np.random.default_rng(seed).normal(size=(6, 3))
    out = MLPKernel("erf", depth, C_W, C_b)(x)
    for M in (np.asarray(out.nngp), np.asarray(out.ntk)):
        np.testing.assert_allclose(M, M.T, rtol=1e-13, atol=1e-15)
        ev = np.linalg.eigvalsh(M)
        assert ev[0] > -1e-10 * ev[-1]


@pytest.mark.parametrize("call, match", [
    (lambda: MLPKernel("relu", 0, 2.0), "depth must be an integer >= 1"),
    (lambda: MLPKernel("relu", 2, -1.0), "C_W must be > 0"),
    (lambda: MLPKernel("relu", 2, 1.0, float("nan")), "C_b must be >= 0 and finite"),
    (lambda: MLPKernel.neural_tangents("relu", W_std=1.0, b_std=0.0, depth=-1), "number of nonlinearities"),
    (lambda: MLPKernel("relu", 2, 2.0)(np.ones((3, 4)), np.ones((2, 5))), "same input dimension"),
    (lambda: MLPKernel("relu", 2, 2.0)(np.zeros((2, 3))), "all-zero input"),
    (lambda: MLPKernel("relu", 2, 2.0)(np.array([[1.0, np.nan]])), "NaN"),
    (lambda: MLPKernel("relu", 2, 2.0).from_gram([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
])
def test_bad_input(call, match):
    with pytest.raises((KernelError, SpecError), match=match):
        call()


# ---- quadrature activations: the graded rule over the whole range, chunking, refusals -----------------

def _arcsine_erf_mp(X, depth, C_W):
    """:func:`arcsine_erf` (C_b = lambda_b = 0, lambda_W = 1) in 40-digit mpmath: at large kernels the float
    determinant (1 + 2K11)(1 + 2K22) - 4K12^2 cancels catastrophically."""
    import mpmath

    with mpmath.workdps(40):
        n = X.shape[0]
        Xm = mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in X])
        K, T = C_W * Xm, Xm.copy()
        for _ in range(depth - 1):
            G, Gp = mpmath.matrix(n, n), mpmath.matrix(n, n)
            for i in range(n):
                for j in range(n):
                    dd = (1 + 2 * K[i, i]) * (1 + 2 * K[j, j])
                    G[i, j] = 2 / mpmath.pi * mpmath.asin(2 * K[i, j] / mpmath.sqrt(dd))
                    Gp[i, j] = 4 / mpmath.pi / mpmath.sqrt(dd - 4 * K[i, j] ** 2)
            K = C_W * G
            T = mpmath.matrix([[G[i, j] + C_W * Gp[i, j] * T[i, j] for j in range(n)] for i in range(n)])
        return (np.array([[float(K[i, j]) for j in range(n)] for i in range(n)]),
                np.array([[float(T[i, j]) for j in range(n)] for i in range(n)]))


@pytest.mark.parametrize("scale", [1e-12, 1e-3, 1.0, 3e2, 1e5, 3e10])
def test_graded_route_against_arcsine_over_the_whole_range(scale):
    """The chunked graded route run on erf (whose closed form is the independent reference), with nearly
    identical and opposite inputs, at kernel scales from 1e-12 to 1e11: 1e-10 relative."""
    from nntheory.numerics.kernels._graded import graded_kernels

    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 4))
    x[2] = -x[0]
    if scale < 1e6:  # nearly parallel inputs; at larger kernels <σ'σ'> is ill-conditioned in the rounded Gram
        x[1] = x[0] * (1 + 1e-9)  # matrix itself (1 - rho ~ ulp, the answer moves with K (1 - rho)), see _graded
        x[3] = x[0] + 1e-7 * rng.normal(size=4)
    x *= np.sqrt(scale)
    X = x @ x.T / 4
    kern = MLPKernel("erf", 3, 1.1, 0.0, 1.0, 0.0)
    d = jnp.asarray(np.diag(X))
    K, T = graded_kernels(kern, jnp.asarray(X), d, d, True)
    K_ref, T_ref = _arcsine_erf_mp(X, 3, 1.1)
    np.testing.assert_allclose(np.asarray(K), K_ref, rtol=1e-10, atol=1e-10 * np.max(np.abs(K_ref)))
    np.testing.assert_allclose(np.asarray(T), T_ref, rtol=1e-10, atol=1e-10 * np.max(np.abs(T_ref)))


def _mp_tanh_pair(K1, K12, K2):
    """<tanh tanh> and <sech^2 sech^2> over N(0, [[K1, K12], [K12, K2]]) in 30-digit mpmath, for large kernels.

    Split tanh = sign + h, h = tanh - sign = -sign(z) 2 / (1 + e^(2|z|)) (odd, below 1e-34 past |z| = 40):
    <sign sign> = (2/pi) asin(rho) exactly; <sign(z1) h(z2)> is one 1-d integral (the conditional mean of
    sign(z1) given z2 is an erf); <h h> and <sech^2 sech^2> expand the Gaussian's cross term
    exp(K12 z1 z2 / D), D = K1 K2 - K12^2, in its odd / even powers (|K12 z1 z2 / D| ~ 1e-5 on the support
    here, three terms leave < 1e-25 relative) into products of 1-d moments. An independent route (no 2-d
    quadrature rule, no window) that agrees with a brute-force nested 20-digit mpmath quadrature to 1e-16
    here at 1/300 of its cost."""
    import mpmath

    with mpmath.workdps(30):
        a, c, b = (mpmath.mpf(v) for v in (K1, K12, K2))
        D = a * b - c * c
        assert abs(c) * 1600 / D < 1e-3  # the cross-term series converges fast on |z| <= 40
        h = lambda z: -2 / (1 + mpmath.exp(2 * z))  # tanh - sign on z > 0  # noqa: E731
        pts = [0, 1, 4, 12, 40]

        def mom(f, n, w):  # int_0^40 z^n f(z) exp(-w z^2 / 2) dz
            return mpmath.quad(lambda z: z**n * f(z) * mpmath.exp(-w * z * z / 2), pts)

        norm, t = 4 / (2 * mpmath.pi * mpmath.sqrt(D)), c / D  # 4: the quadrants of an even integrand
        ss = 2 / mpmath.pi * mpmath.asin(c / mpmath.sqrt(a * b))
        sh = sum(2 * mpmath.quad(lambda y, q=q: h(y) * mpmath.erf(c * y / mpmath.sqrt(2 * D * q)) * mpmath.npdf(y, 0, mpmath.sqrt(q)), pts)
                 for q in (a, b))  # z2 ~ N(0, q); z1 | z2 = y ~ N(c y / q, D / q)
        hh = norm * sum(t ** (2 * k + 1) / mpmath.factorial(2 * k + 1) * mom(h, 2 * k + 1, b / D) * mom(h, 2 * k + 1, a / D)
                        for k in range(3))
        pp = norm * sum(t ** (2 * k) / mpmath.factorial(2 * k) * mom(lambda z: mpmath.sech(z) ** 2, 2 * k, b / D)
                        * mom(lambda z: mpmath.sech(z) ** 2, 2 * k, a / D) for k in range(3))
        return float(ss + sh + hh), float(pp)


def test_tanh_kernels_of_raw_pixel_scale_inputs():
    """|x|^2/n_0 ~ 5e5 (raw pixels): the old fixed window was 94 % off; depth 2 against 30-digit mpmath
    (the tanh - sign corrections are 2e-6 of <tanh tanh> here, so 1e-10 tests them)."""
    import mpmath

    x = np.array([[700.0, 710.0], [705.0, -690.0]])
    X = x @ x.T / 2
    out = MLPKernel("tanh", 2, 1.0, 0.0)(x)
    g, gp = _mp_tanh_pair(X[0, 0], X[0, 1], X[1, 1])
    assert abs(float(out.nngp[0, 1]) / g - 1) < 1e-10
    assert abs(float(out.ntk[0, 1]) / (1 + g + gp * (1 + X[0, 1])) - 1) < 1e-10  # lambda_b + <tanh tanh> + <sech^2 sech^2> Theta1
    with mpmath.workdps(20):
        s = mpmath.sqrt(X[0, 0])
        d = mpmath.quad(lambda u: mpmath.tanh(s * u) ** 2 * mpmath.npdf(u), [-12, -10 / s, -1 / s, 0, 1 / s, 10 / s, 12])
    assert abs(float(out.nngp[0, 0]) / float(d) - 1) < 1e-10


def test_chunks_do_not_change_the_result(monkeypatch):
    from nntheory.numerics.kernels import _graded

    x, _ = _inputs(11, n=9)
    k = MLPKernel("tanh", 3, 1.7, 0.2)
    full = k(x)
    monkeypatch.setattr(_graded, "CHUNK_BYTES", 6 * 8 * 41 * 41 * 5)  # five pairs per chunk, a padded last one
    assert _graded.pair_chunk(40, 40) == 5
    part = k(x)
    np.testing.assert_allclose(np.asarray(part.ntk), np.asarray(full.ntk), rtol=1e-14)
    cross = k(x[:4], x[3:])
    np.testing.assert_allclose(np.asarray(cross.nngp), np.asarray(full.nngp)[:4, 3:], rtol=1e-13)


def test_sizes_and_ranges_are_refused_before_allocating():
    with pytest.raises(KernelError, match=r"need about \d+\.\d GiB.*blocks of rows"):
        MLPKernel("tanh", 3, 1.0)(np.ones((30000, 2)))
    with pytest.raises(KernelError, match=r"at layer 1 has variances .* outside the range"):
        MLPKernel("tanh", 3, 1.0)(np.full((2, 2), 1e7))
    with pytest.raises(KernelError, match=r"at layer 2 has variances"):
        MLPKernel("gelu", 5, 3.0)(np.full((2, 2), np.sqrt(3e11)))  # K1 = 9e11 grows by ~1.5 per layer: past 1e12 at layer 2
