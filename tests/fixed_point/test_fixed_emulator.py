"""ap_fixed / ap_ufixed emulation: bit for bit against hls4ml's C++ headers (g++), plus algebraic properties."""

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nntheory.errors import SpecError
from nntheory.numerics import FixedType
from nntheory.numerics.fixed_point._fixed import OVERFLOW_MODES, ROUNDING_MODES, quantize_codes
from nntheory.validation.fixed_point._cpp import cpp_compiler, hls4ml_templates

jax.config.update("jax_enable_x64", True)

needs_cpp = pytest.mark.skipif(hls4ml_templates() is None or cpp_compiler() is None,
                               reason="needs hls4ml (extra 'fpga') for its ap_types headers, and g++")

SHAPES = [(2, 1, True), (3, -1, True), (4, 4, True), (5, 7, True), (6, -2, True), (7, 0, True), (8, 3, True), (10, 12, True),
          (12, 4, True), (16, 6, True), (18, 8, True), (24, 10, True), (32, 16, True),
          (1, 1, False), (4, 0, False), (6, 3, False), (8, -1, False), (9, 12, False), (16, 8, False), (20, 4, False)]
TYPES = [FixedType(w, i, s, r, o) for (w, i, s) in SHAPES for r in ROUNDING_MODES for o in OVERFLOW_MODES]
PAIRS = [("ap_fixed<20,8>", "ap_fixed<8,3,AP_RND,AP_SAT>"), ("ap_fixed<20,8>", "ap_ufixed<6,2,AP_RND_CONV,AP_SAT_SYM>"),
         ("ap_ufixed<16,10>", "ap_fixed<8,4,AP_RND_ZERO,AP_WRAP>"), ("ap_fixed<12,2>", "ap_fixed<16,8,AP_RND_INF,AP_SAT_SYM>"),
         ("ap_fixed<24,4>", "ap_fixed<10,-1,AP_RND_MIN_INF,AP_SAT_ZERO>"), ("ap_fixed<16,6>", "ap_fixed<16,6,AP_TRN_ZERO,AP_SAT_SYM>")]

#: the types whose JAX route is checked too: two per shape, (rounding, overflow) pairs k and k + 20 (mod 28) for
#: the k-th shape, so every one of the 7 x 4 mode pairs is compiled at least once (40 compiles; every eighth
#: type, as before, took 70 and met only the first overflow mode)
_N_MODES = len(ROUNDING_MODES) * len(OVERFLOW_MODES)
JAX_ROUTE = {s * _N_MODES + (s + d) % _N_MODES for s in range(len(SHAPES)) for d in (0, 20)}


#: the JAX route under jit, as users run it: one compile per type (called eagerly, every jnp op of the core compiled
#: on its own for each input size: ~7 compiles per type)
_quantize_jit = jax.jit(quantize_codes, static_argnums=1)


@pytest.fixture(scope="module")
def harness():
    from nntheory.validation.fixed_point._cpp import FixedHarness

    return FixedHarness(TYPES, PAIRS)


def _inputs(t: FixedType, rng) -> np.ndarray:
    """Every code and three points between neighbouring codes, over twice the range (W <= 16); a random
    sample of such points otherwise; random float64 with full mantissas; extremes and signed zeros."""
    span = 1 << (t.width + 3)
    k = np.arange(-span, span) if t.width <= 16 else rng.integers(-span, span, size=1 << 18)
    grid = k * 2.0 ** (-(t.frac + 2))
    rand = rng.normal(size=4000) * 2.0 ** rng.integers(t.integer - t.width - 2, t.integer + 3, size=4000)
    special = [1e300, -1e300, 1e-300, -1e-300, 5e-324, -5e-324, 0.0, -0.0, 2.0**60, -(2.0**60)]
    return np.concatenate([grid, rand, special])


@needs_cpp
def test_emulator_matches_ap_fixed_headers_bit_for_bit(harness):
    """560 types (20 widths/integer bits, signed and unsigned, 7 rounding x 4 overflow modes): every code of
    the 16-bit and narrower types with the points between them, random doubles and extremes."""
    rng = np.random.default_rng(0)
    assert len(TYPES) >= 50
    for i, t in enumerate(TYPES):
        x = _inputs(t, rng)
        ref = harness.codes(i, x)
        got = np.asarray(t.quantize(x))  # concrete inputs: the NumPy float64 route
        bad = np.nonzero(ref != got)[0]
        assert bad.size == 0, (str(t), x[bad[:5]], ref[bad[:5]], got[bad[:5]])
        if i in JAX_ROUTE:  # the JAX route (jit-able core; one compile per type); XLA flushes subnormal inputs
            # to zero, so they are lifted to the smallest normal number first, as the checked entry point does
            tiny = np.finfo(np.float64).tiny
            sub = np.r_[0 : len(x) - 10 : 13, len(x) - 10 : len(x)]  # every 13th point (all gaps hit) and the extremes
            xj = np.where((x[sub] != 0) & (np.abs(x[sub]) < tiny), np.copysign(tiny, x[sub]), x[sub])
            np.testing.assert_array_equal(np.asarray(_quantize_jit(jnp.asarray(xj), t)), ref[sub], err_msg=str(t))


@needs_cpp
def test_fixed_to_fixed_conversion_matches_headers(harness):
    rng = np.random.default_rng(1)
    for j, (s, t) in enumerate(PAIRS):
        S, T = FixedType.parse(s), FixedType.parse(t)
        codes = S.all_codes() if S.width <= 16 else rng.integers(S.min_code, S.max_code + 1, size=1 << 18)
        x = np.asarray(S.values(codes))  # exactly representable in S: the double -> S step is exact
        ref = harness.convert_codes(j, x)
        got = np.asarray(T.convert(codes, S))
        assert np.array_equal(ref, got), (s, t)


