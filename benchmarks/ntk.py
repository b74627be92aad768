"""Cost of the whole NTK sector in one run: symbolic generation, compiled recursions, Monte Carlo throughput.

One run prints three sections (machine load and device are printed first; read ratios within a run):

1. **Symbolic generation.** Wall time of ``ntk_recursion(act, m, dntk=True, ddntk=True)`` (all ``1/n`` NTK-sector
   recursions: ``K, V, K1, Theta, Theta1, D, F, A, B, P, Q, R, S, T, U``) for one and two inputs; the same recursions
   generated from the Feynman diagrams (``ntk_diagram_recursion``, cold), with the ratio to the hand-derived ones,
   and the NTK mean to ``1/n^2`` (``ntk_mean_recursion``, one input, cold). "cold" is the first
   call in a fresh interpreter (a subprocess per input count; imports excluded, every cache empty); "in-process" calls
   it here in the order one input, two inputs (the two-input call finds the lower-level sympy caches of the one-input
   call warm), then again (``ntk_recursion``'s own ``lru_cache`` hit).
2. **Compiled recursions.** All fifteen statistics with two inputs to depth ``--rec-depth`` (default 100), at
   criticality (``C_W = 1, C_b = 0``): the sympy-to-JAX time of :func:`~nntheory.numerics.compile_recursion`, the
   trace + XLA compile time of the jitted scan, and the warm time of a full public call (argument checks and the
   finiteness check included), best of ``--rec-reps``. Baseline in the same process: the same per-layer step run
   eagerly (op by op, no ``jit``, no ``scan``) in a plain Python loop over ``--baseline-layers`` layers, extrapolated
   linearly to the depth (each layer is the same work); its values are compared with the compiled ones at the last
   layer it reaches. The base recursion ``K, V, K1, Theta`` (two inputs, same depth) is timed as a second reference.
3. **Monte Carlo throughput.** The matmul peak (one large jitted float64 matmul, best of 5) and, for tanh MLPs of
   width ``--width`` and depth ``--depth`` (one input, ``--neurons`` output neurons per network), Gaussian and
   orthogonal weights: NTK, NTK + dNTK (the per-chunk program of :func:`~nntheory.validation.sample_ntk_ensemble`,
   chunk ``--chunk``) and ddNTK (the per-chunk program of :func:`~nntheory.validation.sample_ddntk_ensemble`, chunk
   ``--dd-chunk``), compiled once, then best of ``--reps`` calls on fresh keys (compilation excluded). The flops per
   network are XLA's count for the compiled per-chunk program (``cost_analysis``), so the fraction of peak is that of
   the work actually executed (random-bit generation included, which dominates the NTK-only count at width 256; for
   orthogonal weights the LAPACK QR, ``8/3 n^3`` per hidden layer, is added by hand since XLA does not count custom
   calls).

Usage (``--skip`` takes a comma list of ``symbolic,recursions,mc``)::

    python benchmarks/ntk.py [--width 256 --depth 3 --neurons 4 --chunk 32 --dd-chunk 8 --reps 3]
                             [--rec-depth 100 --rec-reps 3 --baseline-layers 2] [--skip ...]
"""

import argparse
import math
import os
import subprocess
import sys
import time

STATISTICS = ("K", "V", "K1", "Theta", "Theta1", "D", "F", "A", "B", "P", "Q", "R", "S", "T", "U")
#: two inputs of dimension 4 (Gram matrix X X^T / 4 is positive definite, off-diagonal about -0.2 correlation)
X2 = ((0.9, -0.4, 0.7, 0.2), (0.3, 0.8, -0.5, 0.6))

_COLD = (
    "import time; from nntheory.theory import activation; "
    "from nntheory.theory.finite_width._ntk import ntk_recursion; a = activation('tanh'); "
    "t = time.perf_counter(); rec = ntk_recursion(a, {m}, dntk=True, ddntk=True); "
    "print(time.perf_counter() - t, ','.join(s.name for s in rec.statistics))"
)


def best_of(fn, reps):
    """Best wall time of ``reps`` calls of ``fn()`` (its result blocked on)."""
    import jax

    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t)
    return best


def matmul_peak(n=1024, reps=5):
    """Flop rate of one jitted float64 ``n x n`` matmul (best of ``reps``)."""
    import jax
    import jax.numpy as jnp

    a = jnp.ones((n, n), jnp.float64)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    return 2 * n**3 / best_of(lambda: f(a), reps)


