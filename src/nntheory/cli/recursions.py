"""``nntheory recursions``: per-layer statistics from the compiled recursions."""

from __future__ import annotations

import sys

from nntheory.cli._args import ACTIVATION_HELP, integer, json_text, json_value, number, write_json
from nntheory.errors import SpecError

HELP = "per-layer K, V, K1, Theta (or every cumulant to 1/n^k) from the compiled recursions"
USES_JAX = True
#: the most layers (the compiled recursion's own limit)
MAX_DEPTH = 100_000

CONVENTIONS = ("PDLT: W ~ N(0, C_W/n_{l-1}); V normalised so Cov(z_i^2, z_j^2) = V/n_{l-1}; <z z> = K + K1/n_{l-1}; "
               "NTK factors lambda_b, lambda_W/n_{l-1}")
ORDER_CONVENTIONS = ("PDLT, equal widths n: kappa_m(G) = sum_k S(m,k)/n^k for the stochastic kernel G of a layer "
                     "(K, K1, K2: <z z>; V, V2: Cov(z_i^2, z_j^2); U6: kappa_3, the six-point vertex); predictions truncated at 1/n^order: "
                     "mean = <z^2>, var_G = Var(G), kurtosis = (<z^4> - 3<z^2>^2)/<z^2>^2 = 3 Var(G)/<z^2>^2")


#: the statistics --statistics accepts (order of the JSON keys in the help); default: today's four
STATISTICS = ("K", "K1", "V", "Theta", "Theta1", "A", "B", "D", "F", "P", "Q", "R", "S", "T", "U",
              "Theta2", "K2", "V2", "U6", "D2", "F2", "D4", "F4")
#: the 1/n^2 statistics of the NTK mean (nntheory.diagrams.ntk_mean_recursion; Gaussian weights)
SECOND_ORDER = ("Theta2", "K2", "V2", "U6", "D2", "F2", "D4", "F4")
DEFAULT_STATISTICS = ("K", "V", "K1", "Theta")
#: PDLT's ddNTK tensors (smooth activations)
DDNTK = ("R", "S", "T", "U")
#: the weight initialisations --init accepts now, and the ones named but not implemented
INITS = ("gaussian", "orthogonal")
INITS_NOT_YET = ()
#: what --init orthogonal assumes (recorded in the JSON settings)
ORTHOGONAL_ASSUMPTIONS = ("W^(1) ~ N(0, C_W/n_0) (Gaussian first layer); W^(l) = sqrt(C_W) O, O Haar-orthogonal, for l >= 2: "
                          "square hidden layers n_1 = .. = n_L assumed (r = 1); order 1/n with the O(n) Weingarten "
                          "terms (none for D, A, Theta1, P, Q, R, S, T, U: their Gaussian updates on the orthogonal statistics)")
NTK_CONVENTIONS = ("NTK sector (n = n_{l-1}, dH = H - E[H]): E[H_ij;ab] = d_ij (Theta + Theta1/n); "
                   "E[dH_i1i2;a1a2 z_i3;a3 z_i4;a4] = (d12 d34 D[a1][a2][a3][a4] + d13 d24 F[a1][a3][a2][a4] "
                   "+ d14 d23 F[a1][a4][a2][a3])/n; E[dH_i1i2;a1a2 dH_i3i4;a3a4] = (d12 d34 A[a1][a2][a3][a4] "
                   "+ d13 d24 B[a1][a3][a2][a4] + d14 d23 B[a1][a4][a2][a3])/n; P, Q: the dNTK's second-derivative piece "
                   "S_i0i1i2;d0d1d2 = d2z_i0[g_i1, g_i2] (g = Lambda grad z), E[S_i0i1i2 z_i3;d3] = "
                   "(d01 d23 P[d0][d1][d2][d3] + d02 d13 P[d0][d2][d1][d3] + d03 d12 Q[d0][d1][d2][d3])/n; "
                   "dNTK_moments: of PDLT's dNTK dH_i0i1i2 = S_i1i0i2 + S_i2i0i1 (the NTK's derivative along the gradient; "
                   "i != k): iik_k = n E[dH_iik z_k] = P[d1][d0][d2][d3] + Q[d2][d0][d1][d3] (PDLT's P), "
                   "ikk_i = n E[dH_ikk z_i] = P[d1][d2][d0][d3] + P[d2][d1][d0][d3] (PDLT's Q), iii_i = n E[dH_iii z_i] = "
                   "iik_k[d0][d1][d2][d3] + iik_k[d0][d2][d1][d3] + ikk_i[d0][d1][d2][d3] (one input: P + Q, 2P, 2(2P + Q)); several inputs: "
                   "D, F, A, B, P, Q are nested lists in exactly this index order, K, K1, Theta, Theta1 [a][b], "
                   "V [pair][pair] over V_pairs; ddNTK: ddIH_i0i1i2i3 = d3z_i0[g_i1, g_i2, g_i3], "
                   "ddIIH_i1i2i3i4 = d2z_i1[g_i3, Lambda d2z_i2[g_i4]] (g = Lambda grad z; inputs a0..a3 in the same slot "
                   "order), E[ddIH] = (d01 d23 R[a0][a1][a2][a3] + d02 d13 R[a0][a2][a1][a3] + d03 d12 R[a0][a3][a1][a2])/n, "
                   "E[ddIIH] = (d12 d34 S + d13 d24 T + d14 d23 U)/n (S, T, U [a1][a2][a3][a4]); ddNTK_moments (i != k): "
                   "ddI_iikk = n E[ddIH_iikk] = R, ddI_ikik = R[a0][a2][a1][a3], ddI_ikki = R[a0][a3][a1][a2], ddI_iiii = "
                   "their sum (3R for one input), ddII_iikk = S, ddII_ikik = T, ddII_ikki = U, ddII_iiii = S + T + U")


