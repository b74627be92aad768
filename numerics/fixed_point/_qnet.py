r"""Quantized MLPs as hls4ml builds them (``io_parallel``, ``Latency`` strategy), emulated bit for bit in JAX.

A :class:`QuantizedMLP` is a frozen descriptor: an input type and a sequence of layers, each a
:class:`QDense` (its ``weight``, ``bias``, ``accum`` and ``result`` types, hls4ml's per-layer
``Precision`` keys) or a :class:`QActivation` (``relu``, ``linear``, ``tanh``, ``sigmoid`` or ``softmax``
with its result and table types). :meth:`QuantizedMLP.forward_codes` runs it on integer codes, jit-able
and vmappable, the same sequence of casts that hls4ml's ``nnet_utils`` perform:

* dense (``nnet_dense_latency.h``): every product ``x_i w_ij`` (exact) is cast to ``accum_t``; the
  accumulator starts at the bias cast to ``accum_t`` and adds the products in input order, each sum cast
  back to ``accum_t`` (only overflow can act there); the result is cast to ``result_t``. With
  ``AP_WRAP`` the order does not matter (arithmetic modulo :math:`2^W`) and the sum is taken at once; with
  saturation the adds are a ``lax.scan`` in hls4ml's order.
* ``relu``: ``x > 0 ? x : 0`` cast to the result type; ``linear``: the cast alone.
* ``tanh`` / ``sigmoid``: hls4ml's tables (:func:`~nntheory.numerics.fixed_point._lut.activation_table` with
  ``mode="hls4ml"``) and its index rule, the entry cast to the result type.
* ``softmax`` (``nnet_activation.h``, implementations ``stable`` and ``latency``): exponentials from a
  table addressed by the top bits of ``x_max - x_i`` (cast to ``inp_norm_t``) or of ``x_i``; their sum by
  hls4ml's balanced adder tree in ``accum_t``, cast to ``inv_inp_t``; its inverse from a second table
  addressed by its top bits; each output ``exp_i * inv`` cast to the result type. Both tables are filled
  as hls4ml fills them at run time: single-precision ``expf`` and ``1/x`` (glibc through ``ctypes``), an
  infinite ``1/0`` entry saturating or wrapping like any large number.

Every intermediate value is an exact float64 (the codes are at most 53 bits; products need
:math:`W_x + W_w \le 53`, which the constructor checks), so the emulation is exact; the casts are
:func:`~nntheory.numerics.fixed_point._fixed.quantize_codes`. The independent check is hls4ml itself:
:meth:`QuantizedMLP.to_hls4ml` writes the same network as an hls4ml project (``hls4ml==1.3.0``, extra
``fpga``), whose ``compile()`` / ``predict()`` must agree on every output bit (``tests/fixed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from nntheory.errors import SpecError
from nntheory.numerics.fixed_point._fixed import FixedType, code_values, fixed_type, quantize_codes

__all__ = ["QDense", "QActivation", "QuantizedMLP", "quantized_mlp", "SOFTMAX_IMPLEMENTATIONS"]

TABLE_ACTIVATIONS = ("tanh", "sigmoid")
PLAIN_ACTIVATIONS = ("relu", "linear")
SOFTMAX_IMPLEMENTATIONS = ("stable", "latency")
_DEFAULT_TABLE = "ap_fixed<18,8>"  # hls4ml's default table_t
_DEFAULT_SOFTMAX_TABLE = "ap_fixed<18,8,AP_RND,AP_SAT>"  # its default exp/inv table types


def float_activation(kind):
    """The float twin's activation of ``kind`` (``None``: identity), as a JAX function."""
    import jax
    import jax.numpy as jnp

    fns = {"relu": lambda v: jnp.maximum(v, 0.0), "linear": lambda v: v, None: lambda v: v, "tanh": jnp.tanh,
           "sigmoid": jax.nn.sigmoid}
    if kind not in fns:
        raise SpecError(f"float activation: expected one of relu, linear, tanh, sigmoid or None, got {kind!r}.")
    return fns[kind]


def _ft(spec, what: str) -> FixedType:
    try:
        return fixed_type(spec)
    except SpecError as exc:
        raise SpecError(f"{what}: {exc}") from None


