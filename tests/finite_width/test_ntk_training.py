"""One MSE gradient step of finite-width ensembles against the dNTK prediction (issue 19, acceptance 4(a)).

Reference: the compiled ``P, Q`` recursions of :func:`nntheory.theory.finite_width._ntk.ntk_recursion`
(independent of the training code: real ``jax.grad`` steps and exact full-Jacobian NTKs). Statistical checks
use fixed seeds and |z| < 4 against the standard error over networks.
"""

import jax
import numpy as np
import pytest

from nntheory.errors import SpecError
from nntheory.theory import activation
from nntheory.validation.finite_width._ntk_training import ntk_step_change, ntk_step_prediction

X1 = np.array([[0.9, -0.4, 0.7, 0.2]])
X2 = np.array([[0.9, -0.4, 0.7, 0.2], [-0.3, 0.8, 0.5, -0.6]])


def _z(est_value, est_se, ref):
    return np.abs(est_value - ref) / est_se


def test_one_step_change_matches_dntk_tanh_critical_width_sweep():
    # depth 3, n = 32, 64, 128, two output neurons, 1500 networks per width; the effect (2/n)[3P + Q] is
    # 23, 27, 30 SE from zero, so a wrong P/Q combination (e.g. missing the n_out P term: 2.3 instead of 4.1) fails
    act = activation("tanh")
    r = ntk_step_change(act, X1, np.array([[0.3, -0.5]]), depth=3, widths=(32, 64, 128), n_out=2, C_W=1.0, C_b=0.0,
                        eta=0.05, key=jax.random.key(0), n_nets=1500)
    assert np.all(_z(r.diag.value, r.diag.stderr, r.prediction) < 4)
    assert np.all(np.abs(r.prediction) / r.diag.stderr > 10)  # the check has power
    assert np.all(_z(r.offdiag.value, r.offdiag.stderr, 0.0) < 4)
    assert np.all(_z(r.extrapolated.value, r.extrapolated.stderr, r.scaled_prediction) < 4)


@pytest.mark.slow
def test_one_step_change_two_inputs_off_critical():
    # two inputs, tanh at C_W = 1.5, C_b = 0.1, zero targets (smaller spread), every (d1, d2) entry
    act = activation("tanh")
    r = ntk_step_change(act, X2, np.zeros((2, 3)), depth=3, widths=(32, 64), n_out=3, C_W=1.5, C_b=0.1,
                        eta=0.05, key=jax.random.key(1), n_nets=1500)
    assert np.all(_z(r.diag.value, r.diag.stderr, r.prediction) < 4)
    assert np.all(_z(r.offdiag.value, r.offdiag.stderr, 0.0) < 4)
    assert np.all(_z(r.extrapolated.value, r.extrapolated.stderr, r.scaled_prediction) < 4)


def test_eta_squared_term_is_removed_by_central_difference():
    # the one-sided rates differ by 2 eta c_2 (the eta^2 term): halving eta halves it, and the central
    # difference moves only at relative O(eta^2) -- same networks (same key), so this is deterministic
    act = activation("tanh")
    kw = dict(depth=3, widths=(32,), n_out=2, C_W=1.0, C_b=0.0, key=jax.random.key(3), n_nets=4)
    Y = np.array([[0.3, -0.5]])
    a = ntk_step_change(act, X1, Y, eta=0.04, **kw)
    b = ntk_step_change(act, X1, Y, eta=0.02, **kw)
    np.testing.assert_allclose((a.plus.value - a.minus.value) / (b.plus.value - b.minus.value), 2.0, rtol=0.02)
    scale = np.abs(a.plus.value - a.minus.value)
    assert np.all(np.abs(a.diag.value - b.diag.value) < 0.05 * scale)


def test_prediction_single_input_closed_combination():
    # one input: the diagonal rate is -(2/n)[(1 + n_out) P + Q]; linear in n_out with slope -2P
    from nntheory.numerics import compile_recursion
    from nntheory.theory.finite_width._ntk import ntk_recursion

    act = activation("tanh")
    out = compile_recursion(ntk_recursion(act, 1, dntk=True))(X1 @ X1.T / 4, depth=3, C_W=1.0, C_b=0.0,
                                                              lambda_W=1.0, lambda_b=1.0)
    P, Q = (np.asarray(out[k])[-1].item() for k in ("P", "Q"))
    for n_out in (1, 2, 5):
        got = ntk_step_prediction(act, X1, depth=3, n_out=n_out, C_W=1.0, C_b=0.0)
        np.testing.assert_allclose(got, [[-2 * ((1 + n_out) * P + Q)]], rtol=1e-12)


def test_bad_arguments_are_named():
    act = activation("tanh")
    kw = dict(depth=3, widths=(8,), n_out=2, C_W=1.0, C_b=0.0, eta=0.1, key=jax.random.key(0), n_nets=4)
    Y = np.zeros((1, 2))
    with pytest.raises(SpecError, match="eta"):
        ntk_step_change(act, X1, Y, **{**kw, "eta": 0.0})
    with pytest.raises(SpecError, match="n_out"):
        ntk_step_change(act, X1, np.zeros((1, 1)), **{**kw, "n_out": 1})
    with pytest.raises(SpecError, match="targets"):
        ntk_step_change(act, X1, np.zeros((1, 3)), **kw)
    with pytest.raises(SpecError, match="widths"):
        ntk_step_change(act, X1, Y, **{**kw, "widths": (8, 8)})
    with pytest.raises(SpecError, match="depth"):
        ntk_step_change(act, X1, Y, **{**kw, "depth": 1})
    with pytest.raises(SpecError, match="chunk <= "):
        ntk_step_change(act, X1, Y, **{**kw, "widths": (4096,), "n_nets": 512})
