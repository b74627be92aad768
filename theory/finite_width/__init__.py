r"""Finite-width statistics of deep networks at initialization, symbolically (PDLT conventions).

Network ``z^(1) = b + W x``, ``z^(l+1) = b + W sigma(z^(l))`` with ``b ~ N(0, C_b)`` and
``W_ij ~ N(0, C_W/n_{l-1})`` (fan-in of that layer). Inputs enter through the Gram matrix
``X_ab = x_a.x_b/n_0``. Statistics of layer ``l`` carry ``1/n_{l-1}``; the width ratio
``r = n_l/n_{l-1}`` multiplies only the term carried over from the previous layer.

* ``K``: the leading-order kernel, ``K^(1) = C_b + C_W X``.
* ``V``: the four-point vertex, ``E[z_ia z_ib z_jc z_jd]_conn = V_(ab)(cd)/n_{l-1}`` for ``i != j``
  (``Cov(z_i^2, z_j^2) = V/n_{l-1}``; the single-neuron excess kurtosis is ``3V/(n K^2)``).
* ``K1``: the NLO kernel correction, ``E[z_a z_b] = K + K1/n_{l-1} + O(1/n^2)``.
* ``Theta``: the NTK mean with learning-rate factors ``lambda_b`` (biases) and ``lambda_W/n_{l-1}``
  (weights), ``Theta^(1) = lambda_b + lambda_W X``.
* NTK sector at ``1/n`` (:func:`ntk_recursion`): ``Theta1`` (NLO NTK mean), ``D``, ``F`` (NTK-preactivation
  cross-correlations), ``A``, ``B`` (NTK variance); with ``dntk=True`` the dNTK ``P``, ``Q``, with ``ddntk=True``
  the ddNTK ``R``, ``S``, ``T``, ``U`` (:data:`DDNTK_STATISTICS`; plain moments from
  :func:`ddntk_moments`); definitions in :mod:`nntheory.theory.finite_width._ntk`.
* Orthogonal weights (``init="orthogonal"`` in :func:`finite_width_recursion` and :func:`ntk_recursion`): Gaussian
  first layer, then square layers ``sqrt(C_W) O`` with ``O`` Haar-orthogonal (``r = 1``); the ``1/n`` Weingarten terms
  of ``V``, ``F``, ``B`` in :mod:`nntheory.theory.finite_width._ntk`; the ddNTK is not derived for them.

Kernel derivatives are taken with respect to symmetric variables ``K_p``, ``p = (a <= b)``.
Criticality: ``chi_par = C_W d<sigma^2>/dK = 1`` and ``chi_perp = C_W <sigma'^2> = 1`` at the fixed
point. Higher orders in ``1/n`` come from :mod:`nntheory.diagrams`.
"""

from nntheory.theory.finite_width._network import NetworkSpec as NetworkSpec
from nntheory.theory.finite_width._recursions import Recursion as Recursion
from nntheory.theory.finite_width._recursions import Statistic as Statistic
from nntheory.theory.finite_width._recursions import finite_width_recursion as finite_width_recursion
from nntheory.theory.finite_width._criticality import Criticality as Criticality
from nntheory.theory.finite_width._criticality import criticality as criticality
from nntheory.theory.finite_width._ntk import DDNTK_STATISTICS as DDNTK_STATISTICS
from nntheory.theory.finite_width._ntk import NTK_STATISTICS as NTK_STATISTICS
from nntheory.theory.finite_width._ntk import ddntk_moments as ddntk_moments
from nntheory.theory.finite_width._ntk import ntk_recursion as ntk_recursion

__all__ = [
    "Criticality",
    "DDNTK_STATISTICS",
    "NTK_STATISTICS",
    "NetworkSpec",
    "Recursion",
    "Statistic",
    "criticality",
    "ddntk_moments",
    "finite_width_recursion",
    "ntk_recursion",
]
