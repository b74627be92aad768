"""Infinite-width NNGP + NTK of deep MLPs for many inputs: compile and warm times, vs a numpy baseline.

For N inputs (N x N kernels) at depth 10 and 50: the time of the first call (trace + compile + run)
and of a warm call, the compile time alone (AOT lower + compile) per depth, and the same computation
with the straightforward numpy arc-cosine / arcsine iteration (the baseline, same process, same
machine). ``depth`` is a dynamic argument of the compiled kernel (``lax.fori_loop``), so compile time
does not grow with depth and a new depth never recompiles.
Usage: python benchmarks/kernels.py [--inputs 1000,10000] [--depths 10,50] [--activation relu]

``--activation tanh`` or ``gelu`` (smooth activations, 10 nonlinearities in neural-tangents'
convention, W_std = 1.2, b_std = 0.3; nntheory takes the Mehler series for tanh and the closed form for
exact GELU, see ``numerics/kernels/_graded.py``): nntheory's first-call and warm time (best of 3) against
neural-tangents' ``stax.serial(Dense, ElementwiseNumerical(tanh, deg) / Gelu(), ...)`` ``kernel_fn`` on the
same inputs, run in its own environment (``--peer-python``, e.g. a venv with ``pip install 'jax==0.5.3'
'jaxlib==0.5.3' neural-tangents``), best of 3, the max relative error of both against an independent route
on 3 of the inputs (scipy's adaptive ``dblquad`` per pair and layer), their max relative difference on all
inputs, and the peak resident memory of this process. A peer degree ``deg`` is skipped at ``N`` inputs
where ``deg**2 * N**2`` exceeds ``--peer-limit`` (neural-tangents' cost grows like that).
Usage: python benchmarks/kernels.py --activation tanh --inputs 40,200,1000 --peer-python PEER/bin/python
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


PEER = r"""
import sys, time, numpy as np, jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
from neural_tangents import stax
act, deg, depth, W, b, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
x = jnp.asarray(np.load(path + ".in.npy"))
nl = stax.Gelu(approximate=False) if act == "gelu" else stax.ElementwiseNumerical(jnp.tanh, deg=deg)
layers = []
for _ in range(depth):
    layers += [stax.Dense(512, W_std=W, b_std=b), nl]
_, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=W, b_std=b))
kf = jax.jit(kernel_fn, static_argnames="get")
best = []
for _ in range(int(sys.argv[7]) + 1):
    t = time.perf_counter(); out = kf(x, None, get=("nngp", "ntk")); out.ntk.block_until_ready(); best.append(time.perf_counter() - t)
