"""Theory vs Monte Carlo ensembles (fast version of the main job's check).

Every check is |z| < 4 on the width-sweep intercept (z from the WLS standard error over independent
networks; about 6e-5 false failures per check). Seeds are fixed.
"""

import jax
import numpy as np
import pytest

from nntheory.theory import activation, criticality
from nntheory.validation import EnsembleSpec, compare_width_sweep, estimate_statistics, sample_ensemble

X = np.random.default_rng(1).normal(size=(2, 8))
X[1] = 0.6 * X[0] + 0.8 * X[1]


def _crit(name):
    c = criticality(activation(name))
    return float(c.C_W), float(c.C_b)


CASES = [
    ("relu", *_crit("relu")),
    ("tanh", 1.5, 0.2),
    ("erf", *_crit("erf")),
]


@pytest.mark.parametrize("name,C_W,C_b", CASES)
def test_theory_agrees_with_ensembles(name, C_W, C_b):
    comp = compare_width_sweep(activation(name), C_W=C_W, C_b=C_b, depth=4, widths=(24, 48, 96), n_nets=400,
                               inputs=X, key=jax.random.key(7))
    assert len(comp.rows) == 4 * (3 + 3 + 3 + 6)
    assert comp.passed, comp.worst


def test_negative_control_wrong_theory_fails():
    # the same ensembles against a vertex perturbed by the relative size of a typical bug (factor 2 in
    # the carried term): the sweep must reject it
    act = activation("relu")
    spec = EnsembleSpec(act, depth=4, width=32, C_W=2.0, C_b=0.0)
    ens = sample_ensemble(spec, X, key=jax.random.key(3), n_nets=2400)  # SE 1.5: the bug sits 7.4 SE away (600: 4.6)
    est = estimate_statistics(ens)
    K = (X[0] @ X[0]) / X.shape[1] * 2.0
    V_true, V_wrong = 5 * 3 * K**2, 2 * 5 * 3 * K**2
    v, se = est["V"].value[3, 0, 0, 0, 0], est["V"].stderr[3, 0, 0, 0, 0]
    # at n = 32 the O(1/n) correction to V is visible, so compare loosely with the truth and strictly with the bug
    assert abs(v - V_wrong) / se > 6
    assert abs(v - V_true) / V_true < 0.5


def test_exact_ntk_at_first_layer():
    act = activation("tanh")
    spec = EnsembleSpec(act, depth=2, width=16, C_W=1.0, C_b=0.1, lambda_W=0.7, lambda_b=0.3)
    ens = sample_ensemble(spec, X, key=jax.random.key(0), n_nets=4)
    ref = 0.3 + 0.7 * X @ X.T / X.shape[1]  # Theta^(1) is deterministic
    np.testing.assert_allclose(ens.NTK[:, 0], np.broadcast_to(ref, ens.NTK[:, 0].shape), rtol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="C_W must be a real number > 0"):
        EnsembleSpec(activation("relu"), depth=2, width=8, C_W=-1.0, C_b=0.0)
    with pytest.raises(ValueError, match="n_nets must be an integer >= 2"):
        sample_ensemble(EnsembleSpec(activation("relu"), 2, 8, 2.0, 0.0), X, key=jax.random.key(0), n_nets=1)


def test_skipping_four_point_summaries_keeps_everything_else():
    spec = EnsembleSpec(activation("tanh"), depth=3, width=16, C_W=1.5, C_b=0.2)
    full = sample_ensemble(spec, X, key=jax.random.key(5), n_nets=12, chunk=8)
    kern = sample_ensemble(spec, X, key=jax.random.key(5), n_nets=12, chunk=8, four_point=False)
    assert kern.C4 is None and full.C4.shape == (12, 3, 3, 3)
    for name in ("S2", "M4", "NTK", "G"):
        np.testing.assert_array_equal(getattr(kern, name), getattr(full, name))
    assert set(estimate_statistics(kern)) == {"K_mc", "Theta", "kurtosis"}
    assert set(estimate_statistics(full)) == {"K_mc", "V", "Theta", "kurtosis"}


