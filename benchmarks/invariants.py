"""Time to compute complete sets of differential invariants, and to evaluate them compiled.

For each textbook action: seconds for counts + invariants + reduction + exact annihilation check
(fresh caches) up to order 4, by the moving frame and by characteristics; then the projective group of the plane on curves at order 7 (its
first invariant, the projective curvature) under a time limit; the rotation and rigid-motion cases (SO(3) on R^3,
on the embedded sphere and on the sphere in spherical coordinates, SE(3)) by the default route and by the moving frame (the default before the ansatz route), both under the limit. Then, for the compiled invariants,
the JAX jit compile time and the warm evaluation time on 10^5 jets, with the ratio against
``sympy.lambdify(..., "numpy")`` of the same expressions in the same process.

Usage: python benchmarks/invariants.py [--limit SECONDS] [--skip-projective] [--only-rotations] [--default-only]
"""

from __future__ import annotations

import argparse
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
from nntheory.theory.lie._ansatz import _images  # noqa: E402
from nntheory.theory.lie._characteristics import _characteristics  # noqa: E402
from nntheory.theory.lie._flows import _flow  # noqa: E402
from nntheory.theory.lie._jets import _jet_table  # noqa: E402
from nntheory.theory.lie._moving_frame import _frame  # noqa: E402
from nntheory.theory.lie._trig_ring import _ring_form, _ring_images, _trig_ring  # noqa: E402

