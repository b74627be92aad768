"""TODO: conventions of validation.kernels."""

from nntheory.validation.kernels._training import EquivarianceResult as EquivarianceResult
from nntheory.validation.kernels._training import TrainedEnsemble as TrainedEnsemble
from nntheory.validation.kernels._training import TrainedConvSpec as TrainedConvSpec
from nntheory.validation.kernels._training import TrainedMLPSpec as TrainedMLPSpec
from nntheory.validation.kernels._training import TrainingResult as TrainingResult
from nntheory.validation.kernels._training import digits_data as digits_data
from nntheory.validation.kernels._training import invariance_errors as invariance_errors
from nntheory.validation.kernels._training import ntk_distance as ntk_distance
from nntheory.validation.kernels._training import train_ensemble as train_ensemble
from nntheory.validation.kernels._training import validate_equivariance as validate_equivariance
from nntheory.validation.kernels._training import validate_training as validate_training

__all__ = [
    "EquivarianceResult",
    "TrainedConvSpec",
    "TrainedEnsemble",
    "TrainedMLPSpec",
    "TrainingResult",
    "digits_data",
    "invariance_errors",
    "ntk_distance",
    "train_ensemble",
    "validate_equivariance",
    "validate_training",
]
