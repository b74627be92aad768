"""Feynman diagrams of the 1/width expansion (networkx graphs and the sympy terms they give).

Empty in this release: diagram generation is tracked by its own issue; the hand-derived recursions
of :mod:`nntheory.theory` are what it will be checked against. Importing it loads no JAX or numpy.
"""

__all__: list[str] = []
