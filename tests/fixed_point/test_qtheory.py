"""Theory for quantized nets: rounding noise, overflow rates and the error against the float twin, checked against
exact closed forms and against Monte Carlo ensembles run through the bit-exact emulator (errors over networks)."""

import jax
import numpy as np
import pytest
import sympy
from scipy.special import erfc

from nntheory.numerics.fixed_point._fixed import FixedType
from nntheory.numerics.fixed_point._qnet import quantized_mlp
from nntheory.numerics.fixed_point._qtheory import quantized_theory, weight_error_moments
from nntheory.theory.fixed_point._quantized import overflow_rate, rounding_noise, smallest_safe_integer_bits
from nntheory.validation.fixed_point._qmc import compare_quantized, quantized_ensemble

jax.config.update("jax_enable_x64", True)


@pytest.mark.parametrize("rounding", ["TRN", "RND", "RND_CONV", "RND_INF"])
def test_rounding_noise_is_the_fine_grid_limit_of_the_exact_moments(rounding):
    """Uniform-noise moments (exact rationals) against the exact Gaussian sums over codes for a fine type."""
    t = FixedType(16, 4, True, rounding, "SAT")
    mean, var = rounding_noise(t.frac, rounding)
    assert isinstance(mean, sympy.Rational) and var == sympy.Rational(1, 12) * sympy.Rational(1, 2**24)
    Ee, Ee2, EWe = weight_error_moments(t, 0.7)
    assert abs(Ee - float(mean)) < 1e-3 * t.lsb
    assert abs((Ee2 - Ee**2) - float(var)) < 1e-3 * float(var)
    assert abs(EWe) < 1e-3 * t.lsb**2
    with pytest.raises(ValueError, match="AP_TRN_ZERO"):
        rounding_noise(4, "TRN_ZERO")


def test_overflow_rate_limits():
    K = 0.8
    for bits in (0, 1, 2, 3):
        a = 2.0 ** (bits - 1)
        assert overflow_rate(bits, K) == pytest.approx(erfc(a / np.sqrt(2 * K)), rel=1e-12)
        # the Gamma average and the 1/n expansion agree to O(1/n^2)
        g, e = (overflow_rate(bits, K, 1.5, 4096, method=mth) for mth in ("gamma", "expansion"))
        f0 = overflow_rate(bits, K)
        assert abs(g - e) < 0.02 * abs(g - f0) + 1e-12
    assert smallest_safe_integer_bits(1.0, rate=1e-6) == 4  # a = 2^(I-1) must exceed 4.89 sigma: 4 is too small, 8 is enough
    with pytest.raises(ValueError, match="rate must be in"):
        smallest_safe_integer_bits(1.0, rate=0)


