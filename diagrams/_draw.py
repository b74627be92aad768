"""Pictures of diagrams: matplotlib (PNG/SVG) and TikZ-Feynman source for papers.

Layout: external legs on the left, the layer-``l+1`` vertices (black dots, labeled with their
derivative count) in the middle, the layer-``l`` cumulant nodes (``K1, V, U6, ...``) on the right;
repeated legs between a vertex and a node are drawn as separate arcs. The Weingarten node of orthogonal weights
(crossed weight pairings between two vertices) is drawn as a cross labeled Wg (TikZ-Feynman: ``crossed dot``).
"""

from __future__ import annotations

import hashlib
import json

from nntheory.diagrams._generate import Diagram, statistic_name

__all__ = ["drawing_provenance", "draw_diagrams", "tikz"]


_NTK_COLUMNS = {"field": 0.0, "bias": 0.8, "neuron": 1.5, "obj": 2.5, "corr": 3.4}


def _is_ntk(d) -> bool:
    from nntheory.diagrams._ntk import NTKDiagram

    if not isinstance(d, (Diagram, NTKDiagram)):
        from nntheory.errors import SpecError

        raise SpecError(f"diagrams: expected Diagram or NTKDiagram objects (from diagrams() or ntk_diagrams()), got {d!r}.")
    return isinstance(d, NTKDiagram)


def _ntk_positions(d) -> dict:
    """NTK-sector diagram: fields, bias pairs, layer-l neurons, layer-l objects and the correction in columns."""
    cols: dict = {}
    for node in d.graph.nodes:
        cols.setdefault(node[0], []).append(node)
    pos = {}
    for kind, nodes in cols.items():
        nodes = sorted(nodes, key=str)
        for t, node in enumerate(nodes):
            pos[node] = (_NTK_COLUMNS[kind], -(t - (len(nodes) - 1) / 2) * 1.1)
    return pos


def _ntk_label(d, node) -> str:
    kind, label = d.graph.nodes[node]["kind"], d.graph.nodes[node]["label"]
    if kind == "field":
        return f"{label[1]}"
    if kind == "neuron":
        return "".join(str(x) for x in label)
    return str(label)


def _positions(d) -> dict:
    if _is_ntk(d):
        return _ntk_positions(d)
    cfg = d.config
    pos = {}
    m = sum(len(B) for B in cfg.blocks)
    for i in range(m):
        pos[("ext", i)] = (0.0, -(i - (m - 1) / 2))
    nb = len(cfg.blocks)
    for b, B in enumerate(cfg.blocks):
        pos[("vtx", b)] = (1.3, -(b - (nb - 1) / 2) * max(1.0, m / max(nb, 1)))
    nc = len(cfg.nodes)
    for c in range(nc):
        pos[("cum", c)] = (2.6, -(c - (nc - 1) / 2) * 1.2)
    if cfg.weingarten:
        pos[("wg", 0)] = (2.3, 0.0)
    return pos


def _edges(d: Diagram):
    """(u, v, bend index, multiplicity) for every edge of the diagram."""
    seen = {}
    out = []
    for u, v in d.graph.edges():
        key = (u, v) if u <= v else (v, u)
        i = seen.get(key, 0)
        seen[key] = i + 1
        out.append((u, v, i, d.graph.number_of_edges(u, v)))
    return out


