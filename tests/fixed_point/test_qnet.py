"""Quantized MLPs: the JAX emulator against exact rational arithmetic, and bit for bit against hls4ml's own
compile()/predict() (a QAT-trained digits net and random nets covering every layer path)."""

from fractions import Fraction
from math import floor

import jax
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nntheory.errors import SpecError
from nntheory.numerics.fixed_point._fixed import FixedType
from nntheory.numerics.fixed_point._qnet import QActivation, QDense, QuantizedMLP, quantized_mlp
from nntheory.validation.fixed_point._cpp import cpp_compiler, hls4ml_templates

jax.config.update("jax_enable_x64", True)

needs_hls4ml = pytest.mark.skipif(hls4ml_templates() is None or cpp_compiler() is None,
                                  reason="needs hls4ml (extra 'fpga') and g++")


# --- an independent route: ap_fixed casts in exact rational arithmetic ------------------------------------
TWO = Fraction(2)


def val(c, t: FixedType) -> Fraction:
    return Fraction(int(c)) / TWO**t.frac


def cast(v: Fraction, t: FixedType) -> Fraction:
    y = v * TWO**t.frac
    fl = floor(y)
    r = y - fl
    inc = {"TRN": False, "TRN_ZERO": y < 0 and r > 0, "RND": r >= Fraction(1, 2),
           "RND_ZERO": r > Fraction(1, 2) or (r == Fraction(1, 2) and y < 0), "RND_MIN_INF": r > Fraction(1, 2),
           "RND_INF": r > Fraction(1, 2) or (r == Fraction(1, 2) and y > 0),
           "RND_CONV": r > Fraction(1, 2) or (r == Fraction(1, 2) and fl % 2 == 1)}[t.rounding]
    q = fl + int(inc)
    lo, hi = t.min_code, t.max_code
    if t.overflow == "WRAP":
        m = 1 << t.width
        q %= m
        if t.signed and q > hi:
            q -= m
    elif t.overflow == "SAT":
        q = min(max(q, lo), hi)
    elif t.overflow == "SAT_ZERO":
        q = 0 if (q < lo or q > hi) else q
    else:
        q = min(max(q, -hi if t.signed else lo), hi)
    return Fraction(q) / TWO**t.frac


def dense_reference(x, W, b, layer: QDense):
    """hls4ml's dense_latency, literally: products to accum_t, acc = bias, acc += product in input order."""
    out = []
    for j in range(W.shape[1]):
        acc = cast(b[j], layer.accum)
        for i in range(W.shape[0]):
            acc = cast(acc + cast(x[i] * W[i, j], layer.accum), layer.accum)
        out.append(cast(acc, layer.result))
    return out