def add_arguments(r) -> None:
    """The flags of ``nntheory recursions``."""
    r.add_argument("--activation", required=True, help=ACTIVATION_HELP)
    r.add_argument("--C_W", "--C-W", dest="C_W", default="critical", help="weight variance (> 0), or 'critical' (default)")
    r.add_argument("--C_b", "--C-b", dest="C_b", default=None,
                   help="bias variance (>= 0); default: the critical value with --C_W critical, else 0")
    r.add_argument("--depth", type=int, required=True, help="number of layers L >= 1")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--x2", default=None, help="single input: x^2 = |x|^2/n_0 (> 0); default 1")
    g.add_argument("--gram", default=None, help="several inputs: Gram matrix x_a.x_b/n_0 as JSON, e.g. '[[1,0.6],[0.6,1.5]]'")
    r.add_argument("--lambda-b", dest="lambda_b", default="1", help="NTK bias learning-rate factor (>= 0)")
    r.add_argument("--lambda-W", dest="lambda_W", default="1", help="NTK weight learning-rate factor (>= 0)")
    r.add_argument("--widths", default=None,
                   help="hidden widths n_1..n_{L-1}, comma separated (only their ratios enter); default equal")
    r.add_argument("--order", type=int, default=None,
                   help="finite-width order k: every kernel cumulant to 1/n^k from the Feynman diagrams, and predictions at --width")
    r.add_argument("--width", default=None, help="with --order: the hidden width n (equal widths) of the predictions")
    r.add_argument("--statistics", default=None,
                   help=f"comma-separated statistics per layer, from {','.join(STATISTICS)} (default: K,V,K1,Theta); "
                        "Theta1 is the 1/n NTK mean, D, F the NTK-preactivation and A, B the NTK-variance tensors (PDLT ch. 8), "
                        "P, Q the tensors of the dNTK's second-derivative piece (smooth activations; adds dNTK_moments, "
                        "the moments of PDLT's dNTK), "
                        "R, S, T, U the ddNTK means (PDLT ch. 11; smooth activations; adds ddNTK_moments); "
                        "Theta2 the NTK mean at 1/n^2 (E[H_ii] = Theta + Theta1/n + Theta2/n^2; Gaussian weights) with "
                        "what its recursion needs: K2, V2, U6 (kernel sector at 1/n^2), D2, F2 (1/n^2 parts of D, F), "
                        "D4, F4 (six-point NTK-preactivation vertices); from the Feynman-diagram engine")
    r.add_argument("--init", default="gaussian",
                   help="weight initialisation: gaussian (default) or orthogonal (Gaussian first layer, then sqrt(C_W) O "
                        "with O Haar-orthogonal; square hidden layers assumed; every statistic)")
    r.add_argument("--derivation", choices=("hand", "diagrams"), default=None,
                   help="where the NTK-sector updates come from: the hand-derived recursions (default) or the Feynman-"
                        "diagram engine (nntheory.diagrams.ntk_diagram_recursion; the two are equal symbolically)")
    r.add_argument("--format", choices=("json", "table"), default="json")


