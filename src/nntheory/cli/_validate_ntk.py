"""``nntheory validate ntk``: the NTK-sector recursion (Theta, Theta1, A, B, D, F, dNTK moments) vs Monte Carlo.

``--init orthogonal`` compares the orthogonal recursions with ensembles of Haar-orthogonal networks (Gaussian first
layer, square layers after it). ``--saturation-depth L`` runs the
depth study instead: :func:`~nntheory.validation.finite_width._ntk_saturation.ntk_saturation`, Gaussian vs orthogonal,
theory to depth ``L`` with Monte Carlo points, written as ``ntk-saturation.{png,csv,json}``. ``--trained`` trains
ensembles instead and compares the ``1/n`` correction of their mean prediction with
:func:`~nntheory.numerics.finite_width._training.trained_mean_prediction`
(:func:`~nntheory.validation.finite_width._ntk_training.trained_ensemble_mean`).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

from nntheory._io import atomic_write
from nntheory.cli._args import int_list, json_text, number, write_manifest
from nntheory.errors import SpecError

#: defaults of the ntk job: quick (about a minute per configuration on 2 cores)
NTK_JOB_DEFAULTS = {"depth": 3, "widths": (32, 64, 128), "n_nets": 200, "activations": ("tanh", "erf", "gelu")}
_INITS = ("gaussian", "orthogonal")


def _settings(args):
    """Checked ``(activations, depth, widths, n_nets, n_inputs, init, statistics, factor, C_b)``, before any work."""
    from nntheory.validation.finite_width._ntk_validate import MAX_NETS, NTK_VALIDATE_STATISTICS

    for opt, val in (("--steps", args.steps), ("--arch", args.arch)):
        if val is not None:
            raise SpecError(f"{opt}: only for 'validate training' and 'validate equivariance'.")
    if args.full:
        raise SpecError("--full: only for the main job (validate finite-width), not 'validate ntk'.")
    init = args.init or "gaussian"
    if init not in _INITS:
        raise SpecError(f"--init: must be one of {', '.join(_INITS)}, got {init!r}.")
    stats = tuple(s.strip() for s in args.statistics.split(",")) if args.statistics else NTK_VALIDATE_STATISTICS
    bad = [s for s in stats if s not in NTK_VALIDATE_STATISTICS]
    if bad:
        raise SpecError(f"--statistics: unknown statistic {bad[0]!r}; choose from {','.join(NTK_VALIDATE_STATISTICS)}.")
    depth = NTK_JOB_DEFAULTS["depth"] if args.depth is None else args.depth
    if not 1 <= depth <= 100:
        raise SpecError(f"--depth: must be in 1..100, got {depth}.")
    widths = int_list(args.widths, "widths") if args.widths else NTK_JOB_DEFAULTS["widths"]
    if len(set(widths)) < 2 or min(widths) < 8 or max(widths) > 4096:
        raise SpecError(f"--widths: at least two distinct widths in 8..4096, got {list(widths)}.")
    n_nets = NTK_JOB_DEFAULTS["n_nets"] if args.n_nets is None else args.n_nets
    if not 2 <= n_nets <= MAX_NETS:
        raise SpecError(f"--n-nets: must be in 2..{MAX_NETS}, got {n_nets}.")
    n_inputs = 1 if args.inputs is None else args.inputs
    if n_inputs not in (1, 2):
        raise SpecError(f"--inputs: 1 or 2, got {n_inputs}.")
    parts = args.off.split(",")
    if len(parts) != 2:
        raise SpecError(f"--off-critical: expected two numbers 'factor,C_b', got {args.off!r}.")
    fac, cb_off = number(parts[0], "off-critical", positive=True), number(parts[1], "off-critical", nonnegative=True)
    _check_size(depth, widths, n_inputs)
    return (args.activation or list(NTK_JOB_DEFAULTS["activations"]), depth, tuple(widths), n_nets, n_inputs, init,
            stats, fac, cb_off)


def _check_size(depth, widths, n_inputs) -> None:
    """Refuse a width/depth whose single network would not fit the per-chunk memory limit (estimate in the message)."""
    from nntheory.validation.finite_width._ntk_monte_carlo import _MAX_BYTES

    sizes = (16,) + (max(widths),) * depth
    n_params = sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(depth))
    per = 8 * (8 * n_params + 4 * 8 * n_inputs * sum(sizes) * (depth + 1))
    if per > _MAX_BYTES:
        raise SpecError(f"--widths: width {max(widths)} at depth {depth} needs about {per / 2**30:.2f} GiB per network "
                        f"(limit {_MAX_BYTES / 2**30:.0f} GiB); use smaller widths or --depth.")


#: the saturation study's defaults: tanh at criticality, Monte Carlo at these depths, one width
SATURATION_DEFAULTS = {"activation": "tanh", "mc_depths": (2, 5, 10, 20, 30), "mc_width": 128, "n_nets": 200}


def run_saturation_job(args, L: int) -> int:
    """``--saturation-depth L``: Gaussian vs orthogonal normalised NTK tensors to depth ``L`` with Monte Carlo points."""
    import jax

    from nntheory._version import __version__
    from nntheory.cli._args import integer
    from nntheory.theory import activation, criticality
    from nntheory.validation.finite_width._ntk_saturation import ntk_saturation, write_ntk_saturation

    integer(L, "saturation-depth", lo=2, hi=200)
    for opt, val in (("--steps", args.steps), ("--arch", args.arch), ("--statistics", args.statistics),
                     ("--inputs", args.inputs), ("--depth", args.depth)):
        if val is not None:
            raise SpecError(f"{opt}: not used with --saturation-depth (one input, both inits, depths 1..L).")
    if args.full:
        raise SpecError("--full: only for the main job (validate finite-width), not 'validate ntk'.")
    if args.init not in (None, "orthogonal", "gaussian"):
        raise SpecError(f"--init: must be one of {', '.join(_INITS)}, got {args.init!r}.")
    names = args.activation or [SATURATION_DEFAULTS["activation"]]
    if len(names) != 1:
        raise SpecError("--activation: --saturation-depth takes one activation.")
    act = activation(names[0])
    try:
        crit = criticality(act)
    except SpecError as exc:
        raise SpecError(f"--activation: {str(exc)}") from None
    if args.widths:
        ws = int_list(args.widths, "widths")
        if len(ws) != 1 or not 16 <= ws[0] <= 1024:
            raise SpecError(f"--widths: --saturation-depth samples one width in 16..1024, got {list(ws)}.")
        width = ws[0]
    else:
        width = SATURATION_DEFAULTS["mc_width"]
    n_nets = SATURATION_DEFAULTS["n_nets"] if args.n_nets is None else args.n_nets
    if not 2 <= n_nets <= 100_000:
        raise SpecError(f"--n-nets: must be in 2..100000, got {n_nets}.")
    depths = tuple(d for d in SATURATION_DEFAULTS["mc_depths"] if d <= L) + ((L,) if L <= 50 else ())
    _check_size(max(depths), (width, width), 1)
    print(f"nntheory validate ntk --saturation-depth {L}: {act.name} at criticality (C_W={float(crit.C_W):.6g}, "
          f"C_b={float(crit.C_b):.6g}); Monte Carlo at depths {list(depths)}, width {width}, {n_nets} networks",
          file=sys.stderr, flush=True)
    res = ntk_saturation(act, depth=L, C_W=float(crit.C_W), C_b=float(crit.C_b), mc_depths=depths, mc_width=width,
                         n_nets=n_nets, key=jax.random.key(args.seed), progress=True)
    files = write_ntk_saturation(res, args.out)
    lines = [f"depth {L} (theory): " + "; ".join(
        f"{ini}: " + ", ".join(f"{q} = {v:.4g}" for q, v in vals.items() if q not in ("K", "Theta"))
        for ini, vals in res.at_depth(L).items())]
    lines += [f"MC {p['init']:>10} L={p['depth']:>3} n={p['width']}: {p['quantity']:>13} = {p['value']:.4g} +- "
              f"{p['stderr']:.2g} (theory {p['theory']:.4g})" for p in res.mc]
    print("\n".join(lines))
    atomic_write(os.path.join(args.out, "table.txt"), "\n".join(lines) + "\n")
    settings = {"nntheory": __version__, "seed": args.seed, **res.settings}
    write_manifest(args.out, [*files, "table.txt"], job="validate ntk --saturation-depth", settings=settings)
    print(f"validate ntk --saturation-depth: {res.seconds:.0f} s; output in {args.out}/", file=sys.stderr)
    return 0


#: the trained-ensemble study's defaults: tanh at criticality, two outputs, trained on input 0 of two
TRAINED_DEFAULTS = {"activation": "tanh", "depth": 3, "widths": (64, 128, 256), "n_nets": 1000, "steps": 10,
                    "targets": ((0.5, -0.3),), "eta_times_theta": 0.5}


def run_trained_job(args) -> int:
    """``--trained``: the trained ensemble's mean prediction at order ``1/n`` vs training real networks."""
    import jax
    import numpy as np

    from nntheory._version import __version__
    from nntheory.cli._args import integer
    from nntheory.numerics.finite_width._training import _compiled
    from nntheory.theory import activation, criticality
    from nntheory.validation.finite_width import main_job_inputs
    from nntheory.validation.finite_width._ntk_training import _MAX_BYTES, pair_bytes, trained_ensemble_mean

    for opt, val in (("--arch", args.arch), ("--statistics", args.statistics), ("--inputs", args.inputs),
                     ("--saturation-depth", args.saturation_depth)):
        if val is not None:
            raise SpecError(f"{opt}: not used with --trained (two inputs, the first trained on; two outputs).")
    if args.full:
        raise SpecError("--full: only for the main job (validate finite-width), not 'validate ntk'.")
    if args.init not in (None, "gaussian"):
        raise SpecError(f"--init: --trained is for Gaussian weights (init gaussian), got {args.init!r}.")
    names = args.activation or [TRAINED_DEFAULTS["activation"]]
    if len(names) != 1:
        raise SpecError("--activation: --trained takes one activation.")
    act = activation(names[0])
    if not act.is_smooth:
        raise SpecError(f"--activation: {act.name} has kinks; the dNTK and ddNTK need a smooth activation "
                        "(tanh, erf, gelu, ...).")
    try:
        crit = criticality(act)
    except SpecError as exc:
        raise SpecError(f"--activation: {str(exc)}") from None
    depth = integer(TRAINED_DEFAULTS["depth"] if args.depth is None else args.depth, "depth", lo=2, hi=20)
    widths = tuple(int_list(args.widths, "widths")) if args.widths else TRAINED_DEFAULTS["widths"]
    if len(set(widths)) < 2 or min(widths) < 8 or max(widths) > 2048:
        raise SpecError(f"--widths: at least two distinct widths in 8..2048, got {list(widths)}.")
    n_nets = integer(TRAINED_DEFAULTS["n_nets"] if args.n_nets is None else args.n_nets, "n-nets", lo=2, hi=100_000)
    steps = integer(TRAINED_DEFAULTS["steps"] if args.steps is None else args.steps, "steps", lo=1, hi=1000)
    X = main_job_inputs(args.seed, n0=16)
    per = pair_bytes((X.shape[1],) + (max(widths),) * (depth - 1) + (2,), X.shape[0])
    if per > _MAX_BYTES:
        raise SpecError(f"--widths: one network pair of width {max(widths)} at depth {depth} needs about "
                        f"{per / 2**30:.2f} GiB (limit {_MAX_BYTES / 2**30:.0f} GiB); use smaller widths or --depth.")
    Y = np.asarray(TRAINED_DEFAULTS["targets"])
    C_W, C_b = float(crit.C_W), float(crit.C_b)
    theta = np.asarray(_compiled(act, 2)(X @ X.T / X.shape[1], depth=depth, C_W=C_W, C_b=C_b)["Theta"])[-1]
    eta = TRAINED_DEFAULTS["eta_times_theta"] / float(theta[0, 0])
    settings = {"nntheory": __version__, "activation": act.name, "C_W": C_W, "C_b": C_b, "depth": depth,
                "widths": list(widths), "n_nets": n_nets, "steps": steps, "eta": eta, "n_out": 2, "n_train": 1,
                "inputs": X.tolist(), "targets": Y.tolist(), "seed": args.seed, "z_max": args.z_max, "dtype": "float64"}
    print(f"nntheory validate ntk --trained: {json.dumps(settings, sort_keys=True)}", file=sys.stderr, flush=True)
    t0 = time.time()
    res = trained_ensemble_mean(act, X, Y, n_train=1, depth=depth, widths=widths, n_out=2, C_W=C_W, C_b=C_b, eta=eta,
                                steps=steps, key=jax.random.key(args.seed), n_nets=n_nets, progress=True)
    rows = res.rows()
    ok = all(abs(r["z"]) < args.z_max for r in rows if r["tested"])
    table = res.table()
    print(table)
    atomic_write(os.path.join(args.out, "trained-mean.png"), res.plot_png())
    atomic_write(os.path.join(args.out, "table.txt"), table + "\n")
    per_width = {k: {"n_times_mean": (np.asarray(widths)[:, None, None] * res.means[k].value).tolist(),
                     "n_times_stderr": (np.asarray(widths)[:, None, None] * res.means[k].stderr).tolist()}
                 for k in res.means}  # [width][input][output], before the 1/n fit
    doc = {"format_version": 1, "job": "ntk --trained", "settings": settings, "passed": ok,
           "m0": res.prediction.m0.tolist(), "rows": rows, "per_width": per_width, "seconds": time.time() - t0}
    atomic_write(os.path.join(args.out, "results.json"), json_text(doc, indent=1))
    write_manifest(args.out, ["results.json", "table.txt", "trained-mean.png"], job="validate ntk --trained",
                   settings=settings)
    print(f"validate ntk --trained: {'passed' if ok else 'FAILED'} ({time.time() - t0:.0f} s); output in {args.out}/",
          file=sys.stderr)
    return 0 if ok else 1


