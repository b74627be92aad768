"""``nntheory fixed quantize`` and ``nntheory tables activation``: fixed-point types and activation tables."""

from __future__ import annotations

import json
import sys

from nntheory._io import atomic_write
from nntheory.errors import SpecError


def run_fixed(args) -> int:
    import io

    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from nntheory.numerics import FixedType

    t = FixedType.parse(args.type)
    try:
        x = np.load(args.input, allow_pickle=False)  # never unpickle
    except (OSError, ValueError) as exc:
        raise SpecError(f"-i/--input: cannot read {args.input!r} as a .npy array without pickles ({exc}).") from exc
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iuf":
        raise SpecError(f"-i/--input: expected a numeric .npy array, got {getattr(x, 'dtype', type(x))}.")
    out = np.asarray(t.represent(x.astype(np.float64)), dtype=np.float64)
    buf = io.BytesIO()
    np.save(buf, out, allow_pickle=False)
    atomic_write(args.output, buf.getvalue())
    print(f"quantized {out.size} values to {t} -> {args.output}", file=sys.stderr)
    return 0


def run_activation_table(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from nntheory.cli.recursions import parse_number
    from nntheory.numerics.fixed_point._lut import activation_table, table_bytes
    from nntheory.theory import activation

    if not args.name_arg:
        raise SpecError("tables activation: name the activation, e.g. 'nntheory tables activation tanh'.")
    act = activation(args.name_arg)
    R = None if args.input_range is None else float(parse_number(args.input_range, "input-range", positive=True))
    tab = activation_table(act, input_precision=args.input_precision, table_size=args.table_size,
                           table_precision=args.table_precision, mode="hls4ml" if args.hls4ml_compatible else "exact", half_range=R)
    data = table_bytes(tab, args.format, name=args.name)
    err, where = tab.max_error()
    bound, why = None, None
    if args.bound:
        try:
            bound = tab.error_bound()
        except SpecError as exc:  # the table is still right; only the symbolic bound is unavailable
            why = str(exc)
            print(f"note: no proven bound: {why}", file=sys.stderr)
    meta = {**tab.meta(), "max_error": err, "max_error_at": where, "error_bound": bound}
    if why:
        meta["error_bound_unavailable"] = why
    if args.output in (None, "-"):
        if args.format == "npz":
            raise SpecError("--format npz: give an output file with -o.")
        sys.stdout.write(data.decode())
    else:
        atomic_write(args.output, data)
        atomic_write(args.output + ".provenance.json",
                     (json.dumps({"generator": "nntheory", **meta, "command": _command(args)}, sort_keys=True, indent=1) + "\n").encode())
    b = f", proven bound {bound:.3g}" if bound is not None else ""
    print(f"{tab.activation.name} table: {tab.size} entries of {tab.table_type}; max |T(x) - f(x)| over every code of "
          f"{tab.input_type}: {err:.3g} at x = {where}{b}", file=sys.stderr)
    return 0


def _command(args) -> list[str]:
    out = ["nntheory", "tables", "activation", args.name_arg, "--input-precision", args.input_precision, "--table-size",
           str(args.table_size), "--table-precision", args.table_precision, "--format", args.format]
    if args.hls4ml_compatible:
        out.append("--hls4ml-compatible")
    if args.input_range is not None:
        out += ["--input-range", args.input_range]
    return out
