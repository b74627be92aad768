"""The width-sweep fit with zero standard errors: deterministic entries pass with z = 0, others are refused (no NaN)."""

import jax
import numpy as np
import pytest

from nntheory.errors import NNTheoryError, SpecError
from nntheory.theory import activation
from nntheory.validation import compare_width_sweep
from nntheory.validation.finite_width._compare import _fit_rows

WIDTHS = (8, 16, 32)
X = 1 / np.asarray(WIDTHS, float).reshape(3, 1, 1, 1)


def _sweep(se_at_entry):
    """Two layers, one input pair: entry (0, 0, 0) has the given standard errors; entry (1, 0, 0) is ordinary."""
    theory = np.array([[[1.5]], [[2.0]]])
    y = np.broadcast_to(theory, (3, 2, 1, 1)).copy()
    y[:, 1, 0, 0] += np.array([0.3, 0.1, 0.05]) * np.array([1, -1, 1])
    se = np.full((3, 2, 1, 1), 0.2)
    se[:, 0, 0, 0] = se_at_entry
    return y, se, theory


def test_deterministic_entry_that_agrees_has_z_zero():
    y, se, theory = _sweep([0.0, 2.8e-16, 0.0])  # exactly zero at some widths, round-off at others (layer-1 NTK)
    rows = _fit_rows("Theta", y, se, X, theory, 2, 1, WIDTHS, 16)
    assert rows[0]["z"] == 0.0 and rows[0]["stderr"] == 0.0
    assert all(np.isfinite([r["z"], r["extrapolated"], r["stderr"], r["chi2"]]).all() for r in rows)
    assert abs(rows[1]["z"]) > 0  # the ordinary entry is fitted


def test_deterministic_entry_that_differs_is_refused():
    y, se, theory = _sweep([0.0, 0.0, 0.0])
    y[:, 0, 0, 0] += 1e-6  # negative control: the same entry off by 1e-6
    with pytest.raises(NNTheoryError, match="SE is zero"):
        _fit_rows("Theta", y, se, X, theory, 2, 1, WIDTHS, 16)


def test_zero_se_at_some_widths_is_refused():
    y, se, theory = _sweep([0.0, 0.2, 0.2])
    y[0, 0, 0, 0] = 1.0  # all networks agreed at width 8 on a random statistic
    with pytest.raises(SpecError, match=r"zero at width\(s\) \[8\].*too few networks"):
        _fit_rows("V", y, se, X, theory, 2, 1, WIDTHS, 16)


@pytest.mark.slow
def test_issue_command_has_no_nan():
    """``nntheory validate --depth 2 --widths 8,16,32 --n-nets 16 --activation relu`` used to give z = NaN."""
    Xin = np.random.default_rng(0).normal(size=(2, 16))
    comp = compare_width_sweep(activation("relu"), C_W=2.0, C_b=0.0, depth=2, widths=WIDTHS, n_nets=16, inputs=Xin,
                               key=jax.random.key(0))
    z = np.array([r["z"] for r in comp.rows])
    assert np.isfinite(z).all()
    theta1 = [r for r in comp.rows if r["statistic"] == "Theta" and r["layer"] == 1]
    assert len(theta1) == 3 and all(r["z"] == 0.0 for r in theta1)
