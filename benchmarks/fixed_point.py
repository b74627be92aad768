"""Throughput of the bit-exact emulator against hls4ml's compiled C++ model (``compile()`` / ``predict()``).

Two 3-layer quantized MLPs on the same batch of inputs, timed in this process:

* ``digits``: the acceptance network (64 -> 32 relu -> 16 tanh table -> 10 softmax tables), with accumulators
  that are too narrow for the last layer's products, so its products are cast one by one (hls4ml's path);
* ``wide-accum``: 64 -> 64 relu -> 64 relu -> 10 with accumulators that hold every product exactly (the
  emulator's matmul path).

For each: the emulator (jit-compiled, warm) and hls4ml's ``predict`` (compiled once), samples per second, the
ratio, and a bit-for-bit check of the outputs. Needs the ``fpga`` extra and g++ for the hls4ml side.

    python benchmarks/fixed_point.py [--batch 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from nntheory.numerics.fixed_point import quantized_mlp  # noqa: E402
from nntheory.validation.fixed_point._cpp import cpp_compiler, hls4ml_templates  # noqa: E402
from nntheory.validation.fixed_point._qat import digits_net  # noqa: E402


def wide_net():
    return quantized_mlp(64, [64, 64, 10], input_precision="ap_fixed<10,2,AP_RND>", weight="ap_fixed<8,1,AP_RND,AP_SAT>",
                         bias="ap_fixed<8,2>", accum="ap_fixed<32,12>", result="ap_fixed<14,5,AP_RND,AP_SAT>",
                         activations=["relu", "relu", None], activation_result="ap_ufixed<10,3,AP_RND,AP_SAT>")


def best_time(fn, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=20000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    have_hls = hls4ml_templates() is not None and cpp_compiler() is not None
    rng = np.random.default_rng(0)
    print(f"batch {args.batch}, best of {args.repeat}; jax {jax.__version__} on {jax.devices()[0].platform}")
    for name, net in (("digits", digits_net()), ("wide-accum", wide_net())):
        params = [(rng.normal(size=s) / np.sqrt(s[0]), rng.normal(size=s[1]) * 0.1) for s in net.shapes()]
        codes = net.quantize_params(params)
        X = rng.uniform(0, 1, size=(args.batch, net.n_in))
        fwd = jax.jit(net.forward_codes)
        xc = net.input_type.quantize(X)
        jc = [tuple(jax.numpy.asarray(a) for a in c) for c in codes]
        t0 = time.perf_counter()
        out = fwd(xc, jc).block_until_ready()
        t_compile = time.perf_counter() - t0
        t_emu = best_time(lambda: fwd(xc, jc).block_until_ready(), args.repeat)
        line = f"{name:11s} emulator {args.batch / t_emu:12.0f} samples/s (jit {t_compile:.1f} s)"
        if have_hls:
            with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = net.to_hls4ml(param_codes=codes, output_dir=d, project_name=f"bench_{name.replace('-', '_')}")
                t0 = time.perf_counter()
                m.compile()
                t_build = time.perf_counter() - t0
                Xc = np.ascontiguousarray(X)
                ref = np.asarray(m.predict(Xc)).reshape(args.batch, -1)
                t_hls = best_time(lambda: m.predict(Xc), args.repeat)
            same = np.array_equal(net.output_values(out), ref)
            line += (f" | hls4ml predict {args.batch / t_hls:10.0f} samples/s (g++ {t_build:.1f} s)"
                     f" | ratio emulator/hls4ml {t_hls / t_emu:6.1f}x | bit-exact: {same}")
        else:
            line += " | hls4ml or g++ missing: no baseline"
        print(line, flush=True)


if __name__ == "__main__":
    main()
