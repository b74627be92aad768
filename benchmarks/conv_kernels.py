"""ConvKernel (CNN / C4 GCNN NNGP+NTK) of smooth activations without closed forms: per-layer Mehler series vs quadrature.

Both routes run in this process on the same images: the default route (each layer's dual functions by Mehler's
series over the sites image x rotation x pixel, numerics/kernels/_conv_kernels.py) and the two-dimensional quadrature
of every spatial covariance entry (the route every such activation took before, still the fallback; one jitted
program). Printed: first call (trace + compile + run) and best-of-``--repeats`` warm time of each, their ratio,
and the largest relative difference of the kernels.
Usage: python benchmarks/conv_kernels.py [--activations tanh,gelu] [--images 2] [--size 4] [--depth 3] [--n-rot 4]
"""

import argparse
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from nntheory.numerics import ConvKernel  # noqa: E402
from nntheory.numerics.kernels import _conv_kernels as ck  # noqa: E402


def timed(fn, repeats):
    t = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - t
    warm = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        warm.append(time.perf_counter() - t)
    return out, first, min(warm)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--activations", default="tanh,gelu")
    ap.add_argument("--images", type=int, default=2)
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--n-rot", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    x = np.random.default_rng(0).normal(size=(args.images, args.size, args.size))
    print(f"{args.images} images {args.size}x{args.size}, n_rot={args.n_rot}, filter 3, depth {args.depth}, C_W=1.3, C_b=0.2")
    print(f"{'activation':>10} {'route':>10} {'first (s)':>10} {'warm (s)':>10} {'warm ratio':>11} {'max rel diff':>13}")
    for name in args.activations.split(","):
        k = ConvKernel(name, args.depth, 1.3, 0.2, n_rot=args.n_rot, filter_size=3)
        a = k._images(x, "x")
        new, f_new, w_new = timed(lambda: tuple(k(x).__dict__.values()), args.repeats)
        old, f_old, w_old = timed(lambda: ck._block(k, a, a), args.repeats)
        diff = max(float(np.max(np.abs(np.asarray(p) - np.asarray(q))) / np.max(np.abs(np.asarray(q)))) for p, q in zip(new, old))
        print(f"{name:>10} {'series':>10} {f_new:10.2f} {w_new:10.4f} {w_old / w_new:10.0f}x {diff:13.2e}")
        print(f"{name:>10} {'quadrature':>10} {f_old:10.2f} {w_old:10.4f} {'1x':>11}")


if __name__ == "__main__":
    main()