@dataclass(frozen=True)
class QDense:
    """A dense layer's precisions, as hls4ml's ``Precision`` keys ``weight``, ``bias``, ``accum``, ``result``."""

    n_out: int
    weight: FixedType
    bias: FixedType
    accum: FixedType
    result: FixedType

    def __post_init__(self) -> None:
        if isinstance(self.n_out, bool) or not isinstance(self.n_out, (int, np.integer)) or self.n_out < 1:
            raise SpecError(f"QDense: n_out must be a positive integer, got {self.n_out!r}.")
        object.__setattr__(self, "n_out", int(self.n_out))
        for k in ("weight", "bias", "accum", "result"):
            object.__setattr__(self, k, _ft(getattr(self, k), f"QDense {k} precision"))
        if self.accum.width > 52:
            raise SpecError(f"QDense: accum precision {self.accum} is wider than 52 bits (sums must stay exact in float64).")

    def precision(self) -> dict:
        return {k: str(getattr(self, k)) for k in ("weight", "bias", "accum", "result")}


@dataclass(frozen=True)
class QActivation:
    """An activation layer: ``relu``, ``linear``, ``tanh``, ``sigmoid`` (hls4ml tables) or ``softmax``.

    ``table`` / ``table_size``: the table type and size of tanh and sigmoid. Softmax uses ``exp_table``,
    ``inv_table``, ``accum``, ``inv_inp`` (default: ``exp_table``), ``inp_norm`` (``stable`` only; default as
    hls4ml derives it from the input type) and ``table_size`` for both tables.
    """

    kind: str
    result: FixedType
    table: FixedType | None = None
    table_size: int = 1024
    implementation: str = "stable"
    exp_table: FixedType | None = None
    inv_table: FixedType | None = None
    accum: FixedType | None = None
    inv_inp: FixedType | None = None
    inp_norm: FixedType | None = None

    def __post_init__(self) -> None:
        kinds = PLAIN_ACTIVATIONS + TABLE_ACTIVATIONS + ("softmax",)
        if self.kind not in kinds:
            raise SpecError(f"QActivation: kind must be one of {', '.join(kinds)}, got {self.kind!r}.")
        object.__setattr__(self, "result", _ft(self.result, f"{self.kind} result precision"))
        n = self.table_size
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2 or n & (n - 1):
            raise SpecError(f"QActivation: table_size must be a power of two >= 2, got {n!r}.")
        object.__setattr__(self, "table_size", int(n))
        if self.kind in TABLE_ACTIVATIONS:
            object.__setattr__(self, "table", _ft(self.table or _DEFAULT_TABLE, f"{self.kind} table precision"))
        if self.kind == "softmax":
            if self.implementation not in SOFTMAX_IMPLEMENTATIONS:
                raise SpecError(f"QActivation: softmax implementation must be one of {', '.join(SOFTMAX_IMPLEMENTATIONS)}, "
                                f"got {self.implementation!r} (hls4ml's 'legacy' and 'argmax' are not emulated).")
            for k in ("exp_table", "inv_table", "accum"):
                object.__setattr__(self, k, _ft(getattr(self, k) or _DEFAULT_SOFTMAX_TABLE, f"softmax {k} precision"))
            object.__setattr__(self, "inv_inp", _ft(self.inv_inp or self.exp_table, "softmax inv_inp precision"))
            if self.inp_norm is not None:
                object.__setattr__(self, "inp_norm", _ft(self.inp_norm, "softmax inp_norm precision"))



def _address_bits(size: int, t: FixedType, what: str) -> int:
    n = int(size).bit_length() - 1
    if n > t.width:
        raise SpecError(f"softmax: a table of {size} entries needs {n} address bits, more than the width of {what} {t}.")
    return n


def _slice_index(codes, t: FixedType, n_bits: int):
    """hls4ml's ``x(W-1, W-N)``: the top ``n_bits`` bits of the two's-complement code, as an unsigned index."""
    import jax.numpy as jnp

    u = jnp.asarray(codes, jnp.int64) & ((1 << t.width) - 1)
    return u >> (t.width - n_bits)


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


def _balanced_sum(vals, t: FixedType):
    """hls4ml's ``reduce<T, N, Op_add<T>>`` over the last axis, each partial sum cast to ``t``."""
    import jax.numpy as jnp

    def rec(lo: int, n: int):
        if n == 1:
            return vals[..., lo]
        if n == 2:
            return code_values(quantize_codes(vals[..., lo] + vals[..., lo + 1], t), t)
        left = 1 << ((n - 1).bit_length() - 1)
        return code_values(quantize_codes(rec(lo, left) + rec(lo + left, n - left), t), t)

    return rec(0, vals.shape[-1]) if vals.shape[-1] else jnp.zeros(vals.shape[:-1])


