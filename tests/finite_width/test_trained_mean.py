"""The trained ensemble's mean prediction at order 1/n (issue 19, acceptance 4(b)).

References, none from the code under test: (i) the one-step mean worked out by hand (below, with explicit neuron
loops; it checks the Taylor map, the neuron structures and the automatic differentiation of the expansion; the NTK-sector
tensors themselves are checked against Monte Carlo in test_ntk_recursions.py, test_ddntk.py); (ii) interpolation: trained
to convergence on every input, the mean is the target at every width, so ``m0 = y`` and ``m1 = 0``; (iii) ensembles of
real finite networks trained by ``jax.grad`` steps, part by part, within 4 standard errors after the 1/n fit.
"""

import json
from functools import lru_cache
from itertools import product

import jax
import numpy as np
import pytest

from nntheory.errors import SpecError
from nntheory.numerics import compile_recursion
from nntheory.numerics.finite_width._training import trained_mean_prediction
from nntheory.theory import activation
from nntheory.theory.finite_width._ntk import ntk_recursion
from nntheory.validation.finite_width._ntk_training import TRAINED_PARTS, trained_ensemble_mean

X = np.array([[1.0, 0.3], [0.2, 1.1]])  # row 0 trained on, row 1 a test input
Y = np.array([[0.5, -0.3]])  # (n_train, n_out)
SETTINGS = dict(depth=3, n_out=2, C_W=1.0, C_b=0.0)


@lru_cache(maxsize=None)
def _tensors(depth, C_W, C_b):
    out = compile_recursion(ntk_recursion(activation("tanh"), 2, dntk=True, ddntk=True))(
        X @ X.T / 2, depth=depth, C_W=C_W, C_b=C_b, lambda_W=1.0, lambda_b=1.0)
    return {k: np.asarray(v)[-1] for k, v in out.items()}


def _one_step_by_hand(eta, y_train, n_train, s, th):
    """``n (E[z_1] - m0)`` at order 1/n, from ``z1 = z0 - eta H eps + eta^2/2 S eps eps - eta^3/6 ddI eps eps eps``:
    ``eta Theta1 y - eta^2 E[S_IKL z_K] y_L + eta^3/6 (3 E[ddI_IKLM] K_KL y_M + E[ddI_IKLM] y_K y_L y_M)``."""
    m = th["Theta"].shape[0]
    P, Q, R, K, T1 = th["P"], th["Q"], th["R"], th["K"], th["Theta1"]
    train = [(j, a) for j in range(s) for a in range(n_train)]

    def y(J):
        return y_train[J[1], J[0]]

    def d(i, j):
        return float(i == j)

    def Esz(I0, I1, I2, I3):  # E[S_{I0 I1 I2} z_I3] * n
        (i0, a0), (i1, a1), (i2, a2), (i3, a3) = I0, I1, I2, I3
        return (d(i0, i1) * d(i2, i3) * P[a0, a1, a2, a3] + d(i0, i2) * d(i1, i3) * P[a0, a2, a1, a3]
                + d(i0, i3) * d(i1, i2) * Q[a0, a1, a2, a3])

    def EddI(I0, I1, I2, I3):  # E[ddI_{I0 I1 I2 I3}] * n
        (i0, a0), (i1, a1), (i2, a2), (i3, a3) = I0, I1, I2, I3
        return (d(i0, i1) * d(i2, i3) * R[a0, a1, a2, a3] + d(i0, i2) * d(i1, i3) * R[a0, a2, a1, a3]
                + d(i0, i3) * d(i1, i2) * R[a0, a3, a1, a2])

    out = np.zeros((m, s))
    for i, a in product(range(s), range(m)):
        I = (i, a)
        v = eta * sum(T1[a, J[1]] * y(J) for J in train if J[0] == i)
        v -= eta**2 * sum(Esz(I, Kk, L, Kk) * y(L) for Kk in train for L in train)
        for Kk, L, M in product(train, repeat=3):
            kz = d(Kk[0], L[0]) * K[Kk[1], L[1]]
            v += eta**3 / 6 * EddI(I, Kk, L, M) * (3 * kz * y(M) + y(Kk) * y(L) * y(M))
        out[a, i] = v
    return out