def draw_diagrams(ds, path: str | None = None, *, columns: int = 4, title: str | None = None,
                  provenance: dict | None = None):
    """Draw diagrams in a grid with their symmetry factors; write ``path`` (.png/.svg/.pdf) if given
    (atomically) and return the matplotlib figure.

    Args:
        ds: the diagrams (an iterable of :class:`Diagram`, e.g. from :func:`diagrams`).
        path: the file to write, its format taken from the suffix; None: write nothing.
        columns: the most diagrams per row.
        title: a title over the grid, or None.
        provenance: JSON-ready fields embedded in the file as JSON (PNG text chunk ``nntheory``, SVG
            ``Description``, PDF ``Subject``); by default :func:`drawing_provenance` of ``ds``. The file
            carries no timestamp, so the same diagrams give the same bytes.

    Returns:
        The ``matplotlib.figure.Figure`` (made without pyplot), one panel per diagram titled with its
        symmetry factor.
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state is touched
    from matplotlib.patches import FancyArrowPatch

    ds = list(ds)
    cols = max(1, min(columns, len(ds)))
    rows = max(1, -(-len(ds) // cols))
    fig = Figure(figsize=(3.2 * cols, 2.8 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, d in zip(axes.flat, ds):
        pos = _positions(d)
        for u, v, i, mult in _edges(d):
            rad = 0.0 if mult == 1 else 0.35 * (i - (mult - 1) / 2)
            ax.add_patch(FancyArrowPatch(pos[u], pos[v], arrowstyle="-", connectionstyle=f"arc3,rad={rad}", lw=1.4, color="0.2"))
        for node, (x, y) in pos.items():
            kind = node[0]
            if _is_ntk(d):
                _draw_ntk_node(ax, d, node, x, y)
            elif kind == "ext":
                ax.text(x - 0.15, y, f"{node[1] + 1}", ha="right", va="center", fontsize=10)
                ax.plot([x], [y], "o", ms=3, color="0.2")
            elif kind == "vtx":
                nB, rb = d.graph.nodes[node]["label"]
                ax.plot([x], [y], "o", ms=11, color="black")
                ax.text(x, y, str(rb), ha="center", va="center", fontsize=7, color="white")
            elif kind == "wg":
                ax.plot([x], [y], "X", ms=13, color="black")
                ax.text(x + 0.2, y, "Wg", ha="left", va="center", fontsize=9)
            else:
                j, k = d.graph.nodes[node]["label"]
                ax.text(x, y, statistic_name(j, k), ha="center", va="center", fontsize=9,
                        bbox=dict(boxstyle="circle,pad=0.3", fc="white", ec="black"))
        ax.set_xlim(-0.9, 3.9 if _is_ntk(d) else 3.1)
        ys = [p[1] for p in pos.values()]
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
        ax.set_title(f"x {d.symmetry_factor}", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        import io

        from nntheory._io import atomic_write

        fmt = str(path).rsplit(".", 1)[-1].lower()
        prov = json.dumps(drawing_provenance(ds) if provenance is None else provenance, sort_keys=True)
        meta = {"png": {"Software": None, "nntheory": prov}, "svg": {"Date": None, "Description": prov},
                "pdf": {"Subject": prov, "CreationDate": None, "ModDate": None}}.get(fmt)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, metadata=meta)
        atomic_write(path, buf.getvalue())
    return fig


def _draw_ntk_node(ax, d, node, x, y) -> None:
    kind, text = node[0], _ntk_label(d, node)
    if kind == "field":
        ax.plot([x], [y], "o", ms=3, color="0.2")
        ax.text(x - 0.12, y, text, ha="right", va="center", fontsize=9)
    elif kind == "neuron":  # a neuron of layer l; the digits are the derivative orders of sigma on it
        ax.plot([x], [y], "o", ms=12, color="black")
        ax.text(x, y, text, ha="center", va="center", fontsize=6, color="white")
    elif kind == "corr" and text == "Wg":
        ax.plot([x], [y], "X", ms=13, color="black")
        ax.text(x + 0.2, y, "Wg", ha="left", va="center", fontsize=9)
    elif kind == "bias":
        ax.text(x, y, "C_b", ha="center", va="center", fontsize=7, bbox=dict(boxstyle="square,pad=0.2", fc="0.9", ec="0.3"))
    elif kind == "obj":
        ax.text(x, y, text, ha="center", va="center", fontsize=7, bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="0.2"))
    else:
        ax.text(x, y, text, ha="center", va="center", fontsize=8, bbox=dict(boxstyle="circle,pad=0.3", fc="white", ec="black"))


def drawing_provenance(ds) -> dict:
    """The provenance of a picture of diagrams: nntheory version, generator, the statistics and their counts.

    Args:
        ds: the diagrams.
    Returns:
        A JSON-ready dict: ``generator`` (``"nntheory <version>"``), ``nntheory_version``, ``generator_function``,
        ``statistics`` (names), ``count`` and ``diagrams_sha256``, a SHA-256 of the diagrams' canonical JSON
        (:meth:`Diagram.to_dict`), so a picture can be traced to the exact diagrams it shows.
    """
    from nntheory._version import __version__

    ds = list(ds)
    canon = json.dumps([d.to_dict() for d in ds], sort_keys=True).encode()
    names = sorted({getattr(d.statistic, "name", d.statistic) for d in ds})
    return {"generator": f"nntheory {__version__}", "nntheory_version": __version__,
            "generator_function": "nntheory.diagrams.draw_diagrams", "statistics": names, "count": len(ds),
            "diagrams_sha256": hashlib.sha256(canon).hexdigest()}


def tikz(ds, *, standalone: bool = True) -> str:
    """TikZ-Feynman source (``\\usepackage{tikz-feynman}``, LuaLaTeX) for the diagrams, one
    ``tikzpicture`` each, with the symmetry factor in front.

    Args:
        ds: the diagrams (an iterable of :class:`Diagram`, e.g. from :func:`diagrams`).
        standalone: wrap the pictures in a complete ``standalone`` LaTeX document (default), or give
            only the pictures, to include in a paper.

    Returns:
        The LaTeX source, a str ending with a newline: the pictures separated by ``\\quad``, each preceded
        by its symmetry factor; with ``standalone``, inside ``\\documentclass{standalone}`` ...
        ``\\end{document}``.
    """
    parts = []
    for d in ds:
        pos = _positions(d)
        lines = [r"\begin{tikzpicture}[baseline=(current bounding box.center)]", r"\begin{feynman}"]
        names = {}
        for node, (x, y) in pos.items():
            kind = node[0]
            nm = f"{kind}{node[1]}"
            names[node] = nm
            if _is_ntk(d):
                lines.append(_tikz_ntk_node(d, node, nm, x, y))
            elif kind == "ext":
                lines.append(rf"  \vertex ({nm}) at ({x:.2f}, {y:.2f}) {{\({node[1] + 1}\)}};")
            elif kind == "vtx":
                _nB, rb = d.graph.nodes[node]["label"]
                lines.append(rf"  \vertex[dot, label=above:{{\(\scriptstyle\partial^{{{rb}}}\)}}] ({nm}) at ({x:.2f}, {y:.2f}) {{}};")
            elif kind == "wg":
                lines.append(rf"  \vertex[crossed dot, label=right:{{\(\mathrm{{Wg}}\)}}] ({nm}) at ({x:.2f}, {y:.2f}) {{}};")
            else:
                j, k = d.graph.nodes[node]["label"]
                lines.append(rf"  \vertex[blob, minimum size=0.6cm, label=center:{{\({_tex_name(j, k)}\)}}] ({nm}) at ({x:.2f}, {y:.2f}) {{}};")
        edges = []
        for u, v, i, mult in _edges(d):
            bend = "" if mult == 1 else f", bend left={int(40 * (i - (mult - 1) / 2))}"
            edges.append(f"    ({names[u]}) -- [plain{bend}] ({names[v]})")
        lines.append(r"  \diagram* {")
        lines.append(",\n".join(edges))
        lines.append(r"  };")
        lines += [r"\end{feynman}", r"\end{tikzpicture}"]
        parts.append(rf"\({_tex_fraction(d.symmetry_factor)}\times\)" + "\n" + "\n".join(lines))
    body = "\n\\quad\n".join(parts)
    if not standalone:
        return body + "\n"
    return ("% generated by nntheory diagrams draw; compile with lualatex\n"
            f"% provenance: {json.dumps(drawing_provenance(ds), sort_keys=True)}\n"
            "\\documentclass[border=4pt]{standalone}\n\\usepackage{tikz-feynman}\n\\begin{document}\n"
            + body + "\n\\end{document}\n")


def _tikz_ntk_node(d, node, nm: str, x: float, y: float) -> str:
    kind, text = node[0], _ntk_label(d, node).replace("_", r"\_")
    at = f"({nm}) at ({x:.2f}, {y:.2f})"
    if kind == "field":
        return rf"  \vertex {at} {{\texttt{{{text}}}}};"
    if kind == "neuron":
        return rf"  \vertex[dot, label=above:{{\(\scriptstyle {text}\)}}] {at} {{}};"
    if kind == "corr" and text == "Wg":
        return rf"  \vertex[crossed dot, label=right:{{\(\mathrm{{Wg}}\)}}] {at} {{}};"
    return rf"  \vertex[blob, minimum size=0.6cm, label=center:{{\texttt{{{text}}}}}] {at} {{}};"


def _tex_name(j: int, k: int) -> str:
    name = statistic_name(j, k)
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    if head.startswith("kappa"):
        return rf"\kappa_{{{j}}}^{{[{k}]}}"
    return head + (f"_{{{tail}}}" if tail else "")


def _tex_fraction(f) -> str:
    return str(f.numerator) if f.denominator == 1 else rf"\tfrac{{{f.numerator}}}{{{f.denominator}}}"