def hyperparameters(args, act):
    """``(C_W, C_b, criticality or None)`` from ``--C_W`` (a number or 'critical') and ``--C_b``."""
    from nntheory.theory import criticality

    if str(args.C_W).strip().lower() == "critical":
        try:
            crit = criticality(act)
        except SpecError as exc:  # no critical point: name the option that asked for one
            raise SpecError(f"--C_W critical: {str(exc).removeprefix('criticality: ')}") from None
        C_b = float(crit.C_b) if args.C_b is None else number(args.C_b, "C_b", nonnegative=True)
        return float(crit.C_W), C_b, crit
    C_W = number(args.C_W, "C_W", positive=True)
    C_b = 0.0 if args.C_b is None else number(args.C_b, "C_b", nonnegative=True)
    return C_W, C_b, None


def _inputs(args):
    """The Gram matrix and whether it is a single input (``--x2``)."""
    import numpy as np

    from nntheory.numerics import gram_matrix

    if args.gram is not None:
        return gram_matrix(json_value(args.gram, "--gram", "'[[1,0.6],[0.6,1.5]]'"), name="--gram"), False
    x2 = number(args.x2 if args.x2 is not None else "1", "x2", positive=True)
    return np.array([[x2]]), True


def _ratios(args):
    """``(widths, ratios)`` from ``--widths`` (``None, None`` for equal widths)."""
    import numpy as np

    if not args.widths:
        return None, None
    widths = [int(number(w, "widths", positive=True)) for w in args.widths.split(",")]
    if len(widths) != args.depth - 1 or any(w < 1 for w in widths):
        raise SpecError(f"--widths: expected {args.depth - 1} positive widths n_1..n_(L-1), got {args.widths!r}.")
    return widths, np.array([1.0] + [widths[i] / widths[i - 1] for i in range(1, len(widths))])


def _statistics(args) -> tuple[str, ...] | None:
    """The statistics asked for with ``--statistics`` (``None``: the default four, output unchanged)."""
    if args.statistics is None:
        return None
    names = tuple(n.strip() for n in str(args.statistics).split(","))
    known = ", ".join(STATISTICS)
    for n in names:
        if n not in STATISTICS:
            raise SpecError(f"--statistics: unknown statistic {n!r}; known statistics: {known}.")
    if len(set(names)) != len(names):
        raise SpecError(f"--statistics: {args.statistics!r} names a statistic twice.")
    return names


def _init(args) -> str:
    init = str(args.init).strip().lower()
    if init in INITS_NOT_YET:
        raise SpecError(f"--init {init}: not implemented yet; only --init gaussian is available.")
    if init not in INITS:
        raise SpecError(f"--init: unknown value {args.init!r}; choose {' or '.join(INITS)}.")
    return init


def _check_orthogonal(args) -> None:
    """What ``--init orthogonal`` cannot do: the diagram ``--order`` predictions (unequal ``--widths``: in
    :func:`run`, once they are parsed)."""
    if args.order is not None or args.width is not None:
        raise SpecError("--init orthogonal: not supported with --order/--width (the diagram predictions are for "
                        "Gaussian weights); use --statistics or --init gaussian.")


