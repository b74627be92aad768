"""Trained ensembles of real networks against infinite-width kernel theory (NTK training dynamics, emergent equivariance).

Conventions:

* Parameterisation: the NTK parameterisation, ``z = sqrt(C_W / fan_in) * W h + sqrt(C_b) * b`` with
  ``W, b ~ N(0, 1)`` and one learning rate, so ``lambda_W = C_W`` and ``lambda_b = C_b``. The named constructors
  ``TrainedMLPSpec.neural_tangents`` and ``TrainedConvSpec.neural_tangents`` take neural-tangents' ``W_std``,
  ``b_std`` (``C_W = W_std**2``, ``C_b = b_std**2``), as :meth:`nntheory.numerics.MLPKernel.neural_tangents`.
  The MLP is the one of :mod:`nntheory.validation._networks`, shared with the finite-width Monte Carlo.
* ``depth`` of :class:`TrainedMLPSpec`, :class:`TrainedConvSpec` (and of :func:`validate_training`,
  :func:`validate_equivariance`) is the number of layers ``L`` with weights, the read-out included, as in
  :class:`~nntheory.numerics.MLPKernel` and :class:`~nntheory.numerics.ConvKernel`: ``depth - 1`` hidden
  (nonlinear) layers, and ``spec.kernel().depth == spec.depth`` for the MLP. The named constructors take
  neural-tangents' count of nonlinearities (``depth`` of them give ``depth + 1`` layers).
* Training: full-batch gradient descent on ``1/(2 size(Y)) sum (f - y)^2``, so the theory is
  :func:`~nntheory.numerics.ntk_predict` with ``method="gd"`` and ``normalization="mean"`` at the same rate.
* :func:`monte_carlo_kernels` estimates the NNGP and NTK of untrained finite-width MLPs (PDLT parameterisation, as
  the finite-width Monte Carlo) with standard errors over networks.
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
from nntheory.validation.kernels._monte_carlo import MonteCarloKernels as MonteCarloKernels
from nntheory.validation.kernels._monte_carlo import monte_carlo_kernels as monte_carlo_kernels
from nntheory.validation.kernels._training import TrainedEnsemble as TrainedEnsemble
from nntheory.validation.kernels._training import invariance_errors as invariance_errors
from nntheory.validation.kernels._training import ntk_distance as ntk_distance
from nntheory.validation.kernels._training import train_ensemble as train_ensemble

__all__ = [
    "EquivarianceResult",
    "MonteCarloKernels",
    "TrainedConvSpec",
    "TrainedEnsemble",
    "TrainedMLPSpec",
    "TrainingResult",
    "digits_data",
    "invariance_errors",
    "monte_carlo_kernels",
    "ntk_distance",
    "train_ensemble",
    "trained_spec",
    "validate_equivariance",
    "validate_training",
]
