"""``nntheory diagrams``: list, count and draw the Feynman diagrams of a statistic."""

from __future__ import annotations

import json

from nntheory.errors import SpecError

_FAMILIES = {"K": 1, "V": 2, "U": 3, "W": 4}


def resolve_statistic(name: str, order: int | None) -> tuple[int, int]:
    """``--statistic V --order 2`` -> (2, 2); an exact name (``V2``, ``kappa5_4``) needs no order."""
    from nntheory.diagrams import parse_statistic

    if order is not None and (isinstance(order, bool) or order < 0):
        raise SpecError(f"--order: must be an int >= 0, got {order}.")
    fam = _FAMILIES.get(name)
    if fam is None and name.startswith("kappa") and name[5:].isdigit():
        fam = int(name[5:])
    if fam is not None:
        if order is None:
            raise SpecError(f"--order: required with the statistic family {name!r} (the power of 1/n).")
        kmin = 0 if fam == 1 else fam - 1
        if order < kmin:
            raise SpecError(f"--order: {name} (the cumulant kappa_{fam} of the kernel) starts at order {kmin}, got {order}.")
        return fam, order
    m, k = parse_statistic(name)
    if order is not None and order != k:
        raise SpecError(f"--order: {name} is the coefficient of 1/n^{k}; got --order {order}.")
    return m, k


def run_diagrams(args) -> int:
    from nntheory.diagrams import diagrams, statistic_name

    m, k = resolve_statistic(args.statistic, args.order)
    ds = diagrams((m, k))
    name = statistic_name(m, k)
    if args.action == "list":
        if args.format == "json":
            print(json.dumps({"statistic": name, "m": m, "order": k, "count": len(ds),
                              "diagrams": [d.to_dict() for d in ds]}, sort_keys=True))
        else:
            print(f"# {name}: kappa_{m}(G) at order 1/n^{k}; {len(ds)} diagrams (symmetry factor, vertices v[external legs|derivatives], layer-l nodes(vertices they join))")
            for d in ds:
                print(d.describe())
        return 0
    if args.action == "count":
        print(len(ds))
        return 0
    # draw
    out = args.output
    if out is None:
        raise SpecError("--output: required for 'draw' (a .png, .svg, .pdf or .tex file).")
    ext = out.rsplit(".", 1)[-1].lower() if "." in out else ""
    if ext == "tex":
        from nntheory._io import atomic_write
        from nntheory.diagrams import tikz

        atomic_write(out, tikz(ds))
    elif ext in ("png", "svg", "pdf"):
        from nntheory.diagrams import draw_diagrams

        draw_diagrams(ds, out, title=f"{name}: kappa_{m} at 1/n^{k}")
    else:
        raise SpecError(f"--output: the extension must be .png, .svg, .pdf or .tex, got {out!r}.")
    print(json.dumps({"statistic": name, "count": len(ds), "output": out}, sort_keys=True))
    return 0
