"""Network specification: a frozen, validated descriptor of a fully connected network at initialization.

Conventions (PDLT): layers ``l = 1..depth``; ``widths[l-1] = n_l`` for ``l = 1..depth-1`` are the
hidden widths (the output width does not enter per-neuron statistics); ``n_inputs`` is the number of
network inputs ``x_alpha`` (the size of the Gram matrix), not the input dimension ``n_0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import sympy

from nntheory.errors import SpecError
from nntheory.theory._activations import Activation, activation

__all__ = ["NetworkSpec", "hyperparameter"]


def hyperparameter(value: object, name: str, *, positive: bool) -> sympy.Expr:
    """Exact sympy value of a hyperparameter; symbols pass through. Floats become exact rationals."""
    if isinstance(value, bool):
        raise SpecError(f"{name} must be a number or a sympy symbol, got {value!r}.")
    if isinstance(value, float):
        value = sympy.Rational(repr(value))
    try:
        v = sympy.sympify(value, strict=True) if not isinstance(value, sympy.Basic) else value
    except (sympy.SympifyError, TypeError):
        raise SpecError(f"{name} must be a number or a sympy symbol, got {value!r}.") from None
    if v.is_number:
        if not v.is_real or not v.is_finite:
            raise SpecError(f"{name} must be a finite real number, got {v}.")
        if positive and not v.is_positive:
            raise SpecError(f"{name} must be > 0, got {v}.")
        if not positive and v.is_negative:
            raise SpecError(f"{name} must be >= 0, got {v}.")
    return v


@dataclass(frozen=True)
class NetworkSpec:
    """A fully connected network at initialization.

    Args:
        depth: number of layers ``L >= 1``.
        widths: hidden widths ``(n_1, ..., n_{L-1})``, or one int for all.
        activation: an :class:`Activation`, a built-in name or an expression in ``z``.
        C_W: weight variance (> 0); C_b: bias variance (>= 0).
        lambda_W, lambda_b: NTK learning-rate factors (>= 0).
        n_inputs: number of inputs (>= 1).
    """

    depth: int
    widths: tuple[int, ...]
    activation: Activation
    C_W: sympy.Expr = sympy.Integer(1)
    C_b: sympy.Expr = sympy.Integer(0)
    lambda_W: sympy.Expr = sympy.Integer(1)
    lambda_b: sympy.Expr = sympy.Integer(1)
    n_inputs: int = 1

    def __init__(
        self,
        depth: int,
        widths: int | Sequence[int],
        activation: Activation | str,
        C_W: object = 1,
        C_b: object = 0,
        lambda_W: object = 1,
        lambda_b: object = 1,
        n_inputs: int = 1,
    ) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise SpecError(f"depth must be an int >= 1, got {depth!r}.")
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
            raise SpecError(f"n_inputs must be an int >= 1, got {n_inputs!r}.")
        ws = (widths,) * (depth - 1) if isinstance(widths, int) else tuple(widths)
        if len(ws) != depth - 1:
            raise SpecError(f"widths: expected {depth - 1} hidden widths for depth={depth}, got {len(ws)}.")
        for w in ws:
            if isinstance(w, bool) or not isinstance(w, int) or w < 1:
                raise SpecError(f"widths must be positive ints, got {w!r}.")
        set_ = object.__setattr__
        set_(self, "depth", depth)
        set_(self, "widths", ws)
        set_(self, "activation", _as_activation(activation))
        set_(self, "C_W", hyperparameter(C_W, "C_W", positive=True))
        set_(self, "C_b", hyperparameter(C_b, "C_b", positive=False))
        set_(self, "lambda_W", hyperparameter(lambda_W, "lambda_W", positive=False))
        set_(self, "lambda_b", hyperparameter(lambda_b, "lambda_b", positive=False))
        set_(self, "n_inputs", n_inputs)

    def width_ratios(self) -> tuple[sympy.Rational, ...]:
        """``r_l = n_l / n_{l-1}`` for the step ``l -> l+1``, ``l = 1..L-1`` (``r_1 = 1``: ``V^(1) = 0``)."""
        return tuple(
            sympy.Integer(1) if l == 0 else sympy.Rational(self.widths[l], self.widths[l - 1])
            for l in range(self.depth - 1)
        )


def _as_activation(act: Activation | str) -> Activation:
    return act if isinstance(act, Activation) else activation(act)