import resource
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
np.savez(path + ".out.npz", nngp=np.asarray(out.nngp), ntk=np.asarray(out.ntk), first=best[0], warm=min(best[1:]), rss=rss)
"""


def scipy_reference(name, x, depth, W, b):
    """NNGP/NTK of a few inputs by scipy's adaptive quadrature per pair and layer (an independent route)."""
    from scipy import integrate, special

    f = np.tanh if name == "tanh" else (lambda z: z * (1 + special.erf(z / np.sqrt(2))) / 2)
    fp = (lambda z: 1 / np.cosh(z) ** 2) if name == "tanh" else (
        lambda z: (1 + special.erf(z / np.sqrt(2))) / 2 + z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi))
    C, c = W * W, b * b
    X = x @ x.T / x.shape[1]
    K, T = c + C * X, c + C * X
    n = len(x)
    for _ in range(depth):
        G, Gp = np.empty((n, n)), np.empty((n, n))
        for i in range(n):
            for j in range(i, n):
                if i == j:
                    s = np.sqrt(K[i, i])
                    for arr, g in ((G, f), (Gp, fp)):
                        arr[i, i] = integrate.quad(lambda u: g(s * u) ** 2 * np.exp(-u * u / 2) / np.sqrt(2 * np.pi), -12, 12,
                                                   points=[0.0], epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                    continue
                L = np.linalg.cholesky(K[np.ix_([i, j], [i, j])])
                for arr, g in ((G, f), (Gp, fp)):
                    arr[i, j] = arr[j, i] = integrate.dblquad(
                        lambda v, u: g(L[0, 0] * u) * g(L[1, 0] * u + L[1, 1] * v) * np.exp(-(u * u + v * v) / 2) / (2 * np.pi),
                        -12, 12, -12, 12, epsabs=1e-14, epsrel=1e-12)[0]
        K, T = c + C * G, c + C * G + C * Gp * T
    return K, T


def smooth(a):
    import os
    import subprocess
    import tempfile

    W, b, depth = 1.2, 0.3, 10
    print(f"# {a.activation}: MLP, {depth} nonlinearities, W_std={W}, b_std={b} (neural-tangents convention); "
          f"NNGP+NTK, N x N; warm = best of 3; machine shared, loaded")
    print(f"{'N':>6} {'nnt first':>10} {'nnt warm':>9} {'peer':>22} {'peer first':>11} {'peer warm':>10} "
          f"{'peer/nnt':>9} {'nnt err':>9} {'peer err':>9} {'nnt-peer':>9}")
    rng = np.random.default_rng(0)
    x_all = rng.normal(size=(max(int(v) for v in a.inputs.split(",")), 16))
    ref = scipy_reference(a.activation, x_all[:3], depth, W, b) if a.reference else None
    k = MLPKernel.neural_tangents(a.activation, W_std=W, b_std=b, depth=depth)
    for N in (int(v) for v in a.inputs.split(",")):
        x = x_all[:N]
        times = []
        for _ in range(a.repeats + 1):
            t = time.perf_counter()
            out = k(x)
            out.ntk.block_until_ready()
            times.append(time.perf_counter() - t)
        first, warm = times[0], min(times[1:])
        K, T = np.asarray(out.nngp), np.asarray(out.ntk)
        err = max(np.max(np.abs(K[:3, :3] / ref[0] - 1)), np.max(np.abs(T[:3, :3] / ref[1] - 1))) if ref is not None else np.nan
        for deg in ([0] if a.activation == "gelu" else [int(d) for d in a.peer_degrees.split(",")]):
            label = "nt Gelu (closed form)" if deg == 0 else f"nt ElementwiseNum({deg})"
            if not a.peer_python or deg**2 * N**2 > a.peer_limit:
                why = "(no --peer-python)" if not a.peer_python else f"{label} skipped"
                print(f"{N:>6} {first:>9.2f}s {warm:>8.3f}s {why:>22} {'':>11} {'':>10} {'':>9} {err:>9.1e}", flush=True)
                continue
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "k")
                np.save(path + ".in.npy", x)
                with open(path + ".py", "w") as fh:
                    fh.write(PEER)
                subprocess.run([a.peer_python, path + ".py", a.activation, str(deg), str(depth), str(W), str(b), path, str(a.repeats)],
                               check=True, capture_output=True, text=True)
                peer = np.load(path + ".out.npz")
                pK, pT, pw, pf = peer["nngp"], peer["ntk"], float(peer["warm"]), float(peer["first"])
            perr = max(np.max(np.abs(pK[:3, :3] / ref[0] - 1)), np.max(np.abs(pT[:3, :3] / ref[1] - 1))) if ref is not None else np.nan
            diff = max(np.max(np.abs(pK / K - 1)), np.max(np.abs(pT / T - 1)))
            print(f"{N:>6} {first:>9.2f}s {warm:>8.3f}s {label:>22} {pf:>10.2f}s {pw:>9.3f}s {pw / warm:>9.1f} {err:>9.1e} "
                  f"{perr:>9.1e} {diff:>9.1e}   (peer peak memory {float(peer['rss']):.2f} GiB)", flush=True)
        import resource

        print(f"# N={N}: peak resident memory of this process so far "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", default="1000,10000")
    ap.add_argument("--depths", default="10,50")
    ap.add_argument("--activation", default="relu", choices=("relu", "erf", "tanh", "gelu"))
    ap.add_argument("--peer-python", default="", help="python of an environment with neural-tangents (smooth activations)")
    ap.add_argument("--peer-degrees", default="25,200", help="ElementwiseNumerical degrees for tanh")
    ap.add_argument("--repeats", type=int, default=3, help="warm calls (best of) after the first")
    ap.add_argument("--peer-limit", type=float, default=1e9, help="skip a peer degree where deg**2 * N**2 exceeds this")
    ap.add_argument("--no-reference", dest="reference", action="store_false", help="skip the scipy accuracy reference")
    a = ap.parse_args()
    if a.activation in ("tanh", "gelu"):
        return smooth(a)
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
