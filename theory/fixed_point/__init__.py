r"""Symbolic theory of quantized networks: rounding noise per rounding mode and accumulator overflow at finite width.

Conventions. A fixed-point type is ``ap_fixed<W,I,Q,O>`` as in the Xilinx/hls4ml headers: a code ``c`` has
value ``c * 2^-(W-I)``, ``F = W - I`` fractional bits, step ``Delta = 2^-F``. Rounding modes are named as
there without the ``AP_`` prefix (``TRN``, ``RND``, ``RND_ZERO``, ``RND_MIN_INF``, ``RND_INF``, ``RND_CONV``;
``TRN_ZERO`` is refused by :func:`rounding_noise`, its error follows the sign). An ``ap_fixed<W,I>``
accumulator overflows when its value leaves ``[-2^(I-1), 2^(I-1))`` (``I`` counts the sign bit).
Preactivations follow the PDLT finite-width conventions of :func:`nntheory.theory.finite_width_recursion`:
kernel ``K``, four-point vertex ``V``, previous width ``n`` (the variance of the random variance is ``V/n``),
mean ``m``. Results are exact sympy expressions; :func:`overflow_rate` evaluates them with mpmath.
"""

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
