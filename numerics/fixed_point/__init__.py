"""TODO: conventions of numerics.fixed_point."""

from nntheory.numerics.fixed_point._fixed import FixedType as FixedType
from nntheory.numerics.fixed_point._qnet import QActivation as QActivation
from nntheory.numerics.fixed_point._qnet import QDense as QDense
from nntheory.numerics.fixed_point._qnet import QuantizedMLP as QuantizedMLP
from nntheory.numerics.fixed_point._qnet import quantized_mlp as quantized_mlp
from nntheory.numerics.fixed_point._qtheory import QuantizedTheory as QuantizedTheory
from nntheory.numerics.fixed_point._qtheory import quantized_theory as quantized_theory
from nntheory.numerics.fixed_point._qtheory import weight_error_moments as weight_error_moments

__all__ = [
    "FixedType",
    "QActivation",
    "QDense",
    "QuantizedMLP",
    "QuantizedTheory",
    "quantized_mlp",
    "quantized_theory",
    "weight_error_moments",
]
