"""Trained ensembles against NTK theory (small sizes; the CLI runs the full versions)."""

import json

import numpy as np
import pytest

from nntheory.validation import validate_equivariance, validate_training


def test_trained_ensemble_mean_approaches_ntk_prediction_with_width():
    """The member-averaged deviation from each member's own linearised NTK prediction estimates
    E f_t - mu_t; it must fall from width to width, and overall by more than 3 standard errors."""
    res = validate_training(activation="erf", widths=(64, 256, 1024), n_nets=12, n_train=48, n_test=32,
                            steps=100, every=50, seed=1)
    d = [r["distance"][-1] for r in res.rows]
    se = [r["distance_se"][-1] for r in res.rows]
    assert d[0] > d[1] > d[2], (d, se)
    assert d[0] - d[2] > 3 * np.hypot(se[0], se[2]), (d, se)
    # single members deviate more than their ensemble mean
    assert all(r["member_distance"][-1] > 2 * r["distance"][-1] for r in res.rows)
    assert res.passed


def test_emergent_invariance_of_augmented_ensembles():
    res = validate_equivariance(activation="relu", width=256, n_nets=32, n_train=16, n_test=16, n_noise=16,
                                steps=40, sizes=(1, 4, 16), seed=2)
    for where in ("train", "test", "noise"):
        assert res.theory["augmented"][where] < 1e-11  # exact invariance at infinite width, off-manifold too
        assert res.theory["plain"][where] > 1e-2  # without augmentation the prediction is not invariant
        r = res.rows["augmented"][where]
        e, se = np.array(r["error"]), np.array(r["error_se"])
        # the error of an ensemble mean falls like its Monte Carlo noise, 1/sqrt(m): m = 16 vs m = 1 -> 1/4
        assert e[-1] + 3 * se[-1] < e[0] - 3 * se[0]
        assert abs(e[-1] / e[0] - 0.25) < 0.15
    assert res.passed


def test_cli_validate_training_and_equivariance(cli, tmp_path):
    out = cli("validate", "equivariance", "--widths", "64", "--n-nets", "16", "--steps", "10", "--out", str(tmp_path))
    assert out.returncode in (0, 1), out.stderr
    data = json.loads((tmp_path / "equivariance.json").read_text())
    assert data["format_version"] == 1 and data["settings"]["width"] == 64
    assert (tmp_path / "equivariance.png").stat().st_size > 1000
    bad = cli("validate", "training", "--widths", "64,128", "--out", str(tmp_path))
    assert bad.returncode == 2 and "need at least 3 widths" in bad.stderr and "Traceback" not in bad.stderr
    bad = cli("validate", "--steps", "10", "--out", str(tmp_path))
    assert bad.returncode == 2 and "--steps" in bad.stderr


@pytest.mark.parametrize("args, match", [
    (["--activation", "relu", "--W-std", "1", "--depth", "2", "--inputs", "-"], "same dimension"),
    (["--activation", "relu", "--W-std", "-1", "--depth", "2", "--inputs", "-"], "W-std"),
    (["--activation", "relu", "--W-std", "1", "--depth", "0", "--inputs", "-"], "--depth must be an integer in [1, "),
    (["--activation", "__import__('os')", "--W-std", "1", "--depth", "2", "--inputs", "-"], "activation"),
])
def test_cli_kernels_bad_input(cli, args, match):
    out = cli("kernels", *args, stdin="[[1, 2], [3]]")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert match in out.stderr, out.stderr


def test_cli_kernels_matches_api(cli, tmp_path):
    from nntheory.numerics import MLPKernel

    x = [[1.0, 0.0, 0.5], [0.3, 0.8, 0.1]]
    p = tmp_path / "x.json"
    p.write_text(json.dumps(x))
    out = cli("kernels", "--activation", "erf", "--W-std", "1.2", "--b-std", "0.3", "--depth", "2", "--inputs", p,
              "--convention", "neural-tangents")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    k = MLPKernel.neural_tangents("erf", W_std=1.2, b_std=0.3, depth=2)(np.array(x))
    np.testing.assert_allclose(data["nngp"], np.asarray(k.nngp), rtol=1e-15)
    np.testing.assert_allclose(data["ntk"], np.asarray(k.ntk), rtol=1e-15)
    assert data["settings"]["layers"] == 3
