r"""Infinite-width NNGP and NTK of convolutional (CNN) and group-convolutional (GCNN, :math:`C_4 \ltimes \mathbb Z^2`) networks.

Architecture, on square ``H x H`` images with ``C_0`` channels and periodic boundaries (the rotations
by 90° are then exact symmetries of the pixel torus), in the NTK parameterisation (all parameters
:math:`\mathcal N(0,1)`, weights scaled by :math:`\sqrt{C_W/\mathrm{fan\_in}}`, biases by :math:`\sqrt{C_b}`,
one learning rate, so :math:`\lambda_W = C_W`, :math:`\lambda_b = C_b`; below :math:`\sigma_W^2 = C_W`,
:math:`\sigma_b^2 = C_b`). ``depth`` is the number of layers :math:`L` with weights, the read-out included
(as in :class:`~nntheory.numerics.MLPKernel`): ``depth - 1`` convolutional layers, then the read-out.
:meth:`ConvKernel.neural_tangents` takes neural-tangents' ``W_std``, ``b_std`` and number of nonlinearities.

* lifting layer: :math:`z^{(1)}(p, r) = \tfrac{\sigma_W}{\sqrt{C_0|S|}}\sum_{\delta\in S} W(\delta)\cdot x(p + R_r\delta) + \sigma_b b`,
  for rotations :math:`r \in C_n` (``n_rot = 4``; ``n_rot = 1`` is an ordinary convolution), :math:`S`
  the ``k x k`` filter offsets (a rotation-invariant set);
* group convolutions: :math:`z^{(l+1)}(p, r) = \tfrac{\sigma_W}{\sqrt{C|S|n}}\sum_{\delta, s} W(\delta, s)\cdot\sigma(z^{(l)}(p + R_r\delta, rs)) + \sigma_b b`;
* read-out: global average over positions and rotations (invariant pooling), then a dense layer.

In the infinite-channel limit the covariance of :math:`z(p,r;x)` and :math:`z(q,r';x')` obeys

.. math::
    \Sigma^{(l+1)}_{(p,r),(q,r')} = \sigma_b^2 + \frac{\sigma_W^2}{|S|n}\sum_{\delta, s}
        \langle\sigma\sigma\rangle\big[\Sigma^{(l)}_{(p+R_r\delta, rs),(q+R_{r'}\delta, r's)}\big],

and the NTK likewise with :math:`\langle\sigma'\sigma'\rangle\Theta^{(l)}` added (Misof, Kessel & Gerken
2024 for general groups). The dual functions are those of :mod:`nntheory.numerics.kernels._kernels` (one seam).
With invariant pooling the GCNN kernels equal the group average of the CNN kernels,
:math:`K_{\mathrm{GCNN}}(x, x') = \tfrac14\sum_{q\in C_4} K_{\mathrm{CNN}}(x, qx')`: kernel regression with
a GCNN is regression with the augmented CNN kernel (tests check this to round-off).

Dual functions: activations with closed forms (ReLU, erf, ...) run the whole network as one jitted program.
Smooth activations without them (tanh, GELU, softplus, ...) go layer by layer: where a layer's variances are at
most :data:`~nntheory.numerics.kernels._graded.MEHLER_K_MAX`, Mehler's series over the *sites* (image, rotation,
pixel) of both image sets, :math:`\langle\sigma_s\sigma_t\rangle = \sum_q \rho_{st}^q A_q(\Sigma_{ss})
A_q(\Sigma_{tt})`, with the number of terms chosen per layer from the stated remainder (1e-13 relative to the norms)
of :mod:`nntheory.numerics.kernels._graded`; otherwise (larger variances, or a series that would need too many
terms) the two-dimensional quadrature of every covariance entry. Both routes agree to about 4e-14
(``tests/kernels/test_conv_mehler.py``); the series is 600-1000x faster warm (``benchmarks/conv_kernels.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import KernelError, SpecError
from nntheory.numerics.kernels._graded import MEHLER_K_MAX, MEHLER_TOL, _correlation, _mehler_terms, mehler_coefficients
from nntheory.numerics.kernels._kernels import Kernels, dual_functions
from nntheory.numerics._quadrature import QuadratureConfig
from nntheory.theory._activations import Activation, activation as _activation

__all__ = ["ConvKernel"]


def _rot(delta, r):
    di, dj = delta
    for _ in range(r % 4):
        di, dj = dj, -di  # the offset map of np.rot90 on (row, column) indices
    return di, dj


@dataclass(frozen=True)
class ConvKernel:
    """NNGP/NTK of a CNN (``n_rot = 1``) or a C4 GCNN (``n_rot = 4``) with invariant pooling; see the module docstring.

    ``depth`` is the number of layers ``L >= 2`` with weights, the dense read-out included: ``depth - 1``
    convolutional layers (nonlinearities), then the read-out. NTK parameterisation: parameters ``N(0, 1)``,
    weights scaled by ``sqrt(C_W / fan_in)``, biases by ``sqrt(C_b)``, one learning rate
    (``lambda_W = C_W``, ``lambda_b = C_b``). :meth:`neural_tangents` builds it from neural-tangents'
    ``W_std``, ``b_std`` and number of nonlinearities.
    """

    activation: Activation | str
    depth: int
    C_W: float
    C_b: float = 0.0
    n_rot: int = 4
    filter_size: int = 3
    quadrature: QuadratureConfig = QuadratureConfig()

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", _activation(self.activation))
        object.__setattr__(self, "depth", check_int(self.depth, "depth", lo=2, where="ConvKernel (layers: convolutions + read-out)"))
        if self.n_rot not in (1, 2, 4):
            raise SpecError(f"ConvKernel: n_rot must be 1, 2 or 4 (rotations that map the pixel grid onto itself), got {self.n_rot!r}.")
        if check_int(self.filter_size, "filter_size", lo=1, where="ConvKernel") % 2 == 0:
            raise SpecError(f"ConvKernel: filter_size must be an odd integer >= 1, got {self.filter_size!r}.")
        object.__setattr__(self, "C_W", check_real(self.C_W, "C_W", lo=0, lo_open=True, where="ConvKernel"))
        object.__setattr__(self, "C_b", check_real(self.C_b, "C_b", lo=0, where="ConvKernel"))

    @classmethod
    def neural_tangents(cls, activation, *, W_std: float, b_std: float, depth: int, **kw) -> "ConvKernel":
        """neural-tangents' convention: ``depth`` nonlinearities (convolutional layers, ``>= 1``), ``W_std``, ``b_std``.

        Returns:
            The :class:`ConvKernel` with ``depth + 1`` layers, ``C_W = W_std**2`` and ``C_b = b_std**2``
            (as :meth:`~nntheory.numerics.MLPKernel.neural_tangents`); ``kw``: ``n_rot``, ``filter_size``, ``quadrature``.

        Raises:
            SpecError: ``depth < 1``, ``W_std <= 0`` or ``b_std < 0``.
        """
        depth, C_W, C_b = _from_neural_tangents(W_std, b_std, depth, "ConvKernel.neural_tangents")
        return cls(activation, depth, C_W, C_b, **kw)

    def _images(self, x, name):
        a = np.asarray(x, dtype=np.float64)
        if a.ndim == 3:
            a = a[..., None]
        if a.ndim != 4 or a.shape[1] != a.shape[2] or a.shape[1] < 1:
            raise KernelError(f"ConvKernel: {name} must have shape (N, H, H) or (N, H, H, C) with square images, got {np.shape(x)}.")
        if not np.all(np.isfinite(a)):
            raise KernelError(f"ConvKernel: {name} contains NaN or infinite entries.")
        return jnp.asarray(a)

    def __call__(self, x1, x2=None, *, chunk: int | None = None) -> Kernels:
        """Kernels between the images ``x1 (N1, H, H[, C])`` and ``x2`` (default ``x1``), ``(N1, N2)`` each.

        The full spatial covariance of every pair, ``(n H^2)^2`` entries, is kept; rows of ``x1`` are processed
        in chunks of ``chunk`` images (by default so that a chunk holds about 2^23 entries).
        """
        a = self._images(x1, "x1")
        b = a if x2 is None else self._images(x2, "x2")
        if a.shape[1:] != b.shape[1:]:
            raise KernelError(f"ConvKernel: x1 and x2 must have the same image shape, got {a.shape[1:]} and {b.shape[1:]}.")
        per_row = b.shape[0] * (self.n_rot * a.shape[1] * a.shape[2]) ** 2
        if chunk is None:
            chunk = max(1, (1 << 23) // per_row)
        else:
            check_int(chunk, "chunk", lo=1, where="ConvKernel", error=KernelError)
        parts = [self._layers(a[s : s + chunk], b) for s in range(0, a.shape[0], chunk)]
        return Kernels(jnp.concatenate([p[0] for p in parts]), jnp.concatenate([p[1] for p in parts]))

    def _layers(self, a, b):
        """(nngp, ntk) of one chunk: one jitted program for closed-form activations; for the others, the layers one
        by one, each nonlinearity by Mehler's series where it applies (a per-layer choice made on the host)."""
        duals = dual_functions(self.activation, self.quadrature)
        if duals.exact:
            return _block(self, a, b)
        K, T, Va, Vb = _lift(self, a, b)
        for _ in range(self.depth - 2):  # the convolutions after the lifting layer
            g, gpT, ga, gb = _smooth_nonlin(self, duals, K, T, Va, Vb)
            K, T, Va, Vb = _conv_layer(self, g, gpT, ga, gb)
        g, gpT, _, _ = _smooth_nonlin(self, duals, K, T, Va, Vb)
        return _readout(self, g, gpT)

    def _block(self, a, b):  # (nngp, ntk); traced once per (kernel, shapes) by the jitted _block below
        duals = dual_functions(self.activation, self.quadrature)
        K, T, Va, Vb = self._lift(a, b)
        for _ in range(self.depth - 2):  # the convolutions after the lifting layer
            g, gpT, ga, gb = _nonlin(duals, K, T, Va, Vb)
            K, T, Va, Vb = self._conv_layer(g, gpT, ga, gb)
        g, gpT, _, _ = _nonlin(duals, K, T, Va, Vb)
        return self._readout(g, gpT)

    def _lift(self, a, b):
        """The lifting layer's covariances: ``K`` and ``T`` ``(Na, n, H, H, Nb, n, H, H)``, variances ``Va``, ``Vb``."""
        n, offsets = self.n_rot, self.offsets
        Pa = jnp.stack([_gather(a, r, n, offsets) for r in range(n)], axis=1)  # (Na, n, H, H, |S| C0)
        Pb = jnp.stack([_gather(b, r, n, offsets) for r in range(n)], axis=1)
        c1 = self.C_W / (a.shape[-1] * len(offsets))
        K = self.C_b + c1 * jnp.einsum("arijc,bsklc->arijbskl", Pa, Pb)  # (Na, n, H, H, Nb, n, H, H)
        Va = self.C_b + c1 * jnp.sum(Pa * Pa, axis=-1)  # (Na, n, H, H)
        Vb = self.C_b + c1 * jnp.sum(Pb * Pb, axis=-1)
        return K, K, Va, Vb  # lambda = C: Theta^(1) = Sigma^(1)

    def _conv_layer(self, g, gpT, ga, gb):
        """One group convolution: the next ``K, T, Va, Vb`` from the dual functions of this layer."""
        taps = _taps(self.n_rot, self.offsets, ga.shape[2])
        b2, cl = self.C_b, self.C_W / (len(self.offsets) * self.n_rot)
        K = b2 + cl * _conv(g, taps)
        T = K + cl * _conv(gpT, taps)
        return K, T, b2 + cl * _conv_var(ga, taps), b2 + cl * _conv_var(gb, taps)

    def _readout(self, g, gpT):
        """Invariant pooling and the dense read-out: ``(nngp, ntk)`` of shape ``(Na, Nb)``."""
        axes = (1, 2, 3, 5, 6, 7)
        nngp = self.C_b + self.C_W * jnp.mean(g, axis=axes)
        return nngp, nngp + self.C_W * jnp.mean(gpT, axis=axes)

    @property
    def offsets(self) -> list[tuple[int, int]]:
        """The ``filter_size``-square filter taps ``(di, dj)``, row-major."""
        return _offsets(self.filter_size)


