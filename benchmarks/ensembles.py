"""Monte Carlo throughput: networks x layers per second at width 256, and the fraction of the
machine's matmul peak (measured in the same run with one large jitted matmul) that it reaches.

Both samplers of ``sample_ensemble`` run in the same process on the same configuration: the default
``projected`` one (preactivations from their exact conditional law, weights drawn only where the NTK
backpropagates through them, given the preactivations) and the ``explicit`` baseline (every weight
matrix drawn). "Model flops" are those of the dense computation (forward matmuls and the NTK backprop
with explicit weights), so for the projected sampler the fraction of peak is dense-equivalent: the
throughput expressed as the matmul rate the explicit algorithm would need to match it. The peak is the best
single run of a 2048 x 2048 float64 matmul, measured before and after the samplers (the larger is used).
The projected sampler's normals come from Philox-4x32 bits and a Box-Muller transform (see
``_ensembles._Normals``); the last line times them alone against ``jax.random.normal`` with threefry keys.
Usage: python benchmarks/ensembles.py [--width 256] [--depth 10] [--n-nets 512] [--ntk-neurons 4]
"""

import argparse
import math
import time

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

from nntheory.theory import activation  # noqa: E402
from nntheory.validation import EnsembleSpec, sample_ensemble  # noqa: E402


def matmul_peak(n=2048, dtype=jnp.float64, reps=5):
    """The best single-run rate of one jitted n x n matmul (the best, not the mean: a conservative peak)."""
    a = jnp.ones((n, n), dtype)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def normals_per_network(spec, X):
    """How many standard normals the projected sampler draws per network (counted while tracing one)."""
    from nntheory.validation.finite_width import _ensembles as E

    sizes, take = [], E._Normals.take
    E._Normals.take = lambda self, shape: (sizes.append(math.prod(shape)), take(self, shape))[1]
    try:
        m = X.shape[0]
        pairs = tuple((a, b) for a in range(m) for b in range(a, m))
        sig, dsig = E.activation_fns(spec.activation)
        jax.eval_shape(lambda k: E._one_network_projected(k, jnp.asarray(X), spec, sig, dsig, pairs), jax.random.key(0))
    finally:
        E._Normals.take = take
    return sum(sizes)


def time_draws(count, n_nets, chunk, draw):
    """Best of 3 seconds to draw ``count`` normals for each of ``n_nets`` networks, ``chunk`` networks per call,
    into memory (as the sampler's matmuls read them; a fused reduction of the draws runs at another speed)."""
    f = jax.jit(jax.vmap(lambda k: draw(k, count)))
    keys = jax.random.split(jax.random.key(5), n_nets)
    f(keys[:chunk]).block_until_ready()
    if n_nets % chunk:
        f(keys[n_nets - n_nets % chunk :]).block_until_ready()  # the last chunk's shape too
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for s in range(0, n_nets, chunk):
            f(keys[s : s + chunk]).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--n-nets", type=int, default=512)
    p.add_argument("--inputs", type=int, default=2)
    p.add_argument("--ntk-neurons", type=int, default=4, help="neurons the NTK averages over (0: kernels only)")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    import numpy as np

    X = np.random.default_rng(0).normal(size=(a.inputs, 64))
    spec = EnsembleSpec(activation("tanh"), a.depth, a.width, 1.0, 0.0, ntk_neurons=a.ntk_neurons)
    n, L, m, k = a.width, a.depth, a.inputs, spec.ntk_neurons
    # forward matmuls + NTK backprop (k neurons, m inputs, l layers back for each layer l)
    flops = a.n_nets * (2 * m * n * n * L + 2 * k * m * n * n * L * (L - 1) / 2)
    peak = matmul_peak()
    times = {}
    for sampler in ("projected", "explicit"):
        sample_ensemble(spec, X, key=jax.random.key(0), n_nets=a.n_nets, sampler=sampler)  # compile (same chunks)
        best = float("inf")
        for rep in range(a.repeat):
            t = time.perf_counter()
            sample_ensemble(spec, X, key=jax.random.key(1 + rep), n_nets=a.n_nets, sampler=sampler)
            best = min(best, time.perf_counter() - t)
        times[sampler] = best
    peak = max(peak, matmul_peak())  # before and after the samplers: the larger (conservative)
    print(f"width {n}, depth {L}, {m} inputs, NTK over {k} neurons, {a.n_nets} networks (best of {a.repeat}); "
          f"float64 matmul peak measured now (best single 2048^3 matmul, before and after): {peak / 1e9:.3g} GFLOP/s")
    for sampler, dt in times.items():
        print(f"  {sampler:9s}: {dt:6.2f} s, {a.n_nets / dt:8.4g} networks/s, {a.n_nets * L / dt:8.4g} network-layers/s, "
              f"dense model flops {flops / dt / 1e9:.3g} GFLOP/s = {flops / dt / peak:.1%} of peak")
    print(f"  projected / explicit speed-up: {times['explicit'] / times['projected']:.1f}x")
    # the projected sampler's normals alone: its generator (Philox-4x32 bits, Box-Muller) against jax.random.normal
    from nntheory.validation.finite_width._ensembles import _auto_chunk, _Normals

    count, chunk = normals_per_network(spec, X), _auto_chunk(spec, m)
    t_own = time_draws(count, a.n_nets, chunk, lambda k, c: _Normals(k, jnp.float64).take((c,)))
    t_jax = time_draws(count, a.n_nets, chunk, lambda k, c: jax.random.normal(k, (c,), jnp.float64))
    print(f"  projected: its {count} normals per network drawn alone take {t_own:.2f} s ({t_own / times['projected']:.0%} "
          f"of its run; {a.n_nets * count / t_own / 1e6:.0f} M/s); jax.random.normal (threefry) would take {t_jax:.2f} s "
          f"({t_jax / t_own:.1f}x)")
    # the same number of Gaussian weights drawn alone (threefry on CPU), to show where the explicit time goes
    draw = jax.jit(lambda k: jax.random.normal(k, (a.n_nets // 8, L, n, n)).sum())
    draw(jax.random.key(2)).block_until_ready()
    t = time.perf_counter()
    for i in range(8):
        draw(jax.random.key(3 + i)).block_until_ready()
    t_rng = time.perf_counter() - t
    print(f"  explicit: drawing its {a.n_nets * L * n * n:.3g} weights alone takes {t_rng:.2f} s "
          f"({t_rng / times['explicit']:.0%} of its run); ceiling with explicit weights at this generator speed: "
          f"{flops / t_rng / peak:.1%} of peak")

if __name__ == "__main__":
    main()
