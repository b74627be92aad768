"""``nntheory kernels``: infinite-width NNGP and NTK of a deep MLP for inputs read from JSON."""

from __future__ import annotations

import json
import sys

from nntheory.errors import KernelError, SpecError


def read_inputs(path: str, name: str):
    """A JSON list of equally long numeric vectors (parsed with ``json``, never unpickled or evaluated)."""
    import numpy as np

    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as exc:
        raise KernelError(f"--{name}: cannot read {path!r} ({exc.strerror}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KernelError(f"--{name}: not valid JSON ({exc.msg}); expected a list of input vectors, e.g. [[1, 0], [0.6, 0.8]].") from None
    if not isinstance(data, list) or not data or not all(isinstance(v, list) and v for v in data):
        raise KernelError(f"--{name}: expected a non-empty JSON list of non-empty lists of numbers.")
    lengths = sorted({len(v) for v in data})
    if len(lengths) != 1:
        raise KernelError(f"--{name}: all inputs must have the same dimension; got dimensions {lengths}.")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for v in data for x in v):
        raise KernelError(f"--{name}: every entry must be a number.")
    X = np.asarray(data, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise KernelError(f"--{name}: entries must be finite.")
    return X


def run_kernels(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from nntheory.cli.recursions import parse_number
    from nntheory._version import __version__
    from nntheory.numerics import MLPKernel
    from nntheory.theory import activation

    act = activation(args.activation)
    W = parse_number(args.W_std, "W-std", positive=True)
    b = parse_number(args.b_std, "b-std", nonnegative=True)
    if args.convention == "neural-tangents":
        if args.depth < 0:
            raise SpecError(f"--depth: the number of nonlinearities must be >= 0, got {args.depth}.")
        if args.lambda_W != "1" or args.lambda_b != "1":
            raise SpecError("--lambda-W/--lambda-b: only with --convention pdlt (neural-tangents fixes lambda = sigma^2).")
        k = MLPKernel.neural_tangents(act, W_std=W, b_std=b, depth=args.depth)
    else:
        if args.depth < 1:
            raise SpecError(f"--depth: the number of layers must be >= 1, got {args.depth}.")
        k = MLPKernel(act, args.depth, W * W, b * b, parse_number(args.lambda_W, "lambda-W", nonnegative=True),
                      parse_number(args.lambda_b, "lambda-b", nonnegative=True))
    x1 = read_inputs(args.inputs, "inputs")
    x2 = None if args.inputs2 is None else read_inputs(args.inputs2, "inputs2")
    if x2 is not None and x2.shape[1] != x1.shape[1]:
        raise KernelError(f"--inputs2: inputs have dimension {x2.shape[1]}, but --inputs have {x1.shape[1]}.")
    out = k(x1, x2)
    result = {
        "nngp": np.asarray(out.nngp).tolist(),
        "ntk": np.asarray(out.ntk).tolist(),
        "settings": {"nntheory": __version__, "activation": act.name, "activation_expr": str(act.expr), "convention": args.convention,
                     "W_std": W, "b_std": b, "depth": args.depth, "layers": k.depth, "C_W": k.C_W, "C_b": k.C_b,
                     "lambda_W": k.lambda_W, "lambda_b": k.lambda_b, "n_inputs": [int(x1.shape[0]), int((x1 if x2 is None else x2).shape[0])],
                     "input_dim": int(x1.shape[1]), "gram": "x.x'/n_0"},
    }
    if not (np.all(np.isfinite(result["nngp"])) and np.all(np.isfinite(result["ntk"]))):
        raise KernelError("the kernels are not finite for these inputs and hyperparameters (overflow at this depth?).")
    print(json.dumps(result, sort_keys=True))
    return 0
