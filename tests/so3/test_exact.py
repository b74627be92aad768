"""Exact coupling coefficients: sympy agreement, closed forms, symmetries, rounding, bad input."""

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from sympy.physics import wigner as sw

from nntheory.errors import SpinError
from nntheory.testing import coupling_tuples, spins
from nntheory.theory import (clebsch_gordan, exact_3j, exact_clebsch_gordan, wigner_3j, wigner_6j, wigner_9j)

H = Fraction(1, 2)


def _half(k):
    return Fraction(k, 2)


def test_3j_and_cg_match_sympy_on_every_triple_up_to_6():
    """Every (j1, j2, j3) with 2j <= 12 (integer and half-integer) and every (m1, m2): exact equality."""
    n = 0
    for t1, t2 in itertools.product(range(13), repeat=2):
        for t3 in range(abs(t1 - t2), min(t1 + t2, 12) + 1, 2):
            j1, j2, j3 = _half(t1), _half(t2), _half(t3)
            for tm1 in range(-t1, t1 + 1, 2):
                for tm2 in range(-t2, t2 + 1, 2):
                    tm3 = -tm1 - tm2
                    if abs(tm3) > t3:
                        continue
                    args = [sympy.Rational(t, 2) for t in (t1, t2, t3, tm1, tm2, tm3)]
                    ours = exact_3j(j1, j2, j3, _half(tm1), _half(tm2), _half(tm3)).to_sympy()
                    assert ours == sw.wigner_3j(*args), args
                    # the CG too, on every entry
                    cg = clebsch_gordan(j1, _half(tm1), j2, _half(tm2), j3, _half(-tm3))
                    assert cg == sw.clebsch_gordan(args[0], args[1], args[2], args[3], args[4], -args[5])
                    n += 1
    assert n == 25501  # every entry with 2j <= 12 (count of the loop's valid (m1, m2)), none skipped


def test_cg_matches_sympy_sample():
    for j1, m1, j2, m2, J, M in [(1, 0, 1, 0, 2, 0), (H, H, H, -H, 1, 0), (Fraction(3, 2), H, 1, -1, Fraction(5, 2), -H),
                                 (3, 2, 2, -1, 4, 1), (Fraction(7, 2), Fraction(-3, 2), Fraction(5, 2), Fraction(1, 2), 3, -1)]:
        s = [sympy.Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else x for x in (j1, j2, J, m1, m2, M)]
        assert clebsch_gordan(j1, m1, j2, m2, J, M) == sw.clebsch_gordan(*s)


def test_6j_matches_sympy_up_to_5_halves():
    n = 0
    for t in itertools.product(range(6), repeat=6):
        tri = [(0, 1, 2), (0, 4, 5), (3, 1, 5), (3, 4, 2)]
        if any((t[a] + t[b] + t[c]) % 2 for a, b, c in tri):
            continue
        js = [sympy.Rational(x, 2) for x in t]
        assert wigner_6j(*[_half(x) for x in t]) == sw.wigner_6j(*js), t
        n += 1
    assert n > 3000


def test_9j_matches_sympy_sample():
    rng = np.random.default_rng(0)
    n = 0
    while n < 60:
        t = rng.integers(0, 5, size=9)
        rows = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8)]
        if any((t[a] + t[b] + t[c]) % 2 for a, b, c in rows):
            continue
        if any(not abs(t[a] - t[b]) <= t[c] <= t[a] + t[b] for a, b, c in rows):
            continue
        js = [sympy.Rational(int(x), 2) for x in t]
        assert wigner_9j(*[_half(int(x)) for x in t]) == sw.wigner_9j(*js, prec=None), t
        n += 1


