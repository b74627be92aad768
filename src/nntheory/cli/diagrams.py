"""``nntheory diagrams``: list, count and draw the Feynman diagrams of a statistic."""

from __future__ import annotations

import json

from nntheory.errors import SpecError

HELP = "list, count and draw the Feynman diagrams of a finite-width statistic"
USES_JAX = False


def add_arguments(d) -> None:
    """The flags of ``nntheory diagrams``."""
    d.add_argument("action", choices=("list", "count", "draw"))
    d.add_argument("--statistic", required=True,
                   help="K (kernel), V (four-point), U (six-point), W (eight-point), kappaM (M-th cumulant of the kernel), "
                        "with --order; or an exact name such as K1, V2, U3")
    d.add_argument("--order", type=int, default=None, help="the power k of 1/n")
    d.add_argument("--format", choices=("text", "json"), default="text")
    d.add_argument("-o", "--output", default=None, help="draw: a .png, .svg or .pdf picture, or .tex (TikZ-Feynman source)")


def run(args) -> int:
    """List, count or draw the diagrams of ``--statistic`` at ``--order``."""
    from nntheory.diagrams import diagrams, resolve_statistic, statistic_name

    m, k = resolve_statistic(args.statistic, args.order)
    ds = diagrams((m, k))
    name = statistic_name(m, k)
    if args.action == "count":
        print(len(ds))
    elif args.action == "list" and args.format == "json":
        print(json.dumps({"statistic": name, "m": m, "order": k, "count": len(ds),
                          "diagrams": [d.to_dict() for d in ds]}, sort_keys=True))
    elif args.action == "list":
        print(f"# {name}: kappa_{m}(G) at order 1/n^{k}; {len(ds)} diagrams (symmetry factor, vertices "
              "v[external legs|derivatives], layer-l nodes(vertices they join))")
        for d in ds:
            print(d.describe())
    else:
        _draw(ds, args.output, f"{name}: kappa_{m} at 1/n^{k}")
        print(json.dumps({"statistic": name, "count": len(ds), "output": args.output}, sort_keys=True))
    return 0


def _draw(ds, out: str | None, title: str) -> None:
    if out is None:
        raise SpecError("--output: required for 'draw' (a .png, .svg, .pdf or .tex file).")
    ext = out.rsplit(".", 1)[-1].lower() if "." in out else ""
    if ext == "tex":
        from nntheory._io import atomic_write
        from nntheory.diagrams import tikz

        atomic_write(out, tikz(ds))
    elif ext in ("png", "svg", "pdf"):
        from nntheory.diagrams import draw_diagrams

        draw_diagrams(ds, out, title=title)
    else:
        raise SpecError(f"--output: the extension must be .png, .svg, .pdf or .tex, got {out!r}.")
