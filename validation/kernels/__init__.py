"""Trained ensembles of real networks against infinite-width kernel theory (NTK training dynamics, emergent equivariance).

Conventions:

* Parameterisation: neural-tangents' NTK parameterisation, ``z = W_std / sqrt(fan_in) * W h + b_std * b`` with
  ``W, b ~ N(0, 1)`` and one learning rate; in PDLT terms ``C_W = lambda_W = W_std**2`` and
  ``C_b = lambda_b = b_std**2`` (:meth:`nntheory.numerics.MLPKernel.neural_tangents`). The MLP is the one of
  :mod:`nntheory.validation._networks`, shared with the finite-width Monte Carlo.
* ``depth`` of :class:`TrainedMLPSpec` and :class:`TrainedConvSpec` counts hidden (nonlinear) layers, i.e.
  neural-tangents' count; the PDLT number of layers of the MLP's kernel is ``depth + 1``
  (``spec.kernel().depth``). ``depth`` of :class:`~nntheory.numerics.ConvKernel` counts convolutional layers too.
* Training: full-batch gradient descent on ``1/(2 size(Y)) sum (f - y)^2``, so the theory is
  :func:`~nntheory.numerics.ntk_predict` with ``method="gd"`` and ``normalization="mean"`` at the same rate.
* ``n_nets`` counts networks (``n_members``, its former name, is still accepted); ``key`` is a JAX key.
"""

from nntheory.validation.kernels._architectures import TrainedConvSpec as TrainedConvSpec
from nntheory.validation.kernels._architectures import TrainedMLPSpec as TrainedMLPSpec
from nntheory.validation.kernels._architectures import trained_spec as trained_spec
from nntheory.validation.kernels._digits import digits_data as digits_data
from nntheory.validation.kernels._experiments import EquivarianceResult as EquivarianceResult
from nntheory.validation.kernels._experiments import TrainingResult as TrainingResult
from nntheory.validation.kernels._experiments import validate_equivariance as validate_equivariance
from nntheory.validation.kernels._experiments import validate_training as validate_training
from nntheory.validation.kernels._training import TrainedEnsemble as TrainedEnsemble
from nntheory.validation.kernels._training import invariance_errors as invariance_errors
from nntheory.validation.kernels._training import ntk_distance as ntk_distance
from nntheory.validation.kernels._training import train_ensemble as train_ensemble

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
    "trained_spec",
    "validate_equivariance",
    "validate_training",
]
