"""``nntheory validate ntk``: outputs (finite JSON, table, plots, manifest) of a tiny run, and bad input -> exit 2."""

import json

import pytest


def test_validate_ntk_tiny_run(cli, tmp_path):
    # tanh at and off criticality, L = 2, n = 8, 16, 24 networks: tests the plumbing, not the physics (see
    # test_ntk_gaussian_activations.py); Theta and B are resolved to ~3% and ~20% here, so a pass is expected
    r = cli("validate", "ntk", "--activation", "tanh", "--depth", "2", "--widths", "8,16", "--n-nets", "24",
            "--statistics", "Theta,B,dNTK_iik_k", "--seed", "1", "--out", str(tmp_path))
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr
    res = json.loads((tmp_path / "results.json").read_text(), parse_constant=lambda t: pytest.fail(t))
    assert res["job"] == "ntk" and len(res["results"]) == 2
    assert [r_["label"] for r_ in res["results"]] == ["critical", "off-critical"]
    for block in res["results"]:
        assert {row["statistic"] for row in block["rows"]} == {"Theta", "B", "dNTK_iik_k"}
        for row in block["rows"]:
            assert len(row["mc"]) == 2 and row["stderr"] > 0
    assert "dNTK_iik_k" in (tmp_path / "table.txt").read_text()
    for name in ("ntk-tanh-critical.png", "ntk-tanh-off-critical.png", "provenance.json"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize("args,needle", [
    (["--statistics", "Theta,Bogus"], "--statistics"),
    (["--init", "orthogonl"], "--init"),
    (["--init", "ortho"], "--init"),
    (["--inputs", "3"], "--inputs"),
    (["--widths", "4000,4096", "--depth", "50"], "--widths"),
    (["--activation", "relu", "--statistics", "Theta,dNTK_iik_k"], "--statistics: the dNTK moments need a smooth"),
])
def test_validate_ntk_bad_input(cli, tmp_path, args, needle):
    r = cli("validate", "ntk", *args, "--out", str(tmp_path / "bad-inputs"))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], r.stderr


def test_init_flag_refused_by_other_jobs(cli, tmp_path):
    r = cli("validate", "finite-width", "--init", "gaussian", "--out", str(tmp_path / "bad-inputs"))
    assert r.returncode == 2 and "--init" in r.stderr and "Traceback" not in r.stderr


def test_validate_ntk_relu_leaves_the_dntk_out(cli, tmp_path):
    # kinks: the default statistics drop the dNTK moments (sigma'' is a distribution) and the rest is compared
    r = cli("validate", "ntk", "--activation", "relu", "--depth", "3", "--widths", "32,64", "--n-nets", "50",
            "--z-max", "100", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "results.json").read_text())
    names = {row["statistic"] for res in doc["results"] for row in res["rows"]}
    assert names == {"Theta", "Theta1", "A", "B", "D", "F"}
