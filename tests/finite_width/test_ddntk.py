"""ddNTK (R, S, T, U): exact derivative blocks vs brute force, linear closed forms, Monte Carlo width sweeps, CLI."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy
from jax.flatten_util import ravel_pytree

from nntheory.errors import SpecError
from nntheory.numerics import compile_recursion
from nntheory.theory import activation, criticality
from nntheory.theory.finite_width import ntk_recursion
from nntheory.theory.finite_width._ntk import ddntk_moments
from nntheory.validation._networks import activation_fns, mlp_forward, pdlt_mlp_params
from nntheory.validation.finite_width import NTKEnsembleSpec
from nntheory.validation.finite_width._ddntk_monte_carlo import (
    DDNTK_MOMENTS,
    ddntk_blocks,
    ddntk_width_sweep,
    sample_ddntk_ensemble,
)

jax.config.update("jax_enable_x64", True)

x2 = sympy.Symbol("x2", positive=True)
lam_b, lam_W = sympy.symbols("lambda_b lambda_W", positive=True)


# --------------------------------------------------------------------------- exact blocks


def test_ddntk_blocks_match_brute_force_derivative_tensors():
    # independent route: the full Hessian and third-derivative tensors of the flattened parameters (jax.hessian,
    # jax.jacfwd), contracted by einsum with the lambda-weighted gradients
    sig, _ = activation_fns(activation("tanh"))
    X = jnp.array([[0.7, -0.3], [0.2, 0.9]])
    params = pdlt_mlp_params(jax.random.PRNGKey(1), (2, 3, 3, 3), 1.3, 0.2, jnp.float64)
    s, lW, lb = 3, 0.7, 1.3
    dI, dII = jax.jit(ddntk_blocks, static_argnums=(2, 3, 4, 5))(params, X, sig, s, lW, lb)
    flat, unravel = ravel_pytree(params)
    lam = ravel_pytree([(jnp.full(W.shape, lW / W.shape[1]), jnp.full(b.shape, lb)) for W, b in params])[0]

    def f(th):
        return mlp_forward(unravel(th), X, sig)[0][-1][:, :s]  # (m, s)

    G = jax.jit(jax.jacfwd(f))(flat) * lam  # jitted: one compile each instead of op-by-op dispatch
    Hs, T3 = jax.jit(jax.hessian(f))(flat), jax.jit(jax.jacfwd(jax.hessian(f)))(flat)
    refI = jnp.einsum("aipqr,bjp,ckq,dlr->ijklabcd", T3, G, G, G)
    refII = jnp.einsum("aipq,bjrs,ckp,dls,qr->ijklabcd", Hs, Hs, G, G, jnp.diag(lam))
    assert float(jnp.abs(refI).max()) > 1 and float(jnp.abs(refII).max()) > 0.1  # not trivially zero
    np.testing.assert_allclose(dI, refI, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dII, refII, rtol=0, atol=1e-10)
    # the symmetries of the definitions: ddI in its last three slots, ddII_{1234} = ddII_{2143}
    np.testing.assert_allclose(dI, dI.transpose(0, 2, 1, 3, 4, 6, 5, 7), atol=1e-12)
    np.testing.assert_allclose(dI, dI.transpose(0, 1, 3, 2, 4, 5, 7, 6), atol=1e-12)
    np.testing.assert_allclose(dII, dII.transpose(1, 0, 3, 2, 5, 4, 7, 6), atol=1e-12)


# --------------------------------------------------------------------------- symbolic: closed forms and refusals


def test_linear_ddntk_closed_forms():
    # hand-derived (single input, C_W = 1, C_b = 0, r = 1; theta0 = lambda_b + lambda_W x2, Theta^(l) = l theta0,
    # B^(l) = theta0^2 (l-1) l (2l-1)/6, F^(l) = x2 theta0 l(l-1)/2, P^(l) = lambda_W x2 theta0 (l-1) l (l+1)/6, Q = 0):
    # s'' = s''' = 0 leaves R' = R + lambda_W Q <(s s')'> = R -> R = 0, U' = U -> U = 0,
    # S' = S + lambda_W (Theta^2 + B) = S + lambda_W B^(l+1)      -> S = lambda_W theta0^2 (l-1) l^2 (l+1)/12,
    # T' = T + lambda_W^2 (Theta x2 + F) + 2 lambda_W P
    #    = T + lambda_W^2 x2 theta0 l (l+1)(2l+1)/6              -> T = lambda_W^2 x2 theta0 (l-1) l^2 (l+1)/12.
    rec = ntk_recursion(activation("linear"), 1, ddntk=True)
    t0 = lam_b + lam_W * x2
    for l, layer in enumerate(rec.iterate(6, [[x2]], C_W=1, C_b=0, lambda_W=lam_W, lambda_b=lam_b), start=1):
        v = {k: layer[k][0, 0, 0, 0] for k in "RSTU"}
        assert v["R"] == 0 and v["U"] == 0
        assert sympy.expand(v["S"] - lam_W * t0**2 * (l - 1) * l**2 * (l + 1) / 12) == 0
        assert sympy.expand(v["T"] - lam_W**2 * x2 * t0 * (l - 1) * l**2 * (l + 1) / 12) == 0


def test_ddntk_statistics_order_and_moments():
    rec = ntk_recursion(activation("tanh"), 1, ddntk=True)
    assert rec.names[-6:] == ("P", "Q", "R", "S", "T", "U")
    assert "R" not in ntk_recursion(activation("tanh"), 1, dntk=True).names  # the old API is unchanged
    R, S, T, U = sympy.symbols("R S T U")
    mom = ddntk_moments(R, S, T, U)
    assert tuple(mom) == DDNTK_MOMENTS
    assert mom["ddI_iiii"] == 3 * R and mom["ddII_iiii"] == S + T + U


def test_ddntk_refusals():
    with pytest.raises(SpecError, match="kinks"):
        ntk_recursion(activation("relu"), 1, ddntk=True)
    with pytest.raises(SpecError, match="kinks"):
        ntk_recursion(activation("relu"), 2, ddntk=True)
    spec = NTKEnsembleSpec(activation("relu"), 2, 8, 2.0, 0.0, neurons=2, dntk=False)
    with pytest.raises(SpecError, match="spec.activation: 'relu' has kinks"):
        sample_ddntk_ensemble(spec, np.ones((1, 1)), key=jax.random.PRNGKey(0), n_nets=4)
    big = NTKEnsembleSpec(activation("tanh"), 3, 2048, 1.0, 0.0, neurons=8, dntk=False)
    with pytest.raises(SpecError, match="GiB"):
        sample_ddntk_ensemble(big, np.ones((1, 1)), key=jax.random.PRNGKey(0), n_nets=64, chunk=64)


# --------------------------------------------------------------------------- Monte Carlo against the recursions


def _theory(act, C_W, C_b, depth):
    out = compile_recursion(ntk_recursion(act, 1, ddntk=True))(np.array([[1.0]]), depth=depth, C_W=C_W, C_b=C_b)
    return ddntk_moments(*(float(np.asarray(out[k])[-1].ravel()[0]) for k in "RSTU"))


def _check_sweep(act, C_W, C_b, depth, n_nets, seed, widths=(32, 64, 128)):
    th = _theory(act, C_W, C_b, depth)
    sw = ddntk_width_sweep(NTKEnsembleSpec(act, depth, widths[0], C_W, C_b, neurons=4, dntk=False), widths,
                           np.array([[1.0]]), key=jax.random.PRNGKey(seed), n_nets=n_nets)
    for k in DDNTK_MOMENTS:
        b, se, chi2 = (float(np.asarray(x).ravel()[0]) for x in (sw.intercept[k], sw.stderr[k], sw.chi2[k]))
        assert se < 0.05 * abs(th[k]), (k, se, th[k])  # the test has power: a 20% error would be >= 4 SE
        assert abs(b - th[k]) < 4 * se, (k, b, se, th[k])
        assert chi2 < 16, (k, chi2)  # one degree of freedom: the 1/n line fits
    return sw


def test_tanh_critical_depth2_fresh_terms():
    # layer 2: every carried term vanishes (layer 1 is exactly Gaussian with a deterministic NTK), so this checks
    # the own-layer terms of R, S, T, U; 1024 networks per width, ~1% standard errors
    crit = criticality(activation("tanh"))
    _check_sweep(activation("tanh"), float(crit.C_W), float(crit.C_b), 2, 1024, 11)


@pytest.mark.slow
def test_tanh_critical_depth3_width_sweep():
    # layer 3: the carried terms (B, F, P, Q and R, S, T, U of layer 2) enter; 640 networks per width give
    # intercept errors of ~1-2%; the 1/n-line fit removes the finite-width bias (5-10% at n = 32)
    crit = criticality(activation("tanh"))
    _check_sweep(activation("tanh"), float(crit.C_W), float(crit.C_b), 3, 640, 12)


@pytest.mark.slow
def test_tanh_two_inputs_depth3_width_sweep():
    # two inputs (the input-index placement of every term, carried B, F, P, Q included): all 16 entries of each
    # moment; 256 networks of 3 neurons per width: median intercept errors ~3-6%
    G = np.array([[1.0, 0.6], [0.6, 1.5]])
    X = np.linalg.cholesky(G) * np.sqrt(2.0)  # n_0 = 2, x_a . x_b / n_0 = G
    act = activation("tanh")
    rec = ntk_recursion(act, 2, ddntk=True).restrict(("K", "Theta", "F", "B", "P", "Q", "R", "S", "T", "U"))
    out = compile_recursion(rec)(G, depth=3, C_W=1.0, C_b=0.0)
    th = ddntk_moments(*(np.asarray(out[k])[-1] for k in "RSTU"))
    sw = ddntk_width_sweep(NTKEnsembleSpec(act, 3, 32, 1.0, 0.0, neurons=3, dntk=False), (32, 64, 96), X,
                           key=jax.random.PRNGKey(13), n_nets=256)
    for k in DDNTK_MOMENTS:
        z = (sw.intercept[k] - th[k]) / sw.stderr[k]
        assert np.median(sw.stderr[k] / np.abs(th[k])) < 0.08, k  # power: a 30% error in a typical entry is >= 4 SE
        assert np.abs(z).max() < 4, (k, z)


# --------------------------------------------------------------------------- CLI


def test_cli_ddntk(cli):
    out = cli("recursions", "--activation", "linear", "--C_W", "1", "--C_b", "0", "--depth", "4", "--x2", "1",
              "--statistics", "R,S,T,U", "--lambda-b", "1", "--lambda-W", "1")
    assert out.returncode == 0, out.stderr
    for row in json.loads(out.stdout)["layers"]:
        l = row["l"]
        S = 4 * (l - 1) * l**2 * (l + 1) / 12  # closed forms above with x2 = 1, theta0 = 2, lambda_W = 1
        T = 2 * (l - 1) * l**2 * (l + 1) / 12
        assert row["R"] == 0 and row["U"] == 0
        assert row["S"] == pytest.approx(S, abs=1e-12) and row["T"] == pytest.approx(T, abs=1e-12)
        assert row["ddNTK_moments"] == pytest.approx(ddntk_moments(0.0, S, T, 0.0), abs=1e-12)
    bad = cli("recursions", "--activation", "relu", "--depth", "2", "--statistics", "S")
    assert bad.returncode == 2 and "--statistics: R, S, T, U (the ddNTK) need a smooth activation" in bad.stderr


def test_cli_ddntk_two_inputs(cli):
    # linear, C_W = 1, C_b = 0, lambda_b = 0: Theta^(l) = l X, and the hand derivation above with input indices gives
    # at l = 2: R = U = 0, S_{1234} = Theta_13 Theta_24 = X_13 X_24, T_{1234} = Theta_12 X_34 = X_12 X_34
    X = np.array([[1, 0.5], [0.5, 2]])
    out = cli("recursions", "--activation", "linear", "--C_W", "1", "--C_b", "0", "--depth", "2", "--gram", json.dumps(X.tolist()),
              "--statistics", "R,S,T,U", "--lambda-b", "0", "--lambda-W", "1")
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)["layers"][1]
    S, T = np.einsum("ac,bd->abcd", X, X), np.einsum("ab,cd->abcd", X, X)
    np.testing.assert_allclose(row["S"], S, atol=1e-13)
    np.testing.assert_allclose(row["T"], T, atol=1e-13)
    assert not np.any(row["R"]) and not np.any(row["U"])
    np.testing.assert_allclose(row["ddNTK_moments"]["ddII_iiii"], S + T, atol=1e-13)
