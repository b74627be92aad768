"""TODO: conventions of validation.fixed_point."""

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
