"""Monte Carlo empirical NTK + NNGP of width-512 MLPs: networks per second, nntheory vs neural-tangents.

Architecture (both sides): 3 hidden ReLU layers of width 512 and a linear read-out of width 1, i.e. PDLT depth 4
(``monte_carlo_kernels(depth=4, width=512, out_dim=1)``) and neural-tangents'
``serial(Dense(512), Relu) * 3 + Dense(1)`` in NTK parameterisation with ``W_std = sqrt(C_W)``, ``b_std = sqrt(C_b)``
(so ``lambda_W = C_W``, ``lambda_b = C_b``: the same NTK). Inputs: 20 and 100 Gaussian inputs of dimension 32,
float64 and float32. Each side is timed warm, best of 3; neural-tangents' ``monte_carlo_kernel_fn`` gets each
``implementation`` (1 Jacobian contraction, 2 NTK-vector products, 3 structured derivatives) probed and runs
with its fastest. It runs in its own environment (it needs ``jax<=0.5.3``), via ``--peer-python``:

    python -m venv /tmp/peers && /tmp/peers/bin/pip install 'jax<=0.5.3' 'jaxlib<=0.5.3' neural-tangents
    python benchmarks/ntk_monte_carlo.py --peer-python /tmp/peers/bin/python

Also printed: the difference of the two float64 NTK means in units of its standard error (the peer's spread
taken from ours, since it reports none) and the fraction of the machine's matmul peak (one large jitted matmul, same run, same dtype)
that nntheory's executed flops reach.
"""

import argparse
import json
import math
import subprocess
import sys
import time

IN_DIM, WIDTH, HIDDEN, C_W, C_B = 32, 512, 3, 2.0, 0.1


def _inputs(m):
    import numpy as np

    return np.random.default_rng(m).normal(size=(m, IN_DIM))


def peer(m, dtype, n_samples, reps):
    """neural-tangents side (runs in the peer environment): JSON with the best time and the mean kernels."""
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")
    import jax.numpy as jnp
    import neural_tangents as nt
    from neural_tangents import stax

    layers = []
    for _ in range(HIDDEN):
        layers += [stax.Dense(WIDTH, W_std=math.sqrt(C_W), b_std=math.sqrt(C_B)), stax.Relu()]
    init_fn, apply_fn, _ = stax.serial(*layers, stax.Dense(1, W_std=math.sqrt(C_W), b_std=math.sqrt(C_B)))
    x = jnp.asarray(_inputs(m), dtype)

    def run(impl, n):
        fn = nt.monte_carlo_kernel_fn(init_fn, apply_fn, jax.random.PRNGKey(1), n, implementation=impl, device_count=0)
        t = time.perf_counter()
        k = fn(x, None, ("nngp", "ntk"))
        k.ntk.block_until_ready()
        return time.perf_counter() - t, k

    probe = {}
    for impl in (1, 2, 3):
        try:
            run(impl, 1)  # compile
            probe[impl] = run(impl, 2)[0]
        except Exception as e:  # noqa: BLE001 (structured derivatives fail with some jax versions)
            print(f"implementation {impl} failed: {type(e).__name__}", file=sys.stderr)
    impl = min(probe, key=probe.get)
    best, k = min((run(impl, n_samples) for _ in range(reps)), key=lambda r: r[0])
    return {"seconds": best, "n": n_samples, "impl": impl, "probe": probe,
            "nngp": jnp.asarray(k.nngp, jnp.float64).tolist(), "ntk": jnp.asarray(k.ntk, jnp.float64).tolist()}


