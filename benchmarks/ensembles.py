"""Monte Carlo throughput: networks x layers per second at width 256, and the fraction of the
machine's matmul peak (measured in the same run with one large jitted matmul) that it reaches.
Usage: python benchmarks/ensembles.py [--width 256] [--depth 10] [--n-nets 512]
"""

import argparse
import time

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

from nntheory.theory import activation  # noqa: E402
from nntheory.validation import EnsembleSpec, sample_ensemble  # noqa: E402


def matmul_peak(n=2048, dtype=jnp.float64, reps=5):
    a = jnp.ones((n, n), dtype)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    t = time.perf_counter()
    for _ in range(reps):
        f(a).block_until_ready()
    return 2 * n**3 * reps / (time.perf_counter() - t)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--n-nets", type=int, default=512)
    p.add_argument("--inputs", type=int, default=2)
    a = p.parse_args()
    import numpy as np

    X = np.random.default_rng(0).normal(size=(a.inputs, 64))
    spec = EnsembleSpec(activation("tanh"), a.depth, a.width, 1.0, 0.0)
    sample_ensemble(spec, X, key=jax.random.key(0), n_nets=256)  # compile
    t = time.perf_counter()
    sample_ensemble(spec, X, key=jax.random.key(1), n_nets=a.n_nets)
    dt = time.perf_counter() - t
    n, L, m, k = a.width, a.depth, a.inputs, spec.ntk_neurons
    # forward matmuls + NTK backprop (k neurons, m inputs, l layers back for each layer l)
    flops = a.n_nets * (2 * m * n * n * L + 2 * k * m * n * n * L * (L - 1) / 2)
    peak = matmul_peak()
    # the same number of Gaussian weights drawn alone (threefry on CPU), to show where the time goes
    draw = jax.jit(lambda k: jax.random.normal(k, (a.n_nets // 8, L, n, n)).sum())
    draw(jax.random.key(2)).block_until_ready()
    t = time.perf_counter()
    for i in range(8):
        draw(jax.random.key(3 + i)).block_until_ready()
    t_rng = time.perf_counter() - t
    print(f"width {n}, depth {L}, {m} inputs, {a.n_nets} networks: {dt:.2f} s")
    print(f"throughput: {a.n_nets * L / dt:.4g} network-layers/s, {a.n_nets / dt:.4g} networks/s")
    print(f"model flops {flops / dt / 1e9:.3g} GFLOP/s vs measured float64 matmul peak {peak / 1e9:.3g} GFLOP/s "
          f"-> {flops / dt / peak:.1%} of peak")
    print(f"drawing the {a.n_nets * L * n * n:.3g} weights alone takes {t_rng:.2f} s ({t_rng / dt:.0%} of the run): "
          "at few inputs per network the run is bound by random-number generation, not by matmuls")
    print(f"ceiling with explicit weights at this generator speed: {flops / t_rng / peak:.1%} of peak "
          "(model flops over the time of the draws alone)")


if __name__ == "__main__":
    main()
