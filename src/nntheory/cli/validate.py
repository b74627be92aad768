"""``nntheory validate [finite-width|training|equivariance|node|ntk]``: theory against real networks.

The main job (``finite-width``, the default) derives, compiles and validates the finite-width statistics of
several activations at and off criticality over a width sweep, with a table, JSON and plots; the other
jobs are in :mod:`nntheory.cli._validate_training`, :mod:`nntheory.cli._validate_node` and
:mod:`nntheory.cli._validate_ntk`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

from nntheory._io import atomic_write
from nntheory.cli._args import ACTIVATION_HELP, int_list, json_text, number, output_file, write_manifest
from nntheory.errors import SpecError

HELP = "theory vs Monte Carlo ensembles (main job), trained ensembles vs NTK, equivariant NODEs"
USES_JAX = True


def add_arguments(v) -> None:
    """The flags of ``nntheory validate`` (shared by its jobs; each job refuses the ones it does not use)."""
    v.add_argument("job", nargs="?", choices=("finite-width", "training", "equivariance", "node", "ntk"), default="finite-width",
                   help="finite-width (default): statistics at initialization; training: trained ensembles vs the NTK "
                        "prediction over widths; equivariance: ensembles trained with C4 augmentation (digits); node: "
                        "SO(2)-equivariant first- and second-order neural ODEs vs plain ones on rotated test data; "
                        "ntk: NTK-sector recursions (Theta, Theta1, A, B, D, F, dNTK moments) vs exact-derivative ensembles")
    v.add_argument("--activation", action="append", default=None,
                   help=ACTIVATION_HELP + " (repeatable; default relu, tanh, gelu; training: erf, equivariance: relu)")
    v.add_argument("--depth", type=int, default=None,
                   help="finite-width: layers (default 4; --full 6); training/equivariance: hidden layers (default 1)")
    v.add_argument("--widths", default=None, help="comma-separated widths, at least 3 (default 16,32,64; --full 32,64,128,256; training "
                   "64,256,1024; equivariance: one width, default 512)")
    v.add_argument("--n-nets", dest="n_nets", type=int, default=None,
                   help="networks per width (default 4000; --full 1000; training 32; equivariance 64 per ensemble)")
    v.add_argument("--steps", type=int, default=None, help="training/equivariance: gradient-descent steps (default 200 / 100)")
    v.add_argument("--arch", choices=("mlp", "cnn", "gcnn"), default=None,
                   help="training/equivariance: trained architecture (default mlp); cnn and gcnn (C4 group convolutions) "
                        "are 3x3 periodic convolutions of --widths channels with global average pooling; equivariance: mlp or cnn")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--z-max", dest="z_max", type=float, default=4.0, help="largest accepted |z| of a check")
    v.add_argument("--off-critical", dest="off", default="1.5,0.2",
                   help="C_W,C_b factors/values of the off-critical point: C_W = factor * C_W*, C_b = value")
    v.add_argument("--init", default=None,
                   help="ntk: weight init, gaussian (default) or orthogonal (Gaussian first layer, square Haar layers)")
    v.add_argument("--saturation-depth", dest="saturation_depth", type=int, default=None,
                   help="ntk: instead of the width sweep, Gaussian vs orthogonal V/K^2, A/Theta^2, B/Theta^2, D/(Theta K), "
                        "F/(Theta K), Theta1/Theta to this depth (tanh at criticality by default), Monte Carlo points at one "
                        "width (--widths W, --n-nets N); writes ntk-saturation.png/.csv/.json")
    v.add_argument("--trained", action="store_true",
                   help="ntk: instead of the width sweep at initialisation, train ensembles --steps steps (default 10) "
                        "of MSE gradient descent on one of two inputs and compare the 1/n correction of the mean "
                        "prediction, part by part (Theta1; NTK variance A, B; moving NTK P, Q, R, S, T, U), with the "
                        "theory (defaults: tanh, --depth 3, --widths 64,128,256, --n-nets 1000 pairs); writes "
                        "trained-mean.png, table.txt, results.json")
    v.add_argument("--inputs", type=int, default=None, help="ntk: number of inputs, 1 (default) or 2")
    v.add_argument("--statistics", default=None,
                   help="ntk: comma-separated subset of Theta,Theta1,A,B,D,F,dNTK_iik_k,dNTK_ikk_i,dNTK_iii_i (default all)")
    v.add_argument("--out", default="nntheory-out", help="output folder (results.json, table.txt, plots)")
    v.add_argument("--full", action="store_true",
                   help="finite-width: the thorough run (depth 6, widths 32,64,128,256, 1000 networks each; about 10 "
                        "minutes on 2 cores) instead of the quick default (about 3 minutes); explicit flags still win")


def run(args) -> int:
    """Run the selected job; exit code 0 if every check passed, 1 otherwise."""
    _check_common(args)
    if args.full and args.job != "finite-width":
        raise SpecError(f"--full: only for the main job (validate finite-width), not 'validate {args.job}'.")
    if getattr(args, "saturation_depth", None) is not None and args.job != "ntk":
        raise SpecError("--saturation-depth: only for 'validate ntk'.")
    if getattr(args, "trained", False) and args.job != "ntk":
        raise SpecError("--trained: only for 'validate ntk'.")
    if args.job in ("training", "equivariance"):
        from nntheory.cli._validate_training import run_training_job

        return run_training_job(args)
    if args.job == "node":
        from nntheory.cli._validate_node import run_node_job

        return run_node_job(args)
    if args.job == "ntk":
        from nntheory.cli._validate_ntk import run_ntk_job

        return run_ntk_job(args)
    for opt, val in (("--init", args.init), ("--inputs", args.inputs), ("--statistics", args.statistics)):
        if val is not None:
            raise SpecError(f"{opt}: only for 'validate ntk'.")
    return run_main_job(args)


def _check_common(args) -> None:
    """Flags every job uses, checked before any work: --out (a writable folder), --seed, --z-max."""
    from nntheory.cli._args import integer, output_folder

    output_folder(args.out, "--out")
    for name in ("results.json", "table.txt", "provenance.json"):
        output_file(os.path.join(args.out, name), f"--out ({name})")
    integer(args.seed, "seed", lo=0, hi=2**32 - 1)
    if not (args.z_max > 0 and args.z_max < float("inf")):
        raise SpecError(f"--z-max: must be a finite number > 0, got {args.z_max}.")


#: the most networks per width, and the most memory one chunk of networks may take
MAX_NETS, MAX_CHUNK_BYTES, _CHUNK = 1_000_000, 8e9, 256


def _chunk_bytes(width: int, depth: int, n_nets: int, n_inputs: int = 2, ntk_neurons: int = 4) -> float:
    """Memory of one chunk of the main job's networks (the projected sampler: no weight matrices).

    Per network and layer the sampler holds ``n_inputs`` preactivation rows and ``ntk_neurons x n_inputs``
    backpropagated rows of ``width`` floats, with their Gaussian draws; the estimate counts every row three
    times over (draws, temporaries) and adds four rows per input for the forward pass.
    """
    rows = depth * n_inputs * (3 * ntk_neurons + 4)
    return min(_CHUNK, n_nets) * rows * width * 8.0


def _check_main_job_size(widths, n_nets: int, depth: int) -> None:
    """Refuse sizes whose memory would not fit, before anything is allocated (estimate in the message)."""
    if n_nets > MAX_NETS:
        raise SpecError(f"--n-nets: at most {MAX_NETS} networks per width (every network's statistics are kept: about "
                        f"{n_nets * 1e-6 * 2:.3g} GB of keys and results for {n_nets}); run several seeds and combine.")
    chunk_bytes = _chunk_bytes(max(widths), depth, n_nets)
    if chunk_bytes > MAX_CHUNK_BYTES:
        fits = int(max(widths) * MAX_CHUNK_BYTES / chunk_bytes)
        raise SpecError(f"--widths: width {max(widths)} at depth {depth} needs about {chunk_bytes / 1e9:.3g} GB for one "
                        f"chunk of {min(_CHUNK, n_nets)} networks (limit {MAX_CHUNK_BYTES / 1e9:.0f} GB); use widths <= "
                        f"{fits} or a smaller --depth.")


def _main_job_settings(args):
    """``(depth, widths, n_nets, factor, C_b)`` of the main job from the flags, checked by the library."""
    from nntheory.validation.finite_width import MAIN_JOB_DEFAULTS, check_main_job
    from nntheory.validation.finite_width._main_job import MAIN_JOB_FULL

    defaults = MAIN_JOB_FULL if args.full else MAIN_JOB_DEFAULTS

    for opt, val in (("--steps", args.steps), ("--arch", args.arch)):
        if val is not None:
            raise SpecError(f"{opt}: only for 'validate training' and 'validate equivariance'.")
    widths = int_list(args.widths, "widths") if args.widths else defaults["widths"]
    depth = defaults["depth"] if args.depth is None else args.depth
    n_nets = defaults["n_nets"] if args.n_nets is None else args.n_nets
    widths, depth, n_nets = check_main_job(widths, depth, n_nets)
    _check_main_job_size(widths, n_nets, depth)
    parts = args.off.split(",")
    if len(parts) != 2:
        raise SpecError(f"--off-critical: expected two numbers 'factor,C_b', got {args.off!r}.")
    fac, cb_off = number(parts[0], "off-critical", positive=True), number(parts[1], "off-critical", nonnegative=True)
    return depth, widths, n_nets, fac, cb_off


def run_main_job(args) -> int:
    """The main job: every configuration's width sweep against the theory, with a table, JSON and plots."""
    import jax

    from nntheory._version import __version__
    from nntheory.validation import compare_width_sweep
    from nntheory.validation.finite_width import MAIN_JOB_ACTIVATIONS, main_job_configurations, main_job_inputs

    depth, widths, n_nets, fac, cb_off = _main_job_settings(args)
    names = args.activation or list(MAIN_JOB_ACTIVATIONS)
    try:
        configs = main_job_configurations(names, off_critical=(fac, cb_off))
    except SpecError as exc:  # e.g. an activation without a critical point: name the option
        msg = str(exc)
        raise SpecError(msg if msg.startswith("--") else f"--activation: {msg}") from None
    X = main_job_inputs(args.seed)
    key = jax.random.key(args.seed)
    settings = {"nntheory": __version__, "depth": depth, "widths": list(widths), "n_nets": n_nets, "seed": args.seed,
                "z_max": args.z_max, "inputs": X.tolist(), "dtype": "float64", "activations": names, "full": bool(args.full),
                "off_critical": [fac, cb_off]}
    print(f"nntheory validate: {json.dumps(settings, sort_keys=True)}", file=sys.stderr)
    results, lines, ok = [], [], True
    plots: list[str] = []
    t0 = time.time()
    for i, cfg in enumerate(configs):
        act, C_W, C_b, label = cfg.activation, cfg.C_W, cfg.C_b, cfg.label
        print(f"[{i + 1}/{len(configs)}] {act.name} ({label}: C_W={C_W:.6g}, C_b={C_b:.6g})", file=sys.stderr)
        comp = compare_width_sweep(act, C_W=C_W, C_b=C_b, depth=depth, widths=widths, n_nets=n_nets,
                                   inputs=X, key=jax.random.fold_in(key, i), z_max=args.z_max, progress=True)
        ok &= comp.passed
        results.append({"activation": act.name, "label": label, "C_W": C_W, "C_b": C_b, "passed": comp.passed,
                        "rows": comp.rows})
        lines += _table_lines(comp, label)
        plots.append(f"{re.sub(r'[^A-Za-z0-9_.+-]', '_', act.name)}-{label}.png")
        _plot(comp, os.path.join(args.out, plots[-1]))
    table = "\n".join(lines)
    print(table)
    summary = f"{sum(r['passed'] for r in results)} passed, {sum(not r['passed'] for r in results)} failed"
    print(f"\nvalidate: {summary} ({time.time() - t0:.0f} s); output in {args.out}/", file=sys.stderr)
    atomic_write(os.path.join(args.out, "results.json"),
                 json_text({"format_version": 1, "settings": settings, "results": results}, indent=1))
    atomic_write(os.path.join(args.out, "table.txt"), table + "\n")
    write_manifest(args.out, ["results.json", "table.txt", *plots], job="validate finite-width", settings=settings)
    return 0 if ok else 1