TYPES = st.builds(lambda w, i, s, r, o: FixedType(w, i, s, r, o), st.integers(3, 12), st.integers(-1, 6), st.booleans(),
                  st.sampled_from(["TRN", "RND", "RND_CONV", "TRN_ZERO", "RND_ZERO", "RND_INF", "RND_MIN_INF"]),
                  st.sampled_from(["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]))


@settings(max_examples=25, deadline=None)
@given(xt=TYPES, wt=TYPES, at=TYPES, rt=TYPES, seed=st.integers(0, 2**31 - 1))
def test_dense_matches_rational_reference(xt, wt, at, rt, seed):
    """Every precision combination and overflow mode, including accumulators that saturate midway (order matters)."""
    rng = np.random.default_rng(seed)
    layer = QDense(3, wt, wt, at, rt)
    net = QuantizedMLP(5, xt, (layer,))
    xc = rng.integers(xt.min_code, xt.max_code + 1, size=(4, 5))
    Wc = rng.integers(wt.min_code, wt.max_code + 1, size=(5, 3))
    bc = rng.integers(wt.min_code, wt.max_code + 1, size=3)
    out = np.asarray(net.forward_codes(xc, [(Wc, bc)]))
    W = np.array([[val(c, wt) for c in row] for row in Wc], dtype=object)
    b = [val(c, wt) for c in bc]
    for n in range(4):
        x = [val(c, xt) for c in xc[n]]
        ref = [int(v * TWO**rt.frac) for v in dense_reference(x, W, b, layer)]
        assert out[n].tolist() == ref


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 12))
def test_softmax_is_a_distribution_within_table_error(seed, n):
    """The table softmax is close to the exact softmax of the same (quantised) inputs: the exp table's entries are
    exact to 2^-F at points at most one address step apart, so each output is off by at most a few percent for
    10-bit addresses; the outputs sum to 1 within the same error."""
    rng = np.random.default_rng(seed)
    t_in = FixedType(12, 4, True, "RND", "SAT")
    sm = QActivation("softmax", "ap_ufixed<16,0,AP_RND,AP_SAT>", exp_table="ap_fixed<18,4,AP_RND,AP_SAT>",
                     inv_table="ap_fixed<18,8,AP_RND,AP_SAT>", accum="ap_fixed<20,6,AP_RND,AP_SAT>",
                     inv_inp="ap_fixed<18,6,AP_RND,AP_SAT>", table_size=1024)
    net = QuantizedMLP(n, t_in, (sm,))
    xc = rng.integers(-600, 600, size=(8, n))
    out = np.asarray(net.output_values(net.forward_codes(xc, [])))
    x = xc * 2.0**-t_in.frac
    ref = np.exp(x - x.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    # d = x_max - x is cut to its top 10 bits (address step 2^(3-10+1) = 1/64 of the 11-bit ufixed<11,3>): exp error <= 1/64
    # relative; 1/sum from 10 of 18 bits of inv_inp (step 2^(6-10+1)=1/8 on a sum >= 1): <= 1/8 relative
    assert np.all(np.abs(out - ref) <= ref * (1 / 64 + 1 / 8 + 1e-3) + 2.0**-14)


def test_wrap_accumulator_is_order_free_and_scan_agrees():
    """With AP_WRAP the emulator sums at once; with AP_SAT it scans. Wide enough accumulators never overflow, so the
    two must agree exactly; narrow ones must differ somewhere (saturation is not modular)."""
    rng = np.random.default_rng(3)
    xt, wt = FixedType(8, 3), FixedType(8, 2)
    xc = rng.integers(-128, 128, size=(64, 16))
    Wc, bc = rng.integers(-128, 128, size=(16, 4)), rng.integers(-128, 128, size=4)
    wide = [QuantizedMLP(16, xt, (QDense(4, wt, wt, FixedType(30, 14, True, "TRN", o), "ap_fixed<30,14>"),)) for o in ("WRAP", "SAT")]
    a, b = (np.asarray(n.forward_codes(xc, [(Wc, bc)])) for n in wide)
    assert np.array_equal(a, b)
    narrow = [QuantizedMLP(16, xt, (QDense(4, wt, wt, FixedType(12, 3, True, "TRN", o), "ap_fixed<30,14>"),)) for o in ("WRAP", "SAT")]
    a, b = (np.asarray(n.forward_codes(xc, [(Wc, bc)])) for n in narrow)
    assert np.any(a != b)


def test_bad_specs_are_refused():
    with pytest.raises(SpecError, match="kind must be one of"):
        QActivation("gelu", "ap_fixed<8,2>")
    with pytest.raises(SpecError, match="softmax implementation"):
        QActivation("softmax", "ap_ufixed<8,0>", implementation="legacy")
    with pytest.raises(SpecError, match="softmax must be the last layer"):
        QuantizedMLP(4, "ap_fixed<8,2>", (QActivation("softmax", "ap_ufixed<8,0>"), QDense(2, "ap_fixed<8,2>", "ap_fixed<8,2>", "ap_fixed<16,6>", "ap_fixed<8,2>")))
    with pytest.raises(SpecError, match="address bits"):
        QuantizedMLP(4, "ap_fixed<6,2>", (QActivation("softmax", "ap_ufixed<8,0>", implementation="latency", table_size=1024),))
    with pytest.raises(SpecError, match="accum precision"):
        QDense(2, "ap_fixed<8,2>", "ap_fixed<8,2>", "ap_fixed<60,20>", "ap_fixed<8,2>")
    net = quantized_mlp(4, [3], input_precision="ap_fixed<8,2>", weight="ap_fixed<8,2>", bias="ap_fixed<8,2>",
                        accum="ap_fixed<16,6>", result="ap_fixed<8,2>", activations=[None])
    with pytest.raises(SpecError, match="expected W of shape"):
        net.quantize_params([(np.zeros((3, 4)), np.zeros(3))])
    with pytest.raises(SpecError, match="last axis 4"):
        net.predict(np.zeros((2, 5)), [(np.zeros((4, 3)), np.zeros(3))])
    with pytest.raises(SpecError, match="one entry per dense layer"):
        quantized_mlp(4, [3, 2], input_precision="ap_fixed<8,2>", weight=["ap_fixed<8,2>"], bias="ap_fixed<8,2>",
                      accum="ap_fixed<16,6>", result="ap_fixed<8,2>", activations=[None, None])


# --- hls4ml itself ----------------------------------------------------------------------------------------
def _hls4ml_agrees(net, param_codes, X, tmp_path, name):
    m = net.to_hls4ml(param_codes=param_codes, output_dir=str(tmp_path / name), project_name=name)
    m.compile()
    ref = np.asarray(m.predict(np.ascontiguousarray(X, dtype=np.float64))).reshape(len(X), -1)
    ours = net.predict(X, param_codes=param_codes)
    return ours, ref


@needs_hls4ml
@pytest.mark.filterwarnings("ignore")
def test_qat_digits_net_bit_exact_with_hls4ml(tmp_path):
    """Acceptance 3: a QAT-trained MLP on scikit-learn's digits (heterogeneous per-layer precisions, relu, tanh
    table, softmax tables) gives the same bits in the emulator and in hls4ml's compile()/predict()."""
    from nntheory.validation.fixed_point._qat import digits_pixels, digits_net, train_qat

    Xtr, ytr, Xte, yte = digits_pixels()
    net = digits_net()
    res = train_qat(net, Xtr, ytr, steps=250, seed=0)
    rng = np.random.default_rng(0)
    X = np.concatenate([Xte, rng.uniform(-0.5, 2.5, size=(300, 64))])  # beyond the data: saturating inputs too
    ours, ref = _hls4ml_agrees(net, res.param_codes, X, tmp_path, "digits")
    assert ours.shape == ref.shape == (len(X), 10)
    assert np.array_equal(ours, ref), f"{np.sum(ours != ref)} of {ours.size} outputs differ"
    assert np.mean(ours[: len(yte)].argmax(1) == yte) > 0.85  # it did learn: digits is ~95% for this net


@needs_hls4ml
@pytest.mark.filterwarnings("ignore")
def test_random_nets_bit_exact_with_hls4ml(tmp_path):
    """Paths the digits net does not take: sigmoid table, linear, latency softmax, saturating and wrapping
    accumulators that do overflow, every rounding mode somewhere."""
    net = QuantizedMLP(10, "ap_fixed<9,3,AP_RND_CONV,AP_SAT_SYM>", (
        QDense(12, "ap_fixed<7,2,AP_RND_ZERO>", "ap_fixed<6,2,AP_RND_INF>", "ap_fixed<11,3,AP_RND,AP_SAT>", "ap_fixed<10,4,AP_TRN_ZERO,AP_SAT>"),
        QActivation("sigmoid", "ap_ufixed<8,0,AP_RND_MIN_INF,AP_SAT>", table="ap_fixed<12,2,AP_RND,AP_SAT>", table_size=512),
        QDense(8, "ap_fixed<6,1,AP_RND>", "ap_fixed<8,2>", "ap_fixed<9,2,AP_TRN,AP_WRAP>", "ap_fixed<12,5,AP_RND,AP_SAT_ZERO>"),
        QActivation("linear", "ap_fixed<8,3,AP_RND,AP_SAT>"),
        QDense(6, "ap_fixed<8,2,AP_RND>", "ap_fixed<8,2>", "ap_fixed<14,5,AP_RND,AP_SAT_SYM>", "ap_fixed<10,4,AP_RND,AP_SAT>"),
        QActivation("softmax", "ap_ufixed<9,0,AP_RND,AP_SAT>", implementation="latency", table_size=256,
                    exp_table="ap_fixed<16,8,AP_RND,AP_SAT>", inv_table="ap_fixed<14,4,AP_RND,AP_SAT>",
                    accum="ap_fixed<16,9,AP_RND,AP_SAT>", inv_inp="ap_fixed<16,9,AP_RND,AP_SAT>"),
    ))
    rng = np.random.default_rng(1)
    params = [(rng.normal(size=s) * 1.2, rng.normal(size=s[1]) * 0.5) for s in net.shapes()]
    codes = net.quantize_params(params)
    X = rng.normal(size=(1500, 10)) * 3
    ours, ref = _hls4ml_agrees(net, codes, X, tmp_path, "rnd")
    assert np.array_equal(ours, ref), f"{np.sum(ours != ref)} of {ours.size} outputs differ"
    # the accumulators did overflow (otherwise the overflow paths were not exercised)
    _, outs = net.forward_codes(net.input_type.quantize(X), codes, return_all=True)
    acc2 = FixedType(9, 2)
    x1 = np.asarray(outs[1]) * 2.0**-8
    W2, b2 = net.param_values(codes)[1]
    assert np.mean(np.abs(x1 @ W2 + b2) > acc2.max_value) > 0.01
