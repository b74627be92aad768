"""``nntheory invariants SPEC.json --order N``: differential invariants of a Lie algebra action."""

from __future__ import annotations

import json
import sys

from nntheory.errors import NNTheoryError


def _read_spec(path: str) -> dict:
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as exc:
        raise NNTheoryError(f"spec: cannot read {path!r} ({exc.strerror}).") from None
    if len(text) > 1_000_000:
        raise NNTheoryError("spec: larger than 1 MB.")
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NNTheoryError(f"spec: {path!r} is not valid JSON ({exc.msg}, line {exc.lineno}).") from None
    return spec


def run_invariants(args) -> int:
    from nntheory.theory import action_from_spec, differential_invariants, equivariant_fields

    if args.order < 0:
        raise NNTheoryError(f"--order: must be >= 0, got {args.order}.")
    if args.order > 12:
        raise NNTheoryError(f"--order: at most 12 (got {args.order}); symbolic prolongation grows quickly.")
    action = action_from_spec(_read_spec(args.spec))
    print(f"nntheory invariants: {action.r} generators, orders 0..{args.order}", file=sys.stderr)
    inv = differential_invariants(action, args.order, method=args.method.replace("-", " "))
    out = inv.to_json()
    fields = None
    if args.fields:
        fields = equivariant_fields(action)
        out["equivariant_fields"] = fields.to_json()
    if args.format == "json":
        print(json.dumps(out, indent=2, sort_keys=True))
    else:
        print(inv.to_text())
        if fields is not None:
            print(f"equivariant fields: rank {fields.rank}; {fields.message}")
            for Y in fields.to_json()["basis"]:
                print(f"  Y = {Y}")
    return 0
