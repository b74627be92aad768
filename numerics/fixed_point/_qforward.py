r"""The bit-exact forward pass of a quantized MLP: the casts hls4ml's ``nnet_utils`` perform, on integer codes.

* dense (``nnet_dense_latency.h``): every product ``x_i w_ij`` (exact) is cast to ``accum_t``; the
  accumulator starts at the bias cast to ``accum_t`` and adds the products in input order, each sum cast
  back to ``accum_t`` (only overflow can act there); the result is cast to ``result_t``. With ``AP_WRAP``
  the order does not matter (arithmetic modulo :math:`2^W`) and the sum is taken at once (one matmul when
  every product and partial sum is exact in ``accum_t`` and in float64); with saturation the adds are a
  ``lax.scan`` in hls4ml's order.
* ``relu``: ``x > 0 ? x : 0`` cast to the result type; ``linear``: the cast alone.
* ``tanh`` / ``sigmoid``: the table entry at hls4ml's index, cast to the result type.
* ``softmax``: exponentials from the exp table, their sum by hls4ml's balanced adder tree in ``accum_t``
  cast to ``inv_inp_t``, its inverse from the second table, each ``exp_i * inv`` cast to the result type.

Every intermediate value is an exact float64, so the emulation is exact; the casts are
:func:`~nntheory.numerics.fixed_point._fixed.quantize_codes`.
"""

from __future__ import annotations

from nntheory.numerics.fixed_point._fixed import FixedType, code_values, quantize_codes
from nntheory.numerics.fixed_point._qlayers import TABLE_ACTIVATIONS, QActivation, QDense
from nntheory.numerics.fixed_point._qtables import slice_index, table_index

__all__ = ["dense_accumulate", "forward_codes", "softmax_codes"]


def _cast(v, t: FixedType):
    """The value of ``v`` after the cast to ``t``."""
    return code_values(quantize_codes(v, t), t)


def _matmul_is_exact(prev: FixedType, layer: QDense, n_in: int) -> bool:
    """Whether every product fits ``accum_t`` exactly and every partial sum is an exact float64 (``AP_WRAP`` only)."""
    acc_t, w = layer.accum, layer.weight
    return (acc_t.overflow == "WRAP" and acc_t.frac >= prev.frac + w.frac and acc_t.integer >= prev.integer + w.integer
            and prev.width + w.width + max(n_in, 2).bit_length() + 1 <= 53)


def dense_accumulate(x, W, b, prev: FixedType, layer: QDense):
    """The accumulator values (of ``accum_t``) of a dense layer for input values ``x`` and parameter values ``W``, ``b``.

    Returns:
        Float64 values ``[..., n_out]``, exactly those of hls4ml's ``accum_t`` accumulator.
    """
    import jax
    import jax.numpy as jnp

    acc_t = layer.accum
    acc = _cast(b, acc_t)
    if _matmul_is_exact(prev, layer, W.shape[-2]):
        return _cast(acc + x @ W, acc_t)  # one matmul, one wrap
    prods = _cast(x[..., :, None] * W, acc_t)  # [..., n_in, n_out]
    if acc_t.overflow == "WRAP":
        return _cast(acc + prods.sum(axis=-2), acc_t)

    def step(a, p):
        return _cast(a + p, acc_t), None

    acc0 = jnp.broadcast_to(acc, prods.shape[:-2] + acc.shape[-1:])
    acc, _ = jax.lax.scan(step, acc0, jnp.moveaxis(prods, -2, 0))
    return acc


def _balanced_sum(vals, t: FixedType):
    """hls4ml's ``reduce<T, N, Op_add<T>>`` over the last axis, each partial sum cast to ``t``."""
    import jax.numpy as jnp

    def rec(lo: int, n: int):
        if n == 1:
            return vals[..., lo]
        if n == 2:
            return _cast(vals[..., lo] + vals[..., lo + 1], t)
        left = 1 << ((n - 1).bit_length() - 1)
        return _cast(rec(lo, left) + rec(lo + left, n - left), t)

    return rec(0, vals.shape[-1]) if vals.shape[-1] else jnp.zeros(vals.shape[:-1])


def softmax_codes(codes, data_t: FixedType, layer: QActivation, tab):
    """Output codes of a softmax layer for input codes of ``data_t``; ``tab`` from ``build_tables``."""
    import jax.numpy as jnp

    addr_t, nb, exp_vals, ni, inv_vals = tab
    x = code_values(codes, data_t)
    if layer.implementation == "stable":
        d = quantize_codes(jnp.max(x, axis=-1, keepdims=True) - x, addr_t)
        idx = slice_index(d, addr_t, nb)
    else:
        idx = slice_index(codes, data_t, nb)
    e = _cast(jnp.asarray(exp_vals)[idx], layer.accum)
    s = quantize_codes(_balanced_sum(e, layer.accum), layer.inv_inp)
    inv = jnp.asarray(inv_vals)[slice_index(s, layer.inv_inp, ni)]
    return quantize_codes(e * inv[..., None], layer.result)


def _activation_codes(codes, prev: FixedType, layer: QActivation, tab):
    """Output codes of an activation layer for input codes of ``prev``."""
    import jax.numpy as jnp

    x = code_values(codes, prev)
    if layer.kind == "linear":
        return quantize_codes(x, layer.result)
    if layer.kind == "relu":
        return quantize_codes(jnp.where(x > 0, x, 0.0), layer.result)
    if layer.kind in TABLE_ACTIVATIONS:
        table, vals = tab
        idx = table_index(codes, prev, table.size, table.half_range)
        return quantize_codes(jnp.asarray(vals)[idx], layer.result)
    return softmax_codes(codes, prev, layer, tab)


def forward_codes(layers, input_type: FixedType, tables: dict, x_codes, param_codes, *, return_all: bool = False):
    """Codes of the output of ``layers`` for input codes ``x_codes`` ``[..., n_in]`` (of ``input_type``); jit-able.

    Args:
        layers: the network's layers (:class:`QDense` and :class:`QActivation`).
        input_type: the type of the input codes.
        tables: the layers' tables (``build_tables``).
        x_codes: int64 input codes.
        param_codes: ``(W codes, b codes)`` per dense layer (numpy or JAX arrays, may be traced).
        return_all: also return the list of every layer's output codes.
    Returns:
        The output codes, or ``(output codes, [codes of each layer])`` with ``return_all``.
    """
    import jax.numpy as jnp

    codes, prev = jnp.asarray(x_codes, jnp.int64), input_type
    outs, it = [], iter(param_codes)
    for k, layer in enumerate(layers):
        if isinstance(layer, QDense):
            Wc, bc = next(it)
            W, b = code_values(Wc, layer.weight), code_values(bc, layer.bias)
            codes = quantize_codes(dense_accumulate(code_values(codes, prev), W, b, prev, layer), layer.result)
        else:
            codes = _activation_codes(codes, prev, layer, tables.get(k))
        outs.append(codes)
        prev = layer.result
    return (codes, outs) if return_all else codes
