"""Time to build all nonzero 3j symbols with l1, l2, l3 <= L, in one run, with ratios.

(benchmarks/so3.py is the best-of-N peer comparison with errors, Wigner d included; this script
times several L against sympy, extrapolating sympy above L = 8.)

nntheory exact (Python-integer Racah sums, then correctly rounded floats), nntheory float
(stable recursion), sympy's wigner_3j (exact; sampled and extrapolated above L = 8), and where
installed: spherical (numba recursion), e3nn-jax (its clebsch_gordan tensors), pywigxjpf.
Usage: python benchmarks/tables.py [--L 8 16 32] [--sympy-max 8]
"""

import argparse
import importlib.util
import time

import numpy as np

from nntheory.numerics import cg_table
from nntheory.numerics._rounding import round_exact_cached
from nntheory.theory.so3._su2 import _threej_racah


def count_3j(L):
    n = 0
    for l1 in range(L + 1):
        for l2 in range(L + 1):
            for l3 in range(abs(l1 - l2), min(l1 + l2, L) + 1):
                for m1 in range(-l1, l1 + 1):
                    lo, hi = max(-l2, -l3 - m1), min(l2, l3 - m1)
                    n += max(0, hi - lo + 1)
    return n


def time_sympy(L, budget=20.0):
    from sympy.physics.wigner import wigner_3j

    t0, done = time.perf_counter(), 0
    total = count_3j(L)
    rng = np.random.default_rng(0)
    while time.perf_counter() - t0 < budget and done < total:
        l1, l2 = (int(v) for v in rng.integers(0, L + 1, 2))
        l3 = int(rng.integers(abs(l1 - l2), min(l1 + l2, L) + 1))
        m1 = int(rng.integers(-l1, l1 + 1))
        m2 = int(rng.integers(max(-l2, -l3 - m1), min(l2, l3 - m1) + 1))
        wigner_3j(l1, l2, l3, m1, m2, -m1 - m2)
        done += 1
    dt = time.perf_counter() - t0
    return dt / done * total, done < total


def time_nntheory(L, row, exact_max):
    """Time the exact route (up to ``exact_max``, cold caches) and the recursion; return the table."""
    if L <= exact_max:
        _threej_racah.cache_clear()  # cold caches: each L is timed from scratch
        round_exact_cached.cache_clear()
        t = time.perf_counter()
        tab = cg_table(L, basis="complex", normalization="3j")
        row["nntheory exact"] = time.perf_counter() - t
        assert len(tab) <= count_3j(L)
    t = time.perf_counter()
    tab = cg_table(L, basis="complex", normalization="3j", method="recursion")
    row["nntheory float (recursion)"] = time.perf_counter() - t
    return tab


def time_spherical(L):
    """spherical's fastest documented use: its numba Wigner3jCalculator driven by a numba loop that
    stores every value (compiled outside the timing); see benchmarks/so3.py."""
    import importlib.util as iu
    import pathlib

    spec = iu.spec_from_file_location("so3_bench", pathlib.Path(__file__).with_name("so3.py"))
    so3 = iu.module_from_spec(spec)
    spec.loader.exec_module(so3)
    import spherical

    loop = so3._spherical_loop()
    out = np.empty(count_3j(L))
    loop(spherical.Wigner3jCalculator(2, 2), 2, out)  # numba compilation outside the timing
    t = time.perf_counter()
    loop(spherical.Wigner3jCalculator(L, L), L, out)
    return time.perf_counter() - t


def time_e3nn(L):
    import e3nn_jax

    t = time.perf_counter()
    for l1 in range(L + 1):
        for l2 in range(L + 1):
            for l3 in range(abs(l1 - l2), min(l1 + l2, L) + 1):
                e3nn_jax.clebsch_gordan(l1, l2, l3)
    return time.perf_counter() - t


def time_pywigxjpf(L):
    import pywigxjpf as wig

    wig.wig_table_init(2 * L + 2, 3)
    wig.wig_temp_init(2 * L + 2)
    t = time.perf_counter()
    for l1 in range(L + 1):
        for l2 in range(L + 1):
            for l3 in range(abs(l1 - l2), min(l1 + l2, L) + 1):
                for m1 in range(-l1, l1 + 1):
                    for m2 in range(max(-l2, -l3 - m1), min(l2, l3 - m1) + 1):
                        wig.wig3jj(2 * l1, 2 * l2, 2 * l3, 2 * m1, 2 * m2, -2 * m1 - 2 * m2)
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--L", type=int, nargs="+", default=[8, 16, 32])
    p.add_argument("--exact-max", type=int, default=16, help="largest L for the exact route")
    p.add_argument("--e3nn-max", type=int, default=8, help="largest L for e3nn-jax (minutes beyond)")
    a = p.parse_args()
    have = {m: importlib.util.find_spec(m) is not None for m in ("spherical", "e3nn_jax", "pywigxjpf")}
    print(f"peers installed: {have}")
    for L in a.L:
        row = {}
        n = count_3j(L)
        tab = time_nntheory(L, row, a.exact_max)
        ts, extrapolated = time_sympy(L)
        row["sympy wigner_3j" + (" (extrapolated)" if extrapolated else "")] = ts
        if have["spherical"]:
            row["spherical (numba recursion, all l1)"] = time_spherical(L)
        if have["e3nn_jax"] and L <= a.e3nn_max:
            row["e3nn-jax clebsch_gordan"] = time_e3nn(L)
        if have["pywigxjpf"]:
            row["pywigxjpf (exact-float, per symbol)"] = time_pywigxjpf(L)
        print(f"\nL = {L}: {n} 3j symbols with m1 + m2 + m3 = 0 ({len(tab)} nonzero)")
        base = row.get("sympy wigner_3j") or row.get("sympy wigner_3j (extrapolated)")
        for k, v in row.items():
            print(f"  {k:42s} {v:10.3f} s   sympy / this = {base / v:10.1f}x")


if __name__ == "__main__":
    main()
