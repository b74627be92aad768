"""``nntheory diagrams``: list, count and draw the Feynman diagrams of a statistic."""

from __future__ import annotations

import json
import os

from nntheory.cli._args import output_file
from nntheory.errors import SpecError

HELP = "list, count and draw the Feynman diagrams of a finite-width statistic"
USES_JAX = False


def add_arguments(d) -> None:
    """The flags of ``nntheory diagrams``."""
    d.add_argument("action", choices=("list", "count", "draw"))
    d.add_argument("--statistic", required=True,
                   help="K (kernel), V (four-point), U6 (six-point), W (eight-point), kappaM (M-th cumulant of the kernel), "
                        "with --order; or an exact name such as K1, V2, U6_3; or an NTK-sector statistic at order 1/n: "
                        "Theta (order 0), Theta1, D, F, A, B, P, Q (dNTK), R, S, T, U (ddNTK)")
    d.add_argument("--order", type=int, default=None, help="the power k of 1/n")
    d.add_argument("--init", default="gaussian",
                   help="weight initialisation: gaussian (default) or orthogonal (order <= 1: V gains the Weingarten "
                        "diagram of crossed weight pairings)")
    d.add_argument("--format", choices=("text", "json"), default="text")
    d.add_argument("-o", "--output", default=None, help="draw: a .png, .svg or .pdf picture, or .tex (TikZ-Feynman source)")


def run(args) -> int:
    """List, count or draw the diagrams of ``--statistic`` at ``--order``."""
    from nntheory.diagrams import diagrams, resolve_statistic, statistic_name
    from nntheory.diagrams._generate import _NTK_ONLY

    if args.statistic in _NTK_ONLY:
        return _run_ntk(args)

    from nntheory.diagrams._generate import MAX_ORDER

    m, k = resolve_statistic(args.statistic, args.order)
    if k > MAX_ORDER:
        raise SpecError(f"--order: at most {MAX_ORDER} (got {k} for {args.statistic}): the number of diagrams grows "
                        "factorially (994 for kappa4 at 1/n^4; V at 1/n^5 takes about a minute).")
    if args.action == "draw":
        _check_output(args.output)
    elif args.output is not None:
        raise SpecError(f"--output: only for 'draw' (got {args.output!r} with '{args.action}').")
    if args.init not in ("gaussian", "orthogonal"):
        raise SpecError(f"--init: must be gaussian or orthogonal, got {args.init!r}.")
    if args.init == "orthogonal" and k > 1:
        raise SpecError(f"--init orthogonal: diagrams to order 1 only (got --order {k}): the higher Weingarten terms "
                        "are not in the engine.")
    ds = diagrams((m, k), args.init)
    name = statistic_name(m, k)
    if args.action == "count":
        print(len(ds))
    elif args.action == "list" and args.format == "json":
        print(json.dumps({"statistic": name, "m": m, "order": k, "init": args.init, "count": len(ds),
                          "diagrams": [d.to_dict() for d in ds]}, sort_keys=True))
    elif args.action == "list":
        print(f"# {name}: kappa_{m}(G) at order 1/n^{k}" + (", orthogonal weights" if args.init == "orthogonal" else "")
              + f"; {len(ds)} diagrams (symmetry factor, vertices "
              "v[external legs|derivatives], layer-l nodes(vertices they join))")
        for d in ds:
            print(d.describe())
    else:
        sidecar = _draw(ds, args.output, f"{name}: kappa_{m} at 1/n^{k}" + (", orthogonal weights" if args.init ==
                                                                              "orthogonal" else ""),
                        {"statistic": name, "m": m, "order": k, "init": args.init})
        print(json.dumps({"statistic": name, "count": len(ds), "output": args.output, "provenance": sidecar},
                         sort_keys=True))
    return 0


def _run_ntk(args) -> int:
    """The NTK-sector diagrams (:func:`nntheory.diagrams.ntk_diagrams`): order 1/n (``Theta``: its leading order)."""
    from nntheory.diagrams import ntk_diagrams

    name = args.statistic
    k = 0 if name == "Theta" else 1
    if args.order is not None and args.order != k:
        raise SpecError(f"--order: the NTK-sector diagrams of {name} are listed at order {k} (1/n^{k}) only, got "
                        f"--order {args.order}: second-order diagrams are not listed (the NTK mean to 1/n^2 is "
                        "generated: nntheory recursions --statistics Theta,Theta1,Theta2).")
    if args.init not in ("gaussian", "orthogonal"):
        raise SpecError(f"--init: must be gaussian or orthogonal, got {args.init!r}.")
    if args.action == "draw":
        _check_output(args.output)
    elif args.output is not None:
        raise SpecError(f"--output: only for 'draw' (got {args.output!r} with '{args.action}').")
    ds = ntk_diagrams(name, args.init)
    what = f"{name} at order 1/n^{k}" + (", orthogonal weights" if args.init == "orthogonal" else "")
    if args.action == "count":
        print(len(ds))
    elif args.action == "list" and args.format == "json":
        print(json.dumps({"statistic": name, "order": k, "init": args.init, "count": len(ds), "sector": "ntk",
                          "fields": [list(f) for f in ds[0].fields] if ds else [],
                          "diagrams": [d.to_dict() for d in ds]}, sort_keys=True))
    elif args.action == "list":
        print(f"# {what}; {len(ds)} diagrams (symmetry factor; fields[their pieces]; layer-l neurons: sigma "
              "derivatives; layer-l objects; the 1/n correction: insertion, coincidence or Weingarten)")
        for d in ds:
            print(d.describe())
    else:
        sidecar = _draw(ds, args.output, what, {"statistic": name, "order": k, "init": args.init})
        print(json.dumps({"statistic": name, "count": len(ds), "output": args.output, "provenance": sidecar},
                         sort_keys=True))
    return 0


def _check_output(out: str | None) -> None:
    """``--output`` of 'draw': a picture or .tex file that (with its sidecar) can be written; checked before drawing."""
    if out is None:
        raise SpecError("--output: required for 'draw' (a .png, .svg, .pdf or .tex file).")
    ext = out.rsplit(".", 1)[-1].lower() if "." in os.path.basename(out) else ""
    if ext not in ("png", "svg", "pdf", "tex"):
        raise SpecError(f"--output: the extension must be .png, .svg, .pdf or .tex, got {out!r}.")
    output_file(out, "--output")
    output_file(out + ".provenance.json", "--output (its .provenance.json sidecar)")


def _draw(ds, out: str, title: str, parameters: dict) -> str:
    """Write the picture (provenance embedded) and ``out.provenance.json`` (with the file's sha256); returns the sidecar."""
    import hashlib

    from nntheory._io import atomic_write
    from nntheory.diagrams import drawing_provenance

    prov = {**drawing_provenance(ds), "parameters": parameters}
    if out.rsplit(".", 1)[-1].lower() == "tex":
        from nntheory.diagrams import tikz

        atomic_write(out, tikz(ds))
    else:
        from nntheory.diagrams import draw_diagrams

        draw_diagrams(ds, out, title=title, provenance=prov)
    with open(out, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    side = {**prov, "file": os.path.basename(out), "sha256": digest,
            "command": ["nntheory", "diagrams", "draw", "--statistic", parameters["statistic"], "--order",
                        str(parameters["order"]), "--init", parameters["init"]]}
    sidecar = out + ".provenance.json"
    try:
        atomic_write(sidecar, json.dumps(side, sort_keys=True, indent=1) + "\n")
    except BaseException:
        os.unlink(out)  # no picture without its provenance
        raise
    return sidecar
