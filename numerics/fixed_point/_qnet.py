r"""Quantized MLPs as hls4ml builds them (``io_parallel``, ``Latency`` strategy), emulated bit for bit in JAX.

A :class:`QuantizedMLP` is a frozen descriptor: an input type and a sequence of layers, each a
:class:`~nntheory.numerics.fixed_point._qlayers.QDense` (its ``weight``, ``bias``, ``accum`` and ``result``
types, hls4ml's per-layer ``Precision`` keys) or a :class:`~nntheory.numerics.fixed_point._qlayers.QActivation`
(``relu``, ``linear``, ``tanh``, ``sigmoid`` or ``softmax`` with its result and table types). The class checks
the stack and holds the parameters' conventions; the work is done by module functions it delegates to:

* the forward pass (:mod:`~nntheory.numerics.fixed_point._qforward`): :meth:`QuantizedMLP.forward_codes` runs
  the net on integer codes, jit-able and vmappable, the same sequence of casts that hls4ml's ``nnet_utils``
  perform;
* the tables (:mod:`~nntheory.numerics.fixed_point._qtables`): tanh/sigmoid tables and the softmax's exp and
  inverse tables, filled as hls4ml fills them;
* the export (:mod:`~nntheory.numerics.fixed_point._hls4ml`): :meth:`QuantizedMLP.to_hls4ml` writes the same
  network as an hls4ml project (``hls4ml==1.3.0``, extra ``fpga``), whose ``compile()`` / ``predict()`` must
  agree on every output bit (``tests/fixed_point``).

Every intermediate value is an exact float64 (the codes are at most 53 bits; products need
:math:`W_x + W_w \le 53`, which the constructor checks), so the emulation is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from nntheory._checks import check_int
from nntheory.errors import FixedPointError, SpecError
from nntheory.numerics.fixed_point import _hls4ml, _qforward
from nntheory.numerics.fixed_point._fixed import FixedType, code_values
from nntheory.numerics.fixed_point._float_activations import float_activation as float_activation  # old import path
from nntheory.numerics.fixed_point._qlayers import PLAIN_ACTIVATIONS as PLAIN_ACTIVATIONS
from nntheory.numerics.fixed_point._qlayers import SOFTMAX_IMPLEMENTATIONS as SOFTMAX_IMPLEMENTATIONS
from nntheory.numerics.fixed_point._qlayers import TABLE_ACTIVATIONS as TABLE_ACTIVATIONS
from nntheory.numerics.fixed_point._qlayers import QActivation as QActivation
from nntheory.numerics.fixed_point._qlayers import QDense as QDense
from nntheory.numerics.fixed_point._qlayers import _ft, address_bits, default_inp_norm, exp_table_size
from nntheory.numerics.fixed_point._qtables import build_tables

__all__ = ["SOFTMAX_IMPLEMENTATIONS", "QActivation", "QDense", "QuantizedMLP", "quantized_mlp"]

def _check_softmax(k: int, n_layers: int, layer: QActivation, prev: FixedType, norms: dict) -> None:
    """Checks a softmax layer ``k`` whose input type is ``prev``; records its resolved ``inp_norm_t`` in ``norms``."""
    if k != n_layers - 1:
        raise FixedPointError(f"QuantizedMLP layer {k}: softmax must be the last layer.")
    if layer.implementation == "stable":
        norm = norms[k] = layer.inp_norm or default_inp_norm(prev)
        address_bits(exp_table_size(layer, prev), norm, "inp_norm_t")
    else:
        address_bits(layer.table_size, prev, "the input type")
    address_bits(layer.table_size, layer.inv_inp, "inv_inp_t")


def _check_layers(input_type: FixedType, n_in: int, layers: tuple) -> tuple[int, dict]:
    """Checks the stack; returns ``(n_out, {softmax index: inp_norm_t})``."""
    prev, width, norms = input_type, n_in, {}
    for k, layer in enumerate(layers):
        if isinstance(layer, QDense):
            if prev.width + layer.weight.width > 53:
                raise FixedPointError(f"QuantizedMLP layer {k}: input {prev} times weight {layer.weight} exceeds 53 bits.")
            width = layer.n_out
        elif isinstance(layer, QActivation):
            if layer.kind == "softmax":
                _check_softmax(k, len(layers), layer, prev, norms)
        else:
            raise FixedPointError(f"QuantizedMLP layer {k}: expected QDense or QActivation, got {type(layer).__name__}.")
        prev = layer.result
    return width, norms


@dataclass(frozen=True)
class QuantizedMLP:
    """``input_type`` and ``layers`` (a tuple of :class:`QDense` and :class:`QActivation`); ``n_in`` inputs.

    Attributes set on construction: ``n_out`` (the output width).

    Raises:
        FixedPointError: for an empty or inconsistent stack (a softmax not last, a product wider than 53 bits,
            a table addressed by more bits than its address type has).
    """

    n_in: int
    input_type: FixedType
    layers: tuple = field(default=())

    def __post_init__(self) -> None:
        n_in = check_int(self.n_in, "n_in", lo=1, where="QuantizedMLP", error=FixedPointError)
        object.__setattr__(self, "input_type", _ft(self.input_type, "input precision"))
        layers = tuple(self.layers)
        if not layers:
            raise FixedPointError("QuantizedMLP: layers must not be empty.")
        width, norms = _check_layers(self.input_type, n_in, layers)
        object.__setattr__(self, "n_in", n_in)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "_inp_norm", norms)  # the stable softmax's inp_norm_t, resolved against its input
        object.__setattr__(self, "n_out", width)

    # -- the stack -----------------------------------------------------------------------------------------
    @property
    def dense_layers(self) -> list[int]:
        """Returns: the indices of the dense layers in ``layers``."""
        return [k for k, l in enumerate(self.layers) if isinstance(l, QDense)]

    def blocks(self) -> list[tuple[int, QDense, QActivation | None]]:
        """``(index, dense, activation or None)`` for each dense layer and the relu/linear/tanh/sigmoid that follows it
        (a final softmax is left out).

        Raises:
            SpecError: if an activation follows something other than a dense layer.
        """
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
        """Returns: the type of the data entering each layer."""
        out, prev = [], self.input_type
        for layer in self.layers:
            out.append(prev)
            prev = layer.result
        return out

    def shapes(self) -> list[tuple[int, int]]:
        """Returns: ``(n_in, n_out)`` of each dense layer; weights are stored ``[n_in, n_out]`` as hls4ml indexes them."""
        out, width = [], self.n_in
        for layer in self.layers:
            if isinstance(layer, QDense):
                out.append((width, layer.n_out))
                width = layer.n_out
        return out

    # -- parameters ----------------------------------------------------------------------------------------
    def quantize_params(self, params) -> list[tuple[np.ndarray, np.ndarray]]:
        """Codes of ``params`` (a list of ``(W [n_in, n_out], b [n_out])`` float arrays, one per dense layer).

        Returns:
            ``(W codes, b codes)`` per dense layer (int64).
        Raises:
            SpecError: for a wrong number of pairs or a wrong shape.
        """
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
        """Returns: the float64 values of parameter codes (what hls4ml is given: exactly representable numbers)."""
        return [(np.asarray(self.layers[li].weight.values(Wc)), np.asarray(self.layers[li].bias.values(bc)))
                for (Wc, bc), li in zip(codes, self.dense_layers)]

    # -- the forward pass ----------------------------------------------------------------------------------
    @cached_property
    def _tables(self) -> dict:
        import jax

        with jax.ensure_compile_time_eval():  # built once, from constants, even when first asked for inside jit
            return build_tables(self.layers, self.input_type, self._inp_norm)

    def forward_codes(self, x_codes, param_codes, *, return_all: bool = False):
        """Codes of the output for input codes ``x_codes`` ``[..., n_in]`` (of ``input_type``); jit-able.

        Args:
            x_codes: int64 input codes.
            param_codes: from :meth:`quantize_params` (numpy or JAX arrays, may be traced).
            return_all: also return the list of every layer's output codes.
        Returns:
            The output codes (of the last layer's result type), or ``(codes, [codes per layer])``.
        """
        return _qforward.forward_codes(self.layers, self.input_type, self._tables, x_codes, param_codes, return_all=return_all)

    def predict(self, x, params=None, *, param_codes=None):
        """Float64 outputs for float64 inputs ``x`` ``[..., n_in]`` (converted to ``input_type`` first), as
        hls4ml's ``predict()`` returns them. Give float ``params`` or their ``param_codes``.

        Raises:
            SpecError: without parameters, or for inputs of the wrong width.
        """
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
        """Returns: the float64 values of output codes (of the last layer's result type)."""
        return np.asarray(code_values(codes, self.layers[-1].result))

    # -- hls4ml ----------------------------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        """Returns: hls4ml's layer names (see :func:`~nntheory.numerics.fixed_point._hls4ml.layer_names`)."""
        return _hls4ml.layer_names(self.layers)

    def hls4ml_config(self) -> dict:
        """Returns: hls4ml's ``HLSConfig``, every precision of every layer given explicitly."""
        return _hls4ml.hls4ml_config(self)

    def hls4ml_layers(self, params_values) -> list[dict]:
        """Returns: hls4ml's layer list for float parameter values on the grid."""
        return _hls4ml.hls4ml_layers(self, params_values)

    def to_hls4ml(self, params=None, *, param_codes=None, output_dir: str, project_name: str = "nntheory_qmlp"):
        """The network as an hls4ml ``ModelGraph``; see :func:`~nntheory.numerics.fixed_point._hls4ml.to_hls4ml`."""
        return _hls4ml.to_hls4ml(self, params, param_codes=param_codes, output_dir=output_dir, project_name=project_name)


def _per_layer(v, name: str, L: int) -> list:
    """``v`` as one entry per dense layer (a list of ``L``, or one value repeated)."""
    if isinstance(v, (list, tuple)):
        if len(v) != L:
            raise FixedPointError(f"quantized_mlp: {name} needs one entry per dense layer ({L}), got {len(v)}.")
        return list(v)
    return [v] * L


def quantized_mlp(n_in: int, widths, *, input_precision, weight, bias, accum, result, activations, activation_result=None,
                  table="ap_fixed<18,8>", table_size: int = 1024, softmax: dict | None = None) -> QuantizedMLP:
    """A dense/activation stack.

    Args:
        n_in: the input width.
        widths: the dense layers' output widths.
        input_precision: the input type.
        weight, bias, accum, result, activations, activation_result, table: one value for all dense layers or a
            list, one per dense layer (heterogeneous precisions). ``activations[k]`` follows dense layer ``k``
            (``None``: nothing); ``activation_result`` defaults to the dense layer's result type.
        table_size: the tanh/sigmoid table size.
        softmax: extra keyword arguments of a final softmax (``result`` required), or None.
    Returns:
        The :class:`QuantizedMLP`.
    Raises:
        FixedPointError: for a per-layer list of the wrong length, or any invalid layer.
    """
    widths = list(widths)
    L = len(widths)
    per = {name: _per_layer(v, name, L) for name, v in (("weight", weight), ("bias", bias), ("accum", accum), ("result", result),
                                                         ("activations", activations), ("activation_result", activation_result),
                                                         ("table", table))}
    layers = []
    for k in range(L):
        r = per["result"][k]
        layers.append(QDense(widths[k], per["weight"][k], per["bias"][k], per["accum"][k], r))
        if per["activations"][k] is not None:
            ar = per["activation_result"][k]
            layers.append(QActivation(per["activations"][k], ar if ar is not None else r, table=per["table"][k], table_size=table_size))
    if softmax is not None:
        layers.append(QActivation("softmax", **softmax))
    return QuantizedMLP(n_in, input_precision, tuple(layers))
