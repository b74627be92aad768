r"""MLP kernels of quadrature activations (tanh, GELU, SiLU, ...): layer by layer, chunked over input pairs.

Each layer needs :math:`\langle\sigma_a\sigma_b\rangle` and :math:`\langle\sigma'_a\sigma'_b\rangle` for every
pair, at :math:`(K_{aa}, \rho_{ab}, K_{bb})`. They are integrated with the graded two-dimensional rule of
:mod:`nntheory.numerics._quadrature` (:func:`~nntheory.numerics._quadrature.smooth_lines_2d`) in the
correlation :math:`\rho` (so nearly identical inputs keep their accuracy), with the numbers of nodes
chosen per layer from the largest variance of that layer (:func:`~nntheory.numerics._quadrature.sinh_steps`:
about 40 x 90 nodes at :math:`K \le 3`, 232 x 432 at :math:`K = 10^{12}`), and :math:`\sigma(z_1)` evaluated
on the outer line only. Pairs are processed in chunks whose quadrature arrays take at most
:data:`CHUNK_BYTES`, so memory is bounded at any number of inputs.

Accuracy: 1e-12 relative to :math:`\sqrt{\langle\sigma^2\rangle_{K_{aa}}\langle\sigma^2\rangle_{K_{bb}}}` per
expectation for variances in [1e-30, 1e12] and every correlation (measured against the arcsine closed form
of erf and Gaussian conditioning of GELU in ``tests/kernels/test_kernels.py``); a layer whose variances
leave that range is refused with an error that names the layer. For nearly parallel inputs at large kernels
(:math:`K(1-\rho) \lesssim 1`) the expectations are ill-conditioned in the rounded Gram matrix itself
(one ulp of :math:`\rho` moves :math:`\langle\sigma'\sigma'\rangle` by up to :math:`K\epsilon`): the
results are then exact for a Gram matrix within a few ulps of the given one (backward error).

Two faster routes come first where they apply (same stated accuracy):

* exact GELU :math:`z\Phi(z)`: closed forms of both dual functions (:func:`gelu_duals`), at every variance in
  range and every correlation;
* every other smooth activation, in layers whose variances are at most :data:`MEHLER_K_MAX`: Mehler's
  expansion :math:`\langle\sigma_a\sigma_b\rangle = \sum_n \rho^n A_n(K_{aa}) A_n(K_{bb})`,
  :math:`A_n(K) = \langle\sigma(\sqrt K x)\,\mathrm{He}_n(x)\rangle/\sqrt{n!}` (likewise :math:`\sigma'` with
  its own coefficients), with coefficients computed once per input and layer (:func:`mehler_coefficients`)
  and the series summed per pair by Horner's rule in tiles (:func:`mehler_pairs`). The number of terms
  ``N`` is chosen per layer from a stated remainder: by Cauchy-Schwarz and Parseval,
  :math:`|\sum_{n\ge N}\rho^n A_n(a)A_n(b)| \le r^N \sqrt{T_N(a) T_N(b)}`,
  :math:`T_N(K) = \langle\sigma^2\rangle_K - \sum_{n<N}A_n(K)^2`, :math:`r` the largest off-diagonal
  :math:`|\rho|` of the layer; ``N`` is the smallest with :math:`r^N T_N/\langle\sigma^2\rangle \le`
  :data:`MEHLER_TOL` for every input and both dual functions (so the truncation error is at most
  :data:`MEHLER_TOL` relative to :math:`\sqrt{\langle\sigma_a^2\rangle\langle\sigma_b^2\rangle}`); a layer
  that would need more than :data:`MEHLER_MAX_TERMS` terms takes the graded quadrature above. The
  coefficients are integrated by the trapezoidal rule on :math:`|x| \le 14` with a step that resolves
  singularities at distance :math:`\ge 1` from the real axis in :math:`z` (the assumption of the graded rule,
  met by the built-in activations) for activations of at most polynomial growth; measured against a
  product Gauss-Legendre rule (itself checked against mpmath) in ``tests/kernels/test_smooth_kernel_speedups.py``:
  within 1e-13 of the norms at every correlation. Cost per pair and layer: ``N`` (about 60 for tanh at
  :math:`K \le 1`) multiply-adds for each of the two dual functions, against thousands of activation
  evaluations for the two-dimensional rule.
"""

