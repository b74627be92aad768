r"""Compiled finite-width recursions (PDLT conventions).

``compile_recursion(rec)`` turns a symbolic :class:`~nntheory.theory.Recursion` into a jit-compiled
``lax.scan`` over layers: ``run(gram, depth=L, C_W=..., C_b=..., lambda_W=1, lambda_b=1, ratios=None)``
returns a dict of ``(L, ...)`` arrays, one per statistic (``K``, ``K1``, ``V``, ``Theta`` ...), indexed
by inputs. ``gram`` is ``X_ab = x_a.x_b/n_0``; ``ratios[l] = n_l/n_{l-1}`` multiplies only the term
carried over from the previous layer. :func:`finite_width_predictions` sums the diagram recursions of
the kernel cumulants to a given order in ``1/n`` at a given width.
"""

from nntheory.numerics.finite_width._predictions import FiniteWidthPredictions as FiniteWidthPredictions
from nntheory.numerics.finite_width._predictions import finite_width_predictions as finite_width_predictions
from nntheory.numerics.finite_width._recursions import CompiledRecursion as CompiledRecursion
from nntheory.numerics.finite_width._recursions import compile_recursion as compile_recursion
from nntheory.numerics.finite_width._recursions import pairwise_statistics as pairwise_statistics

__all__ = [
    "CompiledRecursion",
    "FiniteWidthPredictions",
    "compile_recursion",
    "finite_width_predictions",
    "pairwise_statistics",
]
