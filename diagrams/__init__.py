"""Feynman diagrams of the 1/width expansion (networkx graphs and the sympy terms they give).

:func:`diagrams` lists the diagrams of a statistic at an order, :func:`diagram_recursion` sums them
into layer-to-layer recursions (a :class:`~nntheory.theory.Recursion`), :func:`draw_diagrams` and
:func:`tikz` render them. The NTK sector (``Theta, Theta1, D, F, A, B``, the dNTK ``P, Q`` and the ddNTK ``R, S, T, U``,
order ``1/n``, Gaussian and orthogonal weights) has its own engine: :func:`ntk_diagrams`,
:func:`ntk_diagram_recursion`, :func:`field_cumulant` (:mod:`nntheory.diagrams._ntk`); the NTK mean to ``1/n^2``: :func:`ntk_mean_recursion`. See :mod:`nntheory.diagrams._generate` for the derivation. Pure symbolic:
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
from nntheory.diagrams._ntk import NTK_DIAGRAM_STATISTICS as NTK_DIAGRAM_STATISTICS
from nntheory.diagrams._ntk import NTKDiagram as NTKDiagram
from nntheory.diagrams._ntk import field_cumulant as field_cumulant
from nntheory.diagrams._ntk import ntk_diagram_recursion as ntk_diagram_recursion
from nntheory.diagrams._ntk import ntk_diagrams as ntk_diagrams
from nntheory.diagrams._ntk_nnlo import NTK_MEAN_STATISTICS as NTK_MEAN_STATISTICS
from nntheory.diagrams._ntk_nnlo import ntk_mean_recursion as ntk_mean_recursion
from nntheory.diagrams._statistics import parse_statistic as parse_statistic
from nntheory.diagrams._statistics import resolve_statistic as resolve_statistic
from nntheory.diagrams._statistics import statistic_name as statistic_name

__all__ = [
    "Diagram",
    "DiagramStatistic",
    "NTKDiagram",
    "NTK_DIAGRAM_STATISTICS",
    "NTK_MEAN_STATISTICS",
    "diagram_recursion",
    "diagram_sum",
    "diagrams",
    "draw_diagrams",
    "drawing_provenance",
    "field_cumulant",
    "ntk_diagram_recursion",
    "ntk_diagrams",
    "ntk_mean_recursion",
    "parse_statistic",
    "resolve_statistic",
    "statistic_name",
    "tikz",
]
