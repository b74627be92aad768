"""``nntheory tables cg|wigner-d|sh|activation``: lookup tables for layers, with provenance."""

from __future__ import annotations

import sys

from nntheory.cli._args import output_file
from nntheory.errors import SpecError, SpinError

HELP = "lookup tables for layers: CG / 3j, Wigner d, spherical harmonics, fixed-point activation tables"
USES_JAX = True


def add_arguments(t) -> None:
    """The flags of ``nntheory tables``."""
    t.add_argument("kind", choices=("cg", "wigner-d", "sh", "activation"))
    t.add_argument("name_arg", nargs="?", default=None, metavar="NAME",
                   help="activation: its name or expression in z (e.g. tanh, sigmoid, 'z/(1+abs(z))')")
    t.add_argument("--lmax", type=int, default=None, help="cg, wigner-d, sh: largest degree l (>= 0)")
    t.add_argument("--input-precision", dest="input_precision", default="ap_fixed<16,6>",
                   help="activation: the input type, e.g. 'ap_fixed<16,6>' (hls4ml's default)")
    t.add_argument("--table-size", dest="table_size", type=int, default=1024, help="activation: entries, a power of two (default 1024)")
    t.add_argument("--table-precision", dest="table_precision", default="ap_fixed<18,8>",
                   help="activation: the entry type (hls4ml's default table_t 'ap_fixed<18,8>')")
    t.add_argument("--input-range", dest="input_range", default=None,
                   help="activation: half range R of the table, a power of two (default: hls4ml's 4 for tanh, 8 otherwise)")
    t.add_argument("--hls4ml-compatible", dest="hls4ml_compatible", action="store_true",
                   help="activation: hls4ml's own entries, bit for bit (single-precision libm); default: correctly rounded")
    t.add_argument("--bound", action="store_true", help="activation: also prove the error bound from derivatives (sympy)")
    t.add_argument("--basis", choices=("real", "complex"), default="real")
    t.add_argument("--normalization", default=None,
                   help="cg: cg (default), 3j or unit (unit Frobenius per triple); sh: component (default), integral or norm")
    t.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    t.add_argument("--format", choices=("npz", "json", "c-header"), default=None, help="default npz (activation: json)")
    t.add_argument("--method", choices=("exact", "recursion"), default="exact",
                   help="cg: exact (correctly rounded, default) or recursion (fast float64, large lmax)")
    t.add_argument("--beta", default=None, help="wigner-d: the angle (default pi/2, exact); other values use the float recursion")
    t.add_argument("--name", default=None,
                   help="the table's name, a C identifier: prefix of a c-header's arrays; recorded in every format's provenance")
    t.add_argument("-o", "--output", default=None,
                   help="output file; a FILE.provenance.json sidecar is written beside it (activation json/c-header: stdout if absent)")


def _check_name(name) -> None:
    """``--name`` is a C identifier (it names the header's arrays and is recorded in every format's provenance)."""
    import re

    if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SpecError(f"--name: must be a C identifier (letters, digits, _; not starting with a digit), got {name!r}.")


def run(args) -> int:
    """Build the table of ``kind`` and write it with its provenance."""
    _check_name(args.name)
    _outputs(args)
    if args.kind == "activation":
        from nntheory.cli._activation_table import run_activation_table

        args.format = args.format or "json"
        return run_activation_table(args)
    args.format = args.format or "npz"
    if args.lmax is None or args.output is None:
        raise SpecError(f"tables {args.kind}: --lmax and -o/--output are required.")
    if args.name_arg is not None:
        raise SpecError(f"tables {args.kind}: takes no NAME argument (got {args.name_arg!r}).")
    if args.kind == "cg" and args.normalization is None:
        args.normalization = "cg"
    return _run_so3(args)


def _beta(text: str | None):
    """None for pi/2 (the exact table), else the float angle in [0, pi]; parsed by the one safe parser."""
    if text is None:
        return None
    import sympy

    from nntheory.theory import parse_number

    val = parse_number(text.strip(), label="--beta", error=SpinError)
    if sympy.simplify(val - sympy.pi / 2) == 0:
        return None
    b = float(sympy.N(val, 17))
    if not 0 <= b <= 3.141592653589793:
        raise SpinError(f"--beta: must lie in [0, pi], got {text!r}")
    return b


#: the most entries a table may have (about 1.6 GB as int32 indices and float64 values, more while built)
MAX_ENTRIES = 50_000_000
# the library estimates up to 64 bytes per entry while building; the CLI's entry limit is the one gate
_BUILD_BYTES = MAX_ENTRIES * 64
#: entries of a table of degree lmax are at most ``coef * (lmax + 1) ** power``; measured ratios to (lmax+1)^5 for
#: cg: real 0.66, 0.75, 0.79 at lmax 4, 8, 12, complex 0.45 at lmax 12 and 32 (17.6M entries); wigner-d 1658 and
#: sh 848 entries at lmax 10
_GROWTH = {"cg": (1.0, 5), "cg-complex": (0.5, 5), "wigner-d": (1.5, 3), "sh": (1.0, 3)}
_BYTES_PER_ENTRY = {"cg": 32, "wigner-d": 20, "sh": 28}


