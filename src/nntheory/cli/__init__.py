"""The ``nntheory`` command line: one entry point, a subcommand per job.

Data go to stdout (JSON with sorted keys) or to files; progress and logs go to stderr. ``--help`` and
``--version`` import neither JAX nor sympy.
"""

from __future__ import annotations

import argparse
import json
import sys

from nntheory._version import __version__

ACTIVATION_HELP = "built-in name (linear, relu, leaky_relu, tanh, erf, gelu, gelu_tanh, silu, softplus, sigmoid) or an expression in one variable, e.g. 'x*erf(x)'"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nntheory", description="Derive, compile and validate finite-width statistics of neural networks.")
    p.add_argument("--version", action="version", version=f"nntheory {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("recursions", help="per-layer K, V, K1, Theta from the compiled recursions")
    r.add_argument("--activation", required=True, help=ACTIVATION_HELP)
    r.add_argument("--C_W", "--C-W", dest="C_W", default="critical", help="weight variance (> 0), or 'critical' (default)")
    r.add_argument("--C_b", "--C-b", dest="C_b", default=None, help="bias variance (>= 0); default: the critical value with --C_W critical, else 0")
    r.add_argument("--depth", type=int, required=True, help="number of layers L >= 1")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--x2", default=None, help="single input: x^2 = |x|^2/n_0 (> 0); default 1")
    g.add_argument("--gram", default=None, help="several inputs: Gram matrix x_a.x_b/n_0 as JSON, e.g. '[[1,0.6],[0.6,1.5]]'")
    r.add_argument("--lambda-b", dest="lambda_b", default="1", help="NTK bias learning-rate factor (>= 0)")
    r.add_argument("--lambda-W", dest="lambda_W", default="1", help="NTK weight learning-rate factor (>= 0)")
    r.add_argument("--widths", default=None, help="hidden widths n_1..n_{L-1}, comma separated (only their ratios enter); default equal")
    r.add_argument("--order", type=int, default=None,
                   help="finite-width order k: every kernel cumulant to 1/n^k from the Feynman diagrams, and predictions at --width")
    r.add_argument("--width", default=None, help="with --order: the hidden width n (equal widths) of the predictions")
    r.add_argument("--format", choices=("json", "table"), default="json")

    v = sub.add_parser("validate", help="the main job: theory vs Monte Carlo ensembles over a width sweep; "
                       "'training' and 'equivariance' compare trained ensembles with NTK theory")
    v.add_argument("job", nargs="?", choices=("finite-width", "training", "equivariance", "node"), default="finite-width",
                   help="finite-width (default): statistics at initialization; training: trained ensembles vs the NTK "
                        "prediction over widths; equivariance: ensembles trained with C4 augmentation (digits); node: "
                        "SO(2)-equivariant first- and second-order neural ODEs vs plain ones on rotated test data")
    v.add_argument("--activation", action="append", default=None,
                   help=ACTIVATION_HELP + " (repeatable; default relu, tanh, gelu; training: erf, equivariance: relu)")
    v.add_argument("--depth", type=int, default=None, help="finite-width: layers (default 6); training/equivariance: hidden layers (default 1)")
    v.add_argument("--widths", default=None, help="comma-separated widths, at least 3 (default 32,64,128,256; training 64,256,1024; "
                   "equivariance: one width, default 512)")
    v.add_argument("--n-nets", dest="n_nets", type=int, default=None,
                   help="networks per width (default 1000; training 32; equivariance 64 per ensemble)")
    v.add_argument("--steps", type=int, default=None, help="training/equivariance: gradient-descent steps (default 200 / 100)")
    v.add_argument("--arch", choices=("mlp", "cnn", "gcnn"), default=None,
                   help="training/equivariance: trained architecture (default mlp); cnn and gcnn (C4 group convolutions) "
                        "are 3x3 periodic convolutions of --widths channels with global average pooling; equivariance: mlp or cnn")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--z-max", dest="z_max", type=float, default=4.0, help="largest accepted |z| of a check")
    v.add_argument("--off-critical", dest="off", default="1.5,0.2", help="C_W,C_b factors/values of the off-critical point: C_W = factor * C_W*, C_b = value")
    v.add_argument("--out", default="nntheory-out", help="output folder (results.json, table.txt, plots)")

    t = sub.add_parser("tables", help="lookup tables for layers: CG / 3j, Wigner d, spherical harmonics; activation tables for "
                                      "fixed-point hardware")
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

    fx = sub.add_parser("fixed", help="bit-exact ap_fixed / ap_ufixed arithmetic (hls4ml's fixed-point types)")
    fx.add_argument("action", choices=("quantize",))
    fx.add_argument("--type", required=True, help="e.g. 'ap_fixed<16,6>' or 'ap_ufixed<8,0,AP_RND,AP_SAT>'")
    fx.add_argument("-i", "--input", required=True, help="a .npy array of numbers (never unpickled)")
    fx.add_argument("-o", "--output", required=True, help="a .npy file: the float64 values represented in the type")

    d = sub.add_parser("diagrams", help="list, count and draw the Feynman diagrams of a finite-width statistic")
    d.add_argument("action", choices=("list", "count", "draw"))
    d.add_argument("--statistic", required=True,
                   help="K (kernel), V (four-point), U (six-point), W (eight-point), kappaM (M-th cumulant of the kernel), with --order; or an exact name such as K1, V2, U3")
    d.add_argument("--order", type=int, default=None, help="the power k of 1/n")
    d.add_argument("--format", choices=("text", "json"), default="text")
    d.add_argument("-o", "--output", default=None, help="draw: a .png, .svg or .pdf picture, or .tex (TikZ-Feynman source)")

    k = sub.add_parser("kernels", help="infinite-width NNGP and NTK of a deep MLP for given inputs")
    k.add_argument("--activation", required=True, help=ACTIVATION_HELP)
    k.add_argument("--W-std", "--W_std", dest="W_std", required=True, help="weight standard deviation sigma_W (> 0): C_W = sigma_W^2")
    k.add_argument("--b-std", "--b_std", dest="b_std", default="0", help="bias standard deviation sigma_b (>= 0): C_b = sigma_b^2")
    k.add_argument("--depth", type=int, required=True,
                   help="pdlt: number of layers L >= 1 (output z^(L)); neural-tangents: number of nonlinearities >= 0")
    k.add_argument("--inputs", required=True, help="a JSON file holding a list of input vectors (all of one length), or '-' for stdin")
    k.add_argument("--inputs2", default=None, help="optional second JSON list: kernels between --inputs (rows) and these (columns)")
    k.add_argument("--convention", choices=("pdlt", "neural-tangents"), default="pdlt",
                   help="pdlt: lambda_W, lambda_b learning-rate factors (default 1); neural-tangents: stax.serial(Dense, act, ..., Dense(1)) "
                        "in NTK parameterisation (lambda_W = C_W, lambda_b = C_b, one more Dense layer)")
    k.add_argument("--lambda-W", dest="lambda_W", default="1", help="pdlt: NTK weight learning-rate factor (>= 0)")
    k.add_argument("--lambda-b", dest="lambda_b", default="1", help="pdlt: NTK bias learning-rate factor (>= 0)")
    k.add_argument("--format", choices=("json",), default="json")

    iv = sub.add_parser("invariants", help="differential invariants of a Lie algebra action (counts per order, a complete "
                                           "set, invariant derivatives) and its equivariant vector fields")
    iv.add_argument("spec", help='a JSON file (or - for stdin): {"independent": ["x"], "dependent": ["u"], '
                                 '"generators": [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}]}; optional "names", '
                                 '"finite" with "parameters"')
    iv.add_argument("--order", type=int, required=True, help="highest jet order N >= 0")
    iv.add_argument("--format", choices=("json", "text"), default="json")
    iv.add_argument("--method", choices=("auto", "moving-frame", "characteristics"), default="auto",
                    help="moving-frame (Fels-Olver normalisation), characteristics (the PDE system in Jacobian normal "
                         "form integrated along its characteristics), or auto: the frame, characteristics where it fails")
    iv.add_argument("--fields", action="store_true",
                    help="also the equivariant vector fields on the base coordinates (module rank from the isotropy, a basis)")

    sub.add_parser("env", help="versions of nntheory, sympy, jax and the devices: paste into bug reports")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from nntheory.errors import NNTheoryError

    try:
        if args.command == "recursions":
            from nntheory.cli.recursions import run_recursions

            return run_recursions(args)
        if args.command == "validate":
            from nntheory.cli.validate import run_validate

            return run_validate(args)
        if args.command == "fixed":
            from nntheory.cli.fixed import run_fixed

            return run_fixed(args)
        if args.command == "tables":
            if args.kind == "activation":
                from nntheory.cli.fixed import run_activation_table

                args.format = args.format or "json"
                return run_activation_table(args)
            from nntheory.cli.tables import run_tables

            args.format = args.format or "npz"
            if args.lmax is None or args.output is None:
                raise NNTheoryError(f"tables {args.kind}: --lmax and -o/--output are required.")
            if args.name_arg is not None:
                raise NNTheoryError(f"tables {args.kind}: takes no NAME argument (got {args.name_arg!r}).")
            if args.kind == "cg" and args.normalization is None:
                args.normalization = "cg"
            return run_tables(args)
        if args.command == "kernels":
            from nntheory.cli.kernels import run_kernels

            return run_kernels(args)
        if args.command == "diagrams":
            from nntheory.cli.diagrams import run_diagrams

            return run_diagrams(args)
        if args.command == "invariants":
            from nntheory.cli.invariants import run_invariants

            return run_invariants(args)
        if args.command == "env":
            return _env()
    except NNTheoryError as exc:
        print(f"nntheory {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _env() -> int:
    import platform

    import jax
    import numpy
    import sympy

    info = {
        "nntheory": __version__, "python": platform.python_version(), "sympy": sympy.__version__,
        "numpy": numpy.__version__, "jax": jax.__version__, "devices": [str(d) for d in jax.devices()],
    }
    print(json.dumps(info, indent=2, sort_keys=True))
    return 0

