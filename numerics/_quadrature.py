r"""Gaussian quadrature for :math:`\langle f(z)\rangle_K`, :math:`z \sim \mathcal N(0, K)`, in JAX.

* Smooth integrands in one or two dimensions (the default, ``rule="sinh"``): nested one-dimensional
  trapezoidal rules in :math:`u` with :math:`z = L u`, :math:`K = L L^T` (Cholesky), each after the change
  of variables :math:`u = c + a \sinh t` that grades the nodes geometrically toward the point :math:`c`
  where the activation's argument crosses 0 (the transition of ``tanh``, ``erf``, GELU, SiLU, softplus,
  sigmoid), with the finest spacing :math:`a = \min(1, s_0/L_{kk})` (:math:`s_0` = :data:`TRANSITION_SCALE`):
  at large :math:`K` the transition has width :math:`1/\sqrt K` in :math:`u`, and a fixed window would
  miss it. In :math:`u_1` the centre is 0; in :math:`u_2` it is :math:`-L_{21}u_1/L_{22}` (clipped to
  :math:`\pm 7`, beyond which the transition lies in a tail of mass < 1e-12). Each line covers
  :math:`|u| \le 10` (the tails hold 1.5e-23 of the mass) with a fixed number of nodes, so the step in
  :math:`t` adapts to :math:`K` and the rule is jit-able with static shapes.
* Integrands with kinks (piecewise activations): nested one-dimensional rules in :math:`u_1, u_2, \dots`;
  in :math:`u_k` the only non-smooth points are where :math:`z_k = \sum_{j<k} L_{kj}u_j + L_{kk}u_k`
  crosses a kink (inner integrals are smooth in outer variables), so each line is split there and at 0:
  Gauss–Legendre on finite pieces, and half-range Gauss rules for :math:`e^{-t^2/2}` on
  :math:`[0,\infty)` (computed once in mpmath by the Chebyshev algorithm, then Golub–Welsch) on the
  two tails, which start at a non-negative / non-positive point so that their extra factor
  :math:`e^{\mp b t}` decays. Convergence is then exponential on each analytic piece; piecewise-polynomial
  activations (ReLU-like) are integrated exactly at any :math:`K`.
* Three- and four-dimensional smooth expectations (four-point functions of 3–4 distinct inputs), and the
  explicitly requested ``rule="panels"`` (composite Gauss–Legendre on :math:`[-10, 10]`) or
  ``rule="hermite"`` (plain Gauss–Hermite), are tensor rules with a fixed window.

Stated accuracy (float64; in one dimension the error is relative to :math:`\langle |f| \rangle_K`, i.e.
relative for integrands of one sign; for two-dimensional products :math:`F_1(z_1)F_2(z_2)` relative to
:math:`\sqrt{\langle F_1^2\rangle\langle F_2^2\rangle}`; for the kernel ``K`` as given: near
:math:`\rho = \pm 1` at large ``K`` the expectations are ill-conditioned in ``K`` itself). Measured against mpmath and closed forms in
``tests/finite_width/test_quadrature_range.py`` and ``test_compile.py``:

=============================================  ====================================  ==============
rule / dimension                               supported range                       accuracy
=============================================  ====================================  ==============
``sinh`` (default), 1 and 2 dimensions         diagonal :math:`K` in [1e-30, 1e12],   1e-10
                                               any correlation in [-1, 1]
kinked (piecewise activations), 1–2 dims       diagonal :math:`K` in [1e-30, 1e12],   1e-10 (piecewise
                                               any correlation (graded toward         polynomials; other
                                               nearly collinear boundary layers)      kinked: K <= 10)
kinked, 3–4 dims                               diagonal :math:`K` in [1e-30, 1e12]    ~1e-6 for well-
                                                                                     conditioned K
3–4 dims smooth, ``panels``, ``hermite``       diagonal :math:`K` in [1e-30, 10]      ~1e-6 (3–4 d),
                                                                                     1e-10 (panels
                                                                                     1–2 d)
=============================================  ====================================  ==============

The accuracy holds for the built-in activations and any activation whose non-polynomial variation sits
within :math:`|z| \lesssim 1` of 0 (singularities in the complex plane at distance :math:`\gtrsim 1`
from the real axis near the origin). Outside the supported range the expectation is refused: called
with concrete values, :func:`expectation_nodes` raises :class:`~nntheory.errors.KernelError`; under
``jit``/``vmap`` the weights become NaN, and the callers that own a result (compiled recursions,
kernels) turn a NaN into an error that names the layer and the statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import jax
import jax.numpy as jnp
import mpmath
import numpy as np

from nntheory.errors import KernelError, SpecError

__all__ = [
    "DEFAULT_ORDERS", "K_MAX", "K_MAX_FIXED_WINDOW", "K_MIN", "QuadratureConfig", "SINH_ORDERS", "TRANSITION_SCALE",
    "expectation_nodes", "gauss_hermite_rule", "half_range_rule", "panel_rule", "sinh_line", "sinh_steps",
    "smooth_lines_2d", "smooth_nodes_2d",
]

#: per number of dimensions d: (panels, nodes per panel) of the smooth rule, nodes per piece for
#: kinked integrands, and the Gauss–Hermite order used with ``rule="hermite"``
DEFAULT_ORDERS = {1: (40, 16, 64, 128), 2: (20, 10, 32, 64), 3: (10, 6, 12, 24), 4: (8, 4, 8, 16)}
_T = 10.0
#: nodes of the default smooth rule: (1-d line, outer line of 2-d, inner line of 2-d)
SINH_ORDERS = (240, 240, 400)
#: the activation's transition width in ``z`` that the graded rule resolves
TRANSITION_SCALE = 1.0
#: the supported range of variances (diagonal kernel entries) of the graded and kinked rules
K_MIN, K_MAX = 1e-30, 1e12
#: the supported largest variance of the fixed-window rules (3-4 dims smooth, ``panels``, ``hermite``)
K_MAX_FIXED_WINDOW = 10.0
#: the inner line's centre is clipped to +-this (a transition beyond it lies in a tail of mass < 1e-12)
_C_CLIP = 7.0


@dataclass(frozen=True)
class QuadratureConfig:
    """Orders of the Gaussian quadrature rules (see :data:`DEFAULT_ORDERS`) and the smooth ``rule``.

    ``rule="sinh"`` (default): the graded rule of :data:`SINH_ORDERS` in one and two dimensions (the
    panel rule in three and four); ``"panels"``: composite Gauss–Legendre on [-10, 10];
    ``"hermite"``: plain Gauss–Hermite. See the module docstring for the stated accuracy of each.
    """

    rule: str = "sinh"
    orders: tuple[tuple[int, int, int, int, int], ...] = field(
        default=tuple((d, *o) for d, o in DEFAULT_ORDERS.items())
    )

    def __post_init__(self) -> None:
        if self.rule not in ("sinh", "panels", "hermite"):
            raise SpecError(f"QuadratureConfig: rule must be 'sinh', 'panels' or 'hermite', got {self.rule!r}.")
        for o in self.orders:
            if o[0] < 1 or min(o[1:]) < 1:
                raise SpecError(f"QuadratureConfig: orders must be positive, got {o}.")

    def order(self, d: int) -> tuple[int, int, int, int]:
        for o in self.orders:
            if o[0] == d:
                return o[1:]
        raise SpecError(f"QuadratureConfig: no order for {d}-dimensional expectations; have {[o[0] for o in self.orders]}.")

    @classmethod
    def hermite(cls, order: int, piece: int | None = None) -> "QuadratureConfig":
        """Plain Gauss–Hermite of ``order`` nodes per dimension (``piece`` nodes per piece if kinked)."""
        piece = piece or max(2, order // 2)
        return cls("hermite", tuple((d, 1, 1, piece, order) for d in (1, 2, 3, 4)))


@lru_cache(maxsize=None)
def gauss_hermite_rule(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with ``sum(w f(x)) ~ E f(u)``, ``u ~ N(0, 1)``."""
    x, w = np.polynomial.hermite_e.hermegauss(q)
    return x, w / np.sqrt(2 * np.pi)