# ---------------------------------------------------------------- 1. symbolic generation


_COLD_DIAGRAMS = (
    "import time; from nntheory.theory import activation; "
    "from nntheory.diagrams import ntk_diagram_recursion, ntk_mean_recursion; a = activation('tanh'); "
    "t = time.perf_counter(); rec = {call}; "
    "print(time.perf_counter() - t, ','.join(s.name for s in rec.statistics))"
)


def cold_generation(m, call=None):
    """Seconds of the first ``ntk_recursion(tanh, m, dntk=True, ddntk=True)`` (or of ``call``, from
    :mod:`nntheory.diagrams`) in a fresh interpreter, and its names."""
    code = _COLD.format(m=m) if call is None else _COLD_DIAGRAMS.format(call=call)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds, names = out.stdout.split()
    return float(seconds), names.split(",")


def symbolic_section():
    """Print the generation times (cold subprocess, in-process first call, in-process repeat)."""
    from nntheory.theory import activation
    from nntheory.theory.finite_width._ntk import ntk_recursion

    act = activation("tanh")
    print("\n[1] symbolic generation of all 1/n NTK-sector recursions (tanh, dntk=True, ddntk=True)")
    print(f"{'inputs':>6s} {'cold s':>8s} {'in-process first s':>19s} {'repeat s':>9s}  statistics")
    first, names = {}, {}
    for m in (1, 2):
        t = time.perf_counter()
        rec = ntk_recursion(act, m, dntk=True, ddntk=True)
        first[m] = time.perf_counter() - t
        names[m] = [s.name for s in rec.statistics]
    for m in (1, 2):
        cold, cold_names = cold_generation(m)
        assert cold_names == names[m] and tuple(names[m]) == STATISTICS, (cold_names, names[m])
        t = time.perf_counter()
        ntk_recursion(act, m, dntk=True, ddntk=True)
        again = time.perf_counter() - t
        print(f"{m:6d} {cold:8.3f} {first[m]:19.3f} {again:9.2e}  {','.join(names[m])}")
    print("cold: fresh interpreter, imports excluded; in-process first: the 2-input call follows the 1-input one "
          "(shared sympy caches warm); repeat: lru_cache hit")
    print("the same recursions generated from the Feynman diagrams (nntheory.diagrams, cold; equal symbolically):")
    for m in (1, 2):
        cold, dn = cold_generation(m, f"ntk_diagram_recursion(a, {m}, ddntk=True)")
        assert tuple(dn) == STATISTICS, dn
        print(f"{m:6d} {cold:8.3f}  ntk_diagram_recursion(tanh, {m}, ddntk=True): ratio to hand-derived cold "
              f"{cold / cold_generation(m)[0]:.2f}")
    cold, dn = cold_generation(1, "ntk_mean_recursion(a, 1)")
    print(f"{1:6d} {cold:8.3f}  ntk_mean_recursion(tanh, 1): the NTK mean to 1/n^2 ({','.join(dn)})")


# ---------------------------------------------------------------- 2. compiled recursions


def _hyper(C_W, C_b):
    import jax.numpy as jnp

    return tuple(jnp.asarray(h, jnp.float64) for h in (C_W, C_b, 1.0, 1.0))


def eager_layers(comp, gram, layers, C_W=1.0, C_b=0.0):
    """Baseline: the compiled per-layer step run op by op (no jit/scan) for ``layers`` layers; (s/layer, last state)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    hyper = _hyper(C_W, C_b)
    one = jnp.asarray(1.0, jnp.float64)
    iu = np.triu_indices(gram.shape[0])
    with jax.disable_jit():
        t = time.perf_counter()
        state = jax.block_until_ready(comp._init(*jnp.asarray(gram)[iu], *hyper))
        t_init = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(layers - 1):
            state = jax.block_until_ready(comp._step(*state, *hyper, one))
        per_layer = (time.perf_counter() - t) / max(layers - 1, 1)
    return t_init, per_layer, state


def _flat_state(comp, out, layer):
    """The compiled outputs at ``layer`` (0-based) in the step's state order."""
    import numpy as np

    flat = np.empty(max(stop for _, _, stop, _ in comp._layout))
    for name, start, stop, idx in comp._layout:
        vals = np.asarray(out[name][layer]).ravel()
        flat[start + idx.ravel()] = vals  # positions sharing a state entry hold the same value
    return flat


