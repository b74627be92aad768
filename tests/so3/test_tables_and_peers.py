"""Tables (exact vs recursion, rounding), export formats, the CLI, and other libraries' conventions."""

import json
import os
import subprocess

import mpmath
import numpy as np
import pytest
import sympy

from nntheory.numerics import cg_table, load_table_npz, sh_table, table_bytes, wigner_d_table
from nntheory.theory import clebsch_gordan_tensor, e3nn_basis_change, e3nn_clebsch_gordan, spherical_harmonics


def test_recursion_tables_match_correctly_rounded_tables():
    """Same entries and values within 5e-16 absolute (measured max 3.3e-16) for L <= 8, every mode."""
    for basis in ("complex", "real"):
        for norm in ("cg", "unit", "3j"):
            lmax = 8 if basis == "complex" else 5
            exact = cg_table(lmax, basis=basis, normalization=norm)
            fast = cg_table(lmax, basis=basis, normalization=norm, method="recursion")
            assert np.array_equal(exact.index, fast.index)
            assert np.abs(exact.value - fast.value).max() < 5e-16


def test_recursion_is_stable_at_large_l():
    """Sampled entries of recursion tables for l = 38..40 and 98..100 vs the exact values (measured
    max 6.9e-16 absolute)."""
    from nntheory.theory import exact_clebsch_gordan

    rng = np.random.default_rng(0)
    for lmin, lmax in ((38, 40), (98, 100)):
        t = cg_table(lmax, lmin=lmin, basis="complex", method="recursion")
        worst = 0.0
        for k in rng.choice(len(t), 200, replace=False):
            l1, m1, l2, m2, L, M = (int(v) for v in t.index[k])
            worst = max(worst, abs(t.value[k] - float(exact_clebsch_gordan(l1, m1, l2, m2, L, M))))
        assert worst < 1e-15, (lmin, worst)


def _row_keys(index: np.ndarray) -> np.ndarray:
    """One int64 per row of a degree <= 32 CG index, increasing in the table order (l1, l2, L, m1, m2)."""
    key = index[:, 0].astype(np.int64)
    for col, base, shift in ((2, 33, 0), (4, 33, 0), (1, 65, 32), (3, 65, 32)):
        key = key * base + (index[:, col] + shift)
    return key


@pytest.mark.slow
def test_float_3j_table_to_l32_against_correctly_rounded_table():
    """Every nonzero float64 3j symbol with l <= 32 (17.6M entries) against the correctly rounded
    table (exact integer column recursion, a different route): the same rows and m3 except the
    entries below the stated 1e-14 floor, max absolute error <= 2.5e-16 (measured 1.8e-16, 0.81 ulp
    of 1; the recursion computes every symmetry class once, so this is every float value)."""
    fast = cg_table(32, basis="complex", normalization="3j", method="recursion")
    exact = cg_table(32, basis="complex", normalization="3j")
    kf, ke = _row_keys(fast.index), _row_keys(exact.index)
    assert (np.diff(kf) > 0).all() and (np.diff(ke) > 0).all()
    pos = np.searchsorted(ke, kf)
    assert (pos < len(ke)).all() and (ke[pos] == kf).all()
    assert (exact.index[pos, 5] == fast.index[:, 5]).all()
    assert np.isfinite(fast.value).all()
    assert np.abs(exact.value[pos] - fast.value).max() <= 2.5e-16
    dropped = np.ones(len(ke), bool)
    dropped[pos] = False
    assert np.abs(exact.value[dropped]).max(initial=0.0) < 1e-14
    assert np.abs(fast.value).min() >= 1e-14


def test_float32_tables_correctly_rounded():
    t = cg_table(3, basis="real", dtype="float32")
    assert t.value.dtype == np.float32
    with mpmath.workdps(50):
        for (l1, m1, l2, m2, L, M), v in zip(t.index[::7], t.value[::7]):
            C = clebsch_gordan_tensor(int(l1), int(l2), int(L), basis="real")
            x = mpmath.mpf(sympy.N(C[m1 + l1, m2 + l2, M + L], 50))
            nb = [np.nextafter(v, np.float32(np.inf)), np.nextafter(v, np.float32(-np.inf))]
            assert all(abs(x - mpmath.mpf(float(v))) <= abs(x - mpmath.mpf(float(n))) for n in nb)


def test_wigner_d_and_sh_tables():
    d = wigner_d_table(3)
    assert d.meta["method"] == "exact"
    dr = wigner_d_table(3, basis="real")
    assert dr.index.shape[1] == 3 and np.all(np.isfinite(dr.value))
    df = wigner_d_table(3, beta=np.pi / 2)  # float recursion at the same angle
    full_exact = {tuple(i): v for i, v in zip(d.index.tolist(), d.value)}
    for i, v in zip(df.index.tolist(), df.value):
        assert abs(full_exact.get(tuple(i), 0.0) - v) < 1e-14
    s = sh_table(2, normalization="component")
    x, y, z = sympy.symbols("x y z", real=True)
    rows = {tuple(i): v for i, v in zip(s.index.tolist(), s.value)}
    assert rows[(1, -1, 0, 1, 0)] == float(sympy.sqrt(3))  # Y_{1,-1} = sqrt3 y
    poly = sympy.Poly(spherical_harmonics(2, normalization="component")[2], x, y, z)
    assert rows[(2, 0, 0, 0, 2)] == float(poly.coeff_monomial(z**2))