def test_structures_match_the_moment_definitions():
    # the neuron structures written out again entry by entry from the definitions in theory/finite_width/_ntk.py
    from nntheory.numerics.finite_width._training import _structures

    rng = np.random.default_rng(0)
    m, s = 2, 3
    th = {k: rng.normal(size=(m,) * 4) for k in "ABPQRSTU"}
    th.update({k: rng.normal(size=(m, m)) for k in ("Theta", "Theta1", "K")})
    Hbar, H1, Kz, cov, csz, ddI, ddII = _structures(s, th)
    d = np.eye(s)
    idx = [(i, a) for i in range(s) for a in range(m)]  # flattened I = i * m + a
    for I, (i0, a0) in enumerate(idx):
        for J, (i1, a1) in enumerate(idx):
            assert Hbar[I, J] == d[i0, i1] * th["Theta"][a0, a1] and Kz[I, J] == d[i0, i1] * th["K"][a0, a1]
            for K_, (i2, a2) in enumerate(idx):
                for L, (i3, a3) in enumerate(idx):
                    A, B, P, Q, R = (th[k] for k in "ABPQR")
                    assert np.isclose(cov[I, J, K_, L], d[i0, i1] * d[i2, i3] * A[a0, a1, a2, a3]
                                      + d[i0, i2] * d[i1, i3] * B[a0, a2, a1, a3] + d[i0, i3] * d[i1, i2] * B[a0, a3, a1, a2])
                    assert np.isclose(csz[I, J, K_, L], d[i0, i1] * d[i2, i3] * P[a0, a1, a2, a3]
                                      + d[i0, i2] * d[i1, i3] * P[a0, a2, a1, a3] + d[i0, i3] * d[i1, i2] * Q[a0, a1, a2, a3])
                    assert np.isclose(ddI[I, J, K_, L], d[i0, i1] * d[i2, i3] * R[a0, a1, a2, a3]
                                      + d[i0, i2] * d[i1, i3] * R[a0, a2, a1, a3] + d[i0, i3] * d[i1, i2] * R[a0, a3, a1, a2])
                    assert np.isclose(ddII[I, J, K_, L], d[i0, i1] * d[i2, i3] * th["S"][a0, a1, a2, a3]
                                      + d[i0, i2] * d[i1, i3] * th["T"][a0, a1, a2, a3]
                                      + d[i0, i3] * d[i1, i2] * th["U"][a0, a1, a2, a3])


def test_taylor_map_matches_gradient_descent_to_eta_cubed():
    # one small network: its exact H, S, ddI, ddII (nested jacfwd, learning-rate weighted) in the order-1/n map
    # against real gradient descent from the same parameters. The map is the Taylor expansion of T steps to eta^3
    # (everything the fourth derivative adds is O(1/n^2) in an ensemble, but present here), so halving eta divides
    # the error by 16; leaving out a ddII term (H or S update) would make it 8
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    from nntheory.numerics.finite_width._training import _dynamics
    from nntheory.validation._networks import mlp_forward, pdlt_mlp_params

    jax.config.update("jax_enable_x64", True)
    params = pdlt_mlp_params(jax.random.PRNGKey(3), (2, 5, 5, 2), 1.0, 0.1, jnp.float64)
    flat, unravel = ravel_pytree(params)
    lam = ravel_pytree([(jnp.full(W.shape, 0.7 / W.shape[1]), jnp.full(b.shape, 1.3)) for W, b in params])[0]
    Xj = jnp.asarray(X)

    def z(t):  # flattened I = i * m + a
        return mlp_forward(unravel(t), Xj, jnp.tanh)[0][-1].T.ravel()

    J = jax.jacfwd(z)(flat)
    D2 = jax.jacfwd(jax.jacfwd(z))(flat)
    D3 = jax.jacfwd(jax.jacfwd(jax.jacfwd(z)))(flat)
    g = J * lam
    H = J @ g.T
    S = jnp.einsum("Imn,Jm,Kn->IJK", D2, g, g)
    ddI = jnp.einsum("Imnr,Jm,Kn,Lr->IJKL", D3, g, g, g)
    ddII = jnp.einsum("Imn,Kn,m,Jmr,Lr->IJKL", D2, g, lam, D2, g)
    jac = jax.jit(jax.jacfwd(z))

    def descent(eta, T, y, mask):
        t = flat
        for _ in range(T):
            t = t - eta * lam * (jac(t).T @ ((z(t) - y) * mask))
        return z(t)

    for y, mask in ((jnp.array([0.5, 0.0, -0.3, 0.0]), jnp.array([1.0, 0.0, 1.0, 0.0])),
                    (jnp.array([0.5, -0.4, -0.3, 0.2]), jnp.ones(4))):
        for T in (2, 3):
            errs = [float(jnp.abs(_dynamics(eta, T, y, mask)(z(flat), H, S, ddI, ddII) - descent(eta, T, y, mask)).max())
                    for eta in (0.04, 0.02, 0.01)]
            ratios = [errs[0] / errs[1], errs[1] / errs[2]]
            assert 11 < ratios[0] < 21 and 13.5 < ratios[1] < 18.5, (T, errs, ratios)  # -> 16; a missing term: 8


