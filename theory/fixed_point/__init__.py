"""TODO: conventions of theory.fixed_point."""

from nntheory.theory.fixed_point._quantized import overflow_probability as overflow_probability
from nntheory.theory.fixed_point._quantized import overflow_rate as overflow_rate
from nntheory.theory.fixed_point._quantized import rounding_noise as rounding_noise
from nntheory.theory.fixed_point._quantized import smallest_safe_integer_bits as smallest_safe_integer_bits

__all__ = [
    "overflow_probability",
    "overflow_rate",
    "rounding_noise",
    "smallest_safe_integer_bits",
]