CONFIGS = {
    # activation, C_W, weight type, activation result type: three precisions per activation (TRN bias, coarse RND, activation TRN)
    "tanh-w8trn": ("tanh", 1.0, "ap_fixed<8,1,AP_TRN,AP_SAT>", "ap_fixed<8,1,AP_RND,AP_SAT>"),
    "tanh-w6rnd": ("tanh", 1.0, "ap_fixed<6,1,AP_RND,AP_SAT>", "ap_fixed<8,1,AP_RND,AP_SAT>"),
    "tanh-a6trn": ("tanh", 1.0, "ap_fixed<10,2,AP_RND_CONV,AP_SAT>", "ap_fixed<6,1,AP_TRN,AP_SAT>"),
    "relu-w8trn": ("relu", 2.0, "ap_fixed<8,1,AP_TRN,AP_SAT>", "ap_fixed<10,3,AP_RND,AP_SAT>"),
    "relu-w6rnd": ("relu", 2.0, "ap_fixed<6,1,AP_RND,AP_SAT>", "ap_fixed<10,3,AP_RND,AP_SAT>"),
    "relu-a7trn": ("relu", 2.0, "ap_fixed<10,2,AP_RND_CONV,AP_SAT>", "ap_fixed<7,3,AP_TRN,AP_SAT>"),
}
N_NETS, WIDTH = 600, 64


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_theory_matches_emulated_ensembles(name):
    """Acceptance 4: per layer, the bias and variance of the accumulator error against the float twin, the
    accumulator variance and the overflow rates at 1, 2 and 3 integer bits agree with 600 emulated networks within
    4 standard errors (rates with fewer than 20 expected events are not tested: their standard error is unreliable)."""
    act, C_W, wt, at = CONFIGS[name]
    C_b = 0.05
    net = quantized_mlp(16, [WIDTH] * 3, input_precision="ap_fixed<10,2,AP_RND>", weight=wt, bias="ap_fixed<10,2,AP_RND>",
                        accum="ap_fixed<32,10>", result="ap_fixed<14,5,AP_RND,AP_SAT>", activations=[act, act, None],
                        activation_result=at, table="ap_fixed<12,2,AP_RND,AP_SAT>")
    x0 = np.linspace(-1.2, 1.2, 16)
    th = quantized_theory(net, x0, C_W=C_W, C_b=C_b)
    mc = quantized_ensemble(net, x0, C_W=C_W, C_b=C_b, n_nets=N_NETS, seed=7, integer_bits=[1, 2, 3])
    rows = compare_quantized(th, mc)
    tested = [r for r in rows if not r["quantity"].startswith("overflow") or r["predicted"] * N_NETS * WIDTH >= 20]
    bad = [r for r in tested if not abs(r["z"]) < 4]
    assert not bad, bad
    assert len(tested) >= 12
    # A mean error needs a biased weight rounding (TRN) times a non-zero mean activation (relu): there it is
    # resolved, not just consistent with zero. Elsewhere the predicted bias is zero (zero-mean W times the
    # activation's rounding bias; TRN weights times a zero-mean tanh), and the ensembles agree.
    bias_z = max(abs(r["predicted"]) / r["stderr"] for r in rows if r["quantity"] == "bias")
    assert (bias_z > 10) == (name == "relu-w8trn")


def test_smallest_safe_width_is_safe_and_tight():
    """The smallest integer width predicted to keep overflows below 1% has an emulated rate below 1%, and one bit
    fewer overflows more than 1% (each within 4 standard errors)."""
    net = quantized_mlp(16, [WIDTH] * 2, input_precision="ap_fixed<10,2,AP_RND>", weight="ap_fixed<8,1,AP_TRN,AP_SAT>",
                        bias="ap_fixed<10,2,AP_RND>", accum="ap_fixed<32,10>", result="ap_fixed<14,5,AP_RND,AP_SAT>",
                        activations=["tanh", None], activation_result="ap_fixed<8,1,AP_RND,AP_SAT>")
    x0 = np.linspace(-1.2, 1.2, 16)
    th = quantized_theory(net, x0, C_W=1.5, C_b=0.05)
    I = th.safe_integer_bits(1, rate=0.01)
    mc = quantized_ensemble(net, x0, C_W=1.5, C_b=0.05, n_nets=N_NETS, seed=3, integer_bits=[I - 1, I])
    safe, unsafe = mc.overflow[1][I], mc.overflow[1][I - 1]
    assert safe.value < 0.01 + 4 * safe.stderr
    assert unsafe.value > 0.01 - 4 * unsafe.stderr


def test_zero_standard_errors_give_finite_z_or_a_refusal():
    """A zero standard error never becomes an infinite z: exact agreement is z = 0, a rate falls back to the
    prediction's binomial error over the networks, anything else is refused."""
    from types import SimpleNamespace

    from nntheory.errors import FixedPointError
    from nntheory.validation._estimators import Estimate
    from nntheory.validation.fixed_point._qmc import QuantizedEnsemble

    def ens(bias, rate):
        return QuantizedEnsemble(100, [Estimate(bias, 0.0)], [Estimate(1.0, 0.1)], [Estimate(2.0, 0.1)],
                                 [{8: Estimate(rate, 0.0)}])

    theory = SimpleNamespace(bias=[0.5], error_var=[1.0], accum_var=[2.0], overflow_rate=lambda l, I: 0.01)
    rows = compare_quantized(theory, ens(0.5, 0.0))
    z = {r["quantity"]: r["z"] for r in rows}
    assert z["bias"] == 0.0
    assert z["overflow@I=8"] == pytest.approx(-0.01 / np.sqrt(0.01 * 0.99 / 100))  # -1.005: binomial error of the prediction
    assert all(np.isfinite(r["z"]) for r in rows)
    with pytest.raises(FixedPointError, match="layer 1 bias.*standard error over 100 networks is zero"):
        compare_quantized(theory, ens(0.25, 0.0))
