r"""Predictions for quantized MLPs at initialization: accumulator distributions, overflow rates, smallest safe
integer widths, and the error of the quantized net against its float twin, layer by layer.

Setting: the float twin has weights :math:`W \sim N(0, C_W/n_{l-1})`, biases :math:`b \sim N(0, C_b)`; the
deployed net (a :class:`~nntheory.numerics.fixed_point._qnet.QuantizedMLP`) holds their values in its weight and bias
types, :math:`\tilde W = W + e`, and runs on the quantised input :math:`\tilde x_0`. Per dense layer, with
:math:`z` the float preactivation and :math:`\tilde z = z + \delta` the deployed accumulator value,

.. math::
    \delta'_i = e_{b,i} + \sum_j W_{ij}(\tilde x_j - \sigma(z_j)) + \sum_j e_{ij}\tilde x_j,
    \qquad \tilde x_j = D(\tilde z_j),

where :math:`D` is the deployed activation *including* the cast to the dense result type and the activation's
tables and result cast: a step function, read off the emulator itself on every result code. The error splits
into a part shared by all neurons of a network (common mode :math:`c = \bar e_b + \bar e\sum_j\tilde x_j`,
mean :math:`m`, variance :math:`S`) and an independent part :math:`\eta_i` (variance :math:`K_{\eta\eta}`,
covariance :math:`K_{z\eta}` with :math:`z`). The weight-error moments :math:`\bar e = \mathbb E e`,
:math:`\mathbb E e^2`, :math:`\mathbb E We` are exact for Gaussian weights (sums over codes), so coarse
weight types are handled without the uniform-noise approximation of
:func:`nntheory.theory.rounding_noise` (which they reduce to when :math:`\Delta \ll \sqrt{C_W/n}`). The
recursion:

.. math::
    m' &= \bar e_b + n\,\bar e\,\mathbb E\tilde x, \qquad
    S' = \bar e^2\big[n \operatorname{Var}(\tilde x\mid c) + n^2 (\partial_m \mathbb E\tilde x)^2 S
        + n^2 (\partial_{K}\mathbb E\tilde x)^2\, V/n_{l-1}\big] \\
    K_{\eta\eta}' &= \operatorname{Var} e_b + C_W\,\mathbb E(\tilde x - \sigma)^2 + n\operatorname{Var}(e)\,\mathbb E\tilde x^2
        + 2n\,\mathbb E[We]\,\mathbb E[(\tilde x - \sigma)\tilde x] \\
    K_{z\eta}' &= C_W\,\mathbb E[\sigma(\tilde x - \sigma)] + n\,\mathbb E[We]\,\mathbb E[\sigma\tilde x]

with expectations over :math:`(z, \tilde z)` jointly Gaussian: mean :math:`(0, m)`, variances :math:`K` and
:math:`\tilde K = K + 2K_{z\eta} + K_{\eta\eta} + S`, covariance :math:`K + K_{z\eta}`. :math:`K` and the
four-point vertex :math:`V` are the float twin's finite-width recursions (compiled from
:func:`nntheory.theory.finite_width_recursion`); the term with :math:`V` is the correlation of different
neurons through their shared random variance, which survives the sum over :math:`n^2` pairs.
Expectations of the step function :math:`D` are integrated interval by interval (Gauss–Legendre on each
step, the smooth :math:`\mathbb E[\sigma(z)^k \mid \tilde z]` by Gauss–Hermite), so the steps are exact.

Predicted per layer: the bias :math:`m` and variance :math:`K_{\eta\eta} + S` of :math:`\delta`, the law of
the accumulator (mean :math:`m`, variance :math:`\tilde K`, vertex :math:`V`) and from it the overflow rate
of any integer width (:func:`nntheory.theory.overflow_rate`) and the smallest safe one. Accuracy: leading
order in 1/n for the error statistics (the :math:`V` term included), first order in 1/n for the overflow rate;
rounding of the accumulator itself is not modelled (take ``accum`` with at least the fractional bits of the
products, as hls4ml's defaults do; the constructor checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from nntheory.errors import SpecError
from nntheory.numerics.fixed_point._fixed import FixedType
from nntheory.numerics.fixed_point._float_activations import float_activation
from nntheory.numerics.fixed_point._qlayers import QActivation, QDense
from nntheory.numerics.fixed_point._qnet import QuantizedMLP
from nntheory.theory.fixed_point._quantized import overflow_rate, smallest_safe_integer_bits

__all__ = ["QuantizedTheory", "quantized_theory", "weight_error_moments"]

_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(40)
_GH_W = _GH_W / _GH_W.sum()
_GL_X, _GL_W = np.polynomial.legendre.leggauss(4)


def weight_error_moments(t: FixedType, std: float) -> tuple[float, float, float]:
    """``(E e, E e^2, E[W e])`` of :math:`e = \\tilde W - W` for :math:`W \\sim N(0, std^2)` stored in ``t`` (exact
    sums over the codes' intervals, saturation included).

    Args:
        t: the fixed-point type the weights are stored in (at most 20 bits wide, not ``AP_TRN_ZERO``).
        std: the standard deviation of :math:`W`.

    Returns:
        ``(E e, E e^2, E[W e])``, three floats.

    Raises:
        SpecError: if ``t`` rounds with ``AP_TRN_ZERO`` or is wider than 20 bits.
    """
    edges, codes = _cast_intervals(t, -12 * std, 12 * std)
    lo, hi = edges[:, 0] / std, edges[:, 1] / std
    P = ndtr(hi) - ndtr(lo)
    phi = lambda u: np.exp(-u * u / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    EW = std * (phi(lo) - phi(hi))  # E[W 1{bin}]
    EW2 = std**2 * (P + lo * phi(lo) - hi * phi(hi))
    q = codes * t.lsb
    Ee = float(np.sum(q * P - EW))
    Ee2 = float(np.sum(q * q * P - 2 * q * EW + EW2))
    EWe = float(np.sum(q * EW - EW2))
    return Ee, Ee2, EWe


def _cast_intervals(t: FixedType, lo: float, hi: float):
    """The intervals of real values that ``t`` casts to each code, over ``[lo, hi]``: ``(edges [k, 2], codes [k])``."""
    if t.rounding == "TRN_ZERO":
        raise SpecError("quantized theory: AP_TRN_ZERO result or weight types are not modelled (its error follows the sign).")
    if t.width > 20:
        raise SpecError(f"quantized theory: {t} is too wide to enumerate (width <= 20).")
    d = t.lsb
    off = 0.0 if t.rounding == "TRN" else -0.5  # code c covers [c + off, c + off + 1) * d
    span = float(2.0**t.integer)  # the period of AP_WRAP
    ks = range(int(np.floor(lo / span)) - 1, int(np.ceil(hi / span)) + 2) if t.overflow == "WRAP" else [0]
    codes = t.all_codes()
    edges, out = [], []
    base_lo, base_hi = (codes + off) * d, (codes + off + 1) * d
    for k in ks:
        edges.append(np.stack([base_lo + k * span, base_hi + k * span], 1))
        out.append(codes)
    E, C = np.concatenate(edges), np.concatenate(out)
    if t.overflow != "WRAP":
        top, bot = t.max_code, (-t.max_code if (t.overflow == "SAT_SYM" and t.signed) else t.min_code)
        if t.overflow == "SAT_ZERO":
            top = bot = 0
        E = np.concatenate([E, [[E[-1, 1], np.inf]], [[-np.inf, E[0, 0]]]])
        C = np.concatenate([C, [top, bot]])
        if t.overflow == "SAT_SYM" and t.signed:  # the code -2^(W-1) becomes -(2^(W-1) - 1)
            C = np.where(C == t.min_code, -t.max_code, C)
    keep = (E[:, 1] > lo) & (E[:, 0] < hi)
    E, C = E[keep], C[keep]
    return np.clip(E, lo, hi), C


@dataclass(frozen=True)
class QuantizedTheory:
    """Per dense layer (arrays over layers): the float kernel ``K``, vertex ``V`` and previous width ``n_prev``; the
    error's ``bias``, ``var_independent``, ``var_common`` and ``cov_z_error``; the accumulator's ``accum_mean`` and
    ``accum_var``."""

    net: QuantizedMLP
    K: np.ndarray
    V: np.ndarray
    n_prev: np.ndarray
    bias: np.ndarray
    var_independent: np.ndarray
    var_common: np.ndarray
    cov_z_error: np.ndarray
    accum_mean: np.ndarray = field(repr=False)
    accum_var: np.ndarray = field(repr=False)

    @property
    def error_var(self) -> np.ndarray:
        """Variance of the accumulator error :math:`\\delta` of one neuron (independent plus common part)."""
        return self.var_independent + self.var_common

    def overflow_rate(self, layer: int, integer_bits: int, *, finite_width: bool = True) -> float:
        """Predicted fraction of accumulator values of dense layer ``layer`` (0-based) outside ``ap_fixed<., integer_bits>``."""
        return overflow_rate(integer_bits, float(self.accum_var[layer]), float(self.V[layer]) if finite_width else 0.0,
                             float(self.n_prev[layer]), float(self.accum_mean[layer]))

    def safe_integer_bits(self, layer: int, rate: float = 1e-6) -> int:
        """The smallest accumulator integer width of dense layer ``layer`` whose predicted overflow rate is <= ``rate``."""
        return smallest_safe_integer_bits(float(self.accum_var[layer]), float(self.V[layer]), float(self.n_prev[layer]),
                                          float(self.accum_mean[layer]), rate)


def _deployed_steps(net: QuantizedMLP, dense: QDense, act: QActivation | None, lo: float, hi: float):
    """Intervals of the accumulator value and the deployed activation output on each (the emulator, on every code)."""
    import jax

    edges, codes = _cast_intervals(dense.result, lo, hi)
    if act is None:
        return edges, codes * dense.result.lsb
    one = QuantizedMLP(1, dense.result, (act,))
    with jax.ensure_compile_time_eval():
        out = np.asarray(one.forward_codes(codes[:, None], []))[:, 0]
    return edges, out * act.result.lsb


def _moments(steps, sig, mu_u: float, K: float, Ku: float, Kzu: float):
    """E[D], E[D^2], E[sigma(z) D] for (z, u) Gaussian, mean (0, mu_u), Var z = K, Var u = Ku, Cov = Kzu."""
    edges, vals = steps
    su = np.sqrt(Ku)
    # Gauss-Legendre on each interval, in the standardised variable (tails are clipped at 12 sd)
    a, b = (edges[:, 0] - mu_u) / su, (edges[:, 1] - mu_u) / su
    a, b = np.clip(a, -12, 12), np.clip(b, -12, 12)
    mid, half = (a + b) / 2, (b - a) / 2
    t = mid[:, None] + half[:, None] * _GL_X[None, :]
    w = half[:, None] * _GL_W[None, :] * np.exp(-t * t / 2) / np.sqrt(2 * np.pi)
    # z | u: mean Kzu/Ku (u - mu_u), variance K - Kzu^2/Ku
    cm = Kzu / Ku * (t * su)
    cs = np.sqrt(max(K - Kzu**2 / Ku, 0.0))
    Es = (sig(cm[..., None] + cs * _GH_X) * _GH_W).sum(-1)
    v = vals[:, None]
    return float((w * v).sum()), float((w * v * v).sum()), float((w * v * Es).sum())


def _check_theory_args(net: QuantizedMLP, x0, C_W, C_b, float_activations):
    """Validates the arguments of :func:`quantized_theory`; returns ``(x0, [(dense, act)], float kinds)``."""
    x0 = np.asarray(x0, np.float64)
    if x0.shape != (net.n_in,):
        raise SpecError(f"quantized_theory: x0 must have shape ({net.n_in},), got {x0.shape}.")
    if not (C_W > 0 and C_b >= 0):
        raise SpecError(f"quantized_theory: need C_W > 0 and C_b >= 0, got C_W={C_W}, C_b={C_b}.")
    try:
        pairs = [(d, a) for _, d, a in net.blocks()]
    except SpecError as exc:
        raise SpecError(f"quantized_theory: {exc}") from None
    kinds = [a.kind if a is not None else None for _, a in pairs]
    fl = list(float_activations) if float_activations is not None else kinds
    if len(fl) != len(pairs):
        raise SpecError(f"quantized_theory: float_activations needs {len(pairs)} entries.")
    types_in = [net.input_type] + [(a.result if a is not None else d.result) for d, a in pairs[:-1]]
    for (d, _), tin in zip(pairs, types_in):
        if d.accum.frac < tin.frac + d.weight.frac or d.accum.frac < d.bias.frac:
            raise SpecError(f"quantized_theory: accum {d.accum} must keep the products' {tin.frac + d.weight.frac} fractional "
                            f"bits (accumulator rounding is not modelled).")
    return x0, pairs, fl


def _float_twin(x0, widths: list[int], fl: list, C_W: float, C_b: float) -> tuple[np.ndarray, np.ndarray]:
    """The float twin's kernel ``K`` and vertex ``V`` per dense layer, through the compiled symbolic recursion."""
    from nntheory.numerics.finite_width._recursions import compile_recursion
    from nntheory.theory import activation, finite_width_recursion

    L = len(widths) - 1
    hidden = fl[:-1]
    if L > 1 and len(set(hidden)) > 1:
        raise SpecError("quantized_theory: the hidden activations must all be the same kind (one recursion).")
    act_name = hidden[0] if L > 1 else "linear"
    rec = compile_recursion(finite_width_recursion(activation("linear" if act_name is None else act_name)))
    ratios = np.array([widths[l + 1] / widths[l] for l in range(1, L)] or [1.0])
    stats = rec(np.array([[x0 @ x0 / widths[0]]]), depth=L, C_W=C_W, C_b=C_b, ratios=ratios)
    return np.asarray(stats["K"]).reshape(L, -1)[:, 0], np.asarray(stats["V"]).reshape(L, -1)[:, 0]


def _param_moments(dense: QDense, n_prev: int, C_W: float, C_b: float):
    """Weight and bias error moments of a dense layer: ``(Ee, Ee2, EWe), (Eb, Eb2, Ebb)``."""
    w = weight_error_moments(dense.weight, np.sqrt(C_W / n_prev))
    b = weight_error_moments(dense.bias, np.sqrt(C_b)) if C_b > 0 else (0.0, 0.0, 0.0)
    return w, b


def _first_layer(net: QuantizedMLP, dense: QDense, x0, C_W: float, C_b: float):
    """``(m, S, Kee, Kze)`` of the first dense layer: the input is fixed, the error is independent per neuron."""
    xq = np.asarray(net.input_type.represent(x0))
    (Ee, Ee2, EWe), (Eb, Eb2, Ebb) = _param_moments(dense, net.n_in, C_W, C_b)
    m = Eb + Ee * xq.sum()
    Kee = (Eb2 - Eb**2) + C_W * np.sum((xq - x0) ** 2) / net.n_in + (Ee2 - Ee**2) * xq @ xq + 2 * EWe * (xq - x0) @ xq
    Kze = Ebb + C_W * x0 @ (xq - x0) / net.n_in + EWe * x0 @ xq
    return m, 0.0, Kee, Kze


def _next_layer(net, d, act, nxt, sig, state, K: float, V: float, n_prev: int, n: int, C_W: float, C_b: float):
    """One step of the recursion (module docstring): ``(m, S, Kee, Kze)`` of dense layer ``nxt`` from those of ``d``."""
    m, S, Kee, Kze = state
    Kt = K + 2 * Kze + Kee + S
    su = np.sqrt(Kt)
    steps = _deployed_steps(net, d, act, m - 13 * su, m + 13 * su)
    A, B, C = _moments(steps, sig, m, K, Kt, K + Kze)
    h = 1e-3 * su
    dA_dm = (_moments(steps, sig, m + h, K, Kt, K + Kze)[0] - _moments(steps, sig, m - h, K, Kt, K + Kze)[0]) / (2 * h)
    hk = 1e-3 * Kt
    dA_dK = (_moments(steps, sig, m, K + hk, Kt + hk, K + Kze + hk)[0]
             - _moments(steps, sig, m, K - hk, Kt - hk, K + Kze - hk)[0]) / (2 * hk)
    Es2 = float((sig(np.sqrt(K) * _GH_X) ** 2 * _GH_W).sum())
    (Ee, Ee2, EWe), (Eb, Eb2, Ebb) = _param_moments(nxt, n, C_W, C_b)
    var_x_given_c = B - A * A - dA_dm**2 * S
    m_next = Eb + n * Ee * A
    S_next = Ee**2 * (n * var_x_given_c + n * n * dA_dm**2 * S + n * n * dA_dK**2 * V / n_prev)
    Kee = (Eb2 - Eb**2) + C_W * (B - 2 * C + Es2) + n * (Ee2 - Ee**2) * B + 2 * n * EWe * (B - C)
    Kze = Ebb + C_W * (C - Es2) + n * EWe * C
    return m_next, S_next, Kee, Kze


def quantized_theory(net: QuantizedMLP, x0, *, C_W: float, C_b: float, float_activations=None) -> QuantizedTheory:
    """Run the recursion of the module docstring for ``net`` on the input ``x0``.

    Args:
        net: dense layers, each optionally followed by relu, linear, tanh or sigmoid (a final softmax is ignored).
        x0: the input ``[n_in]``.
        C_W, C_b: the float twin's weight and bias variances (weights ``N(0, C_W / n_prev)``).
        float_activations: the float twin's activation after each dense layer (default: the deployed kind;
            ``None`` entries for none).
    Returns:
        The :class:`QuantizedTheory`, per dense layer.
    Raises:
        SpecError: for bad arguments, mixed hidden activations, or an accumulator that drops product bits.
    """
    x0, pairs, fl = _check_theory_args(net, x0, C_W, C_b, float_activations)
    widths = [net.n_in] + [d.n_out for d, _ in pairs]
    L = len(pairs)
    Ks, Vs = _float_twin(x0, widths, fl, C_W, C_b)
    out = {k: np.zeros(L) for k in ("bias", "var_independent", "var_common", "cov_z_error", "accum_mean", "accum_var")}
    state = _first_layer(net, pairs[0][0], x0, C_W, C_b)
    for l, (d, act) in enumerate(pairs):
        m, S, Kee, Kze = state
        Kt = Ks[l] + 2 * Kze + Kee + S
        for key, v in (("bias", m), ("var_independent", Kee), ("var_common", S), ("cov_z_error", Kze), ("accum_mean", m), ("accum_var", Kt)):
            out[key][l] = v
        if l == L - 1:
            break
        sig = float_activation(fl[l] or "linear", backend="numpy")
        state = _next_layer(net, d, act, pairs[l + 1][0], sig, state, Ks[l], Vs[l], widths[l], widths[l + 1], C_W, C_b)
    return QuantizedTheory(net, Ks, Vs, np.array(widths[:-1], float), **out)
