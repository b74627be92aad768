"""TODO: conventions of numerics.kernels."""

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
