"""``nntheory tables activation NAME``: a fixed-point activation lookup table, with its error."""

from __future__ import annotations

import sys

from nntheory.cli._args import number
from nntheory.errors import SpecError

#: the most entries of an activation table (hls4ml tables live in on-chip memory; 1024 is its default)
MAX_TABLE_SIZE = 2**20
#: the widest input type whose every code is evaluated to measure the table's error
MAX_INPUT_BITS = 24


def _fixed_type(text: str, option: str):
    """The fixed-point type of an option; the message names the option."""
    from nntheory.numerics import FixedType

    try:
        return FixedType.parse(text)
    except SpecError as exc:
        raise SpecError(f"{option}: {exc}") from None


def run_activation_table(args) -> int:
    """Build the table, measure its error over every input code, write it (or print json/c-header)."""
    from nntheory.cli.tables import command_line
    from nntheory.numerics import activation_table, table_bytes, write_table
    from nntheory.theory import activation

    if not args.name_arg:
        raise SpecError("tables activation: name the activation, e.g. 'nntheory tables activation tanh'.")
    if args.table_size < 2 or args.table_size & (args.table_size - 1):
        raise SpecError(f"--table-size: must be a power of two >= 2 (hls4ml indexes with shifts), got {args.table_size}.")
    if args.table_size > MAX_TABLE_SIZE:
        raise SpecError(f"--table-size: at most {MAX_TABLE_SIZE} entries (2^20) here, got {args.table_size}.")
    width = _fixed_type(args.input_precision, "--input-precision").width
    _fixed_type(args.table_precision, "--table-precision")
    if width > MAX_INPUT_BITS:
        raise SpecError(f"--input-precision: the error is measured over every input code; {args.input_precision} has "
                        f"2^{width} codes, the limit is {MAX_INPUT_BITS} bits (2^{MAX_INPUT_BITS} codes, about "
                        f"{2**MAX_INPUT_BITS * 8 / 1e6:.0f} MB per array). Use a narrower input type.")
    act = activation(args.name_arg)
    R = None if args.input_range is None else number(args.input_range, "input-range", positive=True)
    tab = activation_table(act, input_precision=args.input_precision, table_size=args.table_size,
                           table_precision=args.table_precision, mode="hls4ml" if args.hls4ml_compatible else "exact",
                           half_range=R)
    err, where = tab.max_error()
    bound, why = None, None
    if args.bound:
        try:
            bound = tab.error_bound()
        except SpecError as exc:  # the table is still right; only the symbolic bound is unavailable
            why = str(exc)
            print(f"note: no proven bound: {why}", file=sys.stderr)
    measured = {"max_error": err, "max_error_at": where, "error_bound": bound}
    if why:
        measured["error_bound_unavailable"] = why
    if args.output in (None, "-"):
        if args.format == "npz":
            raise SpecError("--format npz: give an output file with -o.")
        sys.stdout.write(table_bytes(tab, args.format, name=args.name).decode())
    else:
        write_table(tab, args.output, args.format, name=args.name, command=command_line(args), extra=measured)
    b = f", proven bound {bound:.3g}" if bound is not None else ""
    print(f"{tab.activation.name} table: {tab.size} entries of {tab.table_type}; max |T(x) - f(x)| over every code of "
          f"{tab.input_type}: {err:.3g} at x = {where}{b}", file=sys.stderr)
    return 0
