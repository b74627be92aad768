"""Activation lookup tables: hls4ml's own C++ (nnet_activation.h) bit for bit; exact tables within their proven bound."""

import hashlib
import json
import subprocess

import mpmath
import numpy as np
import pytest

import nntheory
from nntheory.errors import SpecError
from nntheory.numerics import FixedType
from nntheory.numerics.fixed_point._lut import activation_table, table_bytes
from nntheory.validation.fixed_point._cpp import cpp_compiler, hls4ml_templates

needs_cpp = pytest.mark.skipif(hls4ml_templates() is None or cpp_compiler() is None,
                               reason="needs hls4ml (extra 'fpga') for its nnet_utils headers, and g++")

CONFIGS = [("tanh", "ap_fixed<16,6>", "ap_fixed<18,8>", "ap_fixed<18,8>", 1024),  # hls4ml's defaults
           ("sigmoid", "ap_fixed<16,6>", "ap_fixed<18,8>", "ap_fixed<18,8>", 1024),
           ("tanh", "ap_fixed<12,4>", "ap_fixed<32,2>", "ap_fixed<32,2>", 4096),  # wide table type: exposes tanhf vs tanh
           ("sigmoid", "ap_fixed<14,3>", "ap_fixed<32,2>", "ap_fixed<32,2>", 2048),
           ("sigmoid", "ap_fixed<10,5,AP_RND,AP_SAT>", "ap_ufixed<20,1,AP_RND>", "ap_ufixed<20,1,AP_RND>", 256),
           ("tanh", "ap_fixed<16,6>", "ap_fixed<18,8>", "ap_fixed<8,2,AP_RND,AP_SAT>", 1024),  # result cast after the lookup
           ("tanh", "ap_fixed<16,3,AP_RND_CONV,AP_SAT>", "ap_fixed<24,2,AP_RND_CONV,AP_SAT>", "ap_fixed<16,2>", 512)]


@needs_cpp
def test_hls4ml_compatible_tables_match_nnet_activation_on_every_input_code():
    from nntheory.validation.fixed_point._cpp import ActivationHarness

    h = ActivationHarness(CONFIGS)
    for i, (name, d, t, r, n) in enumerate(CONFIGS):
        D, T, R = (FixedType.parse(s) for s in (d, t, r))
        tab = activation_table(name, input_precision=D, table_size=n, table_precision=T, mode="hls4ml")
        codes = D.all_codes()
        ref = h.run(i, np.asarray(D.values(codes)))
        got = np.asarray(R.convert(tab.lookup(codes), T))
        bad = np.nonzero(ref != got)[0]
        assert bad.size == 0, (CONFIGS[i], bad[:5])


@pytest.mark.parametrize("name, d, t, n", [("tanh", "ap_fixed<16,6>", "ap_fixed<18,8>", 1024),
                                           ("sigmoid", "ap_fixed<14,4>", "ap_ufixed<16,0,AP_RND>", 256),
                                           ("erf", "ap_fixed<12,3>", "ap_fixed<20,2>", 2048)])