@settings(max_examples=60, deadline=None)
@given(w=st.integers(1, 24), i=st.integers(-8, 30), signed=st.booleans(), r=st.sampled_from(ROUNDING_MODES),
       o=st.sampled_from(OVERFLOW_MODES), seed=st.integers(0, 2**32 - 1))
def test_quantisation_properties(w, i, signed, r, o, seed):
    if signed and w < 2 and o == "SAT_SYM":
        return
    t = FixedType(w, i, signed, r, o)
    rng = np.random.default_rng(seed)
    codes = rng.integers(t.min_code, t.max_code + 1, size=200)
    if o == "SAT_SYM" and signed:
        codes = np.maximum(codes, -t.max_code)
    v = np.asarray(t.values(codes))
    np.testing.assert_array_equal(np.asarray(t.quantize(v)), codes)  # representable values are fixed points
    x = rng.uniform(t.min_value, t.max_value, size=500)
    q = np.asarray(t.represent(x))
    np.testing.assert_array_equal(np.asarray(t.represent(q)), q)  # idempotent
    err = q - x
    inside = (x >= t.min_value + t.lsb) & (x <= t.max_value - t.lsb)
    if r == "TRN":
        assert np.all((err[inside] <= 0) & (err[inside] > -t.lsb))
    elif r == "TRN_ZERO":
        assert np.all((np.abs(q[inside]) <= np.abs(x[inside])) & (np.abs(err[inside]) < t.lsb))
    else:
        assert np.all(np.abs(err[inside]) <= t.lsb / 2)
    if o in ("SAT", "SAT_SYM"):  # saturation keeps the order
        xs = np.sort(rng.normal(size=300) * 2.0 ** (i + 1))
        assert np.all(np.diff(np.asarray(t.represent(xs))) >= 0)
    if o == "WRAP":  # wrapping is congruent modulo 2^W codes
        xs = rng.integers(-(1 << 40), 1 << 40, size=100) * t.lsb
        diff = (np.asarray(t.quantize(xs)) - np.asarray(FixedType(53, 53 - t.frac, True, r, "SAT").quantize(xs))) % (1 << w)
        assert np.all(diff == 0)


def test_jit_and_vmap():
    t = FixedType.parse("ap_fixed<8,3,AP_RND_CONV,AP_SAT>")
    x = jnp.linspace(-5, 5, 101).reshape(1, 101)
    f = jax.jit(jax.vmap(lambda v: quantize_codes(v, t)))
    np.testing.assert_array_equal(np.asarray(f(x)), np.asarray(t.quantize(x)))


@pytest.mark.parametrize("text, match", [
    ("ap_fixed<16>", "expected integer W and I"),
    ("ap_fixed<0,0>", "width must be between 1 and 53"),
    ("ap_fixed<64,10>", "width must be between 1 and 53"),
    ("ap_fixed<8,3,AP_ROUND>", "rounding must be one of"),
    ("ap_fixed<8,3,AP_RND,AP_WRAP_SM>", "AP_WRAP_SM is not emulated"),
    ("float", "expected 'ap_fixed"),
])
def test_bad_types(text, match):
    with pytest.raises(SpecError, match=match):
        FixedType.parse(text)


def test_non_finite_inputs_are_refused():
    with pytest.raises(SpecError, match="must be finite"):
        FixedType.parse("ap_fixed<16,6>").quantize([1.0, np.nan])


def test_type_round_trips_through_its_spelling():
    for t in TYPES[::7]:
        assert FixedType.parse(str(t)) == t
    assert str(FixedType.parse("fixed<16,6,RND,SAT>")) == "ap_fixed<16,6,AP_RND,AP_SAT>"


def _exact_codes(x: np.ndarray, t: FixedType) -> np.ndarray:
    """Independent reference (exact rationals): TRN with SAT, floor(x 2^F) clipped to the code range."""
    return np.array([min(max(math.floor(Fraction(float(v)) * Fraction(2) ** t.frac), t.min_code), t.max_code) for v in x])


@pytest.mark.parametrize("x64", [True, False])
def test_represent_is_exact_with_and_without_x64(x64):
    t = FixedType(48, 10, True, "TRN", "SAT")  # 38 fractional bits: float32 (24-bit mantissas) would lose 14 or more
    x = np.random.default_rng(3).normal(size=64) * 100.0 + 1.0 / 3.0
    ref = _exact_codes(x, t)
    assert np.any(ref * 2.0**-t.frac != x.astype(np.float32).astype(np.float64))  # negative control: float32 differs
    with jax.enable_x64(x64):
        codes, vals = t.quantize(x), t.represent(x)
        back = t.convert(codes, t)
    assert codes.dtype == np.int64 and vals.dtype == np.float64
    np.testing.assert_array_equal(codes, ref)
    np.testing.assert_array_equal(vals, ref * 2.0**-t.frac)
    np.testing.assert_array_equal(back, ref)


def test_jax_core_refuses_float32():
    t = FixedType.parse("ap_fixed<16,6>")
    with jax.enable_x64(False):
        with pytest.raises(SpecError, match="quantize_codes: needs float64"):
            quantize_codes(jnp.ones(3), t)
        with pytest.raises(SpecError, match="needs float64"):
            jax.jit(t.represent)(jnp.ones(3))  # a traced input takes the JAX route
