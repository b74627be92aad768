r"""Monte Carlo ensembles of quantized MLPs through the bit-exact emulator, against :mod:`nntheory.numerics.fixed_point._qtheory`.

Each network draws float weights :math:`W \sim N(0, C_W/n_{l-1})` and biases :math:`b \sim N(0, C_b)` (the float
twin), stores them in the deployed types (the emulator's casts), and runs one input both ways. Per dense layer it
records the deployed accumulator value :math:`\tilde z = \tilde b + \sum_j \tilde W_{ij}\tilde x_j` (exact, from the
codes of the layer's input in the emulator), the float preactivation :math:`z`, and for each asked integer width
whether :math:`\tilde z` leaves :math:`[-2^{I-1}, 2^{I-1})`. Neurons of one network are correlated, so every
standard error is taken over networks (per-network means; the jackknife for the variance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nntheory._checks import check_int
from nntheory.errors import FixedPointError
from nntheory.numerics.fixed_point._fixed import code_values, quantize_codes
from nntheory.numerics.fixed_point._float_activations import float_activation
from nntheory.numerics.fixed_point._qnet import QuantizedMLP
from nntheory.validation._estimators import Estimate, jackknife

__all__ = ["QuantizedEnsemble", "compare_quantized", "quantized_ensemble"]


@dataclass(frozen=True)
class QuantizedEnsemble:
    """Monte Carlo estimates per dense layer: ``bias`` and ``error_var`` of :math:`\\delta = \\tilde z - z`, ``accum_var`` of
    :math:`\\tilde z`, ``overflow[I]`` rates; every entry an :class:`Estimate` (value, standard error)."""

    n_nets: int
    bias: list
    error_var: list
    accum_var: list
    overflow: list  # per layer: {integer_bits: Estimate}


def _sampler(net: QuantizedMLP, x0, dense: list[int], fns: list, bits: list, C_W: float, C_b: float):
    """The per-network statistics of one random key: per dense layer ``(E d, E d^2, E zt, E zt^2, overflow rates)``."""
    import jax
    import jax.numpy as jnp

    L, shapes, in_types = len(dense), net.shapes(), net.input_types()

    def one(key):
        keys = jax.random.split(key, 2 * L)
        Ws = [jax.random.normal(keys[2 * l], s) * jnp.sqrt(C_W / s[0]) for l, s in enumerate(shapes)]
        bs = [jax.random.normal(keys[2 * l + 1], (s[1],)) * jnp.sqrt(C_b) for l, s in enumerate(shapes)]
        codes = [(quantize_codes(W, net.layers[k].weight), quantize_codes(b, net.layers[k].bias)) for W, b, k in zip(Ws, bs, dense)]
        x0c = quantize_codes(x0, net.input_type)
        _, outs = net.forward_codes(x0c, codes, return_all=True)
        h, res = x0, []
        for l, k in enumerate(dense):
            z = h @ Ws[l] + bs[l]
            xin = code_values(x0c if k == 0 else outs[k - 1], in_types[k])
            Wc, bc = codes[l]
            zt = xin @ code_values(Wc, net.layers[k].weight) + code_values(bc, net.layers[k].bias)
            d = zt - z
            ov = [jnp.mean((zt >= 2.0 ** (I - 1)) | (zt < -(2.0 ** (I - 1)))) for I in bits[l]]
            res.append((d.mean(), (d * d).mean(), zt.mean(), (zt * zt).mean(), jnp.stack(ov) if ov else jnp.zeros(0)))
            h = fns[l](z)
        return res

    return one


def _var_stat(s1, s2, N):
    return s2 / N - (s1 / N) ** 2


def _estimates(per: list, bits: list, n_nets: int) -> QuantizedEnsemble:
    """Estimates with standard errors over networks from the per-network statistics ``per`` (one tuple per layer)."""
    bias, ev, av, ov = [], [], [], []
    for l, (d1, d2, a1, a2, o) in enumerate(per):
        N = len(d1)
        bias.append(Estimate(d1.mean(), d1.std(ddof=1) / np.sqrt(N)))
        ev.append(jackknife(_var_stat, d1, d2))
        av.append(jackknife(_var_stat, a1, a2))
        ov.append({I: Estimate(o[:, j].mean(), o[:, j].std(ddof=1) / np.sqrt(N)) for j, I in enumerate(bits[l])})
    return QuantizedEnsemble(n_nets, bias, ev, av, ov)


def quantized_ensemble(net: QuantizedMLP, x0, *, C_W: float, C_b: float, n_nets: int, seed: int = 0,
                       integer_bits=(), chunk: int = 256, float_activations=None, key=None) -> QuantizedEnsemble:
    """Sample ``n_nets`` networks and measure the quantities :func:`~nntheory.numerics.quantized_theory` predicts.

    Args:
        net: the deployed network (dense layers, each optionally followed by one activation).
        x0: the input ``[n_in]``.
        C_W, C_b: the float twin's weight and bias variances.
        n_nets: the number of networks (>= 2, for standard errors).
        seed: the seed of the JAX random key (used when ``key`` is None).
        integer_bits: a list (one per dense layer) of integer widths to count overflows for (or one list for all).
        chunk: networks per vmapped batch.
        float_activations: the float twin's activation after each dense layer (default: the deployed kind).
        key: the JAX random key (default: ``jax.random.key(seed)``).
    Returns:
        The :class:`QuantizedEnsemble`.
    Raises:
        SpecError: if ``n_nets`` < 2.
    """
    import jax
    import jax.numpy as jnp

    n_nets = check_int(n_nets, "n_nets", lo=2, where="quantized_ensemble")
    x0 = jnp.asarray(np.asarray(x0, np.float64))
    blocks = net.blocks()
    dense = [k for k, _, _ in blocks]
    L = len(dense)
    fl = list(float_activations) if float_activations is not None else [a.kind if a is not None else None for _, _, a in blocks]
    fns = [float_activation(f) for f in fl]
    bits = list(integer_bits)
    if bits and not isinstance(bits[0], (list, tuple)):
        bits = [bits] * L
    bits = bits or [[]] * L
    batched = jax.jit(jax.vmap(_sampler(net, x0, dense, fns, bits, C_W, C_b)))
    keys = jax.random.split(jax.random.key(seed) if key is None else key, n_nets)
    chunk = min(check_int(chunk, "chunk", lo=1, where="quantized_ensemble"), n_nets)
    pad = -n_nets % chunk  # every batch has the same shape (one compilation); the padding networks are dropped
    keys = jnp.concatenate([keys, jnp.repeat(keys[-1:], pad, axis=0)]) if pad else keys
    parts = [jax.tree_util.tree_map(np.asarray, batched(keys[s : s + chunk])) for s in range(0, n_nets + pad, chunk)]
    per = [tuple(np.concatenate([p[l][j] for p in parts])[:n_nets] for j in range(5)) for l in range(L)]
    return _estimates(per, bits, n_nets)


def compare_quantized(theory, mc: QuantizedEnsemble) -> list[dict]:
    """Rows ``{layer, quantity, predicted, measured, stderr, z}`` for bias, error variance, accumulator variance and
    each overflow rate; ``z`` = (measured - predicted) / stderr.

    Args:
        theory: the prediction, a :class:`~nntheory.numerics.QuantizedTheory`
            (from :func:`~nntheory.numerics.quantized_theory`).
        mc: the Monte Carlo estimates for the same net (from :func:`quantized_ensemble`).

    Returns:
        A list of dicts, one per dense layer and quantity: ``layer`` (1-based int), ``quantity``
        (``"bias"``, ``"error_var"``, ``"accum_var"`` or ``"overflow@I=<bits>"``), and the floats
        ``predicted``, ``measured``, ``stderr`` and ``z`` (always finite: 0 when ``stderr`` is 0 and the
        values agree; a rate with zero ``stderr`` uses the prediction's binomial error).

    Raises:
        FixedPointError: a zero standard error with a measurement that differs from a non-rate prediction.
    """
    rows = []
    for l in range(len(mc.bias)):
        items = [("bias", theory.bias[l], mc.bias[l]), ("error_var", theory.error_var[l], mc.error_var[l]),
                 ("accum_var", theory.accum_var[l], mc.accum_var[l])]
        items += [(f"overflow@I={I}", theory.overflow_rate(l, I), e) for I, e in mc.overflow[l].items()]
        for name, pred, est in items:
            se = float(est.stderr)
            rows.append({"layer": l + 1, "quantity": name, "predicted": float(pred), "measured": float(est.value), "stderr": se,
                         "z": _z(float(est.value), float(pred), se, name, l, mc.n_nets)})
    return rows


def _z(measured: float, predicted: float, se: float, name: str, l: int, n_nets: int) -> float:
    """``(measured - predicted) / se``, finite. A zero standard error (every network gave the same value) is
    exact agreement (z = 0), or for a rate the binomial error of the prediction over ``n_nets`` networks;
    otherwise it is refused."""
    if se > 0:
        return (measured - predicted) / se
    if measured == predicted:
        return 0.0
    if name.startswith("overflow") and 0.0 < predicted < 1.0:
        return (measured - predicted) / float(np.sqrt(predicted * (1.0 - predicted) / n_nets))
    raise FixedPointError(f"compare_quantized: layer {l + 1} {name}: the standard error over {n_nets} networks is zero "
                          f"but the measurement {measured!r} differs from the prediction {predicted!r}; use more networks.")
