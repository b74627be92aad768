"""``nntheory tables cg|wigner-d|sh``: lookup tables for equivariant layers, with provenance."""

from __future__ import annotations

import ast
import sys

from nntheory.errors import SpinError


def _parse_beta(text: str | None):
    """None for pi/2 (the exact table), else a float; parsed safely, never with eval."""
    if text is None:
        return None
    import sympy

    from nntheory.errors import ActivationError
    from nntheory.theory._activations import _node_to_sympy

    try:
        val = _node_to_sympy(ast.parse(text.strip(), mode="eval"), text.strip())
    except (SyntaxError, ActivationError):
        raise SpinError(f"--beta: expected a number such as 'pi/2' or 0.3, got {text!r}") from None
    if val.free_symbols or not val.is_real:
        raise SpinError(f"--beta: expected a real number, got {text!r}")
    if sympy.simplify(val - sympy.pi / 2) == 0:
        return None
    b = float(sympy.N(val, 17))
    if not 0 <= b <= 3.141592653589793:
        raise SpinError(f"--beta: must lie in [0, pi], got {text!r}")
    return b


def run_tables(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from nntheory.numerics import cg_table, sh_table, wigner_d_table, write_table

    if args.lmax < 0:
        raise SpinError(f"--lmax must be >= 0, got {args.lmax}")
    print(f"nntheory tables {args.kind}: lmax {args.lmax} ...", file=sys.stderr)
    if args.kind == "cg":
        if args.normalization not in ("cg", "3j", "unit"):
            raise SpinError(f"--normalization for cg must be cg, 3j or unit, got {args.normalization!r}")
        table = cg_table(args.lmax, basis=args.basis, normalization=args.normalization, dtype=args.dtype, method=args.method)
    elif args.kind == "wigner-d":
        table = wigner_d_table(args.lmax, beta=_parse_beta(args.beta), basis=args.basis, dtype=args.dtype)
    else:
        norm = args.normalization or "component"
        if norm not in ("integral", "component", "norm"):
            raise SpinError(f"--normalization for sh must be integral, component or norm, got {norm!r}")
        table = sh_table(args.lmax, basis=args.basis, normalization=norm, dtype=args.dtype)
    name = args.name or f"nntheory_{args.kind.replace('-', '_')}"
    sidecar = write_table(table, args.output, args.format, name=name, command=_settings(args))
    print(f"wrote {len(table.value)} entries to {args.output} (provenance: {sidecar})", file=sys.stderr)
    return 0


def _settings(args) -> list[str]:
    """The settings as a canonical command line (no output path, so the sidecar is reproducible)."""
    out = ["nntheory", "tables", args.kind, "--lmax", str(args.lmax), "--basis", args.basis, "--dtype", args.dtype,
           "--format", args.format]
    if args.kind == "cg":
        out += ["--normalization", args.normalization, "--method", args.method]
    if args.kind == "sh":
        out += ["--normalization", args.normalization or "component"]
    if args.kind == "wigner-d":
        out += ["--beta", args.beta or "pi/2"]
    return out
