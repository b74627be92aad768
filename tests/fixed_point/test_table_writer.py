"""Activation tables go through the one table writer: same format version and provenance block as the SO(3) tables."""

import hashlib
import json

import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)

from nntheory.errors import SpecError  # noqa: E402
from nntheory.numerics import activation_table, cg_table, load_table_npz, table_bytes, write_table  # noqa: E402
from nntheory.numerics.fixed_point import float_activation  # noqa: E402

PROVENANCE = {"format_version", "generator", "nntheory_version", "generator_function", "dtype", "conventions", "count",
              "data_sha256"}


def test_activation_and_so3_tables_share_the_provenance_block():
    act = activation_table("sigmoid", table_size=32).meta()
    so3 = json.loads(table_bytes(cg_table(1), "json"))["meta"]
    assert PROVENANCE <= set(act) and PROVENANCE <= set(so3)
    assert act["format_version"] == so3["format_version"] == 1
    assert act["generator_function"] == "nntheory.numerics.fixed_point.activation_table"
    assert act["parameters"]["table_size"] == 32


def test_write_table_sidecar_and_npz_round_trip(tmp_path):
    tab = activation_table("tanh", table_size=64, mode="hls4ml")
    path = tmp_path / "tanh.npz"
    sidecar = write_table(tab, str(path), "npz", command=["nntheory", "x"], extra={"max_error": 0.5})
    with open(sidecar) as fh:
        side = json.load(fh)
    assert side["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert side["command"] == ["nntheory", "x"] and side["max_error"] == 0.5 and side["mode"] == "hls4ml"
    codes, values, meta = load_table_npz(str(path))
    np.testing.assert_array_equal(codes, tab.codes)
    np.testing.assert_array_equal(values, tab.values)
    assert meta["data_sha256"] == side["data_sha256"] == tab.meta()["data_sha256"]
    again = tmp_path / "again.npz"
    write_table(activation_table("tanh", table_size=64, mode="hls4ml"), str(again), "npz")
    assert again.read_bytes() == path.read_bytes()  # deterministic bytes, fixed zip dates
    with pytest.raises(SpecError, match="C identifier"):
        table_bytes(tab, "c-header", name="not an identifier")


@pytest.mark.parametrize("kind", ["relu", "linear", "tanh", "sigmoid", None])
def test_float_activation_numpy_and_jax_forms_agree(kind):
    x = np.linspace(-30, 30, 1001)
    a = np.asarray(float_activation(kind)(jax.numpy.asarray(x)))
    b = float_activation(kind, backend="numpy")(x)
    np.testing.assert_allclose(a, b, rtol=1e-15, atol=1e-300)


def test_float_activation_refuses_unknown_names():
    with pytest.raises(SpecError, match="expected one of"):
        float_activation("gelu")
