"""The real command in a subprocess."""

import json

import pytest


def test_recursions_json_relu_exact_values(cli):
    out = cli("recursions", "--activation", "relu", "--C_W", "2", "--C_b", "0", "--depth", "4", "--x2", "1.5",
              "--lambda-b", "0.5", "--lambda-W", "2")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for row in data["layers"]:
        l = row["l"]
        assert row["K"] == 3.0 and row["K1"] == 0.0
        assert abs(row["V"] - 5 * (l - 1) * 9.0) <= 1e-12 * max(1, row["V"])
        assert abs(row["Theta"] - l * (0.5 + 2 * 1.5)) <= 1e-12 * row["Theta"]
    assert data["settings"]["x2"] == 1.5


def test_recursions_gram_shapes(cli):
    out = cli("recursions", "--activation", "tanh", "--depth", "3", "--gram", "[[1,0.6],[0.6,1.5]]")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    row = data["layers"][-1]
    assert len(row["K"]) == 2 and len(row["V"]) == 3 and len(row["V"][0]) == 3
    assert data["settings"]["V_pairs"] == [[0, 0], [0, 1], [1, 1]]
    assert data["settings"]["C_W"] == 1.0  # tanh critical by default


@pytest.mark.parametrize("args,match", [
    (["--activation", "relu", "--depth", "-2"], "--depth"),
    (["--activation", "relu", "--depth", "2", "--C_W", "0"], "--C_W: must be > 0"),
    (["--activation", "x*y", "--depth", "2"], "exactly one variable"),
    (["--activation", "__import__('os').system('echo pwned')", "--depth", "2"], "is not allowed"),
    (["--activation", "relu", "--depth", "2", "--C_W", "__import__('os')"], "--C_W: expected a number"),
    (["--activation", "relu", "--depth", "2", "--gram", "[[1,2],[2,1]]"], "positive definite"),
])
def test_bad_input_clear_errors(cli, args, match):
    out = cli("recursions", *args)
    assert out.returncode == 2
    assert match in out.stderr
    assert out.stdout == ""  # nothing ran: the injected command would have printed "pwned"
    assert "Traceback" not in out.stderr
