r"""Checks of the fixed-point numerics: Monte Carlo ensembles of quantized MLPs, quantization-aware training, and
C++ reference harnesses over the ``ap_types`` / ``nnet_utils`` headers hls4ml 1.3.0 ships.

Conventions. Networks are :class:`nntheory.numerics.QuantizedMLP` (``ap_fixed<W,I,Q,O>`` types, a value is
``code * 2^-(W-I)``); the float twin draws ``W ~ N(0, C_W / n_prev)`` and ``b ~ N(0, C_b)`` with an explicit
JAX ``seed`` (``n_nets`` networks), and every standard error is taken over networks. QAT fakes the casts of
the deployed net (straight-through gradient clipped to the type's range) and ends with the parameters on
their grids. The harnesses compile with g++ only (no vendor tool) and raise
:class:`~nntheory.errors.HarnessError` when hls4ml or the compiler is missing or fails.
"""

from nntheory.validation.fixed_point._qat import QATResult as QATResult
from nntheory.validation.fixed_point._qat import digits_net as digits_net
from nntheory.validation.fixed_point._qat import digits_pixels as digits_pixels
from nntheory.validation.fixed_point._qat import fake_quant as fake_quant
from nntheory.validation.fixed_point._qat import qat_forward as qat_forward
from nntheory.validation.fixed_point._qat import train_qat as train_qat
from nntheory.validation.fixed_point._qmc import QuantizedEnsemble as QuantizedEnsemble
from nntheory.validation.fixed_point._qmc import compare_quantized as compare_quantized
from nntheory.validation.fixed_point._qmc import quantized_ensemble as quantized_ensemble

__all__ = [
    "QATResult",
    "QuantizedEnsemble",
    "compare_quantized",
    "digits_net",
    "digits_pixels",
    "fake_quant",
    "qat_forward",
    "quantized_ensemble",
    "train_qat",
]
