"""Monte Carlo ensembles of real networks compared with the compiled theory, with error bars."""

from nntheory.validation.finite_width import Comparison as Comparison
from nntheory.validation.finite_width import compare_width_sweep as compare_width_sweep
from nntheory.validation.finite_width import theory_statistics as theory_statistics
from nntheory.validation.finite_width import EnsembleSpec as EnsembleSpec
from nntheory.validation.finite_width import EnsembleSummaries as EnsembleSummaries
from nntheory.validation.finite_width import sample_ensemble as sample_ensemble
from nntheory.validation._estimators import Estimate as Estimate
from nntheory.validation._estimators import estimate_statistics as estimate_statistics
from nntheory.validation._estimators import fit_intercept as fit_intercept
from nntheory.validation.finite_width import NNLOCheck as NNLOCheck
from nntheory.validation.finite_width import validate_nnlo as validate_nnlo
from nntheory.validation.kernels import EquivarianceResult as EquivarianceResult
from nntheory.validation.kernels import TrainedEnsemble as TrainedEnsemble
from nntheory.validation.kernels import TrainedConvSpec as TrainedConvSpec
from nntheory.validation.kernels import TrainedMLPSpec as TrainedMLPSpec
from nntheory.validation.fixed_point import QATResult as QATResult
from nntheory.validation.fixed_point import digits_net as digits_net
from nntheory.validation.fixed_point import digits_pixels as digits_pixels
from nntheory.validation.fixed_point import fake_quant as fake_quant
from nntheory.validation.fixed_point import qat_forward as qat_forward
from nntheory.validation.fixed_point import train_qat as train_qat
from nntheory.validation.fixed_point import QuantizedEnsemble as QuantizedEnsemble
from nntheory.validation.fixed_point import compare_quantized as compare_quantized
from nntheory.validation.fixed_point import quantized_ensemble as quantized_ensemble
from nntheory.validation.kernels import TrainingResult as TrainingResult
from nntheory.validation.kernels import digits_data as digits_data
from nntheory.validation.kernels import invariance_errors as invariance_errors
from nntheory.validation.kernels import ntk_distance as ntk_distance
from nntheory.validation.kernels import train_ensemble as train_ensemble
from nntheory.validation.kernels import validate_equivariance as validate_equivariance
from nntheory.validation.kernels import validate_training as validate_training

__all__ = [
    "Comparison",
    "EnsembleSpec",
    "EnsembleSummaries",
    "Estimate",
    "NNLOCheck",
    "compare_width_sweep",
    "estimate_statistics",
    "fit_intercept",
    "sample_ensemble",
    "theory_statistics",
    "validate_nnlo",
    "EquivarianceResult",
    "TrainedEnsemble",
    "TrainedConvSpec",
    "TrainedMLPSpec",
    "TrainingResult",
    "QATResult",
    "QuantizedEnsemble",
    "compare_quantized",
    "digits_net",
    "digits_pixels",
    "fake_quant",
    "qat_forward",
    "quantized_ensemble",
    "train_qat",
    "digits_data",
    "invariance_errors",
    "ntk_distance",
    "train_ensemble",
    "validate_equivariance",
    "validate_training",
]