@pytest.mark.parametrize("name, width", [("tanh", 40), ("relu", 12)])
def test_projected_sampler_has_the_law_of_explicit_weights(name, width):
    """The default sampler draws preactivations from their conditional law and the weights the NTK
    backpropagates through given those preactivations; the explicit sampler draws every weight. Two
    independent ensembles must agree on the mean and the second moment of every summary (S2, C4, M4,
    NTK, G at every layer) and on NTK x kernel cross moments, within 4.5 SE of the difference (the
    largest of ~260 correlated z-scores; measured max 2.6-2.9 at 20000 networks). width 40: the far
    rows are drawn projected (2R < n - k at every layer); width 12: the explicit fallback."""
    spec = EnsembleSpec(activation(name), 4, width, 1.5, 0.1, lambda_W=1.0, lambda_b=0.7, ntk_neurons=3)
    X3 = np.array([[1.0, 0.5, -0.3], [0.2, -1.0, 0.8]])
    N = 3000
    a, b = (sample_ensemble(spec, X3, key=jax.random.key(s), n_nets=N, chunk=1000, sampler=smp)
            for s, smp in ((11, "explicit"), (12, "projected")))
    worst = 0.0
    for f in ("S2", "C4", "M4", "NTK", "G"):
        for p in (1, 2):
            x, y = getattr(a, f) ** p, getattr(b, f) ** p
            se = np.sqrt(x.var(0) / N + y.var(0) / N)
            ok = se > 1e-12 * (np.abs(x.mean(0)) + 1)  # G, NTK of layer 1 are deterministic
            np.testing.assert_allclose(x.mean(0)[~ok], y.mean(0)[~ok], rtol=1e-10, atol=1e-12)
            worst = max(worst, np.max(np.abs(x.mean(0) - y.mean(0))[ok] / se[ok]))
    x, y = a.NTK[:, :, 0, 1] * a.S2[:, ::-1, 0, 1], b.NTK[:, :, 0, 1] * b.S2[:, ::-1, 0, 1]
    worst = max(worst, np.max(np.abs(x.mean(0) - y.mean(0)) / np.sqrt(x.var(0) / N + y.var(0) / N)))
    assert worst < 4.5, worst


def test_projected_sampler_separates_a_wrong_law():
    """Negative control for the test above: the same comparison catches a 5% error in C_W."""
    X3 = np.array([[1.0, 0.5, -0.3], [0.2, -1.0, 0.8]])
    N = 3000
    a = sample_ensemble(EnsembleSpec(activation("tanh"), 4, 40, 1.5, 0.1, ntk_neurons=3), X3, key=jax.random.key(11),
                        n_nets=N, chunk=1000, sampler="explicit")
    b = sample_ensemble(EnsembleSpec(activation("tanh"), 4, 40, 1.5 * 1.05, 0.1, ntk_neurons=3), X3,
                        key=jax.random.key(12), n_nets=N, chunk=1000)
    x, y = a.NTK[:, -1], b.NTK[:, -1]
    assert np.max(np.abs(x.mean(0) - y.mean(0)) / np.sqrt(x.var(0) / N + y.var(0) / N)) > 4.5


def test_sampler_name_is_checked():
    with pytest.raises(ValueError, match="sampler must be 'projected' or 'explicit'"):
        sample_ensemble(EnsembleSpec(activation("relu"), 2, 8, 2.0, 0.0), X, key=jax.random.key(0), n_nets=4,
                        sampler="dense")


def test_projected_sampler_survives_dead_relu_rows():
    """Narrow ReLU nets often backpropagate all-zero rows (every neuron inactive); the projected sampler's
    Gram factor must stay finite there (it gave NaN for 6% of networks) and keep the explicit law."""
    x = np.random.default_rng(0).normal(size=(1, 4))
    spec = EnsembleSpec(activation("relu"), 4, 5, 2.0, 0.0, ntk_neurons=1)
    N = 4000
    a = sample_ensemble(spec, x, key=jax.random.key(0), n_nets=N)
    b = sample_ensemble(spec, x, key=jax.random.key(1), n_nets=N, sampler="explicit")
    assert np.isfinite(a.NTK).all() and np.isfinite(a.S2).all()
    u, v = a.NTK[:, :, 0, 0], b.NTK[:, :, 0, 0]
    z = (u.mean(0) - v.mean(0)) / np.sqrt(u.var(0) / N + v.var(0) / N + 1e-30)
    assert np.max(np.abs(z)) < 4, z