SE2 = [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}]
CASES = {
    "translations + scalings": (["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"x": "x"}, {"u": "u"}]),
    "SE(2) on curves": (["x"], ["u"], SE2),
    "similarity on curves": (["x"], ["u"], SE2 + [{"x": "x", "u": "u"}]),
    "SA(2) on curves": (["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"u": "x"}, {"x": "u"}, {"x": "x", "u": "-u"}]),
    "PSL(2) projective on u": (["x"], ["u"], [{"u": "1"}, {"u": "u"}, {"u": "u**2"}]),
    "SO(2) on u(x, y)": (["x", "y"], ["u"], [{"x": "-y", "y": "x"}]),
}
ROT3 = [{"u": "-v", "v": "u"}, {"x": "v", "v": "-x"}, {"x": "-u", "u": "x"}]
# rotations and rigid motions: the default route (ansatz for these) against the moving frame, which was
# the default before (both under --limit seconds)
ROTATION_CASES = {
    "SO(3) on R^3 (t)": (["t"], ["x", "y", "z"], [{"y": "-z", "z": "y"}, {"x": "z", "z": "-x"}, {"x": "-y", "y": "x"}], 2),
    "SO(3) embedded sphere": (["x"], ["y", "z"], [{"y": "-z", "z": "y"}, {"x": "z", "z": "-x"}, {"x": "-y", "y": "x"}], 3),
    "SE(3) on space curves": (["x"], ["u", "v"], [{"x": "1"}, {"u": "1"}, {"v": "1"}] + ROT3, 4),
    "SE(3) on surfaces": (["x", "y"], ["u"], [{"x": "1"}, {"y": "1"}, {"u": "1"}, {"x": "-y", "y": "x"},
                                               {"x": "u", "u": "-x"}, {"y": "-u", "u": "y"}], 3),
}
# SO(3) on the sphere in spherical coordinates (theta polar, phi azimuth): L_x, L_y, L_z
SPHERE = [{"theta": "-sin(phi)", "phi": "-cos(phi)*cos(theta)/sin(theta)"},
          {"theta": "cos(phi)", "phi": "-sin(phi)/tan(theta)"}, {"phi": "1"}]
ROTATION_CASES.update({
    "SO(3) sphere phi(theta)": (["theta"], ["phi"], SPHERE, 4),
    "SO(3) sphere theta(phi)": (["phi"], ["theta"], SPHERE, 4),
    "SO(3) sphere u(theta,phi)": (["theta", "phi"], ["u"], SPHERE, 2),
})
PROJECTIVE_PLANE = [{"x": "1"}, {"u": "1"}, {"x": "x"}, {"x": "u"}, {"u": "x"}, {"u": "u"},
                    {"x": "x**2", "u": "x*u"}, {"x": "x*u", "u": "u**2"}]


def _clear():
    for f in (_jet_table, _prolonged, _orbit_dim, _frame, _flow, _characteristics, _images, _ring_images, _trig_ring,
              _ring_form):
        f.cache_clear()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=600, help="seconds allowed per route and case (a route that runs out is reported as >LIMIT)")
    ap.add_argument("--order", type=int, default=4)
    ap.add_argument("--skip-projective", action="store_true")
    ap.add_argument("--only-rotations", action="store_true", help="skip the plane-curve cases (frame and characteristics)")
    ap.add_argument("--default-only", action="store_true", help="rotation cases: only the default route (the frame column is skipped)")
    args = ap.parse_args()
    print(f"{'action':<26} {'order':>5} {'frame s':>8} {'charact. s':>10}  counts per order (both routes agree)")
    results = {}
    for name, (ind, dep, gens) in ({} if args.only_rotations else CASES).items():
        order = 2 if len(ind) == 2 else args.order
        times, sets = [], []
        for method in ("moving frame", "characteristics"):
            _clear()
            t = time.perf_counter()
            try:
                sets.append(differential_invariants(lie_action(ind, dep, gens), order, method=method, timeout=args.limit))
                times.append(f"{time.perf_counter() - t:.2f}")
            except InvariantError as exc:
                sets.append(None)
                times.append(f">{args.limit}" if "timeout" in str(exc) else "failed")
        done = [x for x in sets if x is not None]
        if not done:
            print(f"{name:<26} {order:>5} {times[0]:>8} {times[1]:>10}  -", flush=True)
            continue
        inv = done[0]
        same = "yes" if len(done) == 2 and done[0].counts == done[1].counts else ("one route" if len(done) == 1 else "NO")
        results[name] = inv
        print(f"{name:<26} {order:>5} {times[0]:>8} {times[1]:>10}  {list(inv.counts)} ({same})", flush=True)
    print(f"\n{'action':<26} {'order':>5} {'default s':>9} {'frame s':>9}  counts (default route)")
    for name, (ind, dep, gens, order) in ROTATION_CASES.items():
        row = []
        inv_default = None
        for method in ("auto",) if args.default_only else ("auto", "moving frame"):
            _clear()
            t = time.perf_counter()
            try:
                inv = differential_invariants(lie_action(ind, dep, gens), order, method=method, timeout=args.limit)
                row.append(f"{time.perf_counter() - t:.2f}")
                if method == "auto":
                    inv_default = inv
            except InvariantError as exc:
                row.append(f">{args.limit}" if "timeout" in str(exc) else "failed")
        counts = f"{list(inv_default.counts)} ({inv_default.method})" if inv_default is not None else "-"
        print(f"{name:<26} {order:>5} {row[0]:>9} {row[1] if len(row) > 1 else '-':>9}  {counts}", flush=True)
        if inv_default is not None:
            results[name] = inv_default
    if not args.skip_projective:
        for method in ("auto", "characteristics"):
            _clear()
            act = lie_action(["x"], ["u"], PROJECTIVE_PLANE)
            label = f"projective plane ({'default' if method == 'auto' else 'charact.'})"
            t = time.perf_counter()
            try:
                counts = [invariant_count(act, k) for k in range(8)]
                tc = time.perf_counter() - t
                print(f"{'  counts':<26} {7:>5} {tc:>8.2f}  {counts}", flush=True)
                inv = differential_invariants(act, 7, method=method, timeout=args.limit)
                dt = time.perf_counter() - t
                print(f"{label:<26} {7:>5} {dt:>8.2f}  {list(inv.counts)}  invariant: "
                      f"{sympy.count_ops(inv.invariants[7][0])} operations ({inv.method})", flush=True)
            except InvariantError as exc:
                print(f"{label:<26} {7:>5} {time.perf_counter() - t:>8.2f}  not reached: {str(exc)[:160]}", flush=True)

    print(f"\n{'compiled invariants':<26} {'n':>7} {'compile s':>10} {'warm s':>9} {'numpy s':>9} {'ratio':>7} {'max rel diff':>13}")
    rng = np.random.default_rng(0)
    n = 100_000
    for name, inv in results.items():
        order = inv.order
        coords = inv.action.jet.coordinates(order)
        z = rng.uniform(0.2, 1.5, size=(n, len(coords)))  # positive jets: fractional powers are real
        try:
            f = jax.jit(compile_invariants(inv, order))
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"{name:<26} not compiled: {str(exc)[:120]}", flush=True)
            continue
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
