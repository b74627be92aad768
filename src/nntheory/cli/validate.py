"""``nntheory validate``: the main job (derive -> compile -> validate, with a table and plots)."""

from __future__ import annotations

import json
import os
import sys
import time

from nntheory._io import atomic_write as atomic_write  # noqa: F401  (re-exported)
from nntheory.errors import SpecError


def run_validate(args) -> int:
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    if args.job in ("training", "equivariance"):
        from nntheory.cli.training import run_training_job

        return run_training_job(args)
    if args.job == "node":
        from nntheory.cli.training import run_node_job

        return run_node_job(args)
    args.depth = 6 if args.depth is None else args.depth
    args.widths = args.widths or "32,64,128,256"
    args.n_nets = 1000 if args.n_nets is None else args.n_nets
    for opt, val in (("--steps", args.steps), ("--arch", args.arch)):
        if val is not None:
            raise SpecError(f"{opt}: only for 'validate training' and 'validate equivariance'.")
    from nntheory.cli.recursions import parse_number
    from nntheory._version import __version__
    from nntheory.theory import activation, criticality
    from nntheory.validation import compare_width_sweep

    widths = tuple(int(parse_number(w, "widths", positive=True)) for w in args.widths.split(","))
    if len(widths) < 3 or min(widths) < 4:
        raise SpecError(f"--widths: need at least 3 widths >= 4, got {args.widths!r}.")
    if args.depth < 2 or args.depth > 50:
        raise SpecError(f"--depth: must be between 2 and 50, got {args.depth}.")
    if args.n_nets < 16:
        raise SpecError(f"--n-nets: must be >= 16 for standard errors, got {args.n_nets}.")
    fac, cb_off = (parse_number(x, "off-critical") for x in args.off.split(","))
    names = args.activation or ["relu", "tanh", "gelu"]
    rng = np.random.default_rng(args.seed)
    n0 = 16
    X = rng.normal(size=(2, n0))
    X[1] = 0.6 * X[0] + 0.8 * X[1]  # two correlated inputs
    key = jax.random.key(args.seed)
    configs = []
    for name in names:
        act = activation(name)
        crit = criticality(act)
        configs.append((act, float(crit.C_W), float(crit.C_b), "critical"))
        configs.append((act, fac * float(crit.C_W), cb_off, "off-critical"))
    settings = {
        "nntheory": __version__, "depth": args.depth, "widths": list(widths), "n_nets": args.n_nets, "seed": args.seed,
        "z_max": args.z_max, "inputs": X.tolist(), "dtype": "float64", "activations": names, "off_critical": [fac, cb_off],
    }
    print(f"nntheory validate: {json.dumps(settings, sort_keys=True)}", file=sys.stderr)
    results, lines, ok = [], [], True
    t0 = time.time()
    for i, (act, C_W, C_b, label) in enumerate(configs):
        print(f"[{i + 1}/{len(configs)}] {act.name} ({label}: C_W={C_W:.6g}, C_b={C_b:.6g})", file=sys.stderr)
        comp = compare_width_sweep(act, C_W=C_W, C_b=C_b, depth=args.depth, widths=widths, n_nets=args.n_nets,
                                   inputs=X, key=jax.random.fold_in(key, i), z_max=args.z_max, progress=True)
        ok &= comp.passed
        results.append({"activation": act.name, "label": label, "C_W": C_W, "C_b": C_b, "passed": comp.passed,
                        "rows": comp.rows})
        lines += _table_lines(comp, label)
        _plot(comp, os.path.join(args.out, f"{act.name}-{label}.png"))
    table = "\n".join(lines)
    print(table)
    summary = f"{sum(r['passed'] for r in results)} passed, {sum(not r['passed'] for r in results)} failed"
    print(f"\nvalidate: {summary} ({time.time() - t0:.0f} s); output in {args.out}/", file=sys.stderr)
    atomic_write(os.path.join(args.out, "results.json"),
                 json.dumps({"format_version": 1, "settings": settings, "results": results}, sort_keys=True, indent=1))
    atomic_write(os.path.join(args.out, "table.txt"), table + "\n")
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