def test_degenerate_inputs_are_refused_naming_inputs():
    act = activation("tanh")
    kw = dict(n_train=1, eta=0.2, steps=3, **SETTINGS)
    with pytest.raises(SpecError, match="inputs: the first-layer kernel .* is singular"):
        trained_mean_prediction(act, np.array([[1.0, 0.0], [2.0, 0.0]]), Y, **kw)  # C_b = 0, parallel inputs
    with pytest.raises(SpecError, match="inputs"):
        trained_mean_prediction(act, np.zeros((2, 0)), Y, **kw)


@pytest.mark.parametrize("n_train,eta", [(1, 0.3), (2, 0.15)])
def test_one_step_matches_the_hand_expansion(n_train, eta):
    y_train = np.array([[0.5, -0.3], [-0.2, 0.7]])[:n_train]
    pred = trained_mean_prediction(activation("tanh"), X, y_train, n_train=n_train, eta=eta, steps=1, **SETTINGS)
    th = _tensors(3, 1.0, 0.0)
    np.testing.assert_allclose(pred.m1, _one_step_by_hand(eta, y_train, n_train, 2, th), rtol=1e-10, atol=1e-13)
    # m0 after one step: eta Theta y on every input
    np.testing.assert_allclose(pred.m0, eta * th["Theta"][:, :n_train] @ y_train, rtol=1e-12)
    assert np.allclose(pred.m1, sum(pred.parts.values()))


def test_converged_on_every_input_interpolates():
    # trained on both inputs to convergence, every network interpolates, so the mean is y with no 1/n correction
    y_train = np.array([[0.5, -0.3], [-0.2, 0.7]])
    theta = _tensors(3, 1.0, 0.0)["Theta"]
    eta = 1.0 / np.linalg.eigvalsh(theta).max()
    pred = trained_mean_prediction(activation("tanh"), X, y_train, n_train=2, eta=eta, steps=400, **SETTINGS)
    np.testing.assert_allclose(pred.m0, y_train, atol=1e-12)
    np.testing.assert_allclose(pred.m1, 0.0, atol=1e-9)
    early = trained_mean_prediction(activation("tanh"), X, y_train, n_train=2, eta=eta, steps=3, **SETTINGS)
    assert np.abs(early.m1).max() > 1e-2  # not vacuous: during training the correction is there


def test_odd_in_the_targets():
    kw = dict(n_train=1, eta=0.2, steps=5, **SETTINGS)
    a = trained_mean_prediction(activation("tanh"), X, Y, **kw)
    b = trained_mean_prediction(activation("tanh"), X, -Y, **kw)
    np.testing.assert_allclose(b.m0, -a.m0, rtol=1e-12)
    np.testing.assert_allclose(b.m1, -a.m1, rtol=1e-10)


def test_refusals_name_the_argument():
    act = activation("tanh")
    kw = dict(n_train=1, eta=0.2, steps=5, **SETTINGS)
    for bad, needle in (({"eta": 0.0}, "eta"), ({"steps": 0}, "steps"), ({"n_train": 3}, "n_train"),
                        ({"n_out": 17}, "n_out \\* n_inputs")):
        with pytest.raises(SpecError, match=needle):
            trained_mean_prediction(act, X, np.zeros((1, bad.get("n_out", 2))), **{**kw, **bad})
    with pytest.raises(SpecError, match="targets"):
        trained_mean_prediction(act, X, np.zeros((2, 2)), **kw)
    with pytest.raises(SpecError, match="kinks"):
        trained_mean_prediction(activation("relu"), X, Y, **kw)
    with pytest.raises(SpecError, match="non-finite"):
        trained_mean_prediction(act, X, Y, **{**kw, "eta": 50.0, "steps": 60})
    with pytest.raises(SpecError, match="widths"):
        trained_ensemble_mean(act, X, Y, widths=(32, 32), key=jax.random.key(0), n_nets=4, **kw)


