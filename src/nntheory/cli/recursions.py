"""``nntheory recursions``: per-layer statistics from the compiled recursions."""

from __future__ import annotations

import ast
import json
import math
import sys

from nntheory.errors import KernelError, SpecError


def parse_number(text: str, name: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    """A number from user text (``'0.5'``, ``'pi/4'``, ``'2**-1'``), parsed safely, never with eval."""
    import sympy

    from nntheory.theory._activations import _node_to_sympy
    from nntheory.errors import ActivationError

    try:
        val = _node_to_sympy(ast.parse(str(text).strip(), mode="eval"), str(text).strip())
    except (SyntaxError, ActivationError):
        raise SpecError(f"--{name}: expected a number, got {text!r}.") from None
    if val.free_symbols or not val.is_real:
        raise SpecError(f"--{name}: expected a real number, got {text!r}.")
    x = float(sympy.N(val, 17))
    if not math.isfinite(x):
        raise SpecError(f"--{name}: expected a finite number, got {text!r}.")
    if positive and x <= 0:
        raise SpecError(f"--{name}: must be > 0, got {text!r}.")
    if nonnegative and x < 0:
        raise SpecError(f"--{name}: must be >= 0, got {text!r}.")
    return x


def parse_gram(text: str):
    import numpy as np

    try:
        G = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KernelError(f"--gram: not valid JSON ({exc.msg}); expected e.g. '[[1,0.6],[0.6,1.5]]'.") from None
    try:
        G = np.asarray(G, dtype=float)
    except (TypeError, ValueError):
        raise KernelError("--gram: expected a square JSON list of lists of numbers.") from None
    if G.ndim != 2 or G.shape[0] != G.shape[1] or G.shape[0] < 1:
        raise KernelError(f"--gram: expected a square matrix, got shape {G.shape}.")
    if not np.all(np.isfinite(G)) or not np.allclose(G, G.T, rtol=0, atol=0):
        raise KernelError("--gram: the matrix must be finite and exactly symmetric.")
    if np.linalg.eigvalsh(G).min() <= 0:
        raise KernelError(f"--gram: the matrix must be positive definite (smallest eigenvalue {np.linalg.eigvalsh(G).min():.3g}); distinct, non-collinear inputs.")
    return G


def _hyper(args, act):
    from nntheory.theory import criticality

    if str(args.C_W).strip().lower() == "critical":
        crit = criticality(act)
        C_W = float(crit.C_W)
        C_b = float(crit.C_b) if args.C_b is None else parse_number(args.C_b, "C_b", nonnegative=True)
        return C_W, C_b, crit
    C_W = parse_number(args.C_W, "C_W", positive=True)
    C_b = 0.0 if args.C_b is None else parse_number(args.C_b, "C_b", nonnegative=True)
    return C_W, C_b, None


def run_recursions(args) -> int:
    import numpy as np

    from nntheory.theory import activation

    if args.depth is None or args.depth < 1:
        raise SpecError(f"--depth: must be an int >= 1, got {args.depth}.")
    act = activation(args.activation)
    C_W, C_b, crit = _hyper(args, act)
    lam_b = parse_number(args.lambda_b, "lambda-b", nonnegative=True)
    lam_W = parse_number(args.lambda_W, "lambda-W", nonnegative=True)
    if args.gram is not None:
        G = parse_gram(args.gram)
        single = False
    else:
        x2 = parse_number(args.x2 if args.x2 is not None else "1", "x2", positive=True)
        G = np.array([[x2]])
        single = True
    ratios = None
    widths = None
    if args.widths:
        widths = [int(parse_number(w, "widths", positive=True)) for w in args.widths.split(",")]
        if len(widths) != args.depth - 1 or any(w < 1 for w in widths):
            raise SpecError(f"--widths: expected {args.depth - 1} positive widths n_1..n_(L-1), got {args.widths!r}.")
        ratios = np.array([1.0] + [widths[i] / widths[i - 1] for i in range(1, len(widths))])

    import jax

    jax.config.update("jax_enable_x64", True)
    from nntheory.numerics import compile_recursion
    from nntheory.theory import finite_width_recursion

    m = G.shape[0]
    if getattr(args, "order", None) is not None or getattr(args, "width", None) is not None:
        return _run_orders(args, act, G, single, C_W, C_b, crit, widths)
    comp = compile_recursion(finite_width_recursion(act, m))
    out = {k: np.asarray(v) for k, v in comp(G, depth=args.depth, C_W=C_W, C_b=C_b, lambda_W=lam_W, lambda_b=lam_b, ratios=ratios).items()}
    pairs = [(a, b) for a in range(m) for b in range(a, m)]
    layers = []
    for l in range(args.depth):
        if single:
            row = {"l": l + 1, **{k: float(out[k][l].reshape(-1)[0]) for k in ("K", "V", "K1", "Theta")}}
        else:
            row = {"l": l + 1, "K": out["K"][l].tolist(), "K1": out["K1"][l].tolist(), "Theta": out["Theta"][l].tolist(),
                   "V": [[float(out["V"][l][p[0], p[1], q[0], q[1]]) for q in pairs] for p in pairs]}
        layers.append(row)
    settings = {
        "activation": act.name, "activation_expr": str(act.expr), "C_W": C_W, "C_b": C_b, "depth": args.depth,
        "lambda_b": lam_b, "lambda_W": lam_W, "widths": widths, "dtype": "float64",
        "conventions": "PDLT: W ~ N(0, C_W/n_{l-1}); V normalised so Cov(z_i^2, z_j^2) = V/n_{l-1}; <z z> = K + K1/n_{l-1}; NTK factors lambda_b, lambda_W/n_{l-1}",
    }
    _input_settings(settings, crit, G, single)
    if not single:
        settings["V_pairs"] = [list(p) for p in pairs]
    if args.format == "json":
        print(json.dumps({"settings": settings, "layers": layers}, sort_keys=True))
    else:
        _table(settings, layers, single)
    return 0


def _input_settings(settings: dict, crit, G, single: bool) -> None:
    """The criticality point and the input (``x2`` or ``gram``) recorded in ``settings``."""
    if crit is not None:
        settings["criticality"] = {"class": crit.universality_class, "K_star": None if crit.K_star is None else float(crit.K_star), "exact": crit.exact}
    if single:
        settings["x2"] = float(G[0, 0])
    else:
        settings["gram"] = G.tolist()


def _table(settings, layers, single) -> None:
    print(f"# {settings['activation']}  C_W={settings['C_W']!r}  C_b={settings['C_b']!r}  depth={settings['depth']}", file=sys.stdout)
    if single:
        print(f"{'l':>3} {'K':>24} {'V':>24} {'K1':>24} {'Theta':>24}")
        for r in layers:
            print(f"{r['l']:>3} {r['K']!r:>24} {r['V']!r:>24} {r['K1']!r:>24} {r['Theta']!r:>24}")
    else:
        for r in layers:
            print(f"l={r['l']}")
            for k in ("K", "K1", "Theta", "V"):
                print(f"  {k} = {r[k]}")


def _series_ratio(num, den, order):
    """Coefficients of num(e) / den(e)^2 to e^order (power series; den[0] != 0)."""
    import numpy as np

    d2 = np.convolve(den, den)[: order + 1]
    out = np.zeros(order + 1)
    for k in range(order + 1):
        out[k] = (num[k] - sum(out[j] * d2[k - j] for j in range(k))) / d2[0]
    return out


def _run_orders(args, act, G, single, C_W, C_b, crit, widths) -> int:
    """``--order k --width n``: all kernel cumulants S(m, j), j <= k, from the diagram recursion,
    and the finite-width predictions at width n truncated at 1/n^k."""
    import numpy as np

    from nntheory.diagrams import diagram_recursion, statistic_name
    from nntheory.numerics import compile_recursion

    order = args.order
    if order is None or isinstance(order, bool) or order < 0:
        raise SpecError(f"--order: must be an int >= 0 (with --width), got {order}.")
    if order > 4:
        raise SpecError(f"--order: at most 4 here (the number of diagrams grows fast), got {order}.")
    if args.width is None:
        raise SpecError("--width: required with --order (the hidden width n of the predictions).")
    if widths is not None:
        raise SpecError("--widths: not supported with --order; the diagram predictions use equal widths --width.")
    n = parse_number(args.width, "width", positive=True)
    m = G.shape[0]
    rec = diagram_recursion(act, order, m)
    out = {k: np.asarray(v) for k, v in compile_recursion(rec)(G, depth=args.depth, C_W=C_W, C_b=C_b).items()}
    eps = 1.0 / n
    layers = []
    for l in range(args.depth):
        stats = {}
        for s in rec.statistics:
            v = out[s.name][l]
            stats[s.name] = float(v.reshape(-1)[0]) if single else v.tolist()
        pred = {"mean": [], "var_G": [], "kurtosis": []}
        for a in range(m):
            mean = np.array([out[statistic_name(1, j)][l][a, a] for j in range(order + 1)])
            var = np.array([0.0] + [out[statistic_name(2, j)][l][(a,) * 4] for j in range(1, order + 1)])
            kurt = 3 * _series_ratio(var, mean, order)
            powers = eps ** np.arange(order + 1)
            pred["mean"].append(float(mean @ powers))
            pred["var_G"].append(float(var @ powers))
            pred["kurtosis"].append(float(kurt @ powers))
        if single:
            pred = {k: v[0] for k, v in pred.items()}
        layers.append({"l": l + 1, **stats, "predictions": pred})
    settings = {
        "activation": act.name, "activation_expr": str(act.expr), "C_W": C_W, "C_b": C_b, "depth": args.depth,
        "order": order, "width": n, "dtype": "float64", "statistics": list(rec.names),
        "conventions": ("PDLT, equal widths n: kappa_m(G) = sum_k S(m,k)/n^k for the stochastic kernel G of a layer "
                        "(K, K1, K2: <z z>; V, V2: Cov(z_i^2, z_j^2); U: kappa_3); predictions truncated at 1/n^order: "
                        "mean = <z^2>, var_G = Var(G), kurtosis = (<z^4> - 3<z^2>^2)/<z^2>^2 = 3 Var(G)/<z^2>^2"),
    }
    _input_settings(settings, crit, G, single)
    if args.format == "json":
        print(json.dumps({"settings": settings, "layers": layers}, sort_keys=True))
    else:
        print(f"# {act.name}  C_W={C_W!r}  C_b={C_b!r}  depth={args.depth}  order={order}  width={n:g}")
        print(f"{'l':>3} {'mean':>22} {'var_G':>22} {'kurtosis':>22}")
        for row in layers:
            p = row["predictions"]
            print(f"{row['l']:>3} {p['mean']!r:>22} {p['var_G']!r:>22} {p['kurtosis']!r:>22}")
    return 0
