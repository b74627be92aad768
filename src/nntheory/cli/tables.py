"""``nntheory tables cg|wigner-d|sh|activation``: lookup tables for layers, with provenance."""

from __future__ import annotations

import sys

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
    t.add_argument("--name", default=None, help="C identifier prefix for c-header output")
    t.add_argument("-o", "--output", default=None,
                   help="output file; a FILE.provenance.json sidecar is written beside it (activation json/c-header: stdout if absent)")


def run(args) -> int:
    """Build the table of ``kind`` and write it with its provenance."""
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


def _run_so3(args) -> int:
    from nntheory.numerics import cg_table, sh_table, wigner_d_table, write_table

    if args.lmax < 0:
        raise SpinError(f"--lmax must be >= 0, got {args.lmax}")
    print(f"nntheory tables {args.kind}: lmax {args.lmax} ...", file=sys.stderr)
    if args.kind == "cg":
        if args.normalization not in ("cg", "3j", "unit"):
            raise SpinError(f"--normalization for cg must be cg, 3j or unit, got {args.normalization!r}")
        table = cg_table(args.lmax, basis=args.basis, normalization=args.normalization, dtype=args.dtype, method=args.method)
    elif args.kind == "wigner-d":
        table = wigner_d_table(args.lmax, beta=_beta(args.beta), basis=args.basis, dtype=args.dtype)
    else:
        norm = args.normalization or "component"
        if norm not in ("integral", "component", "norm"):
            raise SpinError(f"--normalization for sh must be integral, component or norm, got {norm!r}")
        table = sh_table(args.lmax, basis=args.basis, normalization=norm, dtype=args.dtype)
    name = args.name or f"nntheory_{args.kind.replace('-', '_')}"
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
