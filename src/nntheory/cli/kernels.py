"""``nntheory kernels``: infinite-width NNGP and NTK of a deep MLP for inputs read from JSON."""

from __future__ import annotations

from nntheory.cli._args import ACTIVATION_HELP, integer, json_value, number, read_text, write_json
from nntheory.errors import KernelError, SpecError

HELP = "infinite-width NNGP and NTK of a deep MLP for given inputs"
USES_JAX = True


def add_arguments(k) -> None:
    """The flags of ``nntheory kernels``."""
    k.add_argument("--activation", required=True, help=ACTIVATION_HELP)
    k.add_argument("--W-std", "--W_std", dest="W_std", required=True, help="weight standard deviation sigma_W (> 0): C_W = sigma_W^2")
    k.add_argument("--b-std", "--b_std", dest="b_std", default="0", help="bias standard deviation sigma_b (>= 0): C_b = sigma_b^2")
    k.add_argument("--depth", type=int, required=True,
                   help="pdlt: number of layers L >= 1 (output z^(L)); neural-tangents: number of nonlinearities >= 0")
    k.add_argument("--inputs", required=True, help="a JSON file holding a list of input vectors (all of one length), or '-' for stdin")
    k.add_argument("--inputs2", default=None, help="optional second JSON list: kernels between --inputs (rows) and these (columns)")
    k.add_argument("--convention", choices=("pdlt", "neural-tangents"), default="pdlt",
                   help="pdlt: lambda_W, lambda_b learning-rate factors (default 1); neural-tangents: stax.serial(Dense, act, ..., "
                        "Dense(1)) in NTK parameterisation (lambda_W = C_W, lambda_b = C_b, one more Dense layer)")
    k.add_argument("--lambda-W", dest="lambda_W", default="1", help="pdlt: NTK weight learning-rate factor (>= 0)")
    k.add_argument("--lambda-b", dest="lambda_b", default="1", help="pdlt: NTK bias learning-rate factor (>= 0)")
    k.add_argument("--format", choices=("json",), default="json")


def read_inputs(path: str, name: str):
    """The input vectors of ``--name`` from a JSON file (parsed with ``json``, never unpickled or evaluated)."""
    from nntheory.numerics import input_vectors

    text = read_text(path, f"--{name}", error=KernelError)
    return input_vectors(json_value(text, f"--{name}", "[[1, 0], [0.6, 0.8]]"), name=f"--{name}")


#: the most layers: the kernels are iterated layer by layer
MAX_DEPTH = 100_000


def _kernel(args, act):
    from nntheory.numerics import MLPKernel

    integer(args.depth, "depth", lo=0 if args.convention == "neural-tangents" else 1, hi=MAX_DEPTH,
            why="the kernels are iterated layer by layer")

    W = number(args.W_std, "W-std", positive=True)
    b = number(args.b_std, "b-std", nonnegative=True)
    if args.convention == "neural-tangents":
        if args.depth < 0:
            raise SpecError(f"--depth: the number of nonlinearities must be >= 0, got {args.depth}.")
        if args.lambda_W != "1" or args.lambda_b != "1":
            raise SpecError("--lambda-W/--lambda-b: only with --convention pdlt (neural-tangents fixes lambda = sigma^2).")
        return MLPKernel.neural_tangents(act, W_std=W, b_std=b, depth=args.depth), W, b
    if args.depth < 1:
        raise SpecError(f"--depth: the number of layers must be >= 1, got {args.depth}.")
    k = MLPKernel(act, args.depth, W * W, b * b, number(args.lambda_W, "lambda-W", nonnegative=True),
                  number(args.lambda_b, "lambda-b", nonnegative=True))
    return k, W, b


def run(args) -> int:
    """Print the NNGP and NTK between the inputs as JSON, with the settings."""
    import numpy as np

    from nntheory._version import __version__
    from nntheory.theory import activation

    act = activation(args.activation)
    k, W, b = _kernel(args, act)
    x1 = read_inputs(args.inputs, "inputs")
    x2 = None if args.inputs2 is None else read_inputs(args.inputs2, "inputs2")
    if x2 is not None and x2.shape[1] != x1.shape[1]:
        raise KernelError(f"--inputs2: inputs have dimension {x2.shape[1]}, but --inputs have {x1.shape[1]}.")
    out = k(x1, x2)
    nngp, ntk = np.asarray(out.nngp), np.asarray(out.ntk)
    if not (np.all(np.isfinite(nngp)) and np.all(np.isfinite(ntk))):
        raise KernelError("the kernels are not finite for these inputs and hyperparameters (overflow at this depth?).")
    settings = {"nntheory": __version__, "activation": act.name, "activation_expr": str(act.expr), "convention": args.convention,
                "W_std": W, "b_std": b, "depth": args.depth, "layers": k.depth, "C_W": k.C_W, "C_b": k.C_b,
                "lambda_W": k.lambda_W, "lambda_b": k.lambda_b,
                "n_inputs": [int(x1.shape[0]), int((x1 if x2 is None else x2).shape[0])],
                "input_dim": int(x1.shape[1]), "gram": "x.x'/n_0"}
    write_json({"nngp": nngp.tolist(), "ntk": ntk.tolist(), "settings": settings})
    return 0