@lru_cache(maxsize=None)
def half_range_rule(q: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Gauss rule for :math:`\int_0^\infty e^{-t^2/2} g(t)\,dt`, exact for polynomials of degree < 2q."""
    with mpmath.workdps(max(50, 4 * q)):
        mu = [mpmath.mpf(2) ** (mpmath.mpf(k - 1) / 2) * mpmath.gamma(mpmath.mpf(k + 1) / 2) for k in range(2 * q)]
        # Chebyshev algorithm (Gautschi, Orthogonal Polynomials, Alg. 2.1)
        a, b = [mpmath.mpf(0)] * q, [mpmath.mpf(0)] * q
        prev = [mpmath.mpf(0)] * (2 * q)
        cur = list(mu)
        a[0], b[0] = mu[1] / mu[0], mu[0]
        for k in range(1, q):
            nxt = [mpmath.mpf(0)] * (2 * q)
            for l in range(k, 2 * q - k):
                nxt[l] = cur[l + 1] - a[k - 1] * cur[l] - b[k - 1] * prev[l]
            a[k] = nxt[k + 1] / nxt[k] - cur[k] / cur[k - 1]
            b[k] = nxt[k] / cur[k - 1]
            prev, cur = cur, nxt
        alpha = np.array([float(v) for v in a])
        beta = np.array([float(mpmath.sqrt(v)) for v in b[1:]])
        b0 = float(b[0])
    J = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    x, v = np.linalg.eigh(J)
    return x, b0 * v[0] ** 2


@lru_cache(maxsize=None)
def _legendre(q: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(q)


@lru_cache(maxsize=None)
def panel_rule(panels: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre on [-10, 10], weights times the standard normal density."""
    gx, gw = _legendre(q)
    edges = np.linspace(-_T, _T, panels + 1)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    x = (mid[:, None] + half[:, None] * gx).ravel()
    w = (half[:, None] * gw).ravel() * np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)
    return x, w