def test_projected_sampler_generator_is_random123_philox():
    """The projected sampler's bits are Philox-4x32-10 through jax.random (impl="philox4x32"): Random123's
    published known answer for counter 0 under key 0 (output words 6627e8d5 e169c58d bc57ac4c 9b00dbd8;
    jax.random.bits as uint64 keeps words 0 and 1)."""
    import jax.numpy as jnp

    k = jax.random.wrap_key_data(jnp.zeros(2, jnp.uint32), impl="philox4x32")
    assert int(jax.random.bits(k, (1,), jnp.uint64)[0]) == 0x6627E8D5E169C58D


def test_fast_normal_transcendentals_match_numpy():
    """The Box-Muller transcendentals of the projected sampler against numpy's float64 log and cos, over the
    whole range they are used on (u in (0, 1] with every binade down to 2^-52; angles in [-1, 1])."""
    from nntheory.validation.finite_width._ensembles import _cos_2pi, _log_unit

    rng = np.random.default_rng(4)
    u = np.concatenate([rng.random(200_000), 2.0 ** -rng.uniform(0, 52, 200_000), 1 - 2.0 ** -np.arange(1, 53),
                        2.0 ** -np.arange(0, 53), [1.0, np.nextafter(1.0, 0)]])
    u = u[u > 0]
    ref = np.log(u)
    got = np.asarray(jax.jit(_log_unit)(u))
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), np.finfo(float).tiny)
    assert rel.max() <= 4 * np.finfo(float).eps, rel.max()
    v = np.concatenate([rng.uniform(-1, 1, 200_000), np.arange(-8, 9) / 8, np.arange(-8, 9) / 8 + 1e-17])
    got = np.asarray(jax.jit(_cos_2pi)(v))
    assert np.abs(got - np.cos(2 * np.pi * v)).max() <= 2e-15


def test_projected_sampler_normals_are_standard_normal():
    """The projected sampler's normals (Philox bits, Box-Muller) against N(0, 1): moments, tails and the
    probabilities of 40 bins from the exact CDF, each |z| < 5 with its standard error (8e6 draws); distinct
    blocks and distinct networks uncorrelated."""
    import math

    import jax.numpy as jnp

    from nntheory.validation.finite_width._ensembles import _Normals

    def draw(k):
        xi = _Normals(k, jnp.float64)
        return xi.take((1001, 500)), xi.take((999, 500))

    a, b = jax.jit(jax.vmap(draw))(jax.random.split(jax.random.key(21), 8))
    a, b = np.asarray(a), np.asarray(b)
    z = np.concatenate([a.ravel(), b.ravel()])
    N = z.size
    assert np.isfinite(z).all() and a.dtype == np.float64
    checks = {"mean": (z.mean(), 0.0, 1.0), "var": ((z**2).mean(), 1.0, 2.0), "m3": ((z**3).mean(), 0.0, 15.0),
              "m4": ((z**4).mean(), 3.0, 96.0)}
    for name, (got, want, var) in checks.items():
        assert abs(got - want) / math.sqrt(var / N) < 5, name
    Phi = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    edges = np.concatenate([[-np.inf], np.linspace(-4.75, 4.75, 39), [np.inf]])
    counts = np.histogram(z, edges)[0]
    p = np.array([Phi(hi) - Phi(lo) for lo, hi in zip(edges[:-1], edges[1:])])
    assert np.max(np.abs(counts - N * p) / np.sqrt(N * p * (1 - p))) < 5
    for x, y in ((a[:, :500], a[:, 501:]), (a[:, :999], b), (a[0], a[1])):
        r = (x.ravel() * y.ravel()).mean()
        assert abs(r) * math.sqrt(x.size) < 5


def test_projected_sampler_other_dtypes_draw_with_jax_normal():
    import jax.numpy as jnp

    from nntheory.validation.finite_width._ensembles import _Normals

    z = _Normals(jax.random.key(0), jnp.float32).take((3, 7))
    assert z.shape == (3, 7) and z.dtype == jnp.float32 and bool(jnp.isfinite(z).all())
