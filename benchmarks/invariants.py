"""Time to compute complete sets of differential invariants, and to evaluate them compiled.

For each textbook action: seconds for counts + invariants + reduction + exact annihilation check
(fresh caches) up to order 4, by the moving frame and by characteristics; then the projective group of the plane on curves at order 7 (its
first invariant, the projective curvature) under a time limit. Then, for the compiled invariants,
the JAX jit compile time and the warm evaluation time on 10^5 jets, with the ratio against
``sympy.lambdify(..., "numpy")`` of the same expressions in the same process.

Usage: python benchmarks/invariants.py [--limit SECONDS] [--skip-projective]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import sympy

jax.config.update("jax_enable_x64", True)

from nntheory.numerics import compile_invariants  # noqa: E402
from nntheory.theory import differential_invariants, lie_action  # noqa: E402
from nntheory.errors import InvariantError  # noqa: E402
from nntheory.theory import invariant_count  # noqa: E402
from nntheory.theory.lie._actions import _orbit_dim, _prolonged  # noqa: E402
from nntheory.theory.lie._characteristics import _characteristics  # noqa: E402
from nntheory.theory.lie._flows import _flow  # noqa: E402
from nntheory.theory.lie._jets import _jet_table  # noqa: E402
from nntheory.theory.lie._moving_frame import _frame  # noqa: E402

SE2 = [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}]
CASES = {
    "translations + scalings": (["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"x": "x"}, {"u": "u"}]),
    "SE(2) on curves": (["x"], ["u"], SE2),
    "similarity on curves": (["x"], ["u"], SE2 + [{"x": "x", "u": "u"}]),
    "SA(2) on curves": (["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"u": "x"}, {"x": "u"}, {"x": "x", "u": "-u"}]),
    "PSL(2) projective on u": (["x"], ["u"], [{"u": "1"}, {"u": "u"}, {"u": "u**2"}]),
    "SO(2) on u(x, y)": (["x", "y"], ["u"], [{"x": "-y", "y": "x"}]),
}
PROJECTIVE_PLANE = [{"x": "1"}, {"u": "1"}, {"x": "x"}, {"x": "u"}, {"u": "x"}, {"u": "u"},
                    {"x": "x**2", "u": "x*u"}, {"x": "x*u", "u": "u**2"}]


def _clear():
    for f in (_jet_table, _prolonged, _orbit_dim, _frame, _flow, _characteristics):
        f.cache_clear()


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=600, help="seconds allowed for the projective plane at order 7, per route")
    ap.add_argument("--order", type=int, default=4)
    ap.add_argument("--skip-projective", action="store_true")
    args = ap.parse_args()
    print(f"{'action':<26} {'order':>5} {'frame s':>8} {'charact. s':>10}  counts per order (both routes agree)")
    results = {}
    for name, (ind, dep, gens) in CASES.items():
        order = 2 if len(ind) == 2 else args.order
        times, sets = [], []
        for method in ("moving frame", "characteristics"):
            _clear()
            t = time.perf_counter()
            sets.append(differential_invariants(lie_action(ind, dep, gens), order, method=method))
            times.append(time.perf_counter() - t)
        inv = sets[0]
        same = sets[0].counts == sets[1].counts
        results[name] = inv
        print(f"{name:<26} {order:>5} {times[0]:>8.2f} {times[1]:>10.2f}  {list(inv.counts)} ({'yes' if same else 'NO'})", flush=True)
    if not args.skip_projective:
        signal.signal(signal.SIGALRM, _alarm)
        for method in ("moving frame", "characteristics"):
            _clear()
            act = lie_action(["x"], ["u"], PROJECTIVE_PLANE)
            label = f"projective plane ({'frame' if method == 'moving frame' else 'charact.'})"
            signal.alarm(args.limit)
            t = time.perf_counter()
            try:
                counts = [invariant_count(act, k) for k in range(8)]
                tc = time.perf_counter() - t
                print(f"{'  counts':<26} {7:>5} {tc:>8.2f}  {counts}", flush=True)
                inv = differential_invariants(act, 7, method=method)
                dt = time.perf_counter() - t
                print(f"{label:<26} {7:>5} {dt:>8.2f}  {list(inv.counts)}  invariant: "
                      f"{sympy.count_ops(inv.invariants[7][0])} operations", flush=True)
            except _Timeout:
                print(f"{label:<26} {7:>5} {'>' + str(args.limit):>8}  not reached within the limit", flush=True)
            except InvariantError as exc:
                print(f"{label:<26} {7:>5} {time.perf_counter() - t:>8.2f}  not reached: {exc}", flush=True)
            finally:
                signal.alarm(0)

    print(f"\n{'compiled invariants':<26} {'n':>7} {'compile s':>10} {'warm s':>9} {'numpy s':>9} {'ratio':>7} {'max rel diff':>13}")
    rng = np.random.default_rng(0)
    n = 100_000
    for name, inv in results.items():
        order = inv.order
        coords = inv.action.jet.coordinates(order)
        z = rng.uniform(0.2, 1.5, size=(n, len(coords)))  # positive jets: fractional powers are real
        f = jax.jit(compile_invariants(inv, order))
        zj = jnp.asarray(z)
        t = time.perf_counter()
        f.lower(zj).compile()
        tcomp = time.perf_counter() - t
        f(zj).block_until_ready()
        t = time.perf_counter()
        for _ in range(5):
            out = f(zj).block_until_ready()
        twarm = (time.perf_counter() - t) / 5
        g = sympy.lambdify(list(coords), inv.all(order), "numpy")
        t = time.perf_counter()
        for _ in range(5):
            ref = np.stack([np.broadcast_to(v, (n,)) for v in g(*z.T)], -1)
        tnp = (time.perf_counter() - t) / 5
        rel = float(np.max(np.abs(np.asarray(out) - ref) / np.maximum(1e-300, np.abs(ref))))
        print(f"{name:<26} {n:>7} {tcomp:>10.3f} {twarm:>9.4f} {tnp:>9.4f} {tnp / twarm:>6.1f}x {rel:>13.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
