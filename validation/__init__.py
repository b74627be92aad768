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
from nntheory.validation.finite_width import NTKEnsemble as NTKEnsemble
from nntheory.validation.finite_width import NTKEnsembleSpec as NTKEnsembleSpec
from nntheory.validation.finite_width import NTKSweep as NTKSweep
from nntheory.validation.finite_width import NTKStepChange as NTKStepChange
from nntheory.validation.finite_width import ntk_step_change as ntk_step_change
from nntheory.validation.finite_width import ntk_step_prediction as ntk_step_prediction
from nntheory.validation.finite_width import TRAINED_PARTS as TRAINED_PARTS
from nntheory.validation.finite_width import TrainedEnsembleMean as TrainedEnsembleMean
from nntheory.validation.finite_width import trained_ensemble_mean as trained_ensemble_mean
from nntheory.validation.finite_width import DDNTKEnsemble as DDNTKEnsemble
from nntheory.validation.finite_width import DDNTKSweep as DDNTKSweep
from nntheory.validation.finite_width import DDNTK_MOMENTS as DDNTK_MOMENTS
from nntheory.validation.finite_width import ddntk_blocks as ddntk_blocks
from nntheory.validation.finite_width import ddntk_statistics as ddntk_statistics
from nntheory.validation.finite_width import ddntk_width_sweep as ddntk_width_sweep
from nntheory.validation.finite_width import sample_ddntk_ensemble as sample_ddntk_ensemble
from nntheory.validation.finite_width import dntk_moments_from_pq as dntk_moments_from_pq
from nntheory.validation.finite_width import haar_orthogonal as haar_orthogonal
from nntheory.validation.finite_width import ntk_statistics as ntk_statistics
from nntheory.validation.finite_width import ntk_width_sweep as ntk_width_sweep
from nntheory.validation.finite_width import orthogonal_mlp_params as orthogonal_mlp_params
from nntheory.validation.finite_width import sample_ntk_ensemble as sample_ntk_ensemble
from nntheory.validation.finite_width import NNLOCheck as NNLOCheck
from nntheory.validation.finite_width import validate_nnlo as validate_nnlo
from nntheory.validation.finite_width import NTK_VALIDATE_STATISTICS as NTK_VALIDATE_STATISTICS
from nntheory.validation.finite_width import NTKComparison as NTKComparison
from nntheory.validation.finite_width import validate_ntk as validate_ntk
from nntheory.validation.finite_width import NTKSaturation as NTKSaturation
from nntheory.validation.finite_width import ntk_saturation as ntk_saturation
from nntheory.validation.finite_width import write_ntk_saturation as write_ntk_saturation
from nntheory.validation.finite_width import MAIN_JOB_ACTIVATIONS as MAIN_JOB_ACTIVATIONS
from nntheory.validation.finite_width import MAIN_JOB_DEFAULTS as MAIN_JOB_DEFAULTS
from nntheory.validation.finite_width import MAIN_JOB_FULL as MAIN_JOB_FULL
from nntheory.validation.finite_width import MainJobConfig as MainJobConfig
from nntheory.validation.finite_width import check_main_job as check_main_job
from nntheory.validation.finite_width import main_job_configurations as main_job_configurations
from nntheory.validation.finite_width import main_job_inputs as main_job_inputs
from nntheory.validation.kernels import EquivarianceResult as EquivarianceResult
from nntheory.validation.kernels import MonteCarloKernels as MonteCarloKernels
from nntheory.validation.kernels import monte_carlo_kernels as monte_carlo_kernels
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
from nntheory.validation.kernels import trained_spec as trained_spec
from nntheory.validation.lie import NodeComparison as NodeComparison
from nntheory.validation.lie import compare_nodes as compare_nodes
from nntheory.validation.lie import invariance_residuals as invariance_residuals
from nntheory.validation.lie import node_equivariance as node_equivariance

__all__ = [
    "Comparison",
    "DDNTKEnsemble",
    "DDNTKSweep",
    "DDNTK_MOMENTS",
    "EnsembleSpec",
    "EnsembleSummaries",
    "EquivarianceResult",
    "Estimate",
    "MAIN_JOB_ACTIVATIONS",
    "MAIN_JOB_DEFAULTS",
    "MAIN_JOB_FULL",
    "MainJobConfig",
    "MonteCarloKernels",
    "NNLOCheck",
    "NTKComparison",
    "NTKEnsemble",
    "NTKEnsembleSpec",
    "NTKSaturation",
    "NTKStepChange",
    "NTKSweep",
    "NTK_VALIDATE_STATISTICS",
    "NodeComparison",
    "QATResult",
    "QuantizedEnsemble",
    "TRAINED_PARTS",
    "TrainedConvSpec",
    "TrainedEnsemble",
    "TrainedEnsembleMean",
    "TrainedMLPSpec",
    "TrainingResult",
    "check_main_job",
    "compare_nodes",
    "compare_quantized",
    "compare_width_sweep",
    "ddntk_blocks",
    "ddntk_statistics",
    "ddntk_width_sweep",
    "digits_data",
    "digits_net",
    "digits_pixels",
    "dntk_moments_from_pq",
    "estimate_statistics",
    "fake_quant",
    "fit_intercept",
    "haar_orthogonal",
    "invariance_errors",
    "invariance_residuals",
    "main_job_configurations",
    "main_job_inputs",
    "monte_carlo_kernels",
    "node_equivariance",
    "ntk_distance",
    "ntk_saturation",
    "ntk_statistics",
    "ntk_step_change",
    "ntk_step_prediction",
    "ntk_width_sweep",
    "orthogonal_mlp_params",
    "qat_forward",
    "quantized_ensemble",
    "sample_ddntk_ensemble",
    "sample_ensemble",
    "sample_ntk_ensemble",
    "theory_statistics",
    "train_ensemble",
    "train_qat",
    "trained_ensemble_mean",
    "trained_spec",
    "validate_equivariance",
    "validate_nnlo",
    "validate_ntk",
    "validate_training",
    "write_ntk_saturation",
]