def test_exact_tables_are_correctly_rounded_and_meet_their_bound(name, d, t, n):
    tab = activation_table(name, input_precision=d, table_size=n, table_precision=t)
    T = tab.table_type
    f = {"tanh": mpmath.tanh, "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)), "erf": mpmath.erf}[name]
    with mpmath.workdps(40):  # independent reference: each entry is the nearest representable value
        for i in range(0, n, max(1, n // 128)):
            x = mpmath.mpf(-tab.half_range) + mpmath.mpf(2 * tab.half_range) * i / n
            assert abs(mpmath.mpf(float(tab.values[i])) - f(x)) <= mpmath.mpf(T.lsb) / 2
    err, _ = tab.max_error()
    bound = tab.error_bound()
    assert err <= bound, (err, bound)
    assert bound < 2 * err + T.lsb  # the bound is not vacuous: same order as the measured error


def test_table_files_carry_their_parameters_and_round_trip(tmp_path):
    tab = activation_table("tanh", table_size=64, mode="exact")
    js = json.loads(table_bytes(tab, "json"))
    assert js["meta"]["table_size"] == 64 and js["meta"]["format_version"] == 1
    np.testing.assert_array_equal(js["table"], tab.values)
    (tmp_path / "t.npz").write_bytes(table_bytes(tab, "npz"))
    z = np.load(tmp_path / "t.npz", allow_pickle=False)
    np.testing.assert_array_equal(z["codes"], tab.codes)
    assert json.loads(str(z["meta"]))["table_precision"] == "ap_fixed<18,8>"
    header = table_bytes(tab, "c-header").decode()
    assert "nntheory_tanh_table_codes[64]" in header


@pytest.mark.skipif(cpp_compiler() is None, reason="needs g++")
def test_c_header_compiles_and_holds_the_values(tmp_path):
    tab = activation_table("sigmoid", table_size=32, table_precision="ap_fixed<18,8>")
    (tmp_path / "t.h").write_bytes(table_bytes(tab, "c-header", name="sig"))
    (tmp_path / "m.c").write_text('#include <stdio.h>\n#include "t.h"\nint main(void){for(int i=0;i<SIG_SIZE;i++)'
                                  'printf("%d %.17g\\n", sig_codes[i], sig_values[i]);return 0;}\n')
    subprocess.run([cpp_compiler(), "-x", "c++", str(tmp_path / "m.c"), "-o", str(tmp_path / "m")], check=True)
    out = subprocess.run([str(tmp_path / "m")], capture_output=True, text=True, check=True).stdout.split()
    codes, vals = np.array(out[0::2], int), np.array(out[1::2], float)
    np.testing.assert_array_equal(codes, tab.codes)
    np.testing.assert_array_equal(vals, codes * 2.0**-10)


@pytest.mark.parametrize("kw, match", [
    ({"act": "relu", "mode": "hls4ml"}, "not 'relu'; use mode 'exact'"),
    ({"act": "tanh", "table_size": 1000}, "power of two"),
    ({"act": "tanh", "mode": "hls4ml", "half_range": 8.0}, "fixed at"),
    ({"act": "tanh", "half_range": 3.0}, "power of two"),
    ({"act": "tanh", "table_precision": "ap_fixed<70,8>"}, "width must be between"),
])
def test_table_bad_input(kw, match):
    act = kw.pop("act")
    with pytest.raises(SpecError, match=match):
        activation_table(act, **kw)


def test_cli_tables_activation_and_fixed_quantize(cli, tmp_path):
    r = cli("tables", "activation", "tanh", "--table-size", "64", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["meta"]["activation"] == "tanh"
    x = np.array([0.1, -3.14159, 100.0, -0.0625])
    np.save(tmp_path / "in.npy", x)
    r = cli("fixed", "quantize", "--type", "ap_fixed<8,3,AP_RND,AP_SAT>", "-i", tmp_path / "in.npy", "-o", tmp_path / "out.npy")
    assert r.returncode == 0, r.stderr
    # by hand: LSB 1/32, range [-4, 4 - 1/32]; 0.1 -> 3/32, -3.14159 -> -101/32, 100 saturates, -1/16 exact
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), [3 / 32, -101 / 32, 127 / 32, -0.0625])
    prov = json.loads((tmp_path / "out.npy.provenance.json").read_text())  # provenance: version, parameters, hashes
    assert prov["sha256"] == hashlib.sha256((tmp_path / "out.npy").read_bytes()).hexdigest()
    assert prov["input_sha256"] == hashlib.sha256((tmp_path / "in.npy").read_bytes()).hexdigest()
    assert prov["type"] == "ap_fixed<8,3,AP_RND,AP_SAT>" and prov["nntheory_version"] == nntheory.__version__
    assert prov["generator_function"] == "nntheory.numerics.FixedType.quantize" and prov["count"] == 4
    (tmp_path / "bad.npy").write_bytes(b"not an array")
    r = cli("fixed", "quantize", "--type", "ap_fixed<8,3>", "-i", tmp_path / "bad.npy", "-o", tmp_path / "o.npy")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--input" in r.stderr