@pytest.mark.slow
def test_trained_ensembles_agree_part_by_part():
    # tanh at criticality, depth 3, two outputs, trained 10 steps on input 0, read at inputs 0 and 1; 1000 network
    # pairs x widths 32, 64, 128 (~30 s). The NTK-variance and moving-NTK parts have O(1/n) noise and are resolved;
    # the first-order (Theta1) part and hence the total carry O(1/sqrt n) noise: at the test input their standard
    # error exceeds the effect (the check there only bounds it). At 3000 pairs x 32..256: every |z| <= 2.3
    r = trained_ensemble_mean(activation("tanh"), X, Y, n_train=1, widths=(32, 64, 128), eta=0.2, steps=10,
                              key=jax.random.key(1), n_nets=1000, **SETTINGS)
    z = r.z()
    for part in TRAINED_PARTS:
        assert np.abs(z[part]).max() < 4, (part, z[part])
    for part in ("NTK variance", "moving NTK"):  # power: at the test input each part is >= 4 SE from zero (measured
        # 6.7-9.9 SE), so a theory without it would fail
        assert np.all(r.c1[part].stderr[1] < 0.25 * np.abs(r.predicted[part][1])), part


def test_cli_validate_ntk_trained_writes_results(cli, tmp_path):
    out = cli("validate", "ntk", "--trained", "--n-nets", "16", "--widths", "16,32", "--steps", "3", "--depth", "2",
              "--z-max", "100", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["job"] == "ntk --trained" and doc["settings"]["steps"] == 3 and doc["passed"]
    assert {r["part"] for r in doc["rows"]} == set(TRAINED_PARTS) and len(doc["rows"]) == 16
    assert all(r["tested"] for r in doc["rows"] if r["input"] == 1)  # the test input is never converged
    assert len(doc["per_width"]["moving NTK"]["n_times_mean"]) == 2  # one entry per width
    assert (tmp_path / "trained-mean.png").read_bytes()[:4] == b"\x89PNG"
    assert "moving NTK" in out.stdout


@pytest.mark.parametrize("extra,needle", [
    (("--init", "orthogonal"), "--init: --trained is for Gaussian weights"),
    (("--activation", "relu"), "--activation: relu has kinks"),
    (("--inputs", "2"), "--inputs: not used with --trained"),
    (("--widths", "32"), "--widths: at least two distinct widths"),
    (("--steps", "0"), "--steps"),
    (("--widths", "1024,2048", "--depth", "12"), "--widths: one network pair of width 2048"),
])
def test_cli_validate_ntk_trained_refusals(cli, tmp_path, extra, needle):
    out = cli("validate", "ntk", "--trained", "--out", str(tmp_path), *extra)
    assert out.returncode == 2
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_trained_ensembles_two_training_inputs():
    # both inputs trained, 5 steps: the error vectors differ between inputs, so the input layout of A, B and of the
    # ddNTK S, T, U matters (with one training input it does not). 1000 pairs x widths 32, 64, 128 (~25 s): every
    # |z| <= 1.6; a transposed B would move the NTK-variance part by 0.086 (15 SE), T <-> U the ddNTK part by 0.015
    # (2 SE here; 11-14 SE at 16384 pairs in a one-off run)
    Y2 = np.array([[0.5, -0.3], [-0.2, 0.4]])
    r = trained_ensemble_mean(activation("tanh"), X, Y2, n_train=2, widths=(32, 64, 128), eta=0.2, steps=5,
                              key=jax.random.key(5), n_nets=1000, **SETTINGS)
    z = r.z()
    for part in TRAINED_PARTS:
        assert np.abs(z[part]).max() < 4, (part, z[part])
    for part in ("NTK variance", "moving NTK"):
        assert np.all(r.c1[part].stderr < 0.25 * np.abs(r.predicted[part])), part


_SHARDED = """
import json, jax, numpy as np
jax.config.update("jax_enable_x64", True)
from nntheory.theory import activation
from nntheory.validation.finite_width._ntk_training import trained_ensemble_mean
X = np.array([[1.0, 0.3], [0.2, 1.1]]); Y = np.array([[0.5, -0.3]])
kw = dict(n_train=1, depth=2, widths=(8, 16), n_out=2, C_W=1.0, C_b=0.0, eta=0.2, steps=3, key=jax.random.key(3), n_nets=8)
a = trained_ensemble_mean(activation("tanh"), X, Y, chunk=4, **kw)  # 4 % 2 devices == 0: sharded
b = trained_ensemble_mean(activation("tanh"), X, Y, chunk=3, **kw)  # not a multiple: one device
print(json.dumps({"devices": len(jax.devices()), "diff": float(max(np.abs(a.means[k].value - b.means[k].value).max()
                                                                    for k in a.means))}))
"""


@pytest.mark.slow
def test_sharded_over_two_devices_gives_the_same_networks():
    import os
    import subprocess
    import sys

    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", _SHARDED], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    assert doc["devices"] == 2 and doc["diff"] < 1e-12, doc