def matmul_peak(dtype, n=2048, reps=5):
    """Flop rate of one large jitted matmul (best of ``reps``)."""
    import jax
    import jax.numpy as jnp

    a = jnp.ones((n, n), dtype)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def executed_flops(m, depth=HIDDEN + 1):
    """Flops of one network in monte_carlo_kernels' plan (QR and matmuls of the projected layers, explicit ones)."""
    from nntheory.validation.kernels._monte_carlo import _plan

    sizes = (IN_DIM,) + (WIDTH,) * (depth - 1) + (1,)
    plan = _plan(sizes, m, C_W, C_B, C_W, C_B, "projected")
    r, f = m, 0.0  # out_dim = 1: r = m backward vectors
    for l, (a, b, p) in enumerate(zip(sizes, sizes[1:], plan.projected)):
        back = l > 0
        if p:
            f += 4 * a * m * m + 2 * m * m * b  # QR of h^T, R^T Xi^T
            if back:
                k = min(r, b)
                f += 2 * r * b * m + 4 * b * r * r + 2 * k * a * m + 2 * r * m * a + 2 * r * k * a
        else:
            f += 2 * m * a * b + (2 * r * a * b if back else 0)
        f += 2 * m * m * (a + b)  # the Gram matrices of the layer term
    return f


def ours(m, dtype, n_nets, reps):
    import jax

    from nntheory.theory import activation
    from nntheory.validation import monte_carlo_kernels

    kw = dict(depth=HIDDEN + 1, width=WIDTH, C_W=C_W, C_b=C_B, lambda_W=C_W, lambda_b=C_B, n_nets=n_nets, dtype=dtype)
    x = _inputs(m)
    monte_carlo_kernels(activation("relu"), x, key=jax.random.key(0), **kw)  # compile
    best, res = math.inf, None
    for i in range(reps):
        t = time.perf_counter()
        res = monte_carlo_kernels(activation("relu"), x, key=jax.random.key(1 + i), **kw)
        best = min(best, time.perf_counter() - t)
    return best, res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--peer-python", help="python of an environment with neural-tangents (omit: nntheory only)")
    p.add_argument("--sizes", type=int, nargs="+", default=[20, 100])
    p.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--as-peer", nargs=3, metavar=("M", "DTYPE", "N"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.as_peer:
        print(json.dumps(peer(int(a.as_peer[0]), a.as_peer[1], int(a.as_peer[2]), a.reps)))
        return
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    print(f"empirical NTK + NNGP, ReLU MLP, {HIDDEN} hidden layers of width {WIDTH} + read-out of width 1, "
          f"input dimension {IN_DIM}; best of {a.reps}, warm; {jax.device_count()} {jax.devices()[0].platform} device(s)")
    peaks = {dt: matmul_peak(dt) for dt in a.dtypes}
    for dt in a.dtypes:
        print(f"measured {dt} matmul peak: {peaks[dt] / 1e9:.3g} GFLOP/s")
    for m in a.sizes:
        for dt in a.dtypes:
            n_nets = 2048 if m <= 32 else 512
            t, res = ours(m, dt, n_nets, a.reps)
            rate = n_nets / t
            frac = executed_flops(m) * rate / peaks[dt]
            rel = max(float(np.max(res.ntk_se / np.abs(res.ntk))), float(np.max(res.nngp_se / np.abs(res.nngp))))
            line = (f"{m:4d} inputs {dt}: nntheory {rate:8.1f} networks/s ({frac:.1%} of the {dt} matmul peak; "
                    f"largest relative SE {rel:.1e} at {n_nets} networks)")
            if a.peer_python:
                n_peer = 8 if m <= 32 else 4
                out = subprocess.run([a.peer_python, __file__, "--reps", str(a.reps), "--as-peer", str(m), dt, str(n_peer)],
                                     capture_output=True, text=True, check=True)
                pr = json.loads(out.stdout.strip().splitlines()[-1])
                prate = pr["n"] / pr["seconds"]
                line += f" | neural-tangents {prate:7.3f} networks/s (implementation {pr['impl']}) | ratio {rate / prate:6.1f}x"
                if dt == "float64":  # a sanity check of the mapping: the peer's few-network NTK mean against ours
                    se = res.ntk_se * np.sqrt(1 + n_nets / pr["n"])  # the spread of one network, from ours
                    line += f" | peer NTK mean - ours: max|z| {np.max(np.abs(np.asarray(pr['ntk']) - res.ntk) / se):.1f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
