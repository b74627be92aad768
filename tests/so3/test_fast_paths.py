"""The O(j^2) Wigner d recursion at high degree, the exact-recursion 3j tables, and size/index refusals."""

import math

import jax
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nntheory.errors import SpinError
from nntheory.numerics import cg_table, sh_table, tensor_product, wigner_d_matrix, wigner_d_table
from nntheory.numerics.so3 import _clebsch_gordan
from nntheory.theory import exact_3j

_d = jax.jit(wigner_d_matrix, static_argnums=0)


def _d_mpmath(j2: int, mp2: int, m2: int, beta: float) -> float:
    """Wigner's explicit sum for d^j_{m'm}(beta) (doubled arguments) in mpmath, with enough digits
    for its ~2^(2j) cancellation: independent of the recursion under test."""
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


@pytest.mark.parametrize("l, betas, n", [(300, (1e-7, 0.04, 1.3, math.pi / 2, 2.5, 3.1, -0.7, 9.0), 12),
                                         (1000, (0.7, 3.1), 6)])
def test_wigner_d_high_degree_against_mpmath(l, betas, n):
    """Acceptance: max absolute error <= 1e-14 at l = 1000 (sampled where the entries are large:
    near the classical region, where the recursion's error lives; measured max 5.6e-15)."""
    rng = np.random.default_rng(l)
    worst = 0.0
    for beta in betas:
        d = np.asarray(_d(l, beta))
        assert np.isfinite(d).all()
        for _ in range(n):
            a = int(rng.integers(0, 2 * l + 1))
            big = np.flatnonzero(np.abs(d[a]) > 1e-3 * np.abs(d[a]).max())
            c = int(rng.choice(big))
            worst = max(worst, abs(d[a, c] - _d_mpmath(2 * l, 2 * (a - l), 2 * (c - l), beta)))
    assert worst <= 1e-14, worst


@settings(max_examples=12, deadline=None)
@given(st.sampled_from([150, 333.5, 600]), st.floats(-7.0, 7.0), st.floats(-7.0, 7.0))
def test_high_degree_d_is_orthogonal_and_a_one_parameter_group(j, b1, b2):
    """d(b1) d(b2) = d(b1 + b2) (rotations about one axis) and d d^T = 1, at high degree."""
    d1, d2, d12 = (np.asarray(_d(j, b)) for b in (b1, b2, b1 + b2))
    n = d1.shape[0]
    assert np.abs(d1 @ d1.T - np.eye(n)).max() < n * 5e-16
    assert np.abs(d1 @ d2 - d12).max() < n * 5e-16


@settings(max_examples=10, deadline=None)
@given(st.sampled_from([7, 40.5, 200]), st.floats(0.0, math.pi))
def test_d_symmetries_at_high_degree(j, beta):
    """d_{m'm} = (-1)^(m-m') d_{m m'} = (-1)^(m-m') d_{-m',-m}: relations the recursion does not use."""
    d = np.asarray(_d(j, beta))
    k = np.arange(d.shape[0])
    sign = np.where((k[:, None] - k[None, :]) % 2 == 1, -1.0, 1.0)
    assert np.abs(d - sign * d.T).max() < 1e-14
    assert np.abs(d - sign * d[::-1, ::-1]).max() < 1e-14


def test_wigner_d_refuses_unverified_and_oversized_degrees():
    with pytest.raises(SpinError, match=r"j must be <= 2000"):
        wigner_d_matrix(2001, 0.3)
    with pytest.raises(SpinError, match=r"needs about .* bytes, more than max_bytes=1000"):
        wigner_d_matrix(100, 0.3, max_bytes=1000)


def _per_symbol_exact(lmax, lmin, normalization, dtype):
    """The per-entry route: one Racah sum per symmetry class (independent of the column recursion)."""
    idx, val = [], []
    for l1 in range(lmin, lmax + 1):
        _clebsch_gordan._exact_rows(l1, lmin, lmax, "complex", normalization, dtype, idx, val)
    return np.concatenate(idx), np.concatenate(val)


@pytest.mark.parametrize("normalization", ["3j", "cg", "unit"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_exact_column_tables_equal_racah_sums_bit_for_bit(normalization, dtype):
    for lmax, lmin in ((6, 0), (9, 7)):
        t = cg_table(lmax, lmin=lmin, basis="complex", normalization=normalization, dtype=dtype)
        i, v = _per_symbol_exact(lmax, lmin, normalization, dtype)
        assert np.array_equal(t.index, i)
        assert np.array_equal(t.value, v.astype(dtype))


_T10 = cg_table(10, basis="complex", normalization="3j", method="recursion")
_ROWS = {tuple(r): v for r, v in zip(_T10.index.tolist(), _T10.value.tolist())}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(_T10) - 1), st.permutations([0, 1, 2]), st.booleans())
def test_float_3j_symmetries_and_values(k, perm, mirror):
    """Column permutations give (-1)^(l1+l2+l3) when odd, the mirror m -> -m too; values match the
    exact symbol (rounded) to 1e-15."""
    l1, m1, l2, m2, l3, m3 = (int(x) for x in _T10.index[k])
    cols = [(l1, m1), (l2, m2), (l3, m3)]
    p = [cols[i] for i in perm]
    odd = sum(perm[i] > perm[j] for i in range(3) for j in range(i + 1, 3)) % 2
    sign = (-1) ** ((l1 + l2 + l3) * (odd + mirror))
    key = tuple(x for (l, m) in p for x in (l, -m if mirror else m))
    assert _ROWS[key] == pytest.approx(sign * _T10.value[k], abs=1e-15)
    assert abs(_T10.value[k] - float(exact_3j(l1, l2, l3, m1, m2, m3))) < 1e-15


def test_table_builders_refuse_oversized_tables_before_allocating():
    for build, kind in ((cg_table, "cg_table"), (wigner_d_table, "wigner_d_table"), (sh_table, "sh_table")):
        with pytest.raises(SpinError, match=rf"{kind}: lmax=1000000 needs about .* bytes, more than max_bytes=2147483648"):
            build(10**6)
    with pytest.raises(SpinError, match=r"lmax=8 needs about .* bytes, more than max_bytes=1000"):
        cg_table(8, max_bytes=1000)


@pytest.mark.parametrize("index, value, dim_out, message", [
    ([[0, 0, 0], [3, 0, 1]], [1.0, 1.0], 3, r"m1 \(column 0\) must lie in \[0, 2\].*got 3"),
    ([[0, 0, -1]], [1.0], 3, r"M \(column 2\) must lie in \[0, 2\].*got -1"),
    ([[0, 5, 0]], [1.0], 3, r"m2 \(column 1\) must lie in \[0, 2\]"),
    ([[0, 0]], [1.0], 3, r"\(n, 3\) integer array"),
    ([[0, 0, 0]], [1.0, 2.0], 3, r"1 rows but value"),
    ([[0, 0, 0]], [1.0], 0, r"dim_out must be an integer >= 1"),
])
def test_tensor_product_refuses_out_of_range_sparse_indices(index, value, dim_out, message):
    x = np.ones(3)
    with pytest.raises(SpinError, match=message):
        tensor_product(x, x, (np.array(index), np.array(value), dim_out))
