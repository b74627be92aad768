r"""Infinite-width NNGP and NTK of convolutional (CNN) and group-convolutional (GCNN, :math:`C_4 \ltimes \mathbb Z^2`) networks.

Architecture, on square ``H x H`` images with ``C_0`` channels and periodic boundaries (the rotations
by 90° are then exact symmetries of the pixel torus), in neural-tangents' NTK parameterisation
(all parameters :math:`\mathcal N(0,1)`, one learning rate, so :math:`\lambda = C`):

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
2024 for general groups). The dual functions are those of :mod:`nntheory.numerics._kernels` (one seam).
With invariant pooling the GCNN kernels equal the group average of the CNN kernels,
:math:`K_{\mathrm{GCNN}}(x, x') = \tfrac14\sum_{q\in C_4} K_{\mathrm{CNN}}(x, qx')`: kernel regression with
a GCNN is regression with the augmented CNN kernel (tests check this to round-off).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from nntheory.errors import KernelError, SpecError
from nntheory.numerics._kernels import Kernels, dual_functions
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
    """NNGP/NTK of a CNN (``n_rot = 1``) or a C4 GCNN (``n_rot = 4``) with invariant pooling; see the module docstring."""

    activation: Activation | str
    depth: int
    W_std: float
    b_std: float = 0.0
    n_rot: int = 4
    filter_size: int = 3
    quadrature: QuadratureConfig = QuadratureConfig()

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", _activation(self.activation))
        if isinstance(self.depth, bool) or not isinstance(self.depth, (int, np.integer)) or self.depth < 1:
            raise SpecError(f"ConvKernel: depth must be an integer >= 1 (convolutional layers), got {self.depth!r}.")
        if self.n_rot not in (1, 2, 4):
            raise SpecError(f"ConvKernel: n_rot must be 1, 2 or 4 (rotations that map the pixel grid onto itself), got {self.n_rot!r}.")
        if not isinstance(self.filter_size, (int, np.integer)) or self.filter_size < 1 or self.filter_size % 2 == 0:
            raise SpecError(f"ConvKernel: filter_size must be an odd integer >= 1, got {self.filter_size!r}.")
        if not (np.isfinite(self.W_std) and self.W_std > 0 and np.isfinite(self.b_std) and self.b_std >= 0):
            raise SpecError(f"ConvKernel: W_std > 0 and b_std >= 0 required, got {self.W_std!r}, {self.b_std!r}.")

    def _images(self, x, name):
        a = np.asarray(x, dtype=np.float64)
        if a.ndim == 3:
            a = a[..., None]
        if a.ndim != 4 or a.shape[1] != a.shape[2] or a.shape[1] < 1:
            raise KernelError(f"ConvKernel: {name} must have shape (N, H, H) or (N, H, H, C) with square images, got {np.shape(x)}.")
        if not np.all(np.isfinite(a)):
            raise KernelError(f"ConvKernel: {name} contains NaN or infinite entries.")
        return jnp.asarray(a)

    def __call__(self, x1, x2=None) -> Kernels:
        a = self._images(x1, "x1")
        b = a if x2 is None else self._images(x2, "x2")
        if a.shape[1:] != b.shape[1:]:
            raise KernelError(f"ConvKernel: x1 and x2 must have the same image shape, got {a.shape[1:]} and {b.shape[1:]}.")
        n, k = self.n_rot, self.filter_size
        h = k // 2
        offsets = [(di, dj) for di in range(-h, h + 1) for dj in range(-h, h + 1)]
        W2, b2 = self.W_std**2, self.b_std**2
        duals = dual_functions(self.activation, self.quadrature)
        C0 = a.shape[-1]

        def patches(x):  # (N, n, H, H, |S| C0): x(p + R_r delta) for each rotation r
            out = []
            for r in range(n):
                shifted = [jnp.roll(x, shift=(-d[0], -d[1]), axis=(1, 2)) for d in (_rot(o, r * 4 // n) for o in offsets)]
                out.append(jnp.concatenate(shifted, axis=-1))
            return jnp.stack(out, axis=1)

        Pa, Pb = patches(a), patches(b)
        c1 = W2 / (C0 * len(offsets))
        K = b2 + c1 * jnp.einsum("arijc,bskl c->arijbskl".replace(" ", ""), Pa, Pb)  # (Na, n, H, H, Nb, n, H, H)
        Va = b2 + c1 * jnp.sum(Pa * Pa, axis=-1)  # (Na, n, H, H)
        Vb = b2 + c1 * jnp.sum(Pb * Pb, axis=-1)
        T = K  # lambda = C: Theta^(1) = Sigma^(1)
        cl = W2 / (len(offsets) * n)

        def conv(G):  # sum over s and delta of G[(r+s), p + R_r d; (r'+s), q + R_r' d]
            A = sum(jnp.roll(G, shift=(-s, -s), axis=(1, 5)) for s in range(n))
            rows = []
            for r in range(n):
                cols = []
                for r2 in range(n):
                    blk = A[:, r, :, :, :, r2, :, :]
                    acc = 0.0
                    for o in offsets:
                        d1, d2 = _rot(o, r * 4 // n), _rot(o, r2 * 4 // n)
                        acc = acc + jnp.roll(blk, shift=(-d1[0], -d1[1], -d2[0], -d2[1]), axis=(1, 2, 4, 5))
                    cols.append(acc)
                rows.append(jnp.stack(cols, axis=4))
            return jnp.stack(rows, axis=1)

        def conv_var(g):  # the same on the diagonal: (N, n, H, H)
            A = sum(jnp.roll(g, shift=-s, axis=1) for s in range(n))
            out = []
            for r in range(n):
                acc = 0.0
                for o in offsets:
                    d = _rot(o, r * 4 // n)
                    acc = acc + jnp.roll(A[:, r], shift=(-d[0], -d[1]), axis=(1, 2))
                out.append(acc)
            return jnp.stack(out, axis=1)

        def nonlin(K, T, Va, Vb):
            g, gp = duals.cross(Va[:, :, :, :, None, None, None, None], K, Vb[None, None, None, None])
            ga, _ = duals.diag(Va)
            gb, _ = duals.diag(Vb)
            return g, gp * T, ga, gb

        for _ in range(self.depth - 1):
            g, gpT, ga, gb = nonlin(K, T, Va, Vb)
            K_new = b2 + cl * conv(g)
            T = K_new + cl * conv(gpT)
            K = K_new
            Va, Vb = b2 + cl * conv_var(ga), b2 + cl * conv_var(gb)
        g, gpT, _, _ = nonlin(K, T, Va, Vb)
        axes = (1, 2, 3, 5, 6, 7)
        nngp = b2 + W2 * jnp.mean(g, axis=axes)
        ntk = nngp + W2 * jnp.mean(gpT, axis=axes)
        return Kernels(nngp, ntk)