def run(args) -> int:
    """Compile the recursion of the activation and print its statistics layer by layer."""
    import numpy as np

    from nntheory.numerics import compile_recursion
    from nntheory.theory import activation, finite_width_recursion, ntk_recursion

    integer(args.depth, "depth", lo=1, hi=MAX_DEPTH, why="the recursion is iterated layer by layer")
    names = _statistics(args)
    init = _init(args)
    if init == "orthogonal":
        _check_orthogonal(args)
    act = activation(args.activation)
    C_W, C_b, crit = hyperparameters(args, act)
    lam_b = number(args.lambda_b, "lambda-b", nonnegative=True)
    lam_W = number(args.lambda_W, "lambda-W", nonnegative=True)
    G, single = _inputs(args)
    widths, ratios = _ratios(args)
    if init == "orthogonal" and widths and len(set(widths)) > 1:
        raise SpecError(f"--widths: --init orthogonal assumes square hidden layers (equal widths), got {args.widths!r}.")
    if args.order is not None or args.width is not None:
        if names is not None:
            raise SpecError("--statistics: not supported with --order (the diagram predictions print their own cumulants).")
        return _run_orders(args, act, G, single, C_W, C_b, crit, widths)
    m = G.shape[0]
    ntk = names is not None and not set(names) <= set(DEFAULT_STATISTICS)
    dntk = names is not None and bool({"P", "Q"} & set(names))
    if dntk and not act.is_smooth:
        raise SpecError(f"--statistics: P, Q (the dNTK) need a smooth activation (sigma'' a function); "
                        f"{act.name!r} has kinks.")
    ddntk = names is not None and bool(set(DDNTK) & set(names))
    if ddntk and not act.is_smooth:
        raise SpecError(f"--statistics: R, S, T, U (the ddNTK) need a smooth activation (second and third derivatives "
                        f"as functions); {act.name!r} has kinks.")
    derivation = getattr(args, "derivation", None)
    second = names is not None and bool(set(SECOND_ORDER) & set(names))
    if second and derivation == "hand":
        raise SpecError(f"--derivation hand: the 1/n^2 statistics ({', '.join(SECOND_ORDER)}) come from the Feynman-"
                        "diagram engine only; drop --derivation or use --derivation diagrams.")
    derivation = derivation or "hand"
    if second:
        if init != "gaussian":
            raise SpecError(f"--init {init}: the 1/n^2 statistics {', '.join(SECOND_ORDER)} are generated for Gaussian "
                            "weights only (the higher Weingarten terms are not in the engine).")
        other = sorted(set(names) - set(SECOND_ORDER) - {"K", "V", "K1", "Theta", "Theta1", "D", "F"})
        if other:
            raise SpecError(f"--statistics: {', '.join(other)} cannot be asked for together with the 1/n^2 statistics "
                            f"({', '.join(SECOND_ORDER)}); run them separately.")
        if m != 1:
            raise SpecError(f"--gram: the 1/n^2 statistics ({', '.join(SECOND_ORDER)}) are generated for one input "
                            f"(--x2) only, got {m} inputs: with several the six-index tensors D4, F4 take tens of minutes.")
        from nntheory.diagrams import ntk_mean_recursion

        rec = ntk_mean_recursion(act, m)
        derivation = "diagrams"
    elif derivation == "diagrams":
        from nntheory.diagrams import ntk_diagram_recursion

        rec = ntk_diagram_recursion(act, m, dntk=dntk or ddntk, ddntk=ddntk, init=init)
    else:
        rec = (ntk_recursion(act, m, dntk=dntk or ddntk, ddntk=ddntk, init=init) if ntk
               else finite_width_recursion(act, m, init=init))
    comp = compile_recursion(rec)
    out = {k: np.asarray(v) for k, v in comp(G, depth=args.depth, C_W=C_W, C_b=C_b, lambda_W=lam_W, lambda_b=lam_b,
                                              ratios=ratios).items()}
    pairs = [(a, b) for a in range(m) for b in range(a, m)]
    layers = [_layer_row(out, l, pairs, single, names or DEFAULT_STATISTICS) for l in range(args.depth)]
    settings = {"activation": act.name, "activation_expr": str(act.expr), "C_W": C_W, "C_b": C_b, "depth": args.depth,
                "lambda_b": lam_b, "lambda_W": lam_W, "widths": widths, "dtype": "float64", "conventions": CONVENTIONS}
    if derivation == "diagrams":
        settings["derivation"] = "diagrams"
    if names is not None:
        settings.update({"statistics": list(names), "init": init, "ntk_conventions": NTK_CONVENTIONS})
    if init == "orthogonal":
        settings.update({"init": init, "init_assumptions": ORTHOGONAL_ASSUMPTIONS})
    _input_settings(settings, crit, G, single)
    if not single:
        settings["V_pairs"] = [list(p) for p in pairs]
    json_text({"layers": layers})  # every number finite, in either format (names the layer and statistic)
    if args.format == "json":
        write_json({"settings": settings, "layers": layers})
    else:
        _table(settings, layers, single, names or DEFAULT_STATISTICS)
    return 0