from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from nntheory.errors import KernelError
from nntheory.numerics._compile import activation_callables
from nntheory.numerics._quadrature import K_MAX, K_MIN, sinh_line, sinh_steps, smooth_lines_2d

__all__ = [
    "CHUNK_BYTES", "MAX_RESULT_BYTES", "MEHLER_K_MAX", "MEHLER_MAX_TERMS", "MEHLER_TOL", "gelu_duals", "graded_kernels",
    "mehler_coefficients", "mehler_pairs",
]

#: the most memory the quadrature arrays of one chunk of pairs may take
CHUNK_BYTES = 256 * 1024**2
#: the most memory the results and the per-pair state (about 7 arrays of N1 x N2 doubles) may take
MAX_RESULT_BYTES = 4 * 1024**3
#: arrays of (n1 + 1)(n2 + 1) doubles alive at once per pair (nodes, weights, sigma, sigma', products)
_LIVE = 6
_EPS = np.finfo(np.float64).eps


def check_result_size(n1: int, n2: int) -> None:
    """Refuse ``N1 x N2`` kernels whose results and state exceed :data:`MAX_RESULT_BYTES`.

    Args:
        n1, n2: the numbers of inputs.

    Returns:
        None.

    Raises:
        KernelError: with the estimate and how to split the job.
    """
    need = 7 * 8 * n1 * n2
    if need > MAX_RESULT_BYTES:
        raise KernelError(
            f"MLPKernel: {n1} x {n2} inputs need about {need / 1024**3:.1f} GiB for the kernels and their state "
            f"(limit {MAX_RESULT_BYTES / 1024**3:.0f} GiB); call it on blocks of rows, k(x1[i:j], x2), and "
            "assemble the blocks."
        )