def check_table_size(kind: str, lmax: int, basis: str = "real") -> None:
    """Refuse a table whose estimated size exceeds :data:`MAX_ENTRIES`, before anything is allocated.

    Raises:
        SpinError: naming ``--lmax``, with the estimate, the limit and the largest ``lmax`` that fits.
    """
    coef, power = _GROWTH["cg-complex" if kind == "cg" and basis == "complex" else kind]
    entries = coef * float(lmax + 1) ** power
    if entries <= MAX_ENTRIES:
        return
    fits = int((MAX_ENTRIES / coef) ** (1 / power)) - 1
    size = entries * _BYTES_PER_ENTRY[kind]
    hint = (" or build it in pieces with nntheory.numerics.cg_table(lmax, lmin=...)" if kind == "cg" else "")
    raise SpinError(f"--lmax: a {kind} table to lmax {lmax} has about {entries:.2g} entries ({size:.2g} bytes); the limit "
                    f"is {MAX_ENTRIES:.0e} entries (about {MAX_ENTRIES * _BYTES_PER_ENTRY[kind] / 1e9:.1f} GB). Use "
                    f"--lmax <= {fits}{hint}.")


def _outputs(args) -> None:
    """The output file and its sidecar can be written (checked before any work)."""
    if args.output in (None, "-"):
        return
    output_file(args.output, "-o/--output")
    output_file(args.output + ".provenance.json", "-o/--output (its .provenance.json sidecar)")


def _run_so3(args) -> int:
    from nntheory.numerics import cg_table, sh_table, wigner_d_table, write_table

    if args.lmax < 0:
        raise SpinError(f"--lmax must be >= 0, got {args.lmax}")
    check_table_size(args.kind, args.lmax, args.basis)
    _outputs(args)
    beta = _beta(args.beta) if args.kind == "wigner-d" else None
    if args.beta is not None and args.kind != "wigner-d":
        raise SpecError(f"--beta: only for 'tables wigner-d', got it with '{args.kind}'.")
    if args.kind == "cg" and args.normalization not in ("cg", "3j", "unit"):
        raise SpinError(f"--normalization for cg must be cg, 3j or unit, got {args.normalization!r}")
    if args.kind == "sh" and (args.normalization or "component") not in ("integral", "component", "norm"):
        raise SpinError(f"--normalization for sh must be integral, component or norm, got {args.normalization!r}")
    print(f"nntheory tables {args.kind}: lmax {args.lmax} ...", file=sys.stderr)
    if args.kind == "cg":
        table = cg_table(args.lmax, basis=args.basis, normalization=args.normalization, dtype=args.dtype, method=args.method,
                         max_bytes=_BUILD_BYTES)
    elif args.kind == "wigner-d":
        table = wigner_d_table(args.lmax, beta=beta, basis=args.basis, dtype=args.dtype, max_bytes=_BUILD_BYTES)
    else:
        norm = args.normalization or "component"
        if norm not in ("integral", "component", "norm"):
            raise SpinError(f"--normalization for sh must be integral, component or norm, got {norm!r}")
        table = sh_table(args.lmax, basis=args.basis, normalization=norm, dtype=args.dtype, max_bytes=_BUILD_BYTES)
    name = args.name or (f"nntheory_{args.kind.replace('-', '_')}" if args.format == "c-header" else None)
    sidecar = write_table(table, args.output, args.format, name=name, command=command_line(args))
    print(f"wrote {len(table.value)} entries to {args.output} (provenance: {sidecar})", file=sys.stderr)
    return 0


def command_line(args) -> list[str]:
    """The settings as a canonical command line (no output path, so the provenance is reproducible)."""
    if args.kind == "activation":
        out = ["nntheory", "tables", "activation", args.name_arg, "--input-precision", args.input_precision,
               "--table-size", str(args.table_size), "--table-precision", args.table_precision, "--format", args.format]
        out += ["--hls4ml-compatible"] if args.hls4ml_compatible else []
        out += ["--input-range", args.input_range] if args.input_range is not None else []
        out += ["--name", args.name] if args.name is not None else []
        return out
    out = ["nntheory", "tables", args.kind, "--lmax", str(args.lmax), "--basis", args.basis, "--dtype", args.dtype,
           "--format", args.format]
    if args.kind == "cg":
        out += ["--normalization", args.normalization, "--method", args.method]
    if args.kind == "sh":
        out += ["--normalization", args.normalization or "component"]
    if args.kind == "wigner-d":
        out += ["--beta", args.beta or "pi/2"]
    return out + (["--name", args.name] if args.name is not None else [])