def _layer_row(out: dict, l: int, pairs, single: bool, names) -> dict:
    """One layer: scalars (single input) or nested lists indexed by inputs (``V`` by input pairs)."""
    if single:
        row = {"l": l + 1, **{k: float(out[k][l].reshape(-1)[0]) for k in names}}
    else:
        row = {"l": l + 1}
        for k in names:
            if k == "V":
                row[k] = [[float(out["V"][l][p[0], p[1], q[0], q[1]]) for q in pairs] for p in pairs]
            else:
                row[k] = out[k][l].tolist()
    if "P" in out and ("P" in names or "Q" in names):
        from nntheory.validation import dntk_moments_from_pq

        mom = dntk_moments_from_pq(out["P"][l], out["Q"][l])  # PDLT's dNTK (the NTK's derivative), not the piece S
        mom = {k.removeprefix("dNTK_"): v for k, v in mom.items()}
        row["dNTK_moments"] = ({k: float(v.ravel()[0]) for k, v in mom.items()} if single
                               else {k: v.tolist() for k, v in mom.items()})
    if "R" in out and set(DDNTK) & set(names):
        from nntheory.theory import ddntk_moments

        if single:
            row["ddNTK_moments"] = ddntk_moments(*(float(out[k][l].reshape(-1)[0]) for k in DDNTK))
        else:
            row["ddNTK_moments"] = {k: v.tolist() for k, v in ddntk_moments(*(out[k][l] for k in DDNTK)).items()}
    return row


def _input_settings(settings: dict, crit, G, single: bool) -> None:
    """The criticality point and the input (``x2`` or ``gram``) recorded in ``settings``."""
    if crit is not None:
        settings["criticality"] = {"class": crit.universality_class,
                                   "K_star": None if crit.K_star is None else float(crit.K_star), "exact": crit.exact}
    if single:
        settings["x2"] = float(G[0, 0])
    else:
        settings["gram"] = G.tolist()


def _table(settings, layers, single, names) -> None:
    print(f"# {settings['activation']}  C_W={settings['C_W']!r}  C_b={settings['C_b']!r}  depth={settings['depth']}")
    if single:
        print(f"{'l':>3} " + " ".join(f"{k:>24}" for k in names))
        for r in layers:
            print(f"{r['l']:>3} " + " ".join(f"{r[k]!r:>24}" for k in names))
            if "dNTK_moments" in r:
                print(f"    dNTK_moments: {r['dNTK_moments']}")
            if "ddNTK_moments" in r:
                print(f"    ddNTK_moments: {r['ddNTK_moments']}")
        return
    order = [k for k in ("K", "K1", "Theta", "V") if k in names] + [k for k in names if k not in ("K", "K1", "Theta", "V")]
    for r in layers:
        print(f"l={r['l']}")
        for k in order + [m for m in ("dNTK_moments", "ddNTK_moments") if m in r]:
            print(f"  {k} = {r[k]}")


def _run_orders(args, act, G, single, C_W, C_b, crit, widths) -> int:
    """``--order k --width n``: the library's :func:`~nntheory.numerics.finite_width_predictions`, printed."""
    from nntheory.numerics import finite_width_predictions

    if args.order is None or args.order < 0:
        raise SpecError(f"--order: must be an int >= 0 (with --width), got {args.order}.")
    if args.order > 4:
        raise SpecError(f"--order: at most 4 here (the number of diagrams grows fast), got {args.order}.")
    if args.width is None:
        raise SpecError("--width: required with --order (the hidden width n of the predictions).")
    if widths is not None:
        raise SpecError("--widths: not supported with --order; the diagram predictions use equal widths --width.")
    n = number(args.width, "width", positive=True)
    res = finite_width_predictions(act, G, order=args.order, width=n, depth=args.depth, C_W=C_W, C_b=C_b)
    layers = []
    for l, pred in enumerate(res.predictions):
        stats = {k: (float(v[l].reshape(-1)[0]) if single else v[l].tolist()) for k, v in res.statistics.items()}
        layers.append({"l": l + 1, **stats, "predictions": {k: v[0] for k, v in pred.items()} if single else pred})
    settings = {"activation": act.name, "activation_expr": str(act.expr), "C_W": C_W, "C_b": C_b, "depth": args.depth,
                "order": args.order, "width": n, "dtype": "float64", "statistics": list(res.names),
                "conventions": ORDER_CONVENTIONS}
    _input_settings(settings, crit, G, single)
    json_text({"layers": layers})  # every number finite, in either format
    if args.format == "json":
        write_json({"settings": settings, "layers": layers})
        return 0
    print(f"# {act.name}  C_W={C_W!r}  C_b={C_b!r}  depth={args.depth}  order={args.order}  width={n:g}")
    print(f"{'l':>3} {'mean':>22} {'var_G':>22} {'kurtosis':>22}")
    for row in layers:
        p = row["predictions"]
        print(f"{row['l']:>3} {p['mean']!r:>22} {p['var_G']!r:>22} {p['kurtosis']!r:>22}", file=sys.stdout)
    return 0
