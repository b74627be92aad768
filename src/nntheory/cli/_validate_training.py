"""``nntheory validate training|equivariance``: trained ensembles against NTK theory, with plots."""

from __future__ import annotations

import io
import os
import sys
import time

from nntheory._io import atomic_write
from nntheory.cli._args import int_list, json_text, write_manifest
from nntheory.errors import SpecError


DEFAULT_WIDTHS = {"mlp": "64,256,1024", "cnn": "16,64,256", "gcnn": "8,32,128"}  # channels for the convolutional nets


def run_training_job(args) -> int:
    from nntheory._version import __version__
    from nntheory.validation import validate_equivariance, validate_training

    acts = args.activation or [("erf" if args.job == "training" else "relu")]
    if len(acts) != 1:
        raise SpecError(f"--activation: 'validate {args.job}' takes one activation, got {len(acts)}.")
    depth = 1 if args.depth is None else args.depth  # --depth: hidden layers, for users
    if not 1 <= depth <= 10:
        raise SpecError(f"--depth: hidden layers must be between 1 and 10, got {depth}.")
    layers = depth + 1  # the library's depth: layers with weights, the read-out included
    arch = args.arch or "mlp"
    if args.job == "equivariance" and arch == "gcnn":
        raise SpecError("--arch: 'validate equivariance' trains mlp or cnn ensembles; a gcnn is C4-invariant by construction.")
    t0 = time.time()
    if args.job == "training":
        widths = int_list(args.widths or DEFAULT_WIDTHS[arch], "widths")
        if len(widths) < 3 or min(widths) < 8:
            raise SpecError(f"--widths: need at least 3 widths >= 8, got {args.widths!r}.")
        n = 32 if args.n_nets is None else args.n_nets
        steps = 200 if args.steps is None else args.steps
        if n < 4 or steps < 20 or steps % 20:
            raise SpecError(f"--n-nets >= 4 and --steps a positive multiple of 20 required, got {n}, {steps}.")
        res = validate_training(activation=acts[0], widths=widths, depth=layers, n_members=n, steps=steps, every=steps // 10,
                                seed=args.seed, arch=arch, progress=True)
        lines = _training_table(res)
        _plot_training(res, os.path.join(args.out, "training.png"))
        rows = res.rows
    else:
        widths = int_list(args.widths or ("512" if arch == "mlp" else "128"), "widths")
        if len(widths) != 1 or widths[0] < 8:
            raise SpecError(f"--widths: 'validate equivariance' takes one width >= 8, got {args.widths!r}.")
        n = 64 if args.n_nets is None else args.n_nets
        steps = 100 if args.steps is None else args.steps
        if n < 8 or steps < 1:
            raise SpecError(f"--n-nets >= 8 and --steps >= 1 required, got {n}, {steps}.")
        sizes = [m for m in (1, 2, 4, 8, 16, 32, 64, 128) if 2 * m <= n]
        res = validate_equivariance(activation=acts[0], width=widths[0], depth=layers, n_members=n, steps=steps, sizes=sizes,
                                    seed=args.seed, arch=arch, progress=True)
        lines = _equivariance_table(res)
        _plot_equivariance(res, os.path.join(args.out, "equivariance.png"))
        rows = {"ensembles": res.rows, "infinite_width": res.theory}
    table = "\n".join(lines)
    print(table)
    status = "PASS" if res.passed else "FAIL"
    print(f"\nvalidate {args.job}: {status} ({time.time() - t0:.0f} s); output in {args.out}/", file=sys.stderr)
    settings = {"nntheory": __version__, **res.settings}
    atomic_write(os.path.join(args.out, f"{args.job}.json"),
                 json_text({"format_version": 1, "job": args.job, "settings": settings, "passed": res.passed, "results": rows},
                            indent=1))
    atomic_write(os.path.join(args.out, f"{args.job}.txt"), table + "\n")
    write_manifest(args.out, [f"{args.job}.json", f"{args.job}.txt", f"{args.job}.png"], job=f"validate {args.job}",
                   settings=settings)
    return 0 if res.passed else 1


def _training_table(res) -> list[str]:
    s = res.settings
    lines = [f"== trained {s.get('arch', 'mlp')} ensembles vs NTK prediction: {s['activation']}, {s['depth'] - 1} hidden layer(s), {s['n_members']} members, "
             f"{s['n_train']} digits, lr {s['learning_rate']:.4g}, {s['steps']} GD steps -> {'PASS' if res.passed else 'FAIL'}",
             f"{'width':>6} {'step':>5} {'|E f_t - mu_t| (RMS)':>22} {'stderr':>9} {'member RMS':>11} {'raw mean RMS':>13} {'|mu_t| RMS':>11}"]
    for r in res.rows:
        for i, t in enumerate(r["steps"]):
            if i == 0:
                continue
            lines.append(f"{r['width']:>6} {t:>5} {r['distance'][i]:>22.5g} {r['distance_se'][i]:>9.2g} {r['member_distance'][i]:>11.4g} "
                         f"{r['raw_ensemble_distance'][i]:>13.4g} {r['prediction_rms'][i]:>11.4g}")
    return lines


def _equivariance_table(res) -> list[str]:
    s = res.settings
    lines = [f"== emergent invariance: {s.get('arch', 'mlp')}, {s['activation']} width {s['width']}, {s['n_members']} members per ensemble, {s['group']}, "
             f"{s['steps']} GD steps -> {'PASS' if res.passed else 'FAIL'}",
             f"{'training':>10} {'inputs':>7} {'infinite width':>15} {'member':>9}  ensemble mean of m members: error +- stderr"]
    for label, per in res.rows.items():
        for where, r in per.items():
            ens = "  ".join(f"m={m}: {e:.4g}+-{se:.2g}" for m, e, se in zip(r["sizes"], r["error"], r["error_se"]))
            lines.append(f"{label:>10} {where:>7} {res.theory[label][where]:>15.3g} {r['member_error']:>9.4g}  {ens}")
    return lines


def _figure(fig, path):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    atomic_write(path, buf.getvalue())


def _plot_training(res, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for r in res.rows:
        a.errorbar(r["steps"][1:], r["distance"][1:], yerr=r["distance_se"][1:], capsize=3, label=f"width {r['width']}")
    a.set_xlabel("gradient-descent step")
    a.set_ylabel("RMS |E f_t(x) - mu_t(x)| on test digits")
    a.legend()
    w = np.array([r["width"] for r in res.rows], float)
    d = np.array([r["distance"][-1] for r in res.rows])
    se = np.array([r["distance_se"][-1] for r in res.rows])
    b.errorbar(w, d, yerr=se, fmt="o-", capsize=3, label="ensemble mean (control variate)")
    b.plot(w, [r["member_distance"][-1] for r in res.rows], "s--", label="single members")
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel("width")
    b.set_title(f"step {res.rows[0]['steps'][-1]}")
    b.legend()
    fig.tight_layout()
    _figure(fig, path)
    plt.close(fig)


def _plot_equivariance(res, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
    for ax, where in zip(axes, ("train", "test", "noise")):
        for c, label in zip(("C0", "C1"), ("augmented", "plain")):
            r = res.rows[label][where]
            ax.errorbar(r["sizes"], r["error"], yerr=r["error_se"], fmt="o-", color=c, capsize=3, label=f"{label}: ensemble mean")
            ax.axhline(r["member_error"], color=c, ls=":", label=f"{label}: members")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("ensemble size m")
        ax.set_title(f"{where} inputs (infinite width, augmented: {res.theory['augmented'][where]:.1e})")
    axes[0].set_ylabel("invariance error")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    _figure(fig, path)
    plt.close(fig)