@lru_cache(maxsize=None)
def _smooth_nodes(d: int, rule: str, orders: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    panels, q, _, qh = orders
    x, w = gauss_hermite_rule(qh) if rule == "hermite" else panel_rule(panels, q)
    grids = np.meshgrid(*([x] * d), indexing="ij")
    wgrid = np.meshgrid(*([w] * d), indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=-1), np.prod([g.ravel() for g in wgrid], axis=0)


def _line_rule(bps: jax.Array, q: int, sub: int = 1) -> tuple[jax.Array, jax.Array]:
    r"""Nodes and weights (Gaussian density included) on the real line split at sorted ``bps`` (last axis).

    ``bps`` has shape ``(N, B)`` and contains 0, so the left tail ends at a point <= 0 and the right
    tail starts at a point >= 0.
    """
    hx, hw = (jnp.asarray(a) for a in half_range_rule(q))
    gx, gw = (jnp.asarray(a) for a in _legendre(q))
    inv = 1.0 / np.sqrt(2 * np.pi)
    lo, hi = bps[:, :1], bps[:, -1:]
    left_x = lo - hx
    left_w = hw * jnp.exp(lo * hx - lo**2 / 2) * inv
    right_x = hi + hx
    right_w = hw * jnp.exp(-hi * hx - hi**2 / 2) * inv
    a, b = bps[:, :-1, None], bps[:, 1:, None]
    if sub > 1:  # every finite piece in ``sub`` equal panels (pieces reach a length of 10)
        f = jnp.arange(sub + 1, dtype=bps.dtype) / sub
        e = a + (b - a) * f
        a, b = e[..., :-1].reshape(bps.shape[0], -1, 1), e[..., 1:].reshape(bps.shape[0], -1, 1)
    mid, half = (a + b) / 2, (b - a) / 2
    fin_x = mid + half * gx
    fin_w = half * gw * jnp.exp(-(fin_x**2) / 2) * inv
    n = bps.shape[0]
    xs = jnp.concatenate([left_x, fin_x.reshape(n, -1), right_x], axis=1)
    ws = jnp.concatenate([left_w, fin_w.reshape(n, -1), right_w], axis=1)
    return xs, ws


_GRADE_RATIO, _GRADE_LEVELS = 4.0, 14


def _collinear_grading(L: jax.Array, kinks: tuple[float, ...], n: int) -> jax.Array:
    r"""Extra outer breakpoints for two nearly collinear inputs.

    Integrated over :math:`u_2`, a kink of :math:`z_2 = L_{21}u_1 + L_{22}u_2` at :math:`\kappa` becomes a
    boundary layer of width :math:`s = L_{22}/|L_{21}|` around :math:`u_1 = \kappa/L_{21}`; breakpoints at
    :math:`\pm s\,4^j` from each such centre (clipped to :math:`|u_1| \le 10`) resolve it.
    """
    tiny = jnp.finfo(L.dtype).tiny
    centres = jnp.asarray(sorted(set(kinks) | {0.0}), L.dtype) / jnp.where(jnp.abs(L[1, 0]) > tiny, L[1, 0], tiny)
    s = L[1, 1] / jnp.maximum(jnp.abs(L[1, 0]), tiny)
    steps = s * _GRADE_RATIO ** jnp.arange(_GRADE_LEVELS, dtype=L.dtype)
    pts = jnp.clip((centres[:, None] + jnp.concatenate([steps, -steps])[None, :]).ravel(), -_T, _T)
    pts = jnp.concatenate([pts, jnp.asarray([-7.5, -5.0, -2.5, 2.5, 5.0, 7.5], L.dtype)])  # no piece longer than 2.5
    return jnp.broadcast_to(pts, (n, pts.shape[0]))


def _kinked_nodes(L: jax.Array, kinks: tuple[float, ...], q: int) -> tuple[jax.Array, jax.Array]:
    d = L.shape[0]
    kk = jnp.asarray(kinks + (0.0,), dtype=L.dtype)
    pts = jnp.zeros((1, 0), dtype=L.dtype)
    wts = jnp.ones((1,), dtype=L.dtype)
    for k in range(d):
        shift = pts @ L[k, :k]
        # a kink beyond |u| = 10 lies in a tail of mass < 1.5e-23: clipping it there keeps every piece short
        # (and L_kk = 0, a singular kernel, harmless)
        cut = jnp.clip((kk[None, :-1] - shift[:, None]) / jnp.maximum(L[k, k], jnp.finfo(L.dtype).tiny), -_T, _T)
        parts = [cut, jnp.zeros_like(shift)[:, None]]
        qk, sub = q, (4 if d <= 2 else 1)
        if d == 2 and k == 0:  # graded outer line: short pieces, half the nodes each
            parts.append(_collinear_grading(L, kinks, shift.shape[0]))
            qk, sub = max(q // 2, 8), 1
        bps = jnp.sort(jnp.concatenate(parts, 1), axis=1)
        xs, ws = _line_rule(bps, qk, sub)
        m = xs.shape[1]
        pts = jnp.concatenate([jnp.repeat(pts, m, axis=0), xs.reshape(-1, 1)], axis=1)
        wts = (wts[:, None] * ws).reshape(-1)
    return pts, wts


def sinh_line(c: jax.Array, a: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    r"""Trapezoidal nodes in :math:`t` for :math:`u = c + a\sinh t` on :math:`|u| \le 10`, batched.

    Args:
        c: the centres (any shape ``S``), where the nodes are densest.
        a: the finest spacing scales (shape ``S``, positive).
        n: the number of steps (``n + 1`` nodes per line).

    Returns:
        ``(u, w)`` of shape ``S + (n + 1,)``: nodes and weights (the standard normal density included).
    """
    c, a = jnp.asarray(c)[..., None], jnp.asarray(a)[..., None]
    lo, hi = jnp.arcsinh((-_T - c) / a), jnp.arcsinh((_T - c) / a)
    frac = jnp.arange(n + 1, dtype=c.dtype) / n
    t = lo + (hi - lo) * frac
    u = c + a * jnp.sinh(t)
    ends = jnp.ones(n + 1, c.dtype).at[0].set(0.5).at[-1].set(0.5)
    w = (hi - lo) / n * a * jnp.cosh(t) * jnp.exp(-u * u / 2) * (ends / np.sqrt(2 * np.pi))
    return u, w


def _scale(L: jax.Array) -> jax.Array:
    s0 = TRANSITION_SCALE
    return s0 / jnp.maximum(L, s0)


def smooth_lines_2d(L11: jax.Array, L21: jax.Array, L22: jax.Array, n1: int, n2: int, *, centred: bool = True):
    r"""The graded 2-d rule as an outer and an inner line (no broadcast of :math:`z_1` over the inner nodes).

    The inner lines of one pair share their nodes in :math:`t` (a symmetric range that covers
    :math:`|u_2| \le 10` for every centre), so each inner node costs one exponential.

    Args:
        L11, L21, L22: the Cholesky factor's entries (arrays of one shape ``S``), ``L11 > 0``, ``L22 >= 0``.
        n1, n2: steps of the outer and inner lines.
        centred: centre the inner lines at the transition (needed when a variance exceeds 1); ``False``:
            at 0.

    Returns:
        ``(z1, w1, z2, w2)``: ``z1, w1`` of shape ``S + (n1 + 1,)``, ``z2, w2`` of shape
        ``S + (n1 + 1, n2 + 1)``; ``sum_i w1_i F1(z1_i) sum_j w2_ij F2(z2_ij) ~ <F1(z1) F2(z2)>``.
    """
    L11, L21, L22 = (jnp.asarray(v)[..., None] for v in (L11, L21, L22))
    u1, w1 = sinh_line(jnp.zeros_like(L11[..., 0]), _scale(jnp.maximum(L11, jnp.abs(L21)))[..., 0], n1)
    a = _scale(L22)  # (..., 1)
    reach = _T + (_C_CLIP if centred else 0.0)
    R = jnp.arcsinh(reach / a)
    t = R * jnp.linspace(-1.0, 1.0, n2 + 1, dtype=u1.dtype)  # (..., n2 + 1)
    sh, ch = a * jnp.sinh(t), (2 * R / n2) * a * jnp.cosh(t) / np.sqrt(2 * np.pi)
    c = jnp.clip(-L21 * u1 / jnp.maximum(L22, jnp.finfo(u1.dtype).tiny), -_C_CLIP, _C_CLIP) if centred else 0 * u1
    u2 = c[..., None] + sh[..., None, :]
    w2 = jnp.where(jnp.abs(u2) <= _T, ch[..., None, :] * jnp.exp(-u2 * u2 / 2), 0.0)
    return L11 * u1, w1, (L21 * u1)[..., None] + L22[..., None] * u2, w2


def sinh_steps(k_max: float, *, outer: float = 0.15, inner: float = 0.08) -> tuple[int, int, bool]:
    """Steps ``(n1, n2)`` of the graded lines for variances up to ``k_max``, and whether to centre inner lines.

    The lines' ``t``-ranges grow like ``log K``; the steps in ``t`` are at most ``outer`` (outer and 1-d
    lines) and ``inner`` (inner lines centred at the transition, which may sit 7 units from the bulk).
    Up to ``K = 1`` no transition is sharper than the Gaussian, and the inner lines are centred at 0 with the
    outer step. Rounded up to a multiple of 8 so that nearby kernels share one compiled shape.

    Args:
        k_max: the largest variance (``<=`` :data:`K_MAX`).
        outer, inner: the largest steps in ``t``.

    Returns:
        ``(n1, n2, centred)`` for :func:`smooth_lines_2d`.
    """
    a = min(1.0, TRANSITION_SCALE / np.sqrt(max(k_max, K_MIN)))
    up = lambda x: int(8 * np.ceil(x / 8))  # noqa: E731
    r1 = 2 * np.arcsinh(_T / a)
    if k_max <= TRANSITION_SCALE**2:
        return up(r1 / outer), up(r1 / outer), False
    return up(r1 / outer), up(2 * np.arcsinh((_T + _C_CLIP) / a) / inner), True


def smooth_nodes_2d(L11: jax.Array, L21: jax.Array, L22: jax.Array, n1: int, n2: int):
    r"""Nodes of the graded 2-d rule for :math:`z_1 = L_{11}u_1`, :math:`z_2 = L_{21}u_1 + L_{22}u_2`.

    Args:
        L11, L21, L22: the Cholesky factor's entries (scalars or arrays of one shape ``S``), ``L11 > 0``,
            ``L22 >= 0``.
        n1, n2: steps of the outer and inner lines.

    Returns:
        ``(z1, z2, w)``, each of shape ``S + (n1 + 1, n2 + 1)``: the points and the weights (densities included).
    """
    L11, L21, L22 = (jnp.asarray(v)[..., None] for v in (L11, L21, L22))
    u1, w1 = sinh_line(jnp.zeros_like(L11[..., 0]), _scale(jnp.maximum(L11, jnp.abs(L21)))[..., 0], n1)
    c = jnp.clip(-L21 * u1 / jnp.maximum(L22, jnp.finfo(u1.dtype).tiny), -_C_CLIP, _C_CLIP)
    u2, w2 = sinh_line(c, jnp.broadcast_to(_scale(L22), c.shape), n2)
    z1 = jnp.broadcast_to((L11 * u1)[..., None], u2.shape)
    z2 = (L21 * u1)[..., None] + L22[..., None] * u2
    return z1, z2, w1[..., None] * w2


def _in_range(K: jax.Array, k_max: float) -> jax.Array:
    diag = jnp.diagonal(K)
    return jnp.all((diag >= K_MIN) & (diag <= k_max)) & jnp.all(jnp.isfinite(K))


def _check_concrete(K: jax.Array, k_max: float) -> None:
    if isinstance(K, jax.core.Tracer):
        return
    diag = np.diagonal(np.asarray(K))
    if not np.all(np.isfinite(np.asarray(K))) or np.any(diag < K_MIN) or np.any(diag > k_max):
        raise KernelError(
            f"Gaussian expectation: variances (diagonal of K) {diag.tolist()} are outside the range "
            f"[{K_MIN:g}, {k_max:g}] where the quadrature's stated accuracy holds; rescale the inputs or "
            "hyperparameters (e.g. |x|^2/n_0, C_W, C_b) into that range."
        )


def _two_prod(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``a*b = p + e`` exactly (Dekker's product with Veltkamp splitting; |a|, |b| < 1e150)."""

    def split(x):
        c = 134217729.0 * x
        hi = c - (c - x)
        return hi, x - hi

    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _cholesky2(K: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Entries of the 2x2 Cholesky factor and a flag (PSD within round-off).

    ``L22^2 = det K / K11`` with the determinant from exact products, so that nearly collinear kernels
    keep the relative accuracy of their determinant (``K22 - K12^2/K11`` would lose it to cancellation).
    """
    L11 = jnp.sqrt(K[0, 0])
    L21 = K[1, 0] / L11
    p1, e1 = _two_prod(K[0, 0], K[1, 1])
    p2, e2 = _two_prod(K[1, 0], K[1, 0])
    det = (p1 - p2) + (e1 - e2)
    psd = det >= -1e-10 * p1
    return L11, L21, jnp.sqrt(jnp.maximum(det, 0.0) / K[0, 0]), psd


def expectation_nodes(
    K: jax.Array, kinks: tuple[float, ...], config: QuadratureConfig = QuadratureConfig(), *,
    k_max: float | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Points ``z`` (shape ``(Q, d)``) and weights ``w`` with ``sum(w * f(z)) ~ <f>_K``.

    Args:
        K: the ``(d, d)`` covariance, positive definite (positive semi-definite in two dimensions).
        kinks: the integrand's kink points; empty: a rule for a smooth integrand; else every axis
            is split at the kinks (and 0).
        config: the quadrature rule and orders.
        k_max: the largest variance accepted (default: :data:`K_MAX` for the graded and kinked rules,
            :data:`K_MAX_FIXED_WINDOW` for the fixed-window ones); callers lower it where the stated
            accuracy needs it.

    Returns:
        ``(z, w)``: JAX arrays in ``K``'s dtype, points of shape ``(Q, d)`` and weights of shape ``(Q,)``
        (the Gaussian density included). Under ``jit``, a ``K`` outside the supported range (see the
        module docstring) gives NaN weights.

    Raises:
        KernelError: called with a concrete ``K`` whose variances are outside the supported range.
    """
    d = K.shape[-1]
    orders = config.order(d)
    graded = config.rule == "sinh" and d <= 2
    if k_max is None:
        k_max = K_MAX if (graded or kinks) else K_MAX_FIXED_WINDOW
    _check_concrete(K, k_max)
    ok = _in_range(K, k_max)
    if not kinks and graded:
        n1, n2, n3 = SINH_ORDERS
        if d == 1:
            u, w = sinh_line(jnp.zeros((), K.dtype), _scale(jnp.sqrt(K[0, 0])), n1)
            z = (jnp.sqrt(K[0, 0]) * u)[:, None]
        else:
            L11, L21, L22, psd = _cholesky2(K)
            z1, z2, w = smooth_nodes_2d(L11, L21, L22, n2, n3)
            z, w, ok = jnp.stack([z1.ravel(), z2.ravel()], -1), w.ravel(), ok & psd
        return z, jnp.where(ok, w, jnp.nan)
    if d == 2:
        L11, L21, L22, psd = _cholesky2(K)
        L, ok = jnp.stack([jnp.stack([L11, 0.0 * L11]), jnp.stack([L21, L22])]), ok & psd
    else:
        L = jnp.linalg.cholesky(K)
    if not kinks:
        u, w = _smooth_nodes(d, "hermite" if config.rule == "hermite" else "panels", orders)
        return jnp.asarray(u, K.dtype) @ L.T, jnp.where(ok, jnp.asarray(w, K.dtype), jnp.nan)
    u, w = _kinked_nodes(L, kinks, orders[2])
    return u @ L.T, jnp.where(ok, w, jnp.nan)