def test_export_is_deterministic_and_loads_without_pickle(tmp_path):
    t = cg_table(2, basis="real")
    for fmt in ("npz", "json", "c-header"):
        assert table_bytes(t, fmt) == table_bytes(cg_table(2, basis="real"), fmt)
    p = tmp_path / "t.npz"
    p.write_bytes(table_bytes(t, "npz"))
    idx, val, meta = load_table_npz(str(p))
    assert np.array_equal(idx, t.index) and np.array_equal(val, t.value) and meta["format_version"] == 1
    doc = json.loads(table_bytes(t, "json"))
    assert doc["meta"]["kind"] == "cg" and len(doc["entries"]) == len(t)
    assert [e[-1] for e in doc["entries"]] == t.value.tolist()  # floats round-trip exactly


def test_cli_tables_bytes_identical_and_c_header_compiles(cli, tmp_path):
    out = []
    for k in range(2):
        f = tmp_path / f"cg{k}.h"
        r = cli("tables", "cg", "--lmax", "2", "--basis", "real", "--normalization", "unit", "--dtype", "float32",
                 "--format", "c-header", "-o", str(f))
        assert r.returncode == 0, r.stderr
        out.append(f.read_bytes())
        side = json.loads((tmp_path / f"cg{k}.h.provenance.json").read_text())
        assert side["normalization"] == "unit" and side["format_version"] == 1 and "conventions" in side
    assert out[0] == out[1]
    gcc = "/usr/bin/gcc" if os.path.exists("/usr/bin/gcc") else None
    if gcc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "main.c"
    src.write_text('#include <stdio.h>\n#include "cg0.h"\nint main(void){double s=0;for(int i=0;i<NNTHEORY_CG_COUNT;i++)'
                   's+=(double)nntheory_cg_value[i]*nntheory_cg_value[i];printf("%d %.6f\\n",NNTHEORY_CG_COUNT,s);return 0;}\n')
    exe = tmp_path / "main"
    subprocess.run([gcc, "-std=c99", "-Wall", "-Werror", "-o", str(exe), str(src)], check=True, cwd=tmp_path)
    n, total = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    # unit normalisation: every triple has Frobenius norm 1, so the sum of squares is the number of triples
    triples = sum(1 for l1 in range(3) for l2 in range(3) for L in range(abs(l1 - l2), min(l1 + l2, 2) + 1))
    assert abs(float(total) - triples) < 1e-5


@pytest.mark.parametrize("args, message", [
    (["tables", "cg", "--lmax", "-1", "-o", "x.npz"], "--lmax must be >= 0"),
    (["tables", "wigner-d", "--lmax", "2", "--beta", "__import__('os')", "-o", "x.npz"], "--beta"),
    (["tables", "wigner-d", "--lmax", "2", "--beta", "7", "-o", "x.npz"], "[0, pi]"),
    (["tables", "cg", "--lmax", "2", "--normalization", "integral", "-o", "x.npz"], "--normalization"),
])
def test_cli_tables_bad_input(cli, tmp_path, args, message):
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.npz").exists()


e3nn = pytest.importorskip("e3nn_jax", reason="e3nn-jax not installed (pip install 'nntheory[peers]')")


def test_e3nn_spherical_harmonics_and_cg_conventions():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((6, 3))
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    x, y, z = sympy.symbols("x y z", real=True)
    for l in range(5):
        Q = np.array(e3nn_basis_change(l).evalf(20).tolist(), dtype=float)
        ours = np.array([sympy.lambdify((x, y, z), spherical_harmonics(l, normalization="component"))(*p) for p in u]).reshape(6, -1)
        theirs = np.asarray(e3nn.spherical_harmonics(f"{l}{'e' if l % 2 == 0 else 'o'}", v, normalize=True, normalization="component").array)
        assert np.abs(ours @ Q.T - theirs).max() < 1e-13
    for l1 in range(3):
        for l2 in range(3):
            for L in range(abs(l1 - l2), l1 + l2 + 1):
                ours = np.array(e3nn_clebsch_gordan(l1, l2, L).tolist(), dtype=float)
                assert np.abs(ours - np.asarray(e3nn.clebsch_gordan(l1, l2, L))).max() < 1e-12, (l1, l2, L)


def test_e3nn_wigner_D_convention():
    from nntheory.numerics import wigner_D_real_matrix
    from nntheory.testing import Rotation

    R = Rotation(0.4, 1.3, -2.2)
    for l in range(4):
        Q = np.array(e3nn_basis_change(l).evalf(20).tolist(), dtype=float)
        ours = Q @ np.asarray(wigner_D_real_matrix(l, *R)) @ Q.T
        theirs = np.asarray(e3nn.Irrep(l, (-1) ** l).D_from_matrix(R.matrix()))
        assert np.abs(ours - theirs).max() < 1e-12
