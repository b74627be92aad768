"""The float twin's activations, by name: the one map from an activation name to its float function.

One table serves the JAX code (the emulator's float twin, quantization-aware training, Monte Carlo
ensembles) and the NumPy code (the quantized theory's quadratures). Each entry builds the function from an
array namespace (``jax.numpy`` or ``numpy``), so both forms come from the same line. The one exception is
the sigmoid under JAX, which is ``jax.nn.sigmoid`` (``lax.logistic``) rather than the textbook
``1 / (1 + exp(-z))`` that NumPy uses: the two differ by an ulp now and then, and each stage keeps the form
its results were produced with. ``None`` and ``"linear"`` are the identity.
"""

from __future__ import annotations

from typing import Callable

from nntheory.errors import SpecError

__all__ = ["FLOAT_ACTIVATIONS", "float_activation"]


def _relu(xp):
    return lambda v: xp.maximum(v, 0.0)


def _identity(xp):
    return lambda v: v


def _tanh(xp):
    return xp.tanh


def _sigmoid(xp):
    if xp.__name__.startswith("jax"):
        import jax

        return jax.nn.sigmoid
    return lambda v: 1.0 / (1.0 + xp.exp(-v))


_FORMS: dict[str | None, Callable] = {"relu": _relu, "linear": _identity, None: _identity, "tanh": _tanh, "sigmoid": _sigmoid}
FLOAT_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")


def float_activation(kind: str | None, *, backend: str = "jax") -> Callable:
    """The float twin's activation ``kind`` as an elementwise function.

    Args:
        kind: ``"relu"``, ``"linear"``, ``"tanh"``, ``"sigmoid"`` or ``None`` (the identity).
        backend: ``"jax"`` (a function of JAX arrays, jit-able) or ``"numpy"``.
    Returns:
        The function ``v -> sigma(v)``.
    Raises:
        SpecError: for an unknown ``kind`` or ``backend``.
    """
    if kind not in _FORMS:
        raise SpecError(f"float activation: expected one of relu, linear, tanh, sigmoid or None, got {kind!r}.")
    if backend == "jax":
        import jax.numpy as xp
    elif backend == "numpy":
        import numpy as xp
    else:
        raise SpecError(f"float activation: backend must be 'jax' or 'numpy', got {backend!r}.")
    return _FORMS[kind](xp)
