"""Monte Carlo ensembles of finite-width MLPs at initialisation against the 1/width expansion.

Conventions (PDLT):

* Networks: the one MLP of :mod:`nntheory.validation._networks`, ``z^(1) = b + W x`` with
  ``W ~ N(0, C_W / n_{l-1})`` and ``b ~ N(0, C_b)``; ``depth`` is the number of layers ``L``
  (preactivations ``z^(1)..z^(L)``, all of width ``width``), as in :class:`~nntheory.numerics.MLPKernel`.
* NTK: gradient descent with per-layer learning rates ``lambda_W / n_{l-1}`` (weights) and ``lambda_b``
  (biases), PDLT eq. (8.12).
* ``n_nets`` is the number of networks and ``key`` a JAX random key; standard errors are over networks
  (the jackknife of :mod:`nntheory.validation._estimators`).
* The main job of ``nntheory validate`` (:func:`main_job_configurations`) runs each activation at
  criticality and off it.
"""

from nntheory.validation.finite_width._compare import Comparison as Comparison
from nntheory.validation.finite_width._compare import compare_width_sweep as compare_width_sweep
from nntheory.validation.finite_width._compare import theory_statistics as theory_statistics
from nntheory.validation.finite_width._ensembles import EnsembleSpec as EnsembleSpec
from nntheory.validation.finite_width._ensembles import EnsembleSummaries as EnsembleSummaries
from nntheory.validation.finite_width._ensembles import sample_ensemble as sample_ensemble
from nntheory.validation.finite_width._main_job import MAIN_JOB_ACTIVATIONS as MAIN_JOB_ACTIVATIONS
from nntheory.validation.finite_width._main_job import MAIN_JOB_DEFAULTS as MAIN_JOB_DEFAULTS
from nntheory.validation.finite_width._main_job import MAIN_JOB_FULL as MAIN_JOB_FULL
from nntheory.validation.finite_width._main_job import MainJobConfig as MainJobConfig
from nntheory.validation.finite_width._main_job import check_main_job as check_main_job
from nntheory.validation.finite_width._main_job import main_job_configurations as main_job_configurations
from nntheory.validation.finite_width._main_job import main_job_inputs as main_job_inputs
from nntheory.validation.finite_width._ntk_monte_carlo import NTKEnsemble as NTKEnsemble
from nntheory.validation.finite_width._ntk_monte_carlo import NTKEnsembleSpec as NTKEnsembleSpec
from nntheory.validation.finite_width._ntk_monte_carlo import NTKSweep as NTKSweep
from nntheory.validation.finite_width._ddntk_monte_carlo import DDNTKEnsemble as DDNTKEnsemble
from nntheory.validation.finite_width._ddntk_monte_carlo import DDNTKSweep as DDNTKSweep
from nntheory.validation.finite_width._ddntk_monte_carlo import DDNTK_MOMENTS as DDNTK_MOMENTS
from nntheory.validation.finite_width._ddntk_monte_carlo import ddntk_blocks as ddntk_blocks
from nntheory.validation.finite_width._ddntk_monte_carlo import ddntk_statistics as ddntk_statistics
from nntheory.validation.finite_width._ddntk_monte_carlo import ddntk_width_sweep as ddntk_width_sweep
from nntheory.validation.finite_width._ddntk_monte_carlo import sample_ddntk_ensemble as sample_ddntk_ensemble
from nntheory.validation.finite_width._ntk_monte_carlo import dntk_moments_from_pq as dntk_moments_from_pq
from nntheory.validation.finite_width._ntk_monte_carlo import haar_orthogonal as haar_orthogonal
from nntheory.validation.finite_width._ntk_monte_carlo import ntk_statistics as ntk_statistics
from nntheory.validation.finite_width._ntk_monte_carlo import ntk_width_sweep as ntk_width_sweep
from nntheory.validation.finite_width._ntk_monte_carlo import orthogonal_mlp_params as orthogonal_mlp_params
from nntheory.validation.finite_width._ntk_monte_carlo import sample_ntk_ensemble as sample_ntk_ensemble
from nntheory.validation.finite_width._ntk_validate import NTK_VALIDATE_STATISTICS as NTK_VALIDATE_STATISTICS
from nntheory.validation.finite_width._ntk_validate import NTKComparison as NTKComparison
from nntheory.validation.finite_width._ntk_validate import validate_ntk as validate_ntk
from nntheory.validation.finite_width._ntk_saturation import NTKSaturation as NTKSaturation
from nntheory.validation.finite_width._ntk_saturation import ntk_saturation as ntk_saturation
from nntheory.validation.finite_width._ntk_saturation import write_ntk_saturation as write_ntk_saturation
from nntheory.validation.finite_width._nnlo import NNLOCheck as NNLOCheck
from nntheory.validation.finite_width._nnlo import validate_nnlo as validate_nnlo
from nntheory.validation.finite_width._ntk_training import NTKStepChange as NTKStepChange
from nntheory.validation.finite_width._ntk_training import ntk_step_change as ntk_step_change
from nntheory.validation.finite_width._ntk_training import ntk_step_prediction as ntk_step_prediction
from nntheory.validation.finite_width._ntk_training import TRAINED_PARTS as TRAINED_PARTS
from nntheory.validation.finite_width._ntk_training import TrainedEnsembleMean as TrainedEnsembleMean
from nntheory.validation.finite_width._ntk_training import trained_ensemble_mean as trained_ensemble_mean

__all__ = [
    "Comparison",
    "DDNTKEnsemble",
    "DDNTKSweep",
    "DDNTK_MOMENTS",
    "EnsembleSpec",
    "EnsembleSummaries",
    "MAIN_JOB_ACTIVATIONS",
    "MAIN_JOB_DEFAULTS",
    "MAIN_JOB_FULL",
    "MainJobConfig",
    "NNLOCheck",
    "NTKComparison",
    "NTKEnsemble",
    "NTKEnsembleSpec",
    "NTKSaturation",
    "NTKStepChange",
    "NTKSweep",
    "NTK_VALIDATE_STATISTICS",
    "TRAINED_PARTS",
    "TrainedEnsembleMean",
    "check_main_job",
    "compare_width_sweep",
    "ddntk_blocks",
    "ddntk_statistics",
    "ddntk_width_sweep",
    "dntk_moments_from_pq",
    "haar_orthogonal",
    "main_job_configurations",
    "main_job_inputs",
    "ntk_saturation",
    "ntk_statistics",
    "ntk_step_change",
    "ntk_step_prediction",
    "ntk_width_sweep",
    "orthogonal_mlp_params",
    "sample_ddntk_ensemble",
    "sample_ensemble",
    "sample_ntk_ensemble",
    "theory_statistics",
    "trained_ensemble_mean",
    "validate_nnlo",
    "validate_ntk",
    "write_ntk_saturation",
]