def _from_neural_tangents(W_std, b_std, depth, where: str) -> tuple[int, float, float]:
    """neural-tangents' ``(W_std, b_std, nonlinearities)`` as ``(layers, C_W, C_b)`` = ``(depth + 1, W_std**2, b_std**2)``."""
    depth = check_int(depth, "depth", lo=1, where=f"{where} (number of nonlinearities)")
    W_std = check_real(W_std, "W_std", lo=0, lo_open=True, where=where)
    b_std = check_real(b_std, "b_std", lo=0, where=where)
    return depth + 1, W_std**2, b_std**2


def _offsets(filter_size: int) -> list[tuple[int, int]]:
    """The taps ``(di, dj)`` of a ``filter_size``-square filter centred on 0, row-major."""
    h = filter_size // 2
    return [(di, dj) for di in range(-h, h + 1) for dj in range(-h, h + 1)]


def _gather(h, r: int, n_rot: int, offsets):
    """``h (N, H, H, c) -> (N, H, H, |S| c)``: ``h(p + R_r delta)`` for every offset ``delta`` (periodic)."""
    rotated = (_rot(o, r * 4 // n_rot) for o in offsets)
    return jnp.concatenate([jnp.roll(h, shift=(-d[0], -d[1]), axis=(1, 2)) for d in rotated], axis=-1)


def _taps(n: int, offsets, H: int):
    """Gather indices of the rotated filter taps: ``P[r, d, i] = (i + (R_r delta_d)_0) mod H``, ``Q`` likewise,
    ``rs[r, s] = r + s`` in ``C_n``, and the rotations ``R``."""
    ar = np.arange(H)
    P = np.array([[(ar + _rot(o, r * 4 // n)[0]) % H for o in offsets] for r in range(n)])  # (n, |S|, H)
    Q = np.array([[(ar + _rot(o, r * 4 // n)[1]) % H for o in offsets] for r in range(n)])
    rs = np.array([[(r + s) % n for s in range(n)] for r in range(n)])  # (n, n): r + s
    return P, Q, rs, np.arange(n)


def _conv(G, taps):
    """Sum over s and delta of ``G[(r+s), p + R_r d; (r'+s), q + R_r' d]``, for ``G (Na, n, H, H, Nb, n, H, H)``."""
    P, Q, rs, R_ = taps
    n = len(R_)
    A = sum(jnp.take(jnp.take(G, rs[:, s], axis=1), rs[:, s], axis=5) for s in range(n))
    A = jnp.moveaxis(A, (0, 4), (6, 7))  # (n, H, H, n, H, H, Na, Nb)
    b6 = (slice(None),) + (None,) * 5
    acc = 0.0
    for d in range(P.shape[1]):
        acc = acc + A[R_[b6], P[:, d][:, :, None, None, None, None], Q[:, d][:, None, :, None, None, None],
                      R_[(None,) * 3 + (slice(None),) + (None,) * 2], P[:, d][None, None, None, :, :, None],
                      Q[:, d][None, None, None, :, None, :]]
    return jnp.moveaxis(acc, (6, 7), (0, 4))


def _conv_var(g, taps):
    """:func:`_conv` on the diagonal: ``g (N, n, H, H)``."""
    P, Q, rs, R_ = taps
    A = sum(jnp.take(g, rs[:, s], axis=1) for s in range(len(R_)))
    A = jnp.moveaxis(A, 0, 3)  # (n, H, H, N)
    acc = 0.0
    for d in range(P.shape[1]):
        acc = acc + A[R_[:, None, None], P[:, d][:, :, None], Q[:, d][:, None, :]]
    return jnp.moveaxis(acc, 3, 0)


def _nonlin(duals, K, T, Va, Vb):
    """The dual functions of a layer by :func:`~nntheory.numerics.kernels._kernels.dual_functions`."""
    g, gp = duals.cross(Va[:, :, :, :, None, None, None, None], K, Vb[None, None, None, None])
    ga, _ = duals.diag(Va)
    gb, _ = duals.diag(Vb)
    return g, gp * T, ga, gb


@jax.jit
def _dense_horner(rho, A1, B1, A2, B2, n):
    """``sum_{q<n} rho^q A1[i,q] A2[j,q]`` (and with ``B``) for every site pair, by Horner's rule."""

    def step(s, gp):
        q = n - 1 - s
        a1, b1 = jax.lax.dynamic_index_in_dim(A1, q, 1, False), jax.lax.dynamic_index_in_dim(B1, q, 1, False)
        a2, b2 = jax.lax.dynamic_index_in_dim(A2, q, 1, False), jax.lax.dynamic_index_in_dim(B2, q, 1, False)
        return gp[0] * rho + a1[:, None] * a2[None, :], gp[1] * rho + b1[:, None] * b2[None, :]

    zero = jnp.zeros_like(rho)
    return jax.lax.fori_loop(0, n, step, (zero, zero))


def _smooth_nonlin(kern, duals, K, T, Va, Vb):
    """The dual functions of one layer of a smooth activation without closed forms.

    Mehler's series over the sites (image, rotation, pixel) of both chunks when the layer's variances are at most
    :data:`~nntheory.numerics.kernels._graded.MEHLER_K_MAX` and the series converges within
    :data:`~nntheory.numerics.kernels._graded.MEHLER_MAX_TERMS` terms, with the truncation bound and accuracy of
    :mod:`nntheory.numerics.kernels._graded` (1e-13 relative to the norms); otherwise the two-dimensional
    quadrature of :func:`~nntheory.numerics.kernels._kernels.dual_functions`.
    """
    k1, k2 = Va.reshape(-1), Vb.reshape(-1)
    if min(float(jnp.min(k1)), float(jnp.min(k2))) <= 0:
        return _nonlin_jit(duals, K, T, Va, Vb)
    k_max = max(float(jnp.max(k1)), float(jnp.max(k2)))
    if k_max > MEHLER_K_MAX:
        return _nonlin_jit(duals, K, T, Va, Vb)
    shape = K.shape
    rho = _correlation(K.reshape(k1.shape[0], k2.shape[0]), k1[:, None], k2[None, :])
    A, B, Es, Ed = mehler_coefficients(kern.activation, jnp.concatenate([k1, k2]), k_max)
    n = _mehler_terms(A, B, Es, Ed, float(jnp.max(jnp.abs(rho))), MEHLER_TOL)
    if n is None:
        return _nonlin_jit(duals, K, T, Va, Vb)
    m = k1.shape[0]
    g, gp = _dense_horner(rho, A[:m], B[:m], A[m:], B[m:], n)
    # the variances' <σ²> are the norms of the same rule (its error is far below the series' remainder)
    return g.reshape(shape), gp.reshape(shape) * T, Es[:m].reshape(Va.shape), Es[m:].reshape(Vb.shape)


_nonlin_jit = jax.jit(_nonlin, static_argnums=0)
_block = jax.jit(ConvKernel._block, static_argnums=0)
_lift = jax.jit(ConvKernel._lift, static_argnums=0)
_conv_layer = jax.jit(ConvKernel._conv_layer, static_argnums=0)
_readout = jax.jit(ConvKernel._readout, static_argnums=0)
