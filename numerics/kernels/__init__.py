"""Infinite-width kernels (NNGP and NTK) of MLPs, CNNs and C4 GCNNs, the NTK predictions of training, finite groups.

Conventions:

* :class:`MLPKernel` is in PDLT parameterisation: ``depth`` is the number of layers ``L`` (``depth = 1`` is
  the linear model), ``W ~ N(0, C_W / n_{l-1})``, ``b ~ N(0, C_b)``, and the NTK is that of per-layer
  learning rates ``lambda_W / n_{l-1}`` (weights) and ``lambda_b`` (biases), PDLT eq. (8.12).
  :meth:`MLPKernel.neural_tangents` maps neural-tangents' NTK parameterisation (``W_std``, ``b_std``,
  ``depth`` nonlinearities, one learning rate) to PDLT with ``depth + 1`` layers,
  ``C_W = lambda_W = W_std**2`` and ``C_b = lambda_b = b_std**2``.
* :class:`ConvKernel` is in the NTK parameterisation (parameters ``N(0, 1)``, weights scaled by
  ``sqrt(C_W / fan_in)``, biases by ``sqrt(C_b)``, one learning rate: ``lambda_W = C_W``, ``lambda_b = C_b``);
  its ``depth`` is the number of layers with weights, the dense read-out included, as in :class:`MLPKernel`
  (``depth - 1`` convolutional layers). :meth:`ConvKernel.neural_tangents` maps neural-tangents' ``W_std``,
  ``b_std`` and ``depth`` nonlinearities to ``depth + 1`` layers, ``C_W = W_std**2``, ``C_b = b_std**2``.
* :func:`ntk_predict` takes the loss ``1/(2 size(Y)) sum (f - y)^2`` by default (``normalization="mean"``,
  neural-tangents' ``gradient_descent_mse``; per-sample rate ``learning_rate / size(Y)``) or
  ``1/2 sum (f - y)^2`` (``"sum"``); ``method="flow"`` (gradient flow, times) or ``"gd"`` (steps).
"""

from nntheory.numerics.kernels._conv_kernels import ConvKernel as ConvKernel
from nntheory.numerics.kernels._groups import FiniteGroup as FiniteGroup
from nntheory.numerics.kernels._groups import GroupError as GroupError
from nntheory.numerics.kernels._groups import from_matrices as group_from_matrices
from nntheory.numerics.kernels._groups import image_dihedral as image_dihedral
from nntheory.numerics.kernels._groups import image_reflections as image_reflections
from nntheory.numerics.kernels._groups import image_rotations as image_rotations
from nntheory.numerics.kernels._groups import item_permutations as item_permutations
from nntheory.numerics.kernels._groups import point_rotations as point_rotations
from nntheory.numerics.kernels._kernels import Kernels as Kernels
from nntheory.numerics.kernels._kernels import MLPKernel as MLPKernel
from nntheory.numerics.kernels._kernels import dual_functions as dual_functions
from nntheory.numerics.kernels._predict import NTKPrediction as NTKPrediction
from nntheory.numerics.kernels._predict import kernel_regression as kernel_regression
from nntheory.numerics.kernels._predict import ntk_predict as ntk_predict

__all__ = [
    "ConvKernel",
    "FiniteGroup",
    "GroupError",
    "Kernels",
    "MLPKernel",
    "NTKPrediction",
    "dual_functions",
    "group_from_matrices",
    "image_dihedral",
    "image_reflections",
    "image_rotations",
    "item_permutations",
    "kernel_regression",
    "ntk_predict",
    "point_rotations",
]
