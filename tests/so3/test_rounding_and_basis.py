"""One basis change, one rounding: the float forms agree with the exact definitions they are built from."""

from __future__ import annotations

import random
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

from nntheory.numerics import real_basis_change_matrix, round_exact
from nntheory.numerics._rounding import round_dyadic, round_mpf, round_mpf_to_grid, round_sqrt_sum
from nntheory.theory.so3 import ExactValue, real_basis_change, real_basis_terms


@pytest.mark.parametrize("l", range(6))
def test_float_and_exact_basis_change_come_from_the_same_terms(l):
    exact = np.array(real_basis_change(l).evalf(30).tolist(), dtype=complex)
    U = real_basis_change_matrix(l)
    assert np.allclose(U, exact, atol=3e-16, rtol=0)
    assert np.allclose(U @ U.conj().T, np.eye(2 * l + 1), atol=1e-15)
    rows = real_basis_terms(l)
    assert sorted(rows) == list(range(-l, l + 1))
    assert sum(len(r) for r in rows.values()) == np.count_nonzero(U)


def test_round_dyadic_matches_ieee_conversion():
    rng = random.Random(0)
    for _ in range(2000):
        num, den = rng.randint(-10**30, 10**30), rng.randint(1, 10**25)
        P = 200
        n = (num << P) // den  # floor; the value n / 2^P is exact
        x = Fraction(n, 1 << P)
        assert round_dyadic(n, P, 53, -1074) == float(x)
        r = np.float32(round_dyadic(n, P, 24, -149))
        neighbours = (np.nextafter(r, np.float32(np.inf)), np.nextafter(r, np.float32(-np.inf)))
        assert all(abs(Fraction(float(r)) - x) <= abs(Fraction(float(u)) - x) for u in neighbours)
    assert round_dyadic(1, 1075, 53, -1074) == 0.0  # half the least subnormal: tie to even (0)
    assert round_dyadic(3, 1075, 53, -1074) == 2.0**-1073
    assert round_dyadic(-5, 2, 53, -1074) == -1.25


def test_round_mpf_and_grid_rounding_tie_to_even():
    with mpmath.workdps(50):
        assert round_mpf(mpmath.mpf(1) / 3, "float64") == 1 / 3
        assert round_mpf(mpmath.mpf(1) / 3, "float32") == float(np.float32(1 / 3))
        for v, frac in ((mpmath.mpf("2.5"), 0), (mpmath.mpf("3.5"), 0), (mpmath.mpf("-2.5"), 0), (mpmath.mpf("0.375"), 2)):
            assert round_mpf_to_grid(v, frac) == int(mpmath.nint(v * 2**frac))


def test_exact_values_round_once():
    v = ExactValue(1, 1, 3, 2)  # sqrt(2)/3
    assert round_exact(v) == float(sympy.N(sympy.sqrt(2) / 3, 40))
    assert round_sqrt_sum({2: Fraction(1, 3)}, "float64") == round_exact(v)
    s = round_sqrt_sum({2: Fraction(1), 3: Fraction(-1)}, "float64")  # sqrt2 - sqrt3
    assert s == float(sympy.N(sympy.sqrt(2) - sympy.sqrt(3), 40))


def test_doctests_of_split_modules():
    """The 6j/9j examples moved out of ``_su2`` (whose doctests tests/test_package.py runs)."""
    import doctest
    import importlib

    res = doctest.testmod(importlib.import_module("nntheory.theory.so3._recoupling"), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
