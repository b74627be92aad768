r"""Wigner ``d^j(beta)`` in O(j^2) by a two-sided three-term recursion in the column index ``m``.

For fixed ``m'`` (one row) the entries ``f(m) = d^j_{m' m}(beta)`` satisfy (``C(m) = sqrt((j+m)(j-m+1))``)

    ``sin(beta) [C(m+1) f(m+1) + C(m) f(m-1)] = 2 (m cos(beta) - m') f(m)``,

the eigenvalue equation of the rotated ``J_z`` (Varshalovich et al., *Quantum Theory of Angular
Momentum*, 4.8.2). As in the Schulten–Gordon route for 3j symbols, every row runs forwards from
``m = -j`` and backwards from ``m = j`` (each started at 1, so no closed-form seed can underflow)
into the classically allowed region ``|2 (m cos beta - m')| < sin(beta) (C(m) + C(m+1))``, where the
two runs are matched by least squares at the middle of the region (in the forbidden regions each run
follows the growing solution, which is stable). Each row is then normalised (the rows of the
orthogonal ``d`` are unit vectors) and signed by ``d^j_{m' j} >= 0`` on ``[0, pi]``. All rows advance
together: ``2j`` vector steps of length ``2j + 1`` (a ``lax.scan``), so one matrix costs O(j^2) work.

Runs are rescaled by ``2^-500`` whenever an entry passes ``2^500``; the exponents are tracked and
applied with ``ldexp`` at the end, so the dynamic range is unlimited (entries below the float64
range underflow to 0). Angles are reduced to ``[0, pi/2]`` first by ``d(beta + 2 pi) = (-1)^{2j} d(beta)``,
``d(-beta) = d(beta)^T`` and ``d(pi - beta)_{m' m} = (-1)^{j + m'} d(beta)_{m', -m}``; the reduced
angle is clamped to ``>= 1e-30`` (``d(1e-30)`` differs from the identity by ``< j 1e-30``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__: list[str] = []

# 2 pi = _P1 + _P2 + _P3 (Cody–Waite): n * _P1 and n * _P2 are exact for |n| < 2^27
_P1 = float.fromhex("0x1.921fb54000000p+2")
_P2 = float.fromhex("0x1.10b4610000000p-28")
_P3 = float.fromhex("0x1.a62633145c06ep-56")


def d_matrix_recursion(tj: int, beta) -> jax.Array:
    """``d^j(beta)`` (``tj = 2j``; rows ``m'``, columns ``m``, ascending) for any real ``beta``."""
    N = tj + 1
    beta = jnp.asarray(beta)
    dtype = beta.dtype if jnp.issubdtype(beta.dtype, jnp.floating) else jnp.result_type(float)
    beta = beta.astype(dtype)
    if N == 1:
        return jnp.ones((1, 1), dtype)
    # r = beta - 2 pi n in [-pi, pi], d(beta) = (-1)^{2j n} d(r), d(-r) = d(r)^T; angles are carried as
    # unevaluated sums hi + lo (double-double), so the reductions add no rounding error to d
    n = jnp.round(beta / (2 * math.pi))
    r, r_lo = _minus(beta, n * _P1, n * _P2, n * _P3)
    neg = r < 0
    a, a_lo = jnp.abs(r), jnp.where(neg, -r_lo, r_lo)
    flip = a > math.pi / 2  # d(a)_{m' m} = (-1)^{j + m'} d(v)_{m', -m}, v = pi - a (signed)
    half = jnp.asarray(0.5, dtype)
    v, v_lo = _minus(jnp.asarray(_P1, dtype) * half, a, a_lo - _P2 / 2, jnp.asarray(-_P3 / 2, dtype))
    vneg = v < 0
    w = jnp.where(flip, jnp.abs(v), a)
    w_lo = jnp.where(flip, jnp.where(vneg, -v_lo, v_lo), a_lo)
    r = jnp.where(neg, -1.0, 1.0)  # only its sign is used below
    X = _core_transposed(tj, w, w_lo, dtype)  # d(w)^T
    k = jnp.arange(N)
    sign = jnp.where((tj % 2 == 1) & (jnp.mod(n, 2) == 1), -1.0, 1.0).astype(dtype)  # (-1)^{2j n}
    row_sign = jnp.where(k % 2 == 1, -sign, sign).astype(dtype)[:, None]  # (-1)^{j + m'}, j + m' = k

    def flipped(Y):  # (-1)^{j + m'} Y_{m', -m}
        return row_sign * Y[:, ::-1]

    branches = [lambda X: sign * X.T, lambda X: sign * X,  # no flip; r >= 0 / r < 0 (transposed)
                lambda X: flipped(X.T), lambda X: flipped(X.T).T,  # flip, v >= 0
                lambda X: flipped(X), lambda X: flipped(X).T]  # flip, v < 0: d(v) = d(|v|)^T
    case = jnp.where(flip, jnp.where(vneg, 4, 2), 0) + neg.astype(jnp.int32)
    return jax.lax.switch(case, branches, X)


def _two_sum(a, b):
    """``a + b = s + e`` exactly (Knuth); barriers keep XLA from simplifying the error term away."""
    s = jax.lax.optimization_barrier(a + b)
    bb = jax.lax.optimization_barrier(s - a)
    return s, (a - (s - bb)) + (b - bb)


def _minus(x, p1, p2, p3):
    """``x - p1 - p2 - p3`` as ``hi + lo`` (``x - p1`` exact, ``p2`` exact in the sum, ``p3`` tiny):
    a Cody–Waite reduction whose rounding error is kept in ``lo``."""
    y = jax.lax.optimization_barrier(x - p1)
    hi, lo = _two_sum(y, -p2)
    return _two_sum(hi, lo - p3)


def _core_transposed(tj: int, beta, beta_lo, dtype) -> jax.Array:
    """``d^j(beta)^T`` (rows ``m``, columns ``m'``) for ``beta`` in ``[0, pi/2]`` by the matched
    two-sided recursion; every row ``m'`` of ``d`` is one column here, all advanced together."""
    N = tj + 1
    f32 = jnp.finfo(dtype).bits == 32
    tiny = beta < (1e-17 if f32 else 1e-30)
    beta = jnp.where(tiny, 1e-17 if f32 else 1e-30, beta)  # d(1e-30) - 1 is below j * 1e-30
    beta_lo = jnp.where(tiny, 0.0, beta_lo)
    # sin of beta + beta_lo to first order in beta_lo (|beta_lo| <= ulp(beta) / 2)
    s = jnp.sin(beta) + jnp.cos(beta) * beta_lo
    sh = jnp.sin(beta / 2) + jnp.cos(beta / 2) * (beta_lo / 2)
    k = jnp.arange(N + 1, dtype=dtype)
    sC = s * jnp.sqrt(k * (tj - k + 1))  # sin(beta) C[k]; C[k] couples columns k-1 and k; C[0] = C[N] = 0
    m = jnp.arange(N, dtype=dtype) - tj / 2
    # 2 (m cos(beta) - m') = 2 ((m - m') - 2 m sin^2(beta/2)): no cancellation in 1 - cos(beta)
    rhs = 2 * ((m[:, None] - m[None, :]) - (2 * sh * sh) * m[:, None])  # [k, row]
    # match around the centre of the classically allowed region of row m': m = m' cos(beta), half-width
    # sin(beta) sqrt((j + 1/2)^2 - m'^2); least squares over up to 18 points inside it
    cosb = 1 - 2 * sh * sh
    centre = m * cosb + tj / 2
    mc = jnp.clip(jnp.round(centre), 0, N - 2).astype(jnp.int32)
    half = s * jnp.sqrt(jnp.maximum((tj / 2 + 0.5) ** 2 - m * m, 0.0))
    offs = jnp.arange(-8, 10, dtype=jnp.int32)[:, None]
    ks = mc[None, :] + offs
    window = ((jnp.abs(ks - centre[None, :]) <= half[None, :] - 1) | (offs == 0) | (offs == 1)) & (ks >= 0) & (ks < N)
    ks = jnp.clip(ks, 0, N - 1)
    big = 40 if f32 else 500
    F, EF = _run(rhs, sC, big, forward=True)  # [k, row]
    B, EB = _run(rhs, sC, big, forward=False)
    rows = jnp.arange(N)[None, :]
    fF, Fw = _relative(F, EF, rows, ks, window, big)
    fB, Bw = _relative(B, EB, rows, ks, window, big)
    scale = jnp.sum(Fw * Bw, axis=0) / jnp.sum(Bw * Bw, axis=0)
    kk = jnp.arange(N)[:, None]
    G = jnp.where(kk <= mc[None, :], F * fF, (scale[None, :] * B) * fB)
    norm = jnp.sqrt(jnp.sum(G * G, axis=0))
    return G * (jnp.sign(scale) / norm)[None, :]


def _relative(V, E, rows, ks, window, big: int):
    """Factors that put the mantissas ``V`` (base-2 exponents ``E``) of each column on one scale: the
    largest exponent in the column's matching window, divided by the largest entry there; and the
    window's entries on that scale (0 outside the window). Entries ``2^-2big`` or more below it are
    set to 0 (they are below the float64 range relative to it)."""
    Ew = E[ks, rows]
    ref = jnp.max(jnp.where(window, Ew, jnp.iinfo(jnp.int32).min), axis=0)
    dtype = V.dtype
    one, lo, zero = jnp.ones((), dtype), jnp.asarray(2.0**-big, dtype), jnp.zeros((), dtype)

    def factor(e):
        return jnp.where(e == ref, one, jnp.where(e == ref - big, lo, zero))

    Vw = jnp.where(window, V[ks, rows] * factor(Ew), zero)
    a = jnp.max(jnp.abs(Vw), axis=0)
    return factor(E) / a[None, :], Vw / a[None, :]


def _run(rhs, sC, big: int, *, forward: bool):
    """One run of the recursion for all rows at once, started at 1 at its end column; returns the
    mantissas ``[k, row]`` and the base-2 exponents that multiply them."""
    N = rhs.shape[1]
    dtype = rhs.dtype
    if forward:  # f[k+1] = (rhs[k] f[k] - sC[k] f[k-1]) / sC[k+1], k = 0..N-2
        ks = jnp.arange(N - 1)
        lead, lag, coef = sC[ks + 1], sC[ks], rhs[ks]
    else:  # f[k-1] = (rhs[k] f[k] - sC[k+1] f[k+1]) / sC[k], k = N-1..1
        ks = jnp.arange(N - 1, 0, -1)
        lead, lag, coef = sC[ks], sC[ks + 1], rhs[ks]

    hi, lo = 2.0**big, 2.0**-big

    def step(carry, x):
        prev, cur, e = carry
        a, b, r = x
        new = (r * cur - b * prev) / a
        over = jnp.abs(new) > hi
        new = jnp.where(over, new * lo, new)
        cur = jnp.where(over, cur * lo, cur)
        e = e + big * over.astype(jnp.int32)
        return (cur, new, e), (new, e)

    start = (jnp.zeros(N, dtype), jnp.ones(N, dtype), jnp.zeros(N, jnp.int32))
    _, (vals, exps) = jax.lax.scan(step, start, (lead, lag, coef))
    vals = jnp.concatenate([jnp.ones((1, N), dtype), vals])
    exps = jnp.concatenate([jnp.zeros((1, N), jnp.int32), exps])
    if not forward:
        vals, exps = vals[::-1], exps[::-1]
    return vals, exps