def timed_compiled(rec, gram, depth, reps):
    """(sympy->JAX s, trace+XLA compile s, warm public call s, compiled recursion, outputs)."""
    from nntheory.numerics import compile_recursion
    from nntheory.numerics.finite_width._recursions import _run

    t = time.perf_counter()
    comp = compile_recursion(rec)
    t_lambdify = time.perf_counter() - t
    t = time.perf_counter()
    _run.lower(comp, gram, depth, 1.0, 0.0, 1.0, 1.0, None).compile()
    t_xla = time.perf_counter() - t
    out = comp(gram, depth=depth, C_W=1.0, C_b=0.0)  # the public call compiles (cached) and checks once
    warm = best_of(lambda: comp(gram, depth=depth, C_W=1.0, C_b=0.0), reps)
    return t_lambdify, t_xla, warm, comp, out


def recursion_section(a):
    """Print compile/warm times of the full NTK sector at depth ``a.rec_depth`` with two inputs, and the baselines."""
    import jax.numpy as jnp
    import numpy as np

    from nntheory.theory import activation, finite_width_recursion
    from nntheory.theory.finite_width._ntk import ntk_recursion

    act = activation("tanh")
    X = np.array(X2)
    gram = jnp.asarray(X @ X.T / X.shape[1])
    depth = a.rec_depth
    print(f"\n[2] compiled recursions, tanh, two inputs, depth {depth}, C_W = 1, C_b = 0 (criticality)")
    rec = ntk_recursion(act, 2, dntk=True, ddntk=True)
    lam, xla, warm, comp, out = timed_compiled(rec, gram, depth, a.rec_reps)
    n_state = max(stop for _, _, stop, _ in comp._layout)
    print(f"all 15 statistics ({n_state} distinct state entries): sympy->JAX {lam:.2f} s, trace+XLA compile "
          f"{xla:.2f} s, warm call {warm:.3f} s (best of {a.rec_reps}) = {warm / depth * 1e3:.2f} ms/layer")
    base = finite_width_recursion(act, 2)
    blam, bxla, bwarm, _, bout = timed_compiled(base, gram, depth, a.rec_reps)
    print(f"reference K,V,K1,Theta only: sympy->JAX {blam:.2f} s, trace+XLA compile {bxla:.2f} s, warm call "
          f"{bwarm:.3f} s; full sector / base = {warm / bwarm:.1f}x")
    L = max(a.baseline_layers, 2)
    t_init, per_layer, state = eager_layers(comp, gram, L)
    eager_total = t_init + per_layer * (depth - 1)
    ref = _flat_state(comp, out, L - 1)
    got = np.asarray(state)
    rel = np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300))
    print(f"baseline eager step loop (same step, op by op, no jit/scan), {L} layers: init {t_init:.2f} s, "
          f"{per_layer:.2f} s/layer -> {eager_total:.1f} s extrapolated to depth {depth}; compiled is "
          f"{eager_total / warm:.0f}x faster; max rel. difference at layer {L}: {rel:.1e}")
    last = {"K_11": out["K"][-1, 0, 0], "A_1111": out["A"][-1, 0, 0, 0, 0], "R_1111": out["R"][-1, 0, 0, 0, 0],
            "U_1212": out["U"][-1, 0, 1, 0, 1]}
    print(f"layer {depth} values: " + ", ".join(f"{k} = {float(v):.6e}" for k, v in last.items()))


# ---------------------------------------------------------------- 3. Monte Carlo throughput


def compiled_chunk(spec, X, chunk):
    """The per-chunk program of :func:`~nntheory.validation.sample_ntk_ensemble` (vmapped, jitted), compiled once."""
    import jax

    from nntheory.validation._networks import activation_fns
    from nntheory.validation.finite_width._ntk_monte_carlo import _summaries

    sig, dsig = activation_fns(spec.activation)
    keys = jax.random.split(jax.random.key(0), chunk)
    return jax.jit(jax.vmap(lambda k: _summaries(k, X, spec, sig, dsig))).lower(keys).compile()


def compiled_dd_chunk(spec, X, chunk):
    """The per-chunk program of :func:`~nntheory.validation.sample_ddntk_ensemble` (vmapped, jitted), compiled once."""
    import jax

    from nntheory.validation._networks import activation_fns
    from nntheory.validation.finite_width._ddntk_monte_carlo import _bytes_per_network, _summaries

    per = _bytes_per_network(spec, X.shape[0], X.shape[1])
    if per * chunk > 2 * 2**30:
        raise SystemExit(f"--dd-chunk {chunk}: about {per * chunk / 2**30:.1f} GiB of working memory "
                         f"({per / 2**20:.0f} MiB per network); use --dd-chunk <= {max(1, 2 * 2**30 // per)}.")
    sig, _ = activation_fns(spec.activation)
    keys = jax.random.split(jax.random.key(0), chunk)
    return jax.jit(jax.vmap(lambda k: _summaries(k, X, spec, sig))).lower(keys).compile()


