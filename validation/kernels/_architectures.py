r"""The trainable networks of the kernel topic: MLPs, CNNs and C4 GCNNs in the NTK parameterisation.

MLPs (:class:`TrainedMLPSpec`) are the one MLP of :mod:`nntheory.validation._networks` in its NTK
parameterisation, :math:`z^{(l+1)} = \sqrt{C_W/n_l}\, W\sigma(z^{(l)}) + \sqrt{C_b}\, b` with
:math:`W, b \sim \mathcal N(0,1)` and one learning rate (:math:`\lambda_W = C_W`, :math:`\lambda_b = C_b`);
convolutional nets (:class:`TrainedConvSpec`) follow :class:`nntheory.numerics.ConvKernel`. In every spec
``depth`` is the number of layers :math:`L` with weights, the read-out included (the count of
:class:`~nntheory.numerics.MLPKernel`), so ``depth - 1`` hidden (nonlinear) layers; the named constructor
``neural_tangents(..., W_std=, b_std=, depth=<nonlinearities>)`` takes neural-tangents' convention.
Every spec has ``init(key, in_dim)``, ``apply(params, x, sig)`` and ``kernel()`` (its infinite-width NNGP/NTK).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import SpecError
from nntheory.numerics.kernels._conv_kernels import ConvKernel, _from_neural_tangents, _gather, _offsets
from nntheory.numerics.kernels._kernels import MLPKernel
from nntheory.theory import Activation, activation as _activation
from nntheory.validation._networks import activation_fns, mlp_forward, standard_mlp_params

__all__ = ["ARCHITECTURES", "TrainedConvSpec", "TrainedMLPSpec", "apply", "init_params", "trained_spec"]

ARCHITECTURES = ("mlp", "cnn", "gcnn")


@dataclass(frozen=True)
class _TrainedSpec:
    """The fields and checks every trained network shares: ``depth >= 2`` layers, other integer fields >= 1,
    ``C_W > 0``, ``C_b >= 0``."""

    activation: Activation | str
    depth: int
    width: int
    C_W: float = 1.0
    C_b: float = 0.0
    out_dim: int = 1

    _INTS: ClassVar[tuple[str, ...]] = ("width", "out_dim")

    def __post_init__(self) -> None:
        where = type(self).__name__
        object.__setattr__(self, "activation", _activation(self.activation))
        object.__setattr__(self, "depth", check_int(self.depth, "depth", lo=2, where=f"{where} (layers: hidden + read-out)"))
        for name in self._INTS:
            check_int(getattr(self, name), name, lo=1, where=where)
        object.__setattr__(self, "C_W", check_real(self.C_W, "C_W", lo=0, lo_open=True, where=where))
        object.__setattr__(self, "C_b", check_real(self.C_b, "C_b", lo=0, where=where))

    @classmethod
    def neural_tangents(cls, activation, *, W_std: float, b_std: float, depth: int, width: int, **kw):
        """neural-tangents' convention: ``depth`` nonlinearities (``>= 1``), weight and bias scales ``W_std``, ``b_std``.

        Returns:
            The spec with ``depth + 1`` layers, ``C_W = W_std**2`` and ``C_b = b_std**2`` (as
            :meth:`~nntheory.numerics.MLPKernel.neural_tangents`); ``kw`` are the other fields (``out_dim``, ...).

        Raises:
            SpecError: ``depth < 1``, ``W_std <= 0``, ``b_std < 0`` or invalid other fields.
        """
        layers, C_W, C_b = _from_neural_tangents(W_std, b_std, depth, f"{cls.__name__}.neural_tangents")
        return cls(activation, layers, width, C_W, C_b, **kw)

    @property
    def _scales(self) -> tuple[float, float]:
        """``(sqrt(C_W), sqrt(C_b))``: the factors of ``W / sqrt(fan_in)`` and ``b`` (exactly ``W_std, b_std``
        of :meth:`neural_tangents`, as ``sqrt(x**2) == x`` in binary floating point)."""
        return math.sqrt(self.C_W), math.sqrt(self.C_b)


@dataclass(frozen=True)
class TrainedMLPSpec(_TrainedSpec):
    """An MLP in NTK parameterisation: ``depth - 1`` hidden layers of ``width``, then ``out_dim`` linear outputs.

    ``depth`` is the number of layers ``L >= 2`` with weights, the read-out included, as in
    :class:`~nntheory.numerics.MLPKernel` (``kernel().depth == depth``). Parameters are ``N(0, 1)``, weights
    scaled by ``sqrt(C_W / fan_in)``, biases by ``sqrt(C_b)``, one learning rate (``lambda_W = C_W``,
    ``lambda_b = C_b``). :meth:`neural_tangents` takes neural-tangents' ``W_std``, ``b_std`` and number of
    nonlinearities.
    """

    def kernel(self) -> MLPKernel:
        """The infinite-width kernels: PDLT :class:`MLPKernel` with ``depth`` layers, ``lambda_W = C_W``, ``lambda_b = C_b``."""
        return MLPKernel(self.activation, self.depth, self.C_W, self.C_b, self.C_W, self.C_b)

    def init(self, key, in_dim: int):
        """Standard-normal parameters ``[(W, b), ...]`` for inputs of dimension ``in_dim``."""
        return init_params(key, self, in_dim)

    def apply(self, params, x, sig):
        """Outputs ``(N, out_dim)`` of the network at ``x (N, in_dim)``."""
        return apply(params, x, self, sig)


def init_params(key, spec: TrainedMLPSpec, in_dim: int):
    """Standard-normal MLP parameters (:func:`~nntheory.validation._networks.standard_mlp_params`) of ``spec``."""
    return standard_mlp_params(key, [in_dim] + [spec.width] * (spec.depth - 1) + [spec.out_dim])


def apply(params, x, spec: TrainedMLPSpec, sig):
    """NTK-parameterised forward pass with a linear read-out; returns ``(N, out_dim)``."""
    sw, sb = spec._scales
    return mlp_forward(params, x, sig, W_std=sw, b_std=sb)[0][-1]


def _sigma(act: Activation):
    """The activation as a JAX callable."""
    return activation_fns(act)[0]


@dataclass(frozen=True)
class TrainedConvSpec(_TrainedSpec):
    r"""A CNN (``n_rot = 1``) or C4 group-convolutional net (``n_rot = 4``) on flattened ``image_size``-square images.

    The architecture and NTK parameterisation of :class:`nntheory.numerics.ConvKernel`: ``depth - 1``
    convolutional layers of ``width`` channels (a lifting layer with the ``filter_size``-square filter
    rotated by :math:`r\cdot 90^\circ` for each :math:`r \in C_n`, then group convolutions), periodic
    boundaries, the nonlinearity, a global average over positions and rotations, and a dense read-out to
    ``out_dim`` outputs. ``depth`` is the number of layers ``L >= 2`` with weights, the read-out included, as
    in :class:`ConvKernel` and :class:`~nntheory.numerics.MLPKernel`. Parameters are ``N(0, 1)``, weights
    scaled by ``sqrt(C_W / fan_in)``, biases by ``sqrt(C_b)``, one learning rate; :meth:`neural_tangents`
    takes neural-tangents' ``W_std``, ``b_std`` and number of nonlinearities.
    Inputs are ``(N, image_size**2 * channels)`` arrays (row-major pixels, channels last).
    """

    image_size: int = 8
    n_rot: int = 1
    filter_size: int = 3

    _INTS: ClassVar[tuple[str, ...]] = ("width", "out_dim", "image_size", "filter_size")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.filter_size % 2 == 0:
            raise SpecError(f"TrainedConvSpec: filter_size must be odd, got {self.filter_size}.")
        if self.n_rot not in (1, 2, 4):
            raise SpecError(f"TrainedConvSpec: n_rot must be 1, 2 or 4 (rotations of the pixel grid), got {self.n_rot!r}.")

    @property
    def offsets(self) -> list[tuple[int, int]]:
        """The filter taps ``(di, dj)``, row-major (those of :class:`ConvKernel`)."""
        return _offsets(self.filter_size)

    def _images(self, x):
        H = self.image_size
        if x.shape[-1] % (H * H):
            raise SpecError(f"TrainedConvSpec: inputs of dimension {x.shape[-1]} are not {H}x{H} images (image_size = {H}).")
        return x.reshape(x.shape[0], H, H, x.shape[-1] // (H * H))

    def kernel(self):
        """The infinite-width kernels, taking flattened images like the network."""
        return _FlatImageKernel(ConvKernel(self.activation, self.depth, self.C_W, self.C_b, self.n_rot, self.filter_size),
                                self.image_size)

    def init(self, key, in_dim: int):
        """Standard-normal parameters ``[(W, b), ...]``: ``depth - 1`` filters ``(|S| fan_in, width)`` and the read-out."""
        C0 = in_dim // (self.image_size**2)
        S, n, C = len(self.offsets), self.n_rot, self.width
        fan_in = [S * C0] + [S * n * C] * (self.depth - 2)
        keys = jax.random.split(key, 2 * self.depth)
        layers = [(jax.random.normal(keys[2 * i], (f, C)), jax.random.normal(keys[2 * i + 1], (C,))) for i, f in enumerate(fan_in)]
        return layers + [(jax.random.normal(keys[-2], (C, self.out_dim)), jax.random.normal(keys[-1], (self.out_dim,)))]

    def _gather(self, h, r):
        """``h (N, H, H, c) -> (N, H, H, |S| c)``: ``h(p + R_r delta)`` for every offset ``delta``."""
        return _gather(h, r, self.n_rot, self.offsets)

    def apply(self, params, x, sig):
        """Outputs ``(N, out_dim)`` of the network at flattened images ``x``."""
        n = self.n_rot
        sw, sb = self._scales
        img = self._images(x)  # (N, H, H, C0)
        W, b = params[0]
        z = jnp.stack([self._gather(img, r) for r in range(n)], axis=1)  # (N, n, H, H, |S| C0)
        z = sw / np.sqrt(W.shape[0]) * (z @ W) + sb * b  # (N, n, H, H, C)
        for W, b in params[1:-1]:
            h = sig(z)
            # z'(p, r) = sum_{delta, s} W(delta, s) . h(p + R_r delta, r + s)
            g = jnp.stack([self._gather(jnp.concatenate([h[:, (r + s) % n] for s in range(n)], axis=-1), r) for r in range(n)], axis=1)
            z = sw / np.sqrt(W.shape[0]) * (g @ W) + sb * b
        pooled = jnp.mean(sig(z), axis=(1, 2, 3))  # (N, C)
        W, b = params[-1]
        return sw / np.sqrt(W.shape[0]) * (pooled @ W) + sb * b


@dataclass(frozen=True)
class _FlatImageKernel:
    kernel: ConvKernel
    image_size: int

    def _img(self, x):
        x = np.asarray(x, dtype=np.float64)
        H = self.image_size
        return x.reshape(x.shape[0], H, H, x.shape[-1] // (H * H))

    def __call__(self, x1, x2=None):
        return self.kernel(self._img(x1), None if x2 is None else self._img(x2))


def trained_spec(arch: str, activation, depth: int, width: int, C_W: float, C_b: float, out_dim: int,
                 image_size: int = 8) -> TrainedMLPSpec | TrainedConvSpec:
    """The network of ``arch``: ``"mlp"``, ``"cnn"`` (``n_rot = 1``) or ``"gcnn"`` (C4 lifting + group convolutions).

    Returns:
        A :class:`TrainedMLPSpec` or :class:`TrainedConvSpec`; ``depth`` is the number of layers with weights,
        the read-out included, in both (``depth - 1`` hidden layers).

    Raises:
        SpecError: unknown ``arch`` or invalid fields.
    """
    if arch == "mlp":
        return TrainedMLPSpec(activation, depth, width, C_W, C_b, out_dim)
    if arch in ("cnn", "gcnn"):
        return TrainedConvSpec(activation, depth, width, C_W, C_b, out_dim, image_size, n_rot=1 if arch == "cnn" else 4)
    raise SpecError(f"arch must be one of {ARCHITECTURES}, got {arch!r}.")