def pair_chunk(n1: int, n2: int) -> int:
    """Pairs per chunk such that the quadrature arrays take at most :data:`CHUNK_BYTES`.

    Raises:
        KernelError: if not even one pair fits (never for the rule's largest orders, 232 x 432).
    """
    per_pair = _LIVE * 8 * (n1 + 1) * (n2 + 1)
    if per_pair > CHUNK_BYTES:
        raise KernelError(
            f"MLPKernel: one input pair needs {per_pair / 1024**2:.0f} MiB of quadrature arrays "
            f"(limit {CHUNK_BYTES / 1024**2:.0f} MiB per chunk); use smaller quadrature orders."
        )
    return int(min(CHUNK_BYTES // per_pair, 1 << 16))


@lru_cache(maxsize=32)
def _pair_fn(act, n1: int, n2: int, centred: bool):
    sig, dsig = activation_callables(act)

    @jax.jit
    def run(k11, rho, k22):
        s22 = jnp.sqrt(k22)
        z1, w1, z2, w2 = smooth_lines_2d(jnp.sqrt(k11), rho * s22, s22 * jnp.sqrt((1 - rho) * (1 + rho)), n1, n2,
                                         centred=centred)
        inner = jnp.sum(w2 * sig(z2), -1), jnp.sum(w2 * dsig(z2), -1)
        return jnp.sum(w1 * sig(z1) * inner[0], -1), jnp.sum(w1 * dsig(z1) * inner[1], -1)

    return run


@lru_cache(maxsize=32)
def _diag_fn(act, n: int):
    sig, dsig = activation_callables(act)

    @jax.jit
    def run(k):
        L = jnp.sqrt(k)
        u, w = sinh_line(jnp.zeros_like(k), 1.0 / jnp.maximum(L, 1.0), n)
        z = L[:, None] * u
        return jnp.sum(w * sig(z) ** 2, -1), jnp.sum(w * dsig(z) ** 2, -1)

    return run


def _correlation(k12, k1, k2):
    r = k12 / (jnp.sqrt(k1) * jnp.sqrt(k2))
    r = jnp.where(jnp.abs(r) >= 1 - 16 * _EPS, jnp.sign(r), r)  # identical inputs reached by different roundings
    return jnp.clip(r, -1.0, 1.0)


def _pairs(act, k12, k1, k2, n1, n2, centred):
    """``(<σσ>, <σ'σ'>)`` for flat arrays of pairs, in padded chunks of one compiled shape."""
    run = _pair_fn(act, n1, n2, centred)
    m = k12.shape[0]
    size = min(pair_chunk(n1, n2), max(m, 1))
    rho = _correlation(k12, k1, k2)
    g, gp = [], []
    for s in range(0, m, size):
        sl = slice(s, s + size)
        pad = size - rho[sl].shape[0]
        args = [jnp.pad(v[sl], (0, pad), constant_values=1.0) for v in (k1, rho, k2)]
        a, b = run(*args)
        g.append(a[: size - pad])
        gp.append(b[: size - pad])
    return jnp.concatenate(g), jnp.concatenate(gp)


def _check_layer(layer: int, *variances) -> None:
    lo = min(float(jnp.min(v)) for v in variances)
    hi = max(float(jnp.max(v)) for v in variances)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < K_MIN or hi > K_MAX:
        raise KernelError(
            f"MLPKernel: the NNGP kernel K at layer {layer} has variances from {lo:.3g} to {hi:.3g}, outside the "
            f"range [{K_MIN:g}, {K_MAX:g}] where Gaussian expectations are computed to their stated accuracy; "
            "use fewer layers, or C_W, C_b and inputs that keep the kernel in range."
        )


#: the Mehler route takes layers whose variances are at most this (beyond, the series needs too many terms)
MEHLER_K_MAX = 6.0
#: the most terms of the Mehler series; a layer that needs more takes the graded quadrature
MEHLER_MAX_TERMS = 1024
#: the truncation bound of the Mehler series, relative to sqrt(<σ_a²><σ_b²>) (and likewise for σ')
MEHLER_TOL = 1e-13
#: Mehler coefficients: trapezoidal rule in x on [-_X, _X] (the weight e^{-x^2/4} of a normalised Hermite
#: function is below 6e-22 beyond)
_X = 14.0
_TILE, _TILE_BATCH = 64, 8


#: Taylor coefficients (-1)^n/(2n+1) of atan(w)/w, highest first
_ATAN_TAYLOR = tuple((-1.0) ** n / (2 * n + 1) for n in range(13, -1, -1))


def _atan_unit(u):
    """``atan(u)`` for ``|u| <= 1`` to a few ulp with multiply-adds, one square root and two divisions.

    ``atan(u) = pi/4 + atan((u - 1)/(u + 1))`` above ``tan(pi/8)`` brings ``|v| <= tan(pi/8)``; the half angle
    ``w = v/(1 + sqrt(1 + v^2))`` brings ``|w| <= 0.2``, where 14 Taylor terms leave < 1e-19 relative.
    (XLA's ``atan2`` on CPU costs ~70x a division: it dominated the GELU kernel.)
    """
    a = jnp.abs(u)
    big = a > 0.41421356237309503
    v = jnp.where(big, (a - 1) / (a + 1), a)
    w = jax.lax.optimization_barrier(v / (1 + jnp.sqrt(1 + v * v)))  # computed once, not once per use in a fusion
    w2 = w * w
    p = jnp.zeros_like(w2)
    for coef in _ATAN_TAYLOR:
        p = p * w2 + coef
    r = 2 * w * p
    return jnp.sign(u) * jnp.where(big, np.pi / 4 + r, r)


def _angle(y, x):
    """``atan2(y, x)`` for ``y > 0`` (in ``(0, pi)``), each branch free of cancellation."""
    ax = jnp.abs(x)
    mid = np.pi / 2 + _atan_unit(-x / jnp.maximum(y, ax) * (ax < y))  # |x| < y: pi/2 - atan(x/y)
    side = _atan_unit(y / jnp.maximum(ax, y))  # |x| >= y: atan(y/|x|), or pi minus it for x < 0
    return jnp.where(ax < y, mid, jnp.where(x > 0, side, np.pi - side))


def gelu_duals(k1, rho, k2):
    r"""Exact GELU: closed forms of :math:`\langle\sigma(u)\sigma(v)\rangle` and :math:`\langle\sigma'(u)\sigma'(v)\rangle`.

    :math:`\sigma(z) = z\Phi(z)`, :math:`(u, v)` centred Gaussian with variances :math:`k_1, k_2` and
    correlation :math:`\rho`, :math:`c = \rho\sqrt{k_1k_2}`. Writing :math:`\Phi(z) = P(\xi \le z)` and applying
    Stein's lemma to :math:`\langle u v\,H(u-\xi_1)H(v-\xi_2)\rangle`:

    .. math::
        \langle\sigma\sigma\rangle = \frac{c\,\theta}{2\pi} + \frac{k_1k_2 D + c^2}{2\pi(1+k_1)(1+k_2)\sqrt D},
        \qquad
        \langle\sigma'\sigma'\rangle = \frac{\partial\langle\sigma\sigma\rangle}{\partial c}
        = \frac{\theta}{2\pi} + \frac{c\,(3 + k_1 + k_2 + c^2/D)}{2\pi(1+k_1)(1+k_2)\sqrt D},

    with :math:`D = (1+k_1)(1+k_2) - c^2 = 1 + k_1 + k_2 + k_1k_2(1-\rho)(1+\rho) \ge 1` and
    :math:`\theta = \arccos(-c/\sqrt{(1+k_1)(1+k_2)}) = \operatorname{atan2}(\sqrt D, -c)`. Every piece is
    formed without cancellation from :math:`(k_1, \rho, k_2)` (``D`` is a sum of non-negative terms), so the
    relative error is a few ulp of :math:`\sqrt{\langle\sigma^2\rangle\langle\sigma^2\rangle}` for variances in
    [1e-30, 1e12] and every correlation (measured against mpmath in
    ``tests/kernels/test_smooth_kernel_speedups.py``).

    Args:
        k1, k2: the variances (arrays, broadcastable), positive.
        rho: the correlation, in [-1, 1].

    Returns:
        ``(<σσ>, <σ'σ'>)``, arrays of the broadcast shape.
    """
    k1, rho, k2 = (jnp.asarray(v) for v in (k1, rho, k2))
    p, s = k1 * k2, k1 + k2  # symmetric in k1, k2 to the last bit
    bar = jax.lax.optimization_barrier  # each intermediate once (XLA would recompute it per use in one fusion)
    c = rho * jnp.sqrt(p)
    D = 1 + s + p * ((1 - rho) * (1 + rho))
    c, D, sD = bar((c, D, jnp.sqrt(D)))
    th = bar(_angle(sD, -c)) / (2 * np.pi)
    q = bar(1 / (2 * np.pi * ((1 + k1) * (1 + k2)) * sD))
    return c * th + (p * D + c * c) * q, th + c * (3 + s + c * c / D) * q


@jax.jit
def _gelu_stack_pairs(x12, d, ia, ib, hyper, depth):
    """:func:`_gelu_stack` for one input set: the pairs ``a < b`` as flat arrays (half the work), the diagonal."""
    C_W, C_b, lW, lb = hyper[0], hyper[1], hyper[2], hyper[3]
    zero = jnp.zeros((), x12.dtype)

    def layer(l, st):
        K12, T12, K1, T1, bad, lo, hi = st
        v_lo, v_hi = jnp.min(K1), jnp.max(K1)
        first = (bad == 0) & ~((v_lo >= K_MIN) & (v_hi <= K_MAX))  # NaN is out
        bad = jnp.where(first, jnp.asarray(l + 1).astype(bad.dtype), bad)
        lo, hi = jnp.where(first, v_lo, lo), jnp.where(first, v_hi, hi)
        ka, kb = K1[ia], K1[ib]
        g12, gp12 = gelu_duals(ka, _correlation(K12, ka, kb), kb)
        g1, gp1 = gelu_duals(K1, 1.0, K1)
        return (C_b + C_W * g12, lb + lW * g12 + C_W * gp12 * T12, C_b + C_W * g1, lb + lW * g1 + C_W * gp1 * T1,
                bad, lo, hi)

    init = (C_b + C_W * x12, lb + lW * x12, C_b + C_W * d, lb + lW * d, jnp.zeros((), jnp.int32), zero, zero)
    return jax.lax.fori_loop(0, depth - 1, layer, init)


@jax.jit
def _gelu_stack(X12, d1, d2, hyper, depth):
    """All layers of exact GELU on full ``N1 x N2`` blocks in one compiled loop (``depth`` dynamic).

    Returns ``(K, Theta, K1, Theta1, bad, lo, hi)``: the first layer whose variances left
    ``[K_MIN, K_MAX]`` (0: none) and that layer's smallest and largest variance.
    """
    C_W, C_b, lW, lb = hyper[0], hyper[1], hyper[2], hyper[3]
    K12, T12 = C_b + C_W * X12, lb + lW * X12
    K1, T1, K2, T2 = C_b + C_W * d1, lb + lW * d1, C_b + C_W * d2, lb + lW * d2
    zero = jnp.zeros((), X12.dtype)

    def layer(l, st):
        K12, T12, K1, T1, K2, T2, bad, lo, hi = st
        v_lo, v_hi = jnp.minimum(jnp.min(K1), jnp.min(K2)), jnp.maximum(jnp.max(K1), jnp.max(K2))
        out = ~((v_lo >= K_MIN) & (v_hi <= K_MAX))  # NaN is out
        first = (bad == 0) & out
        bad = jnp.where(first, jnp.asarray(l + 1).astype(bad.dtype), bad)
        lo, hi = jnp.where(first, v_lo, lo), jnp.where(first, v_hi, hi)
        g12, gp12 = gelu_duals(K1[:, None], _correlation(K12, K1[:, None], K2[None, :]), K2[None, :])
        g1, gp1 = gelu_duals(K1, 1.0, K1)
        g2, gp2 = gelu_duals(K2, 1.0, K2)
        return (C_b + C_W * g12, lb + lW * g12 + C_W * gp12 * T12, C_b + C_W * g1, lb + lW * g1 + C_W * gp1 * T1,
                C_b + C_W * g2, lb + lW * g2 + C_W * gp2 * T2, bad, lo, hi)

    st = jax.lax.fori_loop(0, depth - 1, layer, (K12, T12, K1, T1, K2, T2, jnp.zeros((), jnp.int32), zero, zero))
    return st[0], st[1], st[2], st[3], st[6], st[7], st[8]


def _gelu_kernels(kern, X12, d1, d2, symmetric: bool):
    """Exact GELU: the closed forms of :func:`gelu_duals` on full blocks, all layers in one compiled loop."""
    hyper = jnp.asarray([kern.C_W, kern.C_b, kern.lambda_W, kern.lambda_b], X12.dtype)
    if symmetric:
        n = X12.shape[0]
        ia, ib = np.triu_indices(n, 1)
        K12, T12, K1, T1, bad, lo, hi = _gelu_stack_pairs(X12[ia, ib], d1, ia, ib, hyper, kern.depth)
    else:
        K, T, K1, T1, bad, lo, hi = _gelu_stack(X12, d1, d2, hyper, kern.depth)
    if int(bad):
        _check_layer(int(bad), jnp.asarray([float(lo), float(hi)]))
    if symmetric:  # the diagonal is the single-input recursion
        i = np.arange(n)
        K = jnp.zeros((n, n), X12.dtype).at[ia, ib].set(K12).at[ib, ia].set(K12).at[i, i].set(K1)
        T = jnp.zeros((n, n), X12.dtype).at[ia, ib].set(T12).at[ib, ia].set(T12).at[i, i].set(T1)
    return K, T


@lru_cache(maxsize=8)
def _is_exact_gelu(act) -> bool:
    import sympy

    from nntheory.theory._activations import z

    return act.family == "generic" and act.expr == z * (1 + sympy.erf(z / sympy.sqrt(2))) / 2


@lru_cache(maxsize=16)
def _hermite_table(m: int, n_terms: int):
    """Trapezoidal nodes ``x`` on [-_X, _X], the weights ``h φ(x)``, and ``h e^{-x²/4} He_n(x) e^{-x²/4} /
    sqrt(2π n!)`` as an ``(m, n_terms)`` matrix (normalised Hermite functions by their stable recurrence)."""
    x = np.linspace(-_X, _X, m)
    h = x[1] - x[0]
    H = np.empty((n_terms, m))
    H[0] = np.exp(-x * x / 4)
    if n_terms > 1:
        H[1] = x * H[0]
    for n in range(1, n_terms - 1):
        H[n + 1] = (x * H[n] - np.sqrt(n) * H[n - 1]) / np.sqrt(n + 1)
    w = h * np.exp(-x * x / 4) / np.sqrt(2 * np.pi)
    return x, w * np.exp(-x * x / 4), (H * w).T


def _mehler_grid(k_max: float) -> tuple[int, int]:
    """Nodes ``m`` of the coefficient rule and the number of coefficients for variances up to ``k_max``.

    ``k_max`` is rounded up to a power of 2. The step ``h = min(0.04, 0.08/sqrt(k_max))`` resolves an
    activation whose singularities lie at distance ``>= 1`` from the real axis in ``z`` (distance
    ``1/sqrt(K)`` in ``x``) for every Hermite degree used: the trapezoidal error
    ``~ exp(d sqrt(2n) - 2 pi d / h)`` with ``d = 0.8/sqrt(K)`` stays below 1e-20.
    """
    k_max = 2.0 ** np.ceil(np.log2(max(k_max, 1 / 16)))  # a few grids (compiled shapes) serve all layers
    h = min(0.04, 0.08 / np.sqrt(k_max))
    up = lambda v, q: int(q * np.ceil(v / q))  # noqa: E731
    return up(2 * _X / h + 1, 128), min(MEHLER_MAX_TERMS, up(130 * k_max + 96, 64))


@lru_cache(maxsize=32)
def _coef_fn(act, m: int, n_terms: int):
    sig, dsig = activation_callables(act)
    x, w2, Hw = (jnp.asarray(v) for v in _hermite_table(m, n_terms))

    @jax.jit
    def run(k):
        z = jnp.sqrt(k)[:, None] * x[None, :]
        s, d = sig(z), dsig(z)
        return s @ Hw, d @ Hw, (s * s) @ w2, (d * d) @ w2

    return run


def mehler_coefficients(act, k, k_max: float | None = None):
    r"""Hermite coefficients of :math:`\sigma(\sqrt K x)` and :math:`\sigma'(\sqrt K x)` and the norms, per variance.

    Args:
        act: the activation.
        k: variances, a 1-d array (each in (0, :data:`MEHLER_K_MAX`]).
        k_max: the largest variance the grid must serve (default ``max(k)``).

    Returns:
        ``(A, B, Es, Ed)``: ``A[i, n] = <σ(sqrt(k_i) x) He_n(x)>/sqrt(n!)``, ``B`` likewise for σ', of shape
        ``(len(k), n_terms)``, and ``Es = <σ²>``, ``Ed = <σ'²>`` at each variance (same rule, so that
        Parseval's ``Es - sum_n A_n²`` measures the remainder of the series).
    """
    k = jnp.asarray(k)
    k_max = float(jnp.max(k)) if k_max is None else float(k_max)
    m, n_terms = _mehler_grid(k_max)
    return _coef_fn(act, m, n_terms)(k)


def _mehler_terms(A, B, Es, Ed, r: float, tol: float) -> int | None:
    """The fewest terms ``N`` with ``r^N T_N / E <= tol`` for every row of both series, or None."""
    need = 1
    for C, E in ((A, Es), (B, Ed)):
        C, E = np.asarray(C), np.asarray(E)
        tail = np.max(np.maximum(E[:, None] - np.cumsum(C * C, axis=1), 0.0) / np.maximum(E, 1e-300)[:, None], axis=0)
        N = np.arange(1, C.shape[1] + 1)
        with np.errstate(under="ignore", divide="ignore"):
            bound = tail * np.exp(N * np.log(r)) if r > 0 else np.zeros_like(tail)
        ok = np.nonzero(bound <= tol)[0]
        if ok.size == 0:
            return None
        need = max(need, int(ok[0]) + 1)
    return need


@lru_cache(maxsize=16)
def _horner_fn(n1: int, n2: int, symmetric: bool, n_cols: int):
    tile, batch = _TILE, _TILE_BATCH
    ar = jnp.arange(tile)

    @jax.jit
    def run(rho, tiles, A1, B1, A2, B2, n):
        m = rho.shape[0]
        rho_ext = jnp.concatenate([rho, jnp.zeros((1,), rho.dtype)])
        AT1, BT1 = jnp.concatenate([A1, jnp.zeros((1, n_cols))]).T, jnp.concatenate([B1, jnp.zeros((1, n_cols))]).T
        AT2, BT2 = jnp.concatenate([A2, jnp.zeros((1, n_cols))]).T, jnp.concatenate([B2, jnp.zeros((1, n_cols))]).T

        def step(t, acc):
            bi, bj = tiles[t, :, 0], tiles[t, :, 1]  # (batch,)
            i = bi[:, None] * tile + ar[None, :]  # (batch, tile)
            j = bj[:, None] * tile + ar[None, :]
            I, J = i[:, :, None], j[:, None, :]
            if symmetric:
                valid = (I < J) & (J < n2)
                idx = I * n2 - I * (I + 1) // 2 + (J - I - 1)
            else:
                valid = (I < n1) & (J < n2)
                idx = I * n2 + J
            idx = jnp.where(valid, idx, m)
            r = rho_ext[idx]
            ri, rj = jnp.minimum(i, n1), jnp.minimum(j, n2)
            a1, b1, a2, b2 = AT1[:, ri], BT1[:, ri], AT2[:, rj], BT2[:, rj]  # (n_cols, batch, tile)

            def horner(s, gp):
                g, p = gp
                q = n - 1 - s
                g = g * r + a1[q][:, :, None] * a2[q][:, None, :]
                p = p * r + b1[q][:, :, None] * b2[q][:, None, :]
                return g, p

            zero = jnp.zeros((batch, tile, tile), rho.dtype)
            g, p = jax.lax.fori_loop(0, n, horner, (zero, zero))
            return acc[0].at[idx].set(g, mode="drop"), acc[1].at[idx].set(p, mode="drop")

        zero = jnp.zeros((m,), rho.dtype)
        return jax.lax.fori_loop(0, tiles.shape[0], step, (zero, zero))

    return run


def mehler_pairs(rho, coef1, coef2, n: int, n1: int, n2: int, symmetric: bool):
    """``(<σσ>, <σ'σ'>)`` of flat pairs by Horner's rule on the first ``n`` Mehler terms, in tiles.

    Args:
        rho: correlations of the pairs, flat: the upper triangle ``a < b`` row by row (``symmetric``) or all
            ``n1 x n2`` pairs row by row.
        coef1, coef2: ``(A, B)`` of the first and second inputs (:func:`mehler_coefficients`).
        n: terms to sum (at most the coefficients' columns).
        n1, n2: the numbers of inputs.
        symmetric: the pairs are the upper triangle of one set.

    Returns:
        Two flat arrays like ``rho``.
    """
    cols = min(coef1[0].shape[1], int(64 * np.ceil(n / 64)))
    nb1, nb2 = -(-n1 // _TILE), -(-n2 // _TILE)
    bi, bj = np.meshgrid(np.arange(nb1), np.arange(nb2), indexing="ij")
    keep = (bi <= bj) if symmetric else np.ones_like(bi, bool)
    t = np.stack([bi[keep], bj[keep]], -1)
    pad = -len(t) % _TILE_BATCH
    t = np.concatenate([t, np.full((pad, 2), max(nb1, nb2) + 1)]).reshape(-1, _TILE_BATCH, 2)  # dummy tiles: all invalid
    run = _horner_fn(n1, n2, symmetric, cols)
    return run(rho, jnp.asarray(t), coef1[0][:, :cols], coef1[1][:, :cols], coef2[0][:, :cols], coef2[1][:, :cols], n)


def _mehler_layer(act, rho, K1, K2, n1: int, n2: int, symmetric: bool, k_max: float):
    """The Mehler route for one layer, or None where it does not apply (see the module docstring)."""
    if k_max > MEHLER_K_MAX or rho.shape[0] == 0:
        return None
    k = K1 if symmetric else jnp.concatenate([K1, K2])
    A, B, Es, Ed = mehler_coefficients(act, k, k_max)
    n = _mehler_terms(A, B, Es, Ed, float(jnp.max(jnp.abs(rho))), MEHLER_TOL)
    if n is None:
        return None
    c1 = (A[:n1], B[:n1])
    c2 = c1 if symmetric else (A[n1:], B[n1:])
    return mehler_pairs(rho, c1, c2, n, n1, n2, symmetric)


def graded_kernels(kern, X12, d1, d2, symmetric: bool):
    """NNGP and NTK of ``kern`` (an :class:`~nntheory.numerics.MLPKernel`) from the input Gram entries.

    Args:
        kern: the kernel specification (activation, depth, hyperparameters).
        X12: ``(N1, N2)`` Gram entries ``x_a.x_b/n_0``.
        d1, d2: the diagonals ``|x_a|^2/n_0`` of both sets.
        symmetric: ``x2`` is ``x1`` (only pairs ``a < b`` are integrated; the diagonal is the single-input
            recursion).

    Returns:
        ``(K, Theta)``, JAX arrays of shape ``(N1, N2)``.

    Raises:
        KernelError: a layer whose variances leave the supported range.
    """
    C_W, C_b, lW, lb = kern.C_W, kern.C_b, kern.lambda_W, kern.lambda_b
    act = kern.activation
    N1, N2 = X12.shape
    if symmetric:
        ia, ib = np.triu_indices(N1, 1)
        x12 = X12[ia, ib]
    else:
        ia, ib = np.divmod(np.arange(N1 * N2), N2)
        x12 = X12.reshape(-1)
    K12, T12 = C_b + C_W * x12, lb + lW * x12
    K1, T1 = C_b + C_W * d1, lb + lW * d1
    K2, T2 = (K1, T1) if symmetric else (C_b + C_W * d2, lb + lW * d2)
    if _is_exact_gelu(act):
        return _gelu_kernels(kern, X12, d1, d2, symmetric)
    for layer in range(2, kern.depth + 1):
        _check_layer(layer - 1, K1, K2)
        k_max = max(float(jnp.max(K1)), float(jnp.max(K2)))
        n1, n2, centred = sinh_steps(k_max)
        diag = _diag_fn(act, n1)
        out = _mehler_layer(act, _correlation(K12, K1[ia], K2[ib]), K1, K2, N1, N2, symmetric, k_max)
        g12, gp12 = out if out is not None else _pairs(act, K12, K1[ia], K2[ib], n1, n2, centred)
        g1, gp1 = diag(K1)
        g2, gp2 = (g1, gp1) if symmetric else diag(K2)
        K12, T12 = C_b + C_W * g12, lb + lW * g12 + C_W * gp12 * T12
        K1, T1, K2, T2 = C_b + C_W * g1, lb + lW * g1 + C_W * gp1 * T1, C_b + C_W * g2, lb + lW * g2 + C_W * gp2 * T2
    if symmetric:
        i = np.arange(N1)
        K = jnp.zeros((N1, N1), X12.dtype).at[ia, ib].set(K12).at[ib, ia].set(K12).at[i, i].set(K1)
        T = jnp.zeros((N1, N1), X12.dtype).at[ia, ib].set(T12).at[ib, ia].set(T12).at[i, i].set(T1)
        return K, T
    return K12.reshape(N1, N2), T12.reshape(N1, N2)