def flops_per_network(compiled, chunk):
    """XLA's flop count of one compiled chunk, per network (random-bit generation included)."""
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return float(cost.get("flops", float("nan"))) / chunk


def throughput(compiled, chunk, reps):
    """Warm networks per second: best of ``reps`` calls of the compiled chunk on fresh keys."""
    import jax

    best = math.inf
    for r in range(reps):
        keys = jax.random.split(jax.random.key(r + 1), chunk)
        t = time.perf_counter()
        jax.block_until_ready(compiled(keys))
        best = min(best, time.perf_counter() - t)
    return chunk / best


def mc_section(a):
    """Print the matmul peak and the NTK / NTK+dNTK / ddNTK Monte Carlo throughput rows."""
    import numpy as np

    from nntheory.theory import activation
    from nntheory.validation import NTKEnsembleSpec

    X = np.array([[0.9, -0.4, 0.7, 0.2]])
    peak = matmul_peak()
    print(f"\n[3] Monte Carlo throughput; float64 matmul peak: {peak / 1e9:.2f} GFLOP/s (1024^3, best of 5)")
    print(f"tanh, width {a.width}, depth {a.depth}, {a.neurons} neurons/network, one input, chunk {a.chunk} "
          f"(ddNTK: chunk {a.dd_chunk}), compile time excluded")
    print(f"{'init':11s} {'moments':9s} {'nets/s':>9s} {'MFLOP/net':>10s} {'GFLOP/s':>8s} {'of peak':>8s} "
          f"{'compile s':>9s}")
    for init in ("gaussian", "orthogonal"):
        for moments in ("NTK", "NTK+dNTK", "ddNTK"):
            spec = NTKEnsembleSpec(activation("tanh"), a.depth, a.width, 1.0, 0.0, init=init, neurons=a.neurons,
                                   dntk=moments == "NTK+dNTK")
            chunk = a.dd_chunk if moments == "ddNTK" else a.chunk
            t = time.perf_counter()
            compiled = (compiled_dd_chunk if moments == "ddNTK" else compiled_chunk)(spec, X, chunk)
            t_compile = time.perf_counter() - t
            rate = throughput(compiled, chunk, a.reps)
            fl = flops_per_network(compiled, chunk)
            if init == "orthogonal":  # LAPACK geqrf + orgqr run as custom calls that XLA's count leaves out
                fl += (a.depth - 1) * 8 / 3 * a.width**3
            print(f"{init:11s} {moments:9s} {rate:9.1f} {fl / 1e6:10.2f} {rate * fl / 1e9:8.3f} "
                  f"{rate * fl / peak:8.2%} {t_compile:9.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--neurons", type=int, default=4)
    ap.add_argument("--chunk", type=int, default=32)
    ap.add_argument("--dd-chunk", type=int, default=8, help="networks per compiled ddNTK chunk")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rec-depth", type=int, default=100, help="depth of the compiled recursions")
    ap.add_argument("--rec-reps", type=int, default=3, help="best of N warm calls of the compiled recursions")
    ap.add_argument("--baseline-layers", type=int, default=2, help="layers of the eager baseline (>= 2)")
    ap.add_argument("--skip", default="", help="comma list of sections to skip: symbolic,recursions,mc")
    a = ap.parse_args()
    skip = {s for s in a.skip.split(",") if s}
    if skip - {"symbolic", "recursions", "mc"}:
        ap.error(f"--skip: unknown section(s) {sorted(skip - {'symbolic', 'recursions', 'mc'})}; "
                 "allowed: symbolic, recursions, mc")

    import jax

    jax.config.update("jax_enable_x64", True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPU cores, load average {load:.2f} (shared with other jobs); device "
          f"{jax.devices()[0].platform}; ratios within one run are what to read")
    if "symbolic" not in skip:
        symbolic_section()
    if "recursions" not in skip:
        recursion_section(a)
    if "mc" not in skip:
        mc_section(a)


if __name__ == "__main__":
    main()
