"""Infinite-width NNGP + NTK of deep MLPs for many inputs: compile and warm times, vs a numpy baseline.

For N inputs (N x N kernels) at depth 10 and 50: the time of the first call (trace + compile + run)
and of a warm call, the compile time alone (AOT lower + compile) per depth, and the same computation
with the straightforward numpy arc-cosine / arcsine iteration (the baseline, same process, same
machine). ``depth`` is a dynamic argument of the compiled kernel (``lax.fori_loop``), so compile time
does not grow with depth and a new depth never recompiles.
Usage: python benchmarks/kernels.py [--inputs 1000,10000] [--depths 10,50] [--activation relu]
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

from nntheory.numerics import MLPKernel, QuadratureConfig  # noqa: E402
from nntheory.numerics.kernels._kernels import _kernel_block  # noqa: E402
from nntheory.theory import activation  # noqa: E402


def numpy_baseline(name, x, depth, C_W, C_b):
    X = x @ x.T / x.shape[1]
    K, T = C_b + C_W * X, 1 + X
    for _ in range(depth - 1):
        if name == "relu":
            d = np.sqrt(np.diag(K))
            rho = np.clip(K / np.outer(d, d), -1, 1)
            th = np.arccos(rho)
            G = np.outer(d, d) * (np.sin(th) + (np.pi - th) * rho) / (2 * np.pi)
            Gp = (np.pi - th) / (2 * np.pi)
        else:
            d = 1 + 2 * np.diag(K)
            G = 2 / np.pi * np.arcsin(2 * K / np.sqrt(np.outer(d, d)))
            Gp = 4 / np.pi / np.sqrt(np.outer(d, d) - 4 * K**2)
        K, T = C_b + C_W * G, 1 + G + C_W * Gp * T
    return K, T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", default="1000,10000")
    ap.add_argument("--depths", default="10,50")
    ap.add_argument("--activation", default="relu", choices=("relu", "erf"))
    a = ap.parse_args()
    C_W, C_b = (2.0, 0.05) if a.activation == "relu" else (1.5, 0.05)
    print(f"# {a.activation}: C_W={C_W}, C_b={C_b}; NNGP and NTK, N x N; devices {jax.devices()}")
    print(f"{'N':>6} {'depth':>5} {'compile (AOT)':>14} {'first call':>11} {'warm':>8} {'numpy':>8} {'numpy/warm':>11} {'max rel diff':>13}")
    rng = np.random.default_rng(0)
    for N in (int(v) for v in a.inputs.split(",")):
        x = rng.normal(size=(N, 32))
        for depth in (int(v) for v in a.depths.split(",")):
            k = MLPKernel(a.activation, depth, C_W, C_b)
            fn = _kernel_block(activation(a.activation), QuadratureConfig())
            rows = max(1, min(N, (1 << 22) // N))
            args = (jnp.zeros((rows, N)), jnp.ones(rows), jnp.ones(N), jnp.ones(4), depth)
            jax.clear_caches()  # a fresh compile for each depth: its time must not grow with depth
            t = time.perf_counter()
            fn.lower(*args).compile()
            t_compile = time.perf_counter() - t
            t = time.perf_counter()
            out = k(x)
            out.ntk.block_until_ready()
            t_first = time.perf_counter() - t
            t = time.perf_counter()
            out = k(x)
            out.ntk.block_until_ready()
            t_warm = time.perf_counter() - t
            t = time.perf_counter()
            K, T = numpy_baseline(a.activation, x, depth, C_W, C_b)
            t_np = time.perf_counter() - t
            off = ~np.eye(N, dtype=bool)  # the baseline rounds the diagonal correlation to 1 - ulp
            diff = max(np.max(np.abs(np.asarray(out.nngp)[off] / K[off] - 1)), np.max(np.abs(np.asarray(out.ntk)[off] / T[off] - 1)))
            print(f"{N:>6} {depth:>5} {t_compile:>13.2f}s {t_first:>10.2f}s {t_warm:>7.2f}s {t_np:>7.2f}s {t_np / t_warm:>11.2f} {diff:>13.2e}",
                  flush=True)
            del K, T, out


if __name__ == "__main__":
    main()