@pytest.mark.parametrize("j", [1, 7, 20, 30, 60, 100])
def test_closed_forms_beyond_sympy_range(j):
    # <j m j -m | 0 0> = (-1)^(j-m) / sqrt(2j+1)
    for m in (-j, 0, j // 2, j):
        assert clebsch_gordan(j, m, j, -m, 0, 0) == (-1) ** (j - m) / sympy.sqrt(2 * j + 1)
    # stretched coupling: <j j j j | 2j 2j> = 1
    assert clebsch_gordan(j, j, j, j, 2 * j, 2 * j) == 1
    # (j1 j2 j3; 0 0 0) closed form (Edmonds 3.7.17), evaluated independently with mpmath
    for j1, j2, j3 in [(j, j, 2 * j), (j, j, j if j % 2 == 0 else j + 1), (j, j // 2 + 1, j - j // 2 + 1)]:
        J = j1 + j2 + j3
        ours = exact_3j(j1, j2, j3, 0, 0, 0)
        if J % 2:
            assert ours.is_zero
            continue
        g = J // 2
        f = mpmath.factorial
        with mpmath.workdps(60):
            ref = (-1) ** g * mpmath.sqrt(f(J - 2 * j1) * f(J - 2 * j2) * f(J - 2 * j3) / f(J + 1)) * f(g) / (f(g - j1) * f(g - j2) * f(g - j3))
            assert abs(ours.sign * mpmath.sqrt(mpmath.mpf(ours.squared().numerator) / ours.squared().denominator) - ref) < mpmath.mpf(10) ** -55 * abs(ref)


def test_float_values_correctly_rounded_up_to_l_100():
    """float64 and float32 roundings of exact values vs mpmath at 50 digits: the nearest float."""
    rng = np.random.default_rng(1)
    checked = 0
    cases = [(60, 0, 60, 0, 0, 0), (100, 0, 100, 0, 0, 0), (100, 3, 80, -2, 150, 1), (20, 0, 20, 0, 40, 0)]
    while len(cases) < 400:
        j1, j2 = rng.integers(0, 101, 2)
        J = int(rng.integers(abs(j1 - j2), min(j1 + j2, 100) + 1))
        m1, m2 = int(rng.integers(-j1, j1 + 1)), int(rng.integers(-j2, j2 + 1))
        if abs(m1 + m2) <= J:
            cases.append((int(j1), m1, int(j2), m2, J, m1 + m2))
    with mpmath.workdps(50):
        for c in cases:
            v = exact_clebsch_gordan(*c)
            if v.is_zero:
                continue
            sq = v.squared()
            x = v.sign * mpmath.sqrt(mpmath.mpf(sq.numerator) / sq.denominator)
            assert v.to_float() == float(x)  # mpmath rounds to nearest
            f32 = np.float32(v.to_float(24, -149))
            neighbours = [np.nextafter(f32, np.float32(np.inf)), np.nextafter(f32, np.float32(-np.inf))]
            assert all(abs(x - mpmath.mpf(float(f32))) <= abs(x - mpmath.mpf(float(nb))) for nb in neighbours)
            checked += 1
    assert checked > 300
    assert float(exact_clebsch_gordan(60, 0, 60, 0, 0, 0)) == 1 / 11
    assert float(exact_clebsch_gordan(100, 0, 100, 0, 0, 0)) == float(1 / mpmath.sqrt(201))


@given(coupling_tuples(3))
def test_3j_symmetries(t):
    j1, m1, j2, m2, j3, M = t
    m3 = -M
    v = wigner_3j(j1, j2, j3, m1, m2, m3)
    sign = (-1) ** int(j1 + j2 + j3)
    assert wigner_3j(j2, j3, j1, m2, m3, m1) == v  # even permutation
    assert wigner_3j(j2, j1, j3, m2, m1, m3) == sign * v  # odd permutation
    assert wigner_3j(j1, j2, j3, -m1, -m2, -m3) == sign * v  # m -> -m


@given(spins(5 / 2), spins(5 / 2), st.data())
def test_cg_orthogonality_and_completeness(j1, j2, data):
    """sum_{m1,m2} <m1 m2|J M><m1 m2|J' M'> = delta and sum_{J,M} <m1 m2|J M><m1' m2'|J M> = delta, exactly."""
    Js = [abs(j1 - j2) + k for k in range(int(j1 + j2 - abs(j1 - j2)) + 1)]
    J, Jp = data.draw(st.sampled_from(Js)), data.draw(st.sampled_from(Js))
    M = data.draw(st.sampled_from([-J + k for k in range(int(2 * J) + 1)]))
    m1s = [-j1 + k for k in range(int(2 * j1) + 1)]
    total = 0
    for m1 in m1s:
        m2 = M - m1
        if abs(m2) <= j2 and abs(M) <= Jp:
            total += clebsch_gordan(j1, m1, j2, m2, J, M) * clebsch_gordan(j1, m1, j2, m2, Jp, M)
    assert sympy.nsimplify(sympy.expand(total)) == (1 if J == Jp else 0)
    m1, m1p = data.draw(st.sampled_from(m1s)), data.draw(st.sampled_from(m1s))
    m2s = [-j2 + k for k in range(int(2 * j2) + 1)]
    m2, m2p = data.draw(st.sampled_from(m2s)), data.draw(st.sampled_from(m2s))
    total = 0
    for J in Js:
        for M in [-J + k for k in range(int(2 * J) + 1)]:
            if m1 + m2 == M and m1p + m2p == M:
                total += clebsch_gordan(j1, m1, j2, m2, J, M) * clebsch_gordan(j1, m1p, j2, m2p, J, M)
    assert sympy.expand(total) == (1 if (m1, m2) == (m1p, m2p) else 0)


@pytest.mark.parametrize("args, message", [
    ((1, 1, 1, 2, -1, -1), "|m1| must be <= j1"),        # |m| > j
    ((-1, 1, 1, 0, 0, 0), "j1 must be >= 0"),            # negative j
    ((Fraction(1, 3), 1, 1, 0, 0, 0), "half-integer"),  # not a half-integer
    ((1, 1, 1, H, -H, 0), "j1 + m1 must be an integer"),  # j + m not an integer
    ((H, H, H, H, H, -H), "no coupling exists"),          # mismatched integer / half-integer
    ((1.25, 1, 1, 0, 0, 0), "half-integer"),
    ((True, 1, 1, 0, 0, 0), "bool"),
    (("1", 1, 1, 0, 0, 0), "int, Fraction"),
])
def test_bad_input_raises_clear_error(args, message):
    with pytest.raises(SpinError) as exc:
        wigner_3j(*args)
    assert message in str(exc.value)


def test_selection_rules_give_exact_zero():
    assert wigner_3j(1, 1, 3, 0, 0, 0) == 0  # triangle
    assert clebsch_gordan(1, 1, 1, 0, 2, 0) == 0  # m1 + m2 != M
    assert wigner_3j(1, 1, 1, 0, 0, 0) == 0  # parity zero
    assert wigner_6j(1, 1, 3, 1, 1, 1) == 0  # triangle in a triad
    assert isinstance(wigner_3j(2, 2, 2, 1, -1, 0), sympy.Expr)
    assert wigner_3j(0.5, 0.5, 1, 0.5, -0.5, 0) == wigner_3j(H, H, 1, H, -H, 0)  # exact half-integer floats accepted
