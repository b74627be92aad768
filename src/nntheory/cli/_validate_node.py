"""``nntheory validate node``: SO(2)- and SO(3)-equivariant vs plain neural ODEs (first and second order;
SO(3) also on the sphere)."""

from __future__ import annotations

import os
import sys
import time

from nntheory._io import atomic_write
from nntheory.cli._args import json_text
from nntheory.errors import SpecError


def run_node_job(args) -> int:
    """Equivariant vs plain NODEs (SO(2) on R^2 and SO(3) on R^3, first and second order; SO(3) on the
    sphere, second order) trained on a sector (a cone), tested on rotations; the equivariance error of
    each trained equivariant NODE."""
    from nntheory._version import __version__
    from nntheory.validation import compare_nodes

    for opt, val in (("--activation", args.activation), ("--depth", args.depth), ("--widths", args.widths), ("--arch", args.arch)):
        if val is not None:
            raise SpecError(f"{opt}: not used by 'validate node' (it takes --steps, --n-nets, --seed).")
    steps = 300 if args.steps is None else args.steps
    n_train = 32 if args.n_nets is None else args.n_nets
    if steps < 10 or n_train < 4:
        raise SpecError(f"--steps >= 10 and --n-nets (training trajectories) >= 4 required, got {steps}, {n_train}.")
    t0 = time.time()
    rows, lines, passed = {}, [], True
    for group, order in (("SO(2)", 1), ("SO(2)", 2), ("SO(3)", 1), ("SO(3)", 2), ("SO(3) on S2", 2)):
        res = compare_nodes(order=order, n_train=n_train, steps=steps, seed=args.seed, verbose=True, group=group)
        passed &= res.passed
        lines.append(f"== {group}, order {order}: {'PASS' if res.passed else 'FAIL'} (plain - equivariant rotated-test "
                     f"MSE = {res.gap:.3e} = {res.gap_in_se:.1f} combined SE; equivariance error of the trained "
                     f"equivariant NODE under random rotations {res.equivariance_error:.1e})")
        lines += res.table().splitlines()
        key = str(order) if group == "SO(2)" else f"{group} order {order}"
        rows[key] = {"group": group, "order": order, "train_mse": res.train_mse, "test_mse": res.test_mse,
                     "test_se": res.test_se, "gap_in_se": res.gap_in_se, "passed": res.passed,
                     "equivariance_error": res.equivariance_error, "settings": res.settings, "seconds": res.seconds}
    table = "\n".join(lines)
    print(table)
    print(f"\nvalidate node: {'PASS' if passed else 'FAIL'} ({time.time() - t0:.0f} s); output in {args.out}/", file=sys.stderr)
    atomic_write(os.path.join(args.out, "node.json"),
                 json_text({"format_version": 1, "job": "node", "settings": {"nntheory": __version__, "seed": args.seed,
                             "steps": steps, "n_train": n_train}, "passed": passed, "results": rows}, indent=1))
    atomic_write(os.path.join(args.out, "node.txt"), table + "\n")
    return 0 if passed else 1