def _table_lines(comp, label) -> list[str]:
    lines = [f"\n== {comp.activation} ({label}) C_W={comp.C_W:.6g} C_b={comp.C_b:.6g}  widths={list(comp.widths)}  "
             f"n_nets={comp.n_nets}  -> {'PASS' if comp.passed else 'FAIL'} (worst |z| = {abs(comp.worst['z']):.2f})",
             f"{'stat':>6} {'l':>3} {'index':>10} {'theory':>14} {'MC (n->inf)':>14} {'stderr':>11} {'z':>7}  MC at each width"]
    for r in comp.rows:
        idx = "".join(str(i + 1) for i in r["index"])
        mc = " ".join(f"{v:.5g}" for v in r["mc"])
        lines.append(f"{r['statistic']:>6} {r['layer']:>3} {idx:>10} {r['theory']:>14.6g} {r['extrapolated']:>14.6g} "
                     f"{r['stderr']:>11.3g} {r['z']:>7.2f}  {mc}")
    return lines


def _plot(comp, path: str) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 5, figsize=(22, 4))
    layers = np.arange(1, comp.depth + 1)
    picks = {"K": (0, 1), "K1": (0, 0), "V": (0, 0, 0, 0), "Theta": (0, 1)}
    for ax, (name, idx) in zip(axes, picks.items()):
        rows = [r for r in comp.rows if r["statistic"] == name and tuple(r["index"]) == idx]
        ax.plot(layers, [r["theory"] for r in rows], "k-", label="theory")
        ax.errorbar([r["layer"] for r in rows], [r["extrapolated"] for r in rows], yerr=[r["stderr"] for r in rows],
                    fmt="o", color="C3", capsize=3, label="MC, extrapolated n->inf")
        for w, n in enumerate(comp.widths):
            ax.plot([r["layer"] + 0.08 * (w + 1) for r in rows], [r["mc"][w] for r in rows], ".", alpha=0.5, label=f"MC n={n}")
        ax.set_title(f"{name}{''.join(str(i + 1) for i in idx)}")
        ax.set_xlabel("layer l")
    axes[0].legend(fontsize=7)
    ax = axes[-1]
    rows = [r for r in comp.rows if r["statistic"] == "V" and r["layer"] == comp.depth and tuple(r["index"]) == (0, 0, 0, 0)]
    if rows:
        r = rows[0]
        x = 1 / np.asarray(comp.widths, float)
        ax.errorbar(x, r["mc"], yerr=r["mc_stderr"], fmt="o", capsize=3, label="MC")
        ax.errorbar([0], [r["extrapolated"]], yerr=[r["stderr"]], fmt="s", color="C3", capsize=3, label="extrapolated")
        ax.axhline(r["theory"], color="k", label="theory")
        ax.set_xlabel("1/n")
        ax.set_title(f"V1111 at l={comp.depth}: 1/n extrapolation")
        ax.legend(fontsize=7)
    fig.suptitle(f"{comp.activation}: C_W={comp.C_W:.5g}, C_b={comp.C_b:.5g}")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic_write(path, buf.getvalue())
