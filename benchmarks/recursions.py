"""Compiled recursion vs a straightforward reference (scipy quadrature per layer), in one run.

Task: K, V, K1, Theta to depth 100 for 1000 inputs, K and Theta for all pairs (V, K1 per input).
The reference evaluates every Gaussian expectation with scipy.integrate per layer; it is run on a
sample of pairs/inputs and its time extrapolated linearly (it is a loop over independent work).
Usage: python benchmarks/recursions.py [--activation erf] [--inputs 1000] [--depth 100]
"""

import argparse
import time

import jax
import numpy as np
from scipy import integrate, special

jax.config.update("jax_enable_x64", True)

from nntheory.numerics import pairwise_statistics  # noqa: E402
from nntheory.theory import activation  # noqa: E402

SIG = {"erf": (special.erf, lambda x: 2 / np.sqrt(np.pi) * np.exp(-x * x)), "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2)}


def ref_pair(f, df, K11, K12, K22, depth, C_W, C_b):
    """Reference: K and Theta of one pair through depth layers with scipy dblquad."""
    Th = np.array([1 + K11, 1 + K12, 1 + K22])
    K = np.array([C_b + C_W * K11, C_b + C_W * K12, C_b + C_W * K22])
    for _ in range(depth - 1):
        cov = np.array([[K[0], K[1]], [K[1], K[2]]])
        L = np.linalg.cholesky(cov)

        def E(g1, g2, a=0, b=1):
            def integrand(v, u):
                z = L @ np.array([u, v])
                return g1(z[a]) * g2(z[b]) * np.exp(-(u * u + v * v) / 2) / (2 * np.pi)
            return integrate.dblquad(integrand, -8, 8, -8, 8, epsabs=1e-10)[0]

        G = np.array([E(f, f, 0, 0), E(f, f), E(f, f, 1, 1)])
        T = np.array([E(df, df, 0, 0), E(df, df), E(df, df, 1, 1)])
        Th = 1 + G + C_W * T * Th
        K = C_b + C_W * G
    return K, Th


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--activation", default="erf", choices=sorted(SIG))
    p.add_argument("--inputs", type=int, default=1000)
    p.add_argument("--depth", type=int, default=100)
    p.add_argument("--ref-pairs", type=int, default=2)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(a.inputs, 32))
    G = X @ X.T / 32
    C_W, C_b = (np.pi / 4, 0.0) if a.activation == "erf" else (1.0, 0.0)
    act = activation(a.activation)
    t = time.perf_counter()
    out = pairwise_statistics(act, G, depth=a.depth, C_W=C_W, C_b=C_b)
    jax.block_until_ready(out)
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    out = pairwise_statistics(act, G, depth=a.depth, C_W=C_W, C_b=C_b)
    jax.block_until_ready(out)
    t_warm = time.perf_counter() - t
    n_pairs = a.inputs * (a.inputs + 1) // 2
    f, df = SIG[a.activation]
    t = time.perf_counter()
    for i in range(a.ref_pairs):
        Kr, Thr = ref_pair(f, df, G[0, 0], G[0, i + 1], G[i + 1, i + 1], a.depth, C_W, C_b)
    t_ref_pair = (time.perf_counter() - t) / a.ref_pairs
    err = abs(Kr[1] - float(out["K"][-1, 0, a.ref_pairs])) / abs(Kr[1])
    t_ref = t_ref_pair * n_pairs
    print(f"task: {a.activation}, {a.inputs} inputs ({n_pairs} pairs), depth {a.depth}: K, Theta all pairs; V, K1 per input")
    print(f"nntheory compiled: first call {t_first:.2f} s (incl. compile), warm {t_warm:.2f} s")
    print(f"reference scipy dblquad per layer: {t_ref_pair:.2f} s per pair -> {t_ref:.3g} s extrapolated to all pairs")
    print(f"ratio reference / compiled (warm): {t_ref / t_warm:.3g}x   (first call: {t_ref / t_first:.3g}x)")
    print(f"agreement on a sampled pair, last layer K: relative difference {err:.2e}")


if __name__ == "__main__":
    main()
