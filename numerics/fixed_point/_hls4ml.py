"""A quantized MLP as an hls4ml 1.3.0 project (Vivado backend, ``io_parallel``, ``Latency`` strategy).

Every precision of every layer is given explicitly (nothing left to ``auto``): dense layers through
hls4ml's ``Precision`` keys, the tables of tanh, sigmoid and softmax through the layer attributes
``table_t``, ``exp_table_t``, ``inv_table_t``, ``inv_inp_t`` and ``inp_norm_t``. Layers are named
``fc1, fc2, ...`` and ``<kind>1, <kind>2, ...``; the input is ``x_in``. hls4ml's ``compile()`` /
``predict()`` on the result must agree with the emulator on every output bit.
"""

from __future__ import annotations

import numpy as np

from nntheory.errors import HarnessError, SpecError
from nntheory.numerics.fixed_point._qlayers import TABLE_ACTIVATIONS, QActivation, QDense

__all__ = ["hls4ml_config", "hls4ml_layers", "layer_names", "to_hls4ml"]


def layer_names(layers) -> list[str]:
    """Returns: hls4ml's layer names, ``fc<k>`` for dense layers and ``<kind><k>`` for activations."""
    names, nd, na = [], 0, 0
    for layer in layers:
        if isinstance(layer, QDense):
            nd += 1
            names.append(f"fc{nd}")
        else:
            na += 1
            names.append(f"{layer.kind}{na}")
    return names


def _activation_config(layer: QActivation, inp_norm) -> dict:
    """hls4ml's configuration of one activation layer (table types are attributes ``<name>_t``, not Precision keys)."""
    c = {"Precision": {"result": str(layer.result)}}
    if layer.kind in TABLE_ACTIVATIONS:
        c.update(table_t=str(layer.table), TableSize=layer.table_size)
    if layer.kind == "softmax":
        c["Precision"]["accum"] = str(layer.accum)
        c.update(exp_table_t=str(layer.exp_table), inv_table_t=str(layer.inv_table), inv_inp_t=str(layer.inv_inp),
                 TableSize=layer.table_size, Implementation=layer.implementation)
        if inp_norm is not None:
            c["inp_norm_t"] = str(inp_norm)
    return c


def hls4ml_config(net) -> dict:
    """Returns: hls4ml's ``HLSConfig`` of ``net`` (a ``QuantizedMLP``), every precision of every layer explicit."""
    lc = {"x_in": {"Precision": {"result": str(net.input_type)}}}
    for k, (name, layer) in enumerate(zip(layer_names(net.layers), net.layers)):
        if isinstance(layer, QDense):
            c: dict = {"Precision": layer.precision(), "Strategy": "Latency"}
        else:
            c = _activation_config(layer, net._inp_norm.get(k))
        c["ReuseFactor"] = 1
        lc[name] = c
    return {"Model": {"Precision": str(net.input_type), "ReuseFactor": 1, "Strategy": "Latency"}, "LayerName": lc}


def hls4ml_layers(net, params_values) -> list[dict]:
    """Returns: hls4ml's layer list (the form its converters produce) for float parameter values on the grid."""
    layers = [{"name": "x_in", "class_name": "InputLayer", "input_shape": [net.n_in]}]
    prev, it, width = "x_in", iter(params_values), net.n_in
    for name, layer in zip(layer_names(net.layers), net.layers):
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


def to_hls4ml(net, params=None, *, param_codes=None, output_dir: str, project_name: str = "nntheory_qmlp"):
    """The network as an hls4ml ``ModelGraph``; call ``.compile()`` and ``.predict(x)`` on it.

    Args:
        net: a ``QuantizedMLP``.
        params: float ``(W, b)`` per dense layer (quantized first), or
        param_codes: their codes.
        output_dir, project_name: where hls4ml writes the project.
    Returns:
        ``hls4ml.model.graph.ModelGraph``.
    Raises:
        HarnessError: without hls4ml (``pip install 'nntheory[fpga]'``).
        SpecError: if neither ``params`` nor ``param_codes`` is given.
    """
    try:
        from hls4ml.model.graph import ModelGraph
        from hls4ml.utils.config import create_config
    except ImportError as exc:
        raise HarnessError("to_hls4ml: needs hls4ml (pip install 'nntheory[fpga]').") from exc
    if param_codes is None:
        if params is None:
            raise SpecError("to_hls4ml: give params or param_codes.")
        param_codes = net.quantize_params(params)
    cfg = create_config(output_dir=str(output_dir), project_name=project_name, backend="Vivado", io_type="io_parallel")
    cfg["HLSConfig"] = hls4ml_config(net)
    return ModelGraph.from_layer_list(cfg, hls4ml_layers(net, net.param_values(param_codes)))
