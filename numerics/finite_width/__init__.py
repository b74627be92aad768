r"""Compiled finite-width recursions (PDLT conventions).

``compile_recursion(rec)`` turns a symbolic :class:`~nntheory.theory.Recursion` into a jit-compiled
``lax.scan`` over layers: ``run(gram, depth=L, C_W=..., C_b=..., lambda_W=1, lambda_b=1, ratios=None)``
returns a dict of ``(L, ...)`` arrays, one per statistic (``K``, ``K1``, ``V``, ``Theta`` ...), indexed
by inputs. ``gram`` is ``X_ab = x_a.x_b/n_0``; ``ratios[l] = n_l/n_{l-1}`` multiplies only the term
carried over from the previous layer. :func:`finite_width_predictions` sums the diagram recursions of
the kernel cumulants to a given order in ``1/n`` at a given width; :func:`trained_mean_prediction` the ensemble
mean of networks trained by gradient descent, with its ``1/n`` correction from the NTK-sector tensors.
"""

from nntheory.numerics.finite_width._predictions import FiniteWidthPredictions as FiniteWidthPredictions
from nntheory.numerics.finite_width._predictions import finite_width_predictions as finite_width_predictions
from nntheory.numerics.finite_width._recursions import CompiledRecursion as CompiledRecursion
from nntheory.numerics.finite_width._recursions import compile_recursion as compile_recursion
from nntheory.numerics.finite_width._recursions import pairwise_statistics as pairwise_statistics
from nntheory.numerics.finite_width._training import TrainedMeanPrediction as TrainedMeanPrediction
from nntheory.numerics.finite_width._training import trained_mean_prediction as trained_mean_prediction

__all__ = [
    "CompiledRecursion",
    "FiniteWidthPredictions",
    "TrainedMeanPrediction",
    "compile_recursion",
    "finite_width_predictions",
    "pairwise_statistics",
    "trained_mean_prediction",
]