def run_ntk_job(args) -> int:
    """The ntk job: each activation at criticality and off it, width sweep vs recursion; table, JSON, plots."""
    import jax

    if getattr(args, "trained", False):
        if args.saturation_depth is not None:
            raise SpecError("--saturation-depth: not used with --trained.")
        return run_trained_job(args)
    L = getattr(args, "saturation_depth", None)
    if L is not None:
        return run_saturation_job(args, L)

    from nntheory._version import __version__
    from nntheory.validation.finite_width import main_job_configurations, main_job_inputs
    from nntheory.validation.finite_width._ntk_validate import validate_ntk

    names, depth, widths, n_nets, m, init, stats, fac, cb_off = _settings(args)
    try:
        configs = main_job_configurations(names, off_critical=(fac, cb_off))
    except SpecError as exc:
        msg = str(exc)
        raise SpecError(msg if msg.startswith("--") else f"--activation: {msg}") from None
    for cfg in configs:
        if not cfg.activation.is_smooth and args.statistics and any(s.startswith("dNTK") for s in stats):
            raise SpecError(f"--statistics: the dNTK moments need a smooth activation; {cfg.activation.name} has kinks "
                            "(leave them out: Theta,Theta1,A,B,D,F).")
    X = main_job_inputs(args.seed, n0=16)[:m]
    key = jax.random.key(args.seed)
    settings = {"nntheory": __version__, "depth": depth, "widths": list(widths), "n_nets": n_nets, "seed": args.seed,
                "z_max": args.z_max, "inputs": X.tolist(), "init": init, "statistics": list(stats),
                "activations": list(names), "off_critical": [fac, cb_off], "dtype": "float64"}
    print(f"nntheory validate ntk: {json.dumps(settings, sort_keys=True)}", file=sys.stderr)
    t0 = time.time()
    results, lines, plots, ok = [], [], [], True
    for i, cfg in enumerate(configs):
        print(f"[{i + 1}/{len(configs)}] {cfg.activation.name} ({cfg.label}: C_W={cfg.C_W:.6g}, C_b={cfg.C_b:.6g})",
              file=sys.stderr, flush=True)
        comp = validate_ntk(cfg.activation, X, C_W=cfg.C_W, C_b=cfg.C_b, depth=depth, widths=widths, n_nets=n_nets,
                            key=jax.random.fold_in(key, i), statistics=stats if args.statistics else None, init=init,
                            z_max=args.z_max, progress=True)
        ok &= comp.passed
        results.append({"activation": cfg.activation.name, "label": cfg.label, "C_W": cfg.C_W, "C_b": cfg.C_b,
                        "passed": comp.passed, "seconds": comp.seconds, "rows": comp.rows})
        lines += ["", f"[{cfg.label}] " + comp.table()]
        plots.append(f"ntk-{re.sub(r'[^A-Za-z0-9_.+-]', '_', cfg.activation.name)}-{cfg.label}.png")
        atomic_write(os.path.join(args.out, plots[-1]), comp.plot_png())
    table = "\n".join(lines).lstrip("\n")
    print(table)
    summary = f"{sum(r['passed'] for r in results)} passed, {sum(not r['passed'] for r in results)} failed"
    print(f"\nvalidate ntk: {summary} ({time.time() - t0:.0f} s); output in {args.out}/", file=sys.stderr)
    atomic_write(os.path.join(args.out, "results.json"),
                 json_text({"format_version": 1, "job": "ntk", "settings": settings, "results": results}, indent=1))
    atomic_write(os.path.join(args.out, "table.txt"), table + "\n")
    write_manifest(args.out, ["results.json", "table.txt", *plots], job="validate ntk", settings=settings)
    return 0 if ok else 1
