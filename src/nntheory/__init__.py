"""nntheory: derive finite-width statistics of neural networks symbolically, compile them to JAX,
validate them against real networks.

Subpackages (import them explicitly; importing ``nntheory`` alone loads nothing heavy):

- ``nntheory.theory``: sympy derivations (never imports JAX or numpy).
- ``nntheory.diagrams``: Feynman diagrams of the 1/width expansion.
- ``nntheory.numerics``: compiles theory objects to JAX.
- ``nntheory.validation``: Monte Carlo ensembles of real networks.
"""

from nntheory._version import __version__ as __version__

__all__ = ["__version__"]