@dataclass(frozen=True)
class QuantizedMLP:
    """``input_type`` and ``layers`` (a tuple of :class:`QDense` and :class:`QActivation`); ``n_in`` inputs."""

    n_in: int
    input_type: FixedType
    layers: tuple = field(default=())

    def __post_init__(self) -> None:
        if isinstance(self.n_in, bool) or not isinstance(self.n_in, (int, np.integer)) or self.n_in < 1:
            raise SpecError(f"QuantizedMLP: n_in must be a positive integer, got {self.n_in!r}.")
        object.__setattr__(self, "input_type", _ft(self.input_type, "input precision"))
        layers = tuple(self.layers)
        if not layers:
            raise SpecError("QuantizedMLP: layers must not be empty.")
        prev, width, norms = self.input_type, int(self.n_in), {}
        for k, layer in enumerate(layers):
            if isinstance(layer, QDense):
                if prev.width + layer.weight.width > 53:
                    raise SpecError(f"QuantizedMLP layer {k}: input {prev} times weight {layer.weight} exceeds 53 bits.")
                prev, width = layer.result, layer.n_out
            elif isinstance(layer, QActivation):
                if layer.kind == "softmax":
                    if k != len(layers) - 1:
                        raise SpecError(f"QuantizedMLP layer {k}: softmax must be the last layer.")
                    if layer.implementation == "stable":
                        norm = norms[k] = layer.inp_norm or self._default_inp_norm(prev)
                        _address_bits(self._exp_size(layer, prev), norm, "inp_norm_t")
                    else:
                        _address_bits(layer.table_size, prev, "the input type")
                    _address_bits(layer.table_size, layer.inv_inp, "inv_inp_t")
                prev = layer.result
            else:
                raise SpecError(f"QuantizedMLP layer {k}: expected QDense or QActivation, got {type(layer).__name__}.")
        object.__setattr__(self, "n_in", int(self.n_in))
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "_inp_norm", norms)  # the stable softmax's inp_norm_t, resolved against its input
        object.__setattr__(self, "n_out", width)

    @staticmethod
    def _default_inp_norm(t: FixedType) -> FixedType:
        """hls4ml 1.3.0: ``ap_ufixed<W - s, I - s>`` of the input type (``s`` = 1 if signed)."""
        s = int(t.signed)
        return FixedType(t.width - s, t.integer - s, signed=False)

    @staticmethod
    def _exp_size(layer: QActivation, data_t: FixedType) -> int:
        """hls4ml caps the stable exp table at ``2^(W-1)`` entries for a signed input."""
        if layer.implementation == "stable" and data_t.signed:
            return min(layer.table_size, 1 << (data_t.width - 1))
        return layer.table_size

    # -- parameters ----------------------------------------------------------------------------------------
    @property
    def dense_layers(self) -> list[int]:
        return [k for k, l in enumerate(self.layers) if isinstance(l, QDense)]

    def blocks(self) -> list[tuple[int, QDense, QActivation | None]]:
        """``(index, dense, activation or None)`` for each dense layer and the relu/linear/tanh/sigmoid that follows it
        (a final softmax is left out). Raises if an activation follows something other than a dense layer."""
        out, k = [], 0
        layers = [l for l in self.layers if not (isinstance(l, QActivation) and l.kind == "softmax")]
        while k < len(layers):
            d = layers[k]
            if not isinstance(d, QDense):
                raise SpecError(f"expected dense layers, each optionally followed by one activation; layer {k} is {d.kind}.")
            act = layers[k + 1] if k + 1 < len(layers) and isinstance(layers[k + 1], QActivation) else None
            out.append((k, d, act))
            k += 2 if act is not None else 1
        return out

    def input_types(self) -> list[FixedType]:
        """The type of the data entering each layer."""
        out, prev = [], self.input_type
        for layer in self.layers:
            out.append(prev)
            prev = layer.result
        return out

    def shapes(self) -> list[tuple[int, int]]:
        """``(n_in, n_out)`` of each dense layer; weights are stored ``[n_in, n_out]`` as hls4ml indexes them."""
        out, width = [], self.n_in
        for layer in self.layers:
            if isinstance(layer, QDense):
                out.append((width, layer.n_out))
                width = layer.n_out
        return out

    def quantize_params(self, params) -> list[tuple[np.ndarray, np.ndarray]]:
        """Codes of ``params`` (a list of ``(W [n_in, n_out], b [n_out])`` float arrays, one per dense layer)."""
        params = list(params)
        shapes = self.shapes()
        if len(params) != len(shapes):
            raise SpecError(f"params: expected {len(shapes)} (W, b) pairs, one per dense layer, got {len(params)}.")
        out = []
        for k, ((W, b), (ni, no), li) in enumerate(zip(params, shapes, self.dense_layers)):
            W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
            if W.shape != (ni, no) or b.shape != (no,):
                raise SpecError(f"params[{k}]: expected W of shape {(ni, no)} and b of shape {(no,)}, got {W.shape} and {b.shape}.")
            layer = self.layers[li]
            out.append((np.asarray(layer.weight.quantize(W)), np.asarray(layer.bias.quantize(b))))
        return out

    def param_values(self, codes) -> list[tuple[np.ndarray, np.ndarray]]:
        """The float64 values of parameter codes (what hls4ml is given: exactly representable numbers)."""
        return [(np.asarray(self.layers[li].weight.values(Wc)), np.asarray(self.layers[li].bias.values(bc)))
                for (Wc, bc), li in zip(codes, self.dense_layers)]

    # -- tables ----------------------------------------------------------------------------------------------
    @cached_property
    def _tables(self) -> dict:
        import jax

        with jax.ensure_compile_time_eval():  # built once, from constants, even when first asked for inside jit
            return self._build_tables()

    def _build_tables(self) -> dict:
        from nntheory.numerics.fixed_point._lut import _libm, activation_table

        tabs, prev = {}, self.input_type
        for k, layer in enumerate(self.layers):
            if isinstance(layer, QActivation) and layer.kind in TABLE_ACTIVATIONS:
                t = activation_table(layer.kind, input_precision=prev, table_size=layer.table_size,
                                     table_precision=layer.table, mode="hls4ml")
                tabs[k] = (t, np.asarray(layer.table.values(t.codes)))
            elif isinstance(layer, QActivation) and layer.kind == "softmax":
                lib = _libm()
                if layer.implementation == "stable":
                    addr, size = self._inp_norm[k], self._exp_size(layer, prev)
                else:
                    addr, size = prev, layer.table_size
                nb = _address_bits(size, addr, "the exp table address")
                x = _slice_values(addr, size, nb) * np.float32(1.0)  # exp_scale = 1.0
                if layer.implementation == "stable":
                    x = -x
                e = np.array([lib.expf(float(v)) for v in x], dtype=np.float64)
                exp_codes = _float_to_type(e, layer.exp_table)
                ni = _address_bits(layer.table_size, layer.inv_inp, "inv_inp_t")
                xi = _slice_values(layer.inv_inp, layer.table_size, ni)
                with np.errstate(divide="ignore"):
                    inv = (np.float32(1.0) / xi).astype(np.float64)
                inv_codes = _float_to_type(inv, layer.inv_table)
                tabs[k] = (addr, nb, np.asarray(layer.exp_table.values(exp_codes)), ni, np.asarray(layer.inv_table.values(inv_codes)))
            prev = layer.result
        return tabs

    # -- the forward pass ----------------------------------------------------------------------------------
    def forward_codes(self, x_codes, param_codes, *, return_all: bool = False):
        """Codes of the output for input codes ``x_codes`` ``[..., n_in]`` (of ``input_type``); jit-able.

        ``param_codes``: from :meth:`quantize_params` (numpy or JAX arrays, may be traced).
        ``return_all``: also the list of every layer's output codes.
        """
        import jax
        import jax.numpy as jnp

        tabs = self._tables
        codes = jnp.asarray(x_codes, jnp.int64)
        prev = self.input_type
        outs, it = [], iter(param_codes)
        for k, layer in enumerate(self.layers):
            x = code_values(codes, prev)
            if isinstance(layer, QDense):
                Wc, bc = next(it)
                W, b = code_values(Wc, layer.weight), code_values(bc, layer.bias)
                acc_t = layer.accum
                acc = code_values(quantize_codes(b, acc_t), acc_t)
                n_in = W.shape[-2]
                if (acc_t.overflow == "WRAP" and acc_t.frac >= prev.frac + layer.weight.frac
                        and acc_t.integer >= prev.integer + layer.weight.integer
                        and prev.width + layer.weight.width + max(n_in, 2).bit_length() + 1 <= 53):
                    # every product fits accum_t exactly and every partial sum is an exact float64: one matmul, one wrap
                    acc = code_values(quantize_codes(acc + x @ W, acc_t), acc_t)
                else:
                    prods = code_values(quantize_codes(x[..., :, None] * W, acc_t), acc_t)  # [..., n_in, n_out]
                    if acc_t.overflow == "WRAP":
                        acc = code_values(quantize_codes(acc + prods.sum(axis=-2), acc_t), acc_t)
                    else:
                        def step(a, p, acc_t=acc_t):
                            return code_values(quantize_codes(a + p, acc_t), acc_t), None

                        acc0 = jnp.broadcast_to(acc, prods.shape[:-2] + acc.shape[-1:])
                        acc, _ = jax.lax.scan(step, acc0, jnp.moveaxis(prods, -2, 0))
                codes = quantize_codes(acc, layer.result)
            elif layer.kind == "linear":
                codes = quantize_codes(x, layer.result)
            elif layer.kind == "relu":
                codes = quantize_codes(jnp.where(x > 0, x, 0.0), layer.result)
            elif layer.kind in TABLE_ACTIVATIONS:
                table, vals = tabs[k]
                idx = self._table_index(codes, prev, table.size, table.half_range)
                codes = quantize_codes(jnp.asarray(vals)[idx], layer.result)
            else:
                codes = self._softmax(codes, prev, layer, tabs[k])
            outs.append(codes)
            prev = layer.result
        return (codes, outs) if return_all else codes

    @staticmethod
    def _table_index(codes, t: FixedType, size: int, R: float):
        """hls4ml's ``int(x * N / 2R) + N/2`` clipped, in exact integer arithmetic (see ``ActivationTable.index``)."""
        import jax.numpy as jnp

        num = jnp.asarray(codes, jnp.int64) * size
        shift = int(np.log2(2 * R)) + t.frac  # den = 2^shift
        if shift >= 0:
            q = jnp.sign(num) * (jnp.abs(num) >> shift)  # truncation towards zero
        else:
            q = num << (-shift)
        return jnp.clip(q + size // 2, 0, size - 1)

    def _softmax(self, codes, data_t: FixedType, layer: QActivation, tab):
        import jax.numpy as jnp

        addr_t, nb, exp_vals, ni, inv_vals = tab
        x = code_values(codes, data_t)
        if layer.implementation == "stable":
            d = quantize_codes(jnp.max(x, axis=-1, keepdims=True) - x, addr_t)
            idx = _slice_index(d, addr_t, nb)
        else:
            idx = _slice_index(codes, data_t, nb)
        e = code_values(quantize_codes(jnp.asarray(exp_vals)[idx], layer.accum), layer.accum)
        s = quantize_codes(_balanced_sum(e, layer.accum), layer.inv_inp)
        inv = jnp.asarray(inv_vals)[_slice_index(s, layer.inv_inp, ni)]
        return quantize_codes(e * inv[..., None], layer.result)

    def predict(self, x, params=None, *, param_codes=None):
        """Float64 outputs for float64 inputs ``x`` ``[..., n_in]`` (converted to ``input_type`` first), as
        hls4ml's ``predict()`` returns them. Give float ``params`` or their ``param_codes``."""
        if param_codes is None:
            if params is None:
                raise SpecError("predict: give params or param_codes.")
            param_codes = self.quantize_params(params)
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1:] != (self.n_in,):
            raise SpecError(f"predict: inputs must have last axis {self.n_in}, got shape {x.shape}.")
        xc = self.input_type.quantize(x)
        out = self._jit_forward(xc, [tuple(map(np.asarray, p)) for p in param_codes])
        return self.output_values(out)

    @cached_property
    def _jit_forward(self):
        import jax

        return jax.jit(self.forward_codes)

    def output_values(self, codes) -> np.ndarray:
        """Float64 values of output codes (of the last layer's result type)."""
        return np.asarray(code_values(codes, self.layers[-1].result))

    # -- hls4ml ----------------------------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        names, nd, na = [], 0, 0
        for layer in self.layers:
            if isinstance(layer, QDense):
                nd += 1
                names.append(f"fc{nd}")
            else:
                na += 1
                names.append(f"{layer.kind}{na}")
        return names

    def hls4ml_config(self) -> dict:
        """hls4ml's ``HLSConfig``: every precision of every layer given explicitly (nothing left to ``auto``)."""
        lc = {"x_in": {"Precision": {"result": str(self.input_type)}}}
        for k, (name, layer) in enumerate(zip(self.layer_names(), self.layers)):
            if isinstance(layer, QDense):
                c: dict = {"Precision": layer.precision(), "Strategy": "Latency"}
            else:  # table types are layer attributes '<name>_t' in hls4ml, not Precision keys
                c = {"Precision": {"result": str(layer.result)}}
                if layer.kind in TABLE_ACTIVATIONS:
                    c.update(table_t=str(layer.table), TableSize=layer.table_size)
                if layer.kind == "softmax":
                    c["Precision"]["accum"] = str(layer.accum)
                    c.update(exp_table_t=str(layer.exp_table), inv_table_t=str(layer.inv_table), inv_inp_t=str(layer.inv_inp),
                             TableSize=layer.table_size, Implementation=layer.implementation)
                    if k in self._inp_norm:
                        c["inp_norm_t"] = str(self._inp_norm[k])
            c["ReuseFactor"] = 1
            lc[name] = c
        return {"Model": {"Precision": str(self.input_type), "ReuseFactor": 1, "Strategy": "Latency"}, "LayerName": lc}

    def hls4ml_layers(self, params_values) -> list[dict]:
        """hls4ml's layer list (the form its converters produce) for float parameter values on the grid."""
        layers = [{"name": "x_in", "class_name": "InputLayer", "input_shape": [self.n_in]}]
        prev, it, width = "x_in", iter(params_values), self.n_in
        for name, layer in zip(self.layer_names(), self.layers):
            if isinstance(layer, QDense):
                W, b = next(it)
                layers.append({"name": name, "class_name": "Dense", "inputs": [prev], "weight_data": np.asarray(W, np.float64),
                               "bias_data": np.asarray(b, np.float64), "n_in": width, "n_out": layer.n_out, "use_bias": True})
                width = layer.n_out
            elif layer.kind == "softmax":
                layers.append({"name": name, "class_name": "Softmax", "activation": "softmax", "axis": -1, "inputs": [prev]})
            else:
                layers.append({"name": name, "class_name": "Activation", "activation": layer.kind, "inputs": [prev]})
            prev = name
        return layers

    def to_hls4ml(self, params=None, *, param_codes=None, output_dir: str, project_name: str = "nntheory_qmlp"):
        """The network as an hls4ml ``ModelGraph`` (Vivado backend, ``io_parallel``); call ``.compile()`` and
        ``.predict(x)`` on it. Needs ``hls4ml==1.3.0`` (extra ``fpga``)."""
        try:
            from hls4ml.model.graph import ModelGraph
            from hls4ml.utils.config import create_config
        except ImportError as exc:
            raise SpecError("to_hls4ml: needs hls4ml (pip install 'nntheory[fpga]').") from exc
        if param_codes is None:
            if params is None:
                raise SpecError("to_hls4ml: give params or param_codes.")
            param_codes = self.quantize_params(params)
        cfg = create_config(output_dir=str(output_dir), project_name=project_name, backend="Vivado", io_type="io_parallel")
        cfg["HLSConfig"] = self.hls4ml_config()
        return ModelGraph.from_layer_list(cfg, self.hls4ml_layers(self.param_values(param_codes)))


