"""Monte Carlo throughput of the NTK sector (NTK and NTK + dNTK moments) as a fraction of the float64 matmul peak.

One run: the matmul peak (one large jitted float64 matmul, best of 5) and, for tanh MLPs of width ``--width`` and
depth ``--depth`` (one input, ``--neurons`` output neurons per network), Gaussian and orthogonal weights, with and
without the dNTK, the warm throughput of the per-chunk program of :func:`~nntheory.validation.sample_ntk_ensemble`
(compiled once, then best of ``--reps`` calls on fresh keys; compilation excluded).
The flops per network are XLA's count for the compiled per-chunk program (``cost_analysis``), so the fraction of
peak is that of the work actually executed (random-bit generation included, which dominates the NTK-only
count at width 256; for orthogonal weights the LAPACK QR, ``8/3 n^3`` per hidden layer, is added by hand since
XLA does not count custom calls)::

    python benchmarks/ntk.py [--width 256 --depth 3 --neurons 4 --chunk 32 --reps 3]
"""

import argparse
import math
import time


def matmul_peak(n=1024, reps=5):
    """Flop rate of one jitted float64 ``n x n`` matmul (best of ``reps``)."""
    import jax
    import jax.numpy as jnp

    a = jnp.ones((n, n), jnp.float64)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def compiled_chunk(spec, X, chunk):
    """The per-chunk program of :func:`~nntheory.validation.sample_ntk_ensemble` (vmapped, jitted), compiled once."""
    import jax

    from nntheory.validation._networks import activation_fns
    from nntheory.validation.finite_width._ntk_monte_carlo import _summaries

    sig, dsig = activation_fns(spec.activation)
    keys = jax.random.split(jax.random.key(0), chunk)
    return jax.jit(jax.vmap(lambda k: _summaries(k, X, spec, sig, dsig))).lower(keys).compile()


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--neurons", type=int, default=4)
    ap.add_argument("--chunk", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()

    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from nntheory.theory import activation
    from nntheory.validation import NTKEnsembleSpec

    X = np.array([[0.9, -0.4, 0.7, 0.2]])
    peak = matmul_peak()
    print("machine: shared 2-core CPU under load from other jobs; ratios in one run are what to read")
    print(f"float64 matmul peak: {peak / 1e9:.2f} GFLOP/s (1024^3, best of 5); device {jax.devices()[0].platform}")
    print(f"tanh, width {a.width}, depth {a.depth}, {a.neurons} neurons/network, one input, chunk {a.chunk}")
    print(f"{'init':11s} {'moments':9s} {'nets/s':>9s} {'MFLOP/net':>10s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for init in ("gaussian", "orthogonal"):
        for dntk in (False, True):
            spec = NTKEnsembleSpec(activation("tanh"), a.depth, a.width, 1.0, 0.0, init=init, neurons=a.neurons, dntk=dntk)
            compiled = compiled_chunk(spec, X, a.chunk)
            rate = throughput(compiled, a.chunk, a.reps)
            fl = flops_per_network(compiled, a.chunk)
            if init == "orthogonal":  # LAPACK geqrf + orgqr run as custom calls that XLA's count leaves out
                fl += (a.depth - 1) * 8 / 3 * a.width**3
            print(f"{init:11s} {'NTK+dNTK' if dntk else 'NTK':9s} {rate:9.1f} {fl / 1e6:10.2f} {rate * fl / 1e9:8.3f} "
                  f"{rate * fl / peak:8.2%}")


if __name__ == "__main__":
    main()
