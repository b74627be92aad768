"""``nntheory invariants SPEC.json --order N``: differential invariants of a Lie algebra action."""

from __future__ import annotations

import json
import sys

from nntheory.cli._args import json_value, read_text
from nntheory.errors import InvariantError

HELP = "differential invariants of a Lie algebra action and its equivariant vector fields"
USES_JAX = False

#: symbolic prolongation grows quickly: orders above this are refused
MAX_ORDER = 12

#: seconds allowed for one request by default (--timeout)
DEFAULT_TIMEOUT = 300.0


def add_arguments(iv) -> None:
    """The flags of ``nntheory invariants``."""
    iv.add_argument("spec", help='a JSON file (or - for stdin): {"independent": ["x"], "dependent": ["u"], '
                                 '"generators": [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}]}; optional "names", '
                                 '"finite" with "parameters"')
    iv.add_argument("--order", type=int, required=True, help="highest jet order N >= 0")
    iv.add_argument("--format", choices=("json", "text"), default="json")
    iv.add_argument("--method", choices=("auto", "moving-frame", "characteristics", "ansatz"), default="auto",
                    help="moving-frame (Fels-Olver normalisation), characteristics (the PDE system in Jacobian normal "
                         "form integrated along its characteristics), ansatz (rational invariants from polynomial "
                         "relative invariants solved exactly, and invariant derivatives: rotations, rigid motions), "
                         "or auto: the frame first for small groups with at most one rotation, else the ansatz "
                         "first; the other routes where one fails")
    iv.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help=f"seconds allowed for the whole request (default {DEFAULT_TIMEOUT:g}); past it the command stops with "
                         "a message naming the step that did not finish and what to try, exit code 2")
    iv.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    iv.add_argument("--fields", action="store_true",
                    help="also the equivariant vector fields on the base coordinates (module rank from the isotropy, a basis)")


def run(args) -> int:
    """Counts per order, a complete set of invariants, invariant derivatives (and the equivariant fields)."""
    from nntheory.theory import action_from_spec, differential_invariants, equivariant_fields
    from nntheory.theory.lie._budget import _budget, _step

    if args.order < 0:
        raise InvariantError(f"--order: must be >= 0, got {args.order}.")
    if args.order > MAX_ORDER:
        raise InvariantError(f"--order: at most {MAX_ORDER} (got {args.order}); symbolic prolongation grows quickly.")
    if not (args.timeout > 0 and args.timeout < float("inf")):
        raise InvariantError(f"--timeout: must be a positive number of seconds, got {args.timeout}.")
    text = read_text(args.spec, "spec", limit=1_000_000, error=InvariantError)
    spec = json_value(text, "spec", '{"independent": ["x"], ...}', error=InvariantError)

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with _budget(args.timeout, None if args.quiet else progress):
        action = action_from_spec(spec)  # the closure check reports its own step once the spec has parsed
        if not args.quiet:
            print(f"nntheory invariants: {action.r} generators, orders 0..{args.order}, timeout {args.timeout:g} s",
                  file=sys.stderr)
        inv = differential_invariants(action, args.order, method=args.method.replace("-", " "))
        out = inv.to_json()
        fields = None
        if args.fields:
            _step("equivariant vector fields")
            fields = equivariant_fields(action)
            out["equivariant_fields"] = fields.to_json()
    if args.format == "json":
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    print(inv.to_text())
    if fields is not None:
        print(f"equivariant fields: rank {fields.rank}; {fields.message}")
        for Y in fields.to_json()["basis"]:
            print(f"  Y = {Y}")
    return 0
