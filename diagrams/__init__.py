"""Feynman diagrams of the 1/width expansion (networkx graphs and the sympy terms they give).

:func:`diagrams` lists the diagrams of a statistic at an order, :func:`diagram_recursion` sums them
into layer-to-layer recursions (a :class:`~nntheory.theory.Recursion`), :func:`draw_diagram` and
:func:`tikz` render them. See :mod:`nntheory.diagrams._generate` for the derivation. Pure symbolic:
importing it loads no JAX or numpy.
"""

from nntheory.diagrams._draw import draw_diagrams as draw_diagrams
from nntheory.diagrams._draw import drawing_provenance as drawing_provenance
from nntheory.diagrams._draw import tikz as tikz
from nntheory.diagrams._generate import Diagram as Diagram
from nntheory.diagrams._statistics import DiagramStatistic as DiagramStatistic
from nntheory.diagrams._generate import diagram_recursion as diagram_recursion
from nntheory.diagrams._generate import diagram_sum as diagram_sum
from nntheory.diagrams._generate import diagrams as diagrams
from nntheory.diagrams._statistics import parse_statistic as parse_statistic
from nntheory.diagrams._statistics import resolve_statistic as resolve_statistic
from nntheory.diagrams._statistics import statistic_name as statistic_name

__all__ = [
    "Diagram",
    "DiagramStatistic",
    "diagram_recursion",
    "diagram_sum",
    "diagrams",
    "draw_diagrams",
    "drawing_provenance",
    "parse_statistic",
    "resolve_statistic",
    "statistic_name",
    "tikz",
]
