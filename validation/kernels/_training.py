r"""Training loops: ensembles of networks trained by full-batch gradient descent, and their distance from NTK theory.

An ensemble of ``n_nets`` independent networks is trained with full-batch gradient descent
(``optax.sgd``) on :math:`\tfrac{1}{2\,\mathrm{size}(Y)}\sum\lVert f - y\rVert^2`, vmapped over
networks (and sharded over devices when there are several), so that the theory is
:func:`~nntheory.numerics.ntk_predict` with ``method="gd"`` (its default ``normalization="mean"``).

Estimators (errors are standard errors over independent networks):

* distance from the NTK prediction (:func:`ntk_distance`): each network is compared with its *own*
  linearised infinite-width prediction :math:`f_{0,i}(x) + \Theta_{xX}T_t(Y - f_{0,i}(X))`; since
  :math:`E f_0 = 0`, the average of the differences :math:`d_i` estimates :math:`E f_t - \mu_t` without
  the :math:`O(1)` initial-function noise of the raw ensemble mean (a control variate), and its RMS over
  test inputs falls with width (jackknife standard error, :func:`~nntheory.validation._estimators.jackknife`);
* invariance error of an ensemble mean of ``m`` networks (:func:`invariance_errors`):
  :math:`\max_g\lVert\bar f(gx) - \bar f(x)\rVert` averaged over inputs, for disjoint sub-ensembles
  (mean and standard error over them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpecError
from nntheory.numerics.kernels._predict import ntk_predict
from nntheory.validation._estimators import jackknife
from nntheory.validation.kernels._architectures import TrainedConvSpec, TrainedMLPSpec, _sigma

__all__ = ["TrainedEnsemble", "invariance_errors", "ntk_distance", "train_ensemble"]


@dataclass(frozen=True)
class TrainedEnsemble:
    """Predictions ``preds[name]`` of shape ``(n_nets, checkpoints, N, out_dim)`` at the steps ``steps``."""

    spec: TrainedMLPSpec | TrainedConvSpec
    steps: np.ndarray
    learning_rate: float
    preds: dict = field(default_factory=dict)
    train_loss: np.ndarray | None = None  # (n_nets, checkpoints)


def _resolve_n_nets(n_nets, n_members, where: str) -> int:
    """``n_nets``, also accepted under its former name ``n_members``."""
    if n_members is not None:
        if n_nets is not None and n_nets != n_members:
            raise SpecError(f"{where}: give n_nets or n_members (its former name), not both.")
        n_nets = n_members
    if n_nets is None:
        raise SpecError(f"{where}: n_nets is required.")
    return n_nets


def _member_trainer(spec, X, Y, E, opt, steps: int, every: int):
    """One network, from its key: predictions on ``E`` and the loss at every checkpoint."""
    import optax

    sig = _sigma(spec.activation)

    def loss(p):
        return 0.5 * jnp.mean((spec.apply(p, X, sig) - Y) ** 2)

    def step(c, _):
        p, s = c
        l, g = jax.value_and_grad(loss)(p)
        u, s = opt.update(g, s, p)
        return (optax.apply_updates(p, u), s), l

    def segment(carry, _):
        (p, s), _ = jax.lax.scan(step, carry, None, length=every)
        return (p, s), ([spec.apply(p, e, sig) for e in E], loss(p))

    def member(k):
        p = spec.init(k, X.shape[1])
        (_, _), (outs, losses) = jax.lax.scan(segment, (p, opt.init(p)), None, length=steps // every)
        first = [spec.apply(p, e, sig)[None] for e in E]
        return [jnp.concatenate([f, o]) for f, o in zip(first, outs)], jnp.concatenate([loss(p)[None], losses])

    return member


def train_ensemble(
    spec: TrainedMLPSpec | TrainedConvSpec, x_train, y_train, evals: dict, *, n_nets: int | None = None, steps: int,
    every: int, learning_rate: float, key, chunk: int | None = None, progress: bool = False, n_members: int | None = None,
) -> TrainedEnsemble:
    """Train ``n_nets`` independent networks by full-batch gradient descent; record ``evals`` every ``every`` steps.

    Args:
        spec: the network.
        x_train, y_train: training inputs ``(N, n_0)`` and targets ``(N, out_dim)``.
        evals: names -> input arrays ``(N', n_0)`` on which predictions are recorded.
        n_nets: number of networks (``n_members``, its former name, is accepted too).
        steps, every: gradient steps in all, a multiple of ``every``, the checkpoint interval.
        learning_rate: the ``optax.sgd`` rate on the mean-normalised loss.
        key: JAX random key (network ``i`` uses ``jax.random.split(key, n_nets)[i]``).
        chunk: networks per compiled batch (all by default).
        progress: report chunks on stderr.

    Returns:
        :class:`TrainedEnsemble` with predictions at steps ``0, every, ..., steps``.

    Raises:
        SpecError: mismatched outputs or bad counts.
    """
    import optax

    n_nets = check_int(_resolve_n_nets(n_nets, n_members, "train_ensemble"), "n_nets", lo=1, where="train_ensemble")
    X = jnp.asarray(x_train, jnp.float64)
    Y = jnp.asarray(y_train, jnp.float64).reshape(X.shape[0], -1)
    if Y.shape[1] != spec.out_dim:
        raise SpecError(f"train_ensemble: y_train has {Y.shape[1]} outputs but spec.out_dim = {spec.out_dim}.")
    if steps < 0 or every < 1 or steps % every:
        raise SpecError(f"train_ensemble: need steps a multiple of every >= 1; got {steps}, {every}.")
    names = sorted(evals)
    member = _member_trainer(spec, X, Y, [jnp.asarray(evals[n], jnp.float64) for n in names], optax.sgd(learning_rate), steps, every)
    run = jax.jit(jax.vmap(member))
    keys = jax.random.split(key, n_nets)
    chunk = chunk or n_nets
    parts, losses = [], []
    for s in range(0, n_nets, chunk):
        kk = keys[s : s + chunk]
        if progress:
            print(f"  width {spec.width}: members {s + 1}-{s + len(kk)} of {n_nets}", file=sys.stderr)
        o, l = run(_shard(kk))
        parts.append([np.asarray(a) for a in o])
        losses.append(np.asarray(l))
    preds = {n: np.concatenate([p[i] for p in parts]) for i, n in enumerate(names)}
    return TrainedEnsemble(spec, np.arange(0, steps + 1, every), float(learning_rate), preds, np.concatenate(losses))


def _shard(keys):
    """Spread the networks over all devices when there are several (a no-op on one device)."""
    devs = jax.devices()
    if len(devs) < 2 or keys.shape[0] % len(devs):
        return keys
    mesh = jax.sharding.Mesh(np.array(devs), ("m",))
    return jax.device_put(keys, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("m")))


def _jackknife_rms(d):
    """RMS over inputs of the network mean of ``d (M, ...)``, with a jackknife standard error (no bias correction)."""
    est = jackknife(lambda tot, n: np.sqrt(np.mean((tot / n) ** 2)), d, bias_correct=False)
    return est.value, est.stderr


def _linearised(ens: TrainedEnsemble, Ktt, Kst, Y, name: str):
    """Each network's own linearised prediction ``f0(x) + Theta_xX T_t (Y - f0(X))``, ``(M, T, N, k)``."""
    f_test = ens.preds[name]
    f_train0 = ens.preds["train"][:, 0]  # (M, N, k)
    M, T, Nt, k = f_test.shape
    resid = (Y[None] - f_train0).transpose(1, 0, 2).reshape(Y.shape[0], M * k)
    # (networks stacked as columns: the per-sample rate eta/size(Y) is passed explicitly)
    lin = ntk_predict(Ktt.ntk, Kst.ntk, resid, ens.steps, learning_rate=ens.learning_rate / Y.size, method="gd",
                      normalization="sum").mean
    return lin.reshape(T, Nt, M, k).transpose(2, 0, 1, 3) + f_test[:, :1]


def ntk_distance(ens: TrainedEnsemble, x_train, y_train, x_test, name: str = "test") -> dict:
    """Distance of the trained ensemble from the NTK prediction at every checkpoint (see the module docstring).

    Returns:
        A dict with ``steps``, ``width``, ``members``, per checkpoint ``distance`` and ``distance_se`` (the
        control-variate estimate), ``member_distance``, ``raw_ensemble_distance`` and ``prediction_rms``.
    """
    kern = ens.spec.kernel()
    Ktt = kern(x_train)
    Kst = kern(x_test, x_train)
    Y = np.asarray(y_train).reshape(len(x_train), -1)
    f_test = ens.preds[name]  # (M, T, N, k)
    M, T = f_test.shape[:2]
    mu = ntk_predict(Ktt.ntk, Kst.ntk, Y, ens.steps, learning_rate=ens.learning_rate, method="gd").mean  # (T, Nt, k)
    d = f_test - _linearised(ens, Ktt, Kst, Y, name)
    out = {"steps": ens.steps.tolist(), "width": ens.spec.width, "members": M}
    rows = [_jackknife_rms(d[:, t]) for t in range(T)]
    out["distance"] = [r[0] for r in rows]
    out["distance_se"] = [r[1] for r in rows]
    out["member_distance"] = [float(np.sqrt(np.mean(d[:, t] ** 2))) for t in range(T)]
    out["raw_ensemble_distance"] = [float(np.sqrt(np.mean((f_test[:, t].mean(0) - mu[t]) ** 2))) for t in range(T)]
    out["prediction_rms"] = [float(np.sqrt(np.mean(mu[t] ** 2))) for t in range(T)]
    return out


def invariance_errors(orbit_preds: np.ndarray, sizes) -> dict:
    r"""Invariance errors of ensemble means from predictions on orbits, ``orbit_preds (M, |G|, N, k)``.

    For each ensemble size ``m`` the ``M`` networks are split into ``M // m`` disjoint sub-ensembles
    (sizes with fewer than two sub-ensembles are skipped).

    Returns:
        A dict of lists over the sizes kept: ``sizes``, ``error`` (mean over sub-ensembles of the
        input-averaged :math:`\max_g\lVert\bar f(gx) - \bar f(x)\rVert`), ``error_se`` and ``groups``.
    """
    M = orbit_preds.shape[0]
    out = {"sizes": [], "error": [], "error_se": [], "groups": []}
    for m in sizes:
        n = M // m
        if n < 2:
            continue
        errs = []
        for j in range(n):
            mean = orbit_preds[j * m : (j + 1) * m].mean(0)  # (|G|, N, k)
            err = np.max(np.linalg.norm(mean[1:] - mean[:1], axis=-1), axis=0)  # (N,)
            errs.append(err.mean())
        errs = np.array(errs)
        out["sizes"].append(int(m))
        out["error"].append(float(errs.mean()))
        out["error_se"].append(float(errs.std(ddof=1) / np.sqrt(n)))
        out["groups"].append(n)
    return out