def quantized_mlp(n_in: int, widths, *, input_precision, weight, bias, accum, result, activations, activation_result=None,
                  table="ap_fixed<18,8>", table_size: int = 1024, softmax: dict | None = None) -> QuantizedMLP:
    """A dense/activation stack. ``widths`` are the dense layers' outputs; ``weight``, ``bias``, ``accum``,
    ``result``, ``activations`` and ``activation_result`` are one value for all layers or a list, one per dense
    layer (heterogeneous precisions). ``activations[k]`` follows dense layer ``k`` (``None``: nothing);
    ``softmax``: extra keyword arguments of the final softmax (``result`` required), or None."""
    widths = list(widths)
    L = len(widths)

    def per(v, name):
        if isinstance(v, (list, tuple)):
            if len(v) != L:
                raise SpecError(f"quantized_mlp: {name} needs one entry per dense layer ({L}), got {len(v)}.")
            return list(v)
        return [v] * L

    ws, bs, accs, rs, acts = per(weight, "weight"), per(bias, "bias"), per(accum, "accum"), per(result, "result"), per(activations, "activations")
    ars, tabs = per(activation_result, "activation_result"), per(table, "table")
    layers = []
    for k in range(L):
        layers.append(QDense(widths[k], ws[k], bs[k], accs[k], rs[k]))
        if acts[k] is not None:
            layers.append(QActivation(acts[k], ars[k] if ars[k] is not None else rs[k], table=tabs[k], table_size=table_size))
    if softmax is not None:
        layers.append(QActivation("softmax", **softmax))
    return QuantizedMLP(n_in, input_precision, tuple(layers))
