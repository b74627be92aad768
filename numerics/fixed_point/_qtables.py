"""The lookup tables of a quantized MLP's activation layers, filled and addressed as hls4ml 1.3.0 does.

* tanh / sigmoid: :func:`~nntheory.numerics.fixed_point._lut.activation_table` with ``mode="hls4ml"``; an
  input code is mapped to its entry by hls4ml's ``int(x * N / 2R) + N/2``, clipped (:func:`table_index`).
* softmax: an exp table addressed by the top bits of ``x_max - x_i`` (``stable``, cast to ``inp_norm_t``)
  or of ``x_i`` (``latency``), and an inverse table addressed by the top bits of the sum (:func:`slice_index`).
  Both are filled as hls4ml fills them at run time: single-precision ``expf`` and ``1/x`` (glibc through
  ``ctypes``), an infinite ``1/0`` entry saturating or wrapping like any large number.
"""

from __future__ import annotations

import numpy as np

from nntheory.numerics.fixed_point._fixed import FixedType
from nntheory.numerics.fixed_point._qlayers import TABLE_ACTIVATIONS, QActivation, address_bits, exp_table_size

__all__ = ["build_tables", "slice_index", "table_index"]


def slice_index(codes, t: FixedType, n_bits: int):
    """hls4ml's ``x(W-1, W-N)``: the top ``n_bits`` bits of the two's-complement code, as an unsigned index."""
    import jax.numpy as jnp

    u = jnp.asarray(codes, jnp.int64) & ((1 << t.width) - 1)
    return u >> (t.width - n_bits)


def table_index(codes, t: FixedType, size: int, R: float):
    """hls4ml's ``int(x * N / 2R) + N/2`` clipped, in exact integer arithmetic (see ``ActivationTable.index``)."""
    import jax.numpy as jnp

    num = jnp.asarray(codes, jnp.int64) * size
    shift = int(np.log2(2 * R)) + t.frac  # den = 2^shift
    if shift >= 0:
        q = jnp.sign(num) * (jnp.abs(num) >> shift)  # truncation towards zero
    else:
        q = num << (-shift)
    return jnp.clip(q + size // 2, 0, size - 1)


def _slice_values(t: FixedType, size: int, n_bits: int) -> np.ndarray:
    """``softmax_real_val_from_idx``: the value (as float32) of the code whose top bits are the index."""
    u = np.arange(size, dtype=np.int64) << (t.width - n_bits)
    if t.signed:
        u = np.where(u >= (1 << (t.width - 1)), u - (1 << t.width), u)
    return np.ldexp(u.astype(np.float64), -t.frac).astype(np.float32)


def _float_to_type(vals: np.ndarray, t: FixedType) -> np.ndarray:
    """Table entries computed in float, converted as ``table_t e = float_value;`` (an infinity acts as a huge number)."""
    v = np.asarray(vals, dtype=np.float64)
    v = np.where(np.isinf(v), np.copysign(2.0**1000, v), v)
    return np.asarray(t.quantize(v))


def _softmax_tables(layer: QActivation, prev: FixedType, inp_norm: FixedType | None) -> tuple:
    """``(addr_t, exp_bits, exp_values, inv_bits, inv_values)`` of a softmax layer whose input type is ``prev``."""
    from nntheory.numerics.fixed_point._lut import _libm

    lib = _libm()
    if layer.implementation == "stable":
        addr, size = inp_norm, exp_table_size(layer, prev)
    else:
        addr, size = prev, layer.table_size
    nb = address_bits(size, addr, "the exp table address")
    x = _slice_values(addr, size, nb) * np.float32(1.0)  # exp_scale = 1.0
    if layer.implementation == "stable":
        x = -x
    e = np.array([lib.expf(float(v)) for v in x], dtype=np.float64)
    exp_codes = _float_to_type(e, layer.exp_table)
    ni = address_bits(layer.table_size, layer.inv_inp, "inv_inp_t")
    xi = _slice_values(layer.inv_inp, layer.table_size, ni)
    with np.errstate(divide="ignore"):
        inv = (np.float32(1.0) / xi).astype(np.float64)
    inv_codes = _float_to_type(inv, layer.inv_table)
    return addr, nb, np.asarray(layer.exp_table.values(exp_codes)), ni, np.asarray(layer.inv_table.values(inv_codes))


def build_tables(layers, input_type: FixedType, inp_norms: dict) -> dict:
    """The tables of every table-driven layer of a network.

    Args:
        layers: the network's layers.
        input_type: the type of the network's input.
        inp_norms: ``{layer index: inp_norm_t}`` of the stable softmax layers.
    Returns:
        ``{layer index: tables}``: ``(ActivationTable, entry values)`` for tanh and sigmoid, the tuple of
        ``_softmax_tables`` for softmax.
    """
    from nntheory.numerics.fixed_point._lut import activation_table

    tabs, prev = {}, input_type
    for k, layer in enumerate(layers):
        if isinstance(layer, QActivation) and layer.kind in TABLE_ACTIVATIONS:
            t = activation_table(layer.kind, input_precision=prev, table_size=layer.table_size,
                                 table_precision=layer.table, mode="hls4ml")
            tabs[k] = (t, np.asarray(layer.table.values(t.codes)))
        elif isinstance(layer, QActivation) and layer.kind == "softmax":
            tabs[k] = _softmax_tables(layer, prev, inp_norms.get(k))
        prev = layer.result
    return tabs
