"""SO(3) speed and accuracy against the peers, in one run (best of N, ratios from this process).

1. One Wigner small-d matrix d^l(beta) at high degree: nntheory (cold = first call with its
   compilation, warm = best of N), spherical's ``Wigner(l, ell_min=l).d`` (its documented route for
   large l) and e3nn-jax's ``Irrep(l).D_from_angles`` (at a smaller degree; its unitarity error); max absolute error against
   mpmath (Wigner's explicit sum at ~0.3 * 2l + 40 digits) on entries sampled where d is large,
   peers up to their convention (the best of transpose / (-1)^(m - m') / both).
2. All nonzero float64 3j symbols with l1, l2, l3 <= L: ``cg_table(L, basis="complex",
   normalization="3j", method="recursion")`` (a COO table with its (l1, m1, l2, m2, l3, m3) index)
   against spherical's ``Wigner3jCalculator`` driven by a numba loop that stores every value (its
   fastest documented use; compiled before timing, output array allocated once outside the timing;
   a second row allocates it per call, as a table builder must); max error against the exact
   symbols on 300 samples, or with ``--full-accuracy`` over every entry against the correctly
   rounded table (exact integer route; about half a minute at L = 32).
3. All nonzero exact 3j symbols with l <= L (correctly rounded from the exact values):
   ``cg_table(L, basis="complex", normalization="3j")`` from cold caches against
   ``sympy.physics.wigner.wigner_3j`` on every symbol; e3nn-jax's ``clebsch_gordan`` per triple.

Peers live in a separate environment: ``python -m venv ../peers-venv && ../peers-venv/bin/pip install -e
'.[peers]' mpmath`` (spherical pulls numba), then ``../peers-venv/bin/python benchmarks/so3.py``.
Usage: python benchmarks/so3.py [--l 1000] [--e3nn-l 200] [--L 8 32] [--exact-L 8] [--repeat 3] [--full-accuracy]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import time

import jax

jax.config.update("jax_enable_x64", True)

import mpmath  # noqa: E402
import numpy as np  # noqa: E402

from nntheory.numerics import cg_table, wigner_d_matrix  # noqa: E402
from nntheory.theory import exact_3j  # noqa: E402

HAVE = {m: importlib.util.find_spec(m) is not None for m in ("spherical", "numba", "e3nn_jax")}


def best_of(f, repeat):
    """Best wall time of ``repeat`` calls of ``f()`` (each blocking until its result is ready)."""
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = jax.block_until_ready(f())
        best = min(best, time.perf_counter() - t)
    return best, out


def d_mpmath(j2, mp2, m2, beta):
    """d^j_{m'm}(beta), doubled arguments, by Wigner's explicit sum in mpmath."""
    jpm, jmm, jpmp, jmmp, dm = (j2 + m2) // 2, (j2 - m2) // 2, (j2 + mp2) // 2, (j2 - mp2) // 2, (mp2 - m2) // 2
    f = math.factorial
    with mpmath.workdps(int(0.302 * j2) + 40):
        b = mpmath.mpf(beta)
        c, s = mpmath.cos(b / 2), mpmath.sin(b / 2)
        tot = mpmath.mpf(0)
        for k in range(max(0, -dm), min(jpm, jmmp) + 1):
            t = c ** (j2 - dm - 2 * k) * s ** (dm + 2 * k) / (f(jpm - k) * f(k) * f(dm + k) * f(jmmp - k))
            tot += -t if (dm + k) % 2 else t
        return float(tot * mpmath.sqrt(f(jpmp) * f(jmmp) * f(jpm) * f(jmm)))


def sample_entries(d, n, rng):
    """``n`` entries (row, col) where the rows' entries are within 1e-3 of their row maximum."""
    out = []
    for _ in range(n):
        a = int(rng.integers(0, d.shape[0]))
        big = np.flatnonzero(np.abs(d[a]) > 1e-3 * np.abs(d[a]).max())
        out.append((a, int(rng.choice(big))))
    return out


def max_error(d, l, beta, entries, refs):
    """Max error of ``d`` up to the peers' conventions (transpose, (-1)^(m - m'))."""
    k = np.arange(2 * l + 1)
    sign = np.where((k[:, None] - k[None, :]) % 2 == 1, -1.0, 1.0)
    cands = [d, d.T, sign * d, sign * d.T]
    return min(max(abs(c[a, b] - r) for (a, b), r in zip(entries, refs)) for c in cands)


def wigner_rows(l, beta, e3nn_l, repeat):
    rng = np.random.default_rng(0)
    rows = []
    f = jax.jit(wigner_d_matrix, static_argnums=0)
    t = time.perf_counter()
    d = np.asarray(jax.block_until_ready(f(l, beta)))
    cold = time.perf_counter() - t
    warm, _ = best_of(lambda: f(l, beta), repeat)
    entries = sample_entries(d, 20, rng)
    refs = [d_mpmath(2 * l, 2 * (a - l), 2 * (b - l), beta) for a, b in entries]
    rows.append((f"nntheory wigner_d_matrix l={l} (warm; cold {cold:.2f} s)", warm, max_error(d, l, beta, entries, refs)))
    if HAVE["spherical"]:
        import spherical

        w = spherical.Wigner(l, ell_min=l)
        z = np.exp(1j * beta)
        ts, flat = best_of(lambda: w.d(z), repeat)
        ms = range(-l, l + 1)
        ds = np.array([[flat[w.dindex(l, mp, m)] for m in ms] for mp in ms])
        rows.append((f"spherical Wigner(l, ell_min=l).d l={l}", ts, max_error(ds, l, beta, entries, refs)))
    if HAVE["e3nn_jax"] and e3nn_l:
        import e3nn_jax

        irrep = e3nn_jax.Irrep(e3nn_l, (-1) ** e3nn_l)
        g = jax.jit(irrep.D_from_angles)
        te, De = best_of(lambda: g(0.3, beta, -0.4), repeat)
        De = np.asarray(De)
        tn, Dn = best_of(lambda: f(e3nn_l, beta), repeat)
        unit = np.abs(De @ De.T - np.eye(2 * e3nn_l + 1)).max()
        Dn = np.asarray(Dn)
        rows.append((f"e3nn-jax Irrep.D_from_angles l={e3nn_l} (unitarity error)", te, unit))
        unit_n = np.abs(Dn @ Dn.T - np.eye(2 * e3nn_l + 1)).max()
        rows.append((f"nntheory wigner_d_matrix l={e3nn_l} (unitarity error)", tn, unit_n))
    return rows


def count_3j(L):
    return sum(max(0, min(l2, l3 - m1) - max(-l2, -l3 - m1) + 1)
               for l1 in range(L + 1) for l2 in range(L + 1) for l3 in range(abs(l1 - l2), min(l1 + l2, L) + 1)
               for m1 in range(-l1, l1 + 1))


def _spherical_loop():
    import numba

    @numba.njit(cache=False)
    def all_3j(calc, L, out):
        n = 0
        for l2 in range(L + 1):
            for l3 in range(L + 1):
                for m2 in range(-l2, l2 + 1):
                    for m3 in range(-l3, l3 + 1):
                        m1 = -m2 - m3
                        lo, hi = max(abs(l2 - l3), abs(m1)), min(l2 + l3, L)
                        if lo > hi:
                            continue
                        w = calc.calculate(l2, l3, m2, m3)
                        for l1 in range(lo, hi + 1):
                            out[n] = w[l1]
                            n += 1
        return n

    return all_3j


def full_error(tab, L):
    """Max absolute error of every entry of a float 3j table against the correctly rounded table
    (rows matched by (l1, l2, L, m1, m2); rows only in the exact table must be below 1e-14)."""
    exact = cg_table(L, basis="complex", normalization="3j")

    def keys(index):
        key = index[:, 0].astype(np.int64)
        for col, base, shift in ((2, L + 1, 0), (4, L + 1, 0), (1, 2 * L + 1, L), (3, 2 * L + 1, L)):
            key = key * base + (index[:, col] + shift)
        return key

    ke = keys(exact.index)
    pos = np.searchsorted(ke, keys(tab.index))
    err = float(np.abs(exact.value[pos] - tab.value).max())
    dropped = np.ones(len(ke), bool)
    dropped[pos] = False
    return max(err, float(np.abs(exact.value[dropped]).max(initial=0.0)))


def best_interleaved(fns, repeat):
    """Best wall time of each of ``fns`` over ``repeat`` rounds that call them in turn (a load that
    changes during the run then hits every side alike); returns the times and the last results."""
    best, outs = [math.inf] * len(fns), [None] * len(fns)
    for _ in range(repeat):
        for k, f in enumerate(fns):
            outs[k] = None  # free the last result before timing the next
            t = time.perf_counter()
            outs[k] = f()
            best[k] = min(best[k], time.perf_counter() - t)
    return best, outs


def float_3j_rows(L, repeat, full_accuracy=False):
    rng = np.random.default_rng(1)
    rows = []
    fns = [lambda: cg_table(L, basis="complex", normalization="3j", method="recursion")]
    peer = HAVE["spherical"] and HAVE["numba"]
    if peer:
        import spherical

        loop = _spherical_loop()
        out = np.empty(count_3j(L))
        loop(spherical.Wigner3jCalculator(2, 2), 2, out)  # numba compilation outside the timing
        fns += [lambda: loop(spherical.Wigner3jCalculator(L, L), L, out),
                lambda: loop(spherical.Wigner3jCalculator(L, L), L, np.empty(len(out)))]
    times, outs = best_interleaved(fns, repeat)
    tab = outs[0]
    if full_accuracy:
        err, what = full_error(tab, L), "all entries"
    else:
        picks = rng.choice(len(tab), 300, replace=False)
        err = max(abs(tab.value[k] - float(exact_3j(*(int(x) for x in tab.index[k][[0, 2, 4, 1, 3, 5]]))))
                  for k in picks)
        what = "300 sampled"
    rows.append((f"nntheory cg_table recursion L={L} ({len(tab)} nonzero, COO index; error: {what})", times[0], err))
    n = outs[1] if peer else 0  # values the peer's loop wrote
    del tab, outs
    if peer:
        t_s, t_f = times[1], times[2]
        calc = spherical.Wigner3jCalculator(L, L)
        err = 0.0
        for _ in range(300):
            l2, l3 = (int(x) for x in rng.integers(0, L + 1, 2))
            m2, m3 = int(rng.integers(-l2, l2 + 1)), int(rng.integers(-l3, l3 + 1))
            lo, hi = max(abs(l2 - l3), abs(m2 + m3)), min(l2 + l3, L)
            if lo > hi:
                continue
            l1 = int(rng.integers(lo, hi + 1))
            v = calc.calculate(l2, l3, m2, m3)[l1]
            err = max(err, abs(v - float(exact_3j(l1, l2, l3, -m2 - m3, m2, m3))))
        rows.append((f"spherical Wigner3jCalculator + numba loop L={L} ({n} values, output reused)", t_s, err))
        rows.append(("spherical, same with a fresh output array per call", t_f, err))
    return rows


def exact_3j_rows(L, repeat, sympy_repeat):
    from sympy.physics.wigner import wigner_3j

    from nntheory.numerics.so3 import _exact_columns

    def ours():
        _exact_columns._fact.cache_clear()  # cold caches: every run from scratch
        return cg_table(L, basis="complex", normalization="3j")

    t_n, tab = best_of(ours, repeat)
    rows = [(f"nntheory cg_table exact L={L} ({len(tab)} nonzero, correctly rounded)", t_n, 0.0)]
    symbols = [(l1, l2, l3, m1, m2, -m1 - m2) for l1 in range(L + 1) for l2 in range(L + 1)
               for l3 in range(abs(l1 - l2), min(l1 + l2, L) + 1) for m1 in range(-l1, l1 + 1)
               for m2 in range(max(-l2, -l3 - m1), min(l2, l3 - m1) + 1)]
    t_s, vals = best_of(lambda: [wigner_3j(*s) for s in symbols], sympy_repeat)
    ours_map = {(int(a), int(c), int(e), int(b), int(d), int(f)): v for (a, b, c, d, e, f), v in zip(tab.index, tab.value)}
    err = max(abs(ours_map.get(s, 0.0) - float(v)) for s, v in zip(symbols, vals))
    rows.append((f"sympy.physics.wigner.wigner_3j L={L} ({len(symbols)} symbols)", t_s, err))
    if HAVE["e3nn_jax"]:
        import e3nn_jax

        triples = [(a, b, c) for a in range(L + 1) for b in range(L + 1) for c in range(abs(a - b), min(a + b, L) + 1)]
        t_e, _ = best_of(lambda: [e3nn_jax.clebsch_gordan(*t) for t in triples], 1)
        rows.append((f"e3nn-jax clebsch_gordan L={L} (real basis, per triple; 1 run)", t_e, float("nan")))
    return rows


def report(title, rows):
    print(f"\n{title}")
    base = rows[0][1]
    for name, t, err in rows:
        print(f"  {name:70s} {t:9.4f} s   this / nntheory = {t / base:8.2f}x   max error {err:.2g}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--l", type=int, default=1000, help="degree of the Wigner d matrix (0: skip)")
    p.add_argument("--beta", type=float, default=1.3)
    p.add_argument("--e3nn-l", type=int, default=200, help="degree for e3nn-jax's D_from_angles (0: skip)")
    p.add_argument("--L", type=int, nargs="+", default=[8, 32], help="float 3j tables")
    p.add_argument("--exact-L", type=int, default=8, help="exact 3j table")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--full-accuracy", action="store_true", help="float 3j: error of every entry (slow)")
    p.add_argument("--sympy-repeat", type=int, default=3)
    a = p.parse_args()
    print(f"peers installed: {HAVE}; jax {jax.__version__}, devices {jax.devices()}")
    if a.l:
        report(f"Wigner d^l(beta = {a.beta})", wigner_rows(a.l, a.beta, a.e3nn_l, a.repeat))
    for L in a.L:
        report(f"all nonzero float64 3j, l <= {L}", float_3j_rows(L, a.repeat, a.full_accuracy))
    report(f"all nonzero exact 3j, l <= {a.exact_L}", exact_3j_rows(a.exact_L, a.repeat, a.sympy_repeat))


if __name__ == "__main__":
    main()
