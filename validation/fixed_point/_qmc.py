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

from nntheory.errors import SpecError
from nntheory.numerics.fixed_point._fixed import code_values, quantize_codes
from nntheory.numerics.fixed_point._qnet import QuantizedMLP, float_activation
from nntheory.validation._estimators import Estimate, jackknife

__all__ = ["QuantizedEnsemble", "quantized_ensemble", "compare_quantized"]

@dataclass(frozen=True)
class QuantizedEnsemble:
    """Per dense layer: ``bias`` and ``error_var`` of :math:`\\delta = \\tilde z - z`, ``accum_var`` of
    :math:`\\tilde z`, ``overflow[I]`` rates; every entry an :class:`Estimate` (value, standard error)."""

    n_nets: int
    bias: list
    error_var: list
    accum_var: list
    overflow: list  # per layer: {integer_bits: Estimate}


def quantized_ensemble(net: QuantizedMLP, x0, *, C_W: float, C_b: float, n_nets: int, seed: int = 0,
                       integer_bits=(), chunk: int = 256, float_activations=None) -> QuantizedEnsemble:
    """Sample ``n_nets`` networks; ``integer_bits``: a list (one per dense layer) of integer widths to count
    overflows for (or one list for all)."""
    import jax
    import jax.numpy as jnp

    if n_nets < 2 or isinstance(n_nets, bool):
        raise SpecError(f"quantized_ensemble: n_nets must be >= 2 (standard errors), got {n_nets!r}.")
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
    shapes = net.shapes()
    in_types = net.input_types()

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

    batched = jax.jit(jax.vmap(one))
    keys = jax.random.split(jax.random.key(seed), n_nets)
    parts = [jax.tree_util.tree_map(np.asarray, batched(keys[s : s + chunk])) for s in range(0, n_nets, chunk)]
    per = [tuple(np.concatenate([p[l][j] for p in parts]) for j in range(5)) for l in range(L)]

    def var_stat(s1, s2, N):
        return s2 / N - (s1 / N) ** 2

    bias, ev, av, ov = [], [], [], []
    for l in range(L):
        d1, d2, a1, a2, o = per[l]
        N = len(d1)
        bias.append(Estimate(d1.mean(), d1.std(ddof=1) / np.sqrt(N)))
        ev.append(jackknife(var_stat, d1, d2))
        av.append(jackknife(var_stat, a1, a2))
        ov.append({I: Estimate(o[:, j].mean(), o[:, j].std(ddof=1) / np.sqrt(N)) for j, I in enumerate(bits[l])})
    return QuantizedEnsemble(n_nets, bias, ev, av, ov)


def compare_quantized(theory, mc: QuantizedEnsemble) -> list[dict]:
    """Rows ``{layer, quantity, predicted, measured, stderr, z}`` for bias, error variance, accumulator variance and
    each overflow rate; ``z`` = (measured - predicted) / stderr."""
    rows = []
    for l in range(len(mc.bias)):
        items = [("bias", theory.bias[l], mc.bias[l]), ("error_var", theory.error_var[l], mc.error_var[l]),
                 ("accum_var", theory.accum_var[l], mc.accum_var[l])]
        items += [(f"overflow@I={I}", theory.overflow_rate(l, I), e) for I, e in mc.overflow[l].items()]
        for name, pred, est in items:
            se = float(est.stderr)
            rows.append({"layer": l + 1, "quantity": name, "predicted": float(pred), "measured": float(est.value), "stderr": se,
                         "z": (float(est.value) - float(pred)) / se if se > 0 else (0.0 if est.value == pred else np.inf)})
    return rows
