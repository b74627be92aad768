r"""Fixed-point arithmetic for FPGAs, emulated bit for bit: ``ap_fixed`` types, activation tables, quantized MLPs.

Conventions.

* Types are Xilinx/hls4ml ``ap_fixed<W,I,Q,O>`` (signed) and ``ap_ufixed<W,I,Q,O>``: ``W`` bits in all, ``I``
  integer bits (sign included; ``I`` may be negative or exceed ``W``), ``F = W - I`` fractional bits. A value
  is held as its integer *code* ``c``: ``value = c * 2^-(W-I)``; signed codes lie in ``[-2^(W-1), 2^(W-1)-1]``,
  unsigned ones in ``[0, 2^W-1]``. ``W <= 53`` so every code and value is exact in float64.
* Rounding ``Q``: ``AP_TRN`` (floor, the default), ``AP_TRN_ZERO``, ``AP_RND`` (ties up), ``AP_RND_ZERO``,
  ``AP_RND_MIN_INF``, ``AP_RND_INF``, ``AP_RND_CONV`` (ties to even). Overflow ``O``: ``AP_WRAP`` (modulo
  ``2^W``, the default), ``AP_SAT``, ``AP_SAT_ZERO``, ``AP_SAT_SYM``. ``AP_WRAP_SM`` and saturation bits are
  refused. Conversions follow ``ap_fixed_base::operator=`` of the ``ap_types`` headers (:class:`FixedType`).
* Activation tables (:func:`activation_table`): ``N`` entries over ``[-R, R)``, entry ``i`` at
  ``x_i = -R + 2R i / N``, index ``clip(trunc(x N / 2R) + N/2, 0, N-1)``; ``mode="exact"`` rounds correctly,
  ``mode="hls4ml"`` reproduces hls4ml's single-precision numbers. Tables are written by the one table writer,
  :func:`nntheory.numerics.write_table` (format version and provenance shared with the SO(3) tables).
* Quantized MLPs (:class:`QuantizedMLP`) behave as hls4ml 1.3.0 builds them (Vivado backend,
  ``io_parallel``, ``Latency`` strategy): each dense product cast to ``accum_t``, the sum in input order,
  the result cast to ``result_t``; tanh/sigmoid tables with ``R = 4`` / ``R = 8``; softmax ``stable`` and
  ``latency`` with exp and inverse tables filled by glibc's ``expf`` in single precision, and a default
  ``inp_norm_t = ap_ufixed<W-s, I-s>`` of the input type. Weights are stored ``[n_in, n_out]``.
* The float twin's activations (:func:`float_activation`) come from one table, in a JAX and a NumPy form.
"""

from nntheory.numerics.fixed_point._fixed import FixedType as FixedType
from nntheory.numerics.fixed_point._float_activations import float_activation as float_activation
from nntheory.numerics.fixed_point._lut import ActivationTable as ActivationTable
from nntheory.numerics.fixed_point._lut import activation_table as activation_table
from nntheory.numerics.fixed_point._qlayers import QActivation as QActivation
from nntheory.numerics.fixed_point._qlayers import QDense as QDense
from nntheory.numerics.fixed_point._qnet import QuantizedMLP as QuantizedMLP
from nntheory.numerics.fixed_point._qnet import quantized_mlp as quantized_mlp
from nntheory.numerics.fixed_point._qtheory import QuantizedTheory as QuantizedTheory
from nntheory.numerics.fixed_point._qtheory import quantized_theory as quantized_theory
from nntheory.numerics.fixed_point._qtheory import weight_error_moments as weight_error_moments

__all__ = [
    "ActivationTable",
    "FixedType",
    "QActivation",
    "QDense",
    "QuantizedMLP",
    "QuantizedTheory",
    "activation_table",
    "float_activation",
    "quantized_mlp",
    "quantized_theory",
    "weight_error_moments",
]
